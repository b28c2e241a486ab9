package task

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// AdditionConfig sets the operand sizes of the addition task. Each operand's
// digit count is drawn uniformly from [MinDigits, MaxDigits]; operands of
// more than one digit have a non-zero leading digit.
type AdditionConfig struct {
	MinDigits, MaxDigits int
}

// MaxAdditionDigits bounds operand length (questions stay short for models
// with a 256-token context).
const MaxAdditionDigits = 30

// Addition is multi-digit addition with carries: "347+285=?" → "632".
type Addition struct {
	cfg AdditionConfig
}

// NewAddition validates cfg and returns the task.
func NewAddition(cfg AdditionConfig) (*Addition, error) {
	if cfg.MinDigits < 1 || cfg.MaxDigits < cfg.MinDigits || cfg.MaxDigits > MaxAdditionDigits {
		return nil, fmt.Errorf("task: addition: digits [%d, %d], want 1 <= min <= max <= %d",
			cfg.MinDigits, cfg.MaxDigits, MaxAdditionDigits)
	}
	return &Addition{cfg: cfg}, nil
}

// DefaultAddition is addition of 2- to 4-digit operands.
func DefaultAddition() *Addition { return &Addition{cfg: AdditionConfig{MinDigits: 2, MaxDigits: 4}} }

// Config returns the task's configuration.
func (t *Addition) Config() AdditionConfig { return t.cfg }

func (*Addition) Name() string { return "addition" }

// addProblem is a parsed addition question with its column truth.
type addProblem struct {
	a, b string // operands as written
	cols []column
	sum  string
}

// column is one column of the written addition, least significant first.
type column struct {
	a, b, cin, sum, w, cout int
}

// parseAddition reads "347+285=?" (spaces, and a missing "=?" or "?",
// tolerated). Operands are digit strings without leading zeros.
func parseAddition(q string) (addProblem, bool) {
	s, ok := squeeze(q, "0123456789+=?")
	if !ok {
		return addProblem{}, false
	}
	s = strings.TrimSuffix(s, "?")
	s = strings.TrimSuffix(s, "=")
	a, b, ok := strings.Cut(s, "+")
	if !ok || !operandOK(a) || !operandOK(b) {
		return addProblem{}, false
	}
	return newAddProblem(a, b), true
}

func operandOK(s string) bool {
	return allDigits(s) && len(s) <= MaxAdditionDigits && (len(s) == 1 || s[0] != '0')
}

func newAddProblem(a, b string) addProblem {
	n := max(len(a), len(b))
	p := addProblem{a: a, b: b, cols: make([]column, n)}
	out := make([]byte, n+1)
	carry := 0
	for i := 0; i < n; i++ {
		c := column{cin: carry}
		if i < len(a) {
			c.a = int(a[len(a)-1-i] - '0')
		}
		if i < len(b) {
			c.b = int(b[len(b)-1-i] - '0')
		}
		c.sum = c.a + c.b + c.cin
		c.w, c.cout = c.sum%10, c.sum/10
		carry = c.cout
		p.cols[i] = c
		out[n-i] = byte('0' + c.w)
	}
	if carry == 1 {
		out[0] = '1'
		p.sum = string(out)
	} else {
		p.sum = string(out[1:])
	}
	return p
}

func (p addProblem) question() string { return p.a + "+" + p.b + "=?" }

// appendStep writes a column step: "7+5=12 w2 c1", "4+8+1=13 w3 c1"; the
// written-digit and carry fields are optional.
func appendStep(buf []byte, c column, withW, withC bool) []byte {
	buf = append(buf, byte('0'+c.a), '+', byte('0'+c.b))
	if c.cin != 0 {
		buf = append(buf, '+', byte('0'+c.cin))
	}
	buf = append(buf, '=')
	buf = strconv.AppendInt(buf, int64(c.sum), 10)
	if withW {
		buf = append(buf, " w"...)
		buf = append(buf, byte('0'+c.w))
	}
	if withC {
		buf = append(buf, " c"...)
		buf = append(buf, byte('0'+c.cout))
	}
	return buf
}

