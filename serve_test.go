package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rlt-workbench/rlt/compute/backendtest"
	"github.com/rlt-workbench/rlt/compute/vulkan"
	"github.com/rlt-workbench/rlt/engine/device"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/warmstart"
)

// startServe runs `rlt serve` itself on a free loopback port until the test
// ends, and returns its URL.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- serveCommand(ctx, append(args, "--listen", "127.0.0.1:0"), pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("rlt serve %v: %v (%v)", args, err, <-done)
	}
	go io.Copy(io.Discard, pr)
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("rlt serve: %v", err)
		}
	})
	m := regexp.MustCompile(`on (http://127\.0\.0\.1:\d+) `).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("rlt serve said %q", line)
	}
	// Its device is said with why: the default is not one asked for.
	if !slices.Contains(args, "--device") && !strings.Contains(line, "(rlt serve's default; --device gpu for a GPU)") {
		t.Errorf("rlt serve without --device said %q, not that its device is the default", line)
	}
	return m[1]
}

// scoreLines reads rlt score's output lines as generic objects.
func scoreLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("output line %q: %v", l, err)
		}
		recs = append(recs, r)
	}
	return recs
}

// sameScores compares two outputs field by field, numbers (and every
// per-token array) to 1e-5, ignoring the keys in skip.
func sameScores(t *testing.T, what string, got, want []map[string]any, skip ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d lines, want %d", what, len(got), len(want))
	}
	var cmp func(path string, g, w any)
	cmp = func(path string, g, w any) {
		switch wv := w.(type) {
		case float64:
			gv, ok := g.(float64)
			if !ok || math.Abs(gv-wv) > 1e-5 {
				t.Errorf("%s: %s = %v, want %v", what, path, g, w)
			}
		case []any:
			gv, ok := g.([]any)
			if !ok || len(gv) != len(wv) {
				t.Errorf("%s: %s has %v, want %v", what, path, g, w)
				return
			}
			for i := range wv {
				cmp(fmt.Sprintf("%s[%d]", path, i), gv[i], wv[i])
			}
		default:
			if fmt.Sprint(g) != fmt.Sprint(w) {
				t.Errorf("%s: %s = %v, want %v", what, path, g, w)
			}
		}
	}
	for i := range want {
		keys := map[string]bool{}
		for k := range want[i] {
			keys[k] = true
		}
		for k := range got[i] {
			keys[k] = true
		}
		var ks []string
		for k := range keys {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			if !contains(skip, k) {
				cmp(fmt.Sprintf("line %d %s", i+1, k), got[i][k], want[i][k])
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestScoreThroughServe: rlt score through a real rlt serve (the teacher
// over vLLM's endpoint, the student over SGLang's) gives what in-process
// scoring gives, every array to 1e-5.
func TestScoreThroughServe(t *testing.T) {
	tURL := startServe(t, "--model", embeddedTeacher)
	sURL := startServe(t, "--model", embeddedStudent, "--api", "sglang")
	in := `{"question":"347+285=?","solution":"632","explanation":"7+5=12 w2 c1; 4+8+1=13 w3 c1; 3+2+1=6"}
{"question":"12+9=?","solution":"21","completion":"the answer is 21. 2+9=11"}
{"question":"5+5=?","solution":"10","explanation":""}
`
	code, want, errs := runCLI(t, in, "score", "--teacher", embeddedTeacher, "--student", embeddedStudent, "--batch", "2")
	if code != 0 {
		t.Fatalf("in process: exit %d: %s", code, errs)
	}
	for _, c := range [][]string{
		{"--teacher", tURL, "--student", sURL, "--tokenizer", embeddedStudent},
		{"--teacher", embeddedTeacher, "--student", sURL + "/"}, // one in process, one served
		{"--teacher", tURL, "--student", sURL, "--tokenizer", embeddedTeacher, "--server-kind", "sglang", "--estimator", "k3"},
	} {
		args := append([]string{"score", "--batch", "2"}, c...)
		code, got, errs := runCLI(t, in, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", c, code, errs)
		}
		wantHere := want
		if contains(c, "k3") {
			_, wantHere, _ = runCLI(t, in, "score", "--teacher", embeddedTeacher, "--student", embeddedStudent, "--estimator", "k3")
		}
		lines := scoreLines(t, got)
		sameScores(t, strings.Join(c, " "), lines, scoreLines(t, wantHere))
		if lines[0]["temperature"] != 0.7 || strings.Contains(errs, "NOT") {
			t.Errorf("%v: temperature %v: %s", c, lines[0]["temperature"], errs)
		}
	}
	// A server that computes prompt log-probs of the raw logits whatever the
	// temperature (vLLM's V1 engine, SGLang): rlt serve behind a proxy that
	// sets every request's temperature to 1. The scores are then at 1, and
	// say so: they equal in-process scores at temperature 1.
	rawURL := rawProxy(t, tURL)
	code, got, errs := runCLI(t, in, "score", "--batch", "2", "--teacher", rawURL, "--student", embeddedStudent)
	if code != 0 || !strings.Contains(errs, "scores are at temperature 1, NOT the 0.7 asked") || !strings.Contains(errs, "raw logits") {
		t.Fatalf("raw server: exit %d: %s", code, errs)
	}
	_, want1, _ := runCLI(t, in, "score", "--batch", "2", "--teacher", embeddedTeacher, "--student", embeddedStudent, "--temperature", "1")
	sameScores(t, "raw server", scoreLines(t, got), scoreLines(t, want1))
	if l := scoreLines(t, got)[0]; l["temperature"] != 1.0 {
		t.Errorf("raw server: a line says temperature %v", l["temperature"])
	}
	// A server dropping the connection after the probes: stdin scoring
	// stops, naming the server and the input line.
	_, dropping := proxyTo(t, sURL, 3)
	code, got, errs = runCLI(t, in, "score", "--batch", "2", "--retries", "0", "--teacher", embeddedTeacher, "--student", dropping)
	if code != 1 || got != "" || !regexp.MustCompile(`line [12]: student: sglang server `+regexp.QuoteMeta(dropping)+`: sequence [01]: POST /generate: connection dropped`).MatchString(errs) {
		t.Errorf("dropped connection on stdin: exit %d, output %q: %s", code, got, errs)
	}
	// The full estimator needs whole distributions: refused through a server.
	if code, _, errs := runCLI(t, in, "score", "--teacher", tURL, "--student", embeddedStudent, "--estimator", "full"); code != 1 || !strings.Contains(errs, "whole distributions") {
		t.Errorf("full KL through a server: exit %d: %s", code, errs)
	}
	if code, _, errs := runCLI(t, in, "score", "--teacher", tURL, "--student", sURL); code != 1 || !strings.Contains(errs, "give --tokenizer DIR") {
		t.Errorf("two servers, no tokenizer: exit %d: %s", code, errs)
	}
	if code, _, errs := runCLI(t, "", "serve", "--model", embeddedTeacher, "--listen", "0.0.0.0:0"); code != 2 || !strings.Contains(errs, "give --public") {
		t.Errorf("serve on all interfaces without --public: exit %d: %s", code, errs)
	}
}

// rawProxy is a proxy in front of target that asks everything at
// temperature 1.
func rawProxy(t *testing.T, target string) string {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := httputil.NewSingleHostReverseProxy(u)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			var body map[string]any
			json.NewDecoder(r.Body).Decode(&body)
			if _, ok := body["temperature"]; ok {
				body["temperature"] = 1
			}
			if sp, ok := body["sampling_params"].(map[string]any); ok {
				sp["temperature"] = 1
			}
			b, _ := json.Marshal(body)
			r.Body = io.NopCloser(bytes.NewReader(b))
			r.ContentLength = int64(len(b))
		}
		p.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

// counting is a proxy in front of a server that counts the scoring
// requests and, from request number dropFrom on (when > 0), drops the
// connection instead.
type counting struct {
	proxy    *httputil.ReverseProxy
	n        atomic.Int64
	dropFrom atomic.Int64
}

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v1/completions" || r.URL.Path == "/generate" {
		if n, from := c.n.Add(1), c.dropFrom.Load(); from > 0 && n >= from {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
	}
	c.proxy.ServeHTTP(w, r)
}

func proxyTo(t *testing.T, target string, dropFrom int64) (*counting, string) {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	c := &counting{proxy: httputil.NewSingleHostReverseProxy(u)}
	c.dropFrom.Store(dropFrom)
	ts := httptest.NewServer(c)
	t.Cleanup(ts.Close)
	return c, ts.URL
}

// TestScoreRunThroughServeResumes: a server that drops the connection mid
// run stops rlt score --run --write with the server and the trace named,
// the batch in flight unstored; run again, the stored traces are not asked
// for again, and the scores are the in-process ones.
func TestScoreRunThroughServeResumes(t *testing.T) {
	runDir := filepath.Join(t.TempDir(), "official")
	if code, _, errs := runCLI(t, "", "import", officialFixture, "--out", runDir); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	prompts := warmstart.ShortPrompts()
	common := []string{"score", "--teacher-system", prompts.TeacherSystem, "--student-system", prompts.StudentSystem, "--batch", "2", "--run", runDir}
	code, want, errs := runCLI(t, "", append(common, "--teacher", embeddedTeacher, "--student", embeddedStudent)...)
	if code != 0 {
		t.Fatalf("in process: exit %d: %s", code, errs)
	}
	tURL := startServe(t, "--model", embeddedTeacher, "--api", "vllm")
	sURL := startServe(t, "--model", embeddedStudent, "--api", "sglang")
	// The student's server drops every connection after the probe's 2
	// requests and the first batch's 2: the second batch fails.
	counter, student := proxyTo(t, sURL, 5)
	remoteArgs := append(common, "--teacher", tURL, "--tokenizer", embeddedStudent, "--write", "--retries", "1")
	remoteArgs = append(remoteArgs, "--student", student)
	code, out, errs := runCLI(t, "", remoteArgs...)
	// Both of the second batch's requests fail; the one whose failure
	// stopped the batch is named (the other's was cancelled).
	named := regexp.MustCompile(`trace (2-0-0 \(trace 3|2-0-1 \(trace 4) of ` + regexp.QuoteMeta(runDir) + `\)`)
	if code != 1 || !named.MatchString(errs) || !strings.Contains(errs, "sglang server "+student) ||
		!strings.Contains(errs, "connection dropped") || !strings.Contains(errs, "2 traces were stored before it") {
		t.Fatalf("dropped connection: exit %d: %s", code, errs)
	}
	if n := len(scoreLines(t, out)); n != 2 {
		t.Errorf("%d lines printed before the failure, want the first batch's 2", n)
	}
	stored, err := os.ReadFile(filepath.Join(runDir, "rescores.jsonl"))
	if err != nil || strings.Count(string(stored), "\n") != 2 {
		t.Fatalf("rescores.jsonl after the failure: %v\n%s", err, stored)
	}
	// Again, the server well: only the 3 traces left are asked for (and
	// the 2 probes), the 2 stored ones are printed from the run.
	counter.dropFrom.Store(0)
	counter.n.Store(0)
	code, out, errs = runCLI(t, "", remoteArgs...)
	if code != 0 || !strings.Contains(errs, "scored 3 of 5 traces") || !strings.Contains(errs, "2 already stored") {
		t.Fatalf("resume: exit %d: %s", code, errs)
	}
	if n := counter.n.Load(); n != 2+3 {
		t.Errorf("%d student requests on resuming, want 2 probes + 3 traces", n)
	}
	lines := scoreLines(t, out)
	for i, l := range lines {
		if (l["stored"] == true) != (i < 2) {
			t.Errorf("line %d: stored %v", i+1, l["stored"])
		}
	}
	sameScores(t, "resumed run", lines, scoreLines(t, want), "stored")
	stored, _ = os.ReadFile(filepath.Join(runDir, "rescores.jsonl"))
	if strings.Count(string(stored), "\n") != 5 || !strings.Contains(string(stored), `"teacher":"`+tURL+`"`) || !strings.Contains(string(stored), `"temperature":0.7`) {
		t.Errorf("rescores.jsonl:\n%s", stored)
	}
}

// A request that leaves the device failed stops rlt serve (once), instead
// of a server failing every request after it: acted out by closing a real
// Vulkan device under the handler.
func TestServeStopsOnDeviceFailure(t *testing.T) {
	be, _, err := device.Open(device.GPU, "")
	backendtest.NeedDevice(t, err)
	m, err := model.Load(be, tinyFolder(t, "f32"))
	if err != nil {
		t.Fatal(err)
	}
	src := rlt.NewModelSource(m, "tiny") // rlt serve reads the device's failure through it
	failed := make(chan error, 1)
	served := 0
	h := stopOnDeviceFailure(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served++ }), src, failed)
	req := httptest.NewRequest("GET", "/v1/models", nil)
	h.ServeHTTP(httptest.NewRecorder(), req)
	select {
	case err := <-failed:
		t.Fatalf("a healthy device reported %v", err)
	default:
	}
	device.Close(be) // from here the backend's error is sticky, as after a lost device
	h.ServeHTTP(httptest.NewRecorder(), req)
	h.ServeHTTP(httptest.NewRecorder(), req)
	select {
	case err := <-failed:
		if err == nil {
			t.Fatal("nil error on failed")
		}
	default:
		t.Fatal("a failed device did not stop the server")
	}
	if served != 3 {
		t.Fatalf("served %d requests, want 3", served)
	}
	// The device's own error names it (once: device.FailedWith).
	var ve *vulkan.Error
	if !errors.As(be.Err(), &ve) {
		t.Fatalf("the backend's error %v is not the device's", be.Err())
	}
	if msg := deviceFailed(be, "computing", be.Err()).Error(); !strings.Contains(msg, "--device cpu") || !strings.Contains(msg, "vulkan ("+ve.Device+")") {
		t.Fatalf("the message %q does not name the device and the way on", msg)
	}
}

// TestServeAddressInUse: an address already in use is said, with the way
// on, before the model loads: a model folder whose weights do not load is
// not reached, so neither would minutes of loading a large one be.
func TestServeAddressInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	good := tinyFolder(t, "f32")
	// Its config.json and weights' headers read (as the checks before the
	// address read them), its weights of another shape than config.json
	// says: only the load finds it.
	broken := copyFolder(t, good)
	rewrite(t, filepath.Join(broken, "config.json"), `"intermediate_size": 64`, `"intermediate_size": 96`)
	for _, c := range []struct {
		name, model string
	}{
		{"loadable model", good},
		{"model that does not load", broken},
	} {
		var out bytes.Buffer
		err := serveCommand(context.Background(), []string{"--model", c.model, "--listen", busy.Addr().String()}, &out, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--listen "+busy.Addr().String()+": the address is in use") || !strings.Contains(err.Error(), "port 0 picks a free one") {
			t.Errorf("%s: %v, want the address in use said with the way on", c.name, err)
		}
		if out.Len() != 0 {
			t.Errorf("%s: said %q before refusing", c.name, out.String())
		}
	}
}

