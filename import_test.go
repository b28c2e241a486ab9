package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/warmstart"
	"github.com/rlt-workbench/rlt/sessions"
)

const (
	officialFixture = "sessions/testdata/official/run"
	embeddedTeacher = "engine/defaults/models/teacher"
	embeddedStudent = "engine/defaults/models/student"
)

func dirDigest(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, _ := d.Info()
		fmt.Fprintf(h, "%s %v %d\n", p, info.Mode(), info.ModTime().UnixNano())
		if d.Type().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h.Write(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// scoreRecord is what both modes of rlt score write per item.
type scoreRecord struct {
	Line     int       `json:"line"`
	Trace    string    `json:"trace"`
	Reward   *float64  `json:"reward"`
	RSS      float64   `json:"r_ss"`
	RKL      float64   `json:"r_kl"`
	Penalty  float64   `json:"penalty"`
	D        []float64 `json:"d"`
	ExplToks []string  `json:"explanation_tokens"`
	SolLP    []float64 `json:"solution_logprobs"`
	Error    string    `json:"error"`
}

func parseScores(t *testing.T, out string) []scoreRecord {
	t.Helper()
	var recs []scoreRecord
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var r scoreRecord
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("output line %q: %v", l, err)
		}
		recs = append(recs, r)
	}
	return recs
}

