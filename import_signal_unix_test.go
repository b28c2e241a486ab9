//go:build unix

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestImportStoppedBySignal: rlt import, run as its own process and sent
// Ctrl-C's SIGINT, a kill's SIGTERM or a closed terminal's SIGHUP while
// it reads its source, stops as the other commands do: exit 1, saying
// that no run folder was made and what to do, no hidden staging folder
// left, and an --out that was there before (an empty folder) left as it
// was. It was killed without a word. The signal comes while the read is
// held, not at a time: the traces file is a FIFO; its handling, beside
// the read, may come as the run folder is written, said so. A notice is
// said at the signal, while the read is held (nothing was said until
// the read ended). (A stop while the run folder is written, its staging folder removed:
// sessions.TestImportStoppedRemovesItsStagingFolder.)
func TestImportStoppedBySignal(t *testing.T) {
	bin := buildRLT(t, t.TempDir())
	var rows strings.Builder
	for i := range 50 {
		fmt.Fprintf(&rows, `{"question":"1+%d=?","solution":"%d","explanation":"one and %d make %d"}`+"\n", i, i+1, i, i+1)
	}
	for _, out := range []bool{true, false} {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
			t.Run(fmt.Sprintf("out=%v/%v", out, sig), func(t *testing.T) {
				dir := t.TempDir()
				src := filepath.Join(dir, "traces.jsonl")
				runs := filepath.Join(dir, "runs")
				if err := os.Mkdir(runs, 0o755); err != nil {
					t.Fatal(err)
				}
				args := []string{"import", src, "--runs", runs}
				if out {
					args = []string{"import", src, "--out", filepath.Join(runs, "mine")}
					if err := os.Mkdir(filepath.Join(runs, "mine"), 0o755); err != nil {
						t.Fatal(err)
					}
				}
				cmd := exec.Command(bin, args...)
				var stdout, stderr lockedBuf
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				notice := "rlt import: stopping once " + src + " is read (its read is not cut short: a big source takes a while; a second signal stops at once)\n"
				started := make(chan struct{})
				done := fifoGate(t, src, []byte(rows.String()), func() {
					<-started // cmd.Process is Start's: the child may open the FIFO before Start returns
					if err := cmd.Process.Signal(sig); err != nil {
						t.Error(err)
					}
					// Said at the signal, while the read is held, not
					// once the read ends (tens of seconds for a big
					// source): waited for, bounded so that a notice that
					// never comes fails the test rather than hangs it.
					for end := time.Now().Add(time.Minute); stderr.String() != notice && time.Now().Before(end); {
						time.Sleep(10 * time.Millisecond)
					}
					if stderr.String() != notice {
						t.Errorf("stderr %q while the source's read is held: want the notice %q", stderr.String(), notice)
					}
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
				// The signal's handling runs beside the read, so it may be
				// seen once the run folder is being written: said so, its
				// staging folder removed.
				said := regexp.MustCompile(`^` + regexp.QuoteMeta(notice) + `rlt import: stopped by a signal while (` + regexp.QuoteMeta(src) + ` was read: no run folder was made \(` + regexp.QuoteMeta(runs) +
					`/[^)]+\)|the run folder ` + regexp.QuoteMeta(runs) + `/\S+ was written: no run folder was made \(its staging folder was removed\)); run the same command again to import\n$`)
				if code := cmd.ProcessState.ExitCode(); code != 1 || !said.MatchString(stderr.String()) || stdout.String() != "" {
					t.Errorf("%v (exit %d)\nstdout %q\nstderr %q\nwant exit 1 and %v", err, code, stdout.String(), stderr.String(), said)
				}
				var names []string
				filepath.WalkDir(runs, func(path string, _ os.DirEntry, err error) error {
					if path != runs {
						rel, _ := filepath.Rel(runs, path)
						names = append(names, rel)
					}
					return err
				})
				want := ""
				if out {
					want = "mine" // the empty folder given as --out, as it was
				}
				if strings.Join(names, ", ") != want {
					t.Errorf("%s holds %q: want %q, no run folder and no staging folder", runs, names, want)
				}
			})
		}
	}
}

// TestImportSecondSignalStopsAtOnce: a second signal stops rlt import at
// once, while the read of its source (which takes no context) is still
// held, as a second Ctrl-C stops other commands: exit 1, said so, no run
// folder and no staging folder left. The second signal was swallowed:
// the process waited for the read's end (here for ever: the FIFO's
// writer waits for the test), tens of seconds on a big source.
func TestImportSecondSignalStopsAtOnce(t *testing.T) {
	bin := buildRLT(t, t.TempDir())
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, "traces.jsonl")
			runs := filepath.Join(dir, "runs")
			if err := os.Mkdir(runs, 0o755); err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(runs, "mine")
			cmd := exec.Command(bin, "import", src, "--out", dst)
			var stdout, stderr lockedBuf
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			notice := "rlt import: stopping once " + src + " is read (its read is not cut short: a big source takes a while; a second signal stops at once)\n"
			exited := make(chan struct{})
			started := make(chan struct{})
			done := fifoGate(t, src, []byte(`{"question":"1+1=?","solution":"2","explanation":"one and one make two"}`+"\n"), func() {
				<-started // cmd.Process is Start's: the child may open the FIFO before Start returns
				if err := cmd.Process.Signal(sig); err != nil {
					t.Error(err)
				}
				// The first is seen (said) before the second is sent.
				for end := time.Now().Add(time.Minute); stderr.String() != notice && time.Now().Before(end); {
					time.Sleep(10 * time.Millisecond)
				}
				if err := cmd.Process.Signal(sig); err != nil {
					t.Error(err)
				}
				// The process is gone before the source's bytes are given:
				// waited for, bounded so that a second signal swallowed
				// fails the test (the read then ends, and the import with it).
				select {
				case <-exited:
				case <-time.After(time.Minute):
					t.Errorf("still running a minute after the second signal, its read held")
				}
			})
			startErr := cmd.Start()
			close(started)
			if startErr != nil {
				t.Fatal(startErr)
			}
			var err error
			go func() { err = cmd.Wait(); close(exited) }()
			<-exited
			if err := done(); err != nil {
				t.Error(err)
			}
			want := notice + "rlt import: stopped at once by a second signal: no run folder was made (" + dst + "); run the same command again to import\n"
			if code := cmd.ProcessState.ExitCode(); code != 1 || stderr.String() != want || stdout.String() != "" {
				t.Errorf("%v (exit %d)\nstdout %q\nstderr %q\nwant exit 1 and %q", err, code, stdout.String(), stderr.String(), want)
			}
			if entries, err := os.ReadDir(runs); err != nil || len(entries) != 0 {
				t.Errorf("%s holds %v (%v): want no run folder and no staging folder", runs, entries, err)
			}
		})
	}
}
