package sessions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
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
// "trl", "verl", "nemo-rl", or "" to detect it): ImportAs turns it into a
// run folder in a temporary directory (questions and solutions parsed from
// the prompts, explanations extracted, the trainer's reward kept as the
// source reward, metric names mapped, every row left out listed with its
// file and line), which is opened read-only and followed. While the
// trainer writes, its folder is imported again whenever its files change
// (looked at every trainerPollInterval) and what is new is appended to
// that run folder (followOfficial); a row or file still being written is
// left out until it is complete. The trainer's folder is only read; the
// copy is removed by the session's Close. (trainer_state.json and verl's
// rollout files are rewritten whole, and Parquet files cannot be tailed,
// so the folder is imported again rather than tailed like our JSON Lines
// files.)
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
			return nil, err
		}
	}
	tmp, err := os.MkdirTemp("", "rlt-official-*")
	if err != nil {
		return nil, err
	}
	live := filepath.Join(tmp, filepath.Base(abs))
	sig := trainerSignature(abs, format)
	rep, err := ImportAs(live, abs, format)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
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
		followOfficial(ctx, abs, format, live, tmp, sig, trainerPollInterval)
	}()
	closeFn := func() error {
		cancel()
		<-done
		err := rec.Close()
		return errors.Join(err, os.RemoveAll(tmp))
	}
	notes := []string{fmt.Sprintf("imported %d traces and %d metric records of %s", rep.Traces, rep.Metrics, abs)}
	if rep.Skipped > 0 {
		notes = append(notes, fmt.Sprintf("%d rows left out", rep.Skipped))
	}
	notes = append(notes, fmt.Sprintf("following it (%s run, read-only)", FormatName(format)))
	return &Session{Run: rec, ReadOnly: true, Close: closeFn, Notes: notes}, nil
}

// followOfficial imports the trainer's folder src (of format) again
// whenever its files change (after sig, the state the first import read)
// and appends what is
// new to the imported run folder live, whose read-only Run follows it. An
// import that fails (the trainer rewriting trainer_state.json, perhaps) is
// tried once more; failing twice on the same files, it is reported as an
// error event of live and tried again when the files change.
func followOfficial(ctx context.Context, src, format, live, tmp, sig string, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	failed := ""
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s := trainerSignature(src, format)
		if s == sig {
			continue
		}
		stage := filepath.Join(tmp, fmt.Sprintf(".import-%d", n))
		_, err := ImportAs(stage, src, format)
		if err == nil {
			err = mergeImport(live, stage)
		}
		os.RemoveAll(stage)
		switch {
		case err == nil:
			sig, failed = s, ""
		case s != failed:
			failed = s // once more on the next tick
		default:
			sig = s // wait for the files to change
			appendLines(filepath.Join(live, EventsFile), eventLine(EventRecord{Time: time.Now().UTC(),
				Kind: KindError, Error: fmt.Sprintf("importing %s again: %v (tried again when its files change)", src, err)}))
		}
	}
}

// mergeImport appends to the run folder live what the run folder stage (a
// newer import of the same source) has that live has not: metric records
// of new steps and new values of known steps, traces with new IDs, rows
// left out and notes not reported yet.
func mergeImport(live, stage string) error {
	if err := mergeMetrics(filepath.Join(live, MetricsFile), filepath.Join(stage, MetricsFile)); err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(stage, TracesDir, "*.jsonl"))
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := appendNew(filepath.Join(live, TracesDir, filepath.Base(f)), f, traceKey); err != nil {
			return err
		}
	}
	return appendNew(filepath.Join(live, EventsFile), filepath.Join(stage, EventsFile), eventKey)
}

// eachLine calls fn with each whole line of a JSON Lines file (none if
// the file does not exist).
func eachLine(path string, fn func(raw []byte)) error {
	_, err := ReadLog(path, func(_ int, raw []byte) error { fn(raw); return nil })
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// appendNew appends to dst the lines of src whose key is new to dst (a
// line whose key is "" is never appended).
func appendNew(dst, src string, key func(raw []byte) string) error {
	have := map[string]bool{}
	if err := eachLine(dst, func(raw []byte) { have[key(raw)] = true }); err != nil {
		return err
	}
	var add []byte
	err := eachLine(src, func(raw []byte) {
		if k := key(raw); k != "" && !have[k] {
			have[k] = true
			add = append(append(add, raw...), '\n')
		}
	})
	if err != nil {
		return err
	}
	return appendLines(dst, add)
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
	b, err := json.Marshal(e)
	if err != nil {
		return nil
	}
	return append(b, '\n')
}

// traceKey is a trace line's ID.
func traceKey(raw []byte) string {
	var t struct {
		ID string `json:"id"`
	}
	json.Unmarshal(raw, &t)
	return t.ID
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

// mergeMetrics appends the metric records of src for steps dst has not,
// and, for steps it has, a record with only the values it lacks (an
// evaluation logged after the step's training values). Lines are read and
// written with the metrics file's own codec.
func mergeMetrics(dst, src string) error {
	have := map[int]map[string]bool{}
	err := eachLine(dst, func(raw []byte) {
		m, err := decodeMetric(raw, nil)
		if err != nil {
			return
		}
		if have[m.Step] == nil {
			have[m.Step] = map[string]bool{}
		}
		for _, k := range m.Names {
			have[m.Step][k] = true
		}
	})
	if err != nil {
		return err
	}
	var add []byte
	err = eachLine(src, func(raw []byte) {
		m, err := decodeMetric(raw, nil)
		if err != nil {
			return
		}
		known := have[m.Step]
		if known == nil {
			have[m.Step] = map[string]bool{}
			for _, k := range m.Names {
				have[m.Step][k] = true
			}
			add = append(append(add, raw...), '\n')
			return
		}
		fresh := MetricRecord{Seg: m.Seg, Step: m.Step, Time: m.Time}
		for i, k := range m.Names {
			if !known[k] {
				known[k] = true
				fresh.Names = append(fresh.Names, k)
				fresh.Values = append(fresh.Values, m.Values[i])
			}
		}
		if len(fresh.Names) == 0 {
			return
		}
		add = append(appendMetric(add, &fresh), '\n')
	})
	if err != nil {
		return err
	}
	return appendLines(dst, add)
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
