package compute

import (
	"github.com/rlt-workbench/rlt/compute/gemm"
	"github.com/rlt-workbench/rlt/compute/kernels"
	"github.com/rlt-workbench/rlt/compute/parallel"
)

// headChunkFloats bounds the logits the fused LM head keeps at once: a
// chunk of rows × V floats, 256 MB (441 rows of Qwen2.5's 151,936-row
// vocabulary). Each chunk packs the whole head for its GEMM again, so
// fewer, larger chunks run nearer the GEMM's peak: at the 0.5B shape
// (BenchmarkHead) chunks of 428 rows beat 214 and 107, and 856 rows gained
// little more for twice the memory.
const headChunkFloats = 1 << 26

// headBufs is the CPU backend's scratch for the fused head, kept across
// calls so that a training loop of constant shapes allocates nothing.
type headBufs struct {
	chunk      int // floats of logits per chunk; 0 means headChunkFloats
	z, hc, dh  []float32
	rows, tg   []int32
	lp, lse, g []float32
	ent        []float32
}

func growF(b *[]float32, n int) []float32 {
	if cap(*b) < n {
		*b = make([]float32, n)
	}
	*b = (*b)[:n]
	return *b
}

func growI(b *[]int32, n int) []int32 {
	if cap(*b) < n {
		*b = make([]int32, n)
	}
	*b = (*b)[:n]
	return *b
}

func (b *headBufs) budget() int {
	if b.chunk > 0 {
		return b.chunk
	}
	return headChunkFloats
}

// headChunkRows is the number of rows per chunk for n rows of width V within
// budget floats, spread evenly over the chunks (no thin last chunk).
func headChunkRows(n, V, budget int) int {
	c := max(1, budget/V)
	if n <= c {
		return n
	}
	chunks := (n + c - 1) / c
	return (n + chunks - 1) / chunks
}

// activeRows lists the rows whose target is not ignored.
func (b *headBufs) activeRows(targets []int32) []int32 {
	rows := b.rows[:0]
	for i, t := range targets {
		if t >= 0 {
			rows = append(rows, int32(i))
		}
	}
	b.rows = rows
	return rows
}

// chunkRows returns the rows ids of h [·, d] as one [len(ids), d] block:
// h itself when they are consecutive, else a gathered copy.
func (c *CPU) chunkRows(h []float32, d int, ids []int32) (hc []float32, contiguous bool) {
	n := len(ids)
	if int(ids[n-1]-ids[0]) == n-1 {
		r0 := int(ids[0])
		return h[r0*d : (r0+n)*d], true
	}
	hc = growF(&c.head.hc, n*d)
	kernels.EmbeddingForward(hc, h, ids, d, 0, n)
	return hc, false
}

// headLogits sets z [n, V] = hc [n, d]·w[:V]ᵀ: the first V rows of w, read
// in place (a table padded further than the vocabulary compared), widening
// a 16-bit w as it goes, through w's packed copy when it is frozen and all
// its rows are the vocabulary.
func headLogits(z, hc []float32, n int, w *Tensor, V int) {
	d := w.dims[1]
	if bits, ok := HostData16(w); ok {
		gemm.SgemmB16(false, n, V, d, 1, hc, d, bits, w.DType().half(), d, 0, z, V)
		return
	}
	if pb, ok := w.prep.(*gemm.PackedB); ok && w.frozen && V == w.dims[0] {
		gemm.SgemmPacked(false, n, 1, hc, d, pb, 0, z, V)
		return
	}
	gemm.Sgemm(false, true, n, V, d, 1, hc, d, Host(w), d, 0, z, V)
}

