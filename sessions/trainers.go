package sessions

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/jsonerr"
	"github.com/rlt-workbench/rlt/engine/record"
)

// Run folders of other trainers, imported and followed like the official
// RLT trainer's (Import, OpenTrainerRun). What each writes, read from the
// trainers' own code:
//
// TRL (ImportTRL), huggingface/trl trl/trainer/grpo_trainer.py and
// huggingface/transformers src/transformers/trainer_callback.py:
//
//	<output_dir>/checkpoint-N/trainer_state.json   TrainerState.save_to_json at each save:
//	                                               json.dumps(asdict(state), indent=2, sort_keys=True);
//	                                               log_history holds GRPOTrainer.log's dicts (its metrics
//	                                               averaged over the logging steps, None when all were
//	                                               NaN) with the Trainer's loss, grad_norm,
//	                                               learning_rate, epoch and step
//	<output_dir>/trainer_state.json                the same, written when training ends (if saved)
//	<output_dir>/completions/completions_{step:05d}.parquet
//	                                               with log_completions: GRPOTrainer.log writes
//	                                               pd.DataFrame({step, prompt, completion,
//	                                               <one column per reward function>, <extra columns>,
//	                                               advantage}).to_parquet(path) straight into the
//	                                               final path (prompt and completion decoded with
//	                                               skip_special_tokens=True)
//
// verl (ImportVerl), volcengine/verl verl/utils/tracking.py and
// verl/trainer/ppo/ray_trainer.py:
//
//	<root>/<project>/<experiment>.jsonl   FileLogger.log: orjson.dumps({"step": N, "data": {…}}), one
//	                                      line per step (NaN written as null)
//	<rollout_data_dir>/{step}.jsonl       _dump_generations: rows {"input", "output", "gts", "score",
//	                                      "step", <reward extras>}, the whole file in one write
//
// verl's folder is the one given (the file logger's project folder, say):
// the metric files are its *.jsonl files whose lines are {"step","data"}
// objects, the rollouts its {step}.jsonl files, in it or in a folder just
// below it; a folder below whose name starts with "val" holds validation
// generations (validation_data_dir), which are left out and noted.
//
// NeMo-RL (ImportNemoRL), NVIDIA-NeMo/RL nemo_rl/algorithms/grpo.py and
// nemo_rl/utils/logger.py:
//
//	<log_dir>/train_data_step{N}.jsonl    Logger.log_batched_dict_as_jsonl: one line per sample,
//	                                      each value the sample's slice of the batch (a list of
//	                                      one): content (the message contents; the last is the
//	                                      generation), rewards, advantages (per token),
//	                                      token_loss_mask, …, and idx
//	<log_dir>/tensorboard/events.out.tfevents.*
//	                                      the step metrics: NeMo-RL logs them only to its backends,
//	                                      and TensorboardLogger writes them with torch's
//	                                      SummaryWriter.add_scalar as "train/<name>" (read by
//	                                      readTFEvents)
//
// How many steps a run takes is in the files read only for the Hugging
// Face Trainer (the official RLT trainer, TRL): trainer_state.json's
// max_steps (ImportSource.PlannedSteps). verl's metrics lines and NeMo-RL's
// logs carry no total (verl's total_training_steps and NeMo-RL's
// max_num_steps are settings of their configurations, which these folders
// do not hold), so their runs have none.
//
// The metric names that mean what ours mean are renamed (trainerMetricNames);
// every other one keeps its own name, and the workbench's chart picker lists
// every name recorded.
const (
	ImportTRL    = "trl"     // TRL GRPOTrainer's output_dir
	ImportVerl   = "verl"    // verl's file logger and rollout dumps
	ImportNemoRL = "nemo-rl" // NeMo-RL's log_dir
)

// ImportFormats are the names --format accepts ("rlt" is the official RLT
// trainer, ImportOfficial).
var ImportFormats = []string{"rlt", ImportTRL, ImportVerl, ImportNemoRL}

// trainerMetricNames maps a trainer's metric names to ours where they mean
// the same. docs/formats.md carries the same table.
//
//	ours               TRL                                       verl                    NeMo-RL
//	reward             reward (weighted sum of reward functions) critic/score/mean       train/reward
//	reward_std         reward_std                                —                       —
//	kl                 kl                                        actor/kl_loss           train/kl_penalty
//	loss               loss                                      —                       train/loss
//	completion_length  completions/mean_length (completion_length in older TRL)
//	                                                             response_length/mean    train/mean_gen_tokens_per_sample
//	grad_norm          grad_norm                                 actor/grad_norm         train/grad_norm
//	learning_rate      learning_rate                             actor/lr                train/lr
//	clip_fraction      clip_ratio/region_mean                    actor/pg_clipfrac       —
//	zero_variance_share frac_reward_zero_std                     —                       —
//
// Left under their own names on purpose: verl's critic/rewards/mean (the
// score less an in-reward KL penalty, when one is used), actor/pg_loss (the
// policy-gradient term alone, not the loss), and every per-function,
// timing and length statistic.
var trainerMetricNames = map[string]map[string]string{
	ImportTRL: {
		"completions/mean_length": "completion_length",
		"frac_reward_zero_std":    "zero_variance_share",
		"clip_ratio/region_mean":  "clip_fraction",
	},
	ImportVerl: {
		"critic/score/mean":    "reward",
		"actor/kl_loss":        "kl",
		"response_length/mean": "completion_length",
		"actor/grad_norm":      "grad_norm",
		"actor/lr":             "learning_rate",
		"actor/pg_clipfrac":    "clip_fraction",
	},
	ImportNemoRL: {
		"train/reward":                     "reward",
		"train/kl_penalty":                 "kl",
		"train/loss":                       "loss",
		"train/mean_gen_tokens_per_sample": "completion_length",
		"train/grad_norm":                  "grad_norm",
		"train/lr":                         "learning_rate",
	},
}

// FormatName is how a format is named to the user.
func FormatName(format string) string {
	switch format {
	case ImportOfficial:
		return "official trainer"
	case ImportTRL:
		return "TRL GRPOTrainer"
	case ImportVerl:
		return "verl"
	case ImportNemoRL:
		return "NeMo-RL"
	case ImportTraces:
		return "traces file"
	}
	return format
}

