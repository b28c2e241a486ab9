package sessions

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"

	"github.com/rlt-workbench/rlt/engine/configkey"
)

// ConfigError is one problem in a TOML configuration file, located by line
// and column (1-based). Its message reads like
//
//	config.toml:7:1: unknown key "lamda" in [reward] (known: lambda, alpha)
type ConfigError struct {
	File   string
	Line   int
	Column int
	Key    string   // dotted key path, e.g. "reward.lamda"; empty for syntax errors
	Msg    string   // what is wrong, without the location
	Known  []string // for unknown keys: the keys allowed in that table
	Err    error    // the underlying go-toml error, or the validation problem
	// KeyAbsent: the file does not set Key (a validation problem with a
	// default's or a flag's value), so Line is its table's header, or 1,
	// not the key's own.
	KeyAbsent bool
	// Overridden: the value at Key is not the file's but one a caller put
	// over it (a command's flag; ExplainValidations' overridden keys), so
	// the problem is that value's and no line of the file is at fault,
	// whether or not the file sets the key too.
	Overridden bool

	kind decodeProblem // what DecodeStrict found; 0 for a validation problem
	// stopped: DecodeStrict went no further than this problem, so the
	// keys after it were not decoded.
	stopped bool
}

// decodeProblem is the kind of problem DecodeStrict found.
type decodeProblem int

const (
	notDecoding   decodeProblem = iota // a validation problem, or a file that could not be read
	syntaxProblem                      // the parser stopped here
	unknownKey                         // a key the configuration has no field for
	// mistypedValue is a value its key's type cannot hold: of the wrong
	// type, or a number out of its range (steps = 99999999999999999999).
	mistypedValue
	// duplicateKey is a key set a second time in its table: the first
	// value is decoded, the second's key = value left out.
	duplicateKey
)

