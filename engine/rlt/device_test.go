package rlt

import (
	"context"
	"math"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/backendtest"
	"github.com/rlt-workbench/rlt/compute/vulkan"
	"github.com/rlt-workbench/rlt/compute/vulkan/vulkantest"
	"github.com/rlt-workbench/rlt/engine/defaults"
	"github.com/rlt-workbench/rlt/engine/record"
	"github.com/rlt-workbench/rlt/engine/runconfig"
)

// TestGRPOStepOnTheDevice: one GRPO step of the embedded default pair gives
// the same metrics on the Vulkan backend as on the CPU within tolerance
// (sampling is seeded, so the same tokens come out unless two candidates
// tie within rounding, which these checks would show). It is kept small:
// lavapipe's GEMM, with a workgroup barrier per k-step, takes seconds here.
func TestGRPOStepOnTheDevice(t *testing.T) {
	gpu := vulkantest.Backend(t)
	d := gpu.Device()
	tdir, sdir, prompts := defaultModels(t)
	weights := 0.0 // the teacher's float32 weights, bytes
	step := func(be compute.Backend) map[string]float64 {
		pair, err := LoadPair(be, tdir, sdir, prompts)
		if err != nil {
			t.Fatal(err)
		}
		weights = 0
		for _, p := range pair.Teacher.Tensors() {
			weights += 4 * float64(p.Len())
		}
		gc := runconfig.DefaultGRPO()
		gc.Questions, gc.Samples, gc.MaxNewTokens, gc.MicroBatch = 1, 2, 6, 2
		tr, err := NewTrainer(gc, record.DefaultRewardConfig(), pair, sums{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		r, err := tr.Step(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", be.Name(), err)
		}
		return r.Metrics
	}
	t0 := time.Now()
	want := step(compute.NewCPU())
	t.Logf("cpu %v", time.Since(t0))
	if rss, peak := want["memory_host_gib"], want["memory_host_peak_gib"]; runtime.GOOS == "linux" && !(rss > 0 && peak >= rss) {
		t.Errorf("memory_host_gib %v, memory_host_peak_gib %v: want the process's resident memory, its peak at least as large", rss, peak)
	}
	// Under matmul f16 (tensor cores, where the device has them) the
	// products round their operands to float16: the same tokens come out
	// here, the metrics within 2%.
	for _, c := range []struct {
		matmul string
		tol    float64
	}{{vulkan.MatmulF32, 1e-3}, {vulkan.MatmulF16, 2e-2}} {
		t.Run(c.matmul, func(t *testing.T) {
			vulkantest.NeedMatmul(t, c.matmul, d.SetMatmul(c.matmul))
			defer d.SetMatmul(vulkan.MatmulF32)
			t1, submits := time.Now(), d.Submits()
			got := step(gpu)
			t.Logf("%s %v in %d submissions", gpu.Name(), time.Since(t1), d.Submits()-submits)
			for _, k := range []string{"reward", "kl", "completion_length", "loss", "grad_norm", "answer_log_prob_mean", "reasoning_kl_mean"} {
				w, g := want[k], got[k]
				if !(math.Abs(g-w) <= c.tol+c.tol*math.Abs(w)) { // NaN fails
					t.Errorf("%s: %s = %v, cpu %v", gpu.Name(), k, g, w)
				}
			}
			// The device's memory is measured on the device only: at least
			// the teacher's float32 weights were held during the step.
			if p := got["memory_device_peak_gib"]; !(p*(1<<30) >= weights) || p*(1<<30) > float64(d.Info().DeviceLocalBytes) {
				t.Errorf("memory_device_peak_gib %v: want the teacher's %v bytes at least, within the device's memory", p, weights)
			}
			if _, ok := want["memory_device_peak_gib"]; ok {
				t.Error("the CPU reported device memory")
			}
		})
	}
}

// TestGRPOStepUnderValidationLayer re-runs TestGRPOStepOnTheDevice under
// Khronos' validation layer with synchronization validation, batches
// submitted in pieces as a GPU submits them: any message fails it.
func TestGRPOStepUnderValidationLayer(t *testing.T) {
	vulkantest.Backend(t)
	backendtest.UnderValidationLayer(t, "^TestGRPOStepOnTheDevice$", "RLT_VULKAN_KICK=3")
}

// defaultModels are the embedded teacher's and student's folders and the
// prompts they were trained with.
func defaultModels(t *testing.T) (tdir, sdir string, prompts record.Prompts) {
	t.Helper()
	dir, err := defaults.Dir()
	if err != nil {
		t.Fatal(err)
	}
	tdir, sdir = filepath.Join(dir, defaults.Teacher), filepath.Join(dir, defaults.Student)
	prompts, err = record.PromptsFor(tdir, sdir, record.Prompts{})
	if err != nil {
		t.Fatal(err)
	}
	return tdir, sdir, prompts
}
