package compute

import (
	"math"
	"strings"
	"testing"
)

// A frozen weight gives Linear the same bits as an unfrozen one, refuses
// writes until thawed, and is packed again (with its new values) by the
// next freeze.
func TestFreezeWeights(t *testing.T) {
	be := NewCPU()
	const n, in, out = 5, 40, 70
	x := filled(be, "x", ramp(n*in, 0.1), n, in)
	w := filled(be, "w", ramp(out*in, 0.03), out, in)
	bias := filled(be, "b", ramp(out, 0.5), out)
	linear := func() []float32 {
		y := be.New("y", n, out)
		be.Linear(y, x, w, bias)
		return read(be, y)
	}
	same := func(what string, a, b []float32) {
		t.Helper()
		for i := range a {
			if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
				t.Fatalf("%s: y[%d] = %v, want %v", what, i, a[i], b[i])
			}
		}
	}
	plain := linear()
	be.FreezeWeights([]*Tensor{w})
	if !w.Frozen() {
		t.Fatal("w is not frozen")
	}
	same("frozen", linear(), plain)

	for _, c := range []struct {
		name  string
		write func()
	}{
		{"Write", func() { be.Write(w, make([]float32, out*in)) }},
		{"Zero", func() { be.Zero(w) }},
		{"Copy", func() { be.Copy(w, w) }},
		{"Scale", func() { be.Scale(w, 2) }},
		{"Mix", func() { be.Mix(w, w, 0.5) }},
		{"Accumulate", func() { be.Accumulate(w, w) }},
		{"AdamW", func() {
			g := be.New("g", out, in)
			be.AdamW(w, g, be.New("m", out, in), be.New("v", out, in), AdamWStep{LR: 1, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8, BC1: 1, BC2: 1})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(r.(string), "frozen") {
					t.Fatalf("writing a frozen weight: recovered %v, want a panic naming the freeze", r)
				}
			}()
			c.write()
		})
	}
	same("frozen, after refused writes", linear(), plain)

	be.ThawWeights([]*Tensor{w})
	be.Scale(w, 2)
	doubled := linear()
	be.FreezeWeights([]*Tensor{w})
	same("frozen again after a change", linear(), doubled)
	be.ThawWeights([]*Tensor{w})
}
