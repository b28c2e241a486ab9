package compute

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func filled(be Backend, name string, vals []float32, dims ...int) *Tensor {
	t := be.New(name, dims...)
	be.Write(t, vals)
	return t
}

func ramp(n int, scale float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = scale * float32((i*7)%11-5)
	}
	return v
}

func read(be Backend, t *Tensor) []float32 {
	v := make([]float32, t.Len())
	be.Read(v, t)
	return v
}

// smallNet is embedding → rmsnorm → linear(+bias) → swiglu → linear → add →
// log-probs: every tape op but attention and rope, whose kernels have their
// own gradient checks and whose composition the PyTorch parity test covers.
type smallNet struct {
	table, norm, wg, bg, wu, w2, w3 *Tensor
	ids, targets                    []int32
}

func newSmallNet(be Backend) *smallNet {
	const V, d, f = 7, 4, 6
	n := &smallNet{
		table:   filled(be, "table", ramp(V*d, 0.3), V, d),
		norm:    filled(be, "norm", []float32{1, 0.5, 1.5, 1}, d),
		wg:      filled(be, "wg", ramp(f*d, 0.2), f, d),
		bg:      filled(be, "bg", ramp(f, 0.1), f),
		wu:      filled(be, "wu", ramp(f*d, -0.3), f, d),
		w2:      filled(be, "w2", ramp(d*f, 0.25), d, f),
		w3:      filled(be, "w3", ramp(V*d, 0.15), V, d),
		ids:     []int32{1, 3, 3, 6, 0},
		targets: []int32{2, -1, 5, 0, 6, 3},
	}
	for _, p := range n.params() {
		RequireGrad(be, p)
	}
	return n
}

func (n *smallNet) params() []*Tensor {
	return []*Tensor{n.table, n.norm, n.wg, n.bg, n.wu, n.w2, n.w3}
}

// forward returns the log-probs and their sum (the loss we differentiate).
func (n *smallNet) forward(tp *Tape) (*Tensor, float64) {
	be := tp.Backend()
	x := tp.Embedding(n.table, n.ids)
	h := tp.RMSNorm(x, n.norm, 1e-6)
	gate, up := tp.Linear(h, n.wg, n.bg), tp.Linear(h, n.wu, nil)
	y := tp.Add(x, tp.Linear(tp.SwiGLU(gate, up), n.w2, nil))
	last := tp.GatherRows(y, []int32{0, 1, 2, 3, 4, 4})
	lp := tp.TokenLogProbs(tp.Linear(last, n.w3, nil), n.targets, 1/0.7)
	if tp.Err() != nil {
		return nil, math.NaN()
	}
	var s float64
	for _, v := range read(be, lp) {
		s += float64(v)
	}
	return lp, s
}

func TestTapeGradientsMatchFiniteDifferences(t *testing.T) {
	be := NewCPU()
	n := newSmallNet(be)
	tp := NewTape(be)
	lp, _ := n.forward(tp)
	if err := tp.Err(); err != nil {
		t.Fatal(err)
	}
	seed := make([]float32, lp.Len())
	for i := range seed {
		seed[i] = 1
	}
	if err := tp.Backward(lp, seed); err != nil {
		t.Fatal(err)
	}
	ntp := NewTape(be)
	ntp.SetRecording(false)
	for _, p := range n.params() {
		analytic := read(be, p.Grad)
		vals := read(be, p)
		for i := range vals {
			const h = 1e-2
			orig := vals[i]
			vals[i] = orig + h
			be.Write(p, vals)
			ntp.Reset()
			_, up := n.forward(ntp)
			vals[i] = orig - h
			be.Write(p, vals)
			ntp.Reset()
			_, down := n.forward(ntp)
			vals[i] = orig
			be.Write(p, vals)
			numeric := (up - down) / (2 * h)
			if d := math.Abs(numeric - float64(analytic[i])); d > 2e-2*math.Max(1, math.Abs(numeric)) {
				t.Errorf("%s[%d]: analytic %.5f, finite difference %.5f", p.Name, i, analytic[i], numeric)
			}
		}
	}
}

