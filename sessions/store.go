package sessions

import (
	"fmt"
	"slices"
	"sync"

	"github.com/rlt-workbench/rlt/engine/record"
)

// Issue is a problem found in a run folder: a broken record (skipped), a
// repaired tail, a followed file that was rewritten, a write that failed.
type Issue struct {
	File  string // path of the file concerned
	Line  int    // 1-based line, 0 if not about one line
	Msg   string
	Trace string // the trace it is about, kept in the store; "" if none
	Kind  IssueKind
}

// IssueKind says what an Issue is, for a viewer to grade it without
// reading its text.
type IssueKind int

const (
	IssueOther             IssueKind = iota // a degraded read the rest survives
	IssueBroken                             // a record skipped as unreadable
	IssueRepaired                           // a half-written tail a crash left, removed
	IssueCheckpointSkipped                  // a checkpoint passed over; an earlier one is used
	IssueWriteFailed                        // records wait in memory, retried
	IssuePartialLine                        // a last line not yet complete
	IssueEventRefused                       // an engine event not recorded (the run is closed or read-only)
	IssueLost                               // a file the run's events say it had is gone (metrics.jsonl, traces/)
	IssueWriteRecovered                     // a failed write (IssueWriteFailed) whose records a retry wrote since
)

func (i Issue) String() string {
	if i.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", i.File, i.Line, i.Msg)
	}
	return i.File + ": " + i.Msg
}

// maxStoreIssues bounds the issues a store keeps; Broken keeps the count.
const maxStoreIssues = 1000

// Store is the in-memory view of a run that the UI reads. Writers (a Run's
// Emit, or the followers of a read-only run) append to it; readers pull what
// is new with the *Since methods and a cursor, and wait on Changed. Nothing
// in it waits on disk, except Trace (and a TraceReader) and ReadRescore
// reading records back: the store keeps a trace's texts and per-token
// arrays, and a rescore's arrays, only until the record is in its file (a
// big run's arrays and texts are most of its size; what it keeps of a trace
// does not grow with them). Records handed out share memory with the store
// and must be treated as read-only.
type Store struct {
	mu           sync.RWMutex
	metrics      []MetricRecord
	metricIdx    map[[2]int]int32   // (seg, step) → index of its first record
	metricMore   map[[2]int][]int32 // its further records (other key sets: the evaluation's)
	steps        stepRanges         // the steps of metrics, for Run.Steps (its highest, its holes)
	lastNames    []string
	traces       []storedTrace
	byID         map[string]int    // index into traces
	dhist        record.DHistogram // the |d_k| of every trace held
	prevText     [3]string         // the last trace's question, solution and question preview, shared by the next when equal
	events       []EventRecord
	reviews      []ReviewRecord
	labels       map[string]*labelFold
	rescores     map[string]*storedRescore // latest by trace ID
	nRescores    int
	issues       []Issue
	issuesOver   int // issues past maxStoreIssues, counted, not kept
	broken       int
	brokenTraces int
	// brokenMetrics is how many lines of metrics.jsonl were broken.
	brokenMetrics int
	changed       chan struct{}
}

type labelFold struct {
	stack   []ReviewRecord // labels in force, oldest first
	history int
}

func newStore() *Store {
	return &Store{
		metricIdx:  map[[2]int]int32{},
		metricMore: map[[2]int][]int32{},
		byID:       map[string]int{},
		labels:     map[string]*labelFold{},
		rescores:   map[string]*storedRescore{},
		changed:    make(chan struct{}, 1),
	}
}

// Changed delivers a signal (coalesced: at most one pending) whenever new
// records, labels or issues arrive. A view selects on it, then pulls.
func (s *Store) Changed() <-chan struct{} { return s.changed }

func (s *Store) signal() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// LastStep is the highest step of the metric records held (-1: none):
// those that stand, as a resume's supersede leaves them.
func (s *Store) LastStep() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.steps.last()
}

// metricSteps are the steps of the metric records held, a copy: those
// that stand (standingSteps), as a resume's supersede leaves them; broken
// is how many lines of metrics.jsonl were broken.
func (s *Store) metricSteps() (steps stepRanges, broken int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.steps), s.brokenMetrics
}

// MetricsSince returns the metric records from index cursor on and the new
// cursor (the number of records). A cursor beyond the end (the store was
// reset) starts again from 0.
func (s *Store) MetricsSince(cursor int) ([]MetricRecord, int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if cursor < 0 || cursor > len(s.metrics) {
		cursor = 0
	}
	return append([]MetricRecord(nil), s.metrics[cursor:]...), len(s.metrics)
}

