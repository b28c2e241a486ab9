package serve

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestPydanticLaxReading: a JSON value read as pydantic's lax mode reads
// it into a float field and into an int field (its conversion table;
// pydantic-core's str_as_float, str_as_int and float_as_int).
func TestPydanticLaxReading(t *testing.T) {
	for _, c := range []struct {
		raw     string
		float   float64 // NaN: refused
		integer int64
		fault   string // the int field's: "" read, else notNumber or notWhole
	}{
		{`3`, 3, 3, ""},
		{`-2`, -2, -2, ""},
		{`3.0`, 3, 3, ""},
		{`1e3`, 1000, 1000, ""},
		{`1.5`, 1.5, 0, notWhole},
		{`true`, 1, 1, ""},
		{`false`, 0, 0, ""},
		{`"3"`, 3, 3, ""},
		{`" 3 "`, 3, 3, ""},
		{`"+3"`, 3, 3, ""},
		{`"-3"`, -3, -3, ""},
		{`"007"`, 7, 7, ""},
		{`"1_000"`, 1000, 1000, ""},
		{`"3.0"`, 3, 3, ""},
		{`"3.00"`, 3, 3, ""},
		{`"-0.0"`, 0, 0, ""},
		{`"1.5"`, 1.5, 0, notWhole},
		{`" -2.5 "`, -2.5, 0, notWhole},
		{`"1e3"`, 1000, 0, notNumber}, // a float's text, not an int's
		{`"3."`, 3, 0, notNumber},     // str_as_int keeps a point with no zeros after it
		{`".5"`, 0.5, 0, notWhole},
		{`"inf"`, math.Inf(1), 0, notNumber},
		{`"-Infinity"`, math.Inf(-1), 0, notNumber},
		{`"1__0"`, math.NaN(), 0, notNumber},
		{`"_1"`, math.NaN(), 0, notNumber},
		{`"+-1"`, math.NaN(), 0, notNumber},
		{`"0x10"`, math.NaN(), 0, notNumber},
		{`"x"`, math.NaN(), 0, notNumber},
		{`""`, math.NaN(), 0, notNumber},
		{`"true"`, math.NaN(), 0, notNumber}, // a text is read as a number, not as a bool
		{`null`, math.NaN(), 0, notNumber},
		{`[1]`, math.NaN(), 0, notNumber},
		{`{}`, math.NaN(), 0, notNumber},
	} {
		v := jsonValue(json.RawMessage(c.raw))
		x, ok := laxFloatOf(v)
		if wantOK := !math.IsNaN(c.float); ok != wantOK || ok && x != c.float {
			t.Errorf("float field %s: %v %v, want %v %v", c.raw, x, ok, c.float, wantOK)
		}
		n, fault := laxWholeOf(v)
		if fault != c.fault || fault == "" && (!n.IsInt64() || n.Int64() != c.integer) {
			t.Errorf("int field %s: %v %q, want %d %q", c.raw, n, fault, c.integer, c.fault)
		}
	}
}

