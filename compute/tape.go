package compute

import (
	"errors"
	"fmt"
	"slices"
)

// Tape records coarse operations (a linear layer, an attention block, a
// log-prob gather) as they run forward, then replays them backwards to
// accumulate gradients into the tensors that need them.
//
// A Tape owns the activations it makes: they come from an arena that Reset
// rewinds, so a training loop of constant shapes allocates nothing after its
// first step. Tensors a Tape returns are valid until the next Reset.
//
// Errors are sticky, as in bufio.Scanner: the first misuse (a shape mismatch,
// an id out of range) is kept, every later operation returns nil, and Err
// reports it. Integer slices given to operations (ids, positions, targets)
// are kept by reference until Backward: do not change them before it.
type Tape struct {
	be     Backend
	record bool
	nodes  []node
	acts   arena // forward outputs and saved tensors
	grads  arena // activation gradients
	err    error
	sub    *Tape // runs checkpointed segments
}

type opKind uint8

const (
	opEmbedding opKind = iota
	opRMSNorm
	opLinear
	opRoPE
	opAttention
	opSwiGLU
	opAdd
	opGather
	opLogProbs
	opHead
	opCheckpoint
)

var opNames = [...]string{"embedding", "rmsnorm", "linear", "rope", "attention", "swiglu", "add", "gather", "logprobs", "head", "checkpoint"}

type node struct {
	op         opKind
	out        *Tensor
	a, b, c, d *Tensor
	ids        []int32
	f          float32
	heads      int
	vocab      int
	rope       *RoPETable
	attn       AttnDims
	seg        Segment
	key        uint64
}

// NewTape returns a recording tape on be.
func NewTape(be Backend) *Tape {
	return &Tape{be: be, record: true, acts: arena{be: be}, grads: arena{be: be}}
}

// Backend returns the tape's backend.
func (t *Tape) Backend() Backend { return t.be }

// SetRecording turns gradient recording on or off. With it off (no-grad
// mode, for sampling and scoring) nothing is kept for backward.
func (t *Tape) SetRecording(on bool) { t.record = on }

// Recording reports whether operations are recorded for backward.
func (t *Tape) Recording() bool { return t.record }

// Reset forgets recorded operations and rewinds the arenas. Tensors returned
// before Reset must not be used after it.
func (t *Tape) Reset() {
	clear(t.nodes)
	t.nodes = t.nodes[:0]
	t.acts.reset()
	t.grads.reset()
	t.err = nil
}

// Mark returns the position of the activation arena, to end a scope with
// Keep.
func (t *Tape) Mark() int { return t.acts.next }

// Keep ends a scope begun at mark. In no-grad mode nothing made since mark
// is needed again except x, so the arena takes those tensors back for what
// follows, and x's values move to the scope's first slot: a forward pass
// that keeps only its residual stream between layers then needs one
// layer's activations, not every layer's. Once an operation is recorded for
// backward, backward may need everything, and Keep changes nothing. It
// returns the tensor that holds x's values from now on.
func (t *Tape) Keep(mark int, x *Tensor) *Tensor {
	if len(t.nodes) > 0 || t.err != nil || x == nil || mark < 0 || mark > t.acts.next {
		return x
	}
	a := &t.acts
	j := mark
	for ; j < a.next && a.items[j] != x; j++ {
	}
	if j == a.next { // x was made before the scope
		a.next = mark
		return x
	}
	if j == mark {
		a.next = mark + 1
		return x
	}
	// Where the scope's first slot holds storage of x's size (a layer's
	// first activation and its output are both [N, d]), the two slots
	// trade tensors and x stays where it is: no copy, which on a device is
	// a command and a barrier. Otherwise x is copied, not swapped: each
	// slot keeps the storage sized for what is asked of it there, so the
	// arena stops growing after the first passes.
	if a.items[mark].storage.Len() == x.storage.Len() {
		a.items[mark], a.items[j] = x, a.items[mark]
		a.next = mark + 1
		return x
	}
	a.next = mark
	y := a.get(x.Name, shapeOf(x))
	t.be.Copy(y, x)
	return y
}

// Fail records err as the tape's error unless one is already kept, so
// callers building on the tape report their own misuse the same way.
func (t *Tape) Fail(err error) {
	if t.err == nil && err != nil {
		t.err = err
	}
}

// Err returns the first error any operation met since the last Reset, or
// else the backend's failure (Backend.Err).
func (t *Tape) Err() error {
	if t.err != nil {
		return t.err
	}
	return t.be.Err()
}

func (t *Tape) fail(op string, format string, args ...any) *Tensor {
	if t.err == nil {
		t.err = fmt.Errorf("%s: %s", op, fmt.Sprintf(format, args...))
	}
	return nil
}

// needs reports whether any input needs a gradient, i.e. whether the
// operation must be recorded.
func (t *Tape) needs(ins ...*Tensor) bool {
	if !t.record {
		return false
	}
	for _, x := range ins {
		if x != nil && x.requiresGrad {
			return true
		}
	}
	return false
}

