package backendtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// UnderValidationLayer re-runs the tests of the current test binary that
// match pattern (a -test.run expression) in a child process under Khronos'
// validation layer with synchronization validation, with RLT_REQUIRE_GPU=1
// and env added, and fails t on any message the layer prints: lavapipe
// computes right through misuse and missing barriers that a real GPU would
// not forgive. It skips where the layer is not installed (Debian:
// vulkan-validationlayers) and inside the child. The caller checks first
// that a device is there.
func UnderValidationLayer(t *testing.T, pattern string, env ...string) {
	t.Helper()
	if os.Getenv("RLT_VULKAN_VALIDATING") == "1" {
		t.Skip("inside the validation run")
	}
	if !validationLayerInstalled() {
		t.Skip("Khronos validation layer not installed (Debian: vulkan-validationlayers)")
	}
	cmd := exec.Command(os.Args[0], "-test.run="+pattern, "-test.count=1", "-test.short")
	cmd.Env = append(os.Environ(),
		"VK_INSTANCE_LAYERS=VK_LAYER_KHRONOS_validation",
		"VK_LAYER_ENABLES=VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT",
		"RLT_VULKAN_VALIDATING=1", "RLT_REQUIRE_GPU=1")
	cmd.Env = append(cmd.Env, env...)
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
		t.Errorf("the validation layer reported %d messages, the first:\n%s", len(reported), strings.Join(reported[:min(len(reported), 5)], "\n"))
	}
	if !regexp.MustCompile(`(?m)^PASS$`).MatchString(string(out)) {
		t.Errorf("no test ran under the validation layer (pattern %q):\n%s", pattern, tail(string(out), 1000))
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
