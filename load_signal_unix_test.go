//go:build unix

package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/stoptest"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestCommandsStoppedBySignalWhileTheModelsLoad: a SIGTERM that comes as a
// command's models begin to load (said on stderr just before: the device
// it computes on, a run's loading progress) stops the load at its first
// tensor, and the command with one line, exit 1, as its other stops: that
// it stopped before its first unit of work, while the models loaded, the
// checkpoint file and tensor it stopped at, that nothing was written, and
// the way on; stdout holds nothing and --save's folder is not made. The
// load went on to its end under the signal: rlt logprobs then answered
// its input, rlt eval answered questions and stopped in other words, rlt
// train trained. The line's write returns once the signal has ended the
// command's context (signalAt), so the stop is there at the load's first
// look, on a machine however loaded; it raced the load of a 128 MiB
// embedding. The load's stop within a tensor, a part at a time, is
// engine/model's TestLoadStopsWithinATensor.
func TestCommandsStoppedBySignalWhileTheModelsLoad(t *testing.T) {
	folder := distillTeacher // any model: the stop comes before its first tensor
	save := filepath.Join(t.TempDir(), "trained")
	const row = `{"question":"347+285=?","solution":"632","explanation":"7+5=12 write 2 carry 1, 4+8+1=13 write 3 carry 1, 3+2+1=6: 632"}` + "\n"
	for _, c := range []struct {
		args             []string
		stdin            string
		at               string // the stderr line the signal comes after
		unit, what, goOn string
	}{
		{[]string{"logprobs", "--model", folder, "--device", "cpu"}, `{"text": "347+285=?"}` + "\n", "rlt logprobs: computing on ",
			"input line", "the model loaded", "run the same command again"},
		{[]string{"eval", "--teacher", folder, "--student", folder, "--questions", "3", "--device", "cpu"}, "", "rlt eval: computing on ",
			"question", "the models loaded", "to evaluate, run the same command again"},
		{[]string{"score", "--teacher", folder, "--student", folder, "--device", "cpu"}, row, "rlt score: computing on ",
			"input line", "the models loaded", "run the same command again"},
		{[]string{"train", "--teacher", folder, "--student", folder, "--steps", "2", "--save", save, "--device", "cpu"}, "", "loading 0/1 model pairs",
			"step", "the models loaded", "to train, run the same command again"},
	} {
		t.Run(c.args[0], func(t *testing.T) {
			stderr := newSignalAt(t, c.at)
			var stdout lockedBuf
			code := run(c.args, strings.NewReader(c.stdin), &stdout, stderr)
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			want := regexp.MustCompile(`^rlt ` + c.args[0] + `: stopped by a signal before its first ` + c.unit + `, while ` + c.what +
				` \(` + regexp.QuoteMeta(filepath.Join(folder, "model.safetensors")) + `: tensor "[^"]+": stopped before it, 0 of \d+ tensors read\): nothing was written; ` +
				regexp.QuoteMeta(c.goOn) + `$`)
			if last := lines[len(lines)-1]; code != 1 || !want.MatchString(last) {
				t.Errorf("exit %d, last line %q;\nwant exit 1 and a match of %s", code, last, want)
			}
			if stdout.String() != "" {
				t.Errorf("stdout %q; want nothing", stdout.String())
			}
		})
	}
	if _, err := os.Stat(save); err == nil {
		t.Errorf("the stopped train made %s", save)
	}
}

// signalOnRead is stdin that sends SIGTERM to this process as it is first
// read, waits for the signal to arrive, then gives nothing until closed:
// a terminal or a pipe whose writer has not written yet.
type signalOnRead struct {
	signal chan os.Signal
	closed chan struct{}
	sent   bool
}

func (r *signalOnRead) Read([]byte) (int, error) {
	if !r.sent {
		r.sent = true
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
		<-r.signal
	}
	<-r.closed
	return 0, io.EOF
}

// TestScoreStoppedWhileWaitingForInput: a SIGTERM while rlt score waits
// for stdin's first line (it looks at it before any model loads, to say
// once that a JSON document is not JSON Lines) stops it in one line, exit
// 1, as a stop while the models load: nothing was written. The look ran
// before the signal's handler was set up, so the signal killed rlt score
// without a word.
func TestScoreStoppedWhileWaitingForInput(t *testing.T) {
	stdin := &signalOnRead{signal: make(chan os.Signal, 1), closed: make(chan struct{})}
	defer close(stdin.closed)
	signal.Notify(stdin.signal, syscall.SIGTERM)
	defer signal.Stop(stdin.signal)
	var stdout, stderr lockedBuf
	code := run([]string{"score", "--teacher", embeddedTeacher, "--student", embeddedStudent, "--device", "cpu"}, stdin, &stdout, &stderr)
	want := "rlt score: stopped by a signal before its first input line, while it waited for its input: nothing was written; run the same command again"
	if last := strings.TrimSpace(stderr.String()); code != 1 || last != want {
		t.Errorf("exit %d, stderr %q;\nwant exit 1 and %q", code, last, want)
	}
	if stdout.String() != "" {
		t.Errorf("stdout %q; want nothing", stdout.String())
	}
}

