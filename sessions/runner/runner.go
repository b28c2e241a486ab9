// Package runner is the rlt command's application layer: it drives RLT
// runs with the engine in this process and records them in run folders.
// It owns an engine's lifetime (start, stop after the step in progress,
// the checkpoint policy: one per step asked for, a final one on Close
// (of a run that ran its plan or stopped, the engine's, before its
// "done" or "stopped"), a failed one stops the run), resuming from a
// folder's latest checkpoint, the workbench's launcher (new, resumed and
// read-only sessions for the Runs screen) and the headless progress
// output. Only main imports it; the UI sees its sessions through
// sessions.Session and ui.Launcher.
package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rlt-workbench/rlt/engine/configkey"
	"github.com/rlt-workbench/rlt/engine/defaults"
	"github.com/rlt-workbench/rlt/engine/device"
	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/sessions"
)

// DefaultConfig is the run on the embedded models in the folder models
// (defaults.Dir) for steps steps.
//
// Its forwards take at most DefaultMicroBatchTokens padded positions: the
// embedded models are so small that forwards of 2,048 positions compute a
// step in the same CPU time as forwards of 8,192, and keep a quarter of the
// activations. That memory is what the first step pays for: a page touched
// for the first time costs ~12 us on the 2-core machine, and the 8,192
// budget touched ~390 MB more in step 0.
func DefaultConfig(models string, steps int) runconfig.Config {
	cfg := run.DefaultConfig(filepath.Join(models, defaults.Teacher), filepath.Join(models, defaults.Student))
	cfg.Steps = steps
	cfg.GRPO.MicroBatchTokens = DefaultMicroBatchTokens
	return cfg
}

// DefaultMicroBatchTokens is the embedded default run's micro_batch_tokens.
const DefaultMicroBatchTokens = 2048

// CheckFile checks cfg (run.Check: the data files are read, once for the
// run, which New builds on), decoded from the TOML file at path
// (its text data) over the defaults and then given the values of a
// command's flags, and says what is wrong as a command line should
// (fileProblems), with decodeErr's problems: those of the file's
// decoding, where they left cfg decoded (sessions.OnlyKeyProblems:
// unknown keys, mistyped values; nil for none), each on its line among
// Validate's, so that a file's every problem is said at once. An empty
// path is a configuration of the defaults and the flags alone: a problem
// with a key a flag set still names the flag.
func CheckFile(cfg runconfig.Config, path string, data []byte, decodeErr error, flagKeys map[string]string) (run.Checked, error) {
	checked, checkErr := run.Check(cfg)
	err := errors.Join(decodeErr, checkErr)
	if err == nil {
		return checked, nil
	}
	return run.Checked{}, errors.Join(fileProblems(cfg, path, data, err, sessions.UnsetIsDefault, flagKeys)...)
}

// DecodeFile reads the TOML file at path, command cmd's --config ("train",
// "run"; none for ""), over cfg strictly, as sessions.ReadConfigFile does,
// and returns its text. What to write instead of a file it cannot take
// names cmd's --print-config: rlt train's and rlt run's defaults differ
// (grpo.micro_batch_tokens, the embedded models' prompts), so a file
// started from the other's is not the default run. err is a problem that leaves no configuration to validate: the
// file cannot be read (said with the flag and what to give:
// configFileProblem), a syntax error; decodeErr, the file's unknown keys
// and mistyped values, which leave every other key decoded: give it to
// CheckFile, which says it with what Validate finds.
func DecodeFile(cmd, path string, cfg *runconfig.Config) (text []byte, decodeErr, err error) {
	text, err = sessions.ReadConfigFile(path, cmd, cfg)
	var readErr *fs.PathError // the read's (os.ReadFile): nothing was decoded
	if errors.As(err, &readErr) {
		return nil, nil, configFileProblem(cmd, path, err)
	}
	if err == nil && path != "" && len(bytes.TrimSpace(text)) == 0 {
		// No key at all is the defaults, but a file of nothing is not one
		// written so: most often one emptied by mistake (rlt train
		// --config run.toml --print-config > run.toml empties run.toml
		// before it is read), whose run went on with the defaults and
		// printed them over the file, without a word.
		return nil, nil, &sessions.ConfigError{File: path, Line: 1, Column: 1,
			Msg: "the file is empty: write the run configuration there (" + sessions.Program() + " " + cmd + " --print-config prints one to start from), or leave out --config to run on the defaults"}
	}
	if sessions.OnlyKeyProblems(err) {
		return text, err, nil
	}
	return text, nil, err
}

// configFileProblem says why command cmd's --config file at path could
// not be read (err, the read's), for what the path is and with what to
// give instead (cmd's --print-config writes one):
// the read's own words ("open x.toml: no such file or directory", "read
// runs/X: is a directory") named neither the flag nor a way on. Any other
// error (a file it may not read) passes as it is.
func configFileProblem(cmd, path string, err error) error {
	start := "give a TOML run configuration (" + sessions.Program() + " " + cmd + " --print-config writes one to start from)"
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("--config %s: no such file: %s", path, start)
	}
	if st, serr := os.Stat(path); serr == nil && st.IsDir() {
		inside := filepath.Join(path, sessions.ConfigFile)
		if st, err := os.Stat(inside); err == nil && st.Mode().IsRegular() {
			return fmt.Errorf("--config %s is a folder, not a file: give its %s (%s) to start from that run's configuration", path, sessions.ConfigFile, inside)
		}
		return fmt.Errorf("--config %s is a folder, not a file: %s", path, start)
	}
	return err
}

// fileProblems are the problems in err, Validate's of cfg decoded from the
// TOML file at path (its text data) with the decoding's that left it
// decoded, as a command line and the workbench's editor say them, in the
// order sessions.ExplainValidations lists them (the file's lines, then keys
// it does not set, then problems about no key, then the flags'). One on
// its key's line reads path:line:column: and the problem. A problem with a key a flag set (flagKeys: the key,
// dotted below its table as in "grpo.seed", to the flag's name) names the
// flag instead, whether or not the file sets the key too. One with a key
// neither the file nor a flag sets has no line to point at: it names the
// file, the key and what value stands in (unset: a default, or a recorded
// file's zero), and says the file does not set it; one about no key names
// the file. With no file (an empty path) there is no line to point at: a
// flag's problem names the flag all the same, and the others, the
// defaults', read as Validate says them.
func fileProblems(cfg runconfig.Config, path string, data []byte, err error, unset sessions.Unset, flagKeys map[string]string) []error {
	var problems []error
	for _, ce := range sessions.ExplainValidations(path, data, cfg, unset, err, slices.Collect(maps.Keys(flagKeys))...) {
		if ce.Overridden {
			problems = append(problems, FlagProblem(flagKeys[ce.Key], ce.Key, ce.Err))
			continue
		}
		ce.Msg += besideTheFile(cfg, path, ce.Key)
		problems = append(problems, ce)
	}
	return problems
}

