package task

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/shell"
)

func TestDetect(t *testing.T) {
	for q, want := range map[string]string{
		"347+285=?":           "addition",
		" 12 + 34 = ?":        "addition",
		"3x+5=20, x=?":        "linear",
		"Capital of France?":  "",
		"1+2+3=?":             "",
		"":                    "",
		"\t347\n+\r285 =\t?":  "addition",
		"347+285=?\u00a0":     "", // a blank that is not ASCII is a character
		"３４７+285=?":           "", // digits that are not ASCII
		"-3x + 5 = 20, x = ?": "",
		"3x - 5 = 16, x = ?":  "linear",
		"x+5=20":              "linear",
		"x+5=20 apples":       "",
		"347+285=? sum":       "",
	} {
		got := ""
		if tk, ok := Detect(q); ok {
			got = tk.Name()
		}
		if got != want {
			t.Errorf("Detect(%q) = %q, want %q", q, got, want)
		}
	}
}

func writeData(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "data.jsonl")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadFile(t *testing.T) {
	p := writeData(t, `{"question":"12+34=?","solution":"46"}
{"question":"12+34=?","solution":"47"}
{"prompt":"Capital of France?","solution":"Paris"}

{"question":"3x+5=20, x=?","solution":" 5 "}
{"question":"3x+5=20, x=?","solution":"x=5"}
{"question":"q","solution":"<|im_end|>"}
`)
	f, err := ReadFile("data", p)
	if err != nil {
		t.Fatal(err)
	}
	wantSkips := []Skip{
		{Line: 2, Reason: `solution "47" is not the answer to this addition question`},
		{Line: 7, Reason: "solution contains reserved tag <|im_end|>"},
	}
	if !reflect.DeepEqual(f.Report.Skipped, wantSkips) || f.Report.Rows != 6 || f.Report.Kept != 4 {
		t.Errorf("report %+v; want rows 6, kept 4, skips %v", f.Report, wantSkips)
	}
	var got []string
	for _, ex := range f.Examples {
		got = append(got, ex.Task+"@"+ex.Question)
		if ex.Line == 0 {
			t.Errorf("no line for %+v", ex)
		}
	}
	want := []string{"addition@12+34=?", "@Capital of France?", "linear@3x+5=20, x=?", "linear@3x+5=20, x=?"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("examples %q, want %q", got, want)
	}
	if len(f.SHA256) != 64 {
		t.Errorf("digest %q", f.SHA256)
	}
	if s := f.Report.Summary(1); s != `6 rows, 4 kept, 2 skipped: line 2: solution "47" is not the answer to this addition question; and 1 more` {
		t.Errorf("summary %q", s)
	}
}

