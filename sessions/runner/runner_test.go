package runner

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/configkey"
	"github.com/rlt-workbench/rlt/engine/defaults"
	"github.com/rlt-workbench/rlt/engine/hf/hftest"
	"github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/sessions"
)

// giveModelFolder is what engine/hf says to do of a model folder that does
// not exist (hf.missingFolder), checked here word for word.
const giveModelFolder = "check the path, or give a folder holding config.json, model.safetensors and tokenizer.json (`rlt model defaults --out DIR` writes the embedded teacher and student)"

// giveData is what engine/task says a data file is where one is missing
// (task.giveData), checked here word for word.
const giveData = `give a JSON Lines file, one row a line: {"question": …, "solution": …} (a "reasoning_trace" optional) or a Bespoke-Stratos {"system": …, "conversations": […]} row (docs/formats.md, User data)`

// smallRun is a GRPO configuration small enough for a step to take a
// fraction of a second on the embedded models (as kill_test.go's).
const smallRun = `
eval_every = 0
checkpoint_every = 1
[grpo]
questions = 2
samples = 2
max_new_tokens = 8
`

// mustCheck is cfg checked (its data read), for Create and Start.
func mustCheck(t *testing.T, cfg runconfig.Config) run.Checked {
	t.Helper()
	checked, err := run.Check(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return checked
}

// hangGuard bounds a test's wait for a follower or a save apart from the
// test: a bound on a hang only, past which the test fails saying what
// never came. At 5 or 10 s a loaded machine (CI's two cores running test
// binaries side by side) could reach it where nothing hung.
const hangGuard = time.Minute

// The workbench's launcher puts run.Validate's errors on the line of
// the key they are about, so the editor can show them there.
func TestWorkbenchLocateValidation(t *testing.T) {
	l := NewLauncher(context.Background(), t.TempDir(), hftest.StubModels(t, t.TempDir()))
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
		{"eval_every = 10", "eval_every = -1", "eval_every", "eval_every -1 must not be negative"},
		{"beta = 0.04", "beta = nan", "beta", "grpo.beta NaN must be a finite number"},
		{"lr = 0.0001", "lr = -1.0", "lr", "grpo.lr -1 must be a finite number, not negative"},
		{"top_p = 1.0", "top_p = 7.0", "top_p", "grpo.top_p 7 must be within (0, 1]"},
		{"micro_batch_tokens = 2048", "micro_batch_tokens = 10", "micro_batch_tokens", "grpo.micro_batch_tokens 10 is less than max_new_tokens 96"},
		{"adam_beta2 = 0.999", "adam_beta2 = 1.0", "adam_beta2", "grpo.adam_beta2 1 must be within [0, 1)"},
		{"task = 'addition'", "task = 'division'", "task", `unknown task "division"`},
		{"max_new_tokens = 96", "max_new_tokens = 0", "max_new_tokens", "max_new_tokens 0 must be positive"},
		{"estimator = 'logratio'", "estimator = 'l2'", "estimator", `estimator "l2"`},
		{"student = ", "student = '' #", "student", "student is empty: the student model's folder is required"},
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
	// Several [reward] mistakes at once: each is a problem of its own under
	// its key's line, in the file's order, as [grpo]'s are.
	data := string(base)
	for _, r := range []struct{ from, to string }{
		{"estimator = 'logratio'", "estimator = 'l2'"}, {"kl_mean = 3.0", "kl_mean = nan"}, {"solution_mean = 1.0", "solution_mean = inf"},
	} {
		data = strings.Replace(data, r.from, r.to, 1)
	}
	var got, want []string
	for _, e := range flattenErr(l.Check([]byte(data))) {
		var ce *sessions.ConfigError
		if !errors.As(e, &ce) {
			t.Fatalf("several reward mistakes: %v is not located", e)
		}
		got = append(got, fmt.Sprintf("%d %s", ce.Line, ce.Key))
	}
	for _, k := range []string{"solution_mean", "kl_mean", "estimator"} {
		want = append(want, fmt.Sprintf("%d reward.%s", lineOf(data, k), k))
	}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("several reward mistakes located at %q, want %q", got, want)
	}
	// A launcher whose models folder is empty: both model keys are
	// reported on their lines.
	empty := NewLauncher(context.Background(), t.TempDir(), t.TempDir())
	emptyBase, err := empty.NewConfig()
	if err != nil {
		t.Fatal(err)
	}
	err = empty.Check(emptyBase)
	if n := len(flattenErr(err)); n != 2 || !strings.Contains(err.Error(), "config.toml:1:1: teacher: model folder ") || !strings.Contains(err.Error(), "config.toml:2:1: student: model folder ") || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing models: %d errors: %v", n, err)
	}
	// A key the configuration does not have: the strict decoder's line.
	data = strings.Replace(string(base), "[reward]\n", "[reward]\nlamda = 3.0\n", 1)
	err = l.Check([]byte(data))
	var ce *sessions.ConfigError
	if !errors.As(err, &ce) || !strings.Contains(ce.Msg, `unknown key "lamda"`) || ce.Line != lineOf(data, "lamda") {
		t.Errorf("unknown key: %v", err)
	}
}

