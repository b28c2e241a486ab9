package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/defaults"
	"github.com/rlt-workbench/rlt/engine/device"
	"github.com/rlt-workbench/rlt/engine/memory"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/rlt"
	runpkg "github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/engine/size"
)

// Every command that loads models where --device chooses checks, before
// the device opens and anything is written, that they and their work fit
// there, in rlt run's and rlt score's words: on a GPU too small (its
// memory lowered by RLT_MEMORY_LIMIT) each is refused naming the GPU and
// offering --device cpu, where rlt generate, logprobs, serve, eval and
// distill opened the device and loaded the models, and a GPU too small
// was found by the load or the work. On the GPU as it is, each fits.
func TestEveryDeviceCommandRefusesWhatCannotFitOnTheGPU(t *testing.T) {
	where := gpuOrSkip(t)
	teacher := filepath.Join("engine", "defaults", "models", defaults.Teacher)
	student := filepath.Join("engine", "defaults", "models", defaults.Student)
	out := filepath.Join(t.TempDir(), "out")
	distill := func() runpkg.DistillConfig {
		return runpkg.DistillConfig{Steps: 1, Batch: 32, MicroBatchTokens: runconfig.DefaultMicroBatchTokens}
	}
	for _, c := range []struct {
		name, what string
		args       []string
		fits       func() error // the check the command runs, as it runs it
	}{
		{"generate", "generating", []string{"generate", "--model", teacher, "--prompt", "347+285=?"},
			func() error { return checkGenerateMemory(device.GPU, teacher, 8, 128) }},
		{"logprobs", "scoring log-probs", []string{"logprobs", "--model", teacher},
			func() error { return checkLogprobsMemory(device.GPU, teacher, model.Frozen16) }},
		{"serve", "serving", []string{"serve", "--model", teacher, "--listen", "127.0.0.1:0"},
			func() error {
				return checkServeMemory(device.GPU, teacher, model.Frozen16, runconfig.DefaultMicroBatchTokens, 0)
			}},
		{"eval", "evaluating", []string{"eval", "--student", student, "--questions", "2"},
			func() error {
				return checkEvalMemory(device.GPU, "", student, 2, runpkg.EvalMaxNewTokens, 0, memory.PromptTokens)
			}},
		{"eval --teacher", "evaluating", []string{"eval", "--teacher", teacher, "--student", student, "--questions", "2"},
			func() error {
				return checkEvalMemory(device.GPU, teacher, student, 2, runpkg.EvalMaxNewTokens, memory.PromptTokens, memory.PromptTokens)
			}},
		{"distill", "distilling", []string{"distill", "--teacher", teacher, "--out", out, "--questions", "2", "--steps", "1"},
			func() error {
				return checkDistillMemory(device.GPU, teacher, "", "", false, 272, 2, 128, 1, memory.PromptTokens, memory.PromptTokens, distill())
			}},
		{"distill --best-of", "distilling", []string{"distill", "--teacher", teacher, "--out", out, "--questions", "2", "--steps", "1",
			"--best-of", "2", "--reward-student", student},
			func() error {
				return checkDistillMemory(device.GPU, teacher, "", student, false, 272, 2, 128, 2, memory.PromptTokens, memory.PromptTokens, distill())
			}},
		{"distill --reference", "distilling", []string{"distill", "--reference", "--tokenizer-from", teacher, "--out", out, "--questions", "2", "--steps", "1"},
			func() error {
				return checkDistillMemory(device.GPU, teacher, "", "", true, 272, 2, 128, 1, 0, 0, distill())
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("RLT_MEMORY_LIMIT", "1MB")
			args := append(c.args, "--device", "gpu")
			var code int
			var stdout, errs string
			if args[0] == "serve" {
				// Its context ended: a serve that went ahead stops as its
				// load starts, where it would serve until stopped.
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				var out, errb bytes.Buffer
				if err := serveCommand(ctx, args[1:], &out, &errb); err != nil {
					code, errs = 1, err.Error()
				}
				stdout, errs = out.String(), errb.String()+errs
			} else {
				code, stdout, errs = runCLI(t, "", args...)
			}
			for _, want := range []string{c.what + " on " + where.GPU + " needs about ", "more than the 976.6 KiB available (RLT_MEMORY_LIMIT, on " + where.GPU + ")",
				"To fit, try:", "\n  - --device cpu: compute on the CPU, in the host's memory"} {
				if code != 1 || !strings.Contains(errs, want) {
					t.Errorf("exit %d, want 1 and a refusal saying %q:\n%s%s", code, want, stdout, errs)
				}
			}
			if strings.Contains(errs, "computing on") { // openDevice's line: the device opened
				t.Errorf("the device opened before the refusal:\n%s", errs)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a refused command left %s behind (stat: %v)", out, err)
			}
			t.Setenv("RLT_MEMORY_LIMIT", "") // the GPU's own memory
			if err := c.fits(); err != nil {
				t.Errorf("refused on %s as it is: %v", where.GPU, err)
			}
		})
	}
}

