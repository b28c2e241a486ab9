package compute

import "errors"

// ErrNoMatmulF16 is the cause (errors.Is) of a backend's refusal of
// float16 tensor-core products (vulkan's Device.SetMatmul(MatmulF16)) on a
// device that has none: no float16 cooperative matrices, or a driver that
// refused a device with them enabled. The CPU backend is never asked (it
// has no SetMatmul: engine/device's TensorCores says it has none, and its
// products stay in float32). It lives here, below every backend, so that
// a test of any package tells this refusal (skip: the device cannot run
// them) from any other failure of the request (fail: a device that has
// them must build and run them), through backendtest.NeedCoopMat.
var ErrNoMatmulF16 = errors.New("the device has no float16 tensor-core products")

// Backend is the seam between the engine and the hardware. The CPU backend
// implements it on host memory; a GPU backend implements the same methods on
// device buffers. Engine code allocates, moves and computes only through a
// Backend, so it never assumes host slices.
//
// Methods take tensors whose shapes the caller (normally the Tape) has
// already checked; they panic on a programmer error rather than return one.
// Token ids, positions and targets are host []int32 slices: they are small
// and produced on the host. Backward methods accumulate into gradients.
//
// A Backend value is used by one goroutine at a time.
type Backend interface {
	Name() string
	// Err returns the hardware's first failure (a lost device, device
	// memory exhausted), after which results are meaningless; nil when all
	// is well. The CPU backend never fails this way. Tape.Err includes it.
	Err() error

	// New returns a zero-filled float32 tensor.
	New(name string, dims ...int) *Tensor
	// New16 returns a zero-filled 16-bit tensor (dt BF16 or F16) for a
	// frozen weight: Linear takes it as w, Embedding as its table, and
	// Read, Write16, Copy and Mix (which round into it) fill and read it;
	// it takes no gradient. Filled in place through HostData16 on the CPU.
	New16(name string, dt DType, dims ...int) *Tensor
	// Write16 copies 16-bit bits of dst's type into dst.
	Write16(dst *Tensor, src []uint16)
	// Write copies host numbers into dst (len(src) == dst.Len()).
	Write(dst *Tensor, src []float32)
	// Read copies src into host memory as float32 (len(dst) == src.Len()).
	Read(dst []float32, src *Tensor)
	Zero(t *Tensor)
	// Copy copies src into dst, rounding to nearest even when dst is 16-bit.
	Copy(dst, src *Tensor)

	// Embedding: out[n] = table[ids[n]]; out [N, d], table [V, d] (table may be 16-bit).
	Embedding(out, table *Tensor, ids []int32)
	EmbeddingBackward(dTable, dOut *Tensor, ids []int32)

	// RMSNorm over the last dimension; rstd [N] is saved for backward.
	RMSNorm(y, rstd, x, w *Tensor, eps float32)
	RMSNormBackward(dx, dw, dy, x, w, rstd *Tensor)

	// Linear: y = x·wᵀ (+ bias); x [N, in], w [out, in], y [N, out]. bias may
	// be nil. w may be 16-bit: the product is then that of its float32 values.
	Linear(y, x, w, bias *Tensor)
	// LinearAdd: y += x·wᵀ, shapes as Linear's: a residual stream's update
	// in one product, without a separate add (no-grad decoding).
	LinearAdd(y, x, w *Tensor)
	// LinearBackward accumulates dx, dw and dbias; any of them may be nil.
	LinearBackward(dx, dw, dbias, dy, x, w *Tensor)
	// MatMul: c = alpha·op(a)·op(b) + beta·c over 2-D tensors.
	MatMul(c, a, b *Tensor, transA, transB bool, alpha, beta float32)

	// RoPE rotates x [N, heads·hd] by position pos[n] with Hugging Face's rotate-half pairing.
	RoPE(out, x *Tensor, pos []int32, table *RoPETable, heads int)
	RoPEBackward(dx, dout *Tensor, pos []int32, table *RoPETable, heads int)

	// Attention is causal grouped-query attention over full sequences with
	// an online softmax: no [B, H, T, T] matrix exists. lse [B, H, T] gets
	// each query row's log-sum-exp of its scaled scores, all the backward
	// keeps besides q, k, v and out. kStart[b] masks left padding.
	//
	// Edge cases, the same on every backend, forward and backward
	// (AttentionDecode too): a query row that sees no key (before
	// kStart[b]) or whose visible scores are all −Inf (q·k overflowing, or
	// infinite) outputs zeros and lse 0, and its probabilities are 0 in the
	// backward, so it adds nothing to dq, dk or dv but their products with
	// zeros (0·Inf is NaN where it meets an infinite operand). PyTorch's
	// scaled_dot_product_attention does the same since 2.5 (_safe_softmax),
	// where torch.softmax (Debian's 1.13 has no other) makes the row NaN,
	// as the CPU backend, attn and attn_cm once did. A masked
	// position, causally later or left padding, influences nothing: a NaN
	// or infinity there reaches no query (nor, in the backward, the
	// gradients of keys the query cannot see), though a product of its
	// masked probability 0 with it would be NaN (compute/vulkan's kernels on
	// cooperative matrices, attn_cm*, whose products are whole tiles, take
	// a diagonal block holding one in scalar code). A non-finite value a
	// query sees reaches its output, lse and gradients.
	Attention(out, lse, q, k, v *Tensor, d AttnDims, kStart []int32)
	// AttentionBackward recomputes the probabilities block by block from
	// q, k and lse (FlashAttention-2's backward) and accumulates dq, dk, dv.
	AttentionBackward(dq, dk, dv, dout, out, lse, q, k, v *Tensor, d AttnDims, kStart []int32)
	// CacheWrite stores new keys k and values v [B, Tn, KV, hd] into
	// kCache and vCache [B, KV, MaxLen, hd] at positions past..past+Tn-1.
	CacheWrite(kCache, vCache, k, v *Tensor, d AttnDims, maxLen, past int)
	// AttentionDecode attends q [B, Tn, H, hd] to cached keys and values 0..past+Tn-1.
	AttentionDecode(out, q, kCache, vCache *Tensor, d AttnDims, maxLen, past int, kStart []int32)

	// SwiGLU: h = silu(gate)·up, elementwise.
	SwiGLU(h, gate, up *Tensor)
	SwiGLUBackward(dGate, dUp, dh, gate, up *Tensor)

	// Add: out = a + b, elementwise (out may alias a).
	Add(out, a, b *Tensor)
	// Accumulate: dst += src.
	Accumulate(dst, src *Tensor)
	// GatherRows: out[i] = x[rows[i]] for 2-D x.
	GatherRows(out, x *Tensor, rows []int32)
	// ScatterRowsBackward: dx[rows[i]] += dout[i].
	ScatterRowsBackward(dx, dout *Tensor, rows []int32)

	// TokenLogProbs: lp[n] = log softmax(logits[n]·invTemp)[targets[n]];
	// targets[n] < 0 marks a row to ignore (lp 0). lse [N] is saved.
	TokenLogProbs(lp, lse, logits *Tensor, targets []int32, invTemp float32)
	TokenLogProbsBackward(dlogits, glp, logits, lse *Tensor, targets []int32, invTemp float32)
	// KL: kl[n] = KL(softmax(p[n]·invTemp) ‖ softmax(q[n]·invTemp)).
	KL(kl, p, q *Tensor, invTemp float32)
	// Entropy: ent[n] of softmax(logits[n]·invTemp).
	Entropy(ent, logits *Tensor, invTemp float32)

	// HeadLogProbs is the LM head fused with its log-softmax, so that no
	// [N, V] logits exist: for each row n of h [N, d] with targets[n] ≥ 0,
	// z = (h[n]·wᵀ)·invTemp over w [V, d], lp[n] = z[targets[n]] − lse[n]
	// with lse[n] = log Σ exp z saved for backward, and, when ent is not
	// nil, ent[n] the entropy of softmax(z). Rows with targets[n] < 0 get
	// zeros. The logits exist a chunk of rows at a time. Only w's first
	// vocab rows are the vocabulary (a table padded further than the one
	// it is compared with), used in place, without a copy.
	HeadLogProbs(lp, lse, ent, h, w *Tensor, vocab int, targets []int32, invTemp float32)
	// HeadLogProbsBackward accumulates into dh and dw (either may be nil)
	// the gradient of Σ glp[n]·lp[n], recomputing each chunk's logits;
	// dw's rows from vocab on are left as they are.
	HeadLogProbsBackward(dh, dw, glp, h, w, lse *Tensor, vocab int, targets []int32, invTemp float32)
	// HeadKL: kl[n] = KL(softmax(hp[n]·wpᵀ·invTemp) ‖ softmax(hq[n]·wqᵀ·invTemp))
	// over the first vocab rows of wp [≥vocab, dp] and wq [≥vocab, dq] for
	// hp [N, dp] and hq [N, dq], a chunk of rows at a time. It has no
	// backward.
	HeadKL(kl, hp, wp, hq, wq *Tensor, vocab int, invTemp float32)

	// Argmax of each row of a 2-D tensor.
	Argmax(out []int32, logits *Tensor)

	// Optimiser pieces.
	AdamW(p, g, m, v *Tensor, s AdamWStep)
	SumSquares(t *Tensor) float64
	// SumSquaresEach sets sums[i] = Σ ts[i]², each equal to SumSquares(ts[i])
	// (NaN or ±Inf for a tensor that is not finite), waiting for a device
	// once rather than once a tensor.
	SumSquaresEach(ts []*Tensor, sums []float64)
	Scale(t *Tensor, s float32)
	// Mix: dst = alpha·src + (1−alpha)·dst (rounded when dst is 16-bit).
	Mix(dst, src *Tensor, alpha float32)

	// FreezeWeights promises that the weights ws (each [out, in], used as
	// Linear's w) stay constant until ThawWeights, so the backend may lay
	// them out for faster Linear calls: decoding multiplies a few rows by
	// every weight at each step, and the CPU backend would otherwise pack
	// each weight for its GEMM again at every step. Results are
	// bit-identical to unfrozen calls. Writing to a frozen tensor is a
	// programmer error (the CPU backend panics).
	FreezeWeights(ws []*Tensor)
	// ThawWeights ends FreezeWeights for ws; they may change again.
	ThawWeights(ws []*Tensor)

	// NewRoPETable precomputes cos and sin for positions 0..maxPos-1.
	NewRoPETable(maxPos, headDim int, theta float64) *RoPETable
}

