package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rlt-workbench/rlt/engine/defaults"
	"github.com/rlt-workbench/rlt/engine/device"
	"github.com/rlt-workbench/rlt/engine/hf/hftest"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/sessions/runner"
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
	return tinyFolderRows(t, dtype, 1216)
}

// tinyFolderRows is tinyFolder with an embedding table of rows rows.
func tinyFolderRows(t *testing.T, dtype string, rows int) string {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "shape.json")
	os.WriteFile(cfg, []byte(`{"vocab_size": `+strconv.Itoa(rows)+`, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
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
			strings.ToUpper(dtype), "1210 tokens", "template: ChatML", "\ngpus        "} {
			if !strings.Contains(out, want) {
				t.Errorf("%s info lacks %q:\n%s", dtype, want, out)
			}
		}
		// The GPUs as --device gpu:N names them, or why there are none.
		if gpus, err := device.GPUs(); len(gpus) > 0 {
			if want := fmt.Sprintf("gpu:0 %s (%s, ", gpus[0].Name, gpus[0].Type); !strings.Contains(out, want) {
				t.Errorf("%s info lacks %q:\n%s", dtype, want, out)
			}
		} else if !strings.Contains(out, "gpus        none: ") || err == nil {
			t.Errorf("no GPUs (%v), and info does not say so:\n%s", err, out)
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
		{[]string{"rnu"}, 2, `rlt: unknown command "rnu" (did you mean run?)`},
		{[]string{"sesions"}, 2, `rlt: unknown command "sesions" (did you mean sessions?)`},
		{[]string{"model", "info", t.TempDir()}, 1, "missing config.json"},
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
	// A wrong call ends with what was wrong, after the usage (a wrong
	// value: alone, then the way to the usage); a call that
	// would overwrite a model or mix with a run is refused before any work.
	model := tinyFolder(t, "f32")
	shape := filepath.Join(filepath.Dir(model), "shape.json")
	weights, _ := os.ReadFile(filepath.Join(model, "model.safetensors"))
	run := t.TempDir()
	os.WriteFile(filepath.Join(run, "config.toml"), []byte("steps = 1\n"), 0o644)
	distilled := t.TempDir()                   // an earlier distill's output
	runs := filepath.Join(t.TempDir(), "runs") // where no refused run may make a folder
	badDevice := filepath.Join(t.TempDir(), "run.toml")
	os.WriteFile(badDevice, []byte("device = 'tpu'\n"), 0o644)
	os.Mkdir(filepath.Join(distilled, "student"), 0o755)
	os.WriteFile(filepath.Join(distilled, "student", "model.safetensors"), weights, 0o644)
	for _, c := range []struct {
		args []string
		code int
		last string // the last line of stderr
	}{
		{[]string{"model", "init", "--config", "x.json"}, 2, "rlt model init: --out is required"},
		// A command of subcommands says so of a call without one, or with
		// one it does not have, as any wrong call: after its usage.
		{[]string{"model"}, 2, "rlt model: missing subcommand: defaults or init or info"},
		{[]string{"model", "infos", model}, 2, `rlt model: unknown subcommand "infos" (known: defaults, init, info)`},
		{[]string{"tokenize"}, 2, "rlt tokenize: --tokenizer is required"},
		{[]string{"generate", "--model", model}, 2, "rlt generate: --prompt is required"},
		{[]string{"generate", "--model", model, "--prompt", "x", "--max-new-tokens", "-3"}, 2, "rlt generate: --max-new-tokens -3: want at least 1"},
		{[]string{"train", "--teacher", model}, 2, "rlt train: --teacher and --student are required: the models to train and to score with"},
		{[]string{"train", "--teacher", model, "--student", model, "--steps", "-2"}, 2, "rlt train: --steps -2: want at least 0"},
		{[]string{"score", "--teacher", model, "--student", model, "--write"}, 2, "rlt score: --write stores scores in a run folder: give it with --run"},
		{[]string{"score", "--teacher", model, "--student", model, "--again"}, 2, "rlt score: --again scores a run's traces anew: give the run with --run"},
		{[]string{"eval", "--student", model, "--questions", "-5"}, 2, "rlt eval: --questions -5: want at least 1"},
		{[]string{"export", "--run", run, "extra"}, 2, `rlt export: unexpected argument "extra": rlt export takes only flags`},
		{[]string{"export", run}, 2, fmt.Sprintf(`rlt export: --run is required (%q is an argument, which rlt export does not take: --run %s?)`, run, run)},
		{[]string{"sessions", "runs"}, 2, `rlt sessions: unexpected argument "runs": rlt sessions takes only flags (--runs runs?)`},
		{[]string{"sessions", run}, 2, fmt.Sprintf(`rlt sessions: unexpected argument %q: rlt sessions takes only flags (--runs %s, the folder that holds it?)`, run, filepath.Dir(run))},
		// The flag package's own complaints come after the usage too, in
		// the usage's --flag spelling, with the flag most likely meant.
		{[]string{"run", "--headles"}, 2, "rlt run: unknown flag --headles (did you mean --headless?)"},
		{[]string{"export", "--fromat", "csv"}, 2, "rlt export: unknown flag --fromat (did you mean --format?)"},
		{[]string{"report", "-o", "x", run}, 2, "rlt report: unknown flag --o (did you mean --out?)"},
		{[]string{"sessions", "--colour"}, 2, "rlt sessions: unknown flag --colour"},
		{[]string{"sessions", "--runs"}, 2, "rlt sessions: flag needs an argument: --runs"},
		{[]string{"train", "--steps", "x"}, 2, `rlt train: invalid value "x" for flag --steps: parse error`},
		{[]string{"model", "info"}, 2, "rlt model info: missing DIR"},
		{[]string{"model", "info", filepath.Join(run, "nothing")}, 1, "rlt model info: model folder " + filepath.Join(run, "nothing") + " does not exist"},
		{[]string{"model", "init", "--config", filepath.Join(run, "none.json"), "--out", filepath.Join(run, "m")}, 1, "rlt model init: --config " + filepath.Join(run, "none.json") + ": no such file"},
		{[]string{"run", "--resume", run, "--config", shape}, 2, "rlt run: --config with --resume: a resumed run keeps its own config.toml"},
		{[]string{"model", "init", "--config", shape, "--out", model}, 1, "already holds a model (config.json) that would be replaced"},
		{[]string{"model", "init", "--config", shape, "--out", run}, 1, "a run folder; writing there would mix with its records"},
		{[]string{"train", "--teacher", model, "--student", model, "--save", model}, 1, "already holds a model (config.json)"},
		{[]string{"distill", "--teacher", model, "--out", distilled, "--steps", "1"}, 1, "student already holds a model (model.safetensors) that would be replaced"},
		// A value --device or --matmul does not know is the call's mistake,
		// named by its flag in every command, in the words a configuration
		// says a flag's value in; the same value in a configuration file is
		// that file's, on its line, and names no flag.
		{[]string{"train", "--device", "tpu"}, 2, `rlt train: --device "tpu": want cpu, gpu, gpu:N or auto`},
		{[]string{"train", "--teacher", model, "--student", model, "--matmul", "f8"}, 2, `rlt train: --matmul "f8": want f32 or f16`},
		{[]string{"run", "--runs", runs, "--device", "tpu"}, 2, `rlt run: --device "tpu": want cpu, gpu, gpu:N or auto`},
		{[]string{"run", "--runs", runs, "--matmul", "f8"}, 2, `rlt run: --matmul "f8": want f32 or f16`},
		{[]string{"run", "--resume", run, "--device", "gpu:x"}, 2, `rlt run: --device "gpu:x": want gpu:N with N a Vulkan device's index`},
		{[]string{"run", "--runs", runs, "--config", badDevice}, 1, `rlt run: ` + badDevice + `:1:1: device "tpu": want cpu, gpu, gpu:N or auto (no run folder was created)`},
		{[]string{"train", "--teacher", model, "--student", model, "--config", badDevice}, 1, `rlt train: ` + badDevice + `:1:1: device "tpu": want cpu, gpu, gpu:N or auto`},
		{[]string{"open", "--runs", runs, "--device", "tpu", run}, 2, `rlt open: --device "tpu": want cpu, gpu, gpu:N or auto`},
		{[]string{"open", "--runs", runs, "--matmul", "f8", run}, 2, `rlt open: --matmul "f8": want f32 or f16`},
		{[]string{"generate", "--model", model, "--prompt", "x", "--device", "tpu"}, 2, `rlt generate: --device "tpu": want cpu, gpu, gpu:N or auto`},
		{[]string{"score", "--teacher", model, "--student", model, "--device", "tpu"}, 2, `rlt score: --device "tpu": want cpu, gpu, gpu:N or auto`},
		{[]string{"logprobs", "--model", model, "--device", "tpu"}, 2, `rlt logprobs: --device "tpu": want cpu, gpu, gpu:N or auto`},
		{[]string{"serve", "--model", model, "--device", "tpu"}, 2, `rlt serve: --device "tpu": want cpu, gpu, gpu:N or auto`},
		{[]string{"model", "info", model, "--device", "tpu"}, 2, `rlt model info: --device "tpu": want cpu, gpu, gpu:N or auto`},
		{[]string{"distill", "--teacher", model, "--out", t.TempDir(), "--device", "tpu"}, 2, `rlt distill: --device "tpu": want cpu, gpu, gpu:N or auto`},
		{[]string{"eval", "--student", model, "--device", "tpu"}, 2, `rlt eval: --device "tpu": want cpu, gpu, gpu:N or auto`},
		// Given empty (a script's unset variable) is no choice made; a
		// configuration's empty key is its default.
		{[]string{"train", "--device", ""}, 2, `rlt train: --device is empty: want cpu, gpu, gpu:N or auto (or leave --device out for its default)`},
		{[]string{"run", "--runs", runs, "--matmul", ""}, 2, `rlt run: --matmul is empty: want f32 or f16 (or leave --matmul out for its default)`},
		{[]string{"score", "--teacher", model, "--student", model, "--device", ""}, 2, `rlt score: --device is empty: want cpu, gpu, gpu:N or auto`},
	} {
		code, _, errs := runCLI(t, "", c.args...)
		if last := wrongCallLine(errs); code != c.code || !strings.Contains(last, c.last) {
			t.Errorf("rlt %v: exit %d, last line %q; want exit %d and %q", c.args, code, last, c.code, c.last)
		}
	}
	if now, _ := os.ReadFile(filepath.Join(model, "model.safetensors")); !bytes.Equal(now, weights) {
		t.Error("a refused call changed the model's weights")
	}
	if entries, _ := os.ReadDir(runs); len(entries) > 0 {
		t.Errorf("a refused call made run folders in %s: %v", runs, entries)
	}
	// Flags may follow the arguments.
	if code, out, errs := runCLI(t, "", "model", "info", model, "--device", "cpu"); code != 0 || !strings.Contains(out, "2 layers, hidden 32") {
		t.Errorf("model info DIR --device cpu: exit %d: %s%s", code, out, errs)
	}
	// A device asked for that is not there: the model is described all
	// the same, the device line says why, and the exit status is 1, as
	// rlt run's for the same --device.
	if code, out, errs := runCLI(t, "", "model", "info", model, "--device", "gpu:99"); code != 1 || !strings.Contains(out, "2 layers, hidden 32") ||
		!strings.Contains(out, "device      unavailable: ") || !strings.Contains(errs, "rlt model info: device gpu:99: ") {
		t.Errorf("model info DIR --device gpu:99: exit %d: %s%s", code, out, errs)
	}
	if code, out, errs := runCLI(t, "", "model", "init", "--help"); code != 0 || !strings.Contains(out+errs, "Usage: rlt model init") {
		t.Errorf("--help: exit %d, output %q; want 0 and the usage", code, out+errs)
	}
}

