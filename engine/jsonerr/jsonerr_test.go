package jsonerr

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestAt: a document's problem is placed by line and column, a document
// that ends early is called cut short, and a wrong type is said in JSON's
// words, never Go's.
func TestAt(t *testing.T) {
	type doc struct {
		Model struct {
			Vocab map[string]int `json:"vocab"`
		} `json:"model"`
	}
	for _, c := range []struct{ data, want string }{
		{"{\n  \"model\": {\n    \"vocab\": {\"a\": 1,}\n  }\n}\n", "line 3, column 22: invalid character '}' looking for beginning of object key string"},
		{"{\n  \"model\": {\n    \"vocab\": {\"a\": 1", "it ends at line 3, column 20 before the JSON is complete: the file was cut short"},
		{"{\"model\": {\"vocab\": {\"a\": \"one\"}}}\n", `line 1, column 31: field "model.vocab" holds a JSON string where a whole number is wanted`},
		{"", "it ends at line 1, column 1 before the JSON is complete"},
		// A wrong last byte is not a file cut short: a stray bracket after
		// a whole document, or a bad value at the very end.
		{"{\"model\": {}}}", "line 1, column 14: invalid character '}' after top-level value: the JSON document is complete before it"},
		{"{\"model\": {}}\n}\n", "line 2, column 1: invalid character '}' after top-level value"},
		{"{\"model\": x", "line 1, column 11: invalid character 'x' looking for beginning of value"},
	} {
		var d doc
		err := json.Unmarshal([]byte(c.data), &d)
		if err == nil {
			t.Fatalf("%q decoded", c.data)
		}
		got := At([]byte(c.data), err)
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%q: %q\nwant it to start %q", c.data, got, c.want)
		}
		if strings.Contains(got, "Go struct") || strings.Contains(got, "of type") {
			t.Errorf("%q: %q names a Go type", c.data, got)
		}
	}
}

func TestLineCol(t *testing.T) {
	data := []byte("ab\ncd\n\nef")
	for _, c := range []struct {
		off       int64
		line, col int
	}{{0, 1, 1}, {2, 1, 3}, {3, 2, 1}, {6, 3, 1}, {7, 4, 1}, {9, 4, 3}, {99, 4, 3}, {-4, 1, 1}} {
		if l, col := LineCol(data, c.off); l != c.line || col != c.col {
			t.Errorf("offset %d: line %d column %d, want %d and %d", c.off, l, col, c.line, c.col)
		}
	}
}

// TestSayTime: a time field whose text is no time is said in the format's
// name, with the text, not by Go's layout string ('parsing time "x" as
// "2006-01-02T15:04:05Z07:00": cannot parse "x" as "2006"').
func TestSayTime(t *testing.T) {
	var rec struct {
		Time time.Time `json:"time"`
	}
	for _, c := range []struct{ line, want string }{
		{`{"time":"x"}`, `time "x" is not an RFC 3339 time (such as 2026-12-05T21:40:00Z)`},
		{`{"time":"2026-12-05 21:40:00"}`, `time "2026-12-05 21:40:00" is not an RFC 3339 time (such as 2026-12-05T21:40:00Z)`},
	} {
		err := json.Unmarshal([]byte(c.line), &rec)
		if err == nil {
			t.Fatalf("%s decoded", c.line)
		}
		if got := Say(err); got != c.want {
			t.Errorf("%s: %q\nwant %q", c.line, got, c.want)
		}
	}
}

