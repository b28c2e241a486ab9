package gemm

import (
	"fmt"
	"math"
	"testing"

	"github.com/rlt-workbench/rlt/compute/half"
	"github.com/rlt-workbench/rlt/compute/parallel"
)

// The kernels' every place, proven one at a time, as compute/kernels'
// lanes_test.go proves its loops. A product of random values compared within
// a tolerance shows a lost row or column, but not always a lost term of one
// sum, a lane read one place off or a tail counted twice where its values
// happen to be close. Here every value is a small integer (or a half), so
// every sum is exact in float32 whatever its order, and the results must
// equal a plain loop's bit for bit: a dropped, doubled or misplaced element
// changes them by a whole term. Each micro-kernel runs with one
// distinguished value at every place of its packed A and B, every packer
// with a different value in every element, and the driver over every m and n
// up to two tiles and one more (every edge height and width), depths across
// the k loop's unroll, the transposing packer's blocks of 16 and the kc
// passes, with a distinguished value at every place of A and B of a few
// shapes. Elements of the operands outside the matrices are NaN, so reading
// one shows; C's elements outside the product hold a guard that must stay.

// lanesGuard is written around every output and must stay.
const lanesGuard = float32(-12345.5)

// distinct is the distinguished value put at one place at a time.
const distinct = float32(64)

// pattern is a place-dependent value in 1..m: neighbours within m of each
// other differ, so an element read from a neighbour's place changes a sum.
func pattern(i, m int) float32 { return float32(1 + i%m) }

// nan32 marks operand elements outside the matrix.
var nan32 = float32(math.NaN())

// sameBits says whether two results are the same float32 (NaN never is).
func sameBits(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) }

// tileKernel is one micro-kernel under test: it computes rows×nr from a
// panel of A packed with stride astride (rows < astride for a kernel of the
// first rows of a panel).
type tileKernel struct {
	name          string
	rows, astride int
	nr            int
	supported     bool
	fn            func(k int, a, b, c *float32, ldc int, beta float32)
}

// labelledKernel is a kernel the driver does not use, under the name its
// subtest has.
type labelledKernel struct {
	label string
	kern  *microKernel
}

// tileKernels lists every micro-kernel of this build: each kernel of the
// driver, its kernels of the first rows of a panel, and the tuning variants.
func tileKernels() []tileKernel {
	var ks []tileKernel
	add := func(label string, k *microKernel) {
		ok := kernelSupported(k.name)
		ks = append(ks, tileKernel{fmt.Sprintf("%s_%dx%d", label, k.mr, k.nr), k.mr, k.mr, k.nr, ok, k.fn})
		for h := 1; h < len(k.rows) && h < k.mr; h++ {
			ks = append(ks, tileKernel{fmt.Sprintf("%s_%dx%d_rows%d", label, k.mr, k.nr, h), h, k.mr, k.nr, ok, k.rows[h]})
		}
	}
	for _, k := range kernels {
		add(k.name, k)
	}
	for _, v := range variantKernels() {
		add(v.label, v.kern)
	}
	return ks
}