func TestBackwardAccumulatesAcrossCalls(t *testing.T) {
	be := NewCPU()
	n := newSmallNet(be)
	tp := NewTape(be)
	lp, _ := n.forward(tp)
	seed := make([]float32, lp.Len())
	for i := range seed {
		seed[i] = 1
	}
	if err := tp.Backward(lp, seed); err != nil {
		t.Fatal(err)
	}
	once := read(be, n.w2.Grad)
	tp.Reset()
	lp, _ = n.forward(tp)
	if err := tp.Backward(lp, seed); err != nil {
		t.Fatal(err)
	}
	twice := read(be, n.w2.Grad)
	for i := range once {
		if math.Abs(float64(twice[i]-2*once[i])) > 1e-5*math.Max(1, math.Abs(float64(once[i]))) {
			t.Fatalf("w2.grad[%d]: after two backward passes %g, want twice %g", i, twice[i], once[i])
		}
	}
	ZeroGrad(be, n.params())
	for _, v := range read(be, n.w2.Grad) {
		if v != 0 {
			t.Fatal("ZeroGrad left a non-zero gradient")
		}
	}
}

func TestNoGradModeRecordsNothing(t *testing.T) {
	be := NewCPU()
	n := newSmallNet(be)
	tp := NewTape(be)
	tp.SetRecording(false)
	lp, _ := n.forward(tp)
	if len(tp.nodes) != 0 {
		t.Errorf("no-grad mode recorded %d operations", len(tp.nodes))
	}
	if err := tp.Backward(lp, make([]float32, lp.Len())); err == nil || !strings.Contains(err.Error(), "no-grad") {
		t.Errorf("Backward in no-grad mode: got %v, want an error saying so", err)
	}
}

func TestTapeErrorsNameTheProblem(t *testing.T) {
	be := NewCPU()
	x := be.New("x", 3, 4)
	w := be.New("w", 5, 6)
	table := be.New("table", 10, 4)
	norm := be.New("norm", 3)
	rope := be.NewRoPETable(8, 4, 1e4)
	cases := []struct {
		name string
		run  func(tp *Tape) *Tensor
		want string
	}{
		{"linear shapes", func(tp *Tape) *Tensor { return tp.Linear(x, w, nil) }, "linear: input x[3 4] and weight w[5 6]"},
		{"embedding id", func(tp *Tape) *Tensor { return tp.Embedding(table, []int32{1, 10}) }, "embedding: id 10 at position 1 is outside table table[10 4]"},
		{"negative id", func(tp *Tape) *Tensor { return tp.Embedding(table, []int32{-1}) }, "id -1 at position 0"},
		{"norm width", func(tp *Tape) *Tensor { return tp.RMSNorm(x, norm, 1e-6) }, "rmsnorm: weight norm[3] does not match rows of width 4"},
		{"rope position", func(tp *Tape) *Tensor { return tp.RoPE(x, []int32{0, 1, 9}, rope, 1) }, "position 9 at row 2 is beyond the table's 8 positions"},
		{"rope rows", func(tp *Tape) *Tensor { return tp.RoPE(x, []int32{0, 1}, rope, 1) }, "rope: input x[3 4]"},
		{"attention dims", func(tp *Tape) *Tensor {
			return tp.Attention(x, x, x, AttnDims{B: 1, T: 3, H: 2, KV: 1, HeadDim: 4}, nil)
		}, "do not fit B=1 T=3 H=2 KV=1 hd=4"},
		{"add shapes", func(tp *Tape) *Tensor { return tp.Add(x, w) }, "add: x[3 4] and w[5 6] differ"},
		{"target range", func(tp *Tape) *Tensor { return tp.TokenLogProbs(x, []int32{0, 4, 1}, 1) }, "target 4 at row 1 is outside the vocabulary"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tp := NewTape(be)
			if out := c.run(tp); out != nil {
				t.Fatalf("got a tensor, want an error")
			}
			if err := tp.Err(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
			// Sticky: a later valid op returns nil and keeps the first error.
			if tp.Add(x, x) != nil || !strings.Contains(tp.Err().Error(), c.want) {
				t.Fatalf("the first error was not kept: %v", tp.Err())
			}
		})
	}
}

