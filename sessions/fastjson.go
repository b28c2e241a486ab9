package sessions

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/rlt-workbench/rlt/engine/jsonerr"
	"github.com/rlt-workbench/rlt/engine/record"
)

// Hand-written encoders and a fast-path parser for the lines this package
// writes most: they avoid encoding/json's reflection and its re-validation
// of custom marshalers' output. Anything the fast parser does not expect
// falls back to encoding/json, so other writers' lines still read.

// appendJSONString appends s as a JSON string, as encoding/json writes it
// with SetEscapeHTML(false) (marshalLine): '<', '>' and '&' stay as they
// are, so a file's special tokens (<|end_of_explanation|>) read and grep as
// themselves. Invalid UTF-8 becomes U+FFFD; U+2028 and U+2029 are escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"

// marshalLine is json.Marshal without HTML escaping, the form of every
// line this package writes (appendJSONString's).
func marshalLine(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
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
		k, v      string
		omit, gen bool // gen: the models wrote it
	}{{"question", t.Question, false, false}, {"solution", t.Solution, false, false}, {"completion", t.Completion, false, true},
		{"explanation", t.Explanation, false, true}, {"reconstruction", t.Reconstruction, true, true}} {
		if f.omit && f.v == "" {
			continue
		}
		b = appendKey(b, f.k)
		b = appendJSONString(b, f.v)
		if f.gen && !utf8.ValidString(f.v) {
			// The JSON text says U+FFFD for each invalid byte; the
			// bytes themselves follow, for a re-score to see what
			// the run scored (rawTextKey).
			b = appendKey(b, f.k+rawTextKey)
			b = append(b, '"')
			b = base64.StdEncoding.AppendEncode(b, []byte(f.v))
			b = append(b, '"')
		}
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

// lineScan reads a line laid out exactly as this package's writers lay it
// out, piece by piece; each step reports false on anything else, and the
// caller then decodes the line in full with encoding/json.
type lineScan struct {
	p []byte
}

// lit consumes s.
func (s *lineScan) lit(lit string) bool {
	if !bytes.HasPrefix(s.p, []byte(lit)) {
		return false
	}
	s.p = s.p[len(lit):]
	return true
}

// integer consumes a decimal integer.
func (s *lineScan) integer() (int, bool) {
	i := 0
	for i < len(s.p) && (s.p[i] == '-' || (s.p[i] >= '0' && s.p[i] <= '9')) {
		i++
	}
	if !isJSONNumber(s.p[:i]) {
		return 0, false
	}
	n, err := strconv.Atoi(string(s.p[:i]))
	s.p = s.p[i:]
	return n, err == nil
}

// rest consumes a string's text up to its closing quote (the opening one
// consumed already), refusing escapes.
func (s *lineScan) rest() ([]byte, bool) {
	end := bytes.IndexByte(s.p, '"')
	if end < 0 || bytes.IndexByte(s.p[:end], '\\') >= 0 {
		return nil, false
	}
	text := s.p[:end]
	s.p = s.p[end+1:]
	return text, true
}

// done reports whether nothing but space is left.
func (s *lineScan) done() bool { return len(bytes.TrimSpace(s.p)) == 0 }

// metricHead consumes a metrics line's start as appendMetric writes it,
// up to its values: {"step":N[,"seg":N],"time":"…","values":{
func (s *lineScan) metricHead() (step, seg int, tm []byte, ok bool) {
	if !s.lit(`{"step":`) {
		return
	}
	if step, ok = s.integer(); !ok {
		return
	}
	if s.lit(`,"seg":`) {
		if seg, ok = s.integer(); !ok {
			return
		}
	}
	if !s.lit(`,"time":"`) {
		return step, seg, nil, false
	}
	tm, ok = s.rest()
	return step, seg, tm, ok && s.lit(`,"values":{`)
}

// nextValue consumes value i of a metrics line's values (0 first): its
// name and its text, left unparsed (metricValue) for a caller that wants
// only some; more is false, and ok true, after the last.
func (s *lineScan) nextValue(i int) (name, text []byte, more, ok bool) {
	if s.lit(`}}`) {
		return nil, nil, false, true
	}
	if i > 0 && !s.lit(",") || !s.lit(`"`) {
		return nil, nil, false, false
	}
	if name, ok = s.rest(); !ok || !s.lit(":") {
		return nil, nil, false, false
	}
	end := 0
	for end < len(s.p) && s.p[end] != ',' && s.p[end] != '}' {
		end++
	}
	if end == len(s.p) {
		return nil, nil, false, false
	}
	text, s.p = s.p[:end], s.p[end:]
	return name, text, true, true
}

// metricValue parses a value's text as appendMetric writes it (a JSON
// number, or "NaN", "+Inf", "-Inf", null as record.ParseFloat reads them).
func metricValue(text []byte) (float64, bool) {
	raw := bytes.TrimSpace(text)
	if len(raw) > 0 && raw[0] != '"' && raw[0] != 'n' && !isJSONNumber(raw) {
		return 0, false // 00, 0x1p3, -inf: let encoding/json judge
	}
	v, err := record.ParseFloat(raw)
	return v, err == nil
}

// parseMetricFast parses a metrics line exactly as appendMetric writes it
// (names without escapes, sorted). ok is false for anything else.
func parseMetricFast(raw []byte, prev []string) (m MetricRecord, ok bool) {
	s := lineScan{p: raw}
	step, seg, tm, ok := s.metricHead()
	if !ok {
		return m, false
	}
	m.Step, m.Seg = step, seg
	if m.Time, ok = parseTime(tm); !ok {
		return m, false
	}
	names := prev
	reuse := true
	m.Values = make([]float64, 0, len(prev))
	for i := 0; ; i++ {
		name, text, more, ok := s.nextValue(i)
		if !ok {
			return m, false
		}
		if !more {
			break
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
		v, ok := metricValue(text)
		if !ok {
			return m, false
		}
		m.Values = append(m.Values, v)
	}
	if !s.done() {
		return m, false
	}
	if reuse {
		names = prev[:len(m.Values)]
	}
	m.Names = names
	return m, true
}

// scanMetricReward reads the segment, step and reward of a metrics line
// written as appendMetric writes it, parsing no other value (a listing
// wants only these); ok is false for any other line, which the caller then
// decodes in full. has is false when the record has no reward.
func scanMetricReward(raw []byte) (seg, step int, reward float64, has, ok bool) {
	s := lineScan{p: raw}
	if step, seg, _, ok = s.metricHead(); !ok {
		return
	}
	for i := 0; ; i++ {
		name, text, more, good := s.nextValue(i)
		if !good {
			return seg, step, 0, false, false
		}
		if !more {
			break
		}
		if string(name) == "reward" {
			if reward, has = metricValue(text); !has {
				return seg, step, 0, false, false
			}
		}
	}
	return seg, step, reward, has, s.done()
}

// parseTime reads a time as RFC 3339 with the writer's fractions.
func parseTime(text []byte) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, string(text))
	return t, err == nil
}

