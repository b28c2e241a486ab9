package runconfig

import (
	"errors"
	"fmt"
	"math"

	"github.com/rlt-workbench/rlt/engine/configkey"
	"github.com/rlt-workbench/rlt/engine/record"
)

// GRPO is the teacher's RL configuration (RLT.md §4), config.toml's [grpo]
// table. Defaults are the official run's, except the scale (P, G, lengths,
// learning rate), which a tiny model on a CPU needs smaller or larger.
type GRPO struct {
	Questions    int     `toml:"questions"`      // P per step (official 16)
	Samples      int     `toml:"samples"`        // G per question (official 64)
	Temperature  float64 `toml:"temperature"`    // sampling and log-prob temperature (0.7)
	TopP         float64 `toml:"top_p"`          // 1 = off
	MaxNewTokens int     `toml:"max_new_tokens"` // explanation budget per completion
	LR           float64 `toml:"lr"`             // constant (official 1e-6 for 7B)
	Beta         float64 `toml:"beta"`           // k3 KL weight (0.04)
	ClipEps      float64 `toml:"clip_eps"`       // PPO ratio clipping; 0 = none
	Epochs       int     `toml:"epochs"`         // optimiser passes per batch (1 = on-policy)
	MicroBatch   int     `toml:"micro_batch"`    // completions per forward/backward (8; the token budget below bounds big models)
	// MicroBatchTokens bounds the padded positions (rows × longest row) of
	// each forward: the policy's micro-batches, and the scorer's teacher
	// and student forwards (0 = no token limit).
	MicroBatchTokens int     `toml:"micro_batch_tokens"`
	MaxGradNorm      float64 `toml:"max_grad_norm"`  // 1.0
	RefSyncEvery     int     `toml:"ref_sync_every"` // 32
	RefSyncAlpha     float64 `toml:"ref_sync_alpha"` // 0.9: ref ← α·θ + (1−α)·ref
	AdamBeta1        float64 `toml:"adam_beta1"`
	AdamBeta2        float64 `toml:"adam_beta2"`
	AdamEps          float64 `toml:"adam_eps"`
	WeightDecay      float64 `toml:"weight_decay"`
	Seed             uint64  `toml:"seed"`
	// Reconstruct asks the student for its greedy solution after each
	// explanation, for the traces: one greedy generation of the step's
	// longest solution and 8 tokens more (memory.ReconstructMargin), whose
	// KV caches a data file's long solutions can make a step's largest part.
	Reconstruct bool `toml:"reconstruct"`
	// CheckpointLayers recomputes the teacher's layers during backward
	// instead of keeping their activations: "auto" (on when they would
	// pass CheckpointAutoBytes for a micro-batch), "on" or "off".
	CheckpointLayers CheckpointMode `toml:"checkpoint_layers"`
	// FrozenWeights is how the models that are not trained (the student and
	// the reference) hold their matrices: "checkpoint" (or empty) keeps a
	// BF16/F16 checkpoint's 16 bits (half the memory, computed in float32,
	// the same numbers as a float32 load; the reference rounds to 16 bits
	// when it follows the policy), "float32" widens them (engine/rlt's
	// FrozenPrecision says which model precision each is).
	FrozenWeights string `toml:"frozen_weights"`
}

// The values of GRPO.FrozenWeights.
const (
	FrozenCheckpoint = "checkpoint"
	FrozenFloat32    = "float32"
)

// MaxSequences is the most sequences (grpo.questions × grpo.samples) one
// step may sample: a thousand times the official run's 1024, far past what
// any memory holds at once, and small enough that the memory estimate's
// products of sequences, positions and bytes stay within int64 (it said
// 1 sequence for 2^63-1 × 2^63-1).
const MaxSequences = 1 << 20

// MaxEpochs is the most grpo.epochs taken: optimiser passes over one
// step's batch. Each pass is a whole backward and an update, so a step
// takes that many times as long, and a stop signal waits for the step in
// progress: epochs = 2^63-1 (with clip_eps > 0) was taken and made step 0
// a loop that never ended (measured: ten minutes of passes, SIGTERM said
// "stopping after the step in progress" and nothing stopped). A hundred is
// far past what reuses a batch with sense: the default, on-policy, is 1,
// and PPO's published runs take 3 to 15.
const MaxEpochs = 100

// DefaultMicroBatchTokens is the token budget of a micro-batch where a
// configuration sets none (grpo.micro_batch_tokens's default, and that of
// scoring, serving, SFT and distillation): a right-padded micro-batch holds
// at most this many positions (rows × its longest row). At Qwen2.5-0.5B's
// shape with checkpointed layers that is about 1 GB of saved activations;
// the embedded default's batches (32 rollouts of at most ~200 tokens) fit
// whole.
const DefaultMicroBatchTokens = 8192

// RateTrains reports whether lr, a learning rate, is one the optimiser
// trains with: a number float32, which it computes in (compute.AdamWStep),
// holds above 0, from its smallest, math.SmallestNonzeroFloat32
// (1.401298464324817e-45), to its largest, math.MaxFloat32, both taken.
// grpo.lr's rule, and rlt pretrain's and rlt distill's --lr's. The bound is
// float32's own least, not what rounds to it: the words said 1.4e-45 while
// anything above half of it (1e-45, 8e-46) was taken, a rule no user could
// read off them; RateWanted prints these very constants.
func RateTrains(lr float64) bool {
	return lr >= math.SmallestNonzeroFloat32 && lr <= math.MaxFloat32
}

// RateWanted says what RateTrains takes, for a flag's refusal: its two
// bounds in full, so that the words and the check cannot disagree.
var RateWanted = fmt.Sprintf("want a finite number above 0 that float32, the optimiser's numbers, holds (%g, its smallest, to %g, its largest)",
	float64(math.SmallestNonzeroFloat32), float64(math.MaxFloat32))

// defaultOf is DefaultGRPO's value of the float key (lr, adam_eps or
// weight_decay), for a problem's way on.
func defaultOf(key string) float64 {
	d := DefaultGRPO()
	return map[string]float64{"lr": d.LR, "adam_eps": d.AdamEps, "weight_decay": d.WeightDecay}[key]
}

// DefaultGRPO is the official run's method with a CPU-sized batch.
func DefaultGRPO() GRPO {
	return GRPO{
		Questions: 8, Samples: 8, Temperature: 0.7, TopP: 1, MaxNewTokens: 96, LR: 1e-4,
		Beta: 0.04, Epochs: 1, MicroBatch: 8, MicroBatchTokens: DefaultMicroBatchTokens, MaxGradNorm: 1, RefSyncEvery: 32, RefSyncAlpha: 0.9,
		AdamBeta1: 0.9, AdamBeta2: 0.999, AdamEps: 1e-8, Seed: 1, Reconstruct: true,
		CheckpointLayers: CheckpointAuto,
		FrozenWeights:    FrozenCheckpoint,
	}
}

