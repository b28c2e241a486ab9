package hf

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/rlt-workbench/rlt/engine/jsonerr"
)

// ConfigFile is the name of a model folder's configuration.
const ConfigFile = "config.json"

// Config holds the keys of a Hugging Face config.json that a Qwen2-style
// decoder needs. Keys it does not model are kept in Extra and written back
// by Write.
type Config struct {
	ModelType     string   // model_type; "qwen2" when absent
	Architectures []string // architectures, e.g. ["Qwen2ForCausalLM"]

	VocabSize             int // vocab_size (required)
	HiddenSize            int // hidden_size (required)
	IntermediateSize      int // intermediate_size (required)
	NumHiddenLayers       int // num_hidden_layers (required)
	NumAttentionHeads     int // num_attention_heads (required)
	NumKeyValueHeads      int // num_key_value_heads; = NumAttentionHeads when absent
	MaxPositionEmbeddings int // max_position_embeddings; 32768 when absent

	RMSNormEps float64 // rms_norm_eps; 1e-6 when absent
	// RopeTheta is rope_theta at the top level, or inside rope_parameters as
	// newer transformers write it; 10000 when absent.
	RopeTheta float64
	// RopeType is the rope_type (or type) of rope_parameters / rope_scaling,
	// "" when there is none. Validate accepts only "" and "default".
	RopeType string
	ropeKey  string // the key RopeType came from, for Validate's words

	TieWordEmbeddings bool // tie_word_embeddings; false when absent
	// QKVBias: the q/k/v projections have biases. Qwen2 always has them,
	// as in transformers' and vLLM's Qwen2, which have no attention_bias
	// key: it is true for model_type qwen2 whatever an attention_bias key
	// says (read as a boolean, ignored, not written back), so no
	// checkpoint's biases are dropped, and a checkpoint without them is
	// refused naming the tensor.
	QKVBias          bool
	HiddenAct        string // hidden_act; "silu" when absent
	TorchDType       string // torch_dtype (or dtype), e.g. "bfloat16"; may be ""
	UseSlidingWindow bool   // use_sliding_window; Validate rejects true
	HeadDim          int    // head_dim if the file gives one, else 0

	BOSTokenID []int // bos_token_id: an int or a list; nil when absent or null
	EOSTokenID []int // eos_token_id: an int or a list; nil when absent or null

	// Extra holds every other key verbatim (including rope_parameters and
	// rope_scaling, whose rope fields are also read into the fields above).
	Extra map[string]json.RawMessage
}

// Defaults for keys a config.json may omit.
const (
	DefaultRopeTheta             = 10000.0
	DefaultRMSNormEps            = 1e-6
	DefaultMaxPositionEmbeddings = 32768
)

// HeadSize is the per-head dimension: HeadDim if set, else hidden/heads.
func (c Config) HeadSize() int {
	if c.HeadDim > 0 {
		return c.HeadDim
	}
	if c.NumAttentionHeads <= 0 {
		return 0
	}
	return c.HiddenSize / c.NumAttentionHeads
}

