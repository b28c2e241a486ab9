package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
	"github.com/rlt-workbench/rlt/engine/warmstart"
)

// writerTeacher makes a model folder (rlt model init, the embedded
// teacher's tokenizer) whose weights write only the given tokens, each as
// likely as the others, whatever the prompt: every token embeds alike,
// the layers add nothing (their weights zero), and of lm_head only the
// rows of those tokens are not zero, one weight each, the same one, so
// that their logits are equal to the bit on any CPU and the others' are
// 0, far below them. Sampling then draws among the tokens by the seed
// alone: a teacher whose explanations hold what a test needs, where a
// trained one's depend on the floats of the CPU it runs on.
func writerTeacher(t *testing.T, dir string, tokens ...string) string {
	t.Helper()
	return writerTeacherOf(t, dir, filepath.Join(distillTeacher, "tokenizer.json"), 272, tokens...)
}

// writerTeacherOf is writerTeacher with the tokenizer.json tokenizer and
// an embedding of rows rows.
func writerTeacherOf(t *testing.T, dir, tokenizer string, rows int, tokens ...string) string {
	t.Helper()
	shape := filepath.Join(dir, "shape.json")
	os.WriteFile(shape, []byte(fmt.Sprintf(`{"vocab_size": %d, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
		"num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 512, "tie_word_embeddings": false}`, rows)), 0o644)
	out := filepath.Join(dir, "writer")
	if code, _, errs := runCLI(t, "", "model", "init", "--config", shape, "--out", out, "--tokenizer", tokenizer); code != 0 {
		t.Fatalf("model init: exit %d: %s", code, errs)
	}
	tok, err := loadTokenizer(filepath.Join(out, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	writes := map[int]bool{}
	for _, s := range tokens {
		id, ok := tok.ID(s)
		if !ok {
			ids := tok.Encode(s)
			if len(ids) != 1 {
				t.Fatalf("%q is not one token: %v", s, ids)
			}
			id = ids[0]
		}
		writes[int(id)] = true
	}
	folder, err := hf.OpenFolder(out)
	if err != nil {
		t.Fatal(err)
	}
	var tensors []hf.NamedTensor
	for _, ti := range folder.Tensors() {
		n := 1
		for _, d := range ti.Shape {
			n *= d
		}
		data := make([]float32, n)
		switch {
		case ti.Name == "model.embed_tokens.weight" || strings.HasSuffix(ti.Name, "norm.weight"):
			for i := range data {
				data[i] = 1
			}
		case ti.Name == "lm_head.weight":
			for id := range writes {
				data[id*ti.Shape[1]] = 50
			}
		}
		tensors = append(tensors, hf.NamedTensor{Name: ti.Name, Shape: ti.Shape, Data: data})
	}
	folder.Close()
	if err := hf.WriteSafetensors(filepath.Join(out, hf.WeightsFile), tensors, hf.F32, nil); err != nil {
		t.Fatal(err)
	}
	return out
}

// rlt distill of a teacher whose every explanation holds an RLT tag ends
// with the words the user sees that none of them can be learned from,
// counted by reason, and that nothing was written, exit 1, --best-of's
// ranking as the raw path: only --reference's was tested end to end
// (TestDistillNoLearnableRow).
func TestDistillTeacherNoLearnableExplanation(t *testing.T) {
	dir := t.TempDir()
	teacher := writerTeacher(t, dir, record.BeginThought)
	// With --best-of the counts are of questions, by each one's
	// highest-reward explanation, of the questions × N sampled: it said
	// "the teacher's 3 explanations" of 6.
	for _, c := range []struct {
		name  string
		args  []string
		what  string // the explanations none of which can be learned from
		count string // what the counts are of
	}{
		{"raw", nil, "teacher's 3 explanations", ""},
		{"best of 2", []string{"--best-of", "2", "--reward-student", distillStudent},
			"teacher's 6 explanations (2 of each of 3 questions)", "of each question's highest-reward one, "},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string{"distill", "--teacher", teacher, "--out", out, "--questions", "3", "--max-new-tokens", "4", "--steps", "1",
				"--teacher-system", "T", "--student-system", "S", "--device", "cpu"}, c.args...)
			code, stdout, errs := runCLI(t, "", args...)
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			last := lines[len(lines)-1]
			want := "rlt distill: none of the " + c.what + " can be learned from: " + c.count + "3 hold a ChatML or RLT tag, 0 are too long for the student, past its 256 positions (max_position_embeddings); nothing was written to " + out
			if code != 1 || last != want {
				t.Errorf("exit %d, last line %q; want exit 1 and %q\nstderr:\n%s", code, last, want, errs)
			}
			if strings.Contains(errs, "left out ") || stdout != "" {
				t.Errorf("rows said left out, or output written, with none kept: stdout %q, stderr %q", stdout, errs)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was made", out)
			}
		})
	}
}

