package sample

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/backendtest"
	"github.com/rlt-workbench/rlt/compute/kernels"
	"github.com/rlt-workbench/rlt/compute/vulkan"
	"github.com/rlt-workbench/rlt/compute/vulkan/vulkantest"
	"github.com/rlt-workbench/rlt/engine/model"
)

// TestDeviceDraws compares the device's draws (compute.TokenDrawer) with the
// host's picker on the same rows of logits and the same random stream: the
// same ids, except where the draw falls within rounding of the boundary
// between two ids (the device sums in float32 in another order, and draws
// with the stream's top 24 bits), and log-probabilities within float32
// rounding. Rows that are not finite fail on both.
func TestDeviceDraws(t *testing.T) {
	be := vulkantest.Backend(t)
	const V, rows = 1003, 24
	for _, c := range rowCases(V) {
		t.Run(c.name, func(t *testing.T) {
			lg := c.rows(rows, V)
			x := be.New("logits", rows, V)
			be.Write(x, lg)
			opts := Options{Temperature: c.temp, AllowedVocab: c.allowed, MaxNewTokens: 1}
			p := newPicker(&opts, V)
			ids, lps, u := make([]int32, rows), make([]float32, rows), make([]float32, rows)
			streams := make([]rand.PCG, rows)
			for r := range rows {
				streams[r].Seed(9, uint64(r))
				s := streams[r] // a copy: the picker draws the same number
				if !p.greedy {
					u[r] = uniform24(&s)
				}
			}
			err := be.DrawTokens(ids, lps, x, u, compute.DrawOptions{InvTemp: p.invT, Allowed: p.allowed, Greedy: p.greedy})
			if err != nil {
				t.Fatal(err)
			}
			near := 0
			for r := range rows {
				row := lg[r*V : (r+1)*V]
				id, lp, ok := p.pick(row, &streams[r])
				if !ok || !c.finite {
					if ok || c.finite || ids[r] != -1 {
						t.Fatalf("row %d: host ok %v, device id %d; want both to refuse the row (finite %v)", r, ok, ids[r], c.finite)
					}
					continue
				}
				if ids[r] != id {
					// Allowed only at a boundary: where the device's t lies
					// within rounding of the running sum at the lower id.
					lo := min(id, ids[r])
					cum, total := boundary(row, p, lo)
					if d := math.Abs(float64(u[r])*total-cum) / total; d > 1e-5 || ids[r] < 0 {
						t.Fatalf("row %d: device drew %d, host %d; the draw is %.3g of the mass from their boundary", r, ids[r], id, d)
					}
					near++
					continue
				}
				if e := math.Abs(float64(lps[r]-lp)) / (1 + math.Abs(float64(lp))); e > 2e-5 {
					t.Fatalf("row %d id %d: device log-prob %g, host %g", r, id, lps[r], lp)
				}
			}
			if near > 1 {
				t.Fatalf("%d of %d draws differ from the host's at a boundary: more than rounding explains", near, rows)
			}
		})
	}
}

// rowCase is a kind of row of logits for the device tests: peaked, flat,
// masked, not finite.
type rowCase struct {
	name    string
	temp    float32
	allowed int
	logit   func(i int) float32
	spoil   func(row []float32, r int) // makes some rows special
	finite  bool
}

// rows returns rows × V logits of the case.
func (c *rowCase) rows(rows, V int) []float32 {
	lg := make([]float32, rows*V)
	for r := range rows {
		row := lg[r*V : (r+1)*V]
		for i := range row {
			row[i] = c.logit(i)
		}
		if c.spoil != nil {
			c.spoil(row, r)
		}
	}
	return lg
}

