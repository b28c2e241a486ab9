package sessions

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
)

const fixtureRun = "testdata/official/run"

func TestImportOfficialRun(t *testing.T) {
	run, err := ImportOfficialRun(fixtureRun)
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Metrics) != 4 || run.State.Entries != 4 || run.State.SkippedCount != 0 {
		t.Fatalf("metrics %d, report %+v", len(run.Metrics), run.State)
	}
	m1 := run.Metrics[0]
	if m1.Step != 1 || m1.Values["reward"] != -1.05 || m1.Values["epoch"] != 0.125 ||
		m1.Values["total_teacher_likelihood_reward"] != -1.0 || m1.Values["learning_rate"] != 1e-6 {
		t.Errorf("first entry %+v", m1)
	}
	if _, ok := m1.Values["step"]; ok {
		t.Error("step repeated in Values")
	}
	if g := run.Metrics[1].Values["grad_norm"]; !math.IsNaN(g) {
		t.Errorf("bare NaN grad_norm read as %v", g)
	}
	if run.State.NonNumeric != 1 || strings.Join(run.State.NonNumericKeys, ",") != "note" {
		t.Errorf("non-numeric: %d %v", run.State.NonNumeric, run.State.NonNumericKeys)
	}
	if run.Metrics[3].Values["train_runtime"] != 812.4 {
		t.Errorf("summary entry %+v", run.Metrics[3])
	}
	if !run.HasTeacherChats {
		t.Error("teacher_chats/log.txt not noticed")
	}

	if len(run.Completions) != 5 || len(run.CSV) != 2 {
		t.Fatalf("%d completions from %d files", len(run.Completions), len(run.CSV))
	}
	c := run.Completions[1]
	if c.Step != 1 || c.File != "1.csv" || c.Row != 2 || c.Reward != -1.17 ||
		!strings.Contains(c.Completion, `"prime"`) || !strings.Contains(c.Completion, "7\nhas no divisors, like 2, 3 or 5,\n\nso yes.") ||
		!strings.Contains(c.Prompt, "user\nIs 7 prime?<|im_end|>") {
		t.Errorf("multi-line row %+v", c)
	}
	if strings.Contains(c.Completion, "\r") {
		t.Error("CRLF kept inside a field")
	}
	last := run.Completions[4]
	if last.Step != 2 || last.Row != 3 || last.Completion != "2 is even,\nand prime.<|end_of_explanation|><|im_end|>" || last.Reward != -0.5 {
		t.Errorf("last row %+v", last)
	}
	for _, r := range run.CSV {
		if r.PendingBytes != 0 || r.SkippedCount != 0 {
			t.Errorf("report %+v", r)
		}
	}
}

func TestImportOfficialRunCheckpointFallback(t *testing.T) {
	dir := t.TempDir()
	state, _ := os.ReadFile(filepath.Join(fixtureRun, "trainer_state.json"))
	for _, n := range []string{"checkpoint-2", "checkpoint-10"} {
		os.MkdirAll(filepath.Join(dir, n), 0o755)
	}
	os.WriteFile(filepath.Join(dir, "checkpoint-2", "trainer_state.json"), []byte(`{"log_history":[{"step":2,"loss":1}]}`), 0o644)
	os.WriteFile(filepath.Join(dir, "checkpoint-10", "trainer_state.json"), state, 0o644)
	run, err := ImportOfficialRun(dir)
	if err != nil || !strings.HasSuffix(run.StateFile, filepath.Join("checkpoint-10", "trainer_state.json")) || len(run.Metrics) != 4 {
		t.Fatalf("%+v %v", run, err)
	}
	if _, err := ImportOfficialRun(t.TempDir()); err == nil {
		t.Error("empty folder accepted")
	}
}

func TestParseCompletionsCSVGrowing(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(fixtureRun, "stored_completions", "1.csv"))
	if err != nil {
		t.Fatal(err)
	}
	full, _, _ := ParseCompletionsCSV("1.csv", data)
	// Every prefix of the file parses into a prefix of the rows, with the
	// rest pending; no prefix loses or invents a row.
	for n := 0; n <= len(data); n++ {
		rows, rep, err := ParseCompletionsCSV("1.csv", data[:n])
		if err != nil {
			t.Fatalf("prefix %d: %v", n, err)
		}
		if len(rows) > len(full) {
			t.Fatalf("prefix %d: %d rows", n, len(rows))
		}
		for i := range rows {
			if rows[i] != full[i] {
				t.Fatalf("prefix %d: row %d differs: %+v", n, i, rows[i])
			}
		}
		if n < len(data) && rep.PendingBytes == 0 && len(rows) == len(full) {
			t.Fatalf("prefix %d: nothing pending yet all rows out", n)
		}
	}
}

