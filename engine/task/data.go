package task

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rlt-workbench/rlt/engine/jsonerr"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/shell"
)

// detectable are the synthetic tasks whose questions user data may hold.
var detectable = []Task{DefaultAddition(), DefaultLinear()}

// Detect returns the synthetic task whose question grammar question is
// written in ("347+285=?" is addition, "3x+5=20, x=?" linear), if any.
func Detect(question string) (Task, bool) {
	for _, t := range detectable {
		if _, ok := t.SplitKey(question); ok {
			return t, true
		}
	}
	return nil, false
}

// File is a user data file as read by ReadFile: its usable rows and what
// was left out, line by line.
type File struct {
	Path string
	// SHA256 is the hex digest of the file's bytes: a run records it so a
	// resume can tell that the data changed under it.
	SHA256 string
	// Examples are the usable rows in file order, each with its Line; rows
	// whose question is a synthetic task's carry its name in Task.
	Examples []Example
	Report   Report
}

// giveData is what a data file is, said where one is missing: the layouts
// ReadJSONL reads, and where they are described.
const giveData = `give a JSON Lines file, one row a line: {"question": …, "solution": …} (a "reasoning_trace" optional) or a Bespoke-Stratos {"system": …, "conversations": […]} row (docs/formats.md, User data)`

// ReadFile reads a JSON Lines data file (see ReadJSONL for the layouts and
// the per-row rules). A row whose question is a synthetic task's (Detect)
// keeps that task's answer checker and verifier; if its solution is not
// that task's answer it is skipped, since the teacher would be taught a
// wrong answer and the checker would score against another one. Errors name
// the setting (key: "data", "eval_data", "--data") and the file: missing or unreadable, empty, one JSON document rather than
// JSON Lines, or no usable row (with the first reasons).
func ReadFile(key, path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		// A missing file and a folder are said here, in the same words on
		// every system (reading a folder is "is a directory" on Linux,
		// "Incorrect function." on Windows), and in the form of the file's
		// other problems: "data FILE: …".
		if errors.Is(err, fs.ErrNotExist) { // with what to give: a new user has none yet
			return nil, fmt.Errorf("%s %s: %w: %s", key, path, fs.ErrNotExist, giveData)
		}
		if st, serr := os.Stat(path); serr == nil && st.IsDir() {
			return nil, fmt.Errorf("%s %s: is a folder; give the JSON Lines file in it", key, path)
		}
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	if bytes.HasPrefix(data, parquetMagic) {
		return nil, fmt.Errorf("%s %s: %s", key, path, notParquet(path))
	}
	if err := record.JSONDocument(data, path); err != nil {
		return nil, fmt.Errorf("%s %s: %w", key, path, err)
	}
	sum := sha256.Sum256(data)
	exs, rep := parseJSONL(data, path)
	f := &File{Path: path, SHA256: hex.EncodeToString(sum[:]), Examples: exs, Report: rep}
	f.Drop(func(ex Example) string {
		t, ok := Detect(ex.Question)
		if !ok {
			return ""
		}
		if !t.CheckAnswer(ex.Question, ex.Solution) {
			return fmt.Sprintf("solution %q is not the answer to this %s question", clip(ex.Solution, 40), t.Name())
		}
		return ""
	})
	for i := range f.Examples {
		if t, ok := Detect(f.Examples[i].Question); ok {
			f.Examples[i].Task = t.Name()
		}
	}
	notText, fix := record.NotText(data)
	switch {
	case rep.Rows == 0:
		return nil, fmt.Errorf("%s %s: no rows: the file is empty (want JSON Lines, one object a line)", key, path)
	case len(f.Examples) == 0 && notText != "":
		return nil, fmt.Errorf("%s %s: %s: %s", key, path, notText, fix)
	case len(f.Examples) == 0 && record.LooksCSV(data):
		return nil, fmt.Errorf("%s %s: this is CSV, not JSON Lines: write one object a line, {\"question\": …, \"solution\": …} (e.g. %s)", key, path, pandasToJSONL("read_csv", path, "out.jsonl"))
	case len(f.Examples) == 0 && noneJSON(rep):
		// A TOML or other text file: its every line's syntax error says
		// less than that the file is not JSON Lines at all. The first
		// line's reason without its own word on what a row is, which
		// this message ends with.
		first, _, _ := strings.Cut(rep.Skipped[0].Reason, "; want ")
		return nil, fmt.Errorf("%s %s: not JSON Lines: none of its %d lines is a JSON object (line %d: %s): give the file of rows, one JSON object a line, {\"question\": …, \"solution\": …}", key, path, rep.Rows, rep.Skipped[0].Line, first)
	case len(f.Examples) == 0:
		return nil, fmt.Errorf("%s %s: no usable rows: %s", key, path, f.Report.Summary(5))
	}
	return f, nil
}

