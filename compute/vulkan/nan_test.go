package vulkan

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
)

// A NaN or an infinity in a row must stay visible on the device wherever
// it is: the engine stops a run on a non-finite gradient (compute's
// ClipGradNorm, through SumSquaresEach) and a sampler on a row it cannot
// draw from, so a kernel that lost one would let a broken run go on.
// GLSL's max() may return either operand when one is a NaN, so the row
// maxima of log-softmax (logprobs), entropy and KL (dist), argmax, the
// draw and attention may drop it where the CPU backend (the conformance
// suite's reference) keeps it (its Go loop; its AVX-512 one may drop it
// too). The tests here put the non-finite value at every place of rows of
// many lengths and compare with the CPU backend: an output must be finite
// on the device exactly where it is on the CPU (which NaN or infinity it
// is may differ: the CPU's own two paths differ there).

// nonFiniteRow is one way of spoiling a row: fill it, place p spoiled.
type nonFiniteRow struct {
	name string
	fill func(rng *rand.Rand, row []float32, p int)
}

var (
	nan32  = float32(math.NaN())
	inf32  = float32(math.Inf(1))
	ninf32 = float32(math.Inf(-1))
)

func normalRow(rng *rand.Rand, row []float32) {
	for i := range row {
		row[i] = float32(rng.NormFloat64())
	}
}

var nonFiniteRows = []nonFiniteRow{
	{"NaN", func(rng *rand.Rand, row []float32, p int) {
		normalRow(rng, row)
		row[p] = nan32
	}},
	{"NaN after +Inf", func(rng *rand.Rand, row []float32, p int) {
		normalRow(rng, row)
		row[(p+len(row)-1)%len(row)] = inf32
		row[p] = nan32
	}},
	{"NaN among -Inf", func(rng *rand.Rand, row []float32, p int) {
		for i := range row {
			row[i] = ninf32
		}
		row[p] = nan32
	}},
	{"+Inf", func(rng *rand.Rand, row []float32, p int) {
		normalRow(rng, row)
		row[p] = inf32
	}},
	{"all -Inf", func(rng *rand.Rand, row []float32, p int) {
		for i := range row {
			row[i] = ninf32
		}
	}},
}

// finite32 is whether v is neither NaN nor infinite.
func finite32(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }

// pair is one tensor on both backends.
type pair struct {
	c *compute.Tensor
	g *Tensor
}

func newPair(t *testing.T, d *Device, cpu *compute.CPU, name string, vals []float32, dims ...int) pair {
	t.Helper()
	g, err := d.New(name, dims...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Free(g) })
	c := cpu.New(name, dims...)
	if vals != nil {
		cpu.Write(c, vals)
		if err := d.Write(g, vals); err != nil {
			t.Fatal(err)
		}
	} else {
		cpu.Zero(c)
		if err := d.Write(g, make([]float32, prod(dims))); err != nil {
			t.Fatal(err)
		}
	}
	return pair{c, g}
}

// read returns the values of both sides.
func (p pair) read(t *testing.T, d *Device, cpu *compute.CPU, n int) (want, got []float32) {
	t.Helper()
	want, got = make([]float32, n), make([]float32, n)
	cpu.Read(want, p.c)
	if err := d.Read(got, p.g); err != nil {
		t.Fatal(err)
	}
	return want, got
}

