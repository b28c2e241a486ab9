package sessions

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strings"

	"github.com/rlt-workbench/rlt/engine/record"
)

// ErrNoTrace is the error of Store.Trace for an ID the store does not have.
var ErrNoTrace = errors.New("no such trace in the run")

// storedTrace is a trace as the store holds it. Once the trace is in its
// file (at names it), rec is a listing record (TraceRecord): no texts but
// their previews, no per-token arrays but their lengths. Store.Trace reads
// the rest back from there.
type storedTrace struct {
	rec  *TraceRecord
	at   lineAt // where rec's line is; zero while the texts and arrays are held
	bins traceBins
}

// onDisk reports whether the trace's texts and arrays are left in its file.
func (st *storedTrace) onDisk() bool { return st.at.file != "" }

// lineAt is where a record's line is: its file, 1-based line number, the
// byte offset it starts at and its length without the newline.
type lineAt struct {
	file string
	line int
	off  int64
	n    int
}

// leaveInFile puts a listing copy of the record in place, located at at.
// A copy, not the record changed in place: readers given the record before
// (a run's writer, an export) keep what they were given.
func (st *storedTrace) leaveInFile(at lineAt) {
	t := listing(st.rec)
	t.File, t.Line = at.file, at.line
	st.rec, st.at = t, at
}

// listing returns a copy of t as a list has it: without its texts and
// per-token arrays (their previews and lengths stay).
func listing(t *TraceRecord) *TraceRecord {
	c := *t
	c.Question, c.Solution, c.Completion, c.Explanation, c.Reconstruction = "", "", "", "", ""
	c.Tokens = record.Tokens{}
	return &c
}

// setPreviews makes t's previews of its question and explanation.
func setPreviews(t *TraceRecord) {
	t.QuestionPreview, t.ExplanationPreview = TextPreview(t.Question), TextPreview(t.Explanation)
}

// withTexts returns listed (a listing record) with the texts and arrays of
// got, its line read back.
func withTexts(listed, got *TraceRecord) TraceRecord {
	out := *listed
	out.Question, out.Solution, out.Completion = got.Question, got.Solution, got.Completion
	out.Explanation, out.Reconstruction = got.Explanation, got.Reconstruction
	out.Tokens = got.Tokens
	return out
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

// shareExplanation makes t's explanation the completion's bytes where it is
// a part of the completion (the body record.Extract cuts from it, nearly
// always), not a second copy: a trace read from its file decodes each text
// on its own. The bytes are the same, so what readers see is too, whatever
// they are (invalid UTF-8, read from the *_bytes fields, included).
func shareExplanation(t *TraceRecord) {
	e, c := t.Explanation, t.Completion
	switch {
	case e == "":
	case strings.HasPrefix(c, e):
		t.Explanation = c[:len(e)]
	default:
		if i := strings.Index(c, e); i >= 0 {
			t.Explanation = c[i : i+len(e)]
		}
	}
}

// shareGroupText makes t share its question's preview with the trace
// stored before it (the samples of a group come one after another, and a
// trace read from its file holds each text anew) and, while t holds its
// texts, its question and solution too, and its reconstruction with its
// solution when they are the same text.
func (s *Store) shareGroupText(t *TraceRecord) {
	if t.QuestionPreview == s.prevText[2] {
		t.QuestionPreview = s.prevText[2]
	}
	if t.Question == "" && t.Solution == "" { // a listing record
		s.prevText[2] = t.QuestionPreview
		return
	}
	if t.Question == s.prevText[0] {
		t.Question = s.prevText[0]
	}
	if t.Solution == s.prevText[1] {
		t.Solution = s.prevText[1]
	}
	if t.Reconstruction == t.Solution {
		t.Reconstruction = t.Solution
	}
	s.prevText = [3]string{t.Question, t.Solution, t.QuestionPreview}
}

// written records that the writer put trace t at at: the store then keeps
// a listing record of it.
func (s *Store) written(t *TraceRecord, at lineAt) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.byID[t.ID]; ok && s.traces[i].rec == t {
		s.traces[i].leaveInFile(at)
	}
}

