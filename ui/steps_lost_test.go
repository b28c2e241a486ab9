package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions"
)

// A run of three steps that lost its metrics.jsonl (deleted, emptied, cut
// short) reads "step 3/3" in the header and 3/3 in its Runs screen row,
// listed and open, as sessions counts it (its checkpoints, Run.Steps and
// RunSummary), not "step 0/3" beside "—" (the header counted the metric
// records alone, the open run's row after it).
func TestHeaderCountsARunThatLostItsMetrics(t *testing.T) {
	for _, c := range []struct {
		name string
		lose func(path string) error
	}{
		{"kept", func(string) error { return nil }},
		{"deleted", os.Remove},
		{"emptied", func(p string) error { return os.WriteFile(p, nil, 0o644) }},
		{"cut after its first step", func(p string) error {
			return os.WriteFile(p, []byte(`{"step":0,"time":"2026-01-02T03:04:05Z","values":{"reward":1}}`+"\n"), 0o644)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			runs := t.TempDir()
			dir := filepath.Join(runs, "run")
			w, err := sessions.Create(dir, testCfg{Task: "addition", Steps: 3})
			if err != nil {
				t.Fatal(err)
			}
			for s := 0; s < 3; s++ {
				at := t0.Add(time.Duration(s) * time.Second)
				w.Emit(event.Metrics{Time: at, Step: s, Values: map[string]float64{"reward": 1}})
				w.Emit(event.Checkpoint{Time: at, Step: s, Dir: filepath.Join(dir, sessions.CheckpointsDir, fmt.Sprintf("step-%06d", s))})
			}
			w.Emit(event.Phase{Time: t0.Add(3 * time.Second), Step: 3, Name: "done"})
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if err := c.lose(filepath.Join(dir, sessions.MetricsFile)); err != nil {
				t.Fatal(err)
			}
			ro, err := sessions.OpenReadOnly(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer ro.Close()
			m := newModel(Options{Session: &sessions.Session{Run: ro, ReadOnly: true, Steps: 3}})
			t.Cleanup(func() { closeModel(t, m) })
			m.Update(tea.WindowSizeMsg{Width: 200, Height: 30})
			m.pull()
			if got := regexp.MustCompile(`step \d+(/\d+)?`).FindString(m.statusLine()); got != "step 3/3" {
				t.Errorf("header %q counts %q, want step 3/3", m.statusLine(), got)
			}
			rows, err := listRuns(new(sessions.Lister), runs, nil, "")
			if err != nil || len(rows) != 1 {
				t.Fatalf("listed %+v, %v", rows, err)
			}
			if got := rows[0].steps(); got != "3/3" {
				t.Errorf("Runs screen's row, listed: %q steps, want 3/3", got)
			}
			m.runs.rows = rows
			m.runs.followOpen()
			if got := m.runs.rows[0].steps(); got != "3/3" {
				t.Errorf("Runs screen's row of the open run: %q steps, want 3/3", got)
			}
		})
	}
}
