package sessions

import (
	"context"
	"encoding/binary"
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The fixture folders of other trainers, written by
// testdata/trainers/make_fixtures.py and testdata/trainers/trl-gen (which
// follow the trainers' own writers; see there).
const (
	trlFixture  = "testdata/trainers/trl"
	verlFixture = "testdata/trainers/verl"
	nemoFixture = "testdata/trainers/nemo-rl"
)

// openImported imports src and opens the result read-only: its metric
// records, and its traces whole.
func openImported(t *testing.T, src, format string) (*ImportReport, []MetricRecord, []*TraceRecord) {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "imported")
	rep, err := ImportAs(dst, src, format)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := OpenReadOnly(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	ms, _ := rec.Store().MetricsSince(0)
	return rep, ms, wholeTraces(t, rec.Store())
}

func TestImportTrainerFixtures(t *testing.T) {
	type metric struct {
		step  int
		name  string
		value float64
	}
	cases := []struct {
		name, dir, format string
		traces, metrics   int
		want              []metric // mapped and kept names
		absent            []string // names mapped away
		firstSource       string
		firstReward       float64
		firstAdvantage    float64 // NaN: not logged
		notes             []string
	}{
		{name: "trl", dir: trlFixture, format: ImportTRL, traces: 8, metrics: 2,
			want: []metric{{2, "reward", 0.75}, {4, "reward", 1.25}, {4, "completion_length", 44}, {4, "kl", 0.0009},
				{4, "zero_variance_share", 0.5}, {4, "clip_fraction", 0.04}, {4, "loss", 0.004}, {4, "learning_rate", 1e-6},
				{2, "rewards/answer_reward/mean", 0.25}, {4, "entropy", 0.8}},
			absent:      []string{"completions/mean_length", "frac_reward_zero_std", "clip_ratio/region_mean", "rewards/format_reward/std"},
			firstSource: "completions/completions_00002.parquet:1", firstReward: 1.5, firstAdvantage: 0.7,
			notes: []string{"metrics from checkpoint-4/trainer_state.json", "sum of the reward columns answer_reward, format_reward",
				`column "tool_calls" is not a reward function's`, "completions/mean_length → completion_length"}},
		{name: "verl", dir: verlFixture, format: ImportVerl, traces: 8, metrics: 2,
			want: []metric{{1, "reward", 0.75}, {2, "reward", 1}, {2, "kl", 0.0006}, {2, "completion_length", 32},
				{2, "grad_norm", 0.4}, {2, "learning_rate", 1e-6}, {2, "clip_fraction", 0.02}, {2, "critic/rewards/mean", 1}, {2, "actor/pg_loss", -0.02}},
			absent:      []string{"critic/score/mean", "actor/kl_loss", "perf/mfu/actor"},
			firstSource: "rollout/1.jsonl:1", firstReward: 0.25, firstAdvantage: math.NaN(),
			notes: []string{"values that are not numbers (null for NaN, text) ignored (keys: perf/mfu/actor)"}},
		{name: "nemo-rl", dir: nemoFixture, format: ImportNemoRL, traces: 8, metrics: 2,
			want: []metric{{1, "reward", float64(float32(0.5))}, {2, "kl", float64(float32(0.0004))}, {2, "completion_length", 35},
				{2, "loss", float64(float32(0.04))}, {2, "train/gen_kl_error", float64(float32(0.0001))}},
			absent:      []string{"train/reward", "train/kl_penalty"},
			firstSource: "train_data_step1.jsonl:1", firstReward: 0.2, firstAdvantage: 0.5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := DetectFormat(c.dir)
			if err != nil || got != c.format {
				t.Fatalf("DetectFormat = %q, %v; want %q", got, err, c.format)
			}
			rep, ms, ts := openImported(t, c.dir, "")
			if rep.Format != c.format || len(ts) != c.traces || len(ms) != c.metrics || len(rep.Skip) != 0 {
				t.Fatalf("format %q, %d traces, %d metric records, skipped %v", rep.Format, len(ts), len(ms), rep.Skip)
			}
			for _, w := range c.want {
				found := false
				for _, m := range ms {
					if m.Step == w.step {
						v, ok := m.Get(w.name)
						if !ok || math.Abs(v-w.value) > 1e-9 {
							t.Errorf("step %d %s = %v (%v), want %v", w.step, w.name, v, ok, w.value)
						}
						found = true
					}
				}
				if !found {
					t.Errorf("no metric record of step %d", w.step)
				}
			}
			for _, m := range ms {
				for _, a := range c.absent {
					if _, ok := m.Get(a); ok {
						t.Errorf("step %d still has %q", m.Step, a)
					}
				}
			}
			tr := ts[0]
			if tr.Source != c.firstSource || !tr.HasSourceReward || math.Abs(tr.SourceReward-c.firstReward) > 1e-9 ||
				!(math.IsNaN(c.firstAdvantage) && math.IsNaN(tr.Advantage) || tr.Advantage == c.firstAdvantage) {
				t.Errorf("first trace: source %q reward %v (%v) advantage %v", tr.Source, tr.SourceReward, tr.HasSourceReward, tr.Advantage)
			}
			if tr.Question != "What is 12 * 13?" || tr.Solution != "156" || !strings.HasPrefix(tr.Explanation, "Think step by step") || !tr.Ended || tr.HasScore {
				t.Errorf("first trace: %+v", tr)
			}
			notes := strings.Join(rep.Notes, "\n")
			for _, n := range c.notes {
				if !strings.Contains(notes, n) {
					t.Errorf("notes lack %q:\n%s", n, notes)
				}
			}
		})
	}
}