func (t *Tape) push(n node) {
	n.out.requiresGrad = true
	t.nodes = append(t.nodes, n)
}

func (t *Tape) ok(ins ...*Tensor) bool {
	if t.err != nil {
		return false
	}
	for _, x := range ins {
		if x == nil {
			t.err = errors.New("operation on a nil tensor (an earlier error may have been ignored)")
			return false
		}
	}
	return true
}

// RequireGrad marks a parameter as trainable and gives it a zeroed gradient.
func RequireGrad(be Backend, p *Tensor) {
	if p.DType() != F32 {
		panic(fmt.Sprintf("compute: %v is a frozen 16-bit weight and takes no gradient (load the model in float32 to train it)", p))
	}
	p.requiresGrad = true
	if p.Grad == nil {
		p.Grad = be.New(p.Name+".grad", p.Shape()...)
	}
}

// RequiresGrad reports whether gradients flow into t.
func (t *Tensor) RequiresGrad() bool { return t.requiresGrad }

func checkIDs(ids []int32, limit int) (int, bool) {
	for i, id := range ids {
		if id < 0 || int(id) >= limit {
			return i, false
		}
	}
	return 0, true
}

// Embedding looks up rows of table [V, d] for ids, giving [len(ids), d].
func (t *Tape) Embedding(table *Tensor, ids []int32) *Tensor {
	if !t.ok(table) {
		return nil
	}
	if table.rank != 2 {
		return t.fail("embedding", "table %v must be 2-D", table)
	}
	if i, ok := checkIDs(ids, table.dims[0]); !ok {
		return t.fail("embedding", "id %d at position %d is outside table %v", ids[i], i, table)
	}
	out := t.acts.get("embedding.out", dims2(len(ids), table.dims[1]))
	t.be.Embedding(out, table, ids)
	if t.needs(table) {
		t.push(node{op: opEmbedding, out: out, a: table, ids: ids})
	}
	return out
}

// RMSNorm normalises the rows of x [N, d] and scales them by w [d].
func (t *Tape) RMSNorm(x, w *Tensor, eps float32) *Tensor {
	if !t.ok(x, w) {
		return nil
	}
	d := lastDim(x)
	if w.Len() != d {
		return t.fail("rmsnorm", "weight %v does not match rows of width %d in %v", w, d, x)
	}
	y := t.acts.get("rmsnorm.out", shapeOf(x))
	rstd := t.acts.get("rmsnorm.rstd", dims1(rows(x)))
	t.be.RMSNorm(y, rstd, x, w, eps)
	if t.needs(x, w) {
		t.push(node{op: opRMSNorm, out: y, a: x, b: w, c: rstd})
	}
	return y
}

// Linear computes x·wᵀ + bias for x [N, in], w [out, in], bias [out] or nil.
func (t *Tape) Linear(x, w, bias *Tensor) *Tensor {
	if !t.ok(x, w) {
		return nil
	}
	if x.rank != 2 || w.rank != 2 || x.dims[1] != w.dims[1] {
		return t.fail("linear", "input %v and weight %v: want x [N, in] and w [out, in]", x, w)
	}
	if bias != nil && bias.Len() != w.dims[0] {
		return t.fail("linear", "bias %v does not match weight %v", bias, w)
	}
	y := t.acts.get("linear.out", dims2(x.dims[0], w.dims[0]))
	t.be.Linear(y, x, w, bias)
	if t.needs(x, w, bias) {
		t.push(node{op: opLinear, out: y, a: x, b: w, c: bias})
	}
	return y
}

// AddLinear is x + a·wᵀ for x [N, out], a [N, in], w [out, in]: a residual
// stream's update after a projection, whose old value is not needed again.
// Without recording, and where x is an activation of this tape, it is
// written into x: one product and no separate add (on a device a command
// and a barrier fewer). Otherwise (recording; x a weight, or another
// tape's, as a checkpointed segment's input is) it is Add(x, Linear(a, w,
// nil)) and x is left as it was.
func (t *Tape) AddLinear(x, a, w *Tensor) *Tensor {
	if t.record || !t.acts.holds(x) {
		return t.Add(x, t.Linear(a, w, nil))
	}
	if !t.ok(x, a, w) {
		return nil
	}
	if a.rank != 2 || w.rank != 2 || a.dims[1] != w.dims[1] || shapeOf(x) != dims2(a.dims[0], w.dims[0]) {
		return t.fail("add linear", "%v + %v·%vᵀ: want x [N, out], a [N, in] and w [out, in]", x, a, w)
	}
	t.be.LinearAdd(x, a, w)
	return x
}

