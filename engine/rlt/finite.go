package rlt

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/shell"
)

// finiteRewards refuses a step whose rewards are not all finite, naming
// the first sample (its group and place in it, as its trace is shown)
// whose reward is NaN or ±Inf, the terms that made it so and the first
// token of each whose log-prob did, or, where every log-prob is finite,
// the [reward] coefficients' products or sum that left float64's range.
// RLT.md §3 gives no value for one (its only stand-ins are for an empty
// span, which Reduce takes), and GRPO's advantages of its group would all
// be NaN (their mean and std are): the policy loss then was, and the step
// failed on a gradient "not finite (NaN or Inf): … lower the learning rate
// or check the inputs", naming a tensor, neither the sample nor the cause.
// The no-entropy reward (RLT.md §3's variant, d_k replaced by −ℓS_k) is
// refused alike: no advantage is of it, but the step's metrics record its
// mean, which one sample's NaN or ±Inf made NaN or ±Inf with no word
// (kl_mean 1e308 overflows it where the reward, of d near 0, stays finite). Refused
// before the policy loss, the teacher and its moments are as the step
// found them. g is the samples a group, rc the reward the scores are of
// (its temperature the one the log-probs are at).
func finiteRewards(scores []record.Scored, g int, rc record.RewardConfig) error {
	for i, s := range scores {
		var what, so string
		var noEnt bool
		switch {
		case !finite(s.Reward):
			what, so = "reward is", "so its group's GRPO advantages would be NaN"
		case !finite(s.NoEntReward):
			what, so, noEnt = "no-entropy reward (r with d_k replaced by −ℓS_k) is", "which the step's metrics would record as no number", true
		default:
			continue
		}
		reward, why, fromLogProb := termsWhy(s, rc, noEnt)
		// The way on is one that works: a resume draws this step's
		// samples from the seed and the step again (grpo.seed cannot
		// change on a resume), so it fails alike unless the temperature,
		// the model or the coefficients do; a run's config.toml is edited
		// for a resume (rlt train has none: its --config, run again). The
		// sample's texts are not recorded (a failed step writes no
		// trace), so rlt logprobs is offered to look at a model, not at
		// them. A temperature below 1/MaxFloat32 makes NaN of finite
		// logits.
		way := fmt.Sprintf("A log-prob is -Inf or NaN where a model's logits divided by the temperature (%g) "+
			"leave float32's range: the temperature is that small, or the model's weights so large that its sums overflow (look at its "+
			"log-probs: "+shell.Program()+" logprobs --model DIR --temperature %g). A resume, which keeps the run's seed, runs this step again as it "+
			"was, its samples drawn from the seed and the step, and fails alike: for a temperature too small, raise temperature in "+
			"[grpo] and in [reward] (a run's config.toml, then resume it); for a model that overflows, start a new run with a sound one",
			rc.Temperature, rc.Temperature)
		if !fromLogProb {
			def := record.DefaultRewardConfig()
			way = fmt.Sprintf("Every log-prob is finite: the [reward] coefficients are that large. A resume, which keeps the run's seed, "+
				"runs this step again as it was, its samples drawn from the seed and the step, and fails alike: give smaller ones in "+
				"[reward] (a run's config.toml, then resume it; the defaults are solution_mean %g, solution_min %g, kl_mean %g, kl_max %g, "+
				"format_penalty %g)", def.SolutionMean, def.SolutionMin, def.KLMean, def.KLMax, def.FormatPenalty)
		}
		return fmt.Errorf("group %d sample %d's %s %v (%s), %s: the step is not applied, the teacher left as the step found it. %s",
			i/g, i%g, what, reward, strings.Join(why, "; "), so, way)
	}
	return nil
}

// termsWhy says why s's reward (its no-entropy twin where noEnt) is not
// finite: the reward, each term that is not, with the first token whose
// log-prob made it so, or, where none did, the coefficients' products
// that left float64's range; and where both terms are finite, their sum
// that did. fromLogProb is whether a log-prob did.
func termsWhy(s record.Scored, rc record.RewardConfig, noEnt bool) (reward float64, why []string, fromLogProb bool) {
	term := func(name string, v float64, at, products string) {
		if finite(v) {
			return
		}
		if at != "" {
			why, fromLogProb = append(why, fmt.Sprintf("%s is %v%s", name, v, at)), true
			return
		}
		why = append(why, fmt.Sprintf("%s is %v: %s leaves float64's range", name, v, products))
	}
	term("r_SS", s.RSS, firstNonFinite(s.SolutionLP, s.SolutionTokens, "the student's log-prob of solution token", nil, nil),
		fmt.Sprintf("solution_mean %g × the solution log-probs' mean %g + solution_min %g × their min %g", rc.SolutionMean, s.SolutionMean, rc.SolutionMin, s.SolutionMin))
	reward, rkl := s.Reward, s.RKL
	if noEnt {
		reward, rkl = s.NoEntReward, s.NoEntRKL
		term("its r_KL", rkl, firstNonFinite(s.StudentLP, s.ExplanationTokens, "the student's log-prob of explanation token", nil, nil),
			fmt.Sprintf("kl_mean %g × −ℓS's mean %g + kl_max %g × −ℓS's max %g", rc.KLMean, s.NoEntKLMean, rc.KLMax, s.NoEntKLMax))
	} else {
		term("r_KL", rkl, firstNonFinite(s.D, s.ExplanationTokens, "d of explanation token", s.TeacherLP, s.StudentLP),
			fmt.Sprintf("kl_mean %g × d's mean %g + kl_max %g × d's max %g", rc.KLMean, s.KLMean, rc.KLMax, s.KLMax))
	}
	if len(why) == 0 { // each term finite: r_SS − r_KL + m is not
		why = append(why, fmt.Sprintf("r_SS %g − r_KL %g + m %g leaves float64's range", s.RSS, rkl, s.Penalty))
	}
	return reward, why, fromLogProb
}

// firstNonFinite says the first value of x that is NaN or ±Inf as ": what
// N "token" is V", with the teacher's and the student's log-probs where
// given (d's); "" where every value is finite.
func firstNonFinite(x []float32, tokens []string, what string, teacher, student []float32) string {
	k := slices.IndexFunc(x, func(v float32) bool { return !finite(float64(v)) })
	if k < 0 {
		return ""
	}
	tok := ""
	if k < len(tokens) {
		tok = fmt.Sprintf(" %q", tokens[k])
	}
	out := fmt.Sprintf(": %s %d%s is %v", what, k, tok, x[k])
	if k < len(teacher) && k < len(student) {
		out += fmt.Sprintf(", the teacher's log-prob %v and the student's %v", teacher[k], student[k])
	}
	return out
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
