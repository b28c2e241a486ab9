package sessions

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
)

// treeDigest is a digest of every file's path, mode and content under dir.
func treeDigest(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
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

func TestImportOfficialFixture(t *testing.T) {
	before := treeDigest(t, fixtureRun)
	dst := filepath.Join(t.TempDir(), "imported")
	rep, err := Import(dst, fixtureRun)
	if err != nil {
		t.Fatal(err)
	}
	if after := treeDigest(t, fixtureRun); after != before {
		t.Fatal("the source folder changed during import")
	}
	if rep.Format != ImportOfficial || rep.Traces != 5 || rep.Metrics != 3 || rep.Entries != 4 || len(rep.Skip) != 0 {
		t.Fatalf("report %+v", rep)
	}
	notes := strings.Join(rep.Notes, "\n")
	for _, want := range []string{"2 log_history entries of step 3 merged", "1 non-numeric value ignored (key: note)", "teacher_chats/log.txt is not imported"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}

	var cfg ImportConfig
	ro, err := OpenReadOnly(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.DecodeConfig(&cfg); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(fixtureRun)
	if cfg.Import.Format != ImportOfficial || cfg.Import.Source != abs || cfg.Import.Traces != 5 ||
		strings.Join(cfg.Import.Files, ",") != "trainer_state.json,stored_completions/1.csv,stored_completions/2.csv" {
		t.Errorf("config %+v", cfg)
	}
	st := ro.Store()
	if n := st.Broken(); n != 0 {
		t.Fatalf("%d broken records: %v", n, st.Issues())
	}
	ms, _ := st.MetricsSince(0)
	if len(ms) != 3 || ms[0].Step != 1 || ms[2].Step != 3 {
		t.Fatalf("metrics %+v", ms)
	}
	if v, _ := ms[2].Get("reward"); v != -0.91 {
		t.Errorf("step 3 reward %v", v)
	}
	if v, _ := ms[2].Get("train_runtime"); v != 812.4 {
		t.Errorf("step 3 lacks the summary entry's train_runtime: %v", ms[2].Map())
	}
	if v, _ := ms[1].Get("grad_norm"); !math.IsNaN(v) {
		t.Errorf("NaN grad_norm read back as %v", v)
	}
	ts := wholeTraces(t, st)
	var ids []string
	for _, tr := range ts {
		ids = append(ids, tr.ID)
	}
	if strings.Join(ids, ",") != "1-0-0,1-0-1,2-0-0,2-0-1,2-0-2" {
		t.Fatalf("trace IDs %v", ids)
	}
	tr := ts[1]
	if tr.Question != "Is 7 prime?" || tr.Solution != "Yes" || !tr.Ended || tr.HasScore ||
		!strings.HasPrefix(tr.Explanation, `A number is "prime" when`) || !strings.HasSuffix(tr.Explanation, "so yes.") ||
		!tr.HasSourceReward || tr.SourceReward != -1.17 || !strings.HasPrefix(tr.Source, "stored_completions/1.csv:") {
		t.Errorf("trace %+v", tr)
	}
	if ts[3].Ended { // "What is 10/4?": no end tag in the completion
		t.Errorf("trace without end tag imported as ended: %+v", ts[3])
	}
	// The source line points at the row.
	line := 0
	fmt.Sscanf(strings.TrimPrefix(tr.Source, "stored_completions/1.csv:"), "%d", &line)
	data, _ := os.ReadFile(filepath.Join(fixtureRun, "stored_completions", "1.csv"))
	if lines := strings.Split(string(data), "\n"); line < 1 || line > len(lines) || !strings.HasPrefix(lines[line-1], "1,\"<|im_start|>system") {
		t.Errorf("source %s does not point at the row", tr.Source)
	}
	evs, _ := st.EventsSince(0)
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	if k := strings.Join(kinds, ","); !strings.HasPrefix(k, "create,import,import") || !strings.HasSuffix(k, "phase,close") {
		t.Errorf("events %s", k)
	}
	list, err := List(filepath.Dir(dst))
	if err != nil || len(list) != 1 || list[0].State != StateFinished || list[0].LastStep != 3 || list[0].BestReward != -0.91 {
		t.Errorf("list %+v %v", list, err)
	}

	// Imported traces are reviewed, undone and exported like a run's own.
	w, err := Open(dst, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		id string
		l  Label
	}{{"1-0-0", LabelAccept}, {"1-0-1", LabelReject}, {"1-0-1", LabelAccept}, {"2-0-0", LabelFlag}} {
		if err := w.Review(r.id, r.l, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Undo("1-0-1"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// Reviewing does not change what rlt sessions says of the run.
	if list, err := List(filepath.Dir(dst)); err != nil || len(list) != 1 || list[0].State != StateFinished {
		t.Errorf("list after review %+v %v", list, err)
	}
	ro2, err := OpenReadOnly(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer ro2.Close()
	var out bytes.Buffer
	erep, err := ro2.Export(&out, ExportStratos)
	if err != nil {
		t.Fatal(err)
	}
	if erep.Written != 1 || erep.Rejected != 1 || erep.Flagged != 1 || erep.NotReviewed != 2 ||
		!strings.Contains(out.String(), "Adding 2 and 3 gives 5.") {
		t.Errorf("export %v:\n%s", erep, out.String())
	}
}

func TestImportSkippedRows(t *testing.T) {
	src := t.TempDir()
	sc := filepath.Join(src, "stored_completions")
	os.MkdirAll(sc, 0o755)
	good := "\"<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<|begin_of_solution|>S<|end_of_solution|>\n\n<|begin_of_explanation|>\n\n\""
	csv := "step,prompt,completion,reward\n" +
		"4," + good + ",E1<|end_of_explanation|>,-1\n" + // lines 2-9
		"4," + good + ",E2,notanumber\n" + // lines 10-17: bad reward
		"4,no chat markup,E3,-2\n" + // line 18: prompt without a user turn
		"4," + good + ",E4,\n" + // lines 19-26: empty reward kept, no source reward
		"4,\"unfinished"
	os.WriteFile(filepath.Join(sc, "4.csv"), []byte(csv), 0o644)
	os.WriteFile(filepath.Join(src, "trainer_state.json"), []byte(`{"log_history":[{"step":4,"loss":1},{"loss":2},{"step":"x"}]}`), 0o644)
	before := treeDigest(t, src)
	dst := filepath.Join(t.TempDir(), "run")
	rep, err := Import(dst, src)
	if err != nil {
		t.Fatal(err)
	}
	if treeDigest(t, src) != before {
		t.Fatal("source changed")
	}
	want := []string{
		"trainer_state.json:1: log_history[1]: missing field \"step\"",
		"trainer_state.json:1: log_history[2]: \"step\" is not an integer",
		"stored_completions/4.csv:17: row 2: reward \"notanumber\" is not a number", // the field's line: the row starts at 10
		"stored_completions/4.csv:27: unfinished last record",
		"stored_completions/4.csv:18: row 3: prompt has no \"<|im_start|>user\" turn",
	}
	if rep.Traces != 2 || len(rep.Skip) != len(want) {
		t.Fatalf("report %+v", rep)
	}
	ro, err := OpenReadOnly(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	evs, _ := ro.Store().EventsSince(0)
	var skipped []string
	for _, e := range evs {
		if e.Kind == KindSkipped {
			skipped = append(skipped, fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Error))
		}
	}
	got := strings.Join(skipped, "\n")
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("skipped events lack %q:\n%s", w, got)
		}
	}
	ts := wholeTraces(t, ro.Store())
	if len(ts) != 2 || ts[0].ID != "4-0-0" || ts[1].ID != "4-0-1" || ts[1].HasSourceReward || ts[1].Explanation != "E4" ||
		ts[0].Source != "stored_completions/4.csv:2" || ts[1].Source != "stored_completions/4.csv:19" {
		t.Errorf("traces %+v", ts)
	}
}

func TestImportTracesFile(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString(`{"question":"q1","solution":"s1","explanation":"e1","reward":-0.5}` + "\n")
	b.WriteString(`{"prompt":"q2","solution":"s2","completion":"e2<|end_of_explanation|><|im_end|>"}` + "\n")
	for i := 0; i < 150; i++ { // more than any report cap: every one is an event
		b.WriteString(`{"question":"bad"}` + "\n")
	}
	b.WriteString(`{"question":"q3","solution":"s3","explanation":"e3"}` + "\n")
	b.WriteString(`{"question":"cut`)
	src := filepath.Join(dir, "traces.jsonl")
	os.WriteFile(src, []byte(b.String()), 0o644)
	dst := filepath.Join(dir, "runs", "imp")
	rep, err := Import(dst, src)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Format != ImportTraces || rep.Traces != 3 || len(rep.Skip) != 151 || rep.Metrics != 0 {
		t.Fatalf("report: %d traces, %d skipped, format %s", rep.Traces, len(rep.Skip), rep.Format)
	}
	ro, err := OpenReadOnly(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	evs, _ := ro.Store().EventsSince(0)
	lines := map[int]bool{}
	for _, e := range evs {
		if e.Kind == KindSkipped {
			if e.File != "traces.jsonl" {
				t.Fatalf("skipped event %+v", e)
			}
			lines[e.Line] = true
		}
	}
	for l := 3; l <= 152; l++ {
		if !lines[l] {
			t.Fatalf("no skipped event for line %d", l)
		}
	}
	if !lines[154] {
		t.Errorf("no skipped event for the unterminated line 154")
	}
	ts := wholeTraces(t, ro.Store())
	if len(ts) != 3 || ts[1].Completion == "" || ts[1].Explanation != "e2" || !ts[1].Ended || ts[2].Source != "traces.jsonl:153" ||
		ts[0].SourceReward != -0.5 || ts[2].ID != "0-0-2" {
		t.Errorf("traces %+v", ts)
	}
}

// TestImportStratosExportsTheSameRows: Bespoke-Stratos rows imported,
// accepted and exported are the rows read, their system prompt included
// (an imported run records no student prompt of its own, and the export
// gave every row record.DefaultStudentSystem); rows whose system prompts
// differ cannot all keep theirs, nor rows without one (empty, absent, a
// messages row with no system turn: a run's rows are scored under a
// system prompt), and the import says so: it said nothing of the latter.
func TestImportStratosExportsTheSameRows(t *testing.T) {
	row := func(system, q, body, sol string) string {
		var b bytes.Buffer
		if err := record.NewStratosWriter(&b, system).Write(q, body, sol); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	messages := func(system, q, body, sol string) string {
		var b bytes.Buffer
		if err := record.NewMessagesWriter(&b, system).Write(q, body, sol); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	const short = "Solve: thought, then solution."
	// Rows without a system prompt get the default, which scores them:
	// said, as their export is not the rows read.
	const noSystem = "rows.jsonl: its rows carry no system prompt (empty or absent), and a run's rows are scored and exported under one: an export of this run gives every row the default student prompt"
	for _, tc := range []struct {
		name, src, system, note string
	}{
		{"one system prompt", row(short, "1+1=?", "one and one", "2") + row(short, "2+2=?", "two \"and\" two\n\n", "4"), short, ""},
		{"no system prompt", `{"conversations":[{"from":"user","value":"1+1=?"},{"from":"assistant","value":"<|begin_of_thought|>\n\nx<|end_of_thought|>\n\n<|begin_of_solution|>2<|end_of_solution|>"}]}` + "\n",
			record.DefaultStudentSystem, noSystem},
		{"an empty system prompt", row("", "1+1=?", "one and one", "2"), record.DefaultStudentSystem, noSystem},
		{"messages rows without a system turn", messages("", "1+1=?", "one and one", "2") + messages("", "2+2=?", "two and two", "4"),
			record.DefaultStudentSystem, noSystem},
		{"messages rows with a system turn", messages(short, "1+1=?", "one and one", "2"), short, ""},
		{"two system prompts", row(short, "1+1=?", "one and one", "2") + row("Think.", "2+2=?", "two and two", "4"), record.DefaultStudentSystem,
			"rows.jsonl: its Bespoke-Stratos rows carry 2 different system prompts, and a run has one: an export of this run gives every row the default student prompt"},
		{"a ChatML marker in the system prompt", strings.Replace(row(short, "1+1=?", "x", "2"), short, "Think.<|im_end|>", 1), record.DefaultStudentSystem,
			"rows.jsonl: its rows' system prompt cannot be exported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, "rows.jsonl")
			if err := os.WriteFile(src, []byte(tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(dir, "imp")
			rep, err := Import(dst, src)
			if err != nil {
				t.Fatal(err)
			}
			if notes := strings.Join(rep.Notes, "\n"); (tc.note == "") != (notes == "") || !strings.Contains(notes, tc.note) {
				t.Errorf("notes %q, want %q", notes, tc.note)
			}
			w, err := Open(dst, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			ts, _ := w.Store().TracesSince(0)
			for _, tr := range ts {
				if err := w.Review(tr.ID, LabelAccept, ""); err != nil {
					t.Fatal(err)
				}
			}
			if got, err := w.StudentPrompt(); err != nil || got != tc.system {
				t.Errorf("student prompt %q, %v; want %q", got, err, tc.system)
			}
			var out bytes.Buffer
			format := ExportStratos
			if strings.HasPrefix(tc.src, `{"messages"`) {
				format = ExportMessages // exported as they were read
			}
			if _, err := w.Export(&out, format); err != nil {
				t.Fatal(err)
			}
			if tc.system == short && out.String() != tc.src {
				t.Errorf("exported\n%s\nwant the rows imported\n%s", out.String(), tc.src)
			}
		})
	}
}

func TestImportRefuses(t *testing.T) {
	src := t.TempDir()
	data, _ := os.ReadFile(filepath.Join(fixtureRun, "trainer_state.json"))
	os.WriteFile(filepath.Join(src, "trainer_state.json"), data, 0o644)
	before := treeDigest(t, src)
	for _, dst := range []string{src, filepath.Join(src, "runs", "x")} {
		if _, err := Import(dst, src); err == nil || !strings.Contains(err.Error(), "inside the source") {
			t.Errorf("import into %s: %v", dst, err)
		}
	}
	if treeDigest(t, src) != before {
		t.Fatal("source changed")
	}
	dst := filepath.Join(t.TempDir(), "run")
	if _, err := Import(dst, src); err != nil {
		t.Fatal(err)
	}
	if _, err := Import(dst, src); err == nil || !strings.Contains(err.Error(), "already exists") || strings.Contains(err.Error(), "use Open") || !strings.Contains(err.Error(), "choose a new folder") {
		t.Errorf("second import into the same folder: %v", err)
	}
	if _, err := Import(filepath.Join(t.TempDir(), "r"), filepath.Join(src, "missing")); err == nil {
		t.Error("missing source accepted")
	}
	if _, err := Import(filepath.Join(t.TempDir(), "r"), t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a trainer's run folder") {
		t.Errorf("empty folder: %v", err)
	}
	// A traces file with no row that reads makes no run folder.
	for name, body := range map[string]string{"empty.jsonl": "", "bad.jsonl": "{\"question\": 4}\nnot json\n"} {
		file := filepath.Join(t.TempDir(), name)
		os.WriteFile(file, []byte(body), 0o644)
		out := filepath.Join(t.TempDir(), "r")
		_, err := Import(out, file)
		if err == nil || !strings.Contains(err.Error(), "nothing to import") || !strings.Contains(err.Error(), "no run folder was made") {
			t.Errorf("%s: %v, want a refusal", name, err)
		}
		if _, serr := os.Stat(out); serr == nil {
			t.Errorf("%s: a run folder was made", name)
		}
		if name == "bad.jsonl" && (err == nil || !strings.Contains(err.Error(), "2 rows or files left out; the first: bad.jsonl:1: field \"question\" is not a string")) {
			t.Errorf("%s: %v, want the rows left out counted and the first named", name, err)
		}
	}
	// A trainer's folder whose one trainer_state.json does not read: said
	// once, at its line and column, the file named once.
	for _, c := range []struct{ state, want string }{
		{`{"log_history": 3}`, "(1 row or file left out; the first: trainer_state.json:1:18: log_history is not a list; an older trainer_state.json, if there is one, is read instead)"},
		{`{"log_history": [`, "(1 row or file left out; the first: trainer_state.json: incomplete JSON (cut short at byte 17; the trainer may be rewriting it); an older"},
		{`[1]`, "the first: trainer_state.json:1:1: trainer state is not a JSON object;"},
	} {
		trl := t.TempDir()
		os.WriteFile(filepath.Join(trl, "trainer_state.json"), []byte(c.state), 0o644)
		_, err := Import(filepath.Join(t.TempDir(), "r"), trl)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "trainer_state.json: trainer_state.json") {
			t.Errorf("trainer_state.json %s: %v, want %q", c.state, err, c.want)
		}
	}
	// A file that is no JSON Lines at all is said for what it is.
	official := filepath.Join(t.TempDir(), "run")
	os.MkdirAll(filepath.Join(official, "stored_completions"), 0o755)
	for _, c := range []struct{ path, body, want string }{
		{filepath.Join(t.TempDir(), "d.csv"), "question,solution\n1+1,2\n", "a CSV file, not JSON Lines: rlt import reads a file of traces, one JSON object a line, or a trainer's run folder; no run folder was made"},
		{filepath.Join(official, "stored_completions", "step_1.csv"), "a,b\n", "a CSV file, not JSON Lines: rlt import reads a file of traces, one JSON object a line, or a trainer's run folder (the official RLT trainer's completions are read from its run folder: rlt import " + official + ")"},
		{filepath.Join(t.TempDir(), "model.safetensors"), "\x10\x00\x00\x00{}", "a binary file, not JSON Lines"},
		{filepath.Join(t.TempDir(), "notes.txt"), "hello\n", "a text file whose first line is not a JSON object, not JSON Lines"},
	} {
		os.WriteFile(c.path, []byte(c.body), 0o644)
		if _, err := Import(filepath.Join(t.TempDir(), "r"), c.path); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", filepath.Base(c.path), err, c.want)
		}
	}
}

// A file given with --format (which names a trainer's run folder) is
// refused naming the value given, not the format it stands for, with
// what to do: the trainer's folder the file is in, or no --format for a
// file of traces. Nothing is made.
func TestImportFormatGivenAFile(t *testing.T) {
	official := filepath.Join(t.TempDir(), "official")
	os.MkdirAll(filepath.Join(official, "stored_completions"), 0o755)
	for name, body := range map[string]string{"trainer_state.json": `{"log_history": [], "max_steps": 2}`,
		"stored_completions/1.csv": "prompt,completion\n"} {
		os.WriteFile(filepath.Join(official, name), []byte(body), 0o644)
	}
	traces := filepath.Join(t.TempDir(), "t.jsonl")
	os.WriteFile(traces, []byte(`{"question":"1+1=?","solution":"2","explanation":"one and one"}`+"\n"), 0o644)
	for _, c := range []struct{ src, format, want string }{
		{filepath.Join(official, "trainer_state.json"), "rlt", filepath.Join(official, "trainer_state.json") +
			": --format rlt names a trainer's run folder, and this is a file: it is in a run folder of the official trainer, which rlt import reads whole: rlt import " + official + " --format rlt; no run folder was made"},
		{filepath.Join(official, "stored_completions", "1.csv"), "RLT", filepath.Join(official, "stored_completions", "1.csv") +
			": --format RLT names a trainer's run folder, and this is a file: it is in a run folder of the official trainer, which rlt import reads whole: rlt import " + official + " --format RLT; no run folder was made"},
		{traces, "official", traces + ": --format official names a trainer's run folder, and this is a file: give the trainer's run folder, or leave --format official out to import a file of traces (JSON Lines); no run folder was made"},
		{traces, "nemo", traces + ": --format nemo names a trainer's run folder, and this is a file: give the trainer's run folder, or leave --format nemo out to import a file of traces (JSON Lines); no run folder was made"},
	} {
		t.Run(c.format+" "+filepath.Base(c.src), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "r")
			_, err := ImportAs(out, c.src, c.format)
			if err == nil || err.Error() != c.want {
				t.Errorf("got  %v\nwant %s", err, c.want)
			}
			if _, serr := os.Stat(out); serr == nil {
				t.Error("a run folder was made")
			}
		})
	}
}

// A traces file that is one JSON document, not JSON Lines, is said to be
// so in the words rlt train --data uses (record.JSONDocument), once, not
// as a row left out per line; a trainer's own file, the run folder of
// that trainer to import instead. Nothing is made.
func TestImportJSONDocument(t *testing.T) {
	row := `{"question":"1+1=?","solution":"2","explanation":"one and one"}`
	state := `{"global_step": 2, "log_history": [{"step": 1, "loss": 0.5, "grad_norm": NaN}], "max_steps": 10}`
	pretty := "{\n  \"global_step\": 2,\n  \"log_history\": [\n    {\"step\": 1, \"loss\": 0.5, \"grad_norm\": NaN}\n  ],\n  \"max_steps\": 10\n}\n"
	dir := t.TempDir()
	official := filepath.Join(dir, "official")
	os.MkdirAll(filepath.Join(official, "stored_completions"), 0o755)
	os.WriteFile(filepath.Join(official, "stored_completions", "1.csv"), []byte("prompt,completion\n"), 0o644)
	oneLine := filepath.Join(dir, "one-line")
	os.MkdirAll(filepath.Join(oneLine, "stored_completions"), 0o755)
	os.WriteFile(filepath.Join(oneLine, "stored_completions", "1.csv"), []byte("prompt,completion\n"), 0o644)
	for _, c := range []struct{ path, body, want string }{
		{filepath.Join(dir, "arr.json"), "[" + row + "," + row + "]",
			"one JSON array on one line, not JSON Lines: write one object a line (e.g. jq -c '.[]' %s > rows.jsonl); no run folder was made"},
		{filepath.Join(dir, "pretty.json"), "[\n  " + row + ",\n  " + row + "\n]\n",
			"one JSON array over 4 lines, not JSON Lines: write one object a line (e.g. jq -c '.[]' %s > rows.jsonl); no run folder was made"},
		{filepath.Join(dir, "ts_pretty.json"), pretty,
			"one JSON object over 7 lines, not JSON Lines: it is a Hugging Face Trainer's trainer_state.json, which rlt import reads with the run folder it is written in (the official RLT trainer's or TRL's output_dir): rlt import DIR; no run folder was made"},
		{filepath.Join(official, "trainer_state.json"), pretty,
			"one JSON object over 7 lines, not JSON Lines: it is in a run folder of the official trainer, which rlt import reads whole: rlt import " + official + "; no run folder was made"},
		{filepath.Join(oneLine, "trainer_state.json"), state,
			"no trace could be read from this file: it is in a run folder of the official trainer, which rlt import reads whole: rlt import " + oneLine + "; no run folder was made"},
		{filepath.Join(dir, "ts1.json"), state,
			"no trace could be read from this file: it is a Hugging Face Trainer's trainer_state.json, which rlt import reads with the run folder it is written in (the official RLT trainer's or TRL's output_dir): rlt import DIR; no run folder was made"},
	} {
		t.Run(filepath.Base(c.path), func(t *testing.T) {
			os.WriteFile(c.path, []byte(c.body), 0o644)
			out := filepath.Join(t.TempDir(), "r")
			want := c.path + ": " + c.want
			if strings.Contains(want, "%s") {
				want = fmt.Sprintf(want, c.path)
			}
			if _, err := Import(out, c.path); err == nil || err.Error() != want {
				t.Errorf("got  %v\nwant %s", err, want)
			}
			if _, serr := os.Stat(out); serr == nil {
				t.Error("a run folder was made")
			}
		})
	}
}

// A traces file is imported as it is: its last line without a newline is
// read as any other when it is whole (a row, or a line left out for what
// it lacks), and left out as cut short only when it is.
func TestImportLastLineWithoutNewline(t *testing.T) {
	first := `{"question":"1+1=?","solution":"2","explanation":"one and one"}` + "\n"
	for _, c := range []struct {
		name, last string
		traces     int
		skip       string // the one row left out, "" for none
	}{
		{"a whole row", `{"question":"1+2=?","solution":"3","explanation":"one and two"}`, 2, ""},
		{"a whole row and CR", `{"question":"1+2=?","solution":"3","explanation":"one and two"}` + "\r", 2, ""},
		{"spaces", "  ", 1, ""},
		{"cut short", `{"question":"1+2=?","sol`, 1, "t.jsonl:2: unterminated last line (24 bytes): cut short, or still being written"},
		{"a whole line that is no row", `{"question":"1+2=?","solution":"3"}`, 1, `t.jsonl:2: missing field "explanation" (or "completion")`},
		{"NaN, whole", `{"question":"1+2=?","solution":"3","reward":NaN}`, 1, "t.jsonl:2: not JSON"},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := filepath.Join(t.TempDir(), "t.jsonl")
			os.WriteFile(src, []byte(first+c.last), 0o644)
			rep, err := Import(filepath.Join(t.TempDir(), "r"), src)
			if err != nil {
				t.Fatal(err)
			}
			var skips []string
			for _, s := range rep.Skip {
				skips = append(skips, s.String())
			}
			if rep.Traces != c.traces || len(skips) > 1 || (c.skip == "") != (len(skips) == 0) || (len(skips) == 1 && !strings.HasPrefix(skips[0], c.skip)) {
				t.Errorf("%d traces, left out %q; want %d, %q", rep.Traces, skips, c.traces, c.skip)
			}
		})
	}
}

// traceRow is a flat row of a traces file.
type traceRow struct {
	Question    string `json:"question"`
	Solution    string `json:"solution"`
	Explanation string `json:"explanation"`
}

// rowLine is r as the package writes a JSON Lines row, without its
// newline.
func rowLine(t *testing.T, r traceRow) string {
	t.Helper()
	b, err := marshalLine(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// writeTraceParts writes parts to path in order: a traceRow through the
// package's own writer (Log.Append), a string as it is (what no writer of
// ours writes: blank lines, a byte order mark, a line cut short).
func writeTraceParts(t *testing.T, path string, parts ...any) {
	t.Helper()
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString(p); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
		case traceRow:
			l, err := OpenLog(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := l.Append(p); err != nil {
				t.Fatal(err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("part %T", p)
		}
	}
}

// A traces file is read a line at a time, lines of any length (longer
// than any buffer) and a last one without its newline included, and as
// one document only where its first line that is not blank may begin
// one (record.JSONDocument); what is imported and left out, and the
// words, are those of reading it whole.
func TestImportTracesFileByLine(t *testing.T) {
	mib := strings.Repeat("Carry the one. ", 1<<20/15)
	row := func(q, e string) traceRow { return traceRow{Question: q, Solution: "2", Explanation: e} }
	cut := `{"question":"q3","solution":"2","explanation":"` + strings.Repeat("x", 300_000)
	for _, c := range []struct {
		name    string
		parts   func(t *testing.T) []any
		sources []string // of the traces imported
		skip    []string // the rows left out (a prefix of each)
		err     string   // the import's error, PATH for the file
	}{
		{"rows of a megabyte, the last without its newline", func(t *testing.T) []any {
			return []any{row("q1", mib), row("q2", mib), rowLine(t, row("q3", mib))}
		}, []string{"t.jsonl:1", "t.jsonl:2", "t.jsonl:3"}, nil, ""},
		{"a long last line cut short", func(t *testing.T) []any { return []any{row("q1", "e"), cut} },
			[]string{"t.jsonl:1"}, []string{fmt.Sprintf("t.jsonl:2: unterminated last line (%d bytes): cut short, or still being written", len(cut))}, ""},
		{"a long last line cut short, spaces after", func(t *testing.T) []any { return []any{row("q1", "e"), cut + " \r"} },
			[]string{"t.jsonl:1"}, []string{fmt.Sprintf("t.jsonl:2: unterminated last line (%d bytes): cut short, or still being written", len(cut)+2)}, ""},
		{"blank lines before the rows", func(t *testing.T) []any { return []any{"\n \r\n", row("q1", "e"), row("q2", "e")} },
			[]string{"t.jsonl:3", "t.jsonl:4"}, nil, ""},
		{"a byte order mark", func(t *testing.T) []any { return []any{"\ufeff" + rowLine(t, row("q1", "e")) + "\n", row("q2", "e")} },
			[]string{"t.jsonl:1", "t.jsonl:2"}, nil, ""},
		{"CRLF, the last line whole without its newline", func(t *testing.T) []any {
			return []any{rowLine(t, row("q1", "e")) + "\r\n" + rowLine(t, row("q2", "e")) + "\r"}
		}, []string{"t.jsonl:1", "t.jsonl:2"}, nil, ""},
		{"a first line that begins an object, and rows", func(t *testing.T) []any {
			return []any{`{"question":` + "\n", row("q2", "e"), row("q3", mib)}
		}, []string{"t.jsonl:2", "t.jsonl:3"}, []string{"t.jsonl:1: not JSON"}, ""},
		{"an array on the first line, and rows", func(t *testing.T) []any { return []any{"[1]\n", row("q2", "e")} },
			[]string{"t.jsonl:2"}, []string{"t.jsonl:1: not a JSON object"}, ""},
		{"blank lines before a pretty-printed array", func(t *testing.T) []any {
			r := rowLine(t, row("q1", mib))
			return []any{"\n\n[\n  " + r + ",\n  " + r + "\n]\n"}
		}, nil, nil, "one JSON array over 4 lines, not JSON Lines: write one object a line (e.g. jq -c '.[]' PATH > rows.jsonl); no run folder was made"},
		{"a pretty-printed object", func(t *testing.T) []any {
			return []any{"{\n  \"rows\": [\n    " + rowLine(t, row("q1", "e")) + "\n  ]\n}"}
		}, nil, nil, "one JSON object over 5 lines, not JSON Lines: write one object a line (e.g. jq -c '.rows[]' PATH > rows.jsonl); no run folder was made"},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := filepath.Join(t.TempDir(), "t.jsonl")
			writeTraceParts(t, src, c.parts(t)...)
			dst := filepath.Join(t.TempDir(), "r")
			rep, err := Import(dst, src)
			if c.err != "" {
				want := src + ": " + strings.ReplaceAll(c.err, "PATH", src)
				if err == nil || err.Error() != want {
					t.Errorf("got  %v\nwant %s", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var skips []string
			for _, s := range rep.Skip {
				skips = append(skips, s.String())
			}
			if len(skips) != len(c.skip) {
				t.Errorf("left out %q, want %q", skips, c.skip)
			}
			for i := range min(len(skips), len(c.skip)) {
				if !strings.HasPrefix(skips[i], c.skip[i]) {
					t.Errorf("left out %q, want %q", skips[i], c.skip[i])
				}
			}
			ro, err := OpenReadOnly(dst)
			if err != nil {
				t.Fatal(err)
			}
			defer ro.Close()
			ts := wholeTraces(t, ro.Store())
			var sources []string
			for _, tr := range ts {
				sources = append(sources, tr.Source)
				if tr.Explanation != mib && tr.Explanation != "e" {
					t.Errorf("%s: explanation of %d bytes, want %d or 1", tr.Source, len(tr.Explanation), len(mib))
				}
			}
			if !slices.Equal(sources, c.sources) || rep.Traces != len(c.sources) {
				t.Errorf("traces from %q (%d), want %q", sources, rep.Traces, c.sources)
			}
		})
	}
}

// TestCreateOverAnImportedRun: creating a run where an imported one is
// says what works for it (open, re-score, another folder), not to resume
// it: an imported run has nothing to resume.
func TestCreateOverAnImportedRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "imported")
	if _, err := ImportAs(dir, trlFixture, ""); err != nil {
		t.Fatal(err)
	}
	_, err := Create(dir, map[string]int{"steps": 1})
	if err == nil || !strings.Contains(err.Error(), "rlt open "+dir) || !strings.Contains(err.Error(), "rlt score --run "+dir) || strings.Contains(err.Error(), "--resume") {
		t.Errorf("Create over an imported run: %v; want it to say rlt open and rlt score --run, not --resume", err)
	}
}

// TestImportIsStaged: an import writes its run folder in a hidden staging
// folder beside --out and renames it into place when complete, so --out
// appears whole or not at all. An import killed midway (simulated by a
// write that fails after the run folder, its config.toml and some traces
// are made, and by a staging folder left by a process that is gone) left
// an --out whose config.toml and import event claimed every trace, listed
// as a stopped run and refused the rerun; now it leaves no --out, its
// staging folder is not listed as a run, and the next import to --out
// removes it and succeeds.
func TestImportIsStaged(t *testing.T) {
	src := filepath.Join(t.TempDir(), "traces.jsonl")
	os.WriteFile(src, []byte(`{"question":"q1","solution":"s1","explanation":"e1"}`+"\n"+`{"question":"q2","solution":"s2","explanation":"e2"}`+"\n"), 0o644)
	killed := errors.New("killed")
	for _, tc := range []struct {
		name  string
		setup func(root, dst string) // before the import
		write func(stage string) error
		want  string // error text, "" = the import succeeds
	}{
		{"killed midway", nil, func(stage string) error {
			r, err := Create(stage, ImportConfig{Import: ImportSource{Source: src}})
			if err != nil {
				return err
			}
			r.Emit(fakeTrace(0, 0, 0))
			r.Close()
			return fmt.Errorf("writing %s: %w", stage, killed)
		}, "killed; no run folder was made"},
		{"leftover of a killed import", func(root, dst string) {
			left := filepath.Join(root, ".imp.partial-2147483646-12345") // no such process
			r, err := Create(left, ImportConfig{Import: ImportSource{Source: src}})
			if err != nil {
				t.Fatal(err)
			}
			r.Close()
		}, nil, ""},
		{"empty --out", func(root, dst string) { os.Mkdir(dst, 0o755) }, nil, ""},
		{"--out holds files", func(root, dst string) {
			os.Mkdir(dst, 0o755)
			os.WriteFile(filepath.Join(dst, "notes.txt"), nil, 0o644)
		}, nil, "holds other files (notes.txt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "runs")
			os.MkdirAll(root, 0o755)
			dst := filepath.Join(root, "imp")
			if tc.setup != nil {
				tc.setup(root, dst)
			}
			if runs, err := List(root); err != nil || len(runs) != 0 {
				t.Errorf("before: listed %v, %v", runs, err)
			}
			var err error
			if tc.write != nil {
				err = stageImport(dst, tc.write)
			} else {
				_, err = Import(dst, src)
			}
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), ".partial-") {
				t.Errorf("error names the staging folder: %v", err)
			}
			if err != nil && tc.write != nil && !errors.Is(err, killed) {
				t.Errorf("error %v does not wrap the write's", err)
			}
			entries, _ := os.ReadDir(root)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			runs, _ := List(root)
			switch {
			case tc.want == "":
				// Whole: every trace, a finished run, nothing else beside it.
				if !slices.Equal(names, []string{"imp"}) || len(runs) != 1 || runs[0].State != StateFinished {
					t.Errorf("folder holds %v, listed %+v", names, runs)
				}
			case tc.name == "killed midway":
				if len(names) != 0 || len(runs) != 0 {
					t.Errorf("a failed import left %v, listed %+v", names, runs)
				}
			}
			if tc.want == "" {
				// The rerun to a whole --out is refused, as before.
				if _, err := Import(dst, src); err == nil || !strings.Contains(err.Error(), "already exists") {
					t.Errorf("rerun: %v", err)
				}
			}
		})
	}
}

// A row whose question or solution holds a reserved tag is left out at
// import, with its file, line and the reason, as the data loaders leave it
// out (engine/task): kept, it would fail every later rlt score --run. A
// traces file's explanation is checked too (its rows are the loaders'); a
// trainer's logged generation is kept as the teacher wrote it.
func TestImportLeavesOutTaggedRows(t *testing.T) {
	const tag = record.EndThought
	traces := func(rows ...string) func(t *testing.T, dir string) string {
		return func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "traces.jsonl")
			writeFile(t, p, []byte(strings.Join(rows, "\n")+"\n"))
			return p
		}
	}
	// edit copies a fixture folder and replaces old, the first time it is in
	// file, with new.
	edit := func(fixture, file, old, new string) func(t *testing.T, dir string) string {
		return func(t *testing.T, dir string) string {
			src := filepath.Join(dir, "src")
			copyDir(t, fixture, src)
			p := filepath.Join(src, file)
			data := string(readFile(t, p))
			if !strings.Contains(data, old) {
				t.Fatalf("%s lacks %q", file, old)
			}
			writeFile(t, p, []byte(strings.Replace(data, old, new, 1)))
			return src
		}
	}
	good := `{"question":"1+1=?","solution":"2","explanation":"one and one"}`
	for _, c := range []struct {
		name   string
		src    func(t *testing.T, dir string) string
		traces int    // kept
		skip   string // the (first) row left out, as the report says it
		left   int    // rows left out
	}{
		{"traces file question", traces(good, `{"question":"2+2=?`+tag+`","solution":"4","explanation":"two"}`), 1,
			"traces.jsonl:2: question contains reserved tag " + tag, 1},
		{"traces file solution", traces(`{"question":"2+2=?","solution":"4<|im_end|>","explanation":"two"}`, good), 1,
			"traces.jsonl:1: solution contains reserved tag <|im_end|>", 1},
		{"traces file explanation", traces(good, good, `{"question":"2+2=?","solution":"4","explanation":"two `+record.BeginSolution+`4"}`), 2,
			"traces.jsonl:3: explanation contains reserved tag " + record.BeginSolution, 1},
		{"traces file completion", traces(`{"question":"2+2=?","solution":"4","completion":"two `+tag+` more`+record.EndExplanation+`"}`, good), 1,
			"traces.jsonl:1: completion contains reserved tag " + tag, 1},
		{"official", edit(fixtureRun, "stored_completions/1.csv", "What is 2+3?", "What is 2+3?"+tag), 4,
			"stored_completions/1.csv:2: row 1: question contains reserved tag " + tag, 1},
		{"verl", edit(verlFixture, "rollout/1.jsonl", `What is 12 * 13?\nassistant`, `What is 12 * 13?`+tag+`\nassistant`), 7,
			"rollout/1.jsonl:1: question contains reserved tag " + tag, 1},
		{"nemo-rl", edit(nemoFixture, "train_data_step1.jsonl", `<|begin_of_solution|>156`, `<|begin_of_solution|>156`+tag), 7,
			"train_data_step1.jsonl:1: solution contains reserved tag " + tag, 1},
		// A prompt without a solution section is kept as the question, as
		// it was, tags and all: no solution, nothing scores it.
		{"verl no solution", edit(verlFixture, "rollout/1.jsonl", `"input": "system\nYou are a teacher.\nuser\nWhat is 12 * 13?\nassistant\n<|begin_of_solution|>156<|end_of_solution|>\n\n<|begin_of_explanation|>\n\n", "output": "Think step by step about 'What is 12 * 13?', way 0.<|end_of_explanation|>", "gts": "156", `,
			`"input": "<|im_start|>user\nWhat is 12 * 13?<|im_end|>", "output": "Think step by step about 'What is 12 * 13?', way 0.<|end_of_explanation|>", `), 8, "", 0},
		// A Parquet file is edited in place, the text keeping its length: its
		// first copy is the dictionary's, the prompt of rows 1 and 2.
		{"trl", edit(trlFixture, "completions/completions_00002.parquet", "What is 12 * 13?", "What <|im_end|>?"), 6,
			"completions/completions_00002.parquet:1: question contains reserved tag <|im_end|>", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			src := c.src(t, dir)
			rep, err := Import(filepath.Join(dir, "run"), src)
			if err != nil {
				t.Fatal(err)
			}
			var skipped []string
			for _, is := range rep.Skip {
				skipped = append(skipped, is.String())
			}
			if len(rep.Skip) != c.left || c.left > 0 && (!strings.HasPrefix(skipped[0], c.skip) || !strings.HasSuffix(skipped[0], "remove it and import again")) {
				t.Errorf("left out %q, want %d, the first %q…", skipped, c.left, c.skip)
			}
			ro, err := OpenReadOnly(filepath.Join(dir, "run"))
			if err != nil {
				t.Fatal(err)
			}
			defer ro.Close()
			ts, _ := ro.Store().TracesSince(0)
			if len(ts) != c.traces || rep.Traces != c.traces {
				t.Errorf("%d traces (report: %d), want %d", len(ts), rep.Traces, c.traces)
			}
			for _, tr := range ts {
				if tr.Solution == "" {
					continue
				}
				if err := errors.Join(record.CheckText("question", tr.Question), record.CheckText("solution", tr.Solution)); err != nil {
					t.Errorf("trace %s kept: %v", tr.ID, err)
				}
			}
			evs, _ := ro.Store().EventsSince(0)
			n := 0
			for _, e := range evs {
				if e.Kind == KindSkipped && strings.HasPrefix(fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Error), c.skip) {
					n++
				}
			}
			if n != min(c.left, 1) || rep.Skipped != c.left {
				t.Errorf("%d skipped events say %q; %d rows left out, want %d", n, c.skip, rep.Skipped, c.left)
			}
		})
	}
}

