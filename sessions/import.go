package sessions

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/rlt-workbench/rlt/engine/configkey"
	"github.com/rlt-workbench/rlt/engine/durable"
	"github.com/rlt-workbench/rlt/engine/jsonerr"
	"github.com/rlt-workbench/rlt/engine/record"
)

// Import sources.
const (
	ImportOfficial = "official" // the official RLT trainer's run folder (RLT.md §7)
	ImportTraces   = "traces"   // a JSON Lines traces file (see readTracesFile)
)

// ImportConfig is config.toml of a run made by Import: it records where the
// run came from. (It is not a training configuration: `rlt run --resume`
// refuses such a run.)
type ImportConfig struct {
	Import ImportSource `toml:"import"`
}

// ImportSource describes an import.
type ImportSource struct {
	Format  string    `toml:"format"`  // ImportOfficial, ImportTRL, ImportVerl, ImportNemoRL or ImportTraces
	Source  string    `toml:"source"`  // absolute path of the folder or file read
	Files   []string  `toml:"files"`   // the files read, relative to Source (for a file: its name)
	Time    time.Time `toml:"time"`    // when it was imported
	Metrics int       `toml:"metrics"` // metric records written
	Traces  int       `toml:"traces"`  // traces written
	Skipped int       `toml:"skipped"` // rows and entries left out (each one is an event)
	// PlannedSteps is how many steps the trainer's files say the run
	// takes, the total its step numbers (steps done, StepsFromOne) count
	// towards: the Hugging Face Trainer's max_steps in trainer_state.json
	// (the official RLT trainer, TRL). 0 where the files do not state one
	// (verl's and NeMo-RL's logs, a traces file): the run is open-ended.
	PlannedSteps int `toml:"planned_steps,omitempty"`
	// StudentSystem is the system prompt of a traces file's Bespoke-Stratos
	// rows, where they all carry the same one: the student prompt of the
	// run's export (Run.StudentPrompt), so rows imported and exported are
	// the rows read. "" for anything else.
	StudentSystem string `toml:"student_system,omitempty"`
	// Reward is the reward a traces file's rows were ranked with, where
	// every row imported records the same one (rlt distill
	// --samples-out's "reward_config", record.ParseRewardConfig, keys it
	// lacks at their defaults): rlt score --run starts from it, as from a
	// run's [reward], so that its scores compare with the rows' source
	// rewards. nil where the rows record none, or records that differ
	// (importReward), which rep.Notes then says.
	Reward *record.RewardConfig `toml:"reward,omitempty"`
}

// ImportReport says what Import wrote and what it left out.
type ImportReport struct {
	Dir string // the run folder written
	ImportSource
	// LastStep is the highest step of the metric records, as the trainer
	// numbers it (ImportNumbering; -1: none): with PlannedSteps, what rlt
	// import says of the steps done.
	LastStep int
	Entries  int        // log_history entries read (official)
	Skip     []RowIssue // every row or entry left out; File is relative to Source
	Notes    []string   // what else the reader noticed (values ignored, entries merged …)
}

// Import reads src — a trainer's run folder (the official RLT trainer's,
// ImportOfficialRun, or TRL's, verl's or NeMo-RL's, see trainers.go) or a
// JSON Lines traces file (readTracesFile) — and writes a new run folder at dst
// (which must not hold a run, nor lie inside src): config.toml recording the
// source (ImportConfig), the metrics, the traces (each with Source, its
// file:line, and SourceReward when the source had a reward), and events
// noting the import and every row left out with its file and line. The
// source is only read. The imported traces can then be reviewed, exported
// and re-scored like a run's own.
//
// An official completion row becomes the trace "<step>-0-<n>" (n counts the
// rows of that step), its question and solution taken from the row's prompt
// (record.ParseTeacherPrompt) and its explanation extracted from the completion; a
// traces-file row becomes "0-0-<n>". log_history entries of one step are
// merged into one metric record (a later entry's value wins).
func Import(dst, src string) (*ImportReport, error) {
	return ImportAs(dst, src, "")
}

// ImportAs is Import with the trainer named: format is "rlt" (or
// ImportOfficial), ImportTRL, ImportVerl or ImportNemoRL, or "" to detect
// it from the folder (DetectFormat). Rows of other trainers become traces
// as the official trainer's do (foreignTraces), their metric names mapped
// to ours where they mean the same (trainerMetricNames).
func ImportAs(dst, src, format string) (*ImportReport, error) {
	return ImportAsContext(context.Background(), dst, src, format)
}

// ImportProgress is how far an import is (ImportProgressContext): the
// source being read, then the run folder being written. Reading a traces
// file, Lines and Bytes are how much of it was read, and Size its size
// (0 where none is known: a FIFO); a trainer's folder is said only as
// read or written. Writing, Traces and Metrics are what the run folder
// gets.
type ImportProgress struct {
	Writing         bool
	Lines           int
	Bytes, Size     int64
	Traces, Metrics int
}

// ImportStopped is ImportAsContext's error where its context was done (a
// signal, for rlt import): nothing was made at dst, and no staging
// folder is left beside it. Written says whether the run folder was being
// written (its staging folder then removed) or the source still read.
type ImportStopped struct {
	Written bool
	Err     error // the context's
}

func (e *ImportStopped) Error() string {
	if e.Written {
		return "stopped while the run folder was written: no run folder was made (its staging folder was removed)"
	}
	return "stopped while the source was read: no run folder was made"
}

func (e *ImportStopped) Unwrap() error { return e.Err }

// ImportAsContext is ImportAs stopped by ctx: the source is read whole
// (it is only read), and a ctx done by then makes nothing; one done
// while the run folder is written in its staging folder removes that
// folder before it is put in place. Either is an *ImportStopped. A ctx
// done once the folder is in place stops nothing: the folder is whole.
func ImportAsContext(ctx context.Context, dst, src, format string) (*ImportReport, error) {
	return ImportProgressContext(ctx, dst, src, format, nil)
}

