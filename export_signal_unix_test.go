//go:build unix

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/sessions"
)

// fifoGate puts a FIFO at path in place of its file (data, where the
// file is not there), and gives its bytes to the first reader's open once
// gate has been called: a signal sent by gate comes while the reader
// waits on that read, not at a time. done, called once the reader is gone,
// lets go a writer still waiting for a reader that did not come, and
// returns the gate's error.
func fifoGate(t *testing.T, path string, data []byte, gate func()) (done func() error) {
	t.Helper()
	if b, err := os.ReadFile(path); err == nil {
		data = b
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("the gate is a FIFO: %v", err)
	}
	ch := make(chan error, 1)
	go func() {
		w, err := os.OpenFile(path, os.O_WRONLY, 0) // waits for the reader's open
		if err != nil {
			ch <- err
			return
		}
		defer w.Close()
		gate()
		if _, err := w.Write(data); err != nil && !errors.Is(err, syscall.EPIPE) {
			ch <- err
			return
		}
		ch <- nil
	}()
	return func() error {
		for {
			select {
			case err := <-ch:
				return err
			default:
			}
			// An open to read lets a waiting writer's open go on.
			if f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
				f.Close()
			}
			runtime.Gosched()
		}
	}
}

// acceptedImport is a run of n traces imported from a traces file, all
// accepted in review, in dir/run; it returns the run folder.
func acceptedImport(t *testing.T, dir string, n int) string {
	t.Helper()
	var rows, reviews strings.Builder
	for i := range n {
		fmt.Fprintf(&rows, `{"question":"1+%d=?","solution":"%d","explanation":"one and %d make %d"}`+"\n", i, i+1, i, i+1)
		// Written as Run.Review writes them, without its sync apiece.
		b, err := json.Marshal(sessions.ReviewRecord{Time: time.Now(), Trace: fmt.Sprintf("0-0-%d", i), Label: sessions.LabelAccept})
		if err != nil {
			t.Fatal(err)
		}
		reviews.Write(append(b, '\n'))
	}
	src := filepath.Join(dir, "traces.jsonl")
	if err := os.WriteFile(src, []byte(rows.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	if code, _, errs := runCLI(t, "", "import", src, "--out", run); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	if err := os.WriteFile(filepath.Join(run, sessions.ReviewsFile), []byte(reviews.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return run
}

// TestExportStoppedBySignal: rlt export --out, run as its own process and
// sent Ctrl-C's SIGINT, a kill's SIGTERM or a closed terminal's SIGHUP
// while it reads the run or while it writes the rows, stops as the other
// commands do: exit 1, saying what it wrote (nothing) and what to do, no
// --out and no hidden temporary file left beside it. It was killed by the
// signal without a word, its temporary file left in --out's folder. The
// signal comes while a read is held, not at a time: the run's config.toml
// is a FIFO (read as the run is opened), or the prompts.json of the
// teacher its config.toml names (read for the rows' system prompt, once
// the temporary file is made). The read is let go once the signal is
// seen (its notice said), so the stop comes before the first row, whatever
// the machine's load: the test assumed the signal's handling, beside the
// command, came before the run's 2,000 rows were written.
func TestExportStoppedBySignal(t *testing.T) {
	bin := buildRLT(t, t.TempDir())
	for _, c := range []struct {
		name string
		gate string // the file read as the signal comes, in the run folder
		want string
	}{
		{"read", "config.toml", "rlt export: stopped by a signal while the run was read: nothing was written to OUT; run the same command again to export"},
		{"write", "teacher/prompts.json", "rlt export: stopped by a signal while the rows were written: nothing was written to OUT (its temporary file was removed); run the same command again to export"},
	} {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
			t.Run(c.name+"/"+sig.String(), func(t *testing.T) {
				dir := t.TempDir()
				run := acceptedImport(t, dir, 2000)
				// A run of ours, not an import: the rows' system prompt
				// is its teacher's (its prompts.json), its config.toml
				// recording none.
				teacher := filepath.Join(run, "teacher")
				if err := os.Mkdir(teacher, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(run, "config.toml"), []byte("task = 'addition'\nteacher = '"+teacher+"'\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				outDir := filepath.Join(dir, "out")
				if err := os.Mkdir(outDir, 0o755); err != nil {
					t.Fatal(err)
				}
				out := filepath.Join(outDir, "accepted.jsonl")
				cmd := exec.Command(bin, "export", "--run", run, "--out", out)
				var stdout, stderr lockedBuf
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				started := make(chan struct{})
				done := fifoGate(t, filepath.Join(run, c.gate), []byte(`{"teacher_system": "Teach.", "student_system": "Solve."}`), func() {
					<-started // cmd.Process is Start's: the child may open the FIFO before Start returns
					if err := cmd.Process.Signal(sig); err != nil {
						t.Error(err)
					}
					waitFor(t, &stderr, exportStopping)
				})
				startErr := cmd.Start()
				close(started)
				if startErr != nil {
					t.Fatal(startErr)
				}
				err := cmd.Wait()
				if err := done(); err != nil {
					t.Error(err)
				}
				want := exportStopping + strings.ReplaceAll(c.want, "OUT", out) + "\n"
				if code := cmd.ProcessState.ExitCode(); code != 1 || stderr.String() != want || stdout.String() != "" {
					t.Errorf("%v (exit %d)\nstdout %q\nstderr %q\nwant exit 1 and %q", err, code, stdout.String(), stderr.String(), want)
				}
				if entries, err := os.ReadDir(outDir); err != nil || len(entries) != 0 {
					names := []string{}
					for _, e := range entries {
						names = append(names, e.Name())
					}
					t.Errorf("%s holds %s (%v): want nothing, no --out and no temporary file", outDir, strings.Join(names, ", "), err)
				}
			})
		}
	}
}

// exportStopping is what rlt export says as a stop signal comes.
const exportStopping = "rlt export: stopping (a second signal stops at once)\n"

// waitFor waits until b begins with want (what follows it, the stop's
// words, may already be there), bounded at a minute so that a notice
// that never comes fails the test rather than hangs it.
func waitFor(t *testing.T, b *lockedBuf, want string) {
	t.Helper()
	for end := time.Now().Add(time.Minute); !strings.HasPrefix(b.String(), want) && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.HasPrefix(b.String(), want) {
		t.Errorf("stderr %q: want %q", b.String(), want)
	}
}

// TestExportToStdoutStoppedBySignal: rlt export to stdout, sent a stop
// signal while it writes the rows, ends after the row being written: the
// rows on stdout are whole JSON lines, fewer than the run's, and it says
// how many, exit 1. It was killed by the signal mid-buffer, its last line
// cut (a JSON Lines reader fails on it). The signal comes while the
// command is held writing (stdout a pipe that the test has stopped
// reading, mid-row, the rows far past its buffer), and the test reads on
// only once the signal is seen (its notice said).
func TestExportToStdoutStoppedBySignal(t *testing.T) {
	bin := buildRLT(t, t.TempDir())
	dir := t.TempDir()
	run := acceptedImport(t, dir, 2000)
	// Rows of ~2 KB: 4 MB in all, far past a pipe's buffer (64 KiB).
	var long strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&long, `{"question":"1+%d=?","solution":"%d","explanation":"%s"}`+"\n", i, i+1, strings.Repeat("one and more ", 160))
	}
	src := filepath.Join(dir, "long.jsonl")
	if err := os.WriteFile(src, []byte(long.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	longRun := filepath.Join(dir, "long")
	if code, _, errs := runCLI(t, "", "import", src, "--out", longRun); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	reviews, err := os.ReadFile(filepath.Join(run, sessions.ReviewsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(longRun, sessions.ReviewsFile), reviews, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "export", "--run", longRun)
	var stderr lockedBuf
	cmd.Stderr = &stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 1000) // the first row's middle
	if _, err := io.ReadFull(pipe, head); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Error(err)
	}
	waitFor(t, &stderr, exportStopping)
	rest, err := io.ReadAll(pipe)
	if err != nil {
		t.Error(err)
	}
	err = cmd.Wait()
	rows := string(head) + string(rest)
	lines := strings.Split(rows, "\n")
	if lines[len(lines)-1] != "" {
		t.Errorf("stdout ends in a cut line: %q", lines[len(lines)-1])
	}
	lines = lines[:len(lines)-1]
	for i, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("stdout line %d is no whole JSON row: %.80q", i+1, l)
		}
	}
	want := exportStopping + fmt.Sprintf("rlt export: stopped by a signal while the rows were written: stdout has the %d rows written before it, each whole; run the same command again to export\n", len(lines))
	if code := cmd.ProcessState.ExitCode(); code != 1 || len(lines) == 0 || len(lines) >= 2000 || stderr.String() != want {
		t.Errorf("%v (exit %d), %d rows\nstderr %q\nwant exit 1, fewer rows than 2000, and %q", err, code, len(lines), stderr.String(), want)
	}
}
