// Package vulkan computes on a GPU through Vulkan: a Device with tensors
// resident in device memory and compute kernels written in GLSL, compiled to
// SPIR-V by `go generate ./compute/vulkan` (glslc) and embedded, so building
// needs neither a shader compiler nor cgo. The Vulkan entry points are bound
// at run time over github.com/ebitengine/purego (dlopen libvulkan.so.1).
// Mesa's lavapipe runs the same SPIR-V on the CPU, so every kernel is tested
// against the CPU backend (compute.NewCPU; training attention against a
// float64 reference) on machines without a GPU.
//
// Ops record into a command buffer and return; the batch runs, with one
// fence, when the host needs a result (Read, Flush) or the batch's
// descriptor or staging space runs out. There is no sync per op. On a GPU
// the batch goes to the queue in pieces as it is recorded (after 32
// dispatches, then 64 more, 128, …; RLT_VULKAN_KICK sets the first, 0
// turns it off), so the GPU computes while the host records the rest.
// A command waits behind a barrier only where it reads what the commands
// since the last barrier wrote or writes what they touched (hazard.go;
// which bindings a kernel writes is read from its SPIR-V), so independent
// kernels may overlap; RLT_VULKAN_BARRIERS=all puts one after every command. Operands
// go in with push descriptors where the device has VK_KHR_push_descriptor
// (RLT_VULKAN_PUSH_DESCRIPTORS=0 falls back to descriptor sets, as on
// devices without it), a repeated kernel is not bound again, and the
// calls go through purego.SyscallN (hot.go): recording a dispatch costs
// the host about 2 µs (BenchmarkRecord).
//
// TestValidationLayer re-runs the device tests under Khronos' validation
// layer with synchronization validation and fails on any message (it skips
// where the layer is not installed; Debian: vulkan-validationlayers):
// lavapipe computes right through a missing barrier that a real GPU would
// not forgive. engine/model, engine/sample and engine/rlt do the same for
// whole models, draws and a GRPO step (backendtest.UnderValidationLayer).
//
// Backend (NewBackend) is the compute.Backend on a Device, selected with
// --device gpu or auto (engine/device); compute/backendtest checks every
// op against the CPU backend. The fused LM head runs as gather, GEMM,
// log-prob/entropy/KL kernels and scatter a chunk of rows at a time.
// Device memory of unreachable tensors is freed through finalizers.
// 16-bit frozen weights (New16: BF16 or F16) are held as 16-bit storage,
// two to a 32-bit word, half a float32 tensor's memory. The kernels that
// read weights widen them as they load: the GEMM's B operand (gemm16:
// Linear, and the fused head's logits in HeadLogProbs and HeadKL) and
// the row gather (rows16: Embedding, GatherRows). Every other kernel
// reads float32 and refuses a 16-bit operand (a programmer error, as on
// the CPU), except the conversion kernel (convert): Copy between any two
// types and Mix where either side is 16-bit (a reference model's sync
// into 16-bit weights) run on the device, one invocation per 32-bit word
// written. Widening is exact; rounding to 16 bits is compute/half's
// integer algorithm, bit for bit (NaNs, overflow to Inf, F16 subnormals),
// not packHalf2x16, whose rounding Vulkan leaves to the implementation
// (lavapipe's turns every NaN into 0x7e00); the mix is kernels.Mix's, two
// roundings in float32 (precise: no fused multiply-add). TestConvert
// compares every direction with the CPU bit for bit; a mix may differ only
// where Vulkan leaves it to the device: an arithmetic NaN's payload, and
// float32 subnormals a device flushes to zero (lavapipe does neither).
//
// Products pick their kernel by shape (Device.gemm): gemv for a few rows
// (decoding) x·wᵀ; gemm128 for large products (both sides at least 128,
// and at least 256 workgroups of 128×128 tiles, counting split-K slices):
// 8×8 outputs per invocation, k-steps of 8 double-buffered through shared
// memory, 4-element global loads where the leading dimensions allow; the
// 64×64-tile gemm otherwise. Either is split along K on a GPU when its
// output tiles alone would leave the device idle (gemm_reduce adds the
// slices in order). The environment variable RLT_VULKAN_GEMM, read at
// Open, forces the tile of every product that is not a gemv: 64 (gemm) or
// 128 (gemm128), to time one against the other on a GPU (bench/gpu.sh;
// BenchmarkLinear also times both); any other value fails Open.
// RLT_VULKAN_SPLIT=0 never splits along K (A/B timing on a GPU); =gpu
// splits as a GPU does on any device, so that a profile on lavapipe shows
// the workgroups each dispatch would run on a GPU.
// Decoding records fewer commands: LinearAdd adds a projection into the
// residual stream (beta 1, no separate add); for the rows gemv takes,
// Linear3 runs the input RMSNorm, q, k and v as one kernel (gemv3) and
// GatedLinear the post-attention RMSNorm and a gated MLP's gate, up and
// SwiGLU (gemv_glu), the norm's 1/rms scaling each row's sums;
// RotaryCacheWrite rotates q and k and stores keys and values in one
// dispatch (rope_cache); all three are off under RLT_VULKAN_FUSE=0.
// Reductions over long dimensions (column sums, the embedding's
// scatter-add, attention's value sum) spread over many invocations and add
// in a fixed order, so results repeat run to run.
//
// Training attention and prefills run FlashAttention-2's algorithm on
// tiles (attn_fa*): a workgroup holds a tile of queries, the keys and
// values pass through shared memory a tile at a time with an online
// softmax, and the backward splits into a query-tile pass (dq, and D =
// dout·out) and a key-tile pass per head (dk, dv) whose heads attn_fa_sum
// adds in order, as the CPU's kernels.AttentionBackward blocks them. Tiles
// hold 2048 floats of each operand: 32 rows for head dimensions up to 64,
// 16 up to 128; larger heads, decoding (fewer than 8 new tokens),
// RLT_VULKAN_ATTN=rows (read at Open, for A/B timing) and a device whose
// shared memory cannot hold a tile set's kernels (attnTilesFit: up to
// 30,592 bytes, as their SPIR-V declares; kernelFits is the rule for every
// kernel, RLT_VULKAN_MAX_SHARED lowers the limit for tests) take the row
// kernels, one workgroup per query row
// (attn; attn_ds, attn_dq, attn_dkv through [T, T] scratch). Under matmul f16, heads up to 128 wide run the
// same three passes with their products on tensor cores (attn_cm,
// attn_cm_dq, attn_cm_dkv, and attn_cm128* for heads past 64: four
// subgroups of T rows per tile, every operand tile scaled by a power of two
// into float16's range, softmax and the probabilities' gradients in
// float32; attn_cm.glsl); RLT_VULKAN_ATTN=f32 keeps them on the float32
// tiles.
//
// The fast paths (gemv, gemm128, gemm_reduce, the tiled attention) are
// optional: a driver that fails to build one leaves it out
// (Info.Unavailable, and the device's reason in engine/device says so)
// and the ops take the plain kernels (the 64×64 gemm, the row attention).
//
// RLT_VULKAN_LOSE_AFTER=N, read at Open, makes the Nth batch's fence
// report VK_ERROR_DEVICE_LOST as a driver does when a GPU fails: how the
// layers above meet a device lost mid-run, tested on any device.
//
// Device.StartProfile times every command with device timestamps and
// keeps each kernel's fewest and most workgroups a dispatch; the device
// benchmarks print it with RLT_BENCH_PROFILE=1 (bench/gpu.sh).
// Measured once on an NVIDIA H200 (docs/gpu.md): correct, toy sampling faster
// than PyTorch eager, the 0.5B training step far slower (the 64×64 gemm
// at about a third of cuBLAS float32). The changes above, gemm128, the
// tensor-core products (gemmcm, coopmat.go) and the tiled attention
// included, came after that run and are not yet measured on a GPU.
//
// A tensor is one allocation (up to maxMemoryAllocationSize); the ops
// that meet tensors past maxStorageBufferRange (lavapipe: 128 MiB;
// Qwen2.5-0.5B's embedding is 519 MiB) bind them a window at a time
// (bindwindow.go), and any other kernel refuses such an operand with
// ErrTooLarge.
//
// Left: 16-bit activations.
package vulkan
