package ui

import (
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/ui/internal/nouns"
	"github.com/rlt-workbench/rlt/ui/keys"
	"github.com/rlt-workbench/rlt/ui/style"
)

// Minimum terminal size; below it the workbench shows one line saying so.
const (
	MinWidth  = 60
	MinHeight = 15
)

// coalesce is how long the UI waits after a change signal before pulling,
// so it pulls at most about 20 times a second.
const coalesce = 50 * time.Millisecond

// Options configure the workbench.
type Options struct {
	// Session is the run shown first, as a Launcher returns one; nil (or
	// one without a Run): the workbench opens on the Runs screen. With
	// its Close set, the workbench ends it itself when it switches to
	// another run or quits; without, it only asks its Control to stop and
	// the caller ends the run. Its Notes are said in the status line.
	Session *sessions.Session
	Theme   *style.Theme // nil: plain (Run detects one from the output)

	// Launcher starts, resumes and opens runs from the Runs screen; nil:
	// the Runs screen only lists them.
	Launcher Launcher
	// RunsDir is the folder of run folders the Runs screen lists (default
	// "runs").
	RunsDir string
	// Mouse turns on mouse reporting: the wheel scrolls lists and the
	// editor. Off by default, as it stops the terminal's own selection.
	Mouse bool
	// Stop, when it closes, quits the workbench as q does: the open run
	// stops after its step in progress, with a final checkpoint, the
	// header saying stopping until it has (stopSignalMsg). The commands
	// close it on a stop signal: Ctrl-C's SIGINT, a kill's SIGTERM, a
	// closed terminal's SIGHUP. Given, Bubble Tea's own signal handler is
	// off: it left the screen at once on SIGTERM, and failed the program
	// on SIGINT ("program was interrupted", exit 1), neither through q.
	Stop <-chan struct{}
	// Leave, when it closes, leaves the workbench at once, as a user
	// pressing Ctrl-C again while it is stopping expects: the screen is
	// left and Run returns ErrLeft without waiting for the runs it owns to
	// end (the caller exits, each run folder recording what it lost, and
	// the caller saying so: sessions.LeaveAll; each goes on from its last
	// checkpoint on disk, where it has one), also once
	// off the screen (q pressed again) while they end. The commands close
	// it on a second stop signal, which Stop's quit swallowed, leaving the
	// user no way out but SIGKILL while a long step ended.
	Leave <-chan struct{}
	// EndLoads, where set, is called once as the workbench quits or
	// leaves (q, Stop, Leave, the terminal gone): the caller ends with it
	// the loads of the runs its Launcher is starting or resuming
	// (sessions/runner.Launcher.Load), which then refuse their launch at
	// once, the run folder said by the caller as the launch left it. A
	// quit during such a load waited, off the screen, until the load had
	// ended (a minute for a 7B model), then ended the run it had begun.
	EndLoads func()
}

// ErrLeft is Run's error when Options.Leave closed: the workbench left
// without ending the runs it owns. What each lost (the step in progress,
// a checkpoint being written, or nothing) is not said here: the workbench
// cannot know it; each run folder records it (sessions.Run.Leave) and the
// caller says it per folder from there: it said "the step in progress of
// each and its final checkpoint are lost" also of a run whose checkpoint
// had been written before the leave.
var ErrLeft = errors.New("left at once on a second stop signal, without ending the runs it trained")

type screenID int

const (
	scrDashboard screenID = iota
	scrTraces
	scrDetail
	scrRuns
	numScreens
)

var screenNames = [numScreens]string{"Dashboard", "Traces", "Detail", "Runs"}

// screen is what the root asks of each screen.
type screen interface {
	SetSize(w, h int)
	View() string
	Update(tea.KeyMsg) tea.Cmd
	ShortHelp() []key.Binding
	FullHelp() [][]key.Binding
	Capturing() bool // a text input has focus: global keys are off
}

// settler is a screen that brings what it draws up to date after each
// message (Model.Update), so that its View only reads: its rows, which of
// them are in sight, the frame it caches.
type settler interface{ settle() }

// shared is what screens need from the root.
type shared struct {
	run     *sessions.Run
	store   *sessions.Store
	theme   *style.Theme
	control sessions.Controller
	say     func(format string, args ...any)
	// readOnly refuses reviews and exports (a run opened for viewing).
	readOnly bool
	// pausedHint is whether this UI paused the engine (for controllers
	// that cannot say whether they are paused).
	pausedHint bool
	// ckptAsked: c asked for a checkpoint that has not been written yet.
	ckptAsked bool
	// stopAsked: S was confirmed (or q pressed) and the engine has not
	// said "stopped" yet (the header says stopping); engineEnded: the
	// engine's last phase since the last resume is "stopped" or "done",
	// or a fatal error ended it (p and S have nothing to act on).
	stopAsked, engineEnded bool
	// stop is S's, once confirmed: Model.stopEngine, the one place that
	// asks the engine to stop (q stops it there too).
	stop func()
	// checkpoint is c's: Model.checkpointNow, which knows whether the
	// engine is paused between steps and what its last checkpoint is.
	checkpoint func()
	// onward says how the open run's training goes on with no engine
	// here to control (Model.trainOnward), after what p, S or c cannot do.
	onward func() string
	// nextUnreviewed is the first unreviewed trace after the given one in
	// the Traces screen's order, under its sort and filters (set by it).
	nextUnreviewed func(after string) (string, bool)
	// cmp is the runs compared with the open one (the Model's, kept
	// across runs opened).
	cmp *comparison
	// settings are the open run's (sessions.Session.Settings): not Known
	// where opening found that its config.toml does not decode.
	settings sessions.Settings
}

// Messages.
type (
	changedMsg struct{ gen int } // the store of attachment gen has news
	tickMsg    time.Time
	openMsg    struct{ id string } // open a trace in the detail screen
	// launchedMsg: a switch of runs finished (see Model.switchRun).
	launchedMsg struct{ res *launchResult }
	// quitMsg: the open run has been ended; the program may exit.
	quitMsg struct{}
	// stopSignalMsg: Options.Stop closed, a stop signal: quit as q.
	stopSignalMsg struct{}
	// leaveMsg: Options.Leave closed, a second stop signal: leave at once.
	leaveMsg struct{}
)

type stepAt struct {
	step int
	t    time.Time
}

// pauseSpan is a time the engine spent paused (to zero: still paused),
// left out of the step rate.
type pauseSpan struct{ from, to time.Time }

// Model is the root model: sizes, global keys, help, status and screens.
//
// It shows one run at a time (an opened Session). Opening another from
// the Runs screen ends the current one first: its engine stops after the
// step in progress, writes its final checkpoint and closes its folder,
// off the event loop, and only then is the next run started or opened
// (so a run can be resumed right after it is stopped, and two engines
// never share the two cores). Runs are not kept going in the background.
type Model struct {
	sh       *shared
	opts     Options
	global   keys.Global
	launcher Launcher
	runsDir  string

	w, h   int
	active screenID
	prev   screenID // where esc on the Runs screen goes back to
	help   bool
	// helpTop is the first line of the help overlay shown (helpBody),
	// helpKeys what scrolls it.
	helpTop  int
	helpKeys keys.Help

	cur    *opened // nil: no run open
	dash   *dashboard
	traces *tracesScreen
	detail *detailScreen
	runs   *runsScreen
	probs  problemsView // the ! overlay
	cmp    *comparison  // runs overlaid on the dashboard (marked on the Runs screen)

	// gen counts attachments; waiting commands of earlier ones are
	// ignored, and waitStop ends them.
	gen      int
	waitStop chan struct{}
	bg       *background

	switching    string // what a switch of runs in progress is doing
	quitting     bool   // quit pressed; the open run is being ended
	draftDropped bool   // quit pressed once with an edited draft: the next press quits

	mCur, tCur, eCur int

	runStatus
	// now is the header's clock: the time of the last tick (tickMsg), so
	// that tests set it by sending one; the time the model was made
	// before the first.
	now        time.Time
	msg        string
	msgAt      time.Time
	msgN       int // messages said so far: whether one was said in an Update
	stopSignal chan struct{}
	stopped    bool
	// hungUp closes when the terminal the workbench reads is gone
	// (watchTerminal): the workbench then quits as on Options.Stop.
	hungUp <-chan struct{}
	// left: Options.Leave closed, and the workbench left without ending
	// the runs it owns (Run returns ErrLeft).
	left bool
}

// runStatus is what the status line tells about the open run.
type runStatus struct {
	lastStep  int
	hasStep   bool
	numbering sessions.StepNumbering // how the run numbers its steps (an imported run from one)
	// counted is the run's steps done as sessions counts them for the
	// Runs screen and a resume too (sessions.Run.Steps): where its
	// metrics.jsonl is lost, its checkpoints' count.
	counted sessions.StepCount
	// planned is the planned steps the run's newest plan event states (a
	// trainer's folder followed live, or a run of ours resumed with other
	// steps: its total came or changed after it was opened); 0: none, the
	// session's Steps hold.
	planned int
	// reward is the newest step's reward, of the step rewardStep names
	// (as its traces do), which the header says: the steps done count
	// one more than a run of ours numbers its last.
	reward     float64
	rewardStep int
	hasReward  bool
	// best is the best reward of the records that stand (NaN: none), the
	// open run's BEST REWARD on the Runs screen (followOpen).
	best   float64
	memory string      // the last step's memory for the header (memoryLabel)
	recent []stepAt    // the rate's basis: when recent steps were done (noteDone)
	pauses []pauseSpan // recent pauses, from the paused phase to the next, and gaps between sessions (noteResumed)
	// trainedAt is the time of the last event of the engine's work (a
	// phase, a checkpoint, a fatal error): a later session that resumes
	// the run did no step from then on (noteResumed).
	trainedAt time.Time
	// followedFrom is when the workbench began to follow a trainer's
	// folder: the steps already there say nothing of when they came, so
	// a run that brings none is quiet from then on (quietFor).
	followedFrom time.Time
	phase        string
	device       string // where the run computes (event.DeviceChoice.Label), from its device event
	deviceShort  string // the same in a word (ShortLabel: gpu:0, cpu), for a narrow header
	done         bool
	closed       bool
	paused       bool // as set from this UI
	// pausedAt is the step a paused engine waits to run (its paused
	// phase's), and checkpointed the step of the newest checkpoint read
	// (hasCheckpoint): a paused engine whose last step is on disk has no
	// checkpoint to write as it stops (stopEngine).
	pausedAt      int
	checkpointed  int
	hasCheckpoint bool
	// gone: no engine here drives the run, its events say its engine
	// never ended nor its writer closed it, and no live process trains it
	// (checkWriter): the process that did was killed or crashed, and the
	// run is interrupted (Model.interrupted). It reads stopped. gone says
	// what that session had done, in the listing's words
	// (sessions.Run.StateGone: it trained the run, or was loading its
	// engine to create or resume it, or recorded no step): the note says
	// so rather than that it trained it. "": not interrupted.
	gone string
	// heldUnknown: no engine here drives the run, whether another
	// process holds it is not known (its run.lock cannot be probed), and
	// its events leave open a session that would train it, or load its
	// engine to, were that process to hold the lock (checkWriter): the
	// Runs screen lists it unknown, its note saying why.
	heldUnknown bool
	// resuming: no engine here drives the run, and another process has
	// opened it to resume it and is loading its engine (checkWriter): its
	// phases still say how the last session ended, which no longer holds.
	resuming bool
	// listedStopped: no engine here drives the run and the Runs screen
	// lists it stopped, not interrupted (checkWriter): its events were cut
	// short, say, so that their last phase ("sampling") no longer says
	// where it is, and no process holds it to go on.
	listedStopped bool
	// listedFinished: no engine here drives the run and the Runs screen
	// lists it finished (checkWriter), though its events' last phase is
	// not "done": its writer was killed after the checkpoint of its last
	// planned step (sessions.Run.StateGone), and that phase ("optimiser")
	// no longer says where it is; or its engine ended "stopped" on the
	// failed save of that checkpoint (a fatal error), which its close
	// then saved.
	listedFinished bool
	// writing: no engine here drives the run, and a live process of
	// the workbench trains it (checkWriter): this workbench follows its
	// files, and says when they go quiet (quietFor) — a writer stopped
	// by a signal (SIGSTOP, ctrl+z) or hung keeps its lock but writes
	// nothing. lastWritten is when its files were last written
	// (sessions.Run.LastWritten), asked with the lock each tick.
	writing     bool
	lastWritten time.Time
	// imported: the run's config.toml records an import; no engine trains
	// it, rlt import wrote it whole or a follower appends what a trainer
	// writes, so no lock says whether it goes on.
	imported bool
}

