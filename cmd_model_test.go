package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/defaults"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/size"
)

// TestModelDefaults: rlt model defaults writes the embedded models, byte
// for byte the folders rlt run trains (defaults.Dir), as DIR/teacher and
// DIR/student, which load and generate; a --out that holds anything is
// refused before any is written, and the help's examples' /tmp/defaults
// is what it makes.
func TestModelDefaults(t *testing.T) {
	out := filepath.Join(t.TempDir(), "defaults")
	code, stdout, errs := runCLI(t, "", "model", "defaults", "--out", out)
	if code != 0 || !strings.Contains(stdout, "wrote "+filepath.Join(out, "teacher")+" and "+filepath.Join(out, "student")) {
		t.Fatalf("exit %d: %s%s", code, stdout, errs)
	}
	embedded, err := defaults.Dir()
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	for _, who := range []string{defaults.Teacher, defaults.Student} {
		err := filepath.WalkDir(filepath.Join(embedded, who), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(embedded, path)
			want, _ := os.ReadFile(path)
			got, err := os.ReadFile(filepath.Join(out, rel))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: %d bytes (%v), want the embedded %d", rel, len(got), err, len(want))
			}
			files++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if files < 8 {
		t.Errorf("%d files compared, want both models' config, weights, tokenizer and prompts", files)
	}
	if code, _, errs := runCLI(t, "", "generate", "--model", filepath.Join(out, "teacher"), "--prompt", "347+285=?", "--max-new-tokens", "4", "--device", "cpu"); code != 0 {
		t.Errorf("generate from the written teacher: exit %d: %s", code, errs)
	}
	code, _, errs = runCLI(t, "", "model", "defaults", "--out", out)
	if want := "rlt model defaults: --out: " + out + " holds student"; code != 1 || !strings.Contains(errs, want) {
		t.Errorf("a second write into the same --out: exit %d: %s; want exit 1 and %q", code, errs, want)
	}
}

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
	keyless := filepath.Join(dir, "keyless.json")
	os.WriteFile(keyless, []byte(`{"vocab_size": 1216}`), 0o644)
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
		// The file is named once, by the config's load: not "--config F:
		// load config F: …".
		{[]string{"--config", csv}, "rlt model init: --config: load config " + csv + ": not a JSON object"},
		{[]string{"--config", keyless}, "rlt model init: --config: load config " + keyless + `: no key "hidden_size", which the model's shape needs: fix the file: add "hidden_size": the model's value, a whole number such as 896`},
		{[]string{"--config", noTokenizer}, "rlt model init: --config " + noTokenizer + ": a folder with no config.json: give a Hugging Face config.json"},
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
	// The dtype is said as safetensors names it, however --dtype spelled
	// it (float32 was said FLOAT32).
	for _, c := range []struct{ flag, want string }{{"float32", ", F32\n"}, {"bfloat16", ", BF16\n"}, {"bf16", ", BF16\n"}} {
		code, stdout, errs := runCLI(t, "", "model", "init", "--config", shape, "--out", filepath.Join(dir, "dtype-"+c.flag), "--dtype", c.flag)
		if code != 0 || !strings.HasSuffix(stdout, c.want) {
			t.Errorf("model init --dtype %s: exit %d, %q%s; want it to end %q", c.flag, code, stdout, errs, c.want)
		}
	}
}