// LoadConfig reads and validates a config.json. path may also name the
// model folder that holds it.
func LoadConfig(path string) (Config, error) {
	if filepath.Base(path) == ConfigFile {
		if err := FileNotFolder(filepath.Dir(path)); err != nil { // a model folder's config.json, the folder a file
			return Config{}, err
		}
	}
	st, err := os.Stat(path)
	switch {
	case err == nil && st.IsDir():
		path = filepath.Join(path, ConfigFile)
	case errors.Is(err, fs.ErrNotExist) && filepath.Ext(path) != ".json":
		return Config{}, missingFolder(path)
	case errors.Is(err, fs.ErrNotExist):
		// A config file named directly: in a folder that exists, the
		// folder is said for what it is below.
		dst, derr := os.Stat(filepath.Dir(path))
		if errors.Is(derr, fs.ErrNotExist) && filepath.Base(path) == ConfigFile { // a model folder's config.json
			return Config{}, missingFolder(filepath.Dir(path))
		}
		if derr != nil || !dst.IsDir() || filepath.Base(path) != ConfigFile {
			return Config{}, fmt.Errorf("%s does not exist", path)
		}
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && filepath.Base(path) == ConfigFile {
		if ff, serr := ScanFolder(filepath.Dir(path)); serr == nil { // say what the folder is instead
			if cerr := ff.Check(false); cerr != nil {
				return Config{}, cerr
			}
		}
	}
	if err != nil {
		return Config{}, fmt.Errorf("load config: %w", err)
	}
	c, err := ParseConfig(data)
	var ce *ConfigError
	if errors.As(err, &ce) { // "load config PATH:LINE:COL: …"
		ce.File = path
		return Config{}, fmt.Errorf("load config %w", ce)
	}
	if err != nil {
		return Config{}, fmt.Errorf("load config %s: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("load config %s: %w", path, err)
	}
	return c, nil
}

// notAConfig says what data, which does not hold a JSON object, is
// instead where it is known: nothing, a safetensors weights file, bytes
// that are not text; else how it starts.
func notAConfig(data, trimmed []byte) error {
	switch {
	case len(trimmed) == 0:
		return errors.New("not a JSON object: the file is empty (a config.json is one JSON object of the model's shape: vocab_size, hidden_size, …)")
	case len(data) > 8 && data[8] == '{' && binary.LittleEndian.Uint64(data) <= uint64(len(data)-8):
		return errors.New("not a JSON object: this is a safetensors weights file, not a config.json: give the model folder's config.json, or the folder")
	case !utf8.Valid(trimmed) || bytes.IndexByte(trimmed, 0) >= 0:
		return errors.New("not a JSON object: this is not text (a weights or other binary file?), not a config.json: give the model folder's config.json, or the folder")
	}
	return fmt.Errorf("not a JSON object (starts with %q): a config.json is one JSON object of the model's shape", preview(trimmed))
}

// keys that ParseConfig turns into fields (and that Write regenerates).
var modelledKeys = []string{
	"model_type", "architectures", "vocab_size", "hidden_size", "intermediate_size",
	"num_hidden_layers", "num_attention_heads", "num_key_value_heads", "max_position_embeddings",
	"rms_norm_eps", "rope_theta", "tie_word_embeddings", "attention_bias", "hidden_act",
	"torch_dtype", "dtype", "use_sliding_window", "head_dim", "bos_token_id", "eos_token_id",
}

// ParseConfig decodes config.json contents without validating the values
// (see Validate). Missing required keys and keys of the wrong JSON type are
// errors that name the key; one that names a value is a *ConfigError, its
// place in the file beside it. The file is read as Python's json module
// reads it, as transformers does: NaN, Infinity and -Infinity are numbers
// (encoding/json refused the whole file for one), taken in a key this
// package does not read (kept in Extra and written back as written) and
// refused, with the key, in one it reads.
func ParseConfig(data []byte) (Config, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return Config{}, notAConfig(data, trimmed)
	}
	clean, nonFinite := finiteStandIns(data)
	if err := json.Unmarshal(clean, new(map[string]json.RawMessage)); err != nil {
		return Config{}, fmt.Errorf("not valid JSON: %s", jsonerr.At(data, standInSaid(clean, data, nonFinite, err)))
	}
	m := map[string]json.RawMessage{}
	for _, mb := range jsonerr.Members(clean) {
		m[mb.Key] = mb.Value // the last of a key twice, as Python and encoding/json take it
	}
	p := cfgParser{m: m, data: clean, orig: data, nonFinite: nonFinite}
	var c Config
	c.ModelType = p.str("model_type", "qwen2")
	c.Architectures = p.strList("architectures")
	c.VocabSize = p.int("vocab_size", -1)
	c.HiddenSize = p.int("hidden_size", -1)
	c.IntermediateSize = p.int("intermediate_size", -1)
	c.NumHiddenLayers = p.int("num_hidden_layers", -1)
	c.NumAttentionHeads = p.int("num_attention_heads", -1)
	c.NumKeyValueHeads = p.int("num_key_value_heads", c.NumAttentionHeads)
	c.MaxPositionEmbeddings = p.int("max_position_embeddings", DefaultMaxPositionEmbeddings)
	c.HeadDim = p.int("head_dim", 0)
	c.RMSNormEps = p.float("rms_norm_eps", DefaultRMSNormEps, "a small positive number, such as 1e-06")
	c.TieWordEmbeddings = p.bool("tie_word_embeddings", false)
	p.bool("attention_bias", false) // a boolean if present, else ignored: see QKVBias
	c.QKVBias = c.ModelType == "qwen2"
	c.HiddenAct = p.str("hidden_act", "silu")
	c.TorchDType = p.str("torch_dtype", "")
	if c.TorchDType == "" {
		c.TorchDType = p.str("dtype", "")
	}
	c.UseSlidingWindow = p.bool("use_sliding_window", false)
	c.BOSTokenID = p.tokenIDs("bos_token_id")
	c.EOSTokenID = p.tokenIDs("eos_token_id")
	c.RopeTheta, c.RopeType, c.ropeKey = p.rope()
	if p.err != nil {
		return Config{}, p.err
	}
	for _, k := range modelledKeys {
		delete(m, k)
	}
	for k, v := range m { // as written, NaN and all: a copy, data being the caller's
		m[k] = bytes.Clone(p.written(v))
	}
	if len(m) > 0 {
		c.Extra = m
	}
	return c, nil
}

// ConfigError is a value of config.json that ParseConfig cannot take,
// with its place: "config.json:3:17: hidden_size 896.0 is …", the form of
// a compiler's error, which an editor opens at the place.
type ConfigError struct {
	File      string // the file as the caller names it; "" says config.json
	Line, Col int    // the value's place, 1-based; 0 for a key not there
	Err       error
}

func (e *ConfigError) Error() string {
	file := e.File
	if file == "" {
		file = ConfigFile
	}
	if e.Line == 0 { // a key that is not there has no place
		return fmt.Sprintf("%s: %v", file, e.Err)
	}
	return fmt.Sprintf("%s:%d:%d: %v", file, e.Line, e.Col, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

// finiteStandIns is data with each NaN, Infinity and -Infinity that
// stands as a value (outside strings, between a value's delimiters)
// replaced by a number of the same length that encoding/json reads (0e0,
// 1e000000, -1e000000), and the offsets of those replaced with the words
// written there. The lengths are kept so that every place in the copy is
// the place in data: a syntax error elsewhere is said where it is, and a
// value's written text is data at the copy's offsets. Python's json
// module reads exactly these three words (not -NaN, not nan); any other
// use of them stays as written, for encoding/json to refuse.
func finiteStandIns(data []byte) ([]byte, map[int]string) {
	if !bytes.ContainsAny(data, "NI") {
		return data, nil
	}
	var out []byte
	var at map[int]string
	delim := func(i int, after string) bool { // a value may begin after data[i] or end before it
		return i < 0 || i >= len(data) || strings.IndexByte(after+" \t\n\r", data[i]) >= 0
	}
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '"':
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
				}
			}
			continue
		case 'N', 'I', '-':
		default:
			continue
		}
		for _, w := range [...]struct{ word, standIn string }{{"NaN", "0e0"}, {"Infinity", "1e000000"}, {"-Infinity", "-1e000000"}} {
			if bytes.HasPrefix(data[i:], []byte(w.word)) && delim(i-1, ",:[") && delim(i+len(w.word), ",]}") {
				if out == nil {
					out, at = bytes.Clone(data), map[int]string{}
				}
				copy(out[i:], w.standIn)
				at[i] = w.word
				i += len(w.word) - 1
				break
			}
		}
	}
	if out == nil {
		return data, nil
	}
	return out, at
}

