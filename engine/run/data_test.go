package run

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/configkey"
	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/memory"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/engine/task"
)

// The embedded default models: warm-started on addition questions in the
// short prompt format of the fixtures.
var (
	defaultTeacher = filepath.Join("..", "defaults", "models", "teacher")
	defaultStudent = filepath.Join("..", "defaults", "models", "student")
)

const (
	trainFixture = "testdata/train.jsonl" // written by testdata/make_data.sh
	evalFixture  = "testdata/eval.jsonl"
)

// dataConfig is a small data run on the embedded default models.
func dataConfig(data string) runconfig.Config {
	c := DefaultConfig(defaultTeacher, defaultStudent)
	c.Task, c.Data = DataTask, data
	c.Steps, c.EvalEvery, c.EvalQuestions = 2, 2, 4
	c.GRPO.Questions, c.GRPO.Samples, c.GRPO.MaxNewTokens = 2, 2, 8
	return c
}

// checkedMemory checks c and estimates its run's memory, failing the test
// on either's error: the start of every memory test of a checked run.
func checkedMemory(t *testing.T, c runconfig.Config) (Checked, memory.GRPO) {
	t.Helper()
	checked, err := Check(c)
	if err != nil {
		t.Fatal(err)
	}
	m, err := checked.Memory()
	if err != nil {
		t.Fatal(err)
	}
	return checked, m
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeTS(path string, ts []hf.NamedTensor, meta map[string]string) error {
	return hf.WriteSafetensors(path, ts, hf.F32, meta)
}

func readTS(path string) ([]hf.NamedTensor, map[string]string, error) {
	f, err := hf.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	var out []hf.NamedTensor
	for _, info := range f.Tensors() {
		data := make([]float32, info.NumElements())
		if err := f.ReadFloat32(info.Name, data); err != nil {
			return nil, nil, err
		}
		out = append(out, hf.NamedTensor{Name: info.Name, Shape: info.Shape, Data: data})
	}
	return out, f.Metadata(), nil
}

// The fixture's rows 21–24 are bad; every other row is usable.
var fixtureSkips = []int{21, 22, 23, 24}

func skipLines(r task.Report) []int {
	var out []int
	for _, s := range r.Skipped {
		out = append(out, s.Line)
	}
	return out
}

func TestLoadDataFixture(t *testing.T) {
	d, err := LoadData(dataConfig(trainFixture))
	if err != nil {
		t.Fatal(err)
	}
	r := d.File.Report
	if r.Rows != 40 || r.Kept != 36 || !reflect.DeepEqual(skipLines(r), fixtureSkips) {
		t.Fatalf("report %s", r)
	}
	for i, want := range []string{"is not the answer to this addition question", "empty solution", "reserved tag <|begin_of_thought|>", "not JSON"} {
		if !strings.Contains(r.Skipped[i].Reason, want) {
			t.Errorf("line %d: %q lacks %q", r.Skipped[i].Line, r.Skipped[i].Reason, want)
		}
	}
	// 36 distinct questions: ceil(5%) = 2 held out, never trained on.
	if len(d.HeldOut) != 2 || d.HeldRows != 2 || len(d.Train) != 34 {
		t.Errorf("%d held out (%d rows), %d train", len(d.HeldOut), d.HeldRows, len(d.Train))
	}
	for _, h := range d.HeldOut {
		for _, tr := range d.Train {
			if task.QuestionKey(tr.Question) == task.QuestionKey(h.Question) {
				t.Errorf("held-out %q is trained on (line %d)", h.Question, tr.Line)
			}
		}
	}
	if !strings.Contains(d.Summary(), "40 rows: 34 for training, 2 held out, 4 skipped") {
		t.Errorf("summary %q", d.Summary())
	}

	c := dataConfig(trainFixture)
	c.EvalData = evalFixture
	d, err = LoadData(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Train) != 36 || d.HeldRows != 0 || len(d.HeldOut) != 7 || !reflect.DeepEqual(skipLines(d.EvalFile.Report), []int{8}) {
		t.Errorf("with eval_data: %d train, %d held rows, %d held out, eval skips %v", len(d.Train), d.HeldRows, len(d.HeldOut), d.EvalFile.Report.Skipped)
	}
	if d.Digest() == "" || !strings.Contains(d.Digest(), "+") {
		t.Errorf("digest %q", d.Digest())
	}
	// A training row whose question is in eval_data is held out, not trained on.
	c.EvalData = writeFile(t, "eval.jsonl", `{"question":"107+215=?","solution":"322"}`+"\n")
	if d, err = LoadData(c); err != nil || len(d.Train) != 35 || d.HeldRows != 1 {
		t.Errorf("overlapping eval_data: %v, %d train, %d held", err, len(d.Train), d.HeldRows)
	}
}

func TestDataConfigErrors(t *testing.T) {
	one := writeFile(t, "one.jsonl", `{"question":"1+2=?","solution":"3"}`+"\n"+`{"question":"2+1=?","solution":"3"}`+"\n")
	bad := writeFile(t, "bad.jsonl", "{\"question\":\"1+2=?\"}\nnot json\n")
	array := writeFile(t, "array.json", "[\n{\"question\":\"1+2=?\",\"solution\":\"3\"},\n{\"question\":\"1+3=?\",\"solution\":\"4\"}\n]\n")
	// One usable question because the other rows are broken: the broken
	// rows are said in the error, not only in a warning the run never gives.
	oneLeft := writeFile(t, "one_left.jsonl", `{"question":"1+2=?","solution":"3"}`+"\n"+`{"question":"4+2=?","sol`)
	empty := writeFile(t, "empty.jsonl", "")
	missing := filepath.Join(t.TempDir(), "missing.jsonl")
	tests := []struct {
		name string
		edit func(c *runconfig.Config)
		key  string // the key the problem is about (configkey)
		want []string
	}{
		{"missing file", func(c *runconfig.Config) { c.Data = missing }, "data", []string{missing, "file does not exist"}},
		{"a directory", func(c *runconfig.Config) { c.Data = t.TempDir() }, "data", []string{"is a folder"}},
		{"empty file", func(c *runconfig.Config) { c.Data = empty }, "data", []string{empty, "empty"}},
		{"not JSON Lines", func(c *runconfig.Config) { c.Data = array }, "data", []string{array, "not JSON Lines"}},
		{"no usable row", func(c *runconfig.Config) { c.Data = bad }, "data", []string{bad, "no usable rows", `line 1: missing field "solution"`, "line 2: not JSON"}},
		{"synthetic task with data", func(c *runconfig.Config) { c.Task = "addition" }, "task", []string{`task "addition"`, `task = "jsonl"`}},
		{"jsonl without data", func(c *runconfig.Config) { c.Data = "" }, "task", []string{`task "jsonl" needs data`}},
		{"no task and no data", func(c *runconfig.Config) { c.Data, c.Task = "", "" }, "task", []string{`task "" needs data`, "addition, linear"}},
		{"eval_data without data", func(c *runconfig.Config) { c.Data, c.Task, c.EvalData = "", "addition", evalFixture }, "eval_data", []string{"eval_data", "without data"}},
		{"missing eval_data", func(c *runconfig.Config) { c.EvalData = missing }, "eval_data", []string{"eval_data", missing}},
		{"bad eval_data", func(c *runconfig.Config) { c.EvalData = bad }, "eval_data", []string{"eval_data", bad, "no usable rows"}},
		{"eval_data is data", func(c *runconfig.Config) { c.EvalData = trainFixture }, "eval_data", []string{"nothing is left to train on", trainFixture}},
		{"one question, evaluating", func(c *runconfig.Config) { c.Data = one }, "data", []string{one, "same question", "eval_data", evalEveryZeroWords}},
		{"one question left, evaluating", func(c *runconfig.Config) { c.Data = oneLeft }, "data", []string{oneLeft, "same question (2 rows, 1 skipped: line 2: not JSON", "eval_data"}},
	}
	for _, tc := range tests {
		c := dataConfig(trainFixture)
		tc.edit(&c)
		err := Validate(c)
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q lacks %q", tc.name, err, w)
			}
		}
		if key, _ := configkey.Of(err); key != tc.key || len(configkey.Problems(err)) != 1 {
			t.Errorf("%s: %d problems, the first about key %q, want one about %q", tc.name, len(configkey.Problems(err)), key, tc.key)
		}
		if _, err2 := checkAndNew(c, nil); err2 == nil || err2.Error() != err.Error() {
			t.Errorf("%s: New says %v, Validate %v", tc.name, err2, err)
		}
	}
	// One question is fine when nothing is evaluated.
	c := dataConfig(one)
	c.EvalEvery = 0
	if err := Validate(c); err != nil {
		t.Errorf("one question, no evaluation: %v", err)
	}
	c = dataConfig(trainFixture)
	if err := Validate(c); err != nil {
		t.Errorf("the fixture: %v", err)
	}
	c.Task = ""
	if err := Validate(c); err != nil {
		t.Errorf("the fixture with task empty: %v", err)
	}
}

