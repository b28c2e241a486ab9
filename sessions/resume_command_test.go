package sessions

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
)

// TestResumeCommandSteps: the command said to continue a run asks for
// more steps (--steps N) exactly where the plain resume would be refused
// as having nothing to run (NothingToRun: its newest checkpoint is after
// the last step its config.toml plans), whatever the run is listed as. It
// said --steps N for every run listed finished: one whose config.toml
// plans more steps since (or none), or whose final checkpoint is gone,
// goes on with the plain resume; and it said the plain resume of a run
// stopped after its last step's checkpoint, which is refused. A run whose
// device failed after its last step's checkpoint needs both ways on: it
// was said --steps N alone, and resumed so on the device again.
// What follows the run's folder holds no shell metacharacter: it said
// "(N > 3, …)", which a shell (cmd.exe, sh) pasted the line into read as a
// redirect, writing a file named "3,".
func TestResumeCommandSteps(t *testing.T) {
	const askMore = " --steps N with N more than %d, the steps it has done"
	for _, c := range []struct {
		name        string
		planned     int    // steps = in config.toml as created
		steps       int    // steps done, a checkpoint after each
		lastPhase   string // the engine's last phase ("": none)
		devFailed   bool   // its fatal error a device's failure, after the last step
		replanned   string // config.toml's steps line after the run ("": as created)
		dropLastCk  bool   // the final checkpoint's folder deleted
		wantState   RunState
		want        string // after "rlt run --resume DIR"
		wantStepsOf int    // the N in want
	}{
		{name: "finished its plan", planned: 3, steps: 3, lastPhase: "done", wantState: StateFinished, want: askMore, wantStepsOf: 3},
		{name: "finished past an older plan", planned: 3, steps: 5, lastPhase: "done", wantState: StateFinished, want: askMore, wantStepsOf: 5},
		{name: "finished, plan raised since", planned: 3, steps: 3, lastPhase: "done", replanned: "steps = 5", wantState: StateFinished},
		{name: "finished, made open-ended since", planned: 3, steps: 3, lastPhase: "done", replanned: "steps = 0", wantState: StateFinished},
		{name: "finished, final checkpoint gone", planned: 3, steps: 3, lastPhase: "done", dropLastCk: true, wantState: StateFinished},
		{name: "stopped after its last step's checkpoint", planned: 3, steps: 3, lastPhase: "stopped", wantState: StateStopped, want: askMore, wantStepsOf: 3},
		{name: "stopped early", planned: 3, steps: 2, lastPhase: "stopped", wantState: StateStopped},
		{name: "open-ended, stopped", planned: 0, steps: 3, lastPhase: "stopped", wantState: StateStopped},
		// Both ways on: more steps, on the CPU.
		{name: "device failed after its last step's checkpoint", planned: 3, steps: 3, devFailed: true, wantState: StateFailed, want: " --device cpu" + askMore, wantStepsOf: 3},
		{name: "device failed with a step left", planned: 3, steps: 2, devFailed: true, wantState: StateFailed, want: " --device cpu"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			r := createPlanned(t, dir, c.planned)
			for s := 0; s < c.steps; s++ {
				emitSteps(r, s, s+1, 1, 1)
				if err := r.Flush(); err != nil {
					t.Fatal(err)
				}
				if _, err := r.SaveCheckpoint(s, saveNote, CheckpointState{}); err != nil {
					t.Fatal(err)
				}
			}
			if c.lastPhase != "" {
				r.Emit(event.Phase{Time: time.Now(), Name: c.lastPhase, Step: c.steps})
			}
			if c.devFailed {
				r.Emit(event.Error{Time: time.Now(), Step: c.steps, Err: deviceFailure{"vulkan: device lost: VK_ERROR_DEVICE_LOST"}, Fatal: true})
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if c.replanned != "" {
				path := filepath.Join(dir, ConfigFile)
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				was := fmt.Sprintf("steps = %d", c.planned)
				if !strings.Contains(string(data), was) {
					t.Fatalf("config.toml lacks %q:\n%s", was, data)
				}
				if err := os.WriteFile(path, []byte(strings.Replace(string(data), was, c.replanned, 1)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if c.dropLastCk {
				if err := os.RemoveAll(CheckpointDir(dir, c.steps-1)); err != nil {
					t.Fatal(err)
				}
			}
			runs, err := List(filepath.Dir(dir))
			if err != nil || len(runs) != 1 || runs[0].State != c.wantState {
				t.Fatalf("List = %+v, %v; want one run, %s", runs, err, c.wantState)
			}
			want := "rlt run --resume " + ShellQuote(dir)
			if strings.Contains(c.want, "%d") {
				want += fmt.Sprintf(c.want, c.wantStepsOf)
			} else {
				want += c.want
			}
			got := ResumeCommand(dir)
			if got != want {
				t.Errorf("ResumeCommand = %q, want %q", got, want)
			}
			// Both cmd.exe's (^ % and the rest) and a POSIX shell's.
			if rest := strings.TrimPrefix(got, "rlt run --resume "+ShellQuote(dir)); strings.ContainsAny(rest, "<>|&;()^%$`\\\"'*?[]#~!") {
				t.Errorf("ResumeCommand = %q: %q after the folder holds a shell metacharacter", got, rest)
			}
		})
	}
}
