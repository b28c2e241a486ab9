package kernels

import (
	"runtime"
	"testing"
)

// Benchmarks at the PyTorch peer's shape (shared/bench/torch_ref.py):
// N = B·T = 2048 tokens, d = 256, ff = 688, V = 512, B = 16, T = 128,
// H = 4, KV = 2, hd = 64. Single-threaded.
//
//	go test ./compute/kernels/ -run '^$' -bench . -benchtime 1s

const (
	bB, bT, bH, bKV, bHD = 16, 128, 4, 2, 64
	bN                   = bB * bT
	bD, bFF, bV          = 256, 688, 512
)

// The machine these run on is shared, so besides wall-clock ns/op every
// benchmark reports the CPU time its thread actually used (cpu-ns/op) and
// derives its rates (GFLOP/s, GB/s, ns/elem) from that.

type rates struct {
	flops, bytes float64 // per op
	elems        int     // per op
}

func run(b *testing.B, r rates, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	f() // warm up caches and the thread
	t0 := threadCPU()
	for b.Loop() {
		f()
	}
	cpu := (threadCPU() - t0) / float64(b.N)
	if cpu <= 0 {
		return
	}
	b.ReportMetric(cpu, "cpu-ns/op")
	if r.flops > 0 {
		b.ReportMetric(r.flops/cpu, "GFLOP/s")
	}
	if r.bytes > 0 {
		b.ReportMetric(r.bytes/cpu, "GB/s")
	}
	if r.elems > 0 {
		b.ReportMetric(cpu/float64(r.elems), "ns/elem")
	}
}

func BenchmarkExpSlice(b *testing.B) {
	x := randVec(newRNG(1), bN*bFF, 3)
	y := make([]float32, len(x))
	run(b, rates{bytes: float64(8 * len(x)), elems: len(x)}, func() { ExpSlice(y, x, 0, len(x)) })
}

func BenchmarkSwiGLUForward(b *testing.B) {
	r := newRNG(2)
	n := bN * bFF
	g, u, h := randVec(r, n, 2), randVec(r, n, 1), make([]float32, n)
	run(b, rates{bytes: float64(12 * n), elems: n}, func() { SwiGLUForward(h, g, u, 0, n) })
}

func BenchmarkSwiGLUBackward(b *testing.B) {
	r := newRNG(3)
	n := bN * bFF
	g, u, dh := randVec(r, n, 2), randVec(r, n, 1), randVec(r, n, 1)
	dg, du := make([]float32, n), make([]float32, n)
	run(b, rates{bytes: float64(28 * n), elems: n}, func() { SwiGLUBackward(dg, du, dh, g, u, 0, n) })
}

func BenchmarkRMSNormForward(b *testing.B) {
	r := newRNG(4)
	x, w := randVec(r, bN*bD, 1), randVec(r, bD, 1)
	y, rs := make([]float32, bN*bD), make([]float32, bN)
	run(b, rates{bytes: float64(8 * bN * bD), elems: bN * bD}, func() { RMSNormForward(y, rs, x, w, bD, 1e-6, 0, bN) })
}

func BenchmarkRMSNormBackward(b *testing.B) {
	r := newRNG(5)
	x, w, dy := randVec(r, bN*bD, 1), randVec(r, bD, 1), randVec(r, bN*bD, 1)
	rs := make([]float32, bN)
	RMSNormForward(make([]float32, bN*bD), rs, x, w, bD, 1e-6, 0, bN)
	dx, dw := make([]float32, bN*bD), make([]float32, bD)
	run(b, rates{bytes: float64(16 * bN * bD), elems: bN * bD}, func() { RMSNormBackward(dx, dw, dy, x, w, rs, bD, 0, bN) })
}