// rlt logprobs and rlt serve are checked for the work they run, not for
// what no flag of theirs bounds: on a model of 131,072 positions (the
// embedded teacher's shape with Qwen2.5's long context) under 256 MB,
// logprobs fits on the CPU. It counted a forward of a line as long as the
// model's positions (1.7 GiB here), where it runs each line as read, and
// serve a sampled sequence as long (a 257 MiB KV cache), where it samples
// none. serve counts the forward it runs at its largest: of
// --micro-batch-tokens positions, which its coalesced requests share, or
// of a prompt as long as the model's positions, which runs alone past the
// flag and bounds a forward with no limit (0). It counted the flag's
// positions alone (1,024 here: a prompt of 131,072 was not covered) and
// with 0 one prompt, where its forwards had no bound.
func TestLogprobsAndServeEstimateWhatTheyRun(t *testing.T) {
	dir := longContextTeacher(t)
	t.Setenv("RLT_MEMORY_LIMIT", "256MB")
	if err := checkLogprobsMemory(device.CPU, dir, model.Frozen16); err != nil {
		t.Errorf("logprobs: refused: %v", err)
	}
	for _, c := range []struct {
		mbTokens, positions int
		fix                 string // the flag's fix offered, if any
	}{
		{1024, 131072, ""},
		{0, 131072, ""},
		{200000, 200000, "a smaller --micro-batch-tokens (now 200000): the positions each forward holds, at least a prompt of the model's 131072"},
	} {
		err := checkServeMemory(device.CPU, dir, model.Frozen16, c.mbTokens, 0)
		want := fmt.Sprintf("model forward, %d positions at a time", c.positions)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("serve --micro-batch-tokens %d: %v, want a refusal counting %q", c.mbTokens, err, want)
			continue
		}
		if has := strings.Contains(err.Error(), "--micro-batch-tokens"); has != (c.fix != "") || !strings.Contains(err.Error(), c.fix) {
			t.Errorf("serve --micro-batch-tokens %d: %v, want the flag's fix %q (none where it cannot help)", c.mbTokens, err, c.fix)
		}
	}
}

// rlt score on a GPU counts the fused head's logits its forwards hold: a
// forward chunk's, the budget (vulkan.HeadForwardBytes), and with the full
// estimator, whose KL chunks hold both models' logits beside it, 1.5× the
// budget (vulkan.HeadBytes). It counted 1.5× for every estimator: 48 MiB
// where the log-ratio's forwards hold 32 on lavapipe.
func TestScoreEstimateCountsTheLogitsItHolds(t *testing.T) {
	where := gpuOrSkip(t)
	teacher := filepath.Join("engine", "defaults", "models", defaults.Teacher)
	student := filepath.Join("engine", "defaults", "models", defaults.Student)
	t.Setenv("RLT_MEMORY_LIMIT", "1MB")
	for _, c := range []struct {
		estimator string
		logits    int64
	}{
		{"logratio", where.HeadBytes * 2 / 3},
		{"k3", where.HeadBytes * 2 / 3},
		{"full", where.HeadBytes},
	} {
		code, stdout, errs := runCLI(t, "", "score", "--teacher", teacher, "--student", student, "--device", "gpu", "--estimator", c.estimator)
		if want := "the fused head's logits on the GPU " + size.Bytes(c.logits) + ";"; code != 1 || !strings.Contains(errs, want) {
			t.Errorf("--estimator %s: exit %d, want 1 and a refusal counting %q:\n%s%s", c.estimator, code, want, stdout, errs)
		}
	}
}

