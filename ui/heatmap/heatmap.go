// Package heatmap shows token sequences with one value per token as
// coloured backgrounds: d_k of a teacher's explanation on a diverging
// palette centred on zero, or a student's log-probs on a sequential one.
// Tokens wrap into lines of a given width; a cursor (reverse video) and
// marked tokens (underlined) can be shown, and the cursor's line and
// column are known so a view can scroll to it. It renders strings only.
//
// A theme with attributes and no colour (NO_COLOR) draws the values in
// monochrome bands instead (Bands): a token's weight says its sign (bold
// above zero, faint below) and an underline that it lies past half the
// scale, so the tokens carry their values without colour. A token with
// no value (an incomplete record's) is in italics there, where in colour
// it has no background: plain, it would read as a value near zero.
//
// A Heatmap is not safe for concurrent use.
package heatmap

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/rlt-workbench/rlt/ui/internal/decimals"
	"github.com/rlt-workbench/rlt/ui/style"
)

// Mode chooses the palette.
type Mode uint8

const (
	// Diverging colours signed values (d_k): blue below zero, white at
	// zero, vermillion above, symmetric in max |value| or the limit.
	Diverging Mode = iota
	// Sequential colours log-probs (≤ 0): white at 0 (certain), through
	// orange to dark vermillion at −limit (surprising).
	Sequential
)

// Buckets is the number of colour steps on each side of the palette.
const Buckets = 8

// Bucket quantises v against limit: −Buckets…Buckets for Diverging (0 is
// neutral; the sign of a non-zero bucket is the sign of v), 0…Buckets for
// Sequential (0 for a log-prob of 0). NaN gives 0 and ok false.
func Bucket(mode Mode, v, limit float64) (b int, ok bool) {
	if math.IsNaN(v) {
		return 0, false
	}
	if !(limit > 0) || math.IsInf(limit, 0) {
		limit = 1
	}
	var t float64
	if mode == Sequential {
		t = math.Min(math.Max(-v/limit, 0), 1)
	} else {
		t = math.Min(math.Max(v/limit, -1), 1)
	}
	return int(math.Round(t * Buckets)), true
}

// BucketColor is the background colour of bucket b in mode.
func BucketColor(mode Mode, b int) style.Color {
	if mode == Sequential {
		return style.Sequential(float64(b) / Buckets)
	}
	return style.Diverging(float64(b) / Buckets)
}

// Bands are the thresholds of the monochrome encoding, in the value's
// units on the positive side (−log p for Sequential): a value of at
// least Lo (at most −Lo for Diverging) is drawn bold (faint), one of at
// least Hi (at most −Hi) underlined besides. Both are a quarter and a
// half of the scale, rounded to the digits the legend prints them with,
// so the legend is exact.
type Bands struct {
	Lo, Hi float64
	limit  float64 // the scale's, whose legend's way Text writes them in
}

// BandsFor returns the bands of scale limit.
func BandsFor(limit float64) Bands {
	if !(limit > 0) || math.IsInf(limit, 0) {
		limit = 1
	}
	format := scaleFormat(limit)
	round := func(v float64) float64 {
		r, err := strconv.ParseFloat(format(v), 64)
		if err != nil || !(r > 0) {
			return v
		}
		return r
	}
	return Bands{Lo: round(limit / 4), Hi: round(limit / 2), limit: limit}
}

// Text writes the bands' zero and thresholds as the legend of their scale
// writes its values (scaleFormat): one notation, as many decimals each
// ("0.00", "0.50", "1.00" of a scale of 2; "0", "5.00e-05", "1.00e-04" of
// 0.0002, where "5e-05" sat beside "0.0001"). The values written are the
// bands' own (BandsFor rounds them so).
func (b Bands) Text() (zero, lo, hi string) {
	format := scaleFormat(b.limit)
	if b.limit == 0 {
		format = scaleFormat(b.Hi * 2)
	}
	return format(0), format(b.Lo), format(b.Hi)
}

