//go:build linux

package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/stoptest"
	"github.com/rlt-workbench/rlt/sessions"
)

// finalGateEnv names to TestHelperHeldAfterTheFinalCheckpoint the FIFO
// that stands for an earlier checkpoint's state.json, finalGateBytes the
// file of its bytes, finalGateAt the checkpoint folder of the run's last
// planned step, and finalGateHeld the file it makes once it holds the
// run. Only this test binary reads them.
const (
	finalGateEnv   = "RLT_TEST_FINAL_GATE"
	finalGateBytes = "RLT_TEST_FINAL_GATE_BYTES"
	finalGateAt    = "RLT_TEST_FINAL_GATE_AT"
	finalGateHeld  = "RLT_TEST_FINAL_GATE_HELD"
)

// TestHelperHeldAfterTheFinalCheckpoint is rlt, its arguments after --,
// run as its own process by TestKilledAfterItsFinalCheckpointIsFinished
// and TestStoppedAfterItsFinalCheckpoint: the FIFO finalGateEnv names (an
// earlier checkpoint's state.json) is served to each of its readers while
// no folder matches the pattern finalGateAt names; the first reader once
// one does is held for good, and the file finalGateHeld names is made.
// That reader is the rotation that follows the final checkpoint's rename
// into place (SaveCheckpoint reads every checkpoint's state.json), before
// the engine can record "done" (or "stopped"): the
// process is held in the window a kill then lands in, on a machine however
// loaded. A problem of the gate itself is said on stderr, exit 3. Run by
// go test, with no FIFO named, it skips: it is no test of its own.
func TestHelperHeldAfterTheFinalCheckpoint(t *testing.T) {
	gate := os.Getenv(finalGateEnv)
	if gate == "" {
		t.Skip("rlt for TestKilledAfterItsFinalCheckpointIsFinished, which runs it")
	}
	fail := func(err error) {
		fmt.Fprintf(os.Stderr, "final gate: %v\n", err)
		os.Exit(3)
	}
	data, err := os.ReadFile(os.Getenv(finalGateBytes))
	if err != nil {
		fail(err)
	}
	// As /proc/self/fd names it: the temporary folder's path may hold a
	// link.
	fifo, err := filepath.EvalSymlinks(gate)
	if err != nil {
		fail(err)
	}
	go func() {
		err := stoptest.ServeFIFO(fifo, data, stoptest.ReadersHere(fifo), func() bool {
			// finalGateAt is a pattern (filepath.Glob): a stop's final
			// checkpoint is of the step the stop came after.
			if at, err := filepath.Glob(os.Getenv(finalGateAt)); err != nil || len(at) == 0 {
				return true // before the final checkpoint: the resume's checks, earlier rotations
			}
			if err := os.WriteFile(os.Getenv(finalGateHeld), nil, 0o644); err != nil {
				fail(err)
			}
			select {} // held until the test kills the process
		})
		fail(fmt.Errorf("serving %s: %v", fifo, err))
	}()
	// A leave on a second stop signal (TestKilledAfterItsFinalCheckpointIsFinished's
	// leave) is bounded by a hang guard, not the 2 s a loaded machine could
	// take to write and sync the run's close.
	leaveWithin = leaveHangGuard
	tightenGC()
	os.Exit(run(flag.Args(), os.Stdin, os.Stdout, os.Stderr))
}

