package vulkan

import (
	"encoding/binary"
	"fmt"
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

// sharedBytes is the shared memory a kernel's SPIR-V declares: the sum of
// its Workgroup variables, each of scalars, vectors and arrays of them
// sized as declared (an array's length a plain constant). A kernel whose
// shared arrays take their length from a specialization constant, or
// whose shared variables are of other types, is an error: their size is
// known only as the pipeline is built.
func sharedBytes(words []uint32) (uint32, error) {
	if len(words) < 5 || words[0] != 0x07230203 {
		return 0, fmt.Errorf("not a SPIR-V module")
	}
	size := map[uint32]uint64{}     // type → bytes
	constant := map[uint32]uint32{} // a constant's id → its (first word's) value
	pointee := map[uint32]uint32{}  // a Workgroup pointer type → its type
	var vars []uint32               // the Workgroup variables' pointer types
	for i := 5; i < len(words); {
		wc, op := int(words[i]>>16), words[i]&0xffff
		if wc == 0 || i+wc > len(words) {
			return 0, fmt.Errorf("instruction at word %d runs past the module", i)
		}
		a := words[i+1 : i+wc]
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
		i += wc
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
// (sharedBytes).
func kernelShared(k kernelID) (uint32, error) {
	code, err := spirv.ReadFile("shaders/" + kernelSpecs[k].name + ".spv")
	if err != nil || len(code)%4 != 0 {
		return 0, fmt.Errorf("embedded SPIR-V of %s missing or malformed: %v", kernelSpecs[k].name, err)
	}
	words := make([]uint32, len(code)/4)
	for i := range words {
		words[i] = binary.LittleEndian.Uint32(code[4*i:])
	}
	return sharedBytes(words)
}

// attnTileFits says why float32 tile kernel k (one of attnTileSets') cannot
// run on a device of maxShared bytes of shared memory a workgroup, or nil
// (also for any other kernel): it needs what its SPIR-V declares
// (attn_fa_dq32 and attn_fa_dkv32 30,592 bytes, attn_fa_dq16 and
// attn_fa_dkv16 26,560; Vulkan guarantees 16,384).
func attnTileFits(k kernelID, maxShared uint32) error {
	for _, t := range attnTileSets {
		if k != t.fwd && k != t.dq && k != t.dkv {
			continue
		}
		need, err := kernelShared(k)
		if err != nil {
			return err
		}
		if need > maxShared {
			return fmt.Errorf("needs %d bytes of shared memory, the device has %d", need, maxShared)
		}
	}
	return nil
}

// attnTilesFit says why the float32 tiles attnTileSets[set] cannot run on
// a device of maxShared bytes of shared memory a workgroup, or nil: the one
// rule for the kernels the ops take and for the bound of their scratch.
// buildKernel leaves out a kernel that does not fit (attnTileFits), so
// attnBuilt is false and the ops take the row kernels (attnRowsBySet); a
// probe, which builds nothing, counts the row kernels for the set
// (Info.attnRows) by the same test. They were built unasked, and a probe
// counted the tiles, on any device: one that refused them ran the row
// kernels, whose scratch ([T, T] a head) the estimate did not count.
func attnTilesFit(set int, maxShared uint32) error {
	t := attnTileSets[set]
	for _, k := range []kernelID{t.fwd, t.dq, t.dkv} {
		if err := attnTileFits(k, maxShared); err != nil {
			return fmt.Errorf("%s %w", kernelSpecs[k].name, err)
		}
	}
	return nil
}
