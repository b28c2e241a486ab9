package rlt

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/model"
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
	// An error about one sequence is a *SourceError with its index.
	LogProbs(seqs [][]int32, spans [][][2]int, temperature float64) ([]float32, error)
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
	// longest row, model.MicroBatches); 0 = one forward per call.
	MicroBatchTokens int

	mu   sync.Mutex
	tape *compute.Tape
}

// NewModelSource is m as a log-prob source over its whole table, named
// name, with a scratch tape of its own.
func NewModelSource(m *model.Model, name string) *ModelSource {
	tp := compute.NewTape(m.Backend())
	tp.SetRecording(false)
	return &ModelSource{M: m, Name: name, Vocab: m.Cfg.Vocab, MicroBatchTokens: model.DefaultMicroBatchTokens, tape: tp}
}

// Err is the backend's failure (a lost device, out of its memory), read
// under the source's lock: the forwards that set it run under it, and a
// Backend is used by one goroutine at a time.
func (ms *ModelSource) Err() error {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return ms.M.Backend().Err()
}

// LogProbs implements LogProbSource.
func (ms *ModelSource) LogProbs(seqs [][]int32, spans [][][2]int, temperature float64) ([]float32, error) {
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

// PromptLogProbs is one sequence's log-probs at every position after the
// first (n−1 values for n ids) and, with next, the greedy next token after
// the last position with its log-prob: what an inference server's prompt
// log-probs with one generated token are (rlt serve).
func (ms *ModelSource) PromptLogProbs(ids []int32, temperature float64, next bool) (lp []float32, nextID int32, nextLP float32, err error) {
	if len(ids) == 0 {
		return nil, 0, 0, fmt.Errorf("%s: empty prompt", ms.Name)
	}
	if len(ids) > ms.M.Cfg.MaxPos {
		return nil, 0, 0, fmt.Errorf("%s: %d tokens do not fit the model's %d positions", ms.Name, len(ids), ms.M.Cfg.MaxPos)
	}
	for i, id := range ids {
		if id < 0 || int(id) >= ms.Vocab {
			return nil, 0, 0, fmt.Errorf("%s: token %d at position %d is outside the vocabulary of %d", ms.Name, id, i, ms.Vocab)
		}
	}
	if !(temperature > 0) {
		return nil, 0, 0, fmt.Errorf("%s: temperature %g must be positive", ms.Name, temperature)
	}
	invT := float32(1 / temperature)
	ms.mu.Lock()
	defer ms.mu.Unlock()
	tp := ms.tape
	tp.Reset()
	T := len(ids)
	h := ms.M.Hidden(tp, &model.Batch{B: 1, T: T, Tokens: ids})
	rows := make([]int32, 0, T)
	targets := make([]int32, 0, T)
	for pos := 1; pos < T; pos++ {
		rows = append(rows, int32(pos-1))
		targets = append(targets, ids[pos])
	}
	be := ms.M.Backend()
	if len(rows) > 0 {
		lpT := tp.HeadLogProbsRows(tp.GatherRows(h, rows), ms.M.LMHead, ms.Vocab, targets, invT)
		if err := tp.Err(); err != nil {
			return nil, 0, 0, err
		}
		lp = make([]float32, lpT.Len())
		if err := compute.ReadBack(be, lp, lpT); err != nil {
			return nil, 0, 0, err
		}
	}
	if !next {
		return lp, 0, 0, nil
	}
	logits := tp.Linear(tp.GatherRows(h, []int32{int32(T - 1)}), ms.M.LMHead, nil)
	if err := tp.Err(); err != nil {
		return nil, 0, 0, err
	}
	z := make([]float32, logits.Len())
	if err := compute.ReadBack(be, z, logits); err != nil {
		return nil, 0, 0, err
	}
	z = z[:ms.Vocab]
	best := 0
	for v := range z {
		if z[v] > z[best] {
			best = v
		}
	}
	// log-softmax of the best logit at the temperature, in float64.
	var sum float64
	top := float64(z[best]) * float64(invT)
	for _, x := range z {
		sum += math.Exp(float64(x)*float64(invT) - top)
	}
	return lp, int32(best), float32(-math.Log(sum)), nil
}

// logProbs runs m over right-padded seqs and returns the log-probs of the
// tokens in each span group, in order: for sequence b, each group's span
// [start, start+count) in turn, sequence by sequence. With keepHidden it
// also returns a copy of the final hidden rows [rows, d] that predict those
// tokens, in the same order: the LM head is fused with the log-softmax, so
// no logits outlive a chunk of rows, and the full KL computes them again.
// The caller holds ms.mu or owns ms.
func (ms *ModelSource) logProbs(seqs [][]int32, groups [][][2]int, invT float32, keepHidden bool) ([]float32, *compute.Tensor, error) {
	lens := make([]int, len(seqs))
	for i, q := range seqs {
		lens[i] = len(q)
	}
	parts, err := model.MicroBatches(lens, 0, ms.MicroBatchTokens, "micro_batch_tokens")
	if err != nil {
		return nil, nil, err
	}
	if len(parts) == 1 {
		return ms.logProbsBatch(seqs, groups, invT, keepHidden)
	}
	m := ms.M
	var lp, hidden []float32
	be := m.Backend()
	for _, pr := range parts {
		sub := make([][][2]int, len(groups))
		for g := range groups {
			sub[g] = groups[g][pr[0]:pr[1]]
		}
		plp, ph, err := ms.logProbsBatch(seqs[pr[0]:pr[1]], sub, invT, keepHidden)
		if err != nil {
			return nil, nil, err
		}
		lp = append(lp, plp...)
		if ph != nil {
			n := len(hidden)
			hidden = append(hidden, make([]float32, ph.Len())...)
			if err := compute.ReadBack(be, hidden[n:], ph); err != nil {
				return nil, nil, err
			}
		}
	}
	var hk *compute.Tensor
	if keepHidden && len(hidden) > 0 {
		d := m.Cfg.Hidden
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
