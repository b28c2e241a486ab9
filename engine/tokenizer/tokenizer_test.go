package tokenizer

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func TestByteLevelAlphabet(t *testing.T) {
	seen := map[rune]bool{}
	for b := 0; b < 256; b++ {
		r := byteToRune[b]
		if seen[r] {
			t.Fatalf("rune %U used twice", r)
		}
		seen[r] = true
		if runeToByte[r] != int16(b) {
			t.Fatalf("byte %d does not round-trip", b)
		}
	}
	for b, want := range map[byte]rune{' ': 'Ġ', '\n': 'Ċ', '\t': 'ĉ', 'a': 'a', 0: 0x100, 0xAD: 0x143, 0xFF: 'ÿ'} {
		if byteToRune[b] != want {
			t.Errorf("byte %#x -> %U, want %U", b, byteToRune[b], want)
		}
	}
	if got := byteLevelEncode(" hello\n"); got != "Ġhello\u010a" {
		t.Errorf("byteLevelEncode = %q", got)
	}
}

// Pre-tokenizer splits, written out by hand from the regexes.
func TestScanners(t *testing.T) {
	split := func(f func(string, int) int, s string) []string {
		var out []string
		for i := 0; i < len(s); {
			e := f(s, i)
			out = append(out, s[i:e])
			i = e
		}
		return out
	}
	cases := []struct {
		scan func(string, int) int
		in   string
		want []string
	}{
		{scanQwen2, "Hello world", []string{"Hello", " world"}},
		{scanQwen2, "I'LL go'ſ", []string{"I", "'LL", " go", "'ſ"}},
		{scanQwen2, "x  \n\n  y", []string{"x", "  \n\n", " ", " y"}},
		{scanQwen2, "a   ", []string{"a", "   "}},
		{scanQwen2, "a  b", []string{"a", " ", " b"}},
		{scanQwen2, "1234", []string{"1", "2", "3", "4"}},
		{scanQwen2, "x.\n\ny", []string{"x", ".\n\n", "y"}},
		{scanQwen2, "(hi) ...", []string{"(hi", ")", " ..."}},
		{scanQwen2, "\tword", []string{"\tword"}},
		{scanQwen2, "\nword", []string{"\n", "word"}},
		{scanGPT2, "Hello world", []string{"Hello", " world"}},
		{scanGPT2, "I'LL go's", []string{"I", "'", "LL", " go", "'s"}},
		{scanGPT2, "1234 5678", []string{"1234", " 5678"}},
		{scanGPT2, "a  b", []string{"a", " ", " b"}},
		{scanGPT2, "a \n b", []string{"a", " \n", " b"}},
		{scanGPT2, "x   ", []string{"x", "   "}},
		{scanGPT2, "\xff\xfeab", []string{"\xff\xfe", "ab"}},
	}
	for _, c := range cases {
		if got := split(c.scan, c.in); !slices.Equal(got, c.want) {
			t.Errorf("%q: got %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	g := loadGolden(t)
	extra := []string{
		"\xff\xfe invalid \xc3 bytes \xe4\xb8", // not UTF-8: survives byte for byte (no normaliser below)
		strings.Repeat("中文", 400),
		strings.Repeat("a", 5000),
	}
	for _, name := range []string{"qwen2_pairs", "qwen2_strings"} {
		tok := loadFixture(t, name)
		raw := withoutNormalizer(t, name)
		for _, s := range append(slices.Clone(g.Texts), extra...) {
			if norm.NFC.IsNormalString(s) && utf8.ValidString(s) {
				if got := tok.Decode(tok.Encode(s)); got != s {
					t.Errorf("%s: Decode(Encode(%q)) = %q", name, s, got)
				}
			}
			if got := raw.Decode(raw.Encode(s)); got != s {
				t.Errorf("%s without normalizer: Decode(Encode(%q)) = %q", name, s, got)
			}
		}
	}
}

// withoutNormalizer loads a fixture with its normalizer removed.
func withoutNormalizer(t testing.TB, name string) *Tokenizer {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	m["normalizer"] = nil
	data, _ = json.Marshal(m)
	tok, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Characters cut between tokens: each token alone decodes to a part of a
// character, and the parts join back.
func TestDecodeBytesAcrossTokens(t *testing.T) {
	tok := loadFixture(t, "qwen2_pairs")
	s := "😀 中 é"
	ids := tok.Encode(s)
	var joined []byte
	cut := false
	for _, id := range ids {
		b := tok.DecodeBytes([]int32{id})
		cut = cut || !utf8.Valid(b)
		joined = append(joined, b...)
	}
	if !cut {
		t.Errorf("no token cut a character in %q (ids %v): the test needs one", s, ids)
	}
	if string(joined) != s {
		t.Errorf("token-by-token bytes %q, want %q", joined, s)
	}
	if tok.Decode([]int32{-1, 1 << 30}) != "" {
		t.Error("ids without a token should be skipped")
	}
}

func TestLookups(t *testing.T) {
	tok := loadFixture(t, "qwen2_pairs")
	if tok.VocabSize() != 1210 {
		t.Errorf("VocabSize = %d, want 1210", tok.VocabSize())
	}
	for _, s := range []string{ImStart, ImEnd, EndOfText, "<|begin_of_explanation|>"} {
		id, ok := tok.ID(s)
		if !ok || tok.TokenString(id) != s || !tok.IsSpecial(id) || tok.SpecialIDs()[s] != id {
			t.Errorf("%s: id %d ok %v", s, id, ok)
		}
		if got := tok.Encode(s); !slices.Equal(got, []int32{id}) {
			t.Errorf("Encode(%q) = %v", s, got)
		}
	}
	if id, ok := tok.ID("Ġthe"); !ok || tok.TokenString(id) != "Ġthe" || tok.IsSpecial(id) {
		t.Errorf("Ġthe: %d %v", id, ok)
	}
	ids := tok.Encode(ImStart + "assistant\n the end" + ImEnd + "<|begin_of_explanation|>")
	if got, want := tok.DecodeHF(ids, true), "assistant\n the end"; got != want {
		t.Errorf("DecodeHF(skip special) = %q, want %q (special tokens left out, the rest as Decode)", got, want)
	}
	if _, ok := tok.ID("<|nope|>"); ok {
		t.Error("unknown token found")
	}
	if tok.TokenString(-1) != "" || tok.TokenString(99999) != "" {
		t.Error("TokenString out of range")
	}
	added := tok.AddedTokens()
	if len(added) != 10 || added[len(added)-1].Special || !added[len(added)-1].Normalized {
		t.Errorf("AddedTokens = %+v", added)
	}
	// In the Qwen2-like vocabulary without added RLT tags, the tags are plain text.
	plain := loadFixture(t, "qwen2_strings")
	if _, ok := plain.ID("<|begin_of_thought|>"); ok {
		t.Error("qwen2_strings should not have the RLT tags")
	}
	if ids := plain.Encode("<|begin_of_thought|>"); len(ids) < 3 {
		t.Errorf("plain-text tag encoded as %v", ids)
	}
}

func TestConcurrentEncode(t *testing.T) {
	tok := loadFixture(t, "qwen2_pairs")
	g := loadGolden(t)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for k := range g.Texts {
				i := (k*7 + w*13) % len(g.Texts)
				if got := tok.Encode(g.Texts[i]); !slices.Equal(got, g.IDs["qwen2_pairs"][i]) {
					t.Errorf("worker %d text %d differs", w, i)
					return
				}
			}
		}(w)
	}
	wg.Wait()
}

// The linear merge (short words) and the heap merge (long words) must agree.
func TestMergeStrategiesAgree(t *testing.T) {
	tok := loadFixture(t, "qwen2_pairs")
	st := &state{}
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"the teacher", "explanation", "aaaaaaaa", "ababab", "中文中文", "     ", "1,000,000"}
	for i := 0; i < 2000; i++ {
		w := words[rng.IntN(len(words))]
		n := 1 + rng.IntN(len(w))
		words = append(words, w[:n]+words[rng.IntN(len(words))])
	}
	for _, w := range words {
		var ids []int32
		for i := 0; i < len(w); i++ {
			ids = append(ids, tok.byteID[w[i]])
		}
		a := slices.Clone(tok.mergeLinear(slices.Clone(ids), st))
		b := slices.Clone(tok.mergeHeap(slices.Clone(ids), st))
		if !slices.Equal(a, b) {
			t.Fatalf("%q: linear %v, heap %v", w, a, b)
		}
	}
}

// TestLossyUTF8: each maximal subpart of an ill-formed sequence is one
// U+FFFD, as Hugging Face's decode (Rust's String::from_utf8_lossy) and
// Python's decode('utf-8', 'replace') write it. Every want was printed by
// Python 3, not worked out by hand:
//
//	/usr/bin/python3 -c "print(ascii(bytes([0xf0,0x9f,0x98,0x61]).decode('utf-8','replace')))"
//
// (and lossyUTF8 agreed with Python on 220,439 byte strings: all of length
// 1 to 3 over the bytes where UTF-8's rules change, and 200,000 random ones
// of up to 8 bytes, checked once when it was written).
func TestLossyUTF8(t *testing.T) {
	for _, c := range []struct {
		in   []byte
		want string // Python's output
		why  string
	}{
		{[]byte{0x6f, 0x6b}, "ok", "valid"},
		{[]byte{0xe4, 0xb8}, "\ufffd", "a 3-byte character cut after 2: one"},
		{[]byte{0xff, 0xff}, "\ufffd\ufffd", "bytes that start nothing: one each"},
		{[]byte{0xf0, 0x9f, 0x98, 0x61}, "\ufffda", "a cut 4-byte character, then ASCII"},
		{[]byte{0xed, 0xa0, 0x80}, "\ufffd\ufffd\ufffd", "a surrogate: ED allows only 80..9F next"},
		{[]byte{0xed, 0x9f, 0xbf}, "\ud7ff", "the last character before the surrogates"},
		{[]byte{0xe0, 0x80, 0x80}, "\ufffd\ufffd\ufffd", "overlong: E0 allows only A0..BF next"},
		{[]byte{0xe0, 0xa0}, "\ufffd", "E0 A0 starts a character: one"},
		{[]byte{0xc0, 0xaf}, "\ufffd\ufffd", "C0 never starts a character"},
		{[]byte{0xc2}, "\ufffd", "a lead byte at the end"},
		{[]byte{0x80}, "\ufffd", "a lone continuation byte"},
		{[]byte{0x80, 0x80}, "\ufffd\ufffd", "continuation bytes: one each"},
		{[]byte{0xf4, 0x90, 0x80, 0x80}, "\ufffd\ufffd\ufffd\ufffd", "above U+10FFFF: F4 allows only 80..8F next"},
		{[]byte{0xf4, 0x8f, 0xbf, 0xbf}, "\U0010ffff", "U+10FFFF"},
		{[]byte{0xf0, 0x8f, 0xbf, 0xbf}, "\ufffd\ufffd\ufffd\ufffd", "overlong: F0 allows only 90..BF next"},
		{[]byte{0xf5}, "\ufffd", "F5 never starts a character"},
		{[]byte{0xe4, 0xb8, 0xe4, 0xb8, 0xad}, "\ufffd\u4e2d", "a cut character, then the whole one"},
		{[]byte{0xe4, 0xb8, 0xad, 0xe4}, "\u4e2d\ufffd", "a whole character, then a cut one"},
		{[]byte{0x61, 0xe9, 0x21}, "a\ufffd!", "Latin-1 é is not UTF-8"},
		{[]byte{0xf0, 0x9f, 0x98, 0x80}, "\U0001f600", "a 4-byte character"},
		{[]byte{0xef, 0xbf, 0xbd}, "\ufffd", "U+FFFD itself, valid"},
		{[]byte{0xe1, 0x80, 0x41}, "\ufffdA", "cut before ASCII"},
		{[]byte{0xf1, 0x80, 0x80, 0xe1, 0x80, 0xc2, 0x61}, "\ufffd\ufffd\ufffda", "three cut characters in a row, one each"},
	} {
		if got := lossyUTF8(c.in); got != c.want {
			t.Errorf("% x (%s): %+q, want %+q", c.in, c.why, got, c.want)
		}
	}
}

// DecodeHF is Hugging Face's decode: special tokens kept or left out, and
// the bytes of a character cut between tokens replaced as Python replaces
// them (bytes E4 B8 → one U+FFFD; E4 B8 AD → 中).
func TestDecodeHF(t *testing.T) {
	tok := loadFixture(t, "qwen2_pairs")
	b := func(bs ...byte) (ids []int32) {
		for _, x := range bs {
			ids = append(ids, tok.byteID[x])
		}
		return ids
	}
	end, _ := tok.ID(ImEnd)
	for _, c := range []struct {
		ids         []int32
		skip        bool
		want, bytes string // want is Python's decode of bytes ('replace')
	}{
		{b(0xe4, 0xb8), false, "\ufffd", "e4 b8"},
		{b(0xe4, 0xb8, 0xad), false, "中", "e4 b8 ad"},
		{append(b(0xe4, 0xb8), end), false, "\ufffd<|im_end|>", "e4 b8, then <|im_end|>"},
		{append(b(0xe4, 0xb8), end), true, "\ufffd", "e4 b8 (<|im_end|> skipped)"},
		{append(append(b(0xe4), end), b(0xb8, 0xad)...), true, "中", "e4 b8 ad: the special token between them is left out first"},
		{b(0xff, 0x61), false, "\ufffda", "ff 61"},
	} {
		if got := tok.DecodeHF(c.ids, c.skip); got != c.want {
			t.Errorf("DecodeHF(%s, skip %v) = %+q, want %+q", c.bytes, c.skip, got, c.want)
		}
	}
	if got := tok.Decode(b(0xe4, 0xb8)); got != "\xe4\xb8" {
		t.Errorf("Decode keeps the raw bytes: %+q", got)
	}
}

// DecodeHFStream is the text tokenizers' DecodeStream has returned after
// ids: each want was printed by a Python 3 script that writes out
// step_decode_stream (tokenizers/src/tokenizer/mod.rs) over a stand-in
// decode, bytes.decode('utf-8', 'replace'); the same script's 40,000 random
// token strings agreed with DecodeHFStream when it was written.
func TestDecodeHFStream(t *testing.T) {
	tok := loadFixture(t, "qwen2_pairs")
	a, b := tok.byteID['a'], tok.byteID['b']
	x := func(bs ...byte) (ids []int32) {
		for _, c := range bs {
			ids = append(ids, tok.byteID[c])
		}
		return ids
	}
	end, _ := tok.ID(ImEnd)
	cat := func(parts ...[]int32) []int32 { return slices.Concat(parts...) }
	for _, c := range []struct {
		name       string
		ids        []int32
		skip, keep string // skip_special_tokens true, false
	}{
		{"a e4 b8 ad b", cat([]int32{a}, x(0xe4, 0xb8, 0xad), []int32{b}), "a\u4e2db", "a\u4e2db"},
		{"a e4 b8", cat([]int32{a}, x(0xe4, 0xb8)), "a", "a"},
		{"a ff", cat([]int32{a}, x(0xff)), "a", "a"},
		{"a ff b", cat([]int32{a}, x(0xff), []int32{b}), "a\ufffdb", "a\ufffdb"},
		{"ff ff", x(0xff, 0xff), "", ""},
		{"a ef bf bd", cat([]int32{a}, x(0xef, 0xbf, 0xbd)), "a", "a"},
		{"a <|im_end|>", []int32{a, end}, "a", "a<|im_end|>"},
		{"e4 <|im_end|> b8 ad", cat(x(0xe4), []int32{end}, x(0xb8, 0xad)), "\u4e2d", "\ufffd<|im_end|>"},
	} {
		if got := tok.DecodeHFStream(c.ids, true); got != c.skip {
			t.Errorf("%s, skipping special tokens: %+q, want %+q", c.name, got, c.skip)
		}
		if got := tok.DecodeHFStream(c.ids, false); got != c.keep {
			t.Errorf("%s: %+q, want %+q", c.name, got, c.keep)
		}
	}
}

// The class table agrees with the unicode package, and nfc with norm.
func TestTables(t *testing.T) {
	initTables()
	for r := rune(0x80); r < 0x10000; r++ {
		if bmp[r]&bmpClassMask != classOf(r) {
			t.Fatalf("%U: class %d, want %d", r, bmp[r]&bmpClassMask, classOf(r))
		}
	}
	g := loadGolden(t)
	var sc nfcScratch
	for _, s := range append(g.Texts, "e\u0301", "\u1100\u1161", "a\u0b3e", "\u0b47\u0b3e", "é", "\u0301",
		"xe\u0301y\u0301\u0323z 가\u11a8 \U0001d15e\U0001d165 😀\u0301 \xff\u0301") {
		if got := nfc(s, &sc); got != norm.NFC.String(s) && !strings.Contains(norm.NFC.String(s), "\u034f") {
			t.Errorf("nfc(%q) = %q, want %q", s, got, norm.NFC.String(s))
		}
	}
}

func TestDecodeAt(t *testing.T) {
	for _, s := range []string{"é", "中", "\u0800", "\uffff", "😀", "\xe0\xa0\x80", "\xe0\x80\x80", "\xed\xa0\x80", "\xed\x9f\xbf",
		"\xc2", "\xc2\x41", "\xe4\xb8", "\xe4\xb8\x41", "\xc0\x80", "\xf0\x9f\x98", "\xff"} {
		r, n := decodeAt(s, 0)
		wr, wn := utf8.DecodeRuneInString(s)
		if r != wr || n != wn {
			t.Errorf("decodeAt(%q) = %U %d, want %U %d", s, r, n, wr, wn)
		}
	}
}

// Beyond 30 combining marks the norm package inserts U+034F; Hugging Face
// does not, and neither does nfc.
func TestNFCLongMarks(t *testing.T) {
	initTables()
	var sc nfcScratch
	for in, want := range map[string]string{
		"e" + strings.Repeat("\u0301", 40) + "x":                                         "\u00e9" + strings.Repeat("\u0301", 39) + "x",
		"x" + strings.Repeat("\u0323\u0301", 20):                                         "x" + strings.Repeat("\u0323", 20) + strings.Repeat("\u0301", 20),
		"a" + strings.Repeat("\u0301\u0323", 20):                                         "\u1ea1" + strings.Repeat("\u0323", 19) + strings.Repeat("\u0301", 20),
		strings.Repeat("\u1100\u1161\u11a8", 5):                                          strings.Repeat("\uac01", 5),
		"o\u031b\u0323\u0302" + "\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300\u0300": "\u1ee3\u0302" + strings.Repeat("\u0300", 9),
	} {
		if got := nfc(in, &sc); got != want {
			t.Errorf("nfc(%+q) = %+q, want %+q", in, got, want)
		}
	}
	// Agrees with norm below its limit.
	g := loadGolden(t)
	for _, s := range g.Texts {
		if utf8.ValidString(s) {
			if got, want := string(nfcUnbounded(nil, s, &sc)), norm.NFC.String(s); got != want && !strings.Contains(want, "\u034f") {
				t.Errorf("nfcUnbounded(%+q) = %+q, want %+q", s, got, want)
			}
		}
	}
}

// TestEncodeOffsets: where the tokens spell the text, each is placed where it
// lies (the ids are Encode's); where a normalizer, a prefix space or an
// added token's stripping changes the text, none is placed.
func TestEncodeOffsets(t *testing.T) {
	g := loadGolden(t)
	for _, name := range []string{"qwen2_pairs", "qwen2_strings", "gpt2"} {
		tok := loadFixture(t, name)
		for _, s := range append(slices.Clone(g.Texts), "<|begin_of_explanation|>\n\nFirst add.<|end_of_explanation|>") {
			ids, ends, ok := tok.EncodeOffsets(s)
			if !slices.Equal(ids, tok.Encode(s)) {
				t.Fatalf("%s %q: ids %v, Encode gives %v", name, s, ids, tok.Encode(s))
			}
			if ok != (tok.Decode(ids) == s) {
				t.Fatalf("%s %q: ok %v, but the tokens spell %q", name, s, ok, tok.Decode(ids))
			}
			if !ok {
				if ends != nil {
					t.Errorf("%s %q: not placed, yet ends %v", name, s, ends)
				}
				continue
			}
			from := 0
			for k, id := range ids {
				if got := s[from:ends[k]]; got != string(tok.DecodeBytes([]int32{id})) {
					t.Fatalf("%s %q: token %d (%q) placed on %q", name, s, k, tok.TokenString(id), got)
				}
				from = ends[k]
			}
		}
	}
	for _, c := range []struct {
		fixture, text, why string
	}{
		{"qwen2_strings", "Cafe\u0301", "NFC composes é"},
		{"gpt2", "hello", "ByteLevel puts a space first"},
		{"gpt2", " a <mask>", "<mask> takes the space before it (lstrip)"},
	} {
		if _, ends, ok := loadFixture(t, c.fixture).EncodeOffsets(c.text); ok || ends != nil {
			t.Errorf("%s %q: placed (%v), though %s", c.fixture, c.text, ends, c.why)
		}
	}
	// The seam a BPE merge crosses: ">\n" is one token of this vocabulary.
	tok := loadFixture(t, "qwen2_strings")
	text := "<|begin_of_explanation|>" + "\n\nFirst"
	ids, ends, ok := tok.EncodeOffsets(text)
	seam := len("<|begin_of_explanation|>")
	k := slices.IndexFunc(ends, func(e int) bool { return e > seam-1 })
	if !ok || k < 0 || ends[k] == seam || tok.TokenString(ids[k]) != ">Ċ" {
		t.Fatalf("%q: ids %v ends %v: want a token \">Ċ\" across byte %d", text, ids, ends, seam)
	}
}

// TestNormalize: the text as the normalizer makes it, the same the tokens
// spell: NFC where the tokenizer has it, unchanged where it has none.
func TestNormalize(t *testing.T) {
	for _, c := range []struct{ fixture, in, want string }{
		{"qwen2_strings", "Cafe\u0301 <|im_end|>", "Caf\u00e9 <|im_end|>"},
		{"qwen2_strings", "plain", "plain"},
		{"gpt2", "Cafe\u0301", "Cafe\u0301"},
	} {
		tok := loadFixture(t, c.fixture)
		if got := tok.Normalize(c.in); got != c.want {
			t.Errorf("%s: Normalize(%q) = %q, want %q", c.fixture, c.in, got, c.want)
		}
		if c.fixture != "gpt2" && tok.Decode(tok.Encode(c.in)) != c.want {
			t.Errorf("%s: the tokens of %q spell %q, not the normalized text", c.fixture, c.in, tok.Decode(tok.Encode(c.in)))
		}
	}
}