// Error is the problem at its place: FILE:LINE:COL: where the file's text
// there is at fault (AtItsLine), else FILE: alone (a key the file does not
// set, a problem about no key), so that no line is named that the fix is
// not on. With no file (a configuration of defaults and flags alone) it
// is the problem's words alone.
func (e *ConfigError) Error() string {
	if e.File == "" {
		return e.Msg
	}
	if !e.AtItsLine() {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

// AtItsLine reports whether Line is where the file's text is at fault: not
// so for a key the file does not set (Line is only where adding it would
// go, its table's header) or for a problem with no line at all (Line 0).
func (e *ConfigError) AtItsLine() bool { return e.Line > 0 && !e.KeyAbsent && !e.Overridden }

func (e *ConfigError) Unwrap() error { return e.Err }

// DecodeStrict decodes the TOML document data (read from path, which is used
// only in messages) into v, a pointer to a struct. Keys that v has no field
// for, values of the wrong type (integers out of their key's range among
// them) and syntax errors are errors naming the file, line, column and
// key; unknown keys also list the keys allowed in their table. Every problem is one *ConfigError, joined (errors.Join) in the
// file's line order (errors.As finds the first).
//
// A syntax error stops a TOML parser, and a value of the wrong type go-toml's
// decoder; so that one pass shows them all, DecodeStrict then leaves out the
// line at fault (a mistyped value's whole key = value, however many lines it
// spans) and decodes again, up to maxConfigErrors errors (not past a broken
// [table] header, whose keys would be misplaced, nor a mistyped value no
// key = value of its own holds). When every problem is an unknown key or a mistyped value
// (OnlyKeyProblems), v holds every other key of the file, decoded: the
// caller can validate it and say its problems with these. A file that is
// JSON or not text is said to be so, in one problem (notTOML).
func DecodeStrict(path string, data []byte, v any) error {
	return decodeStrict(path, data, v, "train")
}

// decodeStrict is DecodeStrict, a file that is no TOML at all told to
// start from cmd's --print-config ("train", "run": notTOML).
func decodeStrict(path string, data []byte, v any, cmd string) error {
	if err := notTOML(path, data, cmd); err != nil {
		return err
	}
	err := decodeStrictOnce(path, data, v)
	var errs []error
	var last *ConfigError // the first problem of the last pass
	for err != nil {
		errs = append(errs, err)
		last = nil
		if !errors.As(err, &last) || last.kind == unknownKey || len(errs) == maxConfigErrors {
			break // unknown keys: the pass decoded the whole file
		}
		left := false
		switch last.kind {
		case syntaxProblem:
			data, left = withoutLine(data, last.Line)
		case mistypedValue, duplicateKey:
			data, left = withoutKeyValue(data, last.Line, last.Key)
			// A key inside an inline table (innerKey) is no expression
			// of its own: the table's whole expression is left out.
			for k := last.Key; !left && strings.Contains(k, "."); {
				k = k[:strings.LastIndex(k, ".")]
				data, left = withoutKeyValue(data, last.Line, k)
			}
		}
		if !left {
			break
		}
		err = decodeStrictOnce(path, data, v)
	}
	if err != nil && last != nil && last.kind != unknownKey {
		last.stopped = true // the keys after it are not decoded
	}
	var problems []error
	for _, e := range errs {
		problems = append(problems, configkey.Problems(e)...)
	}
	slices.SortStableFunc(problems, func(a, b error) int { return problemLine(a) - problemLine(b) })
	return errors.Join(problems...)
}

// problemLine is the line a DecodeStrict problem is on; 0 for one that is
// not a *ConfigError.
func problemLine(err error) int {
	if ce, ok := err.(*ConfigError); ok {
		return ce.Line
	}
	return 0
}

// OnlyKeyProblems reports whether err, DecodeStrict's, holds problems and
// each is an unknown key, a mistyped value or a key set twice (its first
// value decoded): what DecodeStrict decoded
// then holds every other key of the file, so that a caller validates it
// and says what Validate finds with these problems, all at once
// (ExplainValidations puts them together in line order). A syntax error,
// a mistyped value DecodeStrict could not go on past, or a file that could
// not be read, leaves no such configuration.
func OnlyKeyProblems(err error) bool {
	problems := configkey.Problems(err)
	for _, e := range problems {
		ce, ok := e.(*ConfigError)
		if !ok || ce.stopped || (ce.kind != unknownKey && ce.kind != mistypedValue && ce.kind != duplicateKey) {
			return false
		}
	}
	return len(problems) > 0
}

// withoutLine is data with its line (1-based) blanked, and whether there
// was such a line to leave out: a blank one is not (an array left open at
// the end would be said there again and again), nor a [table] header,
// whose keys would then be read into the table above it.
func withoutLine(data []byte, line int) ([]byte, bool) {
	lines := bytes.Split(data, []byte("\n"))
	if line < 1 || line > len(lines) {
		return data, false
	}
	if text := bytes.TrimSpace(lines[line-1]); len(text) == 0 || text[0] == '[' {
		return data, false
	}
	lines[line-1] = nil
	return bytes.Join(lines, []byte("\n")), true
}

// parserErrorLine is the line (1-based) of data where the parser that
// read it stopped with err: its highlight is a piece of data.
func parserErrorLine(data []byte, err error) (int, bool) {
	var pe *unstable.ParserError
	if !errors.As(err, &pe) {
		return 0, false
	}
	offset := cap(data) - cap(pe.Highlight)
	if offset < 0 || offset > len(data) {
		return 0, false
	}
	return 1 + bytes.Count(data[:offset], []byte("\n")), true
}

// withoutKeyValue is data with the key = value expression that sets the
// dotted key path key, on or before line (where the decoder found its
// value), blanked: the lines from the key's to the one before the next
// expression (a multi-line array's included), so that the lines keep their
// numbers; a syntax error after it stays. False, and data as it is, where
// no such expression is written on its own (a key inside an inline table:
// blanking it would leave the table's commas wrong).
func withoutKeyValue(data []byte, line int, key string) (out []byte, found bool) {
	defer func() {
		// The parser is third-party; a user's file must never crash us.
		if recover() != nil {
			out, found = data, false
		}
	}()
	var p unstable.Parser
	p.Reset(data)
	var table []string
	first, last := 0, 0 // the lines of the expression to blank
	open := false       // first is set and the expression after it not yet read
	for p.NextExpression() {
		e := p.Expression()
		parts, at := keyParts(&p, e.Key())
		if open {
			last, open = at-1, false
		}
		if at > line {
			break // no later expression holds the value
		}
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = parts
		case unstable.KeyValue:
			if strings.Join(append(slices.Clone(table), parts...), ".") == key {
				first, open = at, true
			}
		}
	}
	if first == 0 {
		return data, false
	}
	lines := bytes.Split(data, []byte("\n"))
	if open { // the document's last expression, or the last before a syntax error
		last = len(lines)
		if err := p.Error(); err != nil {
			at, ok := parserErrorLine(data, err)
			if !ok {
				return data, false
			}
			last = at - 1
		}
	}
	if last < line {
		return data, false // the value the decoder found is not this expression's
	}
	for i := first - 1; i < last && i < len(lines); i++ {
		lines[i] = nil
	}
	return bytes.Join(lines, []byte("\n")), true
}

// maxConfigErrors caps the errors one DecodeStrict reports.
const maxConfigErrors = 20

// syntaxHints follow go-toml's messages for values that are not TOML,
// saying what TOML wants instead.
var syntaxHints = []struct{ has, hint string }{
	{"U+000A at start of value", `: the key has no value: write one after =, or delete the line`},
	{"U+000D at start of value", `: the key has no value: write one after =, or delete the line`},
	{"U+0023 '#' at start of value", `: the key has no value before the comment: write one after =, or delete the line`},
	{"expected value, not end of input", `: the key has no value: write one after =, or delete the line`},
	{"at start of value", `: text needs "quotes"; true and false are lower-case`},
	{"expected keyword", `: true and false are lower-case; text needs "quotes"`},
	{"expected '=' after key", `: write key = value`},
}

func decodeStrictOnce(path string, data []byte, v any) (err error) {
	defer func() {
		// The parser is third-party; a user's file must never crash us.
		if r := recover(); r != nil {
			err = &ConfigError{File: path, Line: 1, Column: 1, Msg: fmt.Sprintf("cannot parse: %v", r), Err: fmt.Errorf("toml: panic: %v", r)}
		}
	}()
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	derr := dec.Decode(v)
	if derr == nil {
		return nil
	}
	rt := reflect.TypeOf(v)
	var strict *toml.StrictMissingError
	if errors.As(derr, &strict) {
		errs := make([]error, 0, len(strict.Errors))
		for i := range strict.Errors {
			errs = append(errs, unknownKeyError(path, &strict.Errors[i], rt))
		}
		return errors.Join(errs...)
	}
	var de *toml.DecodeError
	if errors.As(derr, &de) {
		line, col := de.Position()
		key := innerKey(data, de.Key(), line, col)
		ce := &ConfigError{File: path, Line: line, Column: col, Key: strings.Join(key, "."), Err: derr}
		if at, ok := notATime(data, rt, key, unstable.String); ok {
			ce.Msg = notATimeWords(ce.Key, data, at)
			ce.kind = mistypedValue
		} else if m := typeMismatch.FindStringSubmatch(derr.Error()); m != nil && len(key) > 0 {
			want := "a value of another type"
			if ft, ok := fieldTypeAt(rt, key); ok {
				want = tomlKindName(ft)
			}
			ce.Msg = wrongTypeWords(ce.Key, m[1]+m[2], want, typeExample(data, line, v, key, want))
			ce.kind = mistypedValue
		} else if outOfRange.MatchString(strings.TrimPrefix(derr.Error(), "toml: ")) && len(key) > 0 {
			ce.Msg = outOfRangeWords(ce.Key, numberAt(data, line, col), rt, key)
			ce.kind = mistypedValue
		} else if dup, ok := duplicateAt(data, line, derr); ok {
			ce.Key, ce.Msg, ce.kind = dup.key, dup.words(), dup.kind
		} else {
			msg := strings.TrimPrefix(derr.Error(), "toml: ")
			for _, h := range syntaxHints {
				if strings.Contains(msg, h.has) {
					msg += h.hint
					break
				}
			}
			if ce.Key != "" {
				msg = fmt.Sprintf("key %q: %s", ce.Key, msg)
			}
			ce.Msg = msg
			ce.kind = syntaxProblem
		}
		return ce
	}
	if ce := bareTimeError(path, data, rt, derr); ce != nil {
		return ce
	}
	return fmt.Errorf("%s: %w", path, derr)
}

// duplicate is a key, or a [table] header, written a second time, or a
// name given a value and opened as a table, in either order: go-toml said
// "key lr is already defined" (the key as written in its table, not its
// dotted path, and "key" twice once prefixed), "table grpo already
// exists" and "key grpo should be a table, not a value", none saying
// where the first one is nor what to do.
type duplicate struct {
	key   string // the dotted path of the key, or of the table
	first int    // the line that sets it, or opens the table, first
	table bool   // written a second time as a [header]
	// dotted: the table was made by a dotted key (reward.kl_max = …)
	// before its [header], which TOML refuses as a second opening.
	dotted bool
	// valueFirst: key was set as a value on line first and is a table
	// here (a [header] or a dotted key passes through it); tableFirst:
	// line first made it a table and it is set as a value here.
	valueFirst, tableFirst bool
	value                  string        // the leading part of key set as a value on line first (valueFirst)
	kind                   decodeProblem // duplicateKey; syntaxProblem for a header, which stops the decoding
}

var (
	keyDefined   = regexp.MustCompile(`^toml: key (\S+) is already defined$`)
	tableDefined = regexp.MustCompile(`^toml: table (\S+) already exists( as defined by a dotted key)?$`)
	// valueAndTable: go-toml's other words for a name that is both a value
	// and a table, or a table and an array of tables.
	valueAndTable = regexp.MustCompile(`^toml: (key \S+ should be a table, not an? \S+|key \S+ already exists as an? \S+(, but should be an array table)?|table \S+ already exists as an array of tables)$`)
)

// duplicateAt reads the duplicate the decoder stopped at on line of data
// (derr, its error): the dotted path of the key or table written there
// and the line of its first. False for any other error, or where the
// line holds no such key (a key inside an inline table keeps the
// decoder's words).
func duplicateAt(data []byte, line int, derr error) (d duplicate, ok bool) {
	msg := derr.Error()
	isKey := keyDefined.MatchString(msg)
	m := tableDefined.FindStringSubmatch(msg)
	clash := valueAndTable.MatchString(msg)
	if !isKey && m == nil && !clash {
		return d, false
	}
	defer func() {
		// The parser is third-party; a user's file must never crash us.
		if recover() != nil {
			d, ok = duplicate{}, false
		}
	}()
	keys := scanTOMLKeys(data)
	// valueBefore is the first of path's leading parts (from its first
	// part to all of it) that a line before line set as a value.
	valueBefore := func(path []string) (duplicate, bool) {
		for i := 1; i <= len(path); i++ {
			name := strings.Join(path[:i], ".")
			if at, seen := keys.set[name]; seen && at.line < line {
				return duplicate{key: strings.Join(path, "."), first: at.line, valueFirst: true, value: name}, true
			}
		}
		return duplicate{}, false
	}
	var p unstable.Parser
	p.Reset(data)
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		parts, at := keyParts(&p, e.Key())
		if at > line {
			break
		}
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = parts
			if at != line || isKey {
				continue
			}
			if d, ok := valueBefore(parts); ok {
				d.table, d.kind = true, syntaxProblem
				return d, true
			}
			path := strings.Join(parts, ".")
			first, seen := keys.tables[path]
			return duplicate{key: path, first: first, table: true, dotted: m != nil && m[2] != "", kind: syntaxProblem}, seen && first < line
		case unstable.KeyValue:
			if at != line || m != nil {
				continue
			}
			full := append(slices.Clone(table), parts...)
			path := strings.Join(full, ".")
			if d, ok := valueBefore(full[:len(full)-1]); ok {
				d.key = path // the key = value left out is this line's
				d.kind = duplicateKey
				return d, true
			}
			if first, seen := keys.set[path]; seen && first.line < line {
				return duplicate{key: path, first: first.line, kind: duplicateKey}, true
			}
			if first, seen := keys.tables[path]; seen && first < line {
				return duplicate{key: path, first: first, tableFirst: true, kind: duplicateKey}, true
			}
			return d, false
		}
	}
	return d, false
}

