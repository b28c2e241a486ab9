package task

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// LinearConfig sets the ranges of the linear-equation task: questions
// "ax+b=c, x=?" (or "ax-b=c" when Minus) with a in [MinCoef, MaxCoef],
// x in [0, MaxX] and b in [1, MaxConst]; c is never negative.
type LinearConfig struct {
	MinCoef, MaxCoef int
	MaxX             int
	MaxConst         int
	Minus            bool
}

// Linear is one-variable linear equations: "3x+5=20, x=?" → "5", explained
// as "20-5=15; 15/3=5; ans 5".
type Linear struct {
	cfg LinearConfig
}

// NewLinear validates cfg and returns the task.
func NewLinear(cfg LinearConfig) (*Linear, error) {
	if cfg.MinCoef < 1 || cfg.MaxCoef < cfg.MinCoef || cfg.MaxCoef > 1000 ||
		cfg.MaxX < 0 || cfg.MaxX > 1_000_000 || cfg.MaxConst < 1 || cfg.MaxConst > 1_000_000 {
		return nil, fmt.Errorf("task: linear: config %+v out of range (1 <= MinCoef <= MaxCoef <= 1000, 0 <= MaxX <= 1e6, 1 <= MaxConst <= 1e6)", cfg)
	}
	return &Linear{cfg: cfg}, nil
}

// DefaultLinear is a in [2, 9], x in [0, 20], b in [1, 30], both signs.
func DefaultLinear() *Linear {
	return &Linear{cfg: LinearConfig{MinCoef: 2, MaxCoef: 9, MaxX: 20, MaxConst: 30, Minus: true}}
}

// Config returns the task's configuration.
func (t *Linear) Config() LinearConfig { return t.cfg }

func (*Linear) Name() string { return "linear" }

// linProblem is a parsed equation a·x + sign·b = c.
type linProblem struct {
	a, b, c int64
	minus   bool
	x       int64
	steps   []linStep
}

// linStep is "A op B=C".
type linStep struct {
	a     int64
	op    byte
	b     int64
	c     int64
	valid bool
}

func (s linStep) String() string {
	return strconv.FormatInt(s.a, 10) + string(s.op) + strconv.FormatInt(s.b, 10) + "=" + strconv.FormatInt(s.c, 10)
}

const linLimit = 1_000_000_000_000 // numbers in questions and steps stay below this

func (p linProblem) equation() string {
	var b strings.Builder
	if p.a != 1 {
		b.WriteString(strconv.FormatInt(p.a, 10))
	}
	b.WriteByte('x')
	if p.minus {
		b.WriteByte('-')
	} else {
		b.WriteByte('+')
	}
	b.WriteString(strconv.FormatInt(p.b, 10))
	b.WriteByte('=')
	b.WriteString(strconv.FormatInt(p.c, 10))
	return b.String()
}

func (p linProblem) question() string { return p.equation() + ", x=?" }

func (p linProblem) answer() string { return strconv.FormatInt(p.x, 10) }

// newLinProblem solves the equation and lists the canonical steps: undo the
// constant, then divide by the coefficient (each skipped when trivial).
func newLinProblem(a, b, c int64, minus bool) (linProblem, bool) {
	if a < 1 || b < 0 || a >= linLimit || b >= linLimit || c >= linLimit || c <= -linLimit {
		return linProblem{}, false
	}
	p := linProblem{a: a, b: b, c: c, minus: minus}
	t := c - b
	op := byte('-')
	if minus {
		t, op = c+b, '+'
	}
	if t%a != 0 {
		return linProblem{}, false
	}
	p.x = t / a
	if b != 0 {
		p.steps = append(p.steps, linStep{a: c, op: op, b: b, c: t, valid: true})
	}
	if a != 1 {
		p.steps = append(p.steps, linStep{a: t, op: '/', b: a, c: p.x, valid: true})
	}
	return p, true
}

// parseInt reads an optionally negative integer of at most 13 digits at the
// start of s.
func parseInt(s string) (int64, string, bool) {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j == i || j-i > 13 {
		return 0, s, false
	}
	v, err := strconv.ParseInt(s[:j], 10, 64)
	return v, s[j:], err == nil
}