// parquetMagic starts every Parquet file (and ends a whole one).
var parquetMagic = []byte("PAR1")

// notParquet says that the data file at path is Parquet, with how to write
// it as JSON Lines: verl's datasets are Parquet, and so is rlt export
// --format parquet. It was said as a binary file ("a weights or other
// binary file?"), or as its first line not JSON ('P' at byte 1).
func notParquet(path string) string {
	return fmt.Sprintf(`this is a Parquet file, not JSON Lines: write it as JSON Lines, one row a line (e.g. %s; a file of `+shell.Program()+` export: export it again with --format messages), then give that file`, pandasToJSONL("read_parquet", path, "rows.jsonl"))
}

// pandasToJSONL is a python3 command that reads the file at path with
// pandas' reader (read_parquet, read_csv) and writes its rows as JSON
// Lines to out. The path is the command's argument (sys.argv[1]), quoted
// for the shell (shell.Quote): written inside the Python string, a name
// holding ', " or $ broke the command or read another file.
func pandasToJSONL(reader, path, out string) string {
	return `python3 -c "import pandas as p, sys; p.` + reader + `(sys.argv[1]).to_json('` + out + `', orient='records', lines=True, force_ascii=False)" ` + shell.Quote(path)
}

// noneJSON reports whether rep skipped every row, and more than one, as
// not JSON or not a JSON object.
func noneJSON(rep Report) bool {
	if rep.Rows < 2 || len(rep.Skipped) != rep.Rows {
		return false
	}
	for _, s := range rep.Skipped {
		if !strings.HasPrefix(s.Reason, "not JSON") && s.Reason != "not a JSON object" {
			return false
		}
	}
	return true
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// LeaveOut takes the rows out of f that out says and returns their lines,
// in file order. They are no longer counted among its rows (f.Report's Rows
// and Kept), nor as skips: a reader's own choice of the file's rows (rlt
// distill --reference's samples not kept, a question asked again), said
// once by the reader, not a fault of each line as Drop records it.
func (f *File) LeaveOut(out func(Example) bool) []int {
	var lines []int
	kept := make([]Example, 0, len(f.Examples))
	for _, ex := range f.Examples {
		if out(ex) {
			lines = append(lines, ex.Line)
			continue
		}
		kept = append(kept, ex)
	}
	f.Examples = kept
	f.Report.Rows -= len(lines)
	f.Report.Kept -= len(lines)
	return lines
}

// Repeated is a test, for LeaveOut, of a row asking an earlier row's
// question with its solution (the rows it has been asked of, in order;
// each call a new test). A reader whose teacher writes its own explanation
// from a row's question and solution alone (rlt train, rlt distill without
// --reference) takes such a row as the same question again: rlt distill
// --samples-out's file holds each question once per sample, N times at
// --best-of N, and a question's kept marks are of its samples'
// explanations, which that teacher does not read.
func Repeated() func(Example) bool {
	repeated := record.Repeated()
	return func(ex Example) bool { return repeated(ex.Question, ex.Solution) }
}

// Drop leaves out the examples for which reason says why, recording each
// as a skip of its line.
func (f *File) Drop(reason func(Example) string) {
	f.Examples = f.Report.Drop(f.Examples, reason)
}

// Drop returns exs without the examples for which reason says why (a new
// slice; exs is not modified), recording each as a skip of its line in r,
// whose skips stay in line order.
func (r *Report) Drop(exs []Example, reason func(Example) string) []Example {
	kept := make([]Example, 0, len(exs))
	added := false
	for _, ex := range exs {
		if why := reason(ex); why != "" {
			r.Skipped = append(r.Skipped, Skip{Line: ex.Line, Reason: why})
			r.Kept--
			added = true
			continue
		}
		kept = append(kept, ex)
	}
	if added {
		sort.SliceStable(r.Skipped, func(i, j int) bool { return r.Skipped[i].Line < r.Skipped[j].Line })
	}
	return kept
}

// Summary is the report's counts with at most max skipped lines spelled
// out (String lists them all).
func (r Report) Summary(max int) string {
	s := fmt.Sprintf("%s, %d kept, %d skipped", jsonerr.Rows(r.Rows), r.Kept, len(r.Skipped))
	if len(r.Skipped) > 0 {
		s += ": " + r.SkipList(max)
	}
	return s
}

// SkipList lists at most max skipped lines with their reasons, then how
// many more there are.
func (r Report) SkipList(max int) string {
	var b strings.Builder
	said := map[string]bool{}
	for i, s := range r.Skipped {
		if i == max {
			fmt.Fprintf(&b, "; and %d more", len(r.Skipped)-max)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(s.listed(said))
	}
	return b.String()
}

// QuestionKey is a question's identity for held-out splits and
// de-duplication: the task's split key for a synthetic task's question (so
// a+b and b+a are one question), else its text with each run of white space
// made one space.
func QuestionKey(question string) string {
	if t, ok := Detect(question); ok {
		k, _ := t.SplitKey(question)
		return t.Name() + ":" + k
	}
	return "text:" + collapseSpace(question)
}

// collapseSpace is strings.Join(strings.Fields(s), " ") in one pass and
// one allocation: every question of a data file is keyed, and the two
// copies took most of the hold-out split's time on a large file.
func collapseSpace(s string) string {
	b := make([]byte, 0, len(s))
	pending := false // a run of space since the last word
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if asciiSpace[c] {
				pending, i = true, i+1
				continue
			}
			if pending && len(b) > 0 {
				b = append(b, ' ')
			}
			b, pending, i = append(b, c), false, i+1
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			pending, i = true, i+n
			continue
		}
		if pending && len(b) > 0 {
			b = append(b, ' ')
		}
		b, pending, i = append(b, s[i:i+n]...), false, i+n
	}
	return string(b)
}

