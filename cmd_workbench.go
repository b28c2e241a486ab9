package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/rlt-workbench/rlt/engine/defaults"
	runpkg "github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/engine/size"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/sessions/lambda"
	"github.com/rlt-workbench/rlt/sessions/runner"
	"github.com/rlt-workbench/rlt/ui"
)

const workbenchUsage = `
Usage: rlt [--runs DIR] [--steps N] [--headless] [--mouse] [--device D] [--matmul M]
       rlt run [--runs DIR] [--name NAME] [--steps N] [--config FILE] [--headless] [--mouse] [--device D] [--matmul M]
       rlt run --resume RUNDIR [--steps N] [--headless] [--mouse] [--device D] [--matmul M]
       rlt run --print-config [--config FILE] [--steps N] [--device D] [--matmul M] > my.toml

Starts a real RLT run on the embedded default teacher and student (tiny
Qwen2 models warm-started on column addition): GRPO on the RLT reward,
recorded in a new run folder under DIR (default ./runs; named after the
time, and --name NAME after it: runs/20261207-232600-lam3), shown live in the
workbench (press ? for its keys). q or Ctrl-C stops after the step in
progress; the folder keeps everything written. --resume continues a run
from its latest checkpoint exactly as if it had not stopped; with --steps N
it records N as the run's plan in its config.toml, once the resumed engine
is loaded and runs (--steps 0: until interrupted). --config FILE starts
from a TOML run configuration over the default one; what is wrong with it
is said all at once: the file's problems with their lines, in the file's
order, then those of keys it does not set. --print-config prints the
configuration a new run would record (every key: the embedded run's, the
file's and the flags' over it, checked as the run would be) and exits,
making no run folder: a file to edit, e.g. [reward] kl_mean, the λ that
weighs r_KL.

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
directory. A run whose disk has less room free than its checkpoints take is
refused before its first step, saying how much to free; a checkpoint that
cannot be written all the same (a disk filled since) stops the run with
that error. With --headless, progress whose reader goes away (a closed
pipe) stops the run after its step; the folder stays resumable.

Examples:
  rlt                                           # the workbench on a new run of the default
  rlt run --headless --steps 5 --device cpu     # progress lines instead, 5 steps
  rlt run --config my.toml                      # my.toml sets keys over the default: steps = 20
  rlt run --print-config > my.toml              # every key of the default run, to edit
  rlt run --config lam3.toml --name lam3        # runs/<time>-lam3: a sweep's runs read apart
  rlt run --resume runs/20261205-015816 --steps 40
`

