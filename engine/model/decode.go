package model

import (
	"fmt"

	"github.com/rlt-workbench/rlt/compute"
)

// KVCache keeps each layer's keys and values for B sequences of up to
// MaxLen tokens, [B, KV, MaxLen, hd] per layer, so decoding a token costs one
// row of work instead of the whole prefix.
type KVCache struct {
	B, MaxLen int
	// Len is how many positions are filled (the same for every sequence:
	// shorter prompts are left-padded and masked by KStart).
	Len    int
	KStart []int32
	k, v   []*compute.Tensor
	// kRows and vRows view each layer's cache as [B, KV·MaxLen·hd], one row
	// per sequence, for MoveRows.
	kRows, vRows []*compute.Tensor
	// mem is the cache whose memory this one is the start of (Within); nil
	// when it holds its own.
	mem *KVCache
}

// Within returns a cache for the first B sequences' room of c (B ≤ c.B, the
// same MaxLen) that uses c's memory, allocating none: a sequence's keys and
// values lie together ([B, KV, MaxLen, hd]), so the first B rows of c are a
// whole cache of B. It and c overwrite each other: a sampler moving its
// running sequences to a smaller cache uses one within another cache than
// the one they leave (MoveRows refuses one memory for both).
func (c *KVCache) Within(B int) (*KVCache, error) {
	if B <= 0 || B > c.B {
		return nil, fmt.Errorf("kv cache: %d sequences do not fit within a cache of %d", B, c.B)
	}
	mem := c.Memory()
	if B == c.B && c == mem {
		return c, nil
	}
	w := &KVCache{B: B, MaxLen: c.MaxLen, KStart: make([]int32, B), mem: mem}
	// first is the first B sequences of a layer's keys or values, and
	// their rows for MoveRows.
	first := func(t *compute.Tensor) (*compute.Tensor, *compute.Tensor, error) {
		kv, hd := t.Dim(1), t.Dim(3)
		f, err := compute.NewTensor(t.Name, t.Storage(), B, kv, c.MaxLen, hd)
		if err != nil {
			return nil, nil, err
		}
		r, err := f.Reshaped(B, kv*c.MaxLen*hd)
		return f, r, err
	}
	for i := range c.k {
		k, kr, err := first(c.k[i])
		if err != nil {
			return nil, err
		}
		v, vr, err := first(c.v[i])
		if err != nil {
			return nil, err
		}
		w.k, w.kRows = append(w.k, k), append(w.kRows, kr)
		w.v, w.vRows = append(w.v, v), append(w.vRows, vr)
	}
	return w, nil
}

// Memory returns the cache whose memory c uses: c itself, or the cache it
// was made Within.
func (c *KVCache) Memory() *KVCache {
	if c.mem != nil {
		return c.mem
	}
	return c
}

// Bytes is the memory c's keys and values take: its own, or its part of the
// memory it was made within.
func (c *KVCache) Bytes() int64 {
	var n int64
	for i := range c.k {
		n += c.k[i].Bytes() + c.v[i].Bytes()
	}
	return n
}

// NewCache allocates a cache for B sequences of up to maxLen tokens.
func (m *Model) NewCache(B, maxLen int) (*KVCache, error) {
	if B <= 0 || maxLen <= 0 {
		return nil, fmt.Errorf("kv cache: batch %d and length %d must be positive", B, maxLen)
	}
	if maxLen > m.Cfg.MaxPos {
		return nil, &PositionsError{Model: Name("model", m.dir), What: "a KV cache", Tokens: maxLen, Positions: m.Cfg.MaxPos,
			Do: fmt.Sprintf("make a cache of at most %d tokens", m.Cfg.MaxPos)}
	}
	c := &KVCache{B: B, MaxLen: maxLen, KStart: make([]int32, B)}
	hd := m.Cfg.HeadDim()
	for i := 0; i < m.Cfg.Layers; i++ {
		c.k = append(c.k, m.be.New(fmt.Sprintf("cache.%d.k", i), B, m.Cfg.KVHeads, maxLen, hd))
		c.v = append(c.v, m.be.New(fmt.Sprintf("cache.%d.v", i), B, m.Cfg.KVHeads, maxLen, hd))
		kr, err := c.k[i].Reshaped(B, m.Cfg.KVHeads*maxLen*hd)
		if err != nil {
			return nil, err
		}
		vr, err := c.v[i].Reshaped(B, m.Cfg.KVHeads*maxLen*hd)
		if err != nil {
			return nil, err
		}
		c.kRows, c.vRows = append(c.kRows, kr), append(c.vRows, vr)
	}
	return c, nil
}

// MoveRows fills dst with sequences of src: sequence i of dst becomes a copy
// of sequence rows[i] of src (keys, values and KStart), for every i < dst.B,
// and dst.Len becomes src.Len. Both caches must belong to m and have the same
// MaxLen. A batch whose other sequences have finished can so go on decoding
// in a smaller cache; rows may repeat to fill slots nobody reads.
func (m *Model) MoveRows(dst, src *KVCache, rows []int32) error {
	if dst.Memory() == src.Memory() {
		return fmt.Errorf("kv cache: move rows within one cache's memory (a cache made Within the other)")
	}
	if len(rows) != dst.B || dst.MaxLen != src.MaxLen || len(dst.k) != len(m.Layers) || len(src.k) != len(m.Layers) {
		return fmt.Errorf("kv cache: cannot move %d rows of a %d×%d cache into a %d×%d one", len(rows), src.B, src.MaxLen, dst.B, dst.MaxLen)
	}
	for i, r := range rows {
		if r < 0 || int(r) >= src.B {
			return fmt.Errorf("kv cache: row %d (at %d) is outside a batch of %d", r, i, src.B)
		}
		dst.KStart[i] = src.KStart[r]
	}
	for i := range m.Layers {
		m.be.GatherRows(dst.kRows[i], src.kRows[i], rows)
		m.be.GatherRows(dst.vRows[i], src.vRows[i], rows)
	}
	dst.Len = src.Len
	return nil
}

