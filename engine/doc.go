// Package engine holds models and methods: the Qwen2-style transformer, the
// tokenizer, Hugging Face checkpoints, sampling, tasks, the RLT record
// (engine/record: formats, reward terms, the scored explanation) and method
// (engine/rlt: the teacher–student pair, the scorer, GRPO), a run's
// configuration as config.toml holds it (engine/runconfig), evaluation,
// distillation, memory estimates (engine/memory), the events a run emits,
// the configuration problem that carries its key (engine/configkey), and
// the atomic replacement of a file that run folders and model folders both
// rely on (engine/durable).
// It reads model folders and data files but writes no run folder and knows
// no screens: it emits typed events to a sink, and a checkpoint is a
// Snapshot that sessions writes.
package engine
