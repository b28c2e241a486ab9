package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
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
