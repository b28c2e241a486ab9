package ui

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/sessions"
)

// TestSortFromTheFirstRowShowsTheNewFirst: a researcher who opens the
// Traces screen and presses r to find the best explanations sees the
// best at the top, selected. The selection on the first row (where the
// screen opens) stayed on its trace, the newest, which a reward sort put
// far down, and the list scrolled to it: its first rows (the best
// traces) were above the screen and "rows 7–46 of 384" the only hint.
// A selection the user moved to another row still stays on its trace.
func TestSortFromTheFirstRowShowsTheNewFirst(t *testing.T) {
	for _, c := range []struct {
		name string
		keys []string
		// wantStep is the selected trace's step; wantTop the list's
		// first row shown ("rows N–").
		wantStep, wantTop int
	}{
		// The later the step, the lower its reward and advantage: the
		// newest trace, first by step, is last by reward.
		{"r from the first row", []string{"r"}, 1, 1},
		{"A from the first row", []string{"A"}, 1, 1},
		{"R from the first row", []string{"R"}, 1, 1},
		{"r then R from the first row", []string{"r", "R"}, 30, 1},
		{"r then t from the first row", []string{"r", "t"}, 30, 1},
		// Moved off the first row, the selection stays on its trace
		// (step 29, second by step, is second to last by reward).
		{"r from the second row", []string{"j", "r"}, 29, lastPage},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := sessions.Create(filepath.Join(t.TempDir(), "run"), testCfg{Task: "addition"})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for s := 1; s <= 30; s++ {
				tr := dTrace(s, 0, []string{"a", "b"}, []float32{0.1 * float32(s), 0})
				tr.Advantage = -float64(s) // and its advantage
				r.Emit(tr)
			}
			if err := r.Flush(); err != nil {
				t.Fatal(err)
			}
			m := sized(t, r, 120, 20, nil) // not every row fits

			m.pull()
			send(m, press("2"))
			for _, k := range c.keys {
				send(m, press(k))
			}
			sel := m.traces.selected()
			if sel == nil || sel.Step != c.wantStep {
				t.Fatalf("after %v the selected trace is %+v, want the one of step %d", c.keys, sel, c.wantStep)
			}
			top := c.wantTop
			if top == lastPage { // the selection, second to last, on the last row shown
				top = 29 - m.traces.pageRows() + 1
			}
			if want := fmt.Sprintf("rows %d–", top); !strings.Contains(m.View(), want) {
				t.Fatalf("after %v the list does not show %q:\n%s", c.keys, want, m.View())
			}
		})
	}
}

// lastPage stands for the first row shown when the selection is the
// second to last row, shown last.
const lastPage = -1
