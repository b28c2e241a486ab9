package run

import (
	"os"
	"path/filepath"
	"testing"
)

// Absolute makes the four paths absolute against the working directory and
// leaves empty and absolute ones alone.
func TestConfigAbsolute(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	student := filepath.Join(t.TempDir(), "student") // absolute on every system
	c := DefaultConfig("models/teacher", student)
	c.Data, c.EvalData = "data/train.jsonl", ""
	a, err := c.Absolute()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(wd, "models/teacher"); a.Teacher != want {
		t.Errorf("teacher %q, want %q", a.Teacher, want)
	}
	if a.Student != student || a.EvalData != "" {
		t.Errorf("student %q, eval_data %q: want them unchanged", a.Student, a.EvalData)
	}
	if want := filepath.Join(wd, "data/train.jsonl"); a.Data != want {
		t.Errorf("data %q, want %q", a.Data, want)
	}
	if c.Teacher != "models/teacher" {
		t.Errorf("the receiver changed: %q", c.Teacher)
	}
	if a.GRPO != c.GRPO || a.Steps != c.Steps {
		t.Error("other fields changed")
	}
}

// A Checked made absolute names the same data by its absolute path, in its
// configuration and in the files it read (as a run records and reports
// them), and leaves the receiver as it was.
func TestCheckedAbsolute(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	c := dataConfig(trainFixture) // relative
	checked, err := c.Check()
	if err != nil {
		t.Fatal(err)
	}
	abs, err := checked.Absolute()
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(wd, trainFixture)
	if abs.Config().Data != want || abs.data.File.Path != want {
		t.Errorf("data %q, its file %q: want both %q", abs.Config().Data, abs.data.File.Path, want)
	}
	if checked.Config().Data != trainFixture || checked.data.File.Path != trainFixture {
		t.Errorf("the receiver changed: data %q, its file %q", checked.Config().Data, checked.data.File.Path)
	}
	if abs.data.Digest() != checked.data.Digest() || len(abs.data.Train) != len(checked.data.Train) {
		t.Error("the data differs: it was read again, or changed")
	}
}
