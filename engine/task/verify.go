package task

import (
	"fmt"
	"strings"
)

// SegmentKind classifies one segment of an explanation.
type SegmentKind int

const (
	// Filler is a segment that is neither a step nor an answer statement:
	// padding, restated digits, prose.
	Filler SegmentKind = iota
	// StepSegment is a segment in the task's step format (correct or not).
	StepSegment
	// AnswerSegment states a final answer ("ans 632", "x=5", "632").
	AnswerSegment
)

func (k SegmentKind) String() string {
	switch k {
	case Filler:
		return "filler"
	case StepSegment:
		return "step"
	case AnswerSegment:
		return "answer"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Segment is one piece of an explanation, cut at ';', '.', ',' and newlines.
type Segment struct {
	Start, End int    // byte offsets of the trimmed text in the explanation
	Text       string // the trimmed text
	Kind       SegmentKind
	// Step is the index of the expected step this segment was matched to
	// (canonical order, e.g. column 0 = least significant), -1 if none.
	Step int
	// Correct: for a step, every field it states agrees with the truth; for
	// an answer statement, it equals the solution.
	Correct bool
	// Duplicate marks a correct step restating one already given.
	Duplicate bool
	// Leak marks a statement of the final answer made before the
	// derivation is finished (before the last step segment).
	Leak bool
}

// Verdict is the result of checking an explanation step by step.
type Verdict struct {
	Valid    bool // the question was parsed; nothing else is meaningful otherwise
	Segments []Segment
	Expected int // steps a complete derivation needs
	// Correct counts expected steps stated correctly at least once.
	Correct int
	// Wrong counts step segments that are wrong (a wrong digit, a wrong
	// carry, operands that are not the question's, ...).
	Wrong int
	// Missing counts expected steps with no statement at all, listed in
	// MissingSteps (canonical indices).
	Missing      int
	MissingSteps []int
	// Filler counts filler segments and duplicate steps.
	Filler int
	// InOrder: the correct steps appear in canonical order.
	InOrder bool
	// AnswerFirst: the final answer is stated before the derivation is
	// finished, or with no derivation at all: the failure RLT's KL term
	// guards against. Leaks counts such statements.
	AnswerFirst bool
	Leaks       int
	// Stated is the answer the explanation concludes with ("" if none), and
	// StatedCorrect whether it is the solution.
	Stated        string
	StatedCorrect bool
}

// Complete reports whether every expected step is present and correct and no
// step is wrong.
func (v Verdict) Complete() bool {
	return v.Valid && v.Correct == v.Expected && v.Wrong == 0
}

// Clean reports whether the explanation is complete, in canonical order,
// without filler and without a leaked answer.
func (v Verdict) Clean() bool {
	return v.Complete() && v.InOrder && v.Filler == 0 && !v.AnswerFirst
}

// String summarises the verdict in one line.
func (v Verdict) String() string {
	if !v.Valid {
		return "invalid question"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d correct, %d wrong, %d missing, %d filler", v.Correct, v.Expected, v.Wrong, v.Missing, v.Filler)
	if !v.InOrder {
		b.WriteString(", out of order")
	}
	if v.AnswerFirst {
		fmt.Fprintf(&b, ", answer leaked (%d)", v.Leaks)
	}
	switch {
	case v.Stated == "":
		b.WriteString(", no final answer")
	case v.StatedCorrect:
		b.WriteString(", final answer " + v.Stated)
	default:
		b.WriteString(", wrong final answer " + v.Stated)
	}
	return b.String()
}

// splitSegments cuts an explanation at ';', '.', ',' and newlines, dropping
// empty pieces.
func splitSegments(s string) []Segment {
	var segs []Segment
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) {
			switch s[i] {
			case ';', '.', ',', '\n', '\r':
			default:
				continue
			}
		}
		a, b := start, i
		for a < b && isSpace(s[a]) {
			a++
		}
		for b > a && isSpace(s[b-1]) {
			b--
		}
		if a < b {
			segs = append(segs, Segment{Start: a, End: b, Text: s[a:b], Step: -1})
		}
		start = i + 1
	}
	return segs
}

// squeeze is q without its spaces, tabs and line breaks, or false at the
// first byte outside alphabet (the bytes a synthetic task's question can
// hold): Detect tries every task on every question of a data file, and a
// question in words is turned down at its first letter, not copied whole.
func squeeze(q, alphabet string) (string, bool) {
	blanks := 0
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			blanks++
		case strings.IndexByte(alphabet, c) < 0:
			return "", false
		}
	}
	if blanks == 0 {
		return q, true
	}
	b := make([]byte, 0, len(q)-blanks)
	for i := 0; i < len(q); i++ {
		if c := q[i]; c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			b = append(b, c)
		}
	}
	return string(b), true
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isLetter(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
}

// answerPrefixes are stripped (longest first) when reading an answer
// statement or normalising an answer.
var answerPrefixes = []string{
	"the final answer is", "final answer is", "the answer is", "answer is",
	"final answer", "answer", "ans", "so", "x", "=", ":",
}

