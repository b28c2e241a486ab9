package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/sessions"
)

// TeeSink sends every event to each sink in turn.
type TeeSink []event.Sink

// Emit implements event.Sink.
func (t TeeSink) Emit(e event.Event) {
	for _, s := range t {
		s.Emit(e)
	}
}

// JSONLSink writes step metrics as JSON Lines to W and a progress line per
// step, evaluation and error to Progress (rlt train, rlt run --headless),
// and, within long steps, where the step is (event.Progress: phase, count,
// rate, ETA): the first such line of a run, then at most one per
// HeadlessProgressEvery of the events' clock.
type JSONLSink struct {
	W, Progress io.Writer

	mu       sync.Mutex
	err      error
	throttle Throttle
}

// HeadlessProgressEvery is the least time between two lines of progress
// within a step on a headless run's stderr: a step of a few seconds prints
// none past its first, a minute-long one a dozen.
const HeadlessProgressEvery = 5 * time.Second

// Throttle holds progress lines to headless runs' rule, on the caller's
// clock: the first passes, then at most one per HeadlessProgressEvery. A
// run's stderr (JSONLSink) and rlt score's keep to it, so a long command
// says where it is a dozen times a minute, not once per batch or token.
// The zero Throttle passes its first line.
type Throttle struct {
	shown bool
	last  time.Time
}

// Pass says whether a line at now is printed, and if so counts it as the
// last printed. A line that must be printed (a command's last) is printed
// without asking.
func (t *Throttle) Pass(now time.Time) bool {
	if t.shown && now.Sub(t.last) < HeadlessProgressEvery {
		return false
	}
	t.shown, t.last = true, now
	return true
}

// ProgressLine is how headless runs print an event.Progress: "step 3
// sampling 34/96 tokens · 12.3 tokens/s · ETA 5s" ("starting" while
// loading: a resume's next step is not step 0).
func ProgressLine(p event.Progress) string {
	if p.Step < 0 {
		return "starting  " + p.String()
	}
	return fmt.Sprintf("step %d  %s", p.Step, p.String())
}

// Err is the first failed write of the metrics.
func (s *JSONLSink) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Emit implements event.Sink.
func (s *JSONLSink) Emit(e event.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch e := e.(type) {
	case event.Metrics:
		rec := map[string]any{"step": e.Step}
		for k, v := range e.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				rec[k] = fmt.Sprint(v) // JSON has no NaN
			} else {
				rec[k] = v
			}
		}
		b, err := json.Marshal(rec)
		if err == nil {
			_, err = s.W.Write(append(b, '\n'))
		}
		if err != nil && s.err == nil {
			s.err = fmt.Errorf("writing metrics: %w", err)
		}
		if r, ok := e.Values["reward"]; ok {
			fmt.Fprintf(s.Progress, "step %d  reward %.3f  r_ss %.3f  r_kl %.3f  kl %.4f  %.1fs", e.Step, r,
				record.StepRSS.Of(e.Values), record.StepRKL.Of(e.Values), e.Values["kl"], e.Values["step_time_s"])
			// What the step held, where it was measured: the process's
			// peak resident memory, the GPU's most in the step.
			if m, ok := e.Values["memory_host_peak_gib"]; ok {
				fmt.Fprintf(s.Progress, "  mem %.2f GiB", m)
			}
			if m, ok := e.Values["memory_device_peak_gib"]; ok {
				fmt.Fprintf(s.Progress, "  gpu %.2f GiB", m)
			}
			fmt.Fprintln(s.Progress)
		} else {
			keys := make([]string, 0, len(e.Values))
			for k := range e.Values {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			fmt.Fprintf(s.Progress, "step %d  eval", e.Step)
			for _, k := range keys {
				fmt.Fprintf(s.Progress, "  %s %.3f", k, e.Values[k])
			}
			fmt.Fprintln(s.Progress)
		}
	case event.Device: // which device computes, and in what precision
		fmt.Fprintf(s.Progress, "device: %s\n", e.DeviceChoice)
	case event.Progress:
		if !s.throttle.Pass(e.Time) {
			return
		}
		fmt.Fprintln(s.Progress, ProgressLine(e))
	case event.Error:
		var w *run.DataWarning
		if e.Fatal {
			// The run's own result: the command says it as it exits
			// (with the step), after the final checkpoint's line.
			return
		}
		if errors.As(e.Err, &w) {
			fmt.Fprintf(s.Progress, "warning: %v\n", e.Err)
		} else {
			fmt.Fprintf(s.Progress, "step %d: error: %v\n", e.Step, e.Err)
		}
	}
}