// TestRowKernelsKeepNonFiniteValues: log-probabilities and their
// log-sum-exps (at inverse temperatures 1 and −0.7, where the maximum is
// the minimum), their gradient, entropy, KL (the value in P, then in Q),
// argmax and the greedy and sampled draws, on rows of every length to 40,
// around the workgroup's 256 and to 1000, with a NaN, a NaN beside +Inf, a
// NaN among −Inf or a +Inf at every place (of longer rows, the places
// spikePlaces tries), and rows of only −Inf: every output is finite on the
// device where and only where it is on the CPU, argmax names the CPU's
// index, and no draw is made from such a row.
func TestRowKernelsKeepNonFiniteValues(t *testing.T) {
	d := openOrSkip(t)
	cpu := compute.NewCPU()
	rng := rand.New(rand.NewSource(27))
	var lengths []int
	for v := 1; v <= 40; v++ {
		lengths = append(lengths, v)
	}
	lengths = append(lengths, 255, 256, 257, 300, 513, 1000)
	for _, kind := range nonFiniteRows {
		for _, v := range lengths {
			t.Run(fmt.Sprintf("%s/V=%d", kind.name, v), func(t *testing.T) {
				places := spikePlaces(v)
				rows := len(places)
				z, fine := make([]float32, rows*v), make([]float32, rows*v)
				normalRow(rng, fine)
				targets := make([]int32, rows)
				for r, p := range places {
					kind.fill(rng, z[r*v:(r+1)*v], p)
					targets[r] = int32([]int{p, 0, v - 1}[r%3]) // the spoiled place in some rows
				}
				zt := newPair(t, d, cpu, "z", z, rows, v)
				ft := newPair(t, d, cpu, "fine", fine, rows, v)
				ones := make([]float32, rows)
				for i := range ones {
					ones[i] = 1
				}
				glp := newPair(t, d, cpu, "glp", ones, rows)
				outs := map[string]pair{}
				for _, name := range []string{"lp", "lse", "lpNeg", "lseNeg", "ent", "klP", "klQ"} {
					outs[name] = newPair(t, d, cpu, name, nil, rows)
				}
				dz := newPair(t, d, cpu, "dz", nil, rows, v)
				cpu.TokenLogProbs(outs["lp"].c, outs["lse"].c, zt.c, targets, 1)
				d.TokenLogProbs(outs["lp"].g, outs["lse"].g, zt.g, targets, 1)
				cpu.TokenLogProbs(outs["lpNeg"].c, outs["lseNeg"].c, zt.c, targets, -0.7)
				d.TokenLogProbs(outs["lpNeg"].g, outs["lseNeg"].g, zt.g, targets, -0.7)
				cpu.TokenLogProbsBackward(dz.c, glp.c, zt.c, outs["lse"].c, targets, 1)
				d.TokenLogProbsBackward(dz.g, glp.g, zt.g, outs["lse"].g, targets, 1)
				cpu.Entropy(outs["ent"].c, zt.c, 1)
				d.Entropy(outs["ent"].g, zt.g, 1)
				cpu.KL(outs["klP"].c, zt.c, ft.c, 1)
				d.KL(outs["klP"].g, zt.g, ft.g, 1)
				cpu.KL(outs["klQ"].c, ft.c, zt.c, 1)
				d.KL(outs["klQ"].g, ft.g, zt.g, 1)
				for _, name := range []string{"lp", "lse", "lpNeg", "lseNeg", "ent", "klP", "klQ"} {
					want, got := outs[name].read(t, d, cpu, rows)
					for r := range rows {
						if finite32(got[r]) != finite32(want[r]) {
							t.Fatalf("%s at %d (target %d): %s is %g on the device, %g on the CPU",
								kind.name, places[r], targets[r], name, got[r], want[r])
						}
					}
				}
				want, got := dz.read(t, d, cpu, rows*v)
				for r := range rows {
					wf, gf := -1, -1
					for j := range v {
						if wf < 0 && !finite32(want[r*v+j]) {
							wf = j
						}
						if gf < 0 && !finite32(got[r*v+j]) {
							gf = j
						}
					}
					if (wf < 0) != (gf < 0) {
						t.Fatalf("%s at %d (target %d): the gradient's first non-finite value is at %d on the device, %d on the CPU (-1: none)",
							kind.name, places[r], targets[r], gf, wf)
					}
				}
				wantIDs, gotIDs := make([]int32, rows), make([]int32, rows)
				cpu.Argmax(wantIDs, zt.c)
				if err := d.Argmax(gotIDs, zt.g); err != nil {
					t.Fatal(err)
				}
				for r := range rows {
					if gotIDs[r] != wantIDs[r] {
						t.Fatalf("%s at %d: argmax %d on the device, %d on the CPU", kind.name, places[r], gotIDs[r], wantIDs[r])
					}
				}
				u := make([]float32, rows)
				for i := range u {
					u[i] = 0.5
				}
				for _, greedy := range []bool{true, false} {
					ids, logps := make([]int32, rows), make([]float32, rows)
					if err := d.DrawTokens(ids, logps, zt.g, u, 1, v, greedy); err != nil {
						t.Fatal(err)
					}
					for r := range rows {
						if ids[r] != -1 {
							t.Fatalf("%s at %d: the draw (greedy %v) took %d (log-probability %g) from a row it cannot draw from", kind.name, places[r], greedy, ids[r], logps[r])
						}
					}
				}
			})
		}
	}
}

