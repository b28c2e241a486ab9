package ui

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestChartPickerValuesAreAColumn: the chart picker's values are a
// column, 4 significant digits each, their points one above another, each
// plain but a value plain notation cannot write in 4 digits (below 1e-3):
// a learning rate of 3e-06 is "3.000e-06" and the completion length
// beside it "60.00", not "6.000e+01" (the column in one notation, as
// 4a60ec6 had it). Each was written alone right after its name: "52.00"
// beside "0.01000" at another place.
func TestChartPickerValuesAreAColumn(t *testing.T) {
	for _, c := range []struct {
		name  string
		vals  map[string]float64
		eNote int // rows in e-notation
		plain string
	}{
		{"plain", map[string]float64{"reward": 0.2, "loss": 52, "kl": 0.01, "grad_norm": 1.46321, "completion_length": 123.4, "sampled_tokens_per_s": 12345, "solution_log_prob_reward": -0.25}, 0, "52.00"},
		{"a value below 1e-3", map[string]float64{"reward": 0.2, "loss": 52, "lr": 3e-6, "grad_norm": 1.46321, "completion_length": 60, "solution_log_prob_reward": -0.25}, 1, "60.00"},
		{"a value from 1e15", map[string]float64{"reward": 0.2, "loss": 2.5e15, "kl": 0.01}, 1, "0.01000"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := sessions.Create(filepath.Join(t.TempDir(), "demo-run"), testRunCfg{Task: "addition", Steps: 20, Reward: record.DefaultRewardConfig()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			r.Emit(event.Metrics{Time: t0, Step: 1, Values: c.vals})
			for _, w := range []int{80, 200} {
				m := sized(t, r, w, 24, nil)
				send(m, press("m"))
				point := -1
				rows, eNote := 0, 0
				for _, line := range strings.Split(m.View(), "\n") {
					if !strings.Contains(line, "■") && !strings.Contains(line, "□") || strings.HasPrefix(line, "Charts") {
						continue
					}
					f := strings.Fields(line)
					v := f[len(f)-1]
					at := strings.LastIndex(line, v) // bytes: the names before are alike in each run
					p := at + intPart(v)
					if point >= 0 && width(line[:p]) != point {
						t.Errorf("at %d columns: %q has its point at column %d, the rows above at %d", w, line, width(line[:p]), point)
					}
					point = width(line[:p])
					if strings.Contains(v, "e") {
						eNote++
					}
					mant, _, _ := strings.Cut(v, "e")
					digits := strings.TrimLeft(strings.NewReplacer("-", "", ".", "", "k", "").Replace(mant), "0")
					if len(digits) != 4 {
						t.Errorf("at %d columns: %q has %d significant digits, want 4", w, v, len(digits))
					}
					rows++
				}
				if eNote != c.eNote || !strings.Contains(m.View(), " "+c.plain+"\n") && !strings.Contains(m.View(), " "+c.plain+" ") {
					t.Errorf("at %d columns: %d values in e-notation, want %d, the others plain (%q):\n%s", w, eNote, c.eNote, c.plain, m.View())
				}
				if rows != len(c.vals) {
					t.Errorf("at %d columns: %d rows with a value, want %d:\n%s", w, rows, len(c.vals), m.View())
				}
			}
		})
	}
}

// TestChartPickerCutsNoWord: at 60 columns the picker's header and rows
// say whole words: a name that does not fit beside the value column is
// the metric's name alone ("explanation_length", not
// "explanation_len…"), and the header leaves its keys to the footer
// ("enter/space …" was cut).
func TestChartPickerCutsNoWord(t *testing.T) {
	r := newTestRun(t, 12, 1, 2, 4)
	m := sized(t, r, 60, 24, nil)
	send(m, press("m"))
	v := m.View()
	if strings.Contains(v, "…") {
		t.Errorf("a word is cut:\n%s", v)
	}
	if !strings.Contains(v, " explanation_length  ") {
		t.Errorf("explanation_length not named whole:\n%s", v)
	}
	for _, c := range []struct {
		m    string
		w    int
		want string
	}{
		{"explanation_length", 60, "explanation length (tokens) · explanation_length"},
		{"explanation_length", 40, "explanation_length"},
		{"kl_reward", 12, "−kl_reward"}, // signed as drawn
		{"explanation_length", 8, "explana…"},
	} {
		if got := pickerName(c.m, c.w); got != c.want {
			t.Errorf("pickerName(%q, %d) = %q, want %q", c.m, c.w, got, c.want)
		}
	}
}

// TestChartPickerAlignsNonNumbers: a value written as a word ("NaN",
// "+Inf", "-Inf") ends where the column's integer parts end, the place of
// a whole number's last digit, as "0" does: intPart counted no cells of
// "NaN" or "+Inf" (and one of "-Inf", its sign), so each stood right of
// the points by its width, "NaN" starting where "52.00"'s point is.
func TestChartPickerAlignsNonNumbers(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, c := range []struct {
		name string
		vals map[string]float64
	}{
		{"NaN", map[string]float64{"reward": 0.2, "loss": 52, "kl": nan}},
		{"+Inf", map[string]float64{"reward": 0.2, "loss": 52, "kl": inf}},
		{"-Inf", map[string]float64{"reward": 0.2, "loss": 1234, "grad_norm": -inf}},
		{"0", map[string]float64{"reward": 0.2, "loss": 52, "kl": 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := sessions.Create(filepath.Join(t.TempDir(), "demo-run"), testRunCfg{Task: "addition", Steps: 20, Reward: record.DefaultRewardConfig()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			r.Emit(event.Metrics{Time: t0, Step: 1, Values: c.vals})
			m := sized(t, r, 80, 24, nil)
			send(m, press("m"))
			point, end := -1, -1
			for _, line := range strings.Split(m.View(), "\n") {
				if !strings.Contains(line, "■") && !strings.Contains(line, "□") || strings.HasPrefix(line, "Charts") {
					continue
				}
				f := strings.Fields(line)
				v := f[len(f)-1]
				at := strings.LastIndex(line, v)
				if v == c.name {
					end = width(line[:at]) + width(v)
					continue
				}
				if i := strings.IndexByte(v, '.'); i >= 0 {
					if p := width(line[:at+i]); point >= 0 && p != point {
						t.Fatalf("the numbers' points are at columns %d and %d:\n%s", point, p, m.View())
					} else {
						point = p
					}
				}
			}
			if end < 0 || point < 0 || end != point {
				t.Errorf("%q ends at column %d, want %d, where the integer parts end (the points' column):\n%s", c.name, end, point, m.View())
			}
		})
	}
}
