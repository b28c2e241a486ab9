package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestTemperatureFlagsBelowTheFloor: rlt logprobs --temperature takes the
// [grpo]/[reward] rule (record.TemperatureProblem): a value with no
// finite log-probs (NaN, ±Inf, 0, negative, below 1/MaxFloat32) is a
// wrong call naming the flag, the value, the floor and what to give,
// before the model loads; below the floor it loaded the model and failed
// every line (-Inf log-probs). rlt generate samples its limit there, the
// greedy tokens, as at 0 (engine/sample caps 1/τ), and a NaN or a value
// past float32 is said as given: NaN was "must be ≥ 0" and 1e39 "+Inf".
// rlt distill's --temperature is checked as rlt generate's.
func TestTemperatureFlagsBelowTheFloor(t *testing.T) {
	teacher := filepath.Join("engine", "defaults", "models", "teacher")
	student := filepath.Join("engine", "defaults", "models", "student")
	lp := []string{"logprobs", "--model", teacher, "--device", "cpu", "--temperature"}
	gen := []string{"generate", "--model", student, "--device", "cpu", "--prompt", "347+285=?", "--max-new-tokens", "6", "--temperature"}
	// rlt distill's teacher samples as rlt generate does, by its rule
	// (sample.CheckTemperature): 2e6 and 1e39 were taken by its own check
	// and refused by the sampler once the teacher had loaded (exit 1,
	// "sample: temperature +Inf must be at most 1e+06" for 1e39).
	dis := []string{"distill", "--teacher", teacher, "--out", filepath.Join(t.TempDir(), "out"), "--questions", "1", "--steps", "1", "--device", "cpu", "--temperature"}
	const floor = " is below 2.9e-39 (1/MaxFloat32), where log-probs are not finite: give 1e-38 or more (0.01 is near greedy already)"
	for _, c := range []struct {
		args []string
		want string // stderr's last line, exit 2; "" for a text like greedy's
	}{
		{append(lp, "1e-40"), "rlt logprobs: --temperature 1e-40" + floor},
		{append(lp, "2.8e-39"), "rlt logprobs: --temperature 2.8e-39" + floor},
		{append(lp, "1e-300"), "rlt logprobs: --temperature 1e-300" + floor},
		{append(lp, "0"), "rlt logprobs: --temperature 0 must be a finite positive number"},
		{append(lp, "-1"), "rlt logprobs: --temperature -1 must be a finite positive number"},
		{append(lp, "NaN"), "rlt logprobs: --temperature NaN must be a finite positive number"},
		{append(lp, "Inf"), "rlt logprobs: --temperature +Inf must be a finite positive number"},
		{append(gen, "NaN"), "rlt generate: --temperature NaN is not a number: give 0 (greedy) or more, at most 1e+06"},
		{append(gen, "1e39"), "rlt generate: --temperature 1e+39 must be at most 1e+06"},
		{append(gen, "-1e-40"), "rlt generate: --temperature -1e-40 must be ≥ 0"},
		{append(gen, "-1e-50"), "rlt generate: --temperature -1e-50 must be ≥ 0"}, // float32 holds it as -0
		{append(dis, "1e39"), "rlt distill: --temperature 1e+39 must be at most 1e+06"},
		{append(dis, "2e6"), "rlt distill: --temperature 2e+06 must be at most 1e+06"},
		{append(dis, "NaN"), "rlt distill: --temperature NaN is not a number: give 0 (greedy) or more, at most 1e+06"},
		{append(dis, "-1e-50"), "rlt distill: --temperature -1e-50 must be ≥ 0"},
		{append(gen, "1e-40"), ""},
		{append(gen, "1e-300"), ""},
	} {
		stdin := "{\"ids\": [51, 52, 55]}\n"
		code, out, errs := runCLI(t, stdin, c.args...)
		if c.want != "" {
			last := wrongCallLine(errs)
			if code != 2 || out != "" || last != c.want {
				t.Errorf("%s: exit %d, stdout %q, stderr's last line %q; want exit 2 and %q", strings.Join(c.args, " "), code, out, last, c.want)
			}
			continue
		}
		greedy := append(append([]string{}, c.args[:len(c.args)-1]...), "0")
		_, want, _ := runCLI(t, "", greedy...)
		if code != 0 || out != want {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want the greedy text %q", strings.Join(c.args, " "), code, out, errs, want)
		}
	}
}
