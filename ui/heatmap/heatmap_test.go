package heatmap

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/mattn/go-runewidth"
	"github.com/rlt-workbench/rlt/ui/internal/golden"
	"github.com/rlt-workbench/rlt/ui/style"
)

// bl writes text in the byte-level alphabet, as TokenString returns it.
func bl(text string) string {
	rev := map[byte]rune{}
	for r, b := range unicodeToByte {
		rev[b] = r
	}
	var sb strings.Builder
	for i := 0; i < len(text); i++ {
		sb.WriteRune(rev[text[i]])
	}
	return sb.String()
}

func TestVisible(t *testing.T) {
	cases := []struct{ tok, want string }{
		{"Ġhello", "·hello"},
		{"ĠĠ", "··"},
		{"Ċ", "⏎"},
		{"ĊĊ", "⏎⏎"},
		{"ĉx", "→x"},
		{"ĠĉĊ", "·→⏎"},
		{bl("a\rb"), "a␍b"},
		{bl("\x00\x1b"), "␀␛"},
		{bl("\x7f"), "␡"},
		{"Ã©", "é"},                  // é as two byte-level runes
		{bl("中"), "中"},               // a whole CJK character
		{bl("中")[:4], `\xe4\xb8`},    // its first two bytes only
		{bl("👍"), "👍"},               // emoji
		{"<|im_end|>", "<|im_end|>"}, // added token: literal
		{"<|begin_of_thought|>", "<|begin_of_thought|>"},
		{"你好", "你好"},              // not byte-level: shown as is
		{"", EmptyGlyph},          // no token for an id
		{bl("\u0301"), "◌\u0301"}, // a lone combining accent
		{bl("\u200b"), `\u200b`},  // zero-width space
	}
	for _, tc := range cases {
		if got := Visible(tc.tok); got != tc.want {
			t.Errorf("Visible(%q) = %q, want %q", tc.tok, got, tc.want)
		}
	}
}

func TestDecodeByteLevel(t *testing.T) {
	for _, s := range []string{"hello world\n", "\x00\xff\t é 中 👍"} {
		got, ok := DecodeByteLevel(bl(s))
		if !ok || got != s {
			t.Errorf("round trip %q: %q %v", s, got, ok)
		}
	}
	if _, ok := DecodeByteLevel("<|im_end|>你"); ok {
		t.Error("a rune outside the alphabet must not decode")
	}
}

func TestBucketsAndColours(t *testing.T) {
	const lim = 2.0
	cases := []struct {
		mode Mode
		v    float64
		want int
		ok   bool
	}{
		{Diverging, 0, 0, true},
		{Diverging, math.Copysign(0, -1), 0, true},
		{Diverging, 2, Buckets, true},
		{Diverging, 50, Buckets, true},
		{Diverging, -2, -Buckets, true},
		{Diverging, -1, -Buckets / 2, true},
		{Diverging, 1, Buckets / 2, true},
		{Diverging, 0.3, 1, true},
		{Diverging, -0.3, -1, true},
		{Diverging, math.NaN(), 0, false},
		{Sequential, 0, 0, true},
		{Sequential, -2, Buckets, true},
		{Sequential, -1, Buckets / 2, true},
		{Sequential, 0.5, 0, true}, // a positive log-prob clamps to 0
		{Sequential, math.Inf(-1), Buckets, true},
	}
	for _, tc := range cases {
		got, ok := Bucket(tc.mode, tc.v, lim)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Bucket(%d, %v) = %d %v, want %d %v", tc.mode, tc.v, got, ok, tc.want, tc.ok)
		}
	}
	if c := BucketColor(Diverging, 0); c != style.Neutral {
		t.Errorf("zero is %v, want neutral %v", c, style.Neutral)
	}
	for b := 1; b <= Buckets; b++ {
		pos, neg := BucketColor(Diverging, b), BucketColor(Diverging, -b)
		if !(pos.R > pos.B) {
			t.Errorf("bucket +%d = %v is not on the warm side", b, pos)
		}
		if !(neg.B > neg.R) {
			t.Errorf("bucket -%d = %v is not on the blue side", b, neg)
		}
		// Magnitude darkens monotonically.
		if b > 1 {
			if pos.Luminance() >= BucketColor(Diverging, b-1).Luminance() ||
				neg.Luminance() >= BucketColor(Diverging, -b+1).Luminance() {
				t.Errorf("bucket %d is not darker than bucket %d", b, b-1)
			}
			if BucketColor(Sequential, b).Luminance() >= BucketColor(Sequential, b-1).Luminance() {
				t.Errorf("sequential bucket %d is not darker than %d", b, b-1)
			}
		}
	}
	// Text stays readable: black on light, white on dark.
	if style.TextOn(style.Neutral) != (style.Color{}) || style.TextOn(style.Blue) != (style.Color{R: 255, G: 255, B: 255}) {
		t.Error("TextOn picks the wrong contrast")
	}
}

