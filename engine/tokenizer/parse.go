package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/jsonerr"
)

// Error is a problem with a tokenizer.json: the file, the key (a JSON
// path such as model.merges[12]), what is wrong and what to do.
type Error struct {
	File, Key, Msg string
	// Do is what to do, where Msg does not say it: download the file
	// again (doRedownload), give a model whose tokenizer this reader
	// reads (doByteLevel).
	Do string
}

// What to do about a tokenizer.json Error refuses: one damaged, cut
// short or not written by Hugging Face's tokenizers; one of a kind this
// reader does not read; something else than a tokenizer.json.
const (
	doRedownload = "download the model's tokenizer.json again (this one is damaged, or not one Hugging Face's tokenizers wrote)"
	doByteLevel  = "rlt reads byte-level BPE tokenizers (those of the Qwen2 and GPT-2 families): give a model of such a family"
	doGive       = "give a Hugging Face model folder's tokenizer.json, or the folder"
)

func (e *Error) Error() string {
	msg := e.Msg
	if e.Do != "" {
		msg += ": " + e.Do
	}
	if e.Key == "" {
		return fmt.Sprintf("tokenizer: %s: %s", e.File, msg)
	}
	return fmt.Sprintf("tokenizer: %s: %s: %s", e.File, e.Key, msg)
}

// Load reads a tokenizer.json: ReadFile, then LoadData.
func Load(path string) (*Tokenizer, error) {
	data, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	return LoadData(path, data)
}

// ReadFile reads the bytes of the tokenizer.json at path, its errors
// Load's: for a caller that keeps what it read (a hash of it, to know the
// file unchanged later) and parses it with LoadData.
func ReadFile(path string) ([]byte, error) {
	if filepath.Base(path) == hf.TokenizerFile {
		if err := hf.FileNotFolder(filepath.Dir(path)); err != nil { // a model folder's tokenizer.json, the folder a file
			return nil, err
		}
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && filepath.Base(path) == hf.TokenizerFile {
		if st, serr := os.Stat(filepath.Dir(path)); serr == nil && st.IsDir() {
			return nil, hf.NoTokenizer(filepath.Dir(path)) // one message, whichever command
		}
	}
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	return data, nil
}

// LoadData is Load of data, the bytes ReadFile read from path (which its
// errors name).
func LoadData(path string, data []byte) (*Tokenizer, error) {
	t, err := parse(path, data)
	if err != nil {
		switch base := filepath.Base(path); {
		case base == "merges.txt", base == "vocab.json":
			return nil, &Error{File: path, Msg: "the slow tokenizer's " + base + ", not a tokenizer.json: " + hf.TokenizerJSONNeeded(filepath.Dir(path))}
		case base != hf.TokenizerFile && hf.IsModelFile(base):
			// Another file of a model folder, taken for its tokenizer.
			dir := filepath.Dir(path)
			return nil, fmt.Errorf("tokenizer: %s is a model folder's %s, not its tokenizer: give %s or the folder that holds it (%s)",
				path, base, filepath.Join(dir, hf.TokenizerFile), dir)
		}
	}
	return t, err
}

// isVocab reports whether data is a slow tokenizer's vocab.json: an
// object of token → integer id only.
func isVocab(data []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil || len(m) == 0 {
		return false
	}
	for _, v := range m {
		if len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
			return false
		}
	}
	return true
}

// Parse reads the contents of a tokenizer.json (errors name it
// "tokenizer.json").
func Parse(data []byte) (*Tokenizer, error) { return parse("tokenizer.json", data) }

type jsonAdded struct {
	ID         *int64 `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized *bool  `json:"normalized"`
	Special    bool   `json:"special"`
}

type jsonFile struct {
	AddedTokens  []jsonAdded     `json:"added_tokens"`
	Normalizer   json.RawMessage `json:"normalizer"`
	PreTokenizer json.RawMessage `json:"pre_tokenizer"`
	Decoder      json.RawMessage `json:"decoder"`
	Model        json.RawMessage `json:"model"`
}

type modelCommon struct {
	Type                    *string  `json:"type"`
	Dropout                 *float64 `json:"dropout"`
	UnkToken                *string  `json:"unk_token"`
	ContinuingSubwordPrefix *string  `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string  `json:"end_of_word_suffix"`
	FuseUnk                 bool     `json:"fuse_unk"`
	ByteFallback            bool     `json:"byte_fallback"`
	IgnoreMerges            bool     `json:"ignore_merges"`
}