// parseLinear reads "3x+5=20, x=?" (spaces, a missing coefficient and a
// missing ", x=?" tolerated). The solution must be an integer.
func parseLinear(q string) (linProblem, bool) {
	s, ok := squeeze(q, "0123456789x+-=,?")
	if !ok {
		return linProblem{}, false
	}
	for _, suf := range []string{",x=?", ",x=", "x=?", "?"} {
		if rest, ok := strings.CutSuffix(s, suf); ok {
			s = rest
			break
		}
	}
	a := int64(1)
	if len(s) > 0 && isDigit(s[0]) {
		var ok bool
		if a, s, ok = parseInt(s); !ok {
			return linProblem{}, false
		}
	}
	if len(s) < 2 || s[0] != 'x' || (s[1] != '+' && s[1] != '-') {
		return linProblem{}, false
	}
	minus := s[1] == '-'
	b, s, ok := parseInt(s[2:])
	if !ok || b < 0 || len(s) < 2 || s[0] != '=' {
		return linProblem{}, false
	}
	c, s, ok := parseInt(s[1:])
	if !ok || s != "" {
		return linProblem{}, false
	}
	return newLinProblem(a, b, c, minus)
}

// parseLinStep reads "A op B=C" (op one of + - * /, numbers may be negative,
// spaces ignored).
func parseLinStep(seg string) (linStep, bool) {
	s := strings.ReplaceAll(seg, " ", "")
	a, s, ok := parseInt(s)
	if !ok || len(s) < 1 {
		return linStep{}, false
	}
	op := s[0]
	if op != '+' && op != '-' && op != '*' && op != '/' {
		return linStep{}, false
	}
	b, s, ok := parseInt(s[1:])
	if !ok || len(s) < 1 || s[0] != '=' {
		return linStep{}, false
	}
	c, s, ok := parseInt(s[1:])
	if !ok || s != "" {
		return linStep{}, false
	}
	return linStep{a: a, op: op, b: b, c: c, valid: true}, true
}

func (s linStep) sameOperands(t linStep) bool {
	if s.op != t.op {
		return false
	}
	if s.a == t.a && s.b == t.b {
		return true
	}
	return (s.op == '+' || s.op == '*') && s.a == t.b && s.b == t.a
}

// Sample draws an example.
func (t *Linear) Sample(rng *rand.Rand) Example {
	a := int64(t.cfg.MinCoef + rng.IntN(t.cfg.MaxCoef-t.cfg.MinCoef+1))
	x := int64(rng.IntN(t.cfg.MaxX + 1))
	b := int64(1 + rng.IntN(t.cfg.MaxConst))
	minus := t.cfg.Minus && rng.IntN(2) == 0 && a*x-b >= 0
	c := a*x + b
	if minus {
		c = a*x - b
	}
	p, _ := newLinProblem(a, b, c, minus)
	return t.example(p)
}

// Widest implements Task: the largest coefficient, solution and constant,
// added, so that the right-hand side is the largest too ("9x+30=210, x=?"
// → "20"); a subtracted constant has as many characters and a smaller
// right-hand side, and a coefficient of 1 is not written.
func (t *Linear) Widest() Example {
	a, x, b := int64(t.cfg.MaxCoef), int64(t.cfg.MaxX), int64(t.cfg.MaxConst)
	p, _ := newLinProblem(a, b, a*x+b, false)
	return t.example(p)
}

// example is the example of the equation p.
func (t *Linear) example(p linProblem) Example {
	return Example{
		ID:        exampleID(t.Name(), p.equation()),
		Task:      t.Name(),
		Question:  p.question(),
		Solution:  p.answer(),
		Reference: p.clean(),
	}
}

func (p linProblem) clean() string {
	var b strings.Builder
	for _, s := range p.steps {
		b.WriteString(s.String())
		b.WriteString("; ")
	}
	b.WriteString("ans ")
	b.WriteString(p.answer())
	return b.String()
}

// SplitKey implements Task.
func (t *Linear) SplitKey(q string) (string, bool) {
	p, ok := parseLinear(q)
	if !ok {
		return "", false
	}
	return p.equation(), true
}

// CheckAnswer implements Task.
func (t *Linear) CheckAnswer(q, answer string) bool {
	p, ok := parseLinear(q)
	return ok && NormalizeAnswer(answer) == p.answer()
}

