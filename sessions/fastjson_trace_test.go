package sessions

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rlt-workbench/rlt/engine/jsonerr"
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
		func(t *TraceRecord) {
			// Tokens holding the array's own punctuation, nothing, a
			// control character, invalid UTF-8 (written as U+FFFD).
			copy(t.ExplanationTokens, []string{"]", `","`, "", ",", "\x01", "a\xffb", "\\", "漢", "\u2028"})
			t.SolutionTokens[1] = `"]`
		},
		func(t *TraceRecord) { t.D[1] = float32(math.NaN()); t.Reconstruction = "" },
		func(t *TraceRecord) { t.ExplanationIDs[0] = -7; t.Ended = false },
		func(t *TraceRecord) { t.SolutionLP, t.SolutionIDs, t.SolutionTokens = nil, nil, nil },
		func(t *TraceRecord) {
			t.Completion, t.Explanation, t.Reconstruction = "cut in 漢\xe5\xad", "cut in 漢\xe5\xad", "\xff1"
		},
		func(t *TraceRecord) { t.Completion, t.Explanation = "a\xc3"+record.EndExplanation, "" },
		func(t *TraceRecord) { t.Explanation = " \n\t " }, // written, all white space: not cut from the completion
		func(t *TraceRecord) {
			t.Question = strings.Repeat("word\n", 3*PreviewWidth)
			t.Explanation = strings.Repeat("é  \"x\" \U0001F600\\", PreviewWidth)
		},
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
		got, ok := parseTraceFast(line, keepWhole)
		if !ok {
			if !strings.Contains(string(line), `\`) {
				t.Errorf("variant %d: the fast parser refused a line without escapes:\n%s", i, line)
			}
			continue
		}
		if !sameTrace(got, want) {
			t.Errorf("variant %d: fast %+v\nreflect %+v", i, got, want)
		}
		// An export's read: the texts whole, the arrays counted, none kept.
		texts, ok := parseTraceFast(line, keepTexts)
		wantTexts := *want
		wantTexts.Lengths, wantTexts.Tokens = want.Tokens.Lengths(), record.Tokens{}
		if !ok || !sameTrace(texts, &wantTexts) {
			t.Errorf("variant %d: texts (%v) %+v\nwant %+v", i, ok, texts, &wantTexts)
		}
		// The summary the store keeps: the same but for the texts, of
		// which it keeps the previews of the question and explanation,
		// and the arrays, of which it keeps d and every length.
		sum, ok := parseTraceFast(line, keepListing)
		want.Lengths, want.Tokens = want.Tokens.Lengths(), record.Tokens{D: want.D}
		setPreviews(want)
		want.Question, want.Solution, want.Completion, want.Explanation, want.Reconstruction = "", "", "", "", ""
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
		strings.Replace(base, `"d":"`, "\"d\":\"\r", 1),                         // base64 would skip it; JSON refuses it
		strings.Replace(base, `"expl_tokens":["`, "\"expl_tokens\":[\"\x01", 1), // JSON refuses it unescaped
		strings.Replace(base, `"expl_tokens":[`, `"expl_tokens":["a",`+"\n", 1),
		strings.Replace(base, `"expl_tokens":[`, `"expl_tokens":["a" ,`, 1),
		strings.Replace(base, `"expl_tokens":[`, `"expl_tokens":["\u12",`, 1),
		strings.Replace(base, `"expl_tokens":[`, `"expl_tokens":[],"x":[`, 1),
	} {
		if bad == base {
			t.Fatalf("bad line %d is the good one", i)
		}
		for _, keep := range []traceKeep{keepWhole, keepListing, keepTexts} {
			if _, ok := parseTraceFast([]byte(bad), keep); ok {
				t.Errorf("bad line %d (keep %d): the fast parser took a line the writer does not write:\n%.200s", i, keep, bad)
			}
		}
	}
}