// A data file's problem is said with the other keys' problems, not only
// once they are fixed: one try shows a bad lr and a missing data file,
// each a problem of its own with its key, and New refuses with the same.
func TestValidateSaysDataProblemsWithTheOthers(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.jsonl")
	empty := writeFile(t, "empty.jsonl", "")
	for _, tc := range []struct {
		name string
		edit func(c *runconfig.Config)
		keys []string // the problems' keys, in Validate's order
	}{
		{"a bad lr and a missing data file", func(c *runconfig.Config) { c.GRPO.LR, c.Data = -1, missing }, []string{"grpo.lr", "data"}},
		{"negative steps and an empty eval_data", func(c *runconfig.Config) { c.Steps, c.EvalData = -1, empty }, []string{"steps", "eval_data"}},
		{"an empty prompt, a bad estimator and a missing data file",
			func(c *runconfig.Config) { c.Prompts.TeacherSystem, c.Reward.Estimator, c.Data = "", "l2", missing },
			[]string{"prompts.teacher_system", "reward.estimator", "data"}},
		{"a task that does not go with data, and the data missing", func(c *runconfig.Config) { c.Task, c.Data = "addition", missing }, []string{"task", "data"}},
		{"only the data file", func(c *runconfig.Config) { c.Data = missing }, []string{"data"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dataConfig(trainFixture)
			tc.edit(&c)
			err := Validate(c)
			var keys []string
			for _, p := range configkey.Problems(err) {
				key, ok := configkey.Of(p)
				if !ok {
					key = "(no key)"
				}
				keys = append(keys, key)
			}
			if fmt.Sprint(keys) != fmt.Sprint(tc.keys) {
				t.Errorf("problems about %q, want %q: %v", keys, tc.keys, err)
			}
			if _, err2 := checkAndNew(c, nil); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("New says %v, Validate %v", err2, err)
			}
		})
	}
}