// TestVLLMNumberFieldsReadLax: each number field of vLLM's
// CompletionRequest takes what pydantic's lax mode reads as a number (a
// float field: a numeric text, true, false; an int field: a whole
// number, true, false, an integer's text), answered as the number
// itself; what pydantic refuses is refused as before, saying so.
func TestVLLMNumberFieldsReadLax(t *testing.T) {
	_, ts := testServer(t, VLLM)
	answer := func(fields string) (int, string) {
		return completionAnswer(t, ts.URL, `{"prompt":"ab",`+fields+`}`)
	}
	const one = `"max_tokens":1`
	for _, c := range []struct{ given, same string }{
		// float fields
		{`"temperature":"0.5"`, `"temperature":0.5`},
		{`"temperature":" 1e-1 "`, `"temperature":0.1`},
		{`"temperature":"1_0e-1"`, `"temperature":1.0`},
		{`"temperature":true`, `"temperature":1`},
		{`"temperature":false`, `"temperature":0`},
		{`"top_p":"0.5"`, `"top_p":0.5`},
		{`"top_p":true`, `"top_p":1`},
		{`"min_p":"0.1"`, `"min_p":0.1`},
		{`"presence_penalty":"-2"`, `"presence_penalty":-2`},
		{`"frequency_penalty":false`, `"frequency_penalty":0`},
		{`"repetition_penalty":"1"`, `"repetition_penalty":1`},
		{`"repetition_penalty":true`, `"repetition_penalty":1`},
		// int fields
		{`"max_tokens":"1"`, one},
		{`"max_tokens":1.0`, one},
		{`"max_tokens":" 1.00 "`, one},
		{`"max_tokens":true`, one},
		{`"top_k":"5"`, `"top_k":5`},
		{`"top_k":false`, `"top_k":0`},
		{`"top_k":"1_0"`, `"top_k":10`},
		{`"n":"1"`, `"n":1`},
		{`"n":1.0`, `"n":1`},
		{`"n":true`, `"n":1`},
		{`"min_tokens":"1"`, `"min_tokens":1`},
		{`"min_tokens":true`, `"min_tokens":1`},
		{`"logprobs":true`, `"logprobs":1`},
		{`"logprobs":2.0`, `"logprobs":2`},
		{`"prompt_logprobs":true`, `"prompt_logprobs":1`},
		{`"best_of":"1"`, `"best_of":1`},
		{`"priority":"0"`, `"priority":0`},
		{`"priority":false`, `"priority":0`},
		{`"stream_interval":"2"`, `"stream_interval":2`},
	} {
		given, same := c.given, c.same
		if !strings.HasPrefix(given, `"max_tokens"`) {
			given, same = one+","+given, one+","+same
		}
		status, got := answer(given)
		wantStatus, want := answer(same)
		if wantStatus != 200 {
			t.Fatalf("%s: %d %s", same, wantStatus, want)
		}
		if status != 200 || got != want {
			t.Errorf("%s: %d %.300s; want %s's answer %.300s", given, status, got, same, want)
		}
	}
	for _, c := range []struct{ given, msg string }{
		// What pydantic reads, refused by the field's bounds as the number is.
		{`"top_p":"1.5"`, `top_p must be in (0, 1], got 1.5.`},
		{`"top_p":false`, `top_p must be in (0, 1], got 0.0.`},
		{`"temperature":"-1"`, `temperature must be non-negative, got -1.0.`},
		{`"temperature":"inf"`, `temperature must be a finite number, got inf. (parameter=temperature, value=inf)`},
		{`"temperature":"nan"`, `temperature must be a finite number, got nan.`},
		{`"top_k":"-2"`, `top_k must be 0 (disable), or at least 1, got -2.`},
		{`"n":"0"`, `n must be at least 1, got 0.`},
		{`"n":false`, `n must be at least 1, got 0.`},
		{`"min_tokens":"2"`, `min_tokens must be less than or equal to max_tokens=1, got 2.`},
		{`"priority":"1"`, `Got priority 1 but Priority scheduling is not enabled.`},
		// What pydantic refuses, refused as before.
		{`"temperature":" 1_0e-1 "`, `field "temperature" holds a JSON string where a number is wanted`}, // str_as_float takes underscores out of the text as given, spaces kept
		{`"top_p":"x"`, `top_p must be a number, got "x"`},
		{`"top_p":"0x1p-1"`, `top_p must be a number, got "0x1p-1"`},
		{`"top_p":[0.5]`, `top_p must be a number, got [0.5]`},
		{`"top_k":1.5`, `top_k must be a whole number, got 1.5`},
		{`"top_k":"1.5"`, `top_k must be a whole number, got "1.5"`},
		{`"top_k":"1e3"`, `top_k must be a number, got "1e3"`},
		{`"min_tokens":0.5`, `min_tokens must be a whole number, got 0.5`},
		{`"min_tokens":"0.5"`, `min_tokens must be a whole number, got 0.5`},
		{`"min_tokens":"x"`, `field "min_tokens" holds a JSON string where a number is wanted`},
		{`"temperature":"x"`, `field "temperature" holds a JSON string where a number is wanted`},
		{`"n":1.5`, `field "n" holds a JSON number 1.5 where a whole number is wanted`},
		{`"n":"1.5"`, `field "n" holds a JSON string where a whole number is wanted`},
		{`"max_tokens":"1e0"`, `field "max_tokens" holds a JSON string where a whole number is wanted`},
		// logprobs and prompt_logprobs: vLLM's check_logprobs refuses a text.
		{`"logprobs":"1"`, `field "logprobs" holds a JSON string where a whole number is wanted`},
		{`"prompt_logprobs":"1"`, `field "prompt_logprobs" holds a JSON string where a whole number is wanted`},
	} {
		given := c.given
		if !strings.HasPrefix(given, `"max_tokens"`) {
			given = one + "," + given
		}
		if status, got := answer(given); status != 400 || !strings.Contains(got, c.msg) {
			t.Errorf("%s: %d %.300s; want 400 with %s", given, status, got, c.msg)
		}
	}
}

