package sessions

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func childLockHolder(dir string) error {
	l, err := LockRun(dir)
	if err != nil {
		return err
	}
	fmt.Println("locked", os.Getpid())
	var b [1]byte
	os.Stdin.Read(b[:]) // hold until the parent closes stdin or kills us
	return l.Unlock()
}

func TestLockRunTwoProcesses(t *testing.T) {
	dir := t.TempDir()
	c := startChild(t, "lock-holder", dir)
	pid, _ := strconv.Atoi(strings.Fields(c.expect(t, "locked"))[1])

	_, err := LockRun(dir)
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) {
		t.Fatalf("second writer: %v", err)
	}
	if le.Holder.PID != pid || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", pid)) {
		t.Fatalf("error %q does not name holder pid %d", err, pid)
	}

	// SIGKILL: the kernel drops the flock; the stale file is taken over.
	c.cmd.Process.Signal(syscall.SIGKILL)
	c.cmd.Wait()
	l, err := LockRun(dir)
	if err != nil {
		t.Fatalf("take over stale lock: %v", err)
	}
	if l.Previous == nil || l.Previous.PID != pid {
		t.Errorf("Previous = %+v, want pid %d", l.Previous, pid)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}

	// A clean unlock leaves no Previous for the next owner.
	c2 := startChild(t, "lock-holder", dir)
	c2.expect(t, "locked")
	c2.stdin.Close()
	if err := c2.cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	l, err = LockRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	if l.Previous != nil {
		t.Errorf("Previous after clean unlock: %+v", l.Previous)
	}
}

func TestLockRunSameProcessTwice(t *testing.T) {
	// flock is per open file description, so a second LockRun in the same
	// process also conflicts: one writer per run folder, full stop.
	dir := t.TempDir()
	l, err := LockRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	if _, err := LockRun(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock in one process: %v", err)
	}
}

// TestLockedSaysWhatTheHolderDoes: a run held by a workbench reviewing it
// refuses a second writer (rlt score --write) with what the holder does and
// what to do, not only its pid, which it says once.
func TestLockedSaysWhatTheHolderDoes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r, err := Create(dir, map[string]int{"steps": 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	review, err := OpenWith(dir, nil, Options{Intent: IntentReview})
	if err != nil {
		t.Fatal(err)
	}
	defer review.Close()
	_, err = OpenWith(dir, nil, Options{Intent: IntentRescore})
	// The lock's refusal names the pid (and host); what follows, once.
	pid := fmt.Sprintf("pid %d", os.Getpid())
	want := "): reviewing it; a run is written by one process at a time: quit that workbench (q), or open another run in it, then try again"
	if !errors.Is(err, ErrLocked) || !strings.HasSuffix(err.Error(), want) || strings.Count(err.Error(), pid) != 1 {
		t.Errorf("a second writer: %v; want ErrLocked, %q once and the end %q", err, pid, want)
	}
}

// TestLockedNamesOnlyAnotherHost: a lock's refusal names the holder's host
// only where it is another host than this one (a run folder on a shared
// filesystem, whose pid says nothing here), in the words the Runs screen
// names it with (Holder.String): "pid N on host H". It said "pid N on
// HOST" of a holder on this very host too.
func TestLockedNamesOnlyAnotherHost(t *testing.T) {
	here, err := os.Hostname()
	if err != nil || here == "" || strings.EqualFold(here, "gpu-node-7") {
		t.Skipf("this host's name (%q, %v) cannot tell another host's", here, err)
	}
	pid := strconv.Itoa(os.Getpid())
	for _, c := range []struct {
		name   string
		holder func(*LockInfo) // nil: run.lock as this process wrote it
		want   string          // after "run folder is locked by "
	}{
		{"this host", nil, "pid " + pid + " (started "},
		{"this host, named in another case", func(info *LockInfo) { info.Host = strings.ToUpper(here) }, "pid " + pid + " (started "},
		{"run.lock names no host", func(info *LockInfo) { info.Host = "" }, "pid " + pid + " (started "},
		{"another host", onHost("gpu-node-7", "linux"), "pid " + pid + " on host gpu-node-7 (started "},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			l, err := LockRun(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Unlock()
			if c.holder != nil {
				rewriteLock(t, dir, c.holder)
			}
			_, err = LockRun(dir)
			if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "run folder is locked by "+c.want) {
				t.Errorf("a second lock: %v; want ErrLocked saying %q", err, "run folder is locked by "+c.want)
			}
		})
	}
}
