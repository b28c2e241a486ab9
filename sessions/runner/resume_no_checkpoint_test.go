package runner

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/rlt-workbench/rlt/sessions"
)

// TestResumeWithNoCheckpointSaysTheOneRefusal: the resume of a run with no
// checkpoint to continue from is refused in sessions.NoCheckpointRefusal's
// words (ContinueLine's), the ones the workbench's Runs screen says the
// refusal in before closing the run open there
// (TestResumeWithoutACheckpointKeepsTheViewOpen): the two read "… no usable checkpoint to
// continue from; start a new run with its configuration instead: …" and
// "X has no checkpoint to continue from: not resumed; start it again: …".
func TestResumeWithNoCheckpointSaysTheOneRefusal(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	rec, _, err := Create(t.TempDir(), mustCheck(t, smallConfig(t, 3)), sessions.ProcessHeadless)
	if err != nil {
		t.Fatal(err)
	}
	dir := rec.Dir()
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = OpenForResume(dir, Overrides{}, sessions.ProcessHeadless)
	want := "resume " + dir + ": it has no checkpoint to continue from; start it again: rlt run --config " +
		sessions.ShellQuote(filepath.Join(dir, sessions.ConfigFile))
	if err == nil || err.Error() != want || !errors.Is(err, sessions.ErrNoCheckpoint) {
		t.Fatalf("resume: %v; want %q (ErrNoCheckpoint)", err, want)
	}
}
