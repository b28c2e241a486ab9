package model

import (
	"context"
	"errors"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/backendtest"
	"github.com/rlt-workbench/rlt/compute/vulkan"
	"github.com/rlt-workbench/rlt/compute/vulkan/vulkantest"
	"github.com/rlt-workbench/rlt/engine/hf"
)

// TestDeviceParity: a small model with left padding gives the same logits,
// log-probs, parameter gradients and parameters after one AdamW step on
// the Vulkan backend as on the CPU, within float32 summation-order
// tolerance.
func TestDeviceParity(t *testing.T) {
	deviceParity(t, vulkantest.Backend(t), parityTolerance{abs: 1e-4, rel: 1e-3, gradOfMax: 0, params: 2e-3})
}

// TestDeviceParityWindows: the same on a device that binds at most 64 KiB
// an operand (RLT_VULKAN_MAX_BINDING), with a vocabulary of 1,100 rows of
// 32 and an MLP of 1,024: the embedding and its gradient and moments (138
// KiB each), the MLP's weights (128 KiB) and its activations over the
// batch's 18 tokens (72 KiB), and the logits are bound a window at a time
// (compute/vulkan's bindwindow.go), in the gathers and scatters, the
// products, SwiGLU, decoding's unfused kernels and AdamW; no other tensor
// passes the range, so no other kernel is refused.
func TestDeviceParityWindows(t *testing.T) {
	t.Setenv("RLT_VULKAN_MAX_BINDING", "65536")
	cfg := smallCheckpointConfig()
	cfg.Vocab, cfg.Intermediate = 1100, 1024
	deviceParityAt(t, vulkantest.Backend(t), cfg, 2, 9, 0.2, parityTolerance{abs: 1e-4, rel: 1e-3, gradOfMax: 0, params: 2e-3})
}

// TestDeviceParityRealLayer: the same at one layer of Qwen2.5-0.5B's real
// size (d 896, MLP 4,864, 14 query heads over 2, heads of 64; Qwen's
// initial scale 0.02), 2 × 40 tokens, and a vocabulary of 10,000
// (realLayerVocab), whose embedding of 34 MiB is bound in two windows of
// 32 MiB (realLayerBinding, set as RLT_VULKAN_MAX_BINDING on every device
// that binds more, lavapipe's 128 MiB included, and in place of a larger
// RLT_VULKAN_MAX_BINDING of the user's, under which the embedding would be
// bound whole): tiles that do not divide the shapes, tiled attention
// over a group of 7 heads, the fused head over many blocks, the windowed
// gathers, scatters, products and AdamW, on a GPU products split along K,
// at the sizes a run computes. bench/gpu.sh runs it on the GPU. The AdamW
// step is held to two learning rates: most of the tied embedding's rows get
// gradients near AdamW's eps (1e-8), where the first step's g/(|g|+eps)
// turns rounding into a different step size. It runs in -short: 33
// CPU-seconds and 1.45 GB of peak memory on lavapipe (74 and 2.8 GB at a
// vocabulary of 40,000 in windows of 128 MiB; 365 s of wall time with
// Qwen's whole vocabulary of 151,936 at load ~3).
func TestDeviceParityRealLayer(t *testing.T) {
	holdBinding(t, os.Getenv("RLT_VULKAN_MAX_BINDING"))
	gpu := vulkantest.Backend(t)
	deviceParityAt(t, gpu, realLayerConfig(t, gpu), 2, 40, 0.02, parityTolerance{abs: 1e-4, rel: 1e-3, gradOfMax: 1e-4, params: 2e-2 + 1e-4})
}

// holdBinding sets RLT_VULKAN_MAX_BINDING to realLayerBinding for t,
// unless user, the variable's value as t started, binds less (more
// windows, as the user asked); a larger binding of the user's would bind
// the real layer's embedding whole, leaving out what the test is for, so
// it is lowered and t says so. A value that is no number of bytes is left
// for vulkan.Open to refuse, naming the variable.
func holdBinding(t *testing.T, user string) {
	t.Helper()
	if user != "" {
		n, err := strconv.ParseUint(user, 10, 64)
		if err != nil || n <= realLayerBinding {
			return
		}
		t.Logf("RLT_VULKAN_MAX_BINDING=%s would bind the embedding (%d bytes) whole: held to %d for this test, to bind it in windows", user, embeddingBytes(realLayer()), realLayerBinding)
	}
	t.Setenv("RLT_VULKAN_MAX_BINDING", strconv.Itoa(realLayerBinding))
}

