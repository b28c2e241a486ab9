package ui

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/sessions/lambda"
)

// runKind says what wrote a folder on the Runs screen.
type runKind int

const (
	kindRun      runKind = iota // one of our run folders (config.toml, metrics.jsonl …)
	kindOfficial                // another trainer's run folder: the official RLT trainer's, TRL's, verl's, NeMo-RL's
)

// runOrigin says why the Runs screen lists a row: one reason each, so
// that no row is both followed and open from elsewhere, or neither while
// listed as one (the rows of a followed folder and the open run's are named
// by their paths; only a followed folder's are unfollowed).
type runOrigin int

const (
	originRunsFolder runOrigin = iota // a run folder under the runs folder
	originFollowed                    // a followed folder, or one of the runs in it (f, x unfollows)
	// originOpen: the run open here, listed though it is neither under
	// the runs folder nor followed (rlt open DIR of a run elsewhere), so
	// that the Runs screen, where r resumes it, shows it; it leaves the
	// list when another run is opened.
	originOpen
)

// runRow is one line of the Runs screen.
type runRow struct {
	Name     string // folder name, or the path for followed folders
	Dir      string
	Kind     runKind
	State    string
	LastStep int     // the last metrics record's step, as recorded; -1: none
	Best     float64 // best mean reward, NaN: none
	Size     int64
	Created  time.Time // zero: unknown
	Note     string
	Origin   runOrigin
	Device   string // where the run last computed (event.DeviceChoice.Label); "" unknown
	// Lambda is the run's λ, r_KL's weight (sessions.RunSummary.Settings):
	// its best reward compares across runs of one λ alone. Not Known for
	// a followed trainer's folder.
	Lambda lambda.Lambda
	// Numbering is how the run numbers its steps, which sessions knows
	// from its origin: the STEPS column is Numbering.StepsDone(LastStep).
	Numbering sessions.StepNumbering
	// Planned is how many steps the run plans (0: open-ended or not
	// known), what the STEPS column counts against as the header does: its
	// config.toml's (sessions.RunSummary.PlannedSteps), or an official
	// trainer's max_steps.
	Planned int
	// Holder is the live process that holds the run (its lock) and why
	// (sessions.RunSummary.Holder): one held is not resumed here.
	Holder sessions.Holder
	// LockRefused is why an open to write the run refuses its run.lock
	// (sessions.RunSummary.LockRefused): r on it is refused so.
	LockRefused *sessions.LockUnknownError
	// Progress is where a running run's engine is within the step it has
	// not recorded yet (sessions.RunSummary.Progress; for the run open
	// here, the header's: runsScreen.followOpen); nil when none is known.
	Progress *event.Progress
	// Resumable is whether r would resume the run from a checkpoint
	// (sessions.RunSummary.Resumable): the key bar offers r by it. False
	// for an official trainer's run and a missing folder.
	Resumable bool
}

// stepAt is where the run's step is as of now, in the header's words
// (event.Progress.StepLine), as rlt sessions prints it; "" when no
// progress is known.
func (r runRow) stepAt(now time.Time) string {
	if r.Progress == nil {
		return ""
	}
	return r.Progress.StepLine(now)
}

// steps is the STEPS column's text, the count the header shows for the
// run once open, as rlt sessions says it (sessions.StepsCell).
func (r runRow) steps() string {
	return sessions.StepsCell(r.Numbering, r.LastStep, r.Planned)
}

