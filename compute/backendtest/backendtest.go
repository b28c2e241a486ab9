// Package backendtest is the conformance suite of compute.Backend: Run
// computes every Backend op on a backend under test and on the CPU backend
// from the same random inputs (odd sizes, left padding, ignored targets,
// repeated ids) and fails where they differ past a stated tolerance. A
// backend's own tests call it; it lives apart from compute so that a
// backend package can use it without an import cycle. UnderValidationLayer
// re-runs a package's device tests under Khronos' validation layer; Closes
// counts the closes of a backend's device, for tests on the CPU;
// NeedDevice and DeviceRequired hold the rule of a missing Vulkan device
// (skip, or fail under RLT_REQUIRE_GPU=1) for every package's tests,
// NeedCoopMat that of a device without float16 cooperative matrices (skip,
// or fail under RLT_REQUIRE_COOPMAT=1), and WaitDeadline when a device's
// waits give up in a test (before go test's -timeout).
package backendtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
)

// Tolerance: |got − want| ≤ Abs + Rel·|want| per element. GEMMs and
// reductions may add in another order than the CPU, hence not 0.
type Tolerance struct{ Abs, Rel float64 }

// Default suits float32 kernels whose sums run over at most a few hundred
// terms.
var Default = Tolerance{Abs: 2e-4, Rel: 2e-3}

// pair holds one op's inputs on both backends.
type pair struct {
	t        *testing.T
	cpu, dev compute.Backend
	rng      *rand.Rand
	tol      Tolerance
}

type tt struct{ c, d *compute.Tensor }

func (p *pair) rand(name string, scale float64, dims ...int) tt {
	x := p.cpu.New(name, dims...)
	y := p.dev.New(name, dims...)
	v := make([]float32, x.Len())
	for i := range v {
		v[i] = float32(p.rng.NormFloat64() * scale)
	}
	p.cpu.Write(x, v)
	p.dev.Write(y, v)
	return tt{x, y}
}

func (p *pair) zeros(name string, dims ...int) tt {
	return tt{p.cpu.New(name, dims...), p.dev.New(name, dims...)}
}

func (p *pair) check(what string, x tt) {
	p.t.Helper()
	p.checkTol(what, x, p.tol)
}

func (p *pair) checkTol(what string, x tt, tol Tolerance) {
	p.t.Helper()
	want := make([]float32, x.c.Len())
	got := make([]float32, x.d.Len())
	p.cpu.Read(want, x.c)
	p.dev.Read(got, x.d)
	if err := p.dev.Err(); err != nil {
		p.t.Fatalf("%s: %s: %v", p.dev.Name(), what, err)
	}
	bad := 0
	for i := range want {
		w, g := float64(want[i]), float64(got[i])
		if math.IsNaN(g) || math.Abs(g-w) > tol.Abs+tol.Rel*math.Abs(w) {
			if bad < 3 {
				p.t.Errorf("%s: %s %v element %d: got %g, want %g (cpu)", p.dev.Name(), what, x.c, i, g, w)
			}
			bad++
		}
	}
	if bad > 3 {
		p.t.Errorf("%s: %s: %d of %d elements differ", p.dev.Name(), what, bad, len(want))
	}
}

// to16 rounds x into a new 16-bit tensor of type dt on both backends.
func (p *pair) to16(x tt, dt compute.DType) tt {
	y := tt{p.cpu.New16(x.c.Name, dt, x.c.Shape()...), p.dev.New16(x.d.Name, dt, x.d.Shape()...)}
	p.cpu.Copy(y.c, x.c)
	p.dev.Copy(y.d, x.d)
	return y
}

// normScale is the spread of a fused op's input: 3 where it is normalised,
// so that the norm's 1/rms (about 1/3) is far from 1 and a kernel that
// left it out fails.
func normScale(normed bool) float64 {
	if normed {
		return 3
	}
	return 1
}

// preNorm returns a fused op's norm for x on the device (none unless
// normed) and the rows the CPU's products take: RMSNorm(x) or x.
func (p *pair) preNorm(normed bool, x tt) (compute.PreNorm, *compute.Tensor) {
	if !normed {
		return compute.PreNorm{}, x.c
	}
	n, in := x.c.Shape()[0], x.c.Shape()[1]
	w := p.rand("norm", 0.5, in)
	const eps = 1e-6
	xn, rstd := p.cpu.New("xn", n, in), p.cpu.New("rstd", n)
	p.cpu.RMSNorm(xn, rstd, x.c, w.c, eps)
	return compute.PreNorm{W: w.d, Eps: eps}, xn
}

