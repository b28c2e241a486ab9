package rlt

import (
	"fmt"
	"math"
)

// Estimator is how the per-token explanation score d_k is computed.
type Estimator string

const (
	// LogRatio is the sampled one-sample KL estimate d_k = ℓT_k − ℓS_k (default).
	LogRatio Estimator = "logratio"
	// K3 is Schulman's estimator d_k − 1 + exp(−d_k), never negative.
	K3 Estimator = "k3"
	// FullKL is Σ_v pT(v)(log pT(v) − log pS(v)) at each position.
	FullKL Estimator = "full"
)

// RewardConfig holds every coefficient of RLT.md §3. Defaults are the
// official run configuration's (not the reward file's own defaults).
type RewardConfig struct {
	Temperature   float64   `toml:"temperature"`    // τ: log-probs are of logits/τ
	SolutionMean  float64   `toml:"solution_mean"`  // c1
	SolutionMin   float64   `toml:"solution_min"`   // c2
	KLMean        float64   `toml:"kl_mean"`        // c3 (λ)
	KLMax         float64   `toml:"kl_max"`         // c4 (λ·α)
	FormatPenalty float64   `toml:"format_penalty"` // m when the end tag is missing
	Estimator     Estimator `toml:"estimator"`
}

// DefaultRewardConfig is the official run's resolved configuration.
func DefaultRewardConfig() RewardConfig {
	return RewardConfig{
		Temperature: 0.7, SolutionMean: 1, SolutionMin: 0.01, KLMean: 3, KLMax: 0.03,
		FormatPenalty: -1, Estimator: LogRatio,
	}
}

// Validate says what is wrong with a configuration.
func (c RewardConfig) Validate() error {
	if !(c.Temperature > 0) {
		return fmt.Errorf("reward: temperature %g must be positive", c.Temperature)
	}
	for _, v := range []struct {
		name string
		x    float64
	}{{"solution_mean", c.SolutionMean}, {"solution_min", c.SolutionMin}, {"kl_mean", c.KLMean}, {"kl_max", c.KLMax}, {"format_penalty", c.FormatPenalty}} {
		if math.IsNaN(v.x) || math.IsInf(v.x, 0) {
			return fmt.Errorf("reward: %s is %g", v.name, v.x)
		}
	}
	switch c.Estimator {
	case LogRatio, K3, FullKL:
	default:
		return fmt.Errorf("reward: estimator %q: want %q, %q or %q", c.Estimator, LogRatio, K3, FullKL)
	}
	return nil
}

// Terms are the reductions of one completion's per-token arrays.
type Terms struct {
	SolutionMean   float64 `json:"solution_mean"`    // over ℓS_i, i ∈ S (−1 when S is empty)
	SolutionMin    float64 `json:"solution_min"`     // (−1 when S is empty)
	SolutionMinPos int     `json:"solution_min_pos"` // index into the solution tokens of the min; −1 if none
	KLMean         float64 `json:"kl_mean"`          // over d_k, k ∈ T (+1 when T is empty)
	KLMax          float64 `json:"kl_max"`           // (+1 when T is empty)
	KLMaxPos       int     `json:"kl_max_pos"`       // index into the explanation tokens of the max; −1 if none
	RSS            float64 `json:"r_ss"`
	RKL            float64 `json:"r_kl"`
	Penalty        float64 `json:"penalty"`
	Reward         float64 `json:"reward"`

	// The no-entropy variant: d_k replaced by −ℓS_k.
	NoEntKLMean float64 `json:"no_entropy_kl_mean"`
	NoEntKLMax  float64 `json:"no_entropy_kl_max"`
	NoEntRKL    float64 `json:"no_entropy_r_kl"`
	NoEntReward float64 `json:"no_entropy_reward"`
}

// Reduce computes r_SS, r_KL and r from the solution log-probs, the
// per-token explanation scores d and the student's explanation log-probs
// (for the no-entropy variant). ended is false when the end tag was missing.
func (c RewardConfig) Reduce(solutionLP, d, studentExplLP []float64, ended bool) Terms {
	var t Terms
	t.SolutionMean, t.SolutionMin, t.SolutionMinPos = meanMin(solutionLP)
	if len(solutionLP) == 0 {
		t.SolutionMean, t.SolutionMin = -1, -1
	}
	t.KLMean, t.KLMax, t.KLMaxPos = meanMax(d)
	negS := make([]float64, len(studentExplLP))
	for i, v := range studentExplLP {
		negS[i] = -v
	}
	t.NoEntKLMean, t.NoEntKLMax, _ = meanMax(negS)
	if len(d) == 0 {
		t.KLMean, t.KLMax = 1, 1
	}
	if len(negS) == 0 {
		t.NoEntKLMean, t.NoEntKLMax = 1, 1
	}
	if !ended {
		t.Penalty = c.FormatPenalty
	}
	t.RSS = c.SolutionMean*t.SolutionMean + c.SolutionMin*t.SolutionMin
	t.RKL = c.KLMean*t.KLMean + c.KLMax*t.KLMax
	t.Reward = t.RSS - t.RKL + t.Penalty
	t.NoEntRKL = c.KLMean*t.NoEntKLMean + c.KLMax*t.NoEntKLMax
	t.NoEntReward = t.RSS - t.NoEntRKL + t.Penalty
	return t
}

func meanMin(x []float64) (mean, lo float64, pos int) {
	if len(x) == 0 {
		return math.NaN(), math.NaN(), -1
	}
	lo, pos = math.Inf(1), -1
	var s float64
	for i, v := range x {
		s += v
		if v < lo {
			lo, pos = v, i
		}
	}
	return s / float64(len(x)), lo, pos
}

func meanMax(x []float64) (mean, hi float64, pos int) {
	if len(x) == 0 {
		return math.NaN(), math.NaN(), -1
	}
	hi, pos = math.Inf(-1), -1
	var s float64
	for i, v := range x {
		s += v
		if v > hi {
			hi, pos = v, i
		}
	}
	return s / float64(len(x)), hi, pos
}

// TokenScore turns a teacher and a student log-prob of the same explanation
// token into d_k for the sampled estimators (FullKL is computed from whole
// distributions by the scorer).
func (c RewardConfig) TokenScore(teacherLP, studentLP float64) float64 {
	d := teacherLP - studentLP
	if c.Estimator == K3 {
		return d - 1 + math.Exp(-d)
	}
	return d
}
