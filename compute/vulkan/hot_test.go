package vulkan

import "testing"

// Recording a dispatch makes a few heap allocations (SyscallN's variadic
// arguments), not the thirty it made when every call went through
// RegisterFunc's reflection.
func TestRecordAllocations(t *testing.T) {
	d := openOrSkip(t)
	x, _ := d.New("x", 256)
	w, _ := d.New("w", 16, 16)
	y, _ := d.New("y", 16, 16)
	defer func() { d.Free(x); d.Free(w); d.Free(y) }()
	d.Scale(x, 1) // opens a batch
	for _, c := range []struct {
		name string
		op   func()
	}{
		{"scale", func() { d.Scale(x, 0.5) }},
		{"linear", func() { d.Linear(y, w, w, nil) }},
	} {
		// one call per recorded command: push descriptors (or a set's three),
		// constants, dispatch, barrier; the pipeline bind repeats nothing
		limit := 4.0
		if !d.info.PushDescriptors {
			limit = 6
		}
		if n := testing.AllocsPerRun(50, c.op); n > limit {
			t.Errorf("recording a %s made %v allocations, want at most %v", c.name, n, limit)
		}
	}
	if err := d.Flush(); err != nil {
		t.Fatal(err)
	}
}