// runWorkbench is the main job: the engine runs in this process, the
// session records it (sessions/runner), and on a terminal the workbench
// shows it live; with --headless (or no terminal) progress goes to stderr
// as lines.
func runWorkbench(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("rlt run", workbenchUsage, stdout, stderr)
	runs := fs.String("runs", "runs", "folder that holds run folders")
	steps := fs.Int("steps", 0, "GRPO steps (default: the configuration's, with --resume the run's plan; the embedded run's: until interrupted; 0: until interrupted)")
	cfgPath := fs.String("config", "", "TOML run configuration (default: the embedded models' run)")
	headless := fs.Bool("headless", false, "no interactive workbench: progress lines on stderr")
	resume := fs.String("resume", "", "continue the run in this folder from its latest checkpoint")
	mouse := fs.Bool("mouse", false, "the mouse wheel scrolls lists in the workbench")
	dev := fs.String("device", "", "where to compute: cpu, gpu, gpu:N (the Nth Vulkan device) or auto (default: the configuration's device, auto); --resume with --device cpu moves a run off a failed GPU")
	matmul := matmulFlag(fs)
	name := fs.String("name", "", "a name for the new run, after the time in its folder's name (runs/20261207-232600-NAME): letters, digits, - _ . = +")
	printCfg := fs.Bool("print-config", false, "print the new run's configuration as TOML and exit, no run folder made: the embedded run's, --config's keys and the flags over it")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkArgs(fs, 0, ""); err != nil {
		return err
	}
	// As rlt train: a negative count is refused, not dropped; a given one,
	// 0 too (until interrupted), replaces the file's or the resumed
	// folder's steps.
	if err := checkCounts(fs, atLeast{"steps", *steps, 0}); err != nil {
		return err
	}
	stepsGiven := flagsGiven(fs)["steps"]
	if err := runner.CheckRunName(*name); err != nil {
		return badValue(fs, "--name %v", err)
	}
	if *resume != "" && *name != "" {
		return misuse(fs, "--name with --resume: a resumed run keeps its folder (%s); --name names a new run", *resume)
	}
	if *resume != "" && *printCfg {
		return misuse(fs, "--print-config with --resume: a resumed run's configuration is its config.toml (%s)", filepath.Join(*resume, sessions.ConfigFile))
	}
	if *printCfg {
		// Each of these was accepted and ignored: --print-config makes no
		// run folder to name and starts no run to watch. --runs is taken:
		// it says where runs are kept, not what this run is, so a script
		// or alias that gives it to every rlt run still prints.
		given := flagsGiven(fs)
		for _, f := range []struct{ flag, use, why string }{
			{"name", "--name NAME", "--name names a new run's folder, and --print-config makes none"},
			{"headless", "--headless", "--print-config starts no run, so there is no workbench to go without"},
			{"mouse", "--mouse", "--print-config opens no workbench for the mouse to scroll"},
		} {
			if given[f.flag] {
				return misuse(fs, "--print-config with --%s: %s; give --%s to the run that reads the printed file (%s run --config FILE %s)", f.flag, f.why, f.flag, sessions.Program(), f.use)
			}
		}
	}
	if *resume != "" && *cfgPath != "" {
		return misuse(fs, "--config with --resume: a resumed run keeps its own config.toml (%s); edit that file, or start a new run from %s without --resume",
			filepath.Join(*resume, sessions.ConfigFile), *cfgPath)
	}
	if err := checkDeviceFlags(fs); err != nil { // before a run folder exists
		return err
	}
	interactive := !*headless && isTerminal(stdin) && isTerminal(stdout)
	// --runs holds the new run's folder, and the workbench's Runs screen
	// lists it, with --resume too; a resume without the workbench uses it
	// for neither, and was refused where the default's runs is a file.
	// --print-config makes no folder: --runs is not looked at.
	if (*resume == "" || interactive) && !*printCfg {
		if err := runsFolderProblem(*runs); err != nil {
			return err
		}
	}
	if !interactive {
		// Progress goes to stderr, perhaps a pipe whose reader quits
		// (`rlt run --headless 2>&1 | head -1`): a write to it must fail
		// with EPIPE, which stops the run cleanly (runner.ProgressWriter),
		// not kill the process mid-step.
		signal.Ignore(syscall.SIGPIPE)
	}
	// The stop signals are watched (watch) from just before the run
	// folder is made or opened to be resumed: one that came while it was
	// made killed the process, the folder left as a killed writer's. The
	// first run's load context (load: untilStop, ended by the first) is
	// set up then too, as a launch's from the Runs screen is before its
	// folder is made (runner.Launcher.Start), so that it follows their
	// rule: a first signal while the folder is made removes it again, one
	// while a resume's checks run leaves the run as it was, its session
	// not begun (runner.CreateUnlessStopped, OpenForResumeUnlessStopped:
	// a *sessions.LaunchStoppedError, exit 1); one once the load has begun
	// stops it at once (runner.Start), the folder recorded as stopped
	// before its first step (a resumed one as it was). The load context
	// was set up once the folder was made: a signal during its making
	// kept the folder, stopped before its first step, and one during a
	// resume's checks began its session, said as a stopped load. Not
	// before: one during the checks, no folder yet, ends the process, as
	// it ends every command before its work; held, the checks went on (a
	// large data file read) and a folder was made for a run stopped
	// before its first step.
	var (
		stop, leave <-chan struct{}
		load        context.Context
	)
	release, stopLoad := func() {}, func() {}
	defer func() { stopLoad(); release() }()
	watch := func() {
		stop, leave, release = stopThenLeave()
		load, stopLoad = untilStop(stop)
	}
	// run.lock says which, while this process trains the run, so that a
	// workbench opening it says where it can be reviewed meanwhile.
	process := sessions.ProcessHeadless
	if interactive {
		process = sessions.ProcessWorkbench
	}
	models, err := defaults.Dir()
	if err != nil {
		return err
	}
	var (
		rec     *sessions.Run
		checked runpkg.Checked // the configuration this session runs, its data read
		prepare runner.Prepare = runner.Fresh
	)
	if *resume != "" {
		// The run's config.toml is checked with the flags over it, as the
		// session runs it. --steps is the run's new plan, recorded in
		// config.toml (by r.Restore, once the engine is ready to run):
		// listings and the header count against it, and a later --resume
		// without --steps goes on to it. --device and --matmul are not
		// recorded: they move this session, not the run.
		watch()
		r, err := launchOrLeave(leave, true, stderr, func() (runner.Resumable, error) {
			return runner.OpenForResumeUnlessStopped(load, *resume, runner.Overrides{Steps: *steps, StepsGiven: stepsGiven, Device: *dev, Matmul: *matmul}, process)
		}, func(r runner.Resumable) *sessions.Run { return r.Rec })
		for _, n := range r.Notes {
			fmt.Fprintf(stderr, "%s\n", n)
		}
		if nothing := (*sessions.NothingToRunError)(nil); errors.As(err, &nothing) {
			fmt.Fprintf(stderr, "%v; to continue it, pass %s\n", err, sessions.MoreSteps(nothing.Done))
			return nil
		}
		// A stop as its checks ran left the run as it was: said in the
		// Runs screen's words (sessions.LaunchStoppedError's), then how it
		// goes on (sessions.ContinueLine, as the Runs screen's stopped
		// resume says it), as a load stopped says it: it ended at "as it
		// was", the run named nowhere on the line.
		if stopped := (*sessions.LaunchStoppedError)(nil); errors.As(err, &stopped) {
			return fmt.Errorf("%w; %s", err, sessions.ContinueLine(*resume))
		}
		if err != nil {
			return err
		}
		rec, checked = r.Rec, r.Checked
		prepare = func(ctx context.Context, e *runpkg.Engine) error {
			if err := r.Restore(ctx, e); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "resuming %s after step %d\n", *resume, r.Ck.Step)
			return nil
		}
	} else {
		// A new run folder is made in --runs: one that cannot be written
		// (a read-only disk) is said with the flag and the way on, before
		// any check reads the data. It was "mkdir runs: read-only file
		// system", with neither.
		if !*printCfg {
			if err := refuseUnwritable("runs", *runs, *runs); err != nil {
				return err
			}
		}
		cfg := runner.DefaultConfig(models, *steps)
		// The configuration file's text, to put its problems on their
		// lines; its unknown keys and mistyped values are said with the
		// problems of the values it gives (decodeErr), all at once.
		text, decodeErr, err := runner.DecodeFile("run", *cfgPath, &cfg)
		if err != nil {
			return err
		}
		flagKeys := map[string]string{}
		if stepsGiven { // else the file's steps stand
			cfg.Steps, flagKeys["steps"] = *steps, "steps"
		}
		if *dev != "" {
			cfg.Device, flagKeys["device"] = *dev, "device"
		}
		if *matmul != "" {
			cfg.Matmul, flagKeys["matmul"] = *matmul, "matmul"
		}
		// Checked here, where a problem is said on its line of the file or
		// with the flag that set its value; the run folder and the engine
		// are made from what was checked, the data as read here.
		if checked, err = runner.CheckFile(cfg, *cfgPath, text, decodeErr, flagKeys); err != nil {
			// After one problem on its line; after several, on a line of
			// its own, not tacked onto the last one's.
			if strings.Contains(err.Error(), "\n") {
				return fmt.Errorf("%w\n(no run folder was created)", err)
			}
			return fmt.Errorf("%w (no run folder was created)", err)
		}
		if *printCfg {
			// What the new run would record in its config.toml (less the
			// paths made absolute), checked as it would be: the embedded
			// run's keys, which rlt train --print-config does not print
			// (its micro_batch_tokens, the embedded models' prompts).
			data, err := sessions.EncodeTOML(checked.Config())
			if err != nil {
				return err
			}
			_, err = stdout.Write(data)
			return err
		}
		// As a resume: refused before a folder is made, not at the first
		// checkpoint.
		if err := runner.CheckRoom(*runs, checked.Config()); err != nil {
			return err
		}
		watch()
		type made struct {
			rec     *sessions.Run
			checked runpkg.Checked
		}
		m, err := launchOrLeave(leave, false, stderr, func() (made, error) {
			rec, checked, err := runner.CreateNamedUnlessStopped(load, *runs, *name, checked, process)
			return made{rec, checked}, err
		}, func(m made) *sessions.Run { return m.rec })
		if err != nil {
			return err
		}
		rec, checked = m.rec, m.checked
	}
	if !interactive {
		return runHeadless(load, rec, checked, prepare, *resume != "", leave, stderr)
	}
	// The workbench's engines run on a context no signal cancels: a
	// signal quits the workbench as q does (ui.Options.Stop), which
	// stops them after the step in progress, its final checkpoint
	// written; the signal's cancelled context dropped the step in
	// progress. A second leaves at once (ui.Options.Leave). The first
	// run's load, before the workbench is on the screen, is stopped by
	// the first signal at once, as every command's load is: it was
	// heeded only once the models had loaded (a minute for a 7B model).
	// A second leaves it at once (startOrLeave), as it leaves the
	// workbench. So are the loads of the runs the Runs screen starts and
	// resumes stopped (runner.Launcher.Load), and by q too.
	ctx := context.Background()
	h, err := startOrLeave(load, ctx, rec, checked, prepare, leave, stderr)
	if errors.Is(err, ui.ErrLeft) {
		return err
	}
	if stopped := (*runpkg.LoadStopped)(nil); errors.As(err, &stopped) {
		return runLoadStopped(err, rec.Dir(), *resume != "")
	}
	if err != nil {
		return err
	}
	// The Runs screen's loads stop on the first signal (load's end) and
	// on the workbench's quit, q included (EndLoads): q during one waited,
	// off the screen, for the whole load.
	loads, endLoads := untilQuit(load)
	defer endLoads()
	l := runner.NewLauncher(ctx, *runs, models)
	l.Load = loads
	l.Device, l.Matmul = *dev, *matmul
	l.Wrote(rec.Dir())
	s := &sessions.Session{Run: rec, Control: h.Engine(), Steps: checked.Config().Steps, Close: h.Close}
	err = ui.Run(ui.Options{Session: s, Launcher: l, RunsDir: *runs, Mouse: *mouse, Stop: stop, Leave: leave, EndLoads: endLoads}, nil, nil)
	if !errors.Is(err, ui.ErrLeft) {
		// The workbench has ended every run it opened (their errors
		// are in err); this Close only returns at once.
		h.Close()
		return workbenchEnded(err, l.Written(), nil, stderr)
	}
	return leaveAtOnce(err, l.Written(), stderr)
}

