package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rlt-workbench/rlt/engine/durable"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestWorkbenchInTmux drives the real binary in a private tmux server: it
// starts on the embedded default, the curves get data, the Runs screen
// opens and esc leaves it, a trace's heatmap opens, the terminal is
// resized, and q quits cleanly with a checkpoint.
func TestWorkbenchInTmux(t *testing.T) {
	h := newTmuxHarness(t, "q", 90*time.Second, 200*time.Millisecond)
	tmux, waitFor, dir, bin, runs := h.tmux, h.waitFor, h.dir, h.bin, h.runs
	cmd := fmt.Sprintf("cd %s && XDG_CACHE_HOME=%s %s --runs %s --steps 3; echo EXITED $?; sleep 30", dir, filepath.Join(dir, "cache"), bin, runs)
	tmux("new-session", "-d", "-s", "w", "-x", "100", "-y", "30", cmd)
	waitFor("a step in the status line", func(s string) bool {
		return strings.Contains(s, "Dashboard") && (strings.Contains(s, "step 1") || strings.Contains(s, "step 2") || strings.Contains(s, "finished"))
	})
	// The Runs screen lists this run as the one open here (its note: this
	// workbench holds it); esc goes back.
	tmux("send-keys", "-t", "w", "4")
	waitFor("the Runs screen", func(s string) bool { return strings.Contains(s, "Runs · 1 in") && strings.Contains(s, "open here,") })
	tmux("send-keys", "-t", "w", "Escape")
	waitFor("the dashboard again", func(s string) bool { return strings.Contains(s, "[1 Dashboard]") })
	tmux("send-keys", "-t", "w", "3")
	waitFor("the trace detail with its question", func(s string) bool {
		return strings.Contains(s, "d_k") && strings.Contains(s, "reward") && strings.Contains(s, "question ")
	})
	tmux("resize-window", "-t", "w", "-x", "70", "-y", "20")
	s := waitFor("a redraw at 70 columns", func(s string) bool { return strings.Contains(s, "d_k") })
	for i, line := range strings.Split(s, "\n") {
		if n := utf8.RuneCountInString(line); n > 70 {
			t.Errorf("line %d is %d cells wide at 70 columns: %q", i, n, line)
		}
	}
	tmux("send-keys", "-t", "w", "q")
	waitFor("a clean exit with the resume command", func(s string) bool {
		// The command as the user typed it: the binary by its path.
		return strings.Contains(s, "EXITED 0") && strings.Contains(s, "continue it: "+sessions.ShellQuote(bin)+" run --resume")
	})
	cks, _ := filepath.Glob(filepath.Join(runs, "*", "checkpoints", "step-*", "state.json"))
	if len(cks) == 0 {
		t.Error("quitting wrote no final checkpoint")
	}
}

