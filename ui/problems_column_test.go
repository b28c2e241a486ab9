package ui

import (
	"testing"

	"github.com/rlt-workbench/rlt/sessions"
)

// TestSkippedRowSaysItsColumn: a row an import left out is placed at its
// file, line and, where the reader knew it, column, as rlt import said
// it (RowIssue.String); the Problems view said the line alone.
func TestSkippedRowSaysItsColumn(t *testing.T) {
	same := func(s string) string { return s }
	for _, c := range []struct {
		line, column int
		want         string
	}{
		{17, 8, "stored_completions/4.csv:17:8"},
		{17, 0, "stored_completions/4.csv:17"},
		{0, 0, "stored_completions/4.csv"},
	} {
		e := sessions.EventRecord{Kind: sessions.KindSkipped, File: "stored_completions/4.csv", Line: c.line, Column: c.column, Error: "row 2: bad"}
		if got := eventProblem(e, same).where; got != c.want {
			t.Errorf("line %d column %d: placed at %q, want %q", c.line, c.column, got, c.want)
		}
	}
}