// rlt distill says the explanations it left out, of all, where it kept
// others: with --best-of, the questions none of whose samples can be
// learned from (each of the teacher's holds an RLT tag or not, as likely,
// by the seed), counted from --samples-out here, the rows it wrote the
// rest, exit 0; the raw path's line alike. Neither line was tested end
// to end.
func TestDistillSaysWhatItLeftOut(t *testing.T) {
	const questions = 8
	teacher := writerTeacher(t, t.TempDir(), record.BeginThought, "a")
	for _, c := range []struct {
		name string
		n    int // --best-of
	}{
		{"raw", 1},
		{"best of 2", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			// Which questions are left out is the seed's draw: the test
			// needs some and not all, and takes the first seed of a few
			// that gives them.
			for seed := 1; seed <= 5; seed++ {
				dir := t.TempDir()
				out, samples := filepath.Join(dir, "out"), filepath.Join(dir, "samples.jsonl")
				args := []string{"distill", "--teacher", teacher, "--out", out, "--questions", fmt.Sprint(questions), "--max-new-tokens", "2", "--steps", "1",
					"--seed", fmt.Sprint(seed), "--teacher-system", "T", "--student-system", "S", "--device", "cpu"}
				if c.n > 1 {
					args = append(args, "--best-of", fmt.Sprint(c.n), "--reward-student", distillStudent, "--samples-out", samples)
				}
				code, _, errs := runCLI(t, "", args...)
				if code != 0 {
					if strings.Contains(errs, "none of the teacher's") {
						continue // all left out: another seed
					}
					t.Fatalf("--seed %d: exit %d\n%s", seed, code, errs)
				}
				rows, err := os.ReadFile(filepath.Join(out, "distill.jsonl"))
				if err != nil {
					t.Fatal(err)
				}
				kept := strings.Count(string(rows), "\n")
				left := questions - kept
				if left == 0 {
					if strings.Contains(errs, "left out ") {
						t.Errorf("--seed %d: none left out, and stderr says some:\n%s", seed, errs)
					}
					continue
				}
				if c.n > 1 { // the samples say which questions have none to learn from
					want := 0
					lines := strings.Split(strings.TrimSpace(mustRead(t, samples)), "\n")
					if len(lines) != questions*c.n {
						t.Fatalf("--samples-out has %d lines, want %d", len(lines), questions*c.n)
					}
					for q := range questions {
						all := true
						for k := range c.n {
							var s struct{ Completion string }
							if err := json.Unmarshal([]byte(lines[q*c.n+k]), &s); err != nil {
								t.Fatal(err)
							}
							_, tagged := record.ContainsTag(record.Extract(s.Completion).Body)
							all = all && tagged
						}
						if all {
							want++
						}
					}
					if left != want {
						t.Errorf("--seed %d: %d rows of %d questions, want %d left out: the questions none of whose samples is learnable", seed, kept, questions, want)
					}
				}
				// With --best-of, of the questions, none of whose N
				// explanations can be learned from: it said "left out K
				// of 8 explanations" of 16 sampled.
				line := fmt.Sprintf("left out %d of %d explanations: they contain a ChatML or RLT tag\n", left, questions)
				if c.n > 1 {
					line = fmt.Sprintf("left out %d of %d questions, none of whose %d explanations can be learned from: the highest-reward one of each contains a ChatML or RLT tag\n", left, questions, c.n)
				}
				if !strings.Contains(errs, line) || strings.Contains(errs, "too long for") {
					t.Errorf("--seed %d: stderr does not say %q, alone of the left out lines:\n%s", seed, line, errs)
				}
				return
			}
			t.Fatalf("no --seed of 1…5 left out some of the %d questions and not all: the test cannot tell", questions)
		})
	}
}