// startOrLeave is runner.Start (loadCtx, runCtx, rec, checked, prepare)
// of rlt run's first run on a terminal, before the workbench is on the
// screen, unless leave (stopThenLeave's: a second stop signal) closes
// first: then it leaves at once as runHeadless does (leaveAtOnce, the run
// folder recording the leave, said on stderr), its error holding
// ui.ErrLeft. The first signal ends loadCtx, but a load phase that does
// not heed it (a device that does not answer as it opens, a hung disk, a
// read that blocks) held the process with the second signal swallowed,
// no way out but SIGKILL. The load is not waited for; a handle Start
// returns after the leave is closed, so that nothing computes on its
// device while the process ends (the folder, left first, takes nothing
// more from it: it stays as the leave recorded it).
func startOrLeave(loadCtx, runCtx context.Context, rec *sessions.Run, checked runpkg.Checked, prepare runner.Prepare, leave <-chan struct{}, stderr io.Writer) (*runner.Handle, error) {
	type started struct {
		h   *runner.Handle
		err error
	}
	done := make(chan started, 1)
	go func() {
		h, err := runner.Start(loadCtx, runCtx, rec, checked, rec, prepare)
		done <- started{h, err}
	}()
	select {
	case s := <-done:
		return s.h, s.err
	case <-leave:
		err := leaveAtOnce(ui.ErrLeft, []string{rec.Dir()}, stderr)
		go func() {
			if s := <-done; s.h != nil {
				s.h.Close()
			}
		}()
		return nil, err
	}
}

