package task

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/rlt-workbench/rlt/engine/record"
)

func TestReadJSONLTestdata(t *testing.T) {
	f, err := os.Open("testdata/rows.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	exs, rep, err := ReadJSONL(f)
	if err != nil {
		t.Fatal(err)
	}
	wantSkips := []Skip{
		{Line: 4, Reason: `not JSON: it ends before its JSON is complete; want one JSON object a line, such as {"question": "347+285=?", "solution": "632"}`},
		{Line: 5, Reason: "not a JSON object"},
		{Line: 6, Reason: `missing field "question" (or "prompt")`},
		{Line: 7, Reason: `missing field "solution"`},
		{Line: 8, Reason: "empty solution"},
		{Line: 9, Reason: "question contains reserved tag <|begin_of_solution|>"},
		{Line: 10, Reason: "solution contains reserved tag <|im_end|>"},
		{Line: 11, Reason: `field "solution" is not a string`},
		{Line: 13, Reason: "assistant turn: no <|begin_of_solution|>…<|end_of_solution|> section"},
		{Line: 14, Reason: "conversations: no user turn"},
		{Line: 15, Reason: `fields "question" and "prompt" both present and different`},
		{Line: 16, Reason: "reasoning_trace contains reserved tag <|end_of_thought|>"},
	}
	if !reflect.DeepEqual(rep.Skipped, wantSkips) {
		t.Errorf("skipped:\n%v\nwant:\n%v", rep.Skipped, Report{Skipped: wantSkips})
	}
	if rep.Rows != 17 || rep.Kept != 5 {
		t.Errorf("report %d rows, %d kept; want 17, 5", rep.Rows, rep.Kept)
	}
	wantEx := []Example{
		{ID: "row1", Line: 1, Question: "347+285=?", Solution: "632", Reference: "7+5=12 w2 c1; 4+8+1=13 w3 c1; 3+2+1=6 w6 c0; ans 632"},
		{ID: "row2", Line: 2, Question: "3x+5=20, x=?", Solution: "5"},
		{ID: "row12", Line: 12, Question: "12+34=?", Solution: "46", Reference: "4+2=6 w6 c0; 3+1=4 w4 c0; ans 46"},
		{ID: "custom-1", Line: 17, Question: "1+2=?", Solution: "3"},
		{ID: "row18", Line: 18, Question: "56+78=?", Solution: "134"},
	}
	if !reflect.DeepEqual(exs, wantEx) {
		t.Errorf("examples:\n%+v\nwant\n%+v", exs, wantEx)
	}
	if s := rep.String(); !strings.Contains(s, "line 9: question contains reserved tag") {
		t.Errorf("report string %q", s)
	}
	// The kept rows verify with the tasks they belong to.
	if v := DefaultAddition().VerifyExplanation(exs[0].Question, exs[0].Reference); !v.Clean() {
		t.Errorf("row 1 trace: %v", v)
	}
}

func TestReadJSONLEdgeCases(t *testing.T) {
	tests := []struct {
		name, in string
		kept     int
		skips    []int
	}{
		{"empty input", "", 0, nil},
		{"no final newline", `{"question":"1+2=?","solution":"3"}`, 1, nil},
		{"BOM and CRLF", "\xef\xbb\xbf{\"question\":\"1+2=?\",\"solution\":\"3\"}\r\n\r\n{\"prompt\":\"q\",\"solution\":\"s\"}\r\n", 2, nil},
		{"blank lines keep numbering", "\n\n{\"solution\":\"3\"}\n", 0, []int{3}},
		{"null is absent", `{"question":"q","solution":null}`, 0, []int{1}},
		{"json null row", "null", 0, []int{1}},
		{"trailing garbage", `{"question":"q","solution":"s"} x`, 0, []int{1}},
		{"conversations not a list", `{"conversations":"hi"}`, 0, []int{1}},
		{"same question and prompt", `{"question":"q","prompt":" q ","solution":"s"}`, 1, nil},
		{"gpt/human names", `{"conversations":[{"from":"human","value":"q"},{"from":"gpt","value":"<|begin_of_solution|>s<|end_of_solution|>"}]}`, 1, nil},
		{"text after solution", `{"conversations":[{"from":"user","value":"q"},{"from":"assistant","value":"<|begin_of_solution|>s<|end_of_solution|> more"}]}`, 0, []int{1}},
		{"unterminated thought", `{"conversations":[{"from":"user","value":"q"},{"from":"assistant","value":"<|begin_of_thought|>e<|begin_of_solution|>s<|end_of_solution|>"}]}`, 0, []int{1}},
		{"tag in user turn", `{"conversations":[{"from":"user","value":"q<|im_start|>"},{"from":"assistant","value":"<|begin_of_solution|>s<|end_of_solution|>"}]}`, 0, []int{1}},
		{"long line", `{"question":"` + strings.Repeat("1", 200000) + `","solution":"s"}`, 1, nil},
	}
	for _, tc := range tests {
		exs, rep, err := ReadJSONL(strings.NewReader(tc.in))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var lines []int
		for _, s := range rep.Skipped {
			lines = append(lines, s.Line)
		}
		if len(exs) != tc.kept || rep.Kept != tc.kept || !reflect.DeepEqual(lines, tc.skips) {
			t.Errorf("%s: kept %d, skipped %v; want %d, %v", tc.name, len(exs), rep.Skipped, tc.kept, tc.skips)
		}
	}
	_, _, err := ReadJSONL(iotest.ErrReader(errors.New("disk on fire")))
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("I/O error not returned: %v", err)
	}
}

