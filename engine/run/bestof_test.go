package run

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/rlt"
)

// A question's samples, offered in the order sampled, keep the first with
// the highest reward among those the student can learn from (a number
// over a NaN), and the best of all only where none is learnable, with
// why the student cannot learn from it (a tag, else its length), by which
// its left-out row is counted.
func TestRankingKeepsTheBestLearnable(t *testing.T) {
	nan := math.NaN()
	type sample struct {
		reward    float64
		learnable bool
		tagged    bool // where not learnable: for a tag, else too long
	}
	for _, c := range []struct {
		name      string
		samples   []sample
		best      int
		learnable bool
		tagged    bool // the best's reason, where none is learnable
	}{
		{"the highest", []sample{{1, true, false}, {3, true, false}, {2, true, false}}, 1, true, false},
		{"ties: the first", []sample{{2, true, false}, {2, true, false}}, 0, true, false},
		{"the highest not learnable", []sample{{1, true, false}, {5, false, false}, {2, true, false}}, 2, true, false},
		{"only a later one learnable", []sample{{5, false, false}, {-7, true, false}}, 1, true, false},
		{"a number over a NaN", []sample{{nan, true, false}, {-1, true, false}}, 1, true, false},
		{"a NaN learnable over none", []sample{{4, false, false}, {nan, true, false}}, 1, true, false},
		{"none learnable: the best of all", []sample{{1, false, true}, {3, false, false}, {3, false, true}}, 1, false, false},
		{"none learnable: the best of all, tagged", []sample{{1, false, false}, {3, false, true}}, 1, false, true},
		{"all NaN: the first", []sample{{nan, true, false}, {nan, true, false}}, 0, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var k ranking
			for n, s := range c.samples {
				k.offer(n, s.reward, string(rune('a'+n)), !s.learnable && s.tagged, !s.learnable && !s.tagged, rlt.Past{})
			}
			best := k.best()
			if best.sample != c.best || best.body != string(rune('a'+c.best)) || k.learnable.ok != c.learnable || best.tagged != c.tagged {
				t.Errorf("kept sample %d (%q), learnable %v, tagged %v; want %d, learnable %v, tagged %v", best.sample, best.body, k.learnable.ok, best.tagged, c.best, c.learnable, c.tagged)
			}
		})
	}
}

// A sample cut to the scoring models' positions (Explanation.Uncut) is
// never kept, whatever its reward, and where none is learnable the best
// of all is counted by it: the cut one was kept as the student could
// learn from its part.
func TestRankingNeverKeepsACutSample(t *testing.T) {
	var k ranking
	k.offer(0, 1, "a", false, false, rlt.Past{})
	k.offer(1, 5, "b", false, false, rlt.Past{Student: true})
	if best := k.best(); best.sample != 0 || best.cut.Any() {
		t.Errorf("kept sample %d (cut %v), want 0: the learnable one", best.sample, best.cut)
	}
	var none ranking
	none.offer(0, 1, "a", false, true, rlt.Past{})
	none.offer(1, 5, "b", false, false, rlt.Past{Student: true})
	if best := none.best(); none.learnable.ok || best.sample != 1 || !best.cut.Student {
		t.Errorf("learnable %v, best %d (cut %v); want none learnable, 1 cut", none.learnable.ok, best.sample, best.cut)
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