// runLoadStopped is rlt run's error when its first stop signal came while
// the run's models loaded, before the workbench was on the screen, or
// under --headless, whatever its steps (err: runner.Start's
// *run.LoadStopped): one line, as every command says a stopped load
// (loadStoppedWords: before its first step, while the models loaded, where
// the load stopped), then the run folder dir and how it goes on
// (sessions.ContinueLine): a new run's, recorded as stopped before its first step,
// with no checkpoint to continue from; a resumed one's (resumed), as it
// was.
func runLoadStopped(err error, dir string, resumed bool) error {
	unit, folder := "step", "run folder "+dir
	if resumed {
		unit, folder = "resumed step", "run folder "+dir+", as it was"
	}
	return fmt.Errorf("%s: %s: %s", loadStoppedWords(err, "the models loaded", unit), folder, sessions.ContinueLine(dir))
}

// runHeadless trains rec without the workbench, progress lines on stderr,
// stopped by the signals as the workbench is (ctx: untilStop of
// stopThenLeave's stop, the context rec was made or opened under; and
// leave): the first ends the run after the step in progress with its
// final checkpoint (runner.Headless: ctx is only its load's, its engine
// runs on a context no signal ends, as the workbench's), a second
// leaves at once, said as the workbench says it (ui.ErrLeft,
// workbenchEnded), the run folder going on from its last checkpoint on
// disk. signal.NotifyContext swallowed the second: the user waited for the
// step and the final save, however long, with no way out but SIGKILL. A
// stop while the models load (resumed: the checkpoint's) is said as the
// workbench says it (runLoadStopped), exit 1: it told a new run, which has
// no checkpoint, that rlt run --resume continues it, and exited 0 with
// --steps 0.
func runHeadless(ctx context.Context, rec *sessions.Run, checked runpkg.Checked, prepare runner.Prepare, resumed bool, leave <-chan struct{}, stderr io.Writer) error {
	ended := make(chan error, 1)
	go func() { ended <- runner.Headless(ctx, rec, checked, prepare, stderr) }()
	select {
	case err := <-ended:
		if stopped := (*runpkg.LoadStopped)(nil); errors.As(err, &stopped) {
			return runLoadStopped(err, rec.Dir(), resumed)
		}
		return err
	case <-leave:
		// The engine is not waited for: the process exits once the run
		// folder has recorded that it left it (recordLeave).
		return leaveAtOnce(ui.ErrLeft, []string{rec.Dir()}, stderr)
	}
}

