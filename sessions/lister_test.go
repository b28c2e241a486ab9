package sessions

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/durable"
	"github.com/rlt-workbench/rlt/engine/event"
)

// sameSummaries reports, field by field, where got differs from want (a
// NaN best reward equals a NaN).
func sameSummaries(t *testing.T, what string, got, want []RunSummary) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d runs, a fresh List has %d: %+v vs %+v", what, len(got), len(want), got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		diff := func(field string, a, b any) {
			t.Helper()
			t.Errorf("%s: run %d (%s): %s = %v, a fresh List says %v", what, i, w.Name, field, a, b)
		}
		if g.Name != w.Name {
			diff("Name", g.Name, w.Name)
		}
		if g.Dir != w.Dir {
			diff("Dir", g.Dir, w.Dir)
		}
		if g.State != w.State {
			diff("State", g.State, w.State)
		}
		if g.LastStep != w.LastStep {
			diff("LastStep", g.LastStep, w.LastStep)
		}
		if g.BestReward != w.BestReward && !(math.IsNaN(g.BestReward) && math.IsNaN(w.BestReward)) {
			diff("BestReward", g.BestReward, w.BestReward)
		}
		if g.Size != w.Size {
			diff("Size", g.Size, w.Size)
		}
		if !g.Created.Equal(w.Created) {
			diff("Created", g.Created, w.Created)
		}
		if g.Note != w.Note {
			diff("Note", g.Note, w.Note)
		}
		if g.Device != w.Device {
			diff("Device", g.Device, w.Device)
		}
		if g.Numbering != w.Numbering {
			diff("Numbering", g.Numbering, w.Numbering)
		}
		if g.PlannedSteps != w.PlannedSteps {
			diff("PlannedSteps", g.PlannedSteps, w.PlannedSteps)
		}
	}
}