// TestWorkbenchCtrlCInTmux: Ctrl-C in the middle of a step stops the run
// after that step with its final checkpoint and leaves the terminal as it
// was: the alternate screen left, the cursor visible, the line discipline
// back in canonical mode with echo and signals; the run folder is whole
// and resumable.
func TestWorkbenchCtrlCInTmux(t *testing.T) {
	h := newTmuxHarness(t, "c", 120*time.Second, 100*time.Millisecond)
	tmux, waitFor, dir, bin, runs := h.tmux, h.waitFor, h.dir, h.bin, h.runs
	// Open-ended (--steps 0): whenever Ctrl-C comes, a step is in progress.
	cmd := fmt.Sprintf("cd %s && XDG_CACHE_HOME=%s %s --runs %s; echo EXITED $?; "+
		"echo STTY $(stty -a | tr ' ;' '\\n\\n' | grep -xE -- '-?(icanon|echo|isig)' | tr '\\n' ' '); sleep 30",
		dir, filepath.Join(dir, "cache"), bin, runs)
	tmux("new-session", "-d", "-s", "w", "-x", "100", "-y", "30", cmd)
	waitFor("a first step", func(s string) bool { return strings.Contains(s, "step 0") || strings.Contains(s, "step 1") })
	if on := strings.TrimSpace(tmux("display", "-p", "-t", "w", "#{alternate_on}")); on != "1" {
		t.Errorf("the workbench is not on the alternate screen (alternate_on %q)", on)
	}
	tmux("send-keys", "-t", "w", "C-c")
	s := waitFor("the exit", func(s string) bool { return strings.Contains(s, "STTY") })
	if !strings.Contains(s, "EXITED 0") {
		t.Errorf("exit status is not 0:\n%s", s)
	}
	if st := strings.Fields(strings.TrimSpace(tmux("display", "-p", "-t", "w", "#{alternate_on} #{cursor_flag}"))); len(st) != 2 || st[0] != "0" || st[1] != "1" {
		t.Errorf("after the exit: alternate_on, cursor_flag = %v; want 0 1 (main screen, cursor visible)", st)
	}
	for _, line := range strings.Split(s, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "STTY "); ok {
			if got := strings.Fields(rest); len(got) != 3 || strings.Contains(rest, "-") {
				t.Errorf("terminal modes after the exit: %q; want icanon, echo and isig on", rest)
			}
		}
	}
	checkStoppedRun(t, runs)
}

// checkStoppedRun checks the one run folder under runs after its workbench
// stopped: whole records, each step once, the final checkpoint at the last
// step recorded, no lock held.
func checkStoppedRun(t *testing.T, runs string) {
	t.Helper()
	entries, _ := os.ReadDir(runs)
	if len(entries) != 1 {
		t.Fatalf("%d run folders", len(entries))
	}
	runDir := filepath.Join(runs, entries[0].Name())
	ro, err := sessions.OpenReadOnly(runDir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if is := ro.Store().Issues(); len(is) != 0 {
		t.Errorf("issues: %v", is)
	}
	ms, _ := ro.Store().MetricsSince(0)
	last := -1
	for _, m := range ms {
		if m.Step != last+1 && m.Step != last { // an evaluation repeats its step
			t.Fatalf("metric steps out of order at %d after %d", m.Step, last)
		}
		last = m.Step
	}
	if ck, _, err := sessions.LatestCheckpoint(runDir); err != nil || ck.Step != last {
		t.Errorf("latest checkpoint %d (%v), want %d", ck.Step, err, last)
	}
	if list, err := sessions.List(runs); err != nil || len(list) != 1 || list[0].State == sessions.StateRunning || list[0].State == sessions.StateBroken {
		t.Errorf("rlt sessions: %+v %v", list, err)
	}
}

// TestWorkbenchSignalsInTmux: the workbench sent a kill's SIGTERM or a
// SIGINT (kill -INT, a supervisor's) stops as q and Ctrl-C do: the header
// says stopping while the engine ends its step (Bubble Tea's own handler
// is off: ui.Options.Stop), its final checkpoint written, then a clean
// exit (0) with the resume command, the terminal restored. Bubble Tea's
// handler left the screen at once on SIGTERM and failed the program on
// SIGINT: "rlt run: program was killed: program was interrupted", exit 1.
func TestWorkbenchSignalsInTmux(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			h := newTmuxHarness(t, "s"+strconv.Itoa(int(sig)), 120*time.Second, 100*time.Millisecond)
			tmux, waitFor, dir, bin, runs := h.tmux, h.waitFor, h.dir, h.bin, h.runs
			cmd := fmt.Sprintf("cd %s && XDG_CACHE_HOME=%s %s --runs %s; echo EXITED $?; sleep 30", dir, filepath.Join(dir, "cache"), bin, runs)
			tmux("new-session", "-d", "-s", "w", "-x", "100", "-y", "30", cmd)
			waitFor("a first step", func(s string) bool { return strings.Contains(s, "step 0") || strings.Contains(s, "step 1") })
			pids := h.running()
			if len(pids) != 1 {
				t.Fatalf("%d processes of %s running; want the workbench's", len(pids), bin)
			}
			if p, err := os.FindProcess(pids[0]); err != nil || p.Signal(sig) != nil {
				t.Fatalf("signalling pid %d: %v", pids[0], err)
			}
			s := waitFor("the exit", func(s string) bool { return strings.Contains(s, "EXITED") })
			if !strings.Contains(s, "EXITED 0") || !strings.Contains(s, "continue it: "+sessions.ShellQuote(bin)+" run --resume") || strings.Contains(s, "interrupted") {
				t.Errorf("after %v, not a clean exit (0) with the resume command:\n%s", sig, s)
			}
			if st := strings.Fields(strings.TrimSpace(tmux("display", "-p", "-t", "w", "#{alternate_on} #{cursor_flag}"))); len(st) != 2 || st[0] != "0" || st[1] != "1" {
				t.Errorf("after the exit: alternate_on, cursor_flag = %v; want 0 1 (main screen, cursor visible)", st)
			}
			checkStoppedRun(t, runs)
		})
	}
}