// TokenDrawer is a Backend that draws next tokens where its logits are, so
// that a decode step moves only the drawn ids and their log-probabilities
// to the host, not rows of the vocabulary. engine/sample uses it for draws
// without truncation (no top-k, top-p or min-p); for those it uses a
// Shortlister.
type TokenDrawer interface {
	// DrawTokens draws one token from each row r of logits [rows, V] into
	// ids[r], with logps[r] = log softmax(logits[r]·invT)[ids[r]] over the
	// whole row. Greedy takes the first largest allowed logit (invT 1);
	// else the allowed id where u[r]·Σe falls in the running sum of
	// e = exp((logit − max allowed logit)·InvTemp), ids in order, as
	// engine/sample's picker draws on the host, its sums in a different
	// order. ids[r] is −1 when row r holds a NaN, its largest value is
	// infinite, or its allowed logits are all −∞. It waits for the device.
	DrawTokens(ids []int32, logps []float32, logits *Tensor, u []float32, o DrawOptions) error
}

// DrawOptions are TokenDrawer's rules for a draw.
type DrawOptions struct {
	InvTemp float32 // 1/temperature; unused when Greedy
	Allowed int     // ids ≥ Allowed are never drawn (their probability still counts in logps)
	Greedy  bool
}

// PreNorm is the RMSNorm a fused decoding op applies to its input rows
// before its products: RMSNorm(x, W, Eps), as a layer's input norm feeds
// its q, k and v projections and its post-attention norm the MLP. W nil
// applies none.
type PreNorm struct {
	W   *Tensor // [in]
	Eps float32
}

