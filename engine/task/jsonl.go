package task

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
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

// ReadJSONL reads user data, one JSON object a line, in either layout:
//
//   - RLT rows: "question" (or "prompt", as the official RLT code names it),
//     "solution", optional "reasoning_trace" (becomes Example.Reference) and
//     optional "id";
//   - Bespoke-Stratos rows: "conversations" with a user turn (the question)
//     and an assistant turn "<|begin_of_thought|>E<|end_of_thought|>\n\n
//     <|begin_of_solution|>S<|end_of_solution|>" (E becomes the Reference);
//     "system" is ignored.
//
// Questions and solutions are trimmed of surrounding space; explanations are
// kept verbatim. A row is skipped, with its line number and reason in the
// report, when it is not a JSON object, misses a field, has an empty
// question or solution, or carries a reserved tag (ContainsRLTTag) in its
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

// parseRow returns the example of one row, or the reason it is skipped.
func parseRow(raw []byte, line int) (Example, string) {
	if !json.Valid(raw) {
		var v any
		err := json.Unmarshal(raw, &v)
		msg := "invalid"
		if err != nil {
			msg = err.Error()
		}
		return Example{}, "not JSON: " + msg
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return Example{}, "not a JSON object"
	}
	ex := Example{ID: "row" + strconv.Itoa(line), Line: line}
	if id, present, reason := stringField(m, "id"); reason == "" && present && id != "" {
		ex.ID = id
	}
	if _, ok := m["conversations"]; ok {
		return parseConversations(m, ex)
	}
	q, qok, reason := stringField(m, "question")
	if reason != "" {
		return Example{}, reason
	}
	p, pok, reason := stringField(m, "prompt")
	if reason != "" {
		return Example{}, reason
	}
	switch {
	case qok && pok && strings.TrimSpace(q) != strings.TrimSpace(p):
		return Example{}, `fields "question" and "prompt" both present and different`
	case !qok && !pok:
		return Example{}, `missing field "question" (or "prompt")`
	case !qok:
		q = p
	}
	sol, sok, reason := stringField(m, "solution")
	if reason != "" {
		return Example{}, reason
	}
	if !sok {
		return Example{}, `missing field "solution"`
	}
	trace, _, reason := stringField(m, "reasoning_trace")
	if reason != "" {
		return Example{}, reason
	}
	ex.Question, ex.Solution, ex.Reference = strings.TrimSpace(q), strings.TrimSpace(sol), trace
	return ex, checkExample(ex, "reasoning_trace")
}

// stringField reads an optional string field; null counts as absent.
func stringField(m map[string]json.RawMessage, key string) (val string, present bool, reason string) {
	raw, ok := m[key]
	if !ok || string(raw) == "null" {
		return "", false, ""
	}
	if err := json.Unmarshal(raw, &val); err != nil {
		return "", false, fmt.Sprintf("field %q is not a string", key)
	}
	return val, true, ""
}

// checkExample applies the emptiness and reserved-tag rules.
func checkExample(ex Example, traceName string) string {
	if ex.Question == "" {
		return "empty question"
	}
	if ex.Solution == "" {
		return "empty solution"
	}
	if tag, ok := ContainsRLTTag(ex.Question); ok {
		return "question contains reserved tag " + tag
	}
	if tag, ok := ContainsRLTTag(ex.Solution); ok {
		return "solution contains reserved tag " + tag
	}
	if tag, ok := ContainsRLTTag(ex.Reference); ok {
		return traceName + " contains reserved tag " + tag
	}
	return ""
}

type turn struct {
	From  string `json:"from"`
	Value string `json:"value"`
}

func parseConversations(m map[string]json.RawMessage, ex Example) (Example, string) {
	var turns []turn
	if err := json.Unmarshal(m["conversations"], &turns); err != nil {
		return Example{}, `"conversations" is not a list of {"from", "value"} turns`
	}
	user, asst := -1, -1
	for i, t := range turns {
		switch strings.ToLower(t.From) {
		case "user", "human":
			if user < 0 {
				user = i
			}
		case "assistant", "gpt":
			if user >= 0 && asst < 0 {
				asst = i
			}
		}
	}
	if user < 0 {
		return Example{}, "conversations: no user turn"
	}
	if asst < 0 {
		return Example{}, "conversations: no assistant turn after the user turn"
	}
	ex.Question = strings.TrimSpace(turns[user].Value)
	if tag, ok := ContainsRLTTag(ex.Question); ok {
		return Example{}, "question contains reserved tag " + tag
	}
	expl, sol, err := ParseStratosAssistant(turns[asst].Value)
	if err != nil {
		return Example{}, "assistant turn: " + err.Error()
	}
	ex.Solution, ex.Reference = strings.TrimSpace(sol), expl
	return ex, checkExample(ex, "thought")
}

