package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/configkey"
	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/hf/hftest"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/engine/warmstart"
)

// tinyModels builds a barely trained teacher and student with the real
// recipe, small enough for a test.
func tinyModels(t *testing.T) string {
	t.Helper()
	r := warmstart.DefaultRecipe()
	r.Steps, r.Batch = 2, 2
	r.Teacher.Hidden, r.Teacher.Intermediate, r.Teacher.Layers = 32, 64, 1
	r.Student = r.Teacher
	dir := t.TempDir()
	if err := warmstart.Build(context.Background(), r, dir, nil); err != nil {
		t.Fatal(err)
	}
	return dir
}

func smallConfig(dir string) runconfig.Config {
	c := DefaultConfig(filepath.Join(dir, "teacher"), filepath.Join(dir, "student"))
	c.Steps, c.EvalEvery, c.EvalQuestions = 2, 1, 4
	c.GRPO.Questions, c.GRPO.Samples, c.GRPO.MaxNewTokens = 2, 2, 8
	return c
}

// checkAndNew is what a caller that does not validate first does: Check,
// then New on what it checked.
func checkAndNew(c runconfig.Config, sink event.Sink) (*Engine, error) {
	checked, err := Check(c)
	if err != nil {
		return nil, err
	}
	return New(context.Background(), checked, sink)
}

