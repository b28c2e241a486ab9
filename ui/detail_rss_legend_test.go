package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestDetailLegendSaysRSS: the Detail legend says r_SS's formula (RLT.md:
// c1·mean + c2·min of the solution's log-probs ℓS) with the weights in
// force, as it says r_KL's, in the longest wording that fits the width:
// the run's config.toml, an import's rows' (said as theirs), a key the
// file leaves out said at its default, and the weights not claimed where
// they are not known. It said r_KL=λ(mean+α·max) and nothing of r_SS.
func TestDetailLegendSaysRSS(t *testing.T) {
	own := record.DefaultRewardConfig()
	own.SolutionMean, own.SolutionMin = 2, 0.05
	rows := record.DefaultRewardConfig()
	for _, c := range []struct {
		name string
		st   sessions.Settings
		w    int
		want string
	}{
		{"run, 120 columns", sessions.Settings{Known: true, Reward: own}, 120, "solution: r_SS=c1·mean+c2·min of its log p (ℓS), c1=2 c2=0.05"},
		{"run, 50 columns", sessions.Settings{Known: true, Reward: own}, 50, "r_SS=c1·mean+c2·min of ℓS, c1=2 c2=0.05"},
		{"run, 30 columns", sessions.Settings{Known: true, Reward: own}, 30, "r_SS=2·mean+0.05·min ℓS"},
		{"too narrow", sessions.Settings{Known: true, Reward: own}, 20, ""},
		{"at defaults", sessions.Settings{Known: true, Reward: rows, RewardUnset: []string{"solution_min"}}, 120,
			"solution: r_SS=c1·mean+c2·min of its log p (ℓS), c1=1 c2=0.01 (solution_min at its default)"},
		{"an import's rows'", sessions.Settings{Imported: "trl", ImportedReward: &rows}, 120,
			"solution: r_SS=c1·mean+c2·min of its log p (ℓS), the rows' c1=1 c2=0.01"},
		{"an import's, not recorded", sessions.Settings{Imported: "trl"}, 120,
			"solution: r_SS=c1·mean+c2·min of its log p (ℓS); c1, c2: the trainer's, not recorded"},
		{"config.toml does not decode", sessions.Settings{}, 60, "r_SS=c1·mean+c2·min of ℓS; c1, c2 unknown (!)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := &detailScreen{settings: c.st, rec: sessions.TraceRecord{HasScore: true}}
			if got := d.rssLegend(c.w); got != c.want {
				t.Errorf("at %d columns:\n got %q\nwant %q", c.w, got, c.want)
			}
		})
	}
}

// TestDetailRSSLegendTakesNoNeededRow: the r_SS line is shown where the
// Detail screen has a row to spare (120×40) and left out where the
// explanation's heatmap and the solution need every row (80×24), whose
// view is otherwise as before.
func TestDetailRSSLegendTakesNoNeededRow(t *testing.T) {
	for _, c := range []struct {
		w, h int
		want bool
	}{{120, 40, true}, {80, 24, false}, {60, 15, false}} {
		r := newTestRun(t, 3, 1, 1, 60)
		m := sized(t, r, c.w, c.h, nil)
		send(m, press("3"))
		v := ansi.Strip(m.View())
		if got := strings.Contains(v, "r_SS=c1·mean+c2·min"); got != c.want {
			t.Errorf("%dx%d: r_SS's formula shown %v, want %v:\n%s", c.w, c.h, got, c.want, v)
		}
	}
}
