package model

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/hf"
)

// cancelAfterPart is a model folder (a real hf.Folder) whose reader
// cancels the load's context once the first part of the tensor at is
// read: a stop that comes while a large tensor is read. It counts the
// parts read from then on, of any tensor.
type cancelAfterPart struct {
	*hf.Folder
	at     string
	cancel context.CancelFunc
	done   bool // the context was cancelled
	after  int  // parts read after that
}

func (c *cancelAfterPart) read(name string) {
	if c.done {
		c.after++
	}
	if name == c.at && !c.done {
		c.cancel()
		c.done = true
	}
}

func (c *cancelAfterPart) ReadFloat32At(name string, first int, dst []float32) error {
	err := c.Folder.ReadFloat32At(name, first, dst)
	c.read(name)
	return err
}

func (c *cancelAfterPart) ReadBits16At(name string, first int, dst []uint16) error {
	err := c.Folder.ReadBits16At(name, first, dst)
	c.read(name)
	return err
}

// withStopEvery sets stopEvery to n for the test: the small models' tensors
// then span several parts.
func withStopEvery(t *testing.T, n int64) {
	old := stopEvery
	stopEvery = n
	t.Cleanup(func() { stopEvery = old })
}

// TestLoadStopsWithinATensor: a stop that comes while a tensor larger than
// stopEvery is read ends the read before its next part, not at the
// tensor's end (a 7B model's embedding is a gigabyte): LoadWeights returns
// a *StoppedError wrapping context.Canceled that names the tensor, its
// file, the bytes read of it and how many tensors were read before it, and
// nothing more is read, in float32 and 16-bit weights, from F32 and BF16
// files (a 16-bit weight from an F32 file is read as float32 and rounded).
// Uncancelled, the model read a part at a time holds the very bits the
// whole reads give. The read waited for the whole tensor.
func TestLoadStopsWithinATensor(t *testing.T) {
	withStopEvery(t, 1<<10)
	cfg := smallConfig(false)
	be := compute.NewCPU()
	ref, err := NewRandom(be, cfg, 11)
	if err != nil {
		t.Fatal(err)
	}
	dirs := map[hf.DType]string{}
	for _, dt := range []hf.DType{hf.F32, hf.BF16} {
		dirs[dt] = t.TempDir()
		if err := ref.Save(dirs[dt], dt); err != nil {
			t.Fatal(err)
		}
	}
	names := make([]string, len(ref.Params()))
	for i, p := range ref.Params() {
		names[i] = p.Name
	}
	for _, c := range []struct {
		file   hf.DType
		matrix compute.DType // the model's weight matrices
		at     string        // the tensor the stop comes in
	}{
		{hf.F32, compute.F32, "model.embed_tokens.weight"},
		{hf.BF16, compute.F32, "model.layers.1.mlp.up_proj.weight"},
		{hf.BF16, compute.BF16, "model.layers.0.self_attn.q_proj.weight"}, // the stored bits
		{hf.F32, compute.BF16, "lm_head.weight"},                          // float32, rounded
	} {
		name := fmt.Sprintf("%s file, %v matrices, in %s", c.file, c.matrix, c.at)
		load := func(ctx context.Context, src TensorSource) (*Model, error) {
			m, err := newModel(be, cfg, func(string) compute.DType { return c.matrix })
			if err != nil {
				t.Fatal(err)
			}
			return m, m.LoadWeights(ctx, src)
		}
		fo, err := hf.OpenFolder(dirs[c.file])
		if err != nil {
			t.Fatal(err)
		}
		defer fo.Close()
		info, _ := fo.Tensor(c.at)
		if info.Bytes() < 2*stopEvery {
			t.Fatalf("%s: %s is %d bytes, not several parts of %d", name, c.at, info.Bytes(), stopEvery)
		}
		ctx, cancel := context.WithCancel(context.Background())
		src := &cancelAfterPart{Folder: fo, at: c.at, cancel: cancel}
		_, err = load(ctx, src)
		cancel()
		var stopped *StoppedError
		read := slices.Index(names, c.at)
		want := fmt.Sprintf("%s: tensor %q: stopped 1.0 KiB into its %.1f KiB, %d of %d tensors read: context canceled",
			filepath.Join(dirs[c.file], hf.WeightsFile), c.at, float64(info.Bytes())/1024, read, len(names))
		if !errors.As(err, &stopped) || !errors.Is(err, context.Canceled) || err.Error() != want ||
			stopped.Tensor != c.at || stopped.Read != read || stopped.Done != stopEvery || stopped.Size != info.Bytes() {
			t.Errorf("%s: %v (%+v);\nwant %q", name, err, stopped, want)
		}
		if !src.done || src.after != 0 {
			t.Errorf("%s: %d parts read after the stop; want none", name, src.after)
		}
		// Not stopped: the parts hold what whole reads give, parts of
		// 1 KiB and of 1006 bytes, which divide no tensor: each ends
		// in a shorter part.
		stopEvery = math.MaxInt64
		whole, err := load(context.Background(), fo)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, every := range []int64{1 << 10, 1006} {
			stopEvery = every
			parts, err := load(context.Background(), fo)
			if err != nil {
				t.Fatalf("%s, parts of %d bytes: %v", name, every, err)
			}
			for i, p := range parts.Params() {
				a, b := make([]float32, p.Tensor.Len()), make([]float32, p.Tensor.Len())
				be.Read(a, p.Tensor)
				be.Read(b, whole.Params()[i].Tensor)
				for j := range a {
					if math.Float32bits(a[j]) != math.Float32bits(b[j]) {
						t.Fatalf("%s: %s[%d] read in parts of %d bytes is %v, whole %v", name, p.Name, j, every, a[j], b[j])
					}
				}
			}
		}
		stopEvery = 1 << 10
	}
}
