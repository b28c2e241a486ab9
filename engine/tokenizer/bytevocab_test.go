package tokenizer

import (
	"strings"
	"testing"
)

func TestByteLevelJSON(t *testing.T) {
	data, err := ByteLevelJSON([]string{"<|im_start|>", "<|im_end|>"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"content": "<|im_end|>"`) { // as Hugging Face writes it
		t.Errorf("added token not written as itself:\n%.400s", data)
	}
	tok, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if tok.VocabSize() != 258 {
		t.Fatalf("vocab %d, want 258", tok.VocabSize())
	}
	text := "<|im_start|>user\n347+285=? é😀<|im_end|>"
	ids := tok.Encode(text)
	if ids[0] != 256 || ids[len(ids)-1] != 257 {
		t.Errorf("added tokens not split out: %v", ids)
	}
	body := []byte("user\n347+285=? é😀")
	for i, b := range body {
		if ids[1+i] != int32(b) {
			t.Fatalf("byte %d: id %d, want %d", i, ids[1+i], b)
		}
	}
	if got := tok.Decode(ids); got != text {
		t.Errorf("round trip %q", got)
	}
	if _, err := ByteLevelJSON([]string{"a", "a"}); err == nil {
		t.Error("a repeated added token was accepted")
	}
}