func TestDetectFormatRefuses(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notes.jsonl"), []byte(`{"a":1}`+"\n"), 0o644)
	if _, err := DetectFormat(dir); err == nil || !strings.Contains(err.Error(), "--format") {
		t.Fatalf("err %v", err)
	}
	if _, err := ImportAs(filepath.Join(t.TempDir(), "x"), trlFixture, "tensorflow"); err == nil || !strings.Contains(err.Error(), "unknown format") {
		t.Fatalf("err %v", err)
	}
	// Our own run folders, and a folder of them, are not a trainer's
	// (their traces/000001.jsonl are not verl rollouts).
	root := t.TempDir()
	if _, err := ImportAs(filepath.Join(root, "run1"), verlFixture, ""); err != nil {
		t.Fatal(err)
	}
	if f, err := DetectFormat(filepath.Join(root, "run1")); err == nil || !strings.Contains(err.Error(), "workbench run folder") {
		t.Errorf("our run folder detected as %q (%v)", f, err)
	}
	if f, err := DetectFormat(root); err == nil {
		t.Errorf("a folder of our runs detected as %q", f)
	}
	// A file, and a model folder, are said for what they are.
	csv := filepath.Join(dir, "d.csv")
	os.WriteFile(csv, []byte("a,b\n1,2\n"), 0o644)
	model := t.TempDir()
	os.WriteFile(filepath.Join(model, "config.json"), []byte("{}"), 0o644)
	os.WriteFile(filepath.Join(model, "model.safetensors"), []byte("{}"), 0o644)
	for path, want := range map[string]string{csv: "a file, not a run folder: rlt import reads", model: "a model folder, not a run folder: rlt model info describes it"} {
		if f, err := DetectFormat(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("DetectFormat(%s) = %q, %v; want %q", path, f, err, want)
		}
	}
	// Forcing a format reads the folder as that trainer's.
	if _, err := ImportAs(filepath.Join(t.TempDir(), "x"), trlFixture, "verl"); err == nil || !strings.Contains(err.Error(), "not a verl folder") {
		t.Fatalf("err %v", err)
	}
}

