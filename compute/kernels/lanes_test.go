package kernels

import (
	"fmt"
	"math"
	"testing"
)

// The kernels' every place, proven one at a time. The AVX-512 rowMax once
// lost a row's maximum when it sat in lanes its tail overwrote (88e3351),
// and random rows compared with the Go loops never showed it: a bug of a
// lane or a tail changes a random row's result by what rounding could, or
// not at all. The tests here run every kernel that reduces, or has a tail
// or a lane-dependent path, on every length to maxLanesLen (past several
// vectors of 8, 16, 32 and 64 floats, so every tail size of each) with one
// distinguished value at every place, on every path this machine has (the
// portable Go loops and, where the CPU has it, the AVX-512 assembly), and
// compare with a plain loop. Values are small integers or binary fractions
// whose sums are exact in float32, so a result must be equal, not close:
// a dropped, doubled or misplaced element changes it by a whole term.
const maxLanesLen = 200

// kernelPath is one implementation of the kernels.
type kernelPath struct {
	name string
	asm  bool
}

// kernelPaths lists the paths this machine runs: the Go loops always, the
// AVX-512 assembly where detected (there is no AVX2 or other level).
// useAVX512 starts as the detection on amd64 and false elsewhere (and
// with -tags purego), where detectAVX512 does not exist.
func kernelPaths() []kernelPath {
	paths := []kernelPath{{"go", false}}
	if useAVX512 {
		paths = append(paths, kernelPath{"avx512", true})
	}
	return paths
}

// onEveryPath runs f as a subtest on each of kernelPaths.
func onEveryPath(t *testing.T, f func(t *testing.T)) {
	for _, p := range kernelPaths() {
		t.Run(p.name, func(t *testing.T) {
			saved := useAVX512
			useAVX512 = p.asm
			defer func() { useAVX512 = saved }()
			f(t)
		})
	}
}

// small returns a place-dependent value in 1..m: neighbouring lanes within
// m of each other hold different values, so an element paired with a
// neighbour's partner changes a product.
func small(i, m int) float32 { return float32(1 + i%m) }

// guard is written past the end of every output and must stay.
const guard = float32(-12345.5)

// withGuard returns n elements of f(i) followed by 17 guards (a whole vector
// of 16 past the end, and one).
func withGuard(n int, f func(i int) float32) []float32 {
	x := make([]float32, n+17)
	for i := range x {
		if i < n {
			x[i] = f(i)
		} else {
			x[i] = guard
		}
	}
	return x
}

// guardsKept reports the first guard past n that was overwritten, or -1.
func guardsKept(x []float32, n int) int {
	for i := n; i < len(x); i++ {
		if x[i] != guard {
			return i
		}
	}
	return -1
}

// TestSumSquaresCountsEveryPlace: sumSq64 (RMSNorm's mean square, the
// gradients' norms) counts every element once, wherever it is.
func TestSumSquaresCountsEveryPlace(t *testing.T) {
	onEveryPath(t, func(t *testing.T) {
		for n := 1; n <= maxLanesLen; n++ {
			x := make([]float32, n)
			for p := 0; p < n; p++ {
				for i := range x {
					x[i] = small(i, 17) / 4
				}
				x[p] = 1000
				var want float64
				for _, v := range x {
					want += float64(v) * float64(v)
				}
				if got := sumSq64(x); got != want {
					t.Fatalf("n=%d, 1000 at %d: Σx² = %v, want %v", n, p, got, want)
				}
			}
		}
	})
}

