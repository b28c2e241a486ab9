package sessions

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseTrainerStateMaxSteps: a trainer_state.json's max_steps is the
// planned total only when it is a positive integer; otherwise there is
// none.
func TestParseTrainerStateMaxSteps(t *testing.T) {
	for _, c := range []struct {
		name, field string
		want        int
	}{
		{"planned", `"max_steps": 500,`, 500},
		{"absent", ``, 0},
		{"a state that never trained", `"max_steps": 0,`, 0},
		{"negative", `"max_steps": -1,`, 0},
		{"not an integer", `"max_steps": 2.5,`, 0},
		{"text", `"max_steps": "500",`, 0},
		{"null", `"max_steps": null,`, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := `{"global_step": 1, ` + c.field + ` "log_history": [{"step": 1, "loss": 0.5}]}`
			ms, rep, err := ParseTrainerState("trainer_state.json", []byte(doc))
			if err != nil || len(ms) != 1 {
				t.Fatalf("ParseTrainerState: %d entries, %v", len(ms), err)
			}
			if rep.MaxSteps != c.want {
				t.Errorf("MaxSteps %d, want %d", rep.MaxSteps, c.want)
			}
		})
	}
}

// TestImportedRunsCarryThePlannedSteps: a run imported from a trainer
// whose files state how many steps it takes (the Hugging Face Trainer's
// max_steps: the official RLT trainer, TRL) records them in config.toml and
// its session carries them, followed live or not; verl's and NeMo-RL's
// files state none, and their runs have no planned total. A followed copy
// is done only when its planned steps are (the fixtures' runs ended), and
// is left open for the follower, where a copy whose trainer states no plan
// is not said to be done.
func TestImportedRunsCarryThePlannedSteps(t *testing.T) {
	for _, c := range []struct {
		name, src string
		planned   int
	}{
		{"official", fixtureRun, 3},
		{"trl", trlFixture, 4},
		{"verl", verlFixture, 0},
		{"nemo-rl", nemoFixture, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), c.name)
			rep, err := Import(dir, c.src)
			if err != nil {
				t.Fatal(err)
			}
			src, ok := ImportedFrom(dir)
			if !ok || rep.PlannedSteps != c.planned || src.PlannedSteps != c.planned {
				t.Errorf("import: planned %d, config.toml %d (%v); want %d", rep.PlannedSteps, src.PlannedSteps, ok, c.planned)
			}
			cfg := string(readFile(t, filepath.Join(dir, ConfigFile)))
			if want := fmt.Sprintf("planned_steps = %d", c.planned); strings.Contains(cfg, "planned_steps") != (c.planned > 0) ||
				c.planned > 0 && !strings.Contains(cfg, want) {
				t.Errorf("config.toml does not say %q:\n%s", want, cfg)
			}

			s, err := OpenTrainerRun(t.Context(), c.src, "")
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.Steps != c.planned {
				t.Errorf("followed: session's planned steps %d, want %d", s.Steps, c.planned)
			}
			evs, _ := s.Run.Store().EventsSince(0)
			if done := hasPhase(evs, "done"); done != (c.planned > 0) {
				t.Errorf("followed: done %v, want %v (planned %d)", done, c.planned > 0, c.planned)
			}
			if last := evs[len(evs)-1]; last.Kind != KindOpen {
				t.Errorf("followed: the copy's last event is %q, want it open again after the import closed it", last.Kind)
			}
		})
	}
}

