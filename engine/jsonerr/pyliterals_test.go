package jsonerr

import "testing"

func TestReplacePythonLiterals(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"a":1}`, `{"a":1}`},
		{`{"a":NaN}`, `{"a":N}`},
		{`[Infinity,-Infinity,NaN]`, `[P,M,N]`},
		{`{"a":-Infinity}`, `{"a":M}`},
		{`{"NaN":"Infinity"}`, `{"NaN":"Infinity"}`},                   // words in strings stay
		{`{"s":"a\"NaN\\","v":NaN}`, `{"s":"a\"NaN\\","v":N}`},         // escaped quotes and backslashes
		{`{"s":"\\\"-Infinity"} -Infinity`, `{"s":"\\\"-Infinity"} M`}, // an escaped backslash, then an escaped quote
		{"NaN\nInfinity\n", "N\nP\n"},                                  // lines kept
		{`NaNNaN`, `NN`},
	} {
		if got := string(ReplacePythonLiterals([]byte(c.in), "N", "P", "M")); got != c.want {
			t.Errorf("ReplacePythonLiterals(%s) = %s, want %s", c.in, got, c.want)
		}
	}
	same := []byte(`{"a":1.5}`)
	if got := ReplacePythonLiterals(same, "N", "P", "M"); &got[0] != &same[0] {
		t.Error("a line with no literal was copied")
	}
}
