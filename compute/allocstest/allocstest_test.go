package allocstest

import (
	"testing"
)

var sink []byte

func TestFewest(t *testing.T) {
	calls := 0
	for _, c := range []struct {
		name string
		f    func()
		want float64
	}{
		{"nothing", func() {}, 0},
		{"one a call", func() { sink = make([]byte, 64) }, 1},
		{"two a call", func() { sink = make([]byte, 64); sink = make([]byte, 64) }, 2},
		// Noise: allocations in the first measurement only (its warm-up
		// call and its runs), as a queued finalizer's would be.
		{"some calls of one measurement", func() {
			if calls++; calls <= 4 {
				sink = make([]byte, 64)
			}
		}, 0},
	} {
		if got := Fewest(3, c.f); got != c.want {
			t.Errorf("%s: %v allocations per call, want %v", c.name, got, c.want)
		}
	}
}
