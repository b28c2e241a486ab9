package sessions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
)

// trainerPollInterval is how often a followed trainer's folder is looked
// at (sizes and modification times; it is imported again only when they
// changed), so that a step the trainer appends shows in under a second.
const trainerPollInterval = 250 * time.Millisecond

// OpenOfficial shows an official RLT trainer's run folder, or any other
// trainer's that Import reads (the trainer is detected): OpenTrainerRun
// with no format named.
func OpenOfficial(ctx context.Context, dir string) (*Session, error) {
	return OpenTrainerRun(ctx, dir, "")
}

// OpenTrainerRun shows a trainer's run folder (format as ImportAs: "rlt",
// "trl", "verl", "nemo-rl", or "" to detect it): it is imported into a run
// folder in a temporary directory (questions and solutions parsed from the
// prompts, explanations extracted, the trainer's reward kept as the source
// reward, metric names mapped, every row left out listed with its file and
// line), which is opened read-only and followed. While the trainer writes,
// its folder is looked at every trainerPollInterval (sizes and
// modification times) and, when a file changed, read again — only the
// generations files that changed are parsed again (importCache) — and what
// is new is appended to that run folder (trainerFollow); a row or file
// still being written is left out until it is complete. The trainer's
// folder is only read; the copy is removed by the session's Close.
// (trainer_state.json and verl's rollout files are rewritten whole, and
// Parquet files cannot be tailed, so the folder is read again rather than
// tailed like our JSON Lines files.)
func OpenTrainerRun(ctx context.Context, dir, format string) (*Session, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if format, err = normalizeFormat(format); err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	if format == "" {
		if format, err = DetectFormat(abs); err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
	}
	tmp, err := os.MkdirTemp("", "rlt-official-*")
	if err != nil {
		return nil, err
	}
	live := filepath.Join(tmp, filepath.Base(abs))
	f := &trainerFollow{src: abs, format: format, live: live, cache: &importCache{}}
	sig := trainerSignature(abs, format)
	rep, metrics, traces, err := collectImport(abs, true, format, f.cache)
	if err == nil {
		rep.Dir = live
		f.seen(rep, metrics, traces)
		err = writeImport(live, rep, metrics, traces, true)
	}
	if err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("import %s: %w", dir, err)
	}
	rec, err := OpenReadOnly(live)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.run(ctx, sig, trainerPollInterval)
	}()
	closeFn := func() error {
		cancel()
		<-done
		err := rec.Close()
		return errors.Join(err, os.RemoveAll(tmp))
	}
	notes := []string{fmt.Sprintf("imported %s and %s of %s", countOf(rep.Traces, "trace"), countOf(rep.Metrics, "metric record"), abs)}
	if rep.Skipped > 0 {
		notes = append(notes, countOf(rep.Skipped, "row")+" left out")
	}
	notes = append(notes, fmt.Sprintf("following it (%s run, read-only)", FormatName(format)))
	return &Session{Run: rec, Steps: rep.PlannedSteps, ReadOnly: true, FollowsTrainer: true, Close: closeFn, Notes: notes}, nil
}

// trainerFollow appends to the imported run folder live what the trainer's
// folder src gains: metric records of new steps and new values of known
// steps, traces with new IDs, rows left out and notes not reported yet. It
// remembers what live holds, so each look costs the files that changed,
// not the run so far.
type trainerFollow struct {
	src, format, live string
	cache             *importCache
	traces            map[string]bool         // trace IDs in live
	steps             map[int]map[string]bool // metric names in live, by step
	events            map[string]bool         // eventKey of the events in live
	planned           int                     // the planned steps live records (0: none stated yet)
	done              bool                    // live says the run is done (its planned steps are)
}

// seen records what the import that made live wrote.
func (f *trainerFollow) seen(rep *ImportReport, metrics []MetricRecord, traces []*TraceRecord) {
	f.traces, f.steps, f.events = map[string]bool{}, map[int]map[string]bool{}, map[string]bool{}
	f.add(rep, metrics, traces, time.Time{}, false)
	f.planned, f.done = rep.PlannedSteps, trainerDone(rep.PlannedSteps, metrics)
}

// progressLines are the events that say what a read of the trainer's
// folder (rep, metrics) tells of the run's progress that live does not
// say yet, stamped now: the steps planned, when the files state a number
// other than the last (a plan the files no longer state, a
// trainer_state.json being rewritten, say, is kept), and that the run is
// done once the planned steps are. A run said done that the files now
// plan more steps for (resumed from its last checkpoint with a larger
// max_steps) is not done any more: the plan event says so, and a new done
// phase comes once the new total is.
func (f *trainerFollow) progressLines(rep *ImportReport, metrics []MetricRecord, now time.Time) []byte {
	var lines []byte
	if p := rep.PlannedSteps; p > 0 && p != f.planned {
		f.planned = p
		lines = append(lines, eventLine(EventRecord{Time: now, Kind: KindPlan, Count: p})...)
		if f.done && !trainerDone(p, metrics) {
			f.done = false
		}
	}
	if !f.done && trainerDone(f.planned, metrics) {
		f.done = true
		lines = append(lines, eventLine(importDone(lastMetricStep(metrics), now))...)
	}
	return lines
}

