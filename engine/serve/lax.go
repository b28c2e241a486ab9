package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strings"
	"unicode"

	"github.com/rlt-workbench/rlt/engine/hf"
)

// vLLM's CompletionRequest is a pydantic model, validated in lax mode
// (pydantic's conversion table): a float field takes a number, true or
// false as 1 or 0, and a text pydantic-core reads as a number
// (pydanticFloat); an int field takes a whole number (1, 1.0; not 1.5),
// true or false, and a text pydantic-core reads as an integer
// (pydanticWhole: "3", " 3 ", "1_000", "3.0"; not "3.5", "1e3"). This file
// is the one reading of those values, for every number field of vLLM's
// that rlt serve reads (laxFloat, laxInt, the vllmFields' rules) and for
// logit_bias' biases (vllmBiasValues). SGLang's GenerateReqInput is a
// dataclass, which converts nothing: its fields are read as JSON has them.

// jsonValue is raw decoded as pydantic sees a JSON value: a json.Number,
// a string, a bool, or another (nil: null, or no JSON).
func jsonValue(raw json.RawMessage) any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil
	}
	return v
}

// laxFloatOf is v, a JSON value (jsonValue), as a float field of a
// pydantic model reads it in lax mode; ok is false where pydantic refuses
// it.
func laxFloatOf(v any) (x float64, ok bool) {
	switch v := v.(type) {
	case json.Number:
		return jsonFloat(v)
	case bool:
		if v {
			return 1, true
		}
		return 0, true
	case string:
		return pydanticFloat(v)
	}
	return 0, false
}

// laxWholeOf is v, a JSON value (jsonValue), as an int field of a
// pydantic model reads it in lax mode, with Python's int of any size: a
// JSON integer (Python's json reads it as an int, however long); a JSON
// number that is whole and finite and within int64's range, bounds
// excluded (pydantic-core's float_as_int: 1e3 and 2.0 too); true or
// false; or a text pydanticWhole reads. Where pydantic refuses it, fault
// says how, in our words where pydantic's type errors have them: not
// whole where it is a number that is not (1.5, "1.5"), else not a
// number; and in pydantic-core's own where its refusal is of another
// kind: intTooBig (int_parsing_size) for a whole float past int64's range
// or a text of more than 4300 characters, notFinite (finite_number) for
// an infinity or NaN (1e999, which Python's json reads as inf).
func laxWholeOf(v any) (*big.Int, string) {
	switch v := v.(type) {
	case json.Number:
		if len(v) > maxIntDigits {
			return nil, intTooBig
		}
		if n, ok := jsonBigInt(v.String()); ok {
			return n, ""
		}
		x, ok := jsonFloat(v)
		switch {
		case !ok:
			return nil, notNumber
		case math.IsInf(x, 0) || math.IsNaN(x):
			return nil, notFinite
		case x != math.Trunc(x):
			return nil, notWhole
		case x <= math.MinInt64 || x >= math.MaxInt64:
			return nil, intTooBig
		}
		return big.NewInt(int64(x)), ""
	case bool:
		if v {
			return big.NewInt(1), ""
		}
		return big.NewInt(0), ""
	case string:
		if len(strings.TrimFunc(v, unicode.IsSpace)) > maxIntDigits {
			return nil, intTooBig
		}
		if n, ok := pydanticWhole(v); ok {
			return n, ""
		}
		if x, ok := pydanticFloat(v); ok && !math.IsInf(x, 0) && !math.IsNaN(x) && x != math.Trunc(x) {
			return nil, notWhole
		}
	}
	return nil, notNumber
}

// maxIntDigits is the longest text pydantic-core's str_as_int reads as an
// int: longer is int_parsing_size (Python's own limit on int texts).
const maxIntDigits = 4300

// pydanticWhole is pydantic-core's str_as_int, an int field's reading of
// a text in lax mode, of any size (Python's int): the text as a JSON
// integer; else cleaned (clean_int_str) and read so again: surrounding
// whitespace and a leading + taken out, leading zeros, a decimal point
// followed by zeros only ("3.00", not "3."), and underscores where none
// leads, ends or doubles another.
func pydanticWhole(s string) (*big.Int, bool) {
	if n, ok := jsonBigInt(s); ok {
		return n, true
	}
	cleaned, ok := cleanIntText(s)
	if !ok {
		return nil, false
	}
	return jsonBigInt(cleaned)
}

