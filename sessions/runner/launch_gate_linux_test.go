//go:build linux

package runner

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/rlt-workbench/rlt/engine/defaults"
	"github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/engine/stoptest"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestLauncherStoppedAsTheRunIsMadeLeavesNothing: a load context
// (Launcher.Load) that ends while Create makes the new run, or while
// OpenForResume checks the run it resumes (a stop signal, the workbench's
// quit, after the launcher's own look at it), ends the launch as one ended
// before them does: a *sessions.LaunchStoppedError, no run folder (the one
// Create made removed again) and the resumed run's files as they were,
// nothing among Written. The stop comes as their memory check reads the
// teacher's config.json, a FIFO served only once the load context has
// ended. Both began the run's session: its load stopped at its first
// look, the launch refused with a *run.LoadStopped, the new folder kept
// and the resumed one given a session, and the command's exit said each
// as a launch it stopped, where a stop a moment sooner left none.
func TestLauncherStoppedAsTheRunIsMadeLeavesNothing(t *testing.T) {
	models, teacher, stop := gateMemoryCheck(t, nil)

	cfg := smallConfig(t, 1)
	cfg.Device, cfg.Teacher = "cpu", teacher
	runs, resumed := runToEnd(t, cfg)
	planOneStepMore(t, resumed)
	before := runFiles(resumed)
	data, err := sessions.EncodeTOML(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, resume := range []bool{false, true} {
		l := NewLauncher(context.Background(), runs, models)
		ctx, cancel := context.WithCancelCause(context.Background())
		defer cancel(nil)
		l.Load = ctx
		stop.Store(&cancel)
		var s *sessions.Session
		if resume {
			s, err = l.Resume(resumed)
		} else {
			s, err = l.Start(data)
		}
		if s != nil {
			s.Close()
		}
		if stop.Load() != nil {
			t.Fatalf("resume %v: the launch checked no run's memory: %v", resume, err)
		}
		var (
			launch  *sessions.LaunchStoppedError
			stopped *run.LoadStopped
		)
		// A resume's says how the run goes on, as rlt run --resume's does
		// (sessions.ContinueLine); it ended at the cause, no way on.
		end, way := ": "+sessions.StopSignal.Error(), ""
		if resume {
			end += "; " + sessions.ContinueLine(resumed)
			way = "; continue it: rlt run --resume " + sessions.ShellQuote(resumed)
		}
		if s != nil || !errors.As(err, &launch) || launch.Resume != resume || errors.As(err, &stopped) || !errors.Is(err, context.Canceled) || !strings.HasSuffix(err.Error(), end) || !strings.Contains(err.Error(), way) {
			t.Errorf("resume %v: %v; want no run and a *sessions.LaunchStoppedError of the load context's end, saying its cause, ending %q", resume, err, end)
		}
		if entries, err := os.ReadDir(runs); err != nil || len(entries) != 1 || entries[0].Name() != filepath.Base(resumed) {
			t.Errorf("resume %v: runs folder holds %v (%v); want only the run resumed", resume, entries, err)
		}
		if after := runFiles(resumed); !maps.Equal(after, before) {
			t.Errorf("resume %v: the run resumed has its files changed", resume)
		}
		if written := l.Written(); len(written) != 0 {
			t.Errorf("resume %v: written %q; want none", resume, written)
		}
	}
}

// gateMemoryCheck gives a launch's teacher, a copy of the embedded one in
// a test folder (models: the embedded models' folder), whose config.json
// is a FIFO (stoptest.GatedModel). Each reader of the FIFO is given
// config.json; the first whose goroutine checks a run's memory
// (run.CheckMemory) once stop is set ends stop's context with
// sessions.StopSignal, clears stop, then calls stopped (if not nil), so a
// test acts just as its launch's checks see the stop. The FIFO is served
// until the test ends.
func gateMemoryCheck(t *testing.T, stopped func()) (models, teacher string, stop *atomic.Pointer[context.CancelCauseFunc]) {
	t.Helper()
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	models, err := defaults.Dir()
	if err != nil {
		t.Fatal(err)
	}
	teacher = stoptest.GatedModel(t, t.TempDir(), filepath.Join(models, defaults.Teacher))
	config, err := os.ReadFile(teacher + "." + stoptest.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	fifo, err := filepath.EvalSymlinks(filepath.Join(teacher, stoptest.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	stop = new(atomic.Pointer[context.CancelCauseFunc])
	var done atomic.Bool
	served := make(chan error, 1)
	go func() {
		served <- stoptest.ServeFIFO(fifo, config, stoptest.ReadersHere(fifo), func() bool {
			if done.Load() {
				return false
			}
			if cancel := stop.Load(); cancel != nil && bytes.Contains(stoptest.Stacks(), []byte("/engine/run.Checked.CheckMemory(")) {
				(*cancel)(sessions.StopSignal)
				stop.Store(nil)
				if stopped != nil {
					stopped()
				}
			}
			return true
		})
	}()
	t.Cleanup(func() {
		done.Store(true)
		// The writer waiting for a reader is let through, to find done.
		r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			t.Error(err)
			return
		}
		defer r.Close()
		if err := <-served; err != nil {
			t.Errorf("serving %s: %v", fifo, err)
		}
	})
	return models, teacher, stop
}
