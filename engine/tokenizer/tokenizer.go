// Package tokenizer is Hugging Face's byte-level BPE tokenizer, read from a
// tokenizer.json, with Hugging Face's exact encoding semantics, plus the
// ChatML rendering the RLT prompts use.
//
// Supported tokenizer.json: model BPE over the byte-level alphabet (vocab,
// merges as "a b" strings or [a, b] pairs, ignore_merges); normalizer NFC
// or none; pre-tokenizer the Qwen2 one (a Split on Qwen2's regex, then
// ByteLevel without its regex) or GPT-2's ByteLevel (with its own regex and
// add_prefix_space); decoder ByteLevel; added tokens with their
// single_word, lstrip, rstrip and normalized flags. Anything else is
// refused with an error naming the file and the key. Keys are matched
// exactly, as Hugging Face's tokenizers (serde) matches them: one written
// in another case ("Model", "Vocab"), which encoding/json alone would take
// for the key, is refused, naming the key to write.
//
// Encoding follows Hugging Face step by step: added tokens that match the
// raw text are split out first (leftmost, longest), each remaining piece is
// normalised and searched for the normalised added tokens, then split by the
// pre-tokenizer, and each word is merged by BPE rank. Golden tests compare
// every step's outcome with Hugging Face's own library (testdata/gen).
//
// Known limits: character classes (\p{L}, \p{N}, \s) come from Go's
// unicode tables (Unicode 15.0), which may differ from the regex engine's for
// characters assigned or recategorised since; BPE dropout, byte_fallback and
// subword prefixes/suffixes are refused.
//
// A Tokenizer is safe for concurrent use; encoding allocates only its result
// (words are cached, up to 65536 of them).
package tokenizer

import (
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"
)

// Tokenizer encodes text to token ids and back. Build one with Load or Parse.
type Tokenizer struct {
	vocab   map[string]int32 // model vocabulary, byte-level form
	tokens  []string         // id -> token string (byte-level form, or added content)
	raw     []string         // id -> bytes the token decodes to
	added   []AddedToken     // by id
	addedID map[string]int32 // added token content -> id
	flags   []uint8          // id -> flagAdded | flagSpecial

	// BPE over raw bytes.
	byteID       [256]int32       // single-byte token ids, -1 when absent
	merges       map[uint64]merge // (left<<32 | right) -> rank, result
	rawVocab     map[string]int32 // raw bytes -> id, for ignore_merges
	ignoreMerges bool
	unk          int32 // -1 when none
	fuseUnk      bool

	nfc    bool
	stages []stage

	rawAdded, normAdded *matcher

	cacheMu    sync.RWMutex
	cache      map[string]cacheEntry
	cacheArena []int32

	pool sync.Pool
}

const (
	flagAdded uint8 = 1 << iota
	flagSpecial
)