// TestKilledAfterItsFinalCheckpointIsFinished kills a real run with
// SIGKILL once the checkpoint of its last planned step is in place and
// before its engine records "done" (the phase that follows it at once),
// where TestKilledRunResumes's kill once landed: the run has done every
// step it plans, on disk, so rlt sessions lists it finished, noting that
// its process is gone before recording so, and rlt run --resume, with or
// without --steps of its plan, has nothing to run and leaves it finished.
// It was listed stopped, "the process that trained it (pid N) is gone
// without stopping it", and stayed stopped after the resume, refused as
// having nothing to run (exit 0): TestKilledRunResumes failed so. The run
// trains one step, then a resume of it to two is killed in that window,
// every time: rlt is this test binary there
// (TestHelperHeldAfterTheFinalCheckpoint), the first checkpoint's
// state.json a FIFO that holds the rotation after the final checkpoint's
// rename. (A kill sent as the folder was seen came after "done" now and
// then, and the test was then skipped: on a loaded machine, every time.)
//
// Also where checkpoint_every does not divide the steps: the final
// checkpoint is then the engine's as it ends, before "done"
// (run.Engine's checkpointAtEnd). It was the run's close's, after
// "done", so that a kill between the two left a run listed finished
// whose last step was never saved: here the rotation held was the
// close's, "done" recorded twice. And where a second stop signal, not a
// kill, lands in that window (rlt run --headless leaves at once, its
// close clean, named left): listed finished too, the note saying that it
// left after that checkpoint, no step lost. It was listed stopped, 'it
// continues from its checkpoint of step 1', where its resume had nothing
// to run, and the process said so as it left.
func TestKilledAfterItsFinalCheckpointIsFinished(t *testing.T) {
	const killed = "is gone after saving the checkpoint of its last planned step, before recording that its training finished: the kill lost no step"
	const left = "left at once on a second stop signal after saving the checkpoint of its last planned step, before recording that its training finished: no step is lost"
	unscheduled := strings.Replace(killConfig, "checkpoint_every = 1\n", "checkpoint_every = 3\n", 1)
	if unscheduled == killConfig {
		t.Fatal("killConfig sets no checkpoint_every = 1")
	}
	for _, c := range []struct {
		name   string
		config string
		leave  bool // two stop signals, not SIGKILL
		note   string
	}{
		{"killed, a checkpoint every step", killConfig, false, killed},
		{"killed, the final checkpoint not scheduled", unscheduled, false, killed},
		{"left on a second stop signal, the final checkpoint not scheduled", unscheduled, true, left},
	} {
		t.Run(c.name, func(t *testing.T) { killedAfterItsFinalCheckpoint(t, c.config, c.leave, c.note) })
	}
}