// CheckImportFormat says what is wrong with a --format value (rlt import,
// rlt open) before any folder is read: nil for one ImportAs takes, ""
// (detect) included.
func CheckImportFormat(f string) error {
	_, err := normalizeFormat(f)
	return err
}

// normalizeFormat turns a --format value into an import format ("" stays
// "": detect).
func normalizeFormat(f string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(f)) {
	case "":
		return "", nil
	case "rlt", ImportOfficial:
		return ImportOfficial, nil
	case ImportTRL:
		return ImportTRL, nil
	case ImportVerl:
		return ImportVerl, nil
	case ImportNemoRL, "nemo", "nemorl", "nemo_rl":
		return ImportNemoRL, nil
	}
	return "", fmt.Errorf("unknown format %q (want one of %s)", f, strings.Join(ImportFormats, ", "))
}

var (
	trlCompletionRe = regexp.MustCompile(`^completions_(\d+)\.parquet$`)
	nemoStepRe      = regexp.MustCompile(`^train_data_step(\d+)\.jsonl$`)
	verlStepRe      = regexp.MustCompile(`^(\d+)\.jsonl$`)
)

// DetectFormat says which trainer wrote the run folder dir: the official
// RLT trainer (stored_completions/*.csv or teacher_chats/), TRL
// (completions/completions_*.parquet, or a trainer_state.json alone, at the
// top or in a checkpoint-N folder), NeMo-RL (train_data_step*.jsonl or
// tensorboard event files), or verl ({step}.jsonl rollouts or file-logger
// lines). It is an error naming what was looked for when none fits.
func DetectFormat(dir string) (string, error) {
	has := func(pattern string) bool {
		m, _ := filepath.Glob(filepath.Join(dir, pattern))
		return len(m) > 0
	}
	if has(ConfigFile) || has(MetricsFile) {
		return "", fmt.Errorf("%s is a workbench run folder (it has %s or %s), not another trainer's", dir, ConfigFile, MetricsFile)
	}
	switch {
	case has("stored_completions/*.csv"), has("teacher_chats"):
		return ImportOfficial, nil
	case has("completions/completions_*.parquet"):
		return ImportTRL, nil
	case has("train_data_step*.jsonl"), has("tensorboard/events.out.tfevents.*"), has("tensorboard/*/events.out.tfevents.*"):
		return ImportNemoRL, nil
	case OfficialTrainerState(dir) != "":
		return ImportTRL, nil
	}
	if v := findVerl(dir); len(v.metrics) > 0 || len(v.rollouts) > 0 {
		return ImportVerl, nil
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return "", errors.New("a file, not a run folder: " + Program() + " import reads a JSON Lines file of traces into a run folder, which " + Program() + " open then opens")
	}
	if has(hf.ConfigFile) && (has("*.safetensors") || has(hf.IndexFile)) {
		return "", errors.New("a model folder, not a run folder: " + Program() + " model info describes it, and a run's configuration names it as its teacher or student")
	}
	return "", errors.New("not a trainer's run folder: no stored_completions/*.csv (official RLT trainer), " +
		"no trainer_state.json or completions/*.parquet (TRL), no {step}.jsonl rollouts or {\"step\",\"data\"} " +
		"lines (verl), no train_data_step*.jsonl or tensorboard/ (NeMo-RL); --format names the trainer")
}

// IsTrainerFolder reports whether dir looks like a run folder of a trainer
// Import reads.
func IsTrainerFolder(dir string) bool {
	_, err := DetectFormat(dir)
	return err == nil
}

// renameMetrics applies a format's name table to merged metric records.
func renameMetrics(format string, ms []MetricRecord, rep *ImportReport) []MetricRecord {
	table := trainerMetricNames[format]
	if len(table) == 0 {
		return ms
	}
	used := map[string]bool{}
	for i := range ms {
		vals := ms[i].Map()
		changed := false
		for from, to := range table {
			v, ok := vals[from]
			if !ok {
				continue
			}
			if _, clash := vals[to]; clash {
				continue // the trainer logged our name itself: keep both as written
			}
			delete(vals, from)
			vals[to] = v
			used[from] = true
			changed = true
		}
		if changed {
			ms[i].Names = sortedKeys(vals, nil)
			ms[i].Values = make([]float64, len(ms[i].Names))
			for j, n := range ms[i].Names {
				ms[i].Values[j] = vals[n]
			}
		}
	}
	if len(used) > 0 {
		var pairs []string
		for from := range used {
			pairs = append(pairs, from+" → "+table[from])
		}
		sort.Strings(pairs)
		rep.Notes = append(rep.Notes, "metric names mapped to ours: "+strings.Join(pairs, ", ")+" (the rest keep their own names)")
	}
	return ms
}

// mergeSteps makes one record per step, sorted by step, from values
// logged per step (a later value wins).
func mergeSteps(entries []OfficialMetrics) []MetricRecord {
	byStep := map[int]map[string]float64{}
	var steps []int
	for _, e := range entries {
		vals, ok := byStep[e.Step]
		if !ok {
			vals = map[string]float64{}
			byStep[e.Step] = vals
			steps = append(steps, e.Step)
		}
		for k, v := range e.Values {
			vals[k] = v
		}
	}
	slices.Sort(steps)
	out := make([]MetricRecord, 0, len(steps))
	var prev []string
	for _, s := range steps {
		m := MetricRecord{Step: s, Names: sortedKeys(byStep[s], prev)}
		prev = m.Names
		m.Values = make([]float64, len(m.Names))
		for i, n := range m.Names {
			m.Values[i] = byStep[s][n]
		}
		out = append(out, m)
	}
	return out
}

// foreignRow is one generation of another trainer's log, before it becomes
// a trace.
type foreignRow struct {
	Step       int
	Prompt     string
	Completion string
	Reference  string // a ground truth the trainer logged beside the prompt (verl's gts), if any
	Reward     float64
	HasReward  bool
	Advantage  float64 // NaN when not logged
	// File and Line are where the row is: its file, relative to the
	// trainer's folder, and its 1-based line (a Parquet file's row).
	File string
	Line int
}

