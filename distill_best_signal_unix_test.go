//go:build unix

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rlt distill --best-of stopped by a signal while it ranks says how many
// questions it ranked and what it leaves: nothing in --out (the same
// command starts again), and in --samples-out every sample of the
// questions ranked, whole, as many as it says.
func TestDistillBestOfStoppedBySignal(t *testing.T) {
	dir := t.TempDir()
	out, samples := filepath.Join(dir, "out"), filepath.Join(dir, "samples.jsonl")
	const n = 2
	code, errs := runUntilSignal(t, "ranked 64 questions", "distill", "--teacher", distillTeacher, "--best-of", fmt.Sprint(n),
		"--reward-student", distillStudent, "--samples-out", samples, "--out", out, "--questions", "2000", "--steps", "1", "--device", "cpu")
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	last := lines[len(lines)-1]
	var ranked int
	if _, err := fmt.Sscanf(last, "rlt distill: stopped by a signal after the teacher's explanations of %d of 2000 questions were ranked:", &ranked); code != 1 || err != nil {
		t.Fatalf("exit %d, last line %q (%v); want exit 1 and how many questions were ranked", code, last, err)
	}
	want := fmt.Sprintf("nothing was written to %s, and %s holds the samples of the %d questions ranked; to start again, run the same command", out, samples, ranked)
	if ranked < 64 || !strings.HasSuffix(last, want) {
		t.Errorf("last line %q; want at least 64 questions ranked and %q", last, want)
	}
	data, err := os.ReadFile(samples)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(data), "\n"); got != ranked*n || !strings.HasSuffix(string(data), "}\n") {
		t.Errorf("%s holds %d lines, want the %d samples of the %d questions ranked, whole", samples, got, ranked*n, ranked)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a distill stopped while it ranked made %s", out)
	}
}