// TestWorkbenchSecondSignalLeavesAtOnce: a second stop signal while the
// workbench ends its run after the first (Ctrl-C, then a kill's SIGTERM:
// two signals of a kind could be merged into one pending) leaves at once,
// as Ctrl-C pressed again does in common practice: exit 1, the terminal
// restored, stderr saying what the run lost, in its folder's words (the
// close's note), and how it goes on, the run no longer running. The
// second signal was swallowed, the workbench waiting for the step (exit 0).
// The workbench is rlt bounding its leave by a hang guard (leaveGuardedRun),
// not the 2 s a loaded machine could take to put a checkpoint under way
// into place and write the run's close.
func TestWorkbenchSecondSignalLeavesAtOnce(t *testing.T) {
	h := newTmuxHarness(t, "twice", 2*leaveHangGuard+time.Minute, 100*time.Millisecond)
	h.bin = testBinary(t, h.dir)
	tmux, waitFor, dir, runs := h.tmux, h.waitFor, h.dir, h.runs
	cmd := fmt.Sprintf("cd %s && XDG_CACHE_HOME=%s %s=1 %s '%s' -- --runs %s; echo EXITED $?; sleep 30", dir, filepath.Join(dir, "cache"), leaveGuardedEnv, h.bin, leaveGuardedRun, runs)
	tmux("new-session", "-d", "-s", "w", "-x", "200", "-y", "30", cmd)
	waitFor("a first step", func(s string) bool { return strings.Contains(s, "step 0") || strings.Contains(s, "step 1") })
	pids := h.running()
	if len(pids) != 1 {
		t.Fatalf("%d processes of %s running; want the workbench's", len(pids), h.bin)
	}
	p, err := os.FindProcess(pids[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		if err := p.Signal(sig); err != nil {
			t.Fatalf("signalling pid %d with %v: %v", pids[0], sig, err)
		}
	}
	s := waitFor("the exit", func(s string) bool { return strings.Contains(s, "EXITED") })
	flat := strings.Join(strings.Fields(s), " ") // stderr's lines wrapped at the pane's width
	if !strings.Contains(s, "EXITED 1") || !strings.Contains(flat, "left at once on a second stop signal, without ending the runs it trained; each run above goes on as said under its folder") ||
		!strings.Contains(s, "run folder "+runs) {
		t.Errorf("after a second signal, not a prompt exit (1) saying how the run goes on:\n%s", s)
	}
	if st := strings.Fields(strings.TrimSpace(tmux("display", "-p", "-t", "w", "#{alternate_on} #{cursor_flag}"))); len(st) != 2 || st[0] != "0" || st[1] != "1" {
		t.Errorf("after the exit: alternate_on, cursor_flag = %v; want 0 1 (main screen, cursor visible)", st)
	}
	// Stopped, noted as left (the run folder recorded it, run.lock
	// released), not a killed writer's run "gone without stopping it".
	if list, err := sessions.List(runs); err != nil || len(list) != 1 || list[0].State != sessions.StateStopped || !strings.HasPrefix(list[0].Note, "left at once on a second stop signal ") {
		t.Errorf("rlt sessions: %+v %v; want the run stopped, noted as left at once on a second stop signal", list, err)
	} else if !strings.Contains(flat, "run folder "+strings.Join(strings.Fields(list[0].Dir+" "+list[0].Note), " ")+" "+strings.Join(strings.Fields(sessions.ContinueLine(list[0].Dir)), " ")) {
		// What it lost, in the folder's words, not its own: it said the
		// final checkpoint lost also where the folder noted it in place.
		t.Errorf("the folder notes %q; want that said under it:\n%s", list[0].Note, s)
	} else if lock, err := os.ReadFile(filepath.Join(list[0].Dir, sessions.LockFileName)); err != nil || strings.TrimSpace(string(lock)) != "" {
		t.Errorf("run.lock %q, %v; want it released (emptied)", lock, err)
	}
}

// tmuxHarness is the real binary, in a temporary folder under a path of
// its own (buildRLT), run in a private tmux server that the test's end
// kills, its socket removed (closeTmux), failed tests included.
type tmuxHarness struct {
	t              *testing.T
	dir, bin, runs string
	sock           string
	timeout, poll  time.Duration
}

func newTmuxHarness(t *testing.T, name string, timeout, poll time.Duration) *tmuxHarness {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (apt-get install tmux)")
	}
	dir := t.TempDir()
	h := &tmuxHarness{t: t, dir: dir, bin: buildRLT(t, dir), runs: filepath.Join(dir, "runs"),
		sock: fmt.Sprintf("rlt-test-%s-%d", name, os.Getpid()), timeout: timeout, poll: poll}
	server := startTmuxServer(t, h.sock)
	t.Cleanup(func() {
		exec.Command("tmux", "-L", h.sock, "kill-server").Run() // before reap: it closes the binary's terminal
		server()
		h.reap()
		if err := closeTmux(h.sock); err != nil {
			t.Errorf("tmux server %s: %v", h.sock, err)
		}
	})
	return h
}

