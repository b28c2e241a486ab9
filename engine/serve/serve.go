// Package serve puts a model of this engine behind the endpoints of the
// inference servers that RLT scoring talks to (engine/remote), so that a
// laptop's workbench can score with a model on another machine and the
// client is tested end to end against a real server (`rlt serve`):
//
//   - POST /v1/completions, vLLM's OpenAI-compatible shape: "prompt" (token
//     ids or text), "max_tokens" 0 (with "echo") or 1, "prompt_logprobs" 0,
//     "temperature"; each choice's "prompt_logprobs" is null for the first
//     token, then {"<id>": {"logprob", "rank", "decoded_token"}}, "rank"
//     being vLLM's: how many tokens of the vocabulary have a log-prob at
//     that position at least the token's, itself included (1 for the most
//     likely token; a tie counts against it), of the log-probs returned
//     (of logits/temperature, below; rlt.PromptScores.Ranks).
//   - POST /generate, SGLang's: "input_ids" (or "text"), "sampling_params"
//     {"max_new_tokens" 0 or 1, "temperature"}, "return_logprob",
//     "logprob_start_len", "return_text_in_logprobs"; "meta_info" carries
//     "input_token_logprobs" as [logprob, id, text] triples, the first
//     logprob null, the text null unless return_text_in_logprobs.
//   - POST /tokenize ({"prompt"} → {"tokens", "count", "max_model_len"}) and
//     GET /v1/models ({"data": [{"id", "owned_by", "max_model_len"}]}).
//
// Every text (a choice's "text", "decoded_token", SGLang's "text" and the
// triples' text) is the one those servers return for the same ids: Hugging
// Face's decode, with one U+FFFD per maximal subpart of a character cut or
// invalid, applied as each server applies it (text.go).
//
// Errors are those servers' shapes: vLLM's {"error": {"message", "type",
// "param", "code"}}, SGLang's {"error": {"message"}}, 400 for a prompt
// longer than the model's positions. Both servers are FastAPI apps, so a
// path neither serves is FastAPI's 404 {"detail": "Not Found"} and a
// method an endpoint does not take its 405 {"detail": "Method Not
// Allowed"} with Allow, whichever --api: a client learns from the answer
// what the real server would have told it. Only what scoring needs is served:
// one prompt per request, at most one generated (greedy) token, the
// prompt tokens' own log-probs (no top-k).
//
// Unlike vLLM's V1 engine and stock SGLang, which compute prompt log-probs
// of the raw logits whatever the request's temperature (see engine/remote),
// the log-probs here are of logits/temperature, the request's temperature
// (1 when absent or 0), as RLT's reward needs them: through `rlt serve`
// scores are at the temperature asked.
package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rlt-workbench/rlt/engine/jsonerr"
	"github.com/rlt-workbench/rlt/engine/rlt"
)

// API is which servers' endpoints are served.
type API string

const (
	VLLM   API = "vllm"   // /v1/completions
	SGLang API = "sglang" // /generate
	Both   API = "both"
)

// ParseAPI reads an --api value.
func ParseAPI(s string) (API, error) {
	switch API(s) {
	case VLLM, SGLang, Both:
		return API(s), nil
	}
	return "", fmt.Errorf("api %q: want vllm, sglang or both", s)
}

// Tokenizer is what rlt serve needs of its model's tokenizer
// (tokenizer.Tokenizer): encoding text, and decoding ids as Hugging Face's
// tokenizers decode them, the texts vLLM and SGLang return (text.go).
type Tokenizer interface {
	Encode(text string) []int32
	// DecodeHF is Hugging Face's decode(ids, skip_special_tokens): one
	// U+FFFD per maximal subpart of an ill-formed UTF-8 sequence.
	DecodeHF(ids []int32, skipSpecial bool) string
}

// Server serves one model.
type Server struct {
	Src  *rlt.ModelSource
	Tok  Tokenizer
	Name string // the model's name in /v1/models and requests
	API  API

	created int64
	n       atomic.Int64
}

// New serves src (tokenized by tok) as name.
func New(src *rlt.ModelSource, tok Tokenizer, name string, api API) *Server {
	return &Server{Src: src, Tok: tok, Name: name, API: api, created: time.Now().Unix()}
}

// route is an endpoint: the methods it takes, and its handler.
type route struct {
	methods []string
	h       http.HandlerFunc
}

