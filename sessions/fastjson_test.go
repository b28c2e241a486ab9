package sessions

import (
	"encoding/json"
	"math"
	"math/rand"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseMetricFastMatchesJSON(t *testing.T) {
	prev := []string{"a", "b", "c"}
	cases := []struct {
		name string
		line string
		fast bool // the fast path takes it
	}{
		{"ours", `{"step":3,"time":"2026-11-25T02:00:00.5Z","values":{"a":1,"b":-2.5e-7,"c":"NaN"}}`, true},
		{"seg", `{"step":3,"seg":2,"time":"2026-11-25T02:00:00Z","values":{"a":"+Inf","b":0,"c":"-Inf"}}`, true},
		{"prefix of prev", `{"step":4,"time":"2026-11-25T02:00:00Z","values":{"a":1,"b":2}}`, true},
		{"new names", `{"step":4,"time":"2026-11-25T02:00:00Z","values":{"a":1,"bb":2,"z":3}}`, true},
		{"empty", `{"step":4,"time":"2026-11-25T02:00:00Z","values":{}}`, true},
		{"unsorted", `{"step":4,"time":"2026-11-25T02:00:00Z","values":{"b":1,"a":2}}`, false},
		{"spaces", `{"step": 4, "time":"2026-11-25T02:00:00Z","values":{"a":1}}`, false},
		{"other order", `{"time":"2026-11-25T02:00:00Z","step":4,"values":{"a":1}}`, false},
		{"escaped name", `{"step":4,"time":"2026-11-25T02:00:00Z","values":{"a\"q":1}}`, false},
		{"null value", `{"step":4,"time":"2026-11-25T02:00:00Z","values":{"a":null}}`, true},
		{"extra field", `{"step":4,"time":"2026-11-25T02:00:00Z","values":{"a":1},"x":1}`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fm, ok := parseMetricFast([]byte(c.line), prev)
			if ok != c.fast {
				t.Fatalf("fast path took it: %v", ok)
			}
			var j metricJSON
			if err := json.Unmarshal([]byte(c.line), &j); err != nil {
				t.Fatal(err)
			}
			want := MetricRecord{Seg: j.Seg, Step: *j.Step, Time: j.Time, Names: sortedKeys(j.Values, nil)}
			want.Values = []float64{}
			for _, n := range want.Names {
				want.Values = append(want.Values, float64(j.Values[n]))
			}
			got, err := decodeMetric([]byte(c.line), prev)
			if err != nil {
				t.Fatal(err)
			}
			if ok && !reflect.DeepEqual(fm.Names, got.Names) {
				t.Errorf("fast %v vs decode %v", fm.Names, got.Names)
			}
			if got.Step != want.Step || got.Seg != want.Seg || !got.Time.Equal(want.Time) || !slices.Equal(got.Names, want.Names) ||
				len(got.Values) != len(want.Values) {
				t.Fatalf("got %+v want %+v", got, want)
			}
			for i := range got.Values {
				if g, w := got.Values[i], want.Values[i]; g != w && !(math.IsNaN(g) && math.IsNaN(w)) {
					t.Errorf("value %d: %v want %v", i, g, w)
				}
			}
		})
	}
}

func TestAppendTraceMatchesReflect(t *testing.T) {
	tr := traceRecord(fakeTrace(3, 1, 2), 2)
	tr.Question = "é \"quoted\" \\ tab\t nl\n \x01 bad\xff utf8 <&>"
	tr.ExplanationTokens[3] = "\u2028\x00"
	tr.Terms.KLMax = math.Inf(1)
	tr.Advantage = math.NaN()
	tr.TeacherLP[0] = float32(math.Inf(-1))
	bare := &TraceRecord{ID: "1-0-0", Step: 1, Time: time.Unix(5, 0).UTC()}
	for _, rec := range []*TraceRecord{tr, bare} {
		fast, _ := encodeTrace(rec)
		slow, err := encodeTraceReflect(rec)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(fast) {
			t.Fatalf("invalid JSON: %s", fast)
		}
		a, err1 := decodeTrace(fast)
		b, err2 := decodeTrace(slow)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		// appendTrace writes every field, NaN included: equal bytes, equal records.
		if string(appendTrace(nil, a)) != string(appendTrace(nil, b)) {
			t.Errorf("fast and reflect encodings differ:\n%s\n%s", fast, slow)
		}
	}
}