// New returns the workbench model for opts.Session (nil: it opens on the
// Runs screen).
func New(opts Options) tea.Model { return newModel(opts) }

func newModel(opts Options) *Model {
	if opts.Theme == nil {
		opts.Theme = style.PlainTheme()
	}
	if opts.RunsDir == "" {
		opts.RunsDir = "runs"
	}
	m := &Model{opts: opts, global: keys.NewGlobal(), helpKeys: keys.NewHelp(), stopSignal: make(chan struct{}),
		launcher: opts.Launcher, runsDir: opts.RunsDir, bg: &background{}, cmp: newComparison(), now: time.Now()}
	m.runs = newRunsScreen(m)
	if s := opts.Session; s != nil && s.Run != nil {
		m.attach(&opened{Session: s})
		if notes := m.openNotes(s.Notes); len(notes) > 0 {
			m.say("%s", strings.Join(notes, "; "))
		}
	} else {
		m.attach(nil)
		m.active = scrRuns
	}
	return m
}

// attach shows o (nil: no run) with fresh screens and status.
func (m *Model) attach(o *opened) {
	m.cur = o
	m.waitStop = make(chan struct{})
	m.sh = &shared{theme: m.opts.Theme, say: m.say, cmp: m.cmp, stop: func() { m.stopEngine(false) }, checkpoint: m.checkpointNow, onward: m.trainOnward}
	openKey := ""
	if o != nil && o.Run != nil {
		openKey = absPath(o.Run.Dir())
	}
	// The open run has its colour before the dashboard draws it, the one
	// it had if it was marked; the run open before gives its up unless
	// marked.
	m.cmp.setOpen(openKey)
	if o != nil && o.Run != nil {
		m.sh.run, m.sh.store, m.sh.control, m.sh.readOnly = o.Run, o.Run.Store(), o.Control, o.IsReadOnly()
		m.sh.settings = o.Session.Settings()
		if m.cmp.has(openKey) {
			// A run marked for comparison and then opened is the open
			// run: compared with the others, not with itself, and not
			// marked again when another run is opened later (its mark
			// would come back on its row unasked, and the Runs screen
			// would count it among the runs compared). Its colour stays.
			if err := m.cmp.remove(openKey); err != nil {
				m.say("%v", err)
			}
		}
	}
	m.runStatus = runStatus{best: math.NaN()}
	if o != nil && o.Run != nil {
		m.numbering = o.Run.StepNumbering()
		_, m.imported = sessions.ImportedFrom(o.Run.Dir())
		if o.FollowsTrainer {
			m.followedFrom = m.now
		}
	}
	m.resetProblems()
	m.mCur, m.tCur, m.eCur = 0, 0, 0
	m.dash = newDashboard(m.sh)
	m.traces = newTracesScreen(m.sh)
	m.detail = newDetailScreen(m.sh)
	m.layout()
	m.pull()
	m.checkWriter() // said with the session's notes (openNotes)
	m.dash.syncCompare()
}

// checkWriter asks sessions what the open run is, when no engine of this
// workbench drives it (sessions.Run.StateGone: the rule by which the Runs
// screen lists runs, so both say the same), for what its phases cannot
// say: whether another process has opened it to resume it and is loading
// its engine (resuming), whether its last training session is gone
// without closing it (interrupted), and whether that is not known
// (heldUnknown: its run.lock cannot be probed). A run whose engine never ended, or
// whose resume died loading, and whose last training session never closed
// it, while no live process trains it, was interrupted: its writer was
// killed or crashed (run.lock left behind, unheld), and a review may hold
// it, or have opened and closed it, since: the close a review writes does
// not make the training's end clean. A finished or failed run is asked
// too: a later session may set out to resume it. It is asked once a tick
// (and on opening), since it probes run.lock on disk. It reports whether
// the interruption is newly seen, or what the gone process had done newly
// read (the note is to be said again).
func (m *Model) checkWriter() (newly bool) {
	was, wasGone := m.interrupted(), m.gone
	m.gone, m.resuming, m.writing, m.listedStopped, m.listedFinished, m.heldUnknown = "", false, false, false, false, false
	if o := m.cur; o != nil && o.Run != nil && o.Control == nil && !o.FollowsTrainer && !m.imported {
		// One probe of run.lock says both (StateGone): what the gone
		// process had done is read with the state, and the next tick
		// asks anew (a resume's session may take the gone one's place).
		st, interrupted, gone := m.sh.run.StateGone()
		m.listedStopped = st == sessions.StateStopped && !interrupted
		// Finished with a step's phase last ("optimiser"), or "stopped"
		// on a failed save its close then made, not "done": the listing
		// found its planned steps all checkpointed. Not
		// where a plan event raised its total past a "done" the header
		// read (followAgain, which leaves no phase): the header follows
		// that plan, and the listing still reads the "done".
		m.listedFinished = st == sessions.StateFinished && !m.done && m.phase != ""
		if m.writing = st == sessions.StateRunning; m.writing {
			m.lastWritten = m.sh.run.LastWritten()
		}
		if st == sessions.StateStopped && interrupted {
			m.gone = gone // never "" of an interrupted run
		}
		m.resuming = st == sessions.StateResuming
		m.heldUnknown = st == sessions.StateUnknown
	}
	// The kill is seen from run.lock, maybe before the run here has read
	// the last records the gone process wrote: when they change what it
	// had done (a step it recorded), the note is said again, rightly.
	return m.interrupted() && (!was || m.gone != wasGone)
}

// finished reports whether the open run's training is finished: its
// engine said "done", or the Runs screen lists it finished where its
// writer was killed after its last planned step's checkpoint
// (listedFinished).
func (m *Model) finished() bool { return m.done || m.listedFinished }

// interrupted reports whether the open run was interrupted: its last
// training session is gone without closing it, and what that session
// had done is said (gone, checkWriter).
func (m *Model) interrupted() bool { return m.gone != "" }

// interruptedNote says that the open run was interrupted, by what the
// gone process had done (trained it, or loaded its engine to create or
// resume it, or recorded no step: the listing's words), and how to go on.
func (m *Model) interruptedNote() string {
	if dir := m.sh.run.Dir(); !sessions.HasCheckpoint(dir) {
		// Killed before its first checkpoint: r refuses it, so the way
		// on is the refusal's (start it again), where this said r
		// resumes it "from its latest checkpoint".
		return fmt.Sprintf("%s was interrupted: %s; r cannot resume it: %s", m.openName(), m.gone, sessions.ContinueLine(dir))
	}
	return fmt.Sprintf("%s was interrupted: %s; r on the Runs screen (4) resumes it from its latest checkpoint", m.openName(), m.gone)
}

// openNotes are what the status line says of a run just opened: the
// session's notes, then how its training goes on where it is open to
// review here (resumeHint), then that it was interrupted.
func (m *Model) openNotes(notes []string) []string {
	notes = slices.Clone(notes) // appended to below: never the session's array
	if h := m.resumeHint(); h != "" {
		notes = append(notes, h)
	}
	if m.interrupted() {
		notes = append(notes, m.interruptedNote()) // says how it resumes
	}
	return notes
}

// resumeHint says how the training of a run open here with no engine,
// to review it, goes on: r on the Runs screen resumes it, or, with its
// planned steps done (its newest checkpoint after the last step its
// config.toml plans: sessions.NothingLeftToRun, as r there refuses it),
// how to plan more first. Nothing for a run
// open read-only, one an engine trains here, an import (no training to
// resume), one without a checkpoint or whose config.toml does not decode
// (r is refused, saying why), or a run interrupted (interruptedNote says
// it).
func (m *Model) resumeHint() string {
	if m.cur == nil || m.sh.readOnly || m.sh.control != nil || m.cur.FollowsTrainer || m.imported || m.interrupted() || !m.sh.settings.Known || m.sh.settings.UnknownKeys {
		return "" // a config.toml that does not decode, or holds keys unknown: its resume is refused, and the problems say why
	}
	if !sessions.HasCheckpoint(m.sh.run.Dir()) {
		return "" // r would be refused, and says why; nothing to claim here
	}
	if sessions.NothingLeftToRun(m.sh.run.Dir(), m.plannedSteps()) {
		// Its planned steps done, by the resume's own rule (r on the Runs
		// screen refuses it so): a resume has nothing to run.
		return "it has done its planned steps: " + moreSteps(m.sh.run.Dir(), m.stepsDone(), "r on the Runs screen (4)")
	}
	return "r on the Runs screen (4) resumes training"
}

