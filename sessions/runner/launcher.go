package runner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/run"
	"github.com/rlt-workbench/rlt/engine/runconfig"
	"github.com/rlt-workbench/rlt/sessions"
)

// Launcher is the workbench's launcher (ui.Launcher): it starts and
// resumes runs with the engine in this process and opens runs read-only,
// so the UI never wires an engine itself.
type Launcher struct {
	ctx    context.Context // every engine stops when it is cancelled (the workbench's never is: a signal quits it as q does)
	runs   string          // folder of new run folders
	models string          // folder of the embedded default models

	// TrainerFormat names the trainer of a folder that is not one of
	// ours ("rlt", "trl", "verl", "nemo-rl"; "" detects it), for
	// OpenReadOnly and OpenForReview (rlt open --format).
	TrainerFormat string

	// Device and Matmul, where set (the command's --device and --matmul),
	// are where the runs this launcher starts and resumes compute and in
	// what precision: a new run's configuration shows them, and a resumed
	// run takes them over its config.toml's, as `rlt run --resume
	// --device cpu` does, so a workbench started with --device cpu moves a
	// run off a failed GPU.
	Device, Matmul string

	// Load, where set, ends the models' loads of the runs this launcher
	// starts and resumes (Start's loadCtx; nil: the launcher's context).
	// The commands end it on their first stop signal, on which the
	// workbench quits, and as the workbench quits or leaves otherwise, q
	// included (ui.Options.EndLoads): a load from the Runs screen then
	// stops at once, where it held the exit, off the screen, until it had
	// ended (a minute for a 7B model). Its run folder is among Written,
	// recorded stopped before its first step (a resumed one as it was).
	// Ended before the load began (the checks, Create, OpenForResume), the
	// launch leaves nothing: no folder, the resumed run as it was, its
	// session not begun (a *sessions.LaunchStoppedError).
	Load context.Context

	mu   sync.Mutex
	dirs []string // run folders this process wrote, in order
}

// NewLauncher makes a launcher whose new runs go under runs and start from
// the embedded models in models; every engine it starts stops when ctx is
// cancelled.
func NewLauncher(ctx context.Context, runs, models string) *Launcher {
	return &Launcher{ctx: ctx, runs: runs, models: models}
}

// Wrote records that this process wrote the run folder dir.
func (l *Launcher) Wrote(dir string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !slices.Contains(l.dirs, dir) {
		l.dirs = append(l.dirs, dir)
	}
}

// Written lists the run folders this process wrote, in order.
func (l *Launcher) Written() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.dirs)
}

// NewConfig implements ui.Launcher: the run on the embedded models.
func (l *Launcher) NewConfig() ([]byte, error) {
	cfg, _ := l.overrides().over(DefaultConfig(l.models, 0))
	return sessions.EncodeTOML(cfg)
}

// decode reads an edited configuration over the defaults (a key left out
// keeps its default), checks it (its data read, for Start to run on) and
// checks that the model folders are there; every problem is a
// *sessions.ConfigError naming its line, or none (AtItsLine false), in the
// words rlt run --config prints (fileProblems): the editor shows the one
// and the other alike.
func (l *Launcher) decode(data []byte) (run.Checked, error) {
	cfg := DefaultConfig(l.models, 0)
	decodeErr := sessions.DecodeStrict(sessions.ConfigFile, data, &cfg)
	if decodeErr != nil && !sessions.OnlyKeyProblems(decodeErr) {
		return run.Checked{}, decodeErr
	}
	// Each problem under its own line: an unknown key, a mistyped value and
	// a value out of range at once.
	checked, checkErr := run.Check(cfg)
	if err := errors.Join(decodeErr, checkErr); err != nil {
		return run.Checked{}, errors.Join(fileProblems(cfg, sessions.ConfigFile, data, err, sessions.UnsetIsDefault, nil)...)
	}
	return checked, nil
}

// Check implements ui.Launcher.
func (l *Launcher) Check(data []byte) error {
	_, err := l.decode(data)
	return err
}

