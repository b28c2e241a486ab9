package vulkan

import (
	"testing"

	"github.com/rlt-workbench/rlt/compute/allocstest"
)

// Recording a dispatch makes a few heap allocations (SyscallN's variadic
// arguments), not the thirty it made when every call went through
// RegisterFunc's reflection: on the push-descriptor path and, on a second
// device opened without it, on the descriptor-set path.
func TestRecordAllocations(t *testing.T) {
	shared := openOrSkip(t)
	t.Run("push descriptors", func(t *testing.T) {
		if !shared.info.PushDescriptors {
			t.Skip("the device has no VK_KHR_push_descriptor")
		}
		recordAllocations(t, shared, 4)
	})
	t.Run("descriptor sets", func(t *testing.T) {
		t.Setenv("RLT_VULKAN_PUSH_DESCRIPTORS", "0")
		d, err := Open()
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		recordAllocations(t, d, 6)
	})
}

// recordAllocations checks the allocations of recording a scale and a
// product on d: one per call through SyscallN (push descriptors or a
// set's three calls, constants, dispatch, barrier; the pipeline bind
// repeats nothing).
func recordAllocations(t *testing.T, d *Device, limit float64) {
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
		// The fewest: the finalizers of other tests' tensors add to a count
		// now and then (see allocstest).
		if n := allocstest.Fewest(50, c.op); n > limit {
			t.Errorf("recording a %s made %v allocations, want at most %v", c.name, n, limit)
		}
	}
	if err := d.Flush(); err != nil {
		t.Fatal(err)
	}
}
