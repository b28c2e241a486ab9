package vulkan

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/ebitengine/purego"

	"github.com/rlt-workbench/rlt/compute"
)

// Tensor cores are reached through VK_KHR_cooperative_matrix: gemmcm
// multiplies T×T float16 matrices into float32 accumulators, a subgroup at
// a time. A device runs it when it offers such a shape (T×T×T, float16
// A and B, float32 C and result, subgroup scope; T = 16 on NVIDIA and AMD,
// 8 on lavapipe) in compute shaders, float16 arithmetic, the Vulkan memory
// model with device scope, whole subgroups (VK_EXT_subgroup_size_control)
// and Vulkan 1.2 (coopSupport); Open then enables them and builds the
// kernels with that T. Products take it only under Matmul "f16"
// (SetMatmul). Its 128×128 tile comes in three shapes (gemmcm.comp):
// gemmcm128, the default, and for timing against it on a GPU, where the
// default is to be chosen by measurement, RLT_VULKAN_GEMMCM=wide (4
// subgroups of 64×64) or k64 (K in steps of 64), read at Open; any other
// value fails Open (bench/gpu.sh times all three, BenchmarkLinear and
// BenchmarkLinearBackward too).

const (
	stPhysicalDeviceFeatures2   = 1000059000
	stPhysicalDeviceProperties2 = 1000059001
	stSubgroupProperties        = 1000094000
	stFloat16Int8Features       = 1000082000
	stMemoryModelFeatures       = 1000211000
	stCoopMatFeatures           = 1000506000
	stCoopMatProperties         = 1000506001
	stCoopMatDeviceProperties   = 1000506002
	stSubgroupSizeControlProps  = 1000225000
	stSubgroupSizeControlFeats  = 1000225002

	// stageRequireFullSubgroups is VK_PIPELINE_SHADER_STAGE_CREATE_REQUIRE_FULL_SUBGROUPS_BIT:
	// a pipeline on cooperative matrices needs it below SPIR-V 1.6
	// (VUID-RuntimeSpirv-OpTypeCooperativeMatrixKHR-10770).
	stageRequireFullSubgroups = 0x2

	componentFloat16 = 0
	componentFloat32 = 1
	scopeSubgroup    = 3

	subgroupFeatureBasic = 1
)

type physicalDeviceFeatures2 struct {
	sType    uint32
	pNext    unsafe.Pointer
	features [55]uint32 // VkPhysicalDeviceFeatures, left as the driver fills it
}

type float16Int8Features struct {
	sType                     uint32
	pNext                     unsafe.Pointer
	shaderFloat16, shaderInt8 uint32
}

type memoryModelFeatures struct {
	sType                                  uint32
	pNext                                  unsafe.Pointer
	vulkanMemoryModel, deviceScope, chains uint32
}

type subgroupSizeControlFeatures struct {
	sType                                     uint32
	pNext                                     unsafe.Pointer
	subgroupSizeControl, computeFullSubgroups uint32
}

type subgroupSizeControlProperties struct {
	sType                                  uint32
	pNext                                  unsafe.Pointer
	minSubgroupSize, maxSubgroupSize       uint32
	maxComputeWorkgroupSubgroups, required uint32
}

type coopMatDeviceProperties struct {
	sType           uint32
	pNext           unsafe.Pointer
	supportedStages uint32
}

type coopMatFeatures struct {
	sType                                 uint32
	pNext                                 unsafe.Pointer
	cooperativeMatrix, robustBufferAccess uint32
}

type physicalDeviceProperties2 struct {
	sType      uint32
	pNext      unsafe.Pointer
	properties [physicalDevicePropertiesSize]byte
}

type subgroupProperties struct {
	sType                                                    uint32
	pNext                                                    unsafe.Pointer
	subgroupSize, supportedStages, supportedOperations, quad uint32
}

type coopMatProperties struct {
	sType                       uint32
	pNext                       unsafe.Pointer
	m, n, k, a, b, c, result    uint32
	saturatingAccumulation, scp uint32
}

type specializationMapEntry struct {
	constantID, offset uint32
	size               uintptr
}

type specializationInfo struct {
	mapEntryCount uint32
	pMapEntries   *specializationMapEntry
	dataSize      uintptr
	pData         unsafe.Pointer
}

