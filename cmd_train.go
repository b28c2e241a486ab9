package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/rlt-workbench/rlt/engine/durable"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	runpkg "github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/sessions/runner"
)

const trainUsage = `
Usage: rlt train --teacher DIR --student DIR [flags]
       rlt train --config FILE [flags]

Trains the teacher with GRPO on the RLT reward against the frozen student,
headless: one JSON line per step on stdout (the official trainer's metric
names, RLT.md §7), progress on stderr. FILE is a TOML run configuration;
unknown or mistyped keys, and values out of range, are errors with their
line, all of them in the file's order, then keys it does not set, then the
values flags give, and a model folder's prompts.json that cannot be used is
said after them. Flags override it.
--print-config writes the resolved configuration and exits, after checking
it as a run would where it names both models.

The questions come from a synthetic task (--task addition or linear), or
from your data with --data FILE (config: data = "FILE", task = "jsonl"):
JSON Lines rows {"question" (or "prompt"), "solution", "reasoning_trace"}
or Bespoke-Stratos {"conversations"} rows. Each epoch is a new seeded
permutation of the rows. The evaluation uses --eval-data FILE, or else 5%
of the data's distinct questions, held out and never trained on; answers
are checked by exact match, or by the task's checker for rows that are
addition or linear questions. Rows that cannot be used (a missing field, an
empty solution, a reserved tag such as <|end_of_thought|>, not JSON, too
long for the models) are skipped and reported once with their line numbers.

Examples:
  rlt pretrain --out /tmp/defaults --seed 1    # once: the models below
  rlt train --teacher /tmp/defaults/teacher --student /tmp/defaults/student --steps 50 --save /tmp/trained
  rlt train --teacher /tmp/defaults/teacher --student /tmp/defaults/student --print-config > run.toml
  rlt train --teacher /tmp/defaults/teacher --student /tmp/defaults/student --data train.jsonl --eval-data test.jsonl --steps 100
`