// TestMicroKernelsEveryPlace: every micro-kernel sums every element of its
// packed A and B at its own place, over every depth to 13 (none, each tail
// of the loop unrolled by 4, and up to three turns of the loop), with beta
// 0 (C NaN, overwritten), −0, 1 and −0.5, writes its rows×nr tile of C and
// nothing else (the row padding, the rows below, what follows), and reads
// nothing of A's panel past its rows.
func TestMicroKernelsEveryPlace(t *testing.T) {
	const maxK = 13
	for _, kn := range tileKernels() {
		t.Run(kn.name, func(t *testing.T) {
			if !kn.supported {
				t.Skip("CPU lacks the features")
			}
			rows, as, nr := kn.rows, kn.astride, kn.nr
			ldc := nr + 3
			clen := (as+1)*ldc + 17
			for k := 0; k <= maxK; k++ {
				a := make([]float32, k*as+1)
				b := make([]float32, k*nr+1)
				for p := 0; p < k; p++ {
					for i := 0; i < as; i++ {
						a[p*as+i] = nan32 // rows past the kernel's are never read
						if i < rows {
							a[p*as+i] = pattern(p*as+i, 7)
						}
					}
					for j := 0; j < nr; j++ {
						b[p*nr+j] = pattern(p*nr+j, 5)
					}
				}
				c0 := make([]float32, clen)
				for x := range c0 {
					c0[x] = lanesGuard
					if i, j := x/ldc, x%ldc; i < rows && j < nr {
						c0[x] = pattern(x, 11)
					}
				}
				// sums[i*nr+j] is row i, column j of A·B without the distinguished value.
				sums := make([]float64, rows*nr)
				for i := 0; i < rows; i++ {
					for j := 0; j < nr; j++ {
						for p := 0; p < k; p++ {
							sums[i*nr+j] += float64(a[p*as+i]) * float64(b[p*nr+j])
						}
					}
				}
				for _, beta := range []float32{0, float32(math.Copysign(0, -1)), 1, -0.5} {
					cin := append([]float32(nil), c0...)
					if beta == 0 {
						for i := 0; i < rows; i++ {
							for j := 0; j < nr; j++ {
								cin[i*ldc+j] = nan32 // ignored
							}
						}
					}
					c := make([]float32, clen)
					// check runs the kernel and compares C with the sums, plus
					// delta·B[p,:] in row di (or A[:,p]·delta in column dj).
					check := func(what string, p, di, dj int, delta float64) {
						copy(c, cin)
						kn.fn(k, &a[0], &b[0], &c[0], ldc, beta)
						for x := range c {
							i, j := x/ldc, x%ldc
							if i >= rows || j >= nr {
								if !sameBits(c[x], lanesGuard) {
									t.Fatalf("k=%d beta=%v, %s: wrote C[%d,%d] = %v, outside the %d×%d tile", k, beta, what, i, j, c[x], rows, nr)
								}
								continue
							}
							s := sums[i*nr+j]
							if i == di {
								s += delta * float64(b[p*nr+j])
							}
							if j == dj {
								s += delta * float64(a[p*as+i])
							}
							if beta != 0 {
								s += float64(beta) * float64(cin[x])
							}
							if want := float32(s); !sameBits(c[x], want) {
								t.Fatalf("k=%d beta=%v, %s: C[%d,%d] = %v, want %v", k, beta, what, i, j, c[x], want)
							}
						}
					}
					check("no distinguished value", 0, -1, -1, 0)
					for p := 0; p < k; p++ {
						for i := 0; i < rows; i++ {
							old := a[p*as+i]
							a[p*as+i] = distinct
							check(fmt.Sprintf("%v at A[k=%d, row %d]", distinct, p, i), p, i, -1, float64(distinct-old))
							a[p*as+i] = old
						}
						for j := 0; j < nr; j++ {
							old := b[p*nr+j]
							b[p*nr+j] = distinct
							check(fmt.Sprintf("%v at B[k=%d, column %d]", distinct, p, j), p, -1, j, float64(distinct-old))
							b[p*nr+j] = old
						}
					}
				}
			}
		})
	}
}

// packerPath is one implementation of the transposing packer: none (the Go
// loops) or the SIMD one where the CPU has it.
type packerPath struct {
	name string
	fn   func(src *float32, lds int, dst *float32, ldd int, blocks int, rows int, mask int, alpha float32)
}

func packerPaths() []packerPath {
	paths := []packerPath{{"go", nil}}
	if fn := simdPacker(); fn != nil {
		paths = append(paths, packerPath{"simd", fn})
	}
	return paths
}

// onEveryPacker runs f as a subtest with each of packerPaths as transPack16.
func onEveryPacker(t *testing.T, f func(t *testing.T)) {
	for _, p := range packerPaths() {
		t.Run(p.name, func(t *testing.T) {
			saved := transPack16
			transPack16 = p.fn
			defer func() { transPack16 = saved }()
			f(t)
		})
	}
}

