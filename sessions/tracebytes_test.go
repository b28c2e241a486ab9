package sessions

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/record"
)

// textRun is a run of realistic texts for measuring what the store holds
// per trace: 8 groups of 8 samples a step, each group's question (300
// characters) and solution one of a dataset's, each completion 1,500
// characters holding a 1,200-character explanation, a reconstruction (60
// characters, generated) the solution's text for half the samples.
type textRun struct {
	questions, solutions []string // the dataset: held by the engine anyway
}

const textRunGroups, textRunSamples = 8, 8

func newTextRun(distinct int) textRun {
	var tr textRun
	for i := range distinct {
		tr.questions = append(tr.questions, filler(fmt.Sprintf("Question %d: ", i), 300))
		tr.solutions = append(tr.solutions, filler(fmt.Sprintf("Solution %d: ", i), 60))
	}
	return tr
}

// filler is lead followed by words, n bytes in all.
func filler(lead string, n int) string {
	var b strings.Builder
	b.WriteString(lead)
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "w%d ", i*7919%1000)
	}
	return b.String()[:n]
}

// step makes step s's traces as the engine emits them: the question and
// solution the dataset's strings, the completion fresh.
func (tr textRun) step(s int, sc *record.Scored) []event.Trace {
	var out []event.Trace
	for g := range textRunGroups {
		item := (s*textRunGroups + g) % len(tr.questions)
		for k := range textRunSamples {
			expl := filler(fmt.Sprintf("step %d group %d sample %d: ", s, g, k), 1200)
			completion := expl + record.EndExplanation + filler(" The answer: ", 280) + record.ImEnd
			recon := strings.Clone(tr.solutions[item]) // the student's, generated
			if k%2 == 1 {
				recon = filler(fmt.Sprintf("guess %d ", k), 60)
			}
			out = append(out, event.Trace{Time: time.Now(), Step: s, Group: g, Sample: k,
				Question: tr.questions[item], Solution: tr.solutions[item], Completion: completion,
				Reconstruction: recon, Advantage: 0.1, Score: sc})
		}
	}
	return out
}

