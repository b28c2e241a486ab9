package record

import (
	"math"
	"testing"
)

// Every |d_k| falls in the bin whose edges hold it: above the one below's
// upper edge, at most its own; NaN and ±Inf are not counted.
func TestDHistogramBins(t *testing.T) {
	for _, a := range []float64{0, 1e-9, 1e-3, 1.0001e-3, 0.01, 0.5, 1, 2.2, 9.99, 10, 999, 1000, 1001, 1e12} {
		b := DBin(a)
		if a > DBinEdge(b) || (b > 0 && a <= DBinEdge(b-1)) {
			t.Errorf("|d| %g in bin %d, edges (%g, %g]", a, b, DBinEdge(b-1), DBinEdge(b))
		}
	}
	var h DHistogram
	h.Add([]float32{1, -1, float32(math.NaN()), float32(math.Inf(-1)), 2000})
	if h.N != 3 || h.Counts[DBin(1)] != 2 || h.Counts[DBins-1] != 1 {
		t.Errorf("histogram %+v", h)
	}
	if q, ok := h.Quantile(0.5); !ok || q != DBinEdge(DBin(1)) {
		t.Errorf("median edge %g (%v), want %g", q, ok, DBinEdge(DBin(1)))
	}
	if q, _ := h.Quantile(1); q != DMaxEdge {
		t.Errorf("the top bin's edge %g, want %g", q, DMaxEdge)
	}
	if _, ok := (&DHistogram{}).Quantile(0.99); ok {
		t.Error("an empty histogram has a quantile")
	}
}
