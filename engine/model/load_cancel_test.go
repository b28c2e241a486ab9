package model

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/vulkan/vulkantest"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/stoptest"
)

// TestLoadStopsWhenCancelled: a context cancelled part-way through a load
// stops it before the next tensor, on the CPU and on a device, in float32
// and Frozen16, from F32 and BF16 files: LoadAs returns no model and an
// error wrapping context.Canceled that names the tensor it stopped at, its
// file and how many were read. On the device, the memory the tensors made
// for the model held goes back once they are collected (the Backend's
// count is what it was before the load). A context never cancelled loads
// the whole model.
func TestLoadStopsWhenCancelled(t *testing.T) {
	cfg := smallConfig(false)
	ref, err := NewRandom(compute.NewCPU(), cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(ref.Params()))
	for i, p := range ref.Params() {
		names[i] = p.Name
	}
	dirs := map[hf.DType]string{}
	for _, dt := range []hf.DType{hf.F32, hf.BF16} {
		dirs[dt] = t.TempDir()
		if err := ref.Save(dirs[dt], dt); err != nil {
			t.Fatal(err)
		}
	}
	backends := []struct {
		name string
		be   func(t *testing.T) compute.Backend
		held func(be compute.Backend) uint64 // device memory held now (nil: not counted)
	}{
		{"cpu", func(*testing.T) compute.Backend { return compute.NewCPU() }, nil},
		{"vulkan", func(t *testing.T) compute.Backend { return vulkantest.Backend(t) }, func(be compute.Backend) uint64 {
			return be.(interface{ HeldBytes() uint64 }).HeldBytes()
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			be := b.be(t)
			for _, c := range []struct {
				dtype hf.DType
				prec  Precision
				at    int // the look at Err that cancels: before tensor at-1
			}{
				{hf.F32, Float32, 1}, // cancelled before the first tensor
				{hf.F32, Float32, 4},
				{hf.BF16, Float32, len(names)}, // before the last
				{hf.BF16, Frozen16, 7},
				{hf.F32, Frozen16, 2},
			} {
				name := fmt.Sprintf("%s %s at %d", c.dtype, c.prec, c.at)
				dir := dirs[c.dtype]
				var before uint64
				if b.held != nil {
					before = settled(t, be, b.held)
				}
				ctx, cancel := context.WithCancel(context.Background())
				m, err := LoadAs(&stoptest.OnLook{Context: ctx, N: c.at, Cancel: cancel}, be, dir, c.prec)
				cancel()
				want := fmt.Sprintf("load model %s: %s: tensor %q: stopped before it, %d of %d tensors read: context canceled",
					dir, filepath.Join(dir, hf.WeightsFile), names[c.at-1], c.at-1, len(names))
				if m != nil || !errors.Is(err, context.Canceled) || err.Error() != want {
					t.Fatalf("%s: model %v, error %v;\nwant no model and %q", name, m != nil, err, want)
				}
				if b.held != nil {
					if after := settled(t, be, b.held); after != before {
						t.Fatalf("%s: the device holds %d bytes after the cancelled load was collected, %d before it", name, after, before)
					}
				}
			}
			// Not cancelled: the whole model, every tensor read, and on
			// the device it holds memory (the count above counts it).
			var before uint64
			if b.held != nil {
				before = settled(t, be, b.held)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			m, err := LoadAs(&stoptest.OnLook{Context: ctx, N: len(names) + 1, Cancel: cancel}, be, dirs[hf.F32], Float32)
			if err != nil {
				t.Fatal(err)
			}
			if b.held != nil {
				if after := b.held(be); after <= before {
					t.Fatalf("a whole load holds %d bytes, %d before it: the count does not see a model's tensors", after, before)
				}
			}
			got := make([]float32, m.Params()[len(names)-1].Tensor.Len())
			want := make([]float32, len(got))
			be.Read(got, m.Params()[len(names)-1].Tensor)
			ref.Backend().Read(want, ref.Params()[len(names)-1].Tensor)
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s[%d] = %v, want %v", names[len(names)-1], i, got[i], want[i])
				}
			}
			runtime.KeepAlive(m)
		})
	}
}

// settled collects what is unreachable and waits for the device's count of
// held memory to stop changing (finalizers run on their own goroutine),
// and returns it.
func settled(t *testing.T, be compute.Backend, held func(compute.Backend) uint64) uint64 {
	t.Helper()
	last := ^uint64(0)
	for same, deadline := 0, time.Now().Add(30*time.Second); same < 3; {
		runtime.GC()
		runtime.Gosched()
		n := held(be)
		if n == last {
			same++
		} else {
			same = 0
		}
		last = n
		if time.Now().After(deadline) {
			t.Fatalf("the device's held memory still changes after 30 s: %d bytes", n)
		}
		time.Sleep(time.Millisecond)
	}
	return last
}

// TestLoadWeightsStopsWhenCancelled: LoadWeights (a resume's restore)
// stops the same way, its error naming the tensor and file.
func TestLoadWeightsStopsWhenCancelled(t *testing.T) {
	be := compute.NewCPU()
	m, err := NewRandom(be, smallConfig(true), 2)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := m.Save(dir, hf.F32); err != nil {
		t.Fatal(err)
	}
	src, err := hf.OpenFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = m.LoadWeights(ctx, src)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), fmt.Sprintf("tensor %q: stopped before it, 0 of", m.Params()[0].Name)) {
		t.Fatalf("LoadWeights with a cancelled context: %v", err)
	}
}