// rlt logprobs and rlt serve run forwards alone, with no backward and no
// KL, so on a GPU they count the fused head's logits of a forward chunk,
// the budget (vulkan.HeadForwardBytes), as rlt score's log-ratio does.
// They counted 1.5× it (vulkan.HeadBytes), the second buffer a backward or
// a KL chunk holds: 48 MiB where their forwards hold 32 on lavapipe.
func TestForwardsOnlyCountAForwardChunksLogits(t *testing.T) {
	where := gpuOrSkip(t)
	teacher := filepath.Join("engine", "defaults", "models", defaults.Teacher)
	t.Setenv("RLT_MEMORY_LIMIT", "1MB")
	want := "the fused head's logits on the GPU " + size.Bytes(where.HeadForwardBytes) + ";"
	if where.HeadForwardBytes == where.HeadBytes {
		t.Fatalf("HeadForwardBytes %d equals HeadBytes: the test tells nothing", where.HeadBytes)
	}
	code, stdout, errs := runCLI(t, "", "logprobs", "--model", teacher, "--device", "gpu")
	if code != 1 || !strings.Contains(errs, want) {
		t.Errorf("logprobs: exit %d, want 1 and a refusal counting %q:\n%s%s", code, want, stdout, errs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a serve that went ahead stops as its load starts
	var out, errb bytes.Buffer
	err := serveCommand(ctx, []string{"--model", teacher, "--listen", "127.0.0.1:0", "--device", "gpu"}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("serve: %v, want a refusal counting %q:\n%s%s", err, want, out.String(), errb.String())
	}
}

// rlt eval and rlt distill estimate the sequences their questions make:
// the longest prompt (the student's own, solving alone; the teacher's or
// the student's reading an explanation) and --max-new-tokens more. They
// assumed memory.PromptTokens (128) whatever the questions: a long
// question's prompt was estimated short, a short one's long.
func TestEvalAndDistillEstimateTheirPrompts(t *testing.T) {
	const (
		student = "engine/defaults/models/student"
		teacher = "engine/defaults/models/teacher"
	)
	dir := t.TempDir()
	for _, c := range []struct {
		name      string
		questions []string
	}{
		{"long", []string{"Say yes.", strings.Repeat("Say yes. ", 12) + "Now?"}},
		{"short", []string{"Say yes.", "Yes?"}},
	} {
		data := filepath.Join(dir, c.name+".jsonl")
		var rows strings.Builder
		for _, q := range c.questions {
			fmt.Fprintf(&rows, "{\"question\":%q,\"solution\":\"yes\"}\n", q)
		}
		if err := os.WriteFile(data, []byte(rows.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		tok, err := loadTokenizer(filepath.Join(student, "tokenizer.json"))
		if err != nil {
			t.Fatal(err)
		}
		p, err := record.PromptsFor(teacher, student, record.Prompts{})
		if err != nil {
			t.Fatal(err)
		}
		var solo, explained int // the longest prompts: the student's own, and the teacher's or the student's reading an explanation
		for _, q := range c.questions {
			solo = max(solo, len(rlt.SolvePrompt(tok, p, q)))
			te, st := rlt.PromptLengths(tok, p, q, "yes")
			explained = max(explained, te, st)
		}
		out := filepath.Join(t.TempDir(), "out")
		for _, cmd := range []struct {
			args []string
			want string
		}{
			{[]string{"eval", "--student", student, "--data", data, "--max-new-tokens", "16"},
				fmt.Sprintf("student sampling 2 sequences of %d tokens", solo+16)},
			{[]string{"distill", "--teacher", teacher, "--data", data, "--out", out, "--steps", "1", "--max-new-tokens", "16"},
				fmt.Sprintf("teacher sampling 2 sequences of %d tokens", explained+16)},
		} {
			t.Setenv("RLT_MEMORY_LIMIT", "1MB")
			code, _, errs := runCLI(t, "", append(cmd.args, "--device", "cpu")...)
			if code != 1 || !strings.Contains(errs, cmd.want) {
				t.Errorf("%s questions, rlt %s: exit %d, want 1 and an estimate of %q:\n%s", c.name, cmd.args[0], code, cmd.want, errs)
			}
		}
	}
}

// Every command that loads models where --device chooses counts, as a run
// does, the Vulkan driver --device auto's probe leaves loaded where it then
// computes on the CPU (device.Memory.Probed, memory.ProbeDriver, 64 MiB of
// lavapipe's LLVM): rlt generate, logprobs, serve, eval, distill and score
// probed the same way and left it out. --device cpu probes nothing and
// counts none.
func TestEveryCommandCountsTheDriverItsProbeLoaded(t *testing.T) {
	if where, err := device.MemoryOf(device.Auto); err != nil || !where.Probed {
		t.Skipf("--device auto computes on a GPU here (%+v, %v): no probe's driver beside the CPU's work", where, err)
	}
	teacher := filepath.Join("engine", "defaults", "models", defaults.Teacher)
	student := filepath.Join("engine", "defaults", "models", defaults.Student)
	distill := runpkg.DistillConfig{Steps: 1, Batch: 32, MicroBatchTokens: runconfig.DefaultMicroBatchTokens}
	t.Setenv("RLT_MEMORY_LIMIT", "1MB")
	for _, c := range []struct {
		name  string
		check func(dev string) error // the check the command runs, as it runs it
	}{
		{"generate", func(dev string) error { return checkGenerateMemory(dev, teacher, 8, 128) }},
		{"logprobs", func(dev string) error { return checkLogprobsMemory(dev, teacher, model.Frozen16) }},
		{"serve", func(dev string) error {
			return checkServeMemory(dev, teacher, model.Frozen16, runconfig.DefaultMicroBatchTokens, 0)
		}},
		{"eval", func(dev string) error {
			return checkEvalMemory(dev, teacher, student, 2, runpkg.EvalMaxNewTokens, memory.PromptTokens, memory.PromptTokens)
		}},
		{"distill", func(dev string) error {
			return checkDistillMemory(dev, teacher, "", student, false, 272, 2, 128, 2, memory.PromptTokens, memory.PromptTokens, distill)
		}},
		{"score", func(dev string) error { return checkScoreMemory(teacher, student, model.Frozen16, 16, 0, false, dev) }},
	} {
		for _, dev := range []string{device.Auto, device.CPU} {
			err := c.check(dev)
			var tb *memory.TooBigError
			if !errors.As(err, &tb) {
				t.Errorf("%s --device %s: %v, want the refusal of 1MB", c.name, dev, err)
				continue
			}
			want := "the Vulkan driver --device auto loaded to look for a GPU " + size.Bytes(memory.ProbeDriver) + ";"
			if got := strings.Contains(err.Error(), want); got != (dev == device.Auto) {
				t.Errorf("%s --device %s: counts %q %v, want %v:\n%v", c.name, dev, want, got, dev == device.Auto, err)
			}
		}
	}
}

// rlt generate, eval and distill estimate the prefill of the prompts they
// have (memory.Use.SamplePrompt), as rlt run and rlt train do: each
// assumed prompts of memory.PromptTokens (128) there, whatever the
// prompt's length, so a long --prompt's prefill was estimated at 128
// tokens' activations.
func TestGenerateEstimatesItsPromptsPrefill(t *testing.T) {
	teacher := filepath.Join("engine", "defaults", "models", defaults.Teacher)
	cfg, _, err := model.Inspect(teacher)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("RLT_MEMORY_LIMIT", "1MB")
	for _, prompt := range []int{8, 232} { // 232 + 16 short of the positions: SamplingAfter takes a sequence at them as cut there
		err := checkGenerateMemory(device.CPU, teacher, prompt, 16)
		want := fmt.Sprintf("model sampling one sequence of %d tokens (KV cache, logits) %s;", prompt+16, size.Bytes(memory.SamplingAfter(cfg, 1, prompt, prompt+16)))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("a prompt of %d tokens: %v, want a refusal counting %q", prompt, err, want)
		}
	}
}