// TestHoldBinding: TestDeviceParityRealLayer binds at most realLayerBinding
// whatever RLT_VULKAN_MAX_BINDING the user set, unless theirs is smaller
// or no number (vulkan.Open refuses that one, naming the variable).
func TestHoldBinding(t *testing.T) {
	held := strconv.Itoa(realLayerBinding)
	for _, c := range []struct{ user, want string }{
		{"", held},
		{strconv.Itoa(256 << 20), held}, // above lavapipe's 128 MiB: once bound whole
		{strconv.Itoa(realLayerBinding + 1), held},
		{held, held},
		{"65536", "65536"},
		{"lots", "lots"},
	} {
		t.Run(c.user, func(t *testing.T) {
			t.Setenv("RLT_VULKAN_MAX_BINDING", c.user)
			holdBinding(t, c.user)
			if got := os.Getenv("RLT_VULKAN_MAX_BINDING"); got != c.want {
				t.Errorf("RLT_VULKAN_MAX_BINDING=%q: the test binds at most %q, want %q", c.user, got, c.want)
			}
		})
	}
}

// realLayerVocab is the vocabulary of the real-layer parity tests: a
// fifteenth of Qwen2.5-0.5B's 151,936, whose head and embedding (its
// gradient and AdamW's moments, on the CPU and on the device) were most of
// their cost and memory, and still an embedding past realLayerBinding
// (10,000 × 896 floats, 34 MiB: two windows, the second of 638 rows).
const realLayerVocab = 10_000

// realLayerBinding is the binding TestDeviceParityRealLayer holds every
// device to, 32 MiB: a quarter of lavapipe's maxStorageBufferRange, so
// that a quarter of the vocabulary spans the same two windows (the
// windowed kernels do not depend on the window's size; the layer's
// matrices, at most 17 MiB, each fit one binding, as at 128 MiB).
const realLayerBinding = 32 << 20

// realLayer is one layer of Qwen2.5-0.5B at its real size with
// realLayerVocab's vocabulary.
func realLayer() Config {
	cfg := Qwen05Config
	cfg.Layers, cfg.Vocab = 1, realLayerVocab
	return cfg
}

// realLayerConfig is realLayer, checked on gpu: where gpu binds at
// most realLayerBinding (as TestDeviceParityRealLayer holds every device
// to) it fails unless the embedding spans at least two windows, so that a
// change of Qwen05Config or of the vocabulary cannot quietly leave out the
// windowed paths.
func realLayerConfig(t *testing.T, gpu *vulkan.Backend) Config {
	t.Helper()
	cfg := realLayer()
	if in := gpu.Device().Info(); in.MaxStorageBufferRange <= realLayerBinding && !embeddingInWindows(cfg, gpu) {
		t.Fatalf("the embedding (%d bytes) fits one binding of %s (%d bytes): the test would bind no window", embeddingBytes(cfg), in.Name, in.MaxStorageBufferRange)
	}
	return cfg
}

// embeddingBytes is the size of cfg's embedding in float32.
func embeddingBytes(cfg Config) uint64 { return uint64(cfg.Vocab) * uint64(cfg.Hidden) * 4 }

// embeddingInWindows says whether gpu binds cfg's embedding a window at a
// time: whether it spans more than the device's binding.
func embeddingInWindows(cfg Config, gpu *vulkan.Backend) bool {
	return embeddingBytes(cfg) > gpu.Device().Info().MaxStorageBufferRange
}

// TestDeviceParityF16: the same under matmul f16, every product on tensor
// cores (float16 operands scaled per row and column): logits and log-probs
// to 1e-2, each gradient to 2% of its tensor's largest element, and the
// AdamW step to two learning rates (a gradient within rounding of 0 may
// change sign, moving its weight by 2·lr the other way).
func TestDeviceParityF16(t *testing.T) {
	gpu := vulkantest.Backend(t)
	if err := gpu.Device().SetMatmul(vulkan.MatmulF16); err != nil {
		backendtest.NeedCoopMat(t, err)
	}
	if err := gpu.Device().StartProfile(); err != nil {
		t.Fatalf("which kernels ran needs timestamps: %v", err)
	}
	deviceParity(t, gpu, parityTolerance{abs: 1e-2, rel: 1e-2, gradOfMax: 2e-2, params: 2e-2 + 1e-4})
	runs := map[string]int{}
	for _, k := range gpu.Device().StopProfile().Kernels {
		runs[k.Name] = k.Count
	}
	if runs["gemmcm"] == 0 || runs["gemm"] != 0 {
		t.Errorf("products ran as gemmcm %d and gemm %d times, want all on gemmcm", runs["gemmcm"], runs["gemm"])
	}
}

