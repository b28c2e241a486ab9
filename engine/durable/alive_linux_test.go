package durable

import (
	"os"
	"os/exec"
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
