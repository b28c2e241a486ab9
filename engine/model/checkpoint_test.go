package model

import (
	"math"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/allocstest"
	"github.com/rlt-workbench/rlt/engine/runconfig"
)

func smallCheckpointConfig() Config {
	cfg := PeerConfig
	cfg.Vocab, cfg.Hidden, cfg.Intermediate, cfg.Layers = 96, 32, 48, 3
	return cfg
}

// TestCheckpointLayersGivesTheSameGradients: recomputing each layer during
// backward gives the log-probs and every parameter gradient bit for bit,
// with left padding.
func TestCheckpointLayersGivesTheSameGradients(t *testing.T) {
	cfg := smallCheckpointConfig()
	be := compute.NewCPU()
	const B, T = 2, 11
	b := &Batch{B: B, T: T, Tokens: make([]int32, B*T), KStart: []int32{0, 4}}
	targets := make([]int32, B*T)
	seed := make([]float32, B*T)
	for i := range b.Tokens {
		b.Tokens[i] = int32((i * 37) % cfg.Vocab)
		targets[i] = int32((i*53 + 7) % cfg.Vocab)
		seed[i] = float32(i%5) - 2
	}
	targets[3] = -1
	run := func(checkpoint bool) ([]float32, [][]float32) {
		m, err := NewRandom(be, cfg, 9)
		if err != nil {
			t.Fatal(err)
		}
		m.InitRandom(9, 0.2)
		m.RequireGrad()
		m.CheckpointLayers = checkpoint
		tp := compute.NewTape(be)
		lp := m.TokenLogProbs(tp, b, targets, 1/0.7)
		if err := tp.Backward(lp, seed); err != nil {
			t.Fatal(err)
		}
		out := make([]float32, lp.Len())
		be.Read(out, lp)
		var grads [][]float32
		for _, p := range m.Tensors() {
			g := make([]float32, p.Len())
			be.Read(g, p.Grad)
			grads = append(grads, g)
		}
		return out, grads
	}
	lp0, g0 := run(false)
	lp1, g1 := run(true)
	same := func(what string, a, b []float32) {
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				t.Fatalf("%s[%d]: %v with checkpointing, %v without", what, i, b[i], a[i])
			}
		}
	}
	same("log-probs", lp0, lp1)
	nonzero := false
	for i := range g0 {
		same("gradient "+smallParamName(cfg, i), g0[i], g1[i])
		for _, v := range g0[i] {
			nonzero = nonzero || v != 0
		}
	}
	if !nonzero {
		t.Fatal("all gradients are zero: the comparison proves nothing")
	}
}

func smallParamName(cfg Config, i int) string {
	m, _ := New(compute.NewCPU(), cfg)
	return m.Params()[i].Name
}