// trainOnward says how the training of the open run goes on where no
// engine here steps it (p, S and c have nothing to act on): r on the Runs
// screen resumes it, or, with its planned steps done, how to plan more
// first, as r there would say (its resume has nothing to run:
// sessions.NothingLeftToRun); an import has no training to resume.
func (m *Model) trainOnward() string {
	if m.cur == nil || m.cur.FollowsTrainer || m.imported {
		return ""
	}
	if sessions.NothingLeftToRun(m.sh.run.Dir(), m.plannedSteps()) {
		return "it has done its planned steps: " + moreSteps(m.sh.run.Dir(), m.stepsDone(), "r on the Runs screen (4)")
	}
	return "4, then r on this run, resumes its training"
}

// detach stops showing the current run and returns it (for closing).
func (m *Model) detach() *opened {
	o := m.cur
	if m.waitStop != nil {
		close(m.waitStop)
	}
	m.gen++
	m.attach(nil)
	m.active = scrRuns
	return o
}

// hasRun reports whether a run is open.
func (m *Model) hasRun() bool { return m.sh.store != nil }

// engineRunning reports whether an engine in this process is still
// driving the open run.
func (m *Model) engineRunning() bool {
	return m.cur != nil && m.cur.Control != nil && !m.done && !m.closed && !m.sh.engineEnded
}

// openName names the open run for messages.
func (m *Model) openName() string {
	if m.sh.run == nil {
		return "nothing"
	}
	return filepath.Base(m.sh.run.Dir())
}

// Run runs the workbench on in and out (nil: the process's terminal) in
// the alternate screen until the user quits, Options.Stop closes or the
// terminal it reads is gone (watchTerminal). Quitting asks the Controller
// to stop; the caller waits for the engine.
func Run(opts Options, in io.Reader, out io.Writer) error {
	if opts.Theme == nil {
		w := out
		if w == nil {
			w = stdout()
		}
		opts.Theme = style.NewTheme(style.Detect(w))
	}
	in, hungUp := watchTerminal(in)
	m := newModel(opts)
	m.hungUp = hungUp
	if !isTerminal(out) {
		// No terminal, no size reports: draw at the classic size.
		m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	}
	po := []tea.ProgramOption{tea.WithAltScreen()}
	if in != nil {
		po = append(po, tea.WithInput(in))
	}
	if out != nil {
		po = append(po, tea.WithOutput(out))
	}
	if opts.Mouse {
		po = append(po, tea.WithMouseCellMotion())
	}
	if opts.Stop != nil { // the caller watches the signals (Options.Stop)
		po = append(po, tea.WithoutSignalHandler())
	}
	_, err := tea.NewProgram(m, po...).Run()
	m.shutdown()
	if m.left {
		return errors.Join(err, ErrLeft) // the runs it owns are not waited for
	}
	// Off the screen (q pressed again: leave now), the runs are still
	// ended, which Leave cuts short too.
	finished := make(chan error, 1)
	go func() { finished <- m.finish() }()
	select {
	case ferr := <-finished:
		return errors.Join(err, ferr)
	case <-opts.Leave: // nil: never
		return errors.Join(err, ErrLeft)
	}
}

// finish ends what the workbench owns once the program has exited: the
// open run (if its Close was given) and runs still being switched.
func (m *Model) finish() error {
	var errs []error
	if m.cur.owned() {
		errs = append(errs, m.cur.close())
	}
	errs = append(errs, m.cmp.close(), m.bg.finish())
	return errors.Join(errs...)
}

func (m *Model) shutdown() {
	if !m.stopped {
		m.stopped = true
		close(m.stopSignal)
		if m.opts.EndLoads != nil {
			m.opts.EndLoads() // a launch loading stops at once (Options.EndLoads)
		}
	}
}

// stopWhen says when the engine driven here stops once asked: after the
// step in progress, or at once where it is paused between steps (a paused
// engine does no step to finish first).
func (m *Model) stopWhen() string {
	if m.enginePaused() {
		return "now (it is paused)"
	}
	return "after its current step"
}

// enginePaused is whether the engine driven here waits between steps:
// its paused phase read and, where its controller says (run.Engine's
// Paused), no resume asked for since. p on a paused run resumes the
// engine at once, and its next phase is read a moment later: until then
// the paused phase still stands, and c, S and q would take the engine
// for paused while it steps (c then asked nothing of it, its checkpoint
// lost, where its last step was on disk).
func (m *Model) enginePaused() bool {
	asked, canAsk := m.pauseAsked()
	return m.paused && (!canAsk || asked)
}

// checkpointNow asks the engine driven here for a checkpoint (c) and says
// when it is written: after the step in progress, or, where the engine is
// paused between steps, after the next one (p goes on) or as the run stops
// (run.Engine.Run: a paused engine does no step to write it after). A
// paused engine whose last step is on disk already is not asked: nothing
// newer is there to write, and the ask would checkpoint the step after the
// pause besides the run's own. It said "written after the step in
// progress" of a paused engine too, whose checkpoint then never came
// until the run went on.
func (m *Model) checkpointNow() {
	paused := m.enginePaused()
	if paused && m.hasCheckpoint && m.checkpointed == m.pausedAt-1 {
		m.say("the run is paused and the checkpoint of its last step, %d, is on disk already: nothing newer to write (p goes on)", m.checkpointed)
		return
	}
	m.sh.control.CheckpointNow()
	m.sh.ckptAsked = true
	if paused {
		m.say("checkpoint requested: the run is paused, so it is written after the next step, once p goes on, or as the run stops (S or q; a line here says when)")
		return
	}
	m.say("checkpoint requested: written after the step in progress (a line here says when)")
}

// stopEngine asks the engine driven here to stop and says so: S, once
// confirmed, and q (closing: the workbench ends the run right after,
// which waits for the engine and writes the final checkpoint: Session.Close)
// both stop it here, so that they ask the engine the same and the header
// says stopping after either. The engine is also asked for a checkpoint,
// which it writes of the step it ends on, or, paused, of its last step as
// it stops (run.Engine.Run), so that a run stopped with S has its last
// step on disk at once, not only once the workbench closes it; a paused
// engine whose last step is on disk already writes none. It reports
// whether an engine was still running to stop.
func (m *Model) stopEngine(closing bool) bool {
	c := m.sh.control
	if c == nil {
		return false
	}
	running := m.engineRunning()
	onDisk := m.enginePaused() && m.hasCheckpoint && m.checkpointed == m.pausedAt-1
	if running {
		c.CheckpointNow()
		// The checkpoint's line says where it is; q's own line (leave
		// now) stays.
		m.sh.ckptAsked = m.sh.ckptAsked || (!closing && !onDisk)
	}
	c.Stop()
	switch {
	case !running:
		m.say("the engine has stopped: nothing to stop")
	case closing:
		m.say("stopping %s %s, then writing its final checkpoint… (q again: leave now)", m.openName(), m.stopWhen())
	case onDisk:
		m.say("stopping %s %s: the checkpoint of its last step, %d, is on disk already", m.openName(), m.stopWhen(), m.checkpointed)
	default:
		m.say("stopping %s %s, then writing its final checkpoint (a line here says when)…", m.openName(), m.stopWhen())
	}
	m.sh.stopAsked = m.sh.stopAsked || running
	return running
}

// request opens a run in place of the current one, asking first when that
// stops an engine that is still running.
func (m *Model) request(req launchReq) tea.Cmd {
	if m.switching != "" {
		m.say("busy: %s", m.switching)
		return nil
	}
	if m.engineRunning() {
		m.runs.confirm = &req
		return nil
	}
	return m.switchRun(req)
}

// launchResult is what a switch of runs produced.
type launchResult struct {
	req      launchReq
	o        *opened
	err      error
	closeErr error // ending the previous run
	// reopened is the previous run opened again read-only when req failed,
	// so that a refused switch does not leave the workbench with no run.
	reopened *opened
}

// switchRun ends the current run and launches req, both off the event
// loop: ending waits for the engine's step in progress.
func (m *Model) switchRun(req launchReq) tea.Cmd {
	if m.launcher == nil {
		m.runs.say(true, "this workbench was started without a launcher: it cannot open runs")
		return nil
	}
	if m.switching != "" {
		m.say("busy: %s", m.switching)
		return nil
	}
	name := m.openName()
	prevDir := ""
	if m.sh.run != nil {
		prevDir = m.sh.run.Dir()
	}
	// A run of ours open writable (to review, or trained here) is opened
	// again to review where the switch is refused: read-only would lose
	// its reviews for nothing. OpenForReview opens it read-only where
	// another process has taken it since.
	prevReview := m.cur != nil && !m.cur.IsReadOnly() && !m.cur.FollowsTrainer
	ending := fmt.Sprintf("closing %s", name) // a run viewed: no engine to stop
	if m.engineRunning() {
		ending = fmt.Sprintf("stopping %s %s", name, m.stopWhen())
	}
	old := m.detach()
	m.switching = req.String()
	if old != nil {
		m.switching = fmt.Sprintf("%s, then: %s", ending, req)
	}
	l, bg, quit := m.launcher, m.bg, m.stopSignal
	res := &launchResult{req: req}
	bg.wg.Add(1)
	return func() tea.Msg {
		defer bg.wg.Done()
		res.closeErr = old.close()
		select {
		case <-quit:
			// The workbench quit while the previous run ended: the launch
			// is not begun, so that no run folder is made, or resumed, for
			// a run nobody will see (its load would stop at once:
			// Options.EndLoads). Ending the previous run is said as ever,
			// and a new run or a resume so stopped as one the quit
			// stopped during the launcher's checks is (notBegun): it was
			// said not at all, the exit 0, where a quit a moment later
			// said the launch stopped, exit 1.
			res.err = notBegun(req)
			if res.closeErr != nil || res.err != nil {
				bg.put(res)
			}
			return nil
		default:
		}
		var s *sessions.Session
		var err error
		switch req.kind {
		case launchStart:
			s, err = l.Start(req.cfg)
		case launchResume:
			s, err = l.Resume(req.dir)
		case launchReview:
			s, err = l.OpenForReview(req.dir)
		default:
			s, err = l.OpenReadOnly(req.dir)
		}
		if err == nil && (s == nil || s.Run == nil) {
			err = errors.New("the launcher returned no run")
		}
		if s != nil && s.Run != nil {
			res.o = &opened{Session: s}
		}
		res.err = err
		if err != nil && prevDir != "" {
			reopen := l.OpenReadOnly
			if prevReview {
				reopen = l.OpenForReview
			}
			if ps, perr := reopen(prevDir); perr == nil && ps != nil && ps.Run != nil {
				res.reopened = &opened{Session: ps}
			}
		}
		bg.put(res)
		return launchedMsg{res}
	}
}

// errQuitFirst is why a launch the workbench quit before was not begun.
var errQuitFirst = errors.New("the workbench quit before it began")

