package sessions

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

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
		got, ok := parseTraceFast(line, tokenTable{})
		if !ok {
			if !strings.Contains(string(line), `\`) {
				t.Errorf("variant %d: the fast parser refused a line without escapes:\n%s", i, line)
			}
			continue
		}
		if !sameTrace(got, want) {
			t.Errorf("variant %d: fast %+v\nreflect %+v", i, got, want)
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
	} {
		if bad == base {
			t.Fatalf("bad line %d is the good one", i)
		}
		if _, ok := parseTraceFast([]byte(bad), nil); ok {
			t.Errorf("bad line %d: the fast parser took a line the writer does not write:\n%.200s", i, bad)
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
	tokens := tokenTable{}
	for _, c := range []struct {
		name   string
		decode func([]byte) (*TraceRecord, error)
	}{{"fast", func(l []byte) (*TraceRecord, error) { return decodeTraceStrict(l, nil) }},
		{"fast-tokens-interned", func(l []byte) (*TraceRecord, error) { return decodeTraceStrict(l, tokens) }},
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

// A run reads its traces' token texts into one copy each: decoding a trace
// of 300 tokens whose texts the run has seen makes a few dozen
// allocations, not one per token (380). (The store then drops the arrays;
// the table spares opening a run most of its allocations.)
func TestDecodeTraceSharesTokenTexts(t *testing.T) {
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
	shared := tokenTable{}
	a, errA := decodeTraceStrict(line, shared)
	b, errB := decodeTraceStrict(line, shared)
	if err := errors.Join(errA, errB); err != nil {
		t.Fatal(err)
	}
	if len(a.ExplanationTokens) != n || len(b.ExplanationTokens) != n {
		t.Fatalf("%d and %d tokens read, want %d", len(a.ExplanationTokens), len(b.ExplanationTokens), n)
	}
	for i := range a.ExplanationTokens {
		if a.ExplanationTokens[i] != sc.ExplanationTokens[i] {
			t.Fatalf("token %d read as %q, written %q", i, a.ExplanationTokens[i], sc.ExplanationTokens[i])
		}
		if unsafe.StringData(a.ExplanationTokens[i]) != unsafe.StringData(b.ExplanationTokens[i]) {
			t.Fatalf("token %d %q: two copies of its text", i, a.ExplanationTokens[i])
		}
	}
	tokens := tokenTable{}
	if _, err := decodeTraceStrict(line, tokens); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := decodeTraceStrict(line, tokens); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 100 {
		t.Errorf("%.0f allocations to decode a trace of %d known tokens, want at most 100", allocs, n)
	}
}