// Linear3 is Linear(n(x), w[i], bias[i]) for i = 0, 1, 2 (a layer's q, k
// and v projections), n(x) being RMSNorm(x, norm.W, norm.Eps), or x when
// norm.W is nil. Without recording, a backend that multiplies these rows by
// three weights of one type in one pass (Linear3er) computes them so, the
// norm folded in; otherwise they are RMSNorm and three Linear calls.
func (t *Tape) Linear3(x *Tensor, norm PreNorm, w, bias [3]*Tensor) (y [3]*Tensor) {
	l3, fuses := t.be.(Linear3er)
	same := w[0] != nil && w[1] != nil && w[2] != nil && w[0].DType() == w[1].DType() && w[1].DType() == w[2].DType()
	if t.record || !fuses || !same || !t.ok(x) || !l3.CanLinear3(x.dims[0], w[0].DType()) {
		h := t.preNorm(x, norm)
		for i := range y {
			y[i] = t.Linear(h, w[i], bias[i])
		}
		return y
	}
	if !t.okNorm(x, norm) {
		return [3]*Tensor{}
	}
	for i := range w {
		if x.rank != 2 || w[i].rank != 2 || x.dims[1] != w[i].dims[1] || (bias[i] != nil && bias[i].Len() != w[i].dims[0]) {
			t.fail("linear", "input %v, weight %v and bias %v: want x [N, in], w [out, in] and bias [out] or nil", x, w[i], bias[i])
			return [3]*Tensor{}
		}
	}
	for i := range y {
		y[i] = t.acts.get("linear.out", dims2(x.dims[0], w[i].dims[0]))
	}
	l3.Linear3(y, x, norm, w, bias)
	return y
}

// GatedLinear is silu(n(x)·gateᵀ)·(n(x)·upᵀ) for x [N, in] and gate, up
// [out, in]: a gated MLP's first half, n as Linear3's. Without recording,
// a backend that gates these rows in one pass (GatedLinearer) computes it
// so; otherwise it is SwiGLUOver(Linear(n(x), gate), Linear(n(x), up)).
func (t *Tape) GatedLinear(x *Tensor, norm PreNorm, gate, up *Tensor) *Tensor {
	if !t.ok(x, gate, up) {
		return nil
	}
	gl, fuses := t.be.(GatedLinearer)
	if t.record || !fuses || !SameShape(gate, up) || gate.DType() != up.DType() || !gl.CanGate(x.dims[0], gate.DType()) {
		h := t.preNorm(x, norm)
		return t.SwiGLUOver(t.Linear(h, gate, nil), t.Linear(h, up, nil))
	}
	if !t.okNorm(x, norm) {
		return nil
	}
	if x.rank != 2 || gate.rank != 2 || x.dims[1] != gate.dims[1] {
		return t.fail("gated linear", "input %v and weights %v, %v: want x [N, in] and gate, up [out, in]", x, gate, up)
	}
	h := t.acts.get("glu.out", dims2(x.dims[0], gate.dims[0]))
	gl.GatedLinear(h, x, norm, gate, up)
	return h
}

// preNorm is n(x) of a fused op composed of its parts: RMSNorm(x, norm)
// when norm.W is set, else x.
func (t *Tape) preNorm(x *Tensor, norm PreNorm) *Tensor {
	if norm.W == nil {
		return x
	}
	return t.RMSNorm(x, norm.W, norm.Eps)
}

// okNorm checks a fused op's norm against its input x, as RMSNorm would.
func (t *Tape) okNorm(x *Tensor, norm PreNorm) bool {
	if norm.W == nil {
		return true
	}
	if !t.ok(norm.W) {
		return false
	}
	if norm.W.Len() != lastDim(x) {
		t.fail("rmsnorm", "weight %v does not match rows of width %d in %v", norm.W, lastDim(x), x)
		return false
	}
	return true
}

// RoPE rotates the heads of x [N, heads·hd] by the positions pos [N].
func (t *Tape) RoPE(x *Tensor, pos []int32, table *RoPETable, heads int) *Tensor {
	if !t.ok(x) || !t.okRoPE(x, pos, table, heads) {
		return nil
	}
	out := t.acts.get("rope.out", shapeOf(x))
	t.be.RoPE(out, x, pos, table, heads)
	if t.needs(x) {
		t.push(node{op: opRoPE, out: out, a: x, ids: pos, rope: table, heads: heads})
	}
	return out
}

// okRoPE checks that x [N, heads·hd] can be rotated at the positions pos
// by table, failing the tape where not.
func (t *Tape) okRoPE(x *Tensor, pos []int32, table *RoPETable, heads int) bool {
	if x.rank != 2 || x.dims[0] != len(pos) || x.dims[1] != heads*table.HeadDim {
		t.fail("rope", "input %v: want [%d, %d·%d]", x, len(pos), heads, table.HeadDim)
		return false
	}
	if i, ok := checkIDs(pos, table.MaxPos); !ok {
		t.fail("rope", "position %d at row %d is beyond the table's %d positions", pos[i], i, table.MaxPos)
		return false
	}
	return true
}