// text builds byte-level tokens from words.
func text(words ...string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = bl(w)
	}
	return out
}

func plainLines(h *Heatmap, w int) []string {
	ls := h.Lines(w)
	for i := range ls {
		ls[i] = ansi.Strip(ls[i])
	}
	return ls
}

func TestWrapExactWidths(t *testing.T) {
	cases := []struct {
		name  string
		toks  []string
		width int
		want  []string
	}{
		{"fits exactly", text("abcd", "efgh"), 8, []string{"abcdefgh"}},
		{"one short", text("abcd", "efgh"), 7, []string{"abcd", "efgh"}},
		{"spaces visible", text("a", " b", " c"), 4, []string{"a·b", "·c"}},
		{"newline breaks", text("a", "\n", "b"), 10, []string{"a⏎", "b"}},
		{"blank line", text("a", "\n\n", "b"), 10, []string{"a⏎", "⏎", "b"}},
		{"CJK fits", text("你好", "世界"), 8, []string{"你好世界"}},
		{"CJK wraps", text("你好", "世界"), 7, []string{"你好", "世界"}},
		{"CJK split, wide rune not cut", text("你好世"), 3, []string{"你", "好", "世"}},
		{"CJK odd column", text("a", "你好"), 4, []string{"a", "你好"}},
		{"long token split", text("abcdefghij"), 4, []string{"abcd", "efgh", "ij"}},
		{"emoji", text("ok", "👍", "👍🏽"), 4, []string{"ok👍", "👍🏽"}},
		{"emoji exact", text("👍🏽", "ab"), 4, []string{"👍🏽ab"}},
		{"ZWJ family", text("x", "👨‍👩‍👧"), 2, []string{"x", "👨‍👩‍👧"}},
		{"tab", text("\tx"), 5, []string{"→x"}},
		{"width one, wide rune", text("中a"), 1, []string{"…", "a"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := New(nil)
			h.SetTokens(tc.toks, nil)
			got := plainLines(h, tc.width)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("width %d: got %q, want %q", tc.width, got, tc.want)
			}
			for _, l := range got {
				if lipgloss.Width(l) > tc.width || runewidth.StringWidth(l) > tc.width {
					t.Fatalf("line %q wider than %d (lipgloss %d, runewidth %d)", l, tc.width, lipgloss.Width(l), runewidth.StringWidth(l))
				}
			}
		})
	}
}

// A long explanation-like sequence: words, CJK, emoji, newlines.
func sample(n int) ([]string, []float64) {
	words := []string{"The", " student", " needs", " to", " see", " why", " 2", "+", "2", "=", "4", ".", "\n",
		" 中文", "字", " 👍", " tokens", "\n\n", " d", "_k", " is", " log", " p", "T", " −", " log", " p", "S", "\t", "ok"}
	toks := make([]string, n)
	vals := make([]float64, n)
	for i := range toks {
		toks[i] = bl(words[i%len(words)])
		vals[i] = math.Sin(float64(i)*0.37) * 1.5
	}
	return toks, vals
}

