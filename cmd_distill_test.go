package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/task"
)

const distillTeacher = "engine/defaults/models/teacher"

// A wrong mix of --reference, --teacher and --tokenizer-from is refused
// before any work, naming the flag that is really wrong or missing (not
// "--teacher is required" when --teacher was given), and writes nothing.
func TestDistillNamesTheWrongFlag(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	for _, c := range []struct {
		args []string
		code int
		last string // the last line of stderr
	}{
		{[]string{"--reference", "--teacher", distillTeacher, "--out", out}, 2,
			"rlt distill: --teacher with --reference: the rows are the task's own explanations, not a teacher's; give the folder whose tokenizer.json to use as --tokenizer-from (--tokenizer-from " + distillTeacher + "?)"},
		{[]string{"--reference", "--teacher", distillTeacher, "--tokenizer-from", distillTeacher, "--out", out}, 2,
			"rlt distill: --teacher with --reference"},
		{[]string{"--reference", "--out", out}, 2,
			"rlt distill: --reference needs --tokenizer-from: the model folder whose tokenizer.json the rows are tokenized with"},
		{[]string{"--teacher", distillTeacher, "--tokenizer-from", distillTeacher, "--out", out}, 2,
			"rlt distill: --tokenizer-from without --reference"},
		{[]string{"--out", out}, 2, "rlt distill: --teacher is required"},
		{[]string{"--reference", "--tokenizer-from", distillTeacher}, 2, "rlt distill: --out is required"},
		{[]string{"--teacher", distillTeacher}, 2, "rlt distill: --out is required"},
		// A folder without a tokenizer is named by the flag that gave it.
		{[]string{"--reference", "--tokenizer-from", filepath.Join(out, "none"), "--out", out}, 1,
			"rlt distill: --tokenizer-from " + filepath.Join(out, "none") + ": "},
		{[]string{"--teacher", filepath.Join(out, "none"), "--out", out}, 1,
			"rlt distill: --teacher " + filepath.Join(out, "none") + ": "},
	} {
		wantDistillRefused(t, c.args, c.code, c.last, out)
	}
}

// wantDistillRefused runs rlt distill with args, at small counts on the
// CPU (a call that wrongly went ahead ends soon), and wants it refused:
// exit code, stderr's last line holding last, and out not made.
func wantDistillRefused(t *testing.T, args []string, code int, last, out string) {
	t.Helper()
	all := append(append([]string{"distill"}, args...), "--questions", "2", "--steps", "1", "--device", "cpu")
	got, _, errs := runCLI(t, "", all...)
	if gotLast := wrongCallLine(errs); got != code || !strings.Contains(gotLast, last) {
		t.Errorf("rlt distill %v: exit %d, last line %q; want exit %d and %q", args, got, gotLast, code, last)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatalf("rlt distill %v: a refused call made %s", args, out)
	}
}

// The distilled student's generation_config.json is written once, from
// --student-init's folder when it holds one, else from the teacher's; the
// tokenizer's side files always come from the teacher.
func TestDistilledStudentsGenerationConfig(t *testing.T) {
	tok, err := os.ReadFile(filepath.Join(distillTeacher, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	folder := func(gen string) string { // a folder with a tokenizer, and gen as its generation config ("" none)
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "tokenizer.json"), tok, 0o644)
		os.WriteFile(filepath.Join(dir, "special_tokens_map.json"), []byte(`{"from": "`+dir+`"}`), 0o644)
		if gen != "" {
			os.WriteFile(filepath.Join(dir, "generation_config.json"), []byte(gen), 0o644)
		}
		return dir
	}
	const teacherGen, initGen = `{"temperature": 0.7}`, `{"temperature": 0.2}`
	cfg := model.Config{Vocab: 272, Hidden: 16, Intermediate: 32, Layers: 1, Heads: 2, KVHeads: 1, RMSEps: 1e-6, RopeTheta: 1e4, MaxPos: 64, Tied: true, QKVBias: true}
	student, err := model.NewRandom(compute.NewCPU(), cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name             string
		teacherGen, init string // init: "-" for no --student-init, else its generation config ("" none)
		want             string // the student's generation config ("" none)
	}{
		{"no --student-init", teacherGen, "-", teacherGen},
		{"--student-init with one", teacherGen, initGen, initGen},
		{"--student-init without one", teacherGen, "", teacherGen},
		{"neither has one", "", "", ""},
		{"only --student-init has one", "", initGen, initGen},
	} {
		t.Run(c.name, func(t *testing.T) {
			tdir, init := folder(c.teacherGen), ""
			if c.init != "-" {
				init = folder(c.init)
			}
			sdir := filepath.Join(t.TempDir(), "student")
			if err := writeStudent(student, sdir, tdir, init, record.DefaultPrompts(), nil); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(sdir, "generation_config.json"))
			if c.want == "" {
				if !os.IsNotExist(err) {
					t.Errorf("generation_config.json %q (%v), want none", got, err)
				}
			} else if string(got) != c.want {
				t.Errorf("generation_config.json %q (%v), want %q", got, err, c.want)
			}
			if side, _ := os.ReadFile(filepath.Join(sdir, "special_tokens_map.json")); string(side) != `{"from": "`+tdir+`"}` {
				t.Errorf("special_tokens_map.json %s, want the teacher's", side)
			}
		})
	}
}