type jsonModel struct {
	modelCommon
	Vocab  json.RawMessage `json:"vocab"`
	Merges json.RawMessage `json:"merges"`
}

// fastFile decodes a well-formed tokenizer.json in one pass; when it fails,
// the step-by-step decoding (jsonFile, jsonModel) finds what to report.
type fastFile struct {
	AddedTokens  []jsonAdded     `json:"added_tokens"`
	Normalizer   json.RawMessage `json:"normalizer"`
	PreTokenizer json.RawMessage `json:"pre_tokenizer"`
	Decoder      json.RawMessage `json:"decoder"`
	Model        *struct {
		modelCommon
		Vocab  map[string]int64 `json:"vocab"`
		Merges mergeList        `json:"merges"`
	} `json:"model"`
}

// mergeList decodes merges written as "a b" strings or as [a, b] pairs.
type mergeList [][2]string

func (l *mergeList) UnmarshalJSON(data []byte) error {
	pairs, err := parseMerges(data)
	if err != nil {
		return errors.New(err.msg)
	}
	*l = pairs
	return nil
}

type jsonComponent struct {
	Type string `json:"type"`
}

func isNull(m json.RawMessage) bool {
	m = bytes.TrimSpace(m)
	return len(m) == 0 || string(m) == "null"
}

