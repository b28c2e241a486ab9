package vulkan

import "os"

// Shapes are the sizes that the device memory one model's ops take beside
// its tensors grows with, for the passes of one kind a run makes through
// it (ScratchBytes takes one Shapes for each).
type Shapes struct {
	// Rows is the most positions one forward or backward holds at once
	// (sequences × tokens of a micro-batch).
	Rows int
	// T is the longest sequence attention sees, its past included.
	T                       int
	Heads, KVHeads, HeadDim int
	// Hidden and Intermediate are the model's width and its MLP's: with
	// the heads they give the weights its products multiply rows by (q,
	// k, v, o, gate, up, down, and the head's [Vocab, Hidden]).
	Hidden, Intermediate, Vocab int
	// Params and Tensors are the weights whose sums of squares are taken
	// at once (gradient clipping) and how many tensors hold them.
	Params, Tensors int
	// Draws is the most rows drawn from at once (sampled sequences), and
	// Candidates a shortlist's room per row (engine/sample's
	// ShortlistCapacity).
	Draws, Candidates int
	// Backward says these passes run backward too (training: attention's
	// backward, the products' gradients, the head's backward); a
	// forward-only command (rlt score) leaves it false. The head's KL
	// (the full estimator's, scoring's) has no backward: every pass
	// counts it.
	Backward bool
}

// width is the widest row a layer of s makes or reads: the model's
// width, its MLP's, its query and key/value projections'.
func (s Shapes) width() int {
	return max(s.Hidden, s.Intermediate, (s.Heads+2*s.KVHeads)*s.HeadDim)
}

// The fused head's named buffers (Backend.scratchOf's names), for
// headNamed: a chunk's rows of h (head.h), a backward chunk's dh, a KL
// chunk's rows of both models (head.hp, head.hq), a float a row each
// (head.lp, head.lse, head.ent, head.g, head.kl), and the logits that
// HeadBytes counts: a chunk's (head.z) and a backward or KL chunk's
// second (head.dz), last.
const (
	headH = iota
	headDH
	headHP
	headHQ
	headLP
	headLse
	headEnt
	headG
	headKL
	headZ
	headDZ
	numHead
)

// ScratchBytes bounds the device memory that the ops of a run take on a
// device in beside their operands and the fused head's logits
// (HeadBytes), for the passes runs: the Device's scratch slots and the
// Backend's named buffers (the fused head's other chunks; its logits past
// HeadBytes, where a row of the vocabulary passes the budget). One Device
// and one Backend serve every model of a process (engine/device.Open),
// and each slot and named buffer grows to the largest any op asks of it
// and is kept (freeing the old buffer before making the larger one:
// release): so the bound is, slot by slot, the largest of what each of
// runs asks of it, summed. It is an upper bound, not the exact figure:
// each term is derived from the sizes and caps its op uses
// (decodeScratchBytes, attnBackScratchBytes, colSumSlice, splitKBy's
// rule over the products the shapes multiply, the tile sizes,
// headFloatsOn), taking the worst path an op may choose.
// TestScratchWithinBound runs the ops and fails when any holds more than
// this says, or the split products' term is over twice what they hold.
// The first run is a parameter of its own: a bound of no runs would be 0,
// an estimate that forgot its runs under-counting without a word.
func ScratchBytes(in Info, first Shapes, more ...Shapes) int64 {
	slot, named := scratchTerms(in, append([]Shapes{first}, more...)...)
	var n int64
	for _, b := range slot {
		if b > 0 { // a slot used holds at least scratchMinBytes
			n += max(b, scratchMinBytes)
		}
	}
	for _, b := range named[:headZ] { // the logits apart
		n += b
	}
	return n + max(0, named[headZ]+named[headDZ]-HeadBytes(in))
}

// scratchTerms are ScratchBytes' terms: each scratch slot's bytes and
// each of the fused head's named buffers', the largest over runs.
func scratchTerms(in Info, runs ...Shapes) (slot [numScratch]int64, named [numHead]int64) {
	for _, s := range runs {
		a, h := s.slots(in), s.headNamed(in)
		for i := range slot {
			slot[i] = max(slot[i], a[i])
		}
		for i := range named {
			named[i] = max(named[i], h[i])
		}
	}
	return slot, named
}

