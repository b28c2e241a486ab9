package chart

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/ui/style"
)

// axisRows is the y-axis label of each plot row of a rendered chart, top to
// bottom ("" where a row has none); nil where the chart has no axis.
func axisRows(v string) []string {
	var rows []string
	labelled := false
	for _, l := range strings.Split(v, "\n") {
		if i := strings.Index(l, "┤"); i >= 0 {
			rows = append(rows, strings.TrimSpace(l[:i]))
			labelled = true
		} else if strings.Contains(l, "│") {
			rows = append(rows, "")
		}
	}
	if !labelled {
		return nil
	}
	return rows
}

// honestAxis says what is wrong, if anything, with the labels of the rows of
// a linear plot plotH rows high of a series moving from lo to hi: every
// label must read a value that falls on its row (as render places values on
// rows: the span padded by 2%, four dots a row, each value on its nearest
// dot), and no two may read alike.
func honestAxis(rows []string, lo, hi float64, plotH int) error {
	pad := (hi - lo) * 0.02
	return honestRows(rows, lo-pad, hi+pad, plotH)
}

// honestRows says what is wrong, if anything, with the labels of the rows
// of a linear plot plotH rows high whose padded span is tlo…thi: every
// label must read a value that falls on its row, and no two may read
// alike.
func honestRows(rows []string, tlo, thi float64, plotH int) error {
	rowScale := float64(plotH*4-1) / (thi - tlo)
	seen := map[string]bool{}
	for r, s := range rows {
		if s == "" {
			continue
		}
		if seen[s] {
			return fmt.Errorf("%q is written on two rows", s)
		}
		seen[s] = true
		v, err := readLabel(s)
		if err != nil {
			return fmt.Errorf("label %q of row %d: %v", s, r, err)
		}
		top := thi - (float64(4*r)-0.5)/rowScale
		bot := thi - (float64(4*r)+3.5)/rowScale
		if eps := 1e-12 * math.Max(math.Abs(top), math.Abs(bot)); v > top+eps || v < bot-eps {
			return fmt.Errorf("row %d stands for %.9g…%.9g, its label reads %q", r, bot, top, s)
		}
	}
	return nil
}

