package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestRepeatedLabelWritesNothing: pressing the label already in force on
// a trace (r then r, a then a, a flag of the same note) says so and
// writes nothing to reviews.jsonl. It wrote a second, identical record,
// so that one u said "undone (now rejected)" and a second was needed to
// take the label back.
func TestRepeatedLabelWritesNothing(t *testing.T) {
	r, err := sessions.Create(filepath.Join(t.TempDir(), "run"), testCfg{Task: "addition"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Emit(dTrace(1, 0, []string{"a", "b"}, []float32{0.3, 0}))
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	records := func() int {
		data, err := os.ReadFile(filepath.Join(r.Dir(), sessions.ReviewsFile))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		return strings.Count(string(data), "\n")
	}
	flag := func(m *Model, note string) {
		send(m, press("f"))
		m.detail.input.SetValue(note)
		send(m, tea.KeyMsg{Type: tea.KeyEnter})
	}
	for _, c := range []struct {
		name  string
		press func(m *Model)
		again func(m *Model)
		word  string
	}{
		{"x x", func(m *Model) { send(m, press("x")) }, func(m *Model) { send(m, press("x")) }, "rejected"},
		{"a a", func(m *Model) { send(m, press("a")) }, func(m *Model) { send(m, press("a")) }, "accepted"},
		{"f f, one note", func(m *Model) { flag(m, "look") }, func(m *Model) { flag(m, "look") }, "flagged"},
	} {
		m := sized(t, r, 120, 30, nil)
		m.pull()
		send(m, press("2"))
		send(m, press("enter"))
		if !m.detail.has {
			t.Fatalf("%s: no trace open", c.name)
		}
		id := m.detail.rec.ID
		before := records()
		c.press(m)
		if n := records(); n != before+1 {
			t.Fatalf("%s: the first press wrote %d records, want 1", c.name, n-before)
		}
		c.again(m)
		if n := records(); n != before+1 {
			t.Errorf("%s: the repeat press wrote %d more records, want none", c.name, n-before-1)
		}
		if want := id + ": already " + c.word; !strings.Contains(m.msg, want) {
			t.Errorf("%s: the repeat press said %q, want %q", c.name, m.msg, want)
		}
		send(m, press("u"))
		if l := r.Store().Label(id).Label; l != sessions.LabelNone {
			t.Errorf("%s: one u left the trace %s, want unreviewed", c.name, l.Verdict())
		}
	}

	// A flag with another note is a new label: written.
	m := sized(t, r, 120, 30, nil)
	m.pull()
	send(m, press("2"))
	send(m, press("enter"))
	id := m.detail.rec.ID
	flag(m, "look")
	before := records()
	flag(m, "look again")
	if n := records(); n != before+1 {
		t.Errorf("a flag with a new note wrote %d records, want 1", n-before)
	}
	if l := r.Store().Label(id); l.Label != sessions.LabelFlag || l.Note != "look again" {
		t.Errorf("after a new note: %+v", l)
	}
}