// isJSONNumber reports whether b is a number as JSON writes one, whole
// (jsonerr.NumberLen).
func isJSONNumber(b []byte) bool {
	n := jsonerr.NumberLen(b)
	return n > 0 && n == len(b)
}

// strText consumes a JSON string (its opening quote included) and
// returns its text, between the quotes; escaped: the text is not plain,
// so unquote decodes it (and may refuse it).
func (s *lineScan) strText() (text []byte, escaped, ok bool) {
	if !s.lit(`"`) {
		return nil, false, false
	}
	end := bytes.IndexByte(s.p, '"')
	if end < 0 {
		return nil, false, false
	}
	if plain(s.p[:end]) {
		text, s.p = s.p[:end], s.p[end+1:]
		return text, false, true
	}
	i := 0
	for ; i < len(s.p) && s.p[i] != '"'; i++ {
		if s.p[i] == '\\' {
			i++
		}
	}
	if i >= len(s.p) {
		return nil, false, false
	}
	text, s.p = s.p[:i], s.p[i+1:]
	return text, true, true
}

// str consumes a JSON string (its opening quote included); one with
// escapes is decoded by unquote.
func (s *lineScan) str() (string, bool) {
	text, escaped, ok := s.strText()
	switch {
	case !ok:
		return "", false
	case escaped:
		return unquote(text)
	}
	return string(text), true
}

// rawText consumes a text's bytes written beside it (rawTextKey): a JSON
// string of their base64, which is never escaped.
func (s *lineScan) rawText() (string, bool) {
	text, escaped, ok := s.strText()
	if !ok || escaped {
		return "", false
	}
	raw, err := base64.StdEncoding.AppendDecode(nil, text)
	return string(raw), err == nil
}

