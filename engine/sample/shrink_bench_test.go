package sample

import (
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/model"
)

// BenchmarkShrinkingBatch samples 64 sequences at the PyTorch peer's shape
// (engine/model's PeerConfig: 3 M parameters) that stop at different
// times (16 of 512 ids stop one), so the batch moves to smaller caches
// four times or so a call: what the shrink's copies and its caches' making
// cost beside the decode steps. tok/s counts the tokens sampled.
func BenchmarkShrinkingBatch(b *testing.B) {
	cfg := model.Config{Vocab: 512, Hidden: 256, Intermediate: 688, Layers: 4, Heads: 4, KVHeads: 2,
		RMSEps: 1e-6, RopeTheta: 1e6, MaxPos: 256, Tied: true, QKVBias: true}
	m, err := model.NewRandom(compute.NewCPU(), cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	g := NewGenerator(m)
	tp := compute.NewTape(m.Backend())
	lens := make([]int, 64)
	for i := range lens {
		lens[i] = 32
	}
	ps := randPrompts(3, lens...)
	for i := range ps {
		for j := range ps[i] {
			ps[i][j] %= int32(cfg.Vocab)
		}
	}
	opts := Options{Temperature: 1, MaxNewTokens: 96, Seed: 1, StopIDs: []int32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}}
	if _, err := g.Generate(tp, ps, opts); err != nil { // sizes caches and arenas
		b.Fatal(err)
	}
	tokens := 0
	b.ReportAllocs()
	b.ResetTimer()
	t0 := time.Now()
	for i := 0; i < b.N; i++ {
		opts.Seed = uint64(i)
		res, err := g.Generate(tp, ps, opts)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			tokens += len(r.IDs)
		}
	}
	b.ReportMetric(float64(tokens)/time.Since(t0).Seconds(), "tok/s")
	b.ReportMetric(float64(tokens)/float64(b.N), "tokens/op")
}
