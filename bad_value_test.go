package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// wrongCallLine is the line of stderr that says what was wrong with a
// call: its last, or, after a wrong value, the one before the way to the
// usage that follows it ("See 'rlt CMD --help'.", badValue).
func wrongCallLine(errs string) string {
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if n := len(lines); n > 1 && strings.HasPrefix(lines[n-1], "See '") && strings.HasSuffix(lines[n-1], " --help'.") {
		lines = lines[:n-1]
	}
	return lines[len(lines)-1]
}

// TestBadValueIsOneLine: a flag given a value its command does not take
// is said in one line, then the way to the usage, with nothing on stdout
// and exit 2, in every command: rlt report --traces top:3,top:1 printed
// the whole usage (and score's is 150 lines) before its one line, which
// scrolled away. A call of the wrong shape (an unknown flag, a missing
// one) still prints the usage above what was wrong (TestCLIErrors).
func TestBadValueIsOneLine(t *testing.T) {
	model := tinyFolder(t, "f32")
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		line string // the first line of stderr
	}{
		{[]string{"report", dir, "--out", filepath.Join(dir, "r"), "--traces", "top:3,top:1"}, `rlt report: --traces "top:3,top:1": "top:3" and "top:1" both say top: give it once`},
		{[]string{"export", "--run", dir, "--format", "zz"}, `rlt export: --format "zz": want `},
		{[]string{"import", dir, "--format", "zz"}, `rlt import: --format: `},
		{[]string{"open", "--format", "zz", dir}, `rlt open: --format: `},
		{[]string{"train", "--steps", "x"}, `rlt train: invalid value "x" for flag --steps: parse error: want a whole number`},
		{[]string{"train", "--teacher", model, "--student", model, "--steps", "-2"}, "rlt train: --steps -2: want at least 0"},
		{[]string{"run", "--headless", "--device", "tpu"}, `rlt run: --device "tpu": want cpu, gpu, gpu:N or auto`},
		{[]string{"generate", "--model", model, "--prompt", "x", "--top-p", "2"}, "rlt generate: --top-p 2 must be in (0, 1] (1 = off)"},
		{[]string{"serve", "--model", model, "--api", "grpc"}, `rlt serve: --api "grpc": want `},
		{[]string{"score", "--teacher", model, "--student", model, "--timeout", "-1s"}, "rlt score: --timeout -1s: want a positive duration"},
		{[]string{"score", "--teacher", model, "--student", model, "--c3", "-3"}, "rlt score: --c3 -3 is negative"},
		{[]string{"logprobs", "--model", model, "--weights", "f8"}, "rlt logprobs: --weights"},
		{[]string{"model", "init", "--config", "x.json", "--out", filepath.Join(dir, "m"), "--dtype", "f8"}, "rlt model init: --dtype"},
		{[]string{"model", "info", model, "--device", "tpu"}, `rlt model info: --device "tpu": want cpu, gpu, gpu:N or auto`},
		{[]string{"pretrain", "--out", filepath.Join(dir, "p"), "--only", "both"}, `rlt pretrain: --only "both": want one of `},
		{[]string{"distill", "--teacher", model, "--out", filepath.Join(dir, "d"), "--task", "nope"}, `rlt distill: --task "nope": want one of `},
		{[]string{"eval", "--student", model, "--questions", "-5"}, "rlt eval: --questions -5: want at least 1"},
	} {
		code, out, errs := runCLI(t, "", c.args...)
		lines := strings.Split(strings.TrimSuffix(errs, "\n"), "\n")
		cmd, _, _ := strings.Cut(c.line, ": ") // "rlt model info"
		help := "See '" + cmd + " --help'."
		if code != 2 || out != "" || len(lines) != 2 || !strings.HasPrefix(lines[0], c.line) || lines[1] != help {
			t.Errorf("rlt %s: exit %d, stdout %q, stderr:\n%s\nwant exit 2, nothing on stdout, and on stderr only %q… and %q", strings.Join(c.args, " "), code, out, errs, c.line, help)
		}
	}
}
