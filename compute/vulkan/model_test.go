package vulkan

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
)

// ops are the methods a training step of the test model uses; both
// *compute.CPU (T = *compute.Tensor) and *Device (T = *Tensor) have them.
type ops[T any] interface {
	Zero(t T)
	Embedding(out, table T, ids []int32)
	EmbeddingBackward(dTable, dOut T, ids []int32)
	RMSNorm(y, rstd, x, w T, eps float32)
	RMSNormBackward(dx, dw, dy, x, w, rstd T)
	Linear(y, x, w, bias T)
	LinearBackward(dx, dw, dbias, dy, x, w T)
	SwiGLU(h, gate, up T)
	SwiGLUBackward(dGate, dUp, dh, gate, up T)
	Add(out, a, b T)
	Accumulate(dst, src T)
	TokenLogProbs(lp, lse, logits T, targets []int32, invTemp float32)
	TokenLogProbsBackward(dlogits, glp, logits, lse T, targets []int32, invTemp float32)
	AdamW(p, g, m, v T, s compute.AdamWStep)
}

// mlpLM is a one-block language model without attention: embedding,
// RMSNorm, a SwiGLU MLP with a residual, RMSNorm, and a biased LM head,
// trained by AdamW on the log-likelihood of the next token.
type mlpLM[T any] struct {
	o                                         ops[T]
	table, n1, wg, wu, wd, n2, lm, lmb        T
	params, grads, m, v                       []T
	x, h, r1, g, u, a, r, z, r2, logits, lp   T
	lse, glp                                  T
	dx, dh, dg, du, da, dr, dz, dlogits, dtmp T
}

func newMLPLM[T any](o ops[T], mk func(name string, dims ...int) T, write func(T, []float32), n, d, f, v int, seed int64) *mlpLM[T] {
	m := &mlpLM[T]{o: o}
	rng := rand.New(rand.NewSource(seed))
	param := func(name string, scale float64, dims ...int) T {
		t := mk(name, dims...)
		vals := make([]float32, prod(dims))
		for i := range vals {
			vals[i] = float32(scale * rng.NormFloat64())
		}
		if name == "n1" || name == "n2" {
			for i := range vals {
				vals[i] += 1
			}
		}
		write(t, vals)
		m.params = append(m.params, t)
		m.grads = append(m.grads, mk(name+".grad", dims...))
		m.m = append(m.m, mk(name+".m", dims...))
		m.v = append(m.v, mk(name+".v", dims...))
		return t
	}
	m.table = param("table", 0.5, v, d)
	m.n1 = param("n1", 0.1, d)
	m.wg = param("wg", 0.3, f, d)
	m.wu = param("wu", 0.3, f, d)
	m.wd = param("wd", 0.3, d, f)
	m.n2 = param("n2", 0.1, d)
	m.lm = param("lm", 0.3, v, d)
	m.lmb = param("lmb", 0.1, v)
	m.x, m.h, m.r, m.z, m.dx, m.dh, m.dr, m.dz, m.dtmp = mk("x", n, d), mk("h", n, d), mk("r", n, d), mk("z", n, d),
		mk("dx", n, d), mk("dh", n, d), mk("dr", n, d), mk("dz", n, d), mk("dtmp", n, d)
	m.g, m.u, m.a, m.dg, m.du, m.da = mk("g", n, f), mk("u", n, f), mk("a", n, f), mk("dg", n, f), mk("du", n, f), mk("da", n, f)
	m.r1, m.r2, m.lp, m.lse, m.glp = mk("r1", n), mk("r2", n), mk("lp", n), mk("lse", n), mk("glp", n)
	m.logits, m.dlogits = mk("logits", n, v), mk("dlogits", n, v)
	ones := make([]float32, n)
	for i := range ones {
		ones[i] = -1 // d(−Σ lp)/d lp
	}
	write(m.glp, ones)
	return m
}

