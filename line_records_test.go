package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestEveryInputLineIsAnswered: rlt tokenize and rlt logprobs answer every
// stdin line with one stdout line, in order, so that the Nth output is the
// Nth input's: a blank line (empty, spaces alone, a CRLF file's empty
// line) is answered by an error record saying it is blank, and the exit
// status is 1, as for any line that cannot be read. A blank line was
// passed over, writing nothing, and each result after it stood a line
// above the input it answered.
func TestEveryInputLineIsAnswered(t *testing.T) {
	model := tinyFolder(t, "f32")
	stdin := "{\"text\": \"1+1\"}\n\n   \t\n\r\n{\"text\": \"22\"}\n"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"tokenize", "--tokenizer", model}, `{"text": "347+285=?"}`},
		{[]string{"logprobs", "--model", model, "--device", "cpu"}, `{"text": "347+285=?"} or {"ids": [18, 19]}`},
	} {
		code, stdout, errs := runCLI(t, stdin, c.args...)
		lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		blank := func(n int) string {
			return errorLine(n, fmt.Sprintf("line %d is blank: want one JSON object a line, such as %s", n, c.want))
		}
		want := []string{"", blank(2), blank(3), blank(4), ""} // "": answered
		if code != 1 || len(lines) != len(want) {
			t.Fatalf("rlt %v: exit %d, %d lines; want exit 1 and %d, one a line:\n%s\n%s", c.args, code, len(lines), len(want), stdout, errs)
		}
		for i, w := range want {
			if w == "" && (strings.HasPrefix(lines[i], `{"line"`) || !strings.HasPrefix(lines[i], `{"ids":`)) || w != "" && lines[i] != w {
				t.Errorf("rlt %v line %d: %s\nwant %s", c.args, i+1, lines[i], w)
			}
		}
		if !strings.HasSuffix(strings.TrimSpace(errs), "3 input lines failed (see their error records)") {
			t.Errorf("rlt %v: stderr %q; want it to count the 3 blank lines", c.args, errs)
		}
	}
}

// TestNullFieldSaidAsNull: a line whose "text" (or "ids") is JSON null is
// said to hold null, with what to write instead, not to miss the field:
// {"text": null} read as if the key were not there ('missing "text"'),
// which sent the user looking for a key they had written. A null beside
// a field that has a value is still passed over, as the key alone would
// be.
func TestNullFieldSaidAsNull(t *testing.T) {
	model := tinyFolder(t, "f32")
	tokenize := []string{"tokenize", "--tokenizer", model}
	logprobs := []string{"logprobs", "--model", model, "--device", "cpu"}
	for _, c := range []struct {
		args []string
		line string
		want string // the line's error; "" for a result
	}{
		{tokenize, `{"text": null}`, `field "text" is null where text is wanted: write the text as a JSON string, such as {"text": "347+285=?"}`},
		{tokenize, `{"Text": null}`, `field "text" is null where text is wanted: write the text as a JSON string, such as {"text": "347+285=?"}`},
		{tokenize, `{"text": null, "ids": [1]}`, `field "text" is null where text is wanted: write the text as a JSON string, such as {"text": "347+285=?"}`},
		{tokenize, `{}`, `missing "text"`},
		{logprobs, `{"text": null}`, `field "text" is null where text is wanted: write the text as a JSON string, such as {"text": "347+285=?"}, or give the token ids as {"ids": [18, 19]}`},
		{logprobs, `{"ids": null}`, `field "ids" is null where a list of token ids is wanted: write them as a list, such as {"ids": [18, 19]}, or give the text as {"text": "347+285=?"}`},
		{logprobs, `{"text": null, "ids": null}`, `fields "text" and "ids" are null: give one of them, the text as a JSON string ({"text": "347+285=?"}) or the token ids as a list ({"ids": [18, 19]})`},
		{logprobs, `{}`, `missing "text" or "ids"`},
		{logprobs, `{"text": null, "ids": [1, 2]}`, ""},
		{logprobs, `{"text": "1+1", "ids": null}`, ""},
	} {
		code, stdout, errs := runCLI(t, c.line+"\n", c.args...)
		got := strings.TrimSuffix(stdout, "\n")
		switch {
		case c.want == "" && (code != 0 || !strings.HasPrefix(got, `{"ids":`)):
			t.Errorf("rlt %s < %s: exit %d, %s %s; want a result", c.args[0], c.line, code, got, errs)
		case c.want != "" && (code != 1 || got != errorLine(1, c.want)):
			t.Errorf("rlt %s < %s: exit %d\n%s\nwant exit 1 and\n%s", c.args[0], c.line, code, got, errorLine(1, c.want))
		}
	}
}