// clean writes the reference explanation.
func (p addProblem) clean() string {
	buf := make([]byte, 0, 16*len(p.cols)+8+len(p.sum))
	for i, c := range p.cols {
		if i > 0 {
			buf = append(buf, "; "...)
		}
		buf = appendStep(buf, c, true, true)
	}
	buf = append(buf, "; ans "...)
	buf = append(buf, p.sum...)
	return string(buf)
}

func randOperand(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + rng.IntN(10))
	}
	if n > 1 && b[0] == '0' {
		b[0] = byte('1' + rng.IntN(9))
	}
	return string(b)
}

// Sample draws an example.
func (t *Addition) Sample(rng *rand.Rand) Example {
	la := t.cfg.MinDigits + rng.IntN(t.cfg.MaxDigits-t.cfg.MinDigits+1)
	lb := t.cfg.MinDigits + rng.IntN(t.cfg.MaxDigits-t.cfg.MinDigits+1)
	return t.example(newAddProblem(randOperand(rng, la), randOperand(rng, lb)))
}

// Widest implements Task: both operands of the most digits, all nines,
// whose sum has a digit more ("9999+9999=?" → "19998").
func (t *Addition) Widest() Example {
	nines := strings.Repeat("9", t.cfg.MaxDigits)
	return t.example(newAddProblem(nines, nines))
}

// example is the example of the problem p.
func (t *Addition) example(p addProblem) Example {
	return Example{
		ID:        exampleID(t.Name(), addKey(p.a, p.b)),
		Task:      t.Name(),
		Question:  p.question(),
		Solution:  p.sum,
		Reference: p.clean(),
	}
}

// addKey is the split key: operands in a fixed order, since a+b and b+a
// are the same problem for a student.
func addKey(a, b string) string {
	if len(a) > len(b) || (len(a) == len(b) && a > b) {
		a, b = b, a
	}
	return a + "+" + b
}

// SplitKey implements Task.
func (t *Addition) SplitKey(q string) (string, bool) {
	p, ok := parseAddition(q)
	if !ok {
		return "", false
	}
	return addKey(p.a, p.b), true
}

// CheckAnswer implements Task.
func (t *Addition) CheckAnswer(q, answer string) bool {
	p, ok := parseAddition(q)
	return ok && NormalizeAnswer(answer) == p.sum
}

// addStep is a parsed column step; -1 marks an absent optional field.
type addStep struct {
	a, b, cin, sum, w, c int
}

// parseAddStep reads "7+5=12 w2 c1" with optional "+1" carry-in, optional
// w and c fields, and any spaces.
func parseAddStep(s string) (addStep, bool) {
	s = strings.ReplaceAll(s, " ", "")
	st := addStep{cin: -1, w: -1, c: -1}
	if len(s) < 5 || !isDigit(s[0]) || s[1] != '+' || !isDigit(s[2]) {
		return st, false
	}
	st.a, st.b = int(s[0]-'0'), int(s[2]-'0')
	s = s[3:]
	if len(s) >= 2 && s[0] == '+' && isDigit(s[1]) {
		st.cin = int(s[1] - '0')
		s = s[2:]
	}
	if len(s) < 2 || s[0] != '=' || !isDigit(s[1]) {
		return st, false
	}
	s = s[1:]
	j := 0
	for j < len(s) && j < 3 && isDigit(s[j]) {
		j++
	}
	if j > 2 {
		return st, false
	}
	st.sum, _ = strconv.Atoi(s[:j])
	s = s[j:]
	if len(s) >= 2 && s[0] == 'w' && isDigit(s[1]) {
		st.w = int(s[1] - '0')
		s = s[2:]
	}
	if len(s) >= 2 && s[0] == 'c' && isDigit(s[1]) {
		st.c = int(s[1] - '0')
		s = s[2:]
	}
	return st, s == ""
}