// notBegun is why req, a launch the workbench quit before it began, left
// nothing, in the words of the launcher's refusal of one its quit stopped
// during its checks (sessions.LaunchStoppedError), which the exit says as
// a launch that did not run (exit 1, as a load the quit stopped); nil for
// an open to review or read a run, which trains nothing.
func notBegun(req launchReq) error {
	switch req.kind {
	case launchStart:
		return &sessions.LaunchStoppedError{Err: errQuitFirst}
	case launchResume:
		// With how the run goes on, as the launcher's stopped resume says
		// it (runner.Launcher.Resume): the quit left it as it was.
		return fmt.Errorf("%w; %s", &sessions.LaunchStoppedError{Resume: true, Err: errQuitFirst}, sessions.ContinueLine(req.dir))
	}
	return nil
}

// launched shows the run a switch opened, or why it did not.
func (m *Model) launched(res *launchResult) tea.Cmd {
	if !m.bg.take(res) {
		return nil
	}
	m.switching = ""
	if res.closeErr != nil {
		m.runs.say(true, "ending the previous run: %v", res.closeErr)
	}
	if res.err != nil {
		if res.o != nil {
			res.o.close()
		}
		m.runs.failed(res.req, res.err)
		m.active = scrRuns
		if res.reopened != nil { // the run that was open stays open: to review, or read-only
			m.attach(res.reopened)
			how := "to review"
			if res.reopened.IsReadOnly() {
				how = "read-only"
			}
			m.runs.note(fmt.Sprintf("%s is open again, %s", filepath.Base(res.reopened.Run.Dir()), how))
			return tea.Batch(m.waitChanged(), m.runs.refresh())
		}
		return m.runs.refresh()
	}
	m.attach(res.o)
	m.runs.launched(res.req, res.o)
	m.active = scrDashboard
	notes := m.openNotes(res.o.Notes)
	if errs, warns, _ := problemCounts(m.problemList()); errs+warns > 0 {
		notes = append(notes, fmt.Sprintf("! lists %s", nouns.Count(errs+warns, "problem")))
	}
	if len(notes) > 0 {
		m.say("%s", strings.Join(notes, "; "))
	}
	return tea.Batch(m.waitChanged(), m.runs.refresh())
}

// back leaves the Runs screen for the screen it was entered from.
func (m *Model) back() {
	if !m.hasRun() {
		m.say("no run open: enter opens the selected one, n starts a new one")
		return
	}
	m.active = m.prev
	if m.active == scrRuns {
		m.active = scrDashboard
	}
}

func (m *Model) say(format string, args ...any) {
	m.msg = fmt.Sprintf(format, args...)
	m.msgAt = time.Now()
	m.msgN++
}

// msgShown is how long a message is shown: the first tick after it
// clears it.
const msgShown = 6 * time.Second

// expired reports whether a message said at at (zero: none) has been
// shown long enough by now.
func expired(at, now time.Time) bool { return !at.IsZero() && now.Sub(at) > msgShown }

// Init starts waiting for data and the status tick (and lists the runs
// when the workbench opens on the Runs screen).
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.waitChanged(), tick()}
	if m.active == scrRuns {
		cmds = append(cmds, m.runs.refresh())
	}
	for _, w := range []struct {
		ch  <-chan struct{}
		msg tea.Msg
	}{
		{m.opts.Stop, stopSignalMsg{}},
		{m.opts.Leave, leaveMsg{}},
		{m.hungUp, quitMsg{}},
	} {
		if w.ch != nil {
			cmds = append(cmds, m.onClose(w.ch, w.msg))
		}
	}
	return tea.Batch(cmds...)
}

// onClose gives msg once ch closes (a stop signal, a second one, the
// terminal gone), or nothing once the workbench has shut down
// (stopSignal), so that its wait does not outlive the program.
func (m *Model) onClose(ch <-chan struct{}, msg tea.Msg) tea.Cmd {
	ended := m.stopSignal
	return func() tea.Msg {
		select {
		case <-ch:
			return msg
		case <-ended:
			return nil
		}
	}
}

// waitChanged waits for the store's change signal, then a little longer
// so that a burst of records becomes one pull.
func (m *Model) waitChanged() tea.Cmd {
	if m.sh.store == nil {
		return nil
	}
	ch, stop, detached, gen := m.sh.store.Changed(), m.stopSignal, m.waitStop, m.gen
	return func() tea.Msg {
		select {
		case <-ch:
		case <-stop:
			return nil
		case <-detached:
			return nil
		}
		t := time.NewTimer(coalesce)
		defer t.Stop()
		select {
		case <-t.C:
		case <-stop:
			return nil
		case <-detached:
			return nil
		}
		return changedMsg{gen}
	}
}

func tick() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// pull takes what is new in the store from the saved cursors.
func (m *Model) pull() {
	st := m.sh.store
	if st == nil {
		return
	}
	if m.sh.run != nil {
		m.counted = m.sh.run.Steps()
	}
	ms, cur := st.MetricsSince(m.mCur)
	if cur-len(ms) == 0 && m.mCur > 0 { // the store was reset or superseded
		// A resume superseded the steps after its checkpoint: the count
		// goes back to the records that stand, which ms holds again.
		m.dash.clear()
		m.recent = m.recent[:0]
		m.hasStep, m.lastStep, m.hasReward, m.memory = false, 0, false, ""
		m.best = math.NaN()
	}
	m.mCur = cur
	if len(ms) > 0 {
		m.dash.add(ms)
		for _, r := range ms {
			// The header's step is the highest recorded, with its reward
			// and memory (sessions.StepNumbering.StepsDone says why): a
			// record of an earlier step that comes later (its late values,
			// a trainer's records out of order) changes neither.
			if !m.hasStep || r.Step >= m.lastStep {
				m.lastStep, m.hasStep = r.Step, true
				if v, ok := r.Get("reward"); ok {
					m.reward, m.rewardStep, m.hasReward = v, r.Step, true
				}
				if mem := memoryLabel(r.Get); mem != "" {
					m.memory = mem
				}
			}
			if v, ok := r.Get("reward"); ok && !(v <= m.best) && !math.IsNaN(v) {
				m.best = v
			}
			m.noteDone(r.Step, r.Time)
		}
		if n := len(m.recent); n > 64 {
			m.recent = append(m.recent[:0], m.recent[n-64:]...)
		}
	}
	ts, cur := st.TracesSince(m.tCur)
	if cur-len(ts) == 0 && m.tCur > 0 {
		m.traces.clear()
		m.probs.gaps = m.probs.gaps[:0]
	}
	m.tCur = cur
	m.traces.add(ts)
	for i := range ts {
		m.probs.noteTrace(ts[i])
	}
	m.probs.stale = true // the store's issues may have grown too
	evs, cur := st.EventsSince(m.eCur)
	m.eCur = cur
	fatal := ""
	for _, e := range evs {
		m.probs.note(e)
		switch e.Kind {
		case sessions.KindPhase, sessions.KindCheckpoint, sessions.KindError:
			m.trainedAt = e.Time
		case sessions.KindResume:
			m.noteResumed(e.Time)
		}
		switch e.Kind {
		case sessions.KindDevice:
			m.device, m.deviceShort = e.Device.Label(), e.Device.ShortLabel()
		case sessions.KindPlan:
			m.planned = e.Count
			if m.done && e.Count > m.stepsDone() {
				// A followed trainer's run said done goes on to a larger
				// total (resumed with another max_steps): it is not done
				// until a new done phase says so. When the resumed trainer
				// did the steps read with the new plan, or before, is
				// unknown (it sat done for a while): the pace counts from
				// them on.
				m.followAgain(e.Time)
			}
		case sessions.KindPhase:
			m.phase = e.Name
			m.done = e.Name == "done"
			if e.Name == "stopped" || e.Name == "done" {
				m.sh.engineEnded, m.sh.stopAsked = true, false
			}
			if e.Name == "paused" {
				m.paused, m.pausedAt = true, e.Step
				m.pauses = append(m.pauses, pauseSpan{from: e.Time})
				if n := len(m.pauses); n > 16 {
					m.pauses = append(m.pauses[:0], m.pauses[n-16:]...)
				}
			} else if m.paused && e.Name != "done" {
				m.paused = false
			}
			if n := len(m.pauses); e.Name != "paused" && n > 0 && m.pauses[n-1].to.IsZero() {
				m.pauses[n-1].to = e.Time
			}
		case sessions.KindClose:
			m.closed = true
			m.resuming = false // the session that loaded it ended, refused or not (checkWriter asks again)
		case sessions.KindCreate, sessions.KindOpen, sessions.KindResume:
			m.closed = false
			if e.Kind != sessions.KindOpen {
				// A session that trains starts a new state.
				m.phase, m.done, m.paused, m.sh.engineEnded = "", false, false, false
			}
			if e.Kind == sessions.KindResume {
				// A later session continues the training: no longer failed
				// (the error stays listed among the problems), and its
				// engine has loaded (no longer resuming).
				m.probs.fatal, fatal = "", ""
				m.resuming = false
				// Its checkpoint is the newest that stands: one an
				// earlier session wrote past it (its event read above)
				// is superseded, the resume having found it unusable or
				// gone, so a paused engine's last step is not on disk for
				// it (checkpointNow, stopEngine).
				m.checkpointed, m.hasCheckpoint = e.Step, true
			}
		case sessions.KindError:
			if e.Fatal {
				fatal = e.Error
				m.sh.engineEnded, m.sh.stopAsked = true, false
			}
		case sessions.KindCheckpoint:
			m.checkpointed, m.hasCheckpoint = e.Step, true
			if m.sh.ckptAsked {
				// c asked for it: say that it is on disk, and where.
				m.sh.ckptAsked = false
				m.say("checkpoint of step %d written: %s", e.Step, filepath.Join(m.sh.run.Dir(), e.Dir))
			}
		}
	}
	if p := m.plannedSteps(); m.done && m.cur.FollowsTrainer && p > 0 && m.stepsDone() > p {
		// A followed trainer said done (its planned steps were) whose folder
		// now holds more steps: the plan its files stated was not its end
		// (raised after the steps were written, or wrong). It is followed
		// again, its count past the plan (StepsLabel), and its pace counts
		// from the steps read from now on, as after a new plan. No new done
		// comes: the workbench does not know its end.
		var from time.Time // the last step read (none: every step counts)
		if n := len(m.recent); n > 0 {
			from = m.recent[n-1].t
		}
		m.followAgain(from)
	}
	if fatal != "" {
		m.say("the run stopped: %s (! lists the problems)", oneLine(fatal))
	}
	m.traces.touch()        // labels may have changed
	m.detail.storeChanged() // and a rescore of the open trace may have arrived
}

