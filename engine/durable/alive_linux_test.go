package durable

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestProcessAliveNotAZombie: a process that has exited and is not yet
// reaped by its parent (a zombie: kill(pid, 0) still succeeds) runs
// nothing and holds no lock, so it is not alive. rlt sessions, run a
// second after a kill -9 of a run's writer whose parent had not reaped it
// yet (a shell's background job; in a container whose first process
// reaps nothing, for good), said 'a process with its pid runs on this
// host: this folder may be a copy of a run it holds' of the killed
// writer's own folder.
func TestProcessAliveNotAZombie(t *testing.T) {
	// The test binary itself, running no test: it exits at once.
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	// Wait for its exit without reaping it (WNOWAIT): it is a zombie now.
	var info unix.Siginfo
	if err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
		t.Fatalf("waitid %d: %v", pid, err)
	}
	alive := ProcessAlive(pid)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the child: %v", err)
	}
	if alive {
		t.Errorf("ProcessAlive(%d) of an exited, unreaped process (a zombie): true, want false", pid)
	}
}

// TestProcessAliveCommWithParen: /proc/PID/stat's state follows the LAST
// ')' (the command name, in parentheses, may hold ") Z "): a live process
// whose name reads like a zombie's stat is alive.
func TestProcessAliveCommWithParen(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep on PATH")
	}
	bin, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	named := filepath.Join(t.TempDir(), "a) Z (b")
	if err := os.WriteFile(named, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(named, "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	stat, _ := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/stat")
	if !strings.Contains(string(stat), "(a) Z (b)") {
		t.Skipf("the child's stat does not hold its name yet: %q", stat)
	}
	if !ProcessAlive(cmd.Process.Pid) {
		t.Errorf("ProcessAlive(%d) of a running process named %q (stat %q): false, want true", cmd.Process.Pid, "a) Z (b", stat)
	}
}