// TestAttentionKeepsNonFiniteValues: a NaN in a query, a key or a value
// vector of sequences of 300, at each of the first 40 positions and those
// around every tile edge (one sequence a position; at head dim 72 those
// before 128 in sequences of 160, earlyT), on every attention
// path the device runs, at head dims 8 (attn_fa32, attn_cm: tiles of 32)
// and 72 (attn_fa16, attn_cm128: edges of 16 tried too): each query row's
// output and log-sum-exp are finite on the device exactly where they are
// on the CPU. Then the backward, on sequences of 100 (a NaN in the
// output's gradient too): so are dq, dk and dv. A masked position
// influences nothing (compute.Backend's Attention): the products of a
// tile's masked probabilities (zeros) with its values, and the backward's
// with queries, keys and output gradients, once carried a NaN (0·NaN) to
// queries before it on the CPU and in attn_fa, attn_fa_dq and attn_fa_dkv
// (not in the row kernels, which stop at the query's position), each of
// them by its own tile, so they disagreed; attn_cm, attn_cm_dq and
// attn_cm_dkv (cooperative matrices, whole-tile products on tensor cores)
// did so until they took a diagonal block holding a NaN or an infinity in
// scalar code, and their backward's dS scale, the largest |dS| of a
// subgroup's rows, lost the rows before a NaN one (max(r, NaN)), so
// float16 overflowed to +Inf in dq of queries that see no NaN. attn_fa
// once weighed a NaN score 0, as it does a masked one (−Inf: its test was
// s > −Inf), and wrote 0 for the log-sum-exp of a row whose sum was NaN
// (l > 0), so a key's NaN vanished from every query's output and
// log-sum-exp where max() dropped it; attn_cm (cooperative matrices) kept
// the l > 0 test after attn_fa lost it, so a NaN in a query or a key left
// that row's log-sum-exp 0.
func TestAttentionKeepsNonFiniteValues(t *testing.T) {
	d := openOrSkip(t)
	cpu := compute.NewCPU()
	rng := rand.New(rand.NewSource(27))
	for _, c := range []struct {
		T        int
		backward bool
	}{{300, false}, {100, true}} {
		for _, hd := range []int{8, 72} {
			tile := 32
			if hd > 64 {
				tile = 16
			}
			var places, early []int
			for i := range c.T {
				if i < 40 || i%32 == 31 || i%32 == 0 || i%32 == 1 || i%tile == tile-1 || i%tile == 0 || i >= c.T-3 {
					if c.T > earlyT && hd > 64 && i < earlyPlaces {
						early = append(early, i)
					} else {
						places = append(places, i)
					}
				}
			}
			if len(early) > 0 {
				attentionKeepsNonFinite(t, d, cpu, rng, earlyT, hd, early, c.backward)
			}
			attentionKeepsNonFinite(t, d, cpu, rng, c.T, hd, places, c.backward)
		}
	}
}

// TestAttentionKeepsNonFiniteValues puts a NaN placed before earlyPlaces
// at head dim 72 in a sequence of earlyT, not of 300: every query tile of
// 16 and of 128 after it is still there (the one of 128 from 128 on, so
// attn_cm128 takes the NaN's tile off the diagonal), at a little over a
// quarter of those sequences' cost (B·T²·hd: the forward at head dim 72
// was most of the test's 384 s, the slowest of compute/vulkan's at load
// ~25). Head dim 8 keeps them at 300: there the row kernel (attn, 256
// invocations striding a row) holds a NaN before 44 in the same
// invocation as a key 256 later only in rows past 256.
const (
	earlyT      = 160
	earlyPlaces = 128
)