// ProgressWriter passes headless progress lines on until a write fails:
// the reader of the pipe went away (`rlt run --headless 2>&1 | head -1`;
// SIGPIPE is ignored, so the write returns EPIPE). The run is then stopped
// after the step in progress, with its final checkpoint, so its folder is
// complete and resumable, and what follows is dropped.
type ProgressWriter struct {
	mu     sync.Mutex
	w      io.Writer
	err    error
	failed func(error)
}

// NewProgressWriter writes to w.
func NewProgressWriter(w io.Writer) *ProgressWriter { return &ProgressWriter{w: w} }

func (p *ProgressWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return 0, p.err
	}
	n, err := p.w.Write(b)
	if err != nil {
		p.err = fmt.Errorf("progress output: %w", err)
		if p.failed != nil {
			p.failed(p.err)
		}
	}
	return n, err
}

// OnFail sets what a failed write does (at once if one failed already).
func (p *ProgressWriter) OnFail(f func(error)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failed = f
	if p.err != nil {
		f(p.err)
	}
}

// Headless runs the engine on rec with progress lines on w until the run
// ends, is stopped (ctx: the first stop signal) or the progress reader
// goes away, then writes the final checkpoint and closes the folder. Its
// error says why the run stopped early first, then the engine's, the
// final checkpoint's and the folder's. ctx is Start's load context only: a
// stop while the models load (or a resume's checkpoint) is Start's
// *run.LoadStopped, whatever the steps: rlt run says it, with the run
// folder and how it goes on, in the words it says its workbench's stopped
// load in, and exits 1, as every command stopped while its models load
// does. Once the engine runs, it runs on a context no signal ends, as the
// workbench's: ctx's end stops it after the step in progress (said at
// once on w), whose checkpoint the close writes. ctx was its run context
// too: the first signal cut the step in progress (Trainer.Step heeds it),
// so that a run stopped in its step 0 had no checkpoint, yet was said
// complete, "rlt run --resume continues it", which refused it.
func Headless(ctx context.Context, rec *sessions.Run, checked run.Checked, prepare Prepare, w io.Writer) error {
	// Stopped since the run was made, it is removed again and said as
	// Start says it, its folder never named.
	if err := stoppedSinceMade(ctx, rec); err != nil {
		return err
	}
	progress := NewProgressWriter(w)
	sink := TeeSink{rec, &JSONLSink{W: io.Discard, Progress: progress}}
	runDir := rec.Dir()
	// The folder first: loading the models (Start) already shows progress.
	fmt.Fprintf(progress, "run folder %s (teacher %s)\nCtrl-C stops after the current step; a second Ctrl-C leaves at once, without waiting for it.\n", runDir, checked.Config().Teacher)
	h, err := Start(ctx, context.Background(), rec, checked, sink, prepare)
	if err != nil {
		// A stop while the models loaded is left to the caller to say:
		// its words here told a new run, which has no checkpoint, that
		// rlt run --resume continues it, which refuses it.
		return err
	}
	h.SayHeldSaves(progress, ctx) // a signal during a checkpoint's save, said at once
	progress.OnFail(func(err error) {
		h.StopAfterAStep(fmt.Errorf("%w: stopped after the step in progress; the run folder %s is complete (%s run --resume continues it)", err, runDir, sessions.Program()))
	})
	// The first signal, once the engine runs: its step in progress ends,
	// said at once (a step of minutes, with nothing said, read as the
	// signal ignored, and the user's second one lost it).
	stopAfterStep := StopAfterTheStep(ctx, h.e, progress, StoppingAfterTheStep)
	h.Wait()
	stopAfterStep()
	done := h.e.Trainer.StepIndex()
	err = h.Close()
	steps := checked.Config().Steps
	if err != nil || ctx.Err() == nil || steps > 0 && done >= steps {
		// Its planned steps done, the final checkpoint written: finished,
		// exit 0, a signal during its last step or its final checkpoint
		// too (that step was not cut; it said "stopped by a signal after
		// 1 of 1 step", exit 1).
		if err == nil {
			fmt.Fprint(progress, Finished(runDir, done, steps))
		}
		return err
	}
	// Stopped by a signal before its first step (it came as the engine
	// began): the run has no checkpoint, and says so, with how it goes on,
	// exit 1 whatever the steps; it was said complete, "rlt run --resume
	// continues it", which refuses it.
	if done == 0 {
		return fmt.Errorf("%s: run folder %s: %s", StoppedBySignal(0, steps, "step"), runDir, sessions.ContinueLine(runDir))
	}
	// Stopped by a signal: said, and before the planned steps an error
	// (exit 1), so `rlt run --headless --steps N && next` stops there as
	// rlt train does; steps 0 (until interrupted) ends as planned.
	cont := fmt.Sprintf("the run folder %s is complete: %s run --resume %s continues it", runDir, sessions.Program(), sessions.ShellQuote(runDir))
	if steps > 0 {
		return fmt.Errorf("%s; %s", StoppedBySignal(done, steps, "step"), cont)
	}
	fmt.Fprintf(progress, "%s; %s\n", StoppedBySignal(done, steps, "step"), cont)
	return nil
}