// TestImportScoreReviewExport: the official trainer's folder is imported,
// every trace re-scored by the real engine on the embedded models (and the
// scores stored beside the traces), reviewed, and exported — the source
// untouched throughout.
func TestImportScoreReviewExport(t *testing.T) {
	before := dirDigest(t, officialFixture)
	runDir := filepath.Join(t.TempDir(), "official")
	code, out, errs := runCLI(t, "", "import", officialFixture, "--out", runDir)
	if code != 0 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	for _, want := range []string{"run folder " + runDir, "official trainer folder): 5 traces, 3 metric records (4 log_history entries)",
		"left out: 0 rows", "2 log_history entries of step 3 merged"} {
		if !strings.Contains(out, want) {
			t.Errorf("import summary lacks %q:\n%s", want, out)
		}
	}

	prompts := warmstart.ShortPrompts() // what the embedded models were trained with
	scoreArgs := []string{"score", "--teacher", embeddedTeacher, "--student", embeddedStudent,
		"--teacher-system", prompts.TeacherSystem, "--student-system", prompts.StudentSystem, "--batch", "2"}
	code, out, errs = runCLI(t, "", append(scoreArgs, "--run", runDir, "--write")...)
	if code != 0 {
		t.Fatalf("score --run --write: exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, "scored 5 of 5 traces") || !strings.Contains(errs, "5 stored in") {
		t.Errorf("score summary: %s", errs)
	}
	scores := parseScores(t, out)
	ids := []string{"1-0-0", "1-0-1", "2-0-0", "2-0-1", "2-0-2"}
	if len(scores) != len(ids) {
		t.Fatalf("%d score lines:\n%s", len(scores), out)
	}
	for i, s := range scores {
		if s.Trace != ids[i] || s.Line != i+1 || s.Reward == nil || s.Error != "" || len(s.D) == 0 || len(s.D) != len(s.ExplToks) || len(s.SolLP) == 0 {
			t.Errorf("score line %d: %+v", i+1, s)
		}
	}
	if scores[3].Penalty != -1 || scores[0].Penalty != 0 { // "What is 10/4?" has no end tag
		t.Errorf("penalties %v %v, want 0 and -1", scores[0].Penalty, scores[3].Penalty)
	}
	// The stdin mode gives the same numbers for the same text.
	in := `{"question":"Is 7 prime?","solution":"Yes","explanation":"A number is \"prime\" when its only divisors are 1 and itself, and 7\nhas no divisors, like 2, 3 or 5,\n\nso yes."}` + "\n"
	code, out, errs = runCLI(t, in, scoreArgs...)
	if code != 0 {
		t.Fatalf("score stdin: exit %d: %s", code, errs)
	}
	if one := parseScores(t, out)[0]; one.Reward == nil || *one.Reward != *scores[1].Reward || one.RKL != scores[1].RKL {
		t.Errorf("stdin mode reward %v, run mode %v", one.Reward, *scores[1].Reward)
	}

	// Review: the rescores left the traces and their IDs alone.
	w, err := sessions.Open(runDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		id string
		l  sessions.Label
	}{{"1-0-0", sessions.LabelAccept}, {"2-0-1", sessions.LabelAccept}, {"1-0-1", sessions.LabelReject}, {"2-0-0", sessions.LabelAccept}} {
		if err := w.Review(r.id, r.l, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Undo("2-0-0"); err != nil {
		t.Fatal(err)
	}
	if rs, ok := w.Store().Rescore("1-0-1"); !ok || rs.Terms.Reward != *scores[1].Reward || !strings.HasSuffix(rs.Teacher, filepath.FromSlash(embeddedTeacher)) {
		t.Errorf("stored rescore %+v", rs)
	}
	if tr, _ := w.Store().Trace("1-0-1"); tr.HasScore || !tr.HasSourceReward || tr.SourceReward != -1.17 {
		t.Errorf("the imported trace changed: %+v", tr)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	csvPath := filepath.Join(t.TempDir(), "accepted.csv")
	code, _, errs = runCLI(t, "", "export", "--run", runDir, "--format", "csv", "--out", csvPath)
	if code != 0 || !strings.Contains(errs, "2 written; left out: 2 unreviewed, 1 rejected, 0 flagged, 0 unreadable, 0 refused") {
		t.Fatalf("export csv: exit %d: %s", code, errs)
	}
	data, _ := os.ReadFile(csvPath)
	if rows := strings.Count(string(data), "\n1,0,0,") + strings.Count(string(data), "\n2,0,1,"); rows != 2 {
		t.Errorf("csv export:\n%s", data)
	}
	code, out, errs = runCLI(t, "", "export", "--run", runDir)
	if code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(out, "Adding 2 and 3 gives 5.") || !strings.Contains(out, "Divide: 10 = 4*2 + 2") {
		t.Errorf("export stratos: exit %d: %s\n%s", code, errs, out)
	}
	code, out, _ = runCLI(t, "", "sessions", "--runs", filepath.Dir(runDir))
	if code != 0 || !regexp.MustCompile(`official\s+finished\s+3/3\s+-0.9100`).MatchString(out) {
		t.Errorf("sessions: %s", out)
	}
	if dirDigest(t, officialFixture) != before {
		t.Error("the official folder changed")
	}
}

func TestImportTracesFileCLI(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "mine.jsonl")
	os.WriteFile(src, []byte(`{"question":"1+1=?","solution":"2","explanation":"one and one"}`+"\n"+
		`{"question":"2+2=?"}`+"\n"+`{"question":"3+3=?","solution":"6","completion":"three twice<|end_of_explanation|>","reward":-2}`+"\n"), 0o644)
	runs := filepath.Join(dir, "runs")
	code, out, errs := runCLI(t, "", "import", "--runs", runs, src)
	if code != 0 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "(traces file): 2 traces") || !strings.Contains(out, "left out: 1 row\n") ||
		!strings.Contains(out, `mine.jsonl:2: missing field "solution"`) {
		t.Errorf("summary:\n%s", out)
	}
	entries, _ := os.ReadDir(runs)
	if len(entries) != 1 || !strings.HasSuffix(entries[0].Name(), "-mine") {
		t.Fatalf("run folders %v", entries)
	}
	prompts := warmstart.ShortPrompts()
	code, out, errs = runCLI(t, "", "score", "--teacher", embeddedTeacher, "--student", embeddedStudent,
		"--teacher-system", prompts.TeacherSystem, "--student-system", prompts.StudentSystem,
		"--run", filepath.Join(runs, entries[0].Name()))
	if code != 0 {
		t.Fatalf("score --run: exit %d: %s", code, errs)
	}
	if s := parseScores(t, out); len(s) != 2 || s[0].Trace != "0-0-0" || s[1].Trace != "0-0-1" || s[1].Penalty != 0 {
		t.Errorf("scores %+v", s)
	}
	if _, err := os.Stat(filepath.Join(runs, entries[0].Name(), sessions.RescoresFile)); err == nil {
		t.Error("score --run without --write wrote rescores")
	}
	// Without --teacher and --student, score --run takes the models the
	// run's config.toml records, and says so when it records none.
	runDir := filepath.Join(runs, entries[0].Name())
	code, _, errs = runCLI(t, "", "score", "--run", runDir)
	if code != 1 || !strings.Contains(errs, "records no teacher or student model: give --teacher and --student") {
		t.Errorf("score --run of an import, no models: exit %d: %s", code, errs)
	}
	cfgPath := filepath.Join(runDir, sessions.ConfigFile)
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	models := fmt.Sprintf("teacher = %q\nstudent = %q\n", embeddedTeacher, embeddedStudent)
	if err := os.WriteFile(cfgPath, append([]byte(models), cfg...), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out2, errs := runCLI(t, "", "score", "--run", runDir,
		"--teacher-system", prompts.TeacherSystem, "--student-system", prompts.StudentSystem)
	if code != 0 || out2 != out {
		t.Errorf("score --run with the run's models: exit %d (%s), output differs from --teacher/--student's: %v", code, errs, out2 != out)
	}
}

func TestImportScoreCLIErrors(t *testing.T) {
	tmp := t.TempDir()
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"import"}, 2, "Usage: rlt import"},
		{[]string{"import", "a", "b"}, 2, "Usage: rlt import"},
		{[]string{"import", filepath.Join(t.TempDir(), "missing")}, 1, "missing does not exist: give a trainer's run folder, or a file of traces"},
		{[]string{"import", officialFixture, "--out", officialFixture + "/sub"}, 1, "inside the source"},
		{[]string{"score", "--teacher", embeddedTeacher, "--student", embeddedStudent, "--write"}, 2, "Usage: rlt score"},
		{[]string{"open"}, 2, "Usage: rlt open"},
		{[]string{"open", filepath.Join(t.TempDir(), "missing")}, 1, "missing: no such folder: give a run folder"},
		// The command said once: not "rlt open: open DIR: …".
		{[]string{"open", filepath.Join(tmp, "missing")}, 1, "rlt open: " + filepath.Join(tmp, "missing") + ": no such folder: give a run folder"},
		{[]string{"score", "--teacher", embeddedTeacher, "--student", embeddedStudent, "--run", t.TempDir()}, 1, "not a run folder"},
		// A run folder that does not exist is said to be missing, not "not a run folder".
		{[]string{"score", "--teacher", embeddedTeacher, "--student", embeddedStudent, "--run", "missing-run"}, 1, "missing-run does not exist"},
		{[]string{"export", "--run", "missing-run"}, 1, "missing-run does not exist"},
		{[]string{"run", "--headless", "--device", "cpu", "--resume", "missing-run"}, 1, "missing-run does not exist"},
	}
	for _, c := range cases {
		code, out, errs := runCLI(t, "", c.args...)
		if code != c.code || !strings.Contains(out+errs, c.want) {
			t.Errorf("rlt %v: exit %d, %q; want exit %d and %q", c.args, code, out+errs, c.code, c.want)
		}
	}
}

