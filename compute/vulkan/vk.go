package vulkan

import (
	"fmt"
	"unsafe"

	"github.com/ebitengine/purego"
)

// This file binds the Vulkan 1.0 compute entry points that the Device uses,
// over purego (dlopen, no cgo). The structs mirror vulkan_core.h for 64-bit
// targets; layout_test.go pins their sizes and field offsets to the values a
// C compiler gives for the same header.

// Dispatchable handles (instance, physical device, device, queue, command
// buffer) are pointers; non-dispatchable ones are 64-bit integers.
type (
	vkInstance       = uintptr
	vkPhysicalDevice = uintptr
	vkDevice         = uintptr
	vkQueue          = uintptr
	vkCommandBuffer  = uintptr
	vkHandle         = uint64
)

type vkResult int32

const (
	vkSuccess                 vkResult = 0
	vkNotReady                vkResult = 1
	vkTimeout                 vkResult = 2
	vkIncomplete              vkResult = 5
	vkErrOutOfHostMemory      vkResult = -1
	vkErrOutOfDeviceMemory    vkResult = -2
	vkErrInitializationFailed vkResult = -3
	vkErrDeviceLost           vkResult = -4
	vkErrMemoryMapFailed      vkResult = -5
	vkErrLayerNotPresent      vkResult = -6
	vkErrExtensionNotPresent  vkResult = -7
	vkErrFeatureNotPresent    vkResult = -8
	vkErrIncompatibleDriver   vkResult = -9
	vkErrTooManyObjects       vkResult = -10
	vkErrFragmentedPool       vkResult = -12
	vkErrUnknown              vkResult = -13
	vkErrOutOfPoolMemory      vkResult = -1000069000
	vkErrInvalidShaderNV      vkResult = -1000012000
)

func (r vkResult) String() string {
	switch r {
	case vkSuccess:
		return "VK_SUCCESS"
	case vkNotReady:
		return "VK_NOT_READY"
	case vkTimeout:
		return "VK_TIMEOUT"
	case vkIncomplete:
		return "VK_INCOMPLETE"
	case vkErrOutOfHostMemory:
		return "VK_ERROR_OUT_OF_HOST_MEMORY"
	case vkErrOutOfDeviceMemory:
		return "VK_ERROR_OUT_OF_DEVICE_MEMORY"
	case vkErrInitializationFailed:
		return "VK_ERROR_INITIALIZATION_FAILED"
	case vkErrDeviceLost:
		return "VK_ERROR_DEVICE_LOST"
	case vkErrMemoryMapFailed:
		return "VK_ERROR_MEMORY_MAP_FAILED"
	case vkErrLayerNotPresent:
		return "VK_ERROR_LAYER_NOT_PRESENT"
	case vkErrExtensionNotPresent:
		return "VK_ERROR_EXTENSION_NOT_PRESENT"
	case vkErrFeatureNotPresent:
		return "VK_ERROR_FEATURE_NOT_PRESENT"
	case vkErrIncompatibleDriver:
		return "VK_ERROR_INCOMPATIBLE_DRIVER"
	case vkErrTooManyObjects:
		return "VK_ERROR_TOO_MANY_OBJECTS"
	case vkErrFragmentedPool:
		return "VK_ERROR_FRAGMENTED_POOL"
	case vkErrUnknown:
		return "VK_ERROR_UNKNOWN"
	case vkErrOutOfPoolMemory:
		return "VK_ERROR_OUT_OF_POOL_MEMORY"
	case vkErrInvalidShaderNV:
		return "VK_ERROR_INVALID_SHADER_NV"
	}
	return fmt.Sprintf("VkResult(%d)", int32(r))
}

