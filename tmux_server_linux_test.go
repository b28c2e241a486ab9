package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	if exec.Command("tmux", "-D", "-V").Run() != nil {
		t.Skip("this tmux has no -D (3.2's): its server is a daemon, which outlives the test process (startTmuxServer)")
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

// TestTmuxHarnessWithATmuxWithoutD: with a tmux that has no -D (before
// 3.2, as Ubuntu 20.04's 3.0a), startTmuxServer leaves the server to the
// test's new-session, as before it started one, and the test goes on.
// It failed every tmux test there ("ended as it started": tmux -D answered
// its usage). The old tmux is the one here behind a script that refuses
// -D as tmux 3.0a does; the harness runs in this test binary run again
// as a child, whose failure is the test's.
func TestTmuxHarnessWithATmuxWithoutD(t *testing.T) {
	if sock := os.Getenv("RLT_TMUX_WITHOUT_D_SOCKET"); sock != "" {
		stop := startTmuxServer(t, sock)
		defer stop()
		if out, err := exec.Command("tmux", "-L", sock, "-f", "/dev/null", "new-session", "-d", "-s", "w", "sleep 600").CombinedOutput(); err != nil {
			t.Fatalf("tmux new-session: %v\n%s", err, out)
		}
		if err := exec.Command("tmux", "-L", sock, "has-session", "-t", "w").Run(); err != nil {
			t.Fatalf("tmux has-session: %v", err)
		}
		return
	}
	real, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux is not installed (apt-get install tmux)")
	}
	dir := t.TempDir()
	script := "#!/bin/sh\nfor a in \"$@\"; do case $a in -D) echo 'usage: tmux [-2CluvV] [-c shell-command] [-f file] [-L socket-name]' >&2; exit 1;; esac; done\nexec " + real + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "tmux"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	sock := fmt.Sprintf("rlt-test-without-d-%d", os.Getpid())
	t.Cleanup(func() { closeTmux(sock) }) // the daemon new-session started
	child := exec.Command(testBinary(t, dir), "-test.run=^TestTmuxHarnessWithATmuxWithoutD$", "-test.v")
	child.Env = append(os.Environ(), "RLT_TMUX_WITHOUT_D_SOCKET="+sock, "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	if out, err := child.CombinedOutput(); err != nil {
		t.Errorf("the harness with a tmux without -D: %v\n%s", err, out)
	}
}