// gatedFirstStep runs p's first step (rlt run --headless --steps 1, its
// folder in runs) and makes its checkpoint's state.json the gate: a FIFO
// in its place, its bytes (state) kept outside the run folder (kept), for
// a resume under TestHelperHeldAfterTheFinalCheckpoint to read through.
// It skips the test where no FIFO can be made.
func gatedFirstStep(t *testing.T, p binaryRun, runs string) (dir, gate, kept string, state []byte) {
	t.Helper()
	first := exec.Command(p.bin, "run", "--headless", "--steps", "1", "--runs", runs, "--config", p.config)
	first.Env = p.env
	if out, err := first.CombinedOutput(); err != nil {
		t.Fatalf("the first step's run failed:\n%s", out)
	}
	entries, err := os.ReadDir(runs)
	if err != nil || len(entries) != 1 {
		t.Fatalf("run folders: %v, %v", entries, err)
	}
	dir = filepath.Join(runs, entries[0].Name())
	gate = filepath.Join(sessions.CheckpointDir(dir, 0), sessions.CheckpointStateFile)
	state, err = os.ReadFile(gate)
	if err != nil {
		t.Fatal(err)
	}
	kept = filepath.Join(p.dir, "gate.state.json")
	if err := os.WriteFile(kept, state, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(gate); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(gate, 0o644); err != nil {
		t.Skipf("the gate is a FIFO: %v", err)
	}
	return dir, gate, kept, state
}

func killedAfterItsFinalCheckpoint(t *testing.T, config string, leave bool, note string) {
	p := newBinaryRun(t, config)
	command := func(bin string, args ...string) (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(bin, args...)
		cmd.Env = p.env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		return cmd, &out
	}
	runs := filepath.Join(p.dir, "runs")
	dir, gate, kept, state := gatedFirstStep(t, p, runs)
	held := filepath.Join(p.dir, "held")
	resume, out := command(testBinary(t, p.dir), "-test.run=^TestHelperHeldAfterTheFinalCheckpoint$", "--",
		"run", "--headless", "--resume", dir, "--steps", "2")
	resume.Env = append(resume.Env, finalGateEnv+"="+gate, finalGateBytes+"="+kept, finalGateAt+"="+sessions.CheckpointDir(dir, 1), finalGateHeld+"="+held)
	if err := resume.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- resume.Wait() }()
	// Every wait on the resume is bounded and ends it: held in the gate
	// for good (select {}), a resume the signals did not end, or one
	// that never reached the gate, hung the test until go test's timeout
	// killed the whole binary (10 minutes in CI), the process left
	// behind. The bounds are far past what a loaded machine takes; they
	// only turn a hang into a failure that says where it was.
	gone := false
	end := func() string {
		if !gone {
			resume.Process.Kill()
			<-exited
			gone = true
		}
		return out.String()
	}
	t.Cleanup(func() { end() })
	loaded := time.After(5 * time.Minute)
	for {
		if _, err := os.Stat(held); err == nil {
			break
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		select {
		case err := <-exited:
			gone = true
			t.Fatalf("the resume exited before its final checkpoint's rotation was held: %v\n%s", err, out)
		case <-loaded:
			t.Fatalf("the resume's final checkpoint's rotation was not held in 5 minutes; killed:\n%s", end())
		case <-time.After(10 * time.Millisecond):
		}
	}
	if leave {
		// The first stops the run after its step, the second leaves at
		// once (stopThenLeave), whenever they come: two kinds, as two
		// pending SIGINTs could merge into one, and the process then
		// waited in the gate for good.
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
			if err := resume.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
		}
	} else if err := resume.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		gone = true
	case <-time.After(2*leaveHangGuard + time.Minute): // past the leave's two bounds, so that a hung leave says what it waited for
		t.Fatalf("the resume held in its final checkpoint's rotation did not exit in %v of its signals (leave: %v); killed:\n%s", 2*leaveHangGuard+time.Minute, leave, end())
	}
	// What the process said on leaving is what the listing says: it
	// said 'it continues from its checkpoint of step 1', the run listed
	// finished.
	if said := out.String(); leave && (!strings.Contains(said, note) || strings.Contains(said, "continues from its checkpoint")) {
		t.Errorf("the resume left at once said, want %q and no checkpoint to continue from:\n%s", note, said)
	}
	// The checkpoint as it was written, where the gate stood.
	if err := os.Remove(gate); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(gate, state, 0o644); err != nil {
		t.Fatal(err)
	}
	events, err := os.ReadFile(filepath.Join(dir, sessions.EventsFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(events, []byte(`"name":"done"`)); n != 1 {
		t.Fatalf("events.jsonl records \"done\" %d times, want once (the first run's; the resume was held before its own):\n%s", n, events)
	}

	const steps = 2
	listed := func(when string) {
		t.Helper()
		list, err := sessions.List(runs)
		if err != nil || len(list) != 1 {
			t.Fatalf("%s: List: %+v, %v", when, list, err)
		}
		r := list[0]
		if r.State != sessions.StateFinished || r.LastStep != steps-1 || !strings.Contains(r.Note, note) {
			t.Errorf("%s: listed %s at step %d (%q), want finished at step %d, noted %q", when, r.State, r.LastStep, r.Note, steps-1, note)
		}
	}
	listed("after the kill")
	for _, args := range [][]string{
		{"run", "--headless", "--resume", dir, "--steps", fmt.Sprint(steps)},
		{"run", "--headless", "--resume", dir},
	} {
		resume, out := command(p.bin, args...)
		if err := resume.Run(); err != nil || !strings.Contains(out.String(), "nothing to run") {
			t.Errorf("%v: %v, want nothing to run:\n%s", args, err, out)
		}
		// Refused, it leaves run.lock as the kill left it: it repaired
		// nothing there (it said 'repaired: RUN/run.lock: the previous
		// writer ... did not close the run cleanly').
		if strings.Contains(out.String(), "did not close the run cleanly") {
			t.Errorf("%v: a repair of run.lock said, of a refused resume that left it as it was:\n%s", args, out)
		}
		listed("after " + strings.Join(args, " "))
	}
	sessionsCmd, out := command(p.bin, "sessions", "--runs", runs)
	if err := sessionsCmd.Run(); err != nil || !strings.Contains(out.String(), " finished ") {
		t.Errorf("rlt sessions: %v, want the run finished:\n%s", err, out)
	}
}
