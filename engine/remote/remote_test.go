package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
)

func testTok(t *testing.T) *tokenizer.Tokenizer {
	t.Helper()
	tok, err := tokenizer.Load("../tokenizer/testdata/qwen2_pairs.json")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Recorded bodies, in the shapes the servers' source defines:
//
// vLLM: GET /v1/models is ModelList of ModelCard (id, object, created,
// owned_by "vllm", root, parent, max_model_len, permission);
// POST /tokenize is TokenizeResponse (count, max_model_len, tokens,
// token_strs); POST /v1/completions is CompletionResponse whose choice
// carries prompt_logprobs: list[dict[int, Logprob] | None], Logprob being
// {logprob, rank, decoded_token} (vllm-project/vllm,
// vllm/entrypoints/openai/protocol.py, vllm/sequence.py). Errors are
// ErrorResponse {object "error", message, type, param, code}.
//
// SGLang: POST /generate answers {"text", "meta_info"} with
// meta_info.input_token_logprobs [[logprob, id, text]], the first logprob
// null (sgl-project/sglang, python/sglang/srt/managers/tokenizer_manager.py
// detokenize_logprob_tokens, scheduler_output_processor_mixin.py); an
// input longer than the context is a 400 {"error": {"message": "The input
// (N tokens) is longer than the model's context length (M tokens)."}}
// (tokenizer_manager.py _validate_one_request, http_server.py).
const (
	vllmModels     = `{"object":"list","data":[{"id":"Qwen/Qwen2.5-7B-Instruct","object":"model","created":1733000000,"owned_by":"vllm","root":"Qwen/Qwen2.5-7B-Instruct","parent":null,"max_model_len":32768,"permission":[{"id":"modelperm-1","object":"model_permission","created":1733000000,"allow_create_engine":false,"allow_sampling":true,"allow_logprobs":true,"allow_search_indices":false,"allow_view":true,"allow_fine_tuning":false,"organization":"*","group":null,"is_blocking":false}]}]}`
	vllmCompletion = `{"id":"cmpl-9f1c","object":"text_completion","created":1733000001,"model":"Qwen/Qwen2.5-7B-Instruct","choices":[{"index":0,"text":" the","logprobs":null,"finish_reason":"length","stop_reason":null,"prompt_logprobs":[null,{"1023":{"logprob":-3.25,"rank":12,"decoded_token":"ab"},"11":{"logprob":-0.5,"rank":1,"decoded_token":","}},{"77":{"logprob":-0.125,"rank":1,"decoded_token":"x"}},{"5":{"logprob":-9999.0,"rank":150000,"decoded_token":"&"}}]}],"usage":{"prompt_tokens":4,"total_tokens":5,"completion_tokens":1,"prompt_tokens_details":null}}`
	vllmTooLong    = `{"object":"error","message":"This model's maximum context length is 32768 tokens. However, you requested 40001 tokens (40000 in the messages, 1 in the completion). Please reduce the length of the messages or completion.","type":"BadRequestError","param":null,"code":400}`
	sglangModels   = `{"object":"list","data":[{"id":"Qwen/Qwen2.5-7B-Instruct","object":"model","created":1733000000,"owned_by":"sglang","root":"Qwen/Qwen2.5-7B-Instruct","max_model_len":32768}]}`
	sglangGenerate = `{"text":" the","meta_info":{"id":"1b2c","finish_reason":{"type":"length","length":1},"prompt_tokens":4,"completion_tokens":1,"cached_tokens":0,"input_token_logprobs":[[null,9,null],[-3.25,1023,null],[-0.125,77,null],[-9999.0,5,null]],"output_token_logprobs":[[-1.5,279,null]],"e2e_latency":0.01}}`
	sglangTooLong  = `{"error":{"message":"The input (40000 tokens) is longer than the model's context length (32768 tokens)."}}`
)

// replay answers each path with a recorded body and records the requests.
type replay struct {
	mu     sync.Mutex
	bodies map[string][]map[string]any
	routes map[string]func(w http.ResponseWriter, body map[string]any)
}

func (rp *replay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	json.Unmarshal(raw, &body)
	rp.mu.Lock()
	if rp.bodies == nil {
		rp.bodies = map[string][]map[string]any{}
	}
	rp.bodies[r.URL.Path] = append(rp.bodies[r.URL.Path], body)
	f := rp.routes[r.URL.Path]
	rp.mu.Unlock()
	if f == nil {
		http.NotFound(w, r)
		return
	}
	f(w, body)
}

func fixed(status int, body string) func(http.ResponseWriter, map[string]any) {
	return func(w http.ResponseWriter, _ map[string]any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// holdGuard bounds how long fake.hold holds a request: far past
// heldTimeout, a bound on a hang, not a window a test's pass depends on.
const holdGuard = 30 * time.Second

// heldTimeout is the request limit under which a held request
// (fake.hold) times out, set after the check: the one case that tests the
// limit depends on the time the others of its batch take, within it.
const heldTimeout = 2 * time.Second

// fast retries at once; its request limit only bounds a hang, so that a
// case that tests no timeout does not fail where a loaded machine answers
// late (one of 100 ms failed the check's own requests: 'is it up? no
// answer within 100ms').
func fast() Options {
	return Options{Concurrency: 3, Retries: 2, Backoff: time.Millisecond, Timeout: time.Minute}
}

// TestRecordedBodies: the client reads the servers' own answer shapes to
// the same numbers, and sends the requests their source takes.
func TestRecordedBodies(t *testing.T) {
	ids := []int32{9, 1023, 77, 5}
	want := []float32{-3.25, -0.125, -9999}
	for _, c := range []struct {
		kind           Kind
		models, answer string
		path           string
		check          func(map[string]any) string
	}{
		{VLLM, vllmModels, vllmCompletion, "/v1/completions", func(b map[string]any) string {
			if b["model"] != "Qwen/Qwen2.5-7B-Instruct" || b["max_tokens"] != 1.0 || b["prompt_logprobs"] != 0.0 || b["temperature"] != 0.7 || fmt.Sprint(b["prompt"]) != "[9 1023 77 5]" {
				return fmt.Sprint(b)
			}
			return ""
		}},
		{SGLang, sglangModels, sglangGenerate, "/generate", func(b map[string]any) string {
			sp, _ := b["sampling_params"].(map[string]any)
			if b["return_logprob"] != true || b["logprob_start_len"] != 0.0 || fmt.Sprint(b["input_ids"]) != "[9 1023 77 5]" || sp["max_new_tokens"] != 1.0 || sp["temperature"] != 0.7 {
				return fmt.Sprint(b)
			}
			return ""
		}},
	} {
		t.Run(string(c.kind), func(t *testing.T) {
			rp := &replay{routes: map[string]func(http.ResponseWriter, map[string]any){
				"/v1/models": fixed(200, c.models), c.path: fixed(200, c.answer),
			}}
			ts := httptest.NewServer(rp)
			defer ts.Close()
			s, err := Connect(context.Background(), ts.URL, fast())
			if err != nil {
				t.Fatal(err)
			}
			if s.Kind != c.kind || s.Model != "Qwen/Qwen2.5-7B-Instruct" || s.MaxLen != 32768 || s.MaxPositions() != 32767 {
				t.Fatalf("connected as %+v", s)
			}
			s.checked = true // the probe is TestCheck's
			got, err := s.LogProbs(context.Background(), [][]int32{ids}, [][][2]int{{{1, 2}}, {{3, 1}}}, 0.7)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("log-probs %v, want %v", got, want)
			}
			if msg := c.check(rp.bodies[c.path][0]); msg != "" {
				t.Errorf("request body %s", msg)
			}
		})
	}
}

// fake is a server of either protocol whose log-probs are a function of the
// token, its position and (unless raw) the temperature, with failures
// injected per sequence (keyed by its first token).
type fake struct {
	kind    Kind
	raw     bool
	maxLen  int
	tokens  func(text string) []int32 // /tokenize
	fail    func(first int32, attempt int, w http.ResponseWriter) bool
	hold    int32 // a sequence (its first token) held until the client gives up (Options.Timeout), or holdGuard
	short   bool  // answer one log-prob too few
	attempt sync.Map
	calls   atomic.Int64
}

func lpOf(id int32, pos int, temp float64) float64 {
	return -(float64(id%13) + 1 + float64(pos)/8) / temp
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	json.NewDecoder(r.Body).Decode(&body)
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/v1/models":
		owner := "vllm"
		if f.kind == SGLang {
			owner = "sglang"
		}
		json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": []any{map[string]any{"id": "m", "owned_by": owner, "max_model_len": f.maxLen}}})
		return
	case "/tokenize":
		json.NewEncoder(w).Encode(map[string]any{"tokens": f.tokens(body["prompt"].(string)), "count": 0, "max_model_len": f.maxLen})
		return
	}
	f.calls.Add(1)
	var ids []int32
	key := "input_ids"
	temp := 1.0
	if f.kind == VLLM {
		key = "prompt"
		temp = body["temperature"].(float64)
	} else {
		temp = body["sampling_params"].(map[string]any)["temperature"].(float64)
	}
	for _, v := range body[key].([]any) {
		ids = append(ids, int32(v.(float64)))
	}
	if f.hold != 0 && ids[0] == f.hold {
		io.Copy(io.Discard, r.Body) // read whole: the server then sees the client leave
		// Answered after holdGuard if the client has not given up by
		// then: a client that does not bound its requests fails the
		// test with the answer it got, not hangs it until go test's
		// -timeout (httptest's Close waits for this handler too).
		select {
		case <-r.Context().Done():
			return
		case <-time.After(holdGuard):
		}
	}
	n, _ := f.attempt.LoadOrStore(ids[0], new(atomic.Int64))
	if f.fail != nil && f.fail(ids[0], int(n.(*atomic.Int64).Add(1)), w) {
		return
	}
	if f.raw {
		temp = 1
	}
	m := len(ids)
	if f.short && ids[0] <= 3 { // the batch's sequences, not the probe
		m--
	}
	if f.kind == VLLM {
		pl := []any{nil}
		for pos := 1; pos < m; pos++ {
			pl = append(pl, map[string]any{fmt.Sprint(ids[pos]): map[string]any{"logprob": lpOf(ids[pos], pos, temp), "rank": 1, "decoded_token": "x"}})
		}
		json.NewEncoder(w).Encode(map[string]any{"choices": []any{map[string]any{"index": 0, "text": "", "prompt_logprobs": pl}}})
		return
	}
	in := []any{[]any{nil, ids[0], nil}}
	for pos := 1; pos < m; pos++ {
		in = append(in, []any{lpOf(ids[pos], pos, temp), ids[pos], nil})
	}
	json.NewEncoder(w).Encode(map[string]any{"text": "", "meta_info": map[string]any{"input_token_logprobs": in}})
}

var probe = "<|im_start|>user\n347+285=?<|im_end|>"

// batch is three sequences, told apart by their first token.
var batch = [][]int32{{1, 20, 30, 40}, {2, 21, 31}, {3, 22, 32, 42, 52}}

func spans() [][][2]int { return [][][2]int{{{1, 3}, {1, 2}, {2, 3}}} }

func wantLP(temp float64) []float32 {
	var out []float32
	for b, sp := range spans()[0] {
		for k := range sp[1] {
			pos := sp[0] + k
			out = append(out, float32(lpOf(batch[b][pos], pos, temp)))
		}
	}
	return out
}

func connect(t *testing.T, f *fake, o Options) (*Server, error) {
	t.Helper()
	ts := httptest.NewServer(f)
	t.Cleanup(ts.Close)
	tok := testTok(t)
	if f.tokens == nil {
		f.tokens = tok.Encode
	}
	if f.maxLen == 0 {
		f.maxLen = 64
	}
	s, err := Connect(context.Background(), ts.URL, o)
	if err != nil {
		return nil, err
	}
	return s, s.Check(context.Background(), tok, probe, 0.7)
}

// tooLong answers the third sequence with a recorded 400.
func tooLong(body string) func(int32, int, http.ResponseWriter) bool {
	return func(first int32, _ int, w http.ResponseWriter) bool {
		if first == 3 {
			w.WriteHeader(400)
			io.WriteString(w, body)
			return true
		}
		return false
	}
}

func TestCheckAndFailures(t *testing.T) {
	cases := []struct {
		name  string
		f     *fake
		temp  float64
		want  []float32 // nil: an error
		fatal bool
		seq   int
		msg   string
		calls int64 // requests for the batch (after the probe's 2), when > 0
		// timeout is the batch's request limit, set after the check (whose
		// requests keep fast()'s): 0, fast()'s.
		timeout time.Duration
	}{
		{name: "vllm applies the temperature", f: &fake{kind: VLLM}, temp: 0.7, want: wantLP(0.7), calls: 3},
		{name: "sglang applies the temperature", f: &fake{kind: SGLang}, temp: 0.7, want: wantLP(0.7), calls: 3},
		{name: "raw log-probs are at 1", f: &fake{kind: VLLM, raw: true}, temp: 1, want: wantLP(1)},
		{name: "503 then success", f: &fake{kind: VLLM, fail: func(first int32, n int, w http.ResponseWriter) bool {
			if first == 2 && n == 1 {
				w.WriteHeader(503)
				io.WriteString(w, `{"object":"error","message":"Service Unavailable","type":"ServiceUnavailableError","param":null,"code":503}`)
				return true
			}
			return false
		}}, temp: 0.7, want: wantLP(0.7), calls: 4},
		{name: "503 for good", f: &fake{kind: SGLang, fail: func(first int32, n int, w http.ResponseWriter) bool {
			if first == 3 {
				w.WriteHeader(503)
				return true
			}
			return false
		}}, temp: 0.7, fatal: true, seq: 2, msg: "HTTP 503"},
		// The second sequence's request is held until the client gives
		// up on it, not answered late: with a 100 ms limit and a 300 ms
		// answer, a loaded machine failed the check's own requests ('is it
		// up? no answer within 100ms') and could the batch's others. The
		// limit, heldTimeout, is a hang guard for the requests answered.
		{name: "timeout mid-batch", f: &fake{kind: VLLM, hold: 2}, temp: 0.7, fatal: true, seq: 1, msg: "no answer within 2s", timeout: heldTimeout},
		{name: "connection dropped mid-batch", f: &fake{kind: SGLang, fail: func(first int32, n int, w http.ResponseWriter) bool {
			if first == 3 {
				conn, _, _ := w.(http.Hijacker).Hijack()
				conn.Close()
				return true
			}
			return false
		}}, temp: 0.7, fatal: true, seq: 2, msg: "connection dropped"},
		{name: "fewer log-probs than tokens", f: &fake{kind: VLLM, short: true}, temp: 0.7, fatal: true, seq: -2, msg: "prompt log-probs for"},
		{name: "sglang fewer log-probs", f: &fake{kind: SGLang, short: true}, temp: 0.7, fatal: true, seq: -2, msg: "input token log-probs for"},
		{name: "too long: 400, the item alone", f: &fake{kind: VLLM, fail: tooLong(vllmTooLong)}, temp: 0.7, seq: 2, msg: "maximum context length is 32768"},
		{name: "sglang too long", f: &fake{kind: SGLang, fail: tooLong(sglangTooLong)}, temp: 0.7, seq: 2, msg: "longer than the model's context length"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := c.f
			s, err := connect(t, f, fast())
			if err != nil {
				t.Fatal(err)
			}
			if c.timeout > 0 {
				s.opts.Timeout = c.timeout
			}
			if got := s.Temperature(0.7); (got == 1) != f.raw {
				t.Fatalf("temperature %v for a raw=%v server", got, f.raw)
			}
			f.calls.Store(0)
			got, err := s.LogProbs(context.Background(), batch, spans(), c.temp)
			if c.want != nil {
				if err != nil || fmt.Sprint(got) != fmt.Sprint(c.want) {
					t.Fatalf("got %v, %v; want %v", got, err, c.want)
				}
				if c.calls > 0 && f.calls.Load() != c.calls {
					t.Errorf("%d requests, want %d", f.calls.Load(), c.calls)
				}
				return
			}
			var se *rlt.SourceError
			errors.As(err, &se)
			// seq -2: every sequence fails; the one reported is the first
			// to fail (the others are cancelled), whichever it is.
			if c.seq == -2 && se != nil && se.Seq >= 0 && strings.Contains(err.Error(), fmt.Sprintf("%d %s %d tokens", len(batch[se.Seq])-1, c.msg, len(batch[se.Seq]))) {
				c.seq = se.Seq
			}
			if !errors.As(err, &se) || se.Fatal != c.fatal || se.Seq != c.seq || !strings.Contains(err.Error(), c.msg) || !strings.Contains(err.Error(), s.URL) {
				t.Fatalf("error %v (%+v), want fatal=%v sequence %d with %q and the server's URL", err, se, c.fatal, c.seq, c.msg)
			}
		})
	}
}

