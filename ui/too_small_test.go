package ui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// TestTooSmallSaysQQuits: below MinWidth×MinHeight only q and ctrl+c act
// (docs/workbench.md); the frame says so, where it said only "Enlarge
// it." and every other key did nothing unexplained. It says so in a pane
// of fewer than five lines too (80×4, 40×1), where its first four or one
// of five short lines were shown, "q quits." the line left off. And it
// says the size it needs at one line of height (40×1), where it said only
// "now 40×1. Enlarge it; q quits.".
func TestTooSmallSaysQQuits(t *testing.T) {
	r := newTestRun(t, 2, 1, 2, 8)
	m := sized(t, r, 80, 24, &fakeControl{})
	for _, sz := range [][2]int{{59, 14}, {20, 10}, {12, 5}, {80, 4}, {59, 3}, {40, 1}, {12, 2}} {
		m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		v := m.View()
		if !strings.Contains(v, "q quits.") {
			t.Errorf("%d×%d: the frame does not say q quits:\n%s", sz[0], sz[1], v)
		}
		if n := len(strings.Split(v, "\n")); n > sz[1] {
			t.Errorf("%d×%d: %d lines:\n%s", sz[0], sz[1], n, v)
		}
		if sz[0] >= 15 && !strings.Contains(v, "60×15") { // at one line too
			t.Errorf("%d×%d: the frame does not say the size it needs:\n%s", sz[0], sz[1], v)
		}
		for _, l := range strings.Split(v, "\n") {
			if len([]rune(l)) > sz[0] {
				t.Errorf("%d×%d: line %q is wider than the terminal", sz[0], sz[1], l)
			}
		}
	}
}

// TestTooSmallSaysTheSizeOnOneLine: at fewer lines than its phrases need
// the frame says less, in shorter words, but still the size it needs and
// that q quits, each whole: at one line of height it kept only its last
// line, "now 40×1. Enlarge it; q quits.", and never said 60×15.
func TestTooSmallSaysTheSizeOnOneLine(t *testing.T) {
	for _, tc := range []struct {
		w, h int
		want string
	}{
		{80, 1, "Terminal too small: need 60×15, now 80×1. Enlarge it; q quits."},
		{59, 1, "Too small: need 60×15, now 59×1. q quits."},
		{40, 1, "Too small: need 60×15. q quits."},
		{20, 1, "Need 60×15. q quits."},
		{15, 1, "60×15; q quits."},
		{10, 1, "q quits."},
		{5, 1, "q qu…"},
		{20, 2, "Too small:\nneed 60×15. q quits."},
		{12, 2, "Need 60×15.\nq quits."},
		{59, 2, "Terminal too small: need 60×15, now 59×2. Enlarge it;\nq quits."},
	} {
		if got := tooSmall(tc.w, tc.h); got != tc.want {
			t.Errorf("%d×%d: %q, want %q", tc.w, tc.h, got, tc.want)
		}
	}
}