// skipStr consumes a JSON string as str does, checking it as str reads it
// without making it.
func (s *lineScan) skipStr() bool {
	text, escaped, ok := s.strText()
	if !ok || !escaped {
		return ok
	}
	var scratch [utf8.UTFMax]byte
	_, ok = unquoteTo(scratch[:0], text, false)
	return ok
}

// preview consumes a JSON string as skipStr does and returns the
// TextPreview of its text, decoding only the characters the preview
// shows (and checking the rest): a trace read from its file keeps the
// previews of its question and explanation, not the texts, which a
// summary (parseTraceFast) never makes.
func (s *lineScan) preview() (string, bool) {
	text, escaped, ok := s.strText()
	if !ok || len(text) == 0 {
		return "", ok
	}
	var p preview
	i := 0
	for i < len(text) {
		c, n := rune(text[i]), 1
		if c >= utf8.RuneSelf || c == '\\' || c < 0x20 || c == '"' {
			if c, n, ok = jsonRune(text[i:]); !ok {
				return "", false
			}
		}
		i += n
		if !p.add(c) {
			break
		}
	}
	if escaped && i < len(text) { // unchecked (plain text was checked whole)
		var scratch [utf8.UTFMax]byte
		if _, ok := unquoteTo(scratch[:0], text[i:], false); !ok {
			return "", false
		}
	}
	return p.String(), true
}

// unquote decodes a JSON string's text (between its quotes) exactly as
// encoding/json does: the escapes, a lone or broken surrogate and each
// byte of invalid UTF-8 as U+FFFD, false for what JSON refuses (a control
// character, an unknown escape). Nearly every completion has a newline,
// so comes here (and runs written before appendJSONString kept '<', '>'
// and '&' escaped them too); encoding/json took a tenth of opening a run.
func unquote(b []byte) (string, bool) {
	out, ok := unquoteTo(make([]byte, 0, len(b)), b, true)
	if !ok {
		return "", false
	}
	return string(out), true
}

// unquoteTo appends b decoded as unquote decodes it to out; without keep
// it only checks b, out holding at most one rune at a time (skipStr's
// scratch array, so that checking allocates nothing).
func unquoteTo(out, b []byte, keep bool) ([]byte, bool) {
	for i := 0; i < len(b); {
		if !keep {
			out = out[:0]
		}
		if c := b[i]; c >= 0x20 && c < utf8.RuneSelf && c != '\\' && c != '"' {
			out = append(out, c)
			i++
			continue
		}
		r, n, ok := jsonRune(b[i:])
		if !ok {
			return nil, false
		}
		out = utf8.AppendRune(out, r) // RuneError for an invalid byte
		i += n
	}
	return out, true
}

// jsonRune decodes the character at the start of b, a JSON string's text,
// as unquote does: an escape (a surrogate pair as one rune; a lone or
// broken surrogate as U+FFFD, a following escape left to be read on its
// own), or a UTF-8 character (an invalid byte as U+FFFD); n is how many
// bytes it took, and ok false for what JSON refuses.
func jsonRune(b []byte) (r rune, n int, ok bool) {
	switch c := b[0]; {
	case c == '\\':
		if len(b) < 2 {
			return 0, 0, false
		}
		switch e := b[1]; e {
		case '"', '\\', '/':
			return rune(e), 2, true
		case 'b':
			return '\b', 2, true
		case 'f':
			return '\f', 2, true
		case 'n':
			return '\n', 2, true
		case 'r':
			return '\r', 2, true
		case 't':
			return '\t', 2, true
		case 'u':
			r, ok := hex4(b[2:])
			if !ok {
				return 0, 0, false
			}
			if !utf16.IsSurrogate(r) {
				return r, 6, true
			}
			if len(b) > 7 && b[6] == '\\' && b[7] == 'u' {
				if r2, ok := hex4(b[8:]); ok {
					if d := utf16.DecodeRune(r, r2); d != unicode.ReplacementChar {
						return d, 12, true
					}
				}
			}
			return unicode.ReplacementChar, 6, true
		}
		return 0, 0, false
	case c == '"' || c < 0x20:
		return 0, 0, false
	case c < utf8.RuneSelf:
		return rune(c), 1, true
	}
	r, n = utf8.DecodeRune(b)
	return r, n, true
}

