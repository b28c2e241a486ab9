package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/rlt-workbench/rlt/engine/rlt"
)

// Some request fields keep tokens from being the one generated token, as
// vLLM's and SGLang's samplers mask them (their logits set to −∞) before
// the greedy pick: vLLM's min_tokens (its stop token ids, the end of
// sequence among them, while fewer tokens than it are generated),
// bad_words (a word of one token) and allowed_token_ids (every token but
// those), and SGLang's min_new_tokens (its stop token ids and end of
// sequence). The generated token is then the most likely token not held
// back, found in the whole vocabulary's log-probs, most likely first
// (rlt.PromptOptions.NextTopK of the vocabulary: heldBack.options).
//
// What is said of it differs: vLLM's V1 engine returns log-probs of the
// raw logits, taken before any such mask (its sampler's raw_logprobs), so
// the token's log-prob, rank and top log-probs are those of the whole
// vocabulary; SGLang returns those of the logits it sampled from, the
// held tokens −∞, so the others' are renormalized over the tokens kept
// and the top log-probs are of those.

// heldBack is what a request keeps from being the generated token.
type heldBack struct {
	ids     []int32 // these may not be it
	allowed []int32 // only these may be it; nil: any
}

// none reports whether h holds nothing back.
func (h heldBack) none() bool { return len(h.ids) == 0 && h.allowed == nil }

// held is whether h keeps a token from being the generated token, as a
// func of the token's id.
func (h heldBack) held() func(id int32) bool {
	ids := map[int32]bool{}
	for _, id := range h.ids {
		ids[id] = true
	}
	var allowed map[int32]bool
	if h.allowed != nil {
		allowed = map[int32]bool{}
		for _, id := range h.allowed {
			allowed[id] = true
		}
	}
	return func(id int32) bool { return ids[id] || allowed != nil && !allowed[id] }
}

// all reports whether h holds back every token of a vocabulary of vocab.
func (h heldBack) all(vocab int) bool {
	if h.allowed != nil {
		return !slices.ContainsFunc(h.allowed, func(id int32) bool { return !slices.Contains(h.ids, id) })
	}
	n := 0
	for _, id := range h.ids {
		if id >= 0 && int(id) < vocab {
			n++
		}
	}
	return n >= vocab
}

// add is h holding ids back too, each once.
func (h heldBack) add(ids ...int32) heldBack {
	for _, id := range ids {
		if !slices.Contains(h.ids, id) {
			h.ids = append(h.ids, id)
		}
	}
	return h
}

// options are opts asking what h needs of the generated token: the whole
// vocabulary's log-probs after the last position, most likely first.
func (h heldBack) options(opts rlt.PromptOptions, vocab int) rlt.PromptOptions {
	if !h.none() && opts.Next {
		opts.NextTopK = vocab
	}
	return opts
}

// errAllHeld is the error of a request that holds back every token.
var errAllHeld = errors.New("every token of the vocabulary is held back from the generated token: hold back fewer")

// apply makes sc, scores asked with h.options, say the generated token as
// the server does with h's tokens held back, with its top log-probs cut
// to top: renormalized over the tokens kept as SGLang's are, or the
// vocabulary's as vLLM's (the rank counted as vLLM counts it, on the
// log-probs: how many are at least the token's).
func (h heldBack) apply(sc *rlt.PromptScores, top int, renormalize bool) error {
	if h.none() {
		return nil
	}
	held := h.held()
	ids, lps := sc.NextTopIDs, sc.NextTopLogProbs
	at := slices.IndexFunc(ids, func(id int32) bool { return !held(id) })
	if at < 0 {
		return errAllHeld
	}
	if !renormalize {
		sc.Next, sc.NextLogProb = ids[at], lps[at]
		sc.NextRank = at + 1
		for _, lp := range lps[at+1:] {
			if lp < lps[at] {
				break
			}
			sc.NextRank++
		}
		sc.NextTopIDs, sc.NextTopLogProbs = ids[:top:top], lps[:top:top]
		return nil
	}
	var keptIDs []int32
	var kept []float32
	for i, id := range ids {
		if !held(id) {
			keptIDs, kept = append(keptIDs, id), append(kept, lps[i])
		}
	}
	// log Σ exp over the tokens kept, most likely first, shifted by the
	// largest.
	sum := 0.0
	for _, lp := range kept {
		sum += math.Exp(float64(lp) - float64(kept[0]))
	}
	norm := float64(kept[0]) + math.Log(sum)
	renorm := func(lp float32) float32 { return float32(float64(lp) - norm) }
	sc.Next, sc.NextLogProb, sc.NextRank = keptIDs[0], renorm(kept[0]), 1
	top = min(top, len(kept))
	sc.NextTopIDs, sc.NextTopLogProbs = keptIDs[:top:top], make([]float32, top)
	for i := range top {
		sc.NextTopLogProbs[i] = renorm(kept[i])
	}
	return nil
}

// badWordTokens are the tokens vLLM's bad_words keep from being a first
// generated token: SamplingParams.update_from_tokenizer encodes each word,
// its leading spaces stripped, alone and after a space (the second only
// where it makes another first token and as many tokens), and the sampler
// holds back the last token of each encoding whose tokens before it were
// the last ones generated: for the first token, those of one token. A
// word that is empty, or encodes to no token, is refused in vLLM's words.
func badWordTokens(tok Tokenizer, words []string) ([]int32, error) {
	if slices.Contains(words, "") {
		list, _ := json.Marshal(words)
		return nil, &badRequest{"bad_words", fmt.Sprintf("bad_words cannot contain an empty string. Got bad_words=%s", list)}
	}
	var held []int32
	for _, word := range words {
		word = strings.TrimLeftFunc(word, unicode.IsSpace) // Python's lstrip()
		alone := tok.Encode(word)
		if len(alone) == 0 {
			return nil, &badRequest{"bad_words", "bad_words entries must tokenize to at least one token."}
		}
		spaced := tok.Encode(" " + word)
		if len(alone) == 1 {
			held = append(held, alone[0])
			if len(spaced) == 1 && spaced[0] != alone[0] {
				held = append(held, spaced[0])
			}
		}
	}
	return held, nil
}
