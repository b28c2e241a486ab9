package sessions

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
)

// TestLeaveOfAResumeBeforeANewStep: a session that resumed a run from its
// checkpoint of step 2 and is left at once before a step of its own says
// it left the run after step 2, where it resumed; it said "before its
// first step" of a run with three steps done (by the session before),
// beside "it continues from its checkpoint of step 2", and its close
// recorded step 0.
func TestLeaveOfAResumeBeforeANewStep(t *testing.T) {
	runs, dir, r := createStep2Checkpoint(t)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := OpenWith(dir, nil, Options{Intent: IntentResume})
	if err != nil {
		t.Fatal(err)
	}
	ck, _, err := again.LatestCheckpoint()
	if err != nil || ck.Step != 2 {
		t.Fatalf("latest checkpoint %d, %v; want step 2", ck.Step, err)
	}
	if err := again.Resume(ck.Step); err != nil {
		t.Fatal(err)
	}
	if err := again.Leave("on a second stop signal", time.Minute); err != nil {
		t.Fatal(err)
	}
	want := "left at once on a second stop signal after step 2, where it resumed, before a new step; it continues from its checkpoint of step 2"
	checkLeftFromStep2(t, runs, dir, again, want)
}

// TestLeaveOfAResumeWhileItLoads: a session opened to resume a run (its
// open event written, Begin) and left at once while its engine loads,
// before Resume, records a close named CloseLeft that says so, the run as
// it was and the checkpoint it continues from; the process says that
// note (LeftNote) and rlt sessions lists it, one rule (leftView). Its
// close was a plain one: the process said nothing of how it left the run,
// and the listing kept noting the session before it (here one left at
// once after step 2) as if its leave were the last.
func TestLeaveOfAResumeWhileItLoads(t *testing.T) {
	runs, dir, r := createStep2Checkpoint(t)
	if err := r.Leave("on a second stop signal", time.Minute); err != nil {
		t.Fatal(err)
	}
	again, err := OpenWith(dir, nil, Options{Intent: IntentResume, DeferOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := again.Begin(); err != nil {
		t.Fatal(err)
	}
	if err := again.Leave("on a second stop signal", time.Minute); err != nil {
		t.Fatal(err)
	}
	want := "left at once on a second stop signal while its resume loaded, before a new step: the run is as it was; it continues from its checkpoint of step 2"
	checkLeftFromStep2(t, runs, dir, again, want)
}

// createStep2Checkpoint creates a run folder "run" in a temporary folder
// of runs, its steps 0 to 2 done and a checkpoint of step 2 saved; the
// run r is left open.
func createStep2Checkpoint(t *testing.T) (runs, dir string, r *Run) {
	t.Helper()
	runs = t.TempDir()
	dir = filepath.Join(runs, "run")
	r = mustCreate(t, dir, Options{SyncInterval: -1})
	emitSteps(r, 0, 3, 1, 2)
	if _, err := r.SaveCheckpoint(2, saveFake(2), CheckpointState{}); err != nil {
		t.Fatal(err)
	}
	return runs, dir, r
}

// checkLeftFromStep2 checks a session again, left at once, by what it
// says (LeftNote, want), how rlt sessions lists its run (stopped, noted
// want) and its close event (CloseLeft at step 2, continuing from the
// checkpoint of step 2).
func checkLeftFromStep2(t *testing.T, runs, dir string, again *Run, want string) {
	t.Helper()
	if got := again.LeftNote(); got != want {
		t.Errorf("LeftNote %q; want %q", got, want)
	}
	list, err := List(runs)
	if err != nil || len(list) != 1 || list[0].State != StateStopped || list[0].Note != want {
		t.Fatalf("listed %+v, %v; want stopped (%s)", list, err, want)
	}
	events := readEvents(t, dir)
	last := events[len(events)-1]
	if last.Kind != KindClose || last.Name != CloseLeft || last.Step != 2 || last.Dir != filepath.Join(CheckpointsDir, "step-000002") {
		t.Errorf("last event %+v; want the close named %q at step 2, continuing from the checkpoint of step 2", last, CloseLeft)
	}
}

// TestLeaveOfAFinishedRunsResumeWhileItLoads: a resume of a finished run
// (rlt run --resume DIR --steps N: the new plan is recorded only once its
// engine has loaded, Restore) left at once as it loads leaves the run as it
// was, finished: its note says so and how it goes on, the --steps the
// resume refused without it needs. It said "it continues from its
// checkpoint of step 2" beside the listing's finished, where a plain
// resume has nothing to run.
func TestLeaveOfAFinishedRunsResumeWhileItLoads(t *testing.T) {
	runs, dir, again := leaveAFinishedRunsResume(t)
	if got := again.LeftNote(); got != finishedRunsResumeLeft {
		t.Errorf("LeftNote %q;\nwant %q", got, finishedRunsResumeLeft)
	}
	list, err := List(runs)
	if err != nil || len(list) != 1 || list[0].State != StateFinished || list[0].Note != finishedRunsResumeLeft {
		t.Fatalf("listed %+v, %v; want finished (%s)", list, err, finishedRunsResumeLeft)
	}
	if got, wantCmd := ResumeCommand(dir), "rlt run --resume "+ShellQuote(dir)+" --steps N with N more than 3, the steps it has done"; got != wantCmd {
		t.Errorf("ResumeCommand %q, want %q: the note's way on is the command's", got, wantCmd)
	}
}

// finishedRunsResumeLeft is the note on leaveAFinishedRunsResume's run.
const finishedRunsResumeLeft = "left at once on a second stop signal while its resume loaded, before a new step: the run is as it was; it is finished (its checkpoint of step 2 is of its last planned step): to go on from it, resume it with --steps N with N more than 3, the steps it has done"

// leaveAFinishedRunsResume makes a run "run" in a temporary folder of
// runs, finished at its planned 3 steps with a checkpoint of step 2, and
// leaves at once a session opened to resume it, as its engine loads.
func leaveAFinishedRunsResume(t *testing.T) (runs, dir string, again *Run) {
	t.Helper()
	runs = t.TempDir()
	dir = filepath.Join(runs, "run")
	cfg := struct {
		Steps int `toml:"steps"`
		runCfg
	}{3, testCfg()}
	r, err := CreateWith(dir, &cfg, Options{SyncInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	emitSteps(r, 0, 3, 1, 2)
	if _, err := r.SaveCheckpoint(2, saveFake(2), CheckpointState{}); err != nil {
		t.Fatal(err)
	}
	r.Emit(event.Phase{Time: time.Now(), Name: "done", Step: 3})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	again, err = OpenWith(dir, nil, Options{Intent: IntentResume, DeferOpen: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := again.Begin(); err != nil {
		t.Fatal(err)
	}
	if err := again.Leave("on a second stop signal", time.Minute); err != nil {
		t.Fatal(err)
	}
	return runs, dir, again
}

// TestLeftCloseWordsField: the close of a leave records its note's words
// before the clause of the checkpoint it continues from (EventRecord.Words),
// and the listing of a run finished since before the leave puts its own
// words after them, not after a cut of the note at that clause's words
// (which a note in other words, a version's other than this one's, did not
// end with: the run was noted as continuing from its checkpoint beside
// finished). A close written before the field is cut at the clause, as
// before (its note as this version writes it, the field removed).
func TestLeftCloseWordsField(t *testing.T) {
	const words = "left at once on a second stop signal while its resume loaded, before a new step: the run is as it was"
	for _, c := range []struct {
		name string
		edit func(rec map[string]any) // of the close's record on disk
	}{
		{"as written", func(map[string]any) {}},
		{"written before the field", func(rec map[string]any) { delete(rec, "words") }},
		{"its note in other words", func(rec map[string]any) {
			rec["extra"] = words + "; a resume goes on from checkpoints/step-000002"
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			runs, dir, _ := leaveAFinishedRunsResume(t)
			events := readEvents(t, dir)
			if last := events[len(events)-1]; last.Name != CloseLeft || last.Words != words || last.Extra != words+continuesFrom(2) {
				t.Fatalf("close %+v; want words %q, its note them and %q", last, words, continuesFrom(2))
			}
			path := filepath.Join(dir, EventsFile)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
			var rec map[string]any
			if err := json.Unmarshal(lines[len(lines)-1], &rec); err != nil {
				t.Fatal(err)
			}
			c.edit(rec)
			if lines[len(lines)-1], err = json.Marshal(rec); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, append(bytes.Join(lines, []byte("\n")), '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
			list, err := List(runs)
			if err != nil || len(list) != 1 || list[0].State != StateFinished || list[0].Note != finishedRunsResumeLeft {
				t.Fatalf("listed %+v, %v; want finished (%s)", list, err, finishedRunsResumeLeft)
			}
		})
	}
}