// TestImportCountsOneRowAsOne: an import that leaves one row out says
// "1 row left out", not "1 rows", in its import event and, followed, in
// the session's notes (countOf, as the listing's counts).
func TestImportCountsOneRowAsOne(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	copyDir(t, fixtureRun, src)
	p := filepath.Join(src, "stored_completions/1.csv")
	data := string(readFile(t, p))
	if !strings.Contains(data, "What is 2+3?") {
		t.Fatalf("%s lacks its question", p)
	}
	writeFile(t, p, []byte(strings.Replace(data, "What is 2+3?", "What is 2+3?"+record.EndThought, 1)))
	dst := filepath.Join(t.TempDir(), "run")
	if _, err := Import(dst, src); err != nil {
		t.Fatal(err)
	}
	ro, err := OpenReadOnly(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	evs, _ := ro.Store().EventsSince(0)
	var said []string
	for _, e := range evs {
		if e.Kind == KindImport {
			said = append(said, e.Extra)
		}
	}
	s, err := OpenTrainerRun(t.Context(), src, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range []struct{ where, text string }{
		{"import event", strings.Join(said, "\n")},
		{"followed run's notes", strings.Join(s.Notes, "\n")},
	} {
		if !strings.Contains(c.text, "1 row left out") || strings.Contains(c.text, "1 rows") {
			t.Errorf("%s says %q, want \"1 row left out\"", c.where, c.text)
		}
	}
}

// A folder that is not the named trainer's is said with its path once: the
// import's own "SRC:" names it, the reader's words do not again.
func TestImportNotTheTrainersFolderSaysThePathOnce(t *testing.T) {
	src := filepath.Join(t.TempDir(), "notes")
	writeFile(t, filepath.Join(src, "a.txt"), []byte("hi\n"))
	for _, c := range []struct{ format, want string }{
		{"verl", "not a verl folder"},
		{"trl", "not a TRL run folder"},
		{"nemo-rl", "not a NeMo-RL log folder"},
		{"rlt", "not an RLT run folder"},
	} {
		t.Run(c.format, func(t *testing.T) {
			_, err := ImportAs(filepath.Join(t.TempDir(), "run"), src, c.format)
			if err == nil || !strings.HasPrefix(err.Error(), src+": "+c.want) || strings.Count(err.Error(), src) != 1 {
				t.Errorf("ImportAs --format %s: %v, want %q once, then %q", c.format, err, src, c.want)
			}
		})
	}
}

// An imported run whose metrics.jsonl lost records (lines deleted, the
// file emptied or deleted) says so in the listing, the header and the
// problems view, counted against the records its import wrote
// (ImportSource.Metrics, one a step), whichever steps they were: a
// trainer logs the steps it chooses (TRL's logging_steps), so no hole is
// looked for. It says to import the trainer's folder again, not to resume
// the run (an import has no checkpoint), and the listing no longer blames
// the shortfall on when the import was made. A line broken in place is
// said once, as a broken record. (Lines lost were not said at all, and
// the listing said the trainer had done fewer steps when imported.)
func TestImportedRunSaysLostMetricRecords(t *testing.T) {
	const again = "; import the trainer's folder again if it is still there (rlt import "
	for _, src := range []string{fixtureRun, trlFixture, verlFixture, nemoFixture} {
		for _, c := range []struct {
			name string
			lose func(lines []string) []string // nil: the file deleted
			said func(wrote int) string        // what is said of metrics.jsonl ("": nothing)
		}{
			{"nothing lost", func(l []string) []string { return l }, nil},
			{"first line lost", func(l []string) []string { return l[1:] }, func(n int) string {
				return fmt.Sprintf("holds the records of %s, though the import wrote %d metric records, one a step (its config.toml says so): the records of 1 step (those points of the curves) are lost", countOf(n-1, "step"), n)
			}},
			{"last line lost", func(l []string) []string { return l[:len(l)-1] }, func(n int) string {
				return fmt.Sprintf("holds the records of %s, though the import wrote %d metric records, one a step (its config.toml says so): the records of 1 step (those points of the curves) are lost", countOf(n-1, "step"), n)
			}},
			{"emptied", func([]string) []string { return []string{} }, func(n int) string {
				return fmt.Sprintf("holds no step, though the import wrote %d metric records, one a step (its config.toml says so): the trainer's metrics (the curves) are lost", n)
			}},
			{"deleted", nil, func(n int) string {
				return fmt.Sprintf("missing, though the import wrote %d metric records, one a step (its config.toml says so): the trainer's metrics (the curves) are lost", n)
			}},
			{"a line broken in place", func(l []string) []string { return append([]string{`{"step":`}, l[1:]...) }, nil},
		} {
			t.Run(filepath.Base(src)+"/"+c.name, func(t *testing.T) {
				root := t.TempDir()
				dir := filepath.Join(root, "run")
				rep, err := Import(dir, src)
				if err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(dir, MetricsFile)
				if c.lose == nil {
					err = os.Remove(path)
				} else {
					kept := ""
					for _, line := range c.lose(fileLines(t, path)) {
						kept += line + "\n"
					}
					err = os.WriteFile(path, []byte(kept), 0o644)
				}
				if err != nil {
					t.Fatal(err)
				}
				said := ""
				if c.said != nil {
					said = c.said(rep.Metrics) + again + ShellQuote(rep.Source)
				}

				list, err := List(root)
				if err != nil || len(list) != 1 {
					t.Fatalf("List: %+v, %v", list, err)
				}
				note := list[0].Note
				if said == "" && strings.Contains(note, MetricsFile+":") {
					t.Errorf("listing's note %q says %s lost something", note, MetricsFile)
				}
				if said != "" && !strings.Contains(note, MetricsFile+": "+said) {
					t.Errorf("listing's note %q, want it to say %q", note, MetricsFile+": "+said)
				}
				if said != "" && strings.Contains(note, "when it had done") {
					t.Errorf("listing's note %q takes the records lost for the steps done when the run was imported", note)
				}
				if strings.Contains(note, "rlt run --resume") {
					t.Errorf("listing's note %q says to resume an import", note)
				}

				r, err := OpenReadOnly(dir)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				if got := r.Steps().Lost; !strings.HasPrefix(got, said) || (said == "") != (got == "") {
					t.Errorf("header says %q of %s, want %q", got, MetricsFile, said)
				}
				var lost []string
				for _, is := range r.Store().Issues() {
					if is.Kind == IssueLost {
						lost = append(lost, is.File+": "+is.Msg)
					}
				}
				if (said == "") != (len(lost) == 0) || len(lost) > 1 || len(lost) == 1 && !strings.HasPrefix(lost[0], path+": "+said) {
					t.Errorf("problems view says %q, want %q of %s", lost, said, path)
				}
			})
		}
	}
}

// A traces file's rows that all record the reward they were ranked with
// (rlt distill --samples-out's "reward_config") keep it: config.toml's
// [import.reward] (ImportSource.Reward), which Settings reads for rlt
// score --run. Rows that record different rewards (none being one), or
// one that cannot be read, keep none, and a note names a line of each.
// The import dropped the reward_config: an imported run recorded none.
func TestImportTracesFileReward(t *testing.T) {
	const k3 = `{"temperature":0.9,"kl_mean":0.5,"estimator":"k3"}`
	row := func(q, rc string) string {
		r := `{"question":"` + q + `","solution":"s","explanation":"e","reward":-0.5`
		if rc != "" {
			r += `,"reward_config":` + rc
		}
		return r + "}\n"
	}
	recorded := record.DefaultRewardConfig()
	recorded.Temperature, recorded.KLMean, recorded.Estimator = 0.9, 0.5, record.K3
	for _, c := range []struct {
		name string
		rows string
		want *record.RewardConfig
		note string // in the notes where want is nil ("" for none)
	}{
		{"every row records one", row("q1", k3) + row("q2", k3), &recorded, ""},
		{"the same keys in another order and case", row("q1", k3) + row("q2", `{"Estimator":"k3","kl_mean":0.5,"temperature":0.9}`), &recorded, ""},
		{"a row left out records another", row("q1", k3) + `{"question":"bad","reward_config":{}}` + "\n" + row("q3", k3), &recorded, ""},
		{"none records one", row("q1", "") + row("q2", ""), nil, ""},
		{"they differ", row("q1", k3) + row("q2", `{"kl_mean":3}`), nil,
			"t.jsonl: its rows record different rewards (line 1 the reward_config c1 1 c2 0.01 c3 0.5 c4 0.03 · penalty -1 · τ 0.9 · k3, line 2 the reward_config c1 1 c2 0.01 c3 3 c4 0.03 · penalty -1 · τ 0.7 · logratio): the run records no reward"},
		{"a later row records none", row("q1", k3) + row("q2", k3) + row("q3", ""), nil,
			"t.jsonl: its rows record different rewards (line 1 the reward_config c1 1 c2 0.01 c3 0.5 c4 0.03 · penalty -1 · τ 0.9 · k3, line 3 no reward_config): the run records no reward"},
		{"the first records none", row("q1", "") + row("q2", k3), nil,
			"t.jsonl: its rows record different rewards (line 1 no reward_config, line 2 the reward_config"},
		{"one cannot be read", row("q1", k3) + row("q2", `{"lambda":3}`), nil,
			`t.jsonl:2: reward_config: unknown key "lambda"`},
		// Kept, it would refuse every rlt score --run of the run.
		{"one scoring refuses", row("q1", `{"temperature":0}`) + row("q2", `{"temperature":0}`), nil,
			"t.jsonl:1: its reward_config cannot be scored with (temperature 0 must be a finite positive number): the run records no reward"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, "t.jsonl")
			if err := os.WriteFile(src, []byte(c.rows), 0o644); err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(dir, "imp")
			rep, err := Import(dst, src)
			if err != nil {
				t.Fatal(err)
			}
			if (rep.Reward == nil) != (c.want == nil) || (c.want != nil && *rep.Reward != *c.want) {
				t.Errorf("report's reward %+v, want %+v", rep.Reward, c.want)
			}
			src2, ok := ImportedFrom(dst)
			if !ok {
				t.Fatal("not an imported run")
			}
			if (src2.Reward == nil) != (c.want == nil) || (c.want != nil && *src2.Reward != *c.want) {
				t.Errorf("config.toml's reward %+v, want %+v", src2.Reward, c.want)
			}
			data, err := os.ReadFile(filepath.Join(dst, ConfigFile))
			if err != nil {
				t.Fatal(err)
			}
			st := ParseSettings(data)
			if (st.ImportedReward == nil) != (c.want == nil) || (c.want != nil && *st.ImportedReward != *c.want) {
				t.Errorf("Settings' imported reward %+v, want %+v", st.ImportedReward, c.want)
			}
			notes := strings.Join(rep.Notes, "\n")
			if c.note == "" && strings.Contains(notes, "reward") || c.note != "" && !strings.Contains(notes, c.note) {
				t.Errorf("notes:\n%s\nwant %q", notes, c.note)
			}
		})
	}
}

