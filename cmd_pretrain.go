package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"unsafe"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/memory"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/rlt"
	runpkg "github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/engine/size"
	"github.com/rlt-workbench/rlt/engine/task"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
	"github.com/rlt-workbench/rlt/engine/warmstart"
	"github.com/rlt-workbench/rlt/sessions"
)

const pretrainUsage = `
Usage: rlt pretrain --out DIR [--seed N] [--steps N] [--only teacher|student] [--resume] [flags]

Builds the warm-started teacher and student from scratch for a seed: a
byte-level tokenizer with the ChatML and RLT tags, two small Qwen2 models,
and supervised fine-tuning of the teacher on explanations in a mixture of
styles of different teaching value (loss from right after the explanation's
opening tag, the prefill's "\n\n" included) and of the student on clean
explanations in the student layout. Writes DIR/teacher and DIR/student as
Hugging Face folders. This recipe (seed 1, the defaults) is how the
embedded default models were made.

The same seed and flags give byte-identical model files run after run and
whatever the core count (GOMAXPROCS), with the same version of rlt on CPUs
that take the same kernels: amd64 with AVX-512; amd64 with AVX2 but not
AVX-512; any other CPU has its own. Between those the sums run in another
order: the weights differ in their last bits after one step, and 900 steps
grow that into other weights altogether, not always as good (held-out loss
in the runs measured: the teacher's 0.12 to 0.18, the student's 0.010 to
0.043). The embedded models were made on an AVX-512 CPU by the version
of f3de2e1, whose row maximum there (attention's softmax) lost some
lanes' values, since fixed: attention now rounds otherwise on such CPUs,
and this version no longer gives their bytes (docs/commands.md).

The teacher is trained and written first, then the student, each from a
seed of its own (neither learns from the other). Stopped as the teacher is
saved or while the student trains, it keeps DIR/teacher: the same command
with --resume keeps it and trains the student alone, the student an
uninterrupted run makes. --only trains the one model named and keeps
the other DIR holds, if any (with --resume, it trains none where DIR
holds that one).

Then it checks the teacher as rlt eval --teacher DIR/teacher --student
DIR/student --questions 200 counts (seconds): the rate of the teacher's
greedy explanations of 200 held-out questions whose steps the task
verifies, the student answering from them. The teacher is a draw, and
its loss does not show it: at 8efb456, seed 1 made one that verifies
54.5 %, and with --steps 1800 one of 99.5 % (docs/commands.md dates
each figure). Under 90 % (the bar the embedded default passes) it says
so: train another teacher, with another --seed or more --steps.

Examples:
  rlt pretrain --out /tmp/defaults --seed 1
  rlt pretrain --out /tmp/other --seed 2 --steps 1800
`

