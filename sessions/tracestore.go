package sessions

import (
	"bytes"
	"errors"
	"fmt"
	"math"

	"github.com/rlt-workbench/rlt/engine/record"
)

// ErrNoTrace is the error of Store.Trace for an ID the store does not have.
var ErrNoTrace = errors.New("no such trace in the run")

// storedTrace is a trace as the store holds it. Once the trace is in its
// file (onDisk), rec has no per-token arrays: rec.File and rec.Line say
// where Store.Trace reads them back, and rec.Lengths how long they are.
type storedTrace struct {
	rec    *TraceRecord
	onDisk bool
	bins   traceBins
}

// dropArrays puts a copy of the record without its arrays in place, located
// at file:line. A copy, not the record changed in place: readers given the
// record before (a run's writer, an export) keep what they were given.
func (st *storedTrace) dropArrays(file string, line int) {
	t := *st.rec
	t.File, t.Line = file, line
	t.Tokens = record.Tokens{}
	st.rec, st.onDisk = &t, true
}

// traceBins are one trace's nonzero record.DHistogram bins: kept so that a
// trace the store drops (superseded by a resume) leaves the run's histogram
// exactly, without reading its d_k back.
type traceBins []binCount

type binCount struct {
	bin uint8
	n   uint32
}

func binsOf(d []float32) traceBins {
	if len(d) == 0 {
		return nil
	}
	var h record.DHistogram
	h.Add(d)
	var out traceBins
	for b, n := range h.Counts {
		if n > 0 {
			out = append(out, binCount{uint8(b), uint32(min(n, math.MaxUint32))})
		}
	}
	return out
}

// addTo adds the bins to h, sign times (-1 takes them away).
func (tb traceBins) addTo(h *record.DHistogram, sign int64) {
	for _, c := range tb {
		h.Counts[c.bin] += sign * int64(c.n)
		h.N += sign * int64(c.n)
	}
}

// shareText makes t share its texts with what the store holds: the
// explanation is the completion's body (record.Extract), and the samples
// of a group, stored one after another, have one question and solution.
// Without it a trace read from its file holds each text anew.
func (s *Store) shareText(t *TraceRecord) {
	if body := record.Extract(t.Completion).Body; body == t.Explanation {
		t.Explanation = body
	}
	if t.Question == s.prevText[0] {
		t.Question = s.prevText[0]
	}
	if t.Solution == s.prevText[1] {
		t.Solution = s.prevText[1]
	}
	s.prevText = [2]string{t.Question, t.Solution}
}

// written records that the writer put trace t on line of file: the store
// then drops its arrays.
func (s *Store) written(t *TraceRecord, file string, line int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.byID[t.ID]; ok && s.traces[i].rec == t {
		s.traces[i].dropArrays(file, line)
	}
}

// readTraceBack returns t with its per-token arrays, read from its line of
// its file. The line is checked to be t's (its ID, and arrays of t's
// lengths); when it is not (a followed file rewritten since), the file is
// searched for t's ID.
func readTraceBack(t *TraceRecord) (TraceRecord, error) {
	where := fmt.Sprintf("%s:%d", t.File, t.Line)
	prefix := appendJSONString([]byte(`{"id":`), t.ID)
	var found *TraceRecord
	var mismatch error
	stop := errors.New("found")
	_, err := ReadLog(t.File, func(n int, raw []byte) error {
		if n != t.Line && bytes.HasPrefix(raw, []byte(`{"id":`)) && !bytes.HasPrefix(raw, prefix) {
			return nil // another trace's line: not decoded
		}
		got, _, err := decodeTraceSalvaging(raw, nil)
		if err != nil || got.ID != t.ID {
			return nil
		}
		if l := got.Tokens.Lengths(); l != t.Lengths {
			mismatch = fmt.Errorf("line %d has trace %s with %d explanation tokens where %d were read before: the file changed since the run was opened; reopen it", n, t.ID, l.ExplanationTokens, t.Lengths.ExplanationTokens)
			return nil
		}
		found = got
		return stop
	})
	switch {
	case found != nil:
		out := *t
		out.Tokens = found.Tokens
		return out, nil
	case err != nil && !errors.Is(err, stop):
		return *t, fmt.Errorf("trace %s: read its per-token arrays back from %s: %w", t.ID, where, err)
	case mismatch != nil:
		return *t, fmt.Errorf("trace %s: read its per-token arrays back from %s: %w", t.ID, t.File, mismatch)
	default:
		return *t, fmt.Errorf("trace %s: read its per-token arrays back: it is no longer in %s (the file changed since the run was opened); reopen the run", t.ID, t.File)
	}
}