// copyDir copies a fixture folder (files and folders) into dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// waitStore polls the store of a followed run until cond holds (the follower
// polls every trainerPollInterval; the test asserts on what it sees, never
// on how long it took: a generous bound only keeps a broken follower from
// hanging the test).
func waitStore(t *testing.T, s *Session, what string, cond func(ms []MetricRecord, ts []*TraceRecord) bool) {
	t.Helper()
	var ms []MetricRecord
	var ts []*TraceRecord
	for deadline := time.Now().Add(hangGuard); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		ms, _ = s.Run.Store().MetricsSince(0)
		ts, _ = s.Run.Store().TracesSince(0)
		if cond(ms, ts) {
			return
		}
	}
	t.Fatalf("%s: never seen in %v (%d metric records, %d traces)", what, hangGuard, len(ms), len(ts))
}

func hasTraceFrom(ts []*TraceRecord, source string) bool {
	for _, tr := range ts {
		if tr.Source == source {
			return true
		}
	}
	return false
}

// hasValue: a record of step has the value name (any record of step
// where name is "").
func hasValue(ms []MetricRecord, step int, name string) bool {
	for _, m := range ms {
		if _, ok := m.Get(name); m.Step == step && (ok || name == "") {
			return true
		}
	}
	return false
}

func hasStep(ms []MetricRecord, step int) bool {
	for _, m := range ms {
		if m.Step == step {
			return true
		}
	}
	return false
}

