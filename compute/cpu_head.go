package compute

import (
	"math"

	"github.com/rlt-workbench/rlt/compute/gemm"
	"github.com/rlt-workbench/rlt/compute/kernels"
	"github.com/rlt-workbench/rlt/compute/parallel"
)

// The fused LM head works on tiles of at most headTileRows rows by a block
// of the vocabulary's columns, rows × columns ≤ HeadTileFloats logits
// (64 MB; at Qwen2.5's 151,936 rows, 1,024 rows by 16,384 columns). A row's
// log-sum-exp, entropy and KL combine from its blocks' (kernels.SoftmaxBlock,
// kernels.KLBlock), and backward needs only the saved log-sum-exp, so no
// tile depends on another. Each tile of rows widens and packs the whole
// head once for its GEMMs, so tall tiles keep that cost small (BenchmarkHead:
// 1,024-row tiles beat the former 441-row chunks), and the vocabulary blocks keep the
// logits small whatever the vocabulary.
//
// HeadTileFloats is exported for engine/memory's estimates.
const (
	HeadTileFloats = 1 << 24
	headTileRows   = 1024
)

// headBufs is the CPU backend's scratch for the fused head, kept across
// calls so that a training loop of constant shapes allocates nothing.
type headBufs struct {
	floats, rows    int // the tile's budget and row cap; 0 means the defaults (tests make them small)
	z, hc, dh       []float32
	active, tg      []int32
	g, lse          []float32 // a tile's upstream gradients and log-sum-exps (backward)
	blk, blk2, blk3 []float64 // one block's statistics per row
	bl, bq, bm      []float64 // per row, each block's statistics (row-major)
	tz              []float64 // the target's scaled logit per row
}

// grow returns *b resized to n, reallocated only when its capacity is
// short: the head's and the CPU backend's scratch, reused across calls.
// What it held is not cleared.
func grow[T float32 | float64 | int32](b *[]T, n int) []T {
	if cap(*b) < n {
		*b = make([]T, n)
	}
	*b = (*b)[:n]
	return *b
}

func (b *headBufs) budget() int {
	if b.floats > 0 {
		return b.floats
	}
	return HeadTileFloats
}

// tile returns the rows and vocabulary columns of one tile for n rows over
// V columns; pair halves the budget for two models' logits side by side.
func (b *headBufs) tile(n, V int, pair bool) (rows, cols int) {
	budget, rowCap := b.budget(), headTileRows
	if b.rows > 0 {
		rowCap = b.rows
	}
	if pair {
		budget /= 2
	}
	rows = max(1, min(n, rowCap, budget))
	cols = max(1, min(V, budget/rows))
	return rows, cols
}

// logits returns the reused logits buffer with room for n floats. It is
// grown to the whole budget once a tile is most of it: tiles differ by a
// row or two between calls (the teacher's and the student's rows), and
// growing by those rows would hold two buffers at once, the old one kept
// alive by the last job until the collector runs.
func (b *headBufs) logits(n int) []float32 {
	if budget := b.budget(); cap(b.z) < n && 2*n > budget {
		b.z = nil
		b.z = make([]float32, max(n, budget))
	}
	return grow(&b.z, n)
}

// activeRows lists the rows whose target is not ignored (TargetRows), in
// the reused scratch.
func (b *headBufs) activeRows(targets []int32) []int32 {
	b.active = TargetRows(b.active, targets)
	return b.active
}

// chunkRows returns the rows ids of h [·, d] as one [len(ids), d] block:
// h itself when they are consecutive, else a gathered copy.
func (c *CPU) chunkRows(h []float32, d int, ids []int32) (hc []float32, contiguous bool) {
	n := len(ids)
	if int(ids[n-1]-ids[0]) == n-1 {
		r0 := int(ids[0])
		return h[r0*d : (r0+n)*d], true
	}
	hc = grow(&c.head.hc, n*d)
	kernels.EmbeddingForward(hc, h, ids, d, 0, n)
	return hc, false
}

