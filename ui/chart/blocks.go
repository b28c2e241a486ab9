package chart

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
		mn, mx := scan(vals[s:e])
		b.mn, b.mx = append(b.mn, mn), append(b.mx, mx)
	}
	b.n = len(vals)
}

// minMax returns the extremes of vals[i:j] (i < j) using the summary of
// vals (synced; nil: a plain scan).
func minMax(vals []float64, b *Blocks, i, j int) (mn, mx float64) {
	if b == nil || b.n < j || j-i < 2*blockSize {
		return scan(vals[i:j])
	}
	bi, bj := (i+blockSize-1)/blockSize, j/blockSize // whole blocks [bi, bj)
	mn, mx = vals[i], vals[i]
	for _, v := range vals[i : bi*blockSize] {
		mn, mx = lower(mn, v), higher(mx, v)
	}
	for k, lo := range b.mn[bi:bj] {
		mn, mx = lower(mn, lo), higher(mx, b.mx[bi+k])
	}
	for _, v := range vals[bj*blockSize : j] {
		mn, mx = lower(mn, v), higher(mx, v)
	}
	return mn, mx
}

// scan is the extremes of vals (not empty). Plain comparisons: the
// values are finite, so the builtins' NaN and signed-zero rules, which
// cost a frame a third of its time, are not needed; a NaN (a band's edge
// before its first spread) is passed over unless it comes first, as
// before.
func scan(vals []float64) (mn, mx float64) {
	mn, mx = vals[0], vals[0]
	for _, v := range vals[1:] {
		mn, mx = lower(mn, v), higher(mx, v)
	}
	return mn, mx
}

func lower(a, b float64) float64 {
	if b < a {
		return b
	}
	return a
}

func higher(a, b float64) float64 {
	if b > a {
		return b
	}
	return a
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
	if k >= j {
		return j
	}
	// Steps are mostly consecutive: try the index that would give, then
	// search (no closure: a frame does this for every dot column).
	if g := k + int(bound-steps[k]); g > k && g <= j && steps[g-1] < bound && (g == j || steps[g] >= bound) {
		return g
	}
	lo, hi := k, j
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if steps[h] < bound {
			lo = h + 1
		} else {
			hi = h
		}
	}
	return lo
}
