package sessions

import (
	"testing"
	"time"
)

// TestFollowedTornLineCutByAResume: a followed run's torn trace line (its
// writer killed mid-line: found at the open, or by a poll once the writer
// was gone) is no torn trace, nor an unterminated last line, once a
// resume's open has cut it from the file: the line is gone, and the
// resumed run goes on. It stayed in TornTraces and the problem list, so
// the Traces screen and the workbench's export of the followed run said a
// partial line of a file that no longer holds one.
func TestFollowedTornLineCutByAResume(t *testing.T) {
	for _, foundAtOpen := range []bool{true, false} {
		dir, w := runOfSteps(t, 3)
		var r *Run
		open := func() { r = followedByHand(t, dir, Options{PollInterval: time.Hour}) }
		if !foundAtOpen {
			open()
		}
		halfWrittenTrace(t, dir, w) // the writer has written 40 bytes of the line
		killWriter(t, w, deadPID)
		if foundAtOpen {
			open()
		}
		r.pollOnce()
		partial := func() int {
			n := 0
			for _, is := range r.Store().Issues() {
				if is.Kind == IssuePartialLine {
					n++
				}
			}
			return n
		}
		if got := r.TornTraces(); len(got) != 1 || partial() != 1 {
			t.Fatalf("found at the open %v: TornTraces %+v, %d partial lines before the resume; want the line", foundAtOpen, got, partial())
		}
		resumed, err := Open(dir, nil) // cuts the line away
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // a poll, then one with nothing new
			r.pollOnce()
			if got := r.TornTraces(); len(got) != 0 || partial() != 0 {
				t.Errorf("found at the open %v: TornTraces %+v, %d partial lines once a resume cut the line; want none", foundAtOpen, got, partial())
			}
		}
		if err := resumed.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFollowedTornLineCutAndWrittenOnByAResume: a resume that cuts a
// followed run's torn trace line and writes its own traces in its place
// before the follower's next poll (the file no shorter than what it had
// read: no truncation to see) is read as it is: the resume's traces
// whole, no broken record, no torn trace. The follower joined the torn
// line's 40 bytes to the resume's first line: 'skipped broken record: not
// valid JSON at byte 45', a broken trace, the resume's trace unread.
func TestFollowedTornLineCutAndWrittenOnByAResume(t *testing.T) {
	dir, w := runOfSteps(t, 3)
	r := followedByHand(t, dir, Options{PollInterval: time.Hour})
	halfWrittenTrace(t, dir, w)
	killWriter(t, w, deadPID)
	r.pollOnce()
	if got := r.TornTraces(); len(got) != 1 {
		t.Fatalf("TornTraces %+v before the resume; want the line", got)
	}
	resumed, err := Open(dir, nil) // cuts the line away
	if err != nil {
		t.Fatal(err)
	}
	defer resumed.Close()
	emitSteps(resumed, 2, 3, 1, 2) // redoes step 2: its traces in the file the line was cut from
	if err := resumed.Flush(); err != nil {
		t.Fatal(err)
	}
	wantResumeReadWhole(t, r)
}

// wantResumeReadWhole polls r once and wants the resume's step 2 traces read,
// none broken and no torn line left said: what a follower must show once a
// resume cut a torn line away and wrote on.
func wantResumeReadWhole(t *testing.T, r *Run) {
	t.Helper()
	r.pollOnce()
	for _, id := range []string{"2-0-0r1", "2-0-1r1"} {
		if _, err := r.Store().Trace(id); err != nil {
			t.Errorf("the resume's trace %s: %v", id, err)
		}
	}
	if n := r.Store().BrokenTraces(); n != 0 {
		t.Errorf("%d broken traces, issues %v; want none", n, r.Store().Issues())
	}
	if got := r.TornTraces(); len(got) != 0 {
		t.Errorf("TornTraces %+v once the resume wrote on; want none", got)
	}
}
