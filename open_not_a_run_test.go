package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenSaysWhatARunFolderHolds: rlt open on a folder that is neither a
// run folder of rlt's nor a trainer's (an empty one, one of other files)
// says what a run folder holds (config.toml and metrics.jsonl) and what
// to give, then what a trainer's holds; it named only the trainers' files,
// as if rlt had looked for nothing of its own. A model folder is still
// said to be one.
func TestOpenSaysWhatARunFolderHolds(t *testing.T) {
	empty := t.TempDir()
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "notes.txt"), []byte("hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const holds = ": not a run folder: a run folder of rlt's holds config.toml and metrics.jsonl (rlt run writes them in a new folder under runs/), and this one "
	const then = "; give a run folder (rlt sessions lists those under runs/), or a trainer's to follow, which this one is not either: not a trainer's run folder: no stored_completions/*.csv"
	for _, c := range []struct {
		dir  string
		want string
	}{
		{empty, "rlt open: " + empty + holds + "is empty" + then},
		{other, "rlt open: " + other + holds + "holds neither" + then},
		{embeddedTeacher, "a model folder, not a run folder: rlt model info describes it"},
	} {
		code, _, errs := runCLI(t, "", "open", c.dir)
		if code != 1 || !strings.Contains(errs, c.want) {
			t.Errorf("rlt open %s: exit %d, %q; want exit 1 and %q", c.dir, code, errs, c.want)
		}
	}
}