// startTmuxServer starts the private tmux server on sock as a child of the
// test process that dies with it (tmux -D, not a daemon; tmuxServerAttr:
// on Linux, SIGKILL at the process's end), and waits until it takes
// connects; the test's tmux commands (new-session among them) then use it.
// A daemon, as tmux starts one for new-session, outlived a test binary
// killed by -timeout (which runs no cleanup), with the workbench it ran.
// Chosen over a sweep of such servers by the next test run: the kernel
// ends it at once, whatever ends the process, and a live server cannot
// be told from another pid namespace's test's (removeStaleTmuxSockets).
// The thread that starts it is held until stop (Pdeathsig fires at that
// thread's end, and Go ends a thread whose locked goroutine ends). stop
// kills the server if it still runs and reaps it.
//
// tmux before 3.2 has no -D: there the server is left to the tests'
// new-session, a daemon, as before (said in the test's log), where every
// tmux test failed on "ended as it started" (Ubuntu 20.04's tmux 3.0a).
func startTmuxServer(t *testing.T, sock string) (stop func()) {
	t.Helper()
	if exec.Command("tmux", "-D", "-V").Run() != nil { // an unknown flag: usage, exit 1
		t.Logf("tmux server %s: this tmux has no -D (3.2's), so new-session starts it as a daemon, which a test process killed before its cleanup leaves running", sock)
		return func() {}
	}
	srv := exec.Command("tmux", "-D", "-L", sock, "-f", "/dev/null")
	srv.SysProcAttr = tmuxServerAttr()
	started, release := make(chan error), make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		started <- srv.Start()
		<-release
	}()
	if err := <-started; err != nil {
		close(release)
		t.Fatalf("tmux server %s: %v", sock, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	stop = func() {
		srv.Process.Kill() // where kill-server did not end it
		<-exited
		close(release)
	}
	// Waits for its socket to take connects, however long that takes, or
	// for the server's end.
	for {
		if c, err := net.Dial("unix", tmuxSocketPath(sock)); err == nil {
			c.Close()
			return stop
		}
		select {
		case err := <-exited:
			close(release)
			t.Fatalf("tmux server %s ended as it started: %v", sock, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// closeTmux kills the private tmux server on sock, if one still runs, and
// removes its socket, which tmux leaves behind whether killed or ended
// with its last session: each run of the tmux tests left theirs, about
// 1,000 of them in /tmp/tmux-0.
func closeTmux(sock string) error {
	exec.Command("tmux", "-L", sock, "kill-server").Run() // fails where none runs, as wanted
	if err := os.Remove(tmuxSocketPath(sock)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// tmuxSocketPath is where tmux -L sock makes its socket.
func tmuxSocketPath(sock string) string { return filepath.Join(tmuxSocketDir(), sock) }

// tmuxSocketDir is tmux's folder of sockets: tmux-UID in $TMUX_TMPDIR,
// else in /tmp.
func tmuxSocketDir() string {
	dir := os.Getenv("TMUX_TMPDIR")
	if dir == "" {
		dir = "/tmp"
	}
	return filepath.Join(dir, fmt.Sprintf("tmux-%d", os.Getuid()))
}

// removeStaleTmuxSockets removes from dir (tmux's folder of sockets) those
// of the tmux tests (newTmuxHarness: rlt-test-NAME-PID) whose test process
// is gone and on which no server listens: a test binary killed by
// -timeout, or a kill, ran no cleanup (closeTmux) and left them. A server
// that listens keeps its socket even with no session (tmux has-session
// fails on one just started, before its first session, and on one of
// another tmux version): removing it would leave a test running at once
// (another pid namespace sharing /tmp, where its pid reads as gone) with
// a server it cannot reach.
func removeStaleTmuxSockets(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		name, ours := strings.CutPrefix(e.Name(), "rlt-test-")
		pid, err := strconv.Atoi(name[strings.LastIndexByte(name, '-')+1:])
		if !ours || err != nil || e.Type()&fs.ModeSocket == 0 || durable.ProcessAlive(pid) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		// Only a refused connect says no server listens: one that times out
		// (a server whose queue of connects is full) is in use.
		c, err := net.DialTimeout("unix", path, 5*time.Second)
		if err == nil {
			c.Close()
		} else if errors.Is(err, syscall.ECONNREFUSED) {
			os.Remove(path)
		}
	}
}

// TestRemoveStaleTmuxSockets: a tmux test's socket whose process is gone
// and on which no server listens is removed; one of a live process, one a
// live server listens on (no session yet), a name not the tests', and a
// file that is no socket stay.
func TestRemoveStaleTmuxSockets(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no unix sockets for tmux")
	}
	dir, err := os.MkdirTemp("", "rlt-tmux-") // short: a socket's path is at most 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	const gone = 1<<22 + 1 // past Linux's largest pid_max
	socket := func(name string) {
		l, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(dir, name), Net: "unix"})
		if err != nil {
			t.Fatal(err)
		}
		l.SetUnlinkOnClose(false) // as a server that ended leaves it
		l.Close()
	}
	socket(fmt.Sprintf("rlt-test-q-%d", gone))
	socket(fmt.Sprintf("rlt-test-s15-%d", os.Getpid()))
	socket(fmt.Sprintf("other-%d", gone))
	os.WriteFile(filepath.Join(dir, fmt.Sprintf("rlt-test-file-%d", gone)), nil, 0o600)
	// A live server under a name whose pid reads as gone (a test binary in
	// another pid namespace sharing /tmp) that has no session yet, as one
	// just started has: has-session fails on it, yet it is in use.
	live := fmt.Sprintf("rlt-test-live-%d", gone)
	if _, err := exec.LookPath("tmux"); err == nil {
		// -D: the server in the foreground, a child killed at the end even
		// where its socket was removed; it stays up with no session.
		srv := exec.Command("tmux", "-D", "-f", "/dev/null", "-S", filepath.Join(dir, live))
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
		// Waits for its socket, however long that takes.
		for {
			if c, err := net.Dial("unix", filepath.Join(dir, live)); err == nil {
				c.Close()
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	} else {
		l, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(dir, live), Net: "unix"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
	}
	removeStaleTmuxSockets(dir)
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	want := []string{fmt.Sprintf("other-%d", gone), fmt.Sprintf("rlt-test-file-%d", gone), live, fmt.Sprintf("rlt-test-s15-%d", os.Getpid())}
	if fmt.Sprint(left) != fmt.Sprint(want) {
		t.Errorf("left %q, want %q", left, want)
	}
}

// TestCloseTmuxRemovesTheSocket: the tmux tests' cleanup leaves neither a
// server nor its socket, for a server still running and for one that
// ended with its last session. Only the server was killed, and the socket
// of each stayed in /tmp/tmux-UID.
func TestCloseTmuxRemovesTheSocket(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (apt-get install tmux)")
	}
	for _, c := range []struct{ name, cmd string }{
		{"running", "sleep 600"},
		{"ended with its session", "true"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sock := fmt.Sprintf("rlt-test-close%d-%d", len(c.cmd), os.Getpid())
			t.Cleanup(func() { closeTmux(sock) })
			if out, err := exec.Command("tmux", "-L", sock, "-f", "/dev/null", "new-session", "-d", "-s", "w", c.cmd).CombinedOutput(); err != nil {
				t.Fatalf("tmux new-session: %v\n%s", err, out)
			}
			if _, err := os.Stat(tmuxSocketPath(sock)); err != nil {
				t.Fatalf("the socket is not where tmuxSocketPath says: %v", err)
			}
			if c.cmd == "true" {
				// Waits for the server to end, however long that takes.
				for exec.Command("tmux", "-L", sock, "has-session").Run() == nil {
					time.Sleep(20 * time.Millisecond)
				}
			}
			if err := closeTmux(sock); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(tmuxSocketPath(sock)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the socket %s is still there (stat: %v)", tmuxSocketPath(sock), err)
			}
			if exec.Command("tmux", "-L", sock, "has-session").Run() == nil {
				t.Errorf("the server on %s still runs", sock)
			}
		})
	}
}

// reap waits for the binary's processes to end after their terminal
// closed (SIGHUP stops a workbench after its step in progress), and kills
// and reports any still running a minute on: a workbench hung in its
// event loop would otherwise outlive the test, its folder deleted under
// it (one such grew to 23 GiB).
func (h *tmuxHarness) reap() {
	if runtime.GOOS != "linux" { // /proc/PID/exe names the binary
		return
	}
	running := h.running
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if len(running()) == 0 {
			return
		}
	}
	for _, pid := range running() {
		if p, err := os.FindProcess(pid); err == nil {
			p.Kill()
		}
		h.t.Errorf("pid %d (%s) still ran a minute after its terminal closed: killed", pid, h.bin)
	}
}

// running are the processes of the binary (Linux: /proc/PID/exe names
// it; elsewhere none are found).
func (h *tmuxHarness) running() []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && strings.TrimSuffix(exe, " (deleted)") == h.bin {
			pids = append(pids, pid)
		}
	}
	return pids
}

