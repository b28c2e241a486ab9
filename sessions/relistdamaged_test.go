package sessions

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// damages are ways a run folder no one writes is damaged that a Lister
// must keep listing: config.toml gone, a log that is there but cannot be
// read. make damages dir; repair undoes it.
var damages = []struct {
	name           string
	damage, repair func(t testing.TB, dir string)
	// needsUnreadable: the damage takes a file's read permission, which
	// does not stop root: the case is skipped where the file can still
	// be read.
	needsUnreadable string
}{
	{name: "config.toml missing",
		damage: func(t testing.TB, dir string) {
			moveFile(t, filepath.Join(dir, ConfigFile), filepath.Join(dir, "..", "config.toml.away"))
		},
		repair: func(t testing.TB, dir string) {
			moveFile(t, filepath.Join(dir, "..", "config.toml.away"), filepath.Join(dir, ConfigFile))
		}},
	{name: "events.jsonl a folder",
		damage: func(t testing.TB, dir string) {
			moveFile(t, filepath.Join(dir, EventsFile), filepath.Join(dir, "..", "events.jsonl.away"))
			if err := os.Mkdir(filepath.Join(dir, EventsFile), 0o755); err != nil {
				t.Fatal(err)
			}
		},
		repair: func(t testing.TB, dir string) {
			if err := os.Remove(filepath.Join(dir, EventsFile)); err != nil {
				t.Fatal(err)
			}
			moveFile(t, filepath.Join(dir, "..", "events.jsonl.away"), filepath.Join(dir, EventsFile))
		}},
	{name: "metrics.jsonl a folder",
		damage: func(t testing.TB, dir string) {
			moveFile(t, filepath.Join(dir, MetricsFile), filepath.Join(dir, "..", "metrics.jsonl.away"))
			if err := os.Mkdir(filepath.Join(dir, MetricsFile), 0o755); err != nil {
				t.Fatal(err)
			}
		},
		repair: func(t testing.TB, dir string) {
			if err := os.Remove(filepath.Join(dir, MetricsFile)); err != nil {
				t.Fatal(err)
			}
			moveFile(t, filepath.Join(dir, "..", "metrics.jsonl.away"), filepath.Join(dir, MetricsFile))
		}},
	{name: "events.jsonl without read permission", needsUnreadable: EventsFile,
		damage: func(t testing.TB, dir string) { chmod(t, filepath.Join(dir, EventsFile), 0) },
		repair: func(t testing.TB, dir string) { chmod(t, filepath.Join(dir, EventsFile), 0o644) }},
}