func parse(file string, data []byte) (*Tokenizer, error) {
	initTables()
	failDo := func(do, key, format string, a ...any) error {
		return &Error{File: file, Key: key, Msg: fmt.Sprintf(format, a...), Do: do}
	}
	// A file damaged, or not one Hugging Face's tokenizers wrote.
	fail := func(key, format string, a ...any) error { return failDo(doRedownload, key, format, a...) }
	// What this reader does not read.
	unsupported := func(key, format string, a ...any) error { return failDo(doByteLevel, key, format, a...) }
	// A message that says what to do itself.
	said := func(key, format string, a ...any) error { return failDo("", key, format, a...) }
	var f fastFile
	var m modelCommon
	var vocab map[string]int32
	var pairs [][2]string
	if err := json.Unmarshal(data, &f); err == nil && f.Model != nil && f.Model.Vocab != nil {
		m = f.Model.modelCommon
		vocab = make(map[string]int32, len(f.Model.Vocab))
		for tok, id := range f.Model.Vocab {
			if id < 0 || id > math.MaxInt32-1 {
				return nil, fail(fmt.Sprintf("model.vocab[%q]", tok), "id %d is not a valid token id", id)
			}
			vocab[tok] = int32(id)
		}
		pairs = f.Model.Merges
	} else {
		var sf jsonFile
		if err := json.Unmarshal(data, &sf); err != nil {
			return nil, fail("", "not valid tokenizer JSON: %s", jsonerr.At(data, err))
		}
		if isNull(sf.Model) {
			if isVocab(data) {
				return nil, said("", "a vocab.json (token → id) of the slow tokenizer, not a tokenizer.json: %s", hf.TokenizerJSONNeeded(filepath.Dir(file)))
			}
			return nil, failDo(doGive, "model", "missing: this is not a tokenizer.json, which holds \"model\" with the vocabulary and merges (Hugging Face tokenizers' format)")
		}
		var sm jsonModel
		if err := json.Unmarshal(sf.Model, &sm); err != nil {
			if isVocab(data) { // a vocab.json holding the token "model"
				return nil, said("", "a vocab.json (token → id) of the slow tokenizer, not a tokenizer.json: %s", hf.TokenizerJSONNeeded(filepath.Dir(file)))
			}
			return nil, fail("model", "%s", componentErr(err))
		}
		if isNull(sm.Vocab) {
			return nil, fail("model.vocab", "missing")
		}
		var kerr *keyErr
		if vocab, kerr = parseVocab(sm.Vocab); kerr != nil {
			return nil, kerr.error(file)
		}
		if pairs, kerr = parseMerges(sm.Merges); kerr != nil {
			return nil, kerr.error(file)
		}
		m = sm.modelCommon
		f = fastFile{AddedTokens: sf.AddedTokens, Normalizer: sf.Normalizer, PreTokenizer: sf.PreTokenizer, Decoder: sf.Decoder}
	}
	if err := checkKeyCase(file, data); err != nil {
		return nil, err
	}
	t := &Tokenizer{unk: -1, cache: map[string]cacheEntry{}}

	// Model.
	if m.Type != nil && *m.Type != "BPE" {
		return nil, unsupported("model.type", "model type %q is not supported (only byte-level BPE)", *m.Type)
	}
	if m.Dropout != nil && *m.Dropout != 0 {
		return nil, unsupported("model.dropout", "BPE dropout is not supported")
	}
	if m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "" {
		return nil, unsupported("model.continuing_subword_prefix", "not supported by byte-level BPE")
	}
	if m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "" {
		return nil, unsupported("model.end_of_word_suffix", "not supported by byte-level BPE")
	}
	if m.ByteFallback {
		return nil, unsupported("model.byte_fallback", "not supported by byte-level BPE")
	}
	if len(vocab) == 0 {
		// Every text would encode to no token at all (or to added tokens
		// alone), said only later, as an empty prompt.
		return nil, fail("model.vocab", "empty: a byte-level BPE vocabulary holds a token for each of the 256 bytes at least, and this one holds none")
	}
	t.vocab = vocab
	// maxKey names the token holding the highest id, so that an id too
	// high to hold is said where it is.
	maxID, maxTok := int64(-1), ""
	for tok, id := range t.vocab {
		if int64(id) > maxID || int64(id) == maxID && tok < maxTok {
			maxID, maxTok = int64(id), tok
		}
	}
	maxKey := fmt.Sprintf("model.vocab[%q]", maxTok)
	for i, a := range f.AddedTokens {
		key := fmt.Sprintf("added_tokens[%d]", i)
		if a.ID == nil || *a.ID < 0 || *a.ID > math.MaxInt32-1 {
			return nil, fail(key+".id", "missing or invalid")
		}
		if a.Content == "" {
			return nil, fail(key+".content", "empty")
		}
		if *a.ID > maxID {
			maxID, maxKey = *a.ID, fmt.Sprintf("%s (%q)", key, a.Content)
		}
	}
	if count := int64(len(t.vocab) + len(f.AddedTokens)); maxID >= 2*count+1024 {
		return nil, fail(maxKey, "id %d is too high for a tokenizer of %d tokens (token ids are too sparse: a damaged id?)", maxID, count)
	}
	n := int(maxID + 1)
	t.tokens = make([]string, n)
	t.raw = make([]string, n)
	t.flags = make([]uint8, n)
	t.rawVocab = make(map[string]int32, len(t.vocab))
	for i := range t.byteID {
		t.byteID[i] = -1
	}
	// Two tokens with one id: refused (Hugging Face's tokenizers decode
	// the id to either, as their map's order falls, and the model has one
	// embedding for both). dupID is the least id held twice, so that the
	// error names the same tokens whatever the map order.
	// held marks the ids taken: the empty token is a token too, so
	// tokens[id] != "" cannot say it.
	dupID := int32(-1)
	held := make([]bool, len(t.tokens))
	for tok, id := range t.vocab {
		if held[id] && (dupID < 0 || id < dupID) {
			dupID = id
		}
		held[id] = true
		t.tokens[id] = tok
	}
	if dupID >= 0 {
		var toks []string
		for tok, id := range t.vocab {
			if id == dupID {
				toks = append(toks, tok)
			}
		}
		sort.Strings(toks)
		return nil, fail(fmt.Sprintf("model.vocab[%q]", toks[1]), "id %d is also the id of %q: two tokens of one id cannot be told apart (Hugging Face's tokenizers decode the id to either, and the model has one embedding for both)", dupID, toks[0])
	}
	for id, tok := range t.tokens {
		if tok == "" {
			continue
		}
		raw, ok := byteLevelDecode(tok)
		if !ok {
			t.raw[id] = tok // as Hugging Face's ByteLevel decoder does
			continue
		}
		t.raw[id] = raw
		t.rawVocab[raw] = int32(id)
		if len(raw) == 1 {
			t.byteID[raw[0]] = int32(id)
		}
	}
	if m.UnkToken != nil && *m.UnkToken != "" {
		id, ok := t.vocab[*m.UnkToken]
		if !ok {
			return nil, fail("model.unk_token", "token %q is not in model.vocab", *m.UnkToken)
		}
		t.unk = id
		t.fuseUnk = m.FuseUnk
	}
	// A byte with no token of its own is dropped from the text as it is
	// encoded, unsaid, as Hugging Face's tokenizers drop a character the
	// vocabulary lacks where there is no unk_token ("hi there" without
	// "h" encodes as "i tere"): the model would be given, and trained on,
	// other text than the one written. A model's own byte-level
	// vocabulary holds all 256; one that lacks any is damaged.
	if t.unk < 0 {
		var missing []string
		for b, id := range t.byteID {
			if id < 0 {
				missing = append(missing, fmt.Sprintf("%q (byte 0x%02x)", string(byteToRune[b]), b))
			}
		}
		if len(missing) > 0 {
			more := ""
			if len(missing) > 3 {
				more = fmt.Sprintf(" and %d more", len(missing)-3)
				missing = missing[:3]
			}
			return nil, fail("model.vocab", "lacks the byte-level token %s%s: a byte-level BPE vocabulary holds a token for each of the 256 bytes, and with no model.unk_token a byte without one is dropped from the text as it is encoded", strings.Join(missing, ", "), more)
		}
	}
	t.ignoreMerges = m.IgnoreMerges
	t.merges = make(map[uint64]merge, len(pairs))
	var ab []byte
	for i, p := range pairs {
		key := func() string { return fmt.Sprintf("model.merges[%d]", i) }
		ia, ok := t.vocab[p[0]]
		if !ok {
			return nil, fail(key(), "token %q is not in model.vocab", p[0])
		}
		ib, ok := t.vocab[p[1]]
		if !ok {
			return nil, fail(key(), "token %q is not in model.vocab", p[1])
		}
		ab = append(append(ab[:0], p[0]...), p[1]...)
		ic, ok := t.vocab[string(ab)]
		if !ok {
			return nil, fail(key(), "merged token %q is not in model.vocab", ab)
		}
		t.merges[pairKey(ia, ib)] = merge{rank: uint32(i), id: ic} // a repeated pair: the last rank wins, as in Hugging Face
	}

	// Normalizer.
	nfc, err := parseNormalizer(f.Normalizer, "normalizer")
	if err != nil {
		return nil, err.error(file)
	}
	t.nfc = nfc

	// Pre-tokenizer.
	if isNull(f.PreTokenizer) {
		return nil, unsupported("pre_tokenizer", "missing (a byte-level tokenizer needs ByteLevel)")
	}
	var flat []flatPre
	if err := flattenPre(f.PreTokenizer, "pre_tokenizer", &flat); err != nil {
		return nil, err.error(file)
	}
	for i, p := range flat {
		last := i == len(flat)-1
		switch {
		case p.byteLevel && !last:
			return nil, unsupported(p.key, "ByteLevel must be the last pre-tokenizer")
		case !p.byteLevel && last:
			return nil, unsupported(p.key, "the last pre-tokenizer must be ByteLevel (this is a byte-level BPE reader)")
		}
		t.stages = append(t.stages, stage{split: p.split, prefixSpace: p.prefixSpace})
	}
	if len(t.stages) > len(state{}.prefix) {
		return nil, unsupported("pre_tokenizer", "too many pre-tokenizers (%d)", len(t.stages))
	}

	// Decoder.
	if !isNull(f.Decoder) {
		var c jsonComponent
		if err := json.Unmarshal(f.Decoder, &c); err != nil {
			return nil, fail("decoder", "%s", componentErr(err))
		}
		if miss := jsonerr.FindCaseMiss(f.Decoder, jsonerr.FieldNames(reflect.TypeOf(c))); miss != nil {
			return nil, said("decoder", "%s", caseMsg(miss))
		}
		if c.Type != "ByteLevel" {
			return nil, unsupported("decoder.type", "decoder %q is not supported (only ByteLevel)", c.Type)
		}
	}

	// Added tokens. Each is a vocabulary entry's own (the same id and
	// content: GPT-2's <|endoftext|>), or has an id of its own. Hugging
	// Face's tokenizers give one whose content is a vocabulary entry of
	// another id that entry's id, and one whose id is another entry's a
	// new id (both with a warning): either way not the id the file says,
	// nor the one the model's embeddings were trained on.
	for i, a := range f.AddedTokens {
		id := int32(*a.ID)
		key := fmt.Sprintf("added_tokens[%d] (%q)", i, a.Content)
		if vid, ok := t.vocab[a.Content]; ok && vid != id {
			return nil, fail(key, "id %d, where model.vocab gives %q the id %d (Hugging Face's tokenizers encode it as %d)", id, a.Content, vid, vid)
		}
		if vt := t.tokens[id]; vt != "" && vt != a.Content {
			return nil, fail(key, "id %d is model.vocab's id of %q, another token (Hugging Face's tokenizers give %q a new id as they load it)", id, vt, a.Content)
		}
	}
	var rawToks, normToks []matchTok
	sort.SliceStable(f.AddedTokens, func(i, j int) bool { return *f.AddedTokens[i].ID < *f.AddedTokens[j].ID })
	for _, a := range f.AddedTokens {
		id := int32(*a.ID)
		normalized := !a.Special
		if a.Normalized != nil {
			normalized = *a.Normalized
		}
		at := AddedToken{ID: id, Content: a.Content, Special: a.Special, SingleWord: a.SingleWord,
			LStrip: a.LStrip, RStrip: a.RStrip, Normalized: normalized}
		if len(t.added) > 0 && t.added[len(t.added)-1].ID == id {
			t.added[len(t.added)-1] = at
		} else {
			t.added = append(t.added, at)
		}
		// A normalised token reads back in its normalised form, as
		// Hugging Face's id_to_token gives it.
		content := a.Content
		if normalized && t.nfc {
			content = norm.NFC.String(content)
		}
		t.tokens[id] = content
		t.raw[id] = content
		t.flags[id] = flagAdded
		if a.Special {
			t.flags[id] |= flagSpecial
		}
	}
	t.addedID = make(map[string]int32, len(t.added))
	for _, a := range t.added {
		t.addedID[t.tokens[a.ID]] = a.ID
	}
	for _, a := range t.added {
		t.addedID[a.Content] = a.ID
		mt := matchTok{pat: a.Content, id: a.ID, single: a.SingleWord, lstrip: a.LStrip, rstrip: a.RStrip}
		if a.Normalized {
			if t.nfc {
				mt.pat = norm.NFC.String(mt.pat)
			}
			normToks = append(normToks, mt)
		} else {
			rawToks = append(rawToks, mt)
		}
	}
	t.rawAdded = newMatcher(rawToks)
	t.normAdded = newMatcher(normToks)
	return t, nil
}