// Attention runs causal grouped-query attention: q [B·T, H·hd], k and v
// [B·T, KV·hd]; kStart[b] (or nil) is the first real token of sequence b.
func (t *Tape) Attention(q, k, v *Tensor, d AttnDims, kStart []int32) *Tensor {
	if !t.ok(q, k, v) {
		return nil
	}
	n := d.B * d.T
	if q.Len() != n*d.H*d.HeadDim || k.Len() != n*d.KV*d.HeadDim || v.Len() != n*d.KV*d.HeadDim {
		return t.fail("attention", "q %v, k %v, v %v do not fit B=%d T=%d H=%d KV=%d hd=%d", q, k, v, d.B, d.T, d.H, d.KV, d.HeadDim)
	}
	if d.KV == 0 || d.H%d.KV != 0 {
		return t.fail("attention", "%d query heads cannot share %d kv heads", d.H, d.KV)
	}
	if kStart != nil && len(kStart) != d.B {
		return t.fail("attention", "kStart has %d entries for %d sequences", len(kStart), d.B)
	}
	out := t.acts.get("attention.out", dims2(n, d.H*d.HeadDim))
	rec := t.needs(q, k, v)
	var lse *Tensor
	if rec {
		lse = t.acts.get("attention.lse", dims1(d.B*d.H*d.T))
	} else {
		lse = t.acts.scratch("attention.lse", d.B*d.H*d.T)
	}
	t.be.Attention(out, lse, q, k, v, d, kStart)
	if rec {
		t.push(node{op: opAttention, out: out, a: q, b: k, c: v, d: lse, attn: d, ids: kStart})
	}
	return out
}

// SwiGLU computes silu(gate)·up elementwise.
func (t *Tape) SwiGLU(gate, up *Tensor) *Tensor {
	if !t.ok(gate, up) {
		return nil
	}
	if !SameShape(gate, up) {
		return t.fail("swiglu", "gate %v and up %v differ", gate, up)
	}
	h := t.acts.get("swiglu.out", shapeOf(gate))
	t.be.SwiGLU(h, gate, up)
	if t.needs(gate, up) {
		t.push(node{op: opSwiGLU, out: h, a: gate, b: up})
	}
	return h
}

// SwiGLUOver is SwiGLU that writes its result over gate when nothing
// records gate or up for backward (a no-grad forward), saving a [N, ff]
// activation: the largest of a decoder layer. The caller must not read
// gate again. When they are recorded it is SwiGLU.
func (t *Tape) SwiGLUOver(gate, up *Tensor) *Tensor {
	if !t.ok(gate, up) {
		return nil
	}
	if t.needs(gate, up) {
		return t.SwiGLU(gate, up)
	}
	if !SameShape(gate, up) {
		return t.fail("swiglu", "gate %v and up %v differ", gate, up)
	}
	t.be.SwiGLU(gate, gate, up)
	return gate
}

// Add returns a + b.
func (t *Tape) Add(a, b *Tensor) *Tensor {
	if !t.ok(a, b) {
		return nil
	}
	if !SameShape(a, b) {
		return t.fail("add", "%v and %v differ", a, b)
	}
	out := t.acts.get("add.out", shapeOf(a))
	t.be.Add(out, a, b)
	if t.needs(a, b) {
		t.push(node{op: opAdd, out: out, a: a, b: b})
	}
	return out
}

// GatherRows picks rows of a 2-D x, e.g. the last token of each sequence.
func (t *Tape) GatherRows(x *Tensor, rowIDs []int32) *Tensor {
	if !t.ok(x) {
		return nil
	}
	if x.rank != 2 {
		return t.fail("gather", "input %v must be 2-D", x)
	}
	if i, ok := checkIDs(rowIDs, x.dims[0]); !ok {
		return t.fail("gather", "row %d at position %d is outside %v", rowIDs[i], i, x)
	}
	out := t.acts.get("gather.out", dims2(len(rowIDs), x.dims[1]))
	t.be.GatherRows(out, x, rowIDs)
	if t.needs(x) {
		t.push(node{op: opGather, out: out, a: x, ids: rowIDs})
	}
	return out
}

// TokenLogProbs returns, for each row of logits [N, V], the log-probability
// of targets[n] under softmax(logits·invTemp); rows with target < 0 give 0.
func (t *Tape) TokenLogProbs(logits *Tensor, targets []int32, invTemp float32) *Tensor {
	if !t.ok(logits) {
		return nil
	}
	if logits.rank != 2 || logits.dims[0] != len(targets) {
		return t.fail("logprobs", "logits %v for %d targets", logits, len(targets))
	}
	for i, id := range targets {
		if int(id) >= logits.dims[1] {
			return t.fail("logprobs", "target %d at row %d is outside the vocabulary of %v", id, i, logits)
		}
	}
	lp := t.acts.get("logprobs.out", dims1(len(targets)))
	lse := t.acts.get("logprobs.lse", dims1(len(targets)))
	t.be.TokenLogProbs(lp, lse, logits, targets, invTemp)
	if t.needs(logits) {
		t.push(node{op: opLogProbs, out: lp, a: logits, c: lse, ids: targets, f: invTemp})
	}
	return lp
}

