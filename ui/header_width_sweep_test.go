package ui

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestHeaderFitsEveryWidth: a killed run with warnings, on a GPU with
// its memory recorded, viewed read-only and opened to review, with and
// without a plan, at step counts of 1 to 5 digits: at every width from
// 60 to 200 columns no line of the view passes the terminal's width, the
// header keeps the run's state, and it leaves the reward out only where
// the shortest header that says it ("[1] · stopped, interrupted
// (read-only) · 2 warnings · step 123/200 · reward -0.125", 82 columns)
// does not fit. A killed run viewed read-only at step 123 of 200 is the
// one whose header with its reward is 82 columns wide at 80.
func TestHeaderFitsEveryWidth(t *testing.T) {
	for _, plan := range []int{0, 200, 100000} {
		for _, steps := range []int{1, 9, 10, 99, 100, 123, 999, 1000, 9999, 10000, 99999} {
			for _, mode := range []string{"read-only", "review"} {
				t.Run(fmt.Sprintf("%s, %d steps of %d", mode, steps, plan), func(t *testing.T) {
					headerFitsEveryWidth(t, plan, steps, mode)
				})
			}
		}
	}
}

func headerFitsEveryWidth(t *testing.T, plan, steps int, mode string) {
	t.Chdir(t.TempDir())
	dir := filepath.Join("runs", "killed")
	w, err := sessions.Create(dir, flowCfg{Task: "addition", Steps: plan})
	if err != nil {
		t.Fatal(err)
	}
	w.Emit(event.Device{Time: t0, DeviceChoice: event.DeviceChoice{Backend: "vulkan/NVIDIA H200", GPU: "gpu:0", Why: "a discrete GPU"}})
	for i := range 2 {
		w.Emit(event.Error{Time: t0, Step: 0, Severity: event.SeverityWarning, Err: fmt.Errorf("data train.jsonl: skipped row %d: not JSON", i+3)})
	}
	// The first step and the last: the count is the last's.
	for _, s := range []int{0, steps - 1} {
		w.Emit(event.Phase{Time: t0, Name: "sampling", Step: s})
		w.Emit(event.Metrics{Time: t0, Step: s, Values: map[string]float64{"reward": -0.125, "memory_device_peak_gib": 3.5}})
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	killWriter(t, w)
	l := &testLauncher{runs: "runs"}
	open := l.OpenReadOnly
	if mode == "review" {
		open = l.OpenForReview
	}
	s, err := open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Steps = plan // as rlt open reads it from config.toml
	m := newModel(Options{Session: s, Launcher: l, RunsDir: "runs"})
	defer closeModel(t, m)
	state := "stopped, interrupted (" + mode + ")"
	shortest := "[1] · " + state + " · 2 warnings · step " + sessions.StepsLabel(steps, plan) + " · reward -0.125"
	for cw := 60; cw <= 200; cw++ {
		m.Update(tea.WindowSizeMsg{Width: cw, Height: 24})
		lines := strings.Split(ansi.Strip(m.View()), "\n")
		for i, line := range lines {
			if n := ansi.StringWidth(line); n > cw {
				t.Errorf("%d columns: line %d is %d wide: %q", cw, i+1, n, line)
			}
		}
		h := lines[0]
		if !strings.Contains(h, state) {
			t.Errorf("%d columns: header %q lacks %q", cw, h, state)
		}
		if !strings.Contains(h, "reward -0.125") && ansi.StringWidth(shortest) <= cw {
			t.Errorf("%d columns: header %q leaves the reward out, where %q (%d columns) fits", cw, h, shortest, ansi.StringWidth(shortest))
		}
	}
}
