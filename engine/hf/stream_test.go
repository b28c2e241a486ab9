package hf

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Streaming a tensor chunk by chunk writes the bytes WriteSafetensors writes
// when the order is by name, a readable file in any other order, and
// nothing at all when a source fails.
func TestWriteSafetensorsStream(t *testing.T) {
	dir := t.TempDir()
	big := make([]float32, chunkBytes/2+37) // more than one chunk in BF16 and F32
	for i := range big {
		big[i] = float32(i%1000)*0.25 - 3
	}
	named := []NamedTensor{
		{Name: "a.weight", Shape: []int{len(big)}, Data: big},
		{Name: "b.bias", Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}},
	}
	stream := func(ts []NamedTensor) []StreamTensor {
		out := make([]StreamTensor, len(ts))
		for i, nt := range ts {
			rest := nt.Data
			out[i] = StreamTensor{Name: nt.Name, Shape: nt.Shape, Fill: func(dst []float32) error {
				rest = rest[copy(dst, rest):]
				return nil
			}}
		}
		return out
	}
	for _, dt := range []DType{F32, BF16} {
		want, got := filepath.Join(dir, "want"+string(dt)), filepath.Join(dir, "got"+string(dt))
		if err := WriteSafetensors(want, named, dt, map[string]string{"k": "v"}); err != nil {
			t.Fatal(err)
		}
		if err := WriteSafetensorsStream(got, stream(named), dt, map[string]string{"k": "v"}); err != nil {
			t.Fatal(err)
		}
		wb, _ := os.ReadFile(want)
		gb, _ := os.ReadFile(got)
		if !bytes.Equal(wb, gb) {
			t.Fatalf("%s: streamed file (%d bytes) differs from WriteSafetensors' (%d bytes)", dt, len(gb), len(wb))
		}
	}
	// Data in another order than the names: still a valid file.
	rev := filepath.Join(dir, "rev")
	if err := WriteSafetensorsStream(rev, stream([]NamedTensor{named[1], named[0]}), F32, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Open(rev)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, nt := range named {
		back := make([]float32, len(nt.Data))
		if err := f.ReadFloat32(nt.Name, back); err != nil {
			t.Fatal(err)
		}
		for i := range back {
			if back[i] != nt.Data[i] {
				t.Fatalf("%s[%d] = %v, want %v", nt.Name, i, back[i], nt.Data[i])
			}
		}
	}
	// A failing source leaves nothing behind.
	bad := filepath.Join(dir, "bad")
	boom := errors.New("boom")
	st := stream(named)
	st[0].Fill = func([]float32) error { return boom }
	if err := WriteSafetensorsStream(bad, st, BF16, nil); !errors.Is(err, boom) {
		t.Fatalf("err %v, want boom", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 5 {
		t.Fatalf("%d entries in the folder after a failed write, want the 5 good files", len(ents))
	}
}
