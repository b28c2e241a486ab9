package main

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/sessions"
)

// killConfig is a small GRPO run (P2 × G2, short completions, an evaluation
// every third step, a reference sync every fourth) so that a step takes a
// fraction of a second and kills land in every phase of it.
const killConfig = `
eval_every = 3
eval_questions = 2
checkpoint_every = 1
[grpo]
questions = 2
samples = 2
max_new_tokens = 24
ref_sync_every = 4
`

const killTracesPerStep = 2 * 2

// TestKilledRunResumes kills a real run with SIGKILL again and again at
// random moments (delays from a seeded RNG: RLT_KILL_SEED=n replays a
// failure), opening it to review a trace between kills, and resuming it each
// time; every other kill lands in the first second after the start, the
// others while a checkpoint is being written. After every kill the folder must hold only whole records, each step
// at most once, the checkpoint at most one step behind the metrics (only the
// step in progress lost), and every review given so far. At the end the run
// must equal an uninterrupted run of the same seed: every metric value bit
// for bit (except what measures the machine, rlt.Measured) and every
// sampled completion. -short kills 4 times; RLT_KILL_LOOP=n kills n times.
func TestKilledRunResumes(t *testing.T) {
	kills := 12
	if testing.Short() {
		kills = 4
	}
	if v := os.Getenv("RLT_KILL_LOOP"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("RLT_KILL_LOOP=%q: want a positive number of kills", v)
		}
		kills = n
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("RLT_KILL_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("RLT_KILL_SEED=%q: %v", v, err)
		}
		seed = n
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	steps := 8 + kills
	var delays []time.Duration
	var progress []int // the latest checkpoint after each kill
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("RLT_KILL_SEED=%d (kill delays so far %v, checkpoints after them %v): %s", seed, delays, progress, fmt.Sprintf(format, args...))
	}
	t.Logf("RLT_KILL_SEED=%d, %d kills, %d steps", seed, kills, steps)

	p := newBinaryRun(t, killConfig)
	dir, bin, cfgPath, env := p.dir, p.bin, p.config, p.env
	command := func(args ...string) (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		return cmd, &out
	}
	stepsArg := strconv.Itoa(steps)

	// The uninterrupted run of the same configuration, alongside.
	refRuns := filepath.Join(dir, "ref")
	ref, refOut := command("run", "--headless", "--steps", stepsArg, "--runs", refRuns, "--config", cfgPath)
	if err := ref.Start(); err != nil {
		t.Fatal(err)
	}
	refDone := make(chan error, 1)
	go func() { refDone <- ref.Wait() }()
	refWaited := false
	defer func() {
		if !refWaited {
			ref.Process.Kill()
			<-refDone
		}
	}()

	runs := filepath.Join(dir, "runs")
	cmd, out := command("run", "--headless", "--steps", stepsArg, "--runs", runs, "--config", cfgPath)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The first kill comes after a first checkpoint (before it there is
	// nothing to resume from).
	deadline := time.Now().Add(120 * time.Second)
	for {
		cks, _ := filepath.Glob(filepath.Join(runs, "*", "checkpoints", "step-*", "state.json"))
		if len(cks) > 0 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no checkpoint appeared:\n%s", out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	entries, _ := os.ReadDir(runs)
	if len(entries) != 1 {
		t.Fatalf("%d run folders", len(entries))
	}
	runDir := filepath.Join(runs, entries[0].Name())

	reviews := map[string]sessions.Label{}
	lastCk := -1
	labels := []sessions.Label{sessions.LabelAccept, sessions.LabelReject, sessions.LabelFlag}
	finished := false
	for k := 0; k < kills && !finished; k++ {
		// Kills alternate: at a random moment of the first second after
		// the start (loading, restoring the checkpoint), and while a
		// checkpoint is being written (its temporary folder exists).
		d := time.Duration(rng.IntN(1000)) * time.Millisecond
		inWrite := k%2 == 1
		if inWrite {
			d = -1 // shown as such in the failure message
		}
		delays = append(delays, d)
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		trigger, stop := time.After(d), make(chan struct{})
		if inWrite {
			trigger = checkpointWriting(runDir, stop)
		}
		select {
		case <-trigger:
			cmd.Process.Signal(syscall.SIGKILL)
			<-exited
		case err := <-exited:
			if err != nil {
				fail("run exited by itself: %v\n%s", err, out)
			}
			t.Logf("the run finished before kill %d", k+1)
			finished = true
			close(stop)
			continue
		}
		close(stop)
		lastCk = checkKilledRun(t, fail, runDir, lastCk, reviews)
		progress = append(progress, lastCk)

		// Between kills, a reviewer labels a trace that the checkpoint keeps.
		w, err := sessions.Open(runDir, nil)
		if err != nil {
			fail("open for review after kill %d: %v", k+1, err)
		}
		ts, _ := w.Store().TracesSince(0)
		for _, tr := range ts {
			if tr.Step > lastCk {
				continue
			}
			if _, done := reviews[tr.ID]; done {
				continue
			}
			l := labels[k%len(labels)]
			if err := w.Review(tr.ID, l, fmt.Sprintf("after kill %d", k+1)); err != nil {
				fail("review: %v", err)
			}
			reviews[tr.ID] = l
			break
		}
		if err := w.Close(); err != nil {
			fail("close after review: %v", err)
		}

		cmd, out = command("run", "--headless", "--resume", runDir, "--steps", stepsArg)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	if !finished { // the last resume is not killed: it runs to the end
		if err := cmd.Wait(); err != nil {
			fail("last resume: %v\n%s", err, out)
		}
	}
	checkKilledRun(t, fail, runDir, lastCk, reviews)

	run, err := sessions.OpenReadOnly(runDir)
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	metrics, _ := run.Store().MetricsSince(0)
	train, evals := stepsWith(metrics, "reward"), stepsWith(metrics, "eval_accuracy")
	if len(train) != steps || train[0] != 0 || train[steps-1] != steps-1 {
		fail("training steps after the last resume: %v, want 0 … %d once each", train, steps-1)
	}
	if want := steps / 3; len(evals) != want {
		fail("evaluation steps %v, want %d of them", evals, want)
	}
	traces, _ := run.Store().TracesSince(0)
	if len(traces) != steps*killTracesPerStep {
		fail("%d traces, want %d", len(traces), steps*killTracesPerStep)
	}
	list, err := sessions.List(runs)
	if err != nil || len(list) != 1 || list[0].State != sessions.StateFinished || list[0].LastStep != steps-1 {
		fail("after the last resume: %+v, %v", list, err)
	}

	refWaited = true
	if err := <-refDone; err != nil {
		fail("uninterrupted run: %v\n%s", err, refOut)
	}
	entries, _ = os.ReadDir(refRuns)
	if len(entries) != 1 {
		t.Fatalf("%d reference run folders", len(entries))
	}
	refRun, err := sessions.OpenReadOnly(filepath.Join(refRuns, entries[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	defer refRun.Close()
	refMetrics, _ := refRun.Store().MetricsSince(0)
	if diff := diffMetrics(refMetrics, metrics); diff != "" {
		fail("metrics after %d kills differ from the uninterrupted run's:\n%s", len(delays), diff)
	}
	// The stores list traces without their completions: each read back.
	completion := func(st *sessions.Store, id string) string {
		tr, err := st.Trace(id)
		if err != nil {
			fail("%v", err)
		}
		return tr.Completion
	}
	refTraces, _ := refRun.Store().TracesSince(0)
	sampled := map[[3]int]string{}
	for _, tr := range refTraces {
		sampled[[3]int{tr.Step, tr.Group, tr.Sample}] = completion(refRun.Store(), tr.ID)
	}
	for _, tr := range traces {
		got := completion(run.Store(), tr.ID)
		if want, ok := sampled[[3]int{tr.Step, tr.Group, tr.Sample}]; !ok || want != got || got == "" {
			fail("trace %s (step %d, group %d, sample %d) sampled %q, the uninterrupted run %q", tr.ID, tr.Step, tr.Group, tr.Sample, got, want)
		}
	}
	t.Logf("%d kills at %v, latest checkpoint after each %v; %d steps equal to the uninterrupted run's", len(delays), delays, progress, steps)
}

// checkpointWriting fires once a checkpoint of the run is being written
// (a .tmp- folder in checkpoints/), polled every millisecond, until stop
// is closed; after two minutes without one it fires anyway.
func checkpointWriting(runDir string, stop chan struct{}) <-chan time.Time {
	fire := make(chan time.Time, 1)
	go func() {
		deadline := time.Now().Add(2 * time.Minute)
		for time.Now().Before(deadline) {
			select {
			case <-stop:
				return
			default:
			}
			if tmp, _ := filepath.Glob(filepath.Join(runDir, "checkpoints", ".tmp-*")); len(tmp) > 0 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		fire <- time.Now()
	}()
	return fire
}

// checkKilledRun checks a run folder after a kill and returns the step of
// its latest usable checkpoint, which must not be behind lastCk.
func checkKilledRun(t *testing.T, fail func(string, ...any), runDir string, lastCk int, reviews map[string]sessions.Label) int {
	t.Helper()
	run, err := sessions.OpenReadOnly(runDir)
	if err != nil {
		fail("open read-only after a kill: %v", err)
	}
	defer run.Close()
	st := run.Store()
	if n := st.Broken(); n != 0 {
		fail("%d broken records: %v", n, st.Issues())
	}
	for _, is := range st.Issues() {
		// A kill may leave a partial last line (removed on the next Open):
		// anything else is a problem.
		if !strings.Contains(is.Msg, "unterminated last line") {
			fail("issue in the run folder: %v", is)
		}
	}
	metrics, _ := st.MetricsSince(0)
	train := stepsWith(metrics, "reward")
	for _, name := range []string{"reward", "eval_accuracy"} {
		s := stepsWith(metrics, name)
		for i := 1; i < len(s); i++ {
			if s[i] <= s[i-1] {
				fail("steps of the %q records are not strictly increasing: %v", name, s)
			}
		}
	}
	for i, s := range train {
		if s != i {
			fail("training steps %v: a step is missing", train)
		}
	}
	ck, _, err := sessions.LatestCheckpoint(runDir)
	if err != nil {
		fail("no usable checkpoint after a kill: %v", err)
	}
	if ck.Step < lastCk {
		fail("the latest checkpoint went back from step %d to %d", lastCk, ck.Step)
	}
	last := -1
	if len(train) > 0 {
		last = train[len(train)-1]
	}
	if ck.Step > last {
		fail("checkpoint of step %d but metrics only up to step %d: records of a checkpointed step were lost", ck.Step, last)
	}
	if last-ck.Step > 1 {
		fail("metrics up to step %d but the latest checkpoint is of step %d: more than the step in progress would be lost", last, ck.Step)
	}
	traces, _ := st.TracesSince(0)
	perStep := map[int]int{}
	for _, tr := range traces {
		perStep[tr.Step]++
	}
	for s, n := range perStep {
		if n > killTracesPerStep || (s <= ck.Step && n != killTracesPerStep) {
			fail("step %d has %d traces (checkpoint of step %d), want %d", s, n, ck.Step, killTracesPerStep)
		}
	}
	for id, l := range reviews {
		if got := st.Label(id); got.Label != l {
			fail("review of %s: %q, want %q", id, got.Label, l)
		}
	}
	return ck.Step
}

// stepsWith lists the steps of the records that have the value name.
func stepsWith(ms []sessions.MetricRecord, name string) []int {
	var out []int
	for _, m := range ms {
		if _, ok := m.Get(name); ok {
			out = append(out, m.Step)
		}
	}
	return out
}

// diffMetrics compares two runs' metric records by step and key set: every
// value bit for bit, except what measures the machine (rlt.Measured).
func diffMetrics(want, got []sessions.MetricRecord) string {
	key := func(m sessions.MetricRecord) string { return fmt.Sprint(m.Step, m.Names) }
	byKey := map[string]sessions.MetricRecord{}
	for _, m := range want {
		byKey[key(m)] = m
	}
	var diffs []string
	if len(want) != len(got) {
		diffs = append(diffs, fmt.Sprintf("%d records, want %d", len(got), len(want)))
	}
	for _, m := range got {
		w, ok := byKey[key(m)]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("step %d: a record with keys %v the uninterrupted run does not have", m.Step, m.Names))
			continue
		}
		for i, n := range m.Names {
			if rlt.Measured(n) {
				continue
			}
			if a, b := w.Values[i], m.Values[i]; math.Float64bits(a) != math.Float64bits(b) {
				diffs = append(diffs, fmt.Sprintf("step %d %s: %v, want %v", m.Step, n, b, a))
			}
		}
	}
	slices.Sort(diffs)
	if len(diffs) > 20 {
		diffs = append(diffs[:20], fmt.Sprintf("… %d more", len(diffs)-20))
	}
	return strings.Join(diffs, "\n")
}
