package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/sessions"
)

// stepRun makes a real run of 3 steps on the embedded models, a checkpoint
// after each step, and returns its folder with the reward it recorded for
// each trace (the trace files' terms) and each trace's step.
func stepRun(t *testing.T) (dir string, rewards map[string]float64, steps map[string]int) {
	t.Helper()
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	teacher, _ := filepath.Abs(embeddedTeacher)
	student, _ := filepath.Abs(embeddedStudent)
	cfg := filepath.Join(t.TempDir(), "small.toml")
	body := "teacher = " + strconv.Quote(teacher) + "\nstudent = " + strconv.Quote(student) + "\n" + smallRun
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	runs := t.TempDir()
	if code, _, errs := runCLI(t, "", "run", "--headless", "--device", "cpu", "--steps", "3", "--runs", runs, "--config", cfg); code != 0 {
		t.Fatalf("rlt run: exit %d: %s", code, errs)
	}
	entries, err := os.ReadDir(runs)
	if err != nil || len(entries) != 1 {
		t.Fatalf("runs: %v, %v", entries, err)
	}
	dir = filepath.Join(runs, entries[0].Name())
	files, _ := filepath.Glob(filepath.Join(dir, sessions.TracesDir, "*.jsonl"))
	rewards, steps = map[string]float64{}, map[string]int{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var tr struct {
				ID    string `json:"id"`
				Step  int    `json:"step"`
				Terms struct {
					Reward float64 `json:"reward"`
				} `json:"terms"`
			}
			if err := json.Unmarshal([]byte(l), &tr); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			rewards[tr.ID], steps[tr.ID] = tr.Terms.Reward, tr.Step
		}
	}
	if len(rewards) == 0 || steps[maxKey(steps)] != 2 {
		t.Fatalf("traces %v: want steps 0 to 2", steps)
	}
	return dir, rewards, steps
}

// maxKey is the key of m's largest value.
func maxKey(m map[string]int) string {
	best, k := -1, ""
	for id, v := range m {
		if v > best {
			best, k = v, id
		}
	}
	return k
}

