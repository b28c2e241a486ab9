package vulkan

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/backendtest"
)

// The tests share one Device: building every pipeline takes a moment on
// lavapipe. Without a Vulkan loader or device they skip, unless
// RLT_REQUIRE_GPU=1 (set by .ci/run), under which they fail.
var shared struct {
	once sync.Once
	dev  *Device
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dev != nil {
		shared.dev.Close()
	}
	os.Exit(code)
}

func openOrSkip(t testing.TB) *Device {
	t.Helper()
	shared.once.Do(func() { shared.dev, shared.err = Open() })
	backendtest.NeedDevice(t, shared.err)
	if shared.dev.err != nil {
		t.Fatalf("device failed earlier: %v", shared.dev.err)
	}
	shared.dev.SetWaitDeadline(backendtest.WaitDeadline(t))
	return shared.dev
}

func TestDeviceInfo(t *testing.T) {
	d := openOrSkip(t)
	in := d.Info()
	t.Logf("device %q type %s Vulkan %s driver %s vendor %#x: maxStorageBufferRange %d MiB, shared memory %d KiB, %d invocations, groups %v, push %d B, %d allocations, storage alignment %d, device-local heap %d MiB, cooperative matrix %v, push descriptors %v",
		in.Name, in.Type, in.APIVersion, in.Driver, in.VendorID, in.MaxStorageBufferRange>>20, in.MaxSharedMemory>>10, in.MaxInvocations,
		in.MaxWorkGroupCount, in.MaxPushConstants, in.MaxAllocations, in.MinStorageAlignment, in.DeviceLocalBytes>>20, in.CooperativeMatrix, in.PushDescriptors)
	if in.MatmulF16 {
		t.Logf("matmul f16: %d×%d×%d float16 cooperative matrices, subgroups of %d", in.CoopSize, in.CoopSize, in.CoopSize, in.SubgroupSize)
	} else {
		t.Logf("no matmul f16: %s", in.NoMatmulF16)
	}
	if len(in.Unavailable) > 0 {
		t.Logf("kernels the driver did not build (plain ones used instead): %q", in.Unavailable)
	}
	if in.Name == "" || in.MaxStorageBufferRange == 0 || in.MaxInvocations < 256 || in.MaxSharedMemory < 2*16*65*4 {
		t.Errorf("device limits below what the kernels need: %+v", in)
	}
}

// tspec is one tensor of a case; pos makes its values positive (second moments).
type tspec struct {
	name string
	dims []int
	pos  bool
}

// opCase runs one op on the CPU backend and on the device from the same
// random tensors (outputs included, so accumulating ops are checked too) and
// compares the tensors named in outs: |gpu − cpu| ≤ tol·(1 + |cpu|).
type opCase struct {
	name    string
	tensors []tspec
	outs    []int
	tol     float64
	cpu     func(c *compute.CPU, t []*compute.Tensor)
	gpu     func(d *Device, t []*Tensor)
}

