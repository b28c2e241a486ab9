package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/remote"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
)

func testServer(t *testing.T, api API) (*Server, *httptest.Server) {
	t.Helper()
	return testServerOn(t, api, compute.NewCPU())
}

// testServerOn is testServer's model computed by be.
func testServerOn(t *testing.T, api API, be compute.Backend) (*Server, *httptest.Server) {
	t.Helper()
	tok, err := tokenizer.Load("../tokenizer/testdata/qwen2_pairs.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg := model.Config{Vocab: tok.VocabSize() + 6, Hidden: 32, Intermediate: 64, Layers: 2, Heads: 4, KVHeads: 2,
		RMSEps: 1e-6, RopeTheta: 1e4, MaxPos: 64, Tied: true, QKVBias: true}
	m, err := model.NewRandom(be, cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	m.InitRandom(5, 0.3)
	s := New(rlt.NewModelSource(m, "tiny"), tok, "tiny", api)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

// tokOf is a test server's tokenizer as itself.
func tokOf(s *Server) *tokenizer.Tokenizer { return s.Tok.(*tokenizer.Tokenizer) }

// TestPromptLogProbs: the served log-probs are the model's own, by an
// independent path (the whole sequence's TokenLogProbs, logits made for the
// greedy token).
func TestPromptLogProbs(t *testing.T) {
	s, _ := testServer(t, Both)
	m := s.Src.M
	ids := s.Tok.Encode("<|im_start|>user\n347+285=?<|im_end|>")
	for _, temp := range []float64{1, 0.7} {
		sc, err := s.Src.PromptLogProbs(ids, temp, rlt.PromptOptions{Next: true})
		if err != nil {
			t.Fatal(err)
		}
		lp, next, nextLP := sc.LogProbs, sc.Next, sc.NextLogProb
		tp := compute.NewTape(m.Backend())
		tp.SetRecording(false)
		targets := make([]int32, len(ids))
		for i := range targets {
			targets[i] = -1
			if i+1 < len(ids) {
				targets[i] = ids[i+1]
			}
		}
		b := &model.Batch{B: 1, T: len(ids), Tokens: ids}
		want := make([]float32, len(ids))
		m.Backend().Read(want, m.TokenLogProbs(tp, b, targets, float32(1/temp)))
		for i := range lp {
			if math.Abs(float64(lp[i]-want[i])) > 1e-5 {
				t.Fatalf("τ %g: position %d: %v, want %v", temp, i+1, lp[i], want[i])
			}
		}
		logits := make([]float32, len(ids)*m.Cfg.Vocab)
		m.Backend().Read(logits, m.Logits(tp, b))
		last := logits[(len(ids)-1)*m.Cfg.Vocab:]
		best, sum := 0, 0.0
		for v := range last {
			if last[v] > last[best] {
				best = v
			}
		}
		for _, z := range last {
			sum += math.Exp(float64(z-last[best]) / temp)
		}
		if next != int32(best) || math.Abs(float64(nextLP)+math.Log(sum)) > 1e-5 {
			t.Errorf("τ %g: next %d (%v), want %d (%v)", temp, next, nextLP, best, -math.Log(sum))
		}
	}
}

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, b := send(t, "POST", url, body)
	return resp.StatusCode, b
}

// send makes one request and returns its answer, whose body is read and
// closed, and that body.
func send(t *testing.T, method, url, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestErrors: the servers' error shapes, 400 for a prompt too long.
func TestErrors(t *testing.T) {
	_, ts := testServer(t, Both)
	long := strings.Repeat("1,", 70) + "1"
	cases := []struct {
		path, body string
		status     int
		want       string
	}{
		{"/v1/completions", `{"model":"tiny","prompt":[` + long + `],"max_tokens":1,"prompt_logprobs":0}`, 400,
			`{"error":{"code":400,"message":"You passed 71 input tokens and requested 1 output tokens. However, the model's context length is only 64 tokens, resulting in a maximum input length of 63 tokens. Please reduce the length of the input prompt. (parameter=input_tokens, value=71)","param":"input_tokens"`},
		{"/generate", `{"input_ids":[` + long + `],"sampling_params":{"max_new_tokens":1},"return_logprob":true,"logprob_start_len":0}`, 400,
			`{"error":{"message":"The input (71 tokens) is longer than the model's context length (64 tokens)."}}`},
		{"/v1/completions", `{"model":"tiny","prompt":[1,2],"max_tokens":2}`, 400, `max_tokens must be 1, or 0 with echo (got 2)`},
		{"/v1/completions", `{"model":"tiny","prompt":[1,2],"max_tokens":1,"prompt_logprobs":21}`, 400,
			`{"error":{"code":400,"message":"Requested prompt logprobs of 21, which is greater than max allowed: 20 (parameter=prompt_logprobs, value=21)","param":"prompt_logprobs","type":"BadRequestError"}}`},
		{"/v1/completions", `{"model":"other","prompt":[1,2]}`, 404, "The model `other` does not exist."},
		{"/v1/completions", `{"model":"tiny","prompt":[1,99999],"max_tokens":1}`, 400, `token id 99999 at position 1 is outside the vocabulary`},
		{"/generate", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":16}}`, 400, `max_new_tokens must be 0 or 1 (got 16)`},
		{"/tokenize", `{"prompt":"ab"}`, 200, `"tokens":[`},
		// A body of the wrong JSON is said in JSON's words, not Go's
		// ("cannot unmarshal string into Go struct field … of type int").
		{"/generate", `{"input_ids":"12","sampling_params":{"max_new_tokens":1}}`, 400, `the body is not the JSON expected: field \"input_ids\" holds a JSON string where`},
		{"/v1/completions", `{"model":"tiny","prompt":[1,2],"max_tokens":"x"}`, 400, `the body is not the JSON expected: field \"max_tokens\" holds a JSON string where a whole number is wanted`},
		{"/v1/completions", `{"model":"tiny",`, 400, `the body is not the JSON expected: not valid JSON`},
	}
	for _, c := range cases {
		status, body := post(t, ts.URL+c.path, c.body)
		if status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s %s: %d %s, want %d with %s", c.path, c.body[:min(40, len(c.body))], status, body, c.status, c.want)
		}
	}
}

// TestShapes: echo with max_tokens 0 (no token shown; vLLM's usage counts
// the one it generates), logprob_start_len, and the client reading both
// endpoints to the same numbers.
func TestShapes(t *testing.T) {
	s, ts := testServer(t, Both)
	ids := s.Tok.Encode("12+9=21")
	sc, err := s.Src.PromptLogProbs(ids, 0.7, rlt.PromptOptions{Next: true})
	if err != nil {
		t.Fatal(err)
	}
	want, next := sc.LogProbs, sc.Next
	idsJSON, _ := json.Marshal(ids)
	status, body := post(t, ts.URL+"/v1/completions", fmt.Sprintf(`{"prompt":%s,"max_tokens":0,"echo":true,"prompt_logprobs":0,"temperature":0.7}`, idsJSON))
	var c struct {
		Choices []struct {
			Text           string                                 `json:"text"`
			PromptLogprobs []map[string]struct{ Logprob float64 } `json:"prompt_logprobs"`
		} `json:"choices"`
		Usage struct {
			Completion int `json:"completion_tokens"`
		} `json:"usage"`
	}
	if status != 200 || json.Unmarshal([]byte(body), &c) != nil || c.Choices[0].Text != "12+9=21" || c.Usage.Completion != 1 || c.Choices[0].PromptLogprobs[0] != nil {
		t.Fatalf("echo: %d %s", status, body)
	}
	if got := c.Choices[0].PromptLogprobs[2][fmt.Sprint(ids[2])].Logprob; float32(got) != want[1] {
		t.Errorf("echo: log-prob %v, want %v", got, want[1])
	}
	status, body = post(t, ts.URL+"/generate", fmt.Sprintf(`{"input_ids":%s,"sampling_params":{"max_new_tokens":1,"temperature":0.7},"return_logprob":true,"logprob_start_len":2}`, idsJSON))
	var g struct {
		Meta struct {
			In  [][]any `json:"input_token_logprobs"`
			Out [][]any `json:"output_token_logprobs"`
		} `json:"meta_info"`
	}
	// The triples are input_ids[2:], the first logprob null as SGLang's
	// is (it computes from position 2's hidden state on).
	if status != 200 || json.Unmarshal([]byte(body), &g) != nil || len(g.Meta.In) != len(ids)-2 || g.Meta.In[0][0] != nil || g.Meta.In[0][1].(float64) != float64(ids[2]) ||
		float32(g.Meta.In[1][0].(float64)) != want[2] || g.Meta.Out[0][1].(float64) != float64(next) {
		t.Fatalf("generate: %d %s", status, body)
	}
	// Scoring asks for no new token: output_ids is SGLang's empty list.
	status, body = post(t, ts.URL+"/generate", fmt.Sprintf(`{"input_ids":%s,"sampling_params":{"max_new_tokens":0}}`, idsJSON))
	if status != 200 || !strings.Contains(body, `"output_ids":[]`) {
		t.Errorf("generate of no token: %d %s, want output_ids []", status, body)
	}
	// The client, through each protocol, gets the served numbers exactly.
	for _, kind := range []remote.Kind{remote.VLLM, remote.SGLang} {
		srv, err := remote.Connect(context.Background(), ts.URL, remote.Options{Kind: kind})
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Check(context.Background(), tokOf(s), "<|im_start|>user\n12+9=?<|im_end|>", 0.7); err != nil {
			t.Fatal(err)
		}
		if srv.Raw() || srv.MaxPositions() != 63 {
			t.Errorf("%s: raw %v, %d positions", kind, srv.Raw(), srv.MaxPositions())
		}
		got, err := srv.LogProbs(context.Background(), [][]int32{ids}, [][][2]int{{{1, len(ids) - 1}}}, 0.7)
		if err != nil || !bytes.Equal([]byte(fmt.Sprint(got)), []byte(fmt.Sprint(want))) {
			t.Errorf("%s: %v %v, want %v", kind, got, err, want)
		}
	}
}

// A body with "prompt" twice decodes the last one alone (the same value
// is decoded into twice): not the text of one and the ids of the other.
func TestRepeatedPromptKey(t *testing.T) {
	for _, c := range []struct {
		body string
		text bool
	}{
		{`{"prompt":"a","prompt":[1],"max_tokens":1}`, false},
		{`{"prompt":[1],"prompt":"a","max_tokens":1}`, true},
	} {
		req, err := parseCompletions([]byte(c.body))
		if err != nil {
			t.Fatalf("%s: %v", c.body, err)
		}
		if len(req.Prompts) != 1 || (req.Prompts[0].text != nil) != c.text || (req.Prompts[0].ids != nil) == c.text {
			t.Errorf("%s: %+v; want only the last prompt", c.body, req.Prompts)
		}
	}
}

// TestRefusals: what rlt serve does not answer is refused as vLLM and
// SGLang refuse it, never answered as if it had been asked something else:
// a negative temperature (both servers' 400, not τ 1; vLLM's float as
// Python writes it), one above 2 (vLLM's, which keeps OpenAI's bound;
// SGLang has none), top log-probs past
// --max-logprobs (vLLM's words, for SGLang's top_logprobs_num too), and an
// endpoint called by the wrong method (FastAPI's 405 with Allow, not 400).
func TestRefusals(t *testing.T) {
	_, ts := testServer(t, Both)
	cases := []struct {
		method, path, body string
		status             int
		want, allow        string
	}{
		{"POST", "/v1/completions", `{"prompt":[1,2],"max_tokens":1,"temperature":-1}`, 400, `"param":"temperature"`, ""},
		{"POST", "/v1/completions", `{"prompt":[1,2],"max_tokens":1,"temperature":-1}`, 400, `temperature must be non-negative, got -1.0. (parameter=temperature, value=-1.0)`, ""},
		{"POST", "/generate", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"temperature":-2}}`, 400, `temperature must be a non-negative finite number, got -2.0.`, ""},
		{"POST", "/v1/completions", `{"prompt":[1,2],"max_tokens":1,"temperature":2.5}`, 400, `"message":"temperature must be in [0, 2], got 2.5. (parameter=temperature, value=2.5)","param":"temperature"`, ""},
		{"POST", "/v1/completions", `{"prompt":[1,2],"max_tokens":1,"temperature":3}`, 400, `temperature must be in [0, 2], got 3.0.`, ""},
		{"POST", "/v1/completions", `{"prompt":[1,2],"max_tokens":1,"echo":true,"logprobs":21}`, 400, `"message":"Requested sample logprobs of 21, which is greater than max allowed: 20 (parameter=logprobs, value=21)","param":"logprobs"`, ""},
		{"POST", "/v1/completions", `{"prompt":[1,2],"max_tokens":0,"echo":true,"logprobs":-2}`, 400, "`logprobs` must be a positive value or -1.", ""},
		{"POST", "/v1/completions", `{"prompt":[1,2],"max_tokens":0,"echo":true,"prompt_logprobs":-1}`, 400, `"message":"Requested prompt logprobs of `, ""},
		{"POST", "/v1/completions", `{"prompt":[1,2],"max_tokens":0,"echo":true,"logprobs":20,"prompt_logprobs":21}`, 400, `"param":"prompt_logprobs"`, ""},
		{"POST", "/generate", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1},"return_logprob":true,"top_logprobs_num":21}`, 400, `Requested top_logprobs_num of 21, which is greater than max allowed: 20`, ""},
		{"GET", "/v1/completions", ``, 405, `{"detail":"Method Not Allowed"}`, "POST"},
		{"GET", "/tokenize", ``, 405, `{"detail":"Method Not Allowed"}`, "POST"},
		{"GET", "/generate", ``, 405, `{"detail":"Method Not Allowed"}`, "POST, PUT"},
		{"POST", "/v1/models", `{}`, 405, `{"detail":"Method Not Allowed"}`, "GET"},
		// What is still answered.
		{"POST", "/v1/completions", `{"prompt":[1,2],"max_tokens":1,"temperature":0}`, 200, `"completion_tokens":1`, ""},
		{"POST", "/v1/completions", `{"prompt":[1,2],"max_tokens":1,"temperature":2}`, 200, `"completion_tokens":1`, ""},
		{"POST", "/generate", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":1,"temperature":5}}`, 200, `"output_ids":[`, ""},
		{"POST", "/v1/completions", `{"prompt":[1,2],"max_tokens":0,"echo":true,"logprobs":0}`, 200, `"token_logprobs":[null,`, ""},
		{"POST", "/v1/completions", `{"prompt":[1,2],"max_tokens":1,"logprobs":20,"prompt_logprobs":20}`, 200, `"completion_tokens":1`, ""},
		{"POST", "/generate", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":0,"temperature":0},"top_logprobs_num":0}`, 200, `"output_ids":[]`, ""},
	}
	for _, c := range cases {
		resp, b := send(t, c.method, ts.URL+c.path, c.body)
		if resp.StatusCode != c.status || !strings.Contains(b, c.want) || resp.Header.Get("Allow") != c.allow {
			t.Errorf("%s %s %s: %d (Allow %q) %s, want %d (Allow %q) with %s", c.method, c.path, c.body, resp.StatusCode, resp.Header.Get("Allow"), b, c.status, c.allow, c.want)
		}
	}
}