// standInSaid is err, a syntax error in clean (finiteStandIns' copy of
// data), as said of data: where the byte in error is one of a stand-in
// (NaN where no value may stand, as an object's key: {"a":1, NaN :1}),
// clean is decoded again with that word as written, so that the error
// names its 'N', not the stand-in's '0'.
func standInSaid(clean, data []byte, at map[int]string, err error) error {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return err
	}
	bad := int(se.Offset) - 1 // encoding/json's offset counts the byte in error
	for start, word := range at {
		if bad >= start && bad < start+len(word) {
			again := bytes.Clone(clean)
			copy(again[start:], data[start:start+len(word)])
			if err2 := json.Unmarshal(again, new(map[string]json.RawMessage)); err2 != nil {
				return err2
			}
		}
	}
	return err
}

// cfgParser reads typed values from a decoded JSON object, remembering the
// first error.
type cfgParser struct {
	m         map[string]json.RawMessage // values: slices of data
	data      []byte                     // the file, NaN and Infinity stood in for (finiteStandIns)
	orig      []byte                     // the file as written
	nonFinite map[int]string             // finiteStandIns' offsets
	err       error
}

// offset is where raw, a slice of p.data, starts in it; -1 when raw is
// no such slice.
func (p *cfgParser) offset(raw []byte) int {
	off := cap(p.data) - cap(raw)
	if len(raw) == 0 || off < 0 || off+len(raw) > len(p.data) || &p.data[off] != &raw[0] {
		return -1
	}
	return off
}

