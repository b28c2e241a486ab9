package chatml_test

import (
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
)

// The teacher's and student's prompts that engine/record writes are the
// chat that engine/tokenizer renders from the same messages: both write
// their turns with WriteTurn.
func TestRecordPromptsAreTokenizerChat(t *testing.T) {
	p := record.Prompts{TeacherSystem: "Teach: solution, then explanation.", StudentSystem: "Solve: thought, then solution."}
	q, s := "347+285=?", "632"
	teacher := tokenizer.RenderChatMLPrefill([]tokenizer.Message{{Role: "system", Content: p.TeacherSystem}, {Role: "user", Content: q}},
		record.TeacherPrefill(s))
	if got := p.TeacherPrompt(q, s); got != teacher {
		t.Errorf("TeacherPrompt %q, the tokenizer's chat %q", got, teacher)
	}
	student := tokenizer.RenderChatMLPrefill([]tokenizer.Message{{Role: "system", Content: p.StudentSystem}, {Role: "user", Content: q}},
		record.BeginThought)
	if got := p.StudentParts(q).Prefix; got != student {
		t.Errorf("StudentParts' prefix %q, the tokenizer's chat %q", got, student)
	}
}
