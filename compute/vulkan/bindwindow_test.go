package vulkan

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/backendtest"
)

// lowerWindow makes d bind windows of at most bytes, as a device with that
// maxStorageBufferRange would, until the test ends; kernels that take no
// windows keep the device's real range.
func lowerWindow(t *testing.T, d *Device, bytes uint64) {
	old := d.window
	d.window = bytes
	t.Cleanup(func() { d.window = old })
}

// TestBackendConformanceWindows runs the suite with windows of 256 bytes:
// every product, gather and scatter of more than 64 floats is split (the
// products along whichever of M, N and K shortens the operand past the
// window), decoding's fused kernels run unfused, and all must still equal
// the CPU's; then again with products split along K as on a GPU. The device is taken to align offsets to 64 bytes (lavapipe:
// 16), so that windows start on whole 32-line steps (lineStep; dispatch
// panics on a misaligned operand).
func TestBackendConformanceWindows(t *testing.T) {
	d := openOrSkip(t)
	lowerWindow(t, d, 256)
	oldAlign := d.info.MinStorageAlignment
	d.info.MinStorageAlignment = 64
	defer func() { d.info.MinStorageAlignment = oldAlign }()
	oldHead := headChunkFloats
	headChunkFloats = 1 << 10
	defer func() { headChunkFloats = oldHead }()
	if err := d.StartProfile(); err != nil {
		t.Fatalf("which kernels ran needs timestamps: %v", err)
	}
	backendtest.Run(t, func(t *testing.T) compute.Backend { return NewBackend(d) })
	// Again with every part that can be split along K split, as a GPU
	// splits products of few tiles: windows and slices together.
	oldTarget, oldMin, oldGemv := d.splitTarget, d.splitMinK, d.gemvMaxRows
	d.splitTarget, d.splitMinK, d.gemvMaxRows = 1<<20, 16, 0
	backendtest.Run(t, func(t *testing.T) compute.Backend { return NewBackend(d) })
	d.splitTarget, d.splitMinK, d.gemvMaxRows = oldTarget, oldMin, oldGemv
	runs := map[string]int{}
	for _, k := range d.StopProfile().Kernels {
		runs[k.Name] = k.Count
	}
	if runs["gemv3"]+runs["gemv3_16"]+runs["gemv_glu"]+runs["gemv_glu16"] != 0 || runs["rmsnorm"] == 0 || runs["swiglu"] == 0 || runs["gemm_reduce"] == 0 {
		t.Errorf("kernels %v: want decoding's fused kernels unfused (their weights pass the window) and products split along K", runs)
	}
}

// TestBackendConformanceWindowsCoop: the same under matmul f16, each part
// of a product scaled by its own lines' maxima on cooperative matrices.
func TestBackendConformanceWindowsCoop(t *testing.T) {
	d := coopOrSkip(t)
	lowerWindow(t, d, 256)
	oldHead := headChunkFloats
	headChunkFloats = 1 << 10
	defer func() {
		headChunkFloats = oldHead
		d.SetMatmul(MatmulF32)
	}()
	if err := d.SetMatmul(MatmulF16); err != nil {
		t.Fatal(err)
	}
	backendtest.RunWithin(t, coopTolerance, func(t *testing.T) compute.Backend { return NewBackend(d) })
}

// TestWindowsElementwise: the ops that take the same window of each
// operand (elementwise ops, SwiGLU, AdamW, conversions, sums of squares) give the
// device's own results bit for bit when a tensor spans five windows, the
// sums of squares included (their partials add in the same order).
func TestWindowsElementwise(t *testing.T) {
	d := openOrSkip(t)
	const n = 4*windowQuantum + 1234 // five windows of 16 KiB, the last short
	rng := rand.New(rand.NewPCG(7, 9))
	vals := func() []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	inputs := [][]float32{vals(), vals(), vals(), vals()}
	step := compute.AdamWStep{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.1, BC1: 0.1, BC2: 0.002}
	// run records every op on fresh tensors and reads back each result.
	run := func(window uint64) (map[string][]float32, float64) {
		lowerWindow(t, d, window)
		ts := make([]*Tensor, len(inputs))
		for i, v := range inputs {
			var err error
			if ts[i], err = d.New("x", n); err != nil {
				t.Fatal(err)
			}
			if err := d.Write(ts[i], v); err != nil {
				t.Fatal(err)
			}
		}
		a, b, m, v := ts[0], ts[1], ts[2], ts[3]
		out, _ := d.New("out", n)
		half, _ := d.New16("half", compute.BF16, n)
		back, _ := d.New("back", n)
		d.Add(out, a, b)
		d.SwiGLU(out, out, b)
		d.SwiGLUBackward(m, v, a, out, b)
		d.Accumulate(out, a)
		d.Scale(out, 0.75)
		d.Mix(out, b, 0.25)
		d.Copy(half, out)
		d.Mix(half, a, 0.5)
		d.Copy(back, half)
		d.AdamW(a, b, m, v, step)
		ss, err := d.SumSquares(out)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]float32{}
		for name, x := range map[string]*Tensor{"elementwise": out, "bf16 mix": back, "adamw p": a, "adamw m": m, "adamw v": v} {
			r := make([]float32, n)
			if err := d.Read(r, x); err != nil {
				t.Fatal(err)
			}
			got[name] = r
		}
		return got, ss
	}
	whole, wholeSS := run(d.info.MaxStorageBufferRange)
	split, splitSS := run(16 << 10)
	for name, w := range whole {
		for i := range w {
			if math.Float32bits(w[i]) != math.Float32bits(split[name][i]) {
				t.Fatalf("%s element %d: %g in windows, %g whole", name, i, split[name][i], w[i])
			}
		}
	}
	if wholeSS != splitSS {
		t.Errorf("sum of squares: %v in windows, %v whole", splitSS, wholeSS)
	}
}

// TestWindowsRefuseOtherKernels: a kernel that takes no windows, given an
// operand past the binding range, fails the device with ErrTooLarge
// naming the kernel and the sizes, instead of reaching the driver.
func TestWindowsRefuseOtherKernels(t *testing.T) {
	openOrSkip(t) // a device is present
	t.Setenv("RLT_VULKAN_MAX_BINDING", "65536")
	d, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Info().MaxStorageBufferRange != 65536 {
		t.Fatalf("RLT_VULKAN_MAX_BINDING=65536: the range is %d", d.Info().MaxStorageBufferRange)
	}
	x, _ := d.New("x", 20000, 2) // 156 KiB
	y, _ := d.New("y", 20000, 2)
	w, _ := d.New("w", 2)
	rstd, _ := d.New("rstd", 20000)
	d.RMSNorm(y, rstd, x, w, 1e-6)
	err = d.Flush()
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "rmsnorm") || !strings.Contains(err.Error(), "156.2 KiB, past the 64.0 KiB") {
		t.Errorf("rmsnorm over 156 KiB rows with a 64 KiB range: %v, want ErrTooLarge naming the kernel and sizes", err)
	}
}

func TestMaxBytesSetting(t *testing.T) {
	for _, c := range []struct {
		v    string
		want uint64
		ok   bool
	}{{"", 0, true}, {"65536", 65536, true}, {"134217728", 134217728, true}, {"1024", 0, false}, {"64KiB", 0, false}, {"-1", 0, false}} {
		got, err := maxBytesSetting(c.v)
		if got != c.want || (err == nil) != c.ok {
			t.Errorf("maxBytesSetting(%q) = %d, %v; want %d, ok %v", c.v, got, err, c.want, c.ok)
		}
	}
}
