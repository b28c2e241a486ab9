// Package jsonerr says what is wrong with JSON in the words of the file,
// not of encoding/json's Go types: `field "step" holds a JSON string where
// a whole number is wanted` rather than `cannot unmarshal string into Go
// struct field metricJSON.step of type int`, and for a whole document
// where (line and column), and that a file which ends too soon was cut
// short; and how a note names the lines and rows of a JSON Lines file it
// is of (Lines, Rows), so the session store and the engine say them alike
// without the store linking the engine's data readers. The record
// readers, the model and tokenizer loaders and the commands that read JSON
// Lines share it, with the one reading of JSON's number grammar
// (NumberLen) and of Python's NaN and Infinity (ReplacePythonLiterals)
// that the store's readers, the record's and the server's share.
package jsonerr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Say says what is wrong with one JSON value (a record line), without a
// place: the caller names the file and line.
func Say(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		where := "the line"
		if te.Field != "" {
			where = fmt.Sprintf("field %q", te.Field)
		}
		if n, bound, ok := outOfRange(te); ok {
			return fmt.Sprintf("%s holds %s, a whole number past the %s it can be (%s)", where, n, bound.name, bound.value)
		}
		return fmt.Sprintf("%s holds a JSON %s where %s is wanted", where, te.Value, want(te.Type))
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("not valid JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	}
	// A time field's text that is no time: said in the format's name,
	// not by Go's layout string ('parsing time "x" as
	// "2006-01-02T15:04:05Z07:00": cannot parse …').
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("time %q is not an RFC 3339 time (such as %s)", pe.Value, rfc3339Example)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) { // a json.Decoder's word for it
		return "not valid JSON: it ends before the JSON is complete"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// At says what is wrong with the JSON document data and where: "line 3,
// column 9: …", or that it ends before the JSON does (a file cut short).
func At(data []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var off int64
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	default:
		return Say(err)
	}
	// encoding/json's offsets count the bytes read up to and including
	// the one in error: the place is the byte before.
	line, col := LineCol(data, max(off-1, 0))
	// Only running out of input is a file cut short: a wrong byte that
	// happens to be the last one (a stray "}" after a whole document) is
	// said as what it is, at its place.
	if se != nil && se.Error() == endOfInput {
		return fmt.Sprintf("it ends at line %d, column %d before the JSON is complete: the file was cut short (an interrupted write, download or copy?)", line, col)
	}
	msg := Say(err)
	if se != nil {
		msg = strings.TrimPrefix(se.Error(), "json: ")
		if strings.HasSuffix(msg, "after top-level value") {
			msg += ": the JSON document is complete before it, so this and what follows is extra (a second document, or a stray bracket)"
		}
	}
	return fmt.Sprintf("line %d, column %d: %s", line, col, msg)
}

// rfc3339Example is an RFC 3339 time as the record writers write one.
const rfc3339Example = "2026-12-05T21:40:00Z"

// EndsEarly reports whether err is JSON that ends before its value is
// complete (a line or file cut short), rather than a wrong byte in it.
func EndsEarly(err error) bool {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return se.Error() == endOfInput
	}
	return errors.Is(err, io.ErrUnexpectedEOF)
}

// NotJSONLine says that line, one line of JSON Lines (valid UTF-8), is
// not JSON, when err (from decoding line) says so: where it goes wrong,
// the character or its end before the JSON is complete, and want, what a
// line is ("not JSON: 'o' at byte 2 cannot be there; want one JSON object
// a line, such as {"text": "347+285=?"}"), not encoding/json's grammar
// ("invalid character 'o' in literal null (expecting 'u')"). The caller
// names the file and line. "" when err is not a syntax error.
func NotJSONLine(line []byte, err error, want string) string {
	var se *json.SyntaxError
	switch {
	case !errors.As(err, &se):
		return ""
	case EndsEarly(err):
		return "not JSON: it ends before its JSON is complete; want one JSON object a line, such as " + want
	}
	at := max(se.Offset-1, 0) // encoding/json counts the wrong byte in
	r, _ := utf8.DecodeRune(line[min(at, int64(len(line))):])
	return fmt.Sprintf("not JSON: %q at byte %d cannot be there; want one JSON object a line, such as %s", r, at+1, want)
}

// endOfInput is encoding/json's SyntaxError text for data that ends
// before its value does.
const endOfInput = "unexpected end of JSON input"

