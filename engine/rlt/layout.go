package rlt

import (
	"slices"
	"strings"

	"github.com/rlt-workbench/rlt/engine/record"
)

// Encoder is what laying out a context needs of a tokenizer.
type Encoder interface {
	Encode(text string) []int32
	// EncodeOffsets is Encode with each token's end in text, in bytes; ok
	// is false where the tokens do not spell the text byte for byte.
	EncodeOffsets(text string) (ids []int32, ends []int, ok bool)
	// Normalize is text as the tokenizer's normalizer makes it (NFC).
	Normalize(text string) string
}

// Span is a range of token indices, [Start, End).
type Span struct{ Start, End int }

// Len is the number of tokens in s.
func (s Span) Len() int { return s.End - s.Start }

// Layout is one explanation's two sequences as the reward scores them
// (RLT.md §2–3): the teacher's, the student's, the explanation T in both
// (the same ids) and the solution S in the student's.
//
// Each sequence is its whole text encoded as the model reads it: the
// teacher's begins with the prompt tokens it sampled after (unless the
// body's first characters merge with the lead, a body starting with a
// newline), and the student's is what a Bespoke-Stratos row becomes. A real BPE vocabulary,
// whose tags are plain text, merges across a tag's edge (Qwen's ">\n\n"
// after an opening tag, ".<" before a closing one). T is the tokens that
// lie wholly within the explanation (the prefill's lead and the body): a
// merged one is not scored, as the official trainer locates T (it drops a
// first or last token that is not in the whole text's tokens), and T's
// ids must be the same in both sequences. S is every token that holds a
// byte of the solution, merged ones included: the student writes the
// solution with them, and this workbench's solutions are short answers,
// whose sign or bracket (">-" of "-3") a dropped token would leave
// unscored — the official trainer, whose solutions are long texts, drops
// them as it does T's. The parts are normalized as the tokenizer
// normalizes (NFC) before they are joined. Where the tokenizer still
// cannot place its tokens in the text (an added token that strips the
// spaces beside it), or T's tokens differ between the two texts, every
// part is encoded on its own, which places them exactly. With the embedded vocabulary, whose tags are added tokens,
// the two ways give the same ids.
type Layout struct {
	// Teacher is the teacher's prompt, then T, and nothing after: a
	// log-prob reads only the tokens before it.
	Teacher  []int32
	TeacherT int // index of T's first token in Teacher
	Student  StudentSeq
	T, S     []int32
	// Whole is false where every part was encoded on its own. A training
	// step records the share of its explanations laid out so (the metric
	// layout_part_by_part_share), so that a run folder says how its texts
	// were tokenized.
	Whole bool
}

// StudentSeq is the student's context for one explanation, with where the
// explanation T and the solution lie in it.
type StudentSeq struct {
	IDs       []int32
	Expl, Sol Span // T and S in IDs (Layout)
	// Reply is the index of the first token of the student's turn
	// (<|begin_of_thought|> …): where its fine-tuning loss starts.
	Reply int
	// Prompt is the context up to the solution's text: what the student
	// continues when it reconstructs the solution.
	Prompt []int32
}

// The parts of the two texts, in order.
const (
	teacherHead = iota
	teacherLead
	teacherBody
	teacherEnd
	teacherParts
)

const (
	studentHeader = iota // the turns before the student's reply
	studentBegin         // <|begin_of_thought|>
	studentLead
	studentBody
	studentMiddle // <|end_of_thought|>\n\n<|begin_of_solution|>
	studentSolution
	studentSuffix
	studentParts
)

func teacherText(p record.Prompts, question, solution, body string) []string {
	return []string{teacherHead: p.TeacherHead(question, solution), teacherLead: record.ExplanationLead,
		teacherBody: body, teacherEnd: record.EndExplanation}
}

func studentText(p record.Prompts, question, body, solution string) []string {
	sp := p.StudentParts(question)
	return []string{studentHeader: strings.TrimSuffix(sp.Prefix, record.BeginThought), studentBegin: record.BeginThought,
		studentLead: record.ExplanationLead, studentBody: body, studentMiddle: sp.Middle,
		studentSolution: solution, studentSuffix: sp.Suffix}
}

// ItemLayout lays out an explanation body of a question and its solution
// under prompts p (Layout).
func ItemLayout(tok Encoder, p record.Prompts, question, solution, body string) Layout {
	tt, st := teacherText(p, question, solution, body), studentText(p, question, body, solution)
	tc, tok1 := encodeWhole(tok, tt)
	sc, tok2 := encodeWhole(tok, st)
	whole := tok1 && tok2 && slices.Equal(tc.ids(tc.within(teacherLead, teacherBody)), sc.ids(sc.within(studentLead, studentBody)))
	if !whole {
		tc, sc = encodeEach(tok, tt), encodeEach(tok, st)
	}
	t := tc.within(teacherLead, teacherBody)
	s := sc.student(tok, st)
	return Layout{Teacher: tc.tokens[:t.End:t.End], TeacherT: t.Start, Student: s,
		T: s.IDs[s.Expl.Start:s.Expl.End:s.Expl.End], S: s.IDs[s.Sol.Start:s.Sol.End:s.Sol.End], Whole: whole}
}

