package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/rlt-workbench/rlt/engine/device"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/memory"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/engine/serve"
)

const serveUsage = `
Usage: rlt serve --model DIR [--listen 127.0.0.1:8000] [--api vllm|sglang|both] [flags]

Serves a model folder of this engine (--device cpu, the default, or gpu,
gpu:N, auto) behind the endpoints rlt score talks to, so a workbench on
another machine scores with it (rlt score --teacher http://HOST:PORT):
vLLM's OpenAI-compatible POST /v1/completions (token ids or texts as the
prompt, one or a batch; max_tokens 1 or 0 with echo; prompt_logprobs k and
the legacy logprobs N, so lm-eval-harness's local-completions model runs
loglikelihood tasks against it), SGLang's POST /generate (input_ids or text,
one or a list; return_logprob, logprob_start_len, top_logprobs_num,
return_text_in_logprobs), POST /tokenize and GET /v1/models. Only what
scoring and evaluation need: at most one (greedy) generated token, top
log-probs up to --max-logprobs a position. A batch of prompts runs through
the model together, in forwards of at most --micro-batch-tokens positions
(a longer prompt alone; 0: --max-model-len's).
--max-model-len is vLLM's: the most tokens a request's prompt and the
tokens it generates may take (default: the model's positions), written as
vLLM's: a count, or with a suffix, lowercase decimal (8k: 8000, 25.6k,
m, g, t) or uppercase binary, whole (8K: 8192, M, G, T); -1 or auto is
vLLM's auto-fit: the model's positions, or the most that fit in memory,
said as it starts. A longer
request is refused (400, in vLLM's words on /v1/completions, SGLang's on
/generate); the memory serving needs is that of forwards of
--micro-batch-tokens or --max-model-len positions, whichever is more, so a
smaller --max-model-len fits a model of long context in less memory (a
start refused for memory says a value that fits, where one does).
The generated token ends as vLLM ends it: stop, stop_token_ids, and the
folder's end of sequence (its tokenizer's eos_token, its generation
config's eos_token_id) unless ignore_eos; min_tokens, bad_words,
allowed_token_ids and SGLang's min_new_tokens hold tokens back from it,
as those servers' samplers do. Every other field either server
defines is answered as it would answer it for that one greedy token, or
refused naming the field; vLLM's are those of vLLM v0.24.0, checked in its
order, in its words. Field names match exactly, as those servers match
them: a key that is a field's name in another case ("Prompt") is refused,
naming the field. Unlike vLLM and SGLang, the log-probs are of
logits / the request's temperature.
Errors are those servers' JSON (400 for a prompt longer than
--max-model-len; a path --api does not serve is their FastAPI's 404
{"detail":"Not Found"}, a wrong method its 405). Requests that arrive while
the model computes others are computed together, each answered as it would
be alone.

It listens on localhost only unless --public is given: the endpoints have no
authentication. Ctrl-C stops it, as do a kill's SIGTERM and the SIGHUP of a
closed terminal: the requests in hand are answered first.

Examples:
  rlt serve --model /tmp/trained --listen 127.0.0.1:8000    # for rlt score on this machine
  # On gpu1, for rlt score on another machine (rlt score --help's example);
  # anyone who reaches gpu1's ports can use them: no authentication.
  rlt serve --model /tmp/trained --listen 0.0.0.0:8000 --public
  rlt serve --model /tmp/defaults/student --listen 0.0.0.0:8001 --public
  # Requests of up to 8192 tokens, so forwards of at most 8192 positions:
  # a 7B of 32,768 positions fits a 24 GB GPU so.
  rlt serve --model /tmp/trained --device gpu --max-model-len 8192
`

func runServe(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	// Ctrl-C, SIGTERM and a closed terminal's SIGHUP (stopSignals) shut
	// it down gracefully: the requests in hand are answered first.
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	defer stop()
	return serveCommand(ctx, args, stdout, stderr)
}

