package serve

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestLoneSurrogatePromptRefused: a prompt (or a /tokenize or /generate
// text) holding a lone UTF-16 surrogate escape was read by encoding/json
// as U+FFFD and scored, a prompt the client did not send, where vLLM and
// SGLang fail as they tokenize it ("surrogates not allowed"). Now it is a
// 400 in each API's error shape (vLLM's OpenAI-shaped ErrorResponse,
// BadRequestError, param the field; SGLang's {"error": {"message"}}),
// naming the text and the escape in jsonerr.Surrogates' words, after an
// unknown model (vLLM tokenizes once the model is known). A whole pair,
// an escaped backslash before "udc00", and ids are answered as before.
func TestLoneSurrogatePromptRefused(t *testing.T) {
	_, ts := testServer(t, Both)
	const why = `, half of a UTF-16 surrogate pair without its other half: no character, which Hugging Face tokenizers refuses (Python reads it but cannot encode it as UTF-8); write the character itself, or both halves of its pair (\ud83d\ude00 for U+1F600)`
	openAI := func(param, where string) string {
		b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": where + why, "type": "BadRequestError", "param": param, "code": 400}})
		return string(b)
	}
	sglang := func(where string) string {
		b, _ := json.Marshal(map[string]any{"error": map[string]any{"message": where + why}})
		return string(b)
	}
	for _, c := range []struct {
		path, body string
		status     int
		want       string // the whole body; "" for an answer
	}{
		{"/v1/completions", `{"model":"tiny","prompt":"1+1\udc00","max_tokens":1}`, 400, openAI("prompt", `field "prompt" holds \udc00`)},
		{"/v1/completions", `{"prompt":"a\uD83Db","max_tokens":0,"echo":true}`, 400, openAI("prompt", `field "prompt" holds \uD83D`)},
		{"/v1/completions", `{"prompt":["ab","\ud83d\ude00","x\udfff"],"max_tokens":1}`, 400, openAI("prompt", `prompt[2] holds \udfff`)},
		{"/tokenize", `{"prompt":"\udc00"}`, 400, openAI("prompt", `field "prompt" holds \udc00`)},
		{"/tokenize", `{"model":"tiny","text":"a\ud800"}`, 400, openAI("text", `field "text" holds \ud800`)},
		{"/generate", `{"text":"1+1\udc00","sampling_params":{"max_new_tokens":1}}`, 400, sglang(`field "text" holds \udc00`)},
		{"/generate", `{"text":["ab","\udc00"],"sampling_params":{"max_new_tokens":1}}`, 400, sglang(`text[1] holds \udc00`)},
		// A stop string or a bad word holding one (read as U+FFFD, a text
		// not sent): refused in the same words, naming it.
		{"/v1/completions", `{"prompt":"ab","max_tokens":1,"stop":"x\udc00"}`, 400, openAI("stop", `field "stop" holds \udc00`)},
		{"/v1/completions", `{"prompt":"ab","max_tokens":1,"stop":["\n","\uD83D"]}`, 400, openAI("stop", `stop[1] holds \uD83D`)},
		{"/v1/completions", `{"prompt":"ab","max_tokens":1,"bad_words":["or","\udfff"]}`, 400, openAI("bad_words", `bad_words[1] holds \udfff`)},
		{"/v1/completions", `{"prompt":"ab","max_tokens":1,"stop":["\ud83d\ude00","\\udc00"],"bad_words":["\ud83d\ude00"]}`, 200, ""},
		// vLLM looks the model up before it tokenizes.
		{"/v1/completions", `{"model":"other","prompt":"\udc00","max_tokens":1}`, 404, ""},
		// Answered.
		{"/v1/completions", `{"prompt":"\ud83d\ude00","max_tokens":1}`, 200, ""},
		{"/v1/completions", `{"prompt":["\\udc00 ab", "cd"],"max_tokens":1}`, 200, ""},
		{"/tokenize", `{"prompt":"\ud83d\ude00"}`, 200, ""},
		{"/generate", `{"text":"\\udc00","sampling_params":{"max_new_tokens":1}}`, 200, ""},
	} {
		status, body := post(t, ts.URL+c.path, c.body)
		body = strings.TrimSuffix(body, "\n")
		if status != c.status || c.want != "" && body != c.want {
			t.Errorf("%s %s: %d %s\nwant %d %s", c.path, c.body, status, body, c.status, c.want)
		}
	}
}
