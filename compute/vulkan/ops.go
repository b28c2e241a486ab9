package vulkan

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/rlt-workbench/rlt/compute"
)

type kernelID int

const (
	kElementwise kernelID = iota
	kSwiGLU
	kRMSNorm
	kColSum
	kGemm
	kAdamW
	kLogProbs
	kLogProbsBack
	kRows
	kRoPE
	kArgmax
	kReduce
	kDist
	kCacheWrite
	kAttn
	kAttnDS
	kAttnDQ
	kAttnDKV
	kGemm16
	kRows16
	kGemmReduce
	kGemv
	kGemv16
	kConvert
	kGemm128
	kGemm128x16
	kGemmScale
	kGemmCM
	kGemmCM128
	kGemmScale16
	kGemmCM16
	kGemmCM128x16
	kGemmCM128w
	kGemmCM128k64
	kAttnFA32
	kAttnFA16
	kAttnFADQ32
	kAttnFADQ16
	kAttnFADKV32
	kAttnFADKV16
	kAttnFASum
	kDraw
	kShortlist
	kGemvGLU
	kGemvGLU16
	kGemv3
	kGemv3x16
	kRoPECache
	kAttnCM
	kAttnCMDQ
	kAttnCMDKV
	kAttnCM128
	kAttnCM128DQ
	kAttnCM128DKV
	numKernels
)

// kernelSpecs name each kernel's SPIR-V file (shaders/NAME.spv), its number
// of storage buffer bindings and its push-constant bytes.
var kernelSpecs = [numKernels]struct {
	name     string
	bindings int
	push     uint32
}{
	kElementwise:  {"elementwise", 3, 12},
	kSwiGLU:       {"swiglu", 5, 8},
	kRMSNorm:      {"rmsnorm", 5, 16},
	kColSum:       {"colsum", 4, 20},
	kGemm:         {"gemm", 4, 40},
	kAdamW:        {"adamw", 4, 36},
	kLogProbs:     {"logprobs", 4, 12},
	kLogProbsBack: {"logprobs_back", 5, 12},
	kRows:         {"rows", 3, 12},
	kRoPE:         {"rope", 5, 16},
	kArgmax:       {"argmax", 2, 8},
	kReduce:       {"reduce", 3, 4},
	kDist:         {"dist", 3, 16},
	kCacheWrite:   {"cachewrite", 4, 24},
	kAttn:         {"attn", 7, 56},
	kAttnDS:       {"attn_ds", 8, 32},
	kAttnDQ:       {"attn_dq", 3, 28},
	kAttnDKV:      {"attn_dkv", 6, 28},
	kGemm16:       {"gemm16", 4, 40},
	kRows16:       {"rows16", 3, 12},
	kGemmReduce:   {"gemm_reduce", 3, 24},
	kGemv:         {"gemv", 4, 40},
	kGemv16:       {"gemv16", 4, 40},
	kConvert:      {"convert", 2, 24},
	kGemm128:      {"gemm128", 4, 40},
	kGemm128x16:   {"gemm128_16", 4, 40},
	kGemmScale:    {"gemmscale", 3, 28},
	kGemmCM:       {"gemmcm", 5, 40},
	kGemmCM128:    {"gemmcm128", 5, 40},
	kGemmScale16:  {"gemmscale16", 3, 28},
	kGemmCM16:     {"gemmcm16", 5, 40},
	kGemmCM128x16: {"gemmcm128_16", 5, 40},
	kGemmCM128w:   {"gemmcm128w", 5, 40},
	kGemmCM128k64: {"gemmcm128k64", 5, 40},
	kAttnFA32:     {"attn_fa32", 6, 44},
	kAttnFA16:     {"attn_fa16", 6, 44},
	kAttnFADQ32:   {"attn_fa_dq32", 9, 24},
	kAttnFADQ16:   {"attn_fa_dq16", 9, 24},
	kAttnFADKV32:  {"attn_fa_dkv32", 8, 32},
	kAttnFADKV16:  {"attn_fa_dkv16", 8, 32},
	kAttnFASum:    {"attn_fa_sum", 3, 24},
	kDraw:         {"draw", 3, 20},
	kShortlist:    {"shortlist", 2, 32},
	kGemvGLU:      {"gemv_glu", 5, 32},
	kGemvGLU16:    {"gemv_glu16", 5, 32},
	kGemv3:        {"gemv3", 11, 32},
	kGemv3x16:     {"gemv3_16", 11, 32},
	kRoPECache:    {"rope_cache", 9, 28},
	kAttnCM:       {"attn_cm", 6, 44},
	kAttnCMDQ:     {"attn_cm_dq", 9, 24},
	kAttnCMDKV:    {"attn_cm_dkv", 8, 32},
	kAttnCM128:    {"attn_cm128", 6, 44},
	kAttnCM128DQ:  {"attn_cm128_dq", 9, 24},
	kAttnCM128DKV: {"attn_cm128_dkv", 8, 32},
}

