package main

import (
	"fmt"
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

// A folder that could not be made (a file stands in its path) is refused
// before any work, not after hours of it.
func TestOutputFolderRefusedBeforeWork(t *testing.T) {
	file := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(file, []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	under := filepath.Join(file, "sub", "out")
	want := "--%s " + under + ": cannot be made: " + file + " is a file, not a folder"
	for _, c := range []struct {
		flag string
		args []string
	}{
		{"out", []string{"pretrain", "--out", under, "--steps", "1", "--batch", "1"}},
		{"save", []string{"train", "--save", under, "--steps", "1"}},
		{"out", []string{"distill", "--out", under, "--teacher", t.TempDir(), "--questions", "1"}},
		{"out", []string{"model", "init", "--config", filepath.Join(tinyFolder(t, "f32"), "config.json"), "--out", under}},
		{"stats", []string{"score", "--teacher", t.TempDir(), "--student", t.TempDir(), "--stats", filepath.Join(under, "stats.txt")}},
	} {
		code, _, errs := runCLI(t, "", c.args...)
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		w := fmt.Sprintf(want, c.flag)
		if c.flag == "stats" {
			w = "--stats " + filepath.Join(under, "stats.txt") + ": cannot be made: " + file + " is a file, not a folder"
		}
		if code != 1 || len(lines) != 1 || !strings.Contains(lines[0], w) {
			t.Errorf("rlt %v: exit %d, stderr %q; want exit 1 and only %q", c.args, code, errs, w)
		}
	}
	if data, _ := os.ReadFile(file); string(data) != "kept" {
		t.Errorf("%s now holds %q", file, data)
	}
}

// A model folder holding other files is refused before any work: the model
// is staged and renamed into place, which an occupied folder refuses, and
// that was found only after the training.
func TestModelFolderWithOtherFilesRefusedBeforeWork(t *testing.T) {
	occupied := func() string {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("kept"), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	withStudent := t.TempDir()
	os.MkdirAll(filepath.Join(withStudent, "student"), 0o755)
	os.WriteFile(filepath.Join(withStudent, "student", "notes.txt"), []byte("kept"), 0o644)
	withTeacher := t.TempDir()
	os.MkdirAll(filepath.Join(withTeacher, "teacher"), 0o755)
	os.WriteFile(filepath.Join(withTeacher, "teacher", "notes.txt"), []byte("kept"), 0o644)
	save, out := occupied(), occupied()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--save", save, "--steps", "1", "--teacher", distillTeacher, "--student", "engine/defaults/models/student"}, "--save: " + save + " holds notes.txt"},
		{[]string{"model", "init", "--config", filepath.Join(distillTeacher, "config.json"), "--out", out}, "--out: " + out + " holds notes.txt"},
		{[]string{"distill", "--reference", "--tokenizer-from", distillTeacher, "--out", withStudent, "--questions", "2"}, "--out: " + filepath.Join(withStudent, "student") + " holds notes.txt"},
		{[]string{"pretrain", "--out", withTeacher, "--steps", "1", "--batch", "1"}, "--out: " + filepath.Join(withTeacher, "teacher") + " holds notes.txt"},
	} {
		code, _, errs := runCLI(t, "", c.args...)
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if code != 1 || len(lines) != 1 || !strings.Contains(lines[0], c.want) {
			t.Errorf("rlt %v: exit %d, stderr %q; want exit 1 and only %q", c.args, code, errs, c.want)
		}
	}
	// The folder that holds pretrain's two may hold other files.
	if code, _, errs := runCLI(t, "", "pretrain", "--out", occupied(), "--steps", "1", "--batch", "1"); code != 0 {
		t.Errorf("pretrain into a folder holding a file: exit %d: %s", code, errs)
	}
}