// TestImportIntoAnExistingRun: an --out that holds a run is refused before
// anything is read or written, with what works for that run (an imported
// one cannot be resumed, so that is not suggested for it); --out with
// --runs is a wrong call, not --runs silently ignored.
func TestImportIntoAnExistingRun(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "traces.jsonl")
	os.WriteFile(src, []byte(`{"question":"1+1=?","solution":"2","explanation":"one and one"}`+"\n"), 0o644)
	imported := filepath.Join(root, "imp")
	if code, _, errs := runCLI(t, "", "import", src, "--out", imported); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	ours := filepath.Join(root, "ours")
	r := createAdditionRun(t, ours)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	both, runs := filepath.Join(root, "both"), filepath.Join(root, "runs")
	for _, tc := range []struct {
		name    string
		args    []string
		code    int
		want    []string
		notWant string
		dir     string // left as it was
	}{
		{"imported run", []string{"import", src, "--out", imported}, 1,
			[]string{"--out " + imported + " already holds a run, imported from", "choose another --out", "rlt open " + imported, "rlt score --run " + imported}, "--resume", imported},
		{"run of ours", []string{"import", src, "--out", ours}, 1,
			[]string{"--out " + ours + " already holds a run", "choose another --out", "rlt run --resume " + ours}, "imported from", ours},
		{"--out and --runs", []string{"import", src, "--out", both, "--runs", runs}, 2,
			[]string{"--out and --runs both given"}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := ""
			if tc.dir != "" {
				before = dirDigest(t, tc.dir)
			}
			code, out, errs := runCLI(t, "", tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s%s", code, tc.code, out, errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr %q, want %q", errs, w)
				}
			}
			if tc.notWant != "" && strings.Contains(errs, tc.notWant) {
				t.Errorf("stderr %q suggests %q", errs, tc.notWant)
			}
			if tc.dir != "" && dirDigest(t, tc.dir) != before {
				t.Errorf("%s changed", tc.dir)
			}
		})
	}
	for _, p := range []string{both, runs} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("the wrong call made %s", p)
		}
	}
}

