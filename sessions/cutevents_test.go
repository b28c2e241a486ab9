package sessions

import (
	"bytes"
	"encoding/json"
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
// without stopping it", for ever once a review had cut the line; and so
// it still did of a file cut at a line's end, the close line removed
// whole, which run.lock answers as it does a partial line. A run.lock
// that is gone proves no close: that session reads as interrupted, and a
// refused resume does not leave an empty run.lock behind that would.
func TestEventsCutAfterACleanCloseIsNotAnInterruption(t *testing.T) {
	const cutSaid = "events.jsonl: lost its last records (a partial line"
	const atLineEnd = "events.jsonl: lost its last records (the close of the run's last session (pid "
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
		{"the close line removed whole", func(t *testing.T, dir string) { cutLastLine(t, dir, 0) }, false, atLineEnd},
		{"the close line removed whole, run.lock gone", func(t *testing.T, dir string) {
			cutLastLine(t, dir, 0)
			if err := os.Remove(filepath.Join(dir, LockFileName)); err != nil {
				t.Fatal(err)
			}
			// Its events name a process gone, not this test's, which
			// lives (a pid that runs does not prove its process gone).
			evPath := filepath.Join(dir, EventsFile)
			data, err := os.ReadFile(evPath)
			if err != nil {
				t.Fatal(err)
			}
			data = bytes.ReplaceAll(data, fmt.Appendf(nil, `"pid":%d`, os.Getpid()), fmt.Appendf(nil, `"pid":%d`, deadPID))
			if err := os.WriteFile(evPath, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}, true, "is gone"},
		{"the writer killed", func(t *testing.T, dir string) {
			r := mustOpen(t, dir)
			if err := r.Resume(4); err != nil {
				t.Fatal(err)
			}
			killWriter(t, r, deadPID)
		}, true, fmt.Sprintf("(pid %d) is gone", deadPID)},
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
				_, note, interrupted := r.State()
				if _, _, gone := r.StateGone(); interrupted != c.interrupted || (gone != "") != c.interrupted {
					t.Errorf("%s: opened read-only: interrupted %v (%q), StateGone %q; want interrupted %v", when, interrupted, note, gone, c.interrupted)
				}
			}
			check("cut")
			res, err := OpenWith(dir, nil, Options{Intent: IntentResume, DeferOpen: true})
			if err != nil {
				t.Fatal(err)
			}
			// Held here, it reads resuming: what it read of the session
			// before it is what the run says once its lock is free
			// (StateGone of run.lock free).
			if _, interrupted, gone := res.stateGone(false, LockInfo{}, nil); interrupted != c.interrupted || (gone != "") != c.interrupted {
				t.Errorf("a resume's checks: StateGone, run.lock free: interrupted %v, %q; want interrupted %v", interrupted, gone, c.interrupted)
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
// bytes of it (< 0: up to that many bytes before its "kind" value ends;
// 0: the line removed whole).
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

// TestRecordedCloseReadByOlderReaders: the close a session records for
// the session before it, whose close events.jsonl lost (cut within its
// last line or at its end, run.lock saying it closed the run), is a close
// event, which every rlt reads as that session's close. Sessions from
// 5c6690a wrote a lost event of events.jsonl named "partial line"
// instead, which readers before it (8efb456's eventsFold) take for the
// file found lost and written anew ("lost the records of the run's first
// 0 steps"), the cut session left open and so killed: olderReader is that
// fold. The reader of today reads the record written as it did the lost
// event (TestEventsCutAfterACleanCloseIsNotAnInterruption's "after a
// review"), and still reads a lost event written so.
func TestRecordedCloseReadByOlderReaders(t *testing.T) {
	for _, c := range []struct {
		name string
		keep int // of the close line (cutLastLine)
		want string
	}{
		{"cut within the close line", 30, LostPartialLine},
		{"the close line removed whole", 0, LostAtLineEnd},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, dir := fiveStepsTwoCheckpoints(t)
			cutLastLine(t, dir, c.keep)
			review := mustOpen(t, dir)
			if err := review.Close(); err != nil {
				t.Fatal(err)
			}
			events := readEvents(t, dir)
			var recorded *EventRecord
			for i, e := range events {
				if e.Kind == KindOpen && i > 0 && events[i-1].Kind == KindClose && events[i-1].File == EventsFile {
					recorded = &events[i-1]
				}
			}
			if recorded == nil || recorded.Name != c.want {
				t.Fatalf("no close named %q recorded before the review's open: %+v", c.want, events)
			}
			if interrupted, lostBefore := olderReader(events); interrupted || lostBefore != "" {
				t.Errorf("a reader before 5c6690a reads the run interrupted %v, events.jsonl found %q and written anew", interrupted, lostBefore)
			}
		})
	}
	t.Run("a lost event as 5c6690a wrote it", func(t *testing.T) {
		var f eventsFold
		for _, e := range []EventRecord{{Kind: KindCreate, PID: 7}, {Kind: KindPhase, Step: 1, Name: "done"},
			{Kind: KindLost, File: EventsFile, Name: LostPartialLine, Count: 30, Extra: "said"}, {Kind: KindOpen, PID: 8, Intent: IntentReview}, {Kind: KindClose}} {
			f.fold(e)
		}
		if _, unclean, _ := f.uncleanExit(false); unclean || f.cutAfterClose != "said" || f.lostBefore.how != "" {
			t.Errorf("read unclean %v, cut %q, lost before %q; want the cut session closed and said", unclean, f.cutAfterClose, f.lostBefore.how)
		}
	})
}

// olderReader folds events as rlt's eventsFold did before 5c6690a
// (8efb456): whether the last session that trained the run is gone
// without closing it, and what a lost event of events.jsonl says the
// file was found as (it was written anew).
func olderReader(events []EventRecord) (interrupted bool, lostBefore string) {
	open, trains, unclean := false, false, false
	for _, e := range events {
		switch e.Kind {
		case KindCreate:
			open, trains, unclean = true, true, false
		case KindOpen:
			if open && trains {
				unclean = true
			}
			open, trains = true, false
		case KindResume:
			trains, unclean = true, false
		case KindClose:
			open = false
		case KindLost:
			if e.File == EventsFile {
				lostBefore = e.Name
			}
		}
	}
	return unclean || open && trains, lostBefore
}

// readEvents is the run folder dir's events.jsonl, decoded.
func readEvents(t *testing.T, dir string) []EventRecord {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, EventsFile))
	if err != nil {
		t.Fatal(err)
	}
	var events []EventRecord
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var e EventRecord
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		events = append(events, e)
	}
	return events
}
