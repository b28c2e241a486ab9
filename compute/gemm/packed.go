package gemm

import (
	"fmt"

	"github.com/rlt-workbench/rlt/compute/parallel"
)

// PackedB is the op(B) operand of many products packed once, for a B that
// stays constant while A changes: a model's weights over the decode steps of
// one generation. Decoding multiplies a few rows of activations by every
// weight matrix at each step, and packing B there costs more than the
// multiply itself; a PackedB pays it once.
//
// The layout is the driver's own (blocks of depth kc, strips of nr columns,
// for the micro-kernel chosen when packing), so SgemmPacked adds up every
// element of C in exactly the order Sgemm does: the results are bit-identical.
type PackedB struct {
	kern *microKernel
	n, k int
	kc   int
	data []float32
	job  packBJob // reused by Pack, so packing allocates nothing once data fits
}

// N is the number of columns of op(B); K its number of rows.
func (p *PackedB) N() int { return p.n }

// K is the number of rows of op(B) (the depth of the products).
func (p *PackedB) K() int { return p.k }

// PackedLen is the floats Pack holds for an op(B) of k×n on this machine's
// micro-kernel: k rows of n columns rounded up to its strips of nr (a
// memory estimate counts a frozen weight's packed copy by it).
func PackedLen(n, k int) int { return k * roundUp(n, active.nr) }

// Pack packs op(B) (k×n; B is n×k when transB) into p, reusing p's memory
// when it is large enough. It uses the pool like Sgemm does.
func (p *PackedB) Pack(transB bool, n, k int, b []float32, ldb int) {
	if n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: pack: negative dimension n=%d k=%d", n, k))
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if br > 0 && bc > 0 {
		if ldb < bc {
			panic(fmt.Sprintf("gemm: pack: ldb=%d is less than the %d columns of B", ldb, bc))
		}
		if nd := need(br, bc, ldb); len(b) < nd {
			panic(fmt.Sprintf("gemm: pack: B too short: len %d, need %d (%d×%d, ld %d)", len(b), nd, br, bc, ldb))
		}
	}
	kern := active
	p.kern, p.n, p.k = kern, n, k
	p.kc = depthBlock(kern, k)
	npad := roundUp(n, kern.nr)
	p.data = grow(p.data, k*npad) // PackedLen
	if n == 0 || k == 0 {
		return
	}
	strips := npad / kern.nr
	for pc := 0; pc < k; pc += p.kc {
		kb := min(p.kc, k-pc)
		j := &p.job
		*j = packBJob{transB: transB, b: b, ldb: ldb, bp: p.data[pc*npad : pc*npad+kb*npad],
			nr: kern.nr, pc: pc, kb: kb, jc: 0, nb: n}
		if n*kb >= parallelMinMACs/16 {
			parallel.For(strips, 2, j)
		} else {
			j.Run(0, strips)
		}
	}
	p.job = packBJob{} // keep no reference to b
}

// SgemmPacked computes C = alpha·op(A)·op(B) + beta·C like Sgemm, with op(B)
// (k×n) packed in pb: op(A) is m×pb.K() (A is k×m when transA), C is m×pb.N().
func SgemmPacked(transA bool, m int, alpha float32, a []float32, lda int, pb *PackedB, beta float32, c []float32, ldc int) {
	if pb == nil || pb.kern == nil {
		panic("gemm: SgemmPacked: B was never packed")
	}
	n, k := pb.n, pb.k
	checkArgs(transA, false, m, n, k, a, lda, 0, pb.data, n, 0, c, ldc, 0, 1) // the packed B is at least k×n
	sgemmWith(pb, true, transA, false, m, n, k, alpha, a, lda, nil, nil, 0, 0, beta, c, ldc)
}
