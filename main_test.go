package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/defaults"
	runpkg "github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui"
	"github.com/rlt-workbench/rlt/ui/style"
)

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

const tokenizerFixture = "engine/tokenizer/testdata/qwen2_pairs.json"

// tinyFolder makes a model folder through the CLI itself.
func tinyFolder(t *testing.T, dtype string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "shape.json")
	os.WriteFile(cfg, []byte(`{"vocab_size": 1216, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
		"num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 256, "tie_word_embeddings": true}`), 0o644)
	out := filepath.Join(dir, "model")
	if code, _, errs := runCLI(t, "", "model", "init", "--config", cfg, "--out", out, "--dtype", dtype, "--tokenizer", tokenizerFixture); code != 0 {
		t.Fatalf("model init: exit %d: %s", code, errs)
	}
	return out
}

func TestModelInitAndInfo(t *testing.T) {
	for _, dtype := range []string{"f32", "bf16"} {
		dir := tinyFolder(t, dtype)
		code, out, errs := runCLI(t, "", "model", "info", dir)
		if code != 0 {
			t.Fatalf("info: exit %d: %s", code, errs)
		}
		for _, want := range []string{"2 layers, hidden 32", "4 heads / 2 kv heads of 8", "vocab 1216", "tied embeddings true",
			strings.ToUpper(dtype), "1210 tokens", "template: ChatML"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s info lacks %q:\n%s", dtype, want, out)
			}
		}
	}
}

func TestCLIErrors(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"nope"}, 2, `unknown command "nope"`},
		{[]string{"model", "info", t.TempDir()}, 1, "missing config.json"},
		{[]string{"model", "init", "--config", "x.json"}, 2, "Usage: rlt model init"},
		{[]string{"model", "init", "--config", "/nonexistent.json", "--out", t.TempDir()}, 1, "nonexistent.json"},
		{[]string{"tokenize"}, 2, "Usage: rlt tokenize"},
		{[]string{"logprobs", "--model", t.TempDir()}, 1, "load model"},
	}
	for _, c := range cases {
		code, out, errs := runCLI(t, "", c.args...)
		if code != c.code || !strings.Contains(out+errs, c.want) {
			t.Errorf("rlt %v: exit %d, output %q; want exit %d and %q", c.args, code, out+errs, c.code, c.want)
		}
	}
	if code, out, errs := runCLI(t, "", "model", "init", "--help"); code != 0 || !strings.Contains(out+errs, "Usage: rlt model init") {
		t.Errorf("--help: exit %d, output %q; want 0 and the usage", code, out+errs)
	}
}

