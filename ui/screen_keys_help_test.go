package ui

import (
	"slices"
	"testing"

	"github.com/charmbracelet/bubbles/key"

	"github.com/rlt-workbench/rlt/ui/keys"
)

// TestScreenKeysSayWhatUIKeysSays: a screen's key map is ui/keys' as it
// is, so that one place says what a key does. The Detail screen bound v
// and z again with words of its own ("colour by d_k / ℓT / ℓS"), which
// its ? page showed, while keys.NewDetail (and its help goldens) said "d_k
// / log p / diff", a diff view the screen does not have.
func TestScreenKeysSayWhatUIKeysSays(t *testing.T) {
	m := sized(t, newTestRun(t, 2, 1, 2, 4), 120, 30, nil)
	for _, c := range []struct {
		screen    string
		got, want [][]key.Binding
	}{
		{"Detail", m.detail.FullHelp(), keys.NewDetail().FullHelp()},
		{"Traces", m.traces.keys.Traces.FullHelp(), keys.NewTraces().FullHelp()},
	} {
		got, want := keys.All(c.got), keys.All(c.want)
		if len(got) != len(want) {
			t.Errorf("%s: the ? page lists %d keys, ui/keys %d", c.screen, len(got), len(want))
			continue
		}
		for i := range want {
			g, w := got[i], want[i]
			if g.Help() != w.Help() || !slices.Equal(g.Keys(), w.Keys()) {
				t.Errorf("%s: %s: the screen says %q (keys %v), ui/keys %q (keys %v)",
					c.screen, w.Help().Key, g.Help().Desc, g.Keys(), w.Help().Desc, w.Keys())
			}
		}
	}
}
