package record

import (
	"bytes"
	"errors"
	"testing"
)

// TestMessagesRowsReadAsTheirStratosRow: a row rlt export --format
// messages writes is read by every rlt reader of rows (ParseRow: rlt
// distill --data, rlt eval, rlt train, rlt import, rlt score) as the
// Stratos row of the same texts, its system turn the row's system prompt.
// They took it for a flat row without a question (`missing field
// "question" (or "prompt")`), so the rows just exported for TRL could not
// be distilled or scored here.
func TestMessagesRowsReadAsTheirStratosRow(t *testing.T) {
	for _, c := range []struct{ name, q, e, s string }{
		{"with an explanation", "2+3=?", "Add 2 and 3.", "5"},
		{"empty explanation", "7-4=?", "", "3"},
		{"quotes and newlines", "Say \"hi\"\nthen stop", "Line one.\n\nLine two.", "hi"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var sb, mb bytes.Buffer
			if err := NewStratosWriter(&sb, "Solve: thought, then solution.").Write(c.q, c.e, c.s); err != nil {
				t.Fatal(err)
			}
			if err := NewMessagesWriter(&mb, "Solve: thought, then solution.").Write(c.q, c.e, c.s); err != nil {
				t.Fatal(err)
			}
			want, err := ParseRow(sb.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseRow(mb.Bytes())
			if err != nil {
				t.Fatalf("the messages row %s: %v", mb.Bytes(), err)
			}
			if want.ExplanationFrom != "" { // the thought came from the row's own field
				want.ExplanationFrom = "messages"
			}
			if got != want {
				t.Errorf("the messages row reads\n%+v\nits Stratos row\n%+v", got, want)
			}
		})
	}
	for _, c := range []struct{ name, row, msg string }{
		{"no user turn", `{"messages":[{"role":"system","content":"S"},{"role":"assistant","content":"<|begin_of_solution|>5<|end_of_solution|>"}]}`, "messages: no user turn"},
		{"not turns", `{"messages":"hello"}`, `"messages" is not a list of {"role", "content"} turns`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseRow([]byte(c.row))
			var re *RowError
			if !errors.As(err, &re) || re.Field != "messages" || re.Msg != c.msg {
				t.Errorf("ParseRow(%s): %v, want %q of field messages", c.row, err, c.msg)
			}
		})
	}
	// A flat row keeps its question, whatever else it carries.
	r, err := ParseRow([]byte(`{"question":"2+3=?","solution":"5","messages":[1]}`))
	if err != nil || r.Question != "2+3=?" || r.Stratos {
		t.Errorf("a flat row with a messages field read %+v (%v)", r, err)
	}
}
