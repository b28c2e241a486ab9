package rlt

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/memory"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/engine/sample"
)

// FrozenPrecision is the precision in which the models a run does not
// train (the student and the reference) hold their matrices, as
// c.FrozenWeights names it (runconfig.GRPO.Validate checks it).
func FrozenPrecision(c runconfig.GRPO) model.Precision {
	if c.FrozenWeights == runconfig.FrozenFloat32 {
		return model.Float32
	}
	return model.Frozen16
}

// Example is a question with its reference solution.
type Example struct {
	Question, Solution string
}

// Questions yields each step's questions; it must be deterministic in step
// so that a resumed run sees the same data.
type Questions interface {
	Batch(step, n int) []Example
}

// TextTokenizer is what training needs of the tokenizer.
type TextTokenizer interface {
	Tokenizer
	Decode(ids []int32) string
	ID(token string) (int32, bool)
}

// Trainer runs GRPO on a pair's teacher against its frozen student.
type Trainer struct {
	*Pair
	Cfg  runconfig.GRPO
	Ref  *model.Model // the reference, softly synced
	Data Questions
	Sink event.Sink

	scorer    *Scorer
	gen       *sample.Generator
	studGen   *sample.Generator
	opt       *compute.AdamW
	tape, ref *compute.Tape
	step      int
	meter     event.Meter
	// updated is set from the step's first optimiser update until the
	// step is counted (step++): a step that fails in between (its
	// reference's sync, its reconstruction, a later epoch) leaves the
	// weights and moments partly its own, which a checkpoint must not
	// save under the previous step's name (Torn).
	updated bool
}

// NewTrainer makes the reference copy of the pair's teacher and the
// optimiser.
func NewTrainer(cfg runconfig.GRPO, reward record.RewardConfig, pair *Pair, data Questions, sink event.Sink) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if reward.Temperature != cfg.Temperature {
		return nil, fmt.Errorf("grpo: the reward's temperature %g differs from sampling's %g; RLT scores on the sampling temperature", reward.Temperature, cfg.Temperature)
	}
	if len(pair.StopIDs()) == 0 {
		return nil, fmt.Errorf("grpo: the tokenizer has neither %s nor %s: completions could not end", record.ImEnd, record.EndOfText)
	}
	teacher := pair.Teacher
	be := teacher.Backend()
	// One no-grad tape for the scorer, the student's reconstructions and
	// the reference's log-probs: they run one after another, so one arena
	// holds the largest of them instead of each its own (the embedded
	// default's step held ~60 MB more per extra arena).
	refTape := compute.NewTape(be)
	refTape.SetRecording(false)
	scorer, err := newScorerOn(pair, reward, refTape)
	if err != nil {
		return nil, err
	}
	scorer.MicroBatchTokens = cfg.MicroBatchTokens
	// A run's user changes its configuration, not rlt score's flags.
	scorer.TooLong = func(who string) string {
		return fmt.Sprintf("lower grpo.max_new_tokens, or give a shorter prompts.%s_system", who)
	}
	// The reference is never trained: in 16 bits when the teacher's
	// checkpoint is (it starts as exactly the teacher, whose values are
	// 16-bit ones, and rounds when it follows the policy).
	refType := compute.F32
	if FrozenPrecision(cfg) == model.Frozen16 && teacher.Stored().Is16() {
		refType = teacher.Stored()
	}
	ref, err := model.NewAs(be, teacher.Cfg, refType)
	if err != nil {
		return nil, err
	}
	if err := ref.CopyFrom(teacher); err != nil {
		return nil, err
	}
	if err := teacher.RequireGrad(); err != nil {
		return nil, fmt.Errorf("grpo: the teacher is trained: %w", err)
	}
	opt, err := compute.NewAdamW(be, teacher.Tensors(), cfg.LR, cfg.AdamBeta1, cfg.AdamBeta2, cfg.AdamEps, cfg.WeightDecay)
	if err != nil {
		return nil, err
	}
	if sink == nil {
		sink = event.Discard{}
	}
	return &Trainer{Pair: pair, Cfg: cfg, Ref: ref, Data: data, Sink: sink,
		scorer: scorer, gen: sample.NewGenerator(teacher), studGen: sample.NewGenerator(pair.Student), opt: opt,
		tape: compute.NewTape(be), ref: refTape}, nil
}

// StepIndex is the number of steps done.
func (t *Trainer) StepIndex() int { return t.step }

