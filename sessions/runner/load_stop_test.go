package runner

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/stoptest"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestHeadlessStopDuringTheLoad: a stop (the signal's context ends) while
// the teacher loads ends the load itself, before its next tensor: the
// loading progress never reaches its one model pair, no step runs, and
// the run folder is left as a stop before the first step leaves it
// (listed stopped, with its device, no note; rlt run --resume continues
// it), in the same words: an error where steps were planned, a line on the
// progress where the run was to go on until interrupted. Start's own error
// wraps the context's and names the tensor, its load context alone ended
// (the workbench's: its run context is one no signal ends). The load took
// no context: it read every tensor, and the engine heeded the stop only
// after it.
func TestHeadlessStopDuringTheLoad(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	for _, c := range []struct {
		steps    int
		headless bool // through Headless, else Start
	}{{1, true}, {0, true}, {1, false}} {
		cfg := smallConfig(t, c.steps)
		cfg.Device = "cpu"
		runs := t.TempDir()
		rec, checked, err := Create(runs, mustCheck(t, cfg), sessions.ProcessHeadless)
		if err != nil {
			t.Fatal(err)
		}
		dir := rec.Dir()
		ctx, cancel := context.WithCancel(context.Background())
		stop := &stoptest.OnLook{Context: ctx, N: 5, Cancel: cancel} // after 4 of the teacher's tensors
		var out bytes.Buffer
		said := "stopped by a signal before its first step; the run folder " + dir + " is complete: rlt run --resume " + sessions.ShellQuote(dir) + " continues it"
		switch {
		case !c.headless:
			h, err := Start(stop, context.Background(), rec, checked, rec, Fresh) // the workbench's: no signal ends its run context
			if h != nil || !errors.Is(err, context.Canceled) || !regexp.MustCompile(`teacher/model.safetensors: tensor "[^"]+": stopped before it, 4 of \d+ tensors read: context canceled$`).MatchString(err.Error()) {
				t.Errorf("Start: %v; want no engine and context.Canceled, naming the tensor it stopped before", err)
			}
		case c.steps > 0:
			if err := Headless(stop, rec, checked, Fresh, &out); err == nil || err.Error() != said {
				t.Errorf("steps %d: Headless: %v; want %q", c.steps, err, said)
			}
		default:
			if err := Headless(stop, rec, checked, Fresh, &out); err != nil || !strings.Contains(out.String(), said+"\n") {
				t.Errorf("steps %d: Headless: %v, progress:\n%s\nwant no error and %q", c.steps, err, out.String(), said)
			}
		}
		cancel()
		if p, ok := rec.Progress(); !ok || p.Phase != "loading" || p.Done != 0 {
			t.Errorf("steps %d: last progress %+v (%v); want the load's, at 0 of its model pairs: the load stopped", c.steps, p, ok)
		}
		list, err := sessions.List(runs)
		if err != nil || len(list) != 1 {
			t.Fatalf("steps %d: listed %+v, %v", c.steps, list, err)
		}
		if r := list[0]; r.State != sessions.StateStopped || r.Note != "" || r.LastStep != -1 || !strings.HasPrefix(r.Device.Backend, "cpu") {
			t.Errorf("steps %d: listed %s, note %q, last step %d, device %q; want stopped, no note, no step, on the cpu", c.steps, r.State, r.Note, r.LastStep, r.Device)
		}
	}
}