// attentionKeepsNonFinite is TestAttentionKeepsNonFiniteValues at one head
// dim: one sequence of T for each place a NaN goes, in q, k or v, and with
// backward in the output's gradient dout too.
func attentionKeepsNonFinite(t *testing.T, d *Device, cpu *compute.CPU, rng *rand.Rand, T, hd int, places []int, backward bool) {
	a := compute.AttnDims{B: len(places), T: T, H: 1, KV: 1, HeadDim: hd}
	n := a.B * a.T * hd
	whiches, outs := []string{"q", "k", "v"}, []string{"out", "lse"}
	if backward {
		whiches, outs = append(whiches, "dout"), append(outs, "dq", "dk", "dv")
	}
	for _, which := range whiches {
		in := map[string][]float32{"q": make([]float32, n), "k": make([]float32, n), "v": make([]float32, n), "dout": make([]float32, n)}
		for _, x := range in {
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
		}
		for b, j := range places {
			in[which][(b*T+j)*hd+b%hd] = nan32
		}
		dout := in["dout"]
		if !backward {
			dout = nil
		}
		want := cpuAttention(cpu, a, in["q"], in["k"], in["v"], dout)
		for _, w := range attnWays(d) {
			if hd > 64 && w.path == attnRows {
				continue // attn.comp is the same kernel at every head dim (8 above)
			}
			t.Run(fmt.Sprintf("T=%d/hd=%d/NaN in %s/%s", T, hd, which, w.name), func(t *testing.T) {
				w.use(t, d, hd)
				gotAll := deviceAttention(t, d, a, in["q"], in["k"], in["v"], dout)
				for _, name := range outs {
					got := gotAll[name]
					per := 1
					if name != "lse" {
						per = hd
					}
					bad, first := 0, ""
					for i, wv := range want[name] {
						if finite32(got[i]) != finite32(wv) {
							if bad == 0 {
								row := i / per
								first = fmt.Sprintf("the NaN at %d, position %d: %s[%d] is %g on the device, %g on the CPU",
									places[row/T], row%T, name, i%per, got[i], wv)
							}
							bad++
						}
					}
					if bad > 0 {
						t.Errorf("a NaN in %s: %d values of %s are finite on one side only; the first: %s", which, bad, name, first)
					}
				}
			})
		}
	}
}

// TestAttentionTileScalesLeaveNonFiniteOut: the kernels on cooperative
// matrices (attn_cm, attn_cm_dq, attn_cm_dkv) stage each tile of queries,
// keys, values and output gradients in float16 scaled by the power of two
// its largest magnitude asks for, found by a scan max(m, |x|) per
// invocation. A NaN in the scan lost the values before it (max(r, NaN) is
// NaN on lavapipe, and the next max drops it), so a larger value two rows
// before it in the same tile overflowed float16 (3 against a tile of
// |x| < 1 scaled by 2¹⁵); an infinity made the tile's scale 1, so a
// finite 1e5 beside it overflowed too. Either reached queries and keys
// that see no non-finite value (out, lse, dq, dk, dv of rows before it),
// which the CPU keeps finite. One sequence a place, the non-finite value
// in q, k, v or dout at element 0 of the place's row and the large value
// at element 0 two rows before (the same tile, scanned by the same
// invocation on lavapipe and NVIDIA alike), on every attention path, at
// head dims 8 and 72, forward and backward: every output is finite on the
// device exactly where it is on the CPU, and after a NaN (values of at
// most 3) within the path's tolerance of it.
func TestAttentionTileScalesLeaveNonFiniteOut(t *testing.T) {
	d := openOrSkip(t)
	cpu := compute.NewCPU()
	rng := rand.New(rand.NewSource(29))
	const T = 100
	places := []int{2, 9, 20, 29, 34, 45, 61, 70, 97}
	for _, c := range []struct {
		name       string
		bad, large float32
	}{{"NaN after 3", nan32, 3}, {"+Inf after 1e5", inf32, 1e5}} {
		for _, hd := range []int{8, 72} {
			a := compute.AttnDims{B: len(places), T: T, H: 1, KV: 1, HeadDim: hd}
			n := a.B * a.T * hd
			for _, which := range []string{"q", "k", "v", "dout"} {
				in := map[string][]float32{}
				for _, name := range []string{"q", "k", "v", "dout"} {
					x := make([]float32, n)
					for i := range x {
						x[i] = float32(2*rng.Float64() - 1)
					}
					in[name] = x
				}
				for b, p := range places {
					in[which][(b*T+p-2)*hd] = c.large
					in[which][(b*T+p)*hd] = c.bad
				}
				want := cpuAttention(cpu, a, in["q"], in["k"], in["v"], in["dout"])
				for _, w := range attnWays(d) {
					if hd > 64 && w.path == attnRows {
						continue // attn.comp is the same kernel at every head dim
					}
					t.Run(fmt.Sprintf("%s in %s/hd=%d/%s", c.name, which, hd, w.name), func(t *testing.T) {
						tol := w.use(t, d, hd)
						got := deviceAttention(t, d, a, in["q"], in["k"], in["v"], in["dout"])
						for _, name := range []string{"out", "lse", "dq", "dk", "dv"} {
							per := hd
							if name == "lse" {
								per = 1
							}
							bad, first := 0, ""
							for i, wv := range want[name] {
								g := got[name][i]
								e := math.Abs(float64(g-wv)) / (1 + math.Abs(float64(wv)))
								// Only the values of at most 3 are held to the
								// tolerance: a tile holding 1e5 keeps its other
								// values to 1e5·2⁻¹¹.
								if finite32(g) != finite32(wv) || (c.large < 4 && finite32(wv) && e > tol) {
									if bad == 0 {
										row := i / per
										first = fmt.Sprintf("%s[%d] of position %d (%s at %d) is %g on the device, %g on the CPU",
											name, i%per, row%T, c.name, places[row/T], g, wv)
									}
									bad++
								}
							}
							if bad > 0 {
								t.Errorf("%d values of %s differ from the CPU's (finite on one side only, or past %g); the first: %s", bad, name, tol, first)
							}
						}
					})
				}
			}
		}
	}
}