// scaleDigits is how many significant digits a scale's end is written
// with; its other values take as many decimals (or its notation).
const scaleDigits = 3

// scaleFormat is the one way a legend of the scale limit writes its
// values (its ends, zero, the bands' thresholds): where the limit to 3
// significant digits is from 1e-3 to below 1e15, with its decimals each
// ("4.50", "1.12", "0.00"; "400", "100", "0"); else in e-notation, each
// to 3 significant digits, zero bare ("2.00e-04", "5.00e-05", "0"). The
// coloured legend, the monochrome bands and the detail's words read one
// scale alike: "log p 0.0 … −0.3" sat over bands "0.075 0.150", and
// "5e-05" beside "0.0001". A limit that rounds past float64's range is
// cut toward zero (decimals.Significant).
func scaleFormat(limit float64) func(v float64) string {
	if !(limit > 0) || math.IsInf(limit, 0) {
		limit = 1
	}
	if _, _, e := decimals.Significant(limit, scaleDigits); e >= -3 && e < 15 {
		d := max(0, scaleDigits-1-e)
		return func(v float64) string { return decimals.Fixed(v, d) }
	}
	return func(v float64) string {
		if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return strconv.FormatFloat(v, 'g', -1, 64)
		}
		return decimals.Exponent(v, scaleDigits)
	}
}

// Band is v's band: 2 or 1 past Hi or Lo above zero (below zero for
// Diverging's −2 and −1; Sequential bands −v), 0 between; NaN is 0.
func (b Bands) Band(mode Mode, v float64) int {
	if math.IsNaN(v) {
		return 0
	}
	if mode == Sequential {
		v = -v
	}
	sign := 1
	if v < 0 {
		if mode == Sequential {
			return 0
		}
		sign, v = -1, -v
	}
	switch {
	case v >= b.Hi:
		return 2 * sign
	case v >= b.Lo:
		return sign
	}
	return 0
}

// noValue is the monochrome row of a token with no value (NaN), after
// the bands' −2…2.
const noValue = 3

// noValueSpec draws a token with no value in a monochrome view: italics,
// the one attribute the bands and the cursor leave free.
var noValueSpec = style.Spec{Attr: style.Italic}

// bandSpec is the attributes that draw band k (−2…2; noValue: none).
func bandSpec(k int) style.Spec {
	if k == noValue {
		return noValueSpec
	}
	var s style.Spec
	switch {
	case k > 0:
		s = s.With(style.Bold)
	case k < 0:
		s = s.With(style.Faint)
	}
	if k >= 2 || k <= -2 {
		s = s.With(style.Underline)
	}
	return s
}

// Motion moves the cursor.
type Motion uint8

const (
	Left Motion = iota
	Right
	WordLeft
	WordRight
	Up
	Down
	LineStart
	LineEnd
	First
	Last
)

type token struct {
	segs []segment
	word bool // starts a word: after a space/newline, or the first token
}

// piece is a run of one token's visible text on one line.
type piece struct {
	tok       int32
	line, col int32
	text      string
	width     int32
}

// Heatmap is a wrapped, coloured token sequence with a cursor.
type Heatmap struct {
	theme  *style.Theme
	mode   Mode
	label  string
	limit  float64 // 0 = auto
	toks   []token
	vals   []float64
	marks  map[int]bool
	cursor int
	width  int
	height int
	top    int

	// layout cache (valid for layoutW)
	layoutW   int
	pieces    []piece
	lineStart []int // index into pieces of each line's first piece
	tokPiece  []int32

	// style table cache: [bucket][mark|cursor<<1]
	specsValid bool
	specs      [2*Buckets + 2][4]string // last row: no value
	// monoSpecs is the monochrome table: [band+2][cursor], the last row
	// a token with no value (noValue); marks are not drawn, an underline
	// being a band's (the views name them).
	monoSpecs [noValue + 3][2]string

	viewValid bool
	view      string
	renders   int
}

