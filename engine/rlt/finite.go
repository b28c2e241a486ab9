package rlt

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/rlt-workbench/rlt/engine/record"
)

// finiteRewards refuses a step whose rewards are not all finite, naming
// the first sample (its group and place in it, as its trace is shown)
// whose reward is NaN or ±Inf, the terms that made it so and the first
// token of each whose log-prob did. RLT.md §3 gives no value for one (its
// only stand-ins are for an empty span, which Reduce takes), and GRPO's
// advantages of its group would all be NaN (their mean and std are):
// the policy loss then was, and the step failed on a gradient "not
// finite (NaN or Inf): … lower the learning rate or check the inputs",
// naming a tensor, neither the sample nor the cause. Refused before the
// policy loss, the teacher and its moments are as the step found them.
// g is the samples a group, tau the temperature the log-probs are at.
func finiteRewards(scores []record.Scored, g int, tau float64) error {
	for i, s := range scores {
		if finite(s.Reward) {
			continue
		}
		var why []string
		if !finite(s.RSS) {
			why = append(why, fmt.Sprintf("r_SS is %v%s", s.RSS,
				firstNonFinite(s.SolutionLP, s.SolutionTokens, "the student's log-prob of solution token", nil, nil)))
		}
		if !finite(s.RKL) {
			why = append(why, fmt.Sprintf("r_KL is %v%s", s.RKL,
				firstNonFinite(s.D, s.ExplanationTokens, "d of explanation token", s.TeacherLP, s.StudentLP)))
		}
		// The way on is one that works: a resume draws this step's
		// samples from the seed and the step again (grpo.seed cannot
		// change on a resume), so it fails alike unless the temperature
		// or the model does; a run's config.toml is edited for a resume
		// (rlt train has none: its --config, run again). The sample's
		// texts are not recorded (a failed step writes no trace), so
		// rlt logprobs is offered to look at a model, not at them. A
		// temperature below 1/MaxFloat32 makes NaN of finite logits.
		return fmt.Errorf("group %d sample %d's reward is %v (%s), so its group's GRPO advantages would be NaN: the step is not applied, "+
			"the teacher left as the step found it. A log-prob is -Inf or NaN where a model's logits divided by the temperature (%g) "+
			"leave float32's range: the temperature is that small, or the model's weights so large that its sums overflow (look at its "+
			"log-probs: rlt logprobs --model DIR --temperature %g). A resume, which keeps the run's seed, runs this step again as it "+
			"was, its samples drawn from the seed and the step, and fails alike: for a temperature too small, raise temperature in "+
			"[grpo] and in [reward] (a run's config.toml, then resume it); for a model that overflows, start a new run with a sound one",
			i/g, i%g, s.Reward, strings.Join(why, "; "), tau, tau)
	}
	return nil
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
