package vulkan

import (
	"testing"

	"github.com/rlt-workbench/rlt/compute"
)

// scratchHeld is the device memory the Device's scratch slots and the
// Backend's named scratch hold now, the fused head's logits (what
// HeadBytes bounds) apart.
func (b *Backend) scratchHeld() (scratch, logits int64) {
	for _, s := range b.d.scratchBufs {
		if s != nil {
			scratch += int64(s.size)
		}
	}
	for name, t := range b.scratch {
		switch {
		case t.b == b.d.dummy:
		case name == "head.z" || name == "head.dz":
			logits += int64(t.b.size)
		default:
			scratch += int64(t.b.size)
		}
	}
	return scratch, logits
}

// TestScratchWithinBound runs a training step's and a sampling step's ops
// at small shapes, on the row and the tiled attention paths, and wants the
// scratch they leave held within ScratchBytes of those shapes, and the
// head's logits within HeadBytes and what ScratchBytes counts past it: an
// op whose scratch grows past the bound the memory check adds fails it.
func TestScratchWithinBound(t *testing.T) {
	openOrSkip(t)
	// The caps small, so that the terms each op's own sizes make rule the
	// bound, not the caps' megabytes, and the column sums split in slices.
	defer func(dec, back, slice int) { decodeScratchBytes, attnBackScratchBytes, colSumSlice = dec, back, slice }(decodeScratchBytes, attnBackScratchBytes, colSumSlice)
	decodeScratchBytes, attnBackScratchBytes, colSumSlice = 4096, 4096, 32
	t.Setenv("RLT_VULKAN_SPLIT", "gpu") // products split along K, as on a GPU
	cases := []struct {
		name                          string
		rows                          bool // attention on the row kernels
		b, t, h, kv, hd, width, vocab int
		headFloats                    int // the head's logits budget (0: the device's)
	}{
		{"row attention", true, 2, 96, 4, 2, 16, 300, 1000, 0},
		{"tiled attention", false, 3, 80, 6, 3, 32, 520, 700, 0},
		{"one sequence, wide vocabulary", false, 1, 40, 2, 1, 8, 64, 5000, 0},
		// A row of logits past the budget: a chunk of one row each way
		// holds 2·V floats, more than HeadBytes' 1.5× the budget.
		{"a vocabulary wider than the head's budget", false, 2, 40, 2, 1, 8, 64, 5000, 4000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.headFloats > 0 {
				defer func(f int) { headChunkFloats = f }(headChunkFloats)
				headChunkFloats = c.headFloats
			}
			d, err := Open()
			if err != nil {
				t.Fatal(err)
			}
			b := NewBackend(d)
			t.Cleanup(b.Close)
			if c.rows {
				d.attn = attnRows
			}
			n, qw, kw := c.b*c.t, c.h*c.hd, c.kv*c.hd
			a := compute.AttnDims{B: c.b, T: c.t, H: c.h, KV: c.kv, HeadDim: c.hd}
			q, k, v := b.New("q", n, qw), b.New("k", n, kw), b.New("v", n, kw)
			out, lse := b.New("out", n, qw), b.New("lse", c.b*c.h*c.t)
			dq, dk, dv := b.New("dq", n, qw), b.New("dk", n, kw), b.New("dv", n, kw)
			b.Attention(out, lse, q, k, v, a, nil)
			b.AttentionBackward(dq, dk, dv, out, out, lse, q, k, v, a, nil)

			x, w, bias := b.New("x", n, c.width), b.New("w", c.width, c.width), b.New("bias", c.width)
			y, dx, dw, db := b.New("y", n, c.width), b.New("dx", n, c.width), b.New("dw", c.width, c.width), b.New("db", c.width)
			b.Linear(y, x, w, bias)
			b.LinearBackward(dx, dw, db, y, x, w)
			rstd, nw, dnw := b.New("rstd", n), b.New("nw", c.width), b.New("dnw", c.width)
			b.RMSNorm(y, rstd, x, nw, 1e-6)
			b.RMSNormBackward(dx, dnw, y, x, nw, rstd)

			head := b.New("head", c.vocab, c.width)
			dhead := b.New("dhead", c.vocab, c.width)
			lp, hl, ent, glp := b.New("lp", n), b.New("hl", n), b.New("ent", n), b.New("glp", n)
			targets := make([]int32, n)
			for i := range targets {
				targets[i] = int32(i % c.vocab)
			}
			b.HeadLogProbs(lp, hl, ent, x, head, c.vocab, targets, 1)
			b.HeadLogProbsBackward(dx, dhead, glp, x, head, hl, c.vocab, targets, 1)
			b.HeadKL(lp, x, head, y, head, c.vocab, 1)

			ws := []*compute.Tensor{q, k, v, w, bias, nw, head}
			params := 0
			for _, t := range ws {
				params += t.Len()
			}
			b.SumSquaresEach(ws, make([]float64, len(ws)))

			const draws, candidates = 5, 64
			logits := b.New("logits", draws, c.vocab)
			u := make([]float32, draws)
			if err := b.DrawTokens(make([]int32, draws), make([]float32, draws), logits, u, compute.DrawOptions{InvTemp: 1, Allowed: c.vocab}); err != nil {
				t.Fatal(err)
			}
			var s compute.Shortlist
			if err := b.Shortlist(&s, logits, compute.ShortlistOptions{InvTemp: 1, Allowed: c.vocab, TopK: 4, Capacity: candidates}); err != nil {
				t.Fatal(err)
			}
			b.Argmax(make([]int32, draws), logits)
			if err := d.Flush(); err != nil {
				t.Fatal(err)
			}
			shapes := Shapes{Rows: n, T: c.t, Heads: c.h, KVHeads: c.kv, HeadDim: c.hd, Width: max(c.width, qw),
				Vocab: c.vocab, Params: params, Tensors: len(ws), Draws: draws, Candidates: candidates}
			// ScratchBytes counts the logits past HeadBytes (headLogitsPast)
			// beside the rest of the scratch: each part within its own.
			held, zs := b.scratchHeld()
			past := headLogitsPast(d.info, shapes)
			bound, zBound := ScratchBytes(d.info, shapes)-past, HeadBytes(d.info)+past
			if held == 0 || held > bound || zs == 0 || zs > zBound {
				t.Fatalf("the ops' scratch holds %d bytes and the head's logits %d, ScratchBytes bounds them at %d and %d (HeadBytes and %d past it; %+v)",
					held, zs, bound, zBound, past, shapes)
			}
			t.Logf("scratch held %d bytes and logits %d, bound %d and %d", held, zs, bound, zBound)
		})
	}
}
