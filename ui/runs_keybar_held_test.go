package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/sessions/sessionstest"
)

// TestRunsKeyBarOffersNoResumeWhereRRefuses: every run below has a
// checkpoint before its planned end (sessions.RunSummary.Resumable), and
// r resumes only the free one: on a run another process holds, one whose
// run.lock cannot be probed (unknown), one whose run.lock an open to
// write it refuses (a folder of that name) and a broken one (no readable
// config.toml) r says why it does not (resumeRefusal). The key bar
// offered "r resume from checkpoint" on each of them.
func TestRunsKeyBarOffersNoResumeWhereRRefuses(t *testing.T) {
	t.Chdir(t.TempDir())
	stepped := func(dir string) *sessions.Run {
		w, err := sessions.Create(dir, flowCfg{Task: "addition", Steps: 10})
		if err != nil {
			t.Fatal(err)
		}
		for s := range 3 {
			w.Emit(event.Phase{Time: t0, Name: "sampling", Step: s})
			w.Emit(event.Metrics{Time: t0, Step: s, Values: map[string]float64{"reward": 0.5}})
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		withCheckpoint(t, dir, 1)
		return w
	}
	free := filepath.Join("runs", "free")
	if err := stepped(free).Close(); err != nil {
		t.Fatal(err)
	}
	held := filepath.Join("runs", "held")
	w := stepped(held) // this process's writer: another's to the listing
	t.Cleanup(func() { w.Close() })
	unprobed := filepath.Join("runs", "unprobed")
	killWriter(t, stepped(unprobed))
	sessionstest.LockLinkedToItself(t, unprobed)
	lockDir := filepath.Join("runs", "lockdir")
	if err := stepped(lockDir).Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(lockDir, sessions.LockFileName)); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(lockDir, sessions.LockFileName), 0o755); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join("runs", "broken")
	if err := stepped(broken).Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(broken, sessions.ConfigFile)); err != nil {
		t.Fatal(err)
	}

	m := onRuns(t, nil, &testLauncher{runs: "runs"}, 200)
	const resume = "r resume from checkpoint"
	for _, c := range []struct {
		dir   string
		offer bool
	}{{free, true}, {held, false}, {unprobed, false}, {lockDir, false}, {broken, false}} {
		selectRun(t, m, c.dir)
		row := m.runs.selected()
		if row == nil {
			t.Fatalf("%s not listed:\n%s", c.dir, m.View())
		}
		lines := strings.Split(ansi.Strip(m.View()), "\n")
		bar := lines[len(lines)-1]
		if got := strings.Contains(bar, resume); got != c.offer {
			t.Errorf("on %s (%s, holder %v): key bar %q, want %q offered %v", c.dir, row.State, row.Holder.Held(), bar, resume, c.offer)
		}
		why, _ := m.runs.resumeRefusal(*row, false)
		if (why == "") != c.offer {
			t.Errorf("on %s: r says %q; the test wants r to resume it: %v", c.dir, why, c.offer)
		}
	}
}
