package model

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/hf"
)

func smallConfig(tied bool) Config {
	cfg := PeerConfig
	cfg.Vocab, cfg.Hidden, cfg.Intermediate, cfg.Layers, cfg.Tied = 96, 32, 48, 2, tied
	return cfg
}

// A BF16 checkpoint loaded Frozen16 holds half the memory and computes the
// very logits (teacher-forced and decoded with a cache) that its float32
// load computes; it refuses training; a float32 checkpoint loads as float32.
func TestFrozen16MatchesFloat32(t *testing.T) {
	be := compute.NewCPU()
	for _, tied := range []bool{true, false} {
		cfg := smallConfig(tied)
		src, err := NewRandom(be, cfg, 5)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := src.Save(dir, hf.BF16); err != nil {
			t.Fatal(err)
		}
		m32, err := Load(be, dir)
		if err != nil {
			t.Fatal(err)
		}
		m16, err := LoadAs(context.Background(), be, dir, Frozen16)
		if err != nil {
			t.Fatal(err)
		}
		if !m16.Frozen16() || m16.WeightType() != compute.BF16 || m32.Frozen16() {
			t.Fatalf("tied %v: Frozen16 %v (%v), float32 load Frozen16 %v", tied, m16.Frozen16(), m16.WeightType(), m32.Frozen16())
		}
		if r := float64(m16.MemoryBytes()) / float64(m32.MemoryBytes()); r > 0.52 {
			t.Fatalf("tied %v: 16-bit model holds %.2f× the float32 one's memory", tied, r)
		}
		b := &Batch{B: 2, T: 5, Tokens: []int32{1, 2, 3, 4, 5, 9, 8, 7, 6, 5}}
		logits := func(m *Model) []float32 {
			tp := compute.NewTape(be)
			tp.SetRecording(false)
			l := m.Logits(tp, b)
			if tp.Err() != nil {
				t.Fatal(tp.Err())
			}
			out := make([]float32, l.Len())
			be.Read(out, l)
			return out
		}
		decode := func(m *Model) []float32 {
			tp := compute.NewTape(be)
			tp.SetRecording(false)
			c, err := m.NewCache(2, 8)
			if err != nil {
				t.Fatal(err)
			}
			m.Freeze()
			defer m.Thaw()
			var out []float32
			l := m.Decode(tp, c, b.Tokens, 5)
			for step := 0; step < 3 && tp.Err() == nil; step++ {
				buf := make([]float32, l.Len())
				be.Read(buf, l)
				out = append(out, buf...)
				tp.Reset()
				l = m.Decode(tp, c, []int32{int32(step), int32(step + 1)}, 1)
			}
			if tp.Err() != nil {
				t.Fatal(tp.Err())
			}
			return out
		}
		for what, f := range map[string]func(*Model) []float32{"logits": logits, "decode": decode} {
			want, got := f(m32), f(m16)
			for i := range want {
				if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
					t.Fatalf("tied %v: %s[%d] = %v from 16-bit weights, %v from float32", tied, what, i, got[i], want[i])
				}
			}
		}
		if err := m16.RequireGrad(); err == nil || !strings.Contains(err.Error(), "float32") {
			t.Fatalf("RequireGrad on a 16-bit model: %v, want an error that says to load in float32", err)
		}
		// Saved again in float32, the 16-bit model gives back its values.
		dir32 := t.TempDir()
		if err := m16.Save(dir32, hf.F32); err != nil {
			t.Fatal(err)
		}
		back, err := LoadAs(context.Background(), be, dir32, Frozen16)
		if err != nil {
			t.Fatal(err)
		}
		if back.Frozen16() {
			t.Fatal("a float32 checkpoint loaded Frozen16 is held in 16 bits")
		}
		sameParams(t, be, back, m32)
	}
}

// WriteRandom writes the numbers NewRandom draws, without the model in
// memory, in the shape of the config it is given.
func TestWriteRandomMatchesNewRandom(t *testing.T) {
	be := compute.NewCPU()
	for _, tied := range []bool{true, false} {
		cfg := smallConfig(tied)
		want, err := NewRandom(be, cfg, 11)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		n, err := WriteRandom(context.Background(), dir, cfg.HF(), 11, hf.F32)
		if err != nil {
			t.Fatal(err)
		}
		if n != want.NumParams() {
			t.Fatalf("wrote %d parameters, the model has %d", n, want.NumParams())
		}
		got, err := Load(be, dir)
		if err != nil {
			t.Fatal(err)
		}
		if got.Cfg != cfg { // cfg.HF() is written as the shape it is
			t.Errorf("wrote the shape %+v, want %+v", got.Cfg, cfg)
		}
		sameParams(t, be, got, want)
	}
}

func sameParams(t *testing.T, be compute.Backend, got, want *Model) {
	t.Helper()
	if len(got.Params()) != len(want.Params()) {
		t.Fatalf("%d parameters, want %d", len(got.Params()), len(want.Params()))
	}
	for i, p := range want.Params() {
		q := got.Params()[i]
		if q.Name != p.Name {
			t.Fatalf("parameter %d is %s, want %s", i, q.Name, p.Name)
		}
		a, b := make([]float32, p.Tensor.Len()), make([]float32, q.Tensor.Len())
		be.Read(a, p.Tensor)
		be.Read(b, q.Tensor)
		for j := range a {
			if math.Float32bits(a[j]) != math.Float32bits(b[j]) {
				t.Fatalf("%s[%d] = %v, want %v", p.Name, j, b[j], a[j])
			}
		}
	}
}
