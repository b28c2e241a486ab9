package ui

import (
	"regexp"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui/heatmap"
	"github.com/rlt-workbench/rlt/ui/internal/golden"
	"github.com/rlt-workbench/rlt/ui/style"
)

// sizedIn is sized with theme th.
func sizedIn(t *testing.T, r *sessions.Run, th *style.Theme, w, h int) *Model {
	t.Helper()
	m := newModel(Options{Session: &sessions.Session{Run: r, Steps: 20, Control: &fakeControl{}}, Theme: th})
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

// tokenOpening matches an escape sequence that opens one of the test
// trace's explanation tokens (as heatmap.Visible shows them).
var tokenOpening = regexp.MustCompile(`\x1b\[([0-9;]*)m(The|·sum|·of|·2|·and|·3|·is|·5|\.|⏎|·We|·add|·the|·units|·first|,)`)

// TestDetailReadableWithoutColour: under NO_COLOR the explanation's
// tokens carry their values in bands of attributes (bold above zero,
// faint below, underlined past half the scale), and the legend says so
// with the bands' bounds, not red and blue: the colours' cells were all
// alike, the max-d_k token's underline alone, under a legend of colours.
func TestDetailReadableWithoutColour(t *testing.T) {
	r := newTestRun(t, 2, 1, 2, 60)
	for _, c := range []struct {
		keys []string
		say  func(b heatmap.Bands) []string
	}{
		{nil, func(b heatmap.Bands) []string {
			lo, hi := heatmap.FormatValue(b.Lo), heatmap.FormatValue(b.Hi)
			return []string{"bold: d_k", "≥ +" + lo, "faint: ≤ −" + lo, "underlined: beyond ±" + hi}
		}},
		{[]string{"v", "v", "z"}, func(b heatmap.Bands) []string {
			lo, hi := heatmap.FormatValue(b.Lo), heatmap.FormatValue(b.Hi)
			return []string{"plain: log p near 0", "bold: ≤ −" + lo, "underlined: ≤ −" + hi}
		}},
	} {
		for _, w := range []int{60, 80, 120} {
			m := sizedIn(t, r, style.NewTheme(style.NoColor), w, 30)
			send(m, press("2"))
			send(m, press("enter"))
			for _, k := range c.keys {
				send(m, press(k))
			}
			v := m.View()
			golden.Fits(t, v, w, 30)
			flat := strings.Join(strings.Fields(ansi.Strip(v)), " ")
			for _, part := range c.say(m.detail.expl.Bands()) {
				if !strings.Contains(flat, part) {
					t.Errorf("keys %q at %d columns: the legend does not say %q:\n%s", c.keys, w, part, flat)
				}
			}
			for _, colour := range []string{"red:", "blue:", "white:", "dark:"} {
				if strings.Contains(flat, colour) {
					t.Errorf("keys %q at %d columns: the legend names a colour (%q) the view does not show:\n%s", c.keys, w, colour, flat)
				}
			}
			bands := map[string]bool{}
			for _, g := range tokenOpening.FindAllStringSubmatch(v, -1) {
				if g[1] != "0" && !strings.Contains(g[1], "7") { // not a reset, nor the cursor's
					bands[g[1]] = true
				}
			}
			if len(bands) < 2 {
				t.Errorf("keys %q at %d columns: the tokens are drawn in %d style(s) %v, want their bands:\n%q", c.keys, w, len(bands), bands, v)
			}
		}
	}
}
