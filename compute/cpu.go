package compute

import (
	"fmt"
	"sync/atomic"

	"github.com/rlt-workbench/rlt/compute/gemm"
	"github.com/rlt-workbench/rlt/compute/half"
	"github.com/rlt-workbench/rlt/compute/kernels"
	"github.com/rlt-workbench/rlt/compute/parallel"
)

// elemGrain is the number of elementwise operations under which work stays on
// one thread: on two cores, fork-join costs more than it saves below this.
const elemGrain = 1 << 14

// rowGrain converts elemGrain into rows of width d.
func rowGrain(d int) int {
	if d <= 0 {
		return 1
	}
	g := elemGrain / d
	if g < 1 {
		g = 1
	}
	return g
}

// chunked is a sum over the rows of a rows×d matrix (a weight gradient:
// RMSNorm's dw, a bias's) by fixed chunks of rows: each chunk's partial is
// a row-major pass over its rows, and the partials are added in chunk
// order. The chunks depend on the sizes alone, so the sum has the same bits
// whatever the worker count (floating-point addition is not associative:
// one partial per worker would make it depend on GOMAXPROCS).
type chunked struct {
	part         []float32 // n partials of d values
	d, rows, per int       // per: rows of a chunk
	n            int
}

// maxChunks bounds the partials a sum keeps (n·d values).
const maxChunks = 256

// reset makes zeroed partials for a sum over rows rows of width d.
func (c *chunked) reset(rows, d int) {
	c.d, c.rows = d, rows
	c.per = max(rowGrain(d), (rows+maxChunks-1)/maxChunks)
	c.n = (rows + c.per - 1) / c.per
	clear(grow(&c.part, c.n*d))
}

// chunk is chunk i's partial and its rows.
func (c *chunked) chunk(i int) (part []float32, lo, hi int) {
	return c.part[i*c.d : (i+1)*c.d], i * c.per, min((i+1)*c.per, c.rows)
}

// sumJob adds a chunked sum's partials to dst in chunk order, split by
// columns.
type sumJob struct {
	c   *chunked
	dst []float32
}

func (j *sumJob) Run(lo, hi int) {
	for i := 0; i < j.c.n; i++ {
		kernels.Accumulate(j.dst, j.c.part[i*j.c.d:(i+1)*j.c.d], lo, hi)
	}
}

// sumInto adds the partials to dst (d values).
func (c *CPU) sumInto(dst []float32, ch *chunked) {
	j := &c.j.sum
	*j = sumJob{c: ch, dst: dst}
	parallel.For(ch.d, max(elemGrain/max(ch.n, 1), 1), j)
}

// CPU is the host backend: gorgonia Dense storage, the packed SIMD GEMM and
// the fused kernels, split across the process's worker pool. Its jobs are
// preallocated so that a steady-state training step allocates nothing.
type CPU struct {
	j    cpuJobs
	head headBufs
}

// NewCPU returns a CPU backend. Use one per goroutine that computes.
func NewCPU() *CPU { return &CPU{} }

// Name implements Backend.
func (c *CPU) Name() string { return "cpu/" + gemm.Kernel() }

// Err implements Backend: host computation has no device to lose.
func (c *CPU) Err() error { return nil }

// New implements Backend.
func (c *CPU) New(name string, dims ...int) *Tensor {
	t := &Tensor{Name: name}
	if err := setDims(t, dims); err != nil {
		panic(err)
	}
	t.storage = newHostStorage(make([]float32, t.Len()), dims)
	return t
}

// New16 implements Backend.
func (c *CPU) New16(name string, dt DType, dims ...int) *Tensor {
	if !dt.Is16() {
		panic(fmt.Sprintf("compute: New16 %s with %v: want BF16 or F16", name, dt))
	}
	t := &Tensor{Name: name}
	if err := setDims(t, dims); err != nil {
		panic(err)
	}
	t.storage = &HalfStorage{Bits: make([]uint16, t.Len()), Type: dt}
	return t
}

