//go:build unix

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/sessions"
)

// (unix: the real commands' tests use acceptedImport and script(1); the
// meter's and byteSize's, which need neither, are progress_meter_test.go's,
// so that they run on every system.)

// stepClock stands for progressClock while a test runs: each reading is
// 3 s after the one before, so every line a meter may say is said.
func stepClock(t *testing.T) {
	t.Helper()
	at := time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC)
	progressClock = func() time.Time { at = at.Add(3 * time.Second); return at }
	t.Cleanup(func() { progressClock = time.Now })
}

// progressLines are the lines of stderr that begin with prefix.
func progressLines(stderr, prefix string) string {
	var got []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, prefix) {
			got = append(got, l)
		}
	}
	return strings.Join(got, "\n")
}

// TestImportProgress: rlt import says how far it is on stderr with
// --progress (or where stderr is a terminal: TestProgressOnATerminal):
// the read's start, the lines and bytes read of the file's size, the run
// folder's writing, and the time it took; stdout is its summary alone.
// Without --progress on a stderr that is no terminal, or with
// --progress=false, none (a script's log is not filled). It said nothing
// for a minute on 200k rows.
func TestImportProgress(t *testing.T) {
	for _, c := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--progress"}, `rlt import: reading SRC
rlt import: read 3 lines, SIZE of SIZE (100 %)
rlt import: writing the run folder DST: 3 traces, 0 metric records
rlt import: 3 traces, 0 metric records imported in 12s`},
		{nil, ""},
		{[]string{"--progress=false"}, ""},
	} {
		t.Run(strings.Join(c.flags, " "), func(t *testing.T) {
			stepClock(t)
			dir := t.TempDir()
			src := filepath.Join(dir, "traces.jsonl")
			var rows strings.Builder
			for i := range 3 {
				fmt.Fprintf(&rows, `{"question":"1+%d=?","solution":"%d","explanation":"one and %d make %d"}`+"\n", i, i+1, i, i+1)
			}
			if err := os.WriteFile(src, []byte(rows.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(dir, "run")
			code, out, errs := runCLI(t, "", append([]string{"import", src, "--out", dst}, c.flags...)...)
			if code != 0 || !strings.HasPrefix(out, "run folder "+dst+"\n") || strings.Contains(out, "rlt import:") {
				t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errs)
			}
			// The file's few hundred bytes are said in bytes: in MB they
			// read "0.0 MB of 0.0 MB".
			size := fmt.Sprintf("%d bytes", rows.Len())
			want := strings.NewReplacer("SRC", src, "DST", dst, "SIZE", size).Replace(c.want)
			if got := progressLines(errs, "rlt import: "); got != want {
				t.Errorf("progress:\n%s\nwant\n%s\n(stderr %q)", got, want, errs)
			}
		})
	}
}

// TestExportProgress: rlt export says how far it is on stderr with
// --progress: the run's read (its trace files' traces and bytes read, of
// their size), the accepted traces done of how many, and a last line
// with the rows written and the time it took, to stdout and to --out
// alike; none without it on a stderr that is no terminal. The read, half
// of a 200,000-trace export, said nothing past its first line.
func TestExportProgress(t *testing.T) {
	for _, c := range []struct {
		name  string
		flags []string
		want  string
	}{
		{"stdout", []string{"--progress"}, `rlt export: reading the run RUN
rlt export: read 1 trace, R1 of SIZE (P1 %)
rlt export: read 2 traces, R2 of SIZE (P2 %)
rlt export: read 3 traces, SIZE of SIZE (100 %)
rlt export: 1 of 3 accepted traces done (33 %)
rlt export: 2 of 3 accepted traces done (66 %)
rlt export: 3 of 3 accepted traces done (100 %)
rlt export: 3 rows written in 24s`},
		{"out", []string{"--progress", "--out", "OUT"}, `rlt export: reading the run RUN
rlt export: read 1 trace, R1 of SIZE (P1 %)
rlt export: read 2 traces, R2 of SIZE (P2 %)
rlt export: read 3 traces, SIZE of SIZE (100 %)
rlt export: 1 of 3 accepted traces done (33 %)
rlt export: 2 of 3 accepted traces done (66 %)
rlt export: 3 of 3 accepted traces done (100 %)
rlt export: 3 rows written in 24s`},
		{"no flag", nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			run := acceptedImport(t, dir, 3)
			stepClock(t)
			out := filepath.Join(dir, "accepted.jsonl")
			args := []string{"export", "--run", run}
			for _, f := range c.flags {
				args = append(args, strings.ReplaceAll(f, "OUT", out))
			}
			code, stdout, errs := runCLI(t, "", args...)
			if code != 0 || strings.Contains(stdout, "rlt export:") {
				t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, errs)
			}
			// P1, P2: the bytes of the trace file's first line, and of
			// its first two, in its whole.
			data, err := os.ReadFile(filepath.Join(run, sessions.TracesDir, "000000.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.SplitAfter(string(data), "\n")
			if len(lines) != 4 || lines[3] != "" {
				t.Fatalf("the imported run's trace file holds %d lines, want 3:\n%s", len(lines)-1, data)
			}
			p1, p2 := len(lines[0])*100/len(data), (len(lines[0])+len(lines[1]))*100/len(data)
			// R1, R2, SIZE: those bytes and the whole's, as byteSize says them.
			r1, r2 := int64(len(lines[0])), int64(len(lines[0])+len(lines[1]))
			want := strings.NewReplacer("RUN", run, "P1", fmt.Sprint(p1), "P2", fmt.Sprint(p2),
				"R1", byteSize(r1), "R2", byteSize(r2), "SIZE", byteSize(int64(len(data)))).Replace(c.want)
			if got := progressLines(errs, "rlt export: "); got != want {
				t.Errorf("progress:\n%s\nwant\n%s\n(stderr %q)", got, want, errs)
			}
		})
	}
}

// TestProgressOnATerminal: the real binary says its progress where its
// stderr is a terminal (a pty, through script(1)), with no flag, and
// none where stderr is a pipe.
func TestProgressOnATerminal(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) gives the command a terminal; not installed")
	}
	bin := buildRLT(t, t.TempDir())
	dir := t.TempDir()
	src := filepath.Join(dir, "traces.jsonl")
	if err := os.WriteFile(src, []byte(`{"question":"1+1=?","solution":"2","explanation":"one and one make two"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// On a terminal: stdout and stderr are both the pty, read together.
	cmd := exec.Command(script, "-qec", bin+" import "+src+" --out "+filepath.Join(dir, "tty"), "/dev/null")
	said, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(said), "rlt import: reading "+src) || !strings.Contains(string(said), "rlt import: 1 trace, 0 metric records imported in ") {
		t.Errorf("on a terminal: %v\n%s\nwant the import's progress", err, said)
	}
	cmd = exec.Command(bin, "import", src, "--out", filepath.Join(dir, "pipe"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || stderr.String() != "" {
		t.Errorf("stderr a pipe: %v, stderr %q: want none", err, stderr.String())
	}
}
