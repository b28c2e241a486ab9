package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/rlt"
)

// fullLogits is every position's logits of ids, the whole sequence at once
// (model.Logits): the brute force the chunked top-k is checked against.
func fullLogits(t *testing.T, s *Server, ids []int32) []float32 {
	t.Helper()
	m := s.Src.M
	tp := compute.NewTape(m.Backend())
	tp.SetRecording(false)
	z := make([]float32, len(ids)*m.Cfg.Vocab)
	m.Backend().Read(z, m.Logits(tp, &model.Batch{B: 1, T: len(ids), Tokens: ids}))
	return z
}

// bruteTopK is the k best ids of one row of logits (highest first, the
// lower id first of equal logits) and their float64 log-softmax at temp.
func bruteTopK(z []float32, k int, temp float64) ([]int32, []float64) {
	order := make([]int32, len(z))
	for v := range order {
		order[v] = int32(v)
	}
	slices.SortStableFunc(order, func(a, b int32) int {
		switch {
		case z[a] > z[b]:
			return -1
		case z[a] < z[b]:
			return 1
		}
		return 0
	})
	var sum float64
	for _, x := range z {
		sum += math.Exp(float64(x)/temp - float64(z[order[0]])/temp)
	}
	lse := float64(z[order[0]])/temp + math.Log(sum)
	lps := make([]float64, k)
	for i := range k {
		lps[i] = float64(z[order[i]])/temp - lse
	}
	return order[:k], lps
}

// greedyPrompt is a chat prompt followed by its greedy continuation of n
// tokens, and the prompt's length.
func greedyPrompt(t *testing.T, s *Server, n int) ([]int32, int) {
	t.Helper()
	ids := s.Tok.Encode("<|im_start|>user\n12+9=")
	n0 := len(ids)
	for len(ids) < n0+n {
		sc, err := s.Src.PromptLogProbs(ids, 1, rlt.PromptOptions{Next: true})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sc.Next)
	}
	return ids, n0
}

