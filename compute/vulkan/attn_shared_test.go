package vulkan

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
)

// TestAttentionTilesFollowTheSharedMemory: the float32 tiles need the
// shared memory their SPIR-V declares (attn_fa_dq32 and attn_fa_dkv32
// 30,592 bytes, the tiles of 16 rows 26,560), past the 16 KiB Vulkan
// guarantees, and were built and counted on any device: one that refused
// them ran the row kernels, whose [T, T] scratch a head the estimate (the
// probe's) did not count. Under RLT_VULKAN_MAX_SHARED the device leaves out
// the tiles that do not fit, says so, and runs the row kernels for their
// head dimensions; a probe, which builds nothing, says the same by the
// same rule, and its bound holds what the opened device holds. At 16 KiB
// (the least Vulkan allows) neither set fits; at 28 KiB the tiles of 16
// rows (heads 65 to 128) fit and those of 32 do not.
func TestAttentionTilesFollowTheSharedMemory(t *testing.T) {
	openOrSkip(t)
	for _, c := range []struct {
		limit string
		rows  [2]bool // the row kernels, for heads up to 64 and up to 128
	}{{"", [2]bool{}}, {"16384", [2]bool{true, true}}, {"28672", [2]bool{true, false}}} {
		t.Run("limit "+c.limit, func(t *testing.T) {
			t.Setenv("RLT_VULKAN_MAX_SHARED", c.limit)
			probed, err := Probe()
			if err != nil {
				t.Fatal(err)
			}
			d, err := Open()
			if err != nil {
				t.Fatal(err)
			}
			b := NewBackend(d)
			defer b.Close()
			unavailable := fmt.Sprint(d.Info().Unavailable)
			for set, hd := range []int{16, 96} {
				_, tiles := d.attnTilesFor(hd, 8)
				// Where a probe cannot tell (cooperative matrices, which
				// may run under f16), it counts both.
				probeRows := attnOnRows(probed.attnRows, hd, 1) || probed.attnEither[set]
				name := attnTileSets[set].dq
				left := strings.Contains(unavailable, kernelSpecs[name].name+": needs ")
				if tiles == c.rows[set] || probeRows != c.rows[set] || left != c.rows[set] {
					t.Errorf("heads of %d: the device runs the tiles %v, a probe counts the row kernels %v, %s left out %v; want the row kernels %v (Unavailable: %s)",
						hd, tiles, probeRows, kernelSpecs[name].name, left, c.rows[set], unavailable)
				}
				// The probe's bound holds what the device holds: T past
				// twice the head, so the row kernels hold more.
				a := compute.AttnDims{B: 2, T: 96, H: 4, KV: 2, HeadDim: hd}
				emptySlots(t, d, scratchProbs, scratchGrads)
				held, _ := attnBackwardHeld(t, d, b, a)
				slot, _ := scratchTerms(probed, Shapes{Rows: a.B * a.T, T: a.T, Heads: a.H, KVHeads: a.KV, HeadDim: hd, Backward: true})
				for _, i := range []int{scratchProbs, scratchGrads} {
					if held[i] > max(slot[i], scratchMinBytes) {
						t.Errorf("heads of %d: slot %d holds %d bytes, the probe's bound %d", hd, i, held[i], slot[i])
					}
				}
			}
		})
	}
}

