// Package compute holds the numbers of the workbench: float32 tensors stored as
// gorgonia.org/tensor Dense values (and frozen weights kept in 16 bits,
// computed in float32), the Backend seam that a GPU implementation can
// slot into, the CPU backend built on the fast kernels in the sub-packages, a
// reverse-mode tape of coarse operations, and the optimisers.
//
// Sub-packages are slice-level building blocks: gemm (packed, SIMD matrix
// multiply), kernels (fused single-threaded row-range kernels with their
// backward passes), parallel (the persistent worker pool) and half (16-bit
// float conversions). vulkan is the GPU backend, backendtest the suite that
// holds every backend to the CPU's, and cputime the process CPU time the
// benchmarks of every layer report.
package compute