func TestGolden(t *testing.T) {
	toks, vals := sample(160)
	ref := text("The", " answer", " is", " 4", ".", "\n", "Because", " 2", "+", "2", "=", "4")
	rec := text("The", " answer", " is", " 5", ".", "\n", "Because", " 2", "+", "2", "=", "4", " done")
	for _, sz := range golden.Sizes {
		for _, mode := range []Mode{Diverging, Sequential} {
			name := fmt.Sprintf("%s_%dx%d", map[Mode]string{Diverging: "dk", Sequential: "logp"}[mode], sz.W, sz.H)
			t.Run(name, func(t *testing.T) {
				h := New(style.PlainTheme())
				v := vals
				if mode == Sequential {
					v = make([]float64, len(vals))
					for i := range vals {
						v[i] = -math.Abs(vals[i]) * 3
					}
				}
				h.SetTokens(toks, v)
				h.SetMode(mode)
				h.SetMarks(57)
				h.SetSize(sz.W, sz.H)
				h.SetCursor(150) // near the end: the view scrolls to it
				got := h.View()
				golden.NoEscapes(t, got)
				golden.Fits(t, got, sz.W, sz.H)
				golden.Assert(t, name, got)
				line, _ := h.CursorPos()
				if line < h.ScrollTop() || line >= h.ScrollTop()+sz.H-1 {
					t.Fatalf("cursor line %d outside view from %d", line, h.ScrollTop())
				}
			})
		}
		name := fmt.Sprintf("diff_%dx%d", sz.W, sz.H)
		t.Run(name, func(t *testing.T) {
			lines := RenderDiff(style.PlainTheme(), ref, rec, Diff(ref, rec), sz.W, sz.H)
			got := strings.Join(lines, "\n")
			golden.NoEscapes(t, got)
			golden.Fits(t, got, sz.W, sz.H)
			golden.Assert(t, name, got)
		})
	}
}

func TestFitsInColour(t *testing.T) {
	toks, vals := sample(700)
	for _, p := range []style.Profile{style.NoColor, style.ANSI, style.ANSI256, style.TrueColor} {
		h := New(style.NewTheme(p))
		h.SetTokens(toks, vals)
		h.SetMarks(3, 50)
		h.SetCursor(300)
		for w := 1; w <= 130; w += 7 {
			for hh := 1; hh <= 41; hh += 5 {
				h.SetSize(w, hh)
				golden.Fits(t, h.View(), w, hh)
			}
		}
		// Colour output resets after every token and the cursor is reversed.
		h.SetSize(80, 24)
		v := h.View()
		if !strings.Contains(v, "\x1b[") || !strings.Contains(v, "7") {
			t.Fatalf("%v: no styling in %q", p, v[:80])
		}
	}
}

func TestCursor(t *testing.T) {
	h := New(nil)
	h.SetTokens(text("one", " two", " three", "\n", "four", " five"), nil)
	h.SetSize(10, 10)
	// Lines: "one·two" (0..6), "·three⏎", "four·five"
	if got := plainLines(h, 10); strings.Join(got, "|") != "one·two|·three⏎|four·five" {
		t.Fatalf("layout %q", got)
	}
	steps := []struct {
		m         Motion
		want      int
		line, col int
	}{
		{Right, 0, 0, 0}, // a hidden cursor appears on the first token
		{Right, 1, 0, 3},
		{Down, 2, 1, 0},
		{Down, 4, 2, 0},
		{LineEnd, 5, 2, 4},
		{LineStart, 4, 2, 0},
		{Up, 2, 1, 0},
		{LineEnd, 3, 1, 6},
		{WordLeft, 2, 1, 0},
		{WordRight, 4, 2, 0}, // the token after a newline starts a word
		{Last, 5, 2, 4},
		{Right, 5, 2, 4},
		{First, 0, 0, 0},
		{Left, 0, 0, 0},
	}
	for i, s := range steps {
		h.MoveCursor(s.m)
		l, c := h.CursorPos()
		if h.Cursor() != s.want || l != s.line || c != s.col {
			t.Fatalf("step %d: cursor %d at %d:%d, want %d at %d:%d", i, h.Cursor(), l, c, s.want, s.line, s.col)
		}
	}
}