// parityTolerance: |gpu − cpu| ≤ abs + rel·|cpu| for logits, log-probs and
// gradients, plus gradOfMax times the largest |cpu| of each gradient
// tensor; params bounds the weights after one AdamW step (lr 1e-2).
type parityTolerance struct{ abs, rel, gradOfMax, params float64 }

func deviceParity(t *testing.T, gpu *vulkan.Backend, tol parityTolerance) {
	deviceParityAt(t, gpu, smallCheckpointConfig(), 2, 9, 0.2, tol)
}

// TestDeviceParityRealLayerF16: TestDeviceParityRealLayer under matmul f16,
// every product on tensor cores, to TestDeviceParityF16's tolerances: the
// scaled float16 products at the sizes a run computes, on the device's own
// binding (on lavapipe's 128 MiB the embedding is bound whole). Not in -short: .ci/tensorcores.sh runs -short on a lavapipe
// with cooperative matrices, where this took 280 s with the whole
// vocabulary.
func TestDeviceParityRealLayerF16(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: a layer of real size under f16 takes minutes on a CPU device (TestDeviceParityRealLayer runs it in float32)")
	}
	gpu := vulkantest.Backend(t)
	if err := gpu.Device().SetMatmul(vulkan.MatmulF16); err != nil {
		backendtest.NeedCoopMat(t, err)
	}
	cfg := realLayerConfig(t, gpu)
	if !embeddingInWindows(cfg, gpu) {
		// What this test is for is the products; TestDeviceParityRealLayer
		// binds the same layer in windows (its binding is held to 32 MiB
		// whatever RLT_VULKAN_MAX_BINDING says), and compute/vulkan's
		// TestBackendConformanceWindowsCoop the products on cooperative
		// matrices a window at a time.
		t.Logf("%s binds %d bytes, the embedding (%d bytes) whole: no window here (RLT_VULKAN_MAX_BINDING=%d or less binds it in windows)", gpu.Device().Info().Name, gpu.Device().Info().MaxStorageBufferRange, embeddingBytes(cfg), realLayerBinding)
	}
	deviceParityAt(t, gpu, cfg, 2, 40, 0.02, parityTolerance{abs: 1e-2, rel: 1e-2, gradOfMax: 2e-2, params: 2e-2 + 1e-4})
}