// besideTheFile says, of a path key (data, eval_data, teacher, student)
// whose relative value names nothing from the working directory but names
// what is beside the configuration file at file, that paths are read from
// the working directory, and what to write ("" for any other problem).
// A configuration kept in its own folder beside its data, run from
// another, was refused as 'data train.jsonl: file does not exist' alone,
// the file being right beside it.
func besideTheFile(cfg runconfig.Config, file, key string) string {
	var p string
	switch key {
	case "data":
		p = cfg.Data
	case "eval_data":
		p = cfg.EvalData
	case "teacher":
		p = cfg.Teacher
	case "student":
		p = cfg.Student
	}
	if file == "" || p == "" || filepath.IsAbs(p) {
		return ""
	}
	if _, err := os.Stat(p); err == nil {
		return ""
	}
	beside := filepath.Join(filepath.Dir(file), p)
	if _, err := os.Stat(beside); err != nil {
		return ""
	}
	wd, err := os.Getwd()
	if err != nil {
		wd = "."
	}
	return fmt.Sprintf("; a configuration's paths are read from the working directory (%s), not from its file's folder, and %s is there, beside %s: write %s = '%s', or an absolute path",
		wd, beside, file, key, beside)
}

// FlagProblem is problem, about the value at the configuration key key
// (dotted below its table: "grpo.seed") that the flag named flag gave, as
// the command line says it: the flag stands where the words name the key
// (configkey.Error.Named: "--data missing.jsonl: file does not exist: …",
// "--device \"tpu\": want …", "--eval-data \"held.jsonl\" without data: …"),
// else before them ("--task: unknown task …", "--teacher: model folder …
// does not exist"), so that the flag's name and the key's are not both
// said of one value. A flag that set key as a side effect of its own
// value (--data sets task = "jsonl") is said before the key's words: the
// value they quote is not the flag's. problem is Validate's (a
// *configkey.Error about key) or a check's that knows no key (device.Check).
func FlagProblem(flag, key string, problem error) error {
	return &flagError{flag: flag, key: key, err: problem}
}

// flagError is FlagProblem's problem: its words are built when said, from
// the flag, the key and the problem's own words about the value. It
// unwraps to the problem, so that errors.As finds its configkey.Error and
// no *sessions.ConfigError (no line of a file is at fault).
type flagError struct {
	flag, key string
	err       error
}

func (e *flagError) Error() string {
	label := "--" + e.flag
	if _, name, _ := configkey.Split(e.key); strings.ReplaceAll(e.flag, "-", "_") != name {
		return label + ": " + e.err.Error() // --data's task: its words are the key's
	}
	words := e.err // the words about the value, which begin with the key's name where they read so
	if ke, ok := e.err.(*configkey.Error); ok {
		words = ke.Err // not Error's, which put the key's path in ("grpo.seed …")
	}
	return (&configkey.Error{Key: e.key, Err: words}).Named(label)
}

func (e *flagError) Unwrap() error { return e.err }

// NewRunDir names a new run folder under runs after the time (creating
// runs if needed); two runs started in one second get distinct folders.
func NewRunDir(runs string) (string, error) { return newRunDir(runs, "") }

// newRunDir is NewRunDir with the run's name after the time
// (20261207-232600-lam3), where name is not "" (CheckRunName).
func newRunDir(runs, name string) (string, error) {
	if err := os.MkdirAll(runs, 0o755); err != nil {
		return "", err
	}
	stamp := time.Now().Format("20060102-150405")
	if name != "" {
		stamp += "-" + name
	}
	runDir := filepath.Join(runs, stamp)
	for i := 2; ; i++ {
		_, err := os.Stat(runDir)
		if errors.Is(err, fs.ErrNotExist) {
			return runDir, nil
		}
		// A look that tells nothing (a name too long, runs not searchable)
		// is no name taken: each next name would fail the same, for ever,
		// as rlt import's same loop did (8114994).
		if err != nil {
			return "", fmt.Errorf("cannot make a run folder in %s: %w: give a folder this process can read and write in", runs, err)
		}
		runDir = filepath.Join(runs, fmt.Sprintf("%s-%d", stamp, i))
	}
}

// CheckRunName says what is wrong with name as the end of a run folder's
// name (rlt run --name): one word a folder may be named by on every
// system, so that it names the run alone (not ending in '.', which
// Windows drops); nil for a good one, and for "".
func CheckRunName(name string) error {
	if name == "" {
		return nil
	}
	if len(name) > 64 {
		return fmt.Errorf("%q is %d bytes long: give a name of at most 64", name, len(name))
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == '=' || r == '+') {
			return fmt.Errorf("%q holds %q: give letters, digits and - _ . = + only (lam3, kl_mean=0.5), a name a folder takes on every system", name, r)
		}
	}
	if strings.Trim(name, ".") == "" {
		return fmt.Errorf("%q is no name: give letters or digits too (lam3)", name)
	}
	// Windows drops a folder name's last dots: runs/<time>-lam. would be
	// made as <time>-lam, and the run named by one folder here and
	// another there.
	if strings.HasSuffix(name, ".") {
		return fmt.Errorf("%q ends in '.', which Windows drops from a folder's name: end it with a letter, a digit or - _ = + (lam3, kl_mean=0.5)", name)
	}
	return nil
}

// Create records the checked configuration, made absolute so that `rlt
// run --resume` works from any directory, in a new run folder under runs,
// and returns it made absolute for Start (its data as checked: not read
// again). A run that cannot fit the machine's memory (run.CheckMemory) is
// refused, and makes no folder. process is what kind of process trains it
// (sessions.ProcessWorkbench, sessions.ProcessHeadless), which its
// run.lock says while it does.
func Create(runs string, checked run.Checked, process string) (*sessions.Run, run.Checked, error) {
	checked, err := createChecks(checked)
	if err != nil {
		return nil, checked, err
	}
	rec, err := makeRun(runs, "", checked, process)
	return rec, checked, err
}

// createChecks are Create's checks of checked, made absolute: they change
// no folder.
func createChecks(checked run.Checked) (run.Checked, error) {
	checked, err := checked.Absolute()
	if err != nil {
		return checked, err
	}
	return checked, checked.CheckMemory()
}

// makeRun is Create's making of the run folder, once createChecks passed,
// named after the time and name (newRunDir).
func makeRun(runs, name string, checked run.Checked, process string) (*sessions.Run, error) {
	dir, err := newRunDir(runs, name)
	if err != nil {
		return nil, err
	}
	return sessions.CreateWith(dir, checked.Config(), sessions.Options{Process: process})
}

