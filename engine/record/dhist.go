package record

import "math"

// Log-spaced bins of |d_k|: dBinsPerDecade per decade from 10^dBinLo to
// 10^dBinHi; below goes to bin 0, above to the last.
const (
	dBinsPerDecade = 8
	dBinLo, dBinHi = -3, 3
	// DBins is the number of bins of a DHistogram.
	DBins = dBinsPerDecade*(dBinHi-dBinLo) + 2
)

// DHistogram counts the finite |d_k| of a set of explanations (a run's
// traces) in log-spaced bins. It is what a run's d_k colour scale is read
// from (ui/heatmap), and small enough for the run's store to keep up to
// date as traces arrive while their per-token arrays stay on disk. The zero
// value is empty.
type DHistogram struct {
	Counts [DBins]int64
	N      int64
}

// DBin is the bin of |d| = a.
func DBin(a float64) int {
	if a <= math.Pow(10, dBinLo) {
		return 0
	}
	b := int(math.Ceil((math.Log10(a) - dBinLo) * dBinsPerDecade))
	return min(max(b, 1), DBins-1)
}

// DBinEdge is the upper edge of bin b: +Inf for the last.
func DBinEdge(b int) float64 {
	if b >= DBins-1 {
		return math.Inf(1)
	}
	return math.Pow(10, dBinLo+float64(b)/dBinsPerDecade)
}

// DMaxEdge is the largest finite bin edge (10^3).
const DMaxEdge = 1e3

// Add counts the finite values of d.
func (h *DHistogram) Add(d []float32) {
	for _, v := range d {
		a := math.Abs(float64(v))
		if math.IsNaN(a) || math.IsInf(a, 0) {
			continue
		}
		h.Counts[DBin(a)]++
		h.N++
	}
}

// Quantile is the upper edge of the bin that holds the q-quantile of the
// counted |d_k| (DMaxEdge for the last, unbounded bin); ok is false when
// nothing was counted.
func (h *DHistogram) Quantile(q float64) (edge float64, ok bool) {
	if h.N == 0 {
		return 0, false
	}
	want := int64(math.Ceil(q * float64(h.N)))
	var c int64
	for b, k := range h.Counts {
		c += k
		if c >= want {
			return min(DBinEdge(b), DMaxEdge), true
		}
	}
	return DMaxEdge, true
}
