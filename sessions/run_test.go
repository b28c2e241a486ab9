package sessions

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/record"
)

// runCfg is a resolved configuration as a run would save it.
type runCfg struct {
	Name    string              `toml:"name"`
	Seed    uint64              `toml:"seed"`
	Reward  record.RewardConfig `toml:"reward"`
	Prompts record.Prompts      `toml:"prompts"`
}

func testCfg() runCfg { return runCfg{Name: "t", Seed: 7, Reward: record.DefaultRewardConfig()} }

// fakeScored is a realistic score: 64 explanation tokens, 8 solution tokens.
func fakeScored(step, i int) *record.Scored {
	const nE, nS = 64, 8
	sc := &record.Scored{Ended: i%5 != 0}
	for k := 0; k < nE; k++ {
		sc.ExplanationIDs = append(sc.ExplanationIDs, int32(1000+k*37+i))
		sc.ExplanationTokens = append(sc.ExplanationTokens, fmt.Sprintf(" tok%d", k))
		t := -0.05 - 1.7*math.Abs(math.Sin(float64(k*7+i+step)))
		s := -0.3 - 2.9*math.Abs(math.Cos(float64(k*5+i)))
		sc.TeacherLP = append(sc.TeacherLP, float32(t))
		sc.StudentLP = append(sc.StudentLP, float32(s))
		sc.D = append(sc.D, float32(t)-float32(s))
	}
	for k := 0; k < nS; k++ {
		sc.SolutionIDs = append(sc.SolutionIDs, int32(50+k))
		sc.SolutionTokens = append(sc.SolutionTokens, fmt.Sprint(k))
		sc.SolutionLP = append(sc.SolutionLP, float32(-0.013*math.Exp(float64(k+i)/7)))
	}
	sc.Terms = record.DefaultRewardConfig().Reduce(sc.SolutionLP, sc.D, sc.StudentLP, sc.Ended)
	return sc
}

func fakeTrace(step, group, sample int) event.Trace {
	q := fmt.Sprintf("%d+%d=?", 10+group, step)
	return event.Trace{Time: time.Now(), Step: step, Group: group, Sample: sample, Question: q,
		Solution: fmt.Sprint(10 + group + step), Completion: fmt.Sprintf("add the digits, sample %d", sample) + record.EndExplanation + "<|im_end|>",
		Advantage: 0.1 * float64(sample-1), Score: fakeScored(step, group*4+sample), Reconstruction: fmt.Sprint(10 + group + step)}
}

func fakeMetrics(step int) event.Metrics {
	v := map[string]float64{"reward": -1 + 0.1*float64(step), "kl": 0.001 * float64(step), "loss": 0.5, "grad_norm": 1.5}
	for i := 0; i < 30; i++ {
		v[fmt.Sprintf("x_%02d", i)] = float64(i*step) / 7
	}
	return event.Metrics{Time: time.Now(), Step: step, Values: v}
}

// emitSteps emits, for each step, phases, metrics and groups×samples traces.
func emitSteps(r event.Sink, from, to, groups, samples int) {
	for s := from; s < to; s++ {
		r.Emit(event.Phase{Time: time.Now(), Name: "sampling", Step: s})
		r.Emit(fakeMetrics(s))
		for g := 0; g < groups; g++ {
			for k := 0; k < samples; k++ {
				r.Emit(fakeTrace(s, g, k))
			}
		}
	}
}

