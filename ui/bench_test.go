package ui

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/rlt-workbench/rlt/compute/cputime"
	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions"
)

// BenchmarkDashboardFrame renders a full 120×40 dashboard frame whose 8
// charts each hold 10k points, after one new point per series (so every
// chart renders again rather than serving its cache), smoothed over the
// faint raw series (the default), the reward chart with its ±std band.
func BenchmarkDashboardFrame(b *testing.B) {
	r := newTestRun(b, 0, 0, 0, 0)
	m := newModel(Options{Session: &sessions.Session{Run: r}})
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
	frame(m)
	vals := make([]float64, len(names))
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		m.dash.add([]sessions.MetricRecord{metricRecord(n+i, names, vals)})
		_ = frame(m)
	}
	cpu.stop(b)
}

// frame draws what a live frame after new records draws: Update settles
// the screen (Model.settle renders the dashboard into its cache) and View
// returns that cache. View alone timed the copy of a frame drawn before
// (~70 µs a "frame" of 8 charts of 10k points), not the drawing.
func frame(m *Model) string {
	m.settle()
	return m.View()
}

// cpuTimer reports, beside the wall time per frame (ns/op), the CPU
// time the process spent per frame (cpu-ns/op, user and system, every
// thread): on a machine shared with other work the wall time counts the
// waits for a core, the CPU time does not. Where Linux says how long the
// process's threads waited on its run queues for a core (runq-ns/op,
// summed over threads, so it may pass the wall time), that wait is
// reported too: at a load of 20-30 on 2 cores CompareFrame's ~25 ms of
// wall time beside ~2 ms of CPU was some 10 ms of run-queue wait a frame,
// where a trace showed the frame loop never blocked (no sleep, channel,
// lock or system call of its own) and a quiet machine gave wall ≈ CPU.
type cpuTimer struct {
	start time.Duration
	wait  map[string]int64 // runqWaits at the start; nil: not known here
}

func startCPU(b *testing.B) *cpuTimer {
	b.ResetTimer()
	return &cpuTimer{start: cputime.Process(), wait: runqWaits()}
}

func (c *cpuTimer) stop(b *testing.B) {
	b.StopTimer()
	b.ReportMetric(float64(cputime.Process()-c.start)/float64(b.N), "cpu-ns/op")
	if w := runqWaits(); c.wait != nil && w != nil {
		wait, gone := runqSince(c.wait, w)
		b.ReportMetric(float64(wait)/float64(b.N), "runq-ns/op")
		if gone > 0 {
			// Their wait after the start is not in runq-ns/op, which
			// is then a lower bound: said, not hidden.
			b.ReportMetric(float64(gone), "runq-threads-gone")
		}
	}
}

// runqWaits is how long, in ns, each of the process's threads has waited
// on the kernel's run queues for a core (the second field of Linux's
// /proc/self/task/TID/schedstat); nil where that is not known. A thread
// is keyed by its id and its start time ("TID@START", the 22nd field of
// its stat): the kernel gives an exited thread's id to a new one, which
// under the id alone read as the old thread's wait going down.
func runqWaits() map[string]int64 {
	paths, _ := filepath.Glob("/proc/self/task/*/schedstat")
	if len(paths) == 0 {
		return nil
	}
	out := make(map[string]int64, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // a thread gone since the glob
		}
		dir := filepath.Dir(p)
		st, err := os.ReadFile(filepath.Join(dir, "stat"))
		if err != nil {
			continue
		}
		// The fields after the command's ")" start at the 3rd (state);
		// the command itself may hold spaces and parentheses.
		rest := string(st)
		if i := strings.LastIndexByte(rest, ')'); i >= 0 {
			rest = rest[i+1:]
		}
		sf := strings.Fields(rest)
		if f := strings.Fields(string(b)); len(f) >= 2 && len(sf) > 22-3 {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			out[filepath.Base(dir)+"@"+sf[22-3]] = n
		}
	}
	return out
}

