package vulkan

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
)

// The GPU side of compute/kernels' TestRowMaxFindsTheMaximumAnywhere: the
// CPU's AVX-512 row maximum once missed a maximum at some places of a row
// (its tail overwrote other lanes' running maxima), and random rows never
// showed it. Every kernel here that takes a row's maximum in strides of
// invocations, shared-memory trees or tiles of keys is run on rows of every
// length to 300 with one value far above the rest at every place (and on
// longer rows, past the 256 invocations of a workgroup, at the places
// around every multiple of 32 and 256), so that a maximum missed anywhere
// overflows an exp: spikeGap is past float32's 88.7.
const spikeGap = 120

// spikeRows returns rows × v logits, N(0, 1) but for row r's place at(r),
// which is sign·spikeGap.
func spikeRows(rng *rand.Rand, rows, v int, at func(r int) int, sign float32) []float32 {
	z := make([]float32, rows*v)
	for i := range z {
		z[i] = float32(rng.NormFloat64())
	}
	for r := range rows {
		z[r*v+at(r)] = sign * spikeGap
	}
	return z
}

// spikePlaces lists the places of the maximum tried in rows of length v:
// all of them up to 300; past that the first and last few, and those
// around every multiple of 32 (tiles of keys) and so of 256 (a
// workgroup's stride).
func spikePlaces(v int) []int {
	if v <= 300 {
		all := make([]int, v)
		for i := range all {
			all[i] = i
		}
		return all
	}
	var at []int
	seen := map[int]bool{}
	add := func(i int) {
		if i >= 0 && i < v && !seen[i] {
			seen[i] = true
			at = append(at, i)
		}
	}
	for _, i := range []int{0, 1, 2, v/2 + 1, v - 3, v - 2, v - 1} {
		add(i)
	}
	for m := 32; m < v; m += 32 {
		add(m - 1)
		add(m)
		add(m + 1)
	}
	return at
}

