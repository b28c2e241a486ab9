package sessions

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/rlt-workbench/rlt/engine/event"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

// RunState is what List says about a run.
type RunState string

// Run states.
const (
	StateRunning  RunState = "running"  // a live process holds run.lock and its engine has not ended
	StatePaused   RunState = "paused"   // held, and its engine's last phase is "paused"
	StateFinished RunState = "finished" // the engine reported the "done" phase since the last resume
	StateStopped  RunState = "stopped"  // stopped, closed, interrupted or crashed before "done"
	StateFailed   RunState = "failed"   // a fatal error ended the engine since the last resume
	StateBroken   RunState = "broken"   // not readable as a run (config.toml missing or unreadable)
)

// engineEnded reports whether the engine's last phase since the last resume
// ends the training ("stopped", "done") or a fatal error did.
func engineEnded(lastPhase, fatal string) bool {
	return lastPhase == "stopped" || lastPhase == "done" || fatal != ""
}

// RunSummary is one line of `rlt sessions`.
type RunSummary struct {
	Name       string // folder name under root
	Dir        string
	State      RunState
	LastStep   int     // the last metrics record's step, as recorded; -1 without metrics
	BestReward float64 // best mean reward ("reward" metric) of any step; NaN without one
	Size       int64   // bytes of every file in the folder
	Created    time.Time
	Note       string // why broken, last fatal error, unclean exit, broken records …
	// Device is where the run last computed, from its last device event;
	// zero before one was written.
	Device event.DeviceChoice
	// Numbering is how the run numbers its steps (an imported run keeps
	// its trainer's numbers): StepsDone counts its steps done with it.
	Numbering StepNumbering
}

// List summarises every run folder directly under root (a folder holding
// config.toml or metrics.jsonl), sorted by creation time, newest last. It
// reads metrics.jsonl and events.jsonl of each run once and takes no lock.
func List(root string) ([]RunSummary, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	var out []RunSummary
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, e.Name())
		if !exists(filepath.Join(dir, ConfigFile)) && !exists(filepath.Join(dir, MetricsFile)) {
			continue
		}
		out = append(out, summarise(dir))
	}
	slices.SortStableFunc(out, func(a, b RunSummary) int { return a.Created.Compare(b.Created) })
	return out, nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func summarise(dir string) RunSummary {
	s := RunSummary{Name: filepath.Base(dir), Dir: dir, LastStep: -1, BestReward: math.NaN()}
	var notes []string
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				s.Size += fi.Size()
			}
		}
		return nil
	})
	cfgInfo, cfgErr := os.Stat(filepath.Join(dir, ConfigFile))
	if cfgErr == nil {
		s.Created = cfgInfo.ModTime()
	}

	// Events: creation time, last session's phases, fatal errors.
	var lastPhase string
	var fatal string
	brokenEvents := 0
	evStats, evErr := ReadLog(filepath.Join(dir, EventsFile), func(_ int, raw []byte) error {
		var e EventRecord
		if json.Unmarshal(raw, &e) != nil {
			brokenEvents++
			return nil
		}
		switch e.Kind {
		case KindCreate:
			s.Created = e.Time
		case KindResume:
			// A session that continues the training starts a new state; one
			// that only reviews or re-scores (Open without Resume) does not.
			lastPhase, fatal = "", ""
		case KindDevice:
			s.Device = e.Device
		case KindPhase:
			lastPhase = e.Name
		case KindError:
			if e.Fatal {
				fatal = e.Error
			}
		}
		return nil
	})
	_ = evStats
	// Metrics: last step and best reward, decoding only what is needed.
	broken := 0
	mStats, mErr := ReadLog(filepath.Join(dir, MetricsFile), func(_ int, raw []byte) error {
		var m struct {
			Step   *int `json:"step"`
			Values struct {
				Reward *jfloat `json:"reward"`
			} `json:"values"`
		}
		if json.Unmarshal(raw, &m) != nil || m.Step == nil {
			broken++
			return nil
		}
		s.LastStep = max(s.LastStep, *m.Step)
		if r := m.Values.Reward; r != nil && !math.IsNaN(float64(*r)) && !(float64(*r) <= s.BestReward) {
			s.BestReward = float64(*r)
		}
		return nil
	})
	if mErr != nil && !errors.Is(mErr, fs.ErrNotExist) {
		notes = append(notes, mErr.Error())
	}
	if evErr != nil && !errors.Is(evErr, fs.ErrNotExist) {
		notes = append(notes, evErr.Error())
	}
	if broken > 0 {
		notes = append(notes, fmt.Sprintf("%d broken metric records", broken))
	}
	if brokenEvents > 0 {
		notes = append(notes, fmt.Sprintf("%d broken event records", brokenEvents))
	}
	if cfgErr == nil {
		if data, err := os.ReadFile(filepath.Join(dir, ConfigFile)); err != nil {
			cfgErr = err
		} else if err := configSyntax(filepath.Join(dir, ConfigFile), data); err != nil {
			notes = append(notes, err.Error())
		} else {
			s.Numbering = configNumbering(dir, data)
		}
	}
	if mStats.PartialBytes > 0 {
		notes = append(notes, "metrics.jsonl ends in a partial line")
	}

	held, holder := probeLock(dir)
	switch {
	case cfgErr != nil:
		s.State = StateBroken
		notes = append([]string{"no readable " + ConfigFile + ": " + cfgErr.Error()}, notes...)
	case held && !engineEnded(lastPhase, fatal):
		// The lock's holder trains it (or has not said otherwise yet).
		s.State = StateRunning
		if lastPhase == "paused" {
			s.State = StatePaused
		}
		if holder.PID != 0 {
			notes = append(notes, fmt.Sprintf("pid %d", holder.PID))
		}
	default:
		// Not held, or held by a process whose engine has ended (a
		// workbench that keeps it open for review): its training state.
		switch {
		case fatal != "":
			s.State = StateFailed
			notes = append(notes, "fatal: "+fatal)
		case lastPhase == "done":
			s.State = StateFinished
		default:
			s.State = StateStopped
		}
		switch {
		case held && holder.PID != 0:
			notes = append(notes, fmt.Sprintf("open in pid %d, no engine running", holder.PID))
		case held:
			notes = append(notes, "open in another process, no engine running")
		case holder.PID != 0:
			notes = append(notes, fmt.Sprintf("unclean exit of pid %d", holder.PID))
		}
	}
	for i, n := range notes {
		if i > 0 {
			s.Note += "; "
		}
		s.Note += n
	}
	return s
}

// probeLock reports whether a live process holds the run's lock, without
// taking it for longer than the probe (a shared flock that conflicts only
// with the writer's exclusive one), and what run.lock says.
func probeLock(dir string) (held bool, info LockInfo) {
	f, err := os.Open(filepath.Join(dir, LockFileName))
	if err != nil {
		return false, info
	}
	defer f.Close()
	info, _ = readLockInfo(f)
	if err := flockRetry(f, syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		return errors.Is(err, syscall.EWOULDBLOCK), info
	}
	flockRetry(f, syscall.LOCK_UN)
	return false, info
}