// TestFindCaseMiss: a key that names a field only when case is ignored,
// which encoding/json would take as that field, is found, the first in
// the document's order; an exact key, an unknown one, or a document that
// is no object is none.
func TestFindCaseMiss(t *testing.T) {
	type request struct {
		Prompt    string `json:"prompt"`
		MaxTokens int    `json:"max_tokens,omitempty"`
		Echo      bool
		Hidden    int `json:"-"`
		unread    int
	}
	names := append(FieldNames(reflect.TypeFor[*request]()), "top_p")
	if got, want := strings.Join(names, " "), "prompt max_tokens Echo top_p"; got != want {
		t.Fatalf("names %q, want %q", got, want)
	}
	for _, c := range []struct {
		data       string
		key, field string // "": none
	}{
		{`{"prompt":"a","max_tokens":1,"Echo":true,"top_p":1}`, "", ""},
		{`{"prompt":"a","other":{"Prompt":1},"PROMPT":2}`, "PROMPT", "prompt"},
		{`{"Max_Tokens":1,"Prompt":"a"}`, "Max_Tokens", "max_tokens"},
		{`{"echo":true}`, "echo", "Echo"},
		{`{"TOP_P":0.5}`, "TOP_P", "top_p"},
		{`{"ſtream":1,"pRompt":"a"}`, "pRompt", "prompt"}, // ſ folds to s, but stream is no field here
		{`{"prompt\u0073":1}`, "", ""},
		{`{"pro\u006dpt":1,"max_tok\u0045ns":2}`, "max_tokEns", "max_tokens"},
		{`{"a\u0022b":{"Prompt":1},"Echo":"\"Prompt\":"}`, "", ""},
		{`["Prompt"]`, "", ""},
		{`{"Prompt"`, "", ""},
		{``, "", ""},
	} {
		got := FindCaseMiss([]byte(c.data), names)
		switch {
		case c.key == "" && got != nil:
			t.Errorf("%s: %+v, want none", c.data, *got)
		case c.key != "" && (got == nil || got.Key != c.key || got.Field != c.field):
			t.Errorf("%s: %+v, want %q for %q", c.data, got, c.key, c.field)
		}
		// Of valid JSON, FindCaseMissValid (no validation) and the
		// members' check find the same.
		if json.Valid([]byte(c.data)) {
			for name, find := range map[string]func() *CaseMiss{
				"FindCaseMissValid": func() *CaseMiss { return FindCaseMissValid([]byte(c.data), names) },
				"CaseMissIn":        func() *CaseMiss { return CaseMissIn(Members([]byte(c.data)), names) },
			} {
				if other := find(); !reflect.DeepEqual(other, got) {
					t.Errorf("%s: %s finds %+v, FindCaseMiss %+v", c.data, name, other, got)
				}
			}
		}
	}
	if got := (&CaseMiss{Key: "Prompt", Field: "prompt"}).Error(); got != `"Prompt" is not a field: the field is "prompt" (field names are case-sensitive)` {
		t.Errorf("Error() = %q", got)
	}
	// The Kelvin sign and the long s fold as encoding/json folds them: a
	// key it would take as a field is found.
	var r struct {
		Kind int `json:"kind"`
	}
	if err := json.Unmarshal([]byte(`{"\u212aind":3}`), &r); err != nil || r.Kind != 3 {
		t.Fatalf("encoding/json no longer folds the Kelvin sign: %v %d", err, r.Kind)
	}
	if got := FindCaseMiss([]byte(`{"\u212aind":3}`), []string{"kind"}); got == nil || got.Field != "kind" {
		t.Errorf("the Kelvin sign's key: %+v, want a miss of kind", got)
	}
}

// TestSayOutOfRange: a whole number past what its field's integer type
// holds is said as such, with the bound, not as no whole number ("holds a
// JSON number 99999999999 where a whole number is wanted").
func TestSayOutOfRange(t *testing.T) {
	for _, c := range []struct {
		line string
		into any
		want string
	}{
		{`{"ids": [1, 99999999999]}`, &struct {
			IDs []int32 `json:"ids"`
		}{}, `field "ids" holds 99999999999, a whole number past the largest it can be (2147483647)`},
		{`{"ids": [-99999999999]}`, &struct {
			IDs []int32 `json:"ids"`
		}{}, `field "ids" holds -99999999999, a whole number past the smallest it can be (-2147483648)`},
		{`{"n": -1}`, &struct {
			N uint64 `json:"n"`
		}{}, `field "n" holds -1, a whole number past the smallest it can be (0)`},
		{`{"n": 18446744073709551616}`, &struct {
			N uint64 `json:"n"`
		}{}, `field "n" holds 18446744073709551616, a whole number past the largest it can be (18446744073709551615)`},
		{`{"n": 9223372036854775808}`, &struct {
			N int64 `json:"n"`
		}{}, `field "n" holds 9223372036854775808, a whole number past the largest it can be (9223372036854775807)`},
		// Not whole numbers: said as before.
		{`{"n": 1.5}`, &struct {
			N int `json:"n"`
		}{}, `field "n" holds a JSON number 1.5 where a whole number is wanted`},
		{`{"n": 1e30}`, &struct {
			N int `json:"n"`
		}{}, `field "n" holds a JSON number 1e30 where a whole number is wanted`},
	} {
		err := json.Unmarshal([]byte(c.line), c.into)
		if got := Say(err); got != c.want {
			t.Errorf("%s: %q, want %q", c.line, got, c.want)
		}
	}
}

