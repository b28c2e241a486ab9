package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestScoreTokenizerFile: --tokenizer takes the tokenizer.json itself as
// well as the model folder holding it (as rlt tokenize does), reading the
// prompts.json beside it, and scores the same; a tokenizer that cannot be
// read is named once, its path and the "tokenizer:" prefix not doubled
// (it was "tokenizer: tokenizer: open DIR/tokenizer.json/tokenizer.json:
// not a directory" for a file).
func TestScoreTokenizerFile(t *testing.T) {
	tURL := startServe(t, "--model", embeddedTeacher)
	sURL := startServe(t, "--model", embeddedStudent, "--api", "sglang")
	in := `{"question":"347+285=?","solution":"632","explanation":"7+5=12 w2 c1; 4+8+1=13 w3 c1; 3+2+1=6"}
{"question":"12+9=?","solution":"21","completion":"the answer is 21. 2+9=11"}
`
	code, want, errs := runCLI(t, in, "score", "--teacher", tURL, "--student", sURL, "--tokenizer", embeddedStudent)
	if code != 0 {
		t.Fatalf("--tokenizer a folder: exit %d: %s", code, errs)
	}
	missing := filepath.Join(t.TempDir(), "tok.json")
	for _, tc := range []struct {
		name, tokenizer string
		code            int
		want            string
	}{
		{"tokenizer.json", filepath.Join(embeddedStudent, "tokenizer.json"), 0, ""},
		{"missing file", missing, 1, missing + " does not exist: give a tokenizer.json, or the model folder that holds one"},
		{"a model's config.json", filepath.Join(embeddedStudent, "config.json"), 1, filepath.Join(embeddedStudent, "config.json")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, got, errs := runCLI(t, in, "score", "--teacher", tURL, "--student", sURL, "--tokenizer", tc.tokenizer)
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Fatalf("exit %d, want %d; stderr %q, want %q", code, tc.code, errs, tc.want)
			}
			if strings.Contains(errs, "tokenizer: tokenizer:") || strings.Count(errs, tc.tokenizer) > 1 {
				t.Errorf("stderr %q says the prefix or the path twice", errs)
			}
			if tc.code == 0 {
				sameScores(t, tc.name, scoreLines(t, got), scoreLines(t, want))
			}
		})
	}
}

// importAccepted imports rows (a file's bytes, as rlt import reads it)
// into a new run folder, accepts its first trace (0-0-0), so that rlt
// export writes it, and returns the folder's path.
func importAccepted(t *testing.T, rows []byte) string {
	t.Helper()
	dir := t.TempDir()
	src, runDir := filepath.Join(dir, "rows.jsonl"), filepath.Join(dir, "run")
	if err := os.WriteFile(src, rows, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCLI(t, "", "import", src, "--out", runDir); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	r, err := sessions.Open(runDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Review("0-0-0", sessions.LabelAccept, ""); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	return runDir
}

// TestStratosRowsScoreAsTheirBody: a Bespoke-Stratos row is scored as the
// explanation it holds, whoever wrote it: rlt export's row of a trace (a
// flat row imported, accepted and exported), rlt distill's, and one as
// Bespoke-Stratos-17k pads it all score as the flat row of the same body.
// The thought's lead is the student layout's, not the body's: rows that
// rlt distill wrote were scored with it twice ("\n\n\n\n" before the body),
// and rlt export wrote rows without it, unlike rlt distill.
func TestStratosRowsScoreAsTheirBody(t *testing.T) {
	const body = "7+5=12 w2 c1; 4+8+1=13 w3 c1; 3+2+1=6 w6 c0; ans 632"
	flat := `{"question":"347+285=?","solution":"632","explanation":"` + body + `"}` + "\n"
	runDir := importAccepted(t, []byte(flat))
	code, exported, errs := runCLI(t, "", "export", "--run", runDir)
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, errs)
	}
	var distilled bytes.Buffer // as rlt distill writes its rows
	if err := record.NewStratosWriter(&distilled, "Solve: thought, then solution.").Write("347+285=?", body, "632"); err != nil {
		t.Fatal(err)
	}
	if distilled.String() != strings.Replace(exported, record.DefaultStudentSystem, "Solve: thought, then solution.", 1) {
		t.Errorf("rlt export wrote\n%s\nrlt distill writes\n%s", exported, distilled.String())
	}
	padded := `{"conversations":[{"from":"user","value":"347+285=?"},{"from":"assistant","value":"<|begin_of_thought|>\n\n` + body +
		`<|end_of_thought|>\n\n<|begin_of_solution|>632<|end_of_solution|>"}]}` + "\n"
	args := []string{"score", "--teacher", embeddedTeacher, "--student", embeddedStudent, "--device", "cpu"}
	code, want, errs := runCLI(t, flat, args...)
	if code != 0 {
		t.Fatalf("score the flat row: exit %d: %s", code, errs)
	}
	for _, tc := range []struct{ name, in string }{
		{"rlt export's row", exported}, {"rlt distill's row", distilled.String()}, {"Bespoke-Stratos-17k's padding", padded},
	} {
		code, got, errs := runCLI(t, tc.in, args...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.name, code, errs)
		}
		sameScores(t, tc.name, scoreLines(t, got), scoreLines(t, want))
	}
}

