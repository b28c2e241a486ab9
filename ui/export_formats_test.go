package ui

import (
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/sessions"
)

// exportFormatsSaid is what e's status line ends with after an export:
// the command that writes the rows TRL and verl read.
func exportFormatsSaid(dir string) string {
	return "; for TRL or verl: rlt export --run " + dir + " --format messages (TRL) or parquet (verl) --out FILE"
}

// TestExportSaysTheFormatsForTRLAndVerl: e writes Bespoke-Stratos rows
// only, which verl does not read and TRL reads without their system
// prompt; its status line names the export that writes theirs (rlt export
// --format messages or parquet), which nothing in the workbench said.
func TestExportSaysTheFormatsForTRLAndVerl(t *testing.T) {
	r := newTestRun(t, 2, 1, 2, 10)
	if err := r.Review("1-0-0", sessions.LabelAccept, ""); err != nil {
		t.Fatal(err)
	}
	m := sized(t, r, 120, 40, nil)
	send(m, press("2"))
	send(m, press("enter"))
	send(m, press("e"))
	if !strings.HasPrefix(m.msg, "exported 1 accepted → ") || !strings.HasSuffix(m.msg, exportFormatsSaid(r.Dir())) {
		t.Errorf("status line %q\nwant it to end with %q", m.msg, exportFormatsSaid(r.Dir()))
	}
}