// TestPydanticLaxBoolReading: a JSON value read as pydantic's lax mode
// reads it into a bool field (its conversion table; pydantic-core's
// int_as_bool, float_as_bool, str_as_bool).
func TestPydanticLaxBoolReading(t *testing.T) {
	for _, c := range []struct {
		raw   string
		b, ok bool
	}{
		{`true`, true, true},
		{`false`, false, true},
		{`1`, true, true},
		{`0`, false, true},
		{`-0`, false, true},
		{`1.0`, true, true},
		{`0.0`, false, true},
		{`1e0`, true, true},
		{`2`, false, false},
		{`-1`, false, false},
		{`0.5`, false, false},
		{`1e400`, false, false},
		{`"1"`, true, true},
		{`"0"`, false, true},
		{`"true"`, true, true},
		{`"False"`, false, true},
		{`"TRUE"`, true, true},
		{`"yes"`, true, true},
		{`"No"`, false, true},
		{`"on"`, true, true},
		{`"OFF"`, false, true},
		{`"t"`, true, true},
		{`"F"`, false, true},
		{`"y"`, true, true},
		{`"n"`, false, true},
		{`" true"`, false, false}, // not trimmed
		{`"true "`, false, false},
		{`"1.0"`, false, false}, // a text is no number here
		{`"01"`, false, false},
		{`"2"`, false, false},
		{`"yeſ"`, false, false}, // ASCII case only: ſ folds to s in Unicode
		{`"x"`, false, false},
		{`""`, false, false},
		{`null`, false, false},
		{`[true]`, false, false},
		{`{}`, false, false},
	} {
		b, ok := laxBoolOf(jsonValue(json.RawMessage(c.raw)))
		if ok != c.ok || b != c.b {
			t.Errorf("bool field %s: %v %v, want %v %v", c.raw, b, ok, c.b, c.ok)
		}
	}
}

