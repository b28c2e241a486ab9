package jsonerr

import (
	"bytes"
	"fmt"
	"strconv"
)

// LoneSurrogate is the refusal of a JSON text holding an escape of half a
// UTF-16 surrogate pair without its other half (\udc00, or \ud83d not
// followed by a low half): no character. encoding/json reads it as U+FFFD,
// so a prompt, a data row's question or a line of rlt tokenize would be
// read as "�", a text other than the one written, where the Python tools
// refuse it (Python's json reads it into a str that cannot be encoded as
// UTF-8, "surrogates not allowed", which Hugging Face tokenizers and
// vLLM's tokenizing fail on). One checker (Surrogates) and one wording for
// every reader of user text: rlt tokenize, rlt logprobs, rlt serve's
// prompts and the data rows (record.ParseRow).
type LoneSurrogate struct {
	// Where names the value as its reader says it: `field "text"`,
	// `prompt[1]`.
	Where string
	// Escape is the escape as written (\udc00, \uD83D).
	Escape string
}

func (e *LoneSurrogate) Error() string {
	return fmt.Sprintf(`%s holds %s, half of a UTF-16 surrogate pair without its other half: no character, which Hugging Face tokenizers refuses (Python reads it but cannot encode it as UTF-8); write the character itself, or both halves of its pair (\ud83d\ude00 for U+1F600)`, e.Where, e.Escape)
}

// Surrogates refuses raw, a JSON value as written (a string, or a list or
// object of them: a backslash is in a string wherever it is in valid
// JSON), when it holds a lone surrogate escape, naming the first
// (*LoneSurrogate, of where); nil when it holds none. Costs little for a
// value without a \ud escape, every real one.
func Surrogates(where string, raw []byte) error {
	if !MayHoldSurrogate(raw) {
		return nil
	}
	half := func(i int) (uint64, bool) { // the \uXXXX escape at raw[i], if one
		if i+6 > len(raw) || raw[i] != '\\' || raw[i+1] != 'u' {
			return 0, false
		}
		v, err := strconv.ParseUint(string(raw[i+2:i+6]), 16, 16)
		return v, err == nil
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		v, ok := half(i)
		switch {
		case !ok:
			i++ // another escape (\\, \"): its character is no escape's start
			continue
		case v >= 0xD800 && v < 0xDC00:
			if w, ok := half(i + 6); ok && w >= 0xDC00 && w < 0xE000 {
				i += 11 // a pair: one character
				continue
			}
		case v < 0xDC00 || v >= 0xE000:
			i += 5
			continue
		}
		return &LoneSurrogate{Where: where, Escape: string(raw[i : i+6])}
	}
	return nil
}

// MayHoldSurrogate is the cheap test before Surrogates' reading: whether
// b holds a \ud escape (either case) at all, as every value that holds a
// lone surrogate does; false for all but a few real lines, which a
// reader of a whole line (rlt tokenize's) then need not decode twice.
// It looks at each backslash in place, copying nothing: it runs on every
// line and text field read, where a lowered copy of each (be166dd's
// bytes.ToLower) was an allocation of the line's size
// (BenchmarkMayHoldSurrogate).
func MayHoldSurrogate(b []byte) bool {
	for {
		i := bytes.IndexByte(b, '\\')
		if i < 0 || i+2 >= len(b) {
			return false
		}
		if b[i+1]|0x20 == 'u' && b[i+2]|0x20 == 'd' {
			return true
		}
		b = b[i+1:]
	}
}
