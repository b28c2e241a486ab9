package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPretrainCountsTheTeacherCheck: rlt pretrain's estimate counts the
// teacher check it runs once both models are written (checkTeacher: both
// models in float32 on the CPU, each with the copy of its matrices the
// sampler packs, sampling 200 held-out questions), as rlt eval counts the
// same evaluation. It counted the training alone, said to sample nothing:
// --steps 2 --batch 1 was estimated at 92.5 MiB and peaked at 275,284 kB
// RSS (/usr/bin/time -v, the check's sampling the most of it), so a host
// with that peak's memory was let start a pretrain it could not end. Now
// it is refused before anything trains, the check's parts said, with the
// fix that leaves the check out; a pretrain that runs no check (--only
// teacher, no student beside it) is estimated by its training as before.
func TestPretrainCountsTheTeacherCheck(t *testing.T) {
	const peak = "281890816" // 275,284 kB, the measured peak RSS of --steps 2 --batch 1
	for _, c := range []struct {
		args          []string
		want, wantNot []string
	}{
		{[]string{"--steps", "2", "--batch", "1"},
			[]string{"rlt pretrain: pretraining needs about ", "the teacher's matrices packed for sampling (float32, kept)",
				"the student's matrices packed for sampling (float32, kept)", "teacher sampling 200 sequences of ", "student sampling 200 sequences of ",
				"- --only teacher into a folder without a student: the teacher check, the most this pretrain holds (both models sampling 200 questions)"},
			[]string{"teacher forward and backward", "- a smaller --batch"}},
	} {
		t.Setenv("RLT_MEMORY_LIMIT", peak)
		parent := t.TempDir()
		out := filepath.Join(parent, "models")
		code, stdout, errs := runCLI(t, "", append([]string{"pretrain", "--out", out}, c.args...)...)
		for _, w := range c.want {
			if !strings.Contains(errs, w) {
				t.Errorf("pretrain %v: stderr %q; want %q in it", c.args, errs, w)
			}
		}
		for _, w := range c.wantNot {
			if strings.Contains(errs, w) {
				t.Errorf("pretrain %v: stderr %q; want no %q in it (the check holds the most)", c.args, errs, w)
			}
		}
		if code != 1 || stdout != "" {
			t.Errorf("pretrain %v under its measured peak: exit %d, stdout %q; want exit 1 (refused) and nothing on stdout", c.args, code, stdout)
		}
		if entries, _ := os.ReadDir(parent); len(entries) != 0 {
			t.Errorf("a refused pretrain %v wrote %s into %s", c.args, entries[0].Name(), parent)
		}
	}
	// No check: the training's estimate, under the same limit.
	t.Setenv("RLT_MEMORY_LIMIT", "1MB")
	_, _, errs := runCLI(t, "", "pretrain", "--out", filepath.Join(t.TempDir(), "models"), "--only", "teacher", "--steps", "2", "--batch", "1")
	if !strings.Contains(errs, "teacher forward and backward") || strings.Contains(errs, "sampling") {
		t.Errorf("pretrain --only teacher (no check): stderr %q; want the training's estimate, no sampling", errs)
	}
}
