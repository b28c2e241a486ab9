// Package rlt is the model-dependent half of the Reinforcement-Learned
// Teachers method of ../shared/RLT.md: the teacher–student Pair (loaded
// once under one tokenizer rule; the teacher explains, the student's
// context is laid out once, the student reconstructs), the scorer, which
// computes the per-token log-probs of an explanation with the pair and
// fills a record.Scored (the reward's formats and reductions are in
// engine/record), and GRPO, which trains the teacher on that reward.
package rlt

import (
	"errors"
	"fmt"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
)

// Tokenizer is what scoring needs of a tokenizer. Teacher and student share
// one (Pair): the explanation's ids are located in both sequences.
type Tokenizer interface {
	Encode(text string) []int32
	TokenString(id int32) string
	VocabSize() int
}

// Item is one explanation to score.
type Item struct {
	Question, Solution string
	// Explanation is the body the teacher wrote: the text after the
	// prefill's "<|begin_of_explanation|>\n\n" and before the end tag.
	Explanation string
	// Ended is false when the teacher never closed the explanation.
	Ended bool
}

// Scorer computes RLT rewards with a pair's teacher and frozen student,
// batched.
type Scorer struct {
	*Pair
	Cfg record.RewardConfig
	// MicroBatchTokens bounds each forward's padded positions (rows × the
	// longest row, model.MicroBatches): a batch of items runs as several
	// forwards of consecutive items. 0 = one forward per Score call.
	MicroBatchTokens int
	// OnForward, if set, is told after each model's pass over a Score
	// call's batch how many of its total passes are done (progress: the
	// teacher's, the student's, and the full KL's when it is the estimator).
	OnForward func(done, total int)

	tape *compute.Tape
}

// NewScorer scores with pair under cfg.
func NewScorer(pair *Pair, cfg record.RewardConfig) (*Scorer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tp := compute.NewTape(pair.Teacher.Backend())
	tp.SetRecording(false)
	return &Scorer{Pair: pair, Cfg: cfg, tape: tp, MicroBatchTokens: model.DefaultMicroBatchTokens}, nil
}

// encoded is an item's token layout in both sequences. The explanation T
// is the prefill's lead ("\n\n") followed by the body, the same ids in both
// sequences (RLT.md §2: everything between the explanation tags); the
// teacher's sequence is its prompt up to the explanation tag followed by T.
// Where the tags are added tokens (the embedded vocabulary), that is exactly
// the prompt the teacher continued followed by the body, since the lead
// after a tag is encoded on its own.
type encoded struct {
	teacher []int32    // teacher head ++ T
	tStart  int        // index of the first token of T in teacher
	student StudentSeq // the student's context around T and the solution
	expl    []int32    // T: lead ++ body
	sol     []int32
}

func (s *Scorer) encode(it Item) encoded {
	var e encoded
	e.expl = ExplanationIDs(s.Tok, it.Explanation)
	e.teacher = s.Tok.Encode(s.Prompts.TeacherHead(it.Question, it.Solution))
	e.tStart = len(e.teacher)
	e.teacher = append(e.teacher, e.expl...)
	e.sol = s.Tok.Encode(it.Solution)
	e.student = s.StudentSequence(it.Question, e.expl, e.sol)
	return e
}

// SequenceLengths is the number of tokens of it's teacher sequence (prompt
// up to the explanation, then the explanation) and student sequence
// (context, explanation, solution): the two forwards Score runs for it.
func (s *Scorer) SequenceLengths(it Item) (teacher, student int) {
	e := s.encode(it)
	return len(e.teacher), len(e.student.IDs)
}

