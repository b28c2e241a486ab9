// Package hf reads and writes Hugging Face model folders for Qwen2-style
// models: config.json, safetensors weights (a single model.safetensors or
// shards listed by model.safetensors.index.json) and the presence of the
// tokenizer and generation files beside them.
//
// Reading streams tensors from disk into buffers the caller owns, converting
// F32, BF16 and F16 to float32 (and I32/I64 to integers) in bounded chunks:
// a checkpoint is never held in memory in its file form, so loading one costs
// its float32 weights and little more. Every header is validated before any
// byte of tensor data is trusted, and every error names the file, the tensor
// or key, what was expected and what was found. Header keys are matched
// exactly, as the safetensors library matches them: encoding/json alone
// would take "DTYPE" for "dtype".
//
// Writing (WriteSafetensors, WriteSafetensorsSharded, Config.Write) is atomic:
// a temporary file in the destination directory is written, synced and
// renamed into place, and the directory is synced.
package hf
