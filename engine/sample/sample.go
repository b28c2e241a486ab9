// Package sample generates continuations of a batch of prompts with a
// model.Model and its KV cache: greedy or temperature sampling with top-k,
// top-p and min-p, stop ids and stop strings, reproducible per-sequence
// random streams, and the log-probability of every sampled token under the
// sampling temperature (what the RLT reward and GRPO work on).
//
// Prompts of different lengths are left-padded into one batch (the cache's
// KStart masks the padding and rotary positions count from each prompt's
// first token, so a sequence decodes the same alone or in a batch). When at
// most half of the batch is still running, the running sequences move to a
// cache half the size, so finished sequences stop costing model work; the
// smaller caches take turns within the full cache and one arena of half
// the batch (model.KVCache.Within), so they cost half the batch again.
//
// Tokens are drawn on the host from the logits read back, by a picker per
// chunk of rows on the parallel pool. On a backend that draws where its
// logits are (compute.TokenDrawer, a GPU) draws without truncation are made
// there instead, and only the ids and their log-probabilities come back;
// for top-k, top-p and min-p such a backend narrows each row to its
// candidates (compute.Shortlister), and the pickers truncate and draw from
// those, reading a whole row only when its candidates overflow. Each
// sequence's uniform comes from its own stream either way.
package sample

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/parallel"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
)

// Decoder turns token ids into text, for stop strings (a tokenizer does).
type Decoder interface{ Decode(ids []int32) string }

// Options controls one generation.
type Options struct {
	// Temperature divides the logits; 0 means greedy (argmax).
	Temperature float32
	// TopK keeps the K most probable tokens; 0 = off.
	TopK int
	// TopP keeps the smallest set of most probable tokens (ties: lower id
	// first) whose probability sums to at least TopP, after top-k; 0 or 1 = off.
	TopP float32
	// MinP drops tokens less probable than MinP times the most probable; 0 = off.
	MinP float32
	// MaxNewTokens bounds each continuation (must be positive). It is cut
	// short where the prompt (the batch's longest) and the continuation
	// together would not fit the model's positions: the last token, which
	// sampling never feeds back, counts too, so that a forward over the
	// whole sequence (the scorer's, a policy loss's, an inference
	// server's) takes what Generate returns (rlt.Positions).
	MaxNewTokens int
	// StopIDs end a sequence when sampled (the id is kept in the output),
	// e.g. <|im_end|> and <|endoftext|>.
	StopIDs []int32
	// StopStrings end a sequence when its decoded continuation contains one
	// of them; the token that completes it is kept. Needs Decoder. Costs
	// one Decode of a short tail of ids per sequence and step.
	StopStrings []string
	Decoder     Decoder
	// Seed makes sampling reproducible: sequence i draws from its own stream
	// derived from (Seed, i), so its output does not depend on what the
	// other sequences of the batch do.
	Seed uint64
	// AllowedVocab, when positive, masks ids ≥ AllowedVocab out of sampling
	// (embedding rows past the tokenizer's vocabulary). Log-probs are still
	// those of the model's whole softmax.
	AllowedVocab int
	// KeepBatch turns off moving running sequences to a smaller cache when
	// half the batch has finished (the smaller caches cost memory: half the
	// full one again, an arena kept for the next call; Generator.arenas).
	KeepBatch bool
	// OnStep, if set, is called after every step with the tokens sampled in
	// it (one per running sequence). Returning an error stops generation;
	// Generate then returns that error with what was generated so far
	// (sequences cut short keep Reason Running). The slice and its Logits
	// are reused: valid only during the call.
	OnStep func(step int, tokens []StepToken) error
}

// StepToken is one sequence's token of a step, for streaming.
type StepToken struct {
	Seq     int     // index of the prompt
	ID      int32   // sampled id
	LogProb float32 // log-probability under softmax(logits/T) (T = 1 when greedy)
	// Logits is the row the token was drawn from, when it came to the host:
	// nil when the backend drew on its device (compute.TokenDrawer) or
	// shortlisted it there (compute.Shortlister) and no row of the step
	// had to be read whole.
	Logits []float32
	Reason Reason // Running, or why the sequence stopped at this token
}