// written is raw as the file writes it (NaN where p.data holds 0e0).
func (p *cfgParser) written(raw []byte) []byte {
	if off := p.offset(raw); off >= 0 && p.nonFinite != nil {
		return p.orig[off : off+len(raw)]
	}
	return raw
}

// isNonFinite reports whether raw is a NaN, Infinity or -Infinity.
func (p *cfgParser) isNonFinite(raw []byte) bool {
	off := p.offset(bytes.TrimSpace(raw))
	_, ok := p.nonFinite[off]
	return ok && off >= 0
}

// setErr keeps err, about the value raw, as the first error, with raw's
// place when it has one.
func (p *cfgParser) setErr(raw []byte, err error) {
	if p.err != nil {
		return
	}
	if off := p.offset(bytes.TrimSpace(raw)); off >= 0 {
		line, col := jsonerr.LineCol(p.data, int64(off))
		err = &ConfigError{Line: line, Col: col, Err: err}
	}
	p.err = err
}

// fail says that key's value raw is not want, in WholeNumber's words:
// the key, the value, what it is, and what to write (it said 'key
// "rms_norm_eps": want a number, found a string "1e-6"', where a whole
// number's key said the value first and ended with the fix).
func (p *cfgParser) fail(key, want string, raw json.RawMessage) {
	kind, shown := jsonValue(p.written(raw))
	p.setErr(raw, fmt.Errorf("%s %s is %s, not %s: fix the file: write %s", key, shown, kind, want, want))
}

// get returns the raw value of key, or nil when absent or null.
func (p *cfgParser) get(key string) json.RawMessage {
	raw, ok := p.m[key]
	if !ok || string(bytes.TrimSpace(raw)) == "null" {
		return nil
	}
	return raw
}

// sizeFix is what to write in place of a size that is no whole number.
const sizeFix = "fix the file: write a whole number in digits, such as 896"

// int reads a size. A whole float (896.0, 1e2), which Python's json
// module reads as a float, is refused, unlike a token id's (WholeNumber):
// transformers keeps the float and PyTorch builds no layer of it
// (nn.Linear(896.0, …) raises a TypeError, as does range(24.0) for the
// layers), so a folder rlt took would be one transformers cannot load.
func (p *cfgParser) int(key string, def int) int {
	raw := p.get(key)
	if raw == nil {
		if def == -1 && p.err == nil {
			p.err = &ConfigError{Err: fmt.Errorf("no key %q, which the model's shape needs: fix the file: add \"%s\": the model's value, a whole number such as 896", key, key)}
		}
		return def
	}
	written := bytes.TrimSpace(p.written(raw))
	if p.isNonFinite(raw) {
		p.setErr(raw, fmt.Errorf("%s %s is not a whole number, no size of a layer: %s", key, written, sizeFix))
		return def
	}
	v, err := WholeNumber("", key, written, sizeFix)
	if err != nil {
		p.setErr(raw, err)
		return int(v)
	}
	if bytes.ContainsAny(written, ".eE") {
		p.setErr(raw, fmt.Errorf("%s %s is a float, and transformers builds layers of whole sizes only (PyTorch's nn.Linear refuses a float): fix the file: write %d", key, written, v))
	}
	return int(v)
}

