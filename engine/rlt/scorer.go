package rlt

import (
	"fmt"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/model"
)

// Tokenizer is what scoring needs of a tokenizer. Teacher and student share
// one: the explanation's ids are located in both sequences.
type Tokenizer interface {
	Encode(text string) []int32
	TokenString(id int32) string
	VocabSize() int
}

// Item is one explanation to score.
type Item struct {
	Question, Solution string
	// Explanation is the body the teacher wrote: the text after the
	// prefill's "<|begin_of_explanation|>\n\n" and before the end tag.
	Explanation string
	// Ended is false when the teacher never closed the explanation.
	Ended bool
}

// Scored is an item's reward with every per-token array it came from.
type Scored struct {
	Terms
	Ended bool `json:"ended"`

	// Explanation tokens T, with the teacher's log-prob (solution in
	// context), the student's (question and earlier explanation only) and d_k.
	ExplanationIDs    []int32   `json:"explanation_ids"`
	ExplanationTokens []string  `json:"explanation_tokens"`
	TeacherLP         []float64 `json:"teacher_logprobs"`
	StudentLP         []float64 `json:"student_logprobs"`
	D                 []float64 `json:"d"`

	// Solution tokens S with the student's log-probs after the explanation.
	SolutionIDs    []int32   `json:"solution_ids"`
	SolutionTokens []string  `json:"solution_tokens"`
	SolutionLP     []float64 `json:"solution_logprobs"`
}

// Scorer computes RLT rewards with a teacher and a frozen student, batched.
type Scorer struct {
	Teacher, Student *model.Model
	Tok              Tokenizer
	Prompts          Prompts
	Cfg              RewardConfig

	tape *compute.Tape
}

// NewScorer checks that the two models can share the tokenizer.
func NewScorer(teacher, student *model.Model, tok Tokenizer, prompts Prompts, cfg RewardConfig) (*Scorer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if teacher.Cfg.Vocab != student.Cfg.Vocab {
		return nil, fmt.Errorf("scorer: teacher vocabulary %d ≠ student vocabulary %d: RLT needs one shared tokenizer", teacher.Cfg.Vocab, student.Cfg.Vocab)
	}
	if tok.VocabSize() > teacher.Cfg.Vocab {
		return nil, fmt.Errorf("scorer: the tokenizer has %d tokens but the models' embeddings only %d rows", tok.VocabSize(), teacher.Cfg.Vocab)
	}
	if teacher.Backend() != student.Backend() {
		return nil, fmt.Errorf("scorer: teacher and student must live on one backend")
	}
	tp := compute.NewTape(teacher.Backend())
	tp.SetRecording(false)
	return &Scorer{Teacher: teacher, Student: student, Tok: tok, Prompts: prompts, Cfg: cfg, tape: tp}, nil
}

// encoded is an item's token layout in both sequences.
type encoded struct {
	teacher []int32 // teacher prompt ++ body
	tStart  int     // index of the first body token in teacher
	student []int32 // prefix ++ body ++ middle ++ solution ++ suffix
	sBody   int     // index of the first body token in student
	sSol    int     // index of the first solution token in student
	body    []int32
	sol     []int32
}

func (s *Scorer) encode(it Item) encoded {
	var e encoded
	e.teacher = s.Tok.Encode(s.Prompts.TeacherPrompt(it.Question, it.Solution))
	e.body = s.Tok.Encode(it.Explanation)
	e.tStart = len(e.teacher)
	e.teacher = append(e.teacher, e.body...)

	parts := s.Prompts.StudentParts(it.Question)
	e.student = s.Tok.Encode(parts.Prefix + "\n\n")
	e.sBody = len(e.student)
	e.student = append(e.student, e.body...)
	e.student = append(e.student, s.Tok.Encode(parts.Middle)...)
	e.sol = s.Tok.Encode(it.Solution)
	e.sSol = len(e.student)
	e.student = append(e.student, e.sol...)
	e.student = append(e.student, s.Tok.Encode(parts.Suffix)...)
	return e
}