func TestParseCompletionsCSVProblems(t *testing.T) {
	cases := []struct {
		name    string
		csv     string
		rows    int
		skipped []string // issue strings
		pending int
		err     string
	}{
		{"pandas index column, step from file name",
			",prompt,completion,reward\n0,p,c,1.5\n1,p2,c2,\n", 2, nil, 0, ""},
		{"bad reward and short row",
			"step,prompt,completion,reward\n1,p,c,abc\n1,p,\"multi\nline\"\n1,p,c,2\n", 1,
			[]string{`7.csv:2:7: row 1: reward "abc" is not a number`, `7.csv:3: row 2: missing field "reward" (3 columns)`}, 0, ""},
		// A field that is not a number is said at its line and column, as
		// one past float64's range is: after a completion of many lines,
		// the row's first line is not the field's.
		{"reward not a number after lines", "step,prompt,completion,reward\n1,p,\"two\nlines\",abc\n", 0,
			[]string{`7.csv:3:8: row 1: reward "abc" is not a number`}, 0, ""},
		{"bad step", "step,prompt,completion,reward\nx,p,c,1\n", 0, []string{`7.csv:2:1: row 1: step "x" is not an integer`}, 0, ""},
		// A reward past float64's range is refused as a traces row's
		// (record.RewardPastRange), at its line and column: it was read as
		// ±Inf. pandas' "inf" and "-inf" are what it wrote for one: read.
		{"reward past float64's range",
			"step,prompt,completion,reward\n1,p,c,1e999\n1,p,\"two\nlines\", -1e999\n1,p,c,inf\n1,p,c,-inf\n", 2,
			[]string{`7.csv:2:7: row 1: field "reward" is 1e999, out of float64's range (about ±1.8e308): give a reward within it`,
				`7.csv:4:8: row 2: field "reward" is -1e999, out of float64's range (about ±1.8e308): give a reward within it`}, 0, ""},
		{"no reward column", "step,prompt,completion\n", 0, nil, 0, `7.csv:1: no "reward" column`},
		{"unterminated quote pending", "step,prompt,completion,reward\n1,p,\"open\n", 0, nil, 10, ""},
		{"bare quote", "step,prompt,completion,reward\n1,p,a\"b\"\"\n2,p,c,1\n", 1, []string{`7.csv:2: row 1: bare "`}, 0, ""},
		// A quoted field left open: one error, not one per line of the rest.
		{"broken quoted field", "step,prompt,completion,reward\n1,p,c,1\n2,p,\"a\"b,1\n3,p,c,1\n4,p,\"d\n\"\"e\",1\n5,p,c,1\n", 1, []string{`7.csv:3: row 2: extraneous or missing " in quoted-field (line 3, column 7); the 4 lines after it are not read`}, 0, ""},
		{"BOM and CRLF", "\xef\xbb\xbfstep,prompt,completion,reward\r\n3,p,c,0.5\r\n", 1, nil, 0, ""},
		{"empty", "", 0, nil, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rows, rep, err := ParseCompletionsCSV("7.csv", []byte(tc.csv))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != tc.rows || rep.PendingBytes != tc.pending || rep.SkippedCount != len(tc.skipped) {
				t.Fatalf("rows %d pending %d report %+v", len(rows), rep.PendingBytes, rep)
			}
			for i, want := range tc.skipped {
				if !strings.Contains(rep.Skipped[i].String(), want) {
					t.Errorf("issue %q, want %q", rep.Skipped[i], want)
				}
			}
			if tc.name == "pandas index column, step from file name" && (rows[0].Step != 7 || !math.IsNaN(rows[1].Reward)) {
				t.Errorf("rows %+v", rows)
			}
			if tc.name == "reward past float64's range" && (!math.IsInf(rows[0].Reward, 1) || !math.IsInf(rows[1].Reward, -1)) {
				t.Errorf("rows %+v, want the rewards inf and -inf read as such", rows)
			}
		})
	}
}