// cases builds the table with shapes drawn from rng: odd sizes, sizes
// around the 16/64/256 tile and workgroup edges, and single rows.
func cases(rng *rand.Rand) []opCase {
	odd := func(lo, hi int) int { return lo + rng.Intn(hi-lo+1) | 1 }
	n, dim := odd(1, 67), odd(1, 300)
	in, out := odd(1, 150), odd(1, 140)
	v := odd(2, 700)
	targets := make([]int32, n)
	for i := range targets {
		targets[i] = int32(rng.Intn(v))
		if i%5 == 3 {
			targets[i] = -1 // ignored row
		}
	}
	invTemp := float32(0.5 + rng.Float64())
	step := compute.AdamWStep{LR: 1e-3, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8, WeightDecay: 0.1}
	step.BC1 = float32(1 - math.Pow(0.9, 3))
	step.BC2 = float32(1 - math.Pow(0.95, 3))
	heads, hd := 1+rng.Intn(3), 2*(1+rng.Intn(40))
	maxPos := n + 7
	pos := make([]int32, n)
	for i := range pos {
		pos[i] = int32(rng.Intn(maxPos))
	}
	vocab := odd(3, 90)
	ids := make([]int32, n)
	for i := range ids {
		ids[i] = int32(rng.Intn(vocab))
	}
	ids[n/2] = ids[0] // a repeated id adds twice
	rope := []tspec{{"out", []int{n, heads * hd}, false}, {"x", []int{n, heads * hd}, false}}
	cpuRoPE := func(c *compute.CPU) *compute.RoPETable { return c.NewRoPETable(maxPos, hd, 1e6) }
	gpuRoPE := func(d *Device) *RoPETable {
		rt, err := d.NewRoPETable(maxPos, hd, 1e6)
		if err != nil {
			panic(err)
		}
		return rt
	}
	ad := compute.AttnDims{B: 1 + rng.Intn(3), T: 1 + rng.Intn(9), KV: 1 + rng.Intn(2), HeadDim: odd(1, 40)}
	ad.H = ad.KV * (1 + rng.Intn(3))
	past := rng.Intn(40)
	maxLen := past + ad.T + rng.Intn(5)
	kStart := make([]int32, ad.B)
	for i := range kStart {
		kStart[i] = int32(rng.Intn(past + 2))
	}
	q4 := []int{ad.B, ad.T, ad.H, ad.HeadDim}
	kv4 := []int{ad.B, ad.T, ad.KV, ad.HeadDim}
	cache := []int{ad.B, ad.KV, maxLen, ad.HeadDim}
	decode := []tspec{{"out", q4, false}, {"q", q4, false}, {"kcache", cache, false}, {"vcache", cache, false}, {"k", kv4, false}, {"v", kv4, false}}
	ew := []tspec{{"o", []int{n, dim}, false}, {"a", []int{n, dim}, false}, {"b", []int{n, dim}, false}}
	// Column sums (bias and RMSNorm weight gradients) run in two passes
	// when the rows span more than one slice: tall rows not a multiple of
	// the slice, a single row, and n rows cut into slices of 7 (fewer rows
	// than the 4 row lanes in the last slice) exercise both paths.
	tall := 2*colSumSlice + odd(1, colSumSlice)
	biasOnly := func(rows int) []tspec {
		return []tspec{{"db", []int{dim}, false}, {"dy", []int{rows, dim}, false}, {"x", []int{rows, 1}, false}, {"w", []int{dim, 1}, false}}
	}
	normBack := func(rows int) []tspec {
		return []tspec{{"dx", []int{rows, dim}, false}, {"dw", []int{dim}, false}, {"dy", []int{rows, dim}, false},
			{"x", []int{rows, dim}, false}, {"w", []int{dim}, false}, {"rstd", []int{rows}, false}, {"y", []int{rows, dim}, false}}
	}
	slices := func(f func()) { old := colSumSlice; colSumSlice = 7; defer func() { colSumSlice = old }(); f() }
	cpuBias := func(c *compute.CPU, t []*compute.Tensor) { c.LinearBackward(nil, nil, t[0], t[1], t[2], t[3]) }
	gpuBias := func(d *Device, t []*Tensor) { d.LinearBackward(nil, nil, t[0], t[1], t[2], t[3]) }
	cpuNormBack := func(c *compute.CPU, t []*compute.Tensor) {
		c.RMSNorm(t[6], t[5], t[3], t[4], 1e-6)
		c.RMSNormBackward(t[0], t[1], t[2], t[3], t[4], t[5])
	}
	gpuNormBack := func(d *Device, t []*Tensor) {
		d.RMSNorm(t[6], t[5], t[3], t[4], 1e-6)
		d.RMSNormBackward(t[0], t[1], t[2], t[3], t[4], t[5])
	}
	return []opCase{
		{"BiasGradTall", biasOnly(tall), []int{0}, 1e-5, cpuBias, gpuBias},
		{"BiasGradOneRow", biasOnly(1), []int{0}, 1e-6, cpuBias, gpuBias},
		{"BiasGradSlices", biasOnly(n), []int{0}, 1e-5, cpuBias,
			func(d *Device, t []*Tensor) { slices(func() { gpuBias(d, t) }) }},
		{"RMSNormBackwardTall", normBack(tall), []int{0, 1, 5}, 2e-5, cpuNormBack, gpuNormBack},
		{"RMSNormBackwardOneRow", normBack(1), []int{0, 1, 5}, 2e-5, cpuNormBack, gpuNormBack},
		{"RMSNormBackwardSlices", normBack(n), []int{0, 1, 5}, 2e-5, cpuNormBack,
			func(d *Device, t []*Tensor) { slices(func() { gpuNormBack(d, t) }) }},
		{"Copy", ew, []int{0}, 0,
			func(c *compute.CPU, t []*compute.Tensor) { c.Copy(t[0], t[1]) },
			func(d *Device, t []*Tensor) { d.Copy(t[0], t[1]) }},
		{"Zero", ew, []int{0}, 0,
			func(c *compute.CPU, t []*compute.Tensor) { c.Zero(t[0]) },
			func(d *Device, t []*Tensor) { d.Zero(t[0]) }},
		{"Add", ew, []int{0}, 1e-7,
			func(c *compute.CPU, t []*compute.Tensor) { c.Add(t[0], t[1], t[2]) },
			func(d *Device, t []*Tensor) { d.Add(t[0], t[1], t[2]) }},
		{"AddAliased", ew, []int{0}, 1e-7,
			func(c *compute.CPU, t []*compute.Tensor) { c.Add(t[0], t[0], t[2]) },
			func(d *Device, t []*Tensor) { d.Add(t[0], t[0], t[2]) }},
		{"Accumulate", ew, []int{0}, 1e-7,
			func(c *compute.CPU, t []*compute.Tensor) { c.Accumulate(t[0], t[1]) },
			func(d *Device, t []*Tensor) { d.Accumulate(t[0], t[1]) }},
		{"Scale", ew, []int{0}, 1e-7,
			func(c *compute.CPU, t []*compute.Tensor) { c.Scale(t[0], -0.37) },
			func(d *Device, t []*Tensor) { d.Scale(t[0], -0.37) }},
		{"Mix", ew, []int{0}, 1e-6,
			func(c *compute.CPU, t []*compute.Tensor) { c.Mix(t[0], t[1], 0.013) },
			func(d *Device, t []*Tensor) { d.Mix(t[0], t[1], 0.013) }},
		{"SwiGLU", ew, []int{0}, 2e-6,
			func(c *compute.CPU, t []*compute.Tensor) { c.SwiGLU(t[0], t[1], t[2]) },
			func(d *Device, t []*Tensor) { d.SwiGLU(t[0], t[1], t[2]) }},
		{"SwiGLUBackward", append(ew, tspec{"gate", []int{n, dim}, false}, tspec{"up", []int{n, dim}, false}), []int{0, 1}, 2e-6,
			func(c *compute.CPU, t []*compute.Tensor) { c.SwiGLUBackward(t[0], t[1], t[2], t[3], t[4]) },
			func(d *Device, t []*Tensor) { d.SwiGLUBackward(t[0], t[1], t[2], t[3], t[4]) }},
		{"RMSNorm", []tspec{{"y", []int{n, dim}, false}, {"rstd", []int{n}, false}, {"x", []int{n, dim}, false}, {"w", []int{dim}, false}}, []int{0, 1}, 2e-6,
			func(c *compute.CPU, t []*compute.Tensor) { c.RMSNorm(t[0], t[1], t[2], t[3], 1e-6) },
			func(d *Device, t []*Tensor) { d.RMSNorm(t[0], t[1], t[2], t[3], 1e-6) }},
		{"RMSNormInPlace", []tspec{{"x", []int{n, dim}, false}, {"rstd", []int{n}, false}, {"w", []int{dim}, false}}, []int{0, 1}, 2e-6,
			func(c *compute.CPU, t []*compute.Tensor) { c.RMSNorm(t[0], t[1], t[0], t[2], 1e-5) },
			func(d *Device, t []*Tensor) { d.RMSNorm(t[0], t[1], t[0], t[2], 1e-5) }},
		{"RMSNormBackward", normBack(n), []int{0, 1, 5}, 2e-5, cpuNormBack, gpuNormBack},
		{"Linear", []tspec{{"y", []int{n, out}, false}, {"x", []int{n, in}, false}, {"w", []int{out, in}, false}, {"b", []int{out}, false}}, []int{0}, 1e-5,
			func(c *compute.CPU, t []*compute.Tensor) { c.Linear(t[0], t[1], t[2], t[3]) },
			func(d *Device, t []*Tensor) { d.Linear(t[0], t[1], t[2], t[3]) }},
		{"LinearNoBias", []tspec{{"y", []int{n, out}, false}, {"x", []int{n, in}, false}, {"w", []int{out, in}, false}}, []int{0}, 1e-5,
			func(c *compute.CPU, t []*compute.Tensor) { c.Linear(t[0], t[1], t[2], nil) },
			func(d *Device, t []*Tensor) { d.Linear(t[0], t[1], t[2], nil) }},
		{"LinearBackward", []tspec{{"dx", []int{n, in}, false}, {"dw", []int{out, in}, false}, {"db", []int{out}, false},
			{"dy", []int{n, out}, false}, {"x", []int{n, in}, false}, {"w", []int{out, in}, false}}, []int{0, 1, 2}, 1e-5,
			func(c *compute.CPU, t []*compute.Tensor) { c.LinearBackward(t[0], t[1], t[2], t[3], t[4], t[5]) },
			func(d *Device, t []*Tensor) { d.LinearBackward(t[0], t[1], t[2], t[3], t[4], t[5]) }},
		{"MatMulTransA", []tspec{{"c", []int{out, n}, false}, {"a", []int{in, out}, false}, {"b", []int{in, n}, false}}, []int{0}, 1e-5,
			func(c *compute.CPU, t []*compute.Tensor) { c.MatMul(t[0], t[1], t[2], true, false, 0.7, 0.3) },
			func(d *Device, t []*Tensor) { d.MatMul(t[0], t[1], t[2], true, false, 0.7, 0.3) }},
		{"MatMulTransB", []tspec{{"c", []int{n, out}, false}, {"a", []int{n, in}, false}, {"b", []int{out, in}, false}}, []int{0}, 1e-5,
			func(c *compute.CPU, t []*compute.Tensor) { c.MatMul(t[0], t[1], t[2], false, true, 1.5, 0) },
			func(d *Device, t []*Tensor) { d.MatMul(t[0], t[1], t[2], false, true, 1.5, 0) }},
		{"AdamW", []tspec{{"p", []int{n, dim}, false}, {"g", []int{n, dim}, false}, {"m", []int{n, dim}, false}, {"v", []int{n, dim}, true}}, []int{0, 2, 3}, 1e-6,
			func(c *compute.CPU, t []*compute.Tensor) { c.AdamW(t[0], t[1], t[2], t[3], step) },
			func(d *Device, t []*Tensor) { d.AdamW(t[0], t[1], t[2], t[3], step) }},
		{"TokenLogProbs", []tspec{{"lp", []int{n}, false}, {"lse", []int{n}, false}, {"logits", []int{n, v}, false}}, []int{0, 1}, 2e-6,
			func(c *compute.CPU, t []*compute.Tensor) { c.TokenLogProbs(t[0], t[1], t[2], targets, invTemp) },
			func(d *Device, t []*Tensor) { d.TokenLogProbs(t[0], t[1], t[2], targets, invTemp) }},
		{"TokenLogProbsNegTemp", []tspec{{"lp", []int{n}, false}, {"lse", []int{n}, false}, {"logits", []int{n, v}, false}}, []int{0, 1}, 2e-6,
			func(c *compute.CPU, t []*compute.Tensor) { c.TokenLogProbs(t[0], t[1], t[2], targets, -invTemp) },
			func(d *Device, t []*Tensor) { d.TokenLogProbs(t[0], t[1], t[2], targets, -invTemp) }},
		{"Embedding", []tspec{{"out", []int{n, dim}, false}, {"table", []int{vocab, dim}, false}}, []int{0}, 0,
			func(c *compute.CPU, t []*compute.Tensor) { c.Embedding(t[0], t[1], ids) },
			func(d *Device, t []*Tensor) { d.Embedding(t[0], t[1], ids) }},
		{"EmbeddingBackward", []tspec{{"dtable", []int{vocab, dim}, false}, {"dout", []int{n, dim}, false}}, []int{0}, 1e-7,
			func(c *compute.CPU, t []*compute.Tensor) { c.EmbeddingBackward(t[0], t[1], ids) },
			func(d *Device, t []*Tensor) { d.EmbeddingBackward(t[0], t[1], ids) }},
		{"GatherScatterRows", []tspec{{"out", []int{n, dim}, false}, {"x", []int{vocab, dim}, false}, {"dx", []int{vocab, dim}, false}}, []int{0, 2}, 1e-7,
			func(c *compute.CPU, t []*compute.Tensor) {
				c.GatherRows(t[0], t[1], ids)
				c.ScatterRowsBackward(t[2], t[0], ids)
			},
			func(d *Device, t []*Tensor) { d.GatherRows(t[0], t[1], ids); d.ScatterRowsBackward(t[2], t[0], ids) }},
		{"RoPE", rope, []int{0}, 1e-6,
			func(c *compute.CPU, t []*compute.Tensor) { c.RoPE(t[0], t[1], pos, cpuRoPE(c), heads) },
			func(d *Device, t []*Tensor) { d.RoPE(t[0], t[1], pos, gpuRoPE(d), heads) }},
		{"RoPEInPlace", rope, []int{1}, 1e-6,
			func(c *compute.CPU, t []*compute.Tensor) { c.RoPE(t[1], t[1], pos, cpuRoPE(c), heads) },
			func(d *Device, t []*Tensor) { d.RoPE(t[1], t[1], pos, gpuRoPE(d), heads) }},
		{"RoPEBackward", rope, []int{0}, 1e-6,
			func(c *compute.CPU, t []*compute.Tensor) { c.RoPEBackward(t[0], t[1], pos, cpuRoPE(c), heads) },
			func(d *Device, t []*Tensor) { d.RoPEBackward(t[0], t[1], pos, gpuRoPE(d), heads) }},
		{"KL", []tspec{{"kl", []int{n}, false}, {"p", []int{n, v}, false}, {"q", []int{n, v}, false}}, []int{0}, 1e-5,
			func(c *compute.CPU, t []*compute.Tensor) { c.KL(t[0], t[1], t[2], invTemp) },
			func(d *Device, t []*Tensor) { d.KL(t[0], t[1], t[2], invTemp) }},
		{"KLSelf", []tspec{{"kl", []int{n}, false}, {"p", []int{n, v}, false}}, []int{0}, 1e-5,
			func(c *compute.CPU, t []*compute.Tensor) { c.KL(t[0], t[1], t[1], invTemp) },
			func(d *Device, t []*Tensor) { d.KL(t[0], t[1], t[1], invTemp) }},
		{"Entropy", []tspec{{"ent", []int{n}, false}, {"logits", []int{n, v}, false}}, []int{0}, 1e-5,
			func(c *compute.CPU, t []*compute.Tensor) { c.Entropy(t[0], t[1], invTemp) },
			func(d *Device, t []*Tensor) { d.Entropy(t[0], t[1], invTemp) }},
		{"CacheWriteAttentionDecode", decode, []int{0, 2, 3}, 1e-5,
			func(c *compute.CPU, t []*compute.Tensor) {
				c.CacheWrite(t[2], t[3], t[4], t[5], ad, maxLen, past)
				c.AttentionDecode(t[0], t[1], t[2], t[3], ad, maxLen, past, kStart)
			},
			func(d *Device, t []*Tensor) {
				d.CacheWrite(t[2], t[3], t[4], t[5], ad, maxLen, past)
				d.AttentionDecode(t[0], t[1], t[2], t[3], ad, maxLen, past, kStart)
			}},
		{"AttentionDecodeNoPadding", decode, []int{0}, 1e-5,
			func(c *compute.CPU, t []*compute.Tensor) {
				c.AttentionDecode(t[0], t[1], t[2], t[3], ad, maxLen, past, nil)
			},
			func(d *Device, t []*Tensor) { d.AttentionDecode(t[0], t[1], t[2], t[3], ad, maxLen, past, nil) }},
		{"TokenLogProbsBackward", []tspec{{"dlogits", []int{n, v}, false}, {"glp", []int{n}, false}, {"logits", []int{n, v}, false},
			{"lse", []int{n}, false}, {"lp", []int{n}, false}}, []int{0}, 2e-6,
			func(c *compute.CPU, t []*compute.Tensor) {
				c.TokenLogProbs(t[4], t[3], t[2], targets, invTemp)
				c.TokenLogProbsBackward(t[0], t[1], t[2], t[3], targets, invTemp)
			},
			func(d *Device, t []*Tensor) {
				d.TokenLogProbs(t[4], t[3], t[2], targets, invTemp)
				d.TokenLogProbsBackward(t[0], t[1], t[2], t[3], targets, invTemp)
			}},
	}
}

