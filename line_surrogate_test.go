package main

import (
	"strings"
	"testing"
)

// TestLoneSurrogateRefused: a "text" holding an escape of half a UTF-16
// surrogate pair without its other half (\udc00) was tokenized as U+FFFD
// ("�"), encoding/json's reading, where Hugging Face tokenizers refuses
// it (Python's json reads it into a str that cannot be encoded as UTF-8):
// rlt tokenize and rlt logprobs refuse the line, naming the escape. A
// whole pair, and an escaped backslash before "udc00", are text.
func TestLoneSurrogateRefused(t *testing.T) {
	model := tinyFolder(t, "f32")
	tokenize := []string{"tokenize", "--tokenizer", model}
	logprobs := []string{"logprobs", "--model", model, "--device", "cpu"}
	const why = `, half of a UTF-16 surrogate pair without its other half: no character, which Hugging Face tokenizers refuses (Python reads it but cannot encode it as UTF-8); write the character itself, or both halves of its pair (\ud83d\ude00 for U+1F600)`
	for _, c := range []struct {
		args []string
		line string
		want string // the line's error; "" for a result
	}{
		{tokenize, `{"text": "a\udc00b"}`, `field "text" holds \udc00` + why},
		{tokenize, `{"text": "1+1\uD83D"}`, `field "text" holds \uD83D` + why},
		{tokenize, `{"text": "\ud83d\u0041"}`, `field "text" holds \ud83d` + why},
		{tokenize, `{"text": "\ud83d\ude00\udc00"}`, `field "text" holds \udc00` + why},
		{tokenize, `{"Text": "\udfff"}`, `field "text" holds \udfff` + why},
		{logprobs, `{"text": "1\udc00"}`, `field "text" holds \udc00` + why},
		{tokenize, `{"text": "\ud83d\ude00"}`, ""},
		{tokenize, `{"text": "\\udc00 \u00e9"}`, ""},
		{tokenize, `{"text": "1+1", "note": "\udc00"}`, ""},
		{logprobs, `{"text": "1+1\u0041"}`, ""},
	} {
		code, stdout, errs := runCLI(t, c.line+"\n", c.args...)
		got := strings.TrimSuffix(stdout, "\n")
		switch {
		case c.want == "" && (code != 0 || !strings.HasPrefix(got, `{"`) || strings.Contains(got, `"error"`)):
			t.Errorf("rlt %s < %s: exit %d, %s %s; want a result", c.args[0], c.line, code, got, errs)
		case c.want != "" && (code != 1 || got != errorLine(1, c.want)):
			t.Errorf("rlt %s < %s: exit %d\n%s\nwant exit 1 and\n%s", c.args[0], c.line, code, got, errorLine(1, c.want))
		}
	}
}
