// Package device picks the compute backend a command computes on: "cpu"
// (compute.NewCPU), "gpu" (the first Vulkan device by kind, a discrete
// GPU first, lavapipe's CPU device included), "gpu:N" (the Nth device the
// Vulkan loader lists, as vulkaninfo numbers them GPU0, GPU1, …: on a
// machine with several GPUs each run takes its own) or "auto" (a discrete
// GPU when one is present, else the CPU; lavapipe is never chosen
// automatically), and says why it took it as the run records it: an
// event.DeviceChoice. It sits in engine, above compute, for that: the
// workbench and the run folders, which link no compute, read the same
// type. Failures name the device and say to fall back to --device cpu.
package device

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/rlt-workbench/rlt/compute"
	"github.com/rlt-workbench/rlt/compute/vulkan"
	"github.com/rlt-workbench/rlt/engine/event"
)

// Choices are the accepted device names.
const (
	CPU  = "cpu"
	GPU  = "gpu"
	Auto = "auto"
)

// Check reports whether name is a device choice ("" means auto).
func Check(name string) error {
	_, _, err := parse(name)
	return err
}

// parse splits a device choice into its kind (CPU, GPU or Auto) and, for
// "gpu:N", the Vulkan device's index (vulkan.Ranked otherwise).
func parse(name string) (kind string, index int, err error) {
	switch name {
	case "", Auto:
		return Auto, vulkan.Ranked, nil
	case CPU, GPU:
		return name, vulkan.Ranked, nil
	}
	if n, ok := strings.CutPrefix(name, GPU+":"); ok {
		// Digits only: no sign, no spaces, no "0x".
		if i, err := strconv.Atoi(n); err == nil && strings.Trim(n, "0123456789") == "" && i < 1<<16 {
			return GPU, i, nil
		}
		return "", 0, fmt.Errorf("device %q: want gpu:N with N a Vulkan device's index (0 for the first; vulkaninfo --summary lists them as GPU0, GPU1, …)", name)
	}
	return "", 0, fmt.Errorf("device %q: want cpu, gpu, gpu:N or auto", name)
}

// The products' precision (config key matmul, --matmul): float32
// throughout (the default), or on a GPU with tensor cores float16
// operands, each row and column scaled by a power of two into float16's
// range, accumulating in float32 (vulkan.MatmulF16). A device without
// them computes in float32 and says so: a run asking for f16 still
// resumes on the CPU.
const (
	MatmulF32 = vulkan.MatmulF32
	MatmulF16 = vulkan.MatmulF16
)

// CheckMatmul reports whether m is a precision ("" means f32).
func CheckMatmul(m string) error {
	switch m {
	case "", MatmulF32, MatmulF16:
		return nil
	}
	return fmt.Errorf("matmul %q: want f32 or f16 (tensor cores, on a GPU that has them)", m)
}

// Open returns the backend name asks for, its products in the precision
// matmul asks for where the device has it, and the choice it made: for
// auto, which device it took and why (e.g. "no discrete GPU: llvmpipe is a
// CPU device"), and in what precision it multiplies when f16 was asked for.
func Open(name, matmul string) (compute.Backend, event.DeviceChoice, error) {
	if err := CheckMatmul(matmul); err != nil {
		return nil, event.DeviceChoice{}, err
	}
	be, c, err := open(name)
	if err != nil || matmul != MatmulF16 {
		return be, c, err
	}
	if ok, whyNot := TensorCores(be); !ok {
		c.Matmul = "products in float32, not f16: " + whyNot
		return be, c, nil
	}
	if err := be.(*vulkan.Backend).Device().SetMatmul(MatmulF16); err != nil { // built by TensorCores: not expected
		c.Matmul = "products in float32, not f16: " + err.Error()
		return be, c, nil
	}
	c.Matmul, c.F16 = "products on tensor cores (float16 operands, float32 sums)", true
	return be, c, nil
}