// TestConformance checks every op of the device against the CPU backend on
// three draws of shapes.
func TestConformance(t *testing.T) {
	d := openOrSkip(t)
	cpu := compute.NewCPU()
	for seed := int64(1); seed <= 3; seed++ {
		rng := rand.New(rand.NewSource(seed))
		for _, c := range cases(rng) {
			t.Run(fmt.Sprintf("%s/seed%d", c.name, seed), func(t *testing.T) {
				runCase(t, d, cpu, c, rng)
			})
		}
	}
}

func runCase(t *testing.T, d *Device, cpu *compute.CPU, c opCase, rng *rand.Rand) {
	ct := make([]*compute.Tensor, len(c.tensors))
	gt := make([]*Tensor, len(c.tensors))
	for i, s := range c.tensors {
		vals := make([]float32, prod(s.dims))
		for j := range vals {
			vals[j] = float32(rng.NormFloat64())
			if s.pos {
				vals[j] = float32(math.Abs(rng.NormFloat64()))
			}
		}
		ct[i] = cpu.New(s.name, s.dims...)
		cpu.Write(ct[i], vals)
		g, err := d.New(s.name, s.dims...)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Free(g)
		if err := d.Write(g, vals); err != nil {
			t.Fatal(err)
		}
		gt[i] = g
	}
	c.cpu(cpu, ct)
	c.gpu(d, gt)
	for _, o := range c.outs {
		want := make([]float32, ct[o].Len())
		got := make([]float32, gt[o].Len())
		cpu.Read(want, ct[o])
		if err := d.Read(got, gt[o]); err != nil {
			t.Fatal(err)
		}
		worst, at := 0.0, -1
		for i := range want {
			e := math.Abs(float64(got[i])-float64(want[i])) / (1 + math.Abs(float64(want[i])))
			if e > worst || math.IsNaN(e) {
				worst, at = e, i
			}
		}
		if worst > c.tol || math.IsNaN(worst) {
			t.Errorf("%s %v: element %d is %g on the device, %g on the CPU (relative error %.3g > %.3g)",
				c.name, gt[o], at, got[at], want[at], worst, c.tol)
		}
	}
}