// StoppingAfterTheStep is what rlt run --headless says on its first stop
// signal once its engine runs: it ends the step in progress and writes
// its checkpoint, which a second signal does not wait for.
const StoppingAfterTheStep = "stop signal: stopping after the step in progress, once its checkpoint is written; a second signal leaves at once, without them"

// StopAfterTheStep has the first stop signal (ctx's end) stop e, which
// runs on a context no signal ends, after its step in progress, said at
// once on w (said: a step of minutes, with nothing said, read as the
// signal ignored); rlt run --headless (Headless) and rlt train stop so.
// end stops the watch; once it returns, nothing more is said on w by it
// (a signal as the run ended was said after its last line).
func StopAfterTheStep(ctx context.Context, e *run.Engine, w io.Writer, said string) (end func()) {
	ran := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(ran)
		fmt.Fprintln(w, said)
		e.Stop()
	})
	return func() {
		if !stop() && ctx.Err() != nil {
			<-ran
		}
	}
}

// Finished is what rlt run --headless says once its run did its planned
// steps (done of steps) and closed: the steps, the run folder and its last
// checkpoint (the final one, after step done−1), then the commands a
// researcher runs next on it, its folder quoted for the shell: review it
// (rlt open), rescore its traces (rlt score --run), export the accepted
// ones (rlt export). It said nothing: its last line was its last step's.
func Finished(runDir string, done, steps int) string {
	ck := "no checkpoint (no step done)"
	if done > 0 {
		ck = "its last checkpoint " + sessions.CheckpointDir(runDir, done-1)
	}
	q := sessions.ShellQuote(runDir)
	return fmt.Sprintf("finished %d of %s; the run folder %s is complete, %s\nnext: "+sessions.Program()+" open %s reviews its traces · "+sessions.Program()+" score --run %s --write > scores.jsonl rescores them · "+sessions.Program()+" export --run %s writes the accepted ones\n",
		done, count(steps, "step"), runDir, ck, q, q, q)
}

// StoppedBySignal says how far a command stopped by a signal had come,
// done of its steps (0 planned: until interrupted), unit naming one
// ("step", "student step"): "stopped by a signal before its first step"
// where it had done none (it read "after 0 of 1 steps"), else "… after 3
// of 20 steps" ("after 3 steps" for a run until interrupted). rlt run
// --headless, rlt train and rlt distill say it so.
func StoppedBySignal(done, steps int, unit string) string {
	switch {
	case done == 0:
		return "stopped by a signal before its first " + unit
	case steps > 0:
		return fmt.Sprintf("stopped by a signal after %d of %s", done, count(steps, unit))
	}
	return "stopped by a signal after " + count(done, unit)
}

// count is "1 unit" or "N units".
func count(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
