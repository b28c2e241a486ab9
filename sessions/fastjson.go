package sessions

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/rlt-workbench/rlt/engine/record"
)

// Hand-written encoders and a fast-path parser for the lines this package
// writes most: they avoid encoding/json's reflection and its re-validation
// of custom marshalers' output. Anything the fast parser does not expect
// falls back to encoding/json, so other writers' lines still read.

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			enc, _ := json.Marshal(s) // escapes, and repairs invalid UTF-8
			return append(b, enc...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendKey(b []byte, key string) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

func appendInt32s(b []byte, xs []int32) []byte {
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(x), 10)
	}
	return append(b, ']')
}

// appendTrace writes a trace line; it decodes as traceJSON.
func appendTrace(b []byte, t *TraceRecord) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, t.ID)
	if t.Seg != 0 {
		b = appendKey(b, "seg")
		b = strconv.AppendInt(b, int64(t.Seg), 10)
	}
	b = appendKey(b, "step")
	b = strconv.AppendInt(b, int64(t.Step), 10)
	b = appendKey(b, "group")
	b = strconv.AppendInt(b, int64(t.Group), 10)
	b = appendKey(b, "sample")
	b = strconv.AppendInt(b, int64(t.Sample), 10)
	b = appendKey(b, "time")
	b = append(b, '"')
	b = t.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	for _, f := range [...]struct {
		k, v string
		omit bool
	}{{"question", t.Question, false}, {"solution", t.Solution, false}, {"completion", t.Completion, false},
		{"explanation", t.Explanation, false}, {"reconstruction", t.Reconstruction, true}} {
		if f.omit && f.v == "" {
			continue
		}
		b = appendKey(b, f.k)
		b = appendJSONString(b, f.v)
	}
	b = appendKey(b, "advantage")
	b = record.AppendFloat(b, t.Advantage)
	if t.Source != "" {
		b = appendKey(b, "source")
		b = appendJSONString(b, t.Source)
	}
	if t.HasSourceReward {
		b = appendKey(b, "source_reward")
		b = record.AppendFloat(b, t.SourceReward)
	}
	b = appendKey(b, "ended")
	b = strconv.AppendBool(b, t.Ended)
	if t.HasScore {
		b = append(b, `,"terms":{`...)
		b = t.Terms.AppendFields(b)
		b = append(b, '}')
	}
	if len(t.ExplanationIDs) > 0 {
		b = appendKey(b, "expl_ids")
		b = appendInt32s(b, t.ExplanationIDs)
	}
	if len(t.ExplanationTokens) > 0 {
		b = appendKey(b, "expl_tokens")
		b = appendStrings(b, t.ExplanationTokens)
	}
	for _, f := range [...]struct {
		k string
		v []float32
	}{{"teacher_lp", t.TeacherLP}, {"student_lp", t.StudentLP}, {"d", t.D}} {
		if len(f.v) > 0 {
			b = appendKey(b, f.k)
			b = appendF32s(b, f.v)
		}
	}
	if len(t.SolutionIDs) > 0 {
		b = appendKey(b, "sol_ids")
		b = appendInt32s(b, t.SolutionIDs)
	}
	if len(t.SolutionTokens) > 0 {
		b = appendKey(b, "sol_tokens")
		b = appendStrings(b, t.SolutionTokens)
	}
	if len(t.SolutionLP) > 0 {
		b = appendKey(b, "sol_lp")
		b = appendF32s(b, t.SolutionLP)
	}
	return append(b, '}')
}

// parseMetricFast parses a metrics line exactly as appendMetric writes it
// (names without escapes, sorted). ok is false for anything else.
func parseMetricFast(raw []byte, prev []string) (m MetricRecord, ok bool) {
	p := raw
	lit := func(s string) bool {
		if !bytes.HasPrefix(p, []byte(s)) {
			return false
		}
		p = p[len(s):]
		return true
	}
	integer := func() (int, bool) {
		i := 0
		for i < len(p) && (p[i] == '-' || (p[i] >= '0' && p[i] <= '9')) {
			i++
		}
		n, err := strconv.Atoi(string(p[:i]))
		p = p[i:]
		return n, err == nil && i > 0
	}
	var good bool
	if !lit(`{"step":`) {
		return m, false
	}
	if m.Step, good = integer(); !good {
		return m, false
	}
	if lit(`,"seg":`) {
		if m.Seg, good = integer(); !good {
			return m, false
		}
	}
	if !lit(`,"time":"`) {
		return m, false
	}
	end := bytes.IndexByte(p, '"')
	if end < 0 {
		return m, false
	}
	tm, err := time.Parse(time.RFC3339Nano, string(p[:end]))
	if err != nil {
		return m, false
	}
	m.Time = tm
	p = p[end+1:]
	if !lit(`,"values":{`) {
		return m, false
	}
	names := prev
	reuse := true
	m.Values = make([]float64, 0, len(prev))
	for i := 0; !lit(`}}`); i++ {
		if i > 0 && !lit(",") {
			return m, false
		}
		if !lit(`"`) {
			return m, false
		}
		end := bytes.IndexByte(p, '"')
		if end < 0 || bytes.IndexByte(p[:end], '\\') >= 0 {
			return m, false
		}
		name := p[:end]
		p = p[end+1:]
		if !lit(":") {
			return m, false
		}
		if reuse && (i >= len(prev) || string(name) != prev[i]) {
			reuse = false
			names = append([]string(nil), prev[:min(i, len(prev))]...)
		}
		if !reuse {
			if i > 0 && string(name) <= names[i-1] {
				return m, false // not sorted or repeated
			}
			names = append(names, string(name))
		}
		vend := 0
		for vend < len(p) && p[vend] != ',' && p[vend] != '}' {
			vend++
		}
		raw := bytes.TrimSpace(p[:vend])
		if len(raw) > 0 && raw[0] != '"' && raw[0] != 'n' && !isJSONNumber(raw) {
			return m, false // 00, 0x1p3, -inf: let encoding/json judge
		}
		v, err := record.ParseFloat(raw)
		if err != nil {
			return m, false
		}
		m.Values = append(m.Values, v)
		p = p[vend:]
	}
	if len(bytes.TrimSpace(p)) != 0 {
		return m, false
	}
	if reuse {
		names = prev[:len(m.Values)]
	}
	m.Names = names
	return m, true
}

// isJSONNumber reports whether b is a number as JSON writes one:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func isJSONNumber(b []byte) bool {
	i := 0
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i, n = i+1, n+1
		}
		return n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}
