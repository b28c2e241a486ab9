package model

import (
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/compute"
)

// qwenShape is Qwen2.5-0.5B's shape with its 24 layers cut to 4, so that a
// training step's forward and backward fit a shared machine; the head, the
// micro-batch (8×214) and each layer are the real size.
var qwenShape = Config{Vocab: 151936, Hidden: 896, Intermediate: 4864, Layers: 4, Heads: 14, KVHeads: 2,
	RMSEps: 1e-6, RopeTheta: 1e6, MaxPos: 4096, Tied: true, QKVBias: true}

// BenchmarkQwenShapeStep is forward and backward of one 8×214-token
// micro-batch at qwenShape: with the head as Linear → TokenLogProbs
// ("logits", as before the fused head), with the fused head, and with the
// fused head and per-layer checkpointing. It reports tokens/s and the peak
// heap in use; run one sub-benchmark per process under /usr/bin/time -v for
// the peak RSS: go test -c ./engine/model && ./model.test -test.run - \
// -test.bench 'QwenShapeStep/fused$' -test.benchtime 1x
func BenchmarkQwenShapeStep(b *testing.B) {
	const B, T = 8, 214
	for _, v := range []struct {
		name               string
		logits, checkpoint bool
	}{{"logits", true, false}, {"fused", false, false}, {"fused+checkpoint", false, true}} {
		b.Run(v.name, func(b *testing.B) {
			be := compute.NewCPU()
			m, err := NewRandom(be, qwenShape, 1)
			if err != nil {
				b.Fatal(err)
			}
			m.RequireGrad()
			m.CheckpointLayers = v.checkpoint
			r := rand.New(rand.NewPCG(2, 3))
			batch := &Batch{B: B, T: T, Tokens: make([]int32, B*T)}
			targets, seed := make([]int32, B*T), make([]float32, B*T)
			for i := range batch.Tokens {
				batch.Tokens[i] = int32(r.IntN(qwenShape.Vocab))
				targets[i] = int32(r.IntN(qwenShape.Vocab))
				seed[i] = -1 / float32(B*T)
			}
			tp := compute.NewTape(be)
			var peak uint64
			stop, done := make(chan struct{}), make(chan struct{})
			go func() {
				defer close(done)
				var ms runtime.MemStats
				for {
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapInuse)
					select {
					case <-stop:
						return
					case <-time.After(20 * time.Millisecond):
					}
				}
			}()
			for b.Loop() {
				tp.Reset()
				compute.ZeroGrad(be, m.Tensors())
				var lp *compute.Tensor
				if v.logits {
					lp = tp.TokenLogProbs(m.Logits(tp, batch), targets, 1)
				} else {
					lp = m.TokenLogProbs(tp, batch, targets, 1)
				}
				if err := tp.Backward(lp, seed); err != nil {
					b.Fatal(err)
				}
			}
			close(stop)
			<-done
			b.ReportMetric(float64(b.N*B*T)/b.Elapsed().Seconds(), "tokens/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		})
	}
}

// BenchmarkQwenShapeScore is a scoring forward (no gradient) of 8 traces of
// 450 tokens at qwenShape, hidden states and fused-head log-probs of every
// token. held-MiB is what the tape holds after it (one layer's activations
// plus each layer's output); held-recording-MiB what the same forward holds
// when recording, which is what a forward without recording held before
// it dropped each layer's activations.
func BenchmarkQwenShapeScore(b *testing.B) {
	const B, T = 8, 450
	be := compute.NewCPU()
	m, err := NewRandom(be, qwenShape, 1)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(4, 5))
	batch := &Batch{B: B, T: T, Tokens: make([]int32, B*T)}
	targets := make([]int32, B*T)
	for i := range batch.Tokens {
		batch.Tokens[i] = int32(r.IntN(qwenShape.Vocab))
		targets[i] = int32(r.IntN(qwenShape.Vocab))
	}
	tp := compute.NewTape(be)
	tp.SetRecording(false)
	for b.Loop() {
		tp.Reset()
		m.TokenLogProbs(tp, batch, targets, 1)
		if err := tp.Err(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*B*T)/b.Elapsed().Seconds(), "tokens/s")
	b.ReportMetric(float64(tp.HeldBytes())/(1<<20), "held-MiB")
	rec := compute.NewTape(be)
	compute.RequireGrad(be, m.Norm) // a recording forward, with no gradient as large as a weight
	m.Hidden(rec, batch)
	b.ReportMetric(float64(rec.HeldBytes())/(1<<20), "held-recording-MiB")
}

// BenchmarkQwenShapeOptimiser is a GRPO step's optimiser phase at the whole
// Qwen2.5-0.5B shape (all 24 layers; 494M parameters): the gradient norm
// with clipping, then AdamW. first-step-s is the first update of a fresh
// optimiser, which also touches the two moments' 4 GB for the first time
// (page faults, in the first step of every run); the timed steps are the
// steady state. It needs ~8 GB: parameters, gradients and both moments.
func BenchmarkQwenShapeOptimiser(b *testing.B) {
	be := compute.NewCPU()
	m, err := NewRandom(be, Qwen05Config, 1)
	if err != nil {
		b.Fatal(err)
	}
	ps := m.Tensors()
	for _, p := range ps {
		compute.RequireGrad(be, p)
		be.Copy(p.Grad, p) // a gradient of the weights' own size and spread
	}
	opt, err := compute.NewAdamW(be, ps, 1e-6, 0.9, 0.99, 1e-8, 0.01)
	if err != nil {
		b.Fatal(err)
	}
	step := func() {
		if _, err := compute.ClipGradNorm(be, ps, 1); err != nil {
			b.Fatal(err)
		}
		opt.Step(1e-6)
	}
	t0 := time.Now()
	step()
	first := time.Since(t0)
	b.ResetTimer()
	for b.Loop() {
		step()
	}
	b.ReportMetric(first.Seconds(), "first-step-s")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/step")
}
