package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/durable"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/jsonerr"
	"github.com/rlt-workbench/rlt/engine/memory"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/rlt"
	runpkg "github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/engine/sample"
	"github.com/rlt-workbench/rlt/engine/task"
	"github.com/rlt-workbench/rlt/engine/warmstart"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/sessions/runner"
)

const distillUsage = `
Usage: rlt distill --teacher DIR --out DIR [flags]
       rlt distill --teacher DIR --data FILE --out DIR [flags]
       rlt distill --reference --tokenizer-from DIR --out DIR [flags]

The teacher writes one explanation for each of N train questions (raw, no
filtering: docs/engine.md, Distillation); the rows are saved as
Bespoke-Stratos JSON Lines (OUT/distill.jsonl) and a fresh student is
fine-tuned on them in the student layout, then saved to OUT/student. The
fresh student is a random initialisation of the default tiny shape, with an
embedding row for each token of the teacher's tokenizer, or --student-init
DIR (which must have the teacher's tokenizer). With --reference the task's
own clean explanations are used instead of a teacher's (the reference
explanation generator), for comparison.

With --best-of N (N above 1) the teacher writes N explanations of each
question at --temperature, each is scored with the RLT reward (r = r_SS −
r_KL + m, as a training run and rlt score score it) against the frozen
student --reward-student DIR, and the highest-reward one is kept (ties: the
first sampled): the ranked variant (docs/engine.md, Distillation). The
reward's coefficients are the run configuration's defaults unless --c1,
--c2, --c3 (λ), --c4, --penalty or --estimator (logratio, k3 or full) says
otherwise (rlt score's flags), at the sampling temperature; stderr says the
reward so resolved before the ranking starts, then the mean reward of the
kept explanations and of all, and --samples-out FILE keeps every sample with
its reward and the reward's configuration, in lines rlt score reads. The
student's folder records the ranking in OUT/student/ranking.json: N, the
reward so resolved, the teacher and the reward's student, the task or data
file, the questions ranked, --max-new-tokens and --seed.

With --data FILE the questions and solutions come from your JSON Lines file
instead of a task's train split ({"question" (or "prompt"), "solution",
"reasoning_trace"} or Bespoke-Stratos {"conversations"} rows): every usable
row, in file order, or the first --questions of them when that flag is
given; --reference then uses each row's reasoning trace. Rows that cannot be
used (a missing field, an empty solution, a reserved tag, not JSON, too long
for the models; with --reference, a line of rlt distill --samples-out marked
"cut": true, its completion only the part that fit the models that scored
it) are skipped and reported with their line numbers. With --reference, the
lines of rlt distill --samples-out marked "kept": false, the samples its
ranking did not keep, are left out too, said once with their count, and
so is a question's kept sample after its first (a file of two rankings
joined): it distills the kept ones, each question's explanation once. Without
--reference, a row asking an earlier row's question with its solution is
left out, said once with their count: the teacher explains each question
once (such a file holds each question once per sample).

Examples:
  rlt distill --teacher /tmp/trained --out /tmp/distilled --questions 2000 --steps 800
  rlt distill --teacher /tmp/trained --data questions.jsonl --out /tmp/distilled-data
  rlt distill --teacher /tmp/trained --best-of 4 --reward-student /tmp/defaults/student --out /tmp/distilled-best
`

