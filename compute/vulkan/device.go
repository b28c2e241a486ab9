package vulkan

import (
	"embed"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"
)

//go:generate sh shaders/build.sh

//go:embed shaders/*.spv
var spirv embed.FS

// Info describes the chosen device and the limits the backend respects.
type Info struct {
	Name string
	// Index is the device's place in the loader's list, as vulkaninfo
	// numbers its GPU0, GPU1, …: OpenAt(Index) opens it (--device gpu:Index).
	Index      int
	Type       string // discrete, integrated, virtual, cpu, other
	APIVersion string
	Driver     string // the driver's version, decoded as its vendor numbers it
	VendorID   uint32 // PCI vendor: 0x10de NVIDIA, 0x1002 AMD, 0x8086 Intel, 0x10005 Mesa
	// MaxStorageBufferRange is the most bytes one operand of a kernel may
	// span (maxStorageBufferRange, or less under RLT_VULKAN_MAX_BINDING):
	// a larger tensor is bound a window at a time (bindwindow.go).
	MaxStorageBufferRange uint64
	// MaxAllocation is the most bytes one tensor may hold
	// (maxMemoryAllocationSize: each tensor is its own allocation).
	MaxAllocation       uint64
	MaxSharedMemory     uint32 // bytes of shared memory per workgroup
	MaxInvocations      uint32 // invocations per workgroup
	MaxWorkGroupCount   [3]uint32
	MaxPushConstants    uint32
	MaxAllocations      uint32
	MaxStorageBuffers   uint32 // storage buffers one shader stage may bind
	MinStorageAlignment uint64 // minStorageBufferOffsetAlignment
	DeviceLocalBytes    uint64 // size of the largest device-local heap
	// CooperativeMatrix reports VK_KHR_cooperative_matrix (tensor cores on
	// NVIDIA).
	CooperativeMatrix bool
	// MatmulF16 says the device runs gemmcm: products on CoopSize-sided
	// float16 cooperative matrices accumulating float32 (SetMatmul("f16")),
	// and NoMatmulF16 why not when it does not.
	MatmulF16   bool
	NoMatmulF16 string
	// SubgroupSize is the invocations of a subgroup (32 on NVIDIA).
	SubgroupSize uint32
	// CoopSize is the side of gemmcm's matrices, 16 or 8 (MatmulF16 only).
	CoopSize uint32
	// Unavailable lists the optional kernels (optionalKernels) the device
	// does not run, each with why; the products take plain kernels
	// instead.
	Unavailable []KernelLeftOut
	// PassedOver says each device ranked before this one and passed over
	// because it cannot compute (pick): it has no compute queue ("gpu:0
	// NAME (integrated) has no compute queue") or cannot hold a kernel
	// without a fallback ("gpu:0 NAME (discrete) cannot build kernel K:
	// needs N bytes of shared memory, the device has M"). Empty for a
	// device asked for by index.
	PassedOver []string
	// PushDescriptors: operands are pushed per dispatch
	// (VK_KHR_push_descriptor, one call) rather than allocated, written and
	// bound as a descriptor set (three); RLT_VULKAN_PUSH_DESCRIPTORS=0
	// turns it off.
	PushDescriptors bool
	// attnRows is, for each of attention's tile sets, whether its head
	// dimensions take the row kernels whatever the shape (attnRowsBySet),
	// for ScratchBytes, which bounds attention's scratch by the kernels
	// that run (attnOnRows). A probe builds no kernel: it knows
	// RLT_VULKAN_ATTN and whether the float32 tiles fit the device's
	// shared memory (attnTilesFit), and counts those that fit as built,
	// as every driver tried has built them (lavapipe; an NVIDIA H200's).
	// attnEither marks a set whose float32 tiles do not fit on a device
	// with cooperative matrices: under matmul f16 its tiles on them may
	// run (their scratch the float32 tiles'), which a probe cannot tell,
	// so ScratchBytes counts both kernels'.
	attnRows, attnEither [2]bool
}

// buffer is one VkBuffer bound to its own memory allocation.
type buffer struct {
	buf, mem vkHandle
	size     uint64
	mapped   unsafe.Pointer // host-visible buffers only
	local    bool           // in device-local memory: counted in Device.MemoryUse
	// backend: a Backend's tensor, its size in Device.backendBytes until
	// it is freed (by its finalizer or Device.Free, whichever comes first).
	backend bool
	// nextDead links a Backend's dead list (Backend.bury), under its mutex.
	nextDead *buffer
	// usedIn is Device.done+1 when the last command on the buffer was
	// recorded: it is done once done reaches it (release).
	usedIn uint64
}

// binding is a range of a buffer bound to one descriptor.
type binding struct {
	b         *buffer
	off, size uint64
}

// Limits on one batch before it is submitted on its own.
const (
	setsPerBatch = 512
	maxBindings  = 11 // gemv3: three outputs, the input, three weights, three biases, a norm
	uploadArena  = 16 << 20
	groupSize    = 256
	maxGroupsX   = 65535
)

// A batch's fence wait gives up after waitLimit (RLT_VULKAN_FENCE_TIMEOUT
// sets another), or at the wait deadline (SetWaitDeadline: a test's
// -timeout), and the device is then hung (Device.hung). A batch is at most
// setsPerBatch dispatches, about a forward or backward pass. On a GPU the
// limit is 10 min, where a hang is said late but a healthy batch is never
// taken for one: the float32 kernels measured 3.3 TFLOP/s on an H200
// (docs/gpu.md: the 0.5B backward, ~8 TFLOP in 2.5 s), so a 7B backward
// of 8,192 tokens (~230 TFLOP) is ~70 s if one batch holds it, and twice
// the tokens (a long prefill, a larger micro-batch) past 2 min; a false
// hang ends the run with a device that cannot be used again
// (TestGPUWaitLimitHoldsA7BPass). A CPU device (lavapipe) runs a batch
// thousands of times slower: TestDeviceParityRealLayer's batches took
// 5 min 31 s and past 600 s at load 19 to 30 on 2 cores, failing a test
// that was right, so cpuWaitLimit is 30 min; a test meets its own
// deadline first, which its helpers pass as the wait deadline.
const (
	gpuWaitLimit = 10 * time.Minute
	cpuWaitLimit = 30 * time.Minute
)

// hungMemory ends the error of a batch that gave no answer (Flush): Close
// then frees nothing the GPU may still use, so the user learns that the
// device's memory stays taken until the process ends (a workbench left
// open holds it).
const hungMemory = "the GPU may still be running it, so its memory is freed only when this process exits"

// KernelLeftOut is an optional kernel the device does not run
// (Info.Unavailable): its name and why, and whether it was not built at all
// because the device's shared memory a workgroup cannot hold it.
type KernelLeftOut struct {
	Kernel string
	Why    string
	// SharedShort: MaxSharedMemory cannot hold it (kernelFits), so it
	// was never tried: engine/device says so, where it said the driver
	// failed to build it.
	SharedShort bool
}

// String is "kernel: why", as a log or an error quotes it.
func (k KernelLeftOut) String() string { return k.Kernel + ": " + k.Why }

