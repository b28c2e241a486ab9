package serve

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/rlt"
)

// makeGreedy sets the test model's head row (tied: the embedding row) of
// token id to a large multiple of the final hidden state after prompt,
// which holds no id: the model's greedy next token after prompt is then
// id, and nothing else it computes of prompt changes.
func makeGreedy(t *testing.T, s *Server, prompt []int32, id int32) {
	t.Helper()
	m := s.Src.M
	tp := compute.NewTape(m.Backend())
	tp.SetRecording(false)
	H := m.Cfg.Hidden
	h := make([]float32, len(prompt)*H)
	m.Backend().Read(h, m.Hidden(tp, &model.Batch{B: 1, T: len(prompt), Tokens: prompt}))
	head := make([]float32, m.Cfg.Vocab*H)
	m.Backend().Read(head, m.LMHead)
	for j, x := range h[(len(prompt)-1)*H:] {
		head[int(id)*H+j] = 100 * x
	}
	m.Backend().Write(m.LMHead, head)
	sc, err := s.Src.PromptLogProbs(prompt, 1, rlt.PromptOptions{Next: true})
	if err != nil || sc.Next != id {
		t.Fatalf("the greedy token after %v is %d (%v), not %d", prompt, sc.Next, err, id)
	}
}

// TestSkipSpecialTokens: a generated special token's text is "" as both
// servers skip special tokens by default, and the token itself with
// skip_special_tokens false (vLLM's field, SGLang's sampling_params'),
// which then is text a stop string can match.
func TestSkipSpecialTokens(t *testing.T) {
	s, ts := testServer(t, Both)
	tok := tokOf(s)
	imEnd, ok := tok.ID("<|im_end|>")
	if !ok {
		t.Fatal("no <|im_end|>")
	}
	makeGreedy(t, s, tok.Encode("a"), imEnd)
	for _, c := range []struct {
		path, body             string
		text, finish, stopJSON string // an SGLang list's texts joined by "|"; no finish or stop
	}{
		{"/v1/completions", `{"prompt":"a","max_tokens":1}`, "", "length", `null`},
		{"/v1/completions", `{"prompt":"a","max_tokens":1,"skip_special_tokens":true}`, "", "length", `null`},
		{"/v1/completions", `{"prompt":"a","max_tokens":1,"skip_special_tokens":false}`, "<|im_end|>", "length", `null`},
		{"/v1/completions", `{"prompt":"a","max_tokens":1,"skip_special_tokens":false,"stop":"|im"}`, "<", "stop", `"|im"`},
		{"/v1/completions", `{"prompt":"a","max_tokens":1,"stop":"|im"}`, "", "length", `null`},
		{"/generate", `{"text":"a","sampling_params":{"max_new_tokens":1}}`, "", "", ""},
		{"/generate", `{"text":"a","sampling_params":{"max_new_tokens":1,"skip_special_tokens":false}}`, "<|im_end|>", "", ""},
		{"/generate", `{"text":["a","a"],"sampling_params":[{"max_new_tokens":1},{"max_new_tokens":1,"skip_special_tokens":false}]}`, "|<|im_end|>", "", ""},
	} {
		status, body := post(t, ts.URL+c.path, c.body)
		if status != 200 {
			t.Fatalf("%s %s: %d %s", c.path, c.body, status, body)
		}
		var text, finish, stop string
		if c.path == "/generate" {
			var g []struct{ Text string }
			if body[0] != '[' {
				body = "[" + body + "]"
			}
			if err := json.Unmarshal([]byte(body), &g); err != nil {
				t.Fatal(err)
			}
			texts := make([]string, len(g))
			for i := range g {
				texts[i] = g[i].Text
			}
			text = strings.Join(texts, "|")
		} else {
			var r struct{ Choices []vllmChoice }
			if err := json.Unmarshal([]byte(body), &r); err != nil || len(r.Choices) != 1 {
				t.Fatalf("%s: %v %s", c.body, err, body)
			}
			text, finish, stop = r.Choices[0].Text, r.Choices[0].FinishReason, string(r.Choices[0].StopReason)
		}
		if text != c.text || finish != c.finish || stop != c.stopJSON {
			t.Errorf("%s %s: text %q, finish_reason %q, stop_reason %s; want %q, %q, %s", c.path, c.body, text, finish, stop, c.text, c.finish, c.stopJSON)
		}
	}
}