// HeadLogProbs is TokenLogProbs(Linear(h, w, nil), targets, invTemp)
// without the [N, V] logits (Backend.HeadLogProbs): for h [N, d] and the LM
// head w [V, d] it returns lp [N], the log-probability of targets[n] under
// softmax((h[n]·wᵀ)·invTemp); rows with target < 0 give 0 and cost nothing.
// Gradients flow to h and w; backward recomputes the logits a chunk of rows
// at a time.
func (t *Tape) HeadLogProbs(h, w *Tensor, targets []int32, invTemp float32) *Tensor {
	lp, _ := t.head(h, w, 0, targets, invTemp, false)
	return lp
}

// HeadLogProbsRows is HeadLogProbs over the first vocab rows of w only:
// the vocabulary a table padded further than another's shares with it
// (rlt.Pair). The rows are used in place, without a copy; gradients reach
// only those rows of w.
func (t *Tape) HeadLogProbsRows(h, w *Tensor, vocab int, targets []int32, invTemp float32) *Tensor {
	if w != nil && (vocab < 1 || vocab > w.dims[0]) {
		return t.fail("head", "%d vocabulary rows of head %v", vocab, w)
	}
	lp, _ := t.head(h, w, vocab, targets, invTemp, false)
	return lp
}

// HeadLogProbsEntropy is HeadLogProbs that also returns each row's entropy
// of softmax((h[n]·wᵀ)·invTemp) (0 for rows with target < 0), from the same
// pass over the logits. Gradients flow through lp only: ent carries none.
func (t *Tape) HeadLogProbsEntropy(h, w *Tensor, targets []int32, invTemp float32) (lp, ent *Tensor) {
	return t.head(h, w, 0, targets, invTemp, true)
}

// head runs the fused head over w's first vocab rows (all when 0).
func (t *Tape) head(h, w *Tensor, vocab int, targets []int32, invTemp float32, wantEnt bool) (lp, ent *Tensor) {
	if !t.ok(h, w) {
		return nil, nil
	}
	if vocab == 0 {
		vocab = w.dims[0]
	}
	if h.rank != 2 || w.rank != 2 || h.dims[1] != w.dims[1] {
		return t.fail("head", "hidden %v and head %v: want h [N, d] and w [V, d]", h, w), nil
	}
	if h.dims[0] != len(targets) {
		return t.fail("head", "hidden %v for %d targets", h, len(targets)), nil
	}
	for i, id := range targets {
		if int(id) >= vocab {
			return t.fail("head", "target %d at row %d is outside the %d-row vocabulary of %v", id, i, vocab, w), nil
		}
	}
	lp = t.acts.get("head.lp", dims1(len(targets)))
	lse := t.acts.get("head.lse", dims1(len(targets)))
	if wantEnt {
		ent = t.acts.get("head.entropy", dims1(len(targets)))
	}
	t.be.HeadLogProbs(lp, lse, ent, h, w, vocab, targets, invTemp)
	if t.needs(h, w) {
		t.push(node{op: opHead, out: lp, a: h, b: w, c: lse, ids: targets, f: invTemp, vocab: vocab})
	}
	return lp, ent
}

// HeadKL returns, for hidden rows hp [N, dp] under head wp [V, dp] and hq
// [N, dq] under wq [V, dq] (two models over one vocabulary), the full-
// vocabulary KL(softmax(hp[n]·wpᵀ·invTemp) ‖ softmax(hq[n]·wqᵀ·invTemp))
// without [N, V] logits (Backend.HeadKL), over the first vocab rows of
// both heads (the rows two differently padded tables share; 0 means all,
// and then both heads must have as many). It has no backward: a tape that
// would record it fails.
func (t *Tape) HeadKL(hp, wp, hq, wq *Tensor, vocab int, invTemp float32) *Tensor {
	if !t.ok(hp, wp, hq, wq) {
		return nil
	}
	if t.needs(hp, wp, hq, wq) {
		return t.fail("head kl", "the full-vocabulary KL has no backward: turn recording off")
	}
	if hp.rank != 2 || wp.rank != 2 || hq.rank != 2 || wq.rank != 2 || hp.dims[1] != wp.dims[1] || hq.dims[1] != wq.dims[1] {
		return t.fail("head kl", "hidden %v under head %v and %v under %v: want h [N, d] and w [V, d]", hp, wp, hq, wq)
	}
	if vocab == 0 && wp.dims[0] == wq.dims[0] {
		vocab = wp.dims[0]
	}
	if hp.dims[0] != hq.dims[0] || vocab < 1 || vocab > wp.dims[0] || vocab > wq.dims[0] {
		return t.fail("head kl", "%v under %v and %v under %v over %d vocabulary rows: want as many rows and heads holding the vocabulary", hp, wp, hq, wq, vocab)
	}
	kl := t.acts.get("head.kl", dims1(hp.dims[0]))
	t.be.HeadKL(kl, hp, wp, hq, wq, vocab, invTemp)
	return kl
}

