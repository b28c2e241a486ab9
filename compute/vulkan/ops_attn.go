package vulkan

import (
	"fmt"
	"math"

	"github.com/rlt-workbench/rlt/compute"
)

type cacheWritePush struct{ n, tn, kv, hd, maxLen, past uint32 }

// CacheWrite stores new keys or values x [B, Tn, KV, hd] into cache
// [B, KV, maxLen, hd] at positions past..past+Tn−1.
func (d *Device) CacheWrite(cache, x *Tensor, a compute.AttnDims, maxLen, past int) {
	d.own(cache, x)
	if x.n != a.B*a.T*a.KV*a.HeadDim || cache.n != a.B*a.KV*maxLen*a.HeadDim || past < 0 || past+a.T > maxLen {
		panic(fmt.Sprintf("vulkan: cache write of %v into %v (%+v, maxLen %d, past %d)", x, cache, a, maxLen, past))
	}
	dispatch(d, kCacheWrite, &cacheWritePush{n: uint32(x.n), tn: uint32(a.T), kv: uint32(a.KV), hd: uint32(a.HeadDim),
		maxLen: uint32(maxLen), past: uint32(past)}, linearGroups(ceilDiv(x.n, groupSize)), cache.bind(), x.bind())
}

type decodePush struct {
	base, count, tn, h, kv, hd, maxLen, past, hasKStart uint32
	scale                                               float32
}

// decodeScratchBytes bounds the scores buffer of one AttentionDecode
// dispatch; longer calls are split into several dispatches.
var decodeScratchBytes = 32 << 20

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
	per := max(1, decodeScratchBytes/(maxLen*4))
	per = min(per, items)
	sb, err := d.scratch(1, uint64(per*maxLen)*4)
	if err != nil {
		return
	}
	push := decodePush{tn: uint32(a.T), h: uint32(a.H), kv: uint32(a.KV), hd: uint32(a.HeadDim), maxLen: uint32(maxLen),
		past: uint32(past), scale: float32(1 / math.Sqrt(float64(a.HeadDim)))}
	if kStart != nil {
		push.hasKStart = 1
	}
	for base := 0; base < items; base += per {
		p := push
		p.base, p.count = uint32(base), uint32(min(per, items-base))
		dispatch(d, kDecode, &p, linearGroups(int(p.count)), out.bind(), q.bind(), kCache.bind(), vCache.bind(),
			binding{b: sb, size: uint64(per*maxLen) * 4}, ksb)
	}
}
