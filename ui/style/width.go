package style

import (
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// Width is ansi.StringWidth(s), found without grapheme segmentation when
// s holds only SGR escapes and characters one cell wide that never join
// (printable ASCII, Latin-1, Greek, general punctuation, arrows, maths,
// box drawing, blocks, shapes, braille): what chart lines and status
// lines are made of, measured many times a frame. Anything else goes to
// ansi.StringWidth.
func Width(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == 0x1b:
			// CSI: ESC [, parameter bytes (0x30–0x3f), intermediate
			// bytes (0x20–0x2f), a final byte (0x40–0x7e). Anything else
			// in it (a control, a non-ASCII byte, a second ESC) is a
			// broken sequence, which ansi reads in its own way.
			if i+1 >= len(s) || s[i+1] != '[' {
				return ansi.StringWidth(s)
			}
			j := i + 2
			for j < len(s) && s[j] >= 0x30 && s[j] <= 0x3f {
				j++
			}
			for j < len(s) && s[j] >= 0x20 && s[j] <= 0x2f {
				j++
			}
			if j >= len(s) || s[j] < 0x40 || s[j] > 0x7e {
				return ansi.StringWidth(s)
			}
			i = j + 1
			continue
		case c >= 0x20 && c < 0x7f:
			n++
			i++
			continue
		case c < 0x80:
			return ansi.StringWidth(s)
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r >= 0xa0 && r <= 0xff && r != 0xad,
			r >= 0x370 && r <= 0x3ff,
			r >= 0x2010 && r <= 0x2027,
			r >= 0x2190 && r <= 0x21ff,
			r >= 0x2200 && r <= 0x22ff,
			r >= 0x2500 && r <= 0x25ff && r != 0x25fd && r != 0x25fe, // ◽ ◾ are emoji, two cells
			r >= 0x2800 && r <= 0x28ff:
			n++
			i += size
		default:
			return ansi.StringWidth(s)
		}
	}
	return n
}

// Fit cuts s to w cells (Width), ending with "…" when cut: the one way
// the workbench, its charts and its heatmaps cut a line that is too wide.
func Fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if Width(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}