// TestMembers: an object's members and an array's elements are listed as
// written, nested values, strings holding brackets, quotes and escapes
// passed over whole, keys unescaped; anything else is none.
func TestMembers(t *testing.T) {
	for _, c := range []struct {
		data string
		want []Member
	}{
		{` { "a" : 1 , "b":[1,{"c":"]}"}] ,"c\u0041\"":{"d":{}}, "e":"x\"y\\", "f":null,"g":-1.5e3}  `, []Member{
			{"a", []byte(`1`)}, {"b", []byte(`[1,{"c":"]}"}]`)}, {`cA"`, []byte(`{"d":{}}`)},
			{"e", []byte(`"x\"y\\"`)}, {"f", []byte(`null`)}, {"g", []byte(`-1.5e3`)},
		}},
		{`{}`, nil},
		{"{\n\t\"Model\":\r\n{\"vocab\":{\"}\":0}}}", []Member{{"Model", []byte(`{"vocab":{"}":0}}`)}}},
		{`[{"a":1}]`, nil},
		{`"a"`, nil},
		{``, nil},
	} {
		if got := Members([]byte(c.data)); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Members(%s) = %q, want %q", c.data, got, c.want)
		}
	}
	// MembersInto walks the one member's value instead of passing over it.
	for _, c := range []struct {
		data, key  string
		top, inner []string
	}{
		{`{"a":1,"m":{"x":{"y":[1,"}"]},"Z":2},"b":[{}]}`, "m", []string{"a", "m", "b"}, []string{"x", "Z"}},
		{`{"m":[1],"m":{"k":1}}`, "m", []string{"m", "m"}, nil},
		{`{"m":{},"m":{"k":1}}`, "m", []string{"m", "m"}, nil},
		{`{"a":{"m":{"k":1}}}`, "m", []string{"a"}, nil},
	} {
		top, inner := MembersInto([]byte(c.data), c.key)
		if want := Members([]byte(c.data)); !reflect.DeepEqual(top, want) {
			t.Errorf("MembersInto(%s) = %q, Members %q", c.data, top, want)
		}
		var keys []string
		for _, m := range inner {
			keys = append(keys, m.Key)
		}
		if !reflect.DeepEqual(keys, c.inner) {
			t.Errorf("MembersInto(%s, %q) within %q, want %q", c.data, c.key, keys, c.inner)
		}
	}
	for _, c := range []struct {
		data string
		want [][]byte
	}{
		{` [ 1 , "a,]" ,{"b":[2,3]}, [], true ] `, [][]byte{[]byte(`1`), []byte(`"a,]"`), []byte(`{"b":[2,3]}`), []byte(`[]`), []byte(`true`)}},
		{`[]`, nil},
		{`{"a":[1]}`, nil},
	} {
		if got := Elements([]byte(c.data)); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Elements(%s) = %q, want %q", c.data, got, c.want)
		}
	}
}

// FuzzMembers: on valid JSON, Members and Elements list what
// encoding/json's decoder reads, key for key and value for value; on any
// data they return.
func FuzzMembers(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":[1,"]",{"c":null}],"\u00e9\"":"x\\"}`, `[1,{"a":"}"},[[]],"s"]`, `{"a" "b"}`, `{"a":`, `[,]`, `{,"a":1}`, `"\`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ms, es := Members(data), Elements(data)
		names := []string{"a", "Model", "max_tokens", "kind"}
		miss := FindCaseMissValid(data, names)
		if !json.Valid(data) {
			return
		}
		if want := CaseMissIn(ms, names); !reflect.DeepEqual(miss, want) {
			t.Fatalf("FindCaseMissValid(%s) = %+v, the members' check %+v", data, miss, want)
		}
		// MembersInto: the same members, and the first object-valued
		// member's own.
		for _, m := range ms {
			top, within := MembersInto(data, m.Key)
			if !reflect.DeepEqual(top, ms) {
				t.Fatalf("MembersInto(%s, %q) = %q, Members %q", data, m.Key, top, ms)
			}
			var want []Member
			for _, o := range ms {
				if o.Key == m.Key && o.Value[0] == '{' {
					want = Members(o.Value)
					break
				} else if o.Key == m.Key {
					break
				}
			}
			if !reflect.DeepEqual(within, want) {
				t.Fatalf("MembersInto(%s, %q) within %q, want %q", data, m.Key, within, want)
			}
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) == nil && obj != nil {
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.Token()
			var want []Member
			for dec.More() {
				k, _ := dec.Token()
				var v json.RawMessage
				dec.Decode(&v)
				want = append(want, Member{Key: k.(string), Value: v})
			}
			if !reflect.DeepEqual(ms, want) {
				t.Fatalf("Members(%s) = %q, want %q", data, ms, want)
			}
		} else if ms != nil {
			t.Fatalf("Members(%s) = %q of no object", data, ms)
		}
		var arr []json.RawMessage
		if json.Unmarshal(data, &arr) == nil && arr != nil {
			var want [][]byte
			for _, e := range arr {
				want = append(want, []byte(e))
			}
			if !reflect.DeepEqual(es, want) {
				t.Fatalf("Elements(%s) = %q, want %q", data, es, want)
			}
		} else if es != nil {
			t.Fatalf("Elements(%s) = %q of no array", data, es)
		}
	})
}