// TestWorkbenchStoppedBySignalWhileTheModelsLoad: rlt run on a terminal
// sent SIGTERM while its run's models load (its run folder made, the
// teacher's load begun), before the workbench is on the screen, stops the
// load at once, before its first tensor, and exits as every command
// stopped while its models load (TestCommandsStoppedBySignalWhile
// TheModelsLoad): exit 1, one line saying it stopped before its first
// step while the models loaded and where, then the run folder and how it
// goes on, which has no checkpoint to continue from; the folder is
// recorded as stopped before its first step. The workbench's engine runs
// on a context no signal cancels (a signal quits it as q does, once on
// the screen), and its load took that context: the first signal was
// heeded only once the load had ended (a minute for a 7B model), the
// workbench then shown and quit at once, exit 0. rlt is this test binary
// (TestHelperGatedLoad), its teacher's folder gated (stoptest.GatedModel): the
// signal is sent as the load reads the folder's config.json and the load
// goes on once it has ended rlt run's load context, so the stop lands in
// the load on a machine however loaded; it raced the load of a 128 MiB
// embedding, seen under way in /proc.
func TestWorkbenchStoppedBySignalWhileTheModelsLoad(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the load's gate sees its reader close in /proc/self/fd")
	}
	h := newTmuxHarness(t, "load", 2*time.Minute, 50*time.Millisecond)
	h.bin = testBinary(t, h.dir)
	teacher, cfgPath := gatedSmallRun(t, h)
	cmd := fmt.Sprintf("cd %s && XDG_CACHE_HOME=%s %s=%s %s -test.run='^TestHelperGatedLoad$' -- run --runs %s --config %s; echo EXITED $?; sleep 30",
		h.dir, filepath.Join(h.dir, "cache"), loadGateEnv, teacher, h.bin, h.runs, cfgPath)
	h.tmux("new-session", "-d", "-s", "w", "-x", "200", "-y", "30", cmd)
	h.waitFor("the exit", func(s string) bool { return strings.Contains(s, "EXITED") })
	s := h.tmux("capture-pane", "-t", "w", "-p", "-J") // stderr's long line whole, not wrapped
	list, err := sessions.List(h.runs)
	if err != nil || len(list) != 1 {
		t.Fatalf("rlt sessions: %+v %v\n%s", list, err, s)
	}
	dir := list[0].Dir
	want := regexp.MustCompile(`(?m)^rlt run: stopped by a signal before its first step, while the models loaded \(` + regexp.QuoteMeta(filepath.Join(teacher, "model.safetensors")) +
		`: tensor "[^"]+": stopped before it, 0 of \d+ tensors read\): run folder ` + regexp.QuoteMeta(dir+": "+sessions.ContinueLine(dir)) + `\nEXITED 1$`)
	if !want.MatchString(s) {
		t.Errorf("not the load's stop, exit 1; want a match of %s in:\n%s", want, s)
	}
	if r := list[0]; r.State != sessions.StateStopped || r.Note != "" || r.LastStep != -1 {
		t.Errorf("listed %s, note %q, last step %d; want stopped before its first step, no note", r.State, r.Note, r.LastStep)
	}
}

