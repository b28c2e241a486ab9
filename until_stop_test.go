package main

import (
	"bytes"
	"errors"
	"time"

	"github.com/rlt-workbench/rlt/engine/stoptest"
)

// untilStopWatchers counts the goroutines of untilStop that wait for the
// first stop signal, from the stacks of all: rlt run's, which ends the
// load context of the workbench's first run, and rlt run --headless's,
// which ends its run's. Each returns once it has ended its context.
func untilStopWatchers() int {
	return bytes.Count(goroutineStacks(), []byte(".untilStop.func1("))
}

// goroutineStacks is the stacks of all goroutines (stoptest.Stacks).
func goroutineStacks() []byte { return stoptest.Stacks() }

// untilStopEnded waits, once the first stop signal has come (the stop
// channel closed), until no untilStop goroutine is left waiting: each has
// ended its context, so a load that looks at it from here on stops. A
// minute is a stop that never reached them.
func untilStopEnded() error {
	return noneLeft(untilStopWatchers, "an untilStop still waits a minute after the stop signal came: its stop channel is not the one the signal closes")
}

// noneLeft waits until count says no goroutine of a kind is left, and
// says stuck if one still is a minute on: the watchers of a signal end at
// once when it comes, so a minute is one that never will.
func noneLeft(count func() int, stuck string) error {
	for deadline := time.Now().Add(time.Minute); count() > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			return errors.New(stuck)
		}
	}
	return nil
}
