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

// resumeToEnd resumes the run at dir with a plan of steps steps (rlt run
// --resume --steps N) and runs it to its end.
func resumeToEnd(t *testing.T, dir string, steps int) {
	t.Helper()
	r, err := OpenForResume(dir, Overrides{Steps: steps}, sessions.ProcessHeadless)
	if err != nil {
		if r.Rec != nil {
			r.Rec.Close()
		}
		t.Fatalf("resume: %v", err)
	}
	h, err := Start(context.Background(), context.Background(), r.Rec, r.Checked, r.Rec, r.Restore)
	if err != nil {
		r.Rec.Close()
		t.Fatalf("resume: %v", err)
	}
	if err := errors.Join(h.Wait(), h.Close()); err != nil {
		t.Fatal(err)
	}
}

// stepsEverywhere checks that the run at dir (under runs) has done want
// steps wherever they are counted (the Runs screen and rlt sessions, the
// header opened to review and read-only, rlt run --resume's refusal of a
// plan of want steps) and that the listing's note and the problems view
// say of each of the files in lost (its name: what is said of it) what
// is given, and name no other of metrics.jsonl and events.jsonl.
func stepsEverywhere(t *testing.T, runs, dir string, want int, lost map[string]string) {
	t.Helper()
	list, err := sessions.List(runs)
	if err != nil || len(list) != 1 {
		t.Fatalf("listed %+v, %v", list, err)
	}
	if got := list[0].StepsDone(); got != want {
		t.Errorf("Runs screen, rlt sessions: %d steps done (note %q), want %d", got, list[0].Note, want)
	}
	for _, file := range []string{sessions.MetricsFile, sessions.EventsFile} {
		said, ok := lost[file]
		if !ok && strings.Contains(list[0].Note, file) {
			t.Errorf("listing's note %q names %s, which lost nothing", list[0].Note, file)
		}
		if ok && !strings.Contains(list[0].Note, file+": "+said) {
			t.Errorf("listing's note %q, want it to say %q", list[0].Note, file+": "+said)
		}
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
		steps := s.Run.Steps()
		if steps.Done != want {
			t.Errorf("header, %s: %d steps done, want %d", open.how, steps.Done, want)
		}
		for _, file := range []string{sessions.MetricsFile, sessions.EventsFile} {
			var problems []string
			for _, is := range s.Run.Store().Issues() {
				if is.Kind == sessions.IssueLost && is.File == filepath.Join(dir, file) {
					problems = append(problems, is.Msg)
				}
			}
			said, ok := lost[file]
			if ok != (len(problems) == 1) || len(problems) > 1 || ok && !strings.HasPrefix(problems[0], said) {
				t.Errorf("%s: the problems view says %q of %s, want %q", open.how, problems, file, said)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}

	r, err := OpenForResume(dir, Overrides{Steps: want}, sessions.ProcessHeadless)
	if r.Rec != nil {
		r.Rec.Close()
	}
	var nothing *sessions.NothingToRunError
	if !errors.As(err, &nothing) {
		t.Fatalf("resume of a run that did its %d planned steps: %v, want nothing to run", want, err)
	}
	if nothing.Done != want {
		t.Errorf("rlt run --resume: %v; counts %d steps done, want %d", err, nothing.Done, want)
	}
}

// A run of three steps that lost the metric records of some of them and
// was then resumed to five still says which steps' records are lost,
// wherever its steps are counted: the resume's records of steps 3 and 4
// prove the earlier steps done, and the hole below them is said as the
// steps it lacks. (Once the resume had recorded past the checkpoints the
// loss was no longer said.) A resume that rewinds (from the checkpoint of
// step 1, the newest gone: its records of step 2 replace the first
// session's) leaves no hole, nor does a run that lost nothing.
func TestLostStepsStillSaidAfterAResume(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	cfg := smallConfig(t, 3)
	cfg.Device = "cpu"
	_, done := runToEnd(t, cfg)
	metrics, err := os.ReadFile(filepath.Join(done, sessions.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(metrics), "\n")
	lines = lines[:len(lines)-1] // the "" after the last newline
	if len(lines) != 3 {
		t.Fatalf("metrics.jsonl of a 3-step run has %d lines, want one a step", len(lines))
	}
	keep := func(kept ...int) func(string) error {
		return func(dir string) error {
			var b strings.Builder
			for _, i := range kept {
				b.WriteString(lines[i])
			}
			return os.WriteFile(filepath.Join(dir, sessions.MetricsFile), []byte(b.String()), 0o644)
		}
	}
	const putBack = ": their metrics (those points of the curves) are lost; put their lines back from a copy of the run folder"
	for _, c := range []struct {
		name    string
		lose    func(dir string) error // what was done to the run before its resume
		records int                    // the lines of metrics.jsonl after it
		lost    string                 // what is said of metrics.jsonl after it ("": nothing)
	}{
		{"nothing lost", func(string) error { return nil }, 5, ""},
		{"resumed from an earlier checkpoint", func(dir string) error {
			return os.RemoveAll(sessions.CheckpointDir(dir, 2)) // step 2 is done again, and recorded twice
		}, 6, ""},
		{"metrics.jsonl deleted", func(dir string) error { return os.Remove(filepath.Join(dir, sessions.MetricsFile)) }, 2,
			"has no record of steps 0-2, though the run has done 5 steps (its records of step 4 say so)" + putBack},
		{"metrics.jsonl emptied", keep(), 2,
			"has no record of steps 0-2, though the run has done 5 steps (its records of step 4 say so)" + putBack},
		{"first step's record lost", keep(1, 2), 4,
			"has no record of step 0, though the run has done 5 steps (its records of step 4 say so)" + putBack},
		{"records of steps 1 and 2 lost", keep(0), 3,
			"has no record of steps 1-2, though the run has done 5 steps (its records of step 4 say so)" + putBack},
	} {
		t.Run(c.name, func(t *testing.T) {
			runs := t.TempDir()
			dir := filepath.Join(runs, "run")
			copyFolder(t, done, dir)
			if err := c.lose(dir); err != nil {
				t.Fatal(err)
			}
			resumeToEnd(t, dir, 5)
			if data, err := os.ReadFile(filepath.Join(dir, sessions.MetricsFile)); err != nil || strings.Count(string(data), "\n") != c.records {
				t.Fatalf("after the resume metrics.jsonl holds %d records (%v), want %d", strings.Count(string(data), "\n"), err, c.records)
			}
			lost := map[string]string{}
			if c.lost != "" {
				lost[sessions.MetricsFile] = c.lost
			}
			stepsEverywhere(t, runs, dir, 5, lost)
		})
	}
}

// A run of three steps that lost events.jsonl (which records its
// checkpoints), and with it perhaps metrics.jsonl, has done three steps
// wherever they are counted: its checkpoint folders say so where the
// events that said so are lost, and the listing's note and the problems
// view name each file lost. (The Runs screen and rlt sessions read "—"
// where both were lost, while the header and the resume counted three
// from the checkpoint; a lost events.jsonl was not said.)
func TestStepsCountedFromCheckpointsWhenEventsAreLost(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	cfg := smallConfig(t, 3)
	cfg.Device = "cpu"
	_, done := runToEnd(t, cfg)
	remove := func(name string) func(string) error {
		return func(dir string) error { return os.Remove(filepath.Join(dir, name)) }
	}
	empty := func(name string) func(string) error {
		return func(dir string) error { return os.WriteFile(filepath.Join(dir, name), nil, 0o644) }
	}
	const (
		byCheckpoint   = ", though the run has done 3 steps (its checkpoint of step 2 says so)"
		metricsMissing = "missing" + byCheckpoint + ": their metrics (the curves) are lost"
		metricsEmpty   = "holds no step" + byCheckpoint + ": their metrics (the curves) are lost"
		eventsMissing  = "missing" + byCheckpoint + ": its history (its sessions, phases, checkpoints and errors) is lost"
		eventsEmpty    = "holds no record" + byCheckpoint + ": its history (its sessions, phases, checkpoints and errors) is lost"
	)
	for _, c := range []struct {
		name string
		lose []func(dir string) error
		lost map[string]string // what is said of each file lost
	}{
		{"events.jsonl deleted", []func(string) error{remove(sessions.EventsFile)},
			map[string]string{sessions.EventsFile: eventsMissing}},
		{"events.jsonl emptied", []func(string) error{empty(sessions.EventsFile)},
			map[string]string{sessions.EventsFile: eventsEmpty}},
		{"both deleted", []func(string) error{remove(sessions.EventsFile), remove(sessions.MetricsFile)},
			map[string]string{sessions.EventsFile: eventsMissing, sessions.MetricsFile: metricsMissing}},
		{"events.jsonl deleted, metrics.jsonl emptied", []func(string) error{remove(sessions.EventsFile), empty(sessions.MetricsFile)},
			map[string]string{sessions.EventsFile: eventsMissing, sessions.MetricsFile: metricsEmpty}},
	} {
		t.Run(c.name, func(t *testing.T) {
			runs := t.TempDir()
			dir := filepath.Join(runs, "run")
			copyFolder(t, done, dir)
			for _, lose := range c.lose {
				if err := lose(dir); err != nil {
					t.Fatal(err)
				}
			}
			before := folderBytes(t, dir)
			stepsEverywhere(t, runs, dir, 3, c.lost)
			if changed := changedEntries(before, folderBytes(t, dir)); len(changed) > 0 {
				t.Errorf("looked at, and its resume refused, the run folder changed: %s", strings.Join(changed, ", "))
			}
		})
	}
}
