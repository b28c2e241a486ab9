package rlt

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
)

// fitPair is a pair of small random models of the test tokenizer with
// teacher and student positions.
func fitPair(t *testing.T, teacher, student int) *Pair {
	t.Helper()
	tok, err := tokenizer.Load(pairsTokenizer)
	if err != nil {
		t.Fatal(err)
	}
	cfg := model.Config{Vocab: tok.VocabSize() + 6, Hidden: 32, Intermediate: 64, Layers: 2, Heads: 4, KVHeads: 2,
		RMSEps: 1e-6, RopeTheta: 1e4, Tied: true, QKVBias: true}
	be := compute.NewCPU()
	tc, sc := cfg, cfg
	tc.MaxPos, sc.MaxPos = teacher, student
	tm, err := model.NewRandom(be, tc, 21)
	if err != nil {
		t.Fatal(err)
	}
	sm, err := model.NewRandom(be, sc, 22)
	if err != nil {
		t.Fatal(err)
	}
	return mustPair(t, tm, sm, tok, record.Prompts{TeacherSystem: "Explain.", StudentSystem: "Think."})
}

// TestStepSamplesWhatItScores: a GRPO step's teacher writes no more than
// the room its prompts leave in each model's positions (Positions.Room),
// so the scorer and the policy loss take every sequence whole, whichever
// model's positions bind. The sampler let the teacher's last token one
// position past its own (it is never fed back), and the step stopped at
// scoring ("step 0: scoring: item 2: 257 tokens do not fit the models' 256
// positions"); a student with fewer positions than the teacher's prompt
// and max_new_tokens (or a longer context) stopped it the same way. Run
// checks refuse such a configuration before it starts (engine/run); a
// Trainer made otherwise keeps to the same rule. A prompt that leaves no
// room at all is said on its configuration key.
func TestStepSamplesWhatItScores(t *testing.T) {
	const maxNew = 12
	probe := fitPair(t, 256, 256)
	exs := sums{}.Batch(0, 2)
	var teacher, student int // the longest of step 0's prompts
	var longest string       // the question of the student's longest
	for _, ex := range exs {
		tl, sl := PromptLengths(probe.Tok, probe.Prompts, ex.Question, ex.Solution)
		if sl > student {
			longest = ex.Question
		}
		teacher, student = max(teacher, tl), max(student, sl)
	}
	for _, c := range []struct {
		name             string
		teacher, student int // positions
		err              string
	}{
		{"the teacher's positions bind", teacher + 5, 256, ""},
		{"the student's positions bind", 256, student + 4, ""},
		{"max_new_tokens fits", teacher + maxNew, student + maxNew, ""},
		{"a student context that fills the student's positions", 256, student,
			fmt.Sprintf("step 0: sampling: the student: its prompt for the question %q takes %d tokens, which leaves no room for an explanation in its %d positions (max_position_embeddings): give a shorter prompts.student_system, for a prompt of at most %d tokens (1 fewer)", longest, student, student, student-1)},
	} {
		t.Run(c.name, func(t *testing.T) {
			pair := fitPair(t, c.teacher, c.student)
			gc := runconfig.DefaultGRPO()
			gc.Questions, gc.Samples, gc.MaxNewTokens, gc.MicroBatch = 2, 3, maxNew, 6
			tr, err := NewTrainer(gc, record.DefaultRewardConfig(), pair, sums{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := tr.Step(context.Background())
			if c.err != "" {
				if err == nil || err.Error() != c.err {
					t.Fatalf("error %v\nwant %s", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, trace := range res.Traces {
				item := Item{Question: trace.Question, Solution: trace.Solution, Explanation: record.Extract(trace.Completion).Body}
				if tl, sl := tr.scorer.SequenceLengths(item); tl > c.teacher || sl > c.student {
					t.Errorf("sample %d:%d: sequences of %d and %d tokens for %d and %d positions", trace.Group, trace.Sample, tl, sl, c.teacher, c.student)
				}
			}
		})
	}
}

// TestScorerTakesEachSequenceInItsModelsPositions: the scorer refuses an
// item whose sequence for one model is longer than that model's positions,
// naming the model, and takes one that fits each model's own, where the
// teacher's and the student's differ: the teacher's sequence was held to
// the student's positions too (the smaller of the two), and the other way
// round. A run's scorer names the run's keys, rlt score's its flags. The
// refusal names the model and its positions in RoomError's words, with
// the explanation's tokens and the room the rest of the sequence leaves
// them (none where the prompt alone is past the positions); it said "92
// tokens do not fit the teacher's 91 positions".
func TestScorerTakesEachSequenceInItsModelsPositions(t *testing.T) {
	probe := fitPair(t, 512, 512)
	item := Item{Question: "12+9=?", Solution: "21", Explanation: strings.Repeat("2+9=11 ", 8), Ended: true}
	s, err := NewScorer(probe, record.DefaultRewardConfig())
	if err != nil {
		t.Fatal(err)
	}
	teacher, student := s.SequenceLengths(item)
	if teacher == student {
		t.Fatalf("the sequences take %d tokens each: the cases below want them to differ", teacher)
	}
	short := min(teacher, student)
	advice := "shorten the explanation, or score with the shorter system prompts the traces were made with (--run DIR takes the run's; else --teacher-system and --student-system)"
	// refusal is the scorer's words for the model who's sequence of n
	// tokens past its max positions, in RoomError's (the model, its
	// positions), with the explanation's tokens and the room the rest
	// leaves them.
	expl := len(s.encode(item).T)
	refusal := func(who string, n, max int, advice string) string {
		sequence := fmt.Sprintf("its prompt and the explanation's %d tokens take %d", expl, n)
		if who == "student" {
			sequence = fmt.Sprintf("its context, the explanation's %d tokens and the solution take %d", expl, n)
		}
		return fmt.Sprintf("item 0: the %s: %s, more than its %d positions (max_position_embeddings), which leave the explanation %d: %s", who, sequence, max, max-(n-expl), advice)
	}
	for _, c := range []struct {
		name             string
		teacher, student int
		err              string
	}{
		{"each fits its own", teacher, student, ""},
		{"the teacher's one short", teacher - 1, 512, refusal("teacher", teacher, teacher-1, advice)},
		{"the student's one short", 512, student - 1, refusal("student", student, student-1, advice)},
		{"both as the shorter's", short, short, ""},
		{"the teacher's prompt alone past its positions", teacher - expl - 1, 512,
			strings.Replace(refusal("teacher", teacher, teacher-expl-1, advice), "which leave the explanation -1:", "which leave the explanation none:", 1)},
	} {
		if c.name == "both as the shorter's" {
			// Whichever is longer does not fit.
			who, n := "teacher", teacher
			if student > teacher {
				who, n = "student", student
			}
			c.err = refusal(who, n, short, advice)
		}
		t.Run(c.name, func(t *testing.T) {
			s, err := NewScorer(fitPair(t, c.teacher, c.student), record.DefaultRewardConfig())
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Score(context.Background(), []Item{item})
			if c.err == "" && err != nil || c.err != "" && (err == nil || err.Error() != c.err) {
				t.Errorf("error %v\nwant %q", err, c.err)
			}
		})
	}
	// A trainer's scorer says what to change in the run's configuration.
	tr, err := NewTrainer(runconfig.DefaultGRPO(), record.DefaultRewardConfig(), fitPair(t, 512, student-1), sums{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := refusal("student", student, student-1, "lower grpo.max_new_tokens, or give a shorter prompts.student_system")
	if _, err := tr.scorer.Score(context.Background(), []Item{item}); err == nil || err.Error() != want {
		t.Errorf("a trainer's scorer: %v\nwant %s", err, want)
	}
}

// TestRoomIsTheTighterModels: Room is the fewer of the positions each
// model's prompt leaves, named by that model; an unknown model's (0)
// leaves any.
func TestRoomIsTheTighterModels(t *testing.T) {
	for _, c := range []struct {
		pos              Positions
		teacher, student int
		room             int
		who              string
	}{
		{Positions{256, 256}, 86, 84, 170, "teacher"},
		{Positions{256, 256}, 84, 86, 170, "student"},
		{Positions{256, 256}, 85, 85, 171, "teacher"},
		{Positions{512, 256}, 200, 84, 172, "student"},
		{Positions{256, 0}, 86, 400, 170, "teacher"},
		{Positions{0, 256}, 400, 86, 170, "student"},
		{Positions{256, 256}, 256, 84, 0, "teacher"},
		{Positions{256, 128}, 86, 200, -72, "student"},
	} {
		if room, who := c.pos.Room(c.teacher, c.student); room != c.room || who != c.who {
			t.Errorf("%+v, prompts of %d and %d: room %d (%s), want %d (%s)", c.pos, c.teacher, c.student, room, who, c.room, c.who)
		}
	}
}

// TestFitCutsToWhatTheModelsTake: an explanation whose text, encoded as
// the models read it, takes more tokens than the positions leave (random
// ids: merged and partial-character tokens re-encode as several) is cut
// to a beginning of its tokens that fits, one token more not fitting, and
// said as not ended, the whole kept as Uncut; one that fits is left whole.
// Either is laid out as its text (the layout the step's scorer takes).
func TestFitCutsToWhatTheModelsTake(t *testing.T) {
	probe := fitPair(t, 512, 512)
	ex := Example{Question: "12+9=?", Solution: "21"}
	teacher, student := PromptLengths(probe.Tok, probe.Prompts, ex.Question, ex.Solution)
	fits := func(p *Pair, ids []int32) bool {
		l := ItemLayout(p.Tok, p.Prompts, ex.Question, ex.Solution, record.Extract(p.Tok.Decode(ids)).Body)
		who, _, _ := p.Positions().over(l)
		return who == ""
	}
	var pairs []*Pair
	for _, pos := range []Positions{{teacher + 20, 512}, {512, student + 20}, {512, 512}} {
		pairs = append(pairs, fitPair(t, pos.Teacher, pos.Student))
	}
	cut := 0
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 3))
		ids := make([]int32, 40)
		for i := range ids {
			ids[i] = int32(r.IntN(probe.Tok.VocabSize()))
		}
		for _, p := range pairs {
			pos := p.Positions()
			e := Explanation{Example: ex, IDs: ids, LogProbs: make([]float32, len(ids)), Text: p.Tok.Decode(ids)}
			e.Extraction = record.Extract(e.Text)
			p.fit(&e, pos)
			k := len(e.IDs)
			if k < len(ids) {
				cut++
			}
			switch {
			case !slices.Equal(e.IDs, ids[:k]) || len(e.LogProbs) != k:
				t.Errorf("seed %d, %+v: kept %v of %v (%d log-probs)", seed, pos, e.IDs, ids, len(e.LogProbs))
			case !fits(p, ids[:k]):
				t.Errorf("seed %d, %+v: the first %d tokens do not fit", seed, pos, k)
			case k < len(ids) && fits(p, ids[:k+1]):
				t.Errorf("seed %d, %+v: cut to %d tokens, and %d fit", seed, pos, k, k+1)
			case k < len(ids) && (e.Ended || e.Text != p.Tok.Decode(ids[:k])):
				t.Errorf("seed %d, %+v: cut to %d tokens, ended %v, text %q", seed, pos, k, e.Ended, e.Text)
			case k < len(ids) && (e.Uncut == nil || *e.Uncut != record.Extract(p.Tok.Decode(ids))):
				// What the teacher wrote, whole, for a caller that keeps
				// it as written (distillation's rows).
				t.Errorf("seed %d, %+v: cut to %d tokens, the whole said as %+v", seed, pos, k, e.Uncut)
			case k == len(ids) && e.Uncut != nil:
				t.Errorf("seed %d, %+v: whole, and said cut from %+v", seed, pos, *e.Uncut)
			case k < len(ids) && e.CutPast != pos.past(ItemLayout(p.Tok, p.Prompts, ex.Question, ex.Solution, record.Extract(p.Tok.Decode(ids)).Body)),
				k < len(ids) && !e.CutPast.Any(), k == len(ids) && e.CutPast.Any():
				// The models whose positions the whole was past: what
				// cut it, which rlt distill's advice names.
				t.Errorf("seed %d, %+v: cut to %d of %d tokens, said past %+v", seed, pos, k, len(ids), e.CutPast)
			case pos == Positions{512, 512} && k != len(ids):
				t.Errorf("seed %d: %d of %d tokens kept where all fit", seed, k, len(ids))
			case !reflect.DeepEqual(e.layout, ItemLayout(p.Tok, p.Prompts, ex.Question, ex.Solution, e.Body)):
				t.Errorf("seed %d, %+v: kept %d tokens laid out as %+v, not as their text", seed, pos, k, e.layout)
			}
		}
	}
	if cut < 20 {
		t.Errorf("%d of 40 explanations cut: the positions leave most of them room", cut)
	}
}

// TestContinuesIsTheSamplersRule: a model's own prompt and maxNew more fit
// where they take at most its positions (exactly: fits; one over: not),
// whichever model; a model whose positions are not known takes any.
func TestContinuesIsTheSamplersRule(t *testing.T) {
	pos := Positions{Teacher: 256, Student: 128}
	for _, c := range []struct {
		pos            Positions
		who            string
		prompt, maxNew int
		fits           bool
	}{
		{pos, "student", 100, 28, true},
		{pos, "student", 100, 29, false},
		{pos, "teacher", 200, 56, true},
		{pos, "teacher", 200, 57, false},
		{pos, "student", 128, 0, true},
		{pos, "student", 129, 0, false},
		{Positions{Teacher: 256}, "student", 1000, 1000, true},
	} {
		if got := c.pos.Continues(c.who, c.prompt, c.maxNew); got != c.fits {
			t.Errorf("%+v: the %s's prompt of %d and %d more: fits %v, want %v", c.pos, c.who, c.prompt, c.maxNew, got, c.fits)
		}
	}
}

// TestCappedStepCountsToTheCap: a GRPO step whose teacher's positions cap
// its explanations below max_new_tokens (Pair.ExplainBudget) shows its
// sampling's progress out of that cap, the most it can write, and one not
// capped out of max_new_tokens. It showed max_new_tokens (12) as the total
// of sampling that could never write more than 5.
func TestCappedStepCountsToTheCap(t *testing.T) {
	const maxNew = 12
	probe := fitPair(t, 256, 256)
	var teacher int // the longest of step 0's teacher prompts
	for _, ex := range (sums{}).Batch(0, 2) {
		tl, _ := PromptLengths(probe.Tok, probe.Prompts, ex.Question, ex.Solution)
		teacher = max(teacher, tl)
	}
	for _, c := range []struct {
		name      string
		positions int // the teacher's
		total     int
	}{
		{"capped at 5", teacher + 5, 5},
		{"not capped", 256, maxNew},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf event.Buffer
			gc := runconfig.DefaultGRPO()
			gc.Questions, gc.Samples, gc.MaxNewTokens, gc.MicroBatch = 2, 3, maxNew, 6
			tr, err := NewTrainer(gc, record.DefaultRewardConfig(), fitPair(t, c.positions, 256), sums{}, &buf)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tr.Step(context.Background()); err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, e := range buf.Events() {
				if p, ok := e.(event.Progress); ok && p.Phase == "sampling" {
					n++
					if p.Total != c.total || p.Done > c.total {
						t.Errorf("sampling progress %d of %d tokens, want a total of %d", p.Done, p.Total, c.total)
					}
				}
			}
			if n == 0 {
				t.Error("no sampling progress")
			}
		})
	}
}

// TestRoomErrorSaysHowMuchShorter: a prompt that fills its model's
// positions, or more, says its tokens, the positions, the length that
// leaves room for the first new token and by how much it is over, as the
// budget's refusal says the most the budget can be; it said "give a
// shorter X" and no number.
func TestRoomErrorSaysHowMuchShorter(t *testing.T) {
	const question = `question "1+1=?"`
	for _, c := range []struct {
		name string
		e    RoomError
		want string
	}{
		{"one over the room", RoomError{Who: "student", Dir: "/m/s", Question: "1+1=?", Prompt: 256, Positions: 256, Budget: 64, BudgetName: "--max-new-tokens", Shorten: "--student-system"},
			"the student /m/s: its prompt for the " + question + " takes 256 tokens, which leaves no room for an explanation in its 256 positions (max_position_embeddings): give a shorter --student-system, for a prompt of at most 255 tokens (1 fewer)"},
		{"past the positions", RoomError{Who: "teacher", Task: "addition", Question: "1+1=?", Prompt: 300, Positions: 256, Budget: 64, BudgetName: "max_new_tokens", Shorten: "prompts.teacher_system"},
			"the teacher: its prompt for the addition task's " + question + " takes 300 tokens, 45 more than fit in its 256 positions (max_position_embeddings) beside an explanation: give a shorter prompts.teacher_system, for a prompt of at most 255 tokens (45 fewer)"},
		{"a student solving alone", RoomError{Who: "student", Dir: "/m/s", Question: "1+1=?", Prompt: 512, Positions: 512, Budget: 1, BudgetName: "--max-new-tokens", Shorten: "--student-system", For: "its thought and solution"},
			"the student /m/s: its prompt for the " + question + " takes 512 tokens, which leaves no room for its thought and solution in its 512 positions (max_position_embeddings): give a shorter --student-system, for a prompt of at most 511 tokens (1 fewer)"},
		{"room left: the budget's refusal", RoomError{Who: "teacher", Dir: "/m/t", Question: "1+1=?", Prompt: 200, Positions: 256, Budget: 64, BudgetName: "--max-new-tokens", Shorten: "--teacher-system"},
			"--max-new-tokens 64 is more than the room for an explanation: the teacher /m/t: its prompt for the " + question + " takes 200 tokens, and with --max-new-tokens more that exceeds its 256 positions (max_position_embeddings): lower --max-new-tokens to at most 56, or give a shorter --teacher-system"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.e.Error(); got != c.want {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}
