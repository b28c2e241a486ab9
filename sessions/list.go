package sessions

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rlt-workbench/rlt/engine/durable"
	"github.com/rlt-workbench/rlt/engine/event"
)

// RunState is what List says about a run.
type RunState string

// Run states.
const (
	StateRunning  RunState = "running"  // a live process holds run.lock and its engine has not ended
	StatePaused   RunState = "paused"   // held, and its engine's last phase is "paused"
	StateResuming RunState = "resuming" // a live process holds run.lock, opened to resume it, and is loading its engine
	StateFinished RunState = "finished" // the engine reported the "done" phase since the last resume
	StateStopped  RunState = "stopped"  // stopped, closed, interrupted or crashed before "done"
	StateFailed   RunState = "failed"   // a fatal error ended the engine since the last resume
	StateBroken   RunState = "broken"   // not readable as a run (config.toml missing or unreadable)
	// StateUnknown: run.lock could not be probed (probeLock's err: a
	// filesystem without locks, NFS whose lock manager is not reached),
	// and the session its events leave open would make the run running,
	// paused or resuming were it to hold the lock, where gone it leaves
	// the run stopped, finished or failed: its note says which two, and
	// why the probe could not tell (runState). Such a run is not resumed
	// as if free: a resume takes the lock, which fails as the probe did,
	// or finds it held.
	StateUnknown RunState = "unknown"
)

// LockNotKnown begins the part of a run's note (RunSummary.Note) that
// says its run.lock could not be probed, the probe's error after it
// (runState): whether a process holds the run is not known.
const LockNotKnown = "whether a process holds it now is not known: "

// Holder is the live process that holds a run's lock (run.lock), and
// what it does with the run: while one does, no other process resumes
// the run or opens it to review (its lock refuses them), whatever its
// state. runState says it, by the rule that says the state.
type Holder struct {
	PID   int    // its process (0: run.lock names none)
	Doing string // what it does with the run ("training it", "reviewing it" …); "": no live process holds it
	// Process is what kind of process it is, as run.lock says
	// (LockInfo.Process): ProcessWorkbench or ProcessHeadless where it
	// trains the run; "" where it does not say (a review, rlt score, or a
	// run.lock written before it said).
	Process string
	// Host is the host it runs on, as run.lock says (LockInfo.Host; "":
	// not said): one other than this process's (Elsewhere) holds a run
	// folder on a shared filesystem, and its pid says nothing here.
	Host string
	// OS is its system, as run.lock says (LockInfo.OS; "": not said),
	// which says how its training is stopped (StopAdvice).
	OS string
}

// What a Holder does with the run.
const (
	HolderTraining  = "training it"
	HolderPaused    = "training it, paused"
	HolderResuming  = "loading its engine to resume it"
	HolderReviewing = "reviewing it"
	HolderRescoring = "writing re-scores into it"
	// HolderOpen: it keeps the run open with no engine running, not
	// opened to review or re-score it: its engine ended (a workbench
	// keeps the run it trained open after S, done or a failure), or its
	// open event predates saying why.
	HolderOpen = "keeping it open with no engine"
)

// Held reports whether a live process holds the run: no other may resume
// it or open it to review, and a view of it is read-only.
func (h Holder) Held() bool { return h.Doing != "" }

// Here reports whether the process that holds the run is this very one:
// the listing's note then says so in words, "open here, training it"
// (runState), where it names any other by its pid.
func (h Holder) Here() bool { return h.Held() && heldHere(LockInfo{PID: h.PID, Host: h.Host}) }

// String says who holds the run and why: "pid 4242, reviewing it", of a
// training, where run.lock says, in what: "pid 4242, training it headless
// (no workbench)", and of a holder on another host, which: "pid 4242 on
// host gpu7, …".
func (h Holder) String() string {
	who := h.who(thisHost())
	if who == "" {
		return h.what()
	}
	return who + ", " + h.what()
}

// what says what h does with the run, and of a training, where run.lock
// says, in what: "training it headless (no workbench)". A LockedError
// names the pid and host itself.
func (h Holder) what() string {
	doing := h.Doing
	if h.Doing == HolderTraining || h.Doing == HolderResuming {
		switch h.Process {
		case ProcessWorkbench:
			doing += " in a workbench"
		case ProcessHeadless:
			doing += " headless (no workbench)"
		}
	}
	return doing
}

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
	LastStep   int     // the highest step it has done, as recorded (countSteps: of its metric records that stand, or its checkpoints where those fall short); -1: none
	BestReward float64 // best mean reward ("reward" metric) of any step whose records stand (as LastStep's); NaN without one
	Size       int64   // bytes of every file in the folder
	Created    time.Time
	Note       string // why broken, last fatal error, unclean exit, broken records …
	// Fault is what failed, of its last fatal error (in Note) since its
	// last resume: event.FaultDevice where its device did; "" without one.
	Fault event.Fault
	// Device is where the run last computed, from its last device event;
	// zero before one was written.
	Device event.DeviceChoice
	// Numbering is how the run numbers its steps (an imported run keeps
	// its trainer's numbers): StepsDone counts its steps done with it.
	Numbering StepNumbering
	// PlannedSteps is how many steps its config.toml plans (configPlan;
	// 0: open-ended or not stated), the total StepsLabel counts against.
	PlannedSteps int
	// Settings are its config.toml's (ParseSettings; not Known where it
	// does not decode or cannot be read): what rlt sessions and the Runs
	// screen say its λ by (sessions/lambda), read with the listing.
	Settings Settings
	// Holder is the live process that holds the run, and why (zero: none).
	Holder Holder
	// LockRefused is why an open to write the run refuses its run.lock,
	// as lockRun refuses it (a symbolic link; one far past a lock's size;
	// one not read: a named pipe, a folder of that name), where the probe
	// could still say whether a process holds it; said in Note too; nil
	// where none. The Runs screen refuses r on such a run before it closes
	// the run open here or stops the one training here for a resume that
	// the lock then refuses.
	LockRefused *LockUnknownError
	// Progress is where the engine of a running run is within its step
	// (its ProgressFile, at most ProgressEvery old); nil when none is
	// known.
	Progress *event.Progress
	// Resumable is whether a resume would continue the run from a
	// checkpoint (read with the listing, which reads each run: the Runs
	// screen's key bar offers r by it on every draw without reading the
	// disk): a run of ours, not imported, with a usable checkpoint before
	// the last step its config.toml plans. Without one a resume is refused
	// (no checkpoint to continue from, nothing left to run, an import);
	// who holds the run is not part of it (Holder says that).
	Resumable bool
}