func runDistill(args []string, stdin io.Reader, stdout, stderr io.Writer) (err error) {
	fs := newFlags("rlt distill", distillUsage, stdout, stderr)
	tdir := fs.String("teacher", "", "teacher model folder (required)")
	out := fs.String("out", "", "output folder (required)")
	init := fs.String("student-init", "", "start the student from this folder instead of a random initialisation")
	reference := fs.Bool("reference", false, "use the task's reference explanations instead of a teacher")
	tokFrom := fs.String("tokenizer-from", "", "with --reference: model folder whose tokenizer.json to use")
	taskName := fs.String("task", "addition", "task whose train split gives the questions")
	dataPath := fs.String("data", "", "JSON Lines file of questions and solutions to explain instead of --task's")
	n := fs.Int("questions", 2000, "questions to explain (with --data: the first N usable rows, all of them when not given)")
	temp := fs.Float64("temperature", 0.7, "teacher sampling temperature (0 = greedy); with --best-of above 1, the reward's log-probs are at it too (docs/engine.md, The reward)")
	maxNew := fs.Int("max-new-tokens", 128, "explanation budget")
	bestOfN := fs.Int("best-of", 1, "the teacher writes N explanations of each question and the one with the highest RLT reward is kept (1: its one explanation, raw)")
	rewardStudent := fs.String("reward-student", "", "with --best-of above 1: the frozen student model folder the reward is computed with (rlt score's --student)")
	samplesOut := fs.String("samples-out", "", "with --best-of above 1: write every sampled explanation with its reward to this JSON Lines file")
	rc := record.DefaultRewardConfig() // with --best-of above 1: the reward's, at --temperature
	rewardCoefficientFlags(fs, &rc)
	est := rewardEstimatorFlag(fs, rc.Estimator)
	dev := deviceFlag(fs, "the teacher and the student")
	c := runpkg.DistillConfig{Steps: 800, Batch: 32, MicroBatchTokens: runconfig.DefaultMicroBatchTokens, LR: 3e-3, MinLR: 3e-4, Seed: 1}
	fs.IntVar(&c.Steps, "steps", c.Steps, "student fine-tuning steps")
	fs.IntVar(&c.Batch, "batch", c.Batch, "rows per step")
	fs.IntVar(&c.MicroBatchTokens, "micro-batch-tokens", c.MicroBatchTokens, "each forward/backward holds at most this many padded positions (rows × longest row); 0 = the whole batch")
	fs.Float64Var(&c.LR, "lr", c.LR, "peak learning rate (cosine to a tenth)")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "random seed")
	teacherSys := fs.String("teacher-system", "", "teacher system prompt (default: the one the models record)")
	studentSys := fs.String("student-system", "", "student system prompt (default: the one the models record)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	set := flagsGiven(fs)
	// --reference takes the rows from the task, not a teacher: its model
	// folder, for the tokenizer alone, is --tokenizer-from. Each wrong mix
	// names the flag that is wrong or missing.
	switch {
	case *reference && set["teacher"]:
		return misuse(fs, "--teacher with --reference: the rows are the task's own explanations, not a teacher's; give the folder whose tokenizer.json to use as --tokenizer-from (--tokenizer-from %s?)", *tdir)
	case *reference && *tokFrom == "":
		return misuse(fs, "--reference needs --tokenizer-from: the model folder whose tokenizer.json the rows are tokenized with (e.g. the teacher you compare with)")
	case !*reference && set["tokenizer-from"]:
		return misuse(fs, "--tokenizer-from without --reference: the rows are --teacher's explanations, tokenized with its own tokenizer.json; add --reference for the task's own explanations, or leave --tokenizer-from out")
	}
	if *reference {
		*tdir = *tokFrom
	}
	if err := required(fs, "teacher", "out"); err != nil {
		return err
	}
	if err := checkArgs(fs, 0, ""); err != nil {
		return err
	}
	if err := checkDeviceFlags(fs); err != nil {
		return err
	}
	if err := checkCounts(fs, atLeast{"questions", *n, 1}, atLeast{"steps", c.Steps, 1}, atLeast{"batch", c.Batch, 1},
		atLeast{"micro-batch-tokens", c.MicroBatchTokens, 0}, atLeast{"max-new-tokens", *maxNew, 1}, atLeast{"best-of", *bestOfN, 1}); err != nil {
		return err
	}
	if !runconfig.RateTrains(c.LR) { // 1e300 is +Inf in the optimiser's float32, 0 (and 1e-50) trains nothing
		return badValue(fs, "--lr %g: %s", c.LR, runconfig.RateWanted)
	}
	// rlt generate's rule (the teacher samples as it does), on the float64
	// given: a finite value past 1e6 (1e39 too, said as +Inf) was taken
	// here and refused by the sampler only once the teacher had loaded.
	if err := sample.CheckTemperature(*temp); err != nil {
		return badValue(fs, "--%v", err)
	}
	rc.Estimator = record.Estimator(*est)
	if err := checkBestOf(fs, set, *bestOfN, *reference, *temp, rc, *rewardStudent, *samplesOut); err != nil {
		return err
	}
	if *dataPath != "" && set["task"] {
		return misuse(fs, "--data and --task are alternatives: the questions come from %s", *dataPath)
	}
	var t task.Task // nil with --data
	if *dataPath == "" {
		var err error
		if t, err = lookupTask(fs, *taskName); err != nil {
			return err
		}
	}
	if keptRowsOnly(*out) {
		rows := filepath.Join(*out, distillRows)
		return fmt.Errorf("--out %s: %s holds the rows of a distill that saved no student: run %s to train the student on them without explaining again, or remove %s and run this command again",
			*out, rows, learnFromKept(fs, *out, *tdir), rows)
	}
	if err := refuseOverwrite("out", *out, []string{distillRows}, []string{".", "student"}); err != nil {
		return err
	}
	c.MinLR = c.LR / 10
	p, err := record.PromptsFor(*tdir, *init, record.Prompts{TeacherSystem: *teacherSys, StudentSystem: *studentSys})
	if err != nil {
		return err
	}
	tdirFlag := "--teacher"
	if *reference {
		tdirFlag = "--tokenizer-from"
	}
	tok, err := loadTokenizer(filepath.Join(*tdir, "tokenizer.json"))
	if err != nil {
		return fmt.Errorf("%s %s: %w", tdirFlag, *tdir, err)
	}
	// The teacher explains in ChatML prompts and the student learns from
	// ChatML rows: a folder made for another format is refused before any
	// device opens. With --reference too: the new student takes the
	// tokenizer's tokenizer_config.json, and its chat template with it.
	who := "teacher"
	if *reference {
		who = "--tokenizer-from"
	}
	if err := rlt.CheckChatML(who, *tdir); err != nil {
		return err
	}
	// Each model's embedding has a row for every token of the rows, said
	// from config.json before any device opens (a tokenizer.json copied in
	// from another model).
	if !*reference {
		if err := rlt.CheckTokenizerRows("--teacher", *tdir, tok.VocabSize()); err != nil {
			return err
		}
	}
	// The student folders given are each checked as one to pair with the
	// teacher, or with --reference the --tokenizer-from folder, whose
	// tokenizer the rows are in (checkStudentFolder), their positions said.
	owner := "the teacher" // the folder whose tokenizer the rows are in, as a refusal names it
	if *reference {
		owner = "--tokenizer-from"
	}
	initPos := warmstart.TinyConfig().MaxPos // the distilled student's: the tiny shape's, or --student-init's
	if *init != "" {
		if initPos, err = checkStudentFolder("--student-init", *init, owner, *tdir, tok,
			fmt.Sprintf("the distilled rows are tokenized with %s's: give a student whose tokenizer.json is %s's, or leave --student-init out", owner, owner)); err != nil {
			return err
		}
	}
	rewardPos := 0 // --reward-student's positions (never with --reference: checkBestOf)
	if *rewardStudent != "" {
		if rewardPos, err = checkStudentFolder("--reward-student", *rewardStudent, owner, *tdir, tok,
			"the reward reads the teacher's explanations in its tokens: give a student whose tokenizer.json is the teacher's"); err != nil {
			return err
		}
	}
	// A disk without room for the student is said before the teacher
	// explains and the student trains: found by its save, the training
	// was lost.
	room := sessions.FullDiskError{What: "the student", Dir: *out, Need: studentFolderSize(*tdir, *init, tok.VocabSize()), Flag: "--out", Names: "folder"}
	if err := room.Check(); err != nil {
		return err
	}
	// The models' positions (max_position_embeddings), from their
	// config.json: the student's is the tiny shape's, or --student-init's.
	pos := rlt.Positions{Student: initPos}
	if !*reference {
		if pos.Teacher, err = maxPositions(*tdir, 0); err != nil {
			return err
		}
	}
	// The data file is read, or the task's questions drawn, before any
	// device opens (on a GPU, seconds of opening it), and so is what of
	// them fits the models: a file that gives no row that fits, a split
	// with fewer questions than asked, a prompt or a --max-new-tokens past
	// the teacher's positions are said before the models load. They were
	// said once the device had opened, in the same words.
	var data *task.File
	var exs []task.Example
	var notKept notKeptRows // with --reference, the rows marked "kept": false
	// Each question's prompts, tokenized once for the checks of their
	// room (taskFits) and of memory (longestPrompts) below.
	lengths := promptLengths(tok, p, *tdir)
	if *dataPath != "" {
		if data, err = task.ReadFile("--data", *dataPath); err != nil {
			return err
		}
	} else if exs, err = taskQuestions(fs, t, task.Train, c.Seed, *n); err != nil {
		return err
	}
	if data == nil && !*reference { // a data file's rows that do not fit are left out below
		// Each teacher prompt within the teacher's positions, and each
		// explanation within --max-new-tokens in them (rlt.Positions, the
		// rule rlt train keeps): sampling would cut it short at them
		// instead. Each question's row, its context and solution with an
		// explanation of --max-new-tokens, within the distilled
		// student's positions, the rule a data file's rows are left out
		// by (rewardFits): a question it cannot hold was found once the
		// teacher had explained every question, its rows left out.
		// With --best-of, each explanation is scored too: it fits the
		// reward's student, with the question's context and solution.
		students := []fitStudent{{positions: pos.Student, dir: *init, another: "--student-init"}}
		if *rewardStudent != "" {
			students = append(students, fitStudent{positions: rewardPos, dir: *rewardStudent, another: "--reward-student"})
		}
		if err := taskFits(pos.Teacher, *maxNew, t, exs, lengths, *tdir, students...); err != nil {
			return err
		}
	}
	if data != nil {
		// The rows the run can use, then the first --questions of them: a
		// row left out does not count against --questions.
		if *reference {
			// A --samples-out file's samples its ranking did not keep:
			// distilled, each question was learnt N times over, of
			// explanations the ranking rejected. Said once, not as a
			// skip of each line (N-1 of every N).
			rows := data.Report.Rows
			notKept = leaveOutNotKept(data)
			if notKept.lines.n > 0 && data.Report.Rows > 0 { // else said as there being no row
				fmt.Fprintf(stderr, "data %s: %s\n", data.Path, notKept)
			}
			data.Drop(func(ex task.Example) string {
				if ex.Cut {
					// Its trace is the part of a teacher's completion that
					// fit the models that scored it (rlt distill
					// --samples-out's "cut": true): distilled, the student
					// learnt a cut explanation as a whole one, the sample
					// rlt distill never keeps and rlt import leaves out.
					return record.CutRowReason() + "; --reference does not distill it"
				}
				if strings.TrimSpace(ex.Reference) == "" {
					return "no reasoning trace, which --reference needs"
				}
				if n := len(warmstart.StudentSequence(tok, p, ex.Question, ex.Reference, ex.Solution).Tokens); n > pos.Student {
					// Said as the other rows' reasons (runpkg.FitReason),
					// --student-init named by its folder (rewardFits).
					return fmt.Sprintf("too long for %s: its row takes %d tokens, %d more than %s", model.Name("student", *init), n, n-pos.Student, model.ItsPositions(pos.Student))
				}
				return ""
			})
			// Each question's kept sample once, as rlt import takes it,
			// after the rows' own skips: a kept row left out for its
			// fault leaves its question to the next.
			if rr := leaveOutKeptRepeated(data, rows); rr.lines.n > 0 {
				fmt.Fprintf(stderr, "data %s: %s\n", data.Path, rr)
			}
			exs = data.Examples
		} else {
			// Each question once, before the fit (one too long is said
			// once, not at each of its rows).
			if rr := leaveOutRepeated(data); rr.lines.n > 0 {
				fmt.Fprintf(stderr, "data %s: %s\n", data.Path, rr)
			}
			exs = data.Report.Drop(data.Examples, rewardFits(tok, p, *maxNew, pos, rewardPos, *init, *rewardStudent))
		}
		if set["questions"] && *n < len(exs) {
			exs = exs[:*n]
		}
		if w := runpkg.SkipWarning("data", data); w != "" {
			fmt.Fprintln(stderr, w)
		}
		if len(exs) == 0 {
			if notKept.lines.n > 0 && data.Report.Rows == 0 {
				return fmt.Errorf("data %s: no row to explain: %s", data.Path, notKept)
			}
			return fmt.Errorf("data %s: no row to explain (%s)", data.Path, data.Report.Summary(3))
		}
	}
	// The models and their work within the memory where they compute,
	// before the device opens or anything is written: a GPU too small
	// was found by the load, or by the student's training.
	var teacherPrompt, studentPrompt int // none sampled with --reference
	if !*reference {
		teacherPrompt, studentPrompt = longestPrompts(lengths, exs)
	}
	if err := checkDistillMemory(*dev, *tdir, *init, *rewardStudent, *reference, tok.VocabSize(), len(exs), *maxNew, *bestOfN, teacherPrompt, studentPrompt, c); err != nil {
		return err
	}
	// A signal stops the work in hand and says what it leaves: Ctrl-C,
	// SIGTERM, and a closed terminal's SIGHUP (stopSignals), which killed
	// the student's save midway, and the models' load (loadStopped).
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	defer stop()
	unit := "question" // the first work: the teacher explains, or the student learns
	if *reference {
		unit = "student step"
	}
	be, err := openDevice("rlt distill", *dev, stderr)
	if err != nil {
		return err
	}
	defer closeDevice(be, &err)
	var student *model.Model
	if *init != "" {
		student, err = model.LoadAs(ctx, be, *init, model.Float32)
		if err := loadStopped(ctx, err, "the student loaded", unit, "to start again, run the same command"); err != nil {
			return err
		}
	} else {
		// The default tiny shape, with an embedding row for every token
		// of the tokenizer the rows are written in (a Qwen teacher's
		// 151,669, the default's 272).
		cfg := warmstart.TinyConfig()
		cfg.Vocab = max(cfg.Vocab, tok.VocabSize())
		student, err = model.NewRandom(be, cfg, c.Seed+100)
	}
	if err != nil {
		return err
	}
	var teacher *model.Model
	if !*reference {
		teacher, err = model.LoadAs(ctx, be, *tdir, model.Float32)
		if err := loadStopped(ctx, err, "the teacher loaded", unit, "to start again, run the same command"); err != nil {
			return err
		}
		if err != nil {
			return fmt.Errorf("--teacher %s: %w", *tdir, err)
		}
	}
	// The rows the student can learn from (runpkg.Learnable), and the
	// explanations left out for a tag or their length, of all.
	rows := runpkg.ReferenceRows(exs)
	all, tagged, long, cut := len(exs), 0, 0, 0
	var cutPast rlt.Past        // the models whose positions cut some of the cut
	var ranking *record.Ranking // how the rows were chosen, where ranked: the student's folder records it
	if !*reference && *bestOfN > 1 {
		// The kept explanation of each question is one the student can
		// learn from wherever one is, by Learnable's rule: the ranking
		// leaves out and counts the others, its rows not tokenized again.
		b := runpkg.BestOf{N: *bestOfN, Temperature: *temp, MaxNewTokens: *maxNew, Seed: c.Seed, Reward: rc,
			MicroBatchTokens: c.MicroBatchTokens, StudentPositions: student.Cfg.MaxPos}
		var st runpkg.RankStats
		rows, st, err = distillBestOf(ctx, be, teacher, tok, p, exs, b, *rewardStudent, *samplesOut, *out, stderr)
		if err != nil {
			return err
		}
		tagged, long, cut = st.Tagged, st.Long, st.Cut
		cutPast = rlt.Past{Teacher: st.CutPastTeacher > 0, Student: st.CutPastStudent > 0}
		ranking = &record.Ranking{BestOf: b.N, Reward: b.ResolvedReward(), Teacher: absPath(*tdir), RewardStudent: absPath(*rewardStudent),
			Questions: len(exs), MaxNewTokens: b.MaxNewTokens, Seed: b.Seed}
		if data != nil {
			ranking.Data, ranking.DataSHA256 = absPath(data.Path), data.SHA256
		} else {
			ranking.Task = t.Name()
		}
	} else {
		if !*reference {
			fmt.Fprintf(stderr, "explaining %d questions...\n", len(exs))
			rows, err = runpkg.WriteExplanations(ctx, teacher, tok, p, exs, *temp, *maxNew, c.Seed, runpkg.BestOfBatch)
			if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
				return fmt.Errorf("stopped by a signal after the teacher explained %d of %d questions: nothing was written to %s; to start again, run the same command", len(rows), len(exs), *out)
			}
			if err != nil {
				return err
			}
		}
		rows, tagged, long = runpkg.Learnable(rows, tok, p, student.Cfg.MaxPos)
	}
	// A row too long for the student, in the words of every refusal past
	// a model's positions (model.Name, model.ItsPositions).
	tooLong := fmt.Sprintf("too long for %s, past %s", model.Name("student", *init), model.ItsPositions(student.Cfg.MaxPos))
	// With --best-of the counts are of questions, each left out by why
	// its highest-reward explanation cannot be learned from, of the
	// all × N explanations sampled: the words said "K of N explanations"
	// of the questions, where N times as many were written.
	ranked := !*reference && *bestOfN > 1
	// A sample the models that score it could not take whole (cut to
	// their positions), which the student could learn from whole: never
	// kept, where it was kept cut, unsaid (RankStats.Cut). Said by the
	// model whose positions cut it: a --reward-student of more positions
	// was offered where the teacher's had cut it, and changed nothing.
	cutShort := func(was string) string {
		var to []string
		do := "lower --max-new-tokens"
		if cutPast.Teacher {
			to = append(to, fmt.Sprintf("the teacher's %d positions", pos.Teacher))
		}
		if cutPast.Student {
			to = append(to, fmt.Sprintf("%s's %d positions", model.Name("reward's student", *rewardStudent), rewardPos))
			do += ", or give a --reward-student of more positions"
		}
		return fmt.Sprintf("%s cut short to fit the models that score it (past %s), though the student could learn from it whole: %s",
			was, strings.Join(to, " and "), do)
	}
	if len(rows) == 0 { // an empty distill.jsonl would only refuse the rerun's --out
		what := "teacher's " + plural(all, "explanation")
		of := ""
		switch {
		case *reference:
			what = plural(all, "reference explanation")
		case ranked:
			what = fmt.Sprintf("teacher's %d explanations (%d of each of %s)", all**bestOfN, *bestOfN, plural(all, "question"))
			of = "of each question's highest-reward one, "
		}
		cuts := ""
		if cut > 0 {
			cuts = fmt.Sprintf(", %d %s", cut, cutShort("were"))
		}
		return fmt.Errorf("none of the %s can be learned from: %s%d hold a ChatML or RLT tag, %d are %s%s; nothing was written to %s",
			what, of, tagged, long, tooLong, cuts, *out)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(*out, distillRows))
	if err != nil {
		return err
	}
	sw := record.NewStratosWriter(f, p.StudentSystem)
	for _, r := range rows {
		if err := sw.Write(r.Question, r.Explanation, r.Solution); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", f.Name(), err)
		}
	}
	// leftOut says k left out for why (said of an explanation, or with
	// --best-of of each question's highest-reward one).
	leftOut := func(k int, why, whyOne string) {
		if ranked {
			fmt.Fprintf(stderr, "left out %d of %d questions, none of whose %d explanations can be learned from: the highest-reward one of each %s\n", k, all, *bestOfN, whyOne)
		} else {
			fmt.Fprintf(stderr, "left out %d of %d explanations: %s\n", k, all, why)
		}
	}
	if tagged > 0 {
		leftOut(tagged, "they contain a ChatML or RLT tag", "contains a ChatML or RLT tag")
	}
	if long > 0 {
		leftOut(long, tooLong, "is "+tooLong)
	}
	if cut > 0 { // with --best-of alone
		leftOut(cut, "", cutShort("was"))
	}
	if err := f.Close(); err != nil {
		return err
	}
	// The rows are kept from here on: a full disk says how to learn from
	// them without explaining again.
	room.Left = fmt.Sprintf("%s keeps the %s", f.Name(), plural(len(rows), "row"))
	room.Again = fmt.Sprintf("run %s to train the student on those rows without explaining again (or remove %s and run this command again)", learnFromKept(fs, *out, *tdir), f.Name())
	if err := room.Check(); err != nil {
		return err
	}
	// A batch cycles through the rows: past them it repeats each row, the
	// same gradient (uneven where the rows do not divide it) at that many
	// times the work. Each step takes every row once instead.
	if c.Batch > len(rows) && len(rows) > 0 {
		fmt.Fprintf(stderr, "--batch %d is more than the %s to learn from: each step trains on the %s once\n", c.Batch, plural(len(rows), "row"), plural(len(rows), "row"))
		c.Batch = len(rows)
	}
	done := 0 // student steps finished
	err = runpkg.FineTune(ctx, student, tok, p, rows, c, func(step int, loss float64) {
		done = step + 1
		if step%50 == 0 || step == c.Steps-1 {
			fmt.Fprintf(stderr, "student step %d/%d  loss %.4f\n", step+1, c.Steps, loss)
		}
	})
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		// The rows stay, complete (they are the teacher's work): the
		// message offers, as a rerun into this --out does, the command
		// that trains the student on them without explaining again.
		return fmt.Errorf("%s: %s keeps its %s; the student was not saved; run %s to train the student on them without explaining again, or remove %s and run this command again",
			runner.StoppedBySignal(done, c.Steps, "student step"), f.Name(), plural(len(rows), "row"), learnFromKept(fs, *out, *tdir), f.Name())
	}
	if err := deviceCheck(be, "fine-tune the student", err); err != nil {
		return err
	}
	sdir := filepath.Join(*out, "student")
	if err := saveHeld(ctx, stderr, sdir, func() error {
		return saveModelFolder(sdir, func(sdir string) error {
			return writeStudent(student, sdir, *tdir, *init, p, ranking)
		})
	}); err != nil {
		return room.IfFull(err)
	}
	fmt.Fprintf(stdout, "wrote %s to %s and the student to %s\n", plural(len(rows), "row"), f.Name(), sdir)
	return nil
}

