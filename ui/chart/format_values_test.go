package chart

import (
	"strings"
	"testing"
)

// TestFormatValuesPlainWhereTheyCan: a column of readings (the chart
// picker's) is written plainly to 4 significant digits, and only a value
// plain notation cannot write so (below 1e-3, from 1e15) in e-notation: a
// learning rate of 3e-06 put the whole column in it ("6.000e+01" for 60).
func TestFormatValuesPlainWhereTheyCan(t *testing.T) {
	for _, c := range []struct {
		vals []float64
		want string
	}{
		{[]float64{60, 3e-6, 0.2, -0.25}, "60.00 3.000e-06 0.2000 -0.2500"},
		{[]float64{2.5e15, 12346, 0.001, 0}, "2.500e+15 12.35k 0.001000 0"},
		{[]float64{52, 0.01}, "52.00 0.01000"},
		{nil, ""},
	} {
		if got := strings.Join(FormatValues(c.vals), " "); got != c.want {
			t.Errorf("FormatValues(%v) = %q, want %q", c.vals, got, c.want)
		}
	}
}