func prod(dims []int) int {
	n := 1
	for _, v := range dims {
		n *= v
	}
	return n
}

// TestBatching checks that ops record without waiting: a chain of ops costs
// one submission, made by the Read that needs its result.
func TestBatching(t *testing.T) {
	d := openOrSkip(t)
	x, err := d.New("x", 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Free(x)
	ones := make([]float32, 1000)
	for i := range ones {
		ones[i] = 1
	}
	if err := d.Flush(); err != nil {
		t.Fatal(err)
	}
	before := d.Submits()
	if err := d.Write(x, ones); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		d.Accumulate(x, x) // doubles
	}
	d.Scale(x, 1.0/(1<<20))
	got := make([]float32, 1000)
	if err := d.Read(got, x); err != nil {
		t.Fatal(err)
	}
	if n := d.Submits() - before; n != 1 {
		t.Errorf("22 ops and a read took %d submissions, want 1", n)
	}
	for i, v := range got {
		if v != 1 {
			t.Fatalf("x[%d] = %g after doubling 20 times and scaling by 2^-20, want 1", i, v)
		}
	}
}

// TestLargeWrite sends more than the upload arena holds, so the write is
// split across batches and the arena reused.
func TestLargeWrite(t *testing.T) {
	d := openOrSkip(t)
	n := uploadArena/4 + 12345
	x, err := d.New("big", n)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Free(x)
	src := make([]float32, n)
	for i := range src {
		src[i] = float32(i % 1000)
	}
	if err := d.Write(x, src); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, n)
	if err := d.Read(got, x); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i] != src[i] {
			t.Fatalf("element %d: read %g, wrote %g", i, got[i], src[i])
		}
	}
}

// TestBadInput: requests the device cannot meet come back as errors naming
// the device and the CPU fallback, never as panics.
func TestBadInput(t *testing.T) {
	d := openOrSkip(t)
	cases := []struct {
		name string
		run  func() error
		kind error
	}{
		{"tensor past maxMemoryAllocationSize", func() error {
			_, err := d.New("huge", int(d.Info().MaxAllocation/4)+1)
			return err
		}, ErrTooLarge},
		{"allocation past device memory", func() error {
			_, err := d.newBuffer(1<<50, memDeviceLocal, 0, "a petabyte buffer")
			return err
		}, ErrOutOfMemory},
		{"negative dimension", func() error {
			_, err := d.New("neg", 3, -1)
			return err
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.run()
			if err == nil {
				t.Fatal("no error")
			}
			if c.kind != nil {
				if !errors.Is(err, c.kind) {
					t.Errorf("error %q is not %v", err, c.kind)
				}
				if !strings.Contains(err.Error(), d.Info().Name) || !strings.Contains(err.Error(), "--device cpu") {
					t.Errorf("error %q names neither the device nor the CPU fallback", err)
				}
			}
		})
	}
	if d.err != nil {
		t.Errorf("a refused request broke the device: %v", d.err)
	}
}

