package vulkan

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/backendtest"
)

// coopOrSkip returns the shared device when it runs gemmcm (float16
// cooperative matrices), else skips, or fails under RLT_REQUIRE_COOPMAT=1
// (backendtest.NeedCoopMat).
func coopOrSkip(t *testing.T) *Device {
	t.Helper()
	d := openOrSkip(t)
	if !d.info.MatmulF16 {
		backendtest.NeedCoopMat(t, fmt.Errorf("%s does not run gemmcm: %s: %w", d.info.Name, d.info.NoMatmulF16, compute.ErrNoMatmulF16))
	}
	return d
}

// TestGemmCoop drives Device.gemm under Matmul "f16" (gemmscale, then
// gemmcm or gemmcm128, split along K through gemm_reduce) against float64
// sums, within float16's error relative to each line's largest value
// (B float32, or a bfloat16 or float16 weight on gemmscale16, gemmcm16):
// shapes that are no multiple of 16, 32 or either tile, every transpose,
// alpha, beta, bias, K split in slices, padded leading dimensions (rows
// on 16 bytes, read 4 elements at a time, and not), and
// lines whose magnitudes float16 alone could not hold (1e-7, 1e6) or
// that are all zeros.
func TestGemmCoop(t *testing.T) {
	d := coopOrSkip(t)
	oldForce, oldTarget, oldMin := d.gemmForce, d.splitTarget, d.splitMinK
	defer func() {
		d.gemmForce, d.splitTarget, d.splitMinK = oldForce, oldTarget, oldMin
		d.SetMatmul(MatmulF32)
	}()
	if err := d.SetMatmul(MatmulF16); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		m, n, k  int
		tA, tB   bool
		pad      int
		beta     float32
		bias     bool
		tile     uint32
		split    bool
		describe string
		dt       compute.DType // of B (zero: F32)
	}{
		{1, 1, 1, false, false, 0, 0, false, gemmTile, false, "one element", compute.F32},
		{20, 30, 0, false, true, 0, 0.5, true, gemmTile, false, "empty K: beta·C + bias", compute.F32},
		{70, 33, 45, false, true, 0, 0.5, true, gemmTile, false, "x·wᵀ", compute.F32},
		{64, 64, 64, false, false, 3, 0, false, gemmTile, false, "whole tiles, padded", compute.F32},
		{17, 90, 100, true, false, 0, 1, false, gemmTile, false, "aᵀ·b", compute.F32},
		{50, 41, 19, true, true, 1, 0, true, gemmTile, false, "aᵀ·bᵀ", compute.F32},
		{130, 129, 37, false, true, 0, 0.25, true, gemmBigTile, false, "x·wᵀ on 128-tiles", compute.F32},
		{131, 260, 24, true, false, 4, 0, false, gemmBigTile, false, "aᵀ·b on 128-tiles, padded", compute.F32},
		{70, 66, 300, false, true, 0, 0.5, true, gemmTile, true, "x·wᵀ split", compute.F32},
		{129, 132, 90, true, true, 2, 0, false, gemmBigTile, true, "aᵀ·bᵀ split on 128-tiles", compute.F32},
		{96, 80, 72, false, false, 0, 0.5, true, gemmTile, false, "a·b, rows on 16 bytes", compute.F32},
		{96, 80, 72, true, true, 4, 0, false, gemmTile, false, "aᵀ·bᵀ, rows on 16 bytes", compute.F32},
		{200, 136, 100, false, true, 0, 0, true, gemmBigTile, false, "x·wᵀ on 128-tiles, rows on 16 bytes", compute.F32},
		{136, 140, 160, true, false, 4, 1, false, gemmBigTile, true, "aᵀ·b split on 128-tiles, rows on 16 bytes", compute.F32},
		{70, 33, 45, false, true, 0, 0.5, true, gemmTile, false, "x·wᵀ, bfloat16 w", compute.BF16},
		{96, 80, 72, false, true, 0, 0, false, gemmTile, false, "x·wᵀ, float16 w, rows on 8 bytes", compute.F16},
		{200, 136, 100, false, true, 4, 0, true, gemmBigTile, false, "x·wᵀ on 128-tiles, bfloat16 w, rows on 8 bytes", compute.BF16},
		{129, 132, 90, false, false, 1, 0.5, false, gemmBigTile, true, "a·b split on 128-tiles, float16 b", compute.F16},
	} {
		// The 128-tile cases with a float32 B run again on each other shape
		// of gemmcm128 (coopShapes).
		shapes := []kernelID{kGemmCM128}
		if c.tile == gemmBigTile && !c.dt.Is16() {
			shapes = append(shapes, kGemmCM128w, kGemmCM128k64)
		}
		for _, shape := range shapes {
			name := fmt.Sprintf("%dx%dx%d-%s", c.m, c.n, c.k, c.describe)
			if len(shapes) > 1 {
				name += "/" + kernelSpecs[shape].name
			}
			t.Run(name, func(t *testing.T) {
				if err := d.useCoopShape(shape); err != nil {
					t.Fatal(err)
				}
				defer d.useCoopShape(kGemmCM128)
				d.gemmForce = c.tile
				d.splitTarget, d.splitMinK = oldTarget, oldMin
				if c.split {
					d.splitTarget, d.splitMinK = 1<<20, 16
				} else {
					d.splitTarget = 0
				}
				aRows, aCols, bRows, bCols := storedShapes(c.m, c.n, c.k, c.tA, c.tB)
				lda, ldb, ldc := aCols+c.pad, bCols+c.pad, c.n+c.pad
				as, bs, c0, biases := randVals(aRows*lda, 1), randVals(bRows*ldb, 2), randVals(c.m*ldc, 3), randVals(c.n, 4)
				// Rows of op(A) and columns of op(B) far outside float16's
				// normal range, and one of zeros.
				lineScale := func(vals []float32, ld int, trans bool, line int, s float32) {
					for k := range c.k {
						i := line*ld + k
						if trans {
							i = k*ld + line
						}
						vals[i] *= s
					}
				}
				lineScale(as, lda, c.tA, 0, 1e-7)
				lineScale(as, lda, c.tA, c.m/2, 1e6)
				lineScale(as, lda, c.tA, c.m-1, 0)
				// A spike at k = 1: the row's largest magnitude lies in the
				// first slice of K, however gemmscale slices it.
				if c.k > 1 {
					spike := (c.m/2)*lda + 1 // A[m/2][1]
					if c.tA {
						spike = lda + c.m/2 // Aᵀ stored: [1][m/2]
					}
					as[spike] *= 50
				}
				lineScale(bs, ldb, !c.tB, 0, 3e-6)
				if c.dt != compute.F16 { // beyond float16's range as stored
					lineScale(bs, ldb, !c.tB, c.n-1, 2e5)
				}
				if splits, _ := d.splitKBy(uint32(c.m), uint32(c.n), uint32(c.k), c.tile*d.info.CoopSize/16, coopGeometry[shape].kstep); (splits > 1) != c.split {
					t.Fatalf("case says split = %v, splitK gives %d slices", c.split, splits)
				}
				r := refGemm{a: as, b: bs, c0: c0, lda: lda, ldb: ldb, ldc: ldc, k: c.k, tA: c.tA, tB: c.tB, alpha: 0.75, beta: c.beta, f16: true}
				if c.bias {
					r.bias = biases
				}
				runs := r.run(t, d, c.m, c.n, c.dt) // rounds bs to dt
				suffix := ""
				if c.dt.Is16() {
					suffix = "16"
				}
				want := map[string]int{"gemmscale" + suffix: 1, "gemmcm" + suffix: 1}
				if c.tile == gemmBigTile {
					want = map[string]int{"gemmscale" + suffix: 1, strings.TrimSuffix("gemmcm128_"+suffix, "_"): 1}
					if !c.dt.Is16() {
						want = map[string]int{"gemmscale": 1, kernelSpecs[shape].name: 1}
					}
				}
				if c.split && c.k >= 2*8*int(d.splitMinK) {
					want["zero"] = 1 // gemmscale's slices of K raise the maxima from 0
				}
				if c.split {
					want["gemm_reduce"] = 1
				}
				if fmt.Sprint(runs) != fmt.Sprint(want) {
					t.Fatalf("kernels %v, want %v", runs, want)
				}
			})
		}
	}
}