// TestAttentionForwardScratchFollowsTheKernels: attention's forward holds
// scores (scratchPartial) on the row kernels only, and the bound of it
// follows the kernels the device runs, as the backward's does: on the
// tiles a forward of 8 tokens or more holds none, and the bound counts
// only the calls the tiles do not take, on any device: sequences of fewer
// than attnTiledMinRows tokens (a micro-batch of short ones: [B·T·H, T]
// of T up to 7), heads past 128, and decoding (a token a step, or a
// prefill's last stretch of up to 7, Draws sequences over a cache of T).
// It counted the row kernels' [B·T·H, T] of the longest T on every
// device, up to 32 MiB: at 0.5B's heads and 8 × 384 tokens, 32 MiB where
// the tiles hold none, now 1.2. Each case on the tiles and on the row
// kernels, at odd shapes; the bound never under what is held, and within
// twice it for a whole forward on the row kernels.
func TestAttentionForwardScratchFollowsTheKernels(t *testing.T) {
	openOrSkip(t)
	d, err := Open() // its slot emptied before each case
	if err != nil {
		t.Fatal(err)
	}
	b := NewBackend(d)
	defer b.Close()
	for _, path := range []attnPath{attnTiled, attnRows} {
		for _, c := range []struct{ b, t, h, kv, hd, tn int }{ // tn: new tokens over a cache of t; 0, a whole forward of t
			{2, 96, 4, 2, 16, 0},
			{3, 97, 14, 2, 72, 0},
			{2, 5, 4, 2, 16, 0},
			{1, 1, 6, 3, 64, 0},
			{2, 67, 4, 2, 136, 0},
			{4, 40, 4, 2, 16, 1},
			{3, 50, 6, 3, 64, 7},
			{3, 50, 6, 3, 96, 8},
			{5, 33, 8, 1, 128, 3},
		} {
			name := fmt.Sprintf("%s, B %d T %d H %d KV %d hd %d new %d", map[attnPath]string{attnTiled: "tiles", attnRows: "rows"}[path], c.b, c.t, c.h, c.kv, c.hd, c.tn)
			d.attn = path
			emptySlots(t, d, scratchPartial)
			tn := c.t
			if c.tn > 0 {
				tn = c.tn
			}
			a := compute.AttnDims{B: c.b, T: tn, H: c.h, KV: c.kv, HeadDim: c.hd}
			n := a.B * a.T
			q, out := b.New("q", n, a.H*a.HeadDim), b.New("out", n, a.H*a.HeadDim)
			s := Shapes{Rows: n, T: c.t, Heads: a.H, KVHeads: a.KV, HeadDim: a.HeadDim}
			if c.tn > 0 {
				kc, vc := b.New("kc", a.B*a.KV*c.t*a.HeadDim), b.New("vc", a.B*a.KV*c.t*a.HeadDim)
				b.AttentionDecode(out, q, kc, vc, a, c.t, c.t-c.tn, nil)
				s.Draws = c.b
			} else {
				k, v := b.New("k", n, a.KV*a.HeadDim), b.New("v", n, a.KV*a.HeadDim)
				b.Attention(out, b.New("lse", a.B*a.H*a.T), q, k, v, a, nil)
			}
			if err := d.Flush(); err != nil {
				t.Fatal(err)
			}
			var held int64
			if sb := d.scratchBufs[scratchPartial]; sb != nil {
				held = int64(sb.size)
			}
			slot, _ := scratchTerms(d.Info(), s)
			bound := slot[scratchPartial]
			if bound > 0 {
				bound = max(bound, scratchMinBytes)
			}
			_, tiles := d.attnTilesFor(a.HeadDim, a.B*a.H)
			tiles = tiles && a.T >= attnTiledMinRows
			switch {
			case held > bound:
				t.Errorf("%s: the scores hold %d bytes, bound at %d", name, held, bound)
			case tiles && held != 0:
				t.Errorf("%s: on the tiles the scores hold %d bytes", name, held)
			case tiles && c.tn == 0 && bound > f(a.H*n)*(attnTiledMinRows-1):
				t.Errorf("%s: on the tiles the scores are bound at %d bytes: want at most what sequences of %d tokens hold on the row kernels, %d", name, bound, attnTiledMinRows-1, f(a.H*n)*(attnTiledMinRows-1))
			case !tiles && held == 0:
				t.Errorf("%s: on the row kernels the scores hold nothing", name)
			case !tiles && c.tn == 0 && bound > 2*held:
				t.Errorf("%s: the scores hold %d bytes, bound at %d: want the bound within twice it", name, held, bound)
			}
		}
	}
}

// emptySlots frees d's scratch slots, so that they hold what the next op
// asks alone.
func emptySlots(t *testing.T, d *Device, slots ...int) {
	t.Helper()
	for _, i := range slots {
		if s := d.scratchBufs[i]; s != nil {
			if !d.release(s) {
				t.Fatal(d.err)
			}
			d.scratchBufs[i] = nil
		}
	}
}
