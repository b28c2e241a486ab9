package sample

import (
	"runtime"
	"testing"
	"weak"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/model"
)

// A call whose batch the kept cache does not fit (another longest prompt,
// as most GRPO steps have, or another batch size) makes a new cache, and
// the last call's caches go: the full one and the smaller ones made
// within its memory and the arena of half the batch. setup cut the slice
// to length 0 and appended the new cache, so the smaller caches stayed in
// the slice past its length, and with them the old full cache's memory
// and the arena, as long as the next call did not shrink as deep: half
// the batch again and more, beside the new cache, which memory's
// estimate does not count.
func TestANewCacheLetsTheLastCallsGo(t *testing.T) {
	m := tinyModel(t)
	tp := compute.NewTape(m.Backend())
	lens := make([]int, 64)
	for i := range lens {
		lens[i] = 1 + i%8
	}
	// 12 of 64 ids stop a sequence: the batch halves every few steps
	// (TestShrinkingHoldsHalfTheBatchAgain).
	shrinking := Options{Temperature: 1, MaxNewTokens: 28, Seed: 5, StopIDs: []int32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}}
	g := NewGenerator(m)
	if _, err := g.Generate(tp, randPrompts(7, lens...), shrinking); err != nil {
		t.Fatal(err)
	}
	if len(g.caches) < 3 {
		t.Fatalf("the first call shrank to %d levels; want 3 or more", len(g.caches))
	}
	var old []weak.Pointer[model.KVCache]
	for _, c := range g.caches {
		if c != nil { // a smaller cache, and the memory it is made within
			old = append(old, weak.Make(c), weak.Make(c.Memory()))
		}
	}
	// A longest prompt of 10 tokens, not 8: the kept cache is too short.
	for i := range lens {
		lens[i] = 1 + i%10
	}
	keep := Options{Temperature: 1, MaxNewTokens: 28, Seed: 5, KeepBatch: true}
	if _, err := g.Generate(tp, randPrompts(8, lens...), keep); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	for i, w := range old {
		if w.Value() != nil {
			t.Errorf("the last call's cache %d of %d (a cache, then the memory it is made within) is still held after a call that made a new one", i, len(old))
		}
	}
	runtime.KeepAlive(g)
}
