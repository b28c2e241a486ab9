package jsonerr

import (
	"strings"
	"testing"
)

// TestSurrogates: the one checker of lone UTF-16 surrogate escapes finds
// the first escape of half a pair without its other half, in a string or
// in a list or object of them, in either case of hex; a whole pair, an
// escaped backslash before "ud..", and other escapes are text.
// MayHoldSurrogate, its cheap test, is true wherever it finds one.
func TestSurrogates(t *testing.T) {
	for _, c := range []struct{ raw, want string }{
		{`"a\udc00b"`, `\udc00`},
		{`"1+1\uD83D"`, `\uD83D`},
		{`"\ud83d\u0041"`, `\ud83d`},
		{`"\ud83d\ude00\udc00"`, `\udc00`},
		{`"\ud83d\ud83d\ude00"`, `\ud83d`},
		{`["ok", {"k": "\\\udfff"}]`, `\udfff`},
		{`"\ud83d\ude00"`, ""},
		{`"\uD83D\uDE00"`, ""},
		{`"\\udc00 \u00e9 \n \" \\"`, ""},
		{`"\\\\udc00"`, ""},
		{`"plain text, no escape"`, ""},
		{`[1, 2, 3]`, ""},
		{``, ""},
	} {
		err := Surrogates(`field "text"`, []byte(c.raw))
		var got string
		if ls, ok := err.(*LoneSurrogate); ok {
			got = ls.Escape
			if want := `field "text" holds ` + c.want + `, half of a UTF-16 surrogate pair`; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("%s: %v; want it to start %s", c.raw, err, want)
			}
		} else if err != nil {
			t.Errorf("%s: %T %v", c.raw, err, err)
		}
		if got != c.want {
			t.Errorf("%s: found %q, want %q", c.raw, got, c.want)
		}
		if c.want != "" && !MayHoldSurrogate([]byte(c.raw)) {
			t.Errorf("%s: MayHoldSurrogate false where one is", c.raw)
		}
	}
	for _, c := range []struct {
		b    string
		want bool
	}{
		{`\ud`, true}, {`\uD`, true}, {`x\\ud`, true}, {`\u00e9 \ud8`, true},
		{`\u`, false}, {`\ue`, false}, {`\\`, false}, {`ud`, false}, {`\n\t\"`, false}, {``, false}, {`\`, false},
	} {
		if got := MayHoldSurrogate([]byte(c.b)); got != c.want {
			t.Errorf("MayHoldSurrogate(%s) = %v, want %v", c.b, got, c.want)
		}
	}
}

// BenchmarkMayHoldSurrogate is the cost of the cheap test on lines that
// hold no \ud escape, every real line: a line of rlt tokenize's stdin,
// and a data row of a 4 KiB trace with other escapes (\n, \", \u00e9).
// It is run on every line and every text field a reader reads, so it
// should copy nothing (0 allocs/op).
func BenchmarkMayHoldSurrogate(b *testing.B) {
	for _, c := range []struct{ name, line string }{
		{"tokenize line", `{"text": "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?"}`},
		{"data row 4KiB", `{"question": "3x+5=20, x=?", "solution": "5", "reasoning_trace": "` + strings.Repeat(`Subtract 5 from both sides:\n \"3x = 15\", then divide by 3 \u00e9. `, 64) + `"}`},
	} {
		line := []byte(c.line)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(line)))
			for range b.N {
				if MayHoldSurrogate(line) {
					b.Fatal("a \\ud escape found where none is")
				}
			}
		})
	}
}