// launchOrLeave is launch, rlt run's first run made
// (runner.CreateUnlessStopped) or opened to resume (resume:
// OpenForResumeUnlessStopped), unless leave (stopThenLeave's: a second
// stop signal) closes first: then it leaves at once, as the second signal
// leaves a run that trains (recordLeave), not waiting for the launch's
// checks (a hung disk, a large data file, a device that does not answer),
// where it waited for them with the signals no longer caught, and only a
// third ended the process. Its error is then the launch stopped as the
// first signal stops it once its checks end (sessions.LaunchStoppedError,
// its cause sessions.SecondSignal): no run folder made, or the one being
// made removed again (runner.LeaveLaunches waits for it); a resumed run as
// it was found, its session not begun, its run.lock put back (its leave).
// A launch that ended as the leave came is said as it ended: a stop's, or
// a run made or begun, which its leave recorded (rec: the run launched),
// said as a leave at once says it (leaveAtOnce); so is one whose run was
// made or begun before the leave but that has not returned yet, told by
// its leave's record (TestLeaveSaysARunMadeAsTheLeaveCame).
func launchOrLeave[T any](leave <-chan struct{}, resume bool, stderr io.Writer, launch func() (T, error), rec func(T) *sessions.Run) (T, error) {
	type launched struct {
		v   T
		err error
	}
	done := make(chan launched, 1)
	go func() {
		v, err := launch()
		done <- launched{v, err}
	}()
	select {
	case l := <-done:
		return l.v, l.err
	case <-leave:
	}
	left := recordLeave(stderr)
	var zero T
	select {
	case l := <-done:
		if l.err == nil && rec(l.v) != nil {
			return zero, workbenchEnded(ui.ErrLeft, []string{rec(l.v).Dir()}, left, stderr)
		}
		if stopped := (*sessions.LaunchStoppedError)(nil); errors.As(l.err, &stopped) {
			return zero, l.err
		}
	default:
	}
	if len(left) > 0 {
		// The launch made its run, or began the resumed run's session,
		// before its launches were left (runner.LeaveLaunches waited for
		// that), and has not returned it yet: the run is there, and its
		// leave recorded it (left, the only run this process opened).
		// Said as the folder recorded it, not as a launch that made
		// none ('stopped before its run folder was made, so none was'
		// of a folder there, noted left at once).
		return zero, workbenchEnded(ui.ErrLeft, nil, left, stderr)
	}
	return zero, &sessions.LaunchStoppedError{Resume: resume, Err: sessions.SecondSignal}
}

// leaveAtOnce is how a command left at once on a second stop signal (err
// is ui.ErrLeft, or holds it) ends: every run folder it trains records the
// leave (recordLeave), then each of dirs is said with what it lost, in
// its folder's words, and how it goes on (workbenchEnded).
func leaveAtOnce(err error, dirs []string, stderr io.Writer) error {
	return workbenchEnded(err, dirs, recordLeave(stderr), stderr)
}

// leaveWithin bounds how long a command leaving at once on a second stop
// signal waits for the run folders it trains to record it (recordLeave):
// the user asked to leave now, and a disk that is full or hung must not
// hold the process. A variable only so that the tests that leave in their
// own process (inItsOwnProcess) bound the wait as a hang guard
// (leaveHangGuard): at 2 s their pass depended on a loaded machine ending a
// launch, and writing and syncing a close, within it.
var leaveWithin = 2 * time.Second

// recordLeave has every run folder this process trains record that it
// was left at once on a second stop signal (sessions.LeaveAll): a close
// saying the step lost and the checkpoint it continues from, run.lock
// released, so that rlt sessions and the Runs screen list it stopped with
// that note, not as a killed writer's ("gone without stopping it") until
// its next open tidied it. The engines are not waited for; a checkpoint
// they are writing is never put in place. A folder that could not record
// it within leaveWithin is said on stderr, left as a kill would leave it.
// It returns the folders that recorded it, with the close's note
// (sessions.Left): what workbenchEnded says each lost.
func recordLeave(stderr io.Writer) []sessions.Left {
	// The runs being launched first (rlt run's first, the Runs screen's):
	// none is made or begun from now on, and a folder being made is
	// removed again, as its stop has it, so that their leave finds what
	// there is to leave.
	if err := runner.LeaveLaunches(leaveWithin); err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
	}
	return leaveRuns(stderr)
}

// leaveRuns is recordLeave's leave of the run folders this process
// trains, once its launches are left (before, a folder being made as the
// leave came was recorded left, then removed:
// TestRecordLeaveLeavesTheLaunchesFirst). It is apart so that a test of
// what the folders say (TestLeaveSaysWhatEachRunFolderLost) leaves its
// own runs without runner.LeaveLaunches, whose leave holds for the rest
// of the process, as a leave at once does; leaveRuns leaves the launches
// as they were (TestLeaveLeavesLaunchesAsTheyWere). The tests that leave
// run in their own process all the same (inItsOwnProcess).
func leaveRuns(stderr io.Writer) []sessions.Left {
	left, err := sessions.LeaveAll("on a second stop signal", leaveWithin)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
	}
	return left
}