// Backward seeds the gradient of out with seed (d loss / d out, one value
// per element) and accumulates gradients into every tensor that requires
// them. Parameter gradients accumulate across calls until zeroed, which is
// how gradient accumulation over micro-batches works.
func (t *Tape) Backward(out *Tensor, seed []float32) error {
	if t.err != nil {
		return t.err
	}
	if out == nil {
		return errors.New("backward: nil output")
	}
	if !t.record {
		return errors.New("backward: the tape is in no-grad mode")
	}
	if len(seed) != out.Len() {
		return fmt.Errorf("backward: seed has %d values for %v", len(seed), out)
	}
	if !out.requiresGrad {
		return fmt.Errorf("backward: %v does not depend on any parameter that requires a gradient", out)
	}
	g := t.gradOf(out)
	t.be.Write(g, seed)
	t.replay()
	return t.Err()
}

// replay runs the recorded operations backwards from gradients already seeded.
// Once an operation's backward has run, its output's gradient is complete
// and used up (every operation that read the output came later and ran
// first), so it goes back to the gradient arena for the gradients still to
// come: the arena holds the gradients alive at one point of the backward
// (a layer's), not one per activation.
func (t *Tape) replay() {
	for i := len(t.nodes) - 1; i >= 0 && t.err == nil; i-- {
		n := &t.nodes[i]
		dy := n.out.Grad
		if dy == nil {
			continue
		}
		t.backward(n, dy)
		n.out.Grad = nil
		t.grads.release(dy)
	}
}

// Segment is a piece of a network (a decoder layer) that a tape can run
// without keeping its inner activations and run again during backward:
// activation checkpointing. Forward must compute the same values each time
// between a forward pass and its backward, from x and the segment's own
// state. Key names that state: it must change whenever the state does (a
// new batch), so that a backward after the segment was reused for another
// forward is refused instead of silently wrong.
type Segment interface {
	Forward(tp *Tape, x *Tensor) *Tensor
	Key() uint64
}

// Checkpoint runs seg on x and keeps only its output: its inner
// activations live in a scratch tape that the next segment reuses. When
// recording, backward runs seg again (recording) before differentiating
// it, so memory holds one segment's activations instead of all of them,
// for one more forward of the segment; gradients are bit-identical to
// running seg on this tape directly. Without recording (scoring, a
// prefill) it costs only a copy of the output, and seg's state is not
// needed after the call.
func (t *Tape) Checkpoint(seg Segment, x *Tensor) *Tensor {
	if !t.ok(x) {
		return nil
	}
	sub := t.subTape()
	sub.SetRecording(false)
	y := seg.Forward(sub, x)
	if err := sub.Err(); err != nil {
		t.Fail(err)
		return nil
	}
	out := t.acts.get("checkpoint.out", shapeOf(y))
	t.be.Copy(out, y)
	if t.record {
		t.push(node{op: opCheckpoint, out: out, a: x, seg: seg, key: seg.Key()})
	}
	return out
}

// HeldBytes is the memory the tape's arenas hold for activations,
// gradients and scratch (its checkpoint scratch tape included).
func (t *Tape) HeldBytes() int64 {
	n := t.acts.heldBytes() + t.grads.heldBytes()
	if t.sub != nil {
		n += t.sub.HeldBytes()
	}
	return n
}

// subTape returns the reset scratch tape for checkpointed segments.
func (t *Tape) subTape() *Tape {
	if t.sub == nil {
		t.sub = NewTape(t.be)
	}
	t.sub.Reset()
	return t.sub
}

// segmentBackward recomputes a checkpointed segment with recording on and
// differentiates it, seeded with dy; x's gradient is this tape's.
func (t *Tape) segmentBackward(n *node, dy *Tensor) {
	if k := n.seg.Key(); k != n.key {
		t.Fail(fmt.Errorf("backward: a checkpointed segment ran again (state %d, recorded %d) before the backward of its first run: do each forward's backward before the next forward", k, n.key))
		return
	}
	t.gradOf(n.a) // x's gradient belongs to this tape, so the segment's ops accumulate into it
	sub := t.subTape()
	sub.SetRecording(true)
	y := n.seg.Forward(sub, n.a)
	if err := sub.Err(); err != nil {
		t.Fail(err)
		return
	}
	if !y.requiresGrad {
		return // nothing inside needs a gradient
	}
	t.be.Copy(sub.gradOf(y), dy)
	sub.replay()
	t.Fail(sub.err)
}

// gradOf returns t's gradient, making a zeroed one for an activation.
func (t *Tape) gradOf(x *Tensor) *Tensor {
	if x == nil || !x.requiresGrad {
		return nil
	}
	if x.Grad == nil {
		x.Grad = t.grads.reuse("grad", shapeOf(x))
		t.be.Zero(x.Grad)
	}
	return x.Grad
}

