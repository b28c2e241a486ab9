// Package serve puts a model of this engine behind the endpoints of the
// inference servers that RLT scoring talks to (engine/remote), so that a
// laptop's workbench can score with a model on another machine and the
// client is tested end to end against a real server (`rlt serve`):
//
//   - POST /v1/completions, vLLM's OpenAI-compatible shape: "prompt" (token
//     ids or text, or a batch of either: one choice each, in order, as
//     lm-eval-harness sends them; a batch's prompts run through the model
//     together, in forwards of at most the source's MicroBatchTokens (on
//     the CPU, in groups of about one length: coalesce.go), each choice
//     the bytes it would be alone), "max_tokens" 0 (with "echo") or 1,
//     "temperature", "prompt_logprobs" k, "logprobs" N, and "stop",
//     "stop_token_ids", "include_stop_str_in_output" and "ignore_eos",
//     which with the model folder's end of sequence (ReadEOS) end the one
//     generated token as vLLM ends it ("finish_reason" "stop" with
//     "stop_reason" the id or string matched, null for the tokenizer's
//     eos_token, the text cut as vLLM cuts it: vllmFinish), and
//     "min_tokens", "bad_words" and "allowed_token_ids", which hold
//     tokens back from being it, and "logit_bias", which biases it
//     (holdback.go: one rlt.LogitBias the engine applies to the logits).
//     "temperature" above 2 is refused, as vLLM refuses it, and one in
//     (0, 0.01) is computed at 0.01, as vLLM's SamplingParams raises it,
//     with its warning (Server.Warn). With echo
//     and max_tokens 0 vLLM still generates a
//     token, unshown, which ends the choice and counts in the usage's
//     "completion_tokens": so here. Each choice's
//     "prompt_logprobs" is null for the first token, then, per position, a
//     dict in vLLM's order: the prompt token {"<id>": {"logprob", "rank",
//     "decoded_token"}} first, then the k most likely tokens, ranks 1..k (a
//     prompt token among them is not repeated and takes its top-k rank).
//     "rank" is vLLM's: how many tokens of the vocabulary have a log-prob
//     at that position at least the token's, itself included (1 for the
//     most likely token; a tie counts against it), of the log-probs
//     returned (of logits/temperature, below; rlt.PromptScores.Ranks).
//     "logprobs" N is the OpenAI legacy object vLLM makes
//     (_create_completion_logprobs): "tokens", "token_logprobs",
//     "top_logprobs" (each position's first N+1 dict entries keyed by
//     decoded_token) and "text_offset" (running code-point offsets of the
//     tokens), over the prompt with echo (the first token null; prompt
//     log-probs then default to N, as vLLM's to_sampling_params has them)
//     and the generated token; "return_tokens_as_token_ids" names tokens
//     "token_id:<id>". k or N above Server.MaxLogprobs (vLLM's default
//     --max-logprobs, 20) is refused in vLLM's words.
//   - POST /generate, SGLang's: "input_ids" (or "text"), or a list of
//     them (SGLang's batch request: "input_ids" a list of id lists, "text"
//     a list of texts), answered with a list of the objects each input gets
//     alone, in order (generate.go); "sampling_params" {"max_new_tokens" 0
//     or 1, "temperature" (one in [0, 1e-6) SGLang's greedy temperature
//     1), "stop" (read as SGLang reads it, a one-token generation ending
//     by its length before a stop string is matched: sglangStop),
//     "min_new_tokens" with "stop_token_ids", which
//     hold tokens back from the generated token, and "logit_bias", which
//     biases it (holdback.go), "n" above
//     1 at temperature 0 (each input answered n times: parallelSamples)},
//     "return_logprob", "logprob_start_len",
//     "top_logprobs_num" and "rid" are each one value for every input or,
//     in a list request, a list of one per input ("rid" a text names a
//     list's inputs "<rid>_<i>"), "return_text_in_logprobs" one for all.
//     "meta_info" has "id" (the rid) and, with return_logprob,
//     "input_token_logprobs" as [logprob, id, text] triples for
//     input_ids[logprob_start_len:] (none when it is absent or -1), the
//     first logprob null whatever logprob_start_len (SGLang computes the
//     log-probs from that position's hidden state on, so the token there
//     has none: scheduler_output_processor_mixin.py, "Always pad the first
//     one with None"), the text null unless return_text_in_logprobs;
//     "output_token_logprobs" the generated token's. "top_logprobs_num" k
//     adds "input_top_logprobs" and "output_top_logprobs": for each of
//     those positions, a list of its k most likely tokens' triples, most
//     likely first (null for the first input position), the numbers of
//     the vLLM endpoint's prompt_logprobs k and logprobs k; k above
//     Server.MaxLogprobs is refused in the words vLLM's bound uses.
//   - POST /tokenize ({"prompt"} → {"tokens", "count", "max_model_len"}) and
//     GET /v1/models ({"data": [{"id", "owned_by", "max_model_len"}]}).
//
// Every text (a choice's "text", "decoded_token", SGLang's "text" and the
// triples' text) is the one those servers return for the same ids: Hugging
// Face's decode, with one U+FFFD per maximal subpart of a character cut or
// invalid, applied as each server applies it (text.go); the generated
// token's leaves special tokens out unless the request's
// skip_special_tokens (vLLM's field, SGLang's sampling_params') is false.
//
// Every other field vLLM's CompletionRequest or SGLang's GenerateReqInput
// and SamplingParams define is answered as that server answers it for the
// one greedy token generated here (a hint, a sampling bound the greedy
// token always passes, a penalty counted over the tokens generated before
// it, a stop condition SGLang checks only after max_new_tokens), or
// refused naming the field (fields.go): an answer is never computed under
// other settings than asked without saying so. Keys match exactly, as
// those servers' pydantic models match them: one that is a field's name
// in another case ("Prompt", "MAX_TOKENS"), which encoding/json would read
// as the field and they pass over, is refused, naming the field's
// spelling; so is a key of SGLang's sampling_params that SamplingParams
// does not define, which SGLang refuses as it makes that input's
// SamplingParams, after the input's length (generate.go). SGLang's fields
// ask what SGLang reads them to ask: lora_path "" nothing, as Python's
// truth reads it, max_thinking_tokens 0 as much as 5 ("is not None"), and
// input_embeds beside text or input_ids nothing (SGLang drops it). The
// request's id is
// answered too: vLLM's "cmpl-" and its X-Request-Id header or
// request_id, SGLang's rid.
//
// The vLLM dialect is that of one release, vLLM v0.24.0 (its
// CompletionRequest and TokenizeCompletionRequest, read by pydantic 2 in
// lax mode; SamplingParams; its renderer and input processor): the checks
// here, their order and their words follow that release. The SGLang
// dialect follows no release that could be checked: it follows SGLang's
// main branch as read from public copies of its sampling_params.py
// (SamplingParams a msgspec.Struct, kw_only and omit_defaults: after its
// PR 29198, commit fd87a85 of 2026-06-24, before its PR 32688, commit
// 9ca4023 of 2026-07-28, which made it array_like, a change of its
// inter-process encoding only) and of its io_struct.py and
// tokenizer_manager.py (GenerateReqInput's normalization,
// TokenizerManager's checks), whose commits could not be placed on that
// branch. The latest release before PR 32688, v0.5.16 (2026-07-26), is
// the nearest name for it, but no tagged release's files could be read
// to check it against, so none is pinned: a release may differ in the
// checks, their order and their words. Bodies are read as both servers'
// FastAPI reads them, with Python's json (pyjson.go).
//
// Errors are those servers' shapes: vLLM's {"error": {"message", "type",
// "param", "code"}}, SGLang's {"error": {"message"}}, 400 for a prompt
// longer than the model's positions (or Server.MaxModelLen, vLLM's
// --max-model-len). Both servers are FastAPI apps, so a path neither
// serves is FastAPI's 404 {"detail": "Not Found"} and a
// method an endpoint does not take its 405 {"detail": "Method Not
// Allowed"} with Allow, whichever --api: a client learns from the answer
// what the real server would have told it. Only what scoring and
// loglikelihood evaluation need is served: at most one generated (greedy)
// token, not streamed.
//
// Requests are computed together too: those that arrive while the model
// computes others wait, and their prompts then run through it in one round
// of forwards (of at most MicroBatchTokens positions each; on the CPU, a
// forward for each group of prompts of about one length), each request
// answered with the bytes it gets alone (coalesce.go); one refused gets its
// own error, and one whose client went away is dropped.
//
// Unlike vLLM's V1 engine and stock SGLang, which compute prompt log-probs
// of the raw logits whatever the request's temperature (see engine/remote),
// the log-probs here are of logits/temperature, the request's temperature
// (1 when absent or 0), as RLT's reward needs them: through `rlt serve`
// scores are at the temperature asked.
package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/rlt-workbench/rlt/engine/hf"
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
	// MaxLogprobs is the most top log-probs a request may ask of a
	// position (prompt_logprobs, logprobs), vLLM's --max-logprobs: 20 by
	// default, −1 the whole vocabulary.
	MaxLogprobs int
	// EOS is what ends a generation of the model besides a request's
	// stop_token_ids, as vLLM reads it from the model folder (ReadEOS);
	// none when zero.
	EOS EOS
	// MaxModelLen is vLLM's --max-model-len: the most tokens a request's
	// prompt and the tokens it generates may take together, refused past
	// it as a prompt past the model's positions is (400, each API's
	// words), and said as max_model_len (/v1/models, /tokenize). 0: the
	// source's positions, as vLLM defaults to max_position_embeddings. It
	// bounds what a forward must hold, so rlt serve fits a model in less
	// memory; it is at most the source's positions (the caller checks).
	MaxModelLen int
	// Warn is where rlt serve writes what vLLM logs as a warning: a
	// /v1/completions temperature in (0, 0.01) raised to 0.01
	// (completionsRequest.RaisedFrom), one line for each prompt, as vLLM
	// makes a SamplingParams for each. Nil: nowhere.
	Warn   io.Writer
	warnMu sync.Mutex // one line at a time, from the requests' goroutines

	created int64
	n       atomic.Int64

	// The requests' prompts waiting for the model, and whether a goroutine
	// computes them (coalesce.go).
	mu        sync.Mutex
	queue     []*work
	computing bool
}

