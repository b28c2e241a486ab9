package rlt

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/model"
)

// TestPromptLogProbsBatch: each sequence of a batch gets the scores it
// gets alone, bit for bit, however the batch is split into forwards and
// its logits into chunks; a sequence the batch refuses is named by its
// index, and one past the model's positions is said as every refusal past
// them (model.PositionsError).
func TestPromptLogProbsBatch(t *testing.T) {
	ms := NewModelSource(tinyPolicy(t, 3), "tiny")
	seqs := [][]int32{{1, 2, 3, 4, 5, 6, 7}, {9}, {4, 4, 8, 15, 16, 23 % 23, 42 % 23, 3, 2, 1, 0, 5, 7}, {11, 12}, {6, 5, 4, 3, 2, 1, 0}}
	opts := PromptOptions{Next: true, Ranks: true, TopK: 4, NextTopK: 3}
	for _, c := range []struct{ mbTokens, chunkRows int }{{0, 0}, {8192, 0}, {14, 5}, {1, 1}} {
		ms.MicroBatchTokens, ms.RankChunkRows = c.mbTokens, c.chunkRows
		got, err := ms.PromptLogProbsBatch(seqs, 0.7, opts)
		if err != nil {
			t.Fatal(err)
		}
		for i, q := range seqs {
			alone, err := ms.PromptLogProbs(q, 0.7, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got[i], alone) {
				t.Errorf("micro-batch tokens %d, chunk rows %d: sequence %d\nin the batch %+v\nalone        %+v", c.mbTokens, c.chunkRows, i, got[i], alone)
			}
		}
	}
	for _, c := range []struct {
		seqs [][]int32
		opts PromptOptions
		want string
	}{
		{[][]int32{{1, 2}, {}}, opts, "tiny: prompt 1: empty prompt"},
		{[][]int32{{1, 2}, {3}, {4, 23}}, opts, "tiny: prompt 2: token 23 at position 1 is outside the vocabulary of 23"},
		{[][]int32{{4, 23}}, opts, "tiny: token 23 at position 1 is outside the vocabulary of 23"},
		{[][]int32{{1, 2}, make([]int32, 33)}, opts, "the model tiny: prompt 1 takes 33 tokens, 1 more than its 32 positions (max_position_embeddings): give prompts of at most 32 tokens"},
		{[][]int32{make([]int32, 40)}, opts, "the model tiny: the prompt takes 40 tokens, 8 more than its 32 positions (max_position_embeddings): give prompts of at most 32 tokens"},
		{[][]int32{{1, 2}}, PromptOptions{TopK: -1}, "top-k -1, 0 must not be negative"},
	} {
		_, err := ms.PromptLogProbsBatch(c.seqs, 1, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.seqs, err, c.want)
		}
	}
}

// headPasses counts, on the CPU backend it wraps, the LM head's passes:
// fused ones (HeadLogProbs) and the rows of logits made by Linear with
// the head's table.
type headPasses struct {
	compute.Backend
	head        *compute.Tensor
	fused, rows int
}

func (c *headPasses) HeadLogProbs(lp, lse, ent, h, w *compute.Tensor, vocab int, targets []int32, invTemp float32) {
	c.fused++
	c.Backend.HeadLogProbs(lp, lse, ent, h, w, vocab, targets, invTemp)
}

func (c *headPasses) Linear(y, x, w, bias *compute.Tensor) {
	if w == c.head {
		c.rows += x.Shape()[0]
	}
	c.Backend.Linear(y, x, w, bias)
}

// TestPromptRanksOnePass: asked for ranks or top-k, whose logits come to
// the host, the log-probs are taken from those same logits, one pass of
// the LM head over the rows, not a fused pass and then a second; and they
// are the fused head's bits (its rows each in one block of the
// vocabulary), at every temperature, in a batch as alone.
func TestPromptRanksOnePass(t *testing.T) {
	be := &headPasses{Backend: compute.NewCPU()}
	cfg := model.Config{Vocab: 23, Hidden: 16, Intermediate: 24, Layers: 1, Heads: 2, KVHeads: 1,
		RMSEps: 1e-6, RopeTheta: 1e4, MaxPos: 32, Tied: true, QKVBias: true}
	m, err := model.NewRandom(be, cfg, 9)
	if err != nil {
		t.Fatal(err)
	}
	m.InitRandom(9, 0.6)
	be.head = m.LMHead
	ms := NewModelSource(m, "tiny")
	ms.RankChunkRows = 4
	seqs := [][]int32{{1, 2, 3, 4, 5, 6, 7, 8, 9}, {9}, {22, 0, 11, 5}, {3, 3, 3, 3, 3, 3}}
	scored := 0 // rows with a prompt token to score
	for _, q := range seqs {
		scored += len(q) - 1
	}
	for _, temp := range []float64{1, 0.7, 1.6} {
		be.fused, be.rows = 0, 0
		fused, err := ms.PromptLogProbsBatch(seqs, temp, PromptOptions{})
		if err != nil || be.fused != 1 || be.rows != 0 {
			t.Fatalf("τ %g, log-probs alone: %v; %d fused passes and %d rows of logits, want 1 and 0", temp, err, be.fused, be.rows)
		}
		for _, opts := range []PromptOptions{{Ranks: true}, {TopK: 3}, {Ranks: true, TopK: 2, Next: true, NextTopK: 2}} {
			be.fused, be.rows = 0, 0
			got, err := ms.PromptLogProbsBatch(seqs, temp, opts)
			want := scored
			if opts.Next {
				want += len(seqs)
			}
			if err != nil || be.fused != 0 || be.rows != want {
				t.Fatalf("τ %g, %+v: %v; %d fused passes and %d rows of logits, want 0 and %d", temp, opts, err, be.fused, be.rows, want)
			}
			for i := range seqs {
				if !reflect.DeepEqual(got[i].LogProbs, fused[i].LogProbs) {
					t.Errorf("τ %g, %+v: sequence %d: log-probs %v, the fused head's %v", temp, opts, i, got[i].LogProbs, fused[i].LogProbs)
				}
				for p, top := range got[i].TopIDs {
					if j := slices.Index(top, seqs[i][p+1]); j >= 0 && got[i].TopLogProbs[p][j] != got[i].LogProbs[p] {
						t.Errorf("τ %g, %+v: sequence %d position %d: the token's top-k log-prob %v, its own %v", temp, opts, i, p+1, got[i].TopLogProbs[p][j], got[i].LogProbs[p])
					}
				}
			}
		}
	}
}
