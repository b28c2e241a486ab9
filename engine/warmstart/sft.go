// Package warmstart teaches a teacher and a student their formats before
// RL (RLT.md §4, "Warm-up"): supervised fine-tuning with the loss on the
// tokens that model must learn to write, and the recipe that builds the
// embedded default models from a seed.
package warmstart

import (
	"fmt"
	"slices"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/runconfig"
)

// Sequence is one SFT example: the loss covers Tokens[LossFrom:], each
// predicted from the tokens before it.
type Sequence struct {
	Tokens   []int32
	LossFrom int
}

// TeacherSequence is the teacher's format: its prompt with the pre-filled
// solution, as the teacher samples after it, then the explanation body, the
// end tag and the end of turn. The loss starts right after the explanation's
// opening tag (RLT.md §4), so it covers the prefill's lead "\n\n" too: the
// reward scores the lead as the first tokens of T (RLT.md §2), and neither
// GRPO (the lead is prefilled, never sampled) nor anything else teaches it
// to the teacher. A teacher that never learned it gave the lead's two
// tokens log-probs of about −11 and −14 where the student gives them 0:
// their d_k shifted r_KL by −1.4 on average, by −5.5 under 30 tokens, a
// reward for short explanations.
func TeacherSequence(tok rlt.Encoder, p record.Prompts, question, solution, body string) Sequence {
	prompt := tok.Encode(p.TeacherPrompt(question, solution))
	rest := tok.Encode(body + record.EndExplanation + record.ImEnd)
	return Sequence{Tokens: append(prompt, rest...), LossFrom: leadStart(tok, p.TeacherHead(question, solution), prompt)}
}

// leadStart is the index in prompt, the encoded teacher prompt (head, the
// context through the explanation's opening tag, then the lead), of the
// first token that holds a byte after the head. Where the tags are plain
// text a BPE merges the tag's end with the lead (Qwen's ">\n"), and that
// token is where the loss starts: the tokens of T (rlt.ItemLayout: those
// wholly within the lead and body) all follow it. Where the tokens cannot
// be placed in the text (an added token that takes the spaces beside it),
// it is the first token where the prompt's encoding departs from the
// head's own: at or before the lead, whose tokens (rlt.ItemLayout then
// encodes each part alone) all follow it.
func leadStart(tok rlt.Encoder, head string, prompt []int32) int {
	head = tok.Normalize(head)
	ids, ends, ok := tok.EncodeOffsets(head + record.ExplanationLead)
	if ok && slices.Equal(ids, prompt) {
		k := 0
		for k < len(ends) && ends[k] <= len(head) {
			k++
		}
		return k
	}
	own := tok.Encode(head)
	k := 0
	for k < len(own) && k < len(prompt) && own[k] == prompt[k] {
		k++
	}
	return k
}

// StudentSequence is the student's layout (a Bespoke-Stratos row): the loss
// covers the whole assistant turn, thought and solution.
// The tokens are the student's context as the reward lays it out
// (rlt.StudentLayout), so the student learns the sequences it is scored on.
func StudentSequence(tok rlt.Encoder, p record.Prompts, question, body, solution string) Sequence {
	s := rlt.StudentLayout(tok, p, question, body, solution)
	return Sequence{Tokens: s.IDs, LossFrom: s.Reply}
}

// SFT trains a model on sequences with AdamW, gradient clipping and a
// learning-rate schedule.
type SFT struct {
	Model       *model.Model
	Schedule    compute.Schedule
	MaxGradNorm float64
	// MicroBatchTokens bounds the padded positions of one forward/backward
	// (model.MicroBatches): a batch runs as micro-batches whose gradients
	// add up to the batch's. 0 = the whole batch at once.
	MicroBatchTokens int
	// Checkpoint decides per micro-batch whether the model's layers are
	// checkpointed (runconfig.CheckpointMode.On, GRPO's rule).
	Checkpoint runconfig.CheckpointMode

	opt  *compute.AdamW
	tape *compute.Tape
	step int
}

// NewSFT prepares m for training (AdamW 0.9/0.999, eps 1e-8, weight decay wd).
func NewSFT(m *model.Model, sched compute.Schedule, maxGradNorm, wd float64) (*SFT, error) {
	if err := m.RequireGrad(); err != nil {
		return nil, fmt.Errorf("sft: %w", err)
	}
	opt, err := compute.NewAdamW(m.Backend(), m.Tensors(), sched.LR(0), 0.9, 0.999, 1e-8, wd)
	if err != nil {
		return nil, err
	}
	return &SFT{Model: m, Schedule: sched, MaxGradNorm: maxGradNorm, opt: opt, tape: compute.NewTape(m.Backend()),
		MicroBatchTokens: runconfig.DefaultMicroBatchTokens, Checkpoint: runconfig.CheckpointAuto}, nil
}