// List summarises every run folder directly under root (a folder holding
// config.toml or metrics.jsonl), sorted by creation time, newest last. It
// reads metrics.jsonl and events.jsonl of each run once and takes no lock.
// A caller that lists the same root again and again keeps a Lister instead,
// which re-reads only what changed.
func List(root string) ([]RunSummary, error) {
	return new(Lister).List(root)
}

// QuietAfter is how long a running run's files go unwritten before the
// listing and the workbench's header say so ("nothing written for 14m").
// The engine writes its phases, and within them its progress
// (ProgressFile), but loading a big model, a checkpoint or an evaluation
// between steps can take minutes: below this it is not news.
const QuietAfter = 10 * time.Minute

// Quiet is how long since last (the run's files' newest modification
// time, LastWritten) by now, and whether that is QuietAfter or more.
func Quiet(last, now time.Time) (time.Duration, bool) {
	d := now.Sub(last)
	return d, !last.IsZero() && d >= QuietAfter
}

// LastWritten is when the run's events.jsonl, metrics.jsonl or
// ProgressFile was last written (zero: none can be stat'ed): with Quiet,
// what tells a writer stopped by a signal or hung, which keeps its lock,
// from one that trains, however long its steps.
func (r *Run) LastWritten() time.Time {
	var last time.Time
	for _, f := range []string{EventsFile, MetricsFile, ProgressFile} {
		if fi, err := os.Stat(filepath.Join(r.dir, f)); err == nil && fi.ModTime().After(last) {
			last = fi.ModTime()
		}
	}
	return last
}

