package chart

import (
	"math"
	"strconv"
	"strings"

	"github.com/rlt-workbench/rlt/ui/internal/decimals"
)

// niceNum returns a "nice" number near x (1, 2, 5 × 10^k): rounded if
// round, else the smallest nice number ≥ x (Heckbert, Graphics Gems 1990).
func niceNum(x float64, round bool) float64 {
	if x <= 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return 1
	}
	exp := math.Floor(math.Log10(x))
	f := x / math.Pow(10, exp)
	var nf float64
	if round {
		switch {
		case f < 1.5:
			nf = 1
		case f < 3:
			nf = 2
		case f < 7:
			nf = 5
		default:
			nf = 10
		}
	} else {
		switch {
		case f <= 1:
			nf = 1
		case f <= 2:
			nf = 2
		case f <= 5:
			nf = 5
		default:
			nf = 10
		}
	}
	return nf * math.Pow(10, exp)
}

// NiceTicks returns tick spacing and the nice bounds that enclose [lo, hi]
// with about n ticks (n ≥ 2).
func NiceTicks(lo, hi float64, n int) (step, niceLo, niceHi float64) {
	if n < 2 {
		n = 2
	}
	if hi < lo {
		lo, hi = hi, lo
	}
	if hi == lo {
		d := math.Abs(lo) * 0.1
		if d == 0 {
			d = 1
		}
		lo, hi = lo-d, hi+d
	}
	// hi − lo past float64's range (-1e308…1e308) was +Inf, and so the
	// step: the range and step are taken by halves, and a step past the
	// range is the half-span's (ticks at the ends and the middle).
	// The nice numbers of a range near float64's end are taken a tenth
	// as large and scaled back: niceNum of 1.04e308 rounds up to 2e308,
	// +Inf, which niceNum takes for no number (1), so ±MaxFloat64 had
	// ticks 2 apart, none placed. A step that is past float64's range
	// scaled back is the largest nice number within the half-span
	// (1e308: ticks at -1e308, 0 and 1e308).
	if span := hi - lo; !math.IsInf(span, 0) && span < math.MaxFloat64/10 {
		step = niceNum(niceNum(span, false)/float64(n-1), true)
	} else if h := hi/2 - lo/2; true {
		if step = niceNum(niceNum(h/10, false)/float64(n-1), true) * 20; math.IsInf(step, 0) {
			step = niceFloor(h)
		}
	}
	niceLo = math.Floor(lo/step) * step
	niceHi = math.Ceil(hi/step) * step
	return step, niceLo, niceHi
}

// niceFloor is the largest nice number (1, 2, 5 × 10^k) no larger than x
// (x > 0, finite).
func niceFloor(x float64) float64 {
	e := math.Pow(10, math.Floor(math.Log10(x)))
	for _, f := range []float64{5, 2, 1} {
		if f*e <= x {
			return f * e
		}
	}
	return e / 2 // Log10 rounded up past x
}

// decimalsFor is the number of decimals that tells ticks step apart.
func decimalsFor(step float64) int {
	if step <= 0 || math.IsNaN(step) || math.IsInf(step, 0) {
		return 0
	}
	d := int(math.Ceil(-math.Log10(step) - 1e-9))
	if d < 0 {
		d = 0
	}
	// A series flatter than 1e-9 of its value is drawn as flat, so no
	// step asks for more digits than a float64 holds; 8 decimals wrote
	// ticks 1e-9 apart around 1 alike.
	if d > 15 {
		d = 15
	}
	return d
}

var siPrefixes = []struct {
	scale float64
	sfx   string
}{{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}}

// axisFormat writes the ticks of one axis, step apart, the largest of
// them m in magnitude, all alike: with one SI prefix and as many decimals
// each, zero too ("0.0" beside "0.5", "3.0000G" beside "3.0001G", where
// each tick written its own way read "0" and "3G", and a 12k axis
// "5000" beside "10k"), or, where every tick is below 1e-3, in
// e-notation with as many digits after the point each ("9.0e-07" below
// "1.0e-06").
func axisFormat(step, m float64) func(v float64) string {
	zero := func(v float64) bool { return math.Abs(v) <= math.Abs(step)*1e-6 || v == 0 }
	if m >= 1e15 && !math.IsInf(m, 0) {
		// Past T's thousands, in the exponent's form: 1e308 written as
		// T was 297 digits, an axis no chart fits (so none was drawn).
		d := decimalsFor(step / math.Pow(10, math.Floor(math.Log10(m))))
		return func(v float64) string {
			if zero(v) {
				return "0"
			}
			return finiteE(v, d)
		}
	}
	if m >= 1e4 {
		for _, p := range siPrefixes {
			if m >= p.scale {
				d := decimalsFor(step / p.scale)
				return func(v float64) string {
					if zero(v) {
						return strconv.FormatFloat(0, 'f', d, 64)
					}
					return strconv.FormatFloat(v/p.scale, 'f', d, 64) + p.sfx
				}
			}
		}
	}
	if m < 1e-3 && step < 1e-3 {
		// As many digits as the step asks, from the largest tick's
		// first: ticks 1e-8 apart around 1.23e-5 were both "1.2e-05".
		// They are counted from that digit, not the point: decimalsFor's
		// 15 decimals wrote ticks 2e-18 apart around -1.2345e-12 all
		// "-1.235e-12", and a flat series of -2.09e-15 "-2e-15" on
		// every tick.
		d := decimalsFor(step / math.Pow(10, math.Floor(math.Log10(max(m, step)))))
		return func(v float64) string {
			if zero(v) {
				return "0"
			}
			return strconv.FormatFloat(v, 'e', d, 64)
		}
	}
	d := decimalsFor(step)
	return func(v float64) string {
		if zero(v) {
			v = 0 // not "-0.0"
		}
		return strconv.FormatFloat(v, 'f', d, 64)
	}
}

