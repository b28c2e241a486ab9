package hf

import (
	"math"
	"strconv"
	"strings"
)

// PythonFloat is Python's repr() of a float, which its json module writes
// too (a checkpoint's config.json, a server's answer): the shortest digits
// that read back as it, with ".0" when whole, in exponent form from 1e16
// and below 1e-4 (at least two exponent digits: 1e+16, 1.5e-05), and
// inf, -inf and nan for the others (which JSON has no word for).
func PythonFloat(x float64) string {
	switch {
	case math.IsInf(x, 1):
		return "inf"
	case math.IsInf(x, -1):
		return "-inf"
	case math.IsNaN(x):
		return "nan"
	}
	if a := math.Abs(x); a != 0 && (a >= 1e16 || a < 1e-4) {
		return strconv.FormatFloat(x, 'e', -1, 64)
	}
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}
