package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/rlt-workbench/rlt/engine/model"
	"github.com/rlt-workbench/rlt/sessions/runner"
)

// loadStopped is a command's error when its signal (ctx) came while its
// models loaded, err being the load's error (nil where the signal came as
// the load ended, after its last tensor), or nil where no signal came or
// the load failed on its own. It is one line: that the command stopped
// before its first unit (runner.StoppedBySignal's words, as a run stopped
// while its models load says it), while what (`the models loaded`),
// where the load stopped (the checkpoint file, the tensor and how far
// into it: model.StoppedError.Where), that nothing was written, and goOn,
// the way on. The load stops before its next tensor, or within a large
// one; it went on to its end under the signal, or the signal killed the
// command without a word.
func loadStopped(ctx context.Context, err error, what, unit, goOn string) error {
	if ctx.Err() == nil || err != nil && !errors.Is(err, ctx.Err()) {
		return nil
	}
	return fmt.Errorf("%s: nothing was written; %s", loadStoppedWords(err, what, unit), goOn)
}

// loadStoppedWords says a load stopped by a signal (err, the load's error:
// nil where it came as the load ended) as loadStopped does, up to what
// was written: that the command stopped before its first unit, while
// what, and where the load stopped. rlt run, on a terminal or headless,
// says its run folder after them (runLoadStopped).
func loadStoppedWords(err error, what, unit string) string {
	msg := runner.StoppedBySignal(0, 0, unit) + ", while " + what
	if at := (*model.StoppedError)(nil); errors.As(err, &at) {
		msg += " (" + at.Where() + ")"
	}
	return msg
}