// Two GRPO steps on the fixture, with one evaluation: questions come from
// the training rows only, the skipped rows are reported once.
func TestDataRunTwoSteps(t *testing.T) {
	var buf event.Buffer
	e, err := checkAndNew(dataConfig(trainFixture), &buf)
	if err != nil {
		t.Fatal(err)
	}
	if e.Task != nil || e.Data == nil {
		t.Fatalf("task %v, data %v", e.Task, e.Data)
	}
	if err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	train := map[string]string{}
	for _, ex := range e.Data.Train {
		train[ex.Question] = ex.Solution
	}
	var steps, evals, warnings int
	lastPhase := ""
	for _, ev := range buf.Events() {
		switch ev := ev.(type) {
		case event.Phase:
			lastPhase = ev.Name
		case event.Metrics:
			if _, ok := ev.Values["eval_accuracy"]; ok {
				evals++
				if lastPhase != "evaluating" { // a follower sees what the run does between steps
					t.Errorf("the evaluation's metrics follow phase %q, want evaluating", lastPhase)
				}
				for k, v := range ev.Values {
					if v < 0 || v > 1 || math.IsNaN(v) {
						t.Errorf("%s = %v", k, v)
					}
				}
			} else {
				steps++
			}
		case event.Trace:
			if sol, ok := train[ev.Question]; !ok || sol != ev.Solution {
				t.Errorf("trace of %q / %q: not a training row", ev.Question, ev.Solution)
			}
		case event.Error:
			var w *DataWarning
			if !errors.As(ev.Err, &w) || ev.Fatal || ev.Severity != event.SeverityWarning {
				t.Errorf("error event %v (severity %q): want the data warning, graded a warning", ev.Err, ev.Severity)
				continue
			}
			warnings++
			for _, l := range fixtureSkips {
				if !strings.Contains(w.Msg, fmt.Sprintf("line %d: ", l)) {
					t.Errorf("warning lacks line %d: %s", l, w.Msg)
				}
			}
			if !strings.Contains(w.Msg, "skipped 4 of 40 rows") || !strings.Contains(w.Msg, "evaluating on 2 held-out questions") {
				t.Errorf("warning %q", w.Msg)
			}
		}
	}
	if steps != 2 || evals != 1 || warnings != 1 {
		t.Errorf("%d step metrics, %d evaluations, %d warnings; want 2, 1, 1", steps, evals, warnings)
	}
	// The warning is not repeated when the run goes on.
	e.Cfg.Steps = 3
	n := len(buf.Events())
	if err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, ev := range buf.Events()[n:] {
		if _, ok := ev.(event.Error); ok {
			t.Errorf("second Run reported %v", ev)
		}
	}
}