// rowCases are the device tests' rows over a vocabulary of V ids.
func rowCases(V int) []rowCase {
	gen := rand.New(rand.NewPCG(5, 7))
	normal := func(scale float64) func(int) float32 {
		return func(int) float32 { return float32(gen.NormFloat64() * scale) }
	}
	return []rowCase{
		{name: "peaked", temp: 0.7, logit: normal(8), finite: true},
		{name: "flat", temp: 1, logit: normal(0.1), finite: true},
		{name: "hot", temp: 3, logit: normal(4), finite: true},
		{name: "greedy", temp: 0, logit: normal(3), finite: true},
		{name: "greedy ties", temp: 0, logit: func(i int) float32 { return float32(i % 7) }, finite: true},
		{name: "masked ids", temp: 0.7, logit: normal(5), finite: true,
			spoil: func(row []float32, r int) {
				for i := range row {
					if (i+r)%3 == 0 {
						row[i] = float32(math.Inf(-1))
					}
				}
			}},
		{name: "largest past the allowed ids", temp: 0.9, allowed: V - 100, logit: normal(5), finite: true,
			spoil: func(row []float32, r int) { row[V-1-r] = 200 }}, // e over the whole row would underflow
		{name: "NaN", temp: 0.7, logit: normal(1), spoil: func(row []float32, r int) { row[r*7] = float32(math.NaN()) }},
		{name: "infinite", temp: 0.7, logit: normal(1), spoil: func(row []float32, r int) { row[r*5] = float32(math.Inf(1)) }},
		{name: "nothing allowed", temp: 0.7, allowed: 10, logit: normal(1), spoil: func(row []float32, r int) {
			for i := range 10 {
				row[i] = float32(math.Inf(-1))
			}
		}},
	}
}

// TestShortlists compares draws from the device's shortlists
// (compute.Shortlister) with the host picker's from the whole rows, under
// top-k, top-p, min-p and their combinations: the same ids with
// log-probabilities within float32 rounding, except where a top-p nucleus
// ends within rounding of the device's total weight. Each shortlist keeps
// its contract (every id of the classes below its bound, none past the
// next; the row's maxima and sums), and a row the shortlist cannot settle
// (overflow, at a capacity of 8) leaves the stream untouched.
func TestShortlists(t *testing.T) {
	be := vulkantest.Backend(t)
	truncations := []Options{{TopK: 1}, {TopK: 7}, {TopK: 200}, {TopP: 0.5}, {TopP: 0.9}, {TopP: 0.999},
		{MinP: 0.05}, {MinP: 0.5}, {TopK: 50, TopP: 0.8}, {TopP: 0.95, MinP: 0.01}, {TopK: 20, MinP: 0.2}}
	compareShortlists(t, be, rowCases(1003), 1003, 24, truncations, []int{ShortlistCapacity, 8})
	// At Qwen's vocabulary, masked to its tokenizer's ids as a run masks it:
	// each invocation of the kernel walks ~600 ids of a row.
	const qwenV = 151936
	gen := rand.New(rand.NewPCG(8, 9))
	qwen := []rowCase{{name: "Qwen's vocabulary", temp: 0.7, allowed: 151665, finite: true,
		logit: func(int) float32 { return float32(gen.NormFloat64() * 3) }}}
	compareShortlists(t, be, qwen, qwenV, 4, []Options{{TopP: 0.95}, {TopK: 50}, {TopP: 0.9, MinP: 0.05}}, []int{ShortlistCapacity})
}

