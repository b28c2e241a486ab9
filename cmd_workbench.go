package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
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
started from a configuration edited in place. Opening another run stops
the current one after its step in progress (with a final checkpoint).
--mouse lets the mouse wheel scroll lists (and turns off the terminal's
own text selection while the workbench runs).
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
	if !interactive {
		sink = teeSink{rec, &jsonlSink{w: io.Discard, progress: stderr}}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	h, err := startEngine(ctx, rec, cfg, sink, prepare)
	if err != nil {
		return err
	}
	if !interactive {
		fmt.Fprintf(stderr, "run folder %s (teacher %s)\nCtrl-C stops after the current step.\n", runDir, cfg.Teacher)
		h.wait()
		return h.Close() // the engine's error first, then the final checkpoint's and the folder's
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
	done      chan error
	waitOnce  sync.Once
	runErr    error
	closeOnce sync.Once
	closeErr  error
	lastSaved int // step of the newest checkpoint written (-1: none)
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
	r := &engineRun{rec: rec, e: e, done: make(chan error, 1), lastSaved: -1}
	e.OnCheckpoint = r.checkpoint
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
		err := r.wait()
		if n := r.e.Trainer.StepIndex(); n > 0 {
			if cerr := r.checkpoint(n - 1); cerr != nil && err == nil {
				err = fmt.Errorf("final checkpoint: %w", cerr)
			}
		}
		if cerr := r.rec.Close(); cerr != nil && err == nil {
			err = cerr
		}
		r.closeErr = err
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
// trainer's folder is imported and followed (see openOfficial).
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
	var cfg runpkg.Config
	var notes []string
	if err := rec.DecodeConfig(&cfg); err != nil {
		notes = append(notes, err.Error())
	}
	return &ui.Session{Run: rec, Steps: cfg.Steps, ReadOnly: true, Close: rec.Close, Notes: notes}, nil
}

// officialSource is the config.toml of an imported official run.
type officialSource struct {
	Source string `toml:"source"`
	Format string `toml:"format"`
}

// openOfficial shows an official RLT trainer's run folder: its metrics
// (trainer_state.json) and stored completions are copied into a run folder
// in a temporary directory, and copied again whenever the trainer's files
// change, so the workbench follows the trainer while it runs. The
// trainer's folder is only read; the copy is removed on Close.
// (trainer_state.json is rewritten whole, so it cannot be tailed like our
// JSON Lines files.)
func openOfficial(ctx context.Context, dir string) (*ui.Session, error) {
	imp, err := sessions.ImportOfficialRun(dir)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "rlt-official-*")
	if err != nil {
		return nil, err
	}
	rec, err := sessions.Create(filepath.Join(tmp, filepath.Base(abs)), officialSource{Source: abs, Format: "official RLT trainer run folder, imported read-only"})
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	f := &officialFeed{rec: rec, last: math.MinInt, seen: map[string]bool{}}
	notes := f.feed(imp)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		sig := officialSignature(dir)
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if s := officialSignature(dir); s != sig {
				sig = s
				imp, err := sessions.ImportOfficialRun(dir)
				if err != nil { // mid-write, perhaps: try again on the next change
					rec.Emit(event.Error{Time: time.Now(), Err: err})
					continue
				}
				f.feed(imp)
			}
		}
	}()
	closeFn := func() error {
		cancel()
		<-done
		err := rec.Close()
		return errors.Join(err, os.RemoveAll(tmp))
	}
	notes = append(notes, "following "+abs+" (official trainer run, read-only)")
	return &ui.Session{Run: rec, ReadOnly: true, Close: closeFn, Notes: notes}, nil
}

// officialFeed emits what an import holds that was not emitted before.
type officialFeed struct {
	rec  *sessions.Run
	last int             // newest metrics step emitted
	seen map[string]bool // completions emitted, by file:row
}

func (f *officialFeed) feed(imp *sessions.OfficialRun) []string {
	now := time.Now()
	for _, m := range imp.Metrics {
		if m.Step > f.last {
			f.rec.Emit(event.Metrics{Time: now, Step: m.Step, Values: m.Values})
			f.last = m.Step
		}
	}
	for _, c := range imp.Completions {
		k := fmt.Sprintf("%s:%d", c.File, c.Row)
		if f.seen[k] {
			continue
		}
		f.seen[k] = true
		f.rec.Emit(event.Trace{Time: now, Step: c.Step, Sample: c.Row - 1, Question: officialQuestion(c.Prompt), Completion: c.Completion})
	}
	var notes []string
	if n := imp.State.SkippedCount; n > 0 {
		notes = append(notes, fmt.Sprintf("%s: %d log entries skipped", imp.StateFile, n))
	}
	for _, r := range imp.CSV {
		if r.SkippedCount > 0 {
			notes = append(notes, fmt.Sprintf("%s: %d rows skipped", r.File, r.SkippedCount))
		}
	}
	return notes
}

// officialQuestion is the last user message of a ChatML prompt (the
// whole prompt if it has none).
func officialQuestion(prompt string) string {
	const open, end = "<|im_start|>user\n", "<|im_end|>"
	i := strings.LastIndex(prompt, open)
	if i < 0 {
		return strings.TrimSpace(prompt)
	}
	q := prompt[i+len(open):]
	if j := strings.Index(q, end); j >= 0 {
		q = q[:j]
	}
	return strings.TrimSpace(q)
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
