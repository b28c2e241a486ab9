package rlt

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/kernels"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/runconfig"
)

// LogProbSource is what the reward needs of a model (RLT.md §3): the
// log-probs, at a temperature, of given tokens of sequences, each in the
// context of the tokens before it. The in-process model (ModelSource) and
// an inference server (engine/remote) implement it, so the Scorer is
// written once and gives the same record.Scored either way.
type LogProbSource interface {
	// LogProbs returns log p(seq[pos] | seq[:pos]) of logits/temperature for
	// every position of every span: for sequence b in turn, each group's
	// span spans[g][b] = [start, count] (start ≥ 1), group after group.
	// An error about one sequence is a *SourceError with its index. ctx
	// stops what can be stopped part way (an inference server's requests:
	// the error is then a fatal *SourceError wrapping ctx.Err(); a stop
	// that cancelled nothing returns every value, no error); a forward in
	// this process runs to its end. A fatal error (a stop, or the source's
	// own failure) is returned with the values of the first sequences,
	// those answered before the first one left unanswered, whole, for a
	// caller that keeps them (Scorer.Score); none where it has none.
	LogProbs(ctx context.Context, seqs [][]int32, spans [][][2]int, temperature float64) ([]float32, error)
	// MaxPositions is the longest sequence the source takes (0: not known;
	// the source refuses what is too long itself).
	MaxPositions() int
	// Temperature is the temperature the source's log-probs are of when
	// asked for t: t where it applies it, 1 where it can only compute them
	// of the raw logits (an inference server's prompt log-probs).
	Temperature(t float64) float64
	// String names the source in messages and records (a model folder, a
	// server's URL).
	String() string
}

// SourceError is a log-prob source's failure. Seq is the index of the
// sequence of the batch it concerns (-1: none). Fatal is a failure of the
// source itself (a server down, timing out, dropping the connection, or
// answering something other than what was asked): scoring stops there
// rather than ask again item by item; else the sequence alone is at fault
// (too long for the server) and the other items are scored.
type SourceError struct {
	Source string
	Seq    int
	Fatal  bool
	Err    error
}

