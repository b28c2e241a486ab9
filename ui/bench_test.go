package ui

import (
	"math"
	"strconv"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions"
)

// BenchmarkDashboardFrame renders a full 120×40 dashboard frame whose 8
// charts each hold 10k points, after one new point per series (so every
// chart renders again rather than serving its cache), smoothed over the
// faint raw series (the default), the reward chart with its ±std band.
func BenchmarkDashboardFrame(b *testing.B) {
	r := newTestRun(b, 0, 0, 0, 0)
	m := newModel(Options{Run: r})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	const n = 10000
	recs := make([]sessions.MetricRecord, 0, n)
	names := []string{}
	for _, s := range dashboardCharts[:8] {
		names = append(names, s.series[0].metric)
		if sp := s.series[0].spread; sp != "" {
			names = append(names, sp)
		}
	}
	for i := 0; i < n; i++ {
		vals := make([]float64, len(names))
		for j := range vals {
			vals[j] = math.Sin(float64(i)/100+float64(j)) + float64(j)
		}
		recs = append(recs, metricRecord(i, names, vals))
	}
	m.dash.add(recs)
	m.View()
	vals := make([]float64, len(names))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.dash.add([]sessions.MetricRecord{metricRecord(n+i, names, vals)})
		_ = m.View()
	}
}

func metricRecord(step int, names []string, vals []float64) sessions.MetricRecord {
	// Names must be sorted for MetricRecord.Get.
	ns := append([]string(nil), names...)
	vs := append([]float64(nil), vals...)
	for i := 1; i < len(ns); i++ {
		for j := i; j > 0 && ns[j] < ns[j-1]; j-- {
			ns[j], ns[j-1] = ns[j-1], ns[j]
			vs[j], vs[j-1] = vs[j-1], vs[j]
		}
	}
	return sessions.MetricRecord{Step: step, Time: t0.Add(time.Duration(step) * time.Second), Names: ns, Values: vs}
}

// BenchmarkDetailFrame renders a 120×40 detail frame of a trace with a
// 2,000-token explanation after moving the cursor one token.
func BenchmarkDetailFrame(b *testing.B) {
	r := newTestRun(b, 0, 0, 0, 0)
	r.Emit(makeTrace(1, 0, 1, 2000))
	m := newModel(Options{Run: r})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	m.Update(openMsg{"1-0-1"})
	if !m.detail.has {
		b.Fatal("trace not open")
	}
	_ = m.View()
	right := press("right")
	left := press("left")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%4000 < 2000 {
			m.Update(right)
		} else {
			m.Update(left)
		}
		_ = m.View()
	}
}

// BenchmarkPull measures one pull of 1,000 new metric records and 100
// traces from the store into the screens (no rendering).
func BenchmarkPull(b *testing.B) {
	r := newTestRun(b, 0, 0, 0, 0)
	m := newModel(Options{Run: r})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	step := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for k := 0; k < 1000; k++ {
			step++
			r.Emit(event.Metrics{Time: t0.Add(time.Duration(step) * time.Second), Step: step,
				Values: map[string]float64{"reward": float64(k), "loss": 1, "kl": 0.1}})
		}
		for k := 0; k < 100; k++ {
			r.Emit(makeTrace(step, k, 0, 20))
		}
		b.StartTimer()
		m.pull()
	}
	_ = strconv.Itoa
}