// words say the duplicate: which key, where the first is, what to write.
func (d duplicate) words() string {
	const both = "a key is a value or a table, not both: delete one of the two"
	switch {
	case d.valueFirst && d.table:
		return fmt.Sprintf("[%s] opens %q as a table, which line %d set as a value: %s", d.key, d.value, d.first, both)
	case d.valueFirst:
		return fmt.Sprintf("key %q is written under %q, which line %d set as a value: %s", d.key, d.value, d.first, both)
	case d.tableFirst:
		return fmt.Sprintf("key %q is set as a value, which line %d made a table: %s", d.key, d.first, both)
	case d.dotted:
		return fmt.Sprintf("[%s] is opened after line %d set its keys as %s.KEY: write them all under [%s], or all as %s.KEY", d.key, d.first, d.key, d.key, d.key)
	case d.table:
		return fmt.Sprintf("[%s] is opened a second time (first on line %d): write its keys under one [%s] and delete this header", d.key, d.first, d.key)
	}
	return fmt.Sprintf("key %q is set a second time (first on line %d): a key is set once: delete one of the two", d.key, d.first)
}

// A datetime key (import.time: a time.Time) takes a TOML datetime, or a
// string in RFC 3339, which go-toml hands to time.Time's UnmarshalText, as
// it does an integer's, a float's or a boolean's text as written. What
// that cannot read was said as a syntax error at a string ('toml: parsing
// time "yesterday" as …', which a run's listing takes for the syntax
// check's to say, and that check decodes no types), and bare for the others
// ('parsing time "5" …': no file, key or line): neither as the value of the
// wrong type it is, at its key and line, as every other key's is.