// Handler routes the endpoints of s.API. Paths are matched exactly, as
// FastAPI matches them (Go's ServeMux would answer unknown paths and
// methods in plain text, and redirect unclean paths).
func (s *Server) Handler() http.Handler {
	routes := map[string]route{
		"/v1/models": {[]string{http.MethodGet}, s.models},
		"/tokenize":  {[]string{http.MethodPost}, s.tokenize},
	}
	if s.API != SGLang {
		routes["/v1/completions"] = route{[]string{http.MethodPost}, s.completions}
	}
	if s.API != VLLM {
		// SGLang's /generate is an api_route for POST and PUT.
		routes["/generate"] = route{[]string{http.MethodPost, http.MethodPut}, s.generate}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt, ok := routes[r.URL.Path]
		if !ok {
			fastAPIError(w, http.StatusNotFound, "Not Found")
			return
		}
		if !slices.Contains(rt.methods, r.Method) {
			w.Header().Set("Allow", strings.Join(rt.methods, ", "))
			fastAPIError(w, http.StatusMethodNotAllowed, "Method Not Allowed")
			return
		}
		rt.h(w, r)
	})
}

const maxBody = 64 << 20

func (s *Server) maxLen() int { return s.Src.MaxPositions() }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // texts such as <|im_end|> read as themselves, as in every other output
	enc.Encode(v)
}

// openAIError is vLLM's error body (ErrorResponse with ErrorInfo).
func openAIError(w http.ResponseWriter, status int, typ, param, msg string) {
	var p any
	if param != "" {
		p = param
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": p, "code": status}})
}

// fastAPIError is the body FastAPI, under both vLLM and SGLang, answers a
// request its router refuses with: {"detail": "Not Found"} and the like.
func fastAPIError(w http.ResponseWriter, status int, detail string) {
	writeJSON(w, status, map[string]any{"detail": detail})
}

// sglangError is SGLang's error body.
func sglangError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"message": msg}})
}

func (s *Server) models(w http.ResponseWriter, r *http.Request) {
	owner := "rlt"
	if s.API == SGLang {
		owner = "sglang" // what SGLang's /v1/models says: clients pick /generate
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": []any{map[string]any{
		"id": s.Name, "object": "model", "created": s.created, "owned_by": owner, "root": s.Name,
		"parent": nil, "max_model_len": s.maxLen(),
	}}})
}

// readBody reads a request's body (its method was checked by Handler).
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("reading the body: %w", err)
	}
	return body, nil
}

// decodeBody reads a JSON body into v, refusing unknown shapes with a
// message.
func decodeBody(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("the body is not the JSON expected: %s", jsonerr.Say(err))
	}
	return nil
}

// badRequest is a request that decodes but is refused: param is the field
// at fault (OpenAI's "param"; empty: the request as a whole).
type badRequest struct{ param, msg string }

func (e *badRequest) Error() string { return e.msg }

// prompt is a prompt given as token ids or as text.
type prompt struct {
	ids  []int32
	text *string
}

func (p *prompt) UnmarshalJSON(b []byte) error {
	*p = prompt{} // a repeated "prompt" key decodes into the same value: the last one wins
	var s string
	if json.Unmarshal(b, &s) == nil {
		p.text = &s
		return nil
	}
	if err := json.Unmarshal(b, &p.ids); err != nil {
		return errors.New("the prompt must be one text or one list of token ids")
	}
	return nil
}

func (s *Server) resolve(p prompt) ([]int32, error) {
	if p.text != nil {
		return s.Tok.Encode(*p.text), nil
	}
	if err := checkIDs(p.ids, s.Src.Vocab); err != nil {
		return nil, err
	}
	return p.ids, nil
}

// checkIDs says which token id, if any, is outside a vocabulary of vocab.
func checkIDs(ids []int32, vocab int) error {
	for i, id := range ids {
		if id < 0 || int(id) >= vocab {
			return fmt.Errorf("token id %d at position %d is outside the vocabulary of %d", id, i, vocab)
		}
	}
	return nil
}

// tokenizeRequest is a /tokenize body: the text is "prompt" (vLLM) or
// "text".
type tokenizeRequest struct {
	Model  string  `json:"model"`
	Prompt *string `json:"prompt"`
	Text   *string `json:"text"`
}

