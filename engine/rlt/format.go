// Package rlt is the Reinforcement-Learned Teachers method of
// ../shared/RLT.md: the teacher and student prompt formats, explanation
// extraction, and the dense reward (r_SS from the student's log-probs of the
// solution, r_KL from how natural each explanation token is to a student who
// does not know the answer), computed with every per-token array kept.
package rlt

import (
	"fmt"
	"strings"
)

// The tags of RLT.md §2.
const (
	BeginSolution    = "<|begin_of_solution|>"
	EndSolution      = "<|end_of_solution|>"
	BeginExplanation = "<|begin_of_explanation|>"
	EndExplanation   = "<|end_of_explanation|>"
	BeginThought     = "<|begin_of_thought|>"
	EndThought       = "<|end_of_thought|>"
	ImStart          = "<|im_start|>"
	ImEnd            = "<|im_end|>"
	EndOfText        = "<|endoftext|>"
)

// Tags lists every tag that must not appear inside a question or solution:
// it would change the meaning of the prompt it is put into.
var Tags = []string{BeginSolution, EndSolution, BeginExplanation, EndExplanation, BeginThought, EndThought, ImStart, ImEnd, EndOfText}

// Our system prompts, written for this project with the structure RLT.md §2
// describes: the teacher writes a solution section then an explanation
// section; the student writes a thought section then a solution section.
const (
	DefaultTeacherSystem = "You are a teacher. You are given a question and its correct solution. " +
		"Write the solution between " + BeginSolution + " and " + EndSolution + ", then an explanation " +
		"between " + BeginExplanation + " and " + EndExplanation + " that leads a student, step by step, " +
		"from the question to that solution without assuming it."
	DefaultStudentSystem = "You are a student. Think the question through between " + BeginThought + " and " +
		EndThought + ", then give the final answer between " + BeginSolution + " and " + EndSolution + "."
)

// Prompts holds the two system prompts (configurable; the tags are fixed).
type Prompts struct {
	TeacherSystem string `toml:"teacher_system"`
	StudentSystem string `toml:"student_system"`
}

// DefaultPrompts are the system prompts of a new run.
func DefaultPrompts() Prompts {
	return Prompts{TeacherSystem: DefaultTeacherSystem, StudentSystem: DefaultStudentSystem}
}

func turn(b *strings.Builder, role, content string, end bool) {
	b.WriteString(ImStart)
	b.WriteString(role)
	b.WriteString("\n")
	b.WriteString(content)
	if end {
		b.WriteString(ImEnd)
		b.WriteString("\n")
	}
}

// TeacherPrefill is the start of the teacher's assistant turn: the solution
// section and the opening of the explanation, which the teacher continues.
func TeacherPrefill(solution string) string {
	return BeginSolution + solution + EndSolution + "\n\n" + BeginExplanation + "\n\n"
}

// TeacherPrompt renders the teacher's ChatML context with the pre-filled
// assistant turn; the teacher generates what follows.
func (p Prompts) TeacherPrompt(question, solution string) string {
	var b strings.Builder
	turn(&b, "system", p.TeacherSystem, true)
	turn(&b, "user", question, true)
	turn(&b, "assistant", TeacherPrefill(solution), false)
	return b.String()
}

// StudentParts splits the student's context (RLT.md §2) around the
// explanation and the solution, so their tokens can be located exactly:
// Prefix + explanation + Middle + solution + Suffix.
type StudentParts struct {
	Prefix, Middle, Suffix string
}

// StudentParts returns the pieces of the student context for a question.
func (p Prompts) StudentParts(question string) StudentParts {
	var b strings.Builder
	turn(&b, "system", p.StudentSystem, true)
	turn(&b, "user", question, true)
	turn(&b, "assistant", BeginThought, false)
	return StudentParts{
		Prefix: b.String(),
		Middle: EndThought + "\n\n" + BeginSolution,
		Suffix: EndSolution + ImEnd,
	}
}

// StudentContext renders the whole student context.
func (p Prompts) StudentContext(question, explanation, solution string) string {
	s := p.StudentParts(question)
	return s.Prefix + explanation + s.Middle + solution + s.Suffix
}

// Extraction is an explanation taken out of a teacher's completion.
type Extraction struct {
	// Explanation is the text between the explanation tags, starting with
	// the "\n\n" of the prefill.
	Explanation string
	// Body is what the teacher wrote (Explanation without the prefill's "\n\n").
	Body string
	// Ended reports whether the teacher closed the explanation; without it
	// the reward carries the format penalty.
	Ended bool
}

// Extract takes the explanation out of a teacher's generated text (what
// followed the prefill): RLT.md §2. A missing end tag is supplied, and the
// explanation is scored anyway with the format penalty.
func Extract(generated string) Extraction {
	body, _, ended := strings.Cut(generated, EndExplanation)
	return Extraction{Explanation: "\n\n" + body, Body: body, Ended: ended}
}

// CheckText rejects a question or solution that would corrupt the prompt
// formats: one holding a tag, or an empty solution.
func CheckText(field, s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("%s is empty", field)
	}
	for _, t := range Tags {
		if strings.Contains(s, t) {
			return fmt.Errorf("%s contains the tag %s, which would change the prompt's structure; remove it", field, t)
		}
	}
	return nil
}
