package serve

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
)

// choicesOf is a /v1/completions answer's choices, each as the bytes the
// server wrote, and its usage.
func choicesOf(t *testing.T, body string) ([]json.RawMessage, map[string]int) {
	t.Helper()
	var c struct {
		Choices []json.RawMessage `json:"choices"`
		Usage   map[string]int    `json:"usage"`
	}
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return c.Choices, c.Usage
}

// TestBatchEqualsOneByOne: a request of several prompts, computed
// together, answers each prompt with the bytes a request of that prompt
// alone gets (its index apart): prompts of mixed lengths (one token, one
// past a micro-batch's budget), texts and token ids, echo, prompt_logprobs
// and logprobs, with the forwards split by --micro-batch-tokens and the
// logits of ranks and top-k made a few rows at a time across prompts.
func TestBatchEqualsOneByOne(t *testing.T) {
	s, ts := testServer(t, Both)
	// idsOf is n token ids; prompts of other lengths differ from their
	// first token, so no prompt is another's prefix.
	idsOf := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprint(17 + (n*11+i*37)%200)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	for _, c := range []struct {
		name      string
		prompts   []string // the JSON of each prompt
		fields    string   // the request's other fields
		mbTokens  int      // ModelSource.MicroBatchTokens (0: one forward)
		chunkRows int      // ModelSource.RankChunkRows (0: the default)
	}{
		{"ids, one generated token with its top 5, prompt top 3",
			[]string{idsOf(12), idsOf(1), idsOf(30), idsOf(3), idsOf(12)},
			`"max_tokens":1,"logprobs":5,"prompt_logprobs":3,"temperature":0.7`, 8192, 0},
		{"texts echoed, no token generated, legacy logprobs 2",
			[]string{`"12+9=21"`, `"<|im_start|>user\n347+285=?<|im_end|>"`, `"7"`, `"a longer prompt, with words: 1234567"`},
			`"max_tokens":0,"echo":true,"logprobs":2`, 8192, 0},
		{"greedy token only, temperature 0",
			[]string{idsOf(5), idsOf(9), idsOf(2)},
			`"max_tokens":1,"temperature":0`, 0, 0},
		{"several forwards, rank chunks across prompts",
			[]string{idsOf(20), idsOf(7), idsOf(45), idsOf(1), idsOf(13), idsOf(20)},
			`"max_tokens":1,"echo":true,"logprobs":20,"prompt_logprobs":20,"return_tokens_as_token_ids":true`, 40, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			s.Src.MicroBatchTokens, s.Src.RankChunkRows = c.mbTokens, c.chunkRows
			status, body := post(t, ts.URL+"/v1/completions", fmt.Sprintf(`{"model":"tiny","prompt":[%s],%s}`, strings.Join(c.prompts, ","), c.fields))
			if status != 200 {
				t.Fatalf("batch: %d %s", status, body)
			}
			batch, usage := choicesOf(t, body)
			if len(batch) != len(c.prompts) {
				t.Fatalf("%d choices for %d prompts", len(batch), len(c.prompts))
			}
			sum := map[string]int{}
			for i, p := range c.prompts {
				status, body := post(t, ts.URL+"/v1/completions", fmt.Sprintf(`{"model":"tiny","prompt":%s,%s}`, p, c.fields))
				if status != 200 {
					t.Fatalf("prompt %d alone: %d %s", i, status, body)
				}
				alone, u := choicesOf(t, body)
				// A choice's keys are written sorted: "finish_reason", then "index".
				want := strings.Replace(string(alone[0]), `"index":0,`, fmt.Sprintf(`"index":%d,`, i), 1)
				if string(batch[i]) != want {
					t.Errorf("prompt %d: in the batch\n%s\nalone\n%s", i, batch[i], want)
				}
				for k, v := range u {
					sum[k] += v
				}
			}
			if fmt.Sprint(usage) != fmt.Sprint(sum) {
				t.Errorf("usage %v, the prompts alone sum to %v", usage, sum)
			}
		})
	}
	s.Src.MicroBatchTokens, s.Src.RankChunkRows = 8192, 0
}

// forwards records the positions of each of the model's forwards (each
// starts with one Embedding of rows × the longest row) on the CPU backend
// it wraps.
type forwards struct {
	compute.Backend
	positions []int
}

func (f *forwards) Embedding(out, table *compute.Tensor, ids []int32) {
	f.positions = append(f.positions, len(ids))
	f.Backend.Embedding(out, table, ids)
}

// TestBatchForwards: a request's prompts run through the model together,
// in as few forwards as --micro-batch-tokens lets them (rows × the longest,
// longest first; a prompt past the budget alone), not one forward each;
// on the CPU in groups of about one length where padding every prompt to
// the longest would cost more positions than another forward
// (rlt.ModelSource.PromptLogProbsBatch: model.LengthGroups).
func TestBatchForwards(t *testing.T) {
	be := &forwards{Backend: compute.NewCPU()}
	s, ts := testServerOn(t, VLLM, be)
	prompt := func(n int) string { return "[" + strings.TrimSuffix(strings.Repeat("5,", n), ",") + "]" }
	for _, c := range []struct {
		lens     []int
		mbTokens int
		want     []int // each forward's positions
	}{
		{[]int{10, 3, 7, 10}, 8192, []int{40}},
		{[]int{10, 3, 7, 10}, 0, []int{40}},
		// No limit is the model's 64 positions: one forward of 180 (3 ×
		// 60) was past what rlt serve's memory check counts.
		{[]int{60, 50, 40}, 0, []int{60, 50, 40}},
		{[]int{10, 10, 10, 10}, 20, []int{20, 20}},
		{[]int{4, 30, 4, 4}, 16, []int{30, 12}}, // 30 alone, then the three of 4
		{[]int{6}, 8192, []int{6}},
		{[]int{60, 4, 4, 4, 4, 4, 4, 4}, 8192, []int{60, 28}}, // not 480 positions
		{[]int{60, 50, 4, 4, 4, 4}, 8192, []int{120, 16}},
		{[]int{12, 9, 11, 10}, 8192, []int{48}}, // another forward would cost more than the padding
	} {
		s.Src.MicroBatchTokens = c.mbTokens
		ps := make([]string, len(c.lens))
		for i, n := range c.lens {
			ps[i] = prompt(n)
		}
		be.positions = nil
		status, body := post(t, ts.URL+"/v1/completions", fmt.Sprintf(`{"prompt":[%s],"max_tokens":1,"echo":true,"logprobs":1}`, strings.Join(ps, ",")))
		if status != 200 || !slices.Equal(be.positions, c.want) {
			t.Errorf("prompts of %v tokens, budget %d: forwards of %v positions (%d %.80s), want %v", c.lens, c.mbTokens, be.positions, status, body, c.want)
		}
	}
}