// Write16 implements Backend.
func (c *CPU) Write16(dst *Tensor, src []uint16) {
	mustNotBeFrozen(dst)
	d, ok := HostData16(dst)
	if !ok || len(src) != len(d) {
		panic(fmt.Sprintf("compute: write %d 16-bit values into %v", len(src), dst))
	}
	copy(d, src)
}

// Write implements Backend.
func (c *CPU) Write(dst *Tensor, src []float32) {
	mustNotBeFrozen(dst)
	d := Host(dst)
	if len(src) != len(d) {
		panic(fmt.Sprintf("compute: write %d values into %v", len(src), dst))
	}
	copy(d, src)
}

// Read implements Backend.
func (c *CPU) Read(dst []float32, src *Tensor) {
	if b, ok := HostData16(src); ok {
		if len(dst) != len(b) {
			panic(fmt.Sprintf("compute: read %v into %d values", src, len(dst)))
		}
		half.Widen(src.DType().half(), dst, b)
		return
	}
	s := Host(src)
	if len(dst) != len(s) {
		panic(fmt.Sprintf("compute: read %v into %d values", src, len(dst)))
	}
	copy(dst, s)
}

// Zero implements Backend.
func (c *CPU) Zero(t *Tensor) {
	mustNotBeFrozen(t)
	clear(Host(t))
}

// Copy implements Backend.
func (c *CPU) Copy(dst, src *Tensor) {
	mustNotBeFrozen(dst)
	if dst.DType() != F32 || src.DType() != F32 {
		c.copy16(dst, src)
		return
	}
	d, s := Host(dst), Host(src)
	if len(d) != len(s) {
		panic(fmt.Sprintf("compute: copy %v into %v", src, dst))
	}
	copy(d, s)
}

func lastDim(t *Tensor) int { return t.dims[t.rank-1] }
func rows(t *Tensor) int    { return t.Len() / lastDim(t) }

// Embedding implements Backend.
func (c *CPU) Embedding(out, table *Tensor, ids []int32) {
	if bits, ok := HostData16(table); ok {
		// Rows are widened as they are gathered.
		o, d, k := Host(out), lastDim(table), table.DType().half()
		for n, id := range ids {
			half.Widen(k, o[n*d:(n+1)*d], bits[int(id)*d:(int(id)+1)*d])
		}
		return
	}
	j := &c.j.embed
	*j = embedJob{out: Host(out), table: Host(table), ids: ids, d: lastDim(table)}
	parallel.For(len(ids), rowGrain(j.d), j)
}

// EmbeddingBackward implements Backend. Scatter-adds conflict across rows,
// so it runs on one thread; it is a small part of a step.
func (c *CPU) EmbeddingBackward(dTable, dOut *Tensor, ids []int32) {
	kernels.EmbeddingBackward(Host(dTable), Host(dOut), ids, lastDim(dTable), 0, len(ids))
}

// RMSNorm implements Backend.
func (c *CPU) RMSNorm(y, rstd, x, w *Tensor, eps float32) {
	j := &c.j.rmsFwd
	*j = rmsFwdJob{y: Host(y), rstd: Host(rstd), x: Host(x), w: Host(w), d: lastDim(x), eps: eps}
	parallel.For(rows(x), rowGrain(j.d), j)
}

// RMSNormBackward implements Backend.
func (c *CPU) RMSNormBackward(dx, dw, dy, x, w, rstd *Tensor) {
	j := &c.j.rmsBwd
	d := lastDim(x)
	j.dx, j.dy, j.x, j.w, j.rstd, j.d = Host(dx), Host(dy), Host(x), Host(w), Host(rstd), d
	j.dw.reset(rows(x), d)
	parallel.For(j.dw.n, 1, j)
	if dw != nil {
		c.sumInto(Host(dw), &j.dw)
	}
}