// f is float32s n in bytes.
func f(n int) int64 { return int64(n) * 4 }

// slots are the bytes each scratch slot grows to for s.
func (s Shapes) slots(in Info) [numScratch]int64 {
	rep := max(1, s.Heads/max(1, s.KVHeads))
	var slot [numScratch]int64
	// Argmax's ids (4 bytes a row), DrawTokens' ids and log-probs (8),
	// Shortlist's rows of candidates.
	if s.Draws > 0 {
		slot[scratchIDs] = max(int64(s.Draws)*8, f(s.Draws*(shortlistHead+2*s.Candidates)))
	}
	// SumSquaresEach's partials, a float a 4·groupSize elements of each
	// tensor at an aligned offset.
	positions := s.Heads * max(s.Rows, s.T) // B·T·H of one attention call, at most
	align := int64(max(in.MinStorageAlignment, 4))
	var sums int64
	if s.Tensors > 0 {
		sums = f(s.Params/(4*groupSize)+s.Tensors) + int64(s.Tensors)*align
		slot[scratchFlag] = 4
	}
	// Attention runs on the kernels attnOnRows picks for the device (both
	// where a probe cannot tell, Info.attnEither).
	onRows := attnOnRows(in.attnRows, s.HeadDim, 1)
	onTiles := !onRows
	if onTiles && in.attnEither[attnSetFor(s.HeadDim)] {
		onRows = true
	}
	// The row kernels' scores in the forward: a dispatch's rows of sRow
	// keys within decodeScratchBytes, at least one row, at most the
	// call's items (b, i, h).
	scores := func(items, sRow int) int64 {
		if items <= 0 || sRow <= 0 {
			return 0
		}
		return min(max(f(sRow), int64(decodeScratchBytes)), f(items)*int64(sRow))
	}
	// A pair (b, h) at most a dispatch's groups: a call of more pairs
	// takes the row kernels, its sequences then at most
	// positions/(maxGroupsX+1) tokens (pairs·T ≤ positions).
	short := min(s.T, positions/(maxGroupsX+1))
	// Decoding and a prefill's stretches of fewer than attnTiledMinRows
	// new tokens a sequence (engine/sample's last stretch) take the row
	// kernels on any device: Draws sequences, rows of up to T keys (the
	// cache's length).
	decoding := s.Heads * (attnTiledMinRows - 1) * s.Draws
	// scores stops it at decodeScratchBytes (32 MiB), where the row
	// kernels cut a call into dispatches that share the buffer, one after
	// another, with the same results (TestAttentionDecodeSplit): the cap
	// bounds the memory and limits no run. At 0.5B's 14 heads and 64 draws
	// (GRPO's default 8 questions × 8 samples) a prefill's last stretch
	// reaches it at a cache of 1,338 positions, a decode step (a token a
	// sequence) at 9,363.
	var fwd int64
	if onRows { // every call's scores: B·T·H rows of T keys
		fwd = scores(max(positions, decoding), s.T)
	}
	if onTiles {
		// The tiles hold no scores; the calls they do not take: decoding,
		// sequences of fewer than attnTiledMinRows tokens, a call of too
		// many pairs (a prefill of Draws·H past a dispatch, its rows of
		// the cache's T keys).
		fwd = max(fwd, scores(decoding, s.T), scores(positions, min(s.T, attnTiledMinRows-1)), scores(positions, short))
		if s.Draws*s.Heads > maxGroupsX {
			fwd = max(fwd, scores(positions, s.T))
		}
	}
	// It counted the row kernels' on every device: 32 MiB at 0.5B's
	// heads and 8 × 384 tokens of a forward, where the tiles hold none
	// (TestAttentionForwardScratchFollowsTheKernels).
	slot[scratchPartial] = max(fwd, sums)
	if s.Backward {
		// AttentionBackward, on the kernels attnOnRows picks for the
		// device: on the row kernels two [np, T, T] buffers, np whole kv
		// groups within attnBackScratchBytes (at least one group), at
		// most the call's B·H; on the tiled ones D [B·H, T] and the
		// per-head dk, dv [np, 2, T, hd], np as the row kernels'. It
		// counted both, each slot the larger: at 0.5B's heads, 8 × 384
		// tokens, 126 MiB where the tiles hold 21 (TestScratchWithinBound,
		// TestAttentionBackwardScratchFollowsTheKernels).
		within := int64(attnBackScratchBytes)
		rows := func(t int) int64 { return min(max(within, int64(rep)*f(t*t)), f(positions)*int64(t)) }
		if onRows {
			slot[scratchProbs], slot[scratchGrads] = rows(s.T), rows(s.T)
		}
		if onTiles {
			slot[scratchProbs] = max(slot[scratchProbs], f(positions))
			slot[scratchGrads] = max(slot[scratchGrads], min(max(within, int64(rep)*f(2*s.T*s.HeadDim)), f(positions)*int64(2*s.HeadDim)))
			// A call of more (b, h) pairs than a dispatch holds takes
			// the row kernels.
			if short > 0 {
				slot[scratchProbs] = max(slot[scratchProbs], rows(short))
				slot[scratchGrads] = max(slot[scratchGrads], rows(short))
			}
		}
		// colSum (a bias's or a norm's gradient): a row of partials per
		// slice of at least colSumSlice rows.
		slot[scratchColSum] = f(ceilDiv(s.Rows, colSumSlice) * s.width())
	}
	// Split-K's partial products and gemmcm's line maxima, over the
	// products s multiplies (splitScales).
	split, scales := s.splitScales(in)
	slot[scratchSplitK], slot[scratchScales] = split, scales
	// The unfused decode path's normed input, its rstd, gate and up: the
	// fused decode ops (Linear3, GatedLinear) take at most gemvRows rows.
	dec := min(s.Rows, gemvRows)
	slot[scratchNormed] = f(dec * s.width())
	slot[scratchRstd] = f(dec)
	slot[scratchGate] = f(dec * s.width())
	slot[scratchUp] = f(dec * s.width())
	return slot
}

