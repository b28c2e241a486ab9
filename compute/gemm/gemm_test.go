package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute/allocstest"
	"github.com/rlt-workbench/rlt/compute/parallel"
)

// useKernel switches the active micro-kernel for the rest of the test (the
// purego-style hook): "generic" always exists, so every test can also run the
// portable fallback.
func useKernel(t testing.TB, name string) {
	t.Helper()
	for _, k := range kernels {
		if k.name == name {
			if !kernelSupported(name) {
				t.Skipf("kernel %s: CPU lacks the features", name)
			}
			old, oldPack := active, transPack16
			active = k
			if name != "avx512" {
				transPack16 = nil // exercise the Go packers too
			}
			t.Cleanup(func() { active, transPack16 = old, oldPack })
			return
		}
	}
	t.Skipf("kernel %s not in this build", name)
}

func allKernels() []string {
	var names []string
	for _, k := range kernels {
		names = append(names, k.name)
	}
	return names
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.Float64()*2 - 1)
	}
	return s
}

// refGemm is the naive float64 reference.
func refGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) []float64 {
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			v := float64(alpha) * s
			if beta != 0 {
				v += float64(beta) * float64(c[i*ldc+j])
			}
			out[i*n+j] = v
		}
	}
	return out
}

type gemmCase struct {
	tA, tB      bool
	m, n, k     int
	alpha, beta float32
	pad         int // extra stride on every operand
}

func (c gemmCase) String() string {
	t := func(b bool) string {
		if b {
			return "T"
		}
		return "N"
	}
	return fmt.Sprintf("%s%s_m%d_n%d_k%d_a%g_b%g_pad%d", t(c.tA), t(c.tB), c.m, c.n, c.k, c.alpha, c.beta, c.pad)
}

// prepared is one product's inputs and its float64 reference.
type prepared struct {
	c             gemmCase
	a, b, cm      []float32
	lda, ldb, ldc int
	want          []float64
}

func prepare(r *rand.Rand, c gemmCase) *prepared {
	ar, ac := c.m, c.k
	if c.tA {
		ar, ac = c.k, c.m
	}
	br, bc := c.k, c.n
	if c.tB {
		br, bc = c.n, c.k
	}
	p := &prepared{c: c, lda: ac + c.pad, ldb: bc + c.pad, ldc: c.n + c.pad}
	p.a = randSlice(r, need(ar, ac, p.lda))
	p.b = randSlice(r, need(br, bc, p.ldb))
	p.cm = randSlice(r, need(c.m, c.n, p.ldc)+c.pad)
	if c.beta == 0 {
		for i := range p.cm {
			if i%3 == 0 {
				p.cm[i] = float32(math.NaN()) // must be ignored
			}
		}
	}
	p.want = refGemm(c.tA, c.tB, c.m, c.n, c.k, c.alpha, p.a, p.lda, p.b, p.ldb, c.beta, p.cm, p.ldc)
	return p
}

type gemmFunc func(bool, bool, int, int, int, float32, []float32, int, []float32, int, float32, []float32, int)

// check runs fn on a copy of C and compares with the reference (it may be
// called from any goroutine: it reports with Errorf).
func (p *prepared) check(t *testing.T, fn gemmFunc) {
	t.Helper()
	c := p.c
	cm := append([]float32(nil), p.cm...)
	fn(c.tA, c.tB, c.m, c.n, c.k, c.alpha, p.a, p.lda, p.b, p.ldb, c.beta, cm, p.ldc)
	tol := 1e-5 * float64(c.k+4) * float64(max(1, abs32(c.alpha)))
	ldc := p.ldc
	for i := 0; i < c.m; i++ {
		for j := 0; j < c.n; j++ {
			got := float64(cm[i*ldc+j])
			w := p.want[i*c.n+j]
			if math.IsNaN(got) || math.Abs(got-w) > tol*(1+math.Abs(w)) {
				t.Errorf("%s %v: C[%d,%d] = %v, want %v", Kernel(), c, i, j, got, w)
				return
			}
		}
		// padding between rows is untouched
		for j := c.n; j < ldc && i*ldc+j < len(cm); j++ {
			if x, y := cm[i*ldc+j], p.cm[i*ldc+j]; x != y && !(x != x && y != y) {
				t.Errorf("%v: padding C[%d,%d] changed", c, i, j)
				return
			}
		}
	}
}

