package sessions

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions/sessionstest"
)

// TestPreviousFormatDevice: folders written before KindDevice named the
// device in a "device" phase, as the choice's text; it reads back as the
// choice (label and text as the run showed them), and a device event
// written now round-trips as fields.
func TestPreviousFormatDevice(t *testing.T) {
	cases := []struct {
		text  string
		want  event.DeviceChoice
		label string
	}{
		{"cpu/avx512 (asked for)", event.DeviceChoice{Backend: "cpu/avx512", Why: "asked for"}, "cpu/avx512"},
		{"vulkan/NVIDIA H200 (gpu:1, a discrete GPU; products on tensor cores (float16 operands, float32 sums))",
			event.DeviceChoice{Backend: "vulkan/NVIDIA H200", GPU: "gpu:1", Why: "a discrete GPU", Matmul: "products on tensor cores (float16 operands, float32 sums)", F16: true},
			"vulkan/NVIDIA H200 gpu:1 f16"},
		{"vulkan/llvmpipe (LLVM 15.0.6, 256 bits) (gpu:0, asked for; without its fast kernels gemv, which it failed to build)",
			event.DeviceChoice{Backend: "vulkan/llvmpipe (LLVM 15.0.6, 256 bits)", GPU: "gpu:0", Why: "asked for; without its fast kernels gemv, which it failed to build"},
			"vulkan/llvmpipe gpu:0"},
		{"vulkan/H200 (a discrete GPU; products in float32, not f16: H200 has none)", // a run from before gpu:N
			event.DeviceChoice{Backend: "vulkan/H200", Why: "a discrete GPU", Matmul: "products in float32, not f16: H200 has none"}, "vulkan/H200"},
		{"cpu/avx2", event.DeviceChoice{Backend: "cpu/avx2"}, "cpu/avx2"},
	}
	dir := filepath.Join(t.TempDir(), "run")
	w := mustCreate(t, dir, Options{})
	for _, c := range cases { // as the previous version's engine emitted it
		w.Emit(event.Phase{Time: time.Now(), Name: "device", Extra: c.text})
	}
	now := event.DeviceChoice{Backend: "vulkan/NVIDIA H200 (rev 2)", GPU: "gpu:3", Why: "asked for; without its fast kernels gemv, which it failed to build"}
	w.Emit(event.Device{Time: time.Now(), Step: 4, DeviceChoice: now})
	w.Close()
	r, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []EventRecord
	evs, _ := r.Store().EventsSince(0)
	for _, e := range evs {
		if e.Kind == KindDevice {
			got = append(got, e)
		} else if e.Kind == KindPhase {
			t.Errorf("phase %q (%q) read back; want every device phase read as a device event", e.Name, e.Extra)
		}
	}
	if len(got) != len(cases)+1 {
		t.Fatalf("%d device events, want %d", len(got), len(cases)+1)
	}
	for i, c := range cases {
		d := got[i].Device
		if d.Label() != c.label {
			t.Errorf("%q: label %q, want %q", c.text, d.Label(), c.label)
		}
		if d != c.want || d.String() != c.text {
			t.Errorf("%q reads as %+v (%q), want %+v", c.text, d, d, c.want)
		}
	}
	if last := got[len(cases)]; last.Device != now || last.Step != 4 || last.Name != "" || last.Extra != "" {
		t.Errorf("device event written now reads back as %+v (%+v), want %+v", last, last.Device, now)
	}
	runs, err := List(filepath.Dir(dir))
	if err != nil || len(runs) != 1 || runs[0].Device != now {
		t.Errorf("List = %+v, %v; want the run's last device, %+v", runs, err, now)
	}
}

// TestDamageIsSaid: a config.toml that is not TOML and an events.jsonl line
// that is not an event are noted in the run list, and export refuses such
// a run rather than write rows with a default prompt.
func TestDamageIsSaid(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	w := mustCreate(t, dir, Options{})
	emitSteps(w, 0, 2, 1, 1)
	w.Close()
	cfg := filepath.Join(dir, ConfigFile)
	data, _ := os.ReadFile(cfg)
	line := bytes.Count(data, []byte("\n")) + 1
	os.WriteFile(cfg, append(data, "steps = = 3\n"...), 0o644)
	ev, _ := os.OpenFile(filepath.Join(dir, EventsFile), os.O_APPEND|os.O_WRONLY, 0)
	ev.WriteString("{not an event\n")
	ev.Close()

	runs, err := List(filepath.Dir(dir))
	if err != nil || len(runs) != 1 {
		t.Fatalf("List = %v, %v", runs, err)
	}
	where := fmt.Sprintf("%s:%d:", cfg, line)
	if note := runs[0].Note; !strings.Contains(note, where) || !strings.Contains(note, "1 broken event record") {
		t.Errorf("note %q, want it to name %s and the broken event", note, where)
	}
	r, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.StudentPrompt(); err == nil || !strings.Contains(err.Error(), where) {
		t.Errorf("StudentPrompt: %v, want the config's error at %s", err, where)
	}
	var out bytes.Buffer
	if _, err := r.Export(&out, ExportStratos); err == nil || out.Len() != 0 {
		t.Errorf("Export: %v, wrote %d bytes; want a refusal and nothing written", err, out.Len())
	}
}

