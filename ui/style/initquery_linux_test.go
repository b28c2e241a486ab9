//go:build linux

package style_test

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"golang.org/x/sys/unix"

	"github.com/rlt-workbench/rlt/ui/chart"
	"github.com/rlt-workbench/rlt/ui/heatmap"
	"github.com/rlt-workbench/rlt/ui/keys"
	"github.com/rlt-workbench/rlt/ui/style"
)

// Bubble Tea v1 must not be linked into these packages: its package init
// asks the terminal for its background colour.
func TestNoBubbleTea(t *testing.T) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Skip("no build info")
	}
	for _, d := range bi.Deps {
		if d.Path == "github.com/charmbracelet/bubbletea" {
			t.Fatal("github.com/charmbracelet/bubbletea is linked into the ui building blocks")
		}
	}
}

const helperEnv = "RLT_UI_INITQUERY_HELPER"

// TestHelperProcess is run by TestNoTerminalQuery on a pseudo-terminal.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("helper only")
	}
	// Everything a screen would do with these packages.
	th := style.NewTheme(style.Detect(os.Stdout))
	_ = th.Styles().Title.Render("title")
	c := chart.New(th)
	for i := 0; i < 100; i++ {
		c.Append("reward", int64(i), float64(i))
	}
	c.SetSize(40, 10)
	_ = c.View()
	h := heatmap.New(th)
	h.SetTokens([]string{"a", "Ġb"}, []float64{1, -1})
	h.SetSize(40, 5)
	_ = h.View()
	_ = keys.FullHelpView(keys.NewDetail().FullHelp(), 80, 0, keys.DefaultHelpStyle(th))
	os.Stdout.WriteString("\nPROFILE=" + th.Profile().String() + "\nDONE\n")
	if mode == "control" {
		// The call that does query: lipgloss's default renderer.
		_ = lipgloss.HasDarkBackground()
		os.Stdout.WriteString("CONTROL-DONE\n")
	}
	// Wait for the parent to have read everything: a pty can drop output
	// that is still buffered when its last writer exits.
	os.Stdout.WriteString("END\n")
	var b [1]byte
	_, _ = os.Stdin.Read(b[:])
}

// runOnPTY runs the helper with a new pseudo-terminal as its controlling
// terminal and stdin/stdout/stderr, answers any colour query, and returns
// what the helper wrote to the terminal.
func runOnPTY(t *testing.T, mode string) string {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer master.Close()
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("ptsname: %v", err)
	}
	slave, err := os.OpenFile("/dev/pts/"+itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open pts: %v", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.v")
	var envv []string
	for _, e := range os.Environ() {
		if strings.HasPrefix(e, "CI=") || strings.HasPrefix(e, "TERM=") || strings.HasPrefix(e, "NO_COLOR=") {
			continue
		}
		envv = append(envv, e)
	}
	cmd.Env = append(envv, helperEnv+"="+mode, "TERM=xterm-256color", "COLORTERM=truecolor")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()

	var out bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		answered, released := false, false
		for {
			k, err := master.Read(buf)
			out.Write(buf[:k])
			if !answered && bytes.Contains(out.Bytes(), []byte("\x1b]11;?")) {
				// Answer like a terminal so the helper is not left waiting.
				io.WriteString(master, "\x1b]11;rgb:0000/0000/0000\x1b\\\x1b[1;1R")
				answered = true
			}
			if !released && bytes.Contains(out.Bytes(), []byte("END\r\n")) {
				io.WriteString(master, "\n")
				released = true
			}
			if err != nil {
				return
			}
		}
	}()
	waitErr := make(chan error, 1)
	go func() { waitErr <- cmd.Wait() }()
	select {
	case err := <-waitErr:
		if err != nil {
			t.Logf("helper: %v", err)
		}
	case <-time.After(60 * time.Second): // a hang guard, not a timing check
		_ = cmd.Process.Kill()
		t.Fatal("helper hung")
	}
	master.Close()
	<-done
	return out.String()
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

var queries = []string{"\x1b]11;?", "\x1b]10;?", "\x1b[6n"}

// Importing and using style, chart, heatmap and keys on a real terminal
// sends no query to it. The control run shows the harness sees a query
// when lipgloss.HasDarkBackground is called.
func TestNoTerminalQuery(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a helper on a pty")
	}
	out := runOnPTY(t, "plain")
	if !strings.Contains(out, "DONE") {
		t.Fatalf("helper did not finish:\n%q", out)
	}
	if !strings.Contains(out, "PROFILE=truecolor") {
		t.Errorf("helper did not see a truecolor terminal:\n%q", out)
	}
	for _, q := range queries {
		if strings.Contains(out, q) {
			t.Errorf("the ui packages sent the terminal query %q:\n%q", q, out)
		}
	}
	ctl := runOnPTY(t, "control")
	if !strings.Contains(ctl, "\x1b]11;?") || !strings.Contains(ctl, "CONTROL-DONE") {
		t.Errorf("control: lipgloss.HasDarkBackground did not query as expected:\n%q", ctl)
	}
}