// TensorCores reports whether be can multiply under matmul f16, and if
// not why. A device that has cooperative matrices has its kernels on them
// built first (once; the products' precision is left as it was): a
// driver may refuse them, and until then whether it would is not known.
func TensorCores(be compute.Backend) (bool, string) {
	vb, ok := be.(*vulkan.Backend)
	if !ok {
		return false, "the CPU has no float16 tensor-core products"
	}
	d := vb.Device()
	if in := d.Info(); !in.MatmulF16 {
		return false, in.Name + " has no float16 tensor-core products (" + in.NoMatmulF16 + ")"
	}
	was := d.Matmul()
	if err := d.SetMatmul(MatmulF16); err != nil { // its kernels failed to build
		return false, err.Error()
	}
	if err := d.SetMatmul(was); err != nil {
		return false, err.Error()
	}
	return true, ""
}

func open(name string) (compute.Backend, event.DeviceChoice, error) {
	kind, index, err := parse(name)
	if err != nil {
		return nil, event.DeviceChoice{}, err
	}
	switch kind {
	case CPU:
		return cpuChoice("asked for")
	case GPU:
		d, err := vulkan.OpenAt(index)
		if err != nil {
			return nil, event.DeviceChoice{}, noGPU(name, err)
		}
		return gpuChoice(d, "asked for")
	}
	autoMu.Lock()
	defer autoMu.Unlock()
	if autoNoGPU != "" { // probed before in this process: opening costs a pipeline build
		return cpuChoice(autoNoGPU)
	}
	d, err := vulkan.Open()
	if errors.Is(err, vulkan.ErrSetting) { // a mistyped setting is no reason to fall back
		return nil, event.DeviceChoice{}, fmt.Errorf("device auto: %w", err)
	}
	if err != nil {
		autoNoGPU, autoNoLoader = noAutoGPU(vulkan.Info{}, err), errors.Is(err, vulkan.ErrNoLoader)
		return cpuChoice(autoNoGPU)
	}
	if why := noAutoGPU(d.Info(), nil); why != "" {
		d.Close()
		autoNoGPU, autoNoLoader = why, false
		return cpuChoice(autoNoGPU)
	}
	return gpuChoice(d, "a discrete GPU")
}

// noAutoGPU is why auto takes the CPU, given the device Open would pick
// (in) or the error that found none (err): "" where it is a discrete GPU.
// A device that was there and could not compute is said with what stopped
// it (the device, what it was doing, why: "llvmpipe (…): build kernel
// shortlist: needs 22024 bytes of shared memory, the device has 16384"),
// where the line said the kind alone ("no usable GPU (compute pipeline
// creation failed)"), which left the user to rerun with --device gpu to
// learn which kernel and which limit. A machine without a Vulkan loader,
// the CPU machine's usual case, says the kind alone: it names what to
// install.
func noAutoGPU(in vulkan.Info, err error) string {
	if err != nil {
		why := "no usable GPU"
		var ve *vulkan.Error
		if errors.As(err, &ve) {
			why += " (" + ve.Kind.Error() + ")"
			if !errors.Is(ve.Kind, vulkan.ErrNoLoader) {
				if ve.Device != "" {
					why += ": " + ve.Device
				}
				why += ": " + ve.Op
				if ve.Err != nil {
					why += ": " + ve.Err.Error()
				}
			}
		}
		return why
	}
	if in.Type != "discrete" {
		return fmt.Sprintf("no discrete GPU: %s is a %s device, which --device gpu uses", in.Name, in.Type) + passedOver(in)
	}
	return ""
}

// passedOver says the devices ranked before in and passed over because
// they cannot compute (vulkan.Info.PassedOver), for the device line: a
// discrete GPU left for lavapipe, or for the next GPU, is said with why.
func passedOver(in vulkan.Info) string {
	if len(in.PassedOver) == 0 {
		return ""
	}
	return "; passed over " + strings.Join(in.PassedOver, "; ")
}