// Device is a Vulkan device with its compute queue, pipelines and the
// command buffer that ops are recorded into. Ops record commands and return;
// the batch is submitted, with one fence, when the host needs a result
// (Read, Flush) or the batch's descriptor or staging space runs out.
//
// A Device is used by one goroutine at a time. A failing Vulkan call makes
// the Device's error sticky: later Reads and Flushes return it.
type Device struct {
	vk       *api
	instance vkInstance
	phys     vkPhysicalDevice
	dev      vkDevice
	queue    vkQueue
	family   uint32
	info     Info
	mem      physicalDeviceMemoryProperties
	// devices describes every device the loader listed, in its order
	// (choose; Devices).
	devices []Info

	cmdPool vkHandle
	// cmd is the command buffer being recorded, cmds[cmdAt]: a batch
	// records into cmds in turn, each but the last submitted without a
	// fence as it fills (kick), so the GPU runs the start of a batch while
	// the host records the rest. The batch's fence, on the last, follows
	// them all in submission order; the pool resets them together.
	cmd   vkCommandBuffer
	cmds  []vkCommandBuffer
	cmdAt int
	// kickAfter is how many dispatches open a batch before its first kick
	// (0: never); each later kick waits for twice as many as the one
	// before, so a batch of n dispatches costs about log₂(n/kickAfter)
	// submissions. Set on GPUs; a CPU device (lavapipe) runs the
	// submissions on the cores the host records on.
	kickAfter, kickAt, sinceKick int
	kicks                        int
	fence                        vkHandle
	descPool                     vkHandle
	setsUsed                     int
	recording                    bool
	// haz is what the commands since the last barrier read and wrote;
	// allBarriers (RLT_VULKAN_BARRIERS=all) puts one after every command.
	haz         hazards
	allBarriers bool
	// bound is the pipeline bound in the open batch, so repeats of a
	// kernel skip the bind.
	bound   vkHandle
	submits int
	// done counts the waits after which every command recorded before
	// is done (a batch's fence, a drain's); drains counts the drains
	// (release, tests).
	done   uint64
	drains int
	// loseAfter, when not 0, is the batch whose fence reports the device
	// lost (RLT_VULKAN_LOSE_AFTER at Open): how a run meets a GPU that
	// fails mid-run, testable on any device.
	loseAfter int
	// hung: a batch's fence gave no answer within waitLimit (Flush, drain),
	// so the GPU may still be running it: Close neither waits for it
	// again (vkDeviceWaitIdle has no timeout) nor frees what it may still
	// read or write. hangAfter, in tests, makes the Nth batch's wait time
	// out, as loseAfter makes it report the device lost.
	hung      bool
	hangAfter int
	// waitLimit is how long a fence wait waits (gpuWaitLimit,
	// cpuWaitLimit, or RLT_VULKAN_FENCE_TIMEOUT's), waitDeadline when
	// every wait gives up at the latest (SetWaitDeadline; zero: none).
	waitLimit    time.Duration
	waitDeadline time.Time

	kernels [numKernels]kernel
	up      *buffer // host-visible arena for uploads, reset per batch
	upUsed  uint64
	down    *buffer // host-visible buffer for reads
	dummy   *buffer // bound where a kernel's optional operand is absent
	// scratchBufs are the scratch slots (scratchIDs…): results on their way
	// to the host and intermediates of one op.
	scratchBufs [numScratch]*buffer
	// splitTarget is the workgroups a GEMM should fill before it splits K
	// (0: never, as on a CPU device, where more workgroups buy nothing),
	// splitMinK the shortest slice of K (see splitK).
	splitTarget uint32
	splitMinK   uint32
	// gemvMaxRows: products x·wᵀ of at most this many rows run as gemv
	// (a few tokens decoded), not as 64-row tiles.
	gemvMaxRows uint32
	// groupKeys and groupCSR are ScatterRowsBackward's host scratch,
	// reused so that grouping the rows by id allocates only as they grow.
	groupKeys []uint64
	groupCSR  []int32
	// sumParts is SumSquaresEach's host copy of the partial sums.
	sumParts []float32
	// drawn is DrawTokens' host copy of the ids and log-probabilities;
	// listed is Shortlist's of its rows.
	drawn, listed []uint32
	// held is the device-local memory of the live buffers, peak the most
	// since MemoryUse last read it.
	held, peak uint64
	// gemmForce, when not 0, is the output tile (64: gemm, 128: gemm128)
	// of every product that is not a gemv, instead of gemmTileFor's
	// choice: RLT_VULKAN_GEMM at Open, for A/B timing; tests.
	gemmForce uint32
	// attn chooses the kernels of training attention and prefills
	// (attnPath): RLT_VULKAN_ATTN at Open, for A/B timing; tests.
	attn attnPath
	// noFuse keeps decoding off its fused kernels (gemv3 for the input norm
	// and q, k and v; gemv_glu for the post-attention norm and the gated
	// MLP; rope_cache for the rotations and the cache write), on rmsnorm,
	// gemv, swiglu, rope and cachewrite: RLT_VULKAN_FUSE=0 at Open, for A/B
	// timing.
	noFuse bool
	// matmul16 routes products of more than gemvMaxRows rows to gemmcm
	// (SetMatmul); coopLanes is the largest subgroup size, gemmcm's
	// workgroups being whole subgroups of it. coopBig is the kernel of its
	// 128×128 tiles with a float32 B (coopShapes: RLT_VULKAN_GEMMCM at
	// Open; tests).
	matmul16  bool
	coopLanes uint32
	coopBig   kernelID
	// window is the most bytes an op binds of a tensor it windows
	// (bindwindow.go): Info.MaxStorageBufferRange; tests lower it alone, so
	// that small shapes are windowed and no other kernel is refused.
	window uint64
	// coopShape is the 128×128 tile RLT_VULKAN_GEMMCM chose; coopBuilt,
	// whether the kernels on cooperative matrices have been built (the
	// first SetMatmul(f16) builds them: buildCoop), and coopErr why that
	// failed.
	coopShape kernelID
	coopBuilt bool
	coopErr   error
	// coopFixedLanes: the device runs subgroups of coopLanes invocations
	// only (its smallest subgroup size is its largest), as attention's
	// kernels on cooperative matrices need.
	coopFixedLanes bool
	garbage        []*buffer
	// tensors holds the buffers of live tensors, released by Close if the
	// caller has not freed them.
	tensors map[*buffer]struct{}
	// backendBytes is the memory of the live tensors a Backend made
	// (Backend.HeldBytes, and what its memory limit caps). The Device keeps
	// it, not the Backend, so that every way a tensor goes (Free, the
	// Backend's finalizers, Close) takes it off the count in one place:
	// forget.
	backendBytes uint64
	// memLimit, when not 0, caps held as the device's memory would
	// (Backend.SetMemoryLimit): newBuffer, which allocates every
	// device-local buffer, refuses one past it.
	memLimit uint64
	prof     *profiler // nil unless StartProfile
	rec      recording // one dispatch's call arguments (hot.go)
	err      error

	// loaderEnv is the environment instance was made under (loaderEnv):
	// a probe keeps it as the spare under that key.
	loaderEnv string
}

// kernel is one compute pipeline with its layouts.
type kernel struct {
	setLayout, layout, pipeline vkHandle
	bindings                    int
	push                        uint32
	// writes has bit i set when the shader may write binding i (from its
	// SPIR-V: hazard.go orders the commands by it).
	writes uint32
}

// skipKernels names kernels Open leaves out as if the driver had failed to
// build them, so tests can act that out; refuseCoopDevice acts out a driver
// that refuses to create a device with cooperative matrices enabled.
var (
	skipKernels      map[string]bool
	refuseCoopDevice bool
)

// Open loads the Vulkan loader, picks a device (a discrete GPU first, then
// an integrated one, then any other, lavapipe's CPU device last; the
// first listed among equals), and builds every compute pipeline. Failures
// name the device and say what to do.
func Open() (*Device, error) { return OpenAt(Ranked) }

// Ranked asks OpenAt and ProbeAt for the device Open picks.
const Ranked = -1

// OpenAt is Open for the device at index in the loader's list (Info.Index),
// or Open's pick for Ranked: on a machine with several GPUs, runs choose
// theirs. An index past the list is an ErrNoDevice naming every device.
func OpenAt(index int) (*Device, error) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		return nil, &Error{Kind: ErrNoDevice, Op: "start", Err: fmt.Errorf("the Vulkan binding needs a 64-bit platform, not %s", runtime.GOARCH)}
	}
	vk, err := loadAPI()
	if err != nil {
		return nil, err
	}
	d := &Device{vk: vk, tensors: map[*buffer]struct{}{}}
	if err := d.init(index); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func (d *Device) fail(op string, r vkResult) error {
	return resultError(d.info.Name, op, r)
}

// Probe describes the device Open would choose, without opening it: an
// instance and the list of devices, no logical device and no pipelines,
// so it is cheap enough to ask before a run decides where its memory is.
func Probe() (Info, error) { return ProbeAt(Ranked) }

// ProbeAt is Probe for OpenAt(index).
func ProbeAt(index int) (Info, error) {
	d, err := probe(index)
	return d.info, err
}

// Devices lists the devices the loader lists, in its order (Info.Index:
// --device gpu:N), each described as Probe describes the one it picks,
// for a user choosing among several GPUs. err says why none can compute,
// with whatever list there is.
func Devices() ([]Info, error) {
	d, err := probe(Ranked)
	return d.devices, err
}

// probe lists the devices and chooses as OpenAt(index) would, opening
// nothing: the instance is kept as the spare (keepSpare) for the OpenAt
// that follows, or made and gone again where the choice failed.
func probe(index int) (*Device, error) {
	d := &Device{}
	if unsafe.Sizeof(uintptr(0)) != 8 {
		return d, &Error{Kind: ErrNoDevice, Op: "start", Err: fmt.Errorf("the Vulkan binding needs a 64-bit platform, not %s", runtime.GOARCH)}
	}
	vk, err := loadAPI()
	if err != nil {
		return d, err
	}
	d.vk = vk
	err = d.choose(index)
	if d.instance != 0 {
		if err != nil || !keepSpare(d.vk, d.instance, d.loaderEnv) {
			d.vk.destroyInstance(d.instance, nil)
		}
		d.instance = 0
	}
	return d, err
}

// spare is the Vulkan instance a probe made, kept for the next choose of
// this process (at most one): a command asks where it will compute (its
// memory check, Probe) and then opens the device (OpenAt), and each
// instance costs a search for the drivers and their start (10 to 100 ms
// on a real driver, which may print its notices again), where the
// probe's serves both: --device auto on a discrete GPU, gpu and gpu:N
// made two. key is loaderEnv as the instance was made: one made under
// another environment (a test hiding the drivers, another loader) is not
// taken. Where no Open follows, it lives until ReleaseSpare (engine/device
// calls it when --device auto takes the CPU) or as long as the process.
var spare struct {
	sync.Mutex
	vk       *api
	instance vkInstance
	key      string
}

// ReleaseSpare destroys the Vulkan instance a probe kept for an Open that
// will not come (a command that computes on the CPU after all): with it
// go the driver it loaded and what the driver made for it. On lavapipe a
// probe's instance kept the driver (libvulkan_lvp, LLVM) mapped for the
// rest of the process where --device auto took the CPU. A later probe or
// Open makes a new one.
func ReleaseSpare() {
	spare.Lock()
	defer spare.Unlock()
	if spare.instance != 0 {
		spare.vk.destroyInstance(spare.instance, nil)
	}
	spare.vk, spare.instance, spare.key = nil, 0, ""
}

