package task

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestWidestIsAsWideAsAnyExample checks Widest against brute force: at
// ranges small enough, the generator is drawn from until it has given
// every question its ranges allow (and none they do not), and no example
// it gave has a question or a solution with more characters, more digits
// or more other characters than Widest's, which is one of them. A run
// checks Widest's prompt against the models' positions for all its steps
// (engine/run's TestWidestPromptBoundsEveryPrompt counts the tokens).
func TestWidestIsAsWideAsAnyExample(t *testing.T) {
	for _, tc := range []struct {
		name  string
		task  Task
		space map[string]bool // every question the ranges allow
	}{
		{"addition of 1 digit", mustAddition(t, AdditionConfig{MinDigits: 1, MaxDigits: 1}), additionSpace(1, 1)},
		{"addition of 1 to 2 digits", mustAddition(t, AdditionConfig{MinDigits: 1, MaxDigits: 2}), additionSpace(1, 2)},
		{"addition of 2 digits", mustAddition(t, AdditionConfig{MinDigits: 2, MaxDigits: 2}), additionSpace(2, 2)},
		{"linear, both signs, a coefficient of 1", mustLinear(t, LinearConfig{MinCoef: 1, MaxCoef: 9, MaxX: 11, MaxConst: 12, Minus: true}), nil},
		{"linear, added constants only", mustLinear(t, LinearConfig{MinCoef: 2, MaxCoef: 12, MaxX: 9, MaxConst: 9}), nil},
		{"linear, x of 0 only", mustLinear(t, LinearConfig{MinCoef: 1, MaxCoef: 3, MaxX: 0, MaxConst: 10, Minus: true}), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			space := tc.space
			if lin, ok := tc.task.(*Linear); ok {
				space = linearSpace(lin.Config())
			}
			all := drawAll(t, tc.task, len(space))
			for q := range all {
				if !space[q] {
					t.Fatalf("drew %q, outside the task's ranges", q)
				}
			}
			w := tc.task.Widest()
			if got, ok := all[w.Question]; !ok || got != w {
				t.Fatalf("Widest %+v is not an example the task draws (%+v)", w, got)
			}
			for _, ex := range all {
				for _, f := range []struct{ what, s, widest string }{{"question", ex.Question, w.Question}, {"solution", ex.Solution, w.Solution}} {
					d, o := digitsAndOthers(f.s)
					wd, wo := digitsAndOthers(f.widest)
					if len(f.s) > len(f.widest) || d > wd || o > wo {
						t.Errorf("the %s %q (%d digits, %d other characters) is wider than Widest's %q (%d, %d)", f.what, f.s, d, o, f.widest, wd, wo)
					}
				}
			}
		})
	}
}

// TestWidestOfTheDefaults: the widest examples of the tasks a run names,
// and of the widest addition there is, are questions of the task with
// their answer and a clean explanation.
func TestWidestOfTheDefaults(t *testing.T) {
	nines := strings.Repeat("9", MaxAdditionDigits)
	for _, tc := range []struct {
		task               Task
		question, solution string
	}{
		{DefaultAddition(), "9999+9999=?", "19998"},
		{DefaultLinear(), "9x+30=210, x=?", "20"},
		{mustAddition(t, AdditionConfig{MinDigits: 1, MaxDigits: MaxAdditionDigits}), nines + "+" + nines + "=?", "1" + nines[1:] + "8"},
		{mustLinear(t, LinearConfig{MinCoef: 1, MaxCoef: 1, MaxX: 5, MaxConst: 7}), "x+7=12, x=?", "5"},
	} {
		w := tc.task.Widest()
		if w.Question != tc.question || w.Solution != tc.solution || w.Task != tc.task.Name() {
			t.Errorf("%s: Widest is %q → %q (task %q), want %q → %q", tc.task.Name(), w.Question, w.Solution, w.Task, tc.question, tc.solution)
		}
		if !tc.task.CheckAnswer(w.Question, w.Solution) {
			t.Errorf("%s: %q is not the answer to %q", tc.task.Name(), w.Solution, w.Question)
		}
		if v := tc.task.VerifyExplanation(w.Question, w.Reference); !v.Valid || v.Correct != v.Expected {
			t.Errorf("%s: Widest's reference %q does not verify: %+v", tc.task.Name(), w.Reference, v)
		}
	}
}

// drawAll draws from t until it has given want distinct questions, and
// returns them with their examples; a generator that has given fewer
// after a thousand draws a question fails the test.
func drawAll(tb testing.TB, t Task, want int) map[string]Example {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	all := make(map[string]Example, want)
	for draws := 0; len(all) < want && draws < 1000*want; draws++ {
		ex := t.Sample(rng)
		all[ex.Question] = ex
	}
	if len(all) != want {
		tb.Fatalf("%s: drew %d distinct questions, want %d", t.Name(), len(all), want)
	}
	return all
}

func mustAddition(tb testing.TB, cfg AdditionConfig) *Addition {
	a, err := NewAddition(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func mustLinear(tb testing.TB, cfg LinearConfig) *Linear {
	l, err := NewLinear(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

// additionSpace is every question of operands of min to max digits, the
// one-digit ones from 0, the longer ones without a leading zero.
func additionSpace(minDigits, maxDigits int) map[string]bool {
	var operands []string
	for n := minDigits; n <= maxDigits; n++ {
		lo, hi := pow10(n-1), pow10(n)
		if n == 1 {
			lo = 0
		}
		for v := lo; v < hi; v++ {
			operands = append(operands, strconv.Itoa(v))
		}
	}
	space := make(map[string]bool, len(operands)*len(operands))
	for _, a := range operands {
		for _, b := range operands {
			space[a+"+"+b+"=?"] = true
		}
	}
	return space
}

// linearSpace is every question of cfg's ranges: "ax+b=c" for each a, x
// and b, and "ax-b=c" where cfg.Minus and c is not negative.
func linearSpace(cfg LinearConfig) map[string]bool {
	space := map[string]bool{}
	for a := int64(cfg.MinCoef); a <= int64(cfg.MaxCoef); a++ {
		for x := int64(0); x <= int64(cfg.MaxX); x++ {
			for b := int64(1); b <= int64(cfg.MaxConst); b++ {
				p, _ := newLinProblem(a, b, a*x+b, false)
				space[p.question()] = true
				if cfg.Minus && a*x-b >= 0 {
					p, _ := newLinProblem(a, b, a*x-b, true)
					space[p.question()] = true
				}
			}
		}
	}
	return space
}

func pow10(n int) int {
	v := 1
	for range n {
		v *= 10
	}
	return v
}

func digitsAndOthers(s string) (digits, others int) {
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			digits++
		} else {
			others++
		}
	}
	return digits, others
}
