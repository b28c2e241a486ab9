package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// tmuxServerAttr makes the tests' tmux server die with the test process:
// the kernel sends it SIGKILL when the thread that started it ends, and
// that thread is held for the server's life (startTmuxServer), so it ends
// only with the process, however that ends (-timeout's panic, a kill).
func tmuxServerAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// TestTmuxServerDiesWithItsTestProcess: a test process killed before its
// cleanup (-timeout's end, a kill) leaves no tmux server of its tests
// running: startTmuxServer's server dies with it. The tmux server a
// test's new-session started, a daemon, outlived it, with the workbench
// in its pane. The test process here is this test binary run again as a
// child (its server started as the tests' harness starts it, a session
// in it), killed by SIGKILL once the server takes its session, as
// -timeout kills one with no cleanup run.
func TestTmuxServerDiesWithItsTestProcess(t *testing.T) {
	if sock := os.Getenv("RLT_TMUX_ORPHAN_SOCKET"); sock != "" {
		startTmuxServer(t, sock) // no stop: the process is killed
		if out, err := exec.Command("tmux", "-L", sock, "new-session", "-d", "-s", "w", "sleep 600").CombinedOutput(); err != nil {
			t.Fatalf("tmux new-session: %v\n%s", err, out)
		}
		pid, err := exec.Command("tmux", "-L", sock, "display", "-p", "-t", "w", "#{pid}").Output()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("server %s", pid)
		select {} // until killed
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (apt-get install tmux)")
	}
	sock := fmt.Sprintf("rlt-test-orphan-%d", os.Getpid())
	t.Cleanup(func() { closeTmux(sock) }) // where it outlived the child: killed, its socket removed
	child := exec.Command(testBinary(t, t.TempDir()), "-test.run=^TestTmuxServerDiesWithItsTestProcess$")
	child.Env = append(os.Environ(), "RLT_TMUX_ORPHAN_SOCKET="+sock)
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	if n, err := fmt.Fscanf(out, "server %d\n", &pid); n != 1 {
		child.Process.Kill()
		child.Wait()
		t.Fatalf("the child said no server pid: %v", err)
	}
	child.Process.Kill()
	child.Wait()
	// The kernel's signal to the server, and its end, come after the
	// child's; waited for, not timed: bounded so that a server that stays
	// fails the test.
	for i := 0; i < 500 && exec.Command("tmux", "-L", sock, "has-session").Run() == nil; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if exec.Command("tmux", "-L", sock, "has-session").Run() == nil {
		t.Errorf("the tmux server on %s (pid %d) still runs after its test process was killed", sock, pid)
	}
}
