package vulkan

import (
	"fmt"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
)

// TestAttentionBackwardScratchAtOddShapes: attention's backward holds no
// more of its two scratch slots than ScratchBytes bounds (the estimate a
// run's memory check adds) at shapes TestScratchWithinBound's do not
// reach: T not a multiple of the tiles' 16 or 32 rows, one token, head
// dimensions of the tiles of 16 rows (72, 96, 128) and past the tiles
// (136, 256: the row kernels whatever the setting), kv groups of 1 to 7
// heads; on the tiles and the row kernels, with attnBackScratchBytes at
// its own and at a size that parts the heads into several dispatches.
func TestAttentionBackwardScratchAtOddShapes(t *testing.T) {
	openOrSkip(t)
	defer func(c int) { attnBackScratchBytes = c }(attnBackScratchBytes)
	d, err := Open() // its slots emptied before each case: they hold what it asks alone
	if err != nil {
		t.Fatal(err)
	}
	b := NewBackend(d)
	defer b.Close()
	for _, within := range []int{attnBackScratchBytes, 4096} {
		for _, path := range []attnPath{attnTiled, attnRows} {
			for _, c := range []struct{ b, t, h, kv, hd int }{
				{3, 97, 14, 2, 72},
				{2, 161, 7, 1, 8},
				{1, 100, 16, 4, 128},
				{2, 67, 4, 2, 136},
				{1, 45, 2, 1, 256},
				{40, 1, 6, 3, 64},
				{1, 65, 12, 12, 64},
				{2, 47, 8, 1, 96},
			} {
				name := fmt.Sprintf("within %d, %s, B %d T %d H %d KV %d hd %d", within, map[attnPath]string{attnTiled: "tiles", attnRows: "rows"}[path], c.b, c.t, c.h, c.kv, c.hd)
				attnBackScratchBytes, d.attn = within, path
				for _, i := range []int{scratchProbs, scratchGrads} {
					if s := d.scratchBufs[i]; s != nil {
						if !d.release(s) {
							t.Fatal(d.err)
						}
						d.scratchBufs[i] = nil
					}
				}
				a := compute.AttnDims{B: c.b, T: c.t, H: c.h, KV: c.kv, HeadDim: c.hd}
				n := a.B * a.T
				q, k, v := b.New("q", n, c.h*c.hd), b.New("k", n, c.kv*c.hd), b.New("v", n, c.kv*c.hd)
				out, lse := b.New("out", n, c.h*c.hd), b.New("lse", a.B*a.H*a.T)
				dq, dk, dv := b.New("dq", n, c.h*c.hd), b.New("dk", n, c.kv*c.hd), b.New("dv", n, c.kv*c.hd)
				b.Attention(out, lse, q, k, v, a, nil)
				b.AttentionBackward(dq, dk, dv, out, out, lse, q, k, v, a, nil)
				if err := d.Flush(); err != nil {
					t.Fatal(err)
				}
				slot, _ := scratchTerms(d.Info(), Shapes{Rows: n, T: c.t, Heads: c.h, KVHeads: c.kv, HeadDim: c.hd, Backward: true})
				for _, i := range []int{scratchProbs, scratchGrads} {
					var held int64
					if s := d.scratchBufs[i]; s != nil {
						held = int64(s.size)
					}
					if bound := max(slot[i], scratchMinBytes); held == 0 || held > bound {
						t.Errorf("%s: slot %d holds %d bytes, bound at %d: want it held, within the bound", name, i, held, bound)
					}
				}
			}
		}
	}
}