// Update handles messages. The Runs screen's rows then follow what the
// message changed of the open run (runsScreen.followOpen), and what the
// frame draws settles what it will show (settle), here rather than where
// it is drawn: drawing does not change the Model. Bubble Tea draws the
// frame after each message, and the first frame only once the size is
// known (a message too), so that settling here is settling before every
// frame.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	was, said := m.active, m.msgN
	cmd := m.update(msg)
	if m.active != was && m.msgN == said {
		// A message answers what was done or seen on the screen it was
		// said on (a key refused there, what a key did): on another one
		// it reads as said of that one, so it ends with the move. One
		// said with the move (what opening a trace found, the run open
		// here) is of the screen moved to, and stays.
		m.msg, m.msgAt = "", time.Time{}
	}
	if m.active == scrRuns {
		m.runs.followOpen()
	}
	m.settle()
	return m, cmd
}

// settle brings what the next frame draws (View) up to date: the open
// run's problems, which the header counts, listed again where they may
// have changed (problemList); the first line shown of the help or of the
// problems over the screen; or the screen drawn (settler: the rows to
// show, which rows are in sight, the frame it caches).
func (m *Model) settle() {
	if m.w <= 0 || m.h <= 0 || m.w < MinWidth || m.h < MinHeight {
		return // "Terminal too small" (View)
	}
	m.problemList()
	switch {
	case m.help:
		all, rows := m.helpLines(m.bodyHeight())
		m.helpTop = helpScroll(m.helpTop, len(all), rows)
	case m.probs.open && m.hasRun():
		m.settleProblems(m.bodyHeight())
	}
	if s, ok := m.drawn().(settler); ok {
		s.settle()
	}
}

// drawn is the screen whose View the frame shows, nil where it shows none:
// on a terminal too small, under the help or the problems, or on a
// screen of the open run with no run open.
func (m *Model) drawn() screen {
	switch {
	case m.w <= 0 || m.h <= 0 || m.w < MinWidth || m.h < MinHeight, m.help, m.probs.open && m.hasRun():
		return nil
	case m.active != scrRuns && !m.hasRun():
		return nil
	}
	return m.screen(m.active)
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = max(msg.Width, 0), max(msg.Height, 0)
		m.layout()
		return nil
	case changedMsg:
		if msg.gen != m.gen || !m.hasRun() {
			return nil // from a run no longer shown
		}
		m.pull()
		return m.waitChanged()
	case tickMsg:
		m.now = time.Time(msg) // the header's "no new step for" and ETA move on
		if expired(m.msgAt, m.now) {
			m.msg, m.msgAt = "", time.Time{}
		}
		if m.active == scrRuns {
			m.runs.expire(m.now)
		}
		if m.hasRun() {
			m.dash.pollCompare() // the compared runs' new records
			if m.checkWriter() {
				m.say("%s", m.interruptedNote())
			}
		}
		if m.active == scrRuns && m.runs.stale(time.Time(msg)) {
			return tea.Batch(tick(), m.runs.refresh())
		}
		return tick()
	case openMsg:
		if m.hasRun() {
			m.open(msg.id)
		}
		return nil
	case backMsg:
		m.active = scrTraces
		return nil
	case runsListedMsg:
		m.runs.listed(msg)
		return nil
	case resumeCheckedMsg:
		return m.runs.resumeChecked(msg)
	case launchedMsg:
		return m.launched(msg.res)
	case quitMsg:
		m.shutdown()
		return tea.Quit
	case stopSignalMsg:
		// As q, once: no key answers a signal, so an unsaved draft is
		// not asked about (it is lost either way).
		m.draftDropped = true
		return m.quit()
	case leaveMsg:
		m.left = true
		m.shutdown()
		return tea.Quit
	case tea.MouseMsg:
		m.mouse(msg)
		return nil
	case tea.KeyMsg:
		// Keys typed faster than the terminal is read (a held key, a slow
		// link) arrive as one message of several runes ("jjjj"), which no
		// binding matches: each is its own key. A paste stays whole.
		if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
			cmds := make([]tea.Cmd, 0, len(msg.Runes))
			for _, r := range msg.Runes {
				cmds = append(cmds, m.key(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: msg.Alt}))
			}
			return tea.Batch(cmds...)
		}
		return m.key(msg)
	}
	return nil
}

// wheeler is a screen the mouse wheel scrolls.
type wheeler interface{ wheel(d int) }

func (m *Model) mouse(msg tea.MouseMsg) {
	if m.help || msg.Action != tea.MouseActionPress {
		return
	}
	d := 0
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		d = -1
	case tea.MouseButtonWheelDown:
		d = 1
	default:
		return
	}
	if m.probs.open {
		list := m.problemList()
		m.probs.sel = min(max(m.probs.sel+d, 0), max(len(list)-1, 0))
		return
	}
	if w, ok := m.screen(m.active).(wheeler); ok && (m.active == scrRuns || m.hasRun()) {
		w.wheel(d)
	}
}

func (m *Model) open(id string) {
	if id == "" {
		return
	}
	if m.detail.setTrace(id) {
		m.active = scrDetail
		m.traces.selectID(id)
	}
}

func (m *Model) screen(id screenID) screen {
	switch id {
	case scrTraces:
		return m.traces
	case scrDetail:
		return m.detail
	case scrRuns:
		return m.runs
	}
	return m.dash
}

// quit leaves the workbench. With an engine running here that the
// workbench owns, it first ends the run (the step in progress, the final
// checkpoint) while still on screen; pressing quit again leaves at once
// (Run still waits for the engine before returning).
func (m *Model) quit() tea.Cmd {
	if m.runs.draftEdited() && !m.draftDropped {
		// The draft configuration is only in memory: a second press quits.
		m.draftDropped = true
		m.say("the new run's draft configuration has edits that are not saved anywhere: press q or ctrl+c again to quit without them")
		return nil
	}
	if m.quitting {
		m.shutdown()
		return tea.Quit
	}
	if o := m.cur; m.stopEngine(o.owned()) && o.owned() {
		// The header says stopping until the program exits, as after S:
		// the engine has been asked to stop and ends its step first.
		m.quitting = true
		bg := m.bg
		bg.wg.Add(1)
		return func() tea.Msg {
			defer bg.wg.Done()
			o.close() // its error is Run's to report
			return quitMsg{}
		}
	}
	m.shutdown()
	return tea.Quit
}

func (m *Model) key(k tea.KeyMsg) tea.Cmd {
	if k.Type == tea.KeyCtrlC {
		return m.quit()
	}
	if m.w < MinWidth || m.h < MinHeight {
		// The frame says only "Terminal too small": no key acts unseen
		// (a review, a screen switch), but quitting still works.
		if key.Matches(k, m.global.Quit) {
			return m.quit()
		}
		return nil
	}
	if !key.Matches(k, m.global.Quit) {
		m.draftDropped = false // any other key: a later quit asks again
	}
	if m.help {
		// Over a screen or over the problems view (? there): esc goes
		// back to what it was opened over.
		switch {
		case key.Matches(k, m.global.Quit):
			return m.quit()
		case key.Matches(k, m.global.Help), k.Type == tea.KeyEsc:
			m.help = false
		default:
			m.helpKey(k)
		}
		return nil
	}
	if m.probs.open {
		return m.problemsKey(k)
	}
	scr := m.screen(m.active)
	if scr.Capturing() {
		return scr.Update(k)
	}
	if id, ok := m.screenKey(k); ok {
		return m.switchTo(id)
	}
	switch {
	case key.Matches(k, m.global.Quit):
		return m.quit()
	case key.Matches(k, m.global.Help):
		m.help, m.helpTop = true, 0
		return nil
	case key.Matches(k, m.global.Problems):
		m.openProblems()
		return nil
	}
	if m.active != scrRuns && !m.hasRun() {
		return nil
	}
	if b, ok := m.dashboardOnly(k); ok {
		if m.sh.control == nil || m.sh.engineEnded {
			// Nothing to control here at all: said as the Dashboard says
			// it (read-only, open to review, engine stopped), not sent there.
			return m.dash.control(k)
		}
		m.say("%s (%s) works on the Dashboard: 1, then %s", b.Help().Key, b.Help().Desc, b.Help().Key)
		return nil
	}
	return scr.Update(k)
}

// screenKey is the screen k asks for, where k is a screen key (tab,
// shift-tab, 1–4, the Runs key): from a screen, or from the problems view
// over it (which it closes).
func (m *Model) screenKey(k tea.KeyMsg) (screenID, bool) {
	switch {
	case key.Matches(k, m.global.NextScreen):
		return (m.active + 1) % numScreens, true
	case key.Matches(k, m.global.PrevScreen):
		return (m.active + numScreens - 1) % numScreens, true
	case key.Matches(k, m.global.GoScreen):
		return screenID(k.String()[0] - '1'), true
	case key.Matches(k, m.global.Runs):
		return scrRuns, true
	}
	return 0, false
}

// dashboardOnly is the Dashboard's run control (p, S, c) k presses on
// the Traces or the Detail screen, which bind none of them: pressed
// there they did nothing, unsaid, so the status line says where they
// act. The Runs screen has its own c (and a run on each row that p or S
// would seem to name).
func (m *Model) dashboardOnly(k tea.KeyMsg) (key.Binding, bool) {
	if m.active != scrTraces && m.active != scrDetail {
		return key.Binding{}, false
	}
	for _, b := range []key.Binding{m.dash.keys.Pause, m.dash.keys.Stop, m.dash.keys.Checkpoint} {
		if !key.Matches(k, b) {
			continue
		}
		for _, col := range m.screen(m.active).FullHelp() {
			for _, own := range col {
				if key.Matches(k, own) {
					return key.Binding{}, false
				}
			}
		}
		return b, true
	}
	return key.Binding{}, false
}

func (m *Model) switchTo(id screenID) tea.Cmd {
	if id == m.active {
		return nil
	}
	if id == scrRuns {
		m.prev, m.active = m.active, scrRuns
		m.runs.shown()
		return m.runs.refresh()
	}
	if !m.hasRun() {
		if m.switching != "" {
			m.say("%s…", m.switching)
		} else {
			m.say("no run open: choose one on this screen (enter opens it read-only, r resumes it, n starts a new one)")
		}
		return nil
	}
	if id == scrDetail && !m.detail.loaded() {
		if sel := m.traces.selectedID(); sel != "" {
			m.detail.setTrace(sel)
		} else {
			m.say("no trace to show yet")
			return nil
		}
	}
	m.active = id
	return nil
}

func (m *Model) bodyHeight() int { return max(m.h-2, 1) }

func (m *Model) layout() {
	bh := m.bodyHeight()
	m.dash.SetSize(m.w, bh)
	m.traces.SetSize(m.w, bh)
	m.detail.SetSize(m.w, bh)
	m.runs.SetSize(m.w, bh)
}

func (m *Model) helpStyle() keys.HelpStyle { return keys.DefaultHelpStyle(m.sh.theme) }

