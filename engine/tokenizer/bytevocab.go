package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// ByteLevelJSON writes a tokenizer.json for a byte-level BPE with no merges:
// ids 0..255 are the bytes (in GPT-2's byte-level alphabet) and the added
// tokens follow from 256, all special. With the Qwen2 pre-tokenizer and the
// NFC normaliser it is a valid Hugging Face tokenizer, the smallest there is:
// the embedded default models use it, so any text is representable and the
// ChatML and RLT tags are single tokens.
func ByteLevelJSON(added []string) ([]byte, error) {
	vocab := make(map[string]int, 256)
	for b := 0; b < 256; b++ {
		vocab[string(byteToRune[b])] = b
	}
	type addedTok struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		SingleWord bool   `json:"single_word"`
		LStrip     bool   `json:"lstrip"`
		RStrip     bool   `json:"rstrip"`
		Normalized bool   `json:"normalized"`
		Special    bool   `json:"special"`
	}
	seen := map[string]bool{}
	var toks []addedTok
	for i, a := range added {
		if a == "" || seen[a] {
			return nil, fmt.Errorf("byte-level tokenizer: added token %d %q is empty or repeated", i, a)
		}
		seen[a] = true
		toks = append(toks, addedTok{ID: 256 + i, Content: a, Special: true})
	}
	byteLevel := map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}
	doc := map[string]any{
		"version":      "1.0",
		"truncation":   nil,
		"padding":      nil,
		"added_tokens": toks,
		"normalizer":   map[string]any{"type": "NFC"},
		"pre_tokenizer": map[string]any{
			"type": "Sequence",
			"pretokenizers": []any{
				map[string]any{"type": "Split", "pattern": map[string]any{"Regex": qwen2Pattern}, "behavior": "Isolated", "invert": false},
				byteLevel,
			},
		},
		"post_processor": byteLevel,
		"decoder":        byteLevel,
		"model": map[string]any{
			"type": "BPE", "dropout": nil, "unk_token": nil, "continuing_subword_prefix": nil,
			"end_of_word_suffix": nil, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
			"vocab": vocab, "merges": []string{},
		},
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // as Hugging Face writes it: "<|im_end|>", not "\u003c|im_end|\u003e"
	enc.SetIndent("", " ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(out.Bytes(), []byte{'\n'}), nil
}
