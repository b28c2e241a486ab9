// Package engine holds models and methods: the Qwen2-style transformer, the
// tokenizer, Hugging Face checkpoints, sampling, tasks, the RLT reward, GRPO,
// distillation and the events a run emits. It knows nothing of files on
// screens or of sessions: it emits typed events to a sink.
package engine