// tokenIDFix is what to write in place of a bos_token_id or eos_token_id
// that is no whole number.
const tokenIDFix = "fix the file: write the id of a token, or a list of them, or remove the key"

// float reads a number this package computes with; fix is what to write
// in place of a NaN or an Infinity, which would make every output NaN.
func (p *cfgParser) float(key string, def float64, fix string) float64 {
	raw := p.get(key)
	if raw == nil {
		return def
	}
	if p.isNonFinite(raw) {
		p.setErr(raw, fmt.Errorf("%s %s is not a finite number, and every output computed with it would be NaN: fix the file: write %s", key, bytes.TrimSpace(p.written(raw)), fix))
		return def
	}
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil {
		p.fail(key, "a number", raw)
	}
	return v
}

func (p *cfgParser) bool(key string, def bool) bool {
	raw := p.get(key)
	if raw == nil {
		return def
	}
	var v bool
	if err := json.Unmarshal(raw, &v); err != nil {
		p.fail(key, "true or false", raw)
	}
	return v
}

func (p *cfgParser) str(key, def string) string {
	raw := p.get(key)
	if raw == nil {
		return def
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		p.fail(key, "a string", raw)
	}
	return v
}

func (p *cfgParser) strList(key string) []string {
	raw := p.get(key)
	if raw == nil {
		return nil
	}
	var v []string
	if err := json.Unmarshal(raw, &v); err != nil {
		p.fail(key, "a list of strings", raw)
	}
	return v
}

func (p *cfgParser) tokenIDs(key string) []int {
	raw := p.get(key)
	if raw == nil {
		return nil
	}
	items, list := NumberOrList(raw) // slices of p.data, to say an item's place
	out := make([]int, len(items))
	for i, r := range items {
		// Only this key's own problem is said: one of an earlier key
		// (p.err already set) is the one said.
		name := key
		if list {
			name = ItemKey(key, p.written(raw), i)
		}
		v, err := WholeNumber("", name, p.written(r), tokenIDFix)
		if err != nil {
			p.setErr(r, err)
			return nil
		}
		out[i] = int(v)
	}
	return out
}

// ropeThetaFix is what to write in place of a rope_theta that is not a
// positive number.
const ropeThetaFix = "a positive number, such as 1000000.0 (Qwen2.5's), or remove the key for the default 10000"

// rope reads rope_theta and the rope type from the top level,
// rope_parameters and rope_scaling. A rope_theta written 0 or negative
// is refused at its place: it was read as absent (the 10000 default),
// and transformers takes it as written, its frequencies
// 1/rope_theta^(2i/d) then infinite or NaN and every output NaN.
func (p *cfgParser) rope() (theta float64, typ, from string) {
	positive := func(sub *cfgParser) float64 {
		t := sub.float("rope_theta", 0, ropeThetaFix)
		if raw := sub.get("rope_theta"); raw != nil && sub.err == nil && !(t > 0) {
			sub.setErr(raw, fmt.Errorf("rope_theta %s is not a positive number: RoPE's frequencies 1/rope_theta^(2i/d) would be infinite or NaN: fix the file: write %s",
				bytes.TrimSpace(raw), ropeThetaFix))
		}
		return t
	}
	theta = positive(p)
	for _, key := range []string{"rope_parameters", "rope_scaling"} {
		raw := p.get(key)
		if raw == nil {
			continue
		}
		if bytes.TrimSpace(raw)[0] != '{' {
			p.fail(key, "an object", raw)
			return 0, "", ""
		}
		sub := cfgParser{m: map[string]json.RawMessage{}, data: p.data, orig: p.orig, nonFinite: p.nonFinite}
		for _, mb := range jsonerr.Members(bytes.TrimSpace(raw)) {
			sub.m[mb.Key] = mb.Value
		}
		if t := positive(&sub); t != 0 && sub.err == nil {
			if theta != 0 && t != theta {
				if p.err == nil {
					p.err = fmt.Errorf("%s: rope_theta %v disagrees with the top-level rope_theta %v", key, t, theta)
				}
				return 0, "", ""
			}
			theta = t
		}
		t := sub.str("rope_type", "")
		if t == "" {
			t = sub.str("type", "")
		}
		if t != "" && (typ == "" || typ == "default") { // a scaling wins over a default beside it
			typ, from = t, key
		}
		if sub.err != nil && p.err == nil {
			var ce *ConfigError
			if errors.As(sub.err, &ce) {
				ce.Err = fmt.Errorf("%s: %w", key, ce.Err)
				p.err = ce
			} else {
				p.err = fmt.Errorf("%s: %w", key, sub.err)
			}
		}
	}
	if theta == 0 {
		theta = DefaultRopeTheta
	}
	return theta, typ, from
}

