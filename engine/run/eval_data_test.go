package run

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/task"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
	"github.com/rlt-workbench/rlt/engine/warmstart"
)

// TestStudentFitReasonBoundary: a student that solves a question by itself
// keeps a row whose prompt and max_new_tokens more take exactly its
// positions, and leaves out one a position over, in its own words, by the
// sampler's rule (rlt.Positions.Continues); a student whose positions are
// not known (0) leaves none out, where every row was "too long" for it.
func TestStudentFitReasonBoundary(t *testing.T) {
	tok, err := tokenizer.Load(filepath.Join(defaultStudent, hf.TokenizerFile))
	if err != nil {
		t.Fatal(err)
	}
	p := warmstart.ShortPrompts()
	ex := task.Example{Question: "12+34=?", Solution: "46"}
	n := len(rlt.SolvePrompt(tok, p, ex.Question))
	const maxNew = 16
	for _, c := range []struct {
		name   string
		maxPos int
		reason string // "" = kept
	}{
		{"exactly fits", n + maxNew, ""},
		{"one over", n + maxNew - 1, fmt.Sprintf("too long for the student: its prompt takes %d tokens, and with max_new_tokens = %d more that exceeds its %d positions (max_position_embeddings) by 1", n, maxNew, n+maxNew-1)},
		{"positions not known", 0, ""},
	} {
		if got := StudentFitReason(tok, p, maxNew, c.maxPos)(ex); got != c.reason {
			t.Errorf("%s (a prompt of %d tokens, %d positions): %q, want %q", c.name, n, c.maxPos, got, c.reason)
		}
	}
}

// TestFitReasonSaysThePositions: a data row left out for either model's
// positions says which model and its positions as every refusal past them
// says it (model.Name, model.ItsPositions: "its 256 positions
// (max_position_embeddings)"), and by how much, where it said "the
// teacher's 256 positions" without the key that sets them.
func TestFitReasonSaysThePositions(t *testing.T) {
	tok, err := tokenizer.Load(filepath.Join(defaultStudent, hf.TokenizerFile))
	if err != nil {
		t.Fatal(err)
	}
	p := warmstart.ShortPrompts()
	ex := task.Example{Question: "12+34=?", Solution: "46"}
	teacher, student := rlt.PromptLengths(tok, p, ex.Question, ex.Solution)
	const maxNew = 16
	for _, c := range []struct {
		name   string
		pos    rlt.Positions
		reason string // "" = kept
	}{
		{"both fit exactly", rlt.Positions{Teacher: teacher + maxNew, Student: student + maxNew}, ""},
		{"the teacher's one over", rlt.Positions{Teacher: teacher + maxNew - 1, Student: student + maxNew},
			fmt.Sprintf("too long for the teacher: its prompt takes %d tokens, and with max_new_tokens = %d more that exceeds its %d positions (max_position_embeddings) by 1", teacher, maxNew, teacher+maxNew-1)},
		{"the student's one over", rlt.Positions{Teacher: teacher + maxNew, Student: student + maxNew - 1},
			fmt.Sprintf("too long for the student: its prompt takes %d tokens, and with max_new_tokens = %d more that exceeds its %d positions (max_position_embeddings) by 1", student, maxNew, student+maxNew-1)},
	} {
		if got := FitReason(tok, p, maxNew, c.pos)(ex); got != c.reason {
			t.Errorf("%s (prompts of %d and %d tokens, positions %+v): %q, want %q", c.name, teacher, student, c.pos, got, c.reason)
		}
	}
}
