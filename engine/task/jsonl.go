package task

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/rlt-workbench/rlt/engine/jsonerr"
	"github.com/rlt-workbench/rlt/engine/record"
)

// Skip is a row the reader left out, with its 1-based line number.
type Skip struct {
	Line   int
	Reason string
	// Fix, where not "", follows Reason with what to do about every row of
	// this one's shape, with the command that rewrites the file
	// (record.RowError.Fix): a report's lists say it once, at the first
	// line it follows, as a file of GSM8K rows had it at each.
	Fix string
}

func (s Skip) String() string { return "line " + strconv.Itoa(s.Line) + ": " + s.Reason + s.Fix }

// listed is s as a report's list says it: its Fix only the first time,
// said then added to said.
func (s Skip) listed(said map[string]bool) string {
	if said[s.Fix] {
		return "line " + strconv.Itoa(s.Line) + ": " + s.Reason
	}
	said[s.Fix] = true
	return s.String()
}

// Report tells what a read kept and what it skipped. Blank lines are not rows.
type Report struct {
	Rows    int // non-blank lines
	Kept    int
	Skipped []Skip
}

func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %d kept, %d skipped", jsonerr.Rows(r.Rows), r.Kept, len(r.Skipped))
	said := map[string]bool{}
	for _, s := range r.Skipped {
		b.WriteString("\n  ")
		b.WriteString(s.listed(said))
	}
	return b.String()
}

// ReadJSONL reads user data, one JSON object a line, in either layout of
// record.ParseRow (flat or Bespoke-Stratos); a row's explanation, if any,
// becomes Example.Reference.
//
// Questions and solutions are trimmed of surrounding space; explanations are
// kept verbatim. A row is skipped, with its line number and reason in the
// report, when it is not a JSON object, misses a field, has an empty
// question or solution, or carries a reserved tag (record.ContainsTag) in its
// question, solution or explanation. The error is only for I/O failures.
func ReadJSONL(r io.Reader) ([]Example, Report, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, Report{}, fmt.Errorf("task: reading JSON Lines: %w", err)
	}
	exs, rep := parseJSONL(data, "")
	return exs, rep, nil
}

// parseJSONL is ReadJSONL of data in memory, read from the file path
// ("" where not known: a fix then says FILE). The rows are parsed on every
// core, a run of lines each, and put back in the file's order: a real
// data file is hundreds of megabytes, and parsing it one row after
// another took seconds of a run's start.
func parseJSONL(data []byte, path string) ([]Example, Report) {
	fixIn, fixOut := record.FixFiles(path)
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	lines := make([][]byte, 0, bytes.Count(data, []byte("\n"))+1) // every line, its number its index + 1
	for len(data) > 0 {
		line, rest, _ := bytes.Cut(data, []byte("\n"))
		lines, data = append(lines, line), rest
	}
	type parsed struct {
		ex          Example
		reason, fix string
		blank       bool
	}
	out := make([]parsed, len(lines))
	workers := min(runtime.GOMAXPROCS(0), max(1, len(lines)/256))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				raw := bytes.TrimSpace(lines[i])
				if len(raw) == 0 {
					out[i].blank = true
					continue
				}
				out[i].ex, out[i].reason, out[i].fix = parseRow(raw, i+1, fixIn, fixOut)
			}
		}(w*len(lines)/workers, (w+1)*len(lines)/workers)
	}
	wg.Wait()
	var (
		exs []Example
		rep Report
	)
	for i, p := range out {
		switch {
		case p.blank:
		case p.reason != "":
			rep.Rows++
			rep.Skipped = append(rep.Skipped, Skip{Line: i + 1, Reason: p.reason, Fix: p.fix})
		default:
			rep.Rows++
			rep.Kept++
			exs = append(exs, p.ex)
		}
	}
	return exs, rep
}

// parseRow returns the example of one row (record.ParseRow, then the data
// rules: trimmed question and solution, neither empty, no reserved tag in
// them or in the explanation), or the reason it is skipped and what to do
// about every row of its shape (record.RowError.Fix), the file fixIn
// rewritten as fixOut.
func parseRow(raw []byte, line int, fixIn, fixOut string) (ex Example, reason, fix string) {
	r, err := record.ParseRow(raw)
	if re, ok := err.(*record.RowError); ok && re.Fix != nil {
		return Example{}, re.Msg, re.Fix(fixIn, fixOut)
	}
	if err != nil {
		return Example{}, err.Error(), ""
	}
	ex = Example{ID: "row" + strconv.Itoa(line), Line: line}
	if r.ID != "" {
		ex.ID = r.ID
	}
	ex.Question, ex.Solution, ex.Reference = strings.TrimSpace(r.Question), strings.TrimSpace(r.Solution), r.Explanation
	ex.Cut, ex.NotKept, ex.Kept = r.Cut, r.NotKept, r.Kept
	name := r.ExplanationFrom
	if r.Stratos {
		name = "thought"
	}
	return ex, checkExample(ex, name), ""
}

// checkExample applies the emptiness and reserved-tag rules.
func checkExample(ex Example, traceName string) string {
	if ex.Question == "" {
		return "empty question"
	}
	if ex.Solution == "" {
		return "empty solution"
	}
	if tag, ok := record.ContainsTag(ex.Question); ok {
		return "question contains reserved tag " + tag
	}
	if tag, ok := record.ContainsTag(ex.Solution); ok {
		return "solution contains reserved tag " + tag
	}
	if tag, ok := record.ContainsTag(ex.Reference); ok {
		return traceName + " contains reserved tag " + tag
	}
	return ""
}

// WriteStratos writes one Bespoke-Stratos row per example
// (record.StratosWriter), with the example's Reference as the explanation.
func WriteStratos(w io.Writer, system string, exs []Example) error {
	bw := bufio.NewWriter(w)
	sw := record.NewStratosWriter(bw, system)
	for i, ex := range exs {
		if err := sw.Write(ex.Question, ex.Reference, ex.Solution); err != nil {
			return fmt.Errorf("example %d (%s): %w", i, ex.ID, err)
		}
	}
	return bw.Flush()
}