// jsonBigInt is s read as a JSON integer, of any size: an optional minus,
// then 0 or digits not led by 0.
func jsonBigInt(s string) (*big.Int, bool) {
	t := strings.TrimPrefix(s, "-")
	if t == "" || t[0] == '0' && len(t) > 1 || strings.TrimLeft(t, "0123456789") != "" {
		return nil, false
	}
	return new(big.Int).SetString(s, 10)
}

// cleanIntText is pydantic-core's clean_int_str, step by step; ok is
// false where it gives up, or where it changed nothing.
func cleanIntText(s string) (string, bool) {
	before := len(s)
	s = strings.TrimFunc(s, unicode.IsSpace)
	if rest, ok := strings.CutPrefix(s, "+"); ok {
		if strings.HasPrefix(rest, "-") {
			return "", false
		}
		s = rest
	}
	negative := false
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		if strings.HasPrefix(rest, "-") || strings.HasPrefix(rest, "+") {
			return "", false
		}
		negative, s = true, rest
	}
	s, ok := stripLeadingZeros(s)
	if !ok {
		return "", false
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		if frac := s[i+1:]; frac != "" && strings.Trim(frac, "0") == "" {
			s = s[:i]
		}
	}
	sign := ""
	if negative {
		sign = "-"
	}
	if strings.Contains(s, "_") && !strings.HasPrefix(s, "_") && !strings.HasSuffix(s, "_") && !strings.Contains(s, "__") {
		return sign + strings.ReplaceAll(s, "_", ""), true
	}
	if len(s) == before {
		return "", false
	}
	return sign + s, true
}

// stripLeadingZeros is pydantic-core's strip_leading_zeros: s from its
// first digit other than 0 (or a minus), zeros and underscores before it
// dropped; one 0 kept before a point, or of a text of zeros alone.
func stripLeadingZeros(s string) (string, bool) {
	switch {
	case s == "":
		return "", false
	case '1' <= s[0] && s[0] <= '9' || s[0] == '-':
		return s, true
	case s[0] != '0':
		return "", false
	}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '0' || c == '_':
		case '1' <= c && c <= '9' || c == '-':
			return s[i:], true
		case c == '.':
			return s[i-1:], true
		default:
			return "", false
		}
	}
	return s[len(s)-1:], true
}

// refuseAs is the error JSON's decoder gives b where a T is wanted: the
// lax readings' refusal, in its words, of a value pydantic (or Python's
// json) refuses. Each gives it only a value the decoder refuses too; what
// says what T is, should one decode.
func refuseAs[T any](b []byte, what string) error {
	var strict T
	if err := json.Unmarshal(b, &strict); err != nil {
		return err
	}
	return fmt.Errorf("%s is not %s", b, what) // not reached
}

// laxFloat is a float field of vLLM's model (temperature): as JSON gives
// it or as pydantic's lax mode reads it (laxFloatOf). A value pydantic
// refuses is refused as JSON's decoder refuses it, in its words.
type laxFloat float64

func (f *laxFloat) UnmarshalJSON(b []byte) error {
	if x, ok := laxFloatOf(jsonValue(b)); ok {
		*f = laxFloat(x)
		return nil
	}
	return refuseAs[float64](b, "a number")
}

// laxInt is an int field of vLLM's model (max_tokens, n, logprobs...),
// read as pydantic's lax mode reads it (laxWholeOf), within int's range. A value pydantic
// refuses is refused as JSON's decoder refuses it, in its words.
type laxInt int

func (n *laxInt) UnmarshalJSON(b []byte) error {
	w, fault := laxWholeOf(jsonValue(b))
	switch {
	case fault == "" && w.IsInt64() && w.Int64() >= math.MinInt && w.Int64() <= math.MaxInt:
		*n = laxInt(w.Int64())
		return nil
	case fault == "": // whole (Python's int, which pydantic reads), past what rlt serve holds: said as JSON's decoder says a number past its field's range
		return &json.UnmarshalTypeError{Value: "number " + w.String(), Type: reflect.TypeOf(0)}
	case fault == intTooBig || fault == notFinite: // parseCompletions refuses these first, naming the field (pydanticIntFaults)
		return fmt.Errorf(fault, asGiven(b))
	}
	return refuseAs[int](b, "a whole number")
}