func mustCreate(t testing.TB, dir string, opts Options) *Run {
	t.Helper()
	cfg := testCfg()
	r, err := CreateWith(dir, &cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func sameF32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func TestCreateEmitReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run1")
	r := mustCreate(t, dir, Options{})
	if _, err := Create(dir, testCfg()); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Create while locked: %v", err)
	}
	emitSteps(r, 0, 3, 2, 3)
	m := fakeMetrics(3)
	m.Values["reward_std"] = math.NaN()
	m.Values["tokens_per_s"] = math.Inf(1)
	r.Emit(m)
	for g := 0; g < 2; g++ { // every step samples traces, and its checkpoint comes after them
		for k := 0; k < 3; k++ {
			r.Emit(fakeTrace(3, g, k))
		}
	}
	r.Emit(event.Error{Time: time.Now(), Step: 3, Err: errors.New("student OOM")})
	r.Emit(event.Checkpoint{Time: time.Now(), Step: 3, Dir: filepath.Join(dir, "checkpoints", "step-000003")})
	r.Emit(event.Phase{Time: time.Now(), Name: "done", Step: 3})
	// The live store has everything before any disk write finished.
	if nm, nt, _ := r.Store().Counts(); nm != 4 || nt != 24 {
		t.Fatalf("live store: %d metrics %d traces", nm, nt)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(dir, testCfg()); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("Create over a run: %v", err)
	}

	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	var cfg runCfg
	if err := ro.DecodeConfig(&cfg); err != nil || cfg != testCfg() {
		t.Fatalf("config %+v, %v", cfg, err)
	}
	st := ro.Store()
	if iss := st.Issues(); len(iss) != 0 {
		t.Fatalf("issues on a clean run: %v", iss)
	}
	ms, cur := st.MetricsSince(0)
	if len(ms) != 4 || cur != 4 {
		t.Fatalf("%d metrics, cursor %d", len(ms), cur)
	}
	for i, m := range ms {
		want := fakeMetrics(i).Values
		for k, v := range want {
			if got, ok := m.Get(k); !ok || got != v {
				t.Errorf("step %d %s = %v, want %v", i, k, got, v)
			}
		}
	}
	if v, _ := ms[3].Get("reward_std"); !math.IsNaN(v) {
		t.Errorf("NaN came back as %v", v)
	}
	if v, _ := ms[3].Get("tokens_per_s"); !math.IsInf(v, 1) {
		t.Errorf("+Inf came back as %v", v)
	}
	if !slicesSame(ms[0].Names, ms[1].Names) {
		t.Errorf("records with one key set should share Names")
	}
	if more, cur2 := st.MetricsSince(cur); len(more) != 0 || cur2 != cur {
		t.Errorf("MetricsSince(cursor) = %d records", len(more))
	}
	trs, _ := st.TracesSince(0)
	if len(trs) != 24 {
		t.Fatalf("%d traces", len(trs))
	}
	tr, err := st.Trace("2-1-2")
	if err != nil {
		t.Fatalf("trace 2-1-2 missing; have %v", st.traceIDs())
	}
	want := fakeTrace(2, 1, 2)
	sc := want.Score
	if tr.Question != want.Question || tr.Solution != want.Solution || tr.Completion != want.Completion ||
		tr.Explanation != "add the digits, sample 2" || tr.Reconstruction != want.Reconstruction ||
		tr.Advantage != want.Advantage || !tr.HasScore || tr.Terms != sc.Terms || tr.Ended != sc.Ended {
		t.Errorf("trace fields differ: %+v", tr)
	}
	if !sameF32(tr.TeacherLP, sc.TeacherLP) || !sameF32(tr.StudentLP, sc.StudentLP) || !sameF32(tr.D, sc.D) ||
		!sameF32(tr.SolutionLP, sc.SolutionLP) || !slices.Equal(tr.ExplanationIDs, sc.ExplanationIDs) ||
		!slices.Equal(tr.ExplanationTokens, sc.ExplanationTokens) || !slices.Equal(tr.SolutionTokens, sc.SolutionTokens) ||
		!slices.Equal(tr.SolutionIDs, sc.SolutionIDs) {
		t.Errorf("per-token arrays differ")
	}
	evs, _ := st.EventsSince(0)
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	if got := strings.Join(kinds, ","); got != "create,phase,phase,phase,error,checkpoint,phase,close" {
		t.Errorf("events %s", got)
	}
	if evs[5].Dir != filepath.Join("checkpoints", "step-000003") {
		t.Errorf("checkpoint dir %q", evs[5].Dir)
	}

	// Resume with strict config decoding: a config type that lacks a key
	// fails naming the file and line.
	var narrow struct {
		Name string `toml:"name"`
	}
	if _, err := Open(dir, &narrow); err == nil || !strings.Contains(err.Error(), "config.toml:2:") {
		t.Fatalf("strict decode: %v", err)
	}
	var full runCfg
	w, err := Open(dir, &full)
	if err != nil {
		t.Fatal(err)
	}
	if w.Segment() != 1 || full != testCfg() || len(w.Repairs()) != 0 {
		t.Errorf("segment %d cfg %+v repairs %v", w.Segment(), full, w.Repairs())
	}
	if nm, nt, _ := w.Store().Counts(); nm != 4 || nt != 24 {
		t.Errorf("reopened store: %d metrics %d traces", nm, nt)
	}
	emitSteps(w, 4, 5, 1, 1)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// The read-only view follows the second session's records.
	waitFor(t, st, func() bool { _, n, _ := st.Counts(); return n == 25 })
	if _, err := st.Trace("4-0-0r1"); err != nil {
		t.Errorf("segment-1 trace not followed: %v", st.traceIDs())
	}
}

func slicesSame(a, b []string) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// hangGuard bounds a test's wait for a follower, a child process or a
// writer apart from the test: a bound on a hang only, past which the test
// fails saying what never came. A loaded machine (CI's two cores running
// test binaries side by side) may take seconds, and at 20 or 30 s could
// reach it where nothing hung.
const hangGuard = time.Minute

// waitFor waits on the store's signal until cond holds. It fails after
// hangGuard, a bound only against a follower that never delivers.
func waitFor(t *testing.T, st *Store, cond func() bool) {
	t.Helper()
	deadline := time.After(hangGuard)
	for !cond() {
		select {
		case <-st.Changed():
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("condition not met within %v", hangGuard)
		}
	}
}

func TestOpenBrokenFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := mustCreate(t, dir, Options{})
	emitSteps(r, 0, 4, 1, 3)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	metrics := filepath.Join(dir, MetricsFile)
	tr1 := traceFileName(dir, 1)
	tr3 := traceFileName(dir, 3)
	// metrics: a garbage line 3 and a partial tail; traces: step 1's second
	// line broken, step 3 cut mid-line.
	lines := fileLines(t, metrics)
	lines = slices.Insert(lines, 2, `{"step": garbage`)
	os.WriteFile(metrics, []byte(strings.Join(lines, "\n")+"\n"+`{"step":9,"time":"2026-`), 0o644)
	l1 := fileLines(t, tr1)
	l1[1] = l1[1][:len(l1[1])/2] + "}"
	os.WriteFile(tr1, []byte(strings.Join(l1, "\n")+"\n"), 0o644)
	data, _ := os.ReadFile(tr3)
	os.WriteFile(tr3, data[:len(data)-100], 0o644)

	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	st := ro.Store()
	nm, nt, _ := st.Counts()
	if nm != 4 || nt != 12-1-1 {
		t.Errorf("read-only: %d metrics, %d traces; want 4, 10", nm, nt)
	}
	issues := fmt.Sprint(st.Issues())
	for _, want := range []string{metrics + ":3: skipped broken record", metrics + ":6: unterminated last line",
		tr1 + ":2: skipped broken record", tr3 + ":3: unterminated last line"} {
		if !strings.Contains(issues, want) {
			t.Errorf("issues lack %q:\n%s", want, issues)
		}
	}
	if st.Broken() != 2 {
		t.Errorf("broken = %d, want 2", st.Broken())
	}
	ro.Close()

	w, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	reps := strings.Join(w.Repairs(), "\n")
	for _, want := range []string{metrics + ":6: removed a", tr3 + ":3: removed a"} {
		if !strings.Contains(reps, want) {
			t.Errorf("repairs lack %q:\n%s", want, reps)
		}
	}
	if nm, nt, _ := w.Store().Counts(); nm != 4 || nt != 10 {
		t.Errorf("writer: %d metrics %d traces", nm, nt)
	}
	emitSteps(w, 3, 4, 1, 1) // appends to the repaired step-3 file
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{metrics, tr3} {
		data, _ := os.ReadFile(p)
		if len(data) == 0 || data[len(data)-1] != '\n' {
			t.Errorf("%s does not end on a record boundary", p)
		}
	}
	ro2, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro2.Close()
	if nm, nt, _ := ro2.Store().Counts(); nm != 5 || nt != 11 {
		t.Errorf("after repair: %d metrics %d traces", nm, nt)
	}
}

func fileLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// slowFile delays every write, like a saturated disk.
type slowFile struct {
	logFile
	delay time.Duration
}

func (s *slowFile) WriteAt(p []byte, off int64) (int, error) {
	time.Sleep(s.delay)
	return s.logFile.WriteAt(p, off)
}

