package sessions

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEventsCutAfterACleanCloseIsNotAnInterruption: a run closed cleanly
// (its close event written and fsynced, run.lock emptied) whose
// events.jsonl was cut since within a line (a copy cut short, a disk that
// lost the file's end) is not said to be interrupted: run.lock, emptied
// only once the close event was on disk, says its last session closed it.
// The listing, the run opened read-only and a resume's checks say so, and
// say the cut: the close and what followed it are lost. A session that
// writes the run removes the partial line, and records the loss first (a
// lost event), so later listings say the same rather than read the cut
// session as killed. A partial line after the close leaves the close
// read; a writer killed midway (run.lock still naming it) is interrupted
// whatever the cut. The listing called the closed run's trainer "gone
// without stopping it", for ever once a review had cut the line.
func TestEventsCutAfterACleanCloseIsNotAnInterruption(t *testing.T) {
	const cutSaid = "events.jsonl: lost its last records (a partial line"
	for _, c := range []struct {
		name        string
		damage      func(t *testing.T, dir string)
		interrupted bool
		note        string // in the listing's note, before and after a session
	}{
		{"the close line cut within", func(t *testing.T, dir string) { cutLastLine(t, dir, 30) }, false, cutSaid},
		{"the close line cut after its kind", func(t *testing.T, dir string) { cutLastLine(t, dir, -2) }, false, cutSaid},
		{"a partial line after the close", func(t *testing.T, dir string) {
			appendTo(t, filepath.Join(dir, EventsFile), `{"seg":1,"time":"2026-`)
		}, false, ""},
		{"the writer killed, its last line cut", func(t *testing.T, dir string) {
			r := mustOpen(t, dir)
			if err := r.Resume(4); err != nil {
				t.Fatal(err)
			}
			killWriter(t, r, deadPID)
			appendTo(t, filepath.Join(dir, EventsFile), `{"seg":1,"time":"2026-`)
		}, true, fmt.Sprintf("(pid %d) is gone", deadPID)},
	} {
		t.Run(c.name, func(t *testing.T) {
			runs, dir := fiveStepsTwoCheckpoints(t)
			c.damage(t, dir)
			check := func(when string) {
				t.Helper()
				l, err := List(runs)
				if err != nil || len(l) != 1 {
					t.Fatalf("%s: List: %v, %v", when, l, err)
				}
				gone := strings.Contains(l[0].Note, "is gone")
				if gone != c.interrupted || !strings.Contains(l[0].Note, c.note) {
					t.Errorf("%s: listed %s, %q; want interrupted %v and %q", when, l[0].State, l[0].Note, c.interrupted, c.note)
				}
				r, err := OpenReadOnly(dir)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				if _, note, interrupted := r.State(); interrupted != c.interrupted || (r.Gone() != "") != c.interrupted {
					t.Errorf("%s: opened read-only: interrupted %v (%q), Gone %q; want interrupted %v", when, interrupted, note, r.Gone(), c.interrupted)
				}
			}
			check("cut")
			res, err := OpenWith(dir, nil, Options{Intent: IntentResume, DeferOpen: true})
			if err != nil {
				t.Fatal(err)
			}
			if gone := res.Gone(); (gone != "") != c.interrupted {
				t.Errorf("a resume's checks: Gone %q, want interrupted %v", gone, c.interrupted)
			}
			if err := res.Close(); err != nil { // refused: the run as it was
				t.Fatal(err)
			}
			check("after a refused resume")
			review := mustOpen(t, dir)
			if err := review.Close(); err != nil {
				t.Fatal(err)
			}
			check("after a review")
		})
	}
}

// cutLastLine cuts the run's events.jsonl within its last line: keep
// bytes of it (< 0: up to that many bytes before its "kind" value ends).
func cutLastLine(t *testing.T, dir string, keep int) {
	t.Helper()
	path := filepath.Join(dir, EventsFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	start := bytes.LastIndexByte(data[:len(data)-1], '\n') + 1
	if !bytes.Contains(data[start:], []byte(`"kind":"close"`)) {
		t.Fatalf("the last line is not the close: %s", data[start:])
	}
	if keep < 0 {
		keep = bytes.Index(data[start:], []byte(`"kind":"close"`)) + len(`"kind":"close"`) + keep
	}
	if err := os.WriteFile(path, data[:start+keep], 0o644); err != nil {
		t.Fatal(err)
	}
}