// Start implements ui.Launcher: a new run folder under the runs folder,
// its config.toml the resolved configuration, the engine started on it.
func (l *Launcher) Start(data []byte) (*sessions.Session, error) {
	checked, err := l.decode(data)
	if err != nil {
		return nil, err
	}
	// Refused here on a disk too full for its checkpoints, with no folder
	// made, rather than at its first checkpoint, a whole step later.
	if err := CheckRoom(l.runs, checked.Config()); err != nil {
		return nil, err
	}
	// A load context ended during the checks above (a stop signal, the
	// workbench's quit: Load) makes no folder, and one that ended while
	// the folder was made has it removed again (CreateUnlessStopped): its
	// load would stop at its first look, leaving a run folder stopped
	// before its first step that nobody asked to keep.
	rec, checked, err := CreateUnlessStopped(l.loadCtx(), l.runs, checked, sessions.ProcessWorkbench)
	if err != nil {
		return nil, err
	}
	h, err := Start(l.loadCtx(), l.ctx, rec, checked, rec, Fresh)
	if stopped := (*sessions.LaunchStoppedError)(nil); errors.As(err, &stopped) {
		return nil, err // removed again, said as a stop a moment sooner (CreateUnlessStopped's)
	}
	if err != nil {
		l.wroteStopped(rec.Dir(), err)
		return nil, sessions.Refused("start", rec.Dir(), err)
	}
	l.Wrote(rec.Dir())
	return h.Session(checked.Config().Steps, "saved "+filepath.Join(rec.Dir(), sessions.ConfigFile)+" and started the run"), nil
}

// Resume implements ui.Launcher: the run continues from its latest
// checkpoint for the steps its config.toml asks for.
func (l *Launcher) Resume(dir string) (*sessions.Session, error) {
	// As Start's: a load context ended before the resume (a stop signal,
	// the workbench's quit: Load) neither takes the run's lock nor begins
	// its session, where its load would stop at its first look and the
	// command's exit would say the run as a launch it stopped; one that
	// ends while the resume's checks run begins none either
	// (OpenForResumeUnlessStopped).
	r, err := OpenForResumeUnlessStopped(l.loadCtx(), dir, l.overrides(), sessions.ProcessWorkbench)
	// Stopped so, the run is as it was: said with how it goes on
	// (sessions.ContinueLine), as rlt run --resume stopped in its checks
	// says it; the line ended at "as it was", no way on, where the
	// workbench had quit.
	if stopped := (*sessions.LaunchStoppedError)(nil); errors.As(err, &stopped) {
		err = fmt.Errorf("%w; %s", err, sessions.ContinueLine(dir))
	}
	if err != nil {
		errs := []error{err}
		for _, n := range r.Notes {
			errs = append(errs, errors.New(n))
		}
		return nil, errors.Join(errs...)
	}
	notes := r.Notes
	cfg := r.Checked.Config()
	if was := r.Recorded.Device; cfg.Device != was {
		notes = append(notes, fmt.Sprintf("computing on %s (--device), not on its configuration's %s", cfg.Device, orAuto(was)))
	}
	h, err := Start(l.loadCtx(), l.ctx, r.Rec, r.Checked, r.Rec, r.Restore)
	if err != nil {
		l.wroteStopped(dir, err)
		return nil, sessions.Refused("resume", dir, err)
	}
	l.Wrote(dir)
	notes = append(notes, fmt.Sprintf("resumed %s after step %d", filepath.Base(dir), r.Ck.Step))
	return h.Session(cfg.Steps, notes...), nil
}

// unmake ends rec, the run Create has just made for a launch whose load
// context then ended (stop: its error), and removes what the create made
// (sessions.Run.Unmake): the launch leaves nothing, as one stopped before
// Create does. Only what the create made: a folder that was there as
// Create made it (another process's, the user's, that took the name
// between NewRunDir's look and Create's) is left as it was found, as a
// create that fails leaves it; it was removed whole. A folder that cannot
// be removed is said with what it holds and how to remove it.
func unmake(rec *sessions.Run, stop error) error {
	dir := rec.Dir()
	if err := rec.Unmake(); err != nil {
		return sessions.Refusedf("start", dir, "stopped as its run folder was made, which could not be removed (%v): it holds a run stopped before its first step, with no checkpoint; remove it: rm -r %s: %w",
			err, sessions.ShellQuote(dir), stop)
	}
	return &sessions.LaunchStoppedError{Removed: true, Err: stop}
}

// loadCtx is what ends the loads of the runs it starts and resumes: Load,
// else its context.
func (l *Launcher) loadCtx() context.Context {
	if l.Load != nil {
		return l.Load
	}
	return l.ctx
}