// mustRead is the file at path, failing t where it cannot be read.
func mustRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// rlt distill says the explanations it left out as too long for the
// student, where it kept others, raw and with --best-of: an explanation
// whose text takes more tokens in the student's row than the teacher
// wrote, past the positions the budget left (RankStats.Long, the rule
// runpkg.Learnable keeps). A tokenizer with merges gives one: a teacher
// that writes "irst" of the Qwen2 fixture, whose repeats are read back
// as more tokens, or "a", as likely, by the seed. The rows are a data
// file's, the student's positions its rows' longest context with
// --max-new-tokens; which questions are left out is the seed's and the
// positions' draw, so the test takes the first of a few that leaves out
// some and not all, and counts with --best-of from --samples-out, by
// Learnable's rule, which it should leave out.
func TestDistillSaysWhatItLeftOutTooLong(t *testing.T) {
	const questions, maxNew = 8, 8
	dir := t.TempDir()
	teacher := writerTeacherOf(t, dir, tokenizerFixture, 1216, "irst", "a")
	data, longest, tok, p := sumsFile(t, dir, teacher, questions)
	for _, c := range []struct {
		name string
		n    int // --best-of
	}{
		{"raw", 1},
		{"best of 2", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			for slack := 0; slack <= 6; slack += 2 {
				positions := longest + maxNew + slack
				student := studentOfShape(t, t.TempDir(), positions)
				// The reward's student reads whole explanations, so that
				// --samples-out's completions, which this test counts by,
				// are what the teacher wrote: one of the distilled
				// student's positions cuts them to fit it (Pair.Explain's
				// fit), judged whole all the same
				// (TestDistillBestOfJudgesACutExplanationWhole).
				reward := studentOfShape(t, t.TempDir(), positions+32)
				for seed := 1; seed <= 3; seed++ {
					run := t.TempDir()
					out, samples := filepath.Join(run, "out"), filepath.Join(run, "samples.jsonl")
					args := []string{"distill", "--teacher", teacher, "--student-init", student, "--data", data, "--out", out, "--max-new-tokens", fmt.Sprint(maxNew),
						"--steps", "1", "--seed", fmt.Sprint(seed), "--teacher-system", "T", "--student-system", "S", "--device", "cpu"}
					if c.n > 1 {
						args = append(args, "--best-of", fmt.Sprint(c.n), "--reward-student", reward, "--samples-out", samples)
					}
					code, _, errs := runCLI(t, "", args...)
					if strings.Contains(errs, "skipped") {
						t.Fatalf("rows of the data were skipped: the student of %d positions should hold each with %d new tokens\n%s", positions, maxNew, errs)
					}
					if code != 0 {
						if strings.Contains(errs, "none of the teacher's") {
							continue // all left out: another draw
						}
						t.Fatalf("--seed %d: exit %d\n%s", seed, code, errs)
					}
					kept := strings.Count(mustRead(t, filepath.Join(out, "distill.jsonl")), "\n")
					left := questions - kept
					if left == 0 {
						continue
					}
					if c.n > 1 {
						want := 0
						lines := strings.Split(strings.TrimSpace(mustRead(t, samples)), "\n")
						for q := range questions {
							all := true
							for k := range c.n {
								var s struct{ Question, Solution, Completion string }
								if err := json.Unmarshal([]byte(lines[q*c.n+k]), &s); err != nil {
									t.Fatal(err)
								}
								body := record.Extract(s.Completion).Body
								all = all && len(warmstart.StudentSequence(tok, p, s.Question, body, s.Solution).Tokens) > positions
							}
							if all {
								want++
							}
						}
						if left != want {
							t.Errorf("--seed %d: %d rows of %d questions, want %d left out: the questions none of whose samples fits", seed, kept, questions, want)
						}
					}
					line := fmt.Sprintf("left out %d of %d explanations: too long for the student %s, past its %d positions (max_position_embeddings)\n", left, questions, student, positions)
					if c.n > 1 {
						line = fmt.Sprintf("left out %d of %d questions, none of whose %d explanations can be learned from: the highest-reward one of each is too long for the student %s, past its %d positions (max_position_embeddings)\n", left, questions, c.n, student, positions)
					}
					if !strings.Contains(errs, line) || strings.Contains(errs, "ChatML or RLT tag") {
						t.Errorf("--seed %d: stderr does not say %q, alone of the left out lines:\n%s", seed, line, errs)
					}
					return
				}
			}
			t.Fatalf("no --seed of 1…3 and student positions left out some of the %d questions as too long and not all: the test cannot tell", questions)
		})
	}
}

