// Package vulkantest gives the tests of packages above compute a Vulkan
// backend (lavapipe in CI). A missing device skips a test, unless
// RLT_REQUIRE_GPU=1, under which it fails: the rule is
// backendtest.NeedDevice's, below compute/vulkan so its own tests share it.
// NeedMatmul judges a device's refusal of a precision of products:
// float16's as backendtest.NeedCoopMat does, any other's a failure.
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

// NeedMatmul goes on where err, Device.SetMatmul(precision)'s, is nil.
// A refusal of MatmulF16 is backendtest.NeedCoopMat's to judge (a skip on
// a device without float16 cooperative matrices, unless
// RLT_REQUIRE_COOPMAT=1); a refusal of any other precision fails t,
// naming the precision asked for: float32 products are every device's, so
// their refusal is a failure, never a skip, and no device's lack of
// tensor cores.
func NeedMatmul(t testing.TB, precision string, err error) {
	t.Helper()
	switch {
	case err == nil:
	case precision == vulkan.MatmulF16:
		backendtest.NeedCoopMat(t, err)
	case precision == vulkan.MatmulF32:
		t.Fatalf("float32 products (matmul %s) refused: %v", precision, err)
	default:
		t.Fatalf("matmul %q refused: %v", precision, err)
	}
}