// TestCursorAcrossTokensOnSeveralLines: ↓ and ↑ leave a token that takes
// more than one wrapped line (a blank line's "\n\n", one token in Qwen's
// vocabulary, or a token longer than the width) instead of landing on the
// token's own next line and staying put.
func TestCursorAcrossTokensOnSeveralLines(t *testing.T) {
	cases := []struct {
		name   string
		toks   []string
		width  int
		layout string
		start  int
		moves  []Motion
		want   []int // the cursor after each move
	}{
		{"blank line token", text("ab", "\n\n", "cd", " ef"), 10, "ab⏎|⏎|cd·ef",
			1, []Motion{Down, Up, Up}, []int{2, 1, 1}},
		{"two blank line tokens", text("a", "\n\n", "\n\n", "b"), 10, "a⏎|⏎|⏎|⏎|b",
			0, []Motion{Down, Down, Down, Up, Up, Up}, []int{1, 2, 3, 2, 1, 1}},
		{"newlines then text in one token", text("ab", "\n\ncd", " ef", "\n", "gh"), 10, "ab⏎|⏎|cd·ef⏎|gh",
			0, []Motion{Down, Down, Up, Up}, []int{1, 4, 1, 1}},
		{"token longer than the width", text("x", "abcdefghij", "k", " yz"), 4, "x|abcd|efgh|ijk|·yz",
			1, []Motion{Down, Up, Up}, []int{3, 1, 0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := New(nil)
			h.SetTokens(tc.toks, nil)
			h.SetSize(tc.width, 10)
			if got := strings.Join(plainLines(h, tc.width), "|"); got != tc.layout {
				t.Fatalf("layout %q, want %q", got, tc.layout)
			}
			h.SetCursor(tc.start)
			for i, m := range tc.moves {
				h.MoveCursor(m)
				if h.Cursor() != tc.want[i] {
					t.Fatalf("move %d (motion %d): cursor on token %d, want %d", i, m, h.Cursor(), tc.want[i])
				}
			}
		})
	}
}

func TestCache(t *testing.T) {
	toks, vals := sample(300)
	h := New(nil)
	h.SetTokens(toks, vals)
	h.SetSize(80, 24)
	_ = h.View()
	_ = h.View()
	if h.Renders() != 1 {
		t.Fatalf("renders %d, want 1", h.Renders())
	}
	h.SetCursor(5)
	_ = h.View()
	h.SetSize(80, 24)
	_ = h.View()
	if h.Renders() != 2 {
		t.Fatalf("renders %d, want 2", h.Renders())
	}
}

func TestDiff(t *testing.T) {
	cases := []struct {
		ref, rec string
		want     string // kinds: = ~ - +
	}{
		{"a b c", "a b c", "==="},
		{"a b c d", "a x c d e", "=~==+"},
		{"a b c", "a c", "=-="},
		{"", "a b", "++"},
		{"a b", "", "--"},
		{"a b c d e", "x y", "~~---"},
		{"s a b c e", "s b c d e", "=-==+="},
	}
	kind := map[OpKind]byte{Equal: '=', Substitute: '~', Delete: '-', Insert: '+'}
	for _, tc := range cases {
		ref, rec := strings.Fields(tc.ref), strings.Fields(tc.rec)
		ops := Diff(ref, rec)
		var b []byte
		ri, ci := 0, 0
		for _, o := range ops {
			b = append(b, kind[o.Kind])
			if o.Ref >= 0 {
				if o.Ref != ri {
					t.Fatalf("%q: ref index %d, want %d", tc.ref, o.Ref, ri)
				}
				ri++
			}
			if o.Rec >= 0 {
				if o.Rec != ci {
					t.Fatalf("%q: rec index %d, want %d", tc.rec, o.Rec, ci)
				}
				ci++
			}
		}
		if string(b) != tc.want || ri != len(ref) || ci != len(rec) {
			t.Errorf("Diff(%q, %q) = %s, want %s", tc.ref, tc.rec, b, tc.want)
		}
	}
	st := Stats(Diff(strings.Fields("a b c d"), strings.Fields("a x c d e")))
	if st != (DiffStats{Equal: 3, Substitute: 1, Insert: 1}) || st.Match() != 0.75 {
		t.Fatalf("stats %+v match %v", st, st.Match())
	}
}

