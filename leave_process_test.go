package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/defaults"
	runpkg "github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/engine/stoptest"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/sessions/runner"
	"github.com/rlt-workbench/rlt/ui"
)

// leaveChildEnv names, to a child process of this test binary, the test
// it runs (inItsOwnProcess).
const leaveChildEnv = "RLT_TEST_LEAVE_CHILD"

// inItsOwnProcess runs t, a top-level test, again in a child process of
// this test binary, and reports false: t passes or fails as the child
// does, which goes on with the test, told by leaveChildEnv, where
// inItsOwnProcess reports true. A test that leaves as a second stop
// signal does runs so: a leave of the launches (runner.LeaveLaunches,
// which recordLeave does first) holds for the rest of its process, as a
// process leaving at once needs, and in this binary's process it would
// refuse every later test's stopped launch as left by a second signal;
// the leave of the runs (sessions.LeaveAll) leaves every run the process
// holds open, another test's too. Each such test so sets up its own
// state, whatever ran before it, and leaks none into the tests after.
// There the leave's bound (leaveWithin) is leaveHangGuard.
func inItsOwnProcess(t *testing.T) bool {
	t.Helper()
	if os.Getenv(leaveChildEnv) == t.Name() {
		leaveWithin = leaveHangGuard
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.count=1", "-test.v", "-test.timeout=10m")
	cmd.Env = append(os.Environ(), leaveChildEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	switch {
	case err != nil:
		t.Errorf("%s in its own process: %v\n%s", t.Name(), err, out)
	case bytes.Contains(out, []byte("--- SKIP: "+t.Name())):
		t.Skipf("skipped in its own process:\n%s", out)
	case !bytes.Contains(out, []byte("--- PASS: "+t.Name())):
		t.Errorf("%s in its own process did not run:\n%s", t.Name(), out)
	}
	return false
}

// leaveHangGuard is leaveWithin in a test that leaves (inItsOwnProcess):
// a bound on a hang, past which the leave says what it waited for (a
// launch still being written, a close not written) and the test fails
// with it, not a window the test's pass depends on. At the command's 2 s
// a loaded machine (CI's two cores, busy) could take longer to end the
// held launch, or to write and sync a run's close, and the test failed,
// its folder said left or a launch said still being written. Two bounds
// of it (LeaveLaunches', LeaveAll's) fit in the child's -test.timeout.
const leaveHangGuard = 2 * time.Minute

// leaveGuardedEnv, "1", makes TestHelperLeaveGuarded rlt. Only this test
// binary reads it.
const leaveGuardedEnv = "RLT_TEST_LEAVE_GUARDED"

// TestHelperLeaveGuarded is rlt, its arguments after --, whose leave at
// once on a second stop signal (recordLeave) is bounded by leaveHangGuard,
// not the command's 2 s: run as its own process (leaveGuardedRun) by the
// tests that leave a real process so, whose pass depended on a loaded
// machine putting a checkpoint under way into place, and writing and
// syncing the run's close, within 2 s of the second signal; the run was
// then said left as a killed writer's and listed 'gone without stopping
// it'. What is left, and how fast, is rlt's; the bound is a hang guard.
// Run by go test, with leaveGuardedEnv unset, it skips: it is no test of
// its own.
func TestHelperLeaveGuarded(t *testing.T) {
	if os.Getenv(leaveGuardedEnv) != "1" {
		t.Skip("rlt for the tests that leave a real process at once, which run it")
	}
	leaveWithin = leaveHangGuard
	tightenGC()
	os.Exit(run(flag.Args(), os.Stdin, os.Stdout, os.Stderr))
}

// leaveGuardedRun is the flag that runs this test binary as rlt bounding
// its leave by leaveHangGuard (TestHelperLeaveGuarded), leaveGuardedEnv=1
// in its environment: rlt's arguments follow it after --.
const leaveGuardedRun = "-test.run=^TestHelperLeaveGuarded$"

// smallChecked is the small run's configuration (smallRun) on the CPU,
// checked: what a launch makes a run folder of.
func smallChecked(t *testing.T) runpkg.Checked {
	t.Helper()
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	models, err := defaults.Dir()
	if err != nil {
		t.Fatal(err)
	}
	cfg := runner.DefaultConfig(models, 1)
	if err := sessions.DecodeStrict("small.toml", []byte(smallRun), &cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Device = "cpu"
	checked, err := runpkg.Check(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return checked
}

// launchesLeft reports whether this process has left its launches
// (runner.LeaveLaunches), told by a launch's own refusal: a resume whose
// load context ends as it is about to open its run (its second look,
// stoptest.OnLook, taken only once the launches are left) is refused as
// left by a second signal; before, it opens none (the folder named is not
// there, none).
func launchesLeft(none string) bool {
	base, stop := context.WithCancelCause(context.Background())
	defer stop(nil)
	ctx := &stoptest.OnLook{Context: base, N: 2, Cancel: func() { stop(sessions.StopSignal) }}
	_, err := runner.OpenForResumeUnlessStopped(ctx, none, runner.Overrides{}, sessions.ProcessHeadless)
	return errors.Is(err, sessions.SecondSignal)
}

// TestRecordLeaveLeavesTheLaunchesFirst: a command leaving at once
// (recordLeave) leaves its launches first (runner.LeaveLaunches), then
// its runs (leaveRuns): a new run's folder being made as the leave comes,
// whose stop came meanwhile (the first signal), is removed again once its
// making ends, which LeaveLaunches waits for, and is said left by none.
// Its runs left first, the folder being made was recorded left ('left at
// once on a second stop signal before its first step') and then removed:
// said under its folder, with no folder there. The making is held at its
// load context's look after the folder is made (stoptest.OnLook) until
// this process has left its launches (launchesLeft), not by a clock; the
// leave's wait for it is bounded by leaveHangGuard, not the command's 2 s.
func TestRecordLeaveLeavesTheLaunchesFirst(t *testing.T) {
	if !inItsOwnProcess(t) {
		return
	}
	checked := smallChecked(t)
	runs, none := t.TempDir(), filepath.Join(t.TempDir(), "none")
	base, stop := context.WithCancelCause(context.Background())
	defer stop(nil)
	held, release := make(chan struct{}), make(chan struct{})
	ctx := &stoptest.OnLook{Context: base, N: 2, Cancel: func() {
		stop(sessions.StopSignal)
		close(held)
		<-release
	}}
	launched := make(chan error, 1)
	go func() {
		rec, _, err := runner.CreateUnlessStopped(ctx, runs, checked, sessions.ProcessHeadless)
		if rec != nil {
			rec.Close()
		}
		launched <- err
	}()
	<-held // its folder made, open for writing, its stop come
	var stderr bytes.Buffer
	recorded := make(chan []sessions.Left, 1)
	go func() { recorded <- recordLeave(&stderr) }()
	for !launchesLeft(none) {
		select {
		case left := <-recorded:
			close(release)
			t.Fatalf("the leave ended (%v) while a run folder was being made", left)
		default:
			runtime.Gosched()
		}
	}
	close(release)
	left := <-recorded
	if len(left) != 0 || stderr.Len() != 0 {
		t.Errorf("the leave recorded %v (%q); want none: the folder being made is removed again", left, stderr.String())
	}
	var stopped *sessions.LaunchStoppedError
	if err := <-launched; !errors.As(err, &stopped) || !stopped.Removed || !errors.Is(err, sessions.StopSignal) {
		t.Errorf("the launch ended with %v; want it stopped as its folder was made, removed again, by %q", err, sessions.StopSignal)
	}
	if names, err := os.ReadDir(runs); err != nil || len(names) != 0 {
		t.Errorf("the runs folder holds %v (%v); want nothing", names, err)
	}
}

// TestLeaveSaysARunMadeAsTheLeaveCame: rlt run's first run, made as the
// second stop signal came (its folder made, kept: the first signal came
// after its making looked), its launch not yet returned, is said as the
// folder its leave recorded (leaveRuns): 'run folder DIR' and 'left at
// once on a second stop signal before its first step', the exit the
// leave's (ui.ErrLeft). It was said 'stopped before its run folder was
// made, so none was', the folder there, recorded left: launchOrLeave took
// a launch that had not returned for one its leave stopped. The launch is
// held after its making until launchOrLeave has returned, not by a clock.
func TestLeaveSaysARunMadeAsTheLeaveCame(t *testing.T) {
	if !inItsOwnProcess(t) {
		return
	}
	checked := smallChecked(t)
	runs := t.TempDir()
	load, stop := context.WithCancelCause(context.Background())
	defer stop(nil)
	made, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	leave := make(chan struct{})
	var stderr bytes.Buffer
	ended := make(chan error, 1)
	go func() {
		_, err := launchOrLeave(leave, false, &stderr, func() (*sessions.Run, error) {
			rec, _, err := runner.CreateUnlessStopped(load, runs, checked, sessions.ProcessHeadless)
			close(made)
			<-release // returned only after launchOrLeave has
			return rec, err
		}, func(rec *sessions.Run) *sessions.Run { return rec })
		ended <- err
	}()
	<-made
	stop(sessions.StopSignal) // the first signal, its folder made
	close(leave)              // the second
	err := <-ended
	names, rerr := os.ReadDir(runs)
	if rerr != nil || len(names) != 1 {
		t.Fatalf("the runs folder holds %v (%v); want the run made", names, rerr)
	}
	dir := filepath.Join(runs, names[0].Name())
	if _, serr := os.Stat(filepath.Join(dir, sessions.ConfigFile)); serr != nil {
		t.Fatalf("the run made: %v", serr)
	}
	if !errors.Is(err, ui.ErrLeft) {
		t.Errorf("error %v; want ui.ErrLeft, the run made said as left", err)
	}
	said := "run folder " + dir + "\n  left at once on a second stop signal before its first step; it has no checkpoint to continue from\n"
	if !strings.Contains(stderr.String(), said) {
		t.Errorf("printed\n%s\nwant the folder made, with its note:\n%s", stderr.String(), said)
	}
}
