// Package run wires one RLT training run: it checks a configuration
// (engine/runconfig's Config, config.toml's keys) against its models,
// task, data and device, loads the teacher–student pair, feeds the GRPO
// trainer with questions from a synthetic task or a user data file,
// evaluates on held-out questions, and obeys its controls (pause, resume,
// stop, checkpoint now). A checkpoint is a Snapshot handed to whoever
// records the run (sessions writes its files) and a Saved one read back
// for Restore. It also holds the evaluation of a teacher or a student and
// distillation. It emits events and knows nothing of files beyond the
// model folders and data files it loads, nor of screens.
package run

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/configkey"
	"github.com/rlt-workbench/rlt/engine/device"
	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/memory"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/engine/task"
	"github.com/rlt-workbench/rlt/engine/tokenizer"
	"github.com/rlt-workbench/rlt/engine/warmstart"
)

// DefaultConfig is a run of the official method at CPU scale on the given
// models, with the short prompts the default models were trained with.
func DefaultConfig(teacher, student string) runconfig.Config {
	return runconfig.Config{
		Teacher: teacher, Student: student, Task: "addition", Steps: 0,
		EvalEvery: runconfig.DefaultEvalEvery, EvalQuestions: runconfig.DefaultEvalQuestions, CheckpointEvery: 1, Device: device.Auto,
		Prompts: warmstart.ShortPrompts(),
		Reward:  record.DefaultRewardConfig(),
		GRPO:    runconfig.DefaultGRPO(),
	}
}

// Validate checks the parts of the configuration and, for a data run, reads
// the data files: a missing or unreadable file, one that is not JSON Lines
// or has no usable row is an error naming it. The data files' problems are
// joined with the other keys' (errors.Join), so that one try shows a bad
// lr and a missing data file together.
func Validate(c runconfig.Config) error {
	_, err := Check(c)
	return err
}

// Checked is a configuration that Check found runnable, with the data
// files it read: what New builds an engine on. A data file of a real run
// takes seconds to read, so a run reads it once, from validation to
// training, and trains on (and checkpoints the digest of) what was
// validated. Only Check and Checked.Absolute make one, and it carries the
// configuration it checked, so that data read for one configuration never
// runs under another: a configuration changed after validation (an
// override, a flag) is checked again. It is immutable: New builds on a
// copy of its data, so one Checked may start several engines.
type Checked struct {
	cfg  runconfig.Config
	data *Data // nil for a synthetic task
	// made is set by Check: the zero Checked was checked by nothing.
	made bool
	// teacherTok is the teacher's tokenizer as Check read it (nil where
	// no check needed it), which New's load takes where the file is
	// unchanged (rlt.CheckPairWith), where it parsed it a second time.
	teacherTok *rlt.TokenizerRead
}

// Check is Validate that keeps what it read, for New: its problems are
// Validate's, in the same words.
func Check(c runconfig.Config) (Checked, error) {
	keysErr := checkKeys(c)
	data, dataErr := LoadData(c)
	// The teacher's tokenizer, read once for both checks that need it
	// (its size, the prompts' lengths), where each read it: a Qwen
	// tokenizer.json of 151k tokens takes half a second to read.
	// Kept for New's load, which takes it where the file is unchanged.
	var read *rlt.TokenizerRead
	teacherTok := sync.OnceValues(func() (*tokenizer.Tokenizer, error) {
		r, err := rlt.ReadFolderTokenizer(c.Teacher)
		if err != nil {
			return nil, err
		}
		read = r
		return r.Tok, nil
	})
	modelsErr := checkModels(c, teacherTok)
	var fitErr error // of prompts that can be written, for models that can be read
	if modelsErr == nil && c.Prompts.Validate() == nil {
		fitErr = checkPromptsFit(c, teacherTok)
	}
	if err := errors.Join(keysErr, dataErr, modelsErr, fitErr); err != nil {
		return Checked{}, err
	}
	return Checked{cfg: c, data: data, made: true, teacherTok: read}, nil
}

// Config is the configuration that was checked.
func (c Checked) Config() runconfig.Config { return c.cfg }