// TestGemmCoopRounds checks that gemmcm does round its operands to float16
// (the f16 tolerance is not vacuous): 1 + 2⁻¹² is 1 in float16, so a row
// of it times a column of ones sums to K, not K·(1 + 2⁻¹²).
func TestGemmCoopRounds(t *testing.T) {
	d := coopOrSkip(t)
	defer d.SetMatmul(MatmulF32)
	if err := d.SetMatmul(MatmulF16); err != nil {
		t.Fatal(err)
	}
	const m, n, k = 32, 32, 64
	as, bs := make([]float32, m*k), make([]float32, k*n)
	for i := range as {
		as[i] = 1 + 1.0/4096
	}
	for i := range bs {
		bs[i] = 1
	}
	a, _ := d.New("a", m, k)
	b, _ := d.New("b", k, n)
	c, _ := d.New("c", m, n)
	defer func() { d.Free(a); d.Free(b); d.Free(c) }()
	if err := errors.Join(d.Write(a, as), d.Write(b, bs)); err != nil {
		t.Fatal(err)
	}
	d.MatMul(c, a, b, false, false, 1, 0)
	got := make([]float32, m*n)
	if err := d.Read(got, c); err != nil {
		t.Fatal(err)
	}
	// The row's largest value scales to 2¹⁴·(1 + 2⁻¹²), which float16
	// (11 significant bits) rounds to 2¹⁴.
	if got[0] != k {
		t.Fatalf("c[0, 0] = %v, want %v (operands rounded to float16)", got[0], float32(k))
	}
	if err := d.SetMatmul(MatmulF32); err != nil {
		t.Fatal(err)
	}
	d.MatMul(c, a, b, false, false, 1, 0)
	if err := d.Read(got, c); err != nil {
		t.Fatal(err)
	}
	if want := float32(k * (1 + 1.0/4096)); math.Abs(float64(got[0]-want)) > 1e-5 {
		t.Fatalf("f32: c[0, 0] = %v, want %v", got[0], want)
	}
}