// writeStudent writes the distilled student into sdir: its weights, the
// teacher's tokenizer and side files, the generation config of init (the
// student's own folder, if given and it holds one) or else the teacher's,
// written once, the prompts, and where its rows were ranked (rlt distill
// --best-of) how (record.RankingFile): the folder is all a user given the
// student has of how it was made.
func writeStudent(student *model.Model, sdir, tdir, init string, p record.Prompts, ranking *record.Ranking) error {
	if err := student.Save(sdir, hf.F32); err != nil {
		return err
	}
	tokData, err := os.ReadFile(filepath.Join(tdir, "tokenizer.json"))
	if err != nil {
		return err
	}
	if err := durable.WriteFile(filepath.Join(sdir, "tokenizer.json"), tokData, 0o644); err != nil {
		return err
	}
	// The tokenizer's side files come with it from the teacher; the
	// generation config from the student's own folder, else the teacher's.
	if err := hf.CopyFiles(tdir, sdir, hf.TokenizerSideFiles...); err != nil {
		return err
	}
	if err := hf.CopyFiles(generationConfigFrom(tdir, init), sdir, hf.GenerationConfigFile); err != nil {
		return err
	}
	if err := record.WritePrompts(sdir, p); err != nil {
		return err
	}
	if ranking != nil {
		return record.WriteRanking(sdir, *ranking)
	}
	return nil
}

