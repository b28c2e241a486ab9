package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions"
)

// TestInterruptedNoteSaysWhatHappened: a run whose last training session
// was killed before it recorded a step (its creator while it loaded its
// engine, or in its first step; a resume after its engine loaded) opens,
// or turns interrupted while watched, with a note that says so, not that
// the process "trained it"; and the Runs screen notes the run in the same
// words, naming the pid. Both used to say it trained the run (the header)
// or "unclean exit of pid N" (the listing).
func TestInterruptedNoteSaysWhatHappened(t *testing.T) {
	const (
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
	// started has w's engine start and begin its first step.
	started := func(t *testing.T, w *sessions.Run) *sessions.Run {
		w.Emit(event.Device{Time: t0, DeviceChoice: event.DeviceChoice{Backend: "cpu"}})
		w.Emit(event.Phase{Time: t0, Name: "sampling", Step: 0})
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		return w
	}
	// resumed writes a run of two steps, stopped, and resumes it, as rlt
	// run --resume does once its engine has loaded.
	resumed := func(t *testing.T, dir string) *sessions.Run {
		w := create(t, dir)
		for s := 0; s < 2; s++ {
			w.Emit(event.Phase{Time: t0, Name: "sampling", Step: s})
			w.Emit(event.Metrics{Time: t0, Step: s, Values: map[string]float64{"reward": 0.1 * float64(s)}})
		}
		w.Emit(event.Phase{Time: t0, Name: "stopped", Step: 2})
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := sessions.OpenWith(dir, nil, sessions.Options{Intent: sessions.IntentResume})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Resume(1); err != nil {
			t.Fatal(err)
		}
		if err := r.Flush(); err != nil {
			t.Fatal(err)
		}
		return r
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
		{"created, killed loading, read-only", func(t *testing.T, dir string) *sessions.Run {
			killWriter(t, create(t, dir))
			return nil
		}, (*testLauncher).OpenReadOnly, createdLoading},
		{"created, killed loading, to review", func(t *testing.T, dir string) *sessions.Run {
			killWriter(t, create(t, dir))
			return nil
		}, (*testLauncher).OpenForReview, createdLoading},
		{"created, killed loading while watched", func(t *testing.T, dir string) *sessions.Run {
			w := create(t, dir)
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			return w
		}, (*testLauncher).OpenReadOnly, createdLoading},
		{"created, killed in its first step, read-only", func(t *testing.T, dir string) *sessions.Run {
			killWriter(t, started(t, create(t, dir)))
			return nil
		}, (*testLauncher).OpenReadOnly, createdNoStep},
		{"created, killed in its first step while watched", func(t *testing.T, dir string) *sessions.Run {
			return started(t, create(t, dir))
		}, (*testLauncher).OpenReadOnly, createdNoStep},
		{"resumed, killed before a step, to review", func(t *testing.T, dir string) *sessions.Run {
			killWriter(t, resumed(t, dir))
			return nil
		}, (*testLauncher).OpenForReview, resumedNoStep},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			dir := filepath.Join("runs", "killed")
			late := c.before(t, dir)
			m, _ := viewWith(t, c.open, dir)
			if late != nil {
				if m.interrupted || strings.Contains(m.msg, "was interrupted") {
					t.Fatalf("interrupted while its process lives: message %q", m.msg)
				}
				killWriter(t, late)
				// Wait until the run open here has followed the events as
				// the kill left them, then let a tick ask it as the
				// header does.
				for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
					if _, _, interrupted := m.sh.run.State(); interrupted {
						break
					}
					if time.Now().After(deadline) {
						t.Fatal("the run open here never read the events as the kill left them")
					}
				}
				m.Update(tickMsg(time.Now()))
			}
			note := "killed was interrupted: " + c.want + "; r on the Runs screen (4) resumes it"
			if !strings.Contains(m.msg, note) {
				t.Errorf("message %q, want %q", m.msg, note)
			}
			if h := m.statusLine(); !strings.Contains(h, "· stopped, interrupted (") {
				t.Errorf("header %q, want stopped, interrupted", h)
			}
			// The Runs screen says it in the same words, the pid named (a
			// review's open event is on disk once Open returns).
			m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("4")})
			listNow(t, m)
			row := m.runs.selected()
			listed := strings.Replace(c.want, " is gone", " (pid 4194301) is gone", 1)
			if row == nil || row.State != string(sessions.StateStopped) || !strings.HasPrefix(row.Note, listed) {
				t.Errorf("Runs screen row %+v, want stopped, noted %q", row, listed)
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
	for deadline := time.Now().Add(20 * time.Second); !m.hasStep; m.pull() {
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
