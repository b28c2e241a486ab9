package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/sessions"
)

// stepSink is what tornSink and refusedSink share: the engine, the
// step at which they act, where the teacher is saved as that step begins,
// the run context's cancel and where their own failures go.
type stepSink struct {
	event.Sink
	e      *run.Engine
	at     int
	step0  string
	cancel context.CancelFunc
	errs   chan<- error
}

// saveStep0 saves the teacher, as step at begins (its sampling), into
// step0: the weights a checkpoint of step at-1 must hold.
func (s stepSink) saveStep0() {
	if err := s.e.Trainer.Teacher.Save(s.step0, hf.F32); err != nil {
		s.errs <- err
	}
}

// fatalError is the text of the last fatal error dir's events.jsonl
// records, "" where none is.
func fatalError(t *testing.T, dir string) string {
	t.Helper()
	fatal := ""
	for _, e := range eventRecords(t, dir) {
		if e.Kind == sessions.KindError && e.Fatal {
			fatal = e.Error
		}
	}
	return fatal
}

// createRun creates a run folder of cfg in a temporary folder.
func createRun(t *testing.T, cfg runconfig.Config) (string, *sessions.Run) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	rec, err := sessions.Create(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return dir, rec
}

// runAndClose starts rec's run of cfg under runCtx with prepare, waits
// for it and closes it, then fails the test on any error its sink sent
// to errs (which it closes); it returns the close's error.
func runAndClose(t *testing.T, runCtx context.Context, rec *sessions.Run, cfg runconfig.Config, prepare Prepare, errs chan error) error {
	t.Helper()
	h, err := Start(context.Background(), runCtx, rec, mustCheck(t, cfg), rec, prepare)
	if err != nil {
		t.Fatal(err)
	}
	h.Wait()
	closeErr := h.Close()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return closeErr
}

