// Package vulkan computes on a GPU through Vulkan: a Device with tensors
// resident in device memory and compute kernels written in GLSL, compiled to
// SPIR-V by `go generate ./compute/vulkan` (glslc) and embedded, so building
// needs neither a shader compiler nor cgo. The Vulkan entry points are bound
// at run time over github.com/ebitengine/purego (dlopen libvulkan.so.1).
// Mesa's lavapipe runs the same SPIR-V on the CPU, so every kernel is tested
// against the CPU backend (compute.NewCPU; training attention against a
// float64 reference) on machines without a GPU.
//
// Ops record into a command buffer and return; one submission with one fence
// runs the batch when the host needs a result (Read, Flush) or the batch's
// descriptor or staging space runs out. There is no sync per op.
//
// TestValidationLayer re-runs the device tests under Khronos' validation
// layer with synchronization validation and fails on any message (it skips
// where the layer is not installed; Debian: vulkan-validationlayers):
// lavapipe computes right through a missing barrier that a real GPU would
// not forgive.
//
// Not yet a compute.Backend, and not yet selectable with --device: it has
// Write, Read, Zero, Copy, Linear, LinearBackward, MatMul, RMSNorm(+backward),
// SwiGLU(+backward), Add, Accumulate, Scale, Mix, AdamW,
// TokenLogProbs(+backward), Embedding(+backward), GatherRows,
// ScatterRowsBackward, RoPE(+backward), NewRoPETable, KL, Entropy, Argmax,
// SumSquares, AllFinite, CacheWrite, AttentionDecode, FreezeWeights,
// ThawWeights, and training Attention(+backward) in the form issue 10 asks of
// the Backend: the forward saves each row's log-sum-exp [B, H, T] instead of
// [B, H, T, T] probabilities and the backward recomputes them (the CPU backend
// still saves probabilities, so it is checked against a float64 reference).
// Left: matching whatever Backend signatures issue 10 settles on (fused LM
// head, 16-bit weights), tensors past maxStorageBufferRange (128 MiB on
// lavapipe) split across buffers, and a way to wrap device buffers in
// compute.Tensor (compute has no exported constructor for tensors with foreign
// storage), after which the Device can implement compute.Backend and be
// selected. The GEMM is a plain shared-memory tiled kernel; a cooperative-
// matrix (tensor core) path is not written yet (Info.CooperativeMatrix says
// whether the device could run one).
package vulkan
