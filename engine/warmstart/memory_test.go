package warmstart

import (
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/memory"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/task"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
)

// The memory rlt pretrain's check estimates for a model's training (as
// checkPretrainMemory asks memory.Models: --batch sequences of the
// model's positions in one forward and backward) is above what the
// recipe's SFT steps hold, and not twice it: the tape's arenas
// (activations and gradients, which follow the shapes alone, not the
// garbage collector) with the weights, gradients and AdamW moments. The
// estimate counted as much again as every layer's activations for their
// gradients, which the tape gives back a layer at a time: 2.4× what it
// held (rlt pretrain: 880 MiB estimated, 455 MiB peak RSS).
func TestPretrainEstimateCoversItsSteps(t *testing.T) {
	r := DefaultRecipe()
	const batch, steps = 16, 2
	tk, _ := task.Lookup(r.Task)
	tokJSON, err := tokenizer.ByteLevelJSON(AddedTokens)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.Parse(tokJSON)
	if err != nil {
		t.Fatal(err)
	}
	corpus, err := task.WarmStart(tk, r.Seed*2+1, steps*batch, r.TeacherStyles)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.NewRandom(compute.NewCPU(), r.Teacher, 3)
	if err != nil {
		t.Fatal(err)
	}
	sft, err := NewSFT(m, compute.CosineLR{Peak: r.LR, Min: r.MinLR, Warmup: r.Warmup, Total: steps}, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	sft.MicroBatchTokens = 0 // the recipe's: each batch in one forward
	for step := range steps {
		seqs := make([]Sequence, batch)
		for i := range seqs {
			tr := corpus[step*batch+i]
			seqs[i] = TeacherSequence(tok, ShortPrompts(), tr.Question, tr.Solution, tr.Explanation)
		}
		if _, _, err := sft.Step(seqs); err != nil {
			t.Fatal(err)
		}
	}
	held := sft.tape.HeldBytes() + 4*4*int64(r.Teacher.NumParams())
	u := memory.Use{Name: "teacher", Cfg: r.Teacher, Held: compute.F32, TrainT: r.Teacher.MaxPos,
		TrainRows: memory.Positions(batch, r.Teacher.MaxPos, 0, 0)}
	est := memory.Models{Uses: []memory.Use{u}}.Estimate().Total() - memory.Runtime - r.Teacher.RoPEBytes()
	t.Logf("estimated %.1f MiB for the teacher's training; its steps held %.1f MiB (%.2f×)", float64(est)/(1<<20), float64(held)/(1<<20), float64(est)/float64(held))
	if est < held || est > 2*held {
		t.Errorf("estimated %d bytes for the teacher's training, want between what its steps held (%d) and twice it", est, held)
	}
}
