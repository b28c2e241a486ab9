package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/compute/device"
)

// A run or a scoring that cannot fit the memory there is is refused before
// anything is loaded or written, with the numbers and what to change.
func TestRefusesWhatCannotFit(t *testing.T) {
	t.Setenv("RLT_MEMORY_LIMIT", "100MB")
	runs := filepath.Join(t.TempDir(), "runs")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"run", "--headless", "--steps", "1", "--runs", runs}, strings.NewReader(""), &stdout, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr.String())
	}
	for _, want := range []string{"needs about", "100 MB available (RLT_MEMORY_LIMIT)", "grpo.micro_batch", "grpo.max_new_tokens"} {
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
	if _, err := device.MemoryOf(device.GPU); err != nil {
		if os.Getenv("RLT_REQUIRE_GPU") == "1" {
			t.Fatal(err)
		}
		t.Skipf("no Vulkan device: %v", err)
	}
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
