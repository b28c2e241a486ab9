package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
)

// TestChartPickerNamesTheRewardsParts: the chart picker names the reward's
// parts before their weights in words, what a sweep of λ (or another
// weight) compares across runs, where the grid's r_SS and r_KL charts move
// with the weights themselves. They were listed as the trainer's names
// alone (reasoning_kl_mean), with nothing saying which is λ's d mean; a
// 120-column picker still shows the words.
func TestChartPickerNamesTheRewardsParts(t *testing.T) {
	r := newTestRun(t, 3, 1, 2, 4)
	r.Emit(event.Metrics{Time: t0.Add(time.Minute), Step: 4, Values: map[string]float64{"reward": -1, "reasoning_kl_mean": 0.25}})
	m := sized(t, r, 120, 60, nil)
	for _, c := range []struct{ metric, title string }{
		{"reasoning_kl_mean", "d mean (r_KL's λ term, unweighted) · reasoning_kl_mean"},
		{"reasoning_kl_max", "d max (r_KL, unweighted) · reasoning_kl_max"},
		{"answer_log_prob_mean", "solution log-prob, mean (r_SS, unweighted) · answer_log_prob_mean"},
		{"answer_log_prob_min", "solution log-prob, min (r_SS, unweighted) · answer_log_prob_min"},
		{"match_reward", "format penalty m · match_reward"},
	} {
		if got := metricTitle(c.metric); got != c.title {
			t.Errorf("metricTitle(%q) = %q, want %q", c.metric, got, c.title)
		}
	}
	// On the picker of a run that records it, at 120 columns.
	send(m, press("m"))
	if v := m.View(); !strings.Contains(v, "d mean (r_KL's λ term, unweighted) · reasoning_kl_mean") {
		t.Errorf("the picker does not name reasoning_kl_mean in words:\n%s", v)
	}
}