func TestTokenizeAndLogprobs(t *testing.T) {
	dir := tinyFolder(t, "f32")
	in := "{\"text\": \"347+285=?\"}\n\n{\"text\": \"<|im_start|>user\"}\nnot json\n"
	code, out, _ := runCLI(t, in, "tokenize", "--tokenizer", dir)
	if code != 1 {
		t.Errorf("a bad line should make the exit status 1, got %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[2], `"line":4`) {
		t.Fatalf("tokenize output:\n%s", out)
	}
	var rec struct {
		IDs    []int32  `json:"ids"`
		Tokens []string `json:"tokens"`
	}
	if err := json.Unmarshal([]byte(lines[1]), &rec); err != nil || len(rec.IDs) == 0 || rec.Tokens[0] != "<|im_start|>" {
		t.Fatalf("second record %s: %v", lines[1], err)
	}

	code, out, errs := runCLI(t, "{\"text\": \"347+285=?\"}\n{\"ids\": [1, 2, 3]}\n", "logprobs", "--model", dir, "--temperature", "0.7")
	if code != 0 {
		t.Fatalf("logprobs: exit %d: %s", code, errs)
	}
	var lp struct {
		IDs      []int32    `json:"ids"`
		LogProbs []*float64 `json:"logprobs"`
	}
	first := strings.SplitN(out, "\n", 2)[0]
	if err := json.Unmarshal([]byte(first), &lp); err != nil {
		t.Fatal(err)
	}
	if len(lp.LogProbs) != len(lp.IDs) || lp.LogProbs[0] != nil {
		t.Fatalf("logprobs %s: want one per id, the first null", first)
	}
	for i, v := range lp.LogProbs[1:] {
		if v == nil || *v > 0 {
			t.Errorf("logprob %d = %v, want a non-positive number", i+1, v)
		}
	}
}

func TestScoreCLI(t *testing.T) {
	teacher, student := tinyFolder(t, "f32"), tinyFolder(t, "bf16")
	in := `{"question":"347+285=?","solution":"632","explanation":"7+5=12 w2 c1"}
{"question":"1+1=?","solution":"2","completion":"one and one"}
{"question":"q","solution":"","explanation":"e"}
`
	code, out, _ := runCLI(t, in, "score", "--teacher", teacher, "--student", student, "--batch", "2")
	if code != 1 {
		t.Errorf("exit %d, want 1 for the empty solution", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("output:\n%s", out)
	}
	var rec struct {
		Line      int       `json:"line"`
		Reward    *float64  `json:"reward"`
		RSS       *float64  `json:"r_ss"`
		Penalty   float64   `json:"penalty"`
		D         []float64 `json:"d"`
		ExplToks  []string  `json:"explanation_tokens"`
		SolutionL []float64 `json:"solution_logprobs"`
		Error     string    `json:"error"`
	}
	for i, l := range lines {
		rec.Reward, rec.Error = nil, ""
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Line != i+1 {
			t.Errorf("output line %d is for input line %d", i+1, rec.Line)
		}
		switch i {
		case 0, 1:
			if rec.Reward == nil || rec.RSS == nil || len(rec.D) != len(rec.ExplToks) || len(rec.D) == 0 || len(rec.SolutionL) == 0 {
				t.Errorf("line %d: %s", i+1, l)
			}
			if want := map[int]float64{0: 0, 1: -1}[i]; rec.Penalty != want {
				t.Errorf("line %d: penalty %v, want %v: %s", i+1, rec.Penalty, want, l)
			}
		case 2:
			if !strings.Contains(rec.Error, "solution is empty") {
				t.Errorf("line 3: %s", l)
			}
		}
	}
	other := tinyFolder(t, "f32")
	os.WriteFile(filepath.Join(other, "tokenizer.json"), []byte(`{}`), 0o644)
	if code, _, errs := runCLI(t, in, "score", "--teacher", teacher, "--student", other); code != 1 || !strings.Contains(errs, "different tokenizer.json") {
		t.Errorf("different tokenizers: exit %d, %s", code, errs)
	}
}

func TestGenerateIsReproducible(t *testing.T) {
	dir := tinyFolder(t, "f32")
	args := []string{"generate", "--model", dir, "--prompt", "347+285=?", "--chat", "--max-new-tokens", "8", "--seed", "4"}
	c1, o1, e1 := runCLI(t, "", args...)
	c2, o2, _ := runCLI(t, "", args...)
	if c1 != 0 || c2 != 0 || o1 != o2 || len(o1) == 0 {
		t.Fatalf("two runs of one seed: exit %d/%d, %q vs %q (%s)", c1, c2, o1, o2, e1)
	}
	if !strings.Contains(e1, "8 tokens") {
		t.Errorf("stderr %q lacks the token count", e1)
	}
}

func TestPretrainThenTrain(t *testing.T) {
	dir := t.TempDir()
	if code, _, errs := runCLI(t, "", "pretrain", "--out", dir, "--steps", "2", "--batch", "2"); code != 0 {
		t.Fatalf("pretrain: exit %d: %s", code, errs)
	}
	cfg := filepath.Join(dir, "run.toml")
	code, out, errs := runCLI(t, "", "train", "--teacher", filepath.Join(dir, "teacher"), "--student", filepath.Join(dir, "student"), "--print-config")
	if code != 0 || !strings.Contains(out, "kl_mean = 3.0") || !strings.Contains(out, "ref_sync_every = 32") {
		t.Fatalf("print-config: exit %d: %s%s", code, out, errs)
	}
	small := strings.Replace(strings.Replace(strings.Replace(out, "questions = 8", "questions = 2", 1), "samples = 8", "samples = 2", 1),
		"max_new_tokens = 96", "max_new_tokens = 8", 1)
	small = strings.Replace(small, "eval_every = 10", "eval_every = 0", 1)
	os.WriteFile(cfg, []byte(small), 0o644)
	code, out, errs = runCLI(t, "", "train", "--config", cfg, "--steps", "1")
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, errs)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &rec); err != nil {
		t.Fatalf("metrics line %q: %v", out, err)
	}
	for _, k := range []string{"step", "reward", "kl", "loss", "grad_norm", "solution_log_prob_reward", "kl_reward"} {
		if _, ok := rec[k]; !ok {
			t.Errorf("metrics lack %s: %s", k, out)
		}
	}
	os.WriteFile(cfg, []byte(small+"\nlamda = 3\n"), 0o644)
	if code, _, errs := runCLI(t, "", "train", "--config", cfg); code != 1 || !strings.Contains(errs, `unknown key "lamda"`) {
		t.Errorf("unknown key: exit %d: %s", code, errs)
	}
}