func TestDiffSummary(t *testing.T) {
	for _, tc := range []struct {
		ref, rec []string
		want     string
	}{
		{[]string{"4888"}, []string{"4278"}, "differs: 0 of 1 reference word reproduced · 1 changed · 2 of 4 characters in place"},
		{[]string{"5"}, []string{"5"}, "the same as the reference (1 word)"},
		{[]string{"x", "=", "5"}, []string{"x", "=", "6", "apples"}, "differs: 2 of 3 reference words reproduced · 1 changed · 1 extra"},
		{[]string{"a", "b"}, []string{"a"}, "differs: 1 of 2 reference words reproduced · 1 missing"},
	} {
		if got := DiffSummary(tc.ref, tc.rec, Diff(tc.ref, tc.rec)); got != tc.want {
			t.Errorf("%v vs %v: %q, want %q", tc.ref, tc.rec, got, tc.want)
		}
	}
}

// TestDiffMarksCharacters: the carets under a substituted token mark the
// characters not in place, the ones DiffSummary does not count in place
// ("2 of 4 characters in place" over " ^^ "). A token cut to the width
// ends in "…", whose cell is marked when any character from there on is
// not in place.
func TestDiffMarksCharacters(t *testing.T) {
	for _, c := range []struct {
		ref, rec, marks, summary string
		width                    int // 15: 10 cells after "ref │"
	}{
		{"4888", "4278", " ^^ ", "2 of 4 characters in place", 40},
		{"12", "123", "  ^", "2 of 2 characters in place", 40},
		{"abc", "xyz", "^^^", "0 of 3 characters in place", 40},
		// Both cut to "123456789…": they differ only past the cut.
		{"1234567890123", "1234567890199", "         ^", "11 of 13 characters in place", 15},
		{"1234567890123", "1234567890123x", "         ^", "13 of 13 characters in place", 15},
		// The same tail after the cut: only the 2nd character.
		{"1x34567890123", "1234567890123", " ^", "12 of 13 characters in place", 15},
		// One cut, one not: the other has nothing under the tail.
		{"1234567890123", "123456789", "         ^", "9 of 13 characters in place", 15},
	} {
		ref, rec := []string{c.ref}, []string{c.rec}
		ops := Diff(ref, rec)
		lines := RenderDiff(nil, ref, rec, ops, c.width, 0)
		if got := strings.TrimPrefix(lines[len(lines)-1], "    │"); got != strings.TrimRight(c.marks, " ") {
			t.Errorf("%s vs %s: marks %q, want %q", c.ref, c.rec, got, c.marks)
		}
		if s := DiffSummary(ref, rec, ops); !strings.Contains(s, c.summary) {
			t.Errorf("%s vs %s: summary %q lacks %q", c.ref, c.rec, s, c.summary)
		}
	}
}

