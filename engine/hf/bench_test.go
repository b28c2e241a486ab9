package hf

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

var benchDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

var benchFiles sync.Map // dtype -> path

// benchFile writes, once per process, a 64 MB file of one dtype: a single
// 64 MB tensor for BF16/F16 would be the whole file; we use 16 tensors of
// 4 MB of data each, like a model's weight matrices.
func benchFile(b *testing.B, dt DType) (string, int) {
	const fileBytes = 64 << 20
	n := fileBytes / dt.Size()
	if p, ok := benchFiles.Load(dt); ok {
		return p.(string), n
	}
	if benchDir == "" {
		d, err := os.MkdirTemp("", "hf-bench-*")
		if err != nil {
			b.Fatal(err)
		}
		benchDir = d
	}
	r := rand.New(rand.NewPCG(5, 6))
	var ts []NamedTensor
	per := n / 16
	for i := range 16 {
		d := make([]float32, per)
		for j := range d {
			d[j] = float32(r.NormFloat64()) * 0.02
		}
		ts = append(ts, NamedTensor{Name: "w" + string(rune('a'+i)), Shape: []int{per / 1024, 1024}, Data: d})
	}
	p := filepath.Join(benchDir, string(dt)+".safetensors")
	if dt == F16 {
		// No F16 writer: reuse the BF16 file's layout with the dtype renamed
		// (same sizes, and any 16-bit pattern decodes).
		if err := WriteSafetensors(p, ts, BF16, nil); err != nil {
			b.Fatal(err)
		}
		buf, _ := os.ReadFile(p)
		for i := 0; i+6 < len(buf) && i < 8+4096; i++ {
			if string(buf[i:i+6]) == `"BF16"` {
				copy(buf[i:], `"F16" `)
			}
		}
		if err := writeAtomic(p, func(w io.Writer) error { _, err := w.Write(buf); return err }); err != nil {
			b.Fatal(err)
		}
	} else if err := WriteSafetensors(p, ts, dt, nil); err != nil {
		b.Fatal(err)
	}
	benchFiles.Store(dt, p)
	return p, n
}

func benchRead(b *testing.B, dt DType) {
	p, n := benchFile(b, dt)
	f, err := Open(p)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	ts := f.Tensors()
	bufs := make([][]float32, len(ts))
	for i, t := range ts {
		bufs[i] = make([]float32, t.NumElements())
	}
	read := func() {
		for i, t := range ts {
			if err := f.ReadFloat32(t.Name, bufs[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
	read()                           // warm the page cache and the buffers
	b.SetBytes(int64(n * dt.Size())) // file bytes per op
	b.ResetTimer()
	for b.Loop() {
		read()
	}
}

// Throughput is in MB/s of file data (page cache warm after the first pass).
func BenchmarkReadBF16_64MB(b *testing.B) { benchRead(b, BF16) }
func BenchmarkReadF16_64MB(b *testing.B)  { benchRead(b, F16) }
func BenchmarkReadF32_64MB(b *testing.B)  { benchRead(b, F32) }

func BenchmarkWriteBF16_64MB(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	d := make([]float32, 32<<20)
	for i := range d {
		d[i] = float32(r.NormFloat64())
	}
	p := filepath.Join(b.TempDir(), "w.safetensors")
	b.SetBytes(64 << 20)
	b.ResetTimer()
	for b.Loop() {
		if err := WriteSafetensors(p, []NamedTensor{{"w", []int{len(d)}, d}}, BF16, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenHeader validates the header of a file laid out as
// Qwen2.5-0.5B's model.safetensors is (290 tensors, 24 layers), its data
// cut to a few bytes a tensor: the cost of reading a header, not its data.
func BenchmarkOpenHeader(b *testing.B) {
	var ts []NamedTensor
	add := func(name string) { ts = append(ts, NamedTensor{Name: name, Shape: []int{2}, Data: []float32{1, 2}}) }
	add("model.embed_tokens.weight")
	add("model.norm.weight")
	for l := range 24 {
		for _, w := range []string{"input_layernorm.weight", "post_attention_layernorm.weight",
			"mlp.down_proj.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight",
			"self_attn.k_proj.bias", "self_attn.k_proj.weight", "self_attn.o_proj.weight",
			"self_attn.q_proj.bias", "self_attn.q_proj.weight", "self_attn.v_proj.bias", "self_attn.v_proj.weight"} {
			add(fmt.Sprintf("model.layers.%d.%s", l, w))
		}
	}
	p := filepath.Join(b.TempDir(), "model.safetensors")
	if err := WriteSafetensors(p, ts, BF16, map[string]string{"format": "pt"}); err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := OpenBytes(p, data); err != nil {
			b.Fatal(err)
		}
	}
}