// serveCommand is rlt serve until ctx ends.
func serveCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("rlt serve", serveUsage, stdout, stderr)
	dir := fs.String("model", "", "model folder to serve (required)")
	listen := fs.String("listen", "127.0.0.1:8000", "address to listen on (host:port; port 0 picks a free one)")
	public := fs.Bool("public", false, "allow listening on an address other than localhost")
	apiFlag := fs.String("api", "both", "endpoints: vllm (/v1/completions), sglang (/generate) or both")
	name := fs.String("name", "", "the model's name in /v1/models and requests (default: the folder's name)")
	weights := weightsFlag(fs, true)
	dev := fs.String("device", "cpu", "where to compute: cpu, gpu, gpu:N (the Nth Vulkan device, as vulkaninfo numbers them) or auto (a discrete GPU when present)")
	mbTokens := fs.Int("micro-batch-tokens", runconfig.DefaultMicroBatchTokens, "each forward holds at most this many positions (a longer prompt alone; 0: --max-model-len's)")
	var maxLenFlag tokenCountFlag
	fs.Var(&maxLenFlag, "max-model-len", "the most tokens a request's prompt and generated tokens may take, as vLLM's, and written as vLLM's: a `count` such as 8192, 8k (8000) or 8K (8192), or -1 or auto for the model's positions, or the most that fit in memory; a longer request is refused (400), and forwards hold at most this or --micro-batch-tokens positions, whichever is more (default: the model's positions)")
	maxModelLen := (*int)(&maxLenFlag)
	maxLogprobs := fs.Int("max-logprobs", 20, "the most top log-probs a request may ask a position (prompt_logprobs, logprobs, SGLang's top_logprobs_num), as vLLM's; -1: the vocabulary")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "model"); err != nil {
		return err
	}
	if err := checkArgs(fs, 0, ""); err != nil {
		return err
	}
	if err := checkDeviceFlags(fs); err != nil {
		return err
	}
	if err := checkCounts(fs, atLeast{"micro-batch-tokens", *mbTokens, 0}); err != nil {
		return err
	}
	if flagsGiven(fs)["max-model-len"] && *maxModelLen < 1 && *maxModelLen != autoModelLen {
		return badValue(fs, "--max-model-len %d: %s", *maxModelLen, tokenCountLeast)
	}
	// The load's own first reads, config.json and the weights' headers,
	// read once here for every check before the load and for the load:
	// the memory check below takes them (heldFrom), the end of sequence
	// config.json's eos_token_id and the load its shape (inspected.HF),
	// where each read them again.
	inspected, inspectErr := model.InspectFolder(*dir)
	cfg, dtype := inspected.Cfg, inspected.DType
	// Past the model's positions is the call's, said before any work (as
	// vLLM refuses a max_model_len past max_position_embeddings), of the
	// config.json the load reads. A folder whose config.json or
	// weights' headers cannot be read (inspectErr) is said below, after
	// its tokenizer's problems, before the address is taken.
	if positions := cfg.MaxPos; inspectErr == nil && *maxModelLen > positions {
		return badValue(fs, "--max-model-len %d is more than the %d positions of the model %s (its config.json's max_position_embeddings): give at most %d, or leave it out for them", *maxModelLen, positions, *dir, positions)
	}
	// Values no server could take are the call's, before any work.
	api, err := serve.ParseAPI(*apiFlag)
	if err != nil {
		return badValue(fs, "--%v", err)
	}
	if *maxLogprobs < -1 {
		return badValue(fs, "--max-logprobs %d: want a count of top log-probs, or -1 for the vocabulary", *maxLogprobs)
	}
	prec, err := parseWeights(*weights)
	if err != nil {
		return badValue(fs, "%v", err)
	}
	// A port that is no number (or past 65535) is said here, with what
	// to type, not by the listen once the model has loaded ("listen tcp:
	// address 99999: invalid port"); no example was given either way.
	host, port, err := net.SplitHostPort(*listen)
	if err == nil && port == "" {
		err = errors.New("no port after the colon")
	} else if _, perr := strconv.ParseUint(port, 10, 16); err == nil && perr != nil {
		err = fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	if err != nil {
		return badValue(fs, "--listen %q: %v: give host:port, such as --listen 127.0.0.1:8000 (port 0 picks a free one)", *listen, err)
	}
	if !*public && !loopback(host) {
		return badValue(fs, "--listen %s is not a localhost address: the endpoints have no authentication; give --public to listen there anyway", *listen)
	}
	// The model folder as far as it can be read without loading it, before
	// the address is taken: a file given as --model, a folder that is not
	// there, a tokenizer, config.json, weights header or end of sequence
	// that cannot be read, a tokenizer past the embedding table, and a
	// model that cannot fit are each said for what they are, whatever
	// holds --listen's port (the address in use was said instead, and a
	// typo's real problem only once the port was free).
	// The folder's config.json and weights' headers, and the tokenizer's
	// size against its embedding, are said in the words rlt generate,
	// rlt logprobs and rlt distill say them ("model DIR: …",
	// rlt.TokenizerRows), before the end of sequence, which takes
	// config.json's eos_token_id from the read above.
	tok, err := loadTokenizer(filepath.Join(*dir, hf.TokenizerFile)) // a file given as --model is said for what it is
	if err != nil {
		return err
	}
	if inspectErr != nil {
		return inspectErr
	}
	if err := rlt.TokenizerRows("--model", *dir, tok.VocabSize(), cfg.Vocab); err != nil {
		return err
	}
	// What ends a generation besides a request's stop_token_ids, read as
	// vLLM reads it; a folder that says it wrongly is said before the
	// model loads.
	eos, err := serve.ReadEOS(*dir, inspected.HF, tok.ID)
	if err != nil {
		return err
	}
	// The model and a forward of --micro-batch-tokens or --max-model-len
	// positions within the memory where it computes, before the address is
	// taken or the device opens.
	u, stored16 := heldFrom(cfg, dtype, prec)
	auto := *maxModelLen == autoModelLen
	if auto { // vLLM's auto-fit: the model's positions, or the most that fit
		// The length found is one that fits, by the same estimate
		// checkServeMemoryOf makes: not weighed a second time.
		fit, err := autoFitModelLen(*dev, u, stored16, *mbTokens)
		if err != nil {
			return err
		}
		*maxModelLen = fit
	} else if err := checkServeMemoryOf(*dev, u, stored16, *mbTokens, *maxModelLen); err != nil {
		return err
	}
	// The address is taken before the model loads: one already in use is
	// said at once, not after minutes of loading a large model onto a GPU.
	ln, err := listenServe(*listen)
	if err != nil {
		return err
	}
	// Closed on every way out before serving; once served, Shutdown
	// closes it and this second close only errs.
	defer ln.Close()
	be, choice, err := device.Open(*dev, device.MatmulF32)
	if err != nil {
		return err
	}
	defer device.Close(be)
	if !flagsGiven(fs)["device"] {
		choice.Why = "rlt serve's default; --device gpu for a GPU"
	}
	m, err := model.LoadWith(ctx, be, *dir, inspected.HF, prec)
	if stopped := loadStopped(ctx, err, "the model loaded", "request", "run the same command again to serve it"); stopped != nil {
		// A stop, as one while it serves is: said, and exit 0.
		fmt.Fprintf(stderr, "rlt serve: %v\n", stopped)
		return nil
	}
	if err := deviceCheck(be, "load "+*dir, err); err != nil {
		return err
	}
	// --max-model-len and the tokenizer were weighed against this
	// config.json before the address was taken (model.Inspect: the load
	// reads the same file).
	maxLen := m.Cfg.MaxPos
	if *maxModelLen > 0 {
		maxLen = *maxModelLen
	}
	if *name == "" {
		abs, _ := filepath.Abs(*dir)
		*name = filepath.Base(abs)
	}
	src := serveSource(m, *dir, *mbTokens, maxLen)
	srv := serve.New(src, tok, *name, api)
	srv.MaxLogprobs = *maxLogprobs
	srv.MaxModelLen = maxLen
	srv.EOS = eos
	srv.Warn = stderr // vLLM's warnings (a temperature raised to 0.01), one line each
	failed := make(chan error, 1)
	hs := &http.Server{Handler: stopOnDeviceFailure(srv.Handler(), src, failed), ReadHeaderTimeout: 30 * time.Second}
	positions := fmt.Sprintf("%d positions", maxLen)
	switch {
	case auto && maxLen < m.Cfg.MaxPos:
		positions = fmt.Sprintf("--max-model-len auto: %d of its %d positions, the most that fit", maxLen, m.Cfg.MaxPos)
	case auto:
		positions = fmt.Sprintf("%d positions, --max-model-len auto: all fit", maxLen)
	case maxLen < m.Cfg.MaxPos:
		positions = fmt.Sprintf("--max-model-len %d of its %d positions", maxLen, m.Cfg.MaxPos)
	}
	fmt.Fprintf(stdout, "serving %s as %q on http://%s (api %s, %s, device %s: %s)\n", *dir, *name, ln.Addr(), api, positions, *dev, choice)
	if f, ok := stdout.(interface{ Sync() error }); ok {
		f.Sync()
	}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	var devErr error
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	case devErr = <-failed: // every later request would fail too: stop, so a supervisor can restart on the CPU
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if devErr != nil {
		return deviceFailed(be, "computing", devErr)
	}
	fmt.Fprintln(stderr, "rlt serve: stopped")
	return nil
}