// parseTokenize decodes a /tokenize body; a body that decodes but has no
// text is a *badRequest (the model is then known).
func parseTokenize(body []byte) (model, text string, err error) {
	var req tokenizeRequest
	if err := decodeBody(body, &req); err != nil {
		return "", "", err
	}
	t := req.Prompt
	if t == nil {
		t = req.Text
	}
	if t == nil {
		return req.Model, "", &badRequest{"prompt", `give "prompt", the text to tokenize`}
	}
	return req.Model, *t, nil
}

// refused answers a request that cannot go on, in OpenAI's order: a body
// that does not decode, then an unknown model, then a field refused
// (*badRequest, whose model is known); it reports whether it answered.
func (s *Server) refused(w http.ResponseWriter, model string, err error) bool {
	var br *badRequest
	if err != nil && !errors.As(err, &br) {
		openAIError(w, http.StatusBadRequest, "BadRequestError", "", err.Error())
		return true
	}
	if !s.modelOK(w, model) {
		return true
	}
	if br != nil {
		openAIError(w, http.StatusBadRequest, "BadRequestError", br.param, br.msg)
		return true
	}
	return false
}

func (s *Server) tokenize(w http.ResponseWriter, r *http.Request) {
	var model, text string
	body, err := readBody(r)
	if err == nil {
		model, text, err = parseTokenize(body)
	}
	if s.refused(w, model, err) {
		return
	}
	ids := s.Tok.Encode(text)
	if ids == nil {
		ids = []int32{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": len(ids), "max_model_len": s.maxLen(), "tokens": ids, "token_strs": nil})
}

func (s *Server) modelOK(w http.ResponseWriter, model string) bool {
	if model != "" && model != s.Name {
		openAIError(w, http.StatusNotFound, "NotFoundError", "model", fmt.Sprintf("The model `%s` does not exist.", model))
		return false
	}
	return true
}

func temperatureOf(t *float64) float64 {
	if t == nil || *t <= 0 {
		return 1
	}
	return *t
}

// completionsRequest is a /v1/completions body as rlt serve takes it.
type completionsRequest struct {
	Model          string
	Prompt         prompt
	MaxTokens      int     // 0 (with Echo) or 1
	Temperature    float64 // > 0
	PromptLogprobs bool    // prompt_logprobs: 0 given
	Echo           bool
}

// parseCompletions decodes and checks a /v1/completions body. A body that
// decodes but asks what rlt serve does not answer is a *badRequest (the
// model is then known).
func parseCompletions(body []byte) (completionsRequest, error) {
	var req struct {
		Model          string   `json:"model"`
		Prompt         *prompt  `json:"prompt"`
		MaxTokens      *int     `json:"max_tokens"`
		Temperature    *float64 `json:"temperature"`
		PromptLogprobs *int     `json:"prompt_logprobs"`
		Logprobs       *int     `json:"logprobs"`
		Echo           bool     `json:"echo"`
		N              *int     `json:"n"`
		Stream         bool     `json:"stream"`
	}
	if err := decodeBody(body, &req); err != nil {
		return completionsRequest{}, err
	}
	out := completionsRequest{Model: req.Model, Temperature: temperatureOf(req.Temperature), PromptLogprobs: req.PromptLogprobs != nil, Echo: req.Echo}
	maxTokens := 16 // the OpenAI default, refused below
	if req.MaxTokens != nil {
		maxTokens = *req.MaxTokens
	}
	switch {
	case req.Prompt == nil:
		return out, &badRequest{"prompt", `give "prompt": token ids or a text`}
	case req.Stream || (req.N != nil && *req.N != 1):
		return out, &badRequest{"", "rlt serve answers one choice, not streamed"}
	case maxTokens == 0 && !req.Echo, maxTokens < 0 || maxTokens > 1:
		return out, &badRequest{"max_tokens", fmt.Sprintf("rlt serve computes prompt log-probs: max_tokens must be 1, or 0 with echo (got %d)", maxTokens)}
	case req.PromptLogprobs != nil && *req.PromptLogprobs != 0:
		return out, &badRequest{"prompt_logprobs", fmt.Sprintf("rlt serve returns the prompt tokens' own log-probs only: prompt_logprobs must be 0 (got %d)", *req.PromptLogprobs)}
	case req.Logprobs != nil:
		// Answered with "logprobs": null, a client reading the generated
		// token's log-probs would fail on what it was never told.
		return out, &badRequest{"logprobs", fmt.Sprintf("rlt serve returns the prompt tokens' log-probs (prompt_logprobs 0), not the generated token's: leave logprobs out (got %d)", *req.Logprobs)}
	case req.Temperature != nil && *req.Temperature < 0:
		return out, &badRequest{"temperature", fmt.Sprintf("temperature must be non-negative, got %g.", *req.Temperature)}
	}
	out.Prompt, out.MaxTokens = *req.Prompt, maxTokens
	return out, nil
}

func (s *Server) completions(w http.ResponseWriter, r *http.Request) {
	var req completionsRequest
	body, err := readBody(r)
	if err == nil {
		req, err = parseCompletions(body)
	}
	if s.refused(w, req.Model, err) {
		return
	}
	bad := func(param, msg string) { openAIError(w, http.StatusBadRequest, "BadRequestError", param, msg) }
	maxTokens := req.MaxTokens
	ids, err := s.resolve(req.Prompt)
	if err != nil {
		bad("prompt", err.Error())
		return
	}
	if len(ids) == 0 {
		bad("prompt", "the prompt is empty")
		return
	}
	if len(ids)+maxTokens > s.maxLen() {
		bad("", fmt.Sprintf("This model's maximum context length is %d tokens. However, you requested %d tokens (%d in the messages, %d in the completion). Please reduce the length of the messages or completion.",
			s.maxLen(), len(ids)+maxTokens, len(ids), maxTokens))
		return
	}
	sc, err := s.Src.PromptLogProbs(ids, req.Temperature, rlt.PromptOptions{Next: maxTokens == 1, Ranks: req.PromptLogprobs})
	if err != nil {
		openAIError(w, http.StatusInternalServerError, "InternalServerError", "", err.Error())
		return
	}
	text := ""
	if req.Echo {
		// vLLM echoes a text prompt as given, and decodes token ids.
		if req.Prompt.text != nil {
			text = *req.Prompt.text
		} else {
			text = s.Tok.DecodeHF(ids, false)
		}
	}
	completion := 0
	if maxTokens == 1 {
		text += vllmOutputText(s.Tok, ids, sc.Next)
		completion = 1
	}
	var plp []any
	if req.PromptLogprobs {
		plp = make([]any, len(ids))
		for pos := 1; pos < len(ids); pos++ {
			plp[pos] = map[string]any{strconv.Itoa(int(ids[pos])): map[string]any{
				"logprob": clamp(sc.LogProbs[pos-1]), "rank": sc.Ranks[pos-1], "decoded_token": vllmPromptTokenText(s.Tok, ids, pos),
			}}
		}
	}
	choice := map[string]any{"index": 0, "text": text, "logprobs": nil, "finish_reason": "length", "stop_reason": nil, "prompt_logprobs": plp}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": fmt.Sprintf("cmpl-%d", s.n.Add(1)), "object": "text_completion", "created": time.Now().Unix(), "model": s.Name,
		"choices": []any{choice},
		"usage":   map[string]any{"prompt_tokens": len(ids), "completion_tokens": completion, "total_tokens": len(ids) + completion},
	})
}