// TestModelInitRefusesADiskWithoutRoom: a shape whose weights no disk
// holds (a million-wide hidden state over a billion tokens: 4 PB in
// float32, 2 PB in BF16) is refused before any weight is drawn, as rlt
// distill refuses its student, saying the room it needs and what is free,
// and leaves nothing in --out's folder; it was drawn and written a chunk at
// a time until the disk filled (17 GB a minute here), a 17 GB hidden
// .NAME.partial folder left by a kill.
func TestModelInitRefusesADiskWithoutRoom(t *testing.T) {
	dir := t.TempDir()
	shape := filepath.Join(dir, "shape.json")
	os.WriteFile(shape, []byte(`{"vocab_size": 1000000000, "hidden_size": 1000000, "intermediate_size": 64, "num_hidden_layers": 1,
		"num_attention_heads": 4, "num_key_value_heads": 2, "tie_word_embeddings": true}`), 0o644)
	parent := filepath.Join(dir, "models")
	os.Mkdir(parent, 0o755)
	out := filepath.Join(parent, "huge")
	for _, dtype := range []string{"f32", "bf16"} {
		code, stdout, errs := runCLI(t, "", "model", "init", "--config", shape, "--out", out, "--dtype", dtype)
		want := "rlt model init: not enough room for the model in " + out + ": the disk holding it has "
		if code != 1 || stdout != "" || !strings.HasPrefix(errs, want) || !strings.Contains(errs, "or give --out a folder on a disk with room (nothing was written)") {
			t.Errorf("--dtype %s: exit %d, stdout %q, stderr %q; want exit 1 and %q…", dtype, code, stdout, errs, want)
		}
		if left, _ := os.ReadDir(parent); len(left) > 0 {
			t.Errorf("--dtype %s: refused, yet it left %s in %s", dtype, left[0].Name(), parent)
		}
	}
}