// TestScoreLongLine: a stdin line longer than score reads (64 MiB, far
// beyond any model's positions) is that line's error record, and the lines
// around it are scored; the scoring stopped at it with "bufio.Scanner: token
// too long", the lines before it read and never written.
func TestScoreLongLine(t *testing.T) {
	ok := `{"question":"347+285=?","solution":"632","explanation":"7+5=12 w2 c1"}` + "\n"
	long := `{"question":"1+1=?","solution":"2","explanation":"` + strings.Repeat("y", maxScoreLine) + `"}` + "\n"
	code, out, errs := runCLI(t, ok+long+ok, "score", "--teacher", embeddedTeacher, "--student", embeddedStudent, "--device", "cpu")
	if code != 1 || !strings.Contains(errs, "1 input line failed") {
		t.Fatalf("exit %d, want 1 for the one long line: %s", code, errs)
	}
	lines := scoreLines(t, out)
	if len(lines) != 3 || lines[0]["reward"] == nil || lines[2]["reward"] == nil || lines[2]["line"] != 3.0 {
		t.Fatalf("%d output lines, want lines 1 and 3 scored:\n%.300s", len(lines), out)
	}
	if msg, _ := lines[1]["error"].(string); lines[1]["line"] != 2.0 || !strings.Contains(msg, "line is longer than 64 MiB") {
		t.Errorf("line 2: %v", lines[1])
	}
}

// TestScoreRefusesReservedTagsInExplanations: a stdin row whose explanation
// (however given) holds a reserved tag is refused on its own output line,
// with its line number and the tag, as the data loaders refuse it, and the
// rows around it are scored (an explanation of "<|end_of_thought|>" was
// scored, reward +14.8).
func TestScoreRefusesReservedTagsInExplanations(t *testing.T) {
	model := tinyFolder(t, "f32")
	for _, c := range []struct {
		row, want string // want "": scored
	}{
		{`{"question":"1+1=?","solution":"2","explanation":"one and one"}`, ""},
		{`{"question":"1+1=?","solution":"2","explanation":"` + record.EndThought + `"}`, "explanation contains the tag " + record.EndThought + ", which would change the prompt's structure; remove it"},
		{`{"question":"1+1=?","solution":"2","reasoning_trace":"so ` + record.ImEnd + ` 2"}`, "reasoning_trace contains the tag " + record.ImEnd},
		{`{"question":"1+1=?","solution":"2","completion":"x ` + record.ImStart + ` y` + record.EndExplanation + `"}`, "completion contains the tag " + record.ImStart},
		{`{"question":"1+1=?","solution":"2","completion":"one and one` + record.EndExplanation + ` after the end ` + record.ImEnd + `"}`, ""}, // past the explanation's end: not its text
	} {
		in := `{"question":"2+2=?","solution":"4","explanation":"two and two"}` + "\n" + c.row + "\n"
		code, out, errs := runCLI(t, in, "score", "--teacher", model, "--student", model, "--device", "cpu")
		lines := scoreLines(t, out)
		if len(lines) != 2 || lines[0]["reward"] == nil {
			t.Fatalf("%s: %d output lines, want 2, the first scored:\n%.300s\n%s", c.row, len(lines), out, errs)
		}
		msg, _ := lines[1]["error"].(string)
		switch {
		case c.want == "" && (code != 0 || lines[1]["reward"] == nil):
			t.Errorf("%s: exit %d, %v; want it scored", c.row, code, lines[1])
		case c.want != "" && (code != 1 || lines[1]["line"] != 2.0 || !strings.HasPrefix(msg, c.want) || !strings.Contains(errs, "1 input line failed")):
			t.Errorf("%s: exit %d, %v; want exit 1 and line 2's error %q", c.row, code, lines[1], c.want)
		}
	}
}