func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content string // content "" with name "missing": no file
		want          []string
	}{
		// With what to give: it was "data FILE: file does not exist" alone.
		{"missing", "", []string{"file does not exist: give a JSON Lines file, one row a line: {\"question\": …, \"solution\": …}", "(docs/formats.md, User data)"}},
		{"empty", "\n\n", []string{"no rows", "empty"}},
		{"JSON array", "[\n  {\"question\": \"1+2=?\", \"solution\": \"3\"},\n  {\"question\": \"2+2=?\", \"solution\": \"4\"}\n]\n",
			[]string{"one JSON array over 4 lines, not JSON Lines: write one object a line (e.g. jq -c '.[]' "}},
		{"JSON array on one line", `[{"question": "1+2=?", "solution": "3"}, {"question": "2+2=?", "solution": "4"}]`,
			[]string{"one JSON array on one line, not JSON Lines: write one object a line (e.g. jq -c '.[]' "}},
		{"pretty object", "{\n  \"question\": \"1+2=?\",\n  \"solution\": \"3\"\n}\n", []string{"one JSON object over 4 lines, not JSON Lines"}},
		{"CSV", "question,solution\n1+2=?,3\n", []string{"this is CSV, not JSON Lines", `{"question": …, "solution": …}`}},
		{"TSV", "question\tsolution\n1+2=?\t3\n", []string{"this is CSV, not JSON Lines"}},
		{"plain text", "what is 1+2\nfour\n", []string{"not JSON Lines: none of its 2 lines is a JSON object (line 1: not JSON"}},
		// A run configuration given as --data: said as not JSON Lines, once,
		// not as each of its lines' syntax errors.
		{"TOML", "teacher = ''\nsteps = 0\n\n[grpo]\nlr = 0.0001\n", []string{"not JSON Lines: none of its 4 lines is a JSON object (line 1: not JSON", `{"question": …, "solution": …}`}},
		{"text and a JSON list", "what is 1+2\n[1]\n", []string{"not JSON Lines: none of its 2 lines is a JSON object"}},
		{"one line of text", "what is 1+2\n", []string{"no usable rows: 1 row, 0 kept, 1 skipped", "line 1: not JSON"}},
		// One row is "1 row", not "1 rows".
		{"one row skipped", `{"question":"1+2=?"}` + "\n", []string{"no usable rows: 1 row, 0 kept, 1 skipped: line 1: missing field \"solution\""}},
		{"all skipped", `{"question":"1+2=?","solution":""}` + "\n" + `{"question":"1+2=?"}` + "\n",
			[]string{"2 rows, 0 kept, 2 skipped", "line 1: empty solution", `line 2: missing field "solution"`}},
		// A weights file given as --data: its header's commas made it "CSV".
		{"binary", "\x00\x01\x02\xff\n", []string{"this is not text (a weights or other binary file?), not JSON Lines"}},
		{"safetensors", "\x3a\x00\x00\x00\x00\x00\x00\x00{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}\x00\x00\x00\x00",
			[]string{"this is not text (a weights or other binary file?), not JSON Lines"}},
		// verl's datasets are Parquet, and so is rlt export --format
		// parquet: said as a binary file, or (no NUL in its first bytes)
		// as its first line not JSON.
		{"Parquet", "PAR1\x15\x04\x15\x10\x15\x14L\x15\x02\x15\x00\x12\x00\x00\x08\x1c\x01\x00\x00\x00PAR1",
			[]string{"this is a Parquet file, not JSON Lines: write it as JSON Lines, one row a line (e.g. python3 -c \"import pandas as p, sys; p.read_parquet(sys.argv[1])", "export it again with --format messages"}},
		{"Parquet without a NUL", "PAR1\x15\x04\x15\x10LPAR1", []string{"this is a Parquet file, not JSON Lines"}},
		{"UTF-16", "\xff\xfe{\x00\"\x00q\x00\"\x00}\x00\n\x00", []string{"this is UTF-16 text, not UTF-8: save it as UTF-8"}},
		{"Latin-1", "{\"question\":\"caf\xe9\",\"solution\":\"3\"}\n", []string{"no usable rows", "line 1: not UTF-8"}},
	}
	for _, tc := range tests {
		p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".jsonl")
		if tc.name != "missing" {
			os.WriteFile(p, []byte(tc.content), 0o644)
		}
		_, err := ReadFile("data", p)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		for _, w := range append(tc.want, p) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tc.name, err, w)
			}
		}
		// What a row is is said once, not in a line's reason and again.
		if strings.Count(err.Error(), "one JSON object a line") > 1 {
			t.Errorf("%s: error %q says what a row is twice", tc.name, err)
		}
	}
	if _, err := ReadFile("data", dir); err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "is a folder") {
		t.Errorf("a directory: %v", err)
	}
}