// workbenchEnded says, once the workbench has left the screen (or rlt run
// --headless has ended), every run it trained (dirs) with the command that
// continues it from its final checkpoint, or, left at once on a second
// signal (ui.ErrLeft), from its last checkpoint on disk. There a folder
// that recorded the leave (left, recordLeave) says what it lost in its
// close's own words, which rlt sessions notes too: the step in progress,
// a checkpoint being written, or nothing where its checkpoint was in place
// before the leave. A guess said here ("its final checkpoint is lost")
// contradicted the folder where that checkpoint had been written.
func workbenchEnded(err error, dirs []string, left []sessions.Left, stderr io.Writer) error {
	notes := make(map[string]string, len(left))
	for _, lf := range left {
		notes[filepath.Clean(lf.Dir)] = lf.Note
	}
	// A folder's lines go out in one write: the engines may still print
	// (a checkpoint's notice) as the process leaves, and one line of
	// theirs between a folder and its note split what belongs together.
	say := func(d string) {
		var b strings.Builder
		fmt.Fprintf(&b, "run folder %s\n", d)
		if n, ok := notes[filepath.Clean(d)]; ok {
			fmt.Fprintf(&b, "  %s\n", n)
			delete(notes, filepath.Clean(d))
		} else if _, err := os.Lstat(d); errors.Is(err, fs.ErrNotExist) {
			// A new run stopped as it was made, removed again by its
			// launch (runner.LeaveLaunches waited for the removal), or
			// a folder the user removed or moved during the command (a
			// normal quit says this too): there is no folder to continue.
			fmt.Fprintf(&b, "  %s\n", removedFolder)
			io.WriteString(stderr, b.String())
			return
		}
		fmt.Fprintf(&b, "  %s\n", sessions.ContinueLine(d))
		io.WriteString(stderr, b.String())
	}
	for _, d := range dirs {
		say(d)
	}
	for _, lf := range left { // a folder left that dirs does not name
		if _, ok := notes[filepath.Clean(lf.Dir)]; ok {
			say(lf.Dir)
		}
	}
	if errors.Is(err, ui.ErrLeft) {
		// Not "from its last checkpoint on disk": one left before its
		// first checkpoint has none, as its lines say.
		return fmt.Errorf("%w; each run above goes on as said under its folder", err)
	}
	return err
}

// removedFolder is what workbenchEnded says under a run folder that is not
// there as the command ends: a new run whose stop came as it was made,
// removed again, or a folder removed or moved since by someone else (the
// words named the first cause alone, wrong for a folder the user removed
// during a quit). It said how to go on from it (sessions.ContinueLine:
// 'start it again: rlt run --config DIR/config.toml', a file removed).
const removedFolder = "it is not there now (a new run stopped as it was made is removed again; else it was removed or moved since), so nothing here continues it"

// stopThenLeave watches the stop signals (stopSignals) for the workbench
// and rlt run --headless (runHeadless): the first closes stop, which quits
// the workbench as q does (ui.Options.Stop: the run ends its step and
// writes its final checkpoint, on screen), a second closes leave, which
// leaves at once (ui.Options.Leave), as a user pressing Ctrl-C again
// expects; the signals are then no longer caught, so a third
// kills as if none were. signal.NotifyContext swallowed the second: the
// workbench waited for the step, however long. release stops watching.
func stopThenLeave() (stop, leave <-chan struct{}, release func()) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, stopSignals...)
	stopc, leavec, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		for _, c := range []chan struct{}{stopc, leavec} {
			select {
			case <-sigs:
				close(c)
			case <-done:
				return
			}
		}
		signal.Stop(sigs)
	}()
	var once sync.Once
	return stopc, leavec, func() {
		once.Do(func() {
			signal.Stop(sigs)
			close(done)
		})
	}
}

// untilStop is a context that ends when stop (stopThenLeave's) closes, on
// the first stop signal, its cause sessions.StopSignal (a launch it stops
// says so); cancel ends it, and the watch, sooner.
func untilStop(stop <-chan struct{}) (ctx context.Context, cancel context.CancelFunc) {
	ctx, end := context.WithCancelCause(context.Background())
	go func() {
		select {
		case <-stop:
			end(sessions.StopSignal)
		case <-ctx.Done():
		}
	}()
	return ctx, func() { end(nil) }
}

// untilQuit is the load context of the runs the Runs screen starts and
// resumes (runner.Launcher.Load): load's, and ended by endLoads on the
// workbench's quit, q included (ui.Options.EndLoads), its cause
// sessions.WorkbenchQuit (a launch it stops says so).
func untilQuit(load context.Context) (loads context.Context, endLoads func()) {
	loads, end := context.WithCancelCause(load)
	return loads, func() { end(sessions.WorkbenchQuit) }
}

