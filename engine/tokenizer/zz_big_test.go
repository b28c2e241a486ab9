package tokenizer

import "testing"

func BenchmarkBigLoad(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := Load("/tmp/bigvocab/big_pairs.json"); err != nil {
			b.Fatal(err)
		}
	}
}