// studentOfShape is a student folder (rlt model init, the Qwen2 fixture's
// tokenizer) of positions positions.
func studentOfShape(t *testing.T, dir string, positions int) string {
	t.Helper()
	shape := filepath.Join(dir, "shape.json")
	os.WriteFile(shape, []byte(fmt.Sprintf(`{"vocab_size": 1216, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
		"num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": %d, "tie_word_embeddings": true}`, positions)), 0o644)
	out := filepath.Join(dir, "student")
	if code, _, errs := runCLI(t, "", "model", "init", "--config", shape, "--out", out, "--tokenizer", tokenizerFixture); code != 0 {
		t.Fatalf("model init: exit %d: %s", code, errs)
	}
	return out
}

// rlt distill --best-of judges each sample whole, as the raw path judges
// its explanations: one too long for the student is left out and said so,
// where the reward's student has no more positions than the distilled
// one. Pair.Explain cut such a sample to the scoring models' positions,
// and the cut one, which then fitted the student, was kept unsaid. A
// teacher that writes only "irst" of the Qwen2 fixture writes
// explanations whose text takes more tokens in the student's row than
// it wrote: past the student of its rows' longest context with
// --max-new-tokens, every one of them. Where the distilled student takes
// such a sample whole and the reward's student cut it, it is left out as
// cut, what to do said, by the model whose positions cut it: a teacher of
// only the positions its prompt and --max-new-tokens take cuts them too,
// and a --reward-student of more positions, which was offered for it,
// changes nothing there.
func TestDistillBestOfJudgesACutExplanationWhole(t *testing.T) {
	const questions, maxNew = 4, 8
	dir := t.TempDir()
	teacher := writerTeacherOf(t, dir, tokenizerFixture, 1216, "irst")
	data, longest, tok, p := sumsFile(t, dir, teacher, questions)
	positions := longest + maxNew
	student := studentOfShape(t, t.TempDir(), positions)
	roomy := studentOfShape(t, t.TempDir(), positions+8*maxNew)
	// The same teacher, of the positions its longest prompt and
	// --max-new-tokens take.
	teacherLongest := 0
	for i := range questions {
		n, _ := rlt.PromptLengths(tok, p, fmt.Sprintf("%d+%d=?", i+1, i+2), fmt.Sprint(2*i+3))
		teacherLongest = max(teacherLongest, n)
	}
	tight := filepath.Join(t.TempDir(), "tight")
	if err := os.CopyFS(tight, os.DirFS(teacher)); err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{}
	if err := json.Unmarshal([]byte(mustRead(t, filepath.Join(tight, "config.json"))), &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["max_position_embeddings"] = teacherLongest + maxNew
	if b, err := json.Marshal(cfg); err != nil || os.WriteFile(filepath.Join(tight, "config.json"), b, 0o644) != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, teacher, student string
		args                   []string
		want                   string
	}{
		{"raw", teacher, student, nil, fmt.Sprintf("none of the teacher's %d explanations can be learned from: 0 hold a ChatML or RLT tag, %d are too long for the student %s, past its %d positions (max_position_embeddings)",
			questions, questions, student, positions)},
		// The reward's student is the distilled one: as many positions.
		{"best of 2", teacher, student, []string{"--best-of", "2", "--reward-student", student},
			fmt.Sprintf("none of the teacher's %d explanations (2 of each of %d questions) can be learned from: of each question's highest-reward one, 0 hold a ChatML or RLT tag, %d are too long for the student %s, past its %d positions (max_position_embeddings)",
				2*questions, questions, questions, student, positions)},
		{"best of 2, the student taking them whole", teacher, roomy, []string{"--best-of", "2", "--reward-student", student},
			fmt.Sprintf("none of the teacher's %d explanations (2 of each of %d questions) can be learned from: of each question's highest-reward one, 0 hold a ChatML or RLT tag, 0 are too long for the student %s, past its %d positions (max_position_embeddings), "+
				"%d were cut short to fit the models that score it (past the reward's student %s's %d positions), though the student could learn from it whole: lower --max-new-tokens, or give a --reward-student of more positions",
				2*questions, questions, roomy, positions+8*maxNew, questions, student, positions)},
		// The teacher's positions cut them, the reward's student taking
		// them whole: it said "give a --reward-student of more positions".
		{"best of 2, the teacher's positions cutting them", tight, roomy, []string{"--best-of", "2", "--reward-student", roomy},
			fmt.Sprintf("none of the teacher's %d explanations (2 of each of %d questions) can be learned from: of each question's highest-reward one, 0 hold a ChatML or RLT tag, 0 are too long for the student %s, past its %d positions (max_position_embeddings), "+
				"%d were cut short to fit the models that score it (past the teacher's %d positions), though the student could learn from it whole: lower --max-new-tokens",
				2*questions, questions, roomy, positions+8*maxNew, questions, teacherLongest+maxNew)},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string{"distill", "--teacher", c.teacher, "--student-init", c.student, "--data", data, "--out", out, "--max-new-tokens", fmt.Sprint(maxNew),
				"--steps", "1", "--teacher-system", "T", "--student-system", "S", "--device", "cpu"}, c.args...)
			code, _, errs := runCLI(t, "", args...)
			if code != 1 || !strings.Contains(errs, c.want+"; nothing was written to "+out) {
				t.Errorf("exit %d; want exit 1 and %q\nstderr:\n%s", code, c.want, errs)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was made:\n%s", out, mustRead(t, filepath.Join(out, "distill.jsonl")))
			}
		})
	}
}

