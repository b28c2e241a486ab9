package tokenizer

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// AddedToken is a token that is split out of the text before the model
// sees it (chat markers, the RLT tags when a vocabulary adds them, …), with
// the flags Hugging Face gives it.
type AddedToken struct {
	ID      int32
	Content string
	// Special tokens are the ones a decoder may skip; they are matched like
	// the others.
	Special bool
	// SingleWord: only matched when no word character (\w) touches it.
	SingleWord bool
	// LStrip / RStrip: the whitespace on that side is swallowed by the token.
	LStrip, RStrip bool
	// Normalized: matched against the normalised text (with its content
	// normalised too) rather than the raw text.
	Normalized bool
}

// span is a piece of text [start,end), or an added token when id >= 0.
type span struct {
	start, end int
	id         int32
}

type matchTok struct {
	pat                    string
	id                     int32
	single, lstrip, rstrip bool
}

// matcher finds added tokens leftmost-longest, non-overlapping, as the
// Aho-Corasick automaton Hugging Face builds does.
type matcher struct {
	toks    []matchTok
	byFirst [256][]int32 // candidates by first byte, longest first
	// only is the first byte of every pattern when they all share one
	// (then strings.IndexByte finds candidates), else -1.
	only int
}

func newMatcher(toks []matchTok) *matcher {
	m := &matcher{toks: toks, only: -1}
	first := -1
	for i, t := range toks {
		b := int(t.pat[0])
		m.byFirst[b] = append(m.byFirst[b], int32(i))
		if first == -1 {
			first = b
		} else if first != b {
			first = -2
		}
	}
	if first >= 0 {
		m.only = first
	}
	for b := range m.byFirst {
		c := m.byFirst[b]
		sort.SliceStable(c, func(x, y int) bool { return len(toks[c[x]].pat) > len(toks[c[y]].pat) })
	}
	return m
}

// find returns the leftmost-longest match at or after from.
func (m *matcher) find(s string, from int) (start, end int, k int32, ok bool) {
	for i := from; i < len(s); i++ {
		if m.only >= 0 {
			j := strings.IndexByte(s[i:], byte(m.only))
			if j < 0 {
				return 0, 0, 0, false
			}
			i += j
		}
		for _, c := range m.byFirst[s[i]] {
			if p := m.toks[c].pat; strings.HasPrefix(s[i:], p) {
				return i, i + len(p), c, true
			}
		}
	}
	return 0, 0, 0, false
}

// split cuts s into text pieces and added tokens, appending to out, with
// Hugging Face's handling of single_word, lstrip and rstrip: a match that
// is not a single word is dropped (and the search goes on after it), lstrip
// takes the whitespace before the token unless an earlier token already
// took it, rstrip the whitespace after it.
func (m *matcher) split(s string, out []span) []span {
	if m == nil || len(m.toks) == 0 {
		return append(out, span{0, len(s), -1})
	}
	offset := 0
	from := 0
	for {
		start, stop, k, ok := m.find(s, from)
		if !ok {
			break
		}
		from = stop
		t := &m.toks[k]
		if t.single && ((start > 0 && endsWithWord(s[:start])) || (stop < len(s) && startsWithWord(s[stop:]))) {
			continue
		}
		if t.lstrip {
			start = max(trailingSpace(s[:start]), offset)
		}
		if t.rstrip {
			stop += leadingSpace(s[stop:])
		}
		if offset < start {
			out = append(out, span{offset, start, -1})
		}
		out = append(out, span{start, stop, t.id})
		offset = stop
	}
	if offset < len(s) {
		out = append(out, span{offset, len(s), -1})
	}
	return out
}

// isWordChar is the regex class \w in its Unicode form (Alphabetic, marks,
// decimal digits, connector punctuation, join controls).
func isWordChar(r rune) bool {
	if r < utf8.RuneSelf {
		return r == '_' || asciiClass[r] == clsLetter || asciiClass[r] == clsNumber
	}
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.In(r, unicode.Nd, unicode.Nl, unicode.Pc,
		unicode.Other_Alphabetic, unicode.Join_Control)
}

func endsWithWord(s string) bool {
	r, n := utf8.DecodeLastRuneInString(s)
	return n > 0 && !(r == utf8.RuneError && n == 1) && isWordChar(r)
}

func startsWithWord(s string) bool {
	r, n := utf8.DecodeRuneInString(s)
	return n > 0 && !(r == utf8.RuneError && n == 1) && isWordChar(r)
}

// trailingSpace returns where the whitespace at the end of s begins.
func trailingSpace(s string) int {
	for len(s) > 0 {
		r, n := utf8.DecodeLastRuneInString(s)
		if n == 1 && r == utf8.RuneError || !unicode.IsSpace(r) {
			break
		}
		s = s[:len(s)-n]
	}
	return len(s)
}

// leadingSpace returns the length of the whitespace at the start of s.
func leadingSpace(s string) int {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if n == 1 && r == utf8.RuneError || !unicode.IsSpace(r) {
			break
		}
		i += n
	}
	return i
}
