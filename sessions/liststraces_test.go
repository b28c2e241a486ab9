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
// replaced), not every file at every relist: a file cut in place is said
// by the next fresh listing (inPlace).
func TestListingSaysTraceLossItself(t *testing.T) {
	file := traceFileName
	name := func(step int) string { return filepath.Base(traceFileName("", step)) }
	for _, c := range []struct {
		name    string
		damage  func(t *testing.T, dir string)
		said    []string // in the listing's note, each
		inPlace bool     // the damage leaves traces/ as it was: a relist does not see it
	}{
		{"nothing lost", func(*testing.T, string) {}, nil, false},
		{"the file of step 1 deleted", func(t *testing.T, dir string) {
			if err := os.Remove(file(dir, 1)); err != nil {
				t.Fatal(err)
			}
		}, []string{"traces/: has no trace file of step 1, though a checkpoint of the run proves them done"}, false},
		{"traces/ deleted", func(t *testing.T, dir string) {
			if err := os.RemoveAll(filepath.Join(dir, TracesDir)); err != nil {
				t.Fatal(err)
			}
		}, []string{"traces/: missing, though the run's events record steps: its traces (what the teacher wrote, and its scores) are lost (those of steps 0-4 at least)"}, false},
		{"the file of step 2 cut within its last line", func(t *testing.T, dir string) {
			data, err := os.ReadFile(file(dir, 2))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file(dir, 2), data[:len(data)/2], 0o644); err != nil {
				t.Fatal(err)
			}
		}, []string{"traces/" + name(2) + ": ends in a partial line"}, true},
		{"the file of step 3 a folder", func(t *testing.T, dir string) {
			os.Remove(file(dir, 3))
			if err := os.Mkdir(file(dir, 3), 0o755); err != nil {
				t.Fatal(err)
			}
		}, []string{"traces/" + name(3) + ": cannot be read (a folder", "traces/: has no trace file of step 3"}, false},
		{"the file of step 0 a link to nothing", func(t *testing.T, dir string) {
			os.Remove(file(dir, 0))
			if err := os.Symlink(filepath.Join(dir, "gone.jsonl"), file(dir, 0)); err != nil {
				t.Fatal(err)
			}
		}, []string{"traces/" + name(0) + ": cannot be read ("}, false},
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
				if s.how == "relist" && c.inPlace {
					continue
				}
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
