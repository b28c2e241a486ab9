package vulkan

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/backendtest"
)

// TestHungDeviceFreesNothing: once a batch's fence gave no answer
// (hangAfter acts out the wait of waitLimit running out) the GPU may
// still run that batch, so freeing a tensor it uses (Free, a tape's
// reset, a finalizer's reap) and Close leave every buffer as it is: on
// lavapipe a buffer destroyed under a dispatch still running is memory
// unmapped under its thread, and the process died of SIGSEGV (go test
// ./engine/model at load 30: TestDeviceParityRealLayer's wait ran out
// after 600 s, then the limit, the test went on, its tapes freed their
// tensors). The
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
// running when its wait runs out (a wait of 1 ns, RLT_VULKAN_FENCE_TIMEOUT,
// on a product of a few GFLOP): the test frees the batch's tensors, makes
// new ones and closes, as a test or run that goes on after the error does.
// Destroying the buffers under the running dispatch killed the process
// (SIGSEGV on lavapipe); now the buffers stay, and the error is the
// wait's, naming its limit and the setting that sets it.
func TestHungDispatchIsLeftAlone(t *testing.T) {
	if !inHangChild(t) {
		return
	}
	t.Setenv("RLT_VULKAN_FENCE_TIMEOUT", "1ns")
	d, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	b := NewBackend(d)
	const n = 1536
	x, w, y := squares(b, n)
	for range 4 {
		b.Linear(y, x, w, nil)
		b.Linear(x, y, w, nil)
	}
	err = d.Flush()
	if err == nil {
		t.Skip("the device ran 8 products of 1536² in under 1 ns")
	}
	if !errors.Is(err, ErrDeviceLost) || !strings.Contains(err.Error(), "no answer within 1ns (RLT_VULKAN_FENCE_TIMEOUT sets the limit") {
		t.Fatalf("Flush = %v, want a wait with no answer within 1ns, naming RLT_VULKAN_FENCE_TIMEOUT", err)
	}
	t.Log(err)
	for _, c := range []*Tensor{x.Storage().(*Tensor), w.Storage().(*Tensor), y.Storage().(*Tensor)} {
		d.Free(c)
	}
	zeros := make([]float32, n*n)
	for range 8 { // memory the freed buffers' would be reused for
		z := b.New("z", n, n)
		b.Write(z, zeros)
	}
	b.Close()
	if err := b.Err(); !errors.Is(err, ErrDeviceLost) {
		t.Errorf("after Close Err = %v, want the wait with no answer", err)
	}
}

// TestWaitLimitIsTheDevices: a fence wait's limit is the device's own,
// gpuWaitLimit on a GPU, cpuWaitLimit on a CPU device, or
// RLT_VULKAN_FENCE_TIMEOUT's; a value that is no duration is refused,
// naming the setting.
func TestWaitLimitIsTheDevices(t *testing.T) {
	for _, c := range []struct {
		env  string
		want func(typ string) time.Duration
	}{
		{"", func(typ string) time.Duration {
			if typ == "cpu" {
				return cpuWaitLimit
			}
			return gpuWaitLimit
		}},
		{"45m", func(string) time.Duration { return 45 * time.Minute }},
	} {
		t.Setenv("RLT_VULKAN_FENCE_TIMEOUT", c.env)
		d, err := Open()
		backendtest.NeedDevice(t, err)
		got, want := d.waitLimit, c.want(d.info.Type)
		d.Close()
		if got != want {
			t.Errorf("RLT_VULKAN_FENCE_TIMEOUT=%q on a %s device: waits %v, want %v", c.env, d.info.Type, got, want)
		}
	}
	t.Setenv("RLT_VULKAN_FENCE_TIMEOUT", "600")
	if _, err := Open(); !errors.Is(err, ErrSetting) || !strings.Contains(err.Error(), "RLT_VULKAN_FENCE_TIMEOUT") {
		t.Errorf("RLT_VULKAN_FENCE_TIMEOUT=600 (no unit): %v, want the setting refused, named", err)
	}
}