func runPretrain(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	r := warmstart.DefaultRecipe()
	fs := newFlags("rlt pretrain", pretrainUsage, stdout, stderr)
	out := fs.String("out", "", "folder to write teacher/ and student/ into (required)")
	fs.Uint64Var(&r.Seed, "seed", r.Seed, "random seed")
	fs.IntVar(&r.Steps, "steps", r.Steps, "optimiser steps per model")
	fs.IntVar(&r.Batch, "batch", r.Batch, "sequences per step")
	fs.Float64Var(&r.LR, "lr", r.LR, "peak learning rate (cosine to a tenth of it)")
	fs.StringVar(&r.Task, "task", r.Task, "task of the warm-start corpus: addition or linear")
	only := fs.String("only", "", "train this model alone, teacher or student, keeping the other DIR holds")
	resume := fs.Bool("resume", false, "keep the models DIR holds whole (a stopped pretrain's teacher) and train the others; give the flags that made them")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "out"); err != nil {
		return err
	}
	if err := checkArgs(fs, 0, ""); err != nil {
		return err
	}
	if err := checkCounts(fs, atLeast{"steps", r.Steps, 1}, atLeast{"batch", r.Batch, 1}); err != nil {
		return err
	}
	if !runconfig.RateTrains(r.LR) { // 1e300 is +Inf in the optimiser's float32, 0 (and 1e-50) trains nothing
		return badValue(fs, "--lr %g: %s", r.LR, runconfig.RateWanted)
	}
	// The schedule ends at a tenth of the peak, as the recipe's does; the
	// recipe's own pair (3e-3, 3e-4) is kept as written, whose bits a
	// division would change (0.003/10 is not 3e-4), and with them the
	// models a seed gives.
	if r.LR != warmstart.DefaultRecipe().LR {
		r.MinLR = r.LR / 10
	}
	if *only != "" && !slices.Contains(warmstart.Models, *only) {
		return badValue(fs, "--only %q: want one of %s", *only, strings.Join(warmstart.Models, ", "))
	}
	t, err := lookupTask(fs, r.Task)
	if err != nil {
		return err
	}
	// The models to train: both, --only's, and with --resume those of
	// them DIR lacks. Those not trained are kept where DIR holds them.
	var todo, kept []string
	for _, name := range warmstart.Models {
		has := modelFile(filepath.Join(*out, name)) != ""
		if (*only != "" && name != *only) || (*resume && has) {
			if has {
				kept = append(kept, name)
			}
			continue
		}
		todo = append(todo, name)
	}
	if len(todo) == 0 {
		if len(kept) == 1 {
			fmt.Fprintf(stdout, "%s is there already: nothing to train\n", filepath.Join(*out, kept[0]))
			return nil
		}
		fmt.Fprintf(stdout, "%s/teacher and %s/student are there already: nothing to train\n", *out, *out)
		return nil
	}
	// A model at the top (".") would mix with teacher/ and student/.
	if err := refuseOverwrite("out", *out, nil, append([]string{"."}, todo...)); err != nil {
		return err
	}
	// Both models there once todo is trained: the teacher check runs
	// after (checkTeacher), and its memory is weighed with the training's.
	var check func(questions int) memory.Models
	if len(todo)+len(kept) == len(warmstart.Models) {
		if check, err = teacherCheckModels(fs, t, r, *out, kept); err != nil {
			return err
		}
	}
	if err := checkPretrainMemory(fs, t, r, *out, todo, check); err != nil {
		return err
	}
	for _, name := range kept {
		fmt.Fprintf(stderr, "keeping %s, trained before\n", filepath.Join(*out, name))
	}
	// A signal (stopSignals: a closed terminal's SIGHUP too) is held for
	// the whole run: one that comes as a model is saved lets the save end
	// whole (BuildModel stages it and renames it into place) and stops
	// the run there, said at once (saveWatch: BuildModel saves once its
	// last step's progress is said).
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	defer stop()
	for i, name := range todo {
		var saving *saveWatch
		err := warmstart.BuildModel(ctx, r, name, *out, func(p warmstart.Progress) {
			fmt.Fprintf(stderr, "%s step %d/%d  loss %.4f  %.0fs\n", p.Model, p.Step, p.Steps, p.Loss, p.Elapsed.Seconds())
			if p.Step == p.Steps {
				saving = watchSave(ctx, stderr, filepath.Join(*out, name))
			}
		})
		if saving != nil {
			saving.end()
		}
		if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return pretrainStopped(fs, *out, "training the "+name, name)
		}
		if err != nil {
			return err
		}
		// The model trained is let go before the next trains, as the
		// memory estimate counts them (checkPretrainMemory: one at a
		// time): collected now, its weights, moments and arenas are the
		// next one's to reuse. Left to the collector, whose goal was 20%
		// over the teacher's live heap, the student's arenas were made
		// beside them: --steps 10 --batch 128 peaked at 2.10 GiB RSS, the
		// teacher alone at 1.76 GiB.
		if i+1 < len(todo) {
			runtime.GC()
		}
		// The signal came once this model had trained, as it was saved:
		// it is whole, and the next is not begun. (After the last, what
		// is left is the check, which checkStopped says how to run.)
		if ctx.Err() != nil && i+1 < len(todo) {
			return pretrainStopped(fs, *out, "saving the "+name, todo[i+1])
		}
	}
	switch {
	case len(kept) > 0:
		fmt.Fprintf(stdout, "wrote %s beside the %s kept\n", filepath.Join(*out, todo[0]), filepath.Join(*out, kept[0])) // one of two
	case len(todo) == 1:
		fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(*out, todo[0])) // --only, the other not there
	default:
		fmt.Fprintf(stdout, "wrote %s/teacher and %s/student\n", *out, *out)
	}
	if ctx.Err() != nil {
		return checkStopped(*out, t, "saving the "+todo[len(todo)-1])
	}
	err = checkTeacher(ctx, fs, t, *out, stderr)
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return checkStopped(*out, t, "checking the teacher")
	}
	if err != nil {
		return err
	}
	reportPoolAnomalies(stderr)
	return nil
}

