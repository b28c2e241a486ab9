package task

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
)

// Example is one question with its solution and a reference explanation.
type Example struct {
	ID       string // stable identifier: "<task>:<16 hex digits of the split key's hash>" for generated examples
	Task     string // the task that generated it ("" for user data of unknown kind)
	Question string // the user turn, e.g. "347+285=?"
	Solution string // the final answer, e.g. "632"
	// Reference is the canonical (clean-style) explanation connecting the
	// question to the solution; for user data it is the row's reasoning trace
	// ("" when the row had none).
	Reference string
	// Line is the 1-based line of the row in the JSON Lines input it was
	// read from (0 for generated examples).
	Line int
	// Cut is the row's "cut" (record.Row.Cut): its Reference is the first
	// part of a teacher's completion, cut short to fit the models that
	// scored it (rlt distill --samples-out), no whole explanation. Its
	// question and solution are whole: only a reader of Reference (rlt
	// distill --reference) leaves it out (record.CutRowReason).
	Cut bool
	// NotKept is the row's "kept": false (record.Row.NotKept): a sample
	// rlt distill --samples-out's ranking did not keep. Only a reader of
	// Reference as the row's chosen explanation (rlt distill --reference)
	// leaves it out.
	NotKept bool
	// Kept is the row's "kept": true (record.Row.Kept): a sample the
	// ranking kept, one a question. rlt distill --reference takes each
	// question's kept sample once, as rlt import does (record.Repeated).
	Kept bool
}

// Task is one synthetic task: a generator of examples, an answer checker and
// a step-by-step verifier of explanations.
type Task interface {
	// Name is the task's registry name ("addition", "linear").
	Name() string
	// Sample draws one example, from either split, using rng only.
	Sample(rng *rand.Rand) Example
	// Widest is an example of the task (of either split) as wide as any
	// Sample can draw, by construction from the task's ranges: each of its
	// numbers has the most digits that number can have, and no question
	// or solution has more characters, digits or others. A prompt of it,
	// each of its tokens that holds a digit counted at its bytes, is then
	// at least as long as the prompt of any of the task's examples for a
	// byte-level BPE tokenizer (its pre-tokenizer, Qwen2's or GPT-2's,
	// makes a number a word of its own, and a word takes at most a token a
	// byte), and as long as the longest for one that gives each digit a
	// token (Qwen2's): what a run checks against the models' positions
	// before its first step, whatever question a later step draws.
	Widest() Example
	// SplitKey returns the canonical form of a question that decides its
	// split (questions that are the same problem, e.g. a+b and b+a, share
	// it) and false when the question is not of this task.
	SplitKey(question string) (string, bool)
	// CheckAnswer reports whether answer, after NormalizeAnswer, equals the
	// question's correct answer exactly.
	CheckAnswer(question, answer string) bool
	// VerifyExplanation checks explanation against the question step by step.
	VerifyExplanation(question, explanation string) Verdict
	// Styles lists the explanation styles for warm-start corpora; the first
	// is always StyleClean, the reference format.
	Styles() []Style
}

// Style names shared by the tasks.
const (
	StyleClean     = "clean"     // (a) the canonical steps, in order: the reference
	StyleReordered = "reordered" // (b) steps in an order a reader finds harder
	StylePadded    = "padded"    // (c) irrelevant or restating lines mixed in
	StyleLeaked    = "leaked"    // (d) states the final answer before deriving it
	StylePartial   = "partial"   // (e) terse: some steps skipped
)

// Style is a named way to write an explanation for an example. Generate must
// be deterministic given the example and the RNG state.
type Style struct {
	Name        string
	Description string
	Generate    func(ex Example, rng *rand.Rand) string
}

// Split names a partition of a task's questions.
type Split int

const (
	Train Split = iota
	HeldOut
)

func (s Split) String() string {
	switch s {
	case Train:
		return "train"
	case HeldOut:
		return "heldout"
	}
	return "split(" + strconv.Itoa(int(s)) + ")"
}

// DefaultHeldOut is the fraction of the question space set aside for
// held-out evaluation.
const DefaultHeldOut = 0.1

