package runner

import (
	"context"
	"fmt"
	"testing"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/sessions"
)

// cancelSink cancels the run context as phase name of step at begins, on
// the engine's goroutine: a stop (rlt train's second signal, a launcher's
// context) that comes during that phase.
type cancelSink struct {
	event.Sink
	at     int
	name   string
	cancel context.CancelFunc
}

func (s cancelSink) Emit(ev event.Event) {
	if p, ok := ev.(event.Phase); ok && p.Step == s.at && p.Name == s.name {
		s.cancel()
	}
	s.Sink.Emit(ev)
}

// TestACancelDuringAStepIsAStop: the run context ended during any phase
// of a step is a stop, not a failure: Engine.Run ends the run as a stop
// only where the step's error is the context's (errors.Is(err,
// ctx.Err())), so a cancel that surfaced from inside the step as an error
// not wrapping ctx.Err() (a %v, a message of its own) would record a
// user's stop as the run's fatal error, listed as failed. Each phase is
// cut where Step looks at the context (after sampling, after scoring) or
// runs to the step's end (backward, optimiser: no look after the update),
// on a context cancelled plainly and on one cancelled with a cause, as
// rlt's load contexts are (untilStop's sessions.StopSignal, which is
// context.Canceled by its Is); either way the close returns nil, no fatal error is recorded, the run
// says "stopped", and the newest checkpoint is that of the last step done.
func TestACancelDuringAStepIsAStop(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	const at = 1
	type phase struct {
		name string
		last int // the newest checkpoint's step
	}
	var cases []struct {
		phase
		cause error
	}
	for _, p := range []phase{{"sampling", at - 1}, {"scoring", at - 1}, {"backward", at}, {"optimiser", at}} {
		for _, cause := range []error{nil, sessions.StopSignal} {
			cases = append(cases, struct {
				phase
				cause error
			}{p, cause})
		}
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/cause=%v", c.name, c.cause), func(t *testing.T) {
			cfg := smallConfig(t, at+3)
			cfg.CheckpointEvery = 0
			dir, rec := createRun(t, cfg)
			runCtx, cancelCause := context.WithCancelCause(context.Background())
			cancel := func() { cancelCause(c.cause) }
			defer cancel()
			prepare := func(_ context.Context, e *run.Engine) error {
				e.Trainer.Sink = cancelSink{Sink: e.Trainer.Sink, at: at, name: c.name, cancel: cancel}
				return nil
			}
			h, err := Start(context.Background(), runCtx, rec, mustCheck(t, cfg), rec, prepare)
			if err != nil {
				t.Fatal(err)
			}
			if err := h.Wait(); err != nil {
				t.Errorf("Engine.Run: %v, want nil: a cancel is a stop", err)
			}
			if err := h.Close(); err != nil {
				t.Errorf("Close: %v, want nil: a cancel is a stop", err)
			}
			stopped := false
			for _, e := range eventRecords(t, dir) {
				if e.Kind == sessions.KindError && e.Fatal {
					t.Errorf("fatal error recorded for a cancel: %q", e.Error)
				}
				if e.Kind == sessions.KindPhase && e.Name == "stopped" {
					stopped = true
				}
			}
			if !stopped {
				t.Error("no \"stopped\" phase recorded")
			}
			cks, err := sessions.Checkpoints(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(cks) == 0 || cks[len(cks)-1].Step != c.last || cks[len(cks)-1].Err != nil {
				t.Errorf("checkpoints %+v, want the newest of step %d", cks, c.last)
			}
		})
	}
}