// headChunks are the rows of the fused head's forward chunks and of its
// backward and KL ones (half the budget's) for s: headRows' at most, and
// at least one row.
func (s Shapes) headChunks(in Info) (fwd, back int) {
	budget, v, rows := headFloatsOn(in), max(1, s.Vocab), max(1, s.Rows)
	return min(max(1, budget/v), rows), min(max(1, budget/2/v), rows)
}

// headNamed are the bytes of the fused head's named buffers for s
// (backend_head.go's scratchOf calls): a forward chunk's h, logits and
// three floats a row; a KL chunk's (half the rows) two models' h, both
// logits and a float a row, on every pass (HeadKL, scoring's, has no
// backward; each model's width is its own Shapes', so the largest over
// the runs holds the wider model's h in both); backward, a chunk's (as
// many rows as KL's) h, logits, dh, their gradient and two floats a row.
func (s Shapes) headNamed(in Info) [numHead]int64 {
	fwd, back := s.headChunks(in)
	var h [numHead]int64
	h[headH], h[headZ] = f(fwd*s.Hidden), f(fwd*s.Vocab)
	h[headLP], h[headLse], h[headEnt] = f(fwd), f(fwd), f(fwd)
	h[headHP], h[headHQ], h[headKL], h[headDZ] = f(back*s.Hidden), f(back*s.Hidden), f(back), f(back*s.Vocab)
	if s.Backward {
		h[headDH], h[headG] = f(back*s.Hidden), f(back)
	}
	return h
}

// headLogitsPast is what the fused head's logits take beyond HeadBytes
// for runs: a chunk is at least one row, so a vocabulary wider than ¾ of
// the budget takes more than its 1.5× (z of a forward chunk and dz of a
// backward or KL one, a row each).
func headLogitsPast(in Info, runs ...Shapes) int64 {
	_, named := scratchTerms(in, runs...)
	return max(0, named[headZ]+named[headDZ]-HeadBytes(in))
}