// Reason tells why a sequence stopped.
type Reason uint8

const (
	Running    Reason = iota // not stopped (only seen in StepToken)
	StopID                   // sampled one of StopIDs
	StopString               // the text came to contain one of StopStrings
	MaxTokens                // reached MaxNewTokens
	MaxLength                // reached the model's max_position_embeddings
)

var reasonNames = [...]string{"running", "stop id", "stop string", "max tokens", "max length"}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("Reason(%d)", r)
}

// Result is one sequence's continuation.
type Result struct {
	IDs      []int32   // generated ids, the stopping token included
	LogProbs []float32 // per id: log softmax(logits/T) before masking and truncation
	Reason   Reason
	// Stop is the index in StopIDs or StopStrings of what stopped it, else -1.
	Stop int
}

// Stopped reports whether the sequence ended by itself (a stop id or
// string) rather than by running out of tokens.
func (r *Result) Stopped() bool { return r.Reason == StopID || r.Reason == StopString }

// Generate continues each prompt with m. It uses tp as scratch: the tape is
// Reset before every model call (tensors it held become invalid) and is put
// in no-grad mode for the call. See Generator to reuse caches across calls.
func Generate(tp *compute.Tape, m *model.Model, prompts [][]int32, opts Options) ([]Result, error) {
	return NewGenerator(m).Generate(tp, prompts, opts)
}

// Generator generates with one model and keeps its KV caches and buffers
// between calls, so repeated generations of one shape allocate only their
// results. A Generator is used by one goroutine at a time.
type Generator struct {
	m      *model.Model
	caches []*model.KVCache // caches[0] is the full batch; then halves
	// arenas are the two memories the shrinking batch's caches are made
	// Within, taking turns: arenas[0] is the one the running sequences are
	// in, arenas[1] the one they move to (half the batch that made it).
	// The smaller caches so hold half the batch again together, not as
	// much again as the whole (half, a quarter, ... each its own).
	arenas [2]*model.KVCache
	// reached is how many new tokens the caches grew to hold in a call, for
	// the next call to start there.
	reached int

	// per sequence (prompt index)
	rngs []rand.PCG
	done []bool

	// per batch slot
	seqOf  []int   // slot → sequence
	tokens []int32 // next input ids
	// stretch holds a prefill's ids for one stretch of positions.
	stretch []int32
	rows    []int32 // MoveRows scratch
	logits  []float32
	steps   []StepToken
	// picks draws the step's tokens, the rows split over pickers run in
	// parallel (each sequence draws from its own generator, so the tokens
	// do not depend on the split).
	picks picks
	// drawer, when set, draws the tokens where the logits are instead
	// (a GPU; draws without truncation): only ids and log-probs come to
	// the host. uniforms holds each slot's draw from its sequence's stream.
	drawer   compute.TokenDrawer
	drawOpts compute.DrawOptions
	uniforms []float32
	// lister, when set, shortlists each row's candidates where the logits
	// are (a GPU; top-k, top-p, min-p) for the pickers.
	lister   compute.Shortlister
	listOpts compute.ShortlistOptions
	list     compute.Shortlist
	// listCapacity, when positive, replaces ShortlistCapacity (tests).
	listCapacity int
}

// ShortlistCapacity is how many candidates a row's shortlist may bring to
// the host (8 bytes each); a row with more is read whole.
const ShortlistCapacity = 4096

// picks is one decode step's token draws: the slots' rows of logits split
// into contiguous chunks, one picker each, run on the parallel pool. At
// Qwen's vocabulary a draw costs about half a millisecond of host time, as
// much as a GPU's decode step for a few sequences.
type picks struct {
	g       *Generator
	pickers []*picker
	lg      []float32
	B, V, k int // slots, vocabulary, chunks (at most one per picker)
	id      []int32
	lp      []float32
	ok      []bool
	// list, when set, holds the rows' shortlists to draw from instead of
	// lg; whole marks the slots whose shortlist could not settle the draw.
	list  *compute.Shortlist
	whole []bool
	// only, when set, limits the draws to the slots marked whole.
	only bool
}

