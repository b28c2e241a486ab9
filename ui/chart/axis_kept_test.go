package chart

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strconv"
	"testing"

	"github.com/rlt-workbench/rlt/ui/style"
)

// oldGutter is the gutter, axis included, that the rule before ad925b9 gave
// a linear plot plotH rows high of a series that moves from lo to hi: the
// nice ticks written at their step, finer steps (up to three) while fewer
// than two fall on the plot and they stay two rows apart, and a plot still
// short of two labels with its end rows written as the values of their
// middles, to 3 significant digits (FormatValue past 1e-3…1e4). It is the
// rule as it was, written out here; render keeps nothing of it by that
// name. labels are the old axis's, row by row.
func oldGutter(lo, hi float64, plotH int) (gutter int, labels []string) {
	pad := (hi - lo) * 0.02
	tlo, thi := lo-pad, hi+pad
	step, _, _ := NiceTicks(tlo, thi, max(2, plotH/3+1))
	rowScale := float64(plotH*4-1) / (thi - tlo)
	labels = make([]string, plotH)
	n := 0
	place := func(step float64) {
		clear(labels)
		n = 0
		k0 := math.Ceil(tlo / step)
		for k := k0; k*step <= thi && k-k0 < 1000; k++ {
			r := int((thi-k*step)*rowScale+0.5) / 4
			if r >= 0 && r < plotH && labels[r] == "" {
				labels[r] = formatTick(k*step, step)
				n++
			}
		}
	}
	place(step)
	for i := 0; i < 3 && n < 2; i++ {
		if smallerNice(step)*rowScale < 8 {
			break
		}
		step = smallerNice(step)
		place(step)
	}
	if n < 2 && plotH >= 2 {
		for _, r := range []int{0, plotH - 1} {
			if labels[r] != "" {
				continue
			}
			v := thi - rowMid(r)/rowScale
			labels[r] = oldFormatValue(v)
			if a := math.Abs(v); a >= 1e-3 && a < 1e4 {
				labels[r] = strconv.FormatFloat(v, 'g', 3, 64)
			}
		}
	}
	g := 0
	for _, s := range labels {
		g = max(g, len(s))
	}
	return g + 1, labels
}

// lineChart is a chart w×h, no legend, of one series of vals.
func lineChart(vals []float64, w, h int) string {
	ch := New(style.PlainTheme())
	ch.SetLegend(false)
	ch.SetSize(w, h)
	for i, v := range vals {
		ch.Append("r", int64(i), v)
	}
	return ch.View()
}

// TestRoundAxisKeptWhereItFit: a short plot's round end labels, written
// with the decimals of the finest step among the axis's labels (ad925b9),
// could be wider than the third of the chart an axis may take, where the
// values of the rows' middles to 3 digits had fit: the chart lost its axis
// (-968…908 at 17×7: 750/0/-810 before, then no axis, "-1000" one cell too
// wide). Where the round labels do not fit, rounder or the old ones that
// do are written.
func TestRoundAxisKeptWhereItFit(t *testing.T) {
	for _, c := range []struct {
		vals   []float64
		w, h   int
		legend bool
		axis   []string
	}{
		// -1000 is one cell too wide at 17 (5 of 17/3 with the axis):
		// the next roundest value on the row, -800, fits.
		{[]float64{-968, 908}, 17, 7, true, []string{"500", "0", "-800"}},
		{[]float64{-968, 908}, 40, 7, true, []string{"0", "-1000"}}, // evenly spaced ticks a row apart
		// No round value of the end rows fits a third of 28: evenly
		// spaced ticks a row apart take half of it (the values of the
		// end rows' middles to 3 digits, -0.485 at both ends, told
		// nothing); at 60 they fit a third.
		{[]float64{-0.48525153790909437, -0.48526297930651174}, 28, 7, false, []string{"-0.485255", "-0.485260"}},
		{[]float64{-0.48525153790909437, -0.48526297930651174}, 60, 7, false, []string{"-0.485255", "-0.485260"}},
	} {
		t.Run(fmt.Sprint(c.vals, c.w, c.h), func(t *testing.T) {
			ch := New(style.PlainTheme())
			ch.SetLegend(c.legend)
			ch.SetSize(c.w, c.h)
			for i, v := range c.vals {
				ch.Append("r", int64(i), v)
			}
			v := ch.View()
			if axis := axisOf(v); !slices.Equal(axis, c.axis) {
				t.Errorf("axis %q, want %q:\n%s", axis, c.axis, v)
			}
		})
	}

	// Random series, many of values apart in their 7th or 8th digit only:
	// every axis written reads values on their rows, no two alike, and
	// wherever the old rule kept such an axis, one is kept (where its
	// labels were alike or off their rows, as 952 at both ends of
	// 952.421…952.426, none may be).
	rng := rand.New(rand.NewSource(36))
	lost, kept, untrue := 0, 0, 0
	for i := 0; i < 20000; i++ {
		base := math.Pow(10, -4+10*rng.Float64())
		if rng.Intn(2) == 0 {
			base = -base
		}
		spread := math.Abs(base) * math.Pow(10, -8+8*rng.Float64())
		vals := make([]float64, 2+rng.Intn(4))
		for j := range vals {
			vals[j] = base + spread*rng.Float64()
		}
		lo, hi := slices.Min(vals), slices.Max(vals)
		if hi-lo <= 1e-8*math.Max(math.Abs(lo), math.Abs(hi)) {
			continue // a flat series: its labels never changed
		}
		w, h := 12+rng.Intn(49), 3+rng.Intn(14)
		plotH := h - 1 // the x axis
		if h >= 5 {
			plotH-- // the title
		}
		v := lineChart(vals, w, h)
		rows := axisRows(v)
		if rows != nil {
			if err := honestAxis(rows, lo, hi, plotH); err != nil {
				if untrue++; untrue <= 5 {
					t.Errorf("%v at %d×%d: %v:\n%s", vals, w, h, err, v)
				}
			}
		}
		old, oldRows := oldGutter(lo, hi, plotH)
		if old > w/3 || honestAxis(oldRows, lo, hi, plotH) != nil {
			continue
		}
		kept++
		if rows == nil {
			if lost++; lost <= 5 {
				t.Errorf("%v at %d×%d: no axis, where the old rule kept one %d wide:\n%s", vals, w, h, old, v)
			}
		}
	}
	if lost > 0 || kept < 5000 || untrue > 0 {
		t.Errorf("%d of %d charts that kept their axis lose it; %d axes read values off their rows or alike", lost, kept, untrue)
	}
}

// oldFormatValue is FormatValue as the old end labels were written with
// it (before legends took legendFormat's 4 digits): the axis this file
// compares against is that old rule's.
func oldFormatValue(v float64) string {
	if v == 0 {
		return "0"
	}
	av := math.Abs(v)
	if av >= 1e4 {
		for _, p := range siPrefixes {
			if av >= p.scale {
				return trimZeros(strconv.FormatFloat(v/p.scale, 'f', 2, 64)) + p.sfx
			}
		}
	}
	if av < 1e-3 {
		return strconv.FormatFloat(v, 'e', 1, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}
