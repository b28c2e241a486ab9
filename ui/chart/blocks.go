package chart

import "sort"

// blockSize is how many points one entry of a Blocks summary covers.
const blockSize = 16

// Blocks summarises a slice of values by the minimum and maximum of each
// run of blockSize points, so that the extremes of a long range cost a
// sixteenth of a scan. It follows a slice that grows at its end (Sync
// extends it); Reset makes the next Sync start over, for a slice changed
// in the middle.
type Blocks struct {
	mn, mx []float64
	n      int // values summarised
}

// Reset forgets the summary.
func (b *Blocks) Reset() { b.mn, b.mx, b.n = b.mn[:0], b.mx[:0], 0 }

// Truncate forgets the values from index n on (the first n are kept and
// unchanged), so that the next Sync redoes only the rest.
func (b *Blocks) Truncate(n int) {
	if n < b.n {
		b.n = max(n, 0)
	}
}

// Sync brings the summary up to date with vals, which must equal the
// values summarised so far followed by new ones (else Reset first).
func (b *Blocks) Sync(vals []float64) {
	if len(vals) < b.n {
		b.Reset()
	}
	if b.n == len(vals) {
		return
	}
	// Redo the last, partial block and add the new ones.
	first := b.n / blockSize
	b.mn, b.mx = b.mn[:first], b.mx[:first]
	for s := first * blockSize; s < len(vals); s += blockSize {
		e := min(s+blockSize, len(vals))
		mn, mx := vals[s], vals[s]
		for _, v := range vals[s+1 : e] {
			mn, mx = min(mn, v), max(mx, v)
		}
		b.mn, b.mx = append(b.mn, mn), append(b.mx, mx)
	}
	b.n = len(vals)
}

// minMax returns the extremes of vals[i:j] (i < j) using the summary of
// vals (synced; nil: a plain scan).
func minMax(vals []float64, b *Blocks, i, j int) (mn, mx float64) {
	mn, mx = vals[i], vals[i]
	if b == nil || b.n < j || j-i < 2*blockSize {
		for _, v := range vals[i+1 : j] {
			mn, mx = min(mn, v), max(mx, v)
		}
		return mn, mx
	}
	bi, bj := (i+blockSize-1)/blockSize, j/blockSize // whole blocks [bi, bj)
	for _, v := range vals[i : bi*blockSize] {
		mn, mx = min(mn, v), max(mx, v)
	}
	for k := bi; k < bj; k++ {
		mn, mx = min(mn, b.mn[k]), max(mx, b.mx[k])
	}
	for _, v := range vals[bj*blockSize : j] {
		mn, mx = min(mn, v), max(mx, v)
	}
	return mn, mx
}

// DownsampleBlocks is Downsample with a summary of vals (see Blocks),
// for long series: the same columns, found by binary search and block
// extremes rather than a scan of every point.
func DownsampleBlocks(steps []int64, vals []float64, b *Blocks, lo, hi int64, cols int, dst []Column) []Column {
	return downsample(steps, vals, b, lo, hi, cols, dst)
}

// searchFrom is the first index in [k, j) whose step is ≥ bound (j if
// none).
func searchFrom(steps []int64, k, j int, bound int64) int {
	return k + sort.Search(j-k, func(i int) bool { return steps[k+i] >= bound })
}