// keyHash hashes a task name and split key (FNV-1a, then a splitmix64
// finaliser so every bit is usable).
func keyHash(taskName, key string) uint64 {
	const prime = 1099511628211
	x := uint64(14695981039346656037)
	for i := 0; i < len(taskName); i++ {
		x = (x ^ uint64(taskName[i])) * prime
	}
	x *= prime // the 0 separator byte
	for i := 0; i < len(key); i++ {
		x = (x ^ uint64(key[i])) * prime
	}
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// SplitOf returns the split a question belongs to when a fraction heldOut of
// the task's questions is held out. Membership depends only on the task name
// and the question's split key, so the splits never overlap, whatever the
// seed or the order of generation. A question the task cannot parse is
// assigned by its raw text.
func SplitOf(t Task, question string, heldOut float64) Split {
	key, ok := t.SplitKey(question)
	if !ok {
		key = question
	}
	u := float64(keyHash(t.Name(), key)>>11) / (1 << 53)
	if u < heldOut {
		return HeldOut
	}
	return Train
}

// exampleID is the content-derived ID of a generated example.
func exampleID(taskName, key string) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], keyHash(taskName, key))
	out := make([]byte, 0, len(taskName)+17)
	out = append(out, taskName...)
	out = append(out, ':')
	return string(hex.AppendEncode(out, b[:]))
}

// Sampler draws the examples of one split of a task, deterministically for a
// seed. It is not safe for concurrent use.
type Sampler struct {
	task    Task
	split   Split
	heldOut float64
	rng     *rand.Rand
}

// NewSampler returns a sampler over split with the DefaultHeldOut fraction.
func NewSampler(t Task, split Split, seed uint64) *Sampler {
	return NewSamplerHeldOut(t, split, seed, DefaultHeldOut)
}

// NewSamplerHeldOut returns a sampler over split where a fraction heldOut
// (clamped to [0.001, 0.999]) of the questions is held out.
func NewSamplerHeldOut(t Task, split Split, seed uint64, heldOut float64) *Sampler {
	heldOut = min(max(heldOut, 0.001), 0.999)
	return &Sampler{
		task:    t,
		split:   split,
		heldOut: heldOut,
		rng:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
}

// Next returns the next example of the sampler's split. Questions may repeat
// (use Unique for distinct ones).
func (s *Sampler) Next() Example {
	for {
		ex := s.task.Sample(s.rng)
		if SplitOf(s.task, ex.Question, s.heldOut) == s.split {
			return ex
		}
	}
}

// Take returns the next n examples.
func (s *Sampler) Take(n int) []Example {
	out := make([]Example, n)
	for i := range out {
		out[i] = s.Next()
	}
	return out
}

// MaxUnique is the most questions one command, or one evaluation, draws
// from a task (Unique): a count past it (a typo's extra digits) would hold
// the questions in memory for longer than any evaluation runs, where it
// ran out of memory drawing them (rlt eval --questions 99999999999), and
// past 2^63/100 Unique's budget of draws overflowed (a run's
// eval_questions = 9223372036854775807 failed at its first evaluation).
// rlt eval's and rlt distill's --questions and a run's eval_questions are
// refused past it, before anything loads.
const MaxUnique = 1 << 20

// ErrExhausted is returned by Unique when the split seems to have fewer
// distinct questions than were asked for.
var ErrExhausted = errors.New("task: split has too few distinct questions")

// Unique returns the next n examples with distinct split keys. It gives up
// with ErrExhausted (returning what it found) after 100·n+1000 draws without
// enough new questions. n must be within 0 to MaxUnique, whoever calls it:
// its callers refuse more first, but the function was the one that broke
// for a caller that did not (past 2^63/100 its budget of draws wrapped:
// to 900 draws at int's largest, which then said a split of millions
// "has 900 after 900 draws", or negative, drawing until memory ran out),
// and a negative n panicked (makeslice: cap out of range).
func (s *Sampler) Unique(n int) ([]Example, error) {
	if n < 0 || n > MaxUnique {
		return nil, fmt.Errorf("task: %d distinct questions asked of %s %s: want 0 to %d, the most one draw takes (task.MaxUnique)",
			n, s.task.Name(), s.split, MaxUnique)
	}
	// Room for n is made as they come, not up front: a count past what
	// the split holds (or memory) is the error below, not an allocation
	// that fails.
	out := make([]Example, 0, min(n, 4096))
	seen := make(map[string]bool, min(n, 4096))
	budget := 100*n + 1000
	for len(out) < n {
		if budget == 0 {
			return out, fmt.Errorf("%w: %s %s has %d after %d draws, %d asked",
				ErrExhausted, s.task.Name(), s.split, len(out), 100*n+1000, n)
		}
		budget--
		ex := s.Next()
		key, ok := s.task.SplitKey(ex.Question)
		if !ok {
			key = ex.Question
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, ex)
	}
	return out, nil
}

// Mixture samples explanation styles with given weights.
type Mixture struct {
	styles []Style
	cum    []float64
}

// NewMixture builds a mixture over the named styles (keys of weights must be
// among styles; styles absent from weights get weight 0). Weights must be
// finite and non-negative with a positive sum.
func NewMixture(styles []Style, weights map[string]float64) (*Mixture, error) {
	byName := make(map[string]Style, len(styles))
	for _, s := range styles {
		byName[s.Name] = s
	}
	names := make([]string, 0, len(weights))
	for name := range weights {
		names = append(names, name)
	}
	sort.Strings(names) // deterministic order whatever the map's
	m := &Mixture{}
	total := 0.0
	for _, name := range names {
		w := weights[name]
		s, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("task: mixture: unknown style %q", name)
		}
		if !(w >= 0) || w > 1e300 {
			return nil, fmt.Errorf("task: mixture: style %q has weight %v, want a finite number >= 0", name, w)
		}
		if w == 0 {
			continue
		}
		total += w
		m.styles = append(m.styles, s)
		m.cum = append(m.cum, total)
	}
	if total <= 0 {
		return nil, errors.New("task: mixture: weights sum to zero")
	}
	for i := range m.cum {
		m.cum[i] /= total
	}
	return m, nil
}