// laxIntNoText is laxInt for logprobs and prompt_logprobs, which vLLM's
// model validator check_logprobs refuses as text before pydantic reads
// them ("`logprobs` must be an integer."; before it, Python's comparison
// of a text with 0 failed): a text is refused, in JSON's decoder's words,
// as rlt serve refused it before; true, false and a whole number are read
// as laxInt reads them.
type laxIntNoText int

func (n *laxIntNoText) UnmarshalJSON(b []byte) error {
	if _, isText := jsonValue(b).(string); isText {
		return refuseAs[int](b, "a whole number")
	}
	return (*laxInt)(n).UnmarshalJSON(b)
}

// laxNumber is a fieldRule's reading of a number field: its value; how
// the server's messages write it (as given where JSON gives a number,
// else as Python writes what it read: vLLM's top_p "1.5" is 1.5, its
// top_k true is 1); and the fault (notNumber, notWhole) where there is
// no value to read.
type laxNumber func(raw json.RawMessage) (x float64, show, fault string)

// jsonNumber reads a float field as Python's json gives it (SGLang's):
// a number, nan and ±inf included (jsonFloat), which Python writes as
// nan, inf, -inf (hf.PythonFloat).
func jsonNumber(raw json.RawMessage) (float64, string, string) {
	num, isNumber := jsonValue(raw).(json.Number)
	x, ok := jsonFloat(num)
	switch {
	case !isNumber || !ok:
		return 0, "", notNumber
	case math.IsInf(x, 0) || math.IsNaN(x):
		return x, hf.PythonFloat(x), ""
	}
	return x, string(raw), ""
}

// vllmFloat reads a float field of vLLM's model (laxFloatOf).
func vllmFloat(raw json.RawMessage) (float64, string, string) {
	v := jsonValue(raw)
	x, ok := laxFloatOf(v)
	switch _, isNumber := v.(json.Number); {
	case !ok:
		return 0, "", notNumber
	case isNumber && !math.IsInf(x, 0) && !math.IsNaN(x):
		return x, string(raw), ""
	}
	return x, hf.PythonFloat(x), "" // 1e999, Infinity: Python's inf
}

// vllmInt reads an int field of vLLM's model (laxWholeOf), of any size
// (Python's int): a whole number past int64's range is read as it is,
// for the field's bounds to refuse it in their words.
func vllmInt(raw json.RawMessage) (float64, string, string) {
	v := jsonValue(raw)
	n, fault := laxWholeOf(v)
	if fault != "" {
		return 0, "", fault
	}
	x, _ := new(big.Float).SetInt(n).Float64()
	if _, isNumber := v.(json.Number); isNumber {
		return x, string(raw), ""
	}
	return x, n.String(), ""
}

// laxIntChecked is an int field of vLLM's model whose value
// parseCompletions bounds itself, refusing a number that is not whole in
// its own words (min_tokens), read once, as it decodes: x is the value as
// pydantic's lax mode reads a number (laxFloatOf; 0 for null), notWhole
// whether pydantic's reading of an int refuses it as not whole
// (laxWholeOf: 1.5, "1.5"). Another value laxWholeOf reads as no number
// is refused as JSON's decoder refuses it where a number is wanted.
type laxIntChecked struct {
	x        float64
	notWhole bool
}

func (n *laxIntChecked) UnmarshalJSON(b []byte) error {
	v := jsonValue(b)
	if v == nil { // null: as not given
		*n = laxIntChecked{}
		return nil
	}
	_, fault := laxWholeOf(v)
	if _, isNumber := v.(json.Number); !isNumber && fault == notNumber {
		return refuseAs[float64](b, "a number")
	}
	x, _ := laxFloatOf(v)
	*n = laxIntChecked{x: x, notWhole: fault == notWhole}
	return nil
}

