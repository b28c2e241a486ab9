package sessions

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/record"
)

// traceVariants are trace records as the writer writes them, with what
// the fast parser must take or leave to encoding/json: escapes, non-ASCII
// text, NaN and infinite values, a segment, a source, no score.
func traceVariants() []*TraceRecord {
	var out []*TraceRecord
	for i, e := range []func(*TraceRecord){
		func(*TraceRecord) {},
		func(t *TraceRecord) { t.Seg, t.ID = 2, "3-0-1r2" },
		func(t *TraceRecord) { t.Question = "quote \" backslash \\ tab \t <html> & é 漢字 \x01" },
		func(t *TraceRecord) { t.Completion, t.Explanation = "a\nb"+record.EndExplanation, "" },
		func(t *TraceRecord) { t.Advantage = math.NaN(); t.Terms.KLMax = math.Inf(1) },
		func(t *TraceRecord) { t.Advantage = math.Inf(-1) },
		func(t *TraceRecord) {
			t.Source, t.SourceReward, t.HasSourceReward = "x.jsonl:7", -2.5, true
			t.HasScore, t.Terms, t.Scored.Tokens = false, record.Terms{}, record.Tokens{}
		},
		func(t *TraceRecord) { t.ExplanationTokens[3] = "Ġ\"q\"\\"; t.SolutionTokens[0] = "é" },
		func(t *TraceRecord) { t.D[1] = float32(math.NaN()); t.Reconstruction = "" },
		func(t *TraceRecord) { t.ExplanationIDs[0] = -7; t.Ended = false },
		func(t *TraceRecord) { t.SolutionLP, t.SolutionIDs, t.SolutionTokens = nil, nil, nil },
	} {
		ev := fakeTrace(3, 0, i)
		t := traceRecord(ev, 0)
		t.Explanation = record.Extract(t.Completion).Body
		e(t)
		out = append(out, t)
	}
	return out
}

