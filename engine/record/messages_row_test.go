package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
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

// TestMessagesRowWithoutASystemPrompt: with an empty system prompt a
// messages row has no system turn, [user, assistant], and reads back as
// the same row with no system prompt. It carried {"role": "system",
// "content": ""}, which TRL's and verl's chat templates write as an empty
// system block in place of the tokenizer's default system prompt
// (Qwen2.5's "You are Qwen, …" where the first turn is not a system one).
// A prompt that is not empty is still the first turn.
func TestMessagesRowWithoutASystemPrompt(t *testing.T) {
	for _, c := range []struct {
		system string
		roles  string
	}{
		{"", "user assistant"},
		{"Solve: thought, then solution.", "system user assistant"},
		{" ", "system user assistant"}, // a prompt of a space is the rows' own: kept as written
	} {
		var b bytes.Buffer
		if err := NewMessagesWriter(&b, c.system).Write("2+3=?", "Add 2 and 3.", "5"); err != nil {
			t.Fatal(err)
		}
		var row struct{ Messages []Message }
		if err := json.Unmarshal(b.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		var roles []string
		for _, m := range row.Messages {
			roles = append(roles, m.Role)
			if m.Role == "system" && m.Content != c.system {
				t.Errorf("system %q: the system turn holds %q", c.system, m.Content)
			}
		}
		if got := strings.Join(roles, " "); got != c.roles {
			t.Errorf("system %q: the row's turns are %s, want %s: %s", c.system, got, c.roles, b.Bytes())
		}
		got, err := ParseRow(b.Bytes())
		if err != nil {
			t.Fatalf("system %q: the row %s: %v", c.system, b.Bytes(), err)
		}
		if got.System != c.system || got.Question != "2+3=?" || got.Explanation != "Add 2 and 3." || got.Solution != "5" {
			t.Errorf("system %q: read back as %+v", c.system, got)
		}
	}
}