// SetStepIndex restores the step count when resuming from a checkpoint (the
// questions and sampling seeds of a step are functions of its index).
func (t *Trainer) SetStepIndex(n int) { t.step = n }

// Optimizer exposes the optimiser (for checkpoints).
func (t *Trainer) Optimizer() *compute.AdamW { return t.opt }

// Torn is a *TornError where a step failed after its optimiser update
// had changed the teacher and its moments: they are then neither the
// last counted step's (StepIndex()-1) nor the failed step's, and no
// checkpoint may be made of them (run.Engine's Snapshot refuses). nil
// where the state is a counted step's.
func (t *Trainer) Torn() error {
	if !t.updated {
		return nil
	}
	return &TornError{Step: t.step}
}

// TornError is a trainer whose step Step failed after its optimiser
// update (Trainer.Torn). Saved, its weights were step Step-1's
// checkpoint in name only: a resume from it ran step Step on weights
// that had taken part of it already.
type TornError struct{ Step int }

func (e *TornError) Error() string {
	return fmt.Sprintf("step %d failed after its optimiser update had changed the teacher: its weights are neither step %d's nor step %d's, so no checkpoint is made of them", e.Step, e.Step-1, e.Step)
}

// StepResult is what one step produced.
type StepResult struct {
	Step    int
	Metrics map[string]float64
	Traces  []event.Trace
}

// phase announces a phase of the step and starts its progress: total
// units of unit (event.Progress, throttled by an event.Meter).
func (t *Trainer) phase(name string, total int, unit string) {
	t.meter.Finish()
	t.Sink.Emit(event.Phase{Time: time.Now(), Name: name, Step: t.step})
	t.meter = event.Meter{Sink: t.Sink}
	t.meter.Start(t.step, name, total, unit)
}