// DefaultMixture returns the default warm-start weights: half clean, the
// rest spread evenly over the weaker styles, so RL has room to improve the
// teacher. Each call returns a new map.
func DefaultMixture() map[string]float64 {
	return map[string]float64{
		StyleClean:     0.5,
		StyleReordered: 0.125,
		StylePadded:    0.125,
		StyleLeaked:    0.125,
		StylePartial:   0.125,
	}
}

// Sample draws a style.
func (m *Mixture) Sample(rng *rand.Rand) Style {
	u := rng.Float64()
	i := sort.SearchFloat64s(m.cum, u)
	if i >= len(m.styles) {
		i = len(m.styles) - 1
	}
	return m.styles[i]
}

// Explain draws a style and writes an explanation of ex in it.
func (m *Mixture) Explain(ex Example, rng *rand.Rand) (style, explanation string) {
	s := m.Sample(rng)
	return s.Name, s.Generate(ex, rng)
}

// StyleByName finds a task's style.
func StyleByName(t Task, name string) (Style, bool) {
	for _, s := range t.Styles() {
		if s.Name == name {
			return s, true
		}
	}
	return Style{}, false
}

// Lookup returns a task with its default configuration by name.
func Lookup(name string) (Task, bool) {
	switch name {
	case "addition":
		return DefaultAddition(), true
	case "linear":
		return DefaultLinear(), true
	}
	return nil, false
}

// Names lists the tasks Lookup knows.
func Names() []string { return []string{"addition", "linear"} }

// Trace is an example with an explanation written in a named style.
type Trace struct {
	Example
	Style       string
	Explanation string
}

// WarmStart builds a warm-start (SFT) corpus of n train-split examples of t,
// each explained in a style drawn from weights (see DefaultMixture()),
// deterministically for a seed.
func WarmStart(t Task, seed uint64, n int, weights map[string]float64) ([]Trace, error) {
	m, err := NewMixture(t.Styles(), weights)
	if err != nil {
		return nil, err
	}
	s := NewSampler(t, Train, seed)
	rng := rand.New(rand.NewPCG(seed^0x5851f42d4c957f2d, seed+1))
	out := make([]Trace, n)
	for i := range out {
		ex := s.Next()
		style, expl := m.Explain(ex, rng)
		out[i] = Trace{Example: ex, Style: style, Explanation: expl}
	}
	return out, nil
}
