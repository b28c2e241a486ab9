package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/rlt-workbench/rlt/engine/device"
	"github.com/rlt-workbench/rlt/engine/durable"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/rlt"
	runpkg "github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/engine/size"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/sessions/runner"
)

const trainUsage = `
Usage: rlt train --teacher DIR --student DIR [flags]
       rlt train --config FILE [flags]

Trains the teacher with GRPO on the RLT reward against the frozen student,
headless: one JSON line per step on stdout (the official trainer's metric
names: docs/engine.md, The official trainer's metrics), progress on
stderr. FILE is a TOML run configuration; unknown or mistyped keys, and
values out of range, are errors with their
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
  rlt model defaults --out /tmp/defaults       # once: the models below
  rlt train --teacher /tmp/defaults/teacher --student /tmp/defaults/student --steps 50 --save /tmp/trained
  rlt train --teacher /tmp/defaults/teacher --student /tmp/defaults/student --print-config > run.toml
  rlt train --teacher /tmp/defaults/teacher --student /tmp/defaults/student --data train.jsonl --eval-data test.jsonl --steps 100
`

func runTrain(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("rlt train", trainUsage, stdout, stderr)
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
	text, decodeErr, err := runner.DecodeFile("train", *cfgPath, &cfg)
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
	// A file given as a model folder is said once, by the configuration's
	// check on its key's line or with its flag: read here too, it was said
	// a second time, bare, below the first.
	tdir, sdir := cfg.Teacher, cfg.Student
	if hf.FileNotFolder(tdir) != nil {
		tdir = ""
	}
	if hf.FileNotFolder(sdir) != nil {
		sdir = ""
	}
	p, promptsErr := record.PromptsFor(tdir, sdir, cfg.Prompts)
	// standIn: which prompts the checks measure are the defaults standing
	// in for the unreadable prompts.json's, not ones the run would take;
	// a prompt the configuration sets is its own, measured.
	standIn := promptsStandIn{}
	if promptsErr != nil {
		standIn = promptsStandIn{teacher: cfg.Prompts.TeacherSystem == "", student: cfg.Prompts.StudentSystem == ""}
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
				return errors.Join(measuredPrompts(err, standIn), promptsErr)
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
	if err := errors.Join(measuredPrompts(err, standIn), promptsErr); err != nil {
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
	// Ctrl-C, SIGTERM, and a closed terminal's SIGHUP (stopSignals),
	// which killed the teacher's save midway, and the models' load
	// (loadStopped: it went on to its end, or the signal killed it). The
	// first (ctx) stops the load at once and, once it trains, the run
	// after the step in progress, as rlt run --headless stops
	// (runner.StopAfterTheStep); a second (runCtx, the engine's) drops
	// that step at once. The engine ran on the first's context: its first
	// signal dropped the step in progress (Ctrl-C in step 0 said "before
	// its first step", and --steps 0 --save saved one step fewer).
	stopc, leavec, release := stopThenLeave()
	defer release()
	ctx, cancel := untilStop(stopc)
	defer cancel()
	runCtx, cancelRun := context.WithCancel(context.Background())
	defer cancelRun()
	go func() {
		select {
		case <-leavec:
			cancelRun()
		case <-runCtx.Done():
		}
	}()
	e, err := runpkg.New(ctx, checked, sink)
	if err := trainLoadStopped(ctx, e, err); err != nil {
		return err
	}
	if err != nil {
		return err
	}
	if e.Data != nil {
		fmt.Fprintln(stderr, e.Data.Summary())
	}
	// The files the saved teacher takes from its folder are read now: a
	// folder moved or removed while it trains cannot lose the save.
	var files []copiedFile
	if *save != "" {
		if files, err = readCopiedFiles(cfg.Teacher); err != nil {
			return err
		}
	}
	stopAfterStep := runner.StopAfterTheStep(ctx, e, stderr, trainStoppingAfterTheStep)
	err = e.Run(runCtx)
	stopAfterStep()
	reportPoolAnomalies(stderr)
	if err != nil {
		return err
	}
	done := e.Trainer.StepIndex()
	if ctx.Err() != nil && e.Cfg.Steps > 0 && done < e.Cfg.Steps {
		return errors.Join(sink.Err(), trainStopped(done, e.Cfg.Steps, *save))
	}
	if *save != "" {
		if err := saveHeld(ctx, stderr, *save, func() error {
			return saveTrainedTeacher(e, *save, files, room, done, stderr)
		}); err != nil {
			return err
		}
	}
	return sink.Err()
}

// trainStoppingAfterTheStep is what rlt train says on its first stop
// signal once it trains: the step in progress ends first (and then, with
// --steps 0 and --save, the teacher is saved), which a second signal does
// not wait for.
const trainStoppingAfterTheStep = "stop signal: stopping after the step in progress; a second signal stops at once, without it"

// trainLoadStopped is rlt train's error when its signal (ctx) came while
// its models loaded (loadStopped), given what runpkg.New returned: its
// engine e and its error err, nil where the signal came as the load
// ended, after its last tensor. There New built the engine, its device
// open, which nothing will compute on: it is closed here, as New closes
// it on a load the signal stopped (left open, a GPU's memory held the
// models until the process exited).
func trainLoadStopped(ctx context.Context, e *runpkg.Engine, err error) error {
	stopped := loadStopped(ctx, err, "the models loaded", "step", "to train, run the same command again")
	if stopped != nil && err == nil {
		device.Close(e.Backend)
	}
	return stopped
}

// trainStopped says what a train stopped by a signal before its steps
// leaves: no teacher saved, so a script's next command (rlt train --save T
// && rlt distill --teacher T) does not go on with one trained a few of
// the steps asked for.
func trainStopped(done, steps int, save string) error {
	if save == "" {
		return errors.New(runner.StoppedBySignal(done, steps, "step"))
	}
	return fmt.Errorf("%s: no teacher was written to %s; to train it, run the same command again (--steps 0 trains until interrupted and saves then)", runner.StoppedBySignal(done, steps, "step"), save)
}

// saveTrainedTeacher writes the trained teacher, with the files of its
// folder (files), to save, the folder whole or not at all. The teacher
// trained is in memory alone, hours of work maybe, so a save that fails
// (a disk that filled meanwhile, a file put in save's place, a folder no
// longer writable or on another disk) does not lose it: it is written
// instead to the first of rescueFolders that takes it (beside save, in
// the user's cache folder, in the temporary folder), and the error says
// why save failed, where the teacher is and how to use it or move it into
// place. Only where none takes it is the training lost, said with every
// folder tried.
func saveTrainedTeacher(e *runpkg.Engine, save string, files []copiedFile, room sessions.FullDiskError, done int, stderr io.Writer) error {
	write := func(dir string) error {
		return saveModelFolder(dir, func(dir string) error { return writeTeacher(e, dir, files) })
	}
	failed := room.Check() // a disk that filled while it trained
	if failed == nil {
		err := write(save)
		if err == nil {
			fmt.Fprintf(stderr, "saved the teacher, trained %s, to %s\n", plural(done, "step"), save)
			return nil
		}
		failed = room.IfFull(err)
	}
	var tried []string
	for _, dir := range rescueFolders(save) {
		at := room
		at.Dir = dir
		var short *sessions.FullDiskError
		if errors.As(at.Check(), &short) {
			tried = append(tried, fmt.Sprintf("%s (%s free)", dir, size.Bytes(short.Free)))
			continue
		}
		if err := write(dir); err != nil {
			tried = append(tried, fmt.Sprintf("%s (%s)", dir, briefCause(err)))
			continue
		}
		kept := fmt.Sprintf("the teacher trained %s is saved instead, whole, to %s: use it where it is (--teacher %s)", plural(done, "step"), dir, sessions.ShellQuote(dir))
		if strings.HasPrefix(dir, filepath.Join(os.TempDir(), tempRescue)) {
			kept += ", which the system may clear: move it soon"
		}
		into := fmt.Sprintf("move it into place (mv %s %s)", dir, save)
		var full *sessions.FullDiskError
		if errors.As(failed, &full) {
			full.Again = "move the teacher saved instead into place (mv " + dir + " " + save + ")"
			full.Flag = "" // trained: no --save to give now
			full.Left = kept
			return full
		}
		return fmt.Errorf("%w; %s, or %s", failed, kept, into)
	}
	lost := fmt.Sprintf("the teacher trained %s is not kept: nor could it be saved to %s; nothing was written to %s (its steps' metrics are on stdout)", plural(done, "step"), strings.Join(tried, ", "), save)
	var full *sessions.FullDiskError
	if errors.As(failed, &full) {
		full.Again = "run this command again (it trains from the start)"
		full.Left = lost
		return full
	}
	return fmt.Errorf("%w; %s", failed, lost)
}

// briefCause is err's system error ("no space left on device",
// "permission denied"), or err where it has none.
func briefCause(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	return err.Error()
}

// rescueFolders are the folders a trained model whose save to save failed
// is written to instead, in the order tried: beside save (the disk meant
// for it: a file put in its place, a mount point), in the user's cache
// folder (rlt-workbench/rescued/, where rlt keeps its own files: another
// disk where save's is full), and in the temporary folder; each a new
// name (NAME-2, NAME-3, … beside one that exists).
func rescueFolders(save string) []string {
	base := filepath.Base(filepath.Clean(save))
	dirs := []string{filepath.Join(filepath.Dir(filepath.Clean(save)), base+"-rescued")}
	if cache, err := os.UserCacheDir(); err == nil {
		dirs = append(dirs, filepath.Join(cache, "rlt-workbench", "rescued", base))
	}
	dirs = append(dirs, filepath.Join(os.TempDir(), tempRescue+base))
	var fresh []string
	for _, dir := range dirs {
		name := dir
		for i := 2; i < 100; i++ {
			if _, err := os.Lstat(name); err != nil { // none there (or none can be: its write says why)
				break
			}
			name = fmt.Sprintf("%s-%d", dir, i)
		}
		if !slices.Contains(fresh, name) {
			fresh = append(fresh, name)
		}
	}
	return fresh
}

// tempRescue begins the name of the folder in the temporary folder that
// rescueFolders tries last.
const tempRescue = "rlt-rescued-"

// copiedFile is a file a saved model folder takes from the folder of the
// model it came from (copiedFiles), read before the training.
type copiedFile struct {
	name string
	data []byte
}

// readCopiedFiles reads the copiedFiles that the folder dir holds;
// tokenizer.json is required.
func readCopiedFiles(dir string) ([]copiedFile, error) {
	var files []copiedFile
	for _, name := range copiedFiles {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) && name != hf.TokenizerFile {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("--save: the saved teacher takes %s from the teacher's folder: %w", name, err)
		}
		files = append(files, copiedFile{name, data})
	}
	return files, nil
}

// writeTeacher writes the trained teacher into dir: its weights, the
// files of the teacher's folder read before it trained (its tokenizer,
// chat template, special tokens and generation config, so that
// transformers and vLLM template and stop the saved teacher as they did
// the teacher it started from), and the run's prompts.
func writeTeacher(e *runpkg.Engine, dir string, files []copiedFile) error {
	if err := e.Trainer.Teacher.Save(dir, hf.F32); err != nil {
		return err
	}
	for _, f := range files {
		if err := durable.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			return err
		}
	}
	return record.WritePrompts(dir, e.Cfg.Prompts)
}