// With eval_data, the evaluation uses its questions: exact match for the
// text question, the addition checker and verifier for the others.
func TestDataEvaluateEvalData(t *testing.T) {
	c := dataConfig(trainFixture)
	c.EvalData, c.EvalQuestions = evalFixture, 32
	e, err := checkAndNew(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	vals, err := e.Evaluate(32)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"eval_accuracy", "eval_verified_rate", "eval_leak_rate"} {
		if v, ok := vals[k]; !ok || v < 0 || v > 1 {
			t.Errorf("%s = %v (present %v)", k, v, ok)
		}
	}
	// Only text questions: no verifier, so no verified or leak rate.
	vals, err = EvalTeacher(e.Trainer.Pair, nil,
		[]task.Example{{Question: "Capital of Italy?", Solution: "Rome"}}, 4)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := vals["eval_verified_rate"]; ok || len(vals) != 1 {
		t.Errorf("text-only evaluation %v", vals)
	}
}

func TestDataQuestionsEpochs(t *testing.T) {
	exs := make([]task.Example, 7)
	for i := range exs {
		exs[i] = task.Example{Question: fmt.Sprintf("%d+1=?", i+10), Solution: fmt.Sprint(i + 11)}
	}
	const n = 3
	draw := func(q *dataQuestions, steps int) []rlt.Example {
		var out []rlt.Example
		for s := 0; s < steps; s++ {
			out = append(out, q.Batch(s, n)...)
		}
		return out
	}
	a := draw(newDataQuestions(exs, 1), 14) // 42 draws: 6 epochs of 7
	for ep := 0; ep < 6; ep++ {
		seen := map[string]int{}
		for _, ex := range a[ep*7 : ep*7+7] {
			seen[ex.Question]++
		}
		if len(seen) != 7 {
			t.Errorf("epoch %d does not cover every row once: %v", ep, seen)
		}
	}
	if reflect.DeepEqual(a[:7], a[7:14]) {
		t.Error("the second epoch repeats the first's order")
	}
	// A function of (seed, step): any step, asked alone, in any order.
	q := newDataQuestions(exs, 1)
	for _, s := range []int{9, 2, 13, 0, 9} {
		if got := q.Batch(s, n); !reflect.DeepEqual(got, a[s*n:s*n+n]) {
			t.Errorf("step %d alone: %v, in sequence %v", s, got, a[s*n:s*n+n])
		}
	}
	if b := draw(newDataQuestions(exs, 2), 14); reflect.DeepEqual(a, b) {
		t.Error("seeds 1 and 2 draw the same order")
	}
	// Fewer rows than questions per step still works.
	if got := newDataQuestions(exs[:1], 1).Batch(5, 4); len(got) != 4 || got[3].Question != exs[0].Question {
		t.Errorf("one row: %v", got)
	}
}

