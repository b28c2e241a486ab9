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
				held, bound := attnBackwardHeld(t, d, b, compute.AttnDims{B: c.b, T: c.t, H: c.h, KV: c.kv, HeadDim: c.hd})
				for _, i := range []int{scratchProbs, scratchGrads} {
					if held[i] == 0 || held[i] > bound[i] {
						t.Errorf("%s: slot %d holds %d bytes, bound at %d: want it held, within the bound", name, i, held[i], bound[i])
					}
				}
			}
		}
	}
}
