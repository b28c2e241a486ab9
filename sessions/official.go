package sessions

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/rlt-workbench/rlt/engine/jsonerr"
	"github.com/rlt-workbench/rlt/engine/record"
)

// Import of the official RLT trainer's run folder (RLT.md §7):
//
//	<dir>/trainer_state.json              log_history: one object per logging step
//	<dir>/checkpoint-N/trainer_state.json used when the top-level one is absent
//	<dir>/stored_completions/<step>.csv   columns step, prompt, completion, reward
//	<dir>/teacher_chats/log.txt           noted, not parsed

// OfficialMetrics is one log_history entry: its step and every numeric value
// in it by key (including "epoch"; "step" itself is not repeated in Values).
type OfficialMetrics struct {
	Step   int
	Values map[string]float64
}

// OfficialCompletion is one row of a stored_completions CSV file.
type OfficialCompletion struct {
	Step       int
	Prompt     string
	Completion string
	Reward     float64 // NaN when the cell was empty
	File       string  // base name of the CSV file
	Row        int     // 1-based data row in that file (header excluded)
	Line       int     // 1-based line where the row starts
}

// RowIssue is a row or entry skipped on import, with where and why.
type RowIssue struct {
	File   string
	Line   int    // 1-based line where the row starts
	Column int    // 1-based, where the problem is within the line (0: not said)
	Field  string // the missing or bad field, if it is about one
	Msg    string
}