func TestRunStepsEvaluatesAndFinishes(t *testing.T) {
	dir := tinyModels(t)
	var buf event.Buffer
	e, err := checkAndNew(smallConfig(dir), &buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	var steps, evals int
	var done bool
	for _, ev := range buf.Events() {
		switch ev := ev.(type) {
		case event.Metrics:
			if _, ok := ev.Values["eval_accuracy"]; ok {
				evals++
				for _, k := range []string{"eval_verified_rate", "eval_leak_rate"} {
					if v, ok := ev.Values[k]; !ok || v < 0 || v > 1 {
						t.Errorf("%s = %v", k, v)
					}
				}
			} else {
				steps++
			}
		case event.Phase:
			done = done || ev.Name == "done"
		}
	}
	if steps != 2 || evals != 2 || !done {
		t.Errorf("%d step metrics, %d evaluations, done %v; want 2, 2, true", steps, evals, done)
	}
}

func TestStopAndPause(t *testing.T) {
	dir := tinyModels(t)
	c := smallConfig(dir)
	c.Steps, c.EvalEvery = 0, 0 // until stopped
	var sink event.Buffer
	e, err := checkAndNew(c, &sink)
	if err != nil {
		t.Fatal(err)
	}
	e.Pause()
	done := make(chan error, 1)
	go func() { done <- e.Run(context.Background()) }()
	time.Sleep(50 * time.Millisecond)
	if e.Trainer.StepIndex() != 0 {
		t.Fatalf("a paused engine stepped %d times", e.Trainer.StepIndex())
	}
	e.Resume()
	for e.Trainer.StepIndex() < 1 {
		time.Sleep(5 * time.Millisecond)
	}
	e.Stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// A run stopped before its planned steps must not say "done": listings
	// would call it finished.
	last := ""
	for _, ev := range sink.Events() {
		if p, ok := ev.(event.Phase); ok {
			last = p.Name
		}
	}
	if last != "stopped" {
		t.Errorf("last phase %q, want \"stopped\"", last)
	}
}

// pauseSink records the events, pauses the engine at its first step's
// metrics (so that it pauses after that step) and closes paused at the
// first "paused" phase: the engine waits between steps from then on.
type pauseSink struct {
	event.Buffer
	pause        func()
	paused       chan struct{}
	first, ended sync.Once
}

func (s *pauseSink) Emit(ev event.Event) {
	s.Buffer.Emit(ev)
	switch ev := ev.(type) {
	case event.Metrics:
		s.first.Do(s.pause)
	case event.Phase:
		if ev.Name == "paused" {
			s.ended.Do(func() { close(s.paused) })
		}
	}
}

// TestStopWritesTheCheckpointAskedWhilePaused: a checkpoint asked of a
// paused engine waits for a step after which to write it; a stop that
// comes first writes it, of the last step, as the engine stops (before its
// stopped phase), so that a process killed after S loses nothing. It was
// left to the run's close. Not asked too (rlt run --headless's first stop
// signal asks none): the stopped phase says the step the run stopped at,
// so that step's checkpoint comes first (checkpointAtEnd, as before
// "done"); it was the close's, after "stopped". On disk already, none is
// written. A checkpoint whose save failed is not on disk: the stop writes
// it (the engine took it for on disk, having recorded it before the save).
func TestStopWritesTheCheckpointAskedWhilePaused(t *testing.T) {
	dir := tinyModels(t)
	for _, tc := range []struct {
		name  string
		every int   // checkpoint_every
		ask   bool  // CheckpointNow while paused
		fail  int   // how many saves fail first
		lost  bool  // the device fails with the first failed save (its Err)
		want  []int // the steps checkpointed: step 0 ran, then the engine paused
		since bool  // the device fails after the first failed save, before the stop
	}{
		{"asked", 0, true, 0, false, []int{0}, false},
		{"not asked", 0, false, 0, false, []int{0}, false},
		{"on disk already", 1, true, 0, false, []int{0}, false}, // after step 0, not again as it stops
		{"its save failed", 1, true, 1, false, []int{0}, false}, // tried after step 0, written as it stops
		// Scheduled, not asked for: tried again as the engine stops.
		{"its scheduled save failed", 1, false, 1, false, []int{0}, false},
		// A failed device holds no weights to read: nothing is tried again.
		{"its scheduled save failed with the device", 1, false, 1, true, nil, false},
		// Nor from a device that failed since: looked at as the stop
		// tries it, not only as the save failed.
		{"its save failed, then the device", 1, true, 1, false, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := smallConfig(dir)
			c.Steps, c.EvalEvery, c.CheckpointEvery = 0, 0, tc.every // until stopped
			sink := &pauseSink{paused: make(chan struct{})}
			e, err := checkAndNew(c, sink)
			if err != nil {
				t.Fatal(err)
			}
			sink.pause = e.Pause
			var mu sync.Mutex
			var saved []int
			fail := tc.fail
			lossy := &lostWith{Backend: e.Backend}
			e.Backend = lossy
			e.OnCheckpoint = func(step int) error {
				for _, ev := range sink.Events() {
					if p, ok := ev.(event.Phase); ok && p.Name == "stopped" {
						t.Errorf("checkpoint of step %d after the stopped phase", step)
					}
				}
				mu.Lock()
				defer mu.Unlock()
				if fail > 0 {
					fail--
					if tc.lost {
						lossy.lose()
					}
					return fmt.Errorf("save checkpoint of step %d: no space left on device", step)
				}
				saved = append(saved, step)
				return nil
			}
			done := make(chan error, 1)
			go func() { done <- e.Run(context.Background()) }()
			<-sink.paused
			if tc.since {
				lossy.lose()
			}
			if tc.ask {
				e.CheckpointNow()
			}
			e.Stop()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if n := e.Trainer.StepIndex(); n != 1 {
				t.Fatalf("%d steps ran, want 1 before the pause", n)
			}
			mu.Lock()
			got := slices.Clone(saved)
			mu.Unlock()
			if !slices.Equal(got, tc.want) {
				t.Errorf("checkpoints after steps %v, want %v", got, tc.want)
			}
			last := ""
			for _, ev := range sink.Events() {
				if p, ok := ev.(event.Phase); ok {
					last = p.Name
				}
			}
			if last != "stopped" {
				t.Errorf("last phase %q, want \"stopped\"", last)
			}
			said := 0
			for _, ev := range sink.Events() {
				if er, ok := ev.(event.Error); ok && strings.Contains(er.Err.Error(), "checkpoint: save checkpoint of step 0: no space left on device") {
					said++
				}
			}
			if said != tc.fail {
				t.Errorf("the failed save said %d times, want %d", said, tc.fail)
			}
		})
	}
}

// lostWith is a backend whose device fails (Err) once lose is called, as
// one lost while a checkpoint reads the weights back.
type lostWith struct {
	compute.Backend
	mu   sync.Mutex
	lost bool
}

func (b *lostWith) lose() { b.mu.Lock(); b.lost = true; b.mu.Unlock() }

