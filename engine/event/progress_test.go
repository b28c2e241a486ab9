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