// wroteStopped records the run folder dir as written (Wrote) where err,
// Start's, says its load was stopped (a *run.LoadStopped): the folder is
// recorded stopped before its first step, and the command's exit says it
// with how it goes on, as of the runs that ran.
func (l *Launcher) wroteStopped(dir string, err error) {
	if stopped := (*run.LoadStopped)(nil); errors.As(err, &stopped) {
		l.Wrote(dir)
	}
}

// overrides are the launcher's Device and Matmul (its command's --device
// and --matmul), where set, to put over a run's configuration.
func (l *Launcher) overrides() Overrides {
	return Overrides{Device: l.Device, Matmul: l.Matmul}
}

// orAuto names a configuration's device, "" being auto.
func orAuto(device string) string {
	if device == "" {
		return "auto"
	}
	return device
}

// OpenReadOnly implements ui.Launcher: one of our run folders is followed
// without its lock (another process may be writing it); a trainer's folder
// (official RLT, TRL, verl, NeMo-RL) is imported and followed
// (sessions.OpenTrainerRun, with TrainerFormat). What
// is wrong with the folder does not stop it from opening: a config.toml
// that does not decode is kept as a problem (with its line), broken
// records and checkpoints passed over are in the store's issues; the
// workbench lists them all (!) and shows the rest.
func (l *Launcher) OpenReadOnly(dir string) (*sessions.Session, error) {
	if _, err := os.Stat(filepath.Join(dir, sessions.ConfigFile)); err != nil {
		if _, oerr := os.Stat(dir); errors.Is(oerr, fs.ErrNotExist) {
			return nil, sessions.Refusedf("open", dir, "no such folder: give a run folder (%s sessions lists those under runs/), or a trainer's run folder to follow", sessions.Program())
		} else if oerr != nil {
			return nil, oerr
		}
		// A trainer's folder opens as the trainer's, though it may hold a
		// run folder too (one rlt import made inside it): asked first, as
		// it costs a few stats where listing a folder of runs reads them
		// all. A folder of runs (--runs DIR's) says which to open.
		if l.TrainerFormat != "" || sessions.IsTrainerFolder(dir) {
			return sessions.OpenTrainerRun(l.ctx, dir, l.TrainerFormat)
		}
		// A run folder of rlt's that lost its config.toml, its records
		// kept, opens read-only (sessions.OpenReadOnly), the file's loss
		// an issue saying what to do: it was taken for another trainer's
		// and refused as "a workbench run folder, not another trainer's".
		if sessions.HasRecords(dir) {
			rec, err := sessions.OpenReadOnly(dir)
			if err != nil {
				return nil, err
			}
			return describe(&sessions.Session{Run: rec, ReadOnly: true, Close: rec.Close}), nil
		}
		if runs, lerr := sessions.List(dir); lerr == nil && len(runs) > 0 {
			newest := runs[len(runs)-1].Dir
			what := fmt.Sprintf("%d run folders", len(runs))
			if len(runs) == 1 {
				what = "one run folder"
			}
			return nil, sessions.Refusedf("open", dir, "a folder holding %s, not a run folder: open one of them (the newest: "+sessions.Program()+" open %s); "+sessions.Program()+" sessions --runs %s lists them", what, sessions.ShellQuote(newest), sessions.ShellQuote(dir))
		}
		if err := notARunFolder(dir); l.TrainerFormat == "" && err != nil {
			return nil, err
		}
		return sessions.OpenTrainerRun(l.ctx, dir, l.TrainerFormat)
	}
	rec, err := sessions.OpenReadOnly(dir)
	if err != nil {
		return nil, err
	}
	return describe(&sessions.Session{Run: rec, ReadOnly: true, Close: rec.Close}), nil
}