func TestArenaReusesStorageAcrossSteps(t *testing.T) {
	be := NewCPU()
	n := newSmallNet(be)
	tp := NewTape(be)
	n.forward(tp)
	first := tp.acts.items[0]
	tp.Reset()
	n.forward(tp)
	if tp.acts.items[0] != first {
		t.Fatal("the arena made a new tensor for the same shape")
	}
}

// Keep lets a no-grad forward of many layers run in one layer's arena slots
// with the same numbers, and changes nothing once the tape has recorded.
func TestKeepRecyclesLayerActivations(t *testing.T) {
	be := NewCPU()
	const n, d, layers = 6, 16, 5
	x0 := filled(be, "x", ramp(n*d, 0.01), n, d)
	w := filled(be, "w", ramp(d*d, 0.002), d, d)
	g := filled(be, "g", ramp(d, 0.1), d)
	forward := func(tp *Tape, keep bool) []float32 {
		tp.Reset()
		mark := tp.Mark()
		x := tp.Add(x0, x0)
		for i := 0; i < layers; i++ {
			h := tp.RMSNorm(x, g, 1e-6)
			x = tp.Add(x, tp.SwiGLU(tp.Linear(h, w, nil), tp.Linear(h, w, nil)))
			if keep {
				x = tp.Keep(mark, x)
			}
		}
		return read(be, tp.RMSNorm(x, g, 1e-6))
	}
	for _, c := range []struct {
		name      string
		recording bool
		grad      bool
	}{
		{"no-grad", false, false},
		{"recording without parameters to train", true, false},
		{"recording a trainable weight", true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.grad {
				RequireGrad(be, w)
				defer func() { w.requiresGrad, w.Grad = false, nil }()
			}
			plain, kept := NewTape(be), NewTape(be)
			plain.SetRecording(c.recording)
			kept.SetRecording(c.recording)
			want, got := forward(plain, false), forward(kept, true)
			for i := range want {
				if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
					t.Fatalf("y[%d] = %v with Keep, %v without", i, got[i], want[i])
				}
			}
			slots, all := len(kept.acts.items), len(plain.acts.items)
			if c.grad && slots != all {
				t.Fatalf("recording: %d arena slots with Keep, %d without: Keep must change nothing", slots, all)
			}
			if !c.grad && slots > all/layers+3 {
				t.Fatalf("%d arena slots with Keep for %d layers (%d without): activations were not recycled", slots, layers, all)
			}
		})
	}
}

// TestKeepTradesSlots: where the scope's first slot has x's storage size,
// Keep leaves x where it is and the slots trade tensors (no copy); where
// it has another size, x's values are copied into it. Either way the
// kept values are x's and the arena ends right after them.
func TestKeepTradesSlots(t *testing.T) {
	be := NewCPU()
	const n, d = 3, 8
	x0 := filled(be, "x", ramp(n*d, 0.5), n, d)
	wide := filled(be, "w", ramp(2*d*d, 0.01), 2*d, d)
	for _, c := range []struct {
		name  string
		first func(tp *Tape) // makes the scope's first slot
		trade bool
	}{
		{"same size", func(tp *Tape) { tp.Add(x0, x0) }, true},
		{"wider", func(tp *Tape) { tp.Linear(x0, wide, nil) }, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			tp := NewTape(be)
			tp.SetRecording(false)
			mark := tp.Mark()
			c.first(tp)
			x := tp.Add(tp.Add(x0, x0), x0)
			want := read(be, x)
			y := tp.Keep(mark, x)
			if (y == x) != c.trade {
				t.Fatalf("Keep returned x itself: %v, want %v", y == x, c.trade)
			}
			if tp.acts.items[mark] != y || tp.Mark() != mark+1 {
				t.Fatalf("the kept tensor is not the scope's only slot")
			}
			if got := read(be, y); !slices.Equal(got, want) {
				t.Fatalf("kept %v, want %v", got, want)
			}
		})
	}
}