// TracesSince returns the traces from index cursor on and the new cursor,
// as listing records (TraceRecord): no texts, but the previews of the
// question and the explanation (QuestionPreview, ExplanationPreview); no
// per-token arrays, but their Lengths. Whatever shows or writes a trace's
// texts or tokens reads it whole: Trace for one, a TraceReader for many.
// DHistogram counts every trace's d_k. A trace in its file is the store's
// own record, shared with every caller (a viewer and the store hold one
// copy, not two): read it, never change it; copy it to change it.
func (s *Store) TracesSince(cursor int) ([]*TraceRecord, int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if cursor < 0 || cursor > len(s.traces) {
		cursor = 0
	}
	out := make([]*TraceRecord, 0, len(s.traces)-cursor)
	for _, t := range s.traces[cursor:] {
		if t.onDisk() { // leaveInFile made it a listing record, and nothing changes it again
			out = append(out, t.rec)
			continue
		}
		// Held whole until the writer puts it on its line: a listing copy,
		// so that a viewer keeping it does not keep its texts.
		out = append(out, listing(t.rec))
	}
	return out, len(s.traces)
}

// DHistogram returns the counts of every held trace's |d_k|, from which a
// viewer reads the run's d_k colour scale.
func (s *Store) DHistogram() record.DHistogram {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.dhist
}

// EventsSince returns the events (phases, checkpoints, errors, session
// events) from index cursor on and the new cursor.
func (s *Store) EventsSince(cursor int) ([]EventRecord, int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if cursor < 0 || cursor > len(s.events) {
		cursor = 0
	}
	return append([]EventRecord(nil), s.events[cursor:]...), len(s.events)
}

// Counts returns how many metric records, traces and events the store holds.
func (s *Store) Counts() (metrics, traces, events int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.metrics), len(s.traces), len(s.events)
}

// Trace returns the trace with the given ID whole: its texts and per-token
// arrays read back from its file when the store does not hold them (a
// TraceReader reads many in one pass). The error wraps ErrNoTrace for an
// ID the store does not have; one reading the file back (the file was
// removed or rewritten since) says which file and line, and the record
// comes as listed (TracesSince: its previews, no texts or arrays).
func (s *Store) Trace(id string) (TraceRecord, error) {
	r := s.TraceReader()
	defer r.Close()
	return r.Trace(id)
}

// TraceLine returns the file and 1-based line that hold trace id: "" and 0
// for a trace not (yet) written.
func (s *Store) TraceLine(id string) (file string, line int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if i, ok := s.byID[id]; ok {
		return s.traces[i].rec.File, s.traces[i].rec.Line
	}
	return "", 0
}

// Label returns the current label of a trace (LabelNone if unreviewed).
func (s *Store) Label(id string) LabelState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.labelLocked(id)
}

func (s *Store) labelLocked(id string) LabelState {
	f := s.labels[id]
	if f == nil {
		return LabelState{}
	}
	st := LabelState{History: f.history}
	if n := len(f.stack); n > 0 {
		top := f.stack[n-1]
		st.Label, st.Note, st.Time = top.Label, top.Note, top.Time
	}
	return st
}

// Labels returns the current label of every trace that has one.
func (s *Store) Labels() map[string]LabelState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[string]LabelState, len(s.labels))
	for id := range s.labels {
		if st := s.labelLocked(id); st.Label != LabelNone {
			out[id] = st
		}
	}
	return out
}

// Issues returns the problems found so far (broken records skipped, tails
// repaired, files rewritten, writes that failed), the first 1000 of them.
func (s *Store) Issues() []Issue {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]Issue(nil), s.issues...)
}

// IssueCount is how many problems were found, those Issues leaves out
// (past its first 1000) included.
func (s *Store) IssueCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.issues) + s.issuesOver
}

// Rescore returns the latest re-scoring of a trace (rescores.jsonl), if
// any, without its per-token arrays (Lengths says how long they are):
// ReadRescore reads them.
func (s *Store) Rescore(id string) (RescoreRecord, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.rescores[id]
	if !ok {
		return RescoreRecord{}, false
	}
	return *r.rec, true
}