// splitScales bounds the split-K partials (scratchSplitK) and gemmcm's
// line maxima (scratchScales, M + N floats) of the products s multiplies:
// each weight [out, in] (q, k, v, o, gate, up, down; the head's
// [Vocab, Hidden]) by up to Rows rows forward; backward, the input's
// gradient (M ≤ Rows, N = in, K = out) and the weight's (M = out, N = in,
// K ≤ Rows); the fused head's backward chunks (dh: M ≤ its rows, N =
// Hidden, K = Vocab; dW: K ≤ its rows). A product splits by splitKBy's
// rule on the largest tile a product may take: a larger tile makes fewer
// tiles, so at least as many splits. A CPU device splits only where
// RLT_VULKAN_SPLIT says gpu (Open's setting).
func (s Shapes) splitScales(in Info) (split, scales int64) {
	splits := in.Type != "cpu" || os.Getenv("RLT_VULKAN_SPLIT") == "gpu"
	tile := gemmBigTile * max(16, int(in.CoopSize)) / 16
	// product counts a product of up to mMax rows (all of exactly mMax
	// where exact), n columns and up to k deep.
	product := func(mMax, n, k int, exact bool) {
		if mMax <= 0 || n <= 0 || k <= 0 {
			return
		}
		scales = max(scales, f(mMax+n))
		switch {
		case !splits:
		case windowed(in, mMax, n, k):
			split = max(split, f(windowedSplitFloats(in, mMax, n, k, tile, exact)))
		default:
			split = max(split, f(splitFloats(mMax, n, k, tile, exact)))
		}
	}
	hq, hkv := s.Heads*s.HeadDim, s.KVHeads*s.HeadDim
	// The layers' weights [out, in]; the head's forward (sampling's
	// logits) is a product of up to Rows rows too, its backward the fused
	// head's chunks below.
	layers := [][2]int{{hq, s.Hidden}, {hkv, s.Hidden}, {s.Hidden, hq}, {s.Intermediate, s.Hidden}, {s.Hidden, s.Intermediate}}
	product(s.Rows, s.Vocab, s.Hidden, false)
	for _, w := range layers {
		out, k := w[0], w[1]
		product(s.Rows, out, k, false)
		if s.Backward {
			product(s.Rows, k, out, false) // dx
			product(out, k, s.Rows, true)  // dW
		}
	}
	if s.Backward {
		_, back := s.headChunks(in)
		product(back, s.Hidden, s.Vocab, false) // dh
		product(s.Vocab, s.Hidden, back, true)  // dW
	}
	return split, scales
}

// windowed says whether a product of m rows, n columns and k deep may
// have an operand past the device's binding range (C [m, n], A [m, k],
// B [n, k], taken as float32s), so that it runs a window at a time
// (gemmWindowed).
func windowed(in Info, m, n, k int) bool {
	return in.MaxStorageBufferRange > 0 && f(max(m*n, m*k, n*k)) > int64(in.MaxStorageBufferRange)
}

// windowedSplitFloats is splitFloats for a product that may run a window
// at a time (gemmWindowed): the most floats of partial products its parts
// make, cut as gemmWindowed cuts them on a device binding
// in.MaxStorageBufferRange, for a product of each count of rows up to m
// (exactly m where exact), in each layout it may take (B transposed or
// not, in float32 or 16 bits, and, for a weight's gradient, whose rows
// are exact, A transposed or not: which operands pass the window, and
// along which dimension they are cut, follow from it), each part split by
// splitFloats. A part of fewer tiles splits along K where the whole
// product would not.
//
// A product of up to m rows (the activations', A [rows, k] untransposed)
// is not tried at each count of rows: up to uncutRows none is cut along
// M, its parts are the same at every count (B's cuts) and splitFloats
// takes each part's worst count; past it the product is cut along M into
// parts of fewer rows, each a product of its own count, so no count past
// it makes more (TestWindowedSplitFloatsEveryCount checks it against
// trying each count).
func windowedSplitFloats(in Info, m, n, k, tile int, exact bool) int {
	best := 0
	for i := range 8 { // transA, transB, B in 16 bits: each way
		l := windowLayout{transA: i&1 != 0, transB: i&2 != 0, bBytes: 4, ldc: n, lda: k, ldb: n}
		if i&4 != 0 {
			l.bBytes = 2
		}
		if l.transA {
			if !exact {
				continue
			}
			l.lda = m
		}
		if l.transB {
			l.ldb = k
		}
		if exact {
			best = max(best, l.parts(in, m, n, k, tile, true))
		} else {
			best = max(best, l.parts(in, min(m, l.uncutRows(in, n, k)), n, k, tile, false))
		}
	}
	return best
}