func (i RowIssue) String() string {
	switch {
	case i.Line < 1: // about the whole file
		return i.File + ": " + i.Msg
	case i.Column > 0:
		return fmt.Sprintf("%s:%d:%d: %s", i.File, i.Line, i.Column, i.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", i.File, i.Line, i.Msg)
}

// stateError is a trainer_state.json that cannot be read, with where
// (Line 0: the whole file), so that an import's report places it as one
// of its issues, naming the file once.
type stateError struct {
	File         string
	Line, Column int
	Msg          string
}

func (e *stateError) Error() string {
	return RowIssue{File: e.File, Line: e.Line, Column: e.Column, Msg: e.Msg}.String()
}

// maxIssues bounds the issues kept per file; counts stay exact.
const maxIssues = 100

// TrainerStateReport describes what ParseTrainerState kept and left out.
type TrainerStateReport struct {
	File           string
	Entries        int        // log_history entries seen
	NonNumeric     int        // values ignored because they were not numbers
	NonNumericKeys []string   // their distinct keys, sorted
	PastRange      int        // numbers ignored because float64 cannot hold them (1e999)
	PastRangeKeys  []string   // their distinct keys, sorted
	SkippedCount   int        // entries skipped (no usable step, not an object)
	Skipped        []RowIssue // the first maxIssues of them
	// MaxSteps is the document's "max_steps": the optimizer steps the
	// Hugging Face Trainer set out to take (TrainerState.max_steps, from
	// TrainingArguments.max_steps or the epochs), the total its "step"
	// numbers — steps done — count towards. 0 when absent or not a
	// positive integer (a TrainerState that never trained holds 0).
	MaxSteps int
}

// ReadTrainerState reads a Hugging Face trainer_state.json. See
// ParseTrainerState.
func ReadTrainerState(path string) ([]OfficialMetrics, TrainerStateReport, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, TrainerStateReport{File: path}, fmt.Errorf("read trainer state: %w", err)
	}
	return ParseTrainerState(path, data)
}

// ParseTrainerState extracts log_history from a trainer_state.json document
// (name is used in messages). Python's bare NaN, Infinity and -Infinity are
// accepted as numbers. Each entry needs an integral "step"; every other
// numeric value is kept by key, non-numeric ones are ignored and counted. A
// document cut short (the trainer rewrites the file in place) is an error
// saying so, and the caller may retry.
func ParseTrainerState(name string, data []byte) ([]OfficialMetrics, TrainerStateReport, error) {
	return parseTrainerState(name, data, maxIssues)
}

// parseTrainerState keeps the first limit skipped entries in the report
// (all of them when limit < 0).
func parseTrainerState(name string, data []byte, limit int) ([]OfficialMetrics, TrainerStateReport, error) {
	rep := TrainerStateReport{File: name}
	clean := pythonJSON(data)
	dec := json.NewDecoder(bytes.NewReader(clean))
	dec.UseNumber()
	syntax := func(err error) error {
		var se *json.SyntaxError
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
			return &stateError{File: name, Msg: fmt.Sprintf("incomplete JSON (cut short at byte %d; the trainer may be rewriting it)", len(data))}
		case errors.As(err, &se):
			l, c := jsonerr.LineCol(clean, se.Offset)
			return &stateError{File: name, Line: l, Column: c, Msg: se.Error()}
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, rep, syntax(err)
	}
	if tok != json.Delim('{') {
		return nil, rep, &stateError{File: name, Line: 1, Column: 1, Msg: "trainer state is not a JSON object"}
	}
	var out []OfficialMetrics
	found := false
	nonNum, past := map[string]bool{}, map[string]bool{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, rep, syntax(err)
		}
		key, _ := kt.(string)
		if key != "log_history" {
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return nil, rep, syntax(err)
			}
			if key == "max_steps" {
				rep.MaxSteps = positiveInt(v)
			}
			continue
		}
		found = true
		t, err := dec.Token()
		if err != nil {
			return nil, rep, syntax(err)
		}
		if t == nil {
			continue // "log_history": null
		}
		if t != json.Delim('[') {
			l, c := jsonerr.LineCol(clean, dec.InputOffset())
			return nil, rep, &stateError{File: name, Line: l, Column: c, Msg: "log_history is not a list"}
		}
		for dec.More() {
			start := skipSpaceComma(clean, dec.InputOffset())
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, rep, syntax(err)
			}
			rep.Entries++
			line, _ := jsonerr.LineCol(clean, start)
			m, issue := metricsEntry(raw, nonNum, &rep.NonNumeric, past, &rep.PastRange)
			if issue != "" {
				rep.SkippedCount++
				if limit < 0 || len(rep.Skipped) < limit {
					rep.Skipped = append(rep.Skipped, RowIssue{File: name, Line: line, Field: "step",
						Msg: fmt.Sprintf("log_history[%d]: %s", rep.Entries-1, issue)})
				}
				continue
			}
			out = append(out, m)
		}
		if _, err := dec.Token(); err != nil { // ']'
			return nil, rep, syntax(err)
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, rep, syntax(err)
	}
	if !found {
		return nil, rep, &stateError{File: name, Msg: "no log_history in trainer state"}
	}
	rep.NonNumericKeys, rep.PastRangeKeys = sortedKeys(nonNum, nil), sortedKeys(past, nil)
	return out, rep, nil
}

// pastRangeNote is an import's note on the metric values of file left
// out as numbers past float64's range (n of them, under keys): said
// apart from the values that are no numbers (text, null), since a
// number written past the range is another fault of the file, one no
// trainer's logger makes (Python writes a float's inf as Infinity).
func pastRangeNote(file string, n int, keys []string) string {
	return fmt.Sprintf("%s: %s past float64's range (about ±1.8e308) ignored, %s no trainer logs (%s: %s)", file, Counted(n, "number", "numbers"),
		OneOrMany(n, "a value", "values"), OneOrMany(len(keys), "key", "keys"), strings.Join(keys, ", "))
}

// positiveInt is the JSON number raw as a positive int, else 0.
func positiveInt(raw json.RawMessage) int {
	n, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt32 {
		return 0
	}
	return int(n)
}