// FuzzDecodeMetric: never panics, and the fast path agrees with
// encoding/json whenever it takes a line.
func FuzzDecodeMetric(f *testing.F) {
	f.Add([]byte(`{"step":3,"time":"2026-11-25T02:00:00.5Z","values":{"a":1,"b":-2.5e-7,"c":"NaN"}}`))
	f.Add([]byte(`{"step":3,"seg":1,"time":"2026-11-25T02:00:00Z","values":{}}`))
	f.Add([]byte(`{"step":-0,"time":"2026-11-25T02:00:00Z","values":{"a":1e999}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		prev := []string{"a", "b", "c"}
		fm, ok := parseMetricFast(raw, prev)
		var j metricJSON
		jerr := json.Unmarshal(raw, &j)
		if !ok {
			decodeMetric(raw, prev)
			return
		}
		if jerr != nil || j.Step == nil || *j.Step != fm.Step || j.Seg != fm.Seg || !j.Time.Equal(fm.Time) || len(j.Values) != len(fm.Names) {
			t.Fatalf("fast path took %q: %+v; json: %+v %v", raw, fm, j, jerr)
		}
		for i, n := range fm.Names {
			v, ok := j.Values[n]
			if g := fm.Values[i]; !ok || (float64(v) != g && !(math.IsNaN(g) && math.IsNaN(float64(v)))) {
				t.Fatalf("%q: %s = %v, json %v", raw, n, g, v)
			}
		}
	})
}

// FuzzDecodeTrace: never panics; what decodes re-encodes to a line that
// decodes to the same record.
func FuzzDecodeTrace(f *testing.F) {
	// Small seeds: a whole trace (hundreds of numbers) would have the fuzzer
	// spend its time minimising it.
	f.Add([]byte(`{"id":"s1-g2-i3","step":1,"group":2,"sample":3,"question":"1+1","completion":"2<|end_of_explanation|>","teacher_ids":[5,6],"teacher_lp":[-0.5,-1],"reward":0.5,"ended":true}`))
	f.Add([]byte(`{"step":1,"teacher_lp":[1,null,"NaN"],"completion":"x<|end_of_explanation|>"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		tr, err := decodeTrace(raw)
		if err != nil {
			return
		}
		again, err := decodeTrace(appendTrace(nil, tr))
		if err != nil {
			t.Fatalf("re-encoded trace does not decode: %v", err)
		}
		if a, b := appendTrace(nil, tr), appendTrace(nil, again); string(a) != string(b) {
			t.Fatalf("round trip differs:\n%s\n%s", a, b)
		}
	})
}

// unquote reads every JSON string text as encoding/json does: escapes,
// surrogate pairs and lone halves, invalid UTF-8, control characters, and
// refuses what it refuses. The texts are built from pieces that each take
// a path of its own, in every order up to a few pieces long.
func TestUnquoteMatchesEncodingJSON(t *testing.T) {
	pieces := []string{`a`, `<`, `\\`, `\"`, `\/`, `\n`, `\t`, `\b`, `\f`, `\r`, `\u003c`, `\u00e9`, `\u00E9`,
		`\ud83d\ude00`, `\ud83d`, `\ude00`, `\ud83d\u0041`, `\ud83d\u12`, `\u12`, `\x`, `\`, "é", "\xff", "\xc3",
		"\xed\xa0\x80", "\x01", "\t", `"`, "Ġ", "\u2028"}
	rng := rand.New(rand.NewSource(1))
	for n := 0; n < 20000; n++ {
		var b strings.Builder
		for k := rng.Intn(5); k >= 0; k-- {
			b.WriteString(pieces[rng.Intn(len(pieces))])
		}
		text := b.String()
		var want string
		wantErr := json.Unmarshal([]byte(`"`+text+`"`), &want)
		got, ok := unquote([]byte(text))
		if ok != (wantErr == nil) || (ok && got != want) {
			t.Fatalf("%q: unquote %q (%v), encoding/json %q (%v)", text, got, ok, want, wantErr)
		}
	}
}

func FuzzUnquote(f *testing.F) {
	f.Add([]byte(`a\u003c\ud83d\ude00\n`))
	f.Add([]byte("\xff\\ud83d\\u0041"))
	f.Fuzz(func(t *testing.T, text []byte) {
		var want string
		wantErr := json.Unmarshal(append(append([]byte{'"'}, text...), '"'), &want)
		got, ok := unquote(text)
		if ok != (wantErr == nil) || (ok && got != want) {
			t.Fatalf("%q: unquote %q (%v), encoding/json %q (%v)", text, got, ok, want, wantErr)
		}
	})
}

// appendJSONString writes every string as encoding/json's Encoder does
// with SetEscapeHTML(false): escapes, invalid UTF-8, U+2028/U+2029, and
// '<', '>', '&' left as they are.
func TestAppendJSONStringMatchesEncoder(t *testing.T) {
	pieces := []string{"a", "<|im_end|>", "&", "\\", `"`, "\n", "\t", "\b", "\f", "\r", "\x00", "\x1f", "\x7f",
		"é", "\xff", "\xc3", "\xed\xa0\x80", "\u2028", "\u2029", "😀", "Ġ", "\ufffd"}
	rng := rand.New(rand.NewSource(2))
	for n := 0; n < 20000; n++ {
		var b strings.Builder
		for k := rng.Intn(5); k >= 0; k-- {
			b.WriteString(pieces[rng.Intn(len(pieces))])
		}
		s := b.String()
		want, err := marshalLine(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Fatalf("%q: appendJSONString %s, encoding/json %s", s, got, want)
		}
	}
	if got := string(appendJSONString(nil, "a<|end_of_explanation|>&b")); got != `"a<|end_of_explanation|>&b"` {
		t.Errorf("special tokens escaped: %s", got)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add("<|im_end|>\n\xff\u2028")
	f.Fuzz(func(t *testing.T, s string) {
		want, err := marshalLine(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Fatalf("%q: appendJSONString %s, encoding/json %s", s, got, want)
		}
	})
}
