package ui

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui/style"
)

// TestStopQuitsAsQ: Options.Stop closing (a stop signal: the commands
// close it on SIGINT, SIGTERM and SIGHUP) quits the workbench through q's
// path: the engine driven here is asked what q asks it, a checkpoint of
// the step it ends on included (TestStopAndQuitStopAlike), before the
// workbench leaves. It left the screen at once, the engine asked for no
// checkpoint (it stopped on its context alone).
func TestStopQuitsAsQ(t *testing.T) {
	quit := func(typed string, signal bool) fakeControl {
		t.Helper()
		r := newTestRun(t, 12, 1, 1, 4)
		ctl := &fakeControl{}
		var stop chan struct{}
		if signal {
			stop = make(chan struct{})
			close(stop)
		}
		in, w := io.Pipe() // the terminal
		defer w.Close()
		done := make(chan error, 1)
		go func() {
			done <- Run(Options{Session: &sessions.Session{Run: r, Control: ctl, Close: r.Close}, Stop: stop, Theme: style.PlainTheme()}, in, io.Discard)
		}()
		go w.Write([]byte(typed))
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(time.Minute):
			t.Fatalf("the workbench did not quit (typed %q, Stop closed: %v)", typed, signal)
		}
		return *ctl
	}
	q, signal := quit("q", false), quit("", true)
	if signal != q || q.ckpt != 1 {
		t.Errorf("the engine was asked %+v on Stop, %+v on q; want the same, a checkpoint once", signal, q)
	}
}

// TestSecondStopSignalLeavesAtOnce: Options.Leave closing while the
// workbench ends its run after Options.Stop (a second Ctrl-C, SIGTERM or
// SIGHUP while stopping) leaves at once: Run returns ErrLeft with the run's
// Close (the engine's step and final checkpoint) still under way, not
// waited for. The second signal was swallowed: the workbench waited for the
// step however long it took, the user's only way out a SIGKILL.
func TestSecondStopSignalLeavesAtOnce(t *testing.T) {
	r := newTestRun(t, 12, 1, 1, 4)
	closing, release, closed := make(chan struct{}), make(chan struct{}), make(chan struct{})
	defer func() {
		// The close goes on after Run has left: wait for it, once let go, so
		// that it writes nothing into the run's folder as t.TempDir's cleanup
		// removes it ("directory not empty", seen in CI).
		close(release)
		select {
		case <-closing:
			<-closed
		default:
		}
	}()
	s := &sessions.Session{Run: r, Control: &fakeControl{}, Close: func() error {
		defer close(closed)
		close(closing) // the quit's close: the engine ends its step …
		<-release      // … which takes as long as the test holds it
		return r.Close()
	}}
	stop, leave := make(chan struct{}), make(chan struct{})
	in, w := io.Pipe() // the terminal
	defer w.Close()
	done := make(chan error, 1)
	go func() {
		done <- Run(Options{Session: s, Stop: stop, Leave: leave, Theme: style.PlainTheme()}, in, io.Discard)
	}()
	close(stop)
	select {
	case <-closing:
	case err := <-done:
		t.Fatalf("the workbench left on the first signal (%v), without ending its run", err)
	case <-time.After(time.Minute):
		t.Fatal("the first signal did not end the run")
	}
	close(leave)
	select {
	case err := <-done:
		if !errors.Is(err, ErrLeft) {
			t.Errorf("Run returned %v, want ErrLeft", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the second signal did not leave the workbench while its run was ending")
	}
}
