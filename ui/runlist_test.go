package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/sessions"
)

// TestRelistKeepsUp: the Runs screen's one Lister, used by overlapping
// refreshes (run with -race), lists what a fresh listing does after the
// runs folder's runs and a followed run folder (whose siblings it also
// reads) changed.
func TestRelistKeepsUp(t *testing.T) {
	root := t.TempDir()
	runs, other := filepath.Join(root, "runs"), filepath.Join(root, "other")
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	writeRun(t, filepath.Join(runs, "a"), t0, 5, false)
	writeRun(t, filepath.Join(runs, "b"), t0.Add(time.Hour), 3, true)
	writeRun(t, filepath.Join(other, "f"), t0.Add(2*time.Hour), 2, false)
	writeRun(t, filepath.Join(other, "g"), t0.Add(3*time.Hour), 2, false)
	follow := []string{filepath.Join(other, "f")}
	appendLine := func(path, line string) {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		f.WriteString(line)
	}
	cases := []struct {
		name   string
		change func()
	}{
		{"nothing", func() {}},
		{"a step of a", func() {
			appendLine(filepath.Join(runs, "a", sessions.MetricsFile), `{"step":5,"values":{"reward":9}}`+"\n")
		}},
		{"a step of the followed run", func() {
			appendLine(filepath.Join(other, "f", sessions.MetricsFile), `{"step":2,"values":{"reward":3}}`+"\n")
		}},
		{"a finished", func() {
			appendLine(filepath.Join(runs, "a", sessions.EventsFile), `{"kind":"phase","name":"done"}`+"\n")
		}},
		{"b removed", func() { os.RemoveAll(filepath.Join(runs, "b")) }},
		{"c added", func() { writeRun(t, filepath.Join(runs, "c"), t0.Add(4*time.Hour), 1, false) }},
	}
	l := new(sessions.Lister)
	if _, err := listRuns(l, runs, follow); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		c.change()
		var wg sync.WaitGroup
		got := make([][]runRow, 2)
		for i := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i], _ = listRuns(l, runs, follow)
			}()
		}
		wg.Wait()
		want, err := listRuns(new(sessions.Lister), runs, follow)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range got {
			if fmt.Sprintf("%+v", g) != fmt.Sprintf("%+v", want) {
				t.Errorf("%s: relisted\n%+v\nlisted fresh\n%+v", c.name, g, want)
			}
		}
	}
}
