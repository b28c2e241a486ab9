package report

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportTraceHeadingSaysTheIDsParts: a trace's heading says what its
// ID counts (step, group, sample), in the Detail screen's words ("trace
// 2-0-1 · step 2 group 0 sample 1"): the page gave the ID alone, and a
// reader had to guess what 2-0-1 was.
func TestReportTraceHeadingSaysTheIDsParts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	makeRun(t, dir, 3, 1, 1)
	runs, err := Load([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	Render(&b, runs, DefaultSelection)
	page := b.String()
	headings := 0
	for _, tr := range Select(runs[0], DefaultSelection) {
		want := fmt.Sprintf("<h3>trace %s · step %d group %d sample %d · reward ", tr.ID, tr.Step, tr.Group, tr.Sample)
		if !strings.Contains(page, want) {
			t.Errorf("no heading %q in the page", want)
		}
		headings++
	}
	if headings < 2 {
		t.Fatalf("%d traces chosen; want several", headings)
	}
}
