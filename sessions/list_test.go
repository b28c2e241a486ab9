package sessions

import "testing"

// TestDeviceLabel: a run's device label names the backend and device, and
// which GPU of several ran.
func TestDeviceLabel(t *testing.T) {
	for _, c := range []struct{ event, want string }{
		{"cpu/avx512 (asked for)", "cpu/avx512"},
		{"vulkan/NVIDIA H200 (gpu:1, a discrete GPU; products on tensor cores)", "vulkan/NVIDIA H200 gpu:1"},
		{"vulkan/llvmpipe (LLVM 15.0.6, 256 bits) (gpu:0, asked for)", "vulkan/llvmpipe gpu:0"},
		{"vulkan/H200 (a discrete GPU; products on tensor cores)", "vulkan/H200"}, // a run from before gpu:N
		{"cpu/avx2", "cpu/avx2"},
	} {
		if got := DeviceLabel(c.event); got != c.want {
			t.Errorf("DeviceLabel(%q) = %q, want %q", c.event, got, c.want)
		}
	}
}
