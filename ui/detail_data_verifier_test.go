package ui

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/rlt-workbench/rlt/engine/task"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestDetailVerifiesADataRowOfATask: a run on a data file (task "jsonl")
// whose row is an addition or a linear-equation question shows that
// task's verdict on the explanation, as the engine keeps the task's
// verifier for such a row (task.ReadFile, docs/formats.md); the Detail
// showed no verifier line, the run's task having none. A row of no task's
// (a free-text question) shows none.
func TestDetailVerifiesADataRowOfATask(t *testing.T) {
	r, err := sessions.Create(filepath.Join(t.TempDir(), "data-run"), testCfg{Task: "jsonl", Steps: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	toks := []string{"4131", "Ġplus", "Ġ69", ":", "Ġ1", "+", "9", "=", "10", "."}
	rows := []struct{ question, solution, task string }{
		{"4131+69=?", "4200", "addition"},
		{"3x+5=20, x=?", "5", "linear"},
		{"What is the capital of France?", "Paris", ""},
	}
	for i, row := range rows {
		tr := dTrace(0, i, toks, make([]float32, len(toks)))
		tr.Question, tr.Solution = row.question, row.solution
		r.Emit(tr)
	}
	words := func(s string) string { return strings.Join(strings.Fields(ansi.Strip(s)), " ") }
	m := sized(t, r, 200, 50, nil)
	for i, row := range rows {
		openTrace(t, m, fmt.Sprintf("0-0-%d", i))
		v := words(m.View())
		if row.task == "" {
			if strings.Contains(v, "verifier (") {
				t.Errorf("%q: a verifier line on a question of no task's:\n%s", row.question, v)
			}
			continue
		}
		vt, _ := task.Lookup(row.task)
		want := "verifier (" + row.task + "): " + verdictText(vt.VerifyExplanation(row.question, strings.Join(toks, "")))
		if !strings.Contains(v, words(want)) {
			t.Errorf("%q: want %q on the Detail:\n%s", row.question, want, v)
		}
	}
}