// Absolute is c with its configuration's paths made absolute
// (runconfig.Config.Absolute), for a run recorded to be resumed from any
// directory. The data is what was read: the same files, named by their
// absolute paths, as a run records and reports them.
func (c Checked) Absolute() (Checked, error) {
	cfg, err := c.cfg.Absolute()
	if err != nil {
		return c, err
	}
	data := c.data.clone()
	if data != nil {
		data.File.Path = cfg.Data
		if data.EvalFile != nil {
			data.EvalFile.Path = cfg.EvalData
		}
	}
	return Checked{cfg: cfg, data: data, made: c.made, teacherTok: c.teacherTok}, nil
}

// checkModels refuses a teacher or student folder that is no model
// folder (missing, a file, lacking config.json, weights or tokenizer.json:
// hf.FolderFiles.Check), whose tokenizer_config.json names a chat
// template that is not ChatML (rlt.CheckChatML), or whose embedding has
// fewer rows than the run's tokenizer, the teacher's, has tokens
// (rlt.TokenizerRows), each on its key: said here, the run is
// refused before any run folder is made or resumed, on the
// configuration's line, not recorded as failing once the models load.
// The rows were said by the load's check alone (rlt.CheckPair): rlt run
// made a run folder that recorded its start and the refusal. teacherTok
// reads the teacher's tokenizer (Check's, read once).
func checkModels(c runconfig.Config, teacherTok func() (*tokenizer.Tokenizer, error)) error {
	var errs []error
	var folders []struct{ key, dir string } // those that are model folders
	for _, m := range []struct{ key, dir string }{{"teacher", c.Teacher}, {"student", c.Student}} {
		if m.dir == "" {
			continue // checkKeys says it
		}
		ff, err := hf.ScanFolder(m.dir)
		if err == nil {
			err = ff.Check(true)
		}
		if err != nil {
			// Begun with the key, as every key's words are: at a
			// file's line "config.toml:2:1: model folder X does not
			// exist" named no key; a flag's stands where it is
			// ("--teacher: model folder …", configkey.Error.Named).
			errs = append(errs, configkey.Wrap(m.key, fmt.Errorf("%s: %w", m.key, err)))
			continue
		}
		folders = append(folders, m)
		errs = append(errs, configkey.Wrap(m.key, rlt.CheckChatML(m.key, m.dir)))
	}
	if len(folders) > 0 && folders[0].key == "teacher" {
		// A tokenizer that cannot be read is left to the load, which
		// says it (rlt.CheckPair), as checkPromptsFit leaves it.
		if tok, err := teacherTok(); err == nil {
			for _, m := range folders {
				// From config.json alone; one that cannot be read is left
				// to the load, which says it.
				hc, err := hf.LoadConfig(filepath.Join(m.dir, hf.ConfigFile))
				if err != nil || hc.VocabSize <= 0 {
					continue
				}
				errs = append(errs, configkey.Wrap(m.key, rlt.TokenizerRows(m.key, m.dir, tok.VocabSize(), hc.VocabSize)))
			}
		}
	}
	return errors.Join(errs...)
}