// clamp is a log-prob JSON can hold: −∞ as vLLM writes it, −9999.
func clamp(v float32) float64 {
	if v < -9999 {
		return -9999
	}
	return float64(v)
}

// generateRequest is a /generate body as rlt serve takes it: the input is
// IDs (not checked against a vocabulary) or Text, never both.
type generateRequest struct {
	Text          *string
	IDs           []int32
	MaxNew        int     // 0 or 1
	Temperature   float64 // > 0
	ReturnLogprob bool
	Start         int  // logprob_start_len; < 0: none
	TextInLogprob bool // return_text_in_logprobs
}

// parseGenerate decodes and checks a /generate body.
func parseGenerate(body []byte) (generateRequest, error) {
	var req struct {
		Text           *string `json:"text"`
		InputIDs       []int32 `json:"input_ids"`
		SamplingParams struct {
			MaxNewTokens *int     `json:"max_new_tokens"`
			Temperature  *float64 `json:"temperature"`
		} `json:"sampling_params"`
		ReturnLogprob   bool `json:"return_logprob"`
		LogprobStartLen *int `json:"logprob_start_len"`
		TextInLogprobs  bool `json:"return_text_in_logprobs"`
		TopLogprobsNum  int  `json:"top_logprobs_num"`
		Stream          bool `json:"stream"`
	}
	if err := decodeBody(body, &req); err != nil {
		return generateRequest{}, err
	}
	maxNew := 128 // SGLang's default, refused below
	if req.SamplingParams.MaxNewTokens != nil {
		maxNew = *req.SamplingParams.MaxNewTokens
	}
	if req.Stream || maxNew < 0 || maxNew > 1 {
		return generateRequest{}, fmt.Errorf("rlt serve computes input log-probs: sampling_params.max_new_tokens must be 0 or 1 (got %d), not streamed", maxNew)
	}
	if t := req.SamplingParams.Temperature; t != nil && *t < 0 {
		return generateRequest{}, fmt.Errorf("temperature must be non-negative, got %g.", *t)
	}
	if req.TopLogprobsNum != 0 {
		// Answered without input_top_logprobs, a client reading them would
		// fail on what it was never told.
		return generateRequest{}, fmt.Errorf("rlt serve returns the input tokens' own log-probs only, no top log-probs: top_logprobs_num must be 0 (got %d)", req.TopLogprobsNum)
	}
	if req.InputIDs != nil && req.Text != nil {
		return generateRequest{}, errors.New("Either text or input_ids should be provided, not both.")
	}
	start := -1
	if req.LogprobStartLen != nil {
		start = *req.LogprobStartLen
	}
	return generateRequest{Text: req.Text, IDs: req.InputIDs, MaxNew: maxNew, Temperature: temperatureOf(req.SamplingParams.Temperature),
		ReturnLogprob: req.ReturnLogprob, Start: start, TextInLogprob: req.TextInLogprobs}, nil
}