func cpuChoice(why string) (compute.Backend, event.DeviceChoice, error) {
	be := compute.NewCPU()
	return be, event.DeviceChoice{Backend: be.Name(), Why: why}, nil
}

// gpuChoice names the Vulkan device as --device does (which of several GPUs
// a run took) and the fast kernels it could not build
// (vulkan.Info.Unavailable): it computes without them.
func gpuChoice(d *vulkan.Device, why string) (compute.Backend, event.DeviceChoice, error) {
	be := vulkan.NewBackend(d)
	in := d.Info()
	// Those its shared memory cannot hold were never tried: they were said
	// as failed builds (TestOpenSaysTheSharedMemory).
	var missing, short []string
	for _, u := range in.Unavailable {
		if u.SharedShort {
			short = append(short, u.Kernel)
		} else {
			missing = append(missing, u.Kernel)
		}
	}
	if len(missing) > 0 {
		why += "; without its fast kernels " + strings.Join(missing, ", ") + ", which it failed to build"
	}
	if len(short) > 0 {
		why += fmt.Sprintf("; without its fast kernels %s, which need more shared memory a workgroup than its %d bytes", strings.Join(short, ", "), in.MaxSharedMemory)
	}
	why += passedOver(in)
	return be, event.DeviceChoice{Backend: be.Name(), GPU: fmt.Sprintf("gpu:%d", in.Index), Why: why}, nil
}

// GPUs lists the Vulkan devices in the loader's order, as --device gpu:N
// numbers them; err says why none can compute, with whatever list there is.
func GPUs() ([]vulkan.Info, error) { return vulkan.Devices() }

// autoNoGPU remembers why auto took the CPU (or MemoryOf found it would),
// so that later runs in the process, and Open after MemoryOf, do not probe
// the GPU again; autoNoLoader, that it found no Vulkan loader, so that no
// driver was loaded either (Memory.Probed).
var (
	autoMu       sync.Mutex
	autoNoGPU    string
	autoNoLoader bool
)

// Close releases be's device, if it has one.
func Close(be compute.Backend) {
	if c, ok := be.(interface{ Close() }); ok {
		c.Close()
	}
}

// ResumeOnCPU ends Failed's text: what a run's fatal error says when the
// way on is to resume it on the CPU (rlt run --resume DIR --device cpu).
// Its words are event.ResumeOnCPU's, which sessions reads in the error
// records written before they carried a fault (event.FaultOf): the newer
// ones say a device's failure by their fault, not by these words.
const ResumeOnCPU = event.ResumeOnCPU

// Failed wraps a backend failure met while working (device lost, out of
// memory) with what to do about it: for a run, to resume it on the CPU.
func Failed(be compute.Backend, what string, err error) error {
	return FailedWith(be, what, err, ResumeOnCPU)
}

// FailedWith is Failed with wayOn as what to do (a command that is simply
// run again says so). The device's own advice to compute on the CPU (a
// vulkan.Error's text ends with it, once per time the error is quoted) is
// left out of the cause's text: wayOn says --device cpu, more exactly, and
// said twice or more it read as two different instructions. Likewise
// what failed and the device are said once: a cause wrapped on the way up
// often starts with what ("step 0: sampling: …"), and a device's own error
// names the device.
func FailedWith(be compute.Backend, what string, err error, wayOn string) error {
	cause := strings.ReplaceAll(err.Error(), "; "+vulkan.ComputeOnCPU, "")
	cause = strings.TrimPrefix(cause, what+": ")
	if ve := (*vulkan.Error)(nil); errors.As(err, &ve) && ve.Device != "" {
		return &failure{msg: fmt.Sprintf("%s: %s; %s", what, cause, wayOn), cause: err}
	}
	return &failure{msg: fmt.Sprintf("%s on %s: %s; %s", what, be.Name(), cause, wayOn), cause: err}
}

// failure is FailedWith's error: its own text, the cause kept for
// errors.Is and errors.As.
type failure struct {
	msg   string
	cause error
}