// tooSmall is the frame below MinWidth×MinHeight: its phrases as many to a
// line as w holds, so that a narrow terminal shows each whole on a line of
// its own and a short one all of them on few lines. Where h holds fewer
// lines, or w not its longest phrase, it says less, in shorter words, but
// always the size needed and that q quits (what can be done there): the
// first h lines of five dropped "q quits." in a pane of 80×4, and keeping
// the last line only dropped "need 60×15" at one line of height.
func tooSmall(w, h int) string {
	need, now := fmt.Sprintf("%d×%d", MinWidth, MinHeight), fmt.Sprintf("%d×%d", w, h)
	for _, phrases := range [][]string{
		{"Terminal too small:", "need " + need + ",", "now " + now + ".", "Enlarge it;", "q quits."},
		{"Too small:", "need " + need + ",", "now " + now + ".", "q quits."},
		{"Too small:", "need " + need + ".", "q quits."},
		{"Need " + need + ".", "q quits."},
		{need + ";", "q quits."},
	} {
		if lines := wrapPhrases(phrases, w); len(lines) <= h && !slices.ContainsFunc(lines, func(l string) bool { return width(l) > w }) {
			return strings.Join(lines, "\n")
		}
	}
	// One line too narrow for both: what can be done there.
	return fit("q quits.", w)
}

// wrapPhrases puts phrases as many to a line as w holds, a space between.
func wrapPhrases(phrases []string, w int) []string {
	var lines []string
	for _, p := range phrases {
		if n := len(lines); n > 0 && width(lines[n-1])+1+width(p) <= w {
			lines[n-1] += " " + p
			continue
		}
		lines = append(lines, p)
	}
	return lines
}

// View renders the whole frame: status line, screen body, footer.
func (m *Model) View() string {
	if m.w <= 0 || m.h <= 0 {
		return ""
	}
	if m.w < MinWidth || m.h < MinHeight {
		// q (and ctrl+c) still act here (key), which the frame says, as no
		// key bar does.
		return tooSmall(m.w, m.h)
	}
	scr := m.screen(m.active)
	bh := m.bodyHeight()
	var body []string
	if m.help {
		body = m.helpBody(bh)
	} else if m.probs.open && m.hasRun() {
		body = m.problemsBody(m.w, bh)
	} else if d := m.drawn(); d != nil {
		body = splitLines(d.View())
	} else {
		body = []string{screenNames[m.active], "", "no run open: press 4 for the Runs screen"}
	}
	foot := m.footerLines(scr, bh)
	lines := make([]string, 0, m.h)
	lines = append(lines, fit(m.statusLine(), m.w))
	lines = append(lines, block(body, m.w, bh+1-len(foot))...)
	lines = append(lines, foot...)
	return strings.Join(lines, "\n")
}

// helpLines is the help overlay's lines of the keys of what it is over
// (helpOver) and the global ones, and how many of them the body bh high
// shows.
func (m *Model) helpLines(bh int) (all []string, rows int) {
	_, over := m.helpOver()
	groups := append(append([][]key.Binding{}, over...), m.global.FullHelp()...)
	return splitLines(keys.FullHelpView(groups, m.w, 0, m.helpStyle())), max(bh-2, 1)
}

// helpOver names what the help overlay is over, and its keys: the
// problems view where ? was pressed there, else the screen shown.
func (m *Model) helpOver() (name string, groups [][]key.Binding) {
	if m.probs.open && m.hasRun() {
		return "Problems", m.probs.keys.FullHelp()
	}
	return screenNames[m.active], m.screen(m.active).FullHelp()
}

// helpScroll is the first of total lines of the help overlay to show,
// rows at a time, from top (m.helpTop, where helpKey scrolled it): held
// to the last page, 0 where the overlay is shown whole. settle keeps
// m.helpTop to it.
func helpScroll(top, total, rows int) int {
	if total > rows {
		return min(max(top, 0), total-rows)
	}
	return 0
}

// helpBody is the help overlay, from line m.helpTop of it when it is
// taller than the body (j, k, PgDn, PgUp scroll it: helpKey).
func (m *Model) helpBody(bh int) []string {
	all, rows := m.helpLines(bh)
	name, _ := m.helpOver()
	head := "Keys: " + name + " (? or esc closes)"
	if len(all) > rows {
		top := helpScroll(m.helpTop, len(all), rows) // m.helpTop, settled
		head = fmt.Sprintf("Keys: %s %d–%d/%d · j/k scroll · esc closes", name, top+1, top+rows, len(all))
		all = all[top : top+rows]
	}
	return append([]string{m.sh.theme.Paint(style.Spec{Attr: style.Bold}, head), ""}, all...)
}

// helpKey scrolls the help overlay with a list's keys (keys.Help); the
// far end is held in range after the key (settle, helpScroll).
func (m *Model) helpKey(k tea.KeyMsg) {
	const toAnEnd = 1 << 20 // Top and Bottom move by the count given
	if d, ok := m.helpKeys.Move(k, max(m.bodyHeight()-3, 1), toAnEnd); ok {
		m.helpTop = max(m.helpTop+d, 0)
	}
}

// footerLines is the footer: one line of keys, or the message said, on up
// to msgLines lines over the bottom of the body (for the few seconds it
// shows) when it is wider than the terminal: a message is read whole, not
// cut where the terminal ends.
func (m *Model) footerLines(scr screen, bh int) []string {
	if m.msg == "" {
		return []string{fit(m.keysLine(scr), m.w)}
	}
	paint := m.sh.theme.Paint
	lines := wrap(m.msg, m.w, min(msgLines, max(bh/2, 1)))
	if len(lines) == 0 { // a message of spaces alone
		return []string{""}
	}
	for i, l := range lines {
		lines[i] = paint(style.FG(style.Orange).With(style.Bold), l)
	}
	return lines
}

// msgLines is the most lines a message takes.
const msgLines = 4

// keysLine is the footer's line of the keys at hand (footerLines).
func (m *Model) keysLine(scr screen) string {
	if m.probs.open && m.hasRun() {
		km := m.probs.keys
		if list := m.problemsShown(); m.probs.sel >= len(list) || list[m.probs.sel].trace == "" {
			// enter opens the trace the selected problem is about: of an
			// engine's error or a skipped data row it only says that it is
			// about none, which the bar promised as "enter open the trace
			// it is about" (the help page still lists the key).
			km.Open.SetEnabled(false)
		}
		return keys.ShortHelpView(append(km.ShortHelp(), m.global.Quit), m.w, m.helpStyle())
	}
	b := append([]key.Binding{}, scr.ShortHelp()...)
	if !scr.Capturing() { // while a screen takes the keys the global ones are off
		for _, g := range m.global.ShortHelp() {
			if !m.goesHere(g) {
				b = append(b, g)
			}
		}
	}
	return keys.ShortHelpView(b, m.w, m.helpStyle())
}

// goesHere is whether each key of b goes to the screen on now (screenKey),
// as the Runs key does on the Runs screen: the key bar leaves such a key
// out, as pressing it there does nothing. A key that is no single rune
// counts as going elsewhere: the screen keys of that kind (tab,
// shift+tab) go to the next or previous screen.
func (m *Model) goesHere(b key.Binding) bool {
	for _, k := range b.Keys() {
		r := []rune(k)
		if len(r) != 1 {
			return false
		}
		if id, ok := m.screenKey(tea.KeyMsg{Type: tea.KeyRunes, Runes: r}); !ok || id != m.active {
			return false
		}
	}
	return len(b.Keys()) > 0
}

// state is the run's true state: running (with the step's phase unless
// phaseShown: the progress line beside it names it), paused, stopping,
// stopped (interrupted when its last training session never said so:
// checkWriter), resuming (another process loads its engine: checkWriter),
// unknown (whether a process trains it is not known: checkWriter),
// finished or failed, or following for another trainer's folder
// followed live and not yet done (and read-only when there are no
// controls).
func (m *Model) state(phaseShown bool) string {
	_, s := m.runState(phaseShown)
	return s
}

// runState is state as data: st is the run's state as the Runs screen
// lists it (sessions.RunState), "" for the moments only the header shows
// (waiting, starting, pausing, stopping, following); text is the header's
// words, st's or the moment's, with what the header says on top of them
// (", interrupted", "(read-only)", "(review)", then the step's phase).
func (m *Model) runState(phaseShown bool) (st sessions.RunState, text string) {
	// The engine says at once that a pause was asked for; the paused phase
	// comes when the step in progress has ended. A viewer without the
	// engine has only the phase.
	asked, canAsk := m.pauseAsked()
	prog, hasProg := m.progressShown() // before a phase event, what the engine does
	// A state the Runs screen also lists is st, said in its words, so the
	// header and the listing of one run never name it two ways; the rest
	// (stopping, pausing, following …) are moments only the header sees.
	more := ""  // what the header says of st past its word
	phase := "" // the step's phase, said after the state and its marks
	switch {
	case m.resuming:
		// Another process loads its engine to resume it: how its last
		// session ended (stopped, finished, failed) no longer holds, and
		// the Runs screen lists it resuming.
		st = sessions.StateResuming
	case m.heldUnknown:
		// Its phases say it runs, is paused or loads to resume, and
		// whether a process does is not known (its run.lock cannot be
		// probed): the Runs screen lists it unknown, noting why.
		st = sessions.StateUnknown
	case m.interrupted():
		// Its phases say it runs, or is paused, or (when a resume died
		// loading) how an earlier session ended, but nothing trains it:
		// the Runs screen lists it stopped, its writer's exit unclean.
		st, more = sessions.StateStopped, ", interrupted"
	case m.listedStopped && !m.done && m.probs.fatal == "":
		// Its last phase may say it runs (its events cut in a step): no
		// process does, and the Runs screen lists it stopped.
		st = sessions.StateStopped
	case m.probs.fatal != "" && !m.listedFinished:
		// Not where the Runs screen lists it finished all the same: its
		// engine ended on the failed save of its last planned step, and
		// its close saved it after all (sessions' closeSavedNote).
		st = sessions.StateFailed
	case m.finished():
		st = sessions.StateFinished
	case m.phase == "stopped":
		st = sessions.StateStopped
	case m.sh.stopAsked && m.enginePaused():
		text = "stopping" // a paused engine has no step in progress
	case m.sh.stopAsked:
		text = "stopping (after the step in progress)"
	case canAsk && asked && !m.paused:
		text = "pausing (after the step in progress)"
	case m.enginePaused():
		st = sessions.StatePaused
	case m.closed:
		// Its last session closed it with no engine's end said (a review
		// of it, or a session that ended before training): the Runs
		// screen lists it stopped.
		st = sessions.StateStopped
	case m.cur != nil && m.cur.FollowsTrainer:
		// The trainer's files may never say it ended (verl's, NeMo-RL's):
		// what the workbench knows is that it follows them.
		text = "following"
	case m.phase != "" && m.phase != "paused" && !phaseShown:
		st, phase = sessions.StateRunning, " · "+m.phase
	case m.phase != "" && m.phase != "paused":
		st = sessions.StateRunning
	case m.hasStep:
		st = sessions.StateRunning
	case hasProg && prog.Step >= 0:
		// Its engine reports a step's phase under way (sampling 0/96
		// tokens) with no phase event read yet: it has loaded and runs,
		// as the progress line beside the state says.
		st = sessions.StateRunning
	case hasProg:
		// It reports what it loads (loading 0/1 model pairs): the
		// progress line says it, once.
		text = "starting"
	case m.sh.control != nil:
		text = "starting (loading models)"
	default:
		text = "waiting"
	}
	if st != "" {
		text = string(st) + more
	}
	switch {
	case m.sh.control == nil && m.sh.readOnly:
		text += " (read-only)"
	case m.sh.control == nil: // no engine here, but reviews and exports are written
		text += " (review)"
	}
	// The phase goes after the marks, where the progress line beside the
	// state says it too ("running (read-only) · scoring 0/2 forwards"):
	// it read "running · backward (read-only)", the mark on the phase.
	return st, text + phase
}