// TestFollowedTrainerRunsPlanAndArrivals follows a TRL run in progress:
// its first checkpoint's steps, imported as it is opened, carry no time
// (the files do not say when they were done); the steps of a later
// checkpoint carry the time they were seen, one for all (read at once); a
// new max_steps (a run resumed with another) is a plan event; and the copy
// is done once the planned steps are.
func TestFollowedTrainerRunsPlanAndArrivals(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "checkpoint-2", "trainer_state.json"), hfTrainerState(t, 6, 2))
	s, err := OpenTrainerRun(context.Background(), dir, ImportTRL)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Steps != 6 {
		t.Errorf("session's planned steps %d, want 6", s.Steps)
	}
	ms, _ := s.Run.Store().MetricsSince(0)
	if len(ms) != 2 {
		t.Fatalf("%d metric records at first, want 2", len(ms))
	}
	for _, m := range ms {
		if !m.Time.IsZero() {
			t.Errorf("step %d imported as the run was opened has the time %v; when it was done is unknown", m.Step, m.Time)
		}
	}
	evs, _ := s.Run.Store().EventsSince(0)
	if hasPhase(evs, "done") {
		t.Error("a run with 4 of its 6 steps to go is said to be done")
	}

	writeFile(t, filepath.Join(dir, "checkpoint-4", "trainer_state.json"), hfTrainerState(t, 8, 4))
	waitStore(t, s, "the second checkpoint's steps", func(ms []MetricRecord, _ []*TraceRecord) bool { return hasStep(ms, 4) })
	ms, _ = s.Run.Store().MetricsSince(0)
	at := map[int]MetricRecord{}
	for _, m := range ms {
		at[m.Step] = m
	}
	if a, b := at[3].Time, at[4].Time; a.IsZero() || !a.Equal(b) {
		t.Errorf("steps 3 and 4, read at once, have the times %v and %v; want the same time they were seen", a, b)
	}
	waitEvent(t, s, "the new plan", func(e EventRecord) bool { return e.Kind == KindPlan && e.Count == 8 })
	evs, _ = s.Run.Store().EventsSince(0)
	if hasPhase(evs, "done") {
		t.Error("a run with 4 of its 8 steps to go is said to be done")
	}

	writeFile(t, filepath.Join(dir, "checkpoint-8", "trainer_state.json"), hfTrainerState(t, 8, 8))
	waitEvent(t, s, "the run done", func(e EventRecord) bool { return e.Kind == KindPhase && e.Name == "done" && e.Step == 8 })
	evs, _ = s.Run.Store().EventsSince(0)
	plans := 0
	for _, e := range evs {
		if e.Kind == KindPlan {
			plans++
		}
	}
	if plans != 1 {
		t.Errorf("%d plan events, want 1: the plan changed once", plans)
	}
}

// hfTrainerState is a Hugging Face trainer_state.json of a run planned to
// take maxSteps optimizer steps, after done of them, logging every step
// (json.dumps(asdict(state), indent=2, sort_keys=True)).
func hfTrainerState(t *testing.T, maxSteps, done int) []byte {
	t.Helper()
	var history []map[string]any
	for s := 1; s <= done; s++ {
		history = append(history, map[string]any{"step": s, "loss": 0.01 * float64(s), "reward": 0.1 * float64(s),
			"epoch": float64(s) / float64(maxSteps), "learning_rate": 1e-6})
	}
	data, err := json.MarshalIndent(map[string]any{
		"global_step": done, "max_steps": maxSteps, "epoch": float64(done) / float64(maxSteps),
		"log_history": history, "logging_steps": 1, "num_train_epochs": 1, "save_steps": 2,
		"train_batch_size": 4, "best_metric": nil, "trial_name": nil,
	}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(data, '\n')
}

func hasPhase(evs []EventRecord, name string) bool {
	for _, e := range evs {
		if e.Kind == KindPhase && e.Name == name {
			return true
		}
	}
	return false
}

// waitEvent waits until the session's store holds an event that is what
// (fails after waitStore's 30s).
func waitEvent(t *testing.T, s *Session, what string, is func(EventRecord) bool) {
	t.Helper()
	waitStore(t, s, what, func([]MetricRecord, []*TraceRecord) bool {
		evs, _ := s.Run.Store().EventsSince(0)
		for _, e := range evs {
			if is(e) {
				return true
			}
		}
		return false
	})
}