// New returns an empty heatmap in Diverging mode drawing with theme (nil:
// Plain). The cursor starts hidden (-1).
func New(theme *style.Theme) *Heatmap {
	if theme == nil {
		theme = style.PlainTheme()
	}
	return &Heatmap{theme: theme, cursor: -1, marks: map[int]bool{}}
}

func (h *Heatmap) touchLayout() { h.layoutW = -1; h.viewValid = false }
func (h *Heatmap) touchStyle()  { h.specsValid = false; h.viewValid = false }

// SetTheme changes the theme.
func (h *Heatmap) SetTheme(t *style.Theme) {
	if t == nil {
		t = style.PlainTheme()
	}
	h.theme = t
	h.touchStyle()
}

// SetTokens sets the tokens (byte-level strings, as the tokenizer's
// TokenString gives them) and one value per token; missing values are NaN
// (no colour). The cursor is kept if still in range.
func (h *Heatmap) SetTokens(tokens []string, values []float64) {
	h.toks = make([]token, len(tokens))
	prevBreak := true
	for i, t := range tokens {
		segs := visibleSegments(t, true, false)
		// A word starts at a token with something besides whitespace that
		// follows whitespace or begins with it.
		dec, _ := DecodeByteLevel(t)
		blank := strings.TrimSpace(dec) == "" && dec != ""
		word := !blank && (prevBreak || strings.HasPrefix(segs[0].text, SpaceGlyph) ||
			strings.HasPrefix(segs[0].text, TabGlyph))
		h.toks[i] = token{segs: segs, word: word}
		last := segs[len(segs)-1]
		prevBreak = last.brk || strings.HasSuffix(last.text, SpaceGlyph) || strings.HasSuffix(last.text, TabGlyph)
	}
	h.SetValues(values)
	if h.cursor >= len(tokens) {
		h.cursor = len(tokens) - 1
	}
	h.touchLayout()
}

// SetValues replaces the values (one per token; missing ones are NaN).
func (h *Heatmap) SetValues(values []float64) {
	h.vals = make([]float64, len(h.toks))
	for i := range h.vals {
		if i < len(values) {
			h.vals[i] = values[i]
		} else {
			h.vals[i] = math.NaN()
		}
	}
	h.viewValid = false
}

// Len returns the number of tokens.
func (h *Heatmap) Len() int { return len(h.toks) }

// SetMode chooses the palette.
func (h *Heatmap) SetMode(m Mode) {
	if m != h.mode {
		h.mode = m
		h.touchStyle()
	}
}

// Mode returns the palette mode.
func (h *Heatmap) Mode() Mode { return h.mode }

// SetLimit fixes the value that maps to the palette's ends (|value| for
// Diverging, −log-prob for Sequential); 0 scales by the data.
func (h *Heatmap) SetLimit(limit float64) {
	if !(limit > 0) {
		limit = 0
	}
	h.limit = limit
	h.viewValid = false
}

// Limit returns the scale in use: the fixed limit, or the data's max |v|
// (Diverging) or max −v (Sequential), 1 when there is nothing to scale.
func (h *Heatmap) Limit() float64 {
	if h.limit > 0 {
		return h.limit
	}
	m := 0.0
	for _, v := range h.vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		if h.mode == Sequential {
			v = -v
		} else {
			v = math.Abs(v)
		}
		m = math.Max(m, v)
	}
	if m == 0 {
		return 1
	}
	return m
}

// SetLabel names the value in the legend ("d_k", "log p").
func (h *Heatmap) SetLabel(s string) { h.label = s; h.viewValid = false }

// SetMarks underlines the given token indices (e.g. the max-d_k token),
// replacing earlier marks. Monochrome views leave them undrawn: there an
// underline is a band's.
func (h *Heatmap) SetMarks(idx ...int) {
	h.marks = make(map[int]bool, len(idx))
	for _, i := range idx {
		h.marks[i] = true
	}
	h.viewValid = false
}