// Run implements parallel.Job over chunks [lo, hi).
func (p *picks) Run(lo, hi int) {
	for c := lo; c < hi; c++ {
		for slot := c * p.B / p.k; slot < (c+1)*p.B/p.k; slot++ {
			seq := p.g.seqOf[slot]
			if seq < 0 || p.g.done[seq] || p.only && !p.whole[slot] {
				continue
			}
			if p.list != nil {
				ids, z := p.list.Candidates(slot)
				p.id[slot], p.lp[slot], p.ok[slot], p.whole[slot] = p.pickers[c].pickShortlisted(&p.list.Rows[slot], ids, z, &p.g.rngs[seq])
				continue
			}
			p.id[slot], p.lp[slot], p.ok[slot] = p.pickers[c].pick(p.lg[slot*p.V:(slot+1)*p.V], &p.g.rngs[seq])
		}
	}
}

// draw picks every running slot's token from lg [B, V].
func (p *picks) draw(lg []float32, B, V int) {
	p.lg, p.list, p.only, p.B, p.V, p.k = lg, nil, false, B, V, min(B, len(p.pickers))
	parallel.For(p.k, 1, p)
}

// drawListed picks every running slot's token from its shortlist, marking
// in p.whole the slots that need their whole row; it reports whether any
// does.
func (p *picks) drawListed(list *compute.Shortlist, B, V int) bool {
	p.lg, p.list, p.only, p.B, p.V, p.k = nil, list, false, B, V, min(B, len(p.pickers))
	clear(p.whole[:B])
	parallel.For(p.k, 1, p)
	return slices.Contains(p.whole[:B], true)
}

// drawWhole picks, from lg [B, V], the tokens of the slots drawListed
// marked.
func (p *picks) drawWhole(lg []float32) {
	p.lg, p.list, p.only = lg, nil, true
	parallel.For(p.k, 1, p)
}

// NewGenerator returns a Generator for m.
func NewGenerator(m *model.Model) *Generator { return &Generator{m: m} }

// maxTemperature is the highest temperature sampled at, one with
// [grpo]'s check (record.MaxSampleTemperature says why).
const maxTemperature = record.MaxSampleTemperature

// CheckTemperature says what is wrong with t as a temperature to sample
// at, named as its flag is: nil for 0 (greedy) up to maxTemperature. One
// below 1/MaxFloat32 samples its limit, the greedy tokens (picker caps
// 1/τ). A command checks its flag's float64 with it before it becomes
// Options' float32, so that the value said is the one given (1e39 was
// said as +Inf, -1e-50 taken as -0, greedy).
func CheckTemperature(t float64) error {
	switch {
	case math.IsNaN(t):
		return fmt.Errorf("temperature %g is not a number: give 0 (greedy) or more, at most %g", t, float64(maxTemperature))
	case t < 0:
		return fmt.Errorf("temperature %g must be ≥ 0", t)
	case t > maxTemperature: // +Inf too: logits / τ would be all zeros or NaN
		return fmt.Errorf("temperature %g must be at most %g", t, float64(maxTemperature))
	}
	return nil
}

// CheckDistribution says what is wrong with the knobs that shape the
// distribution tokens are drawn from (temperature, top-k, top-p, min-p),
// each named as its flag is: nil when they can all run. Generate checks
// them too; a command checks them before it loads a model.
func (o *Options) CheckDistribution() error {
	if err := CheckTemperature(float64(o.Temperature)); err != nil {
		return err
	}
	switch {
	case o.TopK < 0:
		return fmt.Errorf("top-k %d must be ≥ 0", o.TopK)
	case !(o.TopP >= 0 && o.TopP <= 1):
		return fmt.Errorf("top-p %g must be in [0, 1]", o.TopP)
	case !(o.MinP >= 0 && o.MinP <= 1):
		return fmt.Errorf("min-p %g must be in [0, 1]", o.MinP)
	}
	return nil
}

