package model

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/half"
	"github.com/rlt-workbench/rlt/engine/hf"
)

// TestCheckFinite: the first NaN or ±Inf of a weight is found wherever it
// lies (the scan is split across workers) and named with its tensor and
// file; finite weights, subnormals and the largest values included, pass.
func TestCheckFinite(t *testing.T) {
	info := hf.TensorInfo{Name: "model.norm.weight", File: "m/model.safetensors", Shape: []int{5 << 16}}
	n := 5 << 16
	for _, c := range []struct {
		at   []int
		val  float32
		want string
	}{
		{nil, 0, ""},
		{[]int{0}, float32(math.NaN()), "holds NaN at index 0 of 327680"},
		{[]int{n - 1}, float32(math.Inf(1)), "holds +Inf at index 327679 of"},
		{[]int{3 << 16, 70000, 200000}, float32(math.Inf(-1)), "holds -Inf at index 70000 of"},
	} {
		w := make([]float32, n)
		for i := range w {
			w[i] = float32(i%7) - 3
		}
		w[1], w[2] = math.MaxFloat32, math.SmallestNonzeroFloat32
		for _, i := range c.at {
			w[i] = c.val
		}
		bits := make([]uint16, n)
		for _, k := range []half.Kind{half.BF16, half.F16} {
			half.Narrow(k, bits, w)
			bits[1] = 0x7f7f // the largest bfloat16 and float16: MaxFloat32 rounds past both
			if k == half.F16 {
				bits[1] = 0x7bff
			}
			for name, err := range map[string]error{"float32": checkFinite32(info, w), k.String(): checkFinite16(info, k, bits)} {
				if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) ||
					!strings.HasPrefix(err.Error(), `m/model.safetensors: tensor "model.norm.weight"`)) {
					t.Errorf("%s %v: %v, want %q", name, c.at, err, c.want)
				}
			}
		}
	}
}

// TestLoadRefusesNonFiniteWeights: a checkpoint holding a NaN is refused as
// it loads, naming the file, the tensor and the element, whether widened
// to float32 or kept 16-bit.
func TestLoadRefusesNonFiniteWeights(t *testing.T) {
	be := compute.NewCPU()
	cfg := PeerConfig
	cfg.Vocab, cfg.Hidden, cfg.Intermediate, cfg.Layers = 64, 32, 48, 2
	m, err := NewRandom(be, cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	p := m.Params()[5]
	w, _ := compute.HostData(p.Tensor)
	w[17] = float32(math.NaN())
	for _, c := range []struct {
		dt   hf.DType
		prec Precision
	}{{hf.F32, Float32}, {hf.BF16, Float32}, {hf.BF16, Frozen16}} {
		dir := t.TempDir()
		if err := m.Save(dir, c.dt); err != nil {
			t.Fatal(err)
		}
		_, err := LoadAs(context.Background(), be, dir, c.prec)
		want := fmt.Sprintf("model.safetensors: tensor %q holds NaN at index 17 of %d", p.Name, p.Tensor.Len())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s as %v: %v, want %q", c.dt, c.prec, err, want)
		}
	}
}