// runqSince is the run-queue wait of the process's threads between two
// samples of runqWaits, thread by thread: a thread's wait since the
// start (all of it for one started since), and how many threads of the
// start are gone. The sums' difference, as it was taken, counted a
// thread that exited between the samples as minus its whole wait before
// the start: it could read less than the wait, or below zero. A thread
// whose wait went down is another thread under the same key (an exited
// thread's id given to a new one within the same tick of start time): its
// wait is all since the start, and the old thread is gone; that counted
// a negative wait. A gone thread's wait after the start, and all of a
// thread that both started and exited between the samples, is not known:
// not counted (Go's runtime rarely ends a thread; gone says where one
// did).
func runqSince(start, end map[string]int64) (wait int64, gone int) {
	for tid, n := range end {
		was, ok := start[tid]
		if ok && n < was { // a new thread under an exited one's key
			was = 0
			gone++
		}
		wait += n - was
	}
	for tid := range start {
		if _, ok := end[tid]; !ok {
			gone++
		}
	}
	return wait, gone
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
	m := newModel(Options{Session: &sessions.Session{Run: r}})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	m.Update(openMsg{"1-0-1"})
	if !m.detail.has {
		b.Fatal("trace not open")
	}
	_ = m.View()
	right := press("right")
	left := press("left")
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		if i%4000 < 2000 {
			m.Update(right)
		} else {
			m.Update(left)
		}
		_ = m.View()
	}
	cpu.stop(b)
}

// BenchmarkPull measures one pull of 1,000 new metric records and 100
// traces from the store into the screens (no rendering).
func BenchmarkPull(b *testing.B) {
	r := newTestRun(b, 0, 0, 0, 0)
	m := newModel(Options{Session: &sessions.Session{Run: r}})
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

// compareBench is a workbench comparing 8 runs of n steps each (the open
// one and 7 run folders, every dashboard metric recorded at every step)
// at 120×40, the open run holding its first open steps.
func compareBench(b *testing.B, n, open int) (*Model, []string) {
	b.Helper()
	names := []string{}
	for _, s := range dashboardCharts[:7] {
		names = append(names, s.series[0].metric)
		if sp := s.series[0].spread; sp != "" {
			names = append(names, sp)
		}
	}
	value := func(run, step, j int) float64 {
		return math.Sin(float64(step)/100+float64(j)) + float64(j) + 0.1*float64(run)
	}
	emit := func(r *sessions.Run, run, from, to int) {
		for i := from; i < to; i++ {
			vals := map[string]float64{}
			for j, nm := range names {
				vals[nm] = value(run, i, j)
			}
			r.Emit(event.Metrics{Time: t0.Add(time.Duration(i) * time.Second), Step: i, Values: vals})
		}
	}
	root := b.TempDir()
	var dirs []string
	for k := 1; k < 8; k++ {
		dir := filepath.Join(root, "seed"+strconv.Itoa(k))
		r, err := sessions.Create(dir, testCfg{Task: "addition"})
		if err != nil {
			b.Fatal(err)
		}
		emit(r, k, 0, n)
		if err := r.Close(); err != nil {
			b.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	r, err := sessions.Create(filepath.Join(root, "open"), testCfg{Task: "addition"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	emit(r, 0, 0, open)
	r.Flush()
	m := newModel(Options{Session: &sessions.Session{Run: r}})
	b.Cleanup(func() { m.cmp.close() })
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	for _, d := range dirs {
		if _, err := m.cmp.add(d); err != nil {
			b.Fatal(err)
		}
	}
	m.dash.syncCompare()
	if m.dash.cv == nil || len(m.dash.srcs) != 8 {
		b.Fatal("not comparing 8 runs")
	}
	frame(m)
	return m, names
}

// BenchmarkCompareFrame renders a full 120×40 dashboard frame comparing 8
// runs of 10k steps (7 charts, a line per run, the mean ± std band) after
// the open run records one more step, beyond the others' last (so every
// chart draws again).
func BenchmarkCompareFrame(b *testing.B) {
	const n = 10000
	m, names := compareBench(b, n, n)
	vals := make([]float64, len(names))
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		m.dash.add([]sessions.MetricRecord{metricRecord(n+i, names, vals)})
		_ = frame(m)
	}
	cpu.stop(b)
}

// BenchmarkCompareFrameTrailing is BenchmarkCompareFrame with the open run
// halfway (5k steps) behind 7 finished runs of 10k: each step it records
// changes the mean and the band at a step in the middle of every chart.
func BenchmarkCompareFrameTrailing(b *testing.B) {
	const n = 10000
	m, names := compareBench(b, n, n/2)
	vals := make([]float64, len(names))
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		m.dash.add([]sessions.MetricRecord{metricRecord(n/2+i%(n/2), names, vals)})
		_ = frame(m)
	}
	cpu.stop(b)
}