// numbered is a rows×cols matrix with stride cols+3 whose elements in
// [r0,r1)×[c0,c1) are 1, 2, 3… in order and all others NaN.
func numbered(rows, cols, r0, r1, c0, c1 int) ([]float32, int) {
	ld := cols + 3
	m := make([]float32, rows*ld)
	for i := range m {
		m[i] = nan32
		if r, c := i/ld, i%ld; r >= r0 && r < r1 && c >= c0 && c < c1 {
			m[i] = float32(1 + (r-r0)*(c1-c0) + c - c0)
		}
	}
	return m, ld
}

// checkPanel compares a packed panel of depth kb (kb rows of width values)
// with want(p, x) (0 for padding) and the guards past it.
func checkPanel(t *testing.T, what string, dst []float32, kb, width int, want func(p, x int) float32) {
	t.Helper()
	for i, v := range dst {
		if i >= kb*width {
			if !sameBits(v, lanesGuard) {
				t.Fatalf("%s: wrote %v at %d, past the panel of %d×%d", what, v, i, kb, width)
			}
			continue
		}
		// Padding is zero of either sign: the SIMD packer scales the zeros
		// it reads past the edge by alpha, and those lanes only feed rows or
		// columns of a tile that are never stored.
		if w := want(i/width, i%width); !sameBits(v, w) && !(w == 0 && v == 0) {
			t.Fatalf("%s: panel[k=%d][%d] = %v, want %v", what, i/width, i%width, v, w)
		}
	}
}

func guarded(n int) []float32 {
	d := make([]float32, n+17)
	for i := range d {
		d[i] = lanesGuard
	}
	return d
}

// maxPackDepth passes three blocks of 16 of the transposing packer and
// every tail after them.
const maxPackDepth = 50

// TestPackersEveryPlace: every packer puts every element of its block of A
// or B at its own place of the panel, scaled by alpha for A, zero in the
// rows or columns past the matrix's edge, reads nothing outside the block
// (NaN there) and writes nothing past the panel, over every edge height or
// width and every depth to maxPackDepth, with the Go loops and the SIMD
// transposing packer.
func TestPackersEveryPlace(t *testing.T) {
	onEveryPacker(t, func(t *testing.T) {
		const i0, pc, j0 = 2, 3, 1
		for _, mr := range []int{4, 6, 14, 16} {
			for h := 1; h <= mr; h++ {
				for kb := 1; kb <= maxPackDepth; kb++ {
					for _, alpha := range []float32{1, -0.5} {
						a, lda := numbered(i0+h+1, pc+kb+1, i0, i0+h, pc, pc+kb)
						dst := guarded(kb * mr)
						packAN(dst, a, lda, i0, h, pc, kb, mr, alpha)
						checkPanel(t, fmt.Sprintf("packAN mr=%d h=%d kb=%d alpha=%v", mr, h, kb, alpha), dst, kb, mr, func(p, i int) float32 {
							if i >= h {
								return 0
							}
							return alpha * a[(i0+i)*lda+pc+p]
						})
						at, ldat := numbered(pc+kb+1, i0+h+1, pc, pc+kb, i0, i0+h)
						dst = guarded(kb * mr)
						packAT(dst, at, ldat, i0, h, pc, kb, mr, alpha)
						checkPanel(t, fmt.Sprintf("packAT mr=%d h=%d kb=%d alpha=%v", mr, h, kb, alpha), dst, kb, mr, func(p, i int) float32 {
							if i >= h {
								return 0
							}
							return alpha * at[(pc+p)*ldat+i0+i]
						})
					}
				}
			}
		}
		for _, nr := range []int{4, 16, 32, 64} {
			for w := 1; w <= nr; w++ {
				for kb := 1; kb <= maxPackDepth; kb++ {
					b, ldb := numbered(pc+kb+1, j0+w+1, pc, pc+kb, j0, j0+w)
					dst := guarded(kb * nr)
					packBN(dst, b, ldb, pc, kb, j0, w, nr)
					checkPanel(t, fmt.Sprintf("packBN nr=%d w=%d kb=%d", nr, w, kb), dst, kb, nr, func(p, j int) float32 {
						if j >= w {
							return 0
						}
						return b[(pc+p)*ldb+j0+j]
					})
					bt, ldbt := numbered(j0+w+1, pc+kb+1, j0, j0+w, pc, pc+kb)
					dst = guarded(kb * nr)
					packBT(dst, bt, ldbt, pc, kb, j0, w, nr)
					checkPanel(t, fmt.Sprintf("packBT nr=%d w=%d kb=%d", nr, w, kb), dst, kb, nr, func(p, j int) float32 {
						if j >= w {
							return 0
						}
						return bt[(j0+j)*ldbt+pc+p]
					})
				}
			}
		}
	})
}

