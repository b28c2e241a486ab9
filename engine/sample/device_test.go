package sample

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/backendtest"
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
	gen := rand.New(rand.NewPCG(5, 7))
	normal := func(scale float64) func(int) float32 {
		return func(int) float32 { return float32(gen.NormFloat64() * scale) }
	}
	for _, c := range []struct {
		name    string
		temp    float32
		allowed int
		logit   func(i int) float32
		spoil   func(row []float32, r int) // makes some rows special
		finite  bool
	}{
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
	} {
		t.Run(c.name, func(t *testing.T) {
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
// for draws on the device (temperature, greedy) and for draws the host's
// pickers make from the logits read back (top-p); only the latter bring
// the logits to the host.
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
		hostLogits bool
	}{
		{Options{Temperature: 0.7, MaxNewTokens: 12, Seed: 3}, false},
		{Options{Temperature: 0, MaxNewTokens: 12}, false},
		{Options{Temperature: 1, MaxNewTokens: 12, Seed: 5, AllowedVocab: 60}, false},
		{Options{Temperature: 0.8, TopP: 0.9, MaxNewTokens: 12, Seed: 8}, true},
	} {
		t.Run(fmt.Sprintf("T=%g/top-p=%g/allowed=%d", c.opts.Temperature, c.opts.TopP, c.opts.AllowedVocab), func(t *testing.T) {
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
			got, err := Generate(compute.NewTape(gpu), gpuModel, prompts, opts)
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

// TestDrawsUnderValidationLayer re-runs the device draw tests under Khronos'
// validation layer with synchronization validation, batches submitted in
// pieces as a GPU submits them: any message fails it.
func TestDrawsUnderValidationLayer(t *testing.T) {
	vulkantest.Backend(t)
	backendtest.UnderValidationLayer(t, "^(TestDeviceDraws|TestGenerateOnTheDevice)$", "RLT_VULKAN_KICK=3")
}