// ReadRescore returns the latest re-scoring of a trace with its per-token
// arrays, read back from rescores.jsonl. The error wraps ErrNoRescore for a
// trace without one; one reading the file back says where.
func (s *Store) ReadRescore(id string) (RescoreRecord, error) {
	s.mu.RLock()
	r, ok := s.rescores[id]
	s.mu.RUnlock()
	if !ok {
		return RescoreRecord{}, fmt.Errorf("trace %s: %w", id, ErrNoRescore)
	}
	if r.rec.Lengths.Empty() {
		return *r.rec, nil
	}
	return readRescoreBack(r.rec, r.at)
}

// Rescores returns how many rescore records were read or appended, and for
// how many distinct traces.
func (s *Store) Rescores() (records, traces int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.nRescores, len(s.rescores)
}

// Broken is the number of records skipped because they could not be read.
func (s *Store) Broken() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.broken
}

// BrokenTraces is the number of trace records (traces/*.jsonl lines)
// skipped because they could not be read: traces the run holds that
// TracesSince never returns.
func (s *Store) BrokenTraces() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.brokenTraces
}

// ---- writers (callers hold no lock) -------------------------------------

func (s *Store) addIssue(is Issue) {
	s.mu.Lock()
	if is.Kind == IssueBroken {
		s.broken++
	}
	if len(s.issues) < maxStoreIssues {
		s.issues = append(s.issues, is)
	} else {
		s.issuesOver++
	}
	s.mu.Unlock()
	s.signal()
}

// replaceIssue puts is in the place of the newest issue of kind (a failed
// write once a retry wrote its records): what it said no longer holds.
func (s *Store) replaceIssue(kind IssueKind, is Issue) {
	s.mu.Lock()
	for i := len(s.issues) - 1; i >= 0; i-- {
		if s.issues[i].Kind == kind {
			s.issues[i] = is
			break
		}
	}
	s.mu.Unlock()
	s.signal()
}

// dropIssue withdraws the issues at file:line, once what they reported is
// gone (a partial last line another process has since completed); the
// caller makes sure no other issue stands there yet.
func (s *Store) dropIssue(file string, line int) {
	s.mu.Lock()
	s.issues = slices.DeleteFunc(s.issues, func(is Issue) bool { return is.File == file && is.Line == line })
	s.mu.Unlock()
	s.signal()
}

// addMetric appends m unless a record of the same segment, step and key
// set is already there (a followed file read twice). A step may have
// several records with different keys (the training step's numbers, then
// the held-out evaluation's). It reports whether it was kept.
func (s *Store) addMetric(m MetricRecord) bool {
	s.mu.Lock()
	k := [2]int{m.Seg, m.Step}
	n := int32(len(s.metrics))
	if i, ok := s.metricIdx[k]; ok {
		for _, j := range append([]int32{i}, s.metricMore[k]...) {
			if slices.Equal(s.metrics[j].Names, m.Names) {
				s.mu.Unlock()
				return false
			}
		}
		s.metricMore[k] = append(s.metricMore[k], n)
	} else {
		s.metricIdx[k] = n
	}
	s.metrics = append(s.metrics, m)
	s.lastNames = m.Names
	s.steps.add(m.Step)
	s.mu.Unlock()
	s.signal()
	return true
}

// addTrace appends t unless its ID is taken. at is where t was read from
// (zero for a trace not read from a file): the store then keeps a listing
// record of it, for Trace to read its texts and per-token arrays back; a
// trace not yet written keeps them until written says where it is.
func (s *Store) addTrace(t *TraceRecord, at lineAt) bool {
	// The work per token and per byte of text before the lock, which the
	// viewer's reads wait on.
	st := storedTrace{rec: t, bins: binsOf(t.D)}
	if at.file == "" {
		setPreviews(t)
		t.Lengths = t.Tokens.Lengths() // a trace read from its file comes counted by its decoder
		shareExplanation(t)
	} else {
		// Read from its file by a summary decode (decodeTraceSalvaging),
		// which made its previews and counted its arrays: a listing
		// record already but for d, binned now, and the record no one
		// else holds yet, so not copied (leaveInFile).
		t.Tokens = record.Tokens{}
		t.File, t.Line = at.file, at.line
		st.at = at
	}
	s.mu.Lock()
	if _, dup := s.byID[t.ID]; dup {
		s.mu.Unlock()
		return false
	}
	s.shareGroupText(st.rec)
	st.bins.addTo(&s.dhist, 1)
	s.byID[t.ID] = len(s.traces)
	s.traces = append(s.traces, st)
	s.mu.Unlock()
	s.signal()
	return true
}