// notATime is where the value at key (a path in rt's keys) is written when
// it is of kind, in data, and the key's field is a time.Time: the value
// go-toml could not make a time of.
func notATime(data []byte, rt reflect.Type, key []string, kind ...unstable.Kind) (tomlValueAt, bool) {
	if len(key) == 0 || rt == nil {
		return tomlValueAt{}, false
	}
	if ft, ok := fieldTypeAt(rt, key); !ok || tomlKindName(ft) != "datetime" {
		return tomlValueAt{}, false
	}
	at, ok := scanTOMLKeys(data).value(strings.Join(key, "."))
	if !ok || !slices.Contains(kind, at.kind) {
		return tomlValueAt{}, false
	}
	return at, true
}

// bareTimeError is derr, go-toml's bare error of a time.Time's
// UnmarshalText given an integer's, a float's or a boolean's text, as the
// mistyped value it is: at the first such value of a datetime key in
// data, where go-toml, decoding in the file's order, stopped. Nil where
// derr is no time's error or no such value is written.
func bareTimeError(path string, data []byte, rt reflect.Type, derr error) *ConfigError {
	var pe *time.ParseError
	if !errors.As(derr, &pe) {
		return nil
	}
	var first *ConfigError
	for name := range scanTOMLKeys(data).set {
		key := strings.Split(name, ".")
		at, ok := notATime(data, rt, key, unstable.Integer, unstable.Float, unstable.Bool)
		if !ok || (first != nil && at.line >= first.Line) {
			continue
		}
		line, col := offsetPosition(data, int(at.value.Offset))
		first = &ConfigError{File: path, Line: line, Column: col, Key: name, Err: derr, kind: mistypedValue,
			Msg: notATimeWords(name, data, at)}
	}
	return first
}

// notATimeWords says that the value at (of the key name) is no time, what
// it is, and what the key takes, with an example in the form a run's
// config.toml writes it.
func notATimeWords(name string, data []byte, at tomlValueAt) string {
	got := map[unstable.Kind]string{unstable.String: "string", unstable.Integer: "integer", unstable.Float: "float", unstable.Bool: "boolean"}[at.kind]
	if start, end := int(at.value.Offset), int(at.value.Offset+at.value.Length); at.kind == unstable.String && end <= len(data) {
		got += " " + string(data[start:end]) + ", not an RFC 3339 time"
	}
	return wrongTypeWords(name, got, "datetime", writtenName(data, at.line, strings.Split(name, "."))+" = 2026-12-05T21:40:00Z")
}

// wrongTypeWords is the one wording of a value of the wrong type at key
// (its dotted path) for every key: what TOML value it got, the type the
// key wants, and the right form, a key = value such as the file would
// hold (example: "steps = 10"; a key of mistypedHints says its own):
// "key \"steps\": wrong type: got TOML string, want integer (such as
// steps = 10)". The type alone left the form to guess (want string:
// quoted? want float: is 10 one?).
func wrongTypeWords(key, got, want, example string) string {
	sep := ", "
	if strings.Contains(got, ", ") { // got says more of itself: "string 'x', not an RFC 3339 time"
		sep = "; "
	}
	such := ""
	if hint := mistypedHints(key); hint != "" {
		such = hint
	} else if example != "" {
		such = " (such as " + example + ")"
	}
	return fmt.Sprintf("key %q: wrong type: got TOML %s%swant %s%s", key, got, sep, want, such)
}

// typeExample is the right form of the mistyped value of key (a path in
// v's keys, want its TOML type) on line of data, as a key = value: the
// text of a string written, unquoted, where it is a value of that type
// (steps = "10": steps = 10), else v's value there where it is not zero
// (its default: the decoder had not reached it), else, for a text key with no default, the
// number or boolean written, quoted (data = 5: data = '5'), else a value
// of the type. Empty for a
// table's or an array's key, whose form one line does not show.
func typeExample(data []byte, line int, v any, key []string, want string) string {
	name := writtenName(data, line, key)
	if at, ok := scanTOMLKeys(data).value(strings.Join(key, ".")); ok && at.kind == unstable.String {
		start, end := int(at.value.Offset), int(at.value.Offset+at.value.Length)
		if text := string(data[min(start, len(data)):min(end, len(data))]); len(text) >= 2 && (text[0] == '"' || text[0] == '\'') {
			inner := strings.TrimSpace(text[1 : len(text)-1])
			var got map[string]any
			if inner != "" && toml.Unmarshal([]byte("v = "+inner), &got) == nil {
				switch got["v"].(type) {
				case int64:
					if want == "integer" || want == "float" {
						return name + " = " + inner
					}
				case float64:
					if want == "float" {
						return name + " = " + inner
					}
				case bool:
					if want == "boolean" {
						return name + " = " + inner
					}
				}
			}
		}
	}
	// A zero is no default of v's (a listing decodes into a zero struct):
	// "samples = 0" would be the form of a value its key refuses.
	if value, ok := ValueText(v, strings.Join(key, ".")); ok && !slices.Contains([]string{"''", `""`, "0", "0.0", "false"}, value) && want != "datetime" {
		return name + " = " + value
	}
	if at, ok := scanTOMLKeys(data).value(strings.Join(key, ".")); ok && want == "string" &&
		(at.kind == unstable.Integer || at.kind == unstable.Float || at.kind == unstable.Bool) {
		if start, end := int(at.value.Offset), int(at.value.Offset+at.value.Length); end <= len(data) {
			return name + " = '" + string(data[start:end]) + "'" // text is quoted: data = '5'
		}
	}
	if example, ok := map[string]string{"integer": "1", "float": "0.5", "boolean": "true", "string": "'text'", "datetime": "2026-12-05T21:40:00Z"}[want]; ok {
		return name + " = " + example
	}
	return ""
}

