package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

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
// with --steps 0 said so on stderr and exited 0. A stop as the models
// begin to load stops the load before the teacher's first tensor, said
// with the file and tensor; one once they have loaded, as prepare waits
// (a resume's checkpoint loads there), is said by Start as a stopped load
// too (a *run.LoadStopped), with no tensor. Each stop comes at its point
// and is heeded before the run goes on (stopAt): the test accepted either
// point, as a signal sent before the run could land in either.
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
	// stopped runs rlt run --headless on rec with its stop signal come at
	// the load (as its progress says "loading 0/1 model pairs", just
	// before the models load) or at prepare (once they have loaded), and
	// says where the stop said it stopped: the teacher's first tensor, or
	// nothing for prepare.
	stopped := func(rec *sessions.Run, checked runpkg.Checked, at string, resumed bool) (where, stderr string, err error) {
		stop := make(chan struct{})
		out := &stopAt{stop: stop}
		prepare := func(context.Context, *runpkg.Engine) error {
			return errors.New("prepare ran: the stop did not stop the models' load")
		}
		switch at {
		case "load":
			out.at = "loading 0/1 model pairs"
			where = ` \(` + regexp.QuoteMeta(filepath.Join(checked.Config().Teacher, "model.safetensors")) + `: tensor "[^"]+": stopped before it, 0 of \d+ tensors read\)`
		case "prepare":
			prepare = func(ctx context.Context, _ *runpkg.Engine) error {
				close(stop)
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(time.Minute):
					return errors.New("prepare's context did not end a minute after the stop")
				}
			}
		}
		ctx, cancel := untilStop(stop)
		defer cancel()
		err = runHeadless(ctx, rec, checked, prepare, resumed, make(chan struct{}), out)
		if out.err != nil {
			t.Error(out.err)
		}
		return where, out.String(), err
	}
	for _, c := range []struct {
		steps int
		at    string
	}{{1, "load"}, {0, "load"}, {1, "prepare"}} {
		rec, checked, err := runner.Create(t.TempDir(), small(c.steps), sessions.ProcessHeadless)
		if err != nil {
			t.Fatal(err)
		}
		dir := rec.Dir()
		where, stderr, err := stopped(rec, checked, c.at, false)
		want := regexp.MustCompile(`^stopped by a signal before its first step, while the models loaded` + where + `: run folder ` + regexp.QuoteMeta(dir+
			": it has no checkpoint to continue from; start it again: rlt run --config "+sessions.ShellQuote(filepath.Join(dir, sessions.ConfigFile))) + `$`)
		if err == nil || !want.MatchString(err.Error()) || strings.Contains(stderr, "continues it") {
			t.Errorf("steps %d, stopped at %s: %v, stderr:\n%s\nwant an error matching %s", c.steps, c.at, err, stderr, want)
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
	for _, at := range []string{"load", "prepare"} {
		r, err := runner.OpenForResume(dir, runner.Overrides{Steps: 2}, sessions.ProcessHeadless)
		if err != nil {
			t.Fatal(err)
		}
		where, stderr, err := stopped(r.Rec, r.Checked, at, true)
		// As it was: finished, its one step done (the resume's steps 2
		// are recorded by the restore, which did not run).
		want := regexp.MustCompile(`^stopped by a signal before its first resumed step, while the models loaded` + where + `: run folder ` +
			regexp.QuoteMeta(dir+", as it was: continue it: rlt run --resume "+sessions.ShellQuote(dir)+" --steps N with N more than 1, the steps it has done") + `$`)
		if err == nil || !want.MatchString(err.Error()) || strings.Contains(stderr, "continues it") {
			t.Errorf("resumed, stopped at %s: %v, stderr:\n%s\nwant an error matching %s", at, err, stderr, want)
		}
	}
}

// stopAt is rlt run --headless's stderr that closes stop as a line
// holding at is written, and returns once that has ended the run's
// context (untilStopEnded): a stop signal come there, heeded before the
// run goes on. Where nothing waits for stop, or it is not heeded, err
// says so.
type stopAt struct {
	lockedBuf
	at   string
	stop chan struct{}
	err  error
}

func (w *stopAt) Write(p []byte) (int, error) {
	n, err := w.lockedBuf.Write(p)
	if w.at != "" && strings.Contains(string(p), w.at) {
		if untilStopWatchers() == 0 {
			w.err = fmt.Errorf("nothing waits for the stop signal as %q is said (no untilStop)", w.at)
		}
		w.at = ""
		close(w.stop)
		if err := untilStopEnded(); err != nil {
			w.err = err
		}
	}
	return n, err
}
