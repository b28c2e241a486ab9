package runner

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestStoppedOnceMadeBeforeTheLoadRemovesTheRun: a stop that comes after
// a new run's launch last looked (CreateUnlessStopped made the run, its
// load context live) and before the load's first look (Start, Headless)
// is said as a stop while the folder was made, the folder removed again
// ('stopped as its run folder was made, so it was removed again: a stop
// signal came'), as CreateUnlessStopped says a stop a moment sooner. The
// load stopped at its first look: the folder was kept, recorded stopped
// before its first step, and said as a load stopped (*run.LoadStopped),
// Headless naming the folder first.
func TestStoppedOnceMadeBeforeTheLoadRemovesTheRun(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	cfg := smallConfig(t, 1)
	cfg.Device = "cpu"
	for _, headless := range []bool{false, true} {
		runs := t.TempDir()
		ctx, stop := context.WithCancelCause(context.Background())
		rec, checked, err := CreateUnlessStopped(ctx, runs, mustCheck(t, cfg), sessions.ProcessHeadless)
		if err != nil {
			t.Fatal(err)
		}
		stop(sessions.StopSignal) // after the launch's last look
		var out bytes.Buffer
		if headless {
			err = Headless(ctx, rec, checked, Fresh, &out)
		} else {
			var h *Handle
			if h, err = Start(ctx, context.Background(), rec, checked, rec, Fresh); h != nil {
				h.Close()
			}
		}
		var launch *sessions.LaunchStoppedError
		var loaded *run.LoadStopped
		const want = "stopped as its run folder was made, so it was removed again: a stop signal came"
		if !errors.As(err, &launch) || errors.As(err, &loaded) || err.Error() != want {
			t.Errorf("headless %v: %v; want %q", headless, err, want)
		}
		if entries, err := os.ReadDir(runs); err != nil || len(entries) != 0 {
			t.Errorf("headless %v: the runs folder holds %v (%v); want the run removed", headless, entries, err)
		}
		if strings.Contains(out.String(), "run folder") {
			t.Errorf("headless %v: the progress names a run folder that is not kept:\n%s", headless, out.String())
		}
	}
}
