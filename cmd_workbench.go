package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/rlt-workbench/rlt/engine/defaults"
	"github.com/rlt-workbench/rlt/engine/event"
	runpkg "github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui"
)

// isTerminal reports whether r or w is a character device (a terminal).
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	st, err := file.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

const workbenchUsage = `
Usage: rlt [--runs DIR] [--steps N] [--headless]
       rlt run [--runs DIR] [--steps N] [--config FILE] [--headless]
       rlt run --resume RUNDIR [--steps N] [--headless]

Starts a real RLT run on the embedded default teacher and student (tiny
Qwen2 models warm-started on column addition): GRPO on the RLT reward,
recorded in a new run folder under DIR (default ./runs), shown live in the
workbench (press ? for its keys). q or Ctrl-C stops after the step in
progress; the folder keeps everything written. --resume continues a run
from its latest checkpoint exactly as if it had not stopped.
`

// runWorkbench is the main job: the engine runs in this process, the
// session records it, and on a terminal the workbench shows it live; with
// --headless (or no terminal) progress goes to stderr as lines.
func runWorkbench(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("rlt run", workbenchUsage, stderr)
	runs := fs.String("runs", "runs", "folder that holds run folders")
	steps := fs.Int("steps", 0, "GRPO steps (0 = until interrupted)")
	cfgPath := fs.String("config", "", "TOML run configuration (default: the embedded models' run)")
	headless := fs.Bool("headless", false, "no interactive workbench: progress lines on stderr")
	resume := fs.String("resume", "", "continue the run in this folder from its latest checkpoint")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	dir, err := defaults.Dir()
	if err != nil {
		return err
	}
	if *resume != "" {
		return resumeRun(*resume, *steps, *headless, stdin, stdout, stderr)
	}
	cfg := runpkg.DefaultConfig(filepath.Join(dir, defaults.Teacher), filepath.Join(dir, defaults.Student))
	if *cfgPath != "" {
		data, err := os.ReadFile(*cfgPath)
		if err != nil {
			return err
		}
		if err := sessions.DecodeStrict(*cfgPath, data, &cfg); err != nil {
			return err
		}
	}
	cfg.Steps = *steps
	if err := os.MkdirAll(*runs, 0o755); err != nil {
		return err
	}
	runDir := filepath.Join(*runs, time.Now().Format("20060102-150405"))
	for i := 2; ; i++ { // two runs started in one second get distinct folders
		if _, err := os.Stat(runDir); os.IsNotExist(err) {
			break
		}
		runDir = filepath.Join(*runs, fmt.Sprintf("%s-%d", time.Now().Format("20060102-150405"), i))
	}
	rec, err := sessions.Create(runDir, cfg)
	if err != nil {
		return err
	}
	return drive(rec, cfg, *headless, stdin, stdout, stderr, func(e *runpkg.Engine) error { return nil })
}

// resumeRun reopens a run folder and continues from its latest checkpoint;
// earlier records past that step are superseded and written again.
func resumeRun(dir string, steps int, headless bool, stdin io.Reader, stdout, stderr io.Writer) error {
	var cfg runpkg.Config
	rec, err := sessions.Open(dir, &cfg)
	if err != nil {
		return err
	}
	for _, r := range rec.Repairs() {
		fmt.Fprintf(stderr, "repaired: %s\n", r)
	}
	ck, notes, err := rec.LatestCheckpoint()
	for _, n := range notes {
		fmt.Fprintf(stderr, "%s\n", n)
	}
	if err != nil {
		rec.Close()
		return fmt.Errorf("resume %s: %w", dir, err)
	}
	if steps > 0 {
		cfg.Steps = steps
	}
	return drive(rec, cfg, headless, stdin, stdout, stderr, func(e *runpkg.Engine) error {
		if err := e.LoadCheckpoint(ck.Dir, sessions.ReadTensors); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "resuming %s after step %d\n", dir, ck.Step)
		return rec.Resume(ck.Step)
	})
}

// drive builds the engine on a recorded run, lets prepare restore state,
// runs it (in the workbench on a terminal, else with progress lines) and
// writes a final checkpoint.
func drive(rec *sessions.Run, cfg runpkg.Config, headless bool, stdin io.Reader, stdout, stderr io.Writer, prepare func(*runpkg.Engine) error) error {
	runDir := rec.Dir()
	interactive := !headless && isTerminal(stdin) && isTerminal(stdout)
	var sink event.Sink = rec
	if !interactive {
		sink = teeSink{rec, &jsonlSink{w: io.Discard, progress: stderr}}
	}
	e, err := runpkg.New(cfg, sink)
	if err != nil {
		rec.Close()
		return err
	}
	if err := prepare(e); err != nil {
		rec.Close()
		return err
	}
	lastSaved := -1
	checkpoint := func(step int) error {
		if step == lastSaved {
			return nil
		}
		_, err := rec.SaveCheckpoint(step, func(d string) error {
			extra, err := e.WriteCheckpoint(d, sessions.WriteTensors)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(d, "trainer.json"), extra, 0o644)
		}, sessions.CheckpointState{})
		if err == nil {
			lastSaved = step
		}
		return err
	}
	e.OnCheckpoint = checkpoint
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var runErr error
	if interactive {
		done := make(chan error, 1)
		go func() { done <- e.Run(ctx) }()
		uiErr := ui.Run(ui.Options{Run: rec, Control: e, Steps: cfg.Steps}, nil, nil)
		e.Stop() // quitting the workbench ends the run after the step in progress
		fmt.Fprintf(stderr, "stopping after the current step; run folder %s\n", runDir)
		runErr = <-done
		if uiErr != nil && runErr == nil {
			runErr = uiErr
		}
	} else {
		fmt.Fprintf(stderr, "run folder %s (teacher %s)\nCtrl-C stops after the current step.\n", runDir, cfg.Teacher)
		runErr = e.Run(ctx)
	}
	if e.Trainer.StepIndex() > 0 {
		if err := checkpoint(e.Trainer.StepIndex() - 1); err != nil && runErr == nil {
			runErr = fmt.Errorf("final checkpoint: %w", err)
		}
	}
	if err := rec.Close(); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

// teeSink sends every event to each sink in turn.
type teeSink []event.Sink

func (t teeSink) Emit(e event.Event) {
	for _, s := range t {
		s.Emit(e)
	}
}

const sessionsUsage = `
Usage: rlt sessions [--runs DIR]

Lists the run folders under DIR with their state (running, finished,
stopped, broken), last step, best mean reward, size and creation time.
`

func runSessions(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("rlt sessions", sessionsUsage, stderr)
	runs := fs.String("runs", "runs", "folder that holds run folders")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	list, err := sessions.List(*runs)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%-20s %-9s %6s %12s %10s  %s\n", "RUN", "STATE", "STEP", "BEST REWARD", "SIZE", "CREATED")
	for _, r := range list {
		best := "—"
		if r.BestReward == r.BestReward { // not NaN
			best = fmt.Sprintf("%.4f", r.BestReward)
		}
		step := "—"
		if r.LastStep >= 0 {
			step = fmt.Sprint(r.LastStep)
		}
		fmt.Fprintf(stdout, "%-20s %-9s %6s %12s %10s  %s", r.Name, r.State, step, best, humanBytes(r.Size), r.Created.Format("2006-01-02 15:04"))
		if r.Note != "" {
			fmt.Fprintf(stdout, "  (%s)", r.Note)
		}
		fmt.Fprintln(stdout)
	}
	return nil
}
