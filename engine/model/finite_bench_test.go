package model

import (
	"testing"

	"github.com/rlt-workbench/rlt/compute/half"
	"github.com/rlt-workbench/rlt/engine/hf"
)

// BenchmarkCheckFinite: the load-time scan's throughput, float32 and
// bfloat16, on 64 MiB of weights (go test -bench CheckFinite -cpu 1,2).
func BenchmarkCheckFinite(b *testing.B) {
	w := make([]float32, 16<<20)
	for i := range w {
		w[i] = float32(i%13) - 6
	}
	bits := make([]uint16, 32<<20)
	for i := range bits {
		bits[i] = 0x3f80
	}
	b.Run("F32", func(b *testing.B) {
		b.SetBytes(int64(4 * len(w)))
		for i := 0; i < b.N; i++ {
			if err := checkFinite32(hf.TensorInfo{}, w); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("BF16", func(b *testing.B) {
		b.SetBytes(int64(2 * len(bits)))
		for i := 0; i < b.N; i++ {
			if err := checkFinite16(hf.TensorInfo{}, half.BF16, bits); err != nil {
				b.Fatal(err)
			}
		}
	})
}