func (t *Tape) backward(n *node, dy *Tensor) {
	be := t.be
	switch n.op {
	case opEmbedding:
		be.EmbeddingBackward(t.gradOf(n.a), dy, n.ids)
	case opRMSNorm:
		dx, dw := t.gradOf(n.a), t.gradOf(n.b)
		if dx == nil {
			dx = t.grads.scratch("rmsnorm.dx", n.a.Len())
		}
		be.RMSNormBackward(dx, dw, dy, n.a, n.b, n.c)
	case opLinear:
		be.LinearBackward(t.gradOf(n.a), t.gradOf(n.b), t.gradOf(n.c), dy, n.a, n.b)
	case opRoPE:
		be.RoPEBackward(t.gradOf(n.a), dy, n.ids, n.rope, n.heads)
	case opAttention:
		dq, dk, dv := t.gradOf(n.a), t.gradOf(n.b), t.gradOf(n.c)
		dq = orScratch(t, dq, n.a, "attention.dq")
		dk = orScratch(t, dk, n.b, "attention.dk")
		dv = orScratch(t, dv, n.c, "attention.dv")
		be.AttentionBackward(dq, dk, dv, dy, n.out, n.d, n.a, n.b, n.c, n.attn, n.ids)
	case opSwiGLU:
		dg := orScratch(t, t.gradOf(n.a), n.a, "swiglu.dgate")
		du := orScratch(t, t.gradOf(n.b), n.b, "swiglu.dup")
		be.SwiGLUBackward(dg, du, dy, n.a, n.b)
	case opAdd:
		if da := t.gradOf(n.a); da != nil {
			be.Accumulate(da, dy)
		}
		if db := t.gradOf(n.b); db != nil {
			be.Accumulate(db, dy)
		}
	case opGather:
		be.ScatterRowsBackward(t.gradOf(n.a), dy, n.ids)
	case opLogProbs:
		be.TokenLogProbsBackward(t.gradOf(n.a), dy, n.a, n.c, n.ids, n.f)
	case opHead:
		be.HeadLogProbsBackward(t.gradOf(n.a), t.gradOf(n.b), dy, n.a, n.b, n.c, n.vocab, n.ids, n.f)
	case opCheckpoint:
		t.segmentBackward(n, dy)
	default:
		panic(fmt.Sprintf("compute: backward of unknown op %d", n.op))
	}
}

// orScratch stands in a throw-away buffer for a gradient nobody needs, so
// fused backward kernels can always write all their outputs.
func orScratch(t *Tape, g, like *Tensor, name string) *Tensor {
	if g != nil {
		return g
	}
	s := t.grads.scratch(name, like.Len())
	t.be.Zero(s)
	return s
}

// String names an op kind for diagnostics.
func (k opKind) String() string { return opNames[k] }

// ---- arena ----

// shape is a tensor shape by value, so asking the arena for one allocates nothing.
type shape struct {
	dims [MaxRank]int
	rank int
}

func dims1(a int) shape       { return shape{[MaxRank]int{a}, 1} }
func dims2(a, b int) shape    { return shape{[MaxRank]int{a, b}, 2} }
func shapeOf(x *Tensor) shape { return shape{x.dims, x.rank} }

// arena hands out tensors in call order and reuses them after reset, so a
// loop that asks for the same shapes each step allocates only once.
type arena struct {
	be    Backend
	items []*Tensor
	next  int
	spare map[string]*Tensor
	// free holds the tensors of items handed out by reuse and given back
	// by release (all of them after reset), for reuse to hand out again.
	free []*Tensor
	// pooled says that items are handed out by reuse, not in call order.
	pooled bool
}

func (a *arena) reset() {
	a.next = 0
	if a.pooled {
		a.free = append(a.free[:0], a.items...)
	}
}

// reuse hands out a tensor of shape s from the free ones (the smallest that
// holds it, so a small gradient does not take a large one's storage), or a
// new one, for tensors whose end of use is known (release). An arena
// serves either reuse or get, not both.
func (a *arena) reuse(name string, s shape) *Tensor {
	a.pooled = true
	n := numel(s.dims[:s.rank])
	best := -1
	for i, x := range a.free {
		if l := x.storage.Len(); l >= n && (best < 0 || l < a.free[best].storage.Len()) {
			best = i
		}
	}
	var x *Tensor
	if best >= 0 {
		x = a.free[best]
		a.free[best] = a.free[len(a.free)-1]
		a.free = a.free[:len(a.free)-1]
	} else {
		x = a.be.New(name, sizeClass(n))
		a.items = append(a.items, x)
	}
	x.dims, x.rank, x.Name = s.dims, s.rank, name
	x.Grad, x.requiresGrad = nil, false
	return x
}

