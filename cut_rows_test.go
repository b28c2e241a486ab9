package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
)

// TestDistillReferenceLeavesACutSampleOut: rlt distill --data --reference
// leaves out a line of rlt distill --samples-out marked "cut": true, said
// at its line in rlt import's words (record.CutRowReason) and counted
// among the rows skipped: its trace is the part of the teacher's
// completion that fit the models that scored it, and --reference
// distilled it as a whole explanation, the sample rlt distill never keeps
// and rlt import leaves out. A "cut" of false, absent or no boolean is
// distilled as before; without --reference the row's question and
// solution are whole and the teacher explains them anew, so it is kept.
func TestDistillReferenceLeavesACutSampleOut(t *testing.T) {
	data := filepath.Join(t.TempDir(), "samples.jsonl")
	rows := `{"question": "3+4=?", "solution": "7", "completion": "3+4=7 w7 c0; ans 7` + record.EndExplanation + `", "cut": false}` + "\n" +
		`{"question": "5+5=?", "solution": "10", "completion": "5+5=10 w0", "cut": true}` + "\n" +
		`{"question": "2+2=?", "solution": "4", "completion": "2+2=4 w4 c0; ans 4` + record.EndExplanation + `"}` + "\n" +
		`{"question": "6+1=?", "solution": "7", "completion": "6+1=7 w7 c0; ans 7` + record.EndExplanation + `", "cut": "yes"}` + "\n"
	if err := os.WriteFile(data, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	code, _, errs := runCLI(t, "", "distill", "--reference", "--tokenizer-from", distillTeacher, "--data", data, "--out", out,
		"--steps", "1", "--device", "cpu")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := "skipped 1 of 4 rows: line 2: " + record.CutRowReason() + "; --reference does not distill it"
	if !strings.Contains(errs, want) {
		t.Errorf("stderr %q\nwant %q", errs, want)
	}
	got, err := os.ReadFile(filepath.Join(out, "distill.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(got), "\n"); n != 3 || strings.Contains(string(got), "5+5") {
		t.Errorf("distill.jsonl holds %d rows, want 3 without 5+5=?:\n%s", n, got)
	}
	// The teacher's own explanations: the cut row's question is one.
	out = filepath.Join(t.TempDir(), "out")
	code, _, errs = runCLI(t, "", "distill", "--teacher", distillTeacher, "--data", data, "--out", out,
		"--steps", "1", "--max-new-tokens", "8", "--device", "cpu")
	if code != 0 {
		t.Fatalf("--teacher: exit %d: %s", code, errs)
	}
	if strings.Contains(errs, "skipped") {
		t.Errorf("--teacher: stderr %q; want no row skipped", errs)
	}
	if got, err = os.ReadFile(filepath.Join(out, "distill.jsonl")); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(got), "\n"); n != 4 || !strings.Contains(string(got), "5+5") {
		t.Errorf("--teacher: distill.jsonl holds %d rows, want 4 with 5+5=?:\n%s", n, got)
	}
}

// TestScoreSaysItsCutRows: rlt score scores a stdin row marked "cut": true
// as it is (rescoring rlt distill --samples-out reproduces every reward
// its ranking took, a cut one's too), marks its output line "cut": true,
// and says on stderr which lines were cut, so that a reader comparing
// rewards knows which are of a cut completion. It said nothing: a cut
// row's reward read as one of all the teacher wrote.
func TestScoreSaysItsCutRows(t *testing.T) {
	model := tinyFolder(t, "f32")
	in := `{"question":"2+2=?","solution":"4","completion":"two and two` + record.EndExplanation + `","cut":false}` + "\n" +
		`{"question":"1+1=?","solution":"2","completion":"one and","cut":true}` + "\n" +
		`{"question":"1+1=?","solution":"2","completion":"one and one` + record.EndExplanation + `"}` + "\n"
	code, out, errs := runCLI(t, in, "score", "--teacher", model, "--student", model, "--device", "cpu")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := scoreLines(t, out)
	if len(lines) != 3 {
		t.Fatalf("%d output lines, want 3:\n%s", len(lines), out)
	}
	for i, l := range lines {
		if l["reward"] == nil {
			t.Errorf("line %d not scored: %v", i+1, l)
		}
		if cut, _ := l["cut"].(bool); cut != (i == 1) {
			t.Errorf("line %d: cut %v, want %v", i+1, l["cut"], i == 1)
		}
	}
	want := `1 row scored marked "cut": true (line 2): each completion is the part of the teacher's that fit the models that scored it (rlt distill --samples-out)`
	if !strings.Contains(errs, want) {
		t.Errorf("stderr %q\nwant %q", errs, want)
	}
}

// TestScoreCutLinesBounded: rlt score keeps, of the cut lines it scored,
// their count and the first ten, what its note says (cutScoredNote,
// firstLines): it kept every line number, so a stdin of a million cut
// samples held a million of them to name ten.
func TestScoreCutLinesBounded(t *testing.T) {
	for _, c := range []struct {
		n    int
		want string // the note's start
	}{
		{1, `1 row scored marked "cut": true (line 3): `},
		{10, `10 rows scored marked "cut": true (lines 3, 5, 7, 9, 11, 13, 15, 17, 19, 21): `},
		{11, `11 rows scored marked "cut": true (lines 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, …): `},
		{1_000_000, `1000000 rows scored marked "cut": true (lines 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, …): `},
	} {
		var cut firstLines
		for i := range c.n {
			cut.add(3 + 2*i)
		}
		if cut.n != c.n || len(cut.first) > linesShown || cap(cut.first) > 2*linesShown {
			t.Errorf("%d lines: kept %d of them (capacity %d), count %d; want at most %d kept and the count %d", c.n, len(cut.first), cap(cut.first), cut.n, linesShown, c.n)
		}
		if got := cutScoredNote(cut); !strings.HasPrefix(got, c.want) {
			t.Errorf("%d lines: note %q\nwant it to start %q", c.n, got, c.want)
		}
	}
}

// TestDistillReferenceLeavesUnkeptSamplesOut: rlt distill --data
// --reference of rlt distill --samples-out's file distills each question's
// kept sample and leaves out those marked "kept": false, the samples its
// ranking did not keep, said once with their count and lines: it
// distilled every sample, each question N times, of the explanations the
// ranking rejected too. A "kept" of true, null or no boolean is kept; a
// file whose every row is not kept has no row to explain, said so.
func TestDistillReferenceLeavesUnkeptSamplesOut(t *testing.T) {
	line := func(q, sol, expl, kept string) string {
		return `{"group":0,"sample":0,"question":"` + q + `","solution":"` + sol + `","completion":"` + expl + record.EndExplanation + `","reward":-1` + kept + "}\n"
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "samples.jsonl")
	rows := line("3+4=?", "7", "3+4=7 w7 c1; ans 7", `,"kept":false`) +
		line("3+4=?", "7", "3+4=7 w7 c0; ans 7", `,"kept":true`) +
		line("2+2=?", "4", "2+2=4 w4 c0; ans 4", `,"kept":true`) +
		line("2+2=?", "4", "2+2=4 w4 c1; ans 4", `,"kept":false`) +
		line("6+1=?", "7", "6+1=7 w7 c1; ans 7", `,"kept":false`) +
		line("6+1=?", "7", "6+1=7 w7 c2; ans 7", `,"kept":false,"cut":true`) +
		line("5+3=?", "8", "5+3=8 w8 c0; ans 8", `,"kept":"yes"`) +
		line("1+1=?", "2", "1+1=2 w2 c0; ans 2", `,"kept":null`)
	if err := os.WriteFile(data, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	code, _, errs := runCLI(t, "", "distill", "--reference", "--tokenizer-from", distillTeacher, "--data", data, "--out", out,
		"--steps", "1", "--device", "cpu")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := "data " + data + `: left out 4 of its 8 rows, marked "kept": false (lines 1, 4, 5, 6): samples of rlt distill --samples-out that its ranking did not keep; --reference distills the kept ones, each question's once`
	if !strings.Contains(errs, want) || strings.Count(errs, `"kept": false`) != 1 || strings.Contains(errs, "skipped") {
		t.Errorf("stderr %q\nwant once, and nothing skipped: %q", errs, want)
	}
	got, err := os.ReadFile(filepath.Join(out, "distill.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(got), "\n"); n != 4 || strings.Contains(string(got), "c1") || strings.Contains(string(got), "6+1") {
		t.Errorf("distill.jsonl holds %d rows, want 4: the kept ones, none of c1 or of 6+1=?:\n%s", n, got)
	}
	// None kept: nothing to distill, and why.
	none := filepath.Join(dir, "none.jsonl")
	if err := os.WriteFile(none, []byte(line("6+1=?", "7", "6+1=7 w7 c1; ans 7", `,"kept":false`)+line("6+1=?", "7", "6+1=7 w7 c2; ans 7", `,"kept":false`)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runCLI(t, "", "distill", "--reference", "--tokenizer-from", distillTeacher, "--data", none, "--out", filepath.Join(dir, "none"),
		"--steps", "1", "--device", "cpu")
	if want := "data " + none + `: no row to explain: left out 2 of its 2 rows, marked "kept": false (lines 1, 2)`; code == 0 || !strings.Contains(errs, want) || strings.Count(errs, "left out") != 1 {
		t.Errorf("exit %d, stderr %q\nwant it to say once %q", code, errs, want)
	}
}

// TestDistillReferenceTakesEachKeptQuestionOnce: rlt distill --data
// --reference of a file of two rankings joined (each question's kept
// sample twice) distills each question's kept sample once, the first, as
// rlt import takes it: a line marked "kept": true asking an earlier kept
// line's question with its solution is left out, said once with the lines.
// It distilled both, the student learning the question twice. A kept row
// skipped for its own fault (cut) leaves its question to the next; a row
// without the field (every sample, as the user asked) is distilled.
func TestDistillReferenceTakesEachKeptQuestionOnce(t *testing.T) {
	line := func(q, sol, expl, kept string) string {
		return `{"group":0,"sample":0,"question":"` + q + `","solution":"` + sol + `","completion":"` + expl + record.EndExplanation + `","reward":-1` + kept + "}\n"
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "joined.jsonl")
	rows := line("3+4=?", "7", "3+4=7 w7 c0; ans 7", `,"kept":true`) +
		line("2+2=?", "4", "2+2=4 w4 c0; ans 4", `,"kept":true`) +
		line("6+1=?", "7", "6+1=7 w7 c0; ans 7", `,"kept":true,"cut":true`) +
		line("3+4=?", "7", "3+4=7 w7 c1; ans 7", `,"kept":false`) +
		line("3+4=?", "7", "3+4=7 w7 c2; ans 7", `,"kept":true`) +
		line("6+1=?", "7", "6+1=7 w7 c3; ans 7", `,"kept":true`) +
		line("2+2=?", "4", "2+2=4 w4 c4; ans 4", `,"kept":true`) +
		line("3+4=?", "7", "3+4=7 w7 c5; ans 7", "")
	if err := os.WriteFile(data, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	code, _, errs := runCLI(t, "", "distill", "--reference", "--tokenizer-from", distillTeacher, "--data", data, "--out", out,
		"--steps", "1", "--device", "cpu")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := "data " + data + `: left out 2 of its 8 rows, ` + record.RepeatedRows + ` (lines 5, 7), each marked "kept": true as an earlier one was: --reference distills each question's kept sample once, the first`
	if !strings.Contains(errs, want) || strings.Count(errs, "kept\": true as") != 1 {
		t.Errorf("stderr %q\nwant once %q", errs, want)
	}
	got, err := os.ReadFile(filepath.Join(out, "distill.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var expls []string
	for _, l := range strings.Split(strings.TrimSpace(string(got)), "\n") {
		r, err := record.ParseRow([]byte(l))
		if err != nil {
			t.Fatalf("distill.jsonl line %q: %v", l, err)
		}
		expls = append(expls, strings.TrimSuffix(r.Explanation, record.EndExplanation))
	}
	if w := "3+4=7 w7 c0; ans 7, 2+2=4 w4 c0; ans 4, 6+1=7 w7 c3; ans 7, 3+4=7 w7 c5; ans 7"; strings.Join(expls, ", ") != w {
		t.Errorf("distill.jsonl's explanations %q\nwant %s", expls, w)
	}
}

// TestDistillDataExplainsEachQuestionOnce: rlt distill --teacher --data of
// rlt distill --samples-out's file (each question once per sample) has
// the teacher explain each question once: the rows asking an earlier
// row's question with its solution are left out, said once with their
// count and lines, as --reference says the rows not kept. It explained
// and distilled each question once per row, N times. A question whose
// samples were all not kept is explained (the marks are of the samples'
// explanations, which the teacher does not read), and one with another
// solution is another row.
func TestDistillDataExplainsEachQuestionOnce(t *testing.T) {
	line := func(q, sol, kept string) string {
		return `{"group":0,"sample":0,"question":"` + q + `","solution":"` + sol + `","completion":"x` + record.EndExplanation + `","reward":-1,"kept":` + kept + "}\n"
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "samples.jsonl")
	rows := line("3+4=?", "7", "false") + line("3+4=?", "7", "true") + line("3+4=?", "7", "false") +
		line("6+1=?", "7", "false") + line("6+1=?", "7", "false") +
		line("a colour?", "red", "true") + line("a colour?", "blue", "true")
	if err := os.WriteFile(data, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	code, _, errs := runCLI(t, "", "distill", "--teacher", distillTeacher, "--data", data, "--out", out,
		"--steps", "1", "--max-new-tokens", "8", "--device", "cpu")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := "data " + data + ": left out 3 of its 7 rows, each an earlier row's question with its solution (lines 2, 3, 5): without --reference the teacher explains each question anew, once"
	if !strings.Contains(errs, want) || strings.Count(errs, "left out") != 1 || strings.Contains(errs, "skipped") {
		t.Errorf("stderr %q\nwant once, and nothing skipped: %q", errs, want)
	}
	got, err := os.ReadFile(filepath.Join(out, "distill.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var qs []string
	for _, l := range strings.Split(strings.TrimSpace(string(got)), "\n") {
		var r record.Row
		if r, err = record.ParseRow([]byte(l)); err != nil {
			t.Fatalf("distill.jsonl line %q: %v", l, err)
		}
		qs = append(qs, r.Question+" "+r.Solution)
	}
	if strings.Join(qs, ", ") != "3+4=? 7, 6+1=? 7, a colour? red, a colour? blue" {
		t.Errorf("distill.jsonl of %q; want each question once, in the file's order:\n%s", qs, got)
	}
}
