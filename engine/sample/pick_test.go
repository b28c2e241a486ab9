package sample

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"testing"

	"github.com/rlt-workbench/rlt/compute/allocstest"
	"github.com/rlt-workbench/rlt/compute/kernels"
	"github.com/rlt-workbench/rlt/compute/parallel"
)

// probs8 is a small distribution with a tie (ids 1 and 2) to test the
// truncations' tie order on.
var probs8 = []float64{0.3, 0.2, 0.2, 0.1, 0.08, 0.06, 0.04, 0.02}

func logits(p []float64) []float32 {
	z := make([]float32, len(p))
	for i, x := range p {
		z[i] = float32(math.Log(x))
	}
	return z
}

// norm scales w to sum 1 (a copy).
func norm(w []float64) []float64 {
	s := 0.0
	for _, x := range w {
		s += x
	}
	out := make([]float64, len(w))
	for i, x := range w {
		out[i] = x / s
	}
	return out
}

// only keeps the probabilities of ids and renormalises.
func only(p []float64, ids ...int) []float64 {
	w := make([]float64, len(p))
	for _, i := range ids {
		w[i] = p[i]
	}
	return norm(w)
}

func logSoftmax(z []float32, invT float64) []float64 {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = math.Max(mx, float64(v)*invT)
	}
	s := 0.0
	for _, v := range z {
		s += math.Exp(float64(v)*invT - mx)
	}
	out := make([]float64, len(z))
	for i, v := range z {
		out[i] = float64(v)*invT - mx - math.Log(s)
	}
	return out
}

// chi2 limits: the 0.1 % upper quantile of χ² for 1..9 degrees of freedom.
var chi2Crit = []float64{0, 10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32, 26.12, 27.88}

// TestPickDistributions draws many tokens from fixed logits under each
// setting and compares the counts with the expected distribution by a χ²
// test. The stream is seeded, so the test is deterministic: it cannot flake.
func TestPickDistributions(t *testing.T) {
	z := logits(probs8)
	masked := append(logits(probs8), 5) // id 8 is the most probable but masked
	pow2 := make([]float64, len(probs8))
	for i, x := range probs8 {
		pow2[i] = x * x
	}
	cases := []struct {
		name string
		z    []float32
		o    Options
		want []float64
	}{
		{"temperature 1", z, Options{Temperature: 1}, probs8},
		{"temperature 0.5", z, Options{Temperature: 0.5}, norm(pow2)},
		{"top-k 3 (tie inside)", z, Options{Temperature: 1, TopK: 3}, only(probs8, 0, 1, 2)},
		{"top-k 2 (tie at the edge: lower id)", z, Options{Temperature: 1, TopK: 2}, only(probs8, 0, 1)},
		{"top-p 0.55", z, Options{Temperature: 1, TopP: 0.55}, only(probs8, 0, 1, 2)},
		{"top-p 0.45 (tie at the edge: lower id)", z, Options{Temperature: 1, TopP: 0.45}, only(probs8, 0, 1)},
		{"top-p 0.25", z, Options{Temperature: 1, TopP: 0.25}, only(probs8, 0)},
		{"top-p 0.85", z, Options{Temperature: 1, TopP: 0.85}, only(probs8, 0, 1, 2, 3, 4)},
		{"top-k 4 then top-p 0.7 of its mass", z, Options{Temperature: 1, TopK: 4, TopP: 0.7}, only(probs8, 0, 1, 2)},
		{"min-p 0.5", z, Options{Temperature: 1, MinP: 0.5}, only(probs8, 0, 1, 2)},
		{"min-p 0.3", z, Options{Temperature: 1, MinP: 0.3}, only(probs8, 0, 1, 2, 3)},
		{"top-p 0.9 and min-p 0.3", z, Options{Temperature: 1, TopP: 0.9, MinP: 0.3}, only(probs8, 0, 1, 2, 3)},
		{"temperature 0.5, top-p 0.8", z, Options{Temperature: 0.5, TopP: 0.8}, only(norm(pow2), 0, 1, 2)},
		{"allowed vocabulary", masked, Options{Temperature: 1, AllowedVocab: 8}, append(slices.Clone(probs8), 0)},
		{"allowed vocabulary, top-k 2", masked, Options{Temperature: 1, AllowedVocab: 8, TopK: 2}, append(only(probs8, 0, 1), 0)},
	}
	const N = 40000
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newPicker(&c.o, len(c.z))
			var r rand.PCG
			r.Seed(1, 2)
			invT := 1 / float64(c.o.Temperature)
			lsm := logSoftmax(c.z, invT)
			counts := make([]int, len(c.z))
			for i := 0; i < N; i++ {
				id, lp, ok := p.pick(c.z, &r)
				if !ok {
					t.Fatal("pick failed")
				}
				if math.Abs(float64(lp)-lsm[id]) > 1e-5 {
					t.Fatalf("log-prob of %d: %v, want %v", id, lp, lsm[id])
				}
				counts[id]++
			}
			stat, df := 0.0, -1
			for i, w := range c.want {
				if w == 0 {
					if counts[i] != 0 {
						t.Errorf("id %d drawn %d times, want never", i, counts[i])
					}
					continue
				}
				e := w * N
				d := float64(counts[i]) - e
				stat += d * d / e
				df++
			}
			if df > 0 && stat > chi2Crit[df] {
				t.Errorf("χ² = %.2f with %d degrees of freedom (limit %.2f): counts %v, want %v", stat, df, chi2Crit[df], counts, c.want)
			}
			t.Logf("χ² = %.2f (df %d)", stat, df)
		})
	}
}

