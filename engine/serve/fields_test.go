package serve

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/rlt"
)

// TestVLLMFields: each field vLLM's CompletionRequest defines beyond those
// rlt serve reads is either answered as vLLM answers it for the one greedy
// token (the choices the bytes of a request without it) or refused with
// vLLM's 400, naming the field; a field vLLM does not define is passed
// over, as vLLM passes it over.
func TestVLLMFields(t *testing.T) {
	_, ts := testServer(t, VLLM)
	const base = `"prompt":"a","max_tokens":1,"logprobs":2,"prompt_logprobs":1`
	choices := func(body string) (int, string) {
		status, resp := post(t, ts.URL+"/v1/completions", body)
		if status != 200 {
			return status, resp
		}
		var r struct{ Choices json.RawMessage }
		if err := json.Unmarshal([]byte(resp), &r); err != nil {
			t.Fatal(err)
		}
		return status, string(r.Choices)
	}
	_, plain := choices(`{` + base + `}`)
	for _, field := range []string{
		`"user":"u"`, `"seed":3`, `"vllm_xargs":{"a":1}`, `"add_special_tokens":false`, `"spaces_between_special_tokens":false`,
		`"length_penalty":2`, `"frequency_penalty":1.5`, `"presence_penalty":-2`, `"top_p":0.5`, `"top_k":5`, `"top_k":-1`, `"top_k":0`, `"top_k":3.0`,
		`"min_p":0.1`, `"cache_salt":"salt"`, `"stream_options":null`, `"stream_options":{}`, `"priority":0`,
		`"response_format":{"type":"text"}`, `"repetition_penalty":1`, `"min_tokens":0`, `"use_beam_search":false`,
		`"best_of":1`, `"best_of":"1"`, `"best_of":null`, `"logit_bias":{}`, `"allowed_token_ids":null`, `"return_token_ids":false`,
		`"max_repetition_pattern_size":2`, `"min_repetition_pattern_size":1`, `"repetition_min_count":3`, // no vLLM release defines them
		`"truncate_prompt_tokens":null`, `"suffix":null`, `"request_id":"r"`, `"a_field_vllm_does_not_define":[1]`,
		`"session_id":"s"`, `"return_token_offsets":true`, `"return_mm_kwargs":false`, `"routed_experts_prompt_start":3`,
		`"stream_interval":2`, `"truncation_side":"left"`, `"truncation_side":null`, `"thinking_token_budget":-1`,
		`"thinking_token_budget":null`, `"watermarking":false`, `"logprob_token_ids":null`, `"repetition_detection":null`,
		`"ec_transfer_params":{}`, `"bad_words":[]`, `"min_tokens":0`, `"allowed_token_ids":null`,
	} {
		if status, got := choices(`{` + base + `,` + field + `}`); status != 200 || got != plain {
			t.Errorf("%s: %d %.300s; want the choices without it", field, status, got)
		}
	}
	for _, c := range []struct{ field, param, msg string }{
		{`"suffix":"x"`, "suffix", `suffix is not currently supported`},
		{`"logits_processors":["m.P"]`, "logits_processors", `logits_processors changes which token`},
		{`"structured_outputs":{"regex":"a"}`, "structured_outputs", `structured_outputs changes which token`},
		{`"guided_choice":["a"]`, "guided_choice", `guided_choice changes which token`},
		{`"response_format":{"type":"json_object"}`, "response_format", `response_format constrains the generated text`},
		{`"repetition_penalty":1.2`, "repetition_penalty", `repetition_penalty penalizes the prompt's tokens`},
		{`"use_beam_search":true`, "use_beam_search", `use_beam_search is not served`},
		{`"best_of":2`, "best_of", `best_of asks for the best of several sequences (got 2), a field vLLM v0.24.0 no longer defines`},
		{`"best_of":"x"`, "best_of", `best_of asks for the best of several sequences (got "x")`},
		{`"truncate_prompt_tokens":5`, "truncate_prompt_tokens", `truncate_prompt_tokens is not served`},
		{`"prompt_embeds":"AAAA"`, "prompt_embeds", `prompt_embeds is not served`},
		{`"return_token_ids":true`, "return_token_ids", `return_token_ids is not served`},
		{`"kv_transfer_params":{"a":1}`, "kv_transfer_params", `kv_transfer_params is not served`},
		{`"stream_options":{"include_usage":true}`, "stream_options", "Stream options can only be defined when `stream=True`."},
		{`"priority":1`, "priority", `Got priority 1 but Priority scheduling is not enabled.`},
		{`"cache_salt":""`, "cache_salt", `Parameter 'cache_salt' must be a non-empty string if provided.`},
		{`"top_p":0`, "top_p", `top_p must be in (0, 1], got 0.`},
		{`"top_k":-2`, "top_k", `top_k must be 0 (disable), or at least 1, got -2.`},
		{`"min_p":2`, "min_p", `min_p must be in [0, 1], got 2.`},
		{`"frequency_penalty":3`, "frequency_penalty", `frequency_penalty must be in [-2, 2], got 3.`},
		{`"presence_penalty":"x"`, "presence_penalty", `presence_penalty must be a number, got "x"`},
		{`"top_k":1.5`, "top_k", `top_k must be a whole number, got 1.5`},
		{`"watermarking":true`, "watermarking", `watermarking changes which token is generated`},
		{`"logprob_token_ids":[5]`, "logprob_token_ids", `logprob_token_ids is not served: ask logprobs N`},
		{`"logprob_token_ids":[]`, "logprob_token_ids", "`logprob_token_ids` must not be an empty list."},
		{`"repetition_detection":{"max_pattern_size":4}`, "repetition_detection", `repetition_detection is not served`},
		{`"ec_transfer_params":{"a":1}`, "ec_transfer_params", `ec_transfer_params is not served`},
		{`"thinking_token_budget":100`, "thinking_token_budget", `thinking_token_budget is not served: rlt serve has no reasoning parser`},
		{`"thinking_token_budget":0`, "thinking_token_budget", `thinking_token_budget is not served: rlt serve has no reasoning parser`},
		{`"thinking_token_budget":true`, "thinking_token_budget", "`thinking_token_budget` must be a non-negative integer or -1 for unlimited. (parameter=thinking_token_budget, value=true)"},
		{`"thinking_token_budget":"-1"`, "thinking_token_budget", "`thinking_token_budget` must be a non-negative integer or -1 for unlimited. (parameter=thinking_token_budget, value=\"-1\")"},
		{`"truncation_side":"middle"`, "truncation_side", `truncation_side must be "left" or "right", got "middle"`},
		{`"stream_interval":0`, "stream_interval", `stream_interval: Input should be greater than or equal to 1, got 0`},
		{`"routed_experts_prompt_start":-1`, "routed_experts_prompt_start", `routed_experts_prompt_start: Input should be greater than or equal to 0, got -1`},
	} {
		status, resp := post(t, ts.URL+"/v1/completions", `{`+base+`,`+c.field+`}`)
		var r struct {
			Error struct{ Message, Param string }
		}
		if status != 400 || json.Unmarshal([]byte(resp), &r) != nil || r.Error.Param != c.param || !strings.HasPrefix(r.Error.Message, c.msg) {
			t.Errorf("%s: %d %s; want 400 on %q with %q", c.field, status, resp, c.param, c.msg)
		}
	}
	// The answer's id is vLLM's: "cmpl-" and X-Request-Id, else request_id.
	for _, c := range []struct{ header, body, want string }{
		{"", `{` + base + `,"request_id":"abc"}`, "cmpl-abc"},
		{"hdr", `{` + base + `,"request_id":"abc"}`, "cmpl-hdr"},
	} {
		req, _ := http.NewRequest("POST", ts.URL+"/v1/completions", strings.NewReader(c.body))
		if c.header != "" {
			req.Header.Set("X-Request-Id", c.header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var r struct{ ID string }
		err = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if err != nil || r.ID != c.want {
			t.Errorf("X-Request-Id %q, %s: id %q (%v), want %q", c.header, c.body, r.ID, err, c.want)
		}
	}
}

// TestSGLangFields: each field SGLang's GenerateReqInput and
// SamplingParams define beyond those rlt serve reads is either answered as
// SGLang answers it (the bytes of the request without it: a stop string,
// stop token or ignore_eos changes nothing, as max_new_tokens ends a
// generation of one token first) or refused with SGLang's error body,
// naming the field.
func TestSGLangFields(t *testing.T) {
	s, ts := testServer(t, SGLang)
	ids := s.Tok.Encode("a")
	sc, err := s.Src.PromptLogProbs(ids, 1, rlt.PromptOptions{Next: true})
	if err != nil {
		t.Fatal(err)
	}
	text, _ := json.Marshal(sglangOutputText(s.Tok, ids, sc.Next, true))
	body := func(top, sampling string) string {
		return fmt.Sprintf(`{"text":"a","rid":"r","return_logprob":true,"logprob_start_len":0,"top_logprobs_num":2%s,"sampling_params":{"max_new_tokens":1%s}}`, top, sampling)
	}
	status, plain := post(t, ts.URL+"/generate", body("", ""))
	if status != 200 {
		t.Fatalf("%d %s", status, plain)
	}
	for _, c := range []struct{ top, sampling string }{
		{`,"session_id":"s"`, ``}, {`,"log_metrics":false`, ``}, {`,"priority":3`, ``}, {`,"extra_key":"k"`, ``},
		{`,"cache_salt":"c"`, ``}, {`,"custom_labels":{"a":"b"}`, ``}, {`,"routing_key":"r"`, ``}, {`,"token_ids_logprob":[]`, ``},
		{`,"return_hidden_states":false`, ``}, {`,"lora_path":null`, ``}, {`,"a_field_sglang_does_not_define":1`, ``},
		// What SGLang reads as asking nothing ("if obj.lora_path:", "if
		// obj.custom_logit_processor"), and input_embeds, which it drops
		// beside text (GenerateReqInput._determine_batch_size).
		{`,"lora_path":""`, ``}, {`,"lora_path":[]`, ``}, {`,"custom_logit_processor":""`, ``}, {`,"input_embeds":[[0.5]]`, ``},
		{``, fmt.Sprintf(`,"stop":%s,"stop_token_ids":[%d],"stop_regex":".","no_stop_trim":true`, text, sc.Next)},
		{``, `,"ignore_eos":true`}, {``, `,"sampling_seed":3,"stream_interval":2,"custom_params":{"a":1}`},
		{``, `,"top_p":0.5,"top_k":3,"min_p":0.2`}, {``, `,"top_k":-1`}, {``, `,"frequency_penalty":1,"presence_penalty":-1`},
		{``, `,"n":1,"min_new_tokens":0,"repetition_penalty":1,"logit_bias":null,"json_schema":null`},
		{``, `,"spaces_between_special_tokens":false`},
		{``, `,"stop_strs":["x"],"stop_regex_strs":null,"stop_str_max_len":4,"stop_regex_max_len":0,"is_normalized":false`},
		{``, `,"repetition_penalty":1.0,"min_new_tokens":null,"stop_token_ids":null`},
		// Below temperature 1e-6 SGLang puts top_k 1 over any given
		// (SamplingParams.__post_init__), before verify would refuse it.
		{``, `,"temperature":0,"top_k":0`}, {``, `,"temperature":-0.0,"top_k":2.5`}, {``, `,"temperature":0,"top_k":NaN`},
		{``, `,"temperature":0,"top_k":"x"`}, {``, `,"top_k":-5,"temperature":0.0`},
		// What SGLang's own frontend sends (SglSamplingParams.to_srt_kwargs), at its defaults.
		{``, `,"stop":[],"stop_token_ids":[],"temperature":1.0,"top_p":1.0,"top_k":-1,"min_p":0.0,"frequency_penalty":0.0,"presence_penalty":0.0,"ignore_eos":false,"regex":null`},
	} {
		if status, got := post(t, ts.URL+"/generate", body(c.top, c.sampling)); status != 200 || got != plain {
			t.Errorf("%s %s: %d %.300s; want the answer without it", c.top, c.sampling, status, got)
		}
	}
	for _, c := range []struct{ top, sampling, want string }{
		{`,"image_data":"x.png"`, ``, `image_data is not served: rlt serve's models read text only`},
		{`,"token_ids_logprob":[1]`, ``, `token_ids_logprob is not served`},
		{`,"return_hidden_states":true`, ``, `return_hidden_states is not served`},
		{`,"lora_path":"adapter"`, ``, `lora_path is not served`},
		{`,"session_params":{"id":"x"}`, ``, `session_params is not served`},
		{`,"custom_logit_processor":"p"`, ``, `custom_logit_processor changes which token is generated`},
		{`,"return_entropy":true`, ``, `return_entropy is not served`},
		{``, `,"n":2`, `sampling_params.n 2 asks for 2 samples at temperature 1, which would differ`},
		{``, `,"n":0`, `sampling_params.n must be a whole number of at least 1, got 0`},
		{``, `,"repetition_penalty":1.1`, `sampling_params.repetition_penalty changes which token is generated`},
		{``, `,"json_schema":"{}"`, `sampling_params.json_schema changes which token`},
		{``, `,"regex":"a+"`, `sampling_params.regex changes which token`},
		{``, `,"ebnf":"root ::= \"a\""`, `sampling_params.ebnf changes which token`},
		{``, `,"top_k":0`, `sampling_params.top_k must be -1 (disable) or at least 1, got 0.`},
		{``, `,"top_p":1.5`, `sampling_params.top_p must be in (0, 1], got 1.5.`},
		{``, `,"top_k":2.5`, `sampling_params.top_k must be a whole number, got 2.5`},
		{``, `,"top_k":0.5`, `sampling_params.top_k must be -1 (disable) or at least 1, got 0.5.`}, // verify's bound before its being whole
		// SGLang's greedy sampling puts top_k 1 over the one given only
		// below temperature 1e-6; null is its 1.0.
		{``, `,"temperature":1e-6,"top_k":0`, `sampling_params.top_k must be -1 (disable) or at least 1, got 0.`},
		{``, `,"temperature":null,"top_k":0`, `sampling_params.top_k must be -1 (disable) or at least 1, got 0.`},
		{``, `,"is_normalized":true`, `sampling_params.is_normalized is SGLang's own state`},
		{``, `,"repetition_penalty":0`, `sampling_params.repetition_penalty must be in (0, 2] (1.0 = no penalty), got 0.`},
		{``, `,"repetition_penalty":2.5`, `sampling_params.repetition_penalty must be in (0, 2] (1.0 = no penalty), got 2.5.`},
		{``, `,"max_new_tokens":null`, `rlt serve computes input log-probs: sampling_params.max_new_tokens must be 0 or 1 (got null, no bound)`},
	} {
		status, got := post(t, ts.URL+"/generate", body(c.top, c.sampling))
		if status != 400 || !strings.HasPrefix(got, `{"error":{"message":"`+c.want) {
			t.Errorf("%s %s: %d %s; want 400 with %s", c.top, c.sampling, status, got, c.want)
		}
	}
	// An entry of a list of sampling_params is named by its index.
	status, got := post(t, ts.URL+"/generate", `{"text":["a","b"],"sampling_params":[{"max_new_tokens":1},{"max_new_tokens":1,"top_k":0}]}`)
	if status != 400 || !strings.Contains(got, `sampling_params[1].top_k must be -1 (disable) or at least 1, got 0.`) {
		t.Errorf("a list's entry: %d %s", status, got)
	}
	// Each entry's own temperature decides whether its top_k is read.
	status, got = post(t, ts.URL+"/generate", `{"text":["a","b"],"sampling_params":[{"max_new_tokens":1,"temperature":0,"top_k":0},{"max_new_tokens":1,"top_k":0}]}`)
	if status != 400 || !strings.Contains(got, `sampling_params[1].top_k must be -1 (disable) or at least 1, got 0.`) {
		t.Errorf("a list's entry at temperature 1 after one at 0: %d %s", status, got)
	}
}

// TestFieldNamesAreCaseSensitive: vLLM's and SGLang's pydantic models
// match a request's keys exactly, so "Prompt" or "MAX_TOKENS" is not their
// field (passed over: the answer would be computed without it), where
// encoding/json would read it as that field. Such a key is refused,
// naming the field's spelling (OpenAI's param the key), as is any key of
// SGLang's sampling_params that SamplingParams does not define, which
// SGLang refuses.
func TestFieldNamesAreCaseSensitive(t *testing.T) {
	_, ts := testServer(t, Both)
	for _, c := range []struct {
		path, body string
		param      string // vLLM's "param"; "" for SGLang's error
		want       string
	}{
		{"/v1/completions", `{"Prompt":"a","max_tokens":1}`, "Prompt", `"Prompt" is not a field: the field is "prompt" (field names are case-sensitive)`},
		{"/v1/completions", `{"prompt":"a","MAX_TOKENS":1}`, "MAX_TOKENS", `"MAX_TOKENS" is not a field: the field is "max_tokens"`},
		{"/v1/completions", `{"prompt":"a","max_tokens":1,"Prompt_Logprobs":2}`, "Prompt_Logprobs", `the field is "prompt_logprobs"`},
		{"/v1/completions", `{"prompt":"a","max_tokens":1,"Top_P":0.5}`, "Top_P", `the field is "top_p"`},
		{"/v1/completions", `{"Model":"another","prompt":"a","max_tokens":1}`, "Model", `the field is "model"`},
		{"/v1/completions", `{"prompt":"a","max_tokens":1,"response_format":{"Type":"text"}}`, "response_format", `response_format constrains the generated text`},
		{"/tokenize", `{"Prompt":"a"}`, "Prompt", `the field is "prompt"`},
		{"/generate", `{"Text":"a","sampling_params":{"max_new_tokens":1}}`, "", `"Text" is not a field: the field is "text" (field names are case-sensitive)`},
		{"/generate", `{"text":"a","Sampling_Params":{"max_new_tokens":1}}`, "", `"Sampling_Params" is not a field: the field is "sampling_params"`},
		{"/generate", `{"text":"a","sampling_params":{"max_new_tokens":1},"Return_Logprob":true}`, "", `the field is "return_logprob"`},
		{"/generate", `{"text":"a","sampling_params":{"max_new_tokens":1},"LoRA_Path":"x"}`, "", `the field is "lora_path"`},
		{"/generate", `{"text":"a","sampling_params":{"Max_New_Tokens":1}}`, "", `sampling_params: "Max_New_Tokens" is not a field: the field is "max_new_tokens"`},
		{"/generate", `{"text":["a","b"],"sampling_params":[{"max_new_tokens":1},{"max_new_tokens":1,"Temperature":0}]}`, "", `sampling_params[1]: "Temperature" is not a field: the field is "temperature"`},
		{"/generate", `{"text":"a","sampling_params":{"max_new_tokens":1,"max_tokens":1}}`, "", `sampling_params: "max_tokens" is not a sampling parameter`},
		{"/generate", `{"text":"a","sampling_params":{"max_new_tokens":1,"dtype":"int"}}`, "", `sampling_params: "dtype" is not a sampling parameter`}, // SGLang's before 0.2
		{"/generate", `{"text":"a","sampling_params":{"max_new_tokens":1,"Min_New_Tokens":1}}`, "", `sampling_params: "Min_New_Tokens" is not a field: the field is "min_new_tokens"`},
		{"/generate", `{"text":"a","sampling_params":{"max_new_tokens":1,"Stop_Token_IDs":[1]}}`, "", `the field is "stop_token_ids"`},
		{"/generate", `{"text":"a","sampling_params":{"max_new_tokens":1,"IS_NORMALIZED":false}}`, "", `the field is "is_normalized"`},
		{"/v1/completions", `{"prompt":"a","max_tokens":1,"Bad_Words":["x"]}`, "Bad_Words", `the field is "bad_words"`},
		{"/v1/completions", `{"prompt":"a","max_tokens":1,"MIN_TOKENS":1}`, "MIN_TOKENS", `the field is "min_tokens"`},
		{"/v1/completions", `{"prompt":"a","max_tokens":1,"Watermarking":true}`, "Watermarking", `the field is "watermarking"`},
	} {
		status, resp := post(t, ts.URL+c.path, c.body)
		var r struct {
			Error struct {
				Message string
				Param   *string
			}
		}
		if err := json.Unmarshal([]byte(resp), &r); err != nil || status != 400 || !strings.Contains(r.Error.Message, c.want) {
			t.Errorf("%s %s: %d %s; want 400 with %q", c.path, c.body, status, resp, c.want)
			continue
		}
		if c.path != "/generate" && (r.Error.Param == nil || *r.Error.Param != c.param) {
			t.Errorf("%s %s: param %v, want %q", c.path, c.body, r.Error.Param, c.param)
		}
	}
	// Keys spelled as the servers spell them are answered.
	for _, c := range []struct{ path, body string }{
		{"/v1/completions", `{"prompt":"a","max_tokens":1,"top_p":0.5,"response_format":{"type":"text"}}`},
		{"/tokenize", `{"prompt":"a"}`},
		{"/generate", `{"text":"a","sampling_params":{"max_new_tokens":1,"temperature":0,"top_p":0.5}}`},
	} {
		if status, resp := post(t, ts.URL+c.path, c.body); status != 200 {
			t.Errorf("%s %s: %d %s; want 200", c.path, c.body, status, resp)
		}
	}
}

// TestStopRegex: SGLang's stop_regex changes nothing of a one-token
// generation (max_new_tokens ends it before a stop is looked for), but
// SGLang parses each expression first (SamplingParams.normalize), so one
// that does not parse is never answered: it is refused with a 400 naming
// the field, the expression and what is wrong with it, and one that parses
// is answered as without it.
func TestStopRegex(t *testing.T) {
	_, ts := testServer(t, SGLang)
	body := func(sampling string) string {
		return `{"text":"a","rid":"r","sampling_params":{"max_new_tokens":1` + sampling + `}}`
	}
	status, plain := post(t, ts.URL+"/generate", body(""))
	if status != 200 {
		t.Fatalf("%d %s", status, plain)
	}
	for _, sampling := range []string{
		`,"stop_regex":"."`, `,"stop_regex":"a+|\\d{2,3}$"`, `,"stop_regex":["\\n\\n","(?i)answer:"]`,
		`,"stop_regex":null`, `,"stop_regex":[]`, `,"stop_regex":""`,
	} {
		if status, got := post(t, ts.URL+"/generate", body(sampling)); status != 200 || got != plain {
			t.Errorf("%s: %d %.300s; want the answer without it", sampling, status, got)
		}
	}
	for _, c := range []struct{ body, want string }{
		{body(`,"stop_regex":"("`), "sampling_params.stop_regex \\\"(\\\" is not a regular expression: missing closing ): `(`"},
		{body(`,"stop_regex":["a","[b"]`), "sampling_params.stop_regex[1] \\\"[b\\\" is not a regular expression: missing closing ]: `[b`"},
		{body(`,"stop_regex":"a{2,1}"`), "sampling_params.stop_regex \\\"a{2,1}\\\" is not a regular expression: invalid repeat count"},
		{body(`,"stop_regex":"(?=x)"`), "sampling_params.stop_regex \\\"(?=x)\\\" is not a regular expression: invalid or unsupported Perl syntax: `(?=` (rlt serve reads stop_regex in Go's RE2 syntax"},
		{body(`,"stop_regex":5`), "sampling_params.stop_regex must be a regular expression or a list of them, got 5"},
		{`{"text":["a","b"],"sampling_params":[{"max_new_tokens":1},{"max_new_tokens":1,"stop_regex":"*"}]}`, "sampling_params[1].stop_regex \\\"*\\\" is not a regular expression: missing argument to repetition operator: `*`"},
	} {
		status, got := post(t, ts.URL+"/generate", c.body)
		if status != 400 || !strings.HasPrefix(got, `{"error":{"message":"`+c.want) {
			t.Errorf("%s: %d %s; want 400 with %s", c.body, status, got, c.want)
		}
	}
}

// TestTokenizeFieldsReadLax: /tokenize reads the yes/no fields of vLLM
// 0.24.0's TokenizeCompletionRequest as its pydantic model reads them in
// lax mode, each answered as the value read ("no" as false), and refuses
// what pydantic refuses, before an unknown model's 404; return_token_strs
// true, whose token strings rlt serve does not give, is refused after it.
// The chat request's fields are passed over in a body of a prompt, as
// vLLM passes them over.
func TestTokenizeFieldsReadLax(t *testing.T) {
	_, ts := testServer(t, VLLM)
	_, want := post(t, ts.URL+"/tokenize", `{"prompt":"ab"}`)
	for _, c := range []struct {
		fields string
		status int
		msg    string // the error's message, or "" for want's answer
	}{
		{`"add_special_tokens":"no"`, 200, ""},
		{`"add_special_tokens":1`, 200, ""},
		{`"add_special_tokens":"TRUE"`, 200, ""},
		{`"return_token_strs":"off"`, 200, ""},
		{`"return_token_strs":null`, 200, ""},
		{`"return_token_strs":0.0`, 200, ""},
		{`"add_generation_prompt":"x","continue_final_message":5`, 200, ""},
		{`"add_special_tokens":"x"`, 400, `add_special_tokens must be true or false, got "x"`},
		{`"add_special_tokens":null`, 400, `add_special_tokens must be true or false, got null`},
		{`"add_special_tokens":2,"model":"nope"`, 400, `add_special_tokens must be true or false, got 2`},
		{`"return_token_strs":" yes","model":"nope"`, 400, `return_token_strs must be true or false, got " yes"`},
		{`"return_token_strs":"y"`, 400, `return_token_strs is not served`},
		{`"return_token_strs":true,"model":"nope"`, 404, "The model `nope` does not exist."},
	} {
		status, got := post(t, ts.URL+"/tokenize", `{"prompt":"ab",`+c.fields+`}`)
		if c.msg == "" {
			if status != 200 || got != want {
				t.Errorf("%s: %d %s; want %s", c.fields, status, got, want)
			}
			continue
		}
		var r struct{ Error struct{ Message string } }
		if status != c.status || json.Unmarshal([]byte(got), &r) != nil || !strings.HasPrefix(r.Error.Message, c.msg) {
			t.Errorf("%s: %d %s; want %d with %s", c.fields, status, got, c.status, c.msg)
		}
	}
}

// TestTypeFaultsMarked: each vLLM rule marks a refusal a type fault
// (ruling.ofType: refused before the model is looked up, typeFaults)
// exactly when it is one: said as a value not of the field's type
// (notNumber, notWhole, notBool, notText, notTexts, notObject, with the
// value as given: asGiven), in pydantic-core's words or in a field
// validator's (badThinkingBudget); and no other refusal, of a
// value the field's type holds, is marked so. Each rule is tried on values
// of every JSON kind, so a rule builder that forgot to mark its type
// faults, or marked a bound's refusal as one, is caught here, whatever
// requests the other tests send.
func TestTypeFaultsMarked(t *testing.T) {
	probes := []string{`"x"`, `""`, `"1.5"`, `"7"`, `" yes"`, `"left"`, `"text"`, `1.5`, `2.0`, `2`, `1`, `0`, `-1`, `-5`, `5`, `true`, `false`,
		`null`, `[]`, `[1]`, `["a"]`, `{}`, `{"a":1}`, `{"type":"text"}`, pyInf, pyNaN, `9223372036854775808`, `-9223372036854775809`,
		`"` + strings.Repeat("1", maxIntDigits+1) + `"`}
	typeWords := func(why string, raw json.RawMessage) bool {
		if pydanticWords(why) {
			return true
		}
		for _, f := range []string{notNumber, notWhole, notBool, notText, notTexts, notObject, badThinkingBudget} {
			if why == fmt.Sprintf(f, asGiven(raw)) {
				return true
			}
		}
		return false
	}
	types := 0
	for set, rules := range map[string]map[string]fieldRule{"vllmFields": vllmFields, "vllmModelFields": vllmModelFields,
		"vllmReadBools": vllmReadBools, "vllmTokenizeFields": vllmTokenizeFields} {
		for name, rule := range rules {
			for _, p := range probes {
				raw := json.RawMessage(p)
				r := rule(raw)
				if r.ofType && r.why == "" {
					t.Errorf("%s[%q](%s): a type fault without a reason", set, name, p)
				}
				if r.ofType != typeWords(r.why, raw) {
					t.Errorf("%s[%q](%s): %q marked a type fault: %v", set, name, p, r.why, r.ofType)
				}
				if r.ofType {
					types++
				}
			}
		}
	}
	if types == 0 {
		t.Error("no rule refused a value as a type fault")
	}
}
