package rlt

import (
	"runtime"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/model"
)

// TestRanksOnTheCPUCopyNoLogits: prompt log-probs with ranks and top-k
// (rlt serve's prompt_logprobs) take each chunk of logits where the CPU
// made them: they were read into a copy as a GPU's are, so the CPU held
// every chunk twice (16 MiB more, rankChunkFloats, than the estimate's
// logits term counts; a GPU run's host copy is the read-back it needs).
// Counted by the bytes a request allocates once the tape is made (the
// first request makes it): under one chunk now, a chunk and more before.
func TestRanksOnTheCPUCopyNoLogits(t *testing.T) {
	cfg := model.Config{Vocab: 32768, Hidden: 64, Intermediate: 128, Layers: 1, Heads: 2, KVHeads: 1,
		RMSEps: 1e-6, RopeTheta: 1e4, MaxPos: 256, Tied: true}
	m, err := model.NewRandom(compute.NewCPU(), cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	m.InitRandom(1, 0.4)
	ms := NewModelSource(m, "wide")
	ms.MicroBatchTokens = 256
	seqs := make([][]int32, 4) // 252 rows of logits: two chunks of 128 rows, 16 MiB each
	for i := range seqs {
		seqs[i] = make([]int32, 64)
		for j := range seqs[i] {
			seqs[i][j] = int32((i*7919 + j*104729) % cfg.Vocab)
		}
	}
	opts := PromptOptions{Ranks: true, TopK: 5, Next: true, NextTopK: 5}
	want, err := ms.PromptLogProbsBatch(seqs, 1, opts)
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got, err := ms.PromptLogProbsBatch(seqs, 1, opts)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	chunk := uint64(rankChunkFloats) * 4
	if n := after.TotalAlloc - before.TotalAlloc; n >= chunk {
		t.Errorf("a request allocated %d bytes: want under a chunk of logits, %d (no copy of them)", n, chunk)
	} else {
		t.Logf("a request allocated %d bytes", n)
	}
	for i := range got {
		for j, r := range got[i].Ranks {
			if r != want[i].Ranks[j] || got[i].LogProbs[j] != want[i].LogProbs[j] {
				t.Fatalf("prompt %d, position %d: rank %d, log-prob %v, where the first request said %d, %v", i, j, r, got[i].LogProbs[j], want[i].Ranks[j], want[i].LogProbs[j])
			}
		}
	}
}
