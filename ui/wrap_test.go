package ui

import (
	"strings"
	"testing"
)

// TestWrapBreaksAtSpacesOnly: a message, a refusal or a run's note
// wrapped over lines is broken at its spaces, not after a hyphen: the
// review note of a finished run read "set steps above 20 in
// /tmp/ui-runs/20261206-" over "104849/config.toml", a run's name and its
// path split where they are read and copied whole. A word wider than the
// line (a long path) is still broken across lines, not cut.
func TestWrapBreaksAtSpacesOnly(t *testing.T) {
	const note = "to train it further, set steps above 20 in /tmp/ui-runs/20261206-104849/config.toml, then r on the Runs screen (4); read-only: accept is off"
	for _, w := range []int{42, 50, 55, 60, 66, 70, 80, 100} { // each word fits
		lines := wrap(note, w, 10)
		if got := strings.Join(lines, " "); got != note {
			t.Errorf("at %d columns, broken elsewhere than at a space:\n%s", w, strings.Join(lines, "\n"))
		}
		for _, l := range lines {
			if width(l) > w {
				t.Errorf("at %d columns, a line of %d: %q", w, width(l), l)
			}
		}
	}
	long := "/data/runs/a-very-long-folder-name-of-many-words/20261206-104849"
	lines := wrap("resume "+long, 20, 10)
	if got := strings.Join(lines, ""); got != "resume"+long {
		t.Errorf("a word wider than the line is not kept whole over lines: %q", lines)
	}
	for _, l := range lines {
		if width(l) > 20 {
			t.Errorf("a line of %d at 20 columns: %q", width(l), l)
		}
	}
}
