package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/sessions"
)

// TestExportSaysWhatItCouldNotReadBack: the workbench's export (e) of a
// run whose trace file was removed since it was opened writes the
// accepted rows it can read back and says in the status line how many it
// could not, where they were and to reopen the run, as rlt export does.
// (It failed as a whole, writing no row.)
func TestExportSaysWhatItCouldNotReadBack(t *testing.T) {
	w := newTestRun(t, 2, 1, 2, 10)
	dir := w.Dir()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := sessions.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, id := range []string{"1-0-0", "2-0-0", "2-0-1"} {
		if err := r.Review(id, sessions.LabelAccept, ""); err != nil {
			t.Fatal(err)
		}
	}
	removed := filepath.Join(dir, sessions.TracesDir, "000002.jsonl")
	if err := os.Remove(removed); err != nil {
		t.Fatal(err)
	}
	m := sized(t, r, 120, 40, nil)
	send(m, press("2"))
	send(m, press("enter"))
	if m.active != scrDetail {
		t.Fatalf("no trace open (screen %d)", m.active)
	}
	send(m, press("e"))
	data, err := os.ReadFile(filepath.Join(dir, sessions.ExportFile))
	if err != nil {
		t.Fatalf("no export written: %v (status %q)", err, m.msg)
	}
	if n := strings.Count(string(data), "\n"); n != 1 || !strings.Contains(string(data), `2+3=?`) {
		t.Errorf("export holds %d rows, want 1-0-0's alone:\n%s", n, data)
	}
	for _, want := range []string{"exported 1 accepted → ",
		"2 accepted traces could not be read back from the trace files (" + removed + ":1, " + removed + ":2)",
		": reopen the run to read its files anew, then export again"} {
		if !strings.Contains(m.msg, want) {
			t.Errorf("status line %q lacks %q", m.msg, want)
		}
	}
}

// TestExportSaysLeftOutAsRltExport: the workbench's export (e) says what
// it left out in rlt export's words, from the same place
// (ExportReport.LeftOutWhy): "unreviewed", the word for a trace with no
// label everywhere, and the unreadable its count of left out includes.
// It said "unreviewed" where rlt export said "not reviewed", and left
// the unreadable out of its list.
func TestExportSaysLeftOutAsRltExport(t *testing.T) {
	r := newTestRun(t, 2, 1, 2, 10) // 4 traces
	for id, l := range map[string]sessions.Label{"1-0-0": sessions.LabelAccept, "1-0-1": sessions.LabelReject} {
		if err := r.Review(id, l, ""); err != nil {
			t.Fatal(err)
		}
	}
	m := sized(t, r, 120, 40, nil)
	send(m, press("2"))
	send(m, press("enter"))
	send(m, press("e"))
	want := "exported 1 accepted → " + filepath.Join(r.Dir(), sessions.ExportFile) +
		" (left out 3: 2 unreviewed, 1 rejected, 0 flagged, 0 unreadable, 0 refused)" + exportFormatsSaid(r.Dir())
	if m.msg != want {
		t.Errorf("status line %q\nwant        %q", m.msg, want)
	}
}

