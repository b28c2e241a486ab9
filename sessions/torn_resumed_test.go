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
		open := func() {
			var err error
			if r, err = OpenReadOnlyWith(dir, Options{PollInterval: time.Hour}); err != nil {
				t.Fatal(err)
			}
			r.Close() // its follow loop stopped after its first poll: the rest polled by hand
		}
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
		for _, fl := range r.followers {
			fl.f.Close()
		}
	}
}
