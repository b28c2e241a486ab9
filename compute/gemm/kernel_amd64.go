//go:build amd64 && !purego

package gemm

//go:generate go run ./internal/asmgen

// archKernels returns the amd64 assembly kernels, best first.
func archKernels() []*microKernel {
	return []*microKernel{
		{name: "avx512", mr: 14, nr: 32, fn: kernAVX512x14x32, rows: avx512Rows14x32[:], kc: 256, mc: 336, nc: 4096},
		{name: "avx2", mr: 6, nr: 16, fn: kernAVX2x6x16, kc: 256, mc: 144, nc: 4096},
	}
}

func init() {
	if kernelSupported("avx512") {
		transPack16 = transPack16AVX512
	}
}