// AxisLabels writes the ticks of one linear axis, evenly spaced step
// apart, the one way a workbench chart writes them (axisFormat): as many
// decimals each as the step needs, with one SI prefix from 1e4 ("5k",
// "10k"), or all in e-notation where every tick is below 1e-3 or one is
// from 1e15; zero as the others' notation has it. The terminal charts'
// y axes and the HTML report's SVG charts (ui/report) both write their
// ticks by it, so that a value reads alike on either.
func AxisLabels(step float64, ticks []float64) []string {
	m := 0.0
	for _, v := range ticks {
		m = max(m, math.Abs(v))
	}
	format := axisFormat(step, m)
	out := make([]string, len(ticks))
	for i, v := range ticks {
		out[i] = format(v)
	}
	return out
}

// finiteE writes v in e-notation with d digits after the point, or more
// where d rounds it past float64's range: -MaxFloat64 to 0 digits is
// "-2e+308", which reads -Inf; with more it reads a value on its row.
func finiteE(v float64, d int) string {
	for ; ; d++ {
		s := strconv.FormatFloat(v, 'e', d, 64)
		if f, _ := strconv.ParseFloat(s, 64); !math.IsInf(f, 0) || d >= 17 {
			return s
		}
	}
}

// axisMax is the largest magnitude among vals where labels has a label.
func axisMax(labels []string, vals []float64) float64 {
	m := 0.0
	for r, s := range labels {
		if s != "" {
			m = max(m, math.Abs(vals[r]))
		}
	}
	return m
}

func trimZeros(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// legendDigits is how many significant digits a legend writes each value
// with, trailing zeros too: a value said to 4 digits reads as precise as
// its neighbour, and a legend does not shift as a value moves from 0.41
// to 0.4103.
const legendDigits = 4

// FormatValue writes a single reading as a legend of that one value does
// (legendFormat).
func FormatValue(v float64) string { return legendFormat(v)(v) }

// FormatValues writes a column of readings (the chart picker's values),
// each to 4 significant digits as FormatValue writes it: plainly (with an
// SI prefix from 1e4) wherever that writes it within 4 digits, and in
// e-notation only a value below 1e-3 or from 1e15 in magnitude. Unlike a
// legend's values, which share one notation, a column's rows are
// different metrics: one learning rate of 3e-06 put a whole column in
// e-notation ("6.000e+01" for a completion length of 60), which read
// badly; the column aligns its rows on their points instead.
func FormatValues(vals []float64) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = FormatValue(v)
	}
	return out
}

// legendFormat is the one way a legend writes the values vals: each to
// legendDigits significant digits, all in one notation, so that no value
// reads more precise or larger than its neighbour for the way it is
// written. Where every value rounds to between 1e-3 and 1e15 in
// magnitude, plainly, with an SI prefix from 1e4 ("0.4123", "12.35k",
// "3.000G"); else each in e-notation ("7.700e-04" beside "4.792e-03",
// where "7.7e-04" beside "0.004792" read as two scales, and 1e308 with T
// was 297 digits). Zero is "0"; NaN and ±Inf are said as such. A value
// that rounds past float64's range (MaxFloat64 to 4 digits is 1.798e+308,
// which reads +Inf) is cut toward zero instead (1.797e+308).
func legendFormat(vals ...float64) func(float64) string { return sigFormat(legendDigits, vals...) }

// sigFormat is legendFormat with n significant digits.
func sigFormat(n int, vals ...float64) func(float64) string {
	eNote := false
	for _, v := range vals {
		if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		if _, _, e := decimals.Significant(v, n); e < -3 || e >= 15 {
			eNote = true
		}
	}
	return func(v float64) string {
		switch {
		case math.IsNaN(v):
			return "NaN"
		case math.IsInf(v, 1):
			return "+Inf"
		case math.IsInf(v, -1):
			return "-Inf"
		case v == 0:
			return "0"
		}
		if eNote {
			return decimals.Exponent(v, n)
		}
		neg, digits, e := decimals.Significant(v, n)
		sign := ""
		if neg {
			sign = "-"
		}
		sfx := ""
		for _, p := range siPrefixes {
			if k := int(math.Round(math.Log10(p.scale))); e >= 4 && e >= k {
				sfx, e = p.sfx, e-k
				break
			}
		}
		return sign + placePoint(digits, e) + sfx
	}
}

// placePoint writes the digits d, the first of them worth 10^e, plainly:
// ("4123", -1) is "0.4123", ("1235", 1) "12.35", ("1200", 3) "1200".
func placePoint(d string, e int) string {
	if e < 0 {
		return "0." + strings.Repeat("0", -e-1) + d
	}
	if e+1 >= len(d) {
		return d + strings.Repeat("0", e+1-len(d))
	}
	return d[:e+1] + "." + d[e+1:]
}