// TestServeSaysItsInputsBeforeTheAddress: what is wrong with the model
// folder is said before --listen's address is taken, so whatever holds the
// port, a typo gets its own problem, not "the address is in use" (a file
// given as --model was said so while port 8000 was taken, and only once it
// was free for what it is: TestFileGivenAsModelFolder failed so).
func TestServeSaysItsInputsBeforeTheAddress(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	good := tinyFolder(t, "f32")
	weights := filepath.Join(good, "model.safetensors")
	badConfig := copyFolder(t, good)
	os.WriteFile(filepath.Join(badConfig, "config.json"), []byte("{not json"), 0o644)
	badWeights := copyFolder(t, good)
	os.WriteFile(filepath.Join(badWeights, "model.safetensors"), []byte("not safetensors"), 0o644)
	badEOS := copyFolder(t, good)
	os.WriteFile(filepath.Join(badEOS, "tokenizer_config.json"), []byte(`{"eos_token":"<nope>"}`), 0o644)
	pastVocab := copyFolder(t, good) // generation_config.json's id weighed against config.json's vocab_size
	os.WriteFile(filepath.Join(pastVocab, "generation_config.json"), []byte(`{"eos_token_id":[1209, 1216]}`), 0o644)
	fewRows := copyFolder(t, good)
	rewrite(t, filepath.Join(fewRows, "config.json"), `"vocab_size": 1216`, `"vocab_size": 100`)
	missing := filepath.Join(t.TempDir(), "typo")
	for _, c := range []struct{ name, model, want string }{
		{"a file as --model", weights, weights + " is a file, not a model folder: give the folder that holds it (" + good + ")"},
		{"no such folder", missing, "model folder " + missing + " does not exist"},
		{"config.json not JSON", badConfig, "model " + badConfig + ": load config " + filepath.Join(badConfig, "config.json") + ": not valid JSON"},
		{"weights not safetensors", badWeights, "download the model folder again"},
		{"eos_token not a token", badEOS, `eos_token "<nope>" is not a token of the folder's tokenizer.json`},
		{"eos_token_id past the vocabulary", pastVocab, filepath.Join(pastVocab, "generation_config.json") + ": eos_token_id [1209, 1216]: its item 2, 1216, is past the model's vocabulary (config.json's vocab_size 1216: ids 0 to 1215)"},
		{"tokenizer past the embedding", fewRows, "--model " + fewRows + ": its tokenizer.json has 1210 tokens, but " + filepath.Join(fewRows, "config.json") + "'s vocab_size is 100: the embedding has no row for the tokens past it, so the tokenizer is not this model's"},
	} {
		var out bytes.Buffer
		err := serveCommand(context.Background(), []string{"--model", c.model, "--listen", busy.Addr().String()}, &out, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "in use") || out.Len() != 0 {
			t.Errorf("%s: %v (said %q), want %q, not the address in use", c.name, err, out.String(), c.want)
		}
	}
}

