package vulkan

import "os"

// Shapes are the sizes that the device memory a run's ops take beside its
// tensors grows with, each the largest over the run's models and ops.
// ScratchBytes bounds that memory for them.
type Shapes struct {
	// Rows is the most positions one forward or backward holds at once
	// (sequences × tokens of a micro-batch).
	Rows int
	// T is the longest sequence attention sees, its past included.
	T                       int
	Heads, KVHeads, HeadDim int
	// Width is the widest row a layer makes or reads: the model's width,
	// its MLP's, its query and key/value projections'.
	Width, Vocab int
	// Params and Tensors are the weights whose sums of squares are taken
	// at once (gradient clipping) and how many tensors hold them.
	Params, Tensors int
	// Draws is the most rows drawn from at once (sampled sequences), and
	// Candidates a shortlist's room per row (engine/sample's
	// ShortlistCapacity).
	Draws, Candidates int
}

// ScratchBytes bounds the device memory that ops of shapes s take on a
// device in beside their operands and the fused head's logits
// (HeadBytes): the Device's scratch slots (each grows to the largest any
// op asks of it and is kept) and the fused head's other chunks (its rows
// of h and dh, per-row values; its logits past HeadBytes, where a row of
// the vocabulary passes the budget). It is an upper bound, not the exact
// figure: each slot's term is derived from the sizes and caps its op
// uses (decodeScratchBytes, attnBackScratchBytes, colSumSlice,
// gpuSplitTarget, the tile sizes, headFloatsOn), taking the worst path an
// op may choose. TestScratchWithinBound runs the ops and fails when any
// holds more than this says.
func ScratchBytes(in Info, s Shapes) int64 {
	f := func(n int) int64 { return int64(n) * 4 } // float32s to bytes
	rep := max(1, s.Heads/max(1, s.KVHeads))
	wide := max(s.Rows, s.Width, s.Vocab)
	var slot [numScratch]int64
	// Argmax's ids (4 bytes a row), DrawTokens' ids and log-probs (8),
	// Shortlist's rows of candidates.
	slot[scratchIDs] = max(int64(s.Draws)*8, f(s.Draws*(shortlistHead+2*s.Candidates)))
	// Attention's scores: a dispatch's rows of keys within
	// decodeScratchBytes, at least one row, at most every row of the call
	// (B·T·H rows of T keys, B·T ≤ Rows); SumSquaresEach's partials, a
	// float a 4·groupSize elements of each tensor at an aligned offset.
	positions := s.Heads * max(s.Rows, s.T) // B·T·H of one attention call, at most
	align := int64(max(in.MinStorageAlignment, 4))
	sums := f(s.Params/(4*groupSize)+s.Tensors) + int64(s.Tensors)*align
	slot[scratchPartial] = max(f(s.T), min(int64(decodeScratchBytes), f(positions)*int64(s.T)), sums)
	slot[scratchFlag] = 4
	// AttentionBackward: on the row kernels two [np, T, T] buffers, np
	// whole kv groups within attnBackScratchBytes (at least one group), at
	// most the call's B·H; on the tiled ones D [B·H, T] and the per-head
	// dk, dv [np, 2, T, hd], np as the row kernels'.
	within := int64(attnBackScratchBytes)
	row := min(max(within, int64(rep)*f(s.T*s.T)), f(positions)*int64(s.T))
	tiled := min(max(within, int64(rep)*f(2*s.T*s.HeadDim)), f(positions)*int64(2*s.HeadDim))
	slot[scratchProbs] = max(row, f(positions))
	slot[scratchGrads] = max(row, tiled)
	// colSum: a row of partials per slice of at least colSumSlice rows.
	slot[scratchColSum] = f(ceilDiv(s.Rows, colSumSlice) * s.Width)
	// Split-K: splits·M·N floats with splits·tiles < 2·gpuSplitTarget (K
	// splits only while the tiles alone fall short of it), a tile at most
	// gemmBigTile square; and splits ≤ K/gpuSplitMinK with M, N, K each at
	// most wide. A CPU device splits only where RLT_VULKAN_SPLIT says gpu
	// (Open's setting).
	tile := gemmBigTile * max(16, int(in.CoopSize)) / 16
	if in.Type != "cpu" || os.Getenv("RLT_VULKAN_SPLIT") == "gpu" {
		slot[scratchSplitK] = min(f(2*gpuSplitTarget*tile*tile), int64(wide/gpuSplitMinK)*f(wide)*int64(wide))
	}
	// gemmcm's line maxima of A and B: M + N floats.
	slot[scratchScales] = f(2 * wide)
	// The unfused decode path's normed input, its rstd, gate and up: the
	// fused decode ops (Linear3, GatedLinear) take at most gemvRows rows.
	dec := min(s.Rows, gemvRows)
	slot[scratchNormed] = f(dec * s.Width)
	slot[scratchRstd] = f(dec)
	slot[scratchGate] = f(dec * s.Width)
	slot[scratchUp] = f(dec * s.Width)
	var n int64
	for _, b := range slot {
		if b > 0 { // a slot used holds at least scratchMinBytes
			n += max(b, scratchMinBytes)
		}
	}
	// The fused head's chunks beside its logits (Backend.scratchOf): h of
	// a forward chunk, dh of a backward one, hp and hq of a KL one (half
	// the budget's rows), and five floats a row (lp, lse, ent, g, kl).
	fwd, back := headChunkRows(in, s)
	n += f(fwd*s.Width + 3*back*s.Width + 5*fwd)
	return n + headLogitsPast(in, s)
}

// headChunkRows bounds the rows of the fused head's forward chunks and of
// its backward and KL ones (half the budget's) for shapes s: headRows'
// at most, and at least one row.
func headChunkRows(in Info, s Shapes) (fwd, back int) {
	budget, v, rows := headFloatsOn(in), max(1, s.Vocab), max(1, s.Rows)
	return min(max(1, budget/v), rows), min(max(1, budget/2/v), rows)
}

// headLogitsPast is what the fused head's logits take beyond HeadBytes
// for shapes s: a chunk is at least one row, so a vocabulary wider than ¾
// of the budget takes more than its 1.5× (z of a forward chunk and dz of
// a backward or KL one, a row each).
func headLogitsPast(in Info, s Shapes) int64 {
	fwd, back := headChunkRows(in, s)
	return max(0, int64(fwd+back)*int64(s.Vocab)*4-HeadBytes(in))
}