// stopOnDeviceFailure serves with h and, once a request leaves the device
// failed (lost, out of memory), sends its error on failed, once: the
// server then stops instead of failing every request after it. dev is
// read from the requests' goroutines, so it must be safe for that
// (rlt.ModelSource.Err takes the source's lock).
func stopOnDeviceFailure(h http.Handler, dev interface{ Err() error }, failed chan<- error) http.Handler {
	var once sync.Once
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		if err := dev.Err(); err != nil {
			once.Do(func() { failed <- err })
		}
	})
}

// listenServe listens on addr, an address already in use said with the way
// on.
func listenServe(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("--listen %s: the address is in use (by an earlier serve still running, or another server?): stop it, or give another port (port 0 picks a free one): %w", addr, err)
	}
	if err != nil {
		return nil, fmt.Errorf("--listen %s: %w", addr, err)
	}
	return ln, nil
}

// loopback reports whether host names this machine only.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkServeMemoryOf refuses, before the address is taken or the device
// opens, serving the model u that cannot fit where --device dev computes
// (checkForwardsMemory: forwards alone): the model held as --weights says and one forward of
// --micro-batch-tokens positions or of --max-model-len's (maxLen; 0: the
// model's positions), whichever is more. Concurrent requests and a batch
// request's prompts share forwards of at most --micro-batch-tokens padded
// positions (serve's nextRound, rlt.ModelSource.PromptLogProbsBatch), so
// the batch they form is counted; a single prompt longer than it runs
// alone, as it would by itself, and none is longer than maxLen (serve
// refuses it); with no limit (0) forwards hold at most maxLen positions
// (serveCommand sets the source's limit to it). It samples no sequence:
// the one token it generates is read from the forward's last position (no
// KV cache, which at the model's positions was 3 GiB of a 131,072-position
// 0.5B model's 5 GiB estimate). Refused, it offers the largest
// --max-model-len that fits, where a smaller one would: on a model of long
// context the forward of its positions is most of the estimate (13.9 of a
// Qwen2.5-7B's), and requests of a few thousand tokens need far less. u
// is the model as heldFrom says it (stored16: its checkpoint is 16-bit),
// of the folder's config.json and weights' headers that serveCommand has
// read for its own checks.
func checkServeMemoryOf(dev string, u memory.Use, stored16 bool, mbTokens, maxLen int) error {
	if maxLen <= 0 || maxLen > u.Cfg.MaxPos { // past the positions: refused by the caller
		maxLen = u.Cfg.MaxPos
	}
	check, err := serveMemoryCheck(dev, u)
	if err != nil {
		return err
	}
	if check(mbTokens, maxLen, nil) == nil {
		return nil
	}
	fixes := weightsFix(u, stored16)
	// A forward holds the more of the two flags' positions, so below
	// --micro-batch-tokens (8192 by default) a smaller --max-model-len
	// alone needs no less: the value offered lowers --micro-batch-tokens
	// with it where it passes it. At maxLen itself only
	// --micro-batch-tokens changes, said below.
	fits := func(n int) bool { return check(min(mbTokens, n), n, nil) == nil }
	if fit := largestFitting(maxLen, fits); fit > 0 && fit < maxLen {
		if mbTokens > fit {
			fixes = append(fixes, fmt.Sprintf("--max-model-len %d --micro-batch-tokens %d (now %d and %d), or less: the most tokens a request's prompt and generated tokens may take, and the positions each forward holds", fit, fit, maxLen, mbTokens))
		} else {
			fixes = append(fixes, fmt.Sprintf("--max-model-len %d (now %d), or less: the most tokens a request's prompt and generated tokens may take, and the positions of the longest forward", fit, maxLen))
		}
	}
	if mbTokens > maxLen {
		of := fmt.Sprintf("the model's %d", maxLen)
		if maxLen < u.Cfg.MaxPos {
			of = fmt.Sprintf("--max-model-len's %d", maxLen)
		}
		fixes = append(fixes, fmt.Sprintf("a smaller --micro-batch-tokens (now %d): the positions each forward holds, at least a prompt of %s", mbTokens, of))
	}
	return check(mbTokens, maxLen, fixes)
}