// TestModelInitRefusesAShapeItCannotCount: a shape whose parameters'
// bytes are past int64 (hidden_size 10^9: about 1.2e19 parameters) is
// refused as the config's problem, naming its sizes, before anything is
// drawn or made. Its count wrapped around ("drawing -6446739176709551616
// parameters"), the disk check weighed the negative size, and it drew
// a tensor of 10^18 weights until stopped or the disk was full.
func TestModelInitRefusesAShapeItCannotCount(t *testing.T) {
	dir := t.TempDir()
	shape := filepath.Join(dir, "shape.json")
	os.WriteFile(shape, []byte(`{"vocab_size": 272, "hidden_size": 1000000000, "intermediate_size": 384, "num_hidden_layers": 4,
		"num_attention_heads": 4, "num_key_value_heads": 2, "tie_word_embeddings": true}`), 0o644)
	out := filepath.Join(dir, "huge")
	code, stdout, errs := runCLI(t, "", "model", "init", "--config", shape, "--out", out)
	want := "rlt model init: --config: load config " + shape + ": hidden_size 1000000000, intermediate_size 384, num_hidden_layers 4 and vocab_size 272 make about 1.2e+19 parameters, 4.8e+19 bytes at float32: " +
		"past what a size in bytes can count (2^63), let alone a disk or a memory hold: check these keys (a mistyped digit?)\n"
	if code != 1 || stdout != "" || errs != want {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and %q", code, stdout, errs, want)
	}
	if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("refused, yet it made %s (stat: %v)", out, err)
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

// A model folder the workbench writes from a Hub-style one (rlt model
// init from its config.json and tokenizer, rlt train --save, rlt distill's
// student) keeps the source's config.json keys and its tokenizer_config.json
// (chat template, eos), special_tokens_map.json, chat_template.jinja (where
// transformers 4.47 on saves the template, read before the config's; it
// was left behind, and the saved model had no template) and
// generation_config.json, so transformers and vLLM template and stop it as
// they did the source.
func TestSavedModelsKeepHubFiles(t *testing.T) {
	dir := t.TempDir()
	hub := filepath.Join(dir, "hub")
	os.MkdirAll(hub, 0o755)
	side := map[string]string{
		"tokenizer_config.json":   `{"chat_template": "{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{% endfor %}", "eos_token": "<|im_end|>"}` + "\n",
		"special_tokens_map.json": `{"eos_token": "<|im_end|>"}` + "\n",
		"chat_template.jinja":     "{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{% endfor %}",
		"generation_config.json":  `{"eos_token_id": [1209, 1208], "temperature": 0.7}` + "\n",
	}
	for name, data := range side {
		os.WriteFile(filepath.Join(hub, name), []byte(data), 0o644)
	}
	tok, _ := os.ReadFile(tokenizerFixture)
	os.WriteFile(filepath.Join(hub, "tokenizer.json"), tok, 0o644)
	extra := map[string]any{"bos_token_id": 1208.0, "eos_token_id": 1209.0, "sliding_window": 32768.0, "max_window_layers": 21.0,
		"attention_dropout": 0.0, "initializer_range": 0.02, "use_cache": true, "transformers_version": "4.43.1"}
	os.WriteFile(filepath.Join(hub, "config.json"), []byte(`{"vocab_size": 1216, "hidden_size": 32, "intermediate_size": 64,
		"num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 256,
		"tie_word_embeddings": true, "torch_dtype": "bfloat16", "bos_token_id": 1208, "eos_token_id": 1209, "sliding_window": 32768,
		"max_window_layers": 21, "attention_dropout": 0.0, "initializer_range": 0.02, "use_cache": true, "transformers_version": "4.43.1"}`), 0o644)
	// model init over the hub's own config.json makes its weights (no
	// weights yet: it is the folder the other commands read).
	init := filepath.Join(dir, "init")
	if code, _, errs := runCLI(t, "", "model", "init", "--config", filepath.Join(hub, "config.json"), "--tokenizer", hub, "--out", init, "--dtype", "bf16"); code != 0 {
		t.Fatalf("model init: exit %d: %s", code, errs)
	}
	weights, _ := os.ReadFile(filepath.Join(init, "model.safetensors"))
	os.WriteFile(filepath.Join(hub, "model.safetensors"), weights, 0o644)
	for _, c := range []struct {
		name  string
		args  []string
		saved string // the folder written
		dtype string // its torch_dtype
	}{
		{"model init", nil, init, "bfloat16"},
		{"train --save", []string{"train", "--teacher", hub, "--student", hub, "--steps", "1", "--save", filepath.Join(dir, "trained"), "--device", "cpu"},
			filepath.Join(dir, "trained"), "float32"},
		{"distill", []string{"distill", "--teacher", hub, "--student-init", hub, "--questions", "2", "--steps", "1", "--out", filepath.Join(dir, "distilled"), "--device", "cpu"},
			filepath.Join(dir, "distilled", "student"), "float32"},
	} {
		if c.args != nil {
			if code, _, errs := runCLI(t, "", c.args...); code != 0 {
				t.Fatalf("%s: exit %d: %s", c.name, code, errs)
			}
		}
		for name, want := range side {
			if got, err := os.ReadFile(filepath.Join(c.saved, name)); string(got) != want {
				t.Errorf("%s: %s holds %q (%v), want the source's %q", c.name, name, got, err, want)
			}
		}
		var cfg map[string]any
		data, _ := os.ReadFile(filepath.Join(c.saved, "config.json"))
		if err := json.Unmarshal(data, &cfg); err != nil {
			t.Fatalf("%s: config.json: %v", c.name, err)
		}
		for k, v := range extra {
			if cfg[k] != v {
				t.Errorf("%s: config.json key %q is %v, want the source's %v", c.name, k, cfg[k], v)
			}
		}
		if cfg["torch_dtype"] != c.dtype {
			t.Errorf("%s: torch_dtype %v, want %s", c.name, cfg["torch_dtype"], c.dtype)
		}
	}
}

// rlt model info counts the tensors the model loads: a tied checkpoint
// that also holds lm_head.weight (the model ignores it) counts as the
// folder without it, its memory and the device verdict too, and the
// ignored tensor is said, as transformers warns of unused weights.
func TestModelInfoCountsWhatTheModelLoads(t *testing.T) {
	dir := t.TempDir()
	shape := `{"vocab_size": 1216, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
		"num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 256, "tie_word_embeddings": %v}`
	folder := func(name string, tied bool) string {
		cfg := filepath.Join(dir, name+".json")
		os.WriteFile(cfg, []byte(fmt.Sprintf(shape, tied)), 0o644)
		out := filepath.Join(dir, name)
		if code, _, errs := runCLI(t, "", "model", "init", "--config", cfg, "--out", out, "--tokenizer", tokenizerFixture); code != 0 {
			t.Fatalf("model init: exit %d: %s", code, errs)
		}
		return out
	}
	tied := folder("tied", true)
	withHead := folder("with_head", false)                                                        // the file holds lm_head.weight ...
	os.WriteFile(filepath.Join(withHead, "config.json"), []byte(fmt.Sprintf(shape, true)), 0o644) // ... the config ties it
	untied := folder("untied", false)
	for _, c := range []struct {
		dir     string
		params  string // the parameters line, and the ignored line if any
		ignored bool
	}{
		{tied, "parameters  57.6k in 26 tensors (225.1 KiB on disk)", false},
		{withHead, "parameters  57.6k in 26 tensors (377.1 KiB on disk)\nignored     lm_head.weight (38.9k parameters, 152.0 KiB): tie_word_embeddings is true", true},
		{untied, "parameters  96.5k in 27 tensors", false},
	} {
		code, out, errs := runCLI(t, "", "model", "info", c.dir, "--device", "cpu")
		if code != 0 {
			t.Fatalf("model info %s: exit %d: %s", c.dir, code, errs)
		}
		if !strings.Contains(out, c.params) {
			t.Errorf("model info %s lacks %q:\n%s", c.dir, c.params, out)
		}
		if strings.Contains(out, "\nignored ") != c.ignored {
			t.Errorf("model info %s: an ignored line: %v, want %v:\n%s", c.dir, !c.ignored, c.ignored, out)
		}
		if want := "memory      225.1 KiB as float32"; c.dir != untied && !strings.Contains(out, want) {
			t.Errorf("model info %s lacks %q:\n%s", c.dir, want, out)
		}
	}
}

// folderOf is the folder a --tokenizer or --config path names: a file's
// own folder, a folder itself, and a path with nothing there as given (it
// is not the parent folder's files that are then read).
func TestFolderOf(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tokenizer.json")
	if err := os.WriteFile(file, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "nope", "tokenizer.json")
	for _, c := range []struct{ name, path, want string }{
		{"a file", file, dir},
		{"a folder", dir, dir},
		{"nothing there", missing, missing},
	} {
		if got := folderOf(c.path); got != c.want {
			t.Errorf("%s: folderOf(%s) = %s, want %s", c.name, c.path, got, c.want)
		}
	}
}

// rlt model info shows what a model folder records of how it was made:
// the system prompts of its prompts.json (rlt pretrain's, rlt train
// --save's, rlt distill's student's), or that it records none; and for a
// student of rlt distill --best-of, its ranking.json: N, the reward in
// the words rlt score and rlt distill say it in (rewardLine), the
// teacher, the task's questions or the data file with its SHA-256, the
// seed and the budget. A student of raw explanations has no ranking line.
// A record that cannot be read is said on its line with the file and the
// problem, the rest of the info still shows, and the exit status is 1,
// stderr naming each file. It showed neither file.
func TestModelInfoShowsWhatTheFolderRecords(t *testing.T) {
	dir := t.TempDir()
	line := func(out, key string) string { // the value of info's line key, "" where it has none
		for _, l := range strings.Split(out, "\n") {
			if v, ok := strings.CutPrefix(l, fmt.Sprintf("%-12s", key)); ok {
				return v
			}
		}
		return ""
	}
	distill := func(name string, args ...string) string {
		out := filepath.Join(dir, name)
		code, _, errs := runCLI(t, "", append([]string{"distill", "--teacher", distillTeacher, "--out", out, "--steps", "1", "--batch", "2", "--device", "cpu"}, args...)...)
		if code != 0 {
			t.Fatalf("distill %v: exit %d: %s", args, code, errs)
		}
		return filepath.Join(out, "student")
	}
	data := filepath.Join(dir, "rows.jsonl")
	rows := `{"question": "12+5=?", "solution": "17"}` + "\n" + `{"question": "3+4=?", "solution": "7"}` + "\n"
	if err := os.WriteFile(data, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(rows))
	student, teacher := absPath(distillStudent), absPath(distillTeacher)
	reward := "reward: c1 1 c2 0.01 c3 3 c4 0.03 · penalty -1 · τ 0.7 · logratio, against the frozen student " + student
	if rc := record.DefaultRewardConfig(); reward != rewardLine(rc, student, "") {
		t.Fatalf("rewardLine says %q, want %q", rewardLine(rc, student, ""), reward)
	}
	prompts, ok, err := record.ReadPrompts(distillTeacher)
	if err != nil || !ok {
		t.Fatalf("%s records no prompts: %v", distillTeacher, err)
	}
	recorded := fmt.Sprintf("teacher_system %q; student_system %q", prompts.TeacherSystem, prompts.StudentSystem)
	initialised := filepath.Join(dir, "init") // rlt model init records no prompts
	if code, _, errs := runCLI(t, "", "model", "init", "--config", filepath.Join(distillStudent, "config.json"), "--out", initialised, "--tokenizer", filepath.Join(distillTeacher, "tokenizer.json")); code != 0 {
		t.Fatalf("model init: exit %d: %s", code, errs)
	}
	for _, c := range []struct {
		name             string
		dir              string
		prompts, ranking string
	}{
		{"a student ranked on a task's questions", distill("task", "--best-of", "2", "--reward-student", distillStudent, "--questions", "3", "--max-new-tokens", "16", "--seed", "3"),
			recorded, "best of 2, " + reward + "; teacher " + teacher + "; 3 questions of the addition task's train split, seed 3, max_new_tokens 16"},
		{"a student ranked on a data file's rows", distill("data", "--best-of", "2", "--reward-student", distillStudent, "--data", data, "--max-new-tokens", "8", "--seed", "5"),
			recorded, "best of 2, " + reward + "; teacher " + teacher + "; the first 2 usable rows of " + data + " (sha256 " + hex.EncodeToString(sum[:]) + "), seed 5, max_new_tokens 8"},
		{"a student of raw explanations", distill("raw", "--questions", "2", "--max-new-tokens", "8"), recorded, ""},
		{"a folder that records no prompts", initialised,
			"none recorded (no prompts.json): a command uses those its other model's folder records, else the default prompts", ""},
	} {
		code, out, errs := runCLI(t, "", "model", "info", c.dir, "--device", "cpu")
		if code != 0 {
			t.Fatalf("%s: model info: exit %d: %s", c.name, code, errs)
		}
		if got := line(out, "prompts"); got != c.prompts {
			t.Errorf("%s: prompts line %q, want %q", c.name, got, c.prompts)
		}
		if got := line(out, "ranking"); got != c.ranking {
			t.Errorf("%s: ranking line %q, want %q", c.name, got, c.ranking)
		}
	}

	// Records that cannot be read: each said on its line, the rest shown.
	ranked := filepath.Join(dir, "task", "student")
	promptsFile, rankingFile := filepath.Join(ranked, record.PromptsFile), filepath.Join(ranked, record.RankingFile)
	os.WriteFile(promptsFile, []byte(`{"teacher_system": 1}`), 0o644)
	os.WriteFile(rankingFile, []byte(`{"best_of": 1}`), 0o644)
	code, out, errs := runCLI(t, "", "model", "info", ranked, "--device", "cpu")
	promptsProblem := promptsFile + `: line 1, column 20: field "teacher_system" holds a JSON number where text is wanted`
	rankingProblem := rankingFile + ": no reward_config: the reward the explanations were ranked with"
	if code != 1 || !strings.HasPrefix(line(out, "prompts"), "unreadable: "+promptsProblem) || !strings.HasPrefix(line(out, "ranking"), "unreadable: "+rankingProblem) {
		t.Errorf("malformed records: exit %d, prompts line %q, ranking line %q; want exit 1 and\nunreadable: %s…\nunreadable: %s…", code, line(out, "prompts"), line(out, "ranking"), promptsProblem, rankingProblem)
	}
	for _, key := range []string{"folder", "model", "parameters", "tokenizer", "device", "gpus"} {
		if line(out, key) == "" {
			t.Errorf("malformed records: no %s line:\n%s", key, out)
		}
	}
	if !strings.HasPrefix(errs, "rlt model info: "+promptsProblem) || !strings.Contains(errs, "\n"+rankingProblem) {
		t.Errorf("malformed records: stderr %q; want each file's problem", errs)
	}
}

// rlt model info says a tokenizer.json it cannot read as it says a record
// it cannot read (TestModelInfoShowsWhatTheFolderRecords): on its line
// with the file and the problem, the rest still shown, stderr naming the
// file and the exit status 1, since every command that reads text from
// the folder refuses it. The exit status was 0, stderr empty, where a
// malformed prompts.json beside it made it 1.
func TestModelInfoUnreadableTokenizer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "student")
	copyDir(t, distillStudent, dir)
	path := filepath.Join(dir, "tokenizer.json")
	if err := os.WriteFile(path, []byte(`{"model": 1`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "", "model", "info", dir, "--device", "cpu")
	problem := "tokenizer: " + path + ": not valid tokenizer JSON: it ends at line 1, column 11"
	var tokLine string
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, "tokenizer   "); ok {
			tokLine = v
		}
	}
	if code != 1 || !strings.HasPrefix(tokLine, "unreadable: "+problem) || !strings.HasPrefix(errs, "rlt model info: "+problem) {
		t.Errorf("exit %d, tokenizer line %q, stderr %q; want exit 1, and unreadable: %s… on the line and stderr", code, tokLine, errs, problem)
	}
	for _, key := range []string{"model", "parameters", "prompts", "device", "gpus"} {
		if !strings.Contains(out, "\n"+fmt.Sprintf("%-12s", key)) {
			t.Errorf("no %s line:\n%s", key, out)
		}
	}
}