// uncutRows is the most rows of a product of n columns and k deep in
// layout l (A untransposed) that gemmWindowed cuts along M neither for C
// nor for A: an operand of lines outer long is cut when it passes the
// window and has more lines than a window's step.
func (l windowLayout) uncutRows(in Info, n, k int) int {
	window, ls := int64(in.MaxStorageBufferRange), max(8, int(in.MinStorageAlignment)/2)
	uncut := func(outer int) int {
		outer = max(outer, 1)
		return max(int(window/4/int64(outer)), ls, int(window/4)/outer/ls*ls)
	}
	return min(uncut(l.ldc), uncut(l.lda))
}

// windowLayout is a product's layout for windowedSplitFloats: which
// operands are transposed, B's bytes an element, and the strides of the
// whole product's operands, which its parts keep.
type windowLayout struct {
	transA, transB bool
	bBytes         int64
	ldc, lda, ldb  int
}

// parts is the most floats of partial products the parts of a product of
// m rows (or of any count up to m, unless exact), n columns and k deep
// make in layout l: gemmWindowed's rule (the first operand past the
// window that can still be cut is, along its outer dimension, in windows
// of whole lineSteps), each distinct part (a whole window, and what is
// left after the last) recursively.
func (l windowLayout) parts(in Info, m, n, k, tile int, exact bool) int {
	window := int64(in.MaxStorageBufferRange)
	ce := (m-1)*l.ldc + n
	ae, be := (m-1)*l.lda+k, (k-1)*l.ldb+n
	aDim, bDim := byte('m'), byte('k')
	if l.transA {
		ae, aDim = (k-1)*l.lda+m, 'k'
	}
	if l.transB {
		be, bDim = (n-1)*l.ldb+k, 'n'
	}
	ls := max(8, int(in.MinStorageAlignment)/2) // Device.lineStep
	for _, c := range [...]struct {
		over  bool
		dim   byte
		outer int
	}{{f(ce) > window, 'm', l.ldc}, {f(ae) > window, aDim, l.lda}, {int64(be)*l.bBytes > window, bDim, l.ldb}} {
		if !c.over {
			continue
		}
		total := m
		switch c.dim {
		case 'n':
			total = n
		case 'k':
			total = k
		}
		step := max(ls, int(window/4)/max(c.outer, 1)/ls*ls)
		if total <= step {
			continue
		}
		part := func(w int) int {
			switch c.dim {
			case 'm':
				return l.parts(in, w, n, k, tile, exact)
			case 'n':
				return l.parts(in, m, w, k, tile, exact)
			}
			return l.parts(in, m, n, w, tile, exact)
		}
		best := part(step)
		if r := total % step; r > 0 {
			best = max(best, part(r))
		}
		return best
	}
	return splitFloats(m, n, k, tile, exact)
}

// splitFloats is the most floats of partial products splitKBy makes for a
// product of m rows (or of any count up to m, unless exact), n columns
// and up to k deep on tiles of side tile: splits·M·N, splits at most
// ⌈gpuSplitTarget/tiles⌉ and K/gpuSplitMinK, where the tiles alone fall
// short of half gpuSplitTarget and K spans two gpuSplitMinK; 0 where it
// never splits. More splits come with a longer K, so K's largest is the
// worst; and of the counts of rows that make as many tiles, the largest.
func splitFloats(m, n, k, tile int, exact bool) int {
	if k < 2*gpuSplitMinK {
		return 0
	}
	nt := ceilDiv(n, tile)
	first := 1
	if exact {
		first = ceilDiv(m, tile)
	}
	best := 0
	for mt := first; ; mt++ {
		rows := min(mt*tile, m)
		tiles := ceilDiv(rows, tile) * nt
		if 2*tiles >= gpuSplitTarget {
			break
		}
		if sp := min(ceilDiv(gpuSplitTarget, tiles), k/gpuSplitMinK); sp >= 2 {
			best = max(best, sp*rows*n)
		}
		if rows == m {
			break
		}
	}
	return best
}
