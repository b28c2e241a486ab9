package serve

import (
	"context"
	"fmt"
	"slices"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/rlt"
)

// Requests are coalesced: the prompts of the requests that arrive while the
// model computes others wait in a queue, and are then computed together,
// one round of rlt.ModelSource.PromptLogProbsBatch calls (one per ask,
// which on the CPU runs its prompts in groups of about one length), as a
// batch request's prompts are. rlt score's 8 concurrent one-prompt
// requests, or lm-eval-harness's concurrent ones, so cost about the
// forwards of their tokens, not one forward each. The request that finds
// the model idle computes the first round; a goroutine computes the rounds
// after it while the queue holds work, and ends when it is empty.
//
// Each request gets the bytes it would get alone, as a batch's prompts do
// (TestBatchEqualsOneByOne, TestCoalescedRequests): padding comes after a
// prompt's tokens, attention is causal, and each row's products sum in the
// same order whatever the rows beside it. The fused LM head (log-probs
// without ranks or top-k: SGLang's input_token_logprobs) is the exception
// to watch: it takes the vocabulary in narrower blocks as its tiles grow
// (compute.HeadTileFloats), which could move a log-prob by a rounding, so
// such prompts of several requests are only computed together while every
// row still takes the vocabulary in one block (always at the embedded
// defaults' 272 tokens; up to 110 rows at Qwen's 151,936).

// ask is what a request asks of the model of some of its prompts: the
// prompts that ask the same (sameAsk) run through it together.
type ask struct {
	temperature float64
	opts        rlt.PromptOptions
}

// sameAsk is what an ask asks, as a value to compare: its options with
// their adjustment of the logits (NextBias) by value, not by pointer, so
// that the prompts of requests that adjust them alike (clients that send
// one logit_bias, or hold back the same tokens) run through the model
// together, as those that adjust nothing do: the adjustment is applied
// to each row apart, so each still gets the bytes it gets alone.
type sameAsk struct {
	temperature float64
	opts        rlt.PromptOptions // NextBias nil
	bias        string            // NextBias.Key()
}

// same is a's sameAsk, biasKey its NextBias's Key.
func (a ask) same(biasKey string) sameAsk {
	opts := a.opts
	opts.NextBias = nil
	return sameAsk{a.temperature, opts, biasKey}
}

// fusedHead reports whether a's log-probs come from the fused LM head
// rather than from logits read back (rlt.PromptOptions.Ranks, TopK).
func (a ask) fusedHead() bool { return !a.opts.Ranks && a.opts.TopK == 0 }

// work is one request's prompts of one ask, waiting for the model.
type work struct {
	ctx    context.Context // the request's: once done, the work is dropped
	ask    ask
	same   sameAsk // ask's
	seqs   [][]int32
	scores []rlt.PromptScores // one per seq, once done is closed
	err    error
	done   chan struct{}
}

func (w *work) finish(scores []rlt.PromptScores, err error) {
	w.scores, w.err = scores, err
	close(w.done)
}

// rows is the log-prob rows w's prompts take of the head: one a token
// after the first.
func (w *work) rows() int {
	n := 0
	for _, q := range w.seqs {
		n += len(q) - 1
	}
	return n
}

// longest is w's longest prompt.
func (w *work) longest() int {
	n := 0
	for _, q := range w.seqs {
		n = max(n, len(q))
	}
	return n
}

// score computes each of seqs as asks[i] asks, the prompts of one ask
// together with those of the other requests waiting for the model, and
// returns their scores in order. When ctx ends first (the client went
// away) it returns ctx's error at once; the prompts are then dropped if
// not yet computed.
func (s *Server) score(ctx context.Context, seqs [][]int32, asks []ask) ([]rlt.PromptScores, error) {
	var works []*work
	index := map[sameAsk]int{}              // the work of each ask
	in := make([]int, len(seqs))            // seqs[i]'s work
	at := make([]int, len(seqs))            // seqs[i]'s place in it
	biasKeys := map[*rlt.LogitBias]string{} // a request's prompts share their adjustment: its key once
	for i, a := range asks {
		b := a.opts.NextBias
		key, ok := biasKeys[b]
		if !ok {
			key = b.Key()
			biasKeys[b] = key
		}
		same := a.same(key)
		k, ok := index[same]
		if !ok {
			k = len(works)
			index[same] = k
			works = append(works, &work{ctx: ctx, ask: a, same: same, done: make(chan struct{})})
		}
		in[i], at[i] = k, len(works[k].seqs)
		works[k].seqs = append(works[k].seqs, seqs[i])
	}
	s.submit(works)
	for _, w := range works {
		select {
		case <-w.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if w.err != nil {
			return nil, w.err
		}
	}
	out := make([]rlt.PromptScores, len(seqs))
	for i := range seqs {
		out[i] = works[in[i]].scores[at[i]]
	}
	return out, nil
}

// submit queues works, one request's. Unless the queue is being computed,
// the caller computes the first round itself (a request alone so costs no
// hand-off to another goroutine), then leaves what queued meanwhile to a
// goroutine that computes the queue until it is empty, and goes on to
// answer its own request.
func (s *Server) submit(works []*work) {
	s.mu.Lock()
	s.queue = append(s.queue, works...)
	if s.computing {
		s.mu.Unlock()
		return
	}
	s.computing = true
	round := s.nextRound()
	s.mu.Unlock()
	s.run(round)
	s.computed()
}

// computed ends a round: the queue goes on being computed by a goroutine
// while it holds work.
func (s *Server) computed() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		s.computing = false
		return
	}
	go s.compute()
}