// TestRouting: a path the emulated server does not serve, and a method an
// endpoint does not take, are answered as FastAPI (under vLLM and SGLang
// alike) answers them, in JSON: not Go's plain-text "404 page not found".
func TestRouting(t *testing.T) {
	const notFound, notAllowed = `{"detail":"Not Found"}`, `{"detail":"Method Not Allowed"}`
	for _, c := range []struct {
		api                API
		method, path, body string
		status             int
		want, allow        string
	}{
		{VLLM, "POST", "/generate", `{"input_ids":[1,2]}`, 404, notFound, ""},
		{VLLM, "GET", "/generate", ``, 404, notFound, ""},
		{VLLM, "GET", "/", ``, 404, notFound, ""},
		{VLLM, "POST", "/v1/chat/completions", `{}`, 404, notFound, ""},
		{VLLM, "POST", "/v1/completions/", `{}`, 404, notFound, ""}, // exact paths: no redirect
		{VLLM, "PUT", "/v1/completions", `{}`, 405, notAllowed, "POST"},
		{VLLM, "DELETE", "/v1/models", ``, 405, notAllowed, "GET"},
		{SGLang, "POST", "/v1/completions", `{"prompt":[1,2],"max_tokens":1}`, 404, notFound, ""},
		{SGLang, "GET", "/generate", ``, 405, notAllowed, "POST, PUT"},
		{SGLang, "GET", "/health_generate", ``, 404, notFound, ""},
		{Both, "GET", "/nothing", ``, 404, notFound, ""},
		// What each serves is still answered.
		{SGLang, "PUT", "/generate", `{"input_ids":[1,2],"sampling_params":{"max_new_tokens":0}}`, 200, `"output_ids":[]`, ""},
		{VLLM, "GET", "/v1/models", ``, 200, `"owned_by":"rlt"`, ""},
		{SGLang, "POST", "/tokenize", `{"prompt":"ab"}`, 200, `"tokens":[`, ""},
	} {
		_, ts := testServer(t, c.api)
		resp, b := send(t, c.method, ts.URL+c.path, c.body)
		body := strings.TrimSpace(b)
		exact := strings.HasPrefix(c.want, `{"detail"`)
		if resp.StatusCode != c.status || resp.Header.Get("Allow") != c.allow || resp.Header.Get("Content-Type") != "application/json" ||
			exact && body != c.want || !exact && !strings.Contains(body, c.want) {
			t.Errorf("--api %s: %s %s: %d (Allow %q, %s) %s, want %d (Allow %q) %s", c.api, c.method, c.path,
				resp.StatusCode, resp.Header.Get("Allow"), resp.Header.Get("Content-Type"), body, c.status, c.allow, c.want)
		}
	}
}