// deviceParityAt compares, on cfg with weights of scale init, a batch of B
// sequences of T tokens (the second left-padded by 3) on gpu and on the
// CPU: logits, log-probs, every gradient and one AdamW step.
func deviceParityAt(t *testing.T, gpu *vulkan.Backend, cfg Config, B, T int, init float64, tol parityTolerance) {
	cpu := compute.NewCPU()
	b := &Batch{B: B, T: T, Tokens: make([]int32, B*T), KStart: []int32{0, 3}}
	targets := make([]int32, B*T)
	seed := make([]float32, B*T)
	for i := range b.Tokens {
		b.Tokens[i] = int32((i * 37) % cfg.Vocab)
		targets[i] = int32((i*53 + 7) % cfg.Vocab)
		seed[i] = float32(i%5) - 2
	}
	targets[3] = -1
	type result struct {
		logits, lp, decoded, params []float32
		grads                       [][]float32
	}
	run := func(be compute.Backend) result {
		m, err := NewRandom(be, cfg, 9)
		if err != nil {
			t.Fatal(err)
		}
		m.InitRandom(9, init)
		m.RequireGrad()
		var r result
		tp := compute.NewTape(be)
		tp.SetRecording(false)
		lg := m.Logits(tp, b)
		r.logits = make([]float32, lg.Len())
		be.Read(r.logits, lg)
		tp = compute.NewTape(be)
		lp := m.TokenLogProbs(tp, b, targets, 1/0.7)
		if err := tp.Backward(lp, seed); err != nil {
			t.Fatal(err)
		}
		r.lp = make([]float32, lp.Len())
		be.Read(r.lp, lp)
		for _, p := range m.Tensors() {
			g := make([]float32, p.Len())
			be.Read(g, p.Grad)
			r.grads = append(r.grads, g)
		}
		// Sampling's path: a prefill of the batch into a KV cache, then
		// decode steps of one token each (few rows: gemv, row attention).
		m.Freeze()
		c, err := m.NewCache(B, T+3)
		if err != nil {
			t.Fatal(err)
		}
		c.Reset(b.KStart)
		tp = compute.NewTape(be)
		tp.SetRecording(false)
		next := make([]int32, B)
		for step := range 3 {
			tp.Reset()
			var lg *compute.Tensor
			if step == 0 {
				lg = m.Decode(tp, c, b.Tokens, T)
			} else {
				lg = m.Decode(tp, c, next, 1)
			}
			out := make([]float32, lg.Len())
			be.Read(out, lg)
			r.decoded = append(r.decoded, out...)
			for i := range next {
				next[i] = int32((step*31 + i*17) % cfg.Vocab)
			}
		}
		if err := tp.Err(); err != nil {
			t.Fatal(err)
		}
		m.Thaw()
		opt, err := compute.NewAdamW(be, m.Tensors(), 1e-2, 0.9, 0.999, 1e-8, 0.1)
		if err != nil {
			t.Fatal(err)
		}
		opt.Step(1e-2)
		for _, p := range m.Tensors() {
			v := make([]float32, p.Len())
			be.Read(v, p)
			r.params = append(r.params, v...)
		}
		if err := be.Err(); err != nil {
			t.Fatal(err)
		}
		return r
	}
	want, got := run(cpu), run(gpu)
	near := func(what string, w, g []float32, abs float64) {
		t.Helper()
		for i := range w {
			if d := math.Abs(float64(w[i] - g[i])); !(d <= abs+tol.rel*math.Abs(float64(w[i]))) { // NaN fails
				t.Fatalf("%s[%d]: %s %v, cpu %v", what, i, gpu.Name(), g[i], w[i])
			}
		}
	}
	near("logits", want.logits, got.logits, tol.abs)
	near("log-probs", want.lp, got.lp, tol.abs)
	near("decoded logits", want.decoded, got.decoded, tol.abs)
	for i := range want.grads {
		largest := 0.0
		for _, v := range want.grads[i] {
			largest = max(largest, math.Abs(float64(v)))
		}
		near("gradient "+smallParamName(cfg, i), want.grads[i], got.grads[i], tol.abs+tol.gradOfMax*largest)
	}
	// AdamW's first step moves each weight by about lr·sign(g): where g is
	// within rounding of 0 the sign may differ.
	near("parameters after one AdamW step", want.params, got.params, tol.params)
}

// TestDeviceTooSmall: a device without memory enough for the model (acted
// out with a memory limit) fails the load with an out-of-memory error that
// names the device, and compute.Tape and the Backend keep reporting it.
func TestDeviceTooSmall(t *testing.T) {
	gpu := vulkantest.Backend(t)
	gpu.SetMemoryLimit(32 << 10) // the model holds about 120 KiB
	m, err := NewRandom(gpu, smallCheckpointConfig(), 1)
	if err == nil {
		err = gpu.Err()
	}
	var ve *vulkan.Error
	if !errors.As(err, &ve) || ve.Kind != vulkan.ErrOutOfMemory || ve.Device == "" || !strings.Contains(err.Error(), ve.Device) {
		t.Fatalf("model past the memory limit: %v (model %v), want an out-of-memory error naming the device", err, m != nil)
	}
	t.Logf("%v", err)
	if tp := compute.NewTape(gpu); tp.Err() == nil {
		t.Error("a tape on the failed device reports no error")
	}
}