// LineCol turns a byte offset into data into a 1-based line and column.
func LineCol(data []byte, off int64) (line, col int) {
	off = max(0, min(off, int64(len(data))))
	before := data[:off]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// rangeBound is the bound of an integer type a number is past: its name
// ("largest", "smallest") and value.
type rangeBound struct{ name, value string }

// outOfRange reports whether te is a whole number that its integer field
// cannot hold (an id past int32's 2147483647: encoding/json says "number
// 99999999999" as if it were no whole number), with the number and the
// bound it is past.
func outOfRange(te *json.UnmarshalTypeError) (string, rangeBound, bool) {
	n, ok := strings.CutPrefix(te.Value, "number ")
	t := te.Type
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if !ok || t == nil || strings.ContainsAny(n, ".eE") {
		return "", rangeBound{}, false
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		bits := uint(t.Bits())
		if strings.HasPrefix(n, "-") {
			return n, rangeBound{"smallest", strconv.FormatInt(-1<<(bits-1), 10)}, true
		}
		return n, rangeBound{"largest", strconv.FormatInt(1<<(bits-1)-1, 10)}, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if strings.HasPrefix(n, "-") {
			return n, rangeBound{"smallest", "0"}, true
		}
		return n, rangeBound{"largest", strconv.FormatUint(1<<t.Bits()-1, 10)}, true
	}
	return "", rangeBound{}, false
}

// want names what a Go type reads from JSON.
func want(t reflect.Type) string {
	if t == nil {
		return "another kind of value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeOf(time.Time{}) {
		return "a time (RFC 3339 text)"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "text"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "another kind of value"
}

// CaseMiss is a key of a JSON object that is no field's name but differs
// from one in case alone ("Prompt" for "prompt"). encoding/json's
// Unmarshal takes such a key as that field, where readers that match keys
// exactly (Python's dicts and pydantic models: vLLM, SGLang, Hugging
// Face) pass it over or refuse it: a reader that is to read a document as
// they do finds these keys first (FindCaseMiss) and says so.
type CaseMiss struct {
	Key   string // as written
	Field string // the field's name it misses
}

func (e *CaseMiss) Error() string {
	return fmt.Sprintf("%q is not a field: the field is %q (field names are case-sensitive)", e.Key, e.Field)
}

// FindCaseMiss is the first key of the JSON object data, in its order,
// that is not one of names but is one of them when case is ignored, as
// encoding/json ignores it (FoldedName); nil when there is none, or when
// data is not a valid JSON object (its decoding says what is wrong).
func FindCaseMiss(data []byte, names []string) *CaseMiss {
	if !json.Valid(data) {
		return nil
	}
	return FindCaseMissValid(data, names)
}

// FindCaseMissValid is FindCaseMiss of data known to be valid JSON (it
// has decoded), without the pass that validates it: a reader checks the
// object it has just decoded so, at the cost of one quick pass that
// allocates nothing but the miss it finds. Invalid data gives a miss or
// none of no meaning, but never a panic.
func FindCaseMissValid(data []byte, names []string) *CaseMiss {
	for s := newMemberScan(data); ; {
		key, _, ok := s.next()
		if !ok {
			return nil
		}
		if len(key) >= 2 && bytes.IndexByte(key, '\\') < 0 && utf8.Valid(key) {
			// The key's text is its bytes: looked at in place (a
			// conversion that does not outlive the call is not copied
			// to the heap).
			if field, ok := FoldedName(string(key[1:len(key)-1]), names); ok {
				return &CaseMiss{Key: string(key[1 : len(key)-1]), Field: field}
			}
		} else if field, ok := FoldedName(unquote(key), names); ok {
			return &CaseMiss{Key: unquote(key), Field: field}
		}
	}
}

// CaseMissIn is the first of members whose key is not one of names but is
// one of them when case is ignored (FoldedName); nil when there is none.
// A reader that has decoded an object, and so knows it valid, lists its
// members (Members) and checks them so, at the cost of one quick pass.
func CaseMissIn(members []Member, names []string) *CaseMiss {
	for _, m := range members {
		if field, ok := FoldedName(m.Key, names); ok {
			return &CaseMiss{Key: m.Key, Field: field}
		}
	}
	return nil
}

// Member is one member of a JSON object: its key, unescaped, and its value
// as written (a slice of the object's bytes).
type Member struct {
	Key   string
	Value []byte
}

// Members lists the members of the JSON object data, in their order,
// passing over each value without decoding it: one quick pass over the
// bytes that allocates only the list and the keys, so that checking the
// keys of an object just decoded (an 11 MB tokenizer.json's) costs little
// beside its decoding. data must be valid JSON (it has decoded); nil when
// it is not an object. Invalid data gives a list of no meaning but never a
// panic.
func Members(data []byte) []Member {
	var ms []Member
	for s := newMemberScan(data); ; {
		key, value, ok := s.next()
		if !ok {
			return ms
		}
		ms = append(ms, Member{Key: unquote(key), Value: value})
	}
}

// MembersInto is Members of the object data and Members of the value of
// its member key (the first so named) when that is an object, in one pass:
// the walk over data goes through that value's members instead of passing
// over it and walking it again, so that the keys of a document and of its
// one large member (a tokenizer.json's model) cost one quick pass, not two.
// data must be valid JSON, as for Members.
func MembersInto(data []byte, key string) (members, within []Member) {
	entered := false
	for s := newMemberScan(data); ; {
		k, at, ok := s.nextKey()
		if !ok {
			return members, within
		}
		name := unquote(k)
		if name == key && !entered && at < len(data) && data[at] == '{' {
			in := memberScan{data: data, i: at + 1}
			for {
				ik, iv, ok := in.next()
				if !ok {
					break
				}
				within = append(within, Member{Key: unquote(ik), Value: iv})
			}
			s.i = in.i // just past the value's '}'
		} else {
			s.i = skipValue(data, at)
		}
		entered = entered || name == key
		members = append(members, Member{Key: name, Value: data[at:s.i]})
	}
}

// memberScan walks the members of a JSON object known valid.
type memberScan struct {
	data []byte
	i    int // where the next member, a comma or the object's end is
}

// newMemberScan starts a walk over the object data; one over data that is
// no object has no members.
func newMemberScan(data []byte) memberScan {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return memberScan{data: data, i: len(data)}
	}
	return memberScan{data: data, i: i + 1}
}

// next is the next member's key, quoted as written, and value; ok is
// false at the object's end. Each call moves on, so a walk over invalid
// data ends too.
func (s *memberScan) next() (key, value []byte, ok bool) {
	key, at, ok := s.nextKey()
	if !ok {
		return nil, nil, false
	}
	s.i = skipValue(s.data, at)
	return key, s.data[at:s.i], true
}

// nextKey is the next member's key, quoted as written, and where its value
// starts: the caller moves s.i past the value. ok is false at the object's
// end, with s.i just past its '}' (or at the end of invalid data).
func (s *memberScan) nextKey() (key []byte, at int, ok bool) {
	data, i := s.data, skipSpace(s.data, s.i)
	if i < len(data) && data[i] == ',' {
		i = skipSpace(data, i+1)
	}
	if i >= len(data) || data[i] != '"' {
		s.i = len(data)
		if i < len(data) && data[i] == '}' {
			s.i = i + 1
		}
		return nil, 0, false
	}
	end := skipString(data, i)
	key = data[i:end]
	i = skipSpace(data, end)
	if i < len(data) && data[i] == ':' {
		i = skipSpace(data, i+1)
	}
	return key, i, true
}

// Elements lists the values of the JSON array data, in their order, as
// written (slices of its bytes), passing over each without decoding it.
// data must be valid JSON; nil when it is not an array.
func Elements(data []byte) [][]byte {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return nil
	}
	var es [][]byte
	for i++; ; {
		i = skipSpace(data, i)
		if i < len(data) && data[i] == ',' {
			i = skipSpace(data, i+1)
		}
		if i >= len(data) || data[i] == ']' {
			return es
		}
		end := skipValue(data, i)
		if end == i { // invalid data: no value here
			return es
		}
		es = append(es, data[i:end])
		i = end
	}
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\n' || data[i] == '\t' || data[i] == '\r') {
		i++
	}
	return i
}