// promptsStandIn says which role's system prompt is a default standing
// in for an unreadable prompts.json's (measuredPrompts).
type promptsStandIn struct{ teacher, student bool }

// of reports whether the prompt of who ("teacher", "student": a
// *rlt.RoomError's Who) stands in.
func (s promptsStandIn) of(who string) bool {
	return who == "teacher" && s.teacher || who == "student" && s.student
}

// measuredPrompts is err, a configuration's problems, without those that
// measure a prompt against its model's positions (*rlt.RoomError) where
// that role's prompt stands in (a configuration that sets the teacher's
// prompt alone has it measured; both were left out): a model folder's
// prompts.json that cannot be read has the default prompts stand in for
// it, so that the other keys are checked, and
// the default's length is no problem of the run's. It was said first, on
// a key the file does not set ("prompts.teacher_system (default '…', not
// set in this file): … give a shorter prompts.teacher_system"), above the
// prompts.json problem that was the one to fix. Once that file reads, the
// prompts it holds are measured.
func measuredPrompts(err error, standIn promptsStandIn) error {
	if standIn == (promptsStandIn{}) || err == nil {
		return err
	}
	problems := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		problems = joined.Unwrap()
	}
	var kept []error
	for _, e := range problems {
		if re := (*rlt.RoomError)(nil); !errors.As(e, &re) || !standIn.of(re.Who) {
			kept = append(kept, e)
		}
	}
	return errors.Join(kept...)
}
