//go:build linux

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/stoptest"
	"github.com/rlt-workbench/rlt/sessions"
)

// madeGateEnv names the gated model folder (stoptest.GatedModel's) to
// TestHelperStopAsTheRunIsMade, and madeGateIn the function of
// sessions/runner whose memory check the stop signal comes in
// (createChecks, a new run's; openForResume). Only this test binary reads
// them.
const (
	madeGateEnv = "RLT_TEST_MADE_GATE"
	madeGateIn  = "RLT_TEST_MADE_GATE_IN"
	// madeGateTwice: "1" sends a second SIGTERM once the first has ended
	// the load contexts, and holds the check for good (a hung check).
	madeGateTwice = "RLT_TEST_MADE_GATE_TWICE"
)

// TestHelperStopAsTheRunIsMade is rlt, its arguments after --, run as its
// own process by TestRunStoppedAsItsRunIsMadeLeavesNothing, with the model
// folder madeGateEnv names gated: the first time its config.json is read
// by run.CheckMemory within runner's madeGateIn (a new run's folder being
// made, a resume's checks), the process sends itself SIGTERM and waits
// for the signal to have come and to have ended every untilStop context,
// rlt run's load context among them, then lets the check go on. Every
// other read of it is served at once. A problem of the gate itself is
// said on stderr, exit 3. Run by go test, with no folder named, it skips:
// it is no test of its own.
func TestHelperStopAsTheRunIsMade(t *testing.T) {
	model := os.Getenv(madeGateEnv)
	if model == "" {
		t.Skip("rlt for TestRunStoppedAsItsRunIsMadeLeavesNothing, which runs it")
	}
	fail := func(err error) {
		fmt.Fprintf(os.Stderr, "made gate: %v\n", err)
		os.Exit(3)
	}
	config, err := os.ReadFile(model + "." + hf.ConfigFile)
	if err != nil {
		fail(err)
	}
	// As /proc/self/fd names it: the temporary folder's path may hold a
	// link.
	fifo, err := filepath.EvalSymlinks(filepath.Join(model, hf.ConfigFile))
	if err != nil {
		fail(err)
	}
	in := []byte("/sessions/runner." + os.Getenv(madeGateIn) + "(")
	checks := func() bool {
		for _, g := range bytes.Split(goroutineStacks(), []byte("\n\n")) {
			if bytes.Contains(g, []byte("/engine/run.Checked.CheckMemory(")) && bytes.Contains(g, in) {
				return true
			}
		}
		return false
	}
	go func() {
		fired := false
		err := stoptest.ServeFIFO(fifo, config, stoptest.ReadersHere(fifo), func() bool {
			if !fired && checks() {
				fired = true
				// Come once this process has it: every channel of the
				// stop signals is then given it (stopThenLeave's).
				came := make(chan os.Signal, 1)
				signal.Notify(came, syscall.SIGTERM)
				if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
					fail(err)
				}
				<-came
				signal.Stop(came)
				if err := untilStopEnded(); err != nil {
					fail(err)
				}
				if os.Getenv(madeGateTwice) == "1" {
					if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
						fail(err)
					}
					select {} // the check hangs: only the second signal ends the process
				}
			}
			return true
		})
		fail(fmt.Errorf("serving %s: %v", fifo, err))
	}()
	tightenGC()
	os.Exit(run(flag.Args(), os.Stdin, os.Stdout, os.Stderr))
}