// source is where the row came from, as a trace's Source says it:
// file:line.
func (r foreignRow) source() string { return fmt.Sprintf("%s:%d", r.File, r.Line) }

// rowTraces turns rows into traces "<step>-0-<n>": n counts the rows of a
// step in order, from next[step] (next is advanced; nil starts every step
// at 0), so a re-import of a grown file keeps the IDs. The question and
// solution come from the prompt (splitPrompt); a prompt with no solution
// section keeps its whole text as the question and the trainer's ground
// truth, if it logged one, as the solution (noSolution counts the traces
// left without one). A row with a solution whose question or solution
// holds a reserved tag is left out, in skip (taggedText); one without a
// solution, never scored, is kept whatever its prompt holds.
func rowTraces(rows []foreignRow, next map[int]int) (traces []*TraceRecord, noSolution int, skip []RowIssue) {
	if next == nil {
		next = map[int]int{}
	}
	traces = make([]*TraceRecord, 0, len(rows))
	for _, r := range rows {
		q, sol, ok := splitPrompt(r.Prompt)
		if !ok && r.Reference != "" {
			sol = r.Reference
		}
		if field, msg, bad := taggedText(q, sol, "", ""); bad && sol != "" {
			skip = append(skip, RowIssue{File: r.File, Line: r.Line, Field: field, Msg: msg})
			continue
		}
		if sol == "" {
			noSolution++
		}
		x := record.Extract(r.Completion)
		n := next[r.Step]
		next[r.Step]++
		t := &TraceRecord{ID: traceID(r.Step, 0, n, 0), Step: r.Step, Sample: n, Question: q, Solution: sol,
			Completion: r.Completion, Explanation: x.Body, Scored: record.Scored{Ended: x.Ended},
			Advantage: r.Advantage, Source: r.source()}
		if r.HasReward {
			t.SourceReward, t.HasSourceReward = r.Reward, true
		}
		traces = append(traces, t)
	}
	return traces, noSolution, skip
}

// fileTraces gathers the traces of the generations files in order (their
// rows left out and notes go to rep). Each file's traces were numbered
// from 0 within each step when it was read; a step that an earlier file
// also has (trainers write one file per step, so rarely) is numbered on
// after it.
func fileTraces(files []fileRows, rep *ImportReport) []*TraceRecord {
	next := map[int]int{}
	var out []*TraceRecord
	noSolution := 0
	for _, f := range files {
		f.add(rep)
		ts := f.traces
		if slices.ContainsFunc(ts, func(t *TraceRecord) bool { return next[t.Step] > 0 }) {
			ts, _, _ = rowTraces(f.rows, next) // its rows left out are in f.skip
		} else {
			for _, t := range ts {
				next[t.Step]++
			}
		}
		out = append(out, ts...)
		noSolution += f.noSolution
	}
	if noSolution > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d of %d traces have no reference solution (their prompt has no %s…%s section and the trainer logged no ground truth): their question is the whole prompt",
			noSolution, len(out), record.BeginSolution, record.EndSolution))
	}
	slices.SortStableFunc(out, func(a, b *TraceRecord) int { return a.Step - b.Step })
	return out
}

// splitPrompt finds the question and the solution in a teacher prompt: as
// rendered by the chat template (record.ParseTeacherPrompt), or decoded
// without its special tokens as TRL and verl log it ("system\n…\nuser\n
// <question>\nassistant\n<|begin_of_solution|>…"), or a bare
// "<question> … <|begin_of_solution|>…<|end_of_solution|>". Without a
// solution section the question is the whole prompt and ok is false.
func splitPrompt(prompt string) (question, solution string, ok bool) {
	if q, s, err := record.ParseTeacherPrompt(prompt); err == nil {
		return q, s, true
	}
	pre, rest, found := strings.Cut(prompt, record.BeginSolution)
	if !found {
		return strings.TrimSpace(prompt), "", false
	}
	sol, _, found := strings.Cut(rest, record.EndSolution)
	if !found {
		return strings.TrimSpace(prompt), "", false
	}
	if i := strings.LastIndex(pre, "user\n"); i >= 0 {
		pre = pre[i+len("user\n"):]
	}
	pre = strings.TrimSpace(pre)
	pre = strings.TrimSpace(strings.TrimSuffix(pre, "assistant"))
	return pre, sol, true
}

// ---------------------------------------------------------------- TRL ----

// importCache keeps what each generations file gave when it was read,
// keyed by its path, size and modification time, so that following a
// folder reads again only the files that changed: a TRL run's completion
// files, verl's rollouts and NeMo-RL's train data are written once per step
// and not touched again, and reading them all on every step would make a
// new step take longer to show the longer the run. (The metric files are
// read whole each time: one line or entry per step.)
type importCache struct {
	files map[string]cachedRows
}

type cachedRows struct {
	size    int64
	mod     time.Time
	variant string // what else the parse depended on (TRL's reward names)
	fileRows
}

// fileRows is what one generations file gave: its rows and their traces,
// the rows left out, and notes.
type fileRows struct {
	rows       []foreignRow
	traces     []*TraceRecord // rowTraces of rows, numbered from 0 in each step
	noSolution int
	skip       []RowIssue
	notes      []string
}

// read returns load()'s result for path, with its traces, from the
// cache when the file has the size and modification time it had then and
// variant is the same (c may be nil: no cache).
func (c *importCache) read(path, variant string, load func() fileRows) fileRows {
	read := func() fileRows {
		r := load()
		var tagged []RowIssue
		r.traces, r.noSolution, tagged = rowTraces(r.rows, nil)
		r.skip = append(r.skip, tagged...)
		return r
	}
	if c == nil {
		return read()
	}
	st, err := os.Stat(path)
	if err != nil {
		return read()
	}
	if e, ok := c.files[path]; ok && e.size == st.Size() && e.mod.Equal(st.ModTime()) && e.variant == variant {
		return e.fileRows
	}
	r := read()
	if c.files == nil {
		c.files = map[string]cachedRows{}
	}
	c.files[path] = cachedRows{size: st.Size(), mod: st.ModTime(), variant: variant, fileRows: r}
	return r
}