// An imported run has no training configuration: resuming it says so and
// what to do instead, rather than failing on config.toml's unknown key.
func TestResumeImportedRunRefused(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "imported")
	if code, _, errs := runCLI(t, "", "import", officialFixture, "--out", dst); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	code, out, errs := runCLI(t, "", "run", "--headless", "--resume", dst)
	if code != 1 || !strings.Contains(errs, "imported from") || !strings.Contains(errs, "rlt score --run") {
		t.Errorf("rlt run --resume on an imported run: exit %d, %q %q; want exit 1 naming the import and what to do", code, out, errs)
	}
}

// TestScoreDefaultsToTheModelsPrompts: the embedded models record the
// prompts they were trained with (prompts.json), and rlt score uses them
// with no prompt flag. (With its own long default prompts every line
// failed: "308 tokens do not fit the models' 256 positions".) The
// explanation T starts with the prefill's "\n\n".
func TestScoreDefaultsToTheModelsPrompts(t *testing.T) {
	in := `{"question":"347+285=?","solution":"632","explanation":"7+5=12 w2 c1; 4+8+1=13 w3 c1; 3+2+1=6 w6"}` + "\n" +
		`{"question":"12+9=?","solution":"21","completion":"2+9=11 w1 c1; 1+0+1=2 w2` + record.EndExplanation + `"}` + "\n" +
		`{"conversations":[{"from":"user","value":"347+285=?"},{"from":"assistant","value":"<|begin_of_thought|>7+5=12 w2 c1; 4+8+1=13 w3 c1; 3+2+1=6 w6<|end_of_thought|>\n\n<|begin_of_solution|>632<|end_of_solution|>"}]}` + "\n"
	code, out, errs := runCLI(t, in, "score", "--teacher", embeddedTeacher, "--student", embeddedStudent)
	if code != 0 {
		t.Fatalf("score: exit %d: %s\n%s", code, errs, out)
	}
	lead := []string{"Ċ", "Ċ"} // "\n\n" in the embedded byte-level vocabulary
	scores := parseScores(t, out)
	if len(scores) != 3 || scores[0].Reward == nil || scores[2].Reward == nil || *scores[2].Reward != *scores[0].Reward {
		t.Fatalf("the Bespoke-Stratos row should score as its flat twin: %+v", scores)
	}
	for i, s := range scores {
		if s.Error != "" || s.Reward == nil || s.Line != i+1 {
			t.Errorf("line %d: %+v", i+1, s)
			continue
		}
		if len(s.ExplToks) < 3 || s.ExplToks[0] != lead[0] || s.ExplToks[1] != lead[1] || len(s.D) != len(s.ExplToks) {
			t.Errorf("line %d: T = %q, want the lead %q first", i+1, s.ExplToks, lead)
		}
	}
	// The same prompts given as flags give the same numbers.
	p := warmstart.ShortPrompts()
	code, out2, errs := runCLI(t, in, "score", "--teacher", embeddedTeacher, "--student", embeddedStudent,
		"--teacher-system", p.TeacherSystem, "--student-system", p.StudentSystem)
	if code != 0 || out2 != out {
		t.Errorf("with the recorded prompts as flags: exit %d %s\n%s\nwant\n%s", code, errs, out2, out)
	}
}

