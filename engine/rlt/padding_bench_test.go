package rlt

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/cputime"
	"github.com/rlt-workbench/rlt/engine/defaults"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/engine/sample"
	"github.com/rlt-workbench/rlt/engine/task"
)

// BenchmarkStepPadding measures how much of a GRPO step's model work is
// padding on the embedded default run (its models, the addition task,
// runconfig.DefaultGRPO: 8 questions × 8 samples, up to 96 new tokens),
// over the explanations the teacher samples for its first four steps'
// questions: the positions each phase's forwards compute (counted at the
// embedding lookup, forwards) against its sequences' own tokens. It
// reports each phase's padded share, in per cent of the positions it
// computes (sampling: the prefill and one position per slot and decode
// step; scoring: the teacher's and the student's forwards; policy: the
// policy's forward and the reference's, the backward following the
// policy's), then times the scoring of the four steps' explanations
// (cpu-ms/op: the process's CPU time, which the machine's load moves
// less than the wall time).
func BenchmarkStepPadding(b *testing.B) {
	dir, err := defaults.Dir()
	if err != nil {
		b.Fatal(err)
	}
	tdir, sdir := filepath.Join(dir, defaults.Teacher), filepath.Join(dir, defaults.Student)
	prompts, _, err := record.ReadPrompts(tdir)
	if err != nil {
		b.Fatal(err)
	}
	be := &forwards{Backend: compute.NewCPU()}
	pair, err := LoadPair(be, tdir, sdir, prompts)
	if err != nil {
		b.Fatal(err)
	}
	cfg, reward := runconfig.DefaultGRPO(), record.DefaultRewardConfig()
	s, err := NewScorer(pair, reward)
	if err != nil {
		b.Fatal(err)
	}
	ref, err := model.NewAs(be, pair.Teacher.Cfg, compute.F32)
	if err != nil {
		b.Fatal(err)
	}
	if err := ref.CopyFrom(pair.Teacher); err != nil {
		b.Fatal(err)
	}
	if err := pair.Teacher.RequireGrad(); err != nil {
		b.Fatal(err)
	}
	tape, refTape := compute.NewTape(be), noGrad(be)
	computed := func() (n int) {
		for _, p := range be.positions {
			n += p
		}
		be.positions = be.positions[:0]
		return n
	}
	var steps [][]Item
	var real, padded [3]int // sampling, scoring, policy
	for step := range 4 {
		sampler := task.NewSampler(task.DefaultAddition(), task.Train, uint64(step)+1)
		var exs []Example
		for _, ex := range sampler.Take(cfg.Questions) {
			exs = append(exs, Example{Question: ex.Question, Solution: ex.Solution})
		}
		budget, err := pair.ExplainBudget(exs, cfg.MaxNewTokens)
		if err != nil {
			b.Fatal(err)
		}
		computed()
		gens, err := pair.Explain(sample.NewGenerator(pair.Teacher), tape, budget, cfg.Samples,
			ExplainOptions{Temperature: cfg.Temperature, TopP: cfg.TopP, Seed: uint64(step)})
		if err != nil {
			b.Fatal(err)
		}
		padded[0] += computed()
		items := make([]Item, len(gens))
		rolls := make([]Rollout, len(gens))
		for i, g := range gens {
			items[i] = g.Item()
			// The prompt, then every sampled token but the last, fed back.
			real[0] += len(g.Prompt) + len(g.IDs) - 1
			tl, sl := s.SequenceLengths(items[i])
			real[1] += tl + sl
			real[2] += 2 * (len(g.Prompt) + len(g.IDs))
			rolls[i] = Rollout{Prompt: g.Prompt, Completion: g.IDs, Advantage: float64(i%3) - 1}
		}
		steps = append(steps, items)
		if _, err := s.Score(context.Background(), items); err != nil {
			b.Fatal(err)
		}
		padded[1] += computed()
		compute.ZeroGrad(be, pair.Teacher.Tensors())
		if _, err := PolicyGradient(tape, refTape, pair.Teacher, ref, rolls, PolicyConfig{Beta: cfg.Beta, Temperature: cfg.Temperature,
			MicroBatch: cfg.MicroBatch, MicroBatchTokens: cfg.MicroBatchTokens}); err != nil {
			b.Fatal(err)
		}
		padded[2] += computed()
	}
	b.ResetTimer()
	cpu0 := cputime.Process()
	for range b.N {
		for _, items := range steps {
			if _, err := s.Score(context.Background(), items); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(cputime.Process()-cpu0)/1e6/float64(b.N), "cpu-ms/op")
	// After the timing: ResetTimer drops the metrics reported before it.
	for k, phase := range []string{"sampling", "scoring", "policy"} {
		b.ReportMetric(100*float64(padded[k]-real[k])/float64(padded[k]), phase+"-padded-%")
	}
}
