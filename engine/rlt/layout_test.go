package rlt

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
)

// stringsTokenizer is a Qwen2 vocabulary whose tags are plain text, as in
// Qwen's own: its BPE merges ">" and "\n" across a tag's edge.
const stringsTokenizer = "../tokenizer/testdata/qwen2_strings.json"

func loadTok(t *testing.T, path string) *tokenizer.Tokenizer {
	t.Helper()
	tok, err := tokenizer.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestLayoutAcrossMergedTags: with tags in plain text, each sequence is its
// whole text as the tokenizer encodes it (the teacher's begins with the
// prompt it sampled after), T is the same ids in both and spells the
// explanation less what a merge joined to a tag, and S the solution's.
func TestLayoutAcrossMergedTags(t *testing.T) {
	tok := loadTok(t, stringsTokenizer)
	p := record.Prompts{TeacherSystem: "Explain.", StudentSystem: "Think."}
	for _, c := range []struct {
		name, question, solution, body string
		explLost                       int // bytes of "\n\n"+body that no token of T holds
		solEdge                        int // bytes of the solution's opening tag that a token of S holds
	}{
		{"plain", "347+285=?", "632", "First add. Then carry.", 1, 0},
		{"empty body", "1+1=?", "2", "", 1, 0},
		{"solution after a newline", "x?", "\n\nx = 5", "Solve it.", 1, 1},
	} {
		l := ItemLayout(tok, p, c.question, c.solution, c.body)
		if !l.Whole {
			t.Fatalf("%s: laid out part by part", c.name)
		}
		teacherText := p.TeacherPrompt(c.question, c.solution) + c.body + record.EndExplanation
		if want := tok.Encode(teacherText); !slices.Equal(l.Teacher, want[:len(l.Teacher)]) {
			t.Errorf("%s: teacher sequence %v is not the start of its text's tokens %v", c.name, l.Teacher, want)
		}
		if sampled := tok.Encode(p.TeacherPrompt(c.question, c.solution)); !slices.Equal(l.Teacher[:len(sampled)], sampled) {
			t.Errorf("%s: the teacher's sequence does not begin with the prompt it sampled after (%v)", c.name, sampled)
		}
		if want := tok.Encode(p.StudentContext(c.question, c.body, c.solution)); !slices.Equal(l.Student.IDs, want) {
			t.Errorf("%s: student sequence %v, its text encodes to %v", c.name, l.Student.IDs, want)
		}
		if got := l.Teacher[l.TeacherT:]; !slices.Equal(got, l.T) || !slices.Equal(l.Student.IDs[l.Student.Expl.Start:l.Student.Expl.End], l.T) {
			t.Errorf("%s: T differs: teacher %v, student %v, T %v", c.name, got, l.Student.IDs[l.Student.Expl.Start:l.Student.Expl.End], l.T)
		}
		expl := record.ExplanationLead + c.body
		if got := tok.Decode(l.T); got != expl[c.explLost:] {
			t.Errorf("%s: T spells %q, want %q", c.name, got, expl[c.explLost:])
		}
		// S holds every byte of the solution, and of its tags only what a
		// token merged with it (solEdge bytes of the opening tag).
		if got, want := tok.Decode(l.S), record.BeginSolution[len(record.BeginSolution)-c.solEdge:]+c.solution; got != want {
			t.Errorf("%s: S spells %q, want %q", c.name, got, want)
		}
		// What the student continues to reconstruct ends at its solution tag.
		sp := p.StudentParts(c.question)
		if want := tok.Encode(sp.Prefix + expl + sp.Middle); !slices.Equal(l.Student.Prompt, want) {
			t.Errorf("%s: reconstruction prompt %v, want %v", c.name, l.Student.Prompt, want)
		}
		if got := tok.Decode(l.Student.IDs[l.Student.Reply:]); !strings.HasPrefix(got, record.BeginThought) {
			t.Errorf("%s: the reply starts at %q", c.name, got)
		}
	}
}

// TestLayoutNormalizes: a body not in NFC is laid out whole, as the
// model reads it (in NFC): T is the normalized body's tokens.
func TestLayoutNormalizes(t *testing.T) {
	tok := loadTok(t, stringsTokenizer)
	p := record.Prompts{TeacherSystem: "Explain.", StudentSystem: "Think."}
	l := ItemLayout(tok, p, "q?", "3", "Cafe\u0301 costs 3.")
	if !l.Whole {
		t.Fatal("a body not in NFC was laid out part by part")
	}
	if got := tok.Decode(l.T); !strings.HasSuffix(got, "Caf\u00e9 costs 3.") {
		t.Errorf("T spells %q", got)
	}
}

// TestLayoutPartByPart: where the tokenizer cannot place its tokens in the
// text (an added token that takes the spaces before it), every part is
// encoded on its own: T is the lead's tokens, then the body's.
func TestLayoutPartByPart(t *testing.T) {
	data, err := os.ReadFile(stringsTokenizer)
	if err != nil {
		t.Fatal(err)
	}
	stripping := bytes.Replace(data, []byte(`"content":"<|im_end|>","single_word":false,"lstrip":false`), []byte(`"content":"<|im_end|>","single_word":false,"lstrip":true`), 1)
	if bytes.Equal(stripping, data) {
		t.Fatal("no <|im_end|> added token to make lstrip")
	}
	tok, err := tokenizer.Parse(stripping)
	if err != nil {
		t.Fatal(err)
	}
	p := record.Prompts{TeacherSystem: "Explain. ", StudentSystem: "Think. "} // a space before <|im_end|>
	body := "First add."
	l := ItemLayout(tok, p, "q?", "3", body)
	if l.Whole {
		t.Fatal("a text whose spaces an added token takes was laid out whole")
	}
	want := append(tok.Encode(record.ExplanationLead), tok.Encode(body)...)
	if !slices.Equal(l.T, want) || !slices.Equal(l.Teacher[l.TeacherT:], want) {
		t.Errorf("T %v (teacher's %v), want the parts' %v", l.T, l.Teacher[l.TeacherT:], want)
	}
	if head := tok.Encode(p.TeacherHead("q?", "3")); !slices.Equal(l.Teacher[:l.TeacherT], head) {
		t.Errorf("teacher head %v, want %v", l.Teacher[:l.TeacherT], head)
	}
	if !slices.Equal(l.S, tok.Encode("3")) {
		t.Errorf("S %v", l.S)
	}
}

// TestLayoutAddedTags: where the tags are added tokens (the embedded
// vocabulary), nothing merges across them, and the whole text's tokens
// are the parts' own.
func TestLayoutAddedTags(t *testing.T) {
	tok := loadTok(t, pairsTokenizer)
	p := record.Prompts{TeacherSystem: "Explain.", StudentSystem: "Think."}
	for _, body := range []string{"7+5=12 w2 c1", "", "First, add.\n\nThen carry!"} {
		l := ItemLayout(tok, p, "347+285=?", "632", body)
		if !l.Whole {
			t.Fatalf("%q: laid out part by part", body)
		}
		tc := encodeEach(tok, teacherText(p, "347+285=?", "632", body))
		sc := encodeEach(tok, studentText(p, "347+285=?", body, "632"))
		if want := tc.ids(tc.within(teacherLead, teacherBody)); !slices.Equal(l.T, want) {
			t.Errorf("%q: T %v, the parts' %v", body, l.T, want)
		}
		if !slices.Equal(l.Student.IDs, sc.tokens) || !slices.Equal(l.Teacher, tc.tokens[:len(l.Teacher)]) {
			t.Errorf("%q: the whole text's tokens differ from the parts'", body)
		}
	}
}

// TestSolvePromptStartsTheTrainingSequence: what a student continues to
// solve a question by itself is the start of the sequences it was trained
// on, through the lead, also where the tag's end merges with the lead
// (the context up to the tag alone ends in a token those never hold there).
func TestSolvePromptStartsTheTrainingSequence(t *testing.T) {
	p := record.Prompts{TeacherSystem: "Explain.", StudentSystem: "Think."}
	for _, path := range []string{stringsTokenizer, pairsTokenizer} {
		tok := loadTok(t, path)
		seq := StudentLayout(tok, p, "347+285=?", "First add the ones.", "632").IDs
		prompt := SolvePrompt(tok, p, "347+285=?")
		if len(prompt) > len(seq) || !slices.Equal(seq[:len(prompt)], prompt) {
			t.Errorf("%s: the solve prompt %v does not start the training sequence %v", path, prompt, seq)
		}
		if got := tok.Decode(seq[len(prompt):]); !strings.HasPrefix(got, "First add") {
			t.Errorf("%s: after the prompt the sequence holds %q", path, got)
		}
	}
}
