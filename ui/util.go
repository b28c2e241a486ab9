package ui

import (
	"math"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/rlt-workbench/rlt/ui/internal/decimals"
	"github.com/rlt-workbench/rlt/ui/style"
)

// fit cuts s to w cells, ending with "…" when cut (style.Fit).
func fit(s string, w int) string { return style.Fit(s, w) }

// wrapAtSpaces is ansi.Wrap of s at w cells, broken at spaces alone (and
// within a word wider than w): ansi.Wrap also breaks after every hyphen,
// which split a run's name and a path across lines where they are read
// and copied whole ("runs/20261206-" over "104849/config.toml"). Each
// hyphen is a non-breaking one (one cell wide, as it is) while s is
// wrapped.
func wrapAtSpaces(s string, w int) string {
	const keep = "\u2011" // NON-BREAKING HYPHEN
	if !strings.Contains(s, "-") || strings.Contains(s, keep) {
		return ansi.Wrap(s, w, "")
	}
	return strings.ReplaceAll(ansi.Wrap(strings.ReplaceAll(s, "-", keep), w, ""), keep, "-")
}

// longestFitting is the first of wordings, given longest first, that
// fits w cells, and whether one does: a label said whole in the words
// its room allows rather than cut mid-word.
func longestFitting(w int, wordings ...string) (string, bool) {
	for _, s := range wordings {
		if width(s) <= w {
			return s, true
		}
	}
	return "", false
}

// pad cuts or pads s with spaces to exactly w cells.
func pad(s string, w int) string {
	s = fit(s, w)
	if n := w - width(s); n > 0 {
		return s + strings.Repeat(" ", n)
	}
	return s
}

// width is style.Width: ansi.StringWidth, fast on what chart and status
// lines are made of.
func width(s string) int { return style.Width(s) }

// block fits every line to w cells and returns exactly h lines (cut or
// padded with empty lines). h ≤ 0 keeps the line count.
func block(lines []string, w, h int) []string {
	if h > 0 && len(lines) > h {
		lines = lines[:h]
	}
	out := make([]string, 0, max(h, len(lines)))
	for _, l := range lines {
		out = append(out, fit(l, w))
	}
	for len(out) < h {
		out = append(out, "")
	}
	return out
}

// splitLines splits a rendered view into lines ("" gives none).
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// sideBySide joins two columns of lines, the left padded to lw cells,
// separated by sep.
func sideBySide(left, right []string, lw int, sep string) []string {
	n := max(len(left), len(right))
	out := make([]string, n)
	for i := 0; i < n; i++ {
		var l, r string
		if i < len(left) {
			l = left[i]
		}
		if i < len(right) {
			r = right[i]
		}
		out[i] = strings.TrimRight(pad(l, lw)+sep+r, " ")
	}
	return out
}

// num formats v with d decimals (decimals.Fixed: a value that rounds to
// zero has no sign, so an r_SS of -1e-5 reads "0.000", not "-0.000");
// NaN and ±Inf as "—".
func num(v float64, d int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return decimals.Fixed(v, d)
}

// snum is num with an explicit sign, but for a number that rounds to zero
// at d decimals, which has none: a run recorded before
// engine/rlt.Advantages took a group's mean about its first reward holds,
// for a group of equal rewards, advantages of about ±3e-13, which read
// "-0.00" or "+0.00" beside the group view's "advantages 0".
func snum(v float64, d int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return decimals.Signed(v, d)
}

// compact formats v in at most about 8 characters.
func compact(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a >= 1e5 || a < 1e-3:
		return strconv.FormatFloat(v, 'e', 1, 64)
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

func f64s(a []float32) []float64 {
	out := make([]float64, len(a))
	for i, v := range a {
		out[i] = float64(v)
	}
	return out
}

// scrollTop is the first of total rows to show, n at a time, so that row
// sel is shown: top, the first shown until now, moved no further than it
// must, and no further down than the last page.
func scrollTop(top, sel, n, total int) int {
	if sel < top {
		top = sel
	}
	if sel >= top+n {
		top = sel - n + 1
	}
	return max(min(top, total-n), 0)
}
