package rlt

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestTopK: both of topK's ways (insertion up to topInsertMax, a sort
// past it) give the k highest logits, most likely first and equal logits
// by lower id, as a sort of the whole row does.
func TestTopK(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	z := make([]float32, 500)
	for i := range z {
		z[i] = float32(rng.IntN(40)) / 4 // many ties
	}
	want := make([]int32, len(z))
	for i := range want {
		want[i] = int32(i)
	}
	slices.SortStableFunc(want, func(a, b int32) int { return cmp.Compare(z[b], z[a]) })
	lse := logSumExp(z, 1)
	for _, k := range []int{1, 7, topInsertMax, topInsertMax + 1, 300, len(z), len(z) + 5} {
		ids, lps := topK(z, k, 1, lse)
		n := min(k, len(z))
		if !slices.Equal(ids, want[:n]) {
			t.Errorf("k %d: ids %v, want %v", k, ids[:min(8, len(ids))], want[:min(8, n)])
		}
		if len(lps) != n || lps[0] != float32(float64(z[want[0]])-lse) {
			t.Errorf("k %d: %d log-probs, the first %v", k, len(lps), lps[0])
		}
	}
}
