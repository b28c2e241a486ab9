package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/sessions/runner"
)

// TestCountFlagsSayTheirRange: every command's count flags, given a
// number past their type's range or a whole number in a float's form,
// are refused naming the flag, with the range or the number meant, before
// anything loads: they said "want a whole number" alone to both.
func TestCountFlagsSayTheirRange(t *testing.T) {
	model := filepath.Join("engine", "defaults", "models", "student")
	over := "99999999999999999999"
	ints := "from " + strconv.Itoa(math.MinInt) + " to " + strconv.Itoa(math.MaxInt)
	for _, c := range []struct {
		args []string
		want string // a line of stderr
	}{
		{[]string{"generate", "--model", model, "--prompt", "x", "--max-new-tokens", "1e3"}, `rlt generate: invalid value "1e3" for flag --max-new-tokens: parse error: want a whole number (1e3 is written 1000)`},
		{[]string{"generate", "--model", model, "--prompt", "x", "--seed", over}, `rlt generate: invalid value "` + over + `" for flag --seed: value out of range: want a whole number from 0 to 18446744073709551615`},
		{[]string{"eval", "--student", model, "--questions", "2e2"}, `rlt eval: invalid value "2e2" for flag --questions: parse error: want a whole number (2e2 is written 200)`},
		{[]string{"distill", "--teacher", model, "--out", t.TempDir(), "--steps", over}, `rlt distill: invalid value "` + over + `" for flag --steps: value out of range: want a whole number ` + ints},
		{[]string{"score", "--teacher", model, "--student", model, "--batch", "1e1"}, `rlt score: invalid value "1e1" for flag --batch: parse error: want a whole number (1e1 is written 10)`},
		{[]string{"serve", "--model", model, "--max-logprobs", over}, `rlt serve: invalid value "` + over + `" for flag --max-logprobs: value out of range: want a whole number ` + ints},
		{[]string{"pretrain", "--out", t.TempDir(), "--batch", "3.0"}, `rlt pretrain: invalid value "3.0" for flag --batch: parse error: want a whole number (3.0 is written 3)`},
		{[]string{"train", "--steps", "1.5"}, `rlt train: invalid value "1.5" for flag --steps: parse error: want a whole number`},
	} {
		code, _, errs := runCLI(t, "", c.args...)
		if code != 2 || !slices.Contains(strings.Split(errs, "\n"), c.want) {
			t.Errorf("rlt %s: exit %d, stderr %q; want exit 2 and the line %q", strings.Join(c.args, " "), code, errs, c.want)
		}
	}
}