// checkKeys is Validate without reading files: every problem it finds,
// joined (errors.Join), each a *configkey.Error with the key it is about,
// so that the editor and `rlt run --config` put it on that key's line, or
// name the flag that set the key.
func checkKeys(c runconfig.Config) error {
	var errs []error
	// One problem per empty folder: each is on its own key's line, and a
	// flag that set the other one is not blamed.
	for _, m := range []struct{ key, dir string }{{"teacher", c.Teacher}, {"student", c.Student}} {
		if m.dir == "" {
			errs = append(errs, configkey.Errorf(m.key, "%s is empty: the %s model's folder is required", m.key, m.key))
		}
	}
	// A task that does not go with data is the task's problem, not the
	// data's: the message says what to set task to.
	switch {
	case c.Data != "" && c.Task != "" && c.Task != DataTask:
		errs = append(errs, configkey.Errorf("task", "task %q with data %q: a data run takes its questions from the file; set task = %q (rows that are %s questions keep their task's checker)",
			c.Task, c.Data, DataTask, strings.Join(task.Names(), " or ")))
	case c.Data == "" && c.EvalData != "":
		errs = append(errs, configkey.Errorf("eval_data", "eval_data %q without data: a synthetic task is evaluated on its own held-out split; set data = FILE too, or remove eval_data", c.EvalData))
	case c.Data == "" && (c.Task == "" || c.Task == DataTask):
		errs = append(errs, configkey.Errorf("task", "task %q needs data = FILE (JSON Lines of questions and solutions); or choose a synthetic task: %s", c.Task, strings.Join(task.Names(), ", ")))
	case c.Data == "":
		if _, ok := task.Lookup(c.Task); !ok {
			errs = append(errs, configkey.Errorf("task", "unknown task %q (known: %s, or %q with data = FILE)", c.Task, strings.Join(task.Names(), ", "), DataTask))
		}
	}
	// engine/device cannot know the key its name was read from.
	errs = append(errs, configkey.Wrap("device", device.Check(c.Device)), configkey.Wrap("matmul", device.CheckMatmul(c.Matmul)))
	for _, f := range []struct {
		key string
		v   int
	}{{"steps", c.Steps}, {"eval_every", c.EvalEvery}, {"eval_questions", c.EvalQuestions}, {"checkpoint_every", c.CheckpointEvery}, {"max_prompt_tokens", c.MaxPromptTokens}} {
		if f.v < 0 {
			errs = append(errs, configkey.Errorf(f.key, "%s %d must not be negative", f.key, f.v))
		}
	}
	// A cap that caps nothing is refused rather than taken silently: a
	// synthetic task's questions are all short.
	if c.MaxPromptTokens > 0 && c.Data == "" {
		errs = append(errs, configkey.Errorf("max_prompt_tokens", "max_prompt_tokens %d caps the prompts of a data file's rows, and this run has none (task %q): remove it, or give data = FILE", c.MaxPromptTokens, c.Task))
	}
	// rlt eval's --questions bound: eval_questions = 9223372036854775807
	// was taken, and the first evaluation (step 10 by default) failed in
	// task.Unique, its budget of draws overflowed. A data run's evaluation
	// takes its held-out rows, at most this many too.
	if c.EvalQuestions > task.MaxUnique {
		errs = append(errs, configkey.Errorf("eval_questions", "eval_questions %d is more questions than one evaluation draws (at most %d): ask for fewer (the default is %d)",
			c.EvalQuestions, task.MaxUnique, DefaultConfig("", "").EvalQuestions))
	}
	// The prompts are in the model's context from the first step on: an
	// empty one, or one a ChatML marker ends early, is refused here, with
	// the other keys' problems, not found once the models are loading.
	errs = append(errs, c.Prompts.Validate())
	rewardErr, grpoErr := c.Reward.Validate(), c.GRPO.Validate()
	errs = append(errs, rewardErr, grpoErr)
	// rlt.NewTrainer refuses this too, but only once a run folder exists;
	// on the reward's key, as RLT scores at the sampling temperature.
	if rewardErr == nil && grpoErr == nil && c.Reward.Temperature != c.GRPO.Temperature {
		errs = append(errs, configkey.Errorf("reward.temperature", "temperature %g differs from grpo.temperature %g: RLT scores explanations at the sampling temperature; set them equal",
			c.Reward.Temperature, c.GRPO.Temperature))
	}
	return errors.Join(errs...)
}

// Engine is a loaded run, ready to step.
type Engine struct {
	Cfg     runconfig.Config
	Trainer *rlt.Trainer
	Task    task.Task // the synthetic task; nil for a data run
	Data    *Data     // the user data; nil for a synthetic task

	sink event.Sink
	mu   sync.Mutex
	cond *sync.Cond
	// control state, guarded by mu
	paused, stopped, ckpt bool
	// checkpointed is the last step whose checkpoint is on disk, as far
	// as Run knows: the one OnCheckpoint last saved (returned nil after),
	// or the one the engine resumed from (-1: none), so that a stop does
	// not write it again. A failed save leaves it as it was: recorded
	// before the save, a stop asked for after a failed one took the step
	// for on disk and wrote none.
	checkpointed int
	// warning is reported once, when Run first starts (see DataWarning).
	warning error
	// Backend is where the run computes; Device names it and says why it
	// was chosen.
	Backend compute.Backend
	Device  event.DeviceChoice
	// OnCheckpoint, when set, is called between steps when a checkpoint is
	// asked for (by CheckpointNow); sessions saves the run there. Its
	// error means the checkpoint is not on disk: the engine says it (an
	// event.Error, "checkpoint: …") unless it is a *Reported, and the
	// checkpoint, asked for or scheduled, stays asked for (the next
	// step's end tries it again, or checkpointAtEnd as the engine
	// stops, unless the device has failed by then: Backend.Err).
	OnCheckpoint func(step int) error
}

