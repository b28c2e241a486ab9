package rlt

import (
	"fmt"
	"math"

	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
)

// Positions is how many positions (max_position_embeddings) each model of
// a pair takes, and the one rule of what fits them, which every check of
// an explanation's length keeps: a run's configuration and a data file's
// rows (engine/run), rlt eval's and rlt distill's questions, the
// teacher's sampling in a GRPO step (Trainer.Step) and the scorer's
// refusal (TooLongError), and a student that solves a question by itself
// (Continues: engine/run's StudentFitReason). Each model reads its own
// sequence, whole: the teacher its prompt and the tokens it wrote (the
// scorer's log-probs of the explanation, GRPO's policy and reference
// log-probs of the completion), the student its layout, the question's
// context, the explanation and the solution (StudentLayout). A sequence
// fits a model
// when it has at most its positions. The sampler keeps to the same rule
// (sample.Options.MaxNewTokens: the prompt and its continuation fit), the
// teacher writes within Room, and Pair.Explain cuts what takes more
// tokens read back as text than were written, so what the teacher writes
// is what the scorer takes. A zero is a model whose positions are not
// known (an inference server that did not say): nothing is refused for
// it.
type Positions struct{ Teacher, Student int }

// Positions is the pair's models' positions.
func (p *Pair) Positions() Positions {
	return Positions{Teacher: p.Teacher.Cfg.MaxPos, Student: p.Student.Cfg.MaxPos}
}

// Room is the most tokens the teacher may write for an example whose
// teacher prompt takes teacher tokens and whose student context (its
// layout with an empty explanation, PromptLengths) takes student: each
// token it writes adds at most one to each sequence (the explanation's
// tokens are the same ids in both; the end tag and the end of turn after
// it are in neither), so within room both fit. who is the model whose
// positions leave the less ("teacher" where both leave the same); room is
// below 1 where a prompt leaves none.
func (p Positions) Room(teacher, student int) (room int, who string) {
	room, who = p.Left("teacher", teacher), "teacher"
	if left := p.Left("student", student); left < room {
		room, who = left, "student"
	}
	return room, who
}

// Left is the most new tokens a sequence of prompt tokens leaves room for
// in the positions of the model who ("teacher" or "student"), the one
// subtraction every rule here makes: math.MaxInt where its positions are
// not known, below 1 where the prompt leaves none.
func (p Positions) Left(who string, prompt int) int {
	if p.Of(who) <= 0 {
		return math.MaxInt
	}
	return p.Of(who) - prompt
}

// Continues reports whether the model who's own prompt of prompt tokens
// and maxNew more fit its positions: the sampler's rule
// (sample.Options.MaxNewTokens), for a model that continues its own
// prompt, as a student solving a question by itself does (its SolvePrompt
// and what it writes).
func (p Positions) Continues(who string, prompt, maxNew int) bool {
	return maxNew <= p.Left(who, prompt)
}

// Budget is the most of maxNew tokens the teacher may write for each of
// n examples, the room the tightest leaves (Room) where less, and then a
// *RoomError of that example (its question, the model whose positions
// bind it, its prompt's tokens and those positions; Budget maxNew), for
// the caller to name the budget and what shortens the prompt in its own
// terms; short is nil where every example leaves maxNew. lengths gives
// example i's question and the lengths of its contexts (PromptLengths),
// asked once for each example, in order (Pair.ExplainBudget keeps the
// teacher prompts it encodes there for the teacher to sample after).
func (p Positions) Budget(maxNew, n int, lengths func(i int) (question string, teacher, student int)) (limit int, short *RoomError) {
	limit = maxNew
	for i := range n {
		question, teacher, student := lengths(i)
		room, who := p.Room(teacher, student)
		if room >= limit {
			continue
		}
		prompt := teacher
		if who == "student" {
			prompt = student
		}
		limit, short = room, &RoomError{Who: who, Question: question, Prompt: prompt, Positions: p.Of(who), Budget: maxNew}
	}
	return limit, short
}

// Of is the positions of the model who ("teacher" or "student").
func (p Positions) Of(who string) int {
	if who == "student" {
		return p.Student
	}
	return p.Teacher
}

// Past is which of a pair's models a sequence is past the positions of:
// the teacher's (its sequence), the student's (its row), or both.
type Past struct{ Teacher, Student bool }

// Any reports whether it is past either model's positions.
func (p Past) Any() bool { return p.Teacher || p.Student }

// past is which of l's sequences do not fit their model (over's, each).
func (p Positions) past(l Layout) Past {
	return Past{Teacher: p.Teacher > 0 && len(l.Teacher) > p.Teacher, Student: p.Student > 0 && len(l.Student.IDs) > p.Student}
}

