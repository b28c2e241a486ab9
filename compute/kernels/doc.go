// Package kernels holds single-threaded float32 kernels on row-major slices,
// each with its backward pass.
//
// Every kernel works on an index range [lo, hi) (rows, elements or work items,
// as documented per function) so that a caller can split the work across
// threads; no kernel starts goroutines. Backward kernels accumulate into their
// gradient outputs (dx += …) and never overwrite them; weight and bias gradients
// accumulate into the slice given, so each thread can be handed a private
// partial buffer that the caller sums.
//
// Layouts: activations are [N, d] rows with token n = b·T + t. Attention takes
// q [B, T, H, hd], k and v [B, T, KV, hd] (the natural reshape of a linear
// layer's output) and writes out [B, T, H, hd]. Semantics follow the Qwen2
// PyTorch peer (shared/bench/torch_ref.py): RMSNorm x·rsqrt(mean(x²)+eps)·w,
// RoPE with the Hugging Face rotate-half pairing (j with j+hd/2), GQA mapping
// query head h to kv head h/(H/KV), SiLU-gated MLP and scaled causal softmax
// attention.
package kernels