// coopSupport says whether the chosen device can run gemmcm, and if not
// why; it fills d.info.SubgroupSize either way, and d.info.CoopSize when
// it can.
func (d *Device) coopSupport() (bool, string) {
	props2 := d.vk.getInstanceProcAddr(d.instance, cString("vkGetPhysicalDeviceProperties2"))
	feats2 := d.vk.getInstanceProcAddr(d.instance, cString("vkGetPhysicalDeviceFeatures2"))
	if props2 == 0 || feats2 == 0 {
		return false, "the loader lacks Vulkan 1.1's vkGetPhysicalDeviceProperties2"
	}
	sg := &subgroupProperties{sType: stSubgroupProperties}
	p2 := &physicalDeviceProperties2{sType: stPhysicalDeviceProperties2, pNext: unsafe.Pointer(sg)}
	purego.SyscallN(props2, uintptr(d.phys), uintptr(unsafe.Pointer(p2)))
	d.info.SubgroupSize = sg.subgroupSize
	if !d.info.CooperativeMatrix {
		return false, "no VK_KHR_cooperative_matrix"
	}
	// The feature structs chained at device creation, the memory model and
	// SPIR-V 1.5 are Vulkan 1.2's.
	if api := *(*uint32)(unsafe.Pointer(&p2.properties[0])); api&^0xfff < 1<<22|2<<12 {
		return false, "Vulkan " + d.info.APIVersion + ", below the 1.2 the kernels need"
	}
	// Cooperative matrices below SPIR-V 1.6 need whole subgroups
	// (VK_EXT_subgroup_size_control's computeFullSubgroups).
	if !d.hasExtension(d.phys, "VK_EXT_subgroup_size_control") {
		return false, "no VK_EXT_subgroup_size_control"
	}
	ssc := &subgroupSizeControlProperties{sType: stSubgroupSizeControlProps}
	cmp := &coopMatDeviceProperties{sType: stCoopMatDeviceProperties, pNext: unsafe.Pointer(ssc)}
	p2 = &physicalDeviceProperties2{sType: stPhysicalDeviceProperties2, pNext: unsafe.Pointer(cmp)}
	purego.SyscallN(props2, uintptr(d.phys), uintptr(unsafe.Pointer(p2)))
	if cmp.supportedStages&stageCompute == 0 {
		return false, "no cooperative matrices in compute shaders"
	}
	if sg.supportedStages&stageCompute == 0 || sg.supportedOperations&subgroupFeatureBasic == 0 {
		return false, "no basic subgroup operations in compute shaders"
	}
	// Workgroups of whole subgroups of the largest size, gemmcm128's 8 of
	// them within a workgroup.
	d.coopLanes = ssc.maxSubgroupSize
	d.coopFixedLanes = ssc.minSubgroupSize == ssc.maxSubgroupSize
	if d.coopLanes == 0 || 8*d.coopLanes > d.info.MaxInvocations {
		return false, fmt.Sprintf("subgroups of up to %d invocations", d.coopLanes)
	}
	cm := &coopMatFeatures{sType: stCoopMatFeatures}
	sf := &subgroupSizeControlFeatures{sType: stSubgroupSizeControlFeats, pNext: unsafe.Pointer(cm)}
	mm := &memoryModelFeatures{sType: stMemoryModelFeatures, pNext: unsafe.Pointer(sf)}
	f16 := &float16Int8Features{sType: stFloat16Int8Features, pNext: unsafe.Pointer(mm)}
	f2 := &physicalDeviceFeatures2{sType: stPhysicalDeviceFeatures2, pNext: unsafe.Pointer(f16)}
	purego.SyscallN(feats2, uintptr(d.phys), uintptr(unsafe.Pointer(f2)))
	switch {
	case f16.shaderFloat16 == 0:
		return false, "no float16 arithmetic in shaders"
	case mm.vulkanMemoryModel == 0 || mm.deviceScope == 0:
		// With the memory model enabled, every kernel's Device-scope
		// barriers need vulkanMemoryModelDeviceScope too.
		return false, "no Vulkan memory model with device scope"
	case sf.computeFullSubgroups == 0:
		return false, "no computeFullSubgroups"
	case cm.cooperativeMatrix == 0:
		return false, "cooperative matrices not enabled for shaders"
	}
	list := d.vk.getInstanceProcAddr(d.instance, cString("vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR"))
	if list == 0 {
		return false, "the loader lacks vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR"
	}
	var n uint32
	if r, _, _ := purego.SyscallN(list, uintptr(d.phys), uintptr(unsafe.Pointer(&n)), 0); vkResult(r) != vkSuccess || n == 0 {
		return false, "no cooperative matrix shapes listed"
	}
	shapes := make([]coopMatProperties, n)
	for i := range shapes {
		shapes[i].sType = stCoopMatProperties
	}
	if r, _, _ := purego.SyscallN(list, uintptr(d.phys), uintptr(unsafe.Pointer(&n)), uintptr(unsafe.Pointer(&shapes[0]))); vkResult(r) != vkSuccess && vkResult(r) != vkIncomplete {
		return false, "no cooperative matrix shapes listed"
	}
	var offered []string
	for _, s := range shapes[:n] {
		if (s.m == 16 || s.m == 8) && s.n == s.m && s.k == s.m && s.a == componentFloat16 && s.b == componentFloat16 &&
			s.c == componentFloat32 && s.result == componentFloat32 && s.saturatingAccumulation == 0 && s.scp == scopeSubgroup {
			d.info.CoopSize = max(d.info.CoopSize, s.m)
		}
		offered = append(offered, fmt.Sprintf("%d×%d×%d %s·%s+%s→%s scope %d", s.m, s.n, s.k,
			componentName(s.a), componentName(s.b), componentName(s.c), componentName(s.result), s.scp))
	}
	if d.info.CoopSize > 0 {
		return true, ""
	}
	return false, "no 16×16×16 or 8×8×8 float16 shape with float32 accumulation at subgroup scope; offers " + strings.Join(offered, ", ")
}

