package chart

import (
	"slices"
	"testing"
)

// grow is the one growth of a series' steps (int64) and values (float64).
func TestGrow(t *testing.T) {
	for _, c := range []struct {
		name    string
		len, n  int
		wantCap int
	}{
		{"empty, a batch", 0, 5, 5},
		{"a batch larger than the series", 3, 10, 13},
		{"a batch smaller: the series doubles", 8, 2, 16},
		{"nothing more", 4, 0, 8},
	} {
		t.Run(c.name, func(t *testing.T) {
			vals := make([]float64, c.len)
			steps := make([]int64, c.len)
			for i := range vals {
				vals[i], steps[i] = float64(i)/2, int64(i)
			}
			gv, gs := grow(vals, c.n), grow(steps, c.n)
			if cap(gv) != c.wantCap || cap(gs) != c.wantCap {
				t.Errorf("capacity %d and %d, want %d", cap(gv), cap(gs), c.wantCap)
			}
			if !slices.Equal(gv, vals) || !slices.Equal(gs, steps) {
				t.Errorf("contents changed: %v %v", gv, gs)
			}
			if c.len > 0 && &gv[0] == &vals[0] {
				t.Error("grow returned the same array, not a copy")
			}
		})
	}
}
