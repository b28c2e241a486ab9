package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute/backendtest"
	"github.com/rlt-workbench/rlt/engine/device"
	"github.com/rlt-workbench/rlt/engine/size"
)

// A run or a scoring that cannot fit the memory there is is refused before
// anything is loaded or written, with the numbers and what to change.
func TestRefusesWhatCannotFit(t *testing.T) {
	t.Setenv("RLT_MEMORY_LIMIT", "100MiB")
	runs := filepath.Join(t.TempDir(), "runs")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"run", "--headless", "--steps", "1", "--runs", runs}, strings.NewReader(""), &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr.String())
	}
	for _, want := range []string{"needs about", "100.0 MiB available (RLT_MEMORY_LIMIT)", "grpo.micro_batch", "grpo.max_new_tokens"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("the refusal does not say %q:\n%s", want, stderr.String())
		}
	}
	if _, err := os.Stat(runs); !os.IsNotExist(err) {
		t.Errorf("a refused run left %s behind (stat: %v)", runs, err)
	}
}

// On a GPU the refusal is against the GPU's memory, and --device cpu is
// among the ways out; no run folder is made either.
func TestRefusesWhatCannotFitOnTheGPU(t *testing.T) {
	gpuOrSkip(t)
	t.Setenv("RLT_MEMORY_LIMIT", "100MB")
	runs := filepath.Join(t.TempDir(), "runs")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"run", "--headless", "--steps", "1", "--device", "gpu", "--runs", runs}, strings.NewReader(""), &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr.String())
	}
	for _, want := range []string{"this run on ", "RLT_MEMORY_LIMIT, on ", "--device cpu"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("the refusal does not say %q:\n%s", want, stderr.String())
		}
	}
	if _, err := os.Stat(runs); !os.IsNotExist(err) {
		t.Errorf("a refused run left %s behind (stat: %v)", runs, err)
	}
}

// A model whose largest tensor passes what one allocation of the GPU
// holds (maxMemoryAllocationSize, lowered here to 1 MiB: lavapipe's 2 GiB
// would want a 2 GiB model) is refused there before a run folder exists,
// naming the tensor, and `rlt model info` says training does not fit,
// instead of the load failing after the folder was made.
func TestRefusesATensorPastTheGPUsBuffer(t *testing.T) {
	t.Setenv("RLT_VULKAN_MAX_ALLOCATION", "1048576")
	where := gpuOrSkip(t)
	// An embedding of 32 columns with one row more than the buffer holds
	// in float32 (the teacher trains in float32; stored as BF16, half).
	rows := int(where.MaxBuffer/(32*4)) + 1
	if rows > 4<<20 {
		t.Skipf("%s allocates %d bytes at once: the model past it is too big for a test", where.GPU, where.MaxBuffer)
	}
	dir := tinyFolderRows(t, "bf16", rows)
	code, out, errs := runCLI(t, "", "model", "info", "--device", "gpu", dir)
	if code != 0 || !strings.Contains(out, "training does NOT fit: model.embed_tokens.weight is") || !strings.Contains(out, "one allocation there holds") {
		t.Errorf("model info: exit %d:\n%s%s", code, out, errs)
	}
	cfgPath := filepath.Join(t.TempDir(), "big.toml")
	os.WriteFile(cfgPath, []byte("teacher = '"+dir+"'\nstudent = '"+dir+"'\n"+smallRun), 0o644)
	runs := filepath.Join(t.TempDir(), "runs")
	code, _, errs = runCLI(t, "", "run", "--headless", "--steps", "1", "--device", "gpu", "--runs", runs, "--config", cfgPath)
	for _, want := range []string{"this run on " + where.GPU, "the teacher's model.embed_tokens.weight (F32)", "allocates at most", "--device cpu"} {
		if code != 1 || !strings.Contains(errs, want) {
			t.Errorf("run: exit %d, want 1 and a refusal saying %q:\n%s", code, want, errs)
		}
	}
	// Both say the tensor's size and the GPU's allocation limit in the
	// same words, so that the numbers can be compared.
	tensor, limit := size.Bytes(int64(rows)*32*4), size.Bytes(int64(where.MaxBuffer))
	if !strings.Contains(out, " is "+tensor+" as float32, beyond the "+limit+" one allocation") ||
		!strings.Contains(errs, " is "+tensor+", and "+where.GPU+" allocates at most "+limit) {
		t.Errorf("model info and the refusal do not both say %s and %s:\n%s\n%s", tensor, limit, out, errs)
	}
	if _, err := os.Stat(runs); !os.IsNotExist(err) {
		t.Errorf("a refused run left %s behind (stat: %v)", runs, err)
	}
}

// gpuOrSkip gives the GPU's memory (device.MemoryOf(device.GPU)) for a
// test that needs a Vulkan device: without one it skips, or fails under
// RLT_REQUIRE_GPU=1 (as in CI, where lavapipe must be there).
func gpuOrSkip(t *testing.T) device.Memory {
	t.Helper()
	where, err := device.MemoryOf(device.GPU)
	backendtest.NeedDevice(t, err)
	return where
}