// SetCursor puts the cursor on token i (clamped; -1 hides it).
func (h *Heatmap) SetCursor(i int) {
	if i < -1 {
		i = -1
	}
	if i >= len(h.toks) {
		i = len(h.toks) - 1
	}
	if i != h.cursor {
		h.cursor = i
		h.viewValid = false
	}
}

// Cursor returns the cursor's token index (-1: hidden).
func (h *Heatmap) Cursor() int { return h.cursor }

// SetSize sets the view's width and height in cells.
func (h *Heatmap) SetSize(width, height int) {
	if width != h.width {
		h.width = width
		h.touchLayout()
	}
	if height != h.height {
		h.height = height
		h.viewValid = false
	}
}

// Renders counts renders not served from the cache.
func (h *Heatmap) Renders() int { return h.renders }

// layout wraps the tokens at width w (cached).
func (h *Heatmap) layout(w int) {
	if h.layoutW == w && h.pieces != nil {
		return
	}
	h.layoutW = w
	h.pieces = h.pieces[:0]
	h.lineStart = h.lineStart[:0]
	h.tokPiece = make([]int32, len(h.toks))
	if w < 1 {
		w = 1
	}
	line, col := 0, 0
	newLine := func() { line++; col = 0 }
	add := func(t int, text string, width int) {
		if len(h.lineStart) <= line {
			for len(h.lineStart) <= line {
				h.lineStart = append(h.lineStart, len(h.pieces))
			}
		}
		h.pieces = append(h.pieces, piece{tok: int32(t), line: int32(line), col: int32(col), text: text, width: int32(width)})
		col += width
	}
	for t := range h.toks {
		h.tokPiece[t] = int32(len(h.pieces))
		for _, s := range h.toks[t].segs {
			if col > 0 && col+s.width > w {
				newLine()
			}
			if s.width <= w-col {
				add(t, s.text, s.width)
			} else {
				// Longer than a line: split between grapheme clusters.
				rest := s.text
				var run strings.Builder
				runW := 0
				for rest != "" {
					g, gw := ansi.FirstGraphemeCluster(rest, ansi.GraphemeWidth)
					rest = rest[len(g):]
					if gw > w { // a wide cluster on a one-cell line
						g, gw = "…", 1
					}
					if col+runW+gw > w {
						add(t, run.String(), runW)
						run.Reset()
						runW = 0
						newLine()
					}
					run.WriteString(g)
					runW += gw
				}
				if runW > 0 {
					add(t, run.String(), runW)
				}
			}
			if s.brk {
				newLine()
			}
		}
	}
	for len(h.lineStart) < line+1 && col > 0 {
		h.lineStart = append(h.lineStart, len(h.pieces))
	}
}

// LineCount returns the number of wrapped lines at the current width.
func (h *Heatmap) LineCount() int { return h.LineCountAt(h.width) }

// LineCountAt is LineCount at width w, the size left as it is: a caller
// measuring the whole text sets no height, which would throw away the
// rendered view.
func (h *Heatmap) LineCountAt(w int) int {
	h.layout(w)
	return len(h.lineStart)
}

// CursorPos returns the cursor's wrapped line and column (cells) at the
// current width, counting content lines only (not the legend); -1, -1
// when the cursor is hidden.
func (h *Heatmap) CursorPos() (line, col int) {
	return h.TokenPos(h.cursor)
}

// TokenPos returns where token i starts at the current width.
func (h *Heatmap) TokenPos(i int) (line, col int) {
	if i < 0 || i >= len(h.toks) {
		return -1, -1
	}
	h.layout(h.width)
	p := h.pieces[h.tokPiece[i]]
	return int(p.line), int(p.col)
}

// tokenEnd returns where token i's last piece starts at the current
// width: its own line and column for a token on one line.
func (h *Heatmap) tokenEnd(i int) (line, col int) {
	h.layout(h.width)
	k := len(h.pieces) - 1
	if i+1 < len(h.toks) {
		k = int(h.tokPiece[i+1]) - 1
	}
	p := h.pieces[k]
	return int(p.line), int(p.col)
}

