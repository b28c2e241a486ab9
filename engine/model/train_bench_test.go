package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/allocstest"
)

// PeerConfig is the PyTorch peer's default shape (../shared/bench/torch_ref.py).
var PeerConfig = Config{
	Vocab: 512, Hidden: 256, Intermediate: 688, Layers: 4, Heads: 4, KVHeads: 2,
	RMSEps: 1e-6, RopeTheta: 1e6, MaxPos: 256, Tied: true, QKVBias: true,
}

// trainer runs the peer's step: forward, cross-entropy, backward, AdamW.
type trainer struct {
	be      compute.Backend
	m       *Model
	tp      *compute.Tape
	opt     *compute.AdamW
	batch   *Batch
	targets []int32
	seed    []float32
}

func newTrainer(tb testing.TB, cfg Config, B, T int) *trainer {
	return newTrainerOn(tb, compute.NewCPU(), cfg, B, T)
}

func newTrainerOn(tb testing.TB, be compute.Backend, cfg Config, B, T int) *trainer {
	m, err := NewRandom(be, cfg, 1)
	if err != nil {
		tb.Fatal(err)
	}
	m.RequireGrad()
	opt, err := compute.NewAdamW(be, m.Tensors(), 1e-3, 0.9, 0.95, 1e-8, 0.1)
	if err != nil {
		tb.Fatal(err)
	}
	r := rand.New(rand.NewPCG(2, 3))
	tr := &trainer{be: be, m: m, tp: compute.NewTape(be), opt: opt,
		batch: &Batch{B: B, T: T, Tokens: make([]int32, B*T)}, targets: make([]int32, B*T), seed: make([]float32, B*T)}
	for i := range tr.batch.Tokens {
		tr.batch.Tokens[i] = int32(r.IntN(cfg.Vocab))
		tr.targets[i] = int32(r.IntN(cfg.Vocab))
		tr.seed[i] = -1 / float32(B*T)
	}
	return tr
}

func (tr *trainer) step(tb testing.TB) {
	tr.tp.Reset()
	compute.ZeroGrad(tr.be, tr.m.Tensors())
	lp := tr.m.TokenLogProbs(tr.tp, tr.batch, tr.targets, 1)
	if err := tr.tp.Backward(lp, tr.seed); err != nil {
		tb.Fatal(err)
	}
	tr.opt.Step(1e-3)
}

func TestTrainStepAllocatesNothing(t *testing.T) {
	cfg := PeerConfig
	cfg.Vocab, cfg.Hidden, cfg.Intermediate, cfg.Layers = 128, 64, 176, 2
	tr := newTrainer(t, cfg, 4, 32)
	tr.step(t) // first step sizes the arenas
	// The fewest: the finalizers of the package's GPU tests' tensors and
	// the pool's parks add to a count now and then (see allocstest).
	if n := allocstest.Fewest(5, func() { tr.step(t) }); n != 0 {
		t.Errorf("a steady-state training step made %v heap allocations, want 0", n)
	}
}

// BenchmarkTrainStep is the peer's "train step" at its default shape:
// batch 16 × 128 tokens, forward + backward + AdamW.
func BenchmarkTrainStep(b *testing.B) {
	tr := newTrainer(b, PeerConfig, 16, 128)
	tr.step(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.step(b)
	}
	b.ReportMetric(float64(b.N*16*128)/b.Elapsed().Seconds(), "tokens/s")
}

// Two runs of the same steps give the same bits: reductions across threads
// are added in range order, not in the order the pieces finished.
func TestTrainingIsBitReproducible(t *testing.T) {
	cfg := PeerConfig
	cfg.Vocab, cfg.Hidden, cfg.Intermediate, cfg.Layers = 128, 64, 176, 2
	run := func() []float32 {
		tr := newTrainer(t, cfg, 8, 64)
		for i := 0; i < 3; i++ {
			tr.step(t)
		}
		var all []float32
		for _, p := range tr.m.Tensors() {
			v := make([]float32, p.Len())
			tr.be.Read(v, p)
			all = append(all, v...)
		}
		return all
	}
	a, b := run(), run()
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("parameter %d differs between two identical runs: %v vs %v", i, a[i], b[i])
		}
	}
}
