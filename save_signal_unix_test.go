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

	"github.com/rlt-workbench/rlt/engine/model"
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
// the first: the save still ends whole. The signal is sent once the
// staging folder is there; the student's 17M parameters (68 MB) take long
// enough to write for that.
func TestDistillSignalWhileSavingTheStudent(t *testing.T) {
	dir := t.TempDir()
	shape := filepath.Join(dir, "shape.json")
	os.WriteFile(shape, []byte(`{"vocab_size": 272, "hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 1,
		"num_attention_heads": 16, "num_key_value_heads": 16, "max_position_embeddings": 256, "tie_word_embeddings": true}`), 0o644)
	init := filepath.Join(dir, "init")
	if code, _, errs := runCLI(t, "", "model", "init", "--config", shape, "--out", init, "--tokenizer", distillTeacher); code != 0 {
		t.Fatalf("model init: exit %d: %s", code, errs)
	}
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
	deadline := time.After(2 * time.Minute)
	for !staging() { // a fine poll, so as not to miss the save
		select {
		case code := <-done:
			t.Fatalf("rlt distill ended (exit %d) before its save was under way: %s", code, stderr.String())
		case <-deadline:
			t.Fatalf("rlt distill: no save under way in 2 minutes: %s", stderr.String())
		case <-time.After(time.Millisecond):
		}
	}
	sigterm()
	notice := runner.SaveNotice(sdir)
	for !strings.Contains(stderr.String(), notice) {
		select {
		case code := <-done:
			t.Fatalf("rlt distill ended (exit %d) without saying the signal during its save: %q", code, stderr.String())
		case <-deadline:
			t.Fatalf("rlt distill: the signal not said in 2 minutes: %s", stderr.String())
		case <-time.After(time.Millisecond):
		}
	}
	during := staging()
	sigterm()
	code := <-done
	if !during {
		t.Logf("the save had ended before the second signal was sent")
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
}