func TestDistillAndEval(t *testing.T) {
	dir := t.TempDir()
	if code, _, errs := runCLI(t, "", "pretrain", "--out", dir, "--steps", "2", "--batch", "2"); code != 0 {
		t.Fatalf("pretrain: exit %d: %s", code, errs)
	}
	out := filepath.Join(dir, "distilled")
	code, _, errs := runCLI(t, "", "distill", "--teacher", filepath.Join(dir, "teacher"), "--out", out,
		"--questions", "12", "--steps", "2", "--batch", "2", "--max-new-tokens", "8", "--temperature", "0")
	if code != 0 {
		t.Fatalf("distill: exit %d: %s", code, errs)
	}
	rows, err := os.ReadFile(filepath.Join(out, "distill.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	n := strings.Count(string(rows), "\n")
	left := 0
	fmt.Sscanf(errs[strings.Index(errs+"left out ", "left out "):], "left out %d", &left)
	if n+left != 12 {
		t.Errorf("%d rows written and %d left out, want 12 in all: %s", n, left, errs)
	}
	code, res, errs := runCLI(t, "", "eval", "--student", filepath.Join(out, "student"), "--questions", "3", "--max-new-tokens", "8")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, errs)
	}
	var vals map[string]float64
	if err := json.Unmarshal([]byte(res), &vals); err != nil || vals["questions"] != 3 {
		t.Fatalf("eval output %q: %v", res, err)
	}
	if a := vals["accuracy"]; a < 0 || a > 1 {
		t.Errorf("accuracy %v", a)
	}
}

func TestGenerateChatNeedsChatML(t *testing.T) {
	dir := tinyFolder(t, "f32")
	os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(`{"chat_template": "{% for m in messages %}[INST] {{ m.content }} [/INST]{% endfor %}"}`), 0o644)
	code, _, errs := runCLI(t, "", "generate", "--model", dir, "--prompt", "hi", "--chat", "--max-new-tokens", "2")
	if code != 1 || !strings.Contains(errs, "ChatML") {
		t.Errorf("a non-ChatML template with --chat: exit %d, %s", code, errs)
	}
	if code, _, errs := runCLI(t, "", "generate", "--model", dir, "--prompt", "hi", "--max-new-tokens", "2"); code != 0 {
		t.Errorf("plain text generation refused: %s", errs)
	}
}

