package record

import (
	"fmt"
	"strings"

	"github.com/rlt-workbench/rlt/engine/chatml"
)

// The tags of RLT.md §2.
const (
	BeginSolution    = "<|begin_of_solution|>"
	EndSolution      = "<|end_of_solution|>"
	BeginExplanation = "<|begin_of_explanation|>"
	EndExplanation   = "<|end_of_explanation|>"
	BeginThought     = "<|begin_of_thought|>"
	EndThought       = "<|end_of_thought|>"
	ImStart          = chatml.ImStart
	ImEnd            = chatml.ImEnd
	EndOfText        = chatml.EndOfText
)

// tags lists every tag that must not appear inside a question, solution or
// explanation: it would change the meaning of the prompt it is put into.
var tags = []string{BeginSolution, EndSolution, BeginExplanation, EndExplanation, BeginThought, EndThought, ImStart, ImEnd, EndOfText}

// Tags returns the reserved tags: the six RLT section tags and ChatML's
// <|im_start|>, <|im_end|> and <|endoftext|>.
func Tags() []string { return append([]string(nil), tags...) }

// ContainsTag reports the first (leftmost) reserved tag in s, if any.
func ContainsTag(s string) (tag string, ok bool) {
	for off := 0; ; {
		i := strings.Index(s[off:], "<|")
		if i < 0 {
			return "", false
		}
		rest := s[off+i:]
		for _, t := range tags {
			if strings.HasPrefix(rest, t) {
				return t, true
			}
		}
		off += i + 1
	}
}

// CheckText rejects a question or solution that would corrupt the prompt
// formats: an empty one, or one holding a reserved tag.
func CheckText(field, s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("%s is empty", field)
	}
	if t, ok := ContainsTag(s); ok {
		return fmt.Errorf("%s contains the tag %s, which would change the prompt's structure; remove it", field, t)
	}
	return nil
}
