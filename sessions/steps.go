package sessions

import "path/filepath"

// StepNumbering is how a run's metric records number its steps, which
// decides how many steps the run has done. The workbench's own runs name
// a step by its 0-based index (the name traces, checkpoints and progress
// lines use too), so a run whose last record is of step 5 has done 6. The
// trainers Import reads log a step's metrics under the number of
// optimizer steps done once it ends: the official RLT trainer and TRL
// (the Hugging Face Trainer's state.global_step), verl (global_steps,
// which starts at 1) and NeMo-RL (its metrics at step + 1, and
// train_data_step{step + 1}.jsonl since October 2025). An imported run
// keeps the trainer's numbers, so that its charts match the trainer's own
// dashboards; only the count differs.
type StepNumbering int

const (
	// StepsFromZero: the workbench's own runs; step N is the (N+1)th.
	StepsFromZero StepNumbering = iota
	// StepsFromOne: runs imported from another trainer; step N is the Nth.
	StepsFromOne
)

// StepsDone is how many steps a run numbered so has completed when its
// last metrics record is of step lastStep (-1: none). Numbered from one, a
// record of step 0 (verl's and NeMo-RL's validation before the first
// step) follows no step done.
func (n StepNumbering) StepsDone(lastStep int) int {
	if n == StepsFromOne {
		return max(lastStep, 0)
	}
	return max(lastStep+1, 0)
}

// ImportNumbering is how a run imported from format (ImportOfficial,
// ImportTRL, ImportVerl, ImportNemoRL or ImportTraces) numbers its steps:
// a trainer's numbers are kept (see StepNumbering). A traces file has no
// metrics; its traces are put at step 0, our first step's name.
func ImportNumbering(format string) StepNumbering {
	switch format {
	case ImportOfficial, ImportTRL, ImportVerl, ImportNemoRL:
		return StepsFromOne
	}
	return StepsFromZero
}

// configNumbering is the numbering of the run whose config.toml holds
// data: an imported run's config.toml records its source (ImportConfig);
// any other is one of ours.
func configNumbering(dir string, data []byte) StepNumbering {
	if src, ok := importSource(filepath.Join(dir, ConfigFile), data); ok {
		return ImportNumbering(src.Format)
	}
	return StepsFromZero
}

// StepNumbering is how the run's metric records number its steps, from
// config.toml: the count of steps done the workbench shows is
// r.StepNumbering().StepsDone(last step recorded).
func (r *Run) StepNumbering() StepNumbering { return configNumbering(r.dir, r.config) }

// StepsDone is how many steps the listed run has done (0 without metrics;
// LastStep is then -1).
func (s RunSummary) StepsDone() int { return s.Numbering.StepsDone(s.LastStep) }
