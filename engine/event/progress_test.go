package event

import (
	"testing"
	"time"
)

// TestMeterThrottles: the start and the end of a phase are always emitted,
// the steps between at most once per MeterEvery of the (fake) clock.
func TestMeterThrottles(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	now := t0
	var buf Buffer
	m := Meter{Sink: &buf, Now: func() time.Time { return now }}
	m.Start(3, "sampling", 10, "tokens")
	for k := 1; k <= 10; k++ {
		now = now.Add(100 * time.Millisecond)
		m.Set(k)
		m.Set(k) // no news: nothing emitted
	}
	var got []int
	for _, e := range buf.Events() {
		p := e.(Progress)
		if p.Step != 3 || p.Phase != "sampling" || p.Total != 10 || !p.Started.Equal(t0) {
			t.Fatalf("event %+v", p)
		}
		got = append(got, p.Done)
	}
	// 0 at the start, then every third 100 ms tick (≥ 250 ms apart), then 10.
	if want := []int{0, 3, 6, 9, 10}; len(got) != len(want) || got[1] != 3 || got[2] != 6 || got[3] != 9 || got[4] != 10 || got[0] != 0 {
		t.Fatalf("done values %v, want %v", got, want)
	}
}

func TestProgressString(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	cases := []struct {
		p    Progress
		want string
	}{
		{Progress{Time: t0, Started: t0, Phase: "sampling", Total: 96, Unit: "tokens"}, "sampling 0/96 tokens"},
		{Progress{Time: t0.Add(4 * time.Second), Started: t0, Phase: "sampling", Done: 32, Total: 96, Unit: "tokens"}, "sampling 32/96 tokens · 8 tokens/s · ETA 8s"},
		{Progress{Time: t0.Add(2 * time.Second), Started: t0, Phase: "optimising", Done: 2, Total: 2, Unit: "micro-batches"}, "optimising 2/2 micro-batches · 1 micro-batches/s"},
	}
	for _, c := range cases {
		if got := c.p.String(); got != c.want {
			t.Errorf("%q, want %q", got, c.want)
		}
	}
	if _, ok := (Progress{Started: t0, Time: t0}).ETA(); ok {
		t.Error("an ETA without a rate")
	}
}

// TestProgressLeftAt: the time left as of a later clock is the ETA less
// the time since the Progress was emitted, to the second, never below
// zero; a clock before it (or none) leaves Left's; where Left has none,
// neither does LeftAt.
func TestProgressLeftAt(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	// 32 of 96 tokens in 4 s: 8 tokens/s, 8 s left as of t0+4s.
	sampling := Progress{Time: t0.Add(4 * time.Second), Started: t0, Phase: "sampling", Done: 32, Total: 96, Unit: "tokens"}
	// 1 of 3 passes in 3 s: 6 s left as of t0+3s.
	slow := Progress{Time: t0.Add(3 * time.Second), Started: t0, Phase: "reconstructing", Done: 1, Total: 3, Unit: "passes"}
	for _, c := range []struct {
		name string
		p    Progress
		now  time.Time
		want time.Duration
		ok   bool
	}{
		{"as of its own time", sampling, sampling.Time, 8 * time.Second, true},
		{"3 s later", sampling, sampling.Time.Add(3 * time.Second), 5 * time.Second, true},
		{"to the second", sampling, sampling.Time.Add(2400 * time.Millisecond), 6 * time.Second, true},
		{"at its ETA", sampling, sampling.Time.Add(8 * time.Second), 0, true},
		{"past its ETA: zero, not less", sampling, sampling.Time.Add(time.Minute), 0, true},
		{"a clock before it: Left's", sampling, sampling.Time.Add(-2 * time.Second), 8 * time.Second, true},
		{"no clock: Left's", sampling, time.Time{}, 8 * time.Second, true},
		{"another rate, 4 s later", slow, slow.Time.Add(4 * time.Second), 2 * time.Second, true},
		{"no rate yet", Progress{Time: t0, Started: t0, Phase: "sampling", Total: 96, Unit: "tokens"}, t0.Add(time.Second), 0, false},
		{"the phase done", Progress{Time: t0.Add(2 * time.Second), Started: t0, Phase: "optimising", Done: 2, Total: 2, Unit: "micro-batches"}, t0.Add(3 * time.Second), 0, false},
		{"no total", Progress{Time: t0.Add(2 * time.Second), Started: t0, Phase: "scoring", Done: 2, Unit: "forwards"}, t0.Add(3 * time.Second), 0, false},
	} {
		got, ok := c.p.LeftAt(c.now)
		if got != c.want || ok != c.ok {
			t.Errorf("%s: LeftAt = %v, %v; want %v, %v", c.name, got, ok, c.want, c.ok)
		}
		if left, lok := c.p.Left(); !c.now.After(c.p.Time) && (got != left || ok != lok) {
			t.Errorf("%s: LeftAt = %v, %v at or before its time, Left = %v, %v", c.name, got, ok, left, lok)
		}
	}
}