func (p *pair) ids(n, limit int) []int32 {
	ids := make([]int32, n)
	for i := range ids {
		ids[i] = int32(p.rng.IntN(limit))
	}
	return ids
}

// Run runs the suite on the backend newBackend returns (one fresh backend
// per case) against compute.NewCPU.
func Run(t *testing.T, newBackend func(t *testing.T) compute.Backend) {
	RunWithin(t, Default, newBackend)
}

// RunWithin runs the suite with tol in place of Default, for a backend
// whose products round their operands (tensor cores in float16); the
// checks that hold exactly (copies, conversions, elementwise ops) stay
// exact.
func RunWithin(t *testing.T, tol Tolerance, newBackend func(t *testing.T) compute.Backend) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for seed := uint64(1); seed <= 2; seed++ {
				p := &pair{t: t, cpu: compute.NewCPU(), dev: newBackend(t), rng: rand.New(rand.NewPCG(seed, 11)), tol: tol}
				c.run(p)
				if t.Failed() {
					return
				}
			}
		})
	}
}

type testCase struct {
	name string
	run  func(p *pair)
}

// odd returns a random size in [lo, hi], mostly not a multiple of anything.
func (p *pair) odd(lo, hi int) int { return lo + p.rng.IntN(hi-lo+1) }

var cases = []testCase{
	{"WriteReadZeroCopy", func(p *pair) {
		n := p.odd(1, 300)
		a, b := p.rand("a", 1, n), p.zeros("b", n)
		p.check("write", a)
		p.cpu.Copy(b.c, a.c)
		p.dev.Copy(b.d, a.d)
		p.check("copy", b)
		p.cpu.Zero(a.c)
		p.dev.Zero(a.d)
		p.check("zero", a)
	}},
	{"Embedding", func(p *pair) {
		V, d, n := p.odd(3, 40), p.odd(1, 70), p.odd(1, 30)
		table, out := p.rand("table", 1, V, d), p.zeros("out", n, d)
		ids := p.ids(n, V)
		ids = append(ids[:n-1], ids[0]) // a repeated id
		p.cpu.Embedding(out.c, table.c, ids)
		p.dev.Embedding(out.d, table.d, ids)
		p.check("embedding", out)
		dt, dout := p.rand("dtable", 1, V, d), p.rand("dout", 1, n, d)
		p.cpu.EmbeddingBackward(dt.c, dout.c, ids)
		p.dev.EmbeddingBackward(dt.d, dout.d, ids)
		p.check("embedding backward", dt)
	}},
	{"GatherScatterRows", func(p *pair) {
		R, d, n := p.odd(2, 30), p.odd(1, 50), p.odd(1, 20)
		x, out := p.rand("x", 1, R, d), p.zeros("out", n, d)
		rows := p.ids(n, R)
		p.cpu.GatherRows(out.c, x.c, rows)
		p.dev.GatherRows(out.d, x.d, rows)
		p.check("gather", out)
		dx, dout := p.rand("dx", 1, R, d), p.rand("dout", 1, n, d)
		p.cpu.ScatterRowsBackward(dx.c, dout.c, rows)
		p.dev.ScatterRowsBackward(dx.d, dout.d, rows)
		p.check("scatter", dx)
	}},
	{"RMSNorm", func(p *pair) {
		n, d := p.odd(1, 20), p.odd(1, 200)
		x, w := p.rand("x", 2, n, d), p.rand("w", 1, d)
		y, rstd := p.zeros("y", n, d), p.zeros("rstd", n)
		p.cpu.RMSNorm(y.c, rstd.c, x.c, w.c, 1e-6)
		p.dev.RMSNorm(y.d, rstd.d, x.d, w.d, 1e-6)
		p.check("rmsnorm", y)
		p.check("rmsnorm rstd", rstd)
		dx, dw, dy := p.rand("dx", 1, n, d), p.rand("dw", 1, d), p.rand("dy", 1, n, d)
		p.cpu.RMSNormBackward(dx.c, dw.c, dy.c, x.c, w.c, rstd.c)
		p.dev.RMSNormBackward(dx.d, dw.d, dy.d, x.d, w.d, rstd.d)
		p.check("rmsnorm dx", dx)
		p.check("rmsnorm dw", dw)
	}},
	{"Linear", func(p *pair) {
		n, in, out := p.odd(1, 40), p.odd(1, 90), p.odd(1, 70)
		x, w, bias := p.rand("x", 1, n, in), p.rand("w", 0.3, out, in), p.rand("bias", 1, out)
		for _, withBias := range []bool{false, true} {
			y := p.zeros("y", n, out)
			bc, bd := bias.c, bias.d
			if !withBias {
				bc, bd = nil, nil
			}
			p.cpu.Linear(y.c, x.c, w.c, bc)
			p.dev.Linear(y.d, x.d, w.d, bd)
			p.check(fmt.Sprintf("linear (bias %v)", withBias), y)
		}
		acc := p.rand("acc", 1, n, out)
		p.cpu.LinearAdd(acc.c, x.c, w.c)
		p.dev.LinearAdd(acc.d, x.d, w.d)
		p.check("linear add", acc)
		dy := p.rand("dy", 1, n, out)
		dx, dw, db := p.rand("dx", 1, n, in), p.rand("dw", 1, out, in), p.rand("db", 1, out)
		p.cpu.LinearBackward(dx.c, dw.c, db.c, dy.c, x.c, w.c)
		p.dev.LinearBackward(dx.d, dw.d, db.d, dy.d, x.d, w.d)
		p.check("linear dx", dx)
		p.check("linear dw", dw)
		p.check("linear dbias", db)
		dx2 := p.zeros("dx2", n, in)
		p.cpu.LinearBackward(dx2.c, nil, nil, dy.c, x.c, w.c)
		p.dev.LinearBackward(dx2.d, nil, nil, dy.d, x.d, w.d)
		p.check("linear dx only", dx2)
	}},
	{"GatedLinear", func(p *pair) {
		gl, ok := p.dev.(compute.GatedLinearer)
		if !ok {
			return // composed of RMSNorm, Linear and SwiGLU, checked above and below
		}
		for _, dt := range []compute.DType{compute.F32, compute.BF16, compute.F16} {
			for _, normed := range []bool{false, true} {
				n, in, out := p.odd(1, 16), p.odd(1, 90), p.odd(1, 70)
				if !gl.CanGate(n, dt) {
					continue
				}
				x := p.rand("x", normScale(normed), n, in)
				gate, up := p.rand("gate", 0.3, out, in), p.rand("up", 0.3, out, in)
				if dt.Is16() {
					gate, up = p.to16(gate, dt), p.to16(up, dt)
				}
				norm, xn := p.preNorm(normed, x)
				g, u, h := p.zeros("g", n, out), p.zeros("u", n, out), p.zeros("h", n, out)
				p.cpu.Linear(g.c, xn, gate.c, nil)
				p.cpu.Linear(u.c, xn, up.c, nil)
				p.cpu.SwiGLU(h.c, g.c, u.c)
				gl.GatedLinear(h.d, x.d, norm, gate.d, up.d)
				p.check(fmt.Sprintf("%v gated linear (norm %v)", dt, normed), h)
			}
		}
	}},
	{"Linear3", func(p *pair) {
		l3, ok := p.dev.(compute.Linear3er)
		if !ok {
			return // RMSNorm and three Linear calls, checked above
		}
		for _, dt := range []compute.DType{compute.F32, compute.BF16, compute.F16} {
			for _, normed := range []bool{false, true} {
				n, in := p.odd(1, 16), p.odd(1, 90)
				if !l3.CanLinear3(n, dt) {
					continue
				}
				x := p.rand("x", normScale(normed), n, in)
				norm, xn := p.preNorm(normed, x)
				var w, bias, y [3]tt
				for i := range w {
					out := p.odd(1, 70)
					w[i], bias[i], y[i] = p.rand("w", 0.3, out, in), p.rand("bias", 1, out), p.zeros("y", n, out)
					if dt.Is16() {
						w[i] = p.to16(w[i], dt)
					}
				}
				var wd, bd, yd [3]*compute.Tensor
				for i := range w {
					bc := bias[i].c
					bd[i] = bias[i].d
					if i == 1 { // one product without a bias
						bc, bd[i] = nil, nil
					}
					p.cpu.Linear(y[i].c, xn, w[i].c, bc)
					wd[i], yd[i] = w[i].d, y[i].d
				}
				l3.Linear3(yd, x.d, norm, wd, bd)
				for i := range y {
					p.check(fmt.Sprintf("%v linear3 output %d (norm %v)", dt, i, normed), y[i])
				}
			}
		}
	}},
	{"FrozenLinear", func(p *pair) {
		n, in, out := p.odd(1, 9), p.odd(1, 90), p.odd(1, 70)
		x, w := p.rand("x", 1, n, in), p.rand("w", 0.3, out, in)
		p.cpu.FreezeWeights([]*compute.Tensor{w.c})
		p.dev.FreezeWeights([]*compute.Tensor{w.d})
		y := p.zeros("y", n, out)
		p.cpu.Linear(y.c, x.c, w.c, nil)
		p.dev.Linear(y.d, x.d, w.d, nil)
		p.check("frozen linear", y)
		p.cpu.LinearAdd(y.c, x.c, w.c)
		p.dev.LinearAdd(y.d, x.d, w.d)
		p.check("frozen linear add", y)
		p.cpu.ThawWeights([]*compute.Tensor{w.c})
		p.dev.ThawWeights([]*compute.Tensor{w.d})
		p.cpu.Scale(w.c, 0.5)
		p.dev.Scale(w.d, 0.5)
		p.check("thawed weight", w)
	}},
	{"Frozen16", func(p *pair) {
		for _, dt := range []compute.DType{compute.BF16, compute.F16} {
			V, in, n := p.odd(2, 40), p.odd(1, 60), p.odd(1, 20)
			w := tt{p.cpu.New16("w16", dt, V, in), p.dev.New16("w16", dt, V, in)}
			bits := make([]uint16, V*in)
			f := p.rand("f", 0.3, V, in)
			p.cpu.Copy(w.c, f.c) // rounds to the type
			p.dev.Copy(w.d, f.d)
			p.checkTol(dt.String()+" copy into 16 bits", w, Tolerance{}) // both round as compute/half does
			if w.d.DType() != dt {
				p.t.Errorf("%s: New16 tensor reports %v, want %v", p.dev.Name(), w.d.DType(), dt)
			}
			for i := range bits { // the CPU's bits, written to both
				bits[i] = uint16(p.rng.IntN(1 << 14))
			}
			p.cpu.Write16(w.c, bits)
			p.dev.Write16(w.d, bits)
			p.checkTol(dt.String()+" write16", w, Tolerance{})
			x, y := p.rand("x", 1, n, in), p.zeros("y", n, V)
			p.cpu.Linear(y.c, x.c, w.c, nil)
			p.dev.Linear(y.d, x.d, w.d, nil)
			p.check(dt.String()+" linear", y)
			p.cpu.LinearAdd(y.c, x.c, w.c)
			p.dev.LinearAdd(y.d, x.d, w.d)
			p.check(dt.String()+" linear add", y)
			ids := p.ids(n, V)
			e := p.zeros("e", n, in)
			p.cpu.Embedding(e.c, w.c, ids)
			p.dev.Embedding(e.d, w.d, ids)
			p.check(dt.String()+" embedding", e)
			g := p.rand("g", 0.3, V, in)
			p.cpu.Mix(w.c, g.c, 0.3)
			p.dev.Mix(w.d, g.d, 0.3)
			// Mixed in float32 with two roundings (no fused multiply-add) and
			// rounded as compute/half does: exact.
			p.checkTol(dt.String()+" mix into 16 bits", w, Tolerance{})
			o := p.rand("o", 1, V, in)
			p.cpu.Mix(o.c, w.c, 0.6)
			p.dev.Mix(o.d, w.d, 0.6)
			p.checkTol(dt.String()+" mix of 16 bits into float32", o, Tolerance{})
			p.cpu.Copy(o.c, w.c)
			p.dev.Copy(o.d, w.d)
			p.checkTol(dt.String()+" copy out of 16 bits", o, Tolerance{})
			other := compute.BF16
			if dt == compute.BF16 {
				other = compute.F16
			}
			w2 := tt{p.cpu.New16("w16b", other, V, in), p.dev.New16("w16b", other, V, in)}
			p.cpu.Copy(w2.c, w.c)
			p.dev.Copy(w2.d, w.d)
			p.checkTol(dt.String()+" copy into "+other.String(), w2, Tolerance{})
			p.cpu.Mix(w2.c, w.c, 0.3)
			p.dev.Mix(w2.d, w.d, 0.3)
			p.checkTol(dt.String()+" mix into "+other.String(), w2, Tolerance{})
		}
	}},
	{"MatMul", func(p *pair) {
		m, k, n := p.odd(1, 30), p.odd(1, 50), p.odd(1, 40)
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				ad, bd := []int{m, k}, []int{k, n}
				if ta {
					ad = []int{k, m}
				}
				if tb {
					bd = []int{n, k}
				}
				a, b, c := p.rand("a", 1, ad...), p.rand("b", 1, bd...), p.rand("c", 1, m, n)
				p.cpu.MatMul(c.c, a.c, b.c, ta, tb, 0.7, 0.5)
				p.dev.MatMul(c.d, a.d, b.d, ta, tb, 0.7, 0.5)
				p.check(fmt.Sprintf("matmul transA %v transB %v", ta, tb), c)
			}
		}
	}},
	{"RoPE", func(p *pair) {
		heads, hd, n := p.odd(1, 4), 2*p.odd(1, 12), p.odd(1, 20)
		maxPos := p.odd(n, 64)
		tc, td := p.cpu.NewRoPETable(maxPos, hd, 10000), p.dev.NewRoPETable(maxPos, hd, 10000)
		p.check("rope cos", tt{tc.Cos, td.Cos})
		p.check("rope sin", tt{tc.Sin, td.Sin})
		x, out := p.rand("x", 1, n, heads*hd), p.zeros("out", n, heads*hd)
		pos := p.ids(n, maxPos)
		p.cpu.RoPE(out.c, x.c, pos, tc, heads)
		p.dev.RoPE(out.d, x.d, pos, td, heads)
		p.check("rope", out)
		dx := p.rand("dx", 1, n, heads*hd)
		p.cpu.RoPEBackward(dx.c, out.c, pos, tc, heads)
		p.dev.RoPEBackward(dx.d, out.d, pos, td, heads)
		p.check("rope backward", dx)
	}},
	{"Attention", func(p *pair) {
		kv := p.odd(1, 2)
		a := compute.AttnDims{B: p.odd(1, 3), T: p.odd(1, 13), KV: kv, H: kv * p.odd(1, 3), HeadDim: p.odd(1, 9) * 2}
		var kStart []int32
		if p.rng.IntN(2) == 0 {
			kStart = make([]int32, a.B)
			for b := range kStart {
				kStart[b] = int32(p.rng.IntN(a.T))
			}
		}
		q := p.rand("q", 1, a.B*a.T, a.H*a.HeadDim)
		k, v := p.rand("k", 1, a.B*a.T, a.KV*a.HeadDim), p.rand("v", 1, a.B*a.T, a.KV*a.HeadDim)
		out, lse := p.zeros("out", a.B*a.T, a.H*a.HeadDim), p.zeros("lse", a.B*a.H*a.T)
		p.cpu.Attention(out.c, lse.c, q.c, k.c, v.c, a, kStart)
		p.dev.Attention(out.d, lse.d, q.d, k.d, v.d, a, kStart)
		p.check("attention", out)
		p.check("attention lse", lse)
		dout := p.rand("dout", 1, a.B*a.T, a.H*a.HeadDim)
		dq, dk, dv := p.rand("dq", 1, q.c.Shape()...), p.rand("dk", 1, k.c.Shape()...), p.rand("dv", 1, v.c.Shape()...)
		p.cpu.AttentionBackward(dq.c, dk.c, dv.c, dout.c, out.c, lse.c, q.c, k.c, v.c, a, kStart)
		p.dev.AttentionBackward(dq.d, dk.d, dv.d, dout.d, out.d, lse.d, q.d, k.d, v.d, a, kStart)
		p.check("attention dq", dq)
		p.check("attention dk", dk)
		p.check("attention dv", dv)
	}},
	{"CachedAttention", func(p *pair) {
		kv := p.odd(1, 2)
		a := compute.AttnDims{B: p.odd(1, 3), T: p.odd(1, 4), KV: kv, H: kv * p.odd(1, 3), HeadDim: p.odd(1, 8) * 2}
		past := p.odd(0, 7)
		maxLen := past + a.T + p.odd(0, 3)
		kc, vc := p.rand("kcache", 1, a.B, a.KV, maxLen, a.HeadDim), p.rand("vcache", 1, a.B, a.KV, maxLen, a.HeadDim)
		k, v := p.rand("k", 1, a.B*a.T, a.KV*a.HeadDim), p.rand("v", 1, a.B*a.T, a.KV*a.HeadDim)
		p.cpu.CacheWrite(kc.c, vc.c, k.c, v.c, a, maxLen, past)
		p.dev.CacheWrite(kc.d, vc.d, k.d, v.d, a, maxLen, past)
		p.check("cache write of keys", kc)
		p.check("cache write of values", vc)
		kStart := make([]int32, a.B)
		for b := range kStart {
			kStart[b] = int32(p.rng.IntN(past + 1))
		}
		q, out := p.rand("q", 1, a.B*a.T, a.H*a.HeadDim), p.zeros("out", a.B*a.T, a.H*a.HeadDim)
		p.cpu.AttentionDecode(out.c, q.c, kc.c, vc.c, a, maxLen, past, kStart)
		p.dev.AttentionDecode(out.d, q.d, kc.d, vc.d, a, maxLen, past, kStart)
		p.check("attention decode", out)
	}},
	{"RotaryCacheWrite", func(p *pair) {
		rw, ok := p.dev.(compute.RotaryCacheWriter)
		if !ok || !rw.CanRotaryCacheWrite() {
			return // RoPE and CacheWrite, checked on their own
		}
		kv := p.odd(1, 2)
		a := compute.AttnDims{B: p.odd(1, 3), T: p.odd(1, 4), KV: kv, H: kv * p.odd(1, 3), HeadDim: p.odd(1, 8) * 2}
		past := p.odd(0, 7)
		maxLen := past + a.T + p.odd(0, 3)
		maxPos := maxLen + 2
		tc, td := p.cpu.NewRoPETable(maxPos, a.HeadDim, 10000), p.dev.NewRoPETable(maxPos, a.HeadDim, 10000)
		rows := a.B * a.T
		pos := p.ids(rows, maxPos)
		kc, vc := p.rand("kcache", 1, a.B, a.KV, maxLen, a.HeadDim), p.rand("vcache", 1, a.B, a.KV, maxLen, a.HeadDim)
		q, k, v := p.rand("q", 1, rows, a.H*a.HeadDim), p.rand("k", 1, rows, a.KV*a.HeadDim), p.rand("v", 1, rows, a.KV*a.HeadDim)
		qr, kr := p.zeros("qr", rows, a.H*a.HeadDim), p.cpu.New("kr", rows, a.KV*a.HeadDim)
		p.cpu.RoPE(qr.c, q.c, pos, tc, a.H)
		p.cpu.RoPE(kr, k.c, pos, tc, a.KV)
		p.cpu.CacheWrite(kc.c, vc.c, kr, v.c, a, maxLen, past)
		rw.RotaryCacheWrite(qr.d, kc.d, vc.d, q.d, k.d, v.d, pos, td, a, maxLen, past)
		p.check("rotated queries", qr)
		p.check("rotated keys in the cache", kc)
		p.checkTol("values in the cache", vc, Tolerance{})
		p.checkTol("keys left as they were", k, Tolerance{})
	}},
	{"Elementwise", func(p *pair) {
		n := p.odd(1, 500)
		a, b := p.rand("a", 1, n), p.rand("b", 1, n)
		h := p.zeros("h", n)
		p.cpu.SwiGLU(h.c, a.c, b.c)
		p.dev.SwiGLU(h.d, a.d, b.d)
		p.check("swiglu", h)
		dg, du, dh := p.rand("dgate", 1, n), p.rand("dup", 1, n), p.rand("dh", 1, n)
		p.cpu.SwiGLUBackward(dg.c, du.c, dh.c, a.c, b.c)
		p.dev.SwiGLUBackward(dg.d, du.d, dh.d, a.d, b.d)
		p.check("swiglu dgate", dg)
		p.check("swiglu dup", du)
		// One rounding each (Mix two, never fused), so every backend
		// agrees with the CPU to the bit.
		exact := Tolerance{}
		p.cpu.Add(h.c, a.c, b.c)
		p.dev.Add(h.d, a.d, b.d)
		p.checkTol("add", h, exact)
		p.cpu.Add(a.c, a.c, b.c)
		p.dev.Add(a.d, a.d, b.d)
		p.checkTol("add in place", a, exact)
		p.cpu.Accumulate(h.c, b.c)
		p.dev.Accumulate(h.d, b.d)
		p.checkTol("accumulate", h, exact)
		p.cpu.Scale(h.c, -1.5)
		p.dev.Scale(h.d, -1.5)
		p.checkTol("scale", h, exact)
		p.cpu.Mix(h.c, b.c, 0.3)
		p.dev.Mix(h.d, b.d, 0.3)
		p.checkTol("mix", h, exact)
	}},
	{"TokenLogProbs", func(p *pair) {
		n, V := p.odd(1, 20), p.odd(2, 300)
		logits := p.rand("logits", 3, n, V)
		targets := p.ids(n, V)
		targets[p.rng.IntN(n)] = -1
		lp, lse := p.zeros("lp", n), p.zeros("lse", n)
		p.cpu.TokenLogProbs(lp.c, lse.c, logits.c, targets, 0.8)
		p.dev.TokenLogProbs(lp.d, lse.d, logits.d, targets, 0.8)
		p.check("token log-probs", lp)
		p.check("token log-probs lse", lse)
		glp, dl := p.rand("glp", 1, n), p.rand("dlogits", 1, n, V)
		p.cpu.TokenLogProbsBackward(dl.c, glp.c, logits.c, lse.c, targets, 0.8)
		p.dev.TokenLogProbsBackward(dl.d, glp.d, logits.d, lse.d, targets, 0.8)
		p.check("token log-probs backward", dl)
	}},
	{"KLEntropy", func(p *pair) {
		n, V := p.odd(1, 20), p.odd(2, 300)
		a, b := p.rand("p", 3, n, V), p.rand("q", 3, n, V)
		kl, ent := p.zeros("kl", n), p.zeros("ent", n)
		p.cpu.KL(kl.c, a.c, b.c, 0.9)
		p.dev.KL(kl.d, a.d, b.d, 0.9)
		p.check("kl", kl)
		p.cpu.Entropy(ent.c, a.c, 0.9)
		p.dev.Entropy(ent.d, a.d, 0.9)
		p.check("entropy", ent)
	}},
	{"Head", func(p *pair) {
		n, d, V := p.odd(1, 40), p.odd(1, 40), p.odd(2, 300)
		pad := p.odd(0, 5) // a table padded past the vocabulary
		h, w := p.rand("h", 1, n, d), p.rand("w", 0.5, V+pad, d)
		targets := p.ids(n, V)
		targets[p.rng.IntN(n)] = -1
		lp, lse, ent := p.zeros("lp", n), p.zeros("lse", n), p.zeros("ent", n)
		p.cpu.HeadLogProbs(lp.c, lse.c, ent.c, h.c, w.c, V, targets, 0.7)
		p.dev.HeadLogProbs(lp.d, lse.d, ent.d, h.d, w.d, V, targets, 0.7)
		p.check("head log-probs", lp)
		p.check("head lse", lse)
		p.check("head entropy", ent)
		p.cpu.HeadLogProbs(lp.c, lse.c, nil, h.c, w.c, V, targets, 1)
		p.dev.HeadLogProbs(lp.d, lse.d, nil, h.d, w.d, V, targets, 1)
		p.check("head log-probs without entropy", lp)
		glp := p.rand("glp", 1, n)
		dh, dw := p.rand("dh", 1, n, d), p.rand("dw", 1, V+pad, d)
		p.cpu.HeadLogProbsBackward(dh.c, dw.c, glp.c, h.c, w.c, lse.c, V, targets, 1)
		p.dev.HeadLogProbsBackward(dh.d, dw.d, glp.d, h.d, w.d, lse.d, V, targets, 1)
		p.check("head dh", dh)
		p.check("head dw", dw)
		dh2 := p.zeros("dh2", n, d)
		p.cpu.HeadLogProbsBackward(dh2.c, nil, glp.c, h.c, w.c, lse.c, V, targets, 1)
		p.dev.HeadLogProbsBackward(dh2.d, nil, glp.d, h.d, w.d, lse.d, V, targets, 1)
		p.check("head dh only", dh2)
		dq := p.odd(1, 30)
		hq, wq := p.rand("hq", 1, n, dq), p.rand("wq", 0.5, V+pad, dq)
		kl := p.zeros("kl", n)
		p.cpu.HeadKL(kl.c, h.c, w.c, hq.c, wq.c, V, 0.9)
		p.dev.HeadKL(kl.d, h.d, w.d, hq.d, wq.d, V, 0.9)
		p.check("head kl", kl)
	}},
	{"Head16", func(p *pair) { // the fused head over a frozen 16-bit table (a tied embedding)
		for _, dt := range []compute.DType{compute.BF16, compute.F16} {
			n, d, V := p.odd(1, 40), p.odd(1, 40), p.odd(2, 300)
			pad := p.odd(0, 5)
			f, fq := p.rand("f", 0.5, V+pad, d), p.rand("fq", 0.5, V+pad, d)
			w := tt{p.cpu.New16("w16", dt, V+pad, d), p.dev.New16("w16", dt, V+pad, d)}
			wq := tt{p.cpu.New16("wq16", dt, V+pad, d), p.dev.New16("wq16", dt, V+pad, d)}
			p.cpu.Copy(w.c, f.c)
			p.dev.Copy(w.d, f.d)
			p.cpu.Copy(wq.c, fq.c)
			p.dev.Copy(wq.d, fq.d)
			h, hq := p.rand("h", 1, n, d), p.rand("hq", 1, n, d)
			targets := p.ids(n, V)
			targets[p.rng.IntN(n)] = -1
			lp, lse, ent := p.zeros("lp", n), p.zeros("lse", n), p.zeros("ent", n)
			p.cpu.HeadLogProbs(lp.c, lse.c, ent.c, h.c, w.c, V, targets, 0.7)
			p.dev.HeadLogProbs(lp.d, lse.d, ent.d, h.d, w.d, V, targets, 0.7)
			p.check(dt.String()+" head log-probs", lp)
			p.check(dt.String()+" head lse", lse)
			p.check(dt.String()+" head entropy", ent)
			kl := p.zeros("kl", n)
			p.cpu.HeadKL(kl.c, h.c, w.c, hq.c, wq.c, V, 0.9)
			p.dev.HeadKL(kl.d, h.d, w.d, hq.d, wq.d, V, 0.9)
			p.check(dt.String()+" head kl", kl)
			p.cpu.HeadKL(kl.c, h.c, w.c, hq.c, f.c, V, 0.9) // a 16-bit teacher against a float32 student
			p.dev.HeadKL(kl.d, h.d, w.d, hq.d, f.d, V, 0.9)
			p.check(dt.String()+" head kl, 16-bit against float32", kl)
		}
	}},
	{"Reductions", func(p *pair) {
		rows, V := p.odd(1, 20), p.odd(1, 300)
		x := p.rand("x", 1, rows, V)
		want, got := make([]int32, rows), make([]int32, rows)
		p.cpu.Argmax(want, x.c)
		p.dev.Argmax(got, x.d)
		for i := range want {
			if want[i] != got[i] {
				p.t.Errorf("%s: argmax row %d: got %d, want %d", p.dev.Name(), i, got[i], want[i])
			}
		}
		sw, sg := p.cpu.SumSquares(x.c), p.dev.SumSquares(x.d)
		if math.Abs(sw-sg) > 1e-5*math.Abs(sw)+1e-6 {
			p.t.Errorf("%s: sum of squares %g, want %g", p.dev.Name(), sg, sw)
		}
		// Several tensors at once, one of them empty and one not finite:
		// each as SumSquares gives it on the same backend.
		y, e, z := p.rand("y", 3, p.odd(1, 5000)), p.zeros("empty", 0), p.rand("z", 1, p.odd(1, 50))
		zv := make([]float32, z.c.Len())
		zv[p.rng.IntN(len(zv))] = float32(math.Inf(1))
		p.dev.Write(z.d, zv)
		p.cpu.Write(z.c, zv)
		each := func(be compute.Backend, ts ...*compute.Tensor) []float64 {
			sums := make([]float64, len(ts))
			be.SumSquaresEach(ts, sums)
			return sums
		}
		wantEach, gotEach := each(p.cpu, x.c, y.c, e.c, z.c), each(p.dev, x.d, y.d, e.d, z.d)
		for i, d := range []*compute.Tensor{x.d, y.d, e.d, z.d} {
			if one := p.dev.SumSquares(d); math.Float64bits(one) != math.Float64bits(gotEach[i]) {
				p.t.Errorf("%s: SumSquaresEach[%d] = %g, SumSquares %g", p.dev.Name(), i, gotEach[i], one)
			}
			w, g := wantEach[i], gotEach[i]
			if math.IsInf(w, 1) != math.IsInf(g, 1) || !math.IsInf(w, 0) && math.Abs(w-g) > 1e-5*math.Abs(w)+1e-6 {
				p.t.Errorf("%s: SumSquaresEach[%d] = %g, want %g", p.dev.Name(), i, g, w)
			}
		}
		// A NaN or −Inf anywhere is how a step finds a gradient not finite
		// (compute.ClipGradNorm): the sum says so.
		for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(-1))} {
			v := make([]float32, x.c.Len())
			v[p.rng.IntN(len(v))] = bad
			p.dev.Write(x.d, v)
			if s := each(p.dev, y.d, x.d)[1]; !math.IsNaN(s) && !math.IsInf(s, 1) {
				p.t.Errorf("%s: SumSquaresEach = %g with a %g in the tensor, want NaN or +Inf", p.dev.Name(), s, bad)
			}
		}
	}},
	{"AdamW", func(p *pair) {
		n := p.odd(1, 400)
		w, g := p.rand("p", 1, n), p.rand("g", 1, n)
		m, v := p.rand("m", 0.1, n), p.zeros("v", n)
		sq := make([]float32, n)
		for i := range sq { // a second moment is not negative
			sq[i] = float32(p.rng.Float64() * 0.01)
		}
		p.cpu.Write(v.c, sq)
		p.dev.Write(v.d, sq)
		s := compute.AdamWStep{LR: 1e-2, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.1, BC1: 0.19, BC2: 0.002}
		p.cpu.AdamW(w.c, g.c, m.c, v.c, s)
		p.dev.AdamW(w.d, g.d, m.d, v.d, s)
		p.check("adamw p", w)
		p.check("adamw m", m)
		p.check("adamw v", v)
	}},
}
