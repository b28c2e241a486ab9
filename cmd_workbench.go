package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
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
Usage: rlt [--runs DIR] [--steps N] [--headless] [--mouse]
       rlt run [--runs DIR] [--steps N] [--config FILE] [--headless] [--mouse]
       rlt run --resume RUNDIR [--steps N] [--headless] [--mouse]

Starts a real RLT run on the embedded default teacher and student (tiny
Qwen2 models warm-started on column addition): GRPO on the RLT reward,
recorded in a new run folder under DIR (default ./runs), shown live in the
workbench (press ? for its keys). q or Ctrl-C stops after the step in
progress; the folder keeps everything written. --resume continues a run
from its latest checkpoint exactly as if it had not stopped.

In the workbench, 4 opens the Runs screen: the run folders under DIR and
folders you follow (runs written by other processes, the official RLT
trainer's run folders), where a run is opened read-only, resumed, or
started from a configuration edited in place (the followed folders are
remembered in DIR/.followed.json). Opening another run stops the current
one after its step in progress (with a final checkpoint). ! lists what is
wrong with the open run: broken records with their file and line, a
corrupt checkpoint, a config.toml that does not decode, engine errors.
--mouse lets the mouse wheel scroll lists (and turns off the terminal's
own text selection while the workbench runs).

New runs record absolute model and data paths, so --resume works from any
directory. A checkpoint that cannot be written (a full disk) stops the run
with that error. With --headless, progress whose reader goes away (a closed
pipe) stops the run after its step; the folder stays resumable.
`

// workbench is how the main job was asked to run.
type workbench struct {
	runs     string
	steps    int
	headless bool
	mouse    bool
	models   string // folder of the embedded default models
}

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
	mouse := fs.Bool("mouse", false, "the mouse wheel scrolls lists in the workbench")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return errUsage
	}
	if *headless || !isTerminal(stdin) || !isTerminal(stdout) {
		// Progress goes to stderr, perhaps a pipe whose reader quits
		// (`rlt run --headless 2>&1 | head -1`): a write to it must fail
		// with EPIPE, which stops the run cleanly (progressWriter), not
		// kill the process mid-step.
		signal.Ignore(syscall.SIGPIPE)
	}
	dir, err := defaults.Dir()
	if err != nil {
		return err
	}
	wb := workbench{runs: *runs, steps: *steps, headless: *headless, mouse: *mouse, models: dir}
	if *resume != "" {
		return wb.resumeRun(*resume, stdin, stdout, stderr)
	}
	cfg := wb.defaultConfig()
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
	// Recorded absolute, so `rlt run --resume` works from any directory.
	if cfg, err = cfg.Absolute(); err != nil {
		return err
	}
	runDir, err := newRunDir(*runs)
	if err != nil {
		return err
	}
	rec, err := sessions.Create(runDir, cfg)
	if err != nil {
		return err
	}
	return wb.drive(rec, cfg, stdin, stdout, stderr, noPrepare)
}

func noPrepare(*runpkg.Engine) error { return nil }

// defaultConfig is the run on the embedded models for --steps.
func (wb workbench) defaultConfig() runpkg.Config {
	cfg := runpkg.DefaultConfig(filepath.Join(wb.models, defaults.Teacher), filepath.Join(wb.models, defaults.Student))
	cfg.Steps = wb.steps
	return cfg
}

// newRunDir names a new run folder under runs after the time (creating
// runs if needed); two runs started in one second get distinct folders.
func newRunDir(runs string) (string, error) {
	if err := os.MkdirAll(runs, 0o755); err != nil {
		return "", err
	}
	stamp := time.Now().Format("20060102-150405")
	runDir := filepath.Join(runs, stamp)
	for i := 2; ; i++ {
		if _, err := os.Stat(runDir); os.IsNotExist(err) {
			return runDir, nil
		}
		runDir = filepath.Join(runs, fmt.Sprintf("%s-%d", stamp, i))
	}
}

// openForResume takes the lock of a run folder and finds its latest
// checkpoint; notes are what opening repaired or skipped.
func openForResume(dir string) (*sessions.Run, runpkg.Config, sessions.Checkpoint, []string, error) {
	var cfg runpkg.Config
	if src, ok := sessions.ImportedFrom(dir); ok {
		return nil, cfg, sessions.Checkpoint{}, nil, fmt.Errorf("resume %s: it was imported from %s and has no training configuration or checkpoint to continue from; open it read-only to review and export it, or re-score it with `rlt score --run %s`", dir, src.Source, dir)
	}
	rec, err := sessions.Open(dir, &cfg)
	if err != nil {
		return nil, cfg, sessions.Checkpoint{}, nil, err
	}
	var notes []string
	for _, r := range rec.Repairs() {
		notes = append(notes, "repaired: "+r)
	}
	ck, skipped, err := rec.LatestCheckpoint()
	notes = append(notes, skipped...)
	if err != nil {
		rec.Close()
		return nil, cfg, ck, notes, fmt.Errorf("resume %s: %w", dir, err)
	}
	return rec, cfg, ck, notes, nil
}

// restoreFrom loads checkpoint ck into the engine and marks the records
// after it superseded.
func restoreFrom(rec *sessions.Run, ck sessions.Checkpoint) func(*runpkg.Engine) error {
	return func(e *runpkg.Engine) error {
		if err := e.LoadCheckpoint(ck.Dir, sessions.ReadTensors); err != nil {
			return err
		}
		return rec.Resume(ck.Step)
	}
}

// resumeRun reopens a run folder and continues from its latest checkpoint;
// earlier records past that step are superseded and written again.
func (wb workbench) resumeRun(dir string, stdin io.Reader, stdout, stderr io.Writer) error {
	rec, cfg, ck, notes, err := openForResume(dir)
	for _, n := range notes {
		fmt.Fprintf(stderr, "%s\n", n)
	}
	if err != nil {
		return err
	}
	if wb.steps > 0 {
		cfg.Steps = wb.steps
	}
	return wb.drive(rec, cfg, stdin, stdout, stderr, func(e *runpkg.Engine) error {
		if err := restoreFrom(rec, ck)(e); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "resuming %s after step %d\n", dir, ck.Step)
		return nil
	})
}

// drive builds the engine on a recorded run, lets prepare restore state,
// runs it (in the workbench on a terminal, else with progress lines) and
// writes a final checkpoint.
func (wb workbench) drive(rec *sessions.Run, cfg runpkg.Config, stdin io.Reader, stdout, stderr io.Writer, prepare func(*runpkg.Engine) error) error {
	runDir := rec.Dir()
	interactive := !wb.headless && isTerminal(stdin) && isTerminal(stdout)
	var sink event.Sink = rec
	progress := &progressWriter{w: stderr}
	if !interactive {
		sink = teeSink{sink, &jsonlSink{w: io.Discard, progress: progress}}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	h, err := startEngine(ctx, rec, cfg, sink, prepare)
	if err != nil {
		return err
	}
	if !interactive {
		progress.onFail(func(err error) {
			h.stopWith(fmt.Errorf("%w: stopped after the step in progress; the run folder %s is complete (rlt run --resume continues it)", err, runDir))
		})
		fmt.Fprintf(progress, "run folder %s (teacher %s)\nCtrl-C stops after the current step.\n", runDir, cfg.Teacher)
		h.wait()
		return h.Close() // why the run stopped early first, then the engine's, the final checkpoint's and the folder's errors
	}
	l := &launcher{ctx: ctx, wb: wb}
	l.wrote(runDir)
	err = ui.Run(ui.Options{Run: rec, Control: h.e, Steps: cfg.Steps, Close: h.Close,
		Launcher: l, RunsDir: wb.runs, Mouse: wb.mouse}, nil, nil)
	// The workbench has ended every run it opened (their errors are in
	// err); this Close only returns at once.
	h.Close()
	for _, d := range l.written() {
		fmt.Fprintf(stderr, "run folder %s\n", d)
	}
	return err
}

// engineRun is an engine driving a recorded run on its own goroutine.
type engineRun struct {
	rec       *sessions.Run
	e         *runpkg.Engine
	sink      event.Sink // the engine's
	done      chan error
	waitOnce  sync.Once
	runErr    error
	closeOnce sync.Once
	closeErr  error
	lastSaved int // step of the newest checkpoint written (-1: none)

	mu      sync.Mutex
	stopErr error // why the driver stopped the engine early (a checkpoint that failed …); the run's result
}

// startEngine builds the engine on rec (sink gets its events), lets
// prepare restore state, and starts it. On error rec is closed.
func startEngine(ctx context.Context, rec *sessions.Run, cfg runpkg.Config, sink event.Sink, prepare func(*runpkg.Engine) error) (*engineRun, error) {
	e, err := runpkg.New(cfg, sink)
	if err != nil {
		rec.Close()
		return nil, err
	}
	if err := prepare(e); err != nil {
		rec.Close()
		return nil, err
	}
	r := &engineRun{rec: rec, e: e, sink: sink, done: make(chan error, 1), lastSaved: -1}
	e.OnCheckpoint = r.onCheckpoint
	go func() { r.done <- e.Run(ctx) }()
	return r, nil
}

// checkpoint saves the engine's state after step (once per step). It runs
// on the engine's goroutine, or after the engine has returned.
func (r *engineRun) checkpoint(step int) error {
	if step == r.lastSaved {
		return nil
	}
	_, err := r.rec.SaveCheckpoint(step, func(d string) error {
		extra, err := r.e.WriteCheckpoint(d, sessions.WriteTensors)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(d, "trainer.json"), extra, 0o644)
	}, sessions.CheckpointState{})
	if err == nil {
		r.lastSaved = step
	}
	return err
}

// onCheckpoint is the engine's OnCheckpoint. A checkpoint that cannot be
// written (a full disk, an I/O error) stops the run after this step: the
// steps after it could not be resumed, and the records waiting for the
// disk would pile up. The error is recorded as the run's fatal error (the
// workbench shows the run as failed) and is the run's result (Close
// returns it; rlt prints it on exit).
func (r *engineRun) onCheckpoint(step int) error {
	err := r.checkpoint(step)
	if err == nil {
		return nil
	}
	err = fmt.Errorf("checkpoint of step %d failed, so the run stops: %w", step, err)
	r.sink.Emit(event.Error{Time: time.Now(), Step: step, Err: err, Fatal: true})
	r.stopWith(err)
	// Reported above as the fatal error; returned, the engine would report
	// it a second time as a non-fatal one.
	return nil
}

// stopWith stops the engine after the step in progress, keeping err as the
// run's result (the first reason given wins).
func (r *engineRun) stopWith(err error) {
	r.mu.Lock()
	first := r.stopErr == nil
	if first {
		r.stopErr = err
	}
	r.mu.Unlock()
	if first {
		r.e.Stop()
	}
}

// wait waits for the engine to return and gives its error.
func (r *engineRun) wait() error {
	r.waitOnce.Do(func() { r.runErr = <-r.done })
	return r.runErr
}

// Close stops the engine after the step in progress, waits for it, writes
// the final checkpoint and closes the run folder. Later calls return the
// first one's error.
func (r *engineRun) Close() error {
	r.closeOnce.Do(func() {
		r.e.Stop()
		errs := []error{r.wait()}
		r.mu.Lock()
		errs = append([]error{r.stopErr}, errs...)
		r.mu.Unlock()
		// The final checkpoint is tried even after one failed: the disk
		// may have room again.
		if n := r.e.Trainer.StepIndex(); n > 0 {
			if cerr := r.checkpoint(n - 1); cerr != nil {
				errs = append(errs, fmt.Errorf("final checkpoint: %w", cerr))
			}
		}
		errs = append(errs, r.rec.Close())
		r.closeErr = errors.Join(errs...)
	})
	return r.closeErr
}

// launcher is the workbench's ui.Launcher: it starts and resumes runs
// with the engine in this process and opens runs read-only, so the ui
// package never wires an engine itself.
type launcher struct {
	ctx context.Context // cancelled on SIGINT/SIGTERM: every engine stops
	wb  workbench

	mu   sync.Mutex
	dirs []string // run folders this process wrote, in order
}

func (l *launcher) wrote(dir string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !slices.Contains(l.dirs, dir) {
		l.dirs = append(l.dirs, dir)
	}
}

func (l *launcher) written() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.dirs)
}

// NewConfig implements ui.Launcher: the run on the embedded models.
func (l *launcher) NewConfig() ([]byte, error) { return sessions.EncodeTOML(l.wb.defaultConfig()) }

// decode reads an edited configuration over the defaults (a key left out
// keeps its default), validates it and checks that the model folders are
// there; every problem is a *sessions.ConfigError naming its line.
func (l *launcher) decode(data []byte) (runpkg.Config, error) {
	cfg := l.wb.defaultConfig()
	if err := sessions.DecodeStrict(sessions.ConfigFile, data, &cfg); err != nil {
		return cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return cfg, locateValidation(data, err)
	}
	var errs []error
	for _, m := range []struct{ key, dir string }{{"teacher", cfg.Teacher}, {"student", cfg.Student}} {
		if _, err := os.Stat(filepath.Join(m.dir, "config.json")); err != nil {
			line, _ := keyLine(data, "", m.key)
			errs = append(errs, &sessions.ConfigError{File: sessions.ConfigFile, Line: max(line, 1), Column: 1, Key: m.key,
				Msg: fmt.Sprintf("%s %q is not a model folder (no config.json)", m.key, m.dir), Err: err})
		}
	}
	return cfg, errors.Join(errs...)
}

// Check implements ui.Launcher.
func (l *launcher) Check(data []byte) error {
	_, err := l.decode(data)
	return err
}

// Start implements ui.Launcher: a new run folder under the runs folder,
// its config.toml the resolved configuration, the engine started on it.
func (l *launcher) Start(data []byte) (*ui.Session, error) {
	cfg, err := l.decode(data)
	if err != nil {
		return nil, err
	}
	// Recorded absolute, so `rlt run --resume` works from any directory.
	if cfg, err = cfg.Absolute(); err != nil {
		return nil, err
	}
	dir, err := newRunDir(l.wb.runs)
	if err != nil {
		return nil, err
	}
	rec, err := sessions.Create(dir, cfg)
	if err != nil {
		return nil, err
	}
	h, err := startEngine(l.ctx, rec, cfg, rec, noPrepare)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", dir, err)
	}
	l.wrote(dir)
	return &ui.Session{Run: rec, Control: h.e, Steps: cfg.Steps, Close: h.Close,
		Notes: []string{"saved " + filepath.Join(dir, sessions.ConfigFile) + " and started the run"}}, nil
}

// Resume implements ui.Launcher: the run continues from its latest
// checkpoint for the steps its config.toml asks for.
func (l *launcher) Resume(dir string) (*ui.Session, error) {
	rec, cfg, ck, notes, err := openForResume(dir)
	if err != nil {
		return nil, errors.Join(append([]error{err}, noteErrors(notes)...)...)
	}
	h, err := startEngine(l.ctx, rec, cfg, rec, restoreFrom(rec, ck))
	if err != nil {
		return nil, fmt.Errorf("resume %s: %w", dir, err)
	}
	l.wrote(dir)
	notes = append(notes, fmt.Sprintf("resumed %s after step %d", filepath.Base(dir), ck.Step))
	return &ui.Session{Run: rec, Control: h.e, Steps: cfg.Steps, Close: h.Close, Notes: notes}, nil
}

func noteErrors(notes []string) []error {
	out := make([]error, len(notes))
	for i, n := range notes {
		out[i] = errors.New(n)
	}
	return out
}

// OpenReadOnly implements ui.Launcher: one of our run folders is followed
// without its lock (another process may be writing it); an official
// trainer's folder is imported and followed (see openOfficial). What is
// wrong with the folder does not stop it from opening: a config.toml that
// does not decode is kept as a problem (with its line), broken records and
// checkpoints passed over are in the store's issues; the workbench lists
// them all (!) and shows the rest.
func (l *launcher) OpenReadOnly(dir string) (*ui.Session, error) {
	if _, err := os.Stat(filepath.Join(dir, sessions.ConfigFile)); err != nil {
		if _, oerr := os.Stat(dir); oerr != nil {
			return nil, oerr
		}
		return openOfficial(l.ctx, dir)
	}
	rec, err := sessions.OpenReadOnly(dir)
	if err != nil {
		return nil, err
	}
	s := &ui.Session{Run: rec, ReadOnly: true, Close: rec.Close}
	var cfg runpkg.Config
	if err := rec.DecodeConfig(&cfg); err == nil {
		s.Steps = cfg.Steps
	} else if imp, ok := importConfig(rec); ok {
		s.Notes = append(s.Notes, fmt.Sprintf("imported from %s (%s)", imp.Source, imp.Format))
	} else {
		s.Problems = append(s.Problems, err)
		s.Notes = append(s.Notes, sessions.ConfigFile+" does not decode: shown without its settings")
	}
	// Checkpoints passed over (unfinished, truncated, corrupt) become the
	// store's issues; having none at all is no problem (an import, a run
	// stopped before its first).
	rec.LatestCheckpoint()
	return s, nil
}

// importConfig decodes the config.toml of a run made by rlt import.
func importConfig(rec *sessions.Run) (sessions.ImportSource, bool) {
	var ic sessions.ImportConfig
	if err := rec.DecodeConfig(&ic); err != nil || ic.Import.Format == "" {
		return ic.Import, false
	}
	return ic.Import, true
}

// openOfficial shows an official RLT trainer's run folder: sessions.Import
// turns it into a run folder in a temporary directory (questions and
// solutions parsed from the teacher prompts, explanations extracted, the
// trainer's reward kept as the source reward, every row left out listed
// with its file and line), which is opened read-only and followed. While
// the trainer writes, its folder is imported again whenever its files
// change and what is new is appended to that run folder (followOfficial).
// The trainer's folder is only read; the copy is removed on Close.
// (trainer_state.json is rewritten whole, so it cannot be tailed like our
// JSON Lines files.)
func openOfficial(ctx context.Context, dir string) (*ui.Session, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "rlt-official-*")
	if err != nil {
		return nil, err
	}
	live := filepath.Join(tmp, filepath.Base(abs))
	sig := officialSignature(abs)
	rep, err := sessions.Import(live, abs)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	rec, err := sessions.OpenReadOnly(live)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		followOfficial(ctx, abs, live, tmp, sig, time.Second)
	}()
	closeFn := func() error {
		cancel()
		<-done
		err := rec.Close()
		return errors.Join(err, os.RemoveAll(tmp))
	}
	notes := []string{fmt.Sprintf("imported %d traces and %d metric records of %s", rep.Traces, rep.Metrics, abs)}
	if rep.Skipped > 0 {
		notes = append(notes, fmt.Sprintf("%d rows left out", rep.Skipped))
	}
	notes = append(notes, "following it (official trainer run, read-only)")
	return &ui.Session{Run: rec, ReadOnly: true, Close: closeFn, Notes: notes}, nil
}

// followOfficial imports the official folder src again whenever its files
// change (after sig, the state the first import read) and appends what is
// new to the imported run folder live, whose read-only Run follows it. An
// import that fails (the trainer rewriting trainer_state.json, perhaps) is
// tried once more; failing twice on the same files, it is reported as an
// error event of live and tried again when the files change.
func followOfficial(ctx context.Context, src, live, tmp, sig string, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	failed := ""
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s := officialSignature(src)
		if s == sig {
			continue
		}
		stage := filepath.Join(tmp, fmt.Sprintf(".import-%d", n))
		_, err := sessions.Import(stage, src)
		if err == nil {
			err = mergeImport(live, stage)
		}
		os.RemoveAll(stage)
		switch {
		case err == nil:
			sig, failed = s, ""
		case s != failed:
			failed = s // once more on the next tick
		default:
			sig = s // wait for the files to change
			appendLines(filepath.Join(live, sessions.EventsFile), eventLine(sessions.EventRecord{Time: time.Now().UTC(),
				Kind: sessions.KindError, Error: fmt.Sprintf("importing %s again: %v (tried again when its files change)", src, err)}))
		}
	}
}

// mergeImport appends to the run folder live what the run folder stage (a
// newer import of the same source) has that live has not: metric records
// of new steps and new values of known steps, traces with new IDs, rows
// left out and notes not reported yet.
func mergeImport(live, stage string) error {
	if err := mergeMetrics(filepath.Join(live, sessions.MetricsFile), filepath.Join(stage, sessions.MetricsFile)); err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(stage, sessions.TracesDir, "*.jsonl"))
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := appendNew(filepath.Join(live, sessions.TracesDir, filepath.Base(f)), f, traceKey); err != nil {
			return err
		}
	}
	return appendNew(filepath.Join(live, sessions.EventsFile), filepath.Join(stage, sessions.EventsFile), eventKey)
}

// readLines calls fn with each whole line of a JSON Lines file (none if
// the file does not exist).
func readLines(path string, fn func(raw []byte)) error {
	_, err := sessions.ReadLog(path, func(_ int, raw []byte) error { fn(raw); return nil })
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// appendNew appends to dst the lines of src whose key is new to dst (a
// line whose key is "" is never appended).
func appendNew(dst, src string, key func(raw []byte) string) error {
	have := map[string]bool{}
	if err := readLines(dst, func(raw []byte) { have[key(raw)] = true }); err != nil {
		return err
	}
	var add []byte
	err := readLines(src, func(raw []byte) {
		if k := key(raw); k != "" && !have[k] {
			have[k] = true
			add = append(append(add, raw...), '\n')
		}
	})
	if err != nil {
		return err
	}
	return appendLines(dst, add)
}

// appendLines appends whole lines to a file in one write (the follower of
// a read-only Run reads them as they come).
func appendLines(path string, lines []byte) error {
	if len(lines) == 0 {
		return nil
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(lines)
	return errors.Join(err, f.Close())
}

func eventLine(e sessions.EventRecord) []byte {
	b, err := json.Marshal(e)
	if err != nil {
		return nil
	}
	return append(b, '\n')
}

// traceKey is a trace line's ID.
func traceKey(raw []byte) string {
	var t struct {
		ID string `json:"id"`
	}
	json.Unmarshal(raw, &t)
	return t.ID
}

// eventKey keys the events a re-import may add (rows left out, notes,
// errors) by their content without the time; other events are never
// appended again.
func eventKey(raw []byte) string {
	var e sessions.EventRecord
	if json.Unmarshal(raw, &e) != nil {
		return ""
	}
	switch {
	case e.Kind == sessions.KindSkipped, e.Kind == sessions.KindError, e.Kind == sessions.KindImport && e.Dir == "" && e.Extra != "":
		e.Time = time.Time{}
		b, _ := json.Marshal(e)
		return string(b)
	}
	return ""
}

// mergeMetrics appends the metric records of src for steps dst has not,
// and, for steps it has, a record with only the values it lacks (an
// evaluation logged after the step's training values).
func mergeMetrics(dst, src string) error {
	type rec struct {
		Step   int                        `json:"step"`
		Time   time.Time                  `json:"time"`
		Values map[string]json.RawMessage `json:"values"`
	}
	have := map[int]map[string]bool{}
	err := readLines(dst, func(raw []byte) {
		var r rec
		if json.Unmarshal(raw, &r) != nil {
			return
		}
		if have[r.Step] == nil {
			have[r.Step] = map[string]bool{}
		}
		for k := range r.Values {
			have[r.Step][k] = true
		}
	})
	if err != nil {
		return err
	}
	var add []byte
	err = readLines(src, func(raw []byte) {
		var r rec
		if json.Unmarshal(raw, &r) != nil {
			return
		}
		known := have[r.Step]
		if known == nil {
			have[r.Step] = map[string]bool{}
			for k := range r.Values {
				have[r.Step][k] = true
			}
			add = append(append(add, raw...), '\n')
			return
		}
		fresh := map[string]json.RawMessage{}
		for k, v := range r.Values {
			if !known[k] {
				fresh[k], known[k] = v, true
			}
		}
		if len(fresh) == 0 {
			return
		}
		r.Values = fresh
		if b, err := json.Marshal(r); err == nil {
			add = append(append(add, b...), '\n')
		}
	})
	if err != nil {
		return err
	}
	return appendLines(dst, add)
}

// officialSignature changes whenever a file the import reads changes.
func officialSignature(dir string) string {
	var b strings.Builder
	for _, pat := range []string{"trainer_state.json", "checkpoint-*/trainer_state.json", "stored_completions/*.csv"} {
		matches, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, m := range matches {
			if st, err := os.Stat(m); err == nil {
				fmt.Fprintf(&b, "%s:%d:%d;", m, st.Size(), st.ModTime().UnixNano())
			}
		}
	}
	return b.String()
}

// keyLine finds the line (1-based) of key in [table] ("" = top level) of
// a TOML text; without the key, the table's header line and false (0 if
// there is none either).
func keyLine(data []byte, table, key string) (int, bool) {
	cur, header := "", 0
	for i, raw := range strings.Split(string(data), "\n") {
		l := strings.TrimSpace(raw)
		if strings.HasPrefix(l, "[") {
			cur = strings.TrimSpace(strings.Trim(l, "[]"))
			if cur == table && header == 0 {
				header = i + 1
			}
			continue
		}
		if cur != table || key == "" {
			continue
		}
		if k, _, ok := strings.Cut(l, "="); ok && strings.Trim(strings.TrimSpace(k), `"'`) == key {
			return i + 1, true
		}
	}
	return header, false
}

