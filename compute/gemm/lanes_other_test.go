//go:build !amd64 || purego

package gemm

// variantKernels: only amd64 has generated kernels.
func variantKernels() []labelledKernel {
	return nil
}

// simdPacker: only amd64 has a SIMD packer.
func simdPacker() func(src *float32, lds int, dst *float32, ldd int, blocks int, rows int, mask int, alpha float32) {
	return nil
}