// Reported is an OnCheckpoint error its caller has said already (the
// runner records a failed save as the run's fatal error, in its own
// words): the engine knows that the step is not on disk, and does not say
// it a second time.
type Reported struct{ Err error }

func (e *Reported) Error() string { return e.Err.Error() }
func (e *Reported) Unwrap() error { return e.Err }

// LoadStopped is New's error when its context ended while the models
// loaded: the load stopped before its next tensor, or within a large one
// (Err wraps the *model.StoppedError that names that tensor, which wraps
// the context's error), on the device Device names, closed since. A
// resume whose Restore stopped so is said with it too (runner.Start).
type LoadStopped struct {
	Device event.DeviceChoice
	Err    error
}

func (e *LoadStopped) Error() string { return e.Err.Error() }
func (e *LoadStopped) Unwrap() error { return e.Err }

// New loads the models and builds the trainer on a checked configuration
// and the data its check read (no file is read again). A data run leaves
// out, as counted skips, the rows too long for the models. A cancelled ctx
// stops the models' load before its next tensor, or within a large one,
// with a *LoadStopped error wrapping ctx.Err() (model.LoadAs). On every
// error the device opened for the models is closed.
func New(ctx context.Context, checked Checked, sink event.Sink) (*Engine, error) {
	return newOn(ctx, checked, sink, device.Open)
}

// newOn is New on the device open opens (device.Open; a test's counts
// its Close).
func newOn(ctx context.Context, checked Checked, sink event.Sink, open func(name, matmul string) (compute.Backend, event.DeviceChoice, error)) (*Engine, error) {
	if !checked.made {
		return nil, errors.New("run.New: the configuration was not checked (run.Check makes what New builds on)")
	}
	// The rows that do not fit the models are dropped from a copy: checked
	// stays as Check made it.
	cfg, data := checked.cfg, checked.data.clone()
	if err := (Checked{cfg: cfg, data: data, teacherTok: checked.teacherTok}).CheckMemory(); err != nil {
		return nil, err
	}
	t, _ := task.Lookup(cfg.Task) // nil for a data run
	if sink == nil {
		sink = event.Discard{}
	}
	// Loading the models is the first wait, before step 0 (Step −1); it
	// includes opening the device (auto probes for a GPU).
	load := event.Meter{Sink: sink}
	load.Start(-1, "loading", 1, "model pairs")
	be, choice, err := open(cfg.Device, cfg.Matmul)
	if err != nil {
		return nil, err
	}
	built := false
	defer func() {
		if !built {
			// No engine holds the models (a load failed or stopped, no
			// training row fits them, the trainer refused them): left
			// open, a GPU's memory held them until the process ended,
			// while the workbench's Runs screen may start other runs.
			device.Close(be)
		}
	}()
	// LoadPairAs, taking the teacher's tokenizer Check read where its
	// file is unchanged, not parsing it a second time.
	var pair *rlt.Pair
	folders, err := rlt.CheckPairWith(checked.teacherTok, cfg.Teacher, cfg.Student)
	if err == nil {
		pair, err = folders.Load(ctx, be, cfg.Prompts, model.Float32, rlt.FrozenPrecision(cfg.GRPO))
	}
	if err == nil {
		err = be.Err() // a device out of memory for the models
	}
	if err != nil {
		if be.Err() != nil {
			return nil, device.Failed(be, "load the models", err)
		}
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return nil, &LoadStopped{Device: choice, Err: err}
		}
		return nil, err
	}
	load.Set(1)
	var questions rlt.Questions = &taskQuestions{task: t, seed: cfg.GRPO.Seed}
	var warning error
	if data != nil {
		train, heldOut := data.fitReasons(pair.Tok, cfg.Prompts, cfg.GRPO.MaxNewTokens, pair.Positions(), cfg.MaxPromptTokens)
		if err := data.fit(train, heldOut, cfg.EvalEvery > 0); err != nil {
			return nil, err
		}
		questions = newDataQuestions(data.Train, cfg.GRPO.Seed)
		warning = data.warning(cfg)
	}
	tr, err := rlt.NewTrainer(cfg.GRPO, cfg.Reward, pair, questions, sink)
	if err != nil {
		return nil, err
	}
	e := &Engine{Cfg: cfg, Trainer: tr, Task: t, Data: data, sink: sink, warning: warning,
		Backend: be, Device: choice}
	e.cond = sync.NewCond(&e.mu)
	built = true
	return e, nil
}