// CreateUnlessStopped is Create for a launch whose load context is stop
// (a stop signal, the workbench's quit): ended before the create, it makes
// no folder; ended while the create runs (its memory check reads the
// models' configurations; the folder is made, locked, written and
// synced), what the create made is removed again (sessions.Run.Unmake).
// Either is a *sessions.LaunchStoppedError of stop's cause: the launch
// leaves nothing. Where the folder was kept instead, the run's session
// began and its load stopped at its first look, leaving a run folder
// stopped before its first step that nobody asked to keep, where a stop
// a moment sooner left none. The Runs screen's launches (Launcher.Start)
// and rlt run's first run both make their run so. A process that leaves
// at once (LeaveLaunches) makes none from then on, and waits for the one
// being made, which its stop then removes again.
func CreateUnlessStopped(stop context.Context, runs string, checked run.Checked, process string) (*sessions.Run, run.Checked, error) {
	return CreateNamedUnlessStopped(stop, runs, "", checked, process)
}

// CreateNamedUnlessStopped is CreateUnlessStopped with the run folder
// named after the time and name (20261207-232600-lam3: rlt run --name,
// which CheckRunName checked), so that the runs of a sweep read apart in
// every listing; "" names it after the time alone.
func CreateNamedUnlessStopped(stop context.Context, runs, name string, checked run.Checked, process string) (*sessions.Run, run.Checked, error) {
	if err := sessions.Stopped(stop); err != nil {
		return nil, checked, &sessions.LaunchStoppedError{Err: err}
	}
	checked, err := createChecks(checked)
	if err != nil {
		return nil, checked, err
	}
	var rec *sessions.Run
	if !changing(stop, func() {
		if rec, err = makeRun(runs, name, checked, process); err != nil {
			return
		}
		if stopped := sessions.Stopped(stop); stopped != nil {
			rec, err = nil, unmake(rec, stopped)
		}
	}) {
		return nil, checked, &sessions.LaunchStoppedError{Err: sessions.SecondSignal}
	}
	return rec, checked, err
}

// Prepare restores state into a new engine before it starts. ctx is
// Start's loadCtx: its end (a stop) stops the restore's load, which then
// returns an error wrapping ctx's.
type Prepare func(ctx context.Context, e *run.Engine) error

// Fresh prepares nothing: a new run starts at step 0.
func Fresh(context.Context, *run.Engine) error { return nil }

// Resumable is a run folder opened for writing with the checkpoint it
// continues from.
type Resumable struct {
	Rec *sessions.Run
	// Recorded is the configuration the run's config.toml records, a key
	// its [reward] lacks at its default (sessions.RecordedConfig).
	Recorded runconfig.Config
	// Checked is the one this session runs, Recorded with the session's
	// Overrides, checked with its data read: what Start builds on.
	Checked run.Checked
	Ck      sessions.Checkpoint
	Notes   []string // what opening repaired or skipped
}

// Overrides are what a resume's command line puts over the run's
// config.toml for this session; a zero field puts nothing. Each is the
// value of the flag of its key's name (--steps, --device, --matmul), and
// a problem with it is said as that flag's.
type Overrides struct {
	// Steps, when positive or StepsGiven, is the run's new plan (0: until
	// interrupted): recorded in its config.toml once the resume runs
	// (Restore), so that listings, the header and a later resume go by it.
	Steps int
	// StepsGiven marks Steps as given even when 0 (--steps 0).
	StepsGiven bool
	// Device and Matmul move this session only (a run off a failed GPU):
	// they are not recorded.
	Device, Matmul string
}

// over is cfg with o put over it, and the keys o set, each to the flag
// that set it (fileProblems' flagKeys).
func (o Overrides) over(cfg runconfig.Config) (runconfig.Config, map[string]string) {
	flagKeys := map[string]string{}
	if o.Steps > 0 || o.StepsGiven {
		cfg.Steps, flagKeys["steps"] = o.Steps, "steps"
	}
	if o.Device != "" {
		cfg.Device, flagKeys["device"] = o.Device, "device"
	}
	if o.Matmul != "" {
		cfg.Matmul, flagKeys["matmul"] = o.Matmul, "matmul"
	}
	return cfg, flagKeys
}

// OpenForResume takes the lock of a run folder and finds its latest
// checkpoint; Notes are what opening repaired or skipped (also given with
// an error). The configuration is checked as this session will run it,
// the run's config.toml with over put over it, so that --device cpu
// resumes a run whose file names a device this build does not know, and
// --steps N one whose recorded steps cannot run. Nothing is written to
// config.toml here: a refused resume leaves it as it was. process is what
// kind of process resumes it (sessions.ProcessWorkbench,
// sessions.ProcessHeadless), which its run.lock says from the start.
func OpenForResume(dir string, over Overrides, process string) (Resumable, error) {
	return openForResume(context.Background(), dir, over, process)
}

// OpenForResumeUnlessStopped is OpenForResume for a launch whose load
// context is stop (a stop signal, the workbench's quit): ended before it,
// the run's lock is not taken; ended while its checks run, no session is
// begun (openForResume). Either leaves the run as it was, the error a
// *sessions.LaunchStoppedError of stop's cause. Where the session began
// instead, its load stopped at its first look and the run was said as a
// load stopped, its events holding a session that never ran. The Runs
// screen's resumes (Launcher.Resume) and rlt run --resume both open their
// run so.
func OpenForResumeUnlessStopped(stop context.Context, dir string, over Overrides, process string) (Resumable, error) {
	if err := sessions.Stopped(stop); err != nil {
		return Resumable{}, &sessions.LaunchStoppedError{Resume: true, Err: err}
	}
	return openForResume(stop, dir, over, process)
}

