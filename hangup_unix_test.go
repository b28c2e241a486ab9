//go:build unix

package main

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// runUntilHangup is runUntilSignal with SIGHUP, which a closed terminal
// window or a dropped ssh connection sends, for SIGTERM (runUntilSignalOn:
// a command that does not stop on it is stopped with SIGTERM, and said).
func runUntilHangup(t *testing.T, started string, args ...string) (int, string) {
	t.Helper()
	code, _, errs := runUntilSignalOn(t, syscall.SIGHUP, strings.NewReader(""), func(_, stderr string) bool { return strings.Contains(stderr, started) }, func() {}, args...)
	return code, errs
}

// TestStoppedByHangup: the commands that write a model folder (rlt
// pretrain, distill, train --save, model init) stop on SIGHUP as on
// Ctrl-C and SIGTERM, and say what they leave, as the workbench and rlt
// run --headless do (stopSignals); a closed terminal or a dropped ssh
// connection killed them, a save midway included, leaving its staging
// folder.
func TestStoppedByHangup(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, started string
		args          func(out string) []string
		want          func(out string) string // in stderr's last line
	}{
		{"pretrain", "teacher step 1/", func(out string) []string {
			// 100,000 steps (some 50 minutes at batch 1), not a million:
			// pretrain weighs its corpus of --steps × --batch examples
			// against the host's available memory before it trains
			// (checkPretrainMemory), 458.7 MiB in all at a million, which a
			// loaded CI host may not have free; 391.1 MiB so, the teacher
			// check after the training (both models sampling) the most of
			// it at this size (the training and corpus ~128 MiB).
			return []string{"pretrain", "--out", out, "--steps", "100000", "--batch", "1"}
		}, func(out string) string {
			return "rlt pretrain: stopped by a signal while training the teacher: nothing was written to " + out + "; to start again, run the same command"
		}},
		{"distill", "student step 1/", func(out string) []string {
			return []string{"distill", "--reference", "--tokenizer-from", distillTeacher, "--out", out, "--questions", "6", "--steps", "1000000", "--batch", "2", "--device", "cpu"}
		}, func(out string) string {
			return " of 1000000 student steps: " + filepath.Join(out, distillRows) + " keeps its 6 rows; the student was not saved"
		}},
		// Once step 0 is done (its metrics line), not within it: see
		// TestTrainStoppedBySignal.
		{"train", "step 0  reward", func(out string) []string {
			return []string{"train", "--teacher", distillTeacher, "--student", "engine/defaults/models/student", "--steps", "1000000", "--save", out, "--device", "cpu"}
		}, func(out string) string {
			return " of 1000000 steps: no teacher was written to " + out + "; to train it, run the same command again"
		}},
		{"model init", "drawing ", func(out string) []string {
			// 205M parameters, 410 MB in BF16, as TestModelInitStoppedBySignal draws.
			shape := filepath.Join(dir, "shape.json")
			os.WriteFile(shape, []byte(`{"vocab_size": 100000, "hidden_size": 2048, "intermediate_size": 64, "num_hidden_layers": 1,
				"num_attention_heads": 16, "num_key_value_heads": 16, "tie_word_embeddings": true}`), 0o644)
			return []string{"model", "init", "--config", shape, "--out", out, "--dtype", "bf16"}
		}, func(out string) string {
			return "rlt model init: stopped by a signal while drawing the weights: nothing was written to " + out + "; to make the model, run the same command again"
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, c.name)
			var st syscall.Statfs_t
			if err := syscall.Statfs(dir, &st); c.name == "model init" && (err != nil || uint64(st.Bavail)*uint64(st.Bsize) < 2<<30) {
				t.Skipf("the room check needs ~0.4 GB free for the shape, and the test wants 2 GB: %v", err)
			}
			code, errs := runUntilHangup(t, c.started, c.args(out)...)
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			if last := lines[len(lines)-1]; code != 1 || !strings.Contains(last, c.want(out)) {
				t.Errorf("exit %d, last line %q; want exit 1 and %q", code, last, c.want(out))
			}
		})
	}
}

// TestHangupStopsWhatWritesNoFolder: rlt eval, rlt serve and the line
// commands (rlt tokenize, rlt logprobs) stop on SIGHUP as on Ctrl-C and
// SIGTERM (stopSignals): eval within a token, saying it printed nothing;
// serve gracefully, the requests in hand answered; a line command after
// the line in progress, stdout holding each result whole. A closed
// terminal or a dropped ssh connection killed them (exit 129), a line
// command's stdout cut mid-line, without a word.
func TestHangupStopsWhatWritesNoFolder(t *testing.T) {
	const line = `{"text": "3471+2859=? Add the digits from the right, carrying one where the sum passes nine."}` + "\n"
	lineStopped := func(cmd string) *regexp.Regexp {
		return regexp.MustCompile(`^rlt ` + cmd + `: stopped by a signal after \d+ input lines?: stdout holds the result of each whole; run it again on the lines after line \d+ to go on$`)
	}
	for _, c := range []struct {
		name    string
		args    []string
		stdin   io.Reader
		started func(stdout, stderr string) bool
		code    int
		last    *regexp.Regexp // stderr's last line
		lines   bool           // stdout is the results' JSON Lines
	}{
		{"eval", []string{"eval", "--student", distillTeacher, "--questions", "500", "--max-new-tokens", "160", "--device", "cpu"}, strings.NewReader(""),
			func(_, stderr string) bool { return strings.Contains(stderr, "rlt eval: computing on ") }, 1,
			// The signal comes once the device is open: as the model loads, or once it has.
			regexp.MustCompile("^rlt eval: stopped by a signal (" + regexp.QuoteMeta("while the student answered the 500 questions: no result was printed") + " |" +
				`before its first question, while the model loaded \(.+: nothing was written; to evaluate, run the same command again$)`), false},
		{"serve", []string{"serve", "--model", distillTeacher, "--listen", "127.0.0.1:0"}, strings.NewReader(""),
			func(stdout, _ string) bool { return strings.Contains(stdout, "serving ") }, 0, regexp.MustCompile(`^rlt serve: stopped$`), false},
		{"tokenize", []string{"tokenize", "--tokenizer", distillTeacher}, &endlessLines{line: line},
			func(stdout, _ string) bool { return len(stdout) > 0 }, 1, lineStopped("tokenize"), true},
		{"logprobs", []string{"logprobs", "--model", distillTeacher, "--device", "cpu"}, &endlessLines{line: line},
			func(stdout, _ string) bool { return len(stdout) > 0 }, 1, lineStopped("logprobs"), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, errs := runUntilSignalOn(t, syscall.SIGHUP, c.stdin, c.started, func() {}, c.args...)
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			if last := lines[len(lines)-1]; code != c.code || !c.last.MatchString(last) {
				t.Errorf("exit %d, last line %q; want exit %d and a match of %s", code, last, c.code, c.last)
			}
			if c.lines && !strings.HasSuffix(stdout, "\n") {
				t.Errorf("stdout ends mid-line: …%q", stdout[max(0, len(stdout)-60):])
			}
		})
	}
}