// TestDot3CountsEveryPlace: dot3 (RMSNorm's backward Σ dy·w·x) pairs every
// element with its own partners: a distinguished value in each of its three
// operands at every place.
func TestDot3CountsEveryPlace(t *testing.T) {
	onEveryPath(t, func(t *testing.T) {
		for n := 1; n <= maxLanesLen; n++ {
			for p := 0; p < n; p++ {
				for which := 0; which < 3; which++ {
					a := withGuard(n, func(i int) float32 { return small(i, 17) })
					b := withGuard(n, func(i int) float32 { return small(i, 5) })
					c := withGuard(n, func(i int) float32 { return small(i, 3) - 2 })
					[][]float32{a, b, c}[which][p] = 64
					var want float32
					for i := 0; i < n; i++ {
						want += a[i] * b[i] * c[i]
					}
					if got := dot3(a[:n], b[:n], c[:n]); got != want {
						t.Fatalf("n=%d, 64 at %d of operand %d: Σabc = %v, want %v", n, p, which, got, want)
					}
				}
			}
		}
	})
}

// TestRowMaxEveryPathEveryPlace is TestRowMaxFindsTheMaximumAnywhere on
// both paths (the Go loop keeps four maxima and a tail too) and on rows
// below zero, where a maximum started from 0 rather than −Inf would win.
func TestRowMaxEveryPathEveryPlace(t *testing.T) {
	onEveryPath(t, func(t *testing.T) {
		for n := 1; n <= maxLanesLen; n++ {
			for p := 0; p < n; p++ {
				for _, c := range []struct{ rest, top float32 }{
					{0, 100},
					{-1000, -3},
					{float32(math.Inf(-1)), -1e30},
				} {
					row := withGuard(n, func(i int) float32 { return c.rest - small(i, 7) })
					row[p] = c.top
					if got := rowMax(row[:n]); got != c.top {
						t.Fatalf("n=%d, the maximum %v at %d of a row of %v…: rowMax %v", n, c.top, p, c.rest, got)
					}
				}
			}
		}
	})
}

// expCase is one affine map of the exponential kernels: exp(a·x + c).
type expCase struct{ a, c float64 }

// expCases: the plain exponential, where an unmasked padding lane (x = 0)
// would add exp(0) = 1, and one with a scale and a shift.
var expCases = []expCase{{1, 0}, {0.5, -1}}

// TestExpSumsCountEveryPlace: the exponential's sum (softmax, log-sum-exp)
// counts every element once whatever the store (none, float32, float64), and
// each stored value and expAffineAcc's sum land at their own place and
// nowhere past the row. The background's exps are 1 (or e^−1) and the
// distinguished one e^10 (e^4): a lost element changes the sum by far more
// than its rounding (1e-13 relative here).
func TestExpSumsCountEveryPlace(t *testing.T) {
	onEveryPath(t, func(t *testing.T) {
		for _, ec := range expCases {
			for n := 1; n <= maxLanesLen; n++ {
				for p := 0; p < n; p++ {
					x := withGuard(n, func(i int) float32 { return 0 })
					x[p] = 10
					want := make([]float64, n)
					var sum float64
					for i := range want {
						want[i] = exp64f(float64(float64(x[i])*ec.a) + ec.c)
						sum += want[i]
					}
					at := fmt.Sprintf("a=%v c=%v n=%d, 10 at %d", ec.a, ec.c, n, p)
					if got := expAffine(nil, x[:n], ec.a, ec.c); math.Abs(got-sum) > 1e-13*sum {
						t.Fatalf("%s: Σexp (no store) = %v, want %v", at, got, sum)
					}
					d32 := withGuard(n, func(int) float32 { return 0 })
					if got := expAffine(d32[:n], x[:n], ec.a, ec.c); math.Abs(got-sum) > 1e-13*sum {
						t.Fatalf("%s: Σexp (float32 store) = %v, want %v", at, got, sum)
					}
					d64 := make([]float64, n+17)
					for i := n; i < len(d64); i++ {
						d64[i] = float64(guard)
					}
					if got := expAffine64(d64[:n], x[:n], ec.a, ec.c); math.Abs(got-sum) > 1e-13*sum {
						t.Fatalf("%s: Σexp (float64 store) = %v, want %v", at, got, sum)
					}
					acc := withGuard(n, func(i int) float32 { return small(i, 5) })
					expAffineAcc(acc[:n], x[:n], ec.a, ec.c, -0.5)
					for i := range want {
						if d32[i] != float32(want[i]) || d64[i] != want[i] {
							t.Fatalf("%s: exp stored at %d %v (float32), %v (float64), want %v", at, i, d32[i], d64[i], want[i])
						}
						if w := small(i, 5) + float32(-0.5*want[i]); acc[i] != w {
							t.Fatalf("%s: expAffineAcc at %d %v, want %v", at, i, acc[i], w)
						}
					}
					for i := n; i < len(d64); i++ {
						if d64[i] != float64(guard) {
							t.Fatalf("%s: the float64 store wrote past the row, at %d", at, i)
						}
					}
					if g := max(guardsKept(d32, n), guardsKept(acc, n)); g >= 0 {
						t.Fatalf("%s: a float32 store wrote past the row, at %d", at, g)
					}
				}
			}
		}
	})
}