// add puts a file's rows left out and notes into the report.
func (r fileRows) add(rep *ImportReport) {
	rep.Skip = append(rep.Skip, r.skip...)
	for _, n := range r.notes {
		rep.Notes = appendOnce(rep.Notes, n)
	}
}

// readTRL reads a TRL GRPOTrainer output folder.
func readTRL(dir string, rep *ImportReport, cache *importCache) ([]MetricRecord, []*TraceRecord, error) {
	metrics, err := readStateMetrics(dir, rep)
	if err != nil {
		return nil, nil, err
	}
	files, _ := filepath.Glob(filepath.Join(dir, "completions", "completions_*.parquet"))
	sortByStep(files, trlCompletionRe)
	if len(rep.Files) == 0 && len(files) == 0 {
		return nil, nil, errors.New("not a TRL run folder (no trainer_state.json, no completions/completions_*.parquet)")
	}
	rewards := trlRewardNames(metrics)
	var parts []fileRows
	for _, p := range files {
		name := "completions/" + filepath.Base(p)
		rep.Files = append(rep.Files, name)
		parts = append(parts, cache.read(p, strings.Join(rewards, "\x00"), func() fileRows { return readTRLCompletions(p, name, rewards) }))
	}
	return metrics, fileTraces(parts, rep), nil
}

// trlRewardNames are the reward functions a TRL run logged, from its
// metrics' rewards/<name>/mean keys (sorted; nil when there are none yet).
func trlRewardNames(metrics []MetricRecord) []string {
	seen := map[string]bool{}
	for _, m := range metrics {
		for _, n := range m.Names {
			if r, ok := strings.CutPrefix(n, "rewards/"); ok {
				if f, ok := strings.CutSuffix(r, "/mean"); ok && f != "" {
					seen[f] = true
				}
			}
		}
	}
	if len(seen) == 0 {
		return nil
	}
	return sortedKeys(seen, nil)
}

// readTRLCompletions reads one completions parquet file (name is its path
// in messages; rewards as trlRows).
func readTRLCompletions(path, name string, rewards []string) fileRows {
	t, err := readParquet(path)
	if errors.Is(err, errParquetPending) {
		return fileRows{skip: []RowIssue{{File: name, Msg: err.Error() + ": read when it is complete"}}}
	}
	if err != nil {
		return fileRows{skip: []RowIssue{{File: name, Msg: err.Error()}}}
	}
	sub := &ImportReport{}
	rs, err := trlRows(name, t, rewards, sub)
	if err != nil {
		return fileRows{skip: []RowIssue{{File: name, Msg: err.Error()}}}
	}
	return fileRows{rows: rs, skip: sub.Skip, notes: sub.Notes}
}

// trlRows reads one completions parquet table. GRPOTrainer writes one
// column per reward function, named after it, beside step, prompt,
// completion, advantage and the columns of log_extra: the reward columns
// are those of the functions in rewards (the run's rewards/<name>/mean
// metrics) or, before the trainer has saved its metrics (rewards nil),
// every numeric column other than step and advantage. The source reward is
// their sum, which is TRL's reward with its default weights of 1
// (reward_weights are not in the file: with other weights the sum differs
// from the logged reward).
func trlRows(name string, t *pqTable, rewards []string, rep *ImportReport) ([]foreignRow, error) {
	pc, cc, sc, ac := t.col("prompt"), t.col("completion"), t.col("step"), t.col("advantage")
	if pc < 0 || cc < 0 {
		return nil, fmt.Errorf("no %q and %q columns (columns: %s)", "prompt", "completion", strings.Join(t.Columns, ", "))
	}
	fileStep := -1
	if m := trlCompletionRe.FindStringSubmatch(filepath.Base(name)); m != nil {
		fileStep, _ = strconv.Atoi(m[1])
	}
	var rewardCols []int
	for i, c := range t.Columns {
		if i == sc || i == ac || i == pc || i == cc {
			continue
		}
		numeric := true
		for _, r := range t.Rows {
			if r[i].IsStr {
				numeric = false
				break
			}
		}
		switch {
		case numeric && (rewards == nil || slices.Contains(rewards, c)):
			rewardCols = append(rewardCols, i)
		case len(t.Rows) > 0:
			rep.Notes = appendOnce(rep.Notes, fmt.Sprintf("completions: column %q is not a reward function's (no rewards/%s/mean metric, or not numeric): not imported", c, c))
		}
	}
	if len(rewardCols) > 1 {
		var names []string
		for _, i := range rewardCols {
			names = append(names, t.Columns[i])
		}
		rep.Notes = appendOnce(rep.Notes, fmt.Sprintf("completions: the source reward is the sum of the reward columns %s (TRL's default reward_weights; the weights are not in the file)", strings.Join(names, ", ")))
	}
	if len(t.Nested) > 0 {
		rep.Notes = appendOnce(rep.Notes, fmt.Sprintf("%s: nested columns not imported: %s", name, strings.Join(t.Nested, ", ")))
	}
	var out []foreignRow
	for i, r := range t.Rows {
		if !r[pc].IsStr || !r[cc].IsStr {
			rep.Skip = append(rep.Skip, RowIssue{File: name, Line: i + 1, Field: "prompt", Msg: fmt.Sprintf("row %d: no prompt or completion text", i+1)})
			continue
		}
		row := foreignRow{Step: fileStep, Prompt: r[pc].Str, Completion: r[cc].Str, Advantage: math.NaN(), File: name, Line: i + 1}
		if sc >= 0 && r[sc].IsNum {
			row.Step = int(r[sc].Num)
		}
		if row.Step < 0 {
			rep.Skip = append(rep.Skip, RowIssue{File: name, Line: i + 1, Field: "step", Msg: fmt.Sprintf("row %d: no step (no step column, and the file name has none)", i+1)})
			continue
		}
		if ac >= 0 && r[ac].IsNum {
			row.Advantage = r[ac].Num
		}
		for _, c := range rewardCols {
			if r[c].IsNum && !math.IsNaN(r[c].Num) {
				row.Reward += r[c].Num
				row.HasReward = true
			}
		}
		out = append(out, row)
	}
	return out, nil
}