// A row fix, the jq that rewrites every row of a file of another dataset's
// shape (GSM8K's "answer" for "solution", verl's chat-turn "prompt"), is
// said once for the file and with its path, quoted as a shell word, the
// output beside it: each listed line had it, with FILE for the path.
func TestReadFileSaysARowFixOnce(t *testing.T) {
	dir := t.TempDir()
	gsm8k := `{"question": "What is 2 plus 2?", "answer": "2 + 2 = 4 #### 4"}` + "\n"
	verl := `{"prompt": [{"role": "user", "content": "What is 2 plus 3?"}], "reward_model": {"ground_truth": "5"}}` + "\n"
	for _, c := range []struct {
		name, rows string
		fix        func(in, out string) string
	}{
		{"GSM8K", strings.Repeat(gsm8k, 6), func(in, out string) string {
			return `line 1: missing field "solution"; the row has "answer": if that is its solution, name it "solution" (jq -c '.solution = .answer' ` + in + " > " + out +
				` writes every row so); line 2: missing field "solution"; the row has "answer"; line 3: missing field "solution"; the row has "answer"; line 4: missing field "solution"; the row has "answer"; line 5: missing field "solution"; the row has "answer"; and 1 more`
		}},
		{"verl", verl + gsm8k + verl, func(in, out string) string {
			return `line 1: field "prompt" is a list of chat turns (verl's and TRL's layout); a row's question is text, beside its solution: ` + record.RowExample +
				` (a verl file's rows, as JSON Lines: jq -c '{question: .prompt[-1].content, solution: (.reward_model.ground_truth | tostring)}' ` + in + " > " + out +
				`); line 2: missing field "solution"; the row has "answer": if that is its solution, name it "solution" (jq -c '.solution = .answer' ` + in + " > " + out +
				` writes every row so); line 3: field "prompt" is a list of chat turns (verl's and TRL's layout); a row's question is text, beside its solution: ` + record.RowExample
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name+" rows.jsonl")
			if err := os.WriteFile(path, []byte(c.rows), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadFile("data", path)
			want := c.fix(shell.Quote(path), shell.Quote(filepath.Join(dir, c.name+" rows-fixed.jsonl")))
			if err == nil || !strings.HasSuffix(err.Error(), want) {
				t.Errorf("ReadFile: %v\nwant it to end %q", err, want)
			}
			// A reader of no file says FILE, as often as the file has
			// shapes of rows to fix.
			_, rep, err := ReadJSONL(strings.NewReader(c.rows))
			if err != nil {
				t.Fatal(err)
			}
			if got := rep.String(); strings.Count(got, " FILE > rows.jsonl") != strings.Count(want, " > ") {
				t.Errorf("ReadJSONL's report says FILE > rows.jsonl other than %d times:\n%s", strings.Count(want, " > "), got)
			}
		})
	}
}

func TestHoldOut(t *testing.T) {
	var exs []Example
	for i := 0; i < 40; i++ {
		exs = append(exs, Example{Question: string(rune('a'+i%26)) + strings.Repeat("?", i/26), Solution: "s", Line: i + 1})
	}
	// a+b and b+a are one question; so are spacing variants of a text.
	exs = append(exs, Example{Question: "12+34=?", Solution: "46", Line: 41}, Example{Question: "34+12=?", Solution: "46", Line: 42},
		Example{Question: "what  is\tit", Solution: "x", Line: 43}, Example{Question: "what is it", Solution: "x", Line: 44})
	train, held := HoldOut(exs, DataHeldOut)
	if len(train)+len(held) != len(exs) {
		t.Fatalf("%d + %d rows of %d", len(train), len(held), len(exs))
	}
	if k := len(Distinct(held)); k != 3 { // ceil(0.05 × 42 distinct questions)
		t.Errorf("%d held-out questions, want 3", k)
	}
	inTrain := map[string]bool{}
	for _, ex := range train {
		inTrain[QuestionKey(ex.Question)] = true
	}
	for _, ex := range held {
		if inTrain[QuestionKey(ex.Question)] {
			t.Errorf("held-out question %q is also trained on", ex.Question)
		}
	}
	// The split does not depend on the row order.
	rev := make([]Example, len(exs))
	for i, ex := range exs {
		rev[len(exs)-1-i] = ex
	}
	_, held2 := HoldOut(rev, DataHeldOut)
	if !reflect.DeepEqual(Distinct(held), Distinct(held2)) {
		t.Errorf("held out %v, reversed %v", Distinct(held), Distinct(held2))
	}
	for _, tc := range []struct{ rows, want int }{{1, 0}, {2, 1}, {3, 1}} {
		_, h := HoldOut(exs[:tc.rows], DataHeldOut)
		if len(h) != tc.want {
			t.Errorf("%d distinct questions: %d held out, want %d", tc.rows, len(h), tc.want)
		}
	}
	same := []Example{{Question: "1+2=?", Solution: "3"}, {Question: "2+1=?", Solution: "3"}}
	if tr, h := HoldOut(same, DataHeldOut); len(tr) != 2 || len(h) != 0 {
		t.Errorf("one question in two rows: %d trained, %d held out", len(tr), len(h))
	}
}