// absPath is dir made absolute, for a record read from another folder
// than the command ran in; dir as given where it cannot be.
func absPath(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

// distillRows is the file in --out that holds the rows the student learns
// from.
const distillRows = "distill.jsonl"

// studentFolderSize is about the room the distilled student's folder
// takes (savedModelSize): the parameters of --student-init's config.json,
// or of the tiny shape with a row for each of vocab tokens, and the
// teacher's tokenizer files. 0 where --student-init's config.json cannot
// be read (its load says why).
func studentFolderSize(tdir, init string, vocab int) int64 {
	cfg := warmstart.TinyConfig()
	cfg.Vocab = max(cfg.Vocab, vocab)
	if init != "" {
		c, _, err := model.Inspect(init)
		if err != nil {
			return 0
		}
		cfg = c
	}
	return savedModelSize(cfg, tdir)
}

// savedModelSize is about the room a model folder of cfg written by rlt
// takes (sessions.ModelFolderSize): its weights in float32 and the files
// it takes from the folder tokFrom (tokenizer.json and its side files,
// the generation config: copiedFilesSize).
func savedModelSize(cfg model.Config, tokFrom string) int64 {
	return sessions.ModelFolderSize(int64(cfg.NumParams()), copiedFilesSize(tokFrom))
}

// copiedFiles are the files a saved model folder takes from the folder of
// the model it came from (the teacher's), those it holds.
var copiedFiles = append([]string{hf.TokenizerFile, hf.GenerationConfigFile}, hf.TokenizerSideFiles...)

// copiedFilesSize is the bytes of the copiedFiles that the folder dir
// holds.
func copiedFilesSize(dir string) int64 {
	var n int64
	for _, name := range copiedFiles {
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// notKeptRows is the rows of a --data file marked "kept": false
// (task.Example.NotKept) that rlt distill --reference leaves out: of how
// many rows, and their lines.
type notKeptRows struct {
	path  string // the file's
	of    int
	lines firstLines
}

// leaveOutNotKept takes the rows marked "kept": false out of f: the
// samples of rlt distill --samples-out that its ranking did not keep, one
// of each question's N that lost to another, or of a question that kept
// none. --reference distills what the ranking chose, each question's kept
// explanation once; distilling every sample, it learnt each question N
// times, of the explanations the ranking rejected too. They are not
// counted among the file's rows or skips (f.Report): the file's own
// choice of rows, said once, not a fault of each line, where N-1 of every
// N lines listed as skipped buried the rows that are. A user who wants
// every sample distilled drops the field (String says how), rather than a
// flag for a variant RLT.md §5 does not have (its raw one is --best-of 1).
func leaveOutNotKept(f *task.File) notKeptRows {
	nk := notKeptRows{path: f.Path, of: f.Report.Rows}
	leaveOut(f, func(ex task.Example) bool { return ex.NotKept }, &nk.lines)
	return nk
}

// String says the rows left out, their lines, and how to keep them.
func (nk notKeptRows) String() string {
	return fmt.Sprintf(`left out %d of its %s, marked "kept": false (%s): samples of `+sessions.Program()+` distill --samples-out that its ranking did not keep; --reference distills the kept ones, each question's once (to distill every sample, drop the field: jq -c 'del(.kept)' %s > all.jsonl)`,
		nk.lines.n, jsonerr.Rows(nk.of), nk.lines, sessions.ShellQuote(nk.path))
}

// repeatedRows is the rows of a --data file that rlt distill leaves out
// as asking an earlier row's question with its solution (without
// --reference every such row, with it a kept row's repeat): of how many
// rows, and their lines.
type repeatedRows struct {
	of    int
	lines firstLines
	// kept: --reference's repeats of a kept row (leaveOutKeptRepeated),
	// of the file at path.
	kept bool
	path string
}

// leaveOutRepeated takes out of f each row whose question and solution
// are an earlier row's. Without --reference the teacher explains each row
// anew from its question and solution alone, so such a row is the same
// question explained again: rlt distill --samples-out's file holds each
// question once per sample (N times at --best-of N), and distilled from
// it, each question was explained and learnt N times, where a file of
// each question once had it once, as --reference distills such a file
// (leaveOutNotKept: each question's kept sample). A question's kept marks
// are of its samples' explanations, which the teacher does not read here:
// a question that kept none is explained anew like any other. Said once,
// as the rows not kept are, not as a skip of each line.
func leaveOutRepeated(f *task.File) repeatedRows {
	rr := repeatedRows{of: f.Report.Rows}
	leaveOut(f, task.Repeated(), &rr.lines)
	return rr
}

// leaveOutKeptRepeated takes out of f each row marked "kept": true whose
// question and solution are an earlier kept row's (of the file's rows):
// rlt distill --samples-out keeps one sample a question, so such a row is
// of a file of two rankings joined (one file written twice), and
// distilled, the student learnt the question twice, of two explanations.
// The first is taken, as rlt import takes it (record.Repeated on the kept
// rows); a row without the field (jq's del(.kept): every sample, as the
// user asked) is distilled as it is.
func leaveOutKeptRepeated(f *task.File, of int) repeatedRows {
	rr := repeatedRows{of: of, kept: true, path: f.Path}
	repeated := record.Repeated()
	leaveOut(f, func(ex task.Example) bool { return ex.Kept && repeated(ex.Question, ex.Solution) }, &rr.lines)
	return rr
}

// String says the rows left out and why.
func (rr repeatedRows) String() string {
	if rr.kept {
		return fmt.Sprintf(`left out %d of its %s, %s (%s), each marked "kept": true as an earlier one was: --reference distills each question's kept sample once, the first, as `+sessions.Program()+` distill --samples-out keeps one a question, so a repeat was the same question learnt again (to distill every sample, drop the field: jq -c 'del(.kept)' %s > all.jsonl)`,
			rr.lines.n, jsonerr.Rows(rr.of), record.RepeatedRows, rr.lines, sessions.ShellQuote(rr.path))
	}
	return fmt.Sprintf(`left out %d of its %s, %s (%s): without --reference the teacher explains each question anew, once (a file of `+sessions.Program()+` distill --samples-out holds each question once per sample)`,
		rr.lines.n, jsonerr.Rows(rr.of), record.RepeatedRows, rr.lines)
}

// leaveOut takes the rows out of f that out says (task.File.LeaveOut),
// noting their lines in lines; they are no longer counted among its rows
// (f.Report).
func leaveOut(f *task.File, out func(task.Example) bool, lines *firstLines) {
	for _, l := range f.LeaveOut(out) {
		lines.add(l)
	}
}

// keptRowsOnly reports whether the folder out holds the rows of a distill
// that saved no student (stopped, or its disk full): its distill.jsonl,
// and no model in student/.
func keptRowsOnly(out string) bool {
	_, err := os.Stat(filepath.Join(out, distillRows))
	return err == nil && modelFile(filepath.Join(out, "student")) == ""
}

// learnFromKept is the command that trains a student on the rows a
// distill kept in out without saving one, without explaining again: with
// this command's own flags for the student, into a new folder beside out.
// The rows are the teacher's, already filtered: rlt distill --reference
// --data reads them back as they were written (runpkg.ReferenceRows), and
// the student learns the same.
func learnFromKept(fs *flag.FlagSet, out, tdir string) string {
	rows := filepath.Join(out, distillRows)
	cmd := []string{sessions.Program(), "distill", "--reference", "--tokenizer-from", sessions.ShellQuote(tdir), "--data", sessions.ShellQuote(rows), "--out", sessions.ShellQuote(filepath.Clean(out) + "-student")}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "student-init", "steps", "batch", "micro-batch-tokens", "lr", "seed", "teacher-system", "student-system", "device", "matmul":
			cmd = append(cmd, "--"+f.Name, sessions.ShellWord(f.Value.String()))
		}
	})
	return strings.Join(cmd, " ")
}

