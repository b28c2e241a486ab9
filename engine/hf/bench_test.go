package hf

import (
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