// hex4 reads the 4 hex digits at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// plain reports whether a string's text needs no decoding: no escape, no
// control character, valid UTF-8.
func plain(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == '\\' {
			return false
		}
	}
	return utf8.Valid(b)
}

// number consumes a value up to the next ',' or '}' as record.ParseFloat
// reads it (a JSON number, or "NaN", "+Inf", "-Inf").
func (s *lineScan) number() (float64, bool) {
	end := bytes.IndexAny(s.p, ",}")
	if end < 0 {
		return 0, false
	}
	v, ok := metricValue(s.p[:end])
	s.p = s.p[end:]
	return v, ok
}

// int32s consumes a JSON array of integers as appendInt32s writes them
// and counts them; with keep, it returns them too, else only checks each.
func (s *lineScan) int32s(keep bool) (out []int32, n int32, ok bool) {
	if !s.lit("[") {
		return nil, 0, false
	}
	end := bytes.IndexByte(s.p, ']')
	if end <= 0 {
		return nil, 0, false
	}
	body := s.p[:end]
	s.p = s.p[end+1:]
	if keep {
		out = make([]int32, 0, bytes.Count(body, []byte{','})+1)
	}
	for {
		i := bytes.IndexByte(body, ',')
		last := i < 0
		if last {
			i = len(body)
		}
		v, ok := atoi32(body[:i])
		if !ok {
			return nil, 0, false
		}
		if keep {
			out = append(out, v)
		}
		n++
		if last {
			return out, n, true
		}
		body = body[i+1:]
	}
}

// atoi32 reads b as a JSON number that is an int32 (no fraction, no
// exponent).
func atoi32(b []byte) (int32, bool) {
	if !isJSONNumber(b) {
		return 0, false
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' { // a fraction or an exponent
			return 0, false
		}
		if n = n*10 + int64(c-'0'); n > 1<<31 {
			return 0, false
		}
	}
	if neg {
		n = -n
	}
	if n > math.MaxInt32 {
		return 0, false
	}
	return int32(n), true
}

// strs consumes a JSON array of strings as appendStrings writes it and
// counts them; with keep, it returns them too, else only checks each as
// str would read it. It reads the array in one pass, a string at a time
// (a trace's hundreds of tokens: strText's calls for each were a fifth of
// opening a run), and the strings kept are slices of one string holding
// them all, made at once: each made on its own were most of the
// allocations, and of the collector's work, of reading a trace whole.
func (s *lineScan) strs(keep bool) (out []string, n int32, ok bool) {
	p := s.p
	if len(p) < 2 || p[0] != '[' || p[1] == ']' {
		return nil, 0, false
	}
	var texts []byte // with keep: every string's text, one after another
	var ends []int   // where each ends in texts
	if keep {
		// Sized by the array's bytes up to the first ']' (its end unless
		// a text holds one): its texts, each with two quotes and a comma.
		size := len(p)
		if end := bytes.IndexByte(p, ']'); end >= 0 {
			size = end
		}
		count := bytes.Count(p[:size], []byte(`","`)) + 1
		texts = make([]byte, 0, max(size-3*count, 0))
		ends = make([]int, 0, count)
	}
	var scratch [utf8.UTFMax]byte
	for i := 1; ; {
		if i >= len(p) || p[i] != '"' {
			return nil, 0, false
		}
		i++
		start := i
		plainASCII, escaped := true, false
		for ; i < len(p) && p[i] != '"'; i++ {
			switch c := p[i]; {
			case c == '\\':
				escaped = true
				i++ // the escaped character, '"' included
			case c < 0x20:
				return nil, 0, false // JSON refuses it unescaped
			case c >= utf8.RuneSelf:
				plainASCII = false
			}
		}
		if i >= len(p) {
			return nil, 0, false
		}
		text := p[start:i]
		i++
		// A text with escapes, or of invalid UTF-8, is decoded as str
		// decodes it (unquote), else taken as it is.
		decode := escaped || !plainASCII && !utf8.Valid(text)
		switch {
		case keep && decode:
			if texts, ok = unquoteTo(texts, text, true); !ok {
				return nil, 0, false
			}
		case keep:
			texts = append(texts, text...)
		case decode:
			if _, ok := unquoteTo(scratch[:0], text, false); !ok {
				return nil, 0, false
			}
		}
		if keep {
			ends = append(ends, len(texts))
		}
		n++
		if i >= len(p) {
			return nil, 0, false
		}
		switch p[i] {
		case ',':
			i++
			continue
		case ']':
			s.p = p[i+1:]
		default:
			return nil, 0, false
		}
		break
	}
	if keep {
		all := string(texts)
		out = make([]string, len(ends))
		start := 0
		for i, end := range ends {
			out[i], start = all[start:end], end
		}
	}
	return out, n, true
}

