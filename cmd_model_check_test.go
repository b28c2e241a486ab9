package main

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// setWeight writes v into element i of tensor name of dir's
// model.safetensors, in the tensor's own dtype (F32 or BF16), as a run
// that diverged leaves it.
func setWeight(t *testing.T, dir, name string, i int, v float32) {
	t.Helper()
	path := filepath.Join(dir, "model.safetensors")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(data)
	var hdr map[string]struct {
		DType   string   `json:"dtype"`
		Offsets [2]int64 `json:"data_offsets"`
	}
	var raw map[string]json.RawMessage
	json.Unmarshal(data[8:8+n], &raw)
	delete(raw, "__metadata__")
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, &hdr); err != nil {
		t.Fatal(err)
	}
	e, ok := hdr[name]
	if !ok {
		t.Fatalf("no tensor %s", name)
	}
	at := 8 + int64(n) + e.Offsets[0]
	switch e.DType {
	case "F32":
		binary.LittleEndian.PutUint32(data[at+4*int64(i):], math.Float32bits(v))
	case "BF16":
		binary.LittleEndian.PutUint16(data[at+2*int64(i):], uint16(math.Float32bits(v)>>16))
	default:
		t.Fatalf("%s is %s", name, e.DType)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestModelInfoCheckWeights: rlt model info read the weights' headers
// only and exited 0 for a folder whose weights hold NaN (a diverged run's
// save), which a run refused only once it loaded them. It says on a
// weights line that it did not read them, and --check-weights reads every
// value and says the first NaN or Inf with its file, tensor and index,
// exit 1.
func TestModelInfoCheckWeights(t *testing.T) {
	const tensor = "model.layers.1.mlp.down_proj.weight" // [32, 64]
	for _, dtype := range []string{"f32", "bf16"} {
		dir := tinyFolder(t, dtype)
		code, out, errs := runCLI(t, "", "model", "info", dir, "--device", "cpu")
		if code != 0 || !strings.Contains(out, "\nweights     not read (the lines above read the files' headers): --check-weights reads every value for NaN and Inf\n") {
			t.Errorf("%s: info: exit %d:\n%s%s", dtype, code, out, errs)
		}
		code, out, errs = runCLI(t, "", "model", "info", dir, "--device", "cpu", "--check-weights")
		if code != 0 || !strings.Contains(out, "\nweights     finite: every value of the 26 float tensors read (") {
			t.Errorf("%s: --check-weights of finite weights: exit %d:\n%s%s", dtype, code, out, errs)
		}
		for _, v := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
			setWeight(t, dir, tensor, 70, v)
			code, out, errs = runCLI(t, "", "model", "info", dir, "--device", "cpu", "--check-weights")
			said := `model.safetensors: tensor "` + tensor + `" holds ` + map[bool]string{true: "NaN", false: "+Inf"}[v != v] + ` at index 70 of 2048: the checkpoint is corrupt`
			if code != 1 || !strings.Contains(out, "\nweights     NOT FINITE: "+filepath.Join(dir, said)) || !strings.Contains(errs, said) {
				t.Errorf("%s: --check-weights of %v: exit %d; want 1 and %q on the weights line and stderr:\n%s%s", dtype, v, code, said, out, errs)
			}
		}
	}
}