// TestDeviceParity16: a checkpoint stored in BF16 and loaded
// Frozen16 is held in 16 bits on the device too (about half the device
// memory of its float32 load) and gives the CPU's 16-bit logits, head
// log-probs with entropy, and cached decode steps, within float32
// summation-order tolerance.
func TestDeviceParity16(t *testing.T) {
	gpu := vulkantest.Backend(t)
	cpu := compute.NewCPU()
	for _, st := range []hf.DType{hf.BF16} { // Save writes F32 or BF16; F16 weights are checked op by op (backendtest)
		for _, tied := range []bool{true, false} {
			cfg := smallConfig(tied)
			src, err := NewRandom(cpu, cfg, 11)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := src.Save(dir, st); err != nil {
				t.Fatal(err)
			}
			b := &Batch{B: 2, T: 5, Tokens: []int32{1, 2, 3, 4, 5, 9, 8, 7, 6, 5}, KStart: []int32{0, 2}}
			targets := []int32{3, 4, 5, -1, 7, 8, 9, 10, 11, 12}
			run := func(be compute.Backend) []float32 {
				m, err := LoadAs(context.Background(), be, dir, Frozen16)
				if err != nil {
					t.Fatal(err)
				}
				if !m.Frozen16() {
					t.Fatalf("%s %v: not held in 16 bits on %s", st, tied, be.Name())
				}
				var out []float32
				read := func(x *compute.Tensor) {
					buf := make([]float32, x.Len())
					be.Read(buf, x)
					out = append(out, buf...)
				}
				tp := compute.NewTape(be)
				tp.SetRecording(false)
				read(m.Logits(tp, b))
				tp.Reset()
				h := m.Hidden(tp, b)
				lp, ent := tp.HeadLogProbsEntropy(h, m.LMHead, targets, 1/0.7)
				read(lp)
				read(ent)
				read(tp.HeadKL(h, m.LMHead, h, m.Embed, cfg.Vocab, 0.9))
				m.Freeze()
				c, err := m.NewCache(2, 8)
				if err != nil {
					t.Fatal(err)
				}
				tp.Reset()
				read(m.Decode(tp, c, b.Tokens, 5))
				for step := 0; step < 2; step++ {
					tp.Reset()
					read(m.Decode(tp, c, []int32{int32(step), int32(step + 3)}, 1))
				}
				m.Thaw()
				if err := tp.Err(); err != nil {
					t.Fatal(err)
				}
				return out
			}
			want, got := run(cpu), run(gpu)
			for i := range want {
				if d := math.Abs(float64(want[i] - got[i])); d > 1e-4+1e-3*math.Abs(float64(want[i])) || math.IsNaN(float64(got[i])) {
					t.Fatalf("%s tied %v: value %d: %s %v, cpu %v", st, tied, i, gpu.Name(), got[i], want[i])
				}
			}
		}
	}
	// Device memory: the 16-bit load holds about half the float32 one's
	// (0.556 here: norm weights and biases stay float32; widened 16-bit
	// weights, as before, would hold 1.0).
	cfg := smallConfig(true)
	src, err := NewRandom(cpu, cfg, 11)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := src.Save(dir, hf.BF16); err != nil {
		t.Fatal(err)
	}
	// On a fresh device, with every model kept: a model freed by the
	// collector while a later load is measured (the runs above, the
	// float32 load) would count against that load, even below zero.
	mem := vulkantest.Backend(t)
	var keep []*Model
	held := func(p Precision) uint64 {
		before := mem.HeldBytes()
		m, err := LoadAs(context.Background(), mem, dir, p)
		if err != nil {
			t.Fatal(err)
		}
		after := mem.HeldBytes()
		keep = append(keep, m)
		return after - before
	}
	h32, h16 := held(Float32), held(Frozen16)
	runtime.KeepAlive(keep)
	t.Logf("device memory of the model: %d bytes in float32, %d loaded Frozen16", h32, h16)
	if r := float64(h16) / float64(h32); r > 0.56 {
		t.Fatalf("on %s the 16-bit load holds %d bytes, %.2f× the float32 load's %d", gpu.Name(), h16, r, h32)
	}
}

// TestDeviceUnderValidationLayer re-runs the whole-model device tests under
// Khronos' validation layer with synchronization validation (the device
// records barriers only where commands conflict, and here submits a batch
// in pieces after 3, 6, 12, … dispatches, as a GPU does after 32): any
// message fails it.
func TestDeviceUnderValidationLayer(t *testing.T) {
	vulkantest.Backend(t)
	backendtest.UnderValidationLayer(t, "^(TestDeviceParity|TestDeviceParityF16|TestDeviceParity16)$", "RLT_VULKAN_KICK=3")
}
