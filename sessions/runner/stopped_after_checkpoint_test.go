package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rlt-workbench/rlt/sessions"
)

// TestStoppedComesAfterTheLastStepsCheckpoint: a run stopped before its
// plan by rlt run --headless's first stop signal records "stopped" only
// once the checkpoint of its last step is on disk (events.jsonl holds
// that checkpoint's event first), whether or not checkpoint_every
// schedules that step, as "done" does (run.Engine's checkpointAtEnd). The
// engine recorded "stopped" as it ended and the run's close wrote that
// checkpoint after: a process killed between the two left a run listed
// stopped at step N whose step N's weights were never saved, its resume
// running it again from an earlier checkpoint. The order in the records
// is what a kill finds, wherever it lands: the test reads it, not a clock.
func TestStoppedComesAfterTheLastStepsCheckpoint(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	for _, c := range []struct {
		every int // checkpoint_every
		step  int // the step the signal comes in; the run plans 4
	}{
		{0, 0},
		{0, 1},
		{3, 1},
		{1, 1},
	} {
		t.Run(fmt.Sprintf("checkpoint_every %d, signal in step %d", c.every, c.step), func(t *testing.T) {
			cfg := smallConfig(t, 4)
			cfg.CheckpointEvery = c.every
			rec, checked, err := Create(t.TempDir(), mustCheck(t, cfg), sessions.ProcessHeadless)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			w := new(lockedWriter)
			if err := Headless(ctx, rec, checked, signalIn(c.step, "sampling", cancel), w); err == nil {
				t.Fatalf("Headless: no error; want a stop before its planned steps:\n%s", w)
			}
			ck, _, err := sessions.LatestCheckpoint(rec.Dir())
			if err != nil {
				t.Fatal(err)
			}
			var order []string
			for _, e := range eventRecords(t, rec.Dir()) {
				switch {
				case e.Kind == sessions.KindCheckpoint && e.Step == ck.Step:
					order = append(order, "checkpoint")
				case e.Kind == sessions.KindPhase && (e.Name == "stopped" || e.Name == "done"):
					order = append(order, e.Name)
				}
			}
			if fmt.Sprint(order) != "[checkpoint stopped]" {
				t.Errorf("events.jsonl records %v (the checkpoint of step %d, its last), want [checkpoint stopped]:\n%s", order, ck.Step, w)
			}
		})
	}
}

// eventRecords is dir's events.jsonl, record by record, as written.
func eventRecords(t *testing.T, dir string) []sessions.EventRecord {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, sessions.EventsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []sessions.EventRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e sessions.EventRecord
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%s: %v", sc.Bytes(), err)
		}
		recs = append(recs, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}