// compute computes the next round, then the rest of the queue (computed).
// It reads s.Src's settings only for work queued after they were set.
func (s *Server) compute() {
	s.mu.Lock()
	round := s.nextRound()
	s.mu.Unlock()
	s.run(round)
	s.computed()
}

// nextRound takes from the queue, in order, the works the next round
// computes: the first and those after it while the round's prompts fit one
// forward of MicroBatchTokens padded positions (rows × the longest, as
// model.MicroBatches counts them), so that each request is answered after
// about one forward of waiting rather than after the whole queue; and
// while a fused-head ask's rows, taken together, each still take the whole
// vocabulary in one block of the head (the bytes each gets alone). A work
// whose client went away is dropped. The caller holds s.mu.
// A source with no limit (MicroBatchTokens 0) bounds no round by its
// positions: the queue is one round but where a fused-head ask's rows
// part it (TestNextRound's "no budget" cases), its forwards then of at
// most the model's positions each (PromptLogProbsBatch). rlt serve gives
// its source none: its --micro-batch-tokens 0 is a limit of
// --max-model-len's positions (serveSource), so its rounds are bounded as
// its forwards are, and its memory check counts them. (vLLM has no such
// 0: its max_num_batched_tokens is at least 1, and without chunked
// prefill at least max_model_len (its engine arguments raise it so; its
// scheduler config refuses less). rlt serve chunks no prompt either: one
// past --micro-batch-tokens is a forward alone.)
func (s *Server) nextRound() []*work {
	budget := s.Src.MicroBatchTokens
	headRows := compute.HeadTileFloats / max(1, s.Src.Vocab)
	var round []*work
	seqs, longest := 0, 0
	fused := map[sameAsk]int{} // the rows of each fused-head ask taken
	n := 0
	for ; n < len(s.queue); n++ {
		w := s.queue[n]
		if err := w.ctx.Err(); err != nil {
			w.finish(nil, err)
			continue
		}
		if len(round) > 0 {
			if l := max(longest, w.longest()); budget > 0 && (seqs+len(w.seqs))*l > budget {
				break
			}
			if r := fused[w.same]; w.ask.fusedHead() && r > 0 && r+w.rows() > headRows {
				break
			}
		}
		round = append(round, w)
		seqs, longest = seqs+len(w.seqs), max(longest, w.longest())
		if w.ask.fusedHead() {
			fused[w.same] += w.rows()
		}
	}
	s.queue = slices.Delete(s.queue, 0, n)
	return round
}

// run computes a round: the works that ask the same together (as the
// first of them asks it: the others' asks are equal to it, sameAsk).
// When that fails, each of them is computed alone, so that a request at
// fault gets its own error and the others their answers.
func (s *Server) run(round []*work) {
	var asks []sameAsk
	byAsk := map[sameAsk][]*work{}
	for _, w := range round {
		if _, ok := byAsk[w.same]; !ok {
			asks = append(asks, w.same)
		}
		byAsk[w.same] = append(byAsk[w.same], w)
	}
	for _, same := range asks {
		works := byAsk[same]
		var seqs [][]int32
		for _, w := range works {
			seqs = append(seqs, w.seqs...)
		}
		scores, err := s.promptLogProbs(seqs, works[0].ask)
		if err != nil && len(works) > 1 {
			for _, w := range works {
				if err := w.ctx.Err(); err != nil {
					w.finish(nil, err)
					continue
				}
				w.finish(s.promptLogProbs(w.seqs, w.ask))
			}
			continue
		}
		for _, w := range works {
			if err != nil {
				w.finish(nil, err)
				continue
			}
			w.finish(scores[:len(w.seqs):len(w.seqs)], nil)
			scores = scores[len(w.seqs):]
		}
	}
}

// promptLogProbs is s.Src.PromptLogProbsBatch of seqs as a asks. A panic
// there (a bug) is the error of the requests computed, as net/http would
// make it of one request's handler, not the end of the server.
func (s *Server) promptLogProbs(seqs [][]int32, a ask) (scores []rlt.PromptScores, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("rlt serve: computing the prompts failed (a bug: please report it): %v", p)
		}
	}()
	return s.Src.PromptLogProbsBatch(seqs, a.temperature, a.opts)
}