// Memory describes the run for a memory estimate, from the model folders'
// config.json and checkpoint headers (no weight is read). Its prompts are
// PromptTokens assumed: Checked.Memory measures them.
func Memory(cfg runconfig.Config) (memory.GRPO, error) {
	tc, tdt, err := model.Inspect(cfg.Teacher)
	if err != nil {
		return memory.GRPO{}, err
	}
	sc, sdt, err := model.Inspect(cfg.Student)
	if err != nil {
		return memory.GRPO{}, err
	}
	g := cfg.GRPO
	m := memory.GRPO{Teacher: tc, Student: sc, StudentHeld: compute.F32, RefHeld: compute.F32,
		Questions: g.Questions, Samples: g.Samples, MaxNewTokens: g.MaxNewTokens, MicroBatch: g.MicroBatch,
		MicroBatchTokens: g.MicroBatchTokens, CheckpointLayers: g.CheckpointLayers, Reconstruct: g.Reconstruct,
		Stored16: tdt.Is16() || sdt.Is16()}
	// A run evaluates after every eval_every-th step (Engine.Run): one of
	// fewer steps never does.
	if cfg.EvalEvery > 0 && cfg.EvalQuestions > 0 && (cfg.Steps == 0 || cfg.Steps >= cfg.EvalEvery) {
		m.EvalSeqs = min(cfg.EvalQuestions, EvalBatch) // Evaluate's batch
	}
	if rlt.FrozenPrecision(g) == model.Frozen16 {
		if sdt.Is16() {
			m.StudentHeld = sdt
		}
		if tdt.Is16() {
			m.RefHeld = tdt
		}
	}
	return m, nil
}

// Memory is Memory(c.Config()) with the longest prompts the run's
// questions make, where they are known before anything loads: a synthetic
// task's widest question (widestPrompts, the bound checkPromptsFit takes
// for every step's questions), or the longest of a data file's rows that
// fit the models (New leaves the others out), each measured as the scorer
// lays it out (rlt.PromptLengths), the longest named by its file and line
// for the advice (memory.GRPO.LongestRow); memory.PromptTokens
// assumed where the teacher's tokenizer cannot be read (its load says
// why). A run of long prompts was estimated at 128 tokens: the embedded
// tokenizer's prompts of a model made by rlt model init take 284.
func (c Checked) Memory() (memory.GRPO, error) {
	m, err := Memory(c.cfg)
	if err != nil {
		return m, err
	}
	tok, err := c.tokenizer()
	if err != nil {
		return m, nil
	}
	if c.data != nil {
		pos := rlt.Positions{Teacher: m.Teacher.MaxPos, Student: m.Student.MaxPos}
		b := c.data.longestPrompts(tok, c.cfg.Prompts, func(l [2]int) bool {
			return lengthsReason(c.cfg.GRPO.MaxNewTokens, pos, c.cfg.MaxPromptTokens, "", l[0], l[1]) == ""
		})
		m.TeacherPrompt, m.StudentPrompt = b.teacher, b.student
		m.Solution, m.BeforeSolution = b.solution, b.beforeSolution
		m.Prompts = "the longest of the data's rows"
		if b.row != "" {
			m.Prompts += ", " + b.row
			m.LongestRow, m.NextTeacherPrompt, m.NextStudentPrompt = b.row, b.nextTeacher, b.nextStudent
		}
		return m, nil
	}
	if t, ok := task.Lookup(c.cfg.Task); ok && c.cfg.Data == "" {
		var widest task.Example
		widest, m.TeacherPrompt, m.StudentPrompt = widestPrompts(tok, c.cfg.Prompts, t)
		// No solution of the task is wider than the widest's
		// (task.Task.Widest), its digits counted at their bytes.
		m.Solution = atBytes(tok, tok.Encode(widest.Solution))
		m.BeforeSolution = m.StudentPrompt - m.Solution
		m.Prompts = "the task's widest question"
	}
	return m, nil
}