const openUsage = `
Usage: rlt open [--runs DIR] [--mouse] [--format rlt|trl|verl|nemo-rl] [--device D] [--matmul M] RUNDIR

Opens any run folder in the workbench without training it: finished,
stopped, imported, or a trainer's run folder, followed live while the
trainer writes it: the official RLT trainer's, TRL GRPOTrainer's
output_dir, verl's file-logger and rollout folder, NeMo-RL's log_dir (see
rlt import; the trainer is detected, or named with --format). Reviews,
flags and exports are written when no other process holds the folder; when
one does (an engine training it), the run opens read-only and the status
line says which process holds it. The Runs screen (4) resumes training,
on --device where given (rlt open --device cpu DIR, then r: a run off a
failed GPU).

Examples:
  rlt open runs/20261205-015816                 # a run of ours, read-only or resumed with r
  rlt open --format trl /data/grpo-output       # a TRL run, followed while it trains
  rlt open --device cpu runs/20261205-015816    # then r: resume a run off a failed GPU
`

func runOpen(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("rlt open", openUsage, stdout, stderr)
	runs := fs.String("runs", "runs", "folder that holds run folders (the Runs screen lists it)")
	mouse := fs.Bool("mouse", false, "scroll lists with the mouse wheel (the terminal's own selection needs shift)")
	format := fs.String("format", "", "the trainer that wrote RUNDIR when it is not a run folder of ours: rlt, trl, verl or nemo-rl (default: detected)")
	dev := fs.String("device", "", "where runs resumed or started from the Runs screen compute: cpu, gpu, gpu:N or auto (default: each run's configuration); --device cpu moves a run off a failed GPU")
	matmul := matmulFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkArgs(fs, 1, "RUNDIR"); err != nil {
		return err
	}
	if err := checkDeviceFlags(fs); err != nil {
		return err
	}
	if err := sessions.CheckImportFormat(*format); err != nil {
		return badValue(fs, "--format: %v", err)
	}
	// The Runs screen lists --runs and starts its runs there: a --runs
	// given that is a file is refused at once, as rlt run refuses it, not
	// once a run was started from the screen. The default's runs is not
	// asked for: a file of that name in the working folder does not stop
	// opening the run named (the Runs screen says what its listing met).
	if flagsGiven(fs)["runs"] {
		if err := runsFolderProblem(*runs); err != nil {
			return err
		}
	}
	dir := fs.Arg(0)
	stop, leave, release := stopThenLeave() // the runs resumed here stop as q stops them (runWorkbench)
	defer release()
	ctx := context.Background()
	// New runs started from the Runs screen use the embedded models.
	models, err := defaults.Dir()
	if err != nil {
		return err
	}
	load, stopWatching := untilStop(stop) // a load under way stops at once on the first signal (runWorkbench)
	defer stopWatching()
	loads, endLoads := untilQuit(load) // and on the workbench's quit, q included (ui.Options.EndLoads)
	defer endLoads()
	l := runner.NewLauncher(ctx, *runs, models)
	l.Load = loads
	l.TrainerFormat = *format
	l.Device, l.Matmul = *dev, *matmul
	s, err := l.OpenForReview(dir)
	if req := (*sessions.RequestError)(nil); errors.As(err, &req) && req == err && req.Op == "open" {
		// "rlt open:" says the request already: "rlt open: open DIR: …"
		// would say it twice.
		return fmt.Errorf("%s: %w", req.Dir, req.Err)
	}
	if err != nil {
		return err
	}
	err = ui.Run(ui.Options{Session: s, Launcher: l, RunsDir: *runs, Mouse: *mouse, Stop: stop, Leave: leave, EndLoads: endLoads}, nil, nil)
	if errors.Is(err, ui.ErrLeft) {
		return leaveAtOnce(err, l.Written(), stderr)
	}
	return workbenchEnded(err, l.Written(), nil, stderr)
}

const sessionsUsage = `
Usage: rlt sessions [--runs DIR]

Lists the run folders under DIR with their state (running, paused,
resuming, finished, stopped, failed, broken, unknown), steps done (STEPS,
counted as the workbench's Runs screen counts them: an imported run by its
trainer's step numbers; against the plan where one is known, 3/20, or 6 (4
planned) past it), best mean reward, r_KL's weight λ ([reward] kl_mean:
a best reward compares across runs of one λ), size, creation time and the
device the run last computed on (gpu:N of several). A run a process keeps open
with no engine (a workbench after its engine stopped or to review it,
rlt score --write) is listed by its training state, with the process
that holds it and why; a killed writer's run is stopped, noting what the
gone process had done (also after a review opened and closed it, until
a resume); one killed after the checkpoint of its last planned step has
done its steps, and is finished, so noted. A run whose run.lock cannot
be probed (a filesystem without locks, NFS whose lock manager is not
reached) while its events leave a training session open is unknown,
noting what it is if a process holds it and what if none does.

Examples:
  rlt sessions                                  # the runs under ./runs
  rlt sessions --runs /data/rlt-runs
`

