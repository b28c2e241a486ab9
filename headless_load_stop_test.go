package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/defaults"
	runpkg "github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/sessions/runner"
)

// TestHeadlessLoadStoppedSaysHowItGoesOn: rlt run --headless whose first
// stop signal comes while its run's models load says it as the workbench
// does (runLoadStopped), an error (exit 1) whatever the steps: a new run,
// recorded stopped before its first step, has no checkpoint to continue
// from and is started again with its config.toml; a resumed one is as it
// was and continued with rlt run --resume. It told the new run that rlt
// run --resume continues it, which refuses a run with no checkpoint, and
// with --steps 0 said so on stderr and exited 0. The signal's context
// ends as the models load or, where their load (of the small embedded
// models) ended first, while prepare waits for it: Start says that as a
// stopped load too (a *run.LoadStopped), as it does of a resume's
// checkpoint stopped as it loads.
func TestHeadlessLoadStoppedSaysHowItGoesOn(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	models, err := defaults.Dir()
	if err != nil {
		t.Fatal(err)
	}
	small := func(steps int) runpkg.Checked {
		cfg := runner.DefaultConfig(models, steps)
		if err := sessions.DecodeStrict("small.toml", []byte(smallRun), &cfg); err != nil {
			t.Fatal(err)
		}
		cfg.Steps, cfg.Device = steps, "cpu"
		checked, err := runpkg.Check(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return checked
	}
	untilStopped := func(ctx context.Context, _ *runpkg.Engine) error {
		<-ctx.Done()
		return ctx.Err()
	}
	// stopped runs rlt run --headless on rec with its stop signal come.
	stopped := func(rec *sessions.Run, checked runpkg.Checked, prepare runner.Prepare, resumed bool) (stderr string, err error) {
		stop := make(chan struct{})
		close(stop)
		var out bytes.Buffer
		err = runHeadless(rec, checked, prepare, resumed, stop, make(chan struct{}), &out)
		return out.String(), err
	}
	for _, steps := range []int{1, 0} {
		rec, checked, err := runner.Create(t.TempDir(), small(steps), sessions.ProcessHeadless)
		if err != nil {
			t.Fatal(err)
		}
		dir := rec.Dir()
		stderr, err := stopped(rec, checked, untilStopped, false)
		want := regexp.MustCompile(`^stopped by a signal before its first step, while the models loaded( \(.+ tensors read\))?: run folder ` + regexp.QuoteMeta(dir+
			": it has no checkpoint to continue from; start it again: rlt run --config "+sessions.ShellQuote(filepath.Join(dir, sessions.ConfigFile))) + `$`)
		if err == nil || !want.MatchString(err.Error()) || strings.Contains(stderr, "continues it") {
			t.Errorf("steps %d: %v, stderr:\n%s\nwant an error matching %s", steps, err, stderr, want)
		}
	}
	// A run of one step, its checkpoint written, resumed.
	rec, checked, err := runner.Create(t.TempDir(), small(1), sessions.ProcessHeadless)
	if err != nil {
		t.Fatal(err)
	}
	dir := rec.Dir()
	if err := runner.Headless(context.Background(), rec, checked, runner.Fresh, new(bytes.Buffer)); err != nil {
		t.Fatal(err)
	}
	r, err := runner.OpenForResume(dir, runner.Overrides{Steps: 2}, sessions.ProcessHeadless)
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := stopped(r.Rec, r.Checked, untilStopped, true)
	// As it was: finished, its one step done (the resume's steps 2 are
	// recorded by the restore, which did not run).
	want := regexp.MustCompile(`^stopped by a signal before its first resumed step, while the models loaded( \(.+ tensors read\))?: run folder ` +
		regexp.QuoteMeta(dir+", as it was: continue it: rlt run --resume "+sessions.ShellQuote(dir)+" --steps N (N > 1, the steps it has done)") + `$`)
	if err == nil || !want.MatchString(err.Error()) || strings.Contains(stderr, "continues it") {
		t.Errorf("resumed: %v, stderr:\n%s\nwant an error matching %s", err, stderr, want)
	}
}
