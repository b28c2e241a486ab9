package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/rlt"
)

// Some request fields keep tokens from being the one generated token, as
// vLLM's and SGLang's samplers mask them (their logits set to −∞) before
// the greedy pick: vLLM's min_tokens (its stop token ids, the end of
// sequence among them, while fewer tokens than it are generated),
// bad_words (a word of one token) and allowed_token_ids (every token but
// those), and SGLang's min_new_tokens (its stop token ids and end of
// sequence); and logit_bias, OpenAI's, which vLLM and SGLang's
// sampling_params take too, adds a bias to the logits of its tokens. The
// server says all of them in one rlt.LogitBias, which the engine applies
// to the logits after the last position before it picks the generated
// token (rlt.PromptOptions.NextBias): the greedy token of the logits so
// adjusted, found in one pass over the vocabulary.
//
// What is said of it differs: vLLM's V1 engine returns log-probs of the
// raw logits, taken before any such mask or bias (its sampler's
// raw_logprobs), so the token's log-prob, rank and top log-probs are
// those of the whole vocabulary; SGLang returns those of the logits it
// sampled from (rlt.LogitBias.Adjusted), the held tokens −∞, so the
// others' are renormalized over the tokens kept, a bias moves them, and
// the top log-probs are of those.

// errAllHeld is the error of a request that holds back every token.
var errAllHeld = rlt.ErrAllHeld

// logitBiasEntry is one key of a logit_bias and its value, as given: a
// number (json.Number), a text (string) or true or false (bool), which
// each server reads its way (vllmBiasValues, sglangLogitBias).
type logitBiasEntry struct {
	key   string
	value any
}

// logitBiasField is a logit_bias object, OpenAI's {"<token id>": bias},
// its keys in the request's order (Python's dict keeps them so, and the
// servers' errors name them in it); a key given twice keeps its first
// place and its last value, as a dict's does.
type logitBiasField []logitBiasEntry

func (f *logitBiasField) UnmarshalJSON(b []byte) error {
	*f = nil
	if isNull(b) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("logit_bias must be an object of token ids (as texts) and biases, got %s", asGiven(b))
	}
	at := map[string]int{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fmt.Errorf("logit_bias: %s", sayDecodeErr(b, err))
		}
		key := t.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("logit_bias: %s", sayDecodeErr(b, err))
		}
		switch v.(type) {
		case json.Number, string, bool:
		default: // null, a list, an object: no server reads a bias of it
			raw, _ := json.Marshal(v)
			return fmt.Errorf("logit_bias[%q] must be a number, got %s", key, asGiven(raw))
		}
		if i, ok := at[key]; ok {
			(*f)[i].value = v
			continue
		}
		at[key] = len(*f)
		*f = append(*f, logitBiasEntry{key, v})
	}
	return nil
}

// jsonFloat is a JSON number's value. Past float64's range it reads as
// ±Inf (or 0), as Python's json reads it: vLLM clamps it, SGLang's
// refusal says so.
func jsonFloat(n json.Number) (float64, bool) {
	if n == pyNaN { // Python's NaN (pythonJSON)
		return math.NaN(), true
	}
	x, err := strconv.ParseFloat(n.String(), 64)
	return x, err == nil || errors.Is(err, strconv.ErrRange)
}

// vllmBiasValues are f's biases as vLLM's CompletionRequest reads them,
// in its pydantic model's lax mode (logit_bias: dict[str, float];
// laxFloatOf, as every float field): a number; true or false as 1 or 0;
// a text that pydantic-core reads as a number (pydanticFloat): "1.5",
// " -2 ", "1_000", "inf", "nan". Another
// is refused, as pydantic refuses it, when the request is validated:
// before anything else is checked of it.
func vllmBiasValues(f logitBiasField) ([]float64, error) {
	out := make([]float64, len(f))
	for i, e := range f {
		var ok bool
		if out[i], ok = laxFloatOf(e.value); !ok {
			raw, _ := json.Marshal(e.value)
			return nil, fmt.Errorf("logit_bias[%q] must be a number, got %s (vLLM reads a text as one where pydantic reads it so: \"1.5\", \"-2\", \"1e3\")", e.key, asGiven(raw))
		}
	}
	return out, nil
}

