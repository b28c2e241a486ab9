package sessions

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/record"
)

// wantHistogram counts the d_k of the fake traces of steps from..to-1.
func wantHistogram(from, to, groups, samples int) record.DHistogram {
	var h record.DHistogram
	for s := from; s < to; s++ {
		for g := 0; g < groups; g++ {
			for k := 0; k < samples; k++ {
				h.Add(fakeTrace(s, g, k).Score.D)
			}
		}
	}
	return h
}

// checkArraysOnDisk checks that st holds no trace's texts and per-token
// arrays, that TracesSince gives the texts' previews and the arrays'
// lengths, and that Trace reads each back as emitted, from the file and
// line the record names.
func checkArraysOnDisk(t *testing.T, st *Store, n int) {
	t.Helper()
	st.mu.RLock()
	for _, s := range st.traces {
		if !s.onDisk() || s.rec.Tokens.Lengths() != (record.TokenLengths{}) {
			t.Errorf("trace %s: arrays held in memory (on disk %v)", s.rec.ID, s.onDisk())
		}
		if s.rec.Question != "" || s.rec.Solution != "" || s.rec.Completion != "" || s.rec.Explanation != "" || s.rec.Reconstruction != "" {
			t.Errorf("trace %s: texts held in memory", s.rec.ID)
		}
		// The store knows the line's bytes, not only its number.
		raw, err := readLineAt(s.at.file, s.at.off, s.at.n)
		if err != nil || !bytes.HasPrefix(raw, appendJSONString([]byte(`{"id":`), s.rec.ID)) || raw[len(raw)-1] != '}' {
			t.Errorf("trace %s: %s bytes %d+%d are %.40q… (%v)", s.rec.ID, s.at.file, s.at.off, s.at.n, raw, err)
		}
	}
	st.mu.RUnlock()
	ts, _ := st.TracesSince(0)
	if len(ts) != n {
		t.Fatalf("%d traces, want %d", len(ts), n)
	}
	for _, tr := range ts {
		emitted := fakeTrace(tr.Step, tr.Group, tr.Sample)
		want := emitted.Score
		if len(tr.D) != 0 || len(tr.ExplanationTokens) != 0 {
			t.Errorf("trace %s: TracesSince gave its arrays", tr.ID)
		}
		if tr.Question != "" || tr.Completion != "" || tr.Explanation != "" ||
			tr.QuestionPreview != emitted.Question || tr.ExplanationPreview != record.Extract(emitted.Completion).Body {
			t.Errorf("trace %s: TracesSince gave texts %q %q, previews %q %q", tr.ID, tr.Question, tr.Explanation, tr.QuestionPreview, tr.ExplanationPreview)
		}
		if tr.Lengths != want.Tokens.Lengths() {
			t.Errorf("trace %s: lengths %+v, want %+v", tr.ID, tr.Lengths, want.Tokens.Lengths())
		}
		whole, err := st.Trace(tr.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(whole.ExplanationTokens, want.ExplanationTokens) || !slices.Equal(whole.ExplanationIDs, want.ExplanationIDs) ||
			!sameF32(whole.TeacherLP, want.TeacherLP) || !sameF32(whole.StudentLP, want.StudentLP) || !sameF32(whole.D, want.D) ||
			!slices.Equal(whole.SolutionTokens, want.SolutionTokens) || !slices.Equal(whole.SolutionIDs, want.SolutionIDs) ||
			!sameF32(whole.SolutionLP, want.SolutionLP) {
			t.Errorf("trace %s: arrays read back differ from those emitted", tr.ID)
		}
		if whole.Question != emitted.Question || whole.Solution != emitted.Solution || whole.Completion != emitted.Completion ||
			whole.Explanation != record.Extract(emitted.Completion).Body || whole.Reconstruction != emitted.Reconstruction {
			t.Errorf("trace %s: texts read back %q, want those emitted", tr.ID, textsOf(&whole))
		}
		if whole.Terms != tr.Terms || whole.Lengths != tr.Lengths || whole.QuestionPreview != tr.QuestionPreview {
			t.Errorf("trace %s: read back as %+v, listed as %+v", tr.ID, whole.Terms, tr.Terms)
		}
		var atLine []byte
		ReadLog(whole.File, func(n int, raw []byte) error {
			if n == whole.Line {
				atLine = raw
			}
			return nil
		})
		if filepath.Base(whole.File) != filepath.Base(traceFileName("", tr.Step)) ||
			!bytes.HasPrefix(atLine, appendJSONString([]byte(`{"id":`), tr.ID)) {
			t.Errorf("trace %s: at %s:%d, which holds %.40q…", tr.ID, whole.File, whole.Line, atLine)
		}
	}
}

// The store keeps a trace's per-token arrays only until the trace is in
// its file: a run being written drops them once written, and a run opened
// from its folder never holds them; Trace reads them back, and the run's
// d_k histogram counts them all the same.
func TestStoreLeavesArraysOnDisk(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	w := mustCreate(t, dir, Options{})
	emitSteps(w, 0, 4, 2, 3)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Run("written", func(t *testing.T) {
		checkArraysOnDisk(t, w.Store(), 24)
		if h := w.Store().DHistogram(); h != wantHistogram(0, 4, 2, 3) {
			t.Errorf("histogram of %d d_k, want %d", h.N, wantHistogram(0, 4, 2, 3).N)
		}
	})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// A resume drops the steps after it, and their d_k leave the histogram.
	w, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h := w.Store().DHistogram(); h != wantHistogram(0, 4, 2, 3) {
		t.Errorf("reopened: histogram of %d d_k, want %d", h.N, wantHistogram(0, 4, 2, 3).N)
	}
	if err := w.Resume(1); err != nil {
		t.Fatal(err)
	}
	if h := w.Store().DHistogram(); h != wantHistogram(0, 2, 2, 3) {
		t.Errorf("after Resume(1): histogram of %d d_k, want %d", h.N, wantHistogram(0, 2, 2, 3).N)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	t.Run("followed", func(t *testing.T) {
		ro := followRun(t, dir)
		w, err := Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		emitSteps(w, 2, 4, 2, 3)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		st := ro.Store()
		waitFor(t, st, func() bool { _, n, _ := st.Counts(); return n == 24 })
		checkArraysOnDisk(t, st, 24)
	})
	t.Run("read", func(t *testing.T) {
		ro := openReadOnly(t, dir)
		checkArraysOnDisk(t, ro.Store(), 24)
		if h := ro.Store().DHistogram(); h != wantHistogram(0, 4, 2, 3) {
			t.Errorf("histogram of %d d_k, want %d", h.N, wantHistogram(0, 4, 2, 3).N)
		}
	})
}

// A trace whose file changed after the run was opened is read back where
// its line moved to (and found there next time), and otherwise comes
// without its arrays and an error naming the file and saying to reopen
// the run; another record of its ID is not taken for it.
func TestTraceReadBack(t *testing.T) {
	rewrite := func(edit func(other *event.Trace)) func(t *testing.T, path string) {
		return func(t *testing.T, path string) {
			other := fakeTrace(1, 0, 0)
			edit(&other)
			writeFile(t, path, []byte(string(appendTrace(nil, traceRecord(other, 0)))+"\n"))
		}
	}
	for _, tc := range []struct {
		name     string
		change   func(t *testing.T, path string)
		wantLine int    // where it reads back from
		wantErr  string // else
	}{
		{"unchanged", func(*testing.T, string) {}, 1, ""},
		{"lines moved", func(t *testing.T, path string) {
			data, _ := os.ReadFile(path)
			first, rest, _ := strings.Cut(string(data), "\n")
			writeFile(t, path, []byte("\n\n"+rest+first+"\n")) // two blank lines, 1-0-1, then 1-0-0
		}, 4, ""},
		{"file removed", func(t *testing.T, path string) { os.Remove(path) }, 0, "is gone"},
		{"trace gone", func(t *testing.T, path string) {
			data, _ := os.ReadFile(path)
			_, rest, _ := strings.Cut(string(data), "\n")
			writeFile(t, path, []byte(rest))
		}, 0, "is no longer in"},
		{"another record of its ID", rewrite(func(o *event.Trace) { o.Time = o.Time.Add(time.Hour) }), 0, "is no longer in"},
		{"trace rewritten shorter", rewrite(func(o *event.Trace) {
			sc := *o.Score
			sc.D, sc.TeacherLP, sc.StudentLP = sc.D[:3], sc.TeacherLP[:3], sc.StudentLP[:3]
			sc.ExplanationTokens, sc.ExplanationIDs = sc.ExplanationTokens[:3], sc.ExplanationIDs[:3]
			o.Score = &sc
		}), 0, "is no longer in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			w := mustCreate(t, dir, Options{})
			emitSteps(w, 0, 2, 1, 2)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			ro := openReadOnly(t, dir)
			path := traceFileName(dir, 1)
			tc.change(t, path)
			tr, err := ro.Store().Trace("1-0-0")
			if tc.wantErr == "" {
				want := fakeTrace(1, 0, 0).Score
				if err != nil || !sameF32(tr.D, want.D) || !slices.Equal(tr.ExplanationTokens, want.ExplanationTokens) {
					t.Errorf("read back %d d_k (%v), want %d", len(tr.D), err, len(want.D))
				}
				if e := fakeTrace(1, 0, 0); tr.Question != e.Question || tr.Completion != e.Completion {
					t.Errorf("read back texts %q %q, want %q %q", tr.Question, tr.Completion, e.Question, e.Completion)
				}
				if file, n := ro.Store().TraceLine("1-0-0"); tr.Line != tc.wantLine || file != path || n != tc.wantLine {
					t.Errorf("read back from line %d, the store now says %s:%d; want line %d", tr.Line, file, n, tc.wantLine)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "1-0-0") ||
				!strings.Contains(err.Error(), path) || !strings.HasSuffix(err.Error(), "reopen the run") {
				t.Errorf("error %v, want one naming the trace and its file, saying %q, and to reopen the run", err, tc.wantErr)
			}
			// What it has: the trace as listed, its previews and scores.
			if tr.QuestionPreview != fakeTrace(1, 0, 0).Question || tr.Question != "" || len(tr.D) != 0 || tr.Lengths.D != 64 || !tr.HasScore {
				t.Errorf("on error: %+v", tr)
			}
			if _, err := ro.Store().Trace("9-9-9"); !errors.Is(err, ErrNoTrace) {
				t.Errorf("unknown trace: %v", err)
			}
		})
	}
}

// A rescore's per-token arrays stay in rescores.jsonl too: Rescore gives
// its scores and lengths, ReadRescore its arrays as appended, in the run
// that wrote them and in one opened after; a rewritten file is an error
// naming it.
func TestRescoreArraysOnDisk(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	w := mustCreate(t, dir, Options{})
	emitSteps(w, 0, 2, 1, 2)
	cfg := record.DefaultRewardConfig()
	first, later := fakeScored(7, 1), fakeScored(8, 2)
	later.D = later.D[:10]
	if err := w.AppendRescores([]RescoreRecord{NewRescore("0-0-1", *first, "T", "S", cfg), NewRescore("1-0-0", *first, "T", "S", cfg)}); err != nil {
		t.Fatal(err)
	}
	if err := w.AppendRescores([]RescoreRecord{NewRescore("0-0-1", *later, "T2", "S2", cfg)}); err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, st *Store) {
		t.Helper()
		for _, c := range []struct {
			id   string
			want *record.Scored
		}{{"0-0-1", later}, {"1-0-0", first}} {
			rs, ok := st.Rescore(c.id)
			if !ok || len(rs.D) != 0 || rs.Lengths != c.want.Tokens.Lengths() || rs.Terms != c.want.Terms {
				t.Errorf("Rescore(%s): %v, %d d_k held, lengths %+v", c.id, ok, len(rs.D), rs.Lengths)
			}
			whole, err := st.ReadRescore(c.id)
			if err != nil || !sameF32(whole.D, c.want.D) || !slices.Equal(whole.ExplanationTokens, c.want.ExplanationTokens) ||
				!sameF32(whole.SolutionLP, c.want.SolutionLP) {
				t.Errorf("ReadRescore(%s): %d d_k, want %d (%v)", c.id, len(whole.D), len(c.want.D), err)
			}
		}
		if _, err := st.ReadRescore("1-0-1"); !errors.Is(err, ErrNoRescore) {
			t.Errorf("a trace without a rescore: %v", err)
		}
	}
	t.Run("written", func(t *testing.T) { check(t, w.Store()) })
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ro := openReadOnly(t, dir)
	t.Run("read", func(t *testing.T) { check(t, ro.Store()) })
	ro.Close()
	// A writer does not follow the file: rewritten under it, the line is gone.
	w, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	writeFile(t, filepath.Join(dir, RescoresFile), []byte("\n"))
	if _, err := w.Store().ReadRescore("1-0-0"); err == nil || !strings.Contains(err.Error(), RescoresFile) || !strings.Contains(err.Error(), "reopen") {
		t.Errorf("rescores.jsonl rewritten: %v", err)
	}
}

// followRun opens dir read-only, following its files every 10 ms, for the
// rest of the test.
func followRun(t *testing.T, dir string) *Run {
	t.Helper()
	ro, err := OpenReadOnlyWith(dir, Options{PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ro.Close() })
	return ro
}

// openReadOnly opens dir read-only for the rest of the test.
func openReadOnly(t *testing.T, dir string) *Run {
	t.Helper()
	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ro.Close() })
	return ro
}