// The main job, headless: a real RLT step on the embedded default, recorded
// in a run folder that rlt sessions then lists.
func TestMainJobHeadless(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	runs := t.TempDir()
	code, _, errs := runCLI(t, "", "--runs", runs, "--steps", "1", "--headless")
	if code != 0 {
		t.Fatalf("rlt --steps 1: exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, "step 0  reward") {
		t.Errorf("no progress line: %s", errs)
	}
	code, out, errs := runCLI(t, "", "sessions", "--runs", runs)
	if code != 0 || !strings.Contains(out, "finished") {
		t.Fatalf("sessions: exit %d: %s%s", code, out, errs)
	}
	entries, _ := os.ReadDir(runs)
	if len(entries) != 1 {
		t.Fatalf("%d run folders", len(entries))
	}
	runDir := filepath.Join(runs, entries[0].Name())
	ck, _ := filepath.Glob(filepath.Join(runDir, "checkpoints", "step-*", "teacher", "model.safetensors"))
	if len(ck) != 1 {
		t.Errorf("final checkpoint missing: %v", ck)
	}
	code, _, errs = runCLI(t, "", "run", "--resume", runDir, "--steps", "2", "--headless")
	if code != 0 || !strings.Contains(errs, "resuming") || !strings.Contains(errs, "step 1  reward") {
		t.Fatalf("resume: exit %d: %s", code, errs)
	}
	code, out, _ = runCLI(t, "", "sessions", "--runs", runs)
	if code != 0 || !regexp.MustCompile(`finished\s+1\s`).MatchString(out) {
		t.Errorf("after resuming to 2 steps: %s", out)
	}
	// Nothing was reviewed, so an export writes no row and says why.
	code, out, errs = runCLI(t, "", "export", "--run", runDir)
	if code != 0 || out != "" || !regexp.MustCompile(`0 written; left out: \d+ not reviewed`).MatchString(errs) {
		t.Errorf("export: exit %d, %q, %s", code, out, errs)
	}
}

// The workbench's launcher puts Config.Validate's errors on the line of
// the key they are about, so the editor can show them there.
func TestWorkbenchLocateValidation(t *testing.T) {
	l := &launcher{ctx: context.Background(), wb: workbench{runs: t.TempDir(), models: t.TempDir()}}
	base, err := l.NewConfig()
	if err != nil {
		t.Fatal(err)
	}
	lineOf := func(data, key string) int {
		for i, ln := range strings.Split(data, "\n") {
			if strings.HasPrefix(ln, key+" =") {
				return i + 1
			}
		}
		t.Fatalf("no %s in\n%s", key, data)
		return 0
	}
	cases := []struct{ from, to, key, want string }{
		{"eval_every = 10", "eval_every = -1", "eval_every", "must not be negative"},
		{"task = 'addition'", "task = 'division'", "task", `unknown task "division"`},
		{"max_new_tokens = 96", "max_new_tokens = 0", "max_new_tokens", "max_new_tokens 0 must be positive"},
		{"estimator = 'logratio'", "estimator = 'l2'", "estimator", `estimator "l2"`},
		{"student = ", "student = '' #", "student", "teacher and student folders are required"},
	}
	for _, c := range cases {
		data := strings.Replace(string(base), c.from, c.to, 1)
		err := l.Check([]byte(data))
		var ce *sessions.ConfigError
		if !errors.As(err, &ce) || !strings.Contains(ce.Msg, c.want) {
			t.Errorf("%s: %v", c.to, err)
			continue
		}
		if want := lineOf(data, c.key); ce.Line != want {
			t.Errorf("%s: line %d, want %d (%v)", c.to, ce.Line, want, err)
		}
	}
	// The models folder of this launcher is empty: both model keys are
	// reported on their lines.
	err = l.Check(base)
	if n := len(flattenErr(err)); n != 2 || !strings.Contains(err.Error(), "not a model folder") {
		t.Errorf("missing models: %d errors: %v", n, err)
	}
	// A key the configuration does not have: the strict decoder's line.
	data := strings.Replace(string(base), "[reward]\n", "[reward]\nlamda = 3.0\n", 1)
	err = l.Check([]byte(data))
	var ce *sessions.ConfigError
	if !errors.As(err, &ce) || !strings.Contains(ce.Msg, `unknown key "lamda"`) || ce.Line != lineOf(data, "lamda") {
		t.Errorf("unknown key: %v", err)
	}
}

func flattenErr(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// The launcher opens an official trainer's folder read-only: its metrics
// and completions reach the store, nothing is written into the folder,
// and closing removes the imported copy.
func TestWorkbenchOpenOfficial(t *testing.T) {
	src := "sessions/testdata/official/run"
	before := treeSizes(t, src)
	l := &launcher{ctx: context.Background(), wb: workbench{runs: t.TempDir()}}
	s, err := l.OpenReadOnly(src)
	if err != nil {
		t.Fatal(err)
	}
	if !s.ReadOnly || s.Control != nil {
		t.Errorf("session read-only %v, control %v", s.ReadOnly, s.Control)
	}
	deadline := time.Now().Add(5 * time.Second)
	var m, tr int
	for time.Now().Before(deadline) {
		if m, tr, _ = s.Run.Store().Counts(); m == 3 && tr > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if m != 3 || tr == 0 {
		t.Errorf("store holds %d metrics, %d traces", m, tr)
	}
	copyDir := s.Run.Dir()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(copyDir); err == nil {
		t.Errorf("the imported copy %s is still there", copyDir)
	}
	if after := treeSizes(t, src); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the official folder changed: %v → %v", before, after)
	}
}

func treeSizes(t *testing.T, dir string) map[string]int64 {
	out := map[string]int64{}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil {
			out[p] = fi.Size()
		}
		return nil
	})
	return out
}

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The Runs screen drives the real engine: the workbench (a real Bubble Tea
// program on a pipe) opens on the Runs screen, the new run's configuration
// is edited, a negative step count is refused with its line, the fix is
// saved and a one-step RLT run on the embedded models starts, finishes
// and is closed with its final checkpoint when the workbench quits.
func TestWorkbenchRunsScreenRealEngine(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	models, err := defaults.Dir()
	if err != nil {
		t.Fatal(err)
	}
	runs := t.TempDir()
	l := &launcher{ctx: context.Background(), wb: workbench{runs: runs, models: models}}
	pr, pw := io.Pipe()
	defer pw.Close()
	out := &lockedBuf{}
	done := make(chan error, 1)
	go func() {
		done <- ui.Run(ui.Options{Launcher: l, RunsDir: runs, Theme: style.PlainTheme()}, pr, out)
	}()
	waitFor := func(what string, d time.Duration) {
		t.Helper()
		deadline := time.Now().Add(d)
		for !strings.Contains(out.String(), what) {
			if time.Now().After(deadline) {
				s := out.String()
				t.Fatalf("waiting for %q; output tail:\n%s", what, s[max(0, len(s)-1500):])
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	send := func(keys ...string) {
		for _, k := range keys {
			pw.Write([]byte(k))
			time.Sleep(30 * time.Millisecond)
		}
	}
	waitFor("Runs · 0 in", 10*time.Second)
	send("n")
	waitFor("New run · default configuration", 5*time.Second)
	cfgText, err := l.NewConfig()
	if err != nil {
		t.Fatal(err)
	}
	stepsLine := 0
	for i, ln := range strings.Split(string(cfgText), "\n") {
		if ln == "steps = 0" {
			stepsLine = i + 1
		}
	}
	if stepsLine == 0 {
		t.Fatalf("no steps = 0 in\n%s", cfgText)
	}
	const down, end, backspace, ctrlS = "\x1b[B", "\x1b[F", "\x7f", "\x13"
	for i := 1; i < stepsLine; i++ {
		send(down)
	}
	send(end, backspace, "-", "2", ctrlS) // steps = -2
	waitFor(fmt.Sprintf("line %d: run: steps", stepsLine), 5*time.Second)
	send(backspace, backspace, "1", ctrlS)
	waitFor("step 0/1", 120*time.Second)
	waitFor("done", 60*time.Second)
	send("q")
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the workbench did not quit")
	}
	dirs := l.written()
	if len(dirs) != 1 {
		t.Fatalf("runs written: %v", dirs)
	}
	var cfg runpkg.Config
	data, err := os.ReadFile(filepath.Join(dirs[0], sessions.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := sessions.DecodeStrict("config.toml", data, &cfg); err != nil || cfg.Steps != 1 {
		t.Errorf("saved config: steps %d, %v", cfg.Steps, err)
	}
	if ck, _, err := sessions.LatestCheckpoint(dirs[0]); err != nil || ck.Step != 0 {
		t.Errorf("final checkpoint: %+v %v", ck, err)
	}
	list, err := sessions.List(runs)
	if err != nil || len(list) != 1 || list[0].State != sessions.StateFinished {
		t.Errorf("runs after quitting: %+v %v", list, err)
	}
}

// User data as the GRPO question source: `rlt train --data` on the committed
// fixture (engine/run/testdata/make_data.sh) with the embedded models, its
// printed configuration, its skip report, and the errors of bad input.
func TestTrainOnData(t *testing.T) {
	const (
		teacher = "engine/defaults/models/teacher"
		student = "engine/defaults/models/student"
		data    = "engine/run/testdata/train.jsonl"
		evalF   = "engine/run/testdata/eval.jsonl"
	)
	code, out, errs := runCLI(t, "", "train", "--teacher", teacher, "--student", student, "--data", data, "--eval-data", evalF, "--print-config")
	for _, want := range []string{"task = 'jsonl'", "data = '" + data + "'", "eval_data = '" + evalF + "'"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("print-config: exit %d, lacks %q: %s%s", code, want, out, errs)
		}
	}
	cfg := filepath.Join(t.TempDir(), "run.toml")
	os.WriteFile(cfg, []byte(`teacher = "`+teacher+`"
student = "`+student+`"
task = "jsonl"
data = "`+data+`"
steps = 2
eval_every = 2
eval_questions = 4
[grpo]
questions = 2
samples = 2
max_new_tokens = 8
`), 0o644)
	code, out, errs = runCLI(t, "", "train", "--config", cfg)
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], `"reward"`) || !strings.Contains(lines[2], `"eval_accuracy"`) {
		t.Errorf("want 2 step lines and 1 evaluation line:\n%s", out)
	}
	for _, want := range []string{"data " + data + ": 40 rows: 34 for training, 2 held out, 4 skipped",
		"warning: data " + data + ": skipped 4 of 40 rows: line 21: ", "line 22: empty solution", "line 23: question contains reserved tag", "line 24: not JSON"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}

	notJSONL := filepath.Join(t.TempDir(), "rows.json")
	os.WriteFile(notJSONL, []byte("[\n{\"question\":\"1+2=?\",\"solution\":\"3\"},\n{\"question\":\"1+3=?\",\"solution\":\"4\"}\n]\n"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--data", "/nonexistent/train.jsonl"}, "/nonexistent/train.jsonl"},
		{[]string{"--data", notJSONL}, "not JSON Lines"},
		{[]string{"--data", data, "--task", "addition"}, `set task = "jsonl"`},
		{[]string{"--eval-data", evalF}, "eval_data"},
		{[]string{"--data", data, "--eval-data", data}, "nothing is left to train on"},
	} {
		args := append([]string{"train", "--teacher", teacher, "--student", student, "--steps", "1"}, tc.args...)
		if code, _, errs := runCLI(t, "", args...); code != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("rlt %v: exit %d, %s; want exit 1 and %q", tc.args, code, errs, tc.want)
		}
	}
}

// `rlt distill --data`: the teacher explains the file's usable rows.
func TestDistillOnData(t *testing.T) {
	const (
		teacher = "engine/defaults/models/teacher"
		data    = "engine/run/testdata/train.jsonl"
	)
	small := []string{"--steps", "2", "--batch", "2", "--max-new-tokens", "8", "--temperature", "0"}
	out := filepath.Join(t.TempDir(), "d")
	code, _, errs := runCLI(t, "", append([]string{"distill", "--teacher", teacher, "--data", data, "--out", out}, small...)...)
	if code != 0 {
		t.Fatalf("distill: exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, "skipped 4 of 40 rows: line 21: ") {
		t.Errorf("no skip report: %s", errs)
	}
	rows, err := os.ReadFile(filepath.Join(out, "distill.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	left := 0
	fmt.Sscanf(errs[strings.Index(errs+"left out ", "left out "):], "left out %d", &left)
	if n := strings.Count(string(rows), "\n"); n+left != 36 || !strings.Contains(string(rows), `"value":"688+98=?"`) || !strings.Contains(string(rows), "Capital of France?") {
		t.Errorf("%d rows written, %d left out; want the fixture's 36 usable rows:\n%s", n, left, rows)
	}

	out = filepath.Join(t.TempDir(), "d")
	code, _, errs = runCLI(t, "", append([]string{"distill", "--teacher", teacher, "--data", data, "--questions", "3", "--out", out}, small...)...)
	if rows, _ := os.ReadFile(filepath.Join(out, "distill.jsonl")); code != 0 || strings.Count(string(rows), "\n") != 3 {
		t.Errorf("--questions 3: exit %d, %d rows: %s", code, strings.Count(string(rows), "\n"), errs)
	}

	other := tinyFolder(t, "f32") // another tokenizer
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--task", "linear"}, "--data and --task are alternatives"},
		{[]string{"--student-init", other}, "different tokenizers"},
	} {
		args := append([]string{"distill", "--teacher", teacher, "--data", data, "--out", t.TempDir()}, append(small, tc.args...)...)
		if code, _, errs := runCLI(t, "", args...); code != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("rlt distill %v: exit %d, %s; want exit 1 and %q", tc.args, code, errs, tc.want)
		}
	}
}

// jsonLines decodes every line of out as a JSON object.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("line %q: %v\nin:\n%s", l, err, out)
		}
		recs = append(recs, rec)
	}
	return recs
}