// openForResume is OpenForResume that begins no session once stop has
// ended (a launch's load context: a stop signal, the workbench's quit):
// the run is closed as its refusals close it, as it was, and the error is
// a *sessions.LaunchStoppedError of stop's cause (sessions.Stopped).
func openForResume(stop context.Context, dir string, over Overrides, process string) (Resumable, error) {
	var r Resumable
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return r, sessions.Refusedf("resume", dir, "a file, not a run folder (a folder that %s run made, holding config.toml)", sessions.Program())
	}
	if src, ok := sessions.ImportedFrom(dir); ok {
		return r, sessions.Refused("resume", dir, src.NotResumed(dir))
	}
	cfgPath := filepath.Join(dir, sessions.ConfigFile)
	if data, err := os.ReadFile(cfgPath); err == nil {
		if len(bytes.TrimSpace(data)) == 0 {
			return r, sessions.Refusedf("resume", dir, "%s is empty: the run's configuration is lost; write it again ("+sessions.PrintConfigOfEither()+") or open the run read-only", cfgPath)
		}
		// Unknown keys and mistyped values leave the rest decoded: they are
		// said with every other problem of the file at once, as rlt run
		// --config says a file's, not one kind first. (Other decoding
		// problems are OpenWith's to say.)
		recorded := sessions.RecordedConfig() // [reward]'s keys it lacks at their defaults
		if decodeErr := sessions.DecodeStrict(cfgPath, data, &recorded); sessions.OnlyKeyProblems(decodeErr) {
			cfg, flagKeys := over.over(recorded)
			_, checkErr := run.Check(cfg)
			return r, refusedConfig(dir, cfgPath, data, cfg, errors.Join(decodeErr, checkErr), flagKeys)
		}
	}
	// Its open event waits for the checks below (Begin): a refused resume
	// leaves the run's events as they were.
	// Decoded over RecordedConfig: a key its [reward] lacks is trained at
	// its default, the reward the run was started with (RunReward says
	// why), where it was trained at 0.
	r.Recorded = sessions.RecordedConfig()
	// The lock taken and the files repaired as the run opens are not cut
	// short by a process that leaves at once (LeaveLaunches): they are
	// not begun once it leaves, and waited for where they were.
	var rec *sessions.Run
	var err error
	if !changing(stop, func() {
		rec, err = sessions.OpenWith(dir, &r.Recorded, sessions.Options{Intent: sessions.IntentResume, DeferOpen: true, Process: process})
	}) {
		return r, &sessions.LaunchStoppedError{Resume: true, Err: sessions.SecondSignal}
	}
	if err != nil {
		return r, err
	}
	cfg, flagKeys := over.over(r.Recorded)
	// Checked before any engine starts: a configuration that cannot run is
	// the file's problem (or a flag's), and must not be recorded as the
	// run failing.
	if r.Checked, err = run.Check(cfg); err != nil {
		problems := refusedConfig(dir, cfgPath, rec.ConfigText(), cfg, err, flagKeys)
		rec.Close()
		return r, problems
	}
	for _, rp := range rec.Repairs() {
		r.Notes = append(r.Notes, "repaired: "+rp)
	}
	// Said as rlt score --run says them on its reward line: a hand edit
	// that dropped a key is not trained at its default unsaid.
	if note := sessions.UnsetRewardNote(cfgPath, rec.ConfigText()); note != "" {
		r.Notes = append(r.Notes, note)
	}
	var broken []sessions.Issue
	for _, is := range rec.Store().Issues() {
		switch is.Kind {
		case sessions.IssueLost: // said here too: the session is about to write them anew
			r.Notes = append(r.Notes, is.String())
		case sessions.IssueBroken:
			broken = append(broken, is)
		}
	}
	if n := rec.Store().Broken(); n > 0 && len(broken) > 0 {
		// Skipped, not repaired: the resume goes on without them (a
		// curve's point, a trace), and the file keeps the lines as they are.
		note := broken[0].String()
		if n > 1 {
			note += fmt.Sprintf(" (and %d more broken records: "+sessions.Program()+" sessions and the workbench's problems view, !, list them)", n-1)
		}
		r.Notes = append(r.Notes, note)
	}
	ck, skipped, err := rec.LatestCheckpoint()
	r.Notes = append(r.Notes, skipped...)
	if errors.Is(err, sessions.ErrNoCheckpoint) {
		rec.Close()
		return r, sessions.NoCheckpointRefusal(dir)
	}
	if err != nil {
		rec.Close()
		return r, sessions.Refused("resume", dir, err)
	}
	// A checkpoint this configuration would not continue exactly (its data
	// changed, its seed edited) is refused here, with the other up-front
	// checks: refused once the engine had started, it would be recorded
	// as the run failing.
	if err := checkpointFits(dir, cfgPath, ck, r.Checked); err != nil {
		rec.Close()
		return r, err
	}
	// A device that is not there (gpu:N past the loader's list, no GPU
	// driver) is refused here too, the run left as it was: found when the
	// engine is built, it would be recorded as the run failing.
	if err := deviceUsable(dir, r.Checked.Config().Device); err != nil {
		rec.Close()
		return r, err
	}
	// And one that cannot fit the memory where it computes, as a new run
	// is refused before its folder is made (Create).
	if err := r.Checked.CheckMemory(); err != nil {
		rec.Close()
		return r, sessions.Refusedf("resume", dir, "%w; the run is unchanged", err)
	}
	// A run that has done the steps asked for has nothing to run: the
	// run is left as it was, no session recorded. The steps it has done
	// are counted as the Runs screen and the header count them (Steps:
	// its metric records, else its checkpoints); it goes on from ck.
	if planned := r.Checked.Config().Steps; sessions.NothingToRun(planned, ck.Step) {
		done := rec.Steps().Done
		rec.Close()
		return r, sessions.Refused("resume", dir, &sessions.NothingToRunError{Done: done, LastStep: ck.Step, Planned: planned})
	}
	// A disk too full for the checkpoints it will write: refused now, the
	// run left as it was, not at its first checkpoint a whole step later
	// (after the checks above, which say more of the run).
	plan := r.Checked.Config()
	writes := sessions.CheckpointsWritten(ck.Step+1, plan.Steps, plan.CheckpointEvery)
	steps := sessions.StepsBeforeCheckpoint(ck.Step+1, plan.Steps, plan.CheckpointEvery)
	if err := sessions.CheckRoomToResume(dir, writes, steps, sessions.Options{}); err != nil {
		rec.Close()
		return r, err
	}
	// A stop that came while the checks above ran begins no session:
	// Begin wrote the open event, the load then stopped at its first
	// look, and the command's exit said the run as a launch it stopped.
	// Nor does a process that leaves at once (LeaveLaunches): its leave
	// left the run as it was found (sessions.LeaveAll), not begun.
	noted := len(rec.Repairs())
	var stopped, began error
	if !changing(stop, func() {
		if stopped = sessions.Stopped(stop); stopped == nil {
			began = rec.Begin()
		}
	}) {
		stopped = sessions.SecondSignal
	}
	if stopped != nil {
		rec.Close()
		return r, &sessions.LaunchStoppedError{Resume: true, Err: stopped}
	}
	if began != nil {
		return r, sessions.Refused("resume", dir, began)
	}
	for _, rp := range rec.Repairs()[noted:] { // the logs' torn last lines, cut as it began
		r.Notes = append(r.Notes, "repaired: "+rp)
	}
	r.Rec, r.Ck = rec, ck
	return r, nil
}