func describeJSON(raw json.RawMessage) string {
	kind, shown := jsonValue(raw)
	return kind + " " + shown
}

// jsonValue is the kind of the JSON value raw ("a string", "a list") and
// raw as shown in an error: its first 40 bytes, cut at a character's
// start (WholeNumber's cut).
func jsonValue(raw json.RawMessage) (kind, shown string) {
	s := strings.TrimSpace(string(raw))
	shown = shortJSON(s)
	kind = "a number"
	switch {
	case s == "":
		kind = "nothing"
	case s[0] == '"':
		kind = "a string"
	case s[0] == '{':
		kind = "an object"
	case s[0] == '[':
		kind = "a list"
	case s == "true" || s == "false":
		kind = "a boolean"
	}
	return kind, shown
}

// Validate checks that the configuration describes a Qwen2-style decoder
// this project can run. It reports every problem found, one per line.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.ModelType != "qwen2" {
		bad("model_type is %q, want \"qwen2\" (only Qwen2-style models are supported)", c.ModelType)
	}
	for _, kv := range []struct {
		key string
		v   int
	}{
		{"vocab_size", c.VocabSize}, {"hidden_size", c.HiddenSize}, {"intermediate_size", c.IntermediateSize},
		{"num_hidden_layers", c.NumHiddenLayers}, {"num_attention_heads", c.NumAttentionHeads},
		{"num_key_value_heads", c.NumKeyValueHeads}, {"max_position_embeddings", c.MaxPositionEmbeddings},
	} {
		if kv.v <= 0 {
			bad("%s is %d, want a positive integer", kv.key, kv.v)
		}
	}
	if c.NumAttentionHeads > 0 && c.HiddenSize > 0 {
		if c.HiddenSize%c.NumAttentionHeads != 0 {
			bad("num_attention_heads %d does not divide hidden_size %d", c.NumAttentionHeads, c.HiddenSize)
		} else if hd := c.HiddenSize / c.NumAttentionHeads; c.HeadDim != 0 && c.HeadDim != hd {
			bad("head_dim %d differs from hidden_size/num_attention_heads = %d, which is not supported", c.HeadDim, hd)
		} else if hd%2 != 0 {
			bad("head size hidden_size/num_attention_heads = %d is odd, but RoPE needs an even head size", hd)
		}
	}
	if c.NumKeyValueHeads > 0 && c.NumAttentionHeads > 0 && c.NumAttentionHeads%c.NumKeyValueHeads != 0 {
		bad("num_key_value_heads %d does not divide num_attention_heads %d", c.NumKeyValueHeads, c.NumAttentionHeads)
	}
	if n := c.paramsAbout(); n*4 >= math.MaxInt64 {
		bad("hidden_size %d, intermediate_size %d, num_hidden_layers %d and vocab_size %d make about %.3g parameters, %.3g bytes at float32: "+
			"past what a size in bytes can count (2^63), let alone a disk or a memory hold: check these keys (a mistyped digit?)",
			c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers, c.VocabSize, n, n*4)
	}
	if !(c.RMSNormEps > 0) || math.IsInf(c.RMSNormEps, 0) {
		bad("rms_norm_eps is %v, want a small positive number", c.RMSNormEps)
	}
	if !(c.RopeTheta > 0) || math.IsInf(c.RopeTheta, 0) {
		bad("rope_theta is %v, want a positive number", c.RopeTheta)
	}
	if c.RopeType != "" && c.RopeType != "default" {
		key := c.ropeKey
		if key == "" {
			key = "rope_scaling"
		}
		within := fmt.Sprintf("max_position_embeddings (%d)", c.MaxPositionEmbeddings)
		if n := c.extraInt(key, "original_max_position_embeddings"); n > 0 {
			within = fmt.Sprintf("original_max_position_embeddings (%d)", n)
		}
		bad("%s: rope type %q is not supported (only the default RoPE): for contexts within %s, remove %s from config.json "+
			"if the model was trained without it (Qwen2.5's model cards add it only for longer texts)", key, c.RopeType, within, key)
	}
	if c.HiddenAct != "silu" {
		bad("hidden_act is %q, want \"silu\"", c.HiddenAct)
	}
	if c.UseSlidingWindow {
		window := "sliding_window"
		if n := c.extraInt("sliding_window", ""); n > 0 {
			window = fmt.Sprintf("sliding_window (%d tokens)", n)
		}
		bad("use_sliding_window is true, which is not supported (attention over the whole context only): set it to false "+
			"in config.json, which computes the same for sequences within %s", window)
	}
	switch c.TorchDType {
	case "", "auto", "float32", "bfloat16", "float16":
		// "auto": the weights' own type, which the safetensors header says
	default:
		bad("torch_dtype is %q, want float32, bfloat16, float16 or auto", c.TorchDType)
	}
	for _, ids := range []struct {
		key string
		v   []int
	}{{"bos_token_id", c.BOSTokenID}, {"eos_token_id", c.EOSTokenID}} {
		for _, id := range ids.v {
			// Said with the way on: an id no token has could never be
			// generated (an end of sequence that never ends anything).
			switch {
			case id < 0 && c.VocabSize <= 0: // vocab_size is said wrong on its own
				bad("%s %d is negative, no token's id: write the id of one of the model's tokens, or remove it", ids.key, id)
			case id < 0:
				bad("%s %d is negative, outside the vocabulary [0, %d): write the id of one of the model's tokens (0 to %d), or remove it", ids.key, id, c.VocabSize, c.VocabSize-1)
			case c.VocabSize > 0 && id >= c.VocabSize:
				bad("%s %d is outside the vocabulary [0, %d): write the id of one of the model's tokens (0 to %d), or remove it", ids.key, id, c.VocabSize, c.VocabSize-1)
			}
		}
	}
	return errors.Join(errs...)
}

