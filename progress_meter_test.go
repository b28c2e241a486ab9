package main

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// TestMeterThrottles: a meter says each phase's start and its last line
// whatever the time, and its count at most once per progressEvery of its
// clock: ticks half a second apart print one line in four.
func TestMeterThrottles(t *testing.T) {
	for _, c := range []struct {
		name string
		gap  time.Duration // between two readings of the clock
		want string
	}{
		{"ticks every 0.5 s", 500 * time.Millisecond, "phase\ntick 4\ntick 8\ndone in 5s\n"},
		{"ticks every 3 s", 3 * time.Second, "phase\ntick 1\ntick 2\ntick 3\ntick 4\ntick 5\ntick 6\ntick 7\ntick 8\ndone in 30s\n"},
		{"a fast command", 0, "phase\ndone in 0s\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			at, started := time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC), false
			clock := func() time.Time { // the start, the phase, 8 ticks, the end
				if started {
					at = at.Add(c.gap)
				}
				started = true
				return at
			}
			var b bytes.Buffer
			m := newMeter(&b, true, clock)
			m.said("phase")
			for n := 1; n <= 8; n++ {
				m.tick(func() string { return fmt.Sprintf("tick %d", n) })
			}
			m.done("done")
			if b.String() != c.want {
				t.Errorf("said %q, want %q", b.String(), c.want)
			}
		})
	}
	var m *meter // off: says nothing, and does not fail
	m.said("x")
	m.tick(func() string { t.Error("a line made by a meter that is off"); return "" })
	m.done("x")
}

// TestByteSize: a size is said in bytes under a thousand, else in KB or
// MB with one decimal, the unit chosen after rounding. Every size was in
// MB: a small file's progress read "0.0 MB of 0.0 MB".
func TestByteSize(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{
		{0, "0 bytes"}, {1, "1 byte"}, {231, "231 bytes"}, {999, "999 bytes"},
		{1000, "1.0 KB"}, {3449, "3.4 KB"}, {999_949, "999.9 KB"}, {999_950, "1.0 MB"},
		{61_300_000, "61.3 MB"}, {4_200_000_000, "4200.0 MB"},
	} {
		if got := byteSize(c.n); got != c.want {
			t.Errorf("byteSize(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}
