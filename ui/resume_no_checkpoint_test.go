package ui

import (
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestResumeWithoutACheckpointKeepsTheViewOpen: r on a run with no
// checkpoint to continue from, while a run is open here with no engine
// running (another run opened to review, or the run itself, interrupted
// before its first checkpoint), is refused on the message line before
// anything is closed: the launcher is not asked, and the run open here
// stays open, the same session, where the user was in it. The view was
// closed first (switchRun), then the launcher refused the resume, and the
// run was opened again: the user's place in it lost for nothing.
func TestResumeWithoutACheckpointKeepsTheViewOpen(t *testing.T) {
	for _, c := range []struct {
		name    string
		inPlace bool // r on the run open here (interrupted), not another
	}{
		{"another run", false},
		{"the run open here, interrupted", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			open, other := filepath.Join("runs", "open"), filepath.Join("runs", "other")
			writeRun(t, open, t0, 3, false)
			writeRun(t, other, t0, 3, false)
			target := other
			if c.inPlace {
				// Killed after its first step, before any checkpoint: open
				// here it is interrupted, and r resumes it in place.
				w, err := sessions.Create(filepath.Join("runs", "killed"), flowCfg{Task: "addition", Steps: 3})
				if err != nil {
					t.Fatal(err)
				}
				w.Emit(event.Phase{Time: t0, Name: "sampling", Step: 0})
				w.Emit(event.Metrics{Time: t0, Step: 0, Values: map[string]float64{"reward": -1}})
				killWriter(t, w)
				open, target = filepath.Join("runs", "killed"), filepath.Join("runs", "killed")
			}
			var asked []string
			l := &resumeRefuser{testLauncher{runs: "runs"}, func(dir string) error {
				// As the runner's launcher refuses it (runner.OpenForResume).
				asked = append(asked, dir)
				return sessions.NoCheckpointRefusal(dir)
			}}
			s, err := l.OpenForReview(open)
			if err != nil || s.IsReadOnly() {
				t.Fatalf("open for review: %v (read-only %v)", err, s.IsReadOnly())
			}
			m := newModel(Options{Session: s, Launcher: l, RunsDir: "runs"})
			t.Cleanup(func() { closeModel(t, m) })
			m.Update(tea.WindowSizeMsg{Width: 200, Height: 30})
			if c.inPlace && !m.interrupted() {
				t.Fatalf("the killed run open here is not interrupted; the screen is:\n%s", m.View())
			}
			hit(t, m, "4")
			listNow(t, m)
			selectRun(t, m, target)
			_, cmd := m.Update(keyMsg("r"))
			pump(t, m, cmd, func() bool { return m.switching == "" && m.runs.checking == "" && m.runs.msg != "" })
			// The launcher's words (runner's
			// TestResumeWithNoCheckpointSaysTheOneRefusal), where it said
			// "other has no checkpoint to continue from: not resumed; …".
			want := "resume " + target + ": it has no checkpoint to continue from; start it again: rlt run --config " +
				sessions.ShellQuote(filepath.Join(target, sessions.ConfigFile))
			if !strings.Contains(m.runs.msg, want) || !m.runs.msgErr {
				t.Errorf("message %q (error %v), want %q", m.runs.msg, m.runs.msgErr, want)
			}
			if len(asked) != 0 {
				t.Errorf("the launcher was asked to resume %v: the view was closed for a resume refused", asked)
			}
			if m.cur == nil || m.cur.Session != s || m.sh.run != s.Run || !m.hasRun() {
				t.Errorf("the run open here was closed (opened again: %v): want the same session of %s, open to review", m.hasRun(), open)
			}
		})
	}
}
