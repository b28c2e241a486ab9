//go:build unix

package main

import (
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReportStoppedBySignalWhileTheRunsAreRead: a signal that comes while
// rlt report reads its runs stops it with what it did (nothing written to
// --out) and what to do, exit 1, no folder made and no hidden temporary
// file left; it killed the command without a word. The signal comes while
// the read is held, not by a clock: the run's config.toml is a FIFO the
// test gives its bytes to only after the signal.
func TestReportStoppedBySignalWhileTheRunsAreRead(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "run1")
	rewardRun(t, run, 2)
	cfgPath := filepath.Join(run, "config.toml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(cfgPath); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(cfgPath, 0o644); err != nil {
		t.Skipf("the gate is a FIFO: %v", err)
	}
	// The test's handler keeps SIGTERM's default action (ending the test
	// binary) off.
	absorb := make(chan os.Signal, 1)
	signal.Notify(absorb, syscall.SIGTERM)
	defer signal.Stop(absorb)
	go func() {
		// Opened for writing once rlt report opens it to read: its handler
		// is in place by then.
		w, err := os.OpenFile(cfgPath, os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
			return
		}
		defer w.Close()
		if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
			t.Error(err)
		}
		<-absorb // the signal has come
		w.Write(cfg)
	}()
	out := filepath.Join(dir, "out")
	code, stdout, errs := runCLI(t, "", "report", run, "--out", out)
	want := "rlt report: stopped by a signal while the runs were read: nothing was written to " + out + "; run the same command again to write the report\n"
	if code != 1 || errs != want || stdout != "" {
		t.Errorf("exit %d\nstdout %q\nstderr %q\nwant exit 1 and %q", code, stdout, errs, want)
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 1 {
		names := []string{}
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("%s holds %s (%v): want the run alone, no --out folder made", dir, strings.Join(names, ", "), err)
	}
}