// agrees reports whether every field the step states matches the column.
func (st addStep) agrees(c column) bool {
	if !st.operands(c) {
		return false
	}
	cin := st.cin
	if cin < 0 {
		cin = 0
	}
	return cin == c.cin && st.sum == c.sum &&
		(st.w < 0 || st.w == c.w) && (st.c < 0 || st.c == c.cout)
}

func (st addStep) operands(c column) bool {
	return (st.a == c.a && st.b == c.b) || (st.a == c.b && st.b == c.a)
}

// VerifyExplanation implements Task. Steps are matched to columns: first a
// column the step states correctly (same operand order preferred, then the
// one nearest to where the order so far points), then an uncovered column
// with the same operand digits, then the uncovered column nearest to where
// the order points; a step matched by the last two rules is wrong.
func (t *Addition) VerifyExplanation(q, explanation string) Verdict {
	p, ok := parseAddition(q)
	if !ok {
		return Verdict{}
	}
	n := len(p.cols)
	v := Verdict{Valid: true, Expected: n, Segments: splitSegments(explanation)}
	correct := make([]bool, n)
	covered := make([]bool, n)
	var order []int // matched columns, in text order
	for i := range v.Segments {
		sg := &v.Segments[i]
		st, isStep := parseAddStep(sg.Text)
		if !isStep {
			if ans, ok := parseAnswerStatement(sg.Text); ok {
				sg.Kind, sg.Correct = AnswerSegment, ans == p.sum
			}
			continue
		}
		sg.Kind = StepSegment
		want := nextPosition(order, n)
		// A column the step states correctly: same operand order first,
		// then nearest to where the order so far points.
		col := nearest(n, want, func(c int) bool {
			return !correct[c] && st.agrees(p.cols[c]) && st.a == p.cols[c].a
		})
		if col < 0 {
			col = nearest(n, want, func(c int) bool { return !correct[c] && st.agrees(p.cols[c]) })
		}
		dup := false
		for c := range p.cols {
			dup = dup || (correct[c] && st.agrees(p.cols[c]))
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
		col = nearest(n, want, func(c int) bool { return !covered[c] && st.operands(p.cols[c]) })
		if col < 0 {
			col = nearest(n, want, func(c int) bool { return !covered[c] })
		}
		if col >= 0 {
			sg.Step = col
			covered[col] = true
			order = append(order, col)
		}
	}
	v.finish(p.sum, []string{p.a + "+" + p.b, p.b + "+" + p.a})
	return v
}

// nextPosition guesses the canonical index the next step is about from the
// indices matched so far: ascending unless the text is going downwards.
func nextPosition(order []int, n int) int {
	switch len(order) {
	case 0:
		return 0
	case 1:
		if order[0] == n-1 && n > 1 {
			return n - 2
		}
		return order[0] + 1
	}
	last, prev := order[len(order)-1], order[len(order)-2]
	if last < prev {
		return last - 1
	}
	return last + 1
}

// nearest returns the index in [0, n) satisfying ok closest to want (ties
// to the lower index), or -1.
func nearest(n, want int, ok func(int) bool) int {
	best, bestD := -1, 0
	for c := 0; c < n; c++ {
		if !ok(c) {
			continue
		}
		d := c - want
		if d < 0 {
			d = -d
		}
		if best < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// Styles implements Task.
func (t *Addition) Styles() []Style {
	return []Style{
		{StyleClean, "column steps, least significant first, with carries; then the answer", addClean},
		{StyleReordered, "most significant column first, or carries announced only at the end", addReordered},
		{StylePadded, "clean steps with restated operands, digits and no-op lines mixed in", addPadded},
		{StyleLeaked, "states the answer first, then the clean steps", addLeaked},
		{StylePartial, "some columns skipped, terse steps, answer sometimes omitted", addPartial},
	}
}

// problemOf recovers the problem of an example from its question (styles
// given a question that does not parse fall back to "ans <solution>").
func problemOf(ex Example) (addProblem, bool) { return parseAddition(ex.Question) }

func addClean(ex Example, _ *rand.Rand) string {
	p, ok := problemOf(ex)
	if !ok {
		return "ans " + ex.Solution
	}
	return p.clean()
}

func addReordered(ex Example, rng *rand.Rand) string {
	p, ok := problemOf(ex)
	if !ok {
		return "ans " + ex.Solution
	}
	var buf []byte
	if rng.IntN(2) == 0 {
		// Most significant first: carries are used before they are made.
		for i := len(p.cols) - 1; i >= 0; i-- {
			buf = appendStep(buf, p.cols[i], true, true)
			buf = append(buf, "; "...)
		}
	} else {
		// Carries announced late: steps without carry-out, then the carries.
		for _, c := range p.cols {
			buf = appendStep(buf, c, true, false)
			buf = append(buf, "; "...)
		}
		for i, c := range p.cols {
			if i > 0 {
				buf = append(buf, ' ')
			}
			buf = append(buf, 'c', byte('0'+c.cout))
		}
		buf = append(buf, "; "...)
	}
	buf = append(buf, "ans "...)
	buf = append(buf, p.sum...)
	return string(buf)
}

func addPadded(ex Example, rng *rand.Rand) string {
	p, ok := problemOf(ex)
	if !ok {
		return "ans " + ex.Solution
	}
	fillers := func(c column, i int) []string {
		return []string{
			"top " + p.a,
			"bot " + p.b,
			"ok",
			"next",
			"col" + strconv.Itoa(i+1),
			"d" + strconv.Itoa(c.a) + " d" + strconv.Itoa(c.b),
			"keep c" + strconv.Itoa(c.cin),
		}
	}
	var parts []string
	for i, c := range p.cols {
		fs := fillers(c, i)
		for k := rng.IntN(3); k > 0; k-- {
			f := fs[rng.IntN(len(fs))]
			if !mentions(f, p.sum) {
				parts = append(parts, f)
			}
		}
		parts = append(parts, string(appendStep(nil, c, true, true)))
	}
	if len(parts) == len(p.cols) { // make sure at least one filler
		parts = append([]string{"top " + p.a}, parts...)
		if mentions(parts[0], p.sum) {
			parts[0] = "ok"
		}
	}
	parts = append(parts, "ans "+p.sum)
	return strings.Join(parts, "; ")
}

func addLeaked(ex Example, rng *rand.Rand) string {
	p, ok := problemOf(ex)
	if !ok {
		return "ans " + ex.Solution
	}
	switch rng.IntN(3) {
	case 0:
		return "ans " + p.sum + "; " + p.clean()
	case 1:
		return p.sum + "; " + p.clean()
	default:
		return "the answer is " + p.sum + ". " + p.clean()
	}
}

func addPartial(ex Example, rng *rand.Rand) string {
	p, ok := problemOf(ex)
	if !ok {
		return ""
	}
	n := len(p.cols)
	keep := make([]bool, n)
	for i := range keep {
		keep[i] = true
	}
	if n > 1 {
		drop := 1 + rng.IntN(n-1)
		for _, i := range rng.Perm(n)[:drop] {
			keep[i] = false
		}
	}
	terse := rng.IntN(2) == 0
	var buf []byte
	for i, c := range p.cols {
		if !keep[i] {
			continue
		}
		if len(buf) > 0 {
			buf = append(buf, "; "...)
		}
		buf = appendStep(buf, c, !terse, !terse)
	}
	if rng.IntN(2) == 0 {
		buf = append(buf, "; ans "...)
		buf = append(buf, p.sum...)
	}
	return string(buf)
}
