//go:build unix

package main

import (
	"bytes"
	"encoding/json"
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
	"github.com/rlt-workbench/rlt/ui"
)

// TestHeadlessSecondSignalLeavesAtOnce: rlt run --headless sent a second
// stop signal while it ends its run after the first (SIGINT, then SIGTERM:
// two pending SIGINTs could merge into one) leaves at once, as the
// workbench does (TestWorkbenchSecondSignalLeavesAtOnce): exit 1, stderr
// saying what is lost and the command that continues the run, which then
// resumes from its last checkpoint on disk. The second signal was
// swallowed: it waited for the step in progress and its final checkpoint
// (exit 0, a run until interrupted), however long, the only way out
// SIGKILL. The process that leaves is rlt bounding its leave by a hang
// guard (leaveGuardedRun), not the 2 s a loaded machine could take to put a
// checkpoint under way into place and write the run's close.
func TestHeadlessSecondSignalLeavesAtOnce(t *testing.T) {
	p := newBinaryRun(t, smallRun)
	bin, cfgPath, env := p.bin, p.config, p.env
	runs := filepath.Join(p.dir, "runs")
	cmd := exec.Command(testBinary(t, p.dir), leaveGuardedRun, "--", "run", "--headless", "--steps", "0", "--runs", runs, "--config", cfgPath)
	cmd.Env = append(env, leaveGuardedEnv+"=1")
	var stderr lockedBuf
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	// Signalled once a checkpoint is on disk, something to go on from.
	// The bound is a hang guard: 2 minutes failed at load ~35 ('no
	// checkpoint in 2 minutes', step 0 sampling at 0.1 tokens/s).
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if cks, _ := filepath.Glob(filepath.Join(runs, "*", "checkpoints", "step-*", "state.json")); len(cks) > 0 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-waited
			t.Fatalf("no checkpoint in 5 minutes:\n%s", stderr.String())
		}
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatalf("signalling with %v: %v", sig, err)
		}
	}
	// Past the leave's two bounds (its launches', its runs'), so that a
	// hung leave says what it waited for.
	select {
	case <-waited:
	case <-time.After(2*leaveHangGuard + time.Minute):
		cmd.Process.Kill()
		<-waited
		t.Fatalf("rlt run --headless did not exit after two signals:\n%s", stderr.String())
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	errs := stderr.String()
	list, err := sessions.List(runs)
	if err != nil || len(list) != 1 {
		t.Fatalf("rlt sessions: %+v %v\n%s", list, err, errs)
	}
	runDir := list[0].Dir
	want := "rlt run: " + ui.ErrLeft.Error() + "; each run above goes on as said under its folder"
	if ws.Signaled() || ws.ExitStatus() != 1 || !strings.Contains(errs, want) ||
		!strings.Contains(errs, "\n  continue it: rlt run --resume "+sessions.ShellQuote(runDir)+"\n") {
		t.Errorf("after a second signal: %v; want exit 1 saying how the run goes on (%q):\n%s", cmd.ProcessState, want, errs)
	}
	if list[0].State == sessions.StateRunning || list[0].State == sessions.StateBroken {
		t.Errorf("the run is %s after the exit; want it resumable", list[0].State)
	}
	ck, _, err := sessions.LatestCheckpoint(runDir)
	if err != nil {
		t.Fatalf("no checkpoint to continue from: %v", err)
	}
	// Left, not killed: the folder records it (a close saying where,
	// run.lock released), and is listed stopped with that note; it read
	// as a killed writer's ("gone without stopping it", run.lock naming
	// the pid) until its next open tidied it.
	note := fmt.Sprintf("; it continues from its checkpoint of step %d", ck.Step)
	if s := list[0]; s.State != sessions.StateStopped || !strings.HasPrefix(s.Note, "left at once on a second stop signal ") || !strings.HasSuffix(s.Note, note) {
		t.Errorf("listed %s (%s); want stopped, noted as left at once on a second stop signal%s", s.State, s.Note, note)
	}
	if out, err := exec.Command(bin, "sessions", "--runs", runs).CombinedOutput(); err != nil || !strings.Contains(string(out), " stopped ") || !strings.Contains(string(out), "(left at once on a second stop signal ") {
		t.Errorf("rlt sessions: %v\n%s", err, out)
	}
	if lock, err := os.ReadFile(filepath.Join(runDir, sessions.LockFileName)); err != nil || len(bytes.TrimSpace(lock)) != 0 {
		t.Errorf("run.lock %q, %v; want it released (emptied), as a clean close leaves it", lock, err)
	}
	events, err := os.ReadFile(filepath.Join(runDir, sessions.EventsFile))
	lines := strings.Split(string(events), "\n")
	if err != nil || len(lines) < 2 || lines[len(lines)-1] != "" {
		t.Fatalf("events.jsonl: %v, not whole lines:\n%s", err, events)
	}
	lines = lines[:len(lines)-1]
	var leftNote string // the close's
	for i, l := range lines {
		var e sessions.EventRecord
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("events.jsonl:%d: %v: %s", i+1, err, l)
		}
		if closing := e.Kind == sessions.KindClose; closing != (i == len(lines)-1) || closing && (e.Name != sessions.CloseLeft || e.Dir != filepath.Join(sessions.CheckpointsDir, filepath.Base(ck.Dir))) {
			t.Errorf("events.jsonl:%d: %s; want one close, last, named %q with the checkpoint of step %d", i+1, l, sessions.CloseLeft, ck.Step)
		}
		if e.Kind == sessions.KindClose {
			leftNote = e.Extra
		}
	}
	// What is lost is said in the folder's words, under the folder: it
	// said "the step in progress of each and its final checkpoint are
	// lost" also where the folder noted the checkpoint in place.
	if said := "run folder " + runDir + "\n  " + leftNote + "\n  continue it: "; leftNote == "" || !strings.Contains(errs, said) || !strings.HasSuffix(list[0].Note, leftNote) {
		t.Errorf("the close's note %q (listed %q); want it said under the run folder:\n%s", leftNote, list[0].Note, errs)
	}
	cks, err := sessions.Checkpoints(runDir)
	for _, c := range cks {
		if c.Err != nil || c.Step > ck.Step {
			t.Errorf("checkpoint of step %d in place after the leave: %v (the last is step %d's)", c.Step, c.Err, ck.Step)
		}
	}
	if err != nil {
		t.Error(err)
	}
	// Resumable from its last checkpoint, two steps more.
	resume := exec.Command(bin, "run", "--resume", runDir, "--steps", strconv.Itoa(ck.Step+3), "--headless")
	resume.Env, resume.Dir = env, t.TempDir()
	if out, err := resume.CombinedOutput(); err != nil || !strings.Contains(string(out), "resuming "+runDir+" after step "+strconv.Itoa(ck.Step)) {
		t.Fatalf("resume: %v\n%s", err, out)
	}
}