// wantKeys fails unless rec has exactly the keys want.
func wantKeys(t *testing.T, what string, rec map[string]any, want ...string) {
	t.Helper()
	have := map[string]bool{}
	for k := range rec {
		have[k] = true
	}
	for _, k := range want {
		if !have[k] {
			t.Errorf("%s lacks %q: %v", what, k, rec)
		}
		delete(have, k)
	}
	for k := range have {
		t.Errorf("%s has unexpected %q: %v", what, k, rec)
	}
}

// `rlt eval --data`, student mode: the student solves the file's usable
// questions by itself; task questions are checked and verified by their
// task, others by exact match; the skip report is rlt train's.
func TestEvalOnDataStudent(t *testing.T) {
	const (
		student = "engine/defaults/models/student"
		evalF   = "engine/run/testdata/eval.jsonl"
	)
	code, out, errs := runCLI(t, "", "eval", "--student", student, "--data", evalF, "--max-new-tokens", "64", "--samples")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, errs)
	}
	if want := "warning: data " + evalF + ": skipped 1 of 8 rows: line 8: missing field \"solution\"\n"; errs != want {
		t.Errorf("stderr %q, want %q", errs, want)
	}
	recs := jsonLines(t, out)
	if len(recs) != 8 {
		t.Fatalf("want 7 sample lines and a summary, got %d lines:\n%s", len(recs), out)
	}
	sum := recs[7]
	wantKeys(t, "summary", sum, "accuracy", "verified_rate", "questions", "data", "skipped")
	if sum["questions"] != 7.0 || sum["skipped"] != 1.0 || sum["data"] != evalF {
		t.Errorf("summary %v: want 7 questions, 1 skipped, data %s", sum, evalF)
	}
	var correct, verified float64
	for i, r := range recs[:7] {
		if r["question"] == "Capital of Italy?" {
			// No task: exact match, nothing verifies the thought.
			wantKeys(t, "text sample", r, "question", "solution", "thought", "answer", "correct")
			if i != 6 || r["solution"] != "Rome" {
				t.Errorf("sample %d: %v", i, r)
			}
		} else {
			wantKeys(t, "addition sample", r, "question", "solution", "thought", "answer", "correct", "verified", "verdict")
			if r["verified"] == true {
				verified++
			}
		}
		if r["correct"] == true {
			correct++
		}
		if (r["correct"] == true) != (strings.TrimSpace(r["answer"].(string)) == r["solution"]) {
			t.Errorf("sample %d: correct %v for answer %q, solution %q", i, r["correct"], r["answer"], r["solution"])
		}
	}
	if recs[0]["question"] != "17+218=?" {
		t.Errorf("first sample %v: want the file's first row", recs[0])
	}
	if sum["accuracy"] != correct/7 || sum["verified_rate"] != verified/6 {
		t.Errorf("summary %v: the samples have %v correct of 7, %v verified of the 6 additions", sum, correct, verified)
	}

	// --questions N: the first N usable rows; no --samples: the summary alone.
	code, out, errs = runCLI(t, "", "eval", "--student", student, "--data", evalF, "--max-new-tokens", "16", "--questions", "3")
	if recs := jsonLines(t, out); code != 0 || len(recs) != 1 || recs[0]["questions"] != 3.0 || recs[0]["skipped"] != 1.0 {
		t.Errorf("--questions 3: exit %d: %s%s", code, out, errs)
	}
}