// TestFollowTrainers follows a copy of each fixture folder while a step is
// appended to it: first half-written (a partial last line, a Parquet file
// without its footer), which is skipped without error, then complete,
// which is picked up.
func TestFollowTrainers(t *testing.T) {
	cases := []struct {
		name, fixture string
		// grow writes step 3 in two moves: partial, then complete.
		partial, complete func(t *testing.T, dir string)
		source            string // a trace of the new step
		metricStep        int    // a metric record the new step brings
		metricName        string // a value that record brings ("": any record of metricStep)
		prepare           func(t *testing.T, dir string)
		metrics           int // metric records before
	}{
		{name: "trl", fixture: trlFixture,
			partial: func(t *testing.T, dir string) {
				data := readFile(t, filepath.Join(trlFixture, "completions", "completions_00004.parquet"))
				writeFile(t, filepath.Join(dir, "completions", "completions_00006.parquet"), data[:len(data)/2])
				// The checkpoint being saved: its trainer_state.json cut short.
				state := readFile(t, filepath.Join(dir, "checkpoint-4", "trainer_state.json"))
				writeFile(t, filepath.Join(dir, "checkpoint-6", "trainer_state.json"), state[:len(state)/2])
			},
			complete: func(t *testing.T, dir string) {
				data := readFile(t, filepath.Join(trlFixture, "completions", "completions_00004.parquet"))
				writeFile(t, filepath.Join(dir, "completions", "completions_00006.parquet"), data)
				state := readFile(t, filepath.Join(dir, "checkpoint-4", "trainer_state.json"))
				state = []byte(strings.Replace(string(state), `"log_history": [`, `"log_history": [
    {"loss": 0.006, "reward": 1.5, "step": 6},`, 1))
				writeFile(t, filepath.Join(dir, "checkpoint-6", "trainer_state.json"), state)
			},
			source: "completions/completions_00006.parquet:4", metricStep: 6, metrics: 2},
		{name: "verl", fixture: verlFixture,
			partial: func(t *testing.T, dir string) {
				appendFile(t, filepath.Join(dir, "rlt_grpo.jsonl"), `{"step":3,"data":{"critic/score/mean":`)
				writeFile(t, filepath.Join(dir, "rollout", "3.jsonl"), readFile(t, filepath.Join(verlFixture, "rollout", "2.jsonl"))[:40])
			},
			complete: func(t *testing.T, dir string) {
				appendFile(t, filepath.Join(dir, "rlt_grpo.jsonl"), `1.5}}`+"\n")
				data := strings.ReplaceAll(string(readFile(t, filepath.Join(verlFixture, "rollout", "2.jsonl"))), `"step": 2`, `"step": 3`)
				writeFile(t, filepath.Join(dir, "rollout", "3.jsonl"), []byte(data))
			},
			source: "rollout/3.jsonl:4", metricStep: 3, metrics: 2},
		{name: "nemo-rl", fixture: nemoFixture,
			// The event file starts with step 1's scalars only; step 2's
			// come with the new data file, the first half of them first.
			// Step 2 is a step done from the start (its data file is
			// there): a record with no values until its scalars come.
			prepare: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, nemoEvents), nemoEventsData(t)[:nemoStep1End(t)])
			},
			partial: func(t *testing.T, dir string) {
				lines := strings.SplitAfter(string(readFile(t, filepath.Join(nemoFixture, "train_data_step2.jsonl"))), "\n")
				writeFile(t, filepath.Join(dir, "train_data_step3.jsonl"), []byte(strings.Join(lines[:3], "")+lines[3][:30]))
				data, end := nemoEventsData(t), nemoStep1End(t)
				appendFile(t, filepath.Join(dir, nemoEvents), string(data[end:end+(len(data)-end)/2]))
			},
			complete: func(t *testing.T, dir string) {
				appendFile(t, filepath.Join(dir, "train_data_step3.jsonl"), strings.SplitAfter(string(readFile(t, filepath.Join(nemoFixture, "train_data_step2.jsonl"))), "\n")[3][30:])
				data, end := nemoEventsData(t), nemoStep1End(t)
				appendFile(t, filepath.Join(dir, nemoEvents), string(data[end+(len(data)-end)/2:]))
			},
			source: "train_data_step3.jsonl:4", metricStep: 2, metricName: "reward", metrics: 2},
		{name: "nemo-rl with no tensorboard", fixture: nemoFixture,
			// No scalars (a run that logged to wandb only): each data file
			// brings its step, a metric record with no values, once it
			// exists (a file being written is of a step begun).
			prepare: func(t *testing.T, dir string) {
				if err := os.RemoveAll(filepath.Join(dir, "tensorboard")); err != nil {
					t.Fatal(err)
				}
			},
			partial: func(t *testing.T, dir string) {
				lines := strings.SplitAfter(string(readFile(t, filepath.Join(nemoFixture, "train_data_step2.jsonl"))), "\n")
				writeFile(t, filepath.Join(dir, "train_data_step3.jsonl"), []byte(strings.Join(lines[:3], "")+lines[3][:30]))
			},
			complete: func(t *testing.T, dir string) {
				appendFile(t, filepath.Join(dir, "train_data_step3.jsonl"), strings.SplitAfter(string(readFile(t, filepath.Join(nemoFixture, "train_data_step2.jsonl"))), "\n")[3][30:])
			},
			source: "train_data_step3.jsonl:4", metricStep: 3, metrics: 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), c.name)
			copyDir(t, c.fixture, dir)
			if c.prepare != nil {
				c.prepare(t, dir)
			}
			s, err := OpenTrainerRun(context.Background(), dir, "")
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := s.Close(); err != nil {
					t.Error(err)
				}
			}()
			ms, _ := s.Run.Store().MetricsSince(0)
			ts, _ := s.Run.Store().TracesSince(0)
			if len(ts) != 8 || len(ms) != c.metrics {
				t.Fatalf("opened with %d traces, %d metric records", len(ts), len(ms))
			}
			c.partial(t, dir)
			// The half-written step is read, and skipped: its complete
			// rows arrive (NeMo-RL's three whole lines), its partial ones
			// are reported as left out, and nothing fails.
			waitStore(t, s, "the partial step reported", func(ms []MetricRecord, ts []*TraceRecord) bool {
				return hasSkippedEvent(t, s.Run.Dir())
			})
			if hasTraceFrom(ts, c.source) {
				t.Fatal("a partial row became a trace")
			}
			c.complete(t, dir)
			waitStore(t, s, "the appended step", func(ms []MetricRecord, ts []*TraceRecord) bool {
				return hasTraceFrom(ts, c.source) && hasValue(ms, c.metricStep, c.metricName)
			})
			ts, _ = s.Run.Store().TracesSince(0)
			if len(ts) != 12 {
				t.Errorf("%d traces after the new step, want 12 (each once)", len(ts))
			}
			seen := map[string]bool{}
			for _, tr := range ts {
				if seen[tr.ID] {
					t.Errorf("trace %s twice", tr.ID)
				}
				seen[tr.ID] = true
			}
			if ev := string(readFile(t, filepath.Join(s.Run.Dir(), EventsFile))); strings.Contains(ev, `"kind":"error"`) {
				t.Errorf("the follower reported an error:\n%s", ev)
			}
		})
	}
}