// TestMonochromeBands: under NO_COLOR (attributes, no colour) the tokens
// carry their values in bands of attributes, and the legend names each
// band's bounds in its own attributes; the colours' cells were all alike,
// the values shown by nothing but a legend of shades.
func TestMonochromeBands(t *testing.T) {
	const (
		faintUL = "\x1b[2;4m"
		faint   = "\x1b[2m"
		bold    = "\x1b[1m"
		boldUL  = "\x1b[1;4m"
		italic  = "\x1b[3m"
	)
	for _, c := range []struct {
		name   string
		mode   Mode
		vals   []float64
		want   []string // each token's opening sequence ("" plain)
		legend string
	}{
		{"d_k", Diverging, []float64{-2, -0.6, -0.4, 0, 0.4, 0.6, 2, math.NaN()},
			[]string{faintUL, faint, "", "", "", bold, boldUL, italic},
			"d_k " + faintUL + "≤−1.00" + style.Reset + " " + faint + "≤−0.50" + style.Reset + " ±0.00 " +
				bold + "≥+0.50" + style.Reset + " " + boldUL + "≥+1.00" + style.Reset + " " + italic + "no value" + style.Reset},
		{"log p", Sequential, []float64{0, -0.4, -0.6, -1.5, -3},
			[]string{"", "", bold, boldUL, boldUL},
			"ℓT 0.00 " + bold + "≤−0.50" + style.Reset + " " + boldUL + "≤−1.00" + style.Reset},
		{"log p, one missing", Sequential, []float64{0, math.NaN(), -0.6},
			[]string{"", italic, bold},
			"ℓT 0.00 " + bold + "≤−0.50" + style.Reset + " " + boldUL + "≤−1.00" + style.Reset + " " + italic + "no value" + style.Reset},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := New(style.NewTheme(style.NoColor))
			toks := make([]string, len(c.vals))
			for i := range toks {
				toks[i] = "t" + fmt.Sprint(i)
			}
			h.SetTokens(toks, c.vals)
			h.SetMode(c.mode)
			if c.mode == Sequential {
				h.SetLabel("ℓT")
			}
			h.SetLimit(2)
			h.SetMarks(6) // not drawn: an underline is a band's
			if !h.Monochrome() {
				t.Fatal("a no-colour theme is not monochrome")
			}
			line := h.Lines(200)[0]
			var want strings.Builder
			for i, open := range c.want {
				want.WriteString(open + toks[i])
				if open != "" {
					want.WriteString(style.Reset)
				}
			}
			if line != want.String() {
				t.Errorf("tokens\n got %q\nwant %q", line, want.String())
			}
			if got := h.Legend(80); got != c.legend {
				t.Errorf("legend\n got %q\nwant %q", got, c.legend)
			}
			// The cursor keeps the band and reverses it.
			h.SetCursor(len(c.vals) - 2)
			if l := h.Lines(200)[0]; !strings.Contains(l, "7m"+toks[len(toks)-2]) {
				t.Errorf("cursor not reversed: %q", l)
			}
		})
	}
}

// TestNoValueDistinctWithoutColour: under NO_COLOR a token with no value
// (an incomplete record's) is in italics, on the cursor too, unlike any
// band's token, and the legend says so where one is, after the bands
// (left out where it does not fit); NoValueLook gives the view's note its
// word. It was drawn plain, as a value near zero.
func TestNoValueDistinctWithoutColour(t *testing.T) {
	for _, mode := range []Mode{Diverging, Sequential} {
		h := New(style.NewTheme(style.NoColor))
		h.SetMode(mode)
		h.SetTokens([]string{"a", "b", "c"}, []float64{0, math.NaN(), -0.1})
		h.SetLimit(2)
		line := h.Lines(80)[0]
		if want := "a\x1b[3mb" + style.Reset + "c"; line != want {
			t.Errorf("mode %d: tokens %q, want %q (the missing one in italics, the near-zero ones plain)", mode, line, want)
		}
		h.SetCursor(1)
		if line := h.Lines(80)[0]; !strings.Contains(line, "\x1b[3;7mb") {
			t.Errorf("mode %d: the cursor on it %q, want italics reversed", mode, line)
		}
		legend := h.Legend(80)
		if !strings.HasSuffix(legend, " \x1b[3mno value"+style.Reset) {
			t.Errorf("mode %d: legend %q does not end with no value in italics", mode, legend)
		}
		bands := ansi.Strip(legend)
		bands = strings.TrimSuffix(bands, " no value")
		if got := ansi.Strip(h.Legend(ansi.StringWidth(bands))); got != bands {
			t.Errorf("mode %d: legend at the bands' width %q, want the bands whole %q", mode, got, bands)
		}
		if got := h.NoValueLook(); got != "in italics" {
			t.Errorf("NoValueLook %q under NO_COLOR", got)
		}
		h.SetValues([]float64{0, 0.1, -0.1})
		if legend := h.Legend(80); strings.Contains(legend, "no value") {
			t.Errorf("mode %d: legend %q names a missing value where none is", mode, legend)
		}
	}
	if got := New(style.NewTheme(style.TrueColor)).NoValueLook(); got != "uncoloured" {
		t.Errorf("NoValueLook %q in colour", got)
	}
}