// Linear implements Backend. A 16-bit w is widened block by block while
// the GEMM packs it (gemm.SgemmB16): the same bits as a float32 w holding
// its values, with no float32 copy of it.
func (c *CPU) Linear(y, x, w, bias *Tensor) {
	n, in, out := rows(x), lastDim(x), w.dims[0]
	if bits, ok := HostData16(w); ok {
		gemm.SgemmB16(false, n, out, in, 1, Host(x), in, bits, w.DType().half(), in, 0, Host(y), out)
	} else if pb, ok := w.prep.(*gemm.PackedB); ok && w.frozen {
		gemm.SgemmPacked(false, n, 1, Host(x), in, pb, 0, Host(y), out)
	} else {
		gemm.Sgemm(false, true, n, out, in, 1, Host(x), in, Host(w), in, 0, Host(y), out)
	}
	if bias != nil {
		j := &c.j.bias
		*j = biasJob{y: Host(y), b: Host(bias), d: out}
		parallel.For(n, rowGrain(out), j)
	}
}

// LinearAdd implements Backend.
func (c *CPU) LinearAdd(y, x, w *Tensor) {
	n, in, out := rows(x), lastDim(x), w.dims[0]
	switch pb, packed := w.prep.(*gemm.PackedB); {
	case w.DType() != F32:
		bits, _ := HostData16(w)
		gemm.SgemmB16(false, n, out, in, 1, Host(x), in, bits, w.DType().half(), in, 1, Host(y), out)
	case packed && w.frozen:
		gemm.SgemmPacked(false, n, 1, Host(x), in, pb, 1, Host(y), out)
	default:
		gemm.Sgemm(false, true, n, out, in, 1, Host(x), in, Host(w), in, 1, Host(y), out)
	}
}

// LinearBackward implements Backend.
func (c *CPU) LinearBackward(dx, dw, dbias, dy, x, w *Tensor) {
	n, in, out := rows(x), lastDim(x), w.dims[0]
	if dx != nil {
		gemm.Sgemm(false, false, n, in, out, 1, Host(dy), out, Host(w), in, 1, Host(dx), in)
	}
	if dw != nil {
		gemm.Sgemm(true, false, out, in, n, 1, Host(dy), out, Host(x), in, 1, Host(dw), in)
	}
	if dbias != nil {
		j := &c.j.biasBwd
		j.dy, j.d = Host(dy), out
		j.sum.reset(n, out)
		parallel.For(j.sum.n, 1, j)
		c.sumInto(Host(dbias), &j.sum)
	}
}

// MatMul implements Backend.
func (c *CPU) MatMul(cc, a, b *Tensor, transA, transB bool, alpha, beta float32) {
	m, k := a.dims[0], a.dims[1]
	if transA {
		m, k = k, m
	}
	n := b.dims[1]
	if transB {
		n = b.dims[0]
	}
	gemm.Sgemm(transA, transB, m, n, k, alpha, Host(a), a.dims[1], Host(b), b.dims[1], beta, Host(cc), cc.dims[1])
}

// RoPE implements Backend.
func (c *CPU) RoPE(out, x *Tensor, pos []int32, table *RoPETable, heads int) {
	j := &c.j.rope
	*j = ropeJob{out: Host(out), x: Host(x), pos: pos, cos: Host(table.Cos), sin: Host(table.Sin), heads: heads, hd: table.HeadDim}
	parallel.For(len(pos), rowGrain(lastDim(x)), j)
}

// RoPEBackward implements Backend.
func (c *CPU) RoPEBackward(dx, dout *Tensor, pos []int32, table *RoPETable, heads int) {
	j := &c.j.rope
	*j = ropeJob{back: true, out: Host(dx), x: Host(dout), pos: pos, cos: Host(table.Cos), sin: Host(table.Sin), heads: heads, hd: table.HeadDim}
	parallel.For(len(pos), rowGrain(lastDim(dout)), j)
}

