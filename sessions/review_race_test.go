package sessions

import (
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/record"
)

// TestFollowedReviewRace drives the one-poll race of a followed run (the
// Traces screen, the workbench's export) deterministically: another
// process appends a trace to the newest trace file and then a review of
// it, between the follower's read of the trace files and its read of
// reviews.jsonl (Options.readAt stops the reads there), so that the
// review is read a poll before its trace. Neither as the run is opened
// nor after any poll (one between sweeps, or a sweep) may the review be
// said as one of a trace not read (LostReviews), and the trace arrives
// with the next poll. Said at the open, it was said until the first poll:
// the open read the trace files, then reviews.jsonl, and counted every
// review it read at once (f56507e).
func TestFollowedReviewRace(t *testing.T) {
	const id = "2-5-0" // fakeTrace(2, 5, 0): a trace of the newest step's file
	for _, c := range []struct {
		name string
		at   readPoint
		// polls is how many polls by hand come before the one the writes
		// come in: its first (a sweep) was the follow loop's.
		polls int
	}{
		{"as the run is opened", loadTracesRead, 0},
		{"in a poll between sweeps", pollTracesRead, 0},
		{"in a sweep", pollTracesRead, traceSweepEvery - 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, w := runOfSteps(t, 3)
			write := func() { // as the run's writer and a second workbench write them
				w.Emit(fakeTrace(2, 5, 0))
				if err := w.Flush(); err != nil {
					t.Error(err)
				}
				if err := w.Review(id, LabelAccept, ""); err != nil {
					t.Error(err)
				}
			}
			armed, opened := c.at == loadTracesRead, false
			var atFirstPoll []LostReview
			hook := func(r *Run, p readPoint) {
				switch {
				case p == c.at && armed:
					armed = false
					write()
				case p == pollStart && !opened: // the follow loop's first poll: what the open alone read
					opened = true
					atFirstPoll = r.LostReviews()
				}
			}
			r := followedByHand(t, dir, Options{PollInterval: time.Hour, readAt: hook})
			if len(atFirstPoll) != 0 {
				t.Errorf("LostReviews %v as the run was opened, before the poll that reads the trace; want none", atFirstPoll)
			}
			for range c.polls {
				r.pollOnce()
			}
			if c.at != loadTracesRead {
				armed = true
				r.pollOnce()
				if armed {
					t.Fatal("the poll did not reach the point the test writes at")
				}
				if r.store.Label(id).Label != LabelAccept {
					t.Fatal("the review was not read by the poll it was written in")
				}
				if _, err := r.store.Trace(id); err == nil {
					t.Fatal("the trace was read by the poll it was written in, after that poll's trace files: the test shows nothing")
				}
				if got := r.LostReviews(); len(got) != 0 {
					t.Errorf("LostReviews %v after the poll that read the review and not its trace; want none", got)
				}
			}
			for i := range traceSweepEvery + 1 { // the next poll, and past the next sweep
				r.pollOnce()
				if got := r.LostReviews(); len(got) != 0 {
					t.Errorf("LostReviews %v after poll %d since; want none", got, i+1)
				}
			}
			if _, err := r.store.Trace(id); err != nil || r.store.Label(id).Label != LabelAccept {
				t.Errorf("the trace and its review were not both read: %v, label %q", err, r.store.Label(id).Label)
			}
		})
	}
}

// TestFollowedReviewRaceOfAPartialLine: the open reads the newest trace
// file while the writer is writing a trace's line (its partial last line);
// the writer ends the line and a second workbench reviews the trace before
// the open reads reviews.jsonl. That line is the one a live writer was
// writing (TornTrace.Killed: "or is writing now"), not a trace lost: it
// was said lost, its review read as proof that it had been read whole
// (16b9717), until the run was read again.
func TestFollowedReviewRaceOfAPartialLine(t *testing.T) {
	const id = "2-5-0"
	dir, w := runOfSteps(t, 3)
	_, _, endLine := halfWrittenTrace(t, dir, w) // as the open finds it: the line half written
	var torn []TornTrace
	armed, opened := true, false
	hook := func(r *Run, p readPoint) {
		switch {
		case p == loadTracesRead && armed:
			armed = false
			if err := endLine(); err != nil { // the writer ends the line
				t.Error(err)
			}
			if err := w.Review(id, LabelAccept, ""); err != nil {
				t.Error(err)
			}
		case p == pollStart && !opened:
			opened = true
			torn = r.TornTraces()
		}
	}
	r, err := OpenReadOnlyWith(dir, Options{PollInterval: time.Hour, readAt: hook})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if len(torn) != 1 || !torn[0].Killed {
		t.Errorf("as the run was opened, TornTraces %+v; want its one partial line said as the one its writer is writing (Killed)", torn)
	}
	if _, err := r.store.Trace(id); err != nil || r.store.Label(id).Label != LabelAccept {
		t.Errorf("the trace and its review were not both read by the first poll: %v, label %q", err, r.store.Label(id).Label)
	}
}

// TestFollowedRescoreRace: the race TestFollowedReviewRace drives, of a
// rescore (rlt score --run --write's, in rescores.jsonl): another process
// appends a trace to the newest trace file and then a rescore of it while
// the run is opened, after the open has read the trace files. The open
// read rescores.jsonl after the trace files, so it held a rescore of a
// trace it did not hold until the first poll; read before them, every
// rescore read is of a trace the files read next hold.
func TestFollowedRescoreRace(t *testing.T) {
	const id = "2-5-0"
	dir, w := runOfSteps(t, 3)
	var notHeld []string
	armed, opened := true, false
	hook := func(r *Run, p readPoint) {
		switch {
		case p == loadTracesRead && armed:
			armed = false
			w.Emit(fakeTrace(2, 5, 0))
			if err := w.Flush(); err != nil {
				t.Error(err)
			}
			if err := w.AppendRescores([]RescoreRecord{NewRescore(id, *fakeScored(2, 5), "T", "S", record.DefaultRewardConfig())}); err != nil {
				t.Error(err)
			}
		case p == pollStart && !opened: // the follow loop's first poll: what the open alone read
			opened = true
			r.store.mu.RLock()
			for rid := range r.store.rescores {
				if _, held := r.store.byID[rid]; !held {
					notHeld = append(notHeld, rid)
				}
			}
			r.store.mu.RUnlock()
		}
	}
	r := followedByHand(t, dir, Options{PollInterval: time.Hour, readAt: hook})
	if armed || !opened {
		t.Fatal("the open did not reach the points the test writes and looks at")
	}
	if len(notHeld) != 0 {
		t.Errorf("as the run was opened, rescores of traces not held %v; want every rescore read to be of a trace read", notHeld)
	}
	for range traceSweepEvery + 1 {
		r.pollOnce()
	}
	if _, err := r.store.Trace(id); err != nil {
		t.Errorf("the trace was not read by the polls since: %v", err)
	}
	if rs, ok := r.store.Rescore(id); !ok || rs.Teacher != "T" {
		t.Errorf("the rescore was not read by the polls since: %+v %v", rs, ok)
	}
}