// readStateMetrics reads the metrics of a Hugging Face trainer_state.json
// into one record per step: the one at the top, else the newest
// checkpoint's. One that cannot be read — cut short because the trainer is
// writing it (it writes the file in place), or broken — is listed as left
// out and the next older one is read instead, so a checkpoint being saved
// never stops the import; it is read once it is complete.
func readStateMetrics(dir string, rep *ImportReport) ([]MetricRecord, error) {
	for _, state := range trainerStates(dir) {
		rel := filepath.ToSlash(strings.TrimPrefix(state, dir+string(filepath.Separator)))
		rep.Files = append(rep.Files, rel)
		data, err := os.ReadFile(state)
		if err != nil {
			rep.Skip = append(rep.Skip, RowIssue{File: rel, Msg: err.Error()})
			continue
		}
		entries, sr, err := parseTrainerState(rel, data, -1)
		if err != nil {
			is := RowIssue{File: rel, Msg: err.Error()}
			if se := (*stateError)(nil); errors.As(err, &se) { // the issue names the file, once
				is = RowIssue{File: rel, Line: se.Line, Column: se.Column, Msg: se.Msg}
			}
			is.Msg += "; an older trainer_state.json, if there is one, is read instead"
			rep.Skip = append(rep.Skip, is)
			continue
		}
		if rel != "trainer_state.json" {
			rep.Notes = append(rep.Notes, fmt.Sprintf("metrics from %s (the newest checkpoint's; the trainer writes trainer_state.json at each save)", rel))
		}
		rep.Entries, rep.PlannedSteps = sr.Entries, sr.MaxSteps
		rep.Skip = append(rep.Skip, sr.Skipped...)
		if sr.NonNumeric > 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s: %s ignored (%s: %s)", rel, Counted(sr.NonNumeric, "non-numeric value", "non-numeric values"),
				OneOrMany(len(sr.NonNumericKeys), "key", "keys"), strings.Join(sr.NonNumericKeys, ", ")))
		}
		if sr.PastRange > 0 {
			rep.Notes = append(rep.Notes, pastRangeNote(rel, sr.PastRange, sr.PastRangeKeys))
		}
		return mergeSteps(entries), nil
	}
	return nil, nil
}

// trainerStates are the trainer_state.json files of a Hugging Face output
// folder, the one at the top first, then the checkpoints' newest first.
func trainerStates(dir string) []string {
	var out []string
	if p := filepath.Join(dir, "trainer_state.json"); fileExists(p) {
		out = append(out, p)
	}
	ck, _ := filepath.Glob(filepath.Join(dir, "checkpoint-*", "trainer_state.json"))
	num := func(p string) int {
		n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(filepath.Dir(p)), "checkpoint-"))
		if err != nil {
			return -1
		}
		return n
	}
	sort.Slice(ck, func(i, j int) bool { return num(ck[i]) > num(ck[j]) })
	for _, p := range ck {
		if num(p) >= 0 {
			out = append(out, p)
		}
	}
	return out
}

// sortByStep sorts paths by the step number re's first group finds in
// their base names (others last, by name).
func sortByStep(paths []string, re *regexp.Regexp) {
	step := func(p string) int {
		if m := re.FindStringSubmatch(filepath.Base(p)); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil {
				return n
			}
		}
		return math.MaxInt
	}
	sort.SliceStable(paths, func(i, j int) bool {
		a, b := step(paths[i]), step(paths[j])
		if a != b {
			return a < b
		}
		return paths[i] < paths[j]
	})
}

func appendOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// --------------------------------------------------------------- verl ----

// verlFiles are the files of a verl folder: metric files (file logger) and
// rollout dumps, relative to the folder.
type verlFiles struct {
	metrics, rollouts, validation []string
}

// findVerl lists the verl files of dir: its *.jsonl and those of the
// folders just below it.
func findVerl(dir string) verlFiles {
	var v verlFiles
	look := func(sub string) {
		files, _ := filepath.Glob(filepath.Join(dir, sub, "*.jsonl"))
		for _, f := range files {
			rel := filepath.ToSlash(filepath.Join(sub, filepath.Base(f)))
			switch {
			case verlStepRe.MatchString(filepath.Base(f)) && strings.HasPrefix(strings.ToLower(sub), "val"):
				v.validation = append(v.validation, rel)
			case verlStepRe.MatchString(filepath.Base(f)):
				v.rollouts = append(v.rollouts, rel)
			case isVerlMetricFile(f):
				v.metrics = append(v.metrics, rel)
			}
		}
	}
	look("")
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		sub := filepath.Join(dir, e.Name())
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") && !fileExists(filepath.Join(sub, ConfigFile)) && !fileExists(filepath.Join(sub, MetricsFile)) {
			look(e.Name()) // not one of our run folders (a folder of runs is not verl's)
		}
	}
	sortByStep(v.rollouts, verlStepRe)
	return v
}

// isVerlMetricFile: the first complete line is {"step": N, "data": {…}}.
func isVerlMetricFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	// The first line only, read as far as it goes (a step logs a few
	// hundred metrics), up to 1 MiB.
	var buf []byte
	chunk := make([]byte, 8<<10)
	var line []byte
	for len(buf) < 1<<20 {
		n, err := f.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			line = buf[:i]
			break
		}
		if err != nil {
			return false
		}
	}
	if line == nil {
		return false
	}
	var probe struct {
		Step *json.Number    `json:"step"`
		Data json.RawMessage `json:"data"`
	}
	return json.Unmarshal(line, &probe) == nil && probe.Step != nil && len(probe.Data) > 0 && probe.Data[0] == '{'
}

// readVerl reads a verl folder.
func readVerl(dir string, rep *ImportReport, cache *importCache) ([]MetricRecord, []*TraceRecord, error) {
	v := findVerl(dir)
	if len(v.metrics) == 0 && len(v.rollouts) == 0 {
		return nil, nil, errors.New("not a verl folder (no *.jsonl of {\"step\",\"data\"} lines, no {step}.jsonl rollouts)")
	}
	if len(v.validation) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d validation generation files left out (%s…)", len(v.validation), v.validation[0]))
	}
	entries, err := readVerlMetrics(dir, v.metrics, rep)
	if err != nil {
		return nil, nil, err
	}
	var parts []fileRows
	for _, rel := range v.rollouts {
		rep.Files = append(rep.Files, rel)
		p := filepath.Join(dir, rel)
		parts = append(parts, cache.read(p, "", func() fileRows { return readVerlRollout(p, rel) }))
	}
	return mergeSteps(entries), fileTraces(parts, rep), nil
}