func ropeBench() ([]float32, []float32, []float32, []int32) {
	x := randVec(newRNG(6), bN*bH*bHD, 1)
	cos, sin := make([]float32, bT*bHD/2), make([]float32, bT*bHD/2)
	RoPETables(cos, sin, bT, bHD, 1e6)
	pos := make([]int32, bN)
	for i := range pos {
		pos[i] = int32(i % bT)
	}
	return x, cos, sin, pos
}

func BenchmarkRoPEForward(b *testing.B) {
	x, cos, sin, pos := ropeBench()
	run(b, rates{bytes: float64(8 * len(x)), elems: len(x)}, func() { RoPEForward(x, x, pos, cos, sin, bH, bHD, 0, bN) })
}

func BenchmarkRoPEBackward(b *testing.B) {
	x, cos, sin, pos := ropeBench()
	dx := make([]float32, len(x))
	run(b, rates{bytes: float64(12 * len(x)), elems: len(x)}, func() { RoPEBackward(dx, x, pos, cos, sin, bH, bHD, 0, bN) })
}

// causal attention flops: QKᵀ and P·V over the lower triangle.
const attnFwdFlops = 2 * 2 * float64(bB*bH) * float64(bT*(bT+1)/2) * bHD

type attnBench struct {
	q, k, v, out, lse, dout, dq, dk, dv, scratch []float32
}

func newAttnBench() *attnBench {
	r := newRNG(7)
	a := &attnBench{
		q: randVec(r, bN*bH*bHD, 1), k: randVec(r, bN*bKV*bHD, 1), v: randVec(r, bN*bKV*bHD, 1),
		out: make([]float32, bN*bH*bHD), lse: make([]float32, bB*bH*bT),
		dout: randVec(r, bN*bH*bHD, 1),
		dq:   make([]float32, bN*bH*bHD), dk: make([]float32, bN*bKV*bHD), dv: make([]float32, bN*bKV*bHD),
		scratch: make([]float32, AttentionScratch(bT)),
	}
	AttentionForward(a.out, a.lse, a.q, a.k, a.v, bB, bT, bH, bKV, bHD, nil, a.scratch, 0, bB*bH)
	return a
}

func BenchmarkAttentionForward(b *testing.B) {
	a := newAttnBench()
	run(b, rates{flops: attnFwdFlops}, func() {
		AttentionForward(a.out, a.lse, a.q, a.k, a.v, bB, bT, bH, bKV, bHD, nil, a.scratch, 0, bB*bH)
	})
}

func BenchmarkAttentionBackward(b *testing.B) {
	a := newAttnBench()
	run(b, rates{flops: 2 * attnFwdFlops}, func() {
		AttentionBackward(a.dq, a.dk, a.dv, a.dout, a.out, a.lse, a.q, a.k, a.v, bB, bT, bH, bKV, bHD, nil, a.scratch, 0, bB*bKV)
	})
}

// One decode step of the peer's sampler: 16 sequences, 1 new token at position
// 143 of a 144-long cache.
func BenchmarkAttentionDecode(b *testing.B) {
	r := newRNG(8)
	const maxLen, past = 144, 143
	q := randVec(r, bB*bH*bHD, 1)
	kc, vc := randVec(r, bB*bKV*maxLen*bHD, 1), randVec(r, bB*bKV*maxLen*bHD, 1)
	out := make([]float32, len(q))
	scratch := make([]float32, AttentionDecodeScratch(1, maxLen))
	run(b, rates{flops: 2 * 2 * float64(bB*bH) * maxLen * bHD, bytes: float64(4 * 2 * bB * bH * maxLen * bHD)}, func() {
		AttentionDecode(out, q, kc, vc, bB, 1, bH, bKV, bHD, maxLen, past, nil, scratch, 0, bB*bH)
	})
}