// StudentLayout lays out the student's context (RLT.md §2) under prompts
// p for an explanation body and a solution, as ItemLayout does: the one
// layout of the student's context, for the reward, GRPO's and evaluation's
// reconstructions, the length checks of data rows and the student's SFT
// rows (warmstart).
func StudentLayout(tok Encoder, p record.Prompts, question, body, solution string) StudentSeq {
	st := studentText(p, question, body, solution)
	c, ok := encodeWhole(tok, st)
	if !ok {
		c = encodeEach(tok, st)
	}
	return c.student(tok, st)
}

// SolvePrompt is what a student continues when it solves a question by
// itself: its context through the thought tag and the lead "\n\n", encoded
// as its training sequences hold it (StudentLayout: a vocabulary with the
// tags in plain text merges the tag's end with the lead, Qwen's ">\n\n",
// and a prompt that stopped at the tag would end in a token the student
// never saw there). It then writes the thought's body.
func SolvePrompt(tok Encoder, p record.Prompts, question string) []int32 {
	return tok.Encode(p.StudentParts(question).Prefix + record.ExplanationLead)
}

// composed is a text made of parts, encoded: token k lies on bytes
// [starts[k], ends[k]) of the text, and part i on [off[i], off[i+1]).
type composed struct {
	tokens       []int32
	starts, ends []int
	off          []int
}

// encodeWhole encodes parts as one text (ok false where the tokenizer
// cannot place its tokens in it). Each part is normalized first, as the
// tokenizer would (a text not in NFC, which the model reads in NFC, is then
// placed too), so the offsets are of the normalized parts.
func encodeWhole(tok Encoder, parts []string) (composed, bool) {
	parts = slices.Clone(parts)
	for i, p := range parts {
		parts[i] = tok.Normalize(p)
	}
	c := composed{off: offsets(parts)}
	ids, ends, ok := tok.EncodeOffsets(strings.Join(parts, ""))
	if !ok {
		return composed{}, false
	}
	c.tokens, c.ends = ids, ends
	c.starts = make([]int, len(ends))
	for k := 1; k < len(ends); k++ {
		c.starts[k] = ends[k-1]
	}
	return c, true
}

// encodeEach encodes every part on its own: each part's tokens lie on the
// whole of it.
func encodeEach(tok Encoder, parts []string) composed {
	c := composed{off: offsets(parts)}
	for i, p := range parts {
		ids := tok.Encode(p)
		c.tokens = append(c.tokens, ids...)
		for range ids {
			c.starts = append(c.starts, c.off[i])
			c.ends = append(c.ends, c.off[i+1])
		}
	}
	return c
}

func offsets(parts []string) []int {
	off := make([]int, len(parts)+1)
	for i, p := range parts {
		off[i+1] = off[i] + len(p)
	}
	return off
}

// within is the tokens that lie wholly within parts first to last.
func (c composed) within(first, last int) Span {
	from, to := c.off[first], c.off[last+1]
	k := 0
	for k < len(c.tokens) && c.starts[k] < from {
		k++
	}
	s := Span{Start: k, End: k}
	for s.End < len(c.tokens) && c.ends[s.End] <= to {
		s.End++
	}
	return s
}

// touching is the tokens that hold a byte of part i (none for an empty
// part).
func (c composed) touching(i int) Span {
	from, to := c.off[i], c.off[i+1]
	k := 0
	for k < len(c.tokens) && c.ends[k] <= from {
		k++
	}
	s := Span{Start: k, End: k}
	for from < to && s.End < len(c.tokens) && c.starts[s.End] < to {
		s.End++
	}
	return s
}

func (c composed) ids(s Span) []int32 { return c.tokens[s.Start:s.End] }

// before is the number of tokens that end at or before part i's start,
// and whether the next one starts there (no token straddles the edge).
func (c composed) before(i int) (n int, clean bool) {
	at := c.off[i]
	for n < len(c.tokens) && c.ends[n] <= at {
		n++
	}
	return n, n == len(c.tokens) || c.starts[n] == at
}

// student is the student's sequence of c, the encoded student text st.
func (c composed) student(tok Encoder, st []string) StudentSeq {
	s := StudentSeq{IDs: c.tokens, Expl: c.within(studentLead, studentBody), Sol: c.touching(studentSolution)}
	s.Reply, _ = c.before(studentBegin)
	if n, clean := c.before(studentSolution); clean {
		s.Prompt = c.tokens[:n:n]
	} else {
		// A token joins the solution's tag to its first characters: the
		// student, continuing, writes those itself.
		s.Prompt = tok.Encode(strings.Join(st[:studentSolution], ""))
	}
	return s
}