// coopGeometry describes the kernels on cooperative matrices (built only
// where the device runs them, coopSupport): subgroups is the workgroup in
// subgroups (the host sets the local size to that many times the device's
// subgroup size), tile the output tile's side with 16×16 matrices, kstep
// how far along K each step goes (gemmcm.comp's BK) and groups the most
// groups of 4 elements an invocation may stage per operand and step (its
// NVMAX). Attention's kernels (rowLanes) take instead, as specialization
// constant 2, the invocations that share a row of a subgroup's T (its
// subgroup size over T), and need subgroups of one fixed size
// (attn_cm.glsl).
var coopGeometry = map[kernelID]struct {
	subgroups, tile, kstep, groups uint32
	rowLanes                       bool
}{
	kGemmCM:       {subgroups: 4, tile: gemmTile, kstep: 32, groups: 8},
	kGemmCM128:    {subgroups: 8, tile: gemmBigTile, kstep: 32, groups: 8},
	kGemmCM16:     {subgroups: 4, tile: gemmTile, kstep: 32, groups: 8},
	kGemmCM128x16: {subgroups: 8, tile: gemmBigTile, kstep: 32, groups: 8},
	kGemmCM128w:   {subgroups: 4, tile: gemmBigTile, kstep: 32, groups: 16},
	kGemmCM128k64: {subgroups: 8, tile: gemmBigTile, kstep: 64, groups: 16},
	kAttnCM:       {subgroups: attnCMSubgroups, rowLanes: true},
	kAttnCMDQ:     {subgroups: attnCMSubgroups, rowLanes: true},
	kAttnCMDKV:    {subgroups: attnCMSubgroups, rowLanes: true},
	kAttnCM128:    {subgroups: attnCMSubgroups, rowLanes: true},
	kAttnCM128DQ:  {subgroups: attnCMSubgroups, rowLanes: true},
	kAttnCM128DKV: {subgroups: attnCMSubgroups, rowLanes: true},
}

// coopKernels need cooperative matrices: they are built on a device that
// runs gemmcm (Info.MatmulF16) when SetMatmul first asks for float16
// products (buildCoop), not at Open.
var coopKernels = map[kernelID]bool{kGemmScale: true, kGemmCM: true, kGemmCM128: true,
	kGemmScale16: true, kGemmCM16: true, kGemmCM128x16: true, kGemmCM128w: true, kGemmCM128k64: true,
	kAttnCM: true, kAttnCMDQ: true, kAttnCMDKV: true, kAttnCM128: true, kAttnCM128DQ: true, kAttnCM128DKV: true}

// coopShapes are the other shapes of gemmcm's 128×128 tile (gemmcm128: 8
// subgroups of 64×32, K in steps of 32), by their RLT_VULKAN_GEMMCM, for
// timing against it on a GPU (gemmcm.comp says why each might be faster).
// Open builds only the one chosen; tests build each (useCoopShape).
var coopShapes = map[string]kernelID{"wide": kGemmCM128w, "k64": kGemmCM128k64}

// optionalKernels are the fast paths a device may fail to build (a driver
// bug, a limit the SPIR-V passes): Open goes on without them, names them in
// Info.Unavailable, and the ops take the plain kernels instead (gemv and
// gemm128 → the 64×64 gemm, gemm_reduce → no split along K, the tiled
// attention kernels → attn, attn_ds, attn_dq and attn_dkv, attention's on
// cooperative matrices → the float32 tiled ones).
var optionalKernels = map[kernelID]bool{kGemv: true, kGemv16: true, kGemvGLU: true, kGemvGLU16: true, kGemv3: true, kGemv3x16: true, kRoPECache: true, kGemm128: true, kGemm128x16: true, kGemmReduce: true,
	kGemmScale: true, kGemmCM: true, kGemmCM128: true, kGemmScale16: true, kGemmCM16: true, kGemmCM128x16: true,
	kGemmCM128w: true, kGemmCM128k64: true, kAttnFA32: true, kAttnFA16: true, kAttnFADQ32: true, kAttnFADQ16: true, kAttnFADKV32: true, kAttnFADKV16: true, kAttnFASum: true,
	kAttnCM: true, kAttnCMDQ: true, kAttnCMDKV: true, kAttnCM128: true, kAttnCM128DQ: true, kAttnCM128DKV: true}

// has reports whether kernel k was built.
func (d *Device) has(k kernelID) bool { return d.kernels[k].pipeline != 0 }

const (
	ewAdd uint32 = iota
	ewAccumulate
	ewScale
	ewMix
)

type ewPush struct {
	n, op uint32
	s     float32
}

// elementwise records op on same-length o, a and b, a window at a time
// where they do not bind whole.
func (d *Device) elementwise(op uint32, o, a, b *Tensor, s float32) {
	d.eachWindow(o, func(e0, n int) {
		push := &ewPush{n: uint32(n), op: op, s: s}
		dispatch(d, kElementwise, push, linearGroups(ceilDiv(n, groupSize)), o.span(e0, n), a.span(e0, n), b.span(e0, n))
	})
}

