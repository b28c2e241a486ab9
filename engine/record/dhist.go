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

// dEdges are the bins' upper edges (DBinEdge), computed once: a run's
// every d_k is binned as it is read.
var dEdges = func() (e [DBins]float64) {
	for b := range e {
		e[b] = math.Inf(1)
		if b < DBins-1 {
			e[b] = math.Pow(10, dBinLo+float64(b)/dBinsPerDecade)
		}
	}
	return e
}()

// DBin is the bin of |d| = a: the first whose upper edge is at least a.
func DBin(a float64) int {
	lo, hi := 0, DBins-1
	for lo < hi {
		mid := (lo + hi) / 2
		if a <= dEdges[mid] {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// DBinEdge is the upper edge of bin b: +Inf for the last.
func DBinEdge(b int) float64 { return dEdges[min(max(b, 0), DBins-1)] }

// DMaxEdge is the largest finite bin edge (10^dBinHi).
var DMaxEdge = dEdges[DBins-2]

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
