package hf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rlt-workbench/rlt/engine/jsonerr"
)

// NumberOrList is the items of raw, the value of a key that holds a token
// id or a list of them (eos_token_id, bos_token_id: transformers takes
// either): a JSON list's items, each a slice of raw (its place in the
// file), with list true; else raw alone, for WholeNumber to read or
// refuse. config.json's reader and engine/serve's of generation_config.json
// take it, so a value is one id or a list in both alike. ItemKey names an
// item of a list for WholeNumber's key.
func NumberOrList(raw json.RawMessage) (items []json.RawMessage, list bool) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '[' || json.Unmarshal(trimmed, new([]json.RawMessage)) != nil {
		return []json.RawMessage{raw}, false
	}
	for _, e := range jsonerr.Elements(trimmed) {
		items = append(items, e)
	}
	return items, true
}

// ItemKey is what item i (0-based) of the list raw, key's value, follows
// in WholeNumber's words: "eos_token_id [3, "x"]: its item 2,". In a list
// of many ids, which one is wrong was left to the reader to find.
func ItemKey(key string, raw json.RawMessage, i int) string {
	return fmt.Sprintf("%s %s: its item %d,", key, bytes.TrimSpace(raw), i+1)
}

// WholeNumber is the JSON value raw, the value of key in file, as a whole
// number, read as Python's json module and == read one against an int
// (transformers' and vLLM's reading): digits, exactly, or a number with a
// zero fraction or an exponent (896.0, 1e3), the float Python holds (past
// 2^53 that is the nearest float: 9007199254740993.0 is
// 9007199254740992, where the digits 9007199254740993 are themselves).
// It is the one reader of whole numbers in a model folder's JSON files
// (config.json here, generation_config.json in engine/serve), so one value
// is said in one wording whichever file holds it: an error names the
// file, the key and the value, says why it is no whole number (a quoted
// number, another JSON value, a fraction, one past 2^63), and ends with
// fix, what to write instead; file "" leaves the file to the caller's
// words around the error (LoadConfig's "load config PATH: "). key is what
// the value follows, a key or a list's item ("eos_token_id [3, "x"]: its
// item 2,"). A whole number out of the key's own range (a negative id) is
// the caller's to refuse.
func WholeNumber(file, key string, raw json.RawMessage, fix string) (int64, error) {
	raw = bytes.TrimSpace(raw)
	why := ""
	switch {
	case len(raw) == 0:
		why = "is nothing, not a whole number"
	case raw[0] == '"':
		why = "is a string, not a whole number"
		var s string
		if json.Unmarshal(raw, &s) == nil {
			if _, err := strconv.ParseFloat(s, 64); err == nil {
				why = "is a string, not a whole number (write it without the quotes)"
			}
		}
	case raw[0] != '-' && (raw[0] < '0' || raw[0] > '9'):
		why = "is not a number" // null
		if kind, _ := jsonValue(raw); kind != "a number" {
			why = fmt.Sprintf("is %s, not a whole number", kind)
		}
	}
	if why == "" {
		var num json.Number
		if json.Unmarshal(raw, &num) != nil {
			why = "is not a JSON number"
		} else if v, err := strconv.ParseInt(string(num), 10, 64); err == nil {
			return v, nil
		} else {
			f, err := strconv.ParseFloat(string(num), 64)
			switch {
			case math.IsInf(f, 0) || math.Abs(f) >= 1<<63:
				// ParseFloat gives ±Inf for 1e400, with an error.
				why = "is past any whole number read here (2^63)"
			case err != nil || f != math.Trunc(f):
				why = "is not a whole number"
			default:
				return int64(f), nil
			}
		}
	}
	shown := shortJSON(string(raw))
	if file != "" {
		file += ": "
	}
	if strings.HasSuffix(key, ",") { // a list's item: "its item 2, "x", is …"
		shown += ","
	}
	return 0, fmt.Errorf("%s%s %s %s: %s", file, key, shown, why, fix)
}

// shortJSON is the JSON text s as an error shows it: its first 40 bytes,
// cut at a character's start (a cut inside one, a quoted "é…", wrote a
// byte that is no UTF-8 into the error), "…" marking the cut.
func shortJSON(s string) string {
	if len(s) <= 40 {
		return s
	}
	cut := 40
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