// TestPackBNStripsEveryPlace: the strip packer of a B not transposed puts
// column jc+s·nr+x of row pc+p at strip s, row p, place x, zero past the
// block's nb columns, for every block width over three strips and every
// range of strips, and leaves the strips outside its range alone.
func TestPackBNStripsEveryPlace(t *testing.T) {
	const pc, jc = 2, 3
	for _, nr := range []int{4, 16, 32} {
		for nb := 1; nb <= 3*nr; nb++ {
			for _, kb := range []int{1, 5} {
				strips := (nb + nr - 1) / nr
				b, ldb := numbered(pc+kb+1, jc+nb+1, pc, pc+kb, jc, jc+nb)
				for s0 := 0; s0 < strips; s0++ {
					for s1 := s0 + 1; s1 <= strips; s1++ {
						bp := guarded(strips * kb * nr)
						packBNStrips(bp, b, ldb, pc, kb, jc, nb, s0, s1, nr)
						for i, v := range bp {
							s, p, x := i/(kb*nr), i%(kb*nr)/nr, i%nr
							want := lanesGuard
							if s >= s0 && s < s1 {
								want = 0
								if col := s*nr + x; col < nb {
									want = b[(pc+p)*ldb+jc+col]
								}
							}
							if !sameBits(v, want) {
								t.Fatalf("nr=%d nb=%d kb=%d strips [%d,%d): bp[%d] (strip %d, row %d, place %d) = %v, want %v", nr, nb, kb, s0, s1, i, s, p, x, v, want)
							}
						}
					}
				}
			}
		}
	}
}

// exactCase is one product of small integers.
type exactCase struct {
	tA, tB      bool
	m, n, k     int
	alpha, beta float32
}

func (c exactCase) String() string {
	t := map[bool]string{false: "N", true: "T"}
	return fmt.Sprintf("%s%s m=%d n=%d k=%d alpha=%v beta=%v", t[c.tA], t[c.tB], c.m, c.n, c.k, c.alpha, c.beta)
}

// exactProduct is an exactCase's operands, stored with a stride two past
// their width and NaN outside the matrices, C with guards around it, and the
// sums Σ_p op(A)[i,p]·op(B)[p,j] they make.
type exactProduct struct {
	c             exactCase
	a, b, c0      []float32
	lda, ldb, ldc int
	sums          []float64
}

// opA and opB address op(A)[i,p] and op(B)[p,j] in a and b.
func (e *exactProduct) opA(i, p int) int {
	if e.c.tA {
		return p*e.lda + i
	}
	return i*e.lda + p
}

func (e *exactProduct) opB(p, j int) int {
	if e.c.tB {
		return j*e.ldb + p
	}
	return p*e.ldb + j
}

