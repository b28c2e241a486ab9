package run

import (
	"math"
	"testing"
)

// A question's samples, offered in the order sampled, keep the first with
// the highest reward among those the student can learn from (a number
// over a NaN), and the best of all only where none is learnable.
func TestRankingKeepsTheBestLearnable(t *testing.T) {
	nan := math.NaN()
	type sample struct {
		reward    float64
		learnable bool
	}
	for _, c := range []struct {
		name      string
		samples   []sample
		best      int
		learnable bool
	}{
		{"the highest", []sample{{1, true}, {3, true}, {2, true}}, 1, true},
		{"ties: the first", []sample{{2, true}, {2, true}}, 0, true},
		{"the highest not learnable", []sample{{1, true}, {5, false}, {2, true}}, 2, true},
		{"only a later one learnable", []sample{{5, false}, {-7, true}}, 1, true},
		{"a number over a NaN", []sample{{nan, true}, {-1, true}}, 1, true},
		{"a NaN learnable over none", []sample{{4, false}, {nan, true}}, 1, true},
		{"none learnable: the best of all", []sample{{1, false}, {3, false}, {3, false}}, 1, false},
		{"all NaN: the first", []sample{{nan, true}, {nan, true}}, 0, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var k ranking
			for n, s := range c.samples {
				k.offer(n, s.reward, string(rune('a'+n)), s.learnable)
			}
			best := k.best()
			if best.sample != c.best || best.body != string(rune('a'+c.best)) || k.learnable.ok != c.learnable {
				t.Errorf("kept sample %d (%q), learnable %v; want %d, learnable %v", best.sample, best.body, k.learnable.ok, c.best, c.learnable)
			}
		})
	}
}