// TestScoreStdinDocument: stdin that is one JSON document instead of JSON
// Lines (a pretty-printed array or object, a one-line array) is said once,
// in the words the file readers use (record.JSONDocument), with the jq
// command that writes it as JSON Lines: exit 1, nothing scored, no model
// loaded. It was one error line per input line. Past the 1 MiB score looks
// ahead, a first line that begins an array, or an object's that is not
// whole with no whole object after it, is refused the same way; JSON Lines
// (whose first row may be broken) is scored as before.
func TestScoreStdinDocument(t *testing.T) {
	row := `{"question":"347+285=?","solution":"632","explanation":"7+5=12 w2 c1"}`
	pretty := "{\n  \"question\": \"347+285=?\",\n  \"solution\": \"632\",\n  \"explanation\": \"7+5=12\"\n}"
	var bigArray, bigObject strings.Builder
	bigArray.WriteString("[\n")
	bigObject.WriteString("{\n  \"rows\": [\n")
	for bigArray.Len() < 2<<20 {
		bigArray.WriteString(pretty + ",\n")
		bigObject.WriteString(pretty + ",\n")
	}
	bigArray.WriteString(pretty + "\n]\n")
	bigObject.WriteString(pretty + "\n]}\n")
	var cut strings.Builder // JSON Lines over 1 MiB, its first row cut short
	cut.WriteString(`{"question": "1+1=?",` + "\n")
	for cut.Len() < 2<<20 {
		cut.WriteString(`{"question":"1+1=?","solution":"2"}` + "\n")
	}
	const fix = ": write one object a line (e.g. jq -c '.[]' FILE > rows.jsonl) and give that on stdin"
	for _, c := range []struct {
		name, stdin string
		want        string // stderr, one line; "" = JSON Lines, scored
	}{
		{"a pretty-printed array", "[\n" + pretty + ",\n" + pretty + "\n]\n",
			"rlt score: stdin: one JSON array over 12 lines, not JSON Lines, so nothing was scored" + fix},
		{"an array on one line", "[" + row + "," + row + "]\n",
			"rlt score: stdin: one JSON array on one line, not JSON Lines, so nothing was scored" + fix},
		{"with a byte-order mark and CRLF line ends", "\ufeff[\r\n" + strings.ReplaceAll(pretty, "\n", "\r\n") + "\r\n]",
			"rlt score: stdin: one JSON array over 7 lines, not JSON Lines, so nothing was scored" + fix},
		{"a pretty-printed object", pretty + "\n",
			"rlt score: stdin: one JSON object over 5 lines, not JSON Lines, so nothing was scored: write one object a line (e.g. jq -c '.' FILE > rows.jsonl) and give that on stdin"},
		{"rows under a key", "{\"rows\": [\n" + row + ",\n" + row + "\n]}\n",
			"rlt score: stdin: one JSON object over 4 lines, not JSON Lines, so nothing was scored: write one object a line (e.g. jq -c '.rows[]' FILE > rows.jsonl) and give that on stdin"},
		{"an array past the look ahead", bigArray.String(),
			`rlt score: stdin: a JSON array (its first line is "["), not JSON Lines, so nothing was scored` + fix},
		{"an object past the look ahead", bigObject.String(),
			`rlt score: stdin: one JSON object over several lines (its first line, "{", is not a whole object, nor is any line of the first MiB after it), not JSON Lines, so nothing was scored: ` +
				`write one object a line (e.g. jq -c . FILE > rows.jsonl, or jq -c '.KEY[]' for rows listed under KEY) and give that on stdin`},
		{"JSON Lines", row + "\n" + row, ""},
		{"JSON Lines of one row", row, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCLI(t, c.stdin, "score", "--teacher", embeddedTeacher, "--student", embeddedStudent, "--device", "cpu")
			if c.want == "" {
				if code != 0 || strings.Count(out, `"reward"`) != strings.Count(c.stdin, row) {
					t.Errorf("exit %d, want every row scored:\n%.300s\n%s", code, out, errs)
				}
				return
			}
			if code != 1 || out != "" || errs != c.want+"\n" {
				t.Errorf("exit %d, stdout %.200q, stderr:\n%s\nwant exit 1, nothing scored and only\n%s", code, out, errs, c.want)
			}
		})
	}
	// JSON Lines past the look ahead whose first row is cut short: that
	// row's line says so, and every other line is its own.
	code, out, errs := runCLI(t, cut.String(), "score", "--teacher", embeddedTeacher, "--student", embeddedStudent, "--device", "cpu")
	lines := strings.Count(cut.String(), "\n")
	if code != 1 || !strings.HasPrefix(out, `{"line":1,"error":"not JSON`) || strings.Count(out, `"error"`) != lines {
		t.Errorf("JSON Lines whose first row is cut short: exit %d, %d error lines, want %d:\n%.300s\n%.300s", code, strings.Count(out, `"error"`), lines, out, errs)
	}
}