func TestEmitSlowDisk(t *testing.T) {
	cases := []struct {
		name       string
		maxPending int
		wantDrop   bool
	}{
		{"all kept", 0, false},
		{"traces bounded", 5, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			r := mustCreate(t, dir, Options{MaxPendingTraces: tc.maxPending,
				wrapFile: func(f logFile) logFile { return &slowFile{f, 20 * time.Millisecond} }})
			const steps, per = 20, 8
			emitSteps(r, 0, steps, 2, per/2)
			r.Emit(event.Error{Time: time.Now(), Step: steps, Err: errors.New("boom"), Fatal: true})
			// The producer is done while the slow writer is far behind.
			total := int64(1 + steps*(2+per) + 1)
			if w := r.Written(); w >= total {
				t.Fatalf("writer kept up (%d of %d written): the disk was not slow", w, total)
			}
			nm, nt, _ := r.Store().Counts()
			if nm != steps {
				t.Errorf("store has %d metrics, want %d", nm, steps)
			}
			if tc.wantDrop != (r.Dropped() > 0) || nt+r.Dropped() != steps*per {
				t.Errorf("traces: %d stored + %d dropped, want %d (drop %v)", nt, r.Dropped(), steps*per, tc.wantDrop)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			ro, err := OpenReadOnly(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer ro.Close()
			nm2, nt2, _ := ro.Store().Counts()
			if nm2 != steps || nt2 != nt {
				t.Errorf("on disk: %d metrics %d traces, want %d %d", nm2, nt2, steps, nt)
			}
			evs, _ := ro.Store().EventsSince(0)
			var fatal, dropped bool
			for _, e := range evs {
				fatal = fatal || (e.Kind == KindError && e.Fatal)
				dropped = dropped || (e.Kind == KindDropped && e.Count > 0)
			}
			if !fatal || dropped != tc.wantDrop {
				t.Errorf("fatal error event %v, dropped event %v", fatal, dropped)
			}
		})
	}
}

// TestEmitConcurrent emits from several goroutines while a reader pulls.
func TestEmitConcurrent(t *testing.T) {
	r := mustCreate(t, filepath.Join(t.TempDir(), "run"), Options{})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := 0; s < 25; s++ {
				r.Emit(fakeTrace(s, g, 0))
			}
		}()
	}
	seen := 0
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	cur := 0
loop:
	for {
		select {
		case <-r.Store().Changed():
			var got []*TraceRecord
			got, cur = r.Store().TracesSince(cur)
			seen += len(got)
		case <-done:
			break loop
		}
	}
	got, _ := r.Store().TracesSince(cur)
	if seen+len(got) != 100 {
		t.Errorf("reader saw %d traces, want 100", seen+len(got))
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestResumeSupersedes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := mustCreate(t, dir, Options{})
	emitSteps(r, 0, 6, 1, 2)
	r.Close()

	w, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Resume(3); err != nil {
		t.Fatal(err)
	}
	if nm, nt, _ := w.Store().Counts(); nm != 4 || nt != 8 {
		t.Errorf("after Resume(3): %d metrics %d traces, want 4 8", nm, nt)
	}
	for s := 4; s < 6; s++ {
		m := fakeMetrics(s)
		m.Values["reward"] = 42
		w.Emit(m)
		w.Emit(fakeTrace(s, 0, 0))
	}
	w.Close()

	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	ms, _ := ro.Store().MetricsSince(0)
	var steps []int
	for _, m := range ms {
		steps = append(steps, m.Step)
		if v, _ := m.Get("reward"); m.Step >= 4 && v != 42 {
			t.Errorf("step %d reward %v: the superseded record survived", m.Step, v)
		}
	}
	if !slices.Equal(steps, []int{0, 1, 2, 3, 4, 5}) {
		t.Errorf("steps %v", steps)
	}
	ids := ro.Store().traceIDs()
	if len(ids) != 10 || ids[len(ids)-1] != "5-0-0r1" || slices.Contains(ids, "4-0-1") {
		t.Errorf("trace ids %v", ids)
	}
}

func TestList(t *testing.T) {
	root := t.TempDir()
	// finished
	r := mustCreate(t, filepath.Join(root, "a-finished"), Options{})
	r.Emit(event.Device{Time: time.Now(), DeviceChoice: event.DeviceChoice{Backend: "vulkan/NVIDIA H200", GPU: "gpu:1", Why: "a discrete GPU"}})
	emitSteps(r, 0, 3, 1, 1)
	r.Emit(event.Phase{Time: time.Now(), Name: "done", Step: 2})
	r.Close()
	// stopped with a fatal error
	r = mustCreate(t, filepath.Join(root, "b-stopped"), Options{})
	emitSteps(r, 0, 2, 1, 1)
	r.Emit(event.Error{Time: time.Now(), Step: 1, Err: errors.New("NaN loss"), Fatal: true})
	r.Close()
	// running (held by this process)
	live := mustCreate(t, filepath.Join(root, "c-running"), Options{})
	emitSteps(live, 0, 1, 1, 1)
	live.Flush()
	defer live.Close()
	// held by this process, its engine stopped (open for review) or paused
	for _, c := range []struct{ name, phase string }{{"f-open-stopped", "stopped"}, {"g-paused", "paused"}} {
		r := mustCreate(t, filepath.Join(root, c.name), Options{})
		emitSteps(r, 0, 1, 1, 1)
		r.Emit(event.Phase{Time: time.Now(), Name: c.phase, Step: 1})
		r.Flush()
		defer r.Close()
	}
	// broken: metrics but no config
	os.MkdirAll(filepath.Join(root, "d-broken"), 0o755)
	os.WriteFile(filepath.Join(root, "d-broken", MetricsFile), []byte(`{"step":4,"values":{"reward":0.5}}`+"\n"), 0o644)
	// not a run
	os.MkdirAll(filepath.Join(root, "e-other"), 0o755)

	runs, err := List(root)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]RunSummary{}
	for _, s := range runs {
		got[s.Name] = s
	}
	cases := []struct {
		name  string
		state RunState
		last  int
		best  float64
		note  string
	}{
		{"a-finished", StateFinished, 2, -0.8, ""},
		{"b-stopped", StateFailed, 1, -0.9, "fatal: NaN loss"},
		{"c-running", StateRunning, 0, -1, "open here, training it"},
		{"f-open-stopped", StateStopped, 0, -1, "open here, no engine running"},
		{"g-paused", StatePaused, 0, -1, "open here, training it, paused"},
		{"d-broken", StateBroken, 4, 0.5, "no readable config.toml"},
	}
	if len(runs) != len(cases) {
		t.Errorf("%d runs listed: %+v", len(runs), runs)
	}
	// The device event names where a run computed; it is not a phase.
	if d := got["a-finished"].Device; d.Label() != "vulkan/NVIDIA H200 gpu:1" || got["b-stopped"].Device != (event.DeviceChoice{}) {
		t.Errorf("devices %q and %q, want a-finished's H200 gpu:1 and none for b-stopped", d, got["b-stopped"].Device)
	}
	for _, c := range cases {
		s, ok := got[c.name]
		if !ok {
			t.Errorf("%s not listed", c.name)
			continue
		}
		if s.State != c.state || s.LastStep != c.last || math.Abs(s.BestReward-c.best) > 1e-9 || !strings.Contains(s.Note, c.note) {
			t.Errorf("%s: %+v, want state %s last %d best %v note %q", c.name, s, c.state, c.last, c.best, c.note)
		}
		if s.Size <= 0 {
			t.Errorf("%s: size %d", c.name, s.Size)
		}
	}
	if !got["a-finished"].Created.Before(got["b-stopped"].Created.Add(time.Second)) || got["a-finished"].Created.IsZero() {
		t.Errorf("created times %v %v", got["a-finished"].Created, got["b-stopped"].Created)
	}
}