// rlt model info of a folder whose tokenizer has more tokens than its
// embedding has rows (a tokenizer.json copied in from another model) says
// MISMATCH on the tokenizer line, the rest still shown, and exits 1 with
// the refusal every command that reads text from the folder gives it,
// both sizes named: it exited 0, so a script that checks a folder with it
// took a model no command would run for a good one.
func TestModelInfoTokenizerPastTheEmbedding(t *testing.T) {
	dir := t.TempDir()
	shape := filepath.Join(dir, "shape.json")
	os.WriteFile(shape, []byte(`{"vocab_size": 200, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
		"num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 256, "tie_word_embeddings": true}`), 0o644)
	short := filepath.Join(dir, "short") // 200 rows, and then the embedded teacher's tokenizer of more tokens
	if code, _, errs := runCLI(t, "", "model", "init", "--config", shape, "--out", short); code != 0 {
		t.Fatalf("model init: exit %d: %s", code, errs)
	}
	tokData, err := os.ReadFile(filepath.Join(distillTeacher, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(short, "tokenizer.json"), tokData, 0o644); err != nil {
		t.Fatal(err)
	}
	tok, err := loadTokenizer(filepath.Join(short, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "", "model", "info", short, "--device", "cpu")
	var tokLine string
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, "tokenizer   "); ok {
			tokLine = v
		}
	}
	wantLine := fmt.Sprintf("%d tokens (%d added); MISMATCH: more tokens than the embedding's 200 rows", tok.VocabSize(), len(tok.AddedTokens()))
	wantErr := fmt.Sprintf("rlt model info: model folder %s: its tokenizer.json has %d tokens, but %s's vocab_size is 200: ", short, tok.VocabSize(), filepath.Join(short, "config.json"))
	if code != 1 || !strings.HasPrefix(tokLine, wantLine) || !strings.HasPrefix(errs, wantErr) {
		t.Errorf("exit %d, tokenizer line %q, stderr %q; want exit 1, %q… on the line and %q… on stderr", code, tokLine, errs, wantLine, wantErr)
	}
	for _, key := range []string{"model", "parameters", "prompts", "device", "gpus"} {
		if !strings.Contains(out, "\n"+fmt.Sprintf("%-12s", key)) {
			t.Errorf("no %s line:\n%s", key, out)
		}
	}
}

