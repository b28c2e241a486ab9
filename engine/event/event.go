// Package event defines what a running engine tells the world: typed events
// sent to a Sink. The engine never blocks on a sink; a session persists the
// events, and the UI reads the session's store. It depends only on the
// record package (the scored explanation a trace carries).
package event

import (
	"sync"
	"time"

	"github.com/rlt-workbench/rlt/engine/record"
)

// Event is one of the types below.
type Event interface{ isEvent() }

// Sink receives events. Emit must not block the engine for long: a sink
// that does slow work (disk, screen) hands events on through a buffer.
type Sink interface {
	Emit(Event)
}

// Phase says what the engine is doing now.
type Phase struct {
	Time  time.Time
	Name  string // e.g. "sampling", "scoring", "backward", "optimiser", "evaluating", "done"
	Step  int
	Extra string
}

// Metrics is one optimisation step's numbers, keyed by the names of the
// official trainer's log (RLT.md §7) plus timing and throughput.
type Metrics struct {
	Time   time.Time
	Step   int
	Values map[string]float64
}

// Trace is one sampled completion with every per-token array of its reward.
type Trace struct {
	Time       time.Time
	Step       int
	Group      int // index of the question within the step
	Sample     int // index within the group
	Question   string
	Solution   string
	Completion string  // the teacher's raw generated text
	Advantage  float64 // group-normalised
	// Score holds the reward and its per-token arrays; nil when the
	// completion was not scored. The engine does not modify it after
	// emitting the trace, so receivers may keep its slices.
	Score *record.Scored
	// Reconstruction is the student's greedy answer given the question and
	// the explanation, when it was computed.
	Reconstruction string
}

// Checkpoint says a checkpoint was written.
type Checkpoint struct {
	Time time.Time
	Step int
	Dir  string
}

// Severity grades a reported problem.
type Severity string

const (
	// SeverityError is a failure (the zero value reads as one too).
	SeverityError Severity = "error"
	// SeverityWarning is something left out or degraded (data rows
	// skipped, a small evaluation) while the rest is whole.
	SeverityWarning Severity = "warning"
)

// Error reports a failure that stopped (Fatal) or did not stop the run, or
// a warning (Severity).
type Error struct {
	Time     time.Time
	Step     int
	Err      error
	Fatal    bool
	Severity Severity // "" is SeverityError
}

func (Phase) isEvent()      {}
func (Metrics) isEvent()    {}
func (Trace) isEvent()      {}
func (Checkpoint) isEvent() {}
func (Error) isEvent()      {}

// Discard is a sink that drops everything.
type Discard struct{}

// Emit implements Sink.
func (Discard) Emit(Event) {}

// Buffer is a sink that keeps every event in memory, safe for concurrent
// use; tests and headless commands read it.
type Buffer struct {
	mu     sync.Mutex
	events []Event
}

// Emit implements Sink.
func (b *Buffer) Emit(e Event) {
	b.mu.Lock()
	b.events = append(b.events, e)
	b.mu.Unlock()
}

// Events returns a copy of what was emitted so far.
func (b *Buffer) Events() []Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Event(nil), b.events...)
}
