package half

import (
	"math/rand/v2"
	"testing"
)

// benchData is 1M float32s of a weight's scale and their bit patterns in
// kind k.
func benchData(k Kind) ([]float32, []uint16) {
	r := rand.New(rand.NewPCG(1, 2))
	f := make([]float32, 1<<20)
	for i := range f {
		f[i] = float32(r.NormFloat64()) * 0.02
	}
	bits := make([]uint16, len(f))
	Narrow(k, bits, f)
	return f, bits
}

func benchWiden(b *testing.B, k Kind) {
	f, bits := benchData(k)
	b.SetBytes(int64(2 * len(bits)))
	for b.Loop() {
		Widen(k, f, bits)
	}
}

func benchNarrow(b *testing.B, k Kind) {
	f, bits := benchData(k)
	b.SetBytes(int64(4 * len(f)))
	for b.Loop() {
		Narrow(k, bits, f)
	}
}

// go test -run '^$' -bench . -count 5 ./compute/half
func BenchmarkWidenBF16(b *testing.B)  { benchWiden(b, BF16) }
func BenchmarkWidenF16(b *testing.B)   { benchWiden(b, F16) }
func BenchmarkNarrowBF16(b *testing.B) { benchNarrow(b, BF16) }
func BenchmarkNarrowF16(b *testing.B)  { benchNarrow(b, F16) }
