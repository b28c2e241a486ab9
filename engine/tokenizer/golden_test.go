package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// golden is testdata/golden.json, written by testdata/gen/gen.mjs with
// Hugging Face's tokenizers.
type golden struct {
	Version string                       `json:"tokenizers_version"`
	Texts   []string                     `json:"texts"`
	IDs     map[string][][]int32         `json:"ids"`
	Decoded map[string]map[string]string `json:"decoded"` // index -> HF decode, where it differs from the text
}

var fixtures = []string{"qwen2_pairs", "qwen2_strings", "gpt2"}

// goldenDir is testdata, or TOKENIZER_GOLDEN_DIR for a larger local set
// (see testdata/gen/gen.mjs).
func goldenDir() string {
	if d := os.Getenv("TOKENIZER_GOLDEN_DIR"); d != "" {
		return d
	}
	return "testdata"
}

func loadGolden(t testing.TB) *golden {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(goldenDir(), "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

func loadFixture(t testing.TB, name string) *Tokenizer {
	t.Helper()
	tok, err := Load(filepath.Join(goldenDir(), name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestGoldenEncode(t *testing.T) {
	g := loadGolden(t)
	total := 0
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			tok := loadFixture(t, name)
			want := g.IDs[name]
			if len(want) != len(g.Texts) {
				t.Fatalf("golden has %d id lists for %d texts", len(want), len(g.Texts))
			}
			bad := 0
			for i, text := range g.Texts {
				// Twice: the second pass goes through the word cache.
				for pass := 0; pass < 2; pass++ {
					got := tok.Encode(text)
					if !slices.Equal(got, want[i]) {
						bad++
						if bad <= 10 {
							t.Errorf("text %d %q (pass %d):\n got %v\nwant %v\n got %q\nwant %q", i, text, pass, got, want[i],
								tokStrings(tok, got), tokStrings(tok, want[i]))
						}
					} else if pass == 0 {
						total++
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d mismatches", bad, 2*len(g.Texts))
			}
		})
	}
	t.Logf("%d golden encodings (%d texts x %d fixtures, Hugging Face tokenizers %s) match", total, len(g.Texts), len(fixtures), g.Version)
}

func tokStrings(tok *Tokenizer, ids []int32) []string {
	var s []string
	for _, id := range ids {
		s = append(s, tok.TokenString(id))
	}
	return s
}

// TestGoldenDecode checks Decode against the text (round trip) and the
// Hugging Face decode against DecodeHF.
func TestGoldenDecode(t *testing.T) {
	g := loadGolden(t)
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			tok := loadFixture(t, name)
			for i, text := range g.Texts {
				ids := g.IDs[name][i]
				hf, ok := g.Decoded[name][itoa(i)]
				if !ok {
					hf = text
				}
				if got := tok.DecodeHF(ids, false); got != hf {
					t.Errorf("text %d %q: DecodeHF %q, Hugging Face %q", i, text, got, hf)
				}
				// Decode round-trips wherever Hugging Face's does, and
				// where only added tokens' byte-level reading differs.
				want := hf
				if name != "gpt2" {
					want = nfcPieces(tok, text)
				}
				if got := tok.Decode(ids); got != want {
					t.Errorf("text %d %q: Decode %q, want %q", i, text, got, want)
				}
			}
		})
	}
}

// nfcPieces is what Decode(Encode(text)) must give for an NFC tokenizer:
// text with every piece between raw added tokens normalised.
func nfcPieces(tok *Tokenizer, text string) string {
	var b strings.Builder
	for _, sp := range tok.rawAdded.split(text, nil) {
		if sp.id >= 0 {
			b.WriteString(tok.raw[sp.id])
		} else {
			b.Write(nfcUnbounded(nil, text[sp.start:sp.end], &nfcScratch{})) // the textbook NFC (norm's differs past 30 marks)
		}
	}
	return b.String()
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
