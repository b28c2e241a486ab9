package runconfig

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
	c := Config{Teacher: "models/teacher", Student: student, Steps: 3, GRPO: DefaultGRPO()}
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