func TestTokenizerMismatch(t *testing.T) {
	tok := testTok(t)
	f := &fake{kind: VLLM, tokens: func(text string) []int32 {
		ids := tok.Encode(text)
		ids[3]++ // the server's vocabulary differs at the fourth token
		return ids
	}}
	_, err := connect(t, f, fast())
	ours := tok.Encode(probe)
	want := fmt.Sprintf("token 3 of the probe is %d (%q) for the server and %d (%q) here", ours[3]+1, tok.TokenString(ours[3]+1), ours[3], tok.TokenString(ours[3]))
	if err == nil || !rlt.Fatal(err) || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
}

func TestServerDown(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close()
	_, err := Connect(context.Background(), url, fast())
	if err == nil || !rlt.Fatal(err) || !strings.Contains(err.Error(), "server "+url+": is it up?") ||
		!strings.Contains(err.Error(), "connection refused: nothing listens at "+url) || strings.Contains(err.Error(), "dropped") {
		t.Fatalf("error %v, want it to say nothing listens at %s", err, url)
	}
}

func TestRawServerRefusesOtherTemperatures(t *testing.T) {
	f := &fake{kind: SGLang, raw: true}
	s, err := connect(t, f, fast())
	if err != nil {
		t.Fatal(err)
	}
	if !s.Raw() {
		t.Fatal("a server ignoring the temperature was not found raw")
	}
	if _, err := s.LogProbs(context.Background(), batch, spans(), 0.7); err == nil || !strings.Contains(err.Error(), "at 1") {
		t.Fatalf("asked at 0.7: %v", err)
	}
}