// Score computes the reward of each item. Questions and solutions holding a
// tag, or empty solutions, are refused with the item's index.
func (s *Scorer) Score(items []Item) ([]Scored, error) {
	if len(items) == 0 {
		return nil, nil
	}
	enc := make([]encoded, len(items))
	for i, it := range items {
		if err := CheckText("question", it.Question); err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		if err := CheckText("solution", it.Solution); err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		enc[i] = s.encode(it)
		for _, seq := range [][]int32{enc[i].teacher, enc[i].student} {
			if len(seq) > s.Teacher.Cfg.MaxPos || len(seq) > s.Student.Cfg.MaxPos {
				return nil, fmt.Errorf("item %d: %d tokens do not fit the models' %d positions", i, len(seq), min(s.Teacher.Cfg.MaxPos, s.Student.Cfg.MaxPos))
			}
		}
	}
	invT := float32(1 / s.Cfg.Temperature)
	full := s.Cfg.Estimator == FullKL

	// Teacher: log-probs of the body tokens with the solution in context.
	tSeqs := make([][]int32, len(enc))
	tWant := make([][2]int, len(enc)) // [first position, count] of scored tokens
	for i, e := range enc {
		tSeqs[i] = e.teacher
		tWant[i] = [2]int{e.tStart, len(e.body)}
	}
	tLP, tLogits, err := s.logProbs(s.Teacher, tSeqs, [][][2]int{tWant}, invT, full)
	if err != nil {
		return nil, fmt.Errorf("teacher: %w", err)
	}

	// Student: body tokens (before the solution) and solution tokens.
	sSeqs := make([][]int32, len(enc))
	sBody := make([][2]int, len(enc))
	sSol := make([][2]int, len(enc))
	for i, e := range enc {
		sSeqs[i] = e.student
		sBody[i] = [2]int{e.sBody, len(e.body)}
		sSol[i] = [2]int{e.sSol, len(e.sol)}
	}
	sLP, sLogits, err := s.logProbs(s.Student, sSeqs, [][][2]int{sBody, sSol}, invT, full)
	if err != nil {
		return nil, fmt.Errorf("student: %w", err)
	}

	var kl []float32
	if full {
		kl = s.fullKL(tLogits, sLogits, enc, invT)
	}

	out := make([]Scored, len(items))
	ti, si, ki := 0, 0, 0
	for i, e := range enc {
		sc := &out[i]
		sc.Ended = items[i].Ended
		nb, ns := len(e.body), len(e.sol)
		sc.ExplanationIDs, sc.SolutionIDs = e.body, e.sol
		sc.ExplanationTokens, sc.SolutionTokens = s.tokens(e.body), s.tokens(e.sol)
		sc.TeacherLP = widen(tLP[ti : ti+nb])
		sc.StudentLP = widen(sLP[si : si+nb])
		ti += nb
		si += nb
		sc.D = make([]float64, nb)
		for k := range sc.D {
			if full {
				sc.D[k] = float64(kl[ki+k])
			} else {
				sc.D[k] = s.Cfg.TokenScore(sc.TeacherLP[k], sc.StudentLP[k])
			}
		}
		ki += nb
		sc.SolutionLP = widen(sLP[si : si+ns])
		si += ns
		sc.Terms = s.Cfg.Reduce(sc.SolutionLP, sc.D, sc.StudentLP, sc.Ended)
	}
	return out, nil
}

func (s *Scorer) tokens(ids []int32) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = s.Tok.TokenString(id)
	}
	return out
}

func widen(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// logProbs runs m over right-padded seqs and returns the log-probs of the
// tokens in each span group, in order: for sequence b, each group's span
// [start, start+count) in turn, sequence by sequence. With keepLogits it
// also returns the gathered logits rows (host copy) in the same order.
func (s *Scorer) logProbs(m *model.Model, seqs [][]int32, groups [][][2]int, invT float32, keepLogits bool) ([]float32, []float32, error) {
	B, T := len(seqs), 0
	for _, q := range seqs {
		T = max(T, len(q))
	}
	batch := &model.Batch{B: B, T: T, Tokens: make([]int32, B*T)}
	var rows, targets []int32
	for b, q := range seqs {
		copy(batch.Tokens[b*T:], q)
		for _, g := range groups {
			start, n := g[b][0], g[b][1]
			for k := 0; k < n; k++ {
				pos := start + k
				if pos == 0 {
					return nil, nil, fmt.Errorf("sequence %d: a scored token at position 0 has no context", b)
				}
				rows = append(rows, int32(b*T+pos-1))
				targets = append(targets, q[pos])
			}
		}
	}
	if len(rows) == 0 {
		return nil, nil, nil
	}
	tp := s.tape
	tp.Reset()
	h := tp.GatherRows(m.Hidden(tp, batch), rows)
	logits := tp.Linear(h, m.LMHead, nil)
	lp := tp.TokenLogProbs(logits, targets, invT)
	if err := tp.Err(); err != nil {
		return nil, nil, err
	}
	be := m.Backend()
	out := make([]float32, lp.Len())
	be.Read(out, lp)
	var lg []float32
	if keepLogits {
		lg = make([]float32, logits.Len())
		be.Read(lg, logits)
	}
	return out, lg, nil
}

// fullKL computes KL(teacher ‖ student) over the whole vocabulary at each
// explanation position. Teacher rows are the bodies, item after item; the
// student's rows hold each item's body rows followed by its solution rows.
func (s *Scorer) fullKL(tLogits, sLogits []float32, enc []encoded, invT float32) []float32 {
	V := s.Teacher.Cfg.Vocab
	nt := len(tLogits) / V
	studentBody := make([]float32, 0, len(tLogits))
	r := 0
	for _, e := range enc {
		studentBody = append(studentBody, sLogits[r*V:(r+len(e.body))*V]...)
		r += len(e.body) + len(e.sol)
	}
	be := s.Teacher.Backend()
	p, q, kl := be.New("kl.teacher", nt, V), be.New("kl.student", nt, V), be.New("kl", nt)
	be.Write(p, tLogits)
	be.Write(q, studentBody)
	be.KL(kl, p, q, invT)
	out := make([]float32, nt)
	be.Read(out, kl)
	return out
}
