package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pretrain refuses, before any work, a folder that already holds a model
// (or a run), naming the file, and writes nothing there.
func TestPretrainRefusesAModelFolder(t *testing.T) {
	model := tinyFolder(t, "f32") // config.json, model.safetensors, tokenizer.json
	weightsOnly := t.TempDir()
	data, err := os.ReadFile(filepath.Join(model, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(weightsOnly, "model.safetensors"), data, 0o644)
	run := t.TempDir()
	os.WriteFile(filepath.Join(run, "config.toml"), []byte("steps = 1\n"), 0o644)
	for _, c := range []struct {
		out  string
		last string // the last line of stderr
	}{
		{model, "rlt pretrain: --out " + model + ": " + filepath.Join(model, ".") + " already holds a model (config.json) that would be replaced: choose a new folder"},
		{weightsOnly, "rlt pretrain: --out " + weightsOnly + ": " + filepath.Join(weightsOnly, ".") + " already holds a model (model.safetensors)"},
		{run, "a run folder; writing there would mix with its records"},
	} {
		code, _, errs := runCLI(t, "", "pretrain", "--out", c.out, "--steps", "1", "--batch", "1")
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if last := lines[len(lines)-1]; code != 1 || !strings.Contains(last, c.last) {
			t.Errorf("pretrain --out %s: exit %d, last line %q; want exit 1 and %q", c.out, code, last, c.last)
		}
		for _, sub := range []string{"teacher", "student"} {
			if _, err := os.Stat(filepath.Join(c.out, sub)); err == nil {
				t.Errorf("a refused pretrain --out %s wrote %s", c.out, sub)
			}
		}
	}
}