// errorMessage reads each server's error body, FastAPI's own included.
func TestErrorMessage(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{`{"object":"error","message":"Service Unavailable","type":"ServiceUnavailableError","param":null,"code":503}`, "Service Unavailable"},
		{`{"error":{"message":"too long","type":"BadRequestError","param":null,"code":400}}`, "too long"},
		{`{"error":{"message":"The input is longer"}}`, "The input is longer"},
		{`{"detail":"Not Found"}`, "Not Found"},
		{`{"detail":[{"loc":["body","prompt"],"msg":"field required"}]}`, `[{"loc":["body","prompt"],"msg":"field required"}]`},
		{"404 page not found\n", "404 page not found"},
	} {
		if got := errorMessage([]byte(c.body)); got != c.want {
			t.Errorf("%s: %q, want %q", c.body, got, c.want)
		}
	}
}

// closeHook is a client transport that calls onAnswer once the body of an
// answer to POST /v1/completions is read and closed (the client has the
// answer: nothing after it waits on the server), with how many such
// answers it has seen since armed.
type closeHook struct {
	armed    atomic.Bool
	answers  atomic.Int64
	onAnswer func(n int64)
}

func (h *closeHook) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || r.URL.Path != "/v1/completions" || !h.armed.Load() {
		return resp, err
	}
	resp.Body = &hookedBody{ReadCloser: resp.Body, done: func() { h.onAnswer(h.answers.Add(1)) }}
	return resp, nil
}

