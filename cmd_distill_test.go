package main

import (
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const distillTeacher = "engine/defaults/models/teacher"

// A wrong mix of --reference, --teacher and --tokenizer-from is refused
// before any work, naming the flag that is really wrong or missing (not
// "--teacher is required" when --teacher was given), and writes nothing.
func TestDistillNamesTheWrongFlag(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	small := []string{"--questions", "2", "--steps", "1", "--device", "cpu"}
	for _, c := range []struct {
		args []string
		code int
		last string // the last line of stderr
	}{
		{[]string{"--reference", "--teacher", distillTeacher, "--out", out}, 2,
			"rlt distill: --teacher with --reference: the rows are the task's own explanations, not a teacher's; give the folder whose tokenizer.json to use as --tokenizer-from (--tokenizer-from " + distillTeacher + "?)"},
		{[]string{"--reference", "--teacher", distillTeacher, "--tokenizer-from", distillTeacher, "--out", out}, 2,
			"rlt distill: --teacher with --reference"},
		{[]string{"--reference", "--out", out}, 2,
			"rlt distill: --reference needs --tokenizer-from: the model folder whose tokenizer.json the rows are tokenized with"},
		{[]string{"--teacher", distillTeacher, "--tokenizer-from", distillTeacher, "--out", out}, 2,
			"rlt distill: --tokenizer-from without --reference"},
		{[]string{"--out", out}, 2, "rlt distill: --teacher is required"},
		{[]string{"--reference", "--tokenizer-from", distillTeacher}, 2, "rlt distill: --out is required"},
		{[]string{"--teacher", distillTeacher}, 2, "rlt distill: --out is required"},
		// A folder without a tokenizer is named by the flag that gave it.
		{[]string{"--reference", "--tokenizer-from", filepath.Join(out, "none"), "--out", out}, 1,
			"rlt distill: --tokenizer-from " + filepath.Join(out, "none") + ": "},
		{[]string{"--teacher", filepath.Join(out, "none"), "--out", out}, 1,
			"rlt distill: --teacher " + filepath.Join(out, "none") + ": "},
	} {
		// Small counts: a call that wrongly went ahead ends soon.
		args := append(append([]string{"distill"}, c.args...), small...)
		code, _, errs := runCLI(t, "", args...)
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if last := lines[len(lines)-1]; code != c.code || !strings.Contains(last, c.last) {
			t.Errorf("rlt distill %v: exit %d, last line %q; want exit %d and %q", c.args, code, last, c.code, c.last)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("rlt distill %v: a refused call made %s", c.args, out)
		}
	}
}

// runUntilSignal runs rlt args in this process, sends it SIGTERM once its
// stderr holds started (the command is then working under its own signal
// handler), and returns its exit code and stderr. The test's own handler
// keeps the signal's default action (ending the test binary) off.
func runUntilSignal(t *testing.T, started string, args ...string) (int, string) {
	t.Helper()
	absorb := make(chan os.Signal, 1)
	signal.Notify(absorb, syscall.SIGTERM)
	defer signal.Stop(absorb)
	var stdout, stderr lockedBuf
	done := make(chan int, 1)
	go func() { done <- run(args, strings.NewReader(""), &stdout, &stderr) }()
	deadline := time.After(2 * time.Minute)
	for !strings.Contains(stderr.String(), started) {
		select {
		case code := <-done:
			t.Fatalf("rlt %v ended (exit %d) before %q: %s", args, code, started, stderr.String())
		case <-deadline:
			t.Fatalf("rlt %v: no %q in 2 minutes: %s", args, started, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		return code, stderr.String()
	case <-deadline:
		t.Fatalf("rlt %v did not stop on SIGTERM: %s", args, stderr.String())
	}
	return 0, ""
}

// A distill stopped by a signal says so, how far the student got and what
// is left (the rows, kept), and why a rerun into the same --out is refused;
// not a bare "context canceled".
func TestDistillStoppedBySignal(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	code, errs := runUntilSignal(t, "student step 1/", "distill", "--reference", "--tokenizer-from", distillTeacher,
		"--out", out, "--questions", "6", "--steps", "1000000", "--batch", "2", "--device", "cpu")
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	last := lines[len(lines)-1]
	rows := filepath.Join(out, "distill.jsonl")
	for _, want := range []string{"rlt distill: stopped by a signal after ", " of 1000000 student steps: " + rows + " keeps its 6 rows; the student was not saved; to start again, remove " + out + " or choose another --out"} {
		if code != 1 || !strings.Contains(last, want) {
			t.Errorf("exit %d, last line %q; want exit 1 and %q", code, last, want)
		}
	}
	if data, err := os.ReadFile(rows); err != nil || strings.Count(string(data), "\n") != 6 {
		t.Errorf("%s after the stop: %d lines (%v); want the 6 rows kept", rows, strings.Count(string(data), "\n"), err)
	}
	if _, err := os.Stat(filepath.Join(out, "student")); err == nil {
		t.Errorf("a stopped distill wrote %s", filepath.Join(out, "student"))
	}
	// What the message says of a rerun holds.
	code, _, errs = runCLI(t, "", "distill", "--reference", "--tokenizer-from", distillTeacher, "--out", out, "--device", "cpu")
	if want := rows + " exists and would be replaced"; code != 1 || !strings.Contains(errs, want) {
		t.Errorf("rerun into %s: exit %d, %q; want exit 1 and %q", out, code, errs, want)
	}
}