func TestRecordsEncoding(t *testing.T) {
	cases := []struct {
		name string
		raw  string
		want []float32
		err  bool
	}{
		{"base64", `"AACAPwAAAMA="`, []float32{1, -2}, false},
		{"numbers", `[1, -2, null]`, []float32{1, -2, float32(math.NaN())}, false},
		{"bad base64", `"AAA"`, nil, true},
		{"odd length", `"AAAA"`, nil, true},
		{"object", `{}`, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var a f32s
			err := a.UnmarshalJSON([]byte(c.raw))
			if (err != nil) != c.err {
				t.Fatalf("err %v", err)
			}
			if err == nil && fmt.Sprint([]float32(a)) != fmt.Sprint(c.want) {
				t.Errorf("got %v want %v", a, c.want)
			}
		})
	}
	m := MetricRecord{Step: 3, Seg: 1, Time: time.Unix(0, 0).UTC(), Names: []string{"a\"b", "nan", "x"}, Values: []float64{1.5, math.NaN(), math.Inf(-1)}}
	raw := appendMetric(nil, &m)
	if !bytes.Contains(raw, []byte(`"nan":"NaN"`)) {
		t.Errorf("%s", raw)
	}
	back, err := decodeMetric(raw, nil)
	if err != nil || back.Step != 3 || back.Seg != 1 || back.Values[0] != 1.5 || !math.IsNaN(back.Values[1]) || !math.IsInf(back.Values[2], -1) {
		t.Errorf("%+v %v", back, err)
	}
}

// A trace whose float array is damaged (bad base64) keeps the rest of its
// record: the array is dropped and the drop listed with file and line.
func TestDamagedTraceArrayIsSalvaged(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := mustCreate(t, dir, Options{})
	emitSteps(r, 0, 2, 1, 2)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	tr0 := traceFileName(dir, 0)
	lines := fileLines(t, tr0)
	re := regexp.MustCompile(`"teacher_lp":"[^"]*"`)
	if !re.MatchString(lines[0]) {
		t.Fatalf("no base64 teacher_lp in %s", lines[0])
	}
	lines[0] = re.ReplaceAllString(lines[0], `"teacher_lp":"@@not base64@@"`)
	os.WriteFile(tr0, []byte(strings.Join(lines, "\n")+"\n"), 0o644)

	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	st := ro.Store()
	if _, nt, _ := st.Counts(); nt != 4 {
		t.Fatalf("%d traces, want all 4", nt)
	}
	tr, err := st.Trace("0-0-0")
	if err != nil {
		t.Fatalf("the damaged trace is gone: %v", st.traceIDs())
	}
	if tr.TeacherLP != nil || len(tr.D) == 0 || tr.Question == "" {
		t.Errorf("salvaged trace: teacher_lp %v, %d d values, question %q; want teacher_lp dropped, the rest kept", tr.TeacherLP, len(tr.D), tr.Question)
	}
	issues := fmt.Sprint(st.Issues())
	if want := tr0 + ":1: trace 0-0-0: array teacher_lp"; !strings.Contains(issues, want) {
		t.Errorf("issues lack %q:\n%s", want, issues)
	}
	if st.Broken() != 0 {
		t.Errorf("broken = %d, want 0: the record was salvaged", st.Broken())
	}
}

// TestMetricsOnly: a read-only run opened MetricsOnly holds the run's
// metrics and events and no traces, and follows the metric records
// appended later without reading the traces that come with them; opened
// whole, the same folder holds every trace.
func TestMetricsOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	w := mustCreate(t, dir, Options{SyncInterval: -1})
	defer w.Close()
	const groups, samples = 2, 3
	steps := 4
	emitSteps(w, 0, steps, groups, samples)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		metricsOnly bool
	}{{"whole folder", false}, {"metrics only", true}} {
		t.Run(tc.name, func(t *testing.T) {
			ro, err := OpenReadOnlyWith(dir, Options{MetricsOnly: tc.metricsOnly, PollInterval: 10 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer ro.Close()
			wantTraces := func() int {
				if tc.metricsOnly {
					return 0
				}
				return steps * groups * samples
			}
			m, tr, ev := ro.Store().Counts()
			if m != steps || tr != wantTraces() || ev == 0 {
				t.Fatalf("%d metric records, %d traces, %d events; want %d, %d and some", m, tr, ev, steps, wantTraces())
			}
			emitSteps(w, steps, steps+2, groups, samples)
			steps += 2
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, ro.Store(), func() bool {
				m, tr, _ := ro.Store().Counts()
				return m == steps && tr == wantTraces()
			})
		})
	}
}