// paramsAbout is about how many parameters the shape holds, counted in
// float64 so that a shape of a mistyped size does not wrap around: its
// count in int did (hidden_size 1000000000 made -6446739176709551616),
// and rlt model init, whose disk check weighed that, went on drawing a
// tensor of 10^18 weights. 0 where a size is not positive (said on its
// own).
func (c Config) paramsAbout() float64 {
	d, f, v, l := float64(c.HiddenSize), float64(c.IntermediateSize), float64(c.VocabSize), float64(c.NumHiddenLayers)
	if d <= 0 || f <= 0 || v <= 0 || l <= 0 || c.NumAttentionHeads <= 0 || c.NumKeyValueHeads <= 0 {
		return 0
	}
	kv := d / float64(c.NumAttentionHeads) * float64(c.NumKeyValueHeads) // the k and v projections' rows
	layer := 2*d + d*d + 2*kv*d + d*d + 3*f*d + d + 2*kv                 // norms, q, k, v, o, MLP, biases
	emb := v * d
	if !c.TieWordEmbeddings {
		emb *= 2
	}
	return emb + l*layer + d
}

// extraInt is the integer Extra[key] holds, or with sub the integer
// Extra[key][sub]; 0 when there is none.
func (c Config) extraInt(key, sub string) int {
	raw := c.Extra[key]
	if sub != "" {
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return 0
		}
		raw = obj[sub]
	}
	n, _ := WholeNumber("", "", raw, "")
	return int(n)
}

// Write writes the configuration as config.json at path (atomically),
// keys sorted and indented as transformers does. Extra keys are written
// back; a rope_parameters object gets the current RopeTheta.
func (c Config) Write(path string) error {
	js, err := c.MarshalJSON()
	if err != nil {
		return fmt.Errorf("write config %s: %w", path, err)
	}
	js = append(js, '\n')
	return writeAtomic(path, func(w io.Writer) error { _, err := w.Write(js); return err })
}

