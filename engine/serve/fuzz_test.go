package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// FuzzDecodeRequests: the decoders and checks of /v1/completions,
// /generate and /tokenize bodies never panic, refuse with an error what
// rlt serve does not answer, whose message says no stand-in pythonJSON
// put (saysAsGiven) and, of a body that is no JSON, the byte where it
// goes wrong as the client's body holds it (saysWhereGiven), and what
// they accept, written back as a client would send it, decodes the same.
func FuzzDecodeRequests(f *testing.F) {
	f.Add(byte(0), []byte(`{"model":"m","prompt":[1,5,7],"max_tokens":1,"temperature":0.7,"prompt_logprobs":0}`))
	f.Add(byte(0), []byte(`{"model":"m","prompt":[1,5,7],"max_tokens":1,"temperature":1e-40,"prompt_logprobs":0}`))
	f.Add(byte(1), []byte(`{"input_ids":[1,5,7],"sampling_params":{"max_new_tokens":1,"temperature":5e-7},"return_logprob":true}`))
	f.Add(byte(0), []byte(`{"prompt":"Hello","max_tokens":0,"echo":true,"n":2}`))
	f.Add(byte(0), []byte(`{"prompt":[[1,5,7],[2]],"max_tokens":1,"echo":true,"logprobs":1,"temperature":0}`))
	f.Add(byte(0), []byte(`{"prompt":["a","b"],"max_tokens":0,"echo":true,"prompt_logprobs":5,"return_tokens_as_token_ids":true}`))
	f.Add(byte(0), []byte(`{"prompt":[1,2],"max_tokens":1,"stop":"x","stop_token_ids":[5,7],"include_stop_str_in_output":true}`))
	f.Add(byte(0), []byte(`{"prompt":"ab","max_tokens":1,"stop":["x",""],"stop_token_ids":[]}`))
	f.Add(byte(0), []byte(`{"prompt":"ab","max_tokens":1,"top_p":0.5,"seed":3,"logit_bias":{"5":1},"request_id":"r","priority":0}`))
	f.Add(byte(0), []byte(`{"prompt":"ab","max_tokens":1,"logit_bias":{"9":200,"+1_0":-1e-7,"9":-4,"a":0}}`))
	f.Add(byte(0), []byte(`{"prompt":"ab","max_tokens":1,"logit_bias":{"a":"b"}}`))
	f.Add(byte(0), []byte(`{"prompt":"ab","max_tokens":1,"logit_bias":{"3":"1.5","4":" -2e1 ","5":"1_0","6":true,"7":"nan","8":"-Infinity"}}`))
	f.Add(byte(0), []byte(`{"prompt":"ab","max_tokens":1,"logit_bias":[1],"temperature":2.5}`))
	f.Add(byte(0), []byte(`{"prompt":"ab","max_tokens":1,"bad_words":["x","y z"],"min_tokens":1,"allowed_token_ids":[3,5]}`))
	f.Add(byte(0), []byte(`{"prompt":"ab","max_tokens":1,"bad_words":[],"min_tokens":0.0,"allowed_token_ids":[]}`))
	f.Add(byte(0), []byte(`{"prompt":"ab","max_tokens":" +1.00 ","temperature":"1_0e-1","top_p":true,"top_k":"0_5","n":1.0,"min_tokens":"1","logprobs":true,"prompt_logprobs":2.0,"priority":"-0"}`))
	f.Add(byte(0), []byte(`{"prompt":"ab","max_tokens":"1e0","temperature":"nan","top_k":"1.5","min_tokens":"0.5","logprobs":"1"}`))
	f.Add(byte(0), []byte(`{"prompt":"ab","max_tokens":1,"echo":"Yes","stream":"off","ignore_eos":1.0,"skip_special_tokens":"f","include_stop_str_in_output":"0","return_tokens_as_token_ids":"t","seed":"-0_1","add_special_tokens":"ON","watermarking":0}`))
	f.Add(byte(0), []byte(`{"prompt":"ab","max_tokens":1,"echo":"yeſ","ignore_eos":null,"seed":9223372036854775808,"use_beam_search":null,"return_token_offsets":2}`))
	f.Add(byte(1), []byte(`{"input_ids":[1,5,7],"sampling_params":{"max_new_tokens":1,"temperature":0.7},"return_logprob":true,"logprob_start_len":0}`))
	f.Add(byte(1), []byte(`{"text":"Hi","input_ids":[],"sampling_params":{"max_new_tokens":128}}`))
	f.Add(byte(1), []byte(`{"text":"Hi","sampling_params":{"max_new_tokens":0},"return_logprob":true,"logprob_start_len":1,"top_logprobs_num":3,"return_text_in_logprobs":true}`))
	f.Add(byte(1), []byte(`{"input_ids":[[1,5],[7]],"sampling_params":[{"max_new_tokens":1},{"temperature":0.5}],"return_logprob":[true,false],"logprob_start_len":0,"rid":"r"}`))
	f.Add(byte(1), []byte(`{"text":["a","bc"],"top_logprobs_num":[2,0],"rid":["x","y"],"sampling_params":{"max_new_tokens":0}}`))
	f.Add(byte(1), []byte(`{"text":"a","sampling_params":{"max_new_tokens":1,"stop":"x","top_k":0,"n":2},"lora_path":"p","session_id":"s"}`))
	f.Add(byte(1), []byte(`{"text":"a","sampling_params":{"max_new_tokens":1,"logit_bias":{"7":-3.5," 2":1e3,"7":1,"x":0}}}`))
	f.Add(byte(1), []byte(`{"text":"a","sampling_params":{"max_new_tokens":1,"logit_bias":{"7":true,"8":"1.5"}}}`))
	f.Add(byte(2), []byte(`{"model":"m","prompt":"Hello","add_special_tokens":false}`))
	f.Add(byte(2), []byte(`{"text":null}`))
	f.Add(byte(0), []byte(`{"prompt":[[5],[-1]],"max_tokens":1e19,"temperature":NaN,"top_p":-Infinity,"seed":"99999999999999999999","n":Infinity,"truncate_prompt_tokens":"x","suffix":5,"logprobs":-1.5}`))
	f.Add(byte(0), []byte(`{"prompt":"","max_tokens":1,"logit_bias":{"5":NaN},"priority":-9223372036854775809,"stream_interval":"1_0","kv_transfer_params":[]}`))
	f.Add(byte(1), []byte(`{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"temperature":NaN,"min_new_tokens":Infinity}}`))
	f.Add(byte(2), []byte(`{"prompt":"NaN","add_special_tokens":NaN,"return_token_strs":"y","add_generation_prompt":"x"}`))
	f.Add(byte(0), []byte(`{"model":"1e999999999999","prompt":"ab","max_tokens":1,"truncation_side":["-1e999999999999",NaN,1e999999999999]}`))
	f.Add(byte(0), []byte(`{"prompt":"ab","max_tokens":1,"stop_token_ids":[Infinity],"logit_bias":{"5":[NaN,"8.8e888888888888"]}}`))
	f.Add(byte(1), []byte(`{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"stop_regex":["(8.8e888888888888",NaN],"top_k":[-Infinity]}}`))
	f.Add(byte(0), []byte(`{"prompt":"ab","max_tokens":NaN,"n":1,NaN:x}`))
	f.Add(byte(1), []byte(`{"input_ids":[1,2],"sampling_params":{"max_new_tokens":Infinity,"min_new_tokens":1e999999999999,}}`))
	f.Fuzz(func(t *testing.T, api byte, body []byte) {
		switch api % 3 {
		case 0:
			req, err := parseCompletions(body)
			var br *badRequest
			saysAsGiven(t, body, err)
			saysWhereGiven(t, body, err)
			if err != nil {
				if errors.As(err, &br) && br.msg == "" {
					t.Fatal("a refusal without a message")
				}
				return
			}
			if req.MaxTokens != 1 && !(req.MaxTokens == 0 && req.Echo) || req.Temperature <= 0 {
				t.Fatalf("accepted %+v", req)
			}
			ps := make([]any, len(req.Prompts))
			for i, p := range req.Prompts {
				if p.text != nil && p.ids != nil {
					t.Fatalf("prompt both text and ids: %+v", p)
				}
				ps[i] = p.ids
				if p.text != nil {
					ps[i] = *p.text
				}
			}
			var p any = ps
			if len(ps) == 1 {
				p = ps[0]
				if ids, ok := p.([]int32); ok && ids == nil {
					p = []int32{}
				}
			}
			w := map[string]any{"model": req.Model, "prompt": p, "max_tokens": req.MaxTokens, "temperature": req.Temperature, "echo": req.Echo,
				"prompt_logprobs": req.PromptLogprobs, "logprobs": req.Logprobs, "return_tokens_as_token_ids": req.AsTokenIDs,
				"stop": req.Stop, "stop_token_ids": req.StopTokenIDs, "include_stop_str_in_output": req.IncludeStop, "ignore_eos": req.IgnoreEOS,
				"skip_special_tokens": req.SkipSpecial, "request_id": req.RequestID, "logit_bias": vllmBiasJSON(req.LogitBias),
				"bad_words": req.BadWords, "min_tokens": req.MinTokens, "allowed_token_ids": req.AllowedTokenIDs}
			req.badWordsFault = nil // written back, a lone surrogate escape of bad_words is the U+FFFD it was read as
			req.RaisedFrom = 0      // written back, a temperature in (0, 0.01) is the 0.01 it was raised to
			readsBack(t, w, parseCompletions, req)
		case 1:
			req, err := parseGenerate(body, fuzzModel)
			saysAsGiven(t, body, err)
			saysWhereGiven(t, body, err)
			if err != nil {
				return
			}
			if len(req.Items) == 0 || !req.List && len(req.Items) != 1 {
				t.Fatalf("accepted %d inputs, list %v", len(req.Items), req.List)
			}
			// Written back as a client would: per-input values as lists
			// when the inputs are a list.
			var inputs, sps, logprob, starts, tops, rids []any
			named := false
			for _, it := range req.Items {
				if it.MaxNew < 0 || it.MaxNew > 1 || it.Temperature <= 0 || it.TopNum < 0 || (it.In.text == nil) == (it.In.ids == nil) {
					t.Fatalf("accepted %+v", it)
				}
				if it.In.text != nil {
					inputs = append(inputs, *it.In.text)
				} else {
					inputs = append(inputs, it.In.ids)
				}
				sps = append(sps, map[string]any{"max_new_tokens": it.MaxNew, "temperature": it.Temperature, "skip_special_tokens": it.SkipSpecial,
					"logit_bias": biasJSON(it.LogitBias)})
				logprob, starts, tops = append(logprob, it.ReturnLogprob), append(starts, it.Start), append(tops, it.TopNum)
				rids = append(rids, it.RID)
				named = named || it.RID != ""
			}
			field := "input_ids"
			if req.Items[0].In.text != nil {
				field = "text"
			}
			w := map[string]any{field: inputs, "sampling_params": sps, "return_logprob": logprob, "logprob_start_len": starts,
				"top_logprobs_num": tops, "return_text_in_logprobs": req.TextInLogprob}
			if named {
				w["rid"] = rids
			}
			if !req.List {
				for k, v := range w {
					if l, ok := v.([]any); ok {
						w[k] = l[0]
					}
				}
			}
			readsBack(t, w, func(b []byte) (generateRequest, error) { return parseGenerate(b, fuzzModel) }, req)
		case 2:
			_, _, err := parseTokenize(body)
			saysAsGiven(t, body, err)
			saysWhereGiven(t, body, err)
			var br *badRequest
			if errors.As(err, &br) && br.param != "prompt" && vllmTokenizeFields[br.param] == nil {
				t.Fatalf("refusal on %q", br.param)
			}
		}
	})
}