// Backward hands each activation's gradient back once its operation's
// backward has run, so the gradient arena holds a layer's gradients, not
// one per activation: it stays the same size as the network gets deeper,
// and a second step of the same shapes makes no new gradient.
func TestGradientArenaDoesNotGrowWithDepth(t *testing.T) {
	be := NewCPU()
	const n, d = 6, 16
	x0 := filled(be, "x", ramp(n*d, 0.01), n, d)
	w := filled(be, "w", ramp(d*d, 0.002), d, d)
	g := filled(be, "g", ramp(d, 0.1), d)
	RequireGrad(be, w)
	defer func() { w.requiresGrad, w.Grad = false, nil }()
	held := map[int]int{}
	for _, layers := range []int{2, 8, 32} {
		tp := NewTape(be)
		for step := 0; step < 2; step++ {
			tp.Reset()
			x := tp.Add(x0, x0)
			for i := 0; i < layers; i++ {
				h := tp.RMSNorm(x, g, 1e-6)
				x = tp.Add(x, tp.SwiGLU(tp.Linear(h, w, nil), tp.Linear(h, w, nil)))
			}
			y := tp.RMSNorm(x, g, 1e-6)
			seed := ramp(y.Len(), 0.5)
			if err := tp.Backward(y, seed); err != nil {
				t.Fatal(err)
			}
			if step == 0 {
				held[layers] = len(tp.grads.items)
			} else if len(tp.grads.items) != held[layers] {
				t.Fatalf("%d layers: the second step made %d gradients, the first %d", layers, len(tp.grads.items), held[layers])
			}
		}
	}
	if held[32] != held[2] {
		t.Fatalf("gradient tensors made: %v by depth; want as many at any depth", held)
	}
}

// AddLinear: without recording it writes x + a·wᵀ into x, equal to Add of
// Linear; a tensor that is not the tape's activation (a weight) and a
// recording tape get the sum as a new tensor, x left as it was; shapes that
// do not fit are refused.
func TestAddLinear(t *testing.T) {
	be := NewCPU()
	const n, in, out = 3, 5, 4
	x0 := filled(be, "x0", ramp(n*out, 0.1), n, out)
	a := filled(be, "a", ramp(n*in, -0.07), n, in)
	w := filled(be, "w", ramp(out*in, 0.03), out, in)
	zero := be.New("zero", n, out)

	ref := NewTape(be)
	ref.SetRecording(false)
	want := Host(ref.Add(ref.Add(x0, zero), ref.Linear(a, w, nil)))

	tp := NewTape(be)
	tp.SetRecording(false)
	x := tp.Add(x0, zero) // an activation of tp
	if got := tp.AddLinear(x, a, w); got != x || tp.Err() != nil {
		t.Fatalf("AddLinear gave %v (%v), want x itself", got, tp.Err())
	}
	for i, v := range Host(x) {
		if d := v - want[i]; d > 1e-6 || d < -1e-6 {
			t.Fatalf("x[%d] = %v, want %v", i, v, want[i])
		}
	}

	shapes := NewTape(be)
	shapes.SetRecording(false)
	y := shapes.Add(x0, zero)
	y.Name = "x"
	if shapes.AddLinear(y, w, w) != nil || shapes.Err() == nil || !strings.Contains(shapes.Err().Error(), "add linear: x[3 4] + w[4 5]·w[4 5]ᵀ") {
		t.Errorf("shapes: error %v", shapes.Err())
	}

	for _, recording := range []bool{false, true} {
		tp := NewTape(be)
		tp.SetRecording(recording)
		before := append([]float32(nil), Host(x0)...)
		sum := tp.AddLinear(x0, a, w) // x0 is no activation of tp
		if sum == x0 || tp.Err() != nil || !slices.Equal(Host(x0), before) {
			t.Fatalf("recording %v: %v (%v), x0 changed %v; want a new tensor", recording, sum, tp.Err(), !slices.Equal(Host(x0), before))
		}
		for i, v := range Host(sum) {
			if d := v - want[i]; d > 1e-6 || d < -1e-6 {
				t.Fatalf("recording %v: sum[%d] = %v, want %v", recording, i, v, want[i])
			}
		}
	}
}