// tokenizer is the teacher's tokenizer: Check's, or read from its folder.
func (c Checked) tokenizer() (*tokenizer.Tokenizer, error) {
	if c.teacherTok != nil {
		return c.teacherTok.Tok, nil
	}
	r, err := rlt.ReadFolderTokenizer(c.cfg.Teacher)
	if err != nil {
		return nil, err
	}
	return r.Tok, nil
}

// CheckMemory refuses a run whose estimated peak memory exceeds what it
// computes in, with the estimate and what would make it fit: the host's
// memory on the CPU (memory.Available), the GPU's on a GPU (chosen as
// cfg.Device chooses, probed without opening it), where the weights,
// gradients, moments and activations then live. A GPU asked for and not
// there is refused here too. Callers run it before they create anything
// for the run. The prompts are measured as Checked.Memory measures them:
// a synthetic task's widest; a data run's rows are not read here
// (memory.PromptTokens assumed): Checked.CheckMemory reads Check's.
func CheckMemory(cfg runconfig.Config) error { return Checked{cfg: cfg}.CheckMemory() }

// CheckMemory is CheckMemory of the checked configuration, its prompts
// measured on the rows Check read.
func (c Checked) CheckMemory() error {
	m, err := c.Memory()
	if err != nil {
		return err
	}
	where, err := device.MemoryOf(c.cfg.Device)
	if err != nil {
		return err
	}
	m.DeviceHead, m.DeviceScratch = where.HeadBytes, where.Scratch
	m.Probed, m.OnGPU = where.Probed, where.GPU != ""
	if err := memory.CheckBuffer("this run", where.GPU, int64(where.MaxBuffer), m.Largest()); err != nil {
		return err
	}
	return memory.CheckGRPO("this run", where.GPU, int64(where.Bytes), m)
}

// Pause implements sessions.Controller: the engine stops between steps.
func (e *Engine) Pause() { e.mu.Lock(); e.paused = true; e.mu.Unlock() }

// Resume implements sessions.Controller.
func (e *Engine) Resume() { e.mu.Lock(); e.paused = false; e.cond.Broadcast(); e.mu.Unlock() }

// Stop implements sessions.Controller: the run ends after the step in progress.
func (e *Engine) Stop() { e.mu.Lock(); e.stopped = true; e.cond.Broadcast(); e.mu.Unlock() }

// CheckpointNow implements sessions.Controller: a checkpoint after the step
// in progress; on a paused engine, of its last step once it resumes, or as
// it stops (Run).
func (e *Engine) CheckpointNow() { e.mu.Lock(); e.ckpt = true; e.mu.Unlock() }

// Paused reports whether the engine is paused.
func (e *Engine) Paused() bool { e.mu.Lock(); defer e.mu.Unlock(); return e.paused }

// waitTurn blocks while paused; false means stop.
func (e *Engine) waitTurn(ctx context.Context) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.paused {
		e.sink.Emit(event.Phase{Time: time.Now(), Name: "paused", Step: e.Trainer.StepIndex()})
	}
	for e.paused && !e.stopped && ctx.Err() == nil {
		e.cond.Wait()
	}
	return !e.stopped && ctx.Err() == nil
}

