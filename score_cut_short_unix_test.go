//go:build unix

package main

import (
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/rlt-workbench/rlt/engine/warmstart"
)

// TestScoreWritesWhatACutShortBatchScored: a signal, or the student's
// server dropping its connection, part way through a batch that rlt score
// scores through that server (a real rlt serve behind a proxy, one request
// at a time: the 2 probes, the first batch's 2, then the second batch's
// first answered and its second held, or dropped), writes the item of
// that batch whose teacher and student log-probs had both come, on stdout
// and with --write in rescores.jsonl, beside the first batch's, and says
// how many and where to go on from: stdin's lines or a run's traces. The
// batch was dropped whole, its first item's answers with it. A server that
// fails on a batch's first request leaves nothing of that batch: stdout
// holds the batches before it, said without "0 lines of this batch".
func TestScoreWritesWhatACutShortBatchScored(t *testing.T) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	defer signal.Stop(sig)
	sURL := startServe(t, "--model", embeddedStudent, "--api", "vllm")
	u, err := url.Parse(sURL)
	if err != nil {
		t.Fatal(err)
	}
	row := `{"question":"347+285=?","solution":"632","explanation":"7+5=12 w2 c1; 4+8+1=13 w3 c1; 3+2+1=6"}` + "\n"
	for _, c := range []struct {
		name string
		run  bool
		drop bool // the server drops the connection; else a signal
		want func(student, runDir string) string
		from int64 // the student's request dropped or held from on
		kept int   // results on stdout (and stored with --run)
	}{
		{"stdin, a signal", false, false, func(student, _ string) string {
			return "rlt score: stopped by a signal after 3 input lines: stdout holds the result of each whole (the batch being scored was cut short, its requests to vllm server " +
				student + " cancelled: its first line, which both models had scored, written, the rest dropped, and the lines read after it dropped); run it again on the lines after line 3 to go on"
		}, 6, 3},
		{"run, a signal", true, false, func(student, runDir string) string {
			return "rlt score: stopped by a signal after 3 of 5 traces: stdout holds the result of each whole (the batch being scored was cut short, its requests to vllm server " +
				student + " cancelled: its first trace, which both models had scored, written, the rest dropped, and the traces after it not scored); 3 stored in " + filepath.Join(runDir, "rescores.jsonl") + ": run the same command again to score the rest"
		}, 6, 3},
		{"stdin, the server drops", false, true, func(student, _ string) string {
			return "rlt score: line 4: student: vllm server " + student + ": sequence 1: .*; stdout holds the result of each input line up to line 3 \\(1 line of this batch scored before it\\): run it again on the lines after line 3 to go on"
		}, 6, 3},
		{"run, the server drops", true, true, func(student, runDir string) string {
			return "rlt score: trace 2-0-1 \\(trace 4 of " + regexp.QuoteMeta(runDir) + "\\): student: vllm server " + student + ": sequence 1: .*; the first 1 trace of its batch, scored before it, written and stored \\(3 traces stored in all\\): run the same command again to score the rest"
		}, 6, 3},
		{"stdin, the server drops on a batch's first request", false, true, func(student, _ string) string {
			return "rlt score: line 3: student: vllm server " + student + ": sequence 0: .*; stdout holds the result of each input line up to line 2: run it again on the lines after line 2 to go on"
		}, 5, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			var student string
			if c.drop {
				_, student = proxyTo(t, sURL, c.from)
			} else {
				h := &holding{proxy: httputil.NewSingleHostReverseProxy(u), holdFrom: c.from, sig: sig}
				ts := httptest.NewServer(h)
				defer ts.Close()
				student = ts.URL
			}
			args := []string{"score", "--teacher", embeddedTeacher, "--student", student, "--batch", "2", "--concurrency", "1", "--retries", "0", "--device", "cpu"}
			stdin, runDir := strings.Repeat(row, 5), ""
			if c.run {
				stdin, runDir = "", filepath.Join(t.TempDir(), "official")
				if code, _, errs := runCLI(t, "", "import", officialFixture, "--out", runDir); code != 0 {
					t.Fatalf("import: exit %d: %s", code, errs)
				}
				prompts := warmstart.ShortPrompts()
				args = append(args, "--teacher-system", prompts.TeacherSystem, "--student-system", prompts.StudentSystem, "--write", "--run", runDir)
			}
			code, out, errs := runCLI(t, stdin, args...)
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			last := lines[len(lines)-1]
			want := c.want(student, runDir)
			if !c.drop {
				want = regexp.QuoteMeta(want)
			}
			if code != 1 || !regexp.MustCompile("^"+want+"$").MatchString(last) {
				t.Errorf("exit %d, last line\n%s\nwant exit 1 and\n%s", code, last, want)
			}
			if n := len(scoreLines(t, out)); n != c.kept {
				t.Errorf("stdout holds %d results, want %d: the first batch's 2 and the second's first answered", n, c.kept)
			}
			if c.run {
				stored, err := os.ReadFile(filepath.Join(runDir, "rescores.jsonl"))
				if err != nil || strings.Count(string(stored), "\n") != c.kept {
					t.Errorf("rescores.jsonl holds %d lines, want %d (%v)", strings.Count(string(stored), "\n"), c.kept, err)
				}
			}
		})
	}
}
