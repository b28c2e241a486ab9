package ui

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui/style"
)

// TestTerminalGoneQuits: the workbench runs on a real terminal (a pty),
// which then goes away (its other end closed, as when a tmux server is
// killed or an ssh connection drops) with no signal sent: the workbench
// quits and closes its run as q does, rather than going on unseen.
func TestTerminalGoneQuits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		screen string // a key that switches screens, "" for none
		shown  string // what the frame shows once the key is read
	}{
		{"dashboard", "", "Dashboard"},
		{"traces", "2", "[2 Traces]"},
		{"runs screen", "4", "[4 Runs]"},
		{"help", "?", "dashboard/traces/detail"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			master, term := openPTY(t, 100, 30)
			var (
				mu  sync.Mutex
				out bytes.Buffer
			)
			go func() { // the terminal's screen, drained so that writes never block
				buf := make([]byte, 4096)
				for {
					n, err := master.Read(buf)
					mu.Lock()
					out.Write(buf[:n])
					mu.Unlock()
					if err != nil {
						return
					}
				}
			}()
			shows := func(what string) {
				t.Helper()
				for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
					mu.Lock()
					ok := strings.Contains(out.String(), what)
					mu.Unlock()
					if ok {
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("the terminal never showed %q", what)
					}
				}
			}

			r := newTestRun(t, 3, 1, 2, 10)
			var closed bool
			s := &sessions.Session{Run: r, Steps: 20, Close: func() error { closed = true; return r.Close() }}
			done := make(chan error, 1)
			go func() {
				done <- Run(Options{Session: s, RunsDir: t.TempDir(), Theme: style.NewTheme(style.NoColor)}, term, term)
			}()
			shows("Dashboard")
			if tc.screen != "" { // keys are read: the workbench is on its input
				master.WriteString(tc.screen)
				shows(tc.shown)
			}
			master.Close() // the terminal is gone
			select {
			case err := <-done:
				if err != nil {
					t.Logf("Run: %v", err)
				}
			case <-time.After(time.Minute):
				t.Fatal("the workbench went on after its terminal was gone")
			}
			if !closed {
				t.Error("the run was not closed")
			}
		})
	}
}

// openPTY opens a pseudo-terminal of cols × rows: its master end, which
// the test holds, and the terminal end the workbench runs on.
func openPTY(t *testing.T, cols, rows uint16) (master, term *os.File) {
	t.Helper()
	// Non-blocking, so that Close ends the read in progress and the
	// terminal's other end is released: a blocking read would hold it open.
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	m := os.NewFile(uintptr(fd), "/dev/ptmx")
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	if err := unix.IoctlSetWinsize(int(m.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols}); err != nil {
		t.Fatalf("pty size: %v", err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("pty terminal end: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}