// compareShortlists runs TestShortlists' comparison for each case's rows
// (rows of V logits) under each truncation and capacity.
func compareShortlists(t *testing.T, be *vulkan.Backend, cases []rowCase, V, rows int, truncations []Options, capacities []int) {
	for _, c := range cases {
		if c.temp == 0 {
			continue // greedy: nothing to truncate
		}
		lg := c.rows(rows, V)
		x := be.New("logits", rows, V)
		be.Write(x, lg)
		for _, tr := range truncations {
			for _, capacity := range capacities {
				name := fmt.Sprintf("%s/top-k=%d/top-p=%g/min-p=%g/capacity=%d", c.name, tr.TopK, tr.TopP, tr.MinP, capacity)
				t.Run(name, func(t *testing.T) {
					opts := tr
					opts.Temperature, opts.AllowedVocab, opts.MaxNewTokens = c.temp, c.allowed, 1
					p := newPicker(&opts, V)
					var list compute.Shortlist
					err := be.Shortlist(&list, x, compute.ShortlistOptions{InvTemp: p.invT, Allowed: p.allowed,
						TopK: p.topK, TopP: float32(p.topP), MinP: float32(p.minP), Capacity: capacity})
					if err != nil {
						t.Fatal(err)
					}
					near, whole := 0, 0
					for r := range rows {
						row := lg[r*V : (r+1)*V]
						lr := &list.Rows[r]
						ids, z := list.Candidates(r)
						if c.finite {
							checkShortlist(t, r, lr, ids, z, row, p, capacity)
						}
						var hs, ls rand.PCG
						hs.Seed(9, uint64(r))
						ls.Seed(9, uint64(r))
						id, lp, ok := p.pick(row, &hs)
						lid, llp, lok, lwhole := p.pickShortlisted(lr, ids, z, &ls)
						if !ok || !c.finite {
							if ok || c.finite || lok || lwhole || lr.Count != compute.ShortlistNotFinite {
								t.Fatalf("row %d: host ok %v, shortlist ok %v whole %v count %d; want both to refuse the row (finite %v)",
									r, ok, lok, lwhole, lr.Count, c.finite)
							}
							continue
						}
						if lwhole {
							var fresh rand.PCG
							fresh.Seed(9, uint64(r))
							if ls != fresh {
								t.Fatalf("row %d: the shortlist sent the draw to the whole row after drawing from the stream", r)
							}
							whole++
							continue
						}
						if lid != id {
							if p.topP == 0 {
								t.Fatalf("row %d: shortlist drew %d, host %d", r, lid, id)
							}
							near++
							continue
						}
						if e := math.Abs(float64(llp-lp)) / (1 + math.Abs(float64(lp))); e > 2e-5 {
							t.Fatalf("row %d id %d: shortlist log-prob %g, host %g", r, id, llp, lp)
						}
					}
					if near > 1 {
						t.Fatalf("%d of %d draws differ from the host's: more than top-p's rounding explains", near, rows)
					}
					if capacity == ShortlistCapacity && whole > 1 {
						t.Fatalf("%d of %d rows sent to the whole row with room for every id: more than rounding at a class boundary explains", whole, rows)
					}
				})
			}
		}
	}
}

// checkShortlist checks row r's shortlist against the host's weights of the
// row: its maxima and sums, and its candidates exactly the ids of the
// classes up to its bound, give or take the class on either side of the
// bound (the device's exp rounds differently); its bound where the host's
// cut would put it, give or take one for rounding (or later under top-p).
func checkShortlist(t *testing.T, r int, lr *compute.ShortlistRow, ids []int32, z, row []float32, p *picker, capacity int) {
	t.Helper()
	A := p.allowed
	zmax, amax := slices.Max(row), slices.Max(row[:A])
	if lr.ZMax != zmax || lr.AMax != amax {
		t.Fatalf("row %d: maxima %g, %g; want %g, %g", r, lr.ZMax, lr.AMax, zmax, amax)
	}
	var st classStats
	var sum, total float64
	class := make([]int, A) // −1: zero weight
	nz := 0
	for i, v := range row {
		sum += math.Exp((float64(v) - float64(zmax)) * float64(p.invT))
		if i >= A {
			continue
		}
		e := kernels.Exp32((v - amax) * p.invT)
		class[i] = -1
		if e != 0 {
			class[i] = classOf(e)
			st.count[class[i]]++
			st.mass[class[i]] += float64(e)
			total += float64(e)
			nz++
		}
	}
	if d := math.Abs(float64(lr.LogSum) - math.Log(sum)); d > 1e-5 {
		t.Fatalf("row %d: log Σ %g, want %g", r, lr.LogSum, math.Log(sum))
	}
	if d := math.Abs(float64(lr.Total)-total) / total; d > 1e-5 {
		t.Fatalf("row %d: total weight %g, want %g", r, lr.Total, total)
	}
	cut, _ := p.cut(&st, buckets-1, nz, total)
	// Top-p's slack may take the bound later; counts and min-p's class
	// differ only by rounding.
	if want := min(cut+1, buckets-1); lr.Class < want-1 || p.topP == 0 && lr.Class > want+1 {
		t.Fatalf("row %d: class bound %d; the host's cut puts it at %d", r, lr.Class, want)
	}
	within := func(c int) bool { return c >= 0 && c <= lr.Class+1 }
	if lr.Count == compute.ShortlistOverflow {
		n := 0
		for _, c := range class {
			if within(c) {
				n++
			}
		}
		if n <= capacity {
			t.Fatalf("row %d: overflow, but only %d ids lie within a class of the bound %d", r, n, lr.Class)
		}
		return
	}
	seen := make([]bool, A)
	for i, id := range ids {
		if id < 0 || int(id) >= A || seen[id] {
			t.Fatalf("row %d: candidate %d is not allowed or listed twice", r, id)
		}
		seen[id] = true
		if z[i] != row[id] || !within(class[id]) {
			t.Fatalf("row %d: candidate %d with logit %g (row: %g) of class %d past bound %d", r, id, z[i], row[id], class[id], lr.Class)
		}
	}
	for i, c := range class {
		if c >= 0 && (c < lr.Class || lr.Class == buckets-1 && c < buckets-1) && !seen[i] {
			t.Fatalf("row %d: id %d of class %d is missing under bound %d", r, i, c, lr.Class)
		}
	}
}