// Score computes the reward of each item. Questions and solutions holding a
// tag, or empty solutions, are refused with the item's index.
func (s *Scorer) Score(items []Item) ([]record.Scored, error) {
	if len(items) == 0 {
		return nil, nil
	}
	enc := make([]encoded, len(items))
	for i, it := range items {
		if err := record.CheckText("question", it.Question); err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		if err := record.CheckText("solution", it.Solution); err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		enc[i] = s.encode(it)
		for _, seq := range [][]int32{enc[i].teacher, enc[i].student.IDs} {
			if len(seq) > s.Teacher.Cfg.MaxPos || len(seq) > s.Student.Cfg.MaxPos {
				return nil, &TooLongError{Item: i, Tokens: len(seq), Max: min(s.Teacher.Cfg.MaxPos, s.Student.Cfg.MaxPos)}
			}
		}
	}
	invT := float32(1 / s.Cfg.Temperature)
	full := s.Cfg.Estimator == record.FullKL
	passes := 2
	if full {
		passes = 3
	}
	forward := func(done int) {
		if s.OnForward != nil {
			s.OnForward(done, passes)
		}
	}

	// Teacher: log-probs of the explanation tokens with the solution in context.
	tSeqs := make([][]int32, len(enc))
	tWant := make([][2]int, len(enc)) // [first position, count] of scored tokens
	for i, e := range enc {
		tSeqs[i] = e.teacher
		tWant[i] = [2]int{e.tStart, len(e.expl)}
	}
	tLP, tHidden, err := s.logProbs(s.Teacher, tSeqs, [][][2]int{tWant}, invT, full)
	if err != nil {
		return nil, fmt.Errorf("teacher: %w", err)
	}
	forward(1)

	// Student: explanation tokens (before the solution) and solution tokens.
	sSeqs := make([][]int32, len(enc))
	sExpl := make([][2]int, len(enc))
	sSol := make([][2]int, len(enc))
	for i, e := range enc {
		sSeqs[i] = e.student.IDs
		sExpl[i] = [2]int{e.student.ExplStart, len(e.expl)}
		sSol[i] = [2]int{e.student.SolStart, len(e.sol)}
	}
	sLP, sHidden, err := s.logProbs(s.Student, sSeqs, [][][2]int{sExpl, sSol}, invT, full)
	if err != nil {
		return nil, fmt.Errorf("student: %w", err)
	}
	forward(2)

	var kl []float32
	if full {
		if kl, err = s.fullKL(tHidden, sHidden, enc, invT); err != nil {
			return nil, fmt.Errorf("full KL: %w", err)
		}
		forward(3)
	}

	out := make([]record.Scored, len(items))
	ti, si, ki := 0, 0, 0
	for i, e := range enc {
		sc := &out[i]
		sc.Ended = items[i].Ended
		nt, ns := len(e.expl), len(e.sol)
		sc.ExplanationIDs, sc.SolutionIDs = e.expl, e.sol
		sc.ExplanationTokens, sc.SolutionTokens = s.tokens(e.expl), s.tokens(e.sol)
		sc.TeacherLP = tLP[ti : ti+nt : ti+nt]
		sc.StudentLP = sLP[si : si+nt : si+nt]
		ti += nt
		si += nt
		sc.D = make([]float32, nt)
		for k := range sc.D {
			if full {
				sc.D[k] = kl[ki+k]
			} else {
				sc.D[k] = s.Cfg.TokenScore(sc.TeacherLP[k], sc.StudentLP[k])
			}
		}
		ki += nt
		sc.SolutionLP = sLP[si : si+ns : si+ns]
		si += ns
		sc.Terms = s.Cfg.Reduce(sc.SolutionLP, sc.D, sc.StudentLP, sc.Ended)
	}
	return out, nil
}

// TooLongError is an item whose prompt and explanation do not fit the
// models' positions.
type TooLongError struct {
	Item        int // index in the batch; -1 when scored alone (ScoreEach)
	Tokens, Max int
}

func (e *TooLongError) Error() string {
	msg := fmt.Sprintf("%d tokens do not fit the models' %d positions: shorten the explanation, or score with the shorter system prompts the traces were made with (--run DIR takes the run's; else --teacher-system and --student-system)", e.Tokens, e.Max)
	if e.Item >= 0 {
		return fmt.Sprintf("item %d: %s", e.Item, msg)
	}
	return msg
}

// ScoreEach scores items as one batch and, when the batch fails, one by
// one, so that only the items that cannot be scored fail: errs[i] is item
// i's error (nil when out[i] holds its score).
func (s *Scorer) ScoreEach(items []Item) (out []record.Scored, errs []error) {
	errs = make([]error, len(items))
	out, err := s.Score(items)
	if err == nil {
		return out, errs
	}
	out = make([]record.Scored, len(items))
	for i := range items {
		one, err := s.Score(items[i : i+1])
		if err != nil {
			// The caller knows item i by its own position (a line …).
			if tl := (*TooLongError)(nil); errors.As(err, &tl) {
				tl.Item = -1
			}
			errs[i] = err
			continue
		}
		out[i] = one[0]
	}
	return out, errs
}

