package sessions

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// LostReview is the review of a trace the run does not hold: its ID and
// its label (accepted, rejected or flagged).
type LostReview struct {
	Trace string
	Label Label
}

// LostReviews are the reviews (a label other than none, its latest) of
// traces the run does not hold, though no resume re-did their step: traces
// lost in a trace file's partial last line, in a record that could not be
// read, or with their file, after they were reviewed. Their labels stay in
// ReviewsFile and hold again where the trace is put back; meanwhile the
// Traces screen lists no row to show them on, and an export counts such a
// trace as lost or unreadable, not by its review: an accepted one is
// missing from the rows. In step, group and sample order.
//
// A trace of a step a resume re-did (superseded) is not lost: the resume's
// trace of that step stands for it, under its own ID. Nor, in a followed
// run, is one whose review was read since the last sweep of its trace
// files began (gateReviews): the trace may not have been read yet.
func (r *Run) LostReviews() []LostReview {
	s := r.store
	s.mu.RLock()
	var settled map[string]bool
	if r.gateReviews {
		n := min(int(r.settledReviews.Load()), len(s.reviews))
		settled = make(map[string]bool, n)
		for _, rv := range s.reviews[:n] {
			settled[rv.Trace] = true
		}
	}
	var lost []LostReview
	for id := range s.labels {
		if _, held := s.byID[id]; held {
			continue
		}
		if settled != nil && !settled[id] {
			continue
		}
		if l := s.labelLocked(id).Label; l != LabelNone {
			lost = append(lost, LostReview{Trace: id, Label: l})
		}
	}
	s.mu.RUnlock()
	lost = slices.DeleteFunc(lost, func(l LostReview) bool {
		k, ok := parseTraceID(l.Trace)
		return ok && r.superseded(k[3], k[0])
	})
	slices.SortFunc(lost, func(a, b LostReview) int {
		ka, oka := parseTraceID(a.Trace)
		kb, okb := parseTraceID(b.Trace)
		if oka != okb { // IDs of ours first, then any other by its text
			if oka {
				return -1
			}
			return 1
		}
		if oka {
			if c := slices.Compare(ka[:], kb[:]); c != 0 {
				return c
			}
		}
		return cmp.Compare(a.Trace, b.Trace)
	})
	return lost
}

// parseTraceID reads an ID traceID made: step, group, sample and segment.
func parseTraceID(id string) ([4]int, bool) {
	var k [4]int
	rest, seg, resumed := strings.Cut(id, "r")
	if resumed {
		n, err := strconv.Atoi(seg)
		if err != nil || n <= 0 {
			return k, false
		}
		k[3] = n
	}
	parts := strings.Split(rest, "-")
	if len(parts) != 3 {
		return k, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return k, false
		}
		k[i] = n
	}
	return k, true
}

// LostReviewsSaid says the reviews of traces not read (LostReviews): how
// many by label, the first traces, and that the labels are kept; "" where
// there are none. The Traces screen and both exports (rlt export, the
// workbench's) say them in these words.
func LostReviewsSaid(lost []LostReview) string {
	if len(lost) == 0 {
		return ""
	}
	n := map[Label]int{}
	ids := make([]string, 0, unreadShown)
	for _, l := range lost {
		n[l.Label]++
		if len(ids) < unreadShown {
			ids = append(ids, l.Trace)
		}
	}
	var by []string
	for _, l := range []Label{LabelAccept, LabelReject, LabelFlag} {
		if n[l] > 0 {
			by = append(by, fmt.Sprintf("%d %s", n[l], l.Verdict()))
		}
	}
	what, stays := "1 reviewed trace", "its review stays in "+ReviewsFile+" and holds again if the trace is put back"
	if len(lost) > 1 {
		what = fmt.Sprintf("%d reviewed traces", len(lost))
		stays = "their reviews stay in " + ReviewsFile + " and hold again if the traces are put back"
	}
	return fmt.Sprintf("%s not read (lost or unreadable): %s (%s): %s", what, strings.Join(by, ", "), placesShown(ids, len(lost)), stays)
}

// LostAccepted counts the accepted among lost.
func LostAccepted(lost []LostReview) int {
	n := 0
	for _, l := range lost {
		if l.Label == LabelAccept {
			n++
		}
	}
	return n
}
