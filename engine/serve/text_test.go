package serve

import (
	"testing"

	"github.com/rlt-workbench/rlt/engine/tokenizer"
)

// byteTokenizer is the byte-level tokenizer with no merges: token id b is
// byte b, and 256 is <|im_end|> (special), so a table writes its ids as
// bytes.
func byteTokenizer(t *testing.T) *tokenizer.Tokenizer {
	t.Helper()
	js, err := tokenizer.ByteLevelJSON([]string{"<|im_end|>"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Parse(js)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// imEnd is <|im_end|>'s id in byteTokenizer.
const imEnd = 256

// ids spells ASCII letters and bytes as byteTokenizer's ids.
func ids(parts ...any) []int32 {
	var out []int32
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			for i := 0; i < len(p); i++ {
				out = append(out, int32(p[i]))
			}
		case int:
			out = append(out, int32(p))
		}
	}
	return out
}

// The wants in these tables were printed by a Python 3 script that writes
// out each server's rule (vLLM's LogprobsProcessor._verify_tokens and
// _correct_decoded_token, tokenizers' step_decode_stream, SGLang's
// detokenizer: text.go) over a stand-in tokenizer whose decode is
// bytes.decode('utf-8', 'replace'), Python's own substitution of maximal
// subparts; they were not worked out by hand.

// TestVLLMPromptTokenText: vLLM's "decoded_token" of each prompt token
// after the first. A token that ends a character cut between tokens gets
// the character from the tokens before it (not counting the first: its
// log-prob entry is None), the cut tokens before it get "", and an
// invalid byte, or a U+FFFD that is the text's own, gets "".
func TestVLLMPromptTokenText(t *testing.T) {
	tok := byteTokenizer(t)
	for _, c := range []struct {
		name   string
		prompt []int32
		want   []string // for positions 1..n−1
	}{
		{"a e4 b8 ad b", ids("a", 0xe4, 0xb8, 0xad, "b"), []string{"", "", "\u4e2d", "b"}},
		{"e4 b8 ad", ids(0xe4, 0xb8, 0xad), []string{"", ""}},
		{"a ff b", ids("a", 0xff, "b"), []string{"", "b"}},
		{"a b ff c", ids("ab", 0xff, "c"), []string{"b", "", "c"}},
		{"a b f0 9f 98 80", ids("ab", 0xf0, 0x9f, 0x98, 0x80), []string{"b", "", "", "", "\U0001f600"}},
		{"a f0 9f 98 80", ids("a", 0xf0, 0x9f, 0x98, 0x80), []string{"", "", "", "\U0001f600"}},
		{"a <|im_end|> e4 b8 ad", ids("a", imEnd, 0xe4, 0xb8, 0xad), []string{"<|im_end|>", "", "", "\u4e2d"}},
		{"a x ff e4 b8 ad", ids("ax", 0xff, 0xe4, 0xb8, 0xad), []string{"x", "", "", "", "\u4e2d"}},
		{"a ef bf bd", ids("a", 0xef, 0xbf, 0xbd), []string{"", "", ""}},
	} {
		for pos := 1; pos < len(c.prompt); pos++ {
			if got := vllmPromptTokenText(tok, c.prompt, pos); got != c.want[pos-1] {
				t.Errorf("%s: position %d: %+q, want %+q", c.name, pos, got, c.want[pos-1])
			}
		}
	}
}

// TestOutputTexts: the text of the one generated token, as vLLM (a step of
// a DecodeStream primed with the prompt) and SGLang (the last five prompt
// tokens' decode taken off, by characters) return it. They differ where
// the prompt ends inside a character: vLLM's stream then has no prefix and
// returns the whole decode; SGLang counts the completed character as the
// prompt's.
func TestOutputTexts(t *testing.T) {
	tok := byteTokenizer(t)
	for _, c := range []struct {
		name         string
		prompt       []int32
		next         int32
		vllm, sglang string
	}{
		{"a b + c", ids("ab"), 'c', "c", "c"},
		{"a e4 b8 + ad", ids("a", 0xe4, 0xb8), 0xad, "a\u4e2d", ""},
		{"a e4 + b8", ids("a", 0xe4), 0xb8, "", ""},
		{"a + <|im_end|>", ids("a"), imEnd, "", ""},
		{"a + ff", ids("a"), 0xff, "", "\ufffd"},
		{"a ff + b", ids("a", 0xff), 'b', "a\ufffdb", "b"},
		{"a <|im_end|> + b", ids("a", imEnd), 'b', "b", "b"},
		{"p q r s e4 b8 + ad", ids("pqrs", 0xe4, 0xb8), 0xad, "pqrs\u4e2d", ""},
		{"e4 q w e r t + y", ids(0xe4, "qwert"), 'y', "y", "y"},
	} {
		if got := vllmOutputText(tok, c.prompt, c.next, true); got != c.vllm {
			t.Errorf("%s: vLLM %+q, want %+q", c.name, got, c.vllm)
		}
		if got := sglangOutputText(tok, c.prompt, c.next, true); got != c.sglang {
			t.Errorf("%s: SGLang %+q, want %+q", c.name, got, c.sglang)
		}
	}
}