// readVerlMetrics reads verl's metric files (files, relative to dir), a
// line per step.
func readVerlMetrics(dir string, files []string, rep *ImportReport) ([]OfficialMetrics, error) {
	var entries []OfficialMetrics
	for _, rel := range files {
		rep.Files = append(rep.Files, rel)
		nonNum, past := map[string]bool{}, map[string]bool{}
		count, pastCount := 0, 0
		st, err := ReadLog(filepath.Join(dir, rel), func(line int, raw []byte) error {
			m, bad, field, err := parseVerlMetric(raw)
			if err != nil {
				rep.Skip = append(rep.Skip, RowIssue{File: rel, Line: line, Field: field, Msg: err.Error()})
				return nil
			}
			for _, k := range bad {
				if k.pastRange {
					pastCount++
					past[k.key] = true
				} else {
					count++
					nonNum[k.key] = true
				}
			}
			entries = append(entries, m)
			return nil
		})
		if err != nil {
			return nil, err
		}
		partial(rep, rel, st)
		if count > 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s: %d values that are not numbers (null for NaN, text) ignored (keys: %s)", rel, count, strings.Join(sortedKeys(nonNum, nil), ", ")))
		}
		if pastCount > 0 {
			rep.Notes = append(rep.Notes, pastRangeNote(rel, pastCount, sortedKeys(past, nil)))
		}
	}
	rep.Entries = len(entries)
	return entries, nil
}

// ignoredValue is a metric value left out: its key, and whether it is a
// number past float64's range (else no number: null for NaN, text).
type ignoredValue struct {
	key       string
	pastRange bool
}

// parseVerlMetric reads one line of verl's metrics file, {"step", "data"}:
// its numeric values, and the keys of those that are not numbers (null for
// NaN, text) or are past float64's range. An error names the field at
// fault (empty: the whole line).
func parseVerlMetric(raw []byte) (m OfficialMetrics, nonNum []ignoredValue, field string, err error) {
	var l struct {
		Step json.RawMessage `json:"step"`
		Data json.RawMessage `json:"data"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&l); err != nil {
		return m, nil, "", errors.New(jsonerr.Say(err))
	}
	if len(l.Step) == 0 {
		return m, nil, "step", errors.New(`"step" is missing`)
	}
	f, err := strconv.ParseFloat(string(l.Step), 64) // a quoted step fails here
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return m, nil, "step", fmt.Errorf(`"step" is not an integer: %s`, bytes.TrimSpace(l.Step))
	}
	var data map[string]any
	dd := json.NewDecoder(bytes.NewReader(l.Data))
	dd.UseNumber()
	if err := dd.Decode(&data); err != nil || data == nil {
		return m, nil, "data", errors.New(`"data" is not an object`)
	}
	m = OfficialMetrics{Step: int(f), Values: make(map[string]float64, len(data))}
	for k, v := range data {
		if f, ok := jsonNumber(v); ok {
			m.Values[k] = f
		} else {
			num, _ := v.(json.Number) // "" where v is no number
			_, past := numberPastRange(string(num))
			nonNum = append(nonNum, ignoredValue{k, past})
		}
	}
	return m, nonNum, "", nil
}

// readVerlRollout reads one rollout file, {step}.jsonl (rel is its path in
// messages).
func readVerlRollout(path, rel string) fileRows {
	fileStep, _ := strconv.Atoi(strings.TrimSuffix(filepath.Base(rel), ".jsonl"))
	return readRows(path, rel, func(raw []byte) (foreignRow, string, error) { return parseVerlRollout(raw, fileStep) })
}

// readRows reads a JSON Lines file of generations, a row a line through
// parse: a line that does not parse is listed as skipped, with its field.
func readRows(path, rel string, parse func(raw []byte) (foreignRow, string, error)) fileRows {
	rep := &ImportReport{}
	var rows []foreignRow
	st, err := ReadLog(path, func(line int, raw []byte) error {
		row, field, err := parse(raw)
		if err != nil {
			is := RowIssue{File: rel, Line: line, Field: field, Msg: err.Error()}
			var ce *columnError
			if errors.As(err, &ce) {
				is.Column = ce.Column
			}
			rep.Skip = append(rep.Skip, is)
			return nil
		}
		row.File, row.Line = rel, line
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		rep.Skip = append(rep.Skip, RowIssue{File: rel, Msg: err.Error()})
	}
	partial(rep, rel, st)
	return fileRows{rows: rows, skip: rep.Skip, notes: rep.Notes}
}

// parseVerlRollout reads one row of a verl rollout file (fileStep is the
// step of its name, used when the row has none). An error names the field
// at fault (empty: the whole line).
func parseVerlRollout(raw []byte, fileStep int) (foreignRow, string, error) {
	var r struct {
		Input  *string         `json:"input"`
		Output *string         `json:"output"`
		GTS    json.RawMessage `json:"gts"`
		Score  *float64        `json:"score"`
		Step   *int            `json:"step"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		// A score past float64's range is refused as a NeMo-RL row's
		// and a traces row's reward is, at its column: it was "field
		// "score" holds a JSON number 1e400 where a number is wanted".
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) == nil {
			if n, ok := numberPastRange(string(m["score"])); ok {
				return foreignRow{}, "score", &columnError{Column: valueColumn(raw, "score"), Msg: record.RewardPastRange("score", n)}
			}
		}
		return foreignRow{}, "", fmt.Errorf("not a rollout row: %s", jsonerr.Say(err))
	}
	if r.Input == nil || r.Output == nil {
		return foreignRow{}, "input", errors.New(`missing field "input" or "output"`)
	}
	row := foreignRow{Step: fileStep, Prompt: *r.Input, Completion: *r.Output, Advantage: math.NaN()}
	if r.Step != nil {
		row.Step = *r.Step
	}
	if r.Score != nil {
		row.Reward, row.HasReward = *r.Score, true
	}
	var gts string
	if json.Unmarshal(r.GTS, &gts) == nil {
		row.Reference = gts
	}
	return row, "", nil
}

