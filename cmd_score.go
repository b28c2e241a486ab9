package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/engine/configkey"
	"github.com/rlt-workbench/rlt/engine/device"
	"github.com/rlt-workbench/rlt/engine/durable"
	"github.com/rlt-workbench/rlt/engine/memory"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/remote"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/sessions/runner"
)

const scoreUsage = `
Usage: rlt score --teacher DIR|URL --student DIR|URL [flags] < traces.jsonl > scores.jsonl
       rlt score [--teacher DIR|URL --student DIR|URL] --run RUNDIR [--write] [flags] > scores.jsonl
       rlt score [--student DIR] --run RUNDIR --teacher-of-step [--write] [flags] > scores.jsonl

Scores explanations with the RLT reward (r = r_SS − r_KL + m): for each
input line {"question", "solution", "explanation"} — or {"question",
"solution", "completion"} with a teacher's raw output, whose explanation is
extracted (a missing end tag costs the format penalty), or a Bespoke-Stratos
{"conversations"} row (the thought, less its lead "\n\n", is the
explanation) — writes one line with r_ss, r_kl, reward, each reduction and
every per-token array (explanation tokens with teacher and student log-probs
and d, solution tokens with the student's log-probs). The explanation is the
body after the prefill; the span scored is the explanation as the official
trainer takes it, the prefill's "\n\n" first (less a token that a
vocabulary with plain-text tags, such as Qwen's, merges into a tag). Lines
that cannot be scored get {"line": N, "error": ...} and the rest go on;
stdin that is one JSON
document (an array, or an object over several lines) instead of JSON
Lines is refused, nothing scored. Teacher and student must
share one tokenizer. The prompts are the ones the model folders record
(prompts.json, written by rlt pretrain, rlt train --save and rlt distill),
unless --teacher-system or --student-system says otherwise.

The reward is the defaults (the official run's), each flag given over
them. Rows may record the reward they were ranked with, as rlt distill
--samples-out's do ("reward_config"): the first row's then takes the
defaults' place, a flag given still winning, so that the rows are scored
again with their own reward; a later row that records another is an
error line (one scorer scores them all: score such rows apart, or give
the flags of the values that differ). A row marked "cut": true (its
completion only the part that fit the models that scored it) is scored
as it is, as the ranking scored it; its output line says "cut": true and
stderr says which lines were cut. Before any scoring, stderr says the
resolved reward once, as rlt distill --best-of says its own, with where
it came from, and below it the student prompt scored with and where it
came from (--student-system, the models' prompts.json, the default).

With --run, every trace of a run folder (one of ours, or one made by rlt
import) is scored — its question, solution and explanation, with the format
penalty if the teacher never closed it — and each output line also carries
"trace", the trace's ID ("line" counts the run's traces). The run's own
prompts and reward coefficients (config.toml's [reward], a key it lacks at
its default, as a resume trains with it, said on the reward line) are the
defaults; flags given override them (an imported run's student prompt is
the one its rows carried, [import] student_system, else the default
student prompt, the one rlt export writes its rows with; its reward is
the one its rows were ranked with where rlt import recorded it,
[import.reward], read alike, else the defaults). A
reward value scoring refuses is said at its line, and nothing is scored.
--write also stores the new scores in the run, in
rescores.jsonl keyed by trace ID: traces are never rewritten, so reviews and
exports are untouched (the run must not be in use by another writer).
After its count of the traces scored, stderr says the mean reward, r_SS
and r_KL of the scores written (runs of a λ sweep, each rescored with one
--c3, compare by it).

The run's teacher is the one config.toml names, the teacher before
training: step 0's traces score as the run scored them, a later step's
differ. --teacher-of-step scores each step's traces with the teacher that
scored them in the run, one teacher loaded at a time, in step order: step
0's with config.toml's, step N's with the teacher of the checkpoint after
step N−1 (RUNDIR/checkpoints/step-(N−1)/teacher), so that every reward is
the recorded one. A step whose checkpoint the run no longer keeps (rotated
away, or never written: checkpoint_every > 1) is an error line for each of
its traces naming the checkpoint, not scored (exit 1); the other steps are
scored. With --write, each stored rescore names the teacher that scored it
(the checkpoint's folder, and its weights by the SHA-256s its state.json
records: a checkpoint that a resume writes again at the same step with
other weights has its step scored again). The teachers are the run's:
--teacher is refused with it, and so are servers.

Each model is a folder, or the http(s) URL of an inference server that
serves it (each may be its own): vLLM (/v1/completions with prompt_logprobs),
SGLang (/generate with return_logprob), or rlt serve; --server-kind says
which, else /v1/models tells. Token ids are sent, not text: the tokenizer
(and the recorded prompts) are a folder's, --tokenizer's when both are URLs
(a model folder, or its tokenizer.json: the prompts.json beside it is
read), and each server must tokenize a probe as it does (checked once; the
first differing token is named). vLLM and SGLang compute prompt log-probs
of the raw logits whatever the temperature asked: a probe finds it out, and
then both models are asked at temperature 1 and every output line, stored
rescore and the workbench say "temperature": 1 (rlt serve applies the
temperature). The full estimator needs whole distributions: refused through
a server. Requests are concurrent (--concurrency), retried on timeouts,
dropped connections and 5xx answers; a server that keeps failing stops the
scoring with the server and the trace named, the batch in flight unstored
but for its first items that both models had scored, which are written.
With --run --write, traces already re-scored by the same models under the
same configuration are not scored again (their stored scores are printed,
"stored": true), so an interrupted run resumes; --again scores them anew.
Every output line carries "temperature", the one its log-probs are at.

--stats FILE writes a summary of the work done: a first line with the items
scored and failed, the tokens of the teacher's and the student's sequences,
the seconds spent loading and scoring, and the tokens scored per second,
then teacher_lens=… and student_lens=…, each scored item's sequence lengths
in tokens, comma-separated in input order (the lengths a peer needs to run
the same forwards, as the PyTorch comparison of docs/performance.md does).
The summary line also goes to stderr.

Examples:
  rlt score --teacher /tmp/defaults/teacher --student /tmp/defaults/student < traces.jsonl
  rlt score --teacher /tmp/trained --student /tmp/defaults/student --run runs/official --write
  # From another machine, to the two servers rlt serve --help starts on gpu1:
  rlt score --teacher http://gpu1:8000 --student http://gpu1:8001 --tokenizer /tmp/defaults/student --run RUNDIR --write
`