// Add sets out = a + b elementwise; out may alias a or b.
func (d *Device) Add(out, a, b *Tensor) {
	d.own(out, a, b)
	sameLen("add", out, a, b)
	d.elementwise(ewAdd, out, a, b, 0)
}

// Accumulate sets dst += src.
func (d *Device) Accumulate(dst, src *Tensor) {
	d.own(dst, src)
	mustNotBeFrozen(dst)
	sameLen("accumulate", dst, src)
	d.elementwise(ewAccumulate, dst, src, src, 0)
}

// Scale sets t *= s.
func (d *Device) Scale(t *Tensor, s float32) {
	d.own(t)
	mustNotBeFrozen(t)
	d.elementwise(ewScale, t, t, t, s)
}

// Mix sets dst = alpha·src + (1−alpha)·dst. Either side may be 16-bit (a
// reference model's sync into frozen 16-bit weights): the mix is computed
// in float32 and rounded to dst's type, as compute.NewCPU does.
func (d *Device) Mix(dst, src *Tensor, alpha float32) {
	d.own(dst, src)
	mustNotBeFrozen(dst)
	sameLen("mix", dst, src)
	if dst.dt.Is16() || src.dt.Is16() {
		d.convert(dst, src, true, alpha)
		return
	}
	d.elementwise(ewMix, dst, src, src, alpha)
}

type swigluPush struct{ n, back uint32 }

// SwiGLU sets h = silu(gate)·up elementwise.
func (d *Device) SwiGLU(h, gate, up *Tensor) {
	d.own(h, gate, up)
	sameLen("swiglu", h, gate, up)
	d.eachWindow(h, func(e0, n int) {
		dispatch(d, kSwiGLU, &swigluPush{n: uint32(n)}, linearGroups(ceilDiv(n, groupSize)),
			h.span(e0, n), h.span(e0, n), gate.span(e0, n), gate.span(e0, n), up.span(e0, n))
	})
}

// SwiGLUBackward accumulates dGate and dUp from dh.
func (d *Device) SwiGLUBackward(dGate, dUp, dh, gate, up *Tensor) {
	d.own(dGate, dUp, dh, gate, up)
	sameLen("swiglu backward", dh, dGate, dUp, gate, up)
	d.eachWindow(dh, func(e0, n int) {
		dispatch(d, kSwiGLU, &swigluPush{n: uint32(n), back: 1}, linearGroups(ceilDiv(n, groupSize)),
			dGate.span(e0, n), dUp.span(e0, n), dh.span(e0, n), gate.span(e0, n), up.span(e0, n))
	})
}

type rmsPush struct {
	rows, d uint32
	eps     float32
	back    uint32
}

// RMSNorm normalises x over its last dimension: y = x·rstd·w with
// rstd [N] = 1/sqrt(mean(x²) + eps) saved for backward. y may alias x.
func (d *Device) RMSNorm(y, rstd, x, w *Tensor, eps float32) {
	d.own(y, rstd, x, w)
	sameLen("rmsnorm", x, y)
	n, dim := x.rows(), x.lastDim()
	if rstd.n != n || w.n != dim {
		panic(fmt.Sprintf("vulkan: rmsnorm of %v with weight %v and rstd %v", x, w, rstd))
	}
	dispatch(d, kRMSNorm, &rmsPush{rows: uint32(n), d: uint32(dim), eps: eps}, linearGroups(n),
		y.bind(), rstd.bind(), x.bind(), w.bind(), x.bind())
}

// RMSNormBackward accumulates dx and dw (dw may be nil) from dy, using the
// rstd saved by RMSNorm.
func (d *Device) RMSNormBackward(dx, dw, dy, x, w, rstd *Tensor) {
	d.own(dx, dw, dy, x, w, rstd)
	sameLen("rmsnorm backward", x, dx, dy)
	n, dim := x.rows(), x.lastDim()
	if rstd.n != n || w.n != dim || (dw != nil && dw.n != dim) {
		panic(fmt.Sprintf("vulkan: rmsnorm backward of %v with weight %v, rstd %v, dw %v", x, w, rstd, dw))
	}
	dispatch(d, kRMSNorm, &rmsPush{rows: uint32(n), d: uint32(dim), back: 1}, linearGroups(n),
		dx.bind(), rstd.bind(), x.bind(), w.bind(), dy.bind())
	if dw != nil {
		d.colSum(dw, dy, x, rstd, n, dim, 1)
	}
}

type colSumPush struct{ rows, d, mode, slice, store uint32 }

// colSumSlice is the height of the slice of rows one column-sum workgroup
// covers: each of its 4 row lanes sums a quarter of it. Taller inputs are
// summed in two passes, so that a 4096-row sum spreads over many
// workgroups instead of one serial walk per column. A variable so tests can
// exercise many slices on small shapes.
var colSumSlice = 256

const colSumCols = 64 // columns per column-sum workgroup (colsum.comp)