// readWeights is the weights file of the model folder dir.
func readWeights(t *testing.T, dir string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, hf.WeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tornSink, on the engine's goroutine: as step at begins (its sampling)
// it saves the teacher as step at-1 left it into step0 (the weights a
// checkpoint of that step must hold); as step at's optimiser phase begins,
// after the reference's forward and before the update, it gives the
// trainer a reference of another shape (a layer fewer), so that the
// reference's sync after the update fails (MixInto's refusal), and
// cancels the run context where cancel is set (a stop that comes during
// the step).
type tornSink struct{ stepSink }

func (s tornSink) Emit(ev event.Event) {
	if p, ok := ev.(event.Phase); ok && p.Step == s.at {
		switch p.Name {
		case "sampling":
			s.saveStep0()
		case "optimiser":
			cfg := s.e.Trainer.Teacher.Cfg
			cfg.Layers--
			ref, err := model.New(s.e.Backend, cfg)
			if err != nil {
				s.errs <- err
			}
			s.e.Trainer.Ref = ref
			if s.cancel != nil {
				s.cancel()
			}
		}
	}
	s.Sink.Emit(ev)
}

// TestAStepFailedAfterItsUpdateIsNotSavedAsThePrevious: a step that fails
// after its optimiser update with an error that is not the device's (here
// the reference's sync) leaves the teacher and its moments partly that
// step's. The close's final checkpoint, and the engine's end where a stop
// came during the step (its context ended), saved them as the previous
// step's checkpoint (step 0's, not on disk yet with checkpoint_every 0):
// a checkpoint whose weights were not its step's, and whose resume took
// part of step 1 twice. No checkpoint is made of them now: the close says
// why, naming the step, and the step's own error is the run's, recorded
// as its fatal error also where the stop came during the step (the
// engine took it for the stop's and dropped it).
func TestAStepFailedAfterItsUpdateIsNotSavedAsThePrevious(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	for _, c := range []struct {
		stop      bool
		at, every int // the torn step, checkpoint_every
		kept      string
	}{
		// With none to resume from, the way on is to start the run
		// again: the close said only that a resume had none.
		{false, 1, 0, "it has no checkpoint yet, so a resume has none to go on from; its step 0 is lost; start it again: rlt run --config CONFIG"},
		{true, 1, 0, "it has no checkpoint yet, so a resume has none to go on from; its step 0 is lost; start it again: rlt run --config CONFIG"},
		// The checkpoint of step 1 stands; step 2, done after it, is
		// lost with the torn step: the close said which checkpoint
		// stood, not what that cost.
		{false, 3, 2, "its checkpoint of step 1 stands as it was, and a resume goes on from it (rlt run --resume DIR); step 2, done after it, is lost: a resume runs it again"},
	} {
		stop := c.stop
		t.Run(fmt.Sprintf("stop=%v,at=%d", stop, c.at), func(t *testing.T) {
			cfg := smallConfig(t, c.at+2)
			cfg.CheckpointEvery = c.every
			cfg.GRPO.RefSyncEvery = 1
			cfg.GRPO.Reconstruct = false
			dir, rec := createRun(t, cfg)
			runCtx, cancel := context.WithCancel(context.Background())
			defer cancel()
			step0 := filepath.Join(t.TempDir(), "step0")
			errs := make(chan error, 4)
			prepare := func(_ context.Context, e *run.Engine) error {
				s := tornSink{stepSink{Sink: e.Trainer.Sink, e: e, at: c.at, step0: step0, errs: errs}}
				if stop {
					s.cancel = cancel
				}
				e.Trainer.Sink = s
				return nil
			}
			closeErr := runAndClose(t, runCtx, rec, cfg, prepare, errs)
			syncErr := fmt.Sprintf("step %d: syncing the reference: mix:", c.at)
			why := fmt.Sprintf("no final checkpoint: step %d failed after its optimiser update", c.at)
			kept := "the run folder keeps what it had: " + strings.NewReplacer("DIR", sessions.ShellQuote(dir),
				"CONFIG", sessions.ShellQuote(filepath.Join(dir, sessions.ConfigFile))).Replace(c.kept)
			if closeErr == nil || !strings.Contains(closeErr.Error(), syncErr) ||
				!strings.Contains(closeErr.Error(), why) || !strings.HasSuffix(closeErr.Error(), kept) {
				t.Errorf("Close: %v\nwant the step's error (%q), why no checkpoint is made (%s) and what the folder keeps (%s)", closeErr, syncErr, why, kept)
			}
			cks, err := sessions.Checkpoints(dir)
			if err != nil {
				t.Fatal(err)
			}
			want := readWeights(t, step0)
			for _, ck := range cks {
				got := readWeights(t, filepath.Join(ck.Dir, sessions.TeacherDir))
				if ck.Step >= c.at || ck.Step == c.at-1 && !bytes.Equal(got, want) {
					t.Errorf("a checkpoint of step %d (%s) holds weights that are not step %d's, as step %d began: they took step %d's update", ck.Step, ck.Dir, c.at-1, c.at, c.at)
				}
			}
			fatal := fatalError(t, dir)
			if !strings.Contains(fatal, syncErr) {
				t.Errorf("the run's fatal error is %q, want the step's (%q)", fatal, syncErr)
			}
			if errors.Is(closeErr, context.Canceled) {
				t.Errorf("Close: %v: the step's error was taken for the stop's", closeErr)
			}
		})
	}
}

// refusedSink, on the engine's goroutine: as step at begins (its
// sampling) it saves the teacher into step0, as TornSink does; as its
// scoring begins, past the step's look at the context after sampling, it
// cancels the run context (a stop that comes during the step) and fills
// the student's embeddings with NaN, so that its log-probs and the
// rewards are NaN: the step is refused before its optimiser update
// (rlt's finiteRewards), for a reason of its own, not the stop's.
type refusedSink struct{ stepSink }

func (s refusedSink) Emit(ev event.Event) {
	if p, ok := ev.(event.Phase); ok && p.Step == s.at {
		switch p.Name {
		case "sampling":
			s.saveStep0()
		case "scoring":
			s.cancel()
			emb := s.e.Trainer.Student.Embed
			s.e.Backend.Write(emb, slices.Repeat([]float32{float32(math.NaN())}, emb.Len()))
		}
	}
	s.Sink.Emit(ev)
}

// TestAStepRefusedBeforeItsUpdateUnderAStopIsSaid: a step refused before
// its optimiser update (a non-finite reward) while a stop is pending
// failed for a reason of its own, not the stop's. The engine took its
// error for the stop's and dropped it: the run read as cleanly stopped,
// its close returned nil and no fatal error was recorded, though the step
// would fail alike on a resume (it runs again from the run's seed). Now
// its error is the run's, recorded as its fatal error and the close's
// result, as without a stop; the state, the previous step's, is saved.
func TestAStepRefusedBeforeItsUpdateUnderAStopIsSaid(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	const at = 1
	cfg := smallConfig(t, at+2)
	cfg.CheckpointEvery = 0
	dir, rec := createRun(t, cfg)
	runCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	step0 := filepath.Join(t.TempDir(), "step0")
	errs := make(chan error, 4)
	prepare := func(_ context.Context, e *run.Engine) error {
		e.Trainer.Sink = refusedSink{stepSink{Sink: e.Trainer.Sink, e: e, at: at, step0: step0, cancel: cancel, errs: errs}}
		return nil
	}
	closeErr := runAndClose(t, runCtx, rec, cfg, prepare, errs)
	refused := fmt.Sprintf("step %d: group 0 sample 0's reward is NaN", at)
	if closeErr == nil || !strings.Contains(closeErr.Error(), refused) || errors.Is(closeErr, context.Canceled) {
		t.Errorf("Close: %v\nwant the step's refusal (%q)", closeErr, refused)
	}
	fatal := fatalError(t, dir)
	if !strings.Contains(fatal, refused) {
		t.Errorf("the run's fatal error is %q, want the step's refusal (%q)", fatal, refused)
	}
	// Refused before its update, the state is step at-1's, saved.
	cks, err := sessions.Checkpoints(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(cks) != 1 || cks[0].Step != at-1 || cks[0].Err != nil {
		t.Fatalf("checkpoints %+v, want step %d's alone", cks, at-1)
	}
	want := readWeights(t, step0)
	got := readWeights(t, filepath.Join(cks[0].Dir, sessions.TeacherDir))
	if !bytes.Equal(got, want) {
		t.Errorf("the checkpoint of step %d holds weights that are not the teacher's as step %d began", at-1, at)
	}
}
