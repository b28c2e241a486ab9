package rlt

import (
	"errors"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestPickNext: the generated token is the greedy token of the logits
// adjusted by the request's LogitBias (a bias added, −∞ and Only holding
// tokens back), and its log-prob, rank and top tokens are those of the raw
// row (vLLM's) or, Adjusted, of the adjusted one with the held tokens left
// out (SGLang's); each checked against a float64 computation of its own,
// at two temperatures. No bias is the plain greedy token.
func TestPickNext(t *testing.T) {
	// A row with a tie (ids 2 and 5) and a spread of values.
	z := []float32{0.5, -1, 3, 2.5, -7, 3, 1, 0, 2.9, -2}
	inf := float32(math.Inf(-1))
	for _, c := range []struct {
		name string
		bias *LogitBias
		want int32
	}{
		{"no bias: the first of the tied maxima", nil, 2},
		{"the maximum held back", (*LogitBias)(nil).Hold(2), 5},
		{"both maxima held back", (*LogitBias)(nil).Hold(2, 5), 8},
		{"a bias past the maximum", (*LogitBias)(nil).Bias(9, 5.5), 9},
		{"a bias short of it", (*LogitBias)(nil).Bias(9, 4.9), 2},
		{"a negative bias", (*LogitBias)(nil).Bias(2, -0.01), 5},
		{"a bias on a held token", (*LogitBias)(nil).Hold(3).Bias(3, 100), 2},
		{"only some", &LogitBias{Only: []int32{4, 6, 0}}, 6},
		{"only some, one held", (&LogitBias{Only: []int32{4, 6, 0}}).Hold(6), 0},
		{"only some, one biased", (&LogitBias{Only: []int32{4, 6, 0}}).Bias(4, 9), 4},
		{"only some, a bias outside them", (&LogitBias{Only: []int32{4, 6}}).Bias(2, 9), 6},
	} {
		for _, adjusted := range []bool{false, true} {
			for _, temp := range []float64{1, 0.7} {
				invT := float32(1 / temp)
				b := c.bias
				if b != nil {
					copyB := *b
					copyB.Adjusted = adjusted
					b = &copyB
				}
				var o PromptScores
				if err := pickNext(&o, z, invT, PromptOptions{Next: true, NextTopK: len(z), NextBias: b}, make([]float32, len(z))); err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				// The row the numbers are said of, by hand.
				row := make([]float64, len(z))
				for i, x := range z {
					row[i] = float64(x)
					if adjusted && b != nil {
						if b.Only != nil && !slices.Contains(b.Only, int32(i)) {
							row[i] = math.Inf(-1)
						}
						row[i] += float64(b.Add[int32(i)])
					}
				}
				m := math.Inf(-1)
				for _, x := range row {
					m = max(m, x)
				}
				sum := 0.0
				for _, x := range row {
					sum += math.Exp((x - m) * float64(invT))
				}
				lp := func(id int32) float64 { return (row[id]-m)*float64(invT) - math.Log(sum) }
				ids := []int32{}
				for i := range row {
					if !math.IsInf(row[i], -1) {
						ids = append(ids, int32(i))
					}
				}
				sort.SliceStable(ids, func(i, j int) bool { return row[ids[i]] > row[ids[j]] })
				rank := 0
				for _, x := range row {
					if x >= row[c.want] {
						rank++
					}
				}
				if o.Next != c.want || math.Abs(float64(o.NextLogProb)-lp(c.want)) > 1e-6 || o.NextRank != rank || !slices.Equal(o.NextTopIDs, ids) {
					t.Errorf("%s (adjusted %v, T %g): %d at %v rank %d, top %v; want %d at %v rank %d, top %v",
						c.name, adjusted, temp, o.Next, o.NextLogProb, o.NextRank, o.NextTopIDs, c.want, lp(c.want), rank, ids)
					continue
				}
				for i, id := range o.NextTopIDs {
					if math.Abs(float64(o.NextTopLogProbs[i])-lp(id)) > 1e-6 {
						t.Errorf("%s (adjusted %v, T %g): top %d's log-prob %v, want %v", c.name, adjusted, temp, id, o.NextTopLogProbs[i], lp(id))
					}
				}
			}
		}
	}
	// The adjustment leaves the row it was given as it was.
	if z[2] != 3 || z[9] != -2 || slices.Contains(z, inf) {
		t.Errorf("the row was changed: %v", z)
	}
}

// TestPickNextRefusesAllHeld: a bias that leaves no token, or names one
// outside the vocabulary, or is NaN or +∞, is refused before the model
// runs (check), and a row whose every token is held is said so, not
// answered with a token held back.
func TestPickNextRefusesAllHeld(t *testing.T) {
	nan, pinf := float32(math.NaN()), float32(math.Inf(1))
	for _, c := range []struct {
		name string
		bias *LogitBias
		want string // "" for ErrAllHeld
	}{
		{"every token held", (*LogitBias)(nil).Hold(0, 1, 2), ""},
		{"every token of Only held", (&LogitBias{Only: []int32{1, 2}}).Hold(2, 1), ""},
		{"Only empty", &LogitBias{Only: []int32{}}, ""},
		{"a token past the vocabulary", (*LogitBias)(nil).Bias(3, 1), "token 3 is outside the vocabulary of 3"},
		{"a negative token", (*LogitBias)(nil).Bias(-1, 1), "token -1 is outside the vocabulary of 3"},
		{"Only past the vocabulary", &LogitBias{Only: []int32{7}}, "token 7, the only ones pickable, is outside the vocabulary of 3"},
		{"a NaN bias", (*LogitBias)(nil).Bias(1, nan), "is not a number or −∞"},
		{"a +∞ bias", (*LogitBias)(nil).Bias(1, pinf), "is not a number or −∞"},
	} {
		err := c.bias.check(3)
		if c.want == "" && !errors.Is(err, ErrAllHeld) || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	if err := (*LogitBias)(nil).check(3); err != nil {
		t.Errorf("no bias: %v", err)
	}
	// A row already −∞ where the bias keeps tokens: nothing to pick.
	inf := float32(math.Inf(-1))
	var o PromptScores
	b := (*LogitBias)(nil).Hold(0)
	if err := pickNext(&o, []float32{1, inf, inf}, 1, PromptOptions{Next: true, NextBias: b}, make([]float32, 3)); !errors.Is(err, ErrAllHeld) {
		t.Errorf("a row left all −∞: %v, token %d", err, o.Next)
	}
}

// TestLogitBiasKey: two adjustments have one Key exactly when they adjust
// a row alike and say its numbers of the same row: Only's order and
// repeats, and the order biases were added in, do not count; a bias's
// bits, a bias of 0 against none, Only against none, and Adjusted do.
// Adjustments of one key pick the same token with the same numbers, bit
// for bit, from a row with a −0 and a tie in it.
func TestLogitBiasKey(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	for _, c := range []struct {
		name  string
		a, b  *LogitBias
		equal bool
	}{
		{"none and none", nil, nil, true},
		{"biases added in another order", (*LogitBias)(nil).Bias(3, 1.5).Hold(7).Bias(0, -2), (*LogitBias)(nil).Bias(0, -2).Bias(3, 1.5).Hold(7), true},
		{"a bias made of two", (*LogitBias)(nil).Bias(3, 1).Bias(3, 0.5), (*LogitBias)(nil).Bias(3, 1.5), true},
		{"Only in another order, a token twice", &LogitBias{Only: []int32{4, 1, 4, 6}}, &LogitBias{Only: []int32{6, 4, 1}}, true},
		{"none and an empty one", nil, &LogitBias{}, false},
		{"Only against none of it", &LogitBias{Only: []int32{0, 1, 2, 3, 4, 5, 6, 7}}, &LogitBias{}, false},
		{"Only empty against none", &LogitBias{Only: []int32{}}, &LogitBias{}, false},
		{"Only of other tokens", &LogitBias{Only: []int32{1, 2}}, &LogitBias{Only: []int32{1, 3}}, false},
		{"another bias", (*LogitBias)(nil).Bias(3, 1.5), (*LogitBias)(nil).Bias(3, 1.25), false},
		{"the bias on another token", (*LogitBias)(nil).Bias(3, 1.5), (*LogitBias)(nil).Bias(4, 1.5), false},
		{"a bias of 0 against none", (*LogitBias)(nil).Bias(3, 0).Bias(1, 2), (*LogitBias)(nil).Bias(1, 2), false},
		{"+0 against −0", &LogitBias{Add: map[int32]float32{3: 0}}, &LogitBias{Add: map[int32]float32{3: negZero}}, false},
		{"Adjusted against not", &LogitBias{Add: map[int32]float32{2: 1}, Adjusted: true}, &LogitBias{Add: map[int32]float32{2: 1}}, false},
	} {
		if got := c.a.Key() == c.b.Key(); got != c.equal {
			t.Errorf("%s: equal keys %v, want %v (%q, %q)", c.name, got, c.equal, c.a.Key(), c.b.Key())
		}
		if !c.equal {
			continue
		}
		z := []float32{0.5, negZero, 3, 2.5, -7, 3, 1, 0, 2.9, -2}
		var oa, ob PromptScores
		ea := pickNext(&oa, z, 0.7, PromptOptions{Next: true, NextTopK: len(z), NextBias: c.a}, make([]float32, len(z)))
		eb := pickNext(&ob, z, 0.7, PromptOptions{Next: true, NextTopK: len(z), NextBias: c.b}, make([]float32, len(z)))
		if ea != nil || eb != nil || oa.Next != ob.Next || math.Float32bits(oa.NextLogProb) != math.Float32bits(ob.NextLogProb) ||
			oa.NextRank != ob.NextRank || !slices.Equal(oa.NextTopIDs, ob.NextTopIDs) || !slices.Equal(oa.NextTopLogProbs, ob.NextTopLogProbs) {
			t.Errorf("%s: one key, other picks: %v %+v; %v %+v", c.name, ea, oa, eb, ob)
		}
	}
	// Key leaves the adjustment as it was.
	b := &LogitBias{Only: []int32{6, 4, 1}}
	b.Key()
	if !slices.Equal(b.Only, []int32{6, 4, 1}) {
		t.Errorf("Key changed Only: %v", b.Only)
	}
}
