package serve

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestAnAnswerJSONCannotHoldIsNoEmpty200: at temperature 1e-40 the
// engine's log-probs are NaN (logits/1e-40 overflow float32: inf − inf),
// which JSON cannot hold. The answer was a 200 with an empty body (the
// encoder failed after the header was sent); now it is a 500 whose body
// is JSON and says why and what to ask instead.
func TestAnAnswerJSONCannotHoldIsNoEmpty200(t *testing.T) {
	s, ts := testServer(t, Both)
	ids, _ := json.Marshal(s.Tok.Encode("<|im_start|>user\n347+285=?<|im_end|>"))
	code, body := post(t, ts.URL+"/v1/completions", fmt.Sprintf(`{"model":"tiny","prompt":%s,"max_tokens":1,"echo":true,"logprobs":0,"prompt_logprobs":0,"temperature":1e-40}`, ids))
	var e struct{ Error struct{ Message string } }
	if err := json.Unmarshal([]byte(body), &e); err != nil || code != 500 || !strings.Contains(e.Error.Message, "temperature of 0.01 or more") {
		t.Fatalf("%d %q (%v): want a 500 whose JSON says the temperature to ask for (a 200 with an empty body before)", code, body, err)
	}
}
