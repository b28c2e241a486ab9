package ui

import (
	"errors"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/rlt-workbench/rlt/engine/event"
)

// TestProblemDetailTakesTheRoomLeft: the selected problem is shown whole
// under a short list at 80×24, the engine's failed checkpoint down to its
// last words (the resume's command and what the close does), where it was
// cut after 8 lines with "…" over a dozen empty ones.
func TestProblemDetailTakesTheRoomLeft(t *testing.T) {
	r := newTestRun(t, 3, 1, 2, 8)
	m := sized(t, r, 80, 24, &fakeControl{})
	long := "checkpoint of step 2 failed again as the run stopped: the disk holding /tmp/h40/full/runs/20261207-201915 " +
		"is full (write traces/000002.jsonl: no space left on device): a checkpoint needs about 12.6 MiB free, and the run " +
		"about 63.0 MiB with rotation keeping 3 and the best, plus the one being written; free that much and resume; a failed " +
		"save leaves no part of itself in the run folder: its checkpoint of step 1 stands as it was, and a resume goes on from " +
		"it (rlt run --resume /tmp/h40/full/runs/20261207-201915); its close tries the checkpoint once more, with the same end"
	r.Emit(event.Error{Time: t0, Step: 2, Fatal: true, Err: errors.New(long)})
	m.pull()
	hit(t, m, "!")
	v := ansi.Strip(m.View())
	flat := strings.Join(strings.Fields(v), " ")
	for _, want := range []string{"its close tries the checkpoint once more, with the same end", "affects: the run stopped at step 2"} {
		if !strings.Contains(flat, want) {
			t.Errorf("the problem's detail lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, " …\n") { // the detail's cut (the status message below has its own)
		t.Errorf("the detail is cut with room left under it:\n%s", v)
	}
}