// An imported run's config.toml is read by one reader (readImport) for
// ImportedFrom, Settings and rlt score --run (ImportedReward): leniently,
// so that a teacher and student a user writes beside [import] to score it
// with leave it an import (ImportedFrom decoded it strictly: such a run
// was no import, and the Runs screen offered to resume it); [import.reward]
// with a key it lacks at that key's default, said (unset), as a [reward]
// table's and a reward_config's are (it read 0: kl_max missing scored with
// c4 0); a value scoring refuses said at its line with its key, and not
// claimed by the viewers (it was scored with, or refused with no file,
// table or line).
func TestImportedRewardOfConfig(t *testing.T) {
	def := record.DefaultRewardConfig()
	k3 := def
	k3.KLMean, k3.Estimator = 0.5, record.K3
	full := "[import.reward]\ntemperature = 0.7\nsolution_mean = 1.0\nsolution_min = 0.01\nkl_mean = 0.5\nkl_max = 0.03\nformat_penalty = -1.0\nestimator = 'k3'\n"
	const head = "[import]\nformat = 'traces'\nsource = '/data/t.jsonl'\n"
	for _, c := range []struct {
		name, text string
		imported   bool
		want       *record.RewardConfig // nil: none recorded
		unset      []string
		problem    string // ImportedReward's error ("" for none)
	}{
		{"no reward", head, true, nil, nil, ""},
		{"the whole table", head + full, true, &k3, nil, ""},
		{"models beside it", "teacher = '/m/t'\nstudent = '/m/s'\n" + head + "planned_steps = 3\nnew_key = 1\n" + full, true, &k3, nil, ""},
		{"keys left out", head + "[import.reward]\nkl_mean = 0.5\nestimator = 'k3'\n", true, &k3,
			[]string{"temperature", "solution_mean", "solution_min", "kl_max", "format_penalty"}, ""},
		{"an empty table", head + "[import.reward]\n", true, &def, rewardKeys, ""},
		{"a key in another case", head + "[import.reward]\nKL_MEAN = 0.5\nestimator = 'k3'\n", true, &k3,
			[]string{"temperature", "solution_mean", "solution_min", "kl_max", "format_penalty"}, ""},
		{"a temperature of 0", head + "[import.reward]\nkl_mean = 0.5\nestimator = 'k3'\ntemperature = 0.0\n", true, withTemperature(k3, 0),
			[]string{"solution_mean", "solution_min", "kl_max", "format_penalty"},
			"config.toml:7:1: import.reward.temperature 0 must be a finite positive number"},
		{"an unknown estimator", head + full[:len(full)-len("estimator = 'k3'\n")] + "estimator = 'l2'\n", true, rewardPtr(withEstimator(k3, "l2")), nil,
			`config.toml:11:1: import.reward.estimator "l2": want`},
		// A value of the wrong type leaves it an import (it was a run of
		// ours, which rlt run --resume refused for every training key it
		// lacks), with no reward claimed: Run.ConfigTypes says the value.
		{"a value of the wrong type", head + "[import.reward]\nkl_mean = 0.5\ntemperature = 'hot'\n", true, nil, nil, ""},
		{"a model of the wrong type", "teacher = 3\n" + head + full, true, &k3, nil, ""},
		{"a run of ours", "task = 'addition'\n[reward]\nkl_mean = 0.5\n", false, nil, nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, ConfigFile)
			if err := os.WriteFile(path, []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			src, ok := ImportedFrom(dir)
			if ok != c.imported || ok && src.Source != "/data/t.jsonl" {
				t.Fatalf("ImportedFrom: %+v, %v; want imported %v", src, ok, c.imported)
			}
			rc, unset, err := ImportedReward(path, []byte(c.text))
			if (rc == nil) != (c.want == nil) || rc != nil && *rc != *c.want || !slices.Equal(unset, c.unset) {
				t.Errorf("ImportedReward: %+v, unset %q; want %+v, %q", rc, unset, c.want, c.unset)
			}
			if c.problem == "" && err != nil || c.problem != "" && (err == nil || !strings.HasPrefix(err.Error(), filepath.Join(dir, c.problem))) {
				t.Errorf("ImportedReward's problem: %v, want %q", err, c.problem)
			}
			if c.problem != "" && strings.Count(err.Error(), "\n") != 0 {
				t.Errorf("one problem said as several: %v", err)
			}
			// What ImportedFrom and the viewers read is that reward,
			// where scoring takes it.
			if (src.Reward == nil) != (c.want == nil) || src.Reward != nil && *src.Reward != *c.want {
				t.Errorf("ImportedFrom's reward %+v, want %+v", src.Reward, c.want)
			}
			st := ParseSettings([]byte(c.text))
			shown := c.want
			if c.problem != "" {
				shown = nil
			}
			if (st.Imported != "") != c.imported || (st.ImportedReward == nil) != (shown == nil) || shown != nil && *st.ImportedReward != *shown {
				t.Errorf("Settings: %+v, want imported %v with the reward %+v", st, c.imported, shown)
			}
			if got, rows, ok := st.ShownReward(); c.imported && (ok != (shown != nil) || rows != ok || ok && got != *shown) {
				t.Errorf("ShownReward: %+v, rows %v, ok %v; want %+v", got, rows, ok, shown)
			}
		})
	}
}