// `rlt eval --teacher --student --data`: the teacher explains each row
// given its solution, the student answers from the explanation; --samples
// shows every question.
func TestEvalOnDataTeacher(t *testing.T) {
	const (
		teacher = "engine/defaults/models/teacher"
		student = "engine/defaults/models/student"
		data    = "engine/run/testdata/train.jsonl"
	)
	code, out, errs := runCLI(t, "", "eval", "--teacher", teacher, "--student", student, "--data", data, "--max-new-tokens", "8", "--samples")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, errs)
	}
	for _, want := range []string{"warning: data " + data + ": skipped 4 of 40 rows: line 21: ", "line 22: empty solution", "line 23: question contains reserved tag", "line 24: not JSON"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	recs := jsonLines(t, out)
	if len(recs) != 37 {
		t.Fatalf("want the 36 usable rows' samples and a summary, got %d lines:\n%s", len(recs), out)
	}
	sum := recs[36]
	wantKeys(t, "summary", sum, "eval_accuracy", "eval_verified_rate", "eval_leak_rate", "questions", "data", "skipped")
	if sum["questions"] != 36.0 || sum["skipped"] != 4.0 || sum["data"] != data {
		t.Errorf("summary %v: want 36 questions, 4 skipped, data %s", sum, data)
	}
	var correct, verified, leaked, verifiable float64
	for i, r := range recs[:36] {
		if r["question"] == "Capital of France?" {
			wantKeys(t, "text sample", r, "question", "solution", "explanation", "answer", "correct")
		} else {
			wantKeys(t, "task sample", r, "question", "solution", "explanation", "answer", "correct", "verified", "answer_first", "verdict")
			verifiable++
		}
		for k, v := range map[string]*float64{"correct": &correct, "verified": &verified, "answer_first": &leaked} {
			if r[k] == true {
				*v++
			}
		}
		if _, ok := r["explanation"].(string); !ok {
			t.Errorf("sample %d: no explanation: %v", i, r)
		}
	}
	if recs[0]["question"] != "688+98=?" || recs[0]["solution"] != "786" || recs[35]["question"] != "458+314=?" {
		t.Errorf("samples not in file order: first %v, last %v", recs[0], recs[35])
	}
	if verifiable != 35 || sum["eval_accuracy"] != correct/36 || sum["eval_verified_rate"] != verified/35 || sum["eval_leak_rate"] != leaked/35 {
		t.Errorf("summary %v: the samples have %v correct of 36, %v verified and %v leaked of %v with a verifier", sum, correct, verified, leaked, verifiable)
	}

	code, out, errs = runCLI(t, "", "eval", "--teacher", teacher, "--student", student, "--data", data, "--max-new-tokens", "8", "--questions", "2")
	if recs := jsonLines(t, out); code != 0 || len(recs) != 1 || recs[0]["questions"] != 2.0 {
		t.Errorf("--questions 2: exit %d: %s%s", code, out, errs)
	}
}