// GrowCache returns a cache for the same sequences with room for maxLen
// tokens, holding everything c holds (c itself is left as it was), so a
// generation can start with a small cache and grow it as its sequences do.
func (m *Model) GrowCache(c *KVCache, maxLen int) (*KVCache, error) {
	if maxLen < c.MaxLen {
		return nil, fmt.Errorf("kv cache: cannot grow a cache of %d tokens to %d", c.MaxLen, maxLen)
	}
	n, err := m.NewCache(c.B, maxLen)
	if err != nil {
		return nil, err
	}
	copy(n.KStart, c.KStart)
	n.Len = c.Len
	hd, rows := m.Cfg.HeadDim(), c.B*m.Cfg.KVHeads
	old := make([]float32, rows*c.MaxLen*hd)
	wide := make([]float32, rows*maxLen*hd)
	for i := range c.k {
		for _, kv := range [][2]*compute.Tensor{{n.k[i], c.k[i]}, {n.v[i], c.v[i]}} {
			m.be.Read(old, kv[1])
			for r := 0; r < rows; r++ { // [B·KV, MaxLen, hd]: the filled positions move to the longer rows
				copy(wide[r*maxLen*hd:r*maxLen*hd+c.Len*hd], old[r*c.MaxLen*hd:r*c.MaxLen*hd+c.Len*hd])
			}
			m.be.Write(kv[0], wide)
		}
	}
	return n, nil
}

// Reset empties the cache for reuse with new left-padding offsets.
func (c *KVCache) Reset(kStart []int32) {
	c.Len = 0
	if kStart == nil {
		clear(c.KStart)
	} else {
		copy(c.KStart, kStart)
	}
}

// Decode feeds Tn new tokens per sequence (tokens [B·Tn], row-major) through
// the model at positions c.Len.. and returns the logits of each sequence's
// last new token, [B, V]. The tape must not be recording. Rotary positions
// count from each sequence's first real token.
func (m *Model) Decode(tp *compute.Tape, c *KVCache, tokens []int32, tn int) *compute.Tensor {
	cfg := m.Cfg
	if tp.Recording() {
		return failf(tp, "decode: the tape is recording; decoding needs no-grad mode")
	}
	if tn <= 0 || len(tokens) != c.B*tn {
		return failf(tp, "decode: %d tokens for %d sequences of %d new tokens", len(tokens), c.B, tn)
	}
	if c.Len+tn > c.MaxLen {
		return failf(tp, "decode: %d more tokens do not fit after %d in a cache of %d", tn, c.Len, c.MaxLen)
	}
	pos := m.decodePos(c, tn)
	ad := compute.AttnDims{B: c.B, T: tn, H: cfg.Heads, KV: cfg.KVHeads, HeadDim: cfg.HeadDim()}
	eps := float32(cfg.RMSEps)
	mark := tp.Mark()
	x := tp.Embedding(m.Embed, tokens)
	for i := range m.Layers {
		// One half of one layer's activations at a time, as in a no-grad
		// Hidden (Model.layer): a prefill of a whole batch of prompts is
		// the largest forward sampling makes.
		l := &m.Layers[i]
		half := tp.Mark()
		// The norms fold into the products after them, and the rotations
		// into the cache write, where the backend fuses them
		// (compute.Linear3er, GatedLinearer, RotaryCacheWriter).
		qkv := tp.Linear3(x, compute.PreNorm{W: l.InputNorm, Eps: eps}, [3]*compute.Tensor{l.Q, l.K, l.V}, [3]*compute.Tensor{l.QBias, l.KBias, l.VBias})
		a := tp.CachedAttention(qkv[0], qkv[1], qkv[2], pos, m.rope, c.k[i], c.v[i], ad, c.MaxLen, c.Len, c.KStart)
		// The residual stream takes each projection in place (no-grad).
		x = tp.Keep(half, tp.AddLinear(x, a, l.O))
		x = tp.AddLinear(x, tp.GatedLinear(x, compute.PreNorm{W: l.PostAttnNorm, Eps: eps}, l.Gate, l.Up), l.Down)
		x = tp.Keep(mark, x)
	}
	if tn > 1 {
		x = tp.GatherRows(x, m.lastRows(c.B, tn))
	}
	x = tp.RMSNorm(x, m.Norm, eps)
	logits := tp.Linear(x, m.LMHead, nil)
	if tp.Err() == nil {
		c.Len += tn
	}
	return logits
}

// decodePos gives rotary positions for the next tn tokens of each sequence,
// counted from its first real token; padding gets position 0.
func (m *Model) decodePos(c *KVCache, tn int) []int32 {
	if cap(m.dpos) < c.B*tn {
		m.dpos = make([]int32, c.B*tn)
	}
	p := m.dpos[:c.B*tn]
	for b := 0; b < c.B; b++ {
		for t := 0; t < tn; t++ {
			v := int32(c.Len+t) - c.KStart[b]
			if v < 0 {
				v = 0
			}
			p[b*tn+t] = v
		}
	}
	return p
}

func (m *Model) lastRows(B, tn int) []int32 {
	if cap(m.last) < B {
		m.last = make([]int32, B)
	}
	r := m.last[:B]
	for b := range r {
		r[b] = int32(b*tn + tn - 1)
	}
	return r
}
