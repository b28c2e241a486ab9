package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/sessions/runner"
)

// TestScoreRunProgressThrottled: rlt score --run says its progress as a
// headless run does (runner.Throttle): the first batch's line, then at
// most one per runner.HeadlessProgressEvery of its clock, and the last
// batch's always. It said a line per batch: 116 lines in 14 s of a
// 29-step run's traces. The clock is the test's: 2 s a batch.
func TestScoreRunProgressThrottled(t *testing.T) {
	dir, _, steps := stepRun(t) // 3 steps of 2×2 traces
	run, sc := rescoreWithDefaults(t, compute.NewCPU(), dir)
	teacher, student := run.Settings().Teacher, run.Settings().Student
	if runner.HeadlessProgressEvery != 5*time.Second || len(steps) != 12 {
		t.Fatalf("the lines below are of 12 traces a line per 5 s; %d traces, every %v", len(steps), runner.HeadlessProgressEvery)
	}
	t0 := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	calls := 0
	clock := func() time.Time { // the scoring's start, then each batch 2 s later
		calls++
		return t0.Add(time.Duration(calls-1) * 2 * time.Second)
	}
	var out, errb bytes.Buffer
	if err := scoreRun(context.Background(), run, &scoreStats{sc: sc, clock: clock}, 1, false, false, teacher, student, nil, &out, &errb); err != nil {
		t.Fatalf("scoreRun: %v\n%s", err, errb.String())
	}
	var got []string
	for _, l := range strings.Split(errb.String(), "\n") {
		if regexp.MustCompile(`^scored \d+/`).MatchString(l) {
			got = append(got, l)
		}
	}
	want := []string{
		"scored 1/12 traces · 0.50 traces/s · 22s left", // the first
		"scored 4/12 traces · 0.50 traces/s · 16s left", // 6 s after it
		"scored 7/12 traces · 0.50 traces/s · 10s left",
		"scored 10/12 traces · 0.50 traces/s · 4s left",
		"scored 12/12 traces · 0.50 traces/s · 0s left", // the last, 4 s after
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("progress lines:\n%s\nwant\n%s\n(stderr:\n%s)", strings.Join(got, "\n"), strings.Join(want, "\n"), errb.String())
	}
}

// TestScoreStdinSaysItsLastBatch: rlt score on stdin says its last line of
// progress when stdin ends after a whole batch, the batch's own line held
// back by the throttle (the first batch's line came less than
// runner.HeadlessProgressEvery before): the count that ends the scoring is
// said. The lines are the same whatever the time a batch takes: said at
// the batch, or at the end of stdin.
func TestScoreStdinSaysItsLastBatch(t *testing.T) {
	teacher, student := tinyFolder(t, "f32"), tinyFolder(t, "bf16")
	row := `{"question":"347+285=?","solution":"632","explanation":"7+5=12 w2 c1"}` + "\n"
	code, out, errs := runCLI(t, strings.Repeat(row, 4), "score", "--teacher", teacher, "--student", student, "--batch", "2")
	if code != 0 || strings.Count(out, "\n") != 4 {
		t.Fatalf("exit %d, %d lines: %s", code, strings.Count(out, "\n"), errs)
	}
	var got []string
	for _, l := range strings.Split(errs, "\n") {
		if strings.Contains(l, " done (input lines ") {
			got = append(got, regexp.MustCompile(` · [0-9.]+ traces/s$`).ReplaceAllString(l, ""))
		}
	}
	want := "2 traces done (input lines 1–2)\n4 traces done (input lines 1–4)"
	if strings.Join(got, "\n") != want {
		t.Errorf("progress lines:\n%s\nwant\n%s\n(stderr:\n%s)", strings.Join(got, "\n"), want, errs)
	}
}