// serveMemoryCheck is the check of serving the model u on --device dev
// that checkServeMemoryOf and autoFitModelLen make: nil where forwards of
// mbTokens positions, requests of at most maxLen, fit in its memory, else
// the refusal with fixes offered.
func serveMemoryCheck(dev string, u memory.Use) (func(mbTokens, maxLen int, fixes []string) error, error) {
	where, err := device.MemoryOf(dev)
	if err != nil {
		return nil, err
	}
	return func(mbTokens, maxLen int, fixes []string) error {
		return checkModelsMemoryOn("serving", where, where.HeadForwardBytes, memory.Models{Uses: []memory.Use{serveUse(u, mbTokens, maxLen)}}, fixes)
	}, nil
}

// autoFitModelLen is --max-model-len -1 or auto, as vLLM's auto-fit
// (_auto_fit_max_model_len) reads it: the model's positions where
// serving them fits in the memory where --device dev computes
// (checkServeMemoryOf's estimate, --micro-batch-tokens as given), else
// the most that fit. Where not even one position fits it is refused, as
// vLLM refuses it ("not enough GPU memory available to serve even a
// single token"), saying auto found none and what serving one position
// needs, with the ways on: a smaller --micro-batch-tokens where its
// forwards are what does not fit (auto then serves at least that many),
// and the weights' and the device's. It was the model's positions then,
// refused by checkServeMemoryOf as though they had been asked for
// ("model forward, 131072 positions at a time", "--max-model-len 924
// (now 131072)"), auto unnamed.
func autoFitModelLen(dev string, u memory.Use, stored16 bool, mbTokens int) (int, error) {
	check, err := serveMemoryCheck(dev, u)
	if err != nil {
		return 0, err
	}
	fits := func(n int) bool { return check(mbTokens, n, nil) == nil }
	if fits(u.Cfg.MaxPos) {
		return u.Cfg.MaxPos, nil
	}
	if fit := largestFitting(u.Cfg.MaxPos, fits); fit > 0 {
		return fit, nil
	}
	fixes := weightsFix(u, stored16)
	if mbTokens > 1 {
		if fit := largestFitting(min(mbTokens-1, u.Cfg.MaxPos), func(n int) bool { return check(n, n, nil) == nil }); fit > 0 {
			fixes = append(fixes, fmt.Sprintf("--micro-batch-tokens %d (now %d), or less: the positions each forward holds; auto then serves at least %d positions", fit, mbTokens, fit))
		}
	}
	return 0, fmt.Errorf("--max-model-len auto: not one of the model's %d positions fits in memory (vLLM's auto-fit refuses so too): %w", u.Cfg.MaxPos, check(mbTokens, 1, fixes))
}