func newExact(c exactCase) *exactProduct {
	e := &exactProduct{c: c}
	ar, ac := c.m, c.k
	if c.tA {
		ar, ac = c.k, c.m
	}
	br, bc := c.k, c.n
	if c.tB {
		br, bc = c.n, c.k
	}
	e.lda, e.ldb, e.ldc = ac+2, bc+2, c.n+2
	fill := func(rows, ld int) []float32 {
		s := make([]float32, rows*ld)
		for i := range s {
			s[i] = nan32
		}
		return s
	}
	e.a, e.b = fill(ar, e.lda), fill(br, e.ldb)
	for i := 0; i < c.m; i++ {
		for p := 0; p < c.k; p++ {
			e.a[e.opA(i, p)] = pattern(i*c.k+p, 7)
		}
	}
	for p := 0; p < c.k; p++ {
		for j := 0; j < c.n; j++ {
			e.b[e.opB(p, j)] = pattern(p*c.n+j, 5)
		}
	}
	e.c0 = make([]float32, c.m*e.ldc+17)
	for x := range e.c0 {
		e.c0[x] = lanesGuard
		if i, j := x/e.ldc, x%e.ldc; i < c.m && j < c.n {
			e.c0[x] = pattern(x, 11)
			if c.beta == 0 {
				e.c0[x] = nan32 // ignored
			}
		}
	}
	e.sums = make([]float64, c.m*c.n)
	for i := 0; i < c.m; i++ {
		for p := 0; p < c.k; p++ {
			av := float64(e.a[e.opA(i, p)])
			for j := 0; j < c.n; j++ {
				e.sums[i*c.n+j] += av * float64(e.b[e.opB(p, j)])
			}
		}
	}
	return e
}

// exactWay is one entry point of the package computing an exactProduct into c.
type exactWay struct {
	name string
	run  func(e *exactProduct, c []float32)
}

var (
	waySerial = exactWay{"SgemmSerial", func(e *exactProduct, c []float32) {
		x := e.c
		SgemmSerial(x.tA, x.tB, x.m, x.n, x.k, x.alpha, e.a, e.lda, e.b, e.ldb, x.beta, c, e.ldc)
	}}
	waySgemm = exactWay{"Sgemm", func(e *exactProduct, c []float32) {
		x := e.c
		Sgemm(x.tA, x.tB, x.m, x.n, x.k, x.alpha, e.a, e.lda, e.b, e.ldb, x.beta, c, e.ldc)
	}}
	wayPacked = exactWay{"SgemmPacked", func(e *exactProduct, c []float32) {
		x := e.c
		var pb PackedB
		pb.Pack(x.tB, x.n, x.k, e.b, e.ldb)
		SgemmPacked(x.tA, x.m, x.alpha, e.a, e.lda, &pb, x.beta, c, e.ldc)
	}}
	// wayB16 widens a B of bfloat16s while packing (small integers are
	// exact in it); it is for transposed B only, and does Sgemm otherwise.
	wayB16 = exactWay{"SgemmB16", func(e *exactProduct, c []float32) {
		x := e.c
		if !x.tB {
			Sgemm(x.tA, x.tB, x.m, x.n, x.k, x.alpha, e.a, e.lda, e.b, e.ldb, x.beta, c, e.ldc)
			return
		}
		b16 := make([]uint16, len(e.b))
		half.Narrow(half.BF16, b16, e.b)
		SgemmB16(x.tA, x.m, x.n, x.k, x.alpha, e.a, e.lda, b16, half.BF16, e.ldb, x.beta, c, e.ldc)
	}}
	// wayStrided runs a batch of the product and its copy, into C and the
	// copy of C that follows it; the copy must match C.
	wayStrided = exactWay{"SgemmStrided", func(e *exactProduct, c []float32) {
		x := e.c
		a2 := append(append([]float32(nil), e.a...), e.a...)
		b2 := append(append([]float32(nil), e.b...), e.b...)
		c2 := append(append([]float32(nil), c...), c...)
		SgemmStrided(x.tA, x.tB, x.m, x.n, x.k, x.alpha, a2, e.lda, len(e.a), b2, e.ldb, len(e.b), x.beta, c2, e.ldc, len(c), 2)
		for i := range c {
			if !sameBits(c2[i], c2[len(c)+i]) {
				c[i] = nan32 // the two of the batch differ: fail the check
				continue
			}
			c[i] = c2[i]
		}
	}}
)