func runSessions(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("rlt sessions", sessionsUsage, stdout, stderr)
	runs := fs.String("runs", "runs", "folder that holds run folders")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 { // rlt sessions DIR: the folder is --runs DIR
		dir := fs.Arg(0)
		hint := "--runs " + sessions.ShellQuote(dir)
		if _, err := os.Stat(filepath.Join(dir, sessions.ConfigFile)); err == nil {
			hint = "--runs " + sessions.ShellQuote(filepath.Dir(filepath.Clean(dir))) + ", the folder that holds it"
		}
		return misuse(fs, "unexpected argument %q: %s takes only flags (%s?)", dir, fs.Name(), hint)
	}
	// --runs given a run folder itself lists what is in it, none of which
	// is a run: said as the folder that holds it.
	isRun := false
	if _, err := os.Stat(filepath.Join(*runs, sessions.ConfigFile)); err == nil {
		isRun = true
	}
	if err := runsFolderProblem(*runs); err != nil {
		return err
	}
	list, err := sessions.List(*runs)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("--runs %s: no such folder: give the folder that holds the run folders (default ./runs, where "+sessions.Program()+" run writes them)", *runs)
	case err != nil:
		return fmt.Errorf("--runs %s: %w", *runs, err)
	}
	// The RUN column is as wide as the longest name (20 at least: a
	// time's): a name past it (an import's, rlt run --name's) pushed its
	// row's columns out from under the header's.
	nameWidth := 20
	// Each run's λ (r_KL's weight, [reward] kl_mean) beside its best
	// reward, which compares across runs of one λ alone: a sweep's runs
	// were listed with no word of it. In rlt report's and the dashboard
	// legend's words (lambda), the column as wide as its longest.
	const lamHead = "R_KL WEIGHT"
	lams := make([]string, len(list))
	lamWidth := utf8.RuneCountInString(lamHead)
	for i, r := range list {
		nameWidth = max(nameWidth, utf8.RuneCountInString(r.Name))
		lams[i] = lambda.Of(r.Settings).String()
		lamWidth = max(lamWidth, utf8.RuneCountInString(lams[i]))
	}
	fmt.Fprintf(stdout, "%-*s %-9s %6s %12s %-*s %10s  %-16s  %s\n", nameWidth, "RUN", "STATE", "STEPS", "BEST REWARD", lamWidth, lamHead, "SIZE", "CREATED", "DEVICE")
	switch {
	case len(list) == 0 && isRun:
		fmt.Fprintf(stderr, "rlt sessions: %s is a run folder itself (it holds %s): --runs names the folder that holds run folders: --runs %s\n", *runs, sessions.ConfigFile, sessions.ShellQuote(filepath.Dir(filepath.Clean(*runs))))
	case len(list) == 0:
		fmt.Fprintf(stderr, "rlt sessions: no run folders under %s (a run folder holds %s or %s; --runs names the folder that holds them)\n", *runs, sessions.ConfigFile, sessions.MetricsFile)
	}
	now := time.Now() // one clock for every line's time left
	for i, r := range list {
		best := "—"
		if r.BestReward == r.BestReward { // not NaN
			best = fmt.Sprintf("%.4f", r.BestReward)
		}
		steps := sessions.StepsCell(r.Numbering, r.LastStep, r.PlannedSteps) // the workbench's Runs screen's
		dev := "—"
		if label := r.Device.Label(); label != "" {
			dev = label
		}
		created := "—" // a folder whose config.toml and events cannot be read says no time
		if !r.Created.IsZero() {
			created = r.Created.Format("2006-01-02 15:04")
		}
		fmt.Fprintf(stdout, "%-*s %-9s %6s %12s %-*s %10s  %-16s  %s", nameWidth, r.Name, r.State, steps, best, lamWidth, lams[i], size.Bytes(r.Size), created, dev)
		if r.Note != "" {
			fmt.Fprintf(stdout, "  (%s)", r.Note)
		}
		if p := r.Progress; p != nil { // where its step is, as the workbench's header says it
			fmt.Fprintf(stdout, "  %s", p.StepLine(now))
		}
		fmt.Fprintln(stdout)
	}
	return nil
}

// stopSignals stop a command cleanly, where it can stop whole: Ctrl-C, a
// kill's SIGTERM, and SIGHUP, which a closed terminal window or a dropped
// ssh connection sends. A run (the workbench, --headless, rlt train) ends
// after its step in progress with a final checkpoint, as if q were
// pressed (the workbench quits as q does: ui.Options.Stop), its folder
// complete, not "gone without stopping" (a second signal leaves the
// workbench or --headless at once, the step lost: stopThenLeave); rlt pretrain, distill and model
// init stop with no model folder half written (a save under way finishes
// first, said at once: saveHeld); rlt eval and rlt generate stop within a
// token (generate's text ended whole), rlt serve once the requests in
// hand are answered, the line commands (rlt tokenize, logprobs:
// eachJSONLine) after the line in progress and rlt score after the batch
// in progress, stdout holding each result whole.
var stopSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}