// floats consumes a float32 array as appendF32s writes it (base64) and
// counts its values; with keep, it returns them too, else only checks
// them (decodeF32s).
func (s *lineScan) floats(keep bool) ([]float32, int32, bool) {
	if len(s.p) == 0 || s.p[0] != '"' {
		return nil, 0, false
	}
	end := bytes.IndexByte(s.p[1:], '"')
	if end < 0 || bytes.ContainsAny(s.p[1:end+1], "\r\n") { // base64 skips them; JSON refuses them in a string
		return nil, 0, false
	}
	a, n, ok := decodeF32s(s.p[1:end+1], keep)
	if !ok {
		return nil, 0, false
	}
	s.p = s.p[end+2:]
	return a, int32(n), true
}

// traceKeep is what a decode of a trace line keeps of it. Whatever it
// keeps, the line is read and checked whole, each text and per-token array
// as a whole read checks it: a line one mode refuses, every mode refuses,
// so a record damaged in its file is said (at its file and line) by
// whoever reads it.
type traceKeep uint8

const (
	// keepWhole keeps every text and per-token array: a trace read back
	// for the detail, a scoring, a report.
	keepWhole traceKeep = iota
	// keepListing keeps of the texts the previews of the question and the
	// explanation, and of the per-token arrays d (the store bins its
	// values) and every array's length (Lengths): what the store keeps of
	// a trace read from its file.
	keepListing
	// keepTexts keeps the texts whole and of the per-token arrays only
	// their lengths (Lengths): what an export writes (Run.Export writes
	// texts and terms, never an array), without making arrays of
	// hundreds of values and token texts a trace only to drop them.
	keepTexts
)

