package kernels

import "testing"

// TestNoAllocs: the kernels allocate nothing (stack buffers stay on the stack).
func TestNoAllocs(t *testing.T) {
	r := newRNG(70)
	const N, V, d = 4, 300, 16
	logits, lq := randVec(r, N*V, 2), randVec(r, N*V, 2)
	g := randVec(r, N, 1)
	tg := []int32{1, 2, -1, 299}
	lp, lse, out := make([]float32, N), make([]float32, N), make([]float32, N*V)
	ac := attnCase{2, 9, 4, 2, 8, []int32{0, 2}}
	q := randVec(r, ac.B*ac.T*ac.H*ac.hd, 1)
	k := randVec(r, ac.B*ac.T*ac.KV*ac.hd, 1)
	o := make([]float32, len(q))
	lseA := make([]float32, ac.B*ac.H*ac.T)
	scratch := make([]float32, AttentionScratch(ac.T))
	dk := make([]float32, len(k))
	x, w := randVec(r, N*d, 1), randVec(r, d, 1)
	rs, y, dw := make([]float32, N), make([]float32, N*d), make([]float32, d)
	n := testing.AllocsPerRun(20, func() {
		TokenLogProbs(lp, lse, logits, tg, V, 1, 0, N)
		TokenLogProbsBackward(out, g, logits, lse, tg, V, 1, 0, N)
		TokenLogProbsGrad(out, g, lse, tg, V, 1, 0, N)
		KLRows(lp, logits, lq, V, 1, 0, N)
		KLRowsBackward(out, out, g, logits, lq, V, 1, 0, N)
		EntropyRows(lp, logits, V, 1, 0, N)
		EntropyRowsBackward(out, g, logits, V, 1, 0, N)
		AttentionForward(o, lseA, q, k, k, ac.B, ac.T, ac.H, ac.KV, ac.hd, ac.kStart, scratch, 0, ac.B*ac.H)
		AttentionBackward(q, dk, dk, q, o, lseA, q, k, k, ac.B, ac.T, ac.H, ac.KV, ac.hd, ac.kStart, scratch, 0, ac.B*ac.KV)
		RMSNormForward(y, rs, x, w, d, 1e-6, 0, N)
		RMSNormBackward(y, dw, x, x, w, rs, d, 0, N)
		AdamW(y, x, out, lq, 1e-3, 0.9, 0.95, 1e-8, 0.1, 0.1, 0.05, 0, N*d)
		SwiGLUForward(y, x, x, 0, N*d)
	})
	if n != 0 {
		t.Errorf("%v allocations per run", n)
	}
}
