package rlt

import (
	"reflect"
	"strings"
	"testing"
)

// TestPromptLogProbsBatch: each sequence of a batch gets the scores it
// gets alone, bit for bit, however the batch is split into forwards and
// its logits into chunks; a sequence the batch refuses is named by its
// index.
func TestPromptLogProbsBatch(t *testing.T) {
	ms := NewModelSource(tinyPolicy(t, 3), "tiny")
	seqs := [][]int32{{1, 2, 3, 4, 5, 6, 7}, {9}, {4, 4, 8, 15, 16, 23 % 23, 42 % 23, 3, 2, 1, 0, 5, 7}, {11, 12}, {6, 5, 4, 3, 2, 1, 0}}
	opts := PromptOptions{Next: true, Ranks: true, TopK: 4, NextTopK: 3}
	for _, c := range []struct{ mbTokens, chunkRows int }{{0, 0}, {8192, 0}, {14, 5}, {1, 1}} {
		ms.MicroBatchTokens, ms.RankChunkRows = c.mbTokens, c.chunkRows
		got, err := ms.PromptLogProbsBatch(seqs, 0.7, opts)
		if err != nil {
			t.Fatal(err)
		}
		for i, q := range seqs {
			alone, err := ms.PromptLogProbs(q, 0.7, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got[i], alone) {
				t.Errorf("micro-batch tokens %d, chunk rows %d: sequence %d\nin the batch %+v\nalone        %+v", c.mbTokens, c.chunkRows, i, got[i], alone)
			}
		}
	}
	for _, c := range []struct {
		seqs [][]int32
		opts PromptOptions
		want string
	}{
		{[][]int32{{1, 2}, {}}, opts, "tiny: prompt 1: empty prompt"},
		{[][]int32{{1, 2}, {3}, {4, 23}}, opts, "tiny: prompt 2: token 23 at position 1 is outside the vocabulary of 23"},
		{[][]int32{{4, 23}}, opts, "tiny: token 23 at position 1 is outside the vocabulary of 23"},
		{[][]int32{{1, 2}, make([]int32, 33)}, opts, "tiny: prompt 1: 33 tokens do not fit the model's 32 positions"},
		{[][]int32{{1, 2}}, PromptOptions{TopK: -1}, "top-k -1, 0 must not be negative"},
	} {
		_, err := ms.PromptLogProbsBatch(c.seqs, 1, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.seqs, err, c.want)
		}
	}
}
