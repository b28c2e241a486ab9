package sessions

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
)

// childRunWriter creates a run at dir and writes steps like a trainer:
// "dir|steps|pause". After each step is flushed it prints
// "step <n> <unix-nanos>"; it prints "created" first and "finished" last.
func childRunWriter(arg string) error {
	parts := strings.Split(arg, "|")
	dir := parts[0]
	steps, _ := strconv.Atoi(parts[1])
	pause, _ := time.ParseDuration(parts[2])
	cfg := testCfg()
	r, err := Create(dir, &cfg)
	if err != nil {
		return err
	}
	if err := r.Flush(); err != nil {
		return err
	}
	fmt.Println("created")
	for s := 0; s < steps; s++ {
		emitSteps(r, s, s+1, 1, 4)
		if err := r.Flush(); err != nil {
			return err
		}
		fmt.Printf("step %d %d\n", s, time.Now().UnixNano())
		time.Sleep(pause)
	}
	r.Emit(event.Phase{Time: time.Now(), Name: "done", Step: steps - 1})
	if err := r.Close(); err != nil {
		return err
	}
	fmt.Println("finished")
	return nil
}

func TestStoreFollowsOtherProcess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "live")
	const steps = 12
	c := startChild(t, "run-writer", fmt.Sprintf("%s|%d|%s", dir, steps, 150*time.Millisecond))
	c.expect(t, "created")

	ro, err := OpenReadOnlyWith(dir, Options{PollInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	st := ro.Store()

	// The view: wakes on Changed, pulls with cursors, notes arrival times.
	// It alone takes the store's signal, and says when it has pulled the
	// whole run (every step, its traces, the close): the run reads events,
	// metrics and traces in turn, so the close may come before the last
	// step's traces, and a view stopped on the store's say-so alone could
	// miss them.
	arrived := map[int]time.Time{}
	traces := map[int]int{}
	stop := make(chan struct{})
	viewDone, whole := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(viewDone)
		mc, tc, ec := 0, 0, 0
		closed, told := false, false
		for {
			select {
			case <-st.Changed():
			case <-stop:
				return
			}
			now := time.Now()
			var ms []MetricRecord
			var ts []*TraceRecord
			var evs []EventRecord
			ms, mc = st.MetricsSince(mc)
			ts, tc = st.TracesSince(tc)
			evs, ec = st.EventsSince(ec)
			for _, m := range ms {
				arrived[m.Step] = now
			}
			for _, tr := range ts {
				traces[tr.Step]++
			}
			for _, e := range evs {
				closed = closed || e.Kind == KindClose
			}
			all := closed && len(arrived) >= steps
			for s := 0; all && s < steps; s++ {
				all = traces[s] >= 4
			}
			if all && !told {
				told = true
				close(whole)
			}
		}
	}()

	flushed := map[int]time.Time{}
	for i := 0; i < steps; i++ {
		f := strings.Fields(c.expect(t, "step"))
		s, _ := strconv.Atoi(f[1])
		ns, _ := strconv.ParseInt(f[2], 10, 64)
		flushed[s] = time.Unix(0, ns)
	}
	c.expect(t, "finished")
	c.cmd.Wait()
	select {
	case <-whole:
	case <-time.After(hangGuard): // what is missing is said below
	}
	close(stop)
	<-viewDone

	var worst time.Duration
	for s := 0; s < steps; s++ {
		a, ok := arrived[s]
		if !ok {
			t.Errorf("step %d never reached the store", s)
			continue
		}
		if traces[s] != 4 {
			t.Errorf("step %d: %d traces, want 4", s, traces[s])
		}
		// The latency is logged, not asserted: tests never assert on time.
		worst = max(worst, a.Sub(flushed[s]))
	}
	if iss := st.Issues(); len(iss) != 0 {
		t.Errorf("issues: %v", iss)
	}
	t.Logf("%d steps followed, worst latency %v (poll interval 100ms)", steps, worst)

	// A broken line written by someone else is skipped and reported.
	f, _ := os.OpenFile(filepath.Join(dir, MetricsFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("{not json}\n" + string(appendMetric(nil, &MetricRecord{Step: 99, Time: time.Now(), Names: []string{"reward"}, Values: []float64{1}})) + "\n")
	f.Close()
	waitFor(t, st, func() bool { n, _, _ := st.Counts(); return n == steps+1 })
	if st.Broken() != 1 || !strings.Contains(fmt.Sprint(st.Issues()), fmt.Sprintf("%s:%d: skipped broken record", filepath.Join(dir, MetricsFile), steps+1)) {
		t.Errorf("broken %d, issues %v", st.Broken(), st.Issues())
	}
}

// TestListRunningOtherProcess sees a run locked by a live child as running.
func TestListRunningOtherProcess(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "live")
	c := startChild(t, "run-writer", fmt.Sprintf("%s|%d|%s", dir, 3, 300*time.Millisecond))
	c.expect(t, "created")
	runs, err := List(root)
	if err != nil || len(runs) != 1 || runs[0].State != StateRunning || !strings.Contains(runs[0].Note, fmt.Sprint("pid ", c.cmd.Process.Pid)) {
		t.Errorf("while writing: %+v %v", runs, err)
	}
	c.expect(t, "step")
	c.expect(t, "step")
	c.expect(t, "step")
	c.expect(t, "finished")
	c.cmd.Wait()
	runs, _ = List(root)
	if len(runs) != 1 || runs[0].State != StateFinished || runs[0].LastStep != 2 {
		t.Errorf("after: %+v", runs)
	}
}
