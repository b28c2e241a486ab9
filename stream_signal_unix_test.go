//go:build unix

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

// endlessTextModel is a model folder that writes until it is stopped: a
// random tiny model with 65,536 positions whose tokenizer has no stop token
// (<|im_end|> and <|endoftext|> renamed), so that a signal always comes
// while rlt generate samples.
func endlessTextModel(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	shape := filepath.Join(dir, "shape.json")
	if err := os.WriteFile(shape, []byte(`{"vocab_size": 1216, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
		"num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 65536, "tie_word_embeddings": true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "model")
	if code, _, errs := runCLI(t, "", "model", "init", "--config", shape, "--out", out, "--dtype", "f32", "--tokenizer", tokenizerFixture); code != 0 {
		t.Fatalf("model init: exit %d: %s", code, errs)
	}
	tj := filepath.Join(out, "tokenizer.json")
	b, err := os.ReadFile(tj)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer("<|im_end|>", "<|im_on|>", "<|endoftext|>", "<|moretext|>").Replace(string(b))
	if err := os.WriteFile(tj, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestStreamingCommandsStoppedBySignal: rlt score reading stdin or a run
// (--run --write) and rlt generate, run as their own process and sent Ctrl-C's SIGINT, a kill's
// SIGTERM or a closed terminal's SIGHUP once stdout holds something, stop
// cleanly as the line commands do: exit 1 (not killed by the signal),
// stdout ending with a newline and holding only whole records (score: whole
// JSON lines, as many as it says, with --write as many stored; generate:
// whole UTF-8 text), and the last line of stderr saying how far they got.
// They were killed, stdout cut where the signal came, without a word.
func TestStreamingCommandsStoppedBySignal(t *testing.T) {
	bin := buildRLT(t, t.TempDir())
	model := endlessTextModel(t)
	const row = `{"question":"347+285=?","solution":"632","explanation":"7+5=12 write 2 carry 1, 4+8+1=13 write 3 carry 1, 3+2+1=6: 632"}` + "\n"
	// A run folder of many traces to score with --run, made anew for each
	// signal (--write stores in it).
	manyTraces := filepath.Join(t.TempDir(), "traces.jsonl")
	if err := os.WriteFile(manyTraces, []byte(strings.Repeat(row, 3000)), 0o644); err != nil {
		t.Fatal(err)
	}
	var runDir string
	newRun := func(t *testing.T) {
		runDir = filepath.Join(t.TempDir(), "imported")
		if code, _, errs := runCLI(t, "", "import", manyTraces, "--out", runDir); code != 0 {
			t.Fatalf("import: exit %d: %s", code, errs)
		}
	}
	for _, c := range []struct {
		name  string
		args  []string
		stdin bool // endless score rows on stdin
		setup func(t *testing.T)
		last  *regexp.Regexp
		check func(t *testing.T, stdout string, said []string)
	}{
		{"score", []string{"score", "--teacher", distillTeacher, "--student", "engine/defaults/models/student", "--batch", "2", "--device", "cpu"}, true, nil,
			regexp.MustCompile(`^rlt score: stopped by a signal after (\d+) input lines?: stdout holds the result of each whole \(a batch being scored is finished, the lines read after it dropped\); run it again on the lines after line (\d+) to go on$`),
			func(t *testing.T, stdout string, said []string) {
				results := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
				for i, r := range results {
					var v struct{ Line int }
					if err := json.Unmarshal([]byte(r), &v); err != nil || v.Line != i+1 {
						t.Fatalf("result %d is not the whole JSON of line %d: %q (%v)", i+1, i+1, r, err)
					}
				}
				if n, _ := strconv.Atoi(said[1]); said[1] != said[2] || n != len(results) {
					t.Errorf("it says %s and %s lines, stdout holds %d", said[1], said[2], len(results))
				}
			}},
		{"score --run", []string{"score", "--teacher", distillTeacher, "--student", "engine/defaults/models/student", "--batch", "2", "--device", "cpu", "--write", "--run"}, false, newRun,
			regexp.MustCompile(`^rlt score: stopped by a signal after (\d+) of 3000 traces: stdout holds the result of each whole \(a batch being scored is finished, the traces after it not scored\); (\d+) stored in .+/rescores\.jsonl: run the same command again to score the rest$`),
			func(t *testing.T, stdout string, said []string) {
				results := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
				for i, r := range results {
					var v struct {
						Line  int
						Trace string
					}
					if err := json.Unmarshal([]byte(r), &v); err != nil || v.Line != i+1 || v.Trace == "" {
						t.Fatalf("result %d is not the whole JSON of trace %d: %q (%v)", i+1, i+1, r, err)
					}
				}
				stored, err := os.ReadFile(filepath.Join(runDir, "rescores.jsonl"))
				if err != nil {
					t.Fatal(err)
				}
				if n, _ := strconv.Atoi(said[1]); said[1] != said[2] || n != len(results) || strings.Count(string(stored), "\n") != n {
					t.Errorf("it says %s traces and %s stored; stdout holds %d, rescores.jsonl %d lines", said[1], said[2], len(results), strings.Count(string(stored), "\n"))
				}
			}},
		{"generate", []string{"generate", "--model", model, "--prompt", "347+285=?", "--max-new-tokens", "60000", "--temperature", "1", "--device", "cpu"}, false, nil,
			regexp.MustCompile(`^rlt generate: stopped by a signal after \d+ tokens?: stdout holds the text printed so far, whole characters, cut short; the same command \(--seed 1\) gives the whole text$`),
			func(t *testing.T, stdout string, _ []string) {
				if !utf8.ValidString(stdout) {
					t.Errorf("stdout is not whole UTF-8: …%q", stdout[max(0, len(stdout)-20):])
				}
			}},
	} {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
			t.Run(c.name+"/"+sig.String(), func(t *testing.T) {
				var stdout, stderr lockedBuf
				args := c.args
				if c.setup != nil {
					c.setup(t)
					args = append(slices.Clone(args), runDir)
				}
				cmd := exec.Command(bin, args...)
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				if c.stdin {
					cmd.Stdin = &endlessLines{line: row}
				}
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				waited := make(chan error, 1)
				go func() { waited <- cmd.Wait() }()
				deadline := time.After(2 * time.Minute)
				for stdout.String() == "" {
					select {
					case err := <-waited:
						t.Fatalf("rlt %v ended (%v) before it wrote: %s", c.args, err, stderr.String())
					case <-deadline:
						cmd.Process.Kill()
						t.Fatalf("rlt %v wrote nothing in 2 minutes: %s", c.args, stderr.String())
					case <-time.After(20 * time.Millisecond):
					}
				}
				if err := cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				select {
				case <-waited:
				case <-time.After(2 * time.Minute):
					cmd.Process.Kill()
					t.Fatalf("rlt %v did not stop on %v: %s", c.args, sig, stderr.String())
				}
				ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
				lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
				last := lines[len(lines)-1]
				said := c.last.FindStringSubmatch(last)
				if ws.Signaled() || ws.ExitStatus() != 1 || said == nil {
					t.Fatalf("killed: %v (%v), exit %d, stderr's last line %q; want exit 1 and a match of %s", ws.Signaled(), ws.Signal(), ws.ExitStatus(), last, c.last)
				}
				out := stdout.String()
				if !strings.HasSuffix(out, "\n") {
					t.Errorf("stdout ends mid-record: …%q", out[max(0, len(out)-60):])
				}
				c.check(t, out, said)
			})
		}
	}
}
