package ui

import (
	"strings"
	"testing"
)

// TestTracesEscSaysWhatItCleared: esc is back on Detail and clears the
// filters on Traces, one enter away, so a reviewer pressing it twice to
// leave a trace narrowed the list to no more; the list changed with no
// word. Back from Detail keeps the filters; esc on Traces then says which
// it cleared and how to set them again, and says nothing where none was on.
func TestTracesEscSaysWhatItCleared(t *testing.T) {
	r := newTestRun(t, 3, 2, 4, 8)
	m := sized(t, r, 120, 30, &fakeControl{})
	send(m, press("2"))
	for _, c := range []struct {
		keys        []string
		screen      screenID
		on          bool   // label, reward filter and group view on after the keys (else all off)
		want, avoid string // on the status line
	}{
		{[]string{"esc"}, scrTraces, false, "", "filters cleared"},
		{[]string{"l", "/", "-", "9", ".", ".", "9", "enter", "v", "enter"}, scrDetail, true, "", "filters cleared"},
		{[]string{"esc"}, scrTraces, true, "", "filters cleared"}, // back from Detail
		{[]string{"esc"}, scrTraces, false, "filters cleared (label unreviewed, reward -9..9, group ", ""},
		{[]string{"/", "t", "o", "p", "enter", "esc"}, scrTraces, false, "filters cleared (reward top quartile): l, / and v set them again", ""},
	} {
		for _, k := range c.keys {
			send(m, press(k))
		}
		tr := m.traces
		if on := tr.label != 0 && tr.reward.on && tr.group; on != c.on || (!on && (tr.label != 0 || tr.reward.on || tr.group)) {
			t.Errorf("%v: label filter %d, reward filter %v, group view %v; want all on: %v", c.keys, tr.label, tr.reward.on, tr.group, c.on)
		}
		if m.active != c.screen {
			t.Errorf("%v: on screen %d, want %d", c.keys, m.active, c.screen)
		}
		if !strings.Contains(m.msg, c.want) || (c.avoid != "" && strings.Contains(m.msg, c.avoid)) {
			t.Errorf("%v: status line %q, want %q without %q", c.keys, m.msg, c.want, c.avoid)
		}
	}
}
