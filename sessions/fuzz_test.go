package sessions

import (
	"bytes"
	"encoding/json"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/rlt-workbench/rlt/engine/hf"
)

// reencodes checks that a record decoded from a line encodes to a line
// that decodes and encodes to the same bytes (what is written back reads
// back as itself).
func reencodes[T any](t *testing.T, v *T, encode func(*T) ([]byte, error), decode func([]byte) (*T, error)) {
	t.Helper()
	a, err := encode(v)
	if err != nil {
		return // a value JSON cannot hold is not written
	}
	back, err := decode(a)
	if err != nil {
		t.Fatalf("written line %s does not read back: %v", a, err)
	}
	b, err := encode(back)
	if err != nil || string(a) != string(b) {
		t.Fatalf("round trip differs:\n%s\n%s (%v)", a, b, err)
	}
}

func jsonEncode[T any](v *T) ([]byte, error) { return json.Marshal(v) }
func jsonDecode[T any](raw []byte) (*T, error) {
	v := new(T)
	return v, json.Unmarshal(raw, v)
}

// FuzzEventRecord: an events.jsonl line (old warnings included) never
// panics the reader and round-trips.
func FuzzEventRecord(f *testing.F) {
	f.Add([]byte(`{"time":"2026-12-03T10:00:00Z","kind":"error","step":2,"error":"warning: 2 rows skipped"}`))
	f.Add([]byte(`{"time":"2026-12-03T10:00:00+01:00","kind":"checkpoint","step":1,"dir":"checkpoints/step-000001"}`))
	f.Add([]byte(`{"kind":"import","count":3,"file":"a.csv","line":4,"fatal":true,"severity":"error"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, err := jsonDecode[EventRecord](raw)
		if err != nil {
			return
		}
		reencodes(t, e, jsonEncode, jsonDecode)
	})
}

// FuzzReviewRecord: a reviews.jsonl line never panics the reader and
// round-trips.
func FuzzReviewRecord(f *testing.F) {
	f.Add([]byte(`{"time":"2026-12-03T10:00:00Z","trace":"s0-g0-i1","label":"accept"}`))
	f.Add([]byte(`{"time":"2026-12-03T10:00:00Z","trace":"s0-g1-i1-seg1","label":"flag","note":"é\n\"x\""}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		rv, err := jsonDecode[ReviewRecord](raw)
		if err != nil {
			return
		}
		reencodes(t, rv, jsonEncode, jsonDecode)
	})
}

// FuzzRescore: a rescores.jsonl line never panics the reader and
// round-trips.
func FuzzRescore(f *testing.F) {
	f.Add([]byte(`{"time":"2026-12-03T10:00:00Z","trace":"s0-g0-i0","ended":true,"terms":{"r_ss":-1.5,"r_kl":0.25},"student_lp":[-0.5,null]}`))
	f.Add([]byte(`{"trace":"x","terms":{},"reward_config":{"lambda":3}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := decodeRescore(raw)
		if err != nil {
			return
		}
		reencodes(t, r, encodeRescore, decodeRescore)
	})
}

// FuzzCheckpointState: state.json never panics the verifier and
// round-trips. Each input is decoded and its manifest checked from memory
// (parseCheckpointState, what VerifyCheckpoint runs on the file's bytes:
// names outside the checkpoint are refused); one whose manifest passes is
// also verified as a file against a real folder (sizes, checksums).
func FuzzCheckpointState(f *testing.F) {
	f.Add([]byte(`{"step":1,"time":"2026-12-03T10:00:00Z","seg":0,"files":{"trainer.json":2},"sha256":{"trainer.json":"44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}}`))
	f.Add([]byte(`{"step":2,"mean_reward":-0.5,"files":{"../trainer.json":2,"a.safetensors":8}}`))
	f.Add([]byte(`{"step":3,"files":{}}`))
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "trainer.json"), []byte("{}"), 0o644); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := jsonDecode[CheckpointState](raw)
		if err != nil {
			return
		}
		reencodes(t, s, jsonEncode, jsonDecode)
		if _, names, err := parseCheckpointState(dir, raw); err != nil {
			return
		} else if len(names) != len(s.Files) {
			t.Fatalf("%d names for a manifest of %d", len(names), len(s.Files))
		}
		if err := os.WriteFile(filepath.Join(dir, CheckpointStateFile), raw, 0o644); err != nil {
			t.Fatal(err)
		}
		st, err := VerifyCheckpoint(dir)
		if err == nil {
			_ = VerifyContent(dir, st)
		}
	})
}

// FuzzOptimizerFile: optimizer.safetensors (any safetensors file) never
// panics the reader, and what reads is written back to the same tensors and
// metadata. Each input goes through readTensors (the test's reader) and WriteTensors'
// encoder in memory (hf.OpenBytes, hf.EncodeSafetensors: the bytes Open
// parses and the bytes the atomic file write holds), so the fuzzer spends
// its time in the format, not in fsync.
func FuzzOptimizerFile(f *testing.F) {
	var seed bytes.Buffer
	if err := hf.EncodeSafetensors(&seed, []hf.NamedTensor{{Name: "w.exp_avg", Shape: []int{2}, Data: []float32{1, -2}}, {Name: "w.exp_avg_sq", Shape: []int{}, Data: []float32{3}}},
		hf.F32, map[string]string{"adam_steps": "3"}); err != nil {
		f.Fatal(err)
	}
	f.Add(seed.Bytes())
	f.Add([]byte("\x40\x00\x00\x00\x00\x00\x00\x00{\"a\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}          \x80\x3f\x00\xc0"))
	read := func(data []byte) ([]hf.NamedTensor, map[string]string, error) {
		sf, err := hf.OpenBytes(OptimizerFile, data)
		if err != nil {
			return nil, nil, err
		}
		return readTensors(sf)
	}
	var out bytes.Buffer
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, meta, err := read(data)
		if err != nil {
			return
		}
		out.Reset()
		if err := hf.EncodeSafetensors(&out, ts, hf.F32, meta); err != nil {
			return // e.g. a metadata key the format cannot hold
		}
		back, meta2, err := read(out.Bytes())
		if err != nil {
			t.Fatalf("written back, does not read: %v", err)
		}
		// The writer always records "format": "pt" (Hugging Face's
		// convention) unless the metadata says otherwise.
		want := map[string]string{"format": "pt"}
		maps.Copy(want, meta)
		if !reflect.DeepEqual(want, meta2) || len(back) != len(ts) {
			t.Fatalf("round trip: metadata %v written back as %v, %d vs %d tensors", meta, meta2, len(ts), len(back))
		}
		for i := range ts {
			if ts[i].Name != back[i].Name || !slices.Equal(ts[i].Shape, back[i].Shape) || !slices.EqualFunc(ts[i].Data, back[i].Data, sameBits) {
				t.Fatalf("tensor %q changed: %+v → %+v", ts[i].Name, ts[i], back[i])
			}
		}
	})
}

func sameBits(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }
