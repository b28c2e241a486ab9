package jsonerr

import (
	"encoding/json"
	"testing"
)

func TestNumberLen(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{
		{"", 0},
		{"-", 0},
		{"x1", 0},
		{".5", 0},
		{"+1", 0},
		{"0", 1},
		{"-0", 2},
		{"01", 1}, // a leading zero ends the integer part
		{"12", 2},
		{"12abc", 2},
		{"1.", 1},   // no digit after the point: not part of the number
		{"1.e5", 1}, // nor is the exponent after it
		{"1.25", 4},
		{"1e", 1},
		{"1e+", 1},
		{"1E-7", 4},
		{"-0.5e+3x", 7},
		{"3.0e10,", 6},
		{"9999999999999999999999", 22},
	} {
		got := NumberLen([]byte(c.in))
		if got != c.want {
			t.Errorf("NumberLen(%q) = %d, want %d", c.in, got, c.want)
		}
		// A whole number by NumberLen is one by encoding/json too.
		whole := got > 0 && got == len(c.in)
		var v json.Number
		if jsonWhole := json.Unmarshal([]byte(c.in), &v) == nil && c.in != "" && c.in[0] != '"'; whole != jsonWhole {
			t.Errorf("%q: a whole number by NumberLen %v, by encoding/json %v", c.in, whole, jsonWhole)
		}
	}
}