// readLineAt reads the n bytes at off of path: a line, without its newline.
func readLineAt(path string, off int64, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, off); err != nil {
		return nil, err
	}
	return buf, nil
}

// TraceReader reads traces whole, as Store.Trace does, for a reader of
// many (a scoring, a report; an export's is a TextReader): it keeps the
// trace file it last read open for the next, so that traces asked for in
// store order are read in one pass over each file, not a file opened a
// trace. It is not safe for concurrent use; Close it when done.
type TraceReader struct {
	s    *Store
	keep traceKeep // what it reads back: keepWhole, or keepTexts
	f    *os.File
	path string
	buf  []byte // the line last read: reused, as a decoded trace keeps none of it
}

// TraceReader returns a reader of the store's traces.
func (s *Store) TraceReader() *TraceReader { return &TraceReader{s: s, keep: keepWhole} }

// TextReader returns a reader of the store's traces that reads back their
// texts and not their per-token arrays: each trace comes with its texts
// whole and its arrays empty (Lengths still says how long they are), what
// an export writes. It checks each line as TraceReader does, so a line
// damaged since the run was opened (an array included) is not read back,
// and is said at its file and line, as TraceReader says it.
func (s *Store) TextReader() *TraceReader { return &TraceReader{s: s, keep: keepTexts} }

// Close closes the file the reader holds open.
func (r *TraceReader) Close() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f, r.path = nil, ""
	return err
}

// Trace is Store.Trace: the trace with the given ID whole (from a
// TextReader, without its per-token arrays).
func (r *TraceReader) Trace(id string) (TraceRecord, error) {
	s := r.s
	s.mu.RLock()
	i, ok := s.byID[id]
	if !ok {
		s.mu.RUnlock()
		return TraceRecord{}, fmt.Errorf("trace %s: %w", id, ErrNoTrace)
	}
	st := s.traces[i]
	s.mu.RUnlock()
	if !st.onDisk() {
		// Not yet in its file: the store holds it whole (a TextReader
		// hands it on as it is: its arrays are the store's, not made).
		return *st.rec, nil
	}
	tr, at, err := r.readBack(st.rec, st.at)
	if err == nil && at != st.at {
		// Found elsewhere in its file (rewritten since it was read): read
		// from there next time, and say that line.
		s.mu.Lock()
		if j, ok := s.byID[id]; ok && s.traces[j].rec == st.rec {
			s.traces[j].leaveInFile(at)
		}
		s.mu.Unlock()
		tr.Line = at.line
	}
	return tr, err
}

// lineAt reads the line at at, from the file the reader holds open where
// it is at's, into the reader's buffer: the next read replaces it (a trace
// decoded from it copies what it keeps).
func (r *TraceReader) lineAt(at lineAt) ([]byte, error) {
	if r.path != at.file {
		r.Close()
		f, err := os.Open(at.file)
		if err != nil {
			return nil, err
		}
		r.f, r.path = f, at.file
	}
	if cap(r.buf) < at.n {
		r.buf = make([]byte, at.n)
	}
	buf := r.buf[:at.n]
	if _, err := r.f.ReadAt(buf, at.off); err != nil {
		return nil, err
	}
	return buf, nil
}

// readBack returns t (a listing record) with its texts and per-token
// arrays (those the reader keeps), read from its line of its file (at),
// and where that line is now.
// The line is checked to be t's (its ID, step, segment, time and array
// lengths); when it is not (a followed file rewritten since), the file is
// searched for t.
func (r *TraceReader) readBack(t *TraceRecord, at lineAt) (TraceRecord, lineAt, error) {
	if raw, err := r.lineAt(at); err == nil {
		if got, _, err := decodeTraceSalvaging(raw, r.keep); err == nil && matchesListed(got, t) {
			return withTexts(t, got), at, nil
		}
	}
	r.Close() // the file changed: read it anew
	return findTrace(t, at, r.keep)
}

