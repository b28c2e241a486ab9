package vulkan

import (
	"fmt"
	"math"

	"github.com/rlt-workbench/rlt/compute"
)

type cacheWritePush struct{ n, tn, kv, hd, maxLen, past uint32 }

// CacheWrite stores new keys k and values v [B, Tn, KV, hd] into kCache
// and vCache [B, KV, maxLen, hd] at positions past..past+Tn−1, in one
// dispatch.
func (d *Device) CacheWrite(kCache, vCache, k, v *Tensor, a compute.AttnDims, maxLen, past int) {
	d.own(kCache, vCache, k, v)
	n, cn := a.B*a.T*a.KV*a.HeadDim, a.B*a.KV*maxLen*a.HeadDim
	if k.n != n || v.n != n || kCache.n != cn || vCache.n != cn || past < 0 || past+a.T > maxLen {
		panic(fmt.Sprintf("vulkan: cache write of %v, %v into %v, %v (%+v, maxLen %d, past %d)", k, v, kCache, vCache, a, maxLen, past))
	}
	dispatch(d, kCacheWrite, &cacheWritePush{n: uint32(n), tn: uint32(a.T), kv: uint32(a.KV), hd: uint32(a.HeadDim),
		maxLen: uint32(maxLen), past: uint32(past)}, linearGroups(ceilDiv(n, groupSize)), kCache.bind(), vCache.bind(), k.bind(), v.bind())
}

// CanRotaryCacheWrite reports whether RotaryCacheWrite runs: rope_cache was
// built and RLT_VULKAN_FUSE is not 0.
func (d *Device) CanRotaryCacheWrite() bool { return d.has(kRoPECache) && !d.noFuse }

type ropeCachePush struct{ rows, tn, h, kv, half, maxLen, past uint32 }

// RotaryCacheWrite rotates new queries q [B, Tn, H, hd] into qr and keys k
// [B, Tn, KV, hd] into kCache [B, KV, maxLen, hd] at positions
// past..past+Tn−1, row n by pos[n], and stores values v into vCache there:
// RoPE, RoPE and CacheWrite in one dispatch (rope_cache), where
// CanRotaryCacheWrite.
func (d *Device) RotaryCacheWrite(qr, kCache, vCache, q, k, v *Tensor, pos []int32, table *RoPETable, a compute.AttnDims, maxLen, past int) {
	d.own(qr, kCache, vCache, q, k, v, table.Cos, table.Sin)
	if !d.CanRotaryCacheWrite() {
		panic("vulkan: rotary cache write without its kernel (CanRotaryCacheWrite is false)")
	}
	rows := a.B * a.T
	n, cn := rows*a.KV*a.HeadDim, a.B*a.KV*maxLen*a.HeadDim
	if len(pos) != rows || table.HeadDim != a.HeadDim || a.HeadDim%2 != 0 || q.n != rows*a.H*a.HeadDim || qr.n != q.n ||
		k.n != n || v.n != n || kCache.n != cn || vCache.n != cn || past < 0 || past+a.T > maxLen {
		panic(fmt.Sprintf("vulkan: rotary cache write of %v, %v, %v into %v, %v, %v (%+v, %d positions, heads of %d, maxLen %d, past %d)",
			q, k, v, qr, kCache, vCache, a, len(pos), table.HeadDim, maxLen, past))
	}
	d.checkIDs("rope position", pos, table.MaxPos)
	pb, ok := d.uploadInts(pos)
	if !ok {
		return
	}
	half := a.HeadDim / 2
	dispatch(d, kRoPECache, &ropeCachePush{rows: uint32(rows), tn: uint32(a.T), h: uint32(a.H), kv: uint32(a.KV), half: uint32(half),
		maxLen: uint32(maxLen), past: uint32(past)}, linearGroups(ceilDiv(rows*(a.H+a.KV)*half, groupSize)),
		qr.bind(), kCache.bind(), vCache.bind(), q.bind(), k.bind(), v.bind(), table.Cos.bind(), table.Sin.bind(), pb)
}

type attnPush struct {
	base, count, tn, h, kv, hd, sRow, past, hasKStart, hasLSE, kvBatch, kvHead, kvRow uint32
	scale                                                                             float32
}

// decodeScratchBytes bounds the scores buffer of one attention dispatch;
// longer calls are split into several dispatches that share it.
var decodeScratchBytes = 32 << 20

// attnTiledMinRows is the fewest query rows per (b, h) that take the tiled
// forward kernel: a tile walks the keys a block at a time, which for a
// token or two being decoded is slower than attn's 256 invocations sweeping
// them at once.
const attnTiledMinRows = 8

