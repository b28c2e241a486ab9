package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"

	"github.com/rlt-workbench/rlt/engine/jsonerr"
)

// vLLM and SGLang are FastAPI apps, which read a body with Python's json:
// besides JSON it takes the literals NaN, Infinity and -Infinity as
// numbers (floats nan, inf, -inf), where Go's encoding/json refuses them
// as no JSON. pythonJSON reads a body as Python's json does: each such
// literal where a value begins (not inside a text) is put as a JSON
// number that stands for it, which every reading of a number here reads
// as that float (jsonFloat; 1e999999999999 is Python's inf too), and
// where Go reads it into a float64 or an int field is refused as a
// number past its range. Each server then does with the float what it
// does with it: vLLM's pydantic model takes nan and inf in a float field
// (allow_inf_nan) and refuses them in an int field (finite_number), its
// SamplingParams refuses a temperature, top_p… that is not finite, and
// logit_bias clamps them; SGLang's SamplingParams.verify refuses a
// temperature that is not finite. A message that says a value as given
// says it by asGiven, which says each stand-in as the literal given.
//
// A client may write a stand-in itself: its number is Python's inf (never
// nan), and a message should say it as written. So a client's number
// spelled as a stand-in with any zeros after its e (1e999999999999,
// 1e0999999999999, the same float) is put with one zero more: in the body
// read, a stand-in spelled without one is a literal, and asGiven takes
// one zero out of the others (standInSpelling). A text is never
// rewritten, in the body or in a message: asGiven reads the value it is
// given as JSON, so a number is told from a text (a stop string, a model
// name, a key) that is spelled as one, where a message, once made, can
// no longer tell them apart.
const (
	pyNaN    = "8.8e888888888888" // no float but nan: jsonFloat reads it as NaN
	pyInf    = "1e999999999999"
	pyNegInf = "-1e999999999999"
)

var pyJSONLiterals = []struct{ py, json string }{
	{"NaN", pyNaN},
	{"Infinity", pyInf},
	{"-Infinity", pyNegInf},
}

// standInSpelling reports whether num is a stand-in of pyJSONLiterals[i]
// spelled with zeros more zeros after its e (0: the stand-in itself).
func standInSpelling(num []byte) (i, zeros int, ok bool) {
	for i, lit := range pyJSONLiterals {
		mantissa, exponent, _ := strings.Cut(lit.json, "e")
		rest, found := bytes.CutPrefix(num, []byte(mantissa+"e"))
		if !found {
			continue
		}
		if digits := bytes.TrimLeft(rest, "0"); string(digits) == exponent {
			return i, len(rest) - len(digits), true
		}
	}
	return 0, 0, false
}

// mayHoldStandIn reports whether b may hold a stand-in's spelling (its
// exponent's digits), for pythonJSON and asGiven to pass by most.
func mayHoldStandIn(b []byte) bool {
	return bytes.Contains(b, []byte("888888888888")) || bytes.Contains(b, []byte("999999999999"))
}

// pythonJSON is body with Python's non-finite literals put as the numbers
// that stand for them, and a client's number spelled as a stand-in given
// one zero more after its e (a body without either as it is).
func pythonJSON(body []byte) []byte {
	if !bytes.Contains(body, []byte("NaN")) && !bytes.Contains(body, []byte("Infinity")) && !mayHoldStandIn(body) {
		return body
	}
	return rewriteValues(body, literalAt)
}

// asGiven is raw, a JSON value of a body pythonJSON read (a field's
// value, an element of one), as the client gave it, for a message to say:
// each stand-in pythonJSON put said as its literal, and a client's number
// it gave one zero more after its e said with one zero fewer. Numbers are
// told from texts as JSON tells them, so a text spelled as a stand-in
// ("1e999999999999") is said as it is.
func asGiven(raw []byte) string {
	if !mayHoldStandIn(raw) {
		return string(raw)
	}
	return string(rewriteValues(raw, givenAt))
}