// TestWorkbenchSecondSignalLeavesALoadThatDoesNotStop: rlt run on a
// terminal whose run's load does not heed the first stop signal (here the
// teacher's config.json, a FIFO whose writer writes nothing once the run
// folder is made: a read that blocks, as on a hung disk or a device that
// does not answer as it opens) leaves at once on a second, as it
// leaves the workbench and rlt run --headless does: exit 1, the run
// folder recording the leave (stopped, noted left at once before its
// first step, run.lock released) and saying it under the folder with how
// it goes on. The second signal was swallowed while the load ran: the
// process waited for the load however long, no way out but SIGKILL.
func TestWorkbenchSecondSignalLeavesALoadThatDoesNotStop(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the workbench's process is found in /proc/PID/exe")
	}
	// rlt bounding its leave by a hang guard (leaveGuardedRun), not the
	// 2 s a loaded machine could take to write and sync the run's close.
	h := newTmuxHarness(t, "heldload", 2*leaveHangGuard+time.Minute, 50*time.Millisecond)
	h.bin = testBinary(t, h.dir)
	models := stoptest.GatedModel(t, h.dir, embeddedTeacher)
	config, err := os.ReadFile(models + "." + hf.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	// As /proc/PID/fd names it: the temporary folder's path may hold a
	// link.
	fifo, err := filepath.EvalSymlinks(filepath.Join(models, hf.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	// The reader is rlt run's process.
	held := func() bool {
		for _, pid := range h.running() {
			if holds(pid, fifo) {
				return true
			}
		}
		return false
	}
	// The FIFO gives config.json to each reader before the run folder is
	// made (the checks'), and nothing to the first after it (the load's,
	// run.New's), held open until the test ends: the load waits on a
	// read its context cannot end.
	loading, done := make(chan struct{}), make(chan struct{})
	go stoptest.ServeFIFO(fifo, config, stoptest.FIFOReaders{Opened: held, Closed: func() bool { return !held() }}, func() bool {
		if entries, _ := os.ReadDir(h.runs); len(entries) > 0 {
			close(loading)
			<-done
			return false
		}
		return true
	})
	t.Cleanup(func() {
		close(done)
		// A writer waiting for a reader is let through, to find done.
		if r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			r.Close()
		}
	})
	cfgPath := filepath.Join(h.dir, "held.toml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf("teacher = %q\nstudent = %q\ndevice = 'cpu'\n%s", models, models, smallRun)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := fmt.Sprintf("cd %s && XDG_CACHE_HOME=%s %s=1 %s '%s' -- run --runs %s --config %s; echo EXITED $?; sleep 30", h.dir, filepath.Join(h.dir, "cache"), leaveGuardedEnv, h.bin, leaveGuardedRun, h.runs, cfgPath)
	h.tmux("new-session", "-d", "-s", "w", "-x", "200", "-y", "30", cmd)
	select {
	case <-loading:
	case <-time.After(2 * time.Minute):
		t.Fatalf("rlt run's load did not read %s in 2 minutes; the screen is:\n%s", fifo, h.screen())
	}
	pids := h.running()
	if len(pids) != 1 {
		t.Fatalf("%d processes of %s running; want rlt run's", len(pids), h.bin)
	}
	// Two kinds: two signals of a kind could be merged into one pending.
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		if err := syscall.Kill(pids[0], sig); err != nil {
			t.Fatal(err)
		}
	}
	s := h.waitFor("the exit", func(s string) bool { return strings.Contains(s, "EXITED") })
	flat := strings.Join(strings.Fields(s), " ") // stderr's lines wrapped at the pane's width
	if !strings.Contains(s, "EXITED 1") || !strings.Contains(flat, "left at once on a second stop signal, without ending the runs it trained; each run above goes on as said under its folder") {
		t.Errorf("after a second signal, not a prompt exit (1) saying how the run goes on:\n%s", s)
	}
	list, err := sessions.List(h.runs)
	if err != nil || len(list) != 1 || list[0].State != sessions.StateStopped || !strings.HasPrefix(list[0].Note, "left at once on a second stop signal before its first step") {
		t.Fatalf("rlt sessions: %+v %v; want the run stopped, noted as left at once before its first step", list, err)
	}
	if dir := list[0].Dir; !strings.Contains(flat, "run folder "+strings.Join(strings.Fields(dir+" "+list[0].Note+" "+sessions.ContinueLine(dir)), " ")) {
		t.Errorf("the folder notes %q; want that said under it with how it goes on:\n%s", list[0].Note, s)
	} else if lock, err := os.ReadFile(filepath.Join(dir, sessions.LockFileName)); err != nil || strings.TrimSpace(string(lock)) != "" {
		t.Errorf("run.lock %q, %v; want it released (emptied)", lock, err)
	}
}

// gatedSmallRun writes, in h's folder, a small run's config (smallRun on
// the CPU) whose teacher is distillTeacher behind stoptest's gate (its
// config.json served from a FIFO), and returns the gated teacher's folder
// and the config's path.
func gatedSmallRun(t *testing.T, h *tmuxHarness) (teacher, cfgPath string) {
	t.Helper()
	teacher = stoptest.GatedModel(t, h.dir, distillTeacher)
	student, err := filepath.Abs(embeddedStudent)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath = filepath.Join(h.dir, "small.toml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf("teacher = %q\nstudent = %q\ndevice = 'cpu'\n%s", teacher, student, smallRun)), 0o644); err != nil {
		t.Fatal(err)
	}
	return teacher, cfgPath
}