// pauseAsked reports whether the engine driven here has been asked to
// pause, and whether its controller can say.
func (m *Model) pauseAsked() (asked, canAsk bool) {
	p, ok := m.sh.control.(interface{ Paused() bool })
	if !ok {
		return false, false
	}
	return p.Paused(), true
}

// stepProgress is where the engine is within the step in progress
// (progressShown), in the header's words: phase, count, rate, and the
// phase's time left. The time left is as of the workbench's clock (m.now,
// moved on by each tick), not as of the progress's own time: a followed
// run's progress is read from a file written at most every
// sessions.ProgressEvery, and one driven here comes as the engine's Meter
// emits it (a slow phase's units seconds apart); between two of them the
// time left counts down rather than stands still.
func (m *Model) stepProgress() (string, bool) {
	p, ok := m.progressShown()
	if !ok {
		return "", false
	}
	// The phase's time left is said as such: the header's ETA is the run's.
	return p.StepLine(m.now), true
}

// progressShown is where the engine is within the step in progress
// (sessions.Run.Progress), while the run is running and that step has no
// metrics yet; not once another process's run reads quiet (its progress
// is then old news: the header says how long nothing was written).
func (m *Model) progressShown() (event.Progress, bool) {
	p, ok := m.sh.run.Progress()
	if !ok || m.finished() || m.closed || m.sh.engineEnded || m.probs.fatal != "" || (m.hasStep && p.Step <= m.lastStep) {
		return event.Progress{}, false
	}
	if _, quiet := m.quietFor(); quiet && m.writing {
		return event.Progress{}, false
	}
	return p, true
}

// noteDone adds a metrics record of step, written at t, to the rate's
// basis when it tells when a step was done. A record with no time does
// not (a trainer's steps imported when its folder was opened: its files do
// not say when it did them); nor does one of a step not past the last
// noted (more values of that step: it was done when its first came).
// Records that share their time were read at once (a trainer's folder
// followed live, whose trainer_state.json brings every step since its last
// save): only the last step was seen as it was done, the others were done
// before, at times unknown, so it replaces them.
func (s *runStatus) noteDone(step int, t time.Time) {
	n := len(s.recent)
	switch {
	case t.IsZero():
	case n > 0 && step <= s.recent[n-1].step:
	case n > 0 && t.Equal(s.recent[n-1].t):
		s.recent[n-1].step = step
	default:
		s.recent = append(s.recent, stepAt{step, t})
	}
}

// noteResumed records that a later session resumed the run at t: from
// the earlier session's last work (trainedAt) until then no step was in
// progress, so the rate leaves that time out as it leaves out a pause —
// else a run resumed hours after it stopped would count those hours
// between its steps and read a pace and an ETA hours off. An earlier
// session that ended paused ends its pause here instead.
func (s *runStatus) noteResumed(t time.Time) {
	if n := len(s.pauses); n > 0 && s.pauses[n-1].to.IsZero() {
		s.pauses[n-1].to = t
		return
	}
	if s.trainedAt.IsZero() || !t.After(s.trainedAt) {
		return
	}
	s.pauses = append(s.pauses, pauseSpan{from: s.trainedAt, to: t})
	if n := len(s.pauses); n > 16 {
		s.pauses = append(s.pauses[:0], s.pauses[n-16:]...)
	}
}

// followAgain takes back a done said of a followed trainer's run that
// goes on, its pace counted from the steps done at t or after.
func (m *Model) followAgain(t time.Time) {
	m.phase, m.done, m.sh.engineEnded = "", false, false
	m.rateFrom(t)
}

// rateFrom drops from the rate's basis the steps noted as done before t.
func (s *runStatus) rateFrom(t time.Time) {
	keep := s.recent[:0]
	for _, r := range s.recent {
		if !r.t.Before(t) {
			keep = append(keep, r)
		}
	}
	s.recent = keep
}

// eta is the time the left steps take at r steps a minute, counting down
// from when the last step was done (not time paused since) to now, so that
// it moves between steps rather than jumping once a step. The engine's
// steps are done one after another: only the step in progress counts
// down, the steps after it keep their whole time, and an overdue step
// holds the ETA there. A trainer's steps are seen only as its folder is
// read, several at once: the whole ETA counts down from when the last
// arrived (0 once overdue, until the run reads quiet).
func (m *Model) eta(left int, r float64) time.Duration {
	per := time.Duration(float64(time.Minute) / r)
	var since time.Duration
	if n := len(m.recent); n > 0 && m.now.After(m.recent[n-1].t) {
		last := m.recent[n-1].t
		since = m.now.Sub(last) - m.pausedWithin(last, m.now)
	}
	if m.cur != nil && m.cur.FollowsTrainer {
		return max(time.Duration(left)*per-since, 0)
	}
	return time.Duration(left-1)*per + max(per-since, 0)
}

// rate is steps per minute over the recent metric records (0: unknown).
func (m *Model) rate() float64 {
	steps, spent, _ := m.basis()
	if dt := spent.Minutes(); dt > 0 && steps > 0 {
		return float64(steps) / dt
	}
	return 0
}

// basis is what the rate counts: the steps done over the recent records
// noted done (noteDone), the time they took less the time paused, and how
// many times steps were seen done in it (intervals: one fewer).
func (s *runStatus) basis() (steps int, spent time.Duration, seen int) {
	n := len(s.recent)
	if n < 2 {
		return 0, 0, n
	}
	a, b := s.recent[0], s.recent[n-1]
	spent = b.t.Sub(a.t) - s.pausedWithin(a.t, b.t) // time paused is not time a step takes
	return b.step - a.step, spent, n
}

// pausedWithin is how much of [from, to] the run spent paused (a pause not
// ended yet runs to to).
func (s *runStatus) pausedWithin(from, to time.Time) time.Duration {
	var d time.Duration
	for _, p := range s.pauses {
		end := p.to
		if end.IsZero() {
			end = to
		}
		if a, b := maxTime(p.from, from), minTime(end, to); b.After(a) {
			d += b.Sub(a)
		}
	}
	return d
}

// Quiet: a followed trainer's run is said to bring no new step once none
// has come for quietFactor times the mean time between the reads that
// brought steps, and at least quietFloor. A trainer's steps come in bursts
// (the Hugging Face Trainer's per checkpoint save), so a pause of one or
// two intervals is its ordinary pace, and a read of the folder can miss a
// save by up to a poll; three intervals without one is not. The floor keeps
// a fast run (a step every few seconds), or one with a single read so far,
// from reading quiet over a hiccup of the disk or the trainer's logging.
const (
	quietFactor = 3
	quietFloor  = 2 * time.Minute
)

