package compute

import (
	"errors"
	"math"
	"testing"
)

// adamRef is torch.optim.AdamW's update for one scalar, in float64.
func adamRef(p, g, m, v float64, step int, lr, b1, b2, eps, wd float64) (float64, float64, float64) {
	p -= lr * wd * p
	m = b1*m + (1-b1)*g
	v = b2*v + (1-b2)*g*g
	mh := m / (1 - math.Pow(b1, float64(step)))
	vh := v / (1 - math.Pow(b2, float64(step)))
	return p - lr*mh/(math.Sqrt(vh)+eps), m, v
}

func TestAdamWMatchesPyTorchFormula(t *testing.T) {
	cases := []struct {
		name                string
		lr, b1, b2, eps, wd float64
		grads               [][]float32
	}{
		{"rlt defaults", 1e-6, 0.9, 0.999, 1e-8, 0, [][]float32{{0.5, -2, 1e-3}, {0.4, -1, 0}, {-0.3, 3, 2}}},
		{"peer settings", 1e-3, 0.9, 0.95, 1e-8, 0.1, [][]float32{{1, 2, 3}, {-1, 0.5, 0}, {0.1, 0.1, 0.1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			be := NewCPU()
			p := filled(be, "p", []float32{0.3, -0.7, 1.1}, 3)
			RequireGrad(be, p)
			opt, err := NewAdamW(be, []*Tensor{p}, c.lr, c.b1, c.b2, c.eps, c.wd)
			if err != nil {
				t.Fatal(err)
			}
			ref := []float64{0.3, -0.7, 1.1}
			m, v := make([]float64, 3), make([]float64, 3)
			for step, g := range c.grads {
				be.Write(p.Grad, g)
				opt.Step(c.lr)
				for i := range ref {
					ref[i], m[i], v[i] = adamRef(ref[i], float64(g[i]), m[i], v[i], step+1, c.lr, c.b1, c.b2, c.eps, c.wd)
				}
				got := read(be, p)
				for i := range ref {
					if math.Abs(float64(got[i])-ref[i]) > 1e-6*math.Max(1, math.Abs(ref[i])) {
						t.Fatalf("step %d, p[%d] = %.9f, want %.9f", step+1, i, got[i], ref[i])
					}
				}
			}
			if opt.Steps() != len(c.grads) {
				t.Errorf("Steps() = %d", opt.Steps())
			}
		})
	}
}

func TestNewAdamWNeedsGradients(t *testing.T) {
	be := NewCPU()
	if _, err := NewAdamW(be, []*Tensor{be.New("frozen", 2)}, 1, 0.9, 0.999, 1e-8, 0); err == nil {
		t.Fatal("a parameter without a gradient was accepted")
	}
}

func TestClipGradNorm(t *testing.T) {
	be := NewCPU()
	a := be.New("a", 2)
	b := be.New("b", 1)
	RequireGrad(be, a)
	RequireGrad(be, b)
	be.Write(a.Grad, []float32{3, 0})
	be.Write(b.Grad, []float32{4})
	norm, err := ClipGradNorm(be, []*Tensor{a, b}, 1)
	if err != nil || math.Abs(norm-5) > 1e-6 {
		t.Fatalf("norm %v, err %v; want 5", norm, err)
	}
	if g := read(be, a.Grad); math.Abs(float64(g[0])-0.6) > 1e-5 {
		t.Errorf("clipped a.grad[0] = %v, want 0.6", g[0])
	}
	// Under the limit nothing changes.
	if _, err := ClipGradNorm(be, []*Tensor{a, b}, 10); err != nil {
		t.Fatal(err)
	}
	if g := read(be, b.Grad); math.Abs(float64(g[0])-0.8) > 1e-5 {
		t.Errorf("b.grad changed under the limit: %v", g[0])
	}
	be.Write(b.Grad, []float32{float32(math.NaN())})
	_, err = ClipGradNorm(be, []*Tensor{a, b}, 1)
	var nf *NonFiniteError
	if !errors.As(err, &nf) || nf.Tensor != "b" {
		t.Fatalf("a NaN gradient gave %v, want a NonFiniteError naming b", err)
	}
	if g := read(be, a.Grad); math.Abs(float64(g[0])-0.6) > 1e-5 {
		t.Error("gradients were scaled although one was not finite")
	}
}

func TestSchedules(t *testing.T) {
	c := CosineLR{Peak: 1, Min: 0.1, Warmup: 2, Total: 12}
	cases := []struct {
		s    Schedule
		step int
		want float64
	}{
		{ConstantLR(3e-4), 0, 3e-4},
		{ConstantLR(3e-4), 999, 3e-4},
		{c, 0, 0.5},
		{c, 1, 1},
		{c, 2, 1},
		{c, 7, 0.55},
		{c, 12, 0.1},
		{c, 50, 0.1},
	}
	for _, tc := range cases {
		if got := tc.s.LR(tc.step); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%T LR(%d) = %v, want %v", tc.s, tc.step, got, tc.want)
		}
	}
}

func TestMixInto(t *testing.T) {
	be := NewCPU()
	ref := filled(be, "ref", []float32{1, 2}, 2)
	p := filled(be, "p", []float32{3, -2}, 2)
	if err := MixInto(be, []*Tensor{ref}, []*Tensor{p}, 0.9); err != nil {
		t.Fatal(err)
	}
	got := read(be, ref)
	want := []float32{0.9*3 + 0.1*1, 0.9*-2 + 0.1*2}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-6 {
			t.Errorf("ref[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if err := MixInto(be, []*Tensor{ref}, []*Tensor{be.New("q", 3)}, 0.9); err == nil {
		t.Error("mixing tensors of different shapes was accepted")
	}
}

func TestDenseViewSharesStorage(t *testing.T) {
	be := NewCPU()
	x := filled(be, "x", []float32{1, 2, 3, 4, 5, 6}, 2, 3)
	d := Dense(x)
	if got := d.Shape(); len(got) != 2 || got[0] != 2 || got[1] != 3 {
		t.Fatalf("Dense shape %v", got)
	}
	d.Float32s()[4] = 50
	if read(be, x)[4] != 50 {
		t.Error("the Dense does not share the tensor's storage")
	}
	// A view of the same storage in another shape gets a Dense of its own
	// shape, still over the same floats.
	v, err := x.Reshaped(3, 2)
	if err != nil {
		t.Fatal(err)
	}
	dv := Dense(v)
	if got := dv.Shape(); len(got) != 2 || got[0] != 3 || got[1] != 2 {
		t.Fatalf("Dense of the [3 2] view: shape %v", got)
	}
	if dv.Float32s()[5] = 60; read(be, x)[5] != 60 {
		t.Error("the Dense of a view does not share the tensor's storage")
	}
}
