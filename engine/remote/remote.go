// Package remote scores through inference servers: a Server is an
// rlt.LogProbSource that asks a vLLM or SGLang server (or `rlt serve`) for
// the prompt log-probs of token ids, so that `rlt score` gives the same
// record.Scored with a 7B teacher on a GPU node as with models in process.
//
// The two protocols, as the servers' own source defines them:
//
//   - vLLM, OpenAI-compatible POST /v1/completions (vllm-project/vllm,
//     vllm/entrypoints/openai/protocol.py: CompletionRequest's prompt
//     (token ids), max_tokens, temperature, prompt_logprobs;
//     CompletionResponseChoice.prompt_logprobs, a list with one entry per
//     prompt token, null for the first, else {"<id>": {"logprob", "rank",
//     "decoded_token"}} holding at least the prompt token's own (Logprob in
//     vllm/sequence.py, vllm/logprobs.py in newer versions; a −∞ log-prob is
//     written −9999); errors are ErrorResponse, {"object": "error",
//     "message", "type", "code"} or, in newer versions, {"error": {...}}).
//     We send max_tokens 1: every version takes it (echo with max_tokens 0
//     is a special case of serving_completion.py).
//   - SGLang, POST /generate (sgl-project/sglang,
//     python/sglang/srt/managers/io_struct.py: GenerateReqInput's input_ids,
//     sampling_params, return_logprob, logprob_start_len; the response's
//     meta_info.input_token_logprobs is a list of [logprob, token id, text]
//     aligned with input_ids[logprob_start_len:], its first entry's logprob
//     always null: scheduler_output_processor_mixin.py, "Always pad the
//     first one with None"; tokenizer_manager.py's
//     detokenize_logprob_tokens makes the triples).
//
// Both serve POST /tokenize ({"model", "prompt", "add_special_tokens"} →
// {"tokens", "count", "max_model_len"}: vLLM's
// vllm/entrypoints/openai/protocol.py TokenizeCompletionRequest and
// TokenizeResponse; SGLang's native API docs, docs/basic_usage/native_api.md)
// and GET /v1/models ({"data": [{"id", "owned_by", "max_model_len"}]}),
// which Connect reads to learn the model's name, its context length and,
// from owned_by, which protocol to speak.
//
// Temperature. RLT's log-probs are of logits/τ. vLLM's V1 engine computes
// prompt log-probs of the raw logits whatever the request's temperature
// (vllm/v1/worker/gpu_model_runner.py _get_prompt_logprobs_dict:
// compute_logits then sampler.compute_logprobs, no temperature;
// vllm/v1/worker/gpu/sample/prompt_logprob.py likewise, where the
// logprobs_mode server option only chooses logits or log-probs, raw or
// processed, for the sampled tokens' log-probs: vllm/v1/sample/sampler.py
// "Use the original logits (before any penalties or temperature scaling)").
// SGLang's input log-probs are of raw logits unless temp_scaled_logprobs is
// set, which stock SGLang never sets for a request
// (python/sglang/srt/layers/logits_processor.py
// compute_temp_top_p_normalized_logprobs; schedule_batch.py Req sets
// temp_scaled_logprobs = False; SGLANG_RETURN_ORIGINAL_LOGPROB concerns
// the sampled tokens' log-probs only). So rather than trust a version,
// Check asks each server for a probe's log-probs at τ and at 1: when they
// are equal the server computes at 1, and Temperature says so; the scorer
// then asks both servers at 1 and labels every score with τ = 1. `rlt
// serve` applies the request's temperature, so through it scores are at τ.
//
// Requests are bounded (Options.Concurrency at once), retried with a
// doubling backoff on timeouts, dropped connections and 5xx answers (not on
// 4xx), and every error names the server and the sequence.
package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rlt-workbench/rlt/engine/rlt"
)

// Kind is a server's protocol.
type Kind string

const (
	// VLLM is OpenAI-compatible /v1/completions with prompt_logprobs.
	VLLM Kind = "vllm"
	// SGLang is /generate with return_logprob.
	SGLang Kind = "sglang"
)

// ParseKind reads a --server-kind value: vllm, sglang, or auto ("").
func ParseKind(s string) (Kind, error) {
	switch s {
	case "", "auto":
		return "", nil
	case string(VLLM), string(SGLang):
		return Kind(s), nil
	}
	return "", fmt.Errorf("server kind %q: want vllm, sglang or auto", s)
}