// Linear3er is a Backend that multiplies one input by three weights in one
// pass (a layer's q, k and v projections while decoding: on a device, two
// commands fewer a layer, three with the input norm folded in). Tape.Linear3
// uses it where it can and makes RMSNorm and three Linear calls elsewhere.
type Linear3er interface {
	// CanLinear3 reports whether Linear3 takes rows rows of x with weights
	// of type dt.
	CanLinear3(rows int, dt DType) bool
	// Linear3 sets y[i] = n(x)·w[i]ᵀ (+ bias[i], where not nil) for x
	// [N, in] and weights w[i] [out_i, in] of one type, as CanLinear3
	// allows; n(x) is x normalised by norm (x itself when norm.W is nil).
	// The norm's rows are not stored: the scale 1/rms of a row is applied
	// to its products' sums, so results differ from RMSNorm then Linear
	// by rounding only.
	Linear3(y [3]*Tensor, x *Tensor, norm PreNorm, w, bias [3]*Tensor)
}

// GatedLinearer is a Backend that computes a gated MLP's first half,
// h = silu(n(x)·gateᵀ)·(n(x)·upᵀ), in one pass where RMSNorm, Linear,
// Linear and SwiGLU take four (decoding a few rows: on a device, three
// commands and barriers fewer a layer). Tape.GatedLinear uses it where it
// can and composes the ops elsewhere.
type GatedLinearer interface {
	// CanGate reports whether GatedLinear takes rows rows of x with
	// weights of type dt.
	CanGate(rows int, dt DType) bool
	// GatedLinear sets h [N, out] for x [N, in] normalised by norm (as
	// Linear3er's) and gate, up [out, in] of one type, as CanGate allows.
	GatedLinear(h, x *Tensor, norm PreNorm, gate, up *Tensor)
}