// TestSetMatmul: the choices, a wrong one named, and f16 refused on a
// device without cooperative matrices, by an error that is
// compute.ErrNoMatmulF16 (backendtest.NeedCoopMat skips on it alone).
func TestSetMatmul(t *testing.T) {
	d := openOrSkip(t)
	defer d.SetMatmul(MatmulF32)
	if err := d.SetMatmul("bf16"); !errors.Is(err, ErrSetting) {
		t.Fatalf("SetMatmul(bf16) = %v, want ErrSetting", err)
	}
	err := d.SetMatmul(MatmulF16)
	if d.info.MatmulF16 != (err == nil) {
		t.Fatalf("SetMatmul(f16) = %v on a device with MatmulF16 = %v (%s)", err, d.info.MatmulF16, d.info.NoMatmulF16)
	}
	if err != nil && (!errors.Is(err, ErrSetting) || !errors.Is(err, compute.ErrNoMatmulF16)) {
		t.Fatalf("SetMatmul(f16) = %v, want ErrSetting and compute.ErrNoMatmulF16 (what tests skip on)", err)
	}
	if err := d.SetMatmul(MatmulF32); err != nil || d.Matmul() != MatmulF32 {
		t.Fatalf("SetMatmul(f32) = %v, Matmul %q", err, d.Matmul())
	}
}

// TestBackendConformanceCoop runs the conformance suite with every product
// on gemmcm (gemmcm16 for 16-bit weights) (gemv off, so decode-sized products take it too; K
// split wherever splitK allows), within a tolerance that float16 operands
// need: every op that does not multiply stays as exact as under float32.
func TestBackendConformanceCoop(t *testing.T) {
	d := coopOrSkip(t)
	oldHead, oldGemv, oldTarget, oldMin := headChunkFloats, d.gemvMaxRows, d.splitTarget, d.splitMinK
	headChunkFloats, d.gemvMaxRows, d.splitTarget, d.splitMinK = 1<<10, 0, 1<<10, 16
	defer func() {
		headChunkFloats, d.gemvMaxRows, d.splitTarget, d.splitMinK = oldHead, oldGemv, oldTarget, oldMin
		d.SetMatmul(MatmulF32)
	}()
	if err := d.SetMatmul(MatmulF16); err != nil {
		t.Fatal(err)
	}
	if err := d.StartProfile(); err != nil {
		t.Fatalf("which kernels ran needs timestamps: %v", err)
	}
	backendtest.RunWithin(t, coopTolerance, func(t *testing.T) compute.Backend { return NewBackend(d) })
	counts := map[string]int{}
	for _, k := range d.StopProfile().Kernels {
		counts[k.Name] = k.Count
	}
	if counts["gemmcm"] == 0 || counts["gemmscale"] == 0 || counts["gemmcm16"] == 0 || counts["gemmscale16"] == 0 ||
		counts["gemm"]+counts["gemm128"]+counts["gemm16"]+counts["gemm128_16"] != 0 {
		t.Errorf("products ran as gemmcm %d, gemmcm16 %d, gemm %d, gemm128 %d, gemm16 %d, gemm128_16 %d times: want only on cooperative matrices",
			counts["gemmcm"], counts["gemmcm16"], counts["gemm"], counts["gemm128"], counts["gemm16"], counts["gemm128_16"])
	}
	t.Logf("kernels: %v", counts)
}

