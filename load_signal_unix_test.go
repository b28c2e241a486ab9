//go:build unix

package main

import (
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// bigModel is a model folder whose load takes a while: a 128 MiB float32
// embedding (32,768 rows of 1,024), more than stopEvery, so that a signal
// sent as the load begins lands within it.
func bigModel(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	shape := filepath.Join(dir, "shape.json")
	if err := os.WriteFile(shape, []byte(`{"vocab_size": 32768, "hidden_size": 1024, "intermediate_size": 64, "num_hidden_layers": 1,
		"num_attention_heads": 8, "num_key_value_heads": 8, "max_position_embeddings": 1024, "tie_word_embeddings": true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "big")
	if code, _, errs := runCLI(t, "", "model", "init", "--config", shape, "--out", out, "--dtype", "f32", "--tokenizer", tokenizerFixture); code != 0 {
		t.Fatalf("model init: exit %d: %s", code, errs)
	}
	return out
}

// TestCommandsStoppedBySignalWhileTheModelsLoad: a SIGTERM that comes as a
// command's models begin to load (said on stderr just before: the device
// it computes on, a run's loading progress) stops the load before its
// next tensor or within the large embedding, and the command with one
// line, exit 1, as its other stops: that it stopped before its first
// unit of work, while the models loaded, the checkpoint file and tensor
// it stopped at, that nothing was written, and the way on; stdout holds
// nothing and --save's folder is not made. The load went on to its end
// under the signal: rlt logprobs then answered its input, rlt eval
// answered questions and stopped in other words, rlt train trained.
func TestCommandsStoppedBySignalWhileTheModelsLoad(t *testing.T) {
	big := bigModel(t)
	save := filepath.Join(t.TempDir(), "trained")
	const row = `{"question":"347+285=?","solution":"632","explanation":"7+5=12 write 2 carry 1, 4+8+1=13 write 3 carry 1, 3+2+1=6: 632"}` + "\n"
	for _, c := range []struct {
		args             []string
		stdin            string
		at               string // the stderr line the signal comes after
		unit, what, goOn string
	}{
		{[]string{"logprobs", "--model", big, "--device", "cpu"}, `{"text": "347+285=?"}` + "\n", "rlt logprobs: computing on ",
			"input line", "the model loaded", "run the same command again"},
		{[]string{"eval", "--teacher", big, "--student", big, "--questions", "3", "--device", "cpu"}, "", "rlt eval: computing on ",
			"question", "the models loaded", "to evaluate, run the same command again"},
		{[]string{"score", "--teacher", big, "--student", big, "--device", "cpu"}, row, "rlt score: computing on ",
			"input line", "the models loaded", "run the same command again"},
		{[]string{"train", "--teacher", big, "--student", big, "--steps", "2", "--save", save, "--device", "cpu"}, "", "loading 0/1 model pairs",
			"step", "the models loaded", "to train, run the same command again"},
	} {
		t.Run(c.args[0], func(t *testing.T) {
			stderr := &signalAt{at: c.at, signal: make(chan os.Signal, 1)}
			signal.Notify(stderr.signal, syscall.SIGTERM)
			defer signal.Stop(stderr.signal)
			var stdout lockedBuf
			code := run(c.args, strings.NewReader(c.stdin), &stdout, stderr)
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			want := regexp.MustCompile(`^rlt ` + c.args[0] + `: stopped by a signal before its first ` + c.unit + `, while ` + c.what +
				` \(` + regexp.QuoteMeta(filepath.Join(big, "model.safetensors")) + `: tensor "[^"]+": stopped (before it|\d+\.\d MiB into its 128\.0 MiB), \d+ of \d+ tensors read\): nothing was written; ` +
				regexp.QuoteMeta(c.goOn) + `$`)
			if last := lines[len(lines)-1]; code != 1 || !want.MatchString(last) {
				t.Errorf("exit %d, last line %q;\nwant exit 1 and a match of %s", code, last, want)
			}
			if stdout.String() != "" {
				t.Errorf("stdout %q; want nothing", stdout.String())
			}
		})
	}
	if _, err := os.Stat(save); err == nil {
		t.Errorf("the stopped train made %s", save)
	}
}

// signalOnRead is stdin that sends SIGTERM to this process as it is first
// read, waits for the signal to arrive, then gives nothing until closed:
// a terminal or a pipe whose writer has not written yet.
type signalOnRead struct {
	signal chan os.Signal
	closed chan struct{}
	sent   bool
}

func (r *signalOnRead) Read([]byte) (int, error) {
	if !r.sent {
		r.sent = true
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
		<-r.signal
	}
	<-r.closed
	return 0, io.EOF
}

// TestScoreStoppedWhileWaitingForInput: a SIGTERM while rlt score waits
// for stdin's first line (it looks at it before any model loads, to say
// once that a JSON document is not JSON Lines) stops it in one line, exit
// 1, as a stop while the models load: nothing was written. The look ran
// before the signal's handler was set up, so the signal killed rlt score
// without a word.
func TestScoreStoppedWhileWaitingForInput(t *testing.T) {
	stdin := &signalOnRead{signal: make(chan os.Signal, 1), closed: make(chan struct{})}
	defer close(stdin.closed)
	signal.Notify(stdin.signal, syscall.SIGTERM)
	defer signal.Stop(stdin.signal)
	var stdout, stderr lockedBuf
	code := run([]string{"score", "--teacher", embeddedTeacher, "--student", embeddedStudent, "--device", "cpu"}, stdin, &stdout, &stderr)
	want := "rlt score: stopped by a signal before its first input line, while it waited for its input: nothing was written; run the same command again"
	if last := strings.TrimSpace(stderr.String()); code != 1 || last != want {
		t.Errorf("exit %d, stderr %q;\nwant exit 1 and %q", code, last, want)
	}
	if stdout.String() != "" {
		t.Errorf("stdout %q; want nothing", stdout.String())
	}
}