// `rlt eval --samples` on a task: one line per question in both modes, and
// the summary line keeps the keys scripts parse (no data keys).
func TestEvalSamplesOnTask(t *testing.T) {
	const (
		teacher = "engine/defaults/models/teacher"
		student = "engine/defaults/models/student"
	)
	code, out, errs := runCLI(t, "", "eval", "--teacher", teacher, "--student", student, "--questions", "2", "--max-new-tokens", "8", "--samples")
	if code != 0 {
		t.Fatalf("eval --teacher: exit %d: %s", code, errs)
	}
	recs := jsonLines(t, out)
	if len(recs) != 3 {
		t.Fatalf("want 2 samples and a summary:\n%s", out)
	}
	for _, r := range recs[:2] {
		wantKeys(t, "teacher sample", r, "question", "solution", "explanation", "answer", "correct", "verified", "answer_first", "verdict")
	}
	wantKeys(t, "teacher summary", recs[2], "eval_accuracy", "eval_verified_rate", "eval_leak_rate", "questions")

	code, out, errs = runCLI(t, "", "eval", "--student", student, "--questions", "2", "--max-new-tokens", "8", "--samples")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, errs)
	}
	recs = jsonLines(t, out)
	if len(recs) != 3 {
		t.Fatalf("want 2 samples and a summary:\n%s", out)
	}
	for _, r := range recs[:2] {
		wantKeys(t, "student sample", r, "question", "solution", "thought", "answer", "correct", "verified", "verdict")
	}
	wantKeys(t, "student summary", recs[2], "accuracy", "verified_rate", "questions")
}