// serveSource is the model m as rlt serve computes it: forwards of at
// most --micro-batch-tokens positions (a longer prompt alone), or with no
// limit (0) of maxLen's (--max-model-len's), the longest request served,
// as checkServeMemoryOf counts them (serveUse): the source's own no limit,
// the model's positions, would pack a batch of short prompts into a
// forward past the estimate.
func serveSource(m *model.Model, dir string, mbTokens, maxLen int) *rlt.ModelSource {
	src := rlt.NewModelSource(m, dir)
	src.MicroBatchTokens = mbTokens
	if mbTokens == 0 {
		src.MicroBatchTokens = maxLen
	}
	return src
}

// serveUse is u as rlt serve runs it: forwards of --micro-batch-tokens
// positions or of maxLen (--max-model-len's), whichever is more, of
// sequences of at most maxLen tokens.
func serveUse(u memory.Use, mbTokens, maxLen int) memory.Use {
	u.Name, u.ForwardRows, u.ForwardT = "model", max(mbTokens, maxLen), maxLen
	return u
}

// largestFitting is the largest n in [1, most] for which fits holds, or 0
// for none; fits holds for every n up to one where it holds (an estimate
// that grows with n), so a binary search finds it in log2(most) checks.
func largestFitting(most int, fits func(n int) bool) int {
	if most < 1 || !fits(1) {
		return 0
	}
	lo, hi := 1, most+1 // fits(lo); !fits(hi) or hi past most
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if fits(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}
