package hf

import (
	"math"
	"testing"
)

// PythonFloat is Python's repr() (float.__repr__, which json.dumps writes
// too), and pyFloat a config.json's float as Python's json writes it.
func TestPythonFloat(t *testing.T) {
	for _, c := range []struct {
		x          float64
		repr, json string
	}{
		{0, "0.0", "0.0"},
		{math.Copysign(0, -1), "-0.0", "-0.0"},
		{1, "1.0", "1.0"},
		{1e6, "1000000.0", "1000000.0"},
		{1234567.5, "1234567.5", "1234567.5"}, // not 1.2345675e+06
		{123456789012345.6, "123456789012345.6", "123456789012345.6"},
		{9999999999999998, "9999999999999998.0", "9999999999999998.0"}, // the last before 1e16
		{1e16, "1e+16", "1e+16"},
		{-2.5e20, "-2.5e+20", "-2.5e+20"},
		{0.0001, "0.0001", "0.0001"},
		{9.999999999999999e-05, "9.999999999999999e-05", "9.999999999999999e-05"}, // the last below 1e-4
		{1e-5, "1e-05", "1e-05"},
		{5e-324, "5e-324", "5e-324"},
		{math.MaxFloat64, "1.7976931348623157e+308", "1.7976931348623157e+308"},
		{1e-6, "1e-06", "1e-06"},
		{0.1, "0.1", "0.1"},
		{math.Inf(1), "inf", "null"},
		{math.Inf(-1), "-inf", "null"},
		{math.NaN(), "nan", "null"},
	} {
		if got := PythonFloat(c.x); got != c.repr {
			t.Errorf("PythonFloat(%v) = %s, want %s", c.x, got, c.repr)
		}
		if got := string(pyFloat(c.x)); got != c.json {
			t.Errorf("pyFloat(%v) = %s, want %s", c.x, got, c.json)
		}
	}
}
