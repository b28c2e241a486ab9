package sessions

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportSaysARowFixOnce: rlt import of a traces file whose rows have
// a shape the jq in the refusal rewrites (GSM8K's "answer" for
// "solution", verl's chat-turn "prompt") says that jq once, at the first
// such row, with the file's path quoted and the file beside it to write,
// as rlt train's data file (task.ReadFile) says it. It was said at every
// row, with FILE and rows.jsonl.
func TestImportSaysARowFixOnce(t *testing.T) {
	src := filepath.Join(t.TempDir(), "it's traces.jsonl")
	good := `{"question": "1+2=?", "solution": "3", "explanation": "one and two"}`
	gsm := `{"question": "2+2=?", "answer": "4", "explanation": "two and two"}`
	verl := `{"prompt": [{"role": "user", "content": "3+3=?"}], "solution": "6", "explanation": "three"}`
	rows := strings.Join([]string{good, gsm, gsm, verl, gsm, verl}, "\n") + "\n"
	if err := os.WriteFile(src, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Import(filepath.Join(t.TempDir(), "run"), src)
	if err != nil {
		t.Fatal(err)
	}
	in, out := ShellQuote(src), ShellQuote(strings.TrimSuffix(src, ".jsonl")+"-fixed.jsonl")
	gsmFix := `: if that is its solution, name it "solution" (jq -c '.solution = .answer' ` + in + " > " + out + " writes every row so)"
	verlFix := ` (a verl file's rows, as JSON Lines: jq -c '{question: .prompt[-1].content, solution: (.reward_model.ground_truth | tostring)}' ` + in + " > " + out + ")"
	missing := `missing field "solution"; the row has "answer"`
	chat := `field "prompt" is a list of chat turns (verl's and TRL's layout); a row's question is text, beside its solution: {"question": "347+285=?", "solution": "632"}`
	want := []string{
		"it's traces.jsonl:2: " + missing + gsmFix,
		"it's traces.jsonl:3: " + missing,
		"it's traces.jsonl:4: " + chat + verlFix,
		"it's traces.jsonl:5: " + missing,
		"it's traces.jsonl:6: " + chat,
	}
	var got []string
	for _, s := range rep.Skip {
		got = append(got, s.String())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("left out:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