func withTemperature(c record.RewardConfig, v float64) *record.RewardConfig {
	c.Temperature = v
	return &c
}

func rewardPtr(c record.RewardConfig) *record.RewardConfig { return &c }

// The import of a trainer's run folder says that the run records no
// reward, so that rlt score --run scores with the defaults (it said
// nothing of the reward); an official folder that holds its Hydra
// configuration (.hydra/config.yaml, where the trainer's reward is)
// says so, with its keys and the flags that take their values.
func TestImportFolderSaysItsReward(t *testing.T) {
	const none = "the folder records no reward; rlt score --run uses the defaults (or the flags given)"
	for _, c := range []struct {
		name, src string
		hydra     bool // a .hydra/config.yaml beside the trainer's files
		note      string
	}{
		{"official", "testdata/official/run", false, none},
		{"official with its Hydra configuration", "testdata/official/run", true,
			filepath.Join(".hydra", "config.yaml") + " holds the official trainer's reward, which the import does not read (answer_log_prob_coeff [c1, c2], kl_penalty_reward_coeff [c3, c4], not_matched_penalty, use_schulman_kl_estimation, unbias_student_log_probs_temp), so the run records none: rlt score --run uses the defaults; give its values as --c1 --c2 --c3 --c4"},
		{"trl", "testdata/trainers/trl", false, none},
		// A TRL folder's Hydra file is no RLT trainer's.
		{"trl with a Hydra file", "testdata/trainers/trl", true, none},
		{"verl", "testdata/trainers/verl", false, none},
		{"nemo-rl", "testdata/trainers/nemo-rl", false, none},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := filepath.Join(t.TempDir(), "src")
			if err := os.CopyFS(src, os.DirFS(c.src)); err != nil {
				t.Fatal(err)
			}
			if c.hydra {
				if err := os.MkdirAll(filepath.Join(src, ".hydra"), 0o755); err != nil {
					t.Fatal(err)
				}
				yaml := "answer_log_prob_coeff:\n- 1\n- 0.01\nkl_penalty_reward_coeff:\n- 3\n- 0.03\n"
				if err := os.WriteFile(filepath.Join(src, ".hydra", "config.yaml"), []byte(yaml), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			rep, err := Import(filepath.Join(t.TempDir(), "imp"), src)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Reward != nil {
				t.Errorf("a trainer's folder recorded the reward %+v", rep.Reward)
			}
			n := 0
			for _, note := range rep.Notes {
				if strings.Contains(note, "reward") && strings.Contains(note, "rlt score --run") {
					n++
					if !strings.HasPrefix(note, c.note) {
						t.Errorf("note %q, want %q", note, c.note)
					}
				}
			}
			if n != 1 {
				t.Errorf("%d notes of the reward in %q, want 1", n, rep.Notes)
			}
		})
	}
}