// Step runs one GRPO step: sample P×G explanations, score them, and apply
// one policy update per epoch. ctx is checked between phases.
func (t *Trainer) Step(ctx context.Context) (*StepResult, error) {
	cfg := t.Cfg
	start := time.Now()
	examples := t.Data.Batch(t.step, cfg.Questions)
	if len(examples) != cfg.Questions {
		return nil, fmt.Errorf("step %d: the data gave %d questions, want %d", t.step, len(examples), cfg.Questions)
	}
	for i, ex := range examples {
		if err := record.CheckText("question", ex.Question); err != nil {
			return nil, fmt.Errorf("step %d, question %d: %w", t.step, i, err)
		}
		if err := record.CheckText("solution", ex.Solution); err != nil {
			return nil, fmt.Errorf("step %d, question %d: %w", t.step, i, err)
		}
	}

	// The teacher writes what the scorer and the policy loss take whole
	// (Pair.Explain): a run's checks refuse a max_new_tokens past the room
	// its prompts leave, by the same rule (engine/run). The progress counts
	// to the budget it writes within, which that room may cap below
	// max_new_tokens: a total it never reaches would show every step's
	// sampling stopping short.
	var gens []Explanation
	budget, err := t.ExplainBudget(examples, cfg.MaxNewTokens)
	if err == nil {
		t.phase("sampling", budget.Tokens(), "tokens")
		gens, err = t.Explain(t.gen, t.tape, budget, cfg.Samples, ExplainOptions{Temperature: cfg.Temperature, TopP: cfg.TopP,
			Seed: cfg.Seed*1_000_003 + uint64(t.step), OnToken: t.meter.Set})
	}
	if re := (*RoomError)(nil); errors.As(err, &re) {
		re.BudgetName, re.Shorten = "grpo.max_new_tokens", "prompts."+re.Who+"_system"
	}
	if err != nil {
		return nil, fmt.Errorf("step %d: sampling: %w", t.step, err)
	}
	tSample := time.Since(start)
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	passes := 2
	if t.scorer.Cfg.Estimator == record.FullKL {
		passes = 3
	}
	t.phase("scoring", passes, "forwards")
	t.scorer.OnForward = func(done, _ int) { t.meter.Set(done) }
	t0 := time.Now()
	// Each explanation is scored as Pair.Explain laid it out to fit the
	// models, its texts encoded once a step.
	items, layouts := make([]Item, len(gens)), make([]Layout, len(gens))
	for i, g := range gens {
		items[i], layouts[i] = g.Item(), g.layout
	}
	scores, partByPart, err := t.scorer.scoreLayouts(ctx, items, layouts)
	if err != nil {
		return nil, fmt.Errorf("step %d: scoring: %w", t.step, err)
	}
	if err := finiteRewards(scores, cfg.Samples, t.scorer.Cfg); err != nil {
		return nil, fmt.Errorf("step %d: %w", t.step, err)
	}
	rewards := make([]float64, len(scores))
	for i, s := range scores {
		rewards[i] = s.Reward
	}
	adv, err := Advantages(rewards, cfg.Samples)
	if err != nil {
		return nil, fmt.Errorf("step %d: %w", t.step, err)
	}
	tScore := time.Since(t0)
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	// Each epoch is a "backward" phase over PolicyGradient's micro-batches
	// (the policy's forward and backward, with the reference's forward),
	// then an "optimiser" phase (clipping and AdamW): at 0.5B the update
	// alone takes seconds, and a researcher watching the header should see
	// which of the two a long step is in.
	lens := make([]int, len(gens))
	for i, g := range gens {
		lens[i] = len(g.Prompt) + len(g.IDs)
	}
	parts, _ := model.MicroBatches(lens, cfg.MicroBatch, cfg.MicroBatchTokens, "micro_batch_tokens") // PolicyGradient reports an error
	t0 = time.Now()
	rolls := make([]Rollout, len(gens))
	for i, g := range gens {
		rolls[i] = Rollout{Prompt: g.Prompt, Completion: g.IDs, Advantage: adv[i], OldLP: g.LogProbs}
	}
	pc := PolicyConfig{Beta: cfg.Beta, Temperature: cfg.Temperature, ClipEps: cfg.ClipEps, MicroBatch: cfg.MicroBatch, MicroBatchTokens: cfg.MicroBatchTokens, Checkpoint: cfg.CheckpointLayers}
	var ps PolicyStats
	var gradNorm float64
	params := t.Teacher.Tensors()
	pc.OnMicroBatch = func(done, _ int) { t.meter.Set(done) }
	for range cfg.Epochs {
		t.phase("backward", max(1, len(parts)), "micro-batches")
		compute.ZeroGrad(t.Teacher.Backend(), params)
		ps, err = PolicyGradient(t.tape, t.ref, t.Teacher, t.Ref, rolls, pc)
		if err != nil {
			return nil, fmt.Errorf("step %d: policy loss: %w", t.step, err)
		}
		t.phase("optimiser", 1, "updates")
		gradNorm, err = compute.ClipGradNorm(t.Teacher.Backend(), params, cfg.MaxGradNorm)
		if err != nil {
			return nil, fmt.Errorf("step %d: %w", t.step, err)
		}
		t.updated = true
		t.opt.Step(cfg.LR)
		t.meter.Set(1)
	}
	synced := 0.0
	if cfg.RefSyncEvery > 0 && (t.step+1)%cfg.RefSyncEvery == 0 {
		if err := compute.MixInto(t.Teacher.Backend(), t.Ref.Tensors(), params, float32(cfg.RefSyncAlpha)); err != nil {
			return nil, fmt.Errorf("step %d: syncing the reference: %w", t.step, err)
		}
		synced = 1
	}
	tOptim := time.Since(t0)

	var recon []string
	if cfg.Reconstruct {
		t.phase("reconstructing", 1, "passes")
		recon, err = t.reconstruct(examples, items)
		if err != nil {
			return nil, fmt.Errorf("step %d: reconstruction: %w", t.step, err)
		}
		t.meter.Set(1)
	}

	res := &StepResult{Step: t.step}
	res.Metrics = stepMetrics(scores, rewards, cfg.Samples, ps, gradNorm, cfg.LR)
	elapsed := time.Since(start)
	res.Metrics["ref_synced"] = synced
	// How the step's texts were tokenized (Layout): 0 where each was
	// encoded whole, as the model reads it; above 0 where the tokenizer
	// could not place its tokens in a whole text, and those were encoded
	// part by part. A reader of the run folder sees it in metrics.jsonl.
	res.Metrics["layout_part_by_part_share"] = float64(partByPart) / float64(len(items))
	res.Metrics["time_sample_s"] = tSample.Seconds()
	res.Metrics["time_score_s"] = tScore.Seconds()
	res.Metrics["time_optimise_s"] = tOptim.Seconds()
	res.Metrics["step_time_s"] = elapsed.Seconds()
	res.Metrics["sampled_tokens_per_s"] = float64(ps.Tokens) / tSample.Seconds()
	memoryMetrics(res.Metrics, t.Teacher.Backend())
	now := time.Now()
	for i := range gens {
		tr := event.Trace{Time: now, Step: t.step, Group: i / cfg.Samples, Sample: i % cfg.Samples,
			Question: items[i].Question, Solution: items[i].Solution, Completion: gens[i].Text, Advantage: adv[i], Score: &scores[i]}
		if recon != nil {
			tr.Reconstruction = recon[i]
		}
		res.Traces = append(res.Traces, tr)
	}
	t.meter.Finish()
	t.Sink.Emit(event.Metrics{Time: now, Step: t.step, Values: res.Metrics})
	for _, tr := range res.Traces {
		t.Sink.Emit(tr)
	}
	t.step++
	t.updated = false
	return res, nil
}

