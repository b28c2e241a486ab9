package hf

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadAtParts: a tensor read a part at a time (ReadFloat32At,
// ReadBits16At, through a File and a Folder) holds, once every part is
// read, the very bits the whole read gives, from F32, BF16 and F16 files
// (three conversions), whatever the parts' size (an odd count, more than
// the 1 MiB read chunk, the whole); a part not within the tensor is
// refused, naming it.
func TestReadAtParts(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	data := make([]float32, 600001) // 1.2 MB in BF16 and F16, 2.4 MB in F32: parts straddle the 1 MiB read chunk
	for i := range data {
		data[i] = float32(r.NormFloat64())
	}
	for _, dt := range []DType{F32, BF16, F16} {
		t.Run(string(dt), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, WeightsFile)
			written := dt
			if dt == F16 {
				written = BF16 // no F16 writer: the BF16 file, its dtype renamed below
			}
			if err := WriteSafetensors(path, []NamedTensor{{"w", []int{1, len(data)}, data}}, written, nil); err != nil {
				t.Fatal(err)
			}
			if dt == F16 {
				// Any 16-bit pattern decodes as F16; the header's
				// "BF16" and "F16 " are the same length.
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				i := bytes.Index(b, []byte(`"BF16"`))
				if i < 0 {
					t.Fatalf("no BF16 dtype in the header of %s", path)
				}
				copy(b[i:], `"F16" `)
				if err := os.WriteFile(path, b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			fo, err := OpenFolder(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer fo.Close()
			whole := make([]float32, len(data))
			if err := fo.ReadFloat32("w", whole); err != nil {
				t.Fatal(err)
			}
			var whole16 []uint16
			if dt != F32 {
				whole16 = make([]uint16, len(data))
				if err := fo.ReadBits16("w", whole16); err != nil {
					t.Fatal(err)
				}
			}
			for _, part := range []int{7, 1<<18 + 3, len(data)} {
				got := make([]float32, len(data))
				got16 := make([]uint16, len(data))
				for first := 0; first < len(data); first += part {
					n := min(part, len(data)-first)
					if err := fo.ReadFloat32At("w", first, got[first:first+n]); err != nil {
						t.Fatalf("part %d from %d: %v", part, first, err)
					}
					if dt != F32 {
						if err := fo.ReadBits16At("w", first, got16[first:first+n]); err != nil {
							t.Fatalf("part %d from %d: %v", part, first, err)
						}
					}
				}
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(whole[i]) || dt != F32 && got16[i] != whole16[i] {
						t.Fatalf("parts of %d: element %d is %v (%#04x), the whole read's %v", part, i, got[i], got16[i], whole[i])
					}
				}
			}
			for _, c := range []struct{ first, n int }{{-1, 1}, {len(data), 1}, {len(data) - 1, 2}} {
				err := fo.ReadFloat32At("w", c.first, make([]float32, c.n))
				if err == nil || !strings.Contains(err.Error(), `tensor "w": elements [`) || !strings.Contains(err.Error(), "are not within its 600001") {
					t.Errorf("part [%d, %d): %v; want it refused", c.first, c.first+c.n, err)
				}
			}
		})
	}
}