func TestParseTrainerStateProblems(t *testing.T) {
	cases := []struct {
		name, doc string
		metrics   int
		skipped   []string
		err       string
	}{
		{"cut short", `{"log_history": [{"step": 1, "loss": 0.5}, {"st`, 0, nil, "incomplete JSON"},
		{"syntax error", "{\n  \"log_history\": [\n    {\"step\": 1,, }\n  ]\n}", 0, nil, "t.json:3:"},
		{"missing step", "{\"log_history\": [\n  {\"loss\": 1},\n  {\"step\": 2.0, \"loss\": Infinity, \"x\": -Infinity},\n  {\"step\": 2.5},\n  7\n]}", 1,
			[]string{`t.json:2: log_history[0]: missing field "step"`, `t.json:4: log_history[2]: "step" is not an integer`, `t.json:5: log_history[3]: not an object`}, ""},
		{"no log_history", `{"global_step": 3}`, 0, nil, "no log_history"},
		{"not an object", `[1,2]`, 0, nil, "not a JSON object"},
		{"NaN inside a string stays a string", `{"log_history":[{"step":1,"note":"NaN Infinity","v":NaN}]}`, 1, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, rep, err := ParseTrainerState("t.json", []byte(tc.doc))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(m) != tc.metrics || rep.SkippedCount != len(tc.skipped) {
				t.Fatalf("%d metrics, report %+v", len(m), rep)
			}
			for i, want := range tc.skipped {
				if !strings.HasPrefix(rep.Skipped[i].String(), want) {
					t.Errorf("issue %q, want %q", rep.Skipped[i], want)
				}
			}
		})
	}
	m, rep, _ := ParseTrainerState("t.json", []byte(`{"log_history":[{"step":2,"loss":Infinity,"x":-Infinity,"note":"NaN","v":NaN}]}`))
	if !math.IsInf(m[0].Values["loss"], 1) || !math.IsInf(m[0].Values["x"], -1) || !math.IsNaN(m[0].Values["v"]) || rep.NonNumeric != 1 {
		t.Errorf("%+v %+v", m, rep)
	}
	// A number past float64's range is no value (Python writes none:
	// its inf is Infinity), left out and counted apart from the values
	// that are no numbers (text), as our metrics.jsonl's reader refuses
	// it: it was read as ±Inf, then counted among the non-numeric ones.
	m, rep, err := ParseTrainerState("t.json", []byte(`{"log_history":[{"step":2,"loss":1e999,"x":-1e999,"y":0.5,"note":"hi","tiny":1e-999}]}`))
	if err != nil || len(m) != 1 || len(m[0].Values) != 2 || m[0].Values["y"] != 0.5 || m[0].Values["tiny"] != 0 ||
		rep.PastRange != 2 || !slices.Equal(rep.PastRangeKeys, []string{"loss", "x"}) || rep.NonNumeric != 1 || !slices.Equal(rep.NonNumericKeys, []string{"note"}) {
		t.Errorf("1e999 and -1e999: %+v %+v %v, want y and tiny (0) read, loss and x past the range, note non-numeric", m, rep, err)
	}
	vm, nonNum, _, err := parseVerlMetric([]byte(`{"step": 1, "data": {"loss": 1e999, "y": 0.5}}`))
	if err != nil || len(vm.Values) != 1 || vm.Values["y"] != 0.5 || !slices.Equal(nonNum, []ignoredValue{{"loss", true}}) {
		t.Errorf("verl's 1e999: %+v %v %v, want only y read, loss past the range", vm, nonNum, err)
	}
}

