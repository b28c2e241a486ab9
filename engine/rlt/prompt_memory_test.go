package rlt

import (
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/vulkan/vulkantest"
	"github.com/rlt-workbench/rlt/engine/device"
	"github.com/rlt-workbench/rlt/engine/memory"
	"github.com/rlt-workbench/rlt/engine/model"
)

// TestPromptLogProbsRanksWithinTheEstimate: prompt log-probs with ranks
// and top-k (rlt serve's, vLLM's prompt_logprobs) make the logits of every
// position a chunk of rows at a time (rankChunkFloats: 16 MiB, 128 rows
// at 32,768 tokens, 27 at Qwen's 151,936) beside the fused head's logits
// buffer, which a plain request leaves held; the device memory they hold
// at their peak stays within the estimate rlt serve checks before it loads
// (memory.Models of serveUse's forward, the head's forward chunk, the
// scratch bound). The chunk is covered by the forward's logits term
// (memory.Forward's head, 32 MiB here): without that term the estimate
// would be about 42 MiB less its runtime, where they hold about 57.
func TestPromptLogProbsRanksWithinTheEstimate(t *testing.T) {
	be := vulkantest.Backend(t)
	d := be.Device()
	cfg := model.Config{Vocab: 32768, Hidden: 64, Intermediate: 128, Layers: 1, Heads: 2, KVHeads: 1,
		RMSEps: 1e-6, RopeTheta: 1e4, MaxPos: 256, Tied: true}
	m, err := model.NewRandom(be, cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	m.InitRandom(1, 0.4)
	ms := NewModelSource(m, "wide")
	ms.MicroBatchTokens = 256
	seqs := make([][]int32, 4) // one forward of 256 positions, 252 rows of logits
	for i := range seqs {
		seqs[i] = make([]int32, 64)
		for j := range seqs[i] {
			seqs[i][j] = int32((i*7919 + j*104729) % cfg.Vocab)
		}
	}
	for _, opts := range []PromptOptions{{Next: true}, {Ranks: true, TopK: 5, Next: true, NextTopK: 5}} {
		if _, err := ms.PromptLogProbsBatch(seqs, 1, opts); err != nil {
			t.Fatal(err)
		}
	}
	if err := be.Err(); err != nil {
		t.Fatal(err)
	}
	_, peak := d.MemoryUse()
	where := device.MemoryIn(be)
	// rlt serve --micro-batch-tokens 256 on this model (serveUse).
	u := memory.Use{Name: "model", Cfg: cfg, Held: compute.F32, ForwardRows: 256, ForwardT: cfg.MaxPos}
	e := memory.Models{Uses: []memory.Use{u}, DeviceHead: where.HeadForwardBytes, DeviceScratch: where.Scratch}.Estimate()
	if bound := e.Total() - memory.Runtime; int64(peak) > bound {
		t.Fatalf("prompt log-probs with ranks held %d bytes of device memory at their peak, the estimate less its runtime %d: %v", peak, bound, e)
	}
	t.Logf("device peak %.1f MiB; estimate %v", float64(peak)/(1<<20), e)
}