// The attention products at the peer's shape, one tile: S = Q·Kᵀ (32×128×64),
// O = P·V (32×64×128) and dK = dSᵀ·Q (128×64×32).
func BenchmarkSgemm(b *testing.B) {
	r := newRNG(14)
	q := randVec(r, bT*bH*bHD, 1)
	k := randVec(r, bT*bKV*bHD, 1)
	p := randVec(r, bT*bT, 1)
	c := make([]float32, bT*bT)
	b.Run("QKt_32x128x64", func(b *testing.B) {
		run(b, rates{flops: 2 * 32 * 128 * 64}, func() {
			sgemm(false, true, 32, 128, 64, 0.125, q, bH*bHD, k, bKV*bHD, 0, c, bT)
		})
	})
	b.Run("PV_32x64x128", func(b *testing.B) {
		run(b, rates{flops: 2 * 32 * 128 * 64}, func() {
			sgemm(false, false, 32, 64, 128, 1, p, bT, k, bKV*bHD, 0, c, bH*bHD)
		})
	})
	b.Run("dSQ_128x64x32", func(b *testing.B) {
		run(b, rates{flops: 2 * 32 * 128 * 64}, func() {
			sgemm(true, false, 128, 64, 32, 1, p, 128, q, bH*bHD, 1, c, 64)
		})
	})
}

func logitsBench() ([]float32, []int32) {
	r := newRNG(9)
	l := randVec(r, bN*bV, 2)
	t := make([]int32, bN)
	for i := range t {
		t[i] = int32(r.IntN(bV))
	}
	return l, t
}

func BenchmarkTokenLogProbs(b *testing.B) {
	l, t := logitsBench()
	lp, lse := make([]float32, bN), make([]float32, bN)
	run(b, rates{bytes: float64(4 * len(l)), elems: len(l)}, func() { TokenLogProbs(lp, lse, l, t, bV, 1, 0, bN) })
}

func BenchmarkTokenLogProbsBackward(b *testing.B) {
	l, t := logitsBench()
	lp, lse := make([]float32, bN), make([]float32, bN)
	TokenLogProbs(lp, lse, l, t, bV, 1, 0, bN)
	dl := make([]float32, len(l))
	run(b, rates{bytes: float64(12 * len(l)), elems: len(l)}, func() {
		TokenLogProbsBackward(dl, lp, l, lse, t, bV, 1, 0, bN)
	})
}

func BenchmarkKLRows(b *testing.B) {
	l, _ := logitsBench()
	l2 := randVec(newRNG(10), len(l), 2)
	kl := make([]float32, bN)
	run(b, rates{bytes: float64(8 * len(l)), elems: len(l)}, func() { KLRows(kl, l, l2, bV, 1, 0, bN) })
}

func BenchmarkKLRowsBackward(b *testing.B) {
	l, _ := logitsBench()
	l2 := randVec(newRNG(10), len(l), 2)
	g := randVec(newRNG(11), bN, 1)
	dP, dQ := make([]float32, len(l)), make([]float32, len(l))
	run(b, rates{bytes: float64(24 * len(l)), elems: len(l)}, func() { KLRowsBackward(dP, dQ, g, l, l2, bV, 1, 0, bN) })
}

func BenchmarkEntropyRows(b *testing.B) {
	l, _ := logitsBench()
	e := make([]float32, bN)
	run(b, rates{bytes: float64(4 * len(l)), elems: len(l)}, func() { EntropyRows(e, l, bV, 1, 0, bN) })
}

func BenchmarkEntropyRowsBackward(b *testing.B) {
	l, _ := logitsBench()
	g := randVec(newRNG(11), bN, 1)
	d := make([]float32, len(l))
	run(b, rates{bytes: float64(12 * len(l)), elems: len(l)}, func() { EntropyRowsBackward(d, g, l, bV, 1, 0, bN) })
}

// The peer model has about 3.0 M parameters.
func BenchmarkAdamW(b *testing.B) {
	const n = 3_000_000
	r := newRNG(12)
	p, g := randVec(r, n, 1), randVec(r, n, 1)
	m, v := make([]float32, n), make([]float32, n)
	run(b, rates{bytes: 28 * n, elems: n}, func() { AdamW(p, g, m, v, 1e-3, 0.9, 0.95, 1e-8, 0.1, 0.5, 0.3, 0, n) })
}