func (s *Scorer) tokens(ids []int32) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = s.Tok.TokenString(id)
	}
	return out
}

// logProbs runs m over right-padded seqs and returns the log-probs of the
// tokens in each span group, in order: for sequence b, each group's span
// [start, start+count) in turn, sequence by sequence. With keepHidden it
// also returns a copy of the final hidden rows [rows, d] that predict those
// tokens, in the same order: the LM head is fused with the log-softmax, so
// no logits outlive a chunk of rows, and fullKL computes them again.
func (s *Scorer) logProbs(m *model.Model, seqs [][]int32, groups [][][2]int, invT float32, keepHidden bool) ([]float32, *compute.Tensor, error) {
	lens := make([]int, len(seqs))
	for i, q := range seqs {
		lens[i] = len(q)
	}
	parts, err := model.MicroBatches(lens, 0, s.MicroBatchTokens, "micro_batch_tokens")
	if err != nil {
		return nil, nil, err
	}
	if len(parts) == 1 {
		return s.logProbsBatch(m, seqs, groups, invT, keepHidden)
	}
	var lp, hidden []float32
	be := m.Backend()
	for _, pr := range parts {
		sub := make([][][2]int, len(groups))
		for g := range groups {
			sub[g] = groups[g][pr[0]:pr[1]]
		}
		plp, ph, err := s.logProbsBatch(m, seqs[pr[0]:pr[1]], sub, invT, keepHidden)
		if err != nil {
			return nil, nil, err
		}
		lp = append(lp, plp...)
		if ph != nil {
			n := len(hidden)
			hidden = append(hidden, make([]float32, ph.Len())...)
			be.Read(hidden[n:], ph)
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
func (s *Scorer) logProbsBatch(m *model.Model, seqs [][]int32, groups [][][2]int, invT float32, keepHidden bool) ([]float32, *compute.Tensor, error) {
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
					return nil, nil, fmt.Errorf("sequence %d: a scored token at position 0 has no context", b)
				}
				rows = append(rows, int32(b*T+pos-1))
				targets = append(targets, q[pos])
			}
		}
	}
	if len(rows) == 0 {
		return nil, nil, nil
	}
	tp := s.tape
	tp.Reset()
	h := tp.GatherRows(m.Hidden(tp, batch), rows)
	// Both distributions are over the rows the two tables share (Pair.Shared):
	// the first rows of a table padded further are used in place.
	lp := tp.HeadLogProbsRows(h, m.LMHead, s.Shared(), targets, invT)
	if err := tp.Err(); err != nil {
		return nil, nil, err
	}
	be := m.Backend()
	out := make([]float32, lp.Len())
	be.Read(out, lp)
	var hk *compute.Tensor
	if keepHidden {
		hk = be.New("scorer.hidden", h.Shape()...)
		be.Copy(hk, h)
	}
	return out, hk, nil
}

// fullKL computes KL(teacher ‖ student) over the shared vocabulary at each
// explanation position, from the final hidden rows through both LM heads a
// chunk of rows at a time. Teacher rows are the explanations, item after
// item; the student's rows hold each item's explanation rows followed by its
// solution rows.
func (s *Scorer) fullKL(tHidden, sHidden *compute.Tensor, enc []encoded, invT float32) ([]float32, error) {
	if tHidden == nil {
		return nil, nil // no explanation tokens anywhere
	}
	var expl []int32
	r := 0
	for _, e := range enc {
		for k := range e.expl {
			expl = append(expl, int32(r+k))
		}
		r += len(e.expl) + len(e.sol)
	}
	be := s.Teacher.Backend()
	sExpl := be.New("scorer.student_explanation", len(expl), s.Student.Cfg.Hidden)
	be.GatherRows(sExpl, sHidden, expl)
	tp := s.tape
	tp.Reset()
	kl := tp.HeadKL(tHidden, s.Teacher.LMHead, sExpl, s.Student.LMHead, s.Shared(), invT)
	if err := tp.Err(); err != nil {
		return nil, err
	}
	out := make([]float32, kl.Len())
	be.Read(out, kl)
	return out, nil
}