func (o *Options) check(vocab int) error {
	if err := o.CheckDistribution(); err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	switch {
	case o.MaxNewTokens <= 0:
		return fmt.Errorf("sample: MaxNewTokens %d must be positive", o.MaxNewTokens)
	case o.AllowedVocab < 0 || o.AllowedVocab > vocab:
		return fmt.Errorf("sample: allowed vocabulary %d is outside the model's %d ids", o.AllowedVocab, vocab)
	case len(o.StopStrings) > 0 && o.Decoder == nil:
		return errors.New("sample: stop strings need a Decoder")
	}
	for _, s := range o.StopStrings {
		if s == "" {
			return errors.New("sample: empty stop string")
		}
	}
	return nil
}

// Generate continues each prompt; see the package function Generate.
func (g *Generator) Generate(tp *compute.Tape, prompts [][]int32, opts Options) ([]Result, error) {
	m := g.m
	cfg := m.Cfg
	if err := opts.check(cfg.Vocab); err != nil {
		return nil, err
	}
	B := len(prompts)
	if B == 0 {
		return nil, nil
	}
	P, longest := 0, 0
	for i, p := range prompts {
		if len(p) == 0 {
			return nil, fmt.Errorf("sample: prompt %d is empty", i)
		}
		for _, id := range p {
			if id < 0 || int(id) >= cfg.Vocab {
				return nil, fmt.Errorf("sample: prompt %d holds id %d outside the vocabulary of %d", i, id, cfg.Vocab)
			}
		}
		if len(p) > P {
			P, longest = len(p), i
		}
	}
	// Each prompt leaves a position for its first new token, said in the
	// words of every refusal past a model's positions.
	if P >= cfg.MaxPos {
		what := "the prompt"
		if B > 1 {
			what = fmt.Sprintf("prompt %d", longest)
		}
		return nil, fmt.Errorf("sample: %w", &model.PositionsError{Model: model.Name("model", m.Dir()), What: what, Tokens: P, Positions: cfg.MaxPos,
			Leave: "a new token", Do: fmt.Sprintf("give prompts of at most %d tokens", cfg.MaxPos-1)})
	}
	maxNew, lenReason := opts.MaxNewTokens, MaxTokens
	if maxNew > cfg.MaxPos-P { // not P+maxNew: a bound near int's largest wraps that negative
		maxNew, lenReason = cfg.MaxPos-P, MaxLength
	}
	// The cache holds the prompt and every new token but the last, which
	// is sampled and never fed.
	maxLen := P + maxNew - 1

	if rec := tp.Recording(); rec {
		tp.SetRecording(false)
		defer tp.SetRecording(true)
	}
	// The cache starts with room for the prompt and a first stretch of new
	// tokens and doubles that stretch when it fills, so its memory follows
	// what the batch actually generates (sequences often stop long before
	// MaxNewTokens), not the bound.
	// A batch like the last one starts at the length that one reached.
	start := min(maxLen, max(P+FirstStretch, P+g.reached))
	if err := g.setup(B, P, start, maxLen, &opts); err != nil {
		return nil, err
	}
	// The weights stay constant over the prefill and every decode step, so
	// the backend lays them out for its products once, not at every step.
	m.Freeze()
	defer m.Thaw()
	res := make([]Result, B)
	for i := range res {
		res[i] = Result{IDs: make([]int32, 0, maxNew), LogProbs: make([]float32, 0, maxNew), Stop: -1}
		g.rngs[i].Seed(opts.Seed, uint64(i))
		g.done[i] = false
	}

	// Prefill: left-pad to P, the padding masked by KStart.
	c := g.caches[0]
	kStart := g.rows[:B]
	tokens := g.tokens[:B*P]
	clear(tokens)
	for b, p := range prompts {
		kStart[b] = int32(P - len(p))
		copy(tokens[b*P+P-len(p):], p)
		g.seqOf[b] = b
	}
	c.Reset(kStart)
	logits := g.prefill(tp, c, tokens, B, P)
	tailWindow := 0
	for _, s := range opts.StopStrings {
		tailWindow = max(tailWindow, 2*len(s)+8)
	}
	running := B
	for step := 0; ; step++ {
		if err := tp.Err(); err != nil {
			return res, err
		}
		V := cfg.Vocab
		var lg []float32 // the logits on the host; nil when drawn on the device
		// readLogits brings the step's logits to the host (not needed
		// when the device draws).
		readLogits := func() {
			if cap(g.logits) < c.B*V {
				g.logits = make([]float32, c.B*V)
			}
			lg = g.logits[:c.B*V]
			m.Backend().Read(lg, logits)
		}
		switch {
		case g.drawer != nil:
			if err := g.drawOnDevice(logits, c.B); err != nil {
				return res, err
			}
		case g.lister != nil:
			if err := g.lister.Shortlist(&g.list, logits, g.listOpts); err != nil {
				return res, err
			}
			if g.picks.drawListed(&g.list, c.B, V) {
				readLogits()
				g.picks.drawWhole(lg)
			}
		default:
			readLogits()
			g.picks.draw(lg, c.B, V)
		}
		steps := g.steps[:0]
		for slot := 0; slot < c.B; slot++ {
			seq := g.seqOf[slot]
			if seq < 0 || g.done[seq] {
				g.tokens[slot] = 0
				continue
			}
			var z []float32
			if lg != nil {
				z = lg[slot*V : (slot+1)*V]
			}
			id, lp, ok := g.picks.id[slot], g.picks.lp[slot], g.picks.ok[slot]
			if !ok {
				return res, fmt.Errorf("sample: sequence %d, new token %d: the model's logits are not finite (NaN or ±Inf), so no token can be drawn: its weights are so large that its sums overflow float32, as a diverged run's may be; sample from another checkpoint of the model", seq, step)
			}
			r := &res[seq]
			r.IDs = append(r.IDs, id)
			r.LogProbs = append(r.LogProbs, lp)
			g.tokens[slot] = id
			switch {
			case stopIndex(opts.StopIDs, id, &r.Stop):
				r.Reason = StopID
			case tailWindow > 0 && stopStringIndex(&opts, r.IDs, tailWindow, &r.Stop):
				r.Reason = StopString
			case len(r.IDs) >= maxNew:
				r.Reason = lenReason
			}
			if r.Reason != Running {
				g.done[seq] = true
				running--
			}
			steps = append(steps, StepToken{Seq: seq, ID: id, LogProb: lp, Logits: z, Reason: r.Reason})
		}
		g.steps = steps
		if opts.OnStep != nil {
			if err := opts.OnStep(step, steps); err != nil {
				return res, err
			}
		}
		if running == 0 {
			return res, nil
		}
		if !opts.KeepBatch {
			var err error
			if c, err = g.shrink(c, running); err != nil {
				return res, err
			}
		}
		if c.Len == c.MaxLen {
			g.reached = max(g.reached, 2*(c.MaxLen-P))
			var err error
			if c, err = g.grow(c, min(maxLen, P+2*(c.MaxLen-P))); err != nil {
				return res, err
			}
		}
		tp.Reset()
		logits = m.Decode(tp, c, g.tokens[:c.B], 1)
	}
}