func (b *lostWith) Err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lost {
		return errors.New("device lost (a test's)")
	}
	return b.Backend.Err()
}

// TestAFailedScheduledCheckpointIsTriedAfterTheNextStep: a scheduled
// checkpoint (checkpoint_every) whose save failed is said at once, and
// the next step's end writes one, as for a checkpoint asked for. It was
// dropped: the next try came checkpoint_every steps later (here none: the
// run ends first), or at the run's close.
func TestAFailedScheduledCheckpointIsTriedAfterTheNextStep(t *testing.T) {
	c := smallConfig(tinyModels(t))
	c.Steps, c.EvalEvery, c.CheckpointEvery = 3, 0, 2 // scheduled after step 1 only
	sink := &event.Buffer{}
	e, err := checkAndNew(c, sink)
	if err != nil {
		t.Fatal(err)
	}
	var saved []int
	failed := false
	e.OnCheckpoint = func(step int) error {
		if !failed {
			failed = true
			return fmt.Errorf("save checkpoint of step %d: no space left on device", step)
		}
		saved = append(saved, step)
		return nil
	}
	if err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(saved, []int{2}) {
		t.Errorf("checkpoints after steps %v, want [2]: the failed one of step 1 tried again after step 2", saved)
	}
	// Said at once: before the next step's metrics.
	said, after := 0, -1
	for _, ev := range sink.Events() {
		switch ev := ev.(type) {
		case event.Error:
			if ev.Step == 1 && strings.Contains(ev.Err.Error(), "checkpoint: save checkpoint of step 1: no space left on device") {
				said++
			}
		case event.Metrics:
			if said > 0 && after < 0 {
				after = ev.Step
			}
		}
	}
	if said != 1 || after != 2 {
		t.Errorf("the failed save said %d times, before step %d's metrics; want once, before step 2's", said, after)
	}
}