// Attention implements Backend.
func (c *CPU) Attention(out, lse, q, k, v *Tensor, d AttnDims, kStart []int32) {
	j := &c.j.attn
	j.out, j.lse, j.q, j.k, j.v, j.d, j.kStart = Host(out), Host(lse), Host(q), Host(k), Host(v), d, kStart
	j.scratch.reset(kernels.AttentionScratch(d.T))
	parallel.For(d.B*d.H, 1, j)
}

// AttentionBackward implements Backend.
func (c *CPU) AttentionBackward(dq, dk, dv, dout, out, lse, q, k, v *Tensor, d AttnDims, kStart []int32) {
	j := &c.j.attnBwd
	j.dq, j.dk, j.dv, j.dout, j.out, j.lse = Host(dq), Host(dk), Host(dv), Host(dout), Host(out), Host(lse)
	j.q, j.k, j.v, j.d, j.kStart = Host(q), Host(k), Host(v), d, kStart
	j.scratch.reset(kernels.AttentionScratch(d.T))
	parallel.For(d.B*d.KV, 1, j)
}

// CacheWrite implements Backend.
func (c *CPU) CacheWrite(kCache, vCache, k, v *Tensor, d AttnDims, maxLen, past int) {
	hd := d.HeadDim
	for _, w := range [2][2][]float32{{Host(kCache), Host(k)}, {Host(vCache), Host(v)}} {
		cd, xd := w[0], w[1]
		for b := 0; b < d.B; b++ {
			for t := 0; t < d.T; t++ {
				for g := 0; g < d.KV; g++ {
					src := xd[((b*d.T+t)*d.KV+g)*hd:][:hd]
					dst := cd[((b*d.KV+g)*maxLen+past+t)*hd:][:hd]
					copy(dst, src)
				}
			}
		}
	}
}

// AttentionDecode implements Backend.
func (c *CPU) AttentionDecode(out, q, kCache, vCache *Tensor, d AttnDims, maxLen, past int, kStart []int32) {
	j := &c.j.decode
	j.out, j.q, j.k, j.v, j.d, j.maxLen, j.past, j.kStart = Host(out), Host(q), Host(kCache), Host(vCache), d, maxLen, past, kStart
	j.scratch.reset(kernels.AttentionDecodeScratch(d.T, maxLen))
	parallel.For(d.B*d.H, 1, j)
}

// SwiGLU implements Backend.
func (c *CPU) SwiGLU(h, gate, up *Tensor) {
	j := &c.j.ew
	*j = ewJob{op: ewSwiGLU, a: Host(h), b: Host(gate), c: Host(up)}
	parallel.For(len(j.a), elemGrain, j)
}

// SwiGLUBackward implements Backend.
func (c *CPU) SwiGLUBackward(dGate, dUp, dh, gate, up *Tensor) {
	j := &c.j.ew
	*j = ewJob{op: ewSwiGLUBack, a: Host(dGate), b: Host(dUp), c: Host(dh), d: Host(gate), e: Host(up)}
	parallel.For(len(j.c), elemGrain, j)
}

// Add implements Backend.
func (c *CPU) Add(out, a, b *Tensor) {
	j := &c.j.ew
	*j = ewJob{op: ewAdd, a: Host(out), b: Host(a), c: Host(b)}
	parallel.For(len(j.a), elemGrain, j)
}

// Accumulate implements Backend.
func (c *CPU) Accumulate(dst, src *Tensor) {
	mustNotBeFrozen(dst)
	j := &c.j.ew
	*j = ewJob{op: ewAcc, a: Host(dst), b: Host(src)}
	parallel.For(len(j.a), elemGrain, j)
}

// GatherRows implements Backend.
func (c *CPU) GatherRows(out, x *Tensor, rowIDs []int32) {
	kernels.EmbeddingForward(Host(out), Host(x), rowIDs, lastDim(x), 0, len(rowIDs))
}

// ScatterRowsBackward implements Backend.
func (c *CPU) ScatterRowsBackward(dx, dout *Tensor, rowIDs []int32) {
	kernels.EmbeddingBackward(Host(dx), Host(dout), rowIDs, lastDim(dx), 0, len(rowIDs))
}