// The errors of `rlt eval --data`.
func TestEvalOnDataErrors(t *testing.T) {
	const (
		student = "engine/defaults/models/student"
		evalF   = "engine/run/testdata/eval.jsonl"
	)
	other := tinyFolder(t, "f32") // another tokenizer
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--data", evalF, "--task", "linear"}, []string{"--data and --task are alternatives"}},
		{[]string{"--data", evalF, "--task", "addition"}, []string{"--data and --task are alternatives"}},
		{[]string{"--data", "/nonexistent/eval.jsonl"}, []string{"/nonexistent/eval.jsonl"}},
		{[]string{"--data", evalF, "--max-new-tokens", "250"}, []string{"data " + evalF + ": no row fits the models", "line 1: too long", "line 8: missing field"}},
		{[]string{"--data", evalF, "--teacher", other}, []string{"different tokenizers"}},
	} {
		args := append([]string{"eval", "--student", student}, tc.args...)
		code, out, errs := runCLI(t, "", args...)
		if code != 1 || out != "" {
			t.Errorf("rlt eval %v: exit %d, stdout %q; want exit 1 and nothing", tc.args, code, out)
		}
		for _, want := range tc.want {
			if !strings.Contains(errs, want) {
				t.Errorf("rlt eval %v: stderr lacks %q: %s", tc.args, want, errs)
			}
		}
	}
}