// ImportProgressContext is ImportAsContext telling progress how far it
// is (nil: not told): once as the read starts, as a traces file's bytes
// are read (a buffer at a time, not throttled: the caller says what it
// wants of them), and once as the run folder's writing starts.
func ImportProgressContext(ctx context.Context, dst, src, format string, progress func(ImportProgress)) (*ImportReport, error) {
	if progress == nil {
		progress = func(ImportProgress) {}
	}
	given := format // as the user wrote it, to be named so
	format, err := normalizeFormat(format)
	if err != nil {
		return nil, fmt.Errorf("--format: %w", err)
	}
	abs, err := filepath.Abs(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	fi, err := os.Stat(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s does not exist: give a trainer's run folder, or a file of traces (JSON Lines); no run folder was made", src)
	}
	if err != nil {
		return nil, fmt.Errorf("%w; no run folder was made", err) // the path is in err (a *fs.PathError)
	}
	if !fi.IsDir() && format != "" {
		return nil, fmt.Errorf("%s: --format %s names a trainer's run folder, and this is a file: %s; no run folder was made",
			src, given, fileNotFolderHint(filepath.Clean(src), "--format "+given))
	}
	dstAbs, err := filepath.Abs(dst)
	if err != nil {
		return nil, fmt.Errorf("run folder %s: %w", dst, err)
	}
	rel, err := filepath.Rel(abs, dstAbs)
	inside := err == nil && (rel == "." || (rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))))
	if inside {
		return nil, fmt.Errorf("%s: the run folder %s would be inside the source, which an import never modifies; choose another --out", src, dst)
	}
	progress(ImportProgress{})
	rep, metrics, traces, err := collectImportProgress(abs, fi.IsDir(), format, nil, progress)
	if doc := (*record.DocumentError)(nil); errors.As(err, &doc) {
		// A trainer's own file (trainer_state.json) is imported with its
		// folder, not made JSON Lines.
		d := *doc
		d.Path = src // as the user gave it
		fix := d.Fix()
		if hint, ok := trainerFileHint(src, abs); ok {
			fix = hint
		}
		return nil, fmt.Errorf("%s: %s: %s; no run folder was made", src, d.What(), fix)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	if len(metrics) == 0 && len(traces) == 0 { // an empty run folder would only mislead
		if !fi.IsDir() { // a file with a format was refused above
			if what := notJSONLines(abs); what != "" {
				return nil, fmt.Errorf("%s: %s, not JSON Lines: "+Program()+" import reads a file of traces, one JSON object a line, or a trainer's run folder%s; no run folder was made",
					src, what, csvHint(abs))
			}
			if hint, ok := trainerFileHint(src, abs); ok {
				return nil, fmt.Errorf("%s: no trace could be read from this file: %s; no run folder was made", src, hint)
			}
		}
		msg := fmt.Sprintf("%s: nothing to import: no trace or metric could be read", src)
		if len(rep.Skip) > 0 {
			left := fmt.Sprintf("%d rows or files", len(rep.Skip))
			if len(rep.Skip) == 1 {
				left = "1 row or file"
			}
			msg += fmt.Sprintf(" (%s left out; the first: %v)", left, rep.Skip[0])
		}
		for _, n := range rep.Notes { // a file whose every row is a sample not kept, said so
			msg += "; " + n
		}
		return nil, errors.New(msg + "; no run folder was made")
	}
	if fi.IsDir() {
		rep.Notes = append(rep.Notes, folderRewardNote(abs, rep.Format))
	}
	rep.Dir = dst
	if err := ctx.Err(); err != nil {
		return nil, &ImportStopped{Err: err}
	}
	progress(ImportProgress{Writing: true, Traces: len(traces), Metrics: len(metrics)})
	err = stageImport(dst, func(stage string) error {
		if err := writeImport(stage, rep, metrics, traces, false); err != nil {
			return err
		}
		// The last look before the folder is put in place: a stop that
		// came while it was written leaves none.
		if err := ctx.Err(); err != nil {
			return &ImportStopped{Written: true, Err: err}
		}
		return nil
	})
	if stopped := (*ImportStopped)(nil); errors.As(err, &stopped) {
		return nil, stopped // not stageImport's words, which name the folder as made
	}
	if err != nil {
		return nil, err // it names dst, where it went wrong
	}
	return rep, nil
}

// stageImport makes the run folder dst whole or not at all: write makes
// it in a hidden staging folder beside dst (durable.StageDir,
// ".NAME.partial-PID@HOST-N"), taking that folder's run lock as Create does, and
// once it is written and closed the folder is synced and renamed to dst,
// which must be absent or an empty folder. An import
// killed midway leaves no dst, whose config.toml and import event claimed
// every trace over the few on disk, listed as a stopped run and refused
// the rerun as one; its staging folder is left out of listings
// (durable.IsStaging) and removed by the next import to dst. An error
// names dst, not the staging folder, which is removed.
func stageImport(dst string, write func(stage string) error) error {
	cfg := filepath.Join(dst, ConfigFile)
	if _, err := os.Lstat(cfg); err == nil {
		what, use := ExistingRun(dst)
		return fmt.Errorf("create run: %s already exists: this folder holds %s; choose a new folder ("+Program()+" import --out, "+Program()+" run --runs make one), or %s", cfg, what, use)
	}
	if st, err := os.Stat(dst); err == nil && !st.IsDir() {
		return fmt.Errorf("create run: %s is a file, not a folder; choose a new folder", dst)
	} else if entries, _ := os.ReadDir(dst); len(entries) > 0 {
		return fmt.Errorf("create run: %s holds other files (%s …); an import makes a new run folder: choose a new or empty folder", dst, entries[0].Name())
	}
	err := durable.StageDir(dst, "no run folder was made", write)
	if errors.Is(err, fs.ErrExist) { // CommitDir found dst made meanwhile
		return fmt.Errorf("create run: %s was made by another process during the import (%v): choose a new folder", dst, err)
	}
	return err
}