// TestExportOfNothingAcceptedRefused: e with no trace accepted writes
// nothing, as rlt export refuses it, and says why in rlt export's words
// with the review's counts and what to do; an earlier export stays as it
// was. (It wrote an empty export-accepted.jsonl over it: "exported 0
// accepted".)
func TestExportOfNothingAcceptedRefused(t *testing.T) {
	for _, earlier := range []bool{false, true} {
		r := newTestRun(t, 2, 1, 2, 10)
		if err := r.Review("1-0-0", sessions.LabelReject, ""); err != nil {
			t.Fatal(err)
		}
		if err := r.Review("2-0-1", sessions.LabelFlag, "why"); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(r.Dir(), sessions.ExportFile)
		const before = "{\"an\": \"earlier export\"}\n"
		if earlier {
			if err := os.WriteFile(path, []byte(before), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		m := sized(t, r, 120, 40, nil)
		send(m, press("2"))
		send(m, press("enter"))
		if m.active != scrDetail {
			t.Fatalf("no trace open (screen %d)", m.active)
		}
		send(m, press("e"))
		data, err := os.ReadFile(path)
		switch {
		case !earlier && err == nil:
			t.Errorf("an export of nothing was written (%q); status %q", data, m.msg)
		case earlier && string(data) != before:
			t.Errorf("the earlier export became %q (err %v); status %q", data, err, m.msg)
		}
		want := []string{"nothing to export from " + r.Dir() + ": no trace is accepted in review",
			"(of 4 traces: 2 unreviewed, 1 rejected, 1 flagged, 0 unreadable)",
			"accept traces first (a on a trace)", "; nothing written"}
		if earlier {
			want = append(want, "(the earlier "+sessions.ExportFile+" is kept as it was)")
		}
		for _, w := range want {
			if !strings.Contains(m.msg, w) {
				t.Errorf("earlier export %v: status line %q lacks %q", earlier, m.msg, w)
			}
		}
	}
}

// TestReviewsOfLostTracesAreSaid: a trace accepted and then lost (its
// trace file cut short in its line) has no row in the Traces screen, and
// the export counted it as lost alone: its review was said nowhere, and
// the accepted trace missing from the rows read as none accepted lost. The
// Traces screen says it under the list, and the export's status line in
// the same words (sessions.LostReviewsSaid).
func TestReviewsOfLostTracesAreSaid(t *testing.T) {
	w := newTestRun(t, 2, 1, 2, 10)
	dir := w.Dir()
	for _, id := range []string{"1-0-0", "2-0-1"} {
		if err := w.Review(id, sessions.LabelAccept, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, sessions.TracesDir, "000002.jsonl") // 2-0-0, 2-0-1
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	if len(lines) != 3 || lines[2] != "" {
		t.Fatalf("%s holds %q, want two whole lines", path, data)
	}
	if err := os.WriteFile(path, []byte(lines[0]+lines[1][:20]), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := sessions.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	const said = "1 reviewed trace not read (lost or unreadable): 1 accepted (2-0-1): its review stays in reviews.jsonl and holds again if the trace is put back"
	m := sized(t, r, 200, 40, nil)
	send(m, press("2"))
	if view := m.View(); !strings.Contains(view, said) {
		t.Errorf("Traces screen lacks %q:\n%s", said, view)
	}
	send(m, press("enter"))
	if m.active != scrDetail {
		t.Fatalf("no trace open (screen %d)", m.active)
	}
	send(m, press("e"))
	if !strings.Contains(m.msg, "exported 1 accepted → ") || !strings.Contains(m.msg, said) {
		t.Errorf("status line %q lacks %q", m.msg, said)
	}
	// And what to do, in rlt export's words (TestExportSaysWhatToDoOfTracesNotRead).
	wayOn := "; 1 trace of " + dir + " was cut short after the run wrote it whole (the 20-byte partial last line of " + path +
		":2 (removed as the run was opened to write)), and was left out: put the file back from a copy of the run folder if there is one; then reopen the run and export again"
	if !strings.Contains(m.msg, wayOn) {
		t.Errorf("status line %q lacks %q", m.msg, wayOn)
	}
}

// TestExportSaysWhatToDoOfTracesNotRead: the workbench's export (e) of a
// run with a trace record that cannot be read says its line and what to
// do in rlt export's words (sessions.Run.UnreadableSaid), where it gave
// the count alone; and an export of nothing says the record not read was
// not accepted either, where "no trace is accepted" left that open.
func TestExportSaysWhatToDoOfTracesNotRead(t *testing.T) {
	for _, accept := range []bool{false, true} {
		w := newTestRun(t, 2, 1, 2, 10)
		dir := w.Dir()
		if accept {
			if err := w.Review("1-0-0", sessions.LabelAccept, ""); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, sessions.TracesDir, "000002.jsonl") // 2-0-0, 2-0-1
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("not a record\n"+strings.SplitAfter(string(data), "\n")[1]), 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := sessions.Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		m := sized(t, r, 200, 40, nil)
		send(m, press("2"))
		send(m, press("enter"))
		send(m, press("e"))
		wayOn := "; 1 trace record of " + dir + " could not be read and was left out (" + path + " line 1): mend or remove that line in " +
			filepath.Join(dir, sessions.TracesDir) + "; then reopen the run and export again"
		want := []string{"exported 1 accepted → ", "0 refused)" + wayOn}
		if !accept {
			want = []string{"nothing to export from " + dir + ": no trace is accepted in review (of 4 traces: 3 unreviewed, 0 rejected, 0 flagged, 1 unreadable: " +
				"reviews.jsonl does not accept the one not read either); accept traces first (a on a trace); nothing written" + wayOn}
		}
		for _, w := range want {
			if !strings.Contains(m.msg, w) {
				t.Errorf("accepted %v: status line %q lacks %q", accept, m.msg, w)
			}
		}
		r.Close()
	}
}