// attnTiles is one tile size's kernels: side query (and key) rows per tile.
type attnTiles struct {
	side         int
	fwd, dq, dkv kernelID
}

// attnTileSets hold 2048 floats of each operand per tile: head dimensions up
// to 64 in tiles of 32 rows, up to 128 in tiles of 16.
var attnTileSets = [2]attnTiles{{32, kAttnFA32, kAttnFADQ32, kAttnFADKV32}, {16, kAttnFA16, kAttnFADQ16, kAttnFADKV16}}

// attnSetFor is the index into attnTileSets and attnCoopSets of the kernels
// for head dimension hd: 0 up to 64, 1 past.
func attnSetFor(hd int) int {
	if hd > 64 {
		return 1
	}
	return 0
}

// attnPath is where training attention and prefills run (RLT_VULKAN_ATTN).
type attnPath uint8

const (
	// attnTiled: the tiled kernels where the head dimension allows, on
	// cooperative matrices (attn_cm*) under matmul f16 for head dims up to
	// attnCMHeadDim, else the float32 ones (attn_fa*).
	attnTiled attnPath = iota
	// attnTiledF32: the float32 tiles under matmul f16 too.
	attnTiledF32
	// attnRows: the row kernels (attn, attn_ds, attn_dq, attn_dkv).
	attnRows
)

// Attention's kernels on cooperative matrices (attn_cm.glsl): workgroups of
// attnCMSubgroups subgroups, each owning T rows, for head dims up to
// attnCMHeadDim.
const (
	attnCMSubgroups = 4
	attnCMHeadDim   = 128
)

// attnCoopSets are those kernels for head dims up to 64 and up to 128
// (attn_cm128*, compiled with -DHDP=128u), their tiles attnCMSubgroups·T
// rows (side filled in by attnTilesFor).
var attnCoopSets = [2]attnTiles{
	{fwd: kAttnCM, dq: kAttnCMDQ, dkv: kAttnCMDKV},
	{fwd: kAttnCM128, dq: kAttnCM128DQ, dkv: kAttnCM128DKV},
}

// attnOnRows is where the choice between attention's row and tiled
// kernels is made, for the ops (attnTilesFor) and for the bound of their
// scratch (ScratchBytes, from Info.attnRows), so that the two cannot
// disagree: attention of head dimension hd over pairs = B·H (b, h) pairs
// runs on the row kernels where hd is past 128, pairs do not fit one
// dimension of a dispatch, or rows[attnSetFor(hd)] (attnRowsBySet:
// RLT_VULKAN_ATTN=rows, or a tiled kernel of that size not built).
func attnOnRows(rows [2]bool, hd, pairs int) bool {
	return hd <= 0 || hd > 128 || pairs > maxGroupsX || rows[attnSetFor(hd)]
}

// attnRowsBySet says, for each of attnTileSets, whether attention of its
// head dimensions takes the row kernels whatever the shape: under
// RLT_VULKAN_ATTN=rows, or where neither tiles are built that
// attnTilesFor would take, the float32 ones or, under matmul f16 (unless
// RLT_VULKAN_ATTN=f32), those on cooperative matrices, whose scratch is
// the float32 tiles'.
func (d *Device) attnRowsBySet() (rows [2]bool) {
	for i := range attnTileSets {
		coop := d.matmul16 && d.attn == attnTiled && d.attnBuilt(attnCoopSets[i])
		rows[i] = d.attn == attnRows || !(d.attnBuilt(attnTileSets[i]) || coop)
	}
	return rows
}

// attnBuilt says whether the device built t's kernels and the sum of the
// heads' key and value gradients.
func (d *Device) attnBuilt(t attnTiles) bool {
	return d.has(t.fwd) && d.has(t.dq) && d.has(t.dkv) && d.has(kAttnFASum)
}

// attnTilesFor returns the tiled kernels for head dimension hd and B·H =
// pairs; ok is false where attnOnRows says the row kernels run. Under
// matmul f16 a head dim up to attnCMHeadDim takes the kernels on
// cooperative matrices, whose tiles are attnCMSubgroups·T rows, unless
// RLT_VULKAN_ATTN=f32 or they were not built.
func (d *Device) attnTilesFor(hd, pairs int) (t attnTiles, ok bool) {
	if attnOnRows(d.attnRowsBySet(), hd, pairs) {
		return t, false
	}
	if d.matmul16 && d.attn == attnTiled && hd <= attnCMHeadDim {
		t = attnCoopSets[attnSetFor(hd)]
		t.side = attnCMSubgroups * int(d.info.CoopSize)
		if d.attnBuilt(t) {
			return t, true
		}
	}
	return attnTileSets[attnSetFor(hd)], true // built: attnRowsBySet
}