// notJSONLines says what the file at path is when its first line that is
// not blank is no JSON object: "a CSV file", "a binary file", or "a text
// file"; "" when it starts as JSON Lines do.
func notJSONLines(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	head := make([]byte, 4096)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	text := bytes.TrimLeft(head, " \t\r\n\ufeff")
	switch {
	case len(text) == 0 || text[0] == '{':
		return ""
	case bytes.IndexByte(head, 0) >= 0:
		return "a binary file"
	}
	if strings.EqualFold(filepath.Ext(path), ".csv") || record.LooksCSV(text) {
		return "a CSV file"
	}
	return "a text file whose first line is not a JSON object"
}

// fileNotFolderHint is what to do with the file at path given where a
// trainer's run folder goes: import the trainer's folder it is in (the
// folder above it, or the one above that: stored_completions/*.csv,
// checkpoint-N/trainer_state.json), named with flags (those the command
// was given), or, for a file of traces, leave the flags out.
func fileNotFolderHint(path, flags string) string {
	if hint, ok := trainerFolderHint(path, flags); ok {
		return hint
	}
	return fmt.Sprintf("give the trainer's run folder, or leave %s out to import a file of traces (JSON Lines)", flags)
}

// trainerFileHint is what to do with the file src (abs, absolute) given
// as a traces file when it is a trainer's own: import the trainer's run
// folder it is in (trainerFolderHint), or the one its trainer_state.json
// is written in (trainerStateHint).
func trainerFileHint(src, abs string) (string, bool) {
	if hint, ok := trainerFolderHint(filepath.Clean(src), ""); ok {
		return hint, true
	}
	return trainerStateHint(abs)
}

// trainerFolderHint points the file at path to the trainer's run folder
// it is in, if it is in one (the folder above it, or the one above that),
// to be imported whole (with flags, "" for none).
func trainerFolderHint(path, flags string) (string, bool) {
	for dir, i := filepath.Dir(path), 0; i < 2; dir, i = filepath.Dir(dir), i+1 {
		if f, err := DetectFormat(dir); err == nil {
			return strings.TrimSpace(fmt.Sprintf("it is in a run folder of the %s, which "+Program()+" import reads whole: "+Program()+" import %s %s", FormatName(f), ShellQuote(dir), flags)), true
		}
	}
	return "", false
}

// trainerStateHint says that the file at path is a Hugging Face Trainer's
// trainer_state.json (a JSON object with a log_history, on one line or
// several), which is read with its run folder, not as traces.
func trainerStateHint(path string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	head := make([]byte, 64<<10)
	n, _ := io.ReadFull(f, head)
	head = bytes.TrimSpace(record.TrimByteOrderMark(head[:n]))
	if len(head) == 0 || head[0] != '{' || !bytes.Contains(head, []byte(`"log_history":`)) {
		return "", false
	}
	return "it is a Hugging Face Trainer's trainer_state.json, which " + Program() + " import reads with the run folder it is written in (the official RLT trainer's or TRL's output_dir): " + Program() + " import DIR", true
}

// csvHint points a CSV that looks like the official trainer's completions
// to the folder rlt import reads them from.
func csvHint(path string) string {
	if filepath.Base(filepath.Dir(path)) == "stored_completions" {
		return fmt.Sprintf(" (the official RLT trainer's completions are read from its run folder: "+Program()+" import %s)", ShellQuote(filepath.Dir(filepath.Dir(path))))
	}
	return ""
}

// writeImport creates the run folder dst of what collectImport read.
// rlt import's folder (followed false) is complete as imported: its state
// is done, and its metric records carry the time of the import. The copy
// of a trainer's folder that OpenTrainerRun follows goes on as the trainer
// writes (trainerFollow appends to it), so it is done only once the steps
// the trainer planned are (trainerDone), it is left open, and its metric
// records carry no time: when the trainer did the steps it had done before
// it was followed is in none of the files read (the Hugging Face Trainer's
// log_history has no times), and the moment they were read is no time of
// theirs; the steps that come later carry the time they were seen, which
// the workbench's rate and ETA count from.
func writeImport(dst string, rep *ImportReport, metrics []MetricRecord, traces []*TraceRecord, followed bool) error {
	abs := rep.Source
	run, err := Create(dst, ImportConfig{Import: rep.ImportSource})
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	run.enqueueEvent(EventRecord{Time: now, Kind: KindImport, Name: rep.Format, Dir: abs, Count: len(traces),
		Extra: countOf(len(traces), "trace") + ", " + countOf(len(metrics), "metric record") + ", " + countOf(len(rep.Skip), "row") + " left out"})
	for _, n := range rep.Notes {
		run.enqueueEvent(EventRecord{Time: now, Kind: KindImport, Name: rep.Format, Extra: n})
	}
	for _, is := range rep.Skip {
		run.enqueueEvent(EventRecord{Time: now, Kind: KindSkipped, File: is.File, Line: is.Line, Column: is.Column, Error: is.Msg})
	}
	stepTime := now
	if followed {
		stepTime = time.Time{}
	}
	for i := range metrics {
		m := &metrics[i]
		m.Time = stepTime
		run.store.addMetric(*m)
		run.enqueue(item{m: m})
	}
	for _, t := range traces {
		t.Time = now
		run.store.addTrace(t, lineAt{})
		run.enqueue(item{t: t})
	}
	last := max(lastMetricStep(metrics), 0)
	if n := len(traces); n > 0 {
		last = max(last, traces[n-1].Step)
	}
	if !followed || trainerDone(rep.PlannedSteps, metrics) {
		// The run is complete as imported ("finished" in rlt sessions).
		run.enqueueEvent(importDone(last, now))
	}
	if err := run.Close(); err != nil {
		if followed {
			return fmt.Errorf("writing %s: %w (the run folder is incomplete)", dst, err)
		}
		return fmt.Errorf("writing %s: %w", dst, err)
	}
	if followed {
		// Closing wrote a close event, and the follower appends to the
		// copy from now on: it is open again.
		if err := appendLines(filepath.Join(dst, EventsFile), eventLine(EventRecord{Time: now, Kind: KindOpen})); err != nil {
			return fmt.Errorf("writing %s: %w", dst, err)
		}
	}
	return nil
}