// TestAttentionRowOfMinusInfinity: a query whose every visible score is
// −Inf (its q·k overflows: 3e38 against keys of −30 to −40) is a query
// with no visible key on every backend (compute.Backend's Attention):
// output 0, lse 0, no gradient of its own, and the rest finite where the
// CPU's is (and within the float32 kernels' tolerance of it). attn_cm
// made NaN of such a row (its exp(−Inf − (−Inf))), the CPU and attn too,
// where attn_fa gave 0. One sequence a place, on every attention path the
// device runs, at head dims 8 and 72, forward and backward.
func TestAttentionRowOfMinusInfinity(t *testing.T) {
	d := openOrSkip(t)
	cpu := compute.NewCPU()
	rng := rand.New(rand.NewSource(28))
	const T = 100
	places := []int{0, 1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 97, 98, 99}
	for _, hd := range []int{8, 72} {
		a := compute.AttnDims{B: len(places), T: T, H: 1, KV: 1, HeadDim: hd}
		n := a.B * a.T * hd
		in := map[string][]float32{"q": make([]float32, n), "k": make([]float32, n), "v": make([]float32, n), "dout": make([]float32, n)}
		for _, x := range in {
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
		}
		for b, p := range places {
			at := (b*T + p) * hd
			clear(in["q"][at : at+hd])
			in["q"][at] = 3e38
			for j := 0; j <= p; j++ {
				in["k"][(b*T+j)*hd] = float32(-30 - 10*rng.Float64())
			}
		}
		want := cpuAttention(cpu, a, in["q"], in["k"], in["v"], in["dout"])
		for _, w := range attnWays(d) {
			t.Run(fmt.Sprintf("hd=%d/%s", hd, w.name), func(t *testing.T) {
				tol := w.use(t, d, hd)
				got := deviceAttention(t, d, a, in["q"], in["k"], in["v"], in["dout"])
				for _, name := range []string{"out", "lse", "dq", "dk", "dv"} {
					per := hd
					if name == "lse" {
						per = 1
					}
					for i, wv := range want[name] {
						row := i / per
						b, tq := row/T, row%T
						g := got[name][i]
						if self := tq == places[b] && name != "dk" && name != "dv"; self && (g != 0 || wv != 0) {
							t.Fatalf("%s[%d] of query %d, whose scores are all −Inf: %g on the device, %g on the CPU; want 0", name, i%per, tq, g, wv)
						}
						if !finite32(g) || !finite32(wv) {
							t.Fatalf("query %d of −Inf scores: %s[%d] of position %d is %g on the device, %g on the CPU", places[b], name, i%per, tq, g, wv)
						}
						// Float16 products lose the other queries of the
						// tile (scaled by 3e38's power of two); finite is all
						// they are held to. dq sums keys 30 to 40 times the
						// others' size, and its error with them.
						tol := tol
						if name == "dq" {
							tol *= 40
						}
						if e := math.Abs(float64(g-wv)) / (1 + math.Abs(float64(wv))); tol < attnF16Tol && e > tol {
							t.Fatalf("query %d of −Inf scores: %s[%d] of position %d is %g on the device, %g on the CPU (relative error %.3g > %g)",
								places[b], name, i%per, tq, g, wv, e, tol)
						}
					}
				}
			})
		}
	}
}
