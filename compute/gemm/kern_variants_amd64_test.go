//go:build amd64 && !purego

package gemm

// kernelVariants are every generated kernel, for tuning benchmarks.
var kernelVariants = []*microKernel{
	{name: "avx512", mr: 14, nr: 32, fn: kernAVX512x14x32},
	{name: "avx512", mr: 6, nr: 64, fn: kernAVX512x6x64},
	{name: "avx512", mr: 14, nr: 32, fn: kernAVX512x14x32b},
	{name: "avx2", mr: 6, nr: 16, fn: kernAVX2x6x16},
}
