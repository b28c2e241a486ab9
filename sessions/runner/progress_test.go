package runner

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestJSONLSinkThrottlesProgress: headless stderr gets the run's first
// progress line, then at most one per HeadlessProgressEvery of the events'
// own clock, in ProgressLine's form.
func TestJSONLSinkThrottlesProgress(t *testing.T) {
	var errs bytes.Buffer
	s := &JSONLSink{W: io.Discard, Progress: &errs}
	t0 := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	s.Emit(event.Progress{Time: t0, Started: t0, Step: -1, Phase: "loading", Total: 1, Unit: "model pairs"})
	for k := 1; k <= 96; k++ { // a token every 250 ms: 24 s of sampling
		s.Emit(event.Progress{Time: t0.Add(time.Duration(k) * 250 * time.Millisecond), Started: t0, Step: 0, Phase: "sampling", Done: k, Total: 96, Unit: "tokens"})
	}
	lines := strings.Split(strings.TrimSpace(errs.String()), "\n")
	want := []string{
		"starting  loading 0/1 model pairs",
		"step 0  sampling 20/96 tokens · 4 tokens/s · ETA 19s",
		"step 0  sampling 40/96 tokens · 4 tokens/s · ETA 14s",
		"step 0  sampling 60/96 tokens · 4 tokens/s · ETA 9s",
		"step 0  sampling 80/96 tokens · 4 tokens/s · ETA 4s",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("stderr:\n%s\nwant\n%s", errs.String(), strings.Join(want, "\n"))
	}
}

// TestJSONLSinkNamesTheDevice: headless stderr says which device computes
// and in what precision (the device event, as the workbench header shows
// it); phases print nothing there.
func TestJSONLSinkNamesTheDevice(t *testing.T) {
	var errs bytes.Buffer
	s := &JSONLSink{W: io.Discard, Progress: &errs}
	now := time.Now()
	s.Emit(event.Phase{Time: now, Name: "sampling"})
	s.Emit(event.Device{Time: now, DeviceChoice: event.DeviceChoice{Backend: "vulkan/H200", GPU: "gpu:0", Why: "a discrete GPU", Matmul: "products on tensor cores"}})
	s.Emit(event.Phase{Time: now, Name: "done"})
	if got, want := errs.String(), "device: vulkan/H200 (gpu:0, a discrete GPU; products on tensor cores)\n"; got != want {
		t.Fatalf("stderr %q, want %q", got, want)
	}
}

// TestJSONLSinkStepLine: a step's line on headless stderr carries its
// rewards and time, and the memory the step held where it was measured.
func TestJSONLSinkStepLine(t *testing.T) {
	base := map[string]float64{"reward": -1.5, "solution_log_prob_reward": -1.25, "kl_reward": 0.25, "kl": 0.0125, "step_time_s": 2.5}
	for _, c := range []struct {
		extra map[string]float64
		want  string
	}{
		{nil, "step 3  reward -1.500  r_ss -1.250  r_kl -0.250  kl 0.0125  2.5s\n"},
		{map[string]float64{"memory_host_gib": 1, "memory_host_peak_gib": 1.5}, "step 3  reward -1.500  r_ss -1.250  r_kl -0.250  kl 0.0125  2.5s  mem 1.50 GiB\n"},
		{map[string]float64{"memory_host_peak_gib": 1.5, "memory_device_peak_gib": 12.25}, "step 3  reward -1.500  r_ss -1.250  r_kl -0.250  kl 0.0125  2.5s  mem 1.50 GiB  gpu 12.25 GiB\n"},
	} {
		vals := map[string]float64{}
		for k, v := range base {
			vals[k] = v
		}
		for k, v := range c.extra {
			vals[k] = v
		}
		var errs bytes.Buffer
		s := &JSONLSink{W: io.Discard, Progress: &errs}
		s.Emit(event.Metrics{Time: time.Now(), Step: 3, Values: vals})
		if errs.String() != c.want {
			t.Errorf("stderr %q, want %q", errs.String(), c.want)
		}
	}
}

// TestHeadlessSaysAFailedStartOnce: an engine that does not start (its
// Prepare, a resume's Restore, fails) is recorded as the run's fatal
// error and returned for the command to say, and the progress lines do
// not say it a second time as an error of a step that never ran ("step
// 0: error:").
func TestHeadlessSaysAFailedStartOnce(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	cfg := smallConfig(t, 1)
	cfg.Device = "cpu"
	runs := t.TempDir()
	rec, checked, err := Create(runs, mustCheck(t, cfg), sessions.ProcessHeadless)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	unreadable := errors.New("resume: optimizer.safetensors: unexpected EOF")
	err = Headless(context.Background(), rec, checked, func(context.Context, *run.Engine) error { return unreadable }, &out)
	if !errors.Is(err, unreadable) {
		t.Fatalf("Headless: %v, want %v", err, unreadable)
	}
	if strings.Contains(out.String(), "error") || strings.Contains(out.String(), unreadable.Error()) {
		t.Errorf("the progress lines say the error the command says:\n%s", out.String())
	}
	list, lerr := sessions.List(runs)
	if lerr != nil || len(list) != 1 || list[0].State != sessions.StateFailed || list[0].Note != "fatal: start: "+unreadable.Error() {
		t.Errorf("listed %+v (%v), want failed with the fatal start error", list, lerr)
	}
}

// TestJSONLSinkLeavesFatalErrorsToTheCommand: an error that ends the run
// is the command's result, which it says as it exits; said on a step's
// line as well, a full disk's long message was printed twice. A step's
// error that the run goes on after, and a data warning, are said there.
func TestJSONLSinkLeavesFatalErrorsToTheCommand(t *testing.T) {
	for _, c := range []struct {
		name string
		e    event.Error
		want string
	}{
		{"fatal", event.Error{Step: 3, Err: errors.New("checkpoint of step 3 failed, so the run stops: disk full"), Fatal: true}, ""},
		{"the run goes on", event.Error{Step: 3, Err: errors.New("evaluation: no questions")}, "step 3: error: evaluation: no questions\n"},
		{"data warning", event.Error{Err: &run.DataWarning{Msg: "2 rows skipped"}}, "warning: 2 rows skipped\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var errs bytes.Buffer
			s := &JSONLSink{W: io.Discard, Progress: &errs}
			c.e.Time = time.Now()
			s.Emit(c.e)
			if errs.String() != c.want {
				t.Errorf("stderr %q, want %q", errs.String(), c.want)
			}
		})
	}
}

// TestSignalStopWording: a headless run stopped by a signal before its
// first step says so, not "after 0 of 1 steps"; later stops say how far
// of how many, in the plural the count takes.
func TestSignalStopWording(t *testing.T) {
	for _, tc := range []struct {
		done, steps int
		want        string
	}{
		{0, 1, "stopped by a signal before its first step"},
		{0, 0, "stopped by a signal before its first step"},
		{1, 20, "stopped by a signal after 1 of 20 steps"},
		{3, 0, "stopped by a signal after 3 steps"},
		{1, 0, "stopped by a signal after 1 step"},
	} {
		if got := StoppedBySignal(tc.done, tc.steps, "step"); got != tc.want {
			t.Errorf("StoppedBySignal(%d, %d) = %q, want %q", tc.done, tc.steps, got, tc.want)
		}
	}
}