// coopTolerance is the conformance suite's tolerance for products on
// float16 operands (2⁻¹¹ each, relative to its line's largest value).
var coopTolerance = backendtest.Tolerance{Abs: 1e-2, Rel: 1e-2}

// TestRefusedCoopDevice: a driver that lists cooperative matrices but
// refuses a device with them enabled costs matmul f16, not the GPU: Open
// creates the device again without them, says why, and computes in float32.
func TestRefusedCoopDevice(t *testing.T) {
	coopOrSkip(t)
	refuseCoopDevice = true
	d, err := Open()
	refuseCoopDevice = false
	if err != nil {
		t.Fatalf("Open with the cooperative-matrix device refused: %v", err)
	}
	defer d.Close()
	in := d.Info()
	if in.MatmulF16 || !strings.Contains(in.NoMatmulF16, "refused") {
		t.Fatalf("MatmulF16 %v (%q), want false with the refusal named", in.MatmulF16, in.NoMatmulF16)
	}
	if err := d.SetMatmul(MatmulF16); err == nil {
		t.Fatal("SetMatmul(f16) succeeded on a device created without cooperative matrices")
	}
	r := refGemm{a: randVals(20*24, 1), b: randVals(24*18, 2), c0: make([]float32, 20*18), lda: 24, ldb: 18, ldc: 18, k: 24, alpha: 1}
	if runs := r.run(t, d, 20, 18, compute.F32); runs["gemm"] != 1 {
		t.Errorf("kernels %v, want the float32 gemm", runs)
	}
}

func TestCoopShapeSetting(t *testing.T) {
	for _, c := range []struct {
		v     string
		shape kernelID
		ok    bool
	}{{"", kGemmCM128, true}, {"wide", kGemmCM128w, true}, {"k64", kGemmCM128k64, true}, {"128", 0, false}, {"Wide", 0, false}} {
		shape, err := coopShapeSetting(c.v)
		if shape != c.shape || (err == nil) != c.ok {
			t.Errorf("RLT_VULKAN_GEMMCM=%q: kernel %d, error %v; want %d, ok %v", c.v, shape, err, c.shape, c.ok)
		}
	}
	d := openOrSkip(t)
	refusesSetting(t, "RLT_VULKAN_GEMMCM", "tall")
	if !d.info.MatmulF16 {
		return
	}
	// Open builds no kernel on cooperative matrices; the first
	// SetMatmul(f16) builds them with the shape chosen, and only that one
	// of the other shapes.
	t.Setenv("RLT_VULKAN_GEMMCM", "wide")
	d2, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	for k := range coopKernels {
		if d2.has(k) {
			t.Fatalf("Open built %s before products were asked for in float16", kernelSpecs[k].name)
		}
	}
	if err := d2.SetMatmul(MatmulF16); err != nil {
		t.Fatal(err)
	}
	if d2.coopBig != kGemmCM128w || !d2.has(kGemmCM128w) || d2.has(kGemmCM128k64) || !d2.has(kGemmCM) {
		t.Fatalf("RLT_VULKAN_GEMMCM=wide: products on %s, gemmcm128w built %v, gemmcm128k64 built %v",
			kernelSpecs[d2.coopBig].name, d2.has(kGemmCM128w), d2.has(kGemmCM128k64))
	}
}
