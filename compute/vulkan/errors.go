package vulkan

import (
	"errors"
	"fmt"
	"os"
)

// Kinds of failure, for errors.Is. Each Error carries one of them.
var (
	// ErrNoLoader: libvulkan could not be loaded.
	ErrNoLoader = errors.New("no Vulkan loader (install libvulkan1 and a Vulkan driver, e.g. mesa-vulkan-drivers)")
	// ErrNoDevice: the loader found no device with a compute queue, or
	// not the one asked for.
	ErrNoDevice = errors.New("no usable Vulkan device")
	// ErrOutOfMemory: the device (or host) could not hold an allocation.
	ErrOutOfMemory = errors.New("out of device memory")
	// ErrTooLarge: a tensor past what one allocation may hold, or a
	// kernel's operand past what one binding may span where the op takes
	// no windows (bindwindow.go).
	ErrTooLarge = errors.New("tensor too large for the device")
	// ErrPipeline: a shader module or compute pipeline could not be created.
	ErrPipeline = errors.New("compute pipeline creation failed")
	// ErrDeviceLost: the device stopped answering (driver reset, hang, removal).
	ErrDeviceLost = errors.New("device lost")
	// ErrVulkan: any other failing Vulkan call.
	ErrVulkan = errors.New("Vulkan call failed")
	// ErrSetting: an environment variable of the backend has a value it
	// does not know.
	ErrSetting = errors.New("bad environment setting")
)

// Error is a failure of the Vulkan backend: which device, what it was doing,
// and the underlying cause. Its text ends with what to do about it: for a
// bad setting, the value to use; else to compute on the CPU.
type Error struct {
	Kind   error  // one of the Err… kinds above
	Device string // the device's name, empty before one is chosen
	Op     string // what the backend was doing
	Err    error  // the cause, if any beyond Kind
}

func (e *Error) Error() string {
	dev := e.Device
	if dev == "" {
		dev = "no device chosen"
	}
	msg := fmt.Sprintf("vulkan (%s): %s: %v", dev, e.Op, e.Kind)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Kind == ErrSetting { // the cause says what to set instead; the CPU is no remedy
		return msg
	}
	return msg + "; " + ComputeOnCPU
}

// ComputeOnCPU ends an Error's text: the way on from a failed device.
// Callers that say a more exact one (resume the run, run the command
// again) drop it, so that --device cpu is said once.
const ComputeOnCPU = "compute on the CPU instead (--device cpu)"

// Unwrap lets errors.Is match both the kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// resultError turns a failing VkResult into an Error of the matching kind.
func resultError(device, op string, r vkResult) error {
	kind := ErrVulkan
	switch r {
	case vkErrOutOfDeviceMemory, vkErrOutOfHostMemory, vkErrTooManyObjects:
		kind = ErrOutOfMemory
	case vkErrDeviceLost:
		kind = ErrDeviceLost
	case vkErrInvalidShaderNV:
		kind = ErrPipeline
	}
	return &Error{Kind: kind, Device: device, Op: op, Err: errors.New(r.String())}
}

// loaderError is openLoader's failure: with RLT_VULKAN_LOADER set, the
// library it names failed, and the error says so.
func loaderError(err error) error {
	if p := os.Getenv("RLT_VULKAN_LOADER"); p != "" {
		err = fmt.Errorf("RLT_VULKAN_LOADER=%s: %w (unset it for the system's loader)", p, err)
	}
	return &Error{Kind: ErrNoLoader, Op: "load the Vulkan loader", Err: err}
}