// loaderEnv is the environment an instance is made under, all of it:
// the loader reads more than its VK_ variables (drivers, layers, its log)
// and RLT_VULKAN_LOADER (which loader) as it makes one. It finds drivers
// and implicit layers under XDG_DATA_DIRS, XDG_CONFIG_DIRS, XDG_DATA_HOME,
// XDG_CONFIG_HOME and HOME; each implicit layer names its own variables
// that turn it on or off (Mesa's device select layer, which orders the
// GPUs gpu:N counts, is off under NODEVICE_SELECT=1); drivers read theirs
// (MESA_*, LP_NUM_THREADS, RADV_*). No list of them is whole, and a
// command's environment does not change between its probe and its open,
// so the spare is taken under the same environment only.
func loaderEnv() string {
	kv := os.Environ()
	slices.Sort(kv)
	return strings.Join(kv, "\x00")
}

// keepSpare keeps instance, made by vk under key, as the spare; false
// where one is kept already (the caller destroys its own).
func keepSpare(vk *api, instance vkInstance, key string) bool {
	spare.Lock()
	defer spare.Unlock()
	if spare.instance != 0 {
		return false
	}
	spare.vk, spare.instance, spare.key = vk, instance, key
	return true
}

// takeSpare returns the spare instance made under key, or 0; the caller
// owns what it takes.
func takeSpare(key string) vkInstance {
	spare.Lock()
	defer spare.Unlock()
	if spare.instance == 0 || spare.key != key {
		return 0
	}
	in := spare.instance
	spare.vk, spare.instance = nil, 0
	return in
}

func (d *Device) init(index int) error {
	if err := d.choose(index); err != nil {
		return err
	}
	return d.build()
}

// choose creates the instance and picks the device at index in the
// loader's list, or for Ranked the one Open uses: a discrete GPU first,
// then integrated, virtual, other, a CPU device last, passing over one
// that cannot hold a kernel without a fallback (pick).
func (d *Device) choose(index int) error {
	app := &applicationInfo{sType: stApplicationInfo, pApplicationName: cString("rlt"), pEngineName: cString("rlt compute"), apiVersion: apiVersion12}
	ici := &instanceCreateInfo{sType: stInstanceCreateInfo, pApplicationInfo: app}
	d.loaderEnv = loaderEnv()
	if d.instance = takeSpare(d.loaderEnv); d.instance != 0 {
		// A probe's, as this one would be made.
	} else if r := d.vk.createInstance(unsafe.Pointer(ici), nil, &d.instance); r != vkSuccess {
		if r == vkErrIncompatibleDriver {
			return &Error{Kind: ErrNoDevice, Op: "create a Vulkan instance", Err: errors.New("no installed driver supports Vulkan (VK_ERROR_INCOMPATIBLE_DRIVER)")}
		}
		return d.fail("create a Vulkan instance", r)
	}
	runtime.KeepAlive(app)
	var n uint32
	if r := d.vk.enumeratePhysicalDevices(d.instance, &n, nil); r != vkSuccess && r != vkIncomplete {
		return d.fail("list devices", r)
	}
	if n == 0 {
		return &Error{Kind: ErrNoDevice, Op: "list devices", Err: errors.New("the loader found no device (install a driver, e.g. mesa-vulkan-drivers for lavapipe)")}
	}
	devs := make([]vkPhysicalDevice, n)
	if r := d.vk.enumeratePhysicalDevices(d.instance, &n, &devs[0]); r != vkSuccess && r != vkIncomplete {
		return d.fail("list devices", r)
	}
	d.devices = d.devices[:0]
	listed := make([]listedDevice, n)
	fams := make([]uint32, n)
	for i, pd := range devs[:n] {
		info, rank := d.describe(pd)
		info.Index = i
		var mem physicalDeviceMemoryProperties
		d.vk.getPhysicalDeviceMemoryProperties(pd, unsafe.Pointer(&mem))
		for h := range mem.memoryHeapCount {
			if heap := mem.memoryHeaps[h]; heap.flags&heapDeviceLocal != 0 && heap.size > info.DeviceLocalBytes {
				info.DeviceLocalBytes = heap.size
			}
		}
		d.devices = append(d.devices, info)
		fam, ok := d.computeFamily(pd)
		listed[i], fams[i] = listedDevice{info: info, rank: rank, compute: ok}, fam
	}
	best, passed, err := pick(listed, index)
	if err != nil {
		// A mistyped setting is said first, as where a device is chosen:
		// else a choice that fails (every device passed over, gpu:N not
		// listed) hid it, and under auto the CPU took the run without a
		// word of it.
		if serr := (&Device{}).readSettings(); serr != nil {
			return serr
		}
		return err
	}
	d.phys, d.family, d.info = devs[best], fams[best], listed[best].info
	d.info.PassedOver = passed
	d.vk.getPhysicalDeviceMemoryProperties(d.phys, unsafe.Pointer(&d.mem))
	// Every setting is read here, device chosen but nothing built, so
	// that Probe refuses what Open would.
	set := &Device{info: d.info}
	err = set.readSettings()
	for i := range d.info.attnRows {
		fits := attnTilesFit(i, d.info.MaxSharedMemory) == nil
		d.info.attnRows[i] = set.attn == attnRows || !fits && !(d.info.CooperativeMatrix && set.attn == attnTiled)
		d.info.attnEither[i] = !d.info.attnRows[i] && !fits
	}
	if err != nil {
		return err
	}
	return requiredFit(d.info)
}

// listedDevice is one device of the loader's list as choose weighs it:
// described, ranked (describe) and whether it has a compute queue.
type listedDevice struct {
	info    Info
	rank    int
	compute bool
}

// pick is the device choose takes of those the loader lists: the one at
// index, or for Ranked the best by rank (lower first) that can compute.
// Ranking, it passes over a device without a compute queue and one that
// cannot hold a kernel without a fallback (requiredShort: one under the
// 16 KiB of shared memory Vulkan allows), and says each ranked before the
// one taken in passed ("gpu:0 NAME (integrated) has no compute queue",
// "gpu:0 NAME (discrete) cannot build kernel gemm: needs 8320 bytes of
// shared memory, the device has 8192"): it took a small device and Open
// refused it, where the next by rank (or, for auto, the CPU) could
// compute, and a GPU without a compute queue went unsaid, the user left to
// wonder why the CPU took the run. A device asked for by its index is
// taken as it is, and refused by requiredFit with what it cannot hold.
func pick(devs []listedDevice, index int) (best int, passed []string, err error) {
	seen := make([]string, len(devs))
	for i, l := range devs {
		seen[i] = fmt.Sprintf("gpu:%d %s (%s)", i, l.info.Name, l.info.Type)
	}
	best = -1
	var short []int // devices passed over, said where they rank before best
	small := false  // one of them has a compute queue, too little shared memory
	why := make([]string, len(devs))
	for i, l := range devs {
		if index != Ranked {
			if i != index || !l.compute {
				continue
			}
		} else if !l.compute {
			short, why[i] = append(short, i), seen[i]+" has no compute queue"
			continue
		} else if name, err := requiredShort(l.info.MaxSharedMemory); err != nil {
			short, why[i] = append(short, i), fmt.Sprintf("%s cannot build kernel %s: %v", seen[i], name, err)
			small = true
			continue
		}
		if best < 0 || l.rank < devs[best].rank {
			best = i
		}
	}
	// One ranked after the device taken was not passed over for it: it
	// would not have been taken anyway, and the device line would blame
	// it for nothing.
	for _, i := range short {
		if best < 0 || devs[i].rank < devs[best].rank || devs[i].rank == devs[best].rank && i < best {
			passed = append(passed, why[i])
		}
	}
	switch {
	case index != Ranked && (index < 0 || index >= len(devs)):
		return -1, nil, &Error{Kind: ErrNoDevice, Op: "choose a device", Err: fmt.Errorf("there is no gpu:%d; the loader lists %s", index, strings.Join(seen, ", "))}
	case index != Ranked && best < 0:
		return -1, nil, &Error{Kind: ErrNoDevice, Op: "choose a device", Err: fmt.Errorf("%s has no compute queue", seen[index])}
	case best < 0 && small:
		// Each device is named with why, in the loader's order: those
		// without a compute queue too, else the error read as if they
		// were not there.
		return -1, passed, &Error{Kind: ErrPipeline, Op: "choose a device", Err: fmt.Errorf("none can compute: %s", strings.Join(passed, "; "))}
	case best < 0:
		return -1, nil, &Error{Kind: ErrNoDevice, Op: "choose a device", Err: fmt.Errorf("none of %s has a compute queue", strings.Join(seen, ", "))}
	}
	return best, passed, nil
}

