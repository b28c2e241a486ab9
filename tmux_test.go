package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestWorkbenchInTmux drives the real binary in a private tmux server: it
// starts on the embedded default, the curves get data, the Runs screen
// opens and esc leaves it, a trace's heatmap opens, the terminal is
// resized, and q quits cleanly with a checkpoint.
func TestWorkbenchInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (apt-get install tmux)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "rlt")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	sock := fmt.Sprintf("rlt-test-%d", os.Getpid())
	tmux := func(args ...string) string {
		out, err := exec.Command("tmux", append([]string{"-L", sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	defer exec.Command("tmux", "-L", sock, "kill-server").Run()
	runs := filepath.Join(dir, "runs")
	cmd := fmt.Sprintf("cd %s && XDG_CACHE_HOME=%s %s --runs %s --steps 3; echo EXITED $?; sleep 30", dir, filepath.Join(dir, "cache"), bin, runs)
	tmux("new-session", "-d", "-s", "w", "-x", "100", "-y", "30", cmd)
	screen := func() string { return tmux("capture-pane", "-t", "w", "-p") }
	waitFor := func(what string, ok func(string) bool) string {
		deadline := time.Now().Add(90 * time.Second)
		for {
			s := screen()
			if ok(s) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %s; the screen is:\n%s", what, s)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitFor("a step in the status line", func(s string) bool {
		return strings.Contains(s, "Dashboard") && (strings.Contains(s, "step 1") || strings.Contains(s, "step 2") || strings.Contains(s, "done"))
	})
	// The Runs screen lists this run as the one open here; esc goes back.
	tmux("send-keys", "-t", "w", "4")
	waitFor("the Runs screen", func(s string) bool { return strings.Contains(s, "Runs · 1 in") && strings.Contains(s, "(open here)") })
	tmux("send-keys", "-t", "w", "Escape")
	waitFor("the dashboard again", func(s string) bool { return strings.Contains(s, "[1 Dashboard]") })
	tmux("send-keys", "-t", "w", "3")
	waitFor("the trace detail", func(s string) bool { return strings.Contains(s, "d_k") && strings.Contains(s, "reward") })
	tmux("resize-window", "-t", "w", "-x", "70", "-y", "20")
	s := waitFor("a redraw at 70 columns", func(s string) bool { return strings.Contains(s, "d_k") })
	for i, line := range strings.Split(s, "\n") {
		if n := utf8.RuneCountInString(line); n > 70 {
			t.Errorf("line %d is %d cells wide at 70 columns: %q", i, n, line)
		}
	}
	tmux("send-keys", "-t", "w", "q")
	waitFor("a clean exit", func(s string) bool { return strings.Contains(s, "EXITED 0") })
	cks, _ := filepath.Glob(filepath.Join(runs, "*", "checkpoints", "step-*", "state.json"))
	if len(cks) == 0 {
		t.Error("quitting wrote no final checkpoint")
	}
}
