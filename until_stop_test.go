package main

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/stoptest"
	"github.com/rlt-workbench/rlt/sessions"
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

// TestLoadContextsSayTheirCause: the load contexts of rlt run and rlt
// open end with their cause, which a launch they stop says (runner's
// Launcher: 'stopped before its run folder was made, so none was: a stop
// signal came'), where each said "context canceled" of both: untilStop's
// on the first stop signal, untilQuit's on the workbench's quit, or on
// the signal first; both are still context.Canceled.
func TestLoadContextsSayTheirCause(t *testing.T) {
	for _, c := range []struct {
		name   string
		signal bool // the stop signal came, before any quit
		quit   bool // the workbench quit (EndLoads)
		want   error
	}{
		{"signal", true, false, sessions.StopSignal},
		{"quit", false, true, sessions.WorkbenchQuit},
		{"signal, then quit", true, true, sessions.StopSignal},
	} {
		t.Run(c.name, func(t *testing.T) {
			stop := make(chan struct{})
			load, stopWatching := untilStop(stop)
			defer stopWatching()
			loads, endLoads := untilQuit(load)
			defer endLoads()
			if c.signal {
				close(stop)
				<-loads.Done()
			}
			if c.quit {
				endLoads()
			}
			got := sessions.Stopped(loads)
			if got != c.want || !errors.Is(got, context.Canceled) {
				t.Errorf("the load context ended with %v; want %v, a context.Canceled", got, c.want)
			}
		})
	}
}