// TokenLogProbs implements Backend.
func (c *CPU) TokenLogProbs(lp, lse, logits *Tensor, targets []int32, invTemp float32) {
	j := &c.j.lp
	*j = lpJob{lp: Host(lp), lse: Host(lse), logits: Host(logits), targets: targets, v: lastDim(logits), invTemp: invTemp}
	parallel.For(len(targets), rowGrain(j.v), j)
}

// TokenLogProbsBackward implements Backend.
func (c *CPU) TokenLogProbsBackward(dlogits, glp, logits, lse *Tensor, targets []int32, invTemp float32) {
	j := &c.j.lp
	*j = lpJob{back: true, dlogits: Host(dlogits), lp: Host(glp), lse: Host(lse), logits: Host(logits), targets: targets, v: lastDim(logits), invTemp: invTemp}
	parallel.For(len(targets), rowGrain(j.v), j)
}

// KL implements Backend.
func (c *CPU) KL(kl, p, q *Tensor, invTemp float32) {
	j := &c.j.dist
	*j = distJob{kl: true, out: Host(kl), p: Host(p), q: Host(q), v: lastDim(p), invTemp: invTemp}
	parallel.For(rows(p), rowGrain(j.v), j)
}

// Entropy implements Backend.
func (c *CPU) Entropy(ent, logits *Tensor, invTemp float32) {
	j := &c.j.dist
	*j = distJob{out: Host(ent), p: Host(logits), v: lastDim(logits), invTemp: invTemp}
	parallel.For(rows(logits), rowGrain(j.v), j)
}

// Argmax implements Backend.
func (c *CPU) Argmax(out []int32, logits *Tensor) {
	kernels.ArgmaxRows(out, Host(logits), lastDim(logits), 0, rows(logits))
}

// AdamW implements Backend.
func (c *CPU) AdamW(p, g, m, v *Tensor, s AdamWStep) {
	mustNotBeFrozen(p)
	j := &c.j.adam
	*j = adamJob{p: Host(p), g: Host(g), m: Host(m), v: Host(v), s: s}
	parallel.For(len(j.p), elemGrain, j)
}

// SumSquaresEach implements Backend.
func (c *CPU) SumSquaresEach(ts []*Tensor, sums []float64) {
	for i, t := range ts {
		sums[i] = c.SumSquares(t)
	}
}

// SumSquares implements Backend.
func (c *CPU) SumSquares(t *Tensor) float64 {
	j := &c.j.sumsq
	j.x = Host(t)
	part := grow(&j.part, (len(j.x)+elemGrain-1)/elemGrain)
	parallel.For(len(part), 1, j)
	var s float64
	for _, p := range part {
		s += p
	}
	return s
}

// Scale implements Backend.
func (c *CPU) Scale(t *Tensor, s float32) {
	mustNotBeFrozen(t)
	j := &c.j.ew
	*j = ewJob{op: ewScale, a: Host(t), s: s}
	parallel.For(len(j.a), elemGrain, j)
}

// Mix implements Backend.
func (c *CPU) Mix(dst, src *Tensor, alpha float32) {
	mustNotBeFrozen(dst)
	if dst.DType() != F32 || src.DType() != F32 {
		c.mix16(dst, src, alpha)
		return
	}
	j := &c.j.ew
	*j = ewJob{op: ewMix, a: Host(dst), b: Host(src), s: alpha}
	parallel.For(len(j.a), elemGrain, j)
}

// NewRoPETable implements Backend.
func (c *CPU) NewRoPETable(maxPos, headDim int, theta float64) *RoPETable {
	rt := &RoPETable{MaxPos: maxPos, HeadDim: headDim, Theta: theta,
		Cos: c.New("rope.cos", maxPos, headDim/2), Sin: c.New("rope.sin", maxPos, headDim/2)}
	kernels.RoPETables(Host(rt.Cos), Host(rt.Sin), maxPos, headDim, theta)
	return rt
}