// quietFor is how long the open run, a trainer's folder followed and not
// done, has brought no new step, when that is past the quiet rule above
// (false: not quiet). Nothing else says whether the trainer still runs: a
// trainer that died before its planned steps leaves only this silence.
// A run another process of the workbench writes is quiet by the listing's
// rule: a writer stopped by a signal or hung keeps its lock.
func (m *Model) quietFor() (time.Duration, bool) {
	if m.cur == nil || m.finished() || m.closed || m.probs.fatal != "" {
		return 0, false
	}
	if m.writing && !m.paused {
		// The listing's rule (sessions.Quiet), so that the header and the
		// Runs screen say one thing of the run: the files' own times, not
		// its records' (the writer's clock) nor a pace (a resume's first
		// steps, an evaluation, are slower).
		return sessions.Quiet(m.lastWritten, m.now)
	}
	if !m.cur.FollowsTrainer {
		return 0, false
	}
	last := m.followedFrom // steps seen arriving come after it
	if n := len(m.recent); n > 0 {
		last = m.recent[n-1].t
	}
	limit := quietFloor
	if _, spent, seen := m.basis(); seen >= 2 && spent > 0 {
		limit = max(limit, quietFactor*spent/time.Duration(seen-1))
	}
	if last.IsZero() || m.now.Sub(last) <= limit {
		return 0, false
	}
	return m.now.Sub(last), true
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func (m *Model) statusLine() string {
	th := m.sh.theme
	// The tab strip with its names (at 120 columns), with its numbers,
	// and the screen shown alone: the forms it gives way in.
	var named, numbered []string
	activeTab := ""
	for i, n := range screenNames {
		if screenID(i) == m.active {
			activeTab = th.Paint(style.Spec{Attr: style.Bold | style.Reverse}, fmt.Sprintf("[%d %s]", i+1, n))
			named, numbered = append(named, activeTab), append(numbered, activeTab)
			continue
		}
		named, numbered = append(named, fmt.Sprintf(" %d %s ", i+1, n)), append(numbered, fmt.Sprintf(" %d ", i+1))
	}
	// Last the screen shown gives its name to its number ([1]): each
	// screen's first line names it, and the reward it makes room for
	// is what the header is read for (a stopped run's "stopped,
	// interrupted (review)", or "stopping (after the step in
	// progress)", left it out at 80 columns).
	number := th.Paint(style.Spec{Attr: style.Bold | style.Reverse}, fmt.Sprintf("[%d]", int(m.active)+1))
	numbers := headerPart{text: strings.Join(numbered, ""), keep: keepTabs, short: activeTab, shortKeep: keepScreenName,
		then: &headerPart{text: number, keep: keepAlways}}
	tabs := numbers
	if m.w >= 120 {
		tabs = headerPart{text: strings.Join(named, ""), keep: keepTabNames, then: &numbers}
	}
	if !m.hasRun() {
		what := "no run open"
		if m.switching != "" {
			what = m.switching + "…"
		}
		return tabs.text + " · " + what
	}
	steps := m.plannedSteps()
	prog, hasProg := m.stepProgress()
	// The step count below names the step in progress ("step 12/30":
	// steps 0–11 done, 12 under way; with no plan its number alone),
	// which the progress line starts with too: said once, by the part
	// kept longer ("sampling 0/96 tokens · step 1/20"), where the count is
	// shown.
	counted := m.hasStep || m.counted.HasStep || steps > 0 // "step 0/20" before the first is done: the plan shows from the start
	if p, _ := m.progressShown(); hasProg && counted && p.Step == m.stepsDone() {
		p.Step = -1
		prog = p.StepLine(m.now)
	}
	// In the order read; where the terminal is too narrow for all, the
	// least telling go first (headerDrop), then the line is cut.
	state := headerPart{text: m.state(hasProg), keep: keepAlways}
	if short := m.state(true); short != state.text {
		// The step's phase said in the state ("running · scoring", with no
		// progress line to say it) gives way where the progress line
		// would, before the reward is cut.
		state = headerPart{text: state.text, keep: keepPhase, short: short, shortKeep: keepAlways}
	}
	// The tab strip gives way to the screen shown alone ([1 Dashboard])
	// once the parts below the reward are gone, before the line is cut.
	parts := []headerPart{tabs, state}
	add := func(text string, keep int) { parts = append(parts, headerPart{text: text, keep: keep}) }
	if hasProg {
		// The step's phase keeps one place, after the state, whether the
		// state says it (running · reconstructing) or its progress line
		// does (running · step 14: backward 0/8 micro-batches).
		add(prog, keepPhase)
	}
	quiet, isQuiet := m.quietFor()
	switch {
	case isQuiet && m.writing:
		// Another process's engine writes its phases as it goes: it
		// wrote nothing (stopped by a signal, or hung).
		add("nothing written for "+sessions.Ago(quiet), keepHigh)
	case isQuiet:
		add("no new step for "+sessions.Ago(quiet), keepHigh)
	}
	// The problems' count gives up the key's hint ("(!)": the help page,
	// ?, names the key) after the screen its name, before the reward
	// is left out: a killed run reviewed with warnings at step 100 or
	// more ("stopped, interrupted (review) · 2 warnings (!) · step
	// 123/200") had no room for it at 80 columns.
	problems := func(sp style.Spec, count string) {
		parts = append(parts, headerPart{text: th.Paint(sp, count+" (!)"), keep: keepProblemsKey, short: th.Paint(sp, count), shortKeep: keepHigh})
	}
	if errs, warns, _ := problemCounts(m.problemsShown()); errs > 0 {
		problems(style.FG(style.Vermillion).With(style.Bold), nouns.Count(errs+warns, "problem"))
	} else if warns > 0 {
		problems(style.FG(style.Orange), nouns.Count(warns, "warning"))
	}
	// The steps done, which name the step in progress in a run of ours
	// (step 12/30: steps 0–11 done, 12 under way), and the reward named
	// by its step as the traces name it: said "step 12/30 · reward" alone,
	// the reward read as step 12's.
	if counted {
		add("step "+sessions.StepsLabel(m.stepsDone(), steps), keepHigh)
	}
	if m.hasReward {
		r := "reward " + num(m.reward, 3)
		parts = append(parts, headerPart{text: fmt.Sprintf("%s (step %d)", r, m.rewardStep), keep: keepRewardStep, short: r, shortKeep: keepHigh})
	}
	if m.device != "" {
		parts = append(parts, headerPart{text: m.device, keep: keepDevice, short: m.deviceShort, shortKeep: keepDeviceShort})
	}
	if m.memory != "" {
		add(m.memory, keepMemory)
	}
	// A quiet followed run shows no pace: it is not keeping one.
	// Nor does one whose engine another process is loading: it does no
	// step until it has; nor one that no process may train (unknown: its
	// run.lock cannot be probed), whose last pace may be a dead one's; nor
	// a paused one (its pace goes on, leaving the pause out, once it does).
	if r := m.rate(); r > 0 && !m.sh.engineEnded && !m.closed && !m.interrupted() && !m.listedStopped && !m.listedFinished && !m.resuming && !m.heldUnknown && !m.paused && !isQuiet {
		add(fmt.Sprintf("%.1f st/min", r), keepPace)
		// No ETA once the run is to stop or pause after the step in
		// progress: it will not reach the planned steps at this pace.
		pausing, _ := m.pauseAsked()
		if left := steps - m.stepsDone(); steps > 0 && left > 0 && !m.done && !m.paused && !pausing && !m.sh.stopAsked {
			add("ETA "+m.eta(left, r).Round(time.Second).String(), keepETA)
		}
	}
	add(filepath.Base(m.sh.run.Dir()), keepName)
	return headerFit(parts, m.w)
}

// headerPart is one item of the status line and how much it is kept
// when the line is too wide (keepAlways … keepName). A part with a short
// form becomes it, kept as shortKeep, where it would be left out; one
// with a then part becomes that (with its own short form) where its
// short form would be.
type headerPart struct {
	text      string
	keep      int
	short     string
	shortKeep int
	then      *headerPart
}

// forms are the texts p is shown as, whole first, each with its keep.
func (p headerPart) forms() []headerPart {
	var fs []headerPart
	for q := &p; q != nil; q = q.then {
		fs = append(fs, headerPart{text: q.text, keep: q.keep})
		if q.short != "" && q.short != q.text {
			fs = append(fs, headerPart{text: q.short, keep: q.shortKeep})
		}
	}
	return fs
}

// How much a header part is kept: a narrow terminal drops the run's name
// first, then the tabs' names (at 120 columns) give way to their numbers
// (what the run does tells more than names the key bar and ? say, and
// the screen shown keeps its name), then the step's phase goes; the
// device's name then gives way to the device in a word (gpu:0), which
// outlives the memory and the pace (where a run computes tells more than
// either, and takes fewer columns), and goes before the ETA; then the tab
// strip gives way to the screen shown alone, then the reward's step
// ("reward -0.700 (step 3)" to "reward -0.700"), the screen shown its
// name ("[1 Dashboard]" to "[1]"), and last the problems' count its key
// ("2 warnings (!)" to "2 warnings"); keepHigh and keepAlways parts are
// only cut with the line's end.
const (
	keepAlways = iota
	keepHigh
	keepProblemsKey
	keepScreenName
	keepRewardStep
	keepTabs
	keepETA
	keepDeviceShort
	keepPace
	keepMemory
	keepDevice
	keepPhase
	keepTabNames
	keepName
)

// headerFit joins the parts with " · ", first shortening or leaving out,
// while the line is wider than w, the least kept (the rightmost of those
// alike): the run's ETA outlives the device, the pace and the step's
// phase, the whole tab strip the ETA, the reward all of them. What was
// given up is then taken back, the most kept first, where it fits in the
// room a later, bigger cut left (the tab strip's 30 columns can hold the
// memory that went before it): a header never leaves a part out that
// fits.
func headerFit(parts []headerPart, w int) string {
	forms := make([][]headerPart, len(parts))
	for i, p := range parts {
		forms[i] = p.forms()
	}
	// shown[i] is the form parts[i] is shown in; len(forms[i]): left out.
	shown := make([]int, len(parts))
	gone := func(i int) bool { return shown[i] == len(forms[i]) }
	keep := func(i int) int { return forms[i][shown[i]].keep }
	join := func() string {
		var texts []string
		for i := range parts {
			if !gone(i) {
				texts = append(texts, forms[i][shown[i]].text)
			}
		}
		return strings.Join(texts, " · ")
	}
	// cuts are the parts given up in turn, each by one form, from the
	// form it was shown in.
	type cut struct{ i, from int }
	var cuts []cut
	line := join()
	for width(line) > w {
		drop := -1
		for i := range parts {
			if !gone(i) && keep(i) > keepHigh && (drop < 0 || keep(i) >= keep(drop)) {
				drop = i
			}
		}
		if drop < 0 {
			break
		}
		cuts = append(cuts, cut{drop, shown[drop]})
		shown[drop]++
		line = join()
	}
	// takeBack gives the cuts back, the latest first, where they fit;
	// shortened alone, only those that shortened a part still shown.
	takeBack := func(shortened bool) {
		for k := len(cuts) - 1; k >= 0; k-- {
			c := cuts[k]
			if shown[c.i] != c.from+1 {
				continue // a shorter form of it did not fit back
			}
			if shortened && gone(c.i) {
				continue
			}
			shown[c.i] = c.from
			if l := join(); width(l) <= w {
				line = l
			} else {
				shown[c.i]++
			}
		}
	}
	if width(line) <= w {
		takeBack(false)
	}
	// What is left is kept high (the step, the reward, the problems):
	// each is shown whole or not at all, never cut mid-number
	// (reward -3.…), the rightmost going first.
	left := false
	for width(line) > w {
		last := -1
		for i := range parts {
			if !gone(i) && keep(i) != keepAlways {
				last = i
			}
		}
		if last < 0 {
			break
		}
		shown[last], left = len(forms[last]), true
		line = join()
	}
	if left && width(line) <= w {
		// A part shortened for what was then left out gets its longer
		// form back where it fits: at 60 columns the reward went, and
		// the screen's name ([2 Traces]) and the problems' "(!)" given
		// up for it stayed out. A part left out whole stays out (the
		// ETA does not come back in the reward's place).
		takeBack(true)
	}
	return line
}

// plannedSteps is how many steps the open run is to take (0: open-ended,
// or not known): the session's, unless the run's records stated a newer
// plan since it was opened.
func (m *Model) plannedSteps() int {
	if m.planned > 0 {
		return m.planned
	}
	return m.cur.Steps
}

// stepsDone is how many steps the open run has completed, what the header
// counts against the planned total (so a finished run reads "step 6/6", as
// rlt pretrain and rlt distill count), as sessions counts them from the
// highest step its metric records name: one of ours numbers steps from 0, so the
// step in progress, named by its 0-based index like everywhere else
// (metrics, traces, headless lines), carries the same number; a run
// imported from another trainer keeps the trainer's numbers, which count
// from 1.
func (s *runStatus) stepsDone() int {
	done := s.counted.Done // the records pulled since may say more
	if s.hasStep {
		done = max(done, s.numbering.StepsDone(s.lastStep))
	}
	return done
}

// memoryLabel is a step's memory for the header, from its metrics (get):
// on a GPU the most of its memory the step held, else the process's peak
// resident memory; "" for a step that recorded neither (older runs).
func memoryLabel(get func(string) (float64, bool)) string {
	if v, ok := get("memory_device_peak_gib"); ok {
		return fmt.Sprintf("gpu %.1f GiB", v)
	}
	if v, ok := get("memory_host_peak_gib"); ok {
		return fmt.Sprintf("mem %.2f GiB", v)
	}
	return ""
}
