package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progressEvery is the least time between two of a long command's lines
// of progress (rlt import, rlt export): a minute's work says where it is
// some 30 times, a few seconds' once or twice.
const progressEvery = 2 * time.Second

// meter says on w, a command's stderr, how far a long command is: a
// line as it starts and as each of its phases starts (said), lines of its
// count at most one per progressEvery of clock (tick), and a last line
// with what it did and how long it took (done). A nil *meter says
// nothing: progress is said where stderr is a terminal or --progress
// asks for it (progressOn), never into a script's log by default.
type meter struct {
	w     io.Writer
	clock func() time.Time

	mu    sync.Mutex
	start time.Time
	last  time.Time // of the last line said
}

// progressClock is the commands' meters' clock: a test's own clock
// shows which lines are said as time goes by, without waiting for it.
var progressClock = time.Now

// newMeter is a meter on w, started now (clock nil: progressClock), or
// nil where on is false.
func newMeter(w io.Writer, on bool, clock func() time.Time) *meter {
	if !on {
		return nil
	}
	if clock == nil {
		clock = progressClock
	}
	now := clock()
	return &meter{w: w, clock: clock, start: now, last: now}
}

// progressOn is whether a command says its progress: as --progress says
// where it was given, else where stderr is a terminal (a person watching).
func progressOn(flag bool, given bool, stderr io.Writer) bool {
	if given {
		return flag
	}
	return isTerminal(stderr)
}

// said prints line now: a phase's start.
func (m *meter) said(line string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.last = m.clock()
	fmt.Fprintln(m.w, line)
}

// tick prints line() where progressEvery has passed since the last line
// said; line is not made otherwise.
func (m *meter) tick(line func() string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock()
	if now.Sub(m.last) < progressEvery {
		return
	}
	m.last = now
	fmt.Fprintln(m.w, line())
}

// done prints the last line: what the command did, and in how long.
func (m *meter) done(what string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintf(m.w, "%s in %s\n", what, m.clock().Sub(m.start).Round(100*time.Millisecond))
}

// percent is done of total as "31 %", "" where total is unknown.
func percent(done, total int64) string {
	if total <= 0 {
		return ""
	}
	return fmt.Sprintf(" (%d %%)", done*100/total)
}

// byteSize is n bytes as a person reads a size: the bytes themselves
// under a thousand ("231 bytes"), else KB or MB with one decimal ("3.4 KB",
// "61.3 MB"). In MB alone a small file read "0.0 MB of 0.0 MB". The unit
// is chosen after rounding, so 999,960 bytes are "1.0 MB", not "1000.0 KB".
func byteSize(n int64) string {
	switch {
	case n == 1:
		return "1 byte"
	case n < 1000:
		return fmt.Sprintf("%d bytes", n)
	case n < 999_950:
		return fmt.Sprintf("%.1f KB", float64(n)/1e3)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}
