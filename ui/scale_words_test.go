package ui

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui/heatmap"
)

// TestScaleWordsMatchTheLegendLine: the words above the heatmap name its
// scale's end as the legend line under them prints it. A trace whose
// lowest ℓT is −23.3476, coloured by ℓT on its own scale, read "dark:
// −23.3, its lowest" over "ℓT 0 … −23.35".
func TestScaleWordsMatchTheLegendLine(t *testing.T) {
	r, err := sessions.Create(filepath.Join(t.TempDir(), "run"), testCfg{Task: "addition"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Emit(dTrace(1, 0, []string{"a", "b", "c"}, []float32{-23.3476, -1, 0}))
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		keys  []string
		words string // as the legend line prints the end too
		line  string
	}{
		{[]string{"v", "z"}, "dark: −23.3, its lowest", "−23.3"},
		{[]string{"v"}, "dark: ≤ −5 nats", "−5.00"},
	} {
		m := sized(t, r, 120, 30, nil)
		m.pull()
		send(m, press("2"))
		send(m, press("enter"))
		for _, k := range c.keys {
			send(m, press(k))
		}
		v := ansi.Strip(m.View())
		if !strings.Contains(v, c.words) || !strings.Contains(v, c.line) {
			t.Errorf("keys %q: want %q over a legend line ending %q:\n%s", c.keys, c.words, c.line, v)
		}
	}
}

// TestScaleEndKeepsItsExponent: heatmap.LimitWords leaves off a decimal's trailing
// zeros, never an exponent's: a scale's end of 1.5e-10 (a trace of
// near-certain tokens coloured on its own scale) read "1.5e-1" over a
// legend line ending "1.5e-10".
func TestScaleEndKeepsItsExponent(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{5, "5"},
		{23.3476, "23.3"}, // the legend's 3 significant digits
		{math.MaxFloat64, "1.79e+308"},
		{0.5, "0.5"},
		{150, "150"},
		{1.5e-10, "1.5e-10"},
		{1e-20, "1e-20"},
		{2.5e-05, "2.5e-05"},
	} {
		if got := heatmap.LimitWords(c.v); got != c.want {
			t.Errorf("LimitWords(%g) = %q, want %q (the legend line: %q)", c.v, got, c.want, heatmap.FormatValue(c.v))
		}
	}
}
