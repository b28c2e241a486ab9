package vulkan

import (
	"errors"
	"strings"
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

// TestScratchGrowthOnAFailedDevice: a scratch slot (split products'
// partials) or the fused head's named chunks growing while the batch's
// commands use the old buffer drain the batch; where that batch's fence
// reports the device lost, or gives no answer (loseAfter, hangAfter: the
// batch's drain is its fence's first wait), the growth fails there, its
// error the device's (Err, and the batch's Flush) as a Flush's would be,
// and nothing more is recorded. The old buffer is not freed by the failed
// drain: a lost device's Close frees it with the rest (nothing held
// after), a hung one's keeps it (the GPU may still use it). The drain's
// wait did not act on the hooks, so a GPU failing mid-drain went
// untested, and the head's old chunk, off the live tensors and freed by
// nobody, was left held after a lost device's Close.
func TestScratchGrowthOnAFailedDevice(t *testing.T) {
	openOrSkip(t)
	t.Setenv("RLT_VULKAN_SPLIT", "gpu")
	const k, width, vocab = 2048, 32, 500
	for _, c := range []struct {
		name       string
		hang       bool
		linear, hd bool // grow the split partials, the head's chunks
		says       string
	}{
		{"lost, a slot", false, true, false, "VK_ERROR_DEVICE_LOST"},
		{"lost, the head's chunks", false, false, true, "VK_ERROR_DEVICE_LOST"},
		{"hung, a slot", true, true, false, "no answer"},
		{"hung, the head's chunks", true, false, true, "no answer"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := Open()
			if err != nil {
				t.Fatal(err)
			}
			if c.hang {
				d.hangAfter = 2
			} else {
				d.loseAfter = 2
			}
			b := NewBackend(d)
			fill := func(x *compute.Tensor) *compute.Tensor {
				v := make([]float32, x.Len())
				for i := range v {
					v[i] = float32(i%13-6) / 8
				}
				b.Write(x, v)
				return x
			}
			head := fill(b.New("head", vocab, width))
			ops := func(m, rows int) {
				if c.linear {
					b.Linear(b.New("y", m, m), fill(b.New("x", m, k)), fill(b.New("w", m, k)), nil)
				}
				if c.hd {
					targets := make([]int32, rows)
					b.HeadLogProbs(b.New("lp", rows), b.New("lse", rows), b.New("ent", rows), fill(b.New("h", rows, width)), head, vocab, targets, 1)
				}
			}
			ops(32, 2)
			if err := d.Flush(); err != nil { // batch 1
				t.Fatal(err)
			}
			ops(32, 2) // batch 2 uses the buffers
			if err := b.Err(); err != nil {
				t.Fatalf("before the growth: %v", err)
			}
			drains := d.drains
			ops(64, 8) // grows them: a drain, whose wait fails
			err = b.Err()
			if !errors.Is(err, ErrDeviceLost) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("after a growth whose drain waits on a failing batch: Err = %v, want ErrDeviceLost saying %q", err, c.says)
			}
			if d.drains != drains {
				t.Errorf("a failed drain counted as done (%d drains)", d.drains-drains)
			}
			if ferr := d.Flush(); ferr != err {
				t.Errorf("Flush = %v, want the drain's error %v", ferr, err)
			}
			held, _ := d.MemoryUse()
			b.Close()
			now, _ := d.MemoryUse()
			if c.hang && now != held {
				t.Errorf("Close of a hung device freed %d of the %d bytes its batch may still use", held-now, held)
			}
			if !c.hang && now != 0 {
				t.Errorf("after Close the lost device holds %d bytes of device memory, want none", now)
			}
		})
	}
}