// sumsFile writes questions sums "i+1+i+2=?" with their solutions to
// DIR/rows.jsonl for rlt distill --data, and gives the student's longest
// prompt of them (its question and solution, the fixture's tokenizer, the
// prompts "T" and "S" over teacher's own): the positions a student needs
// before any explanation; and that tokenizer and those prompts.
func sumsFile(t *testing.T, dir, teacher string, questions int) (data string, longest int, tok *tokenizer.Tokenizer, p record.Prompts) {
	t.Helper()
	var err error
	tok, err = loadTokenizer(tokenizerFixture)
	if err != nil {
		t.Fatal(err)
	}
	data = filepath.Join(dir, "rows.jsonl")
	var rows strings.Builder
	for i := range questions {
		fmt.Fprintf(&rows, `{"question": "%d+%d=?", "solution": "%d"}`+"\n", i+1, i+2, 2*i+3)
	}
	if err := os.WriteFile(data, []byte(rows.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err = record.PromptsFor(teacher, "", record.Prompts{TeacherSystem: "T", StudentSystem: "S"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range questions {
		_, student := rlt.PromptLengths(tok, p, fmt.Sprintf("%d+%d=?", i+1, i+2), fmt.Sprint(2*i+3))
		longest = max(longest, student)
	}
	return data, longest, tok, p
}

// rlt distill --samples-out says of each sample how its completion ends,
// in the words of vLLM's and OpenAI's finish_reason ("stop": the teacher
// wrote an end of turn; "length": it ended for its length), and whether
// it was cut to fit the models that score it ("cut"): a cut sample was
// written with its cut text and nothing marking it, read as all the
// teacher wrote, its explanation left unended as if --max-new-tokens had
// ended it. A teacher that writes only "irst" of the Qwen2 fixture writes
// explanations whose text takes more tokens in the student's row than it
// wrote, cut where the reward's student has only the positions of the
// rows' longest context with --max-new-tokens, whole where it has more;
// one that writes only <|im_end|> stops at once.
func TestDistillSamplesOutMarksACutSample(t *testing.T) {
	const questions, maxNew = 2, 8
	dir := t.TempDir()
	irst := writerTeacherOf(t, t.TempDir(), tokenizerFixture, 1216, "irst")
	stops := writerTeacherOf(t, t.TempDir(), tokenizerFixture, 1216, "<|im_end|>")
	data, longest, _, _ := sumsFile(t, dir, irst, questions)
	short := studentOfShape(t, t.TempDir(), longest+maxNew)
	roomy := studentOfShape(t, t.TempDir(), longest+8*maxNew)
	for _, c := range []struct {
		name, teacher, reward string
		finish                string // each sample's finish_reason
		cut                   bool   // each sample's cut
	}{
		{"cut to the reward's student", irst, short, "length", true},
		{"whole, at --max-new-tokens", irst, roomy, "length", false},
		{"whole, ended", stops, roomy, "stop", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			run := t.TempDir()
			out, samples := filepath.Join(run, "out"), filepath.Join(run, "samples.jsonl")
			code, _, errs := runCLI(t, "", "distill", "--teacher", c.teacher, "--student-init", roomy, "--data", data, "--out", out, "--max-new-tokens", fmt.Sprint(maxNew),
				"--steps", "1", "--teacher-system", "T", "--student-system", "S", "--device", "cpu", "--best-of", "2", "--reward-student", c.reward, "--samples-out", samples)
			lines := strings.Split(strings.TrimSpace(mustRead(t, samples)), "\n")
			if len(lines) != 2*questions {
				t.Fatalf("exit %d; --samples-out has %d lines, want %d\nstderr:\n%s", code, len(lines), 2*questions, errs)
			}
			kept := 0
			for i, l := range lines {
				var s struct {
					Completion   string
					Kept         bool
					FinishReason *string `json:"finish_reason"`
					Cut          *bool   `json:"cut"`
				}
				if err := json.Unmarshal([]byte(l), &s); err != nil {
					t.Fatalf("line %d: %v: %s", i+1, err, l)
				}
				if s.FinishReason == nil || *s.FinishReason != c.finish || s.Cut == nil || *s.Cut != c.cut {
					t.Errorf("line %d: want finish_reason %q and cut %v: %s", i+1, c.finish, c.cut, l)
				}
				if s.Kept {
					kept++
				}
			}
			// A cut sample is never kept (TestDistillBestOfJudgesACutExplanationWhole).
			if c.cut && (kept != 0 || code != 1) || !c.cut && (kept != questions || code != 0) {
				t.Errorf("exit %d, %d samples kept\nstderr:\n%s", code, kept, errs)
			}
		})
	}
}

// rlt distill with a teacher of more positions than a student, where only
// that student cannot hold a question's row, says it of that student, the
// teacher taking the question: a task's questions are refused before the
// teacher explains, offering what makes room in the student, and the most
// --max-new-tokens it says runs; a --data row is left out and said of the
// student, by its folder where one is given (--student-init's was "the
// student", where the reward's was named, and a refusal and the rows left
// out named it), not counted against --questions, and the rows after it
// distilled. Each test of this had the teacher's
// positions bind too, or no teacher (TestDistillQuestionsCountsUsableRows,
// TestBudgetPastTheRoom; TestDistillRefusesQuestionsPastTheStudent's
// teacher has the students' positions); the fresh student (no
// --student-init), of the tiny shape's positions, was in none.
func TestDistillOnlyTheStudentPastItsPositions(t *testing.T) {
	const maxNew = 8
	dir := t.TempDir()
	teacher := writerTeacher(t, dir, "a") // 512 positions, the default tokenizer
	tiny := warmstart.TinyConfig().MaxPos
	short := studentOfPositions(t, distillStudent, filepath.Join(dir, "short"), 64)
	roomy := studentOfPositions(t, distillStudent, filepath.Join(dir, "roomy"), 512)
	tok, err := loadTokenizer(teacher)
	if err != nil {
		t.Fatal(err)
	}
	p, err := record.PromptsFor(teacher, "", record.Prompts{TeacherSystem: "T", StudentSystem: "S"})
	if err != nil {
		t.Fatal(err)
	}
	long, longSolution := strings.Repeat("1+", 110)+"1=?", "111"
	teacherLen, studentLen := rlt.PromptLengths(tok, p, long, longSolution)
	if teacherLen+maxNew > 512 || studentLen+maxNew <= tiny {
		t.Fatalf("the long row's teacher prompt takes %d tokens and its student context %d: with %d more, want within the teacher's 512 and past the student's %d", teacherLen, studentLen, maxNew, tiny)
	}
	data := filepath.Join(dir, "rows.jsonl")
	rows := `{"question": "` + long + `", "solution": "` + longSolution + `"}` + "\n" +
		`{"question": "12+5=?", "solution": "17"}` + "\n" + `{"question": "3+4=?", "solution": "7"}` + "\n" + `{"question": "20+22=?", "solution": "42"}` + "\n"
	if err := os.WriteFile(data, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	common := []string{"--teacher", teacher, "--steps", "1", "--teacher-system", "T", "--student-system", "S", "--device", "cpu"}
	t.Run("data", func(t *testing.T) {
		for _, c := range []struct {
			name      string
			args      []string
			student   string // the student as the skip names it
			positions int
		}{
			{"the fresh student", nil, "the student", tiny},
			{"--student-init", []string{"--student-init", short}, "the student " + short, 64},
			{"the reward's student", []string{"--student-init", roomy, "--best-of", "2", "--reward-student", distillStudent}, "the student " + distillStudent, 256},
		} {
			t.Run(c.name, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "out")
				args := append(append([]string{"distill", "--data", data, "--out", out, "--questions", "2", "--max-new-tokens", fmt.Sprint(maxNew)}, common...), c.args...)
				code, _, errs := runCLI(t, "", args...)
				want := fmt.Sprintf("data %s: skipped 1 of 4 rows: line 1: too long for %s: its prompt takes %d tokens, and with max_new_tokens = %d more that exceeds its %d positions (max_position_embeddings) by %d\n",
					data, c.student, studentLen, maxNew, c.positions, studentLen+maxNew-c.positions)
				if code != 0 || !strings.Contains(errs, want) {
					t.Fatalf("exit %d; want exit 0 and %q\nstderr:\n%s", code, want, errs)
				}
				var got []string
				for _, r := range jsonLines(t, mustRead(t, filepath.Join(out, distillRows))) {
					got = append(got, r["conversations"].([]any)[0].(map[string]any)["value"].(string))
				}
				if strings.Join(got, " ") != "12+5=? 3+4=?" {
					t.Errorf("distilled %q, want the 2 rows after the one left out", got)
				}
			})
		}
	})
	// A task's questions, with a --max-new-tokens the teacher has room for
	// and the fresh student not.
	t.Run("task", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		run := func(maxNew int) (int, string) {
			code, _, errs := runCLI(t, "", append([]string{"distill", "--out", out, "--questions", "2", "--max-new-tokens", fmt.Sprint(maxNew)}, common...)...)
			return code, errs
		}
		code, errs := run(240)
		m := regexp.MustCompile(`^rlt distill: --max-new-tokens 240 is more than the room for an explanation: the student: its prompt for the addition task's question "[^"]*" \(\d of the 2 drawn\) takes (\d+) tokens, ` +
			`and with --max-new-tokens more that exceeds its ` + fmt.Sprint(tiny) + ` positions \(max_position_embeddings\): lower --max-new-tokens to at most (\d+), or give a shorter --student-system, or a --student-init of at least (\d+) positions$`).FindStringSubmatch(strings.TrimSpace(errs))
		if code != 1 || m == nil {
			t.Fatalf("exit %d, stderr %q; want exit 1 and one line refusing the question past the fresh student's %d positions", code, errs, tiny)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s was made", out)
		}
		tokens, most, least := atoi(t, m[1]), atoi(t, m[2]), atoi(t, m[3])
		if most != tiny-tokens || least != tokens+240 {
			t.Errorf("said at most %d and a student of at least %d positions for a prompt of %d tokens; want %d and %d", most, least, tokens, tiny-tokens, tokens+240)
		}
		if code, errs := run(most); code != 0 {
			t.Errorf("--max-new-tokens %d, the most it said: exit %d\n%s", most, code, errs)
		}
	})
}

// A cut sample's finish_reason is how the teacher's sampling ended, as
// vLLM's is of the generation: one the teacher ended with <|im_end|>
// before --max-new-tokens, cut to the reward's student's positions, is
// "stop", as the same sample is where a roomy reward's student takes it
// whole (the same seed and budget: the same samples); it was said
// "length", as if --max-new-tokens had ended it. A teacher that writes
// "irst" or <|im_end|> writes samples of either end; the short reward's
// student cuts those of two "irst" or more. A cut sample's line keeps the
// whole of what the teacher wrote too ("uncut_completion", the whole
// run's "completion"), which was lost, the file holding only the part
// the models scored; a whole sample's has none.
func TestDistillSamplesOutCutKeepsTheTeachersFinish(t *testing.T) {
	const questions, maxNew, bestOf = 2, 4, 8
	dir := t.TempDir()
	teacher := writerTeacherOf(t, t.TempDir(), tokenizerFixture, 1216, "irst", "<|im_end|>")
	data, longest, _, _ := sumsFile(t, dir, teacher, questions)
	roomy := studentOfShape(t, t.TempDir(), longest+8*maxNew)
	type line struct {
		Group, Sample int
		Completion    string
		FinishReason  string `json:"finish_reason"`
		Cut           bool
		Uncut         *string `json:"uncut_completion"`
	}
	samples := func(reward string) map[[2]int]line {
		run := t.TempDir()
		out, file := filepath.Join(run, "out"), filepath.Join(run, "samples.jsonl")
		_, _, errs := runCLI(t, "", "distill", "--teacher", teacher, "--student-init", roomy, "--data", data, "--out", out, "--max-new-tokens", fmt.Sprint(maxNew),
			"--steps", "1", "--teacher-system", "T", "--student-system", "S", "--device", "cpu", "--best-of", fmt.Sprint(bestOf), "--reward-student", reward, "--samples-out", file)
		got := map[[2]int]line{}
		for i, l := range strings.Split(strings.TrimSpace(mustRead(t, file)), "\n") {
			var s line
			if err := json.Unmarshal([]byte(l), &s); err != nil {
				t.Fatalf("line %d: %v: %s\nstderr:\n%s", i+1, err, l, errs)
			}
			got[[2]int{s.Group, s.Sample}] = s
		}
		if len(got) != questions*bestOf {
			t.Fatalf("%d samples, want %d\nstderr:\n%s", len(got), questions*bestOf, errs)
		}
		return got
	}
	whole := samples(roomy)
	cut := samples(studentOfShape(t, t.TempDir(), longest+maxNew))
	stopped := 0
	for k, c := range cut {
		w := whole[k]
		if w.Cut || !strings.HasPrefix(w.Completion, strings.TrimSuffix(c.Completion, "<|im_end|>")) {
			t.Fatalf("sample %v: whole %+v, cut %+v: not the same sample", k, w, c)
		}
		if c.FinishReason != w.FinishReason {
			t.Errorf("sample %v: finish_reason %q where cut (%q), %q whole (%q)", k, c.FinishReason, c.Completion, w.FinishReason, w.Completion)
		}
		if c.Cut && w.FinishReason == "stop" {
			stopped++
		}
		if w.Uncut != nil || c.Cut != (c.Uncut != nil) || c.Cut && *c.Uncut != w.Completion {
			t.Errorf("sample %v: uncut_completion %v where cut %v (%q), %v whole (%q); want the whole run's completion where cut, else none", k, strp(c.Uncut), c.Cut, c.Completion, strp(w.Uncut), w.Completion)
		}
	}
	if stopped == 0 {
		t.Errorf("no sample the teacher ended was cut: the test tells nothing\nwhole: %v\ncut: %v", whole, cut)
	}
}

// strp is *p quoted, or "none" for nil.
func strp(p *string) string {
	if p == nil {
		return "none"
	}
	return strconv.Quote(*p)
}