func moveFile(t testing.TB, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

func chmod(t testing.TB, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// TestListerKeepsTheSizeOfDamagedRuns: a relist does not walk a run
// folder no process holds whose config.toml is missing, or one of whose
// logs is there but cannot be read (a folder in its place, no read
// permission), while the folder's, config.toml's and the logs'
// identities are as they were, as it keeps the size of a run whose files
// are whole (TestListerKeepsTheSizeOfRunsNoOneWrites): such a run was
// walked at every relist. A relist after a change (the damage undone, a
// file added, a record appended) agrees with a fresh List, size and
// notes; a file deep in the folder grown after it is not seen, as the
// folder is not walked again, by the next relist.
func TestListerKeepsTheSizeOfDamagedRuns(t *testing.T) {
	for _, d := range damages {
		for _, c := range []struct {
			name   string
			change func(t testing.TB, dir string)
		}{
			{"nothing else", func(testing.TB, string) {}},
			{"the damage undone", d.repair},
			{"a file added at the top", func(t testing.TB, dir string) {
				if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hello"), 0o644); err != nil {
					t.Fatal(err)
				}
			}},
			{"a record appended to the other log", func(t testing.TB, dir string) {
				if fi, err := os.Stat(filepath.Join(dir, MetricsFile)); err == nil && fi.IsDir() {
					appendTo(t, filepath.Join(dir, EventsFile), evLine(KindPhase, "done", "", false))
					return
				}
				appendTo(t, filepath.Join(dir, MetricsFile), metricLine(9, 1))
			}},
		} {
			t.Run(d.name+", "+c.name, func(t *testing.T) {
				runs, dir := fiveStepsTwoCheckpoints(t)
				deep := filepath.Join(dir, "deep", "notes.txt")
				if err := os.MkdirAll(filepath.Dir(deep), 0o755); err != nil {
					t.Fatal(err)
				}
				appendTo(t, deep, "hello\n")
				d.damage(t, dir)
				if d.needsUnreadable != "" {
					t.Cleanup(func() { os.Chmod(filepath.Join(dir, d.needsUnreadable), 0o644) }) // TempDir's removal
					if f, err := os.Open(filepath.Join(dir, d.needsUnreadable)); err == nil {
						f.Close()
						t.Skip("a file without read permission can be read here (root)")
					}
				}
				var l Lister
				first, err := l.List(runs)
				if err != nil || len(first) != 1 {
					t.Fatalf("first listing %+v, %v", first, err)
				}
				want, _ := List(runs)
				sameSummaries(t, "first listing", first, want)
				if first[0].State != StateBroken && first[0].Note == "" {
					t.Fatalf("the damage is not said: %+v", first[0])
				}
				c.change(t, dir)
				got, err := l.List(runs)
				if err != nil {
					t.Fatal(err)
				}
				want, _ = List(runs)
				sameSummaries(t, "relisted after the change", got, want)
				appendTo(t, deep, "unseen\n")
				for _, what := range []string{"relisted", "relisted again"} {
					again, err := l.List(runs)
					if err != nil || len(again) != 1 {
						t.Fatalf("%s: %+v, %v", what, again, err)
					}
					if again[0].Size != got[0].Size {
						t.Errorf("%s with nothing changed since: size %d, want %d as before: walked again (the folder has %d bytes now)",
							what, again[0].Size, got[0].Size, FolderSize(dir))
					}
				}
			})
		}
	}
}

// damagedRuns makes runs copies under a new folder of a run of 5 steps
// with checkpoints of steps 1 and 4 (fiveStepsTwoCheckpoints), each
// damaged by damage, and a Lister that has listed them once.
func damagedRuns(b *testing.B, runs int, damage func(t testing.TB, dir string)) (string, *Lister) {
	tmpl := filepath.Join(b.TempDir(), "template")
	w := mustCreate(b, tmpl, Options{})
	for s := 0; s < 5; s++ {
		emitSteps(w, s, s+1, 1, 1)
		if s == 1 || s == 4 {
			if _, err := w.SaveCheckpoint(s, saveFake(s), CheckpointState{MeanReward: reward(0)}); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	root := runCopies(b, tmpl, runs, damage)
	var l Lister
	if got, err := l.List(root); err != nil || len(got) != runs {
		b.Fatal(got, err)
	}
	return root, &l
}

// BenchmarkRelistDamaged relists, with a Lister finding nothing changed,
// 40 runs of one damage each (damages: config.toml missing, a log a
// folder): what a relist costs such runs, their folders walked at every
// relist or not.
//
//	go test -run '^$' -bench BenchmarkRelistDamaged -benchtime 100x ./sessions/
func BenchmarkRelistDamaged(b *testing.B) {
	const runs = 40
	for _, d := range damages {
		if d.needsUnreadable != "" {
			continue // root reads it: the folder's case takes the same path
		}
		b.Run(d.name, func(b *testing.B) {
			root, l := damagedRuns(b, runs, d.damage)
			for b.Loop() {
				if got, err := l.List(root); err != nil || len(got) != runs {
					b.Fatal(len(got), err)
				}
			}
		})
	}
}

// BenchmarkRunStepsEventsLost is the workbench header's count of a run
// kept open (Run.Steps, asked at each change of its store it shows) whose
// events.jsonl is lost, with checkpoints of steps 1 and 4: the newest
// folder's check is asked at every call (usableChecks, a stat of each
// file it statted), against one whose events are whole, which asks none.
//
//	go test -run '^$' -bench BenchmarkRunStepsEventsLost ./sessions/
func BenchmarkRunStepsEventsLost(b *testing.B) {
	for _, lost := range []bool{false, true} {
		b.Run(fmt.Sprintf("lost=%v", lost), func(b *testing.B) {
			root, _ := damagedRuns(b, 1, func(t testing.TB, dir string) {
				if lost {
					if err := os.Remove(filepath.Join(dir, EventsFile)); err != nil {
						t.Fatal(err)
					}
				}
			})
			r, err := OpenReadOnly(filepath.Join(root, "run-00"))
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			if st := r.Steps(); st.Done != 5 {
				b.Fatalf("%d steps done, want 5", st.Done)
			}
			for b.Loop() {
				r.Steps()
			}
		})
	}
}
