package serve

import (
	"strings"
	"testing"
)

// TestRaisedTemperatureWarnedForEachPrompt: vLLM makes a SamplingParams
// for each prompt of a /v1/completions request (create_completion's loop,
// to_sampling_params), so a temperature it raises to 0.01 is logged once
// a prompt; rlt serve wrote one line for the whole request.
func TestRaisedTemperatureWarnedForEachPrompt(t *testing.T) {
	s, ts := testServer(t, Both)
	var warn lockedBuffer
	s.Warn = &warn
	const line = "rlt serve: WARNING: temperature 0.001 is less than 0.01, which may cause numerical errors nan or inf in tensors. We have maxed it out to 0.01.\n"
	for _, c := range []struct {
		prompt string
		lines  int
	}{
		{`[1,2,3]`, 1},
		{`[[1,2,3],[4,5,6]]`, 2},
		{`["a","b","c"]`, 3},
	} {
		code, body := post(t, ts.URL+"/v1/completions", `{"model":"tiny","prompt":`+c.prompt+`,"max_tokens":1,"temperature":0.001}`)
		if code != 200 {
			t.Fatalf("prompt %s: %d %s", c.prompt, code, body)
		}
		if got, want := warn.take(), strings.Repeat(line, c.lines); got != want {
			t.Errorf("prompt %s: warned %q, want %q", c.prompt, got, want)
		}
	}
}
