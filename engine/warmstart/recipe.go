package warmstart

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/durable"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/task"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
)

// AddedTokens are the special tokens of the byte-level vocabulary the
// default models use: ChatML's and RLT's tags, each one token.
var AddedTokens = []string{
	record.EndOfText, record.ImStart, record.ImEnd,
	record.BeginThought, record.EndThought, record.BeginSolution, record.EndSolution,
	record.BeginExplanation, record.EndExplanation,
}

// ShortPrompts are system prompts with the structure of RLT.md §2, short
// enough for a byte-level model with a few hundred positions.
func ShortPrompts() record.Prompts {
	return record.Prompts{
		TeacherSystem: "Teach: solution, then explanation.",
		StudentSystem: "Solve: thought, then solution.",
	}
}

// Recipe is everything that decides the warm-started teacher and student.
type Recipe struct {
	Seed    uint64       `toml:"seed"`
	Task    string       `toml:"task"`
	Teacher model.Config `toml:"-"`
	Student model.Config `toml:"-"`
	Steps   int          `toml:"steps"`
	Batch   int          `toml:"batch"`
	LR      float64      `toml:"lr"`
	MinLR   float64      `toml:"min_lr"`
	Warmup  int          `toml:"warmup"`
	// TeacherStyles weighs the explanation styles of the teacher's corpus:
	// a mixture of teaching value, so RL has room to improve the teacher.
	TeacherStyles map[string]float64 `toml:"teacher_styles"`
	// StudentStyles weighs the styles the student reads while learning to
	// solve; clean steps only makes other orders harder for it.
	StudentStyles map[string]float64 `toml:"student_styles"`
}

// TinyConfig is the shape of the default models: about 0.8M parameters,
// byte-level vocabulary (256 bytes + 9 tags, padded to 272 rows).
func TinyConfig() model.Config {
	return model.Config{Vocab: 272, Hidden: 128, Intermediate: 384, Layers: 4, Heads: 4, KVHeads: 2,
		RMSEps: 1e-6, RopeTheta: 1e4, MaxPos: 256, Tied: true, QKVBias: true}
}

// DefaultRecipe builds the embedded default.
func DefaultRecipe() Recipe {
	return Recipe{
		Seed: 1, Task: "addition", Teacher: TinyConfig(), Student: TinyConfig(),
		Steps: 900, Batch: 32, LR: 3e-3, MinLR: 3e-4, Warmup: 50,
		TeacherStyles: task.DefaultMixture(),
		StudentStyles: map[string]float64{task.StyleClean: 1},
	}
}

// TeacherBar is the least rate of a teacher's greedy explanations of rlt
// eval's 200 held-out questions whose steps verify, the student answering
// from them, that makes it a default teacher (engine/defaults'
// TestEmbeddedTeacherExplainsWell; the committed pair: 96.5 %). The
// recipe's teacher is a draw that its loss does not show (rlt pretrain
// checks it against this).
const TeacherBar = 0.9

// Progress is reported while a model trains.
type Progress struct {
	Model   string // "teacher" or "student"
	Step    int
	Steps   int
	Loss    float64
	Elapsed time.Duration
}

// Models are the models Build makes, in the order it trains them. Each
// learns from a corpus and a start of its own seed, never from the other,
// so BuildModel makes either alone with the bits Build gives it.
var Models = []string{"teacher", "student"}

// Build trains the teacher and the student of r from scratch and writes
// them as Hugging Face folders under out/teacher and out/student, each with
// the byte-level tokenizer.json.
func Build(ctx context.Context, r Recipe, out string, progress func(Progress)) error {
	for _, name := range Models {
		if err := BuildModel(ctx, r, name, out, progress); err != nil {
			return err
		}
	}
	return nil
}

// BuildModel trains the model name of r (one of Models) from scratch and
// writes it as a Hugging Face folder under out/name, as Build does: a
// pretrain stopped after its teacher makes its student alone.
func BuildModel(ctx context.Context, r Recipe, name, out string, progress func(Progress)) error {
	t, ok := task.Lookup(r.Task)
	if !ok {
		return fmt.Errorf("recipe: unknown task %q (known: %s)", r.Task, strings.Join(task.Names(), ", "))
	}
	tokJSON, err := tokenizer.ByteLevelJSON(AddedTokens)
	if err != nil {
		return err
	}
	tok, err := tokenizer.Parse(tokJSON)
	if err != nil {
		return err
	}
	prompts := ShortPrompts()
	for _, who := range []struct {
		name   string
		cfg    model.Config
		styles map[string]float64
		seed   uint64
		build  func(tr task.Trace) Sequence
	}{
		{"teacher", r.Teacher, r.TeacherStyles, r.Seed*2 + 1, func(tr task.Trace) Sequence {
			return TeacherSequence(tok, prompts, tr.Question, tr.Solution, tr.Explanation)
		}},
		{"student", r.Student, r.StudentStyles, r.Seed*2 + 2, func(tr task.Trace) Sequence {
			return StudentSequence(tok, prompts, tr.Question, tr.Explanation, tr.Solution)
		}},
	} {
		if who.name != name {
			continue
		}
		if tok.VocabSize() > who.cfg.Vocab {
			return fmt.Errorf("recipe: %s has %d embedding rows for %d tokens", who.name, who.cfg.Vocab, tok.VocabSize())
		}
		corpus, err := task.WarmStart(t, who.seed, r.Steps*r.Batch, who.styles)
		if err != nil {
			return err
		}
		m, err := model.NewRandom(compute.NewCPU(), who.cfg, who.seed)
		if err != nil {
			return err
		}
		sft, err := NewSFT(m, compute.CosineLR{Peak: r.LR, Min: r.MinLR, Warmup: r.Warmup, Total: r.Steps}, 1, 0)
		if err != nil {
			return err
		}
		// The recipe's models are its bits: each batch in one forward, as
		// they were always built (its batches are small).
		sft.MicroBatchTokens = 0
		start := time.Now()
		batch := make([]Sequence, r.Batch)
		for step := 0; step < r.Steps; step++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			for i := range batch {
				batch[i] = who.build(corpus[step*r.Batch+i])
			}
			loss, _, err := sft.Step(batch)
			if err != nil {
				return fmt.Errorf("%s: %w", who.name, err)
			}
			if progress != nil && (step%25 == 0 || step == r.Steps-1) {
				progress(Progress{Model: who.name, Step: step + 1, Steps: r.Steps, Loss: loss, Elapsed: time.Since(start)})
			}
		}
		// Whole or not at all: staged beside out/NAME and renamed into
		// place once every file is written and synced.
		err = durable.StageDir(filepath.Join(out, who.name), "nothing was written there", func(dir string) error {
			if err := m.Save(dir, hf.F32); err != nil {
				return err
			}
			if err := durable.WriteFile(filepath.Join(dir, hf.TokenizerFile), tokJSON, 0o644); err != nil {
				return fmt.Errorf("write tokenizer: %w", err)
			}
			return record.WritePrompts(dir, ShortPrompts())
		})
		if err != nil {
			return err
		}
		return nil
	}
	return fmt.Errorf("recipe: no model %q (known: %s)", name, strings.Join(Models, ", "))
}
