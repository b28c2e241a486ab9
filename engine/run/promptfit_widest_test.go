package run

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/configkey"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/task"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
	"github.com/rlt-workbench/rlt/engine/warmstart"
)

// TestCheckRefusesEveryStepsPromptPastThePositions: Check measures a
// synthetic task's prompts on its widest question, which any step may
// draw, not on the first step's questions, and refuses a prompt that
// leaves the explanation no room: the teacher's prompt (the student's
// context) of the widest question is made 257 tokens, 256, one more than
// leaves max_new_tokens room, and exactly that room, for the tiny models'
// 256 positions. At 257 the first step's questions fit and a later step's
// do not: the check of the first step's passed it, and the sampler
// stopped the run at that step ("sample: a prompt of 257 tokens is longer
// than the model's 256 positions"). A prompt that fits without room for
// max_new_tokens more passed too, and the scorer stopped the run at the
// first step whose teacher wrote that long ("step 2: scoring: item 2: 257
// tokens do not fit the models' 256 positions: … --teacher-system"),
// naming flags of rlt score, not the run's keys.
func TestCheckRefusesEveryStepsPromptPastThePositions(t *testing.T) {
	dir := tinyModels(t) // 256 positions
	base := smallConfig(dir)
	maxNew := base.GRPO.MaxNewTokens
	tok, err := tokenizer.Load(filepath.Join(base.Teacher, hf.TokenizerFile))
	if err != nil {
		t.Fatal(err)
	}
	widest := task.DefaultAddition().Widest()
	lengths := func(p record.Prompts, ex task.Example) (teacher, student int) {
		return len(tok.Encode(p.TeacherPrompt(ex.Question, ex.Solution))), len(rlt.StudentLayout(tok, p, ex.Question, "", ex.Solution).IDs)
	}
	for _, who := range []string{"teacher", "student"} {
		key := "prompts." + who + "_system"
		folder := base.Teacher
		if who == "student" {
			folder = base.Student
		}
		// prompts whose widest question's prompt for who takes n tokens
		// (a token a byte: the tiny models' byte vocabulary).
		prompts := func(n int) record.Prompts {
			p := warmstart.ShortPrompts()
			teacher, student := lengths(p, widest)
			if who == "teacher" {
				p.TeacherSystem += strings.Repeat(".", n-teacher)
			} else {
				p.StudentSystem += strings.Repeat(".", n-student)
			}
			if teacher, student = lengths(p, widest); who == "teacher" && teacher != n || who == "student" && student != n {
				t.Fatalf("the %s's prompt takes %d tokens (the student's %d), want %d", who, teacher, student, n)
			}
			return p
		}
		question := fmt.Sprintf(": the %s %s: its prompt for the addition task's question %q takes ", who, folder, widest.Question)
		for _, tc := range []struct {
			tokens     int
			key        string // "" = fits
			want, tail string
		}{
			{257, key, key + question + "257", " tokens, 2 more than fit in its 256 positions (max_position_embeddings) beside an explanation: give a shorter " + key + ", for a prompt of at most 255 tokens (2 fewer)"},
			{256, key, key + question + "256", " tokens, which leaves no room for an explanation in its 256 positions (max_position_embeddings): give a shorter " + key + ", for a prompt of at most 255 tokens (1 fewer)"},
			{256 - maxNew + 1, "grpo.max_new_tokens", fmt.Sprintf("grpo.max_new_tokens %d is more than the room for an explanation", maxNew) + question + fmt.Sprint(256-maxNew+1),
				fmt.Sprintf(" tokens, and with max_new_tokens more that exceeds its 256 positions (max_position_embeddings): lower max_new_tokens to at most %d, or give a shorter %s", maxNew-1, key)},
			{256 - maxNew, "", "", ""},
		} {
			t.Run(fmt.Sprintf("%s, %d tokens", who, tc.tokens), func(t *testing.T) {
				c := base
				c.Prompts = prompts(tc.tokens)
				_, err := Check(c)
				if tc.key == "" {
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					return
				}
				if got, _ := configkey.Of(err); err == nil || got != tc.key || !strings.HasPrefix(err.Error(), tc.want) || !strings.HasSuffix(err.Error(), tc.tail) {
					t.Errorf("%v (key %q)\nwant %s…%s on %s", err, got, tc.want, tc.tail, tc.key)
				}
				if tc.tokens != 257 {
					return
				}
				// What the first step's check let through: its questions
				// fit, a later step's do not.
				batches := taskQuestions{task: task.DefaultAddition(), seed: c.GRPO.Seed}
				longest := func(step int) (n int, q string) {
					for _, ex := range batches.Batch(step, c.GRPO.Questions) {
						teacher, student := lengths(c.Prompts, task.Example{Question: ex.Question, Solution: ex.Solution})
						if m := map[string]int{"teacher": teacher, "student": student}[who]; m > n {
							n, q = m, ex.Question
						}
					}
					return n, q
				}
				if n, q := longest(0); n > 256 {
					t.Fatalf("step 0's question %q takes %d tokens: the first step's check would refuse it too; choose another seed", q, n)
				}
				for step := 1; ; step++ {
					if n, q := longest(step); n > 256 {
						t.Logf("step %d draws %q, whose prompt takes %d tokens", step, q, n)
						break
					}
					if step == 1000 {
						t.Fatal("no step of a thousand draws a question past the positions")
					}
				}
			})
		}
	}
}