func runTrain(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("rlt train", trainUsage, stderr)
	cfgPath := fs.String("config", "", "TOML run configuration")
	teacher := fs.String("teacher", "", "teacher model folder")
	student := fs.String("student", "", "student model folder")
	steps := fs.Int("steps", 0, "GRPO steps (0 = until interrupted; default: the configuration's)")
	seed := fs.Uint64("seed", 0, "random seed (default: the configuration's)")
	taskName := fs.String("task", "", "task: addition or linear (jsonl with --data)")
	dataFile := fs.String("data", "", "JSON Lines file of questions and solutions to train on (sets task jsonl)")
	evalData := fs.String("eval-data", "", "JSON Lines file of held-out questions (default: 5% of --data held out)")
	printCfg := fs.Bool("print-config", false, "print the resolved configuration as TOML and exit")
	dev := fs.String("device", "", "where to compute: cpu, gpu, gpu:N (the Nth Vulkan device) or auto (default: the configuration's device, auto)")
	matmul := matmulFlag(fs)
	save := fs.String("save", "", "write the trained teacher to this folder at the end (Hugging Face layout, with the tokenizer)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkArgs(fs, 0, ""); err != nil {
		return err
	}
	if err := checkCounts(fs, atLeast{"steps", *steps, 0}); err != nil {
		return err
	}
	set := flagsGiven(fs)
	if *save != "" {
		if err := refuseOverwrite("save", *save, nil, []string{"."}); err != nil {
			return err
		}
	}
	if err := checkDeviceFlags(fs); err != nil {
		return err
	}
	cfg := runpkg.DefaultConfig("", "")
	cfg.Prompts = record.Prompts{} // the models' own unless the configuration names them
	// The file's unknown keys and mistyped values are said with the
	// problems of the values it gives (decodeErr): every one at once.
	text, decodeErr, err := runner.DecodeFile(*cfgPath, &cfg)
	if err != nil {
		return err
	}
	flagKeys := map[string]string{} // the keys the flags set, to the flag
	if *teacher != "" {
		cfg.Teacher, flagKeys["teacher"] = *teacher, "teacher"
	}
	if *student != "" {
		cfg.Student, flagKeys["student"] = *student, "student"
	}
	if set["steps"] {
		cfg.Steps, flagKeys["steps"] = *steps, "steps"
	}
	if set["seed"] {
		cfg.GRPO.Seed, flagKeys["grpo.seed"] = *seed, "seed"
	}
	if *dataFile != "" {
		cfg.Data, flagKeys["data"] = *dataFile, "data"
		if *taskName == "" {
			cfg.Task, flagKeys["task"] = runpkg.DataTask, "data"
		}
	}
	if *evalData != "" {
		cfg.EvalData, flagKeys["eval_data"] = *evalData, "eval-data"
	}
	if *taskName != "" {
		cfg.Task, flagKeys["task"] = *taskName, "task"
	}
	if *dev != "" {
		cfg.Device, flagKeys["device"] = *dev, "device"
	}
	if *matmul != "" {
		cfg.Matmul, flagKeys["matmul"] = *matmul, "matmul"
	}
	// A model folder's broken prompts.json is said with the configuration's
	// other problems, not alone before them: its problems name it, and
	// until it is fixed the configuration's own [prompts] over the
	// defaults stand in, so that they are checked and nothing of the
	// folder's is blamed on the configuration's keys.
	p, promptsErr := record.PromptsFor(cfg.Teacher, cfg.Student, cfg.Prompts)
	if promptsErr != nil {
		p, _ = record.PromptsFor("", "", cfg.Prompts) // reads no folder: cannot fail
	}
	cfg.Prompts = p
	if *printCfg {
		// A configuration that names its models is checked as a run would
		// check it (values out of range, an unknown task, a missing data
		// file), every problem at once, so that what is printed runs; one
		// without them is a template of the defaults and the flags, and
		// only a file that does not decode as meant (decodeErr) or a
		// model folder's unreadable prompts stop it.
		if cfg.Teacher != "" && cfg.Student != "" {
			if _, err := runner.CheckFile(cfg, *cfgPath, text, decodeErr, flagKeys); err != nil || promptsErr != nil {
				return errors.Join(err, promptsErr)
			}
		} else if err := errors.Join(decodeErr, promptsErr); err != nil {
			return err
		}
		data, err := sessions.EncodeTOML(cfg)
		if err != nil {
			return err
		}
		_, err = stdout.Write(data)
		return err
	}
	// A file whose keys are wrong may be meant to name the models (a
	// mistyped teacher key): its problems are said first, below.
	if (cfg.Teacher == "" || cfg.Student == "") && decodeErr == nil {
		from := ""
		if *cfgPath != "" {
			from = " (nor does " + *cfgPath + ")"
		}
		return misuse(fs, "--teacher and --student are required%s: the models to train and to score with", from)
	}
	// Checked here, where a problem is said on its line of the file or
	// with the flag that set its value, and with the prompts' problems;
	// runpkg.New builds on what was checked, the data as read here.
	checked, err := runner.CheckFile(cfg, *cfgPath, text, decodeErr, flagKeys)
	if err := errors.Join(err, promptsErr); err != nil {
		return err
	}
	// A disk without room for the trained teacher is said before it
	// trains: found by its save, the training was lost.
	var room sessions.FullDiskError
	if *save != "" {
		room = sessions.FullDiskError{What: "the trained teacher", Dir: *save, Flag: "--save", Names: "folder"}
		if tc, _, err := model.Inspect(cfg.Teacher); err == nil { // else its load says why
			room.Need = savedModelSize(tc, cfg.Teacher)
		}
		if err := room.Check(); err != nil {
			return err
		}
	}
	sink := &runner.JSONLSink{W: stdout, Progress: stderr}
	e, err := runpkg.New(checked, sink)
	if err != nil {
		return err
	}
	if e.Data != nil {
		fmt.Fprintln(stderr, e.Data.Summary())
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err = e.Run(ctx)
	reportPoolAnomalies(stderr)
	if err != nil {
		return err
	}
	done := e.Trainer.StepIndex()
	if ctx.Err() != nil && e.Cfg.Steps > 0 && done < e.Cfg.Steps {
		return errors.Join(sink.Err(), trainStopped(done, e.Cfg.Steps, *save))
	}
	if *save != "" {
		// The teacher trained is in memory alone: a disk that filled
		// meanwhile loses it, said before its save as after.
		room.Left = fmt.Sprintf("the teacher trained %s is not kept (nothing was written to %s; its steps' metrics are on stdout)", plural(done, "step"), *save)
		room.Again = "run this command again (it trains from the start)"
		if err := room.Check(); err != nil {
			return err
		}
		if err := saveTeacher(e, *save); err != nil {
			return room.IfFull(err)
		}
		fmt.Fprintf(stderr, "saved the teacher, trained %d steps, to %s\n", done, *save)
	}
	return sink.Err()
}

// trainStopped says what a train stopped by a signal before its steps
// leaves: no teacher saved, so a script's next command (rlt train --save T
// && rlt distill --teacher T) does not go on with one trained a few of
// the steps asked for.
func trainStopped(done, steps int, save string) error {
	if save == "" {
		return fmt.Errorf("stopped by a signal after %d of %d steps", done, steps)
	}
	return fmt.Errorf("stopped by a signal after %d of %d steps: no teacher was written to %s; to train it, run the same command again (--steps 0 trains until interrupted and saves then)", done, steps, save)
}

// saveTeacher writes the trained teacher with its tokenizer, the folder
// whole or not at all (saveModelFolder).
func saveTeacher(e *runpkg.Engine, dir string) error {
	return saveModelFolder(dir, func(dir string) error { return writeTeacher(e, dir) })
}

// writeTeacher writes saveTeacher's files into dir.
func writeTeacher(e *runpkg.Engine, dir string) error {
	if err := e.Trainer.Teacher.Save(dir, hf.F32); err != nil {
		return err
	}
	tok, err := os.ReadFile(filepath.Join(e.Cfg.Teacher, hf.TokenizerFile))
	if err != nil {
		return err
	}
	if err := durable.WriteFile(filepath.Join(dir, hf.TokenizerFile), tok, 0o644); err != nil {
		return err
	}
	// The teacher folder's chat template, special tokens and generation
	// config, so transformers and vLLM template and stop the saved teacher
	// as they did the teacher it started from.
	if err := hf.CopyFiles(e.Cfg.Teacher, dir, append(hf.TokenizerSideFiles, hf.GenerationConfigFile)...); err != nil {
		return err
	}
	return record.WritePrompts(dir, e.Cfg.Prompts)
}