func TestPickGreedyIsArgmax(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 200; trial++ {
		V := 1 + r.IntN(300)
		z := make([]float32, V)
		for i := range z {
			z[i] = float32(r.IntN(20)) / 4 // many ties
		}
		allowed := V
		if trial%2 == 1 {
			allowed = 1 + r.IntN(V)
		}
		p := newPicker(&Options{AllowedVocab: allowed}, V)
		id, lp, ok := p.pick(z, nil) // a greedy pick must not touch the stream
		if !ok {
			t.Fatal("pick failed")
		}
		want := 0
		for i := range z[:allowed] {
			if z[i] > z[want] {
				want = i
			}
		}
		if int(id) != want {
			t.Fatalf("trial %d: greedy %d, argmax %d", trial, id, want)
		}
		if l := logSoftmax(z, 1)[want]; math.Abs(float64(lp)-l) > 1e-5 {
			t.Fatalf("greedy log-prob %v, want %v", lp, l)
		}
	}
}

// refKeep is the plain definition: sort everything, then top-k, top-p on
// the top-k mass, min-p.
func refKeep(w []float32, o *Options) []int32 {
	ids := make([]int32, 0, len(w))
	for i, x := range w {
		if x > 0 {
			ids = append(ids, int32(i))
		}
	}
	sort.SliceStable(ids, func(i, j int) bool { return w[ids[i]] > w[ids[j]] })
	if o.TopK > 0 && o.TopK < len(ids) {
		ids = ids[:o.TopK]
	}
	if o.TopP > 0 && o.TopP < 1 {
		mass := 0.0
		for _, id := range ids {
			mass += float64(w[id])
		}
		cum, n := 0.0, 0
		for n < len(ids) && cum < float64(o.TopP)*mass {
			cum += float64(w[ids[n]])
			n++
		}
		ids = ids[:n]
	}
	if o.MinP > 0 {
		n := 1
		for n < len(ids) && w[ids[n]] >= float32(o.MinP)*w[ids[0]] {
			n++
		}
		ids = ids[:n]
	}
	return ids
}