// TestWidestPromptBoundsEveryPrompt checks widestPrompts against brute
// force: at ranges small enough, every question a task draws is drawn,
// and no teacher prompt or student context of one is longer than the
// widest's. For tokenizers that give each digit a token it is the longest
// of them (the byte vocabulary, and one with merges under Qwen2's
// pre-tokenizer), for GPT-2's, which merges runs of digits ("99" is a
// token), at least as long: there the widest's own prompt ("99+99=?") is
// shorter than another's ("53+84=?"), which its tokens that hold digits,
// counted at their bytes, make up for (atBytes).
func TestWidestPromptBoundsEveryPrompt(t *testing.T) {
	tasks := []struct {
		task  task.Task
		count int // its questions
	}{
		{mustTask(task.NewAddition(task.AdditionConfig{MinDigits: 1, MaxDigits: 2})), 100 * 100},
		{mustTask(task.NewLinear(task.LinearConfig{MinCoef: 1, MaxCoef: 9, MaxX: 11, MaxConst: 12, Minus: true})), 0},
		{mustTask(task.NewLinear(task.LinearConfig{MinCoef: 2, MaxCoef: 12, MaxX: 9, MaxConst: 40})), 11 * 10 * 40},
	}
	for i := range tasks {
		if tasks[i].count == 0 { // ax+b=c for each a, x, b; ax-b=c where c >= 0
			cfg := tasks[i].task.(*task.Linear).Config()
			for a := cfg.MinCoef; a <= cfg.MaxCoef; a++ {
				for x := 0; x <= cfg.MaxX; x++ {
					for b := 1; b <= cfg.MaxConst; b++ {
						tasks[i].count++
						if cfg.Minus && a*x >= b {
							tasks[i].count++
						}
					}
				}
			}
		}
	}
	toks := []struct {
		name  string
		tok   *tokenizer.Tokenizer
		exact bool // a token a digit
	}{
		{"the byte vocabulary", loadTokenizer(t, "../defaults/models/teacher/tokenizer.json"), true},
		{"Qwen2's pre-tokenizer with merges", mergingQwen2(t), true},
		{"GPT-2's pre-tokenizer", loadTokenizer(t, "../tokenizer/testdata/gpt2.json"), false},
	}
	p := warmstart.ShortPrompts() // the same for every question: how long changes no comparison
	slackNeeded := false
	for _, tk := range tasks {
		all := drawAll(t, tk.task, tk.count)
		for _, tt := range toks {
			var longestT, longestS int
			var atT, atS string
			for _, ex := range all {
				if n := len(tt.tok.Encode(p.TeacherPrompt(ex.Question, ex.Solution))); n > longestT {
					longestT, atT = n, ex.Question
				}
				if n := len(rlt.StudentLayout(tt.tok, p, ex.Question, "", ex.Solution).IDs); n > longestS {
					longestS, atS = n, ex.Question
				}
			}
			w, teacher, student := widestPrompts(tt.tok, p, tk.task)
			if _, ok := all[w.Question]; !ok {
				t.Fatalf("%s: the widest question %q is not one the task draws", tk.task.Name(), w.Question)
			}
			if teacher < longestT || student < longestS || tt.exact && (teacher != longestT || student != longestS) {
				t.Errorf("%s %+v, %s: widest %q: teacher %d, student %d tokens; the longest: teacher %d (%q), student %d (%q)",
					tk.task.Name(), config(tk.task), tt.name, w.Question, teacher, student, longestT, atT, longestS, atS)
			}
			if own := len(tt.tok.Encode(p.TeacherPrompt(w.Question, w.Solution))); own < longestT {
				slackNeeded = true
			}
		}
	}
	if !slackNeeded {
		t.Error("the widest question's own prompt was the longest for every tokenizer: nothing here checks that atBytes makes up for merged digits")
	}
}

func config(t task.Task) any {
	switch t := t.(type) {
	case *task.Addition:
		return t.Config()
	case *task.Linear:
		return t.Config()
	}
	return nil
}

func mustTask[T task.Task](t T, err error) task.Task {
	if err != nil {
		panic(err)
	}
	return t
}