// TokenAt returns the token at a wrapped line and column, or the nearest
// one on that line before it; -1 if the line does not exist.
func (h *Heatmap) TokenAt(line, col int) int {
	h.layout(h.width)
	if line < 0 || line >= len(h.lineStart) {
		return -1
	}
	end := len(h.pieces)
	if line+1 < len(h.lineStart) {
		end = h.lineStart[line+1]
	}
	best := -1
	for k := h.lineStart[line]; k < end; k++ {
		p := h.pieces[k]
		if int(p.col) <= col || best < 0 {
			best = int(p.tok)
		}
	}
	return best
}

// MoveCursor moves the cursor; a hidden cursor appears on the first token.
func (h *Heatmap) MoveCursor(m Motion) {
	n := len(h.toks)
	if n == 0 {
		return
	}
	c := h.cursor
	if c < 0 {
		h.SetCursor(0)
		return
	}
	switch m {
	case Left:
		c--
	case Right:
		c++
	case WordLeft:
		c--
		for c > 0 && !h.toks[c].word {
			c--
		}
	case WordRight:
		c++
		for c < n && !h.toks[c].word {
			c++
		}
	case Up, Down:
		// From the line above the token's first, or below its last: a
		// token can take several lines (a blank line's "\n\n", a token
		// longer than the width).
		line, col := h.CursorPos()
		if m == Up {
			line--
		} else {
			line, col = h.tokenEnd(c)
			line++
		}
		if t := h.TokenAt(line, col); t >= 0 {
			c = t
		}
	case LineStart:
		line, _ := h.CursorPos()
		c = h.TokenAt(line, 0)
	case LineEnd:
		line, _ := h.CursorPos()
		c = h.TokenAt(line, math.MaxInt32)
	case First:
		c = 0
	case Last:
		c = n - 1
	}
	h.SetCursor(min(max(c, 0), n-1))
}

// Monochrome reports whether the values are drawn in bands of attributes
// rather than colours: a theme with attributes and no colour (NO_COLOR).
func (h *Heatmap) Monochrome() bool {
	p := h.theme.Profile()
	return p.HasAttrs() && !p.HasColor()
}

// Bands are the monochrome bands of the scale in use (Limit).
func (h *Heatmap) Bands() Bands { return BandsFor(h.Limit()) }

// specTable fills the escape table for mode and theme.
func (h *Heatmap) specTable() {
	if h.specsValid {
		return
	}
	th := h.theme
	for k := -2; k <= noValue; k++ {
		h.monoSpecs[k+2][0] = th.Open(bandSpec(k))
		h.monoSpecs[k+2][1] = th.Open(bandSpec(k).With(style.Reverse))
	}
	for b := -Buckets; b <= Buckets+1; b++ {
		var base style.Spec
		row := b + Buckets
		if b <= Buckets && !(h.mode == Sequential && b < 0) {
			bg := BucketColor(h.mode, b)
			base = style.FG(style.TextOn(bg)).On(bg)
		}
		if b == Buckets+1 {
			base = style.Spec{}
		}
		for v := 0; v < 4; v++ {
			s := base
			if v&1 != 0 {
				s = s.With(style.Underline | style.Bold)
			}
			if v&2 != 0 {
				s = s.With(style.Reverse)
			}
			h.specs[row][v] = th.Open(s)
		}
	}
	h.specsValid = true
}

// Lines returns every wrapped line at width w, coloured.
func (h *Heatmap) Lines(w int) []string {
	save := h.width
	h.width = w
	h.layout(w)
	out := make([]string, len(h.lineStart))
	limit := h.Limit()
	for i := range out {
		out[i] = h.renderLine(i, limit)
	}
	h.width = save
	return out
}