// Validate says what is wrong with a configuration: every problem, joined
// (errors.Join), each a *configkey.Error with its key below [grpo], so that
// an editor can show them all at once, each under its line.
func (c GRPO) Validate() error {
	var errs []error
	bad := func(key, format string, a ...any) { errs = append(errs, configkey.Errorf("grpo."+key, format, a...)) }
	for _, f := range []struct {
		key string
		v   float64
	}{{"lr", c.LR}, {"beta", c.Beta}, {"clip_eps", c.ClipEps}, {"max_grad_norm", c.MaxGradNorm},
		{"adam_eps", c.AdamEps}, {"weight_decay", c.WeightDecay}} {
		if !(f.v >= 0) || math.IsInf(f.v, 1) {
			bad(f.key, "%s %g must be a finite number, not negative", f.key, f.v)
		}
	}
	// The optimiser computes in float32 (compute.AdamWStep): a rate, eps or
	// decay past float32's largest is +Inf there, and every update with
	// it too, though it is finite here (lr = 1e300 was taken); a rate
	// that rounds to 0 there (lr = 0, 1e-50) never changes a weight.
	// Only what cannot train is refused: a rate of 1 or 1e30 trains, and
	// a step whose gradient it makes non-finite says so, with the way on.
	for _, f := range []struct {
		key string
		v   float64
	}{{"lr", c.LR}, {"adam_eps", c.AdamEps}, {"weight_decay", c.WeightDecay}} {
		if f.v > math.MaxFloat32 && !math.IsInf(f.v, 1) {
			bad(f.key, "%s %g is past %.2g, the largest float32, which the optimiser computes in: every update would be infinite; give a smaller one (the default is %g)",
				f.key, f.v, float64(math.MaxFloat32), defaultOf(f.key))
		}
	}
	switch {
	case c.LR >= 0 && c.LR <= math.SmallestNonzeroFloat32/2: // 0 in float32
		bad("lr", "lr %g trains nothing: the optimiser computes in float32, where it is 0, so the teacher's weights never change; give a rate above 0 (the default is %g; the official run's 1e-06 for a 7B teacher)",
			c.LR, DefaultGRPO().LR)
	case c.LR > 0 && c.LR < math.SmallestNonzeroFloat32:
		// Above half of float32's least, so it rounds up to it: refused
		// all the same, as the flags' --lr is, so that one rule (at
		// least float32's least) holds everywhere and is the one said.
		bad("lr", "lr %g is below %g, the smallest number above 0 that float32, which the optimiser computes in, holds; give a rate of at least that (the default is %g; the official run's 1e-06 for a 7B teacher)",
			c.LR, float64(math.SmallestNonzeroFloat32), DefaultGRPO().LR)
	}
	for _, f := range []struct {
		key string
		v   float64
	}{{"adam_beta1", c.AdamBeta1}, {"adam_beta2", c.AdamBeta2}} {
		if !(f.v >= 0 && f.v < 1) {
			bad(f.key, "%s %g must be within [0, 1)", f.key, f.v)
		}
	}
	if c.Questions <= 0 {
		bad("questions", "questions %d must be positive", c.Questions)
	}
	switch {
	case c.Samples <= 0:
		bad("samples", "samples %d must be positive", c.Samples)
	case c.Samples < 2:
		bad("samples", "samples %d per question gives no group to compare with; use at least 2", c.Samples)
	}
	if why := record.TemperatureProblem(c.Temperature); why != "" { // sampling's and the log-probs'
		bad("temperature", "%s", why)
	} else if c.Temperature > record.MaxSampleTemperature {
		// The teacher samples at it: the sampler refused it only at the
		// first step, once the models had loaded.
		bad("temperature", "temperature %g must be at most %g, the highest the teacher samples at (the draw is all but uniform long before)", c.Temperature, float64(record.MaxSampleTemperature))
	}
	if !(c.TopP > 0 && c.TopP <= 1) { // 0: vLLM refuses it, transformers keeps one token; no "off" to guess at
		bad("top_p", "top_p %g must be within (0, 1] (1 = off; temperature shapes the rest)", c.TopP)
	}
	if c.MaxNewTokens <= 0 {
		bad("max_new_tokens", "max_new_tokens %d must be positive", c.MaxNewTokens)
	}
	if c.Questions > 0 && c.Samples > 0 && c.Questions > MaxSequences/c.Samples {
		// questions = samples = 2^63-1 multiplied to 1 sequence in the
		// memory estimate, which let the run on, and the first batch's
		// slice of 2^63-1 questions panicked (makeslice: len out of
		// range). Said on the larger of the two, the one to lower.
		key, v, other, ov := "samples", c.Samples, "questions", c.Questions
		if c.Questions > c.Samples {
			key, v, other, ov = other, ov, key, v
		}
		bad(key, "%s %d with %s %d is more sequences a step (questions × samples) than the %d one step may sample (the official run's: 16 × 64 = 1024): lower grpo.questions or grpo.samples", key, v, other, ov, MaxSequences)
	}
	switch {
	case c.Epochs <= 0:
		bad("epochs", "epochs %d must be positive", c.Epochs)
	case c.Epochs > MaxEpochs:
		bad("epochs", "epochs %d is more than the %d passes over one step's batch taken: each pass is a whole backward and optimiser update, so a step takes epochs times as long (and a stop waits for the step), on samples that grow staler each pass; give at most %d (the default, on-policy, is 1; PPO's published runs take 3 to 15)", c.Epochs, MaxEpochs, MaxEpochs)
	case c.Epochs > 1 && c.ClipEps == 0:
		// On epochs, not clip_eps: more than one pass is what asks for
		// clipping, and clip_eps = 0 is fine on its own.
		bad("epochs", "epochs %d over one batch need ratio clipping (clip_eps > 0)", c.Epochs)
	}
	if !(c.RefSyncAlpha >= 0 && c.RefSyncAlpha <= 1) {
		bad("ref_sync_alpha", "ref_sync_alpha %g must be within [0, 1]", c.RefSyncAlpha)
	}
	if c.RefSyncEvery < 0 {
		bad("ref_sync_every", "ref_sync_every %d must not be negative (0 = never)", c.RefSyncEvery)
	}
	if c.FrozenWeights != "" && c.FrozenWeights != FrozenCheckpoint && c.FrozenWeights != FrozenFloat32 {
		bad("frozen_weights", "frozen_weights %q: want %q (16-bit checkpoints stay 16-bit) or %q", c.FrozenWeights, FrozenCheckpoint, FrozenFloat32)
	}
	if c.MicroBatch < 0 {
		bad("micro_batch", "micro_batch %d must not be negative (0 = no limit)", c.MicroBatch)
	}
	switch {
	case c.MicroBatchTokens < 0:
		bad("micro_batch_tokens", "micro_batch_tokens %d must not be negative (0 = no limit)", c.MicroBatchTokens)
	case c.MicroBatchTokens > 0 && c.MaxNewTokens > 0 && c.MicroBatchTokens < c.MaxNewTokens:
		// Checked here, before a run folder exists; the exact bound (the
		// longest prompt with its completion) is known only at the step.
		// On micro_batch_tokens: the message says to raise it.
		bad("micro_batch_tokens", "micro_batch_tokens %d is less than max_new_tokens %d: a completion with its prompt can hold more tokens than one forward may; raise it (or 0 for no limit)", c.MicroBatchTokens, c.MaxNewTokens)
	}
	errs = append(errs, configkey.Wrap("grpo.checkpoint_layers", c.CheckpointLayers.Validate()))
	return errors.Join(errs...)
}