// ---- jobs: one preallocated value per kind, so dispatch never allocates ----

type cpuJobs struct {
	embed    embedJob
	rmsFwd   rmsFwdJob
	rmsBwd   rmsBwdJob
	sum      sumJob
	bias     biasJob
	biasBwd  biasBwdJob
	rope     ropeJob
	attn     attnJob
	attnBwd  attnBwdJob
	decode   decodeJob
	ew       ewJob
	lp       lpJob
	dist     distJob
	headGrad headGradJob
	block    blockJob
	blockKL  blockKLJob
	adam     adamJob
	sumsq    sumsqJob
}

// scratch hands each concurrent piece of a job its own work area.
type scratch struct {
	n    atomic.Int32
	bufs [][]float32
}

func (s *scratch) reset(size int) {
	for len(s.bufs) < parallel.Workers() {
		s.bufs = append(s.bufs, nil)
	}
	for i := range s.bufs {
		if cap(s.bufs[i]) < size {
			s.bufs[i] = make([]float32, size)
		}
		s.bufs[i] = s.bufs[i][:size]
	}
	s.n.Store(0)
}

func (s *scratch) take() []float32 {
	i := int(s.n.Add(1)) - 1
	if i >= len(s.bufs) {
		panic("compute: more concurrent pieces than workers")
	}
	return s.bufs[i]
}

type embedJob struct {
	out, table []float32
	ids        []int32
	d          int
}

func (j *embedJob) Run(lo, hi int) { kernels.EmbeddingForward(j.out, j.table, j.ids, j.d, lo, hi) }

type rmsFwdJob struct {
	y, rstd, x, w []float32
	d             int
	eps           float32
}

func (j *rmsFwdJob) Run(lo, hi int) {
	kernels.RMSNormForward(j.y, j.rstd, j.x, j.w, j.d, j.eps, lo, hi)
}

type rmsBwdJob struct {
	dx, dy, x, w, rstd []float32
	d                  int
	dw                 chunked // dw by chunks of rows (Run's range: chunks)
}

func (j *rmsBwdJob) Run(lo, hi int) {
	for i := lo; i < hi; i++ {
		part, rlo, rhi := j.dw.chunk(i)
		kernels.RMSNormBackward(j.dx, part, j.dy, j.x, j.w, j.rstd, j.d, rlo, rhi)
	}
}

type biasJob struct {
	y, b []float32
	d    int
}

func (j *biasJob) Run(lo, hi int) { kernels.AddBias(j.y, j.b, j.d, lo, hi) }

type biasBwdJob struct {
	dy  []float32
	d   int
	sum chunked // Run's range: chunks
}

func (j *biasBwdJob) Run(lo, hi int) {
	for i := lo; i < hi; i++ {
		part, rlo, rhi := j.sum.chunk(i)
		kernels.BiasBackward(part, j.dy, j.d, rlo, rhi)
	}
}

type ropeJob struct {
	back             bool
	out, x, cos, sin []float32
	pos              []int32
	heads, hd        int
}

func (j *ropeJob) Run(lo, hi int) {
	if j.back {
		kernels.RoPEBackward(j.out, j.x, j.pos, j.cos, j.sin, j.heads, j.hd, lo, hi)
		return
	}
	kernels.RoPEForward(j.out, j.x, j.pos, j.cos, j.sin, j.heads, j.hd, lo, hi)
}

type attnJob struct {
	out, lse, q, k, v []float32
	d                 AttnDims
	kStart            []int32
	scratch           scratch
}

func (j *attnJob) Run(lo, hi int) {
	d := j.d
	kernels.AttentionForward(j.out, j.lse, j.q, j.k, j.v, d.B, d.T, d.H, d.KV, d.HeadDim, j.kStart, j.scratch.take(), lo, hi)
}