// checkTeacher measures the teacher out holds with the student beside it
// as rlt eval --teacher out/teacher --student out/student --questions 200
// does on the CPU: runpkg.EvalQuestions of t's held-out split at
// runpkg.EvalSeed, each explained greedily within runpkg.EvalMaxNewTokens
// and answered by the student from the explanation, counted by
// runpkg.EvalTeacherResults, the one count. It says the rate of explanations whose steps verify, and warns
// when it is under warmstart.TeacherBar: the recipe's teacher is a draw
// whose loss does not tell a good one (at 8efb456 seed 1 made teachers
// that verify 54.5 % and 99.5 % at nearly the same loss), and one that misreads the
// question's digits is no teacher to start RL from. Without a student
// in out (--only teacher) it says how to check it with another.
func checkTeacher(ctx context.Context, fs *flag.FlagSet, t task.Task, out string, stderr io.Writer) error {
	tdir, sdir := filepath.Join(out, "teacher"), filepath.Join(out, "student")
	evalCmd := checkCommand(out, t)
	for _, dir := range []string{tdir, sdir} {
		if modelFile(dir) == "" {
			fmt.Fprintf(stderr, "the teacher is not checked: %s holds no model; %s checks it (another folder as --student or --teacher)\n", dir, evalCmd)
			return nil
		}
	}
	p, err := record.PromptsFor(tdir, sdir, record.Prompts{})
	if err != nil {
		return fmt.Errorf("check the teacher: %w", err)
	}
	folders, err := rlt.CheckPair(tdir, sdir)
	if err != nil {
		return fmt.Errorf("check the teacher: %w", err)
	}
	exs, err := taskQuestions(fs, t, task.HeldOut, runpkg.EvalSeed, runpkg.EvalQuestions)
	if err != nil {
		return fmt.Errorf("check the teacher: %w", err)
	}
	pair, err := folders.Load(ctx, compute.NewCPU(), p, model.Float32, model.Float32) // a stop: checkStopped
	if err != nil {
		return fmt.Errorf("check the teacher: %w", err)
	}
	fmt.Fprintf(stderr, "checking the teacher: it explains %d held-out questions, the student answers from its explanations\n", len(exs))
	_, vals, err := runpkg.EvalTeacherResults(ctx, pair, t, exs, runpkg.EvalMaxNewTokens)
	if err != nil {
		return fmt.Errorf("check the teacher: %w", err)
	}
	v := vals["verified_rate"]
	fmt.Fprintf(stderr, "teacher check: %.1f %% of its explanations verify, and from them the student answers %.1f %% right (as %s counts)\n",
		100*v, 100*vals["accuracy"], evalCmd)
	if v < warmstart.TeacherBar {
		fmt.Fprintf(stderr, "warning: the teacher is under the %.0f %% a default teacher must reach: %.1f %% of its explanations do not verify (a misread digit, a wrong or missing step). "+
			"A teacher is a draw of its seed, which its loss does not show: train another with another --seed or more --steps "+
			"(--only teacher keeps this student; move %s away first)\n",
			100*warmstart.TeacherBar, 100*(1-v), tdir)
	}
	return nil
}

