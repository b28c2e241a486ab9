package ui

import (
	"bytes"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui/style"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestRunProgram runs the real Bubble Tea program on a pipe: it draws,
// picks up data emitted while it runs, and q quits and stops the engine.
func TestRunProgram(t *testing.T) {
	r := newTestRun(t, 3, 1, 2, 8)
	ctl := &fakeControl{}
	pr, pw := io.Pipe()
	out := &syncBuf{}
	done := make(chan error, 1)
	go func() {
		done <- Run(Options{Session: &sessions.Session{Run: r, Control: ctl, Steps: 10}, Theme: style.PlainTheme()}, pr, out)
	}()
	time.Sleep(200 * time.Millisecond)
	r.Emit(event.Metrics{Time: t0.Add(time.Hour), Step: 4, Values: map[string]float64{"reward": 0.5}})
	deadline := time.Now().Add(hangGuard) // a bound against a hang, not a measure
	for !strings.Contains(out.String(), "step 5/10") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "step 5/10") {
		t.Errorf("the program did not show the new step; output tail: %q", tail(out.String()))
	}
	pw.Write([]byte("2"))
	time.Sleep(100 * time.Millisecond)
	pw.Write([]byte("q"))
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(hangGuard):
		t.Fatal("the program did not quit on q")
	}
	pw.Close()
	if ctl.stop != 1 {
		t.Errorf("Stop called %d times, want 1", ctl.stop)
	}
}

func tail(s string) string {
	if len(s) > 400 {
		return s[len(s)-400:]
	}
	return s
}

// TestInteractive runs the workbench on the process's terminal, for a
// person or a tmux script; it is skipped unless RLT_UI_INTERACTIVE is set.
func TestInteractive(t *testing.T) {
	if os.Getenv("RLT_UI_INTERACTIVE") == "" {
		t.Skip("set RLT_UI_INTERACTIVE=1 to run the workbench on this terminal")
	}
	r := newTestRun(t, 40, 2, 4, 120)
	ctl := &fakeControl{}
	go func() {
		for s := 41; s <= 400; s++ {
			time.Sleep(50 * time.Millisecond)
			r.Emit(event.Metrics{Time: t0.Add(time.Duration(s) * 6 * time.Second), Step: s,
				Values: map[string]float64{"reward": math.Sin(float64(s) / 20), "loss": 1 / float64(s), "kl": 0.001 * float64(s)}})
		}
	}()
	if err := Run(Options{Session: &sessions.Session{Run: r, Control: ctl, Steps: 400}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if ctl.stop == 0 {
		t.Error("quit did not stop the engine")
	}
}