// TestExpDotCountsEveryPlace: expDot (entropy, KL, the fused head's means)
// weighs every y1 and y2 by its own exp: a distinguished exp at every place,
// then at every place an exp that underflows (x = −Inf) beside a y of +Inf
// and NaN, which must add nothing.
func TestExpDotCountsEveryPlace(t *testing.T) {
	onEveryPath(t, func(t *testing.T) {
		for _, ec := range expCases {
			for n := 1; n <= maxLanesLen; n++ {
				for p := 0; p < n; p++ {
					for _, under := range []bool{false, true} {
						x := withGuard(n, func(int) float32 { return 0 })
						y1 := withGuard(n, func(i int) float32 { return small(i, 17) })
						y2 := withGuard(n, func(i int) float32 { return -small(i, 13) })
						if under {
							x[p] = float32(math.Inf(-1))
							y1[p], y2[p] = float32(math.Inf(1)), float32(math.NaN())
						} else {
							x[p] = 10
						}
						var w0, w1, w2 float64
						for i := 0; i < n; i++ {
							e := exp64f(float64(float64(x[i])*ec.a) + ec.c)
							if e == 0 {
								continue
							}
							w0 += e
							w1 += e * float64(y1[i])
							w2 += e * float64(y2[i])
						}
						s0, s1, s2 := expDot(x[:n], y1[:n], y2[:n], ec.a, ec.c)
						for k, gw := range [][2]float64{{s0, w0}, {s1, w1}, {s2, w2}} {
							if !(math.Abs(gw[0]-gw[1]) <= 1e-13*w0*20) {
								t.Fatalf("a=%v c=%v n=%d, x[%d] = %v: s%d = %v, want %v", ec.a, ec.c, n, p, x[p], k, gw[0], gw[1])
							}
						}
					}
				}
			}
		}
	})
}

// at is element (i, j) of op(X) for X row-major with leading dimension ld.
func at(x []float32, ld int, trans bool, i, j int) float32 {
	if trans {
		return x[j*ld+i]
	}
	return x[i*ld+j]
}