// RotaryCacheWriter is a Backend that rotates decoding's new queries and
// keys and stores keys and values into the KV cache in one pass, where
// RoPE, RoPE and CacheWrite take three (on a device, two commands and
// barriers fewer a layer). Tape.CachedAttention uses it where it can.
type RotaryCacheWriter interface {
	// CanRotaryCacheWrite reports whether RotaryCacheWrite runs here.
	CanRotaryCacheWrite() bool
	// RotaryCacheWrite sets qr = RoPE(q) for q [B·Tn, H·hd] and stores
	// RoPE(k) and v (k, v [B·Tn, KV·hd]) into kCache and vCache [B, KV,
	// maxLen, hd] at positions past..past+Tn−1, each row n rotated by
	// pos[n]: what RoPE, RoPE and CacheWrite compute.
	RotaryCacheWrite(qr, kCache, vCache, q, k, v *Tensor, pos []int32, table *RoPETable, d AttnDims, maxLen, past int)
}

// Shortlister is a Backend that narrows rows of logits, where they are, to
// the ids a truncated draw (top-k, top-p, min-p) can take, so that a decode
// step moves those candidates and a few numbers per row to the host, not
// rows of the vocabulary; engine/sample's picker then truncates and draws
// among them on the host, as it would from the whole row.
//
// An allowed id's weight is e = exp((logit − AMax)·InvTemp), in [0, 1],
// and its class how many binary orders of magnitude e lies below 1 (read
// from the exponent of the float32 e): 0 for e = 1, c for [2⁻ᶜ, 2¹⁻ᶜ), 63
// for everything below 2⁻⁶². The backend picks a class bound from its own counts and
// sums of the classes by the picker's rules (top-k: the classes that hold
// the k heaviest ids; else top-p: those that hold TopP of the weight; min-p:
// those at or above MinP), one class more as a margin for rounding, and
// returns every allowed id of nonzero weight in a class up to it.
type Shortlister interface {
	// Shortlist fills s for the rows of logits [rows, V]. It waits for
	// the device.
	Shortlist(s *Shortlist, logits *Tensor, o ShortlistOptions) error
}