// VerifyExplanation implements Task. Steps are matched to the canonical
// steps: first one they state correctly, then one with the same operation
// and operands, then one with the same operation, then the nearest
// uncovered one; all but the first are wrong.
func (t *Linear) VerifyExplanation(q, explanation string) Verdict {
	p, ok := parseLinear(q)
	if !ok {
		return Verdict{}
	}
	n := len(p.steps)
	ans := p.answer()
	v := Verdict{Valid: true, Expected: n, Segments: splitSegments(explanation)}
	correct := make([]bool, n)
	covered := make([]bool, n)
	var order []int
	for i := range v.Segments {
		sg := &v.Segments[i]
		st, isStep := parseLinStep(sg.Text)
		if !isStep {
			if a, ok := parseAnswerStatement(sg.Text); ok {
				sg.Kind, sg.Correct = AnswerSegment, a == ans
			}
			continue
		}
		sg.Kind = StepSegment
		col, dup := -1, false
		for k, e := range p.steps {
			if st.sameOperands(e) && st.c == e.c {
				if !correct[k] {
					col = k
					break
				}
				dup = true
			}
		}
		if col >= 0 {
			sg.Step, sg.Correct = col, true
			correct[col], covered[col] = true, true
			order = append(order, col)
			continue
		}
		if dup {
			sg.Duplicate, sg.Correct = true, true
			continue
		}
		want := nextPosition(order, n)
		col = nearest(n, want, func(k int) bool { return !covered[k] && st.sameOperands(p.steps[k]) })
		if col < 0 {
			col = nearest(n, want, func(k int) bool { return !covered[k] && st.op == p.steps[k].op })
		}
		if col < 0 {
			col = nearest(n, want, func(k int) bool { return !covered[k] })
		}
		if col >= 0 {
			sg.Step = col
			covered[col] = true
			order = append(order, col)
		}
	}
	v.finish(ans, []string{p.equation()})
	return v
}

// Styles implements Task.
func (t *Linear) Styles() []Style {
	return []Style{
		{StyleClean, "undo the constant, divide by the coefficient; then the answer", linClean},
		{StyleReordered, "the division first, using a number derived only afterwards", linReordered},
		{StylePadded, "clean steps with the equation restated and no-op lines mixed in", linPadded},
		{StyleLeaked, "states the answer first, then the clean steps", linLeaked},
		{StylePartial, "a step skipped, answer sometimes omitted", linPartial},
	}
}

func linClean(ex Example, _ *rand.Rand) string {
	p, ok := parseLinear(ex.Question)
	if !ok {
		return "ans " + ex.Solution
	}
	return p.clean()
}

func linReordered(ex Example, _ *rand.Rand) string {
	p, ok := parseLinear(ex.Question)
	if !ok {
		return "ans " + ex.Solution
	}
	var b strings.Builder
	for i := len(p.steps) - 1; i >= 0; i-- {
		b.WriteString(p.steps[i].String())
		b.WriteString("; ")
	}
	b.WriteString("ans " + p.answer())
	return b.String()
}

func linPadded(ex Example, rng *rand.Rand) string {
	p, ok := parseLinear(ex.Question)
	if !ok {
		return "ans " + ex.Solution
	}
	ans := p.answer()
	sign := "+"
	if p.minus {
		sign = "-"
	}
	fillers := []string{
		"eq " + p.equation(),
		"ok",
		"next",
		"undo " + sign + strconv.FormatInt(p.b, 10),
		"coef " + strconv.FormatInt(p.a, 10),
		"keep x",
	}
	var parts []string
	for _, s := range p.steps {
		for k := rng.IntN(3); k > 0; k-- {
			if f := fillers[rng.IntN(len(fillers))]; !mentions(f, ans, p.equation()) {
				parts = append(parts, f)
			}
		}
		parts = append(parts, s.String())
	}
	if len(parts) == len(p.steps) {
		parts = append([]string{"eq " + p.equation()}, parts...)
	}
	parts = append(parts, "ans "+ans)
	return strings.Join(parts, "; ")
}

func linLeaked(ex Example, rng *rand.Rand) string {
	p, ok := parseLinear(ex.Question)
	if !ok {
		return "ans " + ex.Solution
	}
	switch rng.IntN(3) {
	case 0:
		return "ans " + p.answer() + "; " + p.clean()
	case 1:
		return "x=" + p.answer() + "; " + p.clean()
	default:
		return "the answer is " + p.answer() + ". " + p.clean()
	}
}

func linPartial(ex Example, rng *rand.Rand) string {
	p, ok := parseLinear(ex.Question)
	if !ok {
		return ""
	}
	steps := p.steps
	if len(steps) > 1 {
		drop := rng.IntN(len(steps))
		steps = append(append([]linStep(nil), steps[:drop]...), steps[drop+1:]...)
	}
	parts := make([]string, 0, len(steps)+1)
	for _, s := range steps {
		parts = append(parts, s.String())
	}
	if rng.IntN(2) == 0 || len(parts) == 0 {
		parts = append(parts, "ans "+p.answer())
	}
	return strings.Join(parts, "; ")
}