// The client told to speak vLLM to an SGLang-only rlt serve is told what
// a real SGLang server would tell it: 404 Not Found, said plainly.
func TestClientOfTheOtherAPI(t *testing.T) {
	s, ts := testServer(t, SGLang)
	srv, err := remote.Connect(context.Background(), ts.URL, remote.Options{Kind: remote.VLLM})
	if err == nil {
		err = srv.Check(context.Background(), tokOf(s), "<|im_start|>user\n12+9=?<|im_end|>", 0.7)
	}
	if err == nil || !strings.Contains(err.Error(), "HTTP 404: Not Found") {
		t.Errorf("vLLM's client to an SGLang server: %v, want HTTP 404: Not Found", err)
	}
}

// A generated special token's text is "", as vLLM and SGLang skip special
// tokens by default, and itself when asked not to; another token's is its
// text.
func TestOutputText(t *testing.T) {
	s, _ := testServer(t, Both)
	tok := tokOf(s)
	prompt := tok.Encode("12+9=")
	for _, c := range []struct{ token, want string }{{"<|im_end|>", ""}, {"<|endoftext|>", ""}, {"<|im_start|>", ""}} {
		id, ok := tok.ID(c.token)
		if !ok {
			t.Fatalf("no %s", c.token)
		}
		if got := vllmOutputText(s.Tok, prompt, id, true); got != c.want {
			t.Errorf("vLLM: %s: %q, want %q", c.token, got, c.want)
		}
		if got := sglangOutputText(s.Tok, prompt, id, true); got != c.want {
			t.Errorf("SGLang: %s: %q, want %q", c.token, got, c.want)
		}
		// skip_special_tokens false: the token as itself.
		if got := vllmOutputText(s.Tok, prompt, id, false); got != c.token {
			t.Errorf("vLLM, special tokens kept: %s: %q", c.token, got)
		}
		if got := sglangOutputText(s.Tok, prompt, id, false); got != c.token {
			t.Errorf("SGLang, special tokens kept: %s: %q", c.token, got)
		}
	}
	if ids := tok.Encode("a"); len(ids) != 1 || vllmOutputText(s.Tok, prompt, ids[0], true) != "a" || sglangOutputText(s.Tok, prompt, ids[0], true) != "a" {
		t.Errorf("the text of %v: %q and %q, want %q", ids, vllmOutputText(s.Tok, prompt, ids[0], true), sglangOutputText(s.Tok, prompt, ids[0], true), "a")
	}
}

