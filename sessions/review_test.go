package sessions

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/task"
)

func TestReviewFold(t *testing.T) {
	type act struct {
		label Label // LabelUndo for Undo
		note  string
	}
	cases := []struct {
		name    string
		acts    []act
		want    Label
		note    string
		undoErr bool // a further Undo fails
	}{
		{"none", nil, LabelNone, "", true},
		{"accept", []act{{LabelAccept, "good"}}, LabelAccept, "good", false},
		{"relabel", []act{{LabelAccept, ""}, {LabelFlag, "check step 3"}}, LabelFlag, "check step 3", false},
		{"undo restores", []act{{LabelAccept, "a"}, {LabelFlag, "f"}, {LabelUndo, ""}}, LabelAccept, "a", false},
		{"undo all", []act{{LabelReject, ""}, {LabelUndo, ""}}, LabelNone, "", true},
		{"undo twice", []act{{LabelAccept, "1"}, {LabelReject, "2"}, {LabelFlag, "3"}, {LabelUndo, ""}, {LabelUndo, ""}}, LabelAccept, "1", false},
		{"label after undo", []act{{LabelAccept, ""}, {LabelUndo, ""}, {LabelReject, "no"}}, LabelReject, "no", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			r := mustCreate(t, dir, Options{})
			emitSteps(r, 0, 1, 1, 2)
			id := "0-0-1"
			for _, a := range tc.acts {
				var err error
				if a.label == LabelUndo {
					err = r.Undo(id)
				} else {
					err = r.Review(id, a.label, a.note)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			check := func(st *Store, where string) {
				got := st.Label(id)
				if got.Label != tc.want || got.Note != tc.note || got.History != len(tc.acts) {
					t.Errorf("%s: label %+v, want %q %q after %d records", where, got, tc.want, tc.note, len(tc.acts))
				}
				if _, has := st.Labels()[id]; has != (tc.want != LabelNone) {
					t.Errorf("%s: Labels() has %v", where, has)
				}
			}
			check(r.Store(), "live")
			if err := r.Undo(id); (err != nil) != tc.undoErr {
				t.Errorf("further undo: %v", err)
			} else if err == nil {
				r.Review(id, tc.want, tc.note) // put it back
			}
			r.Close()
			ro, err := OpenReadOnly(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer ro.Close()
			if !tc.undoErr {
				// the extra undo and re-label are two more records
				tc.acts = append(tc.acts, act{}, act{})
			}
			check(ro.Store(), "reloaded")
			// Traces are never modified by reviews.
			if n := len(fileLines(t, traceFileName(dir, 0))); n != 2 {
				t.Errorf("trace file has %d lines", n)
			}
		})
	}
}

func TestReviewErrors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := mustCreate(t, dir, Options{})
	emitSteps(r, 0, 2, 1, 2)
	if err := r.Review("9-9-9", LabelAccept, ""); err == nil || !strings.Contains(err.Error(), "no such trace") {
		t.Errorf("unknown trace: %v", err)
	}
	if err := r.Review("0-0-0", "maybe", ""); err == nil {
		t.Errorf("bad label accepted")
	}
	r.Review("0-0-0", LabelAccept, "")
	r.Review("1-0-0", LabelReject, "")
	cases := []struct {
		after, want string
		ok          bool
	}{
		{"", "0-0-1", true},
		{"0-0-1", "1-0-1", true},
		{"1-0-1", "0-0-1", true}, // wraps around
		{"nope", "0-0-1", true},
	}
	for _, c := range cases {
		if got, ok := r.NextUnreviewed(c.after); got != c.want || ok != c.ok {
			t.Errorf("NextUnreviewed(%q) = %q %v, want %q", c.after, got, ok, c.want)
		}
	}
	r.Review("0-0-1", LabelFlag, "")
	r.Review("1-0-1", LabelFlag, "")
	if got, ok := r.NextUnreviewed(""); ok {
		t.Errorf("all reviewed, got %q", got)
	}
	r.Close()
	ro, _ := OpenReadOnly(dir)
	defer ro.Close()
	if err := ro.Review("0-0-0", LabelAccept, ""); err == nil {
		t.Errorf("review on a read-only run accepted")
	}
}

func TestExport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	cfg := testCfg()
	cfg.Prompts.StudentSystem = "You are a student. Think it through, then answer."
	r, err := Create(dir, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	emitSteps(r, 0, 2, 2, 3) // 12 traces
	bad := fakeTrace(2, 0, 0)
	bad.Question = "what is " + record.BeginThought + "?"
	r.Emit(bad) // 13th, cannot be a Stratos row
	r.Close()
	// One more trace line on disk that is broken.
	f, _ := os.OpenFile(traceFileName(dir, 2), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"id":"2-9-9","step":2,"question":` + "\n")
	f.Close()

	w, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if got, err := w.StudentPrompt(); err != nil || got != cfg.Prompts.StudentSystem {
		t.Errorf("student prompt %q, want the run's %q", got, cfg.Prompts.StudentSystem)
	}
	// A system prompt the writer refuses (a ChatML marker would end the
	// system turn) fails the export as a whole.
	badCfg := testCfg()
	badCfg.Prompts.StudentSystem = "Think. " + record.ImEnd
	bad2, err := Create(filepath.Join(t.TempDir(), "bad"), &badCfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad2.Export(&bytes.Buffer{}, ExportStratos); err == nil || !strings.Contains(err.Error(), "system prompt") {
		t.Errorf("system prompt with a ChatML marker: %v", err)
	}
	bad2.Close()
	labels := map[string]Label{
		"0-0-0": LabelAccept, "0-0-1": LabelAccept, "0-1-2": LabelAccept, "1-1-0": LabelAccept,
		"1-0-0": LabelReject, "1-0-1": LabelFlag, "1-0-2": LabelFlag,
	}
	for id, l := range labels {
		if l != LabelNone {
			if err := w.Review(id, l, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Review("2-0-0", LabelAccept, "tag in the question"); err != nil {
		t.Fatal(err)
	}
	// A label undone does not count.
	w.Review("1-1-1", LabelAccept, "")
	w.Undo("1-1-1")

	cases := []struct {
		format string
		check  func(t *testing.T, out []byte)
	}{
		{ExportStratos, func(t *testing.T, out []byte) {
			exs, rep, err := task.ReadJSONL(bytes.NewReader(out))
			if err != nil || rep.Kept != 4 || len(rep.Skipped) != 0 {
				t.Fatalf("rows read back: %v %v", rep, err)
			}
			want := fakeTrace(0, 0, 1)
			if exs[1].Question != want.Question || exs[1].Solution != want.Solution || exs[1].Reference != "add the digits, sample 1" {
				t.Errorf("row %+v", exs[1])
			}
			if !bytes.Contains(out, []byte(`"system":"You are a student.`)) {
				t.Errorf("system prompt missing: %.200s", out)
			}
		}},
		{ExportCSV, func(t *testing.T, out []byte) {
			rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 6 || strings.Join(rows[0], ",") != "step,group,sample,question,solution,explanation,reward,r_ss,r_kl" {
				t.Fatalf("rows %q", rows)
			}
			tr, _ := w.Store().Trace("0-1-2")
			if got := rows[3]; got[0] != "0" || got[1] != "1" || got[2] != "2" || got[5] != tr.Explanation || got[6] == "" {
				t.Errorf("row %q", got)
			}
			last := rows[5]
			if !strings.Contains(last[3], record.BeginThought) {
				t.Errorf("CSV should carry the tagged question: %q", last)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.format, func(t *testing.T) {
			var buf bytes.Buffer
			rep, err := w.Export(&buf, tc.format)
			if err != nil {
				t.Fatal(err)
			}
			wantWritten, wantRefused := 4, 1
			if tc.format == ExportCSV {
				wantWritten, wantRefused = 5, 0
			}
			if rep.Written != wantWritten || rep.Refused != wantRefused || rep.Rejected != 1 || rep.Flagged != 2 ||
				rep.NotReviewed != 13-5-3 || rep.Unreadable != 1 {
				t.Errorf("report %+v", rep)
			}
			if rep.Refused > 0 && (rep.Refusals[0].Trace != "2-0-0" || !strings.Contains(rep.Refusals[0].Reason, "reserved tag")) {
				t.Errorf("refusal %+v", rep.Refusals)
			}
			if said := w.UnreadableSaid(rep.Unreadable, "left out"); !strings.Contains(said, "000002.jsonl line 2") {
				t.Errorf("unreadable said %q, want its place", said)
			}
			tc.check(t, buf.Bytes())
		})
	}
	if _, err := w.Export(&bytes.Buffer{}, "xlsx"); err == nil {
		t.Errorf("unknown format accepted")
	}
}