// notARunFolder says why dir, a folder that is no trainer's
// (sessions.IsTrainerFolder) and holds no run folders, is no run folder:
// first what one of rlt's holds, the folder most often meant (an empty
// folder, a typo's neighbour), then what a trainer's does
// (sessions.DetectFormat's words); only the trainers' was said, as if rlt
// had looked for nothing of its own. nil for a folder with one of rlt's
// files (a run folder missing the other is said as such when opened), a
// model folder and a file, which DetectFormat says for what they are.
func notARunFolder(dir string) error {
	has := func(pattern string) bool {
		m, _ := filepath.Glob(filepath.Join(dir, pattern))
		return len(m) > 0
	}
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() || has(sessions.ConfigFile) || has(sessions.MetricsFile) ||
		has(hf.ConfigFile) && (has("*.safetensors") || has(hf.IndexFile)) {
		return nil
	}
	_, trainer := sessions.DetectFormat(dir)
	if trainer == nil { // a trainer's after all
		return nil
	}
	what := "holds neither"
	if entries, err := os.ReadDir(dir); err == nil && len(entries) == 0 {
		what = "is empty"
	}
	return sessions.Refusedf("open", dir, "not a run folder: a run folder of rlt's holds %s and %s ("+sessions.Program()+" run writes them in a new folder under runs/), and this one %s; give a run folder ("+sessions.Program()+" sessions lists those under runs/), or a trainer's to follow, which this one is not either: %v",
		sessions.ConfigFile, sessions.MetricsFile, what, trainer)
}

// OpenForReview opens any run folder without training it: finished,
// stopped, imported. When no other process holds the folder it takes the
// lock, so reviews, flags and exports are written; when one does (an
// engine training it, another workbench), it opens read-only and says who
// holds it; so too where the lock can be neither taken nor found held
// (sessions.LockUnknownError), saying why. A trainer's folder opens as in
// OpenReadOnly.
func (l *Launcher) OpenForReview(dir string) (*sessions.Session, error) {
	if _, err := os.Stat(filepath.Join(dir, sessions.ConfigFile)); err != nil {
		return l.OpenReadOnly(dir)
	}
	// Deferred: opening to review writes nothing (its open event waits for
	// its first review, run.lock is left as found if none is made), so a
	// run looked at is a run unchanged.
	rec, err := sessions.OpenWith(dir, nil, sessions.Options{Intent: sessions.IntentReview, DeferOpen: true})
	var (
		locked  *sessions.LockedError
		unknown *sessions.LockUnknownError
	)
	switch {
	case errors.As(err, &locked):
		s, rerr := l.OpenReadOnly(dir)
		if rerr != nil {
			return nil, rerr
		}
		s.Notes = append(s.Notes, "read-only: "+locked.Error()+"; "+reviewWhere(s.Run.Holder()))
		return s, nil
	case errors.Is(err, sessions.ErrUnwritable):
		s, rerr := l.OpenReadOnly(dir)
		if rerr != nil {
			return nil, rerr
		}
		// A full disk's refusal says to free room and open the run again:
		// copying the run elsewhere, a read-only folder's way, frees
		// nothing there. What it says to do meanwhile, open it read-only,
		// is what this open did, and the note begins by saying so.
		var full *sessions.FullDiskError
		if errors.As(err, &full) {
			said := *full
			said.Meanwhile = ""
			s.Notes = append(s.Notes, "read-only: reviews and exports cannot be saved in it: "+said.Error())
		} else {
			s.Notes = append(s.Notes, "read-only: "+sessions.ErrUnwritable.Error()+"; reviews and exports cannot be saved in it (copy it where you can write)")
		}
		return s, nil
	case errors.As(err, &unknown):
		// Its lock can be neither taken nor found held: another process
		// may write it, so it is read, writing nothing, as where one
		// holds it.
		s, rerr := l.OpenReadOnly(dir)
		if rerr != nil {
			return nil, rerr
		}
		s.Notes = append(s.Notes, "read-only: "+unknown.Why()+"; reviews and exports cannot be saved in it until its lock can be taken: "+unknown.Fix())
		return s, nil
	case err != nil:
		return nil, err
	}
	return describe(&sessions.Session{Run: rec, Close: rec.Close,
		Notes: []string{"opened for review: no engine trains it here"}}), nil // the workbench says how it resumes
}

