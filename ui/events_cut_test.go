package ui

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestHeaderOfARunWhoseEventsWereCut: a finished run whose events.jsonl
// was cut short in a step (its last whole record a phase of that step)
// is listed stopped, no process holding it; opened read-only, its header
// says stopped as the Runs screen does, not "running · sampling" from the
// last phase the cut file kept (the header believed the phase whatever
// held the run).
func TestHeaderOfARunWhoseEventsWereCut(t *testing.T) {
	runs := t.TempDir()
	dir := filepath.Join(runs, "run")
	w, err := sessions.Create(dir, testCfg{Task: "addition", Steps: 3})
	if err != nil {
		t.Fatal(err)
	}
	for s := 0; s < 3; s++ {
		at := t0.Add(time.Duration(s) * time.Second)
		w.Emit(event.Phase{Time: at, Step: s, Name: "sampling"})
		w.Emit(event.Metrics{Time: at, Step: s, Values: map[string]float64{"reward": 1}})
		w.Emit(event.Checkpoint{Time: at, Step: s, Dir: filepath.Join(dir, sessions.CheckpointsDir, fmt.Sprintf("step-%06d", s))})
	}
	w.Emit(event.Phase{Time: t0.Add(3 * time.Second), Step: 3, Name: "done"})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// Cut events.jsonl after step 1's sampling phase, in the middle of
	// the record after it.
	path := filepath.Join(dir, sessions.EventsFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(b, []byte(`"step":1,"name":"sampling"`))
	if at < 0 {
		t.Fatalf("no sampling phase of step 1 in %s", b)
	}
	end := at + bytes.IndexByte(b[at:], '\n') + 1
	if err := os.WriteFile(path, b[:end+20], 0o644); err != nil {
		t.Fatal(err)
	}
	rows, err := listRuns(new(sessions.Lister), runs, nil, "")
	if err != nil || len(rows) != 1 {
		t.Fatalf("listed %+v, %v", rows, err)
	}
	if rows[0].State != string(sessions.StateStopped) {
		t.Fatalf("listed %q, want stopped (the test's premise)", rows[0].State)
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
	if h := m.statusLine(); !strings.Contains(h, "· stopped (read-only)") || strings.Contains(h, "running") || strings.Contains(h, "st/min") {
		t.Errorf("header %q; want it stopped (read-only), as the Runs screen lists the run, with no pace", h)
	}
}