// check runs way and compares C with alpha·(sums plus delta·op(B)[p,:] in
// row di, or op(A)[:,p]·delta in column dj) + beta·C, bit for bit, and the
// guards around C.
func (e *exactProduct) check(t *testing.T, way exactWay, what string, p, di, dj int, delta float64) {
	t.Helper()
	x := e.c
	c := append([]float32(nil), e.c0...)
	way.run(e, c)
	for at, got := range c {
		i, j := at/e.ldc, at%e.ldc
		if i >= x.m || j >= x.n {
			if !sameBits(got, lanesGuard) {
				t.Fatalf("%s %s %v%s: wrote C[%d,%d] = %v, outside the product", Kernel(), way.name, x, what, i, j, got)
			}
			continue
		}
		s := e.sums[i*x.n+j]
		if i == di {
			s += delta * float64(e.b[e.opB(p, j)])
		}
		if j == dj {
			s += delta * float64(e.a[e.opA(i, p)])
		}
		s *= float64(x.alpha)
		if x.beta != 0 {
			s += float64(x.beta) * float64(e.c0[at])
		}
		if want := float32(s); !sameBits(got, want) {
			t.Fatalf("%s %s %v%s: C[%d,%d] = %v, want %v", Kernel(), way.name, x, what, i, j, got, want)
		}
	}
}

// checkEveryPlace checks the product with the distinguished value at each
// place of op(A) in rows, then each place of op(B) in cols (nil: all).
func (e *exactProduct) checkEveryPlace(t *testing.T, way exactWay, rows, cols []int) {
	t.Helper()
	x := e.c
	if rows == nil {
		for i := 0; i < x.m; i++ {
			rows = append(rows, i)
		}
	}
	if cols == nil {
		for j := 0; j < x.n; j++ {
			cols = append(cols, j)
		}
	}
	for p := 0; p < x.k; p++ {
		for _, i := range rows {
			at := e.opA(i, p)
			old := e.a[at]
			e.a[at] = distinct
			e.check(t, way, fmt.Sprintf(", %v at op(A)[%d,%d]", distinct, i, p), p, i, -1, float64(distinct-old))
			e.a[at] = old
		}
		for _, j := range cols {
			at := e.opB(p, j)
			old := e.b[at]
			e.b[at] = distinct
			e.check(t, way, fmt.Sprintf(", %v at op(B)[%d,%d]", distinct, p, j), p, -1, j, float64(distinct-old))
			e.b[at] = old
		}
	}
}

// exactAlphas and exactBetas keep every result exact: halves and small
// integers (beta 0 with C NaN: overwritten).
var (
	exactAlphas = []float32{1, -0.5, 2}
	exactBetas  = []float32{0, 1, -0.5, 2}
)

// onEveryKernel runs f as a subtest with each kernel this CPU has active.
func onEveryKernel(t *testing.T, f func(t *testing.T, kern *microKernel)) {
	for _, kn := range allKernels() {
		t.Run(kn, func(t *testing.T) {
			useKernel(t, kn)
			f(t, active)
		})
	}
}

// TestSgemmExactEveryEdge: every m and n up to two tiles and one more (so
// every edge height and width, alone and beside whole tiles), the four
// transposes, depths 1..48 in turn (every tail of the k loop and of the
// transposing packer's blocks of 16), alphas and betas in turn: C equal to
// the plain loop's bit for bit and nothing around it written. A prepacked B,
// a 16-bit B and a batch take every fifth product.
func TestSgemmExactEveryEdge(t *testing.T) {
	onEveryKernel(t, func(t *testing.T, kern *microKernel) {
		step := 1
		if testing.Short() {
			step = 3
		}
		others := []exactWay{wayPacked, wayB16, wayStrided}
		count := 0
		for m := 1; m <= 2*kern.mr+1; m++ {
			for n := 1; n <= 2*kern.nr+1; n += step {
				for tr := 0; tr < 4; tr++ {
					count++
					x := exactCase{tA: tr&1 == 1, tB: tr&2 == 2, m: m, n: n, k: 1 + count%48,
						alpha: exactAlphas[count%3], beta: exactBetas[count/3%4]}
					e := newExact(x)
					e.check(t, waySerial, "", 0, -1, -1, 0)
					if count%5 == 0 {
						e.check(t, others[count/5%3], "", 0, -1, -1, 0)
					}
				}
			}
		}
	})
}