// TestTooLargeSaysSizes: a tensor past one allocation is refused with its
// size and the limit in units that show them; under a lowered limit both
// read "0 MiB", so the refusal said nothing of how far past it was.
func TestTooLargeSaysSizes(t *testing.T) {
	openOrSkip(t)
	t.Setenv("RLT_VULKAN_MAX_ALLOCATION", "65536")
	d, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, c := range []struct {
		n    int
		want string
	}{
		{34816, "136.0 KiB, past the 64.0 KiB"},
		{3 << 18, "3.0 MiB, past the 64.0 KiB"},
	} {
		_, err := d.New("big", c.n)
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "big") {
			t.Errorf("New(%d floats) under a 64 KiB allocation: %v; want ErrTooLarge naming the tensor and %q", c.n, err, c.want)
		}
	}
}

// TestOpenWithoutLoader points the loader search at a library that does not
// exist: Open must return ErrNoLoader, not panic.
func TestOpenWithoutLoader(t *testing.T) {
	t.Setenv("RLT_VULKAN_LOADER", "/nonexistent/libvulkan.so.1")
	d, err := Open()
	if err == nil {
		d.Close()
		t.Fatal("Open succeeded without a loader")
	}
	if !errors.Is(err, ErrNoLoader) || !strings.Contains(err.Error(), "--device cpu") {
		t.Errorf("error %q: want ErrNoLoader with the CPU fallback", err)
	}
	// The library that failed is the setting's: the error names it, not
	// only the packages to install.
	if !strings.Contains(err.Error(), "RLT_VULKAN_LOADER=/nonexistent/libvulkan.so.1") || !strings.Contains(err.Error(), "unset it") {
		t.Errorf("error %q: want it to name RLT_VULKAN_LOADER and its value, and say to unset it", err)
	}
}

// TestOpenWithoutDriver hides every driver from the loader: Open must
// return ErrNoDevice, though a probe made before left its instance (the
// spare, made with the drivers in view).
func TestOpenWithoutDriver(t *testing.T) {
	openOrSkip(t) // needs a loader
	if _, err := Probe(); err != nil {
		t.Fatal(err)
	}
	t.Setenv("VK_ICD_FILENAMES", "/nonexistent/icd.json")
	t.Setenv("VK_DRIVER_FILES", "/nonexistent/icd.json")
	d, err := Open()
	if err == nil {
		d.Close()
		t.Fatal("Open succeeded with no driver visible")
	}
	if !errors.Is(err, ErrNoDevice) || !strings.Contains(err.Error(), "--device cpu") {
		t.Errorf("error %q: want ErrNoDevice with the CPU fallback", err)
	}
}

// refusesSetting checks that Open fails with an ErrSetting naming env for
// each of values (set in turn for t), and that Probe, which a run asks
// before its folder exists, refuses it alike.
func refusesSetting(t *testing.T, env string, values ...string) {
	t.Helper()
	for _, v := range values {
		t.Setenv(env, v)
		d, err := Open()
		if err == nil {
			d.Close()
		}
		if !errors.Is(err, ErrSetting) || !strings.Contains(err.Error(), env) || strings.Contains(err.Error(), "--device cpu") {
			t.Fatalf("Open with %s=%q: %v, want an ErrSetting naming it and what to set, not the CPU", env, v, err)
		}
		if _, err := Probe(); !errors.Is(err, ErrSetting) || !strings.Contains(err.Error(), env) {
			t.Fatalf("Probe with %s=%q: %v, want Open's ErrSetting naming it", env, v, err)
		}
	}
}

// TestPushDescriptorsSetting: RLT_VULKAN_PUSH_DESCRIPTORS takes 0 and 1;
// any other value was taken as 1 without a word.
func TestPushDescriptorsSetting(t *testing.T) {
	for v, want := range map[string]bool{"": true, "1": true, "0": false} {
		if got, err := pushDescriptorsSetting(v); err != nil || got != want {
			t.Errorf("pushDescriptorsSetting(%q) = %v, %v; want %v", v, got, err, want)
		}
	}
	openOrSkip(t)
	refusesSetting(t, "RLT_VULKAN_PUSH_DESCRIPTORS", "no", "off", "true", "2")
}

// TestLoseAfter: RLT_VULKAN_LOSE_AFTER=N makes the Nth batch's fence
// report the device lost, as a driver would: that Flush and every later
// one return an ErrDeviceLost naming the device and the CPU fallback, and
// reads fail; a value that is not a positive count fails Open.
func TestLoseAfter(t *testing.T) {
	openOrSkip(t)
	refusesSetting(t, "RLT_VULKAN_LOSE_AFTER", "0", "-1", "two")
	t.Setenv("RLT_VULKAN_LOSE_AFTER", "2")
	d, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	x, err := d.New("x", 4)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, 4)
	for batch := 1; batch <= 3; batch++ {
		d.Scale(x, 2)
		err := d.Flush()
		if lost := batch >= 2; lost != (err != nil) {
			t.Fatalf("batch %d: Flush = %v, want lost %v", batch, err, lost)
		}
		if err != nil && (!errors.Is(err, ErrDeviceLost) || !strings.Contains(err.Error(), d.Info().Name) || !strings.Contains(err.Error(), "--device cpu")) {
			t.Fatalf("batch %d: %v, want ErrDeviceLost naming the device and the CPU fallback", batch, err)
		}
	}
	if err := d.Read(out, x); !errors.Is(err, ErrDeviceLost) {
		t.Fatalf("Read after the loss: %v, want ErrDeviceLost", err)
	}
}

