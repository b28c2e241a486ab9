// Package style holds the workbench's palette and the escape sequences and
// lipgloss styles built from it, for one colour profile at a time, and the
// cells a line of them takes (Width) and its cut to a width (Fit), for the
// screens, charts and heatmaps alike.
//
// Nothing here asks the terminal anything: the profile comes from the
// environment (TERM, COLORTERM, NO_COLOR, CLICOLOR…) and whether the output
// is a TTY, and every lipgloss renderer made here has its background
// brightness set explicitly, so lipgloss never sends an OSC 11 query.
// (The query happens in lipgloss.HasDarkBackground / Renderer.HasDarkBackground,
// lipgloss.AdaptiveColor and CompleteAdaptiveColor on the default renderer,
// and termenv.BackgroundColor / HasDarkBackground; importing
// github.com/charmbracelet/bubbletea v1 runs lipgloss.HasDarkBackground() in
// its package init. Keep those off headless paths.)
package style

import (
	"hash/fnv"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/charmbracelet/lipgloss"
	"github.com/mattn/go-isatty"
	"github.com/muesli/termenv"
)

// Profile is how much the output can show.
type Profile uint8

const (
	// Plain emits no escape sequence at all: pipes, files, golden tests.
	Plain Profile = iota
	// NoColor keeps attributes (bold, faint, underline, reverse) but no
	// colour, as NO_COLOR asks.
	NoColor
	// ANSI is the 16-colour palette.
	ANSI
	// ANSI256 is the xterm 256-colour palette.
	ANSI256
	// TrueColor is 24-bit colour.
	TrueColor
)

func (p Profile) String() string {
	switch p {
	case Plain:
		return "plain"
	case NoColor:
		return "no-color"
	case ANSI:
		return "ansi"
	case ANSI256:
		return "ansi256"
	case TrueColor:
		return "truecolor"
	}
	return "profile(" + strconv.Itoa(int(p)) + ")"
}

// HasColor reports whether colours are emitted.
func (p Profile) HasColor() bool { return p >= ANSI }

// HasAttrs reports whether attributes (bold, reverse…) are emitted.
func (p Profile) HasAttrs() bool { return p >= NoColor }

func (p Profile) termenv() termenv.Profile {
	switch p {
	case TrueColor:
		return termenv.TrueColor
	case ANSI256:
		return termenv.ANSI256
	case ANSI, NoColor:
		return termenv.ANSI
	}
	return termenv.Ascii
}

// Detect chooses a profile for output w from the process environment. It
// only reads environment variables and checks whether w is a terminal; it
// never writes to or reads from the terminal.
func Detect(w io.Writer) Profile {
	return DetectFrom(IsTerminal(w), os.Getenv)
}

// IsTerminal reports whether stream (a command's stdin, stdout or stderr)
// is a terminal, by isatty, a Cygwin or MSYS one too: a file that is not
// one (/dev/null is a character device too), or no file at all (a buffer,
// a pipe's writer), is not. The one test of the workbench, its colours
// and the commands' progress lines.
func IsTerminal(stream any) bool {
	f, ok := stream.(*os.File)
	return ok && f != nil && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// DetectFrom chooses a profile from whether the output is a terminal and
// an environment lookup. Not a terminal (and no CLICOLOR_FORCE) gives
// Plain; NO_COLOR (any non-empty value) gives NoColor; otherwise TERM and
// COLORTERM decide, as termenv reads them.
func DetectFrom(isTTY bool, getenv func(string) string) Profile {
	forced := getenv("CLICOLOR_FORCE") != "" && getenv("CLICOLOR_FORCE") != "0"
	if !isTTY && !forced {
		return Plain
	}
	if getenv("NO_COLOR") != "" || (getenv("CLICOLOR") == "0" && !forced) {
		return NoColor
	}
	o := termenv.NewOutput(io.Discard, termenv.WithTTY(true), termenv.WithEnvironment(envFunc(getenv)),
		termenv.WithProfile(termenv.Ascii))
	switch o.ColorProfile() {
	case termenv.TrueColor:
		return TrueColor
	case termenv.ANSI256:
		return ANSI256
	case termenv.ANSI:
		return ANSI
	}
	if forced {
		return ANSI
	}
	return NoColor
}

type envFunc func(string) string

func (f envFunc) Getenv(k string) string { return f(k) }
func (f envFunc) Environ() []string      { return nil }

// Color is an sRGB colour.
type Color struct{ R, G, B uint8 }

// Hex parses "#rrggbb" (the '#' optional); it returns black on bad input.
func Hex(s string) Color {
	s = strings.TrimPrefix(s, "#")
	if len(s) != 6 {
		return Color{}
	}
	v, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		return Color{}
	}
	return Color{uint8(v >> 16), uint8(v >> 8), uint8(v)}
}