// A followed file's blank lines are lines too: a trace appended after
// some (and after \r\n endings) is at the line an editor shows, as is a
// broken record after it, and reads back from there.
func TestFollowedLinesAfterBlankLines(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	w := mustCreate(t, dir, Options{})
	emitSteps(w, 0, 1, 1, 2)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ro := followRun(t, dir)
	path := traceFileName(dir, 0)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	line := appendTrace(nil, traceRecord(fakeTrace(0, 0, 5), 0))
	f.WriteString("\r\n\n" + string(line) + "\r\n\n{broken\n") // lines 3 and 4 blank, the trace on 5, 6 blank, 7 broken
	f.Close()
	st := ro.Store()
	waitFor(t, st, func() bool { _, n, _ := st.Counts(); return n == 3 && st.Broken() == 1 })
	if file, n := st.TraceLine("0-0-5"); file != path || n != 5 {
		t.Errorf("the trace is at %s:%d, want %s:5", file, n, path)
	}
	if tr, err := st.Trace("0-0-5"); err != nil || !sameF32(tr.D, fakeTrace(0, 0, 5).Score.D) {
		t.Errorf("read back %d d_k: %v", len(tr.D), err)
	}
	if is := st.Issues(); len(is) != 1 || is[0].File != path || is[0].Line != 7 {
		t.Errorf("issues %+v, want the broken record at %s:7", is, path)
	}
}