// Ago is a duration in the listing's and the header's words: "45s", "14m",
// "3h05m".
func Ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// countOf is n things in words: "1 broken metric record", "2 broken
// metric records".
func countOf(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.Itoa(n) + " " + thing + "s"
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// summarise summarises the run folder dir, reading of its logs and
// config.toml only what c does not hold yet (all of it for a zero c), and
// keeps in c what it read for the next call.
func (c *runCache) summarise(dir string) RunSummary {
	cfgPath := filepath.Join(dir, ConfigFile)
	cfgInfo, cfgErr := os.Stat(cfgPath)
	return c.summariseStat(dir, cfgPath, cfgInfo, cfgErr)
}

// summariseStat is summarise of a run whose config.toml (cfgPath) the
// caller has stat'ed (cfgInfo, cfgErr): a listing stats it to tell a run
// folder, once.
func (c *runCache) summariseStat(dir, cfgPath string, cfgInfo fs.FileInfo, cfgErr error) RunSummary {
	s := RunSummary{Name: filepath.Base(dir), Dir: dir, LastStep: -1, BestReward: math.NaN()}
	var notes []string
	if cfgErr == nil {
		s.Created = cfgInfo.ModTime()
	}

	// Events: creation time, last session's phases, fatal errors.
	ev := &c.events
	evStats, evErr := c.eventsLog.read(filepath.Join(dir, EventsFile), func() { *ev = eventsFold{} }, ev.add)
	if ev.created {
		s.Created = ev.createdAt
	}
	s.Device = ev.device
	// Metrics: last step and best reward, decoding only what is needed,
	// both of the records that stand.
	m := &c.metrics
	mStats, mErr := c.metricsLog.read(filepath.Join(dir, MetricsFile), func() { *m = metricsFold{} }, m.add)
	if mErr != nil && !errors.Is(mErr, fs.ErrNotExist) {
		notes = append(notes, mErr.Error())
	}
	if evErr != nil && !errors.Is(evErr, fs.ErrNotExist) {
		notes = append(notes, evErr.Error())
	}
	if m.broken > 0 {
		notes = append(notes, countOf(m.broken, "broken metric record"))
	}
	if ev.broken > 0 {
		notes = append(notes, countOf(ev.broken, "broken event record"))
	}
	imported := ""
	if cfgErr == nil {
		cfg := c.config(dir, cfgPath, cfgInfo)
		if cfg.readErr != nil {
			cfgErr = cfg.readErr
		} else if cfg.syntaxErr != nil {
			notes = append(notes, cfg.syntaxErr.Error())
		} else {
			s.Numbering, s.PlannedSteps, imported = cfg.numbering, cfg.planned, cfg.imported
			s.Settings = cfg.settings
		}
	}
	if mStats.PartialBytes > 0 {
		notes = append(notes, "metrics.jsonl ends in a partial line")
	}
	// The lock is probed every time: it is what says whether a process
	// trains the run now, and it costs an open and an flock.
	held, holder, refused, probeErr := probeLockRead(dir)
	// Not known to be free: a lock not probed may be held.
	mayBeHeld := held || probeErr != nil
	evState := ev // the events as they say who holds or held the run
	cutNote := -1 // the note that says it, where events.jsonl was cut after a close
	switch {
	case cutAfterClose(evStats.PartialBytes, ev.open, ev.trains || ev.resuming, mayBeHeld, true, holder.PID) &&
		exists(filepath.Join(dir, LockFileName)): // stat'ed only where the events leave a session open
		closed := *ev
		closed.closeLost()
		evState, cutNote = &closed, len(notes)
		notes = append(notes, EventsFile+": "+cutAfterCloseSaid(evStats.PartialBytes, ev.sess.pid, false))
	case evStats.PartialBytes > 0:
		notes = append(notes, "events.jsonl ends in a partial line")
	}
	if ev.cutAfterClose != "" {
		notes = append(notes, EventsFile+": "+ev.cutAfterClose)
	}
	// The records that stand: those no resume superseded, the resumes
	// events.jsonl lost read from the records (lostResumes) but in an
	// import, as the open run reads them.
	resumes := ev.resumes
	if imported == "" && !ev.imported {
		resumes, _ = ev.resumes.lostResumes(m.steps, ev.workedSegs)
	}
	s.BestReward = bestStanding(m.rewards, resumes)
	// The steps done, by the rule the header and a resume count them: a
	// metrics.jsonl lost, cut short or with a hole, or an events.jsonl
	// lost, is said, and the checkpoints count.
	steps := c.steps(dir, s.Numbering, imported != "", mErr, evErr, resumes)
	s.LastStep = steps.LastStep
	if cutNote >= 0 && steps.eventsLoss == logCut {
		// Cut short of the checkpoint folders: said below as the loss of
		// the run's history since (and a file cut at a line's end has
		// nothing more to say).
		if evStats.PartialBytes > 0 {
			notes[cutNote] = "events.jsonl ends in a partial line"
		} else {
			notes = slices.Delete(notes, cutNote, cutNote+1)
		}
	}
	if lost := steps.Problem(); lost != "" {
		notes = append(notes, lost)
	}
	notes = append(notes, c.tracesNotes(dir, tracesLoss{standing: standingSteps(m.steps, resumes), checkpoint: steps.checkpoint,
		stepped: ev.stepped, imported: imported != "" || ev.imported, recorded: ev.tracesLostBefore, dropped: ev.dropped}, mayBeHeld)...)

	if cfgErr != nil {
		s.State = StateBroken
		notes = append([]string{"no readable " + ConfigFile + ": " + cfgErr.Error()}, notes...)
	} else {
		// Where events.jsonl was cut short, which of its sessions did
		// the steps the checkpoint folders prove is lost with it.
		recorded := func(seg int) bool {
			return m.steps[seg] != nil || ev.checkpoints[seg] != nil || steps.eventsLoss == logCut
		}
		planDone := func() bool {
			if imported != "" || ev.imported { // a trainer's records: no checkpoint of ours says its steps
				return false
			}
			return planCheckpointed(s.PlannedSteps, c.checkpointsOnDisk(dir), func(step int) error { return c.checkpointUsable(dir, step) })
		}
		v := runState(held, holder, probeErr, evState, recorded, planDone)
		if imported == "" && !ev.imported {
			s.Resumable = c.hasUsableCheckpoint(dir) && !planDone()
		}
		s.State, s.Holder, s.Fault = v.state, v.by, v.fault
		notes = append(notes, v.notes...)
		if s.State == StateRunning {
			// A writer stopped by a signal (SIGSTOP, ctrl+z) or hung keeps
			// its lock: the time since it last wrote says so.
			last := c.eventsLog.id.mtime
			if t := c.metricsLog.id.mtime; t.After(last) {
				last = t
			}
			if fi, err := os.Stat(filepath.Join(dir, ProgressFile)); err == nil && fi.ModTime().After(last) {
				last = fi.ModTime() // within a long step
			}
			d, quiet := Quiet(last, time.Now())
			// Quiet, the progress last written is old news: the note says
			// what is known.
			if quiet {
				notes = append(notes, "nothing written for "+Ago(d))
			} else if p, ok := heldProgress(dir, held, holder); ok && p.Step > s.LastStep {
				s.Progress = &p
			}
		}
		if imported != "" && s.State == StateFinished && s.StepsDone() < s.PlannedSteps && steps.Lost == "" {
			// Finished is the import's state (nothing more comes into the
			// folder), not the trainer's: its steps fall short of its plan
			// (where metrics.jsonl lost records, its count does).
			notes = append(notes, fmt.Sprintf("imported from the %s when it had done %d of the %d steps it planned",
				FormatName(imported), s.StepsDone(), s.PlannedSteps))
		}
	}
	if refused != nil {
		// An open to write the run refuses it: said, or nothing did.
		lock := filepath.Join(dir, LockFileName)
		notes = append(notes, refusedLockNote(lock, refused))
		if probeErr == nil {
			s.LockRefused = &LockUnknownError{Path: lock, Op: "open", Err: refused}
		}
	}
	s.Size = c.folderSize(dir, held, cfgInfo)
	for i, n := range notes {
		if i > 0 {
			s.Note += "; "
		}
		s.Note += n
	}
	return s
}

// runState is what a run is, from a probe of its lock (held: a live
// process holds it; holder: what run.lock says) and its events (ev), and
// what to note of the process that holds or held it: the one rule by which
// the Runs screen, rlt sessions and the workbench's header for a run
// trained elsewhere (Run.StateGone) say whether a run is running, and who holds
// it and why (by: any live holder, a review included). Running needs a
// live holder whose session trains the run and whose engine has not ended;
// a run whose writer was killed (run.lock left behind, no process holding
// it) or that only a review holds reads by its training state, stopped
// when it neither finished nor failed. A live holder that opened the run
// to resume it and is loading its engine (no resume event yet) makes it
// resuming: its earlier state no longer holds, and a later one is not said
// yet. interrupted: the last session that trained the run (or set out to)
// is gone without closing it (eventsFold.uncleanExit), which its events
// keep saying after a review opened and closed the run and emptied
// run.lock; one gone before its resume event leaves the run stopped,
// whatever its earlier session's end. A live holder whose open event is
// not on disk yet (it loads the run, or defers the event:
// Options.DeferOpen) reads as its open event will say: run.lock names its
// intent (LockInfo.Checking) until the event is there. The note on it
// says what that session had done (goneNote); recorded says whether a
// segment has a step done (a metric record, or a checkpoint).
//
// probeErr says the probe could not tell whether run.lock is held
// (probeLock; held is then false): no process is said to hold the run,
// nor the last session that trained it to be gone (but where a later
// open proves it: its open event, or run.lock's Checking of a review or
// re-score), nor run.lock to be left by one; the note says that it is not
// known, and why. Where the
// session its events leave open, or the resume run.lock says checks it,
// would make the run live were it to hold the lock (heldView), the state
// is unknown, its note saying what the run is if a process holds it and
// what if none does; else it is its training state, which a holder with
// no engine leaves as it is.
//
// planDone says whether the run has a usable checkpoint of the last step
// its config.toml plans, or past it (NothingToRun of its newest usable
// checkpoint, the resume's own rule: planCheckpointed): asked only of a
// run whose last training session is gone after its engine started, or
// left it at once on a second stop signal (a close named CloseLeft:
// leftDoneNote), without its engine ending or failing, and of one whose
// close saved a checkpoint after its engine ended (closeSavedNote). Such a run was
// killed or left after the checkpoint of its last step (between that
// checkpoint's rename and its engine's "done", which follows at once:
// run.Engine's checkpointAtEnd): every step it plans is done
// and on disk, and a resume has nothing to run, so it is finished, not
// interrupted, its note saying that its process is gone before recording
// so (doneUnsaidNote). It was listed stopped, "the process that trained it
// is gone without stopping it", which no resume changed: the resume was
// refused as having nothing to run, and left the run as it was.
func runState(held bool, holder LockInfo, probeErr error, ev *eventsFold, recorded func(seg int) bool, planDone func() bool) runView {
	var (
		state       RunState
		notes       []string
		interrupted bool
		by          Holder
	)
	here := heldHere(holder)
	live := func(state RunState, doing string) runView {
		switch {
		case here:
			notes = append(notes, "open here, "+doing)
		case holder.PID != 0:
			notes = append(notes, fmt.Sprintf("pid %d", holder.PID))
		}
		return runView{state: state, notes: notes, by: Holder{PID: holder.PID, Doing: doing, Process: holder.Process, Host: holder.Host, OS: holder.OS}}
	}
	// What a live holder of run.lock makes the run: asked of a lock the
	// probe found held, and of one it could not tell of (probeErr), whose
	// state is then unknown where a holder would make it live.
	heldEv, liveState, doing := heldView(holder, ev)
	switch {
	case held:
		if liveState != "" {
			return live(liveState, doing)
		}
		ev = heldEv
	case probeErr != nil && holder.Checking != "" && holder.Checking != IntentResume:
		// Not probed, but run.lock says a review (or re-score) took the
		// lock after every session its events name: its open, not on
		// disk yet, is read as written (heldView), as where it is found
		// held, or gone. It proves gone a session they leave open, which
		// then interrupted the run, as a review's open event does.
		ev = heldEv
	}
	// Not held, or held by a process with no engine training it (a
	// workbench that keeps it open for review, after its engine ended or
	// after the one that trained it was killed): its training state.
	state = trainingState(ev)
	fault := ev.fatalFault
	// closeSaved: its engine ended without the checkpoint of its last
	// planned step on disk (its save failed: "stopped", and the save's
	// fatal error), and its close saved it after all (runner.Handle's
	// final checkpoint, tried again once the disk had room): every
	// planned step is done and on disk, and a resume has nothing to run
	// (planDone, the resume's own rule), so it is finished. It was listed
	// failed, for good: its resume was refused as having nothing to run.
	closeSaved := ev.savedAtClose && state != StateFinished && planDone()
	switch {
	case closeSaved:
		state, fault = StateFinished, ""
		notes = append(notes, closeSavedNote(ev.fatal))
	case ev.fatal != "":
		notes = append(notes, "fatal: "+ev.fatal)
	}
	if note, finished := leftView(ev, planDone); note != "" {
		if finished {
			state = StateFinished
		}
		notes = append(notes, note)
	}
	// run.lock left behind names the process that did not unlock it (a
	// killed trainer, or a killed review); the events name the trainer
	// that never closed the run, also once a review has emptied run.lock.
	lockLeft := lockLeftBehind(held, holder, probeErr)
	gone, interrupted, whileResuming := ev.uncleanExit(held || probeErr != nil)
	// doneUnsaid: the session s, gone without closing the run, had
	// started its engine, which neither ended nor failed, and the run's
	// planned steps are all checkpointed (planDone): it was killed after
	// its last step's checkpoint, before its engine said "done".
	doneUnsaid := func(s session) bool {
		return s.started && !engineEnded(ev.lastPhase, ev.fatal) && planDone()
	}
	pid := gone.pid
	if interrupted && pid == 0 && lockLeft {
		pid = holder.PID // events written before they named their process
	}
	if interrupted && whileResuming {
		// The last session that set out to train the run died loading:
		// what an earlier one ended with (finished, a fatal error) no
		// longer says where the run stands (rlt run --resume --steps may
		// have planned more steps), and nothing trains it.
		state, notes = StateStopped, nil
	}
	if probeErr != nil && !held { // said also of a resume gone while loading
		notes = append(notes, LockNotKnown+probeErr.Error())
		// A holder would make it live where it is the session its events
		// leave open, or the resume run.lock says checks it: any other
		// holder names in run.lock what it opens the run for until its
		// open event is on disk (LockInfo.Checking). A run closed cleanly
		// reads by its training state, which no holder with no engine
		// changes.
		if liveState != "" && (heldEv.open || holder.Checking == IntentResume) {
			// That process may live and train it, or load its engine to,
			// or be gone without closing it: which of the two is not
			// known, and the listing says neither as if it were.
			free := state
			switch s, unclean, whileResuming := ev.uncleanExit(false); {
			case unclean && whileResuming:
				free = StateStopped // as where the probe finds it free
			case unclean && doneUnsaid(s):
				free = StateFinished // as where the probe finds it free
			}
			notes = append(notes, fmt.Sprintf("%s if a process holds it, %s if none does", liveState, free))
			state = StateUnknown
		}
	}
	if interrupted && gone.started && (ev.fatal == "" || closeSaved) && (ev.lastPhase == "done" || ev.lastPhase == "stopped") {
		// Its engine ended, finished or stopped, before the session was
		// left unclosed: its training was not cut short, and its process
		// may live on (a folder copied while it was open holds its
		// run.lock, not its lock). The listing says the state its engine
		// ended in, and the note only what the folder proves.
		interrupted = false
		ended := ev.lastPhase
		if closeSaved {
			ended = "done"
		}
		notes = append(notes, unclosedNote(pid, ended))
	}
	if interrupted && doneUnsaid(gone) {
		// Killed after the checkpoint of its last planned step: its
		// training was not cut short, nothing is lost, and a resume has
		// nothing to run. Its engine's "done" is all it did not write.
		state, interrupted = StateFinished, false
		notes = append(notes, doneUnsaidNote(pid, goneUnproven(lockLeft, holder, pid)))
	}
	var goneWords, unproven string
	if interrupted {
		// Whether the folder proves that process gone is asked once (a
		// kill(pid, 0)): the note, StateGone's words (the workbench's,
		// once a tick) and the note on run.lock below read this one answer.
		unproven = goneUnproven(lockLeft, holder, pid)
		stepped := recorded(gone.seg)
		notes = append(notes, goneNote(gone, stepped, pid, unproven))
		goneWords = goneNote(gone, stepped, 0, unproven)
	}
	switch {
	case held:
		// A process keeps it open with no engine: its open event says
		// for what.
		var h idleHold
		if ev.open {
			h = idleHolds[ev.intent]
		}
		if h.doing == "" {
			h.doing = HolderOpen
		}
		by = Holder{PID: holder.PID, Doing: h.doing, Process: holder.Process, Host: holder.Host, OS: holder.OS}
		switch {
		case here:
			notes = append(notes, "open here"+h.purpose+", no engine running")
		case holder.PID != 0:
			notes = append(notes, fmt.Sprintf("open in pid %d%s, no engine running", holder.PID, h.purpose))
		default:
			notes = append(notes, "open in another process, no engine running")
		}
	case lockLeft && holder.PID != pid && interrupted:
		// goneUnproven asked whether run.lock's pid may live (mayLive).
		if unproven != "" { // the note on the trainer said why
			notes = append(notes, fmt.Sprintf("run.lock names pid %d, which does not hold it", holder.PID))
		} else {
			notes = append(notes, fmt.Sprintf("unclean exit of pid %d", holder.PID))
		}
	case lockLeft && holder.PID != pid:
		switch why := mayLive(holder.PID, holder.Host, "its pid"); {
		case why != "":
			notes = append(notes, fmt.Sprintf("run.lock names pid %d, which does not hold it (%s)", holder.PID, why))
		default:
			notes = append(notes, fmt.Sprintf("unclean exit of pid %d", holder.PID))
		}
	}
	return runView{state: state, notes: notes, interrupted: interrupted, gone: goneWords, by: by, fault: fault}
}

// heldView is what a live holder of run.lock (holder: what run.lock
// says) makes the run of the events ev: the events as that holder's open
// will say them (heldEv: a holder that opened the run to review or
// re-score it and has not written its open event yet, as run.lock says;
// else ev itself), and its state where that holder trains the run, loads
// its engine to resume it, or has paused it (liveState, and what the
// holder does: doing), "" where it holds the run with no engine training
// it, which then reads by its training state (trainingState).
func heldView(holder LockInfo, ev *eventsFold) (heldEv *eventsFold, liveState RunState, doing string) {
	if holder.Checking != "" && holder.Checking != IntentResume {
		// The lock's holder opens the run to review it (or re-score it)
		// and its open event is not on disk yet (it loads the run, or
		// writes the event with its first review): until then run.lock
		// says what its open event will.
		opened := *ev
		opened.fold(EventRecord{Kind: KindOpen, PID: holder.PID, Intent: holder.Checking})
		ev = &opened
	}
	switch {
	case holder.Checking == IntentResume:
		// The lock's holder checks whether it can resume it (its open
		// event waits for that): the previous session's events no longer
		// say what the run is.
		return ev, StateResuming, HolderResuming
	case ev.open && ev.resuming:
		// The lock's holder opened it to resume it: its engine loads.
		return ev, StateResuming, HolderResuming
	case ev.trains && !engineEnded(ev.lastPhase, ev.fatal):
		// The lock's holder trains it (or has not said otherwise yet).
		if ev.lastPhase == "paused" {
			return ev, StatePaused, HolderPaused
		}
		return ev, StateRunning, HolderTraining
	}
	return ev, "", ""
}

// trainingState is what a run no live process trains is, by its events
// (ev): failed where a fatal error ended its engine since the last
// resume, finished where the engine reported "done", else stopped.
func trainingState(ev *eventsFold) RunState {
	switch {
	case ev.fatal != "":
		return StateFailed
	case ev.lastPhase == "done":
		return StateFinished
	}
	return StateStopped
}

// runView is what runState says of a run.
type runView struct {
	state RunState
	notes []string // the note on the process that holds or held it, in parts
	// interrupted: the last session that trained the run (or set out to
	// resume it) is gone without closing it, also after a review since.
	interrupted bool
	// gone says, of an interrupted run, what that session had done, in
	// the note's words without its pid (goneNote): the workbench's header.
	gone  string
	by    Holder      // the live process that holds it, and why (zero: none)
	fault event.Fault // what failed, of the fatal error its notes say ("": none)
}

// idleHold is what a process that holds a run with no engine does with
// it, by its open event's intent: the Holder's words, and the listing's
// ("open in pid N for review").
type idleHold struct{ doing, purpose string }

var idleHolds = map[string]idleHold{
	IntentReview:  {HolderReviewing, " for review"},
	IntentRescore: {HolderRescoring, " writing re-scores"},
}

// goneNote says what the last session that trained a run, or set out to
// (s), had done when it was gone without closing the run (killed,
// crashed): trained it (recorded: its segment has a step done), started
// its engine and recorded no step, or was loading its engine (the models,
// the device) to create or to resume the run. pid is its process (0: not
// said). The listing's note (runState) and the workbench's header
// (Run.StateGone) say it in these words, so both tell one story of the run.
// live is why that process may live on (goneUnproven; "": the folder
// proves it gone): then the note says only that it holds no lock on this
// folder, what it had done, and why nothing here tells whether it is gone.
func goneNote(s session, recorded bool, pid int, live string) string {
	who := "the process that trained it"
	gone, unproven := "is gone without stopping it", "did not stop its training"
	switch {
	case !s.started && !s.created:
		who = "the process that set out to resume it"
		gone, unproven = "is gone while loading its engine", "was loading its engine"
	case !s.started:
		who = "the process that created it"
		gone, unproven = "is gone while loading its engine, before its first step", "was loading its engine, before its first step"
	case !recorded && s.created:
		who = "the process that created it"
		gone, unproven = "is gone before recording its first step", "had recorded no step"
	case !recorded:
		who = "the process that resumed it"
		gone, unproven = "is gone before recording a step", "had recorded no step"
	}
	if pid != 0 {
		who += fmt.Sprintf(" (pid %d)", pid)
	}
	if live != "" {
		return who + " holds no lock on this folder and " + unproven + " (" + live + ")"
	}
	return who + " " + gone
}

// lockLeftBehind reports whether run.lock names a process that does not
// hold it (a killed writer's, a killed review's): it names a pid and the
// probe found it free, not held and not a probe that could not tell
// (probeErr), whose run.lock may name a live holder: runState's rule.
func lockLeftBehind(held bool, holder LockInfo, probeErr error) bool {
	return !held && holder.PID != 0 && probeErr == nil
}

// goneUnproven says why the folder does not prove gone the process pid
// that its events (or run.lock) name as the last to train it, never
// closing it, or "" where it does (mayLive). The kernel drops a lock with
// its process, so a free lock proves its holder gone: not of a copy,
// whose run.lock is copied and not its lock, so it names a holder that
// may hold the original, nor across hosts. run.lock left behind (lockLeft:
// holder, a record no live process holds) names the last holder of this
// folder: if that one is gone, the folder is no copy of a live run, and
// the trainer, which held it before, is gone too; where run.lock names
// none (a review emptied it), the trainer itself is tested.
func goneUnproven(lockLeft bool, holder LockInfo, pid int) string {
	if !lockLeft {
		return mayLive(pid, "", "its pid")
	}
	named := "its pid"
	if holder.PID != pid && pid != 0 {
		named = fmt.Sprintf("pid %d, which run.lock names,", holder.PID)
	}
	return mayLive(holder.PID, holder.Host, named)
}

// mayLive says why the process pid of host ("": not said, read as this
// one) may live on although it holds no lock on this folder, or "" where
// nothing here says it may: run.lock names another host (a pid of another
// host names nothing here, and a lock taken there may not be seen here:
// a folder copied from there, or on a disk shared with it), or a process
// with that pid runs on this host (this folder a copy of a run folder it
// holds, or its pid taken by another process since). named is how the
// words name that pid ("its pid").
func mayLive(pid int, host, named string) string {
	switch {
	case (Holder{Host: host}).elsewhere(thisHost()):
		return "run.lock names host " + host + ", whose processes cannot be seen from here: this folder may be a copy, or its lock not seen here"
	case durable.ProcessAlive(pid):
		return "a process with " + named + " runs on this host: this folder may be a copy of a run it holds"
	}
	return ""
}

// heldHere reports whether run.lock's holder is this very process on this
// host: the run is open here (the workbench that lists it has it open),
// which its note says in those words, where any other process (rlt
// sessions, another workbench) reads the pid.
func heldHere(holder LockInfo) bool {
	return holder.PID != 0 && holder.PID == os.Getpid() && !(Holder{Host: holder.Host}).elsewhere(thisHost())
}

// unclosedNote says of a run whose last training session ended its
// engine (phase "done" or "stopped") and never closed the run that it
// did not: what the folder proves. That process was killed after its
// engine ended, or the folder was copied while the run was open, and
// nothing here tells which. pid is its process (0: not said).
func unclosedNote(pid int, phase string) string {
	who := "the process that trained it"
	if pid != 0 {
		who += fmt.Sprintf(" (pid %d)", pid)
	}
	ended := "finished"
	if phase == "stopped" {
		ended = "stopped"
	}
	return who + " did not close it after its training " + ended + " (it was killed since, or this folder was copied while the run was open)"
}

// closeSavedNote says of a run whose engine ended without the checkpoint
// of its last planned step, its save having failed (fatal: that error,
// as the engine recorded it; "": none recorded), and whose close saved it
// after all (runState's closeSaved) that no step is lost, and what had
// failed: the disk that refused it may refuse the next save too.
func closeSavedNote(fatal string) string {
	const saved = "its close saved the checkpoint of its last planned step after all: no step is lost"
	if fatal == "" {
		return saved
	}
	return saved + " (its engine had ended without it: " + fatal + ")"
}

// doneUnsaidNote says of a run whose last training session checkpointed
// the last step its config.toml plans and is gone without its engine
// saying "done" (runState's planDone) what the folder proves: every
// planned step is done and on disk. pid is its process (0: not said);
// live is why that process may live on (goneUnproven; "": the folder
// proves it gone), where the note says only what it had done.
func doneUnsaidNote(pid int, live string) string {
	who := "the process that trained it"
	if pid != 0 {
		who += fmt.Sprintf(" (pid %d)", pid)
	}
	if live != "" {
		return who + " holds no lock on this folder and had saved the checkpoint of its last planned step, not yet recording that its training finished (" + live + ")"
	}
	return who + " is gone after saving the checkpoint of its last planned step, before recording that its training finished: the kill lost no step"
}

// leftView is the note on a run whose last training session left it at
// once on a second stop signal (a close named CloseLeft, ev.left: its
// note), and whether that makes it finished; "" where none left it so.
// One left after the checkpoint of its last planned step, before its
// engine said "done" (planDone, the engine not ended): as a kill there
// (runState's doneUnsaid), every planned step is done and on disk and a
// resume has nothing to run, so it is finished (leftDoneNote). It was
// listed stopped, its close's note saying that it continues from that
// checkpoint, and the resume was refused as having nothing to run. Any
// other, or one whose plan was raised since: its close's note (Run.Leave).
// The listing (runState) and the process that leaves (Run.LeftNote, what
// it says on leaving) read this one rule, so the two say the same.
func leftView(ev *eventsFold, planDone func() bool) (note string, finished bool) {
	switch {
	case ev.left == "":
		return "", false
	case !engineEnded(ev.lastPhase, ev.fatal) && planDone():
		return leftDoneNote, true
	case ev.lastPhase == "done" && ev.fatal == "" && ev.leftCk >= 0 && planDone():
		// Finished before the session left (a resume with --steps left
		// as its engine loaded: the new plan is recorded once it has
		// loaded), and still so: it continues from its checkpoint only
		// with more steps asked for. Said "it continues from its
		// checkpoint" beside the listing's finished. A close written
		// before its Words field: its note cut where that clause begins.
		words, ok := ev.leftWords, ev.leftWords != ""
		if !ok {
			words, ok = strings.CutSuffix(ev.left, continuesFrom(ev.leftCk))
		}
		if ok {
			return words + finishedAt(ev.leftCk), false
		}
	}
	return ev.left, false
}

// leftDoneNote is the note on a run whose last training session left it
// at once on a second stop signal (a close named CloseLeft) after saving
// the checkpoint of the last step its config.toml plans, its engine not
// yet saying "done" (runState's planDone), in place of that close's note,
// which said that it continues from that checkpoint: it has nothing to
// continue.
const leftDoneNote = "left at once on a second stop signal after saving the checkpoint of its last planned step, before recording that its training finished: no step is lost"

// planCheckpointed reports whether a run that plans planned steps (0:
// open-ended) has a usable checkpoint (usable says nil) of its last
// planned step or past it, among its checkpoint folders steps (ascending):
// NothingToRun of its newest usable checkpoint, the resume's rule, asked
// of the folders past the plan alone. One owner: NothingLeftToRun
// (ResumeCommand's --steps N, the Runs screen's refused r) asks it, as the
// listing's planDone does, so that a run listed finished with its "done"
// unsaid is one they say has nothing to run, the folders counted by one
// list (checkpointFolderList: a checkpoint moved aside counts).
func planCheckpointed(planned int, steps []int, usable func(step int) error) bool {
	for i := len(steps) - 1; i >= 0 && NothingToRun(planned, steps[i]); i-- {
		if usable(steps[i]) == nil {
			return true
		}
	}
	return false
}

// foldEvent takes an event the run read or wrote into what State says.
func (r *Run) foldEvent(e EventRecord) {
	r.evMu.Lock()
	r.ev.fold(e)
	r.evMu.Unlock()
}

// StateGone is what the Runs screen lists the run as now, and of a run
// it calls interrupted, what the gone process had done: the workbench
// asks it once a tick of the run it has open, and runState, the Lister's
// rule, says both, from the events this Run has read and written and one
// probe of run.lock. A run opened read-only whose writer was killed reads
// stopped, not running. A Run this process holds (Create, Open) reads as
// another process would list it: running once this session created or
// resumed it, resuming from an open to resume (Options.Intent) until
// then, by its training state while it only reviews it. interrupted: the
// last session that trained the run (or set out to resume it) is gone
// without closing it (the listing's note on it), also after a review
// since. gone says what that session had done, in the listing's words
// without its pid (goneNote): "the process that trained it is gone
// without stopping it", or that it was loading its engine to create or
// to resume the run, or had recorded no step, or, where the folder does
// not prove that process gone (goneUnproven), why it may live on, as the
// listing says it ("": not interrupted).
func (r *Run) StateGone() (state RunState, interrupted bool, gone string) {
	return r.stateGone(r.lockView())
}

// stateGone is StateGone of run.lock as lockView says it.
func (r *Run) stateGone(held bool, holder LockInfo, probeErr error) (state RunState, interrupted bool, gone string) {
	v := r.stateOf(held, holder, probeErr)
	return v.state, v.interrupted, v.gone
}

// Holder is the live process that holds the run's lock and what it does
// with it, as the Runs screen says it (zero: none): for a run viewed
// read-only, who writes it.
func (r *Run) Holder() Holder { return r.state().by }

// state is runState of this Run, run.lock probed (lockView).
func (r *Run) state() runView { return r.stateOf(r.lockView()) }

// stateOf is runState of this Run and run.lock as lockView says it.
func (r *Run) stateOf(held bool, holder LockInfo, probeErr error) runView {
	r.evMu.Lock()
	defer r.evMu.Unlock()
	return runState(held, holder, probeErr, &r.ev, r.recordedLocked, r.planCheckpointed)
}

// planCheckpointed is runState's planDone of this Run: config.toml's plan
// and the checkpoint folders as they are now, read again at each ask (a
// run open read-only whose writer was killed since, or resumed with
// --steps N since, which rewrote the plan), the folders' checks kept
// (checkpointUsable). It is asked only of a run whose training session is
// gone or left with its engine not ended, or whose close saved a
// checkpoint after its engine ended (runState). r.evMu is held.
func (r *Run) planCheckpointed() bool {
	data, err := os.ReadFile(filepath.Join(r.dir, ConfigFile))
	if err != nil || r.ev.imported {
		return false
	}
	if _, ok := importSource(filepath.Join(r.dir, ConfigFile), data); ok {
		return false
	}
	_, planned := configPlan(r.dir, data)
	return planCheckpointed(planned, checkpointFolders(r.dir), r.checkpointUsable)
}

// lockView is whether a live process holds the run's lock and what
// run.lock says: this process's own lock as it holds it, else a probe
// (probeLock, whose err says it could not tell).
func (r *Run) lockView() (held bool, holder LockInfo, probeErr error) {
	if r.lock != nil && !r.closed.Load() {
		held, holder = true, LockInfo{PID: os.Getpid(), Host: r.lock.info.Host, OS: r.lock.info.OS, Process: r.opts.Process}
		if r.unopened.Load() { // its checks run: run.lock says so
			holder.Checking = r.opts.Intent
		}
		return held, holder, nil
	}
	return probeLock(r.dir)
}

// noteRecorded notes that the segment seg has a metric record: a step of
// its session was done (goneNote's words).
func (r *Run) noteRecorded(seg int) {
	r.evMu.Lock()
	if r.recorded == nil {
		r.recorded = map[int]bool{}
	}
	r.recorded[seg] = true
	r.evMu.Unlock()
}

// recordedLocked reports whether the segment seg has a step done: a
// metric record (noteRecorded) or a checkpoint event (where metrics.jsonl
// lost its records), or where events.jsonl was cut short, perhaps (its
// records of who did the steps its checkpoint folders prove are lost);
// r.evMu is held.
func (r *Run) recordedLocked(seg int) bool {
	return r.recorded[seg] || r.ev.checkpoints[seg] != nil || r.eventsCut
}

// probeLock reports whether a live process holds the run's lock, without
// taking it for longer than the probe (a shared flock that conflicts only
// with the writer's exclusive one), and what run.lock says. err: the probe
// could not tell (run.lock there but not opened, or the lock not asked
// for: a filesystem without locks, NFS whose lock manager is not reached,
// ENOLCK), held then false meaning not known, never "not held": the
// callers say so rather than read the run as left by a killed writer.
func probeLock(dir string) (held bool, info LockInfo, err error) {
	held, info, _, err = probeLockRead(dir)
	return held, info, err
}

// openProbe is openNoWait, which a test replaces to put a named pipe in
// run.lock's place between probeLockRead's stat and its open: no test
// can time a swap into that gap.
var openProbe = openNoWait

// probeLockRead is probeLock, and why an open to write the run refuses
// its run.lock (lockRun) where the probe can still say who holds it
// (refused: a *lockTooBigError or a *lockReadError, its record not read;
// a *lockLinkError, a symbolic link, followed by the probe where it leads
// to a plain file, and said as a link, not as what it leads to, where it
// does not; nil where none), which the listing says (refusedLockNote).
// One that is not a plain file is neither read nor locked: a named pipe's
// open waited for a writer, and the listing hung; macOS refuses an flock
// on one (ENOTSUP), which said "not known" of a run no process can hold.
func probeLockRead(dir string) (held bool, info LockInfo, refused, err error) {
	path := filepath.Join(dir, LockFileName)
	if link := (*lockLinkError)(nil); errors.As(notALink(path), &link) {
		refused = link
	}
	// notPlain says what run.lock is where it is no plain file, or, where
	// it is a link to one (a named pipe, a folder), the link: lockRun
	// refuses the link whatever it leads to, and a link is removed, not
	// moved out as a pipe of that name is (refusedLockNote's fix). The
	// stat follows links and said "it is a named pipe" of a link to one.
	notPlain := func(mode fs.FileMode) error {
		if refused != nil {
			return refused
		}
		return &lockReadError{Err: notAFile(mode)}
	}
	// Not opened where the stat sees no plain file: a device's open does
	// what its driver does, a socket's fails.
	if fi, serr := os.Stat(path); serr == nil && !fi.Mode().IsRegular() {
		return false, info, notPlain(fi.Mode()), nil
	}
	// Opened without waiting, and what was opened is what is checked: a
	// named pipe put in run.lock's place after the stat is refused too.
	f, err := openProbe(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, info, refused, nil // a link to nowhere
	}
	if err != nil {
		return false, info, refused, err
	}
	defer f.Close()
	if fi, serr := f.Stat(); serr == nil && !fi.Mode().IsRegular() {
		return false, info, notPlain(fi.Mode()), nil
	}
	data, unread := readLock(f)
	if unread == nil {
		info, _ = decodeLockInfo(data)
	} else if refused == nil {
		refused = unread
	}
	if err := lockFile(f, false); err != nil {
		if errors.Is(err, errLockHeld) {
			return true, info, refused, nil
		}
		return false, info, refused, fmt.Errorf("probe %s: %w", f.Name(), err)
	}
	unlockFile(f)
	return false, info, refused, nil
}
