package ui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
// begins it not at all, nothing resumed for a workbench that has quit.
// The workbench's end waited, off the screen, for the whole load (a
// minute for a 7B model), then ended the run it had begun.
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
			case c.closing && (l.resumed != 0 || err != nil):
				t.Errorf("resumed %d times, end %v; want the resume not begun, nothing said", l.resumed, err)
			case !c.closing && (!errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "resume "+dir+": teacher/model.safetensors: tensor \"w\": stopped before it")):
				t.Errorf("end %v; want the launch's stop said", err)
			}
		})
	}
}