// TestCountFlagsRefuseALeadingZero: a count flag's value with a leading 0
// is refused, naming the number meant: the flag package read it as octal,
// so rlt generate --max-new-tokens 010 wrote 8 tokens with nothing said. A
// prefixed base is taken, as are 0 and -5, and after parsing the flags are
// their own values again (the usage names their types from them).
func TestCountFlagsRefuseALeadingZero(t *testing.T) {
	for _, c := range []struct {
		args  []string
		want  string // the error; "" for none
		steps int
		seed  uint64
	}{
		{args: []string{"--steps", "010"}, want: `invalid value "010" for flag --steps: a leading 0 reads as octal (010 is 8): write 10 without it, or 0o10 where octal is meant`},
		{args: []string{"--steps=-010"}, want: `invalid value "-010" for flag --steps: a leading 0 reads as octal (010 is 8): write -10 without it, or -0o10 where octal is meant`},
		{args: []string{"--seed", "0_7"}, want: `invalid value "0_7" for flag --seed: a leading 0 reads as octal (010 is 8): write 7 without it, or 0o7 where octal is meant`},
		{args: []string{"--seed", "00"}, want: `invalid value "00" for flag --seed: a leading 0 reads as octal (010 is 8): write 0 without it`},
		{args: []string{"--steps", "09"}, want: `invalid value "09" for flag --steps: a leading 0 reads as octal (010 is 8): write 9 without it`},
		{args: []string{"--steps", "0x10", "--seed", "0o10"}, steps: 16, seed: 8},
		{args: []string{"--steps", "0", "--seed", "0"}},
		{args: []string{"--steps", "-5", "--seed", "10"}, steps: -5, seed: 10},
	} {
		fs := flag.NewFlagSet("rlt x", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		steps := fs.Int("steps", 0, "")
		seed := fs.Uint64("seed", 0, "")
		err := parseFlags(fs, c.args)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want || err == nil && (*steps != c.steps || *seed != c.seed) {
			t.Errorf("%v: error %q, --steps %d, --seed %d; want error %q, --steps %d, --seed %d", c.args, got, *steps, *seed, c.want, c.steps, c.seed)
		}
		if typ := fmt.Sprintf("%T", fs.Lookup("steps").Value); typ != "*flag.intValue" {
			t.Errorf("%v: --steps is a %s after parsing, want the flag package's own *flag.intValue", c.args, typ)
		}
	}
	model := filepath.Join("engine", "defaults", "models", "student")
	code, _, errs := runCLI(t, "", "generate", "--model", model, "--prompt", "x", "--max-new-tokens", "010")
	want := `rlt generate: invalid value "010" for flag --max-new-tokens: a leading 0 reads as octal (010 is 8): write 10 without it, or 0o10 where octal is meant`
	if code != 2 || !slices.Contains(strings.Split(errs, "\n"), want) {
		t.Errorf("rlt generate --max-new-tokens 010: exit %d, stderr %q; want exit 2 and the line %q", code, errs, want)
	}
}

// TestFlagProblem: the flag package's complaints, said as the usage spells
// flags (--name), the flag most likely meant after an unknown one, and a
// value that itself holds ": -" or " for flag -" left as it was given.
func TestFlagProblem(t *testing.T) {
	fs := flag.NewFlagSet("rlt x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.String("out", "", "")
	fs.String("format", "", "")
	fs.Int("steps", 0, "")
	fs.Bool("headless", false, "")
	fs.Uint64("seed", 0, "")
	fs.Float64("lr", 0, "")
	fs.Duration("timeout", 0, "")
	fs.String("device", "", "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--headles"}, "unknown flag --headles (did you mean --headless?)"},
		{[]string{"-o", "x"}, "unknown flag --o (did you mean --out?)"},
		{[]string{"--fromat", "csv"}, "unknown flag --fromat (did you mean --format?)"},
		{[]string{"--headelss"}, "unknown flag --headelss (did you mean --headless?)"},
		{[]string{"--colour"}, "unknown flag --colour"},
		{[]string{"--output", "x"}, "unknown flag --output (did you mean --out?)"},
		{[]string{"--gpu"}, "unknown flag --gpu (did you mean --device?)"},
		{[]string{"--save", "x"}, "unknown flag --save (did you mean --out?)"},
		{[]string{"--out"}, "flag needs an argument: --out"},
		{[]string{"--steps", "x"}, `invalid value "x" for flag --steps: parse error: want a whole number`},
		{[]string{"--steps", "a: -b for flag -c: d"}, `invalid value "a: -b for flag -c: d" for flag --steps: parse error: want a whole number`},
		// The type's range where the value is past it, and the whole
		// number a float's form writes: it said "want a whole number" to
		// 99999999999999999999 and to 1e3 alike.
		{[]string{"--steps", "99999999999999999999"}, `invalid value "99999999999999999999" for flag --steps: value out of range: want a whole number from ` +
			strconv.Itoa(math.MinInt) + " to " + strconv.Itoa(math.MaxInt)},
		{[]string{"--steps", "1e3"}, `invalid value "1e3" for flag --steps: parse error: want a whole number (1e3 is written 1000)`},
		{[]string{"--steps", "2.0"}, `invalid value "2.0" for flag --steps: parse error: want a whole number (2.0 is written 2)`},
		{[]string{"--steps", "-1E2"}, `invalid value "-1E2" for flag --steps: parse error: want a whole number (-1E2 is written -100)`},
		{[]string{"--steps", "1.5"}, `invalid value "1.5" for flag --steps: parse error: want a whole number`},
		{[]string{"--steps", "NaN"}, `invalid value "NaN" for flag --steps: parse error: want a whole number`},
		{[]string{"--steps", "1e300"}, `invalid value "1e300" for flag --steps: parse error: want a whole number`},
		{[]string{"--seed", "-1"}, `invalid value "-1" for flag --seed: parse error: want a whole number, 0 or more`},
		{[]string{"--seed", "-1e3"}, `invalid value "-1e3" for flag --seed: parse error: want a whole number, 0 or more`},
		{[]string{"--seed", "5e2"}, `invalid value "5e2" for flag --seed: parse error: want a whole number, 0 or more (5e2 is written 500)`},
		{[]string{"--seed", "99999999999999999999"}, `invalid value "99999999999999999999" for flag --seed: value out of range: want a whole number from 0 to 18446744073709551615`},
		{[]string{"--lr", "fast"}, `invalid value "fast" for flag --lr: parse error: want a number, such as 0.5 or 1e-6`},
		{[]string{"--timeout", "5"}, `invalid value "5" for flag --timeout: parse error: want a duration, such as 30s or 5m`},
		{[]string{"--timeout", "soon"}, `invalid value "soon" for flag --timeout: parse error: want a duration, such as 30s or 5m`},
		{[]string{"--headless=maybe"}, `invalid boolean value "maybe" for --headless: parse error: want true or false`},
	} {
		err := fs.Parse(c.args)
		if err == nil || errors.Is(err, flag.ErrHelp) {
			t.Fatalf("%v: parse error %v", c.args, err)
		}
		if got := flagProblem(fs, err); got != c.want {
			t.Errorf("%v: %q, want %q", c.args, got, c.want)
		}
	}
}