// copyFolder is a copy of the model folder dir (copyDir), in a folder of
// the test's.
func copyFolder(t *testing.T, dir string) string {
	t.Helper()
	to := t.TempDir()
	copyDir(t, dir, to)
	return to
}

// rewrite replaces old, which the file path must hold, by new in it.
func rewrite(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s holds no %q: %v", path, old, err)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

// --server-kind naming the other protocol than the server's fails at the
// temperature probe on a 404 (both serve /tokenize): the error says which
// kind the server may be and the flag that speaks it.
func TestScoreServerKindMismatchSaysTheWayOn(t *testing.T) {
	in := `{"question":"12+9=?","solution":"21","explanation":"2+9=11 w1 c1; 1+0+1=2"}` + "\n"
	for _, c := range []struct{ api, kind, want string }{
		{"sglang", "vllm", "has no POST /v1/completions, which vllm speaks: is it an SGLang server? try --server-kind sglang (or auto"},
		{"vllm", "sglang", "has no POST /generate, which sglang speaks: is it a vLLM server? try --server-kind vllm (or auto"},
	} {
		t.Run(c.api+" server as "+c.kind, func(t *testing.T) {
			url := startServe(t, "--model", embeddedTeacher, "--api", c.api)
			code, _, errs := runCLI(t, in, "score", "--teacher", url, "--student", embeddedStudent, "--server-kind", c.kind)
			if code != 1 || !strings.Contains(errs, "temperature probe: HTTP 404") || !strings.Contains(errs, c.want) {
				t.Errorf("exit %d, want 1 and %q:\n%s", code, c.want, errs)
			}
		})
	}
}

// TestServeReadsEOS: rlt serve ends its generated token at the model
// folder's end of sequence as vLLM does (here generation_config.json's
// eos_token_id lists every id, so the greedy token is one: "stop", its id
// the stop_reason), ignore_eos asks it not to, and a folder whose
// eos_token names no token of its tokenizer is refused, naming the file,
// before the model loads.
func TestServeReadsEOS(t *testing.T) {
	dir := tinyFolder(t, "f32")
	all := make([]string, 1216)
	for i := range all {
		all[i] = strconv.Itoa(i)
	}
	if err := os.WriteFile(filepath.Join(dir, "generation_config.json"), []byte(`{"eos_token_id":[`+strings.Join(all, ",")+`]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	url := startServe(t, "--model", dir, "--api", "vllm")
	for _, c := range []struct {
		fields, finish string
		reason         bool // stop_reason is the generated id
	}{
		{``, "stop", true},
		{`,"ignore_eos":true`, "length", false},
	} {
		resp, err := http.Post(url+"/v1/completions", "application/json", strings.NewReader(`{"prompt":[5,6,7],"max_tokens":1,"logprobs":0,"return_tokens_as_token_ids":true`+c.fields+`}`))
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Choices []struct {
				FinishReason string `json:"finish_reason"`
				StopReason   any    `json:"stop_reason"`
				Logprobs     struct{ Tokens []string }
			}
		}
		err = json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		if err != nil || len(r.Choices) != 1 || len(r.Choices[0].Logprobs.Tokens) != 1 {
			t.Fatalf("%s: %v %+v", c.fields, err, r)
		}
		ch := r.Choices[0]
		reason := ch.StopReason != nil && "token_id:"+fmt.Sprint(ch.StopReason) == ch.Logprobs.Tokens[0]
		if ch.FinishReason != c.finish || reason != c.reason {
			t.Errorf("%q: finish_reason %q, stop_reason %v (generated %s); want %q, the id %v", c.fields, ch.FinishReason, ch.StopReason, ch.Logprobs.Tokens[0], c.finish, c.reason)
		}
	}
	broken := tinyFolder(t, "f32")
	bad := filepath.Join(broken, "tokenizer_config.json")
	if err := os.WriteFile(bad, []byte(`{"eos_token":"<nope>"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// Cancelled: a server that did start would stop at once, without error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	err := serveCommand(ctx, []string{"--model", broken, "--listen", "127.0.0.1:0"}, &out, io.Discard)
	if err == nil || !strings.Contains(err.Error(), bad+`: eos_token "<nope>" is not a token of the folder's tokenizer.json`) || out.Len() != 0 {
		t.Errorf("eos_token <nope>: %v (said %q), want the file named before serving", err, out.String())
	}
}
