package chart

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/ui/style"
)

// randomReading is a value of any scale a metric may take: zero, tiny,
// ordinary, huge, float64's extremes, either sign.
func randomReading(r *rand.Rand) float64 {
	var v float64
	switch r.IntN(8) {
	case 0:
		v = 0
	case 1:
		v = math.MaxFloat64 * (1 - r.Float64()*1e-15)
	case 2:
		v = math.SmallestNonzeroFloat64 * float64(1+r.IntN(1000))
	case 3:
		v = r.Float64() // a rate, a reward
	default:
		v = (1 + r.Float64()*9) * math.Pow(10, float64(r.IntN(628)-320))
	}
	if r.IntN(2) == 0 {
		v = -v
	}
	return v
}

// legendNumbers is every number a rendered chart's legend writes, in
// order: its values, EMAs and spreads (names hold no digits).
func legendNumbers(v string) []string {
	var out []string
	for _, l := range strings.Split(v, "\n") {
		if !strings.Contains(l, "■") {
			continue
		}
		for _, f := range strings.Fields(l) {
			f = strings.Trim(f, "()±")
			if f == "" || strings.HasSuffix(f, "…") || strings.HasPrefix(f, "+") && !strings.ContainsAny(f, ".e") {
				continue // cut, or "+3" more
			}
			if _, err := readLabel(f); err == nil || strings.ContainsAny(f[:1], "-0123456789") {
				out = append(out, f)
			}
		}
	}
	return out
}

// checkLegendNumbers says what is wrong with the numbers one legend writes:
// each must read a finite value, to legendDigits significant digits
// (zero as "0"), and all in one notation.
func checkLegendNumbers(nums []string) error {
	eNote := -1
	for _, s := range nums {
		if s == "NaN" || s == "+Inf" || s == "-Inf" {
			continue
		}
		f, err := readLabel(s)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return fmt.Errorf("%q reads no finite value (%v) in %q", s, err, nums)
		}
		if s == "0" {
			continue
		}
		mant, _, isE := strings.Cut(strings.TrimRight(strings.TrimPrefix(s, "-"), "kMGT"), "e")
		if mant = strings.TrimLeft(strings.Replace(mant, ".", "", 1), "0"); len(mant) != legendDigits {
			return fmt.Errorf("%q has %d significant digits, not %d, in %q", s, len(mant), legendDigits, nums)
		}
		e := 0
		if isE {
			e = 1
		}
		if eNote >= 0 && e != eNote {
			return fmt.Errorf("%q is written in another notation than its neighbours in %q", s, nums)
		}
		eNote = e
	}
	return nil
}

// TestLegendWritesItsNumbersOneWay: a legend wrote each value on its own
// (FormatValue): "7.7e-04" beside "0.004792" (2 digits beside 4, two
// notations), 1e308 as 309 digits, and MaxFloat64 rounded to a value past
// float64's range. Now, over random series of every scale, each value,
// EMA and spread a legend writes reads a finite value to 4 significant
// digits, all of one legend in one notation, at 80 and 200 columns.
func TestLegendWritesItsNumbersOneWay(t *testing.T) {
	r := rand.New(rand.NewPCG(38, 7))
	for i := range 1000 {
		ch := New(style.NewTheme(style.Plain))
		ch.SetSize([]int{80, 200}[i%2], 16)
		if r.IntN(2) == 0 {
			ch.SetSmoothing(0.6)
		}
		for k, name := range []string{"a", "b", "c"}[:1+r.IntN(3)] {
			steps := []int64{0, 1, 2}
			vals := []float64{randomReading(r), randomReading(r), randomReading(r)}
			ch.AppendMany(name, steps, vals)
			if k == 0 && r.IntN(2) == 0 {
				ch.AppendSpread(name, steps, []float64{math.Abs(randomReading(r)), math.Abs(randomReading(r)), math.Abs(randomReading(r))})
			}
		}
		v := ch.View()
		nums := legendNumbers(v)
		if len(nums) == 0 {
			t.Fatalf("chart %d: no numbers in its legend:\n%s", i, v)
		}
		if err := checkLegendNumbers(nums); err != nil {
			t.Fatalf("chart %d: %v:\n%s", i, err, v)
		}
	}
}

// TestLegendFormat: a legend's values read as they are to 4 digits, in
// one notation, finite.
func TestLegendFormat(t *testing.T) {
	for _, c := range []struct {
		vals []float64
		want []string
	}{
		{[]float64{7.7e-4, 0.004792}, []string{"7.700e-04", "4.792e-03"}},
		{[]float64{0.4123, 3, 0.5}, []string{"0.4123", "3.000", "0.5000"}},
		{[]float64{12346, 0.2, 9999.6}, []string{"12.35k", "0.2000", "10.00k"}},
		{[]float64{3e9, -1234567}, []string{"3.000G", "-1.235M"}},
		{[]float64{1e308, 1}, []string{"1.000e+308", "1.000e+00"}},
		{[]float64{math.MaxFloat64, -math.MaxFloat64}, []string{"1.797e+308", "-1.797e+308"}},
		{[]float64{0, -0.001, 0.0123}, []string{"0", "-0.001000", "0.01230"}},
		{[]float64{math.NaN(), math.Inf(-1), 2}, []string{"NaN", "-Inf", "2.000"}},
	} {
		format := legendFormat(c.vals...)
		var got []string
		for _, v := range c.vals {
			got = append(got, format(v))
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("legendFormat(%v) writes %q, want %q", c.vals, got, c.want)
		}
	}
	r := rand.New(rand.NewPCG(38, 8))
	for range 20000 {
		v := randomReading(r)
		s := legendFormat(v)(v)
		f, err := readLabel(s)
		if err != nil || math.IsInf(f, 0) {
			t.Fatalf("%g written %q reads no finite value (%v)", v, s, err)
		}
		if d := math.Abs(f - v); d > math.Abs(v)*1e-3 {
			t.Fatalf("%g written %q reads %g", v, s, f)
		}
	}
}