// The fast trace parser reads each line the writer writes as encoding/json
// does, and leaves every line it does not expect to it.
func TestParseTraceFastMatchesReflect(t *testing.T) {
	for i, tr := range traceVariants() {
		line := appendTrace(nil, tr)
		want, err := decodeTraceReflect(line)
		if err != nil {
			t.Fatalf("variant %d: %v\n%s", i, err, line)
		}
		got, ok := parseTraceFast(line, false)
		if !ok {
			if !strings.Contains(string(line), `\`) {
				t.Errorf("variant %d: the fast parser refused a line without escapes:\n%s", i, line)
			}
			continue
		}
		if !sameTrace(got, want) {
			t.Errorf("variant %d: fast %+v\nreflect %+v", i, got, want)
		}
		// The summary the store keeps: the same but for the arrays, of
		// which it keeps d and every length.
		sum, ok := parseTraceFast(line, true)
		want.Lengths, want.Tokens = want.Tokens.Lengths(), record.Tokens{D: want.D}
		if !ok || !sameTrace(sum, want) {
			t.Errorf("variant %d: summary (%v) %+v\nwant %+v", i, ok, sum, want)
		}
	}
	// Lines the writer never writes: other writers' layouts, broken JSON.
	base := string(appendTrace(nil, traceVariants()[0]))
	for i, bad := range []string{
		strings.Replace(base, `{"id":`, `{ "id":`, 1),
		strings.Replace(base, `,"step":3`, `,"step":03`, 1),
		strings.Replace(base, `"expl_ids":[`, `"expl_ids":[+`, 1),
		strings.Replace(base, `"expl_ids":[`, `"expl_ids":[ `, 1),
		strings.Replace(base, `"ended":false`, `"ended":0`, 1),
		base[:len(base)-1],
		base + "x",
		strings.Replace(base, `"sample":0`, `"sample":0,"sample":1`, 1),
		strings.Replace(base, `"question":"`, "\"question\":\"\x01", 1),
		strings.Replace(base, `"expl_tokens":["`, `"expl_tokens":["\q`, 1),
		strings.Replace(base, `"expl_tokens":["`, `"expl_tokens":[7,"`, 1),
		strings.Replace(base, `"expl_ids":[`, `"expl_ids":[99999999999,`, 1),
		strings.Replace(base, `"expl_ids":[`, `"expl_ids":[1.5,`, 1),
		strings.Replace(base, `"d":"`, "\"d\":\"\r", 1), // base64 would skip it; JSON refuses it
	} {
		if bad == base {
			t.Fatalf("bad line %d is the good one", i)
		}
		for _, summary := range []bool{false, true} {
			if _, ok := parseTraceFast([]byte(bad), summary); ok {
				t.Errorf("bad line %d (summary %v): the fast parser took a line the writer does not write:\n%.200s", i, summary, bad)
			}
		}
	}
}

func sameTrace(a, b *TraceRecord) bool {
	x, y := *a, *b
	if !x.Time.Equal(y.Time) {
		return false
	}
	x.Time, y.Time = time.Time{}, time.Time{}
	return fmt.Sprintf("%#v", x) == fmt.Sprintf("%#v", y) || reflect.DeepEqual(x, y)
}

// BenchmarkDecodeTrace: a trace line of 300 tokens as the writer writes
// it, read by the fast parser and by encoding/json (opening a run reads
// every trace; 32,000 of them took 6.4 s, most of it here).
func BenchmarkDecodeTrace(b *testing.B) {
	ev := fakeTrace(3, 0, 1)
	sc := *ev.Score
	for k := len(sc.D); k < 300; k++ {
		sc.ExplanationIDs = append(sc.ExplanationIDs, int32(k))
		sc.ExplanationTokens = append(sc.ExplanationTokens, fmt.Sprintf("Ġt%d", k))
		sc.TeacherLP = append(sc.TeacherLP, -1)
		sc.StudentLP = append(sc.StudentLP, -2)
		sc.D = append(sc.D, 1)
	}
	ev.Score = &sc
	line := appendTrace(nil, traceRecord(ev, 0))
	for _, c := range []struct {
		name   string
		decode func([]byte) (*TraceRecord, error)
	}{{"fast", func(l []byte) (*TraceRecord, error) { return decodeTraceStrict(l, false) }},
		{"fast-summary", func(l []byte) (*TraceRecord, error) { return decodeTraceStrict(l, true) }},
		{"encoding-json", decodeTraceReflect}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				if _, err := c.decode(line); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Opening a run reads every trace as the store keeps it (the summary: the
// arrays counted, only d kept): a trace of 300 tokens makes a few
// allocations, not one per token as the full decode does (380 before the
// summary; the full decode is for the one trace a viewer shows).
func TestDecodeTraceSummaryAllocations(t *testing.T) {
	ev := fakeTrace(3, 0, 1)
	sc := *ev.Score
	const n = 300
	for k := len(sc.D); k < n; k++ {
		sc.ExplanationIDs = append(sc.ExplanationIDs, int32(k))
		sc.ExplanationTokens = append(sc.ExplanationTokens, fmt.Sprintf("Ġt%d", k%50))
		sc.TeacherLP = append(sc.TeacherLP, -1)
		sc.StudentLP = append(sc.StudentLP, -2)
		sc.D = append(sc.D, 1)
	}
	ev.Score = &sc
	line := appendTrace(nil, traceRecord(ev, 0))
	tr, err := decodeTraceStrict(line, true)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Lengths != sc.Tokens.Lengths() || !sameF32(tr.D, sc.D) || len(tr.ExplanationTokens) != 0 {
		t.Fatalf("summary lengths %+v, %d d_k, %d tokens kept", tr.Lengths, len(tr.D), len(tr.ExplanationTokens))
	}
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := decodeTraceStrict(line, true); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 30 {
		t.Errorf("%.0f allocations to read a trace of %d tokens as the store keeps it, want at most 30", allocs, n)
	}
}