// pydanticFloat is pydantic-core's str_as_float, a float field's reading
// of a text in lax mode: Rust's f64 syntax (rustFloat) on the text
// without surrounding whitespace; else on the text as given with its
// underscores taken out, where there are some and none leads, ends or
// doubles another.
func pydanticFloat(s string) (float64, bool) {
	if x, ok := rustFloat(strings.TrimFunc(s, unicode.IsSpace)); ok {
		return x, true
	}
	if !strings.Contains(s, "_") || strings.HasPrefix(s, "_") || strings.HasSuffix(s, "_") || strings.Contains(s, "__") {
		return 0, false
	}
	return rustFloat(strings.ReplaceAll(s, "_", ""))
}

// rustFloat is Rust's f64 from_str of s: a sign, then inf, infinity or nan
// in any ASCII case, or decimal digits with at most one point among them
// and an optional exponent (e or E, a sign, digits). Past float64's range
// it reads as ±Inf or 0, as Rust's does. Go's ParseFloat alone would also
// read hexadecimal and underscores, which Rust's does not.
func rustFloat(s string) (float64, bool) {
	t, sign := s, 1
	if t != "" && (t[0] == '+' || t[0] == '-') {
		if t[0] == '-' {
			sign = -1
		}
		t = t[1:]
	}
	switch {
	case asciiFold(t, "inf"), asciiFold(t, "infinity"):
		return math.Inf(sign), true
	case asciiFold(t, "nan"):
		return math.NaN(), true
	}
	digits := func(i int) int { // the end of the digits from i
		for i < len(t) && '0' <= t[i] && t[i] <= '9' {
			i++
		}
		return i
	}
	i := digits(0)
	n := i
	if i < len(t) && t[i] == '.' {
		j := digits(i + 1)
		n += j - i - 1
		i = j
	}
	if n == 0 {
		return 0, false
	}
	if i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		i++
		if i < len(t) && (t[i] == '+' || t[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return 0, false
		}
		i = j
	}
	if i != len(t) {
		return 0, false
	}
	x, err := strconv.ParseFloat(s, 64)
	return x, err == nil || errors.Is(err, strconv.ErrRange)
}

// asciiFold reports whether s is word in any ASCII case (Rust's
// eq_ignore_ascii_case; strings.EqualFold would fold other letters too).
func asciiFold(s, word string) bool {
	if len(s) != len(word) {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != word[i] {
			return false
		}
	}
	return true
}

// pyClamp is Python's min(hi, max(lo, x)): NaN, which compares false
// with anything, is lo (max keeps its first argument, lo, then min keeps
// lo).
func pyClamp(x, lo, hi float64) float64 {
	if math.IsNaN(x) {
		return lo
	}
	return min(hi, max(lo, x))
}

// pythonInt is Python's int(s) of a text, base 10: surrounding
// whitespace, a sign, and decimal digits of any script with single
// underscores between them, of any size; err is the ValueError int()
// raises, in its words: the text as no integer, or one of more digits
// than Python's default bound on a conversion (sys.int_max_str_digits,
// 4300) as too long.
func pythonInt(s string) (*big.Int, error) {
	// The error is made only where it is returned: a logit_bias may hold a
	// key for each of the vocabulary's tokens.
	invalid := func() error { return fmt.Errorf("invalid literal for int() with base 10: %s", pyRepr(s)) }
	t := strings.TrimFunc(s, unicode.IsSpace)
	var buf [24]byte // a sign and int64's digits, without allocating
	ascii := buf[:0]
	if t != "" && (t[0] == '+' || t[0] == '-') {
		ascii = append(ascii, t[0])
		t = t[1:]
	}
	digits, lastUnderscore := 0, false
	for _, r := range t {
		if r == '_' {
			if digits == 0 || lastUnderscore {
				return nil, invalid()
			}
			lastUnderscore = true
			continue
		}
		d, isDigit := digitValue(r)
		if !isDigit {
			return nil, invalid()
		}
		ascii = append(ascii, byte('0'+d))
		digits, lastUnderscore = digits+1, false
	}
	if digits == 0 || lastUnderscore {
		return nil, invalid()
	}
	if digits > maxIntDigits {
		return nil, fmt.Errorf("Exceeds the limit (%d digits) for integer string conversion: value has %d digits; use sys.set_int_max_str_digits() to increase the limit", maxIntDigits, digits)
	}
	if n, err := strconv.ParseInt(string(ascii), 10, 64); err == nil {
		return big.NewInt(n), nil
	}
	n, _ := new(big.Int).SetString(string(ascii), 10) // a sign and digits, past int64
	return n, nil
}

