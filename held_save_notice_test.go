package main

import (
	"strings"
	"testing"
)

// TestWorkbenchSaysHeldSavesOffTheScreen: a stop signal held by a
// checkpoint's save is said on the workbench's stderr (runner's
// SaveNotice), but not while the workbench is on the screen, where the
// line would be drawn in the alternate screen and lost with it: what comes
// then is held and written, whole and in order, as the workbench leaves
// the screen (ui.Options.Left); what comes later is written at once.
func TestWorkbenchSaysHeldSavesOffTheScreen(t *testing.T) {
	var stderr strings.Builder
	a := &afterScreen{w: &stderr}
	for _, line := range []string{"saving A; stopping once it is written\n", "second\n"} {
		if n, err := a.Write([]byte(line)); n != len(line) || err != nil {
			t.Fatalf("Write(%q): %d, %v", line, n, err)
		}
	}
	if stderr.Len() != 0 {
		t.Fatalf("written while on the screen: %q", stderr.String())
	}
	a.leave()
	if got, want := stderr.String(), "saving A; stopping once it is written\nsecond\n"; got != want {
		t.Fatalf("after leaving the screen: %q, want %q", got, want)
	}
	a.Write([]byte("later\n"))
	a.leave() // a second leave writes nothing again
	if got, want := stderr.String(), "saving A; stopping once it is written\nsecond\nlater\n"; got != want {
		t.Errorf("a line after leaving: %q, want %q", got, want)
	}
}
