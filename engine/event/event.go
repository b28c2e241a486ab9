// Package event defines what a running engine tells the world: typed events
// sent to a Sink. The engine never blocks on a sink; a session persists the
// events, and the UI reads the session's store. It depends only on the
// record package (the scored explanation a trace carries).
package event

import (
	"errors"
	"strings"
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

// Device says where the run computes, once each time it starts or resumes.
type Device struct {
	Time time.Time
	Step int
	DeviceChoice
}

// DeviceChoice is which device a run computes on and why, as engine/device
// picks it (device.Open returns it), a run records it and the workbench,
// which links no compute, shows it.
type DeviceChoice struct {
	Backend string `json:"backend"`          // the backend's name: "cpu/avx512", "vulkan/NVIDIA H200"
	GPU     string `json:"gpu,omitempty"`    // which Vulkan device, as --device numbers it ("gpu:1"); "" on the CPU
	Why     string `json:"why,omitempty"`    // "asked for", "a discrete GPU", "no usable GPU (…)"; kernels it could not build
	Matmul  string `json:"matmul,omitempty"` // when f16 was asked for: in what precision products run, and why
	F16     bool   `json:"f16,omitempty"`    // products run on tensor cores (float16 operands, float32 sums)
}

// Label names the device in a few words, for a header or a table:
// "vulkan/NVIDIA H200 gpu:1", and "f16" after it when products run on
// tensor cores; a driver's detail in the device's name ("vulkan/llvmpipe
// (LLVM 15.0.6, 256 bits)") is left out.
func (c DeviceChoice) Label() string {
	name, _, _ := strings.Cut(c.Backend, " (")
	if c.GPU != "" {
		name += " " + c.GPU
	}
	if c.F16 {
		name += " f16"
	}
	return name
}

// ShortLabel is Label in a word, for a header with no room for the
// device's name: which GPU ("gpu:1", "gpu:1 f16" on tensor cores) or the
// kind of backend ("cpu").
func (c DeviceChoice) ShortLabel() string {
	if c.GPU == "" {
		kind, _, _ := strings.Cut(c.Backend, "/")
		return kind
	}
	if c.F16 {
		return c.GPU + " f16"
	}
	return c.GPU
}

// String is the whole choice: "vulkan/NVIDIA H200 (gpu:1, a discrete GPU;
// products on tensor cores (float16 operands, float32 sums))".
func (c DeviceChoice) String() string {
	var why []string
	for _, part := range []string{c.GPU, c.Why} {
		if part != "" {
			why = append(why, part)
		}
	}
	s := strings.Join(why, ", ")
	if c.Matmul != "" {
		if s != "" {
			s += "; "
		}
		s += c.Matmul
	}
	if s == "" {
		return c.Backend
	}
	return c.Backend + " (" + s + ")"
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
func (Device) isEvent()     {}
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

// ResumeOnCPU ends the recorded fatal error of a run whose device failed
// (device.Failed, device.ResumeOnCPU): the way on is to resume it on the
// CPU. Here so that sessions, which links no compute, reads it in the
// error events written before they recorded a Fault (its legacyFault):
// those are told a device's failure by these words alone.
const ResumeOnCPU = "the run folder is intact: resume it with --device cpu"

// Fault is what an error event's error says failed, as sessions records
// it with the event (EventRecord.Fault), so that a reader of the run's
// records (sessions.ResumeCommand: --device cpu) need not match the
// error's words: FaultDevice where the run's device failed (lost, out of
// memory, a shader), FaultOther for any other error.
type Fault string

const (
	FaultDevice Fault = "device"
	FaultOther  Fault = "other"
)

// DeviceFailure is implemented by the error of a device that failed
// (device.Failed's and FailedWith's), which says the device and the way
// on (ResumeOnCPU, for a run). It is an interface here, as ResumeOnCPU is
// a constant here, so that sessions, which links no compute, tells it.
type DeviceFailure interface {
	error
	DeviceFailed()
}

// FaultOf is what err says failed: FaultDevice where it is or wraps a
// DeviceFailure, else FaultOther.
func FaultOf(err error) Fault {
	if df := DeviceFailure(nil); errors.As(err, &df) {
		return FaultDevice
	}
	return FaultOther
}