// headLogits sets z [n, vb] = hc [n, d]·w[v0:v0+vb]ᵀ, a block of w's rows
// read in place, widening a 16-bit w as it goes, through w's packed copy
// when it is frozen and the block is all of it.
func headLogits(z, hc []float32, n int, w *Tensor, v0, vb int) {
	d := w.dims[1]
	if bits, ok := HostData16(w); ok {
		gemm.SgemmB16(false, n, vb, d, 1, hc, d, bits[v0*d:(v0+vb)*d], w.DType().half(), d, 0, z, vb)
		return
	}
	if pb, ok := w.prep.(*gemm.PackedB); ok && w.frozen && v0 == 0 && vb == w.dims[0] {
		gemm.SgemmPacked(false, n, 1, hc, d, pb, 0, z, vb)
		return
	}
	gemm.Sgemm(false, true, n, vb, d, 1, hc, d, Host(w)[v0*d:(v0+vb)*d], d, 0, z, vb)
}

// HeadLogProbs implements Backend: the rows with a target are taken a tile
// at a time; each block's logits are computed into one reused buffer and
// reduced to the block's log-sum-exp (and mean logit, for the entropy),
// which combine into the rows' once the tile's last block is done.
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
	R, C := b.tile(len(rows), V, false)
	nb := (V + C - 1) / C
	t := float64(invTemp)
	for i0 := 0; i0 < len(rows); i0 += R {
		ids := rows[i0:min(i0+R, len(rows))]
		n := len(ids)
		hc, _ := c.chunkRows(H, d, ids)
		tg, tz := grow(&b.tg, n), grow(&b.tz, n)
		for i, r := range ids {
			tg[i] = targets[r]
		}
		bl, blk := grow(&b.bl, n*nb), grow(&b.blk, n)
		var bm, mean []float64
		if ENT != nil {
			bm, mean = grow(&b.bm, n*nb), grow(&b.blk2, n)
		}
		for k := range nb {
			v0 := k * C
			vb := min(C, V-v0)
			z := b.logits(n * vb)
			headLogits(z, hc, n, w, v0, vb)
			j := &c.j.block
			*j = blockJob{lse: blk, mean: mean, z: z, v: vb, invTemp: invTemp}
			parallel.For(n, rowGrain(vb), j)
			for i, tgt := range tg {
				bl[i*nb+k] = blk[i]
				if ENT != nil {
					bm[i*nb+k] = mean[i]
				}
				if x := int(tgt) - v0; x >= 0 && x < vb {
					tz[i] = float64(z[i*vb+x]) * t
				}
			}
		}
		for i, r := range ids {
			l := kernels.LogSumExp64(bl[i*nb : (i+1)*nb])
			LSE[r], LP[r] = float32(l), float32(tz[i]-l)
			if ENT != nil {
				var s float64
				for k := range nb {
					s += math.Exp(bl[i*nb+k]-l) * bm[i*nb+k]
				}
				ENT[r] = float32(l - t*s)
			}
		}
	}
}

// HeadLogProbsBackward implements Backend: each block's logits are
// computed again, turned into their gradient in place (the row's saved
// log-sum-exp is all a block needs), and multiplied into dh and the
// block's rows of dw. Tiles and blocks run in order, so dh and dw sum in
// the same order at every call.
func (c *CPU) HeadLogProbsBackward(dh, dw, glp, h, w, lse *Tensor, V int, targets []int32, invTemp float32) {
	if dh == nil && dw == nil {
		return
	}
	b := &c.head
	H, W, G, LSE := Host(h), Host(w), Host(glp), Host(lse)
	d := lastDim(h)
	rows := b.activeRows(targets)
	R, C := b.tile(len(rows), V, false)
	for i0 := 0; i0 < len(rows); i0 += R {
		ids := rows[i0:min(i0+R, len(rows))]
		n := len(ids)
		hc, contiguous := c.chunkRows(H, d, ids)
		tg, gc, lsec := grow(&b.tg, n), grow(&b.g, n), grow(&b.lse, n)
		for i, r := range ids {
			tg[i], gc[i], lsec[i] = targets[r], G[r], LSE[r]
		}
		var dhc []float32 // this tile's rows of dh
		if dh != nil {
			if contiguous {
				r0 := int(ids[0])
				dhc = Host(dh)[r0*d : (r0+n)*d]
			} else {
				dhc = grow(&b.dh, n*d)
				clear(dhc)
			}
		}
		for v0 := 0; v0 < V; v0 += C {
			vb := min(C, V-v0)
			z := b.logits(n * vb)
			headLogits(z, hc, n, w, v0, vb)
			j := &c.j.headGrad
			*j = headGradJob{z: z, g: gc, lse: lsec, targets: tg, v0: v0, v: vb, invTemp: invTemp}
			parallel.For(n, rowGrain(vb), j)
			if dh != nil {
				gemm.Sgemm(false, false, n, d, vb, 1, z, vb, W[v0*d:(v0+vb)*d], d, 1, dhc, d)
			}
			if dw != nil {
				gemm.Sgemm(true, false, vb, d, n, 1, z, vb, hc, d, 1, Host(dw)[v0*d:(v0+vb)*d], d)
			}
		}
		if dh != nil && !contiguous {
			kernels.EmbeddingBackward(Host(dh), dhc, ids, d, 0, n)
		}
	}
}