func (s *Server) generate(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		sglangError(w, http.StatusBadRequest, err.Error())
		return
	}
	req, err := parseGenerate(body)
	if err != nil {
		sglangError(w, http.StatusBadRequest, err.Error())
		return
	}
	maxNew, start := req.MaxNew, req.Start
	var ids []int32
	switch {
	case req.IDs != nil:
		if ids, err = s.resolve(prompt{ids: req.IDs}); err != nil {
			sglangError(w, http.StatusBadRequest, err.Error())
			return
		}
	case req.Text != nil:
		ids = s.Tok.Encode(*req.Text)
	}
	if len(ids) == 0 {
		sglangError(w, http.StatusBadRequest, "give text or input_ids (not empty)")
		return
	}
	if len(ids) >= s.maxLen() {
		sglangError(w, http.StatusBadRequest, fmt.Sprintf("The input (%d tokens) is longer than the model's context length (%d tokens).", len(ids), s.maxLen()))
		return
	}
	if start >= len(ids) {
		sglangError(w, http.StatusBadRequest, fmt.Sprintf("logprob_start_len (%d) must be less than the input length (%d)", start, len(ids)))
		return
	}
	sc, err := s.Src.PromptLogProbs(ids, req.Temperature, rlt.PromptOptions{Next: maxNew == 1})
	if err != nil {
		sglangError(w, http.StatusInternalServerError, err.Error())
		return
	}
	meta := map[string]any{
		"id": fmt.Sprintf("%d", s.n.Add(1)), "prompt_tokens": len(ids), "completion_tokens": maxNew, "cached_tokens": 0,
		"finish_reason": map[string]any{"type": "length", "length": maxNew},
	}
	text := ""
	outIDs := []int32{} // SGLang's [] when nothing is generated, never null
	if maxNew == 1 {
		text = sglangOutputText(s.Tok, ids, sc.Next)
		outIDs = []int32{sc.Next}
	}
	if req.ReturnLogprob {
		// SGLang's detokenize_logprob_tokens: each token decoded alone,
		// special tokens included (batch_decode's default), when asked;
		// else null.
		tokenText := func(id int32) any {
			if !req.TextInLogprob {
				return nil
			}
			return s.Tok.DecodeHF([]int32{id}, false)
		}
		in := []any{}
		if start >= 0 {
			for pos := start; pos < len(ids); pos++ {
				var v any
				if pos > 0 {
					v = clamp(sc.LogProbs[pos-1])
				}
				in = append(in, []any{v, ids[pos], tokenText(ids[pos])})
			}
		}
		out := []any{}
		if maxNew == 1 {
			out = append(out, []any{clamp(sc.NextLogProb), sc.Next, tokenText(sc.Next)})
		}
		meta["input_token_logprobs"], meta["output_token_logprobs"] = in, out
	}
	writeJSON(w, http.StatusOK, map[string]any{"text": text, "output_ids": outIDs, "meta_info": meta})
}
