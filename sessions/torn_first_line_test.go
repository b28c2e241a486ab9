package sessions

import (
	"testing"
	"time"
)

// TestFollowedTornFirstLineCutAndWrittenOnByAResume: as
// TestFollowedTornLineCutAndWrittenOnByAResume, where the torn line is the
// first of its trace file (the writer killed in the first trace of a step
// not yet followed), so the follower's offset is 0: the resume's open cuts
// the file to nothing and writes its traces there before the next poll.
func TestFollowedTornFirstLineCutAndWrittenOnByAResume(t *testing.T) {
	dir, w := runOfSteps(t, 2) // steps 0 and 1: 000002.jsonl holds only the torn line
	r := followedByHand(t, dir, Options{PollInterval: time.Hour})
	halfWrittenTrace(t, dir, w)
	killWriter(t, w, deadPID)
	r.pollOnce()
	if got := r.TornTraces(); len(got) != 1 {
		t.Fatalf("TornTraces %+v before the resume; want the line", got)
	}
	resumed, err := Open(dir, nil) // cuts the line away: the file is empty
	if err != nil {
		t.Fatal(err)
	}
	defer resumed.Close()
	emitSteps(resumed, 2, 3, 1, 2)
	if err := resumed.Flush(); err != nil {
		t.Fatal(err)
	}
	wantResumeReadWhole(t, r)
}
