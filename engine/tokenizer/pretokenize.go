package tokenizer

import (
	"bytes"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/unicode/norm"
)

// The two pre-tokenizer regexes this package understands. Both end in the
// look-ahead \s+(?!\S), which Go's regexp cannot express, so each is
// implemented below as a hand-written scanner that returns, for a match
// starting at i, where it ends, with the regex's own leftmost-first
// (backtracking) semantics. Both patterns match at every position, so a
// scan never leaves a gap.
const (
	qwen2Pattern = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	gpt2Pattern  = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
)

// Character classes as the regexes see them: \p{L}, \p{N}, \s (Unicode
// White_Space, as Oniguruma's \s), or anything else. A byte that is not
// valid UTF-8 (Hugging Face never sees one) counts as one "other" character.
const (
	clsOther uint8 = iota
	clsLetter
	clsNumber
	clsSpace
)

var asciiClass [128]uint8

func init() {
	for c := 0; c < 128; c++ {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			asciiClass[c] = clsLetter
		case c >= '0' && c <= '9':
			asciiClass[c] = clsNumber
		case c == ' ', c >= '\t' && c <= '\r':
			asciiClass[c] = clsSpace
		}
	}
}

// bmp holds, for every rune below 0x10000, its class (low bits) and
// bmpNFCInert: the rune is in NFC and starts a segment that nothing on its
// left combines with, so a string made only of such runes is already NFC.
// It is built on first use (Load/Parse), not at package init.
var (
	bmp     *[0x10000]uint8
	bmpOnce sync.Once
)

const (
	bmpClassMask uint8 = 3
	bmpNFCInert  uint8 = 4
)

func initTables() {
	bmpOnce.Do(func() {
		t := new([0x10000]uint8)
		var buf [4]byte
		for r := rune(0); r < 0x10000; r++ {
			c := classOf(r)
			if r >= 0xD800 && r <= 0xDFFF {
				t[r] = c
				continue
			}
			n := utf8.EncodeRune(buf[:], r)
			if p := norm.NFC.Properties(buf[:n]); p.BoundaryBefore() && norm.NFC.IsNormal(buf[:n]) {
				c |= bmpNFCInert
			}
			t[r] = c
		}
		bmp = t
	})
}

func classOf(r rune) uint8 {
	switch {
	case unicode.IsLetter(r):
		return clsLetter
	case unicode.IsNumber(r):
		return clsNumber
	case unicode.IsSpace(r):
		return clsSpace
	}
	return clsOther
}

// decodeAt decodes the non-ASCII rune at s[i], with an inlined fast path
// for valid 2- and 3-byte sequences (an invalid byte decodes as RuneError
// of size 1, as in utf8).
func decodeAt(s string, i int) (rune, int) {
	c := s[i]
	if c >= 0xC2 && c < 0xE0 && i+1 < len(s) {
		if c1 := s[i+1]; c1&0xC0 == 0x80 {
			return rune(c&0x1F)<<6 | rune(c1&0x3F), 2
		}
	} else if c >= 0xE1 && c < 0xF0 && c != 0xED && i+2 < len(s) {
		if c1, c2 := s[i+1], s[i+2]; c1&0xC0 == 0x80 && c2&0xC0 == 0x80 {
			return rune(c&0x0F)<<12 | rune(c1&0x3F)<<6 | rune(c2&0x3F), 3
		}
	}
	return utf8.DecodeRuneInString(s[i:])
}

// charAt decodes the character at s[i] (i < len(s)).
func charAt(s string, i int) (r rune, size int, cls uint8) {
	c := s[i]
	if c < utf8.RuneSelf {
		return rune(c), 1, asciiClass[c]
	}
	r, size = decodeAt(s, i)
	switch {
	case size == 1: // invalid byte
		cls = clsOther
	case r < 0x10000:
		cls = bmp[r] & bmpClassMask
	default:
		cls = classOf(r)
	}
	return r, size, cls
}

// cgj is U+034F COMBINING GRAPHEME JOINER, which the norm package inserts
// in runs of more than 30 non-starters.
const cgj = "\u034f"

var cgjBytes = []byte(cgj)

// nfcScratch is nfc's reusable memory.
type nfcScratch struct {
	out, tmp, pair []byte
	runes          []rune
	it, it2        norm.Iter
}