// A run opened while another process is mid-line: the partial last line is
// an issue until the line arrives whole, then it is read and the issue
// withdrawn (a crash's partial line stays one: TestOpenBrokenFiles). The
// writer has closed: the line is no longer its own to end.
func TestPartialLineCompletedWhileFollowed(t *testing.T) {
	dir, w := runOfSteps(t, 3)
	file, line, endLine := halfWrittenTrace(t, dir, w)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	ro, err := OpenReadOnlyWith(dir, Options{PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	st := ro.Store()
	if is, want := fmt.Sprint(st.Issues()), fmt.Sprintf("%s:%d: unterminated last line", file, line); !strings.Contains(is, want) {
		t.Fatalf("a partial last line was not reported: %s, want %q", is, want)
	}
	_, before, _ := st.Counts()
	if err := endLine(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, st, func() bool { _, n, _ := st.Counts(); return n == before+1 })
	if is := st.Issues(); len(is) != 0 {
		t.Errorf("issues after the line arrived whole: %v", is)
	}
}

// TestOpenSaysWhatIsNotARun: a path that does not exist, a file and a
// folder without config.toml are each said for what they are, by Open and
// OpenReadOnly alike (a missing folder was "no config.toml: not a run
// folder", as if it existed).
func TestOpenSaysWhatIsNotARun(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "notes.txt")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(root, "nope")
	empty := filepath.Join(root, "empty")
	modelDir := filepath.Join(root, "model")
	runs := filepath.Join(root, "runs")
	for _, d := range []string{empty, modelDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(modelDir, "config.json"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"20261206-010000", "20261206-020000"} {
		r := mustCreate(t, filepath.Join(runs, name), Options{})
		r.Close()
	}
	for _, tc := range []struct {
		name, dir, want string
	}{
		{"missing", missing, "open run " + missing + ": " + missing + " does not exist: give a run folder"},
		{"file", file, "open run " + file + ": a file, not a run folder"},
		{"empty folder", empty, "open run " + empty + ": no config.toml: not a run folder"},
		// A folder of runs, or a model folder, is said as one (a QA pass
		// found rlt report given either said only "not a run folder").
		{"folder of runs", runs, "open run " + runs + ": no config.toml: a folder holding 2 run folders, not a run folder: give one of them (the newest: " +
			filepath.Join(runs, "20261206-020000") + "); rlt sessions --runs " + runs + " lists them"},
		{"model folder", modelDir, "open run " + modelDir + ": no config.toml: a model folder, not a run folder (rlt model info describes it)"},
	} {
		for _, open := range []struct {
			name string
			fn   func(string) (*Run, error)
		}{
			{"Open", func(d string) (*Run, error) { return Open(d, nil) }},
			{"OpenReadOnly", OpenReadOnly},
		} {
			t.Run(tc.name+"/"+open.name, func(t *testing.T) {
				r, err := open.fn(tc.dir)
				if err == nil {
					r.Close()
					t.Fatal("opened")
				}
				if !strings.HasPrefix(err.Error(), tc.want) {
					t.Errorf("error %q, want it to start %q", err, tc.want)
				}
			})
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("opening a missing run made its folder")
	}
}

// Every line a run writes leaves '<', '>' and '&' as they are, in strings
// with newlines and non-ASCII too, so a run's files grep for the RLT tags.
func TestRunFilesKeepTagsReadable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := mustCreate(t, dir, Options{})
	tr := fakeTrace(0, 0, 0)
	tr.Completion = "é\nstep <1> & 2" + record.EndExplanation
	r.Emit(tr)
	r.Emit(event.Error{Time: time.Now(), Step: 0, Err: errors.New("bad <|im_end|>\nin é & out")})
	ts, _ := r.Store().TracesSince(0)
	id := ts[0].ID
	if err := r.AppendRescores([]RescoreRecord{NewRescore(id, *fakeScored(0, 1), "t<1>", "s&\né", record.DefaultRewardConfig())}); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{
		filepath.Join(TracesDir, "*"): `step <1> & 2<|end_of_explanation|>`,
		EventsFile:                    `bad <|im_end|>\nin é & out`,
		RescoresFile:                  `"s&\né"`,
	} {
		paths, _ := filepath.Glob(filepath.Join(dir, file))
		var all []byte
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, b...)
		}
		if !bytes.Contains(all, []byte(want)) || bytes.Contains(all, []byte(`\u003c`)) || bytes.Contains(all, []byte(`\u0026`)) {
			t.Errorf("%s does not hold %s as written:\n%s", file, want, all)
		}
	}
}