func TestStratosRoundTrip(t *testing.T) {
	var exs []Example
	for _, tk := range allTasks() {
		exs = append(exs, NewSampler(tk, Train, 8).Take(50)...)
	}
	// Explanations are kept verbatim, including white space and quotes.
	exs = append(exs,
		Example{Question: "q with \"quotes\" and\nnewline", Solution: "s", Reference: "\n\n  spaced <b>html</b> \\ \u00e9\n\n"},
		Example{Question: "no trace", Solution: "42"},
	)
	var buf bytes.Buffer
	if err := WriteStratos(&buf, "You are a student. Think, then answer.", exs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"value":"<|begin_of_thought|>`) || strings.Contains(buf.String(), `\u003c`) {
		t.Fatalf("rows should carry the tags literally:\n%s", buf.String()[:300])
	}
	first, _, _ := strings.Cut(buf.String(), "\n")
	wantFirst := `{"system":"You are a student. Think, then answer.","conversations":[{"from":"user","value":"` + exs[0].Question +
		`"},{"from":"assistant","value":"<|begin_of_thought|>\n\n` + exs[0].Reference + `<|end_of_thought|>\n\n<|begin_of_solution|>` +
		exs[0].Solution + `<|end_of_solution|>"}]}`
	if first != wantFirst {
		t.Fatalf("first row\n%s\nwant\n%s", first, wantFirst)
	}
	got, rep, err := ReadJSONL(&buf)
	if err != nil || len(rep.Skipped) != 0 {
		t.Fatalf("read back: %v %v", err, rep)
	}
	if len(got) != len(exs) {
		t.Fatalf("read %d rows, wrote %d", len(got), len(exs))
	}
	for i := range exs {
		w := exs[i]
		g := got[i]
		if g.Question != w.Question || g.Solution != w.Solution || g.Reference != w.Reference {
			t.Errorf("row %d: got %+v, want %+v", i, g, w)
		}
	}
}

// Warm-start corpora written in every style survive the round trip too.
func TestWriteStratosRejects(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteStratos(iotest.TruncateWriter(&buf, 0), "s", []Example{{Question: "q<|im_end|>", Solution: "s"}}); err == nil {
		t.Error("WriteStratos accepted a tagged question")
	}
}

func TestStratosStyledCorpus(t *testing.T) {
	tk := DefaultAddition()
	m, _ := NewMixture(tk.Styles(), DefaultMixture())
	rng := rand.New(rand.NewPCG(3, 3))
	var buf bytes.Buffer
	sw := record.NewStratosWriter(&buf, "sys")
	var want []string
	for _, ex := range NewSampler(tk, Train, 4).Take(100) {
		_, expl := m.Explain(ex, rng)
		want = append(want, expl)
		if err := sw.Write(ex.Question, expl, ex.Solution); err != nil {
			t.Fatal(err)
		}
	}
	got, rep, err := ReadJSONL(&buf)
	if err != nil || rep.Kept != 100 {
		t.Fatalf("%v %v", err, rep)
	}
	for i := range got {
		if got[i].Reference != want[i] {
			t.Fatalf("row %d: %q, want %q", i, got[i].Reference, want[i])
		}
	}
}

// TestReadJSONLInParallelKeepsTheFile: rows parsed on several cores come
// back in the file's order with their own line numbers, the skipped ones
// too, as one row after another would give them (blank lines, a byte
// order mark, CRLF endings and broken rows spread through the file).
func TestReadJSONLInParallelKeepsTheFile(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	var b strings.Builder
	b.WriteString("\xef\xbb\xbf")
	var want []Skip
	var kept []string
	for line := 1; line <= 3000; line++ {
		switch {
		case line%97 == 0:
			b.WriteString("\n") // blank: not a row
			continue
		case line%89 == 0:
			b.WriteString("{not json\r\n")
			want = append(want, Skip{Line: line})
			continue
		case line%83 == 0:
			fmt.Fprintf(&b, `{"question": "q%d"}`+"\n", line)
			want = append(want, Skip{Line: line})
			continue
		}
		fmt.Fprintf(&b, `{"question": "what is row %d?", "solution": "s%d"}`+"\r\n", line, line)
		kept = append(kept, fmt.Sprintf("what is row %d?", line))
	}
	exs, rep, err := ReadJSONL(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Kept != len(kept) || rep.Rows != len(kept)+len(want) || len(exs) != len(kept) {
		t.Fatalf("report %d rows, %d kept, %d examples; want %d, %d", rep.Rows, rep.Kept, len(exs), len(kept)+len(want), len(kept))
	}
	for i, ex := range exs {
		if ex.Question != kept[i] || ex.ID != fmt.Sprintf("row%d", ex.Line) || !strings.Contains(ex.Question, fmt.Sprintf(" %d?", ex.Line)) {
			t.Fatalf("example %d: %+v, want %q on its own line", i, ex, kept[i])
		}
	}
	if len(rep.Skipped) != len(want) {
		t.Fatalf("%d skipped, want %d", len(rep.Skipped), len(want))
	}
	for i, s := range rep.Skipped {
		if s.Line != want[i].Line || s.Reason == "" {
			t.Errorf("skip %d: %v, want line %d with a reason", i, s, want[i].Line)
		}
	}
}
