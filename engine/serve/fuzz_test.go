package serve

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// FuzzDecodeRequests: the decoders and checks of /v1/completions,
// /generate and /tokenize bodies never panic, refuse with an error what
// rlt serve does not answer, and what they accept, written back as a
// client would send it, decodes the same.
func FuzzDecodeRequests(f *testing.F) {
	f.Add(byte(0), []byte(`{"model":"m","prompt":[1,5,7],"max_tokens":1,"temperature":0.7,"prompt_logprobs":0}`))
	f.Add(byte(0), []byte(`{"prompt":"Hello","max_tokens":0,"echo":true,"n":2}`))
	f.Add(byte(0), []byte(`{"prompt":[[1,5,7],[2]],"max_tokens":1,"echo":true,"logprobs":1,"temperature":0}`))
	f.Add(byte(0), []byte(`{"prompt":["a","b"],"max_tokens":0,"echo":true,"prompt_logprobs":5,"return_tokens_as_token_ids":true}`))
	f.Add(byte(1), []byte(`{"input_ids":[1,5,7],"sampling_params":{"max_new_tokens":1,"temperature":0.7},"return_logprob":true,"logprob_start_len":0}`))
	f.Add(byte(1), []byte(`{"text":"Hi","input_ids":[],"sampling_params":{"max_new_tokens":128}}`))
	f.Add(byte(1), []byte(`{"text":"Hi","sampling_params":{"max_new_tokens":0},"return_logprob":true,"logprob_start_len":1,"top_logprobs_num":3,"return_text_in_logprobs":true}`))
	f.Add(byte(2), []byte(`{"model":"m","prompt":"Hello","add_special_tokens":false}`))
	f.Add(byte(2), []byte(`{"text":null}`))
	f.Fuzz(func(t *testing.T, api byte, body []byte) {
		switch api % 3 {
		case 0:
			req, err := parseCompletions(body)
			var br *badRequest
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
				"prompt_logprobs": req.PromptLogprobs, "logprobs": req.Logprobs, "return_tokens_as_token_ids": req.AsTokenIDs}
			readsBack(t, w, parseCompletions, req)
		case 1:
			req, err := parseGenerate(body)
			if err != nil {
				return
			}
			if req.MaxNew < 0 || req.MaxNew > 1 || req.Temperature <= 0 || (req.Text != nil && req.IDs != nil) {
				t.Fatalf("accepted %+v", req)
			}
			w := map[string]any{"sampling_params": map[string]any{"max_new_tokens": req.MaxNew, "temperature": req.Temperature},
				"return_logprob": req.ReturnLogprob, "logprob_start_len": req.Start, "return_text_in_logprobs": req.TextInLogprob, "top_logprobs_num": req.TopNum}
			if req.Text != nil {
				w["text"] = *req.Text
			}
			if req.IDs != nil {
				w["input_ids"] = req.IDs
			}
			readsBack(t, w, parseGenerate, req)
		case 2:
			_, _, err := parseTokenize(body)
			var br *badRequest
			if errors.As(err, &br) && br.param != "prompt" {
				t.Fatalf("refusal on %q", br.param)
			}
		}
	})
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