// attnCoopFits says why attention kernel k on cooperative matrices cannot
// run on the device, or nil: it needs subgroups of one fixed size, a
// multiple of the matrices' side, and its shared memory, counted as
// attn_cm.glsl and the kernel declare their arrays (Xs, red, smax; the
// kernel's own).
func (d *Device) attnCoopFits(k kernelID) error {
	side, lanes := d.info.CoopSize, d.coopLanes
	if !d.coopFixedLanes || side == 0 || lanes < side || lanes%side != 0 {
		return fmt.Errorf("needs subgroups of one fixed size, a multiple of %d; the device runs 1 to %d invocations", side, lanes)
	}
	const bk = 32
	hdp := uint32(64)
	if k == kAttnCM128 || k == kAttnCM128DQ || k == kAttnCM128DKV {
		hdp = 128
	}
	rows := uint32(max(attnCMSubgroups*side, 2*bk))
	bytes := rows*(hdp+8)*2 + attnCMSubgroups*lanes*4 + 6*4
	perRow := uint32(attnCMSubgroups) * side // a subgroup's T rows, for all subgroups
	switch k {
	case kAttnCM, kAttnCM128:
		bytes += perRow*bk*4 + perRow*(bk+8)*2
	case kAttnCMDQ, kAttnCM128DQ:
		bytes += 2*perRow*bk*4 + perRow*(bk+8)*2
	case kAttnCMDKV, kAttnCM128DKV:
		bytes += 2*perRow*bk*4 + 2*perRow*(bk+8)*2 + 2*bk*4
	}
	if bytes > d.info.MaxSharedMemory {
		return fmt.Errorf("needs %d bytes of shared memory, the device has %d", bytes, d.info.MaxSharedMemory)
	}
	return nil
}

type attnTiledPush struct {
	tn, h, kv, hd, past, hasKStart, hasLSE, kvBatch, kvHead, kvRow uint32
	scale                                                          float32
}

// attention records the forward pass: over all (b, i, h) items on attn, or,
// for training and prefills where the head dimension allows, a tile of
// queries per workgroup on attn_fa.
func (d *Device) attention(out, q, k, v, lse *Tensor, a compute.AttnDims, sRow, past int, kvBatch, kvHead, kvRow int, kStart []int32) {
	items := a.B * a.T * a.H
	if items == 0 {
		return
	}
	ksb := binding{b: d.dummy, size: d.dummy.size}
	if kStart != nil {
		var ok bool
		if ksb, ok = d.uploadInts(kStart); !ok {
			return
		}
	}
	lb := binding{b: d.dummy, size: d.dummy.size}
	scale := float32(1 / math.Sqrt(float64(a.HeadDim)))
	if tiles, ok := d.attnTilesFor(a.HeadDim, a.B*a.H); ok && a.T >= attnTiledMinRows {
		p := attnTiledPush{tn: uint32(a.T), h: uint32(a.H), kv: uint32(a.KV), hd: uint32(a.HeadDim), past: uint32(past),
			kvBatch: uint32(kvBatch), kvHead: uint32(kvHead), kvRow: uint32(kvRow), scale: scale}
		if kStart != nil {
			p.hasKStart = 1
		}
		if lse != nil {
			lb, p.hasLSE = lse.bind(), 1
		}
		dispatch(d, tiles.fwd, &p, [3]uint32{uint32(ceilDiv(a.T, tiles.side)), uint32(a.B * a.H), 1},
			out.bind(), q.bind(), k.bind(), v.bind(), ksb, lb)
		return
	}
	push := attnPush{tn: uint32(a.T), h: uint32(a.H), kv: uint32(a.KV), hd: uint32(a.HeadDim), sRow: uint32(sRow),
		past: uint32(past), kvBatch: uint32(kvBatch), kvHead: uint32(kvHead), kvRow: uint32(kvRow), scale: scale}
	if kStart != nil {
		push.hasKStart = 1
	}
	if lse != nil {
		lb, push.hasLSE = lse.bind(), 1
	}
	per := min(max(1, decodeScratchBytes/(sRow*4)), items)
	sb, err := d.scratch(scratchPartial, uint64(per*sRow)*4)
	if err != nil {
		return
	}
	for base := 0; base < items; base += per {
		p := push
		p.base, p.count = uint32(base), uint32(min(per, items-base))
		dispatch(d, kAttn, &p, linearGroups(int(p.count)), out.bind(), q.bind(), k.bind(), v.bind(),
			binding{b: sb, size: uint64(per*sRow) * 4}, ksb, lb)
	}
}