// return_text_in_logprobs fills the third element of SGLang's [logprob,
// id, text] triples with each token's own text (special tokens as
// themselves, as SGLang's batch_decode leaves them); without it the text
// is null.
func TestReturnTextInLogprobs(t *testing.T) {
	s, ts := testServer(t, SGLang)
	ids := s.Tok.Encode("<|im_start|>user\n12+9=?")
	idsJSON, _ := json.Marshal(ids)
	for _, flag := range []string{"", `,"return_text_in_logprobs":false`, `,"return_text_in_logprobs":true`} {
		want := strings.HasSuffix(flag, "true")
		status, body := post(t, ts.URL+"/generate", fmt.Sprintf(`{"input_ids":%s,"sampling_params":{"max_new_tokens":1},"return_logprob":true,"logprob_start_len":0%s}`, idsJSON, flag))
		var g struct {
			OutputIDs []int32 `json:"output_ids"`
			Meta      struct {
				In  [][]any `json:"input_token_logprobs"`
				Out [][]any `json:"output_token_logprobs"`
			} `json:"meta_info"`
		}
		if status != 200 || json.Unmarshal([]byte(body), &g) != nil || len(g.Meta.In) != len(ids) || len(g.Meta.Out) != 1 || len(g.OutputIDs) != 1 {
			t.Fatalf("%q: %d %s", flag, status, body)
		}
		check := func(what string, triple []any, id int32) {
			t.Helper()
			if len(triple) != 3 || triple[1] != float64(id) {
				t.Fatalf("%q: %s %v: not [logprob, %d, text]", flag, what, triple, id)
			}
			switch got := triple[2]; {
			case !want && got != nil:
				t.Errorf("%q: %s text %q, want null", flag, what, got)
			case want && got != s.Tok.DecodeHF([]int32{id}, false):
				t.Errorf("%q: %s text %v, want %q", flag, what, got, s.Tok.DecodeHF([]int32{id}, false))
			}
		}
		for pos, id := range ids {
			check(fmt.Sprintf("input %d", pos), g.Meta.In[pos], id)
		}
		check("output", g.Meta.Out[0], g.OutputIDs[0])
		if want && g.Meta.In[0][2] != "<|im_start|>" {
			t.Errorf("%q: the special first token's text %v, want <|im_start|>", flag, g.Meta.In[0][2])
		}
	}
}