// A run whose trace file cannot be written (a full disk) still writes its
// other files' records, so an error or a close event is not held back
// behind a batch of traces that does not fit; the traces wait, in order,
// and are written once space comes back.
func TestRunWritesOtherFilesPastAFailedOne(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := mustCreate(t, dir, Options{SyncInterval: time.Hour})
	r.Emit(fakeTrace(0, 0, 0))
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	ff := &failingFile{File: r.traceLog.f.(*os.File)}
	r.traceLog.f = ff
	r.Emit(fakeTrace(0, 0, 1))
	r.Emit(fakeMetrics(0))
	r.Emit(event.Error{Time: time.Now(), Step: 0, Err: errors.New("no space left for the traces")})
	r.Emit(fakeTrace(0, 0, 2))
	if err := r.Flush(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("flush with the trace file full: %v", err)
	}
	for file, want := range map[string]string{EventsFile: "no space left for the traces", MetricsFile: `"step":0`} {
		if b, _ := os.ReadFile(filepath.Join(dir, file)); !bytes.Contains(b, []byte(want)) {
			t.Errorf("%s lacks %q while the trace file is full:\n%s", file, want, b)
		}
	}
	ff.free() // space freed (the writer may be writing through ff)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	ro := openReadOnly(t, dir)
	ts, _ := ro.Store().TracesSince(0)
	if len(ts) != 3 || ts[0].Sample != 0 || ts[1].Sample != 1 || ts[2].Sample != 2 {
		t.Errorf("traces after space came back: %d, want samples 0, 1, 2 in order", len(ts))
	}
}

// A run folder that lost its config.toml is still read (its curves, traces
// and reviews: a report, an export), with the loss as a problem; opening it
// to write says how to get the file back; a folder with no records and no
// config.toml is no run folder.
func TestRunWithoutItsConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := mustCreate(t, dir, Options{})
	emitSteps(r, 0, 2, 1, 2)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, ConfigFile)); err != nil {
		t.Fatal(err)
	}
	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatalf("read-only: %v", err)
	}
	nm, nt, _ := ro.Store().Counts()
	iss := ro.Store().Issues()
	ro.Close()
	if nm != 2 || nt != 4 || len(iss) != 1 || !strings.Contains(iss[0].String(), "config.toml: missing: the run's settings") {
		t.Errorf("read-only without config.toml: %d metrics, %d traces, issues %v", nm, nt, iss)
	}
	if _, err := Open(dir, nil); err == nil || !strings.Contains(err.Error(), "its config.toml is missing, so its settings are unknown: write it again (rlt run --print-config prints one to start from for a run of the embedded models, rlt train --print-config for one of your own;") {
		t.Errorf("open to write: %v", err)
	}
	empty := t.TempDir()
	if _, err := OpenReadOnly(empty); err == nil || !strings.Contains(err.Error(), "no config.toml: not a run folder") {
		t.Errorf("a folder with no records: %v", err)
	}
}

// TestCreateThatFailsLeavesNoFolder: a run folder that cannot be made
// whole is removed again: not left to be listed as a broken run dated
// year 1 (its config.toml not written: a full disk), nor empty under
// runs/ (its lock not granted: a filesystem that does not lock files,
// ENOLCK). A folder that was there before (it may be the user's) is left
// as it was found: only what the create made in it is removed. It kept
// traces/, checkpoints/, the logs and an emptied run.lock beside the
// user's file where config.toml could not be written.
// The refusal says what a start does about it: no run was made, so it
// says neither to open one read-only nor to copy one, as an existing
// run's refused lock does (TestLockNotTakenLeavesTheRunAsFound).
func TestCreateThatFailsLeavesNoFolder(t *testing.T) {
	for _, c := range []struct {
		name string
		fail func(t *testing.T) // has Create fail, until the test ends
		want error              // why it fails
		says string             // what the refusal says to do
	}{
		{"config.toml not written", func(t *testing.T) {
			full := &os.PathError{Op: "write", Path: "config.toml", Err: syscall.ENOSPC}
			w := writeRunConfig
			t.Cleanup(func() { writeRunConfig = w })
			writeRunConfig = func(string, []byte, os.FileMode) error { return full }
		}, syscall.ENOSPC, "config.toml: no space left on device"},
		{"run.lock not locked", func(t *testing.T) { noLocks(t) }, syscall.ENOLCK,
			"a run is not started without its lock, which keeps other processes from writing it, so none was made; " +
				"the filesystem does not lock files there (on NFS, its lock manager may not be reached): " +
				"start the run in a runs folder on a disk that locks files (a local one: --runs DIR)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.fail(t)
			dir := filepath.Join(t.TempDir(), "run")
			_, err := Create(dir, testCfg())
			if !errors.Is(err, c.want) {
				t.Fatalf("Create: %v, want %v", err, c.want)
			}
			if msg := err.Error(); !strings.Contains(msg, c.says) || strings.Contains(msg, "rlt open") || strings.Contains(msg, "copy") {
				t.Errorf("Create refused with\n%s\nwant it to say %q, and neither to open nor to copy a run", msg, c.says)
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the half-made run folder is still there (stat: %v)", err)
			}
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			was := folderAsIs(t, dir)
			if _, err := Create(dir, testCfg()); !errors.Is(err, c.want) {
				t.Fatalf("Create in a folder that was there: %v, want %v", err, c.want)
			}
			if now := folderAsIs(t, dir); now != was {
				t.Errorf("the folder that was there holds after the failed create:\n%s\nwant it as it was:\n%s", now, was)
			}
		})
	}
}