// rewriteValues is b with what at puts for a value that begins at i, up
// to the end at gives, in place of it (put "": left as it is), at each
// place outside a text where a value may begin: the start, after ':' or
// '[', and after ',' in a list. After ',' in an object a key begins,
// where a literal is no value: Python's json refuses it there, as Go's
// does, and the refusal should say the byte the client wrote.
func rewriteValues(b []byte, at func(b []byte, i int) (put string, end int)) []byte {
	var out []byte
	last := 0
	inText, escaped := false, false
	valueStarts := true
	var open []byte // the '{' and '[' not yet closed, innermost last
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inText {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inText = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '"':
			inText, valueStarts = true, false
			continue
		}
		if valueStarts {
			put, end := at(b, i)
			if put != "" {
				out = append(append(out, b[last:i]...), put...)
				last, i = end, end-1
			}
		}
		switch c {
		case '{', '[':
			open = append(open, c)
		case '}', ']':
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
		}
		valueStarts = c == ':' || c == '[' || c == ',' && len(open) > 0 && open[len(open)-1] == '['
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

// literalAt is what pythonJSON puts for the value that begins body[i:],
// and where that value ends: a literal's stand-in, or a client's number
// spelled as a stand-in with one zero more after its e; "" for another.
func literalAt(body []byte, i int) (put string, end int) {
	for _, lit := range pyJSONLiterals {
		end := i + len(lit.py)
		if bytes.HasPrefix(body[i:], []byte(lit.py)) && (end == len(body) || !isWordByte(body[end])) {
			return lit.json, end
		}
	}
	n := jsonerr.NumberLen(body[i:])
	num := body[i : i+n]
	if _, _, ok := standInSpelling(num); ok {
		at := bytes.IndexByte(num, 'e') + 1
		return string(num[:at]) + "0" + string(num[at:]), i + n
	}
	return "", i
}

// isWordByte reports whether c would continue a literal: Python's json
// reads "NaN" only where it ends there.
func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

// givenAt is what asGiven puts for the value that begins raw[i:], and
// where that value ends: a stand-in's literal, or a client's number
// pythonJSON gave one zero more with that zero taken out; "" for another.
func givenAt(raw []byte, i int) (put string, end int) {
	n := jsonerr.NumberLen(raw[i:])
	num := raw[i : i+n]
	lit, zeros, ok := standInSpelling(num)
	switch {
	case !ok:
		return "", i
	case zeros == 0:
		return pyJSONLiterals[lit].py, i + n
	}
	at := bytes.IndexByte(num, 'e') + 1
	return string(num[:at]) + string(num[at+1:]), i + n
}

// sayDecodeErr is jsonerr.Say of err, an error decoding read, a body
// pythonJSON read or a value of one, said of what the client sent: the
// number it names said as given (asGiven), and the byte where read is no
// JSON counted in the client's body. encoding/json names a number its
// field cannot hold as the body read spells it, a stand-in as the
// stand-in. Say puts that number after the field's name, a client's
// text, and before words of the Go type wanted: the last place it is
// said is the number's. encoding/json counts the bytes of read up to the
// one in error, and read's stand-ins are longer than the literals they
// stand for: the bytes before the one in error are counted as given
// (asGiven of them: that byte ends no value pythonJSON put, which is
// JSON whole).
func sayDecodeErr(read []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset >= 0 && se.Offset <= int64(len(read)) {
		given := *se
		given.Offset = int64(len(asGiven(read[:se.Offset])))
		return jsonerr.Say(&given)
	}
	said := jsonerr.Say(err)
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return said
	}
	num, isNumber := strings.CutPrefix(te.Value, "number ")
	given := asGiven([]byte(num))
	if !isNumber || given == num {
		return said
	}
	spelled := " holds a JSON number " + num + " where "
	at := strings.LastIndex(said, spelled)
	if at < 0 {
		return said
	}
	return said[:at] + " holds a JSON number " + given + " where " + said[at+len(spelled):]
}

// sglangFloat is a float field of SGLang's sampling_params, read as
// Python's json gives it (a float, nan and ±inf included: jsonFloat); a
// value of another kind is refused in JSON's decoder's words, as before.
type sglangFloat float64

func (f *sglangFloat) UnmarshalJSON(b []byte) error {
	if isNull(b) { // as JSON's decoder leaves a float64
		return nil
	}
	if num, ok := jsonValue(b).(json.Number); ok {
		if x, ok := jsonFloat(num); ok {
			*f = sglangFloat(x)
			return nil
		}
	}
	return refuseAs[float64](b, "a number")
}

// sglangInt is an int field of SGLang's sampling_params that rlt serve
// bounds itself (max_new_tokens), read as Python's json gives it: a whole
// number, or nan or ±inf (jsonFloat: NaN, Infinity, 1e999), which Python's
// json gives as a float and which no bound passes; another value is
// refused in JSON's decoder's words where a whole number is wanted, as
// before.
type sglangInt float64

func (n *sglangInt) UnmarshalJSON(b []byte) error {
	if num, ok := jsonValue(b).(json.Number); ok {
		if x, ok := jsonFloat(num); ok && (math.IsInf(x, 0) || math.IsNaN(x)) {
			*n = sglangInt(x)
			return nil
		}
	}
	var strict int
	if err := json.Unmarshal(b, &strict); err != nil {
		return err
	}
	*n = sglangInt(strict)
	return nil
}
