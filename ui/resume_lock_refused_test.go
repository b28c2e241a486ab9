package ui

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/sessions"
)

// TestResumeOfARunWhoseLockIsRefused: r on a run whose run.lock an open
// to write it refuses (here a folder of that name: the listing notes it,
// sessions.RunSummary.LockRefused), while another run is open here to
// review or trains here, is refused on the message line before anything
// is closed or stopped, in the launcher's refusal's words: the launcher is
// not asked, the run open here stays open, the same session, and one
// training here keeps training. The view was closed first (switchRun), or
// the training stopped after the question, then the launcher refused the
// resume on the lock: the user's place in the run, or its training,
// lost for nothing.
func TestResumeOfARunWhoseLockIsRefused(t *testing.T) {
	for _, training := range []bool{false, true} {
		name := "another run open to review"
		if training {
			name = "a run training here"
		}
		t.Run(name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			open, target := filepath.Join("runs", "open"), filepath.Join("runs", "other")
			writeRun(t, target, t0, 2, false)
			cfg, _ := sessions.EncodeTOML(testCfg{Task: "addition", Steps: 10}) // steps left to run
			if err := os.WriteFile(filepath.Join(target, sessions.ConfigFile), cfg, 0o644); err != nil {
				t.Fatal(err)
			}
			withCheckpoint(t, target, 1)
			lock := filepath.Join(target, sessions.LockFileName)
			if err := os.Mkdir(lock, 0o755); err != nil {
				t.Fatal(err)
			}
			var asked []string
			l := &resumeRefuser{testLauncher{runs: "runs"}, func(dir string) error {
				asked = append(asked, dir)
				return errors.New("refused on its lock")
			}}
			var s *sessions.Session
			ctl := &fakeControl{}
			if training {
				s = trainingHere(t, open, 0, ctl)
			} else {
				writeRun(t, open, t0, 3, false)
				var err error
				if s, err = l.OpenForReview(open); err != nil || s.IsReadOnly() {
					t.Fatalf("open for review: %v", err)
				}
			}
			m := onRuns(t, s, l, 200)
			selectRun(t, m, target)
			_, cmd := m.Update(keyMsg("r"))
			pump(t, m, cmd, func() bool {
				return m.switching == "" && m.runs.checking == "" && (m.runs.msg != "" || m.runs.confirm != nil)
			})
			if m.runs.confirm != nil {
				q, _, _ := m.runs.action()
				t.Fatalf("asks %q, want it refused", q)
			}
			for _, want := range []string{"other is not resumed: " + lock + " cannot be read (it is a folder, not a file)",
				"enter opens it read-only", "see what it is (ls -l " + sessions.ShellQuote(lock) + ")"} {
				if !strings.Contains(m.runs.msg, want) || !m.runs.msgErr {
					t.Errorf("message %q (error %v), want %q in it", m.runs.msg, m.runs.msgErr, want)
				}
			}
			if len(asked) != 0 {
				t.Errorf("the launcher was asked to resume %v, for a resume its lock refuses", asked)
			}
			if m.cur == nil || m.cur.Session != s || m.sh.run != s.Run || !m.hasRun() {
				t.Errorf("the run open here was closed (opened again: %v): want the same session of %s", m.hasRun(), open)
			}
			if training && (!m.engineRunning() || ctl.stop > 0) {
				t.Errorf("the run training here did not keep running: running %v, stopped %v", m.engineRunning(), ctl.stop > 0)
			}
		})
	}
}