// A line of rlt distill --samples-out whose completion was cut short to
// fit the models that scored it ("cut": true) is left out of an import,
// said at its line: it is only the first part of what the teacher wrote,
// which rlt distill never keeps, and imported it became a trace reviewed
// and exported (rlt export) as a whole explanation, distillation data.
// A "cut" of another type is another writer's field: the row is imported.
// The rows have no "kept" (a cut sample is never kept, and a row marked
// "kept": false is left out as such: TestImportLeavesUnkeptSamplesOut),
// as jq -c 'del(.kept)' leaves them to import every sample.
func TestImportLeavesACutSampleOut(t *testing.T) {
	line := func(q, cut string) string {
		return `{"group":0,"sample":0,"question":"` + q + `","solution":"s","completion":"e<|end_of_explanation|>","reward":1,"finish_reason":"length"` + cut + "}\n"
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "samples.jsonl")
	rows := line("whole", `,"cut":false`) + line("cut", `,"cut":true`) + line("unmarked", "") + line("another's", `,"cut":"yes"`)
	if err := os.WriteFile(src, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Import(filepath.Join(dir, "imp"), src)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Traces != 3 || len(rep.Skip) != 1 || rep.Skip[0].Line != 2 || rep.Skip[0].Field != "cut" {
		t.Fatalf("%d traces, left out %v; want 3, line 2 left out for its cut", rep.Traces, rep.Skip)
	}
	if s := rep.Skip[0].String(); !strings.HasPrefix(s, `samples.jsonl:2: "cut": true: its completion was cut short to fit the models that scored it`) {
		t.Errorf("said as %q", s)
	}
}

// A line of rlt distill --samples-out marked "kept": false, a sample its
// ranking did not keep, is left out of an import, said once in a note
// with the count and the first lines and how to import every sample, as
// rlt distill --reference leaves it out: it was imported unmarked, each
// question's N samples traces beside one another, reviewed and exported
// alike. A "kept" of true, null or another type is imported; a cut sample
// marked "kept": false is one of those not kept. A file of none kept
// makes no run folder, saying why.
func TestImportLeavesUnkeptSamplesOut(t *testing.T) {
	line := func(q string, sample int, kept string) string {
		return fmt.Sprintf(`{"group":0,"sample":%d,"question":"%s","solution":"s","completion":"e<|end_of_explanation|>","reward":1%s}`, sample, q, kept) + "\n"
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "my samples.jsonl")
	rows := line("q1", 0, `,"kept":false`) + line("q1", 1, `,"kept":true`) + line("q2", 0, `,"kept":false,"cut":true`) +
		line("q2", 1, `,"kept":false`) + line("q3", 0, `,"kept":null`) + line("q3", 1, `,"kept":"no"`)
	if err := os.WriteFile(src, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Import(filepath.Join(dir, "imp"), src)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Traces != 3 || len(rep.Skip) != 0 {
		t.Fatalf("%d traces, left out %v; want 3 (lines 2, 5, 6), none left out as a row's fault", rep.Traces, rep.Skip)
	}
	run, err := OpenReadOnly(rep.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	traces, _ := run.Store().TracesSince(0)
	var sources []string
	for _, tr := range traces {
		sources = append(sources, tr.Source)
	}
	if want := "my samples.jsonl:2,my samples.jsonl:5,my samples.jsonl:6"; strings.Join(sources, ",") != want {
		t.Errorf("traces of %s, want %s", sources, want)
	}
	want := `my samples.jsonl: left out 3 of its 6 rows, marked "kept": false (lines 1, 3, 4): samples of rlt distill --samples-out that its ranking did not keep; ` +
		`rlt import takes the kept ones, each question's once, as rlt distill --reference distills them (to import every sample, drop the field: jq -c 'del(.kept)' '` + src + `' > all.jsonl)`
	if !slices.Contains(rep.Notes, want) {
		t.Errorf("notes %q, want %q", rep.Notes, want)
	}

	none := filepath.Join(dir, "none.jsonl")
	if err := os.WriteFile(none, []byte(line("q1", 0, `,"kept":false`)+line("q1", 1, `,"kept":false`)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Import(filepath.Join(dir, "imp2"), none)
	if err == nil || !strings.Contains(err.Error(), `nothing to import: no trace or metric could be read; none.jsonl: left out 2 of its 2 rows, marked "kept": false (lines 1, 2)`) ||
		!strings.HasSuffix(err.Error(), "; no run folder was made") {
		t.Errorf("import of samples none kept: %v", err)
	}
}

// TestImportTakesEachKeptQuestionOnce: a file of two rankings joined
// (rlt distill --samples-out written twice into one file) keeps a
// question's sample twice; rlt import takes the first, each question once
// as rlt train, rlt distill and rlt eval take it, and says the others
// once, with their lines and how to import every sample. Rows without
// "kept" (del(.kept)'s every sample) are all imported, and a kept row left
// out for its own fault leaves its question to the next kept one.
func TestImportTakesEachKeptQuestionOnce(t *testing.T) {
	line := func(q, expl, kept string) string {
		return fmt.Sprintf(`{"question":"%s","solution":"s","completion":"%s<|end_of_explanation|>","reward":1%s}`, q, expl, kept) + "\n"
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "joined.jsonl")
	rows := line("q1", "a", `,"kept":true`) + // 1
		line("q1", "b", `,"kept":false`) + // 2: not kept
		line("q2", "<|im_start|>", `,"kept":true`) + // 3: skipped, its own fault
		line("q2", "c", `,"kept":true`) + // 4: q2's first usable kept row
		line("q1", "d", `,"kept":true`) + // 5: q1 again
		line("q2", "c", `,"kept":true`) + // 6: q2 again, the same row
		line("q3", "e", "") + line("q3", "f", "") // 7, 8: every sample, unmarked
	if err := os.WriteFile(src, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Import(filepath.Join(dir, "imp"), src)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Skip) != 1 || rep.Skip[0].Line != 3 {
		t.Errorf("left out as a row's fault %v, want line 3 only", rep.Skip)
	}
	run, err := OpenReadOnly(rep.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer run.Close()
	traces, _ := run.Store().TracesSince(0)
	var sources []string
	for _, tr := range traces {
		sources = append(sources, tr.Source)
	}
	if want := "joined.jsonl:1,joined.jsonl:4,joined.jsonl:7,joined.jsonl:8"; strings.Join(sources, ",") != want {
		t.Errorf("traces of %s, want %s", sources, want)
	}
	want := `joined.jsonl: left out 2 of its 8 rows, each an earlier row's question with its solution (lines 5, 6), each marked "kept": true as an earlier one was: ` +
		`rlt import takes each question's kept sample once, the first, as rlt distill --samples-out keeps one a question, so a repeat was the same question reviewed and exported again ` +
		`(to import every sample, drop the field: jq -c 'del(.kept)' ` + ShellQuote(src) + ` > all.jsonl)`
	if !slices.Contains(rep.Notes, want) {
		t.Errorf("notes %q, want %q", rep.Notes, want)
	}
}
