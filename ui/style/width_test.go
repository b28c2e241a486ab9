package style

import (
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// Fit is the one cut of a line too wide, for the workbench's screens, its
// charts and its heatmaps alike.
func TestFit(t *testing.T) {
	for _, c := range []struct {
		in   string
		w    int
		want string
	}{
		{"reward", 0, ""},
		{"reward", -3, ""},
		{"", 4, ""},
		{"reward", 6, "reward"},
		{"reward", 10, "reward"},
		{"reward -4.572", 6, "rewar…"},
		{"reward", 1, "…"},
		{"λ=3 ±0.2 ⠿⣿", 5, "λ=3 …"},
		{"日本語です", 5, "日本…"}, // wide characters: Width leaves them to ansi
		{"\x1b[1mbold text\x1b[m", 4, "\x1b[1mbol…\x1b[m"},
		{"\x1b[1mbold\x1b[m", 4, "\x1b[1mbold\x1b[m"}, // escapes take no cell
	} {
		got := Fit(c.in, c.w)
		if got != c.want {
			t.Errorf("Fit(%q, %d) = %q, want %q", c.in, c.w, got, c.want)
		}
		if c.w > 0 && ansi.StringWidth(got) > c.w {
			t.Errorf("Fit(%q, %d) is %d cells wide", c.in, c.w, ansi.StringWidth(got))
		}
	}
}