// Run steps until Steps are done, the context is cancelled or Stop is called.
func (e *Engine) Run(ctx context.Context) error {
	stopWake := context.AfterFunc(ctx, func() { e.mu.Lock(); e.cond.Broadcast(); e.mu.Unlock() })
	defer stopWake()
	e.mu.Lock()
	warning := e.warning
	e.warning = nil
	e.mu.Unlock()
	e.sink.Emit(event.Device{Time: time.Now(), Step: e.Trainer.StepIndex(), DeviceChoice: e.Device})
	if warning != nil {
		e.sink.Emit(event.Error{Time: time.Now(), Step: e.Trainer.StepIndex(), Err: warning, Severity: event.SeverityWarning})
	}
	e.mu.Lock()
	e.checkpointed = e.Trainer.StepIndex() - 1 // the state resumed from, or none
	e.mu.Unlock()
	for e.Cfg.Steps == 0 || e.Trainer.StepIndex() < e.Cfg.Steps {
		if !e.waitTurn(ctx) {
			break
		}
		step := e.Trainer.StepIndex()
		_, err := e.Trainer.Step(ctx)
		if err == nil {
			err = e.Backend.Err() // a device lost where no tape looked
		}
		if err != nil {
			// A step cut by the stop (its error the context's, which
			// Step returns between its phases) ends the run as a stop
			// does. Any other error is the step's own, whether or not
			// a stop is pending, and is the run's, said: one refused
			// before its optimiser update (a non-finite reward) leaves
			// the previous step's state, which the run's close saves;
			// one that failed after it did not fail for the stop (no
			// phase after the update looks at the context), and no
			// checkpoint is made of its weights (Snapshot). Taken for
			// the stop's, either was dropped: the run read as cleanly
			// stopped, and a torn step's weights were saved as the
			// previous step's checkpoint.
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) && e.Trainer.Torn() == nil {
				break
			}
			if e.Backend.Err() != nil {
				err = device.Failed(e.Backend, fmt.Sprintf("step %d", step), err)
			}
			e.sink.Emit(event.Error{Time: time.Now(), Step: step, Err: err, Fatal: true})
			return err
		}
		if e.Cfg.EvalEvery > 0 && (step+1)%e.Cfg.EvalEvery == 0 {
			// Said, so that a follower sees what the run does between
			// steps (the header's phase; a long evaluation is not silence).
			e.sink.Emit(event.Phase{Time: time.Now(), Name: "evaluating", Step: step})
			vals, err := e.Evaluate(e.Cfg.EvalQuestions)
			if err != nil {
				e.sink.Emit(event.Error{Time: time.Now(), Step: step, Err: err})
			} else {
				e.sink.Emit(event.Metrics{Time: time.Now(), Step: step, Values: vals})
			}
		}
		e.mu.Lock()
		ck := e.ckpt || (e.Cfg.CheckpointEvery > 0 && (step+1)%e.Cfg.CheckpointEvery == 0)
		e.ckpt = false
		e.mu.Unlock()
		if ck {
			e.checkpoint(step)
		}
	}
	// "done" means the planned steps were all run; a run stopped before
	// (asked to, cancelled, or open-ended) says "stopped", so a listing
	// never calls an interrupted run finished. Either comes after the
	// checkpoint of the last step made (checkpointAtEnd); where that
	// step is not on disk (its save failed again, its device failed),
	// the run is not finished whatever it ran: "stopped", and a resume
	// goes on from its last good checkpoint. It recorded "done" after
	// the failed save (the runner's fatal error), a finish its last step
	// never had on disk.
	saved := e.checkpointAtEnd()
	phase := "stopped"
	if e.Cfg.Steps > 0 && e.Trainer.StepIndex() >= e.Cfg.Steps && saved {
		phase = "done"
	}
	e.sink.Emit(event.Phase{Time: time.Now(), Name: phase, Step: e.Trainer.StepIndex()})
	return nil
}

// checkpoint calls OnCheckpoint after step, saying its error at once
// unless its caller said it (Reported). The step is recorded as
// checkpointed only once it is saved; a checkpoint whose save failed,
// asked for (CheckpointNow, as S asks) or scheduled (checkpoint_every)
// alike, is left asked for, so that the stop that follows (a failed save
// stops a run of the runner's) tries it again (checkpointAtEnd), or
// the next step's end writes one. A scheduled one was dropped: the next
// try came checkpoint_every steps later, or at the run's close. Not from
// a failed device: checkpointAtEnd looks at it as it tries (a step's
// end never comes after one: the step fails on it).
func (e *Engine) checkpoint(step int) {
	if e.OnCheckpoint == nil {
		return
	}
	err := e.OnCheckpoint(step)
	e.mu.Lock()
	if err == nil {
		e.checkpointed = step
	} else {
		e.ckpt = true
	}
	e.mu.Unlock()
	if err != nil && !errors.As(err, new(*Reported)) {
		e.sink.Emit(event.Error{Time: time.Now(), Step: step, Err: fmt.Errorf("checkpoint: %w", err)})
	}
}

