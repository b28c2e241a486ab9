package model

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/hf"
)

// TestCheckFolderFinite: rlt model info --check-weights reads every float
// tensor of a folder a part at a time and says the first NaN or Inf in a
// load's words, its index counted over the whole tensor (not the part),
// whether the file holds F32 or BF16; a folder of finite weights passes,
// every tensor read once.
func TestCheckFolderFinite(t *testing.T) {
	big := finiteChunk + 5 // past one part: the index is the tensor's
	for _, c := range []struct {
		name string
		dt   hf.DType
		at   int
		v    float32
		want string
	}{
		{"finite F32", hf.F32, -1, 0, ""},
		{"finite BF16", hf.BF16, -1, 0, ""},
		{"NaN in the second part, F32", hf.F32, finiteChunk + 3, float32(math.NaN()), `model.safetensors: tensor "b.weight" holds NaN at index 1048579 of 1048581: the checkpoint is corrupt`},
		{"Inf in the second part, BF16", hf.BF16, finiteChunk + 3, float32(math.Inf(-1)), `model.safetensors: tensor "b.weight" holds -Inf at index 1048579 of 1048581`},
		{"NaN in the first part, BF16", hf.BF16, 7, float32(math.NaN()), `tensor "b.weight" holds NaN at index 7 of 1048581`},
	} {
		dir := t.TempDir()
		data := make([]float32, big)
		for i := range data {
			data[i] = float32(i%7) / 7
		}
		if c.at >= 0 {
			data[c.at] = c.v
		}
		ts := []hf.NamedTensor{{Name: "a.weight", Shape: []int{3, 2}, Data: []float32{1, 2, 3, 4, 5, 6}}, {Name: "b.weight", Shape: []int{big}, Data: data}}
		if err := hf.WriteSafetensors(filepath.Join(dir, hf.WeightsFile), ts, c.dt, nil); err != nil {
			t.Fatal(err)
		}
		fo, err := hf.OpenFolder(dir)
		if err != nil {
			t.Fatal(err)
		}
		n, read, err := CheckFolderFinite(context.Background(), fo)
		fo.Close()
		switch {
		case c.want == "" && (err != nil || n != 2 || read != int64((6+big)*map[hf.DType]int{hf.F32: 4, hf.BF16: 2}[c.dt])):
			t.Errorf("%s: %d tensors, %d bytes, %v", c.name, n, read, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v\nwant %s", c.name, err, c.want)
		}
	}
	// Stopped between parts.
	dir := t.TempDir()
	hf.WriteSafetensors(filepath.Join(dir, hf.WeightsFile), []hf.NamedTensor{{Name: "b.weight", Shape: []int{big}, Data: make([]float32, big)}}, hf.F32, nil)
	fo, err := hf.OpenFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer fo.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if n, _, err := CheckFolderFinite(ctx, fo); err != context.Canceled || n != 0 {
		t.Errorf("stopped: %d tensors, %v", n, err)
	}
}
