package sessions

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestReviewsOfLostTracesAreSaid: a trace reviewed and then lost (its
// line cut short at a trace file's end, or made unreadable) keeps its
// label in reviews.jsonl, but the run holds no trace to show it on: the
// export counted it as lost or unreadable alone, an accepted one missing
// from the rows with nothing said of its review, and the Traces screen
// showed nothing. LostReviews names them, LeftOutWhy says them, and an
// export whose accepted traces were all lost says so, not that none is
// accepted.
func TestReviewsOfLostTracesAreSaid(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	copyDir(t, filepath.Join("testdata", "prev-format", "grpo"), dir) // reviews: 0-0-0 accept, 0-1-1 flag, 1-0-0 reject
	w, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"1-0-1", "1-1-1"} {
		if err := w.Review(id, LabelAccept, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, TracesDir, "000001.jsonl") // 1-0-0, 1-0-1, 1-1-0, 1-1-1
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	if len(lines) != 5 || lines[4] != "" {
		t.Fatalf("%s holds %q, want four whole lines", path, data)
	}
	// 1-0-0 (rejected) unreadable, 1-1-1 (accepted) cut short: by hand, not
	// halfWrittenTrace (which cuts a new 2-5-0 of a live writer), since the
	// cut line must be a reviewed trace's, of a closed run.
	torn := "not a record\n" + strings.Join(lines[1:3], "") + lines[3][:20]
	if err := os.WriteFile(path, []byte(torn), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want := []LostReview{{Trace: "1-0-0", Label: LabelReject}, {Trace: "1-1-1", Label: LabelAccept}}
	if got := r.LostReviews(); !reflect.DeepEqual(got, want) {
		t.Errorf("LostReviews %v, want %v", got, want)
	}
	rep, err := r.Export(&bytes.Buffer{}, ExportStratos)
	if err != nil {
		t.Fatal(err)
	}
	said := "2 reviewed traces not read (lost or unreadable): 1 accepted, 1 rejected (1-0-0, 1-1-1): " +
		"their reviews stay in reviews.jsonl and hold again if the traces are put back"
	if rep.Written != 2 || !strings.HasSuffix(rep.LeftOutWhy(), ", 1 lost (the 20-byte partial last line of "+path+":4: a trace the run had written whole); "+said) {
		t.Errorf("%d written, left out: %s\nwant 2, and to end in %q", rep.Written, rep.LeftOutWhy(), said)
	}

	// Nothing else accepted: the export says its accepted trace was not
	// read, not that none is accepted with accept traces first.
	none := ExportReport{NotReviewed: 2, Unreadable: 1, Lost: r.TornTraces(), LostReviews: []LostReview{{Trace: "1-1-1", Label: LabelAccept}}}
	got := none.NothingWritten("RUN", "a on a trace")
	wantNone := "nothing to export from RUN: its accepted trace was not read (of 4 traces: 2 unreviewed, 0 rejected, 0 flagged, 1 unreadable, 1 lost; " +
		"1 reviewed trace not read (lost or unreadable): 1 accepted (1-1-1): its review stays in reviews.jsonl and holds again if the trace is put back)"
	if got != wantNone {
		t.Errorf("NothingWritten\n%s\nwant\n%s", got, wantNone)
	}
}

// TestParseTraceID reads back the IDs traceID makes, and no other.
func TestParseTraceID(t *testing.T) {
	for _, k := range [][4]int{{0, 0, 0, 0}, {12, 3, 7, 0}, {5, 0, 1, 2}} {
		got, ok := parseTraceID(traceID(k[0], k[1], k[2], k[3]))
		if !ok || got != k {
			t.Errorf("parseTraceID(%q) = %v, %v; want %v", traceID(k[0], k[1], k[2], k[3]), got, ok, k)
		}
	}
	for _, id := range []string{"", "1-2", "1-2-3-4", "a-b-c", "1-2-3r", "1-2-3r0", "1-2-3rx", "-1-2-3"} {
		if _, ok := parseTraceID(id); ok {
			t.Errorf("parseTraceID(%q) reads it", id)
		}
	}
}

// TestReviewOfASupersededTraceIsNotLost: a trace reviewed at a step a
// resume then re-did is not held (the resume's trace of that step stands
// for it), and is no trace lost: LostReviews leaves its review out.
func TestReviewOfASupersededTraceIsNotLost(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := mustCreate(t, dir, Options{})
	emitSteps(r, 0, 6, 1, 2)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := r.Review("4-0-1", LabelAccept, ""); err != nil {
		t.Fatal(err)
	}
	r.Close()
	w, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Resume(3); err != nil {
		t.Fatal(err)
	}
	w.Emit(fakeTrace(4, 0, 0))
	w.Close()
	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, held := ro.Store().byID["4-0-1"]; held {
		t.Fatal("4-0-1 is held: it was not superseded")
	}
	if got := ro.LostReviews(); len(got) != 0 {
		t.Errorf("LostReviews %v, want none: a resume re-did step 4", got)
	}
}

// TestFollowedRunSaysNoReviewBeforeItsTrace: a followed run reads a
// review another process wrote before the trace it labels where the trace
// arrives later (a past step's file, polled at sweeps only: a resume
// redoing its step appends to it), and said it at once as a reviewed trace
// not read, until the sweep brought the trace. LostReviews takes a
// followed run's reviews once a sweep of every trace file has begun after
// them; a review whose trace never comes is said after that sweep.
func TestFollowedRunSaysNoReviewBeforeItsTrace(t *testing.T) {
	dir, w := runOfSteps(t, 3)
	r, err := OpenReadOnlyWith(dir, Options{PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	r.Close() // its follow loop stopped after its first poll (a sweep): polled by hand below
	defer func() {
		for _, fl := range r.followers {
			fl.f.Close()
		}
	}()
	r.pollOnce() // the past steps' files parked
	w.Emit(fakeTrace(0, 7, 0))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := w.Review("0-7-0", LabelAccept, ""); err != nil {
		t.Fatal(err)
	}
	r.pollOnce()
	if r.store.Label("0-7-0").Label != LabelAccept {
		t.Fatal("the review was not read by the poll after it")
	}
	if _, err := r.store.Trace("0-7-0"); err == nil {
		t.Fatal("the trace in the past step's file was read before the sweep: the test shows nothing")
	}
	if got := r.LostReviews(); len(got) != 0 {
		t.Errorf("LostReviews %v before the sweep that reads the trace, want none", got)
	}
	// A review of a trace that never comes.
	f, err := os.OpenFile(filepath.Join(dir, ReviewsFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"time":"2026-01-01T00:00:00Z","trace":"2-9-9","label":"accept"}` + "\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r.pollOnce()
	if got := r.LostReviews(); len(got) != 0 {
		t.Errorf("LostReviews %v before a sweep, want none", got)
	}
	for range traceSweepEvery {
		r.pollOnce()
	}
	if _, err := r.store.Trace("0-7-0"); err != nil {
		t.Fatal("the trace appended to a past step's file did not arrive within a sweep")
	}
	want := []LostReview{{Trace: "2-9-9", Label: LabelAccept}}
	if got := r.LostReviews(); !reflect.DeepEqual(got, want) {
		t.Errorf("LostReviews %v after the sweep, want %v", got, want)
	}
}
