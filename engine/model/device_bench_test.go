package model

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/vulkan"
	"github.com/rlt-workbench/rlt/engine/device"
)

// The device benchmarks (bench/gpu.sh) run on RLT_BENCH_DEVICE (cpu, gpu or
// auto; default auto) at RLT_BENCH_SHAPE: "toy" (PeerConfig) or "0.5b"
// (Qwen2.5-0.5B's shape), with batch RLT_BENCH_B × RLT_BENCH_T tokens
// (default 16 × 128) for training and RLT_BENCH_B sequences of
// RLT_BENCH_NEW sampled tokens (default 128) for sampling; RLT_BENCH_MATMUL=f16
// multiplies on tensor cores where the device has them (else the benchmark
// fails: a float32 figure must not pass for one). RLT_BENCH_W16=bf16
// (or f16) samples from the model's weights held in 16 bits (as a frozen
// student or teacher is), widened by the device's kernels. RLT_BENCH_PROFILE=1
// logs, on a Vulkan device, the GPU time and workgroups of every kernel in
// one more step (vulkan.Profile). RLT_BENCH_LAYERS and RLT_BENCH_VOCAB cut
// the shape's layers and vocabulary, so that 0.5B's layers and its
// dispatches' geometry can be read in minutes on a CPU device (lavapipe).

// Qwen05Config is Qwen2.5-0.5B's shape.
var Qwen05Config = Config{Vocab: 151936, Hidden: 896, Intermediate: 4864, Layers: 24, Heads: 14, KVHeads: 2,
	RMSEps: 1e-6, RopeTheta: 1e6, MaxPos: 4096, Tied: true, QKVBias: true}

func benchEnv(b *testing.B) (compute.Backend, Config, int, int, int) {
	matmul := os.Getenv("RLT_BENCH_MATMUL")
	be, choice, err := device.Open(os.Getenv("RLT_BENCH_DEVICE"), matmul)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { device.Close(be) })
	if ok, whyNot := device.TensorCores(be); matmul == device.MatmulF16 && !ok {
		b.Fatalf("RLT_BENCH_MATMUL=f16: %s", whyNot)
	}
	cfg := PeerConfig
	if os.Getenv("RLT_BENCH_SHAPE") == "0.5b" {
		cfg = Qwen05Config
	}
	num := func(k string, def int) int {
		if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
			return v
		}
		return def
	}
	cfg.Layers, cfg.Vocab = num("RLT_BENCH_LAYERS", cfg.Layers), num("RLT_BENCH_VOCAB", cfg.Vocab)
	b.Logf("device %s; %d layers, vocabulary %d", choice, cfg.Layers, cfg.Vocab)
	return be, cfg, num("RLT_BENCH_B", 16), num("RLT_BENCH_T", 128), num("RLT_BENCH_NEW", 128)
}

// BenchmarkDeviceTrainStep: forward, token log-probs,
// backward and AdamW, as BenchmarkTrainStep, on the chosen device.
func BenchmarkDeviceTrainStep(b *testing.B) {
	be, cfg, B, T, _ := benchEnv(b)
	tr := newTrainerOn(b, be, cfg, B, T)
	tr.step(b)
	waitFor(be, tr.m.Tensors()[1])
	meter, metered := be.(compute.MemoryMeter)
	if metered {
		meter.MemoryUse() // the peak from here on
	}
	b.ResetTimer()
	sync := tr.m.Tensors()[1] // a norm weight: waiting on the device reads 4·d bytes
	for i := 0; i < b.N; i++ {
		tr.step(b)
		waitFor(be, sync)
	}
	if err := be.Err(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N*B*T)/b.Elapsed().Seconds(), "tokens/s")
	if metered { // the device memory the steps held at most: weights, state, activations, scratch
		_, peak := meter.MemoryUse()
		b.ReportMetric(float64(peak)/(1<<20), "device-MiB")
	}
	b.StopTimer()
	logPhases(b, tr, sync)
	counted := countBarriers(be)
	tr.step(b)
	waitFor(be, sync)
	counted(b, "a training step")
	stop := startProfile(b, be, "one training step")
	tr.step(b)
	waitFor(be, sync)
	stop()
}

// startProfile starts a vulkan.Profile when RLT_BENCH_PROFILE is set and
// the backend is Vulkan's; the returned func logs it.
func startProfile(b *testing.B, be compute.Backend, what string) func() {
	vb, ok := be.(*vulkan.Backend)
	if !ok || os.Getenv("RLT_BENCH_PROFILE") == "" {
		return func() {}
	}
	if err := vb.Device().StartProfile(); err != nil {
		b.Logf("no profile: %v", err)
		return func() {}
	}
	// On stderr, whole: the testing package cuts a benchmark's log at ten lines.
	return func() {
		p := vb.Device().StopProfile().String()
		fmt.Fprintf(os.Stderr, "profile %s of %s: %s", b.Name(), what, strings.ReplaceAll(p, "\n  ", "\nprofile   "))
	}
}

