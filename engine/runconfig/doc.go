// Package runconfig is a run's configuration as its config.toml holds it:
// the one type of the file's keys (Config, with GRPO for its [grpo] table;
// its [prompts] and [reward] tables are engine/record's Prompts and
// RewardConfig), the GRPO method's defaults, and the checks of values that
// need no model, task or device to check.
//
// It links no compute and no model: sessions decodes a run folder's
// config.toml into the engine's own type, and the engine (engine/run,
// engine/rlt) runs on it. What needs a model folder, a task, a tokenizer
// or a device to check (engine/run's Check) stays with the engine.
package runconfig
