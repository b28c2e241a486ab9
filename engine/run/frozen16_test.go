package run

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/backendtest"
	"github.com/rlt-workbench/rlt/engine/device"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/engine/rlt"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/engine/size"
)

// bf16Models copies the tiny teacher and student of dir as BF16 checkpoints.
func bf16Models(t *testing.T, dir string) string {
	t.Helper()
	out := t.TempDir()
	for _, who := range []string{"teacher", "student"} {
		m, err := model.Load(compute.NewCPU(), filepath.Join(dir, who))
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Save(filepath.Join(out, who), hf.BF16); err != nil {
			t.Fatal(err)
		}
		tok, err := os.ReadFile(filepath.Join(dir, who, hf.TokenizerFile))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, who, hf.TokenizerFile), tok, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// From BF16 checkpoints, the student and the reference are held in 16 bits
// by default and the steps are those of float32 copies, bit for bit, until
// the reference follows the policy (then it rounds to BF16); a run with
// such a reference resumes exactly.
func TestFrozen16StudentAndReference(t *testing.T) {
	dir := bf16Models(t, tinyModels(t))
	steps := func(frozen string) ([]map[string]float64, *Engine) {
		c := smallConfig(dir)
		c.GRPO.FrozenWeights = frozen
		e, err := checkAndNew(c, nil)
		if err != nil {
			t.Fatal(err)
		}
		var ms []map[string]float64
		for i := 0; i < 2; i++ {
			r, err := e.Trainer.Step(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			ms = append(ms, r.Metrics)
		}
		return ms, e
	}
	want, e32 := steps(runconfig.FrozenFloat32)
	got, e16 := steps(runconfig.FrozenCheckpoint)
	if e32.Trainer.Student.Frozen16() || e32.Trainer.Ref.Frozen16() {
		t.Fatal("frozen_weights = float32 still holds 16-bit weights")
	}
	if !e16.Trainer.Student.Frozen16() || e16.Trainer.Ref.WeightType() != compute.BF16 || e16.Trainer.Teacher.Frozen16() {
		t.Fatalf("frozen_weights = checkpoint: student 16-bit %v, reference %v, teacher 16-bit %v; want true, BF16, false",
			e16.Trainer.Student.Frozen16(), e16.Trainer.Ref.WeightType(), e16.Trainer.Teacher.Frozen16())
	}
	for i := range want {
		for k, v := range want[i] {
			if rlt.Measured(k) {
				continue // timings, memory
			}
			if got[i][k] != v {
				t.Errorf("step %d %s: %v with 16-bit frozen models, %v with float32 ones", i, k, got[i][k], v)
			}
		}
	}

	c := smallConfig(dir)
	c.EvalEvery = 0
	c.GRPO.RefSyncEvery = 2 // the 16-bit reference follows the policy across the resume
	resumeEqualsUninterrupted(t, c)
}

func TestFrozenWeightsKeyIsChecked(t *testing.T) {
	c := DefaultConfig("t", "s")
	c.GRPO.FrozenWeights = "fp8"
	if err := checkKeys(c); err == nil {
		t.Fatal("frozen_weights = fp8 was accepted")
	}
}

// New refuses a run over the memory limit before it loads anything; 16-bit
// frozen models lower the estimate by their savings.
func TestNewRefusesWhatCannotFit(t *testing.T) {
	dir := bf16Models(t, tinyModels(t))
	c := smallConfig(dir)
	m16, err := Memory(c)
	if err != nil {
		t.Fatal(err)
	}
	c32 := c
	c32.GRPO.FrozenWeights = runconfig.FrozenFloat32
	m32, err := Memory(c32)
	if err != nil {
		t.Fatal(err)
	}
	if m16.StudentHeld != compute.BF16 || m16.RefHeld != compute.BF16 || m32.StudentHeld != compute.F32 {
		t.Fatalf("held as %v/%v with checkpoint, %v with float32", m16.StudentHeld, m16.RefHeld, m32.StudentHeld)
	}
	if m16.Estimate().Total() >= m32.Estimate().Total() {
		t.Fatalf("16-bit frozen models estimate %d bytes, float32 ones %d", m16.Estimate().Total(), m32.Estimate().Total())
	}
	t.Setenv("RLT_MEMORY_LIMIT", "1MiB")
	if _, err := checkAndNew(c, nil); err == nil || !strings.Contains(err.Error(), "1.0 MiB available") {
		t.Fatalf("New under a 1 MiB limit: %v", err)
	}
}

// On a GPU the run is checked against the GPU's memory, with the head's
// bigger logits buffer there and --device cpu among the fixes; on the CPU,
// against the host's.
func TestCheckMemoryOnTheDevice(t *testing.T) {
	c := smallConfig(tinyModels(t))
	host, err := Memory(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("RLT_MEMORY_LIMIT", "1MiB")
	c.Device = "cpu"
	if err := CheckMemory(c); err == nil || !strings.Contains(err.Error(), "1.0 MiB available (RLT_MEMORY_LIMIT)") || strings.Contains(err.Error(), "--device cpu") {
		t.Fatalf("on the CPU under 1 MiB: %v", err)
	}
	where, err := device.MemoryOf(device.GPU)
	if err != nil {
		backendtest.DeviceRequired(t, err)
		c.Device = "gpu"
		if err := CheckMemory(c); err == nil || !strings.Contains(err.Error(), "--device cpu") {
			t.Fatalf("--device gpu without a GPU: %v, want the device's error", err)
		}
		t.Skipf("no Vulkan device: %v", err)
	}
	c.Device = "gpu"
	err = CheckMemory(c)
	for _, want := range []string{"this run on " + where.GPU, "RLT_MEMORY_LIMIT, on " + where.GPU,
		"the fused head's logits on the GPU " + size.Bytes(where.HeadBytes), "the GPU's scratch beside the tensors", "--device cpu"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("on %s under 1 MiB: %v; want it to say %q", where.GPU, err, want)
		}
	}
	gpu := host
	gpu.DeviceHead = where.HeadBytes
	if d := gpu.Estimate().Total() - host.Estimate().Total(); d != where.HeadBytes {
		t.Fatalf("the GPU estimate is %d bytes over the host's, want the head's %d", d, where.HeadBytes)
	}
	t.Setenv("RLT_MEMORY_LIMIT", "")
	if err := CheckMemory(c); err != nil { // a tiny run fits any device
		t.Fatalf("on %s with its own memory: %v", where.GPU, err)
	}
}
