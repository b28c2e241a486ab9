package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
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
// temperature that is not finite. A message that says the number says the
// literal given (pyLiterals).
const (
	pyNaN    = "8.8e888888888888" // no float but nan: jsonFloat reads it as NaN
	pyInf    = "1e999999999999"
	pyNegInf = "-1e999999999999"
)

var pyJSONLiterals = []struct{ py, json string }{
	{"NaN", pyNaN},
	{"Infinity", pyInf},
	{"-Infinity", pyNegInf},
	// A client's own number spelled as pyNaN is Python's inf (a float
	// past range), never nan: put as pyInf, so that pyNaN stands only
	// for a NaN literal.
	{pyNaN, pyInf},
}

// pythonJSON is body with Python's non-finite literals put as the numbers
// that stand for them (a body without them as it is).
func pythonJSON(body []byte) []byte {
	if !bytes.Contains(body, []byte("NaN")) && !bytes.Contains(body, []byte("Infinity")) && !bytes.Contains(body, []byte(pyNaN)) {
		return body
	}
	var out []byte
	last := 0
	inText, escaped := false, false
	valueStarts := true // where a value may begin: the start, after ':', ',' or '['
	for i := 0; i < len(body); i++ {
		c := body[i]
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
			for _, lit := range pyJSONLiterals {
				end := i + len(lit.py)
				if bytes.HasPrefix(body[i:], []byte(lit.py)) && (end == len(body) || !isWordByte(body[end])) {
					out = append(append(out, body[last:i]...), lit.json...)
					last, i = end, end-1
					break
				}
			}
		}
		valueStarts = c == ':' || c == ',' || c == '['
	}
	if out == nil {
		return body
	}
	return append(out, body[last:]...)
}

// isWordByte reports whether c would continue a literal: Python's json
// reads "NaN" only where it ends there.
func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

// pyLiterals is msg with the numbers pythonJSON put for Python's literals
// said as the literals given.
func pyLiterals(msg string) string {
	if !strings.Contains(msg, "e999999999999") && !strings.Contains(msg, pyNaN) {
		return msg
	}
	return strings.NewReplacer(pyNegInf, "-Infinity", pyNaN, "NaN", pyInf, "Infinity").Replace(msg)
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

// pyNumber is x as a message of SGLang's says a number Python's json
// read: nan, inf and -inf as Python writes them (pyFloat), a whole number
// with its digits (as an int), another as %g.
func pyNumber(x float64) string {
	switch {
	case math.IsInf(x, 0) || math.IsNaN(x):
		return pyFloat(x)
	case x == math.Trunc(x) && math.Abs(x) < 1e21:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprintf("%g", x)
}
