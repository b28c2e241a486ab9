package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui"
)

// copyDir copies a run folder fixture so that it can be written.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(out, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestWorkbenchAndCLIExportTheSameRows: the workbench's export (e on a
// trace) and rlt export write the same Bespoke-Stratos rows for one run,
// with the run's own student prompt (this run's short one), not
// record.DefaultStudentSystem.
func TestWorkbenchAndCLIExportTheSameRows(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	copyDir(t, filepath.Join("sessions", "testdata", "prev-format", "grpo"), dir) // reviewed: 0-0-0 accepted
	r, err := sessions.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Review("1-1-1", sessions.LabelAccept, ""); err != nil {
		t.Fatal(err)
	}
	var m tea.Model = ui.New(ui.Options{Session: &sessions.Session{Run: r}, RunsDir: filepath.Dir(dir)})
	m, _ = m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	for _, k := range []tea.KeyMsg{{Type: tea.KeyRunes, Runes: []rune("2")}, {Type: tea.KeyEnter}, {Type: tea.KeyRunes, Runes: []rune("e")}} {
		var cmd tea.Cmd
		m, cmd = m.Update(k)
		if k.Type == tea.KeyEnter && cmd != nil {
			m, _ = m.Update(cmd()) // the trace opens
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	workbench, err := os.ReadFile(filepath.Join(dir, sessions.ExportFile))
	if err != nil {
		t.Fatalf("the workbench wrote no export: %v", err)
	}
	code, cli, errs := runCLI(t, "", "export", "--run", dir)
	if code != 0 {
		t.Fatalf("rlt export: exit %d: %s", code, errs)
	}
	if string(workbench) != cli {
		t.Fatalf("the workbench exported\n%s\nrlt export\n%s", workbench, cli)
	}
	if n := strings.Count(cli, "\n"); n != 2 || !strings.Contains(cli, `"system":"Solve: thought, then solution."`) ||
		strings.Contains(cli, record.DefaultStudentSystem) {
		t.Errorf("rows (%d) should be the 2 accepted traces with the run's student prompt:\n%s", n, cli)
	}
}

// TestExportSaysWhatItLeftOut: a broken trace line and a review with a label
// it does not know are each named with file and line on stderr (the count
// alone left the user to find them), by export and report (score --run
// says them the same way, through reportSkipped).
func TestExportSaysWhatItLeftOut(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	copyDir(t, filepath.Join("sessions", "testdata", "prev-format", "grpo"), dir)
	reviews := filepath.Join(dir, sessions.ReviewsFile)
	f, err := os.OpenFile(reviews, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"time":"2026-12-04T14:50:00Z","trace":"1-1-1","label":"accepted"}` + "\n")
	f.Close()
	data, _ := os.ReadFile(reviews)
	line := strings.Count(string(data), "\n")
	want := fmt.Sprintf("%s:%d: skipped broken record: unknown label \"accepted\"", reviews, line)
	code, _, errs := runCLI(t, "", "export", "--run", dir, "--out", filepath.Join(t.TempDir(), "rows.jsonl"))
	if code != 0 || !strings.Contains(errs, "left out 1 unreadable records of the run:\n  "+want) {
		t.Errorf("rlt export: exit %d, stderr %q; want it to name %s", code, errs, want)
	}
	code, _, errs = runCLI(t, "", "report", "--out", t.TempDir(), dir)
	if code != 0 || !strings.Contains(errs, want) {
		t.Errorf("rlt report: exit %d, stderr %q; want it to name %s", code, errs, want)
	}
}