// generationConfigFrom is the folder whose generation_config.json the
// distilled student takes: init's (the student's own folder) when it holds
// one, else the teacher's tdir.
func generationConfigFrom(tdir, init string) string {
	if init == "" {
		return tdir
	}
	if _, err := os.Stat(filepath.Join(init, hf.GenerationConfigFile)); errors.Is(err, os.ErrNotExist) {
		return tdir
	}
	return init // or the error reading it, said as it was
}

const evalUsage = `
Usage: rlt eval --student DIR [--task addition] [--questions N] [flags]
       rlt eval --teacher DIR --student DIR [--task linear] [--questions N] [flags]
       rlt eval [--teacher DIR] --student DIR --data FILE [--questions N] [flags]

The student solves N held-out questions by generating its own thought and
solution (greedy). Prints exact-match accuracy and the rate of thoughts whose
steps verify, as one JSON line: {"accuracy", "verified_rate", "questions"}
("verified_rate" only where the task or a row has a verifier; with --data also
"data" and "skipped").
With --teacher, the teacher explains each question (greedy) and the student
answers from that explanation: the student's accuracy, and the rates of
teacher explanations that verify step by step and that state the answer
before deriving it (e.g. a teacher trained on addition, zero-shot on linear),
the same keys and "leak_rate". (A run's metrics name these eval_accuracy,
eval_verified_rate and eval_leak_rate, which rlt eval --teacher printed
before.)

With --data FILE the questions and solutions come from your JSON Lines file
(the layouts of rlt train --data) instead of a task's held-out split: every
usable row in file order, or the first --questions of them, each question
with its solution once (a row asking an earlier row's again, as a file of
rlt distill --samples-out does, is left out, said once). A row whose
question is an addition or linear-equation question in the tasks' format is
checked by that task's checker and its thought or explanation verified; any
other row is checked by exact match of its solution (after the tasks' answer
normalisation), and the verified and leak rates are over the rows that have
a verifier (absent when none has). Rows that cannot be used (a missing
field, an empty solution, a reserved tag, not JSON, too long for the models)
are skipped and reported on stderr with their line numbers; the JSON line
adds "data" (the file) and "skipped" (the count).

--samples first prints one JSON line per question: the question, its
solution, the student's thought (or the teacher's explanation), the
student's answer, correct, and when a task verifies the question verified
and its verdict (with --teacher also answer_first).

Examples:
  rlt eval --student /tmp/distilled/student --questions 200
  rlt eval --teacher /tmp/trained --student /tmp/distilled/student --data test.jsonl --samples
`

