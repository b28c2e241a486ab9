package jsonerr

import "bytes"

// ReplacePythonLiterals is b, JSON as Python's json module writes it, with
// its bare NaN, Infinity and -Infinity (outside strings: a string's
// contents are left alone, escapes included) put as nan, posInf and negInf.
// b itself is returned when it holds no such word anywhere. The one
// scanner of those literals for the readers that take Python's JSON: the
// data and traces rows (engine/record: each a number) and a trainer's
// metrics (sessions: each a value it tells apart).
func ReplacePythonLiterals(b []byte, nan, posInf, negInf string) []byte {
	if !bytes.Contains(b, []byte("NaN")) && !bytes.Contains(b, []byte("Infinity")) {
		return b
	}
	out := make([]byte, 0, len(b)+64)
	inString, escaped := false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			out = append(out, c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		put, word := "", ""
		switch {
		case c == '"':
			inString = true
		case bytes.HasPrefix(b[i:], []byte("NaN")):
			put, word = nan, "NaN"
		case bytes.HasPrefix(b[i:], []byte("Infinity")):
			put, word = posInf, "Infinity"
		case bytes.HasPrefix(b[i:], []byte("-Infinity")):
			put, word = negInf, "-Infinity"
		}
		if word != "" {
			out = append(out, put...)
			i += len(word) - 1
			continue
		}
		out = append(out, c)
	}
	return out
}
