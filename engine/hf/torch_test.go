package hf

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// Fixtures written by PyTorch: see testdata/make_fixture.sh.

func rawBits16(t *testing.T, f *File, name string) []uint16 {
	t.Helper()
	ti, ok := f.Tensor(name)
	if !ok || ti.DType.Size() != 2 {
		t.Fatalf("fixture has no 16-bit tensor %q", name)
	}
	b := make([]byte, ti.Bytes())
	if _, err := f.f.ReadAt(b, ti.begin); err != nil {
		t.Fatal(err)
	}
	out := make([]uint16, len(b)/2)
	for i := range out {
		out[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return out
}

func readF32(t *testing.T, r interface {
	Tensor(string) (TensorInfo, bool)
	ReadFloat32(string, []float32) error
}, name string) []float32 {
	t.Helper()
	ti, ok := r.Tensor(name)
	if !ok {
		t.Fatalf("no tensor %q", name)
	}
	dst := make([]float32, ti.NumElements())
	if err := r.ReadFloat32(name, dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestTorchDTypes(t *testing.T) {
	f, err := Open("testdata/torch_dtypes.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Metadata()["format"] != "pt" {
		t.Errorf("metadata = %v", f.Metadata())
	}

	// Our BF16 rounding agrees with torch's on every non-NaN value.
	src := readF32(t, f, "src")
	torchBF16 := rawBits16(t, f, "src_bf16")
	nans := 0
	for i, v := range src {
		got := Float32ToBF16(v)
		if isNaN32(v) {
			nans++
			if !isNaN32(BF16ToFloat32(got)) || !isNaN32(BF16ToFloat32(torchBF16[i])) {
				t.Errorf("src[%d] NaN: ours %#04x, torch %#04x", i, got, torchBF16[i])
			}
			continue
		}
		if got != torchBF16[i] {
			t.Errorf("src[%d] = %v (%#08x): ours %#04x, torch %#04x", i, v, math.Float32bits(v), got, torchBF16[i])
		}
	}
	if nans == 0 || len(src) < 400 {
		t.Errorf("fixture too small: %d values, %d NaNs", len(src), nans)
	}

	// Our decoders agree bit for bit with torch's widening.
	for _, c := range []struct{ in, want string }{
		{"src_f16", "src_f16_f32"},
		{"f16_patterns", "f16_patterns_f32"},
		{"bf16_patterns", "bf16_patterns_f32"},
	} {
		got, want := readF32(t, f, c.in), readF32(t, f, c.want)
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, %s: %d", c.in, len(got), c.want, len(want))
		}
		bad := 0
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				if bad++; bad < 5 {
					t.Errorf("%s[%d]: ours %#08x, torch %#08x", c.in, i, math.Float32bits(got[i]), math.Float32bits(want[i]))
				}
			}
		}
	}
	// src_bf16 read as float32 is torch's bf16 value widened.
	bf := readF32(t, f, "src_bf16")
	for i, b := range torchBF16 {
		if math.Float32bits(bf[i]) != uint32(b)<<16 {
			t.Fatalf("src_bf16[%d] = %#08x, want %#08x", i, math.Float32bits(bf[i]), uint32(b)<<16)
		}
	}

	// Integers, scalars and empty tensors.
	i64 := make([]int64, 6)
	if err := f.ReadInt64("i64", i64); err != nil {
		t.Fatal(err)
	}
	want := []int64{0, 1, -1, math.MaxInt32, math.MinInt32, 7}
	i32 := make([]int32, 6)
	if err := f.ReadInt32("i64", i32); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if i64[i] != want[i] || int64(i32[i]) != want[i] {
			t.Errorf("i64[%d] = %d / %d, want %d", i, i64[i], i32[i], want[i])
		}
	}
	if s := readF32(t, f, "scalar"); len(s) != 1 || s[0] != 3.5 {
		t.Errorf("scalar = %v", s)
	}
	ti, _ := f.Tensor("empty")
	if ti.NumElements() != 0 || len(ti.Shape) != 2 {
		t.Errorf("empty: %+v", ti)
	}
	if err := f.ReadFloat32("empty", nil); err != nil {
		t.Error(err)
	}
}

