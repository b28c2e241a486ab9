package ui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/sessions"
)

// loadingLauncher resumes a run as the runner's launcher does, its load
// under way until its Load context ends (loads: what Options.EndLoads
// ends), when the launch is refused with the load's stop; release ends a
// load nobody stopped (the test's failure). loading closes as its first
// load begins.
type loadingLauncher struct {
	testLauncher
	loads            context.Context
	loading, release chan struct{}
	resumed          int
}

func (l *loadingLauncher) Resume(dir string) (*sessions.Session, error) {
	l.resumed++
	close(l.loading)
	select {
	case <-l.loads.Done():
		return nil, sessions.Refused("resume", dir, fmt.Errorf("teacher/model.safetensors: tensor \"w\": stopped before it, 4 of 9 tensors read: %w", l.loads.Err()))
	case <-l.release:
		return nil, errors.New("its load ended on its own")
	}
}

// TestQuitEndsALoadAtOnce: q while a run the Runs screen resumes is
// loading ends its load at once (Options.EndLoads: the runner's launcher's
// Load context), the workbench's end saying the launch's stop, as on a
// stop signal; q while the run that was open ends before such a launch
// begins it not at all, nothing resumed for a workbench that has quit,
// and says so (TestStoppedLaunchesEndAlike). The workbench's end waited,
// off the screen, for the whole load (a minute for a 7B model), then
// ended the run it had begun.
func TestQuitEndsALoadAtOnce(t *testing.T) {
	for _, c := range []struct {
		name    string
		closing bool // q while the run open before is ended
	}{
		{"while the run loads", false},
		{"while the run open before ends", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			runs := t.TempDir()
			dir := filepath.Join(runs, "a")
			writeRun(t, dir, t0, 12, false)
			loads, endLoads := context.WithCancel(context.Background())
			defer endLoads()
			l := &loadingLauncher{testLauncher: testLauncher{runs: runs}, loads: loads, loading: make(chan struct{}), release: make(chan struct{})}
			opts := Options{Launcher: l, RunsDir: runs, EndLoads: endLoads}
			closing, ended := make(chan struct{}), make(chan struct{})
			if c.closing {
				r := newTestRun(t, 2, 1, 1, 4)
				opts.Session = &sessions.Session{Run: r, Close: func() error {
					close(closing)
					<-ended // the engine's step in progress
					return nil
				}}
			}
			m := newModel(opts)
			launch := m.switchRun(launchReq{kind: launchResume, dir: dir})
			go launch() // off the event loop, as Bubble Tea runs it
			if c.closing {
				<-closing
			} else {
				<-l.loading
			}
			m.Update(keyMsg("q"))
			close(ended)
			finished := make(chan error, 1)
			go func() { finished <- m.finish() }() // Run's end, once the program has quit
			var err error
			select {
			case err = <-finished:
			case <-time.After(time.Minute):
				close(l.release)
				<-finished
				t.Fatal("the workbench's end waited for the load after q")
			}
			switch {
			case c.closing && (l.resumed != 0 || !errors.Is(err, errQuitFirst)):
				t.Errorf("resumed %d times, end %v; want the resume not begun, and said so", l.resumed, err)
			case !c.closing && (!errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "resume "+dir+": teacher/model.safetensors: tensor \"w\": stopped before it")):
				t.Errorf("end %v; want the launch's stop said", err)
			}
		})
	}
}

// checkingLauncher starts and resumes runs as the runner's launcher does
// once its Load context has ended during the launch's checks (a stop
// signal, the workbench's quit): refused with a
// *sessions.LaunchStoppedError, nothing made (checking closes as the
// checks begin; they end with the loads).
type checkingLauncher struct {
	testLauncher
	loads    context.Context
	checking chan struct{}
}

func (l *checkingLauncher) stopped(resume bool) error {
	close(l.checking)
	<-l.loads.Done()
	return &sessions.LaunchStoppedError{Resume: resume, Err: sessions.Stopped(l.loads)}
}