// checkStopped says what a pretrain stopped by a signal once its models
// were written (while saving the last, or checking the teacher) leaves:
// the models, whole and unchecked, and the command that checks them.
func checkStopped(out string, t task.Task, while string) error {
	return fmt.Errorf("stopped by a signal while %s: %s holds the trained models, whole; the teacher was not checked; to check it, run %s",
		while, out, checkCommand(out, t))
}

// checkCommand is the rlt eval that counts what checkTeacher counts of
// the pair out holds (on the device rlt eval chooses: on a GPU the
// rounding, and so a rare greedy token, may differ).
func checkCommand(out string, t task.Task) string {
	return fmt.Sprintf(sessions.Program()+" eval --teacher %s --student %s --task %s --questions %d",
		sessions.ShellQuote(filepath.Join(out, "teacher")), sessions.ShellQuote(filepath.Join(out, "student")), t.Name(), runpkg.EvalQuestions)
}

// pretrainStopped says what a pretrain stopped by a signal while (the
// phase it was in: "training the student", "saving the teacher") leaves
// in out, next the model it did not write: each model is written whole
// once it is trained, and not before, so out holds the models trained
// before next (the teacher, while the student trains or the teacher is
// saved) and nothing of next. Those are kept by the resume it says (this
// command with --resume), which trains the others alone: each model has
// a seed of its own, so they come out as an uninterrupted run makes them.
// Within a model nothing is kept (no optimiser state is written: a model
// of the recipe trains in minutes).
func pretrainStopped(fs *flag.FlagSet, out, while, next string) error {
	var kept []string
	for _, name := range warmstart.Models {
		if dir := filepath.Join(out, name); name != next && modelFile(dir) != "" {
			kept = append(kept, dir)
		}
	}
	if len(kept) == 0 {
		return fmt.Errorf("stopped by a signal while %s: nothing was written to %s; to start again, run the same command", while, out)
	}
	cmd := []string{sessions.Program(), "pretrain", "--out", sessions.ShellQuote(out)}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "seed", "steps", "batch", "lr", "task", "only":
			cmd = append(cmd, "--"+f.Name, sessions.ShellWord(f.Value.String()))
		}
	})
	cmd = append(cmd, "--resume")
	return fmt.Errorf("stopped by a signal while %s: %s holds the trained %s, whole; the %s was not written; to train the %s alone and keep it, run %s (or remove %s and run this command again)",
		while, strings.Join(kept, " and "), filepath.Base(kept[0]), next, next, strings.Join(cmd, " "), out)
}

// corpusExampleBytes is about what one example of the warm-start corpus
// holds in memory: its task.Trace and the strings it points to (an id,
// the question, solution, reference and explanation: about 200 bytes for
// the addition task's).
const corpusExampleBytes = int64(unsafe.Sizeof(task.Trace{})) + 256

// teacherCheckModels is what checkTeacher holds and samples, counted as
// rlt eval counts it (evalMemoryUses) for its questions (the check's are
// runpkg.EvalQuestions): the teacher and the student in float32
// on the CPU, each with its matrices packed for the sampler
// (memory.Models' float32 samplers), sampling the held-out questions'
// explanations and answers within runpkg.EvalMaxNewTokens after the
// longest prompts of the check's questions, measured as the
// recipe writes them (its byte-level tokenizer, warmstart.ShortPrompts).
// A model kept from before (kept, in out) is counted as its folder holds
// it; one to be trained, as the recipe shapes it.
func teacherCheckModels(fs *flag.FlagSet, t task.Task, r warmstart.Recipe, out string, kept []string) (func(questions int) memory.Models, error) {
	tokJSON, err := tokenizer.ByteLevelJSON(warmstart.AddedTokens)
	if err != nil {
		return nil, err
	}
	tok, err := tokenizer.Parse(tokJSON)
	if err != nil {
		return nil, err
	}
	exs, err := taskQuestions(fs, t, task.HeldOut, runpkg.EvalSeed, runpkg.EvalQuestions)
	if err != nil {
		return nil, err
	}
	teacherPrompt, studentPrompt := longestPrompts(promptLengths(tok, warmstart.ShortPrompts(), "teacher"), exs)
	use := func(name string, cfg model.Config) memory.Use {
		if slices.Contains(kept, name) {
			if u, _, err := heldAs(filepath.Join(out, name), model.Float32); err == nil {
				return u
			}
		}
		return memory.Use{Cfg: cfg, Held: compute.F32}
	}
	teacher, student := use("teacher", r.Teacher), use("student", r.Student)
	return func(questions int) memory.Models {
		t := teacher
		return evalMemoryUses(&t, student, questions, runpkg.EvalMaxNewTokens, teacherPrompt, studentPrompt)
	}, nil
}