// listRuns summarises the run folders under root and the followed
// folders (a missing root is an empty list, not an error) with l, which
// keeps what it read for the next listing, and then the run folder open,
// the run open here ("": none), where neither lists it. Problems with
// followed folders become rows of state "missing" or notes, so the list
// always shows what the user asked to follow.
func listRuns(l *sessions.Lister, root string, follow []string, open string) ([]runRow, error) {
	var rows []runRow
	var err error
	list, lerr := l.List(root)
	if lerr != nil && !errors.Is(lerr, fs.ErrNotExist) {
		err = lerr
	}
	listed := []string{root} // the roots l listed this time, as l was given them
	seen := map[string]bool{}
	for _, s := range list {
		rows = append(rows, fromSummary(s, s.Name, originRunsFolder))
		seen[absPath(s.Dir)] = true
	}
	var trainers []string // the trainers' folders l read this time (officialRow)
	for _, f := range follow {
		fr, froot, ferr := followRows(l, f)
		if froot != "" {
			listed = append(listed, froot)
		}
		if ferr != nil {
			note := ferr.Error()
			if errors.Is(ferr, errNotThere) {
				note += ": put it back, or x stops following it (a follows it where it is now)"
			}
			rows = append(rows, runRow{Name: f, Dir: f, State: "missing", LastStep: -1, Best: math.NaN(), Note: note, Origin: originFollowed})
			continue
		}
		for _, r := range fr {
			if r.Kind == kindOfficial {
				trainers = append(trainers, r.Dir)
			}
			if a := absPath(r.Dir); !seen[a] {
				seen[a] = true
				rows = append(rows, r)
			}
		}
	}
	if open != "" && !seen[absPath(open)] {
		// Opened from elsewhere (rlt open DIR): listed as a followed
		// run folder is, marked as the open one; a folder gone since
		// adds no row (the header says what is open).
		fr, froot, ferr := readRows(l, open, originOpen)
		if froot != "" {
			listed = append(listed, froot)
		}
		if ferr == nil {
			rows = append(rows, fr...)
		}
	}
	// What l read of a folder no longer followed, or deleted, goes: a
	// trainer's, and the run folders of a root no longer listed.
	l.ForgetTrainersExcept(trainers)
	l.ForgetRootsExcept(listed)
	return rows, err
}

func fromSummary(s sessions.RunSummary, name string, origin runOrigin) runRow {
	return runRow{Name: name, Dir: s.Dir, Kind: kindRun, State: string(s.State), LastStep: s.LastStep,
		Best: s.BestReward, Size: s.Size, Created: s.Created, Note: s.Note, Origin: origin,
		Device: s.Device.Label(), Lambda: lambda.Of(s.Settings), Numbering: s.Numbering, Planned: s.PlannedSteps, Holder: s.Holder,
		LockRefused: s.LockRefused, Progress: s.Progress, Resumable: s.Resumable}
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return filepath.Clean(p)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// isRunFolder: one of ours has config.toml or metrics.jsonl.
func isRunFolder(dir string) bool {
	return exists(filepath.Join(dir, sessions.ConfigFile)) || exists(filepath.Join(dir, sessions.MetricsFile))
}

// officialState finds the official trainer's trainer_state.json ("" if none).
func officialState(dir string) string { return sessions.OfficialTrainerState(dir) }

// isOfficialFolder: a run folder of the official RLT trainer or of another
// trainer the workbench imports and follows (TRL, verl, NeMo-RL).
func isOfficialFolder(dir string) bool { return sessions.IsTrainerFolder(dir) }

// listedIn says why the runs folder root already lists path, the runs
// folder itself or one of the run folders directly in it (those
// sessions.Lister.List lists: with config.toml or metrics.jsonl), so that
// following it would add nothing: "" when it does not. Paths are
// compared as listRuns tells rows apart (absPath).
func listedIn(root, path string) string {
	a, r := absPath(path), absPath(root)
	switch {
	case a == r:
		return "it is the runs folder itself, whose runs are already listed here"
	case filepath.Dir(a) == r && isRunFolder(a):
		return "it is already listed under the runs folder " + root
	}
	return ""
}

// followRows are the rows of a followed path: a run folder of ours, an
// official trainer's run folder, or a folder holding run folders. l keeps
// what was read for the next listing; root is the folder l listed for it
// as l was given it ("" none: a trainer's folder, or a path not there),
// which the next listing names to keep it (sessions.Lister.ForgetRootsExcept).
func followRows(l *sessions.Lister, path string) (rows []runRow, root string, err error) {
	return readRows(l, path, originFollowed)
}

// errNotThere is readRows's error for a path that does not exist, which
// its callers follow with what to do where it is said.
var errNotThere = errors.New("it does not exist")

// readRows are followRows's rows of path, listed for origin: followed, or
// the run open here from elsewhere (listed the same way, and marked so).
func readRows(l *sessions.Lister, path string, origin runOrigin) (rows []runRow, root string, err error) {
	st, err := os.Stat(path)
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, "", fmt.Errorf("follow %s: %w", path, errNotThere)
	case errors.As(err, &pe): // the path once, not again as stat's
		return nil, "", fmt.Errorf("follow %s: %w", path, pe.Err)
	case err != nil:
		return nil, "", fmt.Errorf("follow %s: %w", path, err)
	}
	if !st.IsDir() {
		return nil, "", fmt.Errorf("follow %s: not a folder", path)
	}
	switch {
	case isRunFolder(path):
		// Read alone, kept under the folder holding it (its root).
		root = filepath.Dir(absPath(path))
		s, err := l.Summarize(path)
		if err != nil {
			return nil, root, fmt.Errorf("follow %s: %w", path, err)
		}
		return []runRow{fromSummary(s, path, origin)}, root, nil
	case isOfficialFolder(path):
		return []runRow{officialRow(l, path, origin)}, "", nil
	}
	list, err := l.List(path)
	if err != nil {
		return nil, path, fmt.Errorf("follow %s: %w", path, err)
	}
	if len(list) == 0 {
		return nil, path, fmt.Errorf("follow %s: not a run folder, a trainer's run (official RLT, TRL, verl, NeMo-RL), or a folder of runs", path)
	}
	rows = make([]runRow, 0, len(list))
	for _, s := range list {
		rows = append(rows, fromSummary(s, filepath.Join(path, s.Name), origin))
	}
	return rows, path, nil
}