// TestHelpAsksOnStdout: every way of asking for a command's help (-h,
// --help, rlt help CMD, a subcommand's too) prints its usage on stdout
// alone, exit 0, as TestUsageTexts wants of --help: 4a37370 said so of -h
// and rlt help CMD, which no test called.
func TestHelpAsksOnStdout(t *testing.T) {
	for _, args := range [][]string{
		{"eval", "-h"}, {"help", "eval"}, {"model", "init", "-h"}, {"help", "model", "info"}, {"score", "-help"},
	} {
		code, out, errs := runCLI(t, "", args...)
		if code != 0 || errs != "" || !strings.HasPrefix(out, "Usage: rlt ") {
			first, _, _ := strings.Cut(errs, "\n")
			t.Errorf("rlt %s: exit %d, stdout %d bytes, stderr %d bytes (%q…): want 0 and the usage on stdout alone", strings.Join(args, " "), code, len(out), len(errs), first)
		}
	}
}

// Every command's --help is its usage, exit 0, and states today's
// behaviour: the facts a new user acts on, checked against what the code
// does (the states rlt sessions can list, when rlt run --resume --steps N
// records N, what --questions counts with --data). Its prose is wrapped to
// 80 columns, as a terminal shows it; examples and indented lists may be
// wider, being copied, not read.
func TestUsageTexts(t *testing.T) {
	checkout := sourceCheckout(t)
	for _, c := range []struct {
		args []string
		want []string // in the usage, each
	}{
		{[]string{"run"}, []string{"Usage: rlt [--runs DIR]", "records N as the run's plan in its config.toml, once the resumed engine\nis loaded and runs",
			"GRPO steps (default: the configuration's, with --resume the run's plan"}},
		{[]string{"open"}, []string{"Usage: rlt open"}},
		{[]string{"sessions"}, []string{"Usage: rlt sessions", string(sessions.StateRunning), string(sessions.StatePaused), string(sessions.StateResuming),
			string(sessions.StateFinished), string(sessions.StateStopped), string(sessions.StateFailed), string(sessions.StateBroken), string(sessions.StateUnknown)}},
		{[]string{"report"}, []string{"Usage: rlt report", "rlt report runs/20261125-034115 runs/official --out report"}},
		{[]string{"export"}, []string{"Usage: rlt export"}},
		{[]string{"import"}, []string{"Usage: rlt import"}},
		{[]string{"model"}, []string{"Usage: rlt model <defaults|init|info>", "rlt model defaults --out /tmp/defaults"}},
		{[]string{"model", "defaults"}, []string{"Usage: rlt model defaults --out DIR", "rlt pretrain --out DIR --seed 1 makes"}},
		{[]string{"model", "init"}, []string{"Usage: rlt model init", "--config /tmp/defaults/student/config.json --out /tmp/tiny-bf16"}},
		{[]string{"model", "info"}, []string{"Usage: rlt model info"}},
		{[]string{"tokenize"}, []string{"Usage: rlt tokenize", "--tokenizer /tmp/defaults/teacher/tokenizer.json"}},
		{[]string{"generate"}, []string{"Usage: rlt generate", "--model /tmp/defaults/student --system", "--model /tmp/trained --prompt"}},
		{[]string{"pretrain"}, []string{"Usage: rlt pretrain", "task of the warm-start corpus: addition or linear"}},
		{[]string{"distill"}, []string{"Usage: rlt distill", "questions to explain (with --data: the first N usable rows, all of them when not given)",
			"--teacher /tmp/trained --out /tmp/distilled ", "--out /tmp/distilled-data"}},
		{[]string{"eval"}, []string{"Usage: rlt eval", "held-out questions (with --data: the first N usable rows, all of them when not given)",
			"--teacher /tmp/trained --student /tmp/distilled/student"}},
		{[]string{"train"}, []string{"Usage: rlt train", "in the file's order, then keys it does not set, then the\nvalues flags give",
			"rlt model defaults --out /tmp/defaults", "--student /tmp/defaults/student --steps 50 --save /tmp/trained"}},
		{[]string{"score"}, []string{"Usage: rlt score", "--teacher /tmp/trained --student /tmp/defaults/student --run runs/official",
			"--tokenizer /tmp/defaults/student", "how the models hold their matrices"}},
		{[]string{"serve"}, []string{"Usage: rlt serve", "--model /tmp/trained --listen", "--model /tmp/defaults/student --listen",
			"how the model holds its matrices"}},
		{[]string{"logprobs"}, []string{"Usage: rlt logprobs", "--model /tmp/defaults/teacher", "how the model holds its matrices"}},
		{[]string{"version"}, []string{"Usage: rlt version", "go build -buildvcs=true in a git clone"}},
	} {
		code, out, errs := runCLI(t, "", append(c.args, "--help")...)
		usage := out + errs
		if code != 0 {
			t.Errorf("rlt %v --help: exit %d", c.args, code)
		}
		// The usage asked for is the answer, on stdout (rlt eval --help |
		// less showed nothing: it was on stderr, where rlt --help's and
		// rlt model --help's were not); a wrong call's goes to stderr,
		// above what was wrong, and writes nothing on stdout.
		if errs != "" || !strings.HasPrefix(out, "Usage: rlt ") {
			first, _, _ := strings.Cut(errs, "\n")
			t.Errorf("rlt %v --help: stdout %d bytes, stderr %d bytes (%q…): want the usage on stdout alone", c.args, len(out), len(errs), first)
		}
		if c.args[len(c.args)-1] != "model" {
			code, out, errs := runCLI(t, "", append(c.args, "--no-such-flag")...)
			if code != 2 || out != "" || !strings.HasPrefix(errs, "Usage: rlt ") || !strings.Contains(errs, "unknown flag --no-such-flag") {
				t.Errorf("rlt %v --no-such-flag: exit %d, stdout %q, stderr %q: want 2, the usage and the error on stderr alone", c.args, code, out, errs)
			}
		}
		for _, w := range c.want {
			if !strings.Contains(usage, w) {
				t.Errorf("rlt %v --help lacks %q:\n%s", c.args, w, usage)
			}
		}
		// A source folder is the developers' word, not the user's: serve's
		// --device said "or auto (engine/device)".
		if w := sourceWord(usage, checkout); w != "" {
			t.Errorf("rlt %v --help names the source %s", c.args, w)
		}
		prose, _, _ := strings.Cut(usage, "\nFlags:\n")
		for _, line := range strings.Split(prose, "\n") {
			if utf8.RuneCountInString(line) > 80 && !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "Usage:") {
				t.Errorf("rlt %v --help: a line of %d columns: %q", c.args, utf8.RuneCountInString(line), line)
			}
		}
		// rlt help COMMAND is the command's own help, word for word.
		if code, out, errs := runCLI(t, "", append([]string{"help"}, c.args...)...); code != 0 || out+errs != usage {
			t.Errorf("rlt help %v: exit %d, not the same as rlt %v --help:\n%s%s", c.args, code, c.args, out, errs)
		}
	}
}