// TestImportTrainersScoreExport: a run folder of TRL, verl and NeMo-RL
// (the fixtures of sessions/testdata/trainers, written after each trainer's
// own writer code) is imported with its trainer named or detected, every
// trace re-scored by the real engine and stored, one reviewed and exported.
func TestImportTrainersScoreExport(t *testing.T) {
	cases := []struct{ name, dir, format, what string }{
		{"trl", "sessions/testdata/trainers/trl", "trl", "(TRL GRPOTrainer folder): 8 traces, 2 metric records (2 log_history entries)"},
		{"verl", "sessions/testdata/trainers/verl", "", "(verl folder): 8 traces, 2 metric records (2 metric lines)"},
		{"nemo-rl", "sessions/testdata/trainers/nemo-rl", "nemo-rl", "(NeMo-RL folder): 8 traces, 2 metric records (18 TensorBoard scalar events)"},
	}
	prompts := warmstart.ShortPrompts()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := dirDigest(t, c.dir)
			runDir := filepath.Join(t.TempDir(), c.name)
			args := []string{"import", c.dir, "--out", runDir}
			if c.format != "" {
				args = append(args, "--format", c.format)
			}
			code, out, errs := runCLI(t, "", args...)
			if code != 0 || !strings.Contains(out, c.what) || !strings.Contains(out, "left out: 0 rows") {
				t.Fatalf("import: exit %d: %s\n%s", code, errs, out)
			}
			code, out, errs = runCLI(t, "", "score", "--teacher", embeddedTeacher, "--student", embeddedStudent,
				"--teacher-system", prompts.TeacherSystem, "--student-system", prompts.StudentSystem, "--batch", "4",
				"--run", runDir, "--write")
			if code != 0 || !strings.Contains(errs, "scored 8 of 8 traces") {
				t.Fatalf("score --run --write: exit %d: %s", code, errs)
			}
			if s := parseScores(t, out); len(s) != 8 || s[0].Reward == nil || len(s[0].D) == 0 || len(s[0].SolLP) == 0 {
				t.Fatalf("scores: %+v", s)
			}
			w, err := sessions.Open(runDir, nil)
			if err != nil {
				t.Fatal(err)
			}
			id := "2-0-1"
			if err := w.Review(id, sessions.LabelAccept, ""); err != nil {
				t.Fatal(err)
			}
			if _, ok := w.Store().Rescore(id); !ok {
				t.Errorf("no stored rescore of %s", id)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			code, out, errs = runCLI(t, "", "export", "--run", runDir)
			if code != 0 || strings.Count(out, "\n") != 1 || !strings.Contains(out, "Think step by step about 'What is 12 * 13?', way 1.") {
				t.Errorf("export: exit %d: %s\n%s", code, errs, out)
			}
			if dirDigest(t, c.dir) != before {
				t.Error("the trainer's folder changed")
			}
		})
	}
}