// keyValue is the value after "=" on a line, without a trailing comment.
func keyValue(data []byte, line int) string {
	lines := strings.Split(string(data), "\n")
	if line < 1 || line > len(lines) {
		return ""
	}
	_, v, _ := strings.Cut(lines[line-1], "=")
	v = strings.TrimSpace(v)
	if v != "" && (v[0] == '\'' || v[0] == '"') {
		if i := strings.IndexByte(v[1:], v[0]); i >= 0 {
			return v[:i+2]
		}
		return v
	}
	v, _, _ = strings.Cut(v, "#")
	return strings.TrimSpace(v)
}

var keyWord = regexp.MustCompile(`[a-z][a-z0-9_]*`)

// locateValidation puts an error of Config.Validate ("grpo: temperature 0
// must be positive") on the line of a key of its table that it names, so
// the editor can show it there: of the keys named, the culprit when the
// message names several, else the first; else the table's header; else
// line 1.
func locateValidation(data []byte, err error) error {
	msg := err.Error()
	table, rest := "", msg
	if p, r, ok := strings.Cut(msg, ": "); ok {
		switch p {
		case "grpo", "reward":
			table, rest = p, r
		case "run":
			rest = r
		}
	}
	type cand struct {
		line int
		key  string
	}
	var cands []cand
	for _, w := range keyWord.FindAllString(rest, -1) {
		for _, k := range []string{w, w + "s"} { // "1 sample" names samples
			if l, ok := keyLine(data, table, k); ok {
				cands = append(cands, cand{l, k})
				break
			}
		}
	}
	// A message about several keys ("… must not be negative", "… are
	// required") is put on the one whose value is the culprit.
	culprit := func(v string) bool {
		switch {
		case strings.Contains(rest, "negative"):
			return strings.HasPrefix(v, "-")
		case strings.Contains(rest, "required"):
			return v == "''" || v == `""`
		}
		return false
	}
	line, key := 0, ""
	if len(cands) > 0 {
		pick := cands[0]
		for _, c := range cands {
			if culprit(keyValue(data, c.line)) {
				pick = c
				break
			}
		}
		line, key = pick.line, pick.key
	}
	if line == 0 {
		line, _ = keyLine(data, table, "")
	}
	if table != "" && key != "" {
		key = table + "." + key
	}
	return &sessions.ConfigError{File: sessions.ConfigFile, Line: max(line, 1), Column: 1, Key: key, Msg: msg, Err: err}
}

// teeSink sends every event to each sink in turn.
type teeSink []event.Sink

func (t teeSink) Emit(e event.Event) {
	for _, s := range t {
		s.Emit(e)
	}
}

// progressWriter passes headless progress lines on until a write fails:
// the reader of the pipe went away (`rlt run --headless 2>&1 | head -1`;
// SIGPIPE is ignored, so the write returns EPIPE). The run is then stopped
// after the step in progress, with its final checkpoint, so its folder is
// complete and resumable, and what follows is dropped.
type progressWriter struct {
	mu     sync.Mutex
	w      io.Writer
	err    error
	failed func(error)
}

func (p *progressWriter) Write(b []byte) (int, error) {
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

// onFail sets what a failed write does (at once if one failed already).
func (p *progressWriter) onFail(f func(error)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failed = f
	if p.err != nil {
		f(p.err)
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
