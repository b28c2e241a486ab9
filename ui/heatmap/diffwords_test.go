package heatmap

import (
	"strings"
	"testing"
)

// DiffWords is the split the Detail screen's diff and rlt report's share.
func TestDiffWords(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"6 apples, ok", "6| apples|,| ok"},
		{"", ""},
		{"  x", "  x"},
		{"a\nb", "a|\n|b"},
		{"4888", "4888"},
	} {
		if got := strings.Join(DiffWords(c.in), "|"); got != c.want {
			t.Errorf("DiffWords(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// ColumnMarks, column by column, is RenderDiff's marker row where nothing
// is cut: rlt report's page marks its columns as the Detail screen does.
func TestColumnMarksAreRenderDiffs(t *testing.T) {
	for _, c := range []struct{ ref, rec string }{
		{"The answer is 4888.", "The answer is 4278!"},
		{"x = 5 and y = 7", "x = 5"},
		{"5", "5 apples"},
		{"same", "same"},
		{"héllo wörld", "hello wörld"},
	} {
		ref, rec := DiffWords(c.ref), DiffWords(c.rec)
		ops := Diff(ref, rec)
		lines := RenderDiff(nil, ref, rec, ops, 1000, 0)
		want := strings.TrimPrefix(lines[len(lines)-1], "    │")
		var got strings.Builder
		for _, op := range ops {
			got.WriteString(ColumnMarks(ref, rec, op))
		}
		if g := strings.TrimRight(got.String(), " "); g != want {
			t.Errorf("%q vs %q: ColumnMarks give %q, RenderDiff's row %q", c.ref, c.rec, g, want)
		}
	}
}
