package sessions

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// Fuzz targets of the other trainers' formats (trainers.go, tfevents.go,
// parquet.go). Seeds are small pieces of the fixtures in testdata/trainers.

// firstRecords is the first n TFRecords of an event file (all if fewer).
func firstRecords(data []byte, n int) []byte {
	off := 0
	for i := 0; i < n && len(data)-off >= 16; i++ {
		l := int(binary.LittleEndian.Uint64(data[off:]))
		if l > len(data)-off-16 {
			break
		}
		off += 16 + l
	}
	return data[:off]
}

// FuzzTFEvents: a TensorBoard event file never panics the reader; what it
// reads, and what it calls pending, agree with the same bytes cut where the
// pending part starts.
func FuzzTFEvents(f *testing.F) {
	data, err := os.ReadFile(filepath.Join(nemoFixture, nemoEvents))
	if err != nil {
		f.Fatal(err)
	}
	two := firstRecords(data, 2) // file_version, then the first scalar
	f.Add(two)
	f.Add(two[:len(two)-3]) // the scalar's record cut short
	f.Add(firstRecords(data, 3)[len(firstRecords(data, 1)):])
	f.Fuzz(func(t *testing.T, data []byte) {
		es, pending, err := parseTFEvents(data)
		if pending < 0 || pending > len(data) || (err != nil && pending != 0) {
			t.Fatalf("pending %d of %d bytes (err %v)", pending, len(data), err)
		}
		for i, e := range es {
			if len(e.Values) == 0 {
				t.Fatalf("entry %d has no values", i)
			}
		}
		if err != nil || pending == 0 {
			return
		}
		whole, p2, err2 := parseTFEvents(data[:len(data)-pending])
		if err2 != nil || p2 != 0 || !reflect.DeepEqual(sameNaN(whole), sameNaN(es)) {
			t.Fatalf("the records before the pending %d bytes read differently: %d vs %d entries, pending %d, %v", pending, len(whole), len(es), p2, err2)
		}
	})
}

// sameNaN replaces NaN values (which DeepEqual never matches) by a marker.
func sameNaN(es []OfficialMetrics) []OfficialMetrics {
	out := make([]OfficialMetrics, len(es))
	for i, e := range es {
		out[i] = OfficialMetrics{Step: e.Step, Values: map[string]float64{}}
		for k, v := range e.Values {
			if math.IsNaN(v) {
				v = -12345.678
			}
			out[i].Values[k] = v
		}
	}
	return out
}

// Formats of FuzzTrainerLine (its first argument, modulo their count).
const (
	lineTRLState    = iota // a TRL trainer_state.json (its log_history)
	lineVerlMetric         // a line of verl's metrics file
	lineVerlRollout        // a row of a verl rollout {step}.jsonl
	lineNemoData           // a line of NeMo-RL's train_data_step{N}.jsonl
	lineFormats
)

// FuzzTrainerLine: each trainer's row and line parsers never panic, report
// errors as values with the field at fault, and what they read written
// back in the trainer's shape reads back the same.
func FuzzTrainerLine(f *testing.F) {
	f.Add(byte(lineTRLState), []byte(`{"global_step":2,"log_history":[{"epoch":0.5,"loss":0.01,"rewards/answer_reward/mean":0.5,"step":2}]}`))
	f.Add(byte(lineTRLState), []byte(`{"log_history":[{"step":1.0,"kl":NaN},{"loss":1},3]}`))
	f.Add(byte(lineVerlMetric), []byte(`{"step":1,"data":{"actor/entropy":0.9,"critic/score/mean":0.75,"perf/mfu/actor":null}}`))
	f.Add(byte(lineVerlMetric), []byte(`{"step":2.5,"data":[]}`))
	f.Add(byte(lineVerlRollout), []byte(`{"input":"What is 2+2?\n","output":"4","gts":"4","score":1.0,"step":2}`))
	f.Add(byte(lineVerlRollout), []byte(`{"input":"q","output":null,"gts":[1]}`))
	f.Add(byte(lineNemoData), []byte(`{"content":[["What is 12 * 13?","Think.<|end_of_explanation|>"]],"rewards":[0.2],"advantages":[[0,0,0.5]],"token_loss_mask":[[0,0,1]]}`))
	f.Add(byte(lineNemoData), []byte(`{"content":[],"rewards":"x"}`))
	f.Fuzz(func(t *testing.T, format byte, raw []byte) {
		switch format % lineFormats {
		case lineTRLState:
			ms, rep, err := parseTrainerState("trainer_state.json", raw, -1)
			if err == nil && len(ms)+rep.SkippedCount != rep.Entries {
				t.Fatalf("%d metrics + %d skipped != %d entries", len(ms), rep.SkippedCount, rep.Entries)
			}
			if len(rep.Skipped) != rep.SkippedCount {
				t.Fatalf("%d issues kept of %d with no limit", len(rep.Skipped), rep.SkippedCount)
			}
		case lineVerlMetric:
			m, nonNum, field, err := parseVerlMetric(raw)
			if err != nil {
				if field != "" && field != "step" && field != "data" {
					t.Fatalf("field %q", field)
				}
				return
			}
			for _, k := range nonNum {
				if _, ok := m.Values[k.key]; ok {
					t.Fatalf("key %q both numeric and not", k.key)
				}
			}
			vals := map[string]any{}
			for k, v := range m.Values {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return // verl writes these as null or text: not a number here
				}
				vals[k] = v
			}
			line, err := json.Marshal(map[string]any{"step": m.Step, "data": vals})
			if err != nil {
				t.Fatal(err)
			}
			back, nn, _, err := parseVerlMetric(line)
			if err != nil || len(nn) != 0 || back.Step != m.Step || !reflect.DeepEqual(back.Values, m.Values) {
				t.Fatalf("%s reads back as %+v, %v, %v (was %+v)", line, back, nn, err, m)
			}
		case lineVerlRollout:
			row, field, err := parseVerlRollout(raw, 7)
			if err != nil {
				if field != "" && field != "input" {
					t.Fatalf("field %q", field)
				}
				return
			}
			if !math.IsNaN(row.Advantage) {
				t.Fatalf("advantage %v from a rollout row", row.Advantage)
			}
			w := map[string]any{"input": row.Prompt, "output": row.Completion, "gts": row.Reference, "step": row.Step}
			if row.HasReward {
				w["score"] = row.Reward
			}
			line, err := json.Marshal(w)
			if err != nil {
				t.Fatal(err)
			}
			back, _, err := parseVerlRollout(line, 7)
			if err != nil || !sameRow(back, row) {
				t.Fatalf("%s reads back as %+v, %v (was %+v)", line, back, err, row)
			}
		case lineNemoData:
			row, field, err := parseNemoData(raw, 3)
			if err != nil {
				if field != "" && field != "content" {
					t.Fatalf("field %q", field)
				}
				return
			}
			if row.Step != 3 {
				t.Fatalf("step %d, not the file's", row.Step)
			}
			w := map[string]any{"content": [][]string{{row.Prompt, row.Completion}}}
			if row.HasReward {
				w["rewards"] = []float64{row.Reward}
			}
			if !math.IsNaN(row.Advantage) {
				w["advantages"] = [][]float64{{row.Advantage}}
			}
			line, err := json.Marshal(w)
			if err != nil {
				return // an infinite advantage or reward (1e999 reads as ±Inf)
			}
			back, _, err := parseNemoData(line, 3)
			if err != nil || !sameRow(back, row) {
				t.Fatalf("%s reads back as %+v, %v (was %+v)", line, back, err, row)
			}
		}
	})
}

// sameRow: two rows are equal, NaN advantages included.
func sameRow(a, b foreignRow) bool {
	if math.IsNaN(a.Advantage) && math.IsNaN(b.Advantage) {
		a.Advantage, b.Advantage = 0, 0
	}
	return a == b
}

// tinyParquet is a one-row completions file as TRL writes it, small
// enough to seed the fuzzer.
func tinyParquet(f *testing.F) []byte {
	type row struct {
		Step       int64   `parquet:"step"`
		Prompt     string  `parquet:"prompt"`
		Completion string  `parquet:"completion"`
		Reward     float64 `parquet:"answer_reward"`
	}
	var b bytes.Buffer
	if err := parquet.Write(&b, []row{{Step: 2, Prompt: "q", Completion: "a", Reward: 1}}); err != nil {
		f.Fatal(err)
	}
	return b.Bytes()
}

// FuzzParquet: the Parquet reader over bytes never lets a panic of the
// decoder escape, and a file it reads, cut short anywhere (at a point the
// fuzzer picks), is an error, never rows.
func FuzzParquet(f *testing.F) {
	tiny := tinyParquet(f)
	f.Add(tiny, uint16(1))
	f.Add(tiny, uint16(len(tiny)/2))
	f.Add(append(append([]byte(nil), tiny[:len(tiny)/2]...), parquetMagic...), uint16(3))
	f.Add([]byte("PAR1\x00\x00\x00\x00PAR1"), uint16(4))
	f.Fuzz(func(t *testing.T, data []byte, short uint16) {
		tb, err := decodeParquet(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if tb != nil {
				t.Fatalf("a table and an error: %v", err)
			}
			return
		}
		for i, r := range tb.Rows {
			if len(r) != len(tb.Columns) {
				t.Fatalf("row %d has %d cells for %d columns", i, len(r), len(tb.Columns))
			}
		}
		cut := data[:len(data)-1-int(short)%len(data)]
		tb, err = decodeParquet(bytes.NewReader(cut), int64(len(cut)))
		if err == nil || tb != nil {
			t.Fatalf("cut short by %d bytes: %v, %v", len(data)-len(cut), tb, err)
		}
	})
}
