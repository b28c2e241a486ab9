package rlt

import (
	"fmt"
	"math"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/runconfig"
)

// Advantages normalises rewards within groups of g (RLT.md §4):
// A_i = (r_i − mean) / (std + 1e−4), std with Bessel's correction.
//
// The mean is taken about the group's first reward (r_0 + Σ(r_i − r_0)/g),
// which is exact where all rewards are equal: there each r_i − r_0 is 0,
// so each advantage is exactly 0. Σr_i/g rounded (3 × 0.1 is
// 0.30000000000000004) and left each advantage of such a group at about
// ±3e-13, a group the policy loss has nothing to learn from. Elsewhere the
// two differ only in float64 rounding (the shifted sum is the more exact).
func Advantages(rewards []float64, g int) ([]float64, error) {
	if g <= 0 || len(rewards)%g != 0 {
		return nil, fmt.Errorf("advantages: %d rewards do not split into groups of %d", len(rewards), g)
	}
	adv := make([]float64, len(rewards))
	for s := 0; s < len(rewards); s += g {
		grp := rewards[s : s+g]
		var shift float64
		for _, r := range grp {
			shift += r - grp[0]
		}
		mean := grp[0] + shift/float64(g)
		var ss float64
		for _, r := range grp {
			ss += (r - mean) * (r - mean)
		}
		std := 0.0
		if g > 1 {
			std = math.Sqrt(ss / float64(g-1))
		}
		for i, r := range grp {
			adv[s+i] = (r - mean) / (std + 1e-4)
		}
	}
	return adv, nil
}

// Rollout is one completion ready for the policy loss.
type Rollout struct {
	Prompt     []int32
	Completion []int32 // up to and including the first end-of-turn
	Advantage  float64
	// OldLP are the completion's log-probs under the policy that sampled
	// it; needed only with ratio clipping over several epochs.
	OldLP []float32
}

// PolicyConfig holds the loss's settings.
type PolicyConfig struct {
	Beta        float64 // weight of the k3 KL to the reference (0.04)
	Temperature float64 // log-probs are of logits/τ (0.7)
	ClipEps     float64 // PPO ratio clipping; 0 = none (the official run)
	MicroBatch  int     // completions per forward/backward (gradient accumulation)
	// MicroBatchTokens bounds a micro-batch's padded positions (rows × its
	// longest row; model.MicroBatches); 0 = no token limit.
	MicroBatchTokens int
	// OnMicroBatch, if set, is told after each micro-batch's backward how
	// many of the pass's micro-batches are done (progress).
	OnMicroBatch func(done, total int)
	Checkpoint   runconfig.CheckpointMode // per-layer activation checkpointing of the policy
}

// PolicyStats are the loss's numbers for one pass over the rollouts.
type PolicyStats struct {
	Loss       float64 // the GRPO loss value
	KL         float64 // mean over completions of the mean k3 to the reference
	ClipFrac   float64 // fraction of tokens whose ratio was clipped
	Tokens     int
	MeanLength float64
}

