//go:build unix

package main

import (
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/stoptest"
	"github.com/rlt-workbench/rlt/sessions/runner"
)

// TestDistillSignalWhileSavingTheStudent: a signal (Ctrl-C, SIGTERM) that
// comes while rlt distill writes the student's folder leaves neither a
// hidden staging folder nor half a model in --out, as a kill left rlt
// model init's (TestModelInitStoppedBySignal): the command's handler holds
// the signal from its start to its end, so the save, staged and renamed
// into place, ends whole, and the command ends as it would have. The
// signal is said at once on stderr, once (saveHeld: the save said nothing
// until it ended), and a second signal, sent once it is said, is held as
// the first: the save still ends whole. Both signals come while the save
// is held, not by a clock: --student-init's generation_config.json, which
// the save copies into the staged folder once the weights are written
// (writeStudent) and nothing else reads, is a FIFO the test gives its
// bytes to only after the second signal. (The signal was sent once a 1 ms
// poll saw the staging folder, and a save that ended between two polls
// failed the test.)
func TestDistillSignalWhileSavingTheStudent(t *testing.T) {
	dir := t.TempDir()
	shape := filepath.Join(dir, "shape.json")
	os.WriteFile(shape, []byte(`{"vocab_size": 272, "hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 1,
		"num_attention_heads": 16, "num_key_value_heads": 16, "max_position_embeddings": 256, "tie_word_embeddings": true}`), 0o644)
	init := filepath.Join(dir, "init")
	if code, _, errs := runCLI(t, "", "model", "init", "--config", shape, "--out", init, "--tokenizer", distillTeacher); code != 0 {
		t.Fatalf("model init: exit %d: %s", code, errs)
	}
	// The gate: the save's copy of the generation config opens the FIFO
	// to read it, and waits for its bytes. The open for writing returns
	// once that reader has it open.
	gate := filepath.Join(init, hf.GenerationConfigFile)
	if err := syscall.Mkfifo(gate, 0o644); err != nil {
		t.Skipf("the gate is a FIFO: %v", err)
	}
	genConfig := []byte(`{"do_sample": true}`)
	type openedGate struct {
		w   *os.File
		err error
	}
	opened := make(chan openedGate, 1)
	go func() {
		w, err := os.OpenFile(gate, os.O_WRONLY, 0)
		opened <- openedGate{w, err}
	}()
	out := filepath.Join(dir, "out")
	sdir := filepath.Join(out, "student")
	staging := func() bool {
		entries, _ := os.ReadDir(out)
		for _, e := range entries {
			if strings.Contains(e.Name(), ".partial") {
				return true
			}
		}
		return false
	}
	// The test's handler keeps SIGTERM's default action (ending the test
	// binary) off; each signal is sent once the last has come.
	absorb := make(chan os.Signal, 1)
	signal.Notify(absorb, syscall.SIGTERM)
	defer signal.Stop(absorb)
	sigterm := func() {
		if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		<-absorb
	}
	var stdout, stderr lockedBuf
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"distill", "--reference", "--tokenizer-from", distillTeacher, "--student-init", init, "--out", out,
			"--questions", "4", "--steps", "1", "--batch", "2", "--device", "cpu"}, strings.NewReader(""), &stdout, &stderr)
	}()
	// A hang guard, not a measure: past it the test fails saying what
	// never came.
	deadline := time.After(saveHangGuard)
	var w *os.File
	select {
	case o := <-opened:
		if o.err != nil {
			t.Fatal(o.err)
		}
		w = o.w
	case code := <-done:
		// The goroutine's open, still waiting for a reader, is let go.
		if r, err := os.OpenFile(gate, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			(<-opened).w.Close()
			r.Close()
		}
		t.Fatalf("rlt distill ended (exit %d) before its save read --student-init's %s: %s", code, hf.GenerationConfigFile, stderr.String())
	case <-deadline:
		t.Fatalf("rlt distill: its save did not read --student-init's %s within %v: %s", hf.GenerationConfigFile, saveHangGuard, stderr.String())
	}
	defer w.Close()
	if !staging() {
		t.Fatalf("--student-init's %s read with no staging folder in %s: not by the student's save\n%s", hf.GenerationConfigFile, out, stoptest.Stacks())
	}
	sigterm()
	notice := runner.SaveNotice(sdir)
	for !strings.Contains(stderr.String(), notice) {
		select {
		case code := <-done:
			t.Fatalf("rlt distill ended (exit %d) without saying the signal during its save: %q", code, stderr.String())
		case <-deadline:
			t.Fatalf("rlt distill: the signal not said within %v: %s", saveHangGuard, stderr.String())
		case <-time.After(time.Millisecond):
		}
	}
	sigterm() // the save still held at the gate
	if _, err := w.Write(genConfig); err != nil {
		t.Fatal(err)
	}
	w.Close()
	var code int
	select {
	case code = <-done:
	case <-deadline:
		t.Fatalf("rlt distill: did not end within %v of its save's start: %s", saveHangGuard, stderr.String())
	}
	errs := stderr.String()
	if n := strings.Count(errs, notice); n != 1 {
		t.Errorf("stderr says %q %d times; want once: %s", notice, n, errs)
	}
	if want := "wrote 4 rows to " + filepath.Join(out, distillRows) + " and the student to " + sdir + "\n"; code != 0 || stdout.String() != want {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 0 and %q", code, stdout.String(), errs, want)
	}
	entries, _ := os.ReadDir(out)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "distill.jsonl student" {
		t.Errorf("%s holds %v; want distill.jsonl and student alone", out, names)
	}
	for _, f := range []string{"config.json", "model.safetensors", "tokenizer.json", "prompts.json"} {
		if _, err := os.Stat(filepath.Join(sdir, f)); err != nil {
			t.Errorf("the student's folder lacks %s: %v", f, err)
		}
	}
	if cfg, _, err := model.Inspect(sdir); err != nil || cfg.Hidden != 1024 {
		t.Errorf("the student saved: %+v, %v; want the 1024-wide --student-init's shape", cfg, err)
	}
	if data, err := os.ReadFile(filepath.Join(sdir, hf.GenerationConfigFile)); err != nil || string(data) != string(genConfig) {
		t.Errorf("the student's %s: %q, %v; want the %q the gate gave", hf.GenerationConfigFile, data, err, genConfig)
	}
}

// saveHangGuard bounds TestDistillSignalWhileSavingTheStudent's waits for
// the command (its models' load and training, its save's read of the gate,
// the signal said): a bound on a hang only, which a loaded machine running
// test binaries side by side stays far within.
const saveHangGuard = 5 * time.Minute
