package serve

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rlt-workbench/rlt/engine/rlt"
)

// vllmChoice is the part of a /v1/completions choice that says how the
// generation ended.
type vllmChoice struct {
	Text         string          `json:"text"`
	FinishReason string          `json:"finish_reason"`
	StopReason   json.RawMessage `json:"stop_reason"`
	Logprobs     *struct {
		Tokens []string `json:"tokens"`
	} `json:"logprobs"`
}

// TestStop: /v1/completions ends the one token it generates as vLLM's V1
// engine does: a token among stop_token_ids ends it ("stop", stop_reason
// the id) and is left out of the text unless include_stop_str_in_output;
// the first of the stop strings, in the request's order, found in the
// token's text ends it ("stop", stop_reason the string), the text cut
// before it (after it with include_stop_str_in_output), even after a stop
// token kept in the text; the log-probs still hold the token; anything
// else is "length".
func TestStop(t *testing.T) {
	s, ts := testServer(t, VLLM)
	ids := s.Tok.Encode("a")
	sc, err := s.Src.PromptLogProbs(ids, 1, rlt.PromptOptions{Next: true})
	if err != nil {
		t.Fatal(err)
	}
	next, text := sc.Next, vllmOutputText(s.Tok, ids, sc.Next, true)
	if utf8.RuneCountInString(text) < 3 || strings.ContainsAny(text, `"\`) {
		t.Fatalf("the greedy token's text %q is too short (or quoted) for the cases below: the test tells nothing", text)
	}
	first, _ := utf8.DecodeRuneInString(text)
	head, rest := string(first), text[len(string(first)):] // text = head + rest
	other := (next + 1) % int32(s.Src.Vocab)
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	for _, c := range []struct {
		name, fields string
		text, finish string
		stopReason   string // the JSON of stop_reason
	}{
		{"nothing asked", ``, text, "length", `null`},
		{"a stop string not in the text", `"stop":"\u0000zz"`, text, "length", `null`},
		{"the whole text", `"stop":` + q(text), "", "stop", q(text)},
		{"the whole text, kept", `"stop":` + q(text) + `,"include_stop_str_in_output":true`, text, "stop", q(text)},
		{"its end", `"stop":[` + q(rest) + `]`, head, "stop", q(rest)},
		{"its start, kept", `"stop":[` + q(head) + `],"include_stop_str_in_output":true`, head, "stop", q(head)},
		{"the first in the list's order", `"stop":["\u0000zz",` + q(rest) + `,` + q(head) + `]`, head, "stop", q(rest)},
		{"a stop token id", fmt.Sprintf(`"stop_token_ids":[%d,%d]`, other, next), "", "stop", fmt.Sprint(next)},
		{"a stop token id, kept", fmt.Sprintf(`"stop_token_ids":[%d],"include_stop_str_in_output":true`, next), text, "stop", fmt.Sprint(next)},
		{"another token's id", fmt.Sprintf(`"stop_token_ids":[%d]`, other), text, "length", `null`},
		{"a stop token id, then a stop string in the kept text", fmt.Sprintf(`"stop_token_ids":[%d],"stop":%s,"include_stop_str_in_output":true`, next, q(rest)), text, "stop", q(rest)},
		{"a stop token id left out: no text to search", fmt.Sprintf(`"stop_token_ids":[%d],"stop":%s`, next, q(rest)), "", "stop", fmt.Sprint(next)},
		{"null", `"stop":null,"stop_token_ids":null`, text, "length", `null`},
	} {
		body := fmt.Sprintf(`{"prompt":"a","max_tokens":1,"logprobs":0`)
		if c.fields != "" {
			body += "," + c.fields
		}
		status, resp := post(t, ts.URL+"/v1/completions", body+"}")
		var r struct{ Choices []vllmChoice }
		if status != 200 || json.Unmarshal([]byte(resp), &r) != nil || len(r.Choices) != 1 {
			t.Fatalf("%s: %d %s", c.name, status, resp)
		}
		ch := r.Choices[0]
		if ch.Text != c.text || ch.FinishReason != c.finish || string(ch.StopReason) != c.stopReason {
			t.Errorf("%s: text %q, finish_reason %q, stop_reason %s; want %q, %q, %s", c.name, ch.Text, ch.FinishReason, ch.StopReason, c.text, c.finish, c.stopReason)
		}
		if ch.Logprobs == nil || len(ch.Logprobs.Tokens) != 1 || ch.Logprobs.Tokens[0] != s.Tok.DecodeHF([]int32{next}, false) {
			t.Errorf("%s: logprobs %+v, want the generated token's", c.name, ch.Logprobs)
		}
	}
	// A batch's prompts end each by its own token.
	status, resp := post(t, ts.URL+"/v1/completions", `{"prompt":["a","a"],"max_tokens":1,"stop":[`+q(rest)+`]}`)
	var r struct{ Choices []vllmChoice }
	if status != 200 || json.Unmarshal([]byte(resp), &r) != nil || len(r.Choices) != 2 || r.Choices[1].Text != head || r.Choices[1].FinishReason != "stop" {
		t.Errorf("a batch: %d %s", status, resp)
	}
	// vLLM's refusals.
	for _, body := range []string{`{"prompt":"a","max_tokens":1,"stop":""}`, `{"prompt":"a","max_tokens":1,"stop":["x",""]}`} {
		if status, resp := post(t, ts.URL+"/v1/completions", body); status != 400 || !strings.Contains(resp, `"message":"stop cannot contain an empty string."`) {
			t.Errorf("%s: %d %s, want vLLM's refusal of an empty stop string", body, status, resp)
		}
	}
	if status, resp := post(t, ts.URL+"/v1/completions", `{"prompt":"a","max_tokens":1,"stop":5}`); status != 400 || !strings.Contains(resp, `"stop\" must be a text or a list of texts`) {
		t.Errorf("stop 5: %d %s", status, resp)
	}
}

// TestEchoWithoutGeneration: with echo and max_tokens 0 vLLM still
// generates one token, which it does not show: the text is the prompt,
// the token ends the choice as a shown one would (finish_reason,
// stop_reason) and the usage counts it.
func TestEchoWithoutGeneration(t *testing.T) {
	s, ts := testServer(t, VLLM)
	ids := s.Tok.Encode("a")
	sc, err := s.Src.PromptLogProbs(ids, 1, rlt.PromptOptions{Next: true})
	if err != nil {
		t.Fatal(err)
	}
	text := vllmOutputText(s.Tok, ids, sc.Next, true)
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	for _, c := range []struct {
		name, fields       string
		finish, stopReason string
	}{
		{"nothing asked", `"logprobs":1`, "length", `null`},
		{"its id a stop token", fmt.Sprintf(`"stop_token_ids":[%d]`, sc.Next), "stop", fmt.Sprint(sc.Next)},
		{"a stop string in its text", `"stop":` + q(text), "stop", q(text)},
	} {
		status, resp := post(t, ts.URL+"/v1/completions", `{"prompt":"a","max_tokens":0,"echo":true,`+c.fields+`}`)
		var r struct {
			Choices []vllmChoice
			Usage   map[string]int
		}
		if status != 200 || json.Unmarshal([]byte(resp), &r) != nil || len(r.Choices) != 1 {
			t.Fatalf("%s: %d %s", c.name, status, resp)
		}
		ch := r.Choices[0]
		if ch.Text != "a" || ch.FinishReason != c.finish || string(ch.StopReason) != c.stopReason {
			t.Errorf("%s: text %q, finish_reason %q, stop_reason %s; want \"a\", %q, %s", c.name, ch.Text, ch.FinishReason, ch.StopReason, c.finish, c.stopReason)
		}
		if r.Usage["completion_tokens"] != 1 || r.Usage["prompt_tokens"] != len(ids) || r.Usage["total_tokens"] != len(ids)+1 {
			t.Errorf("%s: usage %v, want the unshown token counted", c.name, r.Usage)
		}
		if ch.Logprobs != nil && len(ch.Logprobs.Tokens) != len(ids) {
			t.Errorf("%s: logprobs of %d tokens, want the prompt's %d only", c.name, len(ch.Logprobs.Tokens), len(ids))
		}
	}
}
