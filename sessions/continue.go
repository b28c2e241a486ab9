package sessions

import (
	"fmt"
	"path/filepath"

	"github.com/rlt-workbench/rlt/engine/event"
)

// ContinueLine is how the run in dir goes on, said wherever a run is left
// to be continued: under each run the workbench trained, on its exit; after
// a load or a resume's checks a stop ended (rlt run's first run, and the
// Runs screen's resumes, runner.Launcher.Resume and ui's launch the quit
// kept from beginning). It is the command that continues the run, or, for
// a run with no usable checkpoint (a full disk at its first), the one that
// starts it again. One owner: the Runs screen's stopped resume said no way
// on where rlt run's said this line.
func ContinueLine(dir string) string {
	if !HasCheckpoint(dir) {
		return noCheckpointLine(dir)
	}
	return "continue it: " + ResumeCommand(dir)
}

// noCheckpointLine is how the run in dir, with no usable checkpoint, goes
// on: ContinueLine's words, and NoCheckpointRefusal's.
func noCheckpointLine(dir string) string {
	return "it has no checkpoint to continue from; " + StartAgainLine(dir)
}

// StartAgainLine is the way on of the run in dir where no checkpoint
// stands to resume from: "start it again: rlt run --config
// DIR/config.toml", the command last, alone, for a shell to run as it
// is. One wording, noCheckpointLine's and a torn step's close's (runner).
func StartAgainLine(dir string) string {
	return "start it again: " + Program() + " run --config " + ShellQuote(filepath.Join(dir, ConfigFile))
}

// NoCheckpointRefusal is the refusal of a resume of the run in dir that has
// no usable checkpoint (errors.Is ErrNoCheckpoint): "resume DIR: " and
// ContinueLine's words. One text wherever it is said, by the launcher
// (runner's resume) and by the workbench's Runs screen before it closes
// the run open there for it, which said it in two ways ("… no usable
// checkpoint to continue from; start a new run with its configuration
// instead: …", "X has no checkpoint to continue from: not resumed; start
// it again: …") as a run was open there or not.
func NoCheckpointRefusal(dir string) error {
	return Refused("resume", dir, noCheckpointError{dir})
}

// noCheckpointError is ErrNoCheckpoint said with the way on.
type noCheckpointError struct{ dir string }

func (e noCheckpointError) Error() string { return noCheckpointLine(e.dir) }

func (e noCheckpointError) Unwrap() error { return ErrNoCheckpoint }

// ResumeCommand is the command that continues the run in dir from its
// final checkpoint: a run whose checkpoint has done all the steps its
// config.toml plans needs more asked for (--steps N), as the plain resume
// is refused there (NothingToRun), and one whose device failed (its
// fatal error recorded with event.FaultDevice: device.Failed's) goes on
// on the CPU; both, where both hold (a device that failed after the last
// step's checkpoint).
// The rule is the resume's own, not the run's state: a finished run whose
// config.toml was edited since to plan more steps, or to none (open-ended),
// or whose final checkpoint is gone (the resume does its last steps again
// from an earlier one) goes on with the plain resume; a run stopped after
// its last step's checkpoint (its plan lowered since) needs --steps N as a
// finished one does, as does one killed after that checkpoint before its
// engine said it was done (listed finished: runState's planDone).
func ResumeCommand(dir string) string {
	cmd := Program() + " run --resume " + ShellQuote(dir)
	runs, err := List(filepath.Dir(dir))
	if err != nil {
		return cmd
	}
	for _, r := range runs {
		if filepath.Clean(r.Dir) != filepath.Clean(dir) {
			continue
		}
		// Both where both hold: a device that failed after the last
		// step's checkpoint would fail the steps asked for again.
		if r.State == StateFailed && r.Fault == event.FaultDevice {
			cmd += " --device cpu"
		}
		if NothingLeftToRun(dir, r.PlannedSteps) {
			cmd += " " + MoreSteps(r.StepsDone())
		}
		return cmd
	}
	return cmd
}

// MoreSteps is the --steps that a run which has done done steps, all it
// plans, needs to go on: said wherever such a run is left to be continued
// (ResumeCommand's line, rlt run --resume's refusal of a run with nothing to
// run). Words, not "(N > 3, …)" nor "N > 3": the line pasted whole into a
// shell (cmd.exe, sh) read > as a redirect, writing a file.
func MoreSteps(done int) string {
	return fmt.Sprintf("--steps N with N more than %d, the steps it has done", done)
}

// NothingLeftToRun reports whether the resume of the run in dir, whose
// config.toml plans planned steps, is refused as having nothing to run
// (NothingToRun of its newest usable checkpoint): the command said to
// continue it then asks for more steps (ResumeCommand), and the Runs
// screen refuses its r so. The checkpoints are checked by their manifest
// (checkpointUsable): a resume also hashes their content, which at a
// command's exit or on a key would read gigabytes. A run with no usable
// checkpoint has not this refusal but its own (ErrNoCheckpoint): false.
// One owner, planCheckpointed, with the listing's finished of a run
// killed before its engine said "done" (runState's planDone), so that a
// run listed so is one whose resume has nothing to run.
func NothingLeftToRun(dir string, planned int) bool {
	return planCheckpointed(planned, checkpointFolders(dir), func(step int) error { return checkpointUsable(dir, step, nil) })
}