// Structure types (VkStructureType).
const (
	stApplicationInfo              = 0
	stInstanceCreateInfo           = 1
	stDeviceQueueCreateInfo        = 2
	stDeviceCreateInfo             = 3
	stSubmitInfo                   = 4
	stMemoryAllocateInfo           = 5
	stFenceCreateInfo              = 8
	stQueryPoolCreateInfo          = 11
	stBufferCreateInfo             = 12
	stShaderModuleCreateInfo       = 16
	stPipelineShaderStageCreate    = 18
	stComputePipelineCreateInfo    = 29
	stPipelineLayoutCreateInfo     = 30
	stDescriptorSetLayoutCreate    = 32
	stDescriptorPoolCreateInfo     = 33
	stDescriptorSetAllocateInfo    = 34
	stWriteDescriptorSet           = 35
	stCommandPoolCreateInfo        = 39
	stCommandBufferAllocateInfo    = 40
	stCommandBufferBeginInfo       = 42
	stMemoryBarrier                = 46
	physicalDevicePropertiesSize   = 824
	propDeviceType                 = 16
	propDeviceName                 = 20
	propLimits                     = 296
	limMaxStorageBufferRange       = 28
	limMaxPushConstantsSize        = 32
	limMaxMemoryAllocationCount    = 36
	limMaxComputeSharedMemorySize  = 216
	limMaxComputeWorkGroupCount    = 220
	limMaxComputeWorkGroupInvocat  = 232
	limMaxComputeWorkGroupSize     = 236
	limMinStorageBufferOffsetAlign = 328
	limMaxPerStageStorageBuffers   = 76
	limTimestampPeriod             = 424
)

// Query and descriptor-set-layout flags.
const (
	queryTypeTimestamp      = 2
	queryResult64           = 1 // VK_QUERY_RESULT_64_BIT
	queryResultWait         = 2 // VK_QUERY_RESULT_WAIT_BIT
	setLayoutPushDescriptor = 1 // VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR
)

// Flags and enums.
const (
	apiVersion12 = 1<<22 | 2<<12 // VK_MAKE_API_VERSION(0, 1, 2, 0)

	queueCompute = 0x2

	deviceTypeOther      = 0
	deviceTypeIntegrated = 1
	deviceTypeDiscrete   = 2
	deviceTypeVirtual    = 3
	deviceTypeCPU        = 4

	memDeviceLocal  = 0x1
	memHostVisible  = 0x2
	memHostCoherent = 0x4
	memHostCached   = 0x8
	heapDeviceLocal = 0x1

	bufTransferSrc = 0x1
	bufTransferDst = 0x2
	bufStorage     = 0x20

	descStorageBuffer  = 7
	stageCompute       = 0x20
	bindPointCompute   = 1
	cmdPoolResetBuffer = 0x2
	cmdOneTimeSubmit   = 0x1

	pipeStageCompute  = 0x800
	pipeStageTransfer = 0x1000
	pipeStageBottom   = 0x2000
	pipeStageHost     = 0x4000

	accessShaderRead    = 0x20
	accessShaderWrite   = 0x40
	accessTransferRead  = 0x800
	accessTransferWrite = 0x1000
	accessHostRead      = 0x2000
)

type applicationInfo struct {
	sType              uint32
	pNext              unsafe.Pointer
	pApplicationName   *byte
	applicationVersion uint32
	pEngineName        *byte
	engineVersion      uint32
	apiVersion         uint32
}

type instanceCreateInfo struct {
	sType                   uint32
	pNext                   unsafe.Pointer
	flags                   uint32
	pApplicationInfo        *applicationInfo
	enabledLayerCount       uint32
	ppEnabledLayerNames     unsafe.Pointer
	enabledExtensionCount   uint32
	ppEnabledExtensionNames unsafe.Pointer
}

type queueFamilyProperties struct {
	queueFlags                  uint32
	queueCount                  uint32
	timestampValidBits          uint32
	minImageTransferGranularity [3]uint32
}

type memoryType struct {
	propertyFlags uint32
	heapIndex     uint32
}

type memoryHeap struct {
	size  uint64
	flags uint32
}

type physicalDeviceMemoryProperties struct {
	memoryTypeCount uint32
	memoryTypes     [32]memoryType
	memoryHeapCount uint32
	memoryHeaps     [16]memoryHeap
}

// extensionProperties is VkExtensionProperties.
type extensionProperties struct {
	extensionName [256]byte
	specVersion   uint32
}