// skipString is the offset just past the string that opens at data[i]: a
// quote ends it unless an odd number of backslashes comes before it.
func skipString(data []byte, i int) int {
	first := i + 1
	for i = first; i < len(data); i++ {
		j := bytes.IndexByte(data[i:], '"')
		if j < 0 {
			break
		}
		i += j
		k := i
		for k > first && data[k-1] == '\\' {
			k--
		}
		if (i-k)%2 == 0 {
			return i + 1
		}
	}
	return len(data)
}

// opensOrCloses marks the bytes a pass over an array or object stops at:
// all others, most of its bytes, are passed over by one lookup each.
var opensOrCloses = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

// skipValue is the offset just past the value that starts at data[i].
func skipValue(data []byte, i int) int {
	if i >= len(data) {
		return i
	}
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for i < len(data) {
			c := data[i]
			if !opensOrCloses[c] {
				i++
				continue
			}
			switch c {
			case '"':
				i = skipString(data, i)
				continue
			case '{', '[':
				depth++
			default:
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	// A number, true, false or null: up to what may follow a value.
	for i < len(data) {
		switch data[i] {
		case ',', '}', ']', ' ', '\n', '\t', '\r':
			return i
		}
		i++
	}
	return i
}

// unquote is the text of the JSON string s (quotes included), its
// escapes ("\u006d") and any invalid UTF-8 read as encoding/json reads
// them.
func unquote(s []byte) string {
	if len(s) >= 2 && bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s) {
		return string(s[1 : len(s)-1])
	}
	var key string
	if json.Unmarshal(s, &key) != nil {
		return string(s)
	}
	return key
}

// FoldedName is the name among names that key equals when case is ignored
// (strings.EqualFold: Unicode simple folding, encoding/json's own
// matching), and whether there is one; none when key is itself one of
// names.
func FoldedName(key string, names []string) (string, bool) {
	for _, n := range names {
		if n == key {
			return "", false
		}
	}
	for _, n := range names {
		if strings.EqualFold(n, key) {
			return n, true
		}
	}
	return "", false
}

// FieldNames are the JSON names of the fields of struct type t, as
// encoding/json names them: a field's json tag's name, else its Go name;
// none for a field tagged "-" or unexported. An embedded struct's fields
// are not looked into.
func FieldNames(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var names []string
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
	}
	return names
}