// TestImportSummarySaysTheSteps: rlt import says how many steps the
// trainer did against the steps its files planned, as the workbench counts
// them once the run is open: the Hugging Face Trainer's max_steps (official
// trainer, TRL), none for verl and NeMo-RL, and nothing for a traces file,
// which has no steps. The summary used to say neither. A trainer that
// planned 200 steps and logged none yet (TRL's completions of its first
// steps are written before its log_history has an entry) says "steps
// 0/200", as rlt sessions' STEPS cell (sessions.StepsCell) does: it said no
// steps line at all.
func TestImportSummarySaysTheSteps(t *testing.T) {
	traces := filepath.Join(t.TempDir(), "mine.jsonl")
	if err := os.WriteFile(traces, []byte(`{"question":"1+1=?","solution":"2","explanation":"one and one"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	planned := plannedTRLFolder(t, 200)
	for _, c := range []struct{ name, src, want string }{
		{"official", officialFixture, "\nsteps 3/3\n"},
		{"trl", "sessions/testdata/trainers/trl", "\nsteps 4/4\n"},
		{"trl, no step logged", planned, "\nsteps 0/200\n"},
		{"verl", "sessions/testdata/trainers/verl", "\nsteps 2 (its files state no planned total)\n"},
		{"nemo-rl", "sessions/testdata/trainers/nemo-rl", "\nsteps 2 (its files state no planned total)\n"},
		{"traces file", traces, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCLI(t, "", "import", c.src, "--out", filepath.Join(t.TempDir(), c.name))
			if code != 0 {
				t.Fatalf("import: exit %d: %s", code, errs)
			}
			if c.want == "" && strings.Contains(out, "\nsteps") || !strings.Contains(out, c.want) {
				t.Errorf("summary %q, want %q", out, c.want)
			}
			// The count rlt sessions lists the run with.
			code, list, errs := runCLI(t, "", "sessions", "--runs", filepath.Dir(strings.TrimPrefix(strings.SplitN(out, "\n", 2)[0], "run folder ")))
			if want := strings.TrimPrefix(strings.TrimSpace(c.want), "steps "); code != 0 || c.want != "" && !strings.Contains(list, " "+strings.Fields(want)[0]+" ") {
				t.Errorf("rlt sessions: exit %d, want STEPS %q:\n%s%s", code, want, list, errs)
			}
		})
	}
}

// plannedTRLFolder is a TRL GRPOTrainer output_dir that planned steps
// (max_steps) and logged none yet: the fixture's completions, and a
// trainer_state.json whose log_history is empty.
func plannedTRLFolder(t *testing.T, steps int) string {
	t.Helper()
	src := "sessions/testdata/trainers/trl"
	dst := filepath.Join(t.TempDir(), "trl-planned")
	if err := os.MkdirAll(filepath.Join(dst, "completions"), 0o755); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(src, "completions", "*.parquet"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, "completions", filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(filepath.Join(src, "checkpoint-2", "trainer_state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var state map[string]any
	if err := json.Unmarshal(data, &state); err != nil {
		t.Fatal(err)
	}
	state["log_history"], state["global_step"], state["max_steps"] = []any{}, 0, steps
	if data, err = json.Marshal(state); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "trainer_state.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestImportErrorsSayTheCommandOnce: rlt import's errors say "rlt import:"
// once, not "rlt import: import SRC:", then the file at fault (and where
// in it), what is wrong and what to do.
func TestImportErrorsSayTheCommandOnce(t *testing.T) {
	root := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(root, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	row := `{"question":"1+1=?","solution":"2","explanation":"one and one"}`
	traces := write("traces.jsonl", row+"\n")
	array := write("rows.json", "[\n "+row+",\n "+row+"\n]\n")
	text := write("notes.txt", "some notes\n")
	empty := filepath.Join(root, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	imported := filepath.Join(root, "imported")
	if code, _, errs := runCLI(t, "", "import", traces, "--out", imported); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	runs := filepath.Join(root, "runs")
	for _, c := range []struct {
		name string
		args []string
		want string // what follows "rlt import: "
	}{
		{"missing", []string{filepath.Join(root, "missing")}, filepath.Join(root, "missing") + " does not exist: give a trainer's run folder, or a file of traces (JSON Lines); no run folder was made"},
		{"no trainer's folder", []string{empty, "--runs", runs}, empty + ": not a trainer's run folder: "},
		{"not JSON Lines", []string{text, "--runs", runs}, text + ": a text file whose first line is not a JSON object, not JSON Lines: "},
		{"one JSON array", []string{array, "--runs", runs}, array + ": one JSON array over 4 lines, not JSON Lines: write one object a line (e.g. jq -c '.[]' " + array + " > rows.jsonl)"},
		{"--format on a file", []string{traces, "--format", "trl", "--runs", runs}, traces + ": --format trl names a trainer's run folder, and this is a file: "},
		{"--out inside the source", []string{empty, "--out", filepath.Join(empty, "run")}, empty + ": the run folder " + filepath.Join(empty, "run") + " would be inside the source"},
		{"--out holds a run", []string{traces, "--out", imported}, "--out " + imported + " already holds a run, imported from"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := runCLI(t, "", append([]string{"import"}, c.args...)...)
			if code != 1 || !strings.HasPrefix(errs, "rlt import: "+c.want) || strings.Count(errs, "rlt import: ") != 1 || strings.Contains(errs, "rlt import: import") {
				t.Errorf("exit %d, stderr %q; want exit 1 and %q", code, errs, "rlt import: "+c.want)
			}
		})
	}
}

// rlt import of rows that record the reward they were ranked with (rlt
// distill --samples-out's "reward_config") keeps it and says it, and rlt
// score --run of the import scores with it, as rlt score on the rows
// themselves does, a flag given winning and the reward line saying where
// it came from; rows that record different rewards keep none, a note
// naming a line of each, and are scored with the defaults. The import
// dropped the reward_config, so rlt score --run scored with the defaults
// rewards that read as comparable with the rows' source_reward.
func TestImportKeepsTheRowsReward(t *testing.T) {
	const k3 = `"reward_config":{"temperature":0.9,"solution_mean":1,"solution_min":0.01,"kl_mean":0.5,"kl_max":0.03,"format_penalty":-1,"estimator":"k3"}`
	row := func(q, s, e, extra string) string {
		return `{"question":"` + q + `","solution":"` + s + `","explanation":"` + e + `","reward":-1,` + extra + "}\n"
	}
	rows := row("347+285=?", "632", "7+5=12 w2 c1; 4+8+1=13", k3) + row("12+9=?", "21", "2+9=11 w1 c1", k3)
	prompts := warmstart.ShortPrompts()
	models := []string{"--teacher", embeddedTeacher, "--student", embeddedStudent, "--device", "cpu",
		"--teacher-system", prompts.TeacherSystem, "--student-system", prompts.StudentSystem}
	code, out, errs := runCLI(t, rows, append([]string{"score"}, models...)...)
	if code != 0 {
		t.Fatalf("the rows on stdin: exit %d: %s", code, errs)
	}
	own := scoreLines(t, out)

	dir := t.TempDir()
	imp := func(name, rows string) (string, string) {
		t.Helper()
		src := filepath.Join(dir, name+".jsonl")
		if err := os.WriteFile(src, []byte(rows), 0o644); err != nil {
			t.Fatal(err)
		}
		run := filepath.Join(dir, name)
		code, out, errs := runCLI(t, "", "import", "--out", run, src)
		if code != 0 {
			t.Fatalf("import %s: exit %d: %s", name, code, errs)
		}
		return run, out
	}
	const said = "reward: c1 1 c2 0.01 c3 0.5 c4 0.03 · penalty -1 · τ 0.9 · k3"
	run, out := imp("samples", rows)
	if !strings.Contains(out, said+" (the rows' reward_config; rlt score of this run starts from it)\n") {
		t.Errorf("the import does not say the rows' reward:\n%s", out)
	}
	code, out, errs = runCLI(t, "", append([]string{"score", "--run", run}, models...)...)
	if code != 0 {
		t.Fatalf("score --run: exit %d: %s", code, errs)
	}
	sameScores(t, "score --run of the import", scoreLines(t, out), own, "line", "trace")
	config := filepath.Join(run, "config.toml") + "'s [import.reward], the imported rows' reward_config"
	wantRewardSaid(t, "score --run of the import", errs, said+", against the frozen student "+embeddedStudent+" ("+config+")", "scored ")
	// A flag given wins over the rows' reward, and is said to.
	code, _, errs = runCLI(t, "", append([]string{"score", "--run", run, "--c4", "0"}, models...)...)
	if code != 0 {
		t.Fatalf("score --run --c4 0: exit %d: %s", code, errs)
	}
	wantRewardSaid(t, "score --run --c4 0", errs, "reward: c1 1 c2 0.01 c3 0.5 c4 0 · penalty -1 · τ 0.9 · k3, against the frozen student "+
		embeddedStudent+" ("+config+"; the flags given win: --c4 0 over its 0.03)", "scored ")

	// A hand-edited [import.reward]: a key it lacks is its default, said
	// (it read 0: c4 0, and the line claimed the record's); a value
	// scoring refuses is config.toml's, at its line with its key, before
	// any model loads (it was said as no file's), unless a flag gives one.
	cfgPath := filepath.Join(run, "config.toml")
	orig, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(old, new string) {
		t.Helper()
		if !bytes.Contains(orig, []byte(old)) {
			t.Fatalf("config.toml has no %q:\n%s", old, orig)
		}
		if err := os.WriteFile(cfgPath, bytes.Replace(orig, []byte(old), []byte(new), 1), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	edit("kl_max = 0.03\n", "")
	code, _, errs = runCLI(t, "", append([]string{"score", "--run", run}, models...)...)
	if code != 0 {
		t.Fatalf("score --run of an [import.reward] without kl_max: exit %d: %s", code, errs)
	}
	wantRewardSaid(t, "score --run of an [import.reward] without kl_max", errs, said+", against the frozen student "+embeddedStudent+" ("+config+
		"; not set there, so at its default: kl_max 0.03)", "scored ")
	edit("temperature = 0.9\n", "temperature = 0.0\n")
	line := 1 + bytes.Count(orig[:bytes.Index(orig, []byte("temperature = 0.9"))], []byte("\n"))
	code, _, errs = runCLI(t, "", append([]string{"score", "--run", run}, models...)...)
	if want := fmt.Sprintf("%s:%d:1: import.reward.temperature 0 must be a finite positive number", cfgPath, line); code == 0 ||
		!strings.Contains(errs, cfgPath+"'s [import.reward], the reward the imported rows were ranked with, cannot be scored with, so nothing was scored: mend it, or give --temperature to score with a value of your own\n"+want) ||
		strings.Contains(errs, "reward: c1") {
		t.Errorf("score --run of an [import.reward] of temperature 0: exit %d:\n%s\nwant %q", code, errs, want)
	}
	code, _, errs = runCLI(t, "", append([]string{"score", "--run", run, "--temperature", "0.9"}, models...)...)
	if code != 0 {
		t.Fatalf("score --run --temperature 0.9 of an [import.reward] of temperature 0: exit %d: %s", code, errs)
	}
	wantRewardSaid(t, "score --run --temperature 0.9", errs, said+", against the frozen student "+embeddedStudent+" ("+config+
		"; the flags given win: --temperature 0.9 over its 0)", "scored ")
	// A value of the wrong type is said at its line, before any model
	// loads: the lenient read stopped at it, and the run was scored with
	// the defaults, said as no record's (and not an import: rlt run
	// --resume refused it for every training key it lacks).
	edit("temperature = 0.9\n", "temperature = 'hot'\n")
	code, _, errs = runCLI(t, "", append([]string{"score", "--run", run}, models...)...)
	if want := fmt.Sprintf(`%s:%d:15: key "import.reward.temperature": wrong type: got TOML string, want float (such as temperature = 0.5); the run's settings cannot be read until it is fixed`, cfgPath, line); code == 0 ||
		!strings.Contains(errs, want) || strings.Contains(errs, "reward: c1") {
		t.Errorf("score --run of an [import.reward] of temperature 'hot': exit %d:\n%s\nwant %q", code, errs, want)
	}
	if _, ok := sessions.ImportedFrom(run); !ok {
		t.Errorf("an [import.reward] of temperature 'hot' is no import")
	}

	// Rows of different rewards: none kept, a line of each named, and
	// the defaults scored with (no record said as the reward's origin).
	run, out = imp("mixed", rows+row("12+9=?", "21", "2+9=11 w1 c1", `"reward_config":{"kl_mean":3}`))
	if strings.Contains(out, "reward: ") || !strings.Contains(out, "note: mixed.jsonl: its rows record different rewards (line 1 the reward_config "+
		"c1 1 c2 0.01 c3 0.5 c4 0.03 · penalty -1 · τ 0.9 · k3, line 3 the reward_config c1 1 c2 0.01 c3 3 c4 0.03 · penalty -1 · τ 0.7 · logratio)") {
		t.Errorf("the import of rows of different rewards:\n%s", out)
	}
	code, _, errs = runCLI(t, "", append([]string{"score", "--run", run}, models...)...)
	if code != 0 {
		t.Fatalf("score --run of rows of different rewards: exit %d: %s", code, errs)
	}
	wantRewardSaid(t, "score --run of rows of different rewards", errs,
		"reward: c1 1 c2 0.01 c3 3 c4 0.03 · penalty -1 · τ 0.7 · logratio, against the frozen student "+embeddedStudent, "scored ")
}