// build creates the logical device, its queue, pools and pipelines.
func (d *Device) build() error {
	prio := float32(1)
	qci := &deviceQueueCreateInfo{sType: stDeviceQueueCreateInfo, queueFamilyIndex: d.family, queueCount: 1, pQueuePriorities: &prio}
	dci := &deviceCreateInfo{sType: stDeviceCreateInfo, queueCreateInfoCount: 1, pQueueCreateInfos: qci}
	var exts []*byte
	usePush, _ := pushDescriptorsSetting(os.Getenv("RLT_VULKAN_PUSH_DESCRIPTORS")) // choose refused a bad value
	pushDescriptors := usePush && d.hasExtension(d.phys, "VK_KHR_push_descriptor")
	if pushDescriptors {
		exts = append(exts, cString("VK_KHR_push_descriptor"))
	}
	d.info.MatmulF16, d.info.NoMatmulF16 = d.coopSupport()
	if d.info.MatmulF16 {
		for _, e := range coopExtensions {
			exts = append(exts, cString(e))
		}
		dci.pNext = coopFeatures()
	}
	if len(exts) > 0 {
		dci.enabledExtensionCount, dci.ppEnabledExtensionNames = uint32(len(exts)), unsafe.Pointer(&exts[0])
	}
	r := d.vk.createDevice(d.phys, unsafe.Pointer(dci), nil, &d.dev)
	if d.info.MatmulF16 && (r != vkSuccess || refuseCoopDevice) {
		// A driver that lists the features but refuses them costs the
		// tensor cores, not the GPU: the device again without them.
		if r == vkSuccess {
			d.vk.destroyDevice(d.dev, nil)
			d.dev = 0
			r = vkErrFeatureNotPresent
		}
		d.info.MatmulF16, d.info.CoopSize = false, 0
		d.info.NoMatmulF16 = "the driver refused a device with cooperative matrices enabled: " + r.String()
		exts = exts[:len(exts)-len(coopExtensions)]
		dci.pNext, dci.enabledExtensionCount = nil, uint32(len(exts))
		if len(exts) == 0 {
			dci.ppEnabledExtensionNames = nil
		}
		r = d.vk.createDevice(d.phys, unsafe.Pointer(dci), nil, &d.dev)
	}
	if r != vkSuccess {
		return d.fail("create the logical device", r)
	}
	runtime.KeepAlive(qci)
	runtime.KeepAlive(exts)
	runtime.KeepAlive(dci)
	if pushDescriptors {
		if fn := d.vk.getDeviceProcAddr(d.dev, cString("vkCmdPushDescriptorSetKHR")); fn != 0 {
			d.vk.hot.cmdPushDescriptorSet = fn
			d.info.PushDescriptors = true
		}
	}
	d.vk.getDeviceQueue(d.dev, d.family, 0, &d.queue)

	cpi := &commandPoolCreateInfo{sType: stCommandPoolCreateInfo, flags: cmdPoolResetBuffer, queueFamilyIndex: d.family}
	if r := d.vk.createCommandPool(d.dev, unsafe.Pointer(cpi), nil, &d.cmdPool); r != vkSuccess {
		return d.fail("create a command pool", r)
	}
	if err := d.newCommandBuffer(); err != nil {
		return err
	}
	d.cmd = d.cmds[0]
	fci := &fenceCreateInfo{sType: stFenceCreateInfo}
	if r := d.vk.createFence(d.dev, unsafe.Pointer(fci), nil, &d.fence); r != vkSuccess {
		return d.fail("create a fence", r)
	}
	ps := &descriptorPoolSize{typ: descStorageBuffer, descriptorCount: setsPerBatch * maxBindings}
	dpi := &descriptorPoolCreateInfo{sType: stDescriptorPoolCreateInfo, maxSets: setsPerBatch, poolSizeCount: 1, pPoolSizes: ps}
	if r := d.vk.createDescriptorPool(d.dev, unsafe.Pointer(dpi), nil, &d.descPool); r != vkSuccess {
		return d.fail("create a descriptor pool", r)
	}
	runtime.KeepAlive(ps)
	// The kernels on cooperative matrices wait for SetMatmul(f16):
	// a float32 run never compiles them (buildCoop says why).
	if err := d.buildKernels(func(k kernelID) bool { return !coopKernels[k] && !isCoopShape(k) }); err != nil {
		return err
	}
	var err error
	if d.up, err = d.newBuffer(uploadArena, memHostVisible|memHostCoherent, 0, "the upload arena"); err != nil {
		return err
	}
	// Reads up to 1 MiB need no flush of their own to make room.
	if d.down, err = d.newBuffer(1<<20, memHostVisible|memHostCoherent, memHostCached, "the read-back buffer"); err != nil {
		return err
	}
	if d.dummy, err = d.newBuffer(256, memDeviceLocal, 0, "a placeholder operand"); err != nil {
		return err
	}
	// A GPU runs a few workgroups per multiprocessor at once; 1024 fills
	// the largest (an H200 has 132) several times over. A CPU device runs
	// one workgroup per thread: splitting K there only adds a pass.
	d.waitLimit = cpuWaitLimit
	if d.info.Type != "cpu" {
		d.splitTarget, d.splitMinK = gpuSplitTarget, gpuSplitMinK
		d.kickAfter = kickAfter
		d.waitLimit = gpuWaitLimit
	}
	d.gemvMaxRows = gemvRows
	d.window = d.info.MaxStorageBufferRange
	d.coopBig, d.coopShape = kGemmCM128, kGemmCM128
	return d.readSettings()
}

// readSettings applies the backend's environment settings (RLT_VULKAN_*)
// to d; a value none of them takes is an ErrSetting naming the variable.
// choose runs it on a scratch Device, so that a mistyped setting stops
// Probe (a run's memory check, before its folder exists) as it stops Open.
func (d *Device) readSettings() error {
	for _, set := range []struct {
		env  string
		read func(v string) error
	}{
		{"RLT_VULKAN_PUSH_DESCRIPTORS", func(v string) (err error) { _, err = pushDescriptorsSetting(v); return }}, // applied in build
		{"RLT_VULKAN_GEMM", func(v string) (err error) { d.gemmForce, err = gemmForceSetting(v); return }},
		{"RLT_VULKAN_GEMMCM", func(v string) (err error) { d.coopShape, err = coopShapeSetting(v); return }},
		{"RLT_VULKAN_ATTN", func(v string) (err error) { d.attn, err = attnSetting(v); return }},
		{"RLT_VULKAN_FUSE", func(v string) (err error) { d.noFuse, err = noFuseSetting(v); return }},
		{"RLT_VULKAN_LOSE_AFTER", func(v string) (err error) { d.loseAfter, err = loseAfterSetting(v); return }},
		{"RLT_VULKAN_BARRIERS", func(v string) (err error) { d.allBarriers, err = allBarriersSetting(v); return }},
		{"RLT_VULKAN_KICK", func(v string) (err error) { d.kickAfter, err = kickSetting(v, d.kickAfter); return }},
		{"RLT_VULKAN_FENCE_TIMEOUT", func(v string) (err error) { d.waitLimit, err = waitLimitSetting(v, d.waitLimit); return }},
		{"RLT_VULKAN_MAX_BINDING", func(v string) (err error) { _, err = maxBytesSetting(v); return }}, // applied in describe
		{"RLT_VULKAN_MAX_ALLOCATION", func(v string) (err error) { _, err = maxBytesSetting(v); return }},
		{"RLT_VULKAN_MAX_SHARED", func(v string) (err error) { _, err = maxSharedSetting(v); return }},
		{"RLT_VULKAN_SPLIT", func(v string) (err error) {
			d.splitTarget, d.splitMinK, err = splitSetting(v, d.splitTarget, d.splitMinK)
			return
		}},
	} {
		if err := set.read(os.Getenv(set.env)); err != nil {
			return &Error{Kind: ErrSetting, Device: d.info.Name, Op: "read " + set.env, Err: err}
		}
	}
	return nil
}

// buildKernels builds each kernel that which picks. An optional kernel the
// driver fails to build is named in Info.Unavailable, and the device goes
// on without it; any other's failure is the error.
func (d *Device) buildKernels(which func(kernelID) bool) error {
	for k := range kernelSpecs {
		id := kernelID(k)
		if !which(id) {
			continue
		}
		name := kernelSpecs[k].name
		var err error
		if skipKernels[name] { // as buildKernel reports a driver's refusal
			err = &Error{Kind: ErrPipeline, Device: d.info.Name, Op: "build kernel " + name, Err: errors.New("left out by a test")}
		} else {
			err = d.buildKernel(id)
		}
		if err != nil {
			if !optionalKernels[id] {
				return err
			}
			// The cause alone: the device itself goes on computing.
			why := err
			if ve := (*Error)(nil); errors.As(err, &ve) && ve.Err != nil {
				why = ve.Err
			}
			short := (*sharedShortError)(nil)
			d.info.Unavailable = append(d.info.Unavailable, KernelLeftOut{Kernel: name, Why: why.Error(), SharedShort: errors.As(err, &short)})
		}
	}
	return nil
}

// maxBytesSetting reads RLT_VULKAN_MAX_BINDING and RLT_VULKAN_MAX_ALLOCATION,
// which lower the device's limits as the backend sees them, so that tests
// meet them at small shapes: unset (0), the device's own; else a number of
// bytes, at least 64 KiB. Past MAX_BINDING no operand of a kernel spans
// (tensors beyond it are bound a window at a time, as on a device with a
// small maxStorageBufferRange, lavapipe's 128 MiB); past MAX_ALLOCATION no
// tensor is allocated.
func maxBytesSetting(v string) (uint64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n < 64<<10 {
		return 0, fmt.Errorf("%q: want a number of bytes, at least %d", v, 64<<10)
	}
	return n, nil
}

// maxSharedSetting reads RLT_VULKAN_MAX_SHARED, which lowers the shared
// memory a workgroup may take as the backend sees it (Info.MaxSharedMemory),
// so that tests meet a device of less than lavapipe's: unset (0), the
// device's own; else a number of bytes, at least 16384 (the least Vulkan
// guarantees). Every kernel is checked against it (kernelFits; those on
// cooperative matrices by attnCoopFits and their builds) as on such a
// device: one with a fallback is left out past it, one without refuses
// the device (requiredFit).
func maxSharedSetting(v string) (uint32, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil || n < 16<<10 {
		return 0, fmt.Errorf("%q: want a number of bytes, at least %d", v, 16<<10)
	}
	return uint32(n), nil
}

// pushDescriptorsSetting reads RLT_VULKAN_PUSH_DESCRIPTORS: unset or 1,
// operands go in as push descriptors where the device has
// VK_KHR_push_descriptor; 0, as descriptor sets (for A/B timing and the
// tests of that path).
func pushDescriptorsSetting(v string) (bool, error) {
	switch v {
	case "", "1":
		return true, nil
	case "0":
		return false, nil
	}
	return true, fmt.Errorf("%q is neither 0 (operands as descriptor sets) nor 1; unset it for push descriptors where the device has them", v)
}

