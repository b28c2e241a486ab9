package runner

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/sessions"
)

// lockedWriter is progress output read while Headless writes it.
type lockedWriter struct {
	mu  sync.Mutex
	out strings.Builder
}

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.out.Write(b)
}
func (w *lockedWriter) String() string { w.mu.Lock(); defer w.mu.Unlock(); return w.out.String() }

// signalIn is a Prepare that has stop (the first stop signal: the load
// context's cancel) called as the engine's step begins its phase: on
// the engine's own goroutine, within that step, so that the step is in
// progress as the signal comes, whatever the machine's speed.
func signalIn(step int, phase string, stop context.CancelFunc) Prepare {
	return func(_ context.Context, e *run.Engine) error {
		e.Trainer.Sink = signalSink{e.Trainer.Sink, step, phase, stop}
		return nil
	}
}

type signalSink struct {
	event.Sink
	step  int
	phase string
	stop  context.CancelFunc
}

func (s signalSink) Emit(e event.Event) {
	if p, ok := e.(event.Phase); ok && p.Step == s.step && p.Name == s.phase {
		s.stop()
	}
	s.Sink.Emit(e)
}

// TestHeadlessSignalEndsTheStepInProgress: rlt run --headless's first stop
// signal during a step (here step 0's sampling) stops the run after that
// step, its checkpoint written, as its banner says ("Ctrl-C stops after
// the current step") and as the workbench stops: the run folder is
// complete and its resume goes on from that step. The step was cut (the
// signal's context was the engine's run context): a run stopped in its
// step 0 had no checkpoint, yet was said "complete: rlt run --resume …
// continues it", and the resume refused it. A signal during the run's
// last planned step, which then ends, is a finished run (exit 0), not one
// "stopped by a signal after 1 of 1 step"; with no plan (steps 0) the
// signal is its end, said as a stop.
func TestHeadlessSignalEndsTheStepInProgress(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	for _, c := range []struct {
		steps, step int    // planned; the step the signal comes in
		phase       string // and its phase
		said        string // the line that ends the output or the error, its %d the steps done
		fails       bool
	}{
		{3, 0, "sampling", "stopped by a signal after %d of 3 steps; the run folder DIR is complete: rlt run --resume QDIR continues it", true},
		{3, 0, "scoring", "stopped by a signal after %d of 3 steps; the run folder DIR is complete: rlt run --resume QDIR continues it", true},
		{3, 1, "sampling", "stopped by a signal after %d of 3 steps; the run folder DIR is complete: rlt run --resume QDIR continues it", true},
		{1, 0, "sampling", "finished %d of 1 step; the run folder DIR is complete, its last checkpoint", false},
		{2, 1, "scoring", "finished %d of 2 steps; the run folder DIR is complete, its last checkpoint", false},
		{0, 0, "sampling", "stopped by a signal after %d step", false},
	} {
		t.Run(fmt.Sprintf("%d steps, in step %d's %s", c.steps, c.step, c.phase), func(t *testing.T) {
			rec, checked, err := Create(t.TempDir(), mustCheck(t, smallConfig(t, c.steps)), sessions.ProcessHeadless)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			w := new(lockedWriter)
			err = Headless(ctx, rec, checked, signalIn(c.step, c.phase, cancel), w)
			out := w.String()
			if (err != nil) != c.fails {
				t.Fatalf("Headless: %v; want an error: %v\n%s", err, c.fails, out)
			}
			// The step in progress ended, and maybe the next, begun as the
			// signal came: the steps the run says it did are on disk.
			said := out
			if err != nil {
				said = err.Error()
			}
			pattern := regexp.QuoteMeta(strings.NewReplacer("QDIR", sessions.ShellQuote(rec.Dir()), "DIR", rec.Dir()).Replace(c.said))
			m := regexp.MustCompile(strings.Replace(pattern, "%d", `(\d+)`, 1)).FindStringSubmatch(said)
			if m == nil {
				t.Fatalf("it says:\n%s\nwant %q of the steps done", said, c.said)
			}
			done, _ := strconv.Atoi(m[1])
			ck, _, err := sessions.LatestCheckpoint(rec.Dir())
			if done < c.step+1 || err != nil || ck.Step != done-1 {
				t.Errorf("%d steps said done, the latest checkpoint %+v (%v); want step %d's ended, its checkpoint written:\n%s", done, ck, err, c.step, said)
			}
			if !strings.Contains(out, StoppingAfterTheStep+"\n") {
				t.Errorf("the signal is not said as it comes (%q):\n%s", StoppingAfterTheStep, out)
			}
			if list, err := sessions.List(filepath.Dir(rec.Dir())); err != nil || len(list) != 1 || list[0].StepsDone() != done {
				t.Errorf("listed %+v, %v; want the run with %d steps done", list, err, done)
			}
		})
	}
}

// TestHeadlessStoppedAsItsEngineBegins: a stop that comes once the models
// have loaded (here at the end of the load's prepare) and before the
// engine's first step may leave the run with no step done: said so, with
// how it goes on (sessions.ContinueLine: start it again), exit 1, never
// that rlt run --resume continues it, which refuses a run with no
// checkpoint; or, where the engine had begun its step 0, after that step,
// its checkpoint written.
func TestHeadlessStoppedAsItsEngineBegins(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	rec, checked, err := Create(t.TempDir(), mustCheck(t, smallConfig(t, 3)), sessions.ProcessHeadless)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out strings.Builder
	err = Headless(ctx, rec, checked, func(context.Context, *run.Engine) error { cancel(); return nil }, &out)
	if err == nil {
		t.Fatalf("Headless: no error; want a stop before its planned steps:\n%s", out.String())
	}
	_, _, ckErr := sessions.LatestCheckpoint(rec.Dir())
	var want string
	switch {
	case ckErr == nil:
		want = "stopped by a signal after 1 of 3 steps; the run folder " + rec.Dir() + " is complete: rlt run --resume " + rec.Dir() + " continues it"
	default:
		want = fmt.Sprintf("stopped by a signal before its first step: run folder %s: %s", rec.Dir(), sessions.ContinueLine(rec.Dir()))
	}
	if err.Error() != want {
		t.Errorf("Headless: %v\nwant %s (the latest checkpoint: %v)", err, want, ckErr)
	}
}
