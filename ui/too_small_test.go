package ui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// TestTooSmallSaysQQuits: below MinWidth×MinHeight only q and ctrl+c act
// (docs/workbench.md); the frame says so, where it said only "Enlarge
// it." and every other key did nothing unexplained.
func TestTooSmallSaysQQuits(t *testing.T) {
	r := newTestRun(t, 2, 1, 2, 8)
	m := sized(t, r, 80, 24, &fakeControl{})
	for _, sz := range [][2]int{{59, 14}, {20, 10}, {12, 5}} {
		m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		v := m.View()
		if !strings.Contains(v, "q quits.") {
			t.Errorf("%d×%d: the frame does not say q quits:\n%s", sz[0], sz[1], v)
		}
		for _, l := range strings.Split(v, "\n") {
			if len([]rune(l)) > sz[0] {
				t.Errorf("%d×%d: line %q is wider than the terminal", sz[0], sz[1], l)
			}
		}
	}
}
