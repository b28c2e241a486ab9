package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDistillRefusesAModelFolderAsOut: rlt distill --out refuses, before
// any work, a folder that is itself a model folder, as rlt pretrain --out
// does (one rule: refuseOverwrite's "."), and writes nothing there. It
// wrote distill.jsonl and student/ into it beside the model, where the
// docs said it refuses "a folder that already holds a model".
func TestDistillRefusesAModelFolderAsOut(t *testing.T) {
	teacher := tinyFolder(t, "f32")
	model := tinyFolder(t, "f32") // config.json, model.safetensors, tokenizer.json
	weightsOnly := t.TempDir()
	data, err := os.ReadFile(filepath.Join(model, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(weightsOnly, "model.safetensors"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		out  string
		last string // the last line of stderr
	}{
		{model, "rlt distill: --out " + model + ": " + model + " already holds a model (config.json) that would be replaced: choose a new folder, or move it away first"},
		{weightsOnly, "rlt distill: --out " + weightsOnly + ": " + weightsOnly + " already holds a model (model.safetensors) that would be replaced: choose a new folder, or move it away first"},
	} {
		code, _, errs := runCLI(t, "", "distill", "--teacher", teacher, "--out", c.out, "--steps", "1", "--questions", "1")
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if last := lines[len(lines)-1]; code != 1 || last != c.last {
			t.Errorf("distill --out %s: exit %d, last line %q; want exit 1 and %q", c.out, code, last, c.last)
		}
		for _, f := range []string{distillRows, "student"} {
			if _, err := os.Stat(filepath.Join(c.out, f)); err == nil {
				t.Errorf("a refused distill --out %s wrote %s", c.out, f)
			}
		}
	}
}