// officialRow summarises a trainer's folder: the official trainer's from
// its trainer_state.json (steps and rewards) and its completion files,
// another's (TRL, verl, NeMo-RL) from its metrics, which l reads again
// only when they changed.
func officialRow(l *sessions.Lister, dir string, origin runOrigin) runRow {
	format, _ := sessions.DetectFormat(dir)
	r := runRow{Name: dir, Dir: dir, Kind: kindOfficial, State: "official", LastStep: -1, Best: math.NaN(), Origin: origin,
		Numbering: sessions.ImportNumbering(format)}
	if format != sessions.ImportOfficial {
		// Another trainer's folder: its steps as an import counts them
		// (the header's once opened), against a plan only where its files
		// state one (TRL's max_steps).
		ts := l.TrainerSteps(dir, format)
		r.State = format
		r.LastStep, r.Planned, r.Best = ts.LastStep, ts.Planned, ts.BestReward
		notes := []string{sessions.FormatName(format) + " run folder, imported and followed when opened"}
		if ts.Problem != "" {
			notes = append(notes, ts.Problem)
		}
		r.Note = strings.Join(notes, "; ")
		r.Size = sessions.FolderSize(dir)
		return r
	}
	var notes []string
	if p := officialState(dir); p != "" {
		ms, rep, err := sessions.ReadTrainerState(p)
		if err != nil {
			notes = append(notes, err.Error())
		}
		r.Planned = rep.MaxSteps // what an import records as its planned_steps
		for _, m := range ms {
			r.LastStep = max(r.LastStep, m.Step)
			if v, ok := m.Values["reward"]; ok && !math.IsNaN(v) && !(v <= r.Best) {
				r.Best = v
			}
		}
	} else {
		notes = append(notes, "no trainer_state.json")
	}
	csvs, _ := filepath.Glob(filepath.Join(dir, "stored_completions", "*.csv"))
	notes = append(notes, fmt.Sprintf("official RLT trainer run, %d completion files", len(csvs)))
	r.Size = sessions.FolderSize(dir)
	r.Note = strings.Join(notes, "; ")
	return r
}

// expandHome turns a leading ~/ into the home folder, as a shell would.
func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, strings.TrimPrefix(p, "~"))
		}
	}
	return p
}