// TestRunStoppedAsItsRunIsMadeLeavesNothing: rlt run's own first run
// follows the Runs screen's rule (runner's
// TestLauncherStoppedAsTheRunIsMadeLeavesNothing), on a terminal and
// under --headless alike: a first stop signal that comes while its new
// run's folder is made (runner.Create's memory check) removes the folder
// again, exit 1 in the launcher's words ('stopped as its run folder was
// made, so it was removed again: a stop signal came'); one that comes
// while a resume's checks run (its memory check) leaves the run's files
// as they were, no session begun ('stopped before the run was opened to
// resume, so it is as it was: …', then how it goes on: 'continue it: rlt
// run --resume DIR …'). Its load context was set up only once
// the folder was made or opened: the new run's folder was kept, recorded
// stopped before its first step, and the resume began its session, each
// said as a load stopped. rlt is this test binary
// (TestHelperStopAsTheRunIsMade), its teacher's folder gated: the signal
// is sent as the memory check reads the teacher's config.json, and the
// check goes on once the signal has ended rlt run's load context, so the
// stop lands inside the create, or the resume's checks, on a machine
// however loaded. A second signal that comes while the check hangs (it
// never goes on here) leaves at once, exit 1, as a second signal leaves a
// run that trains, the run as the first leaves it ('stopped before its
// run folder was made, so none was: a second stop signal came before its
// checks ended', and of the resume 'so it is as it was: …', with how it
// goes on), its run.lock as found: it waited for the check, the signals
// no longer caught, and only a third ended the process.
func TestRunStoppedAsItsRunIsMadeLeavesNothing(t *testing.T) {
	h := newTmuxHarness(t, "made", 3*time.Minute, 50*time.Millisecond)
	h.bin = testBinary(t, h.dir)
	teacher, cfgPath := gatedSmallRun(t, h)
	env := []string{"XDG_CACHE_HOME=" + filepath.Join(h.dir, "cache"), madeGateEnv + "=" + teacher}
	// rlt runs rlt with args, the stop signal sent within runner's in,
	// headless or on a terminal (a tmux pane), and returns its exit
	// status and what it wrote on stderr (on a terminal, the pane).
	n := 0
	rlt := func(terminal, twice bool, in string, args ...string) (int, string) {
		t.Helper()
		env := append(env, madeGateIn+"="+in)
		if twice {
			env = append(env, madeGateTwice+"=1")
		}
		helper := []string{"-test.run=^TestHelperStopAsTheRunIsMade$", "--"}
		if !terminal {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, h.bin, append(helper, args...)...)
			cmd.Dir, cmd.Env = h.dir, append(os.Environ(), env...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			if exit := (*exec.ExitError)(nil); err != nil && !errors.As(err, &exit) {
				t.Fatalf("rlt %q: %v\n%s", args, err, stderr.String())
			}
			return cmd.ProcessState.ExitCode(), stderr.String()
		}
		n++
		session := "w" + strconv.Itoa(n)
		var line []string
		for _, e := range env { // NAME=value: the value quoted, an assignment still
			name, value, _ := strings.Cut(e, "=")
			line = append(line, name+"="+sessions.ShellQuote(value))
		}
		for _, a := range append(append([]string{h.bin}, helper...), args...) {
			line = append(line, sessions.ShellWord(a))
		}
		h.tmux("new-session", "-d", "-s", session, "-x", "250", "-y", "30",
			fmt.Sprintf("cd %s && %s; echo EXITED $?; sleep 60", sessions.ShellQuote(h.dir), strings.Join(line, " ")))
		// Left to the harness's end, which kills the server: a kill of the
		// last session ends the server as the next one starts on it.
		exited := regexp.MustCompile(`(?m)^EXITED (\d+)$`)
		for deadline := time.Now().Add(h.timeout); ; time.Sleep(h.poll) {
			s := h.tmux("capture-pane", "-t", session, "-p", "-J") // stderr's long lines whole, not wrapped
			if m := exited.FindStringSubmatch(s); m != nil {
				code, _ := strconv.Atoi(m[1])
				return code, strings.TrimSpace(s[:strings.LastIndex(s, m[0])])
			}
			if time.Now().After(deadline) {
				t.Fatalf("rlt %q did not exit in %v; the screen is:\n%s", args, h.timeout, s)
			}
		}
	}
	lastLine := func(s string) string {
		lines := strings.Split(strings.TrimSpace(s), "\n")
		return strings.TrimSpace(lines[len(lines)-1])
	}

	// The run resumed: one step done, written by rlt run (the gate's
	// signal never comes: a new run has no resume's checks).
	if code, out := rlt(false, false, "openForResume", "run", "--headless", "--runs", h.runs, "--config", cfgPath, "--steps", "1"); code != 0 {
		t.Fatalf("the run to resume: exit %d:\n%s", code, out)
	}
	made, err := os.ReadDir(h.runs)
	if err != nil || len(made) != 1 {
		t.Fatalf("the runs folder holds %v (%v); want the run to resume", made, err)
	}
	resumed := filepath.Join(h.runs, made[0].Name())
	before := runFileSums(t, resumed)
	lock := filepath.Join(resumed, sessions.LockFileName)
	lockWas, err := os.ReadFile(lock)
	if err != nil {
		t.Fatal(err)
	}

	for _, terminal := range []bool{false, true} {
		var headless []string
		if !terminal {
			headless = []string{"--headless"}
		}
		create := append([]string{"run", "--runs", h.runs, "--config", cfgPath, "--steps", "1"}, headless...)
		resume := append([]string{"run", "--resume", resumed, "--steps", "2"}, headless...)
		continues := "; continue it: rlt run --resume " + sessions.ShellQuote(resumed) + " --steps N with N more than 1, the steps it has done"
		for _, c := range []struct {
			in    string
			twice bool // a second signal, the check hung
			args  []string
			want  string
		}{
			{"createChecks", false, create, "rlt run: stopped as its run folder was made, so it was removed again: a stop signal came"},
			{"openForResume", false, resume, "rlt run: stopped before the run was opened to resume, so it is as it was: a stop signal came" + continues},
			{"createChecks", true, create, "rlt run: stopped before its run folder was made, so none was: a second stop signal came before its checks ended"},
			{"openForResume", true, resume, "rlt run: stopped before the run was opened to resume, so it is as it was: a second stop signal came before its checks ended" + continues},
		} {
			code, out := rlt(terminal, c.twice, c.in, c.args...)
			var wrong []string
			if code != 1 || lastLine(out) != c.want {
				wrong = append(wrong, fmt.Sprintf("exit %d, last line %q; want exit 1 and %q", code, lastLine(out), c.want))
			}
			if strings.Contains(out, "resuming ") || strings.Contains(out, "loading ") {
				wrong = append(wrong, "its load began")
			}
			if entries, err := os.ReadDir(h.runs); err != nil || len(entries) != 1 || entries[0].Name() != filepath.Base(resumed) {
				wrong = append(wrong, fmt.Sprintf("the runs folder holds %v (%v); want only the run resumed", entries, err))
			}
			if after := runFileSums(t, resumed); !maps.Equal(after, before) {
				var changed []string
				for f := range maps.Keys(after) {
					if after[f] != before[f] {
						changed = append(changed, f)
					}
				}
				wrong = append(wrong, fmt.Sprintf("the run resumed has its files changed: %q", changed))
			}
			if now, err := os.ReadFile(lock); err != nil || !bytes.Equal(now, lockWas) {
				wrong = append(wrong, fmt.Sprintf("its run.lock holds %q (%v), was %q", now, err, lockWas))
			}
			if len(wrong) > 0 {
				t.Errorf("terminal %v, stopped in %s, a second signal %v:\n%s\nit said:\n%s", terminal, c.in, c.twice, strings.Join(wrong, "\n"), out)
			}
		}
	}
}

// runFileSums is the SHA-256 of each file of the run folder dir but its
// run.lock (which a refused open takes and releases), by its path there.
func runFileSums(t *testing.T, dir string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == sessions.LockFileName {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		sums[rel] = fmt.Sprintf("%x", sha256.Sum256(data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sums
}