// fuzzModel is a model of 64 positions and a vocabulary of 256, whose
// tokens are a text's bytes, for parseGenerate to check inputs against.
var fuzzModel = &generateModel{contextLen: 64, vocab: 256, encode: func(text string) []int32 {
	ids := make([]int32, len(text))
	for i := range len(text) {
		ids[i] = int32(text[i])
	}
	return ids
}}

// saysAsGiven checks that err, a refusal of body, says no stand-in
// pythonJSON put for a literal or for a client's number (with one zero
// more after its e) that body does not hold as it is: each value is said
// as given (asGiven). A body with an escape is passed over: a text's
// escapes may spell a stand-in that its bytes do not.
func saysAsGiven(t *testing.T, body []byte, err error) {
	t.Helper()
	if err == nil || bytes.IndexByte(body, '\\') >= 0 {
		return
	}
	for _, put := range []string{pyNaN, pyInf, "8.8e0888888888888", "1e0999999999999"} {
		if strings.Contains(err.Error(), put) && !bytes.Contains(body, []byte(put)) {
			t.Fatalf("%s: refused saying %s, which the body does not hold: %v", body, put, err)
		}
	}
}

// notJSONAt is a refusal of a body that is no JSON, with the byte it
// names (counted from 1) and that byte, where it is printable ASCII
// other than a quote or backslash (said as itself: 'x') or a space,
// which encoding/json says of a body that ends within a number ("-":
// "invalid character ' ' in numeric literal", at its length).
var notJSONAt = regexp.MustCompile(`^the body is not the JSON expected: not valid JSON at byte (\d+): invalid character '([!-&(-\[\]-~])'`)

