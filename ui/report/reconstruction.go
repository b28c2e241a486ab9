package report

import (
	"fmt"
	"html"
	"io"

	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui/heatmap"
	"github.com/rlt-workbench/rlt/ui/style"
)

// reconstructionTitle says what a trace's reconstruction is, in the
// words of the workbench's Detail screen at its widest.
const reconstructionTitle = "the student's greedy answer given the question and this explanation, vs the reference"

// renderReconstruction writes trace t's reconstruction beside its
// reference as the workbench's Detail screen shows it: the same split
// (heatmap.DiffWords), alignment (heatmap.Diff) and summary
// (heatmap.DiffSummary), then the aligned columns, the reference's token
// over the reconstruction's over the marker row (heatmap.ColumnMarks),
// a changed, missing or extra token in the Detail screen's colour, with a
// title that says which. Its columns wrap with the page, each whole. A
// trace without one says so, as the Detail screen does; readErr is why
// t's texts were not read back (said above the heatmaps), where its
// reconstruction is not known either.
func renderReconstruction(w io.Writer, t sessions.TraceRecord, readErr error) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	esc := html.EscapeString
	p("<div class=\"recon\"><p class=\"meta\"><b>reconstruction</b>: %s", esc(reconstructionTitle))
	switch {
	case readErr != nil:
		p(" · not read back (see above)</p></div>\n")
		return
	case t.Reconstruction == "":
		p(" · no reconstruction</p></div>\n")
		return
	}
	ref, rec := heatmap.DiffWords(t.Solution), heatmap.DiffWords(t.Reconstruction)
	ops := heatmap.Diff(ref, rec)
	p(" · <span class=\"summary\">%s</span></p>\n<div class=\"diff\">", esc(heatmap.DiffSummary(ref, rec, ops)))
	p("<span class=\"col head\"><span>ref │</span><span>rec │</span><span>    │</span></span>")
	for _, op := range ops {
		var a, b string
		if op.Ref >= 0 {
			a = heatmap.Visible(ref[op.Ref])
		}
		if op.Rec >= 0 {
			b = heatmap.Visible(rec[op.Rec])
		}
		class, title := "eq", ""
		switch op.Kind {
		case heatmap.Substitute:
			class, title = "sub", "changed: "+a+" → "+b
		case heatmap.Delete:
			class, title = "del", "missing from the reconstruction: "+a
		case heatmap.Insert:
			class, title = "ins", "extra in the reconstruction: "+b
		}
		paint := ""
		if c, ok := heatmap.DiffColor(op.Kind); ok {
			paint = fmt.Sprintf(" style=\"background:%s;color:%s\"", c.Hex(), style.TextOn(c).Hex())
		}
		cell := func(text string, has bool) string {
			if !has {
				return "<span></span>"
			}
			return "<span" + paint + ">" + esc(text) + "</span>"
		}
		if title != "" {
			title = " title=\"" + esc(title) + "\""
		}
		p("<span class=\"col %s\"%s>%s%s<span class=\"mark\">%s</span></span>",
			class, title, cell(a, op.Ref >= 0), cell(b, op.Rec >= 0), esc(heatmap.ColumnMarks(ref, rec, op)))
	}
	p("</div></div>\n")
}
