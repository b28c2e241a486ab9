//go:build unix

package main

import (
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// signalOnceWritten is stdin that, read past its lines, waits until
// stdout holds want (the lines read scored and written), sends SIGTERM
// to this process, waits for it to arrive, then gives nothing until
// closed: a pipe whose writer stops writing as rlt score is stopped.
type signalOnceWritten struct {
	lines  io.Reader
	stdout *lockedBuf
	want   string
	signal chan os.Signal
	closed chan struct{}
	sent   bool
}

func (r *signalOnceWritten) Read(p []byte) (int, error) {
	if n, err := r.lines.Read(p); err != io.EOF {
		return n, err
	}
	if !r.sent {
		r.sent = true
		// Bounded, so that a score that never writes want fails the
		// test's checks instead of hanging it.
		for i := 0; i < 12000 && !strings.Contains(r.stdout.String(), r.want); i++ {
			time.Sleep(5 * time.Millisecond)
		}
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
		<-r.signal
	}
	<-r.closed
	return 0, io.EOF
}

// TestScoreStoppedSaysItsCutRows: rlt score stopped by a signal after it
// scored a row marked "cut": true says which lines were cut, as it does
// after scoring all of stdin (TestScoreSaysItsCutRows), before the line
// that says it stopped: stdout holds that row's reward, of the part of the
// completion that fit the models. Stopped, it said nothing of it.
func TestScoreStoppedSaysItsCutRows(t *testing.T) {
	model := tinyFolder(t, "f32")
	var stdout, stderr lockedBuf
	stdin := &signalOnceWritten{
		lines:  strings.NewReader(`{"question":"1+1=?","solution":"2","completion":"one and","cut":true}` + "\n"),
		stdout: &stdout, want: `"cut":true`,
		signal: make(chan os.Signal, 1), closed: make(chan struct{}),
	}
	defer close(stdin.closed)
	signal.Notify(stdin.signal, syscall.SIGTERM)
	defer signal.Stop(stdin.signal)
	code := run([]string{"score", "--teacher", model, "--student", model, "--batch", "1", "--device", "cpu"}, stdin, &stdout, &stderr)
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if code != 1 || !strings.HasPrefix(lines[len(lines)-1], "rlt score: stopped by a signal after 1 input line") {
		t.Fatalf("exit %d, stderr %q; want exit 1, stopped after 1 input line", code, stderr.String())
	}
	want := `1 row scored marked "cut": true (line 1): each completion is the part of the teacher's that fit the models that scored it (rlt distill --samples-out)`
	if len(lines) < 2 || !strings.HasPrefix(lines[len(lines)-2], want) {
		t.Errorf("stderr %q\nwant %q above the stop", stderr.String(), want)
	}
}