// rlt model info says a tokenizer_config.json it cannot read apart from
// one that names a template other than ChatML: the first unreadable, with
// the file, what is wrong (for JSON that is not valid, its line and
// column) and what to do, on the tokenizer line and stderr, exit 1, as
// every command that reads the template refuses it; the second said on
// the line, exit 0, the folder serving plain text. Both were said on the
// line alone, exit 0.
func TestModelInfoTokenizerConfig(t *testing.T) {
	for _, c := range []struct {
		name, config string
		code         int
		line         string // the tokenizer line's template, after the file
	}{
		{"not valid JSON", "{\n  \"chat_template\": \"x\",\n}\n", 1,
			": not valid JSON: line 3, column 1: invalid character '}' looking for beginning of object key string: fix the file, or remove it"},
		{"a JSON array", `[{"chat_template": "<|im_start|>"}]`, 1,
			": holds a JSON array, not the object of the tokenizer's settings (chat_template, added_tokens_decoder, …) it should be: fix the file, or remove it"},
		{"not ChatML", `{"chat_template": "[INST] {{ messages }}"}`, 0,
			": chat_template: the chat template is not ChatML (it never writes <|im_start|>); only ChatML is supported"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "student")
			copyDir(t, distillStudent, dir)
			path := filepath.Join(dir, "tokenizer_config.json")
			if err := os.WriteFile(path, []byte(c.config), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, errs := runCLI(t, "", "model", "info", dir, "--device", "cpu")
			var tokLine string
			for _, l := range strings.Split(out, "\n") {
				if v, ok := strings.CutPrefix(l, "tokenizer   "); ok {
					tokLine = v
				}
			}
			problem := "tokenizer: " + path + c.line
			wantLine, wantErr := "; template: unreadable: "+problem, "rlt model info: "+problem+"\n"
			if c.code == 0 {
				wantLine, wantErr = "; template: "+problem, ""
			}
			if code != c.code || !strings.HasSuffix(tokLine, wantLine) || errs != wantErr {
				t.Errorf("exit %d, tokenizer line %q, stderr %q; want exit %d, …%q on the line and stderr %q", code, tokLine, errs, c.code, wantLine, wantErr)
			}
			for _, key := range []string{"model", "parameters", "prompts", "device", "gpus"} {
				if !strings.Contains(out, "\n"+fmt.Sprintf("%-12s", key)) {
					t.Errorf("no %s line:\n%s", key, out)
				}
			}
		})
	}
}