// rankFromLogits is vLLM's rank counted from one position's full logits
// (model.Logits, the whole sequence at once): the tokens whose log-prob at
// the temperature is at least the target's.
func rankFromLogits(z []float32, target int32, temp float64) int {
	lp := func(x float32) float64 { return float64(x) / temp } // a log-prob less the row's log-sum-exp
	n := 0
	for _, x := range z {
		if lp(x) >= lp(z[target]) {
			n++
		}
	}
	return n
}

// TestRanks: each prompt token's rank is the brute-force count over the
// position's full logits (model.Logits, the whole sequence at once), 1 for
// every token of a greedy continuation, the same a few rows at a time, and
// asking for ranks leaves the log-probs as they were; /v1/completions
// returns them as integers.
func TestRanks(t *testing.T) {
	s, ts := testServer(t, Both)
	m, tok := s.Src.M, tokOf(s)
	ids := tok.Encode("<|im_start|>user\n12+9=")
	n0 := len(ids)
	for len(ids) < n0+8 { // the greedy continuation
		sc, err := s.Src.PromptLogProbs(ids, 1, rlt.PromptOptions{Next: true})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sc.Next)
	}
	tp := compute.NewTape(m.Backend())
	tp.SetRecording(false)
	V := m.Cfg.Vocab
	logits := make([]float32, len(ids)*V)
	m.Backend().Read(logits, m.Logits(tp, &model.Batch{B: 1, T: len(ids), Tokens: ids}))
	for _, temp := range []float64{1, 0.7} {
		plain, err := s.Src.PromptLogProbs(ids, temp, rlt.PromptOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, chunk := range []int{0, 3} {
			s.Src.RankChunkRows = chunk
			sc, err := s.Src.PromptLogProbs(ids, temp, rlt.PromptOptions{Ranks: true})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(sc.LogProbs) != fmt.Sprint(plain.LogProbs) || len(sc.Ranks) != len(ids)-1 {
				t.Fatalf("τ %g, chunk %d: log-probs %v with %d ranks, want %v as without ranks", temp, chunk, sc.LogProbs, len(sc.Ranks), plain.LogProbs)
			}
			ranked := 0
			for pos := 1; pos < len(ids); pos++ {
				want := rankFromLogits(logits[(pos-1)*V:pos*V], ids[pos], temp)
				if pos >= n0 && want != 1 {
					t.Fatalf("position %d: greedy token %d has rank %d in the full logits", pos, ids[pos], want)
				}
				if got := sc.Ranks[pos-1]; got != want {
					t.Errorf("τ %g, chunk %d: position %d: rank %d, want %d", temp, chunk, pos, got, want)
				}
				if want > 1 {
					ranked++
				}
			}
			if ranked == 0 {
				t.Fatalf("every prompt token ranks 1: the test tells nothing")
			}
		}
	}
	s.Src.RankChunkRows = 0
	sc, err := s.Src.PromptLogProbs(ids, 0.7, rlt.PromptOptions{Ranks: true})
	if err != nil {
		t.Fatal(err)
	}
	idsJSON, _ := json.Marshal(ids)
	status, body := post(t, ts.URL+"/v1/completions", fmt.Sprintf(`{"prompt":%s,"max_tokens":1,"prompt_logprobs":0,"temperature":0.7}`, idsJSON))
	var c struct {
		Choices []struct {
			PromptLogprobs []map[string]struct {
				Logprob      float64
				Rank         *int
				DecodedToken *string `json:"decoded_token"`
			} `json:"prompt_logprobs"`
		} `json:"choices"`
	}
	if status != 200 || json.Unmarshal([]byte(body), &c) != nil || len(c.Choices) != 1 || len(c.Choices[0].PromptLogprobs) != len(ids) {
		t.Fatalf("%d %s", status, body)
	}
	for pos := 1; pos < len(ids); pos++ {
		e := c.Choices[0].PromptLogprobs[pos][fmt.Sprint(ids[pos])]
		if e.Rank == nil || *e.Rank != sc.Ranks[pos-1] || e.DecodedToken == nil || *e.DecodedToken != tok.DecodeHF(ids[pos:pos+1], false) {
			t.Errorf("position %d: %+v, want rank %d", pos, e, sc.Ranks[pos-1])
		}
	}
}