// TestCloseAfterLoss: a Backend whose device was lost mid-run closes as
// runner.Handle.Close closes it after the final checkpoint. Close submits
// nothing more (a lost device's fence may never signal), frees every
// buffer it held (live tensors, a tensor freed while the lost batch
// recorded, the scratch slots and the head's scratch, the RoPE tables),
// and its Err still says the device was lost: "it is closed" in its place
// hid why the run stopped from whoever reads Err after Close. A second
// Close, tensors used, freed or collected after it, and a healthy
// device's Close (Err: closed) do nothing more.
func TestCloseAfterLoss(t *testing.T) {
	openOrSkip(t)
	for _, c := range []struct {
		name      string
		loseAfter string
		want      error  // Err after Close
		says      string // in Err's text
	}{
		{"lost", "2", ErrDeviceLost, "VK_ERROR_DEVICE_LOST"},
		{"healthy", "", ErrVulkan, "closed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("RLT_VULKAN_LOSE_AFTER", c.loseAfter)
			d, err := Open()
			if err != nil {
				t.Fatal(err)
			}
			b := NewBackend(d)
			const rows, dm, vocab = 6, 8, 40
			h, w := b.New("h", rows, dm), b.New("w", vocab, dm)
			vals := make([]float32, vocab*dm)
			for i := range vals {
				vals[i] = float32(i%7) / 7
			}
			b.Write(h, vals[:rows*dm])
			b.Write(w, vals)
			rope := b.NewRoPETable(16, dm, 10000)
			if rope.Cos == nil || rope.Sin == nil {
				t.Fatal("NewRoPETable made no tables")
			}
			lp, lse := b.New("lp", rows, 1), b.New("lse", rows, 1)
			targets := []int32{1, 2, -1, 3, 4, 5}
			b.HeadLogProbs(lp, lse, nil, h, w, vocab, targets, 1) // the head's scratch
			ids := make([]int32, rows)
			b.Argmax(ids, h) // a scratch slot; waits for batch 1
			if err := b.Err(); err != nil {
				t.Fatalf("batch 1: %v", err)
			}
			gone := b.New("gone", rows, dm)
			b.Scale(h, 2)
			d.Free(gone.Storage().(*Tensor)) // the batch may use it: freed after its fence
			err = d.Flush()
			if lost := c.loseAfter != ""; lost != (err != nil) || lost && !errors.Is(err, ErrDeviceLost) {
				t.Fatalf("batch 2: Flush = %v, want lost %v", err, lost)
			}
			if len(d.garbage) == 0 && err != nil {
				t.Fatal("the lost batch left no buffer to free: the test no longer reaches Close's garbage")
			}
			held, _ := b.MemoryUse()
			if held == 0 {
				t.Fatal("the device holds no memory before Close")
			}
			submits := d.Submits()

			b.Close()
			if d.Submits() != submits {
				t.Errorf("Close submitted %d batches more", d.Submits()-submits)
			}
			if held, _ := d.MemoryUse(); held != 0 || len(d.tensors) != 0 || len(d.garbage) != 0 || d.backendBytes != 0 {
				t.Errorf("after Close the device holds %d bytes of device memory, %d tensors, %d buffers to free, %d of the Backend's bytes; want none",
					held, len(d.tensors), len(d.garbage), d.backendBytes)
			}
			check := func(when string) {
				t.Helper()
				if err := b.Err(); !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) || !strings.Contains(err.Error(), d.Info().Name) {
					t.Errorf("Err %s: %v; want %v saying %q and naming the device", when, err, c.want, c.says)
				}
			}
			check("after Close")

			// After Close: a second Close, ops, reads, new tensors, Free and
			// the finalizers of collected tensors touch no Vulkan handle.
			b.Close()
			b.Scale(h, 2)
			if err := d.Read(make([]float32, rows*dm), h.Storage().(*Tensor)); err == nil {
				t.Error("Read after Close returned no error")
			}
			b.New("after", 3)
			d.Free(w.Storage().(*Tensor))
			h, w, lp, lse, rope, gone = nil, nil, nil, nil, nil, nil
			runtime.GC()
			runtime.GC()
			b.HeldBytes() // reaps the collected tensors' buffers
			check("after a second Close and use")
		})
	}
}

// TestCloseAfterHang: a device whose batch gave no answer within the
// fence's timeout (acted out with hangAfter) may still be running it, so
// Close returns without waiting for it again (vkDeviceWaitIdle, which has
// no timeout, could block a run's end for good) or submitting more, frees
// nothing that batch may still use (the device's memory stays held), and
// keeps the timeout as Err; a second Close, reads and Free touch nothing.
//
// The device it opens is never freed, as Close leaves a hung one: it runs
// in a child process of its own (inHangChild).
func TestCloseAfterHang(t *testing.T) {
	if !inHangChild(t) {
		return
	}
	d, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	d.hangAfter = 2
	x, err := d.New("x", 4)
	if err != nil {
		t.Fatal(err)
	}
	d.Scale(x, 2)
	if err := d.Flush(); err != nil {
		t.Fatalf("batch 1: %v", err)
	}
	d.Scale(x, 2)
	if err := d.Flush(); !errors.Is(err, ErrDeviceLost) || !strings.Contains(err.Error(), "no answer") || !strings.Contains(err.Error(), hungMemory) {
		t.Fatalf("batch 2: Flush = %v, want ErrDeviceLost: no answer, saying %q", err, hungMemory)
	}
	held, _ := d.MemoryUse()
	submits := d.Submits()
	d.Close()
	if d.Submits() != submits {
		t.Errorf("Close submitted %d batches more", d.Submits()-submits)
	}
	if now, _ := d.MemoryUse(); now != held {
		t.Errorf("Close of a hung device freed %d of the %d bytes its batch may still use", held-now, held)
	}
	if err := d.Read(make([]float32, 4), x); !errors.Is(err, ErrDeviceLost) || !strings.Contains(err.Error(), "no answer") {
		t.Errorf("Read after Close: %v, want the timeout", err)
	}
	d.Free(x)
	d.Close()
}

// hangChild, set to 1, has a test that hangs its device (inHangChild) do
// so in this process: the child process it starts.
const hangChild = "RLT_TEST_HANG_CHILD"

// inHangChild reports whether t is to hang a device here, in a child
// process (the test binary again, hangChild set, running t alone); in the
// parent it runs that child and fails t where the child did not pass.
//
// A hung device is never freed (its VkDevice and VkInstance, their
// pipelines, staging buffers and driver threads), as Close leaves a hung
// one, until the process ends: on lavapipe each run held 45 MB and 6
// threads more for the rest of the package's tests (-count=6: 178 MB and
// 18 threads after the first, 403 MB and 48 after the sixth; a device
// opened and closed whole leaves the threads at 12), and on a GPU it would
// hold that GPU's memory under the tests that measure theirs; a batch
// still running would take the CPU from them. The child's end frees it.
func inHangChild(t *testing.T) bool {
	t.Helper()
	openOrSkip(t)
	if os.Getenv(hangChild) == "1" {
		return true
	}
	args := []string{"-test.run=^" + t.Name() + "$", "-test.v", "-test.count=1"}
	if dl, ok := t.Deadline(); ok {
		// The child's own timeout, before this one: a Close that
		// waits for the hung batch then ends the child with its
		// goroutines said here, where this process's timeout said only
		// that it waited for the child, and left the child running, the
		// device hung, after it.
		args = append(args, "-test.timeout="+max(time.Until(dl)*9/10, time.Second).String())
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), hangChild+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil && strings.Contains(string(out), "--- SKIP: "+t.Name()) {
		t.Skipf("the child process skipped:\n%s", out)
	}
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("the child process that hangs a device: %v:\n%s", err, out)
	}
	return false
}