// deviceUsable is why the run folder dir cannot resume on the device
// name (runconfig.Config.Device: its config.toml's, or --device's), said with
// the way on, or nil.
func deviceUsable(dir, name string) error {
	cpu, err := device.Unusable(name)
	switch {
	case err == nil:
		return nil
	case cpu:
		return sessions.Refusedf("resume", dir, "%w, so the run is unchanged: resume it on the CPU with --device cpu, or give --device gpu:N of a GPU that is there", err)
	}
	return sessions.Refusedf("resume", dir, "%w, so the run is unchanged", err)
}

// checkpointFits is why the checkpoint ck of the run folder dir cannot be
// continued by the checked configuration (run.Checked.CheckResume), said
// with what to do, or nil.
func checkpointFits(dir, cfgPath string, ck sessions.Checkpoint, checked run.Checked) error {
	state, err := os.ReadFile(filepath.Join(ck.Dir, sessions.TrainerStateFile))
	if err != nil {
		return sessions.Refused("resume", dir, err)
	}
	err = checked.CheckResume(state)
	if err == nil {
		return nil
	}
	var changed *run.DataChangedError
	if errors.As(err, &changed) {
		them := "the file back as it was"
		if len(changed.Files) > 1 {
			them = "the files back as they were"
		}
		return sessions.Refusedf("resume", dir, "%w, so the run is unchanged: put %s when step %d was checkpointed to resume it, or start a new run on the data as it is now: "+sessions.Program()+" run --config %s",
			err, them, ck.Step, sessions.ShellQuote(cfgPath))
	}
	var repeats *run.RepeatsTrainedError
	if errors.As(err, &repeats) {
		return sessions.Refusedf("resume", dir, "%w, so the run is unchanged: resume it with the rlt that started it, or start a new run on the data with this rlt: "+sessions.Program()+" run --config %s",
			err, sessions.ShellQuote(cfgPath))
	}
	return sessions.Refusedf("resume", dir, "%w, so the run is unchanged: put %s back as it was when step %d was checkpointed to resume it, or start a new run from it: "+sessions.Program()+" run --config %s",
		err, cfgPath, ck.Step, sessions.ShellQuote(cfgPath))
}

// refusedConfig is why a resume of the run folder dir is refused: err,
// Validate's problems of cfg, decoded from its config.toml at cfgPath
// (its text data) and given the session's overrides (flagKeys: the keys
// they set, to their flags), each said where it is as rlt run --config
// says a file's (fileProblems: cfgPath:LINE:COL: on its key's line,
// --flag: for a value a flag gave, else cfgPath: and the key), after a
// line that says the run is unchanged, and what to fix: the file, unless
// every problem is a flag's. The file was decoded over nothing, not over
// the defaults, but for [reward]'s keys (sessions.RecordedConfig): a key
// it does not set holds its zero value (one of [reward]'s its default),
// and is said with it (UnsetIsZero).
func refusedConfig(dir, cfgPath string, data []byte, cfg runconfig.Config, err error, flagKeys map[string]string) error {
	problems := fileProblems(cfg, cfgPath, data, err, sessions.UnsetIsZero, flagKeys)
	// When every problem of the file is a value a resume's flag puts
	// over it (a device this build does not know, a run off a failed
	// GPU: --device cpu), that flag is a way on that leaves the file as
	// it is.
	var flags []string
	overridable := true
	for _, p := range problems {
		var ce *sessions.ConfigError // a flag's problem is none
		if !errors.As(p, &ce) {
			continue
		}
		flag, ok := resumeFlags[ce.Key]
		if !ok || ce.Known != nil {
			overridable = false
			break
		}
		if !slices.Contains(flags, flag) {
			flags = append(flags, flag)
		}
	}
	way := "fix the file, or open the run read-only"
	if overridable && len(flags) > 0 {
		way = fmt.Sprintf("fix the file, give %s over it, or open the run read-only", strings.Join(flags, " "))
	}
	head := sessions.Refusedf("resume", dir, "%s cannot run, so the run is unchanged: %s", cfgPath, way)
	fileAtFault := slices.ContainsFunc(problems, func(p error) bool {
		var ce *sessions.ConfigError // a flag's problem is none
		return errors.As(p, &ce)
	})
	if !fileAtFault {
		head = sessions.Refusedf("resume", dir, "its configuration cannot run with the values these flags give, so the run is unchanged")
	}
	return errors.Join(append([]error{head}, problems...)...)
}

// resumeFlags are the keys a resume's flags put over its config.toml
// (Overrides), each with the flag and a value that runs, as the way on
// from a file's bad value of that key.
var resumeFlags = map[string]string{"device": "--device cpu", "matmul": "--matmul f32", "steps": "--steps N"}

// Restore loads the checkpoint into the engine, records a new plan of
// steps (Overrides.Steps) in the run's config.toml, and marks the records
// after the checkpoint superseded. It is the resume's Prepare: it runs
// once the engine is built (the device open, the models and data loaded),
// so config.toml is rewritten only for a resume that goes on to run, not
// for one refused, with nothing to run, or that cannot start. A stop
// (ctx's end) while the checkpoint's models or the optimiser's moments
// load stops that load (its error wraps ctx's) before anything is
// recorded: the folder is as it was.
func (r Resumable) Restore(ctx context.Context, e *run.Engine) error {
	f, err := r.Rec.ReadTrainerCheckpoint(r.Ck)
	if err != nil {
		return err
	}
	if err := e.Restore(ctx, run.Saved{TeacherDir: f.TeacherDir, ReferenceDir: f.ReferenceDir, OptimizerFile: f.OptimizerFile, State: f.State}); err != nil {
		return err
	}
	if steps := r.Checked.Config().Steps; steps != r.Recorded.Steps {
		if err := r.Rec.RecordSteps(steps); err != nil {
			return err
		}
	}
	return r.Rec.Resume(r.Ck.Step)
}

// Handle is an engine driving a recorded run on its own goroutine.
type Handle struct {
	rec       *sessions.Run
	e         *run.Engine
	sink      event.Sink // the engine's
	done      chan error
	waitOnce  sync.Once
	runErr    error
	closeOnce sync.Once
	closeErr  error
	lastSaved int   // step of the newest checkpoint written, or resumed from (-1: none)
	refused   int   // step whose checkpoint was refused for a NaN or an Inf (-1: none)
	fullAt    int   // step whose checkpoint found the disk full (-1: none)
	failedAt  int   // step whose checkpoint failed (-1: none): one tried again is said as such
	failErr   error // failedAt's fatal error, the run's result unless another came first

	mu      sync.Mutex
	stopErr error           // why the driver stopped the engine early (a checkpoint that failed …); the run's result
	saved   bool            // a checkpoint of this engine's has reached the disk
	pending error           // a stop waiting for the first checkpoint (StopAfterAStep)
	notices io.Writer       // where a signal held by a save is said (SayHeldSaves); nil: nowhere
	signal  context.Context // whose end is that signal (SayHeldSaves)
	noticed bool            // it has been said
}

