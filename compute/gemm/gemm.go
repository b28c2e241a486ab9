// Package gemm is a row-major single-precision matrix multiply (SGEMM) with a
// packed, cache-blocked driver in the style of BLIS and assembly micro-kernels
// chosen at run time (AVX-512, AVX2+FMA, or portable Go).
//
// The driver packs op(B) into kc×nr strips and op(A), scaled by alpha, into
// mr×kc strips (transposes are handled while packing), then runs the
// micro-kernel over every mr×nr tile of C. Packing buffers come from free
// lists that the garbage collector does not empty, so a steady-state call
// allocates nothing. Products of at least 2²¹ multiply-adds are split over
// blocks of C on the process-wide pool of package parallel (over strips of B
// when m <= n, each worker packing its own strips, else over row panels of A
// with B packed once); smaller ones stay on the calling goroutine.
//
// Kernels (internal/asmgen writes kernels_amd64.s):
//   - avx512: 14×32 tile, 28 zmm accumulators, A broadcast per row, plus
//     kernels for the first h<14 rows of a panel so m-edges write C directly;
//     the transposed operands are packed with an AVX-512 16×16 transpose.
//   - avx2: 6×16 tile on ymm with FMA.
//   - generic: a 4×4 pure-Go kernel for other CPUs (tests run it everywhere),
//     and the only one under -tags purego (no assembly), as in compute/kernels.
//
// asmgen writes two more AVX-512 kernels, 6×64 and a 14×32 that broadcasts
// from memory: the alternatives BenchmarkMicroKernel and BenchmarkTune
// measure the 14×32 against on a new CPU, proven by the same tests so that
// a measurement never favours a wrong kernel. Nothing outside the tests
// calls them, so the linker leaves them out of rlt.
//
// On the project's machine kind (AMD EPYC Zen 4: 512-bit FMAs run as two
// 256-bit halves, so one core peaks near 115 GFLOP/s) the 14×32 kernel reaches
// about 110 GFLOP/s on L1-resident panels and a whole transformer-sized
// product about 105 GFLOP/s on one core and about 200 on two (BenchmarkSgemm,
// bench/gemm_vs_openblas.sh), level with OpenBLAS 0.3.21 there.
package gemm

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/rlt-workbench/rlt/compute/half"
	"github.com/rlt-workbench/rlt/compute/parallel"
)

// parallelMinMACs is the smallest m·n·k that Sgemm splits over the pool; below
// it the fork-join costs more than it saves on two cores (a 128×128×64
// attention tile is 1 Mi MACs and stays serial).
const parallelMinMACs = 1 << 21

// prepackedMinMACs is the same threshold for a product whose B is prepacked
// (PackedB).
const prepackedMinMACs = 1 << 19

