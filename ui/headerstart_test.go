package ui

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestHeaderStartingSaysOneThing: the header of a run whose engine this
// workbench drives, before any phase event, reads as what its progress
// says: loading its models, "starting" with the load's count alone; a
// step's phase under way, running with that phase's count. It read
// "starting (loading models) · sampling 0/96 tokens" (the engine sampling
// its first step, no phase event yet) and "starting (loading models) ·
// loading 0/1 model pairs" (said twice).
func TestHeaderStartingSaysOneThing(t *testing.T) {
	t.Chdir(t.TempDir())
	rec, err := sessions.Create(filepath.Join("runs", "live"), testCfg{Task: "addition", Steps: 20})
	if err != nil {
		t.Fatal(err)
	}
	m := newModel(Options{Launcher: &testLauncher{runs: "runs"}, RunsDir: "runs",
		Session: &sessions.Session{Run: rec, Control: &fakeControl{}, Steps: 20, Close: rec.Close}})
	t.Cleanup(func() { closeModel(t, m) })
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 30})
	m.now = t0
	header := func() string { return ansi.Strip(m.statusLine()) }

	if h := header(); !strings.Contains(h, "· starting (loading models) ·") {
		t.Errorf("no progress yet: header %q, want starting (loading models)", h)
	}
	for _, c := range []struct {
		name      string
		p         event.Progress
		want, not []string
	}{
		{"loading", event.Progress{Time: t0, Started: t0, Step: -1, Phase: "loading", Total: 1, Unit: "model pairs"},
			[]string{"· starting · loading 0/1 model pairs ·"}, []string{"(loading models)", "running"}},
		{"sampling, no phase event", event.Progress{Time: t0.Add(time.Second), Started: t0.Add(time.Second), Step: 0, Phase: "sampling", Total: 96, Unit: "tokens"},
			[]string{"· running · sampling 0/96 tokens · step 0/20 ·"}, []string{"starting", "loading"}},
	} {
		rec.Emit(c.p)
		h := header()
		for _, w := range c.want {
			if !strings.Contains(h, w) {
				t.Errorf("%s: header %q, want %q", c.name, h, w)
			}
		}
		for _, n := range c.not {
			if strings.Contains(h, n) {
				t.Errorf("%s: header %q says %q", c.name, h, n)
			}
		}
	}
}