// TestVLLMBoolFieldsReadLax: each yes/no field of vLLM's CompletionRequest
// that rlt serve reads takes what pydantic's lax mode reads as true or
// false ("yes", "off", 1, 0.0...), answered as that value itself, and
// null where the field is optional; what pydantic refuses is refused,
// saying so. seed, an int field within int64's range, is read as every
// int field and refused past that range.
func TestVLLMBoolFieldsReadLax(t *testing.T) {
	_, ts := testServer(t, VLLM)
	answer := func(fields string) (int, string) {
		return completionAnswer(t, ts.URL, `{"prompt":"ab","max_tokens":1,`+fields+`}`)
	}
	for _, c := range []struct{ given, same string }{
		{`"echo":"yes"`, `"echo":true`},
		{`"echo":"1"`, `"echo":true`},
		{`"echo":1`, `"echo":true`},
		{`"echo":1.0`, `"echo":true`},
		{`"echo":"On"`, `"echo":true`},
		{`"echo":"No"`, `"echo":false`},
		{`"echo":0`, `"echo":false`},
		{`"echo":null`, `"echo":false`},
		{`"logprobs":1,"return_tokens_as_token_ids":"y"`, `"logprobs":1,"return_tokens_as_token_ids":true`},
		{`"logprobs":1,"return_tokens_as_token_ids":"f"`, `"logprobs":1,"return_tokens_as_token_ids":false`},
		{`"stop":["a"],"include_stop_str_in_output":"TRUE"`, `"stop":["a"],"include_stop_str_in_output":true`},
		{`"ignore_eos":"t"`, `"ignore_eos":true`},
		{`"skip_special_tokens":"off"`, `"skip_special_tokens":false`},
		{`"skip_special_tokens":0.0`, `"skip_special_tokens":false`},
		{`"stream":"no"`, `"stream":false`},
		{`"stream":0`, `"stream":false`},
		{`"add_special_tokens":"false"`, `"add_special_tokens":false`},
		{`"spaces_between_special_tokens":"n"`, `"spaces_between_special_tokens":false`},
		{`"return_token_offsets":null`, `"return_token_offsets":false`},
		{`"return_mm_kwargs":"Yes"`, `"return_mm_kwargs":true`},
		{`"watermarking":"no"`, `"watermarking":false`},
		{`"use_beam_search":0.0`, `"use_beam_search":false`},
		{`"return_token_ids":"F"`, `"return_token_ids":false`},
		{`"seed":"7"`, `"seed":7`},
		{`"seed":7.0`, `"seed":7`},
		{`"seed":true`, `"seed":1`},
		{`"seed":" 1_000 "`, `"seed":1000`},
		{`"seed":-9223372036854775808`, `"seed":0`},
		{`"seed":"9223372036854775807"`, `"seed":0`},
	} {
		status, got := answer(c.given)
		wantStatus, want := answer(c.same)
		if wantStatus != 200 {
			t.Fatalf("%s: %d %s", c.same, wantStatus, want)
		}
		if status != 200 || got != want {
			t.Errorf("%s: %d %.300s; want %s's answer %.300s", c.given, status, got, c.same, want)
		}
	}
	for _, c := range []struct{ given, msg string }{
		// What pydantic reads as true, refused as true is.
		{`"stream":"yes"`, `rlt serve answers one choice a prompt, not streamed`},
		{`"watermarking":"on"`, `watermarking changes which token is generated`},
		{`"use_beam_search":1`, `use_beam_search is not served`},
		{`"return_token_ids":"1"`, `return_token_ids is not served`},
		// What pydantic refuses.
		{`"echo":"x"`, `field "echo" holds a JSON string where true or false is wanted`},
		{`"echo":2`, `field "echo" holds a JSON number where true or false is wanted`},
		{`"echo":0.5`, `field "echo" holds a JSON number where true or false is wanted`},
		{`"echo":" true"`, `field "echo" holds a JSON string where true or false is wanted`},
		{`"stream":"yeſ"`, `field "stream" holds a JSON string where true or false is wanted`},
		{`"ignore_eos":null`, `ignore_eos must be true or false, got null`},
		{`"skip_special_tokens":null`, `skip_special_tokens must be true or false, got null`},
		{`"include_stop_str_in_output":null`, `include_stop_str_in_output must be true or false, got null`},
		{`"add_special_tokens":"x"`, `add_special_tokens must be true or false, got "x"`},
		{`"add_special_tokens":null`, `add_special_tokens must be true or false, got null`},
		{`"spaces_between_special_tokens":2`, `spaces_between_special_tokens must be true or false, got 2`},
		{`"return_token_offsets":[]`, `return_token_offsets must be true or false, got []`},
		{`"return_mm_kwargs":"2"`, `return_mm_kwargs must be true or false, got "2"`},
		{`"watermarking":"x"`, `watermarking must be true or false, got "x"`},
		{`"use_beam_search":null`, `use_beam_search must be true or false, got null`},
		{`"return_token_ids":{}`, `return_token_ids must be true or false, got {}`},
		{`"seed":"x"`, `seed must be a number, got "x"`},
		{`"seed":[1]`, `seed must be a number, got [1]`},
		{`"seed":1.5`, `seed must be a whole number, got 1.5`},
		{`"seed":"1.5"`, `seed must be a whole number, got "1.5"`},
		{`"seed":9223372036854775808`, `seed: Input should be less than or equal to 9223372036854775807, got 9223372036854775808`},
		{`"seed":-9223372036854775809`, `seed: Input should be greater than or equal to -9223372036854775808, got -9223372036854775809`},
		{`"seed":1e19`, `seed: Unable to parse input string as an integer, exceeded maximum size, got 1e19`},
	} {
		if status, got := answer(c.given); status != 400 || !strings.Contains(got, c.msg) {
			t.Errorf("%s: %d %.300s; want 400 with %s", c.given, status, got, c.msg)
		}
	}
}

