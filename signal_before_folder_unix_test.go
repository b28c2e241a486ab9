//go:build unix

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// TestSignalBeforeTheRunFolderMakesNone: rlt run sent SIGTERM while it
// checks its configuration, before any run folder is made (here reading
// --config from a FIFO the test holds open), is ended by the signal, as
// every command is before its work begins, and leaves the runs folder
// without a run. The stop signals were watched from before the checks:
// the signal was held, the checks went on to their end (the configuration
// written after the signal read), a run folder was made and its load
// stopped at once, a run stopped before its first step that nobody asked
// for.
func TestSignalBeforeTheRunFolderMakesNone(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the read is seen under way in /proc/PID/fd")
	}
	p := newBinaryRun(t, smallRun)
	fifo := filepath.Join(p.dir, "run.toml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	// Read and write: the open does not wait for a reader, and rlt's read
	// of the configuration waits until the test writes it and closes.
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	runs := filepath.Join(p.dir, "runs")
	cmd := exec.Command(p.bin, "run", "--headless", "--runs", runs, "--config", fifo)
	cmd.Env = p.env
	var stderr lockedBuf
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	// Signalled once rlt run has the FIFO open: it is reading its
	// configuration, no run folder made yet.
	for deadline := time.Now().Add(2 * time.Minute); !holds(cmd.Process.Pid, fifo); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-waited
			t.Fatalf("rlt run did not open its --config %s in 2 minutes:\n%s", fifo, stderr.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The configuration, then its end: a process that held the signal
	// reads it and goes on.
	if _, err := w.WriteString(smallRun); err != nil {
		t.Fatal(err)
	}
	w.Close()
	select {
	case <-waited:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		<-waited
		t.Fatalf("rlt run did not end after SIGTERM:\n%s", stderr.String())
	}
	if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Errorf("rlt run: %v; want it ended by the SIGTERM:\n%s", cmd.ProcessState, stderr.String())
	}
	if made, _ := filepath.Glob(filepath.Join(runs, "*")); len(made) != 0 {
		t.Errorf("run folders made: %q; want none", made)
	}
}

// holds says whether process pid has path open (Linux: /proc/PID/fd).
func holds(pid int, path string) bool {
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		if target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && target == path {
			return true
		}
	}
	return false
}
