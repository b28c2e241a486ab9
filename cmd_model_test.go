package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rlt model init checks --config and --tokenizer before it writes
// anything: a bad one is named by its flag, saying what the path is not,
// --out stays unmade, and the corrected call into the same --out works.
func TestModelInitChecksInputsFirst(t *testing.T) {
	dir := t.TempDir()
	shape := filepath.Join(dir, "shape.json")
	os.WriteFile(shape, []byte(`{"vocab_size": 1216, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
		"num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 256, "tie_word_embeddings": true}`), 0o644)
	csv := filepath.Join(dir, "data.csv")
	os.WriteFile(csv, []byte("question,solution\n1+1=?,2\n"), 0o644)
	noTokenizer := filepath.Join(dir, "empty")
	os.Mkdir(noTokenizer, 0o755)
	missing := filepath.Join(dir, "nope")
	small := filepath.Join(dir, "small.json")
	os.WriteFile(small, []byte(`{"vocab_size": 100, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
		"num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 256, "tie_word_embeddings": true}`), 0o644)
	out := filepath.Join(dir, "model")
	for _, c := range []struct {
		flags []string
		last  string // the last line of stderr
	}{
		{[]string{"--config", missing + ".json"}, "rlt model init: --config " + missing + ".json: no such file: give a Hugging Face config.json"},
		{[]string{"--config", filepath.Join(missing, "config.json")}, "rlt model init: --config " + filepath.Join(missing, "config.json") + ": no such file"},
		{[]string{"--config", csv}, "rlt model init: --config " + csv + ": "},
		{[]string{"--config", shape, "--tokenizer", missing}, "rlt model init: --tokenizer " + missing + ": no such file or folder: give a tokenizer.json, or the model folder that holds one"},
		{[]string{"--config", shape, "--tokenizer", noTokenizer}, "rlt model init: --tokenizer " + noTokenizer + ": " + noTokenizer + " holds no tokenizer.json"},
		{[]string{"--config", shape, "--tokenizer", csv}, "rlt model init: --tokenizer " + csv + ": not valid tokenizer JSON: line 1, column 1: "},
		{[]string{"--config", shape, "--tokenizer", shape}, "rlt model init: --tokenizer " + shape + `: model: missing: this is not a tokenizer.json`},
		{[]string{"--config", small, "--tokenizer", distillTeacher}, "rlt model init: --tokenizer " + distillTeacher + ": 265 tokens, more than the 100 rows of the embedding --config gives (vocab_size)"},
	} {
		args := append([]string{"model", "init", "--out", out}, c.flags...)
		code, _, errs := runCLI(t, "", args...)
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if last := lines[len(lines)-1]; code != 1 || !strings.Contains(last, c.last) {
			t.Errorf("rlt %v: exit %d, last line %q; want exit 1 and %q", args, code, last, c.last)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("rlt %v: refused, yet it made %s", args, out)
			os.RemoveAll(out) // the next case starts clean
		}
	}
	// A tokenizer.json, or the model folder holding one, is copied.
	for i, tok := range []string{tokenizerFixture, distillTeacher} {
		out := filepath.Join(out, string(rune('a'+i)))
		if code, _, errs := runCLI(t, "", "model", "init", "--config", shape, "--out", out, "--tokenizer", tok); code != 0 {
			t.Fatalf("model init --tokenizer %s: exit %d: %s", tok, code, errs)
		}
		if _, err := loadTokenizer(out); err != nil {
			t.Errorf("model init --tokenizer %s: %v", tok, err)
		}
	}
}

// rlt model info of a run's checkpoint says what it is and points to its
// teacher/ folder, the model there, rather than advising to rename
// optimizer.safetensors to model.safetensors.
func TestModelInfoOfACheckpoint(t *testing.T) {
	model := tinyFolder(t, "f32")
	ck := filepath.Join(t.TempDir(), "checkpoints", "step-000000")
	os.MkdirAll(ck, 0o755)
	copyDir(t, model, filepath.Join(ck, "teacher"))
	copyDir(t, model, filepath.Join(ck, "reference"))
	weights, _ := os.ReadFile(filepath.Join(model, "model.safetensors"))
	os.WriteFile(filepath.Join(ck, "optimizer.safetensors"), weights, 0o644)
	os.WriteFile(filepath.Join(ck, "trainer.json"), []byte("{}"), 0o644)
	os.WriteFile(filepath.Join(ck, "state.json"), []byte(`{"step": 0}`), 0o644)
	code, _, errs := runCLI(t, "", "model", "info", ck, "--device", "cpu")
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	last := lines[len(lines)-1]
	if want := ck + " is a training checkpoint, not a model folder: the teacher trained to that step is the model folder " + filepath.Join(ck, "teacher"); code != 1 || !strings.Contains(last, want) {
		t.Errorf("model info of a checkpoint: exit %d, last line %q; want exit 1 and %q", code, last, want)
	}
	if strings.Contains(last, "rename") {
		t.Errorf("model info of a checkpoint advises a rename: %q", last)
	}
	if code, out, errs := runCLI(t, "", "model", "info", filepath.Join(ck, "teacher"), "--device", "cpu"); code != 0 || !strings.Contains(out, "2 layers, hidden 32") {
		t.Errorf("model info of the checkpoint's teacher: exit %d: %s%s", code, out, errs)
	}
}