type attnBwdJob struct {
	dq, dk, dv, dout, out, lse, q, k, v []float32
	d                                   AttnDims
	kStart                              []int32
	scratch                             scratch
}

func (j *attnBwdJob) Run(lo, hi int) {
	d := j.d
	kernels.AttentionBackward(j.dq, j.dk, j.dv, j.dout, j.out, j.lse, j.q, j.k, j.v, d.B, d.T, d.H, d.KV, d.HeadDim, j.kStart, j.scratch.take(), lo, hi)
}

type decodeJob struct {
	out, q, k, v []float32
	d            AttnDims
	maxLen, past int
	kStart       []int32
	scratch      scratch
}

func (j *decodeJob) Run(lo, hi int) {
	d := j.d
	kernels.AttentionDecode(j.out, j.q, j.k, j.v, d.B, d.T, d.H, d.KV, d.HeadDim, j.maxLen, j.past, j.kStart, j.scratch.take(), lo, hi)
}

type ewOp uint8

const (
	ewAdd ewOp = iota
	ewAcc
	ewScale
	ewMix
	ewSwiGLU
	ewSwiGLUBack
)

// ewJob runs the elementwise kernels; the operands' meaning depends on op.
type ewJob struct {
	op            ewOp
	a, b, c, d, e []float32
	s             float32
}

func (j *ewJob) Run(lo, hi int) {
	switch j.op {
	case ewAdd:
		kernels.Add(j.a, j.b, j.c, lo, hi)
	case ewAcc:
		kernels.Accumulate(j.a, j.b, lo, hi)
	case ewScale:
		kernels.Scale(j.a, j.s, lo, hi)
	case ewMix:
		kernels.Mix(j.a, j.b, j.s, lo, hi)
	case ewSwiGLU:
		kernels.SwiGLUForward(j.a, j.b, j.c, lo, hi)
	case ewSwiGLUBack:
		kernels.SwiGLUBackward(j.a, j.b, j.c, j.d, j.e, lo, hi)
	}
}

type lpJob struct {
	back                     bool
	lp, lse, logits, dlogits []float32
	targets                  []int32
	v                        int
	invTemp                  float32
}

func (j *lpJob) Run(lo, hi int) {
	if j.back {
		kernels.TokenLogProbsBackward(j.dlogits, j.lp, j.logits, j.lse, j.targets, j.v, j.invTemp, lo, hi)
		return
	}
	kernels.TokenLogProbs(j.lp, j.lse, j.logits, j.targets, j.v, j.invTemp, lo, hi)
}

type distJob struct {
	kl        bool
	out, p, q []float32
	v         int
	invTemp   float32
}

func (j *distJob) Run(lo, hi int) {
	if j.kl {
		kernels.KLRows(j.out, j.p, j.q, j.v, j.invTemp, lo, hi)
		return
	}
	kernels.EntropyRows(j.out, j.p, j.v, j.invTemp, lo, hi)
}

type adamJob struct {
	p, g, m, v []float32
	s          AdamWStep
}

func (j *adamJob) Run(lo, hi int) {
	s := j.s
	kernels.AdamW(j.p, j.g, j.m, j.v, s.LR, s.Beta1, s.Beta2, s.Eps, s.WeightDecay, s.BC1, s.BC2, lo, hi)
}

// sumsqJob sums the squares of x in chunks of elemGrain elements, a fixed
// split whatever the worker count, and keeps each chunk's sum in its place:
// the chunks are added in order, so the total has the same bits on any
// number of workers.
type sumsqJob struct {
	x    []float32
	part []float64
}

func (j *sumsqJob) Run(lo, hi int) {
	for i := lo; i < hi; i++ {
		j.part[i] = kernels.SumSquares(j.x, i*elemGrain, min((i+1)*elemGrain, len(j.x)))
	}
}

