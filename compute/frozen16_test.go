package compute

import (
	"math"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute/half"
)

// A 16-bit weight computes exactly what a float32 weight holding its values
// computes (Linear, frozen or not, Embedding, Read), and refuses what would
// change it or train it.
func TestWeights16MatchFloat32(t *testing.T) {
	be := NewCPU()
	const n, in, out = 7, 48, 70
	x := filled(be, "x", ramp(n*in, 0.1), n, in)
	bias := filled(be, "b", ramp(out, 0.5), out)
	ids := []int32{3, 0, 69, 3}
	for _, dt := range []DType{BF16, F16} {
		t.Run(dt.String(), func(t *testing.T) {
			vals := ramp(out*in, 0.03)
			bits := make([]uint16, len(vals))
			half.Narrow(dt.half(), bits, vals)
			w16 := be.New16("w", dt, out, in)
			be.Write16(w16, bits)
			wide := make([]float32, len(vals))
			be.Read(wide, w16)
			w32 := filled(be, "w32", wide, out, in)
			if w16.Bytes() != int64(out*in*2) || w16.DType() != dt || !strings.Contains(w16.String(), dt.String()) {
				t.Fatalf("w16: %d bytes, %v, %q", w16.Bytes(), w16.DType(), w16.String())
			}
			same := func(what string, got, want []float32) {
				t.Helper()
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s: [%d] = %v from 16 bits, %v from float32", what, i, got[i], want[i])
					}
				}
			}
			linear := func(w *Tensor) []float32 {
				y := be.New("y", n, out)
				be.Linear(y, x, w, bias)
				return read(be, y)
			}
			want := linear(w32)
			same("linear", linear(w16), want)
			be.FreezeWeights([]*Tensor{w16})
			same("linear, frozen", linear(w16), want)
			be.ThawWeights([]*Tensor{w16})

			e16, e32 := be.New("e16", len(ids), in), be.New("e32", len(ids), in)
			be.Embedding(e16, w16, ids)
			be.Embedding(e32, w32, ids)
			same("embedding", read(be, e16), read(be, e32))

			// Copy and Mix round into a 16-bit tensor.
			c16 := be.New16("c", dt, out, in)
			be.Copy(c16, w32)
			same("copy float32 → 16", read(be, c16), wide)
			be.Mix(c16, x2(be, w32), 0.5) // 0.5·2w + 0.5·w = 1.5w
			mixed := read(be, c16)
			for i, v := range wide {
				if r := want16(dt, 1.5*v); math.Float32bits(mixed[i]) != math.Float32bits(r) {
					t.Fatalf("mix: [%d] = %v, want %v (1.5·%v rounded)", i, mixed[i], r, v)
				}
			}

			for _, c := range []struct {
				name string
				call func()
			}{
				{"Write", func() { be.Write(w16, wide) }},
				{"Scale", func() { be.Scale(w16, 2) }},
				{"Accumulate", func() { be.Accumulate(w16, w32) }},
				{"RequireGrad", func() { RequireGrad(be, w16) }},
				{"LinearBackward", func() {
					be.LinearBackward(be.New("dx", n, in), nil, nil, be.New("dy", n, out), x, w16)
				}},
			} {
				t.Run(c.name, func(t *testing.T) {
					defer func() {
						r, _ := recover().(string)
						if !strings.Contains(r, "16-bit") {
							t.Fatalf("recovered %q, want a panic naming the 16-bit weight", r)
						}
					}()
					c.call()
				})
			}
			if _, err := NewAdamW(be, []*Tensor{w16}, 1e-3, 0.9, 0.999, 1e-8, 0); err == nil || !strings.Contains(err.Error(), "float32") {
				t.Fatalf("AdamW over a 16-bit weight: err %v, want one that says to load in float32", err)
			}
		})
	}
}

func x2(be Backend, w *Tensor) *Tensor {
	d := read(be, w)
	for i := range d {
		d[i] *= 2
	}
	return filled(be, "2w", d, w.Shape()...)
}

func want16(dt DType, v float32) float32 {
	b := []uint16{0}
	out := []float32{0}
	half.Narrow(dt.half(), b, []float32{v})
	half.Widen(dt.half(), out, b)
	return out[0]
}

// The fused head over a 16-bit weight gives the bits of the same head over
// a float32 weight holding its values, tile by tile and block by block.
func TestHead16MatchesFloat32(t *testing.T) {
	be := NewCPU()
	be.head.floats, be.head.rows = 3*10, 3
	const N, d, V = 11, 8, 37
	h := filled(be, "h", ramp(N*d, 0.3), N, d)
	vals := ramp(V*d, 0.07)
	bits := make([]uint16, len(vals))
	half.Narrow(half.BF16, bits, vals)
	w16 := be.New16("w", BF16, V, d)
	be.Write16(w16, bits)
	wide := make([]float32, len(vals))
	be.Read(wide, w16)
	w32 := filled(be, "w32", wide, V, d)
	targets := []int32{3, -1, 36, 5, 5, 1, 2, 9, 30, 7, 11}
	// All rows, then only the first 30 (a table padded further than the
	// vocabulary compared), read in place from the 16 bits too.
	short := make([]int32, len(targets))
	for i, tg := range targets {
		short[i] = tg
		if tg >= 30 {
			short[i] = -1
		}
	}
	run := func(w *Tensor) []float32 {
		lp, lse, ent := be.New("lp", N), be.New("lse", N), be.New("ent", N)
		be.HeadLogProbs(lp, lse, ent, h, w, w.Dim(0), targets, 1/0.7)
		out := append(append(read(be, lp), read(be, lse)...), read(be, ent)...)
		be.HeadLogProbs(lp, lse, ent, h, w, 30, short, 1/0.7)
		return append(append(append(out, read(be, lp)...), read(be, lse)...), read(be, ent)...)
	}
	want, got := run(w32), run(w16)
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
			t.Fatalf("[%d] = %v from 16 bits, %v from float32", i, got[i], want[i])
		}
	}
}