// AttentionDecode attends q [B, Tn, H, hd] (positions past..past+Tn−1) to the
// cached keys and values 0..past+Tn−1, causally; kStart[b] masks left
// padding (nil: none).
func (d *Device) AttentionDecode(out, q, kCache, vCache *Tensor, a compute.AttnDims, maxLen, past int, kStart []int32) {
	d.own(out, q, kCache, vCache)
	sameLen("attention decode", q, out)
	if q.n != a.B*a.T*a.H*a.HeadDim || kCache.n != a.B*a.KV*maxLen*a.HeadDim || vCache.n != kCache.n ||
		a.KV == 0 || a.H%a.KV != 0 || past+a.T > maxLen || (kStart != nil && len(kStart) != a.B) {
		panic(fmt.Sprintf("vulkan: attention decode of %v on caches %v, %v (%+v, maxLen %d, past %d)", q, kCache, vCache, a, maxLen, past))
	}
	hd := a.HeadDim
	d.attention(out, q, kCache, vCache, nil, a, maxLen, past, a.KV*maxLen*hd, maxLen*hd, hd, kStart)
}

func checkAttn(op string, q, k, v, out, lse *Tensor, a compute.AttnDims, kStart []int32) {
	if q.n != a.B*a.T*a.H*a.HeadDim || out.n != q.n || k.n != a.B*a.T*a.KV*a.HeadDim || v.n != k.n ||
		lse.n != a.B*a.H*a.T || a.KV == 0 || a.H%a.KV != 0 || (kStart != nil && len(kStart) != a.B) {
		panic(fmt.Sprintf("vulkan: %s of q %v, k %v, v %v, out %v, lse %v (%+v)", op, q, k, v, out, lse, a))
	}
}

// Attention is causal grouped-query attention over full sequences: q and
// out [B, T, H, hd], k and v [B, T, KV, hd]; kStart[b] masks left padding.
// Instead of the probabilities it saves each row's log-sum-exp lse
// [B, H, T] (the shape issue 10 asks the Backend to move to), from which
// AttentionBackward recomputes them.
func (d *Device) Attention(out, lse, q, k, v *Tensor, a compute.AttnDims, kStart []int32) {
	d.own(out, lse, q, k, v)
	checkAttn("attention", q, k, v, out, lse, a, kStart)
	hd := a.HeadDim
	d.attention(out, q, k, v, lse, a, a.T, 0, a.T*a.KV*hd, hd, a.KV*hd, kStart)
}

type attnBackPush struct {
	pb, np, t, h, kv, hd, hasKStart uint32
	scale                           float32
}

type attnTiledBackPush struct {
	t, h, kv, hd, hasKStart uint32
	scale                   float32
}

type attnSumPush struct{ pb, np, t, h, kv, hd uint32 }

// attnBackScratchBytes bounds AttentionBackward's scratch: on the row
// kernels each of the two [pairs, T, T] buffers, on the tiled ones the
// per-head key and value gradients [2, pairs, T, hd]; either runs over
// whole kv groups per dispatch.
var attnBackScratchBytes = 64 << 20