func TestTorchRefExport(t *testing.T) {
	dir := "testdata/torch_tiny"
	cfg, err := LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.VocabSize != 16 || cfg.HiddenSize != 8 || cfg.NumHiddenLayers != 1 || cfg.NumAttentionHeads != 2 ||
		cfg.NumKeyValueHeads != 1 || cfg.IntermediateSize != 12 || !cfg.TieWordEmbeddings || cfg.RopeTheta != 1e6 ||
		cfg.RMSNormEps != 1e-6 || !cfg.QKVBias || cfg.TorchDType != "float32" {
		t.Errorf("config = %+v", cfg)
	}
	if _, ok := cfg.Extra["_optimizer"]; !ok {
		t.Errorf("unknown key _optimizer not kept: %v", cfg.Extra)
	}
	fo, err := OpenFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer fo.Close()
	if err := fo.CheckQwen2(cfg); err != nil {
		t.Fatal(err)
	}
	if n, want := len(fo.Tensors()), len(Qwen2Tensors(cfg)); n != want {
		t.Errorf("%d tensors, want %d", n, want)
	}
	// torch_ref initialises norms to 1, biases to 0, the rest N(0, 0.02).
	var sum, sq float64
	var n int
	var all []NamedTensor
	for _, ti := range fo.Tensors() {
		v := readF32(t, fo, ti.Name)
		all = append(all, NamedTensor{ti.Name, ti.Shape, v})
		switch {
		case filepath.Ext(ti.Name) == ".bias":
			for _, x := range v {
				if x != 0 {
					t.Fatalf("%s has %v, want zeros", ti.Name, x)
				}
			}
		case bytes.Contains([]byte(ti.Name), []byte("norm")):
			for _, x := range v {
				if x != 1 {
					t.Fatalf("%s has %v, want ones", ti.Name, x)
				}
			}
		default:
			for _, x := range v {
				sum += float64(x)
				sq += float64(x) * float64(x)
				n++
			}
		}
	}
	mean := sum / float64(n)
	std := math.Sqrt(sq/float64(n) - mean*mean)
	if math.Abs(mean) > 0.003 || std < 0.017 || std > 0.023 {
		t.Errorf("weights: mean %.4f std %.4f over %d values, want ~0 and ~0.02", mean, std, n)
	}

	// Our F32 writer lays the data out exactly as torch_ref.py does.
	out := filepath.Join(t.TempDir(), "model.safetensors")
	if err := WriteSafetensors(out, all, F32, nil); err != nil {
		t.Fatal(err)
	}
	if a, b := dataSection(t, filepath.Join(dir, "model.safetensors")), dataSection(t, out); !bytes.Equal(a, b) {
		t.Errorf("data sections differ: torch %d bytes, ours %d bytes", len(a), len(b))
	}

	// The parity fixture beside it: int32 tokens and float32 references.
	fx, err := Open(filepath.Join(dir, "fixture.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	defer fx.Close()
	ti, _ := fx.Tensor("tokens")
	if ti.DType != I32 || !slices.Equal(ti.Shape, []int{1, 5}) {
		t.Fatalf("tokens: %+v", ti)
	}
	toks := make([]int32, 5)
	if err := fx.ReadInt32("tokens", toks); err != nil {
		t.Fatal(err)
	}
	for _, tok := range toks {
		if tok < 0 || int(tok) >= cfg.VocabSize {
			t.Errorf("token %d outside the vocabulary", tok)
		}
	}
	if l := readF32(t, fx, "loss0"); math.Abs(float64(l[0])-2.787812) > 1e-6 {
		t.Errorf("loss0 = %v, want 2.787812 (printed by torch_ref.py)", l[0])
	}
	if err := fx.ReadFloat32("tokens", make([]float32, 5)); err == nil {
		t.Error("reading I32 tokens as float32 should fail")
	}
}

func dataSection(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(b)
	return b[8+n:]
}