// TestSetMatmulAfterFailure: SetMatmul(MatmulF16) on a device that is
// closed or lost answers with the device's error and builds no kernel (the
// cooperative-matrix kernels wait for the first SetMatmul(f16)): a closed
// device has no handles to build them with, and a lost one would run
// nothing it records. The products' precision stays float32. Each device
// is said to have cooperative matrices (Info.MatmulF16), so that the test
// reaches the build on any device: the refusal comes before it.
func TestSetMatmulAfterFailure(t *testing.T) {
	openOrSkip(t)
	for _, c := range []struct {
		name      string
		loseAfter string
		fail      func(t *testing.T, d *Device)
		want      error  // SetMatmul's error
		says      string // in its text
	}{
		{"closed", "", func(t *testing.T, d *Device) { d.Close() }, ErrVulkan, "closed"},
		{"lost", "1", func(t *testing.T, d *Device) {
			x, err := d.New("x", 4)
			if err != nil {
				t.Fatal(err)
			}
			d.Scale(x, 2)
			if err := d.Flush(); !errors.Is(err, ErrDeviceLost) {
				t.Fatalf("Flush = %v, want the device lost", err)
			}
		}, ErrDeviceLost, "VK_ERROR_DEVICE_LOST"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("RLT_VULKAN_LOSE_AFTER", c.loseAfter)
			d, err := Open()
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			d.info.MatmulF16 = true
			c.fail(t, d)
			err = d.SetMatmul(MatmulF16)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) {
				t.Errorf("SetMatmul(%q) = %v; want %v saying %q", MatmulF16, err, c.want, c.says)
			}
			if d.coopBuilt || d.Matmul() != MatmulF32 {
				t.Errorf("SetMatmul(%q) built the cooperative kernels (%v) or chose %q", MatmulF16, d.coopBuilt, d.Matmul())
			}
		})
	}
}

// TestHostResults checks the ops that return to the host (Argmax,
// SumSquares) against the CPU backend, ties and non-finite values
// included.
func TestHostResults(t *testing.T) {
	d := openOrSkip(t)
	cpu := compute.NewCPU()
	rng := rand.New(rand.NewSource(7))
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	cases := []struct {
		name string
		rows int
		vals []float32
	}{
		{"random", 0, nil},
		{"ties pick the first", 2, []float32{1, 3, 3, 0, 5, 5, 5, 5}},
		{"NaN never wins", 2, []float32{nan, 1, nan, 2, 7, nan, 7, 1}},
		{"only -Inf", 1, []float32{-inf, -inf, -inf}},
		{"+Inf", 1, []float32{0, inf, 1}},
		{"a NaN", 1, []float32{0, 1, nan}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.vals == nil {
				c.rows = 37
				c.vals = make([]float32, 37*1201)
				for i := range c.vals {
					c.vals[i] = float32(rng.NormFloat64())
				}
			}
			cols := len(c.vals) / c.rows
			ct := cpu.New("x", c.rows, cols)
			cpu.Write(ct, c.vals)
			g, err := d.New("x", c.rows, cols)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Free(g)
			if err := d.Write(g, c.vals); err != nil {
				t.Fatal(err)
			}
			want, got := make([]int32, c.rows), make([]int32, c.rows)
			cpu.Argmax(want, ct)
			if err := d.Argmax(got, g); err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("argmax row %d: device %d, CPU %d", i, got[i], want[i])
				}
			}
			ss, err := d.SumSquares(g)
			if err != nil {
				t.Fatal(err)
			}
			ws := cpu.SumSquares(ct)
			if finite := !math.IsNaN(ws) && !math.IsInf(ws, 0); finite && math.Abs(ss-ws) > 1e-6*ws ||
				!finite && !math.IsNaN(ss) && !math.IsInf(ss, 1) {
				t.Errorf("SumSquares: device %.9g, CPU %.9g", ss, ws)
			}
		})
	}
}

// TestUploadsAcrossBatches crosses the batch's descriptor-set limit many
// times with ops whose ids ride in the upload arena: ids uploaded just
// before a batch boundary must survive into the next batch.
func TestUploadsAcrossBatches(t *testing.T) {
	d := openOrSkip(t)
	cpu := compute.NewCPU()
	rng := rand.New(rand.NewSource(11))
	const rows, dim, vocab, iters = 5, 3, 17, 700
	table := randVals(vocab*dim, 3)
	ct, cout, cacc := cpu.New("table", vocab, dim), cpu.New("out", rows, dim), cpu.New("acc", rows, dim)
	cdt := cpu.New("dtable", vocab, dim)
	cpu.Write(ct, table)
	gt, _ := d.New("table", vocab, dim)
	gout, _ := d.New("out", rows, dim)
	gdt, _ := d.New("dtable", vocab, dim)
	defer d.Free(gdt)
	d.Zero(gdt)
	gacc, err := d.New("acc", rows, dim)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { d.Free(gt); d.Free(gout); d.Free(gacc) }()
	if err := d.Write(gt, table); err != nil {
		t.Fatal(err)
	}
	// Right after each boundary, a large write fills the fresh arena from
	// its start, where an unprotected id upload of the old batch would sit.
	junkVals := randVals(1<<20, 4)
	junk, err := d.New("junk", len(junkVals))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Free(junk)
	before := d.Submits()
	for range iters {
		ids := make([]int32, rows)
		for i := range ids {
			ids[i] = int32(rng.Intn(vocab))
		}
		cpu.GatherRows(cout, ct, ids)
		cpu.Accumulate(cacc, cout)
		s := d.Submits()
		d.GatherRows(gout, gt, ids)
		if d.Submits() != s {
			if err := d.Write(junk, junkVals); err != nil {
				t.Fatal(err)
			}
		}
		d.Accumulate(gacc, gout)
		cpu.ScatterRowsBackward(cdt, cout, ids)
		s = d.Submits()
		d.ScatterRowsBackward(gdt, gout, ids)
		if d.Submits() != s {
			if err := d.Write(junk, junkVals); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := d.Submits() - before; n < 2 {
		t.Fatalf("%d dispatches took %d submissions: the test never crossed a batch boundary", 3*iters, n)
	}
	for _, c := range []struct {
		name string
		cpu  *compute.Tensor
		dev  *Tensor
	}{{"gathered sum", cacc, gacc}, {"scattered table", cdt, gdt}} {
		want, got := make([]float32, c.cpu.Len()), make([]float32, c.dev.n)
		cpu.Read(want, c.cpu)
		if err := d.Read(got, c.dev); err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > 1e-4*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("%s element %d: device %g, CPU %g", c.name, i, got[i], want[i])
			}
		}
	}
}

