package chart

import (
	"math"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/ui/style"
)

// TestHugeSpanHasAnAxis: a series whose span is past float64's range
// (-1e308…1e308: hi − lo is +Inf) got no axis and was drawn flat on the
// top row, its span, padding and row scale infinite. Each is now taken by
// halves: the axis reads finite values, the lowest value is drawn on the
// bottom row and the highest on the top one.
func TestHugeSpanHasAnAxis(t *testing.T) {
	for _, c := range []struct {
		name   string
		lo, hi float64
	}{
		{"±1e308", -1e308, 1e308},
		{"0 to the largest", 0, math.MaxFloat64},
		{"the lowest to the largest", -math.MaxFloat64, math.MaxFloat64},
		{"a span within range", -1, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			ch := New(style.NewTheme(style.Plain))
			ch.Append("s", 0, c.lo)
			ch.Append("s", 1, c.lo/2+c.hi/2)
			ch.Append("s", 2, c.hi)
			ch.SetSize(60, 14)
			v := ch.View()
			rows := axisRows(v)
			if rows == nil {
				t.Fatalf("no axis:\n%s", v)
			}
			for _, s := range rows {
				if s == "" {
					continue
				}
				if f, err := readLabel(s); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
					t.Errorf("label %q reads no finite value (%v):\n%s", s, err, v)
				}
			}
			var plot []string
			for _, l := range strings.Split(v, "\n") {
				if i := strings.IndexAny(l, "┤│"); i >= 0 {
					plot = append(plot, l[i:])
				}
			}
			dots := func(l string) bool {
				return strings.ContainsFunc(l, func(r rune) bool { return r > 0x2800 && r <= 0x28ff })
			}
			if len(plot) < 2 || !dots(plot[0]) || !dots(plot[len(plot)-1]) {
				t.Errorf("the series does not reach from the bottom row to the top one:\n%s", v)
			}
		})
	}
}