// New serves src (tokenized by tok) as name.
func New(src *rlt.ModelSource, tok Tokenizer, name string, api API) *Server {
	return &Server{Src: src, Tok: tok, Name: name, API: api, MaxLogprobs: maxLogprobs, created: time.Now().Unix()}
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

// maxLen is the longest prompt and generation a request may have: vLLM's
// max_model_len, SGLang's context length.
func (s *Server) maxLen() int {
	if s.MaxModelLen > 0 {
		return s.MaxModelLen
	}
	return s.Src.MaxPositions()
}

// writeJSON answers v with status. v is encoded before the header is
// sent: an answer JSON cannot hold (a log-prob that is NaN, as logits
// that are not finite make them) was a 200 with an empty body, the
// encoder's failure coming after the header. It is a 500 that says why
// instead. (A temperature too small for float32 logits, which made them
// at 1e-40, is raised to 0.01 on /v1/completions as vLLM raises it, and
// is SGLang's greedy temperature 1 on /generate.)
func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // texts such as <|im_end|> read as themselves, as in every other output
	if err := enc.Encode(v); err != nil {
		b.Reset()
		status = http.StatusInternalServerError
		msg := fmt.Sprintf("rlt serve could not write its answer as JSON (%v): nothing was answered", err)
		if uv := (*json.UnsupportedValueError)(nil); errors.As(err, &uv) { // a float: NaN, +Inf or -Inf
			msg += "; a log-prob that is not a number comes of logits that are not finite: the model's weights may hold NaN or ±Inf"
		}
		json.NewEncoder(&b).Encode(map[string]any{"error": map[string]any{"message": msg, "type": "InternalServerError", "param": nil, "code": status}})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b.Bytes())
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
// message. A key that names a field of v's or of rules only when case is
// ignored ("Prompt", "MAX_TOKENS") is refused too (*jsonerr.CaseMiss):
// encoding/json would read it as that field, where vLLM and SGLang, whose
// pydantic models match keys exactly, pass it over as one they do not
// define and answer without it (no prompt; 16 tokens): the client meant
// neither, and is told which spelling is the field's.
func decodeBody(body []byte, v any, rules map[string]fieldRule) error {
	names := jsonerr.FieldNames(reflect.TypeOf(v))
	for name := range rules {
		names = append(names, name)
	}
	if miss := jsonerr.FindCaseMiss(body, names); miss != nil {
		return miss
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("the body is not the JSON expected: %s", sayDecodeErr(body, err))
	}
	return nil
}

// badRequest is a request that decodes but is refused: param is the field
// at fault (OpenAI's "param"; empty: the request as a whole).
type badRequest struct{ param, msg string }

func (e *badRequest) Error() string { return e.msg }

// invalidBody is a *badRequest of vLLM's pydantic model (a field's type
// or constraint, a model validator): vLLM makes it as it reads the body,
// before it looks the model up, so refused reports it before an unknown
// model's 404, where it reports other refusals after.
type invalidBody struct{ *badRequest }

func (e invalidBody) Unwrap() error { return e.badRequest }

// invalid is br as a refusal of vLLM's pydantic model (invalidBody).
func invalid(br *badRequest) error { return invalidBody{br} }

// renderRefusal is a *badRequest vLLM makes as it renders the prompts
// (suffix): after it looks the model up, before it checks their
// lengths, so completions reports it there.
type renderRefusal struct{ *badRequest }

func (e renderRefusal) Unwrap() error { return e.badRequest }

// afterPrompts is a *badRequest vLLM makes once it has checked each
// prompt against the model (a bad word that tokenizes to nothing: its
// InputProcessor tokenizes bad_words after it validates the prompts), so
// completions reports it after an empty prompt or an id outside the
// vocabulary.
type afterPrompts struct{ *badRequest }

func (e afterPrompts) Unwrap() error { return e.badRequest }

// ownRefusal is a *badRequest of what vLLM answers and rlt serve does not
// (stream, n above 1, max_tokens above 1, every token held back), on a
// request otherwise read whole: completions reports it after every check
// vLLM makes, so that of several faults the one vLLM reports comes first.
type ownRefusal struct{ *badRequest }

func (e ownRefusal) Unwrap() error { return e.badRequest }

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

// prompts is a /v1/completions "prompt": one text or list of token ids,
// or a list of them (a batch, as lm-eval-harness sends its requests:
// [[ids…]]), each answered by a choice of its own, in order.
type prompts []prompt

func (ps *prompts) UnmarshalJSON(b []byte) error {
	var one prompt
	if one.UnmarshalJSON(b) == nil {
		*ps = prompts{one}
		return nil
	}
	var texts []string
	if json.Unmarshal(b, &texts) == nil && len(texts) > 0 {
		*ps = make(prompts, len(texts))
		for i := range texts {
			(*ps)[i].text = &texts[i]
		}
		return nil
	}
	var lists [][]int32
	if json.Unmarshal(b, &lists) == nil && len(lists) > 0 {
		*ps = make(prompts, len(lists))
		for i := range lists {
			(*ps)[i].ids = lists[i]
		}
		return nil
	}
	return errors.New("the prompt must be a text, a list of token ids, or a list of either")
}

// loneSurrogate refuses a text to tokenize, raw the value of field name
// as written (one text, or a list of texts: each said by its place),
// holding a lone UTF-16 surrogate escape ("\udc00": jsonerr.Surrogates,
// the one checker of every reader of user text): encoding/json reads it
// as U+FFFD, so the model was given a prompt the client did not send,
// where vLLM and SGLang fail as they tokenize it (Python's json reads it
// into a str their tokenizer cannot encode as UTF-8, "surrogates not
// allowed", a ValueError vLLM answers 400 BadRequestError). nil when none
// does; a list of token ids holds no escape.
func loneSurrogate(name string, raw json.RawMessage) *badRequest {
	if !jsonerr.MayHoldSurrogate(raw) {
		return nil
	}
	if es := jsonerr.Elements(raw); es != nil {
		for i, e := range es {
			if err := jsonerr.Surrogates(fmt.Sprintf("%s[%d]", name, i), e); err != nil {
				return &badRequest{name, err.Error()}
			}
		}
		return nil
	}
	if err := jsonerr.Surrogates(fmt.Sprintf("field %q", name), raw); err != nil {
		return &badRequest{name, err.Error()}
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

// vllmTokenizeFields are the rules of the fields of vLLM's
// TokenizeCompletionRequest, the /tokenize body of a prompt, besides
// model and prompt: yes/no fields, read as its pydantic model reads them
// (laxBoolOf; null only where the field is optional), what it refuses
// refused before the model is looked up. The fields of its
// TokenizeChatRequest (add_generation_prompt, continue_final_message…)
// are passed over, as vLLM passes them over in a body of a prompt.
var vllmTokenizeFields = map[string]fieldRule{
	"add_special_tokens": vllmBool(false),                                                                                                 // our byte-level tokenizers add nothing around a text either way
	"return_token_strs":  refusedIfTrue(true, "is not served: rlt serve gives the token ids, not the vocabulary's strings of the tokens"), // vLLM's convert_ids_to_tokens
}

// parseTokenize decodes a /tokenize body; a body that decodes but asks
// what rlt serve does not answer is a *badRequest (the model is then
// known), one vLLM's pydantic model refuses (no text, a yes/no field that
// is neither) an invalidBody, reported before the model.
func parseTokenize(body []byte) (model, text string, err error) {
	body = pythonJSON(body)
	var req tokenizeRequest
	if err := decodeBody(body, &req, vllmTokenizeFields); err != nil {
		return "", "", err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return "", "", fmt.Errorf("the body is not the JSON expected: %s", sayDecodeErr(body, err))
	}
	if field, why := typeFaults(fields, vllmTokenizeFields); field != "" {
		return req.Model, "", invalid(&badRequest{field, refusal(field, field, why)})
	}
	t := req.Prompt
	if t == nil {
		t = req.Text
	}
	if t == nil {
		return req.Model, "", invalid(&badRequest{"prompt", `give "prompt", the text to tokenize`})
	}
	if field, why := checkFields(fields, vllmTokenizeFields); field != "" {
		return req.Model, "", &badRequest{field, refusal(field, field, why)}
	}
	name := "prompt"
	if req.Prompt == nil {
		name = "text"
	}
	if br := loneSurrogate(name, fields[name]); br != nil { // as vLLM fails to tokenize it, once the model is known
		return req.Model, "", br
	}
	return req.Model, *t, nil
}

// refused answers a request that cannot go on, in vLLM's order: a body
// that does not decode or that its pydantic model refuses (invalidBody),
// then an unknown model, then a field refused (*badRequest, whose model
// is known); it reports whether it answered.
func (s *Server) refused(w http.ResponseWriter, model string, err error) bool {
	var br *badRequest
	var miss *jsonerr.CaseMiss
	var inv invalidBody
	if errors.As(err, &miss) { // a body that decodes only in another case: OpenAI's param is the key
		openAIError(w, http.StatusBadRequest, "BadRequestError", miss.Key, err.Error())
		return true
	}
	if err != nil && !errors.As(err, &br) {
		openAIError(w, http.StatusBadRequest, "BadRequestError", "", err.Error())
		return true
	}
	if errors.As(err, &inv) {
		openAIError(w, http.StatusBadRequest, "BadRequestError", inv.param, inv.msg)
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

// minTemperature is the least temperature vLLM computes at but 0 (its
// _MAX_TEMP): one in (0, minTemperature) is raised to it.
const minTemperature = 0.01

// temperatureOf is the temperature a /v1/completions log-prob is computed
// at for the one asked (nil: absent): 1 for 0 or none, the greedy token's
// log-probs (parseCompletions raises one in (0, 0.01) to 0.01 after).
func temperatureOf(t *float64) float64 {
	if t == nil || *t <= 0 {
		return 1
	}
	return *t
}

// completionsRequest is a /v1/completions body as rlt serve takes it.
type completionsRequest struct {
	Model       string
	Prompts     prompts // one or more
	MaxTokens   int     // 0 (with Echo) or 1
	Temperature float64 // > 0
	// RaisedFrom is the temperature asked where it was in (0, 0.01),
	// which Temperature holds raised to 0.01 (minTemperature); 0 where
	// none was raised.
	RaisedFrom float64
	Echo       bool
	// PromptLogprobs is prompt_logprobs k (−1: the whole vocabulary), nil
	// when not asked; Logprobs is the legacy logprobs N, alike.
	PromptLogprobs *int
	Logprobs       *int
	AsTokenIDs     bool // return_tokens_as_token_ids
	// Stop are the stop strings, in the request's order; StopTokenIDs the
	// stop token ids; IncludeStop is include_stop_str_in_output; IgnoreEOS
	// is ignore_eos (vllmFinish).
	Stop         []string
	StopTokenIDs []int64
	IncludeStop  bool
	IgnoreEOS    bool
	// SkipSpecial is skip_special_tokens: the generated token's text
	// leaves special tokens out (vLLM's default).
	SkipSpecial bool
	// RequestID is request_id: the answer's id is "cmpl-" and it.
	RequestID string
	// MinTokens is min_tokens (0 or 1), BadWords bad_words,
	// AllowedTokenIDs allowed_token_ids (nil when not given), and
	// LogitBias logit_bias, its keys and values read: what they hold back
	// from the generated token, or bias it by, is Bias, once the server
	// has checked them against the model (vllmBias; nil: nothing).
	MinTokens       int
	BadWords        []string
	AllowedTokenIDs []int64
	LogitBias       vllmBiasDict
	Bias            *rlt.LogitBias
	// badWordsFault is bad_words' lone surrogate escape (loneSurrogate:
	// read as U+FFFD), nil where it holds none: vllmBias refuses it where
	// vLLM's tokenizing of the bad words fails on it.
	badWordsFault *badRequest
}

// maxLogprobs is vLLM's default --max-logprobs: the most top log-probs a
// request may ask of a position (Server.MaxLogprobs).
const maxLogprobs = 20

// parseCompletions decodes and checks a /v1/completions body. A body that
// decodes but asks what rlt serve does not answer is a *badRequest (the
// model is then known), or an invalidBody, one vLLM's pydantic model
// refuses, reported before the model is. Where a request has several
// faults, the one returned is the one vLLM reports first: its pydantic
// model's refusals (a bias that is no number, with the body's other
// types; then its model validators' and field constraints'), then
// logit_bias's keys (SamplingParams.from_optional), then the sampling
// parameters' bounds (SamplingParams._verify_args, in its order), then
// rlt serve's refusals of what vLLM answers (ownRefusal, which
// completions reports after all vLLM refuses). completions checks a
// prompt's length before all but the first of those, and once the model
// is known, the logprobs asked and logit_bias's token ids against the
// vocabulary (checkLogprobs, vllmBias: SamplingParams.verify's order),
// then each prompt's ids, as vLLM does.
func parseCompletions(body []byte) (completionsRequest, error) {
	var req struct {
		Model          string         `json:"model"`
		Prompt         *prompts       `json:"prompt"`
		MaxTokens      *laxInt        `json:"max_tokens"`
		Temperature    *laxFloat      `json:"temperature"`
		PromptLogprobs *laxIntNoText  `json:"prompt_logprobs"`
		Logprobs       *laxIntNoText  `json:"logprobs"`
		Echo           laxBool        `json:"echo"`
		N              *laxInt        `json:"n"`
		Stream         laxBool        `json:"stream"`
		AsTokenIDs     laxBool        `json:"return_tokens_as_token_ids"`
		Stop           stopStrings    `json:"stop"`
		StopTokenIDs   []int64        `json:"stop_token_ids"`
		IncludeStop    laxBool        `json:"include_stop_str_in_output"`
		IgnoreEOS      laxBool        `json:"ignore_eos"`
		SkipSpecial    *laxBool       `json:"skip_special_tokens"`
		RequestID      string         `json:"request_id"`
		MinTokens      laxIntChecked  `json:"min_tokens"`
		BadWords       []string       `json:"bad_words"`
		Allowed        *[]int64       `json:"allowed_token_ids"`
		LogitBias      logitBiasField `json:"logit_bias"`
	}
	body = pythonJSON(body) // as vLLM's FastAPI reads it
	// The body's fields as given, for what is read of them besides req
	// (vllmIntFaults, fields.go's rules); nil where the body is no JSON
	// object, which decodeBody says.
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil {
		fields = nil
	}
	if br := vllmIntFaults(fields); br != nil {
		return completionsRequest{}, invalid(br)
	}
	if err := decodeBody(body, &req, vllmFields); err != nil {
		return completionsRequest{}, err
	}
	biases, err := vllmBiasValues(req.LogitBias)
	if err != nil {
		return completionsRequest{}, err
	}
	// The number and yes/no fields as vLLM's pydantic model reads them
	// (lax.go).
	temperature, n := (*float64)(req.Temperature), (*int)(req.N)
	out := completionsRequest{Model: req.Model, Temperature: temperatureOf(temperature), Echo: bool(req.Echo),
		PromptLogprobs: (*int)(req.PromptLogprobs), Logprobs: (*int)(req.Logprobs), AsTokenIDs: bool(req.AsTokenIDs),
		Stop: req.Stop, StopTokenIDs: req.StopTokenIDs, IncludeStop: bool(req.IncludeStop), IgnoreEOS: bool(req.IgnoreEOS),
		SkipSpecial: req.SkipSpecial == nil || bool(*req.SkipSpecial), RequestID: req.RequestID, BadWords: req.BadWords, badWordsFault: loneSurrogate("bad_words", fields["bad_words"])}
	maxTokens := 16 // the OpenAI default, refused below
	if req.MaxTokens != nil {
		maxTokens = int(*req.MaxTokens)
	}
	// vLLM generates a token for max_tokens 0 with echo too
	// (to_sampling_params): min_tokens is bounded by that one.
	generated := max(maxTokens, 1)
	minTokens := req.MinTokens.x
	// What vLLM's pydantic model refuses as it reads the body, before the
	// model is looked up (invalid): a field's type, its constraints, the
	// model validators.
	noPrompt := req.Prompt == nil || len(*req.Prompt) == 1 && (*req.Prompt)[0].text != nil && *(*req.Prompt)[0].text == ""
	switch {
	case noPrompt && unset(fields["prompt_embeds"]): // validate_prompt_and_prompt_embeds: no prompt, or one text ""
		return out, invalid(&badRequest{"prompt", "Either prompt or prompt_embeds must be provided and non-empty. (parameter=prompt)"})
	case req.Prompt == nil: // prompt_embeds alone, which vLLM takes and rlt serve refuses, once the model is known
		if field, why := typeFaults(fields, vllmSamplingFields); field != "" {
			return out, invalid(&badRequest{field, refusal(field, field, why)})
		}
		return out, &badRequest{"prompt_embeds", refusal("prompt_embeds", "prompt_embeds", vllmFields["prompt_embeds"](fields["prompt_embeds"]).why)}
	case req.PromptLogprobs != nil && *req.PromptLogprobs < -1:
		return out, invalid(&badRequest{"prompt_logprobs", "`prompt_logprobs` must be a positive value or -1."})
	case req.Logprobs != nil && *req.Logprobs < -1:
		return out, invalid(&badRequest{"logprobs", "`logprobs` must be a positive value or -1."})
	case req.MinTokens.notWhole: // an int field
		return out, invalid(&badRequest{"min_tokens", fmt.Sprintf("min_tokens must be a whole number, got %g", minTokens)})
	}
	if br := negativeIDs(*req.Prompt); br != nil { // the prompt's ids are Field(ge=0)
		return out, invalid(br)
	}
	if field, why := checkFields(fields, vllmReadBools); field != "" {
		return out, invalid(&badRequest{field, refusal(field, field, why)})
	}
	if field, why := checkFields(fields, vllmModelFields); field != "" {
		return out, invalid(&badRequest{field, refusal(field, field, why)})
	}
	if field, why := typeFaults(fields, vllmSamplingFields); field != "" {
		return out, invalid(&badRequest{field, refusal(field, field, why)})
	}
	// Set before the refusals that follow, which vLLM makes once it has
	// checked each prompt's length against the model (completions).
	out.Prompts, out.MaxTokens = *req.Prompt, maxTokens
	// What vLLM's renderer refuses (render_completion), once the model is
	// looked up and before the prompts are.
	if field, why := checkFieldsInOrder(fields, vllmSamplingFields, "suffix"); field != "" {
		return out, renderRefusal{&badRequest{field, refusal(field, field, why)}}
	}
	if br := loneSurrogate("prompt", fields["prompt"]); br != nil { // the renderer's tokenizer fails on it
		return out, renderRefusal{br}
	}
	if out.LogitBias, err = vllmLogitBiasKeys(req.LogitBias, biases); err != nil {
		return out, err
	}
	// SamplingParams.__post_init__ raises a temperature in (0, 0.01) to
	// 0.01, with a warning, before _verify_args and its greedy check
	// (vLLM's sampling_params.py, _MAX_TEMP): a smaller one's logits
	// overflow float32 (1e-40: NaN log-probs, no JSON answer) or give
	// log-probs below −9999 that vLLM never computes. So here, that one
	// request asks the same of both servers; the warning is written once
	// the request has got this far (completions), as vLLM logs it.
	vllmTemperature := temperature
	if temperature != nil && 0 < *temperature && *temperature < minTemperature {
		raised := minTemperature
		out.Temperature, out.RaisedFrom, vllmTemperature = raised, *temperature, &raised
	}
	bounds := func(names ...string) error { // vllmSamplingFields' of names, in that order
		if field, why := checkFieldsInOrder(fields, vllmSamplingFields, names...); field != "" {
			return &badRequest{field, refusal(field, field, why)}
		}
		return nil
	}
	// SamplingParams._verify_args' bounds, in its order.
	if n != nil && *n < 1 { // vLLM's SamplingParams' words
		return out, &badRequest{"", fmt.Sprintf("n must be at least 1, got %d.", *n)}
	}
	if err := bounds("presence_penalty", "frequency_penalty", "repetition_penalty"); err != nil {
		return out, err
	}
	switch {
	case temperature != nil && (math.IsInf(*temperature, 0) || math.IsNaN(*temperature)): // vLLM's words: "inf" and "nan" are read as numbers
		return out, &badRequest{"temperature", fmt.Sprintf("temperature must be a finite number, got %s. (parameter=temperature, value=%[1]s)", hf.PythonFloat(*temperature))}
	case temperature != nil && *temperature < 0: // vLLM's SamplingParams._verify_args' words
		return out, &badRequest{"temperature", fmt.Sprintf("temperature must be non-negative, got %s. (parameter=temperature, value=%[1]s)", hf.PythonFloat(*temperature))}
	case temperature != nil && *temperature > 2: // OpenAI's bound, which vLLM keeps since 0.24 (its PR 44965)
		return out, &badRequest{"temperature", fmt.Sprintf("temperature must be in [0, 2], got %s. (parameter=temperature, value=%[1]s)", hf.PythonFloat(*temperature))}
	}
	if err := bounds("top_p", "top_k", "min_p"); err != nil {
		return out, err
	}
	maxTokensRefused := &badRequest{"max_tokens", fmt.Sprintf("rlt serve computes prompt log-probs: max_tokens must be 1, or 0 with echo (got %d)", maxTokens)}
	switch {
	case maxTokens == 0 && !out.Echo, maxTokens < 0: // where vLLM refuses max_tokens below 1
		return out, maxTokensRefused
	case minTokens < 0: // vLLM's SamplingParams._verify_args' words
		return out, &badRequest{"min_tokens", fmt.Sprintf("min_tokens must be greater than or equal to 0, got %g.", minTokens)}
	case minTokens > float64(generated):
		return out, &badRequest{"min_tokens", fmt.Sprintf("min_tokens must be less than or equal to max_tokens=%d, got %g.", generated, minTokens)}
	case slices.Contains(req.Stop, ""):
		return out, &badRequest{"", "stop cannot contain an empty string."} // vLLM's SamplingParams names no parameter
	case loneSurrogate("stop", fields["stop"]) != nil:
		// Read as U+FFFD, a stop string the client did not send, which a
		// generated piece decoded to U+FFFD (a byte-fallback token's) would
		// match: refused in the prompt's words, with the sampling
		// parameters' faults.
		return out, loneSurrogate("stop", fields["stop"])
	case slices.Contains(req.BadWords, ""): // its list as Python writes it
		return out, &badRequest{"bad_words", "bad_words cannot contain an empty string. Got bad_words=" + pyStrs(req.BadWords)}
	// Once _verify_args has passed, SamplingParams' greedy check.
	case n != nil && *n > 1 && vllmTemperature != nil && *vllmTemperature < 1e-5: // 0: one raised to 0.01 is no greedy sampling
		return out, &badRequest{"", fmt.Sprintf("n must be 1 when using greedy sampling, got %d.", *n)}
	}
	out.MinTokens = int(minTokens)
	if req.Allowed != nil {
		out.AllowedTokenIDs = *req.Allowed
	}
	// What rlt serve refuses of a request vLLM answers as it is: reported
	// after all vLLM refuses (ownRefusal), the request read whole; the
	// other fields' refusals before it.
	var own error
	switch {
	case bool(req.Stream):
		own = ownRefusal{&badRequest{"", "rlt serve answers one choice a prompt, not streamed"}}
	case n != nil && *n > 1:
		own = ownRefusal{&badRequest{"n", fmt.Sprintf("n %d asks for %d samples of each prompt, which would differ: rlt serve answers one choice a prompt, its greedy token", *n, *n)}}
	case maxTokens > 1:
		own = ownRefusal{maxTokensRefused}
	}
	if field, why := checkFields(fields, vllmSamplingFields); field != "" {
		return out, &badRequest{field, refusal(field, field, why)}
	}
	return out, own
}

// negativeIDs is vLLM's refusal of a prompt of token ids below 0 (its
// pydantic model's list[Annotated[int, Field(ge=0)]]: greater_than_equal,
// before the model is looked up), naming the first; nil when there is
// none. Ids past the vocabulary are checked last, against the model.
func negativeIDs(ps prompts) *badRequest {
	for i, p := range ps {
		for j, id := range p.ids {
			if id >= 0 {
				continue
			}
			at := fmt.Sprintf("prompt[%d]", j)
			if len(ps) > 1 {
				at = fmt.Sprintf("prompt[%d][%d]", i, j)
			}
			return &badRequest{"prompt", fmt.Sprintf("%s: "+belowBound, at, 0, strconv.Itoa(int(id)))}
		}
	}
	return nil
}

// vllmIntFaults is what vLLM's pydantic model refuses of the int fields
// parseCompletions decodes itself, among the body's fields, where its refusal is not a type's
// (which decoding says, as before): check_logprobs' refusal of a number
// below 0 but -1 (1.5 or -1e999 too: the validator compares the value as
// JSON gives it, before pydantic reads it), prompt_logprobs' first; then,
// in the fields' order, a float past int64's range or a text past 4300
// characters (int_parsing_size) and an infinity or NaN (finite_number),
// in pydantic-core's words. nil: none of these.
func vllmIntFaults(fields map[string]json.RawMessage) *badRequest {
	for _, name := range []string{"prompt_logprobs", "logprobs"} {
		num, isNumber := jsonValue(fields[name]).(json.Number)
		if x, ok := jsonFloat(num); isNumber && ok && x < 0 && x != -1 {
			return &badRequest{name, fmt.Sprintf("`%s` must be a positive value or -1.", name)}
		}
	}
	for _, name := range []string{"logprobs", "max_tokens", "min_tokens", "n", "prompt_logprobs"} {
		raw, ok := fields[name]
		if !ok || isNull(raw) {
			continue
		}
		if _, fault := laxWholeOf(jsonValue(raw)); fault == intTooBig || fault == notFinite {
			return &badRequest{name, refusal(name, name, fmt.Sprintf(fault, asGiven(raw)))}
		}
	}
	return nil
}

// promptK is the prompt log-probs' k a request asks (vLLM's
// to_sampling_params: prompt_logprobs, else with echo logprobs), -1 for
// the whole vocabulary of vocab; ok is false when none are asked.
func (req *completionsRequest) promptK(vocab int) (k int, ok bool) {
	p := req.PromptLogprobs
	if p == nil && req.Echo {
		p = req.Logprobs
	}
	if p == nil {
		return 0, false
	}
	if *p == -1 {
		return vocab, true
	}
	return *p, true
}

// checkLogprobs is vLLM's check of the top log-probs asked against its
// --max-logprobs (input_processor's _validate_logprobs, its words): the
// generated token's first, then the prompt's.
func (s *Server) checkLogprobs(req *completionsRequest) *badRequest {
	vocab := s.Src.Vocab
	limit := s.MaxLogprobs
	if limit == -1 {
		limit = vocab
	}
	if n := req.Logprobs; n != nil && *n != 0 {
		v := *n
		if v == -1 {
			v = vocab
		}
		if v > limit {
			return &badRequest{"logprobs", fmt.Sprintf("Requested sample logprobs of %d, which is greater than max allowed: %d (parameter=logprobs, value=%d)", v, limit, v)}
		}
	}
	if k, ok := req.promptK(vocab); ok && k > limit {
		return &badRequest{"prompt_logprobs", fmt.Sprintf("Requested prompt logprobs of %d, which is greater than max allowed: %d (parameter=prompt_logprobs, value=%d)", k, limit, k)}
	}
	return nil
}

func (s *Server) completions(w http.ResponseWriter, r *http.Request) {
	var req completionsRequest
	body, err := readBody(r)
	if err == nil {
		req, err = parseCompletions(body)
	}
	// vLLM reads the body (its pydantic model), looks the model up, and
	// renders the prompts (renderRefusal), refusing one too long; only
	// then does it make the sampling parameters and check them
	// (SamplingParams: logit_bias's keys, _verify_args: parseCompletions'
	// later refusals), check them
	// against the model (verify: checkLogprobs, vllmBias), and last check
	// each prompt against it (InputProcessor: empty, then ids outside the
	// vocabulary). Of several faults, the one it reports first is
	// reported; rlt serve's refusals of what vLLM answers (ownRefusal)
	// after all of those.
	var later *badRequest
	var own ownRefusal
	switch {
	case errors.As(err, &own):
		err = nil
	case errors.As(err, new(renderRefusal)): // reported by refused, after the model
	case !errors.As(err, new(invalidBody)) && errors.As(err, &later):
		err = nil
	}
	if s.refused(w, req.Model, err) {
		return
	}
	bad := func(param, msg string) { openAIError(w, http.StatusBadRequest, "BadRequestError", param, msg) }
	maxTokens := req.MaxTokens
	all := make([][]int32, len(req.Prompts))
	for i, p := range req.Prompts {
		all[i] = p.ids
		if p.text != nil {
			all[i] = s.Tok.Encode(*p.text)
		}
		if n := len(all[i]); n+maxTokens > s.maxLen() { // vLLM's renderer's words (TokenizeParams' max_total_tokens)
			bad("input_tokens", fmt.Sprintf("You passed %d input tokens and requested %d output tokens. However, the model's context length is only %d tokens, resulting in a maximum input length of %d tokens. Please reduce the length of the input prompt. (parameter=input_tokens, value=%d)",
				n, maxTokens, s.maxLen(), s.maxLen()-maxTokens, n))
			return
		}
	}
	// vLLM makes a SamplingParams for each prompt here, once the prompts
	// are rendered (create_completion's loop, to_sampling_params), and
	// logs the temperature it raises each time: a line a prompt.
	if req.RaisedFrom > 0 && s.Warn != nil {
		s.warnMu.Lock()
		for range req.Prompts {
			fmt.Fprintf(s.Warn, "rlt serve: WARNING: temperature %s is less than 0.01, which may cause numerical errors nan or inf in tensors. We have maxed it out to 0.01.\n", hf.PythonFloat(req.RaisedFrom))
		}
		s.warnMu.Unlock()
	}
	if later == nil {
		if br := s.checkLogprobs(&req); br != nil {
			later = br
		}
	}
	var badWords afterPrompts
	if later == nil {
		req.Bias, err = s.vllmBias(&req)
		switch {
		case err == nil:
		case errors.As(err, &badWords): // a bad word of no token: after the prompts' checks
		case errors.As(err, &own): // every token held back: after the prompts' checks
		case !errors.As(err, &later):
			bad("", err.Error())
			return
		}
	}
	if later != nil {
		bad(later.param, later.msg)
		return
	}
	for _, ids := range all {
		if len(ids) == 0 {
			bad("prompt", "the prompt is empty")
			return
		}
		if err := checkIDs(ids, s.Src.Vocab); err != nil {
			bad("prompt", err.Error())
			return
		}
	}
	if badWords.badRequest != nil {
		bad(badWords.param, badWords.msg)
		return
	}
	if own.badRequest != nil {
		bad(own.param, own.msg)
		return
	}
	// The prompts are computed together, with those of the requests
	// waiting beside this one (coalesce.go), each choice as it would be
	// alone.
	asks := make([]ask, len(all))
	for i := range asks {
		asks[i] = ask{req.Temperature, s.promptOptions(&req)}
	}
	scores, err := s.score(r.Context(), all, asks)
	if r.Context().Err() != nil {
		return // the client went away: no one reads an answer
	}
	if err != nil {
		openAIError(w, http.StatusInternalServerError, "InternalServerError", "", err.Error())
		return
	}
	choices := make([]any, len(all))
	prompt, completion := 0, 0
	for i, ids := range all {
		choices[i] = s.completion(&req, req.Prompts[i], ids, i, &scores[i])
		prompt += len(ids)
		completion++ // the generated token, shown or not (completion)
	}
	// vLLM's id: "cmpl-" and the X-Request-Id header, else the request's
	// request_id, else its own.
	id := r.Header.Get("X-Request-Id")
	if id == "" {
		id = req.RequestID
	}
	if id == "" {
		id = fmt.Sprint(s.n.Add(1))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": "cmpl-" + id, "object": "text_completion", "created": time.Now().Unix(), "model": s.Name,
		"choices": choices,
		"usage":   map[string]any{"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
	})
}

// lpEntry is one token of a position's vLLM log-probs dict: {"<id>":
// {"logprob", "rank", "decoded_token"}}.
type lpEntry struct {
	id   int32
	lp   float64
	rank int
	text string
}

// position is a position's dict in vLLM's order: the prompt (or sampled)
// token first, then the top-k, most likely first. A top-k token that is
// that token is not repeated: as Python's dict keeps a key's first place
// when it is set again, the first entry takes its top-k rank (vLLM's
// append_logprobs_for_next_position), and keeps the token's own log-prob.
func position(own lpEntry, top []int32, topLP []float32, text func(int32) string) []lpEntry {
	entries := []lpEntry{own}
	for j, id := range top {
		if id == own.id {
			entries[0].rank = j + 1
			continue
		}
		entries = append(entries, lpEntry{id, float64(topLP[j]), j + 1, text(id)})
	}
	return entries
}

// promptOptions is what req asks the model of each of its prompts.
func (s *Server) promptOptions(req *completionsRequest) rlt.PromptOptions {
	k, promptLP := req.promptK(s.Src.Vocab)
	// The next token even for max_tokens 0: vLLM generates it (completion).
	return rlt.PromptOptions{Next: true, Ranks: promptLP, TopK: k, NextTopK: req.nextTopK(), NextBias: req.Bias}
}

// pyInts is ids as Python writes a list of them: [1, 2].
func pyInts(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// nextTopK is the top log-probs req asks of the generated token (logprobs
// N), 0 when none are shown: logprobs -1's dicts are shown empty, as vLLM
// shows them (legacyLogprobs).
func (req *completionsRequest) nextTopK() int {
	if req.Logprobs == nil || req.MaxTokens != 1 || *req.Logprobs < 0 {
		return 0
	}
	return *req.Logprobs
}

// vllmBias is how req adjusts the logits of the generated token, as
// vLLM's sampler adjusts them (holdback.go): logit_bias added, and held
// back (−∞) every token but allowed_token_ids, bad_words of one token,
// and, with min_tokens 1, the stop token ids: the request's and the
// model's end of sequence (SamplingParams' all_stop_token_ids, which hold
// it whatever ignore_eos). Token ids are checked against the model's
// vocabulary as vLLM checks them, in its words (SamplingParams.verify, in
// its order: logit_bias's, stop_token_ids' whatever min_tokens, then
// allowed_token_ids, empty or outside it). nil: no adjustment.
func (s *Server) vllmBias(req *completionsRequest) (*rlt.LogitBias, error) {
	h, err := vllmLogitBias(req.LogitBias, s.Src.Vocab)
	if err != nil {
		return nil, err
	}
	vocab := int64(s.Src.Vocab)
	outsideOf := func(ids []int64) []int64 {
		var out []int64
		for _, id := range ids {
			if id < 0 || id >= vocab {
				out = append(out, id)
			}
		}
		return out
	}
	if outside := outsideOf(req.StopTokenIDs); outside != nil {
		return nil, &badRequest{"stop_token_ids", fmt.Sprintf("token_id(s) %s in stop_token_ids contain out-of-vocab token ids. Vocabulary size: %d (parameter=stop_token_ids, value=%s)", pyInts(outside), vocab, pyInts(outside))}
	}
	if req.AllowedTokenIDs != nil {
		switch outside := outsideOf(req.AllowedTokenIDs); { // vLLM's words
		case len(req.AllowedTokenIDs) == 0:
			return nil, &badRequest{"allowed_token_ids", "allowed_token_ids is not None and empty! (parameter=allowed_token_ids, value=[])"}
		case outside != nil:
			return nil, &badRequest{"allowed_token_ids", fmt.Sprintf("allowed_token_ids contains out-of-vocab token id! (parameter=allowed_token_ids, value=%s)", pyInts(outside))}
		}
		only := make([]int32, 0, len(req.AllowedTokenIDs))
		for _, id := range req.AllowedTokenIDs {
			only = append(only, int32(id))
		}
		if h == nil {
			h = &rlt.LogitBias{}
		}
		h.Only = only
	}
	if req.badWordsFault != nil {
		return nil, afterPrompts{req.badWordsFault} // vLLM's tokenizing of the bad words fails on it (surrogates not allowed)
	}
	words, err := badWordTokens(s.Tok, req.BadWords)
	if err != nil {
		var br *badRequest
		errors.As(err, &br)
		return nil, afterPrompts{br} // vLLM tokenizes the bad words once it has checked the prompts
	}
	h = h.Hold(words...)
	if req.MinTokens > 0 {
		for _, id := range req.StopTokenIDs {
			h = h.Hold(int32(id))
		}
		if s.EOS.Token != nil {
			h = h.Hold(*s.EOS.Token)
		}
		h = h.Hold(s.EOS.More...)
	}
	if h != nil && h.AllHeld(s.Src.Vocab) {
		return nil, ownRefusal{&badRequest{"", errAllHeld.Error()}} // vLLM answers it, picking a token of −∞
	}
	return h, nil
}

// stopStrings is a /v1/completions "stop": one text or a list of them.
type stopStrings []string

func (st *stopStrings) UnmarshalJSON(b []byte) error {
	if isNull(b) { // vLLM's None: no stop strings
		*st = nil
		return nil
	}
	var one string
	if json.Unmarshal(b, &one) == nil {
		*st = stopStrings{one}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return errors.New(`"stop" must be a text or a list of texts`)
	}
	*st = list
	return nil
}

// vllmFinish is how vLLM's V1 engine ends the one token it generates,
// next, after prompt, and the text it returns of it, for req:
//   - the model's end of sequence (Server.EOS.Token) ends it, unless the
//     request asks ignore_eos: finish_reason "stop", stop_reason null;
//   - else a stop token, one of the request's stop_token_ids or, unless
//     ignore_eos, of the model's (Server.EOS.More), ends it: "stop",
//     stop_reason the id (the scheduler's check_stop, which tries these
//     before max_tokens);
//   - a token that ends it so is left out of the text unless
//     include_stop_str_in_output (the detokenizer's update, whose
//     stop_terminated skips it);
//   - else max_tokens ends it: "length", stop_reason null;
//   - then the text is searched for the stop strings in the request's
//     order (check_stop_strings): the first found ends it, "stop" with
//     stop_reason the string (the output processor puts it in place of
//     the scheduler's), the text cut where it begins, or where it ends
//     with include_stop_str_in_output.
func (s *Server) vllmFinish(req *completionsRequest, prompt []int32, next int32) (text, finish string, stopReason any) {
	finish = "length"
	stopped := false
	switch eos := s.EOS; {
	case !req.IgnoreEOS && eos.Token != nil && next == *eos.Token:
		stopped, finish = true, "stop"
	case slices.Contains(req.StopTokenIDs, int64(next)) || !req.IgnoreEOS && slices.Contains(eos.More, next):
		stopped, finish, stopReason = true, "stop", next
	}
	if !stopped || req.IncludeStop {
		text = vllmOutputText(s.Tok, prompt, next, req.SkipSpecial)
	}
	if text == "" { // no new characters to search
		return text, finish, stopReason
	}
	for _, stop := range req.Stop {
		at := strings.Index(text, stop)
		if at < 0 {
			continue
		}
		if req.IncludeStop {
			at += len(stop)
		}
		return text[:at], "stop", stop
	}
	return text, finish, stopReason
}

// completion is the choice answering prompt p (ids) of req, index i,
// whose scores (promptOptions) are sc.
func (s *Server) completion(req *completionsRequest, p prompt, ids []int32, i int, sc *rlt.PromptScores) map[string]any {
	maxTokens := req.MaxTokens
	k, promptLP := req.promptK(s.Src.Vocab)
	text := ""
	if req.Echo {
		// vLLM echoes a text prompt as given, and decodes token ids.
		if p.text != nil {
			text = *p.text
		} else {
			text = s.Tok.DecodeHF(ids, false)
		}
	}
	// vLLM generates one token even for max_tokens 0 with echo (its
	// to_sampling_params asks max_tokens 1 of echo_without_generation): it
	// is not shown, but ends the choice (finish_reason, stop_reason) and
	// is counted in the usage's completion_tokens.
	out, finish, stopReason := s.vllmFinish(req, ids, sc.Next)
	if maxTokens == 1 {
		text += out
	}
	// steps are the dicts of the prompt's positions (nil: position 0's None).
	var steps [][]lpEntry
	var plp []any
	if promptLP {
		steps = make([][]lpEntry, len(ids))
		plp = make([]any, len(ids))
		for pos := 1; pos < len(ids); pos++ {
			var top []int32
			var topLP []float32
			if k > 0 {
				top, topLP = sc.TopIDs[pos-1], sc.TopLogProbs[pos-1]
			}
			own := lpEntry{ids[pos], float64(sc.LogProbs[pos-1]), sc.Ranks[pos-1], vllmPromptTokenText(s.Tok, ids, pos)}
			steps[pos] = position(own, top, topLP, func(id int32) string { return vllmCandidateText(s.Tok, ids, pos, id) })
			plp[pos] = idObject(steps[pos])
		}
	}
	var logprobs any
	if req.Logprobs != nil {
		var tokens []int32
		var at [][]lpEntry
		if req.Echo {
			tokens, at = ids, steps
		}
		if maxTokens == 1 {
			own := lpEntry{sc.Next, float64(sc.NextLogProb), sc.NextRank, vllmSampleTokenText(s.Tok, sc.Next)}
			tokens = append(slices.Clip(tokens), sc.Next)
			at = append(slices.Clip(at), position(own, sc.NextTopIDs, sc.NextTopLogProbs, func(id int32) string { return vllmSampleTokenText(s.Tok, id) }))
		}
		logprobs = s.legacyLogprobs(tokens, at, *req.Logprobs, req.AsTokenIDs)
	}
	return map[string]any{"index": i, "text": text, "logprobs": logprobs, "finish_reason": finish, "stop_reason": stopReason, "prompt_logprobs": plp}
}

// idObject is a position's dict as vLLM writes it: keyed by token id, in
// its order.
func idObject(entries []lpEntry) object {
	o := make(object, 0, len(entries))
	for _, e := range entries {
		o = o.set(strconv.Itoa(int(e.id)), map[string]any{"logprob": promptClamp(e.lp), "rank": e.rank, "decoded_token": e.text})
	}
	return o
}

// legacyLogprobs is the OpenAI legacy completions "logprobs" object of
// tokens, whose position dicts are at (nil: none, the first prompt token),
// with n top log-probs asked, as vLLM's _create_completion_logprobs makes
// it: "tokens" each token's decoded_token (a token without a dict decoded
// alone), or "token_id:<id>" with return_tokens_as_token_ids;
// "token_logprobs" its log-prob (null without a dict); "top_logprobs" the
// first n+1 entries of its dict keyed by the same texts (a text met again
// keeps its first place and takes the later value), null without one: for
// n -1, none (vLLM 0.24.0 accepts logprobs -1, its PR 46175, but its
// filter keeps an entry where n is at least its index); and
// "text_offset" the running sum of the tokens' lengths in characters
// (Python's len: code points), from 0.
func (s *Server) legacyLogprobs(tokens []int32, at [][]lpEntry, n int, asIDs bool) map[string]any {
	name := func(id int32, text string) string {
		if asIDs {
			return fmt.Sprintf("token_id:%d", id)
		}
		return text
	}
	out := struct {
		offsets []int
		lps     []any
		texts   []string
		tops    []any
	}{make([]int, 0, len(tokens)), make([]any, 0, len(tokens)), make([]string, 0, len(tokens)), make([]any, 0, len(tokens))}
	offset := 0
	for i, id := range tokens {
		var token string
		if at == nil || at[i] == nil {
			token = name(id, s.Tok.DecodeHF([]int32{id}, false))
			out.lps, out.tops = append(out.lps, nil), append(out.tops, nil)
		} else {
			e := at[i][0] // the token's own entry comes first
			token = name(id, e.text)
			out.lps = append(out.lps, clamp64(e.lp))
			top := object{}
			for j, c := range at[i] {
				if j > n { // vLLM's filter: enumerate index ≤ n (none for -1: an empty dict)
					break
				}
				top = top.set(name(c.id, c.text), clamp64(c.lp))
			}
			out.tops = append(out.tops, top)
		}
		out.texts = append(out.texts, token)
		out.offsets = append(out.offsets, offset)
		offset += utf8.RuneCountInString(token)
	}
	return map[string]any{"text_offset": out.offsets, "token_logprobs": out.lps, "tokens": out.texts, "top_logprobs": out.tops}
}

// object is a JSON object whose keys keep their order (a Python dict's),
// where Go's maps are written sorted.
type object []struct {
	k string
	v any
}

// set is o with key k set to v: in its place when o has it, else last.
func (o object) set(k string, v any) object {
	for i := range o {
		if o[i].k == k {
			o[i].v = v
			return o
		}
	}
	return append(o, struct {
		k string
		v any
	}{k, v})
}

func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // as writeJSON: <|im_end|> reads as itself
	b.WriteByte('{')
	for i, kv := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := enc.Encode(kv.k); err != nil {
			return nil, err
		}
		b.Truncate(b.Len() - 1) // Encode's newline
		b.WriteByte(':')
		if err := enc.Encode(kv.v); err != nil {
			return nil, err
		}
		b.Truncate(b.Len() - 1)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// clamp is a log-prob JSON can hold, as the OpenAI API writes a token
// too unlikely to say: −9999 for −∞ and for any value below it (a tiny
// temperature's), the rule of vLLM's completions logprobs (clamp64),
// kept for /generate's (SGLang's) log-probs.
func clamp(v float32) float64 { return clamp64(float64(v)) }

// clamp64 is vLLM's completions "logprobs" value (token_logprobs and
// top_logprobs, echoed prompt tokens among them): the log-prob or −9999.0,
// whichever is larger, so −∞ and every finite value below −9999 read
// −9999.0.
func clamp64(v float64) float64 {
	if v < -9999 {
		return -9999
	}
	return v
}

// promptClamp is vLLM's "prompt_logprobs" value: −∞ alone becomes −9999.0
// (JSON has no −∞); a finite value below −9999 (a tiny temperature's) is
// written as it is, unlike the completions logprobs' (clamp64).
func promptClamp(v float64) float64 {
	if math.IsInf(v, -1) {
		return -9999
	}
	return v
}
