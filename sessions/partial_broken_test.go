package sessions

import (
	"os"
	"testing"
	"time"
)

// TestPartialLineEndedBrokenWhileFollowed: a partial last line said at the
// open (the problem list's unterminated last line, a torn trace) that its
// writer then ends broken is said as a broken record at its line, and the
// partial line no more. pollFile withdraws the partial line's issue before
// it reads the line, since a withdrawal drops every issue of the file's
// line: withdrawn after, as on a file read to its end, it took the broken
// record's issue with it and the line was said nowhere.
// TestPartialLineCompletedWhileFollowed ends the line whole, where the
// order does not show.
func TestPartialLineEndedBrokenWhileFollowed(t *testing.T) {
	dir, w := runOfSteps(t, 3)
	file, line, _ := halfWrittenTrace(t, dir, w)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := followedByHand(t, dir, Options{PollInterval: time.Hour})
	issuesAt := func() (kinds []IssueKind) {
		for _, is := range r.Store().Issues() {
			if is.File == file && is.Line == line {
				kinds = append(kinds, is.Kind)
			}
		}
		return kinds
	}
	if got := issuesAt(); len(got) != 1 || got[0] != IssuePartialLine {
		t.Fatalf("%s:%d cut 40 bytes in: issues of kinds %v there, want its partial line's", file, line, got)
	}
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("}\n"); err != nil { // ended, not as JSON
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	r.pollOnce()
	if got := issuesAt(); len(got) != 1 || got[0] != IssueBroken {
		t.Errorf("%s:%d ended broken: issues of kinds %v there (%v), want one broken record's", file, line, got, r.Store().Issues())
	}
	if torn := r.TornTraces(); len(torn) != 0 {
		t.Errorf("%s:%d ended broken: TornTraces %+v, want none", file, line, torn)
	}
}