// Hex returns "#rrggbb".
func (c Color) Hex() string {
	const d = "0123456789abcdef"
	return string([]byte{'#', d[c.R>>4], d[c.R&15], d[c.G>>4], d[c.G&15], d[c.B>>4], d[c.B&15]})
}

// Luminance is the relative luminance (WCAG) in [0,1].
func (c Color) Luminance() float64 {
	lin := func(u uint8) float64 {
		v := float64(u) / 255
		if v <= 0.04045 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.R) + 0.7152*lin(c.G) + 0.0722*lin(c.B)
}

// TextOn returns black or white, whichever reads better on bg.
func TextOn(bg Color) Color {
	if bg.Luminance() > 0.35 {
		return Color{0, 0, 0}
	}
	return Color{255, 255, 255}
}

// Okabe–Ito colours (Okabe & Ito 2002; Wong, Nature Methods 2011), safe
// for the common colour-vision deficiencies.
var (
	Orange        = Hex("#E69F00")
	SkyBlue       = Hex("#56B4E9")
	BluishGreen   = Hex("#009E73")
	Yellow        = Hex("#F0E442")
	Blue          = Hex("#0072B2")
	Vermillion    = Hex("#D55E00")
	ReddishPurple = Hex("#CC79A7")
	Grey          = Hex("#999999")
)

// SeriesPalette is the categorical palette for chart series: Okabe–Ito
// without its black (invisible on dark terminals), grey in its place.
var SeriesPalette = [...]Color{Orange, SkyBlue, BluishGreen, Yellow, Blue, Vermillion, ReddishPurple, Grey}

// SeriesIndex is name's index in SeriesPalette: a hash of the name only, so
// a series keeps its colour across frames, runs and processes.
func SeriesIndex(name string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(name))
	return int(h.Sum32() % uint32(len(SeriesPalette)))
}

// SeriesColor is name's colour in SeriesPalette.
func SeriesColor(name string) Color { return SeriesPalette[SeriesIndex(name)] }

// Attr is a set of text attributes.
type Attr uint8

const (
	Bold Attr = 1 << iota
	Faint
	Italic
	Underline
	Reverse
)

// Spec is one cell style: optional foreground and background and attributes.
type Spec struct {
	FG, BG       Color
	HasFG, HasBG bool
	Attr         Attr
}

// FG returns a Spec with foreground c.
func FG(c Color) Spec { return Spec{FG: c, HasFG: true} }

// On returns s with background c.
func (s Spec) On(c Color) Spec { s.BG, s.HasBG = c, true; return s }

// With returns s with attributes a added.
func (s Spec) With(a Attr) Spec { s.Attr |= a; return s }

// Reset ends any style opened by Theme.Open.
const Reset = "\x1b[0m"

// Theme turns Specs into escape sequences for one profile, caching them.
// It is safe for concurrent use.
type Theme struct {
	profile Profile
	mu      sync.RWMutex
	cache   map[Spec]string

	stylesOnce sync.Once
	styles     *Styles
}

// NewTheme returns a theme for profile p.
func NewTheme(p Profile) *Theme { return &Theme{profile: p, cache: map[Spec]string{}} }

// PlainTheme renders no escape sequences: for golden tests and pipes.
func PlainTheme() *Theme { return NewTheme(Plain) }

// Profile is the theme's profile.
func (t *Theme) Profile() Profile { return t.profile }