// TestScoreStdinStreams: looking at stdin for a JSON document does not
// hold a stream of rows back: a row is scored (with --batch 1) while
// stdin is still open.
func TestScoreStdinStreams(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan int, 1)
	go func() {
		code := run([]string{"score", "--teacher", embeddedTeacher, "--student", embeddedStudent, "--device", "cpu", "--batch", "1"}, inR, outW, io.Discard)
		outW.Close()
		done <- code
	}()
	row := `{"question":"347+285=?","solution":"632","explanation":"7+5=12 w2 c1"}` + "\n"
	if _, err := io.WriteString(inW, row); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(outR).ReadString('\n')
		got <- line
	}()
	select {
	case line := <-got:
		if !strings.HasPrefix(line, `{"line":1,`) || !strings.Contains(line, `"reward"`) {
			t.Errorf("first output line %.200q, want row 1 scored", line)
		}
	case <-time.After(time.Minute):
		t.Error("no score for the first row while stdin stays open")
	}
	inW.Close()
	go io.Copy(io.Discard, outR)
	if code := <-done; code != 0 {
		t.Errorf("exit %d", code)
	}
}

// A model folder whose tokenizer is not --tokenizer's (one server, one
// folder) is refused with each tokenizer named by the role it was given:
// the refusal said "for the teacher" of --tokenizer's and "for the
// student" of the folder's, the teacher's too.
func TestScoreTokenizerRefusalNamesTheRolesGiven(t *testing.T) {
	other := filepath.Join(t.TempDir(), "other")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"config.json", "tokenizer.json", "prompts.json", "model.safetensors"} {
		b, err := os.ReadFile(filepath.Join(embeddedTeacher, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "tokenizer.json" {
			b = bytes.ReplaceAll(b, []byte("<|im_end|>"), []byte("<|im_stop|>"))
		}
		if err := os.WriteFile(filepath.Join(other, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const in = `{"question":"1+2=?","solution":"3","explanation":"1+2=3"}` + "\n"
	for _, c := range []struct {
		name             string
		teacher, student string
		want             string
	}{
		// The student's server is never asked: the teacher is refused first.
		{"the teacher's folder", other, "http://127.0.0.1:1", `"<|im_end|>" for --tokenizer and "<|im_stop|>" for the teacher; `},
		{"the student's folder", startServe(t, "--model", embeddedTeacher), other, `"<|im_end|>" for --tokenizer and "<|im_stop|>" for the student; `},
	} {
		code, _, errs := runCLI(t, in, "score", "--teacher", c.teacher, "--student", c.student, "--tokenizer", embeddedTeacher, "--device", "cpu")
		if want := embeddedTeacher + " and " + other + ": different tokenizers: token "; code != 1 || !strings.Contains(errs, want) || !strings.Contains(errs, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 1 and %q, %q", c.name, code, errs, want, c.want)
		}
	}
}