type keyErr struct{ key, msg, do string } // do: as Error's Do

// error is e as a problem of the tokenizer.json file.
func (e *keyErr) error(file string) error {
	return &Error{File: file, Key: e.key, Msg: e.msg, Do: e.do}
}

// The keys read from the file, its model and each added token, as
// encoding/json names them (modelCommon's are jsonModel's too).
var (
	fileKeys  = jsonerr.FieldNames(reflect.TypeFor[jsonFile]())
	modelKeys = append(jsonerr.FieldNames(reflect.TypeFor[modelCommon]()), jsonerr.FieldNames(reflect.TypeFor[jsonModel]())...)
	addedKeys = jsonerr.FieldNames(reflect.TypeFor[jsonAdded]())
)

// checkKeyCase refuses a key of the file (valid JSON, decoded), of its
// model or of an added token that is one of their keys in another case
// ("Model", "Vocab", "Content"): encoding/json reads it as that key, where
// Hugging Face's tokenizers, whose serde matches keys exactly, does not
// (the model is missing; the flag is not set), so the tokenizer would not
// be the one Hugging Face loads. The components (normalizer,
// pre-tokenizer, decoder) are checked where they are decoded. It costs one
// quick pass over the file's bytes (jsonerr.MembersInto), not a decoding.
func checkKeyCase(file string, data []byte) error {
	top, model := jsonerr.MembersInto(data, "model")
	if miss := jsonerr.CaseMissIn(top, fileKeys); miss != nil {
		return &Error{File: file, Msg: caseMsg(miss)}
	}
	if miss := jsonerr.CaseMissIn(model, modelKeys); miss != nil {
		return &Error{File: file, Key: "model", Msg: caseMsg(miss)}
	}
	for _, m := range top {
		if m.Key != "added_tokens" {
			continue
		}
		for i, a := range jsonerr.Elements(m.Value) {
			if miss := jsonerr.CaseMissIn(jsonerr.Members(a), addedKeys); miss != nil {
				return &Error{File: file, Key: fmt.Sprintf("added_tokens[%d]", i), Msg: caseMsg(miss)}
			}
		}
	}
	return nil
}