// writtenName is key (a dotted path) as line of data writes it before its
// =: the whole path where a dotted key at the top level does (grpo.lr =
// …), else its last part, as under its [table] or in an inline table.
func writtenName(data []byte, line int, key []string) string {
	short := key[len(key)-1]
	lines := bytes.Split(data, []byte("\n"))
	if line < 1 || line > len(lines) {
		return short
	}
	before, _, ok := bytes.Cut(lines[line-1], []byte("="))
	if !ok {
		return short
	}
	written := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '"' || r == '\'' {
			return -1
		}
		return r
	}, string(before))
	if written == strings.Join(key, ".") {
		return written
	}
	return short
}

// innerKey is the key, below key, whose value data holds at line and col
// where key is an inline table's (grpo = { seed = "7" }): go-toml names
// the inline table of a value inside it that it cannot decode, not the
// value's own key; else key.
func innerKey(data []byte, key []string, line, col int) []string {
	prefix := strings.Join(key, ".") + "."
	for name, at := range scanTOMLKeys(data).set {
		if l, c := offsetPosition(data, int(at.value.Offset)); strings.HasPrefix(name, prefix) && l == line && c == col {
			return strings.Split(name, ".")
		}
	}
	return key
}

// offsetPosition is the 1-based line and column (in bytes) of the byte at
// offset in data.
func offsetPosition(data []byte, offset int) (line, col int) {
	offset = min(max(offset, 0), len(data))
	before := data[:offset]
	return 1 + bytes.Count(before, []byte("\n")), offset - bytes.LastIndexByte(before, '\n')
}

// mistypedHints says, after a mistyped value of key, what to write where
// the type alone does not ("" where it does): an import's format, which
// rlt import wrote and which alone makes the folder an import
// (readImport). A func, not a map made at start: the hint names the
// command as the user started the program (Program), known once main ran.
func mistypedHints(key string) string {
	if key == "import.format" {
		return " (the trainer " + Program() + " import read the run from, as it wrote it: format = " + quotedOr(importFormatsWritten) + ")"
	}
	return ""
}

// importFormatsWritten are the formats rlt import writes in [import]
// format, as it writes them (every version has written these): the one
// list of the hint above, of unknownImportFormat and of the note on an
// unknown format (unknownFormatRule).
var importFormatsWritten = []string{ImportOfficial, ImportTRL, ImportVerl, ImportNemoRL, ImportTraces}

// quotedOr is words quoted, as "a", "b" or "c".
func quotedOr(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = strconv.Quote(w)
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// unknownImportFormat is the problem of config.toml's [import] format
// (data, read from path) where it is text rlt import never writes: empty,
// or a hand edit's "oficial". The table is an import's whatever its
// format says (readImport), but its format decides how its steps are
// numbered (ImportNumbering: a trainer's from 1, a traces file's from 0)
// and what the run is called, so an unknown one was taken for a traces
// file's, unsaid, and an empty one for no import at all (a run of ours,
// which rlt run --resume refused for every key of a training
// configuration it lacks). Said at its line with what to write, as a
// format of the wrong type is; nil where the format is one of
// importFormatsWritten, not set, or not text (the decoder says that one).
func unknownImportFormat(path string, data []byte) *ConfigError {
	at, ok := scanTOMLKeys(data).value("import.format")
	if !ok || at.kind != unstable.String {
		return nil
	}
	var head struct {
		Import struct {
			Format string `toml:"format"`
		} `toml:"import"`
	}
	if decodeLoose(data, &head) != nil || slices.Contains(importFormatsWritten, head.Import.Format) {
		return nil
	}
	what := fmt.Sprintf("unknown format %q", head.Import.Format)
	if head.Import.Format == "" {
		what = "no format (it is empty)"
	}
	line, col := offsetPosition(data, int(at.value.Offset))
	return &ConfigError{File: path, Line: line, Column: col, Key: "import.format", kind: mistypedValue,
		Msg: fmt.Sprintf("key %q: %s%s", "import.format", what, mistypedHints("import.format"))}
}

// typeMismatch matches go-toml's words for a value of another type than
// its key's, the value's TOML kind in the group: an inline table's and a
// local date's, time's or datetime's two words among them, and a [table]
// or [[array table]] of a key that holds none ("cannot store a table in a
// string", "cannot store an array table in a string"), which were said as
// syntax problems (so Run.ConfigTypes passed over them: a table where
// format is, a date where steps is). go-toml's type mismatch is no type of
// its own outside it (a *toml.DecodeError holds only these words, as a
// syntax error's does), so its words are what tell them apart; its parser
// says no syntax error in words that start so ("expected …", "invalid …"),
// and words of a later go-toml that differ fall back to a syntax problem,
// said as go-toml says it (TestImportWithAFormatOfTheWrongType and
// TestMistypedLocalTimesAndArrayTables fail so).
var typeMismatch = regexp.MustCompile(`^toml: (?:cannot decode TOML ((?:inline|local) \S+|\S+) into|cannot store an? ((?:array )?table) in)`)

// outOfRange matches go-toml's words for a number its key cannot hold:
// one past TOML's 64-bit integers (which its parser reports as it does a
// syntax error), or one its field's type is too narrow for.
var outOfRange = regexp.MustCompile(`^(?:(?:decimal|hexadecimal|octal|binary) number is too large to fit in a 64-bit signed integer` +
	`|(?:negative )?integer value -?\d+ cannot be stored in \S+|float value \S+ cannot be stored in float32)$`)

// outOfRangeWords says that number, the value of key (path, in the
// configuration type rt), is out of the range its type holds, that range,
// and what to write instead.
func outOfRangeWords(name, number string, rt reflect.Type, path []string) string {
	what, lo, hi := "an integer", fmt.Sprint(int64(math.MinInt64)), fmt.Sprint(int64(math.MaxInt64)) // TOML's integers are 64-bit
	if ft, ok := fieldTypeAt(rt, path); ok {
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch ft.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32: // int: 32 bits on 386 and arm
			if ft.Bits() < 64 {
				lo, hi = fmt.Sprint(int64(-1)<<(ft.Bits()-1)), fmt.Sprint(int64(1)<<(ft.Bits()-1)-1)
			}
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			lo = "0"
			if ft.Bits() < 64 {
				hi = fmt.Sprint(uint64(1)<<ft.Bits() - 1)
			}
		case reflect.Float32:
			what, lo, hi = "a number", fmt.Sprint(float32(-math.MaxFloat32)), fmt.Sprint(float32(math.MaxFloat32))
		}
	}
	if number == "" {
		number = "the value"
	}
	return fmt.Sprintf("key %q: %s is out of range: want %s from %s to %s; write one in that range", name, number, what, lo, hi)
}