// WriteConfig is c.Write(path).
func WriteConfig(path string, c Config) error { return c.Write(path) }

// MarshalJSON renders the config.json contents (indented, keys sorted).
func (c Config) MarshalJSON() ([]byte, error) {
	out := map[string]any{}
	extra := make(map[string]json.RawMessage, len(c.Extra))
	hid := false
	for k, v := range c.Extra {
		extra[k] = v
		if clean, at := finiteStandIns(v); at != nil { // for encoding/json, which writes no NaN
			extra[k], hid = nonFiniteHidden(clean, at), true
		}
		out[k] = extra[k]
	}
	if raw, ok := extra["rope_parameters"]; ok {
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) == nil && obj != nil {
			if _, has := obj["rope_theta"]; has {
				obj["rope_theta"] = pyFloat(c.RopeTheta)
				out["rope_parameters"] = obj
			}
		}
	}
	out["model_type"] = c.ModelType
	if c.Architectures != nil {
		out["architectures"] = c.Architectures
	}
	out["vocab_size"] = c.VocabSize
	out["hidden_size"] = c.HiddenSize
	out["intermediate_size"] = c.IntermediateSize
	out["num_hidden_layers"] = c.NumHiddenLayers
	out["num_attention_heads"] = c.NumAttentionHeads
	out["num_key_value_heads"] = c.NumKeyValueHeads
	out["max_position_embeddings"] = c.MaxPositionEmbeddings
	out["rms_norm_eps"] = pyFloat(c.RMSNormEps)
	out["rope_theta"] = pyFloat(c.RopeTheta)
	out["tie_word_embeddings"] = c.TieWordEmbeddings
	if c.QKVBias != (c.ModelType == "qwen2") { // a model made without biases says so
		out["attention_bias"] = c.QKVBias
	}
	out["hidden_act"] = c.HiddenAct
	if c.TorchDType != "" {
		out["torch_dtype"] = c.TorchDType
	}
	out["use_sliding_window"] = c.UseSlidingWindow
	if c.HeadDim != 0 {
		out["head_dim"] = c.HeadDim
	}
	for key, ids := range map[string][]int{"bos_token_id": c.BOSTokenID, "eos_token_id": c.EOSTokenID} {
		switch len(ids) {
		case 0:
			if ids != nil { // an empty list stays one (nil: absent or null)
				out[key] = []int{}
			}
		case 1:
			out[key] = ids[0]
		default:
			out[key] = ids
		}
	}
	js, err := json.MarshalIndent(out, "", "  ")
	if err == nil && hid {
		for _, w := range nonFiniteWords {
			js = bytes.ReplaceAll(js, []byte(`"\u0000`+w+`"`), []byte(w))
		}
	}
	return js, err
}

// nonFiniteWords are the words of Python's json module for the floats
// that are not finite.
var nonFiniteWords = [...]string{"NaN", "-Infinity", "Infinity"}

// nonFiniteHidden is clean, finiteStandIns' copy of a value, with each
// stand-in at an offset of at as a string encoding/json writes as is, "\u0000NaN",
// which MarshalJSON turns back into the word: an extra key's NaN or
// Infinity is written back as transformers wrote it (it was refused as
// no JSON, the file no longer written).
func nonFiniteHidden(clean []byte, at map[int]string) json.RawMessage {
	var out []byte
	last := 0
	for i := 0; i < len(clean); i++ {
		if w, ok := at[i]; ok {
			out = append(out, clean[last:i]...)
			out = append(out, `"\u0000`+w+`"`...)
			i += len(w) - 1
			last = i + 1
		}
	}
	return append(out, clean[last:]...)
}

// pyFloat renders a float as Python's json module does (PythonFloat:
// 1000000.0, 1e-06), so transformers reads it back as a float; null for a
// value JSON has no number for.
func pyFloat(v float64) json.RawMessage {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return json.RawMessage("null")
	}
	return json.RawMessage(PythonFloat(v))
}