func runEval(args []string, stdin io.Reader, stdout, stderr io.Writer) (err error) {
	fs := newFlags("rlt eval", evalUsage, stdout, stderr)
	sdir := fs.String("student", "", "student model folder (required)")
	taskName := fs.String("task", "addition", "task whose held-out split is used")
	dataPath := fs.String("data", "", "JSON Lines file of questions and solutions to evaluate on instead of --task's")
	n := fs.Int("questions", runpkg.EvalQuestions, "held-out questions (with --data: the first N usable rows, all of them when not given)")
	maxNew := fs.Int("max-new-tokens", runpkg.EvalMaxNewTokens, "generation budget")
	samples := fs.Bool("samples", false, "also print every question's attempt")
	tdir := fs.String("teacher", "", "teacher model folder: evaluate its explanations instead")
	teacherSys := fs.String("teacher-system", "", "teacher system prompt (default: the one the models record)")
	studentSys := fs.String("student-system", "", "student system prompt (default: the one the models record)")
	dev := deviceFlag(fs, "the models")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := required(fs, "student"); err != nil {
		return err
	}
	if err := checkArgs(fs, 0, ""); err != nil {
		return err
	}
	if err := checkDeviceFlags(fs); err != nil {
		return err
	}
	if err := checkCounts(fs, atLeast{"questions", *n, 1}, atLeast{"max-new-tokens", *maxNew, 1}); err != nil {
		return err
	}
	set := flagsGiven(fs)
	if *dataPath != "" && set["task"] {
		return misuse(fs, "--data and --task are alternatives: the questions come from %s", *dataPath)
	}
	var t task.Task // nil with --data: each row is judged by its own task or by exact match
	if *dataPath == "" {
		var err error
		if t, err = lookupTask(fs, *taskName); err != nil {
			return err
		}
	}
	p, err := record.PromptsFor(*tdir, *sdir, record.Prompts{TeacherSystem: *teacherSys, StudentSystem: *studentSys})
	if err != nil {
		return err
	}
	// The prompts are ChatML: a folder made for another format is refused
	// before any device opens.
	if err := rlt.CheckChatMLPair(*tdir, *sdir); err != nil {
		return err
	}
	// The models are checked from their folders before any device opens
	// (on a GPU, seconds of opening it): each a model folder, its
	// tokenizer and embedding (with a teacher, the pair's rule: one
	// vocabulary, the teacher's tokenizer, a row per token in each
	// embedding), and their positions (max_position_embeddings), which
	// the prompts and --max-new-tokens must fit. With a teacher the pair
	// loads from what was checked (rlt.PairFolders), its tokenizers not
	// read again.
	tok, pos, folders, err := evalModels(*tdir, *sdir)
	if err != nil {
		return err
	}
	// The data file is read, or the task's questions drawn, before any
	// device opens, and so is what of them fits the models' positions.
	var data *task.File
	var exs []task.Example
	if *dataPath != "" {
		if data, err = task.ReadFile("--data", *dataPath); err != nil {
			return err
		}
		// Each question with its solution once: its answer (the student's,
		// or the teacher's explanation and the student's answer) is greedy,
		// so a repeat was the same answer counted again, each question N
		// times from a file of rlt distill --samples-out (task.Repeated, as
		// rlt train and rlt distill take such a file).
		if rr := leaveOutRepeated(data); rr.lines.n > 0 {
			fmt.Fprintf(stderr, "warning: data %s: left out %d of its %s, %s (%s): the evaluation answers each question once, greedily, so a repeat was the same answer counted again (a file of "+sessions.Program()+" distill --samples-out holds each question once per sample)\n",
				data.Path, rr.lines.n, jsonerr.Rows(rr.of), record.RepeatedRows, rr.lines)
		}
	} else if exs, err = taskQuestions(fs, t, task.HeldOut, runpkg.EvalSeed, *n); err != nil {
		return err
	}
	// The prompts, and --max-new-tokens more, in the models' positions,
	// by the rule a data file's rows are left out by below: the teacher's
	// explanation and the student's context that reads it
	// (rlt.Positions), or the student's own thought and solution. The
	// student failed after every explanation was written ("sample: a
	// prompt of 359 tokens is longer than the model's 256 positions").
	lengths := promptLengths(tok, p, *tdir) // for taskFits and longestPrompts, each question tokenized once
	if data == nil {
		if err := taskFits(pos.Teacher, *maxNew, t, exs, lengths, *tdir, fitStudent{positions: pos.Student, dir: *sdir}); err != nil {
			return err
		}
	} else {
		fit := runpkg.StudentFitReason(tok, p, *maxNew, pos.Student)
		if *tdir != "" {
			fit = runpkg.FitReason(tok, p, *maxNew, pos)
		}
		data.Drop(fit)
		if w := runpkg.SkipWarning("data", data); w != "" {
			fmt.Fprintf(stderr, "warning: %s\n", w) // as rlt train --data reports it
		}
		if exs = data.Examples; len(exs) == 0 {
			return fmt.Errorf("data %s: no row fits the models: %s", data.Path, data.Report.Summary(3))
		}
		if set["questions"] && *n < len(exs) {
			exs = exs[:*n]
		}
	}
	// The models and their sampling within the memory where they
	// compute, before the device opens.
	teacherPrompt, studentPrompt := longestPrompts(lengths, exs)
	if err := checkEvalMemory(*dev, *tdir, *sdir, len(exs), *maxNew, teacherPrompt, studentPrompt); err != nil {
		return err
	}
	// A signal, from the device's opening on, stops the evaluation and
	// says what it leaves: nothing (its results come once every question
	// is answered), not exit 130 alone; a closed terminal's SIGHUP too
	// (stopSignals), which killed it without a word.
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	defer stop()
	be, err := openDevice("rlt eval", *dev, stderr)
	if err != nil {
		return err
	}
	defer closeDevice(be, &err)
	var pair *rlt.Pair
	var student *model.Model
	if *tdir != "" {
		pair, err = folders.Load(ctx, be, p, model.Float32, model.Float32)
		if err := loadStopped(ctx, err, "the models loaded", "question", "to evaluate, run the same command again"); err != nil {
			return err
		}
		if err != nil {
			return deviceFailed(be, "load the models", err)
		}
		student, tok = pair.Student, pair.Tok
	} else {
		student, err = model.LoadAs(ctx, be, *sdir, model.Float32)
		if err := loadStopped(ctx, err, "the model loaded", "question", "to evaluate, run the same command again"); err != nil {
			return err
		}
		if err != nil {
			return deviceFailed(be, "load "+*sdir, err)
		}
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	summary := func(vals map[string]float64) error {
		vals["questions"] = float64(len(exs))
		if data == nil {
			return enc.Encode(vals)
		}
		rec := map[string]any{"data": data.Path, "skipped": len(data.Report.Skipped)}
		for k, v := range vals {
			rec[k] = v
		}
		return enc.Encode(rec)
	}
	stopped := func(who string) error {
		return fmt.Errorf("stopped by a signal while %s the %s: no result was printed (they are printed once every question is answered) and nothing was written; to evaluate, run the same command again (a smaller --questions takes less time)",
			who, plural(len(exs), "question"))
	}
	if pair != nil {
		res, vals, err := runpkg.EvalTeacherResults(ctx, pair, t, exs, *maxNew)
		if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return stopped("the teacher explained and the student answered")
		}
		if err != nil {
			return err
		}
		if *samples {
			for _, r := range res {
				rec := map[string]any{"question": r.Question, "solution": r.Solution, "explanation": r.Explanation, "answer": r.Answer, "correct": r.Correct}
				if r.Task != "" {
					rec["verified"], rec["answer_first"], rec["verdict"] = r.Verified(), r.Verdict.AnswerFirst, r.Verdict.String()
				}
				if err := enc.Encode(rec); err != nil {
					return err
				}
			}
		}
		return summary(vals)
	}
	res, vals, err := runpkg.EvalStudent(ctx, student, tok, p, t, exs, *maxNew)
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return stopped("the student answered")
	}
	if err != nil {
		return err
	}
	if *samples {
		for _, r := range res {
			rec := map[string]any{"question": r.Question, "solution": r.Solution, "thought": r.Thought, "answer": r.Answer, "correct": r.Correct}
			if r.Task != "" {
				rec["verified"], rec["verdict"] = r.Verified(), r.Verdict.String()
			}
			if err := enc.Encode(rec); err != nil {
				return err
			}
		}
	}
	return summary(vals)
}