// TestSgemmCountsEveryPlace: the small matrix products of attention count
// every term wherever it is. A·Bᵀ (scores, dP: the AVX-512 4×4 and 1×4
// dot blocks, reducing over k in vectors of 16) for every k to maxLanesLen
// with a distinguished element at every place of A's and of B's rows; A·B
// and Aᵀ·B (P·V, dQ, dK, dV: 4 rows × 64 columns, 16 to a vector) for every
// n to maxLanesLen with a distinguished element at every column of B, and
// (for some n) at every place of A. Shapes leave tails of rows and columns in the blocks
// of 4; C's padding columns must stay.
func TestSgemmCountsEveryPlace(t *testing.T) {
	const spike, alpha = 64, 0.5
	// gemm runs op(A)·op(B) of m×k by k×n with A(i, p) = av(i, p) and B(p, j)
	// = bv(p, j), and compares every element of C with the exact sum.
	gemm := func(t *testing.T, transA, transB bool, m, n, k int, av, bv func(i, j int) float32, what string) {
		lda, ldb, ldc := k+1, n+3, n+17
		if transA {
			lda = m + 2
		}
		if transB {
			ldb = k + 5
		}
		rowsA, rowsB := m, k
		if transA {
			rowsA = k
		}
		if transB {
			rowsB = n
		}
		a := make([]float32, rowsA*lda)
		b := make([]float32, rowsB*ldb)
		for i := 0; i < m; i++ {
			for p := 0; p < k; p++ {
				if transA {
					a[p*lda+i] = av(i, p)
				} else {
					a[i*lda+p] = av(i, p)
				}
			}
		}
		for p := 0; p < k; p++ {
			for j := 0; j < n; j++ {
				if transB {
					b[j*ldb+p] = bv(p, j)
				} else {
					b[p*ldb+j] = bv(p, j)
				}
			}
		}
		c := make([]float32, m*ldc)
		for i := range c {
			c[i] = guard
			if i%ldc < n {
				c[i] = small(i, 3)
			}
		}
		want := clone(c)
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var s float32
				for p := 0; p < k; p++ {
					s += at(a, lda, transA, i, p) * at(b, ldb, transB, p, j)
				}
				want[i*ldc+j] = alpha*s + want[i*ldc+j]
			}
		}
		sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, 1, c, ldc)
		for i := range c {
			if c[i] != want[i] {
				t.Fatalf("%s, m=%d n=%d k=%d transA=%v transB=%v: C[%d, %d] = %v, want %v", what, m, n, k, transA, transB, i/ldc, i%ldc, c[i], want[i])
			}
		}
	}
	onEveryPath(t, func(t *testing.T) {
		// A·Bᵀ: the reduction over k
		for _, mn := range [][2]int{{1, 5}, {5, 6}} {
			m, n := mn[0], mn[1]
			for k := 1; k <= maxLanesLen; k++ {
				for p := 0; p < k; p++ {
					gemm(t, false, true, m, n, k, func(i, q int) float32 {
						if i == p%m && q == p {
							return spike
						}
						return small(q+i, 17)
					}, func(q, j int) float32 { return small(q+3*j, 5) }, fmt.Sprintf("%v in A at (%d, %d)", spike, p%m, p))
					gemm(t, false, true, m, n, k, func(i, q int) float32 { return small(q+i, 17) }, func(q, j int) float32 {
						if j == p%n && q == p {
							return spike
						}
						return small(q+3*j, 5)
					}, fmt.Sprintf("%v in B at (%d, %d)", spike, p, p%n))
				}
			}
		}
		// A·B and Aᵀ·B: the columns
		for _, transA := range []bool{false, true} {
			for _, mk := range [][2]int{{1, 3}, {5, 6}} {
				m, k := mk[0], mk[1]
				for n := 1; n <= maxLanesLen; n++ {
					for q := 0; q < n; q++ {
						gemm(t, transA, false, m, n, k, func(i, p int) float32 { return small(p+i, 5) }, func(p, j int) float32 {
							if j == q && p == q%k {
								return spike
							}
							return small(p+j, 17)
						}, fmt.Sprintf("%v in B at (%d, %d)", spike, q%k, q))
					}
					if n > 20 && n%64 > 1 && n != maxLanesLen {
						continue // A's places meet the columns alike: some widths suffice
					}
					for i := 0; i < m; i++ {
						for p := 0; p < k; p++ {
							gemm(t, transA, false, m, n, k, func(ii, pp int) float32 {
								if ii == i && pp == p {
									return spike
								}
								return small(pp+ii, 5)
							}, func(p, j int) float32 { return small(p+j, 17) }, fmt.Sprintf("%v in A at (%d, %d)", spike, i, p))
						}
					}
				}
			}
		}
	})
}