// caseMsg says that a key is a field's in another case, and how to write
// it.
func caseMsg(miss *jsonerr.CaseMiss) string {
	return fmt.Sprintf("%v: write it %q, as Hugging Face's tokenizers reads it", miss, miss.Field)
}

// parseVocab reads model.vocab in one pass, and only when that fails looks
// at each entry to name the bad one.
func parseVocab(raw json.RawMessage) (map[string]int32, *keyErr) {
	var fast map[string]int64
	if err := json.Unmarshal(raw, &fast); err == nil {
		vocab := make(map[string]int32, len(fast))
		for tok, id := range fast {
			if id < 0 || id > math.MaxInt32-1 {
				return nil, &keyErr{fmt.Sprintf("model.vocab[%q]", tok), fmt.Sprintf("id %d is not a valid token id", id), doRedownload}
			}
			vocab[tok] = int32(id)
		}
		return vocab, nil
	}
	var slow map[string]json.RawMessage
	if err := json.Unmarshal(raw, &slow); err != nil {
		return nil, &keyErr{"model.vocab", "expected an object of token: id, " + err.Error(), doRedownload}
	}
	for tok, v := range slow {
		var id int64
		if err := json.Unmarshal(v, &id); err != nil {
			return nil, &keyErr{fmt.Sprintf("model.vocab[%q]", tok), fmt.Sprintf("id %s is not a valid token id", v), doRedownload}
		}
	}
	return nil, &keyErr{"model.vocab", "invalid", doRedownload}
}