// colSum adds column sums of the [rows, dim] operands into out [dim]:
// mode 0 Σ_row a[row, j], mode 1 Σ_row a[row, j]·b[row, j]·c[row]. Inputs
// taller than one slice write one row of partial sums per slice into
// scratch, then a second pass adds the partials into out in slice order;
// either way the order of every addition depends on the shape alone.
func (d *Device) colSum(out, a, b, c *Tensor, rows, dim int, mode uint32) {
	if rows == 0 || dim == 0 {
		return
	}
	slice := max(colSumSlice, ceilDiv(rows, int(d.info.MaxWorkGroupCount[1])))
	slices := ceilDiv(rows, slice)
	cols := ceilDiv(dim, colSumCols)
	if uint32(cols) > d.info.MaxWorkGroupCount[0] || uint32(slices) > d.info.MaxWorkGroupCount[1] {
		panic(fmt.Sprintf("vulkan: column sum of %v needs %d×%d workgroups, beyond the device's %v", a, cols, slices, d.info.MaxWorkGroupCount))
	}
	if slices == 1 {
		dispatch(d, kColSum, &colSumPush{rows: uint32(rows), d: uint32(dim), mode: mode, slice: uint32(rows)},
			[3]uint32{uint32(cols), 1, 1}, out.bind(), a.bind(), b.bind(), c.bind())
		return
	}
	size := uint64(slices*dim) * 4
	part, err := d.scratch(scratchColSum, size)
	if err != nil {
		return
	}
	pb := binding{b: part, size: size}
	dispatch(d, kColSum, &colSumPush{rows: uint32(rows), d: uint32(dim), mode: mode, slice: uint32(slice), store: 1},
		[3]uint32{uint32(cols), uint32(slices), 1}, pb, a.bind(), b.bind(), c.bind())
	dispatch(d, kColSum, &colSumPush{rows: uint32(slices), d: uint32(dim), slice: uint32(slices)},
		[3]uint32{uint32(cols), 1, 1}, out.bind(), pb, pb, pb)
}

type gemmPush struct {
	m, n, k, lda, ldb, ldc, flags uint32
	alpha, beta                   float32
	kChunk                        uint32 // set by gemm: K, or one slice's K when split
}

type gemmReducePush struct {
	m, n, ldc, splits, flags uint32
	beta                     float32
}

const (
	gemmTransA = 1
	gemmTransB = 2
	gemmBias   = 4
	gemmF16    = 8 // gemm16: B is float16 (else bfloat16)
	gemmSplit  = 16
	// gemm128 only: the operand may be accessed 4 elements at a time.
	gemmVecA = 32
	gemmVecB = 64
	gemmVecC = 128

	gemmTile    = 64  // gemm.comp's output tile
	gemmBigTile = 128 // gemm128.comp's
	gemvRows    = 16  // gemv.comp's MAXM
	// gemmBigMinGroups is the fewest workgroups (128-tiles times K slices)
	// for which a product takes gemm128: fewer would leave a GPU's
	// multiprocessors idle (an H200 has 132 and holds about two such
	// workgroups on each), better served by more, smaller tiles.
	gemmBigMinGroups = 256
)

// gemmTileFor picks the GEMM kernel of a product by its output tile:
// d.gemmForce when set (RLT_VULKAN_GEMM, tests), else gemm128 when both
// sides span a 128-tile and its tiles, split along K where splitK would
// split them, still make gemmBigMinGroups workgroups; gemm otherwise.
func (d *Device) gemmTileFor(m, n, k uint32) uint32 {
	if d.gemmForce != 0 {
		return d.gemmForce
	}
	if m < gemmBigTile || n < gemmBigTile {
		return gemmTile
	}
	splits, _ := d.splitK(m, n, k, gemmBigTile)
	if tilesOf(m, n, gemmBigTile)*splits >= gemmBigMinGroups {
		return gemmBigTile
	}
	return gemmTile
}

func tilesOf(m, n, tile uint32) uint32 { return ceilDiv32(m, tile) * ceilDiv32(n, tile) }

// splitK says how to cut a product's K into slices run side by side: a
// product of few output tiles and a long K (the fused head's dh = dz·W
// with K the vocabulary; the k and v projections' weight gradients; every
// projection while decoding a few tokens) otherwise runs as a few
// workgroups each walking all of K, leaving most of a GPU idle. Slices
// bring the workgroups up to about d.splitTarget. It returns 1 slice when
// the tiles already fill half the target (an extra pass would not pay),
// or when a slice would be shorter than d.splitMinK. tile is the output
// tile of the kernel that runs the product (gemmTileFor).
func (d *Device) splitK(m, n, k, tile uint32) (splits, chunk uint32) {
	return d.splitKBy(m, n, k, tile, 16)
}

