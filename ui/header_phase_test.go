package ui

import (
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/event"
)

// TestHeaderPhaseAfterTheMark: a run with no engine here whose step's
// phase the header says in its state (no progress line to say it) reads
// "running (read-only) · backward", the mark on the state as where the
// progress line says the phase; it read "running · backward (read-only)".
func TestHeaderPhaseAfterTheMark(t *testing.T) {
	for _, c := range []struct {
		name     string
		readOnly bool
		want     string
	}{
		{"read-only", true, "· running (read-only) · backward ·"},
		{"review", false, "· running (review) · backward ·"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newTestRun(t, 3, 1, 1, 4)
			m := sized(t, r, 160, 30, nil)
			m.sh.readOnly = c.readOnly
			r.Emit(event.Phase{Time: t0, Name: "backward", Step: 3})
			if err := r.Flush(); err != nil {
				t.Fatal(err)
			}
			m.pull()
			if h := m.statusLine(); !strings.Contains(h, c.want) {
				t.Errorf("header %q, want %q", h, c.want)
			}
		})
	}
}
