package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/rlt-workbench/rlt/compute/backendtest"
	"github.com/rlt-workbench/rlt/engine/defaults"
	"github.com/rlt-workbench/rlt/engine/device"
	"github.com/rlt-workbench/rlt/engine/model"
)

// checkServeMemory is rlt serve's memory check of the model folder dir
// as serveCommand makes it: the folder's config.json and weights' headers
// read (model.Inspect), the model held as prec says (heldFrom; heldAs does
// both), and checkServeMemoryOf. A folder that cannot be read is an error
// here, the test's own: rlt serve says it before its check.
func checkServeMemory(dev, dir string, prec model.Precision, mbTokens, maxLen int) error {
	u, stored16, err := heldAs(dir, prec)
	if err != nil {
		return fmt.Errorf("the model folder of a serve memory check: %w", err)
	}
	return checkServeMemoryOf(dev, u, stored16, mbTokens, maxLen)
}

// longContextTeacher is the embedded teacher with Qwen2.5's long context:
// 131,072 positions, whose forward is most of what serving it needs.
func longContextTeacher(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	teacher := filepath.Join("engine", "defaults", "models", defaults.Teacher)
	for _, name := range []string{"config.json", "model.safetensors", "tokenizer.json"} {
		data, err := os.ReadFile(filepath.Join(teacher, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "config.json" {
			data = bytes.Replace(data, []byte(`"max_position_embeddings": 256`), []byte(`"max_position_embeddings": 131072`), 1)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// rlt serve's memory estimate counts forwards of --micro-batch-tokens or
// --max-model-len positions, whichever is more (the model's positions when
// the flag is left out; --max-model-len's with --micro-batch-tokens 0), so
// a model of long context served for shorter requests fits in less: a 7B of
// 32,768 positions counted a 13.9 GiB forward with no serve setting to
// lower it.
func TestServeEstimateAtMaxModelLen(t *testing.T) {
	dir := longContextTeacher(t)
	t.Setenv("RLT_MEMORY_LIMIT", "1MB") // nothing fits: each refusal says what it counted
	for _, c := range []struct {
		mbTokens, maxLen, positions int
	}{
		{1024, 0, 131072},
		{1024, 4096, 4096},
		{0, 2048, 2048},
		{0, 0, 131072},
		{8192, 2048, 8192},
		{1024, 1024, 1024},
	} {
		err := checkServeMemory(device.CPU, dir, model.Frozen16, c.mbTokens, c.maxLen)
		want := fmt.Sprintf("model forward, %d positions at a time", c.positions)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("--micro-batch-tokens %d --max-model-len %d: %v, want a refusal counting %q", c.mbTokens, c.maxLen, err, want)
		}
		// Not even one token's forward fits beside the weights: no value of
		// the flag is offered.
		if err != nil && strings.Contains(err.Error(), "\n  - --max-model-len") {
			t.Errorf("--micro-batch-tokens %d --max-model-len %d: %v, offers --max-model-len where no value fits", c.mbTokens, c.maxLen, err)
		}
	}
}

// A start refused for memory offers the largest --max-model-len that
// fits, from the estimate: that value starts, one more does not. It
// offered nothing of serve's own (a model of long context was refused
// whatever the requests it would serve).
func TestServeRefusalOffersAMaxModelLenThatFits(t *testing.T) {
	dir := longContextTeacher(t)
	t.Setenv("RLT_MEMORY_LIMIT", "256MB")
	for _, c := range []struct{ mbTokens, maxLen int }{{1024, 0}, {1024, 65536}, {0, 0}} {
		now := c.maxLen
		if now == 0 {
			now = 131072
		}
		err := checkServeMemory(device.CPU, dir, model.Frozen16, c.mbTokens, c.maxLen)
		if err == nil {
			t.Fatalf("--micro-batch-tokens %d --max-model-len %d: fits under 256 MB, want a refusal", c.mbTokens, c.maxLen)
		}
		var fit int
		if _, e := fmt.Sscanf(err.Error()[max(0, strings.Index(err.Error(), "--max-model-len ")):], "--max-model-len %d (now "+fmt.Sprint(now)+")", &fit); e != nil {
			t.Errorf("--micro-batch-tokens %d --max-model-len %d: %v\nwant it to offer --max-model-len N (now %d) (%v)", c.mbTokens, c.maxLen, err, now, e)
			continue
		}
		if err := checkServeMemory(device.CPU, dir, model.Frozen16, c.mbTokens, fit); err != nil {
			t.Errorf("--micro-batch-tokens %d: the offered --max-model-len %d is refused: %v", c.mbTokens, fit, err)
		}
		if err := checkServeMemory(device.CPU, dir, model.Frozen16, c.mbTokens, fit+1); err == nil {
			t.Errorf("--micro-batch-tokens %d: --max-model-len %d fits, more than the %d offered", c.mbTokens, fit+1, fit)
		}
	}
	// On a GPU the flag is offered beside --device cpu.
	where, err := device.MemoryOf(device.GPU)
	if err != nil {
		backendtest.DeviceRequired(t, err)
		t.Logf("no Vulkan device: %v", err)
		return
	}
	err = checkServeMemory(device.GPU, dir, model.Frozen16, 1024, 0)
	for _, want := range []string{"serving on " + where.GPU, "\n  - --max-model-len ", " (now 131072), or less", "\n  - --device cpu"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("--device gpu: %v, want a refusal saying %q", err, want)
		}
	}
}

// A request whose prompt, with the tokens it generates, passes
// --max-model-len is refused as vLLM refuses it (400, its error body and
// words), and on SGLang's /generate as SGLang does; one that fits is
// answered, and /v1/models says the limit as vLLM's max_model_len.
func TestServeRefusesARequestPastMaxModelLen(t *testing.T) {
	teacher := filepath.Join("engine", "defaults", "models", defaults.Teacher)
	url := startServe(t, "--model", teacher, "--max-model-len", "16")
	ids := func(n int) string {
		return strings.Trim(strings.Join(strings.Fields(fmt.Sprint(make([]int, n))), ","), "[]")
	}
	post := func(path, body string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Post(url+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		var v map[string]any
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("%s %s: %v: %s", path, body, err, data)
		}
		return resp.StatusCode, v
	}
	for _, c := range []struct {
		path, body string
		status     int
		err        map[string]any // the error body's "error", nil for an answer
	}{
		{"/v1/completions", `{"prompt":[` + ids(15) + `],"max_tokens":1}`, 200, nil},
		{"/v1/completions", `{"prompt":[` + ids(16) + `],"max_tokens":0,"echo":true,"logprobs":1}`, 200, nil},
		{"/v1/completions", `{"prompt":[` + ids(16) + `],"max_tokens":1}`, 400, map[string]any{
			"message": "You passed 16 input tokens and requested 1 output tokens. However, the model's context length is only 16 tokens, resulting in a maximum input length of 15 tokens. Please reduce the length of the input prompt. (parameter=input_tokens, value=16)",
			"type":    "BadRequestError", "param": "input_tokens", "code": 400.0}},
		{"/v1/completions", `{"prompt":[[1,2],[` + ids(17) + `]],"max_tokens":0,"echo":true,"logprobs":1}`, 400, map[string]any{
			"message": "You passed 17 input tokens and requested 0 output tokens. However, the model's context length is only 16 tokens, resulting in a maximum input length of 16 tokens. Please reduce the length of the input prompt. (parameter=input_tokens, value=17)",
			"type":    "BadRequestError", "param": "input_tokens", "code": 400.0}},
		{"/generate", `{"input_ids":[` + ids(15) + `],"sampling_params":{"max_new_tokens":1}}`, 200, nil},
		{"/generate", `{"input_ids":[` + ids(16) + `],"sampling_params":{"max_new_tokens":0}}`, 400, map[string]any{
			"message": "The input (16 tokens) is longer than the model's context length (16 tokens)."}},
	} {
		status, v := post(c.path, c.body)
		if status != c.status {
			t.Errorf("%s %.60s: status %d, want %d: %v", c.path, c.body, status, c.status, v)
			continue
		}
		if c.err == nil {
			continue
		}
		got, _ := json.Marshal(v["error"])
		if want, _ := json.Marshal(c.err); !bytes.Equal(got, want) {
			t.Errorf("%s %.60s: error %s, want %s", c.path, c.body, got, want)
		}
	}
	// /tokenize says the limit as vLLM's does.
	if status, v := post("/tokenize", `{"prompt":"hi"}`); status != 200 || v["max_model_len"] != 16.0 {
		t.Errorf("/tokenize: status %d, %v, want max_model_len 16", status, v)
	}
	resp, err := http.Get(url + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var models struct {
		Data []struct {
			MaxModelLen int `json:"max_model_len"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&models); err != nil || len(models.Data) != 1 || models.Data[0].MaxModelLen != 16 {
		t.Errorf("/v1/models: %+v (%v), want max_model_len 16", models, err)
	}
}

// --max-model-len is a count of at least 1, at most the model's positions,
// or vLLM's -1 or auto: anything else is a wrong call (exit 2) naming what
// is wrong, before any work. It is written as vLLM's (8k is 8000, 8K 8192,
// ８k 8000: their refusal here says the count read).
func TestServeMaxModelLenBadValues(t *testing.T) {
	teacher := filepath.Join("engine", "defaults", "models", defaults.Teacher)
	for _, c := range []struct{ value, want string }{
		{"0", "--max-model-len 0: want at least 1, or -1 or auto (vLLM's auto-fit: the model's positions, or the most of them that fit in memory)"},
		{"-5", "--max-model-len -5: want at least 1, or -1 or auto"},
		{"-2", "--max-model-len -2: want at least 1, or -1 or auto"},
		{"257", "--max-model-len 257 is more than the 256 positions of the model " + teacher + " (its config.json's max_position_embeddings): give at most 256, or leave it out for them"},
		{"8k", "--max-model-len 8000 is more than the 256 positions of the model "},
		{"8K", "--max-model-len 8192 is more than the 256 positions of the model "},
		{"0.3k", "--max-model-len 300 is more than the 256 positions of the model "},
		{"32_768", "--max-model-len 32768 is more than the 256 positions of the model "},
		{"1.5K", `invalid value "1.5K" for flag --max-model-len: a fraction with the binary suffix K: give a whole number, or the decimal k (1.5k)`},
		{"８k", "--max-model-len 8000 is more than the 256 positions of the model "},
		{"8kb", `invalid value "8kb" for flag --max-model-len: not a count`},
	} {
		code, stdout, errs := runCLI(t, "", "serve", "--model", teacher, "--max-model-len", c.value)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("--max-model-len %s: exit %d, want 2 and %q:\n%s%s", c.value, code, c.want, stdout, errs)
		}
	}
}

// rlt serve's forwards hold no more positions than its memory estimate
// counts (serveUse's ForwardRows): --micro-batch-tokens, or with no limit
// (0) --max-model-len's. Left at the source's own no limit, the model's
// positions, a batch of prompts of at most --max-model-len tokens each
// would be packed into forwards of up to the model's positions, where the
// estimate counted --max-model-len's.
func TestServeSourceForwardsWithinTheEstimate(t *testing.T) {
	teacher := filepath.Join("engine", "defaults", "models", defaults.Teacher)
	be, _, err := device.Open(device.CPU, device.MatmulF32)
	if err != nil {
		t.Fatal(err)
	}
	defer device.Close(be)
	m, err := model.LoadAs(context.Background(), be, teacher, model.Frozen16)
	if err != nil {
		t.Fatal(err)
	}
	u, _, err := heldAs(teacher, model.Frozen16)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ mbTokens, maxLen, want int }{
		{0, 16, 16},
		{0, 256, 256},
		{1024, 16, 1024},
		{8, 16, 8},
	} {
		src := serveSource(m, teacher, c.mbTokens, c.maxLen)
		counted := serveUse(u, c.mbTokens, c.maxLen).ForwardRows
		if got := src.MicroBatchTokens; got != c.want || got > counted {
			t.Errorf("--micro-batch-tokens %d --max-model-len %d: forwards of at most %d positions (0: the model's %d), want %d, the estimate counting %d",
				c.mbTokens, c.maxLen, got, m.Cfg.MaxPos, c.want, counted)
		}
	}
}

// Where no forward of --micro-batch-tokens positions fits (8192 by
// default), a start refused for memory offers a --max-model-len with
// --micro-batch-tokens lowered to it: a forward holds the more of the two,
// so a smaller --max-model-len alone fits no better, and the refusal of
// rlt serve with its defaults offered nothing of serve's own.
func TestServeRefusalLowersMicroBatchTokensWithMaxModelLen(t *testing.T) {
	dir := longContextTeacher(t)
	t.Setenv("RLT_MEMORY_LIMIT", "150MB") // a forward of 8192 positions does not fit, one of 4096 does
	err := checkServeMemory(device.CPU, dir, model.Frozen16, 8192, 0)
	if err == nil {
		t.Fatal("fits under 150 MB, want a refusal")
	}
	msg := err.Error()
	var fit, mb int
	if _, e := fmt.Sscanf(msg[max(0, strings.Index(msg, "--max-model-len ")):], "--max-model-len %d --micro-batch-tokens %d (now 131072 and 8192), or less", &fit, &mb); e != nil || mb != fit || fit >= 8192 {
		t.Fatalf("%v\nwant it to offer --max-model-len N --micro-batch-tokens N (now 131072 and 8192), N below 8192 (%v)", err, e)
	}
	if err := checkServeMemory(device.CPU, dir, model.Frozen16, fit, fit); err != nil {
		t.Errorf("the offered --max-model-len %d --micro-batch-tokens %d is refused: %v", fit, fit, err)
	}
	if err := checkServeMemory(device.CPU, dir, model.Frozen16, fit+1, fit+1); err == nil {
		t.Errorf("--max-model-len %d --micro-batch-tokens %d fits, more than the %d offered", fit+1, fit+1, fit)
	}
}

// TestParseTokenCount: --max-model-len reads its value as vLLM's
// human_readable_int_or_auto does (vllm/utils/argparse_utils.py):
// lowercase suffixes decimal, a fraction allowed and the float product
// truncated as vLLM's int(float(n) * mult) is; uppercase binary, whole
// only; a plain integer as it is (its sign too: the flag's least refuses
// -2); -1 and auto in any case vLLM's auto-fit (autoModelLen, where auto
// was refused); the decimal digits of every script as their values, as
// Python's \d, int() and float() read them (they were "not a count").
func TestParseTokenCount(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    int64 // past int's range (on 386 and arm, 2^31-1): too large a count
		wantErr string
	}{
		{in: "8192", want: 8192},
		{in: " 8k ", want: 8000},
		{in: "1k", want: 1000},
		{in: "1K", want: 1024},
		{in: "25.6k", want: 25600},
		{in: "1.001k", want: 1000}, // 1.001*1000 is 1000.999… in float64, int() 1000 in Python
		{in: "2m", want: 2000000},
		{in: "2M", want: 2 << 20},
		{in: "1g", want: 1000000000},
		{in: "1G", want: 1 << 30},
		{in: "1t", want: 1000000000000},
		{in: "1T", want: 1 << 40},
		{in: "-1", want: autoModelLen},
		{in: "-01", want: autoModelLen}, // int("-01") is -1, vLLM's auto too
		{in: "auto", want: autoModelLen},
		{in: " AUTO ", want: autoModelLen},
		{in: "Auto", want: autoModelLen},
		{in: "٨١٩٢", want: 8192},    // Arabic-Indic
		{in: "８１９２", want: 8192},    // full-width
		{in: "８K", want: 8192},      // full-width digit, ASCII suffix
		{in: "२५.६k", want: 25600},  // Devanagari, a decimal suffix
		{in: "３２_７６８", want: 32768}, // Python's int() takes the underscore between them too
		{in: "-١", want: autoModelLen},
		{in: "𝟖𝟏𝟗𝟐", want: 8192},             // mathematical bold digits (U+1D7D6…), a run right after another
		{in: "¹²", wantErr: "not a count"},   // superscripts are no decimal digits (No, not Nd): int() refuses them
		{in: "Ⅷ", wantErr: "not a count"},    // nor a Roman numeral (Nl)
		{in: "ａｕｔｏ", wantErr: "not a count"}, // Python's lower() keeps full-width letters: not "auto"
		{in: "32_768", want: 32768},          // Python's int() reads the underscore
		{in: "+8192", want: 8192},
		{in: "1__0", wantErr: "not a count"},
		{in: "_1", wantErr: "not a count"},
		{in: "1_", wantErr: "not a count"},
		{in: "99999999999999999999", wantErr: "99999999999999999999 is too large a count"},
		{in: "-99999999999999999999", wantErr: "-99999999999999999999: want at least 1, or -1 or auto"},
		{in: "1.5K", wantErr: "a fraction with the binary suffix K"},
		{in: "8kb", wantErr: "not a count"},
		{in: "k", wantErr: "not a count"},
		{in: "", wantErr: "not a count"},
		{in: "-8k", wantErr: "not a count"},
		{in: "99999999999T", wantErr: "too large"},
		{in: "1e300g", wantErr: "not a count"},
	} {
		if c.want > math.MaxInt {
			c.wantErr = "too large a count"
		}
		got, err := parseTokenCount(c.in)
		switch {
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("parseTokenCount(%q) = %d, %v; want an error saying %q", c.in, got, err, c.wantErr)
		case c.wantErr == "" && (err != nil || int64(got) != c.want):
			t.Errorf("parseTokenCount(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}

// TestDigitRuns: digitValue reads a decimal digit's value as its place in
// its unicode.Nd range, modulo 10, which holds only while every range of
// the table is runs of ten from a zero (Unicode's policy for Nd); a Go
// whose Unicode tables broke it would read digits wrongly, so each
// range's length is checked, and every digit's value against the one
// strconv reads from it written as ASCII for the runs ASCII starts.
func TestDigitRuns(t *testing.T) {
	for _, rg := range unicode.Nd.R16 {
		if rg.Stride != 1 || (rg.Hi-rg.Lo+1)%10 != 0 {
			t.Errorf("unicode.Nd range %U–%U, stride %d: not runs of ten", rg.Lo, rg.Hi, rg.Stride)
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if rg.Stride != 1 || (rg.Hi-rg.Lo+1)%10 != 0 {
			t.Errorf("unicode.Nd range %U–%U, stride %d: not runs of ten", rg.Lo, rg.Hi, rg.Stride)
		}
	}
	for r := '0'; r <= '9'; r++ {
		if got := digitValue(r); got != int(r-'0') {
			t.Errorf("digitValue(%q) = %d", r, got)
		}
	}
	for _, c := range []struct {
		r    rune
		want int
	}{{'٠', 0}, {'٩', 9}, {'९', 9}, {'０', 0}, {'９', 9}, {'𝟎', 0}, {'𝟗', 9}, {'𝟘', 0}, {'𝟿', 9}} {
		if got := digitValue(c.r); got != c.want {
			t.Errorf("digitValue(%q %U) = %d, want %d", c.r, c.r, got, c.want)
		}
	}
}

// --max-model-len -1 or auto is vLLM's auto-fit: the model's positions
// where serving them fits, else the most that fit (vLLM lowers its
// max_model_len so to what its KV cache holds); the start line says which.
// It was refused ("vLLM's auto has no match here").
func TestServeMaxModelLenAuto(t *testing.T) {
	dir := longContextTeacher(t)
	u, stored16, err := heldAs(dir, model.Frozen16)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("RLT_MEMORY_LIMIT", "150MB") // a forward of 8192 positions does not fit, one of 4096 does
	for _, mb := range []int{0, 1024} {
		fit, err := autoFitModelLen(device.CPU, u, stored16, mb)
		if err != nil || fit <= 1 || fit >= 131072 {
			t.Fatalf("--micro-batch-tokens %d: auto-fit %d, %v; want the most of 131072 positions that fit under 150 MB", mb, fit, err)
		}
		if err := checkServeMemory(device.CPU, dir, model.Frozen16, mb, fit); err != nil {
			t.Errorf("--micro-batch-tokens %d: the auto-fit --max-model-len %d is refused: %v", mb, fit, err)
		}
		if err := checkServeMemory(device.CPU, dir, model.Frozen16, mb, fit+1); err == nil {
			t.Errorf("--micro-batch-tokens %d: --max-model-len %d fits, more than the auto-fit %d", mb, fit+1, fit)
		}
	}
	// Not one position fits: refused as auto's, saying what one position
	// needs, with the ways on; it was refused as the model's 131072
	// positions asked for ("model forward, 131072 positions at a time",
	// "--max-model-len 924 --micro-batch-tokens 924 (now 131072 and
	// 8192)"), auto unnamed.
	const none = "--max-model-len auto: not one of the model's 131072 positions fits in memory (vLLM's auto-fit refuses so too): serving needs about "
	t.Setenv("RLT_MEMORY_LIMIT", "1MB") // not even the weights and the runtime
	code, _, errs := runCLI(t, "", "serve", "--model", dir, "--max-model-len", "auto", "--micro-batch-tokens", "0", "--listen", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errs, none) || !strings.Contains(errs, "model forward, 1 positions at a time") || strings.Contains(errs, "To fit") {
		t.Errorf("nothing fits, --max-model-len auto: exit %d, want 1 and %q at one position, no way on of serve's:\n%s", code, none, errs)
	}
	// The forwards of --micro-batch-tokens (8192 by default) are what
	// does not fit: the smaller one that does is offered, and auto then
	// serves at least that many positions.
	t.Setenv("RLT_MEMORY_LIMIT", "100MB")
	code, _, errs = runCLI(t, "", "serve", "--model", dir, "--max-model-len", "auto", "--listen", "127.0.0.1:0")
	var mb int
	at := strings.Index(errs, "\n  - --micro-batch-tokens ")
	if at >= 0 {
		fmt.Sscanf(errs[at:], "\n  - --micro-batch-tokens %d (now 8192), or less", &mb)
	}
	if code != 1 || !strings.Contains(errs, none) || mb <= 0 || strings.Contains(errs, "(now 131072") {
		t.Fatalf("8192 positions' forwards do not fit, --max-model-len auto: exit %d, want 1, %q and --micro-batch-tokens N (now 8192) offered:\n%s", code, none, errs)
	}
	if fit, err := autoFitModelLen(device.CPU, u, stored16, mb); err != nil || fit < mb {
		t.Errorf("the offered --micro-batch-tokens %d: auto-fit %d, %v; want at least %d", mb, fit, err, mb)
	}
	if _, err := autoFitModelLen(device.CPU, u, stored16, mb+1); err == nil {
		t.Errorf("--micro-batch-tokens %d fits with auto, more than the %d offered", mb+1, mb)
	}
	// Served, the start line says what auto read.
	t.Setenv("RLT_MEMORY_LIMIT", "")
	teacher := filepath.Join("engine", "defaults", "models", defaults.Teacher)
	for _, v := range []string{"-1", "auto"} {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		pr, pw := io.Pipe()
		go func() {
			done <- serveCommand(ctx, []string{"--model", teacher, "--max-model-len", v, "--listen", "127.0.0.1:0"}, pw, io.Discard)
			pw.Close()
		}()
		line, _ := bufio.NewReader(pr).ReadString('\n')
		cancel()
		go io.Copy(io.Discard, pr)
		if err := <-done; err != nil {
			t.Errorf("--max-model-len %s: %v", v, err)
		}
		var out strings.Builder
		out.WriteString(line)
		if !strings.Contains(out.String(), "(api both, 256 positions, --max-model-len auto: all fit, ") {
			t.Errorf("--max-model-len %s said %q, want the model's 256 positions, all fitting", v, out.String())
		}
	}
}