// TestArgmaxCountsEveryPlace: ArgmaxRows finds the largest logit at every
// place, the first of equal ones, and never a NaN.
func TestArgmaxCountsEveryPlace(t *testing.T) {
	for n := 1; n <= maxLanesLen; n++ {
		for p := 0; p < n; p++ {
			z := withGuard(n, func(i int) float32 { return -small(i, 7) })
			z[p] = 3
			if p+1 < n {
				z[p+1] = 3 // a tie: the first wins
			}
			if p > 0 {
				z[p-1] = float32(math.NaN())
			}
			out := []int32{-1}
			ArgmaxRows(out, z, n, 0, 1)
			if out[0] != int32(p) {
				t.Fatalf("n=%d, 3 at %d (NaN before it, 3 again after): argmax %d", n, p, out[0])
			}
		}
	}
}

// TestFirstNonFiniteEveryLengthEveryPlace: FirstNonFinite's word scan (two
// floats or four 16-bit values to a word, then the odd tail) finds a NaN or
// ±Inf at every place of every length to maxLanesLen, and the first of two.
func TestFirstNonFiniteEveryLengthEveryPlace(t *testing.T) {
	for n := 1; n <= maxLanesLen; n++ {
		for p := 0; p < n; p++ {
			for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
				x := withGuard(n, func(i int) float32 { return math.MaxFloat32 / small(i, 3) })
				x[p] = bad
				if p+3 < n {
					x[p+3] = bad
				}
				if got := FirstNonFinite(x[:n]); got != p {
					t.Fatalf("n=%d, %v at %d: FirstNonFinite %d", n, bad, p, got)
				}
				for _, f16 := range []bool{false, true} {
					bits := make([]uint16, n+5)
					top, inf := uint16(0x7f7f), uint16(0x7f80) // bfloat16
					if f16 {
						top, inf = 0x7bff, 0x7c00
					}
					for i := range bits {
						bits[i] = top ^ uint16(i%3)
					}
					bits[p] = inf
					if bad != bad {
						bits[p] = inf | 1
					}
					if bad < 0 {
						bits[p] |= 0x8000
					}
					if got := FirstNonFinite16(bits[:n], f16); got != p {
						t.Fatalf("f16=%v n=%d, %#04x at %d: FirstNonFinite16 %d", f16, n, bits[p], p, got)
					}
				}
			}
		}
	}
}