// TestSoftmaxFindsTheMaximumAnywhere: the row maxima of log-softmax
// (logprobs), entropy and KL (dist), argmax, the device draw (draw) and the
// shortlist (shortlist) find a maximum at every place of rows of every
// length to 300 and of lengths past the workgroup's 256 invocations: the
// results are finite and match the CPU backend within the conformance
// suite's tolerances, and the draws and argmax name the maximum's place.
func TestSoftmaxFindsTheMaximumAnywhere(t *testing.T) {
	d := openOrSkip(t)
	cpu := compute.NewCPU()
	rng := rand.New(rand.NewSource(26))
	var lengths []int
	for v := 1; v <= 300; v++ {
		lengths = append(lengths, v)
	}
	lengths = append(lengths, 511, 512, 513, 767, 768, 769, 1023, 1024, 1025, 2000)
	for _, v := range lengths {
		places := spikePlaces(v)
		rows := len(places)
		at := func(r int) int { return places[r] }
		next := func(r int) int { return places[(r+1)%rows] }
		// pos: the maximum at places[r]; pos2 at the next row's place (KL's
		// other side); neg: the minimum at places[r], the maximum under a
		// negative inverse temperature.
		inputs := map[string][]float32{
			"pos":  spikeRows(rng, rows, v, at, 1),
			"pos2": spikeRows(rng, rows, v, next, 1),
			"neg":  spikeRows(rng, rows, v, at, -1),
		}
		targets := make([]int32, rows)
		for r := range targets {
			targets[r] = int32((r * 7) % v) // the maximum's place in some rows, elsewhere in most
		}
		ct, gt := map[string]*compute.Tensor{}, map[string]*Tensor{}
		for _, s := range []struct {
			name string
			dims []int
		}{{"pos", []int{rows, v}}, {"pos2", []int{rows, v}}, {"neg", []int{rows, v}},
			{"lp", []int{rows}}, {"lse", []int{rows}}, {"lpNeg", []int{rows}}, {"lseNeg", []int{rows}},
			{"entNeg", []int{rows}}, {"kl", []int{rows}}} {
			ct[s.name] = cpu.New(s.name, s.dims...)
			g, err := d.New(s.name, s.dims...)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Free(g)
			gt[s.name] = g
			if vals, ok := inputs[s.name]; ok {
				cpu.Write(ct[s.name], vals)
				if err := d.Write(g, vals); err != nil {
					t.Fatal(err)
				}
			}
		}
		cpu.TokenLogProbs(ct["lp"], ct["lse"], ct["pos"], targets, 1)
		cpu.TokenLogProbs(ct["lpNeg"], ct["lseNeg"], ct["neg"], targets, -1)
		cpu.Entropy(ct["entNeg"], ct["neg"], -0.9)
		cpu.KL(ct["kl"], ct["pos"], ct["pos2"], 1)
		d.TokenLogProbs(gt["lp"], gt["lse"], gt["pos"], targets, 1)
		d.TokenLogProbs(gt["lpNeg"], gt["lseNeg"], gt["neg"], targets, -1)
		d.Entropy(gt["entNeg"], gt["neg"], -0.9)
		d.KL(gt["kl"], gt["pos"], gt["pos2"], 1)
		for _, o := range []struct {
			name string
			tol  float64 // the conformance suite's (device_test.go)
		}{{"lp", 2e-6}, {"lse", 2e-6}, {"lpNeg", 2e-6}, {"lseNeg", 2e-6}, {"entNeg", 1e-5}, {"kl", 1e-5}} {
			want, got := make([]float32, rows), make([]float32, rows)
			cpu.Read(want, ct[o.name])
			if err := d.Read(got, gt[o.name]); err != nil {
				t.Fatal(err)
			}
			for r := range rows {
				if e := math.Abs(float64(got[r])-float64(want[r])) / (1 + math.Abs(float64(want[r]))); e > o.tol || math.IsNaN(e) || math.IsInf(float64(got[r]), 0) {
					t.Fatalf("rows of %d, the maximum at %d: %s is %g on the device, %g on the CPU (relative error %.3g > %g)",
						v, places[r], o.name, got[r], want[r], e, o.tol)
				}
			}
		}

		// The maximum is unique and spikeGap above the rest, so every
		// other weight is exp(−spikeGap + a few) ≈ 0: the argmax, either
		// draw and a top-1 shortlist name its place, its log-probability
		// is 0, and so is log Σ exp(z − max).
		argmax := make([]int32, rows)
		if err := d.Argmax(argmax, gt["pos"]); err != nil {
			t.Fatal(err)
		}
		ids, logps := make([]int32, rows), make([]float32, rows)
		half := make([]float32, rows)
		for r := range half {
			half[r] = 0.5
		}
		for r := range rows {
			if argmax[r] != int32(at(r)) {
				t.Fatalf("rows of %d, the maximum at %d: argmax %d", v, at(r), argmax[r])
			}
		}
		for _, greedy := range []bool{true, false} {
			if err := d.DrawTokens(ids, logps, gt["pos"], half, 1, v, greedy); err != nil {
				t.Fatal(err)
			}
			for r := range rows {
				if ids[r] != int32(at(r)) || !(math.Abs(float64(logps[r])) <= 1e-6) {
					t.Fatalf("rows of %d, the maximum at %d: draw (greedy %v) took %d with log-probability %g, want %d and 0",
						v, at(r), greedy, ids[r], logps[r], at(r))
				}
			}
		}
		var s compute.Shortlist
		if err := d.Shortlist(&s, gt["pos"], compute.ShortlistOptions{InvTemp: 1, Allowed: v, TopK: 1, Capacity: 4}); err != nil {
			t.Fatal(err)
		}
		for r := range rows {
			row := s.Rows[r]
			cand, _ := s.Candidates(r)
			if row.ZMax != spikeGap || row.AMax != spikeGap || !(math.Abs(float64(row.LogSum)) <= 1e-6) ||
				!(math.Abs(float64(row.Total)-1) <= 1e-6) || len(cand) != 1 || cand[0] != int32(at(r)) {
				t.Fatalf("rows of %d, the maximum at %d: shortlist %+v, candidates %v; want the maximum %d alone, log Σ 0, weight 1",
					v, at(r), row, cand, spikeGap)
			}
		}
	}
}