type deviceQueueCreateInfo struct {
	sType            uint32
	pNext            unsafe.Pointer
	flags            uint32
	queueFamilyIndex uint32
	queueCount       uint32
	pQueuePriorities *float32
}

type deviceCreateInfo struct {
	sType                   uint32
	pNext                   unsafe.Pointer
	flags                   uint32
	queueCreateInfoCount    uint32
	pQueueCreateInfos       *deviceQueueCreateInfo
	enabledLayerCount       uint32
	ppEnabledLayerNames     unsafe.Pointer
	enabledExtensionCount   uint32
	ppEnabledExtensionNames unsafe.Pointer
	pEnabledFeatures        unsafe.Pointer
}

type bufferCreateInfo struct {
	sType                 uint32
	pNext                 unsafe.Pointer
	flags                 uint32
	size                  uint64
	usage                 uint32
	sharingMode           uint32
	queueFamilyIndexCount uint32
	pQueueFamilyIndices   unsafe.Pointer
}

type memoryRequirements struct {
	size           uint64
	alignment      uint64
	memoryTypeBits uint32
}

type memoryAllocateInfo struct {
	sType           uint32
	pNext           unsafe.Pointer
	allocationSize  uint64
	memoryTypeIndex uint32
}

type shaderModuleCreateInfo struct {
	sType    uint32
	pNext    unsafe.Pointer
	flags    uint32
	codeSize uintptr
	pCode    unsafe.Pointer
}

type descriptorSetLayoutBinding struct {
	binding            uint32
	descriptorType     uint32
	descriptorCount    uint32
	stageFlags         uint32
	pImmutableSamplers unsafe.Pointer
}

type descriptorSetLayoutCreateInfo struct {
	sType        uint32
	pNext        unsafe.Pointer
	flags        uint32
	bindingCount uint32
	pBindings    *descriptorSetLayoutBinding
}

type pushConstantRange struct {
	stageFlags uint32
	offset     uint32
	size       uint32
}

type pipelineLayoutCreateInfo struct {
	sType                  uint32
	pNext                  unsafe.Pointer
	flags                  uint32
	setLayoutCount         uint32
	pSetLayouts            *vkHandle
	pushConstantRangeCount uint32
	pPushConstantRanges    *pushConstantRange
}

type pipelineShaderStageCreateInfo struct {
	sType               uint32
	pNext               unsafe.Pointer
	flags               uint32
	stage               uint32
	module              vkHandle
	pName               *byte
	pSpecializationInfo unsafe.Pointer
}

type computePipelineCreateInfo struct {
	sType              uint32
	pNext              unsafe.Pointer
	flags              uint32
	stage              pipelineShaderStageCreateInfo
	layout             vkHandle
	basePipelineHandle vkHandle
	basePipelineIndex  int32
}

type descriptorPoolSize struct {
	typ             uint32
	descriptorCount uint32
}

type descriptorPoolCreateInfo struct {
	sType         uint32
	pNext         unsafe.Pointer
	flags         uint32
	maxSets       uint32
	poolSizeCount uint32
	pPoolSizes    *descriptorPoolSize
}

type descriptorSetAllocateInfo struct {
	sType              uint32
	pNext              unsafe.Pointer
	descriptorPool     vkHandle
	descriptorSetCount uint32
	pSetLayouts        *vkHandle
}

type descriptorBufferInfo struct {
	buffer vkHandle
	offset uint64
	rng    uint64
}

type writeDescriptorSet struct {
	sType            uint32
	pNext            unsafe.Pointer
	dstSet           vkHandle
	dstBinding       uint32
	dstArrayElement  uint32
	descriptorCount  uint32
	descriptorType   uint32
	pImageInfo       unsafe.Pointer
	pBufferInfo      *descriptorBufferInfo
	pTexelBufferView unsafe.Pointer
}

type commandPoolCreateInfo struct {
	sType            uint32
	pNext            unsafe.Pointer
	flags            uint32
	queueFamilyIndex uint32
}

type commandBufferAllocateInfo struct {
	sType              uint32
	pNext              unsafe.Pointer
	commandPool        vkHandle
	level              uint32
	commandBufferCount uint32
}