// Start builds the engine of the checked configuration (run.New: its data
// as checked) on rec (sink gets its events), lets prepare restore state,
// and starts it. It takes two contexts, as a stop signal may end the load
// and not the run: loadCtx's end stops the load (run.New's and prepare's),
// runCtx's end stops the running engine at once (Engine.Run drops the
// step in progress; one that failed for a reason of its own, not the
// stop's, is the run's error as it is without a stop). The workbench and
// rlt run --headless (Headless) give a load context their first stop
// signal cancels and a run context none does: once the engine runs, a
// signal stops it after the step in progress, its final checkpoint
// written (the workbench quits as q does), but one during the load,
// before the workbench is on the screen, stops the load at once, not once
// it has ended (a minute for a 7B model).
//
// On error the error is recorded in rec as the run's fatal error (`rlt
// sessions` lists the folder as failed, with it) and rec is closed. A stop
// (loadCtx's end) while the models load, or while prepare (a resume's
// Restore) loads the checkpoint's, ends the load before its next tensor
// (or within a large one): the run is then recorded as stopped before its
// first step, as the engine records a stop that comes before it (a
// resumed folder is left as it was), and the error returned is a
// *run.LoadStopped wrapping loadCtx's. Either way the device the engine
// opened is closed: nothing will compute on it.
func Start(loadCtx, runCtx context.Context, rec *sessions.Run, checked run.Checked, sink event.Sink, prepare Prepare) (*Handle, error) {
	if err := stoppedSinceMade(loadCtx, rec); err != nil {
		return nil, err
	}
	fail := func(err error) (*Handle, error) {
		sink.Emit(event.Error{Time: time.Now(), Err: &startError{err}, Fatal: true})
		rec.Close()
		return nil, err
	}
	e, err := run.New(loadCtx, checked, sink)
	if err == nil {
		if err = prepare(loadCtx, e); err != nil {
			// The engine never runs: its device is closed, as New closes
			// it on a load that fails or stops (a corrupt checkpoint left
			// it open, the models loaded on it, until the process ended:
			// the workbench's Runs screen may start other runs after it).
			device.Close(e.Backend)
			if loadCtx.Err() != nil && errors.Is(err, loadCtx.Err()) {
				// Stopped as the checkpoint's models loaded: a stop while
				// the models load, as New's is.
				err = &run.LoadStopped{Device: e.Device, Err: err}
			}
		}
	}
	if stopped := (*run.LoadStopped)(nil); errors.As(err, &stopped) {
		// What the engine records of a stop before its first step: the
		// device, then the phase. A resumed run's folder keeps its own.
		if rec.Store().LastStep() < 0 {
			sink.Emit(event.Device{Time: time.Now(), DeviceChoice: stopped.Device})
			sink.Emit(event.Phase{Time: time.Now(), Name: "stopped"})
		}
		rec.Close()
		return nil, err
	}
	if err != nil {
		return fail(err)
	}
	// The checkpoint a resume restored (prepare) is on disk: the final
	// checkpoint of a resume stopped before a step of its own finds it
	// saved, as the engine does (run.Engine's checkpointAtEnd), where it
	// wrote it whole again (minutes of a 7B's weights, after a stop
	// signal that came as the models loaded). -1 for a new run.
	h := &Handle{rec: rec, e: e, sink: sink, done: make(chan error, 1), lastSaved: e.Trainer.StepIndex() - 1, refused: -1, fullAt: -1, failedAt: -1}
	e.OnCheckpoint = h.onCheckpoint
	go func() { h.done <- e.Run(runCtx) }()
	return h, nil
}

// stoppedSinceMade is a stop (loadCtx ended) that came after the
// launch's last look (CreateUnlessStopped's, as it made rec) and before
// Start's first, where rec is a new run this process made, nothing done
// in it: a stop as its folder was made, which removes the folder again and
// is said so (unmake: a *sessions.LaunchStoppedError), as
// CreateUnlessStopped's own. The load stopped at its first look, and the
// folder was kept, recorded and said as a load stopped before its first
// step ("stopped by a signal before its first step, while the models
// loaded: run folder …"), where a stop a moment sooner left none. nil
// where loadCtx has not ended, or rec is not such a run (a resumed one,
// whose session has begun: its load stops as a load does).
//
// It watches Done, not Err: a look at Err is one of the load's, which a
// stop placed at the load's N-th look (stoptest.OnLook) counts.
//
// The removal is a launch's change of its folder (changing), as
// CreateUnlessStopped's: a process that leaves at once on a second signal
// (LeaveLaunches) waits for it, where it ended the process partway
// through it, a folder half removed said as one to continue. Where the
// leave came first, the folder is not removed: the leave records it
// (sessions.LeaveAll), as a run that trains, and the error is the
// launch's left by a second signal.
func stoppedSinceMade(loadCtx context.Context, rec *sessions.Run) error {
	select {
	case <-loadCtx.Done():
	default:
		return nil
	}
	if !rec.MadeHere() || rec.Store().LastStep() >= 0 {
		return nil
	}
	var err error
	if !changing(loadCtx, func() { err = removeStopped(rec, context.Cause(loadCtx)) }) {
		return &sessions.LaunchStoppedError{Err: sessions.SecondSignal}
	}
	return err
}

// removeStopped is stoppedSinceMade's removal (unmake), which a test
// holds partway to leave the process then (a removal takes no time to
// act on).
var removeStopped = unmake

// startError is why an engine did not start, as Start records it in the
// run ("start: …"). Start also returns it, and its caller says it: the
// headless progress lines leave it out (JSONLSink), rather than say it a
// second time, as an error of a step that never ran.
type startError struct{ err error }

func (e *startError) Error() string { return "start: " + e.err.Error() }
func (e *startError) Unwrap() error { return e.err }

// Engine is the engine driven (its controls: sessions.Controller).
func (h *Handle) Engine() *run.Engine { return h.e }

// checkpoint saves the engine's state after step (once per step). It runs
// on the engine's goroutine, or after the engine has returned.
func (h *Handle) checkpoint(step int) error {
	if step == h.lastSaved || step == h.refused {
		return nil
	}
	defer h.watchSave(sessions.CheckpointDir(h.rec.Dir(), step))()
	snap, err := h.e.Snapshot()
	if err != nil {
		return err
	}
	if _, err := h.rec.SaveTrainerCheckpoint(step, sessions.TrainerCheckpoint{Teacher: snap.Teacher, Reference: snap.Reference,
		Tokenizer: snap.Tokenizer, Optimizer: snap.Optimizer, OptimizerMeta: snap.OptimizerMeta, State: snap.State}); err != nil {
		// Non-finite weights stay so: the final checkpoint is not tried again.
		if nf := (*sessions.NonFiniteError)(nil); errors.As(err, &nf) {
			h.refused = step
		}
		if errors.Is(err, syscall.ENOSPC) {
			h.fullAt = step
		}
		return err
	}
	h.lastSaved = step
	return nil
}