// drawOnDevice draws every slot's token where the logits [B, V] are
// (compute.TokenDrawer). Each running sequence takes one uniform from its
// own stream, as its picker would on the host (none when greedy), so a
// sequence's draws do not depend on the batch; slots of finished
// sequences draw too, and nobody reads them.
func (g *Generator) drawOnDevice(logits *compute.Tensor, B int) error {
	p := &g.picks
	u := g.uniforms[:B]
	for slot := range u {
		u[slot] = 0
		if seq := g.seqOf[slot]; seq >= 0 && !g.done[seq] && !g.drawOpts.Greedy {
			u[slot] = uniform24(&g.rngs[seq])
		}
	}
	if err := g.drawer.DrawTokens(p.id[:B], p.lp[:B], logits, u, g.drawOpts); err != nil {
		return err
	}
	for slot := range B {
		p.ok[slot] = p.id[slot] >= 0
	}
	return nil
}

// FirstStretch is how many new tokens a fresh cache has room for; it
// doubles as they come (memory's estimate counts the last growth, old
// and new cache at once).
const FirstStretch = 32

// PrefillTokens bounds the tokens (sequences × positions) of each forward
// of a prefill: the prompts run through the model a stretch of positions
// at a time, so the activations a prefill holds (one layer's, Decode) are
// those of at most this many tokens, not of the whole batch of prompts,
// for the same numbers.
const PrefillTokens = 2048

