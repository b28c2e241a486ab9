package sessions

import (
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
)

func TestParseSettings(t *testing.T) {
	def := record.DefaultRewardConfig()
	lam0 := def
	lam0.KLMean, lam0.KLMax = 0, 0
	for _, tc := range []struct {
		name, text string
		want       Settings
	}{
		{"empty", "", Settings{Reward: def}},
		{"broken", "task = \n", Settings{Reward: def}},
		{"defaults", "task = \"addition\"\nteacher = \"m/t\"\n", Settings{Task: "addition", Teacher: "m/t", Reward: def, Known: true}},
		{"lambda 0 and unknown keys", "task = \"linear\"\nnew_key = 1\n[reward]\nkl_mean = 0\nkl_max = 0\n", Settings{Task: "linear", Reward: lam0, Known: true}},
		// Edited to a value the engine refuses: not what the run trained with.
		{"a reward the engine refuses", "task = \"linear\"\n[reward]\nkl_mean = 0\nkl_max = 0\nestimator = \"l2\"\n", Settings{Task: "linear", Reward: withEstimator(lam0, "l2")}},
		// An imported run's config.toml records where it came from, not
		// the trainer's reward: nothing to claim.
		{"imported", "[import]\nformat = \"trl\"\nsource = \"/data/grpo-output\"\n", Settings{Reward: def, Imported: ImportTRL}},
		{"imported, models added to score it", "teacher = \"m/t\"\nstudent = \"m/s\"\n[import]\nformat = \"trl\"\n[reward]\nkl_mean = 5.0\n",
			Settings{Teacher: "m/t", Student: "m/s", Reward: def, Imported: ImportTRL}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ParseSettings([]byte(tc.text)); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func withEstimator(c record.RewardConfig, e string) record.RewardConfig {
	c.Estimator = record.Estimator(e)
	return c
}