// numberAt is the number written at line and column (1-based) of data, where
// go-toml found one out of range: up to the first character no TOML number
// holds (an array's comma, a comment). Empty if there is none.
func numberAt(data []byte, line, col int) string {
	lines := bytes.Split(data, []byte("\n"))
	if line < 1 || line > len(lines) || col < 1 || col > len(lines[line-1])+1 {
		return ""
	}
	text := lines[line-1][col-1:]
	end := bytes.IndexFunc(text, func(r rune) bool {
		return !strings.ContainsRune("0123456789abcdefABCDEFxob_+-.", r)
	})
	if end < 0 {
		end = len(text)
	}
	return string(text[:end])
}

func unknownKeyError(path string, de *toml.DecodeError, rt reflect.Type) *ConfigError {
	line, col := de.Position()
	key := []string(de.Key())
	// Walk the known part of the key path through the struct type; the first
	// part with no field is the unknown key.
	t := rt
	i := 0
	for ; i < len(key); i++ {
		t = derefContainer(t)
		if t.Kind() != reflect.Struct {
			break
		}
		f, ok := lookupField(t, key[i])
		if !ok {
			break
		}
		t = f.typ
	}
	ce := &ConfigError{File: path, Line: line, Column: col, Key: strings.Join(key, "."), Err: de, kind: unknownKey}
	if i >= len(key) {
		i = len(key) - 1
	}
	if i < 0 {
		i = 0
	}
	unknown := strings.Join(key[i:], ".")
	where := "at top level"
	if i > 0 {
		where = "in [" + strings.Join(key[:i], ".") + "]"
	}
	if st := derefContainer(t); st.Kind() == reflect.Struct {
		ce.Known = structKeys(st)
	}
	ce.Msg = fmt.Sprintf("unknown key %q %s", unknown, where)
	if len(ce.Known) > 0 {
		ce.Msg += " (known: " + strings.Join(ce.Known, ", ") + ")"
	}
	return ce
}

// derefContainer strips pointers, slices and arrays (arrays of tables) and
// interfaces are left alone.
func derefContainer(t reflect.Type) reflect.Type {
	for t != nil {
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			t = t.Elem()
		default:
			return t
		}
	}
	return t
}

// tomlField is one TOML key of a struct: its name, its Go type, and the
// index path of its field (through untagged embedded structs) for
// reflect.Value.FieldByIndexErr.
type tomlField struct {
	name  string
	typ   reflect.Type
	index []int
}

// tomlFields lists a struct's TOML keys, following go-toml's rules: the
// `toml` tag name, else the field name; "-" is skipped; untagged embedded
// structs are flattened.
func tomlFields(t reflect.Type) []tomlField {
	var fields []tomlField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("toml")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				for _, ef := range tomlFields(et) {
					ef.index = append([]int{i}, ef.index...)
					fields = append(fields, ef)
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields = append(fields, tomlField{name: name, typ: f.Type, index: []int{i}})
	}
	return fields
}

func structKeys(t reflect.Type) []string {
	fields := tomlFields(t)
	seen := make(map[string]bool, len(fields))
	out := make([]string, 0, len(fields))
	for _, f := range fields {
		if !seen[f.name] {
			seen[f.name] = true
			out = append(out, f.name)
		}
	}
	return out
}

// lookupField finds key in struct t: an exact match first, then a
// case-insensitive one (go-toml matches both ways).
func lookupField(t reflect.Type, key string) (tomlField, bool) {
	fields := tomlFields(t)
	for _, f := range fields {
		if f.name == key {
			return f, true
		}
	}
	for _, f := range fields {
		if strings.EqualFold(f.name, key) {
			return f, true
		}
	}
	return tomlField{}, false
}

// fieldTypeAt follows a key path from t and returns the Go type found there.
func fieldTypeAt(t reflect.Type, key []string) (reflect.Type, bool) {
	for _, k := range key {
		t = derefContainer(t)
		switch t.Kind() {
		case reflect.Struct:
			f, ok := lookupField(t, k)
			if !ok {
				return nil, false
			}
			t = f.typ
		case reflect.Map:
			t = t.Elem()
		default:
			return nil, false
		}
	}
	return t, true
}

