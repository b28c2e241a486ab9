package ui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// TestLineInputViewIn: a text wider than its field keeps the cursor and
// what is typed next to it in sight, each cut end marked "…", and is never
// wider than the field.
func TestLineInputViewIn(t *testing.T) {
	long := "this explanation is suspiciously short; the carry into the hundreds is never stated, check it"
	for _, c := range []struct {
		name   string
		text   string
		home   bool // then the cursor goes to the start
		rights int  // and this many right
		w      int
		want   string
	}{
		{"short text whole", "a note", false, 0, 20, "a note█"},
		{"cursor at the end of a long text", long, false, 0, 30, "…ds is never stated, check it█"},
		{"cursor at the start", long, true, 0, 20, "█this explanation i…"},
		{"cursor in the middle", long, true, 30, 20, "…is suspicious█ly s…"},
		{"wide characters", strings.Repeat("日本", 20), false, 0, 11, "…日本日本█"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var l lineInput
			for _, r := range c.text {
				l.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
			}
			if c.home {
				l.Update(tea.KeyMsg{Type: tea.KeyHome})
			}
			for range c.rights {
				l.Update(tea.KeyMsg{Type: tea.KeyRight})
			}
			got := l.ViewIn(c.w)
			if n := ansi.StringWidth(got); n > c.w {
				t.Errorf("%q is %d cells wide, want at most %d", got, n, c.w)
			}
			if !strings.Contains(got, "█") {
				t.Errorf("%q has no cursor", got)
			}
			if c.want != "" && got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
			// What was typed just before the cursor is in sight.
			before := []rune(l.Value())[:l.pos]
			if tail := string(before[max(len(before)-3, 0):]); !strings.Contains(got, tail+"█") {
				t.Errorf("%q does not show %q before the cursor", got, tail)
			}
		})
	}
}