// prefill feeds the left-padded prompts tokens [B·P] into the empty cache c,
// at most PrefillTokens tokens a forward, and returns the logits of each
// sequence's last prompt token (Decode's), valid until tp's next Reset.
func (g *Generator) prefill(tp *compute.Tape, c *model.KVCache, tokens []int32, B, P int) *compute.Tensor {
	n := min(P, max(1, PrefillTokens/B))
	if n == P {
		tp.Reset()
		return g.m.Decode(tp, c, tokens, P)
	}
	if cap(g.stretch) < B*n {
		g.stretch = make([]int32, B*n)
	}
	var logits *compute.Tensor
	for off := 0; off < P; off += n {
		k := min(n, P-off)
		part := g.stretch[:B*k]
		for b := 0; b < B; b++ {
			copy(part[b*k:(b+1)*k], tokens[b*P+off:b*P+off+k])
		}
		tp.Reset()
		logits = g.m.Decode(tp, c, part, k)
		if tp.Err() != nil {
			break
		}
	}
	return logits
}

// grow moves c into a cache of the same batch with room for maxLen tokens,
// which replaces it; the smaller caches of the shrinking batch are dropped
// (they are made again with the new length when needed).
func (g *Generator) grow(c *model.KVCache, maxLen int) (*model.KVCache, error) {
	next, err := g.m.GrowCache(c, maxLen)
	if err != nil {
		return c, err
	}
	for i, x := range g.caches {
		if x == c {
			g.caches[i] = next
		} else if x != nil && x.MaxLen != maxLen {
			g.caches[i] = nil
		}
	}
	for i, a := range g.arenas {
		if a != nil && a.MaxLen != maxLen {
			g.arenas[i] = nil
		}
	}
	return next, nil
}

// setup sizes the caches and buffers for B sequences of P prompt tokens: a
// cache of at least startLen and at most maxLen tokens (one kept from an
// earlier call if it fits), and the buffers.
func (g *Generator) setup(B, P, startLen, maxLen int, o *Options) error {
	m := g.m
	if len(g.caches) == 0 || g.caches[0] == nil || g.caches[0].B != B || g.caches[0].MaxLen < startLen || g.caches[0].MaxLen > maxLen {
		// Every cache of the last call goes before the new one is made:
		// the smaller ones left in the slice past its length kept the
		// full cache's memory and the arena alive (they are made within
		// them) beside the new cache, until a call shrank as deep.
		clear(g.caches[:cap(g.caches)])
		g.caches = g.caches[:0]
		g.arenas = [2]*model.KVCache{}
		c, err := m.NewCache(B, startLen)
		if err != nil {
			return err
		}
		g.caches = append(g.caches, c)
	}
	if len(g.rngs) < B {
		g.rngs = make([]rand.PCG, B)
		g.done = make([]bool, B)
		g.seqOf = make([]int, B)
		g.rows = make([]int32, B)
		g.steps = make([]StepToken, 0, B)
	}
	if cap(g.tokens) < B*P { // the prefill's B×P ids
		g.tokens = make([]int32, B*P)
	}
	g.tokens = g.tokens[:cap(g.tokens)]
	// As many pickers as the pool has workers (each holds two rows of the
	// vocabulary), not one per sequence.
	// Kept from call to call: only their rules change with o.
	n := max(1, min(B, parallel.Workers()))
	g.picks.g = g
	for len(g.picks.pickers) < n {
		g.picks.pickers = append(g.picks.pickers, newPicker(o, m.Cfg.Vocab))
	}
	g.picks.pickers = g.picks.pickers[:n]
	for _, p := range g.picks.pickers {
		p.configure(o, m.Cfg.Vocab)
	}
	if cap(g.picks.id) < B {
		g.picks.id, g.picks.lp, g.picks.ok = make([]int32, B), make([]float32, B), make([]bool, B)
		g.picks.whole = make([]bool, B)
		g.uniforms = make([]float32, B)
	}
	g.picks.id, g.picks.lp, g.picks.ok = g.picks.id[:B], g.picks.lp[:B], g.picks.ok[:B]
	// A backend that draws where its logits are takes the draws that need
	// no sorting; for top-k, top-p and min-p it shortlists the candidates
	// and the pickers draw among them.
	g.drawer, g.lister = nil, nil
	pk := g.picks.pickers[0]
	if d, ok := m.Backend().(compute.TokenDrawer); ok && pk.untruncated() {
		g.drawer, g.drawOpts = d, compute.DrawOptions{InvTemp: pk.invT, Allowed: pk.allowed, Greedy: pk.greedy}
	} else if l, ok := m.Backend().(compute.Shortlister); ok && !pk.untruncated() {
		g.lister, g.listOpts = l, compute.ShortlistOptions{InvTemp: pk.invT, Allowed: pk.allowed,
			TopK: pk.topK, TopP: float32(pk.topP), MinP: float32(pk.minP), Capacity: ShortlistCapacity}
		if g.listCapacity > 0 {
			g.listOpts.Capacity = g.listCapacity
		}
	}
	return nil
}