type commandBufferBeginInfo struct {
	sType            uint32
	pNext            unsafe.Pointer
	flags            uint32
	pInheritanceInfo unsafe.Pointer
}

type bufferCopy struct {
	srcOffset uint64
	dstOffset uint64
	size      uint64
}

type memoryBarrier struct {
	sType         uint32
	pNext         unsafe.Pointer
	srcAccessMask uint32
	dstAccessMask uint32
}

type submitInfo struct {
	sType                uint32
	pNext                unsafe.Pointer
	waitSemaphoreCount   uint32
	pWaitSemaphores      unsafe.Pointer
	pWaitDstStageMask    unsafe.Pointer
	commandBufferCount   uint32
	pCommandBuffers      *vkCommandBuffer
	signalSemaphoreCount uint32
	pSignalSemaphores    unsafe.Pointer
}

type queryPoolCreateInfo struct {
	sType              uint32
	pNext              unsafe.Pointer
	flags              uint32
	queryType          uint32
	queryCount         uint32
	pipelineStatistics uint32
}

type fenceCreateInfo struct {
	sType uint32
	pNext unsafe.Pointer
	flags uint32
}

// api holds the loaded entry points. Pointer arguments are unsafe.Pointer so
// the Go values they point at stay alive across the call.
type api struct {
	createInstance                       func(info, alloc unsafe.Pointer, out *vkInstance) vkResult
	destroyInstance                      func(inst vkInstance, alloc unsafe.Pointer)
	enumeratePhysicalDevices             func(inst vkInstance, count *uint32, out *vkPhysicalDevice) vkResult
	getPhysicalDeviceProperties          func(pd vkPhysicalDevice, out unsafe.Pointer)
	getPhysicalDeviceMemoryProperties    func(pd vkPhysicalDevice, out unsafe.Pointer)
	getPhysicalDeviceQueueFamilyProperty func(pd vkPhysicalDevice, count *uint32, out unsafe.Pointer)
	enumerateDeviceExtensionProperties   func(pd vkPhysicalDevice, layer *byte, count *uint32, out unsafe.Pointer) vkResult
	createDevice                         func(pd vkPhysicalDevice, info, alloc unsafe.Pointer, out *vkDevice) vkResult
	destroyDevice                        func(dev vkDevice, alloc unsafe.Pointer)
	getDeviceQueue                       func(dev vkDevice, family, index uint32, out *vkQueue)
	deviceWaitIdle                       func(dev vkDevice) vkResult

	createBuffer               func(dev vkDevice, info, alloc unsafe.Pointer, out *vkHandle) vkResult
	destroyBuffer              func(dev vkDevice, buf vkHandle, alloc unsafe.Pointer)
	getBufferMemoryRequirement func(dev vkDevice, buf vkHandle, out unsafe.Pointer)
	allocateMemory             func(dev vkDevice, info, alloc unsafe.Pointer, out *vkHandle) vkResult
	freeMemory                 func(dev vkDevice, mem vkHandle, alloc unsafe.Pointer)
	bindBufferMemory           func(dev vkDevice, buf, mem vkHandle, offset uint64) vkResult
	mapMemory                  func(dev vkDevice, mem vkHandle, offset, size uint64, flags uint32, out *unsafe.Pointer) vkResult
	unmapMemory                func(dev vkDevice, mem vkHandle)

	createShaderModule         func(dev vkDevice, info, alloc unsafe.Pointer, out *vkHandle) vkResult
	destroyShaderModule        func(dev vkDevice, m vkHandle, alloc unsafe.Pointer)
	createDescriptorSetLayout  func(dev vkDevice, info, alloc unsafe.Pointer, out *vkHandle) vkResult
	destroyDescriptorSetLayout func(dev vkDevice, l vkHandle, alloc unsafe.Pointer)
	createPipelineLayout       func(dev vkDevice, info, alloc unsafe.Pointer, out *vkHandle) vkResult
	destroyPipelineLayout      func(dev vkDevice, l vkHandle, alloc unsafe.Pointer)
	createComputePipelines     func(dev vkDevice, cache vkHandle, count uint32, infos, alloc unsafe.Pointer, out *vkHandle) vkResult
	destroyPipeline            func(dev vkDevice, p vkHandle, alloc unsafe.Pointer)
	createDescriptorPool       func(dev vkDevice, info, alloc unsafe.Pointer, out *vkHandle) vkResult
	destroyDescriptorPool      func(dev vkDevice, p vkHandle, alloc unsafe.Pointer)
	resetDescriptorPool        func(dev vkDevice, p vkHandle, flags uint32) vkResult

	createCommandPool      func(dev vkDevice, info, alloc unsafe.Pointer, out *vkHandle) vkResult
	destroyCommandPool     func(dev vkDevice, p vkHandle, alloc unsafe.Pointer)
	resetCommandPool       func(dev vkDevice, p vkHandle, flags uint32) vkResult
	allocateCommandBuffers func(dev vkDevice, info unsafe.Pointer, out *vkCommandBuffer) vkResult
	beginCommandBuffer     func(cb vkCommandBuffer, info unsafe.Pointer) vkResult
	endCommandBuffer       func(cb vkCommandBuffer) vkResult
	cmdCopyBuffer          func(cb vkCommandBuffer, src, dst vkHandle, count uint32, regions unsafe.Pointer)
	cmdFillBuffer          func(cb vkCommandBuffer, dst vkHandle, offset, size uint64, data uint32)
	cmdPipelineBarrier     func(cb vkCommandBuffer, srcStage, dstStage, depFlags, memCount uint32, mem unsafe.Pointer, bufCount uint32, buf unsafe.Pointer, imgCount uint32, img unsafe.Pointer)

	// hot: the entry points called for every recorded dispatch (hot.go).
	hot hotAPI

	createFence   func(dev vkDevice, info, alloc unsafe.Pointer, out *vkHandle) vkResult
	destroyFence  func(dev vkDevice, f vkHandle, alloc unsafe.Pointer)
	resetFences   func(dev vkDevice, count uint32, fences *vkHandle) vkResult
	waitForFences func(dev vkDevice, count uint32, fences *vkHandle, waitAll uint32, timeout uint64) vkResult
	queueSubmit   func(q vkQueue, count uint32, submits unsafe.Pointer, fence vkHandle) vkResult

	getDeviceProcAddr   func(dev vkDevice, name *byte) uintptr
	getInstanceProcAddr func(inst vkInstance, name *byte) uintptr

	createQueryPool     func(dev vkDevice, info, alloc unsafe.Pointer, out *vkHandle) vkResult
	destroyQueryPool    func(dev vkDevice, pool vkHandle, alloc unsafe.Pointer)
	cmdResetQueryPool   func(cb vkCommandBuffer, pool vkHandle, first, count uint32)
	cmdWriteTimestamp   func(cb vkCommandBuffer, stage uint32, pool vkHandle, query uint32)
	getQueryPoolResults func(dev vkDevice, pool vkHandle, first, count uint32, size uintptr, data unsafe.Pointer, stride uint64, flags uint32) vkResult
}

