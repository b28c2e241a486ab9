package vulkan

import (
	"encoding/binary"
	"fmt"
	"os"
	"sync"
)

// SPIR-V's type and constant instructions, for sharedBytes.
const (
	spvOpTypeBool     = 20
	spvOpTypeInt      = 21
	spvOpTypeFloat    = 22
	spvOpTypeVector   = 23
	spvOpTypeArray    = 28
	spvOpConstant     = 43
	spvStorageWorkgrp = 4 // StorageClass Workgroup: shared memory
)

// spirvInstructions checks words is a SPIR-V module and calls visit with
// each instruction past the header: its opcode and its operands. An
// instruction whose word count is zero or runs past the module is an
// error, said with the word it starts at.
func spirvInstructions(words []uint32, visit func(op uint32, a []uint32)) error {
	if len(words) < 5 || words[0] != 0x07230203 {
		return fmt.Errorf("not a SPIR-V module")
	}
	for i := 5; i < len(words); {
		wc, op := int(words[i]>>16), words[i]&0xffff
		if wc == 0 || i+wc > len(words) {
			return fmt.Errorf("instruction at word %d runs past the module", i)
		}
		visit(op, words[i+1:i+wc])
		i += wc
	}
	return nil
}

// sharedBytes is the shared memory a kernel's SPIR-V declares: the sum of
// its Workgroup variables, each of scalars, vectors and arrays of them
// sized as declared (an array's length a plain constant). A kernel whose
// shared arrays take their length from a specialization constant, or
// whose shared variables are of other types, is an error: their size is
// known only as the pipeline is built.
func sharedBytes(words []uint32) (uint32, error) {
	size := map[uint32]uint64{}     // type → bytes
	constant := map[uint32]uint32{} // a constant's id → its (first word's) value
	pointee := map[uint32]uint32{}  // a Workgroup pointer type → its type
	var vars []uint32               // the Workgroup variables' pointer types
	err := spirvInstructions(words, func(op uint32, a []uint32) {
		switch {
		case op == spvOpTypeBool && len(a) >= 1:
			size[a[0]] = 4
		case (op == spvOpTypeInt || op == spvOpTypeFloat) && len(a) >= 2:
			size[a[0]] = uint64(a[1]) / 8
		case op == spvOpTypeVector && len(a) >= 3:
			size[a[0]] = size[a[1]] * uint64(a[2])
		case op == spvOpTypeArray && len(a) >= 3:
			if n, ok := constant[a[2]]; ok {
				size[a[0]] = size[a[1]] * uint64(n)
			}
		case op == spvOpConstant && len(a) >= 3:
			constant[a[1]] = a[2]
		case op == spvOpTypePointer && len(a) >= 3 && a[1] == spvStorageWorkgrp:
			pointee[a[0]] = a[2]
		case op == spvOpVariable && len(a) >= 3 && a[2] == spvStorageWorkgrp:
			vars = append(vars, a[0])
		}
	})
	if err != nil {
		return 0, err
	}
	var n uint64
	for _, p := range vars {
		b, ok := size[pointee[p]]
		if !ok || b == 0 {
			return 0, fmt.Errorf("a shared variable of type %%%d, whose size is not a plain declaration's", pointee[p])
		}
		n += b
	}
	if n > 1<<32-1 {
		return 0, fmt.Errorf("%d bytes of shared memory", n)
	}
	return uint32(n), nil
}

// kernelShared is the shared memory kernel k's embedded SPIR-V declares
// (sharedBytes), read once a process: the probe asks it of every kernel.
func kernelShared(k kernelID) (uint32, error) {
	n := kernelSharedAll()[k]
	return n.bytes, n.err
}

// sharedNeed is one kernel's answer of sharedBytes.
type sharedNeed struct {
	bytes uint32
	err   error
}

var kernelSharedAll = sync.OnceValue(func() []sharedNeed {
	all := make([]sharedNeed, len(kernelSpecs))
	for k, spec := range kernelSpecs {
		code, err := spirv.ReadFile("shaders/" + spec.name + ".spv")
		if err != nil || len(code)%4 != 0 {
			all[k].err = fmt.Errorf("embedded SPIR-V of %s missing or malformed: %v", spec.name, err)
			continue
		}
		words := make([]uint32, len(code)/4)
		for i := range words {
			words[i] = binary.LittleEndian.Uint32(code[4*i:])
		}
		all[k].bytes, all[k].err = sharedBytes(words)
	}
	return all
})