// shrink moves the running sequences into the next smaller cache once they
// fill at most half of the current one. Slots left over repeat a running
// sequence; nobody reads them. The smaller cache is made within the arena
// the sequences are not in (arenaBeside), so the caches of every level
// take no more memory than the full batch's and half of it.
func (g *Generator) shrink(c *model.KVCache, running int) (*model.KVCache, error) {
	if running > c.B/2 {
		return c, nil
	}
	level := 0
	for i, x := range g.caches {
		if x == c {
			level = i
		}
	}
	size := c.B
	for running <= size/2 {
		size = (size + 1) / 2
		level++
	}
	for len(g.caches) <= level {
		g.caches = append(g.caches, nil)
	}
	arena, err := g.arenaBeside(c, size)
	if err != nil {
		return c, err
	}
	next := g.caches[level]
	if next == nil || next.B != size || next.Memory() != arena {
		if next, err = arena.Within(size); err != nil {
			return c, err
		}
		g.caches[level] = next
	}
	rows := g.rows[:0]
	first := -1
	for slot := 0; slot < c.B; slot++ {
		if s := g.seqOf[slot]; s >= 0 && !g.done[s] {
			if first < 0 {
				first = slot
			}
			g.seqOf[len(rows)] = s
			g.tokens[len(rows)] = g.tokens[slot]
			rows = append(rows, int32(slot))
		}
	}
	for len(rows) < size {
		g.seqOf[len(rows)] = -1
		g.tokens[len(rows)] = g.tokens[0] // the first running sequence's, moved to slot 0
		rows = append(rows, int32(first))
	}
	if err := g.m.MoveRows(next, c, rows); err != nil {
		return c, err
	}
	return next, nil
}

// arenaBeside returns the memory for a cache of size sequences that c is
// not in: the other of the two arenas, made (half of c's batch, rounded
// up, which every later shrink fits within) when there is none of c's
// length and room.
func (g *Generator) arenaBeside(c *model.KVCache, size int) (*model.KVCache, error) {
	mem := c.Memory()
	switch mem {
	case g.arenas[0]:
	case g.arenas[1]:
		g.arenas[0], g.arenas[1] = g.arenas[1], g.arenas[0]
	default: // a batch's first shrink, or one after its cache grew
		other := g.arenas[0]
		if other == nil || other.MaxLen != c.MaxLen {
			other = g.arenas[1]
		}
		g.arenas = [2]*model.KVCache{mem, other}
	}
	if a := g.arenas[1]; a == nil || a.MaxLen != c.MaxLen || a.B < size {
		a, err := g.m.NewCache((c.B+1)/2, c.MaxLen)
		if err != nil {
			return nil, err
		}
		g.arenas[1] = a
	}
	return g.arenas[1], nil
}

func stopIndex(ids []int32, id int32, at *int) bool {
	for i, s := range ids {
		if s == id {
			*at = i
			return true
		}
	}
	return false
}

// stopStringIndex decodes the last tokens of ids (enough to hold any stop
// string and a split UTF-8 character) and looks for the stop strings.
func stopStringIndex(o *Options, ids []int32, window int, at *int) bool {
	text := o.Decoder.Decode(ids[max(0, len(ids)-window):])
	for i, s := range o.StopStrings {
		if strings.Contains(text, s) {
			*at = i
			return true
		}
	}
	return false
}
