package task

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkGenerate100k generates 100,000 examples of one split (each with
// its reference explanation); one op = 100k examples.
func BenchmarkGenerate100k(b *testing.B) {
	for _, tk := range allTasks() {
		b.Run(tk.Name(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s := NewSampler(tk, Train, 1)
				for range 100_000 {
					s.Next()
				}
			}
		})
	}
}

// BenchmarkVerify checks one explanation in a mixture of styles per op.
func BenchmarkVerify(b *testing.B) {
	for _, tk := range allTasks() {
		b.Run(tk.Name(), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			m, _ := NewMixture(tk.Styles(), DefaultMixture())
			type pair struct{ q, e string }
			var in []pair
			for _, ex := range NewSampler(tk, Train, 2).Take(1024) {
				_, e := m.Explain(ex, rng)
				in = append(in, pair{ex.Question, e})
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				p := in[i%len(in)]
				tk.VerifyExplanation(p.q, p.e)
				i++
			}
		})
	}
}
