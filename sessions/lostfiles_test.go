package sessions

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
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

// fiveStepsTwoCheckpoints makes, in a runs folder of its own, a run of
// five steps (0-4) with checkpoints of steps 1 and 4, closed.
func fiveStepsTwoCheckpoints(t *testing.T) (runs, dir string) {
	t.Helper()
	runs = t.TempDir()
	dir = filepath.Join(runs, "run")
	w := mustCreate(t, dir, Options{})
	for s := 0; s < 5; s++ {
		emitSteps(w, s, s+1, 1, 1)
		if s == 1 || s == 4 {
			if _, err := w.SaveCheckpoint(s, saveFake(s), CheckpointState{MeanReward: reward(0)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return runs, dir
}

// cutEvents cuts the run's events.jsonl short after the line of the
// checkpoint event of step (its end, or extra bytes into the next line),
// or before that line (before true).
func cutEvents(t *testing.T, dir string, step int, before bool, extra int) {
	t.Helper()
	path := filepath.Join(dir, EventsFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := strings.Index(string(data), fmt.Sprintf(`"kind":"checkpoint","step":%d,`, step))
	if at < 0 {
		t.Fatalf("no checkpoint event of step %d in %s", step, data)
	}
	at = strings.LastIndexByte(string(data[:at]), '\n') + 1 // the line's start
	if !before {
		at += strings.IndexByte(string(data[at:]), '\n') + 1 + extra
	}
	if err := os.WriteFile(path, data[:at], 0o644); err != nil {
		t.Fatal(err)
	}
}

// keepMetricLines keeps the first n lines of the run's metrics.jsonl
// (n < 0: deletes the file).
func keepMetricLines(t *testing.T, dir string, n int) {
	t.Helper()
	path := filepath.Join(dir, MetricsFile)
	if n < 0 {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		return
	}
	kept := ""
	for _, line := range fileLines(t, path)[:n] {
		kept += line + "\n"
	}
	if err := os.WriteFile(path, []byte(kept), 0o644); err != nil {
		t.Fatal(err)
	}
}

// lostIssues are what the problems view of the open run r says of the
// file name lost (IssueLost).
func lostIssues(r *Run, name string) []string {
	var said []string
	for _, is := range r.Store().Issues() {
		if is.Kind == IssueLost && filepath.Base(is.File) == name {
			said = append(said, is.Msg)
		}
	}
	return said
}

// A run whose events.jsonl was cut short (not missing: the records after
// a point are gone, a line perhaps cut in two) counts its steps one way
// wherever they are counted, where its metric records do not prove them
// all: its checkpoint folders past every checkpoint the events record
// prove their steps, in the listing (List and a Lister's relist) as in
// the header (Run.Steps, before and after LatestCheckpoint), and both say
// that events.jsonl lost its records and what to do, and neither that
// the session its records end in recorded no step. (The listing
// counted 2 steps, from the checkpoint event of step 1, where the header
// counted 5 once LatestCheckpoint had looked, and neither said the
// events were cut.) A writer killed as it saved a checkpoint may leave
// its event unwritten, its metric records whole: that is no loss. A
// checkpoint folder the events record, left behind by a resume from an
// earlier one, is not counted.
func TestStepsCountedOneWayWhenEventsAreCut(t *testing.T) {
	const (
		byCheckpoint = ", though the run has done 5 steps (its checkpoint of step 4 says so)"
		eventsCut    = "records no checkpoint past step 1" + byCheckpoint + ": the file was cut short"
	)
	for _, c := range []struct {
		name         string
		lose         func(t *testing.T, dir string)
		done         int
		metrics      string // what is said of metrics.jsonl ("": nothing)
		events       string // of events.jsonl
		partialEvent bool
	}{
		{"nothing lost", func(*testing.T, string) {}, 5, "", "", false},
		{"events.jsonl cut after a line, metrics.jsonl deleted", func(t *testing.T, dir string) {
			cutEvents(t, dir, 1, false, 0)
			keepMetricLines(t, dir, -1)
		}, 5, "missing" + byCheckpoint, eventsCut, false},
		{"events.jsonl cut within a line, metrics.jsonl deleted", func(t *testing.T, dir string) {
			cutEvents(t, dir, 1, false, 20)
			keepMetricLines(t, dir, -1)
		}, 5, "missing" + byCheckpoint, eventsCut, true},
		{"events.jsonl cut, metrics.jsonl cut after step 0", func(t *testing.T, dir string) {
			cutEvents(t, dir, 1, false, 0)
			keepMetricLines(t, dir, 1)
		}, 5, "records steps up to 0" + byCheckpoint, eventsCut, false},
		{"events.jsonl cut before its first checkpoint, metrics.jsonl emptied", func(t *testing.T, dir string) {
			cutEvents(t, dir, 1, true, 0)
			keepMetricLines(t, dir, 0)
		}, 5, "holds no step" + byCheckpoint, "records no checkpoint" + byCheckpoint + ": the file was cut short", false},
		{"the last checkpoint's event unwritten (killed as it saved it)", func(t *testing.T, dir string) {
			cutEvents(t, dir, 4, true, 0)
			// run.lock as the killed writer left it: empty, it would say
			// the writer closed the run, its close lost (cutAfterClose).
			lock := fmt.Sprintf(`{"pid":%d,"started":"2026-01-02T03:04:05Z"}`+"\n", deadPID)
			if err := os.WriteFile(filepath.Join(dir, LockFileName), []byte(lock), 0o644); err != nil {
				t.Fatal(err)
			}
		}, 5, "", "", false},
		{"resumed from an earlier checkpoint, the newest unusable and left behind", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(CheckpointDir(dir, 4), CheckpointStateFile))
			resumeAndClose(t, dir, 1, func(r *Run) { emitSteps(r, 2, 3, 1, 1) })
		}, 3, "", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			runs, dir := fiveStepsTwoCheckpoints(t)
			var l Lister
			if _, err := l.List(runs); err != nil { // what a relist continues from
				t.Fatal(err)
			}
			c.lose(t, dir)
			evData, _ := os.ReadFile(filepath.Join(dir, EventsFile))
			evPartial := len(evData) > 0 && evData[len(evData)-1] != '\n'
			says := func(how, note string) {
				t.Helper()
				if !strings.HasPrefix(how, "header") && strings.Contains(note, "events.jsonl ends in a partial line") != evPartial {
					t.Errorf("%s: note %q; events.jsonl ends in a partial line: %v", how, note, evPartial)
				}
				for _, f := range []struct{ name, said string }{{MetricsFile, c.metrics}, {EventsFile, c.events}} {
					if f.said == "" && strings.Contains(note, f.name+":") {
						t.Errorf("%s: note %q says %s lost something", how, note, f.name)
					}
					if f.said != "" && !strings.Contains(note, f.name+": "+f.said) {
						t.Errorf("%s: note %q, want it to say %q", how, note, f.name+": "+f.said)
					}
				}
			}
			fresh, err := List(runs)
			if err != nil || len(fresh) != 1 {
				t.Fatalf("List: %+v, %v", fresh, err)
			}
			relist, err := l.List(runs)
			if err != nil || len(relist) != 1 {
				t.Fatalf("relist: %+v, %v", relist, err)
			}
			for _, s := range []struct {
				how string
				s   RunSummary
			}{{"List", fresh[0]}, {"relist", relist[0]}} {
				if got := s.s.StepsDone(); got != c.done {
					t.Errorf("%s: %d steps done, want %d (note %q)", s.how, got, c.done, s.s.Note)
				}
				says(s.how, s.s.Note)
				if strings.Contains(s.s.Note, "before recording") {
					t.Errorf("%s: note %q says a session recorded no step, of a run that has done %d", s.how, s.s.Note, c.done)
				}
			}

			r, err := OpenReadOnly(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for _, when := range []string{"opened", "after LatestCheckpoint"} {
				if when == "after LatestCheckpoint" {
					r.LatestCheckpoint()
				}
				steps := r.Steps()
				if steps.Done != c.done {
					t.Errorf("header, %s: %d steps done, want %d", when, steps.Done, c.done)
				}
				says("header, "+when, steps.Problem())
			}
			if _, _, gone := r.StateGone(); strings.Contains(gone, "before recording") {
				t.Errorf("header says %q, of a run that has done %d steps", gone, c.done)
			}
			for _, f := range []struct{ name, said string }{{MetricsFile, c.metrics}, {EventsFile, c.events}} {
				got := lostIssues(r, f.name)
				if (f.said == "") != (len(got) == 0) || len(got) > 1 || len(got) == 1 && !strings.HasPrefix(got[0], f.said) {
					t.Errorf("problems view says %q of %s, want %q", got, f.name, f.said)
				}
			}
			partial := false
			for _, is := range r.Store().Issues() {
				partial = partial || is.Kind == IssuePartialLine && filepath.Base(is.File) == EventsFile
			}
			if partial != c.partialEvent {
				t.Errorf("problems view says events.jsonl's last line is cut: %v, want %v (%v)", partial, c.partialEvent, r.Store().Issues())
			}
		})
	}
}

// A Lister reads a run's checkpoints folder again once it changed: a
// checkpoint folder removed (or saved) since the last listing counts, or
// no longer counts, at the next relist, as a fresh List counts it; a
// folder that has the name alone and cannot be resumed from counts in
// neither (provenByFolders).
func TestListerSeesCheckpointFoldersChange(t *testing.T) {
	runs, dir := fiveStepsTwoCheckpoints(t)
	cutEvents(t, dir, 1, false, 0)
	keepMetricLines(t, dir, -1)
	var l Lister
	for _, c := range []struct {
		change func()
		done   int
	}{
		{func() {}, 5},
		{func() {
			if err := os.RemoveAll(CheckpointDir(dir, 4)); err != nil {
				t.Fatal(err)
			}
		}, 2},
		{func() { copyCheckpoint(t, dir, 1, 7) }, 8},
		{func() { // a folder by the name alone, which cannot be resumed from
			if err := os.MkdirAll(CheckpointDir(dir, 9), 0o755); err != nil {
				t.Fatal(err)
			}
		}, 8},
	} {
		c.change()
		got, err := l.List(runs)
		if err != nil || len(got) != 1 {
			t.Fatalf("relist: %+v, %v", got, err)
		}
		fresh, err := List(runs)
		if err != nil || len(fresh) != 1 {
			t.Fatalf("List: %+v, %v", fresh, err)
		}
		if got[0].StepsDone() != c.done || fresh[0].StepsDone() != c.done {
			t.Errorf("relist counts %d steps done, List %d, want %d", got[0].StepsDone(), fresh[0].StepsDone(), c.done)
		}
	}
}

// copyCheckpoint copies the run's checkpoint folder of step from to one
// of step to, whole (its state.json says step to).
func copyCheckpoint(t *testing.T, dir string, from, to int) {
	t.Helper()
	if err := os.CopyFS(CheckpointDir(dir, to), os.DirFS(CheckpointDir(dir, from))); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(CheckpointDir(dir, to), CheckpointStateFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var st CheckpointState
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	st.Step = to
	if data, err = json.Marshal(st); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A run whose events.jsonl was lost (deleted, emptied, or cut short of its
// checkpoint folders) and then written anew by a session that resumed
// the run or reviewed it still says, at every later open and in the
// listing, that the file lost the records of the steps done before:
// the session records the loss in what it writes (a lost event). (Once
// a session had written the file anew it read as the run's whole
// history, the loss said no more.) A session that finds nothing lost
// records nothing.
func TestEventsLossStillSaidAfterASession(t *testing.T) {
	const wroteAnew = ": a later session found the file %s and wrote it anew, so the run's history up to then (its sessions, phases, checkpoints and errors) is lost"
	for _, c := range []struct {
		name string
		lose func(t *testing.T, dir string)
		said string // what is said of events.jsonl after the session ("": nothing)
	}{
		{"nothing lost", func(*testing.T, string) {}, ""},
		{"events.jsonl deleted", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, EventsFile)); err != nil {
				t.Fatal(err)
			}
		}, "lost the records of the run's first 5 steps" + fmt.Sprintf(wroteAnew, "missing")},
		{"events.jsonl emptied", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, EventsFile), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "lost the records of the run's first 5 steps" + fmt.Sprintf(wroteAnew, "holding no record")},
		{"events.jsonl cut, metrics.jsonl deleted", func(t *testing.T, dir string) {
			cutEvents(t, dir, 1, false, 0)
			keepMetricLines(t, dir, -1)
		}, "lost the records of the run's first 5 steps" + fmt.Sprintf(wroteAnew, "cut short")},
	} {
		for _, session := range []struct {
			name string
			run  func(t *testing.T, dir string)
		}{
			{"resumed", func(t *testing.T, dir string) {
				resumeAndClose(t, dir, 4, func(r *Run) {
					emitSteps(r, 5, 7, 1, 1)
					if _, err := r.SaveCheckpoint(6, saveFake(6), CheckpointState{MeanReward: reward(0)}); err != nil {
						t.Fatal(err)
					}
				})
			}},
			{"reviewed", func(t *testing.T, dir string) {
				r, err := OpenWith(dir, nil, Options{Intent: IntentReview, DeferOpen: true})
				if err != nil {
					t.Fatal(err)
				}
				if err := r.Review("0-0-0", LabelAccept, ""); err != nil {
					t.Fatal(err)
				}
				if err := r.Close(); err != nil {
					t.Fatal(err)
				}
			}},
		} {
			t.Run(c.name+"/"+session.name, func(t *testing.T) {
				runs, dir := fiveStepsTwoCheckpoints(t)
				c.lose(t, dir)
				session.run(t, dir)
				if data, err := os.ReadFile(filepath.Join(dir, EventsFile)); err != nil || len(data) == 0 {
					t.Fatalf("the session wrote no events.jsonl (%v)", err)
				}
				list, err := List(runs)
				if err != nil || len(list) != 1 {
					t.Fatalf("List: %+v, %v", list, err)
				}
				note := list[0].Note
				if c.said == "" && strings.Contains(note, EventsFile) {
					t.Errorf("listing's note %q names %s, which lost nothing", note, EventsFile)
				}
				if c.said != "" && !strings.Contains(note, EventsFile+": "+c.said) {
					t.Errorf("listing's note %q, want it to say %q", note, EventsFile+": "+c.said)
				}
				r, err := OpenReadOnly(dir)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				if got := r.Steps().EventsLost; !strings.HasPrefix(got, c.said) || (c.said == "") != (got == "") {
					t.Errorf("header says %q of %s, want %q", got, EventsFile, c.said)
				}
				if got := lostIssues(r, EventsFile); (c.said == "") != (len(got) == 0) || len(got) > 1 || len(got) == 1 && !strings.HasPrefix(got[0], c.said) {
					t.Errorf("problems view says %q of %s, want %q", got, EventsFile, c.said)
				}
			})
		}
	}
}

// A session that writes a run whose events.jsonl lost the sessions that
// wrote its records takes a segment past every record's, not past the
// events' alone: a resume supersedes the records of earlier segments, and
// a trace's ID names its segment. (It took segment 1 again: the records
// of the steps it re-did stood beside those they replace, and the open
// run showed the old ones.)
func TestResumeAfterEventsLostTakesANewSegment(t *testing.T) {
	runs := t.TempDir()
	dir := filepath.Join(runs, "run")
	w := mustCreate(t, dir, Options{})
	emitSteps(w, 0, 3, 1, 1)
	if _, err := w.SaveCheckpoint(2, saveFake(2), CheckpointState{MeanReward: reward(0)}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// Segment 1 does steps 3-6, its checkpoint of step 4 the last.
	resumeAndClose(t, dir, 2, func(r *Run) {
		emitSteps(r, 3, 5, 1, 1)
		if _, err := r.SaveCheckpoint(4, saveFake(4), CheckpointState{MeanReward: reward(0)}); err != nil {
			t.Fatal(err)
		}
		emitSteps(r, 5, 7, 1, 1)
	})
	if err := os.Remove(filepath.Join(dir, EventsFile)); err != nil {
		t.Fatal(err)
	}
	r := mustOpen(t, dir)
	if r.seg <= 1 {
		t.Errorf("the session after events.jsonl was lost writes segment %d, which segment 1's records have", r.seg)
	}
	if err := r.Resume(4); err != nil {
		t.Fatal(err)
	}
	emitSteps(r, 5, 7, 1, 1)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	ms, _ := ro.Store().MetricsSince(0)
	redone := 0
	for _, m := range ms {
		if m.Step >= 5 && m.Seg == 1 {
			t.Errorf("step %d's record of segment 1 stands, which the resume from step 4 re-did", m.Step)
		}
		if m.Step >= 5 {
			redone++
		}
	}
	if redone != 2 {
		t.Errorf("the open run has %d records of steps 5-6, want the resumed session's 2", redone)
	}
	for _, step := range []int{5, 6} {
		ids := map[string]bool{}
		lines := fileLines(t, traceFileName(dir, step))
		for _, line := range lines {
			tr, err := decodeTrace([]byte(line))
			if err != nil {
				t.Fatal(err)
			}
			if ids[tr.ID] {
				t.Errorf("trace ID %s written twice", tr.ID)
			}
			ids[tr.ID] = true
		}
		if len(lines) != 2 {
			t.Errorf("traces of step %d: %d lines, want segment 1's and the resumed session's", step, len(lines))
		}
	}
	for _, is := range ro.Store().Issues() {
		if strings.Contains(is.Msg, "duplicate") {
			t.Errorf("problems view: %s", is)
		}
	}
}

// A run whose events.jsonl lost the resume event of a session that re-did
// steps (the file deleted, cut short before it, or deleted and written
// anew by a later review) takes that resume point from the metric
// records: metrics.jsonl is append-only and a resume appends the steps it
// re-does, so where a step has records of an earlier session and a later
// one, the later one's stand, all of them (its held-out evaluation's too,
// a record of that step with its own keys), and the earlier one's are
// left out, in the open run (the curves, the Traces list) and the listing
// (its best reward) alike, as the resume event would have left them out.
// The problems view says the resume points were lost and which steps'
// later records were taken. (Both sessions' records of a re-done step
// stood: the curves drew each twice, and the listing's best reward could
// be one the resume had replaced.)
func TestLostResumePointsTakeTheLaterSessionsRecords(t *testing.T) {
	const said = "the later session's records (metrics and traces) are taken"
	evalOf := func(step int, v float64) event.Metrics {
		return event.Metrics{Time: time.Now(), Step: step, Values: map[string]float64{"eval_accuracy": v}}
	}
	for _, c := range []struct {
		name string
		lose func(t *testing.T, dir string)
		lost bool
	}{
		{"nothing lost", func(*testing.T, string) {}, false},
		{"events.jsonl deleted", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, EventsFile)); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"events.jsonl cut before the resume", func(t *testing.T, dir string) { cutEvents(t, dir, 3, false, 0) }, true},
		{"events.jsonl deleted, then a review wrote it anew", func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, EventsFile)); err != nil {
				t.Fatal(err)
			}
			r, err := OpenWith(dir, nil, Options{Intent: IntentReview, DeferOpen: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Review("0-0-0", LabelAccept, ""); err != nil {
				t.Fatal(err)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
		}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			runs := t.TempDir()
			dir := filepath.Join(runs, "run")
			// Segment 0 does steps 0-5, its checkpoint of step 3, and
			// evaluates at step 4; its step 5 has the best reward of all.
			w := mustCreate(t, dir, Options{})
			emitSteps(w, 0, 4, 1, 1)
			if _, err := w.SaveCheckpoint(3, saveFake(3), CheckpointState{MeanReward: reward(0)}); err != nil {
				t.Fatal(err)
			}
			emitSteps(w, 4, 5, 1, 1)
			w.Emit(evalOf(4, 0.25))
			best := fakeMetrics(5)
			best.Values["reward"] = 5
			w.Emit(best)
			w.Emit(fakeTrace(5, 0, 0))
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			// Segment 1 resumes after step 3 and does steps 4-6, evaluating
			// at step 4 again.
			resumeAndClose(t, dir, 3, func(r *Run) {
				emitSteps(r, 4, 5, 1, 1)
				r.Emit(evalOf(4, 0.75))
				emitSteps(r, 5, 7, 1, 1)
				if _, err := r.SaveCheckpoint(6, saveFake(6), CheckpointState{MeanReward: reward(0)}); err != nil {
					t.Fatal(err)
				}
			})
			c.lose(t, dir)

			ro, err := OpenReadOnly(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer ro.Close()
			ms, _ := ro.Store().MetricsSince(0)
			training := map[int]int{}
			evals := 0
			for _, m := range ms {
				if m.Step >= 4 && m.Seg == 0 {
					t.Errorf("segment 0's record of step %d (%v) stands, which segment 1 re-did", m.Step, m.Names)
				}
				if v, ok := m.Get("eval_accuracy"); ok {
					evals++
					if v != 0.75 {
						t.Errorf("step %d's evaluation %v stands, want segment 1's 0.75", m.Step, v)
					}
					continue
				}
				training[m.Step]++
			}
			for step := 0; step <= 6; step++ {
				if training[step] != 1 {
					t.Errorf("step %d has %d training records, want 1", step, training[step])
				}
			}
			if evals != 1 || len(training) != 7 {
				t.Errorf("%d evaluation records and training records of %d steps, want 1 and 7", evals, len(training))
			}
			traces, _ := ro.Store().TracesSince(0)
			for _, tr := range traces {
				if tr.Step >= 4 && tr.Seg == 0 {
					t.Errorf("segment 0's trace %s of step %d stands, which segment 1 re-did", tr.ID, tr.Step)
				}
			}
			if len(traces) != 7 {
				t.Errorf("%d traces stand, want one of each step 0-6", len(traces))
			}
			if got := ro.Steps().Done; got != 7 {
				t.Errorf("header counts %d steps done, want 7", got)
			}
			var says []string
			for _, msg := range lostIssues(ro, EventsFile) {
				if strings.Contains(msg, said) {
					says = append(says, msg)
				}
			}
			switch {
			case !c.lost && len(says) > 0:
				t.Errorf("problems view says %q, though no resume event was lost", says)
			case c.lost && (len(says) != 1 || !strings.Contains(says[0], "lost the resume event of the session whose records carry \"seg\": 1") ||
				!strings.Contains(says[0], "so for steps 4-5, which an earlier session recorded too")):
				t.Errorf("problems view says %q, want one issue saying segment 1's resume event was lost and steps 4-5 taken from it", says)
			}

			list, err := List(runs)
			if err != nil || len(list) != 1 {
				t.Fatalf("List: %+v, %v", list, err)
			}
			if list[0].StepsDone() != 7 || list[0].BestReward >= 5 {
				t.Errorf("listing: %d steps done, best reward %v; want 7 and a reward of the records that stand (below 5)", list[0].StepsDone(), list[0].BestReward)
			}
		})
	}
}

// A run whose trace files were lost (traces/ deleted, or the files of
// some steps its checkpoints prove done) and that a later session then
// resumed or reviewed still says, at every later open and in the
// listing, which steps' traces are lost and what to do: the session
// records the loss (lost events of traces/, one a range of steps), so it
// is said also where metrics.jsonl, against which the files are counted,
// was lost with them. (Once a resume had made traces/ again the run read
// as whole: the loss was said only while the folder was missing, and a
// file lost from it never.) A session that finds nothing lost records
// nothing.
func TestTracesLossStillSaidAfterASession(t *testing.T) {
	removeTraces := func(steps ...int) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			for _, step := range steps {
				if err := os.Remove(traceFileName(dir, step)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, c := range []struct {
		name string
		lose func(t *testing.T, dir string)
		said string // the steps said lost ("": none)
	}{
		{"nothing lost", func(*testing.T, string) {}, ""},
		{"traces/ deleted", func(t *testing.T, dir string) {
			if err := os.RemoveAll(filepath.Join(dir, TracesDir)); err != nil {
				t.Fatal(err)
			}
		}, "steps 0-4"},
		{"trace files of steps 1 and 2 deleted", removeTraces(1, 2), "steps 1-2"},
		{"trace files of steps 0 and 3 deleted", removeTraces(0, 3), "steps 0 and 3"},
		{"traces/ and metrics.jsonl deleted", func(t *testing.T, dir string) {
			if err := os.RemoveAll(filepath.Join(dir, TracesDir)); err != nil {
				t.Fatal(err)
			}
			keepMetricLines(t, dir, -1)
		}, "steps 0-4"},
		{"trace files of steps 1 and 2 and metrics.jsonl deleted", func(t *testing.T, dir string) {
			removeTraces(1, 2)(t, dir)
			keepMetricLines(t, dir, -1)
		}, "steps 1-2"},
	} {
		for _, session := range []struct {
			name string
			run  func(t *testing.T, dir string)
		}{
			{"resumed", func(t *testing.T, dir string) {
				resumeAndClose(t, dir, 4, func(r *Run) {
					emitSteps(r, 5, 7, 1, 1)
					if _, err := r.SaveCheckpoint(6, saveFake(6), CheckpointState{MeanReward: reward(0)}); err != nil {
						t.Fatal(err)
					}
				})
			}},
			{"reviewed", func(t *testing.T, dir string) {
				r, err := OpenWith(dir, nil, Options{Intent: IntentReview, DeferOpen: true})
				if err != nil {
					t.Fatal(err)
				}
				if err := r.Review("4-0-0", LabelAccept, ""); err != nil {
					t.Fatal(err)
				}
				if err := r.Close(); err != nil {
					t.Fatal(err)
				}
			}},
		} {
			t.Run(c.name+"/"+session.name, func(t *testing.T) {
				runs, dir := fiveStepsTwoCheckpoints(t)
				c.lose(t, dir)
				if _, err := os.Stat(traceFileName(dir, 4)); err != nil && session.name == "reviewed" {
					t.Skip("no trace left to review")
				}
				session.run(t, dir)
				list, err := List(runs)
				if err != nil || len(list) != 1 {
					t.Fatalf("List: %+v, %v", list, err)
				}
				note := list[0].Note
				if c.said == "" && strings.Contains(note, TracesDir) {
					t.Errorf("listing's note %q names %s, which lost nothing", note, TracesDir)
				}
				if want := TracesDir + "/: has no trace file of " + c.said + ","; c.said != "" && !strings.Contains(note, want) {
					t.Errorf("listing's note %q, want it to say %q", note, want)
				}
				r, err := OpenReadOnly(dir)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				got := lostIssues(r, TracesDir)
				switch {
				case c.said == "" && len(got) > 0:
					t.Errorf("problems view says %q of %s, which lost nothing", got, TracesDir)
				case c.said != "" && (len(got) != 1 || !strings.Contains(got[0], c.said) || !strings.Contains(got[0], "put ")):
					t.Errorf("problems view says %q of %s, want one issue naming %s and what to do", got, TracesDir, c.said)
				}
			})
		}
	}
}
