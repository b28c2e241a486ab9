//go:build unix

package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// TestScoreStoppedWhileTheServersAreChecked: a signal while rlt score
// checks two inference servers (both models URLs: no model loads) stops
// the check, said in those words, exit 1, nothing on stdout; it said
// "while the model loaded and the server was checked". The server sends
// the signal as the first request comes, and never answers: only the
// stop ends the check.
func TestScoreStoppedWhileTheServersAreChecked(t *testing.T) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	defer signal.Stop(sig)
	var once sync.Once
	stalled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() {
			syscall.Kill(os.Getpid(), syscall.SIGTERM)
			<-sig
		})
		<-r.Context().Done()
	}))
	defer stalled.Close()
	code, out, errs := runCLI(t, "", "score", "--teacher", stalled.URL, "--student", stalled.URL, "--tokenizer", embeddedStudent)
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	const want = "rlt score: stopped by a signal before its first input line, while the servers were checked: nothing was written; run the same command again"
	if last := lines[len(lines)-1]; code != 1 || last != want || out != "" {
		t.Errorf("exit %d, stdout %q, last line %q;\nwant exit 1, nothing and %q", code, out, last, want)
	}
}
