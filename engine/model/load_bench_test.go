package model

import (
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/hf"
)

// BenchmarkLoad measures loading a Hugging Face folder of the peer's shape
// (3.0M parameters) from the page cache, in F32 and BF16.
func BenchmarkLoad(b *testing.B) { benchLoad(b, PeerConfig) }

// benchLoad measures loading a random model of cfg saved in F32 and in
// BF16, from the page cache.
func benchLoad(b *testing.B, cfg Config) {
	for _, dt := range []hf.DType{hf.F32, hf.BF16} {
		b.Run(string(dt), func(b *testing.B) {
			be := compute.NewCPU()
			m, err := NewRandom(be, cfg, 1)
			if err != nil {
				b.Fatal(err)
			}
			dir := b.TempDir()
			if err := m.Save(dir, dt); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(m.NumParams()) * 4)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := Load(be, dir); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	be := compute.NewCPU()
	cfg := PeerConfig
	cfg.Vocab, cfg.Hidden, cfg.Intermediate, cfg.Layers, cfg.Tied = 64, 32, 48, 2, false
	m, err := NewRandom(be, cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, dt := range []hf.DType{hf.F32, hf.BF16} {
		dir := t.TempDir()
		if err := m.Save(dir, dt); err != nil {
			t.Fatal(err)
		}
		got, err := Load(be, dir)
		if err != nil {
			t.Fatal(err)
		}
		if got.Cfg != m.Cfg {
			t.Fatalf("%s: config %+v, want %+v", dt, got.Cfg, m.Cfg)
		}
		for i, p := range m.Params() {
			a, b := make([]float32, p.Tensor.Len()), make([]float32, p.Tensor.Len())
			be.Read(a, p.Tensor)
			be.Read(b, got.Params()[i].Tensor)
			for j := range a {
				want := a[j]
				if dt == hf.BF16 {
					want = hf.BF16ToFloat32(hf.Float32ToBF16(a[j]))
				}
				if b[j] != want {
					t.Fatalf("%s: %s[%d] = %v, want %v", dt, p.Name, j, b[j], want)
				}
			}
		}
	}
}

// BenchmarkLoadLargeTensor measures loading a model whose embedding is
// larger than stopEvery (128 MiB in F32, 32,768 rows of 1,024), read a
// part at a time, from the page cache: what the looks between parts cost.
func BenchmarkLoadLargeTensor(b *testing.B) {
	cfg := PeerConfig
	cfg.Vocab, cfg.Hidden, cfg.Intermediate, cfg.Layers, cfg.Heads, cfg.KVHeads, cfg.Tied = 32768, 1024, 64, 1, 8, 8, true
	benchLoad(b, cfg)
}
