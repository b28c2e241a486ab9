// Package decimals holds the rules by which the workbench's packages
// write a number rounded to a fixed count of decimals (Fixed), so that the
// Traces screen, the detail and a report's pages read alike, or of
// significant digits (Significant), so that a chart's legend and a
// heatmap's scale read alike.
package decimals

import (
	"math"
	"strconv"
	"strings"
)

// Fixed writes v with d decimals, and a value that rounds to zero at d
// decimals as zero without a sign: an r_SS of -1e-5 is "0.000", never
// "-0.000", and negative zero is "0.000" too. A sign on a zero said the
// value was below zero where what is shown says it is not; a value that
// does not round to zero keeps its sign ("-0.001"). NaN and ±Inf are the
// caller's to say (each package has its own mark for no value).
func Fixed(v float64, d int) string {
	s := strconv.FormatFloat(v, 'f', d, 64)
	if s[0] == '-' && IsZero(s) {
		return s[1:]
	}
	return s
}

// Signed is Fixed with an explicit sign: "+" before a value above zero,
// as "-" stands before one below, but for a value that rounds to zero at
// d decimals, which has none ("0.0000", never "+0.0000"). A signed
// quantity (a token's d_k, an advantage) reads its side of zero alike on
// the Detail screen and in the HTML report.
func Signed(v float64, d int) string {
	s := Fixed(v, d)
	// +Inf is "+Inf" already (FormatFloat): "++Inf" in a report's title.
	if v > 0 && !math.IsInf(v, 1) && !IsZero(s) {
		return "+" + s
	}
	return s
}

// IsZero reports whether s, a number Fixed wrote, reads as zero.
func IsZero(s string) bool { return strings.Trim(s, "-0.") == "" }

// Significant is v (finite, not zero) rounded to n significant digits
// (n ≥ 1): its sign, those n digits and the power of ten of the first
// ("-1234.5", 3: true, "123", 3). A value that rounds past float64's
// range is cut toward zero instead: MaxFloat64 to 4 digits is 1.798e+308,
// which reads +Inf, and is said 1.797e+308.
func Significant(v float64, n int) (neg bool, digits string, exp int) {
	s := strconv.FormatFloat(v, 'e', n-1, 64)
	if f, _ := strconv.ParseFloat(s, 64); math.IsInf(f, 0) {
		s = strconv.FormatFloat(v, 'e', 16, 64)
		i := strings.IndexByte(s, '.')
		s = s[:i+n] + s[strings.IndexByte(s, 'e'):]
	}
	neg = s[0] == '-'
	s = strings.TrimPrefix(s, "-")
	mant, ex, _ := strings.Cut(s, "e")
	exp, _ = strconv.Atoi(ex)
	return neg, strings.Replace(mant, ".", "", 1), exp
}

// Exponent writes v (finite, not zero) in e-notation to n significant
// digits ("7.700e-04"), cut toward zero where rounding reads ±Inf.
func Exponent(v float64, n int) string {
	neg, d, e := Significant(v, n)
	s := d[:1]
	if len(d) > 1 {
		s += "." + d[1:]
	}
	if neg {
		s = "-" + s
	}
	es := "e+"
	if e < 0 {
		es, e = "e-", -e
	}
	if e < 10 {
		es += "0"
	}
	return s + es + strconv.Itoa(e)
}
