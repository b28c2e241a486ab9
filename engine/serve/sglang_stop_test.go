package serve

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/rlt"
)

// TestGenerateStop: SGLang's sampling_params "stop", a string or a list
// of them, is read as SGLang reads it (SamplingParams.normalize tokenizes
// each, whatever max_new_tokens): one of another shape, a list holding
// null or a number, or a string holding half a UTF-16 surrogate pair is
// refused with a 400 naming it, where it was taken as asking nothing (a
// TypeError or the tokenizer's error in SGLang, never an answer). One that
// reads changes nothing of the answer, as in SGLang, whose check_finished
// ends a one-token generation by its length before it matches a stop
// string: a stop equal to the generated token's text leaves the text
// whole and finish_reason "length" (unlike /v1/completions', TestStop).
func TestGenerateStop(t *testing.T) {
	s, ts := testServer(t, SGLang)
	ids := s.Tok.Encode("a")
	sc, err := s.Src.PromptLogProbs(ids, 1, rlt.PromptOptions{Next: true})
	if err != nil {
		t.Fatal(err)
	}
	text := sglangOutputText(s.Tok, ids, sc.Next, true)
	textJSON, _ := json.Marshal(text)
	body := func(sampling string) string {
		return `{"text":"a","rid":"r","sampling_params":{"max_new_tokens":1` + sampling + `}}`
	}
	status, plain := post(t, ts.URL+"/generate", body(""))
	if status != 200 || !strings.Contains(plain, `"type":"length"`) {
		t.Fatalf("%d %s", status, plain)
	}
	for _, sampling := range []string{
		`,"stop":` + string(textJSON), fmt.Sprintf(`,"stop":["zz",%s]`, textJSON), `,"stop":"\n\n"`,
		`,"stop":null`, `,"stop":[]`, `,"stop":""`, `,"stop":["",""]`, `,"stop":"\ud83d\ude00"`,
	} {
		if status, got := post(t, ts.URL+"/generate", body(sampling)); status != 200 || got != plain {
			t.Errorf("%s: %d %.300s; want the answer without it", sampling, status, got)
		}
	}
	for _, c := range []struct{ body, want string }{
		{body(`,"stop":5`), "sampling_params.stop must be a string or a list of strings, got 5"},
		{body(`,"stop":true`), "sampling_params.stop must be a string or a list of strings, got true"},
		{body(`,"stop":{"a":1}`), `sampling_params.stop must be a string or a list of strings, got {\"a\":1}`},
		{body(`,"stop":["a",5]`), "sampling_params.stop must be a string or a list of strings, got"},
		{body(`,"stop":["a",null]`), "sampling_params.stop[1] must be a string, got null"},
		{body(`,"stop":"x\udc00"`), `sampling_params.stop holds \\udc00, half of a UTF-16 surrogate pair without its other half`},
		{body(`,"stop":["a","\uD83D"]`), `sampling_params.stop[1] holds \\uD83D, half of a UTF-16 surrogate pair without its other half`},
		// Before stop_regex, as normalize reads them.
		{body(`,"stop_regex":"(","stop":5`), "sampling_params.stop must be a string or a list of strings, got 5"},
		{`{"text":["a","b"],"sampling_params":[{"max_new_tokens":1},{"max_new_tokens":1,"stop":[1]}]}`, "sampling_params[1].stop must be a string or a list of strings, got [1]"},
	} {
		status, got := post(t, ts.URL+"/generate", c.body)
		if status != 400 || !strings.HasPrefix(got, `{"error":{"message":"`+c.want) {
			t.Errorf("%s: %d %s; want 400 with %s", c.body, status, got, c.want)
		}
	}
}
