package tokenizer

import "strings"

// BPE on one word, working on raw bytes: the word's byte-level characters
// are its bytes one for one, so the model vocabulary is kept keyed by the
// bytes each token stands for.
//
// Hugging Face merges with a priority queue: repeatedly take the adjacent
// pair of lowest merge rank, the leftmost among equals, and merge it. For
// short words a linear scan does the same with less bookkeeping; long words
// (a run of letters in a script written without spaces can be thousands of
// bytes) use a heap with a linked list of symbols.

const linearMax = 48 // symbols; above this the heap version is used

type symbol struct {
	id         int32
	prev, next int32
	alive      bool
}

type heapItem struct {
	rank uint32
	pos  int32
	id   int32
}

const noRank = ^uint32(0)

func (t *Tokenizer) bpe(dst []int32, w string, st *state) []int32 {
	if len(w) == 1 {
		if id := t.byteID[w[0]]; id >= 0 {
			return append(dst, id)
		}
		if t.unk >= 0 {
			return append(dst, t.unk)
		}
		return dst
	}
	if t.ignoreMerges {
		if id, ok := t.rawVocab[w]; ok {
			return append(dst, id)
		}
	}
	cacheable := len(w) <= cacheMaxWord
	if cacheable {
		t.cacheMu.RLock()
		if e, ok := t.cache[w]; ok {
			dst = append(dst, t.cacheArena[e.off:e.off+e.n]...)
			t.cacheMu.RUnlock()
			return dst
		}
		t.cacheMu.RUnlock()
	}
	// Initial symbols: one per byte; a byte without a token becomes the
	// unknown token (fused with a preceding one when fuse_unk) or is dropped.
	ids := st.ids[:0]
	for i := 0; i < len(w); i++ {
		id := t.byteID[w[i]]
		if id < 0 {
			if t.unk < 0 || (t.fuseUnk && len(ids) > 0 && ids[len(ids)-1] == t.unk) {
				continue
			}
			id = t.unk
		}
		ids = append(ids, id)
	}
	if len(ids) <= linearMax {
		ids = t.mergeLinear(ids, st)
	} else {
		ids = t.mergeHeap(ids, st)
	}
	st.ids = ids
	start := len(dst)
	dst = append(dst, ids...)
	if cacheable {
		t.cacheMu.Lock()
		if _, ok := t.cache[w]; !ok && len(t.cache) < cacheMaxEntries {
			t.cache[strings.Clone(w)] = cacheEntry{uint32(len(t.cacheArena)), uint32(len(ids))}
			t.cacheArena = append(t.cacheArena, dst[start:]...)
		}
		t.cacheMu.Unlock()
	}
	return dst
}

func (t *Tokenizer) rankOf(a, b int32) (uint32, int32) {
	if m, ok := t.merges[pairKey(a, b)]; ok {
		return m.rank, m.id
	}
	return noRank, -1
}

// mergeLinear merges in place: ranks[i] / news[i] describe the pair
// (ids[i], ids[i+1]).
func (t *Tokenizer) mergeLinear(ids []int32, st *state) []int32 {
	n := len(ids)
	if n < 2 {
		return ids
	}
	ranks := st.ranks[:0]
	news := st.news[:0]
	for i := 0; i+1 < n; i++ {
		r, id := t.rankOf(ids[i], ids[i+1])
		ranks = append(ranks, r)
		news = append(news, id)
	}
	for {
		best := -1
		br := noRank
		for i, r := range ranks {
			if r < br {
				br, best = r, i
			}
		}
		if best < 0 {
			break
		}
		ids[best] = news[best]
		copy(ids[best+1:], ids[best+2:])
		ids = ids[:len(ids)-1]
		copy(ranks[best:], ranks[best+1:])
		ranks = ranks[:len(ranks)-1]
		copy(news[best:], news[best+1:])
		news = news[:len(news)-1]
		if best > 0 {
			ranks[best-1], news[best-1] = t.rankOf(ids[best-1], ids[best])
		}
		if best < len(ranks) {
			ranks[best], news[best] = t.rankOf(ids[best], ids[best+1])
		}
	}
	st.ranks, st.news = ranks, news
	return ids
}

// mergeHeap is Hugging Face's algorithm: a min-heap of candidate merges by
// (rank, position), entries checked against the current symbols when popped.
func (t *Tokenizer) mergeHeap(ids []int32, st *state) []int32 {
	syms := st.syms[:0]
	for i, id := range ids {
		syms = append(syms, symbol{id: id, prev: int32(i - 1), next: int32(i + 1), alive: true})
	}
	syms[len(syms)-1].next = -1
	h := st.heap[:0]
	for i := 0; i+1 < len(syms); i++ {
		if r, id := t.rankOf(syms[i].id, syms[i+1].id); r != noRank {
			h = heapPush(h, heapItem{r, int32(i), id})
		}
	}
	for len(h) > 0 {
		var top heapItem
		top, h = heapPop(h)
		s := &syms[top.pos]
		if !s.alive || s.next < 0 {
			continue
		}
		nx := s.next
		if _, id := t.rankOf(s.id, syms[nx].id); id != top.id || id < 0 {
			continue
		}
		s.id = top.id
		s.next = syms[nx].next
		syms[nx].alive = false
		if s.next >= 0 {
			syms[s.next].prev = top.pos
		}
		if s.prev >= 0 {
			if r, id := t.rankOf(syms[s.prev].id, s.id); r != noRank {
				h = heapPush(h, heapItem{r, s.prev, id})
			}
		}
		if s.next >= 0 {
			if r, id := t.rankOf(s.id, syms[s.next].id); r != noRank {
				h = heapPush(h, heapItem{r, top.pos, id})
			}
		}
	}
	ids = ids[:0]
	for i := 0; i >= 0 && i < len(syms); i = int(syms[i].next) {
		ids = append(ids, syms[i].id)
	}
	st.syms, st.heap = syms, h
	return ids
}

func (a heapItem) less(b heapItem) bool {
	return a.rank < b.rank || a.rank == b.rank && a.pos < b.pos
}

func heapPush(h []heapItem, x heapItem) []heapItem {
	h = append(h, x)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].less(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	return h
}

func heapPop(h []heapItem) (heapItem, []heapItem) {
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h[r].less(h[l]) {
			m = r
		}
		if !h[m].less(h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	return top, h
}
