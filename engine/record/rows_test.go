package record

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestContainsTag(t *testing.T) {
	tests := []struct {
		s, tag string
	}{
		{"", ""},
		{"347+285=?", ""},
		{"a <| b |> c", ""},
		{"<|begin_of_solution", ""},
		{"x<|begin_of_solution|>y", BeginSolution},
		{"<|end_of_solution|>", EndSolution},
		{"<|begin_of_explanation|>", BeginExplanation},
		{"<|end_of_explanation|>", EndExplanation},
		{"<|begin_of_thought|>", BeginThought},
		{"<|end_of_thought|>", EndThought},
		{"<|im_start|>user", ImStart},
		{"hi<|im_end|>", ImEnd},
		{"<|endoftext|>", EndOfText},
		{"<|<|im_end|> then <|begin_of_thought|>", ImEnd}, // leftmost wins
		{"<|BEGIN_OF_SOLUTION|>", ""},                     // tags are case-sensitive tokens
	}
	for _, tc := range tests {
		tag, ok := ContainsTag(tc.s)
		if tag != tc.tag || ok != (tc.tag != "") {
			t.Errorf("ContainsTag(%q) = %q, %v; want %q", tc.s, tag, ok, tc.tag)
		}
	}
	if n := len(Tags()); n != 9 {
		t.Errorf("%d reserved tags, want 9", n)
	}
}

