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
	Need(t, err)
	b := vulkan.NewBackend(d)
	t.Cleanup(b.Close)
	return b
}

// Need skips t where err (vulkan.Open's, vulkan.Probe's) says there is no
// usable Vulkan device, or fails it under RLT_REQUIRE_GPU=1 (Required).
func Need(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		Required(t, err)
		t.Skipf("no usable Vulkan device: %v", err)
	}
}

// Required fails t under RLT_REQUIRE_GPU=1 (CI's lavapipe job) where err
// says there is no usable Vulkan device: there a test that needs one must
// not pass by skipping, or by testing the refusals of a machine with none.
func Required(t testing.TB, err error) {
	t.Helper()
	if err != nil && os.Getenv("RLT_REQUIRE_GPU") == "1" {
		t.Fatalf("RLT_REQUIRE_GPU=1 and no usable Vulkan device: %v", err)
	}
}
