//go:build unix

package main

import (
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
// SIGKILL.
func TestHeadlessSecondSignalLeavesAtOnce(t *testing.T) {
	dir := t.TempDir()
	bin := buildRLT(t, dir)
	cfgPath := filepath.Join(dir, "small.toml")
	if err := os.WriteFile(cfgPath, []byte(smallRun), 0o644); err != nil {
		t.Fatal(err)
	}
	runs := filepath.Join(dir, "runs")
	env := append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
	cmd := exec.Command(bin, "run", "--headless", "--steps", "0", "--runs", runs, "--config", cfgPath)
	cmd.Env = env
	var stderr lockedBuf
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	// Signalled once a checkpoint is on disk, something to go on from.
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if cks, _ := filepath.Glob(filepath.Join(runs, "*", "checkpoints", "step-*", "state.json")); len(cks) > 0 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-waited
			t.Fatalf("no checkpoint in 2 minutes:\n%s", stderr.String())
		}
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatalf("signalling with %v: %v", sig, err)
		}
	}
	select {
	case <-waited:
	case <-time.After(2 * time.Minute):
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
	want := "rlt run: " + ui.ErrLeft.Error() + "; each run above continues from its last checkpoint on disk"
	if ws.Signaled() || ws.ExitStatus() != 1 || !strings.Contains(errs, want) ||
		!strings.Contains(errs, "run folder "+runDir+"\n  continue it: rlt run --resume "+sessions.ShellQuote(runDir)+"\n") {
		t.Errorf("after a second signal: %v; want exit 1 saying what is lost and how the run goes on (%q):\n%s", cmd.ProcessState, want, errs)
	}
	if list[0].State == sessions.StateRunning || list[0].State == sessions.StateBroken {
		t.Errorf("the run is %s after the exit; want it resumable", list[0].State)
	}
	ck, _, err := sessions.LatestCheckpoint(runDir)
	if err != nil {
		t.Fatalf("no checkpoint to continue from: %v", err)
	}
	// Resumable from its last checkpoint, two steps more.
	resume := exec.Command(bin, "run", "--resume", runDir, "--steps", strconv.Itoa(ck.Step+3), "--headless")
	resume.Env, resume.Dir = env, t.TempDir()
	if out, err := resume.CombinedOutput(); err != nil || !strings.Contains(string(out), "resuming "+runDir+" after step "+strconv.Itoa(ck.Step)) {
		t.Fatalf("resume: %v\n%s", err, out)
	}
}