// rlt model info says the template of a chat_template.jinja, which
// transformers (4.47 on) reads before tokenizer_config.json's: a folder with
// one and no tokenizer_config.json was said to be ChatML's by its
// <|im_start|> token, whatever the file held.
func TestModelInfoReadsChatTemplateJinja(t *testing.T) {
	for _, c := range []struct{ name, jinja, want string }{
		{"Llama 3's", "{% for m in messages %}<|start_header_id|>{{ m.role }}<|end_header_id|>{{ m.content }}<|eot_id|>{% endfor %}",
			": the chat template is not ChatML (it never writes <|im_start|>); only ChatML is supported"},
		{"ChatML's", "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "student")
			copyDir(t, distillStudent, dir)
			os.Remove(filepath.Join(dir, "tokenizer_config.json"))
			jinja := filepath.Join(dir, "chat_template.jinja")
			if err := os.WriteFile(jinja, []byte(c.jinja), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, errs := runCLI(t, "", "model", "info", dir, "--device", "cpu")
			want := "; template: tokenizer: " + jinja + c.want
			if c.want == "" {
				want = "; template: ChatML (chat_template.jinja)"
			}
			var tokLine string
			for _, l := range strings.Split(out, "\n") {
				if v, ok := strings.CutPrefix(l, "tokenizer   "); ok {
					tokLine = v
				}
			}
			if code != 0 || !strings.HasSuffix(tokLine, want) {
				t.Errorf("exit %d, tokenizer line %q, stderr %q; want exit 0, …%q", code, tokLine, errs, want)
			}
		})
	}
}