// The fresh student has an embedding row for every token of the teacher's
// tokenizer, whatever its size: the default tiny shape's 272 rows for the
// default's tokenizer, as many as a larger tokenizer holds (a Qwen
// teacher's), so that its rows train and the student then loads with the
// tokenizer it is saved with. It was the default's 272 rows whatever the
// tokenizer: step 0 of the student's training failed on the first id past
// them, after the teacher had explained every question.
func TestDistilledStudentHoldsTheTeachersTokenizer(t *testing.T) {
	for _, c := range []struct {
		name    string
		teacher string
		vocab   int // the student's vocab_size
	}{
		{"the default's tokenizer", distillTeacher, 272},
		{"a larger tokenizer", tinyFolder(t, "f32"), 1210},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			code, _, errs := runCLI(t, "", "distill", "--teacher", c.teacher, "--out", out, "--questions", "2",
				"--steps", "1", "--batch", "2", "--max-new-tokens", "4", "--temperature", "0", "--device", "cpu")
			if code != 0 {
				t.Fatalf("distill: exit %d: %s", code, errs)
			}
			cfg, _, err := model.Inspect(filepath.Join(out, "student"))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Vocab != c.vocab {
				t.Errorf("the student's vocab_size is %d, want %d", cfg.Vocab, c.vocab)
			}
			code, _, errs = runCLI(t, "", "eval", "--student", filepath.Join(out, "student"), "--questions", "1",
				"--max-new-tokens", "4", "--device", "cpu")
			if code != 0 {
				t.Errorf("eval of the student: exit %d: %s", code, errs)
			}
		})
	}
}

// A model folder whose tokenizer.json has more tokens than its config.json's
// vocab_size (a tokenizer copied in from another model) is refused by every
// command that writes or reads its text, before any device opens, naming the
// folder, both counts and what to do, as rlt score refuses it. rlt eval and
// rlt distill said "sample: allowed vocabulary … is outside the model's …
// ids" once the models had loaded (rlt distill's --teacher once it had
// started to explain); rlt generate and rlt logprobs said it after the load.
func TestTokenizerPastTheEmbeddingIsRefusedFirst(t *testing.T) {
	dir := t.TempDir()
	shape := filepath.Join(dir, "shape.json")
	os.WriteFile(shape, []byte(`{"vocab_size": 200, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
		"num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 256, "tie_word_embeddings": true}`), 0o644)
	short := filepath.Join(dir, "short") // 200 rows, the default's tokenizer of 272 tokens
	if code, _, errs := runCLI(t, "", "model", "init", "--config", shape, "--out", short); code != 0 {
		t.Fatalf("model init: exit %d: %s", code, errs)
	}
	tokData, err := os.ReadFile(filepath.Join(distillTeacher, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(short, "tokenizer.json"), tokData, 0o644); err != nil {
		t.Fatal(err)
	}
	tok, err := loadTokenizer(short)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%s: its tokenizer.json has %d tokens, but %s's vocab_size is 200", short, tok.VocabSize(), filepath.Join(short, "config.json"))
	for _, c := range []struct {
		name  string
		stdin string
		args  []string
	}{
		{"eval's student", "", []string{"eval", "--student", short, "--questions", "1"}},
		{"distill's teacher", "", []string{"distill", "--teacher", short, "--out", "OUT", "--questions", "1", "--steps", "1"}},
		{"distill's --student-init", "", []string{"distill", "--teacher", distillTeacher, "--student-init", short, "--out", "OUT", "--questions", "1", "--steps", "1"}},
		{"generate's model", "", []string{"generate", "--model", short, "--prompt", "1+1", "--max-new-tokens", "1"}},
		{"logprobs' model", `{"text": "1+1"}`, []string{"logprobs", "--model", short}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			for i, a := range c.args {
				if a == "--out" {
					c.args[i+1] = out
				}
			}
			code, stdout, errs := runCLI(t, c.stdin, append(c.args, "--device", "cpu")...)
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			if last := lines[len(lines)-1]; code != 1 || !strings.Contains(last, want) {
				t.Errorf("exit %d, last line %q; want exit 1 and %q", code, last, want)
			}
			if strings.Contains(errs, "computing on") || stdout != "" {
				t.Errorf("a device opened, or output was written, before the refusal: stdout %q, stderr %q", stdout, errs)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was made", out)
			}
		})
	}
}