// noFuseSetting reads RLT_VULKAN_FUSE: unset or 1, decoding takes gemv3,
// gemv_glu and rope_cache where they apply; 0 keeps it on the kernels of
// one op each.
func noFuseSetting(v string) (bool, error) {
	switch v {
	case "", "1":
		return false, nil
	case "0":
		return true, nil
	}
	return false, fmt.Errorf("%q is neither 0 (decoding on one op a kernel) nor 1; unset it for gemv3, gemv_glu and rope_cache where they apply", v)
}

// loseAfterSetting reads RLT_VULKAN_LOSE_AFTER: unset (0), the device is
// lost only when the driver says so; N, the Nth batch's fence reports it.
func loseAfterSetting(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%q is not a count of batches (the device reports itself lost at that batch's fence); unset it for a device that is not", v)
	}
	return n, nil
}

// allBarriersSetting reads RLT_VULKAN_BARRIERS: unset, a barrier only
// where commands conflict; all, one after every command.
func allBarriersSetting(v string) (bool, error) {
	switch v {
	case "":
		return false, nil
	case "all":
		return true, nil
	}
	return false, fmt.Errorf("%q is not all (a barrier after every command); unset it for barriers only where commands conflict", v)
}

// A GPU's split along K (splitK): slices until a product runs about
// gpuSplitTarget workgroups, none shorter than gpuSplitMinK.
const (
	gpuSplitTarget = 1024
	gpuSplitMinK   = 256
)

// splitSetting reads RLT_VULKAN_SPLIT: unset, the device's own (target,
// minK: a GPU's, or none on a CPU device); "gpu", a GPU's on any device,
// so that a profile on lavapipe shows the workgroups a GPU would run
// (vulkan.Profile); "0", products never split along K, for A/B timing.
func splitSetting(v string, target, minK uint32) (uint32, uint32, error) {
	switch v {
	case "":
		return target, minK, nil
	case "gpu":
		return gpuSplitTarget, gpuSplitMinK, nil
	case "0":
		return 0, 0, nil
	}
	return target, minK, fmt.Errorf("%q is neither gpu (split products along K as on a GPU) nor 0 (never split); unset it for the device's own", v)
}

// kickSetting reads RLT_VULKAN_KICK: unset, def (the device's default);
// else the dispatches before a batch's first kick, 0 for none (every batch
// one submission).
func kickSetting(v string, def int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a count of dispatches (0: submit each batch whole); unset it for %d on a GPU, 0 on a CPU device", v, kickAfter)
	}
	return n, nil
}

// waitLimitSetting reads RLT_VULKAN_FENCE_TIMEOUT: unset, def (the
// device's: gpuWaitLimit, or cpuWaitLimit on a CPU device); else a
// duration ("90s", "30m") after which a batch that gave no answer makes
// the device hung.
func waitLimitSetting(v string, def time.Duration) (time.Duration, error) {
	if v == "" {
		return def, nil
	}
	limit, err := time.ParseDuration(v)
	if err != nil || limit <= 0 {
		return 0, fmt.Errorf("%q is not a duration such as 90s or 30m (how long a batch may run before the device counts as hung); unset it for %v on a GPU, %v on a CPU device", v, gpuWaitLimit, cpuWaitLimit)
	}
	return limit, nil
}

// attnSetting reads RLT_VULKAN_ATTN: unset or "tiles", attention takes the
// tiled kernels where the head dimension allows, on cooperative matrices
// under matmul f16 (attnTilesFor); "f32" keeps it on the float32 tiles
// under matmul f16 too; "rows" on the row kernels.
func attnSetting(v string) (attnPath, error) {
	switch v {
	case "", "tiles":
		return attnTiled, nil
	case "f32":
		return attnTiledF32, nil
	case "rows":
		return attnRows, nil
	}
	return attnTiled, fmt.Errorf("%q is none of tiles (the tiled kernels, on tensor cores under matmul f16), f32 (the float32 tiles under matmul f16 too) and rows (the row kernels); unset it for tiles", v)
}

// coopShapeSetting reads RLT_VULKAN_GEMMCM: unset, gemmcm's 128×128 tiles
// run on gemmcm128; wide or k64 picks one of its other shapes
// (coopShapes).
func coopShapeSetting(v string) (kernelID, error) {
	if v == "" {
		return kGemmCM128, nil
	}
	if k, ok := coopShapes[v]; ok {
		return k, nil
	}
	return 0, fmt.Errorf("%q is neither wide (gemmcm's 128×128 tiles on 4 subgroups of 64×64) nor k64 (in steps of 64 along K); unset it for 8 subgroups of 64×32 in steps of 32", v)
}

// gemmForceSetting reads RLT_VULKAN_GEMM: unset, the GEMM kernel is chosen
// by shape (gemmTileFor); 64 or 128 runs every product that is not a gemv
// on the kernel of that output tile.
func gemmForceSetting(v string) (uint32, error) {
	switch v {
	case "":
		return 0, nil
	case "64":
		return gemmTile, nil
	case "128":
		return gemmBigTile, nil
	}
	return 0, fmt.Errorf("%q is neither 64 (every product on the 64×64-tile GEMM) nor 128 (on the 128×128 one); unset it for the choice by shape", v)
}

// describe reads a physical device's name, type and limits; rank orders the
// preference (lower is better).
func (d *Device) describe(pd vkPhysicalDevice) (Info, int) {
	var p [physicalDevicePropertiesSize]byte
	d.vk.getPhysicalDeviceProperties(pd, unsafe.Pointer(&p[0]))
	u32 := func(off int) uint32 { return *(*uint32)(unsafe.Pointer(&p[off])) }
	u64 := func(off int) uint64 { return *(*uint64)(unsafe.Pointer(&p[off])) }
	name := p[propDeviceName : propDeviceName+256]
	if i := strings.IndexByte(string(name), 0); i >= 0 {
		name = name[:i]
	}
	ver := u32(0)
	info := Info{
		Name:                  string(name),
		APIVersion:            fmt.Sprintf("%d.%d.%d", ver>>22&0x7f, ver>>12&0x3ff, ver&0xfff),
		VendorID:              u32(8),
		Driver:                driverVersion(u32(8), u32(4)),
		MaxStorageBufferRange: uint64(u32(propLimits + limMaxStorageBufferRange)),
		MaxSharedMemory:       u32(propLimits + limMaxComputeSharedMemorySize),
		MaxInvocations:        u32(propLimits + limMaxComputeWorkGroupInvocat),
		MaxPushConstants:      u32(propLimits + limMaxPushConstantsSize),
		MaxAllocations:        u32(propLimits + limMaxMemoryAllocationCount),
		MaxStorageBuffers:     u32(propLimits + limMaxPerStageStorageBuffers),
		MinStorageAlignment:   u64(propLimits + limMinStorageBufferOffsetAlign),
	}
	for i := range 3 {
		info.MaxWorkGroupCount[i] = u32(propLimits + limMaxComputeWorkGroupCount + 4*i)
	}
	info.MaxAllocation = d.maxAllocation(pd)
	// Lowered limits (tests); Open refuses a bad value.
	if limit, err := maxBytesSetting(os.Getenv("RLT_VULKAN_MAX_BINDING")); err == nil && limit > 0 {
		info.MaxStorageBufferRange = min(info.MaxStorageBufferRange, limit)
	}
	if limit, err := maxBytesSetting(os.Getenv("RLT_VULKAN_MAX_ALLOCATION")); err == nil && limit > 0 {
		info.MaxAllocation = min(info.MaxAllocation, limit)
	}
	if limit, err := maxSharedSetting(os.Getenv("RLT_VULKAN_MAX_SHARED")); err == nil && limit > 0 {
		info.MaxSharedMemory = min(info.MaxSharedMemory, limit)
	}
	info.CooperativeMatrix = d.hasExtension(pd, "VK_KHR_cooperative_matrix")
	rank := 4
	switch u32(propDeviceType) {
	case deviceTypeDiscrete:
		info.Type, rank = "discrete", 0
	case deviceTypeIntegrated:
		info.Type, rank = "integrated", 1
	case deviceTypeVirtual:
		info.Type, rank = "virtual", 2
	case deviceTypeCPU:
		info.Type, rank = "cpu", 3
	default:
		info.Type = "other"
	}
	return info, rank
}

// driverVersion decodes VkPhysicalDeviceProperties.driverVersion: NVIDIA
// packs it as 10.8.8.6 bits (e.g. 550.54.14), others (Mesa, AMD) as a
// Vulkan version.
func driverVersion(vendor, v uint32) string {
	if vendor == 0x10de {
		return fmt.Sprintf("%d.%d.%d", v>>22&0x3ff, v>>14&0xff, v>>6&0xff)
	}
	return fmt.Sprintf("%d.%d.%d", v>>22&0x7f, v>>12&0x3ff, v&0xfff)
}

// hasExtension reports whether the device offers the named extension.
func (d *Device) hasExtension(pd vkPhysicalDevice, name string) bool {
	var n uint32
	if d.vk.enumerateDeviceExtensionProperties(pd, nil, &n, nil) != vkSuccess || n == 0 {
		return false
	}
	exts := make([]extensionProperties, n)
	if r := d.vk.enumerateDeviceExtensionProperties(pd, nil, &n, unsafe.Pointer(&exts[0])); r != vkSuccess && r != vkIncomplete {
		return false
	}
	for _, e := range exts[:n] {
		if i := strings.IndexByte(string(e.extensionName[:]), 0); i >= 0 && string(e.extensionName[:i]) == name {
			return true
		}
	}
	return false
}