// parseTraceFast parses a trace line exactly as appendTrace writes it; ok
// is false for anything else, which encoding/json then decodes. Opening a
// run of 32,000 traces of ~300 tokens spent most of its time in
// encoding/json's reflection and the garbage it made.
//
// keep says what it keeps (traceKeep); where it leaves per-token arrays
// out, it checks and counts them (Lengths). Whole, it leaves Lengths to
// the caller (decodeTraceStrict), as encoding/json's decode does.
func parseTraceFast(raw []byte, keep traceKeep) (*TraceRecord, bool) {
	summary := keep == keepListing
	s := lineScan{p: raw}
	t := &TraceRecord{}
	var ok bool
	if !s.lit(`{"id":`) {
		return nil, false
	}
	if t.ID, ok = s.str(); !ok || t.ID == "" {
		return nil, false
	}
	if s.lit(`,"seg":`) {
		if t.Seg, ok = s.integer(); !ok {
			return nil, false
		}
	}
	for _, f := range [...]struct {
		key string
		v   *int
	}{{`,"step":`, &t.Step}, {`,"group":`, &t.Group}, {`,"sample":`, &t.Sample}} {
		if !s.lit(f.key) {
			return nil, false
		}
		if *f.v, ok = s.integer(); !ok {
			return nil, false
		}
	}
	if !s.lit(`,"time":"`) {
		return nil, false
	}
	tm, ok := s.rest()
	if !ok {
		return nil, false
	}
	if t.Time, ok = parseTime(tm); !ok {
		return nil, false
	}
	// A summary keeps the previews of the question and explanation, made
	// from the line as it is read, and only checks the other texts: the
	// texts a listing record leaves in the file are never made whole.
	var compl lineScan // a summary's completion, for an explanation written empty
	emptyExpl := false
	for _, f := range [...]struct {
		key           string
		v, preview    *string
		optional, gen bool
	}{{`,"question":`, &t.Question, &t.QuestionPreview, false, false}, {`,"solution":`, &t.Solution, nil, false, false},
		{`,"completion":`, &t.Completion, nil, false, true}, {`,"explanation":`, &t.Explanation, &t.ExplanationPreview, false, true},
		{`,"reconstruction":`, &t.Reconstruction, nil, true, true}} {
		if !s.lit(f.key) {
			if f.optional {
				continue
			}
			return nil, false
		}
		switch {
		case !summary:
			*f.v, ok = s.str()
		case f.preview != nil:
			emptyExpl = f.v == &t.Explanation && bytes.HasPrefix(s.p, []byte(`""`))
			*f.preview, ok = s.preview()
		default:
			if f.v == &t.Completion {
				compl = s
			}
			ok = s.skipStr()
		}
		if !ok {
			return nil, false
		}
		if f.gen && s.lit(f.key[:len(f.key)-2]+rawTextKey+`":`) {
			// The text's bytes, not valid UTF-8 (rare): read whole.
			if *f.v, ok = s.rawText(); !ok {
				return nil, false
			}
			if summary && f.preview != nil {
				*f.preview, *f.v = TextPreview(*f.v), ""
				emptyExpl = false
			}
		}
	}
	if emptyExpl && t.Completion == "" {
		// An explanation written empty is cut from the completion (below):
		// the completion is read whole, unless its bytes were.
		if t.Completion, ok = compl.str(); !ok {
			return nil, false
		}
	}
	if !s.lit(`,"advantage":`) {
		return nil, false
	}
	if t.Advantage, ok = s.number(); !ok {
		return nil, false
	}
	if s.lit(`,"source":`) {
		if t.Source, ok = s.str(); !ok {
			return nil, false
		}
	}
	if s.lit(`,"source_reward":`) {
		if t.SourceReward, ok = s.number(); !ok {
			return nil, false
		}
		t.HasSourceReward = true
	}
	switch {
	case s.lit(`,"ended":true`):
		t.Ended = true
	case s.lit(`,"ended":false`):
	default:
		return nil, false
	}
	if s.lit(`,"terms":`) {
		end := bytes.IndexByte(s.p, '}')
		if end < 0 || t.Terms.UnmarshalJSON(s.p[:end+1]) != nil {
			return nil, false
		}
		s.p = s.p[end+1:]
		t.HasScore = true
	}
	tk, n := &t.Scored.Tokens, &t.Lengths
	// Each array kept whole (a listing's d too), and counted where the
	// arrays are not all kept.
	whole := keep == keepWhole
	var count int32
	ids := func(v *[]int32, n *int32) bool {
		*v, count, ok = s.int32s(whole)
		if !whole {
			*n = count
		}
		return ok
	}
	strs := func(v *[]string, n *int32) bool {
		*v, count, ok = s.strs(whole)
		if !whole {
			*n = count
		}
		return ok
	}
	floats := func(v *[]float32, n *int32, kept bool) bool {
		*v, count, ok = s.floats(whole || kept)
		if !whole {
			*n = count
		}
		return ok
	}
	if s.lit(`,"expl_ids":`) && !ids(&tk.ExplanationIDs, &n.ExplanationIDs) {
		return nil, false
	}
	if s.lit(`,"expl_tokens":`) && !strs(&tk.ExplanationTokens, &n.ExplanationTokens) {
		return nil, false
	}
	if s.lit(`,"teacher_lp":`) && !floats(&tk.TeacherLP, &n.TeacherLP, false) {
		return nil, false
	}
	if s.lit(`,"student_lp":`) && !floats(&tk.StudentLP, &n.StudentLP, false) {
		return nil, false
	}
	if s.lit(`,"d":`) && !floats(&tk.D, &n.D, summary) {
		return nil, false
	}
	if s.lit(`,"sol_ids":`) && !ids(&tk.SolutionIDs, &n.SolutionIDs) {
		return nil, false
	}
	if s.lit(`,"sol_tokens":`) && !strs(&tk.SolutionTokens, &n.SolutionTokens) {
		return nil, false
	}
	if s.lit(`,"sol_lp":`) && !floats(&tk.SolutionLP, &n.SolutionLP, false) {
		return nil, false
	}
	if !s.lit("}") || !s.done() {
		return nil, false
	}
	if t.Explanation == "" && (!summary || emptyExpl) && t.Completion != "" {
		t.Explanation = record.Extract(t.Completion).Body
	}
	if summary {
		// Made above for a text read whole (its bytes, an explanation cut
		// from the completion): the preview made, the texts dropped.
		if t.Explanation != "" {
			t.ExplanationPreview = TextPreview(t.Explanation)
		}
		t.Completion, t.Explanation, t.Reconstruction = "", "", ""
	}
	return t, true
}