// A --data file that cannot give a row (not there, empty, CSV, cut short)
// is said before any device opens or model loads, by rlt eval and rlt
// distill alike, and distill makes no --out: with a 7B teacher the load
// took minutes before the typo in the file name was said.
func TestDataFileProblemsSaidBeforeAnyDevice(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{"empty.jsonl": "", "rows.csv": "question,solution\n1+1=?,2\n", "cut.jsonl": `{"question": "1+1=?", "sol`}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		file, want string
	}{
		{"gone.jsonl", "gone.jsonl: file does not exist"},
		{"empty.jsonl", "empty.jsonl: no rows: the file is empty"},
		{"rows.csv", "rows.csv: this is CSV, not JSON Lines"},
		{"cut.jsonl", "cut.jsonl: no usable rows"},
	} {
		data := filepath.Join(dir, c.file)
		out := filepath.Join(t.TempDir(), "out")
		for _, args := range [][]string{
			{"eval", "--student", "engine/defaults/models/student", "--data", data},
			{"distill", "--teacher", distillTeacher, "--data", data, "--out", out, "--steps", "1"},
		} {
			code, stdout, errs := runCLI(t, "", append(args, "--device", "cpu")...)
			if code != 1 || stdout != "" || !strings.Contains(errs, c.want) || strings.Contains(errs, "computing on") {
				t.Errorf("rlt %v: exit %d, stdout %q, stderr %q; want exit 1 and %q before any device opens", args, code, stdout, errs, c.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("rlt %v made %s", args, out)
			}
		}
	}
}