// TestBandsExactAsPrinted: a band's bound is the number the legend
// prints, so a value between the scale's quarter and its printed
// rounding is drawn as the legend says.
func TestBandsExactAsPrinted(t *testing.T) {
	b := BandsFor(1.5) // quarter 0.375, printed 0.38
	if b.Lo != 0.38 || b.Hi != 0.75 {
		t.Fatalf("BandsFor(1.5) = %+v, want {0.38 0.75}", b)
	}
	for _, c := range []struct {
		v    float64
		want int
	}{{0.375, 0}, {0.38, 1}, {-0.38, -1}, {0.7499, 1}, {0.75, 2}, {-0.75, -2}} {
		if got := b.Band(Diverging, c.v); got != c.want {
			t.Errorf("Band(%v) = %d, want %d", c.v, got, c.want)
		}
	}
	if got := b.Band(Sequential, 0.5); got != 0 {
		t.Errorf("a positive log-prob is band %d, want 0", got)
	}
}

// TestLegendWritesItsValuesAlike: a legend's values are written with as
// many decimals each, zero too: "log p 0 … −4.50" (the solution's and the
// ℓT/ℓS views' legend line) and "0 ≤−0.5 ≤−1.00", "≤−0.5 ±0 ≥+0.5" beside
// "1.00" (monochrome) read a scale in three ways. Thresholds in
// e-notation keep it.
func TestLegendWritesItsValuesAlike(t *testing.T) {
	for _, c := range []struct {
		limit          float64
		zero, lo, hi   string
		sequentialLine string // the start of the coloured legend line
	}{
		{2, "0.00", "0.50", "1.00", "log p 0.00 "},
		{4.5, "0.00", "1.12", "2.25", "log p 0.00 "},
		{0.3, "0.000", "0.075", "0.150", "log p 0.000 "},
		{400, "0", "100", "200", "log p 0 "},
		{0.0002, "0", "5.00e-05", "1.00e-04", "log p 0 "},
		{0.002, "0.00000", "0.00050", "0.00100", "log p 0.00000 "},
		{1e308, "0", "2.50e+307", "5.00e+307", "log p 0 "},
	} {
		t.Run(fmt.Sprint(c.limit), func(t *testing.T) {
			if zero, lo, hi := BandsFor(c.limit).Text(); zero != c.zero || lo != c.lo || hi != c.hi {
				t.Errorf("bands of %v written %q %q %q, want %q %q %q", c.limit, zero, lo, hi, c.zero, c.lo, c.hi)
			}
			h := New(style.PlainTheme())
			h.SetMode(Sequential)
			h.SetTokens([]string{"a", "b"}, []float64{0, -c.limit})
			if l := h.Legend(60); !strings.HasPrefix(l, c.sequentialLine) {
				t.Errorf("legend %q, want it to start %q", l, c.sequentialLine)
			}
		})
	}
}

// legendNumbers is each number a heatmap legend line writes (its ends,
// zero, the bands' thresholds), without their signs and marks.
func legendNumbers(line string) []string {
	var out []string
	for _, f := range strings.Fields(ansi.Strip(line)) {
		f = strings.TrimLeft(f, "≤≥±+−")
		if f != "" && strings.ContainsAny(f[:1], "0123456789") {
			out = append(out, f)
		}
	}
	return out
}