// ShortlistOptions are a Shortlister's rules: the draw's temperature,
// mask and truncation, and how many candidates a row may return.
type ShortlistOptions struct {
	InvTemp    float32 // 1/temperature
	Allowed    int     // ids ≥ Allowed are never candidates (their weight still counts in LogSum)
	TopK       int     // 0 = off
	TopP, MinP float32 // 0 = off
	Capacity   int     // candidates a row may return (positive)
}

// Shortlist is a Shortlister's answer: for row r, Rows[r], and its
// candidates IDs[r·Capacity : r·Capacity+Rows[r].Count], in no particular
// order, with their logits Z at the same places. The slices are sized by
// the Shortlister and reused from call to call.
type Shortlist struct {
	Rows     []ShortlistRow
	IDs      []int32
	Z        []float32
	Capacity int // the options' Capacity: the room for each row's candidates
}

// Candidates returns row r's candidates and their logits.
func (s *Shortlist) Candidates(r int) (ids []int32, z []float32) {
	lo := r * s.Capacity
	n := max(s.Rows[r].Count, 0)
	return s.IDs[lo : lo+n], s.Z[lo : lo+n]
}

// A ShortlistRow's Count when the row has no candidates to give.
const (
	ShortlistNotFinite = -1 // the row holds a NaN, an infinite maximum, or no finite allowed logit
	ShortlistOverflow  = -2 // more candidates than Capacity: draw from the whole row
)

// ShortlistRow is one row's shortlist.
type ShortlistRow struct {
	Count int // candidates, or ShortlistNotFinite or ShortlistOverflow
	// Class is the class bound: every allowed id of nonzero weight whose
	// class is at most Class is a candidate, and no other.
	Class   int
	NonZero int     // allowed ids of nonzero weight
	ZMax    float32 // the row's largest logit
	AMax    float32 // the largest allowed logit
	LogSum  float32 // log Σ over the whole row of exp((logit − ZMax)·InvTemp)
	Total   float32 // Σ of the allowed ids' weights
}

// ShortlistClasses is the number of weight classes (the last holds every
// weight below 2⁻⁶²).
const ShortlistClasses = 64

// MemoryMeter is a Backend that computes in memory of its own (a GPU's)
// and can say how much it holds, for a run's memory metrics.
type MemoryMeter interface {
	// MemoryUse returns the bytes of the device's memory held now and the
	// most held since the last call.
	MemoryUse() (held, peak uint64)
}

// AttnDims are the shapes of one attention call: B sequences of T tokens,
// H query heads and KV key/value heads of HeadDim each.
type AttnDims struct {
	B, T, H, KV, HeadDim int
}

// RoPETable holds the rotary cos and sin tables, each [MaxPos, HeadDim/2].
type RoPETable struct {
	MaxPos, HeadDim int
	Theta           float64
	Cos, Sin        *Tensor
}

// AdamWStep is one step's scalars for the AdamW update (PyTorch semantics).
type AdamWStep struct {
	LR, Beta1, Beta2, Eps, WeightDecay float32
	// BC1 and BC2 are the bias corrections 1−β1ᵗ and 1−β2ᵗ.
	BC1, BC2 float32
}

// ReadBack is be.Read followed by be.Err: the numbers of src in dst, or
// the backend's failure, after which dst holds nothing to use (a lost
// device reads back zeros). Results that leave the engine are read with
// it, so that a device lost at the read that fetches them is not taken
// for numbers.
func ReadBack(be Backend, dst []float32, src *Tensor) error {
	be.Read(dst, src)
	return be.Err()
}

// TargetRows sets rows to the indices n of the targets that are not
// ignored (targets[n] ≥ 0; the head methods give a row with targets[n] < 0
// zeros and no work) and returns it: a backend's fused head works on those
// rows only, in scratch it reuses (rows' array is kept when it has room).
func TargetRows(rows, targets []int32) []int32 {
	rows = rows[:0]
	for n, t := range targets {
		if t >= 0 {
			rows = append(rows, int32(n))
		}
	}
	return rows
}
