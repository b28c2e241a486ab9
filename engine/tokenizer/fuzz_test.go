package tokenizer

import (
	"os"
	"testing"
	"unicode/utf8"
)

// FuzzTokenizerJSON: parsing never panics, and whatever parses can encode
// and decode without panicking.
//
// Seeds are small: the fixtures (hundreds of kB) would have the fuzzer spend
// its time minimising them; a pretokenizer split, normalizer and added
// special token give it each part of the format instead.
func FuzzTokenizerJSON(f *testing.F) {
	f.Add([]byte(`{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2,"Ġ":3},"merges":["a b"]},"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"\\p{L}+| ?\\p{N}"},"behavior":"Isolated"},{"type":"ByteLevel","add_prefix_space":false}]},"normalizer":{"type":"NFC"},"added_tokens":[{"id":4,"content":"<|im_end|>","special":true}],"decoder":{"type":"ByteLevel"}}`))
	f.Add([]byte(`{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]},"pre_tokenizer":{"type":"ByteLevel"}}`))
	f.Add([]byte(`{"model":{"vocab":{"a":5},"merges":[["a","a"]]},"added_tokens":[{"id":0,"content":"x","lstrip":true,"rstrip":true,"single_word":true}],"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":true}}`))
	f.Add([]byte(`{}`))
	// The seeds above are refused now (their vocabularies lack byte
	// tokens): one that loads gives the fuzzer encoding to reach.
	if data, err := ByteLevelJSON([]string{"<|im_end|>"}); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := Parse(data)
		if err != nil {
			return
		}
		for _, s := range []string{"", "hello world", " <|im_start|>x\n\n", "x\xff\u0301 12 ab"} {
			ids := tok.Encode(s)
			_ = tok.Decode(ids)
			_ = tok.DecodeHF(ids, false)
			_ = tok.DecodeHF(ids, true)
			_ = tok.DecodeHFStream(ids, false)
		}
		_ = tok.VocabSize()
		_ = tok.TokenString(0)
	})
}

// FuzzEncodeRoundTrip: Decode(Encode(s)) gives s back, byte for byte
// (invalid UTF-8 included) without a normaliser, and s with each piece
// between added tokens in NFC with one; encoding is deterministic (the word cache changes nothing).
func FuzzEncodeRoundTrip(f *testing.F) {
	g := loadGolden(f)
	for i, s := range g.Texts {
		// Short seeds: a long one's mutations are long to minimise.
		if i%3 == 0 && len(s) <= 64 {
			f.Add(s)
		}
	}
	f.Add("\xff\xfe\xc3 \xe4\xb8<|im_end|>")
	nfc := loadFixture(f, "qwen2_pairs")
	raw := withoutNormalizer(f, "qwen2_pairs")
	gpt2 := loadFixture(f, "gpt2")
	f.Fuzz(func(t *testing.T, s string) {
		// GPT-2 style: prefix spaces and stripping tokens change the text;
		// only check that ids are valid.
		for _, id := range gpt2.Encode(s) {
			if id < 0 || int(id) >= gpt2.VocabSize() || gpt2.TokenString(id) == "" {
				t.Fatalf("gpt2: Encode(%q) gave id %d", s, id)
			}
		}
		ids := raw.Encode(s)
		if got := raw.Decode(ids); got != s {
			t.Fatalf("no normaliser: Decode(Encode(%q)) = %q (ids %v)", s, got, ids)
		}
		ids = nfc.Encode(s)
		if utf8.ValidString(s) {
			if got, want := nfc.Decode(ids), nfcPieces(nfc, s); got != want {
				t.Fatalf("NFC: Decode(Encode(%q)) = %q, want %q", s, got, want)
			}
		}
		again := nfc.Encode(s)
		if len(again) != len(ids) {
			t.Fatalf("Encode(%q) not deterministic: %v then %v", s, ids, again)
		}
		for i := range ids {
			if ids[i] != again[i] {
				t.Fatalf("Encode(%q) not deterministic: %v then %v", s, ids, again)
			}
		}
	})
}

// FuzzDetectTemplate: reading a tokenizer_config.json never panics, and a
// template is either ChatML or an error. The contents go to the parser
// DetectTemplate runs on the file's bytes, from memory; the tokenizer.json
// beside it, consulted last, alternates between one with <|im_start|>, one
// without and none, so each input meets every fallback.
func FuzzDetectTemplate(f *testing.F) {
	f.Add([]byte(`{"chat_template": "{{ '<|im_start|>' + m.role }}"}`))
	f.Add([]byte(`{"chat_template": [{"name": "default", "template": "x"}]}`))
	f.Add([]byte(`{"added_tokens_decoder": {"1": {"content": "<|im_start|>"}}, "eos_token": {"content": "</s>"}}`))
	f.Add([]byte(`{"additional_special_tokens": [{"content": "<|im_start|>"}]}`))
	f.Add([]byte(`{"eos_token": "</s>"}`))
	// Byte-level vocabularies of all 256 bytes (one lacking any is refused).
	parse := func(added []string) *Tokenizer {
		data, err := ByteLevelJSON(added)
		if err != nil {
			f.Fatal(err)
		}
		tok, err := Parse(data)
		if err != nil {
			f.Fatal(err)
		}
		return tok
	}
	chatml, plain := parse([]string{"<|im_start|>"}), parse(nil)
	besides := []func() (*Tokenizer, error){
		func() (*Tokenizer, error) { return chatml, nil },
		func() (*Tokenizer, error) { return plain, nil },
		func() (*Tokenizer, error) { return nil, os.ErrNotExist },
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, tok := range besides {
			tmpl, err := detectTemplate("tokenizer_config.json", data, tok)
			if (err == nil) != (tmpl == ChatML) {
				t.Fatalf("template %q with error %v", tmpl, err)
			}
		}
	})
}
