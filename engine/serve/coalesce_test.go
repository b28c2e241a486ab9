package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/rlt"
)

// gate is a CPU backend whose forwards (each starts with one Embedding)
// can be held: a forward that starts while the gate is shut waits there
// until it opens, so that the requests sent meanwhile queue behind it. It
// records the positions of each forward (rows × the longest row), and
// panics in a forward of a sequence holding the token panicID (> 0).
type gate struct {
	compute.Backend
	mu        sync.Mutex
	shut      chan struct{} // non-nil: forwards wait for it to close
	forwards  []int
	panicID   int32
	inForward chan struct{} // a forward that waits at the gate says so here
}

func newGate() *gate {
	return &gate{Backend: compute.NewCPU(), inForward: make(chan struct{}, 64)}
}

func (g *gate) Embedding(out, table *compute.Tensor, ids []int32) {
	g.mu.Lock()
	g.forwards = append(g.forwards, len(ids))
	shut, bad := g.shut, g.panicID > 0 && slices.Contains(ids, g.panicID)
	g.mu.Unlock()
	if shut != nil {
		g.inForward <- struct{}{}
		<-shut
	}
	if bad {
		panic(fmt.Sprintf("token %d", g.panicID))
	}
	g.Backend.Embedding(out, table, ids)
}

// hold shuts the gate; the func it returns opens it.
func (g *gate) hold() (open func()) {
	shut := make(chan struct{})
	g.mu.Lock()
	g.shut = shut
	g.mu.Unlock()
	return func() {
		g.mu.Lock()
		g.shut = nil
		g.mu.Unlock()
		close(shut)
	}
}

// since is the positions of the forwards after the first n.
func (g *gate) since(n int) []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.forwards[n:])
}

func (g *gate) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.forwards)
}

// queued is the prompts of s's queue, and whether every work there has
// lost its client.
func queued(s *Server) (prompts int, allGone bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	allGone = true
	for _, w := range s.queue {
		prompts += len(w.seqs)
		allGone = allGone && w.ctx.Err() != nil
	}
	return prompts, allGone
}