// splitKBy is splitK for a kernel that walks K step elements at a time
// (gemm's 16, gemmcm's 32): slices are whole steps.
func (d *Device) splitKBy(m, n, k, tile, step uint32) (splits, chunk uint32) {
	tiles := tilesOf(m, n, tile)
	if d.splitTarget == 0 || 2*tiles >= d.splitTarget || k < 2*d.splitMinK {
		return 1, k
	}
	splits = min(ceilDiv32(d.splitTarget, tiles), k/d.splitMinK, d.info.MaxWorkGroupCount[2])
	if splits < 2 {
		return 1, k
	}
	chunk = ceilDiv32(ceilDiv32(k, splits), step) * step // whole k-steps of the kernel
	return ceilDiv32(k, chunk), chunk
}

func ceilDiv32(a, b uint32) uint32 { return (a + b - 1) / b }

// gemm records c = alpha·op(a)·op(b) (+ bias) + beta·c under p; b may be
// a 16-bit weight. An operand past the device's binding range is bound a
// window at a time (gemmWindowed).
func (d *Device) gemm(c, a, b, bias *Tensor, p gemmPush) {
	if bias != nil {
		p.flags |= gemmBias
	}
	if p.m == 0 || p.n == 0 {
		return
	}
	if b.dt.Is16() && b.dt == compute.F16 {
		p.flags |= gemmF16
	}
	d.gemmWindowed(gemmArgs{c: c, a: a, b: b, bias: bias, p: p})
}

// gemmBound records a product on bound operands, b of type dt: gemv for a
// few rows, the tensor-core kernels under Matmul f16, else gemm or gemm128
// by the size of the output.
func (d *Device) gemmBound(c, a, b, bias binding, dt compute.DType, p gemmPush) {
	kern, gemv := kGemm, kGemv
	if dt.Is16() { // a 16-bit weight, widened as the kernel loads it
		kern, gemv = kGemm16, kGemv16
	}
	if p.m <= d.gemvMaxRows && p.flags&(gemmTransA|gemmTransB) == gemmTransB && d.has(gemv) {
		p.kChunk = p.k
		dispatch(d, gemv, &p, linearGroups(ceilDiv(int(p.n), 4)), c, a, b, bias)
		return
	}
	if d.matmul16 && d.coopFor(dt) {
		d.gemmCoop(c, a, b, bias, p, dt.Is16())
		return
	}
	big := kGemm128
	if dt.Is16() {
		big = kGemm128x16
	}
	tile := d.gemmTileFor(p.m, p.n, p.k)
	if tile == gemmBigTile && d.has(big) {
		kern = big
	} else {
		tile = gemmTile
	}
	d.gemmOn(kern, tile, 16, c, a, b, bias, p)
}

// gemmOn records p on kern, a kernel of tile×tile outputs that walks K
// step elements at a time, split along K where splitKBy says so (and
// gemm_reduce was built). extra are kern's operands after the bias
// (gemmcm's line maxima).
func (d *Device) gemmOn(kern kernelID, tile, step uint32, c, a, b, bias binding, p gemmPush, extra ...binding) {
	groups := [3]uint32{ceilDiv32(p.n, tile), ceilDiv32(p.m, tile), 1}
	if groups[0] > d.info.MaxWorkGroupCount[0] || groups[1] > d.info.MaxWorkGroupCount[1] {
		panic(fmt.Sprintf("vulkan: product of %d×%d needs %v workgroups, beyond the device's %v", p.m, p.n, groups, d.info.MaxWorkGroupCount))
	}
	splits, chunk := d.splitKBy(p.m, p.n, p.k, tile, step)
	if !d.has(kGemmReduce) {
		splits, chunk = 1, p.k
	}
	p.kChunk = chunk
	// Four elements at a time where every row starts on a multiple of 4
	// elements (16 bytes; B16: 8); the split partials' rows are N long.
	// gemm128 and gemmcm read these bits, gemm ignores them.
	if p.lda%4 == 0 && a.off%16 == 0 {
		p.flags |= gemmVecA
	}
	if p.ldb%4 == 0 && b.off%16 == 0 {
		p.flags |= gemmVecB
	}
	if (splits == 1 && p.ldc%4 == 0 && c.off%16 == 0) || (splits > 1 && p.n%4 == 0) {
		p.flags |= gemmVecC
	}
	if splits == 1 {
		ops := [5]binding{c, a, b, bias}
		n := 4 + copy(ops[4:], extra)
		dispatch(d, kern, &p, groups, ops[:n]...)
		return
	}
	d.gemmSplit(kern, c, a, b, bias, p, groups, splits, extra...)
}