// metricsEntry reads one log_history entry: its values, counting those
// left out by why (nonNum and count: no number; past and pastCount: a
// number past float64's range) under their keys.
func metricsEntry(raw []byte, nonNum map[string]bool, count *int, past map[string]bool, pastCount *int) (OfficialMetrics, string) {
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return OfficialMetrics{}, "not an object"
	}
	sv, ok := obj["step"]
	if !ok {
		return OfficialMetrics{}, `missing field "step"`
	}
	stepF, ok := jsonNumber(sv)
	if !ok || stepF != math.Trunc(stepF) || math.Abs(stepF) > 1<<53 {
		return OfficialMetrics{}, fmt.Sprintf(`"step" is not an integer: %v`, sv)
	}
	m := OfficialMetrics{Step: int(stepF), Values: make(map[string]float64, len(obj))}
	for k, v := range obj {
		if k == "step" {
			continue
		}
		f, ok := jsonNumber(v)
		num, _ := v.(json.Number) // "" where v is no number
		_, beyond := numberPastRange(string(num))
		switch {
		case !ok && beyond:
			*pastCount++
			past[k] = true
			continue
		case !ok:
			*count++
			nonNum[k] = true
			continue
		}
		m.Values[k] = f
	}
	return m, ""
}

// Sentinels that pythonJSON substitutes for Python's bare non-finite numbers.
const (
	pyNaN    = "\x00NaN"
	pyPosInf = "\x00+Inf"
	pyNegInf = "\x00-Inf"
)

// jsonNumber is a metric value of a trainer_state.json entry or a verl
// metric line, and whether it is one: a JSON number within float64's
// range, or Python's NaN, Infinity and -Infinity (pythonJSON). A number
// past the range (1e999, which Python never writes for a float) is none,
// left out and counted, apart from the values that are no numbers
// (pastRange), as our metrics.jsonl's
// reader refuses it and a traces row's reward is refused: it was read as
// ±Inf, a value the trainer never logged.
func jsonNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return 0, false
		}
		return f, true
	case string:
		switch x {
		case pyNaN:
			return math.NaN(), true
		case pyPosInf:
			return math.Inf(1), true
		case pyNegInf:
			return math.Inf(-1), true
		}
	}
	return 0, false
}

// pythonJSON rewrites the bare NaN, Infinity and -Infinity that Python's json
// module writes into sentinel strings (jsonerr.ReplacePythonLiterals),
// leaving string contents alone. Line structure is preserved.
func pythonJSON(data []byte) []byte {
	return jsonerr.ReplacePythonLiterals(data, `"\u0000NaN"`, `"\u0000+Inf"`, `"\u0000-Inf"`)
}

func skipSpaceComma(data []byte, off int64) int64 {
	for off < int64(len(data)) {
		switch data[off] {
		case ' ', '\t', '\r', '\n', ',':
			off++
			continue
		}
		break
	}
	return off
}

// CSVReport describes what ParseCompletionsCSV kept and left out.
type CSVReport struct {
	File         string
	Rows         int        // data rows kept
	SkippedCount int        // data rows skipped
	Skipped      []RowIssue // the first maxIssues of them
	PendingBytes int        // an unfinished last record (the file is being written)
	PendingLine  int        // line where that record starts, if PendingBytes > 0
}

// ReadCompletionsCSV reads one stored_completions/<step>.csv file. See
// ParseCompletionsCSV.
func ReadCompletionsCSV(path string) ([]OfficialCompletion, CSVReport, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, CSVReport{File: filepath.Base(path)}, fmt.Errorf("read completions: %w", err)
	}
	return ParseCompletionsCSV(filepath.Base(path), data)
}

// ParseCompletionsCSV parses a stored_completions CSV document (RFC 4180;
// quoted fields may span lines). Columns are found by header name, so extra
// columns (such as a pandas index) are ignored; prompt, completion and reward
// are required, step falls back to the file name's number. The document may
// end mid-record while the trainer writes it: everything up to the last
// complete record is parsed and the rest is reported as pending. Rows with a
// bad value are skipped and reported; an empty reward is kept as NaN.
func ParseCompletionsCSV(name string, data []byte) ([]OfficialCompletion, CSVReport, error) {
	return parseCompletionsCSV(name, data, maxIssues)
}