// TestModelInfoWeighsTheGPUAsARunDoes: --device gpu weighs the model's
// training against the GPU's memory lowered by RLT_MEMORY_LIMIT, as a
// run's check does (memory.OnDevice): it said the GPU's whole memory and
// "training fits" where the run was then refused for memory. A limit above
// the GPU's memory leaves the GPU's; one that does not parse is said on
// the line, exit 1.
func TestModelInfoWeighsTheGPUAsARunDoes(t *testing.T) {
	where := gpuOrSkip(t)
	above := strconv.FormatUint(where.Bytes*2, 10)
	for _, c := range []struct {
		limit string
		want  []string
		code  int
	}{
		{"1KB", []string{"; 1000 B device memory (RLT_MEMORY_LIMIT, on " + where.GPU + "), ", ": training does NOT fit: use --device cpu"}, 0},
		{above, []string{"; " + size.Bytes(int64(where.Bytes)) + " device memory (the memory of " + where.GPU + "), ", ": training fits"}, 0},
		{"lots", []string{`; RLT_MEMORY_LIMIT="lots": `}, 1},
	} {
		t.Setenv("RLT_MEMORY_LIMIT", c.limit)
		code, out, errs := runCLI(t, "", "model", "info", distillTeacher, "--device", "gpu")
		var line string
		for _, l := range strings.Split(out, "\n") {
			if v, ok := strings.CutPrefix(l, "device      "); ok {
				line = v
			}
		}
		for _, w := range c.want {
			if code != c.code || !strings.Contains(line, w) {
				t.Errorf("RLT_MEMORY_LIMIT=%s: exit %d, device line %q; want exit %d and %q\n%s", c.limit, code, line, c.code, w, errs)
			}
		}
	}
}

