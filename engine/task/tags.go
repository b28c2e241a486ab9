package task

import "strings"

// The RLT section tags (RLT.md §2).
const (
	TagBeginSolution    = "<|begin_of_solution|>"
	TagEndSolution      = "<|end_of_solution|>"
	TagBeginExplanation = "<|begin_of_explanation|>"
	TagEndExplanation   = "<|end_of_explanation|>"
	TagBeginThought     = "<|begin_of_thought|>"
	TagEndThought       = "<|end_of_thought|>"
)

// ChatML control tokens.
const (
	TagIMStart    = "<|im_start|>"
	TagIMEnd      = "<|im_end|>"
	TagEndOfText  = "<|endoftext|>"
	tagOpenPrefix = "<|"
)

var reservedTags = []string{
	TagBeginSolution, TagEndSolution,
	TagBeginExplanation, TagEndExplanation,
	TagBeginThought, TagEndThought,
	TagIMStart, TagIMEnd, TagEndOfText,
}

// ReservedTags lists the tags that must not occur in user text: the six RLT
// section tags and ChatML's <|im_start|>, <|im_end|> and <|endoftext|>.
func ReservedTags() []string { return append([]string(nil), reservedTags...) }

// ContainsRLTTag reports the first (leftmost) reserved tag in s, if any. Text
// containing one would corrupt the teacher and student prompt formats.
func ContainsRLTTag(s string) (tag string, ok bool) {
	for off := 0; ; {
		i := strings.Index(s[off:], tagOpenPrefix)
		if i < 0 {
			return "", false
		}
		rest := s[off+i:]
		for _, t := range reservedTags {
			if strings.HasPrefix(rest, t) {
				return t, true
			}
		}
		off += i + 1
	}
}
