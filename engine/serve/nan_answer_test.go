package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a Server.Warn the handlers' goroutines write to.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	l.b.Reset()
	return s
}

// onlyChoice is a one-prompt /v1/completions answer's choice, as the
// server wrote it: what the request asks of the model, without the
// answer's time ("created").
func onlyChoice(t *testing.T, body string) string {
	t.Helper()
	choices, _ := choicesOf(t, body)
	if len(choices) != 1 {
		t.Fatalf("%d choices: %s", len(choices), body)
	}
	return string(choices[0])
}

// TestTemperatureRaisedAsVLLMRaisesIt: a /v1/completions temperature in
// (0, 0.01) is computed at 0.01, as vLLM's SamplingParams raises it
// (_MAX_TEMP), with vLLM's warning written once to Server.Warn; 0.01 and
// above, and 0 (greedy: temperature 1), as asked and without a warning.
// At 1e-40 the answer was a 500 (the log-probs NaN: logits/1e-40
// overflow float32) and at 1e-6 log-probs of logits/1e-6 (some −5.9
// million), where vLLM answers 0.01's.
func TestTemperatureRaisedAsVLLMRaisesIt(t *testing.T) {
	s, ts := testServer(t, Both)
	var warn lockedBuffer
	s.Warn = &warn
	ids, _ := json.Marshal(s.Tok.Encode("<|im_start|>user\n347+285=?<|im_end|>"))
	ask := func(temp string) (int, string) {
		return post(t, ts.URL+"/v1/completions", fmt.Sprintf(`{"model":"tiny","prompt":%s,"max_tokens":1,"echo":true,"logprobs":2,"prompt_logprobs":2,"temperature":%s}`, ids, temp))
	}
	answers := map[string]string{}
	for _, temp := range []string{"0.01", "0.02", "1", "0"} {
		code, body := ask(temp)
		if code != 200 {
			t.Fatalf("temperature %s: %d %s", temp, code, body)
		}
		answers[temp] = onlyChoice(t, body)
		if w := warn.take(); w != "" {
			t.Errorf("temperature %s: warned %q, want nothing", temp, w)
		}
	}
	if answers["0.01"] == answers["0.02"] || answers["0.01"] == answers["1"] {
		t.Fatal("the answers at 0.01, 0.02 and 1 are alike: the test cannot tell a raised temperature")
	}
	if answers["0"] != answers["1"] {
		t.Errorf("temperature 0 (greedy) answered otherwise than 1:\n%s\n%s", answers["0"], answers["1"])
	}
	for _, c := range []struct{ temp, said string }{
		{"0.009999999", "0.009999999"},
		{"0.001", "0.001"},
		{"1e-6", "1e-06"},
		{"1e-40", "1e-40"},
		{"5e-324", "5e-324"},
	} {
		code, body := ask(c.temp)
		if code != 200 {
			t.Errorf("temperature %s: %d %s, want 0.01's answer", c.temp, code, body)
			warn.take()
			continue
		}
		if got := onlyChoice(t, body); got != answers["0.01"] {
			t.Errorf("temperature %s answered otherwise than 0.01:\n%s\nwant\n%s", c.temp, got, answers["0.01"])
		}
		want := "rlt serve: WARNING: temperature " + c.said + " is less than 0.01, which may cause numerical errors nan or inf in tensors. We have maxed it out to 0.01.\n"
		if w := warn.take(); w != want {
			t.Errorf("temperature %s: warned %q, want %q", c.temp, w, want)
		}
	}
}

// TestRaisedTemperatureIsNoGreedy: vLLM raises 1e-6 to 0.01 before its
// greedy check, so n 2 at 1e-6 is no "n must be 1 when using greedy
// sampling" (that is 0's) but rlt serve's own refusal of n > 1; it was
// the greedy refusal, which vLLM does not make there.
func TestRaisedTemperatureIsNoGreedy(t *testing.T) {
	_, ts := testServer(t, Both)
	for _, c := range []struct{ temp, want string }{
		{"0", "n must be 1 when using greedy sampling, got 2."},
		{"1e-6", "n 2 asks for 2 samples of each prompt"},
		{"0.5", "n 2 asks for 2 samples of each prompt"},
	} {
		code, body := post(t, ts.URL+"/v1/completions", `{"model":"tiny","prompt":[1,2,3],"max_tokens":1,"n":2,"temperature":`+c.temp+`}`)
		if code != 400 || !strings.Contains(body, c.want) {
			t.Errorf("temperature %s: %d %s, want 400 %q", c.temp, code, body, c.want)
		}
	}
}

// TestGenerateTinyTemperatureIsGreedy: SGLang reads a temperature in
// [0, 1e-6) as greedy sampling at temperature 1, so /generate's
// log-probs there are temperature 1's (they were logits/5e-7's, and at
// 1e-40 a 500: NaN); 1e-6 itself is computed as asked.
func TestGenerateTinyTemperatureIsGreedy(t *testing.T) {
	s, ts := testServer(t, Both)
	ids, _ := json.Marshal(s.Tok.Encode("<|im_start|>user\n347+285=?<|im_end|>"))
	ask := func(temp string) string {
		code, body := post(t, ts.URL+"/generate", fmt.Sprintf(`{"input_ids":%s,"rid":"r","return_logprob":true,"logprob_start_len":0,"top_logprobs_num":2,"sampling_params":{"max_new_tokens":1,"temperature":%s}}`, ids, temp))
		if code != 200 {
			t.Fatalf("temperature %s: %d %s", temp, code, body)
		}
		return body
	}
	one := ask("1")
	for _, temp := range []string{"0", "5e-7", "1e-40", "9.99e-7"} {
		if got := ask(temp); got != one {
			t.Errorf("temperature %s answered otherwise than 1 (SGLang's greedy):\n%s\nwant\n%s", temp, got, one)
		}
	}
	if ask("1e-6") == one {
		t.Error("temperature 1e-6 answered as 1: want it computed as asked")
	}
}

// TestAnAnswerJSONCannotHoldIsNoEmpty200: an answer holding a NaN (a
// log-prob of logits that are not finite) was a 200 with an empty body
// (the encoder failed after the header was sent); it is a 500 whose body
// is JSON and says why.
func TestAnAnswerJSONCannotHoldIsNoEmpty200(t *testing.T) {
	w := httptest.NewRecorder()
	writeJSON(w, 200, map[string]any{"logprob": math.NaN()})
	var e struct{ Error struct{ Message string } }
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || w.Code != 500 || !strings.Contains(e.Error.Message, "logits that are not finite") {
		t.Fatalf("%d %q (%v): want a 500 whose JSON says why", w.Code, w.Body, err)
	}
}
