package sessions

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/sessions/sessionstest"
)

// Tests that need a second process re-execute the test binary with
// childModeEnv set; TestMain then runs the child's job instead of the tests.
const (
	childModeEnv = "RLT_SESSIONS_TEST_CHILD"
	childArgEnv  = "RLT_SESSIONS_TEST_ARG"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(childModeEnv); mode != "" {
		if err := runChild(mode, os.Getenv(childArgEnv)); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	pids, err := sessionstest.DeadPIDs(2)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	deadPID, otherDeadPID = pids[0], pids[1]
	os.Exit(m.Run())
}

func runChild(mode, arg string) error {
	switch mode {
	case "log-writer":
		return childLogWriter(arg)
	case "lock-holder":
		return childLockHolder(arg)
	case "slow-writer":
		return childSlowWriter(arg)
	case "run-writer":
		return childRunWriter(arg)
	case "killed-making-lock":
		return childKilledMakingLock(arg)
	}
	return fmt.Errorf("unknown child mode %q", mode)
}

// child is a running helper process with its stdout lines readable.
type child struct {
	cmd    *exec.Cmd
	stdout *bufio.Reader
	stdin  io.WriteCloser
}

func startChild(t *testing.T, mode, arg string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childModeEnv+"="+mode, childArgEnv+"="+arg)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, stdout: bufio.NewReader(out), stdin: in}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return c
}

// expect reads one line from the child's stdout and checks its prefix.
func (c *child) expect(t *testing.T, prefix string) string {
	t.Helper()
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := c.stdout.ReadString('\n')
		ch <- res{s, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil || !strings.HasPrefix(r.s, prefix) {
			t.Fatalf("child said %q (%v), want prefix %q", r.s, r.err, prefix)
		}
		return strings.TrimSpace(r.s)
	case <-time.After(hangGuard):
		t.Fatalf("child did not say %q within %v", prefix, hangGuard)
	}
	return ""
}