// importDone is the phase event that says an imported run, whose last
// step is last, is done.
func importDone(last int, now time.Time) EventRecord {
	return EventRecord{Time: now, Kind: KindPhase, Step: last, Name: "done", Extra: "imported"}
}

// lastMetricStep is the highest step of metrics (-1: none).
func lastMetricStep(metrics []MetricRecord) int {
	last := -1
	for i := range metrics {
		last = max(last, metrics[i].Step)
	}
	return last
}

// trainerDone reports whether a trainer's metrics, numbered by the
// trainer (StepsFromOne), reach the planned steps its files state (0:
// none stated, so never known to be done).
func trainerDone(planned int, metrics []MetricRecord) bool {
	return planned > 0 && StepsFromOne.StepsDone(lastMetricStep(metrics)) >= planned
}

// collectImport reads the source at abs (a folder of format, "" to detect
// it, or a traces file, for which format is "": ImportAs refuses a file
// with a format) into metric records and traces, without writing
// anything. cache, when not nil, keeps the parse of each file that did not
// change since the last call (the follower's; see importCache).
func collectImport(abs string, isDir bool, format string, cache *importCache) (*ImportReport, []MetricRecord, []*TraceRecord, error) {
	return collectImportProgress(abs, isDir, format, cache, func(ImportProgress) {})
}

// collectImportProgress is collectImport telling progress how much of a
// traces file was read (ImportProgress).
func collectImportProgress(abs string, isDir bool, format string, cache *importCache, progress func(ImportProgress)) (*ImportReport, []MetricRecord, []*TraceRecord, error) {
	rep := &ImportReport{ImportSource: ImportSource{Source: abs, Time: time.Now().UTC().Truncate(time.Second)}}
	var metrics []MetricRecord
	var traces []*TraceRecord
	var err error
	switch {
	case !isDir:
		rep.Format = ImportTraces
		traces, err = readTracesFile(abs, rep, progress)
	default:
		if format == "" {
			format, err = DetectFormat(abs)
		}
		rep.Format = format
		switch format {
		case ImportOfficial:
			metrics, traces, err = readOfficial(abs, rep)
		case ImportTRL:
			metrics, traces, err = readTRL(abs, rep, cache)
		case ImportVerl:
			metrics, traces, err = readVerl(abs, rep, cache)
		case ImportNemoRL:
			metrics, traces, err = readNemoRL(abs, rep, cache)
		}
		if err == nil {
			metrics = renameMetrics(format, metrics, rep)
		}
	}
	if err != nil {
		return nil, nil, nil, err
	}
	rep.Metrics, rep.Traces, rep.Skipped = len(metrics), len(traces), len(rep.Skip)
	rep.LastStep = lastMetricStep(metrics)
	return rep, metrics, traces, nil
}

// readOfficial reads an official run folder into metric records (one per
// step) and traces.
func readOfficial(dir string, rep *ImportReport) ([]MetricRecord, []*TraceRecord, error) {
	off, err := importOfficialRun(dir, -1)
	if err != nil {
		return nil, nil, err
	}
	rel := func(p string) string {
		if r, err := filepath.Rel(dir, p); err == nil {
			return filepath.ToSlash(r)
		}
		return p
	}
	var metrics []MetricRecord
	if off.StateFile != "" {
		state := rel(off.StateFile)
		rep.Files = append(rep.Files, state)
		if state != "trainer_state.json" {
			rep.Notes = append(rep.Notes, fmt.Sprintf("no trainer_state.json at the top: metrics from %s (the newest checkpoint's)", state))
		}
		rep.Entries = off.State.Entries
		rep.PlannedSteps = off.State.MaxSteps
		for _, is := range off.State.Skipped {
			is.File = state
			rep.Skip = append(rep.Skip, is)
		}
		if off.State.NonNumeric > 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s: %s ignored (%s: %s)", state, Counted(off.State.NonNumeric, "non-numeric value", "non-numeric values"),
				OneOrMany(len(off.State.NonNumericKeys), "key", "keys"), strings.Join(off.State.NonNumericKeys, ", ")))
		}
		if off.State.PastRange > 0 {
			rep.Notes = append(rep.Notes, pastRangeNote(state, off.State.PastRange, off.State.PastRangeKeys))
		}
		metrics = mergeOfficialMetrics(off.Metrics, state, rep)
	}
	var traces []*TraceRecord
	perStep := map[int]int{}
	for _, c := range off.Completions {
		file := "stored_completions/" + c.File
		q, sol, err := record.ParseTeacherPrompt(c.Prompt)
		if err != nil {
			rep.Skip = append(rep.Skip, RowIssue{File: file, Line: c.Line, Field: "prompt", Msg: fmt.Sprintf("row %d: %v", c.Row, err)})
			continue
		}
		if field, msg, bad := taggedText(q, sol, "", ""); bad {
			rep.Skip = append(rep.Skip, RowIssue{File: file, Line: c.Line, Field: field, Msg: fmt.Sprintf("row %d: %s", c.Row, msg)})
			continue
		}
		x := record.Extract(c.Completion)
		n := perStep[c.Step]
		perStep[c.Step]++
		t := &TraceRecord{ID: traceID(c.Step, 0, n, 0), Step: c.Step, Sample: n, Question: q, Solution: sol,
			Completion: c.Completion, Explanation: x.Body, Scored: record.Scored{Ended: x.Ended}, Advantage: math.NaN(),
			Source: fmt.Sprintf("%s:%d", file, c.Line)}
		if !math.IsNaN(c.Reward) {
			t.SourceReward, t.HasSourceReward = c.Reward, true
		}
		traces = append(traces, t)
	}
	for _, cr := range off.CSV {
		file := "stored_completions/" + cr.File
		rep.Files = append(rep.Files, file)
		for _, is := range cr.Skipped {
			is.File = file
			rep.Skip = append(rep.Skip, is)
		}
		if cr.PendingBytes > 0 {
			rep.Skip = append(rep.Skip, RowIssue{File: file, Line: cr.PendingLine,
				Msg: fmt.Sprintf("unfinished last record (%d bytes): the trainer may still be writing it", cr.PendingBytes)})
		}
	}
	if off.HasTeacherChats {
		rep.Notes = append(rep.Notes, "teacher_chats/log.txt is not imported (free text)")
	}
	slices.SortStableFunc(traces, func(a, b *TraceRecord) int { return a.Step - b.Step })
	return metrics, traces, nil
}