func (l *checkingLauncher) Start([]byte) (*sessions.Session, error) { return nil, l.stopped(false) }

// Resume's refusal says how the run goes on, as runner.Launcher.Resume's.
func (l *checkingLauncher) Resume(dir string) (*sessions.Session, error) {
	return nil, fmt.Errorf("%w; %s", l.stopped(true), sessions.ContinueLine(dir))
}

// TestStoppedLaunchesEndAlike: a new run or a resume that q kept from
// running ends the workbench alike, wherever q came: during the
// launcher's checks (its refusal: runner.Launcher's, as its load context
// ended) or while the run open before it ended, the launch not begun.
// Either is an error of Run (rlt run exits 1, as docs/commands.md says of
// a launch a stop ended), saying the request and that nothing was made
// or the run is as it was, and a resume's how the run goes on (rlt run
// --resume DIR, sessions.ContinueLine), as rlt run --resume stopped in its
// checks says it. The second was said not at all, exit 0; a resume's
// ended at "as it was", no way on.
func TestStoppedLaunchesEndAlike(t *testing.T) {
	for _, c := range []struct {
		name    string
		resume  bool
		closing bool // q while the run open before is ended, else during the checks
		want    string
	}{
		{"start, during its checks", false, false, "start a new run: stopped before its run folder was made, so none was: the workbench quit"},
		{"start, before it began", false, true, "start a new run: stopped before its run folder was made, so none was: the workbench quit before it began"},
		{"resume, during its checks", true, false, "resume a: stopped before the run was opened to resume, so it is as it was: the workbench quit"},
		{"resume, before it began", true, true, "resume a: stopped before the run was opened to resume, so it is as it was: the workbench quit before it began"},
	} {
		t.Run(c.name, func(t *testing.T) {
			runs := t.TempDir()
			dir := filepath.Join(runs, "a")
			// A run with a checkpoint, which a resume goes on from.
			r, err := sessions.Create(dir, testRunCfg{Task: "addition", Steps: 20, Reward: record.DefaultRewardConfig()})
			if err != nil {
				t.Fatal(err)
			}
			saveTestCheckpoint(t, r, 11)
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			// EndLoads as rlt run's: its cause the quit (untilQuit).
			loads, endLoads := context.WithCancelCause(context.Background())
			defer endLoads(nil)
			l := &checkingLauncher{testLauncher: testLauncher{runs: runs}, loads: loads, checking: make(chan struct{})}
			opts := Options{Launcher: l, RunsDir: runs, EndLoads: func() { endLoads(sessions.WorkbenchQuit) }}
			closing, ended := make(chan struct{}), make(chan struct{})
			if c.closing {
				r := newTestRun(t, 2, 1, 1, 4)
				opts.Session = &sessions.Session{Run: r, Close: func() error {
					close(closing)
					<-ended // the engine's step in progress
					return nil
				}}
			}
			m := newModel(opts)
			req := launchReq{kind: launchStart}
			if c.resume {
				req = launchReq{kind: launchResume, dir: dir}
			}
			launch := m.switchRun(req)
			go launch() // off the event loop, as Bubble Tea runs it
			if c.closing {
				<-closing
			} else {
				<-l.checking
			}
			m.Update(keyMsg("q"))
			close(ended)
			err = m.finish() // Run's end, once the program has quit
			want := c.want
			if c.resume {
				want += "; continue it: rlt run --resume " + sessions.ShellQuote(dir)
			}
			var stopped *sessions.LaunchStoppedError
			if !errors.As(err, &stopped) || stopped.Resume != c.resume || err.Error() != want {
				t.Errorf("end %v; want %q", err, want)
			}
			select {
			case <-l.checking:
				if c.closing {
					t.Error("the launch began after q")
				}
			default:
			}
		})
	}
}