func (h *Heatmap) renderLine(line int, limit float64) string {
	h.specTable()
	end := len(h.pieces)
	if line+1 < len(h.lineStart) {
		end = h.lineStart[line+1]
	}
	closeSeq := h.theme.Close()
	mono := h.Monochrome()
	bands := BandsFor(limit)
	var b strings.Builder
	b.Grow(h.layoutW * 4)
	for k := h.lineStart[line]; k < end; k++ {
		p := &h.pieces[k]
		t := int(p.tok)
		if mono {
			cur := 0
			if t == h.cursor {
				cur = 1
			}
			band := bands.Band(h.mode, h.vals[t])
			if math.IsNaN(h.vals[t]) {
				band = noValue
			}
			open := h.monoSpecs[band+2][cur]
			b.WriteString(open)
			b.WriteString(p.text)
			if open != "" {
				b.WriteString(closeSeq)
			}
			continue
		}
		row := 2*Buckets + 1
		if bk, ok := Bucket(h.mode, h.vals[t], limit); ok {
			row = bk + Buckets
		}
		v := 0
		if h.marks[t] {
			v |= 1
		}
		if t == h.cursor {
			v |= 2
		}
		open := h.specs[row][v]
		b.WriteString(open)
		b.WriteString(p.text)
		if open != "" {
			b.WriteString(closeSeq)
		}
	}
	return b.String()
}

// ScrollTop returns the first content line the view shows.
func (h *Heatmap) ScrollTop() int { return h.top }

// SetScrollTop scrolls the view (the cursor may leave it).
func (h *Heatmap) SetScrollTop(top int) {
	if top < 0 {
		top = 0
	}
	if top != h.top {
		h.top = top
		h.viewValid = false
	}
}

// View renders the legend (first line, when height ≥ 2) and the content
// lines that fit, scrolled as little as needed to show the cursor.
func (h *Heatmap) View() string {
	if h.viewValid {
		return h.view
	}
	h.renders++
	h.viewValid = true
	h.view = h.render()
	return h.view
}

func (h *Heatmap) render() string {
	W, H := h.width, h.height
	if W <= 0 || H <= 0 {
		return ""
	}
	h.layout(W)
	limit := h.Limit()
	var out []string
	rows := H
	if H >= 2 {
		out = append(out, h.Legend(W))
		rows--
	}
	n := len(h.lineStart)
	if cl, _ := h.CursorPos(); cl >= 0 {
		if cl < h.top {
			h.top = cl
		}
		if cl >= h.top+rows {
			h.top = cl - rows + 1
		}
	}
	h.top = max(min(h.top, n-rows), 0)
	for i := h.top; i < n && i < h.top+rows; i++ {
		out = append(out, h.renderLine(i, limit))
	}
	return strings.Join(out, "\n")
}

// Legend renders the colour scale in width cells: the label, the low end,
// a bar of the palette, the high end. A monochrome view shows its bands
// instead (monoLegend). Plain, the bar is drawn in shade glyphs
// (· ░ ▒ ▓ █) by magnitude.
func (h *Heatmap) Legend(width int) string {
	th := h.theme
	limit := h.Limit()
	label := h.label
	if label == "" {
		label = "d_k"
		if h.mode == Sequential {
			label = "log p"
		}
	}
	if h.Monochrome() {
		return h.monoLegend(label, width)
	}
	loS, hiS := LegendEnds(h.mode, limit)
	fixed := ansi.StringWidth(label) + 1 + ansi.StringWidth(loS) + 2 + ansi.StringWidth(hiS)
	barW := min(width-fixed, 4*Buckets+1)
	if barW < 3 {
		return style.Fit(label+" "+loS+"…"+hiS, width)
	}
	var b strings.Builder
	b.WriteString(label + " " + loS + " ")
	shades := []string{"·", "░", "▒", "▓", "█"}
	closeSeq := th.Close()
	for i := 0; i < barW; i++ {
		var t float64
		if h.mode == Sequential {
			t = float64(i) / float64(barW-1)
		} else {
			t = -1 + 2*float64(i)/float64(barW-1)
		}
		v := t * limit
		if h.mode == Sequential {
			v = -v
		}
		bk, _ := Bucket(h.mode, v, limit)
		if th.Profile().HasColor() {
			bg := BucketColor(h.mode, bk)
			b.WriteString(th.Open(style.Spec{}.On(bg)))
			b.WriteByte(' ')
			b.WriteString(closeSeq)
		} else {
			b.WriteString(shades[int(math.Round(math.Abs(t)*4))])
		}
	}
	b.WriteString(" " + hiS)
	return b.String()
}