// columnError is a row's refusal at a column of its line (1-based, in
// bytes as jsonerr.LineCol counts), which its RowIssue says.
type columnError struct {
	Column int
	Msg    string
}

func (e *columnError) Error() string { return e.Msg }

// valueColumn is the 1-based column in the JSON object line raw where the
// value of its member key begins (inside a list of one, its element, as
// unwrapOne reads it); 0 where raw has no such member. The last of a
// repeated key, as encoding/json takes it.
func valueColumn(raw []byte, key string) int {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return 0
	}
	var at int64 = -1
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			break
		}
		if k, _ := kt.(string); k == key {
			at = dec.InputOffset()
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			break
		}
	}
	if at < 0 {
		return 0
	}
	for at < int64(len(raw)) && strings.IndexByte(" \t\r\n:[", raw[at]) >= 0 {
		at++
	}
	_, col := jsonerr.LineCol(raw, at)
	return col
}

// numberPastRange is the JSON number text is (spaces around it allowed)
// where float64 cannot hold it (1e400; one below its smallest reads as
// 0), and whether it is one: every import's one rule of a number past
// the range. A list (verl's "score": [1e400]) is no number: a reader
// whose field takes a list of one (NeMo-RL's "rewards") unwraps it first,
// so that a field that takes a number says a list's wrong type, as it
// does of [0.5], not its number.
func numberPastRange(text string) (string, bool) {
	n := strings.TrimSpace(text)
	if !json.Valid([]byte(n)) || n == "" || n[0] != '-' && (n[0] < '0' || n[0] > '9') {
		return "", false
	}
	_, err := strconv.ParseFloat(n, 64)
	return n, errors.Is(err, strconv.ErrRange)
}

// partial records an unterminated last line as a row left out for now.
func partial(rep *ImportReport, rel string, st ReadStats) {
	if st.PartialBytes > 0 {
		rep.Skip = append(rep.Skip, RowIssue{File: rel, Line: st.Lines + st.Blank + 1,
			Msg: fmt.Sprintf("unterminated last line (%d bytes): the trainer may still be writing it; read when complete", st.PartialBytes)})
	}
}

// ------------------------------------------------------------ NeMo-RL ----

// readNemoRL reads a NeMo-RL log folder.
func readNemoRL(dir string, rep *ImportReport, cache *importCache) ([]MetricRecord, []*TraceRecord, error) {
	files := nemoDataFiles(dir)
	events := tfEventFiles(dir)
	if len(files) == 0 && len(events) == 0 {
		return nil, nil, errors.New("not a NeMo-RL log folder (no train_data_step*.jsonl, no tensorboard/events.out.tfevents.*)")
	}
	if val, _ := filepath.Glob(filepath.Join(dir, "val_data_step*.jsonl")); len(val) > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d validation data files (val_data_step*.jsonl) left out", len(val)))
	}
	entries := readNemoStepMetrics(dir, files, events, rep)
	var parts []fileRows
	for _, p := range files {
		rel := filepath.Base(p)
		rep.Files = append(rep.Files, rel)
		parts = append(parts, cache.read(p, "", func() fileRows { return readNemoData(p, rel) }))
	}
	return mergeSteps(entries), fileTraces(parts, rep), nil
}

// readNemoMetrics reads NeMo-RL's step metrics from its TensorBoard event
// files (events, under dir); a file that cannot be read is left out.
func readNemoMetrics(dir string, events []string, rep *ImportReport) []OfficialMetrics {
	var entries []OfficialMetrics
	for _, p := range events {
		rel := filepath.ToSlash(strings.TrimPrefix(p, dir+string(filepath.Separator)))
		rep.Files = append(rep.Files, rel)
		es, pending, err := readTFEvents(p)
		if err != nil {
			rep.Skip = append(rep.Skip, RowIssue{File: rel, Msg: err.Error()})
		}
		if pending > 0 {
			rep.Skip = append(rep.Skip, RowIssue{File: rel, Msg: fmt.Sprintf("unfinished last record (%d bytes): the trainer may still be writing it; read when complete", pending)})
		}
		entries = append(entries, es...)
	}
	rep.Entries = len(entries)
	return entries
}

// readNemoStepMetrics is what an import takes of a NeMo-RL folder's steps:
// its TensorBoard scalars (readNemoMetrics), and a record with no values
// for each train_data_step{N}.jsonl of files (step N) that has none: the
// steps the trainer wrote generations of are steps it did, and a run
// counted as '—' while its data files number them would say less than its
// folder does. A folder may have no scalars at all (its run logged to
// wandb only, say), or have them for fewer steps than its data files (an
// event file written later, or flushed behind them): its steps done are
// still its data files' then, and do not go back when the scalars come.
func readNemoStepMetrics(dir string, files, events []string, rep *ImportReport) []OfficialMetrics {
	entries := readNemoMetrics(dir, events, rep)
	scalars := len(entries)
	withScalars := map[int]bool{}
	for _, e := range entries {
		withScalars[e.Step] = true
	}
	for _, p := range files {
		if m := nemoStepRe.FindStringSubmatch(filepath.Base(p)); m != nil {
			if step, err := strconv.Atoi(m[1]); err == nil && !withScalars[step] {
				entries = append(entries, OfficialMetrics{Step: step})
			}
		}
	}
	if scalars == 0 && len(entries) > 0 {
		rep.Notes = append(rep.Notes, "no TensorBoard scalars: the steps are those of the train_data_step{N}.jsonl files, with no metric values")
	}
	return entries
}

// readNemoData reads one train_data_step{N}.jsonl file (rel is its name in
// messages).
func readNemoData(p, rel string) fileRows {
	m := nemoStepRe.FindStringSubmatch(rel)
	fileStep, _ := strconv.Atoi(m[1])
	return readRows(p, rel, func(raw []byte) (foreignRow, string, error) { return parseNemoData(raw, fileStep) })
}