// TestAxisLabelsAreTrueAndDistinct: where a plot too short for two ticks
// has no round labels that fit a third of the chart, its end rows were
// written as the values of their middles to 3 digits, which need not be on
// the row nor differ: 152/151.5/151 for a series moving from 151.42 to
// 151.54 at 19×6 (152 is no value the plot reaches), -0.485 at both ends of
// a series moving in its 6th digit, 952 at both ends of one from 952.421 to
// 952.426. Tiny ticks were written to 2 digits whatever their step
// (1.2e-05 at both ends of 1.230e-05…1.231e-05), ticks finer than 1e-8
// to 8 decimals (1.00000000 twice). Now each label reads a value on its row,
// no two alike, the axis taking up to half a narrow chart where it must.
func TestAxisLabelsAreTrueAndDistinct(t *testing.T) {
	for _, c := range []struct {
		vals []float64
		w, h int
		axis []string // nil: only true and distinct, with an axis
	}{
		{[]float64{151.42, 151.54, 151.47}, 19, 6, []string{"", "151.50", "151.45", ""}}, // evenly spaced, half the chart
		{[]float64{151.42, 151.54, 151.47}, 40, 6, nil},
		{[]float64{151.42, 151.54, 151.47}, 19, 12, nil},
		{[]float64{151.42, 151.54, 151.47}, 60, 24, nil},
		{[]float64{-151.42, -151.54}, 19, 6, []string{"", "-151.45", "-151.50", ""}},
		{[]float64{-0.48525153790909437, -0.48526297930651174}, 28, 7, []string{"", "-0.485255", "", "-0.485260", ""}},
		{[]float64{952.421, 952.426}, 15, 3, []string{}},
		{[]float64{0.5, 0.500001}, 40, 10, nil},
		{[]float64{0.5, 0.500001}, 24, 6, nil},
		{[]float64{1.230e-5, 1.2305e-5, 1.231e-5}, 40, 10, nil},
		{[]float64{1.230e-5, 1.231e-5}, 40, 4, nil},
		{[]float64{0.000962, 0.000965}, 40, 10, nil},
		{[]float64{1e-6, 2e-6}, 40, 6, nil},
		{[]float64{1, 1.000000008}, 40, 10, nil},
		{[]float64{-2e-7, 3e-7}, 40, 10, nil},
		{[]float64{3e9, 3.0001e9}, 40, 10, nil},
		{[]float64{3e9, 3.0001e9}, 19, 6, nil},
		{[]float64{-2e15, -1.2e15}, 40, 6, nil},
		{[]float64{1.5e12, 1.500001e12}, 60, 5, nil},
		{[]float64{-0.5, 0.5}, 40, 10, nil},
		{[]float64{-968, 908}, 17, 7, nil},
		// Ticks finer than 1e-15: e-notation's digits are counted from
		// the first, not the point ("-1.235e-12" on every tick).
		{[]float64{-1.2345e-12, -1.23451e-12}, 40, 12, nil},
		{[]float64{1.2345e-14, 1.23451e-14}, 40, 12, nil},
		{[]float64{3e-20, 3.1e-20}, 40, 12, nil},
	} {
		t.Run(fmt.Sprint(c.vals, c.w, c.h), func(t *testing.T) {
			v := lineChart(c.vals, c.w, c.h)
			rows := axisRows(v)
			if c.axis != nil && len(c.axis) == 0 {
				// Too narrow for true labels: none at all.
				if rows != nil {
					t.Errorf("axis %q in a chart too narrow for true labels:\n%s", rows, v)
				}
				return
			}
			if c.axis != nil && fmt.Sprint(rows) != fmt.Sprint(c.axis) {
				t.Errorf("axis %q, want %q:\n%s", rows, c.axis, v)
			}
			if countNonEmpty(rows) < 2 {
				t.Fatalf("axis %q: fewer than two labels:\n%s", rows, v)
			}
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, x := range c.vals {
				lo, hi = min(lo, x), max(hi, x)
			}
			if err := honestAxis(rows, lo, hi, len(rows)); err != nil {
				t.Errorf("%v:\n%s", err, v)
			}
		})
	}

	// A series that never moves is said at its value, with its made-up
	// span's ends, all distinct; one of 0 throughout from 0 up (a rate
	// or a count, which cannot be negative: TestFlatSeriesGetsNiceTicks).
	for _, c := range []struct {
		v    float64
		w, h int
		axis []string
	}{
		{5, 19, 6, []string{"5.5", "", "5.0", "4.5"}},
		{0, 40, 8, []string{"1.0", "", "", "0.5", "", "0.0"}},
		{151.47, 19, 6, []string{"165", "", "150", "135"}},
		{-3e9, 40, 6, []string{"-2.7G", "", "-3.0G", "-3.3G"}},
	} {
		t.Run(fmt.Sprint("flat ", c.v, c.w, c.h), func(t *testing.T) {
			v := lineChart([]float64{c.v, c.v, c.v}, c.w, c.h)
			if rows := axisRows(v); fmt.Sprint(rows) != fmt.Sprint(c.axis) {
				t.Errorf("axis %q, want %q:\n%s", rows, c.axis, v)
			}
		})
	}
}

// TestAxisWritesItsLabelsAlike: the labels of one axis are written one way,
// with as many decimals each and one SI prefix: zero read "0" beside "0.5"
// and "-0.1", a 3G axis "3G" beside "3.0001G", a 12k one "5000" beside
// "10k", a learning rate's "9e-07" below "1.0e-06".
func TestAxisWritesItsLabelsAlike(t *testing.T) {
	for _, c := range []struct {
		vals []float64
		w, h int
		axis []string
	}{
		{[]float64{-0.5, 0.5}, 40, 10, []string{"0.5", "", "", "", "0.0", "", "", "-0.5"}},
		{[]float64{-0.1, 0.5}, 40, 10, nil},
		{[]float64{3e9, 3.0001e9}, 40, 10, []string{"3.00010G", "", "", "", "3.00005G", "", "", "3.00000G"}},
		{[]float64{-5000, 12000}, 40, 10, nil},
		{[]float64{0, 1e-6}, 40, 10, nil},
	} {
		t.Run(fmt.Sprint(c.vals, c.w, c.h), func(t *testing.T) {
			v := lineChart(c.vals, c.w, c.h)
			rows := axisRows(v)
			if len(c.axis) > 0 && fmt.Sprint(rows) != fmt.Sprint(c.axis) {
				t.Errorf("axis %q, want %q:\n%s", rows, c.axis, v)
			}
			alike(t, rows, v)
		})
	}
	// The steps under a plot too.
	ch := New(style.PlainTheme())
	ch.SetSize(60, 8)
	for s := int64(0); s <= 12000; s += 100 {
		ch.Append("r", s, float64(s))
	}
	v := ch.View()
	lines := strings.Split(v, "\n")
	alike(t, strings.Fields(lines[len(lines)-2]), v)
}