// parseMerges reads model.merges written as "a b" strings or as [a, b]
// pairs, in one pass when it can.
func parseMerges(raw json.RawMessage) ([][2]string, *keyErr) {
	if isNull(raw) {
		return nil, nil
	}
	// The first element's first byte tells the form.
	first := bytes.TrimSpace(raw)
	if len(first) > 0 && first[0] == '[' {
		first = bytes.TrimLeft(first[1:], " \t\r\n")
	}
	var strs []string
	if len(first) > 0 && first[0] == '"' && json.Unmarshal(raw, &strs) == nil {
		pairs := make([][2]string, len(strs))
		for i, s := range strs {
			a, b, ok := strings.Cut(s, " ")
			if !ok || strings.Contains(b, " ") {
				return nil, &keyErr{fmt.Sprintf("model.merges[%d]", i), fmt.Sprintf("merge %q is not two tokens separated by one space", s), doRedownload}
			}
			pairs[i] = [2]string{a, b}
		}
		return pairs, nil
	}
	var lists [][]string
	if len(first) > 0 && first[0] == '[' && json.Unmarshal(raw, &lists) == nil {
		pairs := make([][2]string, len(lists))
		for i, l := range lists {
			if len(l) != 2 {
				return nil, &keyErr{fmt.Sprintf("model.merges[%d]", i), fmt.Sprintf("a merge pair has two tokens, not %d", len(l)), doRedownload}
			}
			pairs[i] = [2]string{l[0], l[1]}
		}
		return pairs, nil
	}
	// Mixed or malformed: look at each entry.
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, &keyErr{"model.merges", "expected an array, " + err.Error(), doRedownload}
	}
	pairs := make([][2]string, len(items))
	for i, it := range items {
		var s string
		var l []string
		if json.Unmarshal(it, &s) == nil {
			a, b, ok := strings.Cut(s, " ")
			if !ok || strings.Contains(b, " ") {
				return nil, &keyErr{fmt.Sprintf("model.merges[%d]", i), fmt.Sprintf("merge %q is not two tokens separated by one space", s), doRedownload}
			}
			pairs[i] = [2]string{a, b}
		} else if json.Unmarshal(it, &l) == nil && len(l) == 2 {
			pairs[i] = [2]string{l[0], l[1]}
		} else {
			return nil, &keyErr{fmt.Sprintf("model.merges[%d]", i), fmt.Sprintf("a merge is a string \"a b\" or a pair [\"a\", \"b\"], not %s", it), doRedownload}
		}
	}
	return pairs, nil
}