// evalModels checks rlt eval's model folders before any device opens, in
// the words their load would say it in: with a teacher, the pair's check
// (rlt.CheckPair, which the pair then loads from, the tokenizers read
// once); the student alone, its model folder with a tokenizer.json and an
// embedding row for each token, said as the pair's check says the
// student's. It returns the tokenizer the prompts are written in (the
// teacher's, with one), the positions of the models given (zero for a
// teacher not given), read from their config.json, and the pair's folders
// (nil without a teacher).
func evalModels(tdir, sdir string) (rlt.TextTokenizer, rlt.Positions, *rlt.PairFolders, error) {
	if tdir != "" {
		folders, err := rlt.CheckPair(tdir, sdir)
		if err != nil {
			return nil, rlt.Positions{}, nil, err
		}
		return folders.Tok, folders.Positions(), folders, nil
	}
	var pos rlt.Positions
	tok, err := rlt.FolderTokenizer(sdir)
	if err != nil {
		return nil, pos, nil, fmt.Errorf("student: %w", err)
	}
	if pos.Student, err = maxPositions(sdir, 0); err != nil {
		return nil, pos, nil, fmt.Errorf("student: %w", err)
	}
	if err := rlt.CheckTokenizerRows("student", sdir, tok.VocabSize()); err != nil {
		return nil, pos, nil, err
	}
	return tok, pos, nil, nil
}

// maxPositions is the positions (max_position_embeddings) of the model
// folder dir, read from its config.json before any device opens; orElse
// where dir is "" (no such folder given).
func maxPositions(dir string, orElse int) (int, error) {
	if dir == "" {
		return orElse, nil
	}
	cfg, _, err := model.Inspect(dir)
	return cfg.MaxPos, err
}

// taskQuestions draws n distinct questions of t's split; a split that
// gives fewer is a wrong call naming --questions, said before any device
// opens.
func taskQuestions(fs *flag.FlagSet, t task.Task, split task.Split, seed uint64, n int) ([]task.Example, error) {
	if n > maxTaskQuestions {
		return nil, badValue(fs, "--questions %d: more than one command draws from a task (at most %d): ask for fewer, or run it in parts with --data files", n, maxTaskQuestions)
	}
	exs, err := task.NewSampler(t, split, seed).Unique(n)
	if errors.Is(err, task.ErrExhausted) {
		name := split.String()
		if split == task.HeldOut {
			name = "held-out"
		}
		return nil, badValue(fs, "--questions %d: the %s task's %s split gave only %d distinct questions: ask for at most that many", n, t.Name(), name, len(exs))
	}
	return exs, err
}

// maxTaskQuestions is the most questions rlt eval and rlt distill draw
// from a task: task.MaxUnique, a run's eval_questions' bound too.
const maxTaskQuestions = task.MaxUnique

// taskPromptsFit refuses, before any is sampled, a task's questions whose
// prompt for the model who (its folder dir) is longer than its maxPos
// positions (runpkg.TaskPromptsFit), naming the flag that shortens it.
func taskPromptsFit(who, dir string, t task.Task, exs []task.Example, maxPos int, prompt func(task.Example) int) error {
	return runpkg.TaskPromptsFit(who, dir, "--"+who+"-system", t, exs, maxPos, prompt)
}

// fitStudent is a student whose positions the drawn questions' sequences
// must fit (taskFits): rlt eval's, rlt distill's distilled student and
// --best-of's reward student.
type fitStudent struct {
	positions int    // max_position_embeddings; 0 where not known: nothing is refused for it
	dir       string // its folder, as a refusal names it; "" for rlt distill's default tiny student
	another   string // the flag that gives another student, offered as a way to make room; "" offers none
}

// taskFits refuses the questions exs whose prompts do not fit the models:
// a prompt longer than its model's positions (taskPromptsFit: the
// teacher's with a teacher, tdir, of teacherPos positions, else the
// student's own, the first of students), then a --max-new-tokens the
// prompts leave no room for (budgetFits) in the teacher's positions and
// each student's, said of the one that leaves the least (the first of
// those where several do). Each question's prompts are measured once
// for all the checks (lengths: the caller's promptLengths, which its
// memory check reuses), where each check tokenized them. A refusal names
// the question with its place among the questions drawn
// (rlt.RoomError.Index), and where the student binds, the flag that gives
// another (fitStudent.another).
func taskFits(teacherPos, maxNew int, t task.Task, exs []task.Example, lengths func(task.Example) (int, int), tdir string, students ...fitStudent) error {
	err := func() error {
		if tdir == "" {
			own := students[0]
			if err := taskPromptsFit("student", own.dir, t, exs, own.positions, func(ex task.Example) int { _, student := lengths(ex); return student }); err != nil {
				return solvesAlone(err)
			}
		} else if err := taskPromptsFit("teacher", tdir, t, exs, teacherPos, func(ex task.Example) int { teacher, _ := lengths(ex); return teacher }); err != nil {
			return err
		}
		// The refusal is of the model that leaves the least room (the
		// first of those that leave it), so that the most it says
		// --max-new-tokens can be runs: the first refused said its own
		// room, and a tighter student's after it was refused again.
		var least *rlt.RoomError
		for _, s := range students {
			err := budgetFits(rlt.Positions{Teacher: teacherPos, Student: s.positions}, maxNew, t, exs, lengths, tdir, s.dir)
			re := (*rlt.RoomError)(nil)
			if !errors.As(err, &re) {
				if err != nil {
					return err
				}
				continue
			}
			if re.Who == "student" {
				re.Another = s.another
			}
			if least == nil || re.Room() < least.Room() {
				least = re
			}
		}
		if least == nil {
			return nil
		}
		return least
	}()
	if re := (*rlt.RoomError)(nil); errors.As(err, &re) {
		// The questions were drawn distinct (taskQuestions): the first
		// with the refusal's question is its.
		for i, ex := range exs {
			if ex.Question == re.Question {
				re.Index, re.Of = i+1, len(exs)
				break
			}
		}
	}
	return err
}

// promptLengths is each question's prompt lengths, measured once a
// question and solution: with a teacher (tdir), its prompt and the
// student's context that reads its explanation (rlt.PromptLengths);
// without one, none for the teacher and the student's own prompt
// (rlt.SolvePrompt), for its thought and solution.
func promptLengths(tok rlt.Encoder, p record.Prompts, tdir string) func(task.Example) (teacher, student int) {
	measured := map[[2]string][2]int{}
	return func(ex task.Example) (int, int) {
		key := [2]string{ex.Question, ex.Solution}
		if m, ok := measured[key]; ok {
			return m[0], m[1]
		}
		var teacher, student int
		if tdir == "" {
			student = len(rlt.SolvePrompt(tok, p, ex.Question))
		} else {
			teacher, student = rlt.PromptLengths(tok, p, ex.Question, ex.Solution)
		}
		measured[key] = [2]int{teacher, student}
		return teacher, student
	}
}

// budgetFits refuses a --max-new-tokens that the prompts of exs (their
// lengths: promptLengths) leave no room for in pos (runpkg.BudgetFits),
// naming the flags to change: with a teacher (tdir), its explanation and
// the student's context that reads it (a zero position for the model not
// there); without one, the student's own prompt, for its thought and
// solution.
func budgetFits(pos rlt.Positions, maxNew int, t task.Task, exs []task.Example, lengths func(task.Example) (int, int), tdir, sdir string) error {
	err := runpkg.BudgetFits(pos, maxNew, "--max-new-tokens", t, exs, lengths, func(who string) (string, string) {
		dir := tdir
		if who == "student" {
			dir = sdir
		}
		return dir, "--" + who + "-system"
	})
	if tdir == "" {
		return solvesAlone(err)
	}
	return err
}