func (f *failure) Error() string { return f.msg }
func (f *failure) Unwrap() error { return f.cause }

// DeviceFailed marks it an event.DeviceFailure: a run's records say so
// (event.FaultOf), not only its words.
func (f *failure) DeviceFailed() {}

// Memory is where the backend Open would return keeps its tensors.
type Memory struct {
	GPU       string // the GPU's name; "" when the CPU computes, in host memory
	Bytes     uint64 // the GPU's memory (its largest device-local heap)
	HeadBytes int64  // the fused LM head's logits buffer there (vulkan.HeadBytes)
	// HeadForwardBytes is the head's logits where only forwards run and
	// no KL (vulkan.HeadForwardBytes): rlt score by the log-ratio or k3
	// estimator.
	HeadForwardBytes int64
	MaxBuffer        uint64 // the most bytes one tensor may hold there (one allocation; kernels bind it in windows)
	// Probed is set where the CPU computes after auto looked for a GPU:
	// the Vulkan driver the probe loaded (lavapipe's LLVM) stays resident
	// for the rest of the process, beside the work (memory.ProbeDriver).
	// Every command's estimate counts it from here, as a run's did alone:
	// rlt eval, distill, generate, logprobs, serve and score probed the
	// same way and left it out. Where the probe found no Vulkan loader
	// (no libvulkan: a host without Vulkan) it loaded no driver, and
	// nothing is counted.
	Probed bool
	info   vulkan.Info
}

// Scratch bounds the memory the GPU's ops take beside the tensors and the
// head's logits for a run of shapes runs, one for each model and kind of
// pass (vulkan.ScratchBytes): attention's buffers, split products'
// partials, the head's rows; the first run is required, as
// vulkan.ScratchBytes'. 0 on the CPU, whose scratch the host estimate's
// activations cover.
func (m Memory) Scratch(first vulkan.Shapes, more ...vulkan.Shapes) int64 {
	if m.GPU == "" {
		return 0
	}
	return vulkan.ScratchBytes(m.info, first, more...)
}

// MemoryOf says where Open(name) would compute, probing as Open chooses
// but opening nothing (no pipelines are built), so a run can be checked
// against the memory it will use before anything is made for it. A GPU
// asked for and not usable is Open's error.
func MemoryOf(name string) (Memory, error) {
	kind, index, err := parse(name)
	if err != nil {
		return Memory{}, err
	}
	switch kind {
	case CPU:
		return Memory{}, nil
	case GPU:
		in, err := vulkan.ProbeAt(index)
		if err != nil {
			return Memory{}, noGPU(name, err)
		}
		return memoryOn(in), nil
	}
	autoMu.Lock()
	defer autoMu.Unlock()
	if autoNoGPU != "" {
		return Memory{Probed: !autoNoLoader}, nil
	}
	in, err := vulkan.Probe()
	if errors.Is(err, vulkan.ErrSetting) { // Open refuses it too: no reason to fall back
		return Memory{}, fmt.Errorf("device auto: %w", err)
	}
	// Auto takes the CPU then, and Open, which a command calls next,
	// knows it without listing the devices again (and opening lavapipe,
	// its pipelines built, to find it no discrete GPU). The probe's
	// instance, kept for that Open, goes: it held the driver (lavapipe's,
	// LLVM) loaded for the rest of a process computing on the CPU.
	if why := noAutoGPU(in, err); why != "" {
		autoNoGPU, autoNoLoader = why, errors.Is(err, vulkan.ErrNoLoader)
		vulkan.ReleaseSpare()
		return Memory{Probed: !autoNoLoader}, nil
	}
	return memoryOn(in), nil
}

func memoryOn(in vulkan.Info) Memory {
	return Memory{GPU: in.Name, Bytes: in.DeviceLocalBytes, HeadBytes: vulkan.HeadBytes(in), HeadForwardBytes: vulkan.HeadForwardBytes(in), MaxBuffer: in.MaxAllocation, info: in}
}

