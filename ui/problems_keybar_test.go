package ui

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestProblemsKeyBarOffersEnterOnlyForATrace: the problems view's key bar
// names enter ("open the trace it is about") only where the selected
// problem is about a trace; on an engine's warning (a skipped data row)
// it promised it, and enter then said "this problem is not about one
// trace". The help page (?) lists the key whatever is selected.
func TestProblemsKeyBarOffersEnterOnlyForATrace(t *testing.T) {
	t.Chdir(t.TempDir())
	w, err := sessions.Create(filepath.Join("runs", "short-run"), testCfg{Task: "addition", Steps: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	w.Emit(event.Error{Time: t0, Step: 0, Severity: event.SeverityWarning, Err: errors.New("data train.jsonl: skipped 2 of 40 rows: line 3: not JSON")})
	short := makeTrace(0, 0, 1, 12)
	short.Score.TeacherLP = short.Score.TeacherLP[:9] // a problem about trace 0-0-1
	w.Emit(short)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	m := sized(t, w, 120, 30, nil)
	m.pull()
	hit(t, m, "!")
	const enter = "enter open the trace it is about"
	bar := func() string {
		lines := strings.Split(ansi.Strip(m.View()), "\n")
		return lines[len(lines)-1]
	}
	list := m.problemList()
	if len(list) != 2 {
		t.Fatalf("problems %+v, want the warning and the short trace", list)
	}
	for i, p := range list {
		if m.probs.sel != i {
			hit(t, m, "j")
		}
		if got := strings.Contains(bar(), enter); got != (p.trace != "") {
			t.Errorf("on %q (about trace %q): key bar %q, want enter offered %v", p.msg, p.trace, bar(), p.trace != "")
		}
	}
	hit(t, m, "k", "?")
	if !strings.Contains(ansi.Strip(m.View()), "open the trace it is about") {
		t.Errorf("the help page lacks enter:\n%s", m.View())
	}
}