// waitQueued waits until s's queue holds n prompts (cond, when given, true
// of it too). A test that never gets there hangs until go test's timeout
// names it: nothing here asserts on time.
func waitQueued(s *Server, n int, cond func(allGone bool) bool) {
	for {
		p, gone := queued(s)
		if p == n && (cond == nil || cond(gone)) {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// postCtx posts body to url as ctx allows; err is the client's.
func postCtx(ctx context.Context, url, body string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// sameAnswer is an answer without what differs between two requests of
// the same body: vLLM's "id" (the server's count) and "created" (the
// time). SGLang's bodies below name their rid, so their ids are theirs.
func sameAnswer(t *testing.T, body string) string {
	t.Helper()
	var o map[string]json.RawMessage
	if json.Unmarshal([]byte(body), &o) != nil {
		return body // a list of SGLang answers
	}
	delete(o, "id")
	delete(o, "created")
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// served is one request: its path and body.
type served struct{ path, body string }

// TestCoalescedRequests: requests that arrive while the model computes
// another are computed together, in as few forwards as their asks,
// --micro-batch-tokens and their lengths let them (on the CPU, prompts of
// lengths far apart in forwards of their own: model.LengthGroups; clients
// whose logit_bias is equal by value, not by spelling, in one), and each gets
// the bytes it gets alone; a
// request refused (an id outside the vocabulary, a prompt too long) gets
// its own error and the others their answers.
func TestCoalescedRequests(t *testing.T) {
	g := newGate()
	s, ts := testServerOn(t, Both, g)
	ids := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprint(17 + (n*7+i*31)%200)
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	score := func(n int) served { // as rlt score sends a prompt
		return served{"/v1/completions", fmt.Sprintf(`{"model":"tiny","prompt":%s,"max_tokens":1,"prompt_logprobs":0,"temperature":0.7}`, ids(n))}
	}
	biased := func(n int, bias string) served { // a generated token's logits biased
		return served{"/v1/completions", fmt.Sprintf(`{"model":"tiny","prompt":%s,"max_tokens":1,"logprobs":2,"logit_bias":%s}`, ids(n), bias)}
	}
	lmEval := func(prompt string) served { // as lm-eval-harness's loglikelihood
		return served{"/v1/completions", fmt.Sprintf(`{"model":"tiny","prompt":%s,"max_tokens":0,"echo":true,"logprobs":1}`, prompt)}
	}
	for _, c := range []struct {
		name     string
		requests []served
		mbTokens int // MicroBatchTokens
		forwards int // after the one the requests queue behind
	}{
		{"rlt score's 8 one-prompt requests", []served{score(12), score(30), score(5), score(12), score(21), score(9), score(1), score(17)}, 8192, 2}, // 30, 21, 17, then the rest: model.LengthGroups
		{"rlt score's 8 one-prompt requests of about one length", []served{score(12), score(11), score(9), score(12), score(10), score(9), score(12), score(8)}, 8192, 1},
		{"lm-eval's requests, batches among them, two refused",
			[]served{lmEval(`"12+9=21"`), lmEval(`["7","<|im_start|>user\n347+285=?<|im_end|>"]`), lmEval(`[1,2,999999]`),
				lmEval(ids(70)), lmEval(ids(6)), lmEval(`[]`), lmEval(`"a longer prompt, with words: 1234567"`)}, 8192, 1},
		{"asks that differ run apart: temperatures, top-k, SGLang's fused head",
			[]served{score(12), {"/v1/completions", fmt.Sprintf(`{"prompt":%s,"max_tokens":1,"prompt_logprobs":0,"temperature":0.5}`, ids(8))},
				score(4), {"/generate", fmt.Sprintf(`{"input_ids":%s,"sampling_params":{"max_new_tokens":1},"return_logprob":true,"logprob_start_len":0,"rid":"g1"}`, ids(9))},
				{"/generate", fmt.Sprintf(`{"input_ids":[%s,%s],"sampling_params":{"max_new_tokens":1},"return_logprob":true,"logprob_start_len":[0,1],"top_logprobs_num":[0,3],"rid":"g2"}`, ids(3), ids(10))},
				{"/generate", fmt.Sprintf(`{"input_ids":%s,"sampling_params":{"max_new_tokens":1},"return_logprob":true,"logprob_start_len":0,"rid":"g3"}`, ids(2))}},
			8192, 4},
		{"more than one forward's budget: rounds of it", []served{score(12), score(12), score(12), score(12), score(12)}, 24, 3},
		{"clients that bias alike share a forward; other biases, and SGLang's, run apart",
			[]served{biased(12, `{"7":2,"9":-1.5}`), biased(11, `{"9":-1.5,"07":2}`), biased(12, `{"7":2,"9":-1.5}`),
				biased(10, `{"7":2.5,"9":-1.5}`), biased(12, `{"7":2,"9":-1.5}`),
				{"/generate", fmt.Sprintf(`{"input_ids":%s,"sampling_params":{"max_new_tokens":1,"logit_bias":{"7":2,"9":-1.5}},"rid":"b1"}`, ids(12))},
				{"/generate", fmt.Sprintf(`{"input_ids":%s,"sampling_params":{"max_new_tokens":1,"logit_bias":{"9":-1.5,"7":2}},"rid":"b2"}`, ids(11))}},
			8192, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			s.Src.MicroBatchTokens = c.mbTokens
			alone := make([]string, len(c.requests))
			status := make([]int, len(c.requests))
			prompts := 0 // the prompts of the requests that reach the model
			for i, r := range c.requests {
				code, body := post(t, ts.URL+r.path, r.body)
				status[i], alone[i] = code, sameAnswer(t, body)
				if code != http.StatusOK {
					continue
				}
				var choices struct {
					Choices []json.RawMessage `json:"choices"`
				}
				var list []json.RawMessage
				switch {
				case json.Unmarshal([]byte(body), &list) == nil:
					prompts += len(list)
				case r.path == "/generate":
					prompts++
				default:
					json.Unmarshal([]byte(body), &choices)
					prompts += len(choices.Choices)
				}
			}
			open := g.hold()
			blocker := make(chan error, 1)
			go func() {
				_, _, err := postCtx(context.Background(), ts.URL+"/v1/completions", `{"prompt":[5,6,7],"max_tokens":1}`)
				blocker <- err
			}()
			<-g.inForward
			before := g.count()
			got := make([]string, len(c.requests))
			gotStatus := make([]int, len(c.requests))
			errs := make([]error, len(c.requests))
			var wg sync.WaitGroup
			for i, r := range c.requests {
				wg.Go(func() {
					var body string
					gotStatus[i], body, errs[i] = postCtx(context.Background(), ts.URL+r.path, r.body)
					got[i] = body
				})
			}
			waitQueued(s, prompts, nil)
			open()
			wg.Wait()
			if err := <-blocker; err != nil {
				t.Fatal(err)
			}
			for i := range c.requests {
				if errs[i] != nil {
					t.Fatalf("request %d: %v", i, errs[i])
				}
				if gotStatus[i] != status[i] || sameAnswer(t, got[i]) != alone[i] {
					t.Errorf("request %d: with the others %d\n%s\nalone %d\n%s", i, gotStatus[i], got[i], status[i], alone[i])
				}
			}
			if f := g.since(before); len(f) != c.forwards {
				t.Errorf("%d forwards of %v positions after the one they waited for, want %d", len(f), f, c.forwards)
			}
		})
	}
	s.Src.MicroBatchTokens = 8192
}

// TestRoundErrors: when the prompts of a round fail together, each request
// is computed alone: one at fault (a token outside the vocabulary, a
// forward that panics) gets the error it gets alone, the others their
// scores, bit for bit.
func TestRoundErrors(t *testing.T) {
	g := newGate()
	s, _ := testServerOn(t, VLLM, g)
	g.panicID = 250
	a := ask{1, rlt.PromptOptions{Next: true, Ranks: true}}
	good := [][]int32{{5, 6, 7, 8}, {9, 10}}
	for _, c := range []struct {
		name string
		bad  []int32
		want string // the bad request's error
	}{
		{"a token outside the vocabulary", []int32{5, 6, 100000}, "tiny: token 100000 at position 2 is outside the vocabulary of"},
		{"an empty prompt", []int32{}, "tiny: empty prompt"},
		{"a forward that panics", []int32{7, 250, 9}, "rlt serve: computing the prompts failed (a bug: please report it): token 250"},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := make([][]rlt.PromptScores, len(good))
			for i, q := range good {
				sc, err := s.score(context.Background(), [][]int32{q}, []ask{a})
				if err != nil {
					t.Fatal(err)
				}
				want[i] = sc
			}
			open := g.hold()
			blocked := make(chan error, 1)
			go func() {
				_, err := s.score(context.Background(), [][]int32{{1, 2}}, []ask{a})
				blocked <- err
			}()
			<-g.inForward
			type answer struct {
				scores []rlt.PromptScores
				err    error
			}
			answers := make([]answer, len(good)+1)
			var wg sync.WaitGroup
			for i, q := range append(slices.Clone(good), c.bad) {
				wg.Go(func() {
					sc, err := s.score(context.Background(), [][]int32{q}, []ask{a})
					answers[i] = answer{sc, err}
				})
			}
			waitQueued(s, len(good)+1, nil)
			open()
			wg.Wait()
			if err := <-blocked; err != nil {
				t.Fatal(err)
			}
			for i := range good {
				if answers[i].err != nil || !reflect.DeepEqual(answers[i].scores, want[i]) {
					t.Errorf("prompt %d beside the bad one: %v %v, alone %v", i, answers[i].err, answers[i].scores, want[i])
				}
			}
			if err := answers[len(good)].err; err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("the bad prompt: %v, want %q…", err, c.want)
			}
		})
	}
}

// TestClientGone: a request whose client goes away while it waits for the
// model is dropped, not computed, and the requests beside it and after it
// are answered.
func TestClientGone(t *testing.T) {
	g := newGate()
	s, ts := testServerOn(t, VLLM, g)
	body := func(n int) string {
		return fmt.Sprintf(`{"prompt":[%s],"max_tokens":1,"prompt_logprobs":0}`, strings.TrimSuffix(strings.Repeat("9,", n), ","))
	}
	_, stays := post(t, ts.URL+"/v1/completions", body(7))
	open := g.hold()
	go postCtx(context.Background(), ts.URL+"/v1/completions", body(3))
	<-g.inForward
	before := g.count()
	ctx, cancel := context.WithCancel(context.Background())
	gone := make(chan error, 1)
	go func() {
		_, _, err := postCtx(ctx, ts.URL+"/v1/completions", body(11))
		gone <- err
	}()
	waitQueued(s, 1, nil)
	cancel()
	if err := <-gone; !errors.Is(err, context.Canceled) {
		t.Fatalf("the client that went away: %v", err)
	}
	waitQueued(s, 1, func(allGone bool) bool { return allGone }) // the server saw it go
	answered := make(chan string, 1)
	go func() {
		_, b, _ := postCtx(context.Background(), ts.URL+"/v1/completions", body(7))
		answered <- b
	}()
	waitQueued(s, 2, nil)
	open()
	if got := <-answered; sameAnswer(t, got) != sameAnswer(t, stays) {
		t.Errorf("the request beside the one gone:\n%s\nalone\n%s", got, stays)
	}
	if f := g.since(before); !reflect.DeepEqual(f, []int{7}) {
		t.Errorf("forwards of %v positions after the one they waited for, want [7]: the request gone is dropped", f)
	}
	if _, after := post(t, ts.URL+"/v1/completions", body(7)); sameAnswer(t, after) != sameAnswer(t, stays) {
		t.Errorf("a request after:\n%s\nalone\n%s", after, stays)
	}
}

// TestNextRound: a round takes the queue in order while its prompts fit
// one forward of MicroBatchTokens (rows × the longest) and a fused-head
// ask's rows each take the whole vocabulary in one block of the head
// (compute.HeadTileFloats over Vocab); the first work always; a work whose
// client went away is dropped.
func TestNextRound(t *testing.T) {
	fused := ask{1, rlt.PromptOptions{Next: true}}
	ranked := ask{1, rlt.PromptOptions{Next: true, Ranks: true}}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	type w struct {
		lens []int
		a    ask
		gone bool
	}
	for _, c := range []struct {
		name     string
		vocab    int
		mbTokens int
		queue    []w
		rounds   []int // the works of each round
		dropped  int
	}{
		{"all in one", 272, 8192, []w{{[]int{10}, ranked, false}, {[]int{30, 2}, ranked, false}, {[]int{5}, fused, false}}, []int{3}, 0},
		{"no budget: one forward for all", 272, 0, []w{{[]int{4000}, ranked, false}, {[]int{3000}, ranked, false}}, []int{2}, 0},
		{"no budget: the fused head's rows still part rounds", 151936, 0,
			[]w{{[]int{61}, fused, false}, {[]int{61}, fused, false}, {[]int{4000}, ranked, false}}, []int{1, 2}, 0},
		{"the budget counts rows × the longest", 272, 40, []w{{[]int{10}, ranked, false}, {[]int{10, 10}, ranked, false}, {[]int{11}, ranked, false}, {[]int{20}, ranked, false}}, []int{2, 2}, 0},
		{"a work past the budget alone", 272, 16, []w{{[]int{30}, ranked, false}, {[]int{3}, ranked, false}, {[]int{3}, ranked, false}}, []int{1, 2}, 0},
		{"Qwen's vocabulary: 110 fused rows together", 151936, 8192,
			[]w{{[]int{51}, fused, false}, {[]int{61}, fused, false}, {[]int{2}, fused, false}, {[]int{300}, ranked, false}, {[]int{40}, fused, false}}, []int{2, 3}, 0},
		{"Qwen's vocabulary: a long fused prompt alone", 151936, 8192,
			[]w{{[]int{200}, fused, false}, {[]int{2}, fused, false}, {[]int{2}, ranked, false}}, []int{1, 2}, 0},
		{"clients gone are dropped", 272, 8192, []w{{[]int{3}, ranked, true}, {[]int{3}, ranked, false}, {[]int{3}, fused, true}}, []int{1}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &Server{Src: &rlt.ModelSource{Vocab: c.vocab, MicroBatchTokens: c.mbTokens}}
			for _, q := range c.queue {
				wk := &work{ctx: context.Background(), ask: q.a, same: q.a.same(""), done: make(chan struct{})}
				if q.gone {
					wk.ctx = gone
				}
				for _, n := range q.lens {
					wk.seqs = append(wk.seqs, make([]int32, n))
				}
				s.queue = append(s.queue, wk)
			}
			all := slices.Clone(s.queue)
			var rounds []int
			for {
				r := s.nextRound()
				if len(r) == 0 {
					break
				}
				rounds = append(rounds, len(r))
			}
			dropped := 0
			for _, wk := range all {
				select {
				case <-wk.done:
					if errors.Is(wk.err, context.Canceled) {
						dropped++
					}
				default:
				}
			}
			if !reflect.DeepEqual(rounds, c.rounds) || dropped != c.dropped {
				t.Errorf("rounds of %v works, %d dropped; want %v, %d", rounds, dropped, c.rounds, c.dropped)
			}
		})
	}
}
