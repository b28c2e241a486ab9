package run

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
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

// A BestOf without samples or without the student's positions is refused
// before any model is asked (BestOfBatch / N; no row learnable, none
// kept), where it divided by zero or kept nothing.
func TestWriteBestExplanationsRefusesAnEmptyBestOf(t *testing.T) {
	for _, b := range []BestOf{{N: 0, StudentPositions: 256}, {N: 2}} {
		if _, _, err := WriteBestExplanations(context.Background(), nil, nil, nil, record.Prompts{}, nil, b); err == nil ||
			!strings.Contains(err.Error(), "want each at least 1") {
			t.Errorf("BestOf{N: %d, StudentPositions: %d}: %v; want a refusal", b.N, b.StudentPositions, err)
		}
	}
}
