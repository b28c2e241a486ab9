package serve

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestPythonJSON: a body is read as Python's json reads it, NaN, Infinity
// and -Infinity taken as numbers where a value begins, and left as they
// are inside a text or as part of another word (which Python's json
// refuses, as Go's does).
func TestPythonJSON(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{`{"a":1}`, `{"a":1}`},
		{`{"a":NaN}`, `{"a":` + pyNaN + `}`},
		{`{"a": Infinity ,"b":[-Infinity,NaN]}`, `{"a": ` + pyInf + ` ,"b":[` + pyNegInf + `,` + pyNaN + `]}`},
		{`{"NaN":"NaN \" NaN","b":"Infinity"}`, `{"NaN":"NaN \" NaN","b":"Infinity"}`},
		{`{"a":"\\",  "b":NaN}`, `{"a":"\\",  "b":` + pyNaN + `}`},
		{`{"a":NaNx}`, `{"a":NaNx}`},
		{`{"a":nan}`, `{"a":nan}`},
		{`{"a":-NaN}`, `{"a":-NaN}`},
		{`NaN`, pyNaN},
		// A client's own number spelled as a stand-in, or as one with
		// zeros after its e, gets one zero more: the same float (never
		// NaN), which asGiven says as given.
		{`{"a":` + pyNaN + `,"b":NaN}`, `{"a":8.8e0888888888888,"b":` + pyNaN + `}`},
		{`{"a":` + pyNaN + `}`, `{"a":8.8e0888888888888}`},
		{`{"a":` + pyNaN + `1}`, `{"a":` + pyNaN + `1}`},
		{`[1e999999999999, -1e0999999999999,1e9999999999999, 21e999999999999]`, `[1e0999999999999, -1e00999999999999,1e9999999999999, 21e999999999999]`},
		{`{"1e999999999999":"-1e999999999999"}`, `{"1e999999999999":"-1e999999999999"}`},
		// An object's key begins after its ',' (a value after a list's):
		// a literal there is no value, and Python's json refuses it as
		// Go's does, at the byte the client wrote.
		{`{"a":1,NaN:2}`, `{"a":1,NaN:2}`},
		{`{"a":[1,NaN],Infinity:[{"b":2},-Infinity]}`, `{"a":[1,` + pyNaN + `],Infinity:[{"b":2},` + pyNegInf + `]}`},
		{`[{"a":{"b":NaN}},NaN]`, `[{"a":{"b":` + pyNaN + `}},` + pyNaN + `]`},
		{`{"a":1,` + pyInf + `:2}`, `{"a":1,` + pyInf + `:2}`},
	} {
		if got := string(pythonJSON([]byte(c.body))); got != c.want {
			t.Errorf("%s: %s, want %s", c.body, got, c.want)
		}
	}
}

// TestAsGiven: a value of a body pythonJSON read is said with each
// stand-in it put as the literal given, and a client's number it gave one
// zero more as the client wrote it; any other number, one holding a
// stand-in's digits among others too, as it is; and a text, one spelled as
// a stand-in or as its literal too, as it is.
func TestAsGiven(t *testing.T) {
	for _, c := range []struct{ raw, want string }{
		{pyInf, "Infinity"},
		{"[" + pyNegInf + ", " + pyNaN + "]", "[-Infinity, NaN]"},
		{`{"a":` + pyNaN + `,"b":[1,` + pyInf + `]}`, `{"a":NaN,"b":[1,Infinity]}`},
		{"1e9999999999999", "1e9999999999999"},
		{"[21e999999999999, 1e9999999999990]", "[21e999999999999, 1e9999999999990]"},
		{"1e0999999999999", "1e999999999999"},
		{"-1e00999999999999", "-1e0999999999999"},
		{"8.8e0888888888888", "8.8e888888888888"},
		{`"` + pyInf + `"`, `"` + pyInf + `"`},
		{`[" ` + pyNaN + `", ` + pyNaN + `]`, `[" ` + pyNaN + `", NaN]`},
		{`{"` + pyInf + `":"a \" ` + pyNegInf + `"}`, `{"` + pyInf + `":"a \" ` + pyNegInf + `"}`},
	} {
		if got := asGiven([]byte(c.raw)); got != c.want {
			t.Errorf("%s: %s, want %s", c.raw, got, c.want)
		}
	}
}