// noGPU is --device gpu's (or gpu:N's) failure to find a usable GPU,
// with the way on (a vulkan.Error's text ends with it already).
func noGPU(name string, err error) error {
	if _, index, perr := parse(name); perr == nil && index >= 0 && errors.Is(err, vulkan.ErrNoDevice) {
		if gpus, _ := vulkan.Devices(); len(gpus) > 0 && index >= len(gpus) {
			return &noSuchGPU{name: name, gpus: gpus, cause: err}
		}
	}
	if ve := (*vulkan.Error)(nil); errors.As(err, &ve) {
		return fmt.Errorf("device %s: %w", name, err)
	}
	return fmt.Errorf("device %s: %w"+noGPUWayOn, name, err)
}

// noSuchGPU is --device gpu:N's refusal where the loader lists fewer
// devices: said plainly, with the devices there are and the way on (one of
// them, or the CPU). It was the loader's error as the backend words it
// ("vulkan (no device chosen): choose a device: no usable Vulkan device:
// there is no gpu:7; …"), which buried the point under how it was found.
type noSuchGPU struct {
	name  string
	gpus  []vulkan.Info
	cause error
}

// said is the refusal without its way on: what Unusable's callers say
// their own after.
func (e *noSuchGPU) said() string {
	here := make([]string, len(e.gpus))
	for i, g := range e.gpus {
		here[i] = fmt.Sprintf("gpu:%d %s (%s)", g.Index, g.Name, g.Type)
	}
	return fmt.Sprintf("device %s: there is no %s: this machine's Vulkan devices are %s", e.name, e.name, strings.Join(here, ", "))
}

func (e *noSuchGPU) Error() string {
	ids := make([]string, len(e.gpus))
	for i, g := range e.gpus {
		ids[i] = fmt.Sprintf("gpu:%d", g.Index)
	}
	on := "one of them"
	if len(ids) == 1 {
		on = "it"
	}
	return fmt.Sprintf("%s; give --device %s (device = %q in config.toml) to compute on %s, or --device cpu (device = \"cpu\") to compute on the CPU",
		e.said(), strings.Join(ids, " or "), ids[0], on)
}

func (e *noSuchGPU) Unwrap() error { return e.cause }

// noGPUWayOn ends noGPU's text for a cause that is not a vulkan.Error.
const noGPUWayOn = "; run with --device cpu (or device = \"cpu\" in config.toml) to compute on the CPU"

// Unusable is why Open(name) would find no device to compute on, probed
// as MemoryOf probes (nothing is opened, no pipeline built), or nil (err): a
// GPU asked for that is not there (gpu:N past the loader's list, no
// Vulkan driver) or not usable, and a Vulkan setting Open would refuse.
// The device's own advice to compute on the CPU is left out of the text,
// and cpu says whether the CPU is the way on: the caller says it in its
// own words (a resume: --device cpu), but not for a mistyped setting,
// whose way on is the setting. cpu and auto (which falls back to the
// CPU) are always usable.
func Unusable(name string) (cpu bool, err error) {
	if _, err = MemoryOf(name); err == nil {
		return false, nil
	}
	if errors.Is(err, vulkan.ErrSetting) {
		return false, err
	}
	if ns := (*noSuchGPU)(nil); errors.As(err, &ns) {
		return true, &failure{msg: ns.said(), cause: err}
	}
	msg := strings.ReplaceAll(err.Error(), "; "+vulkan.ComputeOnCPU, "")
	return true, &failure{msg: strings.TrimSuffix(msg, noGPUWayOn), cause: err}
}

// MemoryIn is MemoryOf for an open backend: the zero Memory for the CPU
// backend (host memory).
func MemoryIn(be compute.Backend) Memory {
	if v, ok := be.(*vulkan.Backend); ok {
		return memoryOn(v.Device().Info())
	}
	return Memory{}
}