// Steps is the number of updates applied.
func (s *SFT) Steps() int { return s.step }

// Step applies one update on a batch and returns the mean loss per learned
// token and the gradient norm before clipping.
func (s *SFT) Step(batch []Sequence) (loss, gradNorm float64, err error) {
	lens := make([]int, len(batch))
	for i, q := range batch {
		lens[i] = len(q.Tokens)
	}
	parts, err := model.MicroBatches(lens, 0, s.MicroBatchTokens, "micro_batch_tokens")
	if err != nil {
		return 0, 0, fmt.Errorf("sft: %w", err)
	}
	type packed struct {
		b       *model.Batch
		targets []int32
	}
	packs := make([]packed, len(parts))
	n := 0
	for i, pr := range parts {
		b, targets, k, err := pack(s.Model, batch[pr[0]:pr[1]], pr[0])
		if err != nil {
			return 0, 0, err
		}
		packs[i] = packed{b, targets}
		n += k
	}
	if n == 0 {
		return 0, 0, fmt.Errorf("sft: the batch has no token to learn")
	}
	be := s.Model.Backend()
	params := s.Model.Tensors()
	compute.ZeroGrad(be, params)
	defer func(was bool) { s.Model.CheckpointLayers = was }(s.Model.CheckpointLayers)
	for _, pk := range packs {
		b, targets := pk.b, pk.targets
		s.Model.CheckpointLayers = s.Checkpoint.On(s.Model.Cfg.ActivationBytes(b.B * b.T))
		s.tape.Reset()
		lp := s.Model.TokenLogProbs(s.tape, b, targets, 1)
		if err := s.tape.Err(); err != nil {
			return 0, 0, err
		}
		vals := make([]float32, lp.Len())
		be.Read(vals, lp)
		seed := make([]float32, len(vals))
		for i, t := range targets {
			if t >= 0 {
				loss -= float64(vals[i])
				seed[i] = -1 / float32(n)
			}
		}
		if err := s.tape.Backward(lp, seed); err != nil {
			return 0, 0, err
		}
	}
	loss /= float64(n)
	gradNorm, err = compute.ClipGradNorm(be, params, s.MaxGradNorm)
	if err != nil {
		return loss, gradNorm, fmt.Errorf("sft step %d: %w", s.step, err)
	}
	s.opt.Step(s.Schedule.LR(s.step))
	s.step++
	return loss, gradNorm, nil
}

// Loss is the mean loss per learned token of a batch, without training.
func Loss(m *model.Model, batch []Sequence) (float64, error) {
	b, targets, n, err := pack(m, batch, 0)
	if err != nil {
		return 0, err
	}
	tp := compute.NewTape(m.Backend())
	tp.SetRecording(false)
	lp := m.TokenLogProbs(tp, b, targets, 1)
	if err := tp.Err(); err != nil {
		return 0, err
	}
	vals := make([]float32, lp.Len())
	m.Backend().Read(vals, lp)
	var loss float64
	for i, t := range targets {
		if t >= 0 {
			loss -= float64(vals[i])
		}
	}
	return loss / float64(max(n, 1)), nil
}

// pack right-pads a batch for m, the sequences first to first+len(batch)
// of the caller's (as its errors name them); targets[p] is the token at
// p+1 where it is learned, −1 elsewhere.
func pack(m *model.Model, batch []Sequence, first int) (*model.Batch, []int32, int, error) {
	T := 0
	for k, s := range batch {
		i := first + k
		if most := m.Cfg.MaxPos; len(s.Tokens) > most {
			return nil, nil, 0, fmt.Errorf("sft: %w", &model.PositionsError{Model: model.Name("model", m.Dir()), What: fmt.Sprintf("sequence %d", i),
				Tokens: len(s.Tokens), Positions: most, Do: fmt.Sprintf("leave it out, or shorten its text to at most %d tokens", most)})
		}
		if s.LossFrom < 1 || s.LossFrom > len(s.Tokens) {
			return nil, nil, 0, fmt.Errorf("sft: sequence %d learns from token %d of %d", i, s.LossFrom, len(s.Tokens))
		}
		T = max(T, len(s.Tokens))
	}
	b := &model.Batch{B: len(batch), T: T, Tokens: make([]int32, len(batch)*T)}
	targets := make([]int32, len(batch)*T)
	n := 0
	for i, s := range batch {
		copy(b.Tokens[i*T:], s.Tokens)
		for p := 0; p < T; p++ {
			targets[i*T+p] = -1
			if p+1 >= s.LossFrom && p+1 < len(s.Tokens) {
				targets[i*T+p] = s.Tokens[p+1]
				n++
			}
		}
	}
	return b, targets, n, nil
}