// ValueText is the value cfg (a struct, or a pointer to one) holds at the
// dotted key path, as TOML writes it ("1e-06", "'addition'"), by
// go-toml's rules for which field a key names; false where the path names
// no field, or a table. It is for messages about a value the file does not
// set, which have no line of the file to quote.
func ValueText(cfg any, key string) (string, bool) {
	v := reflect.ValueOf(cfg)
	for _, part := range strings.Split(key, ".") {
		for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
			if v.IsNil() {
				return "", false
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			return "", false
		}
		f, ok := lookupField(v.Type(), part)
		if !ok {
			return "", false
		}
		fv, err := v.FieldByIndexErr(f.index) // err: through a nil embedded pointer
		if err != nil {
			return "", false
		}
		v = fv
	}
	text, err := EncodeTOML(map[string]any{"v": v.Interface()})
	if err != nil {
		return "", false
	}
	value, ok := strings.CutPrefix(strings.TrimSpace(string(text)), "v = ")
	if !ok || strings.ContainsRune(value, '\n') {
		return "", false // a table, or a value TOML writes on several lines
	}
	return value, true
}

// tomlKindName names what TOML value a Go type accepts, for messages.
func tomlKindName(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.PkgPath() == "time" && t.Name() == "Time" {
		return "datetime"
	}
	if t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		return "string"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "float"
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Struct, reflect.Map:
		return "table"
	}
	return t.String()
}

var textUnmarshaler = reflect.TypeOf((*interface{ UnmarshalText([]byte) error })(nil)).Elem()

// ReadConfigFile reads the TOML file at path over v strictly
// (DecodeStrict; an empty path leaves v as it is) and returns the file's
// text (nil for an empty path), so that what a later check of v finds can be put on the
// lines of the keys it names (LocateValidations) without reading the file
// again, perhaps changed in between. cmd is the command whose --config
// path is ("train", "run"): a file that is no TOML at all is told to
// start from its --print-config, whose defaults are that command's.
func ReadConfigFile(path, cmd string, v any) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return data, decodeStrict(path, data, v, cmd)
}

// PrintConfigOfEither is the way to write a run folder's config.toml
// again, where the folder does not say which command made it: rlt run's
// (the embedded models' run) and rlt train's (the models given) print
// different defaults, so both are named.
func PrintConfigOfEither() string {
	return Program() + " run --print-config prints one to start from for a run of the embedded models, " + Program() + " train --print-config for one of your own"
}

// notTOML says what data is when it is plainly no TOML at all, which a
// TOML parser would report as a problem on every line: JSON (a model's
// config.json, say) or not text (a weights file), with cmd's
// --print-config to start from. nil otherwise.
func notTOML(path string, data []byte, cmd string) error {
	start := " (" + Program() + " " + cmd + " --print-config writes one to start from)"
	if t := bytes.TrimSpace(data); len(t) > 0 && (t[0] == '{' || t[0] == '[' && json.Valid(t)) {
		return &ConfigError{File: path, Line: 1, Column: 1, Msg: "this is JSON, not a TOML run configuration" + start}
	}
	if at := bytes.IndexByte(data, 0); at >= 0 || !utf8.Valid(data) {
		what := "bytes that are not UTF-8"
		if at >= 0 {
			what = fmt.Sprintf("a NUL byte at offset %d", at)
		}
		return &ConfigError{File: path, Msg: "this is not text (it holds " + what + "; a weights or other binary file?), not a TOML run configuration" + start}
	}
	return nil
}

// EncodeTOML renders v as TOML (go-toml/v2 with its default layout; struct
// field order is kept). Use it with durable.WriteFile to save a resolved
// configuration.
func EncodeTOML(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := toml.NewEncoder(&buf)
	enc.SetIndentTables(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode TOML: %w", err)
	}
	return buf.Bytes(), nil
}

// KeyLine finds the line (1-based) of key in [table] ("" = top level) of
// a TOML text, however the text writes it: under a [table] header (a
// comment after it or not), as a dotted key (grpo.lr = … at the top level,
// sampling.temperature = … under [grpo]) or inside an inline table
// (grpo = { lr = … }). Without the key, it is the first line that opens
// the table, and false (0 if none does, or for the top level).
func KeyLine(data []byte, table, key string) (int, bool) {
	return scanTOMLKeys(data).line(table, key)
}

// LocateValidation puts a validation problem of the configuration decoded
// from data (the text of file) on the line of the key it is about: the key
// a *configkey.Error in err carries (errors.As), as the engine's
// validators return them, so no message is read for it. A key the file
// does not set (its value is a default, or a flag's) is put on its table's
// header, else on line 1, and marked KeyAbsent; a problem about no key
// (the configuration as a whole) has no line (0) and no Key: it reads
// "file: problem", as no line of the file is at fault.
func LocateValidation(file string, data []byte, err error) *ConfigError {
	return locateValidation(file, scanTOMLKeys(data), err)
}

// locateValidation is LocateValidation on a scanned document, so that
// LocateValidations reads the text once for all its problems.
func locateValidation(file string, keys tomlKeys, err error) *ConfigError {
	ce := &ConfigError{File: file, Column: 1, Msg: err.Error(), Err: err}
	key, ok := configkey.Of(err)
	if !ok || key == "" { // a configkey.Error may carry no key
		return ce
	}
	table, name, _ := configkey.Split(key)
	line, found := keys.line(table, name)
	ce.Key, ce.Line, ce.KeyAbsent = key, max(line, 1), !found
	return ce
}

// LocateValidations puts every problem a configuration's Validate joined
// into err (errors.Join, nested joins included: configkey.Problems) on the
// line of the key it is about in data, the text of file
// (LocateValidation), in line order (a key the file lacks by its table's
// header, a problem about no key first). The order the command line and
// the workbench's editor list problems in is ExplainValidations'. A nil
// err has none.
func LocateValidations(file string, data []byte, err error) []*ConfigError {
	var located []*ConfigError
	keys := scanTOMLKeys(data)
	for _, e := range configkey.Problems(err) {
		located = append(located, locateValidation(file, keys, e))
	}
	slices.SortStableFunc(located, func(a, b *ConfigError) int { return a.Line - b.Line })
	return located
}