// folderAsIs is what the folder dir holds, one entry a line, with each
// file's content, for comparing it before and after.
func folderAsIs(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			fmt.Fprintf(&b, "%s/\n", rel)
			return nil
		}
		data, err := os.ReadFile(path)
		fmt.Fprintf(&b, "%s %q %v\n", rel, data, err)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestCreateOverARunLeavesItsLock: a create refused because the folder
// holds a run (its config.toml) leaves that run's run.lock as it found it:
// the record of its killed trainer stays, and the listing still says the
// trainer did not stop it. The refused create emptied it, which reads as
// the run's last session closing it cleanly.
func TestCreateOverARunLeavesItsLock(t *testing.T) {
	runs := t.TempDir()
	dir := filepath.Join(runs, "run")
	w := mustCreate(t, dir, Options{})
	emitSteps(w, 0, 2, 1, 1)
	killWriter(t, w, deadPID)
	was := folderAsIs(t, dir)
	listed := func() string {
		t.Helper()
		list, err := List(runs)
		if err != nil || len(list) != 1 {
			t.Fatalf("List: %+v, %v", list, err)
		}
		return fmt.Sprintf("%s (%s)", list[0].State, list[0].Note)
	}
	listedWas := listed()
	if r, err := Create(dir, testCfg()); err == nil || !strings.Contains(err.Error(), "already exists") {
		if r != nil {
			r.Close()
		}
		t.Fatalf("Create over a run: %v, want it refused", err)
	}
	if now := folderAsIs(t, dir); now != was {
		t.Errorf("the run holds after the refused create:\n%s\nwant it as it was:\n%s", now, was)
	}
	if now := listed(); now != listedWas || !strings.Contains(now, fmt.Sprintf("pid %d", deadPID)) {
		t.Errorf("listed %s after the refused create, was %s (naming the killed writer, pid %d)", now, listedWas, deadPID)
	}
}

// TestCreateOverRecordsWithoutConfig: a create in a folder holding a run's
// records (events.jsonl, metrics.jsonl) but no config.toml (a run that
// lost it) is refused as one over a run is, naming the records found and
// saying what to do, and leaves the folder as it found it, run.lock (its
// killed writer's) too. It made the new run there: its records were
// appended to the old run's logs, their partial last lines cut away first,
// for good.
func TestCreateOverRecordsWithoutConfig(t *testing.T) {
	for _, c := range []struct {
		name  string
		gone  []string // of the old run's files, besides config.toml
		found string   // the records the refusal names
	}{
		{"events and metrics", nil, EventsFile + ", " + MetricsFile},
		{"events only", []string{MetricsFile}, EventsFile},
		{"metrics only", []string{EventsFile}, MetricsFile},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			w := mustCreate(t, dir, Options{})
			emitSteps(w, 0, 2, 1, 1)
			killWriter(t, w, deadPID)
			for _, name := range append([]string{ConfigFile}, c.gone...) {
				if err := os.Remove(filepath.Join(dir, name)); err != nil {
					t.Fatal(err)
				}
			}
			for _, name := range []string{EventsFile, MetricsFile} { // a killed writer's partial last lines
				f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_APPEND, 0)
				if errors.Is(err, fs.ErrNotExist) {
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				f.WriteString(`{"step":`)
				f.Close()
			}
			was := folderAsIs(t, dir)
			r, err := Create(dir, testCfg())
			if err == nil {
				r.Close()
				t.Fatal("created a run in a folder holding another's records")
			}
			q := ShellQuote(dir)
			for _, want := range []string{dir + " holds a run's records (" + c.found + ") but no " + ConfigFile,
				"choose a new folder", "rlt open " + q, "write its " + ConfigFile + " again to continue it (rlt run --resume " + q + ")"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("refused with\n%v\nwant it to say %q", err, want)
				}
			}
			if now := folderAsIs(t, dir); now != was {
				t.Errorf("the folder holds after the refused create:\n%s\nwant it as it was:\n%s", now, was)
			}
		})
	}
}