// TestScoreTeacherOfStep: rlt score --run --teacher-of-step scores each
// step's traces with the teacher that scored them in the run (step 0:
// config.toml's; step N: checkpoints/step-(N−1)/teacher), so every reward
// is the recorded one, bit for bit; without it, a later step's differ. A
// step whose checkpoint is gone is an error line per trace, naming it, the
// other steps scored, exit 1. With --write a rerun skips what the same
// per-step teachers stored, and a rescore by the run's teacher alone does
// not take those for its own. Servers and --teacher are wrong calls.
func TestScoreTeacherOfStep(t *testing.T) {
	dir, rewards, steps := stepRun(t)
	score := func(args ...string) (int, []map[string]any, string) {
		t.Helper()
		code, out, errs := runCLI(t, "", append([]string{"score", "--device", "cpu", "--run", dir}, args...)...)
		return code, scoreLines(t, out), errs
	}
	code, lines, errs := score("--teacher-of-step")
	if code != 0 || len(lines) != len(rewards) {
		t.Fatalf("--teacher-of-step: exit %d, %d lines for %d traces: %s", code, len(lines), len(rewards), errs)
	}
	for _, l := range lines {
		id, _ := l["trace"].(string)
		if got, ok := l["reward"].(float64); !ok || got != rewards[id] {
			t.Errorf("--teacher-of-step: trace %s (step %d): reward %v, the run recorded %v", id, steps[id], l["reward"], rewards[id])
		}
	}
	code, lines, errs = score()
	if code != 0 || len(lines) != len(rewards) {
		t.Fatalf("the run's teacher: exit %d, %d lines: %s", code, len(lines), errs)
	}
	differ := 0
	for _, l := range lines {
		id, _ := l["trace"].(string)
		got, _ := l["reward"].(float64)
		if steps[id] == 0 && got != rewards[id] {
			t.Errorf("the run's teacher: step 0's trace %s: reward %v, the run recorded %v", id, got, rewards[id])
		}
		if steps[id] > 0 && got != rewards[id] {
			differ++
		}
	}
	if differ == 0 {
		t.Errorf("the run's teacher scored every later step's trace as the run did: the check above proves nothing")
	}

	// --write: each rescore names its step's teacher; a rerun skips them.
	if code, _, errs := score("--teacher-of-step", "--write"); code != 0 {
		t.Fatalf("--teacher-of-step --write: exit %d: %s", code, errs)
	}
	code, lines, errs = score("--teacher-of-step", "--write")
	if code != 0 || !strings.Contains(errs, "scored 0 of ") {
		t.Errorf("rerun: exit %d, want nothing scored again: %s", code, errs)
	}
	for _, l := range lines {
		id, _ := l["trace"].(string)
		if l["stored"] != true || l["reward"] != rewards[id] {
			t.Errorf("rerun: trace %s: %v, want its stored score", id, l)
		}
	}
	later := 0
	for _, s := range steps {
		if s > 0 {
			later++
		}
	}
	code, lines, errs = score("--write")
	if code != 0 || !strings.Contains(errs, "scored "+strconv.Itoa(later)+" of ") {
		t.Errorf("the run's teacher after --teacher-of-step --write: exit %d, want the %d traces of later steps scored: %s", code, later, errs)
	}
	for _, l := range lines {
		id, _ := l["trace"].(string)
		if (l["stored"] == true) != (steps[id] == 0) {
			t.Errorf("the run's teacher after --teacher-of-step --write: trace %s (step %d): stored %v", id, steps[id], l["stored"])
		}
	}

	// Step 1's teacher (the checkpoint after step 0) gone: its traces only.
	ck := filepath.Join(dir, sessions.CheckpointsDir, "step-000000")
	if err := os.RemoveAll(ck); err != nil {
		t.Fatal(err)
	}
	code, lines, errs = score("--teacher-of-step")
	if code != 1 || len(lines) != len(rewards) {
		t.Fatalf("a checkpoint gone: exit %d, %d lines, want 1 and %d: %s", code, len(lines), len(rewards), errs)
	}
	for _, l := range lines {
		id, _ := l["trace"].(string)
		msg, _ := l["error"].(string)
		if steps[id] == 1 {
			if !strings.Contains(msg, "not scored") || !strings.Contains(msg, ck) {
				t.Errorf("step 1's trace %s: %v, want an error naming %s, not scored", id, l, ck)
			}
			continue
		}
		if got, ok := l["reward"].(float64); !ok || got != rewards[id] {
			t.Errorf("a checkpoint gone: trace %s (step %d): %v, want the recorded reward %v", id, steps[id], l, rewards[id])
		}
	}
	if !strings.Contains(errs, "of step 1 not scored") {
		t.Errorf("a checkpoint gone: summary %s", errs)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--teacher", "http://127.0.0.1:1"}, "--teacher-of-step loads each step's teacher from the run's checkpoints, which a server"},
		{[]string{"--student", "http://127.0.0.1:1"}, "--student http://127.0.0.1:1 is a server"},
		{[]string{"--teacher", embeddedTeacher}, "--teacher-of-step takes each step's teacher from the run"},
	} {
		code, _, errs := runCLI(t, "", append([]string{"score", "--device", "cpu", "--run", dir, "--teacher-of-step"}, c.args...)...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("--teacher-of-step %v: exit %d, want 2 and %q: %s", c.args, code, c.want, errs)
		}
	}
	if code, _, errs := runCLI(t, "", "score", "--teacher-of-step"); code != 2 || !strings.Contains(errs, "give the run with --run") {
		t.Errorf("--teacher-of-step without --run: exit %d: %s", code, errs)
	}
}

// TestScoreTeacherOfStepRewrittenCheckpoint: a checkpoint written again at
// the same step (a resume) keeps its folder, so a stored rescore by the
// teacher of that folder is current only if the teacher's weights are the
// same. Other weights: the step's traces are scored again with --write; the
// same weights saved again (a new state.json time): still stored. A
// rescore stored without a teacher ID (an older rlt's) is read, and
// scored again.
func TestScoreTeacherOfStepRewrittenCheckpoint(t *testing.T) {
	dir, _, steps := stepRun(t)
	// score runs it and checks that the traces of the stored steps, and
	// only those, are printed from their stored scores.
	score := func(what string, stored ...int) {
		t.Helper()
		code, out, errs := runCLI(t, "", "score", "--device", "cpu", "--run", dir, "--teacher-of-step", "--write")
		lines := scoreLines(t, out)
		if code != 0 || len(lines) != len(steps) {
			t.Fatalf("%s: exit %d, %d lines for %d traces: %s", what, code, len(lines), len(steps), errs)
		}
		for _, l := range lines {
			id, _ := l["trace"].(string)
			if want := slices.Contains(stored, steps[id]); (l["stored"] == true) != want {
				t.Errorf("%s: trace %s (step %d): stored %v, want %v", what, id, steps[id], l["stored"], want)
			}
		}
	}
	score("first")
	score("rerun", 0, 1, 2)

	ck := filepath.Join(dir, sessions.CheckpointsDir, "step-000000") // step 1's teacher
	setState := func(from string, edit func(st *sessions.CheckpointState)) {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(from, sessions.CheckpointStateFile))
		if err != nil {
			t.Fatal(err)
		}
		var st sessions.CheckpointState
		if err := json.Unmarshal(data, &st); err != nil {
			t.Fatal(err)
		}
		edit(&st)
		if data, err = json.Marshal(st); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ck, sessions.CheckpointStateFile), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Saved again with the same weights: only the time differs.
	setState(ck, func(st *sessions.CheckpointState) { st.Time = st.Time.Add(time.Hour) })
	score("the same weights saved again", 0, 1, 2)

	// Written again with other weights (step 1's checkpoint's, as step 0's).
	if err := os.RemoveAll(ck); err != nil {
		t.Fatal(err)
	}
	next := filepath.Join(dir, sessions.CheckpointsDir, "step-000001")
	copyDir(t, next, ck)
	setState(next, func(st *sessions.CheckpointState) { st.Step = 0 })
	score("other weights at the same step", 0, 2)
	score("rerun after other weights", 0, 1, 2)

	// An older rlt's rescores name no teacher ID: read, and those by a
	// checkpoint's teacher scored again (step 0's is config.toml's).
	path := filepath.Join(dir, sessions.RescoresFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	old := regexp.MustCompile(`"teacher_id":"[0-9a-f]+",`).ReplaceAll(data, nil)
	if bytes.Equal(old, data) {
		t.Fatalf("%s records no teacher_id", path)
	}
	if err := os.WriteFile(path, old, 0o644); err != nil {
		t.Fatal(err)
	}
	score("rescores without a teacher ID", 0)
}