// mergeOfficialMetrics makes one record per step, sorted by step, from
// log_history entries (the summary entry repeats the last step), noting
// the steps logged more than once.
func mergeOfficialMetrics(entries []OfficialMetrics, state string, rep *ImportReport) []MetricRecord {
	out := mergeSteps(entries)
	count := map[int]int{}
	for _, e := range entries {
		count[e.Step]++
	}
	for _, m := range out {
		if count[m.Step] > 1 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s: %d log_history entries of step %d merged into one record", state, count[m.Step], m.Step))
		}
	}
	return out
}

// readTracesFile reads a JSON Lines traces file into traces of step 0, a
// line at a time (a line of any length). A file whose first line that is
// not blank begins a JSON array, or an object that is not whole on that
// line, may be one JSON document rather than JSON Lines: that one is read
// whole, to be said so (record.JSONDocument), as stdinDocument does for
// rlt score's stdin.
func readTracesFile(path string, rep *ImportReport, progress func(ImportProgress)) ([]*TraceRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read traces: %w", err)
	}
	defer f.Close()
	read := &readProgress{r: f, tell: progress}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		read.p.Size = fi.Size()
	}
	br := bufio.NewReaderSize(read, 64<<10)
	head, first, err := firstLine(br)
	if err != nil {
		return nil, fmt.Errorf("read traces: %w", err)
	}
	var r io.Reader = io.MultiReader(bytes.NewReader(head), br)
	if len(first) > 0 && (first[0] == '[' || (first[0] == '{' && !record.WholeJSON(first))) {
		var data bytes.Buffer
		if fi, err := f.Stat(); err == nil {
			data.Grow(int(fi.Size()) + bytes.MinRead)
		}
		if _, err := data.ReadFrom(r); err != nil {
			return nil, fmt.Errorf("read traces: %w", err)
		}
		if err := record.JSONDocument(data.Bytes(), path); err != nil {
			return nil, err
		}
		r = &data
	}
	name := filepath.Base(path)
	rep.Files = []string{name}
	// A file is imported as it is: a last line without its newline is
	// read too (parseTraces).
	rows, skipped, err := parseTraces(name, path, r)
	if err != nil {
		return nil, err
	}
	rep.Skip = append(rep.Skip, skipped...)
	rep.StudentSystem = stratosSystem(name, rows, rep)
	traces := make([]*TraceRecord, 0, len(rows))
	kept := make([]Trace, 0, len(rows)) // the rows that become traces: their reward is the run's
	var notKept []int                   // the lines marked "kept": false
	var repeats []int                   // the kept lines of a question kept before
	repeated := record.Repeated()
	for _, r := range rows {
		expl := r.ExplanationFrom // explanation, reasoning_trace or completion
		if r.Stratos {
			expl = "thought"
		}
		if r.NotKept {
			// A sample rlt distill --samples-out's ranking did not keep
			// (one of a question's N that lost, or of a question that
			// kept none): imported unmarked, it was reviewed and exported
			// beside the kept ones, each question N times. Left out, as
			// rlt distill --reference leaves it out, and said once (N-1
			// of every N lines, not a skip of each). A cut sample is
			// never kept: it is one of these.
			notKept = append(notKept, r.Line)
			continue
		}
		if r.Cut {
			// A cut sample (rlt distill --samples-out's "cut": true) is
			// the part the scoring models took of what the teacher wrote:
			// imported, it was reviewed and exported as a whole
			// explanation, distillation data rlt distill never keeps.
			rep.Skip = append(rep.Skip, RowIssue{File: name, Line: r.Line, Field: "cut", Msg: cutRowMsg()})
			continue
		}
		if field, msg, bad := taggedText(r.Question, r.Solution, expl, r.Explanation); bad {
			rep.Skip = append(rep.Skip, RowIssue{File: name, Line: r.Line, Field: field, Msg: msg})
			continue
		}
		if r.Kept && repeated(r.Question, r.Solution) {
			// A second sample a ranking kept of one question: rlt distill
			// --samples-out keeps one a question, so this is a file of
			// two rankings joined (two runs' samples, one file written
			// twice), and imported, the question was reviewed and
			// exported twice. The first is taken, each question once as
			// rlt train, rlt distill and rlt eval take it (record.Repeated),
			// and said once. Only kept rows: a file without the field
			// (del(.kept)) is every sample, imported as the user asked.
			// Asked after the skips, so that a kept row left out for its
			// own fault leaves its question to the next.
			repeats = append(repeats, r.Line)
			continue
		}
		i := len(traces)
		t := &TraceRecord{ID: traceID(0, 0, i, 0), Sample: i, Question: r.Question, Solution: r.Solution,
			Completion: r.Completion, Explanation: r.Explanation, Scored: record.Scored{Ended: r.Ended}, Advantage: math.NaN(),
			Source: fmt.Sprintf("%s:%d", name, r.Line)}
		if r.HasReward {
			t.SourceReward, t.HasSourceReward = r.Reward, true
		}
		traces = append(traces, t)
		kept = append(kept, r)
	}
	if len(notKept) > 0 {
		rep.Notes = append(rep.Notes, notKeptNote(name, path, len(rows)+len(skipped), notKept))
	}
	if len(repeats) > 0 {
		rep.Notes = append(rep.Notes, repeatedNote(name, path, len(rows)+len(skipped), repeats))
	}
	rep.Reward = importReward(name, kept, rep)
	return traces, nil
}

