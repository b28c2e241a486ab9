package record

import (
	"reflect"
	"strings"
	"testing"
)

// RewardConfig.ValueText is the one formatter of a reward's values:
// Summary, rlt score's reward line and flags, the resume's note of keys
// at their defaults and the viewers' all say a value by it. sessions and
// the root's rlt score each had a formatter of their own (rewardValueText,
// rewardSettings' values), which could drift apart.
func TestRewardConfigValueText(t *testing.T) {
	c := DefaultRewardConfig()
	c.KLMax, c.SolutionMin, c.Estimator = 1e-7, 1.0/3, K3
	for _, tc := range []struct {
		key, want string
		ok        bool
	}{
		{"temperature", "0.7", true},
		{"solution_mean", "1", true},
		{"solution_min", "0.3333333333333333", true}, // as short as it is exact
		{"kl_mean", "3", true},
		{"kl_max", "1e-07", true},
		{"format_penalty", "-1", true},
		{"estimator", "k3", true},
		{"lambda", "", false},
		{"KL_MAX", "", false}, // the table's key as written by rlt, not a case variant
	} {
		if got, ok := c.ValueText(tc.key); got != tc.want || ok != tc.ok {
			t.Errorf("ValueText(%q) = %q, %v; want %q, %v", tc.key, got, ok, tc.want, tc.ok)
		}
	}
	// Every key of the table has a value, and Summary says each as
	// ValueText does.
	rt := reflect.TypeFor[RewardConfig]()
	for i := range rt.NumField() {
		key, _, _ := strings.Cut(rt.Field(i).Tag.Get("toml"), ",")
		v, ok := c.ValueText(key)
		if !ok || !strings.Contains(c.Summary(), " "+v) {
			t.Errorf("%s: ValueText %q (%v), not in Summary %q", key, v, ok, c.Summary())
		}
	}
}
