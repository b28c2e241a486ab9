// Package decimals holds the one rule by which the workbench's packages
// write a number rounded to a fixed count of decimals, so that the Traces
// screen, the detail and a report's pages read alike.
package decimals

import (
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

// IsZero reports whether s, a number Fixed wrote, reads as zero.
func IsZero(s string) bool { return strings.Trim(s, "-0.") == "" }
