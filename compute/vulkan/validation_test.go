package vulkan

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestValidationLayer re-runs the device tests in a child process under
// Khronos' validation layer with synchronization validation, and fails on
// any message: lavapipe runs through misuse and missing barriers that a
// real GPU would not forgive. It skips where the layer is not installed
// (Debian: vulkan-validationlayers).
func TestValidationLayer(t *testing.T) {
	if os.Getenv("RLT_VULKAN_VALIDATING") == "1" {
		t.Skip("inside the validation run")
	}
	openOrSkip(t)
	if !validationLayerInstalled() {
		t.Skip("Khronos validation layer not installed (Debian: vulkan-validationlayers)")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^(TestConformance|TestBackendConformance|TestTrainingSteps|TestAttention|TestAttentionDecodeTiles|TestUploadsAcrossBatches|TestHostResults|TestProfile|TestBackendConformanceSplitK|TestGemv|TestBackendConformanceDescriptorSets|TestScatterRows|TestConvert|TestGemm128|TestBackendConformance128|TestWithoutOptionalKernels|TestGemmCoop|TestGemmCoopRounds|TestBackendConformanceCoop|TestSumSquaresEachWaitsOnce|TestDrawTokens|TestAttnTilesFor|TestBackendConformanceKicks)$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		"VK_INSTANCE_LAYERS=VK_LAYER_KHRONOS_validation",
		"VK_LAYER_ENABLES=VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT",
		"RLT_VULKAN_VALIDATING=1", "RLT_REQUIRE_GPU=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tests under the validation layer failed: %v\n%s", err, tail(string(out), 3000))
	}
	var reported []string
	for _, m := range regexp.MustCompile(`(?m)^.*(Validation Error|Validation Warning|SYNC-HAZARD|VUID-).*$`).FindAllString(string(out), -1) {
		// Layers from 1.4.3xx warn that VK_LAYER_ENABLES is deprecated;
		// bookworm's 1.3.239 knows no other way to enable sync
		// validation, and the newer ones still honour it.
		if !strings.Contains(m, "VALIDATION-SETTINGS") {
			reported = append(reported, m)
		}
	}
	if len(reported) > 0 {
		t.Errorf("the validation layer reported:\n%s", strings.Join(reported[:min(len(reported), 5)], "\n"))
	}
}

// validationLayerInstalled looks for the layer's manifest where the loader
// looks for explicit layers.
func validationLayerInstalled() bool {
	dirs := filepath.SplitList(os.Getenv("VK_LAYER_PATH"))
	dirs = append(dirs, "/usr/share/vulkan/explicit_layer.d", "/usr/local/share/vulkan/explicit_layer.d", "/etc/vulkan/explicit_layer.d")
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "VkLayer_khronos_validation.json")); err == nil {
			return true
		}
	}
	return false
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