func TestLabelVerdict(t *testing.T) {
	for l, want := range map[Label]string{LabelNone: "unreviewed", LabelAccept: "accepted", LabelReject: "rejected", LabelFlag: "flagged", "later": "later"} {
		if got := l.Verdict(); got != want {
			t.Errorf("Label(%q).Verdict() = %q, want %q", l, got, want)
		}
	}
}

// TestExportWritesWhatAWholeReadWrites: an export reads its traces back
// without their per-token arrays (a TextReader) and writes, in each format,
// the bytes that reading each trace whole writes: for the traces of a run
// written by an earlier version (prev-format) and for every kind of line
// the writer writes (traceVariants: escapes, texts that are not UTF-8 and
// come with their bytes, an explanation cut from its completion, NaN and
// infinite values, a trace without a score).
func TestExportWritesWhatAWholeReadWrites(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	copyDir(t, filepath.Join("testdata", "prev-format", "grpo"), dir)
	var lines []byte
	for _, tr := range traceVariants() {
		lines = append(appendTrace(lines, tr), '\n')
	}
	if err := os.WriteFile(traceFileName(dir, 3), lines, 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	listed, _ := w.Store().TracesSince(0)
	if want := 8 + len(traceVariants()); len(listed) != want {
		t.Fatalf("%d traces in the run, want %d: %v", len(listed), want, w.Store().Issues())
	}
	whole, texts := w.Store().TraceReader(), w.Store().TextReader()
	defer whole.Close()
	defer texts.Close()
	for _, l := range listed {
		if w.Store().Label(l.ID).Label != LabelAccept {
			if err := w.Review(l.ID, LabelAccept, ""); err != nil {
				t.Fatal(err)
			}
		}
		// What the export is handed: the trace whole but for its arrays,
		// whose lengths it still says.
		a, err := whole.Trace(l.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, err := texts.Trace(l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a.Tokens.Lengths() != l.Lengths || a.Tokens.Lengths() == (record.TokenLengths{}) && l.HasScore {
			t.Errorf("%s: read whole, arrays of lengths %+v; listed %+v", l.ID, a.Tokens.Lengths(), l.Lengths)
		}
		wantB := a
		wantB.Tokens = record.Tokens{}
		if !sameTrace(&b, &wantB) {
			t.Errorf("%s: the texts' read %+v\nwant the whole read without its arrays %+v", l.ID, b, wantB)
		}
	}
	for _, format := range []string{ExportStratos, ExportCSV} {
		t.Run(format, func(t *testing.T) {
			var fromWhole, fromTexts bytes.Buffer
			rd := w.Store().TraceReader()
			wholeRep, err := w.export(&fromWhole, format, rd)
			rd.Close()
			if err != nil {
				t.Fatal(err)
			}
			rep, err := w.Export(&fromTexts, format)
			if err != nil {
				t.Fatal(err)
			}
			if rep.NotReadBack != 0 || rep.Written < len(listed)-2 {
				t.Errorf("export of %d accepted traces: %+v", len(listed), rep)
			}
			if fmt.Sprintf("%+v", rep) != fmt.Sprintf("%+v", wholeRep) {
				t.Errorf("report %+v\nread whole %+v", rep, wholeRep)
			}
			if !bytes.Equal(fromTexts.Bytes(), fromWhole.Bytes()) {
				t.Errorf("the export wrote\n%s\nread whole it writes\n%s", fromTexts.Bytes(), fromWhole.Bytes())
			}
		})
	}
}

// TestExportDoesNotMakeTheArrays: an export's reading of its traces checks
// their per-token arrays, which it never writes, without making them: what
// it allocates grows with the traces' tokens only by the buffer their
// lines are read into (one, grown to the longest line). It read each trace
// whole, ~40 KB more a trace of 1,000 tokens made and dropped.
func TestExportDoesNotMakeTheArrays(t *testing.T) {
	const traces = 100
	allocated := func(tokens int) uint64 {
		dir := filepath.Join(t.TempDir(), "run")
		r := mustCreate(t, dir, Options{})
		for i := range traces {
			tr := fakeTrace(0, 0, i)
			sc := *tr.Score
			grow := func(a []float32) []float32 { return slices.Repeat(a[:1], tokens) }
			sc.TeacherLP, sc.StudentLP, sc.D, sc.SolutionLP = grow(sc.TeacherLP), grow(sc.StudentLP), grow(sc.D), grow(sc.SolutionLP)
			sc.ExplanationIDs, sc.SolutionIDs = slices.Repeat(sc.ExplanationIDs[:1], tokens), slices.Repeat(sc.SolutionIDs[:1], tokens)
			sc.ExplanationTokens = slices.Repeat(sc.ExplanationTokens[:1], tokens)
			sc.SolutionTokens = slices.Repeat(sc.SolutionTokens[:1], tokens)
			tr.Score = &sc
			r.Emit(tr)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		w, err := Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		for i := range traces {
			if err := w.Review(fmt.Sprintf("0-0-%d", i), LabelAccept, ""); err != nil {
				t.Fatal(err)
			}
		}
		least := uint64(math.MaxUint64)
		for range 3 { // the least of three: no other work counted
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			rep, err := w.Export(io.Discard, ExportCSV)
			runtime.ReadMemStats(&after)
			if err != nil || rep.Written != traces {
				t.Fatalf("export: %v, %+v", err, rep)
			}
			least = min(least, after.TotalAlloc-before.TotalAlloc)
		}
		return least / traces
	}
	one, many := allocated(1), allocated(1000)
	t.Logf("an export allocates %d B a trace of 1 token, %d B a trace of 1,000", one, many)
	if many > one+8<<10 {
		t.Errorf("an export allocates %d B a trace of 1,000 tokens, %d B a trace of 1: it made the arrays it does not write", many, one)
	}
}

// BenchmarkExport: Run.Export (CSV) of 1,024 accepted traces of 200
// tokens read back from their files, as it reads them (texts: the arrays
// checked, not made) and as it read them before (whole, the arrays made
// and dropped): the same bytes written (TestExportWritesWhatAWholeReadWrites).
func BenchmarkExport(b *testing.B) {
	const traces, tokens = 1024, 200
	dir := filepath.Join(b.TempDir(), "run")
	r := mustCreate(b, dir, Options{})
	for i := range traces {
		tr := fakeTrace(i/32, i%32/8, i%8)
		sc := *tr.Score
		grow := func(a []float32) []float32 { return slices.Repeat(a, tokens/len(a)+1)[:tokens] }
		sc.TeacherLP, sc.StudentLP, sc.D = grow(sc.TeacherLP), grow(sc.StudentLP), grow(sc.D)
		sc.ExplanationIDs = slices.Repeat(sc.ExplanationIDs, tokens/len(sc.ExplanationIDs)+1)[:tokens]
		sc.ExplanationTokens = slices.Repeat(sc.ExplanationTokens, tokens/len(sc.ExplanationTokens)+1)[:tokens]
		tr.Score = &sc
		r.Emit(tr)
	}
	if err := r.Close(); err != nil {
		b.Fatal(err)
	}
	w, err := Open(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	listed, _ := w.Store().TracesSince(0)
	for _, l := range listed {
		if err := w.Review(l.ID, LabelAccept, ""); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct {
		name   string
		reader func() *TraceReader
	}{{"texts", w.Store().TextReader}, {"whole", w.Store().TraceReader}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rd := c.reader()
				rep, err := w.export(io.Discard, ExportCSV, rd)
				rd.Close()
				if err != nil || rep.Written != traces {
					b.Fatalf("export: %v, %+v", err, rep)
				}
			}
		})
	}
}

// TestExportAcceptedOfNothingWritesNothing: the workbench's export of no
// row (no trace accepted, or the one accepted refused by the format)
// writes no file and keeps an earlier one as it was, saying why in
// rlt export's words (*NothingExported). It wrote an empty
// export-accepted.jsonl over the earlier export.
func TestExportAcceptedOfNothingWritesNothing(t *testing.T) {
	cases := []struct {
		name    string
		accept  string // the one trace accepted, "" for none
		earlier bool
		want    []string
	}{
		{"none accepted", "", false, []string{"no trace is accepted in review (of 4 traces: 4 unreviewed, 0 rejected, 0 flagged, 0 unreadable)",
			"accept traces first (a on a trace); nothing written"}},
		{"none accepted, earlier export", "", true, []string{"no trace is accepted in review",
			"; nothing written (the earlier " + ExportFile + " is kept as it was)"}},
		{"accepted one refused", "1-0-0", true, []string{"its accepted trace was refused (1-0-0: ", "reserved tag",
			"(the earlier " + ExportFile + " is kept as it was)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			cfg := testCfg()
			r, err := Create(dir, &cfg)
			if err != nil {
				t.Fatal(err)
			}
			emitSteps(r, 0, 1, 1, 3) // 3 traces
			bad := fakeTrace(1, 0, 0)
			bad.Question = "what is " + record.BeginThought + "?"
			r.Emit(bad) // cannot be a Stratos row
			r.Close()
			w, err := Open(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if tc.accept != "" {
				if err := w.Review(tc.accept, LabelAccept, ""); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(dir, ExportFile)
			const before = "{\"an\":\"earlier export\"}\n"
			if tc.earlier {
				if err := os.WriteFile(path, []byte(before), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			rep, err := w.ExportAccepted()
			var nothing *NothingExported
			if !errors.As(err, &nothing) || rep.Written != 0 || nothing.Report.Written != 0 {
				t.Fatalf("export of nothing: %+v, %v; want a *NothingExported", rep, err)
			}
			for _, want := range append(tc.want, "nothing to export from "+dir+": ") {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			data, rerr := os.ReadFile(path)
			switch {
			case !tc.earlier && rerr == nil:
				t.Errorf("an export of nothing was written: %q", data)
			case tc.earlier && string(data) != before:
				t.Errorf("the earlier export became %q (%v)", data, rerr)
			}
		})
	}
}
