package ui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/rlt-workbench/rlt/sessions"
)

// TestHeaderKeepsTheRewardAtEightyColumns: at 80 columns a long state
// ("stopping (after the step in progress)" after S) keeps the reward in
// the header, the screen shown giving its name to its number ([1]) first;
// the reward was left out, the header reading "[1 Dashboard] · stopping
// (after the step in progress) · step 13/30" while the run stopped. At
// 120 columns the tabs keep their names.
func TestHeaderKeepsTheRewardAtEightyColumns(t *testing.T) {
	for _, c := range []struct {
		w          int
		want, tabs string
	}{
		{80, "[1] · stopping (after the step in progress) · step 13/30 · reward 0.200", "[1]"},
		{120, "stopping (after the step in progress) · step 13/30 · reward 0.200 (step 12)", "[1 Dashboard] 2  3  4"},
	} {
		r := newTestRun(t, 12, 1, 1, 4)
		ctl := &ckptControl{r: r, t: t}
		m := newModel(Options{Session: &sessions.Session{Run: r, Steps: 30, Control: ctl, Close: r.Close}})
		m.Update(tea.WindowSizeMsg{Width: c.w, Height: 24})
		for _, k := range []string{"S", "y"} {
			m.Update(press(k))
		}
		h := ansi.Strip(strings.SplitN(m.View(), "\n", 2)[0])
		if !strings.Contains(h, c.want) || !strings.HasPrefix(h, c.tabs) || ansi.StringWidth(h) > c.w {
			t.Errorf("%d columns: header %q, want it to start %q and hold %q within its width", c.w, h, c.tabs, c.want)
		}
	}
}