// TestEditDistance: one edit each for an insertion, a deletion, a
// substitution and a swap of neighbours.
func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"run", "run", 0}, {"", "run", 3},
		{"rn", "run", 1}, {"runn", "run", 1}, {"ran", "run", 1}, {"rnu", "run", 1},
		{"headelss", "headless", 1}, {"fromat", "format", 1}, {"ab", "ba", 1},
		{"abc", "ca", 3}, {"sesions", "sessions", 1}, {"xyzzy", "run", 5},
	} {
		if got := editDistance(c.a, c.b); got != c.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

// TestLoadTokenizer: a tokenizer.json or its model folder loads; a folder
// without one is said for what it is (a run folder, a checkpoint, a folder
// with no tokenizer.json, a path that does not exist), not as a file that
// could not be opened.
func TestLoadTokenizer(t *testing.T) {
	model := filepath.Join("engine", "defaults", "models", "teacher")
	run := t.TempDir()
	os.WriteFile(filepath.Join(run, "config.toml"), []byte("steps = 1\n"), 0o644)
	checkpoint := t.TempDir()
	os.Mkdir(filepath.Join(checkpoint, "teacher"), 0o755)
	os.WriteFile(filepath.Join(checkpoint, "teacher", "config.json"), []byte("{}"), 0o644)
	os.WriteFile(filepath.Join(checkpoint, "optimizer.safetensors"), []byte("{}"), 0o644)
	empty := t.TempDir()
	for _, c := range []struct {
		path, want string // want "": loads
	}{
		{model, ""},
		{filepath.Join(model, "tokenizer.json"), ""},
		{run, run + " is a run folder, not a model folder"},
		{filepath.Join(run, "tokenizer.json"), run + " is a run folder, not a model folder"},
		{checkpoint, checkpoint + " is a training checkpoint, not a model folder"},
		{empty, empty + " holds no tokenizer.json"},
		// A path that is not there is said so, as a model folder's is,
		// not in the system's words (open …: no such file or directory).
		{filepath.Join(empty, "nope.json"), filepath.Join(empty, "nope.json") + " does not exist: give a tokenizer.json, or the model folder that holds one"},
		{filepath.Join(empty, "gone"), filepath.Join(empty, "gone") + " does not exist: give a tokenizer.json, or the model folder that holds one"},
		{filepath.Join(empty, "gone", "tokenizer.json"), "model folder " + filepath.Join(empty, "gone") + " does not exist"},
	} {
		tok, err := loadTokenizer(c.path)
		switch {
		case c.want == "" && (err != nil || tok == nil):
			t.Errorf("loadTokenizer(%s): %v, want a tokenizer", c.path, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("loadTokenizer(%s): %v, want an error holding %q", c.path, err, c.want)
		}
	}
}

// TestFlagValuesRefusedBeforeLoading: flag values no run could use (rlt
// generate's temperature, top-k, top-p and min-p, and --system without
// --chat, which has no turn to go in; rlt serve's --api,
// --weights and --listen, a --listen off localhost without --public among them; rlt score's --timeout, reward flags, --weights
// and --server-kind; every --task, --dtype and --format; rlt distill's
// --lr and --temperature) are a
// wrong call (exit 2, the flag named), said
// before a device opens or a model loads.
func TestFlagValuesRefusedBeforeLoading(t *testing.T) {
	model := filepath.Join("engine", "defaults", "models", "teacher")
	gen := []string{"generate", "--model", model, "--prompt", "hi", "--device", "cpu"}
	dst := filepath.Join(t.TempDir(), "out") // nothing may be written there
	srv := []string{"serve", "--model", model}
	for _, c := range []struct {
		args []string
		want string
	}{
		{append(gen, "--temperature", "-1"), "rlt generate: --temperature -1 must be ≥ 0"},
		// An infinite or huge temperature is no distribution to sample
		// either; it was said as "+Inf must be ≥ 0".
		{append(gen, "--temperature", "Inf"), "rlt generate: --temperature +Inf must be at most 1e+06"},
		{append(gen, "--temperature", "1e7"), "rlt generate: --temperature 1e+07 must be at most 1e+06"},
		{append(gen, "--top-k", "-1"), "rlt generate: --top-k -1 must be ≥ 0"},
		// An empty --stop (a script's unset variable) was refused by the
		// sampler once the model had loaded, exit 1.
		{append(gen, "--stop", "###", "--stop", ""), `rlt generate: --stop "": an empty stop string would end the text before its first token: give the text to stop at, or leave the flag out`},
		{append(gen, "--top-p", "2"), "rlt generate: --top-p 2 must be in (0, 1] (1 = off)"},
		{append(gen, "--top-p", "-0.5"), "rlt generate: --top-p -0.5 must be in (0, 1] (1 = off)"},
		{append(gen, "--top-p", "0"), "rlt generate: --top-p 0 keeps no probability mass: give a value in (0, 1] (1 = off; --temperature 0 is greedy)"},
		{append(gen, "--min-p", "-0.5"), "rlt generate: --min-p -0.5 must be in [0, 1]"},
		{append(gen, "--system", "Be brief."), "rlt generate: --system is the system message of a --chat prompt: give --chat too, or leave --system out"},
		{append(srv, "--api", "openai"), `rlt serve: --api "openai": want vllm, sglang or both`},
		{append(srv, "--weights", "f16"), `rlt serve: --weights "f16": want checkpoint or float32`},
		{append(srv, "--listen", "8000"), `rlt serve: --listen "8000": address 8000: missing port in address: give host:port, such as --listen 127.0.0.1:8000 (port 0 picks a free one)`},
		// A bad port or none was said with no example, the bad port only
		// by the listen, once the model had loaded.
		{append(srv, "--listen", "127.0.0.1:"), `rlt serve: --listen "127.0.0.1:": no port after the colon: give host:port, such as --listen 127.0.0.1:8000 (port 0 picks a free one)`},
		{append(srv, "--listen", "127.0.0.1:99999"), `rlt serve: --listen "127.0.0.1:99999": port "99999" is not a number from 0 to 65535: give host:port, such as --listen 127.0.0.1:8000 (port 0 picks a free one)`},
		{append(srv, "--listen", "localhost:http8000"), `rlt serve: --listen "localhost:http8000": port "http8000" is not a number from 0 to 65535: give host:port, such as --listen 127.0.0.1:8000 (port 0 picks a free one)`},
		{append(srv, "--listen", "0.0.0.0:18002"), "rlt serve: --listen 0.0.0.0:18002 is not a localhost address: the endpoints have no authentication; give --public to listen there anyway"},
		{[]string{"score", "--teacher", "http://127.0.0.1:1", "--student", "http://127.0.0.1:1", "--timeout", "-1s"}, "rlt score: --timeout -1s: want a positive duration, such as 30s or 5m"},
		{[]string{"score", "--teacher", model, "--student", model, "--estimator", "kl"}, `rlt score: --estimator "kl": want "logratio", "k3" or "full"`},
		{[]string{"score", "--teacher", model, "--student", model, "--temperature", "0", "--c4", "NaN"}, "--c4 is NaN: give a finite number (the default is 0.03)"},
		{[]string{"score", "--teacher", model, "--student", model, "--weights", "f16"}, `rlt score: --weights "f16": want checkpoint or float32`},
		{[]string{"score", "--teacher", model, "--student", model, "--server-kind", "openai"}, `rlt score: --server-kind: server kind "openai": want vllm, sglang or auto`},
		{[]string{"score", "--teacher", model, "--student", model, "--tokenizer", dst}, "rlt score: --tokenizer is the tokenizer of servers' models: " + model + " and " + model + " are model folders, scored with their own tokenizer.json; leave --tokenizer out"},
		{[]string{"logprobs", "--model", model, "--temperature", "0"}, "rlt logprobs: --temperature 0 must be a finite positive number"},
		{[]string{"logprobs", "--model", model, "--weights", "f16"}, `rlt logprobs: --weights "f16": want checkpoint or float32`},
		{[]string{"eval", "--student", model, "--task", "division"}, `rlt eval: --task "division": want one of addition, linear`},
		{[]string{"eval", "--student", model, "--max-new-tokens", "0"}, "rlt eval: --max-new-tokens 0: want at least 1"},
		// A typo's extra digits ran out of memory drawing the questions.
		{[]string{"eval", "--student", model, "--questions", "99999999999"}, "rlt eval: --questions 99999999999: more than one command draws from a task (at most 1048576): ask for fewer, or run it in parts with --data files"},
		{[]string{"distill", "--teacher", model, "--out", dst, "--questions", "99999999999"}, "rlt distill: --questions 99999999999: more than one command draws from a task (at most 1048576): ask for fewer, or run it in parts with --data files"},
		{[]string{"distill", "--teacher", model, "--out", dst, "--task", "division"}, `rlt distill: --task "division": want one of addition, linear`},
		{[]string{"distill", "--teacher", model, "--out", dst, "--lr", "-1"}, "rlt distill: --lr -1: want a finite number above 0 that float32, the optimiser's numbers, holds (1.401298464324817e-45, its smallest, to 3.4028234663852886e+38, its largest)"},
		// 0 was taken (the student never changed), 1e300 too (+Inf in the
		// optimiser's float32).
		{[]string{"distill", "--teacher", model, "--out", dst, "--lr", "0"}, "rlt distill: --lr 0: want a finite number above 0 that float32, the optimiser's numbers, holds (1.401298464324817e-45, its smallest, to 3.4028234663852886e+38, its largest)"},
		{[]string{"distill", "--teacher", model, "--out", dst, "--lr", "1e300"}, "rlt distill: --lr 1e+300: want a finite number above 0 that float32, the optimiser's numbers, holds (1.401298464324817e-45, its smallest, to 3.4028234663852886e+38, its largest)"},
		{[]string{"distill", "--teacher", model, "--out", dst, "--temperature", "-1"}, "rlt distill: --temperature -1 must be ≥ 0"},
		{[]string{"distill", "--teacher", model, "--out", dst, "--max-new-tokens", "0"}, "rlt distill: --max-new-tokens 0: want at least 1"},
		{[]string{"pretrain", "--out", dst, "--task", "division"}, `rlt pretrain: --task "division": want one of addition, linear`},
		{[]string{"model", "init", "--config", filepath.Join(model, "config.json"), "--out", dst, "--dtype", "f16"}, `rlt model init: --dtype "f16": want f32 or bf16`},
		{[]string{"import", "engine/run/testdata/eval.jsonl", "--out", dst, "--format", "tensorboard"}, `rlt import: --format: unknown format "tensorboard" (want one of rlt, trl, verl, nemo-rl)`},
		{[]string{"open", "--format", "tensorboard", dst}, `rlt open: --format: unknown format "tensorboard" (want one of rlt, trl, verl, nemo-rl)`},
	} {
		code, out, errs := runCLI(t, "", c.args...)
		if last := wrongCallLine(errs); code != 2 || last != c.want || out != "" || strings.Contains(errs, "computing on") {
			t.Errorf("rlt %v: exit %d, last line %q, output %q; want exit 2 and %q before any device or model", c.args, code, last, out, c.want)
		}
		if _, err := os.Stat(dst); err == nil {
			t.Errorf("rlt %v wrote %s", c.args, dst)
		}
	}
}

// A run's problems are listed, the first 20, with how many there are in
// all (a store keeps its first 1000 and counts the rest); broken records
// are said as left out, other problems as found.
func TestReportSkipped(t *testing.T) {
	broken := func(n int) []sessions.Issue {
		var is []sessions.Issue
		for i := 0; i < n; i++ {
			is = append(is, sessions.Issue{File: "reviews.jsonl", Line: i + 1, Msg: `unknown label "acept"`, Kind: sessions.IssueBroken})
		}
		return is
	}
	lost := sessions.Issue{File: "run/config.toml", Msg: "missing: the run's settings are unknown"}
	for _, c := range []struct {
		name   string
		issues []sessions.Issue
		total  int
		want   []string
		lines  int
	}{
		{"none", nil, 0, nil, 0},
		{"one broken record", broken(1), 1, []string{"left out 1 unreadable record of the run:\n  reviews.jsonl:1: "}, 2},
		{"past the store's thousand", broken(1000), 1500, []string{"left out 1500 unreadable records of the run:\n", "reviews.jsonl:20: ",
			"  and 1480 more: rlt open run, then !, lists them\n"}, 22},
		{"a lost config.toml", []sessions.Issue{lost}, 1, []string{"reading the run found 1 problem:\n  run/config.toml: missing"}, 2},
	} {
		var b strings.Builder
		reportSkipped(&b, "run", c.issues, c.total)
		for _, w := range c.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: %q lacks %q", c.name, b.String(), w)
			}
		}
		if n := strings.Count(b.String(), "\n"); n != c.lines || strings.Contains(b.String(), "reviews.jsonl:21:") {
			t.Errorf("%s: %d lines, want %d:\n%s", c.name, n, c.lines, b.String())
		}
	}
}