func parseNormalizer(raw json.RawMessage, key string) (nfc bool, _ *keyErr) {
	if isNull(raw) {
		return false, nil
	}
	var c struct {
		Type        string            `json:"type"`
		Normalizers []json.RawMessage `json:"normalizers"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return false, &keyErr{key, err.Error(), doRedownload}
	}
	if miss := jsonerr.FindCaseMiss(raw, jsonerr.FieldNames(reflect.TypeOf(c))); miss != nil {
		return false, &keyErr{key, caseMsg(miss), ""}
	}
	switch c.Type {
	case "NFC":
		return true, nil
	case "Sequence":
		for i, n := range c.Normalizers {
			sub, err := parseNormalizer(n, fmt.Sprintf("%s.normalizers[%d]", key, i))
			if err != nil {
				return false, err
			}
			nfc = nfc || sub
		}
		return nfc, nil
	}
	return false, &keyErr{key + ".type", fmt.Sprintf("normalizer %q is not supported (only NFC or none)", c.Type), doByteLevel}
}

type flatPre struct {
	key         string
	byteLevel   bool
	prefixSpace bool
	split       func(string, int) int
}

func flattenPre(raw json.RawMessage, key string, out *[]flatPre) *keyErr {
	var c struct {
		Type           string            `json:"type"`
		PreTokenizers  []json.RawMessage `json:"pretokenizers"`
		AddPrefixSpace bool              `json:"add_prefix_space"`
		UseRegex       *bool             `json:"use_regex"`
		Pattern        json.RawMessage   `json:"pattern"`
		Behavior       string            `json:"behavior"`
		Invert         bool              `json:"invert"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return &keyErr{key, err.Error(), doRedownload}
	}
	if miss := jsonerr.FindCaseMiss(raw, jsonerr.FieldNames(reflect.TypeOf(c))); miss != nil {
		return &keyErr{key, caseMsg(miss), ""}
	}
	switch c.Type {
	case "Sequence":
		for i, p := range c.PreTokenizers {
			if err := flattenPre(p, fmt.Sprintf("%s.pretokenizers[%d]", key, i), out); err != nil {
				return err
			}
		}
		if len(c.PreTokenizers) == 0 {
			return &keyErr{key + ".pretokenizers", "empty Sequence", doRedownload}
		}
		return nil
	case "ByteLevel":
		p := flatPre{key: key, byteLevel: true, prefixSpace: c.AddPrefixSpace}
		if c.UseRegex == nil || *c.UseRegex { // Hugging Face's default is true
			p.split = scanGPT2
		}
		*out = append(*out, p)
		return nil
	case "Split":
		var pat struct {
			Regex  *string `json:"Regex"`
			String *string `json:"String"`
		}
		if miss := jsonerr.FindCaseMiss(c.Pattern, jsonerr.FieldNames(reflect.TypeOf(pat))); miss != nil {
			return &keyErr{key + ".pattern", caseMsg(miss), ""}
		}
		if err := json.Unmarshal(c.Pattern, &pat); err != nil || (pat.Regex == nil && pat.String == nil) {
			return &keyErr{key + ".pattern", "expected {\"Regex\": …}", doRedownload}
		}
		if pat.Regex == nil {
			return &keyErr{key + ".pattern", fmt.Sprintf("string pattern %q is not supported (only the Qwen2 and GPT-2 regexes)", *pat.String), doByteLevel}
		}
		var split func(string, int) int
		switch *pat.Regex {
		case qwen2Pattern:
			split = scanQwen2
		case gpt2Pattern:
			split = scanGPT2
		default:
			return &keyErr{key + ".pattern.Regex", fmt.Sprintf("unknown split pattern %q (only the Qwen2 and GPT-2 pre-tokenizer regexes are implemented)", *pat.Regex), doByteLevel}
		}
		if c.Behavior != "Isolated" {
			return &keyErr{key + ".behavior", fmt.Sprintf("split behavior %q is not supported (only Isolated)", c.Behavior), doByteLevel}
		}
		if c.Invert {
			return &keyErr{key + ".invert", "inverted splits are not supported", doByteLevel}
		}
		*out = append(*out, flatPre{key: key, split: split})
		return nil
	}
	return &keyErr{key + ".type", fmt.Sprintf("pre-tokenizer %q is not supported (only Split, ByteLevel, Sequence)", c.Type), doByteLevel}
}

// componentErr says why a component (model, decoder) did not decode, in
// JSON's words: the component itself of the wrong kind, or one of its
// fields (jsonerr.Say), never encoding/json's Go types.
func componentErr(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field == "" {
		return fmt.Sprintf("a JSON %s where an object is wanted", te.Value)
	}
	return jsonerr.Say(err)
}