// computeFamily returns a queue family with compute support.
func (d *Device) computeFamily(pd vkPhysicalDevice) (uint32, bool) {
	var n uint32
	d.vk.getPhysicalDeviceQueueFamilyProperty(pd, &n, nil)
	if n == 0 {
		return 0, false
	}
	fams := make([]queueFamilyProperties, n)
	d.vk.getPhysicalDeviceQueueFamilyProperty(pd, &n, unsafe.Pointer(&fams[0]))
	for i, f := range fams[:n] {
		if f.queueFlags&queueCompute != 0 && f.queueCount > 0 {
			return uint32(i), true
		}
	}
	return 0, false
}

// Info describes the device.
func (d *Device) Info() Info {
	in := d.info
	if d.dev != 0 { // opened: the kernels it built, and the setting as it is now (tests set it)
		in.attnRows, in.attnEither = d.attnRowsBySet(), [2]bool{}
	}
	return in
}

// Name is the device's name with the backend, e.g. "vulkan/llvmpipe (…)".
func (d *Device) Name() string { return "vulkan/" + d.info.Name }

// Submits counts the batches submitted so far (each waited on by one fence).
func (d *Device) Submits() int { return d.submits }

// Barriers counts the barriers recorded between commands and the commands
// that ran without one after another (hazard.go), since Open.
func (d *Device) Barriers() (recorded, elided int) { return d.haz.barriers, d.haz.elided }

func (d *Device) buildKernel(k kernelID) error {
	spec := kernelSpecs[k]
	op := "build kernel " + spec.name
	if err := kernelFits(k, d.info.MaxSharedMemory); err != nil {
		return &Error{Kind: ErrPipeline, Device: d.info.Name, Op: op, Err: err}
	}
	code, err := spirv.ReadFile("shaders/" + spec.name + ".spv")
	if err != nil || len(code) == 0 || len(code)%4 != 0 {
		return &Error{Kind: ErrPipeline, Device: d.info.Name, Op: op, Err: fmt.Errorf("embedded SPIR-V missing or malformed (run go generate ./compute/vulkan): %v", err)}
	}
	words := make([]uint32, len(code)/4)
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(code)), code)
	smi := &shaderModuleCreateInfo{sType: stShaderModuleCreateInfo, codeSize: uintptr(len(code)), pCode: unsafe.Pointer(&words[0])}
	var module vkHandle
	if r := d.vk.createShaderModule(d.dev, unsafe.Pointer(smi), nil, &module); r != vkSuccess {
		e := d.fail(op+": shader module", r).(*Error)
		e.Kind = ErrPipeline
		return e
	}
	defer d.vk.destroyShaderModule(d.dev, module, nil)
	runtime.KeepAlive(words)

	if uint32(spec.bindings) > d.info.MaxStorageBuffers {
		return &Error{Kind: ErrPipeline, Device: d.info.Name, Op: op, Err: fmt.Errorf("binds %d storage buffers, the device allows %d per stage", spec.bindings, d.info.MaxStorageBuffers)}
	}
	bs := make([]descriptorSetLayoutBinding, spec.bindings)
	for i := range bs {
		bs[i] = descriptorSetLayoutBinding{binding: uint32(i), descriptorType: descStorageBuffer, descriptorCount: 1, stageFlags: stageCompute}
	}
	kn := &d.kernels[k]
	kn.bindings, kn.push = spec.bindings, spec.push
	if kn.writes, err = writtenBindings(words, spec.bindings); err != nil {
		return &Error{Kind: ErrPipeline, Device: d.info.Name, Op: op, Err: fmt.Errorf("embedded SPIR-V: %v", err)}
	}
	dli := &descriptorSetLayoutCreateInfo{sType: stDescriptorSetLayoutCreate, bindingCount: uint32(len(bs)), pBindings: &bs[0]}
	if d.info.PushDescriptors {
		dli.flags = setLayoutPushDescriptor
	}
	if r := d.vk.createDescriptorSetLayout(d.dev, unsafe.Pointer(dli), nil, &kn.setLayout); r != vkSuccess {
		return d.fail(op+": descriptor set layout", r)
	}
	runtime.KeepAlive(bs)
	if spec.push > d.info.MaxPushConstants {
		return &Error{Kind: ErrPipeline, Device: d.info.Name, Op: op, Err: fmt.Errorf("needs %d bytes of push constants, the device allows %d", spec.push, d.info.MaxPushConstants)}
	}
	pcr := &pushConstantRange{stageFlags: stageCompute, size: spec.push}
	pli := &pipelineLayoutCreateInfo{sType: stPipelineLayoutCreateInfo, setLayoutCount: 1, pSetLayouts: &kn.setLayout, pushConstantRangeCount: 1, pPushConstantRanges: pcr}
	if r := d.vk.createPipelineLayout(d.dev, unsafe.Pointer(pli), nil, &kn.layout); r != vkSuccess {
		return d.fail(op+": pipeline layout", r)
	}
	runtime.KeepAlive(pcr)
	cpi := &computePipelineCreateInfo{
		sType:  stComputePipelineCreateInfo,
		stage:  pipelineShaderStageCreateInfo{sType: stPipelineShaderStageCreate, stage: stageCompute, module: module, pName: cString("main")},
		layout: kn.layout, basePipelineIndex: -1,
	}
	// A kernel on cooperative matrices is a workgroup of whole subgroups:
	// specialization constant 0 is the local size, 1 the side of the
	// matrices, 2 how many groups of 4 elements of each operand's k-step
	// an invocation loads.
	var consts [3]uint32
	entries := [3]specializationMapEntry{{constantID: 0, offset: 0, size: 4}, {constantID: 1, offset: 4, size: 4}, {constantID: 2, offset: 8, size: 4}}
	si := specializationInfo{mapEntryCount: 3, pMapEntries: &entries[0], dataSize: 12, pData: unsafe.Pointer(&consts[0])}
	if g, ok := coopGeometry[k]; ok && g.rowLanes {
		if err := d.attnCoopFits(k); err != nil {
			return &Error{Kind: ErrPipeline, Device: d.info.Name, Op: op, Err: err}
		}
		consts = [3]uint32{g.subgroups * d.coopLanes, d.info.CoopSize, d.coopLanes / d.info.CoopSize}
		cpi.stage.pSpecializationInfo = unsafe.Pointer(&si)
		cpi.stage.flags = stageRequireFullSubgroups
	} else if ok {
		local, tile := g.subgroups*d.coopLanes, g.tile*d.info.CoopSize/16
		consts = [3]uint32{local, d.info.CoopSize, (tile*g.kstep/4 + local - 1) / local}
		if consts[2] > g.groups {
			return &Error{Kind: ErrPipeline, Device: d.info.Name, Op: op,
				Err: fmt.Errorf("%d groups of 4 per invocation over %d invocations, beyond the kernel's %d", consts[2], local, g.groups)}
		}
		cpi.stage.pSpecializationInfo = unsafe.Pointer(&si)
		cpi.stage.flags = stageRequireFullSubgroups
	}
	if r := d.vk.createComputePipelines(d.dev, 0, 1, unsafe.Pointer(cpi), nil, &kn.pipeline); r != vkSuccess {
		e := d.fail(op+": compute pipeline", r).(*Error)
		if e.Kind == ErrVulkan {
			e.Kind = ErrPipeline
		}
		return e
	}
	runtime.KeepAlive(cpi)
	runtime.KeepAlive(&si)
	runtime.KeepAlive(&entries)
	runtime.KeepAlive(&consts)
	return nil
}

// memoryType picks a memory type allowed by bits that has all of need,
// preferring one that also has want.
func (d *Device) memoryType(bits, need, want uint32) (uint32, bool) {
	found, ok := uint32(0), false
	for i := uint32(0); i < d.mem.memoryTypeCount; i++ {
		f := d.mem.memoryTypes[i].propertyFlags
		if bits&(1<<i) == 0 || f&need != need {
			continue
		}
		if f&want == want {
			return i, true
		}
		if !ok {
			found, ok = i, true
		}
	}
	return found, ok
}

