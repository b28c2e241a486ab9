package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
	runpkg "github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/engine/stoptest"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/sessions/runner"
	"github.com/rlt-workbench/rlt/ui"
)

// TestLeaveSaysWhatEachRunFolderLost: a command left at once on a second
// stop signal (leaveAtOnce: the workbench, rlt open, rlt run --headless;
// its runs' part, leaveRuns)
// says under each run folder it trained what that run lost in the words
// its folder recorded (the close named left, which rlt sessions notes),
// and not a loss of its own: it said "the step in progress of each and
// its final checkpoint are lost" also of a run whose checkpoint was in
// place before the leave, its folder noting "after step 1; it continues
// from its checkpoint of step 1".
//
// It runs in its own process (inItsOwnProcess): the leave leaves every run
// the process holds open, and, were it to leave the launches too, would
// refuse every later test's stopped launch as left by a second signal.
func TestLeaveSaysWhatEachRunFolderLost(t *testing.T) {
	if !inItsOwnProcess(t) {
		return
	}
	runs := t.TempDir()
	cases := []struct {
		name     string
		progress bool // the next step under way when left
		want     string
	}{
		{"checkpoint in place", false, "left at once on a second stop signal after step 1; it continues from its checkpoint of step 1"},
		{"step under way", true, "left at once on a second stop signal during step 2, which is lost; it continues from its checkpoint of step 1"},
	}
	var dirs []string
	for _, c := range cases {
		dir := filepath.Join(runs, strings.ReplaceAll(c.name, " ", "-"))
		r, err := sessions.Create(dir, runpkg.DefaultConfig("teacher", "student"))
		if err != nil {
			t.Fatal(err)
		}
		for step := 0; step < 2; step++ {
			r.Emit(event.Metrics{Time: time.Now(), Step: step, Values: map[string]float64{"reward": 0.5}})
		}
		save := func(d string) error { return os.WriteFile(filepath.Join(d, "note.txt"), []byte("step 1\n"), 0o644) }
		if _, err := r.SaveCheckpoint(1, save, sessions.CheckpointState{}); err != nil {
			t.Fatal(err)
		}
		if c.progress {
			r.Emit(event.Progress{Time: time.Now(), Step: 2, Phase: "sampling", Done: 1, Total: 8, Unit: "tokens"})
		}
		if err := r.Flush(); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	var stderr bytes.Buffer
	// leaveAtOnce's words, its runs left by leaveRuns alone: this test
	// launches none (TestRecordLeaveLeavesTheLaunchesFirst leaves them).
	err := workbenchEnded(ui.ErrLeft, dirs, leaveRuns(&stderr), &stderr)
	if !errors.Is(err, ui.ErrLeft) || strings.Contains(err.Error(), "lost") {
		t.Errorf("error %q; want ui.ErrLeft, saying no loss of its own", err)
	}
	list, lerr := sessions.List(runs)
	if lerr != nil || len(list) != len(cases) {
		t.Fatalf("rlt sessions: %+v %v", list, lerr)
	}
	for _, c := range cases {
		dir := filepath.Join(runs, strings.ReplaceAll(c.name, " ", "-"))
		var note string
		for _, s := range list {
			if filepath.Clean(s.Dir) == dir {
				note = s.Note
			}
		}
		// The listing notes more of this bare folder (no traces): the
		// leave's words end its note.
		if !strings.HasSuffix(note, "; "+c.want) {
			t.Errorf("%s: the folder notes %q; want it to end %q", c.name, note, c.want)
		}
		said := "run folder " + dir + "\n  " + c.want + "\n  continue it: rlt run --resume " + sessions.ShellQuote(dir) + "\n"
		if !strings.Contains(stderr.String(), said) {
			t.Errorf("%s: printed\n%s\nwant the folder's note under it:\n%s", c.name, stderr.String(), said)
		}
	}
}

// TestLeaveLeavesLaunchesAsTheyWere: the leave of a command's runs alone
// (leaveRuns, whose words TestLeaveSaysWhatEachRunFolderLost checks)
// leaves the process's launches as they were: a launch after it is still
// stopped as its own stop has it. Its stop comes as its folder is made
// (the second look at its load context, stoptest.OnLook): the folder made
// is removed again, said as the first signal's stop (sessions.StopSignal),
// not refused as left by a second one (sessions.SecondSignal), which a
// leave of the launches (runner.LeaveLaunches) makes of every stopped
// launch for the rest of the process. It leaves a run of its own first,
// in its own process (inItsOwnProcess): it guarded only when run after
// TestLeaveSaysWhatEachRunFolderLost in the same process, whose leave it
// relied on, and a leave of the launches there would have been carried
// into every test after it.
func TestLeaveLeavesLaunchesAsTheyWere(t *testing.T) {
	if !inItsOwnProcess(t) {
		return
	}
	checked := smallChecked(t)
	trained := filepath.Join(t.TempDir(), "trained")
	r, err := sessions.Create(trained, runpkg.DefaultConfig("teacher", "student"))
	if err != nil {
		t.Fatal(err)
	}
	r.Emit(event.Metrics{Time: time.Now(), Step: 0, Values: map[string]float64{"reward": 0.5}})
	var stderr bytes.Buffer
	if left := leaveRuns(&stderr); len(left) != 1 || left[0].Dir != trained {
		t.Fatalf("leaveRuns left %v (%s); want %s", left, stderr.String(), trained)
	}

	base, stop := context.WithCancelCause(context.Background())
	defer stop(nil)
	ctx := &stoptest.OnLook{Context: base, N: 2, Cancel: func() { stop(sessions.StopSignal) }}
	runs := t.TempDir()
	rec, _, err := runner.CreateUnlessStopped(ctx, runs, checked, "")
	if rec != nil {
		rec.Close()
		t.Fatalf("made %s: the stop as it was made did not remove it", rec.Dir())
	}
	var stopped *sessions.LaunchStoppedError
	if !errors.As(err, &stopped) || !stopped.Removed || !errors.Is(err, sessions.StopSignal) {
		t.Errorf("the launch ended with %v; want it stopped as its folder was made, removed again, by %q", err, sessions.StopSignal)
	}
	if names, err := os.ReadDir(runs); err != nil || len(names) != 0 {
		t.Errorf("the runs folder holds %v (%v); want nothing", names, err)
	}
}

// TestLeaveSaysNothingContinuesARemovedFolder: a command left at once
// whose run folder is not there as it ends (a new run stopped as it was
// made, removed again: runner.LeaveLaunches waited for the removal) says
// so under the folder, and offers no command to continue it; it said
// "start it again: rlt run --config DIR/config.toml" of the folder removed
// (sessions.ContinueLine). A folder that is there still gets its line.
func TestLeaveSaysNothingContinuesARemovedFolder(t *testing.T) {
	runs := t.TempDir()
	gone, kept := filepath.Join(runs, "gone"), filepath.Join(runs, "kept")
	if err := os.Mkdir(kept, 0o755); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	err := workbenchEnded(ui.ErrLeft, []string{gone, kept}, nil, &stderr)
	if !errors.Is(err, ui.ErrLeft) {
		t.Errorf("error %v; want ui.ErrLeft", err)
	}
	want := "run folder " + gone + "\n  " + removedFolder + "\n" +
		"run folder " + kept + "\n  " + sessions.ContinueLine(kept) + "\n"
	if stderr.String() != want {
		t.Errorf("printed\n%s\nwant\n%s", stderr.String(), want)
	}
}

// TestQuitSaysAFolderRemovedSinceIsNotThere: a normal quit (no leave) of a
// command whose run folder the user removed while it ran says the folder
// is not there without naming a stop as it was made as the only cause:
// the words said "a new run stopped as it was made is removed again" of
// a folder the user had removed.
func TestQuitSaysAFolderRemovedSinceIsNotThere(t *testing.T) {
	gone := filepath.Join(t.TempDir(), "removed-by-the-user")
	var stderr bytes.Buffer
	if err := workbenchEnded(nil, []string{gone}, nil, &stderr); err != nil {
		t.Errorf("error %v; want none", err)
	}
	for _, w := range []string{"run folder " + gone + "\n", "it is not there now", "removed or moved since"} {
		if !strings.Contains(stderr.String(), w) {
			t.Errorf("printed\n%s\nwant %q in it", stderr.String(), w)
		}
	}
}