// HeadLogProbs implements Backend: the rows with a target are taken a chunk
// at a time; each chunk's logits are computed into one reused buffer and
// reduced by the TokenLogProbs and EntropyRows kernels.
func (c *CPU) HeadLogProbs(lp, lse, ent, h, w *Tensor, V int, targets []int32, invTemp float32) {
	b := &c.head
	H := Host(h)
	d := lastDim(h)
	LP, LSE := Host(lp), Host(lse)
	clear(LP)
	clear(LSE)
	var ENT []float32
	if ent != nil {
		ENT = Host(ent)
		clear(ENT)
	}
	rows := b.activeRows(targets)
	m := headChunkRows(len(rows), V, b.budget())
	for i0 := 0; i0 < len(rows); i0 += m {
		ids := rows[i0:min(i0+m, len(rows))]
		n := len(ids)
		hc, _ := c.chunkRows(H, d, ids)
		z := growF(&b.z, n*V)
		headLogits(z, hc, n, w, V)
		tg, lpc, lsec := growI(&b.tg, n), growF(&b.lp, n), growF(&b.lse, n)
		for i, r := range ids {
			tg[i] = targets[r]
		}
		j := &c.j.lp
		*j = lpJob{lp: lpc, lse: lsec, logits: z, targets: tg, v: V, invTemp: invTemp}
		parallel.For(n, rowGrain(V), j)
		for i, r := range ids {
			LP[r], LSE[r] = lpc[i], lsec[i]
		}
		if ENT != nil {
			entc := growF(&b.ent, n)
			dj := &c.j.dist
			*dj = distJob{out: entc, p: z, v: V, invTemp: invTemp}
			parallel.For(n, rowGrain(V), dj)
			for i, r := range ids {
				ENT[r] = entc[i]
			}
		}
	}
}

// HeadLogProbsBackward implements Backend: each chunk's logits are computed
// again, turned into their gradient in place, and multiplied into dh and
// dw. Chunks run in order, so dw sums in the same order at every call.
func (c *CPU) HeadLogProbsBackward(dh, dw, glp, h, w, lse *Tensor, V int, targets []int32, invTemp float32) {
	if dh == nil && dw == nil {
		return
	}
	b := &c.head
	H, W, G, LSE := Host(h), Host(w), Host(glp), Host(lse)
	d := lastDim(h)
	rows := b.activeRows(targets)
	m := headChunkRows(len(rows), V, b.budget())
	for i0 := 0; i0 < len(rows); i0 += m {
		ids := rows[i0:min(i0+m, len(rows))]
		n := len(ids)
		hc, contiguous := c.chunkRows(H, d, ids)
		z := growF(&b.z, n*V)
		headLogits(z, hc, n, w, V)
		tg, gc, lsec := growI(&b.tg, n), growF(&b.g, n), growF(&b.lse, n)
		for i, r := range ids {
			tg[i], gc[i], lsec[i] = targets[r], G[r], LSE[r]
		}
		j := &c.j.headGrad
		*j = headGradJob{z: z, g: gc, lse: lsec, targets: tg, v: V, invTemp: invTemp}
		parallel.For(n, rowGrain(V), j)
		if dh != nil {
			DH := Host(dh)
			if contiguous {
				r0 := int(ids[0])
				gemm.Sgemm(false, false, n, d, V, 1, z, V, W, d, 1, DH[r0*d:], d)
			} else {
				dhc := growF(&b.dh, n*d)
				gemm.Sgemm(false, false, n, d, V, 1, z, V, W, d, 0, dhc, d)
				kernels.EmbeddingBackward(DH, dhc, ids, d, 0, n)
			}
		}
		if dw != nil {
			gemm.Sgemm(true, false, V, d, n, 1, z, V, hc, d, 1, Host(dw), d)
		}
	}
}

// HeadKL implements Backend: rows a chunk at a time, both models' logits in
// the two halves of the one reused logits buffer (chunks of half the
// budget, so the buffer HeadLogProbs grew already holds both: scoring at
// the 0.5B shape kept a second 128 MiB buffer for nothing), reduced by the
// KLRows kernel.
func (c *CPU) HeadKL(kl, hp, wp, hq, wq *Tensor, V int, invTemp float32) {
	b := &c.head
	HP, HQ, KL := Host(hp), Host(hq), Host(kl)
	dp, dq := lastDim(hp), lastDim(hq)
	N := rows(hp)
	m := headChunkRows(N, V, b.budget()/2)
	for r0 := 0; r0 < N; r0 += m {
		n := min(m, N-r0)
		z := growF(&b.z, 2*n*V)
		zp, zq := z[:n*V], z[n*V:]
		headLogits(zp, HP[r0*dp:(r0+n)*dp], n, wp, V)
		headLogits(zq, HQ[r0*dq:(r0+n)*dq], n, wq, V)
		j := &c.j.dist
		*j = distJob{kl: true, out: KL[r0 : r0+n], p: zp, q: zq, v: V, invTemp: invTemp}
		parallel.For(n, rowGrain(V), j)
	}
}

type headGradJob struct {
	z, g, lse []float32
	targets   []int32
	v         int
	invTemp   float32
}

func (j *headGradJob) Run(lo, hi int) {
	kernels.TokenLogProbsGrad(j.z, j.g, j.lse, j.targets, j.v, j.invTemp, lo, hi)
}