// TestALineThatIsNotJSON: rlt tokenize and rlt logprobs say a stdin line
// that is not JSON as that: the line, where it goes wrong (the byte, or its
// end before the JSON is complete) and what a line is, not encoding/json's
// grammar ("invalid character 'o' in literal null (expecting 'u')"); the
// lines around it are answered.
func TestALineThatIsNotJSON(t *testing.T) {
	model := tinyFolder(t, "f32")
	stdin := "nope\n{\"text\": \"1+1\"}\n{\"text\": \"ab\"\n{\"text\": \"é\", x}\n"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"tokenize", "--tokenizer", model}, `{"text": "347+285=?"}`},
		{[]string{"logprobs", "--model", model, "--device", "cpu"}, `{"text": "347+285=?"} or {"ids": [18, 19]}`},
	} {
		code, stdout, errs := runCLI(t, stdin, c.args...)
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		such := "; want one JSON object a line, such as " + c.want
		want := []string{
			errorLine(1, `line 1 is not JSON: 'o' at byte 2 cannot be there`+such),
			"", // answered
			errorLine(3, `line 3 is not JSON: it ends before its JSON is complete`+such),
			errorLine(4, `line 4 is not JSON: 'x' at byte 16 cannot be there`+such),
		}
		if code != 1 || len(lines) != len(want) {
			t.Fatalf("rlt %v: exit %d, %d lines; want exit 1 and %d:\n%s\n%s", c.args, code, len(lines), len(want), stdout, errs)
		}
		for i, w := range want {
			if w == "" && strings.HasPrefix(lines[i], `{"line"`) || w != "" && lines[i] != w {
				t.Errorf("rlt %v line %d: %s\nwant %s", c.args, i+1, lines[i], w)
			}
		}
	}
}

