package rlt

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// LogitBias is one request's adjustment of the logits its generated token
// is picked from (PromptOptions.NextBias), as inference servers' samplers
// adjust them before the pick: an additive bias per token (OpenAI's
// logit_bias), −∞ for a token never picked (vLLM's bad_words, min_tokens
// and allowed_token_ids, SGLang's min_new_tokens), the logits of the
// other tokens unchanged. It is applied to the row of logits where they
// become probabilities, before the temperature, so the pick is the
// greedy token of z + bias, and costs a pass over the row: no sort of the
// vocabulary. A nil *LogitBias adjusts nothing and costs nothing.
type LogitBias struct {
	// Only, when not nil, holds back every token but these (their logits
	// −∞, whatever Add says of them): vLLM's allowed_token_ids.
	Only []int32
	// Add is added to the logits of its tokens; −Inf holds one back. An
	// adjustment that leaves no token finite is refused (AllHeld).
	Add map[int32]float32
	// Adjusted says that the generated token's log-prob, rank and top
	// tokens are of the adjusted logits, the tokens held back left out
	// (SGLang's, whose log-probs are of the logits it sampled from);
	// otherwise they are of the raw logits, the whole vocabulary's
	// (vLLM's, whose V1 sampler takes its log-probs before any logits
	// processor).
	Adjusted bool
}

// Hold returns b holding ids back too (−∞ added), b made when nil.
func (b *LogitBias) Hold(ids ...int32) *LogitBias {
	for _, id := range ids {
		b = b.Bias(id, float32(math.Inf(-1)))
	}
	return b
}

// Bias returns b adding bias to id's logit too (to what is added
// already: −∞ stays), b made when nil.
func (b *LogitBias) Bias(id int32, bias float32) *LogitBias {
	if b == nil {
		b = &LogitBias{}
	}
	if b.Add == nil {
		b.Add = map[int32]float32{}
	}
	b.Add[id] += bias
	return b
}

// Key is b's value as a text, "" for nil: two adjustments of one key
// adjust every row of logits alike, bit for bit, and say the token's
// numbers of the same row, so that options that differ only in which
// *LogitBias they point to ask the same of the model (rlt serve's batcher
// lets their prompts share a forward: engine/serve's coalesce.go). Only is
// a set there (its tokens sorted, each once); Add's biases count by their
// bits (+0 apart from −0, a bias of 0 apart from none), in order of token.
// It costs a sort of Only and of Add's tokens: once a request, not once a
// row.
func (b *LogitBias) Key() string {
	if b == nil {
		return ""
	}
	key := make([]byte, 0, 2+4*len(b.Only)+8*len(b.Add))
	key = append(key, 'b')
	if b.Adjusted {
		key[0] = 'B'
	}
	if b.Only != nil {
		only := slices.Clone(b.Only)
		slices.Sort(only)
		only = slices.Compact(only)
		key = append(key, 'o')
		key = binary.LittleEndian.AppendUint32(key, uint32(len(only)))
		for _, id := range only {
			key = binary.LittleEndian.AppendUint32(key, uint32(id))
		}
	}
	ids := make([]int32, 0, len(b.Add))
	for id := range b.Add {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		key = binary.LittleEndian.AppendUint32(key, uint32(id))
		key = binary.LittleEndian.AppendUint32(key, math.Float32bits(b.Add[id]))
	}
	return string(key)
}

// Held reports whether b keeps id from being picked.
func (b *LogitBias) Held(id int32) bool {
	if b == nil {
		return false
	}
	if b.Only != nil && !slices.Contains(b.Only, id) {
		return true
	}
	return math.IsInf(float64(b.Add[id]), -1)
}

// AllHeld reports whether b keeps every token of a vocabulary of vocab
// from being picked.
func (b *LogitBias) AllHeld(vocab int) bool {
	if b == nil {
		return vocab == 0
	}
	if b.Only != nil {
		return !slices.ContainsFunc(b.Only, func(id int32) bool { return !b.Held(id) })
	}
	n := 0
	for id, x := range b.Add {
		if id >= 0 && int(id) < vocab && math.IsInf(float64(x), -1) {
			n++
		}
	}
	return n >= vocab
}

// check says what is wrong with b for a vocabulary of vocab: a token
// outside it, a bias that is NaN or +∞, or no token left to pick.
func (b *LogitBias) check(vocab int) error {
	if b == nil {
		return nil
	}
	for _, id := range b.Only {
		if id < 0 || int(id) >= vocab {
			return fmt.Errorf("logit bias: token %d, the only ones pickable, is outside the vocabulary of %d", id, vocab)
		}
	}
	for id, x := range b.Add {
		switch {
		case id < 0 || int(id) >= vocab:
			return fmt.Errorf("logit bias: token %d is outside the vocabulary of %d", id, vocab)
		case math.IsNaN(float64(x)) || math.IsInf(float64(x), 1):
			return fmt.Errorf("logit bias: token %d's bias %g is not a number or −∞", id, x)
		}
	}
	if b.AllHeld(vocab) {
		return ErrAllHeld
	}
	return nil
}

// ErrAllHeld is the error of a LogitBias that holds back every token.
var ErrAllHeld = fmt.Errorf("every token of the vocabulary is held back from the generated token: hold back fewer")

// adjust writes z adjusted by b into dst (len(z)).
func (b *LogitBias) adjust(dst, z []float32) {
	if b.Only != nil {
		for i := range dst {
			dst[i] = float32(math.Inf(-1))
		}
		for _, id := range b.Only {
			dst[id] = z[id]
		}
	} else {
		copy(dst, z)
	}
	for id, x := range b.Add {
		dst[id] += x
	}
}

// pickNext sets o's generated token from the logits z after the last
// position, at 1/invT, as opts asks: the greedy token of z (of z adjusted
// by opts.NextBias, with scratch, len(z), to hold the adjusted row), its
// log-prob and, with NextTopK, its rank and the top tokens.
func pickNext(o *PromptScores, z []float32, invT float32, opts PromptOptions, scratch []float32) error {
	b := opts.NextBias
	picked := z
	if b != nil {
		b.adjust(scratch, z)
		picked = scratch
	}
	best := 0
	for v := range picked {
		if picked[v] > picked[best] {
			best = v
		}
	}
	if b != nil && math.IsInf(float64(picked[best]), -1) {
		return ErrAllHeld
	}
	said := z // the row the token's numbers are of
	if b != nil && b.Adjusted {
		said = scratch
	}
	lse := logSumExp(said, invT)
	o.Next, o.NextLogProb = int32(best), logProb(said, int32(best), invT, lse)
	if opts.NextTopK > 0 {
		o.NextRank = rankOf(said, int32(best))
		o.NextTopIDs, o.NextTopLogProbs = topK(said, opts.NextTopK, invT, lse)
		if b != nil && b.Adjusted {
			// The tokens held back are no tokens of the adjusted row.
			n := slices.IndexFunc(o.NextTopIDs, func(id int32) bool { return math.IsInf(float64(said[id]), -1) })
			if n >= 0 {
				o.NextTopIDs, o.NextTopLogProbs = o.NextTopIDs[:n:n], o.NextTopLogProbs[:n:n]
			}
		}
	}
	return nil
}