// TestClientTextsSaidAsGiven: a client's text that is spelled as one of
// pythonJSON's stand-ins (a model's name, a key, a stop_regex, a text
// quoted back) is said in a refusal as the client wrote it, where a
// number beside it that pythonJSON read from a literal is said as that
// literal: only what pythonJSON put is said back. A message, once made,
// could not tell the two apart; asGiven says each value as it is made.
func TestClientTextsSaidAsGiven(t *testing.T) {
	_, ts := testServer(t, Both)
	for _, c := range []struct {
		path, body string
		status     int
		msg        string // the refusal's message
	}{
		{"/v1/completions", `{"model":"` + pyInf + `","prompt":"ab","max_tokens":1}`, 404, "The model `" + pyInf + "` does not exist."},
		{"/v1/completions", `{"model":"` + pyNaN + `","prompt":"ab","max_tokens":1,"temperature":NaN}`, 404, "The model `" + pyNaN + "` does not exist."},
		{"/v1/completions", `{"prompt":"ab","max_tokens":1,"truncation_side":"` + pyNegInf + `"}`, 400, `truncation_side must be "left" or "right", got "` + pyNegInf + `"`},
		{"/v1/completions", `{"prompt":"ab","max_tokens":1,"truncation_side":["` + pyInf + `",Infinity]}`, 400, `truncation_side must be "left" or "right", got ["` + pyInf + `",Infinity]`},
		{"/v1/completions", `{"prompt":"ab","max_tokens":1,"logit_bias":{"5":["` + pyNaN + `",NaN]}}`, 400, `the body is not the JSON expected: logit_bias["5"] must be a number, got ["` + pyNaN + `",NaN]`},
		{"/tokenize", `{"prompt":"ab","add_special_tokens":" ` + pyInf + `"}`, 400, `add_special_tokens must be true or false, got " ` + pyInf + `"`},
		{"/generate", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"stop_regex":"(` + pyInf + `"}}`, 400, `sampling_params.stop_regex "(` + pyInf + `" is not a regular expression: missing closing ): ` + "`(" + pyInf + "`"},
		{"/generate", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"` + pyInf + `":1}}`, 400, `sampling_params: "` + pyInf + `" is not a sampling parameter`},
		{"/generate", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"top_k":[" ` + pyNaN + `",-Infinity]}}`, 400, `sampling_params.top_k must be -1 (disable) or at least 1, got [" ` + pyNaN + `",-Infinity].`},
		// A literal where an object's key begins is no value: said as
		// the client wrote it, where Go's JSON refuses it.
		{"/v1/completions", `{"prompt":"ab","max_tokens":1,NaN:1}`, 400, `the body is not the JSON expected: not valid JSON at byte 31: invalid character 'N' looking for beginning of object key string`},
		{"/generate", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,Infinity:1}}`, 400, `the body is not the JSON expected: not valid JSON at byte 58: invalid character 'I' looking for beginning of object key string`},
	} {
		status, got := post(t, ts.URL+c.path, c.body)
		var r struct{ Error struct{ Message string } }
		if status != c.status || json.Unmarshal([]byte(got), &r) != nil || !strings.HasPrefix(r.Error.Message, c.msg) {
			t.Errorf("%s %s: %d %s; want %d with %s", c.path, c.body, status, got, c.status, c.msg)
		}
	}
}