// componentName names a VkComponentTypeKHR.
func componentName(c uint32) string {
	names := []string{"f16", "f32", "f64", "s8", "s16", "s32", "s64", "u8", "u16", "u32", "u64"}
	if int(c) < len(names) {
		return names[c]
	}
	return fmt.Sprint("type ", c)
}

// coopExtensions are the device extensions gemmcm needs enabled.
var coopExtensions = []string{"VK_KHR_cooperative_matrix", "VK_EXT_subgroup_size_control"}

// coopFeatures is the pNext chain that enables what gemmcm needs at
// device creation (its structs must outlive the createDevice call).
func coopFeatures() unsafe.Pointer {
	cm := &coopMatFeatures{sType: stCoopMatFeatures, cooperativeMatrix: 1}
	sf := &subgroupSizeControlFeatures{sType: stSubgroupSizeControlFeats, pNext: unsafe.Pointer(cm), computeFullSubgroups: 1}
	mm := &memoryModelFeatures{sType: stMemoryModelFeatures, pNext: unsafe.Pointer(sf), vulkanMemoryModel: 1, deviceScope: 1}
	f16 := &float16Int8Features{sType: stFloat16Int8Features, pNext: unsafe.Pointer(mm), shaderFloat16: 1}
	return unsafe.Pointer(f16)
}

// The precisions of the products (SetMatmul).
const (
	// MatmulF32 multiplies float32 operands in float32: the CPU's results
	// to rounding (the default).
	MatmulF32 = "f32"
	// MatmulF16 multiplies on tensor cores: operands (float32, or a 16-bit
	// weight widened) scaled per row and column into float16, accumulated
	// in float32 (gemmcm.comp says how, and the error it keeps). Products
	// of a few rows (decoding, gemv) stay as they are.
	MatmulF16 = "f16"
)

// SetMatmul chooses the precision of the products recorded from now on:
// MatmulF32 or MatmulF16, the latter only on a device that runs it
// (Info.MatmulF16): a device without cooperative matrices answers an
// error that is compute.ErrNoMatmulF16 (errors.Is), one whose kernels on
// them failed to build another. A device that failed or is closed answers
// MatmulF16 with its error (Backend.Err's) and builds nothing: its handles
// may be gone (Close) or lost, and no product it records would run.
func (d *Device) SetMatmul(precision string) error {
	switch precision {
	case MatmulF32:
		d.matmul16 = false
		return nil
	case MatmulF16:
		if !d.info.MatmulF16 {
			return &Error{Kind: ErrSetting, Device: d.info.Name, Op: "multiply in float16",
				Err: fmt.Errorf("%w (%s); use matmul %q", compute.ErrNoMatmulF16, d.info.NoMatmulF16, MatmulF32)}
		}
		if d.err != nil {
			return d.err
		}
		if err := d.buildCoop(); err != nil {
			return err
		}
		if !d.has(kGemmCM) || !d.has(kGemmScale) {
			return &Error{Kind: ErrSetting, Device: d.info.Name, Op: "multiply in float16",
				Err: fmt.Errorf("the driver failed to build gemmcm (%v); use matmul %q", d.info.Unavailable, MatmulF32)}
		}
		d.matmul16 = true
		return nil
	}
	return &Error{Kind: ErrSetting, Device: d.info.Name, Op: "choose the products' precision",
		Err: fmt.Errorf("%q is neither %q nor %q", precision, MatmulF32, MatmulF16)}
}

// Matmul is the precision SetMatmul chose.
func (d *Device) Matmul() string {
	if d.matmul16 {
		return MatmulF16
	}
	return MatmulF32
}