// matchesListed reports whether got, read back from a file, is the trace the
// store listed as t: a line that moved, not another record of its ID. Its
// arrays' lengths are as read (decodeTraceStrict's Lengths), whether or
// not the arrays were kept.
func matchesListed(got, t *TraceRecord) bool {
	return got.ID == t.ID && got.Seg == t.Seg && got.Step == t.Step && got.Time.Equal(t.Time) &&
		got.Lengths == t.Lengths
}

// findTrace reads t's texts and arrays (what keep keeps) from the line of
// its file that holds t, and says where that is. When it cannot, it
// returns t as listed (the previews, no texts) and an error that names the
// file and says to reopen the run.
func findTrace(t *TraceRecord, at lineAt, keep traceKeep) (TraceRecord, lineAt, error) {
	prefix := appendJSONString([]byte(`{"id":`), t.ID)
	var found *TraceRecord
	var foundAt lineAt
	stop := errors.New("found")
	_, err := readLogAt(at.file, func(n int, off int64, raw []byte) error {
		if n != at.line && bytes.HasPrefix(raw, []byte(`{"id":`)) && !bytes.HasPrefix(raw, prefix) {
			return nil // another trace's line: not decoded
		}
		if got, _, err := decodeTraceSalvaging(raw, keep); err == nil && matchesListed(got, t) {
			found, foundAt = got, lineAt{at.file, n, off, len(raw)}
			return stop
		}
		return nil
	})
	switch {
	case found != nil:
		return withTexts(t, found), foundAt, nil
	case errors.Is(err, fs.ErrNotExist):
		return *t, at, fmt.Errorf("trace %s: read its texts and per-token arrays back: %s is gone (removed since the run was opened); reopen the run", t.ID, at.file)
	case err != nil && !errors.Is(err, stop):
		return *t, at, fmt.Errorf("trace %s: read its texts and per-token arrays back from %s:%d: %w", t.ID, at.file, at.line, err)
	default:
		return *t, at, fmt.Errorf("trace %s: read its texts and per-token arrays back: it is no longer in %s (the file changed since the run was opened); reopen the run", t.ID, at.file)
	}
}

// ErrNoRescore is the error of Store.ReadRescore for a trace without one.
var ErrNoRescore = errors.New("no rescore of it in the run")

// storedRescore is a trace's latest rescore as the store holds it: without
// its per-token arrays, which ReadRescore reads back from its line (at).
type storedRescore struct {
	rec *RescoreRecord
	at  lineAt
}

// readRescoreBack returns r with its per-token arrays, read from its line of
// rescores.jsonl (at), checked to be r's: the same trace, time and lengths.
func readRescoreBack(r *RescoreRecord, at lineAt) (RescoreRecord, error) {
	raw, err := readLineAt(at.file, at.off, at.n)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return *r, fmt.Errorf("trace %s: read its rescore's per-token arrays back: %s is gone (removed since the run was opened); reopen the run", r.Trace, at.file)
	case err != nil && !errors.Is(err, io.EOF): // EOF: the file is shorter now
		return *r, fmt.Errorf("trace %s: read its rescore's per-token arrays back from %s:%d: %w", r.Trace, at.file, at.line, err)
	}
	var got *RescoreRecord
	if err == nil {
		got, err = decodeRescore(raw)
	}
	if err != nil || got.Trace != r.Trace || !got.Time.Equal(r.Time) || got.Tokens.Lengths() != r.Lengths {
		return *r, fmt.Errorf("trace %s: read its rescore's per-token arrays back: %s:%d no longer holds it (the file changed since the run was opened); reopen the run", r.Trace, at.file, at.line)
	}
	out := *r
	out.Tokens = got.Tokens
	return out, nil
}