// notKeptLinesShown is how many of the lines marked "kept": false
// notKeptNote names.
const notKeptLinesShown = 10

// notKeptNote says the rows of the traces file name (at path) marked
// "kept": false that an import left out, of its rows (lines read), with
// the first of their lines, and how to import them too, in rlt distill
// --reference's words.
func notKeptNote(name, path string, rows int, lines []int) string {
	where := jsonerr.Lines(lines[:min(len(lines), notKeptLinesShown)], len(lines))
	of := jsonerr.Rows(rows)
	return fmt.Sprintf(`%s: left out %d of its %s, marked "kept": false (%s): samples of `+Program()+` distill --samples-out that its ranking did not keep; `+Program()+` import takes the kept ones, each question's once, as `+Program()+` distill --reference distills them (to import every sample, drop the field: jq -c 'del(.kept)' %s > all.jsonl)`,
		name, len(lines), of, where, ShellQuote(path))
}

// repeatedNote says the rows of the traces file name (at path) marked
// "kept": true that an import left out as asking an earlier kept row's
// question with its solution, in the words of rlt train, rlt distill and
// rlt eval (record.RepeatedRows), with why and how to import them too.
func repeatedNote(name, path string, rows int, lines []int) string {
	where := jsonerr.Lines(lines[:min(len(lines), notKeptLinesShown)], len(lines))
	return fmt.Sprintf(`%s: left out %d of its %s, %s (%s), each marked "kept": true as an earlier one was: `+Program()+` import takes each question's kept sample once, the first, as `+Program()+` distill --samples-out keeps one a question, so a repeat was the same question reviewed and exported again (to import every sample, drop the field: jq -c 'del(.kept)' %s > all.jsonl)`,
		name, len(lines), jsonerr.Rows(rows), record.RepeatedRows, where, ShellQuote(path))
}

// cutRowMsg is why a traces file's row marked "cut" is left out.
func cutRowMsg() string { return record.CutRowReason() + "; not imported as an explanation" }

// importReward is the reward every one of rows records (its
// "reward_config"), nil where none does. Rows that record different
// rewards (none being one of them), or one that cannot be read, leave it
// nil, and rep.Notes says so, naming a line of each, as does a reward
// scoring refuses (RewardConfig.Validate: a temperature of 0): their source
// rewards are of rewards rlt score --run cannot start from, and the
// defaults it then scores with need not be any of them.
func importReward(name string, rows []Trace, rep *ImportReport) *record.RewardConfig {
	none := "the run records no reward, so " + Program() + " score --run scores with its defaults (or the flags given), which need not be the reward their source rewards are of"
	var first *record.RewardConfig
	for i, r := range rows {
		var rc *record.RewardConfig
		if r.RewardConfig != "" {
			c, err := record.ParseRewardConfig([]byte(r.RewardConfig))
			if err != nil {
				rep.Notes = append(rep.Notes, fmt.Sprintf("%s:%d: %v: %s", name, r.Line, err, none))
				return nil
			}
			rc = &c
		}
		if i == 0 {
			first = rc
			continue
		}
		if (rc == nil) != (first == nil) || (rc != nil && *rc != *first) {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s: its rows record different rewards (line %d %s, line %d %s): %s",
				name, rows[0].Line, rewardRecorded(first), r.Line, rewardRecorded(rc), none))
			return nil
		}
	}
	if first != nil {
		// A reward scoring refuses (a temperature of 0) is no reward rlt
		// score --run can start from: kept, it would refuse every score
		// of the run for the file's sake.
		if err := first.Validate(); err != nil {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s:%d: its reward_config cannot be scored with (%s): %s", name, rows[0].Line, rewardProblems(err), none))
			return nil
		}
	}
	return first
}

// rewardProblems says RewardConfig.Validate's problems by the reward_config's
// own keys ("temperature 0 must be a finite positive number"), joined
// with "; ".
func rewardProblems(err error) string {
	var said []string
	for _, p := range configkey.Problems(err) {
		var ke *configkey.Error
		if errors.As(p, &ke) {
			_, name, _ := configkey.Split(ke.Key)
			said = append(said, ke.Named(name))
			continue
		}
		said = append(said, p.Error())
	}
	return strings.Join(said, "; ")
}