// saysWhereGiven checks that err, where it refuses body as no JSON,
// names the byte that body, as the client sent it, holds there: counted
// in it, not in the body pythonJSON read, whose stand-ins are longer
// than the literals they stand for, and that byte one the client wrote,
// not one of a stand-in.
func saysWhereGiven(t *testing.T, body []byte, err error) {
	t.Helper()
	if err == nil {
		return
	}
	m := notJSONAt.FindStringSubmatch(err.Error())
	if m == nil {
		return
	}
	if n, _ := strconv.Atoi(m[1]); n < 1 || n > len(body) || body[n-1] != m[2][0] {
		t.Fatalf("%s: refused as no JSON at a byte the body does not hold there: %v", body, err)
	}
}

// biasJSON is a logit_bias as a client sends it, its keys in order.
func biasJSON(f logitBiasField) json.RawMessage {
	if f == nil {
		return json.RawMessage("null")
	}
	b := []byte{'{'}
	for i, e := range f {
		if i > 0 {
			b = append(b, ',')
		}
		key, _ := json.Marshal(e.key)
		val, _ := json.Marshal(e.value)
		b = append(append(append(b, key...), ':'), val...)
	}
	return append(b, '}')
}

// vllmBiasJSON is a logit_bias vLLM has read as a client sends it: its
// token ids in order, with their (clamped) biases.
func vllmBiasJSON(d vllmBiasDict) json.RawMessage {
	if d.ids == nil {
		return json.RawMessage("null")
	}
	b := []byte{'{'}
	for i, id := range d.ids {
		if i > 0 {
			b = append(b, ',')
		}
		val, _ := json.Marshal(d.bias[id])
		b = append(append(append(b, '"'), id...), '"', ':')
		b = append(b, val...)
	}
	return append(b, '}')
}

// readsBack checks that body w, an accepted request written as a client
// would send it, decodes through parse to was again.
func readsBack[T any](t *testing.T, w map[string]any, parse func([]byte) (T, error), was T) {
	t.Helper()
	again, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	back, err := parse(again)
	if err != nil || !reflect.DeepEqual(back, was) {
		t.Fatalf("%s reads back as %+v, %v (was %+v)", again, back, err, was)
	}
}