// TestReadTracesFile: rlt import's reader of a traces file keeps the rows
// with an explanation, each with its line, and leaves out, at its line
// and field, one it cannot read, one marked "cut" (rlt distill
// --samples-out's cut sample, record.CutRowReason) and a last line cut
// short. It is the one reader of such a file: ParseTraces and ReadTraces,
// which only tests called, returned the cut row as a trace.
func TestReadTracesFile(t *testing.T) {
	doc := strings.Join([]string{
		`{"question":"q1","solution":"s1","explanation":"e1","reward":-0.5}`,
		`{"prompt":"q2","solution":"s2","completion":"e2"}`,
		`{"question":"q3","explanation":"e3"}`,
		`{"question":"q4","solution":4,"explanation":"e4"}`,
		`not json`,
		`{"question":"q6","solution":"s6","explanation":"e6","reward":"high"}`,
		`{"system":"sys","conversations":[{"from":"user","value":"q7"},{"from":"assistant","value":"<|begin_of_thought|>e7<|end_of_thought|>\n\n<|begin_of_solution|>s7<|end_of_solution|>"}]}`,
		`{"conversations":[{"from":"user","value":"q8"},{"from":"assistant","value":"no tags"}]}`,
		`{"question":"q9","solution":"s9","explanation":"e9","reward":null}`,
		`{"question":"q10","solution":"s10","completion":"e10","reward":-2,"cut":true}`, // no "kept", as jq del(.kept) leaves a cut sample
		`{"question":"q11","sol`,
	}, "\n")
	path := filepath.Join(t.TempDir(), "t.jsonl")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	var rep ImportReport
	traces, err := readTracesFile(path, &rep, nil)
	if err != nil {
		t.Fatal(err)
	}
	var qs []string
	for _, tr := range traces {
		qs = append(qs, tr.Question)
	}
	if strings.Join(qs, ",") != "q1,q2,q7,q9" || !traces[0].HasSourceReward || traces[0].SourceReward != -0.5 || traces[1].HasSourceReward || traces[3].HasSourceReward {
		t.Fatalf("traces %+v", traces)
	}
	if traces[2].Explanation != "e7" || traces[2].Solution != "s7" || traces[2].Source != "t.jsonl:7" {
		t.Errorf("stratos trace %+v", traces[2])
	}
	want := []struct {
		line  int
		field string
		msg   string
	}{
		{3, "solution", `missing field "solution"`},
		{4, "solution", `field "solution" is not a string`},
		{5, "", "not JSON"},
		{6, "reward", `field "reward" is not a number`},
		{8, "conversations", "no <|begin_of_solution|>"},
		{11, "", "unterminated last line"},
		{10, "cut", record.CutRowReason()},
	}
	if len(rep.Skip) != len(want) {
		t.Fatalf("left out %v; want %d", rep.Skip, len(want))
	}
	for i, w := range want {
		got := rep.Skip[i]
		if got.Line != w.line || got.Field != w.field || !strings.Contains(got.Msg, w.msg) {
			t.Errorf("left out %d = %+v, want %+v", i, got, w)
		}
	}
}

func FuzzParseCompletionsCSV(f *testing.F) {
	for _, name := range []string{"1.csv", "2.csv"} {
		data, _ := os.ReadFile(filepath.Join(fixtureRun, "stored_completions", name))
		f.Add(data)
	}
	f.Add([]byte("step,prompt,completion,reward\n1,\"a\"\"b\",c,NaN\n"))
	f.Add([]byte(",prompt,completion,reward\r\n0,\"x\ny\",\"z\",1e400\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, rep, err := ParseCompletionsCSV("3.csv", data)
		if err == nil && rep.Rows != len(rows) {
			t.Fatalf("rows %d vs report %d", len(rows), rep.Rows)
		}
		if rep.PendingBytes < 0 || rep.PendingBytes > len(data) {
			t.Fatalf("pending %d of %d", rep.PendingBytes, len(data))
		}
	})
}

func FuzzParseTrainerState(f *testing.F) {
	data, _ := os.ReadFile(filepath.Join(fixtureRun, "trainer_state.json"))
	f.Add(data)
	f.Add([]byte(`{"log_history":[{"step":1,"x":NaN,"y":-Infinity,"s":"NaN\"x"}]}`))
	f.Add([]byte(`{"log_history":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, rep, err := ParseTrainerState("t.json", data)
		if err == nil && len(m)+rep.SkippedCount != rep.Entries {
			t.Fatalf("%d metrics + %d skipped != %d entries", len(m), rep.SkippedCount, rep.Entries)
		}
	})
}

func FuzzParseTraces(f *testing.F) {
	f.Add([]byte(`{"question":"q","solution":"s","explanation":"e","reward":1}` + "\n"))
	f.Add([]byte(`{"conversations":[{"from":"user","value":"q"},{"from":"assistant","value":"<|begin_of_thought|>e<|end_of_thought|><|begin_of_solution|>s<|end_of_solution|>"}]}` + "\n{\"a\""))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, skipped, err := parseTraces("t.jsonl", "", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err) // a bytes.Reader cannot fail
		}
		// Each line is a row or a skip, never both, and no line twice.
		seen := map[int]bool{}
		for _, r := range rows {
			seen[r.Line] = true
		}
		for _, s := range skipped {
			if seen[s.Line] {
				t.Fatalf("line %d read twice: rows %+v, skipped %+v", s.Line, rows, skipped)
			}
			seen[s.Line] = true
		}
		if len(seen) != len(rows)+len(skipped) {
			t.Fatalf("a line read twice: rows %+v, skipped %+v", rows, skipped)
		}
	})
}

func FuzzReadLog(f *testing.F) {
	f.Add([]byte("{\"a\":1}\n\n{\"a\"\r\n{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var n int
		st, err := readLines("f", bytes.NewReader(data), func(int, []byte) error { n++; return nil })
		if err != nil || st.Offset+st.PartialBytes != int64(len(data)) || n != st.Lines {
			t.Fatalf("%+v %v", st, err)
		}
	})
}