// runCase checks one product with fn (Sgemm or SgemmSerial) against the reference.
func runCase(t *testing.T, r *rand.Rand, c gemmCase, fn gemmFunc) {
	t.Helper()
	prepare(r, c).check(t, fn)
	if t.Failed() {
		t.FailNow()
	}
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

func smallShapes() []gemmCase {
	var cs []gemmCase
	dims := []int{1, 2, 3, 5, 7, 13, 14, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 70}
	i := 0
	for _, m := range dims {
		for _, n := range dims {
			for _, k := range []int{1, 3, 16, 37, 70} {
				i++
				// vary transposes, alpha/beta and padding over the grid
				cs = append(cs, gemmCase{
					tA: i%2 == 1, tB: (i/2)%2 == 1, m: m, n: n, k: k,
					alpha: []float32{1, -0.5, 2}[i%3], beta: []float32{0, 1, 0.25, -1}[(i/3)%4],
					pad: []int{0, 3}[(i/7)%2],
				})
			}
		}
	}
	return cs
}

func TestSgemmSmallShapesAllKernels(t *testing.T) {
	for _, kn := range allKernels() {
		t.Run(kn, func(t *testing.T) {
			useKernel(t, kn)
			r := rand.New(rand.NewPCG(1, 2))
			for _, c := range smallShapes() {
				runCase(t, r, c, SgemmSerial)
			}
		})
	}
}

// Every m, n in 1..70 with all four transpose combinations (k varies).
func TestSgemmEveryDim(t *testing.T) {
	for _, kn := range allKernels() {
		t.Run(kn, func(t *testing.T) {
			useKernel(t, kn)
			r := rand.New(rand.NewPCG(3, 4))
			for d := 1; d <= 70; d++ {
				for tr := 0; tr < 4; tr++ {
					runCase(t, r, gemmCase{tA: tr&1 == 1, tB: tr&2 == 2, m: d, n: 71 - d, k: 1 + (d*7)%70, alpha: 1, beta: 0.5}, SgemmSerial)
					runCase(t, r, gemmCase{tA: tr&1 == 1, tB: tr&2 == 2, m: 5 + d%11, n: d, k: d, alpha: -1, beta: 0}, SgemmSerial)
				}
			}
		})
	}
}

func TestSgemmBigShapes(t *testing.T) {
	cases := []gemmCase{
		{m: 300, n: 333, k: 600, alpha: 1, beta: 0},   // several kc passes, n edge
		{m: 517, n: 129, k: 257, alpha: 0.5, beta: 1}, // several mc blocks
		{m: 64, n: 4200, k: 40, alpha: 1, beta: 0},    // several nc blocks
		{m: 3, n: 1500, k: 300, alpha: 1, beta: 2},    // thin m: split over n
		{m: 200, n: 200, k: 1030, alpha: -1, beta: 0.5, pad: 5},
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, c := range cases {
		for tr := 0; tr < 4; tr++ {
			c.tA, c.tB = tr&1 == 1, tr&2 == 2
			p := prepare(r, c)
			for _, kn := range allKernels() {
				t.Run(fmt.Sprintf("%v/%s", c, kn), func(t *testing.T) {
					useKernel(t, kn)
					for _, w := range []int{1, 2, 3} {
						old := parallel.Workers()
						parallel.SetWorkers(w)
						p.check(t, Sgemm)
						parallel.SetWorkers(old)
					}
					p.check(t, SgemmSerial)
				})
			}
		}
	}
}

// Two goroutines multiplying at once (one owns the pool, the other runs
// serially) and Sgemm called from inside a pool job.
func TestSgemmConcurrentAndNested(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	p1 := prepare(r, gemmCase{m: 200, n: 300, k: 100, alpha: 1, beta: 0})
	p2 := prepare(r, gemmCase{tB: true, m: 150, n: 260, k: 90, alpha: 2, beta: 1})
	done := make(chan bool)
	for _, p := range []*prepared{p1, p2, p1, p2} {
		go func() {
			defer func() { done <- true }()
			for i := 0; i < 5; i++ {
				p.check(t, Sgemm)
			}
		}()
	}
	for i := 0; i < 4; i++ {
		<-done
	}
	nj := &nestedGemm{t: t, p: []*prepared{p1, p2, p1, p2}}
	parallel.For(len(nj.p), 1, nj)
}

type nestedGemm struct {
	t *testing.T
	p []*prepared
}

func (j *nestedGemm) Run(lo, hi int) {
	for i := lo; i < hi; i++ {
		j.p[i].check(j.t, Sgemm)
	}
}

func TestSgemmDegenerate(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, kn := range allKernels() {
		t.Run(kn, func(t *testing.T) {
			useKernel(t, kn)
			for _, c := range []gemmCase{
				{m: 5, n: 6, k: 0, alpha: 1, beta: 0.5},
				{m: 5, n: 6, k: 0, alpha: 1, beta: 0},
				{m: 5, n: 6, k: 4, alpha: 0, beta: 3},
				{m: 5, n: 6, k: 4, alpha: 0, beta: 0},
				{m: 0, n: 6, k: 4, alpha: 1, beta: 1},
				{m: 6, n: 0, k: 4, alpha: 1, beta: 1},
			} {
				runCase(t, r, c, Sgemm)
			}
		})
	}
}

func TestSgemmStrided(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, kn := range allKernels() {
		t.Run(kn, func(t *testing.T) {
			useKernel(t, kn)
			for _, sh := range []struct{ m, n, k, batch int }{{7, 9, 5, 6}, {64, 64, 32, 4}, {150, 170, 190, 3}, {1, 1, 1, 3}} {
				for tr := 0; tr < 4; tr++ {
					tA, tB := tr&1 == 1, tr&2 == 2
					m, n, k := sh.m, sh.n, sh.k
					lda, ldb, ldc := k, n, n+1
					if tA {
						lda = m
					}
					if tB {
						ldb = k
					}
					sA, sB, sC := m*k+3, k*n+1, m*ldc+2
					a := randSlice(r, sA*sh.batch)
					b := randSlice(r, sB*sh.batch)
					c := randSlice(r, sC*sh.batch)
					var want [][]float64
					for i := 0; i < sh.batch; i++ {
						want = append(want, refGemm(tA, tB, m, n, k, 1.5, a[i*sA:], lda, b[i*sB:], ldb, 0.5, c[i*sC:], ldc))
					}
					SgemmStrided(tA, tB, m, n, k, 1.5, a, lda, sA, b, ldb, sB, 0.5, c, ldc, sC, sh.batch)
					for i := 0; i < sh.batch; i++ {
						for x := 0; x < m; x++ {
							for y := 0; y < n; y++ {
								got, w := float64(c[i*sC+x*ldc+y]), want[i][x*n+y]
								if math.Abs(got-w) > 1e-4*(1+math.Abs(w)) {
									t.Fatalf("batch %d %v tA=%v tB=%v: C[%d,%d]=%v want %v", i, sh, tA, tB, x, y, got, w)
								}
							}
						}
					}
				}
			}
		})
	}
}

func TestSgemmPanicsOnShortSlices(t *testing.T) {
	a, b, c := make([]float32, 6), make([]float32, 12), make([]float32, 8)
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"A too short", func() { Sgemm(false, false, 2, 4, 4, 1, a, 4, b, 4, 0, c, 4) }},
		{"B too short", func() { Sgemm(false, false, 2, 4, 3, 1, a, 3, b[:11], 4, 0, c, 4) }},
		{"C too short", func() { Sgemm(false, false, 2, 4, 3, 1, a, 3, b, 4, 0, c[:7], 4) }},
		{"ldA", func() { Sgemm(false, false, 2, 4, 3, 1, a, 2, b, 4, 0, c, 4) }},
	} {
		func() {
			defer func() {
				r := recover()
				if r == nil {
					t.Fatalf("%s: no panic", tc.name)
				}
				if msg := fmt.Sprint(r); !strings.Contains(msg, tc.name) {
					t.Fatalf("%s: panic %q does not name the operand", tc.name, msg)
				}
			}()
			tc.f()
		}()
	}
}

func TestSgemmZeroAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, sh := range []struct{ m, n, k int }{{128, 128, 64}, {512, 1024, 256}} {
		a, b, c := randSlice(r, sh.m*sh.k), randSlice(r, sh.k*sh.n), make([]float32, sh.m*sh.n)
		f := func() { Sgemm(false, true, sh.m, sh.n, sh.k, 1, a, sh.k, b, sh.k, 0, c, sh.n) }
		f()
		if n := allocstest.Fewest(20, f); n != 0 { // the pool's parks: see allocstest
			t.Errorf("Sgemm %v allocates %v times per call", sh, n)
		}
	}
}

func TestKernelName(t *testing.T) {
	name := Kernel()
	if !kernelSupported(name) {
		t.Fatalf("Kernel()=%q is not supported here", name)
	}
	t.Logf("kernel in use: %s", name)
}

// The AVX-512 transposing packer with the 6-row AVX2 kernel (a 6-lane store
// mask) on CPUs that have both.
func TestAVX512PackingWithAVX2Kernel(t *testing.T) {
	if transPack16 == nil {
		t.Skip("no SIMD packer on this CPU")
	}
	pack := transPack16
	useKernel(t, "avx2")
	transPack16 = pack
	r := rand.New(rand.NewPCG(17, 18))
	for d := 1; d <= 70; d += 3 {
		for tr := 0; tr < 4; tr++ {
			runCase(t, r, gemmCase{tA: tr&1 == 1, tB: tr&2 == 2, m: d, n: 75 - d, k: 16 + d, alpha: 0.5, beta: 1}, SgemmSerial)
		}
	}
}

// Empty or unused operands of a batch need no backing.
func TestSgemmStridedDegenerate(t *testing.T) {
	c := []float32{1, 2, 3, 4}
	SgemmStrided(false, false, 1, 2, 0, 1, nil, 0, 5, nil, 2, 7, 2, c, 2, 2, 2)
	for i, want := range []float32{2, 4, 6, 8} {
		if c[i] != want {
			t.Fatalf("k=0: c=%v", c)
		}
	}
	SgemmStrided(false, false, 0, 2, 3, 1, nil, 3, 5, nil, 2, 7, 0, nil, 2, 4, 3)
	SgemmStrided(false, false, 2, 2, 2, 1, make([]float32, 4), 2, 4, make([]float32, 4), 2, 4, 0, c, 2, 4, 0)
}