// TestAHangEndsBeforeTheTestTimeout: a test whose device gives no answer
// fails on the device's error before go test's -timeout ends the binary:
// the tests' helpers set the wait deadline (backendtest.WaitDeadline). Its
// child runs under -test.timeout=60s a real batch longer than that on
// lavapipe (7 TFLOP; a GPU runs it in about a second: skipped); the wait's
// limit was 600 s whatever the test's -timeout, so the child ended in the
// panic 'test timed out', the device's error never said. The child opens
// one device only: at load 30 the shared one's kernels and its own took
// past a timeout of 20 s before the batch began. It goes on only where at
// least 30 s are left once the device is open: the wait deadline's margin
// before the -timeout is a tenth of what is left, so at least 3 s for the
// failed test to end and the process to exit beside the hung batch's
// threads (on 2 cores at load 30), where 10 s left gave 1 s; a machine
// that slow skips, which is no failure.
func TestAHangEndsBeforeTheTestTimeout(t *testing.T) {
	if os.Getenv(hangChild) == "1" {
		d, err := Open()
		if err != nil {
			t.Fatal(err)
		}
		deadline := backendtest.WaitDeadline(t)
		if time.Until(deadline) < 30*time.Second {
			t.Skipf("the machine is too busy: the device's opening left %v of the child's -timeout", time.Until(deadline))
		}
		d.SetWaitDeadline(deadline)
		b := NewBackend(d)
		const n = 2048
		x, w, y := squares(b, n)
		t0 := time.Now()
		for range 200 { // 6.9 TFLOP
			b.Linear(y, x, w, nil)
			b.Linear(x, y, w, nil)
		}
		if err := d.Flush(); err != nil {
			t.Fatalf("after %v: %v", time.Since(t0).Round(time.Second), err)
		}
		t.Skipf("the device ran 400 products of 2048² in %v", time.Since(t0))
	}
	openOrSkip(t)
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1", "-test.timeout=60s")
	cmd.Env = append(os.Environ(), hangChild+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil && strings.Contains(string(out), "--- SKIP: "+t.Name()) {
		t.Skipf("the child process skipped:\n%s", out)
	}
	if strings.Contains(string(out), "test timed out") || !strings.Contains(string(out), "no answer within") ||
		!strings.Contains(string(out), "all the time its wait deadline left (a test's -timeout)") || !strings.Contains(string(out), "--- FAIL: "+t.Name()) {
		t.Fatalf("the child with a batch past its -timeout: %v, want it failed on the device's error:\n%s", err, out)
	}
}

// TestGPUWaitLimitHoldsA7BPass: a healthy batch is never taken for a hang
// on a GPU. A batch holds up to setsPerBatch dispatches, as much as a whole
// pass; at the float32 kernels' measured 3.3 TFLOP/s on an H200
// (docs/gpu.md: the 0.5B backward, ~8 TFLOP in 2,478 ms) a Qwen2.5-7B
// backward (4 FLOP a parameter a token) of 8,192 and of 16,384 tokens
// must leave the limit twice its time. A limit of 2 min took the second
// (~140 s) for a hang, ending a healthy run with a device that cannot be
// used again.
func TestGPUWaitLimitHoldsA7BPass(t *testing.T) {
	const (
		hidden, kv, inter, layers, vocab = 3584, 512, 18944, 28, 152064
		flops                            = 3.3e12 // float32 kernels on an H200, measured
	)
	params := float64(layers*(2*hidden*hidden+2*hidden*kv+3*hidden*inter) + vocab*hidden)
	for _, tokens := range []float64{8192, 16384} {
		pass := time.Duration(4 * params * tokens / flops * float64(time.Second))
		if gpuWaitLimit < 2*pass {
			t.Errorf("a 7B backward of %v tokens takes ~%v at 3.3 TFLOP/s: the GPU's wait limit %v leaves under twice that", tokens, pass.Round(time.Second), gpuWaitLimit)
		}
	}
}

// squares is three n×n matrices on b for a long batch of products y = x·wᵀ:
// x and w hold values in [0, 1), y is for the results.
func squares(b *Backend, n int) (x, w, y *compute.Tensor) {
	x, w, y = b.New("x", n, n), b.New("w", n, n), b.New("y", n, n)
	vals := make([]float32, n*n)
	for i := range vals {
		vals[i] = float32(i%7) / 7
	}
	b.Write(x, vals)
	b.Write(w, vals)
	return x, w, y
}