// laxBoolOf is v, a JSON value (jsonValue), as a bool field of a
// pydantic model reads it in lax mode (its conversion table;
// pydantic-core's int_as_bool, float_as_bool, str_as_bool): true or
// false; the numbers 0 and 1 (0.0 and 1.0 too); a text that is "0" or
// "1", or, ASCII letters' case aside, "f", "n", "no", "off", "false",
// "t", "y", "yes", "on" or "true", not trimmed. ok is false where
// pydantic refuses it (2, "x", " true", null).
func laxBoolOf(v any) (b, ok bool) {
	switch v := v.(type) {
	case bool:
		return v, true
	case json.Number: // an int or a float alike: only 0 and 1 read as 0 and 1
		if x, ok := jsonFloat(v); ok && (x == 0 || x == 1) {
			return x == 1, true
		}
	case string:
		// ASCII only, as eq_ignore_ascii_case: strings.EqualFold would
		// take "yeſ" (U+017F, which folds to s) for "yes".
		lower := strings.Map(func(r rune) rune {
			if 'A' <= r && r <= 'Z' {
				return r + 'a' - 'A'
			}
			return r
		}, v)
		switch lower {
		case "0", "f", "n", "no", "off", "false":
			return false, true
		case "1", "t", "y", "yes", "on", "true":
			return true, true
		}
	}
	return false, false
}

// laxBool is a yes/no field of vLLM's model that parseCompletions reads
// (echo, stream, ignore_eos...), read as pydantic's lax mode reads it
// (laxBoolOf). null leaves it as it is, as JSON's decoder does: where
// vLLM's field is not optional, parseCompletions refuses it
// (vllmReadBools). A value pydantic refuses is refused as JSON's decoder
// refuses it, in its words.
type laxBool bool

func (b *laxBool) UnmarshalJSON(raw []byte) error {
	if isNull(raw) {
		return nil
	}
	if v, ok := laxBoolOf(jsonValue(raw)); ok {
		*b = laxBool(v)
		return nil
	}
	return refuseAs[bool](raw, "true or false")
}

// vllmBool is the rule of a yes/no field of vLLM's model: what laxBoolOf
// reads, and null where the field is optional (bool | None); another
// value is a type fault (notBool), which pydantic refuses.
func vllmBool(optional bool) fieldRule {
	return func(raw json.RawMessage) ruling {
		if _, ok := laxBoolOf(jsonValue(raw)); ok || optional && isNull(raw) {
			return ruling{}
		}
		return typeFault(notBool, raw)
	}
}

// refusedIfTrue is vllmBool refusing, besides, a value read as true, for
// why.
func refusedIfTrue(optional bool, why string) fieldRule {
	read := vllmBool(optional)
	return func(raw json.RawMessage) ruling {
		if r := read(raw); r.why != "" {
			return r
		}
		if b, _ := laxBoolOf(jsonValue(raw)); b {
			return refuse(why)
		}
		return ruling{}
	}
}

// pydanticIntIn is the rule of an int field of vLLM's model that
// pydantic bounds (Field(ge=lo, le=hi); nil: no bound), optional where
// the field is (int | None): a value laxWholeOf reads, of any size, goes
// on to rule when within the bounds; one past them is refused in
// pydantic-core's words (greater_than_equal, less_than_equal), as are
// its other faults. All are pydantic's refusals, made before the model
// is looked up (typeFaults).
func pydanticIntIn(lo, hi *big.Int, optional bool, rule fieldRule) fieldRule {
	return func(raw json.RawMessage) ruling {
		if optional && isNull(raw) {
			return ruling{}
		}
		n, fault := laxWholeOf(jsonValue(raw))
		switch {
		case fault != "":
			return typeFault(fault, raw)
		case lo != nil && n.Cmp(lo) < 0:
			return ruling{why: fmt.Sprintf(belowBound, lo, asGiven(raw)), ofType: true}
		case hi != nil && n.Cmp(hi) > 0:
			return ruling{why: fmt.Sprintf(aboveBound, hi, asGiven(raw)), ofType: true}
		}
		return rule(raw)
	}
}

// int64's bounds, as big.Int, for pydanticIntIn.
var minInt64, maxInt64 = big.NewInt(math.MinInt64), big.NewInt(math.MaxInt64)
