package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFileGivenAsModelFolder: a file given wherever a model folder goes
// (a model's own model.safetensors or config.json, a data file) is said
// for what it is by every command, with the folder to give for one of a
// model folder's files, before any model loads: not "not a directory" on a
// path inside it, nor "not valid tokenizer JSON".
func TestFileGivenAsModelFolder(t *testing.T) {
	model := tinyFolder(t, "f32")
	weights, config := filepath.Join(model, "model.safetensors"), filepath.Join(model, "config.json")
	data := filepath.Join(t.TempDir(), "data.jsonl")
	os.WriteFile(data, []byte(`{"question": "1+1", "solution": "2"}`+"\n"), 0o644)
	out := filepath.Join(t.TempDir(), "out") // nothing may be written there
	holds := func(p string) string {
		return p + " is a file, not a model folder: give the folder that holds it (" + model + ")"
	}
	notModel := data + " is a file, not a model folder: give a folder holding config.json, model.safetensors and tokenizer.json"
	cpu := []string{"--device", "cpu"}
	for _, c := range []struct {
		args []string
		want string // in the last line of stderr
	}{
		{[]string{"train", "--teacher", data, "--student", model, "--steps", "1"}, notModel},
		{[]string{"train", "--teacher", model, "--student", weights, "--steps", "1"}, holds(weights)},
		{[]string{"generate", "--model", weights, "--prompt", "x"}, holds(weights)},
		{[]string{"serve", "--model", weights}, holds(weights)},
		{[]string{"distill", "--teacher", model, "--out", out, "--student-init", data, "--steps", "1", "--questions", "1"}, notModel},
		{[]string{"distill", "--teacher", config, "--out", out, "--steps", "1", "--questions", "1"}, holds(config)},
		{[]string{"score", "--teacher", weights, "--student", model}, holds(weights)},
		{[]string{"eval", "--student", config, "--questions", "1"}, holds(config)},
		{[]string{"eval", "--teacher", data, "--student", model, "--questions", "1"}, notModel},
		{[]string{"logprobs", "--model", data}, notModel},
		{[]string{"model", "info", weights}, holds(weights)},
		{[]string{"tokenize", "--tokenizer", weights}, weights + " is a model folder's model.safetensors, not its tokenizer: give " + filepath.Join(model, "tokenizer.json") + " or the folder that holds it (" + model + ")"},
	} {
		args := c.args
		if c.args[0] != "tokenize" {
			args = append(append([]string{}, c.args...), cpu...)
		}
		code, _, errs := runCLI(t, "", args...)
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if last := lines[len(lines)-1]; code != 1 || !strings.Contains(last, c.want) || strings.Contains(last, "not a directory") {
			t.Errorf("rlt %v: exit %d, last line %q; want exit 1 and %q", c.args, code, last, c.want)
		}
		// Said once: rlt train read the prompts of the folder it was given
		// and said the file a second time, bare, below the first.
		if n := strings.Count(errs, c.want); n > 1 {
			t.Errorf("rlt %v: said %d times:\n%s", c.args, n, errs)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a refused distill wrote %s", out)
	}
}
