package compute

import "testing"

// grow is the one resize of the CPU backend's reused scratch (float32,
// float64 and int32 alike): a length within the capacity keeps the array,
// a longer one makes a new one, and *b follows either way.
func TestGrow(t *testing.T) {
	for _, c := range []struct {
		name      string
		cap, n    int
		wantReuse bool
	}{
		{"shorter", 8, 3, true},
		{"the whole capacity", 8, 8, true},
		{"longer", 8, 9, false},
		{"from nothing", 0, 4, false},
		{"to nothing", 8, 0, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := make([]float64, min(2, c.cap), c.cap)
			old := b[:cap(b)]
			got := grow(&b, c.n)
			if len(got) != c.n || len(b) != c.n || cap(b) < c.n {
				t.Fatalf("len %d (*b %d, cap %d), want %d", len(got), len(b), cap(b), c.n)
			}
			if c.cap > 0 && c.n > 0 {
				if reused := &got[0] == &old[0]; reused != c.wantReuse {
					t.Fatalf("array reused %v, want %v", reused, c.wantReuse)
				}
			}
			i := grow(new([]int32), c.n)
			f := grow(new([]float32), c.n)
			if len(i) != c.n || len(f) != c.n {
				t.Fatalf("int32 %d, float32 %d, want %d", len(i), len(f), c.n)
			}
		})
	}
}
