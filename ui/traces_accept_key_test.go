package ui

import (
	"testing"

	"github.com/charmbracelet/bubbles/key"

	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui/keys"
)

// TestTracesLeaveTheAcceptKeyAlone: a, which accepts the trace on the
// Detail screen (one enter away), means nothing on the Traces screen:
// there it sorted by advantage, so a reviewer pressing a on the list, as
// on the trace a moment before, changed the order under the selection,
// and one pressing it on Detail to sort wrote a review. The sort is on A;
// a on Traces leaves the order and the labels as they were.
func TestTracesLeaveTheAcceptKeyAlone(t *testing.T) {
	r := newTestRun(t, 2, 1, 2, 4)
	m := sized(t, r, 120, 30, nil)
	for _, k := range m.detail.keys.Accept.Keys() {
		for _, b := range keys.All(m.traces.keys.FullHelp()) {
			if key.Matches(press(k), b) {
				t.Errorf("%s accepts on Detail and does %q on Traces", k, b.Help().Desc)
			}
		}
	}
	send(m, press("2"))
	send(m, press("a"))
	if m.traces.sort != sortStep {
		t.Errorf("a on Traces sorts by %s", sortNames[m.traces.sort])
	}
	for _, tr := range m.traces.all {
		if l := r.Store().Label(tr.ID).Label; l != sessions.LabelNone {
			t.Errorf("a on Traces labelled %s %q", tr.ID, l)
		}
	}
	send(m, press("A"))
	if m.traces.sort != sortAdvantage {
		t.Errorf("A on Traces sorts by %s, want advantage", sortNames[m.traces.sort])
	}
}