// Validate reports every problem of a configuration, each with the key it
// is about as data (configkey), in words that name it; a problem about
// two keys is one problem per key at fault.
func TestConfigErrorsCarryTheirKeys(t *testing.T) {
	type problem struct{ key, words string }
	// A model folder whose chat template is not ChatML, the prompts' format.
	teacher, student := hftest.StubFolder(t, t.TempDir()), hftest.StubFolder(t, t.TempDir())
	noWeights := hftest.StubFolder(t, t.TempDir())
	os.Remove(filepath.Join(noWeights, "model.safetensors"))
	llama := hftest.StubFolder(t, t.TempDir())
	llamaConfig := filepath.Join(llama, "tokenizer_config.json")
	os.WriteFile(llamaConfig, []byte(`{"chat_template": "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>' }}"}`), 0o644)
	notChatML := func(key string) string {
		return key + " " + llama + ": " + llamaConfig + ": chat_template: the chat template is not ChatML"
	}
	// A folder whose embedding has fewer rows (200) than its tokenizer,
	// the embedded teacher's, has tokens: refused here, on its key, where
	// the load refused it once rlt run had made the run folder.
	short := hftest.StubFolder(t, t.TempDir())
	tokData, err := os.ReadFile(filepath.Join("..", "defaults", "models", "teacher", "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(short, "tokenizer.json"), tokData, 0o644)
	os.WriteFile(filepath.Join(short, "config.json"), []byte(`{"model_type": "qwen2", "vocab_size": 200, "hidden_size": 32, "intermediate_size": 64,
		"num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 256}`), 0o644)
	pastRows := func(key string) string {
		return key + " " + short + ": its tokenizer.json has 265 tokens, but " + filepath.Join(short, "config.json") + "'s vocab_size is 200: the embedding has no row"
	}
	for _, c := range []struct {
		name string
		edit func(*runconfig.Config)
		want []problem // in Validate's order
	}{
		{"valid", func(*runconfig.Config) {}, nil},
		{"both folders missing", func(c *runconfig.Config) { c.Teacher, c.Student = "", "" },
			[]problem{{"teacher", "teacher is empty: the teacher model's folder is required"}, {"student", "student is empty"}}},
		{"the student's folder missing", func(c *runconfig.Config) { c.Student = "" }, []problem{{"student", "student is empty"}}},
		{"unknown task", func(c *runconfig.Config) { c.Task = "chess" }, []problem{{"task", `unknown task "chess"`}}},
		{"no task and no data", func(c *runconfig.Config) { c.Task = "" }, []problem{{"task", `task "" needs data = FILE`}}},
		{"device and matmul", func(c *runconfig.Config) { c.Device, c.Matmul = "tpu", "f8" },
			[]problem{{"device", `device "tpu": want cpu, gpu, gpu:N or auto`}, {"matmul", `matmul "f8": want f32 or f16`}}},
		{"a malformed gpu:N", func(c *runconfig.Config) { c.Device = "gpu:-1" }, []problem{{"device", `device "gpu:-1": want gpu:N`}}},
		{"negative counts", func(c *runconfig.Config) { c.Steps, c.EvalEvery, c.EvalQuestions, c.CheckpointEvery = -1, -2, -3, -4 },
			[]problem{{"steps", "steps -1 must not be negative"}, {"eval_every", "eval_every -2"},
				{"eval_questions", "eval_questions -3"}, {"checkpoint_every", "checkpoint_every -4"}}},
		{"an empty prompt", func(c *runconfig.Config) { c.Prompts.StudentSystem = " " },
			[]problem{{"prompts.student_system", "prompts.student_system is empty: write the student's system prompt"}}},
		{"both prompts wrong, each on its key", func(c *runconfig.Config) {
			c.Prompts.TeacherSystem, c.Prompts.StudentSystem = "Teach.<|im_end|>", ""
		}, []problem{{"prompts.teacher_system", "prompts.teacher_system contains the ChatML marker <|im_end|>"},
			{"prompts.student_system", "prompts.student_system is empty"}}},
		{"[reward] and [grpo] name their keys by their paths", func(c *runconfig.Config) { c.Reward.KLMax, c.GRPO.Samples = math.NaN(), 1 },
			[]problem{{"reward.kl_max", "reward.kl_max is NaN: give a finite number (the default is 0.03)"}, {"grpo.samples", "grpo.samples 1 per question"}}},
		{"scored at another temperature than sampled", func(c *runconfig.Config) { c.GRPO.Temperature = 1 },
			[]problem{{"reward.temperature", "reward.temperature 0.7 differs from grpo.temperature 1"}}},
		{"an invalid temperature is not also said to differ", func(c *runconfig.Config) { c.GRPO.Temperature = 0 },
			[]problem{{"grpo.temperature", "grpo.temperature 0 must be a finite positive number"}}},
		{"a teacher whose chat template is not ChatML", func(c *runconfig.Config) { c.Teacher = llama },
			[]problem{{"teacher", notChatML("teacher")}}},
		{"one such folder as both models, said on each key", func(c *runconfig.Config) { c.Teacher, c.Student = llama, llama },
			[]problem{{"teacher", notChatML("teacher")}, {"student", notChatML("student")}}},
		{"a teacher whose tokenizer has more tokens than its embedding rows", func(c *runconfig.Config) { c.Teacher = short },
			[]problem{{"teacher", pastRows("teacher")}}},
		{"one folder past its rows as both models, said on each key", func(c *runconfig.Config) { c.Teacher, c.Student = short, short },
			[]problem{{"teacher", pastRows("teacher")}, {"student", pastRows("student")}}},
		{"a teacher folder that does not exist", func(c *runconfig.Config) { c.Teacher = filepath.Join(teacher, "nope") },
			[]problem{{"teacher", "teacher: model folder " + filepath.Join(teacher, "nope") + " does not exist"}}},
		{"a student folder without weights", func(c *runconfig.Config) { c.Student = noWeights },
			[]problem{{"student", "student: model folder " + noWeights + " is incomplete: missing model.safetensors"}}},
		{"a file given as the teacher's folder", func(c *runconfig.Config) { c.Teacher = filepath.Join(teacher, "config.json") },
			[]problem{{"teacher", "teacher: " + filepath.Join(teacher, "config.json") + " is a file, not a model folder"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig(teacher, student)
			c.edit(&cfg)
			err := Validate(cfg)
			var got []problem
			for _, p := range configkey.Problems(err) {
				key, ok := configkey.Of(p)
				if !ok {
					key = "(no key)"
				}
				got = append(got, problem{key, p.Error()})
			}
			ok := len(got) == len(c.want)
			for i := 0; ok && i < len(got); i++ {
				ok = got[i].key == c.want[i].key && strings.HasPrefix(got[i].words, c.want[i].words)
			}
			if !ok {
				t.Errorf("problems %q, want %q", got, c.want)
			}
		})
	}
}

func TestSnapshot(t *testing.T) {
	dir := tinyModels(t)
	c := smallConfig(dir)
	c.EvalEvery = 0
	e, err := checkAndNew(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Trainer.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	snap, err := e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var st TrainerState
	if err := json.Unmarshal(snap.State, &st); err != nil || st.Step != 1 || st.AdamSteps != 1 {
		t.Fatalf("state %s: %v", snap.State, err)
	}
	saved := saveSnapshot(t, snap)
	for _, d := range []string{saved.TeacherDir, saved.ReferenceDir} {
		if _, err := model.Load(compute.NewCPU(), d); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
	if got, want := len(snap.Optimizer), 2*len(e.Trainer.Teacher.Params()); got != want {
		t.Errorf("the optimiser snapshot holds %d tensors, want %d", got, want)
	}
}

// saveSnapshot writes a snapshot's models to folders and its moments to
// a safetensors file, as a checkpoint does, and gives it back as a
// checkpoint for Restore.
func saveSnapshot(t *testing.T, s Snapshot) Saved {
	t.Helper()
	dir := t.TempDir()
	out := Saved{TeacherDir: filepath.Join(dir, "teacher"), ReferenceDir: filepath.Join(dir, "reference"), OptimizerFile: filepath.Join(dir, "optimizer.safetensors"), State: s.State}
	if err := hf.WriteSafetensors(out.OptimizerFile, s.Optimizer, hf.F32, s.OptimizerMeta); err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct {
		d string
		m *model.Model
	}{{out.TeacherDir, s.Teacher}, {out.ReferenceDir, s.Reference}} {
		if err := m.m.Save(m.d, hf.F32); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// A run resumed from a checkpoint takes exactly the steps an uninterrupted
// run takes: same metrics, same weights, bit for bit.
func TestResumeEqualsUninterrupted(t *testing.T) {
	c := smallConfig(tinyModels(t))
	c.EvalEvery = 0
	c.GRPO.RefSyncEvery = 2 // the reference sync happens across the resume
	resumeEqualsUninterrupted(t, c)
}

// resumeEqualsUninterrupted runs c for 3 steps without a break, and again
// for 2 steps, a checkpoint and a resume into a new engine for the third:
// the third step's metrics and every weight of the policy and the
// reference must be bit-identical. It returns the checkpoint.
func resumeEqualsUninterrupted(t *testing.T, c runconfig.Config) Saved {
	t.Helper()
	ctx := context.Background()
	weights := func(e *Engine) []float32 {
		var all []float32
		for _, m := range []*model.Model{e.Trainer.Teacher, e.Trainer.Ref} {
			for _, p := range m.Tensors() {
				v := make([]float32, p.Len())
				m.Backend().Read(v, p)
				all = append(all, v...)
			}
		}
		return all
	}
	newEngine := func() *Engine {
		e, err := checkAndNew(c, nil)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	whole := newEngine()
	var want []map[string]float64
	for i := 0; i < 3; i++ {
		r, err := whole.Trainer.Step(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, r.Metrics)
	}
	first := newEngine()
	for i := 0; i < 2; i++ {
		if _, err := first.Trainer.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := first.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	ck := saveSnapshot(t, snap)
	resumed := newEngine()
	if err := resumed.Restore(context.Background(), ck); err != nil {
		t.Fatal(err)
	}
	r, err := resumed.Trainer.Step(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.Step != 2 {
		t.Fatalf("resumed at step %d, want 2", r.Step)
	}
	for _, k := range []string{"reward", "loss", "kl", "grad_norm", "completion_length"} {
		if r.Metrics[k] != want[2][k] {
			t.Errorf("step 2 %s: resumed %v, uninterrupted %v", k, r.Metrics[k], want[2][k])
		}
	}
	a, b := weights(whole), weights(resumed)
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("weight %d differs after the resumed step: %v vs %v", i, b[i], a[i])
		}
	}
	return ck
}