// hasSkippedEvent: the imported run's events record a row left out.
func hasSkippedEvent(t *testing.T, dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, EventsFile))
	if err != nil {
		return false
	}
	return strings.Contains(string(data), `"kind":"skipped"`) && (strings.Contains(string(data), "being written") || strings.Contains(string(data), "unterminated"))
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func writeFile(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, p, s string) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// TestReadParquetDamaged: a TRL completions file cut anywhere — with or
// without a closing magic appended, as a writer that died or a disk that
// filled might leave it — is reported as being written or broken, never
// read as rows and never a panic.
func TestReadParquetDamaged(t *testing.T) {
	data := readFile(t, filepath.Join(trlFixture, "completions", "completions_00002.parquet"))
	dir := t.TempDir()
	p := filepath.Join(dir, "completions_00002.parquet")
	writeFile(t, p, data)
	whole, err := readParquet(p)
	if err != nil || len(whole.Rows) != 4 || strings.Join(whole.Columns, ",") != "step,prompt,completion,answer_reward,format_reward,tool_calls,advantage" {
		t.Fatalf("whole file: %v, %+v", err, whole)
	}
	every := 7
	if testing.Short() {
		every = 29
	}
	for cut := 0; cut < len(data)-1; cut += every {
		for _, magic := range []bool{false, true} {
			b := append([]byte(nil), data[:cut]...)
			if magic {
				b = append(b, "PAR1"...)
			}
			writeFile(t, p, b)
			tb, err := readParquet(p)
			switch {
			case err == nil && len(tb.Rows) == 4:
				// The cut left every column chunk and a readable footer
				// (only possible when the cut is just before the magic).
			case err == nil:
				t.Errorf("cut at %d (magic %v): %d rows read from a damaged file", cut, magic, len(tb.Rows))
			case !magic && !errors.Is(err, errParquetPending) && cut >= 4:
				t.Errorf("cut at %d without footer: %v, want being written", cut, err)
			}
		}
	}
	writeFile(t, p, []byte("PAR0 not parquet at all PAR1"))
	if _, err := readParquet(p); err == nil || !strings.Contains(err.Error(), "not a Parquet file") {
		t.Errorf("not parquet: %v", err)
	}
}

// TestReadTFEvents: the NeMo-RL fixture's event file read whole, cut at
// every byte (an unfinished last record is pending, what came before is
// kept), and with a damaged record (an error naming it).
func TestReadTFEvents(t *testing.T) {
	p := filepath.Join(nemoFixture, "tensorboard", "events.out.tfevents.1767225600.node0.1234.0")
	data := readFile(t, p)
	es, pending, err := readTFEvents(p)
	if err != nil || pending != 0 || len(es) != 18 || es[0].Step != 1 || es[17].Step != 2 {
		t.Fatalf("%d entries, pending %d, %v", len(es), pending, err)
	}
	if v := es[len(es)-1].Values["train/token_mult_prob_error"]; v != float64(float32(1.001)) {
		t.Errorf("last value %v", v)
	}
	cutPath := filepath.Join(t.TempDir(), "events")
	every := 1
	if testing.Short() {
		every = 5
	}
	for cut := 0; cut < len(data); cut += every {
		writeFile(t, cutPath, data[:cut])
		got, pending, err := readTFEvents(cutPath)
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		if len(got) > len(es) || (pending == 0) != (cut == 0 || recordEnds(data, cut)) {
			t.Fatalf("cut at %d: %d entries, pending %d", cut, len(got), pending)
		}
	}
	bad := append([]byte(nil), data...)
	bad[len(bad)-6] ^= 0xff // inside the last record's data
	writeFile(t, cutPath, bad)
	got, _, err := readTFEvents(cutPath)
	if err == nil || !strings.Contains(err.Error(), "record 19") || len(got) != 17 {
		t.Errorf("damaged record: %d entries, %v", len(got), err)
	}
}

