package vulkan

import (
	"testing"
	"unsafe"
)

// TestStructLayouts pins the Go mirrors of Vulkan's structs to the sizes and
// offsets gcc gives for vulkan_core.h (1.3.239) on 64-bit Linux: a drifted
// field would hand the driver garbage.
func TestStructLayouts(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the binding targets 64-bit platforms")
	}
	cases := []struct {
		name      string
		got, want uintptr
	}{
		{"VkApplicationInfo", unsafe.Sizeof(applicationInfo{}), 48},
		{"VkInstanceCreateInfo", unsafe.Sizeof(instanceCreateInfo{}), 64},
		{"VkQueueFamilyProperties", unsafe.Sizeof(queueFamilyProperties{}), 24},
		{"VkPhysicalDeviceMemoryProperties", unsafe.Sizeof(physicalDeviceMemoryProperties{}), 520},
		{"VkPhysicalDeviceMemoryProperties.memoryHeaps", unsafe.Offsetof(physicalDeviceMemoryProperties{}.memoryHeaps), 264},
		{"VkDeviceQueueCreateInfo", unsafe.Sizeof(deviceQueueCreateInfo{}), 40},
		{"VkDeviceCreateInfo", unsafe.Sizeof(deviceCreateInfo{}), 72},
		{"VkDeviceCreateInfo.pEnabledFeatures", unsafe.Offsetof(deviceCreateInfo{}.pEnabledFeatures), 64},
		{"VkBufferCreateInfo", unsafe.Sizeof(bufferCreateInfo{}), 56},
		{"VkBufferCreateInfo.size", unsafe.Offsetof(bufferCreateInfo{}.size), 24},
		{"VkBufferCreateInfo.pQueueFamilyIndices", unsafe.Offsetof(bufferCreateInfo{}.pQueueFamilyIndices), 48},
		{"VkMemoryRequirements", unsafe.Sizeof(memoryRequirements{}), 24},
		{"VkMemoryAllocateInfo", unsafe.Sizeof(memoryAllocateInfo{}), 32},
		{"VkShaderModuleCreateInfo", unsafe.Sizeof(shaderModuleCreateInfo{}), 40},
		{"VkDescriptorSetLayoutBinding", unsafe.Sizeof(descriptorSetLayoutBinding{}), 24},
		{"VkDescriptorSetLayoutCreateInfo", unsafe.Sizeof(descriptorSetLayoutCreateInfo{}), 32},
		{"VkPushConstantRange", unsafe.Sizeof(pushConstantRange{}), 12},
		{"VkPipelineLayoutCreateInfo", unsafe.Sizeof(pipelineLayoutCreateInfo{}), 48},
		{"VkPipelineLayoutCreateInfo.pPushConstantRanges", unsafe.Offsetof(pipelineLayoutCreateInfo{}.pPushConstantRanges), 40},
		{"VkPipelineShaderStageCreateInfo", unsafe.Sizeof(pipelineShaderStageCreateInfo{}), 48},
		{"VkComputePipelineCreateInfo", unsafe.Sizeof(computePipelineCreateInfo{}), 96},
		{"VkComputePipelineCreateInfo.layout", unsafe.Offsetof(computePipelineCreateInfo{}.layout), 72},
		{"VkComputePipelineCreateInfo.basePipelineIndex", unsafe.Offsetof(computePipelineCreateInfo{}.basePipelineIndex), 88},
		{"VkDescriptorPoolSize", unsafe.Sizeof(descriptorPoolSize{}), 8},
		{"VkDescriptorPoolCreateInfo", unsafe.Sizeof(descriptorPoolCreateInfo{}), 40},
		{"VkDescriptorSetAllocateInfo", unsafe.Sizeof(descriptorSetAllocateInfo{}), 40},
		{"VkDescriptorBufferInfo", unsafe.Sizeof(descriptorBufferInfo{}), 24},
		{"VkWriteDescriptorSet", unsafe.Sizeof(writeDescriptorSet{}), 64},
		{"VkWriteDescriptorSet.pBufferInfo", unsafe.Offsetof(writeDescriptorSet{}.pBufferInfo), 48},
		{"VkCommandPoolCreateInfo", unsafe.Sizeof(commandPoolCreateInfo{}), 24},
		{"VkCommandBufferAllocateInfo", unsafe.Sizeof(commandBufferAllocateInfo{}), 32},
		{"VkCommandBufferBeginInfo", unsafe.Sizeof(commandBufferBeginInfo{}), 32},
		{"VkBufferCopy", unsafe.Sizeof(bufferCopy{}), 24},
		{"VkMemoryBarrier", unsafe.Sizeof(memoryBarrier{}), 24},
		{"VkSubmitInfo", unsafe.Sizeof(submitInfo{}), 72},
		{"VkSubmitInfo.pCommandBuffers", unsafe.Offsetof(submitInfo{}.pCommandBuffers), 48},
		{"VkFenceCreateInfo", unsafe.Sizeof(fenceCreateInfo{}), 24},
		{"VkExtensionProperties", unsafe.Sizeof(extensionProperties{}), 260},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: Go layout gives %d, C gives %d", c.name, c.got, c.want)
		}
	}
}
