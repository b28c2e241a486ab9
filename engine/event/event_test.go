package event

import "testing"

func TestBufferKeepsOrder(t *testing.T) {
	var b Buffer
	b.Emit(Phase{Name: "sampling"})
	b.Emit(Metrics{Step: 1})
	ev := b.Events()
	if len(ev) != 2 || ev[0].(Phase).Name != "sampling" || ev[1].(Metrics).Step != 1 {
		t.Fatalf("events %#v", ev)
	}
	Discard{}.Emit(Phase{}) // must not panic
}

// TestDeviceChoiceWords: a device choice reads as the run prints it (every
// part present said once, in order) and labels as the header shows it, in
// full and, where the header has no room for that, in a word.
func TestDeviceChoiceWords(t *testing.T) {
	for _, c := range []struct {
		choice             DeviceChoice
		text, label, short string
	}{
		{DeviceChoice{Backend: "cpu/avx512", Why: "asked for"}, "cpu/avx512 (asked for)", "cpu/avx512", "cpu"},
		{DeviceChoice{Backend: "cpu/avx2"}, "cpu/avx2", "cpu/avx2", "cpu"},
		{DeviceChoice{Backend: "cpu/avx2", Matmul: "products in float32, not f16: the CPU has none"},
			"cpu/avx2 (products in float32, not f16: the CPU has none)", "cpu/avx2", "cpu"},
		{DeviceChoice{Backend: "vulkan/NVIDIA H200", GPU: "gpu:1", Why: "a discrete GPU", Matmul: "products on tensor cores (float16 operands, float32 sums)", F16: true},
			"vulkan/NVIDIA H200 (gpu:1, a discrete GPU; products on tensor cores (float16 operands, float32 sums))", "vulkan/NVIDIA H200 gpu:1 f16", "gpu:1 f16"},
		{DeviceChoice{Backend: "vulkan/NVIDIA H200", GPU: "gpu:0", Why: "asked for", Matmul: "products in float32, not f16: the driver failed to build gemmcm"},
			"vulkan/NVIDIA H200 (gpu:0, asked for; products in float32, not f16: the driver failed to build gemmcm)", "vulkan/NVIDIA H200 gpu:0", "gpu:0"},
		{DeviceChoice{Backend: "vulkan/llvmpipe (LLVM 15.0.6, 256 bits)", GPU: "gpu:0", Why: "asked for"},
			"vulkan/llvmpipe (LLVM 15.0.6, 256 bits) (gpu:0, asked for)", "vulkan/llvmpipe gpu:0", "gpu:0"},
		{DeviceChoice{}, "", "", ""}, // a run that recorded none
	} {
		if got := c.choice.String(); got != c.text {
			t.Errorf("%+v reads %q, want %q", c.choice, got, c.text)
		}
		if got := c.choice.Label(); got != c.label {
			t.Errorf("%+v labels %q, want %q", c.choice, got, c.label)
		}
		if got := c.choice.ShortLabel(); got != c.short {
			t.Errorf("%+v labels %q in short, want %q", c.choice, got, c.short)
		}
	}
}