// A followed file rewritten in place to the same size after the run was
// opened (rescores.jsonl with its lines reversed) is noticed by the bytes
// before the follower's offset, and read again, so its records read back
// from where they are now.
func TestFollowedRewriteOfTheSameSize(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	w := mustCreate(t, dir, Options{})
	emitSteps(w, 0, 2, 1, 2)
	cfg := record.DefaultRewardConfig()
	if err := w.AppendRescores([]RescoreRecord{NewRescore("0-0-0", *fakeScored(5, 0), "T", "S", cfg),
		NewRescore("1-0-1", *fakeScored(6, 1), "T", "S", cfg)}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ro := followRun(t, dir)
	path := filepath.Join(dir, RescoresFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	first, second, _ := strings.Cut(string(data), "\n")
	f, err := os.OpenFile(path, os.O_WRONLY, 0) // in place: never shorter
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte(second+first+"\n"), 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	// Noticed as rewritten, and read again: each rescore reads back from
	// where it is now.
	st := ro.Store()
	want := map[string]*record.Scored{"0-0-0": fakeScored(5, 0), "1-0-1": fakeScored(6, 1)}
	waitFor(t, st, func() bool {
		for id, sc := range want {
			if rs, err := st.ReadRescore(id); err != nil || !sameF32(rs.D, sc.D) {
				return false
			}
		}
		return true
	})
	if !slices.ContainsFunc(st.Issues(), func(is Issue) bool { return is.File == path }) {
		t.Errorf("the rewrite of %s is not among the issues: %+v", path, st.Issues())
	}
}

// TracesSince hands out a written trace's record itself, one copy for the
// store and every viewer, and never changes it afterwards; a trace still
// held with its arrays comes as a copy without them.
func TestTracesSinceSharesWrittenRecords(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	// The trace files' writes wait at a gate, so that the traces are still
	// held, not yet written, when they are first handed out.
	gate := make(chan struct{})
	wrap := func(f logFile) logFile {
		if filepath.Base(filepath.Dir(f.(*os.File).Name())) == TracesDir {
			return gatedFile{f, gate}
		}
		return f
	}
	w := mustCreate(t, dir, Options{SyncInterval: time.Hour, wrapFile: wrap})
	emitSteps(w, 0, 1, 1, 2)
	held, _ := w.Store().TracesSince(0)
	close(gate)
	if len(held) != 2 || held[0].Tokens.Lengths() != (record.TokenLengths{}) {
		t.Fatalf("held traces: %d, the first with arrays %+v", len(held), held[0].Tokens.Lengths())
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	a, _ := w.Store().TracesSince(0)
	b, _ := w.Store().TracesSince(0)
	if a[0] != b[0] || a[1] != b[1] {
		t.Error("a written trace's record is copied for each caller")
	}
	if a[0] == held[0] || held[0].File != "" || a[0].File == "" {
		t.Errorf("the copy handed out while held changed, or the written record is it: %+v", held[0])
	}
	before := *a[0]
	if _, err := w.Store().Trace(a[0].ID); err != nil {
		t.Fatal(err)
	}
	emitSteps(w, 1, 2, 1, 2)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*a[0], before) {
		t.Errorf("the shared record changed:\n%+v\n%+v", *a[0], before)
	}
}

// gatedFile is a file whose writes wait until gate is closed.
type gatedFile struct {
	logFile
	gate chan struct{}
}

func (f gatedFile) WriteAt(p []byte, off int64) (int, error) {
	<-f.gate
	return f.logFile.WriteAt(p, off)
}

// The store keeps its first 1000 issues and counts every one.
func TestIssueCountPastTheKeptOnes(t *testing.T) {
	s := newStore()
	for i := 0; i < maxStoreIssues+5; i++ {
		s.addIssue(Issue{File: "reviews.jsonl", Line: i + 1, Msg: "unknown label", Kind: IssueBroken})
	}
	if n, all := len(s.Issues()), s.IssueCount(); n != maxStoreIssues || all != maxStoreIssues+5 || s.Broken() != maxStoreIssues+5 {
		t.Errorf("kept %d, counted %d, broken %d; want %d, %d, %d", n, all, s.Broken(), maxStoreIssues, maxStoreIssues+5, maxStoreIssues+5)
	}
}

// wholeTraces is every trace of st whole (texts and arrays), in store
// order, read as a batch consumer reads them (a TraceReader).
func wholeTraces(t testing.TB, st *Store) []*TraceRecord {
	t.Helper()
	listed, _ := st.TracesSince(0)
	rd := st.TraceReader()
	defer rd.Close()
	out := make([]*TraceRecord, len(listed))
	for i, l := range listed {
		whole, err := rd.Trace(l.ID)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = &whole
	}
	return out
}
