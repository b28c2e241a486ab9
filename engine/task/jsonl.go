package task

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/rlt-workbench/rlt/engine/record"
)

// Skip is a row the reader left out, with its 1-based line number.
type Skip struct {
	Line   int
	Reason string
}

func (s Skip) String() string { return "line " + strconv.Itoa(s.Line) + ": " + s.Reason }

// Report tells what a read kept and what it skipped. Blank lines are not rows.
type Report struct {
	Rows    int // non-blank lines
	Kept    int
	Skipped []Skip
}

func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d rows, %d kept, %d skipped", r.Rows, r.Kept, len(r.Skipped))
	for _, s := range r.Skipped {
		b.WriteString("\n  ")
		b.WriteString(s.String())
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
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		out []Example
		rep Report
	)
	for line := 1; ; line++ {
		raw, err := br.ReadBytes('\n')
		if len(raw) > 0 {
			if line == 1 {
				raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
			}
			raw = bytes.TrimSpace(raw)
			if len(raw) > 0 {
				rep.Rows++
				ex, reason := parseRow(raw, line)
				if reason != "" {
					rep.Skipped = append(rep.Skipped, Skip{Line: line, Reason: reason})
				} else {
					rep.Kept++
					out = append(out, ex)
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return out, rep, nil
		}
		if err != nil {
			return out, rep, fmt.Errorf("task: reading JSON Lines at line %d: %w", line, err)
		}
	}
}

// parseRow returns the example of one row (record.ParseRow, then the data
// rules: trimmed question and solution, neither empty, no reserved tag in
// them or in the explanation), or the reason it is skipped.
func parseRow(raw []byte, line int) (Example, string) {
	r, err := record.ParseRow(raw)
	if err != nil {
		return Example{}, err.Error()
	}
	ex := Example{ID: "row" + strconv.Itoa(line), Line: line}
	if r.ID != "" {
		ex.ID = r.ID
	}
	ex.Question, ex.Solution, ex.Reference = strings.TrimSpace(r.Question), strings.TrimSpace(r.Solution), r.Explanation
	name := r.ExplanationFrom
	if r.Stratos {
		name = "thought"
	}
	return ex, checkExample(ex, name)
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