type gemmScalePush struct{ m, n, k, lda, ldb, flags, kChunk uint32 }

// scaleAtomic: gemmscale's slices of K raise the maxima atomically.
const scaleAtomic = 256

// coopFor reports whether a product with B of type dt runs on gemmcm:
// float32 B always, a 16-bit weight where gemmcm16 was built.
func (d *Device) coopFor(dt compute.DType) bool {
	return !dt.Is16() || d.has(kGemmCM16) && d.has(kGemmScale16)
}

// gemmCoop records p (not a gemv) on gemmcm: the operands' line maxima
// into a scratch slot, then the product (gemmOn). b16:
// B is a 16-bit weight (p.flags says which), on gemmcm16.
func (d *Device) gemmCoop(c, a, b, bias binding, p gemmPush, b16 bool) {
	scaleKern, small, big := kGemmScale, kGemmCM, d.coopBig
	if b16 {
		scaleKern, small, big = kGemmScale16, kGemmCM16, kGemmCM128x16
	}
	// The lines' largest magnitudes, over slices of K where the lines alone
	// would not fill a GPU (splitTarget workgroups, 0 on a CPU device;
	// slices of at least 8·splitMinK).
	scaleBytes := uint64(p.m+p.n) * 4
	sc, err := d.scratch(scratchScales, scaleBytes)
	if err != nil {
		return
	}
	sb := binding{b: sc, size: scaleBytes}
	groupsA, groupsB := ceilDiv32(p.m, 32), ceilDiv32(p.n, 32)
	if groupsA+groupsB > d.info.MaxWorkGroupCount[0] {
		panic(fmt.Sprintf("vulkan: product of %d×%d needs %d scale workgroups, beyond the device's %d", p.m, p.n, groupsA+groupsB, d.info.MaxWorkGroupCount[0]))
	}
	slices := uint32(1)
	if d.splitTarget > 0 && d.splitMinK > 0 {
		slices = max(1, min(ceilDiv32(d.splitTarget, groupsA+groupsB), p.k/(8*d.splitMinK), d.info.MaxWorkGroupCount[2]))
	}
	sp := gemmScalePush{m: p.m, n: p.n, k: p.k, lda: p.lda, ldb: p.ldb, flags: p.flags & (gemmTransA | gemmTransB | gemmF16), kChunk: ceilDiv32(p.k, slices)}
	if slices > 1 { // raised atomically from zeros, slice by slice
		sp.flags |= scaleAtomic
		d.fillZero(sc, scaleBytes)
	}
	dispatch(d, scaleKern, &sp, [3]uint32{groupsA + groupsB, 1, slices}, sb, a, b)
	// gemmcm's tiles are 64×64 and 128×128 at T = 16, half at T = 8.
	kern := small
	if d.gemmTileFor(p.m, p.n, p.k) == gemmBigTile && d.has(big) {
		kern = big
	}
	g := coopGeometry[kern]
	d.gemmOn(kern, g.tile*d.info.CoopSize/16, g.kstep, c, a, b, bias, p, sb)
}

// buildCoop builds the kernels on cooperative matrices, once: the first
// time products are asked for in float16, not at Open. A float32 run
// then never hands them to the driver, whose compiler is the least tried
// with them (drivers have crashed compiling cooperative matrices beside
// subgroup operations, which no error value can report), and Open
// compiles 14 fewer pipelines. A kernel that fails to build is named in
// Info.Unavailable as at Open; RLT_VULKAN_GEMMCM's shape failing is the
// error.
func (d *Device) buildCoop() error {
	if d.coopBuilt {
		return d.coopErr
	}
	d.coopBuilt = true
	d.coopErr = d.buildKernels(func(k kernelID) bool { return coopKernels[k] && !isCoopShape(k) })
	if d.coopErr == nil && d.coopShape != kGemmCM128 {
		d.coopErr = d.useCoopShape(d.coopShape)
	}
	return d.coopErr
}

// isCoopShape reports whether k is one of gemmcm128's other shapes
// (coopShapes), built only when chosen.
func isCoopShape(k kernelID) bool {
	for _, s := range coopShapes {
		if s == k {
			return true
		}
	}
	return false
}

// useCoopShape makes shape (gemmcm128 or one of coopShapes) the kernel of gemmcm's
// 128×128 tiles with a float32 B from now on, building it first if
// needed; a shape that fails to build is an error, and the one in use
// stays.
func (d *Device) useCoopShape(shape kernelID) error {
	if !d.has(shape) {
		if err := d.buildKernel(shape); err != nil {
			return err
		}
	}
	d.coopBig = shape
	return nil
}
