package ui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// TestRewardFilterSaysWhatItApplied: the reward filter's input says what
// enter applied (or that esc left the filter as it was), so that an
// earlier input's error does not stand on the status line over a filter
// that now applies; it stood there for its six seconds.
func TestRewardFilterSaysWhatItApplied(t *testing.T) {
	r := newTestRun(t, 3, 2, 4, 8)
	m := sized(t, r, 100, 30, &fakeControl{})
	send(m, press("2"))
	for _, c := range []struct {
		keys        []string
		want, avoid string
	}{
		{[]string{"/", "a", "b", "c", "enter"}, `reward filter "abc": want top, bottom, q1–q4 or min..max`, ""},
		{[]string{"esc"}, "reward filter unchanged", "want top"},
		{[]string{"/", "a", "b", "c", "enter"}, "want top", ""},
		// The input, still open, mended in place.
		{[]string{"backspace", "backspace", "backspace", "-", "1", ".", ".", "0", "enter"}, "reward filter: -1..0 (esc clears the filters)", "want top"},
		{[]string{"/", "t", "o", "p", "enter"}, "reward filter: top quartile (esc clears the filters)", ""},
		{[]string{"/", "enter"}, "reward filter off", "quartile"},
	} {
		for _, k := range c.keys {
			if k == "backspace" {
				send(m, tea.KeyMsg{Type: tea.KeyBackspace})
			} else {
				send(m, press(k))
			}
		}
		if !strings.Contains(m.msg, c.want) || (c.avoid != "" && strings.Contains(m.msg, c.avoid)) {
			t.Errorf("%v: status line %q, want %q without %q", c.keys, m.msg, c.want, c.avoid)
		}
	}
}
