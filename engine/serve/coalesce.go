package serve

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/rlt"
)

// Requests are coalesced: the prompts of the requests that arrive while the
// model computes others wait in a queue, and are then computed together,
// one round of rlt.ModelSource.PromptLogProbsBatch calls (one per ask and,
// on the CPU, per group of prompts of about one length: computeAsk), as a
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
// prompts that ask the same run through it together.
type ask struct {
	temperature float64
	opts        rlt.PromptOptions
}

// fusedHead reports whether a's log-probs come from the fused LM head
// rather than from logits read back (rlt.PromptOptions.Ranks, TopK).
func (a ask) fusedHead() bool { return !a.opts.Ranks && a.opts.TopK == 0 }

// work is one request's prompts of one ask, waiting for the model.
type work struct {
	ctx    context.Context // the request's: once done, the work is dropped
	ask    ask
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
	index := map[ask]int{}       // the work of each ask
	at := make([]int, len(seqs)) // seqs[i]'s place in its work
	for i, a := range asks {
		k, ok := index[a]
		if !ok {
			k = len(works)
			index[a] = k
			works = append(works, &work{ctx: ctx, ask: a, done: make(chan struct{})})
		}
		at[i] = len(works[k].seqs)
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
	for i, a := range asks {
		out[i] = works[index[a]].scores[at[i]]
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
func (s *Server) nextRound() []*work {
	budget := s.Src.MicroBatchTokens
	headRows := compute.HeadTileFloats / max(1, s.Src.Vocab)
	var round []*work
	seqs, longest := 0, 0
	fused := map[ask]int{} // the rows of each fused-head ask taken
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
			if r := fused[w.ask]; w.ask.fusedHead() && r > 0 && r+w.rows() > headRows {
				break
			}
		}
		round = append(round, w)
		seqs, longest = seqs+len(w.seqs), max(longest, w.longest())
		if w.ask.fusedHead() {
			fused[w.ask] += w.rows()
		}
	}
	s.queue = slices.Delete(s.queue, 0, n)
	return round
}

// run computes a round: the works of each ask together. When that fails,
// each of them is computed alone, so that a request at fault gets its own
// error and the others their answers.
func (s *Server) run(round []*work) {
	var asks []ask
	byAsk := map[ask][]*work{}
	for _, w := range round {
		if _, ok := byAsk[w.ask]; !ok {
			asks = append(asks, w.ask)
		}
		byAsk[w.ask] = append(byAsk[w.ask], w)
	}
	for _, a := range asks {
		works := byAsk[a]
		var seqs [][]int32
		for _, w := range works {
			seqs = append(seqs, w.seqs...)
		}
		scores, err := s.computeAsk(seqs, a)
		if err != nil && len(works) > 1 {
			for _, w := range works {
				if err := w.ctx.Err(); err != nil {
					w.finish(nil, err)
					continue
				}
				w.finish(s.computeAsk(w.seqs, a))
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

// cpuForwardPositions is what one more forward costs on the CPU, counted
// in the positions it could compute instead: the fixed cost of a forward
// of the embedded default teacher (0.35 ms with float32 weights, 0.9 ms
// with bfloat16 ones, which every forward widens again) is that of 20 and
// of 45 positions (about 0.02 ms each); both scale with the weights, so
// about the same count holds for larger models.
const cpuForwardPositions = 64

// computeAsk computes seqs, all asking a, and returns their scores in
// order. On the CPU they go to the model in groups of about one length
// (lengthGroups): a forward computes every row to its longest, so 8
// prompts of 24 to 240 tokens padded to 240 cost the CPU twice what they
// cost in groups (BenchmarkMixedLengths). Each is computed as it would be
// alone whatever its group (TestBatchEqualsOneByOne). A GPU's forward
// costs far more positions than the CPU's, unmeasured here, so on a GPU
// they go together, as they did before this grouping.
func (s *Server) computeAsk(seqs [][]int32, a ask) ([]rlt.PromptScores, error) {
	_, f32 := compute.HostData(s.Src.M.LMHead)
	_, f16 := compute.HostData16(s.Src.M.LMHead)
	if !f32 && !f16 {
		return s.promptLogProbs(seqs, a)
	}
	lens := make([]int, len(seqs))
	for i, q := range seqs {
		lens[i] = len(q)
	}
	groups := lengthGroups(lens, cpuForwardPositions)
	if len(groups) == 1 {
		return s.promptLogProbs(seqs, a)
	}
	out := make([]rlt.PromptScores, len(seqs))
	for _, g := range groups {
		part := make([][]int32, len(g))
		for k, i := range g {
			part[k] = seqs[i]
		}
		scores, err := s.promptLogProbs(part, a)
		if err != nil {
			return nil, err
		}
		for k, i := range g {
			out[i] = scores[k]
		}
	}
	return out, nil
}

// lengthGroups splits sequences of lengths lens into groups, each the
// indexes of consecutive sequences longest first, that cost the fewest
// positions in all: a group costs its rows × its longest (the positions
// its padded forward computes) and forward more (the fixed cost of a
// forward, in positions). Sequences of one length are never split (that
// saves nothing), so the search runs over the distinct lengths: d² steps
// for d of them.
func lengthGroups(lens []int, forward int) [][]int {
	order := make([]int, len(lens))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(lens[b], lens[a]) })
	// runs[r] is where the r-th run of one length starts in order.
	var runs []int
	for k, i := range order {
		if k == 0 || lens[i] != lens[order[k-1]] {
			runs = append(runs, k)
		}
	}
	d := len(runs)
	runs = append(runs, len(order))
	// best[j] is the least cost of the first j runs, the last group of
	// which starts at run from[j].
	best, from := make([]int, d+1), make([]int, d+1)
	for j := 1; j <= d; j++ {
		best[j] = math.MaxInt
		for i := range j {
			c := best[i] + forward + (runs[j]-runs[i])*lens[order[runs[i]]]
			if c < best[j] {
				best[j], from[j] = c, i
			}
		}
	}
	var groups [][]int
	for j := d; j > 0; j = from[j] {
		groups = append(groups, order[runs[from[j]]:runs[j]])
	}
	slices.Reverse(groups)
	return groups
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