// FuzzParseTraceFast: a line the fast parser takes is one encoding/json
// reads to the same trace, whole, as the store keeps it and as an export
// reads it; a line it refuses whole it refuses in every mode.
//
//	go test -run '^$' -fuzz FuzzParseTraceFast -fuzztime 60s ./sessions/
func FuzzParseTraceFast(f *testing.F) {
	for _, tr := range traceVariants() {
		f.Add(appendTrace(nil, tr))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		got, ok := parseTraceFast(line, keepWhole)
		sum, sumOK := parseTraceFast(line, keepListing)
		texts, textsOK := parseTraceFast(line, keepTexts)
		if !ok {
			if sumOK || textsOK {
				t.Fatalf("the summary (%v) or the texts' read (%v) took a line the whole read refuses: %q", sumOK, textsOK, line)
			}
			return
		}
		want, err := decodeTraceReflect(line)
		if err != nil {
			t.Fatalf("fast took a line encoding/json refuses (%v): %q", err, line)
		}
		if !sameTrace(got, want) {
			t.Fatalf("fast %+v\nencoding/json %+v\n%q", got, want, line)
		}
		if !sumOK || sum.Lengths != got.Tokens.Lengths() || !sameF32(sum.D, got.D) {
			t.Fatalf("summary (%v) %+v of %q", sumOK, sum, line)
		}
		wantTexts := *got
		wantTexts.Lengths, wantTexts.Tokens = got.Tokens.Lengths(), record.Tokens{}
		if !textsOK || !sameTrace(texts, &wantTexts) {
			t.Fatalf("texts (%v) %+v\nwant %+v of %q", textsOK, texts, &wantTexts, line)
		}
	})
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
	}{{"fast", func(l []byte) (*TraceRecord, error) { return decodeTraceStrict(l, keepWhole) }},
		{"fast-summary", func(l []byte) (*TraceRecord, error) { return decodeTraceStrict(l, keepListing) }},
		{"fast-texts", func(l []byte) (*TraceRecord, error) { return decodeTraceStrict(l, keepTexts) }},
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
// allocations, not one per token (380 before the summary); read whole, as
// a viewer and a scoring read it, a few more; as an export reads it (the
// texts whole, no array), no more than as the store keeps it.
func TestDecodeTraceAllocations(t *testing.T) {
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
	tr, err := decodeTraceStrict(line, keepListing)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Lengths != sc.Tokens.Lengths() || !sameF32(tr.D, sc.D) || len(tr.ExplanationTokens) != 0 {
		t.Fatalf("summary lengths %+v, %d d_k, %d tokens kept", tr.Lengths, len(tr.D), len(tr.ExplanationTokens))
	}
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := decodeTraceStrict(line, keepListing); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 30 {
		t.Errorf("%.0f allocations to read a trace of %d tokens as the store keeps it, want at most 30", allocs, n)
	}
	// Read whole (a viewer's trace, a scoring's): its tokens' texts made at
	// once, not one by one (322 allocations before).
	allocs = testing.AllocsPerRun(20, func() {
		if _, err := decodeTraceStrict(line, keepWhole); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 40 {
		t.Errorf("%.0f allocations to read a trace of %d tokens whole, want at most 40", allocs, n)
	}
	// Read for an export (each trace it writes): its texts, no array made.
	allocs = testing.AllocsPerRun(20, func() {
		if _, err := decodeTraceStrict(line, keepTexts); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 30 {
		t.Errorf("%.0f allocations to read a trace of %d tokens for an export, want at most 30", allocs, n)
	}
}

// A text that is not valid UTF-8 (a completion cut inside a character) is
// read back byte for byte, by the fast parser and by encoding/json, from a
// line that is still valid JSON of valid UTF-8 with U+FFFD in its text.
func TestTraceTextsNotUTF8ReadBackExactly(t *testing.T) {
	for _, tc := range []struct{ completion, explanation, reconstruction string }{
		{"cut in 漢\xe5\xad", "cut in 漢\xe5\xad", "4\xff2"},
		{"bytes \xf0\x9f that form none\xc3\x28" + record.EndExplanation, "", ""},
		{"valid é" + record.EndExplanation, "", "valid"},
	} {
		tr := traceRecord(fakeTrace(1, 0, 0), 0)
		tr.Completion, tr.Explanation, tr.Reconstruction = tc.completion, tc.explanation, tc.reconstruction
		wantExpl := tc.explanation
		if wantExpl == "" {
			wantExpl = record.Extract(tc.completion).Body
		}
		line := appendTrace(nil, tr)
		if !json.Valid(line) || !utf8.Valid(line) {
			t.Fatalf("%q: the line is not valid JSON of UTF-8: %s", tc.completion, line)
		}
		if got := strings.Contains(string(line), "_bytes"); got != !utf8.ValidString(tc.completion) {
			t.Errorf("%q: bytes written %v, want them only for a text that is not UTF-8:\n%s", tc.completion, got, line)
		}
		slow, err := encodeTraceReflect(tr)
		if err != nil || string(slow) != string(line) {
			t.Fatalf("%q: encoding/json writes (%v)\n%s\nthe fast writer\n%s", tc.completion, err, slow, line)
		}
		fast, ok := parseTraceFast(line, keepWhole)
		reflected, err := decodeTraceReflect(line)
		if !ok || err != nil {
			t.Fatalf("%q: fast parser took it: %v; encoding/json: %v\n%s", tc.completion, ok, err, line)
		}
		for name, got := range map[string]*TraceRecord{"fast": fast, "encoding/json": reflected} {
			if got.Completion != tc.completion || got.Explanation != wantExpl || got.Reconstruction != tc.reconstruction {
				t.Errorf("%s read %q, %q, %q; want %q, %q, %q", name, got.Completion, got.Explanation, got.Reconstruction,
					tc.completion, wantExpl, tc.reconstruction)
			}
		}
	}
}

// TestPreviewReadsAsTextPreview: a preview made from a JSON string as it is
// read (lineScan.preview, what a trace read from its file keeps) is the
// TextPreview of the text decoded whole, and the string is checked whole:
// what str refuses after the characters a preview shows, preview refuses.
func TestPreviewReadsAsTextPreview(t *testing.T) {
	long := strings.Repeat("ab ", PreviewWidth)
	for _, c := range []struct {
		name string
		json string // a JSON string, quotes included
	}{
		{"empty", `""`},
		{"plain", `"2+3=?"`},
		{"white space only", `"  \n\t "`},
		{"plain, long", `"` + long + `"`},
		{"escapes, long", `"` + strings.Repeat(`a\n\"b\u00e9 `, PreviewWidth) + `"`},
		{"a pair cut at the width", `"` + strings.Repeat("x", PreviewWidth-1) + `\ud83d\ude00\ud83d\ude00"`},
		{"lone surrogates", `"\ud83d x \ude00\ud83d\u0041"`},
		{"non-ASCII", `"漢字 é\u2028 end"`},
		{"invalid UTF-8", "\"a\xff b\xe5\xad\""},
		{"long white space", `"` + strings.Repeat(" \n", 2*PreviewWidth) + `x"`},
		// Refused, also past the characters the preview shows.
		{"unknown escape past the width", `"` + long + `\q"`},
		{"control character past the width", "\"" + long + "\\n\x01\""},
		{"short \\u past the width", `"` + long + `\u12"`},
		{"unknown escape", `"\q"`},
		{"unterminated", `"abc`},
	} {
		t.Run(c.name, func(t *testing.T) {
			whole := lineScan{p: []byte(c.json + `,"next":1}`)}
			text, wantOK := whole.str()
			got := lineScan{p: []byte(c.json + `,"next":1}`)}
			preview, ok := got.preview()
			if ok != wantOK {
				t.Fatalf("preview ok %v, str ok %v", ok, wantOK)
			}
			if !ok {
				return
			}
			if want := TextPreview(text); preview != want {
				t.Errorf("preview %q\nwant      %q", preview, want)
			}
			if string(got.p) != string(whole.p) {
				t.Errorf("preview left %q, str %q", got.p, whole.p)
			}
		})
	}
}

// TestSummaryLeavesTheTextsUnmade: a summary decode (each trace read from
// its file as a run opens) makes the previews of a trace's question and
// explanation from the line, not the texts, which it only checks: what it
// allocates does not grow with them. It decoded each text whole to keep
// 254 characters of two of them.
func TestSummaryLeavesTheTextsUnmade(t *testing.T) {
	short := traceRecord(fakeTrace(3, 0, 1), 0)
	long := traceRecord(fakeTrace(3, 0, 1), 0)
	grow := func(s string) string { return strings.Repeat(s+"\n", 4000/len(s)+1) } // escaped, as most texts are
	long.Question, long.Solution, long.Reconstruction = grow(long.Question), grow(long.Solution), grow(long.Reconstruction)
	long.Explanation = grow(long.Explanation)
	long.Completion = long.Explanation + record.EndExplanation
	allocated := func(tr *TraceRecord) uint64 {
		line := appendTrace(nil, tr)
		if _, ok := parseTraceFast(line, keepListing); !ok {
			t.Fatalf("the fast parser refused the writer's line:\n%.300s", line)
		}
		const n = 20
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range n {
			if _, err := decodeTraceStrict(line, keepListing); err != nil {
				t.Fatal(err)
			}
		}
		runtime.ReadMemStats(&after)
		return (after.TotalAlloc - before.TotalAlloc) / n
	}
	s, l := allocated(short), allocated(long)
	texts := len(long.Question) + len(long.Solution) + len(long.Completion) + len(long.Explanation) + len(long.Reconstruction)
	t.Logf("a summary allocates %d bytes with short texts, %d with %d bytes of texts", s, l, texts)
	if l > s+2*2*PreviewWidth { // two previews of the width more, with room to spare
		t.Errorf("a summary of %d bytes of texts allocates %d bytes, %d more than with short texts: it made the texts", texts, l, l-s)
	}
}

// A trace's terms in forms other than the writer's (another order,
// spacing, keys missing or unknown, NaN and ±Inf as ParseFloat spells
// them, null, exponents) read to what they say, by the fast parser, by
// encoding/json and when the run opens; terms that do not read make the
// line a broken record at its file and line, in the words the build
// before Terms.scan said (8592c2d^: encoding/json's map).
func TestTraceTermsReadAsEncodingJSON(t *testing.T) {
	asWritten := fakeScored(0, 0).Terms
	cases := []struct {
		name, terms string // "" the terms as written
		want        record.Terms
		said        string // the broken record's words; "" read
	}{
		{"as written", "", asWritten, ""},
		{"spaced and reordered", `{ "reward" : -1.5E-1, "kl_max_pos":3 , "r_ss":"Infinity"}`,
			record.Terms{Reward: -0.15, KLMaxPos: 3, RSS: math.Inf(1)}, ""},
		{"nulls and unknown keys", `{"kl_max":null,"kl_max_pos":null,"x":"y","no_entropy_r_kl":"-Inf","reward":"NaN"}`,
			record.Terms{KLMax: math.NaN(), NoEntRKL: math.Inf(-1), Reward: math.NaN()}, ""},
		{"empty", `{}`, record.Terms{}, ""},
		{"not a number", `{"kl_max":"x"}`, record.Terms{}, `terms: kl_max: not a number: "x"`},
		{"int with a fraction", `{"kl_max_pos":1.5}`, record.Terms{}, `the line holds a JSON number 1.5 where a whole number is wanted`},
		{"out of range", `{"reward":1e999}`, record.Terms{}, `terms: reward: not a number: 1e999`},
	}
	dir := filepath.Join(t.TempDir(), "run")
	cfg := testCfg()
	r, err := Create(dir, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	for k := range cases {
		tr := fakeTrace(0, 0, k)
		tr.Score = fakeScored(0, 0) // the terms as written: asWritten
		r.Emit(tr)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, TracesDir, "000000.jsonl")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix(data, []byte{'\n'}), []byte{'\n'})
	if len(lines) != len(cases) {
		t.Fatalf("%d trace lines, want %d", len(lines), len(cases))
	}
	var ids []string
	for k, c := range cases {
		line := lines[k]
		i := bytes.Index(line, []byte(`,"terms":{`)) + len(`,"terms":`)
		j := i + bytes.IndexByte(line[i:], '}') + 1
		if c.terms != "" {
			line = slices.Concat(line[:i], []byte(c.terms), line[j:])
		}
		lines[k] = line
		decoders := []struct {
			name   string
			decode func([]byte) (*TraceRecord, error)
		}{
			{"fast", func(l []byte) (*TraceRecord, error) { return decodeTraceStrict(l, keepWhole) }},
			{"fast summary", func(l []byte) (*TraceRecord, error) { return decodeTraceStrict(l, keepListing) }},
			{"encoding/json", decodeTraceReflect},
		}
		for _, d := range decoders {
			got, err := d.decode(line)
			switch {
			case c.said != "":
				if err == nil || jsonerr.Say(err) != c.said {
					t.Errorf("%s (%s): %v, want %q", c.name, d.name, err, c.said)
				}
			case err != nil:
				t.Errorf("%s (%s): %v", c.name, d.name, err)
			case !got.HasScore || !sameTermBits(got.Terms, c.want):
				t.Errorf("%s (%s): terms %+v, want %+v", c.name, d.name, got.Terms, c.want)
			default:
				if d.name == "fast" {
					ids = append(ids, got.ID)
				}
			}
		}
		if c.said != "" {
			ids = append(ids, "")
		}
	}
	if err := os.WriteFile(path, append(bytes.Join(lines, []byte{'\n'}), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	var issues []string
	for _, is := range ro.Store().Issues() {
		issues = append(issues, is.String())
	}
	for k, c := range cases {
		if c.said != "" {
			said := fmt.Sprintf("%s:%d: skipped broken record: %s", path, k+1, c.said)
			if !slices.Contains(issues, said) {
				t.Errorf("%s: not said as %q; issues: %q", c.name, said, issues)
			}
			continue
		}
		if k >= len(ids) || ids[k] == "" {
			continue // said above
		}
		got, err := ro.Store().Trace(ids[k])
		if err != nil || !sameTermBits(got.Terms, c.want) {
			t.Errorf("%s: the opened run holds %+v (%v), want %+v", c.name, got.Terms, err, c.want)
		}
	}
}

// sameTermBits compares two Terms field by field, bit for bit (NaN equals
// NaN, -0 is not 0): their JSON as MarshalJSON writes it.
func sameTermBits(a, b record.Terms) bool {
	x, _ := a.MarshalJSON()
	y, _ := b.MarshalJSON()
	return bytes.Equal(x, y)
}