// parseCompletionsCSV keeps the first limit skipped rows in the report (all
// of them when limit < 0).
func parseCompletionsCSV(name string, data []byte, limit int) ([]OfficialCompletion, CSVReport, error) {
	rep := CSVReport{File: name}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	complete := completeCSV(data)
	if pend := len(data) - complete; pend > 0 {
		rep.PendingBytes = pend
		rep.PendingLine = bytes.Count(data[:complete], []byte{'\n'}) + 1
	}
	if complete == 0 {
		return nil, rep, nil
	}
	r := csv.NewReader(bytes.NewReader(data[:complete]))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		if err == io.EOF {
			return nil, rep, nil
		}
		return nil, rep, fmt.Errorf("%s:1: header: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if _, dup := col[h]; !dup {
			col[h] = i
		}
	}
	for _, need := range []string{"prompt", "completion", "reward"} {
		if _, ok := col[need]; !ok {
			return nil, rep, fmt.Errorf("%s:1: no %q column (header: %s)", name, need, strings.Join(header, ","))
		}
	}
	fileStep, fileStepOK := stepFromName(name)
	stepCol, hasStep := col["step"]
	skipAt := func(line, column int, field, msg string) {
		rep.SkippedCount++
		if limit < 0 || len(rep.Skipped) < limit {
			rep.Skipped = append(rep.Skipped, RowIssue{File: name, Line: line, Column: column, Field: field, Msg: msg})
		}
	}
	skip := func(line int, field, msg string) { skipAt(line, 0, field, msg) }
	var out []OfficialCompletion
	row := 0
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		row++
		if err != nil {
			// Only quoting fails (FieldsPerRecord is -1). After a broken
			// quoted field the reader's idea of where rows start is a guess, and
			// every later "row" would be an error made up from the middle
			// of a field: one error, for the row where it broke, and the
			// rest is left unread.
			var pe *csv.ParseError
			line, where := 0, ""
			if errors.As(err, &pe) {
				line, err = pe.StartLine, pe.Err
				where = fmt.Sprintf(" (line %d, column %d)", pe.Line, pe.Column)
			}
			if errors.Is(err, csv.ErrBareQuote) { // within one unquoted field: the next line starts a row
				skip(line, "", fmt.Sprintf("row %d: %v%s", row, err, where))
				continue
			}
			rest := bytes.Count(data[:complete], []byte{'\n'}) - line
			skip(line, "", fmt.Sprintf("row %d: %v%s; the %d lines after it are not read: fix the quoting of this row (a quote inside a quoted field is written twice: \"\")", row, err, where, max(rest, 0)))
			break
		}
		line, _ := r.FieldPos(0)
		get := func(c string) (string, bool) {
			i := col[c]
			if i >= len(rec) {
				return "", false
			}
			return rec[i], true
		}
		c := OfficialCompletion{File: name, Row: row, Line: line}
		var ok bool
		if c.Prompt, ok = get("prompt"); !ok {
			skip(line, "prompt", fmt.Sprintf("row %d: missing field \"prompt\" (%d columns)", row, len(rec)))
			continue
		}
		if c.Completion, ok = get("completion"); !ok {
			skip(line, "completion", fmt.Sprintf("row %d: missing field \"completion\" (%d columns)", row, len(rec)))
			continue
		}
		rs, ok := get("reward")
		if !ok {
			skip(line, "reward", fmt.Sprintf("row %d: missing field \"reward\" (%d columns)", row, len(rec)))
			continue
		}
		if rs = strings.TrimSpace(rs); rs == "" {
			c.Reward = math.NaN()
		} else if c.Reward, err = strconv.ParseFloat(rs, 64); errors.Is(err, strconv.ErrRange) {
			// A number past float64's range (1e999) is refused as a
			// traces row's is (record.RewardPastRange), at its line and
			// column: it was taken as ±Inf, a reward no trainer wrote
			// ("inf", which pandas writes for one, is read as such).
			at, column := r.FieldPos(col["reward"])
			skipAt(at, column, "reward", fmt.Sprintf("row %d: %s", row, record.RewardPastRange("reward", rs)))
			continue
		} else if err != nil {
			// At its column too: a row is many lines of text where a
			// completion is, and the reward's field is the last of them.
			at, column := r.FieldPos(col["reward"])
			skipAt(at, column, "reward", fmt.Sprintf("row %d: reward %q is not a number", row, rs))
			continue
		}
		switch {
		case hasStep && stepCol < len(rec) && strings.TrimSpace(rec[stepCol]) != "":
			s := strings.TrimSpace(rec[stepCol])
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
				at, column := r.FieldPos(stepCol)
				skipAt(at, column, "step", fmt.Sprintf("row %d: step %q is not an integer", row, s))
				continue
			}
			c.Step = int(f)
		case fileStepOK:
			c.Step = fileStep
		default:
			skip(line, "step", fmt.Sprintf("row %d: missing field \"step\" and the file name has no step", row))
			continue
		}
		out = append(out, c)
	}
	rep.Rows = len(out)
	return out, rep, nil
}