// CheckFile says each problem of a configuration file at the line of
// its key, in the file's order (not Validate's: the top level, then
// [reward], then [grpo]); a problem with a key a flag set names the flag,
// whether the file sets the key too or not, and one with a key neither
// sets (a default's value) has no line to point at.
func TestValidateFileLocatesEachProblem(t *testing.T) {
	const file = "bad.toml"
	for _, c := range []struct {
		name     string
		text     string
		override func(*runconfig.Config)
		flagKeys map[string]string
		want     []string // the error's lines, in order
	}{
		{name: "valid", text: "steps = 3\n[grpo]\nsamples = 4\n"},
		{name: "in the file's order",
			text: "eval_every = -1\nsteps = -2\n\n[grpo]\ntemperature = 0.0\nsamples = 1\n\n[reward]\nestimator = 'l2'\n",
			want: []string{
				"bad.toml:1:1: eval_every -1 must not be negative",
				"bad.toml:2:1: steps -2 must not be negative",
				"bad.toml:5:1: grpo.temperature 0 must be a finite positive number",
				"bad.toml:6:1: grpo.samples 1 per question gives no group to compare with; use at least 2",
				`bad.toml:9:1: reward.estimator "l2": want "logratio", "k3" or "full"`,
			}},
		// 1/τ past float32's range: it failed every step, after loading.
		{name: "a temperature whose reciprocal float32 has not",
			text: "[grpo]\ntemperature = 1e-39\n\n[reward]\ntemperature = 1e-39\n",
			want: []string{
				"bad.toml:2:1: grpo.temperature 1e-39 is below 2.9e-39 (1/MaxFloat32), where log-probs are not finite: give 1e-38 or more (0.01 is near greedy already)",
				"bad.toml:5:1: reward.temperature 1e-39 is below 2.9e-39 (1/MaxFloat32), where log-probs are not finite: give 1e-38 or more (0.01 is near greedy already)",
			}},
		{name: "several [reward] mistakes, in the file's order",
			text: "[grpo]\nsamples = 1\n\n[reward]\nestimator = 'l2'\nkl_max = inf\ntemperature = 0.0\nsolution_min = nan\n",
			want: []string{
				"bad.toml:2:1: grpo.samples 1 per question gives no group to compare with; use at least 2",
				`bad.toml:5:1: reward.estimator "l2": want "logratio", "k3" or "full"`,
				"bad.toml:6:1: reward.kl_max is +Inf: give a finite number (the default is 0.03)",
				"bad.toml:7:1: reward.temperature 0 must be a finite positive number",
				"bad.toml:8:1: reward.solution_min is NaN: give a finite number (the default is 0.01)",
			}},
		{name: "[reward] before [grpo], a reward key the file does not set",
			text:     "steps = -1\n\n[reward]\nformat_penalty = -inf\nkl_mean = nan\n\n[grpo]\nlr = -1.0\n",
			override: func(c *runconfig.Config) { c.Reward.Estimator = "l1" },
			want: []string{
				"bad.toml:1:1: steps -1 must not be negative",
				"bad.toml:4:1: reward.format_penalty is -Inf: give a finite number (the default is -1)",
				"bad.toml:5:1: reward.kl_mean is NaN: give a finite number (the default is 3)",
				"bad.toml:8:1: grpo.lr -1 must be a finite number, not negative",
				`bad.toml: reward.estimator (default 'l1', not set in this file): estimator "l1": want "logratio", "k3" or "full"`,
			}},
		{name: "a key a flag set", text: "task = 'addition'\n[grpo]\nsamples = 1\n",
			override: func(c *runconfig.Config) { c.Task = "division" }, flagKeys: map[string]string{"task": "task"},
			want: []string{
				"bad.toml:3:1: grpo.samples 1 per question gives no group to compare with; use at least 2",
				`--task: unknown task "division" (known: addition, linear, or "jsonl" with data = FILE)`,
			}},
		{name: "keys flags set that the file does not", text: "[grpo]\nsamples = 1\n",
			override: func(c *runconfig.Config) { c.Task, c.Steps = "division", -5 },
			flagKeys: map[string]string{"task": "task", "steps": "steps"},
			want: []string{
				"bad.toml:2:1: grpo.samples 1 per question gives no group to compare with; use at least 2",
				`--task: unknown task "division" (known: addition, linear, or "jsonl" with data = FILE)`,
				"--steps -5 must not be negative",
			}},
		// The file's lines first (line 1's too), then the keys it does not
		// set in the configuration's key order (steps, [reward], [grpo]:
		// not their tables' lines), then the flags' in key order, a key
		// the file lacks (matmul) as one it sets (device) after them.
		{name: "the file's lines, then keys it does not set, then flags'",
			text: "device = 'cpu'\neval_every = -1\n[grpo]\nsamples = 1\n[reward]\nkl_mean = 3.0\n",
			override: func(c *runconfig.Config) {
				c.Device, c.Matmul, c.Steps, c.GRPO.LR, c.Reward.Estimator = "tpu", "f8", -5, -1, "l1"
			},
			flagKeys: map[string]string{"matmul": "matmul", "device": "device"},
			want: []string{
				"bad.toml:2:1: eval_every -1 must not be negative",
				"bad.toml:4:1: grpo.samples 1 per question gives no group to compare with; use at least 2",
				"bad.toml: steps (default -5, not set in this file): steps -5 must not be negative",
				`bad.toml: reward.estimator (default 'l1', not set in this file): estimator "l1": want "logratio", "k3" or "full"`,
				"bad.toml: grpo.lr (default -1.0, not set in this file): lr -1 must be a finite number, not negative",
				`--device "tpu": want cpu, gpu, gpu:N or auto`,
				`--matmul "f8": want f32 or f16 (tensor cores, on a GPU that has them)`,
			}},
		{name: "a data file a flag named, the file naming none", text: "steps = 3\n",
			override: func(c *runconfig.Config) { c.Data, c.Task = "missing.jsonl", run.DataTask },
			flagKeys: map[string]string{"data": "data", "task": "data"},
			want:     []string{"--data missing.jsonl: file does not exist: " + giveData}},
		{name: "one model folder missing: its own key, not the flag's", text: "steps = 3\nstudent = ''\n",
			override: func(c *runconfig.Config) { c.Teacher = filepath.Join(filepath.Dir(c.Teacher), "student") }, flagKeys: map[string]string{"teacher": "teacher"},
			want: []string{"bad.toml:2:1: student is empty: the student model's folder is required"}},
		{name: "a model folder a flag named that does not exist", text: "steps = 3\n",
			override: func(c *runconfig.Config) { c.Teacher = "/nonexistent/teacher" }, flagKeys: map[string]string{"teacher": "teacher"},
			want: []string{"--teacher: model folder /nonexistent/teacher does not exist: " + giveModelFolder}},
		{name: "a model folder the file names that does not exist", text: "steps = 3\nteacher = '/nonexistent/teacher'\n",
			want: []string{"bad.toml:2:1: teacher: model folder /nonexistent/teacher does not exist: " + giveModelFolder}},
		{name: "a data file's problem with the other keys'", text: "data = 'missing.jsonl'\ntask = 'jsonl'\n[grpo]\nlr = -1.0\n",
			want: []string{
				"bad.toml:1:1: data missing.jsonl: file does not exist: " + giveData,
				"bad.toml:4:1: grpo.lr -1 must be a finite number, not negative",
			}},
		{name: "[prompts], under a commented header", text: "steps = 3\n[prompts] # the system prompts\nteacher_system = ''\nstudent_system = 'Solve. <|im_end|>'\n",
			want: []string{
				"bad.toml:3:1: prompts.teacher_system is empty: write the teacher's system prompt there",
				"bad.toml:4:1: prompts.student_system contains the ChatML marker <|im_end|>, which would end its turn early; remove it",
			}},
		{name: "a key the file does not set", text: "[grpo]\nsamples = 1\n",
			override: func(c *runconfig.Config) { c.Steps = -5 },
			want: []string{
				"bad.toml:2:1: grpo.samples 1 per question gives no group to compare with; use at least 2",
				"bad.toml: steps (default -5, not set in this file): steps -5 must not be negative",
			}},
		{name: "a default that disagrees with a key the file sets", text: "[grpo] # sampling\ntemperature = 1.0\n",
			want: []string{
				"bad.toml: reward.temperature (default 0.7, not set in this file): temperature 0.7 differs from grpo.temperature 1: RLT scores explanations at the sampling temperature; set them equal",
			}},
		{name: "a default that a dotted key outgrows", text: "grpo.max_new_tokens = 4096\n",
			want: []string{
				"bad.toml: grpo.micro_batch_tokens (default 2048, not set in this file): micro_batch_tokens 2048 is less than max_new_tokens 4096: a completion with its prompt can hold more tokens than one forward may; raise it (or 0 for no limit)",
			}},
		{name: "a key absent from an inline table", text: "steps = 2\ngrpo = { samples = 4, temperature = 0.5 }\n",
			want: []string{
				"bad.toml: reward.temperature (default 0.7, not set in this file): temperature 0.7 differs from grpo.temperature 0.5: RLT scores explanations at the sampling temperature; set them equal",
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig(hftest.StubModels(t, t.TempDir()), 0)
			if err := sessions.DecodeStrict(file, []byte(c.text), &cfg); err != nil {
				t.Fatal(err)
			}
			if c.override != nil {
				c.override(&cfg)
			}
			_, err := CheckFile(cfg, file, []byte(c.text), nil, c.flagKeys)
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

// With no file (rlt train and rlt run without --config) a problem with a
// key a flag set names the flag as it does with a file, through the same
// words; one with a key no flag set is a default's and reads as Validate
// says it, in Validate's order: there is no file or line to name.
func TestValidateFileWithNoFileNamesTheFlags(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.jsonl")
	for _, c := range []struct {
		name     string
		override func(*runconfig.Config)
		flagKeys map[string]string
		want     []string // the error's lines, in order
	}{
		{name: "valid", override: func(c *runconfig.Config) { c.Steps = 3 }, flagKeys: map[string]string{"steps": "steps"}},
		{name: "a flag's task", override: func(c *runconfig.Config) { c.Task = "division" }, flagKeys: map[string]string{"task": "task"},
			want: []string{`--task: unknown task "division" (known: addition, linear, or "jsonl" with data = FILE)`}},
		{name: "a key below a table, and a flag named otherwise than its key",
			override: func(c *runconfig.Config) { c.EvalData = "held.jsonl"; c.Steps = -1 },
			flagKeys: map[string]string{"eval_data": "eval-data", "steps": "steps"},
			want: []string{
				`--eval-data "held.jsonl" without data: a synthetic task is evaluated on its own held-out split; set data = FILE too, or remove eval_data`,
				"--steps -1 must not be negative",
			}},
		{name: "a data file a flag named", override: func(c *runconfig.Config) { c.Data, c.Task = missing, run.DataTask },
			flagKeys: map[string]string{"data": "data", "task": "data"},
			want:     []string{"--data " + missing + ": file does not exist: " + giveData}},
		{name: "a default's problem, then a flag's, as with a file", override: func(c *runconfig.Config) { c.GRPO.Samples, c.Task = 1, "division" },
			flagKeys: map[string]string{"task": "task"},
			want: []string{
				"grpo.samples 1 per question gives no group to compare with; use at least 2",
				`--task: unknown task "division" (known: addition, linear, or "jsonl" with data = FILE)`,
			}},
		{name: "flags' problems in the configuration's key order", override: func(c *runconfig.Config) { c.Matmul, c.Device, c.Steps = "f8", "tpu", -1 },
			flagKeys: map[string]string{"matmul": "matmul", "device": "device", "steps": "steps"},
			want: []string{
				"--steps -1 must not be negative",
				`--device "tpu": want cpu, gpu, gpu:N or auto`,
				`--matmul "f8": want f32 or f16 (tensor cores, on a GPU that has them)`,
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig(hftest.StubModels(t, t.TempDir()), 0)
			c.override(&cfg)
			_, err := CheckFile(cfg, "", nil, nil, c.flagKeys)
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

// A problem with a value a flag gave names the flag once: where the words
// name the key (data, eval_data, task, steps, device, matmul, an empty
// model folder) the flag stands in its place, as rlt distill's --data
// reads, and other words follow the flag; the value's own words are kept
// whole. Each flag rlt train, rlt run and a resume set a key by, checked
// by the real checks.
func TestFlagProblemNamesTheFlagOnce(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.jsonl")
	rows := filepath.Join(dir, "rows.jsonl")
	if err := os.WriteFile(rows, []byte(`{"question": "What is 2+2?", "solution": "4"}`+"\n"+`{"question": "What is 3+3?", "solution": "6"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		override func(*runconfig.Config)
		flagKeys map[string]string
		want     string
	}{
		{"--teacher, a folder that is not there", func(c *runconfig.Config) { c.Teacher = "/nonexistent/teacher" }, map[string]string{"teacher": "teacher"},
			"--teacher: model folder /nonexistent/teacher does not exist: " + giveModelFolder},
		{"--student, given empty", func(c *runconfig.Config) { c.Student = "" }, map[string]string{"student": "student"},
			"--student is empty: the student model's folder is required"},
		{"--steps", func(c *runconfig.Config) { c.Steps = -1 }, map[string]string{"steps": "steps"},
			"--steps -1 must not be negative"},
		{"--data, a file that is not there", func(c *runconfig.Config) { c.Data, c.Task = missing, run.DataTask }, map[string]string{"data": "data", "task": "data"},
			"--data " + missing + ": file does not exist: " + giveData},
		{"--data, a folder", func(c *runconfig.Config) { c.Data, c.Task = dir, run.DataTask }, map[string]string{"data": "data", "task": "data"},
			"--data " + dir + ": is a folder; give the JSON Lines file in it"},
		{"--eval-data, a file that is not there", func(c *runconfig.Config) { c.Data, c.Task, c.EvalData = rows, run.DataTask, missing },
			map[string]string{"data": "data", "task": "data", "eval_data": "eval-data"},
			"--eval-data " + missing + ": file does not exist: " + giveData},
		{"--eval-data without data", func(c *runconfig.Config) { c.EvalData = "held.jsonl" }, map[string]string{"eval_data": "eval-data"},
			`--eval-data "held.jsonl" without data: a synthetic task is evaluated on its own held-out split; set data = FILE too, or remove eval_data`},
		{"--task unknown", func(c *runconfig.Config) { c.Task = "division" }, map[string]string{"task": "task"},
			`--task: unknown task "division" (known: addition, linear, or "jsonl" with data = FILE)`},
		{"--task jsonl without data", func(c *runconfig.Config) { c.Task = run.DataTask }, map[string]string{"task": "task"},
			`--task "jsonl" needs data = FILE (JSON Lines of questions and solutions); or choose a synthetic task: addition, linear`},
		{"--device", func(c *runconfig.Config) { c.Device = "gpu:x" }, map[string]string{"device": "device"},
			`--device "gpu:x": want gpu:N with N a Vulkan device's index (0 for the first; vulkaninfo --summary lists them as GPU0, GPU1, …)`},
		{"--matmul", func(c *runconfig.Config) { c.Matmul = "f8" }, map[string]string{"matmul": "matmul"},
			`--matmul "f8": want f32 or f16 (tensor cores, on a GPU that has them)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig(hftest.StubModels(t, t.TempDir()), 0)
			c.override(&cfg)
			_, err := CheckFile(cfg, "", nil, nil, c.flagKeys)
			if err == nil || err.Error() != c.want {
				t.Errorf("got\n%v\nwant\n%s", err, c.want)
			}
		})
	}
}

// FlagProblem puts the flag in the key's place by the key's last name
// (--seed for grpo.seed), keeps a check's words that name no key (as
// device.Check's, which knows none), and says a flag that set a key by
// the way (--data sets task "jsonl") before the key's own words: the
// value they quote is not the flag's.
func TestFlagProblemWords(t *testing.T) {
	for _, c := range []struct {
		flag, key string
		problem   error
		want      string
	}{
		{"seed", "grpo.seed", configkey.Errorf("grpo.seed", "seed %d is reserved", 7), "--seed 7 is reserved"},
		{"device", "device", errors.New(`device "tpu": want cpu, gpu, gpu:N or auto`), `--device "tpu": want cpu, gpu, gpu:N or auto`},
		{"data", "task", configkey.Errorf("task", "task %q is wrong", "jsonl"), `--data: task "jsonl" is wrong`},
		{"steps", "steps", fmt.Errorf("checking: %w", configkey.Errorf("steps", "steps -1")), "--steps: checking: steps -1"},
	} {
		if got := FlagProblem(c.flag, c.key, c.problem).Error(); got != c.want {
			t.Errorf("FlagProblem(%q, %q) = %q, want %q", c.flag, c.key, got, c.want)
		}
	}
}

// DecodeFile says a --config it cannot read with the flag and what to
// give, for every command that reads one (rlt train, rlt run): a path
// that is not there, a folder, a run folder whose config.toml was meant;
// not the read's words ("open x.toml: no such file or directory").
func TestDecodeFileSaysWhatToGive(t *testing.T) {
	tmp := t.TempDir()
	missing, empty, runDir := filepath.Join(tmp, "run.toml"), filepath.Join(tmp, "empty"), filepath.Join(tmp, "run")
	for _, d := range []string{empty, runDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(runDir, sessions.ConfigFile), []byte("steps = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Each command names its own --print-config: rlt train's defaults are
	// not rlt run's (grpo.micro_batch_tokens, the embedded models' prompts).
	for _, cmd := range []string{"train", "run"} {
		start := "give a TOML run configuration (rlt " + cmd + " --print-config writes one to start from)"
		for _, c := range []struct{ path, want string }{
			{missing, "--config " + missing + ": no such file: " + start},
			{empty, "--config " + empty + " is a folder, not a file: " + start},
			{runDir, "--config " + runDir + " is a folder, not a file: give its config.toml (" + filepath.Join(runDir, sessions.ConfigFile) + ") to start from that run's configuration"},
		} {
			cfg := DefaultConfig("", 0)
			text, decodeErr, err := DecodeFile(cmd, c.path, &cfg)
			if err == nil || err.Error() != c.want || text != nil || decodeErr != nil {
				t.Errorf("DecodeFile(%s, %s) = %q, %v, %v; want %q", cmd, c.path, text, decodeErr, err, c.want)
			}
		}
	}
	// No file is the defaults: nothing to read, nothing wrong.
	cfg := DefaultConfig("", 0)
	if text, decodeErr, err := DecodeFile("run", "", &cfg); text != nil || decodeErr != nil || err != nil {
		t.Errorf(`DecodeFile("") = %q, %v, %v`, text, decodeErr, err)
	}
}

// The workbench's editor says a configuration's problems in the words
// rlt run --config prints for the same text: Check's problems read as
// CheckFile's, a key the file does not set naming its default and
// that the file does not set it, on no line of its own (AtItsLine false)
// though it is placed under its table's header.
func TestCheckSaysWhatValidateFileSays(t *testing.T) {
	models := hftest.StubModels(t, t.TempDir())
	l := NewLauncher(context.Background(), t.TempDir(), models)
	for _, c := range []struct {
		name, text string
		want       []string // Check's problems, as CheckFile prints them
		absentLine int      // the line an unset key's problem goes under (0: none)
	}{
		{"a key the file sets", "[grpo]\nlr = -1.0\n",
			[]string{"config.toml:2:1: grpo.lr -1 must be a finite number, not negative"}, 0},
		{"a default that disagrees with a key the file sets", "steps = 2\n\n[reward]\nkl_max = 1.0\n\n[grpo]\ntemperature = 1.0\n",
			[]string{"config.toml: reward.temperature (default 0.7, not set in this file): temperature 0.7 differs from grpo.temperature 1: RLT scores explanations at the sampling temperature; set them equal"}, 3},
		{"both", "grpo.lr = -1.0\ngrpo.max_new_tokens = 4096\n",
			[]string{
				"config.toml:1:1: grpo.lr -1 must be a finite number, not negative",
				"config.toml: grpo.micro_batch_tokens (default 2048, not set in this file): micro_batch_tokens 2048 is less than max_new_tokens 4096: a completion with its prompt can hold more tokens than one forward may; raise it (or 0 for no limit)",
			}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig(models, 0)
			if err := sessions.DecodeStrict(sessions.ConfigFile, []byte(c.text), &cfg); err != nil {
				t.Fatal(err)
			}
			_, cli := CheckFile(cfg, sessions.ConfigFile, []byte(c.text), nil, nil)
			err := l.Check([]byte(c.text))
			if err == nil || cli == nil || err.Error() != cli.Error() || err.Error() != strings.Join(c.want, "\n") {
				t.Fatalf("editor\n%v\ncommand line\n%v\nwant\n%s", err, cli, strings.Join(c.want, "\n"))
			}
			for _, e := range flattenErr(err) {
				var ce *sessions.ConfigError
				if !errors.As(e, &ce) {
					t.Fatalf("%v is no *sessions.ConfigError: the editor cannot place it", e)
				}
				if ce.KeyAbsent && (ce.AtItsLine() || ce.Line != c.absentLine) {
					t.Errorf("%v: under line %d (its own: %v), want under line %d, not its own", ce, ce.Line, ce.AtItsLine(), c.absentLine)
				}
			}
		})
	}
}

// A file's unknown keys and mistyped values are said with the values out
// of range it gives, all at once and in line order, by the workbench's
// editor (Check) and the command line (DecodeFile, then CheckFile)
// alike; a mistyped value's range is not checked. A syntax error is said
// alone: what follows it is not a configuration to check.
func TestCheckSaysUnknownKeysWithValuesOutOfRange(t *testing.T) {
	models := hftest.StubModels(t, t.TempDir())
	l := NewLauncher(context.Background(), t.TempDir(), models)
	for _, c := range []struct {
		name, text string
		want       []string // Check's problems, each line's beginning
	}{
		{"an unknown key after a value out of range", "steps = -1\nseedx = 1\n", []string{
			"config.toml:1:1: steps -1 must not be negative",
			`config.toml:2:1: unknown key "seedx" at top level (known: teacher, student,`}},
		{"a mistyped value and one out of range in [grpo]", "[grpo]\nlr = 'fast'\nbeta = -1.0\nlamda = 2\n", []string{
			`config.toml:2:6: key "grpo.lr": wrong type: got TOML string, want float`,
			"config.toml:3:1: grpo.beta -1 must be a finite number, not negative",
			`config.toml:4:1: unknown key "lamda" in [grpo]`}},
		{"every kind across tables", "[reward]\nkl_max = nan\nestimatr = 'k3'\n[grpo]\nsamples = '8'\ntop_p = 7.0\n", []string{
			"config.toml:2:1: reward.kl_max is NaN: give a finite number (the default is 0.03)",
			`config.toml:3:1: unknown key "estimatr" in [reward]`,
			`config.toml:5:11: key "grpo.samples": wrong type: got TOML string, want integer`,
			"config.toml:6:1: grpo.top_p 7 must be within (0, 1]"}},
		{"a syntax error", "steps = -1\nseed = x\n", []string{
			"config.toml:2:8: "}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := l.Check([]byte(c.text))
			cfg := DefaultConfig(models, 0)
			decodeErr := sessions.DecodeStrict(sessions.ConfigFile, []byte(c.text), &cfg)
			cli := decodeErr
			if sessions.OnlyKeyProblems(decodeErr) {
				_, cli = CheckFile(cfg, sessions.ConfigFile, []byte(c.text), decodeErr, nil)
			}
			if err == nil || cli == nil || err.Error() != cli.Error() {
				t.Fatalf("editor\n%v\ncommand line\n%v", err, cli)
			}
			lines := strings.Split(err.Error(), "\n")
			ok := len(lines) == len(c.want)
			for i := 0; ok && i < len(lines); i++ {
				ok = strings.HasPrefix(lines[i], c.want[i])
			}
			if !ok {
				t.Errorf("got\n%v\nwant lines beginning\n%s", err, strings.Join(c.want, "\n"))
			}
			for _, e := range flattenErr(err) {
				var ce *sessions.ConfigError
				if !errors.As(e, &ce) || !ce.AtItsLine() {
					t.Errorf("%v is not on a line of its own: the editor cannot place it", e)
				}
			}
		})
	}
}

// fileProblems names the file on every problem it says, also on one no
// line of the file shows: a key the file does not set, and a problem about
// no key (a plain error, or a configkey.Error with no key), which read
// "FILE: problem" after the file's lines, not bare as the engine wrote
// them. Validate keys all its problems today; a check that cannot (a
// caller's, a future one's) must still say which file it is about.
func TestFileProblemsNameTheFile(t *testing.T) {
	const file, text = "run.toml", "steps = -1\n[grpo]\nlr = -1.0\n"
	cfg := DefaultConfig(hftest.StubModels(t, t.TempDir()), 0)
	if err := sessions.DecodeStrict(file, []byte(text), &cfg); err != nil {
		t.Fatal(err)
	}
	steps := configkey.Errorf("steps", "steps -1 must not be negative")
	for _, c := range []struct {
		name     string
		err      error
		flagKeys map[string]string
		want     []string
	}{
		{"a plain error", errors.Join(errors.New("the models disagree"), steps),
			nil, []string{"run.toml:1:1: steps -1 must not be negative", "run.toml: the models disagree"}},
		{"a configkey.Error with no key", errors.Join(configkey.Errorf("", "nothing to train"), steps),
			nil, []string{"run.toml:1:1: steps -1 must not be negative", "run.toml: nothing to train"}},
		{"a key the file does not set", errors.Join(configkey.Errorf("reward.kl_max", "kl_max is wrong"), steps),
			nil, []string{"run.toml:1:1: steps -1 must not be negative", "run.toml: reward.kl_max (default 0.03, not set in this file): kl_max is wrong"}},
		{"a flag's key names the flag, not the file", errors.Join(steps, errors.New("the models disagree")),
			map[string]string{"steps": "steps"}, []string{"run.toml: the models disagree", "--steps -1 must not be negative"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, e := range fileProblems(cfg, file, []byte(text), c.err, sessions.UnsetIsDefault, c.flagKeys) {
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
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
	src := "../testdata/official/run"
	before := treeSizes(t, src)
	l := NewLauncher(context.Background(), t.TempDir(), "")
	s, err := l.OpenReadOnly(src)
	if err != nil {
		t.Fatal(err)
	}
	if !s.ReadOnly || s.Control != nil {
		t.Errorf("session read-only %v, control %v", s.ReadOnly, s.Control)
	}
	deadline := time.Now().Add(hangGuard)
	var m, tr int
	for time.Now().Before(deadline) {
		if m, tr, _ = s.Run.Store().Counts(); m == 3 && tr > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if m != 3 || tr == 0 {
		t.Errorf("store holds %d metrics, %d traces after %v; want 3 metrics and traces", m, tr, hangGuard)
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

// smallConfig is smallRun on the embedded models.
func smallConfig(t *testing.T, steps int) runconfig.Config {
	t.Helper()
	models, err := defaults.Dir()
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig(models, 0)
	if err := sessions.DecodeStrict("small.toml", []byte(smallRun), &cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Steps = steps
	return cfg
}

// A checkpoint that cannot be written stops the run after that step: the
// error is the run's result (Close returns it, rlt prints it on exit) and
// its fatal error event (the workbench shows the run as failed). The stop
// tries the checkpoint again (TestStopTriesAFailedCheckpointAgain): its
// failure is said as such, once, and not as the engine's generic error.
func TestWorkbenchStopsOnCheckpointFailure(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	cfg := smallConfig(t, 6)
	dir := filepath.Join(t.TempDir(), "run")
	rec, err := sessions.Create(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// A disk that refuses checkpoints: checkpoints/ is a file, so no
	// checkpoint folder can be made in it.
	ck := filepath.Join(dir, sessions.CheckpointsDir)
	if err := os.RemoveAll(ck); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ck, []byte("not a folder\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := Start(context.Background(), context.Background(), rec, mustCheck(t, cfg), rec, Fresh)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { h.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(120 * time.Second):
		h.e.Stop()
		t.Fatal("the run did not stop on the failed checkpoint")
	}
	err = h.Close()
	if err == nil || !strings.Contains(err.Error(), "checkpoint of step 0 failed, so the run stops") || !strings.Contains(err.Error(), filepath.Join("run", sessions.CheckpointsDir)) {
		t.Fatalf("Close: %v; want the failed checkpoint as the run's result", err)
	}
	if n := h.e.Trainer.StepIndex(); n != 1 {
		t.Errorf("%d steps ran, want 1: the run goes on after its checkpoint failed", n)
	}
	fatal, again := 0, 0
	evs, _ := rec.Store().EventsSince(0)
	for _, e := range evs {
		switch {
		case e.Kind != sessions.KindError:
		case e.Fatal && strings.Contains(e.Error, "checkpoint of step 0 failed, so the run stops"):
			fatal++
		case !e.Fatal && strings.HasPrefix(e.Error, "checkpoint of step 0 failed again as the run stopped: "):
			again++
		case strings.Contains(e.Error, "checkpoint"):
			t.Errorf("the failure is reported twice, also as another error: %s", e.Error)
		}
	}
	if fatal != 1 || again != 1 {
		t.Errorf("%d fatal checkpoint errors, %d failures of the stop's try recorded, want 1 and 1: %+v", fatal, again, evs)
	}
}

// The rlt command's read-only open keeps what is wrong with a folder as
// problems and opens it anyway: a config.toml key the configuration does
// not have (with its line), a corrupt latest checkpoint; an imported run's
// config.toml is no problem.
func TestWorkbenchOpenBroken(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	cfg := smallConfig(t, 0)
	dir := filepath.Join(t.TempDir(), "run")
	rec, err := sessions.Create(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	save := func(d string) error { return os.WriteFile(filepath.Join(d, "weights.bin"), make([]byte, 64), 0o644) }
	for _, step := range []int{0, 1} {
		if _, err := rec.SaveCheckpoint(step, save, sessions.CheckpointState{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	os.Truncate(filepath.Join(dir, sessions.CheckpointsDir, "step-000001", "weights.bin"), 3)
	cfgPath := filepath.Join(dir, sessions.ConfigFile)
	data, _ := os.ReadFile(cfgPath)
	os.WriteFile(cfgPath, append([]byte("lamda = 3\n"), data...), 0o644)

	l := NewLauncher(context.Background(), t.TempDir(), "")
	s, err := l.OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var ce *sessions.ConfigError
	if len(s.Problems) != 1 || !errors.As(s.Problems[0], &ce) || ce.Line != 1 || !strings.Contains(ce.Msg, `unknown key "lamda"`) {
		t.Errorf("problems %v: want the unknown key on line 1", s.Problems)
	}
	if !s.ReadOnly || s.Control != nil {
		t.Errorf("read-only %v, control %v", s.ReadOnly, s.Control)
	}
	if is := fmt.Sprint(s.Run.Store().Issues()); !strings.Contains(is, "skipped checkpoint of step 1") {
		t.Errorf("the corrupt checkpoint is not among the issues: %s", is)
	}
	// Resuming it is refused with the line.
	if _, err := l.Resume(dir); !errors.As(err, &ce) || ce.Line != 1 {
		t.Errorf("resume: %v", err)
	}

	imp := filepath.Join(t.TempDir(), "imported")
	if _, err := sessions.Import(imp, "../testdata/official/run"); err != nil {
		t.Fatal(err)
	}
	s2, err := l.OpenReadOnly(imp)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if len(s2.Problems) != 0 || !strings.Contains(strings.Join(s2.Notes, ";"), "imported from") {
		t.Errorf("an imported run: problems %v, notes %v", s2.Problems, s2.Notes)
	}
	// The models a user adds to an import to score it with (rlt score
	// --run reads them) are its settings, not a problem; a key of no
	// import is said as rlt score --run says it (sessions.UnknownKeys).
	// An import with models was said not to decode, its problem the
	// training configuration's 'unknown key "import"'.
	impCfg := filepath.Join(imp, sessions.ConfigFile)
	impData, _ := os.ReadFile(impCfg)
	for _, c := range []struct {
		name, text, problem string
	}{
		{"with models added", "teacher = 'T'\nstudent = 'S'\n" + string(impData), ""},
		{"with a key of no import", "teacher = 'T'\nranked_by = 'me'\n" + string(impData), `unknown key "ranked_by"`},
		// A value of the wrong type is said, as rlt score --run refuses
		// it: the lenient read passed over it unsaid (since 690cc2d).
		{"with a mistyped value", "teacher = 3\n" + string(impData), `config.toml:1:11: key "teacher": wrong type`},
		{"with a mistyped prompt", string(impData) + "[prompts]\nstudent_system = 5\n", `key "prompts.student_system": wrong type`},
	} {
		os.WriteFile(impCfg, []byte(c.text), 0o644)
		s3, err := l.OpenReadOnly(imp)
		if err != nil {
			t.Fatal(err)
		}
		said := fmt.Sprint(s3.Problems)
		if (c.problem == "") != (len(s3.Problems) == 0) || !strings.Contains(said, c.problem) || strings.Contains(said, `"import"`) ||
			!strings.Contains(strings.Join(s3.Notes, ";"), "imported from") {
			t.Errorf("an import %s: problems %v, notes %v; want %q alone", c.name, s3.Problems, s3.Notes, c.problem)
		}
		// A key of no import is said ignored, as a run of ours' is and
		// rlt score --run says it; the problem alone did not say so.
		const ignored = "config.toml holds keys this version does not know: ignored, its other settings shown"
		if unknown := strings.Contains(c.problem, "unknown key"); slices.Contains(s3.Notes, ignored) != unknown {
			t.Errorf("an import %s: notes %q; want %q among them: %v", c.name, s3.Notes, ignored, unknown)
		}
		s3.Close()
	}
}

// An imported run opens with the steps its trainer planned, as config.toml
// records them (the Hugging Face Trainer's max_steps), whether it is rlt
// import's folder opened read-only or for review, or the trainer's folder
// followed; a trainer whose files state none gives an open-ended session.
func TestLauncherOpensImportsWithTheirPlannedSteps(t *testing.T) {
	for _, c := range []struct {
		name, src string
		planned   int
	}{
		{"official", "../testdata/official/run", 3},
		{"trl", "../testdata/trainers/trl", 4},
		{"verl", "../testdata/trainers/verl", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := NewLauncher(context.Background(), t.TempDir(), "")
			imp := filepath.Join(t.TempDir(), "imported")
			if _, err := sessions.Import(imp, c.src); err != nil {
				t.Fatal(err)
			}
			for _, o := range []struct {
				how  string
				open func(string) (*sessions.Session, error)
				dir  string
			}{{"imported, read-only", l.OpenReadOnly, imp}, {"imported, for review", l.OpenForReview, imp}, {"followed", l.OpenReadOnly, c.src}} {
				s, err := o.open(o.dir)
				if err != nil {
					t.Fatalf("%s: %v", o.how, err)
				}
				if s.Steps != c.planned {
					t.Errorf("%s: planned steps %d, want %d", o.how, s.Steps, c.planned)
				}
				if err := s.Close(); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// A followed official folder is imported with sessions.Import (questions
// and solutions from the teacher prompts, the trainer's reward as the
// source reward) and imported again when the trainer writes more: new
// steps and completions appear in the open run.
func TestWorkbenchFollowsOfficial(t *testing.T) {
	src := filepath.Join(t.TempDir(), "official")
	if err := os.CopyFS(src, os.DirFS("../testdata/official/run")); err != nil {
		t.Fatal(err)
	}
	// A plan of 4 steps, 3 written: the 4th, appended below, is within it.
	planned, err := os.ReadFile(filepath.Join(src, "trainer_state.json"))
	if err != nil || !strings.Contains(string(planned), `"max_steps": 3,`) {
		t.Fatalf("fixture trainer_state.json has no max_steps of 3 (%v)", err)
	}
	planned = []byte(strings.Replace(string(planned), `"max_steps": 3,`, `"max_steps": 4,`, 1))
	if err := os.WriteFile(filepath.Join(src, "trainer_state.json"), planned, 0o644); err != nil {
		t.Fatal(err)
	}
	l := NewLauncher(context.Background(), t.TempDir(), "")
	s, err := l.OpenReadOnly(src)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st := s.Run.Store()
	waitCounts := func(what string, ok func(m, tr int) bool) {
		t.Helper()
		deadline := time.Now().Add(hangGuard)
		for {
			m, tr, _ := st.Counts()
			if ok(m, tr) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %s: %d metrics, %d traces", what, m, tr)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitCounts("the import", func(m, tr int) bool { return m == 3 && tr > 0 })
	_, before, _ := st.Counts()
	listed, _ := st.TracesSince(0)
	first, err := st.Trace(listed[0].ID) // its texts, which the listing leaves out
	if err != nil || first.Solution == "" || !first.HasSourceReward || !strings.HasPrefix(first.Source, "stored_completions/") || strings.Contains(first.Question, "<|im_start|>") {
		t.Errorf("first trace: question %q, solution %q, source %q, source reward %v (%v)", first.Question, first.Solution, first.Source, first.HasSourceReward, err)
	}
	// The trainer logs step 4 and stores its completions.
	state, err := os.ReadFile(filepath.Join(src, "trainer_state.json"))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(state), `"log_history": [`)
	if i < 0 {
		t.Fatalf("no log_history in the fixture:\n%s", state)
	}
	i += len(`"log_history": [`)
	state = []byte(string(state[:i]) + "\n    {\"step\": 4, \"reward\": -0.5, \"loss\": 0.1},\n" + string(state[i:]))
	if err := os.WriteFile(filepath.Join(src, "trainer_state.json"), state, 0o644); err != nil {
		t.Fatal(err)
	}
	row := "step,prompt,completion,reward\n4,\"<|im_start|>system\nYou are a teacher.<|im_end|>\n<|im_start|>user\nWhat is 1+1?<|im_end|>\n<|im_start|>assistant\n<|begin_of_solution|>2<|end_of_solution|>\n\n<|begin_of_explanation|>\n\n\",\"One and one make two.<|end_of_explanation|><|im_end|>\",-0.4\n"
	if err := os.WriteFile(filepath.Join(src, "stored_completions", "4.csv"), []byte(row), 0o644); err != nil {
		t.Fatal(err)
	}
	waitCounts("the re-import", func(m, tr int) bool { return m == 4 && tr == before+1 })
	if tr, err := st.Trace("4-0-0"); err != nil || tr.Question != "What is 1+1?" || tr.Solution != "2" || tr.SourceReward != -0.4 {
		t.Errorf("the new trace: %+v (%v)", tr, err)
	}
	// Nothing already shown came twice.
	time.Sleep(1500 * time.Millisecond)
	if m, n, _ := st.Counts(); m != 4 || n != before+1 {
		t.Errorf("after another second: %d metrics, %d traces", m, n)
	}
}

// TestOpenForReview: a run folder no process holds opens writable with no
// engine (a review is recorded); one held by another open (an engine, a
// workbench) opens read-only and says who holds it.
func TestOpenForReview(t *testing.T) {
	l := NewLauncher(context.Background(), t.TempDir(), "")
	imp := filepath.Join(t.TempDir(), "imported")
	if _, err := sessions.Import(imp, "../testdata/official/run"); err != nil {
		t.Fatal(err)
	}
	s, err := l.OpenForReview(imp)
	if err != nil {
		t.Fatal(err)
	}
	if s.IsReadOnly() || s.Control != nil || !strings.Contains(strings.Join(s.Notes, "; "), "opened for review") {
		t.Errorf("free folder: read-only %v, control %v, notes %v", s.IsReadOnly(), s.Control, s.Notes)
	}
	ids, _ := s.Run.Store().TracesSince(0)
	if len(ids) == 0 {
		t.Fatal("no traces")
	}
	if err := s.Run.Review(ids[0].ID, sessions.LabelAccept, ""); err != nil {
		t.Errorf("review of a run opened for review: %v", err)
	}
	// While s holds it, a second open is read-only and names the holder.
	s2, err := l.OpenForReview(imp)
	if err != nil {
		t.Fatal(err)
	}
	if !s2.IsReadOnly() || !strings.Contains(strings.Join(s2.Notes, "; "), fmt.Sprintf("locked by pid %d", os.Getpid())) {
		t.Errorf("held folder: read-only %v, notes %v", s2.IsReadOnly(), s2.Notes)
	}
	s2.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err := sessions.OpenReadOnly(imp)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if ro.Store().Label(ids[0].ID).Label != sessions.LabelAccept {
		t.Error("the review was not recorded")
	}
}

// oneStepRun is a run of the embedded default on the CPU that took its one
// step, checkpointed, and closed: the folder of runs and the run's.
func oneStepRun(t *testing.T) (runs, dir string) {
	t.Helper()
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	cfg := smallConfig(t, 1)
	cfg.Device = "cpu"
	return runToEnd(t, cfg)
}

// runToEnd creates a run of cfg in a new folder of runs, runs it to its
// end and closes it: the folder of runs and the run's.
func runToEnd(t *testing.T, cfg runconfig.Config) (runs, dir string) {
	t.Helper()
	runs = t.TempDir()
	rec, checked, err := Create(runs, mustCheck(t, cfg), sessions.ProcessHeadless)
	if err != nil {
		t.Fatal(err)
	}
	h, err := Start(context.Background(), context.Background(), rec, checked, rec, Fresh)
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(h.Wait(), h.Close()); err != nil {
		t.Fatal(err)
	}
	return runs, rec.Dir()
}

// A data run reads its data file once, when it is checked: rlt run
// --config's CheckFile, then Create and Start, and a resume's
// OpenForResume, then Start, read nothing after the check. The file is
// removed right after each check, and the run still starts, trains and
// checkpoints the digest of the rows it checked.
func TestDataRunReadsItsDataOnceWhenChecked(t *testing.T) {
	var rows strings.Builder
	for i := 0; i < 6; i++ {
		fmt.Fprintf(&rows, `{"question":"%d+%d=?","solution":"%d"}`+"\n", 20+i, 31+2*i, 51+3*i)
	}
	digest := fmt.Sprintf("%x", sha256.Sum256([]byte(rows.String())))
	data := filepath.Join(t.TempDir(), "train.jsonl")
	writeData := func() {
		t.Helper()
		if err := os.WriteFile(data, []byte(rows.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeData()
	cfg := smallConfig(t, 1)
	cfg.Task, cfg.Data, cfg.Device = run.DataTask, data, "cpu"

	checked, err := CheckFile(cfg, "", nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(data)
	rec, checked, err := Create(t.TempDir(), checked, sessions.ProcessHeadless)
	if err != nil {
		t.Fatal(err)
	}
	h, err := Start(context.Background(), context.Background(), rec, checked, rec, Fresh)
	if err != nil {
		t.Fatalf("start after the data file was removed: %v", err)
	}
	if err := errors.Join(h.Wait(), h.Close()); err != nil {
		t.Fatal(err)
	}

	writeData() // OpenForResume checks the recorded configuration: it reads the file
	r, err := OpenForResume(rec.Dir(), Overrides{Steps: 2}, sessions.ProcessHeadless)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(data)
	f, err := r.Rec.ReadTrainerCheckpoint(r.Ck)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"data_sha256":"` + digest + `"`; !strings.Contains(string(f.State), want) {
		t.Errorf("checkpoint state %s lacks the checked data's digest %s", f.State, want)
	}
	h, err = Start(context.Background(), context.Background(), r.Rec, r.Checked, r.Rec, r.Restore)
	if err != nil {
		t.Fatalf("resume after the data file was removed: %v", err)
	}
	if err := errors.Join(h.Wait(), h.Close()); err != nil {
		t.Fatal(err)
	}
	if n := h.Engine().Trainer.StepIndex(); n != 2 {
		t.Errorf("the resumed run did %d steps, want 2", n)
	}
}

// A launcher given a device (rlt open --device cpu, rlt --device cpu)
// resumes a run there over its config.toml's, which may name a GPU that
// has failed, and says so; a new run's configuration shows it.
func TestLauncherDeviceOverResumedConfig(t *testing.T) {
	runs, dir := oneStepRun(t)
	// The run's configuration now names a GPU that is not there.
	path := filepath.Join(dir, sessions.ConfigFile)
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	gone := strings.Replace(string(text), "device = 'cpu'", "device = 'gpu:7'", 1)
	gone = strings.Replace(gone, "steps = 1", "steps = 2", 1)
	if gone == string(text) || !strings.Contains(gone, "gpu:7") || !strings.Contains(gone, "steps = 2") {
		t.Fatalf("config.toml has no device = 'cpu' and steps = 1 to change:\n%s", text)
	}
	if err := os.WriteFile(path, []byte(gone), 0o644); err != nil {
		t.Fatal(err)
	}
	models, err := defaults.Dir()
	if err != nil {
		t.Fatal(err)
	}
	l := NewLauncher(context.Background(), runs, models)
	if _, err := l.Resume(dir); err == nil || !strings.Contains(err.Error(), "gpu:7") {
		t.Fatalf("resume on the configuration's gpu:7: %v, want the device's error", err)
	}
	l.Device = "cpu"
	s, err := l.Resume(dir)
	if err != nil {
		t.Fatalf("resume with Device cpu: %v", err)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if ms, _ := s.Run.Store().MetricsSince(0); len(ms) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the resumed run recorded no second step within 60 s")
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if note := strings.Join(s.Notes, "\n"); !strings.Contains(note, "computing on cpu (--device), not on its configuration's gpu:7") {
		t.Errorf("notes %q do not say where it computes", note)
	}
	ro, err := sessions.OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if ms, _ := ro.Store().MetricsSince(0); len(ms) != 2 {
		t.Errorf("%d steps recorded, want 2 (one more on the CPU)", len(ms))
	}
	conf, err := l.NewConfig()
	if err != nil || !strings.Contains(string(conf), "device = 'cpu'") {
		t.Errorf("a new run's configuration does not show the launcher's device: %v\n%s", err, conf)
	}
}

// TestResumeRefusesABadConfigWithoutFailingTheRun: a finished run whose
// config.toml was emptied or edited into one that cannot run is refused at
// resume, saying so, and stays finished: the refusal is the file's, not a
// failure of the run. Each problem is said where it is, as rlt run
// --config says a file's: at config.toml:LINE:COL, or, for a key the file
// does not set, named with it and its zero value (the file was read over
// nothing: no default stands in, and none is named).
func TestResumeRefusesABadConfigWithoutFailingTheRun(t *testing.T) {
	runs, dir := oneStepRun(t)
	path := filepath.Join(dir, sessions.ConfigFile)
	text, _ := os.ReadFile(path)
	models, err := defaults.Dir()
	if err != nil {
		t.Fatal(err)
	}
	l := NewLauncher(context.Background(), runs, models)
	head := "resume " + dir + ": " + path + " cannot run, so the run is unchanged: fix the file, or open the run read-only"
	// A problem a resume's flag puts a value over is said with the flag.
	stepsHead := "resume " + dir + ": " + path + " cannot run, so the run is unchanged: fix the file, give --steps N over it, or open the run read-only"
	// withoutGRPOSamples is the file with [grpo]'s samples line taken
	// out (the first samples after the [grpo] header). A key a run's
	// config.toml lacks is 0 (it records every key), but [reward]'s,
	// which are their defaults (sessions.RunReward): this case took out
	// reward.temperature, and said it as 0.
	withoutGRPOSamples := func(s string) string {
		before, after, ok := strings.Cut(s, "[grpo]\n")
		if !ok {
			t.Fatalf("no [grpo] in\n%s", s)
		}
		lines := strings.Split(after, "\n")
		for i, ln := range lines {
			if strings.HasPrefix(ln, "samples = ") {
				return before + "[grpo]\n" + strings.Join(append(lines[:i:i], lines[i+1:]...), "\n")
			}
		}
		t.Fatalf("no samples in [grpo] of\n%s", s)
		return ""
	}
	lineOf := func(s, prefix string) int {
		for i, ln := range strings.Split(s, "\n") {
			if strings.HasPrefix(ln, prefix) {
				return i + 1
			}
		}
		t.Fatalf("no %q in\n%s", prefix, s)
		return 0
	}
	badSteps := strings.Replace(string(text), "steps = 1", "steps = -3", 1)
	both := withoutGRPOSamples(badSteps)
	unknownToo := strings.Replace(badSteps, "steps = -3", "steps = -3\nstepz = 2", 1)
	for _, c := range []struct {
		name, text string
		want       []string // the error's lines
	}{
		{"an empty file", "", []string{"resume " + dir + ": " + path + " is empty: the run's configuration is lost; write it again (rlt run --print-config prints one to start from for a run of the embedded models, rlt train --print-config for one of your own) or open the run read-only"}},
		{"a value on its line", badSteps, []string{stepsHead,
			fmt.Sprintf("%s:%d:1: steps -3 must not be negative", path, lineOf(badSteps, "steps = "))}},
		{"a key the file does not set, with one on its line", both, []string{head,
			fmt.Sprintf("%s:%d:1: steps -3 must not be negative", path, lineOf(both, "steps = ")),
			path + ": grpo.samples (not set in this file, so 0): samples 0 must be positive"}},
		// An unknown key does not hide the values out of range: all are
		// said at once, in the file's order, as rlt run --config says them.
		{"an unknown key and a value out of range", unknownToo, []string{head,
			fmt.Sprintf("%s:%d:1: steps -3 must not be negative", path, lineOf(unknownToo, "steps = ")),
			fmt.Sprintf(`%s:%d:1: unknown key "stepz" at top level (known: teacher, student, task, data, eval_data, max_prompt_tokens, steps, eval_every, eval_questions, checkpoint_every, device, matmul, prompts, reward, grpo)`, path, lineOf(unknownToo, "stepz = "))}},
	} {
		t.Run(c.name, func(t *testing.T) {
			os.WriteFile(path, []byte(c.text), 0o644)
			_, cli := OpenForResume(dir, Overrides{}, sessions.ProcessHeadless)
			_, workbench := l.Resume(dir)
			if cli == nil || cli.Error() != strings.Join(c.want, "\n") {
				t.Errorf("rlt run --resume:\n%v\nwant\n%s", cli, strings.Join(c.want, "\n"))
			}
			if workbench == nil || !strings.HasPrefix(workbench.Error(), strings.Join(c.want, "\n")) {
				t.Errorf("the workbench's resume:\n%v\nwant it to start\n%s", workbench, strings.Join(c.want, "\n"))
			}
			list, err := sessions.List(runs)
			if err != nil || len(list) != 1 || list[0].State != sessions.StateFinished {
				t.Errorf("after the refused resume the run is listed as %+v (%v), want finished", list, err)
			}
		})
	}
}

// A resume checks the configuration it will run: the run's config.toml
// with the session's flags over it. A flag's value stands in for the
// file's (--device cpu over a device name this build does not know,
// --steps over a bad recorded steps), and a problem is said at the file's
// line where the file's value is used and as the flag where the flag's
// is. A refused resume writes nothing to config.toml, even with --steps,
// and an accepted one has not written it yet (Restore records the plan).
func TestResumeChecksTheConfigurationAsItRuns(t *testing.T) {
	_, dir := oneStepRun(t)
	path := filepath.Join(dir, sessions.ConfigFile)
	recorded, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// edit is the recorded text with each "from" line's start replaced.
	edit := func(pairs ...string) string {
		text := string(recorded)
		for i := 0; i < len(pairs); i += 2 {
			if !strings.Contains(text, pairs[i]) {
				t.Fatalf("config.toml has no %q:\n%s", pairs[i], recorded)
			}
			text = strings.Replace(text, pairs[i], pairs[i+1], 1)
		}
		return text
	}
	lineOf := func(text, prefix string) int {
		for i, ln := range strings.Split(text, "\n") {
			if strings.HasPrefix(ln, prefix) {
				return i + 1
			}
		}
		t.Fatalf("no %q in\n%s", prefix, text)
		return 0
	}
	// headWith is the refusal's first line where the file's every problem
	// is a value the flags put over the file: the flag is a way on.
	headWith := func(flags string) string {
		return "resume " + dir + ": " + path + " cannot run, so the run is unchanged: fix the file, give " + flags + " over it, or open the run read-only"
	}
	unknownDevice := edit("device = 'cpu'", "device = 'tpu'")
	badSteps := edit("steps = 1", "steps = -3")
	badStepsAndDevice := edit("steps = 1", "steps = -3", "device = 'cpu'", "device = 'tpu'")
	badStepsAndMatmul := edit("steps = 1", "steps = -3", "device = 'cpu'", "device = 'cpu'\nmatmul = 'f8'")
	for _, c := range []struct {
		name, text string
		over       Overrides
		want       []string // the error's lines; none: the resume goes on
		cfg        func(runconfig.Config) string
	}{
		{name: "a device name the file records, unknown here", text: unknownDevice,
			want: []string{headWith("--device cpu"), fmt.Sprintf(`%s:%d:1: device "tpu": want cpu, gpu, gpu:N or auto`, path, lineOf(unknownDevice, "device = "))}},
		{name: "the same, resumed with --device cpu", text: unknownDevice, over: Overrides{Device: "cpu"},
			cfg: func(c runconfig.Config) string { return c.Device }},
		{name: "a bad steps the file records", text: badSteps, over: Overrides{Device: "cpu"},
			want: []string{headWith("--steps N"), fmt.Sprintf("%s:%d:1: steps -3 must not be negative", path, lineOf(badSteps, "steps = "))}},
		{name: "the same, resumed with --steps", text: badSteps, over: Overrides{Steps: 5},
			cfg: func(c runconfig.Config) string { return fmt.Sprint(c.Steps) }},
		{name: "--steps stands in for the file's steps, not for its other keys", text: badStepsAndMatmul, over: Overrides{Steps: 5},
			want: []string{headWith("--matmul f32"), fmt.Sprintf(`%s:%d:1: matmul "f8": want f32 or f16 (tensor cores, on a GPU that has them)`, path, lineOf(badStepsAndMatmul, "matmul = "))}},
		{name: "two values flags go over", text: badStepsAndDevice,
			want: []string{headWith("--steps N --device cpu"),
				fmt.Sprintf("%s:%d:1: steps -3 must not be negative", path, lineOf(badStepsAndDevice, "steps = ")),
				fmt.Sprintf(`%s:%d:1: device "tpu": want cpu, gpu, gpu:N or auto`, path, lineOf(badStepsAndDevice, "device = "))}},
		{name: "the same, resumed with both flags", text: badStepsAndDevice, over: Overrides{Steps: 5, Device: "cpu"},
			cfg: func(c runconfig.Config) string { return c.Device }},
		{name: "a flag's value is the flag's problem", text: string(recorded), over: Overrides{Device: "tpu", Matmul: "f8"},
			want: []string{"resume " + dir + ": its configuration cannot run with the values these flags give, so the run is unchanged",
				`--device "tpu": want cpu, gpu, gpu:N or auto`, `--matmul "f8": want f32 or f16 (tensor cores, on a GPU that has them)`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := os.WriteFile(path, []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := OpenForResume(dir, c.over, sessions.ProcessHeadless)
			if r.Rec != nil {
				defer r.Rec.Close()
			}
			if nothing := (*sessions.NothingToRunError)(nil); errors.As(err, &nothing) {
				err = nil // its configuration passed; the run has done the one step it plans
			}
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
			if err == nil {
				if got, want := c.cfg(r.Checked.Config()), c.cfg(r.Recorded); got == want {
					t.Errorf("the session runs the recorded %s: the flag is not over it", got)
				}
			}
			if now, _ := os.ReadFile(path); string(now) != c.text {
				t.Errorf("config.toml was rewritten before the resume ran:\n%s\nwas\n%s", now, c.text)
			}
		})
	}
}

// A resume whose checkpoint its configuration would not continue exactly
// (the data file changed since, the seed edited in config.toml) is
// refused by OpenForResume, before any engine starts, in one message
// saying what to do: the run stays as it was (finished, its
// config.toml and checkpoints untouched, no error recorded), and the
// file put back resumes it.
func TestResumeRefusesACheckpointOfOtherData(t *testing.T) {
	var rows strings.Builder
	for i := 0; i < 6; i++ {
		fmt.Fprintf(&rows, `{"question":"%d+%d=?","solution":"%d"}`+"\n", 20+i, 31+2*i, 51+3*i)
	}
	data := filepath.Join(t.TempDir(), "train.jsonl")
	if err := os.WriteFile(data, []byte(rows.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := smallConfig(t, 1)
	cfg.Task, cfg.Data, cfg.Device, cfg.EvalEvery = run.DataTask, data, "cpu", 0
	runs, dir := runToEnd(t, cfg)
	cfgPath := filepath.Join(dir, sessions.ConfigFile)
	recorded, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	sum := func(s string) string { return fmt.Sprintf("%x", sha256.Sum256([]byte(s)))[:12] + "…" }
	// tree is every file of the run but its lock, with its content.
	tree := func() map[string]string { return runFiles(dir) }
	before := tree()
	models, err := defaults.Dir()
	if err != nil {
		t.Fatal(err)
	}
	l := NewLauncher(context.Background(), runs, models)
	added := rows.String() + `{"question":"9+9=?","solution":"18"}` + "\n"
	otherSeed := strings.Replace(string(recorded), "seed = 1\n", "seed = 2\n", 1)
	if otherSeed == string(recorded) {
		t.Fatalf("config.toml has no seed = 1:\n%s", recorded)
	}
	for _, c := range []struct {
		name, data, config string
		want               string // the error; "" for a resume that goes on
	}{
		{"a row added to the data", added, string(recorded),
			"resume " + dir + ": data " + data + " changed since the checkpoint (sha256 " + sum(rows.String()) + " then, " + sum(added) + " now): the resumed run would draw other questions, " +
				"so the run is unchanged: put the file back as it was when step 0 was checkpointed to resume it, or start a new run on the data as it is now: rlt run --config " + cfgPath},
		{"the seed edited in config.toml", rows.String(), otherSeed,
			"resume " + dir + ": the checkpoint was made with seed 1 but the configuration says 2, so the run is unchanged: put " + cfgPath +
				" back as it was when step 0 was checkpointed to resume it, or start a new run from it: rlt run --config " + cfgPath},
		{"the file put back", rows.String(), string(recorded), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := errors.Join(os.WriteFile(data, []byte(c.data), 0o644), os.WriteFile(cfgPath, []byte(c.config), 0o644)); err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(cfgPath, recorded, 0o644)
			r, cli := OpenForResume(dir, Overrides{Steps: 2}, sessions.ProcessHeadless)
			if r.Rec != nil {
				r.Rec.Close()
			}
			if fmt.Sprint(cli) != c.want && !(cli == nil && c.want == "") {
				t.Errorf("rlt run --resume:\n%v\nwant\n%s", cli, c.want)
			}
			if c.want == "" {
				return
			}
			if _, workbench := l.Resume(dir); workbench == nil || !strings.HasPrefix(workbench.Error(), c.want) {
				t.Errorf("the workbench's resume:\n%v\nwant it to start\n%s", workbench, c.want)
			}
			list, err := sessions.List(runs)
			if err != nil || len(list) != 1 || list[0].State != sessions.StateFinished || list[0].Note != "" {
				t.Errorf("after the refused resume the run is listed as %+v (%v), want finished", list, err)
			}
			os.WriteFile(cfgPath, recorded, 0o644)
			if after := tree(); !maps.Equal(after, before) {
				t.Errorf("the refused resume changed the run's files")
			}
		})
	}
}

// TestCheckSaysEveryProblemAtOnce: a configuration with several values
// out of range gets one error for each, on its own line and in line
// order, so that the editor shows them all after one save.
func TestCheckSaysEveryProblemAtOnce(t *testing.T) {
	l := NewLauncher(context.Background(), t.TempDir(), t.TempDir())
	base, err := l.NewConfig()
	if err != nil {
		t.Fatal(err)
	}
	data := string(base)
	for _, r := range [][2]string{{"steps = ", "steps = -5 #"}, {"questions = 8", "questions = 0"}, {"lr = 0.0001", "lr = -1.0"}} {
		data = strings.Replace(data, r[0], r[1], 1)
	}
	err = l.Check([]byte(data))
	var got []string
	last := 0
	for _, e := range flattenErr(err) {
		var ce *sessions.ConfigError
		if !errors.As(e, &ce) {
			continue // the launcher's empty models folder: not a value out of range
		}
		if ce.Line < last {
			t.Errorf("%q at line %d comes after line %d", ce.Msg, ce.Line, last)
		}
		last = ce.Line
		got = append(got, ce.Key+"|"+ce.Msg)
	}
	for _, want := range []string{"steps -5 must not be negative", "questions 0 must be positive", "lr -1 must be a finite number"} {
		if !strings.Contains(strings.Join(got, "\n"), want) {
			t.Errorf("errors %q lack %q", got, want)
		}
	}
}

// The final checkpoint's error after the step's own found the disk full,
// and full still, is said briefly: the step's error said it whole.
func TestFinalCheckpointError(t *testing.T) {
	full := &os.PathError{Op: "write", Path: "model.safetensors", Err: syscall.ENOSPC}
	other := errors.New("input/output error")
	for _, c := range []struct {
		name         string
		step, fullAt int
		err          error
		want         string // "": nil
	}{
		{"written", 3, 3, nil, ""},
		{"still full", 3, 3, full, "final checkpoint of step 3: the disk is still full"},
		{"full now, not before", 3, -1, full, "final checkpoint: write model.safetensors: no space left on device"},
		{"another error", 3, 3, other, "final checkpoint: input/output error"},
	} {
		got := finalCheckpointError(c.step, c.fullAt, c.err)
		if (got == nil) != (c.want == "") || got != nil && got.Error() != c.want {
			t.Errorf("%s: %v, want %q", c.name, got, c.want)
		}
	}
}

// TestOpenSaysWhatToOpenInstead: a folder that is not there, and a folder
// of run folders (runs/, the workbench's --runs), given where one run
// folder goes, say so and what to give; they read as os.Stat's error and
// as a trainer's folder in no known format.
func TestOpenSaysWhatToOpenInstead(t *testing.T) {
	l := NewLauncher(context.Background(), t.TempDir(), "")
	root := t.TempDir()
	for _, name := range []string{"20261205-100000", "20261205-110000"} {
		r, err := sessions.Create(filepath.Join(root, name), run.DefaultConfig("teacher", "student"))
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
	}
	missing := filepath.Join(root, "nope")
	// A trainer's folder that holds a run folder (rlt run --runs given
	// it) is the trainer's, followed as before.
	trainer := filepath.Join(t.TempDir(), "official")
	if err := os.CopyFS(trainer, os.DirFS("../testdata/official/run")); err != nil {
		t.Fatal(err)
	}
	if r, err := sessions.Create(filepath.Join(trainer, "20261205-120000"), run.DefaultConfig("teacher", "student")); err != nil {
		t.Fatal(err)
	} else {
		r.Close()
	}
	s, err := l.OpenReadOnly(trainer)
	if err != nil {
		t.Errorf("a trainer's folder holding a run folder: %v", err)
	} else {
		s.Close()
	}
	for _, c := range []struct {
		name, dir, want string
	}{
		{"not there", missing, "open " + missing + ": no such folder: give a run folder (rlt sessions lists those under runs/), or a trainer's run folder to follow"},
		{"a folder of runs", root, "open " + root + ": a folder holding 2 run folders, not a run folder: open one of them (the newest: rlt open " + filepath.Join(root, "20261205-110000") + "); rlt sessions --runs " + root + " lists them"},
	} {
		for _, open := range []func(string) (*sessions.Session, error){l.OpenReadOnly, l.OpenForReview} {
			s, err := open(c.dir)
			if s != nil {
				s.Close()
			}
			if err == nil || err.Error() != c.want {
				t.Errorf("%s: %v, want %q", c.name, err, c.want)
			}
		}
	}
}

// A checkpoint made by an rlt that trained on every row of the data file,
// a file with rows asking an earlier row's question with its solution
// again, is not resumed by this rlt, which leaves those rows out: the file
// is unchanged, but the resumed run would draw other questions. The
// refusal says so and that the run is unchanged, with the ways on (the
// rlt that started it, or a new run), not that a file changed; a
// checkpoint of this rlt (each_question_once) on the same file resumes.
func TestResumeRefusesACheckpointThatTrainedOnRepeats(t *testing.T) {
	// 20+31=? is held out for evaluation, 21+33=? trained on, twice more.
	row := `{"question":"21+33=?","solution":"54"}` + "\n"
	data := filepath.Join(t.TempDir(), "samples.jsonl")
	if err := os.WriteFile(data, []byte(`{"question":"20+31=?","solution":"51"}`+"\n"+row+row+row), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := smallConfig(t, 1)
	cfg.Task, cfg.Data, cfg.Device, cfg.EvalEvery = run.DataTask, data, "cpu", 0
	checked := mustCheck(t, cfg)
	digest := fmt.Sprintf("%x", sha256.Sum256([]byte(`{"question":"20+31=?","solution":"51"}`+"\n"+row+row+row)))
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, sessions.ConfigFile)
	seed := fmt.Sprint(cfg.GRPO.Seed)
	for _, c := range []struct {
		name  string
		state string
		want  string
	}{
		{"an older rlt's checkpoint", `{"step":3,"adam_steps":3,"seed":` + seed + `,"data_sha256":"` + digest + `"}`,
			"resume " + dir + ": data " + data + ": the run was started by an rlt that trained on every row of it, and 2 rows that ask an earlier row's question with its solution again; " +
				"this rlt leaves such rows out (each question once), so the resumed run would draw other questions, so the run is unchanged: " +
				"resume it with the rlt that started it, or start a new run on the data with this rlt: rlt run --config " + cfgPath},
		{"this rlt's checkpoint", `{"step":3,"adam_steps":3,"seed":` + seed + `,"data_sha256":"` + digest + `","each_question_once":true}`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			ck := sessions.Checkpoint{Dir: t.TempDir(), Step: 3}
			if err := os.WriteFile(filepath.Join(ck.Dir, sessions.TrainerStateFile), []byte(c.state), 0o644); err != nil {
				t.Fatal(err)
			}
			err := checkpointFits(dir, cfgPath, ck, checked)
			if fmt.Sprint(err) != c.want && !(err == nil && c.want == "") {
				t.Errorf("got\n%v\nwant\n%s", err, c.want)
			}
		})
	}
}