// release gives back a tensor handed out by reuse: nothing reads it after.
func (a *arena) release(x *Tensor) {
	a.free = append(a.free, x)
}

// holds reports whether x is one of the tensors handed out since the last
// reset.
func (a *arena) holds(x *Tensor) bool {
	return slices.Contains(a.items[:a.next], x)
}

func (a *arena) heldBytes() int64 {
	var n int64
	for _, x := range a.items {
		n += 4 * int64(x.storage.Len())
	}
	for _, x := range a.spare {
		n += 4 * int64(x.storage.Len())
	}
	return n
}

func (a *arena) get(name string, s shape) *Tensor {
	dims, rank := s.dims, s.rank
	if a.next < len(a.items) {
		x := a.items[a.next]
		if x.storage.Len() >= numel(dims[:rank]) {
			// The same storage, perhaps under a new shape: a header change only.
			x.dims, x.rank, x.Name = dims, rank, name
			x.Grad, x.requiresGrad = nil, false
			a.next++
			return x
		}
	}
	// The storage is a size class above the need, so that a slot whose
	// shape changes a little from step to step (sequence lengths do) is
	// not made again at every step: remade slots are garbage, and the
	// garbage collector lets the heap grow to twice what is live before it
	// takes it back.
	x := a.be.New(name, sizeClass(numel(dims[:rank])))
	x.dims, x.rank = dims, rank
	if a.next < len(a.items) {
		a.items[a.next] = x
	} else {
		a.items = append(a.items, x)
	}
	a.next++
	return x
}

// sizeClass is the smallest of 2ᵏ, 1.25·2ᵏ, 1.5·2ᵏ and 1.75·2ᵏ that holds
// n: at most a quarter more than n.
func sizeClass(n int) int {
	if n <= 8 {
		return n
	}
	p := 1
	for p*2 <= n {
		p *= 2
	}
	for _, c := range []int{p, p + p/4, p + p/2, p + 3*p/4, 2 * p} {
		if c >= n {
			return c
		}
	}
	return 2 * p
}

// scratch returns a named buffer of n elements shared by every call with that
// name, for values that are written and consumed within one operation.
func (a *arena) scratch(name string, n int) *Tensor {
	if a.spare == nil {
		a.spare = map[string]*Tensor{}
	}
	x := a.spare[name]
	if x == nil || x.storage.Len() < n {
		x = a.be.New(name, n)
		a.spare[name] = x
	}
	x.dims, x.rank = [MaxRank]int{n}, 1
	return x
}

// CachedAttention is attention for decoding (no gradient): it rotates the
// new queries q [B·Tn, H·hd] and keys k [B·Tn, KV·hd] by the positions pos
// [B·Tn], writes the keys and values v into the caches [B, KV, maxLen, hd]
// at position past, and attends the queries to everything cached so far.
// A backend that rotates and stores in one pass (RotaryCacheWriter) does
// so; otherwise it is RoPE, RoPE and CacheWrite.
func (t *Tape) CachedAttention(q, k, v *Tensor, pos []int32, table *RoPETable, kCache, vCache *Tensor, d AttnDims, maxLen, past int, kStart []int32) *Tensor {
	if !t.ok(q, k, v, kCache, vCache) {
		return nil
	}
	if t.needs(q, k, v) {
		return t.fail("cached attention", "decoding has no backward: turn recording off")
	}
	n := d.B * d.T
	if q.Len() != n*d.H*d.HeadDim || k.Len() != n*d.KV*d.HeadDim || v.Len() != n*d.KV*d.HeadDim {
		return t.fail("cached attention", "q %v, k %v, v %v do not fit B=%d Tn=%d H=%d KV=%d hd=%d", q, k, v, d.B, d.T, d.H, d.KV, d.HeadDim)
	}
	if past+d.T > maxLen || kCache.Len() != d.B*d.KV*maxLen*d.HeadDim || !SameShape(kCache, vCache) {
		return t.fail("cached attention", "cache %v cannot take %d more tokens after %d (max %d)", kCache, d.T, past, maxLen)
	}
	if rw, ok := t.be.(RotaryCacheWriter); ok && rw.CanRotaryCacheWrite() {
		if !t.okRoPE(q, pos, table, d.H) || !t.okRoPE(k, pos, table, d.KV) {
			return nil
		}
		qr := t.acts.get("rope.out", shapeOf(q))
		rw.RotaryCacheWrite(qr, kCache, vCache, q, k, v, pos, table, d, maxLen, past)
		q = qr
	} else {
		q, k = t.RoPE(q, pos, table, d.H), t.RoPE(k, pos, table, d.KV)
		if q == nil || k == nil {
			return nil
		}
		t.be.CacheWrite(kCache, vCache, k, v, d, maxLen, past)
	}
	out := t.acts.get("attention.out", dims2(n, d.H*d.HeadDim))
	t.be.AttentionDecode(out, q, kCache, vCache, d, maxLen, past, kStart)
	return out
}
