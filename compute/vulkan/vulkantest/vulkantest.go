// Package vulkantest gives the tests of packages above compute a Vulkan
// backend (lavapipe in CI). A missing device skips a test, unless
// RLT_REQUIRE_GPU=1, under which it fails: the rule is
// backendtest.NeedDevice's, below compute/vulkan so its own tests share it.
package vulkantest

import (
	"testing"

	"github.com/rlt-workbench/rlt/compute/backendtest"
	"github.com/rlt-workbench/rlt/compute/vulkan"
)

// Backend opens the Vulkan backend for t and closes it when t ends; its
// fence waits give up before t's -timeout (backendtest.WaitDeadline).
func Backend(t testing.TB) *vulkan.Backend {
	t.Helper()
	d, err := vulkan.Open()
	backendtest.NeedDevice(t, err)
	d.SetWaitDeadline(backendtest.WaitDeadline(t))
	b := vulkan.NewBackend(d)
	t.Cleanup(b.Close)
	return b
}