// SaveNotice is the line a stop signal held by a save of dir is said
// with, at once, wherever a save is not cut short (a model's Save takes no
// context): rlt's commands' model folders (--save, rlt distill's student,
// rlt pretrain's models) and a run's checkpoints (SayHeldSaves). A save
// of minutes for a large model, said only once it had ended, seemed to
// ignore the signal.
func SaveNotice(dir string) string {
	return fmt.Sprintf("saving %s; stopping once it is written (a save is not cut short, so that no folder is left half written)", dir)
}

// CheckpointSaveNotice is SaveNotice for a run's checkpoint under rlt run
// --headless, which, as the workbench, leaves at once on a second stop
// signal (the command's stopThenLeave): the save is not cut short by the
// first signal, but the second does cut it, and the notice says so
// rather than promise a whole checkpoint (a cut one is never renamed into
// place, and the next open of the run removes it).
func CheckpointSaveNotice(dir string) string {
	return SaveNotice(dir) + "; a second signal leaves at once, without it"
}

// SayHeldSaves has a stop signal (the end of signal: rlt run
// --headless's first, which stops its engine after the step in progress)
// that comes while a checkpoint of this engine's is saved, or came before
// one begins (the final checkpoint after a signal), said on w at once
// (CheckpointSaveNotice), once: the checkpoint is written whole first (it
// takes no context; SaveCheckpoint renames it into place), and then the
// run stops as the signal asked. rlt run --headless says it on stderr; the
// workbench quits as q does on a signal, saying stopping on the screen
// until the run has stopped, so it has none to say.
func (h *Handle) SayHeldSaves(w io.Writer, signal context.Context) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.notices, h.signal = w, signal
}

// watchSave says a signal held by the save of dir (SayHeldSaves) from now
// until the returned end is called; once end returns, it says nothing
// more.
func (h *Handle) watchSave(dir string) (end func()) {
	h.mu.Lock()
	w, said, signal := h.notices, h.noticed, h.signal
	h.mu.Unlock()
	if w == nil || said {
		return func() {}
	}
	say := func() {
		h.mu.Lock()
		first := !h.noticed
		h.noticed = true
		h.mu.Unlock()
		if first {
			fmt.Fprintln(w, CheckpointSaveNotice(dir))
		}
	}
	if signal.Err() != nil { // the signal came before: said now, whatever the save's length
		say()
		return func() {}
	}
	done, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		select {
		case <-signal.Done():
			say()
		case <-done:
		}
	}()
	return func() {
		close(done)
		<-ended
	}
}

// onCheckpoint is the engine's OnCheckpoint. A checkpoint that cannot be
// written (a full disk, an I/O error) stops the run after this step: the
// steps after it could not be resumed, and the records waiting for the
// disk would pile up. The error is recorded as the run's fatal error (the
// workbench shows the run as failed) and is the run's result (Close
// returns it; rlt prints it on exit). It is returned to the engine as a
// run.Reported, so that the engine does not take the step for on disk: the
// checkpoint, asked for (S asks one) or scheduled (checkpoint_every), is
// tried again as the engine stops (not from a failed device: the engine
// tries none, run.Engine's checkpointAtEnd; nor of non-finite
// weights), and that try's failure is said once more, as such
// (retryFailed), its success as a warning that no step is lost (Close's
// result says it too).
func (h *Handle) onCheckpoint(step int) error {
	if step == h.failedAt && step == h.refused {
		// The stop's try again of a checkpoint that cannot be saved:
		// non-finite weights stay so. Why is the run's fatal error
		// already; tried, it was said again with "mend what stopped the
		// save … its close tries the checkpoint once more".
		return &run.Reported{Err: fmt.Errorf("checkpoint of step %d not tried again: %w", step, h.failErr)}
	}
	err := h.checkpoint(step)
	if err == nil {
		if step == h.failedAt && step == h.lastSaved {
			h.sink.Emit(event.Error{Time: time.Now(), Step: step, Severity: event.SeverityWarning,
				Err: fmt.Errorf("checkpoint of step %d saved as the run stopped, on a second try: no step is lost (the run stopped for its first failure)", step)})
		}
		h.mu.Lock()
		h.saved = true
		pending := h.pending
		h.pending = nil
		h.mu.Unlock()
		if pending != nil {
			h.StopWith(pending)
		}
		return nil
	}
	if step == h.failedAt {
		// The run's fatal error is said already (and is its result): this
		// is the stop's second try of the same checkpoint.
		err = h.retryFailed(step, err)
		h.sink.Emit(event.Error{Time: time.Now(), Step: step, Err: err})
		return &run.Reported{Err: err}
	}
	h.failedAt = step
	if h.e.Backend.Err() != nil {
		// The device failed while the checkpoint read the weights back:
		// the way on is the CPU, as for a step lost on the device (the
		// workbench's exit line reads it to say --device cpu).
		err = device.Failed(h.e.Backend, fmt.Sprintf("checkpoint of step %d failed, so the run stops", step), err)
	} else {
		err = fmt.Errorf("checkpoint of step %d failed, so the run stops: %w", step, err)
	}
	h.sink.Emit(event.Error{Time: time.Now(), Step: step, Err: err, Fatal: true})
	h.failErr = err
	h.StopWith(err)
	// Reported above as the fatal error: the engine, told it is not on
	// disk, does not say it a second time.
	return &run.Reported{Err: err}
}

// retryFailed is what the stop's try again of step's failed checkpoint
// says when it fails too (err, which names the checkpoint's path): that a
// failed save leaves the run folder as it was, the checkpoint a resume
// goes on from, and what to do: the close's try is the last, and where
// rlt run --headless closes the run at once there is no time to mend
// anything first (it said "mend … and close the run (q in the
// workbench)" to headless runs too).
func (h *Handle) retryFailed(step int, err error) error {
	return fmt.Errorf("checkpoint of step %d failed again as the run stopped: %w; a failed save leaves no part of itself in the run folder: %s; its close tries the checkpoint once more: in the workbench, mend what stopped the save, then close the run (q); "+sessions.Program()+" run --headless closes it at once", step, err, h.kept())
}

