package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/sessions"
)

// TestSessionsSaysEachRunsLambda: rlt sessions lists each run's λ (r_KL's
// weight, [reward] kl_mean) in a column after BEST REWARD, in rlt
// report's and the dashboard legend's words, the column as wide as its
// longest cell: a λ sweep's best rewards were listed side by side with no
// word of the λ each was trained under, where a reward compares across
// runs of one λ alone.
func TestSessionsSaysEachRunsLambda(t *testing.T) {
	runs := t.TempDir()
	for _, c := range []struct{ run, config string }{
		{"a", "[reward]\nkl_mean = 0.0\n"},
		{"b", "[reward]\nkl_mean = 9.0\n"},
		{"c", "[reward]\nkl_max = 0.5\n"},
		{"d", "[reward\n"},
	} {
		dir := filepath.Join(runs, c.run)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, sessions.ConfigFile), []byte("task = 'addition'\n"+c.config), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errs := runCLI(t, "", "sessions", "--runs", runs)
	if code != 0 {
		t.Fatalf("sessions: exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	head := []rune(lines[0])
	at := strings.Index(lines[0], "BEST REWARD R_KL WEIGHT ")
	if at < 0 {
		t.Fatalf("header %q: want R_KL WEIGHT after BEST REWARD", lines[0])
	}
	col := len([]rune(lines[0][:at])) + len("BEST REWARD ")
	for _, want := range []struct{ run, cell string }{
		{"a", "λ=0"},
		{"b", "λ=9"},
		{"c", "λ=3 (kl_mean at its default)"},
		{"d", "λ=?"},
	} {
		var row []rune
		for _, l := range lines[1:] {
			if strings.HasPrefix(l, want.run+" ") {
				row = []rune(l)
			}
		}
		// The cell under the header's, padded to the longest.
		end := col + len([]rune("λ=3 (kl_mean at its default)")) + 1
		if len(row) < end || len(head) < end || strings.TrimRight(string(row[col:end]), " ") != want.cell {
			t.Errorf("run %s: want %q under R_KL WEIGHT:\n%s", want.run, want.cell, out)
		}
	}
}