func heapNow() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkStoreBytesPerTrace reports the heap a run's store holds per
// trace of realistic texts (textRun): live, a run written through Emit and
// flushed (its traces' texts and arrays in their files, a listing record
// of each kept: its scores, lengths and the previews of its question and
// explanation); open, the same folder opened read-only. repeat: the dataset
// has 32 questions, so each comes back every 4 steps; fresh: no question
// comes back. What it measures no longer grows with the texts' length,
// only with the previews' (PreviewWidth).
//
//	go test -run '^$' -bench StoreBytesPerTrace -benchtime 1x ./sessions/
func BenchmarkStoreBytesPerTrace(b *testing.B) {
	const steps = 64
	const n = steps * textRunGroups * textRunSamples
	sc := fakeScored(0, 1)
	root := b.TempDir()
	for _, ds := range []struct {
		name     string
		distinct int
	}{{"repeat", 32}, {"fresh", steps * textRunGroups}} {
		tr := newTextRun(ds.distinct)
		var dir string
		b.Run("live/"+ds.name, func(b *testing.B) {
			var per float64
			for b.Loop() {
				dir = filepath.Join(root, ds.name)
				if err := os.RemoveAll(dir); err != nil {
					b.Fatal(err)
				}
				before := heapNow()
				r := mustCreate(b, dir, Options{MaxPendingTraces: n + 1})
				for s := range steps {
					for _, e := range tr.step(s, sc) {
						r.Emit(e)
					}
				}
				if err := r.Flush(); err != nil {
					b.Fatal(err)
				}
				per = float64(heapNow()-before) / n
				if _, nt, _ := r.Store().Counts(); nt != n {
					b.Fatalf("%d traces", nt)
				}
				if err := r.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(per, "B/trace")
		})
		b.Run("open/"+ds.name, func(b *testing.B) {
			if dir == "" {
				b.Skip("needs live/" + ds.name + "'s folder")
			}
			var per float64
			for b.Loop() {
				before := heapNow()
				r, err := OpenReadOnly(dir)
				if err != nil {
					b.Fatal(err)
				}
				per = float64(heapNow()-before) / n
				if _, nt, _ := r.Store().Counts(); nt != n {
					b.Fatalf("%d traces", nt)
				}
				r.Close()
			}
			b.ReportMetric(per, "B/trace")
		})
	}
}

// texts are a trace's five texts, for comparing byte for byte.
type texts [5]string

func textsOf(t *TraceRecord) texts {
	return texts{t.Question, t.Solution, t.Completion, t.Explanation, t.Reconstruction}
}

// TestStoreSharedTextsUnchanged: the texts a store shares between traces
// (a group's question and solution, the explanation inside its completion,
// a reconstruction equal to the solution) read the same, byte for byte, as
// the trace emitted, live, once written, and read back from its file,
// invalid UTF-8 included; what TracesSince lists of them is their previews.
func TestStoreSharedTextsUnchanged(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := mustCreate(t, dir, Options{})
	tr := newTextRun(3)
	want := map[string]texts{}
	var ids []string
	for s := range 2 {
		evs := tr.step(s, fakeScored(s, 1))
		for i := range evs {
			e := &evs[i]
			if i%3 == 0 { // invalid UTF-8: written in the *_bytes fields
				e.Completion = "caf\xe9 \xff\xfe " + e.Completion[:40] + "\xc3" + record.EndExplanation + "tail \x80" + record.ImEnd
				e.Reconstruction = "r\xff" + e.Solution
			}
			if i%5 == 0 { // a copy of the dataset's text, not its string
				e.Question = strings.Clone(e.Question)
			}
			id := traceID(e.Step, e.Group, e.Sample, 0)
			ids = append(ids, id)
			want[id] = texts{e.Question, e.Solution, e.Completion, record.Extract(e.Completion).Body, e.Reconstruction}
			r.Emit(*e)
		}
	}
	check := func(when string, st *Store) {
		t.Helper()
		recs, _ := st.TracesSince(0)
		if len(recs) != len(ids) {
			t.Fatalf("%s: %d traces, want %d", when, len(recs), len(ids))
		}
		rd := st.TraceReader()
		defer rd.Close()
		for i, rec := range recs {
			w := want[rec.ID]
			if rec.ID != ids[i] {
				t.Fatalf("%s: trace %d is %s, want %s", when, i, rec.ID, ids[i])
			}
			if got := textsOf(rec); got != (texts{}) {
				t.Errorf("%s: trace %s listed with texts %q", when, rec.ID, got)
			}
			if rec.QuestionPreview != TextPreview(w[0]) || rec.ExplanationPreview != TextPreview(w[3]) {
				t.Errorf("%s: trace %s: previews %q, %q", when, rec.ID, rec.QuestionPreview, rec.ExplanationPreview)
			}
			whole, err := st.Trace(rec.ID)
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if got := textsOf(&whole); got != w {
				t.Errorf("%s: Trace(%s): texts %q, want %q", when, rec.ID, got, w)
			}
			if whole, err := rd.Trace(rec.ID); err != nil || textsOf(&whole) != w {
				t.Errorf("%s: TraceReader.Trace(%s): texts %q, want %q (%v)", when, rec.ID, textsOf(&whole), w, err)
			}
		}
	}
	check("live", r.Store())
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	check("written", r.Store())
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	check("read back", openReadOnly(t, dir).Store())
}

// TestStoreSharesTexts: the store holds one copy of a text several traces
// have, read from their lines each anew.
func TestStoreSharesTexts(t *testing.T) {
	st := newStore()
	q := filler("question ", 300)
	sol := filler("solution ", 40)
	expl := filler("explanation ", 1200)
	var recs []*TraceRecord
	for i := range 6 {
		completion := "<think>" + expl + record.EndExplanation + "more"
		if i%2 == 1 {
			completion = expl + record.EndExplanation
		}
		rec := &TraceRecord{ID: fmt.Sprint(i), Question: strings.Clone(q), Solution: strings.Clone(sol),
			Completion: completion, Explanation: strings.Clone(expl), Reconstruction: strings.Clone(sol)}
		st.addTrace(rec, lineAt{}) // a group's samples, one after another
		recs = append(recs, rec)
	}
	data := func(s string) *byte { return unsafe.StringData(s) }
	for _, rec := range recs {
		if got := textsOf(rec); got != (texts{q, sol, rec.Completion, expl, sol}) {
			t.Fatalf("trace %s: texts %q", rec.ID, got)
		}
		if data(rec.Question) != data(recs[0].Question) || data(rec.Solution) != data(recs[0].Solution) {
			t.Errorf("trace %s: its question or solution is a copy of the first's, not shared", rec.ID)
		}
		if data(rec.Reconstruction) != data(rec.Solution) {
			t.Errorf("trace %s: its reconstruction is a copy of its solution", rec.ID)
		}
		if i := strings.Index(rec.Completion, expl); data(rec.Explanation) != data(rec.Completion[i:]) {
			t.Errorf("trace %s: its explanation is a copy, not the completion's bytes", rec.ID)
		}
	}
}

// TestTextPreview: a preview is the text on one line, cut to PreviewWidth
// characters with "…" where more follows, in bytes of its own.
func TestTextPreview(t *testing.T) {
	long := filler("explanation ", 1200)
	atWidth := strings.Repeat("é", PreviewWidth)
	for _, c := range []struct{ name, text, want string }{
		{"empty", "", ""},
		{"white space only", " \n\t ", ""},
		{"white space made single spaces", "  What is\n\n 2+2?\t ", "What is 2+2?"},
		{"exactly the width", atWidth, atWidth},
		{"a character more", atWidth + "x", atWidth[:len(atWidth)-len("é")] + "…"},
		{"a space more, then more", atWidth + " x", atWidth[:len(atWidth)-len("é")] + "…"},
		{"white space after the width", atWidth + " \n", atWidth},
		{"long", long, long[:PreviewWidth-1] + "…"},
		{"invalid UTF-8", "a\xffb", "a\uFFFDb"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := TextPreview(c.text)
			if got != c.want {
				t.Errorf("TextPreview(%.40q…) = %q, want %q", c.text, got, c.want)
			}
			if n := utf8.RuneCountInString(got); n > PreviewWidth {
				t.Errorf("%d characters, more than %d", n, PreviewWidth)
			}
			if within(got, c.text) {
				t.Errorf("the preview shares the text's bytes")
			}
		})
	}
}

// isSpace is unicode.IsSpace (strings.Fields's white space), ASCII's
// decided without it.
func TestPreviewSpaceIsUnicodeSpace(t *testing.T) {
	for c := rune(0); c <= 0x3000; c++ {
		if isSpace(c) != unicode.IsSpace(c) {
			t.Errorf("isSpace(%U) = %v, unicode.IsSpace %v", c, isSpace(c), unicode.IsSpace(c))
		}
	}
}

// within reports whether part's bytes lie within whole's memory.
func within(part, whole string) bool {
	if part == "" || whole == "" {
		return false
	}
	p, w := uintptr(unsafe.Pointer(unsafe.StringData(part))), uintptr(unsafe.Pointer(unsafe.StringData(whole)))
	return p >= w && p < w+uintptr(len(whole))
}
