//go:build unix

package main

import (
	"bytes"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rlt-workbench/rlt/sessions/runner"
)

// signalAt is stderr that sends this process SIGTERM once a line holds
// at, and returns from that line's write only once the command has the
// signal: come to the test's handler (which keeps its default action,
// ending the test binary, off) and to every signal.NotifyContext of the
// process, each of which has ended its context (signalHandled). The
// command goes on from that line with the stop there to see, at its next
// look, however loaded the machine: its contexts' goroutines, readied by
// the signal, could run late, after the load or save the stop was meant
// for had ended.
type signalAt struct {
	lockedBuf
	t      *testing.T
	at     string
	signal chan os.Signal
	sent   bool
}

// newSignalAt is a signalAt for the test t, its handler stopped as t ends.
func newSignalAt(t *testing.T, at string) *signalAt {
	h := &signalAt{t: t, at: at, signal: make(chan os.Signal, 1)}
	signal.Notify(h.signal, syscall.SIGTERM)
	t.Cleanup(func() { signal.Stop(h.signal) })
	return h
}

func (h *signalAt) Write(p []byte) (int, error) {
	n, err := h.lockedBuf.Write(p)
	if !h.sent && strings.Contains(string(p), h.at) {
		h.sent = true
		if signalWatchers() == 0 {
			h.t.Errorf("no signal.NotifyContext waits for a signal as %q is said: nothing to wait for (the command watches no signal there, or its watch is not found under that name)", h.at)
		}
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
		<-h.signal
		if err := signalHandled(); err != nil {
			h.t.Error(err)
		}
	}
	return n, err
}

// signalWatchers counts the goroutines of signal.NotifyContext, from the
// stacks of all, and those of untilStop (rlt train's first signal, as rlt
// run's): each waits for a signal, or ends its context on one and returns.
func signalWatchers() int {
	return bytes.Count(goroutineStacks(), []byte("\nos/signal.NotifyContext.func1(")) + untilStopWatchers()
}

// signalHandled waits, once a stop signal has come, until no
// signal.NotifyContext is left waiting: every one watches stopSignals, so
// each has ended its context. A minute is a command that watches other
// signals alone.
func signalHandled() error {
	return noneLeft(signalWatchers, "a signal.NotifyContext still waits a minute after the signal came: it does not watch SIGTERM")
}

// TestPretrainSignalAsTheTeacherIsSaved: a signal that comes once the
// teacher has trained, as it is saved, lets the save end whole (the
// command holds it for the whole run) and stops the pretrain before the
// student, said as that phase: "while saving the teacher", with the
// resume that trains the student alone; it said "while training the
// student", which had not begun. The signal is said as it comes, before
// the save ends (saving DIR; stopping once it is written): it was said
// only once the save had ended, a long wait for a large model.
func TestPretrainSignalAsTheTeacherIsSaved(t *testing.T) {
	stderr := newSignalAt(t, "teacher step 1/1 ")
	out := filepath.Join(t.TempDir(), "out")
	var stdout lockedBuf
	code := run([]string{"pretrain", "--out", out, "--steps", "1", "--batch", "1"}, strings.NewReader(""), &stdout, stderr)
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	want := "rlt pretrain: stopped by a signal while saving the teacher: " + filepath.Join(out, "teacher") +
		" holds the trained teacher, whole; the student was not written; to train the student alone and keep it, run rlt pretrain --out " + out +
		" --batch 1 --steps 1 --resume (or remove " + out + " and run this command again)"
	if last := lines[len(lines)-1]; code != 1 || last != want {
		t.Errorf("exit %d, last line %q; want exit 1 and %q", code, last, want)
	}
	// Said at once, as the save began, not only once it ended (saveWatch).
	notice := runner.SaveNotice(filepath.Join(out, "teacher"))
	if len(lines) < 2 || lines[len(lines)-2] != notice || strings.Count(stderr.String(), notice) != 1 {
		t.Errorf("stderr %q\nwant %q once, before the last line", stderr.String(), notice)
	}
	if modelFile(filepath.Join(out, "teacher")) == "" {
		t.Errorf("%s/teacher holds no model; want the teacher saved whole", out)
	}
	entries, _ := os.ReadDir(out)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "teacher" {
		t.Errorf("%s holds %v; want the teacher alone", out, names)
	}
}

// TestPretrainSignalWhileCheckingTheTeacher: a signal as the trained
// models are checked stops the check and says what is left: the two
// models, whole, and the rlt eval that checks them, not a bare "context
// canceled" after the models were written.
func TestPretrainSignalWhileCheckingTheTeacher(t *testing.T) {
	stderr := newSignalAt(t, "checking the teacher: ")
	out := filepath.Join(t.TempDir(), "out")
	var stdout lockedBuf
	code := run([]string{"pretrain", "--out", out, "--steps", "1", "--batch", "1"}, strings.NewReader(""), &stdout, stderr)
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	want := "rlt pretrain: stopped by a signal while checking the teacher: " + out + " holds the trained models, whole; the teacher was not checked; to check it, run rlt eval --teacher " +
		filepath.Join(out, "teacher") + " --student " + filepath.Join(out, "student") + " --task addition --questions 200"
	if last := lines[len(lines)-1]; code != 1 || last != want {
		t.Errorf("exit %d, last line %q; want exit 1 and %q", code, last, want)
	}
	if strings.Contains(stderr.String(), "teacher check:") {
		t.Errorf("a stopped check said a rate: %s", stderr.String())
	}
	for _, name := range []string{"teacher", "student"} {
		if modelFile(filepath.Join(out, name)) == "" {
			t.Errorf("%s/%s holds no model; want it whole", out, name)
		}
	}
}