// TestScaleLegendWritesItsNumbersOneWay: over random scales of every size,
// the coloured and monochrome legends of either mode write every number
// finite, in one notation, a plain one with as many decimals each and the
// scale's end to 3 significant digits. "5e-05" sat beside "0.0001", "log
// p 0.0 … −0.3" over bands of "0.075 0.150", and a scale of 1e308 was
// written as 309 digits.
func TestScaleLegendWritesItsNumbersOneWay(t *testing.T) {
	r := rand.New(rand.NewPCG(38, 9))
	for i := range 3000 {
		limit := (1 + 9*r.Float64()) * math.Pow(10, float64(r.IntN(616)-308))
		if i%50 == 0 {
			limit = math.MaxFloat64
		}
		for _, mode := range []Mode{Diverging, Sequential} {
			for _, th := range []*style.Theme{style.PlainTheme(), style.NewTheme(style.NoColor)} {
				h := New(th)
				h.SetMode(mode)
				h.SetTokens([]string{"a"}, []float64{0})
				h.SetLimit(limit)
				line := h.Legend(200)
				nums := legendNumbers(line)
				if len(nums) < 2 {
					t.Fatalf("scale %g: legend %q writes fewer than two numbers", limit, line)
				}
				dec := -1
				for _, s := range nums {
					f, err := strconv.ParseFloat(s, 64)
					if err != nil || math.IsInf(f, 0) {
						t.Fatalf("scale %g: %q in %q reads no finite value (%v)", limit, s, line, err)
					}
					if s == "0" && strings.Contains(line, "e") {
						continue // e-notation's zero
					}
					d := len(s) - strings.IndexByte(s, '.') - 1
					if e := strings.IndexByte(s, 'e'); e >= 0 {
						d = 100 + e - strings.IndexByte(s, '.') - 1 // mantissa's, in another notation
					} else if !strings.Contains(s, ".") {
						d = 0
					}
					if dec >= 0 && d != dec {
						t.Fatalf("scale %g: legend %q writes its numbers two ways", limit, line)
					}
					dec = d
				}
				if f, _ := strconv.ParseFloat(nums[len(nums)-1], 64); mode == Sequential && !h.Monochrome() && math.Abs(f-limit) > limit*5e-3 {
					t.Fatalf("scale %g: legend %q ends at %g", limit, line, f)
				}
			}
		}
	}
}

// TestCJKAndEmojiFit: a heatmap of wide characters, named by a label of
// them, fits every width in every profile, its legend cut to it too
// (style.Fit). A label of "◽" (an emoji two cells wide) was measured one
// and the legend cut overflowed its line.
func TestCJKAndEmojiFit(t *testing.T) {
	toks := text("日本語", "の", "説明", " ◽", "👍", "中文", "字", "\n", "a", "你好世界")
	vals := []float64{0.5, -1, 2, 0, -0.3, 1.5, -2, 0, 1, -0.7}
	for _, label := range []string{"", "日本語の値 d_k", "◽◾◽◾ d_k"} {
		for _, p := range []style.Profile{style.NoColor, style.ANSI, style.TrueColor} {
			for _, mode := range []Mode{Diverging, Sequential} {
				h := New(style.NewTheme(p))
				h.SetTokens(toks, vals)
				h.SetMode(mode)
				h.SetLabel(label)
				for w := 1; w <= 60; w++ {
					for hh := 1; hh <= 6; hh++ {
						h.SetSize(w, hh)
						golden.Fits(t, h.View(), w, hh)
					}
					if l := h.Legend(w); ansi.StringWidth(l) > w {
						t.Errorf("%v label %q: legend %q is %d cells wide, want ≤ %d", p, label, l, ansi.StringWidth(l), w)
					}
				}
			}
		}
	}
}