// folderRewardNote says, for the import of a trainer's run folder (dir,
// of format), that the run records no reward ([import.reward]), so that
// rlt score --run scores with the defaults: no trainer's folder holds the
// RLT reward in a form rlt import reads. TRL's, verl's and NeMo-RL's
// rewards are their own reward functions', none of them RLT's (c1 … c4,
// τ). The official trainer's is in the Hydra configuration its run
// folder holds (hydra.run.dir is its output_dir: .hydra/config.yaml),
// YAML, which rlt import does not read: where that file is there, the
// note names its keys (SakanaAI/RLT's cfgs/trainer_cfg/reward_cfg) and
// the flags of rlt score that take their values.
func folderRewardNote(dir, format string) string {
	none := "the folder records no reward; " + Program() + " score --run uses the defaults (or the flags given)"
	hydra := filepath.Join(".hydra", "config.yaml")
	if format == ImportOfficial && fileExists(filepath.Join(dir, hydra)) {
		return fmt.Sprintf("%s holds the official trainer's reward, which the import does not read (answer_log_prob_coeff [c1, c2], kl_penalty_reward_coeff [c3, c4], not_matched_penalty, use_schulman_kl_estimation, unbias_student_log_probs_temp), so the run records none: "+Program()+" score --run uses the defaults; give its values as --c1 --c2 --c3 --c4 --penalty --estimator k3 (where use_schulman_kl_estimation is true) --temperature",
			hydra)
	}
	return none
}

// rewardRecorded says the reward a row records, for importReward's note.
func rewardRecorded(rc *record.RewardConfig) string {
	if rc == nil {
		return "no reward_config"
	}
	return "the reward_config " + rc.Summary()
}

// taggedText says which of a row's texts holds a reserved tag
// (record.ContainsTag), and why that leaves the row out of an import: rlt
// score refuses such a question or solution (record.CheckText) as the data
// loaders refuse the row (engine/task), so a trace made of it would fail
// every later rlt score --run. The explanation (named by its field,
// explanationField) is checked when it is given: a traces file's rows are
// the data loaders' rows; a trainer's logged generation is what its teacher
// wrote, kept as it is (rlt score --run scores it, rlt export says why it
// is not written).
func taggedText(question, solution, explanationField, explanation string) (field, msg string, bad bool) {
	for _, f := range [...]struct{ name, text string }{{"question", question}, {"solution", solution}, {explanationField, explanation}} {
		if f.name == "" {
			continue
		}
		if tag, ok := record.ContainsTag(f.text); ok {
			return f.name, fmt.Sprintf("%s contains reserved tag %s, which would change the prompt's structure ("+Program()+" score and the data loaders refuse it): remove it and import again", f.name, tag), true
		}
	}
	return "", "", false
}

// firstLine reads br up to the end of its first line that is not blank
// (to the end of the input if there is none, or that line has no
// newline), and returns all it read, head, and that line without the
// spaces around it, or a byte order mark that begins the input: the line
// record.JSONDocument judges the file by.
func firstLine(br *bufio.Reader) (head, line []byte, err error) {
	for i := 0; ; i++ {
		l, err := br.ReadBytes('\n')
		if i == 0 {
			head = l
			l = record.TrimByteOrderMark(l)
		} else {
			head = append(head, l...)
		}
		if l = bytes.TrimSpace(l); len(l) > 0 || err != nil {
			if err == io.EOF {
				err = nil
			}
			return head, l, err
		}
	}
}

// stratosSystem is the system prompt every Bespoke-Stratos row of a traces
// file carries ("" where there is none); rows whose prompts differ have
// none in common, which is noted in rep, as are rows that all carry none
// (empty or absent): a run's rows are scored under a system prompt (the
// student's context always has one, RLT.md §2) and exported with the one
// they are scored under, so they get the default student prompt. Kept
// empty, their export would have no system turn (the tokenizer's default
// system prompt in TRL and verl) while rlt score --run scored them under
// another: the rows were not what was scored.
func stratosSystem(name string, rows []Trace, rep *ImportReport) string {
	seen := map[string]bool{}
	system := ""
	for _, r := range rows {
		if r.Stratos && !seen[r.System] {
			seen[r.System], system = true, r.System
		}
	}
	if len(seen) > 1 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s: its Bespoke-Stratos rows carry %d different system prompts, and a run has one: an export of this run gives every row the default student prompt", name, len(seen)))
		return ""
	}
	if len(seen) == 1 && system == "" {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s: its rows carry no system prompt (empty or absent), and a run's rows are scored and exported under one: an export of this run gives every row the default student prompt, which %s score --run scores them under; to give them another, write it as student_system under [prompts] in the run's %s", name, Program(), ConfigFile))
		return ""
	}
	if err := record.NewStratosWriter(io.Discard, system).Check("q", "e", "s"); err != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s: its rows' system prompt cannot be exported (%v): an export of this run gives every row the default student prompt", name, err))
		return ""
	}
	return system
}

// ImportedFrom reports whether the run folder dir was made by Import, and
// from what: such a run has no training configuration, so it can be
// reviewed, exported and re-scored but not resumed. config.toml is read
// leniently (readImport), as Settings reads it: the teacher and student a
// user writes beside [import] to score it with leave it an import.
func ImportedFrom(dir string) (ImportSource, bool) {
	path := filepath.Join(dir, ConfigFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return ImportSource{}, false
	}
	return importSource(path, data)
}

// NotResumed is why the run imported into dir from s is not resumed,
// and what it is for instead: the one wording of rlt run --resume's
// refusal (sessions/runner) and of the Runs screen's r, which says it
// before closing or stopping anything for the resume.
func (s ImportSource) NotResumed(dir string) error {
	return fmt.Errorf("it was imported from %s and has no training configuration or checkpoint to continue from; open it read-only to review and export it, or re-score it with `"+Program()+" score --run %s`", s.Source, ShellQuote(dir))
}

