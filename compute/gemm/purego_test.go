//go:build purego

package gemm

import "testing"

// TestPuregoRunsGoAlone: -tags purego builds no assembly, as it does in
// compute/kernels, so the products run the generic kernel and the Go
// packers whatever the CPU has. The tag once changed nothing here: the
// assembly was built on every amd64 and chosen where the CPU had AVX-512
// or AVX2, and the Go kernel ran only where the tests forced it.
func TestPuregoRunsGoAlone(t *testing.T) {
	if Kernel() != "generic" || len(kernels) != 1 || transPack16 != nil || len(variantKernels()) != 0 {
		t.Fatalf("under -tags purego: kernel %q of %d, SIMD packer %v, %d variants; want the generic kernel alone and no packer",
			Kernel(), len(kernels), transPack16 != nil, len(variantKernels()))
	}
}