// completeCSV returns the length of data's prefix that ends with a complete
// record: the last newline outside a quoted field. It follows RFC 4180 as
// encoding/csv does: a quote opens a quoted field only at the start of a
// field, and inside one a doubled quote is a literal quote.
func completeCSV(data []byte) int {
	last := 0
	inQuoted, fieldStart := false, true
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inQuoted {
			if c == '"' {
				if i+1 < len(data) && data[i+1] == '"' {
					i++
					continue
				}
				inQuoted = false
			}
			continue
		}
		switch c {
		case '"':
			if fieldStart {
				inQuoted = true
			}
			fieldStart = false
		case ',':
			fieldStart = true
		case '\n':
			last = i + 1
			fieldStart = true
		case '\r':
		default:
			fieldStart = false
		}
	}
	return last
}

func stepFromName(name string) (int, bool) {
	base := strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
	n, err := strconv.Atoi(base)
	return n, err == nil
}

// OfficialRun is what ImportOfficialRun found in a run folder.
type OfficialRun struct {
	Dir             string
	StateFile       string // the trainer_state.json used ("" if none)
	Metrics         []OfficialMetrics
	State           TrainerStateReport
	Completions     []OfficialCompletion // by step, then file row
	CSV             []CSVReport          // one per stored_completions file, by step
	HasTeacherChats bool                 // teacher_chats/log.txt exists
}

// ImportOfficialRun reads an official RLT trainer run folder: the metrics
// from trainer_state.json (or, if absent, from the newest checkpoint-N
// folder's copy) and every stored_completions/*.csv. A folder with neither is
// an error; problems inside files are reported, not fatal, except a
// malformed trainer_state.json.
func ImportOfficialRun(dir string) (*OfficialRun, error) {
	return importOfficialRun(dir, maxIssues)
}

// importOfficialRun keeps the first limit issues per file (all when limit < 0).
func importOfficialRun(dir string, limit int) (*OfficialRun, error) {
	run := &OfficialRun{Dir: dir}
	state := OfficialTrainerState(dir)
	if state != "" {
		data, err := os.ReadFile(state)
		if err != nil {
			return nil, fmt.Errorf("read trainer state: %w", err)
		}
		m, rep, err := parseTrainerState(state, data, limit)
		if err != nil {
			return nil, err
		}
		run.StateFile, run.Metrics, run.State = state, m, rep
	}
	csvs, _ := filepath.Glob(filepath.Join(dir, "stored_completions", "*.csv"))
	sort.Slice(csvs, func(i, j int) bool {
		a, aok := stepFromName(csvs[i])
		b, bok := stepFromName(csvs[j])
		if aok && bok && a != b {
			return a < b
		}
		return csvs[i] < csvs[j]
	})
	for _, p := range csvs {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read completions: %w", err)
		}
		rows, rep, err := parseCompletionsCSV(filepath.Base(p), data, limit)
		if err != nil {
			return nil, err
		}
		run.Completions = append(run.Completions, rows...)
		run.CSV = append(run.CSV, rep)
	}
	if _, err := os.Stat(filepath.Join(dir, "teacher_chats", "log.txt")); err == nil {
		run.HasTeacherChats = true
	}
	if state == "" && len(csvs) == 0 {
		return nil, errors.New("not an RLT run folder (no trainer_state.json, no stored_completions/*.csv)")
	}
	return run, nil
}

