package ui

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui/internal/golden"
)

// TestPreviewSeparatorAligned: the preview column's "│" between question
// and explanation sits in the header's column on every row, whatever the
// question's length (a long one cut with "…"), at every width that shows
// both, so that the explanations start in one column.
func TestPreviewSeparatorAligned(t *testing.T) {
	r, err := sessions.Create(filepath.Join(t.TempDir(), "demo-run"), testCfg{Task: "addition", Steps: 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	questions := []string{"1+1=?", "What is 12+30?", "A farmer has 17 sheep and buys 25 more; how many sheep does he have now?", "汉字的问题是什么？"}
	for i, q := range questions {
		tr := makeTrace(1, i, 0, 10)
		tr.Question = q
		r.Emit(tr)
	}
	for _, w := range []int{105, 120, 160, 200} {
		t.Run(fmt.Sprint(w), func(t *testing.T) {
			m := sized(t, r, w, 24, nil)
			send(m, press("2"))
			v := m.View()
			golden.Fits(t, v, w, 24)
			lines := strings.Split(ansi.Strip(v), "\n")
			col := func(l string) int {
				i := strings.Index(l, "│")
				if i < 0 {
					return -1
				}
				return ansi.StringWidth(l[:i])
			}
			head, rows := -1, 0
			for _, l := range lines {
				switch {
				case strings.Contains(l, "step grp smp"):
					head = col(l)
					if head < 0 {
						t.Fatalf("no question │ explanation header:\n%s", strings.Join(lines, "\n"))
					}
				case head >= 0 && strings.Contains(l, "The sum"):
					rows++
					if c := col(l); c != head {
						t.Errorf("│ at column %d, header's at %d:\n%s", c, head, strings.Join(lines, "\n"))
					}
				}
			}
			if rows != len(questions) {
				t.Fatalf("%d rows with a preview, want %d:\n%s", rows, len(questions), strings.Join(lines, "\n"))
			}
			if !strings.Contains(strings.Join(lines, "\n"), "A farmer has") || !strings.Contains(strings.Join(lines, "\n"), "… │") {
				t.Errorf("the long question is not cut with … before the separator:\n%s", strings.Join(lines, "\n"))
			}
		})
	}
}