// A resumed data run takes exactly the steps an uninterrupted one takes,
// across epoch boundaries; a changed data file is refused.
func TestDataResumeEqualsUninterrupted(t *testing.T) {
	var rows strings.Builder
	for i := 0; i < 6; i++ { // 6 questions: 1 held out, 5 trained on
		fmt.Fprintf(&rows, `{"question":"%d+%d=?","solution":"%d"}`+"\n", 20+i, 31+2*i, 51+3*i)
	}
	data := writeFile(t, "train.jsonl", rows.String())
	c := dataConfig(data)
	c.EvalEvery = 0
	c.GRPO.Questions = 3 // 5 rows, 3 a step: every step after the first crosses an epoch
	c.GRPO.RefSyncEvery = 2
	ck := resumeEqualsUninterrupted(t, c)
	trainer := ck.State
	digest, err := os.ReadFile(data)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(`"data_sha256":"%x"`, sha256.Sum256(digest)); !strings.Contains(string(trainer), want) {
		t.Errorf("trainer state %s lacks the data digest %s", trainer, want)
	}

	// The data changed under the checkpoint: refused, naming the file.
	os.WriteFile(data, []byte(rows.String()+`{"question":"99+1=?","solution":"100"}`+"\n"), 0o644)
	changed, err := checkAndNew(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := changed.Restore(context.Background(), ck); err == nil || !strings.Contains(err.Error(), "changed since the checkpoint") || !strings.Contains(err.Error(), data) {
		t.Errorf("changed data: %v", err)
	}
	// A synthetic task's checkpoint does not resume a data run, nor the reverse.
	syn := DefaultConfig(defaultTeacher, defaultStudent)
	syn.GRPO = c.GRPO
	se, err := checkAndNew(syn, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := se.Restore(context.Background(), ck); err == nil || !strings.Contains(err.Error(), "made on a data file") {
		t.Errorf("data checkpoint into a synthetic run: %v", err)
	}
}

// A run reads its data files once, when its configuration is checked: New
// builds on what Check read, so a file rewritten or removed in between
// changes nothing, and the run trains on, and checkpoints the digest of,
// the rows that were validated. The Checked is left as Check made it (New
// drops the rows too long for the models from a copy): a second engine
// built on it finds the same rows and skips.
func TestDataReadOnceFromCheckToTraining(t *testing.T) {
	var validated strings.Builder
	for i := 0; i < 6; i++ {
		fmt.Fprintf(&validated, `{"question":"%d+%d=?","solution":"%d"}`+"\n", 20+i, 31+2*i, 51+3*i)
	}
	validated.WriteString(`{"question":"` + strings.Repeat("7", 300) + `?","solution":"1"}` + "\n") // too long: New skips it
	digest := fmt.Sprintf("%x", sha256.Sum256([]byte(validated.String())))
	for _, tc := range []struct {
		name  string
		after func(path string) error // what happens to the file between Check and New
	}{
		{"rewritten", func(path string) error {
			return os.WriteFile(path, []byte(`{"question":"60+1=?","solution":"61"}`+"\n"+`{"question":"70+1=?","solution":"71"}`+"\n"), 0o644)
		}},
		{"removed", os.Remove},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dataConfig(writeFile(t, "train.jsonl", validated.String()))
			c.EvalEvery, c.Steps = 0, 1
			checked, err := Check(c)
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.after(c.Data); err != nil {
				t.Fatal(err)
			}
			for try := 1; try <= 2; try++ {
				var buf event.Buffer
				e, err := New(context.Background(), checked, &buf)
				if err != nil {
					t.Fatalf("engine %d: %v", try, err)
				}
				if got := e.Data.Digest(); got != digest {
					t.Errorf("engine %d: data digest %s, want the validated file's %s", try, got, digest)
				}
				if r := e.Data.File.Report; r.Rows != 7 || len(r.Skipped) != 1 || r.Skipped[0].Line != 7 {
					t.Errorf("engine %d: %d rows, skips %v; want the validated 7 rows, line 7 skipped once", try, r.Rows, r.Skipped)
				}
				if r := checked.data.File.Report; len(r.Skipped) != 0 || len(checked.data.Train) != 6 {
					t.Errorf("engine %d changed what Check read: skips %v, %d training rows", try, r.Skipped, len(checked.data.Train))
				}
				if try == 2 {
					break
				}
				if err := e.Run(context.Background()); err != nil {
					t.Fatal(err)
				}
				for _, ev := range buf.Events() {
					if tr, ok := ev.(event.Trace); ok && !strings.Contains(validated.String(), `"question":"`+tr.Question+`"`) {
						t.Errorf("trained on %q, not a validated row", tr.Question)
					}
				}
				snap, err := e.Snapshot()
				if err != nil {
					t.Fatal(err)
				}
				if want := `"data_sha256":"` + digest + `"`; !strings.Contains(string(snap.State), want) {
					t.Errorf("checkpoint state %s lacks the validated data's digest %s", snap.State, want)
				}
			}
		})
	}
}

