package runner

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/defaults"
	"github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/engine/stoptest"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestHeadlessStopDuringTheLoad: a stop (the signal's context ends) while
// the teacher loads ends the load itself, before its next tensor: the
// loading progress never reaches its one model pair, no step runs, and
// the run folder is left as a stop before the first step leaves it
// (listed stopped, with its device, no note). Headless returns Start's
// *run.LoadStopped, whatever the steps, for rlt run to say as its
// workbench's (runLoadStopped, exit 1): it said the run folder complete
// and continued by rlt run --resume, which refuses a run with no
// checkpoint, and with steps 0 wrote that on the progress, no error.
// Start's own error wraps the context's and names the tensor, its load
// context alone ended (the workbench's: its run context is one no signal
// ends). The load took no context: it read every tensor, and the engine
// heeded the stop only after it.
func TestHeadlessStopDuringTheLoad(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	for _, c := range []struct {
		steps    int
		headless bool // through Headless, else Start
	}{{1, true}, {0, true}, {1, false}} {
		cfg := smallConfig(t, c.steps)
		cfg.Device = "cpu"
		runs := t.TempDir()
		rec, checked, err := Create(runs, mustCheck(t, cfg), sessions.ProcessHeadless)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		stop := &stoptest.OnLook{Context: ctx, N: 5, Cancel: cancel} // after 4 of the teacher's tensors
		var out bytes.Buffer
		stoppedBefore := regexp.MustCompile(`teacher/model.safetensors: tensor "[^"]+": stopped before it, 4 of \d+ tensors read: context canceled$`)
		var stopped *run.LoadStopped
		if !c.headless {
			h, err := Start(stop, context.Background(), rec, checked, rec, Fresh) // the workbench's: no signal ends its run context
			if h != nil || !errors.Is(err, context.Canceled) || !stoppedBefore.MatchString(err.Error()) {
				t.Errorf("Start: %v; want no engine and context.Canceled, naming the tensor it stopped before", err)
			}
		} else if err := Headless(stop, rec, checked, Fresh, &out); !errors.As(err, &stopped) || !stoppedBefore.MatchString(err.Error()) || strings.Contains(out.String(), "continues it") {
			t.Errorf("steps %d: Headless: %v, progress:\n%s\nwant Start's *run.LoadStopped, naming the tensor it stopped before, and no word of how it goes on", c.steps, err, out.String())
		}
		cancel()
		if p, ok := rec.Progress(); !ok || p.Phase != "loading" || p.Done != 0 {
			t.Errorf("steps %d: last progress %+v (%v); want the load's, at 0 of its model pairs: the load stopped", c.steps, p, ok)
		}
		list, err := sessions.List(runs)
		if err != nil || len(list) != 1 {
			t.Fatalf("steps %d: listed %+v, %v", c.steps, list, err)
		}
		if r := list[0]; r.State != sessions.StateStopped || r.Note != "" || r.LastStep != -1 || !strings.HasPrefix(r.Device.Backend, "cpu") {
			t.Errorf("steps %d: listed %s, note %q, last step %d, device %q; want stopped, no note, no step, on the cpu", c.steps, r.State, r.Note, r.LastStep, r.Device)
		}
	}
}

// TestLauncherStopsALoadOnItsLoadContext: the Runs screen's new run and
// resume (Launcher.Start, Launcher.Resume) load on the launcher's Load,
// which the commands end on their first stop signal, on which the
// workbench quits: its end stops the load before its next tensor, the
// launch refused with Start's *run.LoadStopped, and the run folder is
// among Written (the command's exit says it and how it goes on), the new
// run recorded stopped before its first step, the resumed one as it was.
// The loads took the launcher's context, which no signal ends: the exit,
// off the screen, waited for the load to end.
func TestLauncherStopsALoadOnItsLoadContext(t *testing.T) {
	runs, done := oneStepRun(t)
	planOneStepMore(t, done)
	models, err := defaults.Dir()
	if err != nil {
		t.Fatal(err)
	}
	before, err := sessions.List(runs)
	if err != nil || len(before) != 1 {
		t.Fatalf("listed %+v, %v", before, err)
	}
	for _, resume := range []bool{false, true} {
		l := NewLauncher(context.Background(), runs, models)
		l.Device = "cpu"
		ctx, cancel := context.WithCancel(context.Background())
		l.Load = &stoptest.OnLook{Context: ctx, N: 5, Cancel: cancel} // after 4 of the teacher's tensors
		var err error
		if resume {
			_, err = l.Resume(done)
		} else {
			var cfg []byte
			if cfg, err = l.NewConfig(); err != nil {
				t.Fatal(err)
			}
			_, err = l.Start(cfg)
		}
		cancel()
		var stopped *run.LoadStopped
		if !errors.As(err, &stopped) {
			t.Fatalf("resume %v: %v; want the launch refused with a *run.LoadStopped", resume, err)
		}
		list, err := sessions.List(runs)
		if err != nil {
			t.Fatal(err)
		}
		written := l.Written()
		if len(written) != 1 {
			t.Fatalf("resume %v: written %q; want the stopped run's folder", resume, written)
		}
		for _, r := range list {
			if filepath.Clean(r.Dir) != filepath.Clean(written[0]) {
				continue
			}
			want := sessions.RunSummary{State: sessions.StateStopped, LastStep: -1} // before its first step
			if resume {
				want = before[0] // as it was
			}
			if r.State != want.State || r.Note != want.Note || r.LastStep != want.LastStep {
				t.Errorf("resume %v: listed %s, note %q, last step %d; want %s, note %q, last step %d", resume, r.State, r.Note, r.LastStep, want.State, want.Note, want.LastStep)
			}
		}
	}
}

// TestLauncherStoppedBeforeTheFolderMakesNone: a new run whose load
// context (Launcher.Load) ended while the launcher checked its
// configuration and room (a stop signal, the workbench's quit) is refused
// with the context's error, no run folder made and none among Written:
// Create made one, its load then stopped at its first look, and the
// command's exit said a folder stopped before its first step that nobody
// asked to keep.
func TestLauncherStoppedBeforeTheFolderMakesNone(t *testing.T) {
	models, err := defaults.Dir()
	if err != nil {
		t.Fatal(err)
	}
	runs := t.TempDir()
	l := NewLauncher(context.Background(), runs, models)
	l.Device = "cpu"
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(sessions.WorkbenchQuit) // as the checks ran
	l.Load = ctx
	cfg, err := l.NewConfig()
	if err != nil {
		t.Fatal(err)
	}
	s, err := l.Start(cfg)
	if s != nil || !errors.Is(err, context.Canceled) || !strings.HasSuffix(err.Error(), "stopped before its run folder was made, so none was: the workbench quit") {
		t.Errorf("Start: %v, %v; want no run and the load context's end, saying no folder was made and why (its cause)", s, err)
	}
	if entries, err := os.ReadDir(runs); err != nil || len(entries) != 0 {
		t.Errorf("runs folder holds %v (%v); want nothing made", entries, err)
	}
	if written := l.Written(); len(written) != 0 {
		t.Errorf("written %q; want none", written)
	}
}

// TestLauncherStoppedBeforeTheResumeLeavesTheRun: a resume whose load
// context (Launcher.Load) ended before it began (a stop signal, the
// workbench's quit) is refused with the context's error, as Start's new
// run is, the run's files as they were and nothing among Written: it took
// the run's lock, began a session, then stopped at its first look, and the
// command's exit said the run as a launch it stopped.
func TestLauncherStoppedBeforeTheResumeLeavesTheRun(t *testing.T) {
	runs, done := oneStepRun(t)
	planOneStepMore(t, done)
	models, err := defaults.Dir()
	if err != nil {
		t.Fatal(err)
	}
	before := runFiles(done)
	l := NewLauncher(context.Background(), runs, models)
	l.Device = "cpu"
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(sessions.StopSignal) // before the resume
	l.Load = ctx
	s, err := l.Resume(done)
	var stopped *run.LoadStopped
	if s != nil || !errors.Is(err, context.Canceled) || errors.As(err, &stopped) || !strings.HasSuffix(err.Error(), "stopped before the run was opened to resume, so it is as it was: a stop signal came; "+sessions.ContinueLine(done)) ||
		!strings.Contains(err.Error(), "; continue it: rlt run --resume "+sessions.ShellQuote(done)) {
		t.Errorf("Resume: %v, %v; want no run and the load context's end, saying the run was not opened and why (its cause), then how it goes on (rlt run --resume)", s, err)
	}
	if after := runFiles(done); !maps.Equal(after, before) {
		t.Errorf("the stopped resume changed the run's files")
	}
	if written := l.Written(); len(written) != 0 {
		t.Errorf("written %q; want none", written)
	}
}

// planOneStepMore makes the one-step run done (oneStepRun) plan a second
// step, so that a resume of it has one to run.
func planOneStepMore(t *testing.T, done string) {
	t.Helper()
	cfgPath := filepath.Join(done, sessions.ConfigFile)
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	more := strings.Replace(string(cfg), "\nsteps = 1\n", "\nsteps = 2\n", 1)
	if more == string(cfg) {
		t.Fatalf("%s has no steps = 1:\n%s", cfgPath, cfg)
	}
	if err := os.WriteFile(cfgPath, []byte(more), 0o644); err != nil {
		t.Fatal(err)
	}
}