type merge struct {
	rank uint32
	id   int32
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// stage is one pre-tokenizer step: a split (or none), after an optional
// prefix space (ByteLevel's add_prefix_space).
type stage struct {
	split       func(s string, i int) int // nil: the piece stays whole
	prefixSpace bool
}

type cacheEntry struct{ off, n uint32 }

const (
	cacheMaxWord    = 64      // longer words are not cached
	cacheMaxEntries = 1 << 16 // then the cache stops growing, as Hugging Face's does
)

// state is per-call scratch space, pooled so that encoding allocates
// nothing but its result.
type state struct {
	spans1, spans2 []span
	nfc            nfcScratch
	prefix         [4][]byte
	ids            []int32
	ranks          []uint32
	news           []int32
	syms           []symbol
	heap           []heapItem
}

func (t *Tokenizer) getState() *state {
	if s, ok := t.pool.Get().(*state); ok {
		return s
	}
	return &state{}
}

// VocabSize is the highest id (model vocabulary or added token) plus one.
func (t *Tokenizer) VocabSize() int { return len(t.tokens) }

// ID returns the id of a token: an added token's content (as written in
// tokenizer.json, or normalised), or a model token in its byte-level form
// (a leading space is written 'Ġ').
func (t *Tokenizer) ID(token string) (int32, bool) {
	if id, ok := t.addedID[token]; ok {
		return id, true
	}
	id, ok := t.vocab[token]
	return id, ok
}

// TokenString returns the token for id as Hugging Face's id_to_token does:
// the byte-level form for model tokens ('Ġ' for a space), the content for
// added tokens (normalised, for a token marked normalized); "" for an id
// that has no token.
func (t *Tokenizer) TokenString(id int32) string {
	if id < 0 || int(id) >= len(t.tokens) {
		return ""
	}
	return t.tokens[id]
}

// AddedTokens returns the added tokens in id order.
func (t *Tokenizer) AddedTokens() []AddedToken { return append([]AddedToken(nil), t.added...) }

// IsSpecial reports whether id is a special added token.
func (t *Tokenizer) IsSpecial(id int32) bool {
	return id >= 0 && int(id) < len(t.flags) && t.flags[id]&flagSpecial != 0
}

// SpecialIDs returns the ids of the special added tokens, by content.
func (t *Tokenizer) SpecialIDs() map[string]int32 {
	m := map[string]int32{}
	for _, a := range t.added {
		if a.Special {
			m[a.Content] = a.ID
		}
	}
	return m
}

// Encode returns the token ids of text. Added tokens written in the text
// (<|im_start|> …) are recognised, as Hugging Face does by default; nothing
// is added around the text (no BOS/EOS: Qwen2 adds none either).
func (t *Tokenizer) Encode(text string) []int32 {
	return t.AppendEncode(make([]int32, 0, len(text)/3+4), text)
}

// AppendEncode appends the token ids of text to dst.
func (t *Tokenizer) AppendEncode(dst []int32, text string) []int32 {
	if len(text) == 0 {
		return dst
	}
	st := t.getState()
	st.spans1 = t.rawAdded.split(text, st.spans1[:0])
	for _, sp := range st.spans1 {
		if sp.id >= 0 {
			dst = append(dst, sp.id)
			continue
		}
		if sp.start >= sp.end {
			continue
		}
		piece := text[sp.start:sp.end]
		if t.nfc {
			piece = nfc(piece, &st.nfc)
		}
		st.spans2 = t.normAdded.split(piece, st.spans2[:0])
		for _, sp2 := range st.spans2 {
			if sp2.id >= 0 {
				dst = append(dst, sp2.id)
			} else if sp2.start < sp2.end {
				dst = t.preTokenize(dst, piece[sp2.start:sp2.end], 0, st)
			}
		}
	}
	t.pool.Put(st)
	return dst
}

// Normalize is text as the tokenizer's normalizer makes it before
// splitting it into words (NFC, or unchanged where it has none): what the
// model reads of it.
func (t *Tokenizer) Normalize(text string) string {
	if !t.nfc {
		return text
	}
	st := t.getState()
	out := strings.Clone(nfc(text, &st.nfc))
	t.pool.Put(st)
	return out
}

// EncodeOffsets is Encode with where each token lies in text: token k
// spells text[ends[k-1]:ends[k]] (from 0 for the first), so a token a BPE
// merge made across two pieces of a composed text (Qwen's ">\n\n" after a
// tag) is seen to straddle their seam. ok is false, and ends nil, where the
// tokens do not spell text byte for byte, so that none has a place in it:
// the normalizer changed the text (not in NFC), the pre-tokenizer put a
// space before it (add_prefix_space), or an added token took the spaces
// beside it (lstrip, rstrip).
func (t *Tokenizer) EncodeOffsets(text string) (ids []int32, ends []int, ok bool) {
	ids = t.Encode(text)
	ends = make([]int, len(ids))
	n := 0
	for k, id := range ids {
		r := t.raw[id]
		if !strings.HasPrefix(text[n:], r) {
			return ids, nil, false
		}
		n += len(r)
		ends[k] = n
	}
	if n != len(text) {
		return ids, nil, false
	}
	return ids, ends, true
}

// preTokenize runs the pre-tokenizer stages from k on, then BPE on each word.
func (t *Tokenizer) preTokenize(dst []int32, s string, k int, st *state) []int32 {
	if k == len(t.stages) {
		return t.bpe(dst, s, st)
	}
	g := &t.stages[k]
	if g.prefixSpace && s[0] != ' ' {
		b := append(append(st.prefix[k][:0], ' '), s...)
		st.prefix[k] = b
		s = unsafe.String(unsafe.SliceData(b), len(b))
	}
	if g.split == nil {
		return t.preTokenize(dst, s, k+1, st)
	}
	for i := 0; i < len(s); {
		e := g.split(s, i)
		if k+1 == len(t.stages) {
			dst = t.bpe(dst, s[i:e], st)
		} else {
			dst = t.preTokenize(dst, s[i:e], k+1, st)
		}
		i = e
	}
	return dst
}

// Decode returns the text of ids. Model tokens become the bytes they stand
// for and added tokens their content, so Decode(Encode(s)) == s for any
// normalised s, and bytes of a character that is cut between two tokens
// survive as they are (the string may then not be valid UTF-8, where Hugging
// Face's decode writes U+FFFD: DecodeHF). Ids without a token are skipped.
func (t *Tokenizer) Decode(ids []int32) string {
	b := t.DecodeBytes(ids)
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// DecodeBytes is Decode returning bytes.
func (t *Tokenizer) DecodeBytes(ids []int32) []byte {
	n := 0
	for _, id := range ids {
		if id >= 0 && int(id) < len(t.raw) {
			n += len(t.raw[id])
		}
	}
	b := make([]byte, 0, n)
	for _, id := range ids {
		if id >= 0 && int(id) < len(t.raw) {
			b = append(b, t.raw[id]...)
		}
	}
	return b
}

// DecodeHF is the text Hugging Face's decode(ids, skip_special_tokens)
// returns, and so the text vLLM and SGLang return of ids (their
// tokenizer.decode): every token, added ones included, goes through the
// ByteLevel decoder (an added token whose content is not all in the
// byte-level alphabet stays as it is), special tokens are left out with
// skipSpecial, and the bytes are read as UTF-8 by Rust's
// String::from_utf8_lossy, which replaces each maximal subpart of an
// ill-formed sequence with one U+FFFD (lossyUTF8). It differs from Decode
// only on cut or invalid characters and on added tokens whose content uses
// the byte-level alphabet beyond ASCII. The golden tests compare it with
// Hugging Face's library. Ids without a token are skipped.
func (t *Tokenizer) DecodeHF(ids []int32, skipSpecial bool) string {
	var b []byte
	for _, id := range ids {
		b = t.appendHF(b, id, skipSpecial)
	}
	return lossyUTF8(b)
}

// DecodeHFStream is the text tokenizers' DecodeStream has returned once
// stepped through ids from where a character begins, as vLLM's detokenizer
// is after a prompt whose text ends a character (rlt generate's): DecodeHF
// of ids up to the last token after which that decode does not end in
// U+FFFD. A character still cut at the end is held back, and so are bytes
// no token after them has made into text; invalid bytes that text follows
// read as U+FFFD.
func (t *Tokenizer) DecodeHFStream(ids []int32, skipSpecial bool) string {
	var b []byte
	ends := make([]int, len(ids))
	for k, id := range ids {
		b = t.appendHF(b, id, skipSpecial)
		ends[k] = len(b)
	}
	for k := len(ids); k > 0; k-- {
		// A lossy decode is back in step within a character or a maximal
		// subpart (4 bytes at most), so whether it ends in U+FFFD is
		// whether its last 4 bytes' decode does.
		e := ends[k-1]
		if !strings.HasSuffix(lossyUTF8(b[max(0, e-4):e]), "\uFFFD") {
			return lossyUTF8(b[:e])
		}
	}
	return ""
}

// appendHF appends to b the bytes Hugging Face's decode makes of id: the
// ByteLevel decoder's reading of its token, added ones included (one whose
// content is not all in the byte-level alphabet as it is); nothing for an id
// without a token, or a special one with skipSpecial.
func (t *Tokenizer) appendHF(b []byte, id int32, skipSpecial bool) []byte {
	if id < 0 || int(id) >= len(t.tokens) || t.tokens[id] == "" && t.flags[id] == 0 || skipSpecial && t.IsSpecial(id) {
		return b
	}
	tok := t.tokens[id]
	if raw, ok := byteLevelDecode(tok); ok {
		return append(b, raw...)
	}
	return append(b, tok...)
}

// lossyUTF8 is b read as UTF-8 with each maximal subpart of an ill-formed
// sequence replaced by one U+FFFD: Unicode's "substitution of maximal
// subparts" (chapter 3, U+FFFD substitution), which Rust's
// String::from_utf8_lossy and Python's decode('utf-8', 'replace') both
// follow. A maximal subpart is the longest prefix of a well-formed sequence
// (E4 B8 of a cut 3-byte character: one U+FFFD), or else one byte (FF FF,
// the surrogate ED A0 80, the overlong C0 AF: one U+FFFD per byte). Go's
// strings.ToValidUTF8 (one U+FFFD per run) and ranging over a string (one
// per byte) follow other rules.
func lossyUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || n != 1 {
			sb.Write(b[i : i+n])
			i += n
			continue
		}
		sb.WriteRune(utf8.RuneError)
		i += invalidPrefix(b[i:])
	}
	return sb.String()
}

// invalidPrefix returns the length of the maximal prefix of b that starts
// a well-formed UTF-8 sequence but does not complete it (at least 1).
func invalidPrefix(b []byte) int {
	c := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		need = 2
	case c == 0xED:
		need, hi = 2, 0x9F
	case c == 0xF0:
		need, lo = 3, 0x90
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	case c == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	i := 1
	for ; i <= need && i < len(b); i++ {
		if b[i] < lo || b[i] > hi {
			break
		}
		lo, hi = 0x80, 0xBF
	}
	return i
}
