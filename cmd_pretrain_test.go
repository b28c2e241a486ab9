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
		{model, "rlt pretrain: --out " + model + ": the folder holds a model (config.json); pretrain writes teacher/ and student/ into it, which would mix with that model: choose a new folder"},
		{weightsOnly, "rlt pretrain: --out " + weightsOnly + ": the folder holds a model (model.safetensors)"},
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

// A pretrain stopped by a signal says so and what it leaves: nothing while
// the teacher trains (the same command starts again), the whole teacher
// while the student trains (and a rerun into that folder is refused, as
// the message says); not a bare "context canceled".
func TestPretrainStoppedBySignal(t *testing.T) {
	for _, c := range []struct {
		during  string // the progress line after which the signal comes
		last    func(out string) string
		teacher bool // whether out/teacher holds the trained teacher
	}{
		{"teacher step 1/", func(out string) string {
			return "rlt pretrain: stopped by a signal while training the teacher: nothing was written to " + out + "; to start again, run the same command"
		}, false},
		{"student step 1/", func(out string) string {
			return "rlt pretrain: stopped by a signal while training the student: " + filepath.Join(out, "teacher") +
				" holds the trained teacher, the student was not written; to start again, remove " + out + " or choose another --out"
		}, true},
	} {
		out := filepath.Join(t.TempDir(), "out")
		code, errs := runUntilSignal(t, c.during, "pretrain", "--out", out, "--steps", "200", "--batch", "1")
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if last := lines[len(lines)-1]; code != 1 || !strings.Contains(last, c.last(out)) {
			t.Errorf("stopped after %q: exit %d, last line %q; want exit 1 and %q", c.during, code, last, c.last(out))
		}
		if got := modelFile(filepath.Join(out, "teacher")) != ""; got != c.teacher {
			t.Errorf("stopped after %q: %s/teacher holds a model: %v; want %v", c.during, out, got, c.teacher)
		}
		if _, err := os.Stat(filepath.Join(out, "student")); err == nil {
			t.Errorf("stopped after %q: the student was written", c.during)
		}
		// What the message says of a rerun holds.
		code, _, errs = runCLI(t, "", "pretrain", "--out", out, "--steps", "1", "--batch", "1")
		if c.teacher && (code != 1 || !strings.Contains(errs, "already holds a model")) {
			t.Errorf("rerun after a stop during the student: exit %d, %q; want it refused", code, errs)
		}
		if !c.teacher && code != 0 {
			t.Errorf("rerun after a stop during the teacher: exit %d, %q; want it to run", code, errs)
		}
	}
}