// NormalizeAnswer puts an answer in the canonical form CheckAnswer compares:
// lower case, a leading "ans"/"answer is"/"x=" and surrounding space removed,
// inner spaces, thousands commas and a trailing full stop dropped, a leading
// '+' and leading zeros of an integer dropped ("-0" becomes "0").
func NormalizeAnswer(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	for changed := true; changed; {
		changed = false
		for _, p := range answerPrefixes {
			if rest, ok := strings.CutPrefix(s, p); ok && rest != s {
				// Only strip word prefixes at a word boundary.
				if isLetter(p[len(p)-1]) && rest != "" && isLetter(rest[0]) {
					continue
				}
				s = strings.TrimSpace(rest)
				changed = true
				break
			}
		}
	}
	s = strings.TrimRight(s, ". ")
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == ',' || r == '\t' {
			return -1
		}
		return r
	}, s)
	neg := false
	if strings.HasPrefix(s, "+") {
		s = s[1:]
	} else if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	if s != "" && allDigits(s) {
		s = strings.TrimLeft(s, "0")
		if s == "" {
			return "0"
		}
	}
	if neg {
		return "-" + s
	}
	return s
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return len(s) > 0
}

// parseAnswerStatement reports whether a segment is an answer statement
// ("ans 632", "the answer is 632", "x=5", "=632", "632") and its number.
func parseAnswerStatement(seg string) (string, bool) {
	n := NormalizeAnswer(seg)
	m := strings.TrimPrefix(n, "-")
	if !allDigits(m) || len(m) > 40 {
		return "", false
	}
	return n, true
}

// mentions reports whether number (a normalised integer) occurs in s as a
// standalone number: not glued to letters ("3x", "c1", "w2") and not part
// of a longer digit run. Occurrences inside any of the strings in skip
// (restatements of the question) are ignored.
func mentions(s, number string, skip ...string) bool {
	if number == "" {
		return false
	}
	compact := compactSpaces(s)
	for _, k := range skip {
		if k != "" {
			compact = strings.ReplaceAll(compact, k, "|")
		}
	}
	neg := strings.HasPrefix(number, "-")
	digits := strings.TrimPrefix(number, "-")
	for i := 0; i < len(compact); {
		if !isDigit(compact[i]) {
			i++
			continue
		}
		j := i
		for j < len(compact) && isDigit(compact[j]) {
			j++
		}
		run := strings.TrimLeft(compact[i:j], "0")
		if run == "" {
			run = "0"
		}
		glued := (i > 0 && isLetter(compact[i-1])) || (j < len(compact) && isLetter(compact[j]))
		isNeg := i > 0 && compact[i-1] == '-' && (i == 1 || !isDigit(compact[i-2]))
		if !glued && run == digits && isNeg == neg {
			return true
		}
		i = j
	}
	return false
}

// finish fills the counts, order, leak and stated-answer fields of a verdict
// whose segments have been classified and matched. matchedOrder lists, in
// text order, the expected step index of each correct non-duplicate step.
func (v *Verdict) finish(solution string, restatements []string) {
	covered := make([]bool, v.Expected) // any statement, right or wrong
	correct := make([]bool, v.Expected)
	lastStep := -1
	prev := -1
	v.InOrder = true
	for i := range v.Segments {
		sg := &v.Segments[i]
		switch sg.Kind {
		case StepSegment:
			lastStep = i
			switch {
			case sg.Duplicate:
				v.Filler++
			case sg.Correct:
				correct[sg.Step] = true
				covered[sg.Step] = true
				if sg.Step < prev {
					v.InOrder = false
				}
				prev = sg.Step
			default:
				v.Wrong++
				if sg.Step >= 0 {
					covered[sg.Step] = true
				}
			}
		case Filler:
			v.Filler++
		}
	}
	for i := 0; i < v.Expected; i++ {
		if correct[i] {
			v.Correct++
		}
		if !covered[i] {
			v.Missing++
			v.MissingSteps = append(v.MissingSteps, i)
		}
	}
	for i := range v.Segments {
		sg := &v.Segments[i]
		if sg.Kind == StepSegment || (lastStep >= 0 && i > lastStep) {
			continue
		}
		switch sg.Kind {
		case AnswerSegment:
			sg.Leak = sg.Correct
		case Filler:
			sg.Leak = mentions(sg.Text, solution, restatements...)
		}
		if sg.Leak {
			v.Leaks++
		}
	}
	v.AnswerFirst = v.Leaks > 0
	for i := len(v.Segments) - 1; i > lastStep && i >= 0; i-- {
		if v.Segments[i].Kind == AnswerSegment {
			v.Stated = NormalizeAnswer(v.Segments[i].Text)
			v.StatedCorrect = v.Segments[i].Correct
			break
		}
	}
}

// compactSpaces drops blanks, except that a blank between two letters or
// digits becomes '|', so "632 7" stays two numbers and "is 632" is not glued.
func compactSpaces(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != ' ' && c != '\t' {
			b = append(b, c)
			continue
		}
		j := i
		for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
			j++
		}
		if len(b) > 0 && isAlnum(b[len(b)-1]) && j < len(s) && isAlnum(s[j]) {
			b = append(b, '|')
		}
		i = j - 1
	}
	return string(b)
}

func isAlnum(c byte) bool { return isDigit(c) || isLetter(c) }