// Open returns the escape sequence that starts style s ("" under Plain,
// or when s has nothing the profile can show).
func (t *Theme) Open(s Spec) string {
	if t == nil || t.profile == Plain {
		return ""
	}
	t.mu.RLock()
	seq, ok := t.cache[s]
	t.mu.RUnlock()
	if ok {
		return seq
	}
	seq = t.build(s)
	t.mu.Lock()
	t.cache[s] = seq
	t.mu.Unlock()
	return seq
}

// Close returns Reset, or "" under Plain.
func (t *Theme) Close() string {
	if t == nil || t.profile == Plain {
		return ""
	}
	return Reset
}

// Paint returns text in style s, reset after.
func (t *Theme) Paint(s Spec, text string) string {
	open := t.Open(s)
	if open == "" || text == "" {
		return text
	}
	return open + text + Reset
}

func (t *Theme) build(s Spec) string {
	var parts []string
	if s.Attr&Bold != 0 {
		parts = append(parts, "1")
	}
	if s.Attr&Faint != 0 {
		parts = append(parts, "2")
	}
	if s.Attr&Italic != 0 {
		parts = append(parts, "3")
	}
	if s.Attr&Underline != 0 {
		parts = append(parts, "4")
	}
	if s.Attr&Reverse != 0 {
		parts = append(parts, "7")
	}
	if t.profile == TrueColor {
		// Exact: termenv's conversion can be one off in a channel.
		if s.HasFG {
			parts = append(parts, "38;2;"+rgb(s.FG))
		}
		if s.HasBG {
			parts = append(parts, "48;2;"+rgb(s.BG))
		}
	} else if t.profile.HasColor() {
		tp := t.profile.termenv()
		if s.HasFG {
			if q := tp.Color(s.FG.Hex()).Sequence(false); q != "" {
				parts = append(parts, q)
			}
		}
		if s.HasBG {
			if q := tp.Color(s.BG.Hex()).Sequence(true); q != "" {
				parts = append(parts, q)
			}
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "\x1b[" + strings.Join(parts, ";") + "m"
}

func rgb(c Color) string {
	return strconv.Itoa(int(c.R)) + ";" + strconv.Itoa(int(c.G)) + ";" + strconv.Itoa(int(c.B))
}

// Styles are the lipgloss styles for the screens' chrome.
type Styles struct {
	Title    lipgloss.Style // screen titles
	Muted    lipgloss.Style // secondary text, axis labels
	Bold     lipgloss.Style
	Selected lipgloss.Style // the selected row or item
	Warning  lipgloss.Style // notes such as "log scale impossible"
	HelpKey  lipgloss.Style // the key in a help entry
	HelpDesc lipgloss.Style // its description
	HelpSep  lipgloss.Style // separators in the help bar
	Border   lipgloss.Style // a rounded border, no padding
}

// Renderer returns a lipgloss renderer that writes with this theme's
// profile and never queries the terminal: its colour profile and its
// background brightness (dark) are both set explicitly.
func (t *Theme) Renderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard, termenv.WithProfile(t.profile.termenv()))
	r.SetColorProfile(t.profile.termenv())
	r.SetHasDarkBackground(true)
	return r
}

// Styles returns the chrome styles for this theme (built once).
func (t *Theme) Styles() *Styles {
	t.stylesOnce.Do(func() {
		r := t.Renderer()
		st := &Styles{
			Title:    r.NewStyle().Bold(true),
			Muted:    r.NewStyle().Faint(true),
			Bold:     r.NewStyle().Bold(true),
			Selected: r.NewStyle().Reverse(true),
			Warning:  r.NewStyle().Bold(true),
			HelpKey:  r.NewStyle().Bold(true),
			HelpDesc: r.NewStyle().Faint(true),
			HelpSep:  r.NewStyle().Faint(true),
			Border:   r.NewStyle().Border(lipgloss.RoundedBorder()),
		}
		if t.profile.HasColor() {
			st.Title = st.Title.Foreground(lipgloss.Color(SkyBlue.Hex()))
			st.Warning = st.Warning.Foreground(lipgloss.Color(Orange.Hex()))
			st.HelpKey = st.HelpKey.Foreground(lipgloss.Color(SkyBlue.Hex()))
			st.Border = st.Border.BorderForeground(lipgloss.Color(Grey.Hex()))
		}
		t.styles = st
	})
	return t.styles
}
