package vulkan

import (
	"fmt"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/half"
)

// TestGemv checks the few-row product (gemv, gemv16) against float64 sums
// over shapes around its 64-wide k stride and 4-column workgroups, with
// bias, with beta, and with 16-bit weights; and that more rows than it
// takes go to the tiled kernel.
func TestGemv(t *testing.T) {
	d := openOrSkip(t)
	if d.gemvMaxRows != gemvRows {
		t.Fatalf("gemvMaxRows = %d, want %d", d.gemvMaxRows, gemvRows)
	}
	for _, c := range []struct {
		m, k, n int
		bias    bool
		beta    float32
		dt      compute.DType // F32, or the weight's 16-bit type
	}{
		{1, 1, 1, false, 0, compute.F32},
		{1, 64, 4, true, 0, compute.F32},
		{5, 63, 7, false, 0.5, compute.F32},
		{8, 130, 70, true, 0, compute.F32},
		{16, 200, 9, true, 0.25, compute.F32},
		{3, 97, 13, false, 0, compute.BF16},
		{16, 65, 6, true, 0, compute.F16},
		{17, 40, 5, true, 0.5, compute.F32}, // past gemv: the tiled kernel
	} {
		t.Run(fmt.Sprintf("%dx%dx%d-%v", c.m, c.k, c.n, c.dt), func(t *testing.T) {
			xs, ws, y0, bs := randVals(c.m*c.k, 1), randVals(c.n*c.k, 2), randVals(c.m*c.n, 3), randVals(c.n, 4)
			x, _ := d.New("x", c.m, c.k)
			y, _ := d.New("y", c.m, c.n)
			b, _ := d.New("b", c.n)
			w := newOperand(t, d, "w", c.dt, ws, c.n, c.k)
			defer func() { d.Free(x); d.Free(w); d.Free(y); d.Free(b) }()
			for _, err := range []error{d.Write(x, xs), d.Write(y, y0), d.Write(b, bs)} {
				if err != nil {
					t.Fatal(err)
				}
			}
			alpha := float32(0.75)
			p := gemmPush{m: uint32(c.m), n: uint32(c.n), k: uint32(c.k), lda: uint32(c.k), ldb: uint32(c.k), ldc: uint32(c.n),
				flags: gemmTransB, alpha: alpha, beta: c.beta}
			var bias *Tensor
			if c.bias {
				bias = b
			}
			runs := kernelRuns(t, d, func() { d.gemm(y, x, w, bias, p) })
			gemv := runs["gemv"] + runs["gemv16"]
			if want := map[bool]int{true: 1, false: 0}[c.m <= gemvRows]; gemv != want {
				t.Fatalf("gemv ran %d times for %d rows, want %d (kernels: %v)", gemv, c.m, want, runs)
			}
			got := make([]float32, c.m*c.n)
			if err := d.Read(got, y); err != nil {
				t.Fatal(err)
			}
			r := refGemm{a: xs, b: ws, c0: y0, lda: c.k, ldb: c.k, ldc: c.n, k: c.k, tB: true, alpha: alpha, beta: c.beta}
			if c.bias {
				r.bias = bs
			}
			r.check(t, got, c.m, c.n)
		})
	}
}

// newOperand makes a device tensor of dt (F32, or a 16-bit type) holding
// vals; for a 16-bit type vals are rounded to it in place first, so they
// are what the device holds.
func newOperand(t *testing.T, d *Device, name string, dt compute.DType, vals []float32, dims ...int) *Tensor {
	t.Helper()
	if !dt.Is16() {
		x, err := d.New(name, dims...)
		if err == nil {
			err = d.Write(x, vals)
		}
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	bits := make([]uint16, len(vals))
	for i, v := range vals {
		if dt == compute.F16 {
			bits[i] = half.ToF16(v)
			vals[i] = half.F16ToFloat32(bits[i])
		} else {
			bits[i] = half.ToBF16(v)
			vals[i] = half.BF16ToFloat32(bits[i])
		}
	}
	x, err := d.New16(name, dt, dims...)
	if err == nil {
		err = d.Write16(x, bits)
	}
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// TestFuseSetting: RLT_VULKAN_FUSE=0 turns decoding's fused kernels off
// (gemv3, gemv_glu and rope_cache: the norms, q, k, v, the gated MLP, the
// rotations and the cache write are then composed), 1 or unset leaves them
// on, anything else fails Open.
func TestFuseSetting(t *testing.T) {
	d := openOrSkip(t)
	if !d.CanGate(4, compute.F32) || !d.CanLinear3(4, compute.F32) || !d.CanRotaryCacheWrite() {
		t.Fatalf("%s does not fuse 4 rows: gemv_glu, gemv3 or rope_cache missing (%v)", d.info.Name, d.info.Unavailable)
	}
	refusesSetting(t, "RLT_VULKAN_FUSE", "off")
	for _, c := range []struct {
		v     string
		fuses bool
	}{{"0", false}, {"1", true}} {
		t.Setenv("RLT_VULKAN_FUSE", c.v)
		d2, err := Open()
		if err != nil {
			t.Fatalf("Open with RLT_VULKAN_FUSE=%q: %v", c.v, err)
		}
		gates, threes, rotates := d2.CanGate(4, compute.F32), d2.CanLinear3(4, compute.BF16), d2.CanRotaryCacheWrite()
		if gates != c.fuses || threes != c.fuses || rotates != c.fuses {
			t.Errorf("RLT_VULKAN_FUSE=%q: CanGate %v, CanLinear3 %v, CanRotaryCacheWrite %v, want %v", c.v, gates, threes, rotates, c.fuses)
		}
		d2.Close()
	}
}
