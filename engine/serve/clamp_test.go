package serve

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"testing"

	"github.com/rlt-workbench/rlt/engine/rlt"
)

// TestLogprobsBelowMinus9999AsVLLMWritesThem: a log-prob below −9999 (a
// low temperature's, with logits far apart: here the model's final norm
// scaled by 100, at 0.01, the least temperature served but 0) is written
// as vLLM's
// OpenAI server writes it: the completions "logprobs" (token_logprobs and
// top_logprobs, the echoed prompt's among them) take the larger of it and
// −9999.0, so every value below reads −9999; "prompt_logprobs" turns −∞
// alone into −9999.0 and keeps a finite value below it as it is (both
// read −9999 for a finite −12000 before, where vLLM's prompt_logprobs say
// −12000). −∞ itself: TestClampsOfMinusInfinity (at 1e-40 the engine's
// log-probs are NaN, not −∞: left as found).
func TestLogprobsBelowMinus9999AsVLLMWritesThem(t *testing.T) {
	s, ts := testServer(t, Both)
	m := s.Src.M
	norm := make([]float32, m.Norm.Len())
	for i := range norm {
		norm[i] = 100 // logits 100 times the model's own: some −50,000 apart at 0.01
	}
	m.Backend().Write(m.Norm, norm)
	ids := s.Tok.Encode("<|im_start|>user\n347+285=?<|im_end|>")
	idsJSON, _ := json.Marshal(ids)
	seen := map[string]bool{}
	for _, temp := range []float64{0.01} {
		sc, err := s.Src.PromptLogProbs(ids, temp, rlt.PromptOptions{Next: true})
		if err != nil {
			t.Fatal(err)
		}
		code, body := post(t, ts.URL+"/v1/completions", fmt.Sprintf(`{"model":"tiny","prompt":%s,"max_tokens":1,"echo":true,"logprobs":0,"prompt_logprobs":0,"temperature":%g,"return_tokens_as_token_ids":true}`, idsJSON, temp))
		if code != 200 {
			t.Fatalf("τ %g: %d %s", temp, code, body)
		}
		var resp struct {
			Choices []struct {
				Logprobs struct {
					TokenLogprobs []*float64           `json:"token_logprobs"`
					TopLogprobs   []map[string]float64 `json:"top_logprobs"`
				}
				PromptLogprobs []map[string]struct{ Logprob float64 } `json:"prompt_logprobs"`
			}
		}
		if err := json.Unmarshal([]byte(body), &resp); err != nil || len(resp.Choices) != 1 {
			t.Fatalf("τ %g: %v: %s", temp, err, body)
		}
		c := resp.Choices[0]
		for pos := 1; pos < len(ids); pos++ {
			raw := float64(sc.LogProbs[pos-1])
			wantPrompt, wantLogprob := raw, max(raw, -9999)
			switch {
			case math.IsInf(raw, -1):
				wantPrompt = -9999
				seen["-inf"] = true
			case raw < -9999:
				seen["finite below -9999"] = true
			}
			key := strconv.Itoa(int(ids[pos]))
			if got := c.PromptLogprobs[pos][key].Logprob; got != wantPrompt {
				t.Errorf("τ %g: prompt_logprobs[%d][%s] %v, want %v (the log-prob %v)", temp, pos, key, got, wantPrompt, raw)
			}
			if got := c.Logprobs.TokenLogprobs[pos]; got == nil || *got != wantLogprob {
				t.Errorf("τ %g: token_logprobs[%d] %v, want %v (the log-prob %v)", temp, pos, got, wantLogprob, raw)
			}
			if got, ok := c.Logprobs.TopLogprobs[pos]["token_id:"+key]; !ok || got != wantLogprob {
				t.Errorf("τ %g: top_logprobs[%d] %v, want token_id:%s %v", temp, pos, c.Logprobs.TopLogprobs[pos], key, wantLogprob)
			}
		}
	}
	if !seen["finite below -9999"] {
		t.Errorf("the prompt's log-probs hold %v: want a finite value below −9999 among them", seen)
	}
}

// TestClampsOfMinusInfinity: −∞, which JSON cannot hold, is −9999 in both
// of vLLM's writings; a finite value below −9999 is −9999 in the
// completions logprobs (clamp64) and itself in prompt_logprobs
// (promptClamp); a value above is itself in both.
func TestClampsOfMinusInfinity(t *testing.T) {
	for _, c := range []struct{ v, logprobs, prompt float64 }{
		{math.Inf(-1), -9999, -9999},
		{-12000, -9999, -12000},
		{-9999, -9999, -9999},
		{-3.5, -3.5, -3.5},
		{0, 0, 0},
	} {
		if got := clamp64(c.v); got != c.logprobs {
			t.Errorf("clamp64(%v) = %v, want %v", c.v, got, c.logprobs)
		}
		if got := promptClamp(c.v); got != c.prompt {
			t.Errorf("promptClamp(%v) = %v, want %v", c.v, got, c.prompt)
		}
	}
}