// parseNemoData reads one line of a train_data_step{N}.jsonl file (fileStep
// is N). An error names the field at fault (empty: the whole line).
func parseNemoData(raw []byte, fileStep int) (foreignRow, string, error) {
	var r struct {
		Content    json.RawMessage `json:"content"`
		Rewards    json.RawMessage `json:"rewards"`
		Advantages json.RawMessage `json:"advantages"`
		Mask       json.RawMessage `json:"token_loss_mask"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return foreignRow{}, "", fmt.Errorf("not a data row: %s", jsonerr.Say(err))
	}
	var content []string
	if err := unwrapOne(r.Content, &content); err != nil || len(content) == 0 {
		return foreignRow{}, "content", errors.New(`"content" is not a list of message texts`)
	}
	row := foreignRow{Step: fileStep, Prompt: strings.Join(content[:len(content)-1], "\n"),
		Completion: content[len(content)-1], Advantage: math.NaN()}
	var reward float64
	if unwrapOne(r.Rewards, &reward) == nil {
		row.Reward, row.HasReward = reward, true
	} else if n, ok := numberPastRange(string(oneOf(r.Rewards))); ok {
		// Refused as a traces row's and an official CSV's reward past
		// the range is, at its column: it was read as no reward, the
		// row kept as if the trainer had scored none.
		return foreignRow{}, "rewards", &columnError{Column: valueColumn(raw, "rewards"), Msg: record.RewardPastRange("rewards", n)}
	}
	var adv []float64
	var mask []float64
	if unwrapOne(r.Advantages, &adv) == nil {
		unwrapOne(r.Mask, &mask)
		for i, a := range adv { // GRPO's advantage is the sequence's, on each generated token
			if i < len(mask) && mask[i] != 0 || len(mask) == 0 {
				row.Advantage = a
				break
			}
		}
	}
	return row, "", nil
}

// unwrapOne decodes raw into v, or, when raw is a list of one (NeMo-RL
// logs each sample's slice of the batch), its element.
func unwrapOne(raw json.RawMessage, v any) error {
	var one []json.RawMessage
	if json.Unmarshal(raw, &one) == nil && len(one) == 1 {
		if err := json.Unmarshal(one[0], v); err == nil {
			return nil
		}
	}
	return json.Unmarshal(raw, v)
}

// oneOf is the one element of raw where it is a list of one (as
// unwrapOne reads it), else raw.
func oneOf(raw json.RawMessage) json.RawMessage {
	var one []json.RawMessage
	if json.Unmarshal(raw, &one) == nil && len(one) == 1 {
		return one[0]
	}
	return raw
}

// nemoDataFiles are the train_data_step{N}.jsonl files of a NeMo-RL log
// folder, by step.
func nemoDataFiles(dir string) []string {
	files, _ := filepath.Glob(filepath.Join(dir, "train_data_step*.jsonl"))
	sortByStep(files, nemoStepRe)
	return files
}

// tfEventFiles are the TensorBoard event files of a NeMo-RL log folder.
func tfEventFiles(dir string) []string {
	a, _ := filepath.Glob(filepath.Join(dir, "tensorboard", "events.out.tfevents.*"))
	b, _ := filepath.Glob(filepath.Join(dir, "tensorboard", "*", "events.out.tfevents.*"))
	out := append(a, b...)
	sort.Strings(out)
	return out
}

// --------------------------------------------------------- following ----

// TrainerSteps is what a trainer's run folder says of its steps, as an
// import of it counts them (ImportReport.LastStep and PlannedSteps): what
// the Runs screen shows of a trainer's folder it follows before it is
// opened, and the header once it is.
type TrainerSteps struct {
	// LastStep is the highest step of its metric records, as the trainer
	// numbers them (StepsFromOne counts its steps done); -1: none yet.
	LastStep int
	// Planned is how many steps its files state (TRL's max_steps); 0
	// where they state none (verl's, NeMo-RL's logs).
	Planned int
	// BestReward is the best of its metric records' reward, under our name
	// (trainerMetricNames); NaN: none.
	BestReward float64
	// Problem is why its metrics could not be read ("" none).
	Problem string
}

// readTrainerSteps reads only the metrics of the run folder dir of a
// trainer (format ImportTRL, ImportVerl or ImportNemoRL), not its
// generations, which a listing does not need.
func readTrainerSteps(dir, format string) TrainerSteps {
	rep := &ImportReport{}
	var metrics []MetricRecord
	var err error
	switch format {
	case ImportTRL:
		metrics, err = readStateMetrics(dir, rep)
	case ImportVerl:
		var entries []OfficialMetrics
		entries, err = readVerlMetrics(dir, findVerl(dir).metrics, rep)
		metrics = mergeSteps(entries)
	case ImportNemoRL:
		metrics = mergeSteps(readNemoStepMetrics(dir, nemoDataFiles(dir), tfEventFiles(dir), rep))
	default:
		err = fmt.Errorf("%s: %q names no trainer whose steps can be read", dir, format)
	}
	ts := TrainerSteps{LastStep: -1, BestReward: math.NaN()}
	if err != nil {
		ts.Problem = err.Error()
		return ts
	}
	metrics = renameMetrics(format, metrics, rep)
	ts.LastStep, ts.Planned = lastMetricStep(metrics), rep.PlannedSteps
	for _, m := range metrics {
		if v, ok := m.Get("reward"); ok && !math.IsNaN(v) && !(v <= ts.BestReward) {
			ts.BestReward = v
		}
	}
	return ts
}

// trainerSignature changes whenever a file the import of format reads
// changes (size or modification time).
func trainerSignature(dir, format string) string {
	var pats []string
	switch format {
	case ImportTRL:
		pats = []string{"trainer_state.json", "checkpoint-*/trainer_state.json", "completions/*.parquet"}
	case ImportVerl:
		pats = []string{"*.jsonl", "*/*.jsonl"}
	case ImportNemoRL:
		pats = []string{"train_data_step*.jsonl", "tensorboard/events.out.tfevents.*", "tensorboard/*/events.out.tfevents.*"}
	default:
		return officialSignature(dir)
	}
	var b strings.Builder
	for _, pat := range pats {
		matches, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, m := range matches {
			if st, err := os.Stat(m); err == nil {
				fmt.Fprintf(&b, "%s:%d:%d;", m, st.Size(), st.ModTime().UnixNano())
			}
		}
	}
	return b.String()
}