type hookedBody struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *hookedBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}

// TestStopKeepsWhatWasAnswered: a stop (the command's ctx cancelled) that
// comes while a batch's requests are answered keeps the answers that
// came: all of them, with no error, where it came after the last (before,
// they were dropped with a stop's error, and rlt score dropped a batch the
// server had scored whole); else, beside the stop's error, those of the
// sequences before the first request it cancelled. A real HTTP server
// (fake: the requests as vLLM takes them) holds one sequence's request
// until the client gives up; the stop comes as the client closes the
// answer that makes `stopAfter` (after its body is read, so that answer
// is the client's whatever the stop).
func TestStopKeepsWhatWasAnswered(t *testing.T) {
	all := wantLP(0.7) // batch's spans: 3, 2 and 3 values
	for _, c := range []struct {
		name      string
		hold      int32 // the held sequence's first token (0: none)
		stopAfter int64 // answers read before the stop
		want      []float32
		stopped   bool // the error is the stop's
	}{
		{name: "stop after every answer", stopAfter: 3, want: all},
		{name: "the last held", hold: 3, stopAfter: 2, want: all[:5], stopped: true},
		{name: "the middle held", hold: 2, stopAfter: 2, want: all[:3], stopped: true},
		{name: "the first held", hold: 1, stopAfter: 2, want: nil, stopped: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			hook := &closeHook{onAnswer: func(n int64) {
				if n == c.stopAfter {
					cancel()
				}
			}}
			o := fast() // Concurrency 3: the batch's three requests at once
			o.Client = &http.Client{Transport: hook}
			f := &fake{kind: VLLM, hold: c.hold}
			s, err := connect(t, f, o)
			if err != nil {
				t.Fatal(err)
			}
			hook.armed.Store(true)
			got, err := s.LogProbs(ctx, batch, spans(), 0.7)
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("values %v, want %v (err %v)", got, c.want, err)
			}
			var se *rlt.SourceError
			if !c.stopped {
				if err != nil {
					t.Fatalf("error %v after every answer came", err)
				}
				return
			}
			if !errors.As(err, &se) || !se.Fatal || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "its requests cancelled") {
				t.Fatalf("error %v, want a fatal SourceError wrapping the stop", err)
			}
		})
	}
}