// FreezeWeights implements Backend: each weight is packed once as the B
// operand of Linear's product (x·wᵀ), into memory kept from its last freeze.
// A 16-bit weight is not packed (that would be the float32 copy it exists to
// avoid): Linear widens it at every call.
func (c *CPU) FreezeWeights(ws []*Tensor) {
	for _, w := range ws {
		if w.rank != 2 {
			panic(fmt.Sprintf("compute: freeze %v: a Linear weight is 2-D", w))
		}
		if w.DType() != F32 {
			w.frozen = true
			continue
		}
		pb, _ := w.prep.(*gemm.PackedB)
		if pb == nil {
			pb = new(gemm.PackedB)
			w.prep = pb
		}
		out, in := w.dims[0], w.dims[1]
		pb.Pack(true, out, in, Host(w), in)
		w.frozen = true
	}
}

// FrozenBytes is the host memory FreezeWeights keeps for a float32 weight
// [out, in] on the CPU: its packed copy, as large as the weight again (its
// columns rounded up to the micro-kernel's strips), kept beside it for the
// rest of the process (the next freeze reuses it). A 16-bit weight, or a
// GPU's, keeps none.
func FrozenBytes(out, in int) int64 { return 4 * int64(gemm.PackedLen(out, in)) }

// ThawWeights implements Backend.
func (c *CPU) ThawWeights(ws []*Tensor) {
	for _, w := range ws {
		w.frozen = false
	}
}

// mustNotBeFrozen guards the writes a weight can receive: a frozen weight
// changed in place would leave its packed copy stale.
func mustNotBeFrozen(t *Tensor) {
	if t.frozen {
		panic(fmt.Sprintf("compute: %v is frozen (FreezeWeights) and must not change until ThawWeights", t))
	}
}

// chunk16 is how many elements copy16 and mix16 convert at a time.
const chunk16 = 1 << 14

// copy16 is Copy where either side is 16-bit: widening is exact, narrowing
// rounds to nearest even; a chunk at a time, so no full float32 copy exists.
func (c *CPU) copy16(dst, src *Tensor) {
	if dst.Len() != src.Len() {
		panic(fmt.Sprintf("compute: copy %v into %v", src, dst))
	}
	db, d16 := HostData16(dst)
	sb, s16 := HostData16(src)
	switch {
	case d16 && s16 && dst.DType() == src.DType():
		copy(db, sb)
	case d16 && s16:
		var buf [chunk16]float32
		for lo := 0; lo < len(db); lo += chunk16 {
			hi := min(lo+chunk16, len(db))
			half.Widen(src.DType().half(), buf[:hi-lo], sb[lo:hi])
			half.Narrow(dst.DType().half(), db[lo:hi], buf[:hi-lo])
		}
	case d16:
		half.Narrow(dst.DType().half(), db, Host(src))
	default:
		half.Widen(src.DType().half(), Host(dst), sb)
	}
}

// mix16 is Mix where either side is 16-bit: computed in float32, then
// rounded into a 16-bit dst.
func (c *CPU) mix16(dst, src *Tensor, alpha float32) {
	if dst.Len() != src.Len() {
		panic(fmt.Sprintf("compute: mix %v into %v", src, dst))
	}
	var a, b [chunk16]float32
	n := dst.Len()
	for lo := 0; lo < n; lo += chunk16 {
		hi := min(lo+chunk16, n)
		x, y := a[:hi-lo], b[:hi-lo]
		c.readRange(x, dst, lo)
		c.readRange(y, src, lo)
		kernels.Mix(x, y, alpha, 0, len(x))
		if bits, ok := HostData16(dst); ok {
			half.Narrow(dst.DType().half(), bits[lo:hi], x)
		} else {
			copy(Host(dst)[lo:hi], x)
		}
	}
}

// readRange widens elements [lo, lo+len(dst)) of t into dst.
func (c *CPU) readRange(dst []float32, t *Tensor, lo int) {
	if bits, ok := HostData16(t); ok {
		half.Widen(t.DType().half(), dst, bits[lo:lo+len(dst)])
		return
	}
	copy(dst, Host(t)[lo:lo+len(dst)])
}