// TestKeepMatchesSortingAll checks the grouped truncation against sorting
// the whole vocabulary, on peaked and flat rows of a larger vocabulary.
func TestKeepMatchesSortingAll(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 300; trial++ {
		V := 50 + r.IntN(3000)
		scale := []float64{0.01, 1, 3, 10}[trial%4]
		z := make([]float32, V)
		for i := range z {
			z[i] = float32(r.NormFloat64() * scale)
			if trial%5 == 0 {
				z[i] = float32(math.Round(float64(z[i]))) // ties
			}
		}
		o := Options{Temperature: 1}
		switch trial % 3 {
		case 0:
			o.TopP = float32(r.Float64())
		case 1:
			o.TopK = r.IntN(V + 10)
			o.TopP = float32(r.Float64())
		case 2:
			o.MinP = float32(r.Float64() * 0.5)
			o.TopP = float32(0.5 + r.Float64()/2)
		}
		p := newPicker(&o, V)
		// the weights pick would use: exp(z − max z), largest exactly 1
		mx := slices.Max(z)
		for i, v := range z {
			p.u[i] = v - mx
		}
		e := p.w[:V]
		copy(e, expAll(p.u))
		n, kept := p.keep(e)
		got := p.cand.ids[:n]
		want := refKeep(e, &o)
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d (V %d, %+v): kept %d ids, want %d (first %v vs %v)", trial, V, o, len(got), len(want), got[:min(5, len(got))], want[:min(5, len(want))])
		}
		s := 0.0
		for _, id := range want {
			s += float64(e[id])
		}
		if math.Abs(s-kept) > 1e-9*s {
			t.Fatalf("kept mass %v, want %v", kept, s)
		}
	}
}

func expAll(u []float32) []float32 {
	out := make([]float32, len(u))
	kernels.ExpSlice(out, u, 0, len(u)) // the exponential pick uses
	return out
}

func TestPickAllocatesNothing(t *testing.T) {
	z := make([]float32, 1000)
	r := rand.New(rand.NewPCG(7, 8))
	for i := range z {
		z[i] = float32(r.NormFloat64() * 2)
	}
	for _, o := range []Options{{}, {Temperature: 1}, {Temperature: 0.7, TopP: 0.9, TopK: 50, MinP: 0.05}} {
		p := newPicker(&o, len(z))
		var s rand.PCG
		if n := allocstest.Fewest(100, func() { p.pick(z, &s) }); n != 0 { // the GPU tests' finalizers: see allocstest
			t.Errorf("%+v: %v allocations per pick", o, n)
		}
	}
}

func TestPickRejectsNonFinite(t *testing.T) {
	p := newPicker(&Options{Temperature: 1}, 3)
	var r rand.PCG
	for _, z := range [][]float32{{0, float32(math.NaN()), 1}, {0, float32(math.Inf(1)), 1}} {
		if _, _, ok := p.pick(z, &r); ok {
			t.Errorf("%v: pick accepted a non-finite row", z)
		}
	}
}

// BenchmarkDraw times one decode step's draws for 8 sequences at Qwen's
// vocabulary (151,936), the host's work between a GPU's decode steps: run
// with -cpu 1,2,… to see the rows spread over the pool.
func BenchmarkDraw(b *testing.B) {
	const B, V = 8, 151936
	o := &Options{Temperature: 0.7, TopP: 0.95}
	g := &Generator{seqOf: make([]int, B), done: make([]bool, B), rngs: make([]rand.PCG, B)}
	g.picks.g = g
	for i := range B {
		g.seqOf[i] = i
		g.rngs[i] = *rand.NewPCG(uint64(i), 1)
	}
	defer parallel.SetWorkers(parallel.Workers())
	parallel.SetWorkers(runtime.GOMAXPROCS(0))
	for range min(B, parallel.Workers()) {
		g.picks.pickers = append(g.picks.pickers, newPicker(o, V))
	}
	g.picks.id, g.picks.lp, g.picks.ok = make([]int32, B), make([]float32, B), make([]bool, B)
	lg := make([]float32, B*V)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range lg {
		lg[i] = float32(r.NormFloat64() * 3)
	}
	b.ResetTimer()
	for range b.N {
		g.picks.draw(lg, B, V)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/step")
}