// TestModelInfoSaysWhetherTrainingFitsOnTheCPU: --device cpu weighs the
// model's training (weights, gradients, AdamW's moments) against the host
// memory a run's check reads (memory.Available, RLT_MEMORY_LIMIT here), as
// a GPU's line weighs it against the GPU's: it said the device and no
// verdict, where docs/commands.md says model info --device says whether
// training fits. A limit that does not parse is said on the line, exit 1,
// as the device unavailable is.
func TestModelInfoSaysWhetherTrainingFitsOnTheCPU(t *testing.T) {
	for _, c := range []struct {
		limit, want string
		code        int
	}{
		{"1GB", " host memory available (RLT_MEMORY_LIMIT), ", 0},
		{"1GB", " for training before activations: training fits", 0},
		{"1KB", "1000 B host memory available (RLT_MEMORY_LIMIT), ", 0},
		{"1KB", " for training before activations: training does NOT fit", 0},
		{"lots", `; RLT_MEMORY_LIMIT="lots": `, 1},
	} {
		t.Setenv("RLT_MEMORY_LIMIT", c.limit)
		code, out, errs := runCLI(t, "", "model", "info", distillTeacher, "--device", "cpu")
		var line string
		for _, l := range strings.Split(out, "\n") {
			if v, ok := strings.CutPrefix(l, "device      "); ok {
				line = v
			}
		}
		if code != c.code || !strings.HasPrefix(line, "cpu") || !strings.Contains(line, c.want) {
			t.Errorf("RLT_MEMORY_LIMIT=%s: exit %d, device line %q; want exit %d and %q\n%s", c.limit, code, line, c.code, c.want, errs)
		}
	}
}