// PolicyGradient accumulates the gradient of the GRPO loss (RLT.md §4)
//
//	L = mean_i (1/|o_i|) Σ_t −(ρ_t A_i − β k3_t)
//
// into policy's parameter gradients, over rollouts in micro-batches, with
// ρ_t = exp(logπ − stopgrad logπ_old) and k3 to the reference. With ClipEps
// > 0 the PPO-clipped surrogate replaces ρ_t A_i. tape is switched to
// recording; ref is read in no-grad mode through refTape. cfg.Checkpoint
// decides per micro-batch whether the policy's layers are checkpointed.
func PolicyGradient(tape, refTape *compute.Tape, policy, ref *model.Model, rolls []Rollout, cfg PolicyConfig) (PolicyStats, error) {
	var st PolicyStats
	if len(rolls) == 0 {
		return st, nil
	}
	// The config's rule, once, where 1/τ is taken: NewTrainer's
	// runconfig.GRPO.Validate covers a run's [grpo], but a caller's
	// PolicyConfig, or a Trainer.Cfg changed after NewTrainer, could reach
	// here unchecked: below 1/MaxFloat32 (0 too) invT was +Inf: a NaN
	// loss and gradient, said as the optimiser's, naming no temperature.
	if why := record.TemperatureProblem(cfg.Temperature); why != "" {
		return st, fmt.Errorf("policy loss: %s", why)
	}
	tape.SetRecording(true)
	defer func(was bool) { policy.CheckpointLayers = was }(policy.CheckpointLayers)
	invT := float32(1 / cfg.Temperature)
	n := float64(len(rolls))
	for i, r := range rolls {
		if len(r.Prompt) == 0 {
			return st, fmt.Errorf("policy loss: rollout %d has an empty prompt", i)
		}
		if cfg.ClipEps > 0 && r.OldLP != nil && len(r.OldLP) != len(r.Completion) {
			return st, fmt.Errorf("policy loss: rollout %d has %d old log-probs for %d tokens", i, len(r.OldLP), len(r.Completion))
		}
		// Said before any micro-batch adds to the gradients. The teacher
		// writes within its positions (Pair.Explain), so only a rollout
		// made otherwise is refused here.
		if n, most := len(r.Prompt)+len(r.Completion), policy.Cfg.MaxPos; n > most {
			return st, fmt.Errorf("policy loss: %w", &model.PositionsError{Model: model.Name("policy", policy.Dir()),
				What: fmt.Sprintf("rollout %d (its prompt and completion)", i), Tokens: n, Positions: most,
				Do: fmt.Sprintf("give rollouts of at most %d tokens", most)})
		}
	}
	lens := make([]int, len(rolls))
	for i, r := range rolls {
		lens[i] = len(r.Prompt) + len(r.Completion)
	}
	parts, err := model.MicroBatches(lens, cfg.MicroBatch, cfg.MicroBatchTokens, "grpo micro_batch_tokens")
	if err != nil {
		return st, fmt.Errorf("policy loss: %w", err)
	}
	for k, pr := range parts {
		part := rolls[pr[0]:pr[1]]
		batch, targets, spans := packRollouts(part)

		policy.CheckpointLayers = cfg.Checkpoint.On(policy.Cfg.ActivationBytes(batch.B * batch.T))

		refTape.Reset()
		refLPt := ref.TokenLogProbs(refTape, batch, targets, invT)
		if err := refTape.Err(); err != nil {
			return st, fmt.Errorf("reference log-probs: %w", err)
		}
		refLP := make([]float32, refLPt.Len())
		ref.Backend().Read(refLP, refLPt)

		tape.Reset()
		lpt := policy.TokenLogProbs(tape, batch, targets, invT)
		if err := tape.Err(); err != nil {
			return st, fmt.Errorf("policy log-probs: %w", err)
		}
		lp := make([]float32, lpt.Len())
		policy.Backend().Read(lp, lpt)

		seed := make([]float32, len(lp))
		for i, r := range part {
			sp := spans[i]
			if sp[1] == 0 {
				continue // an empty completion has no tokens to push on
			}
			m := float64(sp[1])
			var klSum float64
			for t := 0; t < sp[1]; t++ {
				row := sp[0] + t
				x := float64(refLP[row]) - float64(lp[row]) // logπ_ref − logπ
				k3 := math.Exp(x) - x - 1
				klSum += k3
				// d/dlogπ of −(surrogate) + β·k3
				g := cfg.Beta * (1 - math.Exp(x))
				ratio := 1.0
				if cfg.ClipEps > 0 && r.OldLP != nil {
					ratio = math.Exp(float64(lp[row]) - float64(r.OldLP[t]))
				}
				clipped := cfg.ClipEps > 0 && ((r.Advantage > 0 && ratio > 1+cfg.ClipEps) || (r.Advantage < 0 && ratio < 1-cfg.ClipEps))
				if clipped {
					st.ClipFrac++
					st.Loss -= math.Max(math.Min(ratio, 1+cfg.ClipEps), 1-cfg.ClipEps) * r.Advantage / m / n
				} else {
					g -= ratio * r.Advantage
					st.Loss -= ratio * r.Advantage / m / n
				}
				st.Loss += cfg.Beta * k3 / m / n
				seed[row] = float32(g / m / n)
			}
			st.KL += klSum / m / n
			st.Tokens += sp[1]
		}
		if err := tape.Backward(lpt, seed); err != nil {
			return st, err
		}
		if cfg.OnMicroBatch != nil {
			cfg.OnMicroBatch(k+1, len(parts))
		}
	}
	if st.Tokens > 0 {
		st.ClipFrac /= float64(st.Tokens)
	}
	st.MeanLength = float64(st.Tokens) / n
	return st, nil
}

// packRollouts lays rollouts out as a right-padded batch whose targets are
// the completion tokens (−1 elsewhere); spans[i] is [first row, count] of
// rollout i's completion rows in the flattened batch.
func packRollouts(rolls []Rollout) (*model.Batch, []int32, [][2]int) {
	T := 0
	for _, r := range rolls {
		T = max(T, len(r.Prompt)+len(r.Completion))
	}
	b := &model.Batch{B: len(rolls), T: T, Tokens: make([]int32, len(rolls)*T)}
	targets := make([]int32, len(rolls)*T)
	for i := range targets {
		targets[i] = -1
	}
	spans := make([][2]int, len(rolls))
	for i, r := range rolls {
		row := b.Tokens[i*T : (i+1)*T]
		copy(row, r.Prompt)
		copy(row[len(r.Prompt):], r.Completion)
		first := i*T + len(r.Prompt) - 1 // the position that predicts completion token 0
		for t, id := range r.Completion {
			targets[first+t] = id
		}
		spans[i] = [2]int{first, len(r.Completion)}
	}
	return b, targets, spans
}
