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
