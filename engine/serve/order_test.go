package serve

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestFaultsReportedInVLLMsOrder: of a /v1/completions request with two
// faults, the one refused is the one vLLM reports first (the first fault
// of each case; the other's refusal follows it). vLLM reads the body
// through its pydantic model (types, constraints, model validators), looks
// the model up (404), renders the prompts (suffix, one too long), makes
// and checks the sampling parameters (SamplingParams._verify_args, in its
// order: n, penalties, temperature, top_p, top_k, min_p, max_tokens,
// min_tokens, stop, bad_words; then greedy sampling's n), checks them against the
// model (logprobs, logit_bias, stop_token_ids, allowed_token_ids), and
// last checks each prompt (empty, then ids outside the vocabulary). What
// rlt serve refuses that vLLM answers (stream, n above 1, max_tokens
// above 1, every token held back) comes after all vLLM refuses.
func TestFaultsReportedInVLLMsOrder(t *testing.T) {
	s, ts := testServer(t, VLLM)
	long := fmt.Sprint(make([]int, s.maxLen())) // the prompt and the generated token do not fit
	long = "[" + strings.ReplaceAll(strings.Trim(long, "[]"), " ", ",") + "]"
	tooLong := fmt.Sprintf("You passed %d input tokens and requested", s.maxLen()) // vLLM 0.24.0's renderer's words
	notFound := "The model `nope` does not exist."
	outside := fmt.Sprintf("token_id(s) [99999] in stop_token_ids contain out-of-vocab token ids. Vocabulary size: %d", s.Src.Vocab)
	for _, c := range []struct {
		name, body   string
		status       int
		param, first string
	}{
		// The body's validation before the model.
		{"prompt_logprobs below -1, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"prompt_logprobs":-5`, 400, "prompt_logprobs", "`prompt_logprobs` must be a positive value or -1."},
		{"logprobs below -1, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"logprobs":-2`, 400, "logprobs", "`logprobs` must be a positive value or -1."},
		{"no prompt, an unknown model", `"model":"nope","max_tokens":1`, 400, "prompt", "Either prompt or prompt_embeds must be provided and non-empty. (parameter=prompt)"},
		{"a prompt of one empty text, an unknown model", `"model":"nope","prompt":"","max_tokens":1`, 400, "prompt", "Either prompt or prompt_embeds must be provided and non-empty. (parameter=prompt)"},
		{"a prompt id below 0, an unknown model", `"model":"nope","prompt":[5,-1],"max_tokens":1`, 400, "prompt", "prompt[1]: Input should be greater than or equal to 0, got -1"},
		{"a batch's prompt id below 0, an unknown model", `"model":"nope","prompt":[[5],[-3]],"max_tokens":1`, 400, "prompt", "prompt[1][0]: Input should be greater than or equal to 0, got -3"},
		{"a prompt id below 0, a prompt too long", `"prompt":[[-1],` + long + `],"max_tokens":1`, 400, "prompt", "prompt[0][0]: Input should be greater than or equal to 0"},
		{"an unknown model, prompt_embeds without a prompt", `"model":"nope","prompt_embeds":"AAAA","max_tokens":1`, 404, "model", notFound},
		{"prompt_embeds without a prompt", `"prompt_embeds":"AAAA","max_tokens":1`, 400, "prompt_embeds", "prompt_embeds is not served"},
		{"an empty cache_salt, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"cache_salt":""`, 400, "cache_salt", "Parameter 'cache_salt' must be a non-empty string if provided."},
		{"min_tokens not whole, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"min_tokens":0.5`, 400, "min_tokens", "min_tokens must be a whole number"},
		{"top_p no number, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"top_p":"x"`, 400, "top_p", `top_p must be a number, got "x"`},
		{"top_k not whole, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"top_k":1.5`, 400, "top_k", "top_k must be a whole number, got 1.5"},
		{"an empty logprob_token_ids, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"logprob_token_ids":[]`, 400, "logprob_token_ids", "`logprob_token_ids` must not be an empty list."},
		{"seed no number, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"seed":"x"`, 400, "seed", `seed must be a number, got "x"`},
		{"seed past int64's range, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"seed":9223372036854775808`, 400, "seed", "seed: Input should be less than or equal to 9223372036854775807, got 9223372036854775808"},
		// vLLM 0.24.0's pydantic model checks the type and Field bounds of
		// the fields rlt serve refuses unless unset, before the 404.
		{"truncate_prompt_tokens no number, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"truncate_prompt_tokens":"x"`, 400, "truncate_prompt_tokens", `truncate_prompt_tokens must be a number, got "x"`},
		{"truncate_prompt_tokens below -1, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"truncate_prompt_tokens":-2`, 400, "truncate_prompt_tokens", "truncate_prompt_tokens: Input should be greater than or equal to -1, got -2"},
		{"truncate_prompt_tokens past int64, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"truncate_prompt_tokens":"9223372036854775808"`, 400, "truncate_prompt_tokens", `truncate_prompt_tokens: Input should be less than or equal to 9223372036854775807, got "9223372036854775808"`},
		{"suffix no text, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"suffix":5`, 400, "suffix", "suffix must be a text, got 5"},
		{"prompt_embeds no text, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"prompt_embeds":5`, 400, "prompt_embeds", "prompt_embeds must be a text or a list of texts, got 5"},
		{"kv_transfer_params no object, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"kv_transfer_params":"x"`, 400, "kv_transfer_params", `kv_transfer_params must be an object, got "x"`},
		{"ec_transfer_params no object, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"ec_transfer_params":[1]`, 400, "ec_transfer_params", "ec_transfer_params must be an object, got [1]"},
		{"structured_outputs no object, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"structured_outputs":"x"`, 400, "structured_outputs", `structured_outputs must be an object, got "x"`},
		{"repetition_detection no object, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"repetition_detection":3`, 400, "repetition_detection", "repetition_detection must be an object, got 3"},
		{"priority no number, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"priority":"x"`, 400, "priority", `priority must be a number, got "x"`},
		{"priority past int64, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"priority":-9223372036854775809`, 400, "priority", "priority: Input should be greater than or equal to -9223372036854775808, got -9223372036854775809"},
		// A type fault of a field that rlt serve refuses or bounds
		// otherwise is refused before the 404; a value of the right type,
		// refused after, is not (ruling.ofType).
		{"repetition_penalty no number, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"repetition_penalty":"x"`, 400, "repetition_penalty", `repetition_penalty must be a number, got "x"`},
		// vLLM 0.24.0's ThinkingTokenBudget validator, before its lax
		// reading: an integer of at least -1 as JSON gives it, no text or float.
		{"thinking_token_budget a text, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"thinking_token_budget":"2"`, 400, "thinking_token_budget", "`thinking_token_budget` must be a non-negative integer or -1 for unlimited. (parameter=thinking_token_budget, value=\"2\")"},
		{"thinking_token_budget 2.0, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"thinking_token_budget":2.0`, 400, "thinking_token_budget", "`thinking_token_budget` must be a non-negative integer or -1 for unlimited. (parameter=thinking_token_budget, value=2.0)"},
		{"thinking_token_budget below -1, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"thinking_token_budget":-2`, 400, "thinking_token_budget", "`thinking_token_budget` must be a non-negative integer or -1 for unlimited. (parameter=thinking_token_budget, value=-2)"},
		// Fields vLLM 0.24.0 does not define: it reads none of them, so
		// a value of any type reaches the 404.
		{"an unknown model, best_of not whole", `"model":"nope","prompt":"a","max_tokens":1,"best_of":1.5`, 404, "model", notFound},
		{"an unknown model, max_repetition_pattern_size no number", `"model":"nope","prompt":"a","max_tokens":1,"max_repetition_pattern_size":[2]`, 404, "model", notFound},
		{"watermarking neither yes nor no, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"watermarking":"x"`, 400, "watermarking", `watermarking must be true or false, got "x"`},
		{"an unknown model, best_of 2", `"model":"nope","prompt":"a","max_tokens":1,"best_of":2`, 404, "model", notFound},
		{"an unknown model, repetition_penalty 1.5", `"model":"nope","prompt":"a","max_tokens":1,"repetition_penalty":1.5`, 404, "model", notFound},
		{"an unknown model, thinking_token_budget 5", `"model":"nope","prompt":"a","max_tokens":1,"thinking_token_budget":5`, 404, "model", notFound},
		{"an unknown model, response_format json_object", `"model":"nope","prompt":"a","max_tokens":1,"response_format":{"type":"json_object"}`, 404, "model", notFound},
		{"an unknown model, truncate_prompt_tokens set", `"model":"nope","prompt":"a","max_tokens":1,"truncate_prompt_tokens":5`, 404, "model", notFound},
		{"an unknown model, prompt_embeds set", `"model":"nope","prompt":"a","max_tokens":1,"prompt_embeds":"AAAA"`, 404, "model", notFound},
		{"an unknown model, kv_transfer_params set", `"model":"nope","prompt":"a","max_tokens":1,"kv_transfer_params":{"a":1}`, 404, "model", notFound},
		{"echo neither yes nor no, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"echo":"x"`, 400, "", "the body is not the JSON expected"},
		{"ignore_eos null, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"ignore_eos":null`, 400, "ignore_eos", "ignore_eos must be true or false, got null"},
		{"add_special_tokens neither yes nor no, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"add_special_tokens":2`, 400, "add_special_tokens", "add_special_tokens must be true or false, got 2"},
		{"use_beam_search neither yes nor no, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"use_beam_search":"x"`, 400, "use_beam_search", `use_beam_search must be true or false, got "x"`},
		{"a bias no number, an unknown model", `"model":"nope","prompt":"a","max_tokens":1,"logit_bias":{"5":"x"}`, 400, "", `logit_bias["5"] must be a number`},
		{"prompt_logprobs below -1, a prompt too long", `"prompt":` + long + `,"max_tokens":1,"prompt_logprobs":-5`, 400, "prompt_logprobs", "`prompt_logprobs` must be a positive value or -1."},
		// The model before the prompts and the sampling parameters.
		{"an unknown model, a prompt too long", `"model":"nope","prompt":` + long + `,"max_tokens":1`, 404, "model", notFound},
		{"an unknown model, temperature below 0", `"model":"nope","prompt":"a","max_tokens":1,"temperature":-1`, 404, "model", notFound},
		{"an unknown model, a logit_bias key no integer", `"model":"nope","prompt":"a","max_tokens":1,"logit_bias":{"x":1}`, 404, "model", notFound},
		{"an unknown model, top_p out of range", `"model":"nope","prompt":"a","max_tokens":1,"top_p":5`, 404, "model", notFound},
		{"an unknown model, top_p a text pydantic reads as a number", `"model":"nope","prompt":"a","max_tokens":1,"top_p":"0.5"`, 404, "model", notFound},
		{"an unknown model, top_k true", `"model":"nope","prompt":"a","max_tokens":1,"top_k":true`, 404, "model", notFound},
		{"an unknown model, top_p a text read past its bound", `"model":"nope","prompt":"a","max_tokens":1,"top_p":"1.5"`, 404, "model", notFound},
		{"an unknown model, max_tokens a text pydantic reads", `"model":"nope","prompt":"a","max_tokens":"1"`, 404, "model", notFound},
		{"an unknown model, seed a text pydantic reads", `"model":"nope","prompt":"a","max_tokens":1,"seed":"7"`, 404, "model", notFound},
		{"an unknown model, stream \"yes\"", `"model":"nope","prompt":"a","max_tokens":1,"stream":"yes"`, 404, "model", notFound},
		{"an unknown model, watermarking \"on\"", `"model":"nope","prompt":"a","max_tokens":1,"watermarking":"on"`, 404, "model", notFound},
		{"an unknown model, stream", `"model":"nope","prompt":"a","max_tokens":1,"stream":true`, 404, "model", notFound},
		{"an unknown model, logprob_token_ids", `"model":"nope","prompt":"a","max_tokens":1,"logprobs":1,"logprob_token_ids":[3]`, 404, "model", notFound},
		{"an unknown model, an empty prompt", `"model":"nope","prompt":[],"max_tokens":1`, 404, "model", notFound},
		{"an unknown model, suffix", `"model":"nope","prompt":"a","max_tokens":1,"suffix":"x"`, 404, "model", notFound},
		// suffix, which vLLM's renderer refuses, then a prompt too long
		// before the sampling parameters.
		{"suffix, then a prompt too long", `"prompt":` + long + `,"max_tokens":1,"suffix":"x"`, 400, "suffix", "suffix is not currently supported"},
		{"suffix, then temperature below 0", `"prompt":"a","max_tokens":1,"temperature":-1,"suffix":"x"`, 400, "suffix", "suffix is not currently supported"},
		{"a prompt too long, temperature below 0", `"prompt":` + long + `,"max_tokens":1,"temperature":-1`, 400, "input_tokens", tooLong},
		{"a prompt too long, a logit_bias key no integer", `"prompt":` + long + `,"max_tokens":1,"logit_bias":{"x":1}`, 400, "input_tokens", tooLong},
		{"a prompt too long, min_tokens past max_tokens", `"prompt":` + long + `,"max_tokens":1,"min_tokens":5`, 400, "input_tokens", tooLong},
		{"a prompt too long, logprobs past the limit", `"prompt":` + long + `,"max_tokens":1,"logprobs":50`, 400, "input_tokens", tooLong},
		{"a prompt too long, stop_token_ids outside the vocabulary", `"prompt":` + long + `,"max_tokens":1,"stop_token_ids":[99999]`, 400, "input_tokens", tooLong},
		{"a prompt too long, max_tokens 5", `"prompt":` + long + `,"max_tokens":5`, 400, "input_tokens", tooLong},
		{"the second prompt too long, the first empty", `"prompt":[[],` + long + `],"max_tokens":1`, 400, "input_tokens", tooLong},
		// The sampling parameters before each prompt's emptiness and ids.
		{"temperature below 0, an empty prompt", `"prompt":[],"max_tokens":1,"temperature":-1`, 400, "temperature", "temperature must be non-negative, got -1.0."},
		{"logprobs past the limit, an empty prompt", `"prompt":[],"max_tokens":1,"logprobs":50`, 400, "logprobs", "Requested sample logprobs of 50"},
		{"stop_token_ids outside the vocabulary, an empty prompt", `"prompt":[],"max_tokens":1,"stop_token_ids":[99999]`, 400, "stop_token_ids", outside},
		{"an empty allowed_token_ids, a prompt id outside the vocabulary", `"prompt":[99999],"max_tokens":1,"allowed_token_ids":[]`, 400, "allowed_token_ids", "allowed_token_ids is not None and empty!"},
		{"a logit_bias id outside the vocabulary, a prompt id outside it", `"prompt":[99999],"max_tokens":1,"logit_bias":{"99999":1}`, 400, "logit_bias", "token_id(s) [99999] in logit_bias"},
		{"the first prompt's id outside the vocabulary, the second empty", `"prompt":[[99999],[]],"max_tokens":1`, 400, "prompt", "token id 99999 at position 0 is outside the vocabulary"},
		{"the first prompt empty, the second's id outside the vocabulary", `"prompt":[[],[99999]],"max_tokens":1`, 400, "prompt", "the prompt is empty"},
		// SamplingParams._verify_args' order.
		{"n below 1, presence_penalty out of range", `"prompt":"a","max_tokens":1,"n":0,"presence_penalty":3`, 400, "", "n must be at least 1, got 0."},
		{"presence_penalty, then frequency_penalty", `"prompt":"a","max_tokens":1,"presence_penalty":3,"frequency_penalty":3`, 400, "presence_penalty", "presence_penalty must be in [-2, 2], got 3."},
		{"frequency_penalty, then temperature", `"prompt":"a","max_tokens":1,"frequency_penalty":-3,"temperature":-1`, 400, "frequency_penalty", "frequency_penalty must be in [-2, 2], got -3."},
		{"repetition_penalty, then temperature", `"prompt":"a","max_tokens":1,"repetition_penalty":0,"temperature":3`, 400, "repetition_penalty", "repetition_penalty penalizes"},
		{"temperature, then top_p", `"prompt":"a","max_tokens":1,"temperature":-1,"top_p":5`, 400, "temperature", "temperature must be non-negative"},
		{"top_p, then top_k", `"prompt":"a","max_tokens":1,"top_p":0,"top_k":-5`, 400, "top_p", "top_p must be in (0, 1], got 0."},
		{"top_k, then min_p", `"prompt":"a","max_tokens":1,"top_k":-5,"min_p":2`, 400, "top_k", "top_k must be 0 (disable), or at least 1, got -5."},
		{"min_p, then max_tokens 0 without echo", `"prompt":"a","max_tokens":0,"min_p":2`, 400, "min_p", "min_p must be in [0, 1], got 2."},
		{"top_p, then min_tokens past max_tokens", `"prompt":"a","max_tokens":1,"top_p":5,"min_tokens":2`, 400, "top_p", "top_p must be in (0, 1], got 5."},
		{"max_tokens 0 without echo, then min_tokens below 0", `"prompt":"a","max_tokens":0,"min_tokens":-1`, 400, "max_tokens", "rlt serve computes prompt log-probs: max_tokens must be 1, or 0 with echo (got 0)"},
		{"min_p, then an empty stop string", `"prompt":"a","max_tokens":1,"min_p":-1,"stop":["x",""]`, 400, "min_p", "min_p must be in [0, 1], got -1."},
		{"top_k, then an empty bad word", `"prompt":"a","max_tokens":1,"top_k":-2,"bad_words":[""]`, 400, "top_k", "top_k must be 0 (disable)"},
		{"top_p, then n above 1 at temperature 0", `"prompt":"a","max_tokens":1,"n":2,"temperature":0,"top_p":5`, 400, "top_p", "top_p must be in (0, 1], got 5."},
		{"temperature below 0, then n above 1 (greedy)", `"prompt":"a","max_tokens":1,"n":2,"temperature":-1`, 400, "temperature", "temperature must be non-negative"},
		// vLLM's refusals before those of what it answers.
		{"n above 1 at temperature 0, then stream", `"prompt":"a","max_tokens":1,"n":2,"temperature":0,"stream":true`, 400, "", "n must be 1 when using greedy sampling, got 2."},
		{"temperature, then stream", `"prompt":"a","max_tokens":1,"stream":true,"temperature":-1`, 400, "temperature", "temperature must be non-negative"},
		{"top_p, then n above 1", `"prompt":"a","max_tokens":1,"n":2,"top_p":5`, 400, "top_p", "top_p must be in (0, 1], got 5."},
		{"min_p, then max_tokens 5", `"prompt":"a","max_tokens":5,"min_p":2`, 400, "min_p", "min_p must be in [0, 1], got 2."},
		{"logprobs past the limit, then stream", `"prompt":"a","max_tokens":1,"stream":true,"logprobs":50`, 400, "logprobs", "Requested sample logprobs of 50"},
		{"stop_token_ids outside the vocabulary, then n above 1", `"prompt":"a","max_tokens":1,"n":2,"stop_token_ids":[99999]`, 400, "stop_token_ids", outside},
		{"a prompt id outside the vocabulary, then stream", `"prompt":[99999],"max_tokens":1,"stream":true`, 400, "prompt", "token id 99999 at position 0 is outside the vocabulary"},
		{"an empty prompt, then max_tokens 5", `"prompt":[],"max_tokens":5`, 400, "prompt", "the prompt is empty"},
		{"suffix, then stream", `"prompt":"a","max_tokens":1,"stream":true,"suffix":"x"`, 400, "suffix", "suffix is not currently supported"},
		// vLLM 0.24.0 tokenizes the bad words after it checks the prompts.
		{"an empty prompt, then a bad word of no token", `"prompt":[],"max_tokens":1,"bad_words":[" "]`, 400, "prompt", "the prompt is empty"},
		{"a prompt id outside the vocabulary, then a bad word of no token", `"prompt":[99999],"max_tokens":1,"bad_words":[" "]`, 400, "prompt", "token id 99999 at position 0 is outside the vocabulary"},
		{"a bad word of no token, then stream", `"prompt":"a","max_tokens":1,"stream":true,"bad_words":[" "]`, 400, "bad_words", "bad_words entries must tokenize to at least one token."},
		{"every token held back", `"prompt":"a","max_tokens":1,"min_tokens":1,"allowed_token_ids":[5],"stop_token_ids":[5]`, 400, "", "every token of the vocabulary is held back"},
		{"a prompt id outside the vocabulary, then every token held back", `"prompt":[99999],"max_tokens":1,"min_tokens":1,"allowed_token_ids":[5],"stop_token_ids":[5]`, 400, "prompt", "token id 99999 at position 0 is outside the vocabulary"},
		{"an empty prompt, then every token held back", `"prompt":[],"max_tokens":1,"min_tokens":1,"allowed_token_ids":[5],"stop_token_ids":[5]`, 400, "prompt", "the prompt is empty"},
		{"an empty stop string, then logprob_token_ids", `"prompt":"a","max_tokens":1,"logprobs":1,"logprob_token_ids":[3],"stop":[""]`, 400, "", "stop cannot contain an empty string."},
	} {
		status, body := post(t, ts.URL+"/v1/completions", "{"+c.body+"}")
		var r struct {
			Error struct {
				Message string
				Param   *string
			}
		}
		if status != c.status || json.Unmarshal([]byte(body), &r) != nil || !strings.HasPrefix(r.Error.Message, c.first) {
			t.Errorf("%s: %d %s; want %d with %q", c.name, status, body, c.status, c.first)
			continue
		}
		if param := ""; r.Error.Param != nil && *r.Error.Param != c.param || r.Error.Param == nil && c.param != param {
			t.Errorf("%s: param %v, want %q", c.name, r.Error.Param, c.param)
		}
	}
}

// TestFaultsReportedInSGLangsOrder: of a /generate request whose
// sampling_params have two faults, the one refused is the one SGLang
// reports first (the first fault of each case). SGLang reads the request
// (GenerateReqInput's normalize: parallel sampling's n), then each
// input's sampling_params in turn: SamplingParams.normalize parses each
// stop_regex, and verify checks temperature, top_p, min_p, top_k,
// frequency_penalty, presence_penalty, repetition_penalty,
// min_new_tokens, max_new_tokens, min_new_tokens against it, then that one
// grammar at most is set, in that order, not that of the fields' names.
// What rlt serve refuses and SGLang answers (top_k not whole,
// repetition_penalty other than 1, a grammar, n above 1 at a temperature,
// max_new_tokens above 1, min_new_tokens not whole, stream, a field
// refused unless unset) comes after all SGLang refuses of their
// sampling_params, of every input; max_thinking_tokens and lora_path,
// which SGLang refuses once it has read the request's shape, before any
// input (sglangRefusedFirst), before them, and return_hidden_states and
// custom_logit_processor, which it refuses of each input after its
// length and before its sampling_params (sglangRefusedPerInput), there.
// What SGLang checks against the model comes where it checks it, input
// by input: the input's length, then its max_new_tokens with it, against
// the model's positions (_validate_one_request), before the input's
// sampling_params; a logit_bias key outside the vocabulary within verify,
// after max_new_tokens and before the grammars. With is_normalized true
// (refused once SGLang's checks pass) SGLang reads no stop_regex and puts
// no top_k 1 over the one given at temperature 0.
func TestFaultsReportedInSGLangsOrder(t *testing.T) {
	s, ts := testServer(t, SGLang)
	for _, c := range []struct{ name, sp, first string }{
		{"stop_regex, then frequency_penalty", `"stop_regex":"(","frequency_penalty":3`, `sampling_params.stop_regex "(" is not a regular expression`},
		{"stop_regex, then temperature", `"stop_regex":"(","temperature":-1`, `sampling_params.stop_regex "(" is not a regular expression`},
		{"temperature, then top_p", `"temperature":-1,"top_p":5`, "temperature must be a non-negative finite number, got -1.0."},
		{"top_p, then min_p", `"top_p":5,"min_p":2`, "sampling_params.top_p must be in (0, 1], got 5."},
		{"top_p, then top_k", `"top_p":0,"top_k":-5`, "sampling_params.top_p must be in (0, 1], got 0."},
		{"min_p, then top_k", `"min_p":2,"top_k":-5`, "sampling_params.min_p must be in [0, 1], got 2."},
		{"top_k, then frequency_penalty", `"top_k":-5,"frequency_penalty":3`, "sampling_params.top_k must be -1 (disable) or at least 1, got -5."},
		{"frequency_penalty, then presence_penalty", `"frequency_penalty":3,"presence_penalty":3`, "sampling_params.frequency_penalty must be in [-2, 2], got 3."},
		{"presence_penalty, then repetition_penalty", `"presence_penalty":-3,"repetition_penalty":0`, "sampling_params.presence_penalty must be in [-2, 2], got -3."},
		{"repetition_penalty, then min_new_tokens", `"repetition_penalty":3,"min_new_tokens":-1`, "sampling_params.repetition_penalty must be in (0, 2] (1.0 = no penalty), got 3."},
		{"min_new_tokens below 0, then max_new_tokens below 0", `"min_new_tokens":-1,"max_new_tokens":-1`, "min_new_tokens must be in [0, max_new_tokens], got -1."},
		{"max_new_tokens below 0, then two grammars", `"max_new_tokens":-1,"min_new_tokens":0,"json_schema":"{}","regex":"a"`, "rlt serve computes input log-probs: sampling_params.max_new_tokens must be 0 or 1 (got -1)"},
		{"min_new_tokens past max_new_tokens, then two grammars", `"max_new_tokens":1,"min_new_tokens":2,"json_schema":"{}","regex":"a"`, "min_new_tokens must be in [0, max_new_tokens(1)], got 2."},
		{"two grammars, then one", `"json_schema":"{}","regex":"a"`, "Only one of regex, json_schema, or ebnf can be set."},
		// SGLang's refusals before what rlt serve refuses of what it answers.
		{"top_p, then top_k not whole", `"top_p":5,"top_k":2.5`, "sampling_params.top_p must be in (0, 1], got 5."},
		{"min_new_tokens past max_new_tokens, then repetition_penalty", `"max_new_tokens":1,"min_new_tokens":2,"repetition_penalty":1.5`, "min_new_tokens must be in [0, max_new_tokens(1)], got 2."},
		{"temperature, then max_new_tokens 5", `"max_new_tokens":5,"temperature":-1`, "temperature must be a non-negative finite number, got -1.0."},
		{"min_new_tokens, then n above 1 at a temperature", `"n":2,"temperature":0.5,"min_new_tokens":-1`, "min_new_tokens must be in [0, max_new_tokens], got -1."},
		{"top_k not whole, then max_new_tokens 5", `"max_new_tokens":5,"top_k":2.5,"temperature":1`, "sampling_params.top_k must be a whole number, got 2.5"},
		{"n above 1 at a temperature, then max_new_tokens 5", `"max_new_tokens":5,"n":2,"temperature":0.5`, "sampling_params.n 2 asks for 2 samples at temperature 0.5"},
	} {
		sp := `{"max_new_tokens":1,` + c.sp + `}`
		if strings.Contains(c.sp, `"max_new_tokens"`) {
			sp = `{` + c.sp + `}`
		}
		status, body := post(t, ts.URL+"/generate", `{"input_ids":[1,2],"sampling_params":`+sp+`}`)
		var r struct{ Error struct{ Message string } }
		if status != 400 || json.Unmarshal([]byte(body), &r) != nil || !strings.HasPrefix(r.Error.Message, c.first) {
			t.Errorf("%s: %d %s; want 400 with %q", c.name, status, body, c.first)
		}
	}
	// Each input's sampling_params in turn: the first input's faults
	// before the second's, whatever their fields; what rlt serve refuses
	// of what SGLang answers after all SGLang refuses of every input.
	for _, c := range []struct{ name, body, first string }{
		{"the first input's temperature, then the second's top_p",
			`{"input_ids":[[1,2],[3]],"sampling_params":[{"max_new_tokens":1,"temperature":-1},{"max_new_tokens":1,"top_p":5}]}`,
			"sampling_params[0]: temperature must be a non-negative finite number, got -1.0."},
		{"the second input's frequency_penalty, then the first's max_new_tokens 5",
			`{"input_ids":[[1,2],[3]],"sampling_params":[{"max_new_tokens":5},{"max_new_tokens":1,"frequency_penalty":3}]}`,
			"sampling_params[1].frequency_penalty must be in [-2, 2], got 3."},
		{"the first input's top_k not whole, then the second's max_new_tokens 5",
			`{"input_ids":[[1,2],[3]],"sampling_params":[{"max_new_tokens":1,"top_k":2.5},{"max_new_tokens":5}]}`,
			"sampling_params[0].top_k must be a whole number, got 2.5"},
	} {
		status, body := post(t, ts.URL+"/generate", c.body)
		var r struct{ Error struct{ Message string } }
		if status != 400 || json.Unmarshal([]byte(body), &r) != nil || !strings.HasPrefix(r.Error.Message, c.first) {
			t.Errorf("%s: %d %s; want 400 with %q", c.name, status, body, c.first)
		}
	}
	// What SGLang checks against the model, where it checks it.
	long := fmt.Sprint(make([]int, s.maxLen())) // an input that fills the model's positions
	long = "[" + strings.ReplaceAll(strings.Trim(long, "[]"), " ", ",") + "]"
	tooLong := fmt.Sprintf("The input (%d tokens) is longer than the model's context length (%d tokens).", s.maxLen(), s.maxLen())
	tooMany := fmt.Sprintf("Requested token count exceeds the model's maximum context length of %d tokens. You requested a total of %d tokens: 2 tokens from the input messages and %d tokens for the completion.", s.maxLen(), s.maxLen()+1, s.maxLen()-1)
	outside := fmt.Sprintf("logit_bias must has keys in [0, %d], got 99999.", s.Src.Vocab-1)
	over := fmt.Sprint(s.maxLen() - 1) // with 2 tokens, one past the positions
	for _, c := range []struct{ name, body, first string }{
		{"an input too long, then temperature below 0", `{"input_ids":` + long + `,"sampling_params":{"max_new_tokens":1,"temperature":-1}}`, tooLong},
		{"an input too long, then a stop_regex that does not parse", `{"input_ids":` + long + `,"sampling_params":{"max_new_tokens":1,"stop_regex":"("}}`, tooLong},
		{"an input too long, then max_new_tokens 5", `{"input_ids":` + long + `,"sampling_params":{"max_new_tokens":5}}`, tooLong},
		{"an input too long, then stream", `{"input_ids":` + long + `,"sampling_params":{"max_new_tokens":1},"stream":true}`, tooLong},
		{"an input too long, then return_sampling_mask", `{"input_ids":` + long + `,"sampling_params":{"max_new_tokens":1},"return_sampling_mask":true}`, tooLong},
		// Refused by SGLang before it reads any input, on a server
		// without --enable-strict-thinking or --enable-lora.
		{"lora_path, then an input too long", `{"input_ids":` + long + `,"sampling_params":{"max_new_tokens":1},"lora_path":"p"}`, "lora_path is not served"},
		{"lora_path, then the first input's temperature", `{"input_ids":[[1,2],[3]],"sampling_params":[{"max_new_tokens":1,"temperature":-1},{"max_new_tokens":1}],"lora_path":["p","q"]}`, "lora_path is not served"},
		{"max_thinking_tokens, then lora_path", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1},"lora_path":"p","max_thinking_tokens":5}`, "max_thinking_tokens is not served"},
		// Refused by SGLang of each input, after its length and
		// max_new_tokens, before its sampling_params.
		{"an input too long, then return_hidden_states", `{"input_ids":` + long + `,"sampling_params":{"max_new_tokens":1},"return_hidden_states":true}`, tooLong},
		{"max_new_tokens past the positions, then custom_logit_processor", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":` + over + `},"custom_logit_processor":"p"}`, tooMany},
		{"return_hidden_states, then temperature below 0", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"temperature":-1},"return_hidden_states":true}`, "return_hidden_states is not served"},
		{"custom_logit_processor, then a stop_regex that does not parse", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"stop_regex":"("},"custom_logit_processor":"p"}`, "custom_logit_processor changes which token is generated"},
		{"return_hidden_states, then custom_logit_processor", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1},"custom_logit_processor":"p","return_hidden_states":true}`, "return_hidden_states is not served"},
		{"the first input's temperature, then the second's return_hidden_states",
			`{"input_ids":[[1,2],[3]],"sampling_params":[{"max_new_tokens":1,"temperature":-1},{"max_new_tokens":1}],"return_hidden_states":[false,true]}`, "sampling_params[0]: temperature must be a non-negative finite number"},
		{"the second input's return_hidden_states, then its temperature",
			`{"input_ids":[[1,2],[3]],"sampling_params":[{"max_new_tokens":1},{"max_new_tokens":1,"temperature":-1}],"return_hidden_states":[false,true]}`, "input 1: return_hidden_states is not served"},
		{"lora_path, then stream", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1},"stream":true,"lora_path":"p"}`, "lora_path is not served"},
		{"rid's list of another length, then lora_path", `{"input_ids":[[1,2],[3]],"sampling_params":{"max_new_tokens":1},"rid":["a"],"lora_path":"p"}`, "The specified rids length mismatch with the batch_size"},
		{"an input too long, then a logit_bias key outside the vocabulary", `{"input_ids":` + long + `,"sampling_params":{"max_new_tokens":1,"logit_bias":{"99999":1}}}`, tooLong},
		{"max_new_tokens past the positions, then temperature below 0", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":` + over + `,"temperature":-1}}`, tooMany},
		{"max_new_tokens past the positions, then rlt serve's bound", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":` + over + `}}`, tooMany},
		{"max_new_tokens within the positions, then rlt serve's bound", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":` + fmt.Sprint(s.maxLen()-2) + `}}`, "rlt serve computes input log-probs: sampling_params.max_new_tokens must be 0 or 1"},
		{"an input too long, max_new_tokens null", `{"input_ids":` + long + `,"sampling_params":{"max_new_tokens":null}}`, tooLong},
		{"a text too long, then temperature below 0", `{"text":"` + strings.Repeat("a", 4*s.maxLen()) + `","sampling_params":{"max_new_tokens":1,"temperature":-1}}`, "The input ("},
		{"max_new_tokens past max with min_new_tokens, then a logit_bias key outside", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"min_new_tokens":2,"logit_bias":{"99999":1}}}`, "min_new_tokens must be in [0, max_new_tokens(1)], got 2."},
		{"a logit_bias key outside the vocabulary, then two grammars", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"logit_bias":{"99999":1},"json_schema":"{}","regex":"a"}}`, outside},
		{"a logit_bias key no integer, then two grammars", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"logit_bias":{"x":1},"json_schema":"{}","regex":"a"}}`, "invalid literal for int() with base 10: 'x'"},
		{"a logit_bias key outside the vocabulary, then max_new_tokens 5", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":5,"logit_bias":{"99999":1}}}`, outside},
		{"a logit_bias key outside the vocabulary, then repetition_penalty 1.5", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"repetition_penalty":1.5,"logit_bias":{"99999":1}}}`, outside},
		{"a logit_bias key outside the vocabulary, then stream", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"logit_bias":{"99999":1}},"stream":true}`, outside},
		{"the first input's logit_bias key outside, then the second too long",
			`{"input_ids":[[1,2],` + long + `],"sampling_params":[{"max_new_tokens":1,"logit_bias":{"99999":1}},{"max_new_tokens":1}]}`, "sampling_params[0]: " + outside},
		{"the first input too long, then the second's temperature",
			`{"input_ids":[` + long + `,[1,2]],"sampling_params":[{"max_new_tokens":1},{"max_new_tokens":1,"temperature":-1}]}`, "input 0: " + tooLong},
		{"the first input's temperature, then the second too long",
			`{"input_ids":[[1,2],` + long + `],"sampling_params":[{"max_new_tokens":1,"temperature":-1},{"max_new_tokens":1}]}`, "sampling_params[0]: temperature must be a non-negative finite number"},
		{"the first input's max_new_tokens 5, then the second too long",
			`{"input_ids":[[1,2],` + long + `],"sampling_params":[{"max_new_tokens":5},{"max_new_tokens":1}]}`, "input 1: " + tooLong},
		// is_normalized true: no top_k 1 over the one given, no stop_regex read.
		{"is_normalized, then top_k 0 at temperature 0", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"temperature":0,"top_k":0,"is_normalized":true}}`, "sampling_params.top_k must be -1 (disable) or at least 1, got 0."},
		{"is_normalized, then a stop_regex that does not parse", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"stop_regex":"(","is_normalized":1}}`, "sampling_params.is_normalized is SGLang's own state"},
		{"is_normalized false, then a stop_regex that does not parse", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"stop_regex":"(","is_normalized":0}}`, `sampling_params.stop_regex "(" is not a regular expression`},
	} {
		status, body := post(t, ts.URL+"/generate", c.body)
		var r struct{ Error struct{ Message string } }
		if status != 400 || json.Unmarshal([]byte(body), &r) != nil || !strings.HasPrefix(r.Error.Message, c.first) {
			t.Errorf("%s: %d %s; want 400 with %q", c.name, status, body, c.first)
		}
	}
}

// TestSGLangReadsFieldsWhereSGLangDoes: /generate's fields each read as
// SGLang reads them and refused where it refuses them. A key of
// sampling_params that SamplingParams does not define (one in another
// case too) is refused as an input's SamplingParams is made, after that
// input's length, its max_new_tokens against the positions and its
// return_hidden_states and custom_logit_processor, and before its values'
// checks; the earlier inputs' faults first. lora_path and
// custom_logit_processor "" ask nothing, as Python reads them ("if
// obj.lora_path:"), but lora_path "" of a list of inputs, which SGLang
// makes one per input, asks; max_thinking_tokens asks with any value but
// null ("is not None": 0 and false too). lora_path or
// custom_logit_processor a list shorter than a list of inputs ([] too) is
// refused as SGLang fails on it (_init_req_state reads entry i for input
// i), after max_thinking_tokens and before lora_path's adapter;
// custom_logit_processor a list with several samples in SGLang's words.
// input_embeds beside text is dropped, as SGLang drops it; alone it is
// refused once the request's shape, max_thinking_tokens and lora_path
// are, before any input's checks. Of several values of the wrong type in
// sampling_params, the first written is said.
func TestSGLangReadsFieldsWhereSGLangDoes(t *testing.T) {
	s, ts := testServer(t, SGLang)
	long := fmt.Sprint(make([]int, s.maxLen())) // an input that fills the model's positions
	long = "[" + strings.ReplaceAll(strings.Trim(long, "[]"), " ", ",") + "]"
	tooLong := fmt.Sprintf("The input (%d tokens) is longer than the model's context length (%d tokens).", s.maxLen(), s.maxLen())
	tooMany := "Requested token count exceeds the model's maximum context length"
	over := fmt.Sprint(s.maxLen() - 1) // with 2 tokens, one past the positions
	unknown := `sampling_params: "bogus" is not a sampling parameter`
	for _, c := range []struct{ name, body, first string }{ // first "": answered
		// An unknown key of sampling_params, where SamplingParams(**sp) fails.
		{"an input too long, then an unknown sampling key", `{"input_ids":` + long + `,"sampling_params":{"max_new_tokens":1,"bogus":1}}`, tooLong},
		{"an input too long, then a sampling key in another case", `{"input_ids":` + long + `,"sampling_params":{"Max_New_Tokens":1}}`, tooLong},
		{"max_new_tokens past the positions, then an unknown sampling key", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":` + over + `,"bogus":1}}`, tooMany},
		{"return_hidden_states, then an unknown sampling key", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"bogus":1},"return_hidden_states":true}`, "return_hidden_states is not served"},
		{"custom_logit_processor, then an unknown sampling key", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"bogus":1},"custom_logit_processor":"p"}`, "custom_logit_processor changes which token"},
		{"an unknown sampling key, then temperature below 0", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"bogus":1,"temperature":-1}}`, unknown},
		{"two sampling values of the wrong type: the first written", `{"input_ids":[1,2],"sampling_params":{"temperature":"y","Temperature":1,"max_new_tokens":"x"}}`,
			`the body is not the JSON expected: field "sampling_params.temperature" holds a JSON string`},
		{"two sampling values of the wrong type in a list: the first written", `{"input_ids":[[1,2],[3]],"sampling_params":[{"max_new_tokens":1},{"min_new_tokens":[1],"max_new_tokens":"x"}]}`,
			`the body is not the JSON expected: field "sampling_params.min_new_tokens" holds a JSON array`},
		{"a sampling key in another case is not read as the field", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"MAX_NEW_TOKENS":` + over + `}}`, `sampling_params: "MAX_NEW_TOKENS" is not a field: the field is "max_new_tokens"`},
		{"the first input's temperature, then the second's unknown sampling key",
			`{"input_ids":[[1,2],[3]],"sampling_params":[{"max_new_tokens":1,"temperature":-1},{"max_new_tokens":1,"bogus":1}]}`, "sampling_params[0]: temperature must be a non-negative finite number"},
		{"the first input's unknown sampling key, then the second too long",
			`{"input_ids":[[1,2],` + long + `],"sampling_params":[{"max_new_tokens":1,"bogus":1},{"max_new_tokens":1}]}`, `sampling_params[0]: "bogus" is not a sampling parameter`},
		// lora_path and custom_logit_processor as Python's truth reads them.
		{"lora_path [] of one input", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1},"lora_path":[]}`, ""},
		{`lora_path [""] of one input`, `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1},"lora_path":[""]}`, "lora_path is not served"},
		{`lora_path "" of a list`, `{"input_ids":[[1,2],[3]],"sampling_params":{"max_new_tokens":1},"lora_path":""}`, "lora_path is not served"},
		{`lora_path "", then temperature below 0`, `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"temperature":-1},"lora_path":""}`, "temperature must be a non-negative finite number"},
		{`custom_logit_processor "" of a list`, `{"input_ids":[[1,2],[3]],"sampling_params":{"max_new_tokens":1},"custom_logit_processor":""}`, ""},
		{`custom_logit_processor "" then "p"`, `{"input_ids":[[1,2],[3]],"sampling_params":{"max_new_tokens":1},"custom_logit_processor":["","p"]}`, "input 1: custom_logit_processor changes which token"},
		{`custom_logit_processor "", then temperature below 0`, `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"temperature":-1},"custom_logit_processor":""}`, "temperature must be a non-negative finite number"},
		// A list of lora_path or custom_logit_processor shorter than a list
		// of inputs, [] too: _init_req_state reads entry i for input i (an
		// IndexError), lora_path's first, after max_thinking_tokens and
		// before lora_path's adapters or any input's length.
		{"lora_path [] of a list", `{"input_ids":[[1,2],[3]],"sampling_params":{"max_new_tokens":1},"lora_path":[]}`, "lora_path is a list of 0 entries for 2 inputs"},
		{"custom_logit_processor [] of a list", `{"input_ids":[[1,2],[3]],"sampling_params":{"max_new_tokens":1},"custom_logit_processor":[]}`, "custom_logit_processor is a list of 0 entries for 2 inputs"},
		{"lora_path [] of one input's two samples", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"temperature":0,"n":2},"lora_path":[]}`, "lora_path is a list of 0 entries for 1 input"},
		{"custom_logit_processor of one entry, lora_path of two", `{"input_ids":[[1,2],[3],[4]],"sampling_params":{"max_new_tokens":1},"custom_logit_processor":[""],"lora_path":["",""]}`, "custom_logit_processor is a list of 1 entry for 3 inputs"},
		{"lora_path and custom_logit_processor short alike", `{"input_ids":[[1,2],[3]],"sampling_params":{"max_new_tokens":1},"custom_logit_processor":[""],"lora_path":[""]}`, "lora_path is a list of 1 entry for 2 inputs"},
		{"max_thinking_tokens, then custom_logit_processor []", `{"input_ids":[[1,2],[3]],"sampling_params":{"max_new_tokens":1},"custom_logit_processor":[],"max_thinking_tokens":0}`, "max_thinking_tokens is not served"},
		{"custom_logit_processor [], then an input too long", `{"input_ids":[[1,2],` + long + `],"sampling_params":{"max_new_tokens":1},"custom_logit_processor":[]}`, "custom_logit_processor is a list of 0 entries"},
		{"custom_logit_processor [], then input_embeds", `{"input_embeds":[[[0.5]],[[0.5]]],"sampling_params":{"max_new_tokens":1},"custom_logit_processor":[]}`, "custom_logit_processor is a list of 0 entries"},
		{"rid's list of another length, then custom_logit_processor []", `{"input_ids":[[1,2],[3]],"sampling_params":{"max_new_tokens":1},"custom_logit_processor":[],"rid":["a"]}`, "The specified rids length mismatch"},
		// A list of custom_logit_processor with several samples:
		// GenerateReqInput's normalization refuses it, after the rid.
		{"custom_logit_processor [] with two samples", `{"input_ids":[[1,2],[3]],"sampling_params":{"max_new_tokens":1,"temperature":0,"n":2},"custom_logit_processor":[]}`, "Cannot use list custom_logit_processor with parallel_sample_num > 1"},
		{"custom_logit_processor a list with two samples, then max_thinking_tokens", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"temperature":0,"n":2},"custom_logit_processor":[""],"max_thinking_tokens":1}`, "Cannot use list custom_logit_processor with parallel_sample_num > 1"},
		{"custom_logit_processor \"\" with two samples", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"temperature":0,"n":2},"custom_logit_processor":""}`, ""},
		// max_thinking_tokens unless null.
		{"max_thinking_tokens 0", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1},"max_thinking_tokens":0}`, "max_thinking_tokens is not served"},
		{"max_thinking_tokens false", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1},"max_thinking_tokens":false}`, "max_thinking_tokens is not served"},
		{"max_thinking_tokens null", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1},"max_thinking_tokens":null}`, ""},
		// input_embeds alone.
		{"input_embeds alone", `{"input_embeds":[[0.5,0.25]],"sampling_params":{"max_new_tokens":1}}`, "input_embeds is not served: give input_ids or text"},
		{"input_embeds alone, a list", `{"input_embeds":[[[0.5]],[[0.5]]],"sampling_params":[{"max_new_tokens":1},{"max_new_tokens":1}]}`, "input 0: input_embeds is not served"},
		{"input_embeds of no shape", `{"input_embeds":5}`, "input_embeds is not served"},
		{"rid's list of another length, then input_embeds", `{"input_embeds":[[[0.5]],[[0.5]]],"sampling_params":{"max_new_tokens":1},"rid":["a"]}`, "The specified rids length mismatch"},
		{"lora_path, then input_embeds", `{"input_embeds":[[0.5]],"sampling_params":{"max_new_tokens":1},"lora_path":"p"}`, "lora_path is not served"},
		{"input_embeds, then temperature below 0", `{"input_embeds":[[0.5]],"sampling_params":{"max_new_tokens":1,"temperature":-1}}`, "input_embeds is not served"},
		{"input_embeds, then stream", `{"input_embeds":[[0.5]],"sampling_params":{"max_new_tokens":1},"stream":true}`, "input_embeds is not served"},
		{"input_embeds beside input_ids", `{"input_ids":[1,2],"input_embeds":[[0.5]],"sampling_params":{"max_new_tokens":1}}`, ""},
		{"text, input_ids and input_embeds", `{"text":"a","input_ids":[1,2],"input_embeds":[[0.5]],"sampling_params":{"max_new_tokens":1}}`, "Either text, input_ids or input_embeds should be provided."},
	} {
		status, body := post(t, ts.URL+"/generate", c.body)
		var r struct{ Error struct{ Message string } }
		switch {
		case c.first == "" && status != 200:
			t.Errorf("%s: %d %s; want it answered", c.name, status, body)
		case c.first != "" && (status != 400 || json.Unmarshal([]byte(body), &r) != nil || !strings.HasPrefix(r.Error.Message, c.first)):
			t.Errorf("%s: %d %.300s; want 400 with %q", c.name, status, body, c.first)
		}
	}
}