// boundary returns the running sum of the draw's weights over the allowed
// ids up to and including id, and their total, in float64.
func boundary(row []float32, p *picker, id int32) (cum, total float64) {
	amax := math.Inf(-1)
	for _, v := range row[:p.allowed] {
		amax = math.Max(amax, float64(v))
	}
	for i, v := range row[:p.allowed] {
		e := math.Exp((float64(v) - amax) * float64(p.invT))
		total += e
		if i <= int(id) {
			cum += e
		}
	}
	return cum, total
}

// TestGenerateOnTheDevice: the same model on the Vulkan backend and on the
// CPU generates the same tokens with log-probs within float32 rounding,
// for draws on the device (temperature, greedy), for draws the host's
// pickers make from the device's shortlists (top-k, top-p, min-p), and for
// those made from whole rows read back when the shortlists overflow (a
// capacity of 2); only the last bring the logits to the host.
func TestGenerateOnTheDevice(t *testing.T) {
	gpu := vulkantest.Backend(t)
	cpuModel := tinyModel(t)
	gpuModel, err := model.New(gpu, tinyConfig)
	if err != nil {
		t.Fatal(err)
	}
	gpuModel.InitRandom(11, 0.25) // tinyModel's weights
	prompts := randPrompts(4, 5, 1, 9, 3)
	for _, c := range []struct {
		opts       Options
		capacity   int
		hostLogits bool
	}{
		{Options{Temperature: 0.7, MaxNewTokens: 12, Seed: 3}, 0, false},
		{Options{Temperature: 0, MaxNewTokens: 12}, 0, false},
		{Options{Temperature: 1, MaxNewTokens: 12, Seed: 5, AllowedVocab: 60}, 0, false},
		{Options{Temperature: 0.8, TopP: 0.9, MaxNewTokens: 12, Seed: 8}, 0, false},
		{Options{Temperature: 1.2, TopK: 5, MaxNewTokens: 12, Seed: 4, AllowedVocab: 60}, 0, false},
		{Options{Temperature: 1, TopP: 0.95, MinP: 0.2, MaxNewTokens: 12, Seed: 6}, 0, false},
		{Options{Temperature: 0.8, TopP: 0.9, MaxNewTokens: 12, Seed: 8}, 2, true},
		// Sequences stop at different times: the batch moves to smaller
		// caches made within the device's cache buffers (KVCache.Within).
		{Options{Temperature: 1, MaxNewTokens: 12, Seed: 5, StopIDs: []int32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}}, 0, false},
	} {
		name := fmt.Sprintf("T=%g/top-k=%d/top-p=%g/min-p=%g/allowed=%d/capacity=%d",
			c.opts.Temperature, c.opts.TopK, c.opts.TopP, c.opts.MinP, c.opts.AllowedVocab, c.capacity)
		t.Run(name, func(t *testing.T) {
			want, err := Generate(compute.NewTape(cpuModel.Backend()), cpuModel, prompts, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			opts := c.opts
			opts.OnStep = func(step int, toks []StepToken) error {
				for _, tk := range toks {
					if (tk.Logits != nil) != c.hostLogits {
						return fmt.Errorf("step %d: logits on the host %v, want %v", step, tk.Logits != nil, c.hostLogits)
					}
				}
				return nil
			}
			g := NewGenerator(gpuModel)
			g.listCapacity = c.capacity
			got, err := g.Generate(compute.NewTape(gpu), prompts, opts)
			if err != nil {
				t.Fatal(err)
			}
			for s := range want {
				if fmt.Sprint(got[s].IDs) != fmt.Sprint(want[s].IDs) {
					t.Fatalf("sequence %d: device %v, CPU %v", s, got[s].IDs, want[s].IDs)
				}
				for i, lp := range want[s].LogProbs {
					if e := math.Abs(float64(got[s].LogProbs[i] - lp)); e > 1e-4 {
						t.Fatalf("sequence %d token %d: log-prob %g on the device, %g on the CPU", s, i, got[s].LogProbs[i], lp)
					}
				}
			}
		})
	}
}