// importSource is the source an imported run's config.toml (at path,
// holding data) records; ok is false for any other config.toml.
func importSource(path string, data []byte) (src ImportSource, ok bool) {
	im, ok := readImport(data)
	return im.src, ok
}

// importFormatUnread is the format of an import whose [import] format is
// not text, or empty text (readImport): not a trainer's, but not "" either,
// which is no import. Said as written where the format is named
// (FormatName).
const importFormatUnread = "format unread"

// importRead is config.toml's [import] table as readImport reads it.
type importRead struct {
	src ImportSource
	// unset are the keys of [import.reward] (RewardConfig's) the file
	// does not set: src.Reward holds their defaults there, as a [reward]
	// table and a reward_config (record.ParseRewardConfig) leave a key
	// they lack at its default, so that a hand-edited table that drops a
	// key is not scored at 0 for it. Said where the reward is used
	// (ImportedReward).
	unset []string
}

// readImport is the one reader of an imported run's config.toml: its
// [import] table, read leniently (keys it does not know, such as a
// teacher and student a user added to score the run with, are ignored;
// the strict check is the launcher's, and an import is not resumed), the
// keys [import.reward] lacks at their defaults (importRead.unset). ok is
// false where data records no import ([import] format), or is not TOML.
// ImportedFrom, the listings and Settings all read an import through it,
// so that they never disagree on whether a run is one, or on its reward.
//
// Its format alone makes it one: a value of another key that its type
// cannot hold (a hand-edited temperature = "hot") leaves the run an
// import, recording only its format and source, where it made it a run of
// ours, which rlt run --resume then refused with every key of a training
// configuration it lacks, and never the mistyped one. That value is said
// at its line by the listing and rlt score --run (Run.ConfigTypes).
//
// So does a format of a type other than text (format = 3, a table): the
// [import] table holding it is an import's, whatever is wrong in it. It
// was read as no import at all, so a run of ours, which rlt run --resume
// refused with every key of a training configuration it lacks and not
// the mistyped format, an export wrote with the models' prompt and not
// the rows', and rlt score --run ignored its [import] as an unknown key
// (a table's type was not said). Its format is importFormatUnread then,
// the type said at its line (Run.ConfigTypes, with what to write). An
// empty format (format = "") is one too, said so (unknownImportFormat),
// as is a format rlt import never writes, kept as written.
func readImport(data []byte) (im importRead, ok bool) {
	var head struct {
		Import struct {
			Format any `toml:"format"`
			Source any `toml:"source"`
		} `toml:"import"`
	}
	if decodeLoose(data, &head) != nil || head.Import.Format == nil {
		return importRead{}, false
	}
	source, _ := head.Import.Source.(string)
	format, ok := head.Import.Format.(string)
	if !ok || format == "" {
		return importRead{src: ImportSource{Format: importFormatUnread, Source: source}}, true
	}
	def := record.DefaultRewardConfig()
	var v struct {
		Import ImportSource `toml:"import"`
	}
	v.Import.Reward = &def // a key the table lacks keeps its default
	if decodeLoose(data, &v) != nil {
		// The decoder stops at the mistyped value: what it read is not
		// the file's whole (a reward of half defaults), so none is kept.
		return importRead{src: ImportSource{Format: format, Source: source}}, true
	}
	keys := scanTOMLKeys(data)
	if keys.table(importRewardTable) == 0 {
		v.Import.Reward = nil // no [import.reward]: the run records no reward
		return importRead{src: v.Import}, true
	}
	im.unset = unsetRewardKeys(keys, importRewardTable)
	im.src = v.Import
	return im, true
}

// importRewardTable is the table of config.toml an import's reward is in.
const importRewardTable = "import.reward"

// rewardKeys are the keys of a reward table, RewardConfig's TOML names.
var rewardKeys = structKeys(reflect.TypeFor[record.RewardConfig]())

// ImportedReward is the reward an imported run's config.toml records
// ([import.reward]: the rows' reward_config, ImportSource.Reward) as rlt
// score --run starts from it: nil where it records none, or where a value
// of config.toml is of a type its key cannot hold (Run.ConfigTypes says
// that one, at its line). Unset are the keys the table does not set, read
// at their defaults (readImport), for the caller to say. A value scoring
// refuses (RewardConfig.Validate: a temperature of 0, an unknown
// estimator) is err: each problem a *ConfigError at its key's line in
// path (or at the table's header for a key it lacks), its key
// import.reward.KEY, so that the command says the file, the table and the
// key; rc is then still what the file says, so that a flag given for the
// key can stand in for it.
func ImportedReward(path string, data []byte) (rc *record.RewardConfig, unset []string, err error) {
	im, ok := readImport(data)
	if !ok || im.src.Reward == nil {
		return nil, nil, nil
	}
	return im.src.Reward, im.unset, importRewardProblems(path, data, *im.src.Reward)
}

// importRewardProblems are rc's Validate problems, read from the
// [import.reward] of data (the text of path), each at its key's line,
// joined (rewardTableProblems, as a run's [reward]'s); nil where there
// are none.
func importRewardProblems(path string, data []byte, rc record.RewardConfig) error {
	return rewardTableProblems(path, data, importRewardTable, rc)
}

// readProgress is r, telling tell how much was read from it after each
// read: its bytes, and its lines (a buffer's read ahead of the rows
// parsed, at most 64 KiB).
type readProgress struct {
	r    io.Reader
	p    ImportProgress
	tell func(ImportProgress)
}

func (c *readProgress) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if n > 0 {
		c.p.Bytes += int64(n)
		c.p.Lines += bytes.Count(b[:n], []byte{'\n'})
		if c.tell != nil {
			c.tell(c.p)
		}
	}
	return n, err
}