// byteID is the id of the qwen2 test tokenizer's one-byte token for b,
// written in GPT-2's byte-level alphabet (0xAD, not printable, is Ń).
func byteID(t *testing.T, tok *tokenizer.Tokenizer, b byte) int32 {
	t.Helper()
	r := rune(b)
	if b == 0xad {
		r = 'Ń'
	}
	id, ok := tok.ID(string(r))
	if !ok {
		t.Fatalf("no token for byte %#x", b)
	}
	return id
}

// TestCutCharacters: a character cut between prompt tokens reads as vLLM
// and SGLang return it, not as one U+FFFD per byte (what encoding/json
// writes of raw bytes): vLLM's echo decodes the ids (E4 B8 at the end is
// one U+FFFD), its "decoded_token" gives the whole character to the token
// that completes it and "" to the ones before; SGLang's triples decode
// each token alone.
func TestCutCharacters(t *testing.T) {
	s, ts := testServer(t, Both)
	tok := tokOf(s)
	a, b := tok.Encode("a"), tok.Encode("b")
	e4, b8, ad := byteID(t, tok, 0xe4), byteID(t, tok, 0xb8), byteID(t, tok, 0xad)
	whole := append(append(append([]int32{}, a...), e4, b8, ad), b...)
	cut := append(append([]int32{}, a...), e4, b8)
	type entry struct {
		DecodedToken string `json:"decoded_token"`
	}
	var c struct {
		Choices []struct {
			Text           string             `json:"text"`
			PromptLogprobs []map[string]entry `json:"prompt_logprobs"`
		} `json:"choices"`
	}
	for _, q := range []struct {
		ids      []int32
		echo     string
		decoded  []string
		sglTexts []string
	}{
		{whole, "a中b", []string{"", "", "中", "b"}, []string{"a", "\ufffd", "\ufffd", "\ufffd", "b"}},
		{cut, "a\ufffd", []string{"", ""}, []string{"a", "\ufffd", "\ufffd"}},
	} {
		idsJSON, _ := json.Marshal(q.ids)
		status, body := post(t, ts.URL+"/v1/completions", fmt.Sprintf(`{"prompt":%s,"max_tokens":0,"echo":true,"prompt_logprobs":0}`, idsJSON))
		if status != 200 || json.Unmarshal([]byte(body), &c) != nil || len(c.Choices) != 1 || len(c.Choices[0].PromptLogprobs) != len(q.ids) {
			t.Fatalf("%v: %d %s", q.ids, status, body)
		}
		if got := c.Choices[0].Text; got != q.echo {
			t.Errorf("%v: echo %+q, want %+q", q.ids, got, q.echo)
		}
		for pos := 1; pos < len(q.ids); pos++ {
			if got := c.Choices[0].PromptLogprobs[pos][fmt.Sprint(q.ids[pos])].DecodedToken; got != q.decoded[pos-1] {
				t.Errorf("%v: position %d: decoded_token %+q, want %+q", q.ids, pos, got, q.decoded[pos-1])
			}
		}
		status, body = post(t, ts.URL+"/generate", fmt.Sprintf(`{"input_ids":%s,"sampling_params":{"max_new_tokens":0},"return_logprob":true,"logprob_start_len":0,"return_text_in_logprobs":true}`, idsJSON))
		var g struct {
			Meta struct {
				In [][]any `json:"input_token_logprobs"`
			} `json:"meta_info"`
		}
		if status != 200 || json.Unmarshal([]byte(body), &g) != nil || len(g.Meta.In) != len(q.ids) {
			t.Fatalf("%v: %d %s", q.ids, status, body)
		}
		for pos, tr := range g.Meta.In {
			if tr[2] != q.sglTexts[pos] {
				t.Errorf("%v: SGLang text %d: %+q, want %+q", q.ids, pos, tr[2], q.sglTexts[pos])
			}
		}
	}
	// A text prompt is echoed as given, as vLLM echoes it.
	status, body := post(t, ts.URL+"/v1/completions", `{"prompt":"12+9=21","max_tokens":0,"echo":true}`)
	if status != 200 || !strings.Contains(body, `"text":"12+9=21"`) {
		t.Errorf("echo of a text: %d %s", status, body)
	}
}