// reviewWhere says where a run held by another process can be reviewed,
// by what that process does with it: a workbench reviewing it, keeping it
// open or having paused its training reviews it itself; rlt score --write
// has no review. A training is a workbench's, reviewed there, or a
// headless rlt run's, which has none: it is reviewed here once it has
// finished, or stopped sooner as Holder.StopAdvice says. run.lock says
// which (Holder.Process), and on what host (a run folder on a shared
// filesystem); one written before it said the process leaves it open.
// Here, enter on it in the Runs screen opens it to review once the holder
// has closed it. It names no pid nor host: the lock's refusal it follows
// (LockedError) names them, in the words the Runs screen does, as a
// refused open's does.
func reviewWhere(h sessions.Holder) string {
	const here = "here once it has closed the run (enter on it in the Runs screen)"
	switch h.Doing {
	case sessions.HolderReviewing, sessions.HolderOpen, sessions.HolderPaused:
		return "review it in that workbench, or " + here
	case sessions.HolderRescoring:
		return sessions.Program() + " score --write holds it while it writes re-scores: review it " + here
	case sessions.HolderTraining, sessions.HolderResuming:
		doing := "training"
		if h.Doing == sessions.HolderResuming {
			doing = "resuming"
		}
		switch h.Process {
		case sessions.ProcessWorkbench:
			return fmt.Sprintf("%s in a workbench: review it there, or %s", doing, here)
		case sessions.ProcessHeadless:
			return fmt.Sprintf("%s headless: review it here once it has finished (enter on it in the Runs screen); %s",
				doing, h.StopAdvice())
		}
		return "review it in the workbench that trains it, if one does (a headless " + sessions.Program() + " run has none), or " + here
	}
	return "review it here once that process has closed the run (enter on it in the Runs screen)"
}

// unknownKeysNote is the note of a run whose config.toml holds keys its
// settings have no place for (sessions.UnknownKeys), passed over.
const unknownKeysNote = sessions.ConfigFile + " holds keys this version does not know: ignored, its other settings shown"

// describe fills in what an opened run's config.toml says (its planned
// steps, or where an import came from and the steps its trainer planned; a
// config that does not decode is a problem shown beside the run) and lists
// the checkpoints passed over.
func describe(s *sessions.Session) *sessions.Session {
	rec := s.Run
	var cfg runconfig.Config
	if err := rec.DecodeConfig(&cfg); err == nil {
		s.Steps = cfg.Steps
	} else if imp, ok := sessions.ImportedFrom(rec.Dir()); ok {
		// Read leniently, as rlt score --run reads it: the models and
		// [prompts] a user adds to score it with are its settings; a key
		// of no import is said as the CLI says it (sessions.UnknownKeys).
		// A strict read of [import] alone took an import with models for
		// a training configuration that does not decode.
		s.Steps = imp.PlannedSteps
		s.Notes = append(s.Notes, fmt.Sprintf("imported from %s (%s)", imp.Source, imp.Format))
		// A value of the wrong type (teacher = 3) is said too, as rlt
		// score --run refuses it (Run.ConfigTypes): the lenient read
		// passes over it, and the strict read that said it is gone.
		if err := rec.ConfigTypes(); err != nil {
			s.Problems = append(s.Problems, err)
		}
		unknown := sessions.UnknownKeys(filepath.Join(rec.Dir(), sessions.ConfigFile), rec.ConfigText())
		for _, ce := range unknown {
			s.Problems = append(s.Problems, ce)
		}
		if len(unknown) > 0 {
			// Said ignored, as a run of ours' are below and rlt score
			// --run says each: the problems alone did not say whether
			// the keys were read past or refused.
			s.Notes = append(s.Notes, unknownKeysNote)
		}
	} else if _, serr := os.Stat(filepath.Join(rec.Dir(), sessions.ConfigFile)); errors.Is(serr, fs.ErrNotExist) {
		// Lost (sessions.HasRecords): the store's issue says what to do.
		s.Notes = append(s.Notes, sessions.ConfigFile+" is missing: shown without its settings")
	} else if sessions.OnlyUnknownKeys(err) {
		// Passed over, its other settings shown, as rlt score --run reads
		// it (sessions.UnknownKeys); the problems name each key.
		s.Steps = cfg.Steps
		s.Problems = append(s.Problems, err)
		s.Notes = append(s.Notes, unknownKeysNote+" (resuming refuses them)")
	} else {
		s.Problems = append(s.Problems, err)
		s.Notes = append(s.Notes, sessions.ConfigFile+" does not decode: shown without its settings")
	}
	// Checkpoints passed over (unfinished, truncated, corrupt) become the
	// store's issues; having none at all is no problem (an import, a run
	// stopped before its first).
	rec.LatestCheckpoint()
	return s
}