// kept says the run folder's last good checkpoint, the one a resume goes
// on from, or that it has none, where no checkpoint is written of the
// state the engine holds (retryFailed, a torn step's close).
func (h *Handle) kept() string { return h.keptAt(h.lastGood()) }

// keptAt is kept of the last good checkpoint k (ok false: none), read
// once (lastGood) by a caller that also says what a torn step lost.
func (h *Handle) keptAt(k int, ok bool) string {
	if ok {
		return fmt.Sprintf("its checkpoint of step %d stands as it was, and a resume goes on from it (%s run --resume %s)", k, sessions.Program(), sessions.ShellQuote(h.rec.Dir()))
	}
	return "it has no checkpoint yet, so a resume has none to go on from"
}

// lastGood is the step of the run folder's last good checkpoint (kept's),
// false where it has none.
func (h *Handle) lastGood() (int, bool) {
	cks, _ := sessions.Checkpoints(h.rec.Dir())
	for i := len(cks) - 1; i >= 0; i-- {
		if cks[i].Err == nil {
			return cks[i].Step, true
		}
	}
	return 0, false
}

// tornLost says the steps a torn step's close loses (Close, where step n
// failed after its optimiser update and its state is not saved): those
// done since the last good checkpoint k (lastGood; ok false: none), up to
// n-1, whose weights are in no checkpoint; a resume runs them again. ""
// where none is lost (the checkpoint of step n-1 stands). The close said
// only which checkpoint stands, and the user counted what that cost.
func tornLost(k int, ok bool, n int) string {
	from, last := k+1, n-1
	switch {
	case !ok && last == 0:
		return "; its step 0 is lost"
	case !ok && last > 0:
		return fmt.Sprintf("; its steps 0 to %d (%d steps) are lost", last, n)
	case from == last:
		return fmt.Sprintf("; step %d, done after it, is lost: a resume runs it again", last)
	case from < last:
		return fmt.Sprintf("; steps %d to %d (%d steps), done after it, are lost: a resume runs them again", from, last, last-from+1)
	}
	return ""
}

// StopWith stops the engine after the step in progress, keeping err as the
// run's result (the first reason given wins).
func (h *Handle) StopWith(err error) {
	h.mu.Lock()
	first := h.stopErr == nil
	if first {
		h.stopErr = err
	}
	h.mu.Unlock()
	if first {
		h.e.Stop()
	}
}

// StopAfterAStep stops the engine like StopWith, but never before a step
// of its own is on disk: a stop asked for while the models load would
// leave a run folder with nothing to resume, so the first step is run and
// checkpointed first.
func (h *Handle) StopAfterAStep(err error) {
	h.mu.Lock()
	if !h.saved {
		if h.pending == nil {
			h.pending = err
		}
		h.mu.Unlock()
		h.e.CheckpointNow()
		return
	}
	h.mu.Unlock()
	h.StopWith(err)
}

// Wait waits for the engine to return and gives its error.
func (h *Handle) Wait() error {
	h.waitOnce.Do(func() { h.runErr = <-h.done })
	return h.runErr
}

// Close stops the engine after the step in progress, waits for it, writes
// the final checkpoint, closes the engine's device and closes the run
// folder. Later calls return the first one's error.
func (h *Handle) Close() error {
	h.closeOnce.Do(func() {
		h.e.Stop()
		errs := []error{h.Wait()}
		h.mu.Lock()
		errs = append([]error{h.stopErr}, errs...)
		h.mu.Unlock()
		// The final checkpoint is tried even after one failed: the disk
		// may have room again. It is on disk already unless its save
		// failed, found saved and not written again: the engine wrote
		// it before recording "done" or "stopped" (run.Engine's
		// checkpointAtEnd), so that neither precedes it; where its save
		// failed there, the engine recorded "stopped", not "done". Not
		// from a failed device (lost, out of memory): it holds no
		// weights to read, and its error is already the run's.
		if n := h.e.Trainer.StepIndex(); n > 0 && h.e.Backend.Err() == nil {
			was := h.fullAt
			err := h.checkpoint(n - 1)
			if torn := (*rlt.TornError)(nil); errors.As(err, &torn) {
				// Step n failed after its update (the run's error says
				// how): the engine's state is no step's, and none is
				// saved (run.Engine's Snapshot); said with the
				// checkpoint that stands, not as a save that failed.
				k, ok := h.lastGood() // one read of the checkpoints for the three
				err = fmt.Errorf("no final checkpoint: %w; the run folder keeps what it had: %s%s", torn, h.keptAt(k, ok), tornLost(k, ok, n))
				if !ok {
					// With none to resume from, the way on is to start
					// the run again, said as the launcher says it: the
					// close said only that a resume had none to go on
					// from.
					err = fmt.Errorf("%w; %s", err, sessions.StartAgainLine(h.rec.Dir()))
				}
			} else {
				err = finalCheckpointError(n-1, was, err)
			}
			errs = append(errs, err)
		}
		// A failed checkpoint that stopped the run, saved after all (the
		// stop's try or the close's): the run's result says so. The
		// failure was real (the run stopped for it), but said alone it
		// read as the step lost, where the step is on disk.
		if h.failErr != nil && errs[0] == h.failErr && h.lastSaved == h.failedAt {
			errs[0] = fmt.Errorf("%w; tried again, it was saved after all (%s): no step is lost", h.failErr, sessions.CheckpointDir(h.rec.Dir(), h.failedAt))
		}
		// Nothing computes on the device again: the engine has returned
		// (its checkpoints were saved on its goroutine) and the final
		// checkpoint is on disk, the saves being synchronous. Left open,
		// the models' weights and moments held its memory (a GPU's) until
		// the process ended, while the workbench's Runs screen starts
		// and resumes other runs. The engine's controls (the workbench's
		// Control: Pause, Stop, CheckpointNow) only set flags, and
		// StepIndex reads no tensor: both stay usable.
		device.Close(h.e.Backend)
		errs = append(errs, h.rec.Close())
		h.closeErr = errors.Join(errs...)
	})
	return h.closeErr
}

// finalCheckpointError is what Close says of the final checkpoint of step
// (err: its saving's; nil: none to say): where the step's own checkpoint
// found the disk full (fullAt) and it is full still, briefly — the whole
// message, with how much room a checkpoint needs, was said with the step's.
func finalCheckpointError(step, fullAt int, err error) error {
	switch {
	case err == nil:
		return nil
	case fullAt == step && errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("final checkpoint of step %d: the disk is still full", step)
	}
	return fmt.Errorf("final checkpoint: %w", err)
}

// Session is the handle as the workbench shows it.
func (h *Handle) Session(steps int, notes ...string) *sessions.Session {
	return &sessions.Session{Run: h.rec, Control: h.e, Steps: steps, Close: h.Close, Notes: notes}
}