// StratosAssistant formats the assistant turn of a Bespoke-Stratos row
// (RLT.md §5): "<|begin_of_thought|>" + explanation + "<|end_of_thought|>\n\n"
// + "<|begin_of_solution|>" + solution + "<|end_of_solution|>".
func StratosAssistant(explanation, solution string) string {
	return TagBeginThought + explanation + TagEndThought + "\n\n" + TagBeginSolution + solution + TagEndSolution
}

// ParseStratosAssistant splits an assistant turn made by StratosAssistant
// into its explanation and solution. The thought section is optional (its
// absence gives an empty explanation); only white space may lie outside the
// sections, and the sections may not contain other reserved tags.
func ParseStratosAssistant(s string) (explanation, solution string, err error) {
	rest := strings.TrimSpace(s)
	if strings.HasPrefix(rest, TagBeginThought) {
		body, after, ok := strings.Cut(rest[len(TagBeginThought):], TagEndThought)
		if !ok {
			return "", "", errors.New("no " + TagEndThought + " after " + TagBeginThought)
		}
		explanation, rest = body, strings.TrimSpace(after)
	}
	if !strings.HasPrefix(rest, TagBeginSolution) {
		if strings.Contains(rest, TagBeginSolution) {
			return "", "", errors.New("text before " + TagBeginSolution)
		}
		return "", "", errors.New("no " + TagBeginSolution + "…" + TagEndSolution + " section")
	}
	solution, after, ok := strings.Cut(rest[len(TagBeginSolution):], TagEndSolution)
	if !ok {
		return "", "", errors.New("no " + TagEndSolution + " after " + TagBeginSolution)
	}
	if strings.TrimSpace(after) != "" {
		return "", "", errors.New("text after " + TagEndSolution)
	}
	if tag, ok := ContainsRLTTag(explanation); ok {
		return "", "", errors.New("thought contains reserved tag " + tag)
	}
	if tag, ok := ContainsRLTTag(solution); ok {
		return "", "", errors.New("solution contains reserved tag " + tag)
	}
	return explanation, solution, nil
}

// stratosRow is one Bespoke-Stratos record; field order as in the dataset.
type stratosRow struct {
	System        string `json:"system"`
	Conversations []turn `json:"conversations"`
}

// StratosWriter writes Bespoke-Stratos `conversations` rows, one JSON object
// a line: the distillation output format (RLT.md §5). Each Write is one
// w.Write call; wrap w in a bufio.Writer for many small rows.
type StratosWriter struct {
	w      io.Writer
	system string
	buf    bytes.Buffer
	enc    *json.Encoder
}

// NewStratosWriter returns a writer whose rows carry the given system prompt.
func NewStratosWriter(w io.Writer, system string) *StratosWriter {
	sw := &StratosWriter{w: w, system: system}
	sw.enc = json.NewEncoder(&sw.buf)
	sw.enc.SetEscapeHTML(false)
	return sw
}

// Write writes one row. It refuses (writing nothing) a question, explanation
// or solution that contains a reserved tag, or an empty question or solution,
// since such a row could not be read back as written.
func (sw *StratosWriter) Write(question, explanation, solution string) error {
	switch {
	case strings.TrimSpace(question) == "":
		return errors.New("task: stratos row: empty question")
	case strings.TrimSpace(solution) == "":
		return errors.New("task: stratos row: empty solution")
	}
	// The system prompt may name the thought and solution tags (the real
	// Bespoke-Stratos prompt does: it tells the student the format), but not
	// ChatML's markers, which would end its turn early.
	for _, t := range []string{TagIMStart, TagIMEnd, TagEndOfText} {
		if strings.Contains(sw.system, t) {
			return fmt.Errorf("task: stratos row: system prompt contains ChatML marker %s", t)
		}
	}
	for _, f := range []struct{ name, val string }{
		{"question", question}, {"explanation", explanation}, {"solution", solution},
	} {
		if tag, ok := ContainsRLTTag(f.val); ok {
			return fmt.Errorf("task: stratos row: %s contains reserved tag %s", f.name, tag)
		}
	}
	sw.buf.Reset()
	err := sw.enc.Encode(stratosRow{
		System: sw.system,
		Conversations: []turn{
			{From: "user", Value: question},
			{From: "assistant", Value: StratosAssistant(explanation, solution)},
		},
	})
	if err != nil {
		return fmt.Errorf("task: stratos row: %w", err)
	}
	if _, err := sw.w.Write(sw.buf.Bytes()); err != nil {
		return fmt.Errorf("task: stratos row: %w", err)
	}
	return nil
}

// WriteStratos writes one row per example, with the example's Reference as
// the explanation.
func WriteStratos(w io.Writer, system string, exs []Example) error {
	bw := bufio.NewWriter(w)
	sw := NewStratosWriter(bw, system)
	for i, ex := range exs {
		if err := sw.Write(ex.Question, ex.Reference, ex.Solution); err != nil {
			return fmt.Errorf("example %d (%s): %w", i, ex.ID, err)
		}
	}
	return bw.Flush()
}