// gemmSplit records p as splits slices along K, each workgroup z writing
// its partial product into a scratch [splits, M, N], then gemm_reduce
// adding them in order (with beta·C and the bias) into c. extra are the
// kernel's operands after the bias (gemmcm's scales).
func (d *Device) gemmSplit(kern kernelID, c, a, b, bias binding, p gemmPush, groups [3]uint32, splits uint32, extra ...binding) {
	size := uint64(splits) * uint64(p.m) * uint64(p.n) * 4
	part, err := d.scratch(scratchSplitK, size)
	if err != nil {
		return
	}
	pb := binding{b: part, size: size}
	red := gemmReducePush{m: p.m, n: p.n, ldc: p.ldc, splits: splits, flags: p.flags & gemmBias, beta: p.beta}
	p.flags = p.flags&^gemmBias | gemmSplit
	p.ldc, p.beta = p.n, 0
	groups[2] = splits
	ops := [5]binding{pb, a, b, {b: d.dummy, size: d.dummy.size}}
	n := 4 + copy(ops[4:], extra)
	dispatch(d, kern, &p, groups, ops[:n]...)
	dispatch(d, kGemmReduce, &red, linearGroups(ceilDiv(int(p.m*p.n), groupSize)), c, pb, bias)
}

// Linear sets y = x·wᵀ (+ bias): x [N, in], w [out, in], y [N, out]; bias
// [out] may be nil.
func (d *Device) Linear(y, x, w, bias *Tensor) {
	d.own(y, x, w, bias)
	n, in, out := x.rows(), x.lastDim(), w.dims[0]
	if len(w.dims) != 2 || w.dims[1] != in || y.n != n*out || (bias != nil && bias.n != out) {
		panic(fmt.Sprintf("vulkan: linear %v = %v·%vᵀ + %v", y, x, w, bias))
	}
	d.gemm(y, x, w, bias, gemmPush{m: uint32(n), n: uint32(out), k: uint32(in), lda: uint32(in), ldb: uint32(in), ldc: uint32(out),
		flags: gemmTransB, alpha: 1})
}

// gemv3Push is gemv3's push constants.
type gemv3Push struct {
	m, n0, n1, n2, k, lda, flags uint32
	eps                          float32
}

// gemvNorm is the flag of gemv3 and gemv_glu that folds an RMSNorm of
// their input into their products.
const gemvNorm = 16

// preNorm checks a fused decode kernel's norm weight g (nil: none) against
// rows of width in, and returns its binding (the dummy buffer for none)
// with the flag that turns it on.
func (d *Device) preNorm(what string, g *Tensor, in int) (binding, uint32) {
	if g == nil {
		return binding{b: d.dummy, size: d.dummy.size}, 0
	}
	d.own(g)
	if g.n != in || g.dt.Is16() {
		panic(fmt.Sprintf("vulkan: %s: norm weight %v for rows of %d", what, g, in))
	}
	return g.bind(), gemvNorm
}

// decodeFused reports whether a fused decode kernel, k32 for float32
// weights and k16 for 16-bit ones, takes rows rows of weights of type dt:
// as many rows as gemv takes, where the kernel was built and
// RLT_VULKAN_FUSE is not 0.
func (d *Device) decodeFused(k32, k16 kernelID, rows int, dt compute.DType) bool {
	k := k32
	if dt.Is16() {
		k = k16
	}
	return rows > 0 && rows <= int(d.gemvMaxRows) && d.has(k) && !d.noFuse
}

// CanLinear3 reports whether Linear3 (gemv3) runs rows rows of x with
// weights of type dt (decodeFused).
func (d *Device) CanLinear3(rows int, dt compute.DType) bool {
	return d.decodeFused(kGemv3, kGemv3x16, rows, dt)
}

// Linear3 sets y[i] = n(x)·w[i]ᵀ (+ bias[i]) in one dispatch (gemv3), for
// rows CanLinear3 allows; n(x) is RMSNorm(x, norm, eps), or x when norm is
// nil.
func (d *Device) Linear3(y [3]*Tensor, x, norm *Tensor, eps float32, w, bias [3]*Tensor) {
	n, in := x.rows(), x.lastDim()
	d.own(x)
	if !d.CanLinear3(n, w[0].dt) {
		panic(fmt.Sprintf("vulkan: linear3 of %d rows of %v weights (CanLinear3 is false)", n, w[0].dt))
	}
	if !d.fits(w[0], w[0].n) || !d.fits(w[1], w[1].n) || !d.fits(w[2], w[2].n) {
		xn := d.normed(x, norm, eps)
		for i := range w {
			d.Linear(y[i], xn, w[i], bias[i])
		}
		return
	}
	p := gemv3Push{m: uint32(n), k: uint32(in), lda: uint32(in), eps: eps}
	outs := [3]*uint32{&p.n0, &p.n1, &p.n2}
	var ops [11]binding
	ops[3] = x.bind()
	ops[10], p.flags = d.preNorm("linear3", norm, in)
	for i := range w {
		d.own(y[i], w[i], bias[i])
		if len(w[i].dims) != 2 || w[i].dims[1] != in || w[i].dt != w[0].dt || y[i].n != n*w[i].dims[0] ||
			(bias[i] != nil && bias[i].n != w[i].dims[0]) {
			panic(fmt.Sprintf("vulkan: linear3 %v = %v·%vᵀ + %v", y[i], x, w[i], bias[i]))
		}
		*outs[i] = uint32(w[i].dims[0])
		ops[i] = y[i].bind()
		if w[i].dt.Is16() {
			ops[4+i] = w[i].bind16()
		} else {
			ops[4+i] = w[i].bind()
		}
		ops[7+i] = binding{b: d.dummy, size: d.dummy.size}
		if bias[i] != nil {
			ops[7+i] = bias[i].bind()
			p.flags |= 1 << i
		}
	}
	kern := kGemv3
	if w[0].dt.Is16() {
		kern = kGemv3x16
		if w[0].dt == compute.F16 {
			p.flags |= gemmF16
		}
	}
	dispatch(d, kern, &p, linearGroups(ceilDiv(int(p.n0+p.n1+p.n2), 4)), ops[:]...)
}