func runScore(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("rlt score", scoreUsage, stdout, stderr)
	tdir := fs.String("teacher", "", "teacher model folder or server URL (required; with --run, default: the run's)")
	sdir := fs.String("student", "", "student model folder or server URL (required; with --run, default: the run's)")
	tokDir := fs.String("tokenizer", "", "with two server URLs: the model folder whose tokenizer.json (and prompts.json) the servers' models use, or that tokenizer.json")
	kindFlag := fs.String("server-kind", "auto", "the servers' protocol: vllm, sglang or auto (/v1/models' owned_by)")
	ro := remote.Options{}
	fs.IntVar(&ro.Concurrency, "concurrency", 8, "requests in flight at once per server")
	fs.IntVar(&ro.Retries, "retries", 4, "further tries of a request after a timeout, a dropped connection or a 5xx answer")
	fs.DurationVar(&ro.Timeout, "timeout", 5*time.Minute, "one request's limit")
	again := fs.Bool("again", false, "with --run: score again traces already re-scored by the same models and configuration")
	rc := record.DefaultRewardConfig()
	fs.Float64Var(&rc.Temperature, "temperature", rc.Temperature, "log-probs are of logits / temperature")
	rewardCoefficientFlags(fs, &rc)
	est := rewardEstimatorFlag(fs, rc.Estimator)
	batch := fs.Int("batch", 16, "items scored together")
	teacherSys := fs.String("teacher-system", "", "teacher system prompt (default: with --run, the run's, which its traces were made with, whatever --teacher scores; else the one the models record)")
	studentSys := fs.String("student-system", "", "student system prompt (default: with --run, the run's, which its traces were made with, whatever --student scores; else the one the models record)")
	runDir := fs.String("run", "", "score every trace of this run folder instead of stdin")
	write := fs.Bool("write", false, "with --run: store the scores in the run's rescores.jsonl")
	ofStep := fs.Bool("teacher-of-step", false, "with --run: score each step's traces with the teacher that scored them in the run (step 0: config.toml's; step N: checkpoints/step-(N−1)/teacher)")
	weights := weightsFlag(fs, false)
	mbTokens := fs.Int("micro-batch-tokens", runconfig.DefaultMicroBatchTokens, "each forward holds at most this many padded positions (items × longest sequence); 0 = no limit")
	dev := deviceFlag(fs, "the local models")
	statsPath := fs.String("stats", "", "write a summary (items, tokens, time, tokens/s, each item's sequence lengths) to this file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	prec, err := parseWeights(*weights)
	if err != nil {
		return badValue(fs, "%v", err)
	}
	kind, err := remote.ParseKind(*kindFlag)
	if err != nil { // said even when no server is given: the value is no protocol
		return badValue(fs, "--server-kind: %v", err)
	}
	if *ofStep && *runDir == "" {
		return misuse(fs, "--teacher-of-step scores a run's traces with the teachers its steps had: give the run with --run")
	}
	if *runDir == "" && (*tdir == "" || *sdir == "") {
		return misuse(fs, "--teacher and --student are required (with --run, they default to the run's)")
	}
	if *write && *runDir == "" {
		return misuse(fs, "--write stores scores in a run folder: give it with --run")
	}
	if *again && *runDir == "" {
		return misuse(fs, "--again scores a run's traces anew: give the run with --run")
	}
	if *ofStep && remote.IsURL(*tdir) {
		return misuse(fs, "--teacher-of-step loads each step's teacher from the run's checkpoints, which a server (--teacher %s) does not serve: leave --teacher out, or score step by step with --teacher URL of a server that serves that step's checkpoint", *tdir)
	}
	if *ofStep && *tdir != "" {
		return misuse(fs, "--teacher-of-step takes each step's teacher from the run (config.toml's for step 0, checkpoints/step-(N−1)/teacher for step N): leave --teacher %s out, or give it without --teacher-of-step to score every trace with it", *tdir)
	}
	if *ofStep && remote.IsURL(*sdir) {
		return misuse(fs, "--teacher-of-step scores with model folders, the run's teachers and the student: --student %s is a server; give the student's folder", *sdir)
	}
	if err := checkArgs(fs, 0, ""); err != nil {
		return err
	}
	if err := checkDeviceFlags(fs); err != nil {
		return err
	}
	if st, err := os.Stat(*statsPath); *statsPath != "" && err == nil && st.IsDir() { // before the work, not after
		return badValue(fs, "--stats %s: a folder; give a file to write the summary to", *statsPath)
	}
	if *statsPath != "" {
		if err := refuseUnwritable("stats", *statsPath, filepath.Dir(*statsPath)); err != nil {
			return err
		}
	}
	if err := checkCounts(fs, atLeast{"batch", *batch, 1}, atLeast{"micro-batch-tokens", *mbTokens, 0},
		atLeast{"concurrency", ro.Concurrency, 1}, atLeast{"retries", ro.Retries, 0}); err != nil {
		return err
	}
	if ro.Timeout <= 0 {
		return badValue(fs, "--timeout %v: want a positive duration, such as 30s or 5m", ro.Timeout)
	}
	// The reward: the defaults, or what a run's config.toml or stdin's
	// first row records, with the flags given over it (rewardOver); from
	// says where it came from, beside the line that says it (rewardLine).
	set := flagsGiven(fs)
	rc.Estimator = record.Estimator(*est)
	from := ""
	studentFrom := "" // where a run's student prompt came from (studentPromptLine); "": a flag's, or the models'
	var run *sessions.Run
	if *runDir != "" {
		var err error
		if *write {
			run, err = sessions.OpenWith(*runDir, nil, sessions.Options{Intent: sessions.IntentRescore})
		} else {
			run, err = sessions.OpenReadOnly(*runDir)
		}
		if err != nil {
			return err
		}
		defer run.Close()
		if err := run.ConfigSyntax(); err != nil {
			return err
		}
		// A value of the wrong type (temperature = "hot") would leave the
		// reads below at the defaults, scored with unsaid. An import's
		// [import] format this rlt does not know is read as rlt export
		// reads it (sessions.Run.RowsConfigTypes): its rows scored with
		// the student_system it records, warned, where it was refused.
		note, err := run.RowsConfigTypes("scored", "score")
		if err != nil {
			return err
		}
		if note != "" {
			fmt.Fprintf(stderr, "warning: %s\n", note)
		}
		// A key the run's settings have no place for (another version's,
		// a typo such as kl_mx) is passed over, the rest read, as the
		// workbench reads them (sessions.UnknownKeys): said, not scored
		// past unsaid, where a typo left its key at its default.
		for _, ce := range sessions.UnknownKeys(filepath.Join(*runDir, sessions.ConfigFile), run.ConfigText()) {
			fmt.Fprintf(stderr, "%v: ignored\n", ce)
		}
		// The run's models, unless --teacher or --student says otherwise,
		// and its own prompts, unless a flag says otherwise: read
		// leniently (Settings), as the workbench reads them, so that a key
		// another version wrote, or an import's, leaves them read. They
		// are the prompts its rows were made with (sessions.RowsPrompts),
		// the export's too: an import of Bespoke-Stratos rows is scored
		// with the system prompt they carried, as it exports them, not
		// with the models' own. A strict read dropped the prompts on any
		// unknown key, scored with the models', unsaid.
		st := run.Settings()
		cfgPath := filepath.Join(*runDir, sessions.ConfigFile)
		if !set["teacher-system"] && st.Prompts.TeacherSystem != "" {
			*teacherSys = st.Prompts.TeacherSystem
		}
		if !set["student-system"] && st.Prompts.StudentSystem != "" {
			*studentSys = st.Prompts.StudentSystem
			_, studentFrom = sessions.RowsStudentPrompt(cfgPath, run.ConfigText())
		}
		if st.Imported == "" && (*teacherSys == "" || *studentSys == "") {
			own, file, err := runModelsPrompts(run, cfgPath, *teacherSys == "", *studentSys == "")
			if err != nil {
				return err
			}
			if *teacherSys == "" {
				*teacherSys = own.TeacherSystem
			}
			if *studentSys == "" {
				*studentSys = own.StudentSystem
				studentFrom = "the models' own, " + file
				if file == "" {
					studentFrom = "the default student prompt: the models " + cfgPath + " names record none (no " + record.PromptsFile + ")"
				}
			}
		}
		// The run's own coefficients, unless a flag says otherwise: its
		// [reward] as the resume trains with it and the workbench shows it
		// (sessions.RunReward), a key it lacks at its default, said; a
		// value scoring refuses is the file's to mend, at its line, unless
		// a flag gives one over it. It was read over nothing, so that a
		// dropped kl_max scored at 0.
		if recorded, unset, ok, err := sessions.RunReward(cfgPath, run.ConfigText()); ok && st.Imported == "" {
			if err := configRewardProblems(cfgPath, "[reward]", err, set); err != nil {
				return err
			}
			rc = rewardOver(rc, recorded, set)
			from = rewardOrigin(cfgPath+"'s [reward]", recorded, rc, set) + unsetRewardKeys(recorded, unset, set)
		}
		if imported, unset, err := sessions.ImportedReward(cfgPath, run.ConfigText()); imported != nil {
			// An import of rows that record the reward they were ranked
			// with: scored with it, as a run's traces are with its
			// [reward], so that the scores compare with their source
			// rewards. A key the table lacks is its default, said; a
			// value scoring refuses is the file's to mend, unless a flag
			// gives one over it.
			if err := configRewardProblems(cfgPath, "[import.reward], the reward the imported rows were ranked with,", err, set); err != nil {
				return err
			}
			rc = rewardOver(rc, *imported, set)
			from = rewardOrigin(cfgPath+"'s [import.reward], the imported rows' reward_config", *imported, rc, set) + unsetRewardKeys(*imported, unset, set)
		}
		if *tdir == "" {
			*tdir = st.Teacher
		}
		if *sdir == "" {
			*sdir = st.Student
		}
		if *ofStep && st.Teacher == "" {
			return fmt.Errorf("%s records no teacher, so --teacher-of-step has none for step 0 (an imported run's traces were scored elsewhere): give --teacher without --teacher-of-step", filepath.Join(*runDir, sessions.ConfigFile))
		}
		if *tdir == "" || *sdir == "" {
			return fmt.Errorf("%s records no teacher or student model: give --teacher and --student", filepath.Join(*runDir, sessions.ConfigFile))
		}
		if *ofStep && (remote.IsURL(*tdir) || remote.IsURL(*sdir)) {
			return fmt.Errorf("%s names a server for a model: --teacher-of-step scores with model folders", filepath.Join(*runDir, sessions.ConfigFile))
		}
	}
	if *tokDir != "" && !remote.IsURL(*tdir) && !remote.IsURL(*sdir) {
		// Two model folders tokenize with their own tokenizer.json: a
		// --tokenizer would be ignored, whatever it names.
		return misuse(fs, "--tokenizer is the tokenizer of servers' models: %s and %s are model folders, scored with their own tokenizer.json; leave --tokenizer out", *tdir, *sdir)
	}
	if err := rc.Validate(); err != nil {
		return rewardFlagProblems(fs, err)
	}
	if err := checkScoreTemplates(*tdir, *sdir, *tokDir); err != nil {
		return err
	}
	// A signal (stopSignals) stops the scoring after the batch in
	// progress, written whole (and with --write stored): stdout holds the
	// results up to it, as scoreStopped says. A batch an inference server
	// scores is dropped instead, its requests cancelled at once (ctx
	// reaches remote.Server.LogProbs). It killed rlt score, stdout
	// cut where it came. One while the models load (or a server is
	// checked), or while stdin's first line is awaited, stops that, said
	// by loadStopped: the load went on to its end, or the signal killed
	// it (and killed the wait without a word).
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	defer stop()
	unit, goOn := "input line", "run the same command again"
	if run != nil {
		unit = "trace"
	}
	// stdin is read through in; one JSON document given instead of JSON
	// Lines is said once, before any model loads. The look ahead waits
	// for stdin's first line apart from the signal, which ends the wait.
	in := bufio.NewReaderSize(stdin, stdinLook)
	var rowsReward rowsRewardFrom // stdin's: where the reward scored with came from
	if run == nil {
		looked := make(chan error, 1)
		go func() { looked <- stdinDocument(in) }()
		select {
		case err := <-looked:
			if err != nil {
				return err
			}
		case <-ctx.Done():
			return loadStopped(ctx, nil, "it waited for its input", unit, goOn)
		}
		// Rows that record the reward they were ranked with (rlt distill
		// --samples-out's) are scored with it, the flags given over it:
		// the first row's, which every row that records one must agree
		// with (rowsRewardFrom.same), since one scorer scores them all.
		n, raw, cut := firstRewardConfig(in)
		rowsReward = rowsRewardFrom{line: n, cut: cut}
		if raw != "" {
			base, err := record.ParseRewardConfig([]byte(raw))
			if err != nil {
				return fmt.Errorf("stdin line %d: %v, so nothing was scored: mend it, or remove it to score with the defaults and the flags given", n, err)
			}
			rc = rewardOver(rc, base, set)
			if err := rc.Validate(); err != nil { // a flag's value was refused above: these are the line's
				return recordedRewardProblems(n, err)
			}
			rowsReward.recorded = true
			from = rewardOrigin(fmt.Sprintf("stdin line %d's reward_config", n), base, rc, set)
		}
	}
	override := record.Prompts{TeacherSystem: *teacherSys, StudentSystem: *studentSys}
	loadStart := time.Now()
	var sc *rlt.Scorer
	var be compute.Backend                               // where the local models compute
	var swap func(ctx context.Context, dir string) error // --teacher-of-step: loads a step's teacher in place of the one held; ctx stops the load
	var held *rlt.Pair                                   // --teacher-of-step: the pair loaded, whose student scores every step
	if !remote.IsURL(*tdir) && !remote.IsURL(*sdir) {
		prompts, err := record.PromptsFor(*tdir, *sdir, override)
		if err != nil {
			return err
		}
		// The pair's folders (tokenizers, one vocabulary, a row per token)
		// are checked before the device opens, and the pair loads from
		// what was read.
		folders, err := rlt.CheckPair(*tdir, *sdir)
		if err != nil {
			return err
		}
		if err := checkScoreMemory(*tdir, *sdir, prec, *batch, *mbTokens, rc.Estimator == record.FullKL, *dev); err != nil {
			return err
		}
		if be, err = openDevice("rlt score", *dev, stderr); err != nil {
			return err
		}
		defer device.Close(be)
		pair, err := folders.Load(ctx, be, prompts, prec, prec)
		if err := loadStopped(ctx, err, "the models loaded", unit, goOn); err != nil {
			return err
		}
		if err := deviceCheck(be, "load the models", err); err != nil {
			return err
		}
		if sc, err = rlt.NewScorer(pair, rc); err != nil {
			return err
		}
		if *ofStep {
			held = pair
		}
	} else {
		ro.Kind = kind
		if err := checkScoreMemory(*tdir, *sdir, prec, *batch, *mbTokens, rc.Estimator == record.FullKL, *dev); err != nil {
			return err
		}
		if !remote.IsURL(*tdir) || !remote.IsURL(*sdir) { // one model is local
			if be, err = openDevice("rlt score", *dev, stderr); err != nil {
				return err
			}
			defer device.Close(be)
		}
		sc, err = serverScorer(ctx, be, *tdir, *sdir, *tokDir, override, rc, prec, ro, stderr)
		what := "the model loaded and the server was checked"
		if remote.IsURL(*tdir) && remote.IsURL(*sdir) { // no model loads
			what = "the servers were checked"
		}
		if err := loadStopped(ctx, err, what, unit, goOn); err != nil {
			return err
		}
		if err != nil {
			return err
		}
	}
	// RLT.md §3: the resolved reward is said once, before any scoring, as
	// rlt distill --best-of says its own: a step's teacher (--teacher-of-step)
	// scores under the same configuration, and a server's forced
	// temperature is the one said (sc.Cfg, not rc).
	fmt.Fprintln(stderr, rewardLine(sc.Cfg, *sdir, from))
	// The rows' student prompt decides their rewards as much as the
	// reward's coefficients: said beside them, with where it came from
	// (a run's config.toml, --student-system, the models'), for stdin's
	// rows as for a run's. Stdin's said none.
	said, err := studentPromptLine(sc.Prompts.StudentSystem, studentFrom, set["student-system"] && *studentSys != "", *tdir, *sdir, *tokDir)
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, said)
	sc.MicroBatchTokens = *mbTokens
	st := &scoreStats{sc: sc, load: time.Since(loadStart)}
	if held != nil {
		student, tok, prompts := held.Student, held.Tok, held.Prompts
		held = nil
		swap = func(ctx context.Context, dir string) error {
			st.sc, sc = nil, nil // the teacher held goes before the next loads: never two at once
			runtime.GC()
			t0 := time.Now()
			defer func() { st.load += time.Since(t0) }()
			t, err := model.LoadAs(ctx, be, dir, prec)
			if err := deviceCheck(be, "load the teacher "+dir, err); err != nil {
				return err
			}
			p, err := rlt.NewPair(t, student, tok, prompts)
			if err != nil {
				return fmt.Errorf("%s: %w", dir, err)
			}
			s, err := rlt.NewScorer(p, rc)
			if err != nil {
				return err
			}
			s.MicroBatchTokens = *mbTokens
			st.sc, sc = s, s
			return nil
		}
	}
	report := func(err error) error {
		if be != nil && be.Err() != nil { // the device failed: the items say so one by one
			err = deviceFailed(be, "computing", errors.Join(err, be.Err()))
		}
		if *statsPath == "" {
			return err
		}
		fmt.Fprintln(stderr, st.summary())
		if werr := st.write(*statsPath); werr != nil {
			if err == nil {
				return werr
			}
			fmt.Fprintln(stderr, werr)
		}
		return err
	}
	if run != nil {
		err := scoreRun(ctx, run, st, *batch, *write, *again, *tdir, *sdir, swap, stdout, stderr)
		if cerr := run.Close(); err == nil && cerr != nil {
			err = cerr
		}
		return report(err)
	}

	// pending keeps input order: a line that failed to parse waits in the
	// queue with its error, so output lines follow input lines.
	type pending struct {
		line int
		item rlt.Item
		err  error
		cut  bool // the row's "cut" (record.Row.Cut)
	}
	w := bufio.NewWriter(stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	failed := 0
	var cut firstLines // the input lines scored that are marked "cut"
	// sayCut says which lines scored were cut, once stdin is scored or a
	// signal stopped it: stdout holds their rewards either way.
	sayCut := func() {
		if cut.n > 0 {
			fmt.Fprintln(stderr, cutScoredNote(cut))
		}
	}
	fail := func(line int, err error) error {
		failed++
		return enc.Encode(struct {
			Line  int    `json:"line"`
			Error string `json:"error"`
		}{line, err.Error()})
	}
	var queue []pending
	// Progress on stderr after a batch, as often as a headless run's
	// (scoreStats.sayProgress), the last batch's always (last: stdin
	// ended): a stream has no known end, so it says how many are done
	// and at what rate, not the time left.
	scored, lastLine, started := 0, 0, st.now()
	saidLine := 0 // the input line the last progress line said
	say := func(last bool) {
		if lastLine > saidLine && st.sayProgress(stderr, last, func(now time.Time) string {
			return fmt.Sprintf("%s done (input lines 1–%d) · %.2f traces/s", plural(scored, "trace"), lastLine, float64(scored)/now.Sub(started).Seconds())
		}) {
			saidLine = lastLine
		}
	}
	// stopped is the error of a signal that came: between batches (the
	// batch scored, cancelled ""), or while a server scored one (its
	// requests cancelled, named by cancelled: the batch dropped but for
	// its first kept items, which both models had scored, written).
	stopped := func(cancelled string, kept int) error {
		if err := w.Flush(); err != nil {
			return err
		}
		sayCut()
		keptSaid := ""
		if kept > 0 {
			keptSaid = firstCount(kept, "line")
		}
		return report(scoreStopped(plural(lastLine, "input line"), cancelled, keptSaid, "the lines read after it dropped", fmt.Sprintf("run it again on the lines after line %d to go on", lastLine)))
	}
	flush := func(last bool) error {
		if len(queue) == 0 {
			say(last) // stdin ended after a whole batch, its line held back
			return nil
		}
		var items []rlt.Item
		for _, p := range queue {
			if p.err == nil {
				items = append(items, p.item)
			}
		}
		scores, errs := st.scoreEach(ctx, items)
		// A signal or a server's failure that cut the batch short left
		// its items from cutAt on unscored: the lines before the first of
		// them are written, as a whole batch's are, and the rest dropped.
		cutAt := unanswered(errs)
		k := 0
		for _, p := range queue {
			err := p.err
			if err == nil {
				if k == cutAt {
					break
				}
				err = errs[k]
				k++
			}
			lastLine = p.line
			if err != nil {
				if e := fail(p.line, err); e != nil {
					return e
				}
				continue
			}
			if e := writeScoreLine(enc, p.line, "", sc.Cfg.Temperature, false, p.cut, scores[k-1]); e != nil {
				return e
			}
			if p.cut {
				cut.add(p.line)
			}
		}
		scored += k
		if cutAt < len(items) {
			if src, ok := stoppedScoring(ctx, errs); ok {
				return stopped(src, cutAt)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			sayCut()
			// The server failed: stop, naming the input line it failed
			// on, and how far stdout goes.
			i, err := firstFatal(errs)
			failedOn := ""
			for _, p := range queue {
				if p.err == nil {
					if i == 0 {
						failedOn = fmt.Sprintf("line %d: ", p.line)
						break
					}
					i--
				}
			}
			if lastLine == 0 {
				return fmt.Errorf("%s%w", failedOn, err)
			}
			ofBatch := "" // a server that fails on a batch's first request scored none of it
			if cutAt > 0 {
				ofBatch = fmt.Sprintf(" (%s of this batch scored before it)", plural(cutAt, "line"))
			}
			return fmt.Errorf("%s%w; stdout holds the result of each input line up to line %d%s: run it again on the lines after line %d to go on",
				failedOn, err, lastLine, ofBatch, lastLine)
		}
		lastLine = queue[len(queue)-1].line
		queue = queue[:0]
		if err := w.Flush(); err != nil {
			return err
		}
		say(last)
		return nil
	}
	// On a signal the lines read since the batch in progress are dropped,
	// not scored. stdin is read apart, so a signal that comes while it
	// waits for input stops it too.
	type inputLine struct {
		raw     []byte
		tooLong bool
		err     error
	}
	// A line read ahead at most: one may be 64 MiB.
	lines := readApart(ctx, 1, func() (l inputLine, send, more bool) {
		raw, tooLong, err := readScoreLine(in) // raw is its own: readScoreLine appends to nil
		end := err == io.EOF && len(raw) == 0 && !tooLong
		return inputLine{raw, tooLong, err}, !end, err == nil
	})
	line := 0
	for {
		l, ok, signalled := nextLine(ctx, lines)
		if signalled {
			return stopped("", 0)
		}
		if !ok {
			break
		}
		raw, tooLong, err := l.raw, l.tooLong, l.err
		if err != nil && err != io.EOF {
			return fmt.Errorf("reading stdin at line %d: %w", line+1, err)
		}
		line++
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 && !tooLong {
			continue
		}
		var it rlt.Item
		var row record.Row
		var rowErr error
		if tooLong {
			rowErr = fmt.Errorf("line is longer than %d MiB, more text than any model's positions hold: left out", maxScoreLine>>20)
		} else {
			row, rowErr = record.ParseRow(raw)
		}
		switch {
		case rowErr != nil:
		case row.Both:
			rowErr = fmt.Errorf(`give "explanation" or "completion", not both`)
		case row.ExplanationFrom == "":
			rowErr = fmt.Errorf(`missing field "explanation" (or "completion")`)
		default:
			if rowErr = checkScoreRow(row); rowErr == nil {
				rowErr = rowsReward.same(row, line, rc, set)
			}
			if rowErr == nil {
				it = rlt.Item{Question: row.Question, Solution: row.Solution, Explanation: row.Explanation, Ended: row.Ended}
			}
		}
		queue = append(queue, pending{line, it, rowErr, row.Cut})
		if len(queue) == *batch {
			if err := flush(false); err != nil {
				return err
			}
		}
	}
	if err := flush(true); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	sayCut()
	st.failed = failed // lines that never parsed count too
	if failed > 0 {
		return report(errLines(failed))
	}
	return report(nil)
}

// scoreStopped is rlt score's error when a signal stopped it, stdin's or a
// run's: how far stdout goes (after: the input lines or traces whose
// results it holds), what was left (left), and how to go on (goOn). A
// batch being scored in this process is finished first; one an inference
// server was scoring is dropped, its requests cancelled at once (cancelled
// names the server: stoppedScoring), since a 7B teacher's batch may take
// minutes that the user asked not to wait; one whose answers had all come
// is no such batch (remote.Server.LogProbs returns them), and is written.
// Of a batch cut short, the items both models had scored, its first (kept,
// firstCount's words; counted in after), are written, not dropped with the
// rest.
func scoreStopped(after, cancelled, kept, left, goOn string) error {
	batch := "a batch being scored is finished, " + left
	switch {
	case cancelled != "" && kept != "":
		batch = fmt.Sprintf("the batch being scored was cut short, its requests to %s cancelled: its first %s, which both models had scored, written, the rest dropped, and %s", cancelled, kept, left)
	case cancelled != "":
		batch = fmt.Sprintf("the batch being scored was dropped, its requests to %s cancelled, and %s", cancelled, left)
	}
	return fmt.Errorf("stopped by a signal after %s: stdout holds the result of each whole (%s); %s", after, batch, goOn)
}

// firstCount is how "its first …" counts n things called what: "line"
// for one, "2 lines" for more.
func firstCount(n int, what string) string {
	if n == 1 {
		return what
	}
	return plural(n, what)
}

// stoppedScoring reports whether a signal (ctx) stopped the scoring of a
// batch part way, errs being its items' errors (ScoreEach's): an inference
// server's requests cancelled, the server named (src).
func stoppedScoring(ctx context.Context, errs []error) (src string, ok bool) {
	if ctx.Err() == nil {
		return "", false
	}
	_, err := firstFatal(errs)
	if err == nil || !errors.Is(err, ctx.Err()) {
		return "", false
	}
	var se *rlt.SourceError
	if errors.As(err, &se) {
		return se.Source, true
	}
	return "the server", true
}

// checkScoreRow refuses a stdin row whose explanation holds a reserved tag,
// as the data loaders refuse it (engine/task): a section or ChatML tag would
// change the student's prompt around it and be scored as if it were the
// teacher's words. (The scorer refuses one in the question or solution.)
// The row is said on its own line of the output; the lines around it are
// scored.
func checkScoreRow(row record.Row) error {
	name := row.ExplanationFrom // explanation, reasoning_trace or completion
	if row.Stratos {
		name = "thought"
	}
	if tag, ok := record.ContainsTag(row.Explanation); ok {
		return fmt.Errorf("%s contains the tag %s, which would change the prompt's structure; remove it", name, tag)
	}
	return nil
}

// stdinDocument is why stdin, read through in, is one JSON document (a
// JSON array, on one line or several, or an object over several lines)
// rather than JSON Lines, said once as the file readers say it
// (record.JSONDocument), instead of an error for each of its lines; nil
// for JSON Lines, and for rows that are broken each on its own (their
// lines say them). It reads nothing from in, only looks ahead: up to the
// first non-blank line's end, so that a stream of rows is not held back,
// and on to the end of stdin (at most in's buffer, 1 MiB) only when that
// line begins with "{" and is not a whole JSON value. Stdin that ends
// within that look is judged whole; past it, a first line that begins a
// JSON array, or an object that is not whole and no line seen after it
// is, is refused.
func stdinDocument(in *bufio.Reader) error {
	// firstLine is the first non-blank line of b, and whether its end is
	// in b.
	firstLine := func(b []byte) ([]byte, bool) {
		b = record.TrimByteOrderMark(b)
		for {
			l, rest, found := bytes.Cut(b, []byte("\n"))
			if l = bytes.TrimSpace(l); len(l) > 0 || !found {
				return l, found
			}
			b = rest
		}
	}
	// look reads ahead until done(what is buffered), the end of stdin
	// (ended) or a full buffer.
	look := func(done func([]byte) bool) (buf []byte, ended bool) {
		for {
			buf, _ = in.Peek(in.Buffered())
			if done(buf) || len(buf) == in.Size() {
				return buf, false
			}
			if _, err := in.Peek(len(buf) + 1); err != nil {
				buf, _ = in.Peek(in.Buffered())
				return buf, err == io.EOF // another error is said by the reading
			}
		}
	}
	const fix = " (e.g. jq -c '%s' FILE > rows.jsonl) and give that on stdin"
	whole := func(buf []byte) error {
		err := record.JSONDocument(buf, "FILE")
		var doc *record.DocumentError
		if !errors.As(err, &doc) {
			return err
		}
		return fmt.Errorf("stdin: %s, so nothing was scored: %s and give that on stdin", doc.What(), doc.Fix())
	}
	buf, ended := look(func(b []byte) bool { _, complete := firstLine(b); return complete })
	if ended {
		return whole(buf)
	}
	first, complete := firstLine(buf)
	if len(first) == 0 || (first[0] != '[' && first[0] != '{') || !complete || (first[0] == '{' && record.WholeJSON(first)) {
		return nil // JSON Lines (a first line longer than the look is said by its line)
	}
	// A first line that begins an array, or an object's that is not a
	// whole object: one document, or JSON Lines whose first row is
	// broken. Either way no row is scored before it is known: look on.
	if buf, ended = look(func([]byte) bool { return false }); ended {
		return whole(buf)
	}
	if first[0] == '[' {
		return fmt.Errorf("stdin: a JSON array (its first line is %s), not JSON Lines, so nothing was scored: write one object a line"+fix,
			clipLine(first), ".[]")
	}
	lines := bytes.Split(buf, []byte("\n"))
	for _, l := range lines[1:max(len(lines)-1, 1)] { // the last may be cut by the look
		if l = bytes.TrimSpace(l); len(l) > 0 && l[0] == '{' && record.WholeJSON(l) {
			return nil // JSON Lines: the first row is broken, and its line says so
		}
	}
	return fmt.Errorf("stdin: one JSON object over several lines (its first line, %s, is not a whole object, nor is any line of the first MiB after it), not JSON Lines, so nothing was scored: "+
		"write one object a line (e.g. jq -c . FILE > rows.jsonl, or jq -c '.KEY[]' for rows listed under KEY) and give that on stdin", clipLine(first))
}

// clipLine is line quoted, cut to 40 bytes.
func clipLine(line []byte) string {
	if r := []rune(string(line)); len(r) > 40 {
		return strconv.Quote(string(r[:40]) + "…")
	}
	return strconv.Quote(string(line))
}

// maxScoreLine is the longest stdin line rlt score reads.
const maxScoreLine = 64 << 20

// readScoreLine reads one line of r without its end. A line longer than
// maxScoreLine is read to its end and dropped (tooLong, raw nil), so the
// lines after it are still read. err is io.EOF at the end of r, with the
// last line, if it had no newline.
func readScoreLine(r *bufio.Reader) (raw []byte, tooLong bool, err error) {
	for {
		chunk, err := r.ReadSlice('\n')
		if !tooLong {
			raw = append(raw, chunk...)
			if len(raw) > maxScoreLine+2 { // its "\r\n" aside
				raw, tooLong = nil, true
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return raw, tooLong, err
	}
}

// scoreStats counts what scoring did, for --stats.
type scoreStats struct {
	sc               *rlt.Scorer
	load, scoring    time.Duration
	tLens, sLens     []int
	failed           int
	tTokens, sTokens int
	// progress holds the progress lines on stderr to a headless run's
	// rule (the first, then one per runner.HeadlessProgressEvery; the
	// last always): a line per batch was 116 lines in 14 s of a 29-step
	// run's traces. clock is its time (nil: time.Now; tests give theirs).
	progress runner.Throttle
	clock    func() time.Time
}

// now is the progress lines' time.
func (st *scoreStats) now() time.Time {
	if st.clock != nil {
		return st.clock()
	}
	return time.Now()
}

// sayProgress prints line on w where the throttle lets it through, and
// the last line (last) always: the count that ends the scoring is said.
// It says whether it printed.
func (st *scoreStats) sayProgress(w io.Writer, last bool, line func(now time.Time) string) bool {
	now := st.now()
	if !st.progress.Pass(now) && !last {
		return false
	}
	fmt.Fprintln(w, line(now))
	return true
}

// scoreEach is sc.ScoreEach, timed, recording each scored item's lengths.
func (st *scoreStats) scoreEach(ctx context.Context, items []rlt.Item) ([]record.Scored, []error) {
	t0 := time.Now()
	out, errs := st.sc.ScoreEach(ctx, items)
	st.scoring += time.Since(t0)
	_, stopped := stoppedScoring(ctx, errs)
	for i, it := range items {
		if errs[i] != nil {
			if !stopped || i < unanswered(errs) { // the stop's items are dropped, not failed
				st.failed++
			}
			continue
		}
		tl, sl := st.sc.SequenceLengths(it)
		st.tLens, st.sLens = append(st.tLens, tl), append(st.sLens, sl)
		st.tTokens += tl
		st.sTokens += sl
	}
	return out, errs
}

func (st *scoreStats) summary() string {
	sec := st.scoring.Seconds()
	rate := 0.0
	if sec > 0 {
		rate = float64(st.tTokens+st.sTokens) / sec
	}
	return fmt.Sprintf("scored %d items (%d failed): %d teacher + %d student tokens in %.2f s (load %.2f s), %.0f tokens/s",
		len(st.tLens), st.failed, st.tTokens, st.sTokens, sec, st.load.Seconds(), rate)
}

func joinInts(v []int) string {
	parts := make([]string, len(v))
	for i, n := range v {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ",")
}

// write stores the summary and the lengths in path.
func (st *scoreStats) write(path string) error {
	body := st.summary() + "\nteacher_lens=" + joinInts(st.tLens) + "\nstudent_lens=" + joinInts(st.sLens) + "\n"
	if err := durable.WriteFile(path, []byte(body), 0o644); err != nil {
		return fmt.Errorf("--stats: %w", err)
	}
	return nil
}

// stepGroup is the traces (their indexes in the run's) that one teacher
// scores: dir, or none when missing says why its checkpoint is not there.
type stepGroup struct {
	step int // -1: every step, one teacher
	dir  string
	// teacherID names a checkpoint's teacher weights
	// (sessions.CheckpointTeacherID): a checkpoint written again at the
	// same step keeps dir. Empty for a teacher that is no checkpoint's.
	teacherID string
	missing   string
	idx       []int
}

// teacherOfStep is the group of step's traces with the teacher that scored
// them in the run: tdir (the run's starting teacher) for step 0, else the
// teacher of the checkpoint written after step−1 (kept, by step), or why
// there is none.
func teacherOfStep(runDir, tdir string, step int, kept map[int]sessions.Checkpoint) *stepGroup {
	g := &stepGroup{step: step, dir: tdir}
	if step <= 0 {
		return g
	}
	ck, ok := kept[step-1]
	switch {
	case !ok:
		g.missing = fmt.Sprintf("not scored: the teacher that scored step %d is checkpoint %s, which the run no longer keeps (rotated away, or never written: checkpoint_every > 1)",
			step, sessions.CheckpointDir(runDir, step-1))
	case ck.Err != nil:
		g.missing = fmt.Sprintf("not scored: the teacher that scored step %d is checkpoint %s, which cannot be used: %v", step, ck.Dir, ck.Err)
	default:
		g.dir, g.teacherID = filepath.Join(ck.Dir, sessions.TeacherDir), sessions.CheckpointTeacherID(ck.State)
	}
	return g
}

// scoreRun scores every trace of run in store order, writes one JSON line
// per trace ({"line": n, "trace": id, ...scores} or {"line": n, "trace":
// id, "error": ...}; n counts the traces from 1) and,
// with write, appends the scores to the run's rescores.jsonl batch by batch.
// Traces whose latest rescore is by the same models (a checkpoint's teacher:
// the same weights, not only the same folder) under the same configuration
// are not scored again (unless again): their stored scores are printed. A
// source's failure (rlt.Fatal) stops it, the batch unstored.
//
// With swap (--teacher-of-step) it scores the traces step by step in step
// order, each step's with the teacher that scored them in the run: tdir
// (the run's starting teacher) for step 0, else the teacher of the
// checkpoint after the step before. swap lets the scorer's teacher go and
// loads that one in its place (st.sc is then the new scorer), so one
// teacher is held at a time. A step whose checkpoint the run no longer
// keeps is an error line per trace, the other steps scored.
//
// A signal (ctx done) stops it between batches, each written whole and,
// with write, stored: its error says how far stdout goes (scoreStopped).
func scoreRun(ctx context.Context, run *sessions.Run, st *scoreStats, batch int, write, again bool, tdir, sdir string, swap func(ctx context.Context, dir string) error, stdout, stderr io.Writer) error {
	traces, _ := run.Store().TracesSince(0)
	// A trace file that ends in a partial line lost the trace that line
	// began, unless the run's writer was killed writing it (or a live
	// process writes it): a killed run's last line is no trace it
	// recorded, said and not failed; any other lost a trace the run had
	// written whole, failed as an unreadable record is.
	var cutLost, cutKilled []sessions.TornTrace
	for _, tt := range run.TornTraces() {
		if tt.Killed {
			cutKilled = append(cutKilled, tt)
		} else {
			cutLost = append(cutLost, tt)
		}
	}
	if len(traces) == 0 {
		if broken := run.Store().BrokenTraces(); broken+len(cutLost) > 0 {
			reportSkipped(stderr, run.Dir(), run.Store().Issues(), run.Store().IssueCount())
			// A broken line may be mended; a trace cut short with its
			// file cannot, only put back: each said with its own way on
			// (a cut one was said as a line to mend).
			// A killed writer's partial line beside them is said too,
			// first (nothing to do about it), so that mending the others
			// is not expected to bring it back.
			var msgs []string
			if len(cutKilled) > 0 {
				msgs = append(msgs, killedTracesSaid(cutKilled))
			}
			if broken > 0 {
				msgs = append(msgs, run.UnreadableSaid(broken, "not scored"))
			}
			if len(cutLost) > 0 {
				msgs = append(msgs, sessions.LostTracesSaid(run.Dir(), cutLost, "not scored"))
			}
			return fmt.Errorf("%s has no readable traces to score: %s; %s", run.Dir(), strings.Join(msgs, "; "), runAgain)
		}
		if len(cutKilled) > 0 {
			// A run killed as it wrote its first trace: "no traces"
			// alone read as a run that never sampled, or as traces
			// gone, with no way on. One trace: only the trace file of
			// the run's highest step ends in a line its writer was
			// killed writing (sessions.TornTrace.Killed).
			return fmt.Errorf("%s has no traces to score: its one trace, %s, was cut short as the run's writer was killed writing it (or a process writes it now: wait for its step to end), so the run recorded none; the step is done again, its traces written whole, as the run goes on: %s; then score it",
				run.Dir(), sessions.TornSaid(cutKilled), sessions.ContinueLine(run.Dir()))
		}
		return fmt.Errorf("%s has no traces to score", run.Dir())
	}
	cfg := st.sc.Cfg // every teacher's scorer is under the same configuration
	sname := modelName(sdir)
	var groups []*stepGroup
	if swap == nil {
		g := &stepGroup{step: -1, dir: tdir}
		for i := range traces {
			g.idx = append(g.idx, i)
		}
		groups = []*stepGroup{g}
	} else {
		cks, err := sessions.Checkpoints(run.Dir())
		if err != nil {
			return err
		}
		kept := map[int]sessions.Checkpoint{} // by the step it was written after
		for _, ck := range cks {
			kept[ck.Step] = ck
		}
		by := map[int]*stepGroup{}
		for i, t := range traces {
			g := by[t.Step]
			if g == nil {
				g = teacherOfStep(run.Dir(), tdir, t.Step, kept)
				by[t.Step] = g
				groups = append(groups, g)
			}
			g.idx = append(g.idx, i)
		}
		slices.SortFunc(groups, func(a, b *stepGroup) int { return a.step - b.step })
	}
	w := bufio.NewWriter(stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	type errorLine struct {
		Line  int    `json:"line"`
		Trace string `json:"trace"`
		Error string `json:"error"`
	}
	// The traces to score, and those whose scores are stored already (by
	// the teacher of their group: with --teacher-of-step, a checkpoint's).
	stored := map[string]bool{} // their arrays are read back as they are printed
	var means rewardMeans       // of the lines written, said at the end
	todo := 0
	var missingSteps []string
	for _, g := range groups {
		if g.missing != "" {
			missingSteps = append(missingSteps, strconv.Itoa(g.step))
			continue
		}
		tname := modelName(g.dir)
		for _, i := range g.idx {
			t := traces[i]
			if rs, ok := run.Store().Rescore(t.ID); ok && !again && rs.Teacher == tname && rs.TeacherID == g.teacherID && rs.Student == sname && rs.Reward == cfg {
				stored[t.ID] = true
				continue
			}
			todo++
		}
	}
	// failed counts the lines that say an error; unread, those of them that
	// are stored scores whose arrays could not be read back (rescores.jsonl
	// changed since the run was opened); unreadText, those of traces whose
	// texts could not be (their trace file changed); missing, those of
	// steps whose teacher is not kept.
	failed, unread, unreadText, missing, written, done := 0, 0, 0, 0, 0, 0
	// The store lists traces without their texts: each is read back as its
	// batch comes, the trace files read front to back (store order).
	texts := run.Store().TraceReader()
	defer texts.Close()
	start := st.now()
	loaded := tdir // the teacher st.sc scores with
	said := 0      // traces whose line stdout holds
	// stopped is the error of a signal (ctx) that came: it is heeded
	// between batches, each written whole and stored.
	// A server's batch is dropped, its requests cancelled (cancelled: the
	// server), but for its first kept items, which both models had scored,
	// written and stored as a whole batch's are.
	stoppedIn := func(cancelled string, kept int) error {
		goOn := "nothing is stored without --write: run it again with --write to keep the scores, so that a run after it goes on where it stopped"
		if write {
			goOn = fmt.Sprintf("%d stored in %s: run the same command again to score the rest", written, filepath.Join(run.Dir(), sessions.RescoresFile))
		}
		keptSaid := ""
		if kept > 0 {
			keptSaid = firstCount(kept, "trace")
		}
		return scoreStopped(fmt.Sprintf("%d of %d traces", said, len(traces)), cancelled, keptSaid, "the traces after it not scored", goOn)
	}
	stopped := func() error { return stoppedIn("", 0) }
	for _, g := range groups {
		if ctx.Err() != nil {
			return stopped()
		}
		if g.missing != "" {
			for _, i := range g.idx {
				failed++
				missing++
				if err := enc.Encode(errorLine{i + 1, traces[i].ID, g.missing}); err != nil {
					return err
				}
			}
			if err := w.Flush(); err != nil {
				return err
			}
			said += len(g.idx)
			continue
		}
		tname := modelName(g.dir)
		for lo := 0; lo < len(g.idx); lo += batch {
			if ctx.Err() != nil {
				return stopped()
			}
			chunk := g.idx[lo:min(lo+batch, len(g.idx))]
			var items []rlt.Item
			var idx []int               // chunk index of each item
			textErrs := map[int]error{} // by chunk index: its texts not read back, not scored
			for i, ti := range chunk {
				t := traces[ti]
				if stored[t.ID] {
					continue
				}
				whole, err := texts.Trace(t.ID)
				if err != nil {
					textErrs[i] = err
					continue
				}
				items = append(items, rlt.Item{Question: whole.Question, Solution: whole.Solution, Explanation: whole.Explanation, Ended: whole.Ended})
				idx = append(idx, i)
			}
			if len(items) > 0 && swap != nil && loaded != g.dir {
				// One teacher at a time: the one before goes as this one loads.
				if err := swap(ctx, g.dir); err != nil {
					w.Flush()
					if ctx.Err() != nil && errors.Is(err, ctx.Err()) { // the signal stopped the load itself
						return stopped()
					}
					return fmt.Errorf("step %d's teacher: %w; %d traces were stored before it: run the same command again to score the rest", g.step, err, written)
				}
				loaded = g.dir
				// A signal that came as the load ended (after its last
				// tensor) stops here, before its first batch: it scored
				// that batch, and was heeded only after it.
				if ctx.Err() != nil {
					w.Flush()
					return stopped()
				}
			}
			sc := st.sc
			scores, errs := st.scoreEach(ctx, items)
			// A signal or a server's failure that cut the batch short
			// left its items from cutAt on unscored: the traces before
			// the first of them are written and stored, as a whole
			// batch's are, and the rest dropped.
			cutAt := unanswered(errs)
			kept := len(chunk) // the chunk's traces written
			if cutAt < len(items) {
				kept = idx[cutAt]
			}
			var recs []sessions.RescoreRecord
			k := 0
			for i, ti := range chunk[:kept] {
				t := traces[ti]
				if err := textErrs[i]; err != nil {
					failed++
					unreadText++
					if err := enc.Encode(errorLine{ti + 1, t.ID, err.Error()}); err != nil {
						return err
					}
					continue
				}
				if stored[t.ID] {
					rs, err := run.Store().ReadRescore(t.ID)
					if err != nil {
						failed++
						unread++
						if err := enc.Encode(errorLine{ti + 1, t.ID, err.Error()}); err != nil {
							return err
						}
						continue
					}
					if err := writeScoreLine(enc, ti+1, t.ID, rs.Reward.Temperature, true, false, rs.Scored); err != nil {
						return err
					}
					means.add(rs.Scored.Terms)
					continue
				}
				j := k
				k++
				if errs[j] != nil {
					failed++
					if err := enc.Encode(errorLine{ti + 1, t.ID, errs[j].Error()}); err != nil {
						return err
					}
					continue
				}
				if err := writeScoreLine(enc, ti+1, t.ID, sc.Cfg.Temperature, false, false, scores[j]); err != nil {
					return err
				}
				means.add(scores[j].Terms)
				if write {
					rec := sessions.NewRescore(t.ID, scores[j], tname, sname, sc.Cfg)
					rec.TeacherID = g.teacherID
					recs = append(recs, rec)
				}
			}
			if err := w.Flush(); err != nil {
				return err
			}
			if len(recs) > 0 {
				if err := run.AppendRescores(recs); err != nil {
					return err
				}
				written += len(recs)
			}
			if cutAt < len(items) {
				said += kept
				if src, ok := stoppedScoring(ctx, errs); ok {
					return stoppedIn(src, cutAt)
				}
				k, err := firstFatal(errs)
				ti := chunk[idx[k]]
				batch := fmt.Sprintf("nothing of its batch was stored (%d traces were stored before it)", written)
				switch {
				case cutAt > 0 && write:
					batch = fmt.Sprintf("the first %s of its batch, scored before it, written and stored (%d traces stored in all)", plural(cutAt, "trace"), written)
				case cutAt > 0:
					batch = fmt.Sprintf("the first %s of its batch, scored before it, written; nothing is stored without --write", plural(cutAt, "trace"))
				}
				return fmt.Errorf("trace %s (trace %d of %s): %w; %s: run the same command again to score the rest", traces[ti].ID, ti+1, run.Dir(), err, batch)
			}
			said += len(chunk)
			// A batch of traces whose texts were not read back counts
			// too: it may be the last, whose line is always said.
			n := len(items) + len(textErrs)
			if done += n; n > 0 && todo > batch {
				st.sayProgress(stderr, done == todo, func(now time.Time) string { return progressLine(done, todo, now.Sub(start)) })
			}
		}
	}
	reportSkipped(stderr, run.Dir(), run.Store().Issues(), run.Store().IssueCount())
	// Trace records that could not be read are traces of the run too: the
	// count says them, as a failed line is said, and the command fails.
	broken := run.Store().BrokenTraces()
	fmt.Fprintf(stderr, "scored %d of %d traces of %s", len(traces)-(failed-unread)-len(stored), len(traces)+broken+len(cutLost), run.Dir())
	if broken > 0 {
		fmt.Fprintf(stderr, "; %d unreadable (listed above), not scored", broken)
	}
	if len(cutLost) > 0 {
		fmt.Fprintf(stderr, "; %d lost: %s, a trace the run had written whole, not scored", len(cutLost), sessions.TornSaid(cutLost))
	}
	if len(cutKilled) > 0 {
		fmt.Fprintf(stderr, "; %s", killedTracesSaid(cutKilled))
	}
	if missing > 0 {
		steps := "step " + missingSteps[0]
		if len(missingSteps) > 1 {
			steps = "steps " + strings.Join(missingSteps, ", ")
		}
		fmt.Fprintf(stderr, "; %d of %s not scored: the checkpoint of the teacher that scored them is not kept", missing, steps)
	}
	if len(stored) > 0 {
		fmt.Fprintf(stderr, "; %d already stored by these models under this configuration, not scored again (--again scores them)", len(stored))
	}
	if unread > 0 {
		fmt.Fprintf(stderr, "; %d of the stored could not be read back from %s (it changed since the run was opened)", unread, sessions.RescoresFile)
	}
	if unreadText > 0 {
		fmt.Fprintf(stderr, "; %d not scored: their texts could not be read back from %s (changed since the run was opened)", unreadText, filepath.Join(run.Dir(), sessions.TracesDir))
	}
	if write {
		fmt.Fprintf(stderr, "; %d stored in %s", written, filepath.Join(run.Dir(), sessions.RescoresFile))
	}
	fmt.Fprintln(stderr)
	if line := means.said(); line != "" {
		fmt.Fprintln(stderr, line)
	}
	var msgs []string
	if failed > 0 {
		msgs = append(msgs, errLines(failed).Error())
	}
	if broken > 0 {
		msgs = append(msgs, run.UnreadableSaid(broken, "not scored"))
	}
	if len(cutLost) > 0 {
		msgs = append(msgs, sessions.LostTracesSaid(run.Dir(), cutLost, "not scored"))
	}
	if broken > 0 || len(cutLost) > 0 {
		return errors.New(strings.Join(append(msgs, runAgain), "; "))
	}
	if failed > 0 {
		return errLines(failed)
	}
	return nil
}

// rewardMeans sums the rewards of the lines rlt score --run writes, for
// the line that says their means: a run's traces rescored under another
// reward (a λ sweep's runs each under one λ, --c3) compare by it without
// a script over the JSON Lines.
type rewardMeans struct {
	n                int
	reward, rss, rkl float64
}

func (m *rewardMeans) add(t record.Terms) {
	m.n++
	m.reward += t.Reward
	m.rss += t.RSS
	m.rkl += t.RKL
}

// said is "mean of the 160 scores written: reward -1.234 · r_SS -0.952 ·
// r_KL 0.282" (to 3 decimals, as rlt run's step lines), "" for none.
func (m rewardMeans) said() string {
	if m.n == 0 {
		return ""
	}
	n := float64(m.n)
	return fmt.Sprintf("mean of the %s written: reward %.3f · r_SS %.3f · r_KL %.3f", plural(m.n, "score"), m.reward/n, m.rss/n, m.rkl/n)
}

// killedTracesSaid says the partial last lines of trace files that a
// killed writer (or a live one) was writing: no trace the run recorded, so
// not scored and no failure.
func killedTracesSaid(killed []sessions.TornTrace) string {
	return sessions.TornSaid(killed) + ", the trace its writer was writing as it was killed (or is writing now), is no trace the run recorded: not scored"
}

// runAgain ends rlt score --run's error of trace records not read or
// traces lost, each said with what to do (sessions.Run.UnreadableSaid,
// sessions.LostTracesSaid: the words rlt export and the workbench say
// them in): mended or put back, they are scored by the same command.
const runAgain = "then run the same command again"

// progressLine says how far scoring is, its rate and the time left.
func progressLine(done, total int, spent time.Duration) string {
	rate := float64(done) / spent.Seconds()
	eta := "?"
	if rate > 0 {
		eta = time.Duration(float64(total-done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	return fmt.Sprintf("scored %d/%d traces · %.2f traces/s · %s left", done, total, rate, eta)
}

// unanswered is the index of the first item of a batch that a stop or a
// source's failure left unscored (ScoreEach's errs: the first fatal one),
// len(errs) where there is none: the items before it are each scored or
// failed alone, and written.
func unanswered(errs []error) int {
	for i, err := range errs {
		if err != nil && rlt.Fatal(err) {
			return i
		}
	}
	return len(errs)
}

// firstFatal is the first of errs that is a source's own failure, with the
// index of the item it failed on.
func firstFatal(errs []error) (int, error) {
	for i, err := range errs {
		if err != nil && rlt.Fatal(err) {
			var ie *rlt.ItemError
			if errors.As(err, &ie) {
				return ie.Item, ie.Err
			}
			return i, err
		}
	}
	return 0, nil
}

// modelName is how a rescore records a model: a folder's absolute path, a
// server's URL.
func modelName(src string) string {
	if remote.IsURL(src) {
		return strings.TrimRight(src, "/")
	}
	abs, _ := filepath.Abs(src)
	return abs
}

// writeScoreLine writes {"line": n, "trace": id (when given), "temperature":
// the one the log-probs are at, "stored": true (for a score read back from
// rescores.jsonl), "cut": true (for a row marked so: cutScoredNote), then
// the score's own fields}. (Embedding record.Scored in a struct would not
// do: its MarshalJSON would be promoted and drop the line.) A run's traces
// are never cut: rlt import leaves such a row out.
func writeScoreLine(enc *json.Encoder, line int, trace string, temperature float64, stored, cut bool, s record.Scored) error {
	body, err := s.MarshalJSON()
	if err != nil {
		return err
	}
	head := []byte(`{"line":` + strconv.Itoa(line))
	if trace != "" {
		id, _ := json.Marshal(trace)
		head = append(append(head, `,"trace":`...), id...)
	}
	head = append(head, `,"temperature":`...)
	head = record.AppendFloat(head, temperature)
	if stored {
		head = append(head, `,"stored":true`...)
	}
	if cut {
		head = append(head, `,"cut":true`...)
	}
	return enc.Encode(json.RawMessage(append(append(head, ','), body[1:]...)))
}

// cutScoredNote is what rlt score says on stderr after scoring stdin's rows
// marked "cut" (record.Row.Cut) at lines, all of stdin scored or stopped
// by a signal: scored as they are, as the
// ranking of rlt distill --best-of scored them, so that rescoring its
// --samples-out reproduces every reward it ranked by, a cut one too; but
// a cut reward is of the part of the completion that fit the models, its
// end tag missing and so the format penalty paid, not of what the teacher
// wrote, and a reader comparing rewards should know which are. Their
// output lines say "cut": true.
func cutScoredNote(lines firstLines) string {
	return fmt.Sprintf(`%s scored marked "cut": true (%s): each completion is the part of the teacher's that fit the models that scored it (`+sessions.Program()+` distill --samples-out), so its reward is of that part, as the ranking's was, not of all the teacher wrote; their output lines say "cut": true`,
		plural(lines.n, "row"), lines)
}

// serverScorer scores with a teacher and a student of which at least one is
// an inference server's URL (the other may be a model folder). ctx stops
// the model's load and the servers' checks.
func serverScorer(ctx context.Context, be compute.Backend, tsrc, ssrc, tokDir string, override record.Prompts, rc record.RewardConfig, prec model.Precision, ro remote.Options, stderr io.Writer) (*rlt.Scorer, error) {
	local := func(src string) string {
		if remote.IsURL(src) {
			return ""
		}
		return src
	}
	tokWho := "--tokenizer" // whose tokenizer tok is, as a refusal names it
	if tokDir == "" {
		tokDir, tokWho = local(tsrc), "the teacher"
		if tokDir == "" {
			tokDir, tokWho = local(ssrc), "the student"
		}
	}
	if tokDir == "" {
		return nil, errors.New("both models are servers: give --tokenizer DIR, a folder with the tokenizer.json (and the prompts.json) of the models they serve, or that tokenizer.json itself")
	}
	tok, err := loadTokenizer(tokDir) // a tokenizer.json, or the folder holding it
	if err != nil {
		return nil, err // it names the file
	}
	pt, ps := promptDirs(tsrc, ssrc, tokDir)
	prompts, err := record.PromptsFor(pt, ps, override)
	if err != nil {
		return nil, err
	}
	// A probe with the tags, the ChatML markers and ordinary text.
	probe := prompts.TeacherPrompt("347+285=?", "632") + "7+5=12, carry 1; 4+8+1=13.\n" + record.EndExplanation + prompts.StudentParts("347+285=?").Prefix
	src := func(who, s string) (rlt.LogProbSource, error) {
		if !remote.IsURL(s) {
			mt, err := loadTokenizer(s)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", who, err)
			}
			// Named by their roles: tok is --tokenizer's where it differs,
			// and was called the teacher's, the model's the student's.
			if err := rlt.SameVocabularyOf(tokWho, tok, "the "+who, mt); err != nil {
				return nil, fmt.Errorf("%s and %s: %w", tokDir, s, err)
			}
			m, err := model.LoadAs(ctx, be, s, prec)
			if err := deviceCheck(be, "load the "+who, err); err != nil {
				return nil, err
			}
			if tok.VocabSize() > m.Cfg.Vocab {
				return nil, fmt.Errorf("the tokenizer has %d tokens but the %s's embedding table only %d rows", tok.VocabSize(), who, m.Cfg.Vocab)
			}
			return rlt.NewModelSource(m, s), nil
		}
		srv, err := remote.Connect(ctx, s, ro)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", who, err)
		}
		if err := srv.Check(ctx, tok, probe, rc.Temperature); err != nil {
			return nil, fmt.Errorf("%s: %w", who, err)
		}
		if srv.Raw() {
			fmt.Fprintf(stderr, "rlt score: the %s's %s server %s computes prompt log-probs of the raw logits whatever the temperature asked (vLLM's V1 engine and SGLang do)\n", who, srv.Kind, srv.URL)
		}
		return srv, nil
	}
	ts, err := src("teacher", tsrc)
	if err != nil {
		return nil, err
	}
	ss, err := src("student", ssrc)
	if err != nil {
		return nil, err
	}
	sc, err := rlt.NewSourceScorer(ts, ss, tok, prompts, rc)
	if err != nil {
		return nil, err
	}
	if sc.Raw() {
		fmt.Fprintf(stderr, "rlt score: scores are at temperature %g, NOT the %g asked: both models are asked at %g, and every output line (\"temperature\"), stored rescore and the workbench say so\n",
			sc.Cfg.Temperature, sc.Requested, sc.Cfg.Temperature)
	}
	return sc, nil
}

// runModelsPrompts are the prompts of a run of ours whose config.toml
// (cfgPath) records none of one, and no flag gives it (teacher, student:
// which are wanted): the models' own of the folders it names
// (Run.ModelsPrompts), which rlt run took, so its rows' prompts, and its
// export writes the student's (Run.StudentPrompt), whatever --teacher or
// --student scores them. They were the models' loaded: where the run's
// folders were moved, the ones given in their place, or none (the
// defaults), scored unsaid with another prompt than the rows were made
// with. A folder not there now is refused, as the export refuses it: the
// defaults in its place would be a guess.
func runModelsPrompts(run *sessions.Run, cfgPath string, teacher, student bool) (record.Prompts, string, error) {
	own, file, err := run.ModelsPrompts()
	if err == nil {
		return own, file, nil
	}
	what, keys, flags := "student prompt", "student_system", "--student-system"
	switch {
	case teacher && student:
		what, keys, flags = "teacher or student prompt", "teacher_system and student_system", "--teacher-system and --student-system"
	case teacher:
		what, keys, flags = "teacher prompt", "teacher_system", "--teacher-system"
	}
	var gone *sessions.ModelFolderGone
	if errors.As(err, &gone) {
		return record.Prompts{}, "", fmt.Errorf("%s's [prompts] records no %s, so the prompts of its rows are the models' own: %w; the default in its place may not be the prompt the rows were made with, so nothing is scored: put the folder back at %s, set %s in %s to where it is now, write the run's prompts as %s in its [prompts], or give %s",
			cfgPath, what, err, gone.Dir, gone.Key, cfgPath, keys, flags)
	}
	return record.Prompts{}, "", fmt.Errorf("%s's [prompts] records no %s, so the prompts of its rows are the models' own, which cannot be read: %w; mend or remove %s, write the run's prompts as %s in its [prompts], or give %s", cfgPath, what, err, file, keys, flags)
}

// promptDirs are the model folders whose prompts.json rlt score takes the
// models' own prompts from (record.PromptsFor): the teacher's and the
// student's that are folders, not servers; with two servers, the folder
// of --tokenizer (tokDir), the prompts.json beside its tokenizer.json.
func promptDirs(tsrc, ssrc, tokDir string) (pt, ps string) {
	local := func(src string) string {
		if remote.IsURL(src) {
			return ""
		}
		return src
	}
	pt, ps = local(tsrc), local(ssrc)
	if pt == "" && ps == "" {
		pt = folderOf(tokDir)
	}
	return pt, ps
}

// studentPromptLine says the student prompt rlt score scores with
// (prompt, the scorer's), of a run's traces or stdin's rows alike, and
// where it came from: from, the run's config.toml
// (sessions.RowsStudentPrompt); else --student-system (flag); else the
// models' own, the prompts.json of tsrc's or ssrc's folder (promptDirs),
// or the default where they record none.
func studentPromptLine(prompt, from string, flag bool, tsrc, ssrc, tokDir string) (string, error) {
	switch {
	case flag:
		from = "--student-system"
	case from == "":
		_, file, err := record.ModelsPrompts(promptDirs(tsrc, ssrc, tokDir))
		if err != nil {
			return "", err
		}
		from = "the models' own, " + file
		if file == "" {
			from = "the default student prompt: the models record none (no " + record.PromptsFile + ")"
		}
	}
	return "student prompt: " + promptShown(prompt) + " (" + from + ")", nil
}

// promptShown is a system prompt as one line says it: quoted, cut to its
// first promptShownRunes characters where it is longer, with its length.
func promptShown(p string) string {
	r := []rune(p)
	if len(r) <= promptShownRunes {
		return strconv.Quote(p)
	}
	return fmt.Sprintf("%s… (%d characters)", strconv.Quote(string(r[:promptShownRunes])), len(r))
}

// promptShownRunes is how much of a system prompt promptShown quotes.
const promptShownRunes = 60

// checkScoreTemplates refuses, before any device opens, a model folder
// (the teacher's, the student's, --tokenizer's for two servers) whose chat
// template is not ChatML, the RLT prompts' format (rlt.CheckChatML). A
// server's URL has no folder to read.
func checkScoreTemplates(tsrc, ssrc, tokDir string) error {
	local := func(src string) string {
		if remote.IsURL(src) {
			return ""
		}
		return src
	}
	if err := rlt.CheckChatMLPair(local(tsrc), local(ssrc)); err != nil {
		return err
	}
	if tokDir == "" || !remote.IsURL(tsrc) || !remote.IsURL(ssrc) {
		return nil // the tokenizer is a local model's, checked above
	}
	return rlt.CheckChatML("--tokenizer", folderOf(tokDir)) // a tokenizer.json: the folder beside it
}

// scoreTokens is the item length a memory estimate of scoring assumes:
// a long explanation with its question and solution.
const scoreTokens = 512

// checkScoreMemory refuses, before loading, scoring that cannot fit where
// it computes: the host's memory on the CPU, the GPU's on a GPU (as --device
// chooses). A model given as a server URL holds nothing in this process.
// kl says the full estimator's KL runs, whose chunks hold the head's
// logits of both models beside a forward's.
func checkScoreMemory(tdir, sdir string, prec model.Precision, batch, microBatchTokens int, kl bool, dev string) error {
	m := memory.Score{Batch: batch, Tokens: scoreTokens, MicroBatchTokens: microBatchTokens}
	inspect := func(src string, cfg *model.Config, held *compute.DType, served *bool) error {
		if remote.IsURL(src) {
			*served = true
			return nil
		}
		c, dt, err := model.Inspect(src)
		if err != nil {
			return err
		}
		*cfg, *held = c, compute.F32
		if prec == model.Frozen16 && dt.Is16() {
			*held = dt
		}
		m.Stored16 = m.Stored16 || dt.Is16()
		m.Tokens = min(m.Tokens, c.MaxPos)
		return nil
	}
	if err := inspect(tdir, &m.Teacher, &m.TeacherHeld, &m.TeacherServed); err != nil {
		return err
	}
	if err := inspect(sdir, &m.Student, &m.StudentHeld, &m.StudentServed); err != nil {
		return err
	}
	where := device.Memory{}
	if !m.TeacherServed || !m.StudentServed {
		var err error
		if where, err = device.MemoryOf(dev); err != nil {
			return fmt.Errorf("rlt score: %w", err)
		}
	}
	m.DeviceHead, m.DeviceScratch, m.Probed = where.HeadForwardBytes, where.Scratch, where.Probed
	if kl {
		m.DeviceHead = where.HeadBytes
	}
	if err := memory.CheckBuffer("scoring", where.GPU, int64(where.MaxBuffer), m.Largest()); err != nil {
		return err
	}
	return memory.CheckWhere("scoring", where.GPU, int64(where.Bytes), m.Estimate(), m.Fixes())
}

// rewardCoefficients are the reward's coefficients and format penalty as
// flags, each with the configuration key ([reward]) it sets and the field
// of record.RewardConfig it is: rlt score's and rlt distill --best-of's,
// one list so that the two take them under the same names, meanings and
// help (rewardCoefficientFlags) and say a bad value by its flag
// (rewardFlagProblems).
var rewardCoefficients = []struct {
	flag, key, usage string
	field            func(*record.RewardConfig) *float64
}{
	{"c1", "reward.solution_mean", "weight of the mean solution log-prob in r_SS", func(c *record.RewardConfig) *float64 { return &c.SolutionMean }},
	{"c2", "reward.solution_min", "weight of the min solution log-prob in r_SS", func(c *record.RewardConfig) *float64 { return &c.SolutionMin }},
	{"c3", "reward.kl_mean", "weight of the mean d_k in r_KL (λ)", func(c *record.RewardConfig) *float64 { return &c.KLMean }},
	{"c4", "reward.kl_max", "weight of the max d_k in r_KL", func(c *record.RewardConfig) *float64 { return &c.KLMax }},
	{"penalty", "reward.format_penalty", "added when the explanation's end tag is missing", func(c *record.RewardConfig) *float64 { return &c.FormatPenalty }},
}

// rewardCoefficientFlags defines the rewardCoefficients flags on fs, each
// setting its field of rc and defaulting to the value rc holds. The
// temperature is each command's own flag: rlt score's is the scoring's,
// rlt distill's the sampling's, which its reward is at.
func rewardCoefficientFlags(fs *flag.FlagSet, rc *record.RewardConfig) {
	for _, f := range rewardCoefficients {
		p := f.field(rc)
		fs.Float64Var(p, f.flag, *p, f.usage)
	}
}

// rewardEstimatorFlag defines on fs --estimator, the reward's per-token
// d_k (record.RewardConfig.Estimator), defaulting to def: rlt score's and
// rlt distill --best-of's, one flag under one name and help. It is a
// string, set into the configuration before RewardConfig.Validate, which
// refuses an estimator it does not know (said by rewardFlagProblems), so
// that rlt score can default it to a run's own where it was not given.
func rewardEstimatorFlag(fs *flag.FlagSet, def record.Estimator) *string {
	return fs.String("estimator", string(def), "per-token d_k: logratio, k3 or full")
}

// rewardFlags are the flags for the reward's configuration keys, by key:
// the rewardCoefficients, --temperature and --estimator.
var rewardFlags = func() map[string]string {
	m := map[string]string{"reward.temperature": "temperature", "reward.estimator": "estimator"}
	for _, f := range rewardCoefficients {
		m[f.key] = f.flag
	}
	return m
}()

// rewardFlagProblems says the reward configuration's problems (err,
// RewardConfig.Validate's) by the flags of fs that gave the values, a
// wrong call (exit 2) when every one is a flag's; a value from a run's
// config.toml (--run) stays said by its key.
func rewardFlagProblems(fs *flag.FlagSet, err error) error {
	given := flagsGiven(fs)
	var lines []string
	for _, p := range configkey.Problems(err) {
		key, _ := configkey.Of(p)
		name, ok := rewardFlags[key]
		if !ok || !given[name] {
			return err
		}
		var ke *configkey.Error
		if !errors.As(p, &ke) {
			return err
		}
		lines = append(lines, ke.Named("--"+name))
	}
	return badValue(fs, "%s", strings.Join(lines, "\n"))
}

// rewardLine is the reward a command scores or ranks with, resolved, in
// the one line that rlt score and rlt distill --best-of say on stderr
// before they score (RLT.md §3: always show the resolved configuration):
// rc's Summary, the frozen student it is against and, where from says it,
// where it came from (rewardOrigin). One owner, so that the two commands
// say it alike.
func rewardLine(rc record.RewardConfig, student, from string) string {
	line := fmt.Sprintf("reward: %s, against the frozen student %s", rc.Summary(), student)
	if from != "" {
		line += " (" + from + ")"
	}
	return line
}

// rewardSetting is one value of the reward that a flag of rlt score sets:
// the rewardCoefficients, --temperature and --estimator; value is its
// value in a configuration, as text, and copy sets it from another.
type rewardSetting struct {
	flag  string
	value func(record.RewardConfig) string
	copy  func(dst *record.RewardConfig, src record.RewardConfig)
}

// rewardSettings are the reward's flags, in the order Summary says their
// values.
func rewardSettings() []rewardSetting {
	// Each value as record.RewardConfig.ValueText says it, the one
	// formatter of the reward's values (the resume's note, the viewers').
	valueOf := func(key string) func(record.RewardConfig) string {
		return func(c record.RewardConfig) string { s, _ := c.ValueText(key); return s }
	}
	var out []rewardSetting
	for _, f := range rewardCoefficients {
		_, key, _ := configkey.Split(f.key)
		out = append(out, rewardSetting{f.flag, valueOf(key),
			func(dst *record.RewardConfig, src record.RewardConfig) { *f.field(dst) = *f.field(&src) }})
	}
	return append(out,
		rewardSetting{"temperature", valueOf("temperature"),
			func(dst *record.RewardConfig, src record.RewardConfig) { dst.Temperature = src.Temperature }},
		rewardSetting{"estimator", valueOf("estimator"),
			func(dst *record.RewardConfig, src record.RewardConfig) { dst.Estimator = src.Estimator }})
}

// rewardOver is base, a recorded reward (a run's config.toml, a row's
// reward_config), with the values of the reward flags given (set) taken
// from flags: a flag given wins over what is recorded, a value no flag
// gives is the record's.
func rewardOver(flags, base record.RewardConfig, set map[string]bool) record.RewardConfig {
	out := base
	for _, s := range rewardSettings() {
		if set[s.flag] {
			s.copy(&out, flags)
		}
	}
	return out
}

// rewardOrigin says where rc, rewardOver's of base, came from: what (the
// record base is), and each flag given whose value wins over the record's
// ("--c4 0 over its 0.03").
func rewardOrigin(what string, base, rc record.RewardConfig, set map[string]bool) string {
	var over []string
	for _, s := range rewardSettings() {
		if set[s.flag] && s.value(rc) != s.value(base) {
			over = append(over, fmt.Sprintf("--%s %s over its %s", s.flag, s.value(rc), s.value(base)))
		}
	}
	if len(over) == 0 {
		return what
	}
	return what + "; the flags given win: " + strings.Join(over, ", ")
}

// stdinLook is how much of stdin rlt score reads ahead before any model
// loads (stdinDocument, firstRewardConfig): the buffer of its reader.
const stdinLook = 1 << 20

// firstRewardConfig is the "reward_config" that stdin's first non-blank
// line records, its JSON text ("" for none), and that line's number, as
// the rows are counted. It reads nothing from in, only what
// stdinDocument's look left buffered, which holds that line whole unless
// it is longer than the look (stdinLook, cut): such a line, and one that
// is no JSON object, records none here (its row, read later, is then held
// to the defaults, rowsRewardFrom.same, which says which of the two).
func firstRewardConfig(in *bufio.Reader) (line int, raw string, cut bool) {
	buf, _ := in.Peek(in.Buffered())
	full := len(buf) == in.Size() // no newline in it: the look stopped in the line
	buf = record.TrimByteOrderMark(buf)
	for n := 1; ; n++ {
		l, rest, found := bytes.Cut(buf, []byte("\n"))
		if len(bytes.TrimSpace(l)) > 0 {
			var m map[string]json.RawMessage // as record.ParseRow reads it: keys as written
			if json.Unmarshal(l, &m) != nil || m["reward_config"] == nil || string(m["reward_config"]) == "null" {
				return n, "", !found && full
			}
			return n, string(m["reward_config"]), false
		}
		if !found {
			return n, "", false
		}
		buf = rest
	}
}

// recordedRewardProblems is the error of stdin line's reward_config whose
// values (the flags given over it) RewardConfig.Validate refuses (err):
// each said by its key, and the flags that would score with a value of
// the user's own.
func recordedRewardProblems(line int, err error) error {
	var said, flags []string
	for _, p := range configkey.Problems(err) {
		var ke *configkey.Error
		if !errors.As(p, &ke) {
			return fmt.Errorf("stdin line %d's reward_config: %w", line, err)
		}
		_, name, _ := configkey.Split(ke.Key)
		said = append(said, ke.Named(name))
		flags = append(flags, "--"+rewardFlags[ke.Key])
	}
	return fmt.Errorf("stdin line %d records a reward_config that cannot be scored with, so nothing was scored: %s: mend the line, or give %s to score with a value of your own",
		line, strings.Join(said, "; "), andList(flags))
}

// configRewardProblems is why a reward table of the run's config.toml at
// path (table, as said: a run's [reward], an imported run's
// [import.reward]) cannot be scored with: err, sessions.RunReward's or
// sessions.ImportedReward's problems, each at its line with its key, less
// those of a key whose flag is given (set), which stands in for the
// file's value; nil where none is left.
func configRewardProblems(path, table string, err error, set map[string]bool) error {
	var left []error
	var flags []string
	for _, p := range configkey.Problems(err) {
		key, _ := configkey.Of(p)
		_, name, _ := configkey.Split(key)
		flag, ok := rewardFlags["reward."+name]
		if ok && set[flag] {
			continue
		}
		left = append(left, p)
		if ok {
			flags = append(flags, "--"+flag)
		}
	}
	if len(left) == 0 {
		return nil
	}
	way := "mend it"
	if len(flags) > 0 {
		way += ", or give " + andList(flags) + " to score with a value of your own"
	}
	return errors.Join(append([]error{fmt.Errorf("%s's %s cannot be scored with, so nothing was scored: %s", path, table, way)}, left...)...)
}

// unsetRewardKeys says the keys of a run's [reward] or an imported run's
// [import.reward] that it does not set (unset), read at their defaults
// (rc holds them), less
// those a flag given (set) stands in for: "; not set there, so at its
// default: kl_max 0.03", "; not set there, so at their defaults: kl_mean
// 2, kl_max 0.03" (sessions.Defaults, as the resume says them). "" where
// there are none.
func unsetRewardKeys(rc record.RewardConfig, unset []string, set map[string]bool) string {
	var said []string
	for _, k := range unset {
		flag := rewardFlags["reward."+k]
		if set[flag] {
			continue
		}
		for _, s := range rewardSettings() {
			if s.flag == flag {
				said = append(said, k+" "+s.value(rc))
			}
		}
	}
	if len(said) == 0 {
		return ""
	}
	return "; not set there, so at " + sessions.Defaults(len(said)) + ": " + strings.Join(said, ", ")
}

// rowsRewardFrom is where the reward stdin's rows are scored with came
// from: the reward_config that the first row, on line, records
// (recorded), or none (the defaults), the flags given over it. cut says
// that line was longer than the look (stdinLook), so what it records was
// not read before the scorer was built.
type rowsRewardFrom struct {
	line     int
	recorded bool
	cut      bool
}

// same refuses row, on stdin's line, where it records a reward_config
// that, with the flags given (set) over it, is not rc, the reward the rows
// are scored with: one scorer scores them all, and a row scored with
// another reward than the one it records would be said as if it were its
// own. A row that records none is scored with rc.
func (f rowsRewardFrom) same(row record.Row, line int, rc record.RewardConfig, set map[string]bool) error {
	if row.RewardConfig == "" || (f.recorded && line == f.line) {
		return nil
	}
	base, err := record.ParseRewardConfig([]byte(row.RewardConfig))
	if err != nil {
		return fmt.Errorf("%v: mend it, or remove it to score the row with the reward the rows are scored with", err)
	}
	got := rewardOver(rc, base, set)
	if got == rc {
		return nil
	}
	var differ []string
	for _, s := range rewardSettings() {
		if s.value(got) != s.value(rc) {
			differ = append(differ, "--"+s.flag)
		}
	}
	whose, apart := fmt.Sprintf("as line %d's reward_config records it", f.line), "score the rows of each reward_config apart, or "
	switch {
	case f.cut:
		// Scoring the rows apart would cut the same line again: only the
		// flags score them with what they record.
		whose = fmt.Sprintf("line %d is longer than the %d MiB read before the models load, so no reward_config of it was read", f.line, stdinLook>>20)
		apart = ""
	case !f.recorded:
		whose = fmt.Sprintf("line %d records no reward_config", f.line)
	}
	return fmt.Errorf("its reward_config (%s) is not the reward the rows are scored with (%s; %s): %sgive %s to score every row with the value given",
		got.Summary(), rc.Summary(), whose, apart, andList(differ))
}

// andList is items said as a list: "a", "a and b", "a, b and c".
func andList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
