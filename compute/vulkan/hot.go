package vulkan

import (
	"unsafe"

	"github.com/ebitengine/purego"
)

// hotAPI holds the entry points called for every recorded dispatch, called
// through purego.SyscallN rather than functions made by RegisterFunc, which
// go through reflection: recording a dispatch on lavapipe took 3.6–4.4 µs
// and 30 allocations that way, 2.2 µs and 4 this way (BenchmarkRecord).
// SyscallN moves whatever its pointer arguments point at to the heap
// (go:uintptrescapes), so callers pass pointers into the Device's
// recording scratch (Device.rec), which is there already.
type hotAPI struct {
	allocateDescriptorSets, updateDescriptorSets             uintptr
	cmdBindPipeline, cmdBindDescriptorSets, cmdPushConstants uintptr
	cmdDispatch, cmdPipelineBarrier                          uintptr
	cmdPushDescriptorSet                                     uintptr // VK_KHR_push_descriptor's, 0 when absent
}

// symbols lists the loader exports behind the fields (all but the push
// descriptor's, which comes from vkGetDeviceProcAddr).
func (h *hotAPI) symbols() []struct {
	fn   *uintptr
	name string
} {
	return []struct {
		fn   *uintptr
		name string
	}{
		{&h.allocateDescriptorSets, "vkAllocateDescriptorSets"},
		{&h.updateDescriptorSets, "vkUpdateDescriptorSets"},
		{&h.cmdBindPipeline, "vkCmdBindPipeline"},
		{&h.cmdBindDescriptorSets, "vkCmdBindDescriptorSets"},
		{&h.cmdPushConstants, "vkCmdPushConstants"},
		{&h.cmdDispatch, "vkCmdDispatch"},
		{&h.cmdPipelineBarrier, "vkCmdPipelineBarrier"},
	}
}

func (a *api) allocateDescriptorSets(dev vkDevice, info unsafe.Pointer, out *vkHandle) vkResult {
	r, _, _ := purego.SyscallN(a.hot.allocateDescriptorSets, uintptr(dev), uintptr(info), uintptr(unsafe.Pointer(out)))
	return vkResult(int32(r))
}

func (a *api) updateDescriptorSets(dev vkDevice, writeCount uint32, writes unsafe.Pointer) {
	purego.SyscallN(a.hot.updateDescriptorSets, uintptr(dev), uintptr(writeCount), uintptr(writes), 0, 0)
}

func (a *api) cmdBindPipeline(cb vkCommandBuffer, bindPoint uint32, p vkHandle) {
	purego.SyscallN(a.hot.cmdBindPipeline, uintptr(cb), uintptr(bindPoint), uintptr(p))
}

func (a *api) cmdBindDescriptorSets(cb vkCommandBuffer, bindPoint uint32, layout vkHandle, first, count uint32, sets unsafe.Pointer) {
	purego.SyscallN(a.hot.cmdBindDescriptorSets, uintptr(cb), uintptr(bindPoint), uintptr(layout), uintptr(first), uintptr(count), uintptr(sets), 0, 0)
}

func (a *api) cmdPushConstants(cb vkCommandBuffer, layout vkHandle, stages, offset, size uint32, values unsafe.Pointer) {
	purego.SyscallN(a.hot.cmdPushConstants, uintptr(cb), uintptr(layout), uintptr(stages), uintptr(offset), uintptr(size), uintptr(values))
}

func (a *api) cmdDispatch(cb vkCommandBuffer, x, y, z uint32) {
	purego.SyscallN(a.hot.cmdDispatch, uintptr(cb), uintptr(x), uintptr(y), uintptr(z))
}

// cmdMemoryBarrier records vkCmdPipelineBarrier with one memory barrier.
func (a *api) cmdMemoryBarrier(cb vkCommandBuffer, srcStage, dstStage uint32, mb unsafe.Pointer) {
	purego.SyscallN(a.hot.cmdPipelineBarrier, uintptr(cb), uintptr(srcStage), uintptr(dstStage), 0, 1, uintptr(mb), 0, 0, 0, 0)
}

func (a *api) cmdPushDescriptorSet(cb vkCommandBuffer, bindPoint uint32, layout vkHandle, set, count uint32, writes unsafe.Pointer) {
	purego.SyscallN(a.hot.cmdPushDescriptorSet, uintptr(cb), uintptr(bindPoint), uintptr(layout), uintptr(set), uintptr(count), uintptr(writes))
}

// recording is the Device's scratch for one dispatch's call arguments: on
// the heap with the Device, so passing pointers into it to SyscallN
// allocates nothing.
type recording struct {
	infos   [maxBindings]descriptorBufferInfo
	writes  [maxBindings]writeDescriptorSet
	push    [32]uint32 // push constants, copied in (at most 128 bytes)
	barrier memoryBarrier
	alloc   descriptorSetAllocateInfo
	layout  vkHandle
	set     vkHandle
}