// tmux runs a tmux command on the private server.
func (h *tmuxHarness) tmux(args ...string) string {
	out, err := exec.Command("tmux", append([]string{"-L", h.sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
	if err != nil {
		h.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (h *tmuxHarness) screen() string { return h.tmux("capture-pane", "-t", "w", "-p") }

// waitFor polls the screen until ok holds, or fails the test showing it.
func (h *tmuxHarness) waitFor(what string, ok func(string) bool) string {
	deadline := time.Now().Add(h.timeout)
	for {
		s := h.screen()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("waiting for %s; the screen is:\n%s", what, s)
		}
		time.Sleep(h.poll)
	}
}

// TestWorkbenchStopResumeOpenInTmux: S stops the run and the header says
// stopped; r on the Runs screen resumes it in the same workbench; after
// quitting, `rlt open` shows the finished run without training it and a
// trace accepted there is recorded.
func TestWorkbenchStopResumeOpenInTmux(t *testing.T) {
	h := newTmuxHarness(t, "s", 150*time.Second, 200*time.Millisecond)
	tmux, waitFor, dir, bin, runs := h.tmux, h.waitFor, h.dir, h.bin, h.runs
	env := "XDG_CACHE_HOME=" + filepath.Join(dir, "cache")
	cmd := fmt.Sprintf("cd %s && %s %s --runs %s --steps 0; echo EXITED $?; sleep 60", dir, env, bin, runs)
	tmux("new-session", "-d", "-s", "w", "-x", "120", "-y", "30", cmd)
	waitFor("a first step", func(s string) bool { return strings.Contains(s, "running · ") && strings.Contains(s, "step 1") })
	tmux("send-keys", "-t", "w", "-l", "S")
	waitFor("the stop question", func(s string) bool { return strings.Contains(s, "stop the run? press y") })
	tmux("send-keys", "-t", "w", "-l", "y")
	waitFor("the header saying stopped", func(s string) bool {
		first, _, _ := strings.Cut(s, "\n")
		return strings.Contains(first, "· stopped ·") && !strings.Contains(first, "st/min")
	})
	tmux("send-keys", "-t", "w", "4")
	waitFor("the run listed as stopped", func(s string) bool { return strings.Contains(s, "stopped") && strings.Contains(s, "no engine running") })
	tmux("send-keys", "-t", "w", "r")
	waitFor("the run training again", func(s string) bool {
		first, _, _ := strings.Cut(s, "\n")
		return strings.Contains(first, "running · ")
	})
	tmux("send-keys", "-t", "w", "q")
	waitFor("a clean exit", func(s string) bool { return strings.Contains(s, "EXITED 0") })
	entries, _ := os.ReadDir(runs)
	if len(entries) != 1 {
		t.Fatalf("%d run folders", len(entries))
	}
	runDir := filepath.Join(runs, entries[0].Name())

	// The pane runs the next command in place: killing the only session
	// would end the tmux server, and a new session could meet it exiting.
	cmd = fmt.Sprintf("cd %s && %s %s open --runs %s %s; echo EXITED $?; sleep 60", dir, env, bin, runs, runDir)
	tmux("respawn-pane", "-k", "-t", "w", cmd)
	waitFor("the run open for review", func(s string) bool {
		return strings.Contains(s, "opened for review") || strings.Contains(s, "Dashboard")
	})
	tmux("send-keys", "-t", "w", "2")
	waitFor("the traces", func(s string) bool { return strings.Contains(s, "│ explanation") && strings.Contains(s, "question ") })
	tmux("send-keys", "-t", "w", "Enter")
	waitFor("a trace's detail", func(s string) bool { return strings.Contains(s, "question ") && strings.Contains(s, "unreviewed") })
	tmux("send-keys", "-t", "w", "a")
	waitFor("the accept", func(s string) bool { return strings.Contains(s, ": accept") })
	tmux("send-keys", "-t", "w", "q")
	waitFor("a clean exit of rlt open", func(s string) bool { return strings.Contains(s, "EXITED 0") })
	ro, err := sessions.OpenReadOnly(runDir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	accepted := 0
	for _, l := range ro.Store().Labels() {
		if l.Label == sessions.LabelAccept {
			accepted++
		}
	}
	if accepted != 1 {
		t.Errorf("%d traces accepted in the run folder, want 1", accepted)
	}
	if list, err := sessions.List(runs); err != nil || len(list) != 1 || list[0].State != sessions.StateStopped {
		t.Errorf("rlt sessions after both: %+v %v", list, err)
	}
}