// countBarriers starts counting, on a Vulkan device, the commands that
// waited behind a barrier and those that ran without one (Device.Barriers);
// the returned func logs them.
func countBarriers(be compute.Backend) func(b *testing.B, what string) {
	vb, ok := be.(*vulkan.Backend)
	if !ok {
		return func(*testing.B, string) {}
	}
	rec, eli := vb.Device().Barriers()
	return func(b *testing.B, what string) {
		r, e := vb.Device().Barriers()
		b.Logf("%s: %d barriers, %d commands without one before them", what, r-rec, e-eli)
	}
}

// logPhases times one more step with a wait for the device after each
// phase, so a slow step says where its time went (the waits cost a little,
// so the phases add up to a bit more than the timed steps).
func logPhases(b *testing.B, tr *trainer, sync *compute.Tensor) {
	t0 := time.Now()
	tr.tp.Reset()
	compute.ZeroGrad(tr.be, tr.m.Tensors())
	lp := tr.m.TokenLogProbs(tr.tp, tr.batch, tr.targets, 1)
	waitFor(tr.be, lp)
	t1 := time.Now()
	if err := tr.tp.Backward(lp, tr.seed); err != nil {
		b.Fatal(err)
	}
	waitFor(tr.be, sync)
	t2 := time.Now()
	tr.opt.Step(1e-3)
	waitFor(tr.be, sync)
	t3 := time.Now()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }
	b.Logf("phases: forward %.1f ms, backward %.1f ms, optimiser %.1f ms", ms(t1.Sub(t0)), ms(t2.Sub(t1)), ms(t3.Sub(t2)))
}

// BenchmarkDeviceSample: a 16-token prompt prefilled, then greedy decode
// steps with the KV cache; tokens/s counts the decode steps' tokens.
func BenchmarkDeviceSample(b *testing.B) {
	be, cfg, B, _, steps := benchEnv(b)
	m, err := NewRandom(be, cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	if w := os.Getenv("RLT_BENCH_W16"); w != "" {
		dt := map[string]compute.DType{"bf16": compute.BF16, "f16": compute.F16}[w]
		if !dt.Is16() {
			b.Fatalf("RLT_BENCH_W16=%q: want bf16 or f16", w)
		}
		m16, err := NewAs(be, cfg, dt)
		if err != nil {
			b.Fatal(err)
		}
		if err := m16.CopyFrom(m); err != nil { // rounds into 16 bits
			b.Fatal(err)
		}
		m = m16
		b.Logf("weights held in %v", dt)
	}
	m.Freeze()
	const prompt = 16
	tp := compute.NewTape(be)
	tp.SetRecording(false)
	toks := make([]int32, B*prompt)
	for i := range toks {
		toks[i] = int32(i*7919) % int32(cfg.Vocab)
	}
	next := make([]int32, B)
	var decode time.Duration
	for i := 0; i < b.N; i++ {
		c, err := m.NewCache(B, prompt+steps)
		if err != nil {
			b.Fatal(err)
		}
		tp.Reset()
		be.Argmax(next, m.Decode(tp, c, toks, prompt))
		t0 := time.Now()
		for s := 1; s < steps; s++ {
			tp.Reset()
			be.Argmax(next, m.Decode(tp, c, next, 1))
		}
		decode += time.Since(t0)
		if err := tp.Err(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	c, err := m.NewCache(B, prompt+steps)
	if err != nil {
		b.Fatal(err)
	}
	tp.Reset()
	be.Argmax(next, m.Decode(tp, c, toks, prompt))
	counted := countBarriers(be)
	tp.Reset()
	be.Argmax(next, m.Decode(tp, c, next, 1))
	counted(b, "a decode step")
	stop := startProfile(b, be, "the decode steps")
	for s := 1; s < steps; s++ {
		tp.Reset()
		be.Argmax(next, m.Decode(tp, c, next, 1))
	}
	stop()
	b.ReportMetric(float64(b.N*B*(steps-1))/decode.Seconds(), "tokens/s")
}

// waitFor waits for the device by reading t back, as a training loop reads
// its loss each step.
func waitFor(be compute.Backend, t *compute.Tensor) {
	be.Read(make([]float32, t.Len()), t)
}
