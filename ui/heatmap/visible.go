package heatmap

import (
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// unicodeToByte inverts the byte-level BPE alphabet (GPT-2's
// bytes_to_unicode): printable Latin-1 bytes stand for themselves, the
// other bytes b are written as rune 0x100+n, n counting them in order.
var unicodeToByte = func() map[rune]byte {
	m := make(map[rune]byte, 256)
	n := 0
	for b := 0; b < 256; b++ {
		if b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE && b <= 0xFF {
			m[rune(b)] = byte(b)
		} else {
			m[rune(0x100+n)] = byte(b)
			n++
		}
	}
	return m
}()

// DecodeByteLevel returns the bytes a byte-level token stands for ('Ġ' is
// a space, 'Ċ' a newline). A token with a rune outside the byte-level
// alphabet (an added token's content) is returned unchanged, ok false.
func DecodeByteLevel(token string) (text string, ok bool) {
	buf := make([]byte, 0, len(token))
	for _, r := range token {
		b, found := unicodeToByte[r]
		if !found {
			return token, false
		}
		buf = append(buf, b)
	}
	return string(buf), true
}

// Glyphs that make whitespace and controls visible.
const (
	SpaceGlyph   = "·"
	NewlineGlyph = "⏎"
	TabGlyph     = "→"
	EmptyGlyph   = "∅" // a token with no text
)

// segment is one piece of a token's visible text; brk means a line break
// follows it (the token held a newline there).
type segment struct {
	text  string
	width int
	brk   bool
}

// Visible returns the token as it is shown: byte-level decoded, spaces as
// '·', newlines as '⏎', tabs as '→', other control characters as their
// Unicode control pictures, bytes that are not valid UTF-8 (a character
// split across tokens) as \xNN, and a leading combining mark on '◌'.
func Visible(token string) string {
	segs := visibleSegments(token, false, false)
	if len(segs) == 1 {
		return segs[0].text
	}
	var b strings.Builder
	for _, s := range segs {
		b.WriteString(s.text)
	}
	return b.String()
}

// VisibleText is Visible for running text (rlt report's page): spaces stay
// spaces, and a newline's glyph ends its line.
func VisibleText(token string) string {
	var b strings.Builder
	for _, s := range visibleSegments(token, true, true) {
		b.WriteString(s.text)
		if s.brk {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// visibleSegments splits the visible text at newlines when breaks is true;
// with keepSpaces a space is itself, not SpaceGlyph.
func visibleSegments(token string, breaks, keepSpaces bool) []segment {
	text, _ := DecodeByteLevel(token)
	if text == "" {
		return []segment{{text: EmptyGlyph, width: 1}}
	}
	var segs []segment
	var b strings.Builder
	flush := func(brk bool) {
		s := b.String()
		b.Reset()
		if s != "" {
			// A segment that starts with a zero-width cluster (a combining
			// mark) would fuse with whatever is printed before it.
			if c, w := ansi.FirstGraphemeCluster(s, ansi.GraphemeWidth); w == 0 && c != "" {
				s = "◌" + s
			}
		}
		segs = append(segs, segment{text: s, width: ansi.StringWidth(s), brk: brk})
	}
	const hex = "0123456789abcdef"
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if r == utf8.RuneError && size <= 1 {
			c := text[i]
			b.WriteString(`\x`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			i++
			continue
		}
		i += size
		switch {
		case r == ' ' && !keepSpaces:
			b.WriteString(SpaceGlyph)
		case r == '\n':
			b.WriteString(NewlineGlyph)
			if breaks {
				flush(true)
			}
		case r == '\t':
			b.WriteString(TabGlyph)
		case r < 0x20:
			b.WriteRune(0x2400 + r) // ␀…␟
		case r == 0x7f:
			b.WriteRune('␡')
		case r >= 0x80 && r < 0xa0, r == 0x200b || r == 0x2028 || r == 0x2029 || r == 0xfeff:
			b.WriteString(`\u`)
			for sh := 12; sh >= 0; sh -= 4 {
				b.WriteByte(hex[(r>>sh)&15])
			}
		default:
			b.WriteRune(r)
		}
	}
	if b.Len() > 0 || len(segs) == 0 {
		flush(false)
	}
	return segs
}