func loadTokenizer(t *testing.T, path string) *tokenizer.Tokenizer {
	t.Helper()
	tok, err := tokenizer.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// mergingQwen2 is the byte vocabulary under Qwen2's pre-tokenizer with
// merges: of digits ("9 9", which the pre-tokenizer's one digit a word
// never lets apply), of the questions' other characters ("= ?", "x +")
// and of the prompts' words.
func mergingQwen2(t *testing.T) *tokenizer.Tokenizer {
	t.Helper()
	b, err := tokenizer.ByteLevelJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	model := doc["model"].(map[string]any)
	vocab := model["vocab"].(map[string]any)
	var merges []string
	for _, m := range [][2]string{{"9", "9"}, {"1", "9"}, {"=", "?"}, {"x", "+"}, {",", "Ġx"}, {"Ġ", "x"}, {"s", "o"}, {"so", "l"}, {"Ċ", "Ċ"}, {"<", "|"}, {"|", ">"}} {
		merges = append(merges, m[0]+" "+m[1])
		vocab[m[0]+m[1]] = len(vocab)
	}
	model["merges"] = merges
	b, err = json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(tok.Encode("x+1=?")); n != 4 { // "x", "+", "1", "=?"
		t.Fatalf("the merging tokenizer writes x+1=? in %d tokens, want 4", n)
	}
	return tok
}

// drawAll draws from t until it has given want distinct questions, and
// returns them with their examples.
func drawAll(tb testing.TB, t task.Task, want int) map[string]task.Example {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	all := make(map[string]task.Example, want)
	for draws := 0; len(all) < want && draws < 1000*want; draws++ {
		ex := t.Sample(rng)
		all[ex.Question] = ex
	}
	if len(all) != want {
		tb.Fatalf("%s: drew %d distinct questions, want %d", t.Name(), len(all), want)
	}
	return all
}

// TestEachSequenceInItsModelsPositions: where the teacher and the student
// take different positions, Check and a data run's rows hold each model's
// sequence, its prompt with max_new_tokens more, to that model's own
// positions, the rule the scorer refuses an item by (rlt.Positions): both
// held the longer of the two prompts to the fewer of the two positions,
// refusing a teacher prompt of 300 tokens in a 512-position teacher
// beside a 256-position student, which the scorer takes. The binding
// model's positions are named, with the most max_new_tokens can be.
func TestEachSequenceInItsModelsPositions(t *testing.T) {
	r := warmstart.DefaultRecipe()
	r.Steps, r.Batch = 2, 2
	r.Teacher.Hidden, r.Teacher.Intermediate, r.Teacher.Layers = 32, 64, 1
	r.Student = r.Teacher
	r.Teacher.MaxPos = 512
	dir := t.TempDir()
	if err := warmstart.Build(context.Background(), r, dir, nil); err != nil {
		t.Fatal(err)
	}
	base := smallConfig(dir)
	tok, err := tokenizer.Load(filepath.Join(base.Teacher, hf.TokenizerFile))
	if err != nil {
		t.Fatal(err)
	}
	widest := task.DefaultAddition().Widest()
	// prompts whose widest teacher prompt takes n tokens (a token a byte).
	prompts := func(n int) record.Prompts {
		p := warmstart.ShortPrompts()
		teacher, _ := rlt.PromptLengths(tok, p, widest.Question, widest.Solution)
		p.TeacherSystem += strings.Repeat(".", n-teacher)
		return p
	}
	_, student := rlt.PromptLengths(tok, warmstart.ShortPrompts(), widest.Question, widest.Solution)
	pos := rlt.Positions{Teacher: 512, Student: 256}
	for _, c := range []struct {
		teacher, maxNew int
		err             string // "" = fits
	}{
		{300, 256 - student, ""},
		{300, 256 - student + 1, fmt.Sprintf("grpo.max_new_tokens %d is more than the room for an explanation: the student %s: its prompt for the addition task's question %q takes %d tokens, and with max_new_tokens more that exceeds its 256 positions (max_position_embeddings): lower max_new_tokens to at most %d, or give a shorter prompts.student_system",
			256-student+1, base.Student, widest.Question, student, 256-student)},
		{512 - 100, 101, fmt.Sprintf("grpo.max_new_tokens 101 is more than the room for an explanation: the teacher %s: its prompt for the addition task's question %q takes 412 tokens, and with max_new_tokens more that exceeds its 512 positions (max_position_embeddings): lower max_new_tokens to at most 100, or give a shorter prompts.teacher_system",
			base.Teacher, widest.Question)},
	} {
		t.Run(fmt.Sprintf("a teacher prompt of %d, max_new_tokens %d", c.teacher, c.maxNew), func(t *testing.T) {
			cfg := base
			cfg.Prompts, cfg.GRPO.MaxNewTokens = prompts(c.teacher), c.maxNew
			cfg.GRPO.MicroBatchTokens = 0
			_, err := Check(cfg)
			if c.err == "" && err != nil || c.err != "" && (err == nil || err.Error() != c.err) {
				t.Errorf("Check: %v\nwant %q", err, c.err)
			}
			// A data row of the widest question is kept or left out alike.
			reason := FitReason(tok, cfg.Prompts, c.maxNew, pos)(widest)
			if (reason == "") != (c.err == "") {
				t.Errorf("FitReason: %q, where Check said %v", reason, err)
			}
		})
	}
}
