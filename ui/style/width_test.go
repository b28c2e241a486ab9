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

// Width is ansi.StringWidth, only faster: on every character its fast
// path takes, alone, doubled and between others, and on escapes whole,
// broken or of other kinds. "◽" (two cells, an emoji) was counted one,
// and a CSI broken by a non-ASCII byte was read to the next final byte.
func TestWidthIsAnsiStringWidth(t *testing.T) {
	check := func(s string) {
		t.Helper()
		if got, want := Width(s), ansi.StringWidth(s); got != want {
			t.Errorf("Width(%q) = %d, ansi.StringWidth %d", s, got, want)
		}
	}
	for r := rune(0x20); r <= 0x2fff; r++ {
		c := string(r)
		for _, s := range []string{c, c + c, "a" + c + "b", "\x1b[1m" + c + "\x1b[m"} {
			check(s)
		}
	}
	for _, s := range []string{
		"", "\x1b[m", "\x1b[38;2;1;2;3m■\x1b[0m x", "\x1b[?25h", "\x1b[>4;1m", "\x1b[!p", "\x1b[2J",
		"\x1b[", "\x1b", "\x1b[1", "\x1b[1;é", "\x1b[1;éa", "\x1b[\x1b[?25h", "\x1b[1\am",
		"\x1b[ 1m", "\x1b[1 m", "\x1b[\x7fm", "\x1b]8;;x\x1b\\link", "◽◾ d_k", "日本語", "e\u0301", "☑\ufe0f",
	} {
		check(s)
	}
}
