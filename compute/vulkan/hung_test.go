package vulkan

import (
	"errors"
	"strings"
	"testing"
)

// TestHungDeviceFreesNothing: once a batch's fence gave no answer
// (hangAfter acts out the wait of fenceTimeoutNs running out) the GPU may
// still run that batch, so freeing a tensor it uses (Free, a tape's
// reset, a finalizer's reap) and Close leave every buffer as it is: on
// lavapipe a buffer destroyed under a dispatch still running is memory
// unmapped under its thread, and the process died of SIGSEGV (go test
// ./engine/model at load 30: TestDeviceParityRealLayer's wait ran out
// after 600 s, the test went on, its tapes freed their tensors). The
// device's error says the wait ran out, and the test fails on it. Each
// runs in a child process (inHangChild), whose end frees the device.
func TestHungDeviceFreesNothing(t *testing.T) {
	if !inHangChild(t) {
		return
	}
	d, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	d.hangAfter = 1
	b := NewBackend(d)
	x, y := b.New("x", 64, 64), b.New("y", 64, 64)
	vals := make([]float32, 64*64)
	for i := range vals {
		vals[i] = float32(i%7) / 7
	}
	b.Write(x, vals)
	b.Linear(y, x, x, nil)
	scratch := b.New("scratch", 8, 8)
	err = d.Flush()
	if !errors.Is(err, ErrDeviceLost) || !strings.Contains(err.Error(), "no answer") || !d.hung {
		t.Fatalf("Flush = %v (hung %v), want a wait with no answer", err, d.hung)
	}
	bufs := []*buffer{x.Storage().(*Tensor).b, y.Storage().(*Tensor).b, scratch.Storage().(*Tensor).b}
	d.Free(x.Storage().(*Tensor))
	d.Free(y.Storage().(*Tensor))
	b.bury(scratch.Storage().(*Tensor).b) // as its finalizer does
	b.reap()
	_ = b.HeldBytes()
	b.Close()
	for _, buf := range bufs {
		if buf.buf == 0 || buf.mem == 0 {
			t.Errorf("a buffer of the hung batch was destroyed (buffer %#x, memory %#x): the GPU may still use it", buf.buf, buf.mem)
		}
	}
	if err := b.Err(); !errors.Is(err, ErrDeviceLost) || !strings.Contains(err.Error(), "no answer") {
		t.Errorf("after Close Err = %v, want the wait with no answer", err)
	}
}

// TestHungDispatchIsLeftAlone: the same with a batch that is really still
// running when its wait runs out (a wait of 1 ns, waitNs, on a product of
// a few GFLOP): the test frees the batch's tensors, makes new ones and
// closes, as a test or run that goes on after the error does. Destroying
// the buffers under the running dispatch killed the process (SIGSEGV on
// lavapipe); now the buffers stay, and the error is the wait's.
func TestHungDispatchIsLeftAlone(t *testing.T) {
	if !inHangChild(t) {
		return
	}
	d, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	d.waitNs = 1
	b := NewBackend(d)
	const n = 1536
	x, w, y := b.New("x", n, n), b.New("w", n, n), b.New("y", n, n)
	vals := make([]float32, n*n)
	for i := range vals {
		vals[i] = float32(i%7) / 7
	}
	b.Write(x, vals)
	b.Write(w, vals)
	for range 4 {
		b.Linear(y, x, w, nil)
		b.Linear(x, y, w, nil)
	}
	err = d.Flush()
	if err == nil {
		t.Skip("the device ran 8 products of 1536² in under 1 ns")
	}
	if !errors.Is(err, ErrDeviceLost) || !strings.Contains(err.Error(), "no answer") {
		t.Fatalf("Flush = %v, want a wait with no answer", err)
	}
	t.Log(err)
	for _, c := range []*Tensor{x.Storage().(*Tensor), w.Storage().(*Tensor), y.Storage().(*Tensor)} {
		d.Free(c)
	}
	for range 8 { // memory the freed buffers' would be reused for
		z := b.New("z", n, n)
		b.Write(z, vals)
	}
	b.Close()
	if err := b.Err(); !errors.Is(err, ErrDeviceLost) {
		t.Errorf("after Close Err = %v, want the wait with no answer", err)
	}
}
