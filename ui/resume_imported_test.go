package ui

import (
	"path/filepath"
	"testing"

	"github.com/rlt-workbench/rlt/sessions"
)

// TestResumeOfAnImportSaysWhatItIs: r on a run imported from another
// trainer (rlt import) is refused on the message line in the resume's own
// words (sessions.ImportSource.NotResumed: imported from where, no
// training to continue, open it to review and export, or rlt score --run),
// before anything here is closed or stopped, whatever is open: nothing, a
// run open to review, or a run training here. With a run open, it was
// said as a run of ours with no checkpoint ('imported has no checkpoint
// to continue from: not resumed'), which named neither the import nor a
// way on, where with none open the launcher said what it is.
func TestResumeOfAnImportSaysWhatItIs(t *testing.T) {
	for _, open := range []string{"nothing", "a run to review", "a run training"} {
		t.Run(open, func(t *testing.T) {
			runsWorld(t) // ext/official: the official trainer's folder
			imp := filepath.Join("runs", "imported")
			if _, err := sessions.Import(imp, filepath.Join("ext", "official")); err != nil {
				t.Fatal(err)
			}
			src, ok := sessions.ImportedFrom(imp)
			if !ok {
				t.Fatalf("%s is not read as an import", imp)
			}
			var asked []string
			l := &resumeRefuser{testLauncher{runs: "runs"}, func(dir string) error {
				asked = append(asked, dir)
				return sessions.Refused("resume", dir, src.NotResumed(dir))
			}}
			var s *sessions.Session
			switch open {
			case "a run to review":
				var err error
				if s, err = l.OpenForReview(filepath.Join("runs", "20260103-101500")); err != nil {
					t.Fatal(err)
				}
			case "a run training":
				s = trainingHere(t, filepath.Join("runs", "live"), 0, &fakeControl{})
			}
			m := onRuns(t, s, l, 200)
			selectRun(t, m, imp)
			_, cmd := m.Update(keyMsg("r"))
			pump(t, m, cmd, func() bool { return m.switching == "" && m.runs.checking == "" && m.runs.msg != "" })
			want := "imported is not resumed: " + src.NotResumed(imp).Error()
			if m.runs.msg != want || !m.runs.msgErr {
				t.Errorf("message %q (error %v), want %q", m.runs.msg, m.runs.msgErr, want)
			}
			if len(asked) != 0 || m.runs.confirm != nil {
				t.Errorf("the launcher was asked to resume %v (asked to stop the live run: %v): want it refused here", asked, m.runs.confirm != nil)
			}
			if m.cur == nil && s != nil || m.cur != nil && m.cur.Session != s {
				t.Errorf("the run open here was closed or replaced: want it as it was")
			}
		})
	}
}