func (e *SourceError) Error() string {
	if e.Seq >= 0 {
		return fmt.Sprintf("%s: sequence %d: %v", e.Source, e.Seq, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Source, e.Err)
}

func (e *SourceError) Unwrap() error { return e.Err }

// ItemError is an error scoring item Item of a Score call's batch.
type ItemError struct {
	Item int
	Err  error
}

func (e *ItemError) Error() string { return fmt.Sprintf("item %d: %v", e.Item, e.Err) }
func (e *ItemError) Unwrap() error { return e.Err }

// Fatal reports whether err is a source's own failure (SourceError.Fatal):
// scoring more items with it would fail alike.
func Fatal(err error) bool {
	var se *SourceError
	return errors.As(err, &se) && se.Fatal
}

// ModelSource is a model in this process as a LogProbSource: right-padded
// batches, micro-batched, the LM head fused with the log-softmax over the
// first Vocab rows of the table (so no logits outlive a chunk of rows).
// Safe for concurrent use (calls run one at a time).
type ModelSource struct {
	M    *model.Model
	Name string
	// Vocab is the rows of the embedding table each softmax is over: the
	// whole table, or the rows two differently padded tables share
	// (Pair.Shared).
	Vocab int
	// MicroBatchTokens bounds each forward's padded positions (rows × the
	// longest row); 0 = no token limit (PromptLogProbsBatch's forwards:
	// the model's positions). LogProbs' sequences go to the
	// forwards on the CPU in groups of about one length, on a GPU in order
	// (forwardGroups).
	MicroBatchTokens int
	// RankChunkRows is the rows of logits PromptLogProbs makes at a time
	// for ranks; 0 = as many as fit rankChunkFloats (16 MiB).
	RankChunkRows int

	mu   sync.Mutex
	tape *compute.Tape
}

// NewModelSource is m as a log-prob source over its whole table, named
// name, with a scratch tape of its own.
func NewModelSource(m *model.Model, name string) *ModelSource {
	tp := compute.NewTape(m.Backend())
	tp.SetRecording(false)
	return &ModelSource{M: m, Name: name, Vocab: m.Cfg.Vocab, MicroBatchTokens: runconfig.DefaultMicroBatchTokens, tape: tp}
}

// Err is the backend's failure (a lost device, out of its memory), read
// under the source's lock: the forwards that set it run under it, and a
// Backend is used by one goroutine at a time.
func (ms *ModelSource) Err() error {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return ms.M.Backend().Err()
}

// LogProbs implements LogProbSource. The forward is not stopped part way:
// ctx is not read (its caller stops between batches).
func (ms *ModelSource) LogProbs(_ context.Context, seqs [][]int32, spans [][][2]int, temperature float64) ([]float32, error) {
	if !(temperature > 0) {
		return nil, fmt.Errorf("%s: temperature %g must be positive", ms.Name, temperature)
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	lp, _, err := ms.logProbs(seqs, spans, float32(1/temperature), false)
	return lp, err
}

// MaxPositions implements LogProbSource.
func (ms *ModelSource) MaxPositions() int { return ms.M.Cfg.MaxPos }

// Temperature implements LogProbSource: a model in process applies any.
func (ms *ModelSource) Temperature(t float64) float64 { return t }

func (ms *ModelSource) String() string { return ms.Name }

// refusalName is how a refusal past the model's positions names it
// (model.Name): by its role where the scorer made it ("the teacher"),
// else by its name ("the model DIR").
func (ms *ModelSource) refusalName() string {
	if ms.Name == "teacher" || ms.Name == "student" {
		return model.Name(ms.Name, "")
	}
	return model.Name("model", ms.Name)
}

// PromptOptions says what PromptLogProbs computes besides the log-probs.
type PromptOptions struct {
	// Next asks for the greedy next token after the last position, with its
	// log-prob: the one token an inference server generates.
	Next bool
	// Ranks asks for each prompt token's rank in its position's
	// distribution, vLLM's "rank" (PromptScores.Ranks). The logits of
	// every position then come to the host, a chunk of rows at a time,
	// and the log-probs are taken from them in the same pass (in place
	// of the fused head's).
	Ranks bool
	// TopK asks for the TopK most likely tokens of every prompt position
	// (PromptScores.TopIDs), vLLM's prompt_logprobs k: from the same
	// chunks of logits as the ranks, so it costs them too when > 0.
	TopK int
	// NextTopK asks for the NextTopK most likely tokens after the last
	// position (with Next; PromptScores.NextTopIDs) and the greedy token's
	// rank: what vLLM's logprobs N returns of a generated token.
	NextTopK int
	// NextBias, when not nil, adjusts the logits after the last position
	// before the next token is picked (LogitBias): the tokens a request
	// keeps from being it, and OpenAI's logit_bias. A pointer, so that
	// PromptOptions stays comparable (rlt serve's batcher keys its groups
	// by the options with NextBias left out); which pointer does not
	// count there, the batcher comparing adjustments by value
	// (LogitBias.Key), so equal ones of other requests share a forward.
	NextBias *LogitBias
}

// PromptScores is one sequence's prompt log-probs (rlt serve).
type PromptScores struct {
	// LogProbs are log p(ids[pos] | ids[:pos]) of logits/temperature for
	// pos 1..n−1 (n−1 values): from the fused head as LogProbs computes
	// them, equal to in-process scoring; or, with Ranks or TopK, from the
	// logits those read back, each row reduced as the CPU's fused head
	// reduces a row it takes in one block (logSumExp), so the bits of
	// in-process scoring on the CPU where its head does (vocabulary ×
	// tile rows ≤ compute.HeadTileFloats: always at the embedded defaults'
	// 272 tokens; at Qwen's 151,936 for tiles up to 110 rows), else
	// within rounding.
	LogProbs []float32
	// Ranks (with PromptOptions.Ranks) are, for the same positions, vLLM's
	// rank of the token: how many tokens of the vocabulary have a log-prob
	// at least the token's, itself included (1 for the most likely; a tie
	// counts against it), as vLLM's batched_count_greater_than counts
	// (x >= value).sum(-1) over a row of log-probs. Log-softmax at any
	// temperature keeps the logits' order, so they are counted on the
	// position's logits, in one pass: a tie that only a log-softmax's
	// rounding would make (vLLM's own, in its float32) is not one here.
	Ranks []int
	// TopIDs and TopLogProbs (with PromptOptions.TopK) are, for the same
	// positions, the TopK tokens of the vocabulary with the highest logits
	// (most likely first; of equal logits the lower id first) and their
	// log-probs: the log-softmax at the temperature, each row's
	// log-sum-exp computed once in float64 on the host. A prompt token
	// among them has there its LogProbs entry, from the same row.
	TopIDs      [][]int32
	TopLogProbs [][]float32
	// Next and NextLogProb (with PromptOptions.Next) are the greedy token
	// after the last position and its log-prob.
	Next        int32
	NextLogProb float32
	// NextRank, NextTopIDs and NextTopLogProbs (with PromptOptions.Next
	// and NextTopK > 0) are the greedy token's rank and the NextTopK most
	// likely tokens after the last position, as TopIDs and TopLogProbs.
	NextRank        int
	NextTopIDs      []int32
	NextTopLogProbs []float32
}

// rankChunkFloats bounds the logits one chunk of PromptLogProbs' ranks
// holds, on the device and read back: 16 MiB of float32, 27 rows at
// Qwen2.5's 151,936-row head.
const rankChunkFloats = 1 << 22

// PromptLogProbs is one sequence's log-probs at every position after the
// first and, as opts asks, the tokens' ranks and the greedy next token:
// what an inference server's prompt log-probs with one generated token
// are (rlt serve). It is PromptLogProbsBatch of one sequence.
func (ms *ModelSource) PromptLogProbs(ids []int32, temperature float64, opts PromptOptions) (PromptScores, error) {
	out, err := ms.PromptLogProbsBatch([][]int32{ids}, temperature, opts)
	if err != nil {
		return PromptScores{}, err
	}
	return out[0], nil
}

// PromptLogProbsBatch is PromptLogProbs of each of seqs, at one
// temperature and with the same options (one request's prompts), in order.
// The sequences run through the model together, right-padded, in
// forwards of at most MicroBatchTokens padded positions (a sequence longer
// than that alone; with no limit, the model's positions), on the CPU in
// groups of about one length (forwardGroups), so a batch costs about the forwards of its tokens, not
// one forward and one pass of the LM head per sequence;
// the logits for ranks, top-k and the next token are made a chunk of rows
// at a time whatever the batch (rankChunkFloats). A sequence's scores do
// not depend on the batch: padding comes after its tokens and attention is
// causal, and each row's products sum in the same order whatever the rows
// beside it (serve's tests check the bytes on a small vocabulary; the
// fused head's vocabulary blocks narrow as its tiles grow past about a
// hundred rows at Qwen's 151,936 tokens, which can move a log-prob by a
// rounding).
func (ms *ModelSource) PromptLogProbsBatch(seqs [][]int32, temperature float64, opts PromptOptions) ([]PromptScores, error) {
	which := func(i int) string {
		if len(seqs) == 1 {
			return ""
		}
		return fmt.Sprintf("prompt %d: ", i)
	}
	for i, ids := range seqs {
		if len(ids) == 0 {
			return nil, fmt.Errorf("%s: %sempty prompt", ms.Name, which(i))
		}
		if n := ms.M.Cfg.MaxPos; len(ids) > n {
			what := "the prompt"
			if len(seqs) > 1 {
				what = fmt.Sprintf("prompt %d", i)
			}
			return nil, &model.PositionsError{Model: ms.refusalName(), What: what, Tokens: len(ids), Positions: n,
				Do: fmt.Sprintf("give prompts of at most %d tokens", n)}
		}
		for pos, id := range ids {
			if id < 0 || int(id) >= ms.Vocab {
				return nil, fmt.Errorf("%s: %stoken %d at position %d is outside the vocabulary of %d", ms.Name, which(i), id, pos, ms.Vocab)
			}
		}
	}
	if !(temperature > 0) {
		return nil, fmt.Errorf("%s: temperature %g must be positive", ms.Name, temperature)
	}
	if opts.TopK < 0 || opts.NextTopK < 0 {
		return nil, fmt.Errorf("%s: top-k %d, %d must not be negative", ms.Name, opts.TopK, opts.NextTopK)
	}
	if err := opts.NextBias.check(ms.Vocab); err != nil {
		return nil, fmt.Errorf("%s: %w", ms.Name, err)
	}
	// A prompt longer than MicroBatchTokens runs alone, as it would by
	// itself. With no limit (0) a forward holds at most the model's
	// positions, the longest prompt: the requests a server has in hand
	// are no bound on what it holds (rlt serve's memory check counts
	// this).
	budget := ms.MicroBatchTokens
	if budget <= 0 {
		budget = ms.M.Cfg.MaxPos
	}
	if len(seqs) > 0 {
		budget = max(budget, len(slices.MaxFunc(seqs, func(a, b []int32) int { return cmp.Compare(len(a), len(b)) })))
	}
	parts, err := ms.forwardGroups(seqs, budget)
	if err != nil {
		return nil, err
	}
	invT := float32(1 / temperature)
	out := make([]PromptScores, len(seqs))
	ms.mu.Lock()
	defer ms.mu.Unlock()
	for _, part := range parts {
		if err := ms.promptBatch(seqs, part, invT, opts, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// forwardGroups splits seqs into the forwards a batch of them runs in,
// each a list of indexes in increasing order of at most budget padded
// positions (≤ 0: no limit; a sequence past it is an error), in groups of
// about one length that cost the fewest positions, a forward's fixed cost
// counted (model.LengthGroups): sequences whose lengths differ (a GRPO
// step's, by their explanations'; 8 prompts of 24 to 240 tokens, which
// padded to 240 cost the CPU twice what they cost in groups: engine/serve's
// BenchmarkMixedLengths) are not all padded to the longest.
func (ms *ModelSource) forwardGroups(seqs [][]int32, budget int) ([][]int, error) {
	lens := make([]int, len(seqs))
	for i, q := range seqs {
		lens[i] = len(q)
	}
	return model.LengthGroups(lens, 0, budget, ms.forwardCost(), "micro_batch_tokens")
}

// forwardCost is what one more forward costs, counted in the positions it
// could compute instead: cpuForwardPositions on the CPU (the weights in
// host memory); on a GPU, whose fixed cost is far larger and unmeasured
// here, so much that the fewest forwards come first, and of those the
// fewest positions.
func (ms *ModelSource) forwardCost() int {
	_, f32 := compute.HostData(ms.M.LMHead)
	_, f16 := compute.HostData16(ms.M.LMHead)
	if f32 || f16 {
		return cpuForwardPositions
	}
	return 1 << 30
}

// promptBatch fills out[i] for each sequence seqs[i] of batch in one
// right-padded forward. The caller holds ms.mu.
func (ms *ModelSource) promptBatch(seqs [][]int32, batch []int, invT float32, opts PromptOptions, out []PromptScores) error {
	B, T := len(batch), 0
	for _, i := range batch {
		T = max(T, len(seqs[i]))
	}
	tokens := make([]int32, B*T)
	// first[b] is where sequence batch[b]'s rows start among rows; its
	// rows are positions 1..n−1, each predicted by the row before it.
	first := make([]int, B+1)
	var rows, targets []int32
	for b, i := range batch {
		q := seqs[i]
		copy(tokens[b*T:], q)
		first[b] = len(rows)
		for pos := 1; pos < len(q); pos++ {
			rows = append(rows, int32(b*T+pos-1))
			targets = append(targets, q[pos])
		}
	}
	first[B] = len(rows)
	tp := ms.tape
	tp.Reset()
	h := ms.M.Hidden(tp, &model.Batch{B: B, T: T, Tokens: tokens})
	var all PromptScores
	switch {
	case len(rows) == 0:
	case opts.Ranks || opts.TopK > 0:
		// The logits come to the host for these: the log-probs are taken
		// from them too, not from a second pass of the LM head.
		if err := ms.rankRows(tp, h, rows, targets, invT, opts, &all); err != nil {
			return err
		}
	default:
		lpT := tp.HeadLogProbsRows(tp.GatherRows(h, rows), ms.M.LMHead, ms.Vocab, targets, invT)
		if err := tp.Err(); err != nil {
			return err
		}
		all.LogProbs = make([]float32, lpT.Len())
		if err := compute.ReadBack(ms.M.Backend(), all.LogProbs, lpT); err != nil {
			return err
		}
	}
	for b, i := range batch {
		lo, hi := first[b], first[b+1]
		if hi == lo {
			continue
		}
		o := &out[i]
		o.LogProbs = all.LogProbs[lo:hi:hi]
		if opts.Ranks {
			o.Ranks = all.Ranks[lo:hi:hi]
		}
		if opts.TopK > 0 {
			o.TopIDs, o.TopLogProbs = all.TopIDs[lo:hi:hi], all.TopLogProbs[lo:hi:hi]
		}
	}
	if !opts.Next {
		return nil
	}
	last := make([]int32, B)
	for b, i := range batch {
		last[b] = int32(b*T + len(seqs[i]) - 1)
	}
	var scratch []float32 // the adjusted row (bias.go)
	if opts.NextBias != nil {
		scratch = make([]float32, ms.Vocab)
	}
	var pickErr error
	err := ms.eachLogits(tp, h, last, func(k int, z []float32) {
		if err := pickNext(&out[batch[k]], z, invT, opts, scratch); err != nil && pickErr == nil {
			pickErr = err
		}
	})
	if err != nil {
		return err
	}
	return pickErr
}

// logSumExp is log Σ exp(z·invT) over one row of logits, in float64, as
// the CPU backend's fused head (HeadLogProbsRows) reduces a row it takes
// in one block of the vocabulary (kernels.SoftmaxBlock; the log-sum-exp of
// that one block's is itself), so that logProb gives its bits.
func logSumExp(z []float32, invT float32) float64 {
	var lse [1]float64
	kernels.SoftmaxBlock(lse[:], nil, z, len(z), invT, 0, 1)
	return lse[0]
}

// logProb is log p(t) of the row of logits z at 1/invT whose log-sum-exp
// is lse, as the fused head rounds it: float32(z[t]·invT − lse).
func logProb(z []float32, t int32, invT float32, lse float64) float32 {
	return float32(float64(z[t])*float64(invT) - lse)
}

// topInsertMax is the largest k topK keeps by insertion; a larger one (up
// to the whole vocabulary, vLLM's -1) sorts the row's ids instead, where
// insertion would take k steps a token.
const topInsertMax = 64

// topK returns the k ids of z with the highest logits, most likely first
// (of equal logits the lower id first), and their log-probs (logProb):
// one pass keeping the best k in order, so O(len(z)) while the k-th best
// is rarely beaten, or for k past topInsertMax a sort of every id.
func topK(z []float32, k int, invT float32, lse float64) ([]int32, []float32) {
	k = min(k, len(z))
	var ids []int32
	if k > topInsertMax {
		ids = make([]int32, len(z))
		for v := range ids {
			ids[v] = int32(v)
		}
		slices.SortFunc(ids, func(a, b int32) int {
			if c := cmp.Compare(z[b], z[a]); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
		ids = ids[:k:k]
	} else {
		ids = make([]int32, 0, k)
		for v, x := range z {
			if len(ids) == k && x <= z[ids[k-1]] {
				continue
			}
			// The first place whose logit is below x: equal logits keep
			// the lower id, which came first, ahead.
			i := len(ids)
			for i > 0 && z[ids[i-1]] < x {
				i--
			}
			if len(ids) < k {
				ids = append(ids, 0)
			}
			copy(ids[i+1:], ids[i:len(ids)-1])
			ids[i] = int32(v)
		}
	}
	lps := make([]float32, len(ids))
	for i, id := range ids {
		lps[i] = logProb(z, id, invT, lse)
	}
	return ids, lps
}

// rankRows fills out's LogProbs, Ranks (opts.Ranks) and TopIDs and
// TopLogProbs (opts.TopK > 0) of targets, row rows[i] of the hidden
// states h predicting targets[i], from the rows' logits (eachLogits): one
// pass of the LM head for all of them. The caller holds ms.mu.
func (ms *ModelSource) rankRows(tp *compute.Tape, h *compute.Tensor, rows, targets []int32, invT float32, opts PromptOptions, out *PromptScores) error {
	out.LogProbs = make([]float32, len(rows))
	if opts.Ranks {
		out.Ranks = make([]int, len(rows))
	}
	if opts.TopK > 0 {
		out.TopIDs, out.TopLogProbs = make([][]int32, len(rows)), make([][]float32, len(rows))
	}
	return ms.eachLogits(tp, h, rows, func(i int, row []float32) {
		lse := logSumExp(row, invT)
		out.LogProbs[i] = logProb(row, targets[i], invT, lse)
		if opts.Ranks {
			out.Ranks[i] = rankOf(row, targets[i])
		}
		if opts.TopK > 0 {
			out.TopIDs[i], out.TopLogProbs[i] = topK(row, opts.TopK, invT, lse)
		}
	})
}

// eachLogits calls f with the logits (the first Vocab) of each row
// rows[i] of the hidden states h, in order. The logits are made by the LM
// head a chunk of rows at a time (rankChunkFloats, RankChunkRows) and given
// to f on the host: on the CPU where they are made, from a GPU read back
// into one buffer; each chunk's activations are given back to the tape
// before the next, so memory stays bounded whatever the prompts' length or
// number. A row is valid during its call only. The CPU's were copied too,
// the chunk held twice (16 MiB more than the estimate's one, at any
// vocabulary; TestRanksOnTheCPUCopyNoLogits).
func (ms *ModelSource) eachLogits(tp *compute.Tape, h *compute.Tensor, rows []int32, f func(i int, z []float32)) error {
	width := ms.M.LMHead.Shape()[0] // the head's rows, padding included
	chunk := max(1, rankChunkFloats/width)
	if ms.RankChunkRows > 0 {
		chunk = ms.RankChunkRows
	}
	var z []float32 // the read-back buffer, made for a device's logits
	for i0 := 0; i0 < len(rows); i0 += chunk {
		part := rows[i0:min(i0+chunk, len(rows))]
		mark := tp.Mark()
		logits := tp.Linear(tp.GatherRows(h, part), ms.M.LMHead, nil)
		if err := tp.Err(); err != nil {
			return err
		}
		zc, onHost := compute.HostData(logits)
		if !onHost {
			if z == nil {
				z = make([]float32, min(chunk, len(rows))*width)
			}
			zc = z[:len(part)*width]
			if err := compute.ReadBack(ms.M.Backend(), zc, logits); err != nil {
				return err
			}
		}
		for i := range part {
			f(i0+i, zc[i*width:i*width+ms.Vocab])
		}
		tp.Keep(mark, h) // h was made before the chunk: the arena takes the chunk's tensors back, after f read them
	}
	return nil
}

// rankOf is vLLM's rank of token t in one position's logits z: the count
// of v with z[v] >= z[t] (PromptScores.Ranks).
func rankOf(z []float32, t int32) int {
	n := 0
	for _, x := range z {
		if x >= z[t] {
			n++
		}
	}
	return n
}

// cpuForwardPositions is what one more forward costs on the CPU, counted
// in the positions it could compute instead: the fixed cost of a forward
// of the embedded default teacher (0.35 ms with float32 weights, 0.9 ms
// with bfloat16 ones, which every forward widens again) is that of 20 and
// of 45 positions (about 0.02 ms each); both scale with the weights, so
// about the same count holds for larger models.
const cpuForwardPositions = 64

// logProbs runs m over right-padded seqs and returns the log-probs of the
// tokens in each span group, in order: for sequence b, each group's span
// [start, start+count) in turn, sequence by sequence. With keepHidden it
// also returns a copy of the final hidden rows [rows, d] that predict those
// tokens, in the same order: the LM head is fused with the log-softmax, so
// no logits outlive a chunk of rows, and the full KL computes them again.
// The sequences run in the forwards forwardGroups makes; a sequence's
// numbers do not depend on the sequences beside it (causal attention,
// padding after its tokens, each row's products in one order), so the
// grouping changes the cost, not the values.
// The caller holds ms.mu or owns ms.
func (ms *ModelSource) logProbs(seqs [][]int32, groups [][][2]int, invT float32, keepHidden bool) ([]float32, *compute.Tensor, error) {
	parts, err := ms.forwardGroups(seqs, ms.MicroBatchTokens)
	if err != nil {
		return nil, nil, err
	}
	if len(parts) == 1 {
		return ms.logProbsBatch(seqs, groups, invT, keepHidden)
	}
	// first[b] is where sequence b's values start in the output: its
	// spans' counts, sequence after sequence.
	first := make([]int, len(seqs)+1)
	for b := range seqs {
		first[b+1] = first[b]
		for _, g := range groups {
			first[b+1] += g[b][1]
		}
	}
	m := ms.M
	be := m.Backend()
	d := m.Cfg.Hidden
	lp := make([]float32, first[len(seqs)])
	var hidden, ph []float32
	if keepHidden {
		hidden = make([]float32, len(lp)*d)
	}
	for _, part := range parts {
		sub := make([][]int32, len(part))
		spans := make([][][2]int, len(groups))
		for k, b := range part {
			sub[k] = seqs[b]
		}
		for g := range groups {
			spans[g] = make([][2]int, len(part))
			for k, b := range part {
				spans[g][k] = groups[g][b]
			}
		}
		plp, pht, err := ms.logProbsBatch(sub, spans, invT, keepHidden)
		if err != nil {
			if se := (*SourceError)(nil); errors.As(err, &se) && se.Seq >= 0 {
				se.Seq = part[se.Seq] // the caller's index, not the forward's
			}
			return nil, nil, err
		}
		if pht != nil {
			ph = slices.Grow(ph[:0], pht.Len())[:pht.Len()]
			if err := compute.ReadBack(be, ph, pht); err != nil {
				return nil, nil, err
			}
		}
		at := 0
		for _, b := range part {
			n := first[b+1] - first[b]
			copy(lp[first[b]:], plp[at:at+n])
			if pht != nil {
				copy(hidden[first[b]*d:], ph[at*d:(at+n)*d])
			}
			at += n
		}
	}
	var hk *compute.Tensor
	if keepHidden && len(hidden) > 0 {
		hk = be.New("scorer.hidden", len(hidden)/d, d)
		be.Write(hk, hidden)
	}
	return lp, hk, nil
}

// logProbsBatch is logProbs in one forward.
func (ms *ModelSource) logProbsBatch(seqs [][]int32, groups [][][2]int, invT float32, keepHidden bool) ([]float32, *compute.Tensor, error) {
	m := ms.M
	B, T := len(seqs), 0
	for _, q := range seqs {
		T = max(T, len(q))
	}
	batch := &model.Batch{B: B, T: T, Tokens: make([]int32, B*T)}
	var rows, targets []int32
	for b, q := range seqs {
		copy(batch.Tokens[b*T:], q)
		for _, g := range groups {
			start, n := g[b][0], g[b][1]
			for k := 0; k < n; k++ {
				pos := start + k
				if pos == 0 {
					return nil, nil, &SourceError{Source: ms.Name, Seq: b, Err: errors.New("a scored token at position 0 has no context")}
				}
				rows = append(rows, int32(b*T+pos-1))
				targets = append(targets, q[pos])
			}
		}
	}
	if len(rows) == 0 {
		return nil, nil, nil
	}
	tp := ms.tape
	tp.Reset()
	h := tp.GatherRows(m.Hidden(tp, batch), rows)
	// Both distributions are over the rows the two tables share (Pair.Shared):
	// the first rows of a table padded further are used in place.
	lp := tp.HeadLogProbsRows(h, m.LMHead, ms.Vocab, targets, invT)
	if err := tp.Err(); err != nil {
		return nil, nil, err
	}
	be := m.Backend()
	out := make([]float32, lp.Len())
	if err := compute.ReadBack(be, out, lp); err != nil {
		return nil, nil, err
	}
	var hk *compute.Tensor
	if keepHidden {
		hk = be.New("scorer.hidden", h.Shape()...)
		be.Copy(hk, h)
	}
	return out, hk, nil
}