// New builds only on what Check made: a Checked of nothing is refused, not
// run on an empty configuration.
func TestNewRefusesAnUncheckedConfiguration(t *testing.T) {
	if _, err := New(context.Background(), Checked{}, nil); err == nil || !strings.Contains(err.Error(), "not checked") {
		t.Errorf("New(Checked{}): %v", err)
	}
}

func TestDataTooLongRowsSkipped(t *testing.T) {
	long := strings.Repeat("7", 300)
	content := `{"question":"12+34=?","solution":"46"}` + "\n" + `{"question":"` + long + `?","solution":"1"}` + "\n" +
		`{"question":"23+45=?","solution":"68"}` + "\n"
	c := dataConfig(writeFile(t, "long.jsonl", content))
	c.EvalEvery = 0
	e, err := checkAndNew(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := e.Data.File.Report
	if len(r.Skipped) != 1 || r.Skipped[0].Line != 2 || !strings.Contains(r.Skipped[0].Reason, "too long") {
		t.Fatalf("skips %v", r.Skipped)
	}
	if _, err := e.Trainer.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Every row too long: an error naming the file and the lines.
	c.Data = writeFile(t, "all-long.jsonl", `{"question":"`+long+`?","solution":"1"}`+"\n")
	if _, err := checkAndNew(c, nil); err == nil || !strings.Contains(err.Error(), "no training row fits") || !strings.Contains(err.Error(), "line 1: too long") {
		t.Errorf("all rows too long: %v", err)
	}
	// Every training row too long, the held-out one fitting: the rows kept
	// are said to be held out, not left unexplained.
	heldRow := ""
	for i := 0; i < 8 && heldRow == ""; i++ {
		q := fmt.Sprintf("%d+%d=?", 10+i, 20+i)
		if _, held := task.HoldOut([]task.Example{{Question: q}, {Question: long + "0?"}}, task.DataHeldOut); len(held) == 1 && held[0].Question == q {
			heldRow = fmt.Sprintf(`{"question":%q,"solution":"%d"}`+"\n", q, 30+2*i)
		}
	}
	if heldRow == "" {
		t.Fatal("none of eight short questions is held out against the long one")
	}
	c.Data = writeFile(t, "held.jsonl", heldRow+`{"question":"`+long+`0?","solution":"1"}`+"\n")
	if _, err := checkAndNew(c, nil); err == nil || !strings.Contains(err.Error(), "1 of the kept rows are held out for evaluation") {
		t.Errorf("the only fitting row held out: %v", err)
	}
}

func TestDifferentTokenizersRefused(t *testing.T) {
	other := t.TempDir()
	for _, f := range []string{"config.json", "model.safetensors"} {
		b, err := os.ReadFile(filepath.Join(defaultStudent, f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(other, f), b, 0o644)
	}
	b, err := os.ReadFile(filepath.Join("..", "tokenizer", "testdata", "qwen2_pairs.json"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(other, "tokenizer.json"), b, 0o644)
	for _, c := range []runconfig.Config{DefaultConfig(defaultTeacher, other), dataConfig(trainFixture)} {
		c.Student = other
		if _, err := checkAndNew(c, nil); err == nil || !strings.Contains(err.Error(), "different tokenizers") {
			t.Errorf("task %q: %v", c.Task, err)
		}
	}
}

// Both data files' problems are said at once, each under its key, not the
// eval file's only once the training file is fixed.
func TestLoadDataSaysBothFiles(t *testing.T) {
	dir := t.TempDir()
	c := dataConfig(filepath.Join(dir, "missing.jsonl"))
	c.EvalData = filepath.Join(dir, "missing-eval.jsonl")
	_, err := LoadData(c)
	var keys []string
	for _, p := range configkey.Problems(err) {
		k, _ := configkey.Of(p)
		keys = append(keys, k)
	}
	if !reflect.DeepEqual(keys, []string{"data", "eval_data"}) || !strings.Contains(err.Error(), "missing-eval.jsonl") {
		t.Errorf("problems under %v: %v; want data's and eval_data's", keys, err)
	}
}

// A row asking an earlier row's question with its solution is left out
// of a data run, said once with the count and the first lines: the
// teacher explains each question anew from its question and solution, so
// a file of rlt distill --samples-out (one line a sample, N of each
// question, its "kept" marks of explanations the teacher does not read)
// trained on each question N times an epoch. The same question with
// another solution is another row; the lines left out are neither rows of
// the file's report nor skips.
func TestLoadDataLeavesRepeatedQuestionsOut(t *testing.T) {
	row := func(q, sol, kept string) string {
		return `{"question":"` + q + `","solution":"` + sol + `","completion":"x<|end_of_explanation|>","kept":` + kept + "}\n"
	}
	data := writeFile(t, "samples.jsonl", row("a colour?", "red", "false")+row("a colour?", "red", "true")+row("a colour?", "red", "false")+
		row("a shape?", "round", "false")+row("a shape?", "round", "false")+row("a colour?", "blue", "true")+"not json\n")
	c := dataConfig(data)
	d, err := LoadData(c)
	if err != nil {
		t.Fatal(err)
	}
	if r := d.File.Report; r.Rows != 4 || r.Kept != 3 || !reflect.DeepEqual(skipLines(r), []int{7}) || len(d.Train)+d.HeldRows != 3 {
		t.Errorf("report %s, %d rows trained on and %d held out; want 3 rows (lines 1, 4, 6) and line 7 skipped", r, len(d.Train), d.HeldRows)
	}
	want := "data " + data + ": left out 3 of its 7 rows, each an earlier row's question with its solution (lines 2, 3, 5): the teacher explains each question anew"
	if w := d.warning(c); w == nil || strings.Count(w.Error(), "left out") != 1 || !strings.Contains(w.Error(), want) {
		t.Errorf("warning %v\nwant it to say once %q", w, want)
	}
	if s := d.Summary(); !strings.Contains(s, ": 7 rows: ") || !strings.Contains(s, ", 1 skipped, 3 repeats left out;") {
		t.Errorf("summary %q", s)
	}
}