// AttentionBackward accumulates dq, dk and dv from dout, recomputing the
// probabilities from q, k and the lse saved by Attention. Where the head
// dimension allows it runs FlashAttention-2's split on tiles: attn_fa_dq
// (per query tile, with D = dout·out), attn_fa_dkv (per key tile and
// head), attn_fa_sum (the heads of a kv group added in order); else the
// row kernels attn_ds, attn_dq and attn_dkv through [T, T] scratch.
func (d *Device) AttentionBackward(dq, dk, dv, dout, out, q, k, v, lse *Tensor, a compute.AttnDims, kStart []int32) {
	d.own(dq, dk, dv, dout, out, q, k, v, lse)
	checkAttn("attention backward", q, k, v, dout, lse, a, kStart)
	sameLen("attention backward", q, dq, out)
	sameLen("attention backward", k, dk, dv)
	pairs := a.B * a.H
	if pairs == 0 || a.T == 0 {
		return
	}
	ksb := binding{b: d.dummy, size: d.dummy.size}
	if kStart != nil {
		var ok bool
		if ksb, ok = d.uploadInts(kStart); !ok {
			return
		}
	}
	hasKStart := uint32(0)
	if kStart != nil {
		hasKStart = 1
	}
	scale := float32(1 / math.Sqrt(float64(a.HeadDim)))
	rep := a.H / a.KV
	if tiles, ok := d.attnTilesFor(a.HeadDim, pairs); ok {
		d.attentionBackwardTiled(tiles, dq, dk, dv, dout, out, q, k, v, lse, a, ksb, hasKStart, scale)
		return
	}
	rowBytes := a.T * a.T * 4
	np := max(1, attnBackScratchBytes/(rep*rowBytes)) * rep
	np = min(np, pairs)
	sp, err := d.scratch(scratchProbs, uint64(np*rowBytes))
	if err != nil {
		return
	}
	sd, err := d.scratch(scratchGrads, uint64(np*rowBytes))
	if err != nil {
		return
	}
	push := attnBackPush{t: uint32(a.T), h: uint32(a.H), kv: uint32(a.KV), hd: uint32(a.HeadDim), hasKStart: hasKStart, scale: scale}
	spb := binding{b: sp, size: uint64(np * rowBytes)}
	sdb := binding{b: sd, size: uint64(np * rowBytes)}
	for pb := 0; pb < pairs; pb += np {
		p := push
		p.pb, p.np = uint32(pb), uint32(min(np, pairs-pb))
		n := int(p.np)
		dispatch(d, kAttnDS, &p, linearGroups(n*a.T), spb, sdb, q.bind(), k.bind(), v.bind(), dout.bind(), lse.bind(), ksb)
		small := struct {
			pb, np, t, h, kv, hd uint32
			scale                float32
		}{p.pb, p.np, p.t, p.h, p.kv, p.hd, p.scale}
		dispatch(d, kAttnDQ, &small, linearGroups(ceilDiv(n*a.T*a.HeadDim, groupSize)), dq.bind(), sdb, k.bind())
		dispatch(d, kAttnDKV, &small, linearGroups(ceilDiv(n/rep*a.T*a.HeadDim, groupSize)),
			dk.bind(), dv.bind(), spb, sdb, q.bind(), dout.bind())
	}
}

// attentionBackwardTiled is AttentionBackward on the tiled kernels.
func (d *Device) attentionBackwardTiled(tiles attnTiles, dq, dk, dv, dout, out, q, k, v, lse *Tensor, a compute.AttnDims, ksb binding, hasKStart uint32, scale float32) {
	pairs, rep := a.B*a.H, a.H/a.KV
	dBytes := uint64(pairs*a.T) * 4
	sD, err := d.scratch(scratchProbs, dBytes)
	if err != nil {
		return
	}
	headBytes := 2 * a.T * a.HeadDim * 4 // one head's share of dk and dv
	np := min(max(1, attnBackScratchBytes/(rep*headBytes))*rep, pairs)
	partBytes := uint64(np * headBytes)
	sPart, err := d.scratch(scratchGrads, partBytes)
	if err != nil {
		return
	}
	dB := binding{b: sD, size: dBytes}
	partB := binding{b: sPart, size: partBytes}
	blocks := uint32(ceilDiv(a.T, tiles.side))
	p := attnTiledBackPush{t: uint32(a.T), h: uint32(a.H), kv: uint32(a.KV), hd: uint32(a.HeadDim), hasKStart: hasKStart, scale: scale}
	dispatch(d, tiles.dq, &p, [3]uint32{blocks, uint32(pairs), 1},
		dq.bind(), dB, q.bind(), k.bind(), v.bind(), dout.bind(), out.bind(), lse.bind(), ksb)
	for pb := 0; pb < pairs; pb += np {
		n := min(np, pairs-pb)
		kp := attnBackPush{pb: uint32(pb), np: uint32(n), t: p.t, h: p.h, kv: p.kv, hd: p.hd, hasKStart: hasKStart, scale: scale}
		dispatch(d, tiles.dkv, &kp, [3]uint32{blocks, uint32(n), 1},
			partB, dB, q.bind(), k.bind(), v.bind(), dout.bind(), lse.bind(), ksb)
		sp := attnSumPush{pb: uint32(pb), np: uint32(n), t: p.t, h: p.h, kv: p.kv, hd: p.hd}
		dispatch(d, kAttnFASum, &sp, linearGroups(ceilDiv(n/rep*a.T*a.HeadDim, groupSize)), dk.bind(), dv.bind(), partB)
	}
}
