package event

import (
	"fmt"
	"time"
)

// Progress says how far the engine is within a phase of a step: Done of
// Total units (tokens sampled, forwards, micro-batches) since Started. A
// long step (a minute or more at 0.5B parameters) emits it through a
// Meter, a few times a second at most; Step is −1 before step 0 (loading).
type Progress struct {
	Time, Started time.Time
	Step          int
	Phase         string // "sampling", "scoring", "backward", "optimiser", "reconstructing", …
	Done, Total   int
	Unit          string // what Done counts, e.g. "tokens"
}

func (Progress) isEvent() {}

// Rate is units per second since the phase started (0 when unknown).
func (p Progress) Rate() float64 {
	s := p.Time.Sub(p.Started).Seconds()
	if s <= 0 || p.Done <= 0 {
		return 0
	}
	return float64(p.Done) / s
}

// ETA is the time the phase's remaining units take at Rate, as of Time;
// ok is false when there is no rate yet.
func (p Progress) ETA() (eta time.Duration, ok bool) {
	eta, ok = p.eta()
	return eta.Round(time.Second), ok
}

// eta is ETA unrounded.
func (p Progress) eta() (time.Duration, bool) {
	r := p.Rate()
	if r <= 0 || p.Total <= 0 {
		return 0, false
	}
	left := max(0, p.Total-p.Done)
	return time.Duration(float64(left) / r * float64(time.Second)), true
}

// String is the progress as one short line: "sampling 34/96 tokens ·
// 12.3 tokens/s · ETA 5s".
func (p Progress) String() string {
	s := p.Counts()
	if eta, ok := p.Left(); ok {
		s += " · ETA " + eta.String()
	}
	return s
}

// Counts is the phase, how far it is and its rate: "sampling 34/96
// tokens · 12.3 tokens/s" (String without the ETA).
func (p Progress) Counts() string {
	s := fmt.Sprintf("%s %d/%d %s", p.Phase, p.Done, p.Total, p.Unit)
	if r := p.Rate(); r > 0 {
		s += fmt.Sprintf(" · %.3g %s/s", r, p.Unit)
	}
	return s
}

// Left is the phase's ETA where String shows one: a rate known and the
// phase not yet done.
func (p Progress) Left() (time.Duration, bool) { return p.LeftAt(p.Time) }

// LeftAt is Left as of now rather than as of Time: the phase's ETA less
// the time since Time, to the second and never below zero (a phase past
// its ETA has 0 left, not less). It is for a Progress read some time
// after it was emitted (a run followed from another process reads one
// written up to a few seconds before), so that the time left counts down
// between two of them. A now before Time (a clock read before the
// Progress came) counts as Time: the result is Left's. ok is Left's.
func (p Progress) LeftAt(now time.Time) (time.Duration, bool) {
	if p.Rate() <= 0 || p.Done >= p.Total {
		return 0, false
	}
	eta, _ := p.eta() // a rate, and Total > Done > 0
	if since := now.Sub(p.Time); since > 0 {
		eta -= since
	}
	return max(eta, 0).Round(time.Second), true
}

// StepLine is where the step is as of now, as the workbench's header, its
// Runs screen and rlt sessions say it: the phase, its count and rate, and
// the phase's time left where a rate is known (LeftAt: a Progress read a
// few seconds after it was written counts down), "step 3: sampling 34/96
// tokens · 12.3 tokens/s · 5s left"; a step before step 0 (loading) is not
// named.
func (p Progress) StepLine(now time.Time) string {
	s := p.Counts()
	if left, ok := p.LeftAt(now); ok {
		s += " · " + left.String() + " left"
	}
	if p.Step < 0 {
		return s
	}
	return fmt.Sprintf("step %d: %s", p.Step, s)
}

// MeterEvery is the least time between two progress events of a phase.
const MeterEvery = 250 * time.Millisecond

// Meter emits a phase's Progress to a sink, throttled: the first and the
// last of each phase always, the others at most once per MeterEvery, so
// that reporting costs nothing measurable however often it is called.
type Meter struct {
	Sink Sink
	Now  func() time.Time // nil: time.Now (tests set a clock)

	cur      Progress
	lastSent time.Time
	sent     int // Done of the last event emitted
}

func (m *Meter) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// Start begins a phase of step of total units, and emits it at 0.
func (m *Meter) Start(step int, phase string, total int, unit string) {
	t := m.now()
	m.cur = Progress{Time: t, Started: t, Step: step, Phase: phase, Total: total, Unit: unit}
	m.lastSent, m.sent = t, 0
	m.Sink.Emit(m.cur)
}

// Set records done units of the current phase, emitting them when the
// phase ends (done ≥ total) or MeterEvery has passed since the last event.
func (m *Meter) Set(done int) {
	if done == m.cur.Done {
		return
	}
	t := m.now()
	m.cur.Done, m.cur.Time = done, t
	if done >= m.cur.Total || t.Sub(m.lastSent) >= MeterEvery {
		m.lastSent, m.sent = t, done
		m.Sink.Emit(m.cur)
	}
}

// Finish ends the phase: its last state is emitted if it was not (a phase
// that ended short of Total, sampling whose sequences all stopped early).
func (m *Meter) Finish() {
	if m.sent != m.cur.Done {
		m.sent = m.cur.Done
		m.Sink.Emit(m.cur)
	}
}
