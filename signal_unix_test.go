//go:build unix

package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/sessions"
)

// The commands' stops by a signal, tested by sending this process a real
// SIGTERM (syscall.Kill: not on Windows, where Ctrl-C is os.Interrupt and a
// process cannot signal itself so).

// runUntilSignal runs rlt args in this process, sends it SIGTERM once its
// stderr holds started (the command is then working under its own signal
// handler), and returns its exit code and stderr. The test's own handler
// keeps the signal's default action (ending the test binary) off.
func runUntilSignal(t *testing.T, started string, args ...string) (int, string) {
	t.Helper()
	return runUntilSignalAfter(t, started, func() {}, args...)
}

// runUntilSignalAfter is runUntilSignal with before run once stderr holds
// started, just before the signal: what happens to the disk while a
// command works.
func runUntilSignalAfter(t *testing.T, started string, before func(), args ...string) (int, string) {
	t.Helper()
	code, _, errs := runUntilSignalOn(t, syscall.SIGTERM, strings.NewReader(""), func(_, stderr string) bool { return strings.Contains(stderr, started) }, before, args...)
	return code, errs
}

// runUntilSignalOn runs rlt args in this process with stdin given, and
// sends it sig (SIGTERM, SIGHUP, …) once started holds of the output so
// far, before run just before it; it gives the exit code, stdout and
// stderr. The test's own handler keeps the default action of sig and of
// SIGTERM (ending the test binary) off; a command that does not stop on
// another signal in 2 minutes is stopped with SIGTERM, which every command
// here catches, and said.
func runUntilSignalOn(t *testing.T, sig syscall.Signal, stdin io.Reader, started func(stdout, stderr string) bool, before func(), args ...string) (int, string, string) {
	t.Helper()
	absorb := make(chan os.Signal, 1)
	signal.Notify(absorb, sig, syscall.SIGTERM)
	defer signal.Stop(absorb)
	var stdout, stderr lockedBuf
	done := make(chan int, 1)
	go func() { done <- run(args, stdin, &stdout, &stderr) }()
	deadline := time.After(2 * time.Minute)
	for !started(stdout.String(), stderr.String()) {
		select {
		case code := <-done:
			t.Fatalf("rlt %v ended (exit %d) before it was under way: %s", args, code, stderr.String())
		case <-deadline:
			t.Fatalf("rlt %v: not under way in 2 minutes: %s", args, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	before()
	if err := syscall.Kill(os.Getpid(), sig); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		return code, stdout.String(), stderr.String()
	case <-time.After(2 * time.Minute):
		if sig == syscall.SIGTERM {
			t.Fatalf("rlt %v did not stop on SIGTERM: %s", args, stderr.String())
		}
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
		<-done
		t.Fatalf("rlt %v did not stop on %v (SIGTERM stopped it): %s", args, sig, stderr.String())
	}
	return 0, "", ""
}

// TestLineCommandsStoppedBySignal: rlt logprobs and rlt tokenize stopped
// by a signal stop after the line in progress, stdout holding each result
// before it whole and as many as they say, and say how far they got (exit
// 1); they were killed (exit 130) with stdout cut mid-line
// (`…"logprobs":[null,-12`).
func TestLineCommandsStoppedBySignal(t *testing.T) {
	const line = `{"text": "3471+2859=? Add the digits from the right, carrying one where the sum passes nine."}` + "\n"
	for _, args := range [][]string{
		{"logprobs", "--model", distillTeacher, "--device", "cpu"},
		{"tokenize", "--tokenizer", distillTeacher},
	} {
		t.Run(args[0], func(t *testing.T) {
			code, out, errs := runUntilSignalOn(t, syscall.SIGTERM, &endlessLines{line: line}, func(stdout, _ string) bool { return len(stdout) > 0 }, func() {}, args...)
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			last := lines[len(lines)-1]
			m := regexp.MustCompile(`^rlt ` + args[0] + `: stopped by a signal after (\d+) input lines?: stdout holds the result of each whole; run it again on the lines after line (\d+) to go on$`).FindStringSubmatch(last)
			if code != 1 || m == nil || m[1] != m[2] {
				t.Fatalf("exit %d, last line %q; want exit 1 and how far it got", code, last)
			}
			if !strings.HasSuffix(out, "\n") {
				t.Errorf("stdout ends mid-line: …%q", out[max(0, len(out)-60):])
			}
			results := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			for i, r := range results {
				if !json.Valid([]byte(r)) {
					t.Fatalf("result %d is not whole JSON: %q", i+1, r)
				}
			}
			if n, _ := strconv.Atoi(m[1]); n != len(results) {
				t.Errorf("it says %s lines, stdout holds %d", m[1], len(results))
			}
		})
	}
}

// TestModelInitStoppedBySignal: rlt model init stopped by a signal while
// drawing the weights stops within a chunk, leaves nothing in --out's
// folder (no hidden staging folder of gigabytes, which it left when the
// signal killed it) and says so (exit 1).
func TestModelInitStoppedBySignal(t *testing.T) {
	dir := t.TempDir()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil || uint64(st.Bavail)*uint64(st.Bsize) < 2<<30 {
		t.Skipf("the room check needs ~0.4 GB free for the shape, and the test wants 2 GB: %v", err)
	}
	shape := filepath.Join(dir, "shape.json")
	// 205M parameters, 410 MB in BF16: more than is drawn before the signal.
	if err := os.WriteFile(shape, []byte(`{"vocab_size": 100000, "hidden_size": 2048, "intermediate_size": 64, "num_hidden_layers": 1,
		"num_attention_heads": 16, "num_key_value_heads": 16, "tie_word_embeddings": true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "models", "big")
	code, errs := runUntilSignal(t, "drawing ", "model", "init", "--config", shape, "--out", out, "--dtype", "bf16")
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	want := "rlt model init: stopped by a signal while drawing the weights: nothing was written to " + out + "; to make the model, run the same command again"
	if code != 1 || lines[len(lines)-1] != want {
		t.Errorf("exit %d, stderr %q; want exit 1 and %q", code, errs, want)
	}
	if entries, err := os.ReadDir(filepath.Dir(out)); err == nil && len(entries) > 0 {
		t.Errorf("left in --out's folder: %v", entries)
	}
}

// endlessLines is stdin that never ends: line after line, as a producer
// piping into the command does, so the signal comes before its end.
type endlessLines struct {
	line string
	at   int
}

func (e *endlessLines) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], e.line[e.at:])
		n += c
		e.at = (e.at + c) % len(e.line)
	}
	return n, nil
}

// A distill stopped by a signal says so, how far the student got, what is
// left (the rows, kept) and, as a rerun into the same --out does, the
// command that trains the student on them; not a bare "context canceled".
func TestDistillStoppedBySignal(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	code, errs := runUntilSignal(t, "student step 1/", "distill", "--reference", "--tokenizer-from", distillTeacher,
		"--out", out, "--questions", "6", "--steps", "1000000", "--batch", "2", "--device", "cpu")
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	last := lines[len(lines)-1]
	rows := filepath.Join(out, "distill.jsonl")
	learn := "rlt distill --reference --tokenizer-from " + distillTeacher + " --data " + rows + " --out " + out + "-student --batch 2 --device cpu --steps 1000000"
	for _, want := range []string{"rlt distill: stopped by a signal after ", " of 1000000 student steps: " + rows + " keeps its 6 rows; the student was not saved; run " + learn +
		" to train the student on them without explaining again, or remove " + rows + " and run this command again"} {
		if code != 1 || !strings.Contains(last, want) {
			t.Errorf("exit %d, last line %q; want exit 1 and %q", code, last, want)
		}
	}
	if data, err := os.ReadFile(rows); err != nil || strings.Count(string(data), "\n") != 6 {
		t.Errorf("%s after the stop: %d lines (%v); want the 6 rows kept", rows, strings.Count(string(data), "\n"), err)
	}
	if _, err := os.Stat(filepath.Join(out, "student")); err == nil {
		t.Errorf("a stopped distill wrote %s", filepath.Join(out, "student"))
	}
	// What the message says of a rerun holds.
	code, _, errs = runCLI(t, "", "distill", "--reference", "--tokenizer-from", distillTeacher,
		"--out", out, "--questions", "6", "--steps", "1000000", "--batch", "2", "--device", "cpu")
	if want := rows + " holds the rows of a distill that saved no student: run " + learn + " to train"; code != 1 || !strings.Contains(errs, want) {
		t.Errorf("rerun into %s: exit %d, %q; want exit 1 and %q", out, code, errs, want)
	}
}

// A pretrain stopped by a signal says so and what it leaves: nothing while
// the teacher trains (the same command starts again), the whole teacher
// while the student trains, with the command that keeps it and trains the
// student alone (the same flags and --resume), not a bare "context
// canceled". That command makes the models an uninterrupted pretrain
// makes, byte for byte, without training the teacher again; a rerun
// without --resume is still refused, and one with nothing left to train
// says so. The message said to remove the folder, throwing the teacher
// away.
func TestPretrainStoppedBySignal(t *testing.T) {
	whole := filepath.Join(t.TempDir(), "whole")
	if code, _, errs := runCLI(t, "", "pretrain", "--out", whole, "--steps", "200", "--batch", "1"); code != 0 {
		t.Fatalf("uninterrupted pretrain: exit %d: %s", code, errs)
	}
	for _, c := range []struct {
		during  string // the progress line after which the signal comes
		last    func(out string) string
		teacher bool // whether out/teacher holds the trained teacher
	}{
		{"teacher step 1/", func(out string) string {
			return "rlt pretrain: stopped by a signal while training the teacher: nothing was written to " + out + "; to start again, run the same command"
		}, false},
		{"student step 1/", func(out string) string {
			return "rlt pretrain: stopped by a signal while training the student: " + filepath.Join(out, "teacher") +
				" holds the trained teacher, whole; the student was not written; to train the student alone and keep it, run rlt pretrain --out " + out +
				" --batch 1 --steps 200 --resume (or remove " + out + " and run this command again)"
		}, true},
	} {
		out := filepath.Join(t.TempDir(), "out")
		code, errs := runUntilSignal(t, c.during, "pretrain", "--out", out, "--steps", "200", "--batch", "1")
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if last := lines[len(lines)-1]; code != 1 || last != c.last(out) {
			t.Errorf("stopped after %q: exit %d, last line %q; want exit 1 and %q", c.during, code, last, c.last(out))
		}
		if got := modelFile(filepath.Join(out, "teacher")) != ""; got != c.teacher {
			t.Errorf("stopped after %q: %s/teacher holds a model: %v; want %v", c.during, out, got, c.teacher)
		}
		if _, err := os.Stat(filepath.Join(out, "student")); err == nil {
			t.Errorf("stopped after %q: the student was written", c.during)
		}
		if !c.teacher {
			// What the message says of a rerun holds.
			if code, _, errs = runCLI(t, "", "pretrain", "--out", out, "--steps", "1", "--batch", "1"); code != 0 {
				t.Errorf("rerun after a stop during the teacher: exit %d, %q; want it to run", code, errs)
			}
			continue
		}
		code, _, errs = runCLI(t, "", "pretrain", "--out", out, "--steps", "200", "--batch", "1")
		if code != 1 || !strings.Contains(errs, "already holds a model") {
			t.Errorf("rerun without --resume after a stop during the student: exit %d, %q; want it refused", code, errs)
		}
		_, said, _ := strings.Cut(c.last(out), ", run rlt ")
		said, _, _ = strings.Cut(said, " (or remove")
		code, stdout, errs := runCLI(t, "", strings.Fields(said)...)
		if code != 0 || strings.Contains(errs, "teacher step") || !strings.Contains(errs, "keeping "+filepath.Join(out, "teacher")+", trained before") ||
			stdout != "wrote "+filepath.Join(out, "student")+" beside the "+filepath.Join(out, "teacher")+" kept\n" {
			t.Fatalf("rlt %s: exit %d, stdout %q, stderr %q; want the student trained alone beside the teacher kept", said, code, stdout, errs)
		}
		for _, name := range []string{"teacher", "student"} {
			got, _ := os.ReadFile(filepath.Join(out, name, "model.safetensors"))
			want, _ := os.ReadFile(filepath.Join(whole, name, "model.safetensors"))
			if len(want) == 0 || !bytes.Equal(got, want) {
				t.Errorf("the resumed pretrain's %s differs from the uninterrupted one's (%d bytes, %d)", name, len(got), len(want))
			}
		}
		code, stdout, _ = runCLI(t, "", strings.Fields(said)...)
		if code != 0 || stdout != out+"/teacher and "+out+"/student are there already: nothing to train\n" {
			t.Errorf("--resume with both models there: exit %d, stdout %q", code, stdout)
		}
	}
}

// A distill stopped by a signal while the teacher writes its explanations
// says so, and that nothing was written; not a bare end of the process.
func TestDistillStoppedWhileExplaining(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	code, errs := runUntilSignal(t, "explaining 640 questions", "distill", "--teacher", distillTeacher,
		"--out", out, "--questions", "640", "--device", "cpu")
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	last := lines[len(lines)-1]
	for _, want := range []string{"rlt distill: stopped by a signal after the teacher explained ", " of 640 questions: nothing was written to " + out + "; to start again, run the same command"} {
		if code != 1 || !strings.Contains(last, want) {
			t.Errorf("exit %d, last line %q; want exit 1 and %q", code, last, want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a distill stopped while explaining made %s", out)
	}
}

// A train stopped by a signal before its steps saves no teacher and exits
// 1 saying how far it got, so `rlt train --save T && rlt distill --teacher
// T` stops there; with --steps 0 (until interrupted) the signal is the
// planned end, and the teacher is saved, saying how many steps it trained
// in the number's own grammar ("trained 1 step", not "1 steps").
func TestTrainStoppedBySignal(t *testing.T) {
	for _, c := range []struct {
		steps string
		code  int
		last  func(out string) *regexp.Regexp
		saved bool
	}{
		{"1000000", 1, func(out string) *regexp.Regexp {
			return regexp.MustCompile(regexp.QuoteMeta(" of 1000000 steps: no teacher was written to " + out + "; to train it, run the same command again"))
		}, false},
		{"0", 0, func(out string) *regexp.Regexp {
			return regexp.MustCompile(`^saved the teacher, trained (1 step|(0|[2-9]|[1-9][0-9]+) steps), to ` + regexp.QuoteMeta(out) + `$`)
		}, true},
	} {
		out := filepath.Join(t.TempDir(), "trained")
		// Signalled once step 0 is done (its metrics line), in step 1,
		// which ends first (TestTrainFirstSignalEndsTheStep).
		code, errs := runUntilSignal(t, "step 0  reward", "train", "--teacher", distillTeacher, "--student", "engine/defaults/models/student",
			"--steps", c.steps, "--save", out, "--device", "cpu")
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if last := lines[len(lines)-1]; code != c.code || !c.last(out).MatchString(last) {
			t.Errorf("--steps %s: exit %d, last line %q; want exit %d and a match of %s", c.steps, code, last, c.code, c.last(out))
		}
		if got := modelFile(out) != ""; got != c.saved {
			t.Errorf("--steps %s: %s holds a model: %v; want %v", c.steps, out, got, c.saved)
		}
	}
}

// TestTrainFirstSignalEndsTheStep: rlt train's first stop signal, sent
// in step 1 (once step 0's metrics line is out), ends that step, said at
// once, as rlt run --headless stops (runner.StopAfterTheStep): in the
// last planned step, the run is done and its teacher saved, exit 0; in an
// earlier one, it says the steps done with it, exit 1. A second signal
// drops the step in progress at once. The first dropped it, as its engine
// ran on the signal's context: "stopped by a signal after 1 of 2 steps:
// no teacher was written", the step lost.
func TestTrainFirstSignalEndsTheStep(t *testing.T) {
	// Steps of a second or more on the embedded models: the signal comes
	// within step 1.
	cfg := filepath.Join(t.TempDir(), "train.toml")
	if err := os.WriteFile(cfg, []byte("eval_every = 0\n[grpo]\nquestions = 8\nsamples = 4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, steps string
		second      bool // a second signal (SIGINT, then SIGTERM)
		code        int
		last        string // stderr's last line, OUT the --save folder
	}{
		{"in the last step", "2", false, 0, `^saved the teacher, trained 2 steps, to OUT$`},
		{"before the last step", "3", false, 1, `stopped by a signal after 2 of 3 steps: no teacher was written to OUT; `},
		{"a second signal", "3", true, 1, `stopped by a signal after 1 of 3 steps: no teacher was written to OUT; `},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "trained")
			before := func() {}
			if c.second {
				before = func() {
					if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
						t.Fatal(err)
					}
				}
			}
			code, errs := runUntilSignalAfter(t, "step 0  reward", before, "train", "--config", cfg, "--teacher", distillTeacher, "--student", "engine/defaults/models/student",
				"--steps", c.steps, "--save", out, "--device", "cpu")
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			want := regexp.MustCompile(strings.Replace(c.last, "OUT", regexp.QuoteMeta(out), 1))
			if last := lines[len(lines)-1]; code != c.code || !want.MatchString(last) {
				t.Fatalf("exit %d, last line %q; want exit %d and a match of %s:\n%s", code, last, c.code, want, errs)
			}
			if !strings.Contains(errs, trainStoppingAfterTheStep+"\n") {
				t.Errorf("the signal is not said as it came (%q):\n%s", trainStoppingAfterTheStep, errs)
			}
		})
	}
}

// rlt run --resume DIR --steps 0 runs until interrupted, as --steps 0 does
// everywhere, and records 0 as the run's plan; it used to be read as no
// --steps at all ("2 are asked for: nothing to run").
func TestResumeWithStepsZeroRunsUntilInterrupted(t *testing.T) {
	runDir := runOneStep(t, "steps = 1\n")
	code, errs := runUntilSignal(t, "step 2  reward", "run", "--resume", runDir, "--steps", "0", "--headless")
	if code != 0 || !strings.Contains(errs, "resuming") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var c runconfig.Config
	if _, err := sessions.ReadConfigFile(filepath.Join(runDir, sessions.ConfigFile), "run", &c); err != nil || c.Steps != 0 {
		t.Errorf("config.toml records steps %d (%v), want 0: until interrupted", c.Steps, err)
	}
}

// rlt run --headless stopped by a signal before its planned steps says so
// and exits 1 (its folder complete and resumable), as rlt train does.
func TestHeadlessStoppedBySignalBeforeItsSteps(t *testing.T) {
	runDir := runOneStep(t, "steps = 1\n")
	code, errs := runUntilSignal(t, "step 1  reward", "run", "--resume", runDir, "--steps", "1000", "--headless")
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	want := " of 1000 steps; the run folder " + runDir + " is complete: rlt run --resume " + runDir + " continues it"
	if last := lines[len(lines)-1]; code != 1 || !strings.Contains(last, "stopped by a signal after ") || !strings.HasSuffix(last, want) {
		t.Errorf("exit %d, last line %q; want exit 1 and %q", code, last, want)
	}
}

// An eval stopped by a signal says so and what it leaves (nothing: its
// results come once every question is answered), with the student alone
// and with a teacher; it was killed by the signal, exit 130 and no word.
// The signal comes once the device is open: while the models load (said
// so, loadStopped) or, the load done, while the questions are answered.
func TestEvalStoppedBySignal(t *testing.T) {
	for _, c := range []struct {
		args []string
		who  string
	}{
		{[]string{"--student", distillTeacher}, "the student answered"},
		{[]string{"--teacher", distillTeacher, "--student", distillTeacher}, "the teacher explained and the student answered"},
	} {
		// 500 questions take seconds; a --max-new-tokens past the room the
		// prompts leave in the models' positions is refused before any
		// (TestBudgetPastTheRoom).
		args := append(append([]string{"eval"}, c.args...), "--questions", "500", "--max-new-tokens", "160", "--device", "cpu")
		code, errs := runUntilSignal(t, "rlt eval: computing on ", args...)
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		want := "rlt eval: stopped by a signal while " + c.who + " the 500 questions: no result was printed (they are printed once every question is answered) and nothing was written; to evaluate, run the same command again (a smaller --questions takes less time)"
		// The signal races the load: it may stop it within a tensor, or
		// come as its last tensor was read, when loadStopped has no place
		// to say (the load returned no error).
		loading := regexp.MustCompile(`^rlt eval: stopped by a signal before its first question, while the models? loaded(?: \(.+/model\.safetensors: tensor "[^"]+": stopped before it, \d+ of \d+ tensors read\))?: nothing was written; to evaluate, run the same command again$`)
		if last := lines[len(lines)-1]; code != 1 || last != want && !loading.MatchString(last) {
			t.Errorf("rlt %v: exit %d, stderr %q; want exit 1 and %q (or, stopped as the models loaded, a match of %s)", args, code, errs, want, loading)
		}
	}
}