// checkpointAtEnd writes, as the engine ends (its plan run, stopped, or
// its context cancelled), the checkpoint of its last step where none is
// on disk yet, before Run records the phase that ends it ("done" or
// "stopped"), and reports whether that step is on disk (true where the
// engine made no step, or saves none: no OnCheckpoint). The phase says
// where the run stands: "done" that it is finished (the listing's
// finished, the resume's nothing to run), "stopped" at which step (the
// listing's step), so the weights of that step must be on disk first, as
// one rule for both. The checkpoint came after, the run's close's
// (runner.Handle.Close), after Run had returned, where checkpoint_every
// did not divide the steps (a3c7610 put it first for "done") or where a
// stop came with no checkpoint asked for (CheckpointNow): a process
// killed between the two left a run listed finished, or stopped at step
// N, whose last steps' weights were never saved and whose resume ran them
// again from an earlier checkpoint. One owner of that order, the engine,
// which writes both; the close's final checkpoint then finds the step
// saved and writes nothing. A step checkpointed already (or resumed from)
// is not written again; one whose save failed (asked for or scheduled:
// a failed save stops a run of the runner's) is tried once more
// (checkpoint; a failed save is OnCheckpoint's to say). Written whatever
// the context (the close writes it so), not from a failed device
// (Backend.Err: lost as a checkpoint read the weights back, or since),
// which holds no weights to read: the run ends on its error. The engine
// is the one to look (runner.Handle's onCheckpoint does not), and here,
// as it tries, not as the save failed: a device may fail after a save
// failed for want of room.
func (e *Engine) checkpointAtEnd() bool {
	e.mu.Lock()
	e.ckpt = false
	last := e.Trainer.StepIndex() - 1
	done := last == e.checkpointed
	e.mu.Unlock()
	if done || e.OnCheckpoint == nil {
		return true
	}
	if e.Backend.Err() != nil {
		return false
	}
	e.checkpoint(last)
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.checkpointed == last
}

// Evaluate has the teacher explain n held-out questions (greedy) and the
// student solve each from its explanation (greedy): exact-match accuracy of
// the student, the rate of explanations whose steps verify, and the rate that
// state the answer before deriving it. A data run evaluates on its first n
// held-out questions (all of them when there are fewer).
func (e *Engine) Evaluate(n int) (map[string]float64, error) {
	if n <= 0 {
		return nil, fmt.Errorf("evaluate: no questions asked for")
	}
	tr := e.Trainer
	if e.Data != nil {
		exs := e.Data.HeldOut[:min(n, len(e.Data.HeldOut))]
		if len(exs) == 0 {
			return nil, fmt.Errorf("evaluate: the data has no held-out question")
		}
		return EvalTeacher(tr.Pair, nil, exs, e.Cfg.GRPO.MaxNewTokens)
	}
	exs, err := task.NewSampler(e.Task, task.HeldOut, 99).Unique(n)
	if err != nil {
		return nil, err
	}
	return EvalTeacher(tr.Pair, e.Task, exs, e.Cfg.GRPO.MaxNewTokens)
}

// EvalTeacher has the teacher explain each example (greedy) and the student
// answer from the explanation: the student's exact-match accuracy and the
// rates of explanations that verify step by step and that state the answer
// before deriving it. With t nil (user data) each example is checked by its
// own task when it has one (Example.Task) and by exact match of its
// solution otherwise (task.CheckSolution); the two rates are then over the
// examples that have a task, and absent when none has. The values are
// named for a run's metrics, beside the training batch's own:
// eval_accuracy, eval_verified_rate, eval_leak_rate.
func EvalTeacher(pair *rlt.Pair, t task.Task, exs []task.Example, maxNew int) (map[string]float64, error) {
	_, vals, err := EvalTeacherResults(context.Background(), pair, t, exs, maxNew)
	if err != nil {
		return nil, err
	}
	metrics := make(map[string]float64, len(vals))
	for k, v := range vals {
		metrics["eval_"+k] = v
	}
	return metrics, nil
}

// taskQuestions draws each step's questions from the task's train split,
// deterministically in (seed, step), so a resumed run sees the same data.
type taskQuestions struct {
	task task.Task
	seed uint64
}

func (q *taskQuestions) Batch(step, n int) []rlt.Example {
	s := task.NewSampler(q.task, task.Train, q.seed*0x9e3779b97f4a7c15+uint64(step)+1)
	out := make([]rlt.Example, n)
	for i, ex := range s.Take(n) {
		out[i] = rlt.Example{Question: ex.Question, Solution: ex.Solution}
	}
	return out
}