// add marks what in rep, metrics and traces live does not hold yet as
// held and, when encode, returns its lines, stamped now.
func (f *trainerFollow) add(rep *ImportReport, metrics []MetricRecord, traces []*TraceRecord, now time.Time, encode bool) (metricLines, eventLines []byte, traceLines map[int][]byte) {
	traceLines = map[int][]byte{}
	for i := range metrics {
		m := &metrics[i]
		known := f.steps[m.Step]
		newStep := known == nil
		if newStep {
			known = map[string]bool{}
			f.steps[m.Step] = known
		}
		fresh := MetricRecord{Step: m.Step, Time: now}
		for j, n := range m.Names {
			if !known[n] {
				known[n] = true
				fresh.Names = append(fresh.Names, n)
				fresh.Values = append(fresh.Values, m.Values[j])
			}
		}
		// A new step is written even with no values (a NeMo-RL folder
		// with no TensorBoard scalars: readNemoStepMetrics): it is a step
		// done, which the copy's listing and header count.
		if encode && (len(fresh.Names) > 0 || newStep) {
			metricLines = append(appendMetric(metricLines, &fresh), '\n')
		}
	}
	for _, t := range traces {
		if f.traces[t.ID] {
			continue
		}
		f.traces[t.ID] = true
		if !encode {
			continue
		}
		t.Time = now
		b, err := encodeTrace(t)
		if err != nil {
			continue
		}
		traceLines[t.Step] = append(append(traceLines[t.Step], b...), '\n')
	}
	var evs []EventRecord
	for _, n := range rep.Notes {
		evs = append(evs, EventRecord{Time: now, Kind: KindImport, Name: rep.Format, Extra: n})
	}
	for _, is := range rep.Skip {
		evs = append(evs, EventRecord{Time: now, Kind: KindSkipped, File: is.File, Line: is.Line, Column: is.Column, Error: is.Msg})
	}
	for _, e := range evs {
		line := eventLine(e)
		if k := eventKey(line); k != "" && !f.events[k] {
			f.events[k] = true
			eventLines = append(eventLines, line...)
		}
	}
	return metricLines, eventLines, traceLines
}

// step reads the trainer's folder again and appends what is new to live.
func (f *trainerFollow) step() error {
	rep, metrics, traces, err := collectImport(f.src, true, f.format, f.cache)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	ml, el, tl := f.add(rep, metrics, traces, now, true)
	el = append(el, f.progressLines(rep, metrics, now)...)
	steps := make([]int, 0, len(tl))
	for s := range tl {
		steps = append(steps, s)
	}
	slices.Sort(steps)
	for _, s := range steps {
		if err := appendLines(traceFileName(f.live, s), tl[s]); err != nil {
			return err
		}
	}
	// Events before metrics: a reader that sees a step's records then sees
	// the plan and the done phase that came with them (Run.pollOnce reads
	// the events again after the metrics), never "step 6/6" for a run
	// whose files now plan 8, nor step 8 of 8 still running.
	if err := appendLines(filepath.Join(f.live, EventsFile), el); err != nil {
		return err
	}
	return appendLines(filepath.Join(f.live, MetricsFile), ml)
}

// run looks at the trainer's folder every interval and, when its files
// changed (after sig, the state the first import read), appends what is
// new (step). A read that fails (the trainer rewriting a file, perhaps) is
// tried once more; failing twice on the same files, it is reported as an
// error event of live and tried again when the files change.
func (f *trainerFollow) run(ctx context.Context, sig string, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	failed := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s := trainerSignature(f.src, f.format)
		if s == sig {
			continue
		}
		err := f.step()
		switch {
		case err == nil:
			sig, failed = s, ""
		case s != failed:
			failed = s // once more on the next tick
		default:
			sig = s // wait for the files to change
			// Graded as Run.Emit grades every error event, so that no
			// reader grades it by its words (legacyFault, the "warning: "
			// prefix).
			appendLines(filepath.Join(f.live, EventsFile), eventLine(EventRecord{Time: time.Now().UTC(),
				Kind: KindError, Error: fmt.Sprintf("importing %s again: %v (tried again when its files change)", f.src, err),
				Severity: event.SeverityError, Fault: event.FaultOf(err)}))
		}
	}
}

// appendLines appends whole lines to a file in one write (the follower of
// a read-only Run reads them as they come).
func appendLines(path string, lines []byte) error {
	if len(lines) == 0 {
		return nil
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(lines)
	return errors.Join(err, f.Close())
}

func eventLine(e EventRecord) []byte {
	b, err := marshalLine(e)
	if err != nil {
		return nil
	}
	return append(b, '\n')
}

// eventKey keys the events a re-import may add (rows left out, notes,
// errors) by their content without the time; other events are never
// appended again.
func eventKey(raw []byte) string {
	var e EventRecord
	if json.Unmarshal(raw, &e) != nil {
		return ""
	}
	switch {
	case e.Kind == KindSkipped, e.Kind == KindError, e.Kind == KindImport && e.Dir == "" && e.Extra != "":
		e.Time = time.Time{}
		b, _ := json.Marshal(e)
		return string(b)
	}
	return ""
}

// officialSignature changes whenever a file the import reads changes.
func officialSignature(dir string) string {
	var b strings.Builder
	for _, pat := range []string{"trainer_state.json", "checkpoint-*/trainer_state.json", "stored_completions/*.csv"} {
		matches, _ := filepath.Glob(filepath.Join(dir, pat))
		for _, m := range matches {
			if st, err := os.Stat(m); err == nil {
				fmt.Fprintf(&b, "%s:%d:%d;", m, st.Size(), st.ModTime().UnixNano())
			}
		}
	}
	return b.String()
}
