package sessions

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/runconfig"
)

// A run's [reward] is read by one rule wherever it is read (RunReward):
// rlt score --run scores with it, the resume trains with it
// (RecordedConfig, decoded strictly) and Settings shows it, a key the
// table lacks at its default in all three, said (UnsetRewardNote). The
// resume read it over nothing (kl_max dropped: trained at 0) while the
// viewers showed 0.03. A value the engine refuses is at its line with its
// key; a file that does not decode is known to none.
func TestRunRewardOneRule(t *testing.T) {
	def := record.DefaultRewardConfig()
	full, err := EncodeTOML(runconfig.Config{Task: "addition", Reward: def})
	if err != nil {
		t.Fatal(err)
	}
	edit := func(old, new string) string {
		t.Helper()
		if !strings.Contains(string(full), old) {
			t.Fatalf("no %q in\n%s", old, full)
		}
		return strings.Replace(string(full), old, new, 1)
	}
	lineOf := func(text, prefix string) int {
		t.Helper()
		for i, ln := range strings.Split(text, "\n") {
			if strings.HasPrefix(ln, prefix) {
				return i + 1
			}
		}
		t.Fatalf("no %q in\n%s", prefix, text)
		return 0
	}
	kl0 := def
	kl0.KLMax = 0
	temp0 := def
	temp0.Temperature = 0
	zeroTemp := edit("temperature = 0.7\n", "temperature = 0.0\n")
	for _, c := range []struct {
		name, text string
		rc         record.RewardConfig
		unset      []string
		ok         bool
		err        string // RunReward's problems, "" for none
		note       string // UnsetRewardNote's
	}{
		{"every key", string(full), def, nil, true, "", ""},
		{"kl_max dropped", edit("kl_max = 0.03\n", ""), def, []string{"kl_max"}, true, "",
			"config.toml's [reward] does not set kl_max, so the run trains with its default: kl_max 0.03"},
		{"kl_max and the estimator dropped", strings.Replace(edit("kl_max = 0.03\n", ""), "estimator = 'logratio'\n", "", 1), def,
			[]string{"kl_max", "estimator"}, true, "",
			"config.toml's [reward] does not set kl_max or estimator, so the run trains with their defaults: kl_max 0.03, estimator logratio"},
		{"no [reward]", "task = 'addition'\n", def, rewardKeys, true, "",
			"config.toml's [reward] does not set temperature, solution_mean, solution_min, kl_mean, kl_max, format_penalty or estimator, so the run trains with their defaults: " +
				"temperature 0.7, solution_mean 1, solution_min 0.01, kl_mean 3, kl_max 0.03, format_penalty -1, estimator logratio"},
		{"kl_max 0 given", edit("kl_max = 0.03\n", "kl_max = 0.0\n"), kl0, nil, true, "", ""},
		{"a temperature of 0", zeroTemp, temp0, nil, true,
			fmt.Sprintf("config.toml:%d:1: reward.temperature 0 must be a finite positive number", lineOf(zeroTemp, "temperature = 0.0")), ""},
		{"a value of the wrong type", edit("temperature = 0.7\n", "temperature = 'hot'\n"), def, nil, false, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			rc, unset, ok, err := RunReward(ConfigFile, []byte(c.text))
			if rc != c.rc || !slices.Equal(unset, c.unset) || ok != c.ok {
				t.Errorf("RunReward: %+v, unset %q, ok %v; want %+v, unset %q, ok %v", rc, unset, ok, c.rc, c.unset, c.ok)
			}
			if got := fmt.Sprint(err); (c.err == "" && err != nil) || (c.err != "" && got != c.err) {
				t.Errorf("RunReward's problems: %v, want %q", err, c.err)
			}
			if got := UnsetRewardNote(ConfigFile, []byte(c.text)); got != c.note {
				t.Errorf("UnsetRewardNote: %q, want %q", got, c.note)
			}
			// The viewers show it (claimed where the engine takes it).
			if s := ParseSettings([]byte(c.text)); s.Reward != c.rc || s.Known != (c.ok && c.err == "") {
				t.Errorf("Settings: %+v (known %v), want %+v (known %v)", s.Reward, s.Known, c.rc, c.ok && c.err == "")
			}
			// The resume trains with it.
			if !c.ok {
				return
			}
			cfg := RecordedConfig()
			if err := DecodeStrict(ConfigFile, []byte(c.text), &cfg); err != nil {
				t.Fatal(err)
			}
			if cfg.Reward != c.rc {
				t.Errorf("the resume's configuration: %+v, want %+v", cfg.Reward, c.rc)
			}
		})
	}
}
