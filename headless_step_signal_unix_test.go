//go:build unix

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/sessions/runner"
)

// longStepRun is a GRPO configuration whose steps take long enough (a second
// or more on the embedded models) for a signal sent as step 0's sampling
// begins to come within that step.
const longStepRun = `
eval_every = 0
checkpoint_every = 1
[grpo]
questions = 8
samples = 4
`

// TestHeadlessFirstSignalEndsTheStep: rlt run --headless's first stop
// signal during a step (sent once events.jsonl says step 0's sampling has
// begun) ends that step, writes its checkpoint and stops, as its banner
// says ("Ctrl-C stops after the current step"): exit 1 before the
// planned steps, saying how far it got and that rlt run --resume continues
// it, which it then does; a signal during the last planned step is a
// finished run, exit 0. The first signal cut the step in progress (the
// engine ran on the load's context, which it cancels): stopped in step 0,
// the run had no checkpoint, was said "complete: rlt run --resume …
// continues it", and the resume refused it ("no usable checkpoint"); one
// stopped in its last step said "stopped by a signal after 1 of 1 step",
// exit 1. Under GNU timeout --foreground (docs/commands.md: timeout
// without it may send its signal twice, which leaves at once), timeout's
// signal (here timeout's own SIGTERM, which it passes on as it passes on
// its expiry's) stops the run the same way.
func TestHeadlessFirstSignalEndsTheStep(t *testing.T) {
	for _, c := range []struct {
		name    string
		steps   int
		sig     syscall.Signal
		timeout bool // run under timeout --foreground, and signal timeout
		code    int
		said    string // a line of stderr, %d the steps done, PROG the binary as started
	}{
		{"SIGINT, 3 steps", 3, syscall.SIGINT, false, 1, "rlt run: stopped by a signal after %d of 3 steps; the run folder DIR is complete: PROG run --resume QDIR continues it"},
		{"SIGTERM, the last step", 1, syscall.SIGTERM, false, 0, "finished %d of 1 step; the run folder DIR is complete, its last checkpoint DIR/checkpoints/step-000000"},
		{"timeout --foreground, 3 steps", 3, syscall.SIGTERM, true, 1, "rlt run: stopped by a signal after %d of 3 steps; the run folder DIR is complete: PROG run --resume QDIR continues it"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newBinaryRun(t, longStepRun)
			runs := filepath.Join(p.dir, "runs")
			args := []string{"run", "--headless", "--steps", strconv.Itoa(c.steps), "--runs", runs, "--config", p.config}
			cmd := exec.Command(p.bin, args...)
			if c.timeout {
				tm, err := exec.LookPath("timeout")
				if err != nil || exec.Command(tm, "--foreground", "10", "true").Run() != nil {
					t.Skip("no GNU timeout with --foreground here")
				}
				cmd = exec.Command(tm, append([]string{"--foreground", "1h", p.bin}, args...)...)
			}
			cmd.Env = p.env
			var stderr lockedBuf
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waited := make(chan error, 1)
			go func() { waited <- cmd.Wait() }()
			sampling := func() bool {
				evs, _ := filepath.Glob(filepath.Join(runs, "*", sessions.EventsFile))
				for _, f := range evs {
					b, _ := os.ReadFile(f)
					if strings.Contains(string(b), `"kind":"phase","step":0,"name":"sampling"`) {
						return true
					}
				}
				return false
			}
			for deadline := time.Now().Add(2 * time.Minute); !sampling(); time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					<-waited
					t.Fatalf("step 0 did not begin in 2 minutes:\n%s", stderr.String())
				}
			}
			if err := cmd.Process.Signal(c.sig); err != nil {
				t.Fatal(err)
			}
			select {
			case <-waited:
			case <-time.After(3 * time.Minute):
				cmd.Process.Kill()
				<-waited
				t.Fatalf("rlt run --headless did not end after a signal:\n%s", stderr.String())
			}
			errs := stderr.String()
			list, err := sessions.List(runs)
			if err != nil || len(list) != 1 {
				t.Fatalf("rlt sessions: %+v %v\n%s", list, err, errs)
			}
			dir := list[0].Dir
			pattern := regexp.QuoteMeta(strings.NewReplacer("PROG", sessions.ShellQuote(p.bin), "QDIR", sessions.ShellQuote(dir), "DIR", dir).Replace(c.said))
			m := regexp.MustCompile("(?m)^" + strings.Replace(pattern, "%d", `(\d+)`, 1) + "$").FindStringSubmatch(errs)
			if cmd.ProcessState.ExitCode() != c.code || m == nil {
				t.Fatalf("exit %d; want exit %d and a line %q:\n%s", cmd.ProcessState.ExitCode(), c.code, c.said, errs)
			}
			if !strings.Contains(errs, runner.StoppingAfterTheStep+"\n") {
				t.Errorf("the signal is not said as it came (%q):\n%s", runner.StoppingAfterTheStep, errs)
			}
			done, _ := strconv.Atoi(m[1])
			ck, _, err := sessions.LatestCheckpoint(dir)
			if done < 1 || err != nil || ck.Step != done-1 || list[0].StepsDone() != done {
				t.Fatalf("%d steps said done, listed %d, the latest checkpoint %+v (%v); want step 0 ended, its checkpoint written", done, list[0].StepsDone(), ck, err)
			}
			if done == c.steps {
				return
			}
			resume := exec.Command(p.bin, "run", "--resume", dir, "--steps", strconv.Itoa(done+1), "--headless")
			resume.Env = p.env
			if out, err := resume.CombinedOutput(); err != nil || !strings.Contains(string(out), "resuming "+dir+" after step "+strconv.Itoa(done-1)) {
				t.Fatalf("resume: %v\n%s", err, out)
			}
		})
	}
}