// TestDrawsUnderValidationLayer re-runs the device draw and shortlist tests
// under Khronos' validation layer with synchronization validation, batches
// submitted in pieces as a GPU submits them: any message fails it.
func TestDrawsUnderValidationLayer(t *testing.T) {
	vulkantest.Backend(t)
	backendtest.UnderValidationLayer(t, "^(TestDeviceDraws|TestShortlists|TestGenerateOnTheDevice)$", "RLT_VULKAN_KICK=3")
}

// BenchmarkShortlistDraws times the host's part of one decode step's
// top-p draws for 8 sequences at Qwen's vocabulary: from whole rows read
// back (what a GPU run did before shortlists) and from the device's
// shortlists of the same rows (made once, on the device; only the host's
// work is timed, single-threaded). It also reports the bytes each way
// brings to the host and how many rows overflowed to a whole-row read.
func BenchmarkShortlistDraws(b *testing.B) {
	be := vulkantest.Backend(b)
	const B, V = 8, 151936
	o := &Options{Temperature: 0.7, TopP: 0.95, MaxNewTokens: 1}
	p := newPicker(o, V)
	lg := make([]float32, B*V)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range lg {
		lg[i] = float32(r.NormFloat64() * 3)
	}
	x := be.New("logits", B, V)
	be.Write(x, lg)
	var list compute.Shortlist
	if err := be.Shortlist(&list, x, compute.ShortlistOptions{InvTemp: p.invT, Allowed: p.allowed,
		TopP: float32(p.topP), Capacity: ShortlistCapacity}); err != nil {
		b.Fatal(err)
	}
	var rng rand.PCG
	b.Run("rows", func(b *testing.B) {
		for range b.N {
			for row := range B {
				p.pick(lg[row*V:(row+1)*V], &rng)
			}
		}
		b.ReportMetric(float64(B*V*4), "bytes/step")
	})
	b.Run("shortlists", func(b *testing.B) {
		overflow, candidates := 0, 0
		for range b.N {
			overflow, candidates = 0, 0
			for row := range B {
				ids, z := list.Candidates(row)
				candidates += len(ids)
				if _, _, _, whole := p.pickShortlisted(&list.Rows[row], ids, z, &rng); whole {
					overflow++
				}
			}
		}
		b.ReportMetric(float64(B*(8+2*ShortlistCapacity)*4), "bytes/step")
		b.ReportMetric(float64(candidates)/B, "candidates/row")
		b.ReportMetric(float64(overflow), "whole-rows/step")
	})
}