// TestNonFiniteLiterals: vLLM's and SGLang's FastAPI read NaN, Infinity
// and -Infinity as floats (Python's json); vLLM 0.24.0 then refuses a
// temperature or top_p that is not finite (SamplingParams), an int field
// given one (pydantic's finite_number), and clamps a logit_bias of NaN
// to -100 (answered); SGLang's SamplingParams.verify refuses a
// temperature that is not finite, a top_p, min_p, penalty or min_new_tokens
// of nan or ±inf as out of its range, saying it as Python writes it, and a
// top_k of -inf; a top_k of nan or inf, which verify passes and SGLang's
// scheduler cannot put in its int32 top_ks, is refused as no whole number;
// a max_new_tokens of one as rlt serve refuses any but 0 and 1. Each is
// refused in those words, where Go's JSON refused the literal as no JSON
// (and SGLang's top_k, repetition_penalty, max_new_tokens and
// min_new_tokens refused it as no number).
func TestNonFiniteLiterals(t *testing.T) {
	_, ts := testServer(t, Both)
	for _, c := range []struct {
		path, body string
		status     int
		msg        string // the refusal's message begins so; "" for an answer
	}{
		{"/v1/completions", `{"prompt":"ab","max_tokens":1,"temperature":NaN}`, 400, "temperature must be a finite number, got nan. (parameter=temperature, value=nan)"},
		{"/v1/completions", `{"prompt":"ab","max_tokens":1,"temperature":Infinity}`, 400, "temperature must be a finite number, got inf."},
		{"/v1/completions", `{"prompt":"ab","max_tokens":1,"temperature":` + pyNaN + `}`, 400, "temperature must be a finite number, got inf."}, // Python reads it as inf
		{"/v1/completions", `{"prompt":"ab","max_tokens":1,"temperature":-Infinity}`, 400, "temperature must be a finite number, got -inf."},
		{"/v1/completions", `{"prompt":"ab","max_tokens":1,"top_p":NaN}`, 400, "top_p must be in (0, 1], got nan."},
		{"/v1/completions", `{"prompt":"ab","max_tokens":1,"presence_penalty":-Infinity}`, 400, "presence_penalty must be in [-2, 2], got -inf."},
		{"/v1/completions", `{"model":"nope","prompt":"ab","max_tokens":1,"n":NaN}`, 400, "n: Input should be a finite number, got NaN"},
		{"/v1/completions", `{"model":"nope","prompt":"ab","max_tokens":Infinity}`, 400, "max_tokens: Input should be a finite number, got Infinity"},
		{"/v1/completions", `{"model":"nope","prompt":"ab","max_tokens":1e9999999999999}`, 400, "max_tokens: Input should be a finite number, got 1e9999999999999"}, // a client's number, said as given
		{"/v1/completions", `{"model":"nope","prompt":"ab","max_tokens":` + pyInf + `}`, 400, "max_tokens: Input should be a finite number, got " + pyInf},
		{"/v1/completions", `{"model":"nope","prompt":"ab","max_tokens":1,"n":` + pyNaN + `}`, 400, "n: Input should be a finite number, got " + pyNaN},
		{"/v1/completions", `{"model":"nope","prompt":"ab","max_tokens":1,"seed":-Infinity}`, 400, "seed: Input should be a finite number, got -Infinity"},
		{"/v1/completions", `{"prompt":"ab","max_tokens":1,"logprobs":-Infinity}`, 400, "`logprobs` must be a positive value or -1."},
		{"/v1/completions", `{"prompt":"ab","max_tokens":1,"logit_bias":{"5":NaN}}`, 200, ""},
		{"/v1/completions", `{"prompt":"NaN","max_tokens":1}`, 200, ""},
		{"/v1/completions", `{"prompt":"ab","max_tokens":1,"stop_token_ids":[NaN]}`, 400, `the body is not the JSON expected: field "stop_token_ids" holds a JSON number NaN where a whole number is wanted`},
		{"/tokenize", `{"prompt":"ab","add_special_tokens":NaN}`, 400, "add_special_tokens must be true or false, got NaN"},
		{"/generate", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"temperature":NaN}}`, 400, "temperature must be a non-negative finite number, got nan."},
		{"/generate", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"temperature":Infinity}}`, 400, "temperature must be a non-negative finite number, got inf."},
		{"/generate", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"temperature":1e999}}`, 400, "temperature must be a non-negative finite number, got inf."},
		{"/generate", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"top_p":NaN}}`, 400, "sampling_params.top_p must be in (0, 1], got nan."},
		{"/generate", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"frequency_penalty":-Infinity}}`, 400, "sampling_params.frequency_penalty must be in [-2, 2], got -inf."},
		{"/generate", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"min_p":1e999}}`, 400, "sampling_params.min_p must be in [0, 1], got inf."},
		{"/generate", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"repetition_penalty":NaN}}`, 400, "sampling_params.repetition_penalty must be in (0, 2] (1.0 = no penalty), got nan."},
		{"/generate", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"repetition_penalty":Infinity}}`, 400, "sampling_params.repetition_penalty must be in (0, 2] (1.0 = no penalty), got inf."},
		{"/generate", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"top_k":-Infinity}}`, 400, "sampling_params.top_k must be -1 (disable) or at least 1, got -inf."},
		{"/generate", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"top_k":NaN}}`, 400, "sampling_params.top_k must be a whole number, got nan"}, // verify passes it; the scheduler's int32 top_ks cannot hold it
		{"/generate", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"top_k":1e999}}`, 400, "sampling_params.top_k must be a whole number, got inf"},
		{"/generate", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"min_new_tokens":NaN}}`, 400, "min_new_tokens must be in [0, max_new_tokens], got nan."},
		{"/generate", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"min_new_tokens":-Infinity}}`, 400, "min_new_tokens must be in [0, max_new_tokens], got -inf."},
		{"/generate", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"min_new_tokens":Infinity}}`, 400, "min_new_tokens must be in [0, max_new_tokens(1)], got inf."},
		{"/generate", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":NaN}}`, 400, "rlt serve computes input log-probs: sampling_params.max_new_tokens must be 0 or 1 (got nan), not streamed"},
		{"/generate", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":-Infinity}}`, 400, "rlt serve computes input log-probs: sampling_params.max_new_tokens must be 0 or 1 (got -inf), not streamed"},
		// inf passes the model's positions with the input: SGLang's
		// _validate_one_request refuses it before SamplingParams does.
		{"/generate", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1e999}}`, 400, "Requested token count exceeds the model's maximum context length of 64 tokens. You requested a total of inf tokens: 2 tokens from the input messages and inf tokens for the completion."},
	} {
		status, got := post(t, ts.URL+c.path, c.body)
		var r struct{ Error struct{ Message string } }
		switch {
		case c.msg == "" && status != 200:
			t.Errorf("%s %s: %d %s; want an answer", c.path, c.body, status, got)
		case c.msg != "" && (status != c.status || json.Unmarshal([]byte(got), &r) != nil || !strings.HasPrefix(r.Error.Message, c.msg)):
			t.Errorf("%s %s: %d %s; want %d with %s", c.path, c.body, status, got, c.status, c.msg)
		}
	}
}

// TestSyntaxFaultsSaidAtTheClientsByte: a body that is no JSON is refused
// saying the byte where it goes wrong as the client counts it, in the body
// it sent, not in the one pythonJSON read, whose stand-ins are longer
// than the literals they stand for (and a client's number spelled as one
// a zero longer).
func TestSyntaxFaultsSaidAtTheClientsByte(t *testing.T) {
	_, ts := testServer(t, Both)
	for _, c := range []struct{ path, body, msg string }{
		{"/v1/completions", `{"prompt":"ab","max_tokens":NaN,"n":x}`, "not valid JSON at byte 37: invalid character 'x' looking for beginning of value"},
		{"/v1/completions", `{"prompt":"ab","max_tokens":1e999999999999,"n":x}`, "not valid JSON at byte 48: invalid character 'x' looking for beginning of value"},
		{"/v1/completions", `{"prompt":"ab","max_tokens":NaN`, "not valid JSON at byte 31: unexpected end of JSON input"},
		{"/generate", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":Infinity,}}`, "not valid JSON at byte 65: invalid character '}' looking for beginning of object key string"},
		{"/tokenize", `{"prompt":"ab","add_special_tokens":-Infinity]`, "not valid JSON at byte 46: invalid character ']' after object key:value pair"},
	} {
		status, got := post(t, ts.URL+c.path, c.body)
		var r struct{ Error struct{ Message string } }
		if want := "the body is not the JSON expected: " + c.msg; status != 400 || json.Unmarshal([]byte(got), &r) != nil || r.Error.Message != want {
			t.Errorf("%s %s: %d %s; want 400 with %s", c.path, c.body, status, got, want)
		}
	}
}