func TestStratosWriterRejects(t *testing.T) {
	var buf bytes.Buffer
	sw := NewStratosWriter(&buf, "sys")
	bad := [][3]string{
		{"q<|im_end|>", "e", "s"},
		{"q", "e<|end_of_thought|>", "s"},
		{"q", "e", "s<|end_of_solution|>"},
		{"", "e", "s"},
		{"q", "e", " "},
	}
	for _, b := range bad {
		if err := sw.Write(b[0], b[1], b[2]); err == nil {
			t.Errorf("Write(%q) accepted", b)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("rejected rows wrote %q", buf.String())
	}
	if err := NewStratosWriter(&buf, "<|im_start|>").Write("q", "e", "s"); err == nil {
		t.Error("ChatML marker in system prompt accepted")
	}
	var ok bytes.Buffer
	if err := NewStratosWriter(&ok, "Think between <|begin_of_thought|> and <|end_of_thought|>.").Write("q", "e", "s"); err != nil {
		t.Errorf("the format's own tags in the system prompt (as Bespoke-Stratos has them) were refused: %v", err)
	}
}

// TestStratosAssistantIsTheStudentLayout: a Bespoke-Stratos assistant turn
// is the student's own (RLT.md §2), the explanation's lead included, so a
// row rlt export or rlt distill writes is what the student is trained and
// scored on, and the body read back is the body written: one lead is the
// layout's, and any further blank lines are the body's.
func TestStratosAssistantIsTheStudentLayout(t *testing.T) {
	p := Prompts{TeacherSystem: "t", StudentSystem: "s"}
	for _, body := range []string{"7+5=12 w2 c1; ans 12", "", "\n\nstarts with a blank line", "ends with one\n\n", " spaced "} {
		head := strings.TrimSuffix(p.StudentParts("q").Prefix, BeginThought) // the context before the assistant's turn
		if got, want := head+StratosAssistant(body, "12")+ImEnd, p.StudentContext("q", body, "12"); got != want {
			t.Errorf("body %q: the Stratos turn in the student's context is\n%q\nwant the student's layout\n%q", body, got, want)
		}
		e, th, sol, err := ParseStratosAssistant(StratosAssistant(body, "12"))
		if err != nil || e != body || sol != "12" || !th {
			t.Errorf("body %q read back as %q, %v, %q, %v", body, e, th, sol, err)
		}
	}
}

func TestParseStratosAssistant(t *testing.T) {
	// The real dataset pads sections with blank lines: the thought's first
	// is the explanation's lead, the rest are kept.
	e, _, s, err := ParseStratosAssistant("<|begin_of_thought|>\n\nthink\n\n<|end_of_thought|>\n\n<|begin_of_solution|>\n\n42\n\n<|end_of_solution|>")
	if err != nil || e != "think\n\n" || s != "\n\n42\n\n" {
		t.Fatalf("got %q %q %v", e, s, err)
	}
	// A thought without the lead (rlt export's rows before it wrote one)
	// is the body as it is.
	e, _, _, err = ParseStratosAssistant("<|begin_of_thought|>think<|end_of_thought|>\n\n<|begin_of_solution|>42<|end_of_solution|>")
	if err != nil || e != "think" {
		t.Fatalf("got %q %v", e, err)
	}
	for _, bad := range []string{
		"",
		"42",
		"pre <|begin_of_solution|>42<|end_of_solution|>",
		"<|begin_of_solution|>42",
		"<|begin_of_thought|>x<|end_of_thought|><|begin_of_solution|>4<|im_end|>2<|end_of_solution|>",
		"<|begin_of_thought|>x<|begin_of_explanation|><|end_of_thought|><|begin_of_solution|>42<|end_of_solution|>",
	} {
		if _, _, _, err := ParseStratosAssistant(bad); err == nil {
			t.Errorf("ParseStratosAssistant(%q) accepted", bad)
		}
	}
}

func TestParseStratosAssistantWithoutThought(t *testing.T) {
	e, th, s, err := ParseStratosAssistant("<|begin_of_solution|>42<|end_of_solution|>")
	if err != nil || e != "" || th || s != "42" {
		t.Fatalf("got %q %v %q %v", e, th, s, err)
	}
}

func TestParseRow(t *testing.T) {
	cases := []struct {
		name, raw string
		want      Row
		field     string // of the error, when one is expected
		err       string
	}{
		{name: "flat", raw: `{"question":"q","solution":"s","explanation":"e","reward":-0.5,"id":"a1"}`,
			want: Row{ID: "a1", Question: "q", Solution: "s", Explanation: "e", ExplanationFrom: "explanation", Ended: true, Reward: -0.5, HasReward: true}},
		// A file saved with a byte-order mark (Notepad, PowerShell) starts
		// with one: rlt import and rlt score read its first row as not JSON.
		{name: "byte-order mark", raw: "\xef\xbb\xbf{\"question\":\"q\",\"solution\":\"s\"}\r",
			want: Row{Question: "q", Solution: "s", Ended: true}},
		{name: "official names", raw: `{"prompt":"q","solution":"s","reasoning_trace":"r"}`,
			want: Row{Question: "q", Solution: "s", Explanation: "r", ExplanationFrom: "reasoning_trace", Ended: true}},
		{name: "completion extracted", raw: `{"question":"q","solution":"s","completion":"body` + EndExplanation + `<|im_end|>"}`,
			want: Row{Question: "q", Solution: "s", Explanation: "body", ExplanationFrom: "completion", Completion: "body" + EndExplanation + "<|im_end|>", Ended: true}},
		{name: "truncated completion", raw: `{"question":"q","solution":"s","completion":"cut"}`,
			want: Row{Question: "q", Solution: "s", Explanation: "cut", ExplanationFrom: "completion", Completion: "cut"}},
		{name: "both", raw: `{"question":"q","solution":"s","explanation":"e","completion":"c"}`,
			want: Row{Question: "q", Solution: "s", Explanation: "e", ExplanationFrom: "explanation", Completion: "c", Ended: true, Both: true}},
		// rlt distill --samples-out's line records the reward it was
		// ranked with: kept as written, for rlt score, and never read here.
		{name: "reward_config kept as written", raw: `{"question":"q","solution":"s","reward_config":{"kl_max": "not read here"}}`,
			want: Row{Question: "q", Solution: "s", Ended: true, RewardConfig: `{"kl_max": "not read here"}`}},
		{name: "reward_config null", raw: `{"question":"q","solution":"s","reward_config":null}`,
			want: Row{Question: "q", Solution: "s", Ended: true}},
		// rlt distill --samples-out's "kept": false is a sample its ranking
		// did not keep, true that it kept (Kept); null or another type is neither.
		{name: "kept false", raw: `{"question":"q","solution":"s","kept":false}`,
			want: Row{Question: "q", Solution: "s", Ended: true, NotKept: true}},
		{name: "kept true", raw: `{"question":"q","solution":"s","kept":true}`,
			want: Row{Question: "q", Solution: "s", Ended: true, Kept: true}},
		{name: "kept null", raw: `{"question":"q","solution":"s","kept":null}`,
			want: Row{Question: "q", Solution: "s", Ended: true}},
		{name: "kept another's", raw: `{"question":"q","solution":"s","kept":"no"}`,
			want: Row{Question: "q", Solution: "s", Ended: true}},
		{name: "no explanation", raw: `{"question":"q","solution":"s","reward":null}`,
			want: Row{Question: "q", Solution: "s", Ended: true}},
		{name: "stratos", raw: `{"system":"sys","conversations":[{"from":"human","value":"q"},{"from":"gpt","value":"` +
			`<|begin_of_thought|>\n\ne<|end_of_thought|>\n\n<|begin_of_solution|>s<|end_of_solution|>"}]}`,
			want: Row{Question: "q", Solution: "s", Explanation: "e", ExplanationFrom: "conversations", Ended: true, System: "sys", Stratos: true}},
		{name: "stratos without thought", raw: `{"conversations":[{"from":"user","value":"q"},{"from":"assistant","value":"<|begin_of_solution|>s<|end_of_solution|>"}]}`,
			want: Row{Question: "q", Solution: "s", Ended: true, Stratos: true}},
		{name: "not JSON", raw: `{"question":`, err: "not JSON"},
		// Latin-1 bytes were read as U+FFFD, the row kept with its text guessed at.
		{name: "not UTF-8", raw: "{\"question\":\"caf\xe9?\",\"solution\":\"5\"}", err: "not UTF-8: byte 17 of the row, 0xe9, is not a UTF-8 character"},
		{name: "not UTF-8 in a field not read", raw: "{\"question\":\"q\",\"solution\":\"s\",\"note\":\"\xff\"}", err: "not UTF-8"},
		// A stray byte outside a string, or in a row cut short, is said as
		// the byte it is, not as encoding/json's "invalid character 'ÿ'".
		{name: "not UTF-8 outside a string", raw: "\xff\xfe", err: "not UTF-8: byte 1 of the row, 0xff, is not a UTF-8 character"},
		{name: "not UTF-8 in a key", raw: "{\"q\xe9\":1}", err: "not UTF-8: byte 4 of the row, 0xe9"},
		{name: "not UTF-8 and cut short", raw: "{\"question\":\"caf\xe9", err: "not UTF-8: byte 17 of the row, 0xe9"},
		{name: "not an object", raw: `[1,2]`, err: "not a JSON object"},
		{name: "null", raw: `null`, err: "not a JSON object"},
		{name: "no question", raw: `{"solution":"s"}`, field: "question", err: `missing field "question" (or "prompt")`},
		{name: "question and prompt differ", raw: `{"question":"a","prompt":"b","solution":"s"}`, field: "question", err: "both present and different"},
		{name: "no solution", raw: `{"question":"q"}`, field: "solution", err: `missing field "solution"`},
		// Another dataset's names for the fields are said, with the jq that
		// renames them: a GSM8K row was 'missing field "solution"' alone.
		{name: "GSM8K's answer", raw: `{"question":"q","answer":"4 #### 4"}`, field: "solution",
			err: `missing field "solution"; the row has "answer": if that is its solution, name it "solution" (jq -c '.solution = .answer' FILE > rows.jsonl writes every row so)`},
		{name: "MATH's problem", raw: `{"problem":"q","solution":"s"}`, field: "question",
			err: `missing field "question" (or "prompt"); the row has "problem": if that is its question, name it "question" (jq -c '.question = .problem' FILE > rows.jsonl writes every row so)`},
		{name: "a Question in another case before an input", raw: `{"input":"i","Question":"q","solution":"s"}`, field: "question",
			err: `missing field "question" (or "prompt"); the row has "Question": if that is its question, name it "question"`},
		{name: "solution not a string", raw: `{"question":"q","solution":4}`, field: "solution", err: `field "solution" is not a string`},
		// verl's rows (and TRL's conversational ones) hold the question as
		// chat turns: it was 'field "prompt" is not a string' alone.
		{name: "a verl row", raw: `{"data_source":"gsm8k","prompt":[{"role":"user","content":"q"}],"reward_model":{"style":"rule","ground_truth":"5"}}`,
			field: "prompt", err: `field "prompt" is a list of chat turns (verl's and TRL's layout); a row's question is text, beside its solution: {"question": "347+285=?", "solution": "632"} (a verl file's rows, as JSON Lines: jq -c '{question: .prompt[-1].content, solution: (.reward_model.ground_truth | tostring)}' FILE > rows.jsonl)`},
		{name: "reward not a number", raw: `{"question":"q","solution":"s","reward":"high"}`, field: "reward", err: "not a number"},
		// A number past float64's range was said to be no number.
		{name: "reward out of range", raw: `{"question":"q","solution":"s","reward":1e999}`, field: "reward",
			err: `field "reward" is 1e999, out of float64's range (about ±1.8e308): give a reward within it`},
		{name: "reward out of range below", raw: `{"question":"q","solution":"s","reward":-2e308}`, field: "reward",
			err: `field "reward" is -2e308, out of float64's range`},
		{name: "stratos without solution", raw: `{"conversations":[{"from":"user","value":"q"},{"from":"assistant","value":"no tags"}]}`,
			field: "conversations", err: "no <|begin_of_solution|>"},
		{name: "stratos without user", raw: `{"conversations":[{"from":"gpt","value":"x"}]}`, field: "conversations", err: "no user turn"},
		// A lone UTF-16 surrogate escape was read as U+FFFD, the row kept
		// with a text it does not hold (jsonerr.Surrogates); a whole pair
		// is its character, and one in a field not read is not the row's.
		{name: "lone surrogate in the question", raw: `{"question":"1+1\udc00=?","solution":"2"}`, field: "question",
			err: `field "question" holds \udc00, half of a UTF-16 surrogate pair without its other half: no character, which Hugging Face tokenizers refuses (Python reads it but cannot encode it as UTF-8); write the character itself, or both halves of its pair (\ud83d\ude00 for U+1F600)`},
		{name: "lone surrogate in the prompt", raw: `{"prompt":"q\uD83D","solution":"s"}`, field: "prompt", err: `field "prompt" holds \uD83D, half of a UTF-16 surrogate pair`},
		{name: "lone surrogate in the solution", raw: `{"question":"q","solution":"\ud83d\u0041"}`, field: "solution", err: `field "solution" holds \ud83d, half`},
		{name: "lone surrogate in the trace", raw: `{"question":"q","solution":"s","reasoning_trace":"\ud83d\ude00\udfff"}`, field: "reasoning_trace", err: `field "reasoning_trace" holds \udfff, half`},
		{name: "lone surrogate in a stratos turn", raw: `{"conversations":[{"from":"user","value":"q\udc00"},{"from":"assistant","value":"<|begin_of_solution|>s<|end_of_solution|>"}]}`,
			field: "conversations", err: `field "conversations" holds \udc00, half`},
		{name: "lone surrogate in a stratos system prompt", raw: `{"system":"be brief\udc00","conversations":[{"from":"user","value":"q"},{"from":"assistant","value":"<|begin_of_solution|>s<|end_of_solution|>"}]}`,
			field: "system", err: `field "system" holds \udc00, half`},
		// An id with one was the row's rowN without a word (its own id
		// gone from what the run writes); a malformed id still is.
		{name: "lone surrogate in the id", raw: `{"id":"q\udce9-7","question":"q","solution":"s"}`, field: "id", err: `field "id" holds \udce9, half`},
		{name: "lone surrogate in a stratos id", raw: `{"id":"\uD83D","conversations":[{"from":"user","value":"q"},{"from":"assistant","value":"<|begin_of_solution|>s<|end_of_solution|>"}]}`,
			field: "id", err: `field "id" holds \uD83D, half`},
		{name: "a whole surrogate pair in the id", raw: `{"id":"\ud83d\ude00","question":"q","solution":"s"}`,
			want: Row{ID: "\U0001F600", Question: "q", Solution: "s", Ended: true}},
		{name: "a malformed id", raw: `{"id":["\udc00"],"question":"q","solution":"s"}`,
			want: Row{Question: "q", Solution: "s", Ended: true}},
		{name: "a whole surrogate pair", raw: `{"question":"\ud83d\ude00?","solution":"\\udc00"}`,
			want: Row{Question: "\U0001F600?", Solution: `\udc00`, Ended: true}},
		{name: "lone surrogate in a field not read", raw: `{"question":"q","solution":"s","note":"\udc00"}`,
			want: Row{Question: "q", Solution: "s", Ended: true}},
	}
	for _, c := range cases {
		got, err := ParseRow([]byte(c.raw))
		if c.err != "" {
			re, ok := err.(*RowError)
			if !ok || !strings.Contains(re.Error(), c.err) || re.Field != c.field {
				t.Errorf("%s: error %#v, want field %q and %q", c.name, err, c.field, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s:\n got %+v %v\nwant %+v", c.name, got, err, c.want)
		}
	}
}

// A field of another name that holds no text is not offered as the
// missing one (missing).
func TestParseRowOtherNameIsText(t *testing.T) {
	_, err := ParseRow([]byte(`{"question":"q","output":4,"answer":["4"]}`))
	if re, ok := err.(*RowError); !ok || re.Msg != `missing field "solution"` || re.Fix != nil {
		t.Errorf("%v; want missing field \"solution\" alone", err)
	}
}

// TestParseRowNotJSON: a row that is not JSON is said as rlt tokenize and
// rlt logprobs say a line (jsonerr.NotJSONLine): where it goes wrong, the
// character or its end, and what a row is; not encoding/json's grammar
// ("invalid character 'o' in literal null (expecting 'u')"). The readers
// put the file and line before it.
func TestParseRowNotJSON(t *testing.T) {
	such := "; want one JSON object a line, such as " + RowExample
	for _, c := range []struct{ raw, want string }{
		{"nope", "not JSON: 'o' at byte 2 cannot be there" + such},
		{`{"question": "é", x}`, "not JSON: 'x' at byte 20 cannot be there" + such},
		{"\xef\xbb\xbf  {\"question\": \"q\", \"solution\"", "not JSON: it ends before its JSON is complete" + such},
		{`{"question": "q"} {}`, "not JSON: '{' at byte 19 cannot be there" + such},
	} {
		_, err := ParseRow([]byte(c.raw))
		re, ok := err.(*RowError)
		if !ok || re.Msg != c.want || re.Field != "" {
			t.Errorf("%q: error %v\nwant %s", c.raw, err, c.want)
		}
	}
}

// JSONDocument tells one JSON document (an array on any number of lines,
// an object over several, NaN and Infinity as Python writes them) from
// JSON Lines (one object a line, one row included), and says how to make
// JSON Lines of it with jq: the array's elements, the rows an object
// holds under its one list of objects, or the object itself.
func TestJSONDocument(t *testing.T) {
	row := `{"question":"1+1=?","solution":"2"}`
	for _, c := range []struct{ name, data, want string }{
		{"JSON Lines", row + "\n" + row + "\n", ""},
		{"one row", row, ""},
		{"one row with a BOM and CRLF", "\ufeff" + row + "\r\n", ""},
		{"empty", "\n \n", ""},
		{"CSV", "question,solution\n1+1=?,2\n", ""},
		{"rows with a broken one", row + "\n{\"question\": \n" + row + "\n", ""},
		{"a truncated document", "[\n  " + row + ",\n", ""},
		{"an array on one line", "[" + row + "," + row + "]",
			"one JSON array on one line, not JSON Lines: write one object a line (e.g. jq -c '.[]' d.json > rows.jsonl)"},
		{"an array over lines", "[\n  " + row + ",\n\n  " + row + "\n]\n",
			"one JSON array over 4 lines, not JSON Lines: write one object a line (e.g. jq -c '.[]' d.json > rows.jsonl)"},
		{"a pretty object", "{\n  \"question\": \"1+1=?\",\n  \"solution\": \"2\"\n}",
			"one JSON object over 4 lines, not JSON Lines: write one object a line (e.g. jq -c '.' d.json > rows.jsonl)"},
		{"an object holding the rows", "{\n  \"version\": 2,\n  \"train\": [\n    " + row + "\n  ]\n}\n",
			"one JSON object over 6 lines, not JSON Lines: write one object a line (e.g. jq -c '.train[]' d.json > rows.jsonl)"},
		{"an object holding two lists", "{\n  \"a\": [" + row + "],\n  \"b\": [" + row + "]\n}\n",
			"one JSON object over 4 lines, not JSON Lines: write one object a line (e.g. jq -c '.' d.json > rows.jsonl)"},
		{"a key jq quotes", "{\n  \"my-rows\": [" + row + "]\n}\n",
			`one JSON object over 3 lines, not JSON Lines: write one object a line (e.g. jq -c '."my-rows"[]' d.json > rows.jsonl)`},
		{"Python's NaN and Infinity", "{\n  \"log_history\": [{\"grad_norm\": NaN, \"loss\": -Infinity, \"note\": \"NaN\"}],\n  \"max_steps\": 10\n}\n",
			"one JSON object over 4 lines, not JSON Lines: write one object a line (e.g. jq -c '.log_history[]' d.json > rows.jsonl)"},
		{"an array of Python's numbers on one line", "[NaN, Infinity]", "one JSON array on one line, not JSON Lines: write one object a line (e.g. jq -c '.[]' d.json > rows.jsonl)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := JSONDocument([]byte(c.data), "d.json")
			if got := fmt.Sprint(err); (err == nil && c.want != "") || (err != nil && got != c.want) {
				t.Errorf("got  %v\nwant %s", err, c.want)
			}
		})
	}
	// The path in the fix is one shell word.
	err := JSONDocument([]byte("[1]"), "my data's.json")
	if want := `jq -c '.[]' 'my data'\''s.json' > rows.jsonl`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("%v: want %s", err, want)
	}
}

// WholeJSON tells a whole JSON value, Python's NaN and Infinity allowed,
// from one cut short.
func TestWholeJSON(t *testing.T) {
	for _, c := range []struct {
		line string
		want bool
	}{
		{`{"a": 1}`, true},
		{`{"a": NaN, "b": -Infinity, "c": Infinity}`, true},
		{`{"a": "NaN\" Infinity"}`, true},
		{`{"a": 1`, false},
		{`{"a": NaN`, false},
		{`{"a": Nan}`, false},
		{``, false},
	} {
		if got := WholeJSON([]byte(c.line)); got != c.want {
			t.Errorf("WholeJSON(%s) = %v, want %v", c.line, got, c.want)
		}
	}
}

// TestNotText: a weights file's header (commas, no brace on its first
// "line") is not text, and so not CSV; UTF-16 is said as such; CSV,
// JSON Lines and Latin-1 text are text.
func TestNotText(t *testing.T) {
	safetensors := "\x3a\x00\x00\x00\x00\x00\x00\x00{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}\x00\x00\x00\x00"
	for _, c := range []struct {
		name, data, what string
		csv              bool
	}{
		{"safetensors", safetensors, "this is not text (a weights or other binary file?), not JSON Lines", false},
		{"UTF-16", "\xff\xfeq\x00,\x00s\x00\n\x00", "this is UTF-16 text, not UTF-8", false},
		{"CSV", "question,solution\n1+2=?,3\n", "", true},
		{"JSON Lines", `{"question":"1+2=?","solution":"3"}` + "\n", "", false},
		{"Latin-1 CSV", "question,solution\ncaf\xe9,3\n", "", true},
	} {
		if what, _ := NotText([]byte(c.data)); what != c.what {
			t.Errorf("%s: NotText %q, want %q", c.name, what, c.what)
		}
		if got := LooksCSV([]byte(c.data)); got != c.csv {
			t.Errorf("%s: LooksCSV %v, want %v", c.name, got, c.csv)
		}
	}
}

// TestStratosWriterWritesTheSpecsRecord: a distillation row is RLT.md §5's
// Bespoke-Stratos record, byte for byte: the system prompt, then the user
// turn (the question) and the assistant turn "<|begin_of_thought|>" +
// explanation + "<|end_of_thought|>\n\n<|begin_of_solution|>" + solution +
// "<|end_of_solution|>", the explanation T starting with the prefill's
// lead "\n\n" (Extract), the tags written as themselves, one line a row.
func TestStratosWriterWritesTheSpecsRecord(t *testing.T) {
	var buf bytes.Buffer
	sw := NewStratosWriter(&buf, "Think, then solve.")
	x := Extract("7+5=12, carry 1<|end_of_explanation|><|im_end|>")
	if err := sw.Write("347+285=?", x.Body, "632"); err != nil {
		t.Fatal(err)
	}
	want := `{"system":"Think, then solve.","conversations":[{"from":"user","value":"347+285=?"},` +
		`{"from":"assistant","value":"<|begin_of_thought|>\n\n7+5=12, carry 1<|end_of_thought|>\n\n<|begin_of_solution|>632<|end_of_solution|>"}]}` + "\n"
	if got := buf.String(); got != want {
		t.Errorf("row\n%s\nwant\n%s", got, want)
	}
	if x.Explanation != "\n\n7+5=12, carry 1" {
		t.Errorf("the explanation T is %q", x.Explanation)
	}
}