// solvesAlone is err, a *rlt.RoomError of a student's own prompt
// (rlt.SolvePrompt: its system prompt and the question, up to its thought),
// saying what that prompt leaves room for: the thought and solution the
// student writes after it, not an explanation beside it (a teacher's, in
// the student's context that reads one). rlt eval without a teacher said
// its prompt past the positions was "more than fit ... beside an
// explanation", where no explanation is. Any other err is itself.
func solvesAlone(err error) error {
	if re := (*rlt.RoomError)(nil); errors.As(err, &re) {
		re.For = "its thought and solution"
	}
	return err
}

// lookupTask is the task --task names; a name no task has is a wrong
// call, said before any work with the tasks there are.
func lookupTask(fs *flag.FlagSet, name string) (task.Task, error) {
	if t, ok := task.Lookup(name); ok {
		return t, nil
	}
	return nil, badValue(fs, "--task %q: want one of %s", name, strings.Join(task.Names(), ", "))
}

// checkDistillMemory refuses, before the device opens, a distill that
// cannot fit where --device dev computes (checkModelsMemory): the teacher
// (none with --reference) sampling its explanations runpkg.BestOfBatch at
// a time, with --best-of above 1 the teacher and the reward's student
// scoring them (forwards of --micro-batch-tokens positions at most), and
// the student, the tiny shape with a row for each of vocab tokens or
// --student-init's, trained in float32 with AdamW on micro-batches of
// --batch rows. The explanations follow the longest of the questions'
// prompts, the teacher's and the student's. A folder whose config.json cannot be read is left to
// its load, which says why.
func checkDistillMemory(dev, tdir, init, rewardDir string, reference bool, vocab, questions, maxNew, bestOf, teacherPrompt, studentPrompt int, c runpkg.DistillConfig) error {
	student := memory.Use{Cfg: warmstart.TinyConfig(), Held: compute.F32}
	student.Cfg.Vocab = max(student.Cfg.Vocab, vocab)
	if init != "" {
		u, _, err := heldAs(init, model.Float32)
		if err != nil {
			return nil
		}
		student = u
	}
	// A step trains on --batch rows, or on every row where there are
	// fewer (a row a question at most).
	student.Name, student.TrainT = "student", student.Cfg.MaxPos
	student.TrainRows = memory.Positions(min(c.Batch, questions), student.TrainT, 0, c.MicroBatchTokens)
	m := memory.Models{Uses: []memory.Use{student}}
	t := max(teacherPrompt, studentPrompt) + maxNew // the longest prompt and its explanation
	if !reference {
		teacher, _, err := heldAs(tdir, model.Float32)
		if err != nil {
			return nil
		}
		teacher.Name, teacher.SampleSeqs, teacher.SampleT, teacher.SamplePrompt = "teacher", min(questions*bestOf, runpkg.BestOfBatch), t, teacherPrompt
		if bestOf > 1 {
			scored := memory.Positions(min(questions*bestOf, runpkg.BestOfBatch), t, 0, c.MicroBatchTokens)
			teacher.ForwardRows, teacher.ForwardT = scored, t
			rs, _, err := heldAs(rewardDir, runpkg.RewardStudentPrecision())
			if err != nil {
				return nil
			}
			rs.Name, rs.ForwardRows, rs.ForwardT = "reward student", scored, t
			m.Uses = append(m.Uses, rs)
		}
		m.Uses = append([]memory.Use{teacher}, m.Uses...)
	}
	mbt := "no limit"
	if c.MicroBatchTokens > 0 {
		mbt = fmt.Sprint(c.MicroBatchTokens)
	}
	return checkModelsMemory("distilling", dev, m,
		fmt.Sprintf("a smaller --micro-batch-tokens (now %s): the positions each of the student's forwards and backwards holds", mbt),
		fmt.Sprintf("a smaller --batch (now %d rows a student step)", c.Batch),
		fmt.Sprintf("a shorter --max-new-tokens (now %d)", maxNew))
}

// longestPrompts is the most tokens a prompt of exs takes, the teacher's
// and the student's, as lengths measures them (promptLengths), for rlt
// distill's and rlt eval's memory estimates: they assumed
// memory.PromptTokens (128) whatever the questions, so a long question's
// cache and prefill went uncounted, and a short one's were counted past
// what it holds.
func longestPrompts(lengths func(task.Example) (int, int), exs []task.Example) (teacher, student int) {
	for _, ex := range exs {
		t, s := lengths(ex)
		teacher, student = max(teacher, t), max(student, s)
	}
	return teacher, student
}

// evalMemoryUses is what an evaluation of questions holds and samples, as
// runpkg.EvalTeacherResults and runpkg.EvalStudent run it: the student
// (held as student says) answering runpkg.EvalBatch questions at a time,
// its own thought and solution or, with a teacher (nil: none), 16 tokens
// after the teacher's explanation, which the teacher samples as many at a
// time; the sequences after the longest prompts, the teacher's and the
// student's. rlt eval's estimate (checkEvalMemory) and rlt pretrain's of
// its teacher check (pretrainEstimate) are this one count.
func evalMemoryUses(teacher *memory.Use, student memory.Use, questions, maxNew, teacherPrompt, studentPrompt int) memory.Models {
	seqs := min(questions, runpkg.EvalBatch)
	student.Name, student.SampleSeqs, student.SampleT, student.SamplePrompt = "student", seqs, studentPrompt+maxNew, studentPrompt
	m := memory.Models{Uses: []memory.Use{student}}
	if teacher != nil {
		t := *teacher
		t.Name, t.SampleSeqs, t.SampleT, t.SamplePrompt = "teacher", seqs, teacherPrompt+maxNew, teacherPrompt
		// The explanation read (prefilled after the student's prompt),
		// then the answer.
		m.Uses[0].SampleT, m.Uses[0].SamplePrompt = studentPrompt+maxNew+16, studentPrompt+maxNew
		m.Uses = append([]memory.Use{t}, m.Uses...)
		// runpkg.EvalTeacherResults: one tape, the larger prefill; the
		// samplers take turns over the batches.
		m.OneTape, m.Batches = true, (max(questions, 1)-1)/runpkg.EvalBatch+1
	}
	return m
}

// checkEvalMemory refuses, before the device opens, an evaluation that
// cannot fit where --device dev computes (checkModelsMemory): the student
// answering runpkg.EvalBatch questions at a time, its own thought and
// solution or, with a teacher (tdir), 16 tokens after the teacher's
// explanation, which the teacher samples as many at a time. Both are held
// in float32. The sequences follow the longest of the questions' prompts,
// the teacher's and the student's (its own where it solves alone). A folder whose
// config.json cannot be read is left to its load, which says why.
func checkEvalMemory(dev, tdir, sdir string, questions, maxNew, teacherPrompt, studentPrompt int) error {
	student, _, err := heldAs(sdir, model.Float32)
	if err != nil {
		return nil
	}
	var teacher *memory.Use
	if tdir != "" {
		u, _, err := heldAs(tdir, model.Float32)
		if err != nil {
			return nil
		}
		teacher = &u
	}
	return checkModelsMemory("evaluating", dev, evalMemoryUses(teacher, student, questions, maxNew, teacherPrompt, studentPrompt),
		fmt.Sprintf("a shorter --max-new-tokens (now %d)", maxNew),
		fmt.Sprintf("fewer --questions (now %d; up to %d are answered at once)", questions, runpkg.EvalBatch))
}