// newBuffer creates a buffer of size bytes in memory with the properties
// need (device-local is a preference, host visibility a requirement); what
// names the buffer in errors.
func (d *Device) newBuffer(size uint64, props, want uint32, what string) (*buffer, error) {
	op := "allocate " + what
	if props&memDeviceLocal != 0 && d.memLimit > 0 && d.held+size > d.memLimit {
		return nil, &Error{Kind: ErrOutOfMemory, Device: d.info.Name, Op: op,
			Err: fmt.Errorf("%s more would pass the %s limit, %s held", sizeString(size), sizeString(d.memLimit), sizeString(d.held))}
	}
	bci := &bufferCreateInfo{sType: stBufferCreateInfo, size: size, usage: bufStorage | bufTransferSrc | bufTransferDst}
	b := &buffer{size: size}
	if r := d.vk.createBuffer(d.dev, unsafe.Pointer(bci), nil, &b.buf); r != vkSuccess {
		return nil, d.fail(op, r)
	}
	var req memoryRequirements
	d.vk.getBufferMemoryRequirement(d.dev, b.buf, unsafe.Pointer(&req))
	need := props &^ memDeviceLocal
	idx, ok := d.memoryType(req.memoryTypeBits, need, want|props&memDeviceLocal)
	if !ok {
		d.vk.destroyBuffer(d.dev, b.buf, nil)
		return nil, &Error{Kind: ErrOutOfMemory, Device: d.info.Name, Op: op, Err: fmt.Errorf("no memory type with properties %#x", need)}
	}
	mai := &memoryAllocateInfo{sType: stMemoryAllocateInfo, allocationSize: req.size, memoryTypeIndex: idx}
	if r := d.vk.allocateMemory(d.dev, unsafe.Pointer(mai), nil, &b.mem); r != vkSuccess {
		d.vk.destroyBuffer(d.dev, b.buf, nil)
		err := d.fail(op, r).(*Error)
		if err.Kind == ErrOutOfMemory {
			err.Err = fmt.Errorf("%v: %s requested, the largest device-local heap is %s", err.Err, sizeString(size), sizeString(d.info.DeviceLocalBytes))
		}
		return nil, err
	}
	if r := d.vk.bindBufferMemory(d.dev, b.buf, b.mem, 0); r != vkSuccess {
		d.freeBuffer(b)
		return nil, d.fail(op, r)
	}
	if props&memHostVisible != 0 {
		if r := d.vk.mapMemory(d.dev, b.mem, 0, size, 0, &b.mapped); r != vkSuccess {
			d.freeBuffer(b)
			return nil, d.fail(op+": map", r)
		}
	}
	if props&memDeviceLocal != 0 {
		b.local = true
		d.held += size
		d.peak = max(d.peak, d.held)
	}
	return b, nil
}

// MemoryUse returns the device-local memory the device's buffers hold now
// (tensors, scratch, the fused head's logits) and the most they held since
// the last call (since Open for the first).
func (d *Device) MemoryUse() (held, peak uint64) {
	peak = d.peak
	d.peak = d.held
	return d.held, peak
}

// freeBuffer destroys b and its memory, unless the device is hung: the
// GPU may still run the batch that gave no answer, and on a CPU device
// (lavapipe) memory freed under its running dispatch is unmapped under
// its thread (SIGSEGV). Every path that frees (Free, a finalizer's reap,
// a scratch slot's growth, Close) comes here, so a hung device keeps
// each buffer until the process ends, as its error says (hungMemory).
func (d *Device) freeBuffer(b *buffer) {
	if b == nil || b.buf == 0 || d.hung {
		return
	}
	if b.mapped != nil {
		d.vk.unmapMemory(d.dev, b.mem)
		b.mapped = nil
	}
	d.vk.destroyBuffer(d.dev, b.buf, nil)
	d.vk.freeMemory(d.dev, b.mem, nil)
	b.buf, b.mem = 0, 0
	if b.local {
		d.held -= b.size
		b.local = false
	}
}

// begin starts recording a batch if none is open.
func (d *Device) begin() bool {
	if d.err != nil {
		return false
	}
	if d.recording {
		return true
	}
	bi := &commandBufferBeginInfo{sType: stCommandBufferBeginInfo, flags: cmdOneTimeSubmit}
	if r := d.vk.beginCommandBuffer(d.cmd, unsafe.Pointer(bi)); r != vkSuccess {
		d.err = d.fail("begin a command buffer", r)
		return false
	}
	d.recording, d.bound = true, 0
	d.kickAt, d.sinceKick = d.kickAfter, 0
	d.profileBegin()
	return true
}

// kickAfter is a GPU's first kick: a batch's first 32 dispatches take the
// host ~70 µs to record (BenchmarkRecord), a few small kernels' time.
const kickAfter = 32

// newCommandBuffer adds a command buffer to cmds.
func (d *Device) newCommandBuffer() error {
	var cb vkCommandBuffer
	cai := &commandBufferAllocateInfo{sType: stCommandBufferAllocateInfo, commandPool: d.cmdPool, commandBufferCount: 1}
	if r := d.vk.allocateCommandBuffers(d.dev, unsafe.Pointer(cai), &cb); r != vkSuccess {
		return d.fail("allocate a command buffer", r)
	}
	d.cmds = append(d.cmds, cb)
	return nil
}

// kick submits the commands recorded so far without a fence and goes on
// recording into the next command buffer. A command that conflicts with
// earlier ones waits behind a barrier (hazard.go), whose scopes reach
// across submissions on the queue, so the later buffers' commands still
// wait for what they depend on in the earlier ones; the batch's fence
// (Flush) follows them all in submission order. Not while profiling: a
// kernel's time would include the host's recording after a kick.
func (d *Device) kick() { d.submitPart(0) }

// submitPart submits the command buffer being recorded, signalling fence
// (0: none) when it is done, and goes on recording the batch into the
// next: kick's, and drain's with the batch's fence.
func (d *Device) submitPart(fence vkHandle) {
	if r := d.vk.endCommandBuffer(d.cmd); r != vkSuccess {
		d.err = d.fail("end a command buffer", r)
		return
	}
	cmd := d.cmd
	si := &submitInfo{sType: stSubmitInfo, commandBufferCount: 1, pCommandBuffers: &cmd}
	if r := d.vk.queueSubmit(d.queue, 1, unsafe.Pointer(si), fence); r != vkSuccess {
		d.err = d.fail("submit the start of a batch", r)
		return
	}
	if fence == 0 {
		d.kicks++
	}
	if d.cmdAt++; d.cmdAt == len(d.cmds) {
		if err := d.newCommandBuffer(); err != nil {
			d.err = err
			return
		}
	}
	d.cmd = d.cmds[d.cmdAt]
	bi := &commandBufferBeginInfo{sType: stCommandBufferBeginInfo, flags: cmdOneTimeSubmit}
	if r := d.vk.beginCommandBuffer(d.cmd, unsafe.Pointer(bi)); r != vkSuccess {
		d.err = d.fail("begin a command buffer", r)
		return
	}
	d.bound = 0 // a pipeline stays bound only within its command buffer
	if fence == 0 {
		d.kickAt, d.sinceKick = 2*d.kickAt, 0
	}
}

// release frees buf, a scratch buffer a larger one replaces, before that
// one is made, so that a growing slot never holds both (ScratchBytes
// counts one): at once where no command of the open batch uses it, else
// after draining the batch (drain). Freed at the batch's end instead, as
// before, the old buffer and the new one were held together until then:
// a peak above the bound, in the step whose first ops grow the slots.
func (d *Device) release(buf *buffer) bool {
	if d.err != nil {
		return false
	}
	if d.recording && buf.usedIn > d.done && !d.drain() {
		return false
	}
	d.freeBuffer(buf)
	return true
}

// drain submits the commands the open batch recorded so far with its
// fence and waits for them, then goes on recording the batch: its
// uploads, descriptor sets and pending reads stay as they were (a Flush
// would reuse the upload arena under an op's operands already uploaded),
// and every command recorded before is done. A growing scratch slot's
// rare cost: each slot grows a few times in a run (while profiling, the
// kernel after a drain counts its wait, as after a kick).
func (d *Device) drain() bool {
	d.submitPart(d.fence)
	if d.err != nil {
		return false
	}
	if _, ok := d.waitFence(d.submits + 1); !ok { // the open batch's fence
		return false
	}
	d.drains++
	return true
}

// waitFence waits for the fence of batch (counted from Open: the test
// hooks hangAfter and loseAfter act on it) and resets it, Flush's wait
// and a drain's alike: a wait with no answer within waitLimit marks
// the device hung, a failure becomes the device's error, and only a
// success counts the commands before as done.
func (d *Device) waitFence(batch int) (time.Duration, bool) {
	fence := d.fence
	limit, byDeadline := d.waitLimit, false
	if !d.waitDeadline.IsZero() {
		if left := time.Until(d.waitDeadline); left < limit {
			limit, byDeadline = max(left, time.Millisecond), true
		}
	}
	t0 := time.Now()
	r := d.vk.waitForFences(d.dev, 1, &fence, 1, uint64(limit.Nanoseconds()))
	wait := time.Since(t0)
	if r == vkSuccess && d.hangAfter > 0 && batch >= d.hangAfter {
		r = vkTimeout // as a batch that never finishes (tests)
	}
	if r == vkTimeout {
		d.hung = true
		why := " (RLT_VULKAN_FENCE_TIMEOUT sets the limit: a longer one where the device is slow, not hung)"
		if byDeadline {
			limit, why = limit.Round(time.Millisecond), ", all the time its wait deadline left (a test's -timeout)"
		}
		d.err = &Error{Kind: ErrDeviceLost, Device: d.info.Name, Op: "wait for a batch", Err: fmt.Errorf("no answer within %v%s, %s", limit, why, hungMemory)}
		return wait, false
	}
	if r == vkSuccess && d.loseAfter > 0 && batch >= d.loseAfter {
		r = vkErrDeviceLost // as the driver reports a lost device (RLT_VULKAN_LOSE_AFTER)
	}
	if r != vkSuccess {
		d.err = d.fail("wait for a batch", r)
		return wait, false
	}
	d.done++
	if r := d.vk.resetFences(d.dev, 1, &fence); r != vkSuccess {
		d.err = d.fail("reset a fence", r)
		return wait, false
	}
	return wait, true
}

// SetWaitDeadline makes every fence wait from now on give up by deadline
// at the latest, however long its limit (the device's, or
// RLT_VULKAN_FENCE_TIMEOUT's); the zero time takes the deadline off. The
// tests' helpers pass go test's -timeout less a margin
// (backendtest.WaitDeadline), so that a hung device fails the test on the
// device's error, naming the wait, where the test timeout's panic said only
// where each goroutine was. Like the device's other calls, not while
// another runs.
func (d *Device) SetWaitDeadline(deadline time.Time) { d.waitDeadline = deadline }