// TestSgemmEveryPlaceOfAAndB: a distinguished value at every place of op(A)
// and of op(B), for shapes of one tile and one more, two tiles less one,
// a few rows over two tiles of columns, and a depth past the kc of one pass
// (places in the last row of A and last column of B there), the four
// transposes.
func TestSgemmEveryPlaceOfAAndB(t *testing.T) {
	onEveryKernel(t, func(t *testing.T, kern *microKernel) {
		mr, nr := kern.mr, kern.nr
		shapes := []struct{ m, n, k int }{{mr + 1, nr + 1, 7}, {2*mr - 1, 2*nr - 1, 21}, {3, 2*nr + 5, 37}}
		if testing.Short() {
			shapes = shapes[1:2]
		}
		for si, s := range shapes {
			for tr := 0; tr < 4; tr++ {
				x := exactCase{tA: tr&1 == 1, tB: tr&2 == 2, m: s.m, n: s.n, k: s.k,
					alpha: exactAlphas[(si+tr)%3], beta: exactBetas[(si+tr)%4]}
				newExact(x).checkEveryPlace(t, waySerial, nil, nil)
			}
		}
		// Two passes over k (kc+kc/4 and more): the second adds to C with beta 1.
		k := kern.kc + kern.kc/4 + 10
		for _, tr := range []int{0, 3} {
			x := exactCase{tA: tr&1 == 1, tB: tr&2 == 2, m: mr + 1, n: nr + 1, k: k, alpha: -0.5, beta: -0.5}
			newExact(x).checkEveryPlace(t, waySerial, []int{mr}, []int{nr})
		}
	})
}

// TestSgemmExactAcrossBlocks: depths around kc (one pass, two, evened out
// and not, several), rows past mc, columns past nc, and products large
// enough to be split over the pool (over strips of B and over panels of A)
// at one, two and three workers, with every entry point.
func TestSgemmExactAcrossBlocks(t *testing.T) {
	onEveryKernel(t, func(t *testing.T, kern *microKernel) {
		mr, nr, kc := kern.mr, kern.nr, kern.kc
		var shapes []struct{ m, n, k int }
		for _, k := range []int{kc - 1, kc, kc + 1, kc + kc/4 - 1, kc + kc/4, 2*kc + 3, 3*kc - 5, 4*kc + 6} {
			shapes = append(shapes, struct{ m, n, k int }{mr + 3, nr + 5, k})
		}
		shapes = append(shapes, []struct{ m, n, k int }{
			{kern.mc + mr + 5, 2*nr + 3, 20}, // two blocks of mc
			{3, kern.nc + nr + 3, 24},        // two blocks of nc
			{2*kern.mc + 1, 150, 64},         // split over panels of A
			{40, 1500, 40},                   // split over strips of B
		}...)
		ways := []exactWay{waySerial, wayPacked, wayB16, wayStrided}
		for si, s := range shapes {
			for tr := 0; tr < 4; tr++ {
				x := exactCase{tA: tr&1 == 1, tB: tr&2 == 2, m: s.m, n: s.n, k: s.k,
					alpha: exactAlphas[(si+tr)%3], beta: exactBetas[(si+tr)%4]}
				e := newExact(x)
				for _, w := range []int{1, 2, 3} {
					old := parallel.Workers()
					parallel.SetWorkers(w)
					e.check(t, waySgemm, fmt.Sprintf(", %d workers", w), 0, -1, -1, 0)
					parallel.SetWorkers(old)
				}
				e.check(t, ways[(si+tr)%len(ways)], "", 0, -1, -1, 0)
			}
		}
	})
}
