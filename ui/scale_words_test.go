package ui

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/rlt-workbench/rlt/sessions"
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
		{[]string{"v", "z"}, "dark: −23.35, its lowest", "−23.35"},
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