// over is the first of l's sequences that does not fit its model (past):
// which model, its tokens and that model's positions; who is "" where
// both fit.
func (p Positions) over(l Layout) (who string, tokens, max int) {
	switch past := p.past(l); {
	case past.Teacher:
		return "teacher", len(l.Teacher), p.Teacher
	case past.Student:
		return "student", len(l.Student.IDs), p.Student
	}
	return "", 0, 0
}

// Contexts is what an example's two sequences hold before the teacher
// writes: the teacher's prompt (TeacherPrompt) and the student's layout
// with an empty explanation (StudentLayout), whose lengths Room takes.
func Contexts(tok Encoder, p record.Prompts, question, solution string) (teacher, student []int32) {
	return tok.Encode(p.TeacherPrompt(question, solution)), StudentLayout(tok, p, question, "", solution).IDs
}

// PromptLengths is the number of tokens of Contexts.
func PromptLengths(tok Encoder, p record.Prompts, question, solution string) (teacher, student int) {
	t, s := Contexts(tok, p, question, solution)
	return len(t), len(s)
}

// RoomError is a budget of new tokens past the room an example's prompt
// leaves in the positions of one model (Positions.Room, or a student's
// own prompt where it solves alone), said in its caller's terms: what the
// budget is called (a run's max_new_tokens, a command's
// --max-new-tokens) and what shortens that model's prompt (a run's
// prompts.student_system, a command's --student-system). The scorer's
// refusal of an explanation already written is a TooLongError: see there
// why it is another type. Both say the model and its positions as every
// refusal past them does (model.Name, model.ItsPositions), and a prompt
// that leaves no room at all is a model.PositionsError's sentence, with
// the length of prompt that leaves room and by how much it is over. A
// prompt past its model's positions, refused before any budget is asked
// (engine/run's TaskPromptsFit), is a RoomError too, its Budget 0: the
// same sentence, with how many tokens fewer it must be.
type RoomError struct {
	Who string // "teacher" or "student"
	// Dir is the model's folder, or how it is known where it has none;
	// "" says none.
	Dir string
	// Task is the task the question is of ("" for a data row's).
	Task     string
	Question string
	// Index is the question's place (from 1) among the Of questions a
	// command drew before it refuses them (rlt distill's, rlt eval's),
	// said beside it; 0 where it has none (a run's widest question, a
	// step's).
	Index, Of int
	// Prompt is the prompt's tokens, Positions the model's.
	Prompt, Positions int
	// Budget is the new tokens asked for, BudgetName what they are called.
	Budget     int
	BudgetName string
	// Shorten names what makes the prompt shorter.
	Shorten string
	// For is what the new tokens write ("an explanation" where empty).
	For string
	// Another names the flag that gives another model of this role
	// (rlt distill's --student-init, --reward-student), said as the other
	// way to make room: one of at least the prompt's tokens and the
	// budget's in positions. "" where none is offered.
	Another string
}

// Room is the most new tokens the prompt leaves room for (below 1: none).
func (e *RoomError) Room() int { return e.Positions - e.Prompt }

func (e *RoomError) Error() string {
	name := model.Name(e.Who, e.Dir)
	question := fmt.Sprintf("question %q", e.Question)
	if e.Index > 0 {
		question += fmt.Sprintf(" (%d of the %d drawn)", e.Index, e.Of)
	}
	if e.Task != "" {
		question = fmt.Sprintf("%s task's %s", e.Task, question)
	}
	what := e.For
	if what == "" {
		what = "an explanation"
	}
	another := ""
	if e.Another != "" {
		// A model that holds the prompt and the whole budget (the first
		// new token where none is asked).
		another = fmt.Sprintf(", or a %s of at least %d positions", e.Another, e.Prompt+max(e.Budget, 1))
	}
	if e.Room() < 1 {
		// How much shorter, as every such refusal says the length that
		// fits: one position short of them, for the first new token.
		fits := e.Positions - 1
		return (&model.PositionsError{Model: name, What: "its prompt for the " + question, Tokens: e.Prompt, Positions: e.Positions,
			Leave: what, Do: fmt.Sprintf("give a shorter %s, for a prompt of at most %d tokens (%d fewer)%s", e.Shorten, fits, e.Prompt-fits, another)}).Error()
	}
	return fmt.Sprintf("%s %d is more than the room for %s: %s: its prompt for the %s takes %d tokens, and with %s more that exceeds %s: lower %s to at most %d, or give a shorter %s%s",
		e.BudgetName, e.Budget, what, name, question, e.Prompt, e.BudgetName, model.ItsPositions(e.Positions), e.BudgetName, e.Room(), e.Shorten, another)
}