// recordEnds: a TFRecord ends exactly at byte n of data.
func recordEnds(data []byte, n int) bool {
	off := 0
	for off < n {
		l := int(binary.LittleEndian.Uint64(data[off:]))
		off += 16 + l
	}
	return off == n
}

// nemoEvents is the NeMo-RL fixture's TensorBoard event file.
const nemoEvents = "tensorboard/events.out.tfevents.1767225600.node0.1234.0"

func nemoEventsData(t *testing.T) []byte { return readFile(t, filepath.Join(nemoFixture, nemoEvents)) }

// nemoStep1End is the offset just after the fixture's last record of step 1
// (its file-version record, then 9 scalars a step).
func nemoStep1End(t *testing.T) int {
	data := nemoEventsData(t)
	off := 0
	for range 10 {
		off += 16 + int(binary.LittleEndian.Uint64(data[off:]))
	}
	return off
}

// TestVerlMetricLineErrors: a metrics line verl could not have written says
// which field is wrong in the file's words (was Go's "invalid number
// literal, trying to unmarshal" under "not JSON" for valid JSON).
func TestVerlMetricLineErrors(t *testing.T) {
	for _, c := range []struct{ line, field, want string }{
		{`{"step": "x", "data": {}}`, "step", `"step" is not an integer: "x"`},
		{`{"data": {}}`, "step", `"step" is missing`},
		{`{"step": 1.5, "data": {}}`, "step", `"step" is not an integer: 1.5`},
		{`{"step": 1, "data": `, "", "not valid JSON: it ends before the JSON is complete"},
	} {
		_, _, field, err := parseVerlMetric([]byte(c.line))
		if err == nil || field != c.field || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "Go ") {
			t.Errorf("%s: field %q, %v; want %q and %q", c.line, field, err, c.field, c.want)
		}
	}
}

// TestForeignRowLineErrors: a verl rollout line or a NeMo-RL data line
// of the wrong JSON says the field in the file's words, not Go's
// ("cannot unmarshal number into Go struct field .input of type string").
func TestForeignRowLineErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"verl input a number", func() error { _, _, err := parseVerlRollout([]byte(`{"input": 5, "output": "x"}`), 1); return err }(),
			`not a rollout row: field "input" holds a JSON number where text is wanted`},
		{"verl score text", func() error {
			_, _, err := parseVerlRollout([]byte(`{"input": "q", "output": "x", "score": "high"}`), 1)
			return err
		}(), `not a rollout row: field "score" holds a JSON string where a number is wanted`},
		{"verl cut short", func() error { _, _, err := parseVerlRollout([]byte(`{"input": "q", "out`), 1); return err }(),
			"not a rollout row: not valid JSON"},
		{"nemo a list", func() error { _, _, err := parseNemoData([]byte(`[1, 2]`), 1); return err }(),
			"not a data row: the line holds a JSON array where an object is wanted"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) || strings.Contains(c.err.Error(), "Go ") {
			t.Errorf("%s: %v, want %q", c.name, c.err, c.want)
		}
	}
}

