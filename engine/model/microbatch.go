package model

import (
	"cmp"
	"fmt"
	"slices"
)

// MicroBatches splits rows of the given lengths, in order, into ranges
// [lo, hi) of consecutive rows that a right-padded batch holds within
// maxTokens positions ((hi−lo) × the longest length in the range) and at
// most maxRows rows. maxRows ≤ 0 or maxTokens ≤ 0 means no such limit.
// A row longer than maxTokens by itself is an error that names the
// numbers, under what (the configuration key) calls the budget.
func MicroBatches(lens []int, maxRows, maxTokens int, what string) ([][2]int, error) {
	var out [][2]int
	lo, longest := 0, 0
	for i, n := range lens {
		if maxTokens > 0 && n > maxTokens {
			return nil, fmt.Errorf("%s = %d is smaller than sequence %d of %d tokens: set it to at least %d (or 0 for no token limit)", what, maxTokens, i, n, n)
		}
		l := max(longest, n)
		if i > lo && ((maxRows > 0 && i-lo >= maxRows) || (maxTokens > 0 && (i-lo+1)*l > maxTokens)) {
			out = append(out, [2]int{lo, i})
			lo, l = i, n
		}
		longest = l
	}
	if lo < len(lens) {
		out = append(out, [2]int{lo, len(lens)})
	}
	return out, nil
}

// LengthGroups splits rows of the given lengths into forwards that cost
// the fewest positions in all, each at most maxRows rows and maxTokens
// padded positions (as MicroBatches; ≤ 0: no such limit): a forward costs
// its rows × its longest row (the positions its right-padded batch
// computes) and forward more (its fixed cost, in positions). Each group
// lists its rows' indexes in increasing order; the groups go longest
// first. Rows are taken longest first and a group is a run of them, so
// rows of about one length go together; the best runs are found exactly
// (n² steps for n rows, fewer under a budget). A row longer than
// maxTokens is MicroBatches' error.
func LengthGroups(lens []int, maxRows, maxTokens, forward int, what string) ([][]int, error) {
	for i, n := range lens {
		if maxTokens > 0 && n > maxTokens {
			return nil, fmt.Errorf("%s = %d is smaller than sequence %d of %d tokens: set it to at least %d (or 0 for no token limit)", what, maxTokens, i, n, n)
		}
	}
	order := make([]int, len(lens))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(lens[b], lens[a]) })
	// best[j] is the least cost of the first j rows of order, the last
	// group of which starts at from[j]; a group from i holds rows i..j−1,
	// padded to lens[order[i]], so widening it (i down) only adds rows and
	// length: past a limit, every wider group is past it too.
	best, from := make([]int, len(order)+1), make([]int, len(order)+1)
	for j := 1; j <= len(order); j++ {
		best[j] = -1
		for i := j - 1; i >= 0; i-- {
			rows, long := j-i, lens[order[i]]
			if i < j-1 && ((maxRows > 0 && rows > maxRows) || (maxTokens > 0 && rows*long > maxTokens)) {
				break
			}
			// Of equal costs the wider group: the fewer forwards.
			if c := best[i] + forward + rows*long; best[j] < 0 || c <= best[j] {
				best[j], from[j] = c, i
			}
		}
	}
	var groups [][]int
	for j := len(order); j > 0; j = from[j] {
		g := slices.Clone(order[from[j]:j])
		slices.Sort(g)
		groups = append(groups, g)
	}
	slices.Reverse(groups)
	return groups, nil
}
