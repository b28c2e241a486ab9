package vulkan

import (
	"fmt"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
)

// TestGemm128 drives Device.gemm with the 128×128-tile kernel forced
// (gemm128, gemm128_16) against float64 sums: shapes that are no multiple
// of its tile or of its k-step of 8, every transpose combination, alpha,
// beta, bias, bfloat16 and float16 B, K split in slices, and leading
// dimensions padded past the matrix, both of multiples of 4 (the kernel
// loads and stores 4 elements at a time) and not (element by element).
// Elements of C outside the product (the padding) must stay as they were.
func TestGemm128(t *testing.T) {
	d := openOrSkip(t)
	oldForce, oldTarget, oldMin := d.gemmForce, d.splitTarget, d.splitMinK
	defer func() { d.gemmForce, d.splitTarget, d.splitMinK = oldForce, oldTarget, oldMin }()
	d.gemmForce = gemmBigTile
	for _, c := range []struct {
		m, n, k  int
		tA, tB   bool
		pad      int // added to each leading dimension (after rounding it up to a multiple of 4 when aligned)
		beta     float32
		bias     bool
		dt       compute.DType // of B: F32, BF16 or F16
		split    bool
		aligned  bool // every leading dimension a multiple of 4; else A's and B's are not
		describe string
	}{
		{1, 1, 1, false, false, 0, 0, false, compute.F32, false, false, "one element"},
		{130, 129, 37, false, true, 0, 0.5, true, compute.F32, false, false, "x·wᵀ, unaligned"},
		{200, 136, 42, false, false, 0, 0, true, compute.F32, false, true, "a·b, aligned"},
		{131, 260, 24, true, false, 4, 0.25, true, compute.F32, false, true, "aᵀ·b, aligned with padding"},
		{129, 131, 19, true, true, 0, 0, false, compute.F32, false, false, "aᵀ·bᵀ, unaligned"},
		{256, 128, 16, false, false, 0, 1, false, compute.F32, false, true, "whole tiles, aligned"},
		{136, 132, 64, false, true, 4, 0, true, compute.BF16, false, true, "x·wᵀ bfloat16, aligned with padding"},
		{140, 200, 33, false, true, 2, 0.5, true, compute.F16, false, false, "x·wᵀ float16, unaligned"},
		{133, 135, 45, false, false, 0, 0, false, compute.BF16, false, false, "a·b bfloat16, unaligned"},
		{150, 140, 203, false, true, 0, 0.5, true, compute.F32, true, true, "x·wᵀ split, aligned"},
		{130, 130, 100, true, false, 1, 0.5, false, compute.BF16, true, false, "aᵀ·b bfloat16 split, unaligned"},
		{129, 132, 90, true, true, 4, 0, true, compute.F16, true, true, "aᵀ·bᵀ float16 split, aligned"},
	} {
		t.Run(fmt.Sprintf("%dx%dx%d-%s", c.m, c.n, c.k, c.describe), func(t *testing.T) {
			d.splitTarget, d.splitMinK = oldTarget, oldMin
			if c.split {
				d.splitTarget, d.splitMinK = 1<<20, 16
			}
			// Each row padded to its leading dimension.
			aRows, aCols, bRows, bCols := storedShapes(c.m, c.n, c.k, c.tA, c.tB)
			ld := func(cols int) int {
				if c.aligned {
					return (cols+3)/4*4 + c.pad
				}
				return cols + c.pad
			}
			lda, ldb, ldc := ld(aCols), ld(bCols), ld(c.n)
			if c.aligned != (lda%4 == 0 && ldb%4 == 0 && ldc%4 == 0) || !c.aligned && (lda%4 == 0 || ldb%4 == 0) {
				t.Fatalf("case says aligned = %v, but the leading dimensions are %d, %d, %d", c.aligned, lda, ldb, ldc)
			}
			if splits, _ := d.splitK(uint32(c.m), uint32(c.n), uint32(c.k), gemmBigTile); (splits > 1) != c.split {
				t.Fatalf("case says split = %v, splitK gives %d slices", c.split, splits)
			}
			r := refGemm{a: randVals(aRows*lda, 1), b: randVals(bRows*ldb, 2), c0: randVals(c.m*ldc, 3),
				lda: lda, ldb: ldb, ldc: ldc, k: c.k, tA: c.tA, tB: c.tB, alpha: 0.75, beta: c.beta}
			if c.bias {
				r.bias = randVals(c.n, 4)
			}
			runs := r.run(t, d, c.m, c.n, c.dt)
			want := map[string]int{"gemm128": 1}
			if c.dt.Is16() {
				want = map[string]int{"gemm128_16": 1}
			}
			if c.split {
				want["gemm_reduce"] = 1
			}
			for k, n := range want {
				if runs[k] != n || len(runs) != len(want) {
					t.Fatalf("kernels %v, want %v", runs, want)
				}
			}
		})
	}
}

// TestGemmTileFor checks which GEMM kernel takes a product: the 128×128
// tile for the large products of a training step (split along K where its
// tiles are few), the 64×64 tile for small ones, and either when forced.
func TestGemmTileFor(t *testing.T) {
	gpu := &Device{splitTarget: 1024, splitMinK: 256}
	gpu.info.MaxWorkGroupCount = [3]uint32{1 << 31, 65535, 65535}
	cpu := &Device{} // lavapipe: never splits
	cpu.info.MaxWorkGroupCount = gpu.info.MaxWorkGroupCount
	for _, c := range []struct {
		name    string
		d       *Device
		force   uint32
		m, n, k uint32
		tile    uint32
	}{
		{"MLP up-projection, 4096 rows", gpu, 0, 4096, 4864, 896, 128},
		{"MLP down-projection, 4096 rows (224 tiles, split)", gpu, 0, 4096, 896, 4864, 128},
		{"LM head chunk", gpu, 0, 1366, 151936, 896, 128},
		{"attention projection, 256 rows", gpu, 0, 256, 896, 896, 64},
		{"fewer than 128 rows", gpu, 0, 100, 151936, 896, 64},
		{"fewer than 128 columns", gpu, 0, 4096, 64, 4096, 64},
		{"down-projection on a device that never splits", cpu, 0, 4096, 896, 4864, 64},
		{"up-projection on a device that never splits", cpu, 0, 4096, 4864, 896, 128},
		{"forced 64", gpu, 64, 4096, 4864, 896, 64},
		{"forced 128", gpu, 128, 8, 8, 8, 128},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.d.gemmForce = c.force
			if got := c.d.gemmTileFor(c.m, c.n, c.k); got != c.tile {
				t.Errorf("gemmTileFor(%d, %d, %d) = %d, want %d", c.m, c.n, c.k, got, c.tile)
			}
		})
	}
}

func TestGemmForceSetting(t *testing.T) {
	for _, c := range []struct {
		v    string
		tile uint32
		ok   bool
	}{{"", 0, true}, {"64", 64, true}, {"128", 128, true}, {"32", 0, false}, {"128 ", 0, false}, {"auto", 0, false}} {
		tile, err := gemmForceSetting(c.v)
		if tile != c.tile || (err == nil) != c.ok {
			t.Errorf("RLT_VULKAN_GEMM=%q: tile %d, error %v; want tile %d, ok %v", c.v, tile, err, c.tile, c.ok)
		}
	}
}