// reconstruct asks the student for its greedy solution given the question
// and each explanation, items those of the step's examples, at most
// memory.ReconstructMargin tokens past the longest of their solutions
// (each encoded once, not once a sample): the budget memory's estimate
// counts the reconstruction's cache at.
func (t *Trainer) reconstruct(examples []Example, items []Item) ([]string, error) {
	longest := 0
	for _, ex := range examples {
		longest = max(longest, len(t.Tok.Encode(ex.Solution)))
	}
	return t.Reconstruct(t.studGen, t.ref, items, longest+memory.ReconstructMargin)
}

// stepMetrics names the step's numbers as the official trainer logs them
// (RLT.md §7), plus the format-penalty rate.
// memoryMetrics adds what a step held in memory, in GiB: the process's
// resident memory at the step's end and the most so far, and on a device
// with memory of its own (a GPU) the most of it held during the step.
func memoryMetrics(m map[string]float64, be compute.Backend) {
	const gib = 1 << 30
	if rss, peak, ok := memory.Process(); ok {
		m["memory_host_gib"] = float64(rss) / gib
		m["memory_host_peak_gib"] = float64(peak) / gib
	}
	if mm, ok := be.(compute.MemoryMeter); ok {
		_, peak := mm.MemoryUse()
		m["memory_device_peak_gib"] = float64(peak) / gib
	}
}

// Measured reports whether a step metric measures the machine (wall-clock
// time, memory) rather than the run: runs that agree bit for bit differ
// in these.
func Measured(name string) bool {
	return strings.HasSuffix(name, "_s") || strings.HasPrefix(name, "memory_")
}

func stepMetrics(scores []record.Scored, rewards []float64, g int, ps PolicyStats, gradNorm, lr float64) map[string]float64 {
	n := float64(len(scores))
	m := map[string]float64{}
	var groupStd, zeroVar float64
	for s := 0; s < len(rewards); s += g {
		grp := rewards[s : s+g]
		mean := 0.0
		for _, r := range grp {
			mean += r
		}
		mean /= float64(g)
		ss := 0.0
		for _, r := range grp {
			ss += (r - mean) * (r - mean)
		}
		groupStd += math.Sqrt(ss / float64(g-1))
		if ss == 0 {
			zeroVar++ // equal rewards: zero advantages, no gradient from this group
		}
	}
	m["reward_std"] = groupStd / (n / float64(g))
	// The share of groups whose rewards are all equal: their advantages
	// are zero, so they contribute nothing to the policy gradient.
	m["zero_variance_share"] = zeroVar / (n / float64(g))
	add := func(k string, v float64) { m[k] += v / n }
	for _, s := range scores {
		add("reward", s.Reward)
		add("answer_log_prob_mean", s.SolutionMean)
		add("answer_log_prob_min", s.SolutionMin)
		add("reasoning_kl_mean", s.KLMean)
		add("reasoning_kl_max", s.KLMax)
		add(record.StepRSS.Metric, record.StepRSS.Recorded(s.RSS))
		add(record.StepRKL.Metric, record.StepRKL.Recorded(s.RKL))
		add("match_reward", s.Penalty)
		add("total_teacher_likelihood_reward", s.Reward)
		add("no_entropy_reasoning_kl_mean", s.NoEntKLMean)
		add("no_entropy_reasoning_kl_max", s.NoEntKLMax)
		add("no_entropy_kl_reward", -s.NoEntRKL)
		add("no_entropy_total_teacher_likelihood_reward", s.NoEntReward)
		if !s.Ended {
			add("format_penalty_rate", 1)
		} else {
			add("format_penalty_rate", 0)
		}
		add("explanation_length", float64(len(s.ExplanationIDs)))
	}
	m["kl"] = ps.KL
	m["loss"] = ps.Loss
	m["completion_length"] = ps.MeanLength
	m["clip_fraction"] = ps.ClipFrac
	m["grad_norm"] = gradNorm
	m["learning_rate"] = lr
	return m
}