// killWriter leaves the run folder dir as a writer killed with SIGKILL
// leaves it: its records as written, no close event, and run.lock still
// naming its pid while no process holds the lock. The writer r is closed
// (in this process, to release the lock) and what the kill would not have
// written is taken back.
func killWriter(t *testing.T, r *Run, pid int) {
	t.Helper()
	dir := r.Dir()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	sessionstest.TakeBackClose(t, dir)
	evPath := filepath.Join(dir, EventsFile)
	kept, err := os.ReadFile(evPath)
	if err != nil {
		t.Fatal(err)
	}
	// The killed writer's create or open event names its process (an
	// open event's intent may follow it).
	i, self := -1, []byte(nil)
	for _, end := range []string{"}", ","} {
		if s := fmt.Appendf(nil, `"pid":%d%s`, os.Getpid(), end); bytes.LastIndex(kept, s) > i {
			i, self = bytes.LastIndex(kept, s), s
		}
	}
	if i < 0 {
		t.Fatalf("no event names this process: %s", kept)
	}
	kept = slices.Concat(kept[:i], fmt.Appendf(nil, `"pid":%d%s`, pid, self[len(self)-1:]), kept[i+len(self):])
	if err := os.WriteFile(evPath, kept, 0o644); err != nil {
		t.Fatal(err)
	}
	lock := fmt.Sprintf(`{"pid":%d,"started":"2026-01-02T03:04:05Z"}`+"\n", pid)
	if err := os.WriteFile(filepath.Join(dir, LockFileName), []byte(lock), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeClosed creates a run at dir, does two steps and closes it, its
// engine's last phase lastPhase ("stopped", "done").
func writeClosed(t *testing.T, dir, lastPhase string) {
	t.Helper()
	r := mustCreate(t, dir, Options{})
	emitSteps(r, 0, 2, 1, 1)
	r.Emit(event.Phase{Time: time.Now(), Name: lastPhase, Step: 1})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

// mustOpen opens the run at dir as a review does (Open, no resume).
func mustOpen(t *testing.T, dir string) *Run {
	t.Helper()
	r, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// openToResume opens the run at dir as rlt run --resume does, before its
// engine has loaded: its open event written (OpenWith returns once it is
// on disk), no resume event yet.
func openToResume(t *testing.T, dir string) *Run {
	t.Helper()
	r, err := OpenWith(dir, nil, Options{Intent: IntentResume})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// deadPID and otherDeadPID are pids no process has (sessionstest.DeadPIDs,
// set by TestMain), so a run.lock or an event naming one names a process
// that is gone.
var deadPID, otherDeadPID int

// TestOpenRunStateAgreesWithList: a run open in the workbench, read-only
// or to review, says it is running only when the Runs screen lists it
// running: a live process holds run.lock in a session that trains it. A
// run whose writer was killed (run.lock left behind, held by no process)
// reads stopped, noting the unclean exit, in both; so does one that only a
// review holds, which the listing used to call running because a process
// held the lock.
func TestOpenRunStateAgreesWithList(t *testing.T) {
	trained := func(pid int) string {
		return fmt.Sprintf("the process that trained it (pid %d) is gone without stopping it", pid)
	}
	loading := fmt.Sprintf("the process that set out to resume it (pid %d) is gone while loading its engine", deadPID)
	for _, c := range []struct {
		name string
		// write leaves the run at dir as the case has it; it returns the
		// runs it keeps open (closed at the end).
		write     func(t *testing.T, dir string) []*Run
		want      RunState
		wantNote  string // the listing's note on the writer ("" none)
		reviewNow bool   // also open it to review here and check that Run's State
		// interrupted: the last session that trained it is gone without
		// closing it (the workbench's header says "stopped, interrupted").
		interrupted bool
	}{
		{"a live writer", func(t *testing.T, dir string) []*Run {
			r := mustCreate(t, dir, Options{})
			r.Emit(event.Phase{Time: time.Now(), Name: "sampling", Step: 0})
			r.Flush()
			return []*Run{r}
		}, StateRunning, "open here, training it", false, false},
		{"a live writer, paused", func(t *testing.T, dir string) []*Run {
			r := mustCreate(t, dir, Options{})
			r.Emit(event.Phase{Time: time.Now(), Name: "paused", Step: 0})
			r.Flush()
			return []*Run{r}
		}, StatePaused, "open here, training it, paused", false, false},
		{"a killed writer", func(t *testing.T, dir string) []*Run {
			r := mustCreate(t, dir, Options{})
			emitSteps(r, 0, 2, 1, 1)
			killWriter(t, r, deadPID)
			return nil
		}, StateStopped, trained(deadPID), true, true},
		{"a killed writer, paused", func(t *testing.T, dir string) []*Run {
			r := mustCreate(t, dir, Options{})
			r.Emit(event.Phase{Time: time.Now(), Name: "paused", Step: 0})
			killWriter(t, r, deadPID)
			return nil
		}, StateStopped, fmt.Sprintf("the process that created it (pid %d) is gone before recording its first step", deadPID), false, true},
		{"a killed writer, open to review elsewhere", func(t *testing.T, dir string) []*Run {
			r := mustCreate(t, dir, Options{})
			emitSteps(r, 0, 2, 1, 1)
			killWriter(t, r, deadPID)
			rv := mustOpen(t, dir)
			rv.Flush()
			return []*Run{rv}
		}, StateStopped, trained(deadPID) + "; open here, no engine running", false, true},
		{"a killed writer, reviewed and closed since", func(t *testing.T, dir string) []*Run {
			// rlt open of it, closed: run.lock is emptied, but the
			// events still say the training session never closed it.
			r := mustCreate(t, dir, Options{})
			emitSteps(r, 0, 2, 1, 1)
			killWriter(t, r, deadPID)
			rv := mustOpen(t, dir)
			if err := rv.Close(); err != nil {
				t.Fatal(err)
			}
			if lock, err := os.ReadFile(filepath.Join(dir, LockFileName)); err != nil || len(lock) != 0 {
				t.Fatalf("run.lock after the review: %q, %v; want it emptied", lock, err)
			}
			return nil
		}, StateStopped, trained(deadPID), true, true},
		{"a killed writer, its review killed too", func(t *testing.T, dir string) []*Run {
			r := mustCreate(t, dir, Options{})
			emitSteps(r, 0, 2, 1, 1)
			killWriter(t, r, deadPID)
			rv := mustOpen(t, dir)
			killWriter(t, rv, otherDeadPID)
			return nil
		}, StateStopped, fmt.Sprintf("%s; unclean exit of pid %d", trained(deadPID), otherDeadPID), false, true},
		{"a killed writer whose events do not name it", func(t *testing.T, dir string) []*Run {
			// Folders written before events named their process: the
			// lock left behind names it.
			r := mustCreate(t, dir, Options{})
			emitSteps(r, 0, 2, 1, 1)
			killWriter(t, r, deadPID)
			evPath := filepath.Join(dir, EventsFile)
			data, err := os.ReadFile(evPath)
			if err != nil {
				t.Fatal(err)
			}
			data = bytes.ReplaceAll(data, fmt.Appendf(nil, `,"pid":%d`, deadPID), nil)
			if err := os.WriteFile(evPath, data, 0o644); err != nil {
				t.Fatal(err)
			}
			return nil
		}, StateStopped, trained(deadPID), false, true},
		{"a killed writer, resumed and closed", func(t *testing.T, dir string) []*Run {
			r := mustCreate(t, dir, Options{})
			emitSteps(r, 0, 2, 1, 1)
			killWriter(t, r, deadPID)
			rs := mustOpen(t, dir)
			if err := rs.Resume(0); err != nil {
				t.Fatal(err)
			}
			if err := rs.Close(); err != nil {
				t.Fatal(err)
			}
			return nil
		}, StateStopped, "", true, false},
		{"closed cleanly, then a review killed", func(t *testing.T, dir string) []*Run {
			r := mustCreate(t, dir, Options{})
			emitSteps(r, 0, 2, 1, 1)
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			rv := mustOpen(t, dir)
			killWriter(t, rv, deadPID)
			return nil
		}, StateStopped, fmt.Sprintf("unclean exit of pid %d", deadPID), false, false},
		{"a killed writer, resumed", func(t *testing.T, dir string) []*Run {
			r := mustCreate(t, dir, Options{})
			emitSteps(r, 0, 2, 1, 1)
			killWriter(t, r, deadPID)
			rs := mustOpen(t, dir)
			if err := rs.Resume(0); err != nil {
				t.Fatal(err)
			}
			return []*Run{rs}
		}, StateRunning, "open here, training it", false, false},
		{"a killed writer that failed", func(t *testing.T, dir string) []*Run {
			r := mustCreate(t, dir, Options{})
			r.Emit(event.Error{Time: time.Now(), Step: 0, Err: fmt.Errorf("boom"), Fatal: true})
			killWriter(t, r, deadPID)
			return nil
		}, StateFailed, fmt.Sprintf("fatal: boom; the process that created it (pid %d) is gone while loading its engine, before its first step", deadPID), true, true},
		{"finished and closed", func(t *testing.T, dir string) []*Run {
			r := mustCreate(t, dir, Options{})
			emitSteps(r, 0, 2, 1, 1)
			r.Emit(event.Phase{Time: time.Now(), Name: "done", Step: 1})
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			return nil
		}, StateFinished, "", true, false},
		// rlt run --resume opens the run, then loads its engine (minutes
		// for a large model) before its resume event: resuming, from the
		// open on, not the stopped its earlier session left.
		{"opened to resume, loading", func(t *testing.T, dir string) []*Run {
			writeClosed(t, dir, "stopped")
			return []*Run{openToResume(t, dir)}
		}, StateResuming, "open here, loading its engine to resume it", false, false},
		{"finished, opened to resume for more steps, loading", func(t *testing.T, dir string) []*Run {
			writeClosed(t, dir, "done")
			return []*Run{openToResume(t, dir)}
		}, StateResuming, "open here, loading its engine to resume it", false, false},
		{"a killed writer, opened to resume, loading", func(t *testing.T, dir string) []*Run {
			r := mustCreate(t, dir, Options{})
			emitSteps(r, 0, 2, 1, 1)
			killWriter(t, r, deadPID)
			return []*Run{openToResume(t, dir)}
		}, StateResuming, "open here, loading its engine to resume it", false, false},
		{"opened to resume and resumed", func(t *testing.T, dir string) []*Run {
			writeClosed(t, dir, "stopped")
			rs := openToResume(t, dir)
			if err := rs.Resume(1); err != nil {
				t.Fatal(err)
			}
			return []*Run{rs}
		}, StateRunning, "open here, training it", false, false},
		// A resume refused after the open (no checkpoint, a configuration
		// that cannot run) closes the run as it found it.
		{"finished, opened to resume, refused and closed", func(t *testing.T, dir string) []*Run {
			writeClosed(t, dir, "done")
			if err := openToResume(t, dir).Close(); err != nil {
				t.Fatal(err)
			}
			return nil
		}, StateFinished, "", true, false},
		// One killed while it loaded set out to train the run and never
		// did: stopped, its exit unclean, whatever the run was before.
		{"opened to resume, killed loading", func(t *testing.T, dir string) []*Run {
			writeClosed(t, dir, "stopped")
			killWriter(t, openToResume(t, dir), deadPID)
			return nil
		}, StateStopped, loading, true, true},
		{"finished, opened to resume, killed loading", func(t *testing.T, dir string) []*Run {
			writeClosed(t, dir, "done")
			killWriter(t, openToResume(t, dir), deadPID)
			return nil
		}, StateStopped, loading, true, true},
		{"failed, opened to resume, killed loading", func(t *testing.T, dir string) []*Run {
			r := mustCreate(t, dir, Options{})
			r.Emit(event.Error{Time: time.Now(), Step: 0, Err: fmt.Errorf("boom"), Fatal: true})
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			killWriter(t, openToResume(t, dir), deadPID)
			return nil
		}, StateStopped, loading, true, true},
		{"opened to resume, killed loading, opened to resume again", func(t *testing.T, dir string) []*Run {
			writeClosed(t, dir, "stopped")
			killWriter(t, openToResume(t, dir), deadPID)
			return []*Run{openToResume(t, dir)}
		}, StateResuming, "open here, loading its engine to resume it", false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "run")
			for _, r := range c.write(t, dir) {
				defer r.Close()
			}
			list, err := List(root)
			if err != nil || len(list) != 1 {
				t.Fatalf("List: %+v, %v", list, err)
			}
			if list[0].State != c.want || list[0].Note != c.wantNote {
				t.Errorf("listed %s (%q), want %s (%q)", list[0].State, list[0].Note, c.want, c.wantNote)
			}
			ro, err := OpenReadOnly(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer ro.Close()
			if st, note, interrupted := ro.State(); st != list[0].State || note != list[0].Note || interrupted != c.interrupted {
				t.Errorf("open read-only: %s (%q), interrupted %v; the listing says %s (%q), want interrupted %v",
					st, note, interrupted, list[0].State, list[0].Note, c.interrupted)
			}
			if !c.reviewNow {
				return
			}
			before := list[0]
			// Opened to review here (rlt open takes the lock no process
			// holds): no engine trains it, so its state is its training's.
			rv := mustOpen(t, dir)
			defer rv.Close()
			rv.Flush()
			if st, _, interrupted := rv.State(); st != c.want || interrupted != c.interrupted {
				t.Errorf("open to review: %s, interrupted %v; want %s, %v", st, interrupted, c.want, c.interrupted)
			}
			list, err = List(root)
			if err != nil || len(list) != 1 {
				t.Fatalf("List: %+v, %v", list, err)
			}
			if want := "open here, no engine running"; list[0].State != c.want || !strings.HasSuffix(list[0].Note, want) {
				t.Errorf("listed while open to review %s (%q), want %s (%q)", list[0].State, list[0].Note, c.want, want)
			}
			// The review ends cleanly and leaves the run as it found it:
			// it is listed as before, its unclean exit still noted.
			if err := rv.Close(); err != nil {
				t.Fatal(err)
			}
			list, err = List(root)
			if err != nil || len(list) != 1 {
				t.Fatalf("List: %+v, %v", list, err)
			}
			if list[0].State != before.State || list[0].Note != before.Note {
				t.Errorf("listed after the review %s (%q), before it %s (%q)", list[0].State, list[0].Note, before.State, before.Note)
			}
		})
	}
}

// TestGoneSaysWhatTheSessionDid: of a run whose last training session
// is gone without closing it (killed, crashed), the listing's note (List,
// rlt sessions, the Runs screen) and the workbench's header (Run.StateGone,
// read-only and to review alike) say what that session had done, in one
// wording (the listing's names its pid): it trained the run (recorded a
// step), or created it and was loading its engine, or started its engine
// and recorded no step, or opened it to resume and was loading its
// engine; also after a review opened and closed the run since. The
// listing used to say "unclean exit of pid N" of each, and the header
// that the process "trained it" of all but a resume killed loading.
func TestGoneSaysWhatTheSessionDid(t *testing.T) {
	const (
		trained        = "the process that trained it is gone without stopping it"
		createdLoading = "the process that created it is gone while loading its engine, before its first step"
		createdNoStep  = "the process that created it is gone before recording its first step"
		resumedNoStep  = "the process that resumed it is gone before recording a step"
		resumeLoading  = "the process that set out to resume it is gone while loading its engine"
	)
	review := func(t *testing.T, dir string) {
		rv := mustOpen(t, dir)
		if err := rv.Close(); err != nil {
			t.Fatal(err)
		}
	}
	resumed := func(t *testing.T, dir string) *Run {
		rs := openToResume(t, dir)
		if err := rs.Resume(1); err != nil {
			t.Fatal(err)
		}
		return rs
	}
	for _, c := range []struct {
		name string
		// write leaves the run at dir as the case has it; it returns the
		// pid the gone session's note names.
		write func(t *testing.T, dir string) int
		want  string
		// lockOnly: only run.lock names the gone process, which a
		// review here empties: the note names none then.
		lockOnly bool
	}{
		{"created, killed loading its engine", func(t *testing.T, dir string) int {
			killWriter(t, mustCreate(t, dir, Options{}), deadPID)
			return deadPID
		}, createdLoading, false},
		{"created, killed loading, reviewed since", func(t *testing.T, dir string) int {
			killWriter(t, mustCreate(t, dir, Options{}), deadPID)
			review(t, dir)
			return deadPID
		}, createdLoading, false},
		{"created, killed loading, its events not naming it", func(t *testing.T, dir string) int {
			// Folders written before events named their process: the
			// lock left behind names it.
			killWriter(t, mustCreate(t, dir, Options{}), deadPID)
			evPath := filepath.Join(dir, EventsFile)
			data, err := os.ReadFile(evPath)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(evPath, bytes.ReplaceAll(data, fmt.Appendf(nil, `,"pid":%d`, deadPID), nil), 0o644); err != nil {
				t.Fatal(err)
			}
			return deadPID
		}, createdLoading, true},
		{"created, its engine started, killed before its first step", func(t *testing.T, dir string) int {
			r := mustCreate(t, dir, Options{})
			r.Emit(event.Device{Time: time.Now(), DeviceChoice: event.DeviceChoice{Backend: "cpu"}})
			killWriter(t, r, deadPID)
			return deadPID
		}, createdNoStep, false},
		{"created, killed in its first step", func(t *testing.T, dir string) int {
			r := mustCreate(t, dir, Options{})
			r.Emit(event.Device{Time: time.Now(), DeviceChoice: event.DeviceChoice{Backend: "cpu"}})
			r.Emit(event.Phase{Time: time.Now(), Name: "sampling", Step: 0})
			killWriter(t, r, deadPID)
			return deadPID
		}, createdNoStep, false},
		{"a killed writer", func(t *testing.T, dir string) int {
			r := mustCreate(t, dir, Options{})
			emitSteps(r, 0, 2, 1, 1)
			killWriter(t, r, deadPID)
			return deadPID
		}, trained, false},
		{"a killed writer, reviewed since", func(t *testing.T, dir string) int {
			r := mustCreate(t, dir, Options{})
			emitSteps(r, 0, 2, 1, 1)
			killWriter(t, r, deadPID)
			review(t, dir)
			return deadPID
		}, trained, false},
		{"resumed, then killed before a step", func(t *testing.T, dir string) int {
			writeClosed(t, dir, "stopped")
			killWriter(t, resumed(t, dir), deadPID)
			return deadPID
		}, resumedNoStep, false},
		{"resumed, then killed training", func(t *testing.T, dir string) int {
			writeClosed(t, dir, "stopped")
			rs := resumed(t, dir)
			emitSteps(rs, 2, 3, 1, 1)
			killWriter(t, rs, deadPID)
			return deadPID
		}, trained, false},
		{"stopped, killed loading", func(t *testing.T, dir string) int {
			writeClosed(t, dir, "stopped")
			killWriter(t, openToResume(t, dir), deadPID)
			return deadPID
		}, resumeLoading, false},
		{"finished, killed loading, reviewed since", func(t *testing.T, dir string) int {
			writeClosed(t, dir, "done")
			killWriter(t, openToResume(t, dir), deadPID)
			review(t, dir)
			return deadPID
		}, resumeLoading, false},
		{"a killed writer, then its resume killed loading", func(t *testing.T, dir string) int {
			r := mustCreate(t, dir, Options{})
			emitSteps(r, 0, 2, 1, 1)
			killWriter(t, r, deadPID)
			killWriter(t, openToResume(t, dir), otherDeadPID)
			return otherDeadPID
		}, resumeLoading, false},
		{"killed loading, then resumed and killed training", func(t *testing.T, dir string) int {
			writeClosed(t, dir, "stopped")
			killWriter(t, openToResume(t, dir), deadPID)
			rs := resumed(t, dir)
			emitSteps(rs, 2, 3, 1, 1)
			killWriter(t, rs, otherDeadPID)
			return otherDeadPID
		}, trained, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "run")
			pid := c.write(t, dir)
			// The listing's words are the header's, the pid named.
			listed := strings.Replace(c.want, " is gone", fmt.Sprintf(" (pid %d) is gone", pid), 1)
			list, err := List(root)
			if err != nil || len(list) != 1 {
				t.Fatalf("List: %+v, %v", list, err)
			}
			if list[0].State != StateStopped || list[0].Note != listed {
				t.Errorf("listed %s (%q), want stopped (%q)", list[0].State, list[0].Note, listed)
			}
			for _, open := range []struct {
				how  string
				open func() (*Run, error)
			}{
				{"read-only", func() (*Run, error) { return OpenReadOnly(dir) }},
				{"to review", func() (*Run, error) { return Open(dir, nil) }},
			} {
				r, err := open.open()
				if err != nil {
					t.Fatal(err)
				}
				want := listed
				if c.lockOnly && open.how == "to review" {
					want = c.want
				}
				st, note, interrupted := r.State()
				if st != StateStopped || !interrupted || !strings.HasPrefix(note, want) {
					t.Errorf("%s: %s (%q), interrupted %v; want stopped (%q), interrupted", open.how, st, note, interrupted, want)
				}
				if st, interrupted, gone := r.StateGone(); st != StateStopped || !interrupted || gone != c.want {
					t.Errorf("%s: StateGone %s, interrupted %v, %q; want stopped, interrupted, %q", open.how, st, interrupted, gone, c.want)
				}
				if err := r.Close(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestListSaysWhoHoldsARunAsSoonAsItIsOpen: the listing reads who holds a
// run, and why, from its session's create or open event; Create and Open
// return once that event is on disk. A run just opened for review after a
// killed training was listed running (the lock held, the killed session's
// events the last) until the writer got round to the open event.
func TestListSaysWhoHoldsARunAsSoonAsItIsOpen(t *testing.T) {
	root := t.TempDir()
	for _, c := range []struct {
		name   string
		intent string
		want   RunState
		doing  string
	}{
		{"opened for review", IntentReview, StateStopped, HolderReviewing},
		{"opened to write re-scores", IntentRescore, StateStopped, HolderRescoring},
		{"opened to resume", IntentResume, StateResuming, HolderResuming},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(root, c.intent)
			w := mustCreate(t, dir, Options{})
			emitSteps(w, 0, 2, 1, 1)
			killWriter(t, w, deadPID)
			r, err := OpenWith(dir, nil, Options{Intent: c.intent})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			runs, err := List(root)
			if err != nil {
				t.Fatal(err)
			}
			var got *RunSummary
			for i := range runs {
				if filepath.Base(runs[i].Dir) == c.intent {
					got = &runs[i]
				}
			}
			if got == nil || got.State != c.want || got.Holder.Doing != c.doing {
				t.Errorf("listed %+v, want %s, held %q", got, c.want, c.doing)
			}
		})
	}
	// A run just created is listed as its creator's from the start.
	dir := filepath.Join(root, "new")
	w := mustCreate(t, dir, Options{})
	defer w.Close()
	runs, err := List(root)
	if err != nil {
		t.Fatal(err)
	}
	var created *RunSummary
	for i := range runs {
		if filepath.Base(runs[i].Dir) == "new" {
			created = &runs[i]
		}
	}
	if created == nil || created.State != StateRunning || created.Holder.Doing != HolderTraining {
		t.Errorf("a run just created listed %+v, want running, held training", created)
	}
}

// TestBrokenRecordsCounted: the list's note counts broken metric records
// in words that agree with the count.
func TestBrokenRecordsCounted(t *testing.T) {
	for _, tc := range []struct {
		broken int
		want   string
	}{
		{1, "1 broken metric record"},
		{2, "2 broken metric records"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			w := mustCreate(t, dir, Options{})
			emitSteps(w, 0, 2, 1, 1)
			w.Close()
			f, err := os.OpenFile(filepath.Join(dir, MetricsFile), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(strings.Repeat("{not a record\n", tc.broken))
			f.Close()
			runs, err := List(filepath.Dir(dir))
			if err != nil || len(runs) != 1 {
				t.Fatalf("List = %v, %v", runs, err)
			}
			note := runs[0].Note
			if !strings.Contains(note, tc.want) || tc.broken == 1 && strings.Contains(note, "records") {
				t.Errorf("note %q, want %q", note, tc.want)
			}
		})
	}
}

// An imported run is finished as imported, whatever its trainer had done:
// one whose trainer planned more steps than it had done says so in its
// note, so that finished 2/10 does not read as a run of ours cut short;
// one that reached its plan, or whose trainer states none, notes nothing.
func TestListNotesAnImportShortOfItsPlan(t *testing.T) {
	for _, c := range []struct {
		name, maxSteps, steps string
		want                  string
	}{
		{"short of its plan", `, "max_steps": 10`, "2/10", "imported from the TRL GRPOTrainer when it had done 2 of the 10 steps it planned"},
		{"its plan done", `, "max_steps": 2`, "2/2", ""},
		{"no plan stated", "", "2", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := t.TempDir()
			state := `{"global_step": 2, "log_history": [{"step": 1, "loss": 0.5}, {"step": 2, "loss": 0.4}]` + c.maxSteps + "}"
			if err := os.WriteFile(filepath.Join(src, "trainer_state.json"), []byte(state), 0o644); err != nil {
				t.Fatal(err)
			}
			runs := t.TempDir()
			if _, err := Import(filepath.Join(runs, "imp"), src); err != nil {
				t.Fatal(err)
			}
			list, err := List(runs)
			if err != nil || len(list) != 1 {
				t.Fatalf("%+v, %v", list, err)
			}
			r := list[0]
			if r.State != StateFinished || StepsLabel(r.StepsDone(), r.PlannedSteps) != c.steps || r.Note != c.want {
				t.Errorf("listed %s %s (%s), want finished %s (%s)", r.State, StepsLabel(r.StepsDone(), r.PlannedSteps), r.Note, c.steps, c.want)
			}
		})
	}
}

// TestListSaysARunningRunWentQuiet: a running run whose files have not
// been written for 10 minutes or more (its writer stopped by a signal, or
// hung: the lock stays held) is noted so, and still listed running; one
// written since, or a stopped run however old, is not.
func TestListSaysARunningRunWentQuiet(t *testing.T) {
	for _, c := range []struct {
		name  string
		age   time.Duration // of events.jsonl and metrics.jsonl
		stop  bool
		want  RunState
		quiet string // in the note ("": none)
		// progress: the age of ProgressFile, written within a long step
		// (0: none)
		progress time.Duration
	}{
		{"written just now", 0, false, StateRunning, "", 0},
		{"9 minutes", 9 * time.Minute, false, StateRunning, "", 0},
		{"14 minutes", 14 * time.Minute, false, StateRunning, "nothing written for 14m", 0},
		{"3 hours", 3*time.Hour + 5*time.Minute, false, StateRunning, "nothing written for 3h05m", 0},
		{"stopped long ago", 3 * time.Hour, true, StateStopped, "", 0},
		{"a 40-minute step, its progress written", 40 * time.Minute, false, StateRunning, "", 3 * time.Second},
		{"a 40-minute step, its progress quiet too", 40 * time.Minute, false, StateRunning, "nothing written for 20m", 20 * time.Minute},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "run")
			w := mustCreate(t, dir, Options{})
			t.Cleanup(func() { w.Close() })
			emitSteps(w, 0, 2, 1, 1)
			if c.stop {
				w.Emit(event.Phase{Time: time.Now(), Name: "stopped", Step: 2})
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			then := time.Now().Add(-c.age - 30*time.Second)
			for _, f := range []string{EventsFile, MetricsFile} {
				if err := os.Chtimes(filepath.Join(dir, f), then, then); err != nil {
					t.Fatal(err)
				}
			}
			if c.progress > 0 {
				p := filepath.Join(dir, ProgressFile)
				if err := os.WriteFile(p, []byte("{}\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				at := time.Now().Add(-c.progress - 30*time.Second)
				if err := os.Chtimes(p, at, at); err != nil {
					t.Fatal(err)
				}
			}
			runs, err := List(root)
			if err != nil || len(runs) != 1 {
				t.Fatalf("%d runs, %v", len(runs), err)
			}
			got := runs[0]
			if got.State != c.want || strings.Contains(got.Note, "nothing written") != (c.quiet != "") || !strings.Contains(got.Note, c.quiet) {
				t.Errorf("listed %s (%s), want %s with %q", got.State, got.Note, c.want, c.quiet)
			}
		})
	}
}

// A config.toml value of the wrong type, or out of its key's range, is
// noted at its line, as a syntax error is, whichever key it is (not only
// those the listing reads), not taken as unset without a word; the first
// in full, the others by their lines. A key this version does not know is
// none of the listing's concern.
func TestListNotesConfigProblems(t *testing.T) {
	for _, c := range []struct {
		name, config string
		note         string // "" for none; else its start after the file's path
	}{
		{"valid", "steps = 2\ntask = 'addition'\n", ""},
		{"unknown key", "steps = 2\nfuture_key = 1\n", ""},
		{"syntax error", "task = 'addition'\nsteps = = 2\n", ":2:9: unexpected character"},
		{"steps a string", "task = 'addition'\nsteps = \"ten\"\n", `:2:9: key "steps": wrong type: got TOML string, want integer`},
		{"task a number", "task = 3\nsteps = 2\n", `:1:8: key "task": wrong type: got TOML integer, want string`},
		{"reward temperature a string", "steps = 2\n[reward]\ntemperature = \"hot\"\n", `:3:15: key "reward.temperature": wrong type: got TOML string`},
		{"a key the listing does not read", "steps = 2\n[grpo]\nlr = 'fast'\n", `:3:6: key "grpo.lr": wrong type: got TOML string, want float`},
		{"an integer out of its key's range", "steps = 2\n[grpo]\nseed = -1\n", `:3:8: key "grpo.seed": -1 is out of range: want an integer from 0 to 9223372036854775807`},
		{"three", "steps = 2\ncheckpoint_every = 'often'\n[grpo]\nreconstruct = 1\nsamples = 1.5\n",
			`:2:20: key "checkpoint_every": wrong type: got TOML string, want integer (such as checkpoint_every = 1); 2 more on lines 4, 5;`},
		{"an import's keys", "steps = 2\n[import]\nformat = 'trl'\nsource = '/data'\ntraces = 4\n", ""},
		{"an import's key mistyped", "[import]\nformat = 'trl'\ntraces = 'four'\n", `:3:10: key "import.traces": wrong type`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			w := mustCreate(t, dir, Options{})
			emitSteps(w, 0, 2, 1, 1)
			w.Close()
			cfg := filepath.Join(dir, ConfigFile)
			if err := os.WriteFile(cfg, []byte(c.config), 0o644); err != nil {
				t.Fatal(err)
			}
			runs, err := List(filepath.Dir(dir))
			if err != nil || len(runs) != 1 {
				t.Fatalf("List = %v, %v", runs, err)
			}
			note := runs[0].Note
			switch {
			case c.note == "" && note != "":
				t.Errorf("note %q on a config.toml the listing reads", note)
			case c.note != "" && (!strings.HasPrefix(note, cfg+c.note) || !strings.HasSuffix(note, "the run's settings cannot be read until it is fixed")):
				t.Errorf("note %q, want %q…", note, cfg+c.note)
			}
		})
	}
}