// gluPush is gemv_glu's push constants.
type gluPush struct {
	m, n, k, lda, ldb, ldc, flags uint32
	eps                           float32
}

// CanGate reports whether GatedLinear (gemv_glu) runs rows rows of x with
// weights of type dt (decodeFused).
func (d *Device) CanGate(rows int, dt compute.DType) bool {
	return d.decodeFused(kGemvGLU, kGemvGLU16, rows, dt)
}

// GatedLinear sets h = silu(n(x)·gateᵀ)·(n(x)·upᵀ) in one dispatch
// (gemv_glu), for rows CanGate allows; n as Linear3's.
func (d *Device) GatedLinear(h, x, norm *Tensor, eps float32, gate, up *Tensor) {
	d.own(h, x, gate, up)
	n, in, out := x.rows(), x.lastDim(), gate.dims[0]
	if len(gate.dims) != 2 || gate.dims[1] != in || gate.dt != up.dt || len(up.dims) != 2 || up.dims[0] != out || up.dims[1] != in ||
		h.n != n*out || !d.CanGate(n, gate.dt) {
		panic(fmt.Sprintf("vulkan: gated linear %v = silu(%v·%vᵀ)·(%v·%vᵀ)", h, x, gate, x, up))
	}
	if !d.fits(gate, gate.n) || !d.fits(up, up.n) {
		xn := d.normed(x, norm, eps)
		g, u := d.temp(scratchGate, "gated linear: gate", n, out), d.temp(scratchUp, "gated linear: up", n, out)
		d.Linear(g, xn, gate, nil)
		d.Linear(u, xn, up, nil)
		d.SwiGLU(h, g, u)
		return
	}
	p := gluPush{m: uint32(n), n: uint32(out), k: uint32(in), lda: uint32(in), ldb: uint32(in), ldc: uint32(out), eps: eps}
	nb, flag := d.preNorm("gated linear", norm, in)
	p.flags |= flag
	kern := kGemvGLU
	var gb, ub binding
	if gate.dt.Is16() { // widened as gemv16 widens
		kern, gb, ub = kGemvGLU16, gate.bind16(), up.bind16()
		if gate.dt == compute.F16 {
			p.flags |= gemmF16
		}
	} else {
		gb, ub = gate.bind(), up.bind()
	}
	dispatch(d, kern, &p, linearGroups(ceilDiv(out, 2)), h.bind(), x.bind(), gb, ub, nb)
}

// LinearAdd sets y += x·wᵀ: Linear's product with beta 1.
func (d *Device) LinearAdd(y, x, w *Tensor) {
	d.own(y, x, w)
	n, in, out := x.rows(), x.lastDim(), w.dims[0]
	if len(w.dims) != 2 || w.dims[1] != in || y.n != n*out {
		panic(fmt.Sprintf("vulkan: linear add %v += %v·%vᵀ", y, x, w))
	}
	d.gemm(y, x, w, nil, gemmPush{m: uint32(n), n: uint32(out), k: uint32(in), lda: uint32(in), ldb: uint32(in), ldc: uint32(out),
		flags: gemmTransB, alpha: 1, beta: 1})
}

// LinearBackward accumulates dx += dy·w, dw += dyᵀ·x and dbias += Σ dy;
// any of dx, dw, dbias may be nil.
func (d *Device) LinearBackward(dx, dw, dbias, dy, x, w *Tensor) {
	d.own(dx, dw, dbias, dy, x, w)
	n, in, out := x.rows(), x.lastDim(), w.dims[0]
	if dy.n != n*out {
		panic(fmt.Sprintf("vulkan: linear backward of %v with %v and %v", dy, x, w))
	}
	if dx != nil {
		d.gemm(dx, dy, w, nil, gemmPush{m: uint32(n), n: uint32(in), k: uint32(out), lda: uint32(out), ldb: uint32(in), ldc: uint32(in),
			alpha: 1, beta: 1})
	}
	if dw != nil {
		d.gemm(dw, dy, x, nil, gemmPush{m: uint32(out), n: uint32(in), k: uint32(n), lda: uint32(out), ldb: uint32(in), ldc: uint32(in),
			flags: gemmTransA, alpha: 1, beta: 1})
	}
	if dbias != nil {
		d.colSum(dbias, dy, dy, dy, n, out, 0)
	}
}

