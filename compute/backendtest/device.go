package backendtest

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/compute"
)

// NeedDevice skips t where err (vulkan.Open's, vulkan.Probe's,
// device.MemoryOf's) says there is no usable Vulkan device, or fails it
// under RLT_REQUIRE_GPU=1 (DeviceRequired). It lives here, below
// compute/vulkan, so that the vulkan package's own tests and every package
// above it take the one rule.
func NeedDevice(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		DeviceRequired(t, err)
		t.Skipf("no usable Vulkan device (install libvulkan1 and mesa-vulkan-drivers for lavapipe; RLT_REQUIRE_GPU=1 makes this a failure): %v", err)
	}
}

// DeviceRequired fails t under RLT_REQUIRE_GPU=1 (CI's lavapipe job) where
// err says there is no usable Vulkan device: there a test that needs one
// must not pass by skipping, or by testing only the refusals of a machine
// with none. Without it the caller goes on (to test those refusals, or to
// skip).
func DeviceRequired(t testing.TB, err error) {
	t.Helper()
	if err != nil && os.Getenv("RLT_REQUIRE_GPU") == "1" {
		t.Fatalf("RLT_REQUIRE_GPU=1 and no usable Vulkan device: %v", err)
	}
}

// NeedCoopMat skips t where err (Device.SetMatmul(MatmulF16)'s, or a
// device's reason for running no float16 cooperative matrices) is
// compute.ErrNoMatmulF16, the device having no tensor-core products, or
// fails it under RLT_REQUIRE_COOPMAT=1: a run on a driver known to have
// them (lavapipe from Mesa 25.1 on, .ci/tensorcores.sh; an NVIDIA GPU,
// bench/gpu.sh) must not pass by skipping the products it was run to
// check. Any other error (kernels on cooperative matrices that failed to
// build, a lost device) fails t: a device that has them must run them.
func NeedCoopMat(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if !errors.Is(err, compute.ErrNoMatmulF16) {
		t.Fatalf("float16 products refused for another reason than a device without cooperative matrices: %v", err)
	}
	if os.Getenv("RLT_REQUIRE_COOPMAT") == "1" {
		t.Fatalf("RLT_REQUIRE_COOPMAT=1 and no float16 cooperative matrices: %v", err)
	}
	t.Skipf("no float16 cooperative matrices (RLT_REQUIRE_COOPMAT=1 makes this a failure): %v", err)
}

// WaitDeadline is when a Vulkan device's fence waits give up in t
// (vulkan's Device.SetWaitDeadline): go test's -timeout, less a tenth of
// the time left (30 s at most), so that a hung device fails the test on
// its error, which names the wait, before the test timeout's panic ends
// the binary. The zero time where t has no deadline (-timeout 0) or is no
// *testing.T.
func WaitDeadline(t testing.TB) time.Time {
	tt, ok := t.(interface{ Deadline() (time.Time, bool) })
	if !ok {
		return time.Time{}
	}
	dl, ok := tt.Deadline()
	if !ok {
		return time.Time{}
	}
	return dl.Add(-min(time.Until(dl)/10, 30*time.Second))
}