// checkPretrainMemory refuses, before anything is trained or written, a
// pretrain that cannot fit in the host's memory (memory.Check)
// (pretrainEstimate), with fixes that fit it: for the training, a smaller
// --batch (the largest that fits, where one does) or fewer --steps; for the teacher check (check, nil where none
// runs), which neither changes, the models trained one at a time where
// no check runs and put together, and the check run after by rlt eval
// with as many questions as fit. It offered "--only teacher into a folder
// without a student" alone there: no student, and the --only student that
// would add one into the same folder runs the same check, refused again.
func checkPretrainMemory(fs *flag.FlagSet, t task.Task, r warmstart.Recipe, out string, todo []string, check func(questions int) memory.Models) error {
	var whole *memory.Models
	if check != nil {
		m := check(runpkg.EvalQuestions)
		whole = &m
	}
	e, checkLargest := pretrainEstimate(r, todo, whole)
	l, ok, err := memory.Available()
	if err != nil || !ok {
		return err
	}
	// The training first, where it does not fit: the check's fix trains
	// the same models, and the next refusal offers it.
	training, _ := pretrainEstimate(r, todo, nil)
	batch := fmt.Sprintf("a smaller --batch (now %s a step, in one forward and backward)", plural(r.Batch, "sequence"))
	// The largest --batch whose training (and corpus) fits, with the
	// check where it runs: the figure to give.
	fits := func(b int) (memory.Estimate, bool) {
		rb := r
		rb.Batch = b
		e, _ := pretrainEstimate(rb, todo, whole)
		return e, e.Total() <= l.Bytes
	}
	b := sort.Search(r.Batch-1, func(i int) bool { _, ok := fits(i + 2); return !ok }) + 1
	if e, ok := fits(b); ok && b < r.Batch {
		batch = fmt.Sprintf("a smaller --batch: --batch %d fits (about %s; now %s a step, in one forward and backward)", b, size.Bytes(e.Total()), plural(r.Batch, "sequence"))
	}
	fixes := []string{batch, fmt.Sprintf("fewer --steps (now %d): the corpus holds --steps × --batch examples", r.Steps)}
	if checkLargest && training.Total() <= l.Bytes {
		fixes = []string{checkApart(fs, t, out, todo, training, whole.Estimate(), check, l.Bytes)}
	}
	return memory.CheckAgainst("pretraining", e, l, fixes)
}