// nfc returns s in NFC (in sc.out when it differs from s). Runes that are
// inert (see bmp) start a segment that nothing before them combines with,
// so only the chunks that run from an inert rune to the next, holding other
// runes, need the norm package; each is normalised on its own.
func nfc(s string, sc *nfcScratch) string {
	out := sc.out[:0]
	changed := false
	copied := 0 // s[:copied] is already in out (when changed)
	lastInert := 0
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			lastInert = i
			i++
			continue
		}
		if n, ok := inertAt(s, i); ok {
			lastInert = i
			i += n
			continue
		}
		j := lastInert
		k := i
		for k < len(s) && s[k] >= utf8.RuneSelf {
			n, ok := inertAt(s, k)
			if ok {
				break
			}
			k += n
		}
		chunk := s[j:k]
		tmp := sc.tmp[:0]
		sc.it.InitString(norm.NFC, chunk)
		for !sc.it.Done() {
			tmp = append(tmp, sc.it.Next()...)
		}
		if bytes.Count(tmp, cgjBytes) != strings.Count(chunk, cgj) && utf8.ValidString(chunk) {
			// The norm package went stream-safe (over 30 non-starters): see nfcUnbounded.
			tmp = nfcUnbounded(tmp[:0], chunk, sc)
		}
		sc.tmp = tmp
		if string(tmp) != chunk {
			out = append(out, s[copied:j]...)
			out = append(out, tmp...)
			copied = k
			changed = true
		}
		lastInert = k
		i = k
	}
	if !changed {
		sc.out = out
		return s
	}
	out = append(out, s[copied:]...)
	sc.out = out
	return unsafe.String(unsafe.SliceData(out), len(out))
}

// nfcUnbounded appends the NFC form of s (valid UTF-8) to dst by the
// textbook algorithm: full canonical decomposition, canonical ordering of
// every run of non-starters, canonical composition. The norm package
// instead applies the Stream-Safe Text Process, which puts a U+034F after
// 30 non-starters in a row and orders each 30 on their own; Hugging Face's
// normaliser (Rust's unicode-normalization) does not, so long runs of
// combining marks ("Zalgo" text) come here. It is slow and rarely needed.
func nfcUnbounded(dst []byte, s string, sc *nfcScratch) []byte {
	var buf [2 * utf8.UTFMax]byte
	ccc := func(r rune) uint8 {
		n := utf8.EncodeRune(buf[:], r)
		return norm.NFC.Properties(buf[:n]).CCC()
	}
	// normalize runs f over the runes in buf[:n] with a reused Iter (no
	// allocation; one or two runes never reach the norm package's limit).
	normalize := func(f norm.Form, n int, out []byte) []byte {
		sc.it2.InitString(f, unsafe.String(&buf[0], n))
		for !sc.it2.Done() {
			out = append(out, sc.it2.Next()...)
		}
		return out
	}
	d := sc.runes[:0]
	for _, r := range s {
		n := utf8.EncodeRune(buf[:], r)
		sc.pair = normalize(norm.NFD, n, sc.pair[:0])
		for _, x := range string(sc.pair) {
			d = append(d, x)
		}
	}
	for i := 0; i < len(d); {
		if ccc(d[i]) == 0 {
			i++
			continue
		}
		j := i
		for j < len(d) && ccc(d[j]) != 0 {
			j++
		}
		for k := i + 1; k < j; k++ { // stable insertion sort by combining class
			for m := k; m > i && ccc(d[m-1]) > ccc(d[m]); m-- {
				d[m-1], d[m] = d[m], d[m-1]
			}
		}
		i = j
	}
	out := d[:0]
	starter := -1
	for _, c := range d {
		cc := ccc(c)
		if starter >= 0 {
			last := len(out) - 1
			blocked := last > starter && (ccc(out[last]) == 0 || ccc(out[last]) >= cc)
			if !blocked {
				n := utf8.EncodeRune(buf[:], out[starter])
				n += utf8.EncodeRune(buf[n:], c)
				sc.pair = normalize(norm.NFC, n, sc.pair[:0])
				if r, size := utf8.DecodeRune(sc.pair); size == len(sc.pair) && r != utf8.RuneError {
					out[starter] = r
					continue
				}
			}
		}
		if cc == 0 {
			starter = len(out)
		}
		out = append(out, c)
	}
	for _, r := range out {
		dst = utf8.AppendRune(dst, r)
	}
	sc.runes = d
	return dst
}