// HeadKL implements Backend: rows a tile at a time, both models' logits of
// a block side by side in the one reused logits buffer (tiles of half the
// budget), reduced to each block's log-sum-exps and mean log-ratio, which
// combine into the rows' KL once the tile's last block is done.
func (c *CPU) HeadKL(kl, hp, wp, hq, wq *Tensor, V int, invTemp float32) {
	b := &c.head
	HP, HQ, KL := Host(hp), Host(hq), Host(kl)
	dp, dq := lastDim(hp), lastDim(hq)
	N := rows(hp)
	R, C := b.tile(N, V, true)
	nb := (V + C - 1) / C
	t := float64(invTemp)
	for r0 := 0; r0 < N; r0 += R {
		n := min(R, N-r0)
		bl, bq, bm := grow(&b.bl, n*nb), grow(&b.bq, n*nb), grow(&b.bm, n*nb)
		lp, lq, diff := grow(&b.blk, n), grow(&b.blk2, n), grow(&b.blk3, n)
		for k := range nb {
			v0 := k * C
			vb := min(C, V-v0)
			z := b.logits(2 * n * vb)
			zp, zq := z[:n*vb], z[n*vb:]
			headLogits(zp, HP[r0*dp:(r0+n)*dp], n, wp, v0, vb)
			headLogits(zq, HQ[r0*dq:(r0+n)*dq], n, wq, v0, vb)
			j := &c.j.blockKL
			*j = blockKLJob{lseP: lp, lseQ: lq, diff: diff, p: zp, q: zq, v: vb, invTemp: invTemp}
			parallel.For(n, rowGrain(vb), j)
			for i := range n {
				bl[i*nb+k], bq[i*nb+k], bm[i*nb+k] = lp[i], lq[i], diff[i]
			}
		}
		for i := range n {
			l := kernels.LogSumExp64(bl[i*nb : (i+1)*nb])
			m := kernels.LogSumExp64(bq[i*nb : (i+1)*nb])
			var s float64
			for k := range nb {
				s += math.Exp(bl[i*nb+k]-l) * bm[i*nb+k]
			}
			KL[r0+i] = float32(t*s - (l - m))
		}
	}
}

type headGradJob struct {
	z, g, lse []float32
	targets   []int32
	v0, v     int
	invTemp   float32
}

func (j *headGradJob) Run(lo, hi int) {
	kernels.TokenLogProbsGradBlock(j.z, j.g, j.lse, j.targets, j.v0, j.v, j.invTemp, lo, hi)
}

type blockJob struct {
	lse, mean []float64
	z         []float32
	v         int
	invTemp   float32
}

func (j *blockJob) Run(lo, hi int) {
	kernels.SoftmaxBlock(j.lse, j.mean, j.z, j.v, j.invTemp, lo, hi)
}

type blockKLJob struct {
	lseP, lseQ, diff []float64
	p, q             []float32
	v                int
	invTemp          float32
}

func (j *blockKLJob) Run(lo, hi int) {
	kernels.KLBlock(j.lseP, j.lseQ, j.diff, j.p, j.q, j.v, j.invTemp, lo, hi)
}
