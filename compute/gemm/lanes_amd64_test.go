//go:build amd64 && !purego

package gemm

// variantKernels are the generated kernels the driver does not use, kept for
// re-measuring (BenchmarkMicroKernel, BenchmarkTune): proven like the others,
// so that a measurement never favours a kernel that is wrong.
func variantKernels() []labelledKernel {
	return []labelledKernel{
		{"avx512", &microKernel{name: "avx512", mr: 6, nr: 64, fn: kernAVX512x6x64}},
		{"avx512bcst", &microKernel{name: "avx512", mr: 14, nr: 32, fn: kernAVX512x14x32b}},
	}
}

// simdPacker is the AVX-512 transposing packer where the CPU has it.
func simdPacker() func(src *float32, lds int, dst *float32, ldd int, blocks int, rows int, mask int, alpha float32) {
	if kernelSupported("avx512") {
		return transPack16AVX512
	}
	return nil
}
