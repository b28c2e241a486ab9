package vulkan

import (
	"testing"

	"github.com/rlt-workbench/rlt/compute"
)

// TestScratchGrowthFreesTheOld grows a scratch slot (split products'
// partials) and the fused head's named chunks within one batch, and wants
// nothing held above what the device holds once the batch is done: the
// old buffers are freed before the new ones are made, after a drain of
// the batch's commands that use them (release). They were kept until the
// batch's end, a peak of old and new together above ScratchBytes. Grown
// after a batch that is done, nothing is drained. Both ways compute the
// same, bit for bit: the drain keeps the batch's uploads (the head's
// targets) and its order.
func TestScratchGrowthFreesTheOld(t *testing.T) {
	openOrSkip(t)
	t.Setenv("RLT_VULKAN_SPLIT", "gpu") // products split along K, as on a GPU
	const k, width, vocab = 2048, 32, 500
	run := func(t *testing.T, flushBetween bool) (out [][]float32, drains int, held, peak uint64) {
		d, err := Open()
		if err != nil {
			t.Fatal(err)
		}
		b := NewBackend(d)
		t.Cleanup(b.Close)
		fill := func(x *compute.Tensor, seed int) *compute.Tensor {
			v := make([]float32, x.Len())
			for i := range v {
				v[i] = float32((i*7+seed)%13-6) / 8
			}
			b.Write(x, v)
			return x
		}
		type step struct{ y, x, w, lp, lse, ent, h *compute.Tensor }
		head := fill(b.New("head", vocab, width), 1)
		var steps []step
		for i, m := range []int{32, 64} { // partials of 8 splits: 32 KiB, then 128 KiB
			rows := 2 + 6*i // the head's chunks: 2 rows, then 8
			steps = append(steps, step{y: b.New("y", m, m), x: fill(b.New("x", m, k), 2+i), w: fill(b.New("w", m, k), 4+i),
				lp: b.New("lp", rows), lse: b.New("lse", rows), ent: b.New("ent", rows), h: fill(b.New("h", rows, width), 6+i)})
		}
		if err := d.Flush(); err != nil {
			t.Fatal(err)
		}
		before := d.drains
		for i, s := range steps {
			if i == 1 {
				if flushBetween {
					if err := d.Flush(); err != nil {
						t.Fatal(err)
					}
				}
				d.MemoryUse() // the peak from here
			}
			b.Linear(s.y, s.x, s.w, nil)
			targets := make([]int32, s.lp.Len())
			for r := range targets {
				targets[r] = int32(r * 37 % vocab)
			}
			b.HeadLogProbs(s.lp, s.lse, s.ent, s.h, head, vocab, targets, 1)
		}
		if err := d.Flush(); err != nil {
			t.Fatal(err)
		}
		held, peak = d.MemoryUse()
		for _, s := range steps {
			for _, x := range []*compute.Tensor{s.y, s.lp, s.ent} {
				v := make([]float32, x.Len())
				b.Read(v, x)
				out = append(out, v)
			}
		}
		if d.scratchBufs[scratchSplitK] == nil || d.scratchBufs[scratchSplitK].size != 8*64*64*4 {
			t.Fatalf("the split partials' slot is %v, want 128 KiB (8 splits of 64×64)", d.scratchBufs[scratchSplitK])
		}
		return out, d.drains - before, held, peak
	}
	within, drained, held, peak := run(t, false)
	if drained == 0 || peak != held {
		t.Errorf("grown within a batch: %d drains, %d bytes held at the peak and %d after the batch, want a drain and nothing held above the end", drained, peak, held)
	}
	after, drained, held, peak := run(t, true)
	if drained != 0 || peak != held {
		t.Errorf("grown after a batch that is done: %d drains, %d bytes held at the peak and %d after, want none and nothing above the end", drained, peak, held)
	}
	for i := range within {
		for j := range within[i] {
			if within[i][j] != after[i][j] {
				t.Fatalf("output %d, element %d: %v grown within the batch, %v after it", i, j, within[i][j], after[i][j])
			}
		}
	}
}
