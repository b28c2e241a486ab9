package style

import (
	"runtime"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDetectFrom(t *testing.T) {
	cases := []struct {
		name string
		tty  bool
		env  map[string]string
		want Profile
	}{
		{"pipe", false, map[string]string{"TERM": "xterm-256color", "COLORTERM": "truecolor"}, Plain},
		{"pipe forced", false, map[string]string{"CLICOLOR_FORCE": "1", "TERM": "xterm-256color"}, ANSI256},
		{"NO_COLOR", true, map[string]string{"NO_COLOR": "1", "COLORTERM": "truecolor"}, NoColor},
		{"CLICOLOR=0", true, map[string]string{"CLICOLOR": "0", "TERM": "xterm"}, NoColor},
		{"truecolor", true, map[string]string{"TERM": "xterm-256color", "COLORTERM": "truecolor"}, TrueColor},
		{"256", true, map[string]string{"TERM": "xterm-256color"}, ANSI256},
		{"xterm", true, map[string]string{"TERM": "xterm"}, ANSI},
		{"dumb", true, map[string]string{"TERM": "dumb"}, NoColor},
		{"tmux", true, map[string]string{"TERM": "tmux-256color"}, ANSI256},
	}
	for _, tc := range cases {
		byTermenv := tc.want != Plain && tc.env["NO_COLOR"] == "" && tc.env["CLICOLOR"] != "0"
		if runtime.GOOS == "windows" && byTermenv {
			continue // termenv takes a Windows 10 console's colours from its version, not TERM
		}
		if got := DetectFrom(tc.tty, env(tc.env)); got != tc.want {
			t.Errorf("%s: DetectFrom = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestOpen(t *testing.T) {
	s := FG(Orange).On(Blue).With(Bold | Reverse)
	cases := []struct {
		p    Profile
		want string
	}{
		{Plain, ""},
		{NoColor, "\x1b[1;7m"},
		{ANSI, "\x1b[1;7;33;104m"},
		{ANSI256, "\x1b[1;7;38;5;178;48;5;25m"},
		{TrueColor, "\x1b[1;7;38;2;230;159;0;48;2;0;114;178m"},
	}
	for _, tc := range cases {
		th := NewTheme(tc.p)
		if got := th.Open(s); got != tc.want {
			t.Errorf("%v: Open = %q, want %q", tc.p, got, tc.want)
		}
		if got := th.Open(s); got != tc.want { // from the cache
			t.Errorf("%v: cached Open = %q", tc.p, got)
		}
		painted := th.Paint(s, "x")
		if tc.p == Plain && painted != "x" {
			t.Errorf("plain Paint = %q", painted)
		}
		if tc.p != Plain && painted != tc.want+"x"+Reset {
			t.Errorf("%v: Paint = %q", tc.p, painted)
		}
	}
}

func TestStylesPlain(t *testing.T) {
	st := PlainTheme().Styles()
	for _, s := range []lipgloss.Style{st.Title, st.Muted, st.Bold, st.Selected, st.Warning, st.HelpKey, st.HelpDesc} {
		if got := s.Render("hi"); got != "hi" {
			t.Errorf("plain style rendered %q", got)
		}
	}
	if got := NewTheme(NoColor).Styles().Title.Render("hi"); !strings.Contains(got, "\x1b[1m") || strings.Contains(got, "38;") {
		t.Errorf("no-color title %q: want bold without colour", got)
	}
	if got := NewTheme(TrueColor).Styles().Title.Render("hi"); !strings.Contains(got, "38;2;86;") {
		t.Errorf("truecolor title %q lacks sky blue", got)
	}
}

func TestPalette(t *testing.T) {
	if len(SeriesPalette) != 8 {
		t.Fatal("palette size changed")
	}
	seen := map[Color]bool{}
	for _, c := range SeriesPalette {
		if seen[c] {
			t.Fatalf("duplicate colour %v", c.Hex())
		}
		seen[c] = true
	}
	if Hex("#E69F00") != (Color{R: 0xE6, G: 0x9F}) || Orange.Hex() != "#e69f00" || Hex("zz") != (Color{}) {
		t.Fatal("hex parsing")
	}
	if Diverging(0) != Neutral || Sequential(0) != Neutral {
		t.Fatal("ramps do not start at neutral")
	}
	if Diverging(-1) != DivergingLow || Diverging(1) != DivergingHigh || Sequential(1) != SequentialEnd {
		t.Fatalf("ramp ends: %v %v %v", Diverging(-1), Diverging(1), Sequential(1))
	}
}

// TestRunColors: runs get distinct colours (eight or fewer), a run's
// colour is its name's slot when free, and no run's colour changes when
// others are added or removed.
func TestRunColors(t *testing.T) {
	var p RunColors
	names := []string{"seed1", "seed2", "seed3", "lambda0", "lambda3", "a", "b", "c"}
	got := map[string]Color{}
	seen := map[Color]string{}
	for i, n := range names {
		c := p.Add(n)
		if o, dup := seen[c]; dup {
			t.Fatalf("%s got %s, already %s's", n, c.Hex(), o)
		}
		if i == 0 && c != SeriesColor(n) {
			t.Errorf("the first run's colour %s is not its name's %s", c.Hex(), SeriesColor(n).Hex())
		}
		seen[c], got[n] = n, c
	}
	for _, step := range []struct {
		add, remove string
	}{{remove: "seed2"}, {add: "seed9"}, {remove: "a"}, {add: "seed2"}, {add: "ninth"}} {
		if step.remove != "" {
			p.Remove(step.remove)
			delete(got, step.remove)
		}
		if step.add != "" {
			got[step.add] = p.Add(step.add)
		}
		for n, c := range got {
			if now, ok := p.Color(n); !ok || now != c {
				t.Errorf("after %+v: %s is %s, was %s", step, n, now.Hex(), c.Hex())
			}
		}
	}
	if c := p.Add("seed1"); c != got["seed1"] {
		t.Error("adding a run again changed its colour")
	}
}
