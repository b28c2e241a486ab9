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
	if _, err := listRuns(l, runs, follow, ""); err != nil {
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
				got[i], _ = listRuns(l, runs, follow, "")
			}()
		}
		wg.Wait()
		want, err := listRuns(new(sessions.Lister), runs, follow, "")
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

// TestFollowRowsNamesTheRootItListed: followRows says which folder the
// Lister listed for a followed path (its run folders kept for the next
// listing), so that the listing names it to keep it: a run folder's
// parent, a folder of runs itself; none for a trainer's folder (kept
// apart, ForgetTrainersExcept) or a path that is not there any more.
func TestFollowRowsNamesTheRootItListed(t *testing.T) {
	top := t.TempDir()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	writeRun(t, filepath.Join(top, "parent", "run"), t0, 2, false)
	writeRun(t, filepath.Join(top, "runs", "a"), t0, 2, false)
	copyTree(t, "../sessions/testdata/trainers/trl", filepath.Join(top, "trl"))
	for _, c := range []struct {
		name, path, root string
		ok               bool
	}{
		{"a run folder", filepath.Join(top, "parent", "run"), filepath.Join(top, "parent"), true},
		{"a folder of runs", filepath.Join(top, "runs"), filepath.Join(top, "runs"), true},
		{"a trainer's folder", filepath.Join(top, "trl"), "", true},
		{"deleted", filepath.Join(top, "gone"), "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows, root, err := followRows(new(sessions.Lister), c.path)
			if (err == nil) != c.ok || (c.ok && len(rows) != 1) {
				t.Fatalf("rows %+v, %v", rows, err)
			}
			if root != c.root {
				t.Errorf("listed root %q, want %q", root, c.root)
			}
		})
	}
}

// TestRowsSayWhyTheyAreListed: each row is listed for one reason, under
// the runs folder, followed, or open here from elsewhere, and keeps it
// when its folder is read again for a resume (freshRow): the open run's
// row read again stays the open run's, not a followed one's (x would then
// offer to unfollow a folder nobody follows).
func TestRowsSayWhyTheyAreListed(t *testing.T) {
	top := t.TempDir()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	runs := filepath.Join(top, "runs")
	writeRun(t, filepath.Join(runs, "own"), t0, 2, false)
	writeRun(t, filepath.Join(top, "followed", "f"), t0, 2, false)
	writeRun(t, filepath.Join(top, "elsewhere", "opened"), t0, 2, false)
	copyTree(t, "../sessions/testdata/trainers/trl", filepath.Join(top, "trl"))
	l := new(sessions.Lister)
	rows, err := listRuns(l, runs, []string{filepath.Join(top, "followed"), filepath.Join(top, "trl")}, filepath.Join(top, "elsewhere", "opened"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]runOrigin{"own": originRunsFolder, "f": originFollowed, "trl": originFollowed, "opened": originOpen}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(rows), len(want), rows)
	}
	for _, row := range rows {
		name := filepath.Base(row.Dir)
		if row.Origin != want[name] {
			t.Errorf("%s listed as %d, want %d", name, row.Origin, want[name])
		}
		if again := freshRow(l, row); again.Origin != row.Origin {
			t.Errorf("%s read again: listed as %d, want %d as before", name, again.Origin, row.Origin)
		}
	}
}

// TestRelistReadsAgainAFolderFollowedAgain: the Runs screen's Lister
// keeps what it read of the run folders under the roots a listing names,
// and forgets a root no longer followed: a folder of runs, or a run
// folder, unfollowed and followed again later is listed as a fresh
// Lister lists it, not from what was read before. Here a file deep in its
// run folder grew while it was not followed, which moves none of what a
// Lister looks at before walking a folder no process writes again for its
// size: an entry kept from before would still say the old size.
func TestRelistReadsAgainAFolderFollowedAgain(t *testing.T) {
	for _, c := range []struct {
		name     string
		unfollow string // the followed path left out of the listings in between
		run      string // the run folder whose deep file grows meanwhile
	}{
		{"a folder of runs", "other", filepath.Join("other", "f")},
		{"a run folder", filepath.Join("parent", "g"), filepath.Join("parent", "g")},
	} {
		t.Run(c.name, func(t *testing.T) {
			top := t.TempDir()
			t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			runs := filepath.Join(top, "runs")
			writeRun(t, filepath.Join(runs, "a"), t0, 2, false)
			writeRun(t, filepath.Join(top, "other", "f"), t0.Add(time.Hour), 2, false)
			writeRun(t, filepath.Join(top, "parent", "g"), t0.Add(2*time.Hour), 2, false)
			deep := filepath.Join(top, c.run, "notes", "deep.txt")
			if err := os.MkdirAll(filepath.Dir(deep), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(deep, []byte("a\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			all := []string{filepath.Join(top, "other"), filepath.Join(top, "parent", "g")}
			var without []string
			for _, f := range all {
				if f != filepath.Join(top, c.unfollow) {
					without = append(without, f)
				}
			}
			l := new(sessions.Lister)
			if _, err := listRuns(l, runs, all, ""); err != nil {
				t.Fatal(err)
			}
			if _, err := listRuns(l, runs, without, ""); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(deep, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString("grown while not followed\n"); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			got, err := listRuns(l, runs, all, "")
			if err != nil {
				t.Fatal(err)
			}
			want, err := listRuns(new(sessions.Lister), runs, all, "")
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
				t.Errorf("followed again, listed\n%+v\nlisted fresh\n%+v", got, want)
			}
		})
	}
}

// A followed path that is not there, or not a folder, is named once.
func TestFollowRowsNamesThePathOnce(t *testing.T) {
	file := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(file, []byte("x"), 0o644)
	missing := filepath.Join(t.TempDir(), "gone")
	for _, c := range []struct{ path, want string }{
		{missing, "follow " + missing + ": it does not exist"},
		{file, "follow " + file + ": not a folder"},
	} {
		_, _, err := followRows(&sessions.Lister{}, c.path)
		if err == nil || err.Error() != c.want {
			t.Errorf("followRows(%s): %v, want %q", c.path, err, c.want)
		}
	}
}
