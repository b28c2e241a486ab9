package decimals

import (
	"math"
	"testing"
)

// TestFixedHasNoNegativeZero: a value that rounds to zero at the decimals
// shown is written without a sign; one that does not keeps it.
func TestFixedHasNoNegativeZero(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		d    int
		want string
	}{
		{-1e-5, 3, "0.000"}, // an r_SS of about -1e-5
		{-2.775557561562068e-13, 2, "0.00"},
		{math.Copysign(0, -1), 3, "0.000"},
		{-0.3, 0, "0"},
		{0, 1, "0.0"},
		{1e-5, 3, "0.000"},
		{-0.0005, 3, "-0.001"}, // rounds away from zero: keeps its sign
		{-0.0004999, 3, "0.000"},
		{-7.357, 3, "-7.357"},
		{0.1, 3, "0.100"},
		{-100, 2, "-100.00"},
	} {
		if got := Fixed(tc.v, tc.d); got != tc.want {
			t.Errorf("Fixed(%g, %d) = %q, want %q", tc.v, tc.d, got, tc.want)
		}
	}
}

// TestSignificant: a value to n significant digits, its exponent after
// rounding, and float64's largest cut toward zero where rounding reads
// +Inf.
func TestSignificant(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		n    int
		want string
	}{
		{7.7e-4, 4, "7.700e-04"},
		{-0.0047915, 3, "-4.79e-03"},
		{9.9996, 4, "1.000e+01"},
		{1e308, 3, "1.00e+308"},
		{math.MaxFloat64, 4, "1.797e+308"},
		{-math.MaxFloat64, 3, "-1.79e+308"},
		{5e-324, 2, "4.9e-324"},
		{3, 1, "3e+00"},
	} {
		if got := Exponent(tc.v, tc.n); got != tc.want {
			t.Errorf("Exponent(%g, %d) = %q, want %q", tc.v, tc.n, got, tc.want)
		}
	}
	if neg, d, e := Significant(-1234.5, 3); !neg || d != "123" || e != 3 {
		t.Errorf("Significant(-1234.5, 3) = %v %q %d, want true \"123\" 3", neg, d, e)
	}
}

// TestSigned: a value above zero reads "+", one below "-", and one that
// rounds to zero at the decimals shown neither.
func TestSigned(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		d    int
		want string
	}{
		{0.123456, 4, "+0.1235"},
		{-0.123456, 4, "-0.1235"},
		{3, 4, "+3.0000"},
		{1.2345e-5, 4, "0.0000"},
		{-1.2345e-5, 4, "0.0000"},
		{0, 4, "0.0000"},
		{math.Copysign(0, -1), 2, "0.00"},
		{0.00005, 4, "+0.0001"},  // rounds away from zero: keeps its sign
		{math.Inf(1), 4, "+Inf"}, // one sign: "++Inf" was written
		{math.Inf(-1), 4, "-Inf"},
	} {
		if got := Signed(tc.v, tc.d); got != tc.want {
			t.Errorf("Signed(%g, %d) = %q, want %q", tc.v, tc.d, got, tc.want)
		}
	}
}
