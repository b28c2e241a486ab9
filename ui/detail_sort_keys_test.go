package ui

import (
	"testing"

	"github.com/charmbracelet/bubbles/key"

	"github.com/rlt-workbench/rlt/sessions"
)

// TestDetailLeavesTheSortKeysAlone: r, which sorts by reward on the
// Traces screen (one esc away), labels nothing on the Detail screen:
// there it was an alias of reject (x) that neither README nor the help's
// keys.NewDetail named, so a reviewer pressing r to sort, as on the list
// a moment before, wrote a rejection. No key of the Traces screen's
// sorts labels a trace on Detail; x rejects.
func TestDetailLeavesTheSortKeysAlone(t *testing.T) {
	r := newTestRun(t, 2, 1, 2, 4)
	m := sized(t, r, 120, 30, nil)
	tk := m.traces.keys
	dk := m.detail.keys
	for _, sort := range []key.Binding{tk.SortReward, tk.SortAdvantage, tk.SortStep, tk.ReverseSort} {
		for _, k := range sort.Keys() {
			for _, label := range []key.Binding{dk.Accept, dk.Reject, dk.Flag, dk.Undo} {
				if key.Matches(press(k), label) {
					t.Errorf("%s does %q on Traces and %q on Detail", k, sort.Help().Desc, label.Help().Desc)
				}
			}
		}
	}
	send(m, press("2"))
	send(m, press("enter"))
	if !m.detail.has {
		t.Fatal("no trace open")
	}
	id := m.detail.rec.ID
	send(m, press("r"))
	if l := r.Store().Label(id).Label; l != sessions.LabelNone {
		t.Errorf("r on Detail labelled %s %q", id, l)
	}
	send(m, press("x"))
	if l := r.Store().Label(id).Label; l != sessions.LabelReject {
		t.Errorf("x on Detail labelled %s %q, want %q", id, l, sessions.LabelReject)
	}
}
