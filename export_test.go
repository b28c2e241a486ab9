package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui"
)

// copyDir copies a run folder fixture so that it can be written.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(out, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestWorkbenchAndCLIExportTheSameRows: the workbench's export (e on a
// trace) and rlt export write the same Bespoke-Stratos rows for one run,
// with the run's own student prompt (this run's short one), not
// record.DefaultStudentSystem.
func TestWorkbenchAndCLIExportTheSameRows(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	copyDir(t, filepath.Join("sessions", "testdata", "prev-format", "grpo"), dir) // reviewed: 0-0-0 accepted
	r, err := sessions.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Review("1-1-1", sessions.LabelAccept, ""); err != nil {
		t.Fatal(err)
	}
	var m tea.Model = ui.New(ui.Options{Session: &sessions.Session{Run: r}, RunsDir: filepath.Dir(dir)})
	m, _ = m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	for _, k := range []tea.KeyMsg{{Type: tea.KeyRunes, Runes: []rune("2")}, {Type: tea.KeyEnter}, {Type: tea.KeyRunes, Runes: []rune("e")}} {
		var cmd tea.Cmd
		m, cmd = m.Update(k)
		if k.Type == tea.KeyEnter && cmd != nil {
			m, _ = m.Update(cmd()) // the trace opens
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	workbench, err := os.ReadFile(filepath.Join(dir, sessions.ExportFile))
	if err != nil {
		t.Fatalf("the workbench wrote no export: %v", err)
	}
	code, cli, errs := runCLI(t, "", "export", "--run", dir)
	if code != 0 {
		t.Fatalf("rlt export: exit %d: %s", code, errs)
	}
	if string(workbench) != cli {
		t.Fatalf("the workbench exported\n%s\nrlt export\n%s", workbench, cli)
	}
	if n := strings.Count(cli, "\n"); n != 2 || !strings.Contains(cli, `"system":"Solve: thought, then solution."`) ||
		strings.Contains(cli, record.DefaultStudentSystem) {
		t.Errorf("rows (%d) should be the 2 accepted traces with the run's student prompt:\n%s", n, cli)
	}
}

// TestExportSaysWhatItLeftOut: a broken trace line and a review with a label
// it does not know are each named with file and line on stderr (the count
// alone left the user to find them), by export and report (score --run
// says them the same way, through reportSkipped).
func TestExportSaysWhatItLeftOut(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	copyDir(t, filepath.Join("sessions", "testdata", "prev-format", "grpo"), dir)
	reviews := filepath.Join(dir, sessions.ReviewsFile)
	f, err := os.OpenFile(reviews, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"time":"2026-12-04T14:50:00Z","trace":"1-1-1","label":"accepted"}` + "\n")
	f.Close()
	data, _ := os.ReadFile(reviews)
	line := strings.Count(string(data), "\n")
	want := fmt.Sprintf("%s:%d: skipped broken record: unknown label \"accepted\"", reviews, line)
	code, _, errs := runCLI(t, "", "export", "--run", dir, "--out", filepath.Join(t.TempDir(), "rows.jsonl"))
	if code != 0 || !strings.Contains(errs, "left out 1 unreadable record of the run:\n  "+want) {
		t.Errorf("rlt export: exit %d, stderr %q; want it to name %s", code, errs, want)
	}
	code, _, errs = runCLI(t, "", "report", "--out", t.TempDir(), dir)
	if code != 0 || !strings.Contains(errs, want) {
		t.Errorf("rlt report: exit %d, stderr %q; want it to name %s", code, errs, want)
	}
}

// A trace file whose last line was cut short after the run wrote it
// whole lost the trace that line held, accepted in review here: rlt export
// said nothing of it but the line among the problems read ("2 written;
// left out: 3 unreviewed, 1 rejected, 1 flagged, 0 unreadable, 0 refused"
// of the 7 traces left), the accepted trace missing from the rows. It is
// counted, with where, in rlt score --run's words.
func TestExportSaysATraceLostInAPartialLastLine(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	copyDir(t, filepath.Join("sessions", "testdata", "prev-format", "grpo"), dir)
	w, err := sessions.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"1-0-1", "1-1-1"} { // 1-1-1 is 000001.jsonl's last line
		if err := w.Review(id, sessions.LabelAccept, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, sessions.TracesDir, "000001.jsonl")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	if len(lines) != 5 || lines[4] != "" {
		t.Fatalf("%s holds %q, want four whole lines", path, data)
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines[:3], "")+lines[3][:20]), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "rows.jsonl")
	code, _, errs := runCLI(t, "", "export", "--run", dir, "--out", out)
	// 1-1-1's review is said too: the trace lost was accepted.
	want := "2 written; left out: 3 unreviewed, 1 rejected, 1 flagged, 0 unreadable, 0 refused, 1 lost (the 20-byte partial last line of " +
		path + ":4: a trace the run had written whole); 1 reviewed trace not read (lost or unreadable): 1 accepted (1-1-1): " +
		"its review stays in reviews.jsonl and holds again if the trace is put back\n"
	if code != 1 || !strings.Contains(errs, want) {
		t.Errorf("rlt export: exit %d, stderr:\n%s\nwant it to say %q and exit 1 (TestExportFailsForTracesNotRead)", code, errs, want)
	}
}

// Traces of the run that rlt export could not read, a trace record
// unreadable or a trace lost in a trace file's partial last line, are
// traces missing from the rows: it wrote the rows it read and exited 0, so
// a script that exports and then distills went on without them, while rlt
// score --run exits 1 for the same. It fails after the rows, naming the
// lines and what to do, as for a trace not read back. The partial last
// line a killed writer left in its last step's file is no trace the run
// recorded: exit 0, as rlt score --run.
func TestExportFailsForTracesNotRead(t *testing.T) {
	all := []string{"0-0-0", "0-0-1", "1-0-0", "1-0-1"}
	for _, c := range []struct {
		name    string
		killed  bool
		cut     string           // the trace file whose last line is cut to its first 20 bytes
		unrev   string           // a trace left without a review (the others are accepted)
		corrupt map[string][]int // 1-based lines of trace files made unreadable
		stdout  bool             // no --out
		code    int
		want    []string // in stderr; DIR and TRACES stand for the run's folder and its traces folder
	}{
		{name: "whole", want: []string{"4 written; left out: 0 unreviewed, 0 rejected, 0 flagged, 0 unreadable, 0 refused\n"}},
		{name: "closed, last file cut", cut: "000001.jsonl", code: 1, want: []string{
			"3 written; left out: 0 unreviewed, 0 rejected, 0 flagged, 0 unreadable, 0 refused, 1 lost (the 20-byte partial last line of TRACES/000001.jsonl:2: a trace the run had written whole); " +
				"1 reviewed trace not read (lost or unreadable): 1 accepted (1-0-1): its review stays in reviews.jsonl and holds again if the trace is put back\n",
			"rlt export: export of DIR: 1 trace of DIR was cut short after the run wrote it whole (the 20-byte partial last line of TRACES/000001.jsonl:2), and was left out: " +
				"put the file back from a copy of the run folder if there is one; OUT holds the 3 rows read; remove it and run the same command again\n"}},
		{name: "killed, earlier file cut", killed: true, cut: "000000.jsonl", code: 1, want: []string{
			"1 lost (the 20-byte partial last line of TRACES/000000.jsonl:2", "and was left out: put the file back"}},
		{name: "killed, last file cut", killed: true, cut: "000001.jsonl", unrev: "1-0-1", want: []string{
			"3 written; left out: 0 unreviewed, 0 rejected, 0 flagged, 0 unreadable, 0 refused\n"}},
		// Its trace accepted: read whole once, so not the line the killed
		// writer was writing but a trace lost since (it exited 0).
		{name: "killed, last file cut, its trace reviewed", killed: true, cut: "000001.jsonl", code: 1, want: []string{
			"3 written; left out: 0 unreviewed, 0 rejected, 0 flagged, 0 unreadable, 0 refused, 1 lost (the 20-byte partial last line of TRACES/000001.jsonl:2: a trace the run had written whole); " +
				"1 reviewed trace not read (lost or unreadable): 1 accepted (1-0-1): its review stays in reviews.jsonl and holds again if the trace is put back\n",
			"rlt export: export of DIR: 1 trace of DIR was cut short after the run wrote it whole (the 20-byte partial last line of TRACES/000001.jsonl:2), and was left out"}},
		{name: "an unreadable record", corrupt: map[string][]int{"000000.jsonl": {1}}, code: 1, want: []string{
			"3 written; left out: 0 unreviewed, 0 rejected, 0 flagged, 1 unreadable, 0 refused; " +
				"1 reviewed trace not read (lost or unreadable): 1 accepted (0-0-0): its review stays in reviews.jsonl and holds again if the trace is put back\n",
			"rlt export: export of DIR: 1 trace record of DIR could not be read and was left out (TRACES/000000.jsonl line 1): " +
				"mend or remove that line in TRACES; OUT holds the 3 rows read; remove it and run the same command again\n"}},
		{name: "unreadable records and a lost trace, stdout", corrupt: map[string][]int{"000000.jsonl": {1, 2}}, cut: "000001.jsonl", stdout: true, code: 1, want: []string{
			"1 written; left out: 0 unreviewed, 0 rejected, 0 flagged, 2 unreadable, 0 refused, 1 lost",
			"rlt export: export of DIR: 2 trace records of DIR could not be read and were left out (TRACES/000000.jsonl lines 1, 2): mend or remove those lines in TRACES; " +
				"1 trace of DIR was cut short", "; stdout has the 1 row read; run the same command again\n"}},
		{name: "nothing readable", corrupt: map[string][]int{"000000.jsonl": {1, 2}, "000001.jsonl": {1, 2}}, code: 1, want: []string{
			"0 written; left out: 0 unreviewed, 0 rejected, 0 flagged, 4 unreadable, 0 refused; " +
				"4 reviewed traces not read (lost or unreadable): 4 accepted (0-0-0, 0-0-1, 1-0-0 and 1 more): their reviews stay in reviews.jsonl and hold again if the traces are put back\n",
			"rlt export: nothing to export from DIR: its 4 accepted traces were not read (of 4 traces: 0 unreviewed, 0 rejected, 0 flagged, 4 unreadable; 4 reviewed traces not read",
			"; 4 trace records of DIR could not be read and were left out (TRACES/000000.jsonl lines 1, 2; TRACES/000001.jsonl lines 1, 2): " +
				"mend or remove those lines in TRACES; no file written\n"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			accept := slices.DeleteFunc(slices.Clone(all), func(id string) bool { return id == c.unrev })
			writeTornRun(t, dir, c.killed, accept...)
			traces := filepath.Join(dir, sessions.TracesDir)
			for file, lines := range c.corrupt {
				breakLines(t, filepath.Join(traces, file), lines)
			}
			if c.cut != "" {
				tearSecondLine(t, filepath.Join(traces, c.cut))
			}
			out := filepath.Join(t.TempDir(), "rows.jsonl")
			args := []string{"export", "--run", dir}
			if !c.stdout {
				args = append(args, "--out", out)
			}
			code, _, errs := runCLI(t, "", args...)
			if code != c.code {
				t.Errorf("exit %d, want %d:\n%s", code, c.code, errs)
			}
			for _, want := range c.want {
				want = strings.NewReplacer("TRACES", traces, "DIR", dir, "OUT", out).Replace(want)
				if !strings.Contains(errs, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errs)
				}
			}
		})
	}
}

// TestExportRefusesAnExistingOut: rlt export replaces nothing, in either
// format: an existing --out (a file, a folder) is refused, named, before
// the run is read (a missing run is not even said), and is left as it
// was; a new path is written. (os.Create truncated an earlier export.)
func TestExportRefusesAnExistingOut(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	copyDir(t, filepath.Join("sessions", "testdata", "prev-format", "grpo"), dir)
	root := t.TempDir()
	earlier := filepath.Join(root, "earlier.jsonl")
	csv := filepath.Join(root, "rows.csv")
	folder := filepath.Join(root, "folder")
	for _, p := range []string{earlier, csv} {
		if err := os.WriteFile(p, []byte("earlier work\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	missingRun := filepath.Join(root, "no-such-run")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"stratos over a file", []string{"--run", dir, "--out", earlier}, 1, "--out " + earlier + " already exists, and export does not replace a file: remove it or choose another path"},
		{"csv over a file", []string{"--run", dir, "--format", "csv", "--out", csv}, 1, "--out " + csv + " already exists"},
		{"over a folder", []string{"--run", dir, "--out", folder}, 1, "--out " + folder + " already exists and is a folder; --out is the file to write: give a new file's path, such as " + filepath.Join(folder, "accepted.jsonl")},
		{"before the run is read", []string{"--run", missingRun, "--out", earlier}, 1, "--out " + earlier + " already exists"},
		// A folder that cannot be written (a file here; read-only alike).
		{"in a folder that cannot be", []string{"--run", dir, "--out", filepath.Join(earlier, "rows.jsonl")}, 1,
			"--out " + filepath.Join(earlier, "rows.jsonl") + ": "},
		{"the way on", []string{"--run", dir, "--out", filepath.Join(earlier, "rows.jsonl")}, 1,
			": nothing was written; give --out a file in a folder this process can write (leave --out out to print the rows)"},
		{"new path", []string{"--run", dir, "--out", filepath.Join(root, "new.jsonl")}, 0, "1 written"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, "", append([]string{"export"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Fatalf("exit %d, want %d; stderr %q, want %q (stdout %q)", code, tc.code, errs, tc.want, out)
			}
		})
	}
	for _, p := range []string{earlier, csv} {
		if data, _ := os.ReadFile(p); string(data) != "earlier work\n" {
			t.Errorf("%s now holds %q", p, data)
		}
	}
	if entries, _ := os.ReadDir(folder); len(entries) != 0 {
		t.Errorf("%s now holds %v", folder, entries)
	}
	if data, _ := os.ReadFile(filepath.Join(root, "new.jsonl")); strings.Count(string(data), "\n") != 1 {
		t.Errorf("new.jsonl holds %q", data)
	}
}

// TestExportOfNothing: an export that would write no row (no trace
// accepted in review, or a run with no trace yet) says which filter left
// nothing and exits 1, and leaves no --out file behind (an empty one was
// made, exit 0, and then refused the export after the review as an
// existing file). The folder in the way to accept traces is quoted for
// the shell (it's/run was said bare, and broke when pasted).
func TestExportOfNothing(t *testing.T) {
	fixture := filepath.Join("sessions", "testdata", "prev-format", "grpo")
	unreviewed := filepath.Join(t.TempDir(), "run")
	copyDir(t, fixture, unreviewed)
	os.Remove(filepath.Join(unreviewed, sessions.ReviewsFile))
	quoted := filepath.Join(t.TempDir(), "it's", "run") // said as the shell reads it back
	copyDir(t, unreviewed, quoted)
	judged := filepath.Join(t.TempDir(), "run") // one trace flagged, one rejected, none accepted
	copyDir(t, fixture, judged)
	data, _ := os.ReadFile(filepath.Join(fixture, sessions.ReviewsFile))
	_, rest, _ := strings.Cut(string(data), "\n") // the first review accepts 0-0-0
	os.WriteFile(filepath.Join(judged, sessions.ReviewsFile), []byte(rest), 0o644)
	empty := filepath.Join(t.TempDir(), "run")
	r, err := sessions.Create(empty, map[string]any{"steps": 1})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	root := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		want string // the last line of stderr
	}{
		{"unreviewed", []string{"--run", unreviewed, "--out", filepath.Join(root, "a.jsonl")},
			"rlt export: nothing to export from " + unreviewed + ": no trace is accepted in review (of 8 traces: 8 unreviewed, 0 rejected, 0 flagged, 0 unreadable); accept traces first (rlt open " + unreviewed + ", then a on a trace); no file written"},
		{"csv", []string{"--run", unreviewed, "--format", "csv", "--out", filepath.Join(root, "a.csv")}, "no trace is accepted in review (of 8 traces: 8 unreviewed"},
		{"to stdout", []string{"--run", unreviewed}, "(rlt open " + unreviewed + ", then a on a trace); no rows written"},
		{"quoted folder", []string{"--run", quoted}, "(rlt open " + sessions.ShellQuote(quoted) + ", then a on a trace); no rows written"},
		{"parquet to stdout", []string{"--run", unreviewed, "--format", "parquet"}, "then a on a trace); no rows written"},
		{"parquet", []string{"--run", unreviewed, "--format", "parquet", "--out", filepath.Join(root, "a.parquet")}, "then a on a trace); no file written"},
		{"rejected and flagged", []string{"--run", judged, "--out", filepath.Join(root, "b.jsonl")}, "no trace is accepted in review (of 8 traces: 6 unreviewed, 1 rejected, 1 flagged, 0 unreadable)"},
		{"no trace yet", []string{"--run", empty, "--out", filepath.Join(root, "c.jsonl")}, "rlt export: nothing to export from " + empty + ": it holds no trace yet; no file written"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, "", append([]string{"export"}, tc.args...)...)
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			if last := lines[len(lines)-1]; code != 1 || !strings.Contains(last, tc.want) || out != "" {
				t.Errorf("exit %d, last line %q, stdout %q; want exit 1, %q and no row", code, last, out, tc.want)
			}
		})
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("exports of nothing left files: %v", entries)
	}
	// Once a trace is accepted, the export to the same path is written.
	r, err = sessions.Open(unreviewed, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Review("1-1-1", sessions.LabelAccept, ""); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if code, _, errs := runCLI(t, "", "export", "--run", unreviewed, "--out", filepath.Join(root, "a.jsonl")); code != 0 || !strings.Contains(errs, "1 written") {
		t.Errorf("export after the review: exit %d: %s", code, errs)
	}
}

// TestExportOutIsWholeOrAbsent: rlt export --out writes its rows to a
// hidden file beside FILE and links it into place once synced, so an
// export killed midway (simulated by a writer that fails after half a row)
// leaves no FILE, whose truncated rows looked complete and refused the
// retry as an existing file, and no temporary file either; the retry then
// writes FILE whole. A FILE made meanwhile is not replaced.
func TestExportOutIsWholeOrAbsent(t *testing.T) {
	boom := fmt.Errorf("killed")
	for _, tc := range []struct {
		name     string
		existing bool
		export   func(w io.Writer) (sessions.ExportReport, error)
		want     string // error text, "" = none
		file     string // FILE's content afterwards, "" = no file
	}{
		{"killed mid-row", false, func(w io.Writer) (sessions.ExportReport, error) {
			fmt.Fprint(w, "{\"system\":\"s\"}\n{\"sys")
			return sessions.ExportReport{Written: 1}, boom
		}, "killed", ""},
		{"no row", false, func(w io.Writer) (sessions.ExportReport, error) { return sessions.ExportReport{}, nil }, "", ""},
		{"whole", false, func(w io.Writer) (sessions.ExportReport, error) {
			fmt.Fprint(w, "{\"a\":1}\n{\"a\":2}\n")
			return sessions.ExportReport{Written: 2}, nil
		}, "", "{\"a\":1}\n{\"a\":2}\n"},
		{"made meanwhile", true, func(w io.Writer) (sessions.ExportReport, error) {
			fmt.Fprint(w, "{\"a\":1}\n")
			return sessions.ExportReport{Written: 1}, nil
		}, "already exists, and export does not replace a file", "someone else's\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			out := filepath.Join(root, "accepted.jsonl")
			if tc.existing {
				os.WriteFile(out, []byte("someone else's\n"), 0o644)
			}
			var rep sessions.ExportReport
			err := writeExport(context.Background(), out, tc.export, &rep)
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			data, rerr := os.ReadFile(out)
			if (tc.file == "") != (rerr != nil) || string(data) != tc.file {
				t.Errorf("%s holds %q (%v), want %q", out, data, rerr, tc.file)
			}
			if entries, _ := os.ReadDir(root); len(entries) > 1 || (len(entries) == 1 && entries[0].Name() != "accepted.jsonl") {
				t.Errorf("left in the folder: %v", entries)
			}
		})
	}
	// Through the command: the retry of a killed export is not refused.
	dir := filepath.Join(t.TempDir(), "run")
	copyDir(t, filepath.Join("sessions", "testdata", "prev-format", "grpo"), dir)
	root := t.TempDir()
	out := filepath.Join(root, "accepted.jsonl")
	var rep sessions.ExportReport
	writeExport(context.Background(), out, func(w io.Writer) (sessions.ExportReport, error) { fmt.Fprint(w, "{\"sys"); return rep, boom }, &rep)
	if code, _, errs := runCLI(t, "", "export", "--run", dir, "--out", out); code != 0 || !strings.Contains(errs, "1 written") {
		t.Fatalf("retry: exit %d: %s", code, errs)
	}
	if data, _ := os.ReadFile(out); strings.Count(string(data), "\n") != 1 || !strings.HasSuffix(string(data), "}\n") {
		t.Errorf("%s holds %q", out, data)
	}
}

// TestPluralSaysOneInTheSingular: counts in the commands' summaries read
// "1 run", "left out: 1 row", not "1 runs", "1 rows".
func TestPluralSaysOneInTheSingular(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{plural(0, "row"), "0 rows"}, {plural(1, "row"), "1 row"}, {plural(2, "run"), "2 runs"},
		{plural(1, "metric record"), "1 metric record"},
		{sessions.Counted(1, "log_history entry", "log_history entries"), "1 log_history entry"},
		{sessions.Counted(4, "log_history entry", "log_history entries"), "4 log_history entries"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// TestExportLeavesOutOnlyTheTracesNotReadBack: an accepted trace whose
// texts cannot be read back from its trace file (the file cut short,
// removed or rewritten after the run was opened, or its line damaged in
// place, in a per-token array too: the export does not write the arrays
// but still checks them) is left out of an export
// that still writes every other accepted row, whole (--out is linked into
// place as always); stderr counts it, the error names its file:line and
// says to remove --out and run again, and the command fails, as rlt score
// --run does. The export failed as a whole, writing nothing.
func TestExportLeavesOutOnlyTheTracesNotReadBack(t *testing.T) {
	fixture := filepath.Join("sessions", "testdata", "prev-format", "grpo") // 000000.jsonl: 0-0-0 … 0-1-1, 000001.jsonl: 1-0-0 … 1-1-1
	// rewrite puts data at path in one step, as the follower of the run
	// opened sees it: a file written beside the run folder, renamed over
	// path. os.WriteFile truncated the file, then wrote it, which the
	// kernel shows a page at a time: a poll between the two read a file
	// cut to 4096 bytes in the middle of a line, no writer running, so
	// it took that line's trace for one the run had written whole and
	// lost ('file shrank to 4096 bytes'), and "lines moved, all read"
	// failed under load, the export begun before the next poll.
	rewrite := func(path string, data []byte) error {
		tmp := filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(path))), "rewritten")
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			return err
		}
		return os.Rename(tmp, path)
	}
	// cutShort leaves the file its first line, 1-0-0 (rejected).
	cutShort := func(path string) error {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		first, _, _ := strings.Cut(string(data), "\n")
		return rewrite(path, []byte(first+"\n"))
	}
	// damaged changes, in line 4 (1-1-1) and in its place, the first
	// character of a per-token array's value (after its key) to with: an
	// export, which does not write the arrays, still reads them well
	// formed or not at all.
	damaged := func(key, with string) func(path string) error {
		return func(path string) error {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			lines := strings.SplitAfter(string(data), "\n")
			i := strings.Index(lines[3], key)
			if i < 0 {
				return fmt.Errorf("no %s in %s:4", key, path)
			}
			i += len(key)
			lines[3] = lines[3][:i] + with + lines[3][i+len(with):]
			return rewrite(path, []byte(strings.Join(lines, "")))
		}
	}
	reversed := func(path string) error { // every line still there, each elsewhere
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		lines := strings.SplitAfter(string(data), "\n")
		lines = lines[:len(lines)-1]
		slices.Reverse(lines)
		return rewrite(path, []byte(strings.Join(lines, "")))
	}
	for _, tc := range []struct {
		name     string
		accepted []string // besides the fixture's 0-0-0
		change   func(path string) error
		format   string
		stdout   bool
		rows     []string // the traces written, by question
		want     []string // in the error; none: no error
	}{
		{"cut short", []string{"0-1-0", "1-0-1", "1-1-1"}, cutShort, sessions.ExportStratos, false, []string{"0-0-0", "0-1-0"},
			[]string{"2 accepted traces could not be read back from the trace files (TRACES/000001.jsonl:2, TRACES/000001.jsonl:4): the file was removed, rewritten or cut short since the run was opened, so the export leaves them out",
				"OUT holds the 2 rows read; remove it and run the same command again to read the run anew"}},
		{"removed", []string{"1-1-1"}, os.Remove, sessions.ExportCSV, false, []string{"0-0-0"},
			[]string{"1 accepted trace could not be read back from the trace files (TRACES/000001.jsonl:4)", "OUT holds the 1 row read; remove it"}},
		{"to stdout", []string{"1-0-1"}, cutShort, sessions.ExportStratos, true, []string{"0-0-0"},
			[]string{"(TRACES/000001.jsonl:2)", "stdout has the 1 row read; run the same command again"}},
		{"none read back", []string{"1-0-1", "1-1-1"}, os.Remove, sessions.ExportStratos, false, nil,
			[]string{"2 accepted traces could not be read back", "run the same command again to read the run anew; no file written"}},
		{"lines moved, all read", []string{"1-0-1", "1-1-1"}, reversed, sessions.ExportStratos, false, []string{"0-0-0", "1-0-1", "1-1-1"}, nil},
		{"a float array damaged", []string{"1-0-1", "1-1-1"}, damaged(`"teacher_lp":"`, "!"), sessions.ExportCSV, false, []string{"0-0-0", "1-0-1"},
			[]string{"1 accepted trace could not be read back from the trace files (TRACES/000001.jsonl:4)"}},
		{"a token id damaged", []string{"1-0-1", "1-1-1"}, damaged(`"expl_ids":[`, "x"), sessions.ExportStratos, false, []string{"0-0-0", "1-0-1"},
			[]string{"1 accepted trace could not be read back from the trace files (TRACES/000001.jsonl:4)"}},
		{"a token text damaged", []string{"1-0-1", "1-1-1"}, damaged(`"expl_tokens":["`, "\x01"), sessions.ExportStratos, false, []string{"0-0-0", "1-0-1"},
			[]string{"1 accepted trace could not be read back from the trace files (TRACES/000001.jsonl:4)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			copyDir(t, fixture, dir)
			w, err := sessions.Open(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			accepted := append([]string{"0-0-0"}, tc.accepted...)
			if tc.rows == nil {
				accepted = tc.accepted
				if err := w.Undo("0-0-0"); err != nil {
					t.Fatal(err)
				}
			}
			for _, id := range tc.accepted {
				if err := w.Review(id, sessions.LabelAccept, ""); err != nil {
					t.Fatal(err)
				}
			}
			questions := map[string]string{}
			for _, id := range accepted {
				tr, err := w.Store().Trace(id)
				if err != nil {
					t.Fatal(err)
				}
				questions[id] = tr.Question
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			run, err := sessions.OpenReadOnly(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer run.Close()
			traces := filepath.Join(dir, sessions.TracesDir)
			if err := tc.change(filepath.Join(traces, "000001.jsonl")); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "rows")
			var stdout, stderr bytes.Buffer
			if tc.stdout {
				err = exportRun(context.Background(), run, dir, tc.format, "", nil, &stdout, &stderr)
			} else {
				err = exportRun(context.Background(), run, dir, tc.format, out, nil, &stdout, &stderr)
			}
			if tc.want == nil && err != nil {
				t.Fatalf("export: %v\n%s", err, stderr.String())
			}
			if tc.want != nil {
				if err == nil {
					t.Fatalf("export of %s with accepted traces not read back did not fail:\n%s", dir, stderr.String())
				}
				if !strings.Contains(stderr.String(), fmt.Sprintf(", %d not read back", len(accepted)-len(tc.rows))) {
					t.Errorf("stderr does not count the traces not read back:\n%s", stderr.String())
				}
				for _, want := range tc.want {
					want = strings.NewReplacer("TRACES", traces, "OUT", out).Replace(want)
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error lacks %q:\n%v", want, err)
					}
				}
			}
			rows := stdout.String()
			if !tc.stdout {
				data, err := os.ReadFile(out)
				if len(tc.rows) == 0 {
					if !errors.Is(err, os.ErrNotExist) {
						t.Errorf("an export of no row left %s (%v)", out, err)
					}
					return
				}
				if err != nil {
					t.Fatalf("the rows read back were not written: %v", err)
				}
				rows = string(data)
			}
			for _, id := range accepted {
				in := strings.Contains(rows, csvOrJSON(tc.format, questions[id]))
				if want := slices.Contains(tc.rows, id); in != want {
					t.Errorf("trace %s in the export: %v, want %v:\n%s", id, in, want, rows)
				}
			}
		})
	}
}

// csvOrJSON is a question as an export's format writes it in its row.
func csvOrJSON(format, question string) string {
	if format == sessions.ExportCSV {
		return question
	}
	q, _ := json.Marshal(question)
	return strings.Trim(string(q), `"`)
}

// TestExportOutDashIsStdout: --out - prints the rows, as leaving --out out
// does; it wrote a file named "-" in the working folder.
func TestExportOutDashIsStdout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	copyDir(t, filepath.Join("sessions", "testdata", "prev-format", "grpo"), dir)
	_, want, _ := runCLI(t, "", "export", "--run", dir)
	t.Chdir(t.TempDir())
	code, got, errs := runCLI(t, "", "export", "--run", dir, "--out", "-")
	if code != 0 || got != want || strings.Count(got, "\n") != 1 {
		t.Errorf("--out -: exit %d, stdout %q (%s); want exit 0 and the rows, %q", code, got, errs, want)
	}
	if _, err := os.Lstat("-"); err == nil {
		t.Error(`--out - wrote a file named "-"`)
	}
}