// --questions N with --data takes the first N rows the run can use: a row
// left out (too long for the models; with --reference, one with no
// reasoning trace) does not count against N. The first N rows of the file
// were taken and then thinned, so fewer than N were distilled.
func TestDistillQuestionsCountsUsableRows(t *testing.T) {
	long := strings.Repeat("1+", 200) + "1=?"
	rows := []string{
		`{"question": "` + long + `", "solution": "201", "reasoning_trace": "many ones"}`,
		`{"question": "12+5=?", "solution": "17"}`,
		`{"question": "3+4=?", "solution": "7", "reasoning_trace": "3+4=7 w7 c0; ans 7"}`,
		`{"question": "20+22=?", "solution": "42", "reasoning_trace": "0+2=2 w2 c0; 2+2=4 w4 c0; ans 42"}`,
		`{"question": "5+5=?", "solution": "10", "reasoning_trace": "5+5=10 w0 c1; ans 10"}`,
	}
	data := filepath.Join(t.TempDir(), "rows.jsonl")
	if err := os.WriteFile(data, []byte(strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	small := []string{"--questions", "2", "--steps", "1", "--batch", "2", "--max-new-tokens", "8", "--temperature", "0", "--device", "cpu"}
	for _, c := range []struct {
		name string
		args []string
		want []string // the questions distilled, in order
	}{
		{"a teacher's, the first row too long", []string{"--teacher", distillTeacher}, []string{"12+5=?", "3+4=?"}},
		{"--reference, two rows without a trace", []string{"--reference", "--tokenizer-from", distillTeacher}, []string{"3+4=?", "20+22=?"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			code, _, errs := runCLI(t, "", append(append([]string{"distill", "--data", data, "--out", out}, c.args...), small...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			written, err := os.ReadFile(filepath.Join(out, "distill.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range jsonLines(t, string(written)) {
				conv := r["conversations"].([]any)
				got = append(got, conv[0].(map[string]any)["value"].(string))
			}
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("distilled %q, want %q: %s", got, c.want, errs)
			}
		})
	}
}

// A model folder whose weights cannot be read is named once, by the
// model's load ("model DIR: …"), when a command checks its tokenizer
// against its embedding before any device opens: not "--model: model
// DIR: …". rlt eval, which takes two models, says which first, as the
// pair's check does (rlt.CheckPair: "teacher: model DIR: …").
func TestUnreadableWeightsNamedOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cut")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"config.json", "tokenizer.json", "model.safetensors"} {
		b, err := os.ReadFile(filepath.Join(distillTeacher, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "model.safetensors" {
			b = b[:len(b)/2] // an interrupted copy
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		cmd   string
		stdin string
		args  []string
		who   string // the model named first, where the command takes two
	}{
		{"eval", "", []string{"--student", dir}, "student: "},
		{"eval", "", []string{"--teacher", dir, "--student", distillTeacher}, "teacher: "},
		{"distill", "", []string{"--teacher", dir, "--out", filepath.Join(t.TempDir(), "out")}, ""},
		{"generate", "", []string{"--model", dir, "--prompt", "1+1"}, ""},
		{"logprobs", `{"text": "1+1"}`, []string{"--model", dir}, ""},
	} {
		code, _, errs := runCLI(t, c.stdin, append(append([]string{c.cmd}, c.args...), "--device", "cpu")...)
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		want := "rlt " + c.cmd + ": " + c.who + "model " + dir + ": "
		if last := lines[len(lines)-1]; code != 1 || !strings.HasPrefix(last, want) {
			t.Errorf("rlt %s: exit %d, last line %q; want exit 1 and a line beginning %q", c.cmd, code, last, want)
		}
	}
}

// A --batch larger than the rows to learn from trains each step on the rows
// once, and says so: the batch cycled through the rows, so each step
// repeated every row batch/rows times (unevenly where that is no whole
// number), the same gradient at that many times the work, and a --batch
// 100000 typed for 100 spent minutes on each step of two rows.
func TestDistillBatchPastTheRows(t *testing.T) {
	data := filepath.Join(t.TempDir(), "rows.jsonl")
	rows := `{"question": "3+4=?", "solution": "7", "reasoning_trace": "3+4=7 w7 c0; ans 7"}` + "\n" +
		`{"question": "5+5=?", "solution": "10", "reasoning_trace": "5+5=10 w0 c1; ans 10"}` + "\n"
	if err := os.WriteFile(data, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	var first []byte // --batch 2's student
	for _, c := range []struct {
		batch string
		note  string // "": none
	}{
		{"2", ""},
		{"3", "--batch 3 is more than the 2 rows to learn from: each step trains on the 2 rows once"},
		{"200", "--batch 200 is more than the 2 rows to learn from: each step trains on the 2 rows once"},
	} {
		out := filepath.Join(t.TempDir(), "out")
		code, _, errs := runCLI(t, "", "distill", "--reference", "--tokenizer-from", distillTeacher, "--data", data, "--out", out,
			"--batch", c.batch, "--steps", "1", "--device", "cpu")
		if code != 0 {
			t.Fatalf("--batch %s: exit %d: %s", c.batch, code, errs)
		}
		if got := strings.Contains(errs, "is more than the"); got != (c.note != "") || !strings.Contains(errs, c.note) {
			t.Errorf("--batch %s: stderr %q; want the note %q", c.batch, errs, c.note)
		}
		// The same student as a batch of the rows.
		weights, err := os.ReadFile(filepath.Join(out, "student", "model.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = weights
		} else if !bytes.Equal(weights, first) {
			t.Errorf("--batch %s: the student differs from --batch 2's", c.batch)
		}
	}
}

// --questions past the distinct questions a task's split holds (the linear
// task's held-out split has under a thousand) is a wrong call, said before
// any device opens, naming the flag and how many there are. It was the
// sampler's "task: split has too few distinct questions: … after N draws"
// once the models had loaded.
func TestQuestionsPastTheSplit(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"eval", "--student", "engine/defaults/models/student", "--task", "linear", "--questions", "1000"},
			"rlt eval: --questions 1000: the linear task's held-out split gave only "},
		{[]string{"distill", "--reference", "--tokenizer-from", distillTeacher, "--task", "linear", "--questions", "9000", "--out", filepath.Join(t.TempDir(), "out")},
			"rlt distill: --questions 9000: the linear task's train split gave only "},
	} {
		code, stdout, errs := runCLI(t, "", append(c.args, "--device", "cpu")...)
		if last := wrongCallLine(errs); code != 2 || stdout != "" || !strings.HasPrefix(last, c.want) || !strings.HasSuffix(last, "distinct questions: ask for at most that many") || strings.Contains(errs, "computing on") {
			t.Errorf("rlt %v: exit %d, stdout %q, last line %q; want exit 2 and %q… before any device opens", c.args, code, stdout, last, c.want)
		}
	}
}

// A model whose prompt for a task's questions is longer than its positions
// (a 256-position model without prompts.json, whose official RLT system
// prompt takes more) is refused before anything is sampled, naming the
// model, the question, both lengths and the flag that shortens the prompt,
// and what the prompt must leave room for: the teacher's, the explanation
// it writes; a student's solving alone (rlt eval without --teacher), the
// thought and solution it writes after it (it said "beside an
// explanation", where the student reads none).
// It was the sampler's "sample: a prompt of 283 tokens is longer than the
// model's 256 positions", once the teacher had started to explain.
func TestTaskPromptPastThePositions(t *testing.T) {
	dir := t.TempDir()
	shape := filepath.Join(dir, "shape.json")
	os.WriteFile(shape, []byte(`{"vocab_size": 272, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
		"num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 256, "tie_word_embeddings": true}`), 0o644)
	short := filepath.Join(dir, "short") // no prompts.json: the official RLT prompts
	if code, _, errs := runCLI(t, "", "model", "init", "--config", shape, "--out", short, "--tokenizer", distillTeacher); code != 0 {
		t.Fatalf("model init: exit %d: %s", code, errs)
	}
	shape64 := filepath.Join(dir, "shape64.json") // the student's prompt, short as it is, takes more
	os.WriteFile(shape64, []byte(`{"vocab_size": 272, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
		"num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 24, "tie_word_embeddings": true}`), 0o644)
	shorter := filepath.Join(dir, "shorter")
	if code, _, errs := runCLI(t, "", "model", "init", "--config", shape64, "--out", shorter, "--tokenizer", distillTeacher); code != 0 {
		t.Fatalf("model init: exit %d: %s", code, errs)
	}
	out := filepath.Join(dir, "out")
	for _, c := range []struct {
		args       []string
		want, tail string
	}{
		{[]string{"distill", "--teacher", short, "--out", out, "--questions", "2", "--steps", "1"},
			"rlt distill: the teacher " + short + ": its prompt for the addition task's question ", "more than fit in its 256 positions (max_position_embeddings) beside an explanation: give a shorter --teacher-system, for a prompt of at most 255 tokens ("},
		{[]string{"eval", "--teacher", short, "--student", short, "--questions", "2"},
			"rlt eval: the teacher " + short + ": its prompt for the addition task's question ", "more than fit in its 256 positions (max_position_embeddings) beside an explanation: give a shorter --teacher-system, for a prompt of at most 255 tokens ("},
		{[]string{"eval", "--student", shorter, "--questions", "2"},
			"rlt eval: the student " + shorter + ": its prompt for the addition task's question ", "more than fit in its 24 positions (max_position_embeddings) beside its thought and solution: give a shorter --student-system, for a prompt of at most 23 tokens ("},
	} {
		code, stdout, errs := runCLI(t, "", append(c.args, "--device", "cpu")...)
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		last := lines[len(lines)-1]
		if code != 1 || stdout != "" || !strings.HasPrefix(last, c.want) || !fewerAtEnd(last, c.tail, "") {
			t.Errorf("rlt %v: exit %d, stdout %q, last line %q; want exit 1 and %q…%qN fewer)", c.args, code, stdout, last, c.want, c.tail)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("rlt %v made %s", c.args, out)
		}
	}
}

// When none of the explanations can be learned from (each too long for
// the student, or holding a tag), rlt distill says so, and why, and
// writes nothing: it wrote an empty distill.jsonl, which refused the
// rerun's --out, and then failed with "distill: distill: no rows to learn
// from". A row too long for the student is said in the words of every
// refusal past a model's positions (model.Name, model.ItsPositions), a
// data row's by how much, as the other rows' reasons (runpkg.FitReason);
// rlt distill said "too long for the student's 40 positions" and "too
// long: its row takes 52 tokens, more than the student's 40 positions".
// A task's reference explanations have no budget to refuse before (a
// teacher's questions that the student cannot hold with --max-new-tokens
// are refused before it explains: TestDistillRefusesQuestionsPastTheStudent).
func TestDistillNoLearnableRow(t *testing.T) {
	dir := t.TempDir()
	folder := func(name string, positions int) string {
		shape := filepath.Join(dir, name+".json")
		os.WriteFile(shape, []byte(fmt.Sprintf(`{"vocab_size": 272, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
			"num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": %d, "tie_word_embeddings": true}`, positions)), 0o644)
		out := filepath.Join(dir, name)
		if code, _, errs := runCLI(t, "", "model", "init", "--config", shape, "--out", out, "--tokenizer", distillTeacher); code != 0 {
			t.Fatalf("model init: exit %d: %s", code, errs)
		}
		return out
	}
	// The addition task's reference explanations run past a 40-position
	// student's rows.
	teacher, student := folder("teacher", 256), folder("student", 40)
	out := filepath.Join(dir, "out")
	code, _, errs := runCLI(t, "", "distill", "--reference", "--tokenizer-from", teacher, "--student-init", student, "--out", out, "--questions", "2",
		"--steps", "1", "--student-system", "S", "--device", "cpu")
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	want := "rlt distill: none of the 2 reference explanations can be learned from: 0 hold a ChatML or RLT tag, 2"
	tail := " are too long for the student " + student + ", past its 40 positions (max_position_embeddings); nothing was written to " + out
	if last := lines[len(lines)-1]; code != 1 || !strings.HasPrefix(last, want) || !strings.HasSuffix(last, tail) {
		t.Errorf("exit %d, last line %q; want exit 1 and %q…%q", code, last, want, tail)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s was made", out)
	}
	data := filepath.Join(dir, "rows.jsonl")
	os.WriteFile(data, []byte(`{"question": "1+1=?", "solution": "2", "reasoning_trace": "`+strings.Repeat("one and one ", 4)+`"}`+"\n"), 0o644)
	code, _, errs = runCLI(t, "", "distill", "--reference", "--tokenizer-from", teacher, "--student-init", student, "--data", data, "--out", out,
		"--steps", "1", "--student-system", "S", "--device", "cpu")
	lines = strings.Split(strings.TrimSpace(errs), "\n")
	last := lines[len(lines)-1]
	m := regexp.MustCompile(`^rlt distill: data .*: no row to explain \(1 row, 0 kept, 1 skipped: line 1: too long for the student ` + regexp.QuoteMeta(student) + `: its row takes (\d+) tokens, (\d+) more than its 40 positions \(max_position_embeddings\)\)$`).FindStringSubmatch(last)
	if code != 1 || m == nil {
		t.Fatalf("a data row too long for the student: exit %d, last line %q", code, last)
	}
	if n, more := atoi(t, m[1]), atoi(t, m[2]); n-40 != more {
		t.Errorf("its row takes %d tokens, said %d more than 40", n, more)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s was made", out)
	}
}

// atoi is s as a whole number, failing t where it is none.
func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// rlt train and rlt run refuse a configuration whose teacher prompt for
// the task's questions is longer than the teacher's positions before the
// run folder or the first step, as rlt distill and rlt eval do
// (TestTaskPromptPastThePositions): on the prompt's key, naming the model,
// the question, both lengths and the key to shorten. rlt train failed at
// step 0 with the sampler's 'sample: a prompt of 284 tokens is longer than
// the model's 256 positions'.
func TestTrainPromptPastThePositions(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	shape := filepath.Join(dir, "shape.json")
	os.WriteFile(shape, []byte(`{"vocab_size": 272, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
		"num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 256, "tie_word_embeddings": true}`), 0o644)
	short := filepath.Join(dir, "short") // no prompts.json: the official RLT prompts
	if code, _, errs := runCLI(t, "", "model", "init", "--config", shape, "--out", short, "--tokenizer", distillTeacher); code != 0 {
		t.Fatalf("model init: exit %d: %s", code, errs)
	}
	official := filepath.Join(dir, "official.toml")
	os.WriteFile(official, []byte("teacher = '"+short+"'\nstudent = '"+short+"'\nsteps = 2\n"), 0o644)
	long := filepath.Join(dir, "long.toml") // rlt run's own prompts are short: a long one of the file's
	os.WriteFile(long, []byte("teacher = '"+short+"'\nstudent = '"+short+"'\nsteps = 2\n[prompts]\nteacher_system = '"+strings.Repeat("Teach well. ", 40)+"'\n"), 0o644)
	runs := filepath.Join(dir, "runs")
	tail := " more than fit in its 256 positions (max_position_embeddings) beside an explanation: give a shorter prompts.teacher_system, for a prompt of at most 255 tokens ("
	for _, c := range []struct {
		args              []string
		want, tail, after string
	}{
		{[]string{"train", "--config", official}, "rlt train: " + official + ": prompts.teacher_system (default ", tail, ""},
		{[]string{"train", "--teacher", short, "--student", short, "--steps", "1"}, "rlt train: prompts.teacher_system: the teacher " + short + ": its prompt for the addition task's question ", tail, ""},
		{[]string{"run", "--headless", "--runs", runs, "--config", long}, "rlt run: " + long + ":5:1: prompts.teacher_system: the teacher " + short + ": its prompt for the addition task's question ",
			tail, " (no run folder was created)"},
	} {
		code, stdout, errs := runCLI(t, "", append(c.args, "--device", "cpu")...)
		last := strings.TrimSpace(errs)
		if code != 1 || stdout != "" || !strings.HasPrefix(last, c.want) || !fewerAtEnd(last, c.tail, c.after) || strings.Contains(errs, "step 0") {
			t.Errorf("rlt %v: exit %d, stdout %q, stderr %q; want exit 1 and %q…%qN fewer)%s", c.args, code, stdout, errs, c.want, c.tail, c.after)
		}
	}
	if entries, _ := os.ReadDir(runs); len(entries) != 0 {
		t.Errorf("rlt run made %v", entries)
	}
}

// TestBudgetPastTheRoom: rlt eval and rlt distill refuse a --max-new-tokens
// that the prompts of their questions leave no room for in the models'
// positions, before anything is written or explained: the teacher's
// explanation in the teacher's, the student's context that reads it in
// the student's (rlt.Positions, the rule rlt train and the scorer keep),
// or for a student alone its own thought and solution; naming the flag,
// the most it can be, and the flag that shortens the binding prompt. The
// most it names runs. rlt eval failed once every explanation was written
// ("rlt eval: sample: a prompt of 359 tokens is longer than the model's
// 256 positions"); rlt distill's teacher was cut short at its positions.
// A student too short for rlt distill's rows still has them left out and
// said (TestDistillNoLearnableRow).
func TestBudgetPastTheRoom(t *testing.T) {
	student := filepath.Join("engine", "defaults", "models", "student")
	long := strings.Repeat("Solve it. ", 14) // 140 characters, as many tokens
	out := filepath.Join(t.TempDir(), "out")
	for _, c := range []struct {
		name string
		args []string
		want string // the refusal up to the most it can be
		tail string
	}{
		{"rlt eval, the student's context binds", []string{"eval", "--teacher", distillTeacher, "--student", student, "--student-system", long, "--questions", "2"},
			"rlt eval: --max-new-tokens 200 is more than the room for an explanation: the student " + student + ": its prompt for the addition task's question ",
			", or give a shorter --student-system"},
		{"rlt eval, the teacher's prompt binds", []string{"eval", "--teacher", distillTeacher, "--student", student, "--questions", "2"},
			"rlt eval: --max-new-tokens 200 is more than the room for an explanation: the teacher " + distillTeacher + ": its prompt for the addition task's question ",
			", or give a shorter --teacher-system"},
		{"rlt eval, a student alone", []string{"eval", "--student", student, "--questions", "2"},
			"rlt eval: --max-new-tokens 200 is more than the room for its thought and solution: the student " + student + ": its prompt for the addition task's question ",
			", or give a shorter --student-system"},
		{"rlt distill, the teacher's prompt", []string{"distill", "--teacher", distillTeacher, "--out", out, "--questions", "2", "--steps", "1"},
			"rlt distill: --max-new-tokens 200 is more than the room for an explanation: the teacher " + distillTeacher + ": its prompt for the addition task's question ",
			", or give a shorter --teacher-system"},
	} {
		t.Run(c.name, func(t *testing.T) {
			run := func(maxNew int) (code int, last string) {
				code, _, errs := runCLI(t, "", append(c.args, "--max-new-tokens", fmt.Sprint(maxNew), "--device", "cpu")...)
				lines := strings.Split(strings.TrimSpace(errs), "\n")
				return code, lines[len(lines)-1]
			}
			code, last := run(200)
			most := regexp.MustCompile(`: lower --max-new-tokens to at most (\d+)`).FindStringSubmatch(last)
			if code != 1 || !strings.HasPrefix(last, c.want) || !strings.HasSuffix(last, c.tail) || most == nil {
				t.Fatalf("exit %d, last line %q\nwant exit 1 and %s… at most N%s", code, last, c.want, c.tail)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was made", out)
			}
			n, _ := strconv.Atoi(most[1])
			if code, last := run(n + 1); code != 1 || !strings.Contains(last, most[0]) {
				t.Errorf("--max-new-tokens %d: exit %d, %q; want the same most, %d", n+1, code, last, n)
			}
			if code, last := run(n); code != 0 {
				t.Errorf("--max-new-tokens %d, the most it said: exit %d, %q", n, code, last)
			}
			os.RemoveAll(out)
		})
	}
}

// fewerAtEnd reports whether s ends with tail, a count of tokens, " fewer)"
// and after: a refusal of a prompt past the positions, which says how
// many tokens fewer fit (runpkg.TaskPromptsFit), then what follows it.
func fewerAtEnd(s, tail, after string) bool {
	return regexp.MustCompile(regexp.QuoteMeta(tail) + `\d+ fewer\)` + regexp.QuoteMeta(after) + "$").MatchString(s)
}

// rlt distill refuses, before the teacher explains, the drawn questions
// whose rows the distilled student cannot hold: the question's context
// and solution in the student's layout with an explanation of the whole
// --max-new-tokens (rlt.Positions, the rule a --data file's rows are
// left out by), as it refused them for the teacher and --best-of's reward
// student. It said nothing of it until the teacher had explained every
// question, and then left the rows out. The refusal names the question
// that binds, its place among those drawn, its length, the student's
// positions, and what makes room: a --max-new-tokens it says (which
// runs), a shorter --student-system, or a student of the positions it
// says. Nothing is explained (stderr says no "explaining") and nothing is
// written: no --out, no --samples-out. Where both students are short, the
// refusal is the one that leaves the least room, so that the most it says
// runs: it was the distilled student's, and the run at its most was
// refused again for the reward's.
func TestDistillRefusesQuestionsPastTheStudent(t *testing.T) {
	const positions, shorter, questions, maxNew, seed = 127, 120, 6, 48, 3
	dir := t.TempDir()
	short := studentOfPositions(t, distillStudent, filepath.Join(dir, "short"), positions)
	shortest := studentOfPositions(t, distillStudent, filepath.Join(dir, "shortest"), shorter)
	tok, err := loadTokenizer(filepath.Join(distillTeacher, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := record.PromptsFor(distillTeacher, short, record.Prompts{})
	if err != nil {
		t.Fatal(err)
	}
	addition, _ := task.Lookup("addition")
	exs, err := task.NewSampler(addition, task.Train, seed).Unique(questions)
	if err != nil {
		t.Fatal(err)
	}
	longest := 0 // the longest student context of the questions drawn, the one that binds
	for _, ex := range exs {
		_, student := rlt.PromptLengths(tok, p, ex.Question, ex.Solution)
		longest = max(longest, student)
	}
	if longest+maxNew <= positions {
		t.Fatalf("the questions' student contexts take at most %d tokens, which with %d more fit %d positions: the test cannot tell", longest, maxNew, positions)
	}
	args := []string{"--teacher", distillTeacher, "--questions", fmt.Sprint(questions), "--steps", "1", "--batch", "2", "--seed", fmt.Sprint(seed), "--device", "cpu"}
	samples := "SAMPLES" // each case's --samples-out, in its own folder
	for _, c := range []struct {
		name      string
		args      []string
		student   string // the student that binds, as the refusal names it
		positions int    // its positions
		another   string // the flag that gives another
	}{
		{"the distilled student", []string{"--student-init", short}, short, positions, "--student-init"},
		{"the distilled student, ranked", []string{"--student-init", short, "--best-of", "2", "--reward-student", distillStudent, "--samples-out", samples}, short, positions, "--student-init"},
		{"the reward's student", []string{"--best-of", "2", "--reward-student", short, "--samples-out", samples}, short, positions, "--reward-student"},
		{"the reward's student, shorter than the distilled", []string{"--student-init", short, "--best-of", "2", "--reward-student", shortest, "--samples-out", samples}, shortest, shorter, "--reward-student"},
		{"the distilled student, shorter than the reward's", []string{"--student-init", shortest, "--best-of", "2", "--reward-student", short, "--samples-out", samples}, shortest, shorter, "--student-init"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			out, samples := filepath.Join(dir, "out"), filepath.Join(dir, "samples.jsonl")
			given := append([]string{"--out", out}, args...)
			for _, a := range c.args {
				given = append(given, strings.ReplaceAll(a, "SAMPLES", samples))
			}
			run := func(maxNew int) (code int, stderr string) {
				code, _, stderr = runCLI(t, "", append([]string{"distill", "--max-new-tokens", fmt.Sprint(maxNew)}, given...)...)
				return code, stderr
			}
			code, stderr := run(maxNew)
			last := strings.TrimSpace(stderr)
			m := regexp.MustCompile(`^rlt distill: --max-new-tokens 48 is more than the room for an explanation: the student ` + regexp.QuoteMeta(c.student) +
				`: its prompt for the addition task's question ("[^"]*") \((\d+) of the 6 drawn\) takes (\d+) tokens, and with --max-new-tokens more that exceeds its ` + fmt.Sprint(c.positions) + ` positions \(max_position_embeddings\): ` +
				`lower --max-new-tokens to at most (\d+), or give a shorter --student-system, or a ` + c.another + ` of at least (\d+) positions$`).FindStringSubmatch(last)
			if code != 1 || m == nil {
				t.Fatalf("exit %d, stderr %q; want exit 1 and one line refusing the question past the student's positions", code, stderr)
			}
			i, tokens, most, least := atoi(t, m[2]), atoi(t, m[3]), atoi(t, m[4]), atoi(t, m[5])
			if i < 1 || i > questions || strconv.Quote(exs[i-1].Question) != m[1] {
				t.Errorf("the refusal names question %s as %d of the %d drawn; the drawn are %v", m[1], i, questions, exs)
			}
			if tokens != longest || most != c.positions-longest || least != longest+maxNew {
				t.Errorf("said %d tokens, at most %d, a student of at least %d positions; want %d, %d, %d", tokens, most, least, longest, c.positions-longest, longest+maxNew)
			}
			for _, path := range []string{out, samples} {
				if _, err := os.Stat(path); err == nil {
					t.Errorf("%s was written", path)
				}
			}
			// The --max-new-tokens it says runs, its rows none left out
			// for their length.
			if code, stderr := run(most); code != 0 || strings.Contains(stderr, "too long") {
				t.Errorf("--max-new-tokens %d, the most it said: exit %d, %s", most, code, stderr)
			}
		})
	}
}

// studentOfPositions copies the model folder src to dst with positions
// max_position_embeddings, for a student too short for some rows.
func studentOfPositions(t *testing.T, src, dst string, positions int) string {
	t.Helper()
	copyDir(t, src, dst)
	cfgPath := filepath.Join(dst, "config.json")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	small := regexp.MustCompile(`"max_position_embeddings": \d+`).ReplaceAllString(string(cfg), fmt.Sprintf(`"max_position_embeddings": %d`, positions))
	if small == string(cfg) {
		t.Fatalf("%s does not say max_position_embeddings", cfgPath)
	}
	if err := os.WriteFile(cfgPath, []byte(small), 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}