// tokenID is n as a token id of a vocabulary of vocab, ok false where
// it is outside it (int64's range too).
func tokenID(n *big.Int, vocab int) (id int32, ok bool) {
	if !n.IsInt64() || n.Sign() < 0 || n.Int64() >= int64(vocab) {
		return 0, false
	}
	return int32(n.Int64()), true
}

// digitValue is a Unicode decimal digit's value (category Nd, whose
// digits come in runs of ten from zero).
func digitValue(r rune) (int, bool) {
	if r >= '0' && r <= '9' {
		return int(r - '0'), true
	}
	if !unicode.Is(unicode.Nd, r) {
		return 0, false
	}
	start := r
	for unicode.Is(unicode.Nd, start-1) {
		start--
	}
	return int(r-start) % 10, true
}

// pyRepr is Python's repr() of a text: in single quotes, or double ones
// when it holds a single quote and no double one; backslashes, the quote
// and control characters escaped.
func pyRepr(s string) string {
	q := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = '"'
	}
	b := []byte{q}
	for _, r := range s {
		switch {
		case r == '\\' || r == rune(q):
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r == '\t':
			b = append(b, `\t`...)
		case r < 0x20 || r == 0x7f:
			b = fmt.Appendf(b, `\x%02x`, r)
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return string(append(b, q))
}

// pyStrs is Python's repr() of a list of texts, each once, in their
// first order, as SamplingParams keeps bad_words (list(dict.fromkeys())).
func pyStrs(list []string) string {
	var parts []string
	for i, s := range list {
		if !slices.Contains(list[:i], s) {
			parts = append(parts, pyRepr(s))
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// vllmBiasDict is a logit_bias as vLLM's SamplingParams holds it
// (dict[int, float]): its token ids in the request's order, each once, as
// Python writes the int (of any size: int() reads a key past int64's
// range, which the vocabulary check then refuses), and their biases.
type vllmBiasDict struct {
	ids  []string
	bias map[string]float64
}

// vllmLogitBiasKeys is what SamplingParams.from_optional makes of a
// logit_bias whose biases (vllmBiasValues) are values: each key read by
// Python's int(), every key that is no integer refused at once, in vLLM's
// words; each bias clamped to [−100, 100] ("per OpenAI API spec": vLLM
// clamps, it does not refuse). vLLM does this as it makes the request's
// SamplingParams: after the request is validated, before the sampling
// parameters are checked (SamplingParams._verify_args: temperature,
// min_tokens, n...) and long before the logprobs asked are (verify).
func vllmLogitBiasKeys(f logitBiasField, values []float64) (vllmBiasDict, error) {
	d := vllmBiasDict{bias: map[string]float64{}}
	var bad []string
	for i, e := range f {
		n, err := pythonInt(e.key)
		if err != nil {
			bad = append(bad, pyRepr(e.key))
			continue
		}
		id := n.String()
		if _, seen := d.bias[id]; !seen {
			d.ids = append(d.ids, id)
		}
		d.bias[id] = pyClamp(values[i], -100, 100)
	}
	if bad != nil {
		list := "[" + strings.Join(bad, ", ") + "]"
		return vllmBiasDict{}, &badRequest{"logit_bias", fmt.Sprintf("logit_bias contains key(s) that cannot be converted to integer token IDs: %s (parameter=logit_bias, value=%s)", list, list)}
	}
	return d, nil
}

// vllmLogitBias is d checked as SamplingParams' _validate_logit_bias
// checks it, once the logprobs asked are (every token id outside the
// vocabulary of vocab refused, in vLLM's words, naming the field), then
// as an adjustment of the logits; nil when d is empty.
func vllmLogitBias(d vllmBiasDict, vocab int) (*rlt.LogitBias, error) {
	var outside []string
	tokens := make([]int32, len(d.ids))
	for i, id := range d.ids {
		n, err := strconv.ParseInt(id, 10, 64) // past int64: outside
		if err != nil || n < 0 || n >= int64(vocab) {
			outside = append(outside, id)
		}
		tokens[i] = int32(n)
	}
	if outside != nil {
		list := "[" + strings.Join(outside, ", ") + "]" // Python's list of ints
		return nil, &badRequest{"logit_bias", fmt.Sprintf("token_id(s) %s in logit_bias contain out-of-vocab token ids. Vocabulary size: %d (parameter=logit_bias, value=%s)", list, vocab, list)}
	}
	var b *rlt.LogitBias
	for i, id := range d.ids {
		b = b.Bias(tokens[i], float32(d.bias[id]))
	}
	return b, nil
}

// sglangBiasKeys are the token ids of f's keys as SamplingParams.verify
// reads them, in its words: each key by Python's int(), the first that is
// no integer (int()'s ValueError), or is outside the vocabulary of vocab
// (one past int64's range too, which int() reads), refused.
func sglangBiasKeys(f logitBiasField, vocab int) ([]int32, error) {
	ids := make([]int32, len(f))
	for i, e := range f {
		n, err := pythonInt(e.key)
		if err != nil {
			return nil, err
		}
		id, ok := tokenID(n, vocab)
		if !ok {
			return nil, fmt.Errorf("logit_bias must has keys in [0, %d], got %s.", vocab-1, e.key)
		}
		ids[i] = id
	}
	return ids, nil
}

// sglangLogitBias is what SGLang makes of sampling_params' logit_bias
// (SamplingParams.verify's keys, sglangBiasKeys, which parseGenerate
// checks first, in verify's order; then SamplingBatchInfo's bias tensor):
// the biases put as they are, unclamped, into a float32 tensor
// (logit_bias[i, int(key)] = value), a key given as two texts of one id
// keeping the last. The tensor takes a number, and true or false as 1 or
// 0; a text it refuses with a TypeError in SGLang's scheduler, which no
// answer comes back from: so here it is refused, saying so. A bias past
// float32's range, which the tensor would hold as ±inf and so answer NaN
// log-probs, is refused too.
func sglangLogitBias(f logitBiasField, vocab int) (*rlt.LogitBias, error) {
	ids, err := sglangBiasKeys(f, vocab)
	if err != nil {
		return nil, err
	}
	set := map[int32]float32{}
	var order []int32
	for i, e := range f {
		var x float64
		switch v := e.value.(type) {
		case json.Number:
			x, _ = jsonFloat(v) // read when decoded
		case bool:
			if v {
				x = 1
			}
		default:
			raw, _ := json.Marshal(e.value)
			return nil, fmt.Errorf("sampling_params.logit_bias[%q] must be a number, got %s: SGLang puts each bias into a tensor, which takes no text (its scheduler fails with a TypeError, and no answer comes back)", e.key, asGiven(raw))
		}
		if math.IsInf(float64(float32(x)), 0) {
			return nil, fmt.Errorf("sampling_params.logit_bias[%q] %s is past float32's range, which SGLang's bias tensor holds (it would answer NaN log-probs): give a bias within ±3.4e38", e.key, hf.PythonFloat(x))
		}
		if _, seen := set[ids[i]]; !seen {
			order = append(order, ids[i])
		}
		set[ids[i]] = float32(x)
	}
	var b *rlt.LogitBias
	for _, id := range order {
		b = b.Bias(id, set[id])
	}
	return b, nil
}

// badWordTokens are the tokens vLLM's bad_words keep from being a first
// generated token: SamplingParams.update_from_tokenizer encodes each word,
// its leading spaces stripped, alone and after a space (the second only
// where it makes another first token and as many tokens), and the sampler
// holds back the last token of each encoding whose tokens before it were
// the last ones generated: for the first token, those of one token. A
// word that encodes to no token is refused in vLLM's words (an empty one
// is refused before: parseCompletions).
func badWordTokens(tok Tokenizer, words []string) ([]int32, error) {
	var held []int32
	for _, word := range words {
		word = strings.TrimLeftFunc(word, unicode.IsSpace) // Python's lstrip()
		alone := tok.Encode(word)
		if len(alone) == 0 {
			return nil, &badRequest{"bad_words", fmt.Sprintf("bad_words entries must tokenize to at least one token. (parameter=bad_words, value=%s)", pyStrs(words))}
		}
		spaced := tok.Encode(" " + word)
		if len(alone) == 1 {
			held = append(held, alone[0])
			if len(spaced) == 1 && spaced[0] != alone[0] {
				held = append(held, spaced[0])
			}
		}
	}
	return held, nil
}
