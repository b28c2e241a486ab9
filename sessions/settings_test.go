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
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ParseSettings([]byte(tc.text)); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
