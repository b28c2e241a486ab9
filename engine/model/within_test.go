package model

import (
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
)

// TestCacheWithin: a cache made Within another is the first sequences'
// rows of its memory (writing a sequence's keys there is reading them in
// the other), takes no memory of its own, and is refused as both ends of a
// move (the rows would overwrite the ones still to be read).
func TestCacheWithin(t *testing.T) {
	be := compute.NewCPU()
	m, err := New(be, Config{Vocab: 32, Hidden: 16, Intermediate: 24, Layers: 2, Heads: 2, KVHeads: 1,
		RMSEps: 1e-6, RopeTheta: 1e4, MaxPos: 16, Tied: true})
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.NewCache(4, 8)
	if err != nil {
		t.Fatal(err)
	}
	w, err := c.Within(2)
	if err != nil {
		t.Fatal(err)
	}
	if w.Memory() != c || c.Memory() != c || w.B != 2 || w.MaxLen != 8 || 2*w.Bytes() != c.Bytes() {
		t.Fatalf("Within(2) of a 4×8 cache: B %d, MaxLen %d, %d bytes of %d, memory its own: %v", w.B, w.MaxLen, w.Bytes(), c.Bytes(), w.Memory() == w)
	}
	row := make([]float32, w.kRows[1].Dim(1))
	for i := range row {
		row[i] = float32(i + 1)
	}
	all := make([]float32, c.k[1].Len())
	be.Write(w.k[1], append(make([]float32, len(row)), row...)) // sequence 1 of w
	be.Read(all, c.k[1])
	if all[len(row)] != 1 || all[2*len(row)-1] != float32(len(row)) {
		t.Fatalf("sequence 1 written within the cache does not read back as sequence 1 of it")
	}
	if err := m.MoveRows(w, c, []int32{3, 1}); err == nil || !strings.Contains(err.Error(), "one cache's memory") {
		t.Errorf("a move from a cache into one within it: %v, want refused", err)
	}
	other, err := m.NewCache(2, 8)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.MoveRows(other, w, []int32{1, 1}); err != nil {
		t.Errorf("a move out of a cache made within another: %v", err)
	}
	for _, b := range []int{0, 5} {
		if _, err := c.Within(b); err == nil {
			t.Errorf("Within(%d) of a cache of 4: no error", b)
		}
	}
}