// asciiSpace are the ASCII bytes strings.Fields splits at.
var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// DataHeldOut is the fraction of a data file's distinct questions held out
// for evaluation when no separate evaluation file is given.
const DataHeldOut = 0.05

// HoldOut splits rows into training and held-out rows by question: of the K
// distinct questions (QuestionKey), the ceil(frac·K) whose keys hash lowest
// are held out with every row that asks them — at least one when K ≥ 2,
// never all, none when K = 1. The split depends only on the questions, not
// on their order, their count of rows or any seed. Both results keep the
// input order.
func HoldOut(exs []Example, frac float64) (train, heldOut []Example) {
	keys := make([]string, len(exs))
	hashes := map[string]uint64{}
	for i, ex := range exs {
		keys[i] = QuestionKey(ex.Question)
		hashes[keys[i]] = keyHash("data", keys[i])
	}
	k := len(hashes)
	if k < 2 {
		return append([]Example(nil), exs...), nil
	}
	n := int(float64(k)*frac + 0.999999)
	n = min(max(n, 1), k-1)
	distinct := make([]string, 0, k)
	for key := range hashes {
		distinct = append(distinct, key)
	}
	sort.Slice(distinct, func(i, j int) bool {
		hi, hj := hashes[distinct[i]], hashes[distinct[j]]
		return hi < hj || (hi == hj && distinct[i] < distinct[j])
	})
	held := make(map[string]bool, n)
	for _, key := range distinct[:n] {
		held[key] = true
	}
	for i, ex := range exs {
		if held[keys[i]] {
			heldOut = append(heldOut, ex)
		} else {
			train = append(train, ex)
		}
	}
	return train, heldOut
}

// Distinct returns one row per question (the first in input order), in an
// order fixed by the questions alone (their key hashes), so the first n are
// the same n questions whatever the file's row order.
func Distinct(exs []Example) []Example {
	type keyed struct {
		h   uint64
		key string
		ex  Example
	}
	seen := map[string]bool{}
	var ks []keyed
	for _, ex := range exs {
		key := QuestionKey(ex.Question)
		if seen[key] {
			continue
		}
		seen[key] = true
		ks = append(ks, keyed{keyHash("data", key), key, ex})
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].h < ks[j].h || (ks[i].h == ks[j].h && ks[i].key < ks[j].key) })
	out := make([]Example, len(ks))
	for i, k := range ks {
		out[i] = k.ex
	}
	return out
}

// CheckSolution reports whether answer is right for ex: by the example's
// task's checker when it has one (Example.Task), else by exact match with
// its solution after NormalizeAnswer on both sides.
func CheckSolution(ex Example, answer string) bool {
	if t, ok := Lookup(ex.Task); ok {
		return t.CheckAnswer(ex.Question, answer)
	}
	return NormalizeAnswer(answer) == NormalizeAnswer(ex.Solution)
}
