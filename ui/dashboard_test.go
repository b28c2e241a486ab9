package ui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/ui/chart"
	"github.com/rlt-workbench/rlt/ui/internal/golden"
)

func TestDashboardDefaults(t *testing.T) {
	r := newTestRun(t, 12, 1, 2, 4)
	m := sized(t, r, 120, 40, nil)
	for i, c := range m.dash.charts {
		if c.Smoothing() != chart.DefaultSmoothing {
			t.Errorf("chart %q: smoothing %v, want on by default (%v)", m.dash.specs[i].title, c.Smoothing(), chart.DefaultSmoothing)
		}
	}
	if !m.dash.charts[0].HasSpread("reward") {
		t.Error("the reward chart has no ±std band though reward_std is recorded")
	}
	if v := m.View(); !strings.Contains(v, "reward ± std") || !strings.Contains(v, "±0.2") {
		t.Errorf("the reward chart does not say its band:\n%s", v)
	}
}

// TestChartPicker: every recorded metric can be put on the grid (fed
// with the records so far) and taken off.
func TestChartPicker(t *testing.T) {
	r := newTestRun(t, 12, 1, 2, 4)
	m := sized(t, r, 80, 24, nil)
	send(m, press("m"))
	if !m.dash.picking || !m.dash.Capturing() {
		t.Fatal("m did not open the picker")
	}
	for _, want := range []string{"step_time_s", "sampled_tokens_per_s", "reward_std", "loss"} {
		if !strings.Contains(m.View(), want) && !contains(m.dash.names, want) {
			t.Errorf("the picker does not offer %s", want)
		}
	}
	for _, tc := range []struct {
		metric string
		shown  bool // after enter
	}{
		{"step_time_s", true},
		{"step_time_s", false},
		{"reward", false}, // a default chart can be taken off
		{"reward", true},
	} {
		t.Run(fmt.Sprintf("%s→%v", tc.metric, tc.shown), func(t *testing.T) {
			m.dash.pickSel = index(m.dash.names, tc.metric)
			send(m, press("enter"))
			ci := m.dash.shownFor(tc.metric)
			if (ci >= 0) != tc.shown {
				t.Fatalf("%s shown %v, want %v", tc.metric, ci >= 0, tc.shown)
			}
			if tc.shown && m.dash.charts[ci].Len(m.dash.specs[ci].series[0].name) != 12 {
				t.Errorf("%s chart holds %d points, want the 12 recorded", tc.metric, m.dash.charts[ci].Len(tc.metric))
			}
		})
	}
	send(m, press("esc"))
	if m.dash.picking {
		t.Error("esc did not close the picker")
	}
}

func contains(ss []string, s string) bool { return index(ss, s) >= 0 }

func index(ss []string, s string) int {
	for i, x := range ss {
		if x == s {
			return i
		}
	}
	return -1
}

func TestChartPickerGolden(t *testing.T) {
	r := newTestRun(t, 12, 2, 4, 60)
	for _, sz := range golden.Sizes {
		name := fmt.Sprintf("dashboard_picker_%dx%d", sz.W, sz.H)
		t.Run(name, func(t *testing.T) {
			m := sized(t, r, sz.W, sz.H, &fakeControl{})
			send(m, press("m"))
			send(m, press("j"))
			v := m.View()
			golden.NoEscapes(t, v)
			golden.Fits(t, v, sz.W, sz.H)
			golden.Assert(t, name, v)
		})
	}
}