// OfficialTrainerState is the official trainer's trainer_state.json of a
// run folder: at its top, else in its newest checkpoint-N folder ("" if
// there is none).
func OfficialTrainerState(dir string) string {
	if p := filepath.Join(dir, "trainer_state.json"); fileExists(p) {
		return p
	}
	return newestCheckpointState(dir)
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func newestCheckpointState(dir string) string {
	matches, _ := filepath.Glob(filepath.Join(dir, "checkpoint-*", "trainer_state.json"))
	best, bestN := "", -1
	for _, m := range matches {
		n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(filepath.Dir(m)), "checkpoint-"))
		if err == nil && n > bestN {
			best, bestN = m, n
		}
	}
	return best
}

// Trace is one (question, solution, explanation) row from a traces file:
// a record.Row that has an explanation, with its line.
type Trace struct {
	Line int // 1-based line in the file
	record.Row
}

// parseTraces reads JSON Lines trace rows (name is used in messages; a
// fix for every row of a shape, record.RowError.Fix, is said once, at its
// first row, with path, the file's path, and the file beside it to write,
// as task.ReadFile says a data file's), the
// first step of rlt import's reader of a traces file, readTracesFile,
// which leaves out what a row is not for an import (a cut sample, a
// reserved tag): its one caller, so that no other reader takes a row that
// reader leaves out. A row is either flat, {"question" or "prompt",
// "solution", "explanation" or "completion", optional numeric "reward"},
// or a Bespoke-Stratos "conversations" record (RLT.md §5) whose assistant
// turn holds the explanation between the thought tags and the solution
// between the solution tags. Rows missing a field, with a field of the
// wrong type, or not valid JSON are skipped and reported with their line
// and the field, every one of them in skipped (their count is its
// length, the rows' the traces'). A file is imported as it is: an
// unterminated last line that holds a whole JSON value is read as any
// other line (a row, or a line left out for what it lacks: a writer that
// ends its file without a newline), and only one cut short is left out as
// such.
func parseTraces(name, path string, r io.Reader) (out []Trace, skipped []RowIssue, err error) {
	skip := func(line int, field, msg string) {
		skipped = append(skipped, RowIssue{File: name, Line: line, Field: field, Msg: msg})
	}
	fixIn, fixOut := record.FixFiles(path)
	said := map[string]bool{} // the fixes said, each once for the file
	_, err = scanLines(name, r, true, func(lineNo int, _ int64, raw []byte, unterminated bool) error {
		if unterminated {
			n := len(raw)
			if raw = bytes.TrimSpace(raw); !record.WholeJSON(raw) {
				skip(lineNo, "", fmt.Sprintf("unterminated last line (%d bytes): cut short, or still being written", n))
				return nil
			}
		}
		row, err := record.ParseRow(raw)
		if err == nil && row.ExplanationFrom == "" {
			err = noExplanation(row)
		}
		if err != nil {
			field, msg := "", err.Error()
			if re, ok := err.(*record.RowError); ok {
				field = re.Field
				if re.Fix != nil { // with the file's path, at its first row only
					msg = re.Msg
					if fix := re.Fix(fixIn, fixOut); !said[fix] {
						said[fix], msg = true, msg+fix
					}
				}
			}
			skip(lineNo, field, msg)
			return nil
		}
		out = append(out, Trace{Line: lineNo, Row: row})
		return nil
	})
	return out, skipped, err
}

// noExplanation is the error of a row that has no explanation to score.
func noExplanation(r record.Row) error {
	if r.Stratos {
		return &record.RowError{Field: "conversations", Msg: "conversations: assistant turn has no " + record.BeginThought + "…" + record.EndThought + " section"}
	}
	return &record.RowError{Field: "explanation", Msg: `missing field "explanation" (or "completion")`}
}