// TestListerTrainerSteps: a Lister says of a trainer's folder (TRL, verl,
// NeMo-RL) what an import of it counts, reading its metrics alone: the
// highest step of its metric records as the trainer numbers them, the plan
// only where its files state one (TRL's max_steps), and the best reward
// under our name. It reads them again once a metric file changed, and
// keeps what it read while none did.
func TestListerTrainerSteps(t *testing.T) {
	for _, c := range []struct {
		format, fixture string
		planned         int
		// grow adds a step past the fixture's to the copy at dir.
		grow func(t *testing.T, dir string)
		// name names the case when the format does not ("": the format);
		// prepare changes the copy at dir before it is read.
		name    string
		prepare func(t *testing.T, dir string)
	}{
		{ImportTRL, trlFixture, 4, func(t *testing.T, dir string) {
			// A checkpoint of step 5, the run's max_steps raised to 6.
			state := `{"global_step": 5, "max_steps": 6, "log_history": [{"reward": 0.5, "step": 4}, {"reward": 0.6, "step": 5}]}`
			ck := filepath.Join(dir, "checkpoint-5")
			if err := os.MkdirAll(ck, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(ck, "trainer_state.json"), []byte(state), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "", nil},
		{ImportVerl, verlFixture, 0, func(t *testing.T, dir string) {
			if err := appendLines(filepath.Join(dir, "rlt_grpo.jsonl"), []byte(`{"step":3,"data":{"critic/score/mean":0.9}}`+"\n")); err != nil {
				t.Fatal(err)
			}
		}, "", nil},
		{ImportNemoRL, nemoFixture, 0, nil, "", nil},
		// A NeMo-RL run that logged no TensorBoard scalars (wandb only):
		// its train_data_step{N}.jsonl files number its steps, which the
		// import and the listing count; both used to say none.
		{ImportNemoRL, nemoFixture, 0, func(t *testing.T, dir string) {
			data, err := os.ReadFile(filepath.Join(dir, "train_data_step2.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "train_data_step3.jsonl"), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "nemo-rl with no tensorboard", func(t *testing.T, dir string) {
			if err := os.RemoveAll(filepath.Join(dir, "tensorboard")); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		name := c.name
		if name == "" {
			name = c.format
		}
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), c.format)
			copyDir(t, c.fixture, dir)
			if c.prepare != nil {
				c.prepare(t, dir)
			}
			rep, err := ImportAs(filepath.Join(t.TempDir(), "imported"), dir, c.format)
			if err != nil {
				t.Fatal(err)
			}
			imported, err := List(filepath.Dir(rep.Dir))
			if err != nil || len(imported) != 1 {
				t.Fatalf("List of the import: %+v, %v", imported, err)
			}
			if imported[0].LastStep != rep.LastStep {
				t.Errorf("the imported run lists step %d, its import reported %d", imported[0].LastStep, rep.LastStep)
			}
			var l Lister
			got := l.TrainerSteps(dir, c.format)
			if got.LastStep != rep.LastStep || got.Planned != c.planned || got.Planned != rep.PlannedSteps || got.Problem != "" {
				t.Errorf("%+v; the import counts step %d of %d planned, want %d planned", got, rep.LastStep, rep.PlannedSteps, c.planned)
			}
			if got.LastStep < 1 {
				t.Errorf("last step %d: the fixture has steps", got.LastStep)
			}
			if b := imported[0].BestReward; got.BestReward != b && !(math.IsNaN(b) && math.IsNaN(got.BestReward)) {
				t.Errorf("best reward %v, the imported run's %v", got.BestReward, b)
			}
			if again := l.TrainerSteps(dir, c.format); again != got && !math.IsNaN(got.BestReward) {
				t.Errorf("read again unchanged: %+v, was %+v", again, got)
			}
			if c.grow == nil {
				return
			}
			c.grow(t, dir)
			rep, err = ImportAs(filepath.Join(t.TempDir(), "grown"), dir, c.format)
			if err != nil {
				t.Fatal(err)
			}
			grown := l.TrainerSteps(dir, c.format)
			if grown.LastStep != rep.LastStep || grown.LastStep <= got.LastStep || grown.Planned != rep.PlannedSteps {
				t.Errorf("after a new step: %+v; the import counts step %d of %d planned (before: %d)", grown, rep.LastStep, rep.PlannedSteps, got.LastStep)
			}
		})
	}
}

// TestFollowNemoGainsTensorBoard: a followed NeMo-RL folder that starts
// with no TensorBoard scalars (its steps counted from its data files,
// records with no values) and then gains them (the event file written
// late, or written by a later run of the trainer) reads afterwards as an
// import of the folder with the scalars: each step once in the steps done,
// its values on the charts, the best reward theirs, and no note left
// saying there are no scalars. The event file arrives whole, or first with
// step 1's scalars alone, a data file's step still waiting for its own.
func TestFollowNemoGainsTensorBoard(t *testing.T) {
	for _, c := range []struct {
		name   string
		arrive func(t *testing.T, dir string)
	}{
		{"whole", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, nemoEvents), nemoEventsData(t))
		}},
		{"step by step", func(t *testing.T, dir string) {
			p := filepath.Join(dir, nemoEvents)
			data, end := nemoEventsData(t), nemoStep1End(t)
			writeFile(t, p, data[:end])
			// Step 2's data file is there, its scalars not yet: the
			// folder has done 2 steps all the same, as it said before.
			if ts := new(Lister).TrainerSteps(dir, "nemo-rl"); ts.LastStep != 2 {
				t.Errorf("with step 1's scalars alone the Lister says %+v of the folder; want its last step 2", ts)
			}
			time.Sleep(3 * trainerPollInterval)
			appendFile(t, p, string(data[end:]))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			// What an import of the whole folder says: the expectation.
			_, want, _ := openImported(t, nemoFixture, "nemo-rl")
			wantBest, wantValues := math.Inf(-1), map[int]int{}
			for _, m := range want {
				if r, ok := m.Get("reward"); ok {
					wantBest = max(wantBest, r)
				}
				wantValues[m.Step] += len(m.Names)
			}

			dir := filepath.Join(t.TempDir(), "nemo")
			copyDir(t, nemoFixture, dir)
			if err := os.RemoveAll(filepath.Join(dir, "tensorboard")); err != nil {
				t.Fatal(err)
			}
			s, err := OpenTrainerRun(context.Background(), dir, "nemo-rl")
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := s.Close(); err != nil {
					t.Error(err)
				}
			}()
			c.arrive(t, dir)
			valuesOf := func(ms []MetricRecord) map[int]int {
				got := map[int]int{}
				for _, m := range ms {
					got[m.Step] += len(m.Names)
				}
				return got
			}
			waitStore(t, s, "the scalars", func(ms []MetricRecord, _ []*TraceRecord) bool {
				return maps.Equal(valuesOf(ms), wantValues)
			})
			time.Sleep(3 * trainerPollInterval) // nothing more comes

			ms, _ := s.Run.Store().MetricsSince(0)
			if got := valuesOf(ms); !maps.Equal(got, wantValues) {
				t.Errorf("values by step %v, want %v (as imported whole)", got, wantValues)
			}
			list, err := List(filepath.Dir(s.Run.Dir()))
			if err != nil || len(list) != 1 {
				t.Fatalf("List of the followed copy: %+v, %v", list, err)
			}
			if got := list[0].Numbering.StepsDone(list[0].LastStep); got != 2 || list[0].BestReward != wantBest {
				t.Errorf("the followed copy lists %d steps done, best reward %v; want 2, %v", got, list[0].BestReward, wantBest)
			}
			if ts := new(Lister).TrainerSteps(dir, "nemo-rl"); ts.LastStep != 2 || ts.BestReward != wantBest {
				t.Errorf("the Lister says %+v of the folder; want 2 steps done, best reward %v", ts, wantBest)
			}
		})
	}
}
