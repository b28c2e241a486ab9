//go:build unix

package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/warmstart"
)

// holding is a proxy in front of a server that passes its first scoring
// requests through and, from request number holdFrom on, sends this
// process a SIGTERM (once) and holds the request unanswered until the
// client cancels it, or until a bound long past any stop (then it is
// passed through, late, and counted as not cancelled).
type holding struct {
	proxy    *httputil.ReverseProxy
	holdFrom int64
	sig      chan os.Signal
	n        atomic.Int64
	once     sync.Once

	mu              sync.Mutex
	held, cancelled int
}

func (h *holding) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v1/completions" || r.URL.Path == "/generate" {
		if h.n.Add(1) >= h.holdFrom {
			// The body read whole, the server watches the connection:
			// its closing by the client cancels r's context.
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			h.mu.Lock()
			h.held++
			h.mu.Unlock()
			h.once.Do(func() {
				syscall.Kill(os.Getpid(), syscall.SIGTERM)
				<-h.sig
			})
			// The bound is no assertion on time: before rlt score
			// cancelled its requests it waited for this answer, and the
			// test fails on its words and the count, not on a clock.
			select {
			case <-r.Context().Done():
				h.mu.Lock()
				h.cancelled++
				h.mu.Unlock()
				return
			case <-time.After(20 * time.Second):
			}
		}
	}
	h.proxy.ServeHTTP(w, r)
}

// TestScoreThroughAServerStopsItsRequestsOnASignal: a signal while an
// inference server (a real rlt serve, behind a proxy that holds the second
// batch's requests) scores a batch of rlt score's, stdin's or a run's with
// --write, cancels the requests in flight at once: it is said stopped,
// exit 1, the batch dropped and its server's requests cancelled, stdout
// (and rescores.jsonl) holding the first batch's results, and how to go
// on. It waited for every request of the batch (here held until the
// proxy's bound) and said the batch was finished.
func TestScoreThroughAServerStopsItsRequestsOnASignal(t *testing.T) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	defer signal.Stop(sig)
	tURL := startServe(t, "--model", embeddedTeacher, "--api", "vllm")
	u, err := url.Parse(tURL)
	if err != nil {
		t.Fatal(err)
	}
	row := `{"question":"347+285=?","solution":"632","explanation":"7+5=12 w2 c1; 4+8+1=13 w3 c1; 3+2+1=6"}` + "\n"
	for _, c := range []struct {
		name  string
		stdin string
		run   bool
		want  func(teacher, runDir string) string
	}{
		{"stdin", strings.Repeat(row, 5), false, func(teacher, _ string) string {
			return "rlt score: stopped by a signal after 2 input lines: stdout holds the result of each whole (the batch being scored was dropped, its requests to vllm server " +
				teacher + " cancelled, and the lines read after it dropped); run it again on the lines after line 2 to go on"
		}},
		{"run", "", true, func(teacher, runDir string) string {
			return "rlt score: stopped by a signal after 2 of 5 traces: stdout holds the result of each whole (the batch being scored was dropped, its requests to vllm server " +
				teacher + " cancelled, and the traces after it not scored); 2 stored in " + filepath.Join(runDir, "rescores.jsonl") + ": run the same command again to score the rest"
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			// The teacher's requests: 2 probes (at 0.7 and at 1), the
			// first batch's 2, then the second batch's, held.
			h := &holding{proxy: httputil.NewSingleHostReverseProxy(u), holdFrom: 5, sig: sig}
			ts := httptest.NewServer(h)
			defer ts.Close()
			args := []string{"score", "--teacher", ts.URL, "--student", embeddedStudent, "--batch", "2", "--retries", "0", "--device", "cpu"}
			runDir := ""
			if c.run {
				runDir = filepath.Join(t.TempDir(), "official")
				if code, _, errs := runCLI(t, "", "import", officialFixture, "--out", runDir); code != 0 {
					t.Fatalf("import: exit %d: %s", code, errs)
				}
				prompts := warmstart.ShortPrompts()
				args = append(args, "--teacher-system", prompts.TeacherSystem, "--student-system", prompts.StudentSystem, "--write", "--run", runDir)
			}
			code, out, errs := runCLI(t, c.stdin, args...)
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			if want := c.want(ts.URL, runDir); code != 1 || lines[len(lines)-1] != want {
				t.Errorf("exit %d, last line\n%s\nwant exit 1 and\n%s", code, lines[len(lines)-1], want)
			}
			if n := len(scoreLines(t, out)); n != 2 {
				t.Errorf("stdout holds %d results, want the first batch's 2", n)
			}
			ts.Close() // waits for the held requests' handlers
			h.mu.Lock()
			held, cancelled := h.held, h.cancelled
			h.mu.Unlock()
			if held == 0 || cancelled != held {
				t.Errorf("%d of the %d requests held were cancelled, want all", cancelled, held)
			}
			if c.run {
				stored, err := os.ReadFile(filepath.Join(runDir, "rescores.jsonl"))
				if err != nil || strings.Count(string(stored), "\n") != 2 {
					t.Errorf("rescores.jsonl after the stop holds %d lines, want the first batch's 2 (%v)", strings.Count(string(stored), "\n"), err)
				}
			}
			if regexp.MustCompile(`context canceled`).MatchString(errs) {
				t.Errorf("a cancelled request is said as a failure:\n%s", errs)
			}
		})
	}
}
