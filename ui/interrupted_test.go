package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/sessions/sessionstest"
)

// TestInterruptedNoteSaysWhatTheProcessDid: a run whose last training
// session is gone without closing it opens, or turns interrupted while
// watched, with a note true of what that process had done: trained it,
// died loading its engine to create or resume it, or recorded no step;
// the Runs screen notes the run in the same words with the pid, and r
// resumes it. Both used to say the process "trained it" (the header) or
// "unclean exit of pid N" (the listing) whatever it did.
func TestInterruptedNoteSaysWhatTheProcessDid(t *testing.T) {
	const (
		trained        = "the process that trained it is gone without stopping it"
		loading        = "the process that set out to resume it is gone while loading its engine"
		createdLoading = "the process that created it is gone while loading its engine, before its first step"
		createdNoStep  = "the process that created it is gone before recording its first step"
		resumedNoStep  = "the process that resumed it is gone before recording a step"
	)
	create := func(t *testing.T, dir string) *sessions.Run {
		w, err := sessions.Create(dir, flowCfg{Task: "addition", Steps: 3})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	flushed := func(t *testing.T, w *sessions.Run) *sessions.Run {
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		return w
	}
	// started has w's engine start and begin its first step.
	started := func(t *testing.T, w *sessions.Run) *sessions.Run {
		w.Emit(event.Device{Time: t0, DeviceChoice: event.DeviceChoice{Backend: "cpu"}})
		w.Emit(event.Phase{Time: t0, Name: "sampling", Step: 0})
		return flushed(t, w)
	}
	// trainedRun creates a run at dir that records two steps, its engine
	// ending with the phase ended ("": it has not ended).
	trainedRun := func(t *testing.T, dir, ended string) *sessions.Run {
		w := create(t, dir)
		for s := 0; s < 2; s++ {
			w.Emit(event.Phase{Time: t0, Name: "sampling", Step: s})
			w.Emit(event.Metrics{Time: t0, Step: s, Values: map[string]float64{"reward": 0.1 * float64(s)}})
		}
		if ended != "" {
			w.Emit(event.Phase{Time: t0, Name: ended, Step: 1})
		}
		return flushed(t, w)
	}
	closeIt := func(t *testing.T, w *sessions.Run) {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// openToResume opens the run as rlt run --resume does, before its
	// engine loads: the open event written, no resume event yet.
	openToResume := func(t *testing.T, dir string) *sessions.Run {
		r, err := sessions.OpenWith(dir, nil, sessions.Options{Intent: sessions.IntentResume})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// resumed has r's engine loaded and restore step 1's checkpoint.
	resumed := func(t *testing.T, r *sessions.Run) *sessions.Run {
		if err := r.Resume(1); err != nil {
			t.Fatal(err)
		}
		return flushed(t, r)
	}
	for _, c := range []struct {
		name string
		// before leaves the run at dir as the case has it before it is
		// opened here; it returns the Run the process killed while the
		// run is watched holds (nil: none).
		before func(t *testing.T, dir string) *sessions.Run
		open   func(l *testLauncher, dir string) (*sessions.Session, error)
		want   string
	}{
		{"killed training, read-only", func(t *testing.T, dir string) *sessions.Run {
			killWriter(t, trainedRun(t, dir, ""))
			return nil
		}, (*testLauncher).OpenReadOnly, trained},
		{"killed training, to review", func(t *testing.T, dir string) *sessions.Run {
			killWriter(t, trainedRun(t, dir, ""))
			return nil
		}, (*testLauncher).OpenForReview, trained},
		{"killed training while watched", func(t *testing.T, dir string) *sessions.Run {
			return trainedRun(t, dir, "")
		}, (*testLauncher).OpenReadOnly, trained},
		{"stopped, resume killed loading, read-only", func(t *testing.T, dir string) *sessions.Run {
			closeIt(t, trainedRun(t, dir, "stopped"))
			killWriter(t, openToResume(t, dir))
			return nil
		}, (*testLauncher).OpenReadOnly, loading},
		{"finished, resume killed loading, to review", func(t *testing.T, dir string) *sessions.Run {
			closeIt(t, trainedRun(t, dir, "done"))
			killWriter(t, openToResume(t, dir))
			return nil
		}, (*testLauncher).OpenForReview, loading},
		{"finished, resume killed loading while watched", func(t *testing.T, dir string) *sessions.Run {
			closeIt(t, trainedRun(t, dir, "done"))
			return openToResume(t, dir)
		}, (*testLauncher).OpenReadOnly, loading},
		{"killed training, then its resume killed loading", func(t *testing.T, dir string) *sessions.Run {
			killWriter(t, trainedRun(t, dir, ""))
			killWriter(t, openToResume(t, dir))
			return nil
		}, (*testLauncher).OpenReadOnly, loading},
		{"resume killed loading, then resumed and killed training", func(t *testing.T, dir string) *sessions.Run {
			closeIt(t, trainedRun(t, dir, "stopped"))
			killWriter(t, openToResume(t, dir))
			r := resumed(t, openToResume(t, dir))
			r.Emit(event.Metrics{Time: t0, Step: 2, Values: map[string]float64{"reward": 0.2}}) // a step trained
			killWriter(t, r)
			return nil
		}, (*testLauncher).OpenReadOnly, trained},
		{"created, killed loading, read-only", func(t *testing.T, dir string) *sessions.Run {
			killWriter(t, create(t, dir))
			return nil
		}, (*testLauncher).OpenReadOnly, createdLoading},
		{"created, killed loading, to review", func(t *testing.T, dir string) *sessions.Run {
			killWriter(t, create(t, dir))
			return nil
		}, (*testLauncher).OpenForReview, createdLoading},
		{"created, killed loading while watched", func(t *testing.T, dir string) *sessions.Run {
			return create(t, dir)
		}, (*testLauncher).OpenReadOnly, createdLoading},
		{"created, killed in its first step, read-only", func(t *testing.T, dir string) *sessions.Run {
			killWriter(t, started(t, create(t, dir)))
			return nil
		}, (*testLauncher).OpenReadOnly, createdNoStep},
		{"created, killed in its first step while watched", func(t *testing.T, dir string) *sessions.Run {
			return started(t, create(t, dir))
		}, (*testLauncher).OpenReadOnly, createdNoStep},
		{"resumed, killed before a step, to review", func(t *testing.T, dir string) *sessions.Run {
			closeIt(t, trainedRun(t, dir, "stopped"))
			killWriter(t, resumed(t, openToResume(t, dir)))
			return nil
		}, (*testLauncher).OpenForReview, resumedNoStep},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			dir := filepath.Join("runs", "killed")
			late := c.before(t, dir)
			m, l := viewWith(t, c.open, dir)
			if late != nil {
				if m.interrupted() || strings.Contains(m.msg, "was interrupted") {
					t.Fatalf("interrupted while its process lives: message %q", m.msg)
				}
				killWriter(t, late)
				awaitKillRead(t, m)
			}
			note := "killed was interrupted: " + c.want + "; " + wayOnOfInterrupted(dir)
			if !strings.Contains(m.msg, note) {
				t.Errorf("message %q, want %q", m.msg, note)
			}
			if h := m.statusLine(); !strings.Contains(h, "· stopped, interrupted (") {
				t.Errorf("header %q, want stopped, interrupted", h)
			}
			// The Runs screen says it in the same words, the pid named.
			hit(t, m, "4")
			listNow(t, m)
			row := m.runs.selected()
			listed := strings.Replace(c.want, " is gone", fmt.Sprintf(" (pid %d) is gone", sessionstest.DeadPID(t)), 1)
			if row == nil || row.State != string(sessions.StateStopped) || !strings.HasPrefix(row.Note, listed) {
				t.Errorf("Runs screen row %+v, want stopped, noted %q", row, listed)
			}
			// A checkpoint to continue from, as a resume needs: one without is
			// refused before the view is closed (resumeRefusal).
			withCheckpoint(t, row.Dir, 0)
			_, cmd := m.Update(keyMsg("r")) // the resume, pumped to its end
			pump(t, m, cmd, func() bool { return m.switching == "" && m.cur != nil && m.cur.Control != nil })
			if len(l.ctls) != 1 || filepath.Base(m.sh.run.Dir()) != "killed" {
				t.Errorf("r did not resume it: %d engines, open %q", len(l.ctls), m.openName())
			}
		})
	}
}

// TestInterruptedNoteFollowsLateRecords: the kill is seen from run.lock,
// which can come before the run open here has read the last records the
// gone process wrote. The note said then ("before recording its first
// step") is said again once a step it recorded is read: the process
// trained the run. It used to keep the first words until it faded.
func TestInterruptedNoteFollowsLateRecords(t *testing.T) {
	t.Chdir(t.TempDir())
	dir := filepath.Join("runs", "killed")
	w, err := sessions.Create(dir, flowCfg{Task: "addition", Steps: 3})
	if err != nil {
		t.Fatal(err)
	}
	w.Emit(event.Phase{Time: t0, Name: "sampling", Step: 0})
	w.Emit(event.Metrics{Time: t0, Step: 0, Values: map[string]float64{"reward": 0.5}})
	w.Emit(event.Phase{Time: t0, Name: "sampling", Step: 1})
	killWriter(t, w)
	// The step's record, held back as if not read yet.
	metricsPath := filepath.Join(dir, sessions.MetricsFile)
	step, err := os.ReadFile(metricsPath)
	if err != nil || len(step) == 0 {
		t.Fatalf("metrics: %q, %v", step, err)
	}
	if err := os.WriteFile(metricsPath, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	m, _ := viewWith(t, (*testLauncher).OpenReadOnly, dir)
	const noStep = "killed was interrupted: the process that created it is gone before recording its first step"
	if !strings.Contains(m.msg, noStep) {
		t.Fatalf("message %q, want %q", m.msg, noStep)
	}
	if err := os.WriteFile(metricsPath, step, 0o644); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(hangGuard); !m.hasStep; m.pull() {
		if time.Now().After(deadline) {
			t.Fatal("the step's record was never read")
		}
		time.Sleep(10 * time.Millisecond)
	}
	m.Update(tickMsg(time.Now()))
	const trained = "killed was interrupted: the process that trained it is gone without stopping it"
	if !strings.Contains(m.msg, trained) {
		t.Errorf("message %q, want %q", m.msg, trained)
	}
}

// TestHeaderSaysAWriterWentQuiet: a run another live process of the
// workbench writes (its lock held) whose files have not been written for
// 10 minutes or more — a writer stopped by SIGSTOP or ctrl+z, or hung —
// reads "nothing written for 14m" with no pace nor ETA, as rlt sessions
// notes it (sessions.Quiet), until its engine writes again. The header used
// to keep a frozen ETA, as if the run went on.
func TestHeaderSaysAWriterWentQuiet(t *testing.T) {
	t.Chdir(t.TempDir())
	dir := filepath.Join("runs", "live")
	w, err := sessions.Create(dir, flowCfg{Task: "addition", Steps: 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	now := time.Now()
	for s := range 3 {
		at := now.Add(time.Duration(s-3) * time.Minute)
		w.Emit(event.Phase{Time: at, Name: "sampling", Step: s})
		w.Emit(event.Metrics{Time: at, Step: s, Values: map[string]float64{"reward": 0.5}})
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	m, _ := viewWith(t, (*testLauncher).OpenReadOnly, dir)
	if err := waitPulled(m, 2); err != nil {
		t.Fatal(err)
	}
	age := func(d time.Duration) {
		t.Helper()
		then := time.Now().Add(-d)
		for _, f := range []string{sessions.EventsFile, sessions.MetricsFile} {
			if err := os.Chtimes(filepath.Join(dir, f), then, then); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, c := range []struct {
		written     time.Duration // ago
		want, avoid []string
	}{
		{0, []string{`running`, `st/min`}, []string{`nothing written`}},
		{9 * time.Minute, []string{`running`}, []string{`nothing written`}},
		{14*time.Minute + 30*time.Second, []string{`running .*nothing written for 14m`}, []string{`ETA`, `st/min`}},
		{3*time.Hour + 5*time.Minute + 30*time.Second, []string{`nothing written for 3h05m`}, []string{`ETA`, `st/min`}},
	} {
		age(c.written)
		m.Update(tickMsg(time.Now()))
		h := m.statusLine()
		for _, s := range c.want {
			if !regexp.MustCompile(s).MatchString(h) {
				t.Errorf("written %v ago: header %q lacks %q", c.written, h, s)
			}
		}
		for _, s := range c.avoid {
			if regexp.MustCompile(s).MatchString(h) {
				t.Errorf("written %v ago: header %q shows %q", c.written, h, s)
			}
		}
	}
	// Its engine writes again: no longer quiet.
	w.Emit(event.Phase{Time: time.Now(), Name: "scoring", Step: 3})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	m.Update(tickMsg(time.Now()))
	if h := m.statusLine(); strings.Contains(h, "nothing written") {
		t.Errorf("written again, yet the header says %q", h)
	}
}

// TestRunNotKnownHeldReadsUnknown: a run whose training session its events
// leave open, and whose run.lock cannot be probed (here a link to itself;
// a filesystem without locks, NFS whose lock manager is not reached),
// may be training in another process or have been killed: the header
// reads "unknown (read-only)", with no pace, nothing said of an
// interruption, and the Runs screen lists it unknown, noting why and what
// it is either way (sessions.StateUnknown). r does not resume it as if it
// were free: the resume's lock fails as the probe did, said on the
// message line, and the run is open again read-only. The workbench read
// it "running" in its header (its phases) and "stopped" in its row.
func TestRunNotKnownHeldReadsUnknown(t *testing.T) {
	t.Chdir(t.TempDir())
	dir := filepath.Join("runs", "unprobed")
	w, err := sessions.Create(dir, flowCfg{Task: "addition", Steps: 10})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for s := range 3 { // a pace the header would show of a running run
		at := now.Add(time.Duration(s-3) * time.Minute)
		w.Emit(event.Phase{Time: at, Name: "sampling", Step: s})
		w.Emit(event.Metrics{Time: at, Step: s, Values: map[string]float64{"reward": 0.5}})
	}
	killWriter(t, w)
	lock := sessionstest.LockLinkedToItself(t, dir)
	m, l := viewWith(t, (*testLauncher).OpenReadOnly, dir)
	if err := waitPulled(m, 2); err != nil {
		t.Fatal(err)
	}
	m.Update(tickMsg(time.Now()))
	if h := m.statusLine(); !strings.Contains(h, "· unknown (read-only)") || strings.Contains(h, "st/min") || strings.Contains(h, "ETA") {
		t.Errorf("header %q, want unknown (read-only), no pace nor ETA", h)
	}
	if m.interrupted() || strings.Contains(m.msg, "was interrupted") {
		t.Errorf("said interrupted: message %q", m.msg)
	}
	hit(t, m, "4")
	listNow(t, m)
	row := m.runs.selected()
	const both = "running if a process holds it, stopped if none does"
	if row == nil || row.State != string(sessions.StateUnknown) || !strings.Contains(row.Note, "whether a process holds it now is not known: ") || !strings.Contains(row.Note, both) {
		t.Fatalf("Runs screen row %+v, want unknown, noted %q", row, both)
	}
	if view := ansi.Strip(m.View()); !regexp.MustCompile(`●unprobed\s+unknown\s`).MatchString(view) {
		t.Errorf("the open run's row does not read unknown:\n%s", view)
	}
	// enter reads it again read-only: opened to review, it would be
	// read-only still (its lock cannot be taken).
	if h := m.runs.openHelp(); h != "read again" {
		t.Errorf("enter says %q on it, want %q", h, "read again")
	}
	_, cmd := m.Update(keyMsg("r"))
	pump(t, m, cmd, func() bool { return m.switching == "" })
	if len(l.ctls) != 0 || m.sh.control != nil || m.openName() != "unprobed" || !m.sh.readOnly {
		t.Errorf("r resumed a run that may be held: %d engines; open %q, read-only %v, want it open read-only", len(l.ctls), m.openName(), m.sh.readOnly)
	}
	// Refused in the Runs screen's words, before anything is closed:
	// why, and what to do; not the lock's raw error.
	want := "unprobed is not resumed: its run.lock cannot be probed (open " + lock + ": too many levels of symbolic links), " +
		"so whether another process trains it is not known; enter opens it read-only; to resume it, make sure no process trains it"
	if !m.runs.msgErr || !strings.HasPrefix(m.runs.msg, want) {
		t.Errorf("r said %q (error %v), want %q…", m.runs.msg, m.runs.msgErr, want)
	}
}

// TestResumeSaysWhyTheLockCannotBeTaken: r on a run listed by its
// training state (closed cleanly: stopped) whose run.lock cannot be
// opened (here a link to itself) is refused by its lock, said in the Runs
// screen's words: why, that enter opens it read-only, and what to do; the
// run open here is open again. It said the lock's raw error ("resume X:
// open run: lock run: open …: too many levels of symbolic links").
func TestResumeSaysWhyTheLockCannotBeTaken(t *testing.T) {
	t.Chdir(t.TempDir())
	dir := filepath.Join("runs", "unlockable")
	w, err := sessions.Create(dir, flowCfg{Task: "addition", Steps: 10})
	if err != nil {
		t.Fatal(err)
	}
	w.Emit(event.Metrics{Time: time.Now(), Step: 0, Values: map[string]float64{"reward": 0.5}})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	lock := sessionstest.LockLinkedToItself(t, dir)
	m, l := viewWith(t, (*testLauncher).OpenReadOnly, dir)
	hit(t, m, "4")
	listNow(t, m)
	if row := m.runs.selected(); row == nil || row.State != string(sessions.StateStopped) {
		t.Fatalf("Runs screen row %+v, want stopped", row)
	}
	// A checkpoint to continue from, as a resume needs: one without is
	// refused before the view is closed (resumeRefusal).
	withCheckpoint(t, dir, 0)
	_, cmd := m.Update(keyMsg("r"))
	pump(t, m, cmd, func() bool { return m.switching == "" })
	if len(l.ctls) != 0 || m.openName() != "unlockable" || !m.sh.readOnly {
		t.Errorf("%d engines; open %q, read-only %v, want it open again read-only", len(l.ctls), m.openName(), m.sh.readOnly)
	}
	want := "unlockable is not resumed: " + lock + " cannot be opened (too many levels of symbolic links): " +
		"whether another process holds the run is not known; enter opens it read-only; see what run.lock is (ls -l "
	if !m.runs.msgErr || !strings.HasPrefix(m.runs.msg, want) || strings.Contains(m.runs.msg, "open run:") {
		t.Errorf("r said %q (error %v), want %q…", m.runs.msg, m.runs.msgErr, want)
	}
}

// wayOnOfInterrupted is how the note on an interrupted run in dir goes on
// (interruptedNote): r resumes it, or, where it has no checkpoint to
// resume from (these tests' runs save none), r cannot, and how to start it
// again.
func wayOnOfInterrupted(dir string) string {
	if sessions.HasCheckpoint(dir) {
		return "r on the Runs screen (4) resumes it"
	}
	return "r cannot resume it: it has no checkpoint to continue from; start it again: "
}