// failingWriter fails every write as a full disk does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) {
	return 0, &os.PathError{Op: "write", Path: "/dev/stdout", Err: syscall.ENOSPC}
}

// TestExportSaysItsFailureOnce: an export whose rows cannot be written
// says what failed once, after the command's name: stdout, or the file
// --out names. It said 'rlt export: export: write /dev/stdout: …'.
func TestExportSaysItsFailureOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	copyDir(t, filepath.Join("sessions", "testdata", "prev-format", "grpo"), dir)
	var stderr bytes.Buffer
	code := run([]string{"export", "--run", dir}, strings.NewReader(""), failingWriter{}, &stderr)
	if want := "rlt export: stdout cannot be written (no space left on device): the rows there are cut short\n"; code != 1 || stderr.String() != want {
		t.Errorf("exit %d, stderr %q; want exit 1 and %q", code, stderr.String(), want)
	}
	var rep sessions.ExportReport
	notThere := filepath.Join(t.TempDir(), "missing", "rows.jsonl")
	err := writeExport(context.Background(), notThere, func(w io.Writer) (sessions.ExportReport, error) { return rep, nil }, &rep)
	want := "--out " + notThere + ": cannot be written (no such file or directory): nothing was written; give --out a file in a folder this process can write (leave --out out to print the rows)"
	if err == nil || err.Error() != want {
		t.Errorf("%v\nwant %s", err, want)
	}
}
