package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
)

// leaveOnSecondSignal watches the stop signals (stopSignals) beside a
// command's signal.NotifyContext, which takes the first to stop cleanly
// and swallowed the rest: a command whose clean stop waits on work that
// takes no context (rlt import's read of its source) could not be made
// to leave. The second signal ends the process at once, exit 1: leave
// removes what the command had begun (durable.RemoveOwn: a temporary
// file, a staging folder), notice is said on stderr. Call it right after
// the NotifyContext, so both count the same signals; end stops the watch
// (once, however often it is called).
func leaveOnSecondSignal(stderr io.Writer, notice string, leave func()) (end func()) {
	return leaveSaying(stderr, func() string { leave(); return notice })
}

// leaveSaying is leaveOnSecondSignal whose notice leave makes once it has
// done its work: what it says may depend on what it found (rlt import's
// run folder, put in place as the signal came, or not).
func leaveSaying(stderr io.Writer, leave func() (notice string)) (end func()) {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, stopSignals...)
	done := make(chan struct{})
	go func() {
		for n := 0; ; {
			select {
			case <-ch:
				if n++; n == 2 {
					fmt.Fprintln(stderr, leave())
					os.Exit(1)
				}
			case <-done:
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
		})
	}
}