func BenchmarkSumSquares(b *testing.B) {
	x := randVec(newRNG(13), 3_000_000, 1)
	run(b, rates{bytes: float64(4 * len(x)), elems: len(x)}, func() { SumSquares(x, 0, len(x)) })
}

// Portable Go loops for comparison (the assembly switched off).

func benchGo(b *testing.B, f func(*testing.B)) {
	saved := useAVX512
	useAVX512 = false
	defer func() { useAVX512 = saved }()
	f(b)
}

func BenchmarkGoPath(b *testing.B) {
	b.Run("ExpSlice", func(b *testing.B) { benchGo(b, BenchmarkExpSlice) })
	b.Run("SwiGLUForward", func(b *testing.B) { benchGo(b, BenchmarkSwiGLUForward) })
	b.Run("SwiGLUBackward", func(b *testing.B) { benchGo(b, BenchmarkSwiGLUBackward) })
	b.Run("AttentionForward", func(b *testing.B) { benchGo(b, BenchmarkAttentionForward) })
	b.Run("AttentionBackward", func(b *testing.B) { benchGo(b, BenchmarkAttentionBackward) })
	b.Run("Sgemm", func(b *testing.B) { benchGo(b, BenchmarkSgemm) })
	b.Run("TokenLogProbs", func(b *testing.B) { benchGo(b, BenchmarkTokenLogProbs) })
	b.Run("TokenLogProbsBackward", func(b *testing.B) { benchGo(b, BenchmarkTokenLogProbsBackward) })
}

// BenchmarkAttentionVsProbs runs forward and backward of attention at the
// Qwen2.5-0.5B shape (B 8 × T 214, 14 heads over 2 kv heads of 64) with the
// online-softmax kernels and with the old ones that kept [B, H, T, T]
// probabilities. kept-bytes is what each keeps for backward besides q, k, v
// and out; scratch-bytes what one thread uses as scratch.
func BenchmarkAttentionVsProbs(b *testing.B) {
	const B, T, H, KV, hd = 8, 214, 14, 2, 64
	r := newRNG(9)
	n := B * T
	q, k, v := randVec(r, n*H*hd, 1), randVec(r, n*KV*hd, 1), randVec(r, n*KV*hd, 1)
	dout := randVec(r, n*H*hd, 1)
	out := make([]float32, n*H*hd)
	dq, dk, dv := make([]float32, len(q)), make([]float32, len(k)), make([]float32, len(v))
	flops := 3 * 2 * 2 * float64(B*H) * float64(T*(T+1)/2) * hd // forward + backward (2×)
	b.Run("probs", func(b *testing.B) {
		probs := make([]float32, B*H*T*T)
		scratch := make([]float32, probsScratch(T))
		run(b, rates{flops: flops}, func() {
			attentionProbsForward(out, probs, q, k, v, B, T, H, KV, hd, nil, 0, B*H)
			attentionProbsBackward(dq, dk, dv, dout, probs, q, k, v, B, T, H, KV, hd, nil, scratch, 0, B*KV)
		})
		b.ReportMetric(float64(4*len(probs)), "kept-bytes")
		b.ReportMetric(float64(4*len(scratch)), "scratch-bytes")
	})
	b.Run("online", func(b *testing.B) {
		lse := make([]float32, B*H*T)
		scratch := make([]float32, AttentionScratch(T))
		run(b, rates{flops: flops}, func() {
			AttentionForward(out, lse, q, k, v, B, T, H, KV, hd, nil, scratch, 0, B*H)
			AttentionBackward(dq, dk, dv, dout, out, lse, q, k, v, B, T, H, KV, hd, nil, scratch, 0, B*KV)
		})
		b.ReportMetric(float64(4*len(lse)), "kept-bytes")
		b.ReportMetric(float64(4*len(scratch)), "scratch-bytes")
	})
}