// errorLine is the record a JSON Lines command writes for a failed line.
func errorLine(n int, msg string) string {
	b, _ := json.Marshal(struct {
		Line  int    `json:"line"`
		Error string `json:"error"`
	}{n, msg})
	return string(b)
}

// TestStoppedBeforeItsFirstStep: a train or a distill's student stopped by
// a signal before any step finished says so plainly, and one stopped later
// how many of its steps it took; "after 0 of 1 steps" counted nothing, in
// the plural of one.
func TestStoppedBeforeItsFirstStep(t *testing.T) {
	const again = ": no teacher was written to T; to train it, run the same command again (--steps 0 trains until interrupted and saves then)"
	for _, c := range []struct {
		got, want string
	}{
		{trainStopped(0, 1, "").Error(), "stopped by a signal before its first step"},
		{trainStopped(0, 20, "T").Error(), "stopped by a signal before its first step" + again},
		{trainStopped(1, 20, "T").Error(), "stopped by a signal after 1 of 20 steps" + again},
		{trainStopped(3, 20, "").Error(), "stopped by a signal after 3 of 20 steps"},
		{runner.StoppedBySignal(0, 1, "student step"), "stopped by a signal before its first student step"},
		{runner.StoppedBySignal(7, 1000, "student step"), "stopped by a signal after 7 of 1000 student steps"},
	} {
		if c.got != c.want {
			t.Errorf("got  %q\nwant %q", c.got, c.want)
		}
	}
}
