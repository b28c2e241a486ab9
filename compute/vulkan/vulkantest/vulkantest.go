// Package vulkantest gives the tests of packages above compute a Vulkan
// backend (lavapipe in CI): one place for the rule that a missing device
// skips a test, unless RLT_REQUIRE_GPU=1, under which it fails.
package vulkantest

import (
	"os"
	"testing"

	"github.com/rlt-workbench/rlt/compute/vulkan"
)

// Backend opens the Vulkan backend for t and closes it when t ends.
func Backend(t testing.TB) *vulkan.Backend {
	t.Helper()
	d, err := vulkan.Open()
	if err != nil {
		if os.Getenv("RLT_REQUIRE_GPU") == "1" {
			t.Fatalf("RLT_REQUIRE_GPU=1 and no usable Vulkan device: %v", err)
		}
		t.Skipf("no Vulkan device: %v", err)
	}
	b := vulkan.NewBackend(d)
	t.Cleanup(b.Close)
	return b
}
