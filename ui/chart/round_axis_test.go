package chart

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/ui/style"
)

// axisOf is the y-axis labels of a rendered chart, top to bottom.
func axisOf(v string) []string {
	var axis []string
	for _, l := range strings.Split(v, "\n") {
		if i := strings.Index(l, "┤"); i >= 0 {
			axis = append(axis, strings.TrimSpace(l[:i]))
		}
	}
	return axis
}

// decimalsIn is how many digits s has after its point.
func decimalsIn(s string) int {
	if _, frac, ok := strings.Cut(s, "."); ok {
		return len(frac)
	}
	return 0
}

// TestShortPlotAxisReadsRoundValues: a plot too short for two nice ticks
// two rows apart takes evenly spaced round values a row apart or more
// where they fit, else labels its end rows with round values that fall on
// them, as a tick would, written with the decimals of the axis's other
// labels: it wrote the odd values of the rows' middles beside round ticks
// (-0.811 above -1.0, 0.763 and 0.237 around 0.5, 2.82 and 1.17 around 2),
// then round ones unevenly spaced (190/150/120, 0.16/0.10) or a step
// apart no nice step is (0.8/0.5/0.2).
func TestShortPlotAxisReadsRoundValues(t *testing.T) {
	for _, c := range []struct {
		vals []float64
		h    int
		axis []string
	}{
		{[]float64{-1.05, -0.9, -0.75}, 4, []string{"-0.8", "-1.0"}},
		{[]float64{-1.05, -0.9, -0.75}, 6, []string{"-0.8", "-1.0"}},
		{[]float64{0.2, 0.8}, 8, []string{"0.8", "0.6", "0.4", "0.2"}},
		{[]float64{0.2, 0.8}, 4, []string{"0.6", "0.4"}},
		{[]float64{120, 190, 130}, 8, []string{"180", "160", "140", "120"}},
		{[]float64{-7.3, -7.1}, 4, []string{"-7.1", "-7.3"}},
		{[]float64{-7.3, -7.1}, 6, []string{"-7.1", "-7.2", "-7.3"}},
		{[]float64{0.1, 0.13, 0.17}, 6, []string{"0.15", "0.10"}},
		{[]float64{0.001, 0.0014}, 4, []string{"0.0014", "0.0010"}},
	} {
		t.Run(fmt.Sprint(c.vals, c.h), func(t *testing.T) {
			for _, w := range []int{40, 80, 200} {
				ch := New(style.PlainTheme())
				ch.SetSize(w, c.h)
				for i, v := range c.vals {
					ch.Append("r", int64(i), v)
				}
				v := ch.View()
				if axis := axisOf(v); !slices.Equal(axis, c.axis) {
					t.Errorf("at %d columns: axis %q, want %q:\n%s", w, axis, c.axis, v)
				}
			}
		})
	}
	// Every height of a few series: the labels of one axis have as many
	// decimals each.
	for _, vals := range [][]float64{{-1.05, -0.9, -0.75}, {0.2, 0.8}, {0.1, 0.13, 0.17}, {-0.246, -0.704}, {1.17, 2.82}, {0.0192, 0.1}} {
		for h := 3; h <= 16; h++ {
			ch := New(style.PlainTheme())
			ch.SetSize(40, h)
			for i, v := range vals {
				ch.Append("r", int64(i), v)
			}
			v := ch.View()
			axis := axisOf(v)
			for _, l := range axis {
				if decimalsIn(l) != decimalsIn(axis[0]) {
					t.Errorf("%v, %d high: axis %q mixes decimals:\n%s", vals, h, axis, v)
					break
				}
			}
		}
	}
}
