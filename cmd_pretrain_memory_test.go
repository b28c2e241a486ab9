package main

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	runpkg "github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/engine/size"
	"github.com/rlt-workbench/rlt/engine/warmstart"
)

// TestPretrainCountsTheTeacherCheck: rlt pretrain's estimate counts the
// teacher check it runs once both models are written (checkTeacher: both
// models in float32 on the CPU, each with the copy of its matrices the
// sampler packs, sampling 200 held-out questions), as rlt eval counts the
// same evaluation. It counted the training alone, said to sample nothing:
// --steps 2 --batch 1 was estimated at 92.5 MiB and peaked at 268.8 MiB
// RSS, the check's sampling the most of it. Under a limit between the
// training's estimate and the check's, it is refused before anything
// trains, the check's parts said, and its advice leads somewhere: the
// models trained apart (no check runs there) and put in one folder, and
// the check made by rlt eval with the questions that fit; each command of
// it runs under the same limit. It offered "--only teacher into a folder
// without a student" alone, which leaves no student, and the --only
// student that would add one to the folder runs the same check, refused.
// The estimate stays over the most measured (294,640 kB, /usr/bin/time -v:
// a teacher of 2 steps beside the embedded student); a pretrain that runs
// no check (--only teacher, no student beside it) is estimated by its
// training as before.
func TestPretrainCountsTheTeacherCheck(t *testing.T) {
	const peak = 294640 << 10
	r := warmstart.DefaultRecipe()
	r.Steps, r.Batch = 2, 1
	fs := newFlags("rlt pretrain", "", io.Discard, io.Discard)
	tk, err := lookupTask(fs, r.Task)
	if err != nil {
		t.Fatal(err)
	}
	check, err := teacherCheckModels(fs, tk, r, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	whole := check(runpkg.EvalQuestions)
	training, _ := pretrainEstimate(r, warmstart.Models, nil)
	e, checkLargest := pretrainEstimate(r, warmstart.Models, &whole)
	if !checkLargest || e.Total() != whole.Estimate().Total() {
		t.Fatalf("pretrain --steps 2 --batch 1: estimate %v, the check's the larger %v; want the check's, %v", e, checkLargest, whole.Estimate())
	}
	if e.Total() <= peak {
		t.Errorf("pretrain --steps 2 --batch 1: estimate %s, under its measured peak %s", size.Bytes(e.Total()), size.Bytes(peak))
	}
	limit := size.Bytes((training.Total() + e.Total()) / 2)
	t.Setenv("RLT_MEMORY_LIMIT", limit)
	parent := t.TempDir()
	out := filepath.Join(parent, "models")
	args := []string{"--steps", "2", "--batch", "1"}
	code, stdout, errs := runCLI(t, "", append([]string{"pretrain", "--out", out}, args...)...)
	for _, w := range []string{"rlt pretrain: pretraining needs about ", "the teacher's matrices packed for sampling (float32, kept)",
		"the student's matrices packed for sampling (float32, kept)", "teacher sampling 200 sequences of ", "student sampling 200 sequences of ",
		"the prefill on the tape the samplers share", "- the models trained apart, where no check runs"} {
		if !strings.Contains(errs, w) {
			t.Errorf("pretrain %v under %s: stderr %q; want %q in it", args, limit, errs, w)
		}
	}
	for _, w := range []string{"teacher forward and backward", "- a smaller --batch", "--only teacher into a folder without a student"} {
		if strings.Contains(errs, w) {
			t.Errorf("pretrain %v under %s: stderr %q; want no %q in it (the check holds the most)", args, limit, errs, w)
		}
	}
	if code != 1 || stdout != "" {
		t.Fatalf("pretrain %v under %s: exit %d, stdout %q; want exit 1 (refused) and nothing on stdout", args, limit, code, stdout)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("a refused pretrain %v wrote %s into %s", args, entries[0].Name(), parent)
	}
	// The advice, run command by command under the same limit.
	_, fix, _ := strings.Cut(errs, "- the models trained apart")
	m := regexp.MustCompile(`put together: (.*); then check the teacher with (rlt eval [^(]*--questions \d+) \(`).FindStringSubmatch(fix)
	if m == nil {
		t.Fatalf("the advice %q: want the commands that train the models apart and an rlt eval with the questions that fit", fix)
	}
	for _, cmd := range append(strings.Split(m[1], "; "), m[2]) {
		w := strings.Fields(cmd)
		switch w[0] {
		case "mv":
			if err := os.Rename(w[1], filepath.Join(strings.TrimSuffix(w[2], "/"), filepath.Base(w[1]))); err != nil {
				t.Fatalf("%s: %v", cmd, err)
			}
		case "rlt":
			if code, _, errs := runCLI(t, "", w[1:]...); code != 0 {
				t.Fatalf("%s under %s: exit %d: %s", cmd, limit, code, errs)
			}
		default:
			t.Fatalf("the advice's command %q", cmd)
		}
	}
	for _, name := range warmstart.Models {
		if modelFile(filepath.Join(out, name)) == "" {
			t.Errorf("after the advice %s holds no %s", out, name)
		}
	}
	// No check: the training's estimate, under the same limit.
	t.Setenv("RLT_MEMORY_LIMIT", "1MB")
	_, _, errs = runCLI(t, "", "pretrain", "--out", filepath.Join(t.TempDir(), "models"), "--only", "teacher", "--steps", "2", "--batch", "1")
	if !strings.Contains(errs, "teacher forward and backward") || strings.Contains(errs, "sampling") {
		t.Errorf("pretrain --only teacher (no check): stderr %q; want the training's estimate, no sampling", errs)
	}
}

// Where the training is what does not fit, the refusal gives the largest
// --batch that does, with its estimate (it said "a smaller --batch" and
// the batch it had): that command, run under the same limit, trains both
// models and checks the teacher.
func TestPretrainRefusalGivesABatchThatFits(t *testing.T) {
	const limit = "500MiB" // the check, 391.1 MiB, fits; --batch 32's training, 597.1 MiB, does not
	t.Setenv("RLT_MEMORY_LIMIT", limit)
	out := filepath.Join(t.TempDir(), "models")
	code, _, errs := runCLI(t, "", "pretrain", "--out", out, "--steps", "2", "--batch", "32")
	m := regexp.MustCompile(`- a smaller --batch: --batch (\d+) fits \(about ([^;]+); now 32 sequences a step`).FindStringSubmatch(errs)
	if code != 1 || m == nil {
		t.Fatalf("pretrain --steps 2 --batch 32 under %s: exit %d, %s; want a refusal giving the --batch that fits", limit, code, errs)
	}
	if code, _, errs := runCLI(t, "", "pretrain", "--out", out, "--steps", "2", "--batch", m[1]); code != 0 || !strings.Contains(errs, "teacher check: ") {
		t.Fatalf("pretrain --steps 2 --batch %s (about %s) under %s: exit %d, %s; want it trained and checked", m[1], m[2], limit, code, errs)
	}
}