func (s *Store) hasTrace(id string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.byID[id]
	return ok
}

func (s *Store) addEvent(e EventRecord) {
	s.mu.Lock()
	s.events = append(s.events, e)
	s.mu.Unlock()
	s.signal()
}

// addReview folds one review record. An undo with nothing to undo is kept
// in the history and changes nothing.
func (s *Store) addReview(r ReviewRecord) {
	s.mu.Lock()
	s.foldLocked(r)
	s.reviews = append(s.reviews, r)
	s.mu.Unlock()
	s.signal()
}

func (s *Store) foldLocked(r ReviewRecord) {
	f := s.labels[r.Trace]
	if f == nil {
		f = &labelFold{}
		s.labels[r.Trace] = f
	}
	f.history++
	if r.Label == LabelUndo {
		if n := len(f.stack); n > 0 {
			f.stack = f.stack[:n-1]
		}
		return
	}
	f.stack = append(f.stack, r)
}

// addRescore makes r its trace's latest rescore. at is where r's line is:
// r's arrays are dropped, for ReadRescore to read back.
func (s *Store) addRescore(r *RescoreRecord, at lineAt) {
	kept := *r
	kept.Lengths = r.Tokens.Lengths()
	kept.Tokens = record.Tokens{}
	s.mu.Lock()
	s.rescores[r.Trace] = &storedRescore{rec: &kept, at: at}
	s.nRescores++
	s.mu.Unlock()
	s.signal()
}

// resetRescores forgets every rescore (rescores.jsonl was rewritten).
func (s *Store) resetRescores() {
	s.mu.Lock()
	s.rescores = map[string]*storedRescore{}
	s.nRescores = 0
	s.mu.Unlock()
}

// reviewCount is how many review records the store has read.
func (s *Store) reviewCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.reviews)
}

// resetReviews forgets every review (reviews.jsonl was rewritten and is
// read again from its start).
func (s *Store) resetReviews() {
	s.mu.Lock()
	s.reviews = nil
	s.labels = map[string]*labelFold{}
	s.mu.Unlock()
}

// supersede drops records of segments before seg whose step is beyond
// step: a resumed run re-does those steps.
func (s *Store) supersede(seg, step int) (metrics, traces int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keptM := s.metrics[:0]
	for _, m := range s.metrics {
		if m.Seg < seg && m.Step > step {
			metrics++
			continue
		}
		keptM = append(keptM, m)
	}
	clear(s.metrics[len(keptM):])
	s.metrics = keptM
	if metrics > 0 { // the indices moved, and the steps past step are gone
		clear(s.metricIdx)
		clear(s.metricMore)
		s.steps = s.steps[:0]
		for i, m := range s.metrics {
			k := [2]int{m.Seg, m.Step}
			if _, ok := s.metricIdx[k]; ok {
				s.metricMore[k] = append(s.metricMore[k], int32(i))
			} else {
				s.metricIdx[k] = int32(i)
			}
			s.steps.add(m.Step)
		}
	}
	keptT := s.traces[:0]
	for _, t := range s.traces {
		if t.rec.Seg < seg && t.rec.Step > step {
			delete(s.byID, t.rec.ID)
			t.bins.addTo(&s.dhist, -1)
			traces++
			continue
		}
		keptT = append(keptT, t)
	}
	clear(s.traces[len(keptT):])
	s.traces = keptT
	for i, t := range s.traces {
		s.byID[t.rec.ID] = i
	}
	return metrics, traces
}

// traceIDs returns the IDs in store order.
func (s *Store) traceIDs() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := make([]string, len(s.traces))
	for i, t := range s.traces {
		ids[i] = t.rec.ID
	}
	return ids
}

// NextUnreviewed returns the ID of the first trace after the trace after
// (in store order; "" starts at the beginning) that has no label, wrapping
// around once. ok is false when every trace is labelled.
func (s *Store) NextUnreviewed(after string) (id string, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := len(s.traces)
	start := 0
	if i, found := s.byID[after]; found {
		start = i + 1
	}
	for k := 0; k < n; k++ {
		t := s.traces[(start+k)%n].rec
		if s.labelLocked(t.ID).Label == LabelNone {
			return t.ID, true
		}
	}
	return "", false
}