// loadAPI opens the Vulkan loader and resolves every entry point above.
// The loader exports all Vulkan 1.0 core commands, so dlsym suffices.
func loadAPI() (*api, error) {
	lib, name, err := openLoader()
	if err != nil {
		return nil, err
	}
	a := &api{}
	syms := []struct {
		fn   any
		name string
	}{
		{&a.createInstance, "vkCreateInstance"},
		{&a.destroyInstance, "vkDestroyInstance"},
		{&a.enumeratePhysicalDevices, "vkEnumeratePhysicalDevices"},
		{&a.getPhysicalDeviceProperties, "vkGetPhysicalDeviceProperties"},
		{&a.getPhysicalDeviceMemoryProperties, "vkGetPhysicalDeviceMemoryProperties"},
		{&a.getPhysicalDeviceQueueFamilyProperty, "vkGetPhysicalDeviceQueueFamilyProperties"},
		{&a.enumerateDeviceExtensionProperties, "vkEnumerateDeviceExtensionProperties"},
		{&a.createDevice, "vkCreateDevice"},
		{&a.destroyDevice, "vkDestroyDevice"},
		{&a.getDeviceQueue, "vkGetDeviceQueue"},
		{&a.deviceWaitIdle, "vkDeviceWaitIdle"},
		{&a.createBuffer, "vkCreateBuffer"},
		{&a.destroyBuffer, "vkDestroyBuffer"},
		{&a.getBufferMemoryRequirement, "vkGetBufferMemoryRequirements"},
		{&a.allocateMemory, "vkAllocateMemory"},
		{&a.freeMemory, "vkFreeMemory"},
		{&a.bindBufferMemory, "vkBindBufferMemory"},
		{&a.mapMemory, "vkMapMemory"},
		{&a.unmapMemory, "vkUnmapMemory"},
		{&a.createShaderModule, "vkCreateShaderModule"},
		{&a.destroyShaderModule, "vkDestroyShaderModule"},
		{&a.createDescriptorSetLayout, "vkCreateDescriptorSetLayout"},
		{&a.destroyDescriptorSetLayout, "vkDestroyDescriptorSetLayout"},
		{&a.createPipelineLayout, "vkCreatePipelineLayout"},
		{&a.destroyPipelineLayout, "vkDestroyPipelineLayout"},
		{&a.createComputePipelines, "vkCreateComputePipelines"},
		{&a.destroyPipeline, "vkDestroyPipeline"},
		{&a.createDescriptorPool, "vkCreateDescriptorPool"},
		{&a.destroyDescriptorPool, "vkDestroyDescriptorPool"},
		{&a.resetDescriptorPool, "vkResetDescriptorPool"},
		{&a.createCommandPool, "vkCreateCommandPool"},
		{&a.destroyCommandPool, "vkDestroyCommandPool"},
		{&a.resetCommandPool, "vkResetCommandPool"},
		{&a.allocateCommandBuffers, "vkAllocateCommandBuffers"},
		{&a.beginCommandBuffer, "vkBeginCommandBuffer"},
		{&a.endCommandBuffer, "vkEndCommandBuffer"},
		{&a.cmdCopyBuffer, "vkCmdCopyBuffer"},
		{&a.cmdFillBuffer, "vkCmdFillBuffer"},
		{&a.cmdPipelineBarrier, "vkCmdPipelineBarrier"},
		{&a.createFence, "vkCreateFence"},
		{&a.destroyFence, "vkDestroyFence"},
		{&a.resetFences, "vkResetFences"},
		{&a.waitForFences, "vkWaitForFences"},
		{&a.queueSubmit, "vkQueueSubmit"},
		{&a.getDeviceProcAddr, "vkGetDeviceProcAddr"},
		{&a.getInstanceProcAddr, "vkGetInstanceProcAddr"},
		{&a.createQueryPool, "vkCreateQueryPool"},
		{&a.destroyQueryPool, "vkDestroyQueryPool"},
		{&a.cmdResetQueryPool, "vkCmdResetQueryPool"},
		{&a.cmdWriteTimestamp, "vkCmdWriteTimestamp"},
		{&a.getQueryPoolResults, "vkGetQueryPoolResults"},
	}
	for _, s := range syms {
		ptr, err := symbol(lib, s.name)
		if err != nil || ptr == 0 {
			return nil, fmt.Errorf("Vulkan loader %s lacks %s (is it older than Vulkan 1.0?): %v", name, s.name, err)
		}
		purego.RegisterFunc(s.fn, ptr)
	}
	for _, s := range a.hot.symbols() {
		ptr, err := symbol(lib, s.name)
		if err != nil || ptr == 0 {
			return nil, fmt.Errorf("Vulkan loader %s lacks %s (is it older than Vulkan 1.0?): %v", name, s.name, err)
		}
		*s.fn = ptr
	}
	return a, nil
}

// cString returns a NUL-terminated copy of s.
func cString(s string) *byte {
	b := make([]byte, len(s)+1)
	copy(b, s)
	return &b[0]
}
