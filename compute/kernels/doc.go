// Package kernels holds single-threaded float32 kernels on row-major slices,
// each with its backward pass.
//
// Every kernel works on an index range [lo, hi) (rows, elements or work items,
// as documented per function) so that a caller can split the work across
// threads; no kernel starts goroutines or allocates. Backward kernels
// accumulate into their gradient outputs (dx += …) and never overwrite them;
// weight and bias gradients accumulate into the slice given, so each thread can
// be handed a private partial buffer that the caller sums.
//
// Layouts: activations are [N, d] rows with token n = b·T + t. Attention takes
// q [B, T, H, hd], k and v [B, T, KV, hd] (the natural reshape of a linear
// layer's output) and writes out [B, T, H, hd]. Semantics follow the Qwen2
// PyTorch peer (shared/bench/torch_ref.py): RMSNorm x·rsqrt(mean(x²)+eps)·w,
// RoPE with the Hugging Face rotate-half pairing (j with j+hd/2), GQA mapping
// query head h to kv head h/(H/KV), SiLU-gated MLP and scaled causal softmax
// attention. TestTorchParity checks them against PyTorch itself through a
// fixture written by testdata/torch_parity.py.
//
// Implementation: on amd64 CPUs with AVX-512 (F, DQ, VL and BMI2, detected at
// start-up) the hot loops run in Go assembly (exp_amd64.s, matmul_amd64.s,
// vec_amd64.s); elsewhere, or with the purego build tag, plain Go loops do the
// same work. The exponential (exp.go) is evaluated in float64 from a 32-entry
// table and a cubic, and rounded once, so it is within 1 ulp of exp in float32
// (max relative error 6e-8); its assembly and Go forms agree bit for bit, as do
// the elementwise kernels (SwiGLU, RMSNorm's scaling passes, RoPE, AdamW).
// Reductions and the small matrix products of attention sum in a different
// order on the two paths, so results agree to rounding only. Every kernel is
// deterministic: splitting [lo, hi) into pieces gives bit-identical results.
//
// The matrix products inside attention go through sgemm (matmul.go), which has
// the signature of gemm.SgemmSerial, so swapping in that package is a one-line
// change per call site.
package kernels