// inertAt decodes the (non-ASCII) rune at s[i] and reports whether it is
// NFC-inert. Invalid bytes are not.
func inertAt(s string, i int) (int, bool) {
	r, n := decodeAt(s, i)
	if n == 1 {
		return 1, false
	}
	if r < 0x10000 {
		return n, bmp[r]&bmpNFCInert != 0
	}
	// Conservative outside the table: a rune without a decomposition that
	// nothing combines with from the left is inert.
	p := norm.NFC.PropertiesString(s[i : i+n])
	return n, p.BoundaryBefore() && p.Decomposition() == nil
}

// classAt is charAt's class alone.
func classAt(s string, i int) uint8 {
	if c := s[i]; c < utf8.RuneSelf {
		return asciiClass[c]
	}
	_, _, cls := charAt(s, i)
	return cls
}

// run returns the end of the run of characters of class cls starting at i.
func run(s string, i int, cls uint8) int {
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			if asciiClass[c] != cls {
				return i
			}
			i++
			continue
		}
		_, n, c := charAt(s, i)
		if c != cls {
			return i
		}
		i += n
	}
	return i
}

// contraction matches 's 't 're 've 'm 'll 'd (s begins right after the
// apostrophe) and returns the length matched after the apostrophe, or 0.
// With fold, letters match case-insensitively as Unicode simple case
// folding does: only 'ſ' (U+017F, folds to s) joins the ASCII letters.
func contraction(s string, fold bool) int {
	if len(s) == 0 {
		return 0
	}
	lower := func(c byte) byte {
		if fold && c >= 'A' && c <= 'Z' {
			return c + ('a' - 'A')
		}
		return c
	}
	switch lower(s[0]) {
	case 's', 't', 'm', 'd':
		return 1
	case 'r', 'v':
		if len(s) > 1 && lower(s[1]) == 'e' {
			return 2
		}
	case 'l':
		if len(s) > 1 && lower(s[1]) == 'l' {
			return 2
		}
	case 0xC5:
		if fold && len(s) > 1 && s[1] == 0xBF { // ſ
			return 2
		}
	}
	return 0
}

// spaceTail handles the whitespace alternatives shared by both patterns,
// \s+(?!\S)|\s+, for a whitespace run starting at i: the run minus its
// last character when a non-space follows and the run is longer than one
// character, else the whole run.
func spaceTail(s string, i int) int {
	e := run(s, i, clsSpace)
	if e == len(s) {
		return e
	}
	_, n := utf8.DecodeLastRuneInString(s[i:e])
	if e-n > i {
		return e - n
	}
	return e
}

// scanQwen2 returns the end of the Qwen2 pattern's match starting at i.
func scanQwen2(s string, i int) int {
	r, n, c := charAt(s, i)
	// (?i:'s|'t|'re|'ve|'m|'ll|'d)
	if r == '\'' {
		if m := contraction(s[i+1:], true); m > 0 {
			return i + 1 + m
		}
	}
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if c == clsLetter {
		return run(s, i+n, clsLetter)
	}
	if c != clsNumber && r != '\r' && r != '\n' && i+n < len(s) && classAt(s, i+n) == clsLetter {
		return run(s, i+n, clsLetter)
	}
	// \p{N}
	if c == clsNumber {
		return i + n
	}
	// ' ?[^\s\p{L}\p{N}]+[\r\n]*'
	j := i
	if r == ' ' {
		j++
	}
	if k := run(s, j, clsOther); k > j {
		for k < len(s) && (s[k] == '\r' || s[k] == '\n') {
			k++
		}
		return k
	}
	// Only whitespace is left here. \s*[\r\n]+ ends after the run's last
	// CR or LF (bytes that never occur inside a multi-byte character).
	e := run(s, i, clsSpace)
	for k := e - 1; k >= i; k-- {
		if s[k] == '\r' || s[k] == '\n' {
			return k + 1
		}
	}
	return spaceTail(s, i)
}

// scanGPT2 returns the end of the GPT-2 pattern's match starting at i.
func scanGPT2(s string, i int) int {
	r, n, c := charAt(s, i)
	if r == '\'' {
		if m := contraction(s[i+1:], false); m > 0 {
			return i + 1 + m
		}
	}
	if c == clsSpace {
		// ' ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+' with the optional space
		if r == ' ' && i+1 < len(s) {
			if c2 := classAt(s, i+1); c2 != clsSpace {
				return run(s, i+1, c2)
			}
		}
		return spaceTail(s, i)
	}
	return run(s, i+n, c)
}