// TestAttentionFindsTheMaximumAnywhere: attention's online softmax finds
// the largest score wherever it is, on the row kernel (attn: invocations
// striding a row, a shared-memory tree), the tiles (attn_fa: keys a tile
// at a time) and, where the device runs them, cooperative matrices
// (attn_cm). Sequence b's key b (or, for the longer sequences, a place
// spikePlaces tries) scores spikeGap against every query, the others about
// 1, so query t of sequence b sees a row of t+1 scores with the maximum at
// b: every length to 300, and past the workgroup's 256, with the maximum
// at every place. Head dim 8 takes tiles of 32 rows (attn_fa32, attn_cm);
// 72 takes tiles of 16 (attn_fa16, attn_cm128), tried with the maximum at
// every place of the first rows and around each tile's edges. Out and lse
// must match the CPU backend. The backward takes no maximum (it recomputes
// the probabilities from lse).
func TestAttentionFindsTheMaximumAnywhere(t *testing.T) {
	d := openOrSkip(t)
	cpu := compute.NewCPU()
	rng := rand.New(rand.NewSource(26))
	var long, tiles16 []int
	for _, i := range spikePlaces(600) {
		if i%32 != 1 { // fewer sequences: the places at and before the edges
			long = append(long, i)
		}
	}
	for i := range 300 {
		if i < 48 || i%16 == 15 || i%16 == 0 || i >= 297 {
			tiles16 = append(tiles16, i)
		}
	}
	for _, c := range []struct {
		t, hd  int
		places []int
	}{{300, 8, spikePlaces(300)}, {600, 8, long}, {300, 72, tiles16}} {
		hd := c.hd
		a := compute.AttnDims{B: len(c.places), T: c.t, H: 1, KV: 1, HeadDim: hd}
		n := a.B * a.T * hd
		q, k, v := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range n {
			q[i] = float32(0.5 * rng.NormFloat64())
			k[i] = float32(0.5 * rng.NormFloat64())
			v[i] = float32(rng.NormFloat64())
			if i%hd == 0 {
				q[i] = 1
			}
		}
		// The score of key j is scale·q·k_j with scale 1/√hd; the spike's
		// key is (spikeGap·√hd, 0, …) against queries (1, …).
		for b, j := range c.places {
			at := (b*a.T + j) * hd
			k[at] = float32(spikeGap * math.Sqrt(float64(hd)))
			for e := 1; e < hd; e++ {
				k[at+e] = 0
			}
		}
		want := cpuAttention(cpu, a, q, k, v, nil)
		for _, w := range attnWays(d) {
			if hd == 72 && w.path == attnRows {
				continue // attn.comp's maximum is the same at every head dim (8 above)
			}
			t.Run(fmt.Sprintf("T=%d/hd=%d/%s", c.t, hd, w.name), func(t *testing.T) {
				tol := w.use(t, d, hd)
				gotAll := deviceAttention(t, d, a, q, k, v, nil)
				for _, name := range []string{"out", "lse"} {
					got := gotAll[name]
					per := 1 // values per query row
					if name == "out" {
						per = hd
					}
					for i, wv := range want[name] {
						if e := math.Abs(float64(got[i])-float64(wv)) / (1 + math.Abs(float64(wv))); e > tol || math.IsNaN(e) || math.IsInf(float64(got[i]), 0) {
							row := i / per
							t.Fatalf("sequence %d (key %d scores %d), query %d: %s[%d] is %g on the device, %g on the CPU (relative error %.3g > %g)",
								row/a.T, c.places[row/a.T], spikeGap, row%a.T, name, i, got[i], wv, e, tol)
						}
					}
				}
			})
		}
	}
}

// cpuAttention is the CPU backend's attention of q, k, v under a: its
// output ("out", B·T·H·HeadDim) and log-sum-exps ("lse", B·T·H), the
// reference the device's kernels are held to; with dout (not nil) its
// backward too, from zero: "dq", "dk" and "dv".
func cpuAttention(cpu *compute.CPU, a compute.AttnDims, q, k, v, dout []float32) map[string][]float32 {
	rows := a.B * a.T * a.H
	x := map[string]*compute.Tensor{}
	for name, s := range map[string]struct {
		n    int
		vals []float32
	}{"q": {len(q), q}, "k": {len(k), k}, "v": {len(v), v}, "out": {len(q), nil}, "lse": {rows, nil},
		"dout": {len(q), dout}, "dq": {len(q), nil}, "dk": {len(k), nil}, "dv": {len(v), nil}} {
		x[name] = cpu.New(name, s.n)
		if s.vals != nil {
			cpu.Write(x[name], s.vals)
		} else {
			cpu.Zero(x[name])
		}
	}
	cpu.Attention(x["out"], x["lse"], x["q"], x["k"], x["v"], a, nil)
	outs := []string{"out", "lse"}
	if dout != nil {
		cpu.AttentionBackward(x["dq"], x["dk"], x["dv"], x["dout"], x["out"], x["lse"], x["q"], x["k"], x["v"], a, nil)
		outs = append(outs, "dq", "dk", "dv")
	}
	got := map[string][]float32{}
	for _, name := range outs {
		got[name] = make([]float32, x[name].Len())
		cpu.Read(got[name], x[name])
	}
	return got
}

// deviceAttention is cpuAttention on d, by the kernels its attention takes
// now (attnWays' use), read back.
func deviceAttention(t *testing.T, d *Device, a compute.AttnDims, q, k, v, dout []float32) map[string][]float32 {
	t.Helper()
	rows := a.B * a.T * a.H
	x := map[string]*Tensor{}
	for name, s := range map[string]struct {
		n    int
		vals []float32
	}{"q": {len(q), q}, "k": {len(k), k}, "v": {len(v), v}, "out": {len(q), nil}, "lse": {rows, nil},
		"dout": {len(q), dout}, "dq": {len(q), nil}, "dk": {len(k), nil}, "dv": {len(v), nil}} {
		g, err := d.New(name, s.n)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Free(g)
		vals := s.vals
		if vals == nil {
			vals = make([]float32, s.n)
		}
		if err := d.Write(g, vals); err != nil {
			t.Fatal(err)
		}
		x[name] = g
	}
	d.Attention(x["out"], x["lse"], x["q"], x["k"], x["v"], a, nil)
	outs := []string{"out", "lse"}
	if dout != nil {
		d.AttentionBackward(x["dq"], x["dk"], x["dv"], x["dout"], x["out"], x["q"], x["k"], x["v"], x["lse"], a, nil)
		outs = append(outs, "dq", "dk", "dv")
	}
	got := map[string][]float32{}
	for _, name := range outs {
		got[name] = make([]float32, x[name].n)
		if err := d.Read(got[name], x[name]); err != nil {
			t.Fatal(err)
		}
	}
	return got
}
