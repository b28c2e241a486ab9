package runconfig

import (
	"fmt"
	"path/filepath"

	"github.com/rlt-workbench/rlt/engine/record"
)

// DefaultEvalEvery and DefaultEvalQuestions are eval_every's and
// eval_questions' defaults (engine/run's DefaultConfig), here beside the
// keys so that a reader above the engine (sessions' run listing, whose
// wrong-type words give a key's default as the example) says the same
// numbers without importing engine/run.
const (
	DefaultEvalEvery     = 10
	DefaultEvalQuestions = 32
)

// Config is a run's whole configuration, as written to config.toml.
type Config struct {
	Teacher string `toml:"teacher"` // model folder
	Student string `toml:"student"` // model folder; must share the teacher's tokenizer.json
	// Task is the synthetic task, "addition" or "linear"; with Data it is
	// "jsonl" (or empty).
	Task string `toml:"task"`
	// Data is a JSON Lines file of questions and solutions (RLT rows with
	// "question" or "prompt", "solution" and an optional "reasoning_trace",
	// or Bespoke-Stratos "conversations" rows; task.ReadJSONL): GRPO draws
	// its questions from it, a permutation of its rows per epoch. Paths are
	// relative to the working directory.
	Data string `toml:"data"`
	// EvalData is a JSON Lines file of held-out questions for the
	// evaluation; empty: a task.DataHeldOut fraction of Data's distinct
	// questions is held out and never trained on.
	EvalData string `toml:"eval_data"`
	// MaxPromptTokens leaves out the data rows, training and held-out,
	// whose teacher prompt takes more tokens (0: no cap), each counted
	// among the data's skipped rows, as verl's data.max_prompt_length
	// with filter_overlong_prompts does: every step's sequences are
	// sized for the longest prompt, and one long row among short ones
	// sets that for the whole run.
	MaxPromptTokens int `toml:"max_prompt_tokens"`
	Steps           int `toml:"steps"` // GRPO steps to run (0 = until stopped)
	// EvalEvery runs the held-out evaluation every so many steps (0 = never).
	EvalEvery     int `toml:"eval_every"`
	EvalQuestions int `toml:"eval_questions"`
	// CheckpointEvery writes a checkpoint every so many steps (0 = only when
	// asked and at the end); 1 means a killed run loses at most the step in
	// progress.
	CheckpointEvery int `toml:"checkpoint_every"`
	// Device is where the run computes: "cpu", "gpu" (the first Vulkan
	// device, a discrete GPU first), "gpu:N" (the Nth device the Vulkan
	// loader lists: one GPU of several) or "auto" (a discrete GPU when
	// present, else the CPU); empty means auto. Which device ran is the
	// run's device event (event.Device).
	Device string `toml:"device"`
	// Matmul is the products' precision on a GPU: "f32" (empty: the
	// default) or "f16", tensor cores on float16 operands scaled per row
	// and column, accumulating float32 (engine/device). A device without
	// them multiplies in float32 and says so in its device event.
	Matmul string `toml:"matmul,omitempty"`

	Prompts record.Prompts      `toml:"prompts"`
	Reward  record.RewardConfig `toml:"reward"`
	GRPO    GRPO                `toml:"grpo"`
}

// Absolute returns the configuration with its teacher, student, data and
// eval_data paths made absolute (against the working directory; empty ones
// stay empty), so that a run recorded with it can be resumed from any
// directory.
func (c Config) Absolute() (Config, error) {
	for _, p := range []struct {
		key string
		v   *string
	}{{"teacher", &c.Teacher}, {"student", &c.Student}, {"data", &c.Data}, {"eval_data", &c.EvalData}} {
		if *p.v == "" || filepath.IsAbs(*p.v) {
			continue
		}
		abs, err := filepath.Abs(*p.v)
		if err != nil {
			return c, fmt.Errorf("%s %q: %w", p.key, *p.v, err)
		}
		*p.v = abs
	}
	return c, nil
}