// Flush submits the recorded batch and waits for its fence. It returns the
// Device's sticky error, if any.
func (d *Device) Flush() error {
	if d.err != nil {
		return d.err
	}
	if !d.recording {
		return nil
	}
	d.settle() // the next batch starts with nothing unordered
	d.profileEnd()
	d.recording = false
	if r := d.vk.endCommandBuffer(d.cmd); r != vkSuccess {
		d.err = d.fail("end a command buffer", r)
		return d.err
	}
	cmd := d.cmd
	si := &submitInfo{sType: stSubmitInfo, commandBufferCount: 1, pCommandBuffers: &cmd}
	if r := d.vk.queueSubmit(d.queue, 1, unsafe.Pointer(si), d.fence); r != vkSuccess {
		d.err = d.fail("submit a batch", r)
		return d.err
	}
	d.submits++
	wait, ok := d.waitFence(d.submits)
	if !ok {
		return d.err
	}
	d.profileCollect(wait)
	if r := d.vk.resetCommandPool(d.dev, d.cmdPool, 0); r != vkSuccess {
		d.err = d.fail("reset the command pool", r)
		return d.err
	}
	d.cmdAt, d.cmd = 0, d.cmds[0]
	if r := d.vk.resetDescriptorPool(d.dev, d.descPool, 0); r != vkSuccess {
		d.err = d.fail("reset the descriptor pool", r)
		return d.err
	}
	d.setsUsed, d.upUsed = 0, 0
	for _, b := range d.garbage {
		d.freeBuffer(b)
	}
	d.garbage = d.garbage[:0]
	return nil
}

// upload copies raw bytes into the upload arena and returns their binding;
// it flushes the batch when the arena is full and grows the arena for a
// request larger than it.
func (d *Device) upload(src []byte) (binding, bool) {
	n := uint64(len(src))
	align := max(d.info.MinStorageAlignment, 16)
	off := (d.upUsed + align - 1) / align * align
	if off+n > d.up.size {
		if d.Flush() != nil {
			return binding{}, false
		}
		off = 0
		if n > d.up.size {
			up, err := d.newBuffer(max(n, 2*d.up.size), memHostVisible|memHostCoherent, 0, "the upload arena")
			if err != nil {
				d.err = err
				return binding{}, false
			}
			d.freeBuffer(d.up)
			d.up = up
		}
	}
	copy(unsafe.Slice((*byte)(unsafe.Add(d.up.mapped, off)), n), src)
	d.upUsed = off + n
	return binding{b: d.up, off: off, size: max(n, 4)}, true
}

// dispatch records one kernel launch over groups workgroups with the given
// push constants and operands.
func dispatch[P any](d *Device, k kernelID, push *P, groups [3]uint32, ops ...binding) {
	kn := &d.kernels[k]
	if len(ops) != kn.bindings || uint32(unsafe.Sizeof(*push)) > kn.push {
		panic(fmt.Sprintf("vulkan: kernel %s takes %d operands and %d push bytes, got %d and %d",
			kernelSpecs[k].name, kn.bindings, kn.push, len(ops), unsafe.Sizeof(*push)))
	}
	if groups[0] == 0 || groups[1] == 0 || groups[2] == 0 {
		return
	}
	if d.setsUsed == setsPerBatch {
		if d.Flush() != nil {
			return
		}
		// Operands uploaded for this op before the flush (ids, positions)
		// now belong to the new batch: keep later uploads off them.
		for _, op := range ops {
			if op.b == d.up {
				d.upUsed = max(d.upUsed, op.off+op.size)
			}
		}
	}
	if !d.begin() {
		return
	}
	rec := &d.rec
	rec.set = 0
	if !d.info.PushDescriptors {
		rec.layout = kn.setLayout
		rec.alloc = descriptorSetAllocateInfo{sType: stDescriptorSetAllocateInfo, descriptorPool: d.descPool, descriptorSetCount: 1, pSetLayouts: &rec.layout}
		if r := d.vk.allocateDescriptorSets(d.dev, unsafe.Pointer(&rec.alloc), &rec.set); r != vkSuccess {
			d.err = d.fail("allocate a descriptor set for "+kernelSpecs[k].name, r)
			return
		}
	}
	for i, op := range ops {
		if op.size > d.info.MaxStorageBufferRange {
			d.tooLarge(k, i, op)
			return
		}
		if op.off%max(d.info.MinStorageAlignment, 1) != 0 {
			panic(fmt.Sprintf("vulkan: kernel %s: operand %d at offset %d, not a multiple of the device's %d", kernelSpecs[k].name, i, op.off, d.info.MinStorageAlignment))
		}
	}
	d.setsUsed++ // also bounds a batch's length with push descriptors
	for i, op := range ops {
		rec.infos[i] = descriptorBufferInfo{buffer: op.b.buf, offset: op.off, rng: op.size}
		rec.writes[i] = writeDescriptorSet{sType: stWriteDescriptorSet, dstSet: rec.set, dstBinding: uint32(i), descriptorCount: 1,
			descriptorType: descStorageBuffer, pBufferInfo: &rec.infos[i]}
	}
	if d.bound != kn.pipeline {
		d.vk.cmdBindPipeline(d.cmd, bindPointCompute, kn.pipeline)
		d.bound = kn.pipeline
	}
	if d.info.PushDescriptors {
		d.vk.cmdPushDescriptorSet(d.cmd, bindPointCompute, kn.layout, 0, uint32(len(ops)), unsafe.Pointer(&rec.writes[0]))
	} else {
		d.vk.updateDescriptorSets(d.dev, uint32(len(ops)), unsafe.Pointer(&rec.writes[0]))
		d.vk.cmdBindDescriptorSets(d.cmd, bindPointCompute, kn.layout, 0, 1, unsafe.Pointer(&rec.set))
	}
	size := uint32(unsafe.Sizeof(*push))
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&rec.push[0])), size), unsafe.Slice((*byte)(unsafe.Pointer(push)), size))
	d.vk.cmdPushConstants(d.cmd, kn.layout, stageCompute, 0, size, unsafe.Pointer(&rec.push[0]))
	d.before(ops, kn.writes)
	d.vk.cmdDispatch(d.cmd, groups[0], groups[1], groups[2])
	d.after()
	d.stamp(kernelSpecs[k].name, groups[0]*groups[1]*groups[2])
	if d.kickAt > 0 && d.prof == nil {
		if d.sinceKick++; d.sinceKick >= d.kickAt {
			d.kick()
		}
	}
}

// linearGroups spreads n workgroups over x and y so neither exceeds the
// guaranteed 65535; shaders rebuild the index as y·numX + x.
func linearGroups(n int) [3]uint32 {
	if n <= maxGroupsX {
		return [3]uint32{uint32(n), 1, 1}
	}
	return [3]uint32{maxGroupsX, uint32((n + maxGroupsX - 1) / maxGroupsX), 1}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// Close waits for the device and releases everything it holds. Tensors of
// the Device must not be used afterwards: ops on them record nothing and
// reads fail with Err. A Device that had failed (lost, out of memory)
// submits nothing more (a lost device's fence may never signal) and keeps
// its failure as Err, the reason its work stopped, which whoever reads Err
// after Close (a run's end) should see; a healthy one's Err then says it
// is closed. A device whose batch never answered (hung) is let be: Close
// returns at once and frees nothing the GPU may still use, leaving the
// memory to the process's end or the driver's reset.
func (d *Device) Close() {
	if d == nil || d.vk == nil {
		return
	}
	if d.hung {
		d.dev, d.instance = 0, 0 // later calls, Free and finalizers touch nothing
	}
	if d.dev != 0 {
		if d.recording && d.err == nil {
			_ = d.Flush()
		}
		d.vk.deviceWaitIdle(d.dev)
		if d.prof != nil {
			d.vk.destroyQueryPool(d.dev, d.prof.pool, nil)
			d.prof = nil
		}
		for _, b := range d.garbage {
			d.freeBuffer(b)
		}
		d.garbage = nil
		for b := range d.tensors {
			d.freeBuffer(b)
		}
		d.tensors, d.backendBytes = nil, 0
		for _, b := range append([]*buffer{d.up, d.down, d.dummy}, d.scratchBufs[:]...) {
			if b != nil && b.buf != 0 {
				d.freeBuffer(b)
			}
		}
		for i := range d.kernels {
			k := &d.kernels[i]
			if k.pipeline != 0 {
				d.vk.destroyPipeline(d.dev, k.pipeline, nil)
			}
			if k.layout != 0 {
				d.vk.destroyPipelineLayout(d.dev, k.layout, nil)
			}
			if k.setLayout != 0 {
				d.vk.destroyDescriptorSetLayout(d.dev, k.setLayout, nil)
			}
		}
		if d.descPool != 0 {
			d.vk.destroyDescriptorPool(d.dev, d.descPool, nil)
		}
		if d.fence != 0 {
			d.vk.destroyFence(d.dev, d.fence, nil)
		}
		if d.cmdPool != 0 {
			d.vk.destroyCommandPool(d.dev, d.cmdPool, nil)
		}
		d.vk.destroyDevice(d.dev, nil)
		d.dev = 0
	}
	if d.instance != 0 {
		d.vk.destroyInstance(d.instance, nil)
		d.instance = 0
	}
	if d.err == nil {
		d.err = &Error{Kind: ErrVulkan, Device: d.info.Name, Op: "use the device", Err: errors.New("it is closed")}
	}
}