// alike fails t where the labels (blank ones aside) differ in their SI
// prefix, their notation or their count of decimals. Zero is written bare,
// with the decimals of the others ("0" beside "5k", "0.0" beside "2.5k",
// "0" beside e-notation).
func alike(t *testing.T, labels []string, v string) {
	t.Helper()
	type kind struct {
		notation string // "e", or the SI prefix
		decimals int
	}
	kindOf := func(s string) kind {
		if m, _, ok := strings.Cut(s, "e"); ok {
			return kind{"e", decimalsIn(m)}
		}
		sfx := strings.TrimLeft(s, "-0123456789.")
		return kind{sfx, decimalsIn(strings.TrimSuffix(s, sfx))}
	}
	var ks []kind
	var zeros []string
	for _, s := range labels {
		if s == "" {
			continue
		}
		if x, err := strconv.ParseFloat(s, 64); err == nil && x == 0 {
			zeros = append(zeros, s)
			continue
		}
		ks = append(ks, kindOf(s))
	}
	// Fewer than two labels are alike however they are written: an axis
	// lost, or a line read that is not the axis, passed unseen.
	if len(ks)+len(zeros) < 2 {
		t.Errorf("labels %q: fewer than two to compare:\n%s", labels, v)
	}
	for _, k := range ks {
		if k != ks[0] {
			t.Errorf("labels %q are written %+v and %+v:\n%s", labels, ks[0], k, v)
			return
		}
	}
	for _, z := range zeros {
		if len(ks) > 0 && ks[0].notation != "e" && decimalsIn(z) != ks[0].decimals || len(ks) > 0 && ks[0].notation == "e" && z != "0" {
			t.Errorf("labels %q: zero written %q beside %+v:\n%s", labels, z, ks[0], v)
		}
	}
}

// TestFlatSeriesReadsRoundValues: a series that never moves at v is drawn
// in a made-up span v±d, d a tenth of v; its short axis said v and v±d as
// they were (167/151/136 for 151.47, "-2e-15" on every tick of a constant
// -2.09e-15). Now each row says a round value near them that falls on it,
// as a tick would, no two alike.
func TestFlatSeriesReadsRoundValues(t *testing.T) {
	for _, c := range []struct {
		v    float64
		w, h int
		axis []string // nil: only true and distinct
	}{
		{151.47, 19, 6, []string{"165", "", "150", "135"}},
		{151.47, 19, 7, nil},
		{0.999, 19, 6, []string{"1.1", "1.0", "", "0.9"}},
		{-0.48525, 19, 6, nil},
		{12345.678, 19, 6, nil},
		{12345.678, 19, 7, nil},
		{7, 19, 7, nil},
		{0.3, 19, 3, nil},
		{-2.0859891907460332e-15, 68, 27, nil},
		{-2.0859891907460332e-15, 19, 6, nil},
	} {
		t.Run(fmt.Sprint(c.v, c.w, c.h), func(t *testing.T) {
			v := lineChart([]float64{c.v, c.v, c.v}, c.w, c.h)
			rows := axisRows(v)
			if c.axis != nil && fmt.Sprint(rows) != fmt.Sprint(c.axis) {
				t.Errorf("axis %q, want %q:\n%s", rows, c.axis, v)
			}
			if countNonEmpty(rows) < 2 {
				t.Fatalf("axis %q: fewer than two labels:\n%s", rows, v)
			}
			// The made-up span, as render pads it: its ends on the
			// middles of the end rows.
			plotH := len(rows)
			d := math.Abs(c.v) * 0.1
			pad := d * 3 / float64(plotH*4-4)
			if err := honestRows(rows, c.v-d-pad, c.v+d+pad, plotH); err != nil {
				t.Errorf("%v:\n%s", err, v)
			}
		})
	}
}