// MatMul sets c = alpha·op(a)·op(b) + beta·c over 2-D tensors.
func (d *Device) MatMul(c, a, b *Tensor, transA, transB bool, alpha, beta float32) {
	d.own(c, a, b)
	m, k := a.dims[0], a.dims[1]
	if transA {
		m, k = k, m
	}
	n, kb := b.dims[1], b.dims[0]
	if transB {
		n, kb = b.dims[0], b.dims[1]
	}
	if kb != k || c.dims[0] != m || c.dims[1] != n {
		panic(fmt.Sprintf("vulkan: matmul %v = %v·%v (trans %v %v)", c, a, b, transA, transB))
	}
	p := gemmPush{m: uint32(m), n: uint32(n), k: uint32(k), lda: uint32(a.dims[1]), ldb: uint32(b.dims[1]), ldc: uint32(n), alpha: alpha, beta: beta}
	if transA {
		p.flags |= gemmTransA
	}
	if transB {
		p.flags |= gemmTransB
	}
	d.gemm(c, a, b, nil, p)
}

type adamPush struct {
	n                                                      uint32
	beta1, a1, beta2, a2, sqrtBC2, eps, decay, negStepSize float32
}

// AdamW applies one AdamW step to p with gradient g and moments m, v,
// forming the scalars as compute's CPU kernel does (float64, rounded once).
func (d *Device) AdamW(p, g, m, v *Tensor, s compute.AdamWStep) {
	d.own(p, g, m, v)
	mustNotBeFrozen(p)
	sameLen("adamw", p, g, m, v)
	lr, b1, b2, wd := float64(s.LR), float64(s.Beta1), float64(s.Beta2), float64(s.WeightDecay)
	push := adamPush{
		beta1: float32(b1), a1: float32(1 - b1), beta2: float32(b2), a2: float32(1 - b2),
		sqrtBC2: float32(math.Sqrt(float64(s.BC2))), eps: s.Eps,
		decay: float32(1 - lr*wd), negStepSize: float32(-(lr / float64(s.BC1)))}
	d.eachWindow(p, func(e0, n int) {
		push.n = uint32(n)
		dispatch(d, kAdamW, &push, linearGroups(ceilDiv(n, groupSize)), p.span(e0, n), g.span(e0, n), m.span(e0, n), v.span(e0, n))
	})
}

type lpPush struct {
	rows, v uint32
	invTemp float32
}

// uploadInts puts host ids into the batch's upload arena for a kernel to read.
func (d *Device) uploadInts(ids []int32) (binding, bool) {
	if len(ids) == 0 {
		return binding{}, false
	}
	return d.upload(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(ids))), len(ids)*4))
}

// TokenLogProbs sets lp[n] = log softmax(logits[n]·invTemp)[targets[n]] and
// saves lse [N]; targets[n] < 0 gives lp = lse = 0.
func (d *Device) TokenLogProbs(lp, lse, logits *Tensor, targets []int32, invTemp float32) {
	d.own(lp, lse, logits)
	n, v := logits.rows(), logits.lastDim()
	if len(targets) != n || lp.n != n || lse.n != n {
		panic(fmt.Sprintf("vulkan: token log-probs of %v with %d targets into %v, %v", logits, len(targets), lp, lse))
	}
	checkTargets(targets, v)
	tb, ok := d.uploadInts(targets)
	if !ok {
		return
	}
	dispatch(d, kLogProbs, &lpPush{rows: uint32(n), v: uint32(v), invTemp: invTemp}, linearGroups(n),
		lp.bind(), lse.bind(), logits.bind(), tb)
}

// TokenLogProbsBackward accumulates dlogits += glp·invTemp·(onehot − softmax)
// for rows whose target is not negative.
func (d *Device) TokenLogProbsBackward(dlogits, glp, logits, lse *Tensor, targets []int32, invTemp float32) {
	d.own(dlogits, glp, logits, lse)
	sameLen("token log-probs backward", logits, dlogits)
	n, v := logits.rows(), logits.lastDim()
	if len(targets) != n || glp.n != n || lse.n != n {
		panic(fmt.Sprintf("vulkan: token log-probs backward of %v with %d targets", logits, len(targets)))
	}
	checkTargets(targets, v)
	tb, ok := d.uploadInts(targets)
	if !ok {
		return
	}
	dispatch(d, kLogProbsBack, &lpPush{rows: uint32(logits.n), v: uint32(v), invTemp: invTemp}, linearGroups(ceilDiv(logits.n, groupSize)),
		dlogits.bind(), glp.bind(), logits.bind(), lse.bind(), tb)
}

// checkTargets panics on a target past the vocabulary: the shader would
// read outside the row.
func checkTargets(targets []int32, v int) {
	for i, t := range targets {
		if int(t) >= v {
			panic(fmt.Sprintf("vulkan: target %d of row %d is past the vocabulary (%d)", t, i, v))
		}
	}
}