// IsURL reports whether s names a server (http:// or https://) rather than
// a model folder.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// Options tune a Server's requests. Zero values take the defaults.
type Options struct {
	Kind        Kind          // "" = from /v1/models' owned_by (sglang, else vllm)
	Concurrency int           // requests in flight at once (8)
	Retries     int           // further tries of a request after a timeout, a dropped connection or a 5xx (0: none)
	Backoff     time.Duration // wait before the first retry, doubled for each next up to maxBackoff (500 ms)
	Timeout     time.Duration // one request's limit (5 min)
	Client      *http.Client  // nil = one of its own
}

func (o *Options) defaults() {
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	o.Retries = max(o.Retries, 0)
	if o.Backoff <= 0 {
		o.Backoff = 500 * time.Millisecond
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.Client == nil {
		o.Client = &http.Client{Transport: &http.Transport{
			Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: o.Concurrency,
			DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		}}
	}
}

// Server is an inference server as an rlt.LogProbSource.
type Server struct {
	URL    string // base URL, no trailing slash
	Kind   Kind
	Model  string // the served model's name (/v1/models)
	MaxLen int    // its context length (0: not said)

	opts    Options
	checked bool
	raw     bool // prompt log-probs are of the raw logits (temperature 1)
}

// Connect asks the server at url which model it serves (GET /v1/models)
// and, unless o.Kind says, which protocol it speaks.
func Connect(ctx context.Context, url string, o Options) (*Server, error) {
	o.defaults()
	s := &Server{URL: strings.TrimRight(url, "/"), Kind: o.Kind, opts: o}
	var models struct {
		Data []struct {
			ID          string `json:"id"`
			OwnedBy     string `json:"owned_by"`
			MaxModelLen int    `json:"max_model_len"`
		} `json:"data"`
	}
	if err := s.call(ctx, http.MethodGet, "/v1/models", nil, &models); err != nil {
		return nil, s.fail(-1, true, fmt.Errorf("is it up? %w", err))
	}
	if len(models.Data) == 0 {
		return nil, s.fail(-1, true, errors.New("GET /v1/models lists no model"))
	}
	m := models.Data[0]
	s.Model, s.MaxLen = m.ID, m.MaxModelLen
	if s.Kind == "" {
		s.Kind = VLLM
		if strings.EqualFold(m.OwnedBy, "sglang") {
			s.Kind = SGLang
		}
	}
	return s, nil
}

func (s *Server) String() string { return s.URL }

// MaxPositions implements rlt.LogProbSource: the context length less the
// one token each request generates (vLLM and SGLang count it).
func (s *Server) MaxPositions() int {
	if s.MaxLen <= 1 {
		return 0
	}
	return s.MaxLen - 1
}

// Temperature implements rlt.LogProbSource: 1 for a server whose prompt
// log-probs Check found to be of the raw logits, else t.
func (s *Server) Temperature(t float64) float64 {
	if s.raw {
		return 1
	}
	return t
}

// Raw reports whether Check found the server's prompt log-probs to be of
// the raw logits, whatever the temperature asked.
func (s *Server) Raw() bool { return s.raw }

// Check is done once per server before scoring: the server must tokenize
// probe as tok does (ids are sent, not text; the error names the first
// token that differs), and a probe of its prompt log-probs at temperature
// and at 1 tells whether it applies the temperature (Temperature).
func (s *Server) Check(ctx context.Context, tok rlt.Tokenizer, probe string, temperature float64) error {
	var tr tokenized
	body := map[string]any{"model": s.Model, "prompt": probe, "add_special_tokens": false}
	if err := s.retry(ctx, func(ctx context.Context) error {
		raw, err := s.callRaw(ctx, http.MethodPost, "/tokenize", body)
		if err != nil {
			return err
		}
		tr, err = decodeTokenize(raw)
		return err
	}); err != nil {
		return s.fail(-1, true, fmt.Errorf("tokenizer check (POST /tokenize): %w", err))
	}
	ours := tok.Encode(probe)
	if err := compareTokens(ours, tr.Tokens, tok); err != nil {
		return s.fail(-1, true, fmt.Errorf("tokenizes differently from the local tokenizer: %w; the server must serve the model whose tokenizer.json is used here", err))
	}
	if tr.MaxModelLen > 0 && (s.MaxLen == 0 || tr.MaxModelLen < s.MaxLen) {
		s.MaxLen = tr.MaxModelLen
	}
	if len(ours) < 2 {
		return s.fail(-1, true, fmt.Errorf("probe %q is too short to compare log-probs", probe))
	}
	probeAt := func(temp float64) ([]float32, error) {
		var lp []float32
		err := s.retry(ctx, func(ctx context.Context) error {
			var err error
			lp, err = s.prompt(ctx, ours, temp)
			return err
		})
		return lp, err
	}
	at, err := probeAt(temperature)
	if err != nil {
		return s.fail(-1, true, fmt.Errorf("temperature probe: %w", s.otherKind(err)))
	}
	s.raw = false
	if temperature != 1 {
		at1, err := probeAt(1)
		if err != nil {
			return s.fail(-1, true, fmt.Errorf("temperature probe: %w", s.otherKind(err)))
		}
		s.raw = true
		for i := range at {
			if d := at[i] - at1[i]; d > 1e-4 || d < -1e-4 {
				s.raw = false
				break
			}
		}
	}
	s.checked = true
	return nil
}

// otherKind adds the way on to err, a server's answer that it serves no
// log-probs endpoint of s's protocol (404 Not Found, 405 Method Not
// Allowed): vLLM and SGLang both serve /tokenize and /v1/models, so a
// server of the other protocol, named by --server-kind, passes the
// tokenizer check and fails here first.
func (s *Server) otherKind(err error) error {
	var he *httpError
	if !errors.As(err, &he) || (he.status != http.StatusNotFound && he.status != http.StatusMethodNotAllowed) {
		return err
	}
	path, other, article := "/v1/completions", SGLang, "an SGLang"
	if s.Kind == SGLang {
		path, other, article = "/generate", VLLM, "a vLLM"
	}
	return fmt.Errorf("%w: the server has no POST %s, which %s speaks: is it %s server? try --server-kind %s (or auto, which asks /v1/models)", err, path, s.Kind, article, other)
}

// tokenized is a /tokenize answer (vLLM's; SGLang serves the same).
type tokenized struct {
	Tokens      []int32 `json:"tokens"`
	MaxModelLen int     `json:"max_model_len"`
}

// decodeTokenize reads a /tokenize answer. A max_model_len below 0 is an
// error (0 or absent: not given).
func decodeTokenize(raw []byte) (tokenized, error) {
	var tr tokenized
	if err := decodeAnswer("POST /tokenize", raw, &tr); err != nil {
		return tokenized{}, err
	}
	if tr.MaxModelLen < 0 {
		return tokenized{}, fmt.Errorf("POST /tokenize: max_model_len is %d", tr.MaxModelLen)
	}
	return tr, nil
}

// compareTokens names the first token where theirs differs from ours.
func compareTokens(ours, theirs []int32, tok rlt.Tokenizer) error {
	str := func(id int32) string {
		if id < 0 || int(id) >= tok.VocabSize() {
			return "outside the local vocabulary"
		}
		return strconv.Quote(tok.TokenString(id))
	}
	for i := range min(len(ours), len(theirs)) {
		if ours[i] != theirs[i] {
			return fmt.Errorf("token %d of the probe is %d (%s) for the server and %d (%s) here", i, theirs[i], str(theirs[i]), ours[i], str(ours[i]))
		}
	}
	switch {
	case len(theirs) > len(ours):
		return fmt.Errorf("the server has %d tokens for the probe, %d here; its token %d is %d (%s)", len(theirs), len(ours), len(ours), theirs[len(ours)], str(theirs[len(ours)]))
	case len(theirs) < len(ours):
		return fmt.Errorf("the server has %d tokens for the probe, %d here; token %d here is %d (%s)", len(theirs), len(ours), len(theirs), ours[len(theirs)], str(ours[len(theirs)]))
	}
	return nil
}

// LogProbs implements rlt.LogProbSource: one request per sequence, at most
// Options.Concurrency at once. The first failure cancels the rest, and so
// does ctx (a signal to the command): its requests in flight are cancelled
// at once, not awaited, and the error is a fatal SourceError wrapping
// ctx.Err(), whatever the requests cancelled with it said. What the server
// answered before the stop is kept, not dropped: a stop that comes once
// every sequence is answered (nothing left to cancel) returns them all
// with no error, and one that cancels a request returns, beside its error,
// the values of the sequences before the first it left unanswered (those
// answered after that one have no place in the values, which go sequence
// by sequence). A failure of the server's own (Fatal: down, a 5xx after its
// retries, an answer short of the tokens asked) returns those values too,
// so that rlt score writes the items it had scored; a sequence refused
// alone (a 400) returns none, the batch being asked again one by one.
func (s *Server) LogProbs(parent context.Context, seqs [][]int32, spans [][][2]int, temperature float64) ([]float32, error) {
	if !s.checked {
		return nil, s.fail(-1, true, errors.New("not checked: call Check once before scoring"))
	}
	if s.raw && temperature != 1 {
		return nil, s.fail(-1, true, fmt.Errorf("asked at temperature %g, but its prompt log-probs are at 1", temperature))
	}
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	per := make([][]float32, len(seqs))
	errs := make([]error, len(seqs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(s.opts.Concurrency, len(seqs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range next {
				var lp []float32
				err := s.retry(ctx, func(ctx context.Context) error {
					var err error
					lp, err = s.prompt(ctx, seqs[b], temperature)
					return err
				})
				if err != nil {
					errs[b] = err
					cancel()
					continue
				}
				per[b] = lp
			}
		}()
	}
feed:
	for b := range seqs {
		select {
		case next <- b:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	// answered is how many sequences, the first ones, were answered.
	answered := 0
	for answered < len(seqs) && per[answered] != nil {
		answered++
	}
	if err := parent.Err(); err != nil && answered < len(seqs) {
		// The sequences answered before the stop, whole, so that the
		// caller may keep them; their span errors are said by the run
		// that asks for them again, not here.
		out, _, _ := spansOf(seqs[:answered], per, spans)
		return out, s.fail(-1, true, fmt.Errorf("its requests cancelled: %w", err))
	}
	// The first error in sequence order that is not a cancellation.
	var first error
	firstSeq := -1
	for b, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			first, firstSeq = err, b
			break
		}
	}
	if first != nil {
		var he *httpError
		fatal := !(errors.As(first, &he) && he.status == http.StatusBadRequest)
		if !fatal { // the other sequences are asked again one by one
			return nil, s.fail(firstSeq, fatal, first)
		}
		// The server failed: what it answered before, as at a stop.
		out, _, _ := spansOf(seqs[:answered], per, spans)
		return out, s.fail(firstSeq, fatal, first)
	}
	out, b, err := spansOf(seqs, per, spans)
	if err != nil {
		return out, s.fail(b, true, err) // the sequences before b's, whole
	}
	return out, nil
}

// spansOf is the values of spans of seqs, per[b] being the log-probs of
// seqs[b]: for sequence b in turn, each group's span (LogProbs' order);
// or the first sequence with a span outside its log-probs, the error that
// says it, and the values of the sequences before it.
func spansOf(seqs [][]int32, per [][]float32, spans [][][2]int) ([]float32, int, error) {
	var out []float32
	for b := range seqs {
		whole := len(out)
		for _, g := range spans {
			start, n := g[b][0], g[b][1]
			if start < 1 || start-1+n > len(per[b]) {
				return out[:whole], b, fmt.Errorf("span [%d, %d) is outside its %d tokens", start, start+n, len(seqs[b]))
			}
			out = append(out, per[b][start-1:start-1+n]...)
		}
	}
	return out, -1, nil
}

func (s *Server) fail(seq int, fatal bool, err error) error {
	source := "server " + s.URL // its kind is unknown until /v1/models answers
	if s.Kind != "" {
		source = fmt.Sprintf("%s server %s", s.Kind, s.URL)
	}
	return &rlt.SourceError{Source: source, Seq: seq, Fatal: fatal, Err: err}
}

// retry runs f, again after a doubling wait while it fails with a timeout,
// a dropped connection or a 5xx answer, at most Options.Retries more times.
func (s *Server) retry(ctx context.Context, f func(context.Context) error) error {
	wait := s.opts.Backoff
	for attempt := 0; ; attempt++ {
		err := f(ctx)
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
		if attempt == s.opts.Retries {
			return fmt.Errorf("%w (after %d tries)", err, attempt+1)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return err
		}
		wait = nextBackoff(wait)
	}
}

// maxBackoff is the longest wait between two tries, urllib3's default
// (Retry.DEFAULT_BACKOFF_MAX, 120 s).
const maxBackoff = 2 * time.Minute

// nextBackoff is the wait after wait: doubled, at most maxBackoff (or wait
// itself where Options.Backoff starts above it). Doubled without end, the
// waits of rlt score --retries 20 reached 3 days (500 ms × 2^19) on a
// server that stayed down, and at --retries 2^63-1 the doubling passed
// time.Duration's range after 35 tries and went negative, then 0: tries
// with no wait between them.
func nextBackoff(wait time.Duration) time.Duration {
	if wait >= maxBackoff/2 {
		return max(wait, maxBackoff)
	}
	return wait * 2
}

// httpError is a server's answer other than 200.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.status, e.msg) }

// timeoutError is a request that ran past Options.Timeout.
type timeoutError struct{ limit time.Duration }

func (e *timeoutError) Error() string {
	return fmt.Sprintf("no answer within %s", e.limit)
}

func retryable(err error) bool {
	var he *httpError
	if errors.As(err, &he) {
		return he.status >= 500 || he.status == http.StatusTooManyRequests
	}
	var te *timeoutError
	if errors.As(err, &te) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	// A dropped connection: the body or the headers cut short.
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, errDropped)
}

var errDropped = errors.New("connection dropped")

// call sends one request (body as JSON when not nil) and decodes a 200
// answer into out.
func (s *Server) call(ctx context.Context, method, path string, body, out any) error {
	raw, err := s.callRaw(ctx, method, path, body)
	if err != nil {
		return err
	}
	return decodeAnswer(method+" "+path, raw, out)
}

// decodeAnswer decodes the JSON answer raw of what (method and path) into out.
func decodeAnswer(what string, raw []byte, out any) error {
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s: the answer is not the JSON expected: %v (%.120s)", what, err, raw)
	}
	return nil
}

// callRaw sends one request (body as JSON when not nil) and returns a 200
// answer's body.
func (s *Server) callRaw(ctx context.Context, method, path string, body any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	rctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, method, s.URL+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		if ctx.Err() == nil && rctx.Err() == context.DeadlineExceeded {
			return nil, &timeoutError{s.opts.Timeout}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if connectionRefused(err) {
			return nil, fmt.Errorf("%s %s: connection refused: nothing listens at %s: %w", method, path, s.URL, err)
		}
		return nil, fmt.Errorf("%s %s: %w: %w", method, path, errDropped, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		if ctx.Err() == nil && rctx.Err() == context.DeadlineExceeded {
			return nil, &timeoutError{s.opts.Timeout}
		}
		return nil, fmt.Errorf("%s %s: reading the answer: %w: %w", method, path, errDropped, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &httpError{status: resp.StatusCode, msg: errorMessage(raw)}
	}
	return raw, nil
}

// errorMessage is the message of an error body: vLLM's {"message"} or
// {"error": {"message"}}, SGLang's {"error": {"message"}}, FastAPI's
// {"detail"}, else the text itself.
func errorMessage(raw []byte) string {
	var e struct {
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
		Error   json.RawMessage `json:"error"`
	}
	if json.Unmarshal(raw, &e) == nil {
		if e.Message != "" {
			return e.Message
		}
		var inner struct {
			Message string `json:"message"`
		}
		if len(e.Error) > 0 {
			if json.Unmarshal(e.Error, &inner) == nil && inner.Message != "" {
				return inner.Message
			}
			var s string
			if json.Unmarshal(e.Error, &s) == nil && s != "" {
				return s
			}
		}
		if len(e.Detail) > 0 {
			// FastAPI's router says "Not Found" as a JSON string; its
			// validation errors are a list, kept as JSON.
			var s string
			if json.Unmarshal(e.Detail, &s) == nil && s != "" {
				return s
			}
			return string(e.Detail)
		}
	}
	t := strings.TrimSpace(string(raw))
	if len(t) > 300 {
		t = t[:300] + "…"
	}
	return t
}

// prompt asks for the log-probs of ids[1:] each after the ids before it, at
// temperature: len(ids)-1 values.
func (s *Server) prompt(ctx context.Context, ids []int32, temperature float64) ([]float32, error) {
	if s.Kind == SGLang {
		return s.promptSGLang(ctx, ids, temperature)
	}
	return s.promptVLLM(ctx, ids, temperature)
}

func (s *Server) promptVLLM(ctx context.Context, ids []int32, temperature float64) ([]float32, error) {
	req := map[string]any{"model": s.Model, "prompt": ids, "max_tokens": 1, "temperature": temperature, "prompt_logprobs": 0}
	raw, err := s.callRaw(ctx, http.MethodPost, "/v1/completions", req)
	if err != nil {
		return nil, err
	}
	return decodeVLLM(raw, ids)
}

// decodeVLLM reads the log-probs of ids[1:] from a vLLM /v1/completions
// answer with prompt_logprobs: len(ids)-1 values, or an error.
func decodeVLLM(raw []byte, ids []int32) ([]float32, error) {
	if len(ids) < 1 {
		return nil, errors.New("POST /v1/completions: no prompt tokens asked")
	}
	var resp struct {
		Choices []struct {
			PromptLogprobs []map[string]struct {
				Logprob *float64 `json:"logprob"`
			} `json:"prompt_logprobs"`
		} `json:"choices"`
	}
	if err := decodeAnswer("POST /v1/completions", raw, &resp); err != nil {
		return nil, err
	}
	if len(resp.Choices) == 0 {
		return nil, errors.New("POST /v1/completions: no choices in the answer")
	}
	pl := resp.Choices[0].PromptLogprobs
	if len(pl) < len(ids) {
		return nil, fmt.Errorf("POST /v1/completions: %d prompt log-probs for %d tokens", len(pl), len(ids))
	}
	out := make([]float32, len(ids)-1)
	for pos := 1; pos < len(ids); pos++ {
		e, ok := pl[pos][strconv.Itoa(int(ids[pos]))]
		if !ok || e.Logprob == nil {
			return nil, fmt.Errorf("POST /v1/completions: no log-prob of token %d at position %d", ids[pos], pos)
		}
		out[pos-1] = float32(*e.Logprob)
	}
	return out, nil
}

func (s *Server) promptSGLang(ctx context.Context, ids []int32, temperature float64) ([]float32, error) {
	req := map[string]any{
		"input_ids":       ids,
		"sampling_params": map[string]any{"max_new_tokens": 1, "temperature": temperature},
		"return_logprob":  true, "logprob_start_len": 0,
	}
	raw, err := s.callRaw(ctx, http.MethodPost, "/generate", req)
	if err != nil {
		return nil, err
	}
	return decodeSGLang(raw, ids)
}

// decodeSGLang reads the log-probs of ids[1:] from an SGLang /generate
// answer with return_logprob from position 0: len(ids)-1 values, or an
// error.
func decodeSGLang(raw []byte, ids []int32) ([]float32, error) {
	if len(ids) < 1 {
		return nil, errors.New("POST /generate: no input tokens asked")
	}
	var resp struct {
		MetaInfo struct {
			InputTokenLogprobs [][]json.RawMessage `json:"input_token_logprobs"`
		} `json:"meta_info"`
	}
	if err := decodeAnswer("POST /generate", raw, &resp); err != nil {
		return nil, err
	}
	in := resp.MetaInfo.InputTokenLogprobs
	if len(in) < len(ids) {
		return nil, fmt.Errorf("POST /generate: %d input token log-probs for %d tokens", len(in), len(ids))
	}
	out := make([]float32, len(ids)-1)
	for pos := 1; pos < len(ids); pos++ {
		e := in[pos]
		var lp *float64
		var id int32
		if len(e) < 2 || json.Unmarshal(e[0], &lp) != nil || json.Unmarshal(e[1], &id) != nil || lp == nil {
			return nil, fmt.Errorf("POST /generate: input token log-prob %d is not [logprob, id, text]: %.80s", pos, fmt.Sprint(e))
		}
		if id != ids[pos] {
			return nil, fmt.Errorf("POST /generate: input token log-prob %d is of token %d, not %d", pos, id, ids[pos])
		}
		out[pos-1] = float32(*lp)
	}
	return out, nil
}
