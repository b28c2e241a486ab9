package sessions

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A run whose events record steps but whose metrics.jsonl or traces/ is
// gone opens (read-only and to write) with the loss among its issues,
// naming the file and what to do, rather than looking like a run that
// recorded nothing; a run that did no step, or lost nothing, has no such
// issue.
func TestOpeningARunThatLostItsRecordsSaysSo(t *testing.T) {
	const what = "missing, though the run's events record steps"
	for _, c := range []struct {
		name   string
		steps  int
		remove []string
		want   []string // the paths said missing
	}{
		{"metrics.jsonl deleted", 2, []string{MetricsFile}, []string{MetricsFile}},
		{"traces/ deleted", 2, []string{TracesDir}, []string{TracesDir}},
		{"both deleted", 2, []string{MetricsFile, TracesDir}, []string{MetricsFile, TracesDir}},
		{"nothing deleted", 2, nil, nil},
		{"no step done", 0, []string{MetricsFile, TracesDir}, nil},
	} {
		for _, readOnly := range []bool{true, false} {
			name := c.name + "/to write"
			if readOnly {
				name = c.name + "/read-only"
			}
			t.Run(name, func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "run")
				w := mustCreate(t, dir, Options{})
				emitSteps(w, 0, c.steps, 1, 2)
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				for _, rm := range c.remove {
					if err := os.RemoveAll(filepath.Join(dir, rm)); err != nil {
						t.Fatal(err)
					}
				}
				var r *Run
				var err error
				if readOnly {
					r, err = OpenReadOnly(dir)
				} else {
					r, err = Open(dir, nil)
				}
				if err != nil {
					t.Fatalf("open: %v", err)
				}
				defer r.Close()
				var said []string
				for _, is := range r.Store().Issues() {
					if strings.Contains(is.Msg, what) {
						if !strings.Contains(is.Msg, "put the ") {
							t.Errorf("%s: says no way on", is)
						}
						rel, _ := filepath.Rel(dir, is.File)
						said = append(said, rel)
					}
				}
				if strings.Join(said, " ") != strings.Join(c.want, " ") {
					t.Errorf("said missing: %q, want %q (issues %v)", said, c.want, r.Store().Issues())
				}
			})
		}
	}
}

// TestTracesFileNotFolder: a file where traces/ goes is said as such, with
// what to do, by every open, not as the operating system's "not a
// directory".
func TestTracesFileNotFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	w := mustCreate(t, dir, Options{})
	emitSteps(w, 0, 2, 1, 1)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	traces := filepath.Join(dir, TracesDir)
	if err := os.RemoveAll(traces); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(traces, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := traces + " is a file, not the folder of the run's trace files (traces/NNNNNN.jsonl): move it aside"
	for _, c := range []struct {
		name string
		open func() (*Run, error)
	}{
		{"read-only", func() (*Run, error) { return OpenReadOnly(dir) }},
		{"to write", func() (*Run, error) { return Open(dir, nil) }},
	} {
		r, err := c.open()
		if err == nil {
			r.Close()
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", c.name, err, want)
		}
	}
}