// TestTopK: the top-k of every prompt position, and of the position after
// the last, are the brute force's over the full logits, in order, with the
// true log-softmax at the temperature; in chunks of a few rows alike; and
// asking for them leaves the prompt tokens' own log-probs (the fused
// head's) and ranks as they were.
func TestTopK(t *testing.T) {
	s, _ := testServer(t, Both)
	ids, _ := greedyPrompt(t, s, 4)
	V := s.Src.M.Cfg.Vocab
	z := fullLogits(t, s, ids)
	const k = 5
	for _, temp := range []float64{1, 0.7} {
		plain, err := s.Src.PromptLogProbs(ids, temp, rlt.PromptOptions{Ranks: true, Next: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, chunk := range []int{0, 3} {
			s.Src.RankChunkRows = chunk
			sc, err := s.Src.PromptLogProbs(ids, temp, rlt.PromptOptions{Ranks: true, TopK: k, Next: true, NextTopK: k})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(sc.LogProbs, sc.Ranks) != fmt.Sprint(plain.LogProbs, plain.Ranks) || sc.Next != plain.Next || sc.NextLogProb != plain.NextLogProb {
				t.Fatalf("τ %g, chunk %d: top-k changed the log-probs or ranks", temp, chunk)
			}
			if len(sc.TopIDs) != len(ids)-1 || len(sc.TopLogProbs) != len(ids)-1 {
				t.Fatalf("τ %g: %d top-k rows for %d positions", temp, len(sc.TopIDs), len(ids)-1)
			}
			check := func(where string, row []float32, gotIDs []int32, gotLPs []float32) {
				t.Helper()
				wantIDs, wantLPs := bruteTopK(row, k, temp)
				if !slices.Equal(gotIDs, wantIDs) {
					t.Fatalf("τ %g, chunk %d, %s: top-%d %v, want %v", temp, chunk, where, k, gotIDs, wantIDs)
				}
				for i := range wantLPs {
					if math.Abs(float64(gotLPs[i])-wantLPs[i]) > 1e-5 {
						t.Errorf("τ %g, chunk %d, %s: top %d log-prob %v, want %v", temp, chunk, where, i, gotLPs[i], wantLPs[i])
					}
				}
			}
			for pos := 1; pos < len(ids); pos++ {
				check(fmt.Sprintf("position %d", pos), z[(pos-1)*V:pos*V], sc.TopIDs[pos-1], sc.TopLogProbs[pos-1])
				if i := slices.Index(sc.TopIDs[pos-1], ids[pos]); i >= 0 && math.Abs(float64(sc.TopLogProbs[pos-1][i]-sc.LogProbs[pos-1])) > 1e-5 {
					t.Errorf("position %d: the prompt token's top-k log-prob %v, its own %v", pos, sc.TopLogProbs[pos-1][i], sc.LogProbs[pos-1])
				}
			}
			last := z[(len(ids)-1)*V:]
			check("next", last, sc.NextTopIDs, sc.NextTopLogProbs)
			if sc.NextTopIDs[0] != sc.Next || sc.NextRank != 1 || sc.NextTopLogProbs[0] != sc.NextLogProb {
				t.Errorf("next %d (rank %d, %v), top %v %v", sc.Next, sc.NextRank, sc.NextLogProb, sc.NextTopIDs, sc.NextTopLogProbs)
			}
		}
	}
	s.Src.RankChunkRows = 0
	// No top-k asked: none made.
	sc, err := s.Src.PromptLogProbs(ids, 1, rlt.PromptOptions{Ranks: true, Next: true})
	if err != nil || sc.TopIDs != nil || sc.NextTopIDs != nil {
		t.Errorf("top-k made unasked: %v %v (%v)", sc.TopIDs, sc.NextTopIDs, err)
	}
}

// orderedKeys is the keys of a JSON object in the order written.
func orderedKeys(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", raw)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

type vllmEntry struct {
	Logprob      float64 `json:"logprob"`
	Rank         int     `json:"rank"`
	DecodedToken string  `json:"decoded_token"`
}

// TestPromptLogprobsK: prompt_logprobs k answers, at each position after
// the first, vLLM's dict: the prompt token first (its own log-prob and
// rank), then the top k most likely first with ranks 1..k; a prompt token
// among the top k is not repeated but takes its top-k rank, so the dict
// has k entries, else k+1.
func TestPromptLogprobsK(t *testing.T) {
	s, ts := testServer(t, VLLM)
	ids, n0 := greedyPrompt(t, s, 4)
	const k, temp = 3, 0.7
	sc, err := s.Src.PromptLogProbs(ids, temp, rlt.PromptOptions{Ranks: true, TopK: k})
	if err != nil {
		t.Fatal(err)
	}
	idsJSON, _ := json.Marshal(ids)
	status, body := post(t, ts.URL+"/v1/completions", fmt.Sprintf(`{"prompt":%s,"max_tokens":0,"echo":true,"prompt_logprobs":%d,"temperature":%g}`, idsJSON, k, temp))
	var c struct {
		Choices []struct {
			Logprobs       any               `json:"logprobs"`
			PromptLogprobs []json.RawMessage `json:"prompt_logprobs"`
		} `json:"choices"`
	}
	if status != 200 || json.Unmarshal([]byte(body), &c) != nil || len(c.Choices) != 1 || len(c.Choices[0].PromptLogprobs) != len(ids) || c.Choices[0].Logprobs != nil {
		t.Fatalf("%d %s", status, body)
	}
	if string(c.Choices[0].PromptLogprobs[0]) != "null" {
		t.Errorf("position 0: %s, want null", c.Choices[0].PromptLogprobs[0])
	}
	outside, inside := 0, 0
	for pos := 1; pos < len(ids); pos++ {
		raw := c.Choices[0].PromptLogprobs[pos]
		keys := orderedKeys(t, raw)
		var d map[string]vllmEntry
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		top := sc.TopIDs[pos-1]
		want := []string{fmt.Sprint(ids[pos])}
		for _, id := range top {
			if id != ids[pos] {
				want = append(want, fmt.Sprint(id))
			}
		}
		if !slices.Equal(keys, want) {
			t.Fatalf("position %d: keys %v, want %v", pos, keys, want)
		}
		own := d[keys[0]]
		if float32(own.Logprob) != sc.LogProbs[pos-1] || own.DecodedToken != vllmPromptTokenText(s.Tok, ids, pos) {
			t.Errorf("position %d: own entry %+v, want log-prob %v", pos, own, sc.LogProbs[pos-1])
		}
		if i := slices.Index(top, ids[pos]); i >= 0 {
			inside++
			if len(d) != k || own.Rank != i+1 {
				t.Errorf("position %d: the prompt token in the top %d: %d entries, rank %d, want %d, %d", pos, k, len(d), own.Rank, k, i+1)
			}
		} else {
			outside++
			if len(d) != k+1 || own.Rank != sc.Ranks[pos-1] || own.Rank <= k {
				t.Errorf("position %d: the prompt token outside the top %d: %d entries, rank %d, want %d, %d", pos, k, len(d), own.Rank, k+1, sc.Ranks[pos-1])
			}
		}
		for j, id := range top {
			e := d[fmt.Sprint(id)]
			if id == ids[pos] {
				continue
			}
			if e.Rank != j+1 || float32(e.Logprob) != sc.TopLogProbs[pos-1][j] || e.DecodedToken != vllmCandidateText(s.Tok, ids, pos, id) {
				t.Errorf("position %d: top %d entry %+v, want rank %d, %v", pos, j, e, j+1, sc.TopLogProbs[pos-1][j])
			}
		}
		if pos >= n0 && slices.Index(top, ids[pos]) != 0 {
			t.Errorf("position %d: the greedy token is not first of the top %d", pos, k)
		}
	}
	if outside == 0 || inside == 0 {
		t.Fatalf("%d prompt tokens outside the top %d, %d inside: the test tells little", outside, k, inside)
	}
}

// legacy is the OpenAI legacy completions logprobs object.
type legacy struct {
	TextOffset    []int                `json:"text_offset"`
	TokenLogprobs []*float64           `json:"token_logprobs"`
	Tokens        []string             `json:"tokens"`
	TopLogprobs   []map[string]float64 `json:"top_logprobs"`
}

// lmEvalParse is lm-eval-harness's LocalCompletionsAPI.parse_logprobs of
// one choice: the sum of token_logprobs[ctxlen:end] and whether each of
// them is the largest value of its top_logprobs.
func lmEvalParse(lp legacy, ctxlen, end int) (float64, bool) {
	sum, greedy := 0.0, true
	for i := ctxlen; i < end; i++ {
		sum += *lp.TokenLogprobs[i]
		best := math.Inf(-1)
		for _, v := range lp.TopLogprobs[i] {
			best = max(best, v)
		}
		if *lp.TokenLogprobs[i] != best {
			greedy = false
		}
	}
	return sum, greedy
}

// TestLMEvalLoglikelihood: lm-eval-harness's local-completions
// loglikelihood request (echo, logprobs 1, temperature 0; max_tokens 1 as
// it sends it now, 0 as older clients do; its prompts a batch of token
// lists) is answered in the legacy shape, and read as lm-eval reads it
// gives the continuation's log-prob as in-process scoring computes it and
// is_greedy true for the greedy continuation, false for another.
func TestLMEvalLoglikelihood(t *testing.T) {
	s, ts := testServer(t, VLLM)
	greedy, ctxlen := greedyPrompt(t, s, 4)
	other := append(slices.Clone(greedy[:ctxlen]), s.Tok.Encode(" 7 apples")...)
	for _, maxTokens := range []int{0, 1} {
		batch, _ := json.Marshal([][]int32{greedy, other})
		status, body := post(t, ts.URL+"/v1/completions", fmt.Sprintf(`{"model":"tiny","prompt":%s,"echo":true,"logprobs":1,"max_tokens":%d,"temperature":0,"seed":1234}`, batch, maxTokens))
		var c struct {
			Choices []struct {
				Index    int    `json:"index"`
				Text     string `json:"text"`
				Logprobs legacy `json:"logprobs"`
			} `json:"choices"`
		}
		if status != 200 || json.Unmarshal([]byte(body), &c) != nil || len(c.Choices) != 2 {
			t.Fatalf("max_tokens %d: %d %s", maxTokens, status, body)
		}
		for i, ids := range [][]int32{greedy, other} {
			ch := c.Choices[i]
			lp := ch.Logprobs
			n := len(ids) + maxTokens
			if ch.Index != i || len(lp.Tokens) != n || len(lp.TokenLogprobs) != n || len(lp.TopLogprobs) != n || len(lp.TextOffset) != n {
				t.Fatalf("max_tokens %d, prompt %d: index %d, %d tokens, want %d: %+v", maxTokens, i, ch.Index, len(lp.Tokens), n, lp)
			}
			if lp.TokenLogprobs[0] != nil || lp.TopLogprobs[0] != nil || lp.Tokens[0] != s.Tok.DecodeHF(ids[:1], false) {
				t.Errorf("max_tokens %d: first token %q %v %v, want its text, null, null", maxTokens, lp.Tokens[0], lp.TokenLogprobs[0], lp.TopLogprobs[0])
			}
			offset := 0
			for j, tok := range lp.Tokens {
				if lp.TextOffset[j] != offset {
					t.Errorf("text_offset[%d] %d, want %d", j, lp.TextOffset[j], offset)
				}
				offset += utf8.RuneCountInString(tok)
				if j > 0 && (len(lp.TopLogprobs[j]) == 0 || len(lp.TopLogprobs[j]) > 2) {
					t.Errorf("top_logprobs[%d]: %v, want the token and the top 1", j, lp.TopLogprobs[j])
				}
			}
			if strings.Join(lp.Tokens[:len(ids)], "") != s.Tok.DecodeHF(ids, false) || !strings.HasPrefix(ch.Text, s.Tok.DecodeHF(ids, false)) {
				t.Errorf("tokens %q do not make the echoed text %q", lp.Tokens, ch.Text)
			}
			// lm-eval reads [ctxlen:-1]: with max_tokens 1, the generated token is the one left off.
			end := len(lp.TokenLogprobs) - 1
			if maxTokens == 0 {
				end = len(ids)
			}
			sum, isGreedy := lmEvalParse(lp, ctxlen, end)
			want, err := s.Src.LogProbs(context.Background(), [][]int32{ids}, [][][2]int{{{ctxlen, len(ids) - ctxlen}}}, 1)
			if err != nil {
				t.Fatal(err)
			}
			var wantSum float64
			for _, v := range want {
				wantSum += float64(v)
			}
			if math.Abs(sum-wantSum) > 1e-9 || isGreedy != (i == 0) {
				t.Errorf("max_tokens %d, prompt %d: (%v, %v), want (%v, %v)", maxTokens, i, sum, isGreedy, wantSum, i == 0)
			}
		}
	}
	// return_tokens_as_token_ids names every token by its id.
	idsJSON, _ := json.Marshal(greedy)
	status, body := post(t, ts.URL+"/v1/completions", fmt.Sprintf(`{"prompt":%s,"echo":true,"logprobs":2,"max_tokens":0,"return_tokens_as_token_ids":true}`, idsJSON))
	var c struct {
		Choices []struct {
			Logprobs legacy `json:"logprobs"`
		} `json:"choices"`
	}
	if status != 200 || json.Unmarshal([]byte(body), &c) != nil || len(c.Choices) != 1 {
		t.Fatalf("%d %s", status, body)
	}
	for j, id := range greedy {
		if got := c.Choices[0].Logprobs.Tokens[j]; got != fmt.Sprintf("token_id:%d", id) {
			t.Errorf("token %d: %q, want token_id:%d", j, got, id)
		}
		for key := range c.Choices[0].Logprobs.TopLogprobs[j] {
			if !strings.HasPrefix(key, "token_id:") {
				t.Errorf("top_logprobs[%d] key %q", j, key)
			}
		}
	}
}

// TestLegacyLogprobsMinusOne: logprobs -1 (a server started with
// --max-logprobs -1) gives, as vLLM 0.24.0 gives it, an empty dict in each
// position's top_logprobs (its _create_completion_logprobs keeps a dict's
// entries while logprobs >= their index: none for -1), the first prompt
// position's null, with each token and its log-prob; the choice's
// prompt_logprobs, which echo asks of logprobs, hold the whole vocabulary.
func TestLegacyLogprobsMinusOne(t *testing.T) {
	s, ts := testServer(t, VLLM)
	s.MaxLogprobs = -1
	ids, _ := greedyPrompt(t, s, 2)
	idsJSON, _ := json.Marshal(ids)
	status, body := post(t, ts.URL+"/v1/completions", fmt.Sprintf(`{"prompt":%s,"echo":true,"logprobs":-1,"max_tokens":1,"return_tokens_as_token_ids":true}`, idsJSON))
	var c struct {
		Choices []struct {
			Logprobs       legacy                       `json:"logprobs"`
			PromptLogprobs []map[string]json.RawMessage `json:"prompt_logprobs"`
		} `json:"choices"`
	}
	if status != 200 || json.Unmarshal([]byte(body), &c) != nil || len(c.Choices) != 1 {
		t.Fatalf("%d %.300s", status, body)
	}
	lp, plp := c.Choices[0].Logprobs, c.Choices[0].PromptLogprobs
	if len(lp.TopLogprobs) != len(ids)+1 || len(lp.Tokens) != len(ids)+1 || len(lp.TokenLogprobs) != len(ids)+1 || len(plp) != len(ids) {
		t.Fatalf("%d top_logprobs, %d tokens, %d token_logprobs, %d prompt_logprobs; want %d, %[5]d, %[5]d, %d", len(lp.TopLogprobs), len(lp.Tokens), len(lp.TokenLogprobs), len(plp), len(ids)+1, len(ids))
	}
	if lp.TopLogprobs[0] != nil || lp.TokenLogprobs[0] != nil || plp[0] != nil {
		t.Errorf("first position: top_logprobs %v, token_logprobs %v, prompt_logprobs %v; want null", lp.TopLogprobs[0], lp.TokenLogprobs[0], plp[0])
	}
	for j := 1; j < len(lp.TopLogprobs); j++ {
		if lp.TopLogprobs[j] == nil || len(lp.TopLogprobs[j]) != 0 || lp.TokenLogprobs[j] == nil {
			t.Errorf("position %d: top_logprobs of %d entries (nil: %t), token_logprobs nil: %t; want {} and a log-prob", j, len(lp.TopLogprobs[j]), lp.TopLogprobs[j] == nil, lp.TokenLogprobs[j] == nil)
		}
		if j < len(plp) && len(plp[j]) != s.Src.Vocab {
			t.Errorf("prompt_logprobs[%d]: %d entries, want the vocabulary's %d", j, len(plp[j]), s.Src.Vocab)
		}
	}
}