// Unset is what a configuration decoded from a file holds at a key the
// file does not set, which a problem with that key must say: the file's
// lines cannot show it.
type Unset int

const (
	// UnsetIsDefault: the file was decoded over a default configuration
	// (rlt train and rlt run --config, the workbench's editor), so such a
	// key holds its default.
	UnsetIsDefault Unset = iota
	// UnsetIsZero: the file was decoded over nothing (a run folder's
	// config.toml, which records every key as the run was started), so
	// such a key holds its type's zero value: calling it a default would
	// be untrue. (A key of its [reward] holds its default, RecordedConfig,
	// said as its value: "not set in this file, so 0.7".)
	UnsetIsZero
)

// ExplainValidations is LocateValidations (the problems of err, Validate's
// of cfg decoded from data, the text of file, each on its key's line) with
// a problem whose key the file does not set worded to say so and what
// value stands in, as unset says:
//
//	reward.temperature (default 0.7, not set in this file): temperature 0.7 differs …
//	reward.temperature (not set in this file, so 0): temperature 0 must be …
//
// Its Error() puts the file before it ("run.toml: reward.temperature …"),
// as a problem about no key reads "run.toml: problem": the command line
// prints that, and the workbench's editor shows the same words, so that
// the two never word a problem differently.
//
// err may hold DecodeStrict's problems too, where they left cfg decoded
// (OnlyKeyProblems: unknown keys, mistyped values): they stay as
// DecodeStrict says them, each on its line among the file's, and a
// mistyped key's Validate problem is left out, its value being no longer
// the file's (unless a flag set it), so that a file's unknown keys, wrong
// types and values out of range are said in one go.
//
// A problem with one of the overridden keys (those a command's flags set
// over the file) is marked Overridden and keeps the validator's words: the
// caller names the flag. With no file (file "", data nil: the defaults and
// the flags alone) no problem is on a line or worded as not set in it.
//
// The problems are listed in one order, which every caller shows (the
// command line, the workbench's editor), so that the list reads as the
// fix goes: the file's own lines first, in line order; then keys the file
// does not set, in the order the configuration declares its keys (cfg's
// fields: steps before device, [reward] before [grpo]), whatever line
// their table's header is on; then problems about no key, in Validate's
// order; then the overridden keys', in the configuration's key order too,
// for they are not the file's to fix.
func ExplainValidations(file string, data []byte, cfg any, unset Unset, err error, overridden ...string) []*ConfigError {
	keys := scanTOMLKeys(data)
	var located []*ConfigError
	var mistyped []string // keys whose value the file gives in the wrong type
	for _, e := range configkey.Problems(err) {
		if ce, ok := e.(*ConfigError); ok && ce.kind != notDecoding {
			located = append(located, ce) // DecodeStrict's, on its line already
			if ce.kind == mistypedValue {
				mistyped = append(mistyped, ce.Key)
			}
		}
	}
	for _, e := range configkey.Problems(err) {
		if ce, ok := e.(*ConfigError); ok && ce.kind != notDecoding {
			continue
		}
		ce := locateValidation(file, keys, e)
		if !slices.Contains(overridden, ce.Key) && slices.ContainsFunc(mistyped, func(m string) bool {
			return ce.Key == m || strings.HasPrefix(ce.Key, m+".")
		}) {
			continue // its value is not the file's, which is wrong in type: the range is moot
		}
		switch {
		case ce.Key != "" && slices.Contains(overridden, ce.Key):
			ce.Overridden = true
		case file != "" && ce.KeyAbsent:
			ce.Msg = notSetWords(cfg, unset, ce.Key, ce.Err)
		}
		located = append(located, ce)
	}
	order := keyOrder(reflect.TypeOf(cfg))
	rank := func(key string) int {
		if i, ok := order[key]; ok {
			return i
		}
		return len(order) // a key cfg does not declare: after those it does
	}
	group := func(ce *ConfigError) int {
		switch {
		case ce.Overridden:
			return 3
		case ce.AtItsLine():
			return 0
		case ce.Key != "":
			return 1
		}
		return 2
	}
	slices.SortStableFunc(located, func(a, b *ConfigError) int {
		if ga, gb := group(a), group(b); ga != gb {
			return ga - gb
		}
		switch group(a) {
		case 0:
			return a.Line - b.Line
		case 1, 3:
			return rank(a.Key) - rank(b.Key)
		}
		return 0
	})
	return located
}

// keyOrder numbers the dotted keys of a configuration type in the order
// its fields declare them, a table's name before its keys ("grpo",
// "grpo.lr", …), by tomlFields' rules: the order a printed configuration
// lists them in.
func keyOrder(t reflect.Type) map[string]int {
	order := map[string]int{}
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t == nil || t.Kind() != reflect.Struct || t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
			return
		}
		for _, f := range tomlFields(t) {
			key := prefix + f.name
			if _, seen := order[key]; !seen {
				order[key] = len(order)
			}
			walk(f.typ, key+".")
		}
	}
	walk(t, "")
	return order
}

// notSetWords is problem, about key, which the file does not set, after
// the key and what cfg holds there instead. The words after the key are
// the problem's own, without the table a *configkey.Error puts before them
// (the key names it).
func notSetWords(cfg any, unset Unset, key string, problem error) string {
	where := "not set in this file"
	if value, ok := ValueText(cfg, key); ok {
		switch unset {
		case UnsetIsDefault:
			where = "default " + value + ", " + where
		case UnsetIsZero:
			where += ", so " + value
		}
	}
	words := problem
	var ke *configkey.Error
	if errors.As(problem, &ke) && ke == problem {
		words = ke.Err
	}
	return fmt.Sprintf("%s (%s): %v", key, where, words)
}