// kernelFits says why kernel k cannot run on a device of maxShared bytes
// of shared memory a workgroup, or nil: it needs what its SPIR-V declares
// (gemm128 16,896 bytes, gemv 16,384, gemv3 and gemv_glu 20,480,
// attention's float32 tiles up to 30,592; Vulkan guarantees 16,384, and
// every kernel without a fallback fits in it, shortlist's 13,320 the
// most). It is the one rule for every kernel: buildKernel leaves out an
// optional one that does not fit (Info.Unavailable; its op takes its
// fallback), and choose refuses a device that cannot hold a kernel with
// none, at the probe already. They were built on any device, past its
// limit, where a driver may refuse them or run them wrong. A kernel whose
// shared arrays are sized as the pipeline is built (specialization
// constants: those on cooperative matrices) is nil here: attnCoopFits and
// their builds check them.
func kernelFits(k kernelID, maxShared uint32) error {
	need, err := kernelShared(k)
	if err != nil || need <= maxShared {
		return nil // a missing or malformed SPIR-V is buildKernel's to say
	}
	e := &sharedShortError{need: need, have: maxShared}
	if v := os.Getenv("RLT_VULKAN_MAX_SHARED"); v != "" {
		if n, err := maxSharedSetting(v); err == nil && n == maxShared { // the limit is the setting's, not the device's
			e.setting = v
		}
	}
	return e
}

// sharedShortError is kernelFits's answer: a kernel needs more shared
// memory a workgroup than the device has. buildKernels tells it from a
// driver's refusal (KernelLeftOut.SharedShort).
type sharedShortError struct {
	need, have uint32
	setting    string // RLT_VULKAN_MAX_SHARED, where it set the limit
}

func (e *sharedShortError) Error() string {
	msg := fmt.Sprintf("needs %d bytes of shared memory, the device has %d", e.need, e.have)
	if e.setting != "" {
		msg += " (RLT_VULKAN_MAX_SHARED=" + e.setting + ")"
	}
	return msg
}

// requiredFit says why the device cannot hold a kernel that has no
// fallback (not in optionalKernels), or nil: Open would fail building it,
// so choose refuses the device asked for by its index (gpu:N), and a
// probe with it; ranking, it passes over such a device (pick).
func requiredFit(in Info) error {
	if name, err := requiredShort(in.MaxSharedMemory); err != nil {
		return &Error{Kind: ErrPipeline, Device: in.Name, Op: "build kernel " + name, Err: err}
	}
	return nil
}

// requiredShort names the first kernel without a fallback that a device
// of maxShared bytes of shared memory a workgroup cannot hold, with
// kernelFits's answer; "" and nil where it holds them all, as every
// device Vulkan allows does (16 KiB at least).
func requiredShort(maxShared uint32) (string, error) {
	for k, spec := range kernelSpecs {
		if optionalKernels[kernelID(k)] {
			continue
		}
		if err := kernelFits(kernelID(k), maxShared); err != nil {
			return spec.name, err
		}
	}
	return "", nil
}

// attnTilesFit says why the float32 tiles attnTileSets[set] cannot run on
// a device of maxShared bytes of shared memory a workgroup, or nil: the one
// rule for the kernels the ops take and for the bound of their scratch.
// buildKernel leaves out a kernel that does not fit (kernelFits), so
// attnBuilt is false and the ops take the row kernels (attnRowsBySet); a
// probe, which builds nothing, counts the row kernels for the set
// (Info.attnRows) by the same test. They were built unasked, and a probe
// counted the tiles, on any device: one that refused them ran the row
// kernels, whose scratch ([T, T] a head) the estimate did not count.
func attnTilesFit(set int, maxShared uint32) error {
	t := attnTileSets[set]
	for _, k := range []kernelID{t.fwd, t.dq, t.dkv} {
		if err := kernelFits(k, maxShared); err != nil {
			return fmt.Errorf("%s %w", kernelSpecs[k].name, err)
		}
	}
	return nil
}
