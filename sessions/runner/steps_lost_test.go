package runner

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/sessions"
)

// folderBytes is every entry under dir: a folder as "dir", a file as its
// bytes, a link as its target; what a look at a run must leave as it was.
func folderBytes(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.IsDir():
			out[rel] = "dir"
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			out[rel] = "link " + target
			return err
		default:
			data, err := os.ReadFile(p)
			out[rel] = string(data)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// changedEntries names what differs between two folderBytes.
func changedEntries(before, after map[string]string) []string {
	var changed []string
	for p, b := range before {
		if a, ok := after[p]; !ok {
			changed = append(changed, p+" removed")
		} else if a != b {
			changed = append(changed, p+" changed")
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			changed = append(changed, p+" made")
		}
	}
	return changed
}

// copyFolder copies the run folder src to dst (files and folders).
func copyFolder(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A run of three steps whose metrics.jsonl is lost (deleted, emptied,
// cut short) has done three steps wherever it is counted: the workbench's
// header (Run.Steps, opened to review and read-only), the Runs screen's
// row and rlt sessions (List), and rlt run --resume's refusal; the
// listing and the open run both name metrics.jsonl as what was lost, and
// neither a look at the run nor the refused resume makes the file again.
// (Each counted its own way: the header 0 from the metric records, the
// listing "—", the resume 3 from the checkpoint; and opening the run to
// review made metrics.jsonl again, empty.)
func TestStepsCountedOneWayWhenMetricsAreLost(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	cfg := smallConfig(t, 3)
	cfg.Device = "cpu"
	_, done := runToEnd(t, cfg)
	metrics, err := os.ReadFile(filepath.Join(done, sessions.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	firstLine := metrics[:strings.IndexByte(string(metrics), '\n')+1]
	for _, c := range []struct {
		name string
		lose func(path string) error // does to metrics.jsonl what was done to it
		lost string                  // what the listing's note says of it ("": nothing)
	}{
		{"kept", func(string) error { return nil }, ""},
		{"deleted", os.Remove, "metrics.jsonl: missing, though the run has done 3 steps (its checkpoint of step 2 says so)"},
		{"emptied", func(p string) error { return os.WriteFile(p, nil, 0o644) },
			"metrics.jsonl: holds no step, though the run has done 3 steps (its checkpoint of step 2 says so)"},
		{"cut after its first step", func(p string) error { return os.WriteFile(p, firstLine, 0o644) },
			"metrics.jsonl: records steps up to 0, though the run has done 3 steps (its checkpoint of step 2 says so): the records of the steps after 0 are lost"},
	} {
		t.Run(c.name, func(t *testing.T) {
			runs := t.TempDir()
			dir := filepath.Join(runs, "run")
			copyFolder(t, done, dir)
			if err := c.lose(filepath.Join(dir, sessions.MetricsFile)); err != nil {
				t.Fatal(err)
			}
			before := folderBytes(t, dir)
			const want = 3

			list, err := sessions.List(runs)
			if err != nil || len(list) != 1 {
				t.Fatalf("listed %+v, %v", list, err)
			}
			if got := list[0].StepsDone(); got != want {
				t.Errorf("Runs screen, rlt sessions: %d steps done (note %q), want %d", got, list[0].Note, want)
			}
			if c.lost == "" && strings.Contains(list[0].Note, sessions.MetricsFile) {
				t.Errorf("listing's note %q names %s, which is whole", list[0].Note, sessions.MetricsFile)
			}
			if !strings.Contains(list[0].Note, c.lost) {
				t.Errorf("listing's note %q, want it to say %q", list[0].Note, c.lost)
			}

			l := NewLauncher(context.Background(), runs, "")
			for _, open := range []struct {
				how  string
				open func(string) (*sessions.Session, error)
			}{{"opened to review", l.OpenForReview}, {"opened read-only", l.OpenReadOnly}} {
				s, err := open.open(dir)
				if err != nil {
					t.Fatalf("%s: %v", open.how, err)
				}
				if !s.IsReadOnly() {
					// Its open event waits for its first review: run.lock
					// says who holds the run, and why, until then.
					if list, err := sessions.List(runs); err != nil || len(list) != 1 || list[0].Holder.Doing != sessions.HolderReviewing {
						t.Errorf("%s: listed as held by %+v (%v), want %q", open.how, list, err, sessions.HolderReviewing)
					}
				}
				steps := s.Run.Steps()
				if steps.Done != want {
					t.Errorf("header, %s: %d steps done, want %d", open.how, steps.Done, want)
				}
				if c.lost != "" && !strings.HasPrefix(steps.Problem(), c.lost) {
					t.Errorf("header, %s: says %q of the metrics, want %q", open.how, steps.Problem(), c.lost)
				}
				var lost []string
				for _, is := range s.Run.Store().Issues() {
					if is.Kind == sessions.IssueLost && is.File == filepath.Join(dir, sessions.MetricsFile) {
						lost = append(lost, is.Msg)
					}
				}
				if (c.lost != "") != (len(lost) == 1) {
					t.Errorf("%s: the problems view lists %q of %s, want one problem: %v", open.how, lost, sessions.MetricsFile, c.lost != "")
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				if changed := changedEntries(before, folderBytes(t, dir)); len(changed) > 0 {
					t.Errorf("%s and closed, the run folder changed: %s", open.how, strings.Join(changed, ", "))
				}
			}

			r, err := OpenForResume(dir, Overrides{}, sessions.ProcessHeadless)
			if r.Rec != nil {
				r.Rec.Close()
			}
			var nothing *sessions.NothingToRunError
			if !errors.As(err, &nothing) {
				t.Fatalf("resume of a run that did its 3 planned steps: %v, want nothing to run", err)
			}
			if nothing.Done != want {
				t.Errorf("rlt run --resume: %v; counts %d steps done, want %d", err, nothing.Done, want)
			}
			if changed := changedEntries(before, folderBytes(t, dir)); len(changed) > 0 {
				t.Errorf("after the refused resume, the run folder changed: %s", strings.Join(changed, ", "))
			}
		})
	}
}
