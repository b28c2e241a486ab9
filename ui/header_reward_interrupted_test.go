package ui

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestHeaderKeepsTheRewardOfAnInterruptedRunWithWarnings: at 80 columns a
// killed run opened to review, with warnings and step numbers of three
// digits, keeps its reward in the header, the warnings' count giving up
// its key's hint ("(!)": the help page names the key) after the screen
// its name; the reward was left out ("[1] · stopped, interrupted (review)
// · 2 warnings (!) · step 123/200" is 80 columns without it).
func TestHeaderKeepsTheRewardOfAnInterruptedRunWithWarnings(t *testing.T) {
	t.Chdir(t.TempDir())
	dir := filepath.Join("runs", "killed")
	w, err := sessions.Create(dir, flowCfg{Task: "addition", Steps: 200})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		w.Emit(event.Error{Time: t0, Step: 0, Severity: event.SeverityWarning, Err: fmt.Errorf("data train.jsonl: skipped row %d: not JSON", i+3)})
	}
	for s := 0; s < 123; s++ {
		w.Emit(event.Phase{Time: t0, Name: "sampling", Step: s})
		w.Emit(event.Metrics{Time: t0, Step: s, Values: map[string]float64{"reward": -0.125}})
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	killWriter(t, w)
	l := &testLauncher{runs: "runs"}
	s, err := l.OpenForReview(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Steps = 200 // its plan, as rlt open reads it from config.toml
	m := newModel(Options{Session: s, Launcher: l, RunsDir: "runs"})
	t.Cleanup(func() { closeModel(t, m) })
	for _, c := range []struct {
		w    int
		want string
	}{
		{80, "[1] · stopped, interrupted (review) · 2 warnings · step 123/200 · reward -0.125"},
		{120, "stopped, interrupted (review) · 2 warnings (!) · step 123/200 · reward -0.125 (step 122)"},
	} {
		m.Update(tea.WindowSizeMsg{Width: c.w, Height: 24})
		h := ansi.Strip(strings.SplitN(m.View(), "\n", 2)[0])
		if !strings.Contains(h, c.want) || ansi.StringWidth(h) > c.w {
			t.Errorf("%d columns: header %q, want %q in it within its width", c.w, h, c.want)
		}
	}
}

// TestHeaderTakesBackWhatFitsOnceTheRewardIsLeftOut: where the reward is
// left out all the same (60 columns), the parts shortened to make room
// for it get their longer forms back where they fit: the screen's name
// ([2 Traces]) and the problems' "(!)". The screen's name stayed [2]
// (since 975530f) and TestBrokenRunOpens' "(!)" was gone at 60 columns.
func TestHeaderTakesBackWhatFitsOnceTheRewardIsLeftOut(t *testing.T) {
	parts := []headerPart{{text: "[2 Traces]", keep: keepScreenName, short: "[2]", shortKeep: keepAlways},
		{text: "stopped (read-only)", keep: keepAlways},
		{text: "7 problems (!)", keep: keepProblemsKey, short: "7 problems", shortKeep: keepHigh},
		{text: "step 4", keep: keepHigh}, {text: "reward -0.125", keep: keepHigh}}
	for _, c := range []struct {
		w    int
		want string
	}{
		{74, "[2 Traces] · stopped (read-only) · 7 problems (!) · step 4 · reward -0.125"},
		{70, "[2] · stopped (read-only) · 7 problems (!) · step 4 · reward -0.125"},
		{63, "[2] · stopped (read-only) · 7 problems · step 4 · reward -0.125"},
		{60, "[2 Traces] · stopped (read-only) · 7 problems (!) · step 4"},
		{51, "[2] · stopped (read-only) · 7 problems (!) · step 4"},
		{50, "[2] · stopped (read-only) · 7 problems · step 4"},
	} {
		if got := headerFit(slices.Clone(parts), c.w); got != c.want {
			t.Errorf("at %d columns:\n got %q\nwant %q", c.w, got, c.want)
		}
	}
}