// TestElementwiseSIMDEveryLength: the AVX-512 elementwise kernels (SwiGLU,
// AdamW, RMSNorm's scaling passes, RoPE) equal the Go loops bit for bit at
// every place of every length to maxLanesLen (RoPE: every half-width to
// maxLanesLen/2, over 3 heads), and write nothing past their range.
// Inputs differ at every place, so an element taken from a neighbour's
// lane, or lost in a tail, shows.
func TestElementwiseSIMDEveryLength(t *testing.T) {
	if !useAVX512 {
		t.Skip("no AVX-512 on this machine: the Go loops are the only path")
	}
	// both runs f on fresh copies of ins (outputs among them, guarded past n)
	// on each path and compares every slice.
	both := func(t *testing.T, what string, n int, ins [][]float32, f func(x [][]float32)) {
		var got [2][][]float32
		for k, asm := range []bool{false, true} {
			x := make([][]float32, len(ins))
			for i := range ins {
				x[i] = clone(ins[i])
			}
			saved := useAVX512
			useAVX512 = asm
			f(x)
			useAVX512 = saved
			got[k] = x
		}
		for i := range ins {
			if !sameBits(got[0][i], got[1][i]) {
				for j := range got[0][i] {
					if math.Float32bits(got[0][i][j]) != math.Float32bits(got[1][i][j]) {
						t.Fatalf("%s n=%d: slice %d differs at %d: Go %v, AVX-512 %v", what, n, i, j, got[0][i][j], got[1][i][j])
					}
				}
			}
		}
	}
	r := newRNG(60)
	vec := func(n int, scale float64) []float32 {
		v := randVec(r, n, scale)
		return withGuard(n, func(i int) float32 { return v[i] })
	}
	for n := 1; n <= maxLanesLen; n++ {
		g, u, dh := vec(n, 4), vec(n, 1), vec(n, 1)
		both(t, "swigluFwd", n, [][]float32{vec(n, 1), g, u}, func(x [][]float32) { swigluFwd(x[0][:n], x[1][:n], x[2][:n]) })
		both(t, "swigluBwd", n, [][]float32{vec(n, 1), vec(n, 1), dh, g, u}, func(x [][]float32) {
			swigluBwd(x[0][:n], x[1][:n], x[2][:n], x[3][:n], x[4][:n])
		})
		v := vec(n, 0.1)
		for i := range n {
			v[i] *= v[i]
		}
		k := [8]float32{0.9, 0.1, 0.95, 0.05, 0.3, 1e-8, 0.9999, -0.002}
		both(t, "adamw", n, [][]float32{vec(n, 1), g, vec(n, 0.1), v}, func(x [][]float32) { adamwVec(x[0][:n], x[1][:n], x[2][:n], x[3][:n], &k) })
		both(t, "rmsScale", n, [][]float32{vec(n, 1), g, u}, func(x [][]float32) { rmsScale(x[0][:n], x[1][:n], x[2][:n], 0.7) })
		both(t, "rmsBwd", n, [][]float32{vec(n, 1), vec(n, 1), dh, g, u}, func(x [][]float32) {
			rmsBwd(x[0][:n], x[1][:n], x[2][:n], x[3][:n], x[4][:n], 0.7, 0.01)
		})
		if n <= maxLanesLen/2 {
			const heads = 3
			w := heads * 2 * n
			cs, sn := vec(n, 1), vec(n, 1)
			both(t, "ropeRow", n, [][]float32{vec(w, 1), vec(w, 1), cs, sn}, func(x [][]float32) { ropeRow(x[0][:w], x[1][:w], x[2][:n], x[3][:n], heads) })
			both(t, "ropeRowBwd", n, [][]float32{vec(w, 1), vec(w, 1), cs, sn}, func(x [][]float32) { ropeRowBwd(x[0][:w], x[1][:w], x[2][:n], x[3][:n], heads) })
		}
	}
}

// TestAttentionFindsTheKeyAnywhere: attention's online softmax (tiles of
// attnTile queries meeting keys attnKeyBlock at a time, rescaled when a
// later block holds a larger score) finds the largest score at every key
// of sequences past two key blocks, on both paths. Sequence b's key b
// scores 120 against every query (past float32's exp range, so a maximum
// missed overflows), the others about 1: every query from b on attends to
// it alone. Output and log-sum-exp must match the float64 reference.
func TestAttentionFindsTheKeyAnywhere(t *testing.T) {
	const T, hd, gap = 2*attnKeyBlock + 4, 8, 120
	B := T // sequence b's key b
	onEveryPath(t, func(t *testing.T) {
		r := newRNG(70)
		n := B * T * hd
		q, k, v := randVec(r, n, 0.5), randVec(r, n, 0.5), randVec(r, n, 1)
		for i := 0; i < n; i += hd {
			q[i] = 1
		}
		for b := 0; b < B; b++ {
			at := (b*T + b) * hd
			k[at] = float32(gap * math.Sqrt(hd))
			for e := 1; e < hd; e++ {
				k[at+e] = 0
			}
		}
		out, lse := make([]float32, n), make([]float32, B*T)
		AttentionForward(out, lse, q, k, v, B, T, 1, 1, hd, nil, make([]float32, AttentionScratch(T)), 0, B)
		q64, k64 := to64(q), to64(k)
		checkClose(t, "output", out, refAttention(q64, k64, to64(v), B, T, 1, 1, hd, nil), fwdTol)
		checkClose(t, "lse", lse, refAttentionLSE(q64, k64, B, T, 1, 1, hd, nil), fwdTol)
	})
}