func TestCheckSolution(t *testing.T) {
	tests := []struct {
		ex     Example
		answer string
		want   bool
	}{
		{Example{Question: "12+34=?", Solution: "46", Task: "addition"}, " 46 ", true},
		{Example{Question: "12+34=?", Solution: "46", Task: "addition"}, "ans 46", true},
		{Example{Question: "12+34=?", Solution: "46", Task: "addition"}, "47", false},
		{Example{Question: "Capital of France?", Solution: "Paris"}, "paris.", true},
		{Example{Question: "Capital of France?", Solution: "Paris"}, "Lyon", false},
		{Example{Question: "Capital of France?", Solution: "Paris"}, "", false},
		{Example{Question: "x", Solution: "1,000"}, "1000", true},
	}
	for _, tc := range tests {
		if got := CheckSolution(tc.ex, tc.answer); got != tc.want {
			t.Errorf("CheckSolution(%+v, %q) = %v", tc.ex, tc.answer, got)
		}
	}
}

func TestReportDrop(t *testing.T) {
	r := Report{Rows: 4, Kept: 3, Skipped: []Skip{{Line: 2, Reason: "bad"}}}
	exs := []Example{{Line: 1, Question: "a"}, {Line: 3, Question: "b"}, {Line: 4, Question: "c"}}
	kept := r.Drop(exs, func(ex Example) string {
		if ex.Question == "a" {
			return "too long"
		}
		return ""
	})
	if len(kept) != 2 || exs[0].Question != "a" || r.Kept != 2 || !reflect.DeepEqual(r.Skipped, []Skip{{Line: 1, Reason: "too long"}, {Line: 2, Reason: "bad"}}) {
		t.Errorf("kept %v, report %+v", kept, r)
	}
}

// collapseSpace says a question as strings.Fields and Join would, in one
// pass: ASCII and Unicode blanks (no-break space, NEL, ideographic space),
// runs of them, blanks at either end, and bytes that are not UTF-8.
func FuzzCollapseSpace(f *testing.F) {
	for _, s := range []string{"", " ", "a", "  a  b\t\nc ", "a\u00a0b\u0085c\u3000d", "\xff \xfe\u2003x", "What is\r\n 2+2?\v\f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := collapseSpace(s), strings.Join(strings.Fields(s), " "); got != want {
			t.Errorf("collapseSpace(%q) = %q, want %q", s, got, want)
		}
	})
}

// TestReadFileLoneSurrogate: a data row (the --data, data and eval_data
// files) whose text holds a lone UTF-16 surrogate escape was kept, read as
// U+FFFD, a question the file does not hold, which Python's tools refuse;
// now it is left out with its line and the escape named
// (jsonerr.Surrogates' words, through record.ParseRow), and a file of no
// other row is refused with it.
func TestReadFileLoneSurrogate(t *testing.T) {
	const why = `, half of a UTF-16 surrogate pair without its other half: no character, which Hugging Face tokenizers refuses (Python reads it but cannot encode it as UTF-8); write the character itself, or both halves of its pair (\ud83d\ude00 for U+1F600)`
	p := writeData(t, `{"question":"Capital of France?","solution":"Paris"}
{"question":"caf\udce9?","solution":"x"}
{"question":"smile \ud83d\ude00?","solution":"y"}
{"conversations":[{"from":"user","value":"q"},{"from":"assistant","value":"<|begin_of_solution|>\uDBFF<|end_of_solution|>"}]}
{"id":"a\udc00","question":"q","solution":"z"}
`)
	f, err := ReadFile("data", p)
	if err != nil {
		t.Fatal(err)
	}
	want := []Skip{{Line: 2, Reason: `field "question" holds \udce9` + why}, {Line: 4, Reason: `field "conversations" holds \uDBFF` + why}, {Line: 5, Reason: `field "id" holds \udc00` + why}}
	if !reflect.DeepEqual(f.Report.Skipped, want) || f.Report.Kept != 2 {
		t.Errorf("report %+v\nwant kept 2, skips %v", f.Report, want)
	}
	if len(f.Examples) == 2 && f.Examples[1].Question != "smile \U0001F600?" {
		t.Errorf("a whole pair read as %q", f.Examples[1].Question)
	}
	p = writeData(t, `{"question":"1+1=?","solution":"2\udc00"}`+"\n")
	_, err = ReadFile("eval_data", p)
	if got, wantErr := fmt.Sprint(err), "eval_data "+p+`: no usable rows: 1 row, 0 kept, 1 skipped: line 1: field "solution" holds \udc00`+why; got != wantErr {
		t.Errorf("got  %s\nwant %s", got, wantErr)
	}
}
