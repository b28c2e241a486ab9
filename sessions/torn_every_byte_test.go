package sessions

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestTornAtEveryByteIsTheKilledWritersLine: the last trace record of a
// run whose writer was killed as it wrote it, cut at every byte offset
// (inside its "id" key, inside the id, after it, one byte short of its
// newline), is the killed writer's partial line: a TornTrace, Killed,
// of that many bytes at the record's line, in the file of the last
// step, and nothing else: no unreadable trace, no trace or review lost,
// the run's other traces held. A cut inside the id leaves no id to look
// a review up by, so it is the writer's, as a line without one is. Each
// is read as the Traces screen, rlt export and rlt score --run read it
// (OpenReadOnly) and as a resume opens it (Open, which cuts it away).
func TestTornAtEveryByteIsTheKilledWritersLine(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	w := mustCreate(t, dir, Options{})
	emitSteps(w, 0, 2, 1, 2)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	killWriter(t, w, deadPID)
	file := filepath.Join(dir, TracesDir, "000001.jsonl")
	whole, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// The last record, a real one as the writer wrote it, and the line
	// before it.
	body := bytes.TrimSuffix(whole, []byte("\n"))
	at := bytes.LastIndexByte(body, '\n') + 1
	before, last := whole[:at], body[at:]
	if !bytes.HasPrefix(last, []byte(`{"id":"1-0-1"`)) {
		t.Fatalf("the last record is not trace 1-0-1 written id first: %.40s", last)
	}
	t.Logf("the record: %d bytes", len(last))
	// Every cut is read read-only, in place (such an open changes
	// nothing); a resume's open, which writes to the run (it cuts the
	// line and records its open), of a copy each, is tried at the cuts
	// about the id and the last ones: its check of the line is the same
	// (load), and a copy for each of the record's 2,000-odd bytes took
	// minutes.
	base := t.TempDir()
	for n := 1; n <= len(last); n++ {
		for _, write := range []bool{false, true} {
			run, path := dir, file
			if write {
				if n > 40 && n < len(last)-8 {
					continue
				}
				run = filepath.Join(base, fmt.Sprintf("cut-%d", n))
				if err := os.CopyFS(run, os.DirFS(dir)); err != nil {
					t.Fatal(err)
				}
				path = filepath.Join(run, TracesDir, "000001.jsonl")
			}
			if err := os.WriteFile(path, append(append([]byte(nil), before...), last[:n]...), 0o644); err != nil {
				t.Fatal(err)
			}
			var r *Run
			if write {
				r, err = Open(run, nil)
			} else {
				r, err = OpenReadOnly(run)
			}
			if err != nil {
				t.Fatalf("cut after %d bytes (%.*s), open to write %v: %v", n, min(n, 20), last, write, err)
			}
			want := []TornTrace{{File: path, Line: 2, Bytes: int64(n), Cut: write, Killed: true}}
			got := r.TornTraces()
			for i := range got {
				got[i].last, got[i].id = false, "" // not the test's to read
			}
			_, traces, _ := r.Store().Counts()
			if !reflect.DeepEqual(got, want) || r.Store().BrokenTraces() != 0 || traces != 3 || len(r.LostReviews()) != 0 {
				t.Errorf("cut after %d bytes (%s), open to write %v: torn %+v, %d unreadable, %d traces held, lost reviews %v; want %+v, none unreadable, 3 held, none lost",
					n, last[:n][max(0, n-12):], write, got, r.Store().BrokenTraces(), traces, r.LostReviews(), want)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
		}
		// rlt import's reader of a traces file (parseTraces) takes the
		// same line as cut short, never as a row it cannot read; whole
		// but for its newline, it is a row (a writer that ends its file
		// without one).
		traces, skipped, err := parseTraces("traces.jsonl", "", bytes.NewReader(append(append([]byte(nil), before...), last[:n]...)))
		wantSkip := []RowIssue{{File: "traces.jsonl", Line: 2, Msg: fmt.Sprintf("unterminated last line (%d bytes): cut short, or still being written", n)}}
		wantTraces := 1
		if n == len(last) {
			wantSkip, wantTraces = nil, 2
		}
		if err != nil || len(traces) != wantTraces || !reflect.DeepEqual(skipped, wantSkip) {
			t.Errorf("rlt import of the record cut after %d bytes (%s): %d traces, skipped %+v, %v; want %d, skipped %+v",
				n, last[:n][max(0, n-12):], len(traces), skipped, err, wantTraces, wantSkip)
		}
	}
}

// TestFollowedPartialLineEndedIsNoTornTrace: a followed run whose open
// found its writer writing a trace's line (the newest file's partial last
// line) reads the trace once the writer ends the line, and the line is
// then no torn trace. It stayed in TornTraces, as read at the open: with
// the run finished (closed), rlt export's report of the followed run (the
// workbench's export) said its trace lost ('1 lost: the N-byte partial
// last line of ...') while the Traces screen showed it.
func TestFollowedPartialLineEndedIsNoTornTrace(t *testing.T) {
	const id = "2-5-0"
	dir, w := runOfSteps(t, 3)
	_, _, endLine := halfWrittenTrace(t, dir, w)
	r := followedByHand(t, dir, Options{PollInterval: time.Hour})
	if got := r.TornTraces(); len(got) != 1 {
		t.Fatalf("TornTraces %+v with the line half written; want it", got)
	}
	if err := endLine(); err != nil { // the writer ends the line
		t.Fatal(err)
	}
	if err := w.Close(); err != nil { // and the run ends
		t.Fatal(err)
	}
	r.pollOnce()
	if _, err := r.store.Trace(id); err != nil {
		t.Fatalf("the trace was not read once its line ended: %v", err)
	}
	if got := r.TornTraces(); len(got) != 0 {
		t.Errorf("TornTraces %+v once the line was ended and read; want none", got)
	}
}

// TestFollowedWriterKilledMidLine: a followed run whose writer is killed
// as it writes a trace's line (the newest file's partial last line, found
// by a poll, not by the open) says that line once a poll finds the writer
// gone, as an open of the killed run says it: TornTraces, Killed, of its
// bytes at its line, and the problem list's unterminated last line. The
// open alone found such lines, so the Traces screen, its problem list and
// the workbench's export of a run followed since said nothing of it.
// While the writer lives the line is the one it is writing: not said.
func TestFollowedWriterKilledMidLine(t *testing.T) {
	dir, w := runOfSteps(t, 3)
	r := followedByHand(t, dir, Options{PollInterval: time.Hour})
	file, line, _ := halfWrittenTrace(t, dir, w) // the writer has written 40 bytes of the line
	partial := func() []Issue {
		var out []Issue
		for _, is := range r.Store().Issues() {
			if is.Kind == IssuePartialLine {
				out = append(out, is)
			}
		}
		return out
	}
	r.pollOnce()
	if got, is := r.TornTraces(), partial(); len(got) != 0 || len(is) != 0 {
		t.Fatalf("with its writer writing the line: TornTraces %+v, partial lines %+v; want none", got, is)
	}
	killWriter(t, w, deadPID)
	r.pollOnce()
	got := r.TornTraces()
	for i := range got {
		got[i].last, got[i].id = false, ""
	}
	want := []TornTrace{{File: file, Line: line, Bytes: 40, Killed: true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("once the writer was killed: TornTraces %+v; want %+v", got, want)
	}
	if is := partial(); len(is) != 1 || is[0].File != file || is[0].Line != line || !strings.Contains(is[0].Msg, "unterminated last line (40 bytes)") {
		t.Errorf("once the writer was killed: partial-line problems %+v; want the line's", is)
	}
	r.pollOnce()
	if got, is := r.TornTraces(), partial(); len(got) != 1 || len(is) != 1 {
		t.Errorf("a poll later: TornTraces %+v, partial lines %+v; want the line said once", got, is)
	}
}

// halfWrittenTrace has w, the writer of the run in dir, write trace 2-5-0
// and cuts its line 40 bytes in, past its id, as a reader finds the line
// its writer is writing: the trace file, the line's number, and endLine,
// which appends the rest of the line as the writer ends it.
func halfWrittenTrace(t *testing.T, dir string, w *Run) (file string, line int, endLine func() error) {
	t.Helper()
	w.Emit(fakeTrace(2, 5, 0))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	file = filepath.Join(dir, TracesDir, "000002.jsonl")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	half := bytes.LastIndexByte(bytes.TrimSuffix(data, []byte("\n")), '\n') + 1 + 40
	if err := os.Truncate(file, int64(half)); err != nil {
		t.Fatal(err)
	}
	return file, bytes.Count(data[:half], []byte("\n")) + 1, func() error {
		f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		if _, err := f.Write(data[half:]); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
}

// followedByHand opens dir read-only, as the workbench follows a run, and
// stops its follow loop after the first poll, so the test polls it by hand
// (pollOnce) at the moments it chooses; the followers' files close when the
// test ends.
func followedByHand(t *testing.T, dir string, opts Options) *Run {
	t.Helper()
	r, err := OpenReadOnlyWith(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	t.Cleanup(func() {
		for _, fl := range r.followers {
			if fl.f != nil { // a follower may hold no file
				fl.f.Close()
			}
		}
	})
	return r
}
