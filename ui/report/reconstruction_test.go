package report

import (
	"html"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui/heatmap"
)

// diffColumn is one column of a trace's diff read back from the page.
var diffColumn = regexp.MustCompile(`<span class="col (eq|sub|del|ins)"(?: title="([^"]*)")?><span(?: style="([^"]*)")?>(.*?)</span><span(?: style="([^"]*)")?>(.*?)</span><span class="mark">(.*?)</span></span>`)

// A trace's section shows the student's reconstruction beside the
// reference as the workbench's Detail screen does: its summary, and the
// aligned columns read back from the page are the Detail screen's diff
// (heatmap.Diff of heatmap.DiffWords, tokens as heatmap.Visible shows
// them, the marker row's marks, a changed, missing or extra column
// painted in its colour and titled), the texts HTML-escaped; a trace
// without one says "no reconstruction". The page had only the
// reference.
func TestReportShowsTheReconstruction(t *testing.T) {
	const solution = `x = <b>5</b> & y = 7`
	recs := []string{`x = <b>6</b> & y = 7 ok`, "", "x = 5"}
	dir := filepath.Join(t.TempDir(), "run")
	r, err := sessions.Create(dir, testCfg{Task: "addition"})
	if err != nil {
		t.Fatal(err)
	}
	for k, rec := range recs {
		sc := &record.Scored{Ended: true, Terms: record.Terms{Reward: float64(10 - k)}}
		r.Emit(event.Trace{Time: t0, Step: 1, Sample: k, Question: "x and y?", Solution: solution,
			Completion: "Think." + record.EndExplanation, Reconstruction: rec, Score: sc})
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	page := renderPage(t, []string{dir}, Selection{Top: 3})
	sections := strings.Split(page, `<section class="trace"`)[1:]
	if len(sections) != len(recs) {
		t.Fatalf("%d trace sections, want %d", len(sections), len(recs))
	}
	for k, rec := range recs {
		sec := sections[k]
		if !strings.Contains(sec, "<b>reconstruction</b>: "+html.EscapeString(reconstructionTitle)) {
			t.Errorf("trace %d: no reconstruction title", k)
		}
		if rec == "" {
			if !strings.Contains(sec, " · no reconstruction</p>") || strings.Contains(sec, `class="diff"`) {
				t.Errorf("trace %d has none: its section does not say \"no reconstruction\" alone", k)
			}
			continue
		}
		ref, got := heatmap.DiffWords(solution), heatmap.DiffWords(rec)
		ops := heatmap.Diff(ref, got)
		if want := `<span class="summary">` + html.EscapeString(heatmap.DiffSummary(ref, got, ops)) + `</span>`; !strings.Contains(sec, want) {
			t.Errorf("trace %d: no summary %q", k, want)
		}
		if strings.Contains(sec, "<b>5</b>") || strings.Contains(sec, "<b>6</b>") {
			t.Errorf("trace %d: the texts are not escaped", k)
		}
		cols := diffColumn.FindAllStringSubmatch(sec, -1)
		if len(cols) != len(ops) {
			t.Fatalf("trace %d: %d diff columns read back, want %d (the Detail screen's)", k, len(cols), len(ops))
		}
		kinds := map[heatmap.OpKind]string{heatmap.Equal: "eq", heatmap.Substitute: "sub", heatmap.Delete: "del", heatmap.Insert: "ins"}
		for i, op := range ops {
			c := cols[i]
			var a, b string
			if op.Ref >= 0 {
				a = heatmap.Visible(ref[op.Ref])
			}
			if op.Rec >= 0 {
				b = heatmap.Visible(got[op.Rec])
			}
			if c[1] != kinds[op.Kind] || html.UnescapeString(c[4]) != a || html.UnescapeString(c[6]) != b ||
				html.UnescapeString(c[7]) != heatmap.ColumnMarks(ref, got, op) {
				t.Errorf("trace %d column %d reads %q %q %q (%s), want %q %q %q (%s)", k, i,
					html.UnescapeString(c[4]), html.UnescapeString(c[6]), html.UnescapeString(c[7]), c[1],
					a, b, heatmap.ColumnMarks(ref, got, op), kinds[op.Kind])
			}
			color, painted := heatmap.DiffColor(op.Kind)
			for _, cell := range []struct {
				style string
				has   bool
			}{{c[3], op.Ref >= 0}, {c[5], op.Rec >= 0}} {
				if want := painted && cell.has; want != strings.Contains(cell.style, "background:"+color.Hex()) || !want && cell.style != "" {
					t.Errorf("trace %d column %d (%s): a cell's style %q", k, i, c[1], cell.style)
				}
			}
			if (op.Kind == heatmap.Equal) != (c[2] == "") {
				t.Errorf("trace %d column %d (%s): title %q", k, i, c[1], c[2])
			}
		}
	}
	if !strings.Contains(page, ".diff{") {
		t.Error("the style sheet has no rule for the diff")
	}
}
