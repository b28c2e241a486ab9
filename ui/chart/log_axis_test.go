package chart

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/ui/style"
)

// logAxisError says what is wrong, if anything, with the labels rows of a
// log plot of a series moving from lo to hi (> 0): every label must read a
// value whose log falls on its row, no two alike, all in one notation, and
// all but whole decades to as many significant digits.
func logAxisError(rows []string, lo, hi float64) error {
	tlo, thi := math.Log10(lo), math.Log10(hi)
	pad := (thi - tlo) * 0.02
	tlo, thi = tlo-pad, thi+pad
	rowScale := float64(len(rows)*4-1) / (thi - tlo)
	seen := map[string]bool{}
	notation, digits := "", -1
	for r, s := range rows {
		if s == "" {
			continue
		}
		if seen[s] {
			return fmt.Errorf("%q is written on two rows", s)
		}
		seen[s] = true
		v, err := readLabel(s)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("label %q of row %d reads no value above 0 (%v)", s, r, err)
		}
		x := math.Log10(v)
		top := thi - (float64(4*r)-0.5)/rowScale
		bot := thi - (float64(4*r)+3.5)/rowScale
		if x > top+1e-12 || x < bot-1e-12 {
			return fmt.Errorf("row %d stands for %.9g…%.9g, its label reads %q", r, math.Pow(10, bot), math.Pow(10, top), s)
		}
		n, d := "plain", 0
		if m, _, ok := strings.Cut(s, "e"); ok {
			n, s = "e", m
		}
		m := strings.TrimRight(s, "kMGT")
		d = len(strings.TrimLeft(strings.Replace(m, ".", "", 1), "0"))
		if notation != "" && n != notation {
			return fmt.Errorf("%q is written in another notation than the labels above it", rows[r])
		}
		notation = n
		if !strings.Contains(m, ".") {
			continue // 4650 to 3 digits, or a decade: its zeros tell nothing
		}
		if digits >= 0 && d != digits {
			return fmt.Errorf("%q has %d significant digits, the labels above it %d", rows[r], d, digits)
		}
		digits = d
	}
	return nil
}

// TestLogAxisWritesItsLabelsOneWay: a log axis too short for two ticks
// wrote its end rows' values to 3 digits whatever the ticks beside them:
// "0.521" under a tick's "0.6310", "1.752e-05" under "1e-3", and "1" on the
// top row of a series from 1.001 to 1.002 (a value below its bottom
// row's "1.001"). Now its labels are written alike, to as many
// significant digits as tell them apart on their rows, at 80 and 200
// columns.
func TestLogAxisWritesItsLabelsOneWay(t *testing.T) {
	logChart := func(lo, hi float64, w, h int) string {
		ch := New(style.PlainTheme())
		ch.SetLegend(false)
		ch.SetLogScale(true)
		ch.SetSize(w, h)
		ch.Append("r", 0, lo)
		ch.Append("r", 1, hi)
		return ch.View()
	}
	for _, c := range []struct {
		lo, hi float64
		h      int
		axis   []string // nil: only the checks
	}{
		{0.5, 0.7, 7, []string{"0.686", "0.631", "", "", "0.511"}},
		{1e-5, 1e-3, 5, []string{"1.00e-03", "", "1.75e-05"}},
		{1.001, 1.002, 5, []string{"1.002", "", "1.001"}},
		{1.001, 1.002, 9, nil},
		{2, 300, 9, nil},
		{3e-7, 5e-6, 7, nil},
	} {
		for _, w := range []int{80, 200} {
			v := logChart(c.lo, c.hi, w, c.h)
			rows := axisRows(v)
			if c.axis != nil && w == 80 && fmt.Sprint(rows) != fmt.Sprint(c.axis) {
				t.Errorf("%g…%g at %dx%d: axis %q, want %q:\n%s", c.lo, c.hi, w, c.h, rows, c.axis, v)
			}
			if err := logAxisError(rows, c.lo, c.hi); err != nil {
				t.Errorf("%g…%g at %dx%d: %v:\n%s", c.lo, c.hi, w, c.h, err, v)
			}
		}
	}
	r := rand.New(rand.NewPCG(38, 10))
	for i := range 3000 {
		lo := (1 + 9*r.Float64()) * math.Pow(10, float64(r.IntN(40)-20))
		hi := lo * (1 + math.Pow(10, -4+8*r.Float64()))
		w, h := []int{80, 200}[i%2], 3+r.IntN(20)
		v := logChart(lo, hi, w, h)
		rows := axisRows(v)
		if rows == nil {
			continue
		}
		if err := logAxisError(rows, lo, hi); err != nil {
			t.Fatalf("%g…%g at %dx%d: %v:\n%s", lo, hi, w, h, err, v)
		}
	}
}
