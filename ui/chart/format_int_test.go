package chart

import (
	"math"
	"testing"
)

// TestFormatValueInt: a step is written compactly with an SI prefix up
// to T, and from 1e15 (past 999.99T) in e-notation to 3 significant
// digits, as a legend's values switch at 1e15; MaxInt64 read
// "9223372.04T" (seven digits before a prefix), MinInt64, whose
// negation overflows, its 20 digits whole, and 999995 "1000k".
func TestFormatValueInt(t *testing.T) {
	for _, c := range []struct {
		v    int64
		want string
	}{
		{0, "0"},
		{950, "950"},
		{-9999, "-9999"},
		{10000, "10k"},
		{12345, "12.35k"},
		{1500000, "1.5M"},
		{-1500000, "-1.5M"},
		{999_995, "1M"}, // not "1000k"
		{-999_995_000, "-1G"},
		{999_990_000_000_000, "999.99T"},
		{999_995_000_000_000, "1.00e+15"}, // not "1000T"
		{1_000_000_000_000_000, "1.00e+15"},
		{math.MaxInt64, "9.22e+18"},
		{math.MinInt64, "-9.22e+18"},
		{math.MinInt64 + 1, "-9.22e+18"},
	} {
		if got := FormatValueInt(c.v); got != c.want {
			t.Errorf("FormatValueInt(%d) = %q, want %q", c.v, got, c.want)
		}
	}
}