// monoLegend is the monochrome bands' legend: each band's bounds written
// in its own attributes, lowest first ("d_k ≤−1.00 ≤−0.50 ±0.00 ≥+0.50
// ≥+1.00", the first two faint, the last two bold, the outer two
// underlined; "log p 0.00 ≤−1.25 ≤−2.50" for Sequential), and where a token
// has no value "no value" in italics, as it is drawn; or what fits, the
// bands first.
func (h *Heatmap) monoLegend(label string, width int) string {
	th := h.theme
	zero, lo, hi := h.Bands().Text()
	type part struct {
		band int
		text string
	}
	parts := []part{{0, zero}, {1, "≤−" + lo}, {2, "≤−" + hi}}
	if h.mode == Diverging {
		parts = []part{{-2, "≤−" + hi}, {-1, "≤−" + lo}, {0, "±" + zero}, {1, "≥+" + lo}, {2, "≥+" + hi}}
	}
	plain := label
	for _, p := range parts {
		plain += " " + p.text
	}
	if ansi.StringWidth(plain) > width {
		return style.Fit(plain, width)
	}
	if h.HasMissing() && ansi.StringWidth(plain+" "+noValueText) <= width {
		parts = append(parts, part{noValue, noValueText})
	}
	var b strings.Builder
	b.WriteString(label)
	for _, p := range parts {
		b.WriteString(" " + th.Paint(bandSpec(p.band), p.text))
	}
	return b.String()
}

// noValueText names a token with no value in the monochrome legend.
const noValueText = "no value"

// HasMissing reports whether a token has no value (NaN: an incomplete
// record's).
func (h *Heatmap) HasMissing() bool {
	return slices.ContainsFunc(h.vals, math.IsNaN)
}

// NoValueLook says how a token with no value is drawn, for a view's note
// on an incomplete record: "in italics" in a monochrome view, where every
// token is uncoloured, "uncoloured" where values are colours.
func (h *Heatmap) NoValueLook() string {
	if h.Monochrome() {
		return "in italics"
	}
	return "uncoloured"
}

// FormatValue prints a scale's end v as the legend of that scale does
// (scaleFormat): 3 significant digits, e-notation below 1e-3.
func FormatValue(v float64) string { return scaleFormat(v)(v) }

// LegendEnds is what the legend of a scale of limit writes at its low
// and high ends ("−5.00" and "+5.00" for Diverging, "0.00" and "−5.00"
// for Sequential), in its one format (scaleFormat): the workbench's
// legend line and the HTML report's colour bar write them alike.
func LegendEnds(mode Mode, limit float64) (lo, hi string) {
	format := scaleFormat(limit)
	lim := format(limit)
	if mode == Sequential {
		return format(0), "−" + lim
	}
	return "−" + lim, "+" + lim
}

// LimitWords prints a scale's end in words about the scale ("≤ −5
// nats") as its legend line prints it (FormatValue), less trailing zeros
// ("5" over "5.00", "1.5e-10" over "1.50e-10"), never rounded on their
// own (the detail's words once said "dark: −23.3, its lowest" over a
// line ending "−23.35"). An exponent's zeros are its own ("1e-20"), not
// a decimal's to leave off.
func LimitWords(v float64) string {
	s := FormatValue(v)
	mant, exp, isE := strings.Cut(s, "e")
	if strings.Contains(mant, ".") {
		mant = strings.TrimRight(strings.TrimRight(mant, "0"), ".")
	}
	if isE {
		return mant + "e" + exp
	}
	return mant
}