// TestUsageExamplesReadWhatExamplesWrite: every model folder or model file
// an example in the --help texts reads, and the run rlt score --run scores,
// is one an example writes (rlt pretrain --out DIR writes DIR/teacher and DIR/student, rlt
// train --save, rlt distill --out DIR/student, rlt import --out, rlt model
// init --out), so a user who follows them has each path; and no two
// different examples write the same folder, which the second would refuse.
// They used to read runs/teacher and runs/x/teacher, which nothing makes.
// Placeholders (T, RUNDIR), URLs and the user's own data files are not
// paths an example could write.
func TestUsageExamplesReadWhatExamplesWrite(t *testing.T) {
	var lines []string
	for _, args := range [][]string{{"run"}, {"open"}, {"sessions"}, {"report"}, {"export"}, {"import"}, {"model"},
		{"model", "defaults"}, {"model", "init"}, {"model", "info"}, {"tokenize"}, {"generate"}, {"pretrain"}, {"distill"}, {"eval"},
		{"train"}, {"score"}, {"serve"}, {"logprobs"}} {
		_, out, errs := runCLI(t, "", append(args, "--help")...)
		for _, l := range strings.Split(out+errs, "\n") {
			// An example is indented, and starts with rlt or pipes into it.
			ex := strings.TrimSpace(l)
			if i := strings.Index(ex, "| rlt "); i >= 0 {
				ex = ex[i+2:]
			}
			if !strings.HasPrefix(l, "  ") || !strings.HasPrefix(ex, "rlt ") || strings.Contains(ex, "[") {
				continue // not an example, or a usage line's synopsis ([flags])
			}
			ex, _, _ = strings.Cut(ex, "#")
			if f := strings.Fields(ex); len(f) > 2 {
				lines = append(lines, strings.TrimSpace(ex))
			}
		}
	}
	if len(lines) < 20 {
		t.Fatalf("found %d examples: %q", len(lines), lines)
	}
	written := map[string]string{} // path → the example that writes it
	write := func(path, ex string) {
		if by, ok := written[path]; ok && by != ex {
			t.Errorf("%s is written by two examples:\n  %s\n  %s", path, by, ex)
		}
		written[path] = ex
	}
	type read struct{ path, ex string }
	var reads []read
	for _, ex := range lines {
		f := strings.Fields(ex)
		flag := func(name string) string {
			for i := range f[:len(f)-1] {
				if f[i] == name {
					return f[i+1]
				}
			}
			return ""
		}
		switch {
		case f[1] == "pretrain":
			out := flag("--out")
			for _, m := range []string{"teacher", "student"} {
				for _, p := range []string{out + "/" + m, out + "/" + m + "/config.json", out + "/" + m + "/tokenizer.json"} {
					write(p, ex)
				}
			}
		case f[1] == "train" && flag("--save") != "":
			write(flag("--save"), ex)
		case f[1] == "distill":
			write(flag("--out")+"/student", ex)
		case f[1] == "import" && flag("--out") != "":
			write(flag("--out"), ex)
		case f[1] == "model" && f[2] == "init":
			write(flag("--out"), ex)
			reads = append(reads, read{flag("--config"), ex})
		case f[1] == "model" && f[2] == "info":
			reads = append(reads, read{f[3], ex})
		}
		for _, name := range []string{"--teacher", "--student", "--model", "--tokenizer", "--student-init", "--tokenizer-from"} {
			if p := flag(name); p != "" && f[1] != "model" {
				reads = append(reads, read{p, ex})
			}
		}
		if f[1] == "score" && flag("--run") != "" && flag("--run") != "RUNDIR" {
			reads = append(reads, read{flag("--run"), ex})
		}
	}
	for _, r := range reads {
		placeholder := r.path == strings.ToUpper(r.path) // T, S, DIR, RUNDIR
		if placeholder || strings.Contains(r.path, "://") {
			continue
		}
		if _, ok := written[r.path]; !ok {
			t.Errorf("%s reads %s, which no example writes", r.ex, r.path)
		}
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
	if len(lines) != 4 || !strings.Contains(lines[1], `"line":2`) || !strings.Contains(lines[3], `"line":4`) {
		t.Fatalf("tokenize output:\n%s", out)
	}
	var rec struct {
		IDs    []int32  `json:"ids"`
		Tokens []string `json:"tokens"`
	}
	if err := json.Unmarshal([]byte(lines[2]), &rec); err != nil || len(rec.IDs) == 0 || rec.Tokens[0] != "<|im_start|>" {
		t.Fatalf("third record %s: %v", lines[2], err)
	}

	// A file saved with a byte-order mark reads its first line; a line
	// that is not UTF-8 (a Latin-1 é) fails, naming the byte, instead of
	// tokenizing U+FFFD in its place.
	code, out, _ = runCLI(t, "\xef\xbb\xbf{\"text\": \"caf\"}\n{\"text\": \"caf\xe9\"}\n", "tokenize", "--tokenizer", dir)
	lines = strings.Split(strings.TrimSpace(out), "\n")
	if code != 1 || len(lines) != 2 || !strings.Contains(lines[0], `"ids"`) ||
		!strings.Contains(lines[1], `"line":2`) || !strings.Contains(lines[1], "not UTF-8: byte 14 of the row, 0xe9") {
		t.Errorf("tokenize of a byte-order mark and a Latin-1 line: exit %d:\n%s", code, out)
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
	stats := filepath.Join(t.TempDir(), "stats.txt")
	code, out, errs := runCLI(t, in, "score", "--teacher", teacher, "--student", student, "--batch", "2", "--stats", stats)
	if code != 1 {
		t.Errorf("exit %d, want 1 for the empty solution", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("output:\n%s", out)
	}
	// Progress after a batch of 2, the first's and the last's (at most one
	// per 5 s between): done so far, input lines, rate.
	if !regexp.MustCompile(`(?m)^2 traces done \(input lines 1–2\) · [0-9.]+ traces/s\n3 traces done \(input lines 1–3\)`).MatchString(errs) {
		t.Errorf("no progress lines in stderr:\n%s", errs)
	}
	// --stats: a summary line (also on stderr), then each scored item's
	// sequence lengths, which add up to the summary's tokens.
	sb, err := os.ReadFile(stats)
	if err != nil {
		t.Fatal(err)
	}
	sl := strings.Split(strings.TrimSpace(string(sb)), "\n")
	m := regexp.MustCompile(`^scored 2 items \(1 failed\): (\d+) teacher \+ (\d+) student tokens in [0-9.]+ s \(load [0-9.]+ s\), \d+ tokens/s$`).FindStringSubmatch(sl[0])
	if len(sl) != 3 || m == nil || !strings.Contains(errs, sl[0]) {
		t.Fatalf("stats file:\n%s\nstderr:\n%s", sb, errs)
	}
	for i, key := range []string{"teacher_lens=", "student_lens="} {
		sum := 0
		fields := strings.Split(strings.TrimPrefix(sl[i+1], key), ",")
		for _, f := range fields {
			n, err := strconv.Atoi(f)
			if err != nil || n < 5 {
				t.Fatalf("%s: length %q", sl[i+1], f)
			}
			sum += n
		}
		if !strings.HasPrefix(sl[i+1], key) || len(fields) != 2 || strconv.Itoa(sum) != m[i+1] {
			t.Errorf("%s: want 2 lengths adding up to %s", sl[i+1], m[i+1])
		}
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
	// A student whose embedding table is padded differently (more rows
	// past the same tokenizer's tokens) is scored.
	padded := tinyFolderRows(t, "f32", 1232)
	if code, out, errs := runCLI(t, in, "score", "--teacher", teacher, "--student", padded); code != 1 || strings.Count(out, `"reward"`) != 2 {
		t.Errorf("differently padded student: exit %d (want 1 for the empty solution), %s\n%s", code, out, errs)
	}
	// A student whose tokenizer differs in one token is refused, naming it.
	other := tinyFolder(t, "f32")
	tj, err := os.ReadFile(filepath.Join(other, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(other, "tokenizer.json"), bytes.ReplaceAll(tj, []byte("<|im_end|>"), []byte("<|im_stop|>")), 0o644)
	if code, _, errs := runCLI(t, in, "score", "--teacher", teacher, "--student", other); code != 1 ||
		!regexp.MustCompile(`different tokenizers: token \d+ is "<\|im_end\|>" for the teacher and "<\|im_stop\|>" for the student`).MatchString(errs) {
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
	// A value no run could use is said, with its flag, instead of printed.
	code, out2, errs := runCLI(t, "", "train", "--teacher", filepath.Join(dir, "teacher"), "--student", filepath.Join(dir, "student"), "--task", "nope", "--print-config")
	if code == 0 || out2 != "" || !strings.Contains(errs, "--task") {
		t.Errorf("print-config of --task nope: exit %d, printed %q: %s", code, out2, errs)
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

// rlt generate --chat refuses a model whose template is not ChatML, naming
// the file and saying what to do: it said "only ChatML is supported" alone.
func TestGenerateChatNeedsChatML(t *testing.T) {
	dir := tinyFolder(t, "f32")
	cfg := filepath.Join(dir, "tokenizer_config.json")
	os.WriteFile(cfg, []byte(`{"chat_template": "{% for m in messages %}[INST] {{ m.content }} [/INST]{% endfor %}"}`), 0o644)
	code, _, errs := runCLI(t, "", "generate", "--model", dir, "--prompt", "hi", "--chat", "--max-new-tokens", "2")
	want := "rlt generate: --chat: tokenizer: " + cfg + ": chat_template: the chat template is not ChatML (it never writes <|im_start|>); only ChatML is supported; " +
		"--chat writes --prompt as a ChatML turn (<|im_start|>user … <|im_end|>): drop --chat, and give --prompt as plain text or as a turn written out in the model's own chat format\n"
	if code != 1 || errs != want {
		t.Errorf("a non-ChatML template with --chat: exit %d, %q\nwant exit 1, %q", code, errs, want)
	}
	if code, _, errs := runCLI(t, "", "generate", "--model", dir, "--prompt", "hi", "--max-new-tokens", "2"); code != 0 {
		t.Errorf("plain text generation refused: %s", errs)
	}
	// A chat_template.jinja, which transformers reads before
	// tokenizer_config.json's chat_template, alone in the folder: taken for
	// ChatML's by the tokenizer's <|im_start|>, whatever it held.
	os.Remove(cfg)
	jinja := filepath.Join(dir, "chat_template.jinja")
	os.WriteFile(jinja, []byte("{% for m in messages %}<|start_header_id|>{{ m.role }}<|end_header_id|>{{ m.content }}<|eot_id|>{% endfor %}"), 0o644)
	code, _, errs = runCLI(t, "", "generate", "--model", dir, "--prompt", "hi", "--chat", "--max-new-tokens", "2")
	want = "rlt generate: --chat: tokenizer: " + jinja + ": the chat template is not ChatML (it never writes <|im_start|>); only ChatML is supported; " +
		"--chat writes --prompt as a ChatML turn (<|im_start|>user … <|im_end|>): drop --chat, and give --prompt as plain text or as a turn written out in the model's own chat format\n"
	if code != 1 || errs != want {
		t.Errorf("a chat_template.jinja not ChatML with --chat: exit %d, %q\nwant exit 1, %q", code, errs, want)
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
	if code != 0 || !regexp.MustCompile(`DEVICE\n.*finished .* cpu/`).MatchString(out) {
		t.Fatalf("sessions: exit %d, want the run finished on the CPU: %s%s", code, out, errs)
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
	if code != 0 || !regexp.MustCompile(`finished\s+2/2\s`).MatchString(out) {
		t.Errorf("after resuming to 2 steps, want 2 steps done of the 2 now planned: %s", out)
	}
	// Resuming with no more steps than done says so and runs nothing.
	code, _, errs = runCLI(t, "", "run", "--resume", runDir, "--steps", "1", "--headless")
	// Its way on in words: "N > 2" pasted into a shell (cmd.exe, sh) was a
	// redirect, as sessions.ResumeCommand's line was.
	if code != 0 || !strings.Contains(errs, "has done 2 steps") || !strings.Contains(errs, "nothing to run; to continue it, pass --steps N with N more than 2, the steps it has done\n") ||
		strings.Contains(errs, ">") || strings.Contains(errs, "reward") {
		t.Errorf("resume to fewer steps: exit %d: %s", code, errs)
	}
	// Nothing was reviewed, so an export writes no row, says why and fails.
	code, out, errs = runCLI(t, "", "export", "--run", runDir)
	if code != 1 || out != "" || !regexp.MustCompile(`0 written; left out: \d+ unreviewed`).MatchString(errs) ||
		!strings.Contains(errs, "nothing to export from "+runDir+": no trace is accepted in review") {
		t.Errorf("export: exit %d, %q, %s", code, out, errs)
	}
}

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

// `rlt run --headless 2>&1 | head -1`: the reader of the progress pipe
// quits after the first line. rlt is not killed by SIGPIPE: it stops after
// the step in progress with its final checkpoint, and the run folder is
// complete (whole records, each step once, a usable checkpoint of the last
// step, no lock held) and resumable.
func TestHeadlessPipeClosed(t *testing.T) {
	p := newBinaryRun(t, smallRun)
	bin, cfgPath, env := p.bin, p.config, p.env
	runs := filepath.Join(p.dir, "runs")
	cmd := exec.Command(bin, "run", "--headless", "--steps", "40", "--runs", runs, "--config", cfgPath)
	cmd.Env = env
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw // 2>&1
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	first, err := bufio.NewReader(pr).ReadString('\n')
	pr.Close() // head -1 has its line and exits
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("first line: %v", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case <-waited:
	case <-time.After(120 * time.Second):
		cmd.Process.Kill()
		t.Fatal("rlt did not stop after its progress pipe closed")
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		t.Fatalf("rlt was killed by %v (first line %q)", ws.Signal(), first)
	}
	if ws.ExitStatus() != 1 {
		t.Errorf("exit status %d, want 1 (stopped before its 40 steps)", ws.ExitStatus())
	}
	runDir, _, ok := strings.Cut(strings.TrimPrefix(first, "run folder "), " (teacher")
	if !strings.HasPrefix(first, "run folder ") || !ok {
		t.Fatalf("first line %q", first)
	}
	checkComplete := func(wantSteps int) {
		t.Helper()
		ro, err := sessions.OpenReadOnly(runDir)
		if err != nil {
			t.Fatal(err)
		}
		defer ro.Close()
		if is := ro.Store().Issues(); len(is) != 0 {
			t.Errorf("issues in the run folder: %v", is)
		}
		ms, _ := ro.Store().MetricsSince(0)
		for i, m := range ms {
			if m.Step != i {
				t.Fatalf("metric steps are not 0, 1, 2 … each once: record %d is step %d", i, m.Step)
			}
		}
		if wantSteps > 0 && len(ms) != wantSteps || len(ms) == 0 || len(ms) >= 40 {
			t.Fatalf("%d steps recorded (want %d)", len(ms), wantSteps)
		}
		ck, _, err := sessions.LatestCheckpoint(runDir)
		if err != nil || ck.Step != len(ms)-1 {
			t.Errorf("latest checkpoint %d (%v), want the last step %d", ck.Step, err, len(ms)-1)
		}
		list, err := sessions.List(runs)
		if err != nil || len(list) != 1 || list[0].State == sessions.StateRunning || list[0].State == sessions.StateBroken {
			t.Errorf("rlt sessions: %+v %v", list, err)
		}
	}
	checkComplete(0)
	ms := func() int {
		ro, _ := sessions.OpenReadOnly(runDir)
		defer ro.Close()
		m, _, _ := ro.Store().Counts()
		return m
	}()
	// Resumable: two more steps, from another directory.
	resume := exec.Command(bin, "run", "--resume", runDir, "--steps", strconv.Itoa(ms+2), "--headless")
	resume.Env, resume.Dir = env, t.TempDir()
	if out, err := resume.CombinedOutput(); err != nil || !strings.Contains(string(out), "resuming") {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	checkComplete(ms + 2)
}

// Runs record absolute model and data paths, headless and from the Runs
// screen, so that `rlt run --resume` works from another directory.
// TestRunConfigSteps: a run configuration's steps stand when --steps is not
// given (they were overridden by 0, "until interrupted", and the run never
// ended), and --steps overrides them.
func TestRunConfigSteps(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	cfgPath := filepath.Join(t.TempDir(), "two.toml")
	os.WriteFile(cfgPath, []byte("steps = 2\n"+smallRun), 0o644)
	for _, c := range []struct {
		args []string
		want int
	}{{nil, 2}, {[]string{"--steps", "1"}, 1}} {
		runs := t.TempDir()
		args := append([]string{"run", "--headless", "--runs", runs, "--config", cfgPath}, c.args...)
		code, out, errs := runCLI(t, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, code, errs)
		}
		if n := strings.Count(out+errs, "reward "); n != c.want {
			t.Errorf("%v: %d steps reported, want %d:\n%s%s", c.args, n, c.want, out, errs)
		}
	}
}

func TestWorkbenchAbsolutePaths(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	const teacher, student = "engine/defaults/models/teacher", "engine/defaults/models/student"
	cfgPath := filepath.Join(t.TempDir(), "rel.toml")
	os.WriteFile(cfgPath, []byte("teacher = '"+teacher+"'\nstudent = '"+student+"'\n"+smallRun), 0o644)
	runs := t.TempDir()
	if code, _, errs := runCLI(t, "", "run", "--headless", "--steps", "1", "--runs", runs, "--config", cfgPath); code != 0 {
		t.Fatalf("run: exit %d: %s", code, errs)
	}
	entries, _ := os.ReadDir(runs)
	if len(entries) != 1 {
		t.Fatalf("%d run folders", len(entries))
	}
	runDir := filepath.Join(runs, entries[0].Name())
	recorded := func(dir string) runconfig.Config {
		t.Helper()
		var c runconfig.Config
		data, err := os.ReadFile(filepath.Join(dir, sessions.ConfigFile))
		if err != nil {
			t.Fatal(err)
		}
		if err := sessions.DecodeStrict(sessions.ConfigFile, data, &c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := recorded(runDir); c.Teacher != filepath.Join(wd, teacher) || c.Student != filepath.Join(wd, student) {
		t.Errorf("recorded teacher %q, student %q: want absolute paths", c.Teacher, c.Student)
	}
	// From the Runs screen: the launcher's Start.
	l := runner.NewLauncher(context.Background(), runs, filepath.Join(wd, "engine/defaults/models"))
	text, err := l.NewConfig()
	if err != nil {
		t.Fatal(err)
	}
	small := strings.NewReplacer("steps = 0", "steps = 1", "eval_every = 10", "eval_every = 0", "questions = 8", "questions = 2",
		"samples = 8", "samples = 2", "max_new_tokens = 96", "max_new_tokens = 8").Replace(string(text))
	text = []byte("teacher = '" + teacher + "'\nstudent = '" + student + "'\n" + small[strings.Index(small, "task ="):])
	s, err := l.Start(text)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if c := recorded(s.Run.Dir()); c.Teacher != filepath.Join(wd, teacher) || c.Student != filepath.Join(wd, student) {
		t.Errorf("Start recorded teacher %q, student %q: want absolute paths", c.Teacher, c.Student)
	}
	// Resumed from elsewhere.
	t.Chdir(t.TempDir())
	if code, _, errs := runCLI(t, "", "run", "--resume", runDir, "--steps", "2", "--headless"); code != 0 || !strings.Contains(errs, "step 1  reward") {
		t.Fatalf("resume from another directory: exit %d: %s", code, errs)
	}
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
	l := runner.NewLauncher(context.Background(), runs, models)
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
	// The bounds are hang guards, past which the test fails saying what
	// never showed: a minute, as a loaded machine (CI's two busy cores)
	// could take longer than the 5 or 10 s they were.
	waitFor("Runs · 0 in", time.Minute)
	send("n")
	waitFor("New run · default configuration", time.Minute)
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
	waitFor(fmt.Sprintf("line %d: steps", stepsLine), time.Minute)
	send(backspace, backspace, "1", ctrlS)
	waitFor("step 1/1", 120*time.Second)
	waitFor("finished", 60*time.Second)
	send("q")
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the workbench did not quit")
	}
	dirs := l.Written()
	if len(dirs) != 1 {
		t.Fatalf("runs written: %v", dirs)
	}
	var cfg runconfig.Config
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
		code int // 2: a wrong call
		want string
	}{
		{[]string{"--task", "linear"}, 2, "--data and --task are alternatives"},
		{[]string{"--student-init", other}, 1, "different tokenizers"},
	} {
		args := append([]string{"distill", "--teacher", teacher, "--data", data, "--out", t.TempDir()}, append(small, tc.args...)...)
		if code, _, errs := runCLI(t, "", args...); code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("rlt distill %v: exit %d, %s; want exit %d and %q", tc.args, code, errs, tc.code, tc.want)
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
	first, rest, _ := strings.Cut(errs, "\n") // the data's report alone, checked before the device opens, then which device computes
	if want := "warning: data " + evalF + ": skipped 1 of 8 rows: line 8: missing field \"solution\""; first != want || !strings.HasPrefix(rest, "rlt eval: computing on ") || strings.Count(rest, "\n") != 1 {
		t.Errorf("stderr %q, want %q, then the device line", errs, want)
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
	wantKeys(t, "summary", sum, "accuracy", "verified_rate", "leak_rate", "questions", "data", "skipped")
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
	if verifiable != 35 || sum["accuracy"] != correct/36 || sum["verified_rate"] != verified/35 || sum["leak_rate"] != leaked/35 {
		t.Errorf("summary %v: the samples have %v correct of 36, %v verified and %v leaked of %v with a verifier", sum, correct, verified, leaked, verifiable)
	}

	code, out, errs = runCLI(t, "", "eval", "--teacher", teacher, "--student", student, "--data", data, "--max-new-tokens", "8", "--questions", "2")
	if recs := jsonLines(t, out); code != 0 || len(recs) != 1 || recs[0]["questions"] != 2.0 {
		t.Errorf("--questions 2: exit %d: %s%s", code, out, errs)
	}
}

// `rlt eval --samples` on a task: one line per question in both modes, and
// the summary line keeps the keys scripts parse (no data keys), one schema
// in both modes: the teacher's adds leak_rate.
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
	wantKeys(t, "teacher summary", recs[2], "accuracy", "verified_rate", "leak_rate", "questions")

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
		code int // 2: a wrong call
		want []string
	}{
		{[]string{"--data", evalF, "--task", "linear"}, 2, []string{"--data and --task are alternatives"}},
		{[]string{"--data", evalF, "--task", "addition"}, 2, []string{"--data and --task are alternatives"}},
		{[]string{"--data", "/nonexistent/eval.jsonl"}, 1, []string{"/nonexistent/eval.jsonl"}},
		{[]string{"--data", evalF, "--max-new-tokens", "250"}, 1, []string{"data " + evalF + ": no row fits the models", "line 1: too long", "line 8: missing field"}},
		{[]string{"--data", evalF, "--teacher", other}, 1, []string{"different tokenizers"}},
	} {
		args := append([]string{"eval", "--student", student}, tc.args...)
		code, out, errs := runCLI(t, "", args...)
		if code != tc.code || out != "" {
			t.Errorf("rlt eval %v: exit %d, stdout %q; want exit %d and nothing", tc.args, code, out, tc.code)
		}
		for _, want := range tc.want {
			if !strings.Contains(errs, want) {
				t.Errorf("rlt eval %v: stderr lacks %q: %s", tc.args, want, errs)
			}
		}
	}
}

// A NaN planted in the newest checkpoint (issue 15's hostile user): the
// resume passes over it, says so and what to delete, and continues from
// the previous checkpoint.
func TestResumeSkipsDamagedCheckpoint(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	runs, conf := t.TempDir(), filepath.Join(t.TempDir(), "small.toml")
	os.WriteFile(conf, []byte(smallRun), 0o644)
	if code, _, errs := runCLI(t, "", "run", "--headless", "--steps", "3", "--runs", runs, "--config", conf); code != 0 {
		t.Fatalf("run: exit %d: %s", code, errs)
	}
	entries, _ := os.ReadDir(runs)
	runDir := filepath.Join(runs, entries[0].Name())
	p := filepath.Join(runDir, "checkpoints", "step-000002", "optimizer.safetensors")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	start := 8 + int(binary.LittleEndian.Uint64(data))
	binary.LittleEndian.PutUint32(data[start:], 0x7fc00000)
	os.WriteFile(p, data, 0o644)
	code, _, errs := runCLI(t, "", "run", "--resume", runDir, "--steps", "4", "--headless")
	if code != 0 || !strings.Contains(errs, "skipped checkpoint of step 2") || !strings.Contains(errs, "optimizer.safetensors has SHA-256") ||
		!strings.Contains(errs, "step 2  reward") || !strings.Contains(errs, "step 3  reward") {
		t.Fatalf("resume: exit %d: %s", code, errs)
	}
}

// rlt run --config and rlt train --config say each problem of the file at
// the line of its key, in the file's order, as the workbench's editor
// shows them; a problem with a key a flag set names the flag, with a file
// or without one.
func TestConfigFileProblemsNameTheirLines(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	// dir is given as both models: the configuration's problems are said
	// before any model loads.
	hftest.StubFolder(t, dir)
	conf := filepath.Join(dir, "bad.toml")
	// Validate reports the top level, then [reward], then [grpo].
	text := "task = 'addition'\neval_every = -1\n\n[grpo]\ntemperature = 0.0\nsamples = 1\n\n[reward]\nestimator = 'l2'\n"
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	noTask := filepath.Join(dir, "notask.toml")
	if err := os.WriteFile(noTask, []byte("[grpo]\nsamples = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Unknown keys and mistyped values are said with the values out of
	// range, in the file's order, not first and alone.
	mixed := filepath.Join(dir, "mixed.toml")
	if err := os.WriteFile(mixed, []byte("steps = -1\nseedx = 1\n[grpo]\nlr = 'fast'\nbeta = -1.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inMixed := []string{
		mixed + ":1:1: steps -1 must not be negative",
		mixed + `:2:1: unknown key "seedx" at top level`,
		mixed + `:4:6: key "grpo.lr": wrong type: got TOML string, want float`,
		mixed + ":5:1: grpo.beta -1 must be a finite number, not negative",
	}
	// A model folder that is not there is the file's problem, on its
	// line, before any run folder is made (it was the run's failure once
	// the models loaded) or any configuration printed.
	noModel := filepath.Join(dir, "nomodel.toml")
	if err := os.WriteFile(noModel, []byte("steps = 1\nteacher = '/nonexistent/teacher'\nstudent = '"+dir+"'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	misspelt := filepath.Join(dir, "misspelt.toml")
	if err := os.WriteFile(misspelt, []byte("teachr = 'models/teacher'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inFile := []string{
		conf + ":2:1: eval_every -1 must not be negative",
		conf + ":5:1: grpo.temperature 0 must be a finite positive number",
		conf + ":6:1: grpo.samples 1 per question gives no group to compare with",
		conf + `:9:1: reward.estimator "l2"`,
	}
	for _, c := range []struct {
		name string
		args []string
		want []string // in this order
	}{
		{"run", []string{"run", "--headless", "--runs", filepath.Join(dir, "runs"), "--config", conf}, inFile},
		{"train", []string{"train", "--teacher", dir, "--student", dir, "--config", conf}, inFile},
		{"train with a flag's task", []string{"train", "--teacher", dir, "--student", dir, "--task", "division", "--config", conf},
			append(inFile, `--task: unknown task "division"`)},
		// The flag's key is not in this file: the flag is named all the same.
		{"train with a flag's task the file lacks", []string{"train", "--teacher", dir, "--student", dir, "--task", "division", "--config", noTask},
			[]string{noTask + ":2:1: grpo.samples 1 per question", `--task: unknown task "division"`}},
		{"run with unknown, mistyped and out-of-range keys", []string{"run", "--headless", "--runs", filepath.Join(dir, "runs"), "--config", mixed},
			append(inMixed, "\n(no run folder was created)")},
		{"train with unknown, mistyped and out-of-range keys", []string{"train", "--teacher", dir, "--student", dir, "--config", mixed}, inMixed},
		{"print-config with unknown, mistyped and out-of-range keys", []string{"train", "--teacher", dir, "--student", dir, "--config", mixed, "--print-config"}, inMixed},
		// The file meant to name the teacher: its unknown key is said, not
		// that the flags are missing.
		{"train with a misspelt teacher key and no flags", []string{"train", "--config", misspelt},
			[]string{misspelt + `:1:1: unknown key "teachr" at top level`, misspelt + `: teacher (default '', not set in this file): teacher is empty`}},
		{"run with a model folder that is not there", []string{"run", "--headless", "--runs", filepath.Join(dir, "runs"), "--config", noModel},
			[]string{noModel + ":2:1: teacher: model folder /nonexistent/teacher does not exist", "(no run folder was created)"}},
		{"print-config with a model folder that is not there", []string{"train", "--config", noModel, "--print-config"},
			[]string{noModel + ":2:1: teacher: model folder /nonexistent/teacher does not exist"}},
		{"train with a flag's task and no file", []string{"train", "--teacher", dir, "--student", dir, "--task", "division"},
			[]string{`rlt train: --task: unknown task "division"`}},
		{"train with a flag's eval data and no file", []string{"train", "--teacher", dir, "--student", dir, "--eval-data", conf},
			[]string{`rlt train: --eval-data "` + conf + `" without data`}},
		// The flag stands where the words name the key: "data" is not said twice.
		{"train with a flag's data file that is not there", []string{"train", "--teacher", dir, "--student", dir, "--data", filepath.Join(dir, "missing.jsonl")},
			[]string{`rlt train: --data ` + filepath.Join(dir, "missing.jsonl") + `: file does not exist: give a JSON Lines file`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := runCLI(t, "", c.args...)
			if code == 0 {
				t.Fatalf("exit 0: %s", errs)
			}
			at := 0
			for _, w := range c.want {
				i := strings.Index(errs[at:], w)
				if i < 0 {
					t.Fatalf("no %q after byte %d of\n%s", w, at, errs)
				}
				at += i + len(w)
			}
		})
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "runs")); len(entries) != 0 {
		t.Errorf("rlt run left %d run folders", len(entries))
	}
}

// rlt run refuses a negative --steps, as rlt train does, whatever else
// the call says: with --config or --resume it used to be dropped (only a
// positive count was applied), so the run started, or went on, with the
// file's or the folder's steps as if the flag had not been given.
func TestRunRefusesNegativeSteps(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	conf := filepath.Join(dir, "run.toml")
	os.WriteFile(conf, []byte("steps = 2\n"), 0o644)
	old := filepath.Join(dir, "old")
	os.MkdirAll(old, 0o755)
	os.WriteFile(filepath.Join(old, "config.toml"), []byte("steps = 2\n"), 0o644)
	for _, c := range []struct {
		name string
		args []string
	}{
		{"alone", []string{"--steps", "-5"}},
		{"with --config", []string{"--config", conf, "--steps", "-1"}},
		{"with --resume", []string{"--resume", old, "--steps", "-3"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			runs := filepath.Join(dir, "runs-"+strings.ReplaceAll(c.name, " ", ""))
			args := append([]string{"run", "--headless", "--runs", runs}, c.args...)
			code, _, errs := runCLI(t, "", args...)
			want := fmt.Sprintf("rlt run: --steps %s: want at least 0", c.args[len(c.args)-1])
			if last := wrongCallLine(errs); code != 2 || last != want {
				t.Errorf("exit %d, last line %q; want exit 2 and %q", code, last, want)
			}
			if entries, _ := os.ReadDir(runs); len(entries) != 0 {
				t.Errorf("left %d run folders", len(entries))
			}
		})
	}
}

// An invalid configuration makes no run folder; a run that fails to start
// leaves one that `rlt sessions` lists as failed, with the error.
func TestRunInvalidConfigLeavesNoFolder(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	for _, tc := range []struct {
		name, conf string
		args       []string
		msg        string
	}{
		{"no questions", "[grpo]\nquestions = 0\n", []string{"--steps", "1"}, "questions"},
	} {
		runs := filepath.Join(dir, tc.name)
		args := append([]string{"run", "--headless", "--runs", runs}, tc.args...)
		if tc.conf != "" {
			conf := filepath.Join(dir, tc.name+".toml")
			os.WriteFile(conf, []byte(tc.conf), 0o644)
			args = append(args, "--config", conf)
		}
		code, _, errs := runCLI(t, "", args...)
		if code == 0 || !strings.Contains(errs, tc.msg) || !strings.Contains(errs, "no run folder was created") {
			t.Errorf("%s: exit %d: %s", tc.name, code, errs)
		}
		if entries, _ := os.ReadDir(runs); len(entries) != 0 {
			t.Errorf("%s: left %d run folders", tc.name, len(entries))
		}
	}
	// A teacher whose tokenizer.json is not JSON passes the checks made
	// before the folder (they read config.json) and fails the start.
	models, err := defaults.Dir()
	if err != nil {
		t.Fatal(err)
	}
	teacher := filepath.Join(dir, "teacher")
	os.MkdirAll(teacher, 0o755)
	src := filepath.Join(models, defaults.Teacher)
	entries, _ := os.ReadDir(src)
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(src, e.Name()))
		if e.Name() == "tokenizer.json" {
			data = []byte("not JSON")
		}
		os.WriteFile(filepath.Join(teacher, e.Name()), data, 0o644)
	}
	runs, conf := filepath.Join(dir, "bad-teacher"), filepath.Join(dir, "bad-teacher.toml")
	os.WriteFile(conf, []byte("teacher = "+strconv.Quote(teacher)+"\n"), 0o644)
	if code, _, errs := runCLI(t, "", "run", "--headless", "--steps", "1", "--runs", runs, "--config", conf); code == 0 || !strings.Contains(errs, "teacher: tokenizer: ") || !strings.Contains(errs, "tokenizer.json") {
		t.Fatalf("bad teacher: exit %d: %s", code, errs)
	}
	code, out, errs := runCLI(t, "", "sessions", "--runs", runs)
	if code != 0 || !regexp.MustCompile(`failed .*fatal: start: teacher: tokenizer: [^ ]*tokenizer.json: not valid tokenizer JSON`).MatchString(out) {
		t.Errorf("sessions: exit %d: %s%s", code, out, errs)
	}
}

// rlt score --device gpu scores on the Vulkan device, says so, and gives
// the CPU's rewards (within float32 reordering).
func TestScoreOnTheGPU(t *testing.T) {
	gpuOrSkip(t)
	teacher, student := tinyFolder(t, "f32"), tinyFolder(t, "bf16")
	in := `{"question":"347+285=?","solution":"632","explanation":"7+5=12 w2 c1"}
{"question":"1+1=?","solution":"2","completion":"one and one"}
`
	rewards := map[string][]float64{}
	for _, dev := range []string{"cpu", "gpu"} {
		code, out, errs := runCLI(t, in, "score", "--teacher", teacher, "--student", student, "--device", dev)
		if code != 0 {
			t.Fatalf("--device %s: exit %d:\n%s", dev, code, errs)
		}
		if want := map[string]string{"cpu": "computing on cpu/", "gpu": "computing on vulkan/"}[dev]; !strings.Contains(errs, want) {
			t.Errorf("--device %s: stderr does not say %q:\n%s", dev, want, errs)
		}
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var rec struct{ Reward *float64 }
			if err := json.Unmarshal([]byte(l), &rec); err != nil || rec.Reward == nil {
				t.Fatalf("--device %s: %q (%v)", dev, l, err)
			}
			rewards[dev] = append(rewards[dev], *rec.Reward)
		}
	}
	if len(rewards["gpu"]) != len(rewards["cpu"]) {
		t.Fatalf("%d rewards on the GPU, %d on the CPU", len(rewards["gpu"]), len(rewards["cpu"]))
	}
	for i, c := range rewards["cpu"] {
		if g := rewards["gpu"][i]; math.Abs(g-c) > 1e-4*(1+math.Abs(c)) {
			t.Errorf("item %d: reward %v on the GPU, %v on the CPU", i+1, g, c)
		}
	}
}

// TestRunSurvivesALostDevice: a GPU lost mid-run (RLT_VULKAN_LOSE_AFTER
// makes the Vulkan device report VK_ERROR_DEVICE_LOST at a batch's fence,
// where a driver reports it) stops the run with the device named and
// --device cpu as the way on, tries no final checkpoint from the lost
// device, lists the run as failed with that error, and leaves every step
// checkpointed before the loss: `rlt run --resume --device cpu` goes on
// from the last one, each step recorded once.
func TestRunSurvivesALostDevice(t *testing.T) {
	gpuOrSkip(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	cfgPath := filepath.Join(t.TempDir(), "small.toml")
	if err := os.WriteFile(cfgPath, []byte(smallRun), 0o644); err != nil {
		t.Fatal(err)
	}
	// Loading, each step and each checkpoint take many batches: the loss
	// comes at batch 300, or later until a checkpoint came before it.
	var runs, runDir string
	saved := -1
	for lose := 300; saved < 0; lose *= 2 {
		if lose > 10000 {
			t.Fatal("no step was checkpointed before the device was lost")
		}
		t.Setenv("RLT_VULKAN_LOSE_AFTER", strconv.Itoa(lose))
		runs = t.TempDir()
		code, out, errs := runCLI(t, "", "run", "--headless", "--device", "gpu", "--steps", "40", "--runs", runs, "--config", cfgPath)
		if code == 0 {
			t.Fatalf("lost at batch %d: exit 0:\n%s%s", lose, out, errs)
		}
		for _, want := range []string{"vulkan (", "device lost", "--device cpu"} {
			if !strings.Contains(errs, want) {
				t.Fatalf("lost at batch %d: stderr does not say %q:\n%s", lose, want, errs)
			}
		}
		if strings.Contains(errs, "final checkpoint") {
			t.Errorf("lost at batch %d: a final checkpoint was tried on the lost device:\n%s", lose, errs)
		}
		entries, _ := os.ReadDir(runs)
		if len(entries) != 1 {
			t.Fatalf("%d run folders", len(entries))
		}
		runDir = filepath.Join(runs, entries[0].Name())
		if ck, _, err := sessions.LatestCheckpoint(runDir); err == nil {
			saved = ck.Step
		}
	}
	list, err := sessions.List(runs)
	if err != nil || len(list) != 1 || list[0].State != sessions.StateFailed || !strings.Contains(list[0].Note, "device lost") {
		t.Fatalf("rlt sessions: %+v %v", list, err)
	}
	t.Setenv("RLT_VULKAN_LOSE_AFTER", "")
	steps := saved + 3
	code, out, errs := runCLI(t, "", "run", "--resume", runDir, "--device", "cpu", "--steps", strconv.Itoa(steps), "--headless")
	if code != 0 || !strings.Contains(out+errs, "resuming") || !strings.Contains(out+errs, "device: cpu/") {
		t.Fatalf("resume on the CPU: exit %d:\n%s%s", code, out, errs)
	}
	ro, err := sessions.OpenReadOnly(runDir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	ms, _ := ro.Store().MetricsSince(0)
	if len(ms) != steps {
		t.Fatalf("%d steps recorded, want %d", len(ms), steps)
	}
	for i, m := range ms {
		if m.Step != i {
			t.Fatalf("metric steps are not 0, 1, 2 … each once: record %d is step %d", i, m.Step)
		}
	}
	if list, err := sessions.List(runs); err != nil || list[0].State != sessions.StateFinished {
		t.Errorf("after the resume: %+v %v", list, err)
	}
}

// The commands that compute take --device: on the Vulkan device they say
// so and give the CPU's log-probs and greedy text.
func TestCommandsOnTheGPU(t *testing.T) {
	gpuOrSkip(t)
	dir := tinyFolder(t, "f32")
	logprobs := map[string][]float64{}
	texts := map[string]string{}
	for _, dev := range []string{"cpu", "gpu"} {
		code, out, errs := runCLI(t, "{\"text\": \"347+285=?\"}\n", "logprobs", "--model", dir, "--device", dev)
		if code != 0 || !strings.Contains(errs, "rlt logprobs: computing on "+map[string]string{"cpu": "cpu/", "gpu": "vulkan/"}[dev]) {
			t.Fatalf("logprobs --device %s: exit %d: %s", dev, code, errs)
		}
		var lp struct{ LogProbs []*float64 }
		if err := json.Unmarshal([]byte(out), &lp); err != nil || len(lp.LogProbs) < 2 {
			t.Fatalf("logprobs --device %s: %s (%v)", dev, out, err)
		}
		for _, v := range lp.LogProbs[1:] {
			logprobs[dev] = append(logprobs[dev], *v)
		}
		code, out, errs = runCLI(t, "", "generate", "--model", dir, "--prompt", "347+285=?", "--temperature", "0", "--max-new-tokens", "6", "--device", dev)
		if code != 0 || !strings.Contains(errs, "rlt generate: computing on "+map[string]string{"cpu": "cpu/", "gpu": "vulkan/"}[dev]) {
			t.Fatalf("generate --device %s: exit %d: %s", dev, code, errs)
		}
		texts[dev] = out
	}
	if len(logprobs["gpu"]) != len(logprobs["cpu"]) {
		t.Fatalf("%d log-probs on the GPU, %d on the CPU", len(logprobs["gpu"]), len(logprobs["cpu"]))
	}
	for i, c := range logprobs["cpu"] {
		if g := logprobs["gpu"][i]; math.Abs(g-c) > 1e-4*(1+math.Abs(c)) {
			t.Errorf("log-prob %d: %v on the GPU, %v on the CPU", i+1, g, c)
		}
	}
	if texts["gpu"] != texts["cpu"] {
		t.Errorf("greedy text: %q on the GPU, %q on the CPU", texts["gpu"], texts["cpu"])
	}
}

// TestMatmulFlag: --matmul takes f32 or f16 and refuses anything else
// before a run folder exists; f16 on the CPU runs in float32 and the
// device line says so.
func TestMatmulFlag(t *testing.T) {
	runs := t.TempDir()
	code, _, errs := runCLI(t, "", "run", "--headless", "--steps", "1", "--device", "cpu", "--matmul", "bf16", "--runs", runs)
	if code == 0 || !strings.Contains(errs, "f32 or f16") {
		t.Fatalf("--matmul bf16: exit %d: %s", code, errs)
	}
	if entries, _ := os.ReadDir(runs); len(entries) != 0 {
		t.Fatalf("a refused --matmul made run folders: %v", entries)
	}
	code, _, errs = runCLI(t, "", "run", "--headless", "--steps", "1", "--device", "cpu", "--matmul", "f16", "--runs", runs)
	if code != 0 || !strings.Contains(errs, "device: cpu/") || !strings.Contains(errs, "products in float32, not f16") {
		t.Fatalf("--matmul f16 on the CPU: exit %d: %s", code, errs)
	}
	entries, _ := os.ReadDir(runs)
	if len(entries) != 1 {
		t.Fatalf("run folders %v, want one", entries)
	}
	cfg, err := os.ReadFile(filepath.Join(runs, entries[0].Name(), "config.toml"))
	if err != nil || !strings.Contains(string(cfg), "matmul = 'f16'") {
		t.Fatalf("the run's config.toml (%v) does not record matmul f16:\n%s", err, cfg)
	}
}

// `rlt eval --data` of a file that asks a question with its solution on
// several lines (rlt distill --samples-out's, one line a sample) answers
// it once, greedily, not once a line, and says the rows it left out.
func TestEvalOnDataTakesEachQuestionOnce(t *testing.T) {
	row := `{"question":"17+218=?","solution":"235","kept":false}` + "\n"
	data := filepath.Join(t.TempDir(), "samples.jsonl")
	if err := os.WriteFile(data, []byte(row+row+`{"question":"3+4=?","solution":"7"}`+"\n"+row), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "", "eval", "--student", "engine/defaults/models/student", "--data", data, "--max-new-tokens", "16")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, errs)
	}
	if recs := jsonLines(t, out); len(recs) != 1 || recs[0]["questions"] != 2.0 || recs[0]["skipped"] != 0.0 {
		t.Errorf("summary %s: want 2 questions, 0 skipped", out)
	}
	if want := "warning: data " + data + ": left out 2 of its 4 rows, each an earlier row's question with its solution (lines 2, 4): the evaluation answers each question once"; !strings.Contains(errs, want) {
		t.Errorf("stderr %q\nwant %q", errs, want)
	}
}

// sourceCheckout is what a source checkout of rlt holds that a user of
// the binary does not: the top folders of the module's Go packages
// (compute, engine, sessions, ui, bench: bench/bigrun), found in the
// tree, not listed, so that a new one counts from its first package.
// docs/ is not among them: the help texts cite its pages.
func sourceCheckout(t *testing.T) map[string]bool {
	t.Helper()
	top := map[string]bool{}
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if dir := filepath.Dir(path); !d.IsDir() && strings.HasSuffix(path, ".go") && dir != "." {
			top[strings.Split(filepath.ToSlash(dir), "/")[0]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return top
}

// sourceWord is the first word of text that points into a source
// checkout (sourceCheckout's folders top): a path under one of its
// folders (engine/device, bench/fit.sh) or a Go source file
// (cmd_serve.go), "" when there is none. A path under another folder
// (runs/…, /tmp/defaults/engine/x, docs/engine.md) is the user's.
func sourceWord(text string, top map[string]bool) string {
	for _, m := range regexp.MustCompile(`(?:^|[^\w./~-])((\w[\w-]*)/[\w.-]+|[\w-]+\.go\b)`).FindAllStringSubmatch(text, -1) {
		if m[2] == "" || top[m[2]] {
			return m[1]
		}
	}
	return ""
}

// TestSourceWord: the check of TestUsageTexts finds a path into any
// folder of the checkout, not four it knew by name (a help text citing
// bench/fit.sh or a new top folder passed), and a Go file by its name.
func TestSourceWord(t *testing.T) {
	top := sourceCheckout(t)
	for _, want := range []string{"bench", "compute", "engine", "sessions", "ui"} {
		if !top[want] {
			t.Errorf("sourceCheckout lacks %s: %v", want, top)
		}
	}
	if top["docs"] || top["runs"] {
		t.Errorf("sourceCheckout counts a folder without Go: %v", top)
	}
	for _, c := range []struct{ text, want string }{
		{"cpu, gpu or auto (engine/device)", "engine/device"},
		{"measured by bench/fit.sh", "bench/fit.sh"},
		{"see compute/vulkan for the shaders", "compute/vulkan"},
		{"ui/chart draws it", "ui/chart"},
		{"(sessions/runner)", "sessions/runner"},
		{"the flags of cmd_serve.go", "cmd_serve.go"},
		{"a new top folder: tools/gen", ""}, // not in this checkout
		{"rlt open runs/20261125-034115", ""},
		{"--model /tmp/defaults/student", ""},
		{"--out ~/engine/x", ""},
		{"(docs/engine.md, The reward)", ""},
		{"text/plain and ids 3/4", ""},
		{"go run . --runs ~/rlt-runs", ""},
	} {
		if got := sourceWord(c.text, top); got != c.want {
			t.Errorf("sourceWord(%q) = %q, want %q", c.text, got, c.want)
		}
	}
	// A top folder found in the tree counts though no list names it.
	if got := sourceWord("see tools/gen", map[string]bool{"tools": true}); got != "tools/gen" {
		t.Errorf("sourceWord with a folder tools = %q, want tools/gen", got)
	}
}
