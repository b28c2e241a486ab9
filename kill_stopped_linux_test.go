//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/sessions"
)

// TestStoppedAfterItsFinalCheckpoint stops a real rlt run --headless with
// its first stop signal (SIGINT once its engine runs) where checkpoint_every
// schedules no checkpoint, holds it in the rotation that follows its final
// checkpoint's rename (TestHelperHeldAfterTheFinalCheckpoint, the first
// checkpoint's state.json a FIFO), and kills it there with SIGKILL: its
// events.jsonl must not say "stopped" yet, as the engine records it only
// once the checkpoint of the step it stopped after is on disk
// (run.Engine's checkpointAtEnd). It said it before: the engine recorded
// "stopped" as it ended and the close wrote the final checkpoint after,
// so a kill between the two left a run listed stopped at step N whose step
// N was never saved. After the kill the run is listed stopped at the step
// of its newest checkpoint, and its resume goes on after that step.
func TestStoppedAfterItsFinalCheckpoint(t *testing.T) {
	unscheduled := strings.Replace(killConfig, "checkpoint_every = 1\n", "checkpoint_every = 0\n", 1)
	if unscheduled == killConfig {
		t.Fatal("killConfig sets no checkpoint_every = 1")
	}
	p := newBinaryRun(t, unscheduled)
	command := func(bin string, args ...string) (*exec.Cmd, *lockedBuf) {
		cmd := exec.Command(bin, args...)
		cmd.Env = p.env
		out := new(lockedBuf)
		cmd.Stdout, cmd.Stderr = out, out
		return cmd, out
	}
	runs := filepath.Join(p.dir, "runs")
	dir, gate, kept, state := gatedFirstStep(t, p, runs)
	held := filepath.Join(p.dir, "held")
	// Any checkpoint past step 0's: the one of the step the stop came
	// after (the signal comes in step 2 or, on a slow reader, later; a
	// name with a digit past 0 in it).
	later := filepath.Join(dir, sessions.CheckpointsDir, "step-*[1-9]*")
	resume, out := command(testBinary(t, p.dir), "-test.run=^TestHelperHeldAfterTheFinalCheckpoint$", "--",
		"run", "--headless", "--resume", dir, "--steps", "1000")
	resume.Env = append(resume.Env, finalGateEnv+"="+gate, finalGateBytes+"="+kept, finalGateAt+"="+later, finalGateHeld+"="+held)
	if err := resume.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- resume.Wait() }()
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
	// Each wait is bounded, far past a loaded machine's time: a bound
	// turns a hang into a failure that says where it was.
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		bound := time.After(5 * time.Minute)
		for !ok() {
			select {
			case err := <-exited:
				gone = true
				t.Fatalf("the resume exited before %s: %v\n%s", what, err, out)
			case <-bound:
				t.Fatalf("the resume did not reach %s in 5 minutes; killed:\n%s", what, end())
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	// Its engine has made a step of its own once it says one: the signal
	// then stops it after its step in progress, whose checkpoint comes
	// before "stopped". A signal as it said its device could come before
	// its first step, a resume stopped before a step of its own that
	// writes no checkpoint (21954bd) and so never reached the gate: a
	// loaded machine failed so. Its plan of 1000 steps is never reached.
	waitFor("its first step", func() bool { return strings.Contains(out.String(), "\nstep ") })
	if err := resume.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	waitFor("its final checkpoint's rotation", func() bool {
		_, err := os.Stat(held)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		return err == nil
	})
	events, err := os.ReadFile(filepath.Join(dir, sessions.EventsFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(events, []byte(`"name":"stopped"`)); n != 0 {
		t.Errorf("events.jsonl records \"stopped\" %d times before the rotation of its final checkpoint; want none: the checkpoint comes first:\n%s", n, events)
	}
	if err := resume.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	end()
	if err := os.Remove(gate); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(gate, state, 0o644); err != nil {
		t.Fatal(err)
	}
	ck, _, err := sessions.LatestCheckpoint(dir)
	if err != nil || ck.Step < 1 {
		t.Fatalf("the latest checkpoint %+v (%v), want the stop's, of step 1 or later", ck, err)
	}
	list, err := sessions.List(runs)
	if err != nil || len(list) != 1 || list[0].State != sessions.StateStopped || list[0].LastStep != ck.Step {
		t.Errorf("listed %+v, %v; want stopped at step %d, its newest checkpoint's", list, err, ck.Step)
	}
	again, said := command(p.bin, "run", "--headless", "--resume", dir, "--steps", strconv.Itoa(ck.Step+2)) // steps count from 0: ck.Step+1 are done
	if err := again.Run(); err != nil || !strings.Contains(said.String(), fmt.Sprintf("resuming %s after step %d", dir, ck.Step)) {
		t.Errorf("the resume: %v, want it to go on after step %d:\n%s", err, ck.Step, said)
	}
}