// Sgemm computes C = alpha·op(A)·op(B) + beta·C (row-major). op(A) is m×k (A is k×m when transA),
// op(B) is k×n (B is n×k when transB). lda/ldb/ldc are row strides. beta==0 means C is overwritten (NaNs in C ignored).
// Uses the parallel pool above a size threshold.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkArgs(transA, transB, m, n, k, a, lda, 0, b, ldb, 0, c, ldc, 0, 1)
	sgemm(true, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmSerial is Sgemm on the calling goroutine only (for callers that parallelise outside, e.g. per attention head).
func SgemmSerial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkArgs(transA, transB, m, n, k, a, lda, 0, b, ldb, 0, c, ldc, 0, 1)
	sgemm(false, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmStrided runs batch independent GEMMs; matrix i starts at a[i*strideA:], b[i*strideB:], c[i*strideC:].
// Large matrices are each split over the pool; small ones are spread over the
// pool one matrix per task.
func SgemmStrided(transA, transB bool, m, n, k int, alpha float32, a []float32, lda, strideA int, b []float32, ldb, strideB int, beta float32, c []float32, ldc, strideC int, batch int) {
	if batch <= 0 {
		return
	}
	checkArgs(transA, transB, m, n, k, a, lda, strideA, b, ldb, strideB, c, ldc, strideC, batch)
	if batch == 1 || m*n*k >= parallelMinMACs || parallel.Workers() == 1 {
		for i := 0; i < batch; i++ {
			sgemm(true, transA, transB, m, n, k, alpha, from(a, i*strideA), lda, from(b, i*strideB), ldb, beta, from(c, i*strideC), ldc)
		}
		return
	}
	j := batchPool.get()
	*j = batchJob{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
		a: a, lda: lda, strideA: strideA, b: b, ldb: ldb, strideB: strideB,
		beta: beta, c: c, ldc: ldc, strideC: strideC}
	grain := 1
	if macs := m * n * k; macs > 0 {
		grain = max(1, (parallelMinMACs/2)/macs)
	}
	parallel.For(batch, grain, j)
	*j = batchJob{}
	batchPool.put(j)
}

type batchJob struct {
	transA, transB            bool
	m, n, k                   int
	alpha, beta               float32
	a, b, c                   []float32
	lda, ldb, ldc             int
	strideA, strideB, strideC int
}

var batchPool freeList[batchJob]

func (j *batchJob) Run(lo, hi int) {
	for i := lo; i < hi; i++ {
		sgemm(false, j.transA, j.transB, j.m, j.n, j.k, j.alpha, from(j.a, i*j.strideA), j.lda,
			from(j.b, i*j.strideB), j.ldb, j.beta, from(j.c, i*j.strideC), j.ldc)
	}
}

// from is s[off:], or empty when off is past the end (an operand that the
// dimensions say is empty, or unused because k or alpha is zero).
func from(s []float32, off int) []float32 {
	if off >= len(s) {
		return nil
	}
	return s[off:]
}

// need is the length a row-major rows×cols matrix with stride ld occupies.
func need(rows, cols, ld int) int {
	if rows == 0 || cols == 0 {
		return 0
	}
	return (rows-1)*ld + cols
}

func checkArgs(transA, transB bool, m, n, k int, a []float32, lda, strideA int, b []float32, ldb, strideB int, c []float32, ldc, strideC int, batch int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	check := func(name string, s []float32, rows, cols, ld, stride int) {
		if rows > 0 && cols > 0 && ld < cols {
			panic(fmt.Sprintf("gemm: ld%s=%d is less than the %d columns of %s", name, ld, cols, name))
		}
		nd := need(rows, cols, ld)
		if nd > 0 && batch > 1 {
			nd += (batch - 1) * stride
		}
		if len(s) < nd {
			panic(fmt.Sprintf("gemm: %s too short: len %d, need %d (%d×%d, ld %d, batch %d)", name, len(s), nd, rows, cols, ld, batch))
		}
	}
	if m > 0 && n > 0 {
		check("A", a, ar, ac, lda, strideA)
		if b != nil || ldb != 0 { // SgemmB16 checks its 16-bit B itself
			check("B", b, br, bc, ldb, strideB)
		}
	}
	check("C", c, m, n, ldc, strideC)
}

// workspace holds one call's packed B and its parallel jobs.
type workspace struct {
	bp    []float32
	packB packBJob
	mac   macroJob
}

// freeList is a mutex-guarded stack of reusable buffers. Unlike a sync.Pool it
// is never emptied by the garbage collector, so the packing buffers of a
// training loop are allocated once; it holds at most as many buffers as there
// have ever been concurrent users.
type freeList[T any] struct {
	mu   sync.Mutex
	free []*T
}

func (f *freeList[T]) get() *T {
	f.mu.Lock()
	if n := len(f.free); n > 0 {
		x := f.free[n-1]
		f.free = f.free[:n-1]
		f.mu.Unlock()
		return x
	}
	f.mu.Unlock()
	return new(T)
}

func (f *freeList[T]) put(x *T) {
	f.mu.Lock()
	f.free = append(f.free, x)
	f.mu.Unlock()
}

var wsPool freeList[workspace]

// aBuf is one thread's packed-A block.
type aBuf struct {
	a   []float32
	tmp [maxMR * maxNR]float32 // edge tiles
}

var aPool freeList[aBuf]

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

func sgemm(par, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmWith(nil, par, transA, transB, m, n, k, alpha, a, lda, b, nil, 0, ldb, beta, c, ldc)
}

// SgemmB16 computes C = alpha·op(A)·Bᵀ + beta·C like Sgemm with transB, for
// a B (n×k, row stride ldb) of 16-bit floats of the given kind: a weight
// [out, in] kept as its checkpoint stores it. Each block of B is widened to
// float32 while it is packed, a strip at a time, so no float32 copy of B
// ever exists; the products are bit-identical to Sgemm's on the widened B.
func SgemmB16(transA bool, m, n, k int, alpha float32, a []float32, lda int, b []uint16, kind half.Kind, ldb int, beta float32, c []float32, ldc int) {
	checkArgs(transA, false, m, n, k, a, lda, 0, nil, 0, 0, c, ldc, 0, 1)
	if kind != half.BF16 && kind != half.F16 {
		panic(fmt.Sprintf("gemm: SgemmB16: unknown 16-bit kind %d", kind))
	}
	if m > 0 && n > 0 && k > 0 {
		if ldb < k {
			panic(fmt.Sprintf("gemm: ldB=%d is less than the %d columns of B", ldb, k))
		}
		if nd := need(n, k, ldb); len(b) < nd {
			panic(fmt.Sprintf("gemm: B too short: len %d, need %d (%d×%d, ld %d)", len(b), nd, n, k, ldb))
		}
	}
	sgemmWith(nil, true, transA, true, m, n, k, alpha, a, lda, nil, b, kind, ldb, beta, c, ldc)
}

// sgemmWith is sgemm with op(B) either given (b or, in 16 bits, b16; ldb,
// transB) or, when pre is set, already packed.
func sgemmWith(pre *PackedB, par, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, b16 []uint16, kind half.Kind, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	kern := active
	if pre != nil {
		kern = pre.kern
	}
	mr, nr := kern.mr, kern.nr
	workers := 1
	minMACs := parallelMinMACs
	if pre != nil {
		// Without B to pack, a split costs only the fork-join, so smaller
		// products (a decode step's projections) gain from the second core.
		minMACs = prepackedMinMACs
	}
	if par && m*n*k >= minMACs {
		workers = parallel.Workers()
	}
	ws := wsPool.get()
	nc := min(kern.nc, roundUp(n, nr))
	kc := depthBlock(kern, k)
	if pre == nil {
		ws.bp = grow(ws.bp, kc*nc)
	}
	mp := &ws.mac
	*mp = macroJob{kern: kern, transA: transA, a: a, lda: lda, alpha: alpha, c: c, ldc: ldc, bp: ws.bp, m: m}
	pb := &ws.packB
	*pb = packBJob{transB: transB, b: b, b16: b16, kind: kind, ldb: ldb, bp: ws.bp, nr: nr}
	npad := roundUp(n, nr)
	for jc := 0; jc < n; jc += nc {
		nb := min(nc, n-jc)
		strips := (nb + nr - 1) / nr
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			be := beta
			if pc > 0 {
				be = 1
			}
			pb.pc, pb.kb, pb.jc, pb.nb = pc, kb, jc, nb
			mp.pc, mp.kb, mp.jc, mp.nb, mp.beta = pc, kb, jc, nb, be
			var pack *packBJob // who packs this block of B; nil when it is prepacked
			if pre != nil {
				// Block pc of the prepacked B holds its strips one after
				// another, kb×nr each; this jc block starts at strip jc/nr.
				off := pc*npad + (jc/nr)*kb*nr
				mp.bp = pre.data[off : off+strips*kb*nr]
			} else {
				pack = pb
			}
			panels := (m + mr - 1) / mr
			switch {
			case workers == 1:
				mp.splitN, mp.pack = true, pack
				mp.Run(0, strips)
			case m <= nb && strips >= 2 && balance(strips, workers) >= balance(panels, workers)-0.1:
				// Split over B strips: each worker packs its own strips of B
				// and all of A (A is the smaller operand), one fork-join.
				mp.splitN, mp.pack = true, pack
				parallel.For(strips, 1, mp)
			default:
				// Split over row panels: B is packed once, shared.
				if pack != nil {
					parallel.For(strips, 2, pack)
				}
				mp.splitN, mp.pack = false, nil
				parallel.For(panels, 1, mp)
			}
		}
	}
	*mp = macroJob{}
	*pb = packBJob{}
	wsPool.put(ws)
}

// depthBlock is kc, the depth of one packed panel, for a product of depth k.
// Packing B ahead of time (PackedB) uses the same blocks, so a prepacked
// product sums in exactly the order of an unpacked one.
func depthBlock(kern *microKernel, k int) int {
	kc := kern.kc
	if k < kc+kc/4 {
		return k // one pass when k is only a little over kc
	}
	if r := k % kc; r != 0 && r < kc/2 {
		// spread k evenly over the passes instead of leaving a thin last one
		passes := (k + kc - 1) / kc
		kc = roundUp((k+passes-1)/passes, 8)
	}
	return kc
}

func roundUp(x, to int) int { return (x + to - 1) / to * to }

// balance is the fraction of w workers' time used when units equal tasks are
// split into w contiguous pieces.
func balance(units, w int) float64 {
	return float64(units) / float64(w*((units+w-1)/w))
}

func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// packBJob packs strips [lo,hi) of the current kb×nb block of op(B).
type packBJob struct {
	transB         bool
	b              []float32
	b16            []uint16 // B in 16 bits (transB only), widened while packing
	kind           half.Kind
	ldb            int
	bp             []float32
	nr             int
	pc, kb, jc, nb int
}

func (j *packBJob) Run(lo, hi int) {
	if j.b16 != nil {
		j.run16(lo, hi)
		return
	}
	if !j.transB {
		packBNStrips(j.bp, j.b, j.ldb, j.pc, j.kb, j.jc, j.nb, lo, hi, j.nr)
		return
	}
	for s := lo; s < hi; s++ {
		j0 := j.jc + s*j.nr
		w := min(j.nr, j.jc+j.nb-j0)
		dst := j.bp[s*j.kb*j.nr : (s+1)*j.kb*j.nr]
		if j.transB {
			packBT(dst, j.b, j.ldb, j.pc, j.kb, j0, w, j.nr)
		} else {
			packBN(dst, j.b, j.ldb, j.pc, j.kb, j0, w, j.nr)
		}
	}
}

// macroJob multiplies packed A blocks by the packed B block. Run's range is
// over row panels (mr rows each) or, when splitN, over B strips.
type macroJob struct {
	kern           *microKernel
	transA         bool
	a              []float32
	lda            int
	alpha, beta    float32
	c              []float32
	ldc            int
	bp             []float32
	m              int
	pc, kb, jc, nb int
	splitN         bool
	pack           *packBJob // when set (splitN), Run packs its own strips of B first
}

func (j *macroJob) Run(lo, hi int) {
	mr, nr := j.kern.mr, j.kern.nr
	strips := (j.nb + nr - 1) / nr
	r0, r1 := 0, (j.m+mr-1)/mr
	s0, s1 := 0, strips
	if j.splitN {
		s0, s1 = lo, hi
	} else {
		r0, r1 = lo, hi
	}
	if j.pack != nil {
		j.pack.Run(s0, s1)
	}
	ab := aPool.get()
	mcPanels := j.kern.mc / mr
	ab.a = grow(ab.a, mcPanels*mr*j.kb)
	for rb := r0; rb < r1; rb += mcPanels {
		re := min(rb+mcPanels, r1)
		i0 := rb * mr
		rows := min(re*mr, j.m) - i0
		ap := ab.a[:(re-rb)*mr*j.kb]
		for r := 0; r < re-rb; r++ {
			ii := i0 + r*mr
			h := min(mr, j.m-ii)
			dst := ap[r*mr*j.kb : (r+1)*mr*j.kb]
			if j.transA {
				packAT(dst, j.a, j.lda, ii, h, j.pc, j.kb, mr, j.alpha)
			} else {
				packAN(dst, j.a, j.lda, ii, h, j.pc, j.kb, mr, j.alpha)
			}
		}
		j.macro(ab, ap, i0, rows, s0, s1)
	}
	aPool.put(ab)
}

// macro runs the micro-kernel over rows [i0,i0+rows) and strips [s0,s1).
func (j *macroJob) macro(ab *aBuf, ap []float32, i0, rows, s0, s1 int) {
	kern := j.kern
	mr, nr, kb := kern.mr, kern.nr, j.kb
	tmp := ab.tmp[:]
	for s := s0; s < s1; s++ {
		jj := j.jc + s*nr
		w := min(nr, j.jc+j.nb-jj)
		bptr := &j.bp[s*kb*nr]
		for r := 0; r*mr < rows; r++ {
			ii := i0 + r*mr
			h := min(mr, i0+rows-ii)
			aptr := &ap[r*mr*kb]
			if w == nr {
				if h == mr {
					kern.fn(kb, aptr, bptr, &j.c[ii*j.ldc+jj], j.ldc, j.beta)
					continue
				}
				if kern.rows != nil {
					_ = j.c[(ii+h-1)*j.ldc+jj+nr-1]
					kern.rows[h](kb, aptr, bptr, &j.c[ii*j.ldc+jj], j.ldc, j.beta)
					continue
				}
			}
			kern.fn(kb, aptr, bptr, &tmp[0], nr, 0)
			for i := 0; i < h; i++ {
				row := j.c[(ii+i)*j.ldc+jj : (ii+i)*j.ldc+jj+w]
				t := tmp[i*nr : i*nr+w]
				if j.beta == 0 {
					copy(row, t)
				} else {
					for x := range row {
						row[x] = t[x] + j.beta*row[x]
					}
				}
			}
		}
	}
}

func unsafeSlice(p *float32, n int) []float32 { return unsafe.Slice(p, n) }

// wideBuf is one strip of a 16-bit B widened to float32 before packing.
type wideBuf struct{ f []float32 }

var widePool freeList[wideBuf]

// run16 packs strips [lo,hi) of a 16-bit B stored n×k: each strip's nr rows
// of B are widened into a small float32 block (sequential reads, one
// conversion per element) and packed from there as Sgemm packs a float32 B,
// so the packed values, and every product, are the same bits.
func (j *packBJob) run16(lo, hi int) {
	wb := widePool.get()
	wb.f = grow(wb.f, j.nr*j.kb)
	for s := lo; s < hi; s++ {
		j0 := j.jc + s*j.nr
		w := min(j.nr, j.jc+j.nb-j0)
		for r := 0; r < w; r++ {
			row := j.b16[(j0+r)*j.ldb+j.pc : (j0+r)*j.ldb+j.pc+j.kb]
			half.Widen(j.kind, wb.f[r*j.kb:(r+1)*j.kb], row)
		}
		packBT(j.bp[s*j.kb*j.nr:(s+1)*j.kb*j.nr], wb.f, j.kb, 0, j.kb, 0, w, j.nr)
	}
	widePool.put(wb)
}