// step runs forward, backward and one AdamW update; lp holds the
// log-probabilities of the forward pass afterwards.
func (m *mlpLM[T]) step(ids, targets []int32, s compute.AdamWStep) {
	o := m.o
	var none T
	o.Embedding(m.x, m.table, ids)
	o.RMSNorm(m.h, m.r1, m.x, m.n1, 1e-6)
	o.Linear(m.g, m.h, m.wg, none)
	o.Linear(m.u, m.h, m.wu, none)
	o.SwiGLU(m.a, m.g, m.u)
	o.Linear(m.r, m.a, m.wd, none)
	o.Add(m.r, m.r, m.x)
	o.RMSNorm(m.z, m.r2, m.r, m.n2, 1e-6)
	o.Linear(m.logits, m.z, m.lm, m.lmb)
	o.TokenLogProbs(m.lp, m.lse, m.logits, targets, 1)

	for _, t := range append(m.grads, m.dx, m.dh, m.dr, m.dz, m.dg, m.du, m.da, m.dlogits, m.dtmp) {
		o.Zero(t)
	}
	gr := func(p T) T {
		for i, q := range m.params {
			if any(q) == any(p) {
				return m.grads[i]
			}
		}
		panic("no gradient")
	}
	o.TokenLogProbsBackward(m.dlogits, m.glp, m.logits, m.lse, targets, 1)
	o.LinearBackward(m.dz, gr(m.lm), gr(m.lmb), m.dlogits, m.z, m.lm)
	o.RMSNormBackward(m.dr, gr(m.n2), m.dz, m.r, m.n2, m.r2)
	o.Accumulate(m.dx, m.dr) // the residual
	o.LinearBackward(m.da, gr(m.wd), none, m.dr, m.a, m.wd)
	o.SwiGLUBackward(m.dg, m.du, m.da, m.g, m.u)
	o.LinearBackward(m.dh, gr(m.wg), none, m.dg, m.h, m.wg)
	o.LinearBackward(m.dh, gr(m.wu), none, m.du, m.h, m.wu)
	o.RMSNormBackward(m.dx, gr(m.n1), m.dh, m.x, m.n1, m.r1)
	o.EmbeddingBackward(gr(m.table), m.dx, ids)
	for i := range m.params {
		o.AdamW(m.params[i], m.grads[i], m.m[i], m.v[i], s)
	}
}

// TestTrainingSteps runs three training steps of mlpLM on the CPU backend
// and on the device from the same weights: every op composes within one
// batch, each step costs the device one submission (the read of its
// log-probabilities), and log-probabilities and weights stay equal within
// float32 tolerance.
func TestTrainingSteps(t *testing.T) {
	d := openOrSkip(t)
	const n, dim, ff, vocab = 23, 37, 61, 53
	cpu := compute.NewCPU()
	cm := newMLPLM[*compute.Tensor](cpu, cpu.New, cpu.Write, n, dim, ff, vocab, 1)
	var allocErr error
	var made []*Tensor
	mk := func(name string, dims ...int) *Tensor {
		x, err := d.New(name, dims...)
		if err != nil && allocErr == nil {
			allocErr = err
		}
		made = append(made, x)
		return x
	}
	write := func(x *Tensor, v []float32) {
		if err := d.Write(x, v); err != nil && allocErr == nil {
			allocErr = err
		}
	}
	gm := newMLPLM[*Tensor](d, mk, write, n, dim, ff, vocab, 1)
	defer func() {
		for _, x := range made {
			d.Free(x)
		}
	}()
	if allocErr != nil {
		t.Fatal(allocErr)
	}
	rng := rand.New(rand.NewSource(2))
	for stepNo := 1; stepNo <= 3; stepNo++ {
		ids, targets := make([]int32, n), make([]int32, n)
		for i := range ids {
			ids[i], targets[i] = int32(rng.Intn(vocab)), int32(rng.Intn(vocab))
		}
		targets[4] = -1
		s := compute.AdamWStep{LR: 1e-2, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01,
			BC1: float32(1 - math.Pow(0.9, float64(stepNo))), BC2: float32(1 - math.Pow(0.999, float64(stepNo)))}
		if err := d.Flush(); err != nil {
			t.Fatal(err)
		}
		before := d.Submits()
		cm.step(ids, targets, s)
		gm.step(ids, targets, s)
		want, got := make([]float32, n), make([]float32, n)
		cpu.Read(want, cm.lp)
		if err := d.Read(got, gm.lp); err != nil {
			t.Fatal(err)
		}
		if sub := d.Submits() - before; sub != 1 {
			t.Errorf("step %d took %d submissions, want 1", stepNo, sub)
		}
		compare(t, fmt.Sprintf("step %d log-probs", stepNo), got, want, 1e-4)
	}
	for i := range cm.params {
		want := make([]float32, cm.params[i].Len())
		got := make([]float32, len(want))
		cpu.Read(want, cm.params[i])
		if err := d.Read(got, gm.params[i]); err != nil {
			t.Fatal(err)
		}
		compare(t, cm.params[i].Name+" after 3 steps", got, want, 1e-4)
	}
}

func compare(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	for i := range want {
		if e := math.Abs(float64(got[i])-float64(want[i])) / (1 + math.Abs(float64(want[i]))); e > tol || math.IsNaN(e) {
			t.Errorf("%s[%d]: device %g, CPU %g (relative error %.3g > %.3g)", what, i, got[i], want[i], e, tol)
			return
		}
	}
}