// checkApart is the fix for a pretrain whose teacher check (both models
// sampling runpkg.EvalQuestions questions; whole, its estimate) is what
// passes room: the models of todo trained where no check runs (the
// teacher alone into out, where out holds no student; a student, or a
// model out lacks beside one it holds, into a folder beside out, then
// moved in: the same model, each has a seed of its own), then the check
// made by rlt eval --device cpu with the most questions that fit room
// (the same count, a coarser rate), or left for a host with more memory
// where not even one fits.
func checkApart(fs *flag.FlagSet, t task.Task, out string, todo []string, training, whole memory.Estimate, check func(questions int) memory.Models, room int64) string {
	var flags []string
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "seed", "steps", "batch", "lr", "task":
			flags = append(flags, "--"+f.Name, sessions.ShellWord(f.Value.String()))
		}
	})
	var steps []string
	for _, name := range todo {
		into := out
		if name != "teacher" || len(todo) == 1 {
			into = filepath.Clean(out) + "-" + name
		}
		cmd := strings.Join(append([]string{sessions.Program(), "pretrain", "--out", sessions.ShellQuote(into), "--only", name}, flags...), " ")
		if into != out {
			cmd += "; mv " + sessions.ShellQuote(filepath.Join(into, name)) + " " + sessions.ShellQuote(out) + "/"
		}
		steps = append(steps, cmd)
	}
	fix := fmt.Sprintf("the models trained apart, where no check runs (about %s), and put together: %s", size.Bytes(training.Total()), strings.Join(steps, "; "))
	// The most questions whose check fits: fewer answered at once, the
	// estimate falls with them.
	n := sort.Search(runpkg.EvalQuestions, func(i int) bool { return check(i+1).Estimate().Total() > room })
	if n == 0 {
		return fix + fmt.Sprintf("; then check the teacher with %s on a host with more memory (%s)", checkCommand(out, t), size.Bytes(whole.Total()))
	}
	eval := fmt.Sprintf(sessions.Program()+" eval --teacher %s --student %s --task %s --device cpu --questions %d",
		sessions.ShellQuote(filepath.Join(out, "teacher")), sessions.ShellQuote(filepath.Join(out, "student")), t.Name(), n)
	return fix + fmt.Sprintf("; then check the teacher with %s (about %s: the check's %d questions need %s; fewer give a coarser rate)",
		eval, size.Bytes(check(n).Estimate().Total()), runpkg.EvalQuestions, size.Bytes(whole.Total()))
}

// pretrainEstimate is the most memory a pretrain holds at once, and
// whether that is at its teacher check (check, nil where none runs): each
// model of todo is trained in float32 with AdamW on --batch sequences in
// one forward and backward (the recipe's: no micro-batches), from a
// corpus of --steps × --batch examples made before its first step; then
// the check holds both models and samples with them (teacherCheckModels),
// on the CPU, where the sampler packs a copy of each model's matrices.
// Neither the corpus nor the batch was weighed: --batch 1000000000 ended
// in the Go runtime's "fatal error: out of memory" and a stack dump,
// asking for 115 TB of corpus at once, and --steps × --batch past int64
// in a makeslice panic. Nor was the check: it was said to sample nothing,
// and at a small --batch it holds the most: --steps 2 --batch 1 was
// estimated at 92.5 MiB and peaked at 268.8–287.7 MiB RSS (now 391.1
// MiB; 410.7 while each model's prefill was counted, where the two share
// one tape). The check runs its 200 questions at once (runpkg.EvalBatch
// is 256): most of the margin left is the smaller caches each sampler
// moves its sequences to as they stop (half the batch again), which a
// trained pair makes and a pair of 2 steps, whose sequences all run to
// the budget, does not. Counts past estimateCap are weighed at it, so
// that no size wraps around: a lower bound, far past any memory.
func pretrainEstimate(r warmstart.Recipe, todo []string, check *memory.Models) (memory.Estimate, bool) {
	const estimateCap = 1 << 30
	var e memory.Estimate
	for _, name := range todo {
		cfg := r.Teacher
		if name == "student" {
			cfg = r.Student
		}
		u := memory.Use{Name: name, Cfg: cfg, Held: compute.F32, TrainT: cfg.MaxPos,
			TrainRows: memory.Positions(min(r.Batch, estimateCap), cfg.MaxPos, 0, 0)}
		if part := (memory.Models{Uses: []memory.Use{u}}).Estimate(); part.Total() > e.Total() {
			e = part // one model at a time: the first is saved and let go before the next
		}
	}
	examples := int64(min(r.Steps, estimateCap)) * int64(min(r.Batch, estimateCap)) // < 2^60
	e.Parts = append(e.Parts, memory.Part{What: fmt.Sprintf("the warm-start corpus (%s × %s)", plural(r.Steps, "step"), plural(r.Batch, "sequence")),
		Bytes: min(examples, estimateCap*estimateCap/(2*corpusExampleBytes)) * corpusExampleBytes})
	// The check comes once the last model is saved and let go, its
	// corpus with it: the larger of the two.
	if check != nil {
		if c := check.Estimate(); c.Total() > e.Total() {
			return c, true
		}
	}
	return e, false
}