// TestScorerWritesABatchAnsweredBeforeAStop: a stop that comes once the
// student's server has answered the last of a batch's requests leaves that
// batch scored (rlt.Scorer.ScoreEach through two servers, as rlt score
// scores): no item's error, every item's score, which rlt score writes
// before it heeds the stop. Its items were each the stop's error, the
// batch dropped though the servers had scored it whole.
func TestScorerWritesABatchAnsweredBeforeAStop(t *testing.T) {
	tok := testTok(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	items := []rlt.Item{
		{Question: "2+3=?", Solution: "5", Explanation: "add them", Ended: true},
		{Question: "4+4=?", Solution: "8", Explanation: "double four", Ended: true},
	}
	var sources []rlt.LogProbSource
	var studentHook *closeHook
	for _, who := range []string{"teacher", "student"} {
		hook := &closeHook{onAnswer: func(n int64) {
			if who == "student" && n == int64(len(items)) {
				cancel() // as the last answer of the batch is read
			}
		}}
		o := fast()
		o.Client = &http.Client{Transport: hook}
		s, err := connect(t, &fake{kind: VLLM, maxLen: 4096}, o)
		if err != nil {
			t.Fatal(err)
		}
		hook.armed.Store(true)
		if who == "student" {
			studentHook = hook
		}
		sources = append(sources, s)
	}
	cfg := record.DefaultRewardConfig()
	cfg.Temperature = 0.7
	sc, err := rlt.NewSourceScorer(sources[0], sources[1], tok, record.DefaultPrompts(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	out, errs := sc.ScoreEach(ctx, items)
	if ctx.Err() == nil || studentHook.answers.Load() != int64(len(items)) {
		t.Fatalf("stopped %v after %d student answers; want the stop after the last", ctx.Err(), studentHook.answers.Load())
	}
	for i := range items {
		if errs[i] != nil || len(out[i].TeacherLP) == 0 || len(out[i].TeacherLP) != len(out[i].StudentLP) || len(out[i].SolutionLP) == 0 {
			t.Errorf("item %d: %v, scored %+v; want its score", i, errs[i], out[i].Terms)
		}
	}
}

// TestScorerKeepsTheItemsAnsweredBeforeAStopOrAFailure: a stop, or the
// student's server failing (a 500, no retries), part way through a batch
// of three keeps the items whose teacher and student answers had both come
// (rlt.Scorer.ScoreEach through two servers, as rlt score scores): the
// first item scored as it is unstopped, the two after it the stop's or
// the failure's error. A teacher stopped part way leaves no item whole
// (the student has answered none). The whole batch was each item's error,
// the first item's answers dropped.
func TestScorerKeepsTheItemsAnsweredBeforeAStopOrAFailure(t *testing.T) {
	tok := testTok(t)
	items := []rlt.Item{
		{Question: "2+3=?", Solution: "5", Explanation: "add them", Ended: true},
		{Question: "4+4=?", Solution: "8", Explanation: "double four", Ended: true},
		{Question: "9-1=?", Solution: "8", Explanation: "one less", Ended: true},
	}
	cfg := record.DefaultRewardConfig()
	cfg.Temperature = 0.7
	// scorer connects a teacher and a student server, one request at a
	// time each; on the one who (armed once both are checked), the stop
	// (cancel) comes as its answer number stopAfter is read, or its
	// request number failAt is answered 500.
	scorer := func(t *testing.T, who string, stopAfter, failAt int64, cancel func()) *rlt.Scorer {
		var sources []rlt.LogProbSource
		var armed []*closeHook
		for _, w := range []string{"teacher", "student"} {
			hook := &closeHook{onAnswer: func(n int64) {
				if w == who && n == stopAfter {
					cancel()
				}
			}}
			o := fast()
			o.Concurrency, o.Retries = 1, 0
			o.Client = &http.Client{Transport: hook}
			f := &fake{kind: VLLM, maxLen: 4096}
			if w == who && failAt > 0 {
				var n atomic.Int64
				f.fail = func(_ int32, _ int, rw http.ResponseWriter) bool {
					if hook.armed.Load() && n.Add(1) == failAt {
						rw.WriteHeader(http.StatusInternalServerError)
						io.WriteString(rw, `{"error":"out of memory"}`)
						return true
					}
					return false
				}
			}
			s, err := connect(t, f, o)
			if err != nil {
				t.Fatal(err)
			}
			armed = append(armed, hook)
			sources = append(sources, s)
		}
		sc, err := rlt.NewSourceScorer(sources[0], sources[1], tok, record.DefaultPrompts(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range armed {
			h.armed.Store(true)
		}
		return sc
	}
	want, errs := scorer(t, "", 0, 0, func() {}).ScoreEach(context.Background(), items)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("unstopped: item %d: %v", i, err)
		}
	}
	for _, c := range []struct {
		name              string
		who               string
		stopAfter, failAt int64
		whole             int    // items scored
		says              string // in the others' errors
	}{
		{"the student stopped after its first answer", "student", 1, 0, 1, "its requests cancelled"},
		{"the student's server failing on its second request", "student", 0, 2, 1, "500"},
		{"the teacher stopped after its second answer", "teacher", 2, 0, 0, "its requests cancelled"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out, errs := scorer(t, c.who, c.stopAfter, c.failAt, cancel).ScoreEach(ctx, items)
			if len(out) != len(items) || len(errs) != len(items) {
				t.Fatalf("%d scores and %d errors for %d items", len(out), len(errs), len(items))
			}
			for i := range items {
				if i < c.whole {
					if errs[i] != nil || out[i].Reward != want[i].Reward || len(out[i].StudentLP) != len(want[i].StudentLP) || len(out[i].SolutionLP) != len(want[i].SolutionLP) {
						t.Errorf("item %d: %v, reward %v; want its score, reward %v", i, errs[i], out[i].Reward, want[i].Reward)
					}
					continue
				}
				if errs[i] == nil || !rlt.Fatal(errs[i]) || !strings.Contains(errs[i].Error(), c.says) {
					t.Errorf("item %d: error %v; want a fatal error saying %q", i, errs[i], c.says)
				}
			}
		})
	}
}

// TestBackoffStopsGrowingAtTheCap: the waits between tries double up to
// maxBackoff and stay there, whatever the number of tries: they doubled
// without end, 3 days before the 21st try of a server that stayed down,
// and past time.Duration's range (the 36th) negative, then 0, tries with no
// wait at all. A first wait above the cap is kept.
func TestBackoffStopsGrowingAtTheCap(t *testing.T) {
	for _, first := range []time.Duration{time.Millisecond, 500 * time.Millisecond, 90 * time.Second, 5 * time.Minute} {
		wait, top := first, max(first, maxBackoff)
		for try := 1; try <= 100; try++ {
			next := nextBackoff(wait)
			if want := min(2*wait, top); next != want {
				t.Fatalf("from %v, try %d: wait %v after %v, want %v", first, try, next, wait, want)
			}
			wait = next
		}
		if wait != top {
			t.Errorf("from %v: the waits end at %v, want %v", first, wait, top)
		}
	}
}