// TestClosedDevice: a closed device refuses work with an error and
// tolerates Free, never crashing in the driver.
func TestClosedDevice(t *testing.T) {
	openOrSkip(t) // a device must exist
	d, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	x, err := d.New("x", 10)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	d.Scale(x, 2)
	if err := d.Read(make([]float32, 10), x); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("read after close: %v, want an error saying the device is closed", err)
	}
	if _, err := d.New("y", 3); err == nil {
		t.Error("New after close succeeded")
	}
	d.Free(x)
	d.Close()
}

// TestAttentionDecodeSplit runs decode with a scores budget so small that
// every call is split into many dispatches sharing one scratch buffer.
func TestAttentionDecodeSplit(t *testing.T) {
	d := openOrSkip(t)
	old := decodeScratchBytes
	decodeScratchBytes = 3 * 64 * 4 // three items per dispatch at maxLen 64
	defer func() { decodeScratchBytes = old }()
	cpu := compute.NewCPU()
	rng := rand.New(rand.NewSource(5))
	for _, c := range cases(rng) {
		if strings.HasPrefix(c.name, "CacheWriteAttentionDecode") {
			runCase(t, d, cpu, c, rng)
		}
	}
}

// TestFreezeWeights: a frozen weight computes as before and refuses writes
// until thawed, as on the CPU backend.
func TestFreezeWeights(t *testing.T) {
	d := openOrSkip(t)
	w, err := d.New("w", 3, 4)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := d.New("x", 2, 4)
	y, _ := d.New("y", 2, 3)
	defer func() { d.Free(w); d.Free(x); d.Free(y) }()
	wv, xv := randVals(12, 1), randVals(8, 2)
	if err := d.Write(w, wv); err != nil {
		t.Fatal(err)
	}
	if err := d.Write(x, xv); err != nil {
		t.Fatal(err)
	}
	before, after := make([]float32, 6), make([]float32, 6)
	d.Linear(y, x, w, nil)
	if err := d.Read(before, y); err != nil {
		t.Fatal(err)
	}
	d.FreezeWeights([]*Tensor{w})
	d.Linear(y, x, w, nil)
	if err := d.Read(after, y); err != nil {
		t.Fatal(err)
	}
	for i := range before {
		if before[i] != after[i] {
			t.Fatalf("y[%d] is %g frozen, %g before", i, after[i], before[i])
		}
	}
	writes := map[string]func(){
		"Write":      func() { _ = d.Write(w, wv) },
		"Zero":       func() { d.Zero(w) },
		"Scale":      func() { d.Scale(w, 2) },
		"Accumulate": func() { d.Accumulate(w, w) },
	}
	for name, f := range writes {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s on a frozen weight did not panic", name)
				}
			}()
			f()
		}()
	}
	d.ThawWeights([]*Tensor{w})
	if w.Frozen() {
		t.Error("still frozen after ThawWeights")
	}
	d.Scale(w, 2) // allowed again
	if err := d.Flush(); err != nil {
		t.Fatal(err)
	}
}

// Probe names the device Open picks, with its memory, without opening it.
func TestProbe(t *testing.T) {
	d := openOrSkip(t)
	in, err := Probe()
	if err != nil {
		t.Fatal(err)
	}
	want := d.Info()
	if in.Name != want.Name || in.Type != want.Type || in.DeviceLocalBytes != want.DeviceLocalBytes || in.MaxStorageBufferRange != want.MaxStorageBufferRange {
		t.Fatalf("Probe = %q %s %d bytes, Open = %q %s %d bytes", in.Name, in.Type, in.DeviceLocalBytes, want.Name, want.Type, want.DeviceLocalBytes)
	}
	if HeadBytes(in) <= 0 || HeadBytes(in) > int64(in.MaxStorageBufferRange) {
		t.Fatalf("HeadBytes = %d on a device binding %d bytes", HeadBytes(in), in.MaxStorageBufferRange)
	}
}

// TestMemoryUse: a tensor's buffer counts in the device memory held while
// it lives, and in the peak of the next look after it is freed; then the
// peak starts again from what is held.
func TestMemoryUse(t *testing.T) {
	d := openOrSkip(t)
	held0, _ := d.MemoryUse()
	x, err := d.New("x", 1<<18) // 1 MiB
	if err != nil {
		t.Fatal(err)
	}
	held1, peak1 := d.MemoryUse()
	if held1 < held0+1<<20 || peak1 != held1 {
		t.Fatalf("held %d before a 1 MiB tensor, %d (peak %d) with it", held0, held1, peak1)
	}
	d.Free(x)
	if err := d.Flush(); err != nil {
		t.Fatal(err)
	}
	held2, peak2 := d.MemoryUse()
	if held2 > held1-1<<20 || peak2 != held1 {
		t.Fatalf("after freeing it: held %d, peak %d; want %d less than %d, peak %d", held2, peak2, 1<<20, held1, held1)
	}
	if _, peak3 := d.MemoryUse(); peak3 != held2 {
		t.Fatalf("the next peak %d, want what is held, %d", peak3, held2)
	}
}

// TestSettingSaidBeforeTheChoiceFails: a mistyped RLT_VULKAN_* setting is
// refused as an ErrSetting where the choice of a device fails too (here
// gpu:N past the loader's list; alike where every device is passed over,
// pick): it said the choice's failure alone, and the typo only once that
// was fixed, or, under --device auto, never (the CPU took the run).
func TestSettingSaidBeforeTheChoiceFails(t *testing.T) {
	openOrSkip(t)
	t.Setenv("RLT_VULKAN_GEMM", "65")
	for _, index := range []int{Ranked, 99} {
		_, err := ProbeAt(index)
		if !errors.Is(err, ErrSetting) || !strings.Contains(err.Error(), "RLT_VULKAN_GEMM") {
			t.Errorf("ProbeAt(%d) with RLT_VULKAN_GEMM=65: %v, want an ErrSetting naming it", index, err)
		}
	}
}