// TestScoreTeacherOfStepStopsOnASignalDuringALoad: with --teacher-of-step,
// a signal that comes while the next step's teacher loads stops the load
// itself, before its next tensor (model.LoadAs takes the signal's
// context), and the scoring with it: the load returns the context's error
// naming the tensor, 2 of the teacher's tensors read, stdout holds step
// 0's lines and no more, and the error says so. The load took no context:
// it read every tensor, and the scoring stopped only once it returned.
func TestScoreTeacherOfStepStopsOnASignalDuringALoad(t *testing.T) {
	dir, _, steps := stepRun(t)
	be := compute.NewCPU()
	run, sc := rescoreWithDefaults(t, be, dir)
	teacher, student := run.Settings().Teacher, run.Settings().Student
	ctx, signal := context.WithCancel(context.Background())
	defer signal()
	loads := 0
	var loadErr error
	swap := func(ctx context.Context, dir string) error { // the signal comes while step 1's teacher loads
		loads++
		// The signal lands as the load asks for the third time, before
		// its third tensor.
		_, loadErr = model.LoadAs(&signalOnLook{Context: ctx, n: 3, signal: signal}, be, dir, model.Float32)
		return loadErr
	}
	var out, errb bytes.Buffer
	err := scoreRun(ctx, run, &scoreStats{sc: sc}, 1, false, false, teacher, student, swap, &out, &errb)
	step0 := 0
	for _, s := range steps {
		if s == 0 {
			step0++
		}
	}
	lines := scoreLines(t, out.String())
	if want := fmt.Sprintf("stopped by a signal after %d of %d traces", step0, len(steps)); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want it to say %q", err, want)
	}
	if !errors.Is(loadErr, context.Canceled) || !regexp.MustCompile(`tensor "[^"]+": stopped before it, 2 of \d+ tensors read`).MatchString(fmt.Sprint(loadErr)) {
		t.Errorf("the teacher's load returned %v; want the signal's context.Canceled, before its third tensor, named", loadErr)
	}
	if loads != 1 || len(lines) != step0 {
		t.Errorf("%d loads, %d lines; want 1 load and step 0's %d lines, nothing scored by the teacher loaded under the signal", loads, len(lines), step0)
	}
	for _, l := range lines {
		if id, _ := l["trace"].(string); steps[id] != 0 {
			t.Errorf("trace %s of step %d scored after the signal", id, steps[id])
		}
	}
}

// signalOnLook is ctx, but the n-th look at its Err gives the signal first: a
// model's load looks once before each tensor, so the signal lands within
// the load, after n-1 tensors are read.
type signalOnLook struct {
	context.Context
	n      int
	signal func()
}

func (c *signalOnLook) Err() error {
	if c.n--; c.n == 0 {
		c.signal()
	}
	return c.Context.Err()
}

// rescoreWithDefaults opens the run in dir to rescore (closed as the test
// ends) and a scorer on be of its teacher and student, with their own
// prompts and the default reward.
func rescoreWithDefaults(t *testing.T, be compute.Backend, dir string) (*sessions.Run, *rlt.Scorer) {
	t.Helper()
	run, err := sessions.OpenWith(dir, nil, sessions.Options{Intent: sessions.IntentRescore})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Close() })
	teacher, student := run.Settings().Teacher, run.Settings().Student
	prompts, err := record.PromptsFor(teacher, student, record.Prompts{})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := rlt.LoadPair(be, teacher, student, prompts)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := rlt.NewScorer(pair, record.DefaultRewardConfig())
	if err != nil {
		t.Fatal(err)
	}
	return run, sc
}