func appendTo(t testing.TB, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func metricLine(step int, reward float64) string {
	return fmt.Sprintf("{\"time\":\"2025-01-02T03:04:05Z\",\"step\":%d,\"values\":{\"reward\":%g,\"kl\":0.01}}\n", step, reward)
}

func evLine(kind, name, errText string, fatal bool) string {
	return fmt.Sprintf("{\"time\":\"2025-01-02T03:04:05Z\",\"kind\":%q,\"step\":9,\"name\":%q,\"error\":%q,\"fatal\":%t}\n", kind, name, errText, fatal)
}

// rewrite writes data over path in place (same inode), keeping or setting
// its mtime.
func rewrite(t *testing.T, path string, data string, mtime time.Time) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(data); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if !mtime.IsZero() {
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
}

func readString(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestListerMatchesList: after each change a run folder can go through,
// a Lister that listed the folder before says what a fresh List says.
func TestListerMatchesList(t *testing.T) {
	type step struct {
		name string
		do   func(t *testing.T, root string)
	}
	m := func(root string) string { return filepath.Join(root, "a", MetricsFile) }
	e := func(root string) string { return filepath.Join(root, "a", EventsFile) }
	c := func(root string) string { return filepath.Join(root, "a", ConfigFile) }
	cases := []struct {
		name  string
		steps []step
	}{
		{"unchanged", []step{{"nothing", func(*testing.T, string) {}}}},
		{"metrics appended", []step{
			{"one step", func(t *testing.T, root string) { appendTo(t, m(root), metricLine(3, 0.5)) }},
			{"a better reward", func(t *testing.T, root string) { appendTo(t, m(root), metricLine(4, 7)) }},
			{"a worse one and NaN", func(t *testing.T, root string) {
				appendTo(t, m(root), metricLine(5, -3)+`{"step":6,"values":{"reward":"NaN"}}`+"\n")
			}},
			{"blank lines", func(t *testing.T, root string) { appendTo(t, m(root), "\n  \n") }},
		}},
		{"partial line completed", []step{
			{"partial", func(t *testing.T, root string) { appendTo(t, m(root), `{"step":40,"values":{"rew`) }},
			{"more of it", func(t *testing.T, root string) { appendTo(t, m(root), `ard":99`) }},
			{"completed", func(t *testing.T, root string) { appendTo(t, m(root), "}}\n") }},
			{"partial event", func(t *testing.T, root string) { appendTo(t, e(root), `{"kind":"phase","name":"do`) }},
			{"event completed", func(t *testing.T, root string) { appendTo(t, e(root), "ne\"}\n") }},
		}},
		{"broken lines", []step{
			{"broken metric", func(t *testing.T, root string) { appendTo(t, m(root), "{not json\n") }},
			{"no step", func(t *testing.T, root string) { appendTo(t, m(root), `{"values":{"reward":100}}`+"\n") }},
			{"broken event", func(t *testing.T, root string) { appendTo(t, e(root), "{\"kind\":\n") }},
			{"good after", func(t *testing.T, root string) { appendTo(t, m(root), metricLine(8, 1)) }},
		}},
		{"events", []step{
			{"fatal", func(t *testing.T, root string) { appendTo(t, e(root), evLine(KindError, "", "out of memory", true)) }},
			{"resume", func(t *testing.T, root string) { appendTo(t, e(root), evLine(KindResume, "", "", false)) }},
			{"done", func(t *testing.T, root string) { appendTo(t, e(root), evLine(KindPhase, "done", "", false)) }},
			{"device", func(t *testing.T, root string) {
				appendTo(t, e(root), `{"time":"2025-01-02T03:04:05Z","kind":"device","step":1,"device":{"backend":"cpu/avx2"}}`+"\n")
			}},
			{"created again", func(t *testing.T, root string) { appendTo(t, e(root), evLine(KindCreate, "", "", false)) }},
		}},
		{"metrics truncated", []step{
			{"to its first line", func(t *testing.T, root string) {
				data := readString(t, m(root))
				i := 0
				for i < len(data) && data[i] != '\n' {
					i++
				}
				rewrite(t, m(root), data[:i+1], time.Time{})
			}},
			{"to nothing", func(t *testing.T, root string) { rewrite(t, m(root), "", time.Time{}) }},
			{"grown again", func(t *testing.T, root string) { appendTo(t, m(root), metricLine(1, 2)) }},
		}},
		{"metrics rewritten in place, larger", []step{
			{"rewritten", func(t *testing.T, root string) {
				data := readString(t, m(root))
				var s string
				for i := 0; len(s) <= len(data); i++ {
					s += metricLine(100+i, -50)
				}
				rewrite(t, m(root), s, time.Time{})
			}},
		}},
		{"metrics rewritten, same size, mtime back", []step{
			{"rewritten", func(t *testing.T, root string) {
				fi, _ := os.Stat(m(root))
				data := []byte(readString(t, m(root)))
				for i, b := range data {
					if b == '0' {
						data[i] = '1'
					}
				}
				rewrite(t, m(root), string(data), fi.ModTime().Add(-time.Hour))
			}},
		}},
		{"metrics replaced", []step{
			{"renamed over", func(t *testing.T, root string) {
				tmp := m(root) + ".tmp"
				os.WriteFile(tmp, []byte(readString(t, m(root))+metricLine(70, 0)), 0o644)
				if err := os.Rename(tmp, m(root)); err != nil {
					t.Fatal(err)
				}
			}},
		}},
		{"logs vanish and return", []step{
			{"metrics removed", func(t *testing.T, root string) { os.Remove(m(root)) }},
			{"events removed", func(t *testing.T, root string) { os.Remove(e(root)) }},
			{"metrics back", func(t *testing.T, root string) { appendTo(t, m(root), metricLine(2, 1)) }},
			{"events back", func(t *testing.T, root string) { appendTo(t, e(root), evLine(KindPhase, "paused", "", false)) }},
		}},
		{"unreadable log", []step{
			{"metrics a folder", func(t *testing.T, root string) {
				os.Remove(m(root))
				os.Mkdir(m(root), 0o755)
			}},
			{"a file again", func(t *testing.T, root string) {
				os.Remove(m(root))
				appendTo(t, m(root), metricLine(1, 1))
			}},
		}},
		{"config", []step{
			{"broken", func(t *testing.T, root string) { appendTo(t, c(root), "steps = = 3\n") }},
			{"replaced", func(t *testing.T, root string) {
				if err := durable.WriteFile(c(root), []byte("name = \"b\"\n[import]\nformat = \"trl\"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}},
			{"a plan", func(t *testing.T, root string) {
				if err := durable.WriteFile(c(root), []byte("name = \"p\"\nsteps = 8\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}},
			{"removed", func(t *testing.T, root string) { os.Remove(c(root)) }},
			{"back", func(t *testing.T, root string) { os.WriteFile(c(root), []byte("name = \"c\"\n"), 0o644) }},
		}},
		{"runs come and go", []step{
			{"run deleted", func(t *testing.T, root string) { os.RemoveAll(filepath.Join(root, "b")) }},
			{"run added", func(t *testing.T, root string) {
				w := mustCreate(t, filepath.Join(root, "d"), Options{})
				emitSteps(w, 0, 2, 1, 1)
				w.Close()
			}},
			{"deleted run back under its name", func(t *testing.T, root string) {
				w := mustCreate(t, filepath.Join(root, "b"), Options{})
				emitSteps(w, 0, 1, 1, 1)
				w.Close()
			}},
			{"a folder with metrics only", func(t *testing.T, root string) {
				os.Mkdir(filepath.Join(root, "m"), 0o755)
				appendTo(t, filepath.Join(root, "m", MetricsFile), metricLine(0, 1))
			}},
		}},
		{"checkpoint", []step{
			{"saved", func(t *testing.T, root string) {
				w, err := Open(filepath.Join(root, "a"), nil)
				if err != nil {
					t.Fatal(err)
				}
				defer w.Close()
				if _, err := w.SaveCheckpoint(2, saveFake(2), CheckpointState{}); err != nil {
					t.Fatal(err)
				}
			}},
			// A file deep in the folder changes while a writer holds the
			// run: a held run is walked again. (With no writer, only a
			// change the folder's or its logs' identities show is seen:
			// TestListerKeepsTheSizeOfRunsNoOneWrites.)
			{"a file in it grows while held", func(t *testing.T, root string) {
				w, err := Open(filepath.Join(root, "a"), nil)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { w.Close() })
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
				cks, _ := filepath.Glob(filepath.Join(root, "a", CheckpointsDir, "*", "*"))
				if len(cks) == 0 {
					t.Fatal("no checkpoint files")
				}
				appendTo(t, cks[0], "more")
			}},
		}},
		{"resumed from an earlier step", []step{
			// The resume event comes after the steps it supersedes were
			// read: they stop counting.
			{"resumed after step 0", func(t *testing.T, root string) {
				w, err := Open(filepath.Join(root, "a"), nil)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { w.Close() })
				if err := w.Resume(0); err != nil {
					t.Fatal(err)
				}
			}},
			{"step 1 re-done", func(t *testing.T, root string) {
				appendTo(t, m(root), `{"seg":1,"time":"2025-01-02T03:04:05Z","step":1,"values":{"reward":0.5}}`+"\n")
			}},
		}},
		{"held and writing", []step{
			{"open for writing", func(t *testing.T, root string) {
				w, err := Open(filepath.Join(root, "a"), nil)
				if err != nil {
					t.Fatal(err)
				}
				emitSteps(w, 2, 4, 1, 1)
				w.Emit(event.Phase{Time: time.Now(), Name: "paused", Step: 3})
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { w.Close() })
			}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for _, name := range []string{"a", "b", "c"} {
				w := mustCreate(t, filepath.Join(root, name), Options{})
				emitSteps(w, 0, 3, 1, 1)
				w.Close()
			}
			var l Lister
			if _, err := l.List(root); err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.steps {
				s.do(t, root)
				got, gerr := l.List(root)
				want, werr := List(root)
				if fmt.Sprint(gerr) != fmt.Sprint(werr) {
					t.Fatalf("%s: error %v, a fresh List's %v", s.name, gerr, werr)
				}
				sameSummaries(t, s.name, got, want)
				// Listed again with nothing changed, it still agrees.
				again, _ := l.List(root)
				sameSummaries(t, s.name+", again", again, want)
			}
		})
	}
}

// TestListerKeepsTheSizeOfRunsNoOneWrites: a relist does not walk a run
// folder no process holds (its writer closed it, or was killed) while the
// folder's, config.toml's and the logs' identities are as they were: its
// size is the one walked before. Every session that writes a run takes its
// lock and appends to events.jsonl, so what changes such a run shows in
// them; a held run is walked every time. Each case also grows a file deep
// in the folder, which moves no identity: the size stays as walked where
// the run is not walked again, and is the folder's size where it is. A
// trace file grown in place is seen by its size (changedInPlace), and the
// folder walked again. Each case runs on a run whose logs are whole, and
// on one that lost events.jsonl, or both logs, before the first listing,
// which is keyed by the log missing: such a run was walked at every
// relist, its checkpoints and traces with it.
func TestListerKeepsTheSizeOfRunsNoOneWrites(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(t *testing.T, dir string)
		walked bool
	}{
		{"nothing else", func(*testing.T, string) {}, false},
		{"opened and closed to review", func(t *testing.T, dir string) {
			r, err := Open(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"held by a writer", func(t *testing.T, dir string) {
			r, err := Open(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			if err := r.Flush(); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"a metric appended", func(t *testing.T, dir string) { appendTo(t, filepath.Join(dir, MetricsFile), metricLine(9, 1)) }, true},
		{"an event appended", func(t *testing.T, dir string) {
			appendTo(t, filepath.Join(dir, EventsFile), evLine(KindPhase, "done", "", false))
		}, true},
		{"a file added at the top", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hello"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"config.toml rewritten", func(t *testing.T, dir string) { appendTo(t, filepath.Join(dir, ConfigFile), "# a note\n") }, true},
		{"a trace file grown", func(t *testing.T, dir string) {
			traces, _ := filepath.Glob(filepath.Join(dir, TracesDir, "*.jsonl"))
			if len(traces) == 0 {
				t.Fatal("no trace files")
			}
			appendTo(t, traces[0], "unseen\n")
		}, true},
	} {
		for _, lost := range [][]string{nil, {EventsFile}, {EventsFile, MetricsFile}} {
			t.Run(fmt.Sprintf("%s, lost %v", c.name, lost), func(t *testing.T) {
				root := t.TempDir()
				dir := filepath.Join(root, "run")
				w := mustCreate(t, dir, Options{})
				emitSteps(w, 0, 3, 1, 2)
				w.Emit(event.Phase{Time: time.Now(), Name: "done", Step: 2})
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				for _, f := range lost {
					if err := os.Remove(filepath.Join(dir, f)); err != nil {
						t.Fatal(err)
					}
				}
				deep := filepath.Join(dir, "deep", "notes.txt")
				if err := os.MkdirAll(filepath.Dir(deep), 0o755); err != nil {
					t.Fatal(err)
				}
				appendTo(t, deep, "hello\n")
				var l Lister
				first, err := l.List(root)
				if err != nil || len(first) != 1 || first[0].Size != FolderSize(dir) {
					t.Fatalf("first listing %+v, %v; the folder has %d bytes", first, err, FolderSize(dir))
				}
				c.change(t, dir)
				appendTo(t, deep, "unseen\n")
				want := first[0].Size
				if c.walked {
					want = FolderSize(dir)
				}
				for _, what := range []string{"relisted", "relisted again"} {
					got, err := l.List(root)
					if err != nil || len(got) != 1 {
						t.Fatalf("%s: %+v, %v", what, got, err)
					}
					if got[0].Size != want {
						t.Errorf("%s: size %d, want %d (walked again: %v; first %d, the folder now %d)",
							what, got[0].Size, want, c.walked, first[0].Size, FolderSize(dir))
					}
				}
			})
		}
	}
}

// TestListerRootGone: a root that vanishes is an error, as for List, and
// the runs listed before are forgotten.
func TestListerRootGone(t *testing.T) {
	root := filepath.Join(t.TempDir(), "runs")
	w := mustCreate(t, filepath.Join(root, "a"), Options{})
	emitSteps(w, 0, 2, 1, 1)
	w.Close()
	var l Lister
	if got, err := l.List(root); err != nil || len(got) != 1 {
		t.Fatalf("List = %v, %v", got, err)
	}
	os.RemoveAll(root)
	if _, err := l.List(root); err == nil {
		t.Error("no error for a removed root")
	}
	if len(l.roots) != 0 {
		t.Errorf("%d roots kept after theirs vanished", len(l.roots))
	}
}

// TestListerConcurrent: listings from several goroutines (a screen whose
// refreshes overlap) take turns; run with -race.
func TestListerConcurrent(t *testing.T) {
	root := t.TempDir()
	w := mustCreate(t, filepath.Join(root, "a"), Options{})
	emitSteps(w, 0, 2, 1, 1)
	w.Close()
	var l Lister
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if i%2 == 0 {
				appendTo(t, filepath.Join(root, "a", MetricsFile), metricLine(10+i, float64(i)))
			}
			if _, err := l.List(root); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	got, _ := l.List(root)
	want, _ := List(root)
	sameSummaries(t, "after concurrent listings", got, want)
}

// TestLogStateReadsOnlyNew: a relist decodes only the lines appended since
// (a partial line once it is complete), and a log that shrank or was
// replaced whole.
func TestLogStateReadsOnlyNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), MetricsFile)
	appendTo(t, path, metricLine(0, 0)+metricLine(1, 0)+metricLine(2, 0))
	var ls logState
	var lines, resets int
	read := func() ReadStats {
		st, err := ls.read(path, func() { resets++ }, func([]byte) { lines++ })
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	read()
	cases := []struct {
		name          string
		do            func()
		lines, resets int
		partial       bool
	}{
		{"unchanged", func() {}, 0, 0, false},
		{"one appended", func() { appendTo(t, path, metricLine(3, 0)) }, 1, 0, false},
		{"partial", func() { appendTo(t, path, `{"step":4,`) }, 0, 0, true},
		{"partial unchanged", func() {}, 0, 0, true},
		{"completed", func() { appendTo(t, path, "\"values\":{}}\n") }, 1, 0, false},
		{"shrank", func() { rewrite(t, path, metricLine(0, 0), time.Time{}) }, 1, 1, false},
		{"replaced", func() {
			os.WriteFile(path+".tmp", []byte(readString(t, path)+metricLine(1, 0)), 0o644)
			os.Rename(path+".tmp", path)
		}, 2, 1, false},
		{"rewritten larger in place", func() {
			rewrite(t, path, metricLine(5, 0)+metricLine(6, 0)+metricLine(7, 0), time.Time{})
		}, 3, 1, false},
	}
	for _, c := range cases {
		lines, resets = 0, 0
		c.do()
		st := read()
		if lines != c.lines || resets != c.resets || (st.PartialBytes > 0) != c.partial {
			t.Errorf("%s: %d lines decoded, %d resets, partial %d bytes; want %d, %d, partial %t",
				c.name, lines, resets, st.PartialBytes, c.lines, c.resets, c.partial)
		}
	}
}

// BenchmarkList lists 40 runs of 5,000 steps each (about 6 MB of metrics
// apiece, as a researcher's runs folder holds) fresh, as List does, and
// again with a Lister after one step was appended to one run, as the Runs
// screen does every relistEvery.
//
//	go test -run '^$' -bench BenchmarkList -benchtime 5x ./sessions/
func BenchmarkList(b *testing.B) {
	const runs, steps = 40, 5000
	tmpl := filepath.Join(b.TempDir(), "template")
	w := mustCreate(b, tmpl, Options{})
	for s := 0; s < steps; s++ {
		w.Emit(event.Phase{Time: time.Now(), Name: "sampling", Step: s})
		w.Emit(fakeMetrics(s))
	}
	w.Emit(event.Phase{Time: time.Now(), Name: "done", Step: steps - 1})
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	root := runCopies(b, tmpl, runs, nil)
	metrics := filepath.Join(root, "run-07", MetricsFile)
	b.Run("fresh", func(b *testing.B) {
		for b.Loop() {
			if got, err := List(root); err != nil || len(got) != runs {
				b.Fatal(len(got), err)
			}
		}
	})
	// Every run is finished and held by no process: none is walked.
	b.Run("relist-unchanged", func(b *testing.B) { relistUnchanged(b, root, runs) })
	b.Run("relist-after-one-step", func(b *testing.B) {
		var l Lister
		if _, err := l.List(root); err != nil {
			b.Fatal(err)
		}
		step := steps
		for b.Loop() {
			appendTo(b, metrics, metricLine(step, 1))
			step++
			if got, err := l.List(root); err != nil || len(got) != runs {
				b.Fatal(len(got), err)
			}
		}
	})
}

// BenchmarkListTraces lists 40 finished runs of 1,000 steps each, each
// step's traces in a file of its own as a run writes them, with a Lister
// whose every relist finds nothing changed: what a relist costs in trace
// files (their sizes and times compared a few a run: changedInPlace).
//
//	go test -run '^$' -bench BenchmarkListTraces -benchtime 200x ./sessions/
func BenchmarkListTraces(b *testing.B) {
	const runs, steps = 40, 1000
	tmpl := filepath.Join(b.TempDir(), "template")
	w := mustCreate(b, tmpl, Options{})
	emitSteps(w, 0, steps, 1, 1)
	w.Emit(event.Phase{Time: time.Now(), Name: "done", Step: steps - 1})
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	root := runCopies(b, tmpl, runs, nil)
	b.Run("relist-unchanged", func(b *testing.B) { relistUnchanged(b, root, runs) })
}

// runCopies copies the run folder tmpl to runs folders, run-00, run-01 …,
// of a new folder, which it returns, each handed to damage where set.
func runCopies(b *testing.B, tmpl string, runs int, damage func(t testing.TB, dir string)) string {
	root := b.TempDir()
	for i := 0; i < runs; i++ {
		dir := filepath.Join(root, fmt.Sprintf("run-%02d", i))
		if err := os.CopyFS(dir, os.DirFS(tmpl)); err != nil {
			b.Fatal(err)
		}
		if damage != nil {
			damage(b, dir)
		}
	}
	return root
}

// relistUnchanged relists root, of runs runs, with a Lister that listed
// it once before, at each of b's iterations: what a relist costs where
// nothing changed.
func relistUnchanged(b *testing.B, root string, runs int) {
	var l Lister
	if _, err := l.List(root); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if got, err := l.List(root); err != nil || len(got) != runs {
			b.Fatal(len(got), err)
		}
	}
}

// TestListingScansAgreeWithDecoding: the scans a listing reads its logs'
// most frequent lines with (scanMetricReward, scanPhaseName) say what
// decoding the line in full says, and refuse every line they cannot read
// so (which is then decoded in full): other writers' layouts, escapes,
// the legacy device phase, cut lines.
func TestListingScansAgreeWithDecoding(t *testing.T) {
	written := func(m MetricRecord) string { return string(appendMetric(nil, &m)) }
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	for _, c := range []struct {
		line string
		scan bool // the scan reads it
	}{
		{written(MetricRecord{Step: 3, Time: at, Names: []string{"kl", "reward"}, Values: []float64{0.1, -0.5}}), true},
		{written(MetricRecord{Seg: 2, Step: 7, Time: at, Names: []string{"reward", "z"}, Values: []float64{math.NaN(), 1}}), true},
		{written(MetricRecord{Step: 4, Time: at, Names: []string{"loss"}, Values: []float64{math.Inf(1)}}), true},
		{written(MetricRecord{Step: 5, Time: at}), true},
		{`{"step":1,"time":"2026-01-02T03:04:05Z","values":{"reward":null}}`, true},
		{`{"time":"2026-01-02T03:04:05Z","step":1,"values":{"reward":0.5}}`, false}, // another writer's order
		{`{"step":1,"time":"2026-01-02T03:04:05Z","values":{"re\u0077ard":0.5}}`, false},
		{`{"step":1,"time":"2026-01-02T03:04:05Z","values":{"reward":0x1p3}}`, false},
		{`{"step":1,"time":"2026-01-02T03:04:05Z","values":{"reward":0.5`, false},
	} {
		seg, step, reward, has, ok := scanMetricReward([]byte(c.line))
		if ok != c.scan {
			t.Errorf("%s: scanned %v, want %v", c.line, ok, c.scan)
			continue
		}
		if !ok {
			continue
		}
		m, err := decodeMetric([]byte(c.line), nil)
		if err != nil {
			t.Fatalf("%s: %v", c.line, err)
		}
		want, wantHas := m.Get("reward")
		if seg != m.Seg || step != m.Step || has != wantHas || has && !(reward == want || math.IsNaN(reward) && math.IsNaN(want)) {
			t.Errorf("%s: scanned seg %d step %d reward %v (%v), decoded %d %d %v (%v)", c.line, seg, step, reward, has, m.Seg, m.Step, want, wantHas)
		}
	}
	event := func(e EventRecord) string { return string(eventLine(e)) }
	for _, c := range []struct {
		line string
		scan bool
	}{
		{event(EventRecord{Time: at, Kind: KindPhase, Step: 3, Name: "sampling"}), true},
		{event(EventRecord{Seg: 2, Time: at, Kind: KindPhase, Step: 0, Name: "done"}), true},
		{event(EventRecord{Time: at, Kind: KindPhase, Step: 3, Name: "done", Extra: "imported"}), false},
		{event(EventRecord{Time: at, Kind: KindPhase, Step: 3, Name: `a "quoted" phase`}), false},
		{event(EventRecord{Time: at, Kind: KindOpen, PID: 12}), false},
		{event(EventRecord{Time: at, Kind: KindError, Step: 1, Error: "boom", Fatal: true}), false},
		{`{"time":"2026-01-02T03:04:05Z","kind":"phase","step":1,"name":"device","extra":"cpu"}`, false},
		{`{"time":"2026-01-02T03:04:05Z","kind":"phase","step":1,"name":"device"}`, false},
		{`{"kind":"phase","time":"2026-01-02T03:04:05Z","step":1,"name":"sampling"}`, false},
		{`{"time":"2026-01-02T03:04:05Z","kind":"phase","step":1,"name":"sampl`, false},
	} {
		seg, name, step, ok := scanPhaseName([]byte(c.line))
		if ok != c.scan {
			t.Errorf("%s: scanned %v, want %v", c.line, ok, c.scan)
			continue
		}
		if !ok {
			continue
		}
		var e EventRecord
		if err := json.Unmarshal([]byte(c.line), &e); err != nil {
			t.Fatalf("%s: %v", c.line, err)
		}
		if e.Kind != KindPhase || e.Name != name || e.Step != step || e.Seg != seg {
			t.Errorf("%s: scanned phase %q of step %d, segment %d, decoded %s %q of step %d, segment %d", c.line, name, step, seg, e.Kind, e.Name, e.Step, e.Seg)
		}
	}
}

// TestListerForgetsTrainersNoLongerFollowed: a relist names the trainers'
// folders it follows (ForgetTrainersExcept), and what the Lister read of
// any other, deleted or no longer followed, goes; a folder still followed
// keeps what was read, and is not read again while unchanged.
func TestListerForgetsTrainersNoLongerFollowed(t *testing.T) {
	for _, c := range []struct {
		name string
		// change does to the folders at a and b what happens between two
		// relists, and returns the folders the second relist follows.
		change func(t *testing.T, a, b string) []string
		kept   []string // of "a", "b"
	}{
		{"both still followed", func(t *testing.T, a, b string) []string { return []string{a, b} }, []string{"a", "b"}},
		{"one deleted", func(t *testing.T, a, b string) []string {
			if err := os.RemoveAll(b); err != nil {
				t.Fatal(err)
			}
			return []string{a} // the Runs screen lists b missing: not read
		}, []string{"a"}},
		{"one no longer followed", func(t *testing.T, a, b string) []string { return []string{b} }, []string{"b"}},
		{"none followed", func(t *testing.T, a, b string) []string { return nil }, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			dirs := map[string]string{"a": filepath.Join(root, "a"), "b": filepath.Join(root, "b")}
			copyDir(t, trlFixture, dirs["a"])
			copyDir(t, verlFixture, dirs["b"])
			formats := map[string]string{dirs["a"]: ImportTRL, dirs["b"]: ImportVerl}
			l := new(Lister)
			relist := func(follow []string) map[string]TrainerSteps {
				read := map[string]TrainerSteps{}
				for _, d := range follow {
					read[d] = l.TrainerSteps(d, formats[d])
				}
				l.ForgetTrainersExcept(follow)
				return read
			}
			first := relist([]string{dirs["a"], dirs["b"]})
			if len(l.trainers) != 2 {
				t.Fatalf("after the first relist the Lister keeps %d folders, want 2", len(l.trainers))
			}
			follow := c.change(t, dirs["a"], dirs["b"])
			second := relist(follow)
			var kept []string
			for _, name := range []string{"a", "b"} {
				if st, ok := l.trainers[dirs[name]]; ok {
					kept = append(kept, name)
					if second[dirs[name]] != first[dirs[name]] || st.steps != first[dirs[name]] {
						t.Errorf("%s: read %+v the second time, %+v kept; the first read %+v", name, second[dirs[name]], st.steps, first[dirs[name]])
					}
				}
			}
			if !slices.Equal(kept, c.kept) {
				t.Errorf("the Lister keeps %v, want %v", kept, c.kept)
			}
		})
	}
}

// TestListerForgetsRootsNoLongerFollowed: a relist names the roots it
// listed (ForgetRootsExcept: the runs folder, a followed folder of runs,
// the folder holding a followed run folder), and what the Lister read of
// the run folders under any other root, deleted or no longer followed,
// goes; a root still listed keeps what was read of its folders.
func TestListerForgetsRootsNoLongerFollowed(t *testing.T) {
	for _, c := range []struct {
		name string
		// change does to the roots at a and b what happens between two
		// relists, and returns the roots the second relist lists.
		change func(t *testing.T, a, b string) []string
		kept   []string // of "a", "b"
	}{
		{"both still listed", func(t *testing.T, a, b string) []string { return []string{a, b} }, []string{"a", "b"}},
		{"one deleted", func(t *testing.T, a, b string) []string {
			if err := os.RemoveAll(b); err != nil {
				t.Fatal(err)
			}
			return []string{a} // the Runs screen lists b missing: not listed
		}, []string{"a"}},
		{"one no longer followed", func(t *testing.T, a, b string) []string { return []string{b} }, []string{"b"}},
		{"none listed", func(t *testing.T, a, b string) []string { return nil }, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			top := t.TempDir()
			roots := map[string]string{"a": filepath.Join(top, "a"), "b": filepath.Join(top, "b")}
			for _, root := range roots {
				writeClosed(t, filepath.Join(root, "run"), "stopped")
			}
			l := new(Lister)
			relist := func(list []string) {
				for _, root := range list {
					if got, err := l.List(root); err != nil || len(got) != 1 {
						t.Fatalf("List(%s): %+v, %v", root, got, err)
					}
				}
				l.ForgetRootsExcept(list)
			}
			relist([]string{roots["a"], roots["b"]})
			if len(l.roots) != 2 {
				t.Fatalf("after the first relist the Lister keeps %d roots, want 2", len(l.roots))
			}
			first := map[string]*runCache{}
			for name, root := range roots {
				first[name] = l.roots[root]["run"]
			}
			relist(c.change(t, roots["a"], roots["b"]))
			var kept []string
			for _, name := range []string{"a", "b"} {
				if runs, ok := l.roots[roots[name]]; ok {
					kept = append(kept, name)
					if runs["run"] != first[name] {
						t.Errorf("%s: its run folder's cache was replaced, not kept", name)
					}
				}
			}
			if !slices.Equal(kept, c.kept) {
				t.Errorf("the Lister keeps %v, want %v", kept, c.kept)
			}
		})
	}
}

// TestListerKeepsOneFolderOnce: a folder named two ways (the runs folder
// as the Runs screen lists it, relative, and as the folder holding a run
// folder followed in it, absolute; or with a trailing slash, or through
// ..) is one folder to a Lister: listed either way it is read once and
// kept once, each listing's Dirs joined to the root as it was given, and
// a relist naming it either way keeps it. The same holds for a trainer's
// folder. It used to be kept, and read, once per name.
func TestListerKeepsOneFolderOnce(t *testing.T) {
	fixture, err := filepath.Abs(trlFixture)
	if err != nil {
		t.Fatal(err)
	}
	top := t.TempDir()
	t.Chdir(top)
	writeClosed(t, filepath.Join("runs", "run"), "stopped")
	copyDir(t, fixture, "trl")
	sep := string(filepath.Separator)
	for _, c := range []struct {
		name string
		// names are the folder's names, listed in turn, each with %[1]s
		// for its name in top ("runs", "trl")
		names []string
	}{
		{"relative, then absolute", []string{"%[1]s", filepath.Join(top, "%[1]s")}},
		{"absolute, then relative", []string{filepath.Join(top, "%[1]s"), "%[1]s"}},
		{"with a trailing slash", []string{"%[1]s", "%[1]s" + sep}},
		{"through ..", []string{"%[1]s", "%[1]s" + sep + ".." + sep + "%[1]s", "." + sep + "%[1]s"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := new(Lister)
			var first *runCache
			for i, name := range c.names {
				root, trl := fmt.Sprintf(name, "runs"), fmt.Sprintf(name, "trl")
				list, err := l.List(root)
				if err != nil || len(list) != 1 {
					t.Fatalf("List(%s): %+v, %v", root, list, err)
				}
				if want := filepath.Join(root, "run"); list[0].Dir != want {
					t.Errorf("List(%s) names the run %s, want %s", root, list[0].Dir, want)
				}
				if len(l.roots) != 1 {
					t.Fatalf("after listing it as %s the Lister keeps %d roots, want 1", root, len(l.roots))
				}
				for _, runs := range l.roots {
					if i == 0 {
						first = runs["run"]
					} else if runs["run"] != first {
						t.Errorf("List(%s) read the run folder anew, not what List(%s) read", root, fmt.Sprintf(c.names[0], "runs"))
					}
				}
				l.TrainerSteps(trl, ImportTRL)
				if len(l.trainers) != 1 {
					t.Errorf("after reading the trainer's folder as %s the Lister keeps %d, want 1", trl, len(l.trainers))
				}
			}
			// A relist naming either way keeps them.
			l.ForgetRootsExcept([]string{fmt.Sprintf(c.names[0], "runs")})
			l.ForgetTrainersExcept([]string{fmt.Sprintf(c.names[0], "trl")})
			if len(l.roots) != 1 || len(l.trainers) != 1 {
				t.Errorf("a relist naming the folders as %s keeps %d roots and %d trainers' folders, want 1 and 1", fmt.Sprintf(c.names[0], "runs"), len(l.roots), len(l.trainers))
			}
		})
	}
}

// Summarize reads one run folder alone, as a List of the folder holding
// it summarises it, and keeps it where that List finds it (read once);
// its siblings are not read. A folder List would not list is refused.
func TestListerSummarizeReadsOneFolder(t *testing.T) {
	root := t.TempDir()
	run, other := filepath.Join(root, "run"), filepath.Join(root, "other")
	writeClosed(t, run, "stopped")
	writeClosed(t, other, "finished")
	l := new(Lister)
	got, err := l.Summarize(run)
	if err != nil {
		t.Fatal(err)
	}
	want, err := List(root)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(want, func(s RunSummary) bool { return s.Name == "run" })
	sameSummaries(t, "Summarize", []RunSummary{got}, want[i:i+1])
	runs := l.roots[folderKey(root)]
	if len(runs) != 1 || runs["run"] == nil {
		t.Fatalf("the Lister keeps %v under the folder holding the run, want the run alone", slices.Collect(maps.Keys(runs)))
	}
	read := runs["run"]
	if _, err := l.List(root); err != nil {
		t.Fatal(err)
	}
	if l.roots[folderKey(root)]["run"] != read {
		t.Error("a List of the folder holding it read the run anew")
	}
	for _, bad := range []string{root + "/missing", t.TempDir()} {
		if s, err := l.Summarize(bad); err == nil {
			t.Errorf("Summarize(%s) = %+v, want an error", bad, s)
		}
	}
}

// Summarize names the run by its folder as a List of the folder holding
// it does, however dir is written ("." from inside it, a trailing slash);
// its Dir stays dir as given.
func TestListerSummarizeNamesTheFolder(t *testing.T) {
	root := t.TempDir()
	run := filepath.Join(root, "run")
	writeClosed(t, run, "stopped")
	t.Chdir(run)
	for _, dir := range []string{".", run + string(filepath.Separator), filepath.Join("..", "run")} {
		s, err := new(Lister).Summarize(dir)
		if err != nil {
			t.Fatal(err)
		}
		if s.Name != "run" || s.Dir != dir {
			t.Errorf("Summarize(%q): Name %q, Dir %q; want run and %q", dir, s.Name, s.Dir, dir)
		}
	}
}