// TestCheckpointRefusesAStaleBackward: a model that ran a second
// checkpointed forward before the first one's backward cannot recompute the
// first: the backward says so instead of using the wrong batch.
func TestCheckpointRefusesAStaleBackward(t *testing.T) {
	cfg := smallCheckpointConfig()
	be := compute.NewCPU()
	m, err := NewRandom(be, cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	m.RequireGrad()
	m.CheckpointLayers = true
	b1 := &Batch{B: 1, T: 4, Tokens: []int32{1, 2, 3, 4}}
	b2 := &Batch{B: 1, T: 4, Tokens: []int32{5, 6, 7, 8}}
	targets := []int32{2, 3, 4, 5}
	tp1, tp2 := compute.NewTape(be), compute.NewTape(be)
	lp1 := m.TokenLogProbs(tp1, b1, targets, 1)
	m.TokenLogProbs(tp2, b2, targets, 1)
	err = tp1.Backward(lp1, []float32{1, 1, 1, 1})
	if err == nil || !strings.Contains(err.Error(), "ran again") {
		t.Fatalf("backward after a second forward: %v, want a refusal", err)
	}
}

func TestCheckpointedTrainStepAllocatesNothing(t *testing.T) {
	cfg := PeerConfig
	cfg.Vocab, cfg.Hidden, cfg.Intermediate, cfg.Layers = 128, 64, 176, 2
	tr := newTrainer(t, cfg, 4, 32)
	tr.m.CheckpointLayers = true
	tr.step(t)
	tr.step(t) // the scratch tape sees both the plain and the recording forward
	// The fewest: the finalizers of the package's GPU tests' tensors and
	// the pool's parks add to a count now and then (see allocstest).
	if n := allocstest.Fewest(5, func() { tr.step(t) }); n != 0 {
		t.Errorf("a steady-state checkpointed training step made %v heap allocations, want 0", n)
	}
}

func TestCheckpointModes(t *testing.T) {
	big := Config{Vocab: 151936, Hidden: 896, Intermediate: 4864, Layers: 24, Heads: 14, KVHeads: 2, RMSEps: 1e-6, RopeTheta: 1e6, MaxPos: 4096, Tied: true, QKVBias: true}
	small := smallCheckpointConfig()
	cases := []struct {
		mode   runconfig.CheckpointMode
		cfg    Config
		tokens int
		want   bool
	}{
		{runconfig.CheckpointAuto, big, 8 * 214, true},
		{"", big, 8 * 214, true},
		{runconfig.CheckpointAuto, small, 8 * 214, false},
		{runconfig.CheckpointAuto, big, 16, false},
		{runconfig.CheckpointOn, small, 4, true},
		{runconfig.CheckpointOff, big, 8 * 214, false},
	}
	for _, c := range cases {
		if got := c.mode.On(c.cfg.ActivationBytes(c.tokens)); got != c.want {
			t.Errorf("%q, hidden %d, %d tokens: %v, want %v (activations %d bytes)", c.mode, c.cfg.Hidden, c.tokens, got, c.want, c.cfg.ActivationBytes(c.tokens))
		}
	}
}

// TestNoGradForwardKeepsOneLayer: a forward without recording (scoring, a
// prefill) holds one layer's activations, not all of them: four layers hold
// only the three extra layer outputs more than one layer does, and the
// hidden states are the same bits as a recording forward's.
func TestNoGradForwardKeepsOneLayer(t *testing.T) {
	const B, T = 3, 17
	b := &Batch{B: B, T: T, Tokens: make([]int32, B*T), KStart: []int32{0, 5, 2}}
	for i := range b.Tokens {
		b.Tokens[i] = int32((i * 29) % 96)
	}
	held := map[int]int64{}
	for _, layers := range []int{1, 4} {
		cfg := smallCheckpointConfig()
		cfg.Layers = layers
		be := compute.NewCPU()
		m, err := NewRandom(be, cfg, 4)
		if err != nil {
			t.Fatal(err)
		}
		tp := compute.NewTape(be)
		tp.SetRecording(false)
		h := m.Hidden(tp, b)
		if err := tp.Err(); err != nil {
			t.Fatal(err)
		}
		held[layers] = tp.HeldBytes()
		got := make([]float32, h.Len())
		be.Read(got, h)

		m.RequireGrad()
		rec := compute.NewTape(be)
		hr := m.Hidden(rec, b)
		want := make([]float32, hr.Len())
		be.Read(want, hr)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%d layers: hidden[%d] %v without recording, %v with", layers, i, got[i], want[i])
			}
		}
		if layers == 4 && rec.HeldBytes() < 2*held[4] {
			t.Errorf("a recording forward holds %d bytes, a plain one %d: the test measures nothing", rec.HeldBytes(), held[4])
		}
	}
	// Arena slots are allocated a size class above their need (≤ 1.25×).
	layerOut := int64(4*B*T*smallCheckpointConfig().Hidden) * 5 / 4
	if grow := held[4] - held[1]; grow > 3*layerOut {
		t.Errorf("4 layers hold %d bytes more than 1 without recording, want at most 3 layer outputs in their size class (%d)", grow, 3*layerOut)
	}
}