// TestVLLMIntFieldsPastInt64: an int field of vLLM 0.24.0's
// CompletionRequest given a whole number past int64's range, or a number
// pydantic-core cannot make an int of, is refused as pydantic refuses it,
// in pydantic-core's words and before an unknown model's 404: a text or
// JSON integer, which Python's int holds, by the field's Field bounds
// where it has them (less_than_equal, greater_than_equal); a float past
// int64's range or a text past 4300 characters as too large
// (int_parsing_size); an infinity as not finite (finite_number); and
// logprobs below 0 but -1, whole or not, by check_logprobs. A field
// without bounds reads such an integer as the number it is.
func TestVLLMIntFieldsPastInt64(t *testing.T) {
	_, ts := testServer(t, VLLM)
	long := `"1` + strings.Repeat("0", 4300) + `"`
	for _, c := range []struct {
		fields string
		status int
		msg    string
	}{
		{`"seed":"9223372036854775808"`, 400, `seed: Input should be less than or equal to 9223372036854775807, got "9223372036854775808"`},
		{`"seed":" -9_223_372_036_854_775_809 "`, 400, `seed: Input should be greater than or equal to -9223372036854775808, got " -9_223_372_036_854_775_809 "`},
		{`"seed":-1e19`, 400, `seed: Unable to parse input string as an integer, exceeded maximum size, got -1e19`},
		{`"seed":` + long, 400, `seed: Unable to parse input string as an integer, exceeded maximum size`},
		{`"seed":1e999`, 400, `seed: Input should be a finite number, got 1e999`},
		{`"priority":"99999999999999999999"`, 400, `priority: Input should be less than or equal to 9223372036854775807, got "99999999999999999999"`},
		{`"max_tokens":1e19`, 400, `max_tokens: Unable to parse input string as an integer, exceeded maximum size, got 1e19`},
		{`"max_tokens":` + long, 400, `max_tokens: Unable to parse input string as an integer, exceeded maximum size`},
		{`"n":-1e999`, 400, `n: Input should be a finite number, got -1e999`},
		{`"min_tokens":1e30`, 400, `min_tokens: Unable to parse input string as an integer, exceeded maximum size, got 1e30`},
		{`"logprobs":-1.5`, 400, "`logprobs` must be a positive value or -1."},
		{`"prompt_logprobs":-1e999,"logprobs":-2`, 400, "`prompt_logprobs` must be a positive value or -1."},
		{`"logprobs":1e999`, 400, `logprobs: Input should be a finite number, got 1e999`},
		// Read by pydantic as the integer it is; past what rlt serve
		// holds, said so rather than as no number.
		{`"max_tokens":"9223372036854775808"`, 400, `the body is not the JSON expected: field "max_tokens" holds 9223372036854775808, a whole number past the largest it can be`},
		// No bounds: read, and past the model's lookup.
		{`"top_k":"99999999999999999999"`, 404, "The model `nope` does not exist."},
		{`"stream_interval":"99999999999999999999"`, 404, "The model `nope` does not exist."},
		{`"seed":"9223372036854775807"`, 404, "The model `nope` does not exist."},
	} {
		status, got := completionAnswer(t, ts.URL, `{"model":"nope","prompt":"ab","max_tokens":1,`+c.fields+`}`)
		if status != c.status || !strings.HasPrefix(got, c.msg) {
			t.Errorf("%.80s: %d %.300s; want %d with %s", c.fields, status, got, c.status, c.msg)
		}
	}
}

// completionAnswer posts body to url's /v1/completions and gives what the
// lax-reading tests compare: the status, and the choices of an answer or
// the message of a refusal.
func completionAnswer(t *testing.T, url, body string) (int, string) {
	t.Helper()
	status, resp := post(t, url+"/v1/completions", body)
	if status != 200 {
		var e struct{ Error struct{ Message string } }
		if err := json.Unmarshal([]byte(resp), &e); err != nil {
			t.Fatal(err)
		}
		return status, e.Error.Message
	}
	var r struct{ Choices json.RawMessage }
	if err := json.Unmarshal([]byte(resp), &r); err != nil {
		t.Fatal(err)
	}
	return status, string(r.Choices)
}
