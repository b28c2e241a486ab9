package sessions

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestListingSaysTraceLossItself: the listing of a run whose trace files
// were lost or damaged says so itself, before any session recorded it,
// as the run opened says it: a file of a step its checkpoints prove done
// missing, traces/ missing, a file cut within its last line, one that
// cannot be read. It said trace losses only once a session had recorded
// them (lost events), and a cut or unreadable file never. A Lister's
// relist reads traces/ again once it changed (a file removed, added or
// replaced), or a file of it changed in size or time: a file cut in place
// is said by the next relist too, as by a fresh listing (a relist saw it
// only once the folder changed).
func TestListingSaysTraceLossItself(t *testing.T) {
	file := traceFileName
	name := func(step int) string { return filepath.Base(traceFileName("", step)) }
	for _, c := range []struct {
		name   string
		damage func(t *testing.T, dir string)
		said   []string // in the listing's note, each
	}{
		{"nothing lost", func(*testing.T, string) {}, nil},
		{"the file of step 1 deleted", func(t *testing.T, dir string) {
			if err := os.Remove(file(dir, 1)); err != nil {
				t.Fatal(err)
			}
		}, []string{"traces/: has no trace file of step 1, though a checkpoint of the run proves them done"}},
		{"traces/ deleted", func(t *testing.T, dir string) {
			if err := os.RemoveAll(filepath.Join(dir, TracesDir)); err != nil {
				t.Fatal(err)
			}
		}, []string{"traces/: missing, though the run's events record steps: its traces (what the teacher wrote, and its scores) are lost (those of steps 0-4 at least)"}},
		{"the file of step 2 cut within its last line", func(t *testing.T, dir string) {
			data, err := os.ReadFile(file(dir, 2))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file(dir, 2), data[:len(data)/2], 0o644); err != nil {
				t.Fatal(err)
			}
		}, []string{"traces/" + name(2) + ": ends in a partial line"}},
		{"the file of step 3 a folder", func(t *testing.T, dir string) {
			os.Remove(file(dir, 3))
			if err := os.Mkdir(file(dir, 3), 0o755); err != nil {
				t.Fatal(err)
			}
		}, []string{"traces/" + name(3) + ": cannot be read (a folder", "traces/: has no trace file of step 3"}},
		{"the file of step 0 a link to nothing", func(t *testing.T, dir string) {
			os.Remove(file(dir, 0))
			if err := os.Symlink(filepath.Join(dir, "gone.jsonl"), file(dir, 0)); err != nil {
				t.Fatal(err)
			}
		}, []string{"traces/" + name(0) + ": cannot be read ("}},
	} {
		t.Run(c.name, func(t *testing.T) {
			runs, dir := fiveStepsTwoCheckpoints(t)
			var l Lister
			if _, err := l.List(runs); err != nil { // what a relist continues from
				t.Fatal(err)
			}
			c.damage(t, dir)
			fresh, err := List(runs)
			if err != nil || len(fresh) != 1 {
				t.Fatalf("List: %v, %v", fresh, err)
			}
			relist, err := l.List(runs)
			if err != nil || len(relist) != 1 {
				t.Fatalf("relist: %v, %v", relist, err)
			}
			for _, s := range []struct {
				how  string
				note string
			}{{"List", fresh[0].Note}, {"relist", relist[0].Note}} {
				for _, want := range c.said {
					if !strings.Contains(s.note, want) {
						t.Errorf("%s: note %q, want it to say %q", s.how, s.note, want)
					}
				}
				if len(c.said) == 0 && strings.Contains(s.note, "traces/") {
					t.Errorf("%s: note %q says traces/ lost something", s.how, s.note)
				}
			}
		})
	}
}

// TestRelistSeesTraceFilesChangedInPlace: a Lister's relist sees a trace
// file cut in place, or put back in place, which leaves traces/ as it
// was, by the sizes and times of the files (changedInPlace), a few a
// relist: the newest at the next relist, any other within
// ceil((n-1)/(traceFilesStatted-1)) relists of a run of n files, as a
// fresh listing says it, the folder's size with it. A relist saw it only
// once the folder changed.
func TestRelistSeesTraceFilesChangedInPlace(t *testing.T) {
	const steps = 30
	runs := t.TempDir()
	dir := filepath.Join(runs, "run")
	w := mustCreate(t, dir, Options{})
	emitSteps(w, 0, steps, 1, 2)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	within := (steps - 2 + traceFilesStatted - 1) / (traceFilesStatted - 1) // ceil((n-1)/(k-1))
	var l Lister
	if _, err := l.List(runs); err != nil {
		t.Fatal(err)
	}
	folder := filepath.Join(dir, TracesDir)
	before, err := os.Stat(folder)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		step    int
		cut     bool // cut within its last line; else put back whole
		relists int  // within which a relist says it
	}{
		{"the newest file cut", steps - 1, true, 1},
		{"the newest file put back", steps - 1, false, 1},
		{"an early file cut", 3, true, within},
		{"an early file put back", 3, false, within},
	} {
		path := traceFileName(dir, c.step)
		if c.cut {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(runs, "whole"), data, 0o644); err != nil { // not in traces/
				t.Fatal(err)
			}
			// By hand, not halfWrittenTrace: a file of any step is cut and
			// put back whole, where the helper only cuts step 2's new line.
			if err := os.Truncate(path, int64(len(data)-5)); err != nil {
				t.Fatal(err)
			}
		} else {
			data, err := os.ReadFile(filepath.Join(runs, "whole"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o644); err != nil { // in place: O_TRUNC, the same file
				t.Fatal(err)
			}
		}
		if after, err := os.Stat(folder); err != nil || !after.ModTime().Equal(before.ModTime()) {
			t.Fatalf("%s: traces/ changed (%v): the case does not leave it as it was", c.name, err)
		}
		said := "traces/" + filepath.Base(path) + ": ends in a partial line"
		fresh, err := List(runs)
		if err != nil || len(fresh) != 1 || strings.Contains(fresh[0].Note, said) != c.cut {
			t.Fatalf("%s: a fresh List: %+v, %v", c.name, fresh, err)
		}
		n := 0
		for n = 1; n <= c.relists; n++ {
			relist, err := l.List(runs)
			if err != nil || len(relist) != 1 {
				t.Fatalf("%s: relist: %v, %v", c.name, relist, err)
			}
			if strings.Contains(relist[0].Note, said) == c.cut {
				if relist[0].Size != fresh[0].Size {
					t.Errorf("%s: relist's size %d, a fresh List's %d", c.name, relist[0].Size, fresh[0].Size)
				}
				break
			}
		}
		if n > c.relists {
			t.Errorf("%s: %d relists did not see it (said: %v)", c.name, c.relists, c.cut)
		}
	}
}
