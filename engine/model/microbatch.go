package model

import "fmt"

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
