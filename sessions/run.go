package sessions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rlt-workbench/rlt/engine/durable"
	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/jsonerr"
	"github.com/rlt-workbench/rlt/engine/record"
)

// Names in a run folder (see the package documentation for the layout).
const (
	ConfigFile     = "config.toml"
	MetricsFile    = "metrics.jsonl"
	EventsFile     = "events.jsonl"
	ReviewsFile    = "reviews.jsonl"
	TracesDir      = "traces"
	CheckpointsDir = "checkpoints"
)

// Defaults of Options.
const (
	DefaultSyncInterval     = time.Second
	DefaultMaxPendingTraces = 16384
	DefaultKeepLast         = 3
)

// Options tune a Run. The zero value gives the defaults.
type Options struct {
	// SyncInterval is the fsync policy of the background writer: after a
	// batch of records it fsyncs the files it wrote when this long has passed
	// since the last fsync (default 1s), and always at once after an error
	// event, a checkpoint, Flush and Close. A negative value fsyncs after
	// every batch. Records reach the operating system (and readers in other
	// processes) as soon as the writer has them, whatever the policy.
	SyncInterval time.Duration
	// MaxPendingTraces bounds the traces waiting for the disk (default
	// 16384). When the disk falls that far behind, new traces are dropped
	// (counted, and recorded as a "dropped" event); metrics, phases,
	// checkpoints and errors are never dropped.
	MaxPendingTraces int
	// KeepLast is how many of the newest checkpoints rotation keeps
	// (default 3). The checkpoint with the best mean reward is kept as well
	// unless NoKeepBest is set.
	KeepLast   int
	NoKeepBest bool
	// PollInterval is how often a read-only run polls the files it follows
	// (default DefaultPollInterval).
	PollInterval time.Duration
	// LoadProgress, where not nil, is told as the open reads the run's
	// trace files, most of a big run's open (rlt export of 200,000 traces
	// spent about half its time there, saying nothing): after each trace
	// line, the trace lines read so far, and the bytes read of the trace
	// files' size as the open began (never less than read: a live run's
	// files grow). Not throttled: the caller says what it wants of it.
	LoadProgress func(traces int, read, size int64)
	// MetricsOnly makes a read-only run load and follow only events.jsonl
	// and metrics.jsonl: its Store holds no traces, reviews or re-scores.
	// It is what a comparison of runs' curves needs, at a fraction of the
	// memory and reading of the whole folder. Writable runs ignore it.
	MetricsOnly bool
	// Intent is what Open opens the run for, which its open event says:
	// IntentResume to resume its training (rlt run --resume, r on the
	// Runs screen), so that while its engine loads, before Resume, the
	// listing says the run is resuming, not stopped, and a session killed
	// before Resume reads as an unclean exit; IntentReview to review it
	// (rlt open, enter on the Runs screen) and IntentRescore to write
	// re-scores into it (rlt score --write), so that while it holds the
	// run the listing says who holds it and why (RunSummary.Holder); ""
	// says nothing. run.lock says it (LockInfo.Checking) from the moment
	// the lock is taken until the open event is on disk: loading a big
	// run takes seconds, and the listing meanwhile read the previous
	// session's events. Create and OpenReadOnly ignore it.
	Intent string
	// DeferOpen makes Open write no open event: Begin writes it, once the
	// session is sure to go on, and a run closed before Begin writes no
	// close event either. A resume opens the run to check that it can go
	// on (its checkpoint, its data, its device); one refused leaves the
	// events, and so the listing, as they were. A review opens it so too
	// (the workbench's OpenForReview): a run looked at and closed without
	// a review is left byte for byte as it was, run.lock saying who holds
	// it meanwhile (LockInfo.Checking). Create and OpenReadOnly ignore it.
	DeferOpen bool
	// Process is what kind of process trains the run it creates or opens
	// to resume (ProcessWorkbench, ProcessHeadless), which run.lock says
	// while it holds the run (LockInfo.Process), so that another process
	// says where the run can be reviewed meanwhile (Holder); "" says
	// nothing, as run.lock did before. OpenReadOnly ignores it.
	Process string

	wrapFile      func(logFile) logFile // tests: slow or failing disks
	progressEvery time.Duration         // tests: 0 is ProgressEvery
	// readAt, where a test sets it, is called at the points of a
	// read-only run's reads that at names, so that the test writes as
	// another process would between them, deterministically
	// (TestFollowedReviewRace).
	readAt func(r *Run, at readPoint)
}

// readPoint is a point of a read-only run's reads (Options.readAt).
type readPoint int

const (
	loadTracesRead readPoint = iota // the open's load has read the trace files
	pollStart                       // a poll begins
	pollTracesRead                  // a poll has read the trace files, not yet reviews.jsonl
)

// at calls the test's Options.readAt, if any.
func (r *Run) at(p readPoint) {
	if r.opts.readAt != nil {
		r.opts.readAt(r, p)
	}
}

func (o Options) withDefaults() Options {
	if o.SyncInterval == 0 {
		o.SyncInterval = DefaultSyncInterval
	}
	if o.MaxPendingTraces <= 0 {
		o.MaxPendingTraces = DefaultMaxPendingTraces
	}
	if o.KeepLast <= 0 {
		o.KeepLast = DefaultKeepLast
	}
	if o.progressEvery <= 0 {
		o.progressEvery = ProgressEvery
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	return o
}

// Run is one run folder, opened for writing (Create, Open: it holds
// run.lock) or for viewing (OpenReadOnly: no lock, the files are followed).
// A writable Run is an event.Sink: Emit puts each event into the Store at
// once and hands it to a background writer, so the engine never waits on
// the disk.
type Run struct {
	dir      string
	readOnly bool
	opts     Options
	store    *Store
	lock     *RunLock
	seg      int
	repairs  []string
	// repairsSaid is how many of repairs are in the store's issues.
	repairsSaid int
	// uncleanLock is the repair of run.lock a deferred open makes only as
	// it begins (openFiles): closed before (a refused resume), it puts
	// back what the killed writer left there (keepPrevious), repairing
	// nothing, and the next open says it.
	uncleanLock string
	// tornLogs are the trace and rescore files whose partial last line a
	// deferred open found and left for Begin to cut.
	tornLogs []tornLog
	// tornTraces are the trace files that ended in a partial line when
	// the run was read (TornTraces), cut or not.
	tornTraces []TornTrace
	// tornMu guards tornTraces, which a followed run's poll takes a line
	// out of once its writer has ended it (pollFile).
	tornMu sync.Mutex
	// unopened: opened with DeferOpen, its files not yet opened for
	// writing nor its open event written (Begin, which the first write
	// calls); Close then writes no close event. beginMu orders Begins.
	unopened atomic.Bool
	beginMu  sync.Mutex
	config   []byte
	// made is what this process's CreateWith made of the run (nil for a
	// run opened): what Unmake removes again.
	made *madeByCreate
	// configLost: config.toml was missing when the run was opened read-only.
	configLost bool
	// metricsLost: metrics.jsonl was missing when the run was loaded
	// (Steps; a session that records a step makes it again).
	metricsLost bool
	// ckFound is the step of the newest checkpoint LatestCheckpoint found,
	// plus one (0: none): a step done, for Steps, where the events that
	// recorded it are lost too.
	ckFound atomic.Int64
	// eventsLost: events.jsonl was missing or held no record when the run
	// was loaded; ckFolders are the steps of its checkpoint folders then
	// (checkpointFolders), the highest of which that can be resumed from
	// proves its step where the events lost their record of it
	// (provenByFolders): Steps counts it as the listing does. Both are
	// set by load. ckUsable holds what checkpointUsable said of a folder
	// (nil: usable) and what it statted, under ckUsableMu.
	eventsLost logLoss
	ckFolders  []int
	ckUsableMu sync.Mutex
	ckUsable   usableChecks
	// eventsCut: events.jsonl was short of the checkpoint folders when
	// the run was loaded (countSteps): which session did the steps they
	// prove is lost with its records (recordedLocked). Set by load.
	eventsCut bool
	// closeCut is the close event a session that writes the run records
	// for the session before it, before its own open event: events.jsonl
	// has lost that close, though run.lock said the session had closed
	// the run (closeCutSession), cut within a line (which the session
	// removes) or at a line's end (load, enqueueOpen). nil: none.
	closeCut *EventRecord
	// recordSeg is the highest segment of a metric record or trace read
	// (ingest): the session that writes the run takes the next one after
	// it and the events' (load, Open), since events.jsonl, which names
	// every session, may have lost some. Read by load alone (a read-only
	// run's follower goes on raising it, unread).
	recordSeg int
	// numbering is how the run numbers its steps, imported whether it is
	// Import's copy of a trainer's records, and importWrote what that
	// import wrote, read from config.toml once (StepNumbering): Steps is
	// asked for every frame of the header.
	numberingOnce sync.Once
	numbering     StepNumbering
	imported      bool
	importWrote   importedMetrics

	// resume points: segment → last step kept (guarded by resMu)
	resMu   sync.Mutex
	resumes resumePoints
	// metricSegs are the steps of every metric record read, superseded
	// or not, by segment: where events.jsonl lost resume events, what
	// says them (resumePoints.lostResumes). Written by ingest, read by
	// load.
	metricSegs map[int]*stepRanges
	// lostTraces are the steps whose trace files load found lost
	// (lostTraceSteps), tracesFolderLost whether traces/ was missing:
	// what a session that writes the run records (recordLostTraces).
	lostTraces       stepRanges
	tracesFolderLost bool

	// what the events read and written so far say of the training
	// (StateGone), folded as the Lister folds events.jsonl
	evMu sync.Mutex
	ev   eventsFold
	// recorded: the segments with a metric record read or written (a
	// step their session did), for what StateGone says of a session gone
	recorded map[int]bool

	// the engine's latest progress within a step (a few events a second
	// are not worth a line each in events.jsonl: ProgressFile holds the
	// latest, written by the background writer); progSeq counts them
	progMu  sync.Mutex
	prog    event.Progress
	hasProg bool
	progSeq uint64
	// the writer's: the progSeq in ProgressFile, and when it was written
	progWritten   uint64
	progWrittenAt time.Time
	// the follow loop's (a read-only run): ProgressFile's time and size
	// when last read, and when the lock was last probed (pollProgress)
	progSeen   time.Time
	progSize   int64
	progProbed time.Time

	// writer side
	emitMu         sync.Mutex
	lastNames      []string
	closed         atomic.Bool
	metrics        *Log
	events         *Log
	reviews        *Log
	traceLog       *Log
	traceStep      int
	dirty          []*Log
	retired        []*Log // trace logs to close after the next fsync
	tracesDirDirty bool
	buf            []byte

	qmu   sync.Mutex
	queue []item
	// sealed: the session's close is queued (Close, Leave): nothing is
	// queued after it, so no record follows the close in the files.
	sealed        bool
	pendingTraces int
	dropped       int // traces dropped since the last "dropped" event
	droppedTotal  int
	writeErr      error
	wake          chan struct{}
	flushReq      chan chan error
	stop          chan struct{}
	done          chan struct{}
	written       atomic.Int64
	// writeFailed is the failed write said as an issue (its first error)
	// and the most records that waited on it, for the issue's words once a
	// retry writes them (IssueWriteRecovered).
	writeFailed     error
	writeFailedMost int

	// checkpoints
	ckMu sync.Mutex
	// pubMu orders a checkpoint's coming into place (its rename, its
	// event) with Leave: one being written when the run is left is never
	// renamed into place after the close.
	pubMu sync.Mutex
	// saving is the step of the checkpoint being written, plus one (0:
	// none), and lastMetric the step of the last metric record emitted,
	// plus one: where a Leave left the run.
	saving     atomic.Int64
	lastMetric atomic.Int64
	// resumedAt is the step Resume continued after, plus one (0: not a
	// resume): where a Leave left a resumed run before a step of its own.
	resumedAt atomic.Int64
	// trains: this session created the run or resumed its training
	// (Resume): a Leave records where it left it (CloseLeft).
	trains atomic.Bool
	// ended is closed once Close or Leave has ended the session.
	ended chan struct{}
	// leftNote is the note of the close named CloseLeft that Leave wrote
	// (LeftNote), set once it is on disk.
	leftNote   atomic.Pointer[string]
	ckEstimate int64 // a checkpoint's size, estimated by SaveTrainerCheckpoint (for the full-disk error)

	// rescores.jsonl, opened on the first AppendRescores
	rescoreMu  sync.Mutex
	rescoreLog *Log

	refusedEmit atomic.Bool // an Emit on a read-only or closed run was reported

	// read-only side
	cancel     context.CancelFunc
	followDone chan struct{}
	followers  map[string]*followed // by path
	// the trace files as last listed and the polls done: past steps'
	// files are polled at each traceSweepEvery-th poll, the newest and
	// the next steps' at each (pollOnce)
	traceList  []string
	polls      int
	tracePolls int // trace files polled, for tests
	// gateReviews: a followed run's reviews count in LostReviews only
	// once settled, the first settledReviews of the store's reviews
	// (read before a sweep of every trace file began). A review another
	// process wrote of a trace is read before that trace where the trace
	// arrives later: in a past step's file, polled at sweeps only (a
	// resume redoing its step), or written between a poll's traces and
	// its reviews; said at once, it read as a trace lost.
	gateReviews    bool
	settledReviews atomic.Int64
}

// traceSweepEvery is how often (in polls) a followed run's past steps'
// trace files are looked at again; at the default interval, every 5 s.
// Only a resume redoing steps appends to them, and a run of 20,000 steps
// has 20,000 of them: statting each at every poll cost a core.
const traceSweepEvery = 25

// traceProbeAhead is how many steps after the newest trace file a poll
// between sweeps looks for the next files; a step further on (a gap of
// steps without traces) is found by the next sweep.
const traceProbeAhead = 8

type item struct {
	m *MetricRecord
	t *TraceRecord
	e *EventRecord
}

// Dir is the run folder.
func (r *Run) Dir() string { return r.dir }

// ReadOnly reports whether the run was opened with OpenReadOnly.
func (r *Run) ReadOnly() bool { return r.readOnly }

// Store is the in-memory view the UI reads.
func (r *Run) Store() *Store { return r.store }

// Segment is this session's number: 0 for the session that created the
// run, one more for each Open.
func (r *Run) Segment() int { return r.seg }

// Repairs lists what Open repaired (partial last lines removed, unfinished
// checkpoint folders removed, an unclean previous exit noted).
func (r *Run) Repairs() []string { return append([]string(nil), r.repairs...) }

// ConfigText is the content of config.toml.
func (r *Run) ConfigText() []byte { return r.config }

// ConfigSyntax reports config.toml when it is not TOML at all (a syntax
// error, with its line): a command that reads the run's settings must not
// fall back to defaults without a word. Keys this version does not know
// (an imported run's) are not its concern; an empty file is none.
func (r *Run) ConfigSyntax() error {
	return configSyntax(filepath.Join(r.dir, ConfigFile), r.config)
}

func configSyntax(path string, data []byte) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	var any map[string]any
	if err := decodeStrictOnce(path, data, &any); err != nil {
		return fmt.Errorf("%w; the run's settings cannot be read until it is fixed", err)
	}
	return nil
}

// ConfigTypes reports the values of config.toml that their key's type
// cannot hold (temperature = "hot"), each at its line, as the listing says
// them (configTypes): a lenient read of the file stops at the first, so a
// command that reads the run's settings would otherwise take the
// defaults for them without a word. A file that is not TOML is
// ConfigSyntax's.
func (r *Run) ConfigTypes() error {
	return configTypes(filepath.Join(r.dir, ConfigFile), r.config)
}

// DecodeConfig decodes config.toml strictly into v (see DecodeStrict).
func (r *Run) DecodeConfig(v any) error {
	if r.configLost {
		return fmt.Errorf("%s is missing: the run's settings are unknown", filepath.Join(r.dir, ConfigFile))
	}
	return DecodeStrict(filepath.Join(r.dir, ConfigFile), r.config, v)
}

// Written is the number of records the background writer has handed to the
// operating system so far.
func (r *Run) Written() int64 { return r.written.Load() }

// Err returns the error of the background writer's last attempt if it
// failed: records are waiting and are retried every second (a full disk
// may get space back). It is nil while writes succeed, and for a read-only
// run. Flush, SaveCheckpoint and Close return the error too; a caller that
// wants a failing disk to stop the run checks it after each step (a failed
// checkpoint says the same).
func (r *Run) Err() error {
	r.qmu.Lock()
	defer r.qmu.Unlock()
	return r.writeErr
}

// Dropped is the number of traces dropped because the writer fell behind.
func (r *Run) Dropped() int {
	r.qmu.Lock()
	defer r.qmu.Unlock()
	return r.droppedTotal
}

func newRun(dir string, opts Options) *Run {
	return &Run{dir: dir, opts: opts.withDefaults(), store: newStore(), resumes: resumePoints{}, traceStep: -1, ended: make(chan struct{})}
}

// writeRunConfig writes a new run's config.toml (a test makes it fail, as
// a full disk does).
var writeRunConfig = durable.WriteFile

// Create makes a new run folder at dir (created if missing; it must not
// already hold a run), takes its lock, writes cfg (the resolved
// configuration) to config.toml and opens the logs. See CreateWith.
func Create(dir string, cfg any) (*Run, error) { return CreateWith(dir, cfg, Options{}) }

// CreateWith is Create with options.
func CreateWith(dir string, cfg any, opts Options) (*Run, error) {
	if cfg == nil {
		return nil, fmt.Errorf("create run %s: no configuration", dir)
	}
	data, err := EncodeTOML(cfg)
	if err != nil {
		return nil, fmt.Errorf("create run %s: %w", dir, err)
	}
	_, statErr := os.Stat(dir)
	made := errors.Is(statErr, fs.ErrNotExist) // removed again if the run cannot be made
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create run: %w", err)
	}
	lock, err := lockRun(dir, "", opts.Process)
	if err != nil {
		// A folder made here and refused its lock for want of locks
		// (LockUnknownError; lockRun removes the run.lock it made) or of
		// room or rights to make run.lock holds nothing: it is removed,
		// not left empty under runs/. One holding another process's lock
		// (LockedError) is not ours: os.Remove leaves a folder that is
		// not empty.
		if made {
			os.Remove(dir)
		}
		// No run was made: its refusal says what is wrong with
		// run.lock and how to start one, not to look at or copy a run
		// that is not there.
		if lu := (*LockUnknownError)(nil); errors.As(err, &lu) {
			lu.Start = true
		}
		if un := (*unwritableError)(nil); errors.As(err, &un) {
			un.Start = true
		}
		if full := (*FullDiskError)(nil); errors.As(err, &full) { // lockDiskFull's words are an open's: a start's
			full.Again, full.Meanwhile, full.Left = "start the run again", "", "no run was made"
			full.Flag, full.Names = "--runs", "folder"
		}
		return nil, fmt.Errorf("create run: %w", err)
	}
	cfgPath := filepath.Join(dir, ConfigFile)
	if _, err := os.Lstat(cfgPath); err == nil {
		// Another run's folder: its run.lock is left as found (a
		// killed writer's record, which an emptied one would read as a
		// clean close).
		lock.keepPrevious = true
		lock.Unlock()
		what, use := ExistingRun(dir)
		return nil, fmt.Errorf("create run: %s already exists: this folder holds %s; choose a new folder ("+Program()+" import --out, "+Program()+" run --runs make one), or %s", cfgPath, what, use)
	}
	if found := recordsIn(dir); len(found) > 0 {
		// A run that lost its config.toml: the new run's records would
		// be appended to its logs, a partial last line of theirs cut away
		// (openLogs), for good. Its run.lock is left as found too.
		lock.keepPrevious = true
		lock.Unlock()
		return nil, fmt.Errorf("create run: %s holds a run's records (%s) but no %s: a new run's would be written into them; choose a new folder (%[4]s import --out, %[4]s run --runs make one), read what it recorded read-only (%[4]s open %[5]s), or write its %[3]s again to continue it (%[4]s run --resume %[5]s)",
			dir, strings.Join(found, ", "), ConfigFile, Program(), ShellQuote(dir))
	}
	r := newRun(dir, opts)
	r.lock, r.config = lock, data
	// madeHere: what this create made in a folder that was there (not
	// made), removed again, newest first, if the run cannot be made
	// whole: the folder may be the user's, and is left as it was found.
	var madeHere []string
	making := func(names ...string) {
		for _, name := range names {
			if p := filepath.Join(dir, name); notThere(p) {
				madeHere = append(madeHere, p)
			}
		}
	}
	fail := func(err error) (*Run, error) {
		r.closeLogs()
		for _, p := range slices.Backward(madeHere) {
			os.Remove(p) // a folder that holds another's files since is not ours: left
		}
		// run.lock as found: removed where it was made here (still
		// locked: an opener that opened it meanwhile finds it gone and
		// tries again), else its previous content put back.
		lock.keepPrevious = true
		lock.Unlock()
		if made { // a folder without its config.toml would be listed as a broken run
			os.RemoveAll(dir)
		}
		return nil, fmt.Errorf("create run %s: %w", dir, err)
	}
	for _, d := range []string{TracesDir, CheckpointsDir} {
		making(d)
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return fail(err)
		}
	}
	making(MetricsFile, EventsFile, ReviewsFile) // openLogs(true)'s
	if err := r.openLogs(true); err != nil {
		return fail(err)
	}
	// config.toml last: its presence marks a complete run folder.
	making(ConfigFile)
	if err := writeRunConfig(cfgPath, data, 0o644); err != nil {
		return fail(err)
	}
	r.made = &madeByCreate{folder: made, files: madeHere}
	r.startWriter()
	r.trains.Store(true)
	r.enqueueEvent(EventRecord{Time: time.Now().UTC(), Kind: KindCreate, PID: os.Getpid()})
	return r.sessionOnDisk()
}

// madeByCreate is what CreateWith made of a run: the folder, or, in a
// folder that was there, the files and folders it made in it.
type madeByCreate struct {
	folder bool
	files  []string // in the order made
}

// Unmake ends a run this process's CreateWith made, before any step of it
// (a launch stopped as its folder was made: sessions/runner.Launcher), and
// removes what the create made, as a create that fails does: the folder
// where it made it, else only the files and folders it made in it (the
// folder may be the user's, or another process's that took the name
// meanwhile), newest first, each while run.lock is held, which is then
// put back as it was found (removed where it was made here). Its create
// and close events go with its events.jsonl. An error is a run left in
// place: its folder, made here, or its config.toml in a folder that was
// there, which could not be removed. What was made in a folder that was
// there and holds another's files since is left, as not this run's, and
// the close's own errors (a record not written, run.lock not put back)
// are not said: the run they are of is gone.
func (r *Run) Unmake() error {
	if r.made == nil {
		return fmt.Errorf("unmake run %s: it was not made here (CreateWith)", r.dir)
	}
	r.lock.keepPrevious = true
	var err error
	r.close(func() {
		for _, p := range slices.Backward(r.made.files) {
			// A folder that holds another's files since is not ours:
			// left. config.toml is: while it is there, so is the run.
			if e := os.Remove(p); e != nil && filepath.Base(p) == ConfigFile && !errors.Is(e, fs.ErrNotExist) {
				err = e
			}
		}
	})
	if r.made.folder {
		err = os.RemoveAll(r.dir)
	}
	return err
}

// notThere reports whether path is known to be missing (not where it
// cannot be looked at).
func notThere(path string) bool {
	_, err := os.Lstat(path)
	return errors.Is(err, fs.ErrNotExist)
}

// sessionOnDisk returns r once its create event is on disk (an open
// event: openOnDisk): a listing (the Runs screen, rlt sessions) reads who
// holds the run and why from it, and before it would read the lock held
// under the last session's events (a run just opened for review listed
// running, after a killed training).
func (r *Run) sessionOnDisk() (*Run, error) {
	if err := r.Flush(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// HasRecords reports whether dir holds a run's records (its events or
// metrics): a folder whose config.toml was lost, not one that never was a
// run.
func HasRecords(dir string) bool { return len(recordsIn(dir)) > 0 }

// recordsIn names the run's records that dir holds (its events, its
// metrics), as HasRecords counts them.
func recordsIn(dir string) []string {
	var found []string
	for _, name := range []string{EventsFile, MetricsFile} {
		if st, err := os.Stat(filepath.Join(dir, name)); err == nil && st.Mode().IsRegular() {
			found = append(found, name)
		}
	}
	return found
}

// noConfig says why dir's config.toml could not be read (err): dir does
// not exist, is a file, or is a folder without one (not a run folder, or
// one that lost it: then the way on).
func noConfig(dir string, err error) error {
	st, serr := os.Stat(dir)
	switch {
	case errors.Is(serr, fs.ErrNotExist):
		return fmt.Errorf("open run %s: %s does not exist: give a run folder ("+Program()+" sessions --runs DIR lists those in DIR)", dir, dir)
	case serr == nil && !st.IsDir():
		return fmt.Errorf("open run %s: a file, not a run folder (a folder that "+Program()+" run or "+Program()+" import made, holding %s)", dir, ConfigFile)
	case errors.Is(err, fs.ErrNotExist) && HasRecords(dir):
		return fmt.Errorf("open run %s: its %s is missing, so its settings are unknown: write it again ("+PrintConfigOfEither()+"; the models and the reward coefficients the run used), or read what it recorded read-only ("+Program()+" open, "+Program()+" report, "+Program()+" export)", dir, ConfigFile)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("open run %s: no %s: %s", dir, ConfigFile, notARunFolder(dir))
	}
	return fmt.Errorf("open run: %w", err)
}

// notARunFolder says what the folder dir, holding no config.toml and no
// records, is instead, where it can tell, and what to give: a folder of
// runs (rlt sessions --runs's) names its newest run; a model folder says
// so; else "not a run folder". It reads dir's runs only on this error.
func notARunFolder(dir string) string {
	if _, err := os.Stat(filepath.Join(dir, hf.ConfigFile)); err == nil {
		return "a model folder, not a run folder (" + Program() + " model info describes it)"
	}
	if runs, err := List(dir); err == nil && len(runs) > 0 {
		what := fmt.Sprintf("%d run folders", len(runs))
		if len(runs) == 1 {
			what = "one run folder"
		}
		return fmt.Sprintf("a folder holding %s, not a run folder: give one of them (the newest: %s); "+Program()+" sessions --runs %s lists them",
			what, ShellQuote(runs[len(runs)-1].Dir), ShellQuote(dir))
	}
	return "not a run folder"
}

// Open takes the lock of an existing run folder to continue it: it decodes
// config.toml strictly into cfgOut (if not nil; errors name the line),
// repairs partial last lines and unfinished checkpoint folders (see
// Repairs), loads everything into the Store and starts a new segment. To
// re-do steps after a checkpoint, call Resume. A session that opens it
// to resume the training says so (OpenWith, Options.Intent). See
// OpenWith.
func Open(dir string, cfgOut any) (*Run, error) { return OpenWith(dir, cfgOut, Options{}) }

// OpenWith is Open with options.
func OpenWith(dir string, cfgOut any, opts Options) (*Run, error) {
	cfgPath := filepath.Join(dir, ConfigFile)
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		return nil, noConfig(dir, err)
	}
	if cfgOut != nil {
		if err := DecodeStrict(cfgPath, data, cfgOut); err != nil {
			return nil, fmt.Errorf("open run %s: %w", dir, err)
		}
	}
	// run.lock says what the open is for from the moment it is taken
	// until the open event is on disk (Begin, begin): until then the
	// run's events are the previous session's, and a run whose trainer
	// was killed read "training it", held by this process.
	lock, err := lockRun(dir, opts.Intent, opts.Process)
	if err != nil {
		return nil, fmt.Errorf("open run: %w", heldFor(dir, err))
	}
	r := newRun(dir, opts)
	r.lock, r.config = lock, data
	if p := lock.Previous; p != nil {
		unclean := fmt.Sprintf("%s: the previous writer (pid %d, started %s) did not close the run cleanly",
			lock.Path(), p.PID, p.Started.Local().Format(time.DateTime))
		if opts.DeferOpen {
			// Said as a repair once the session begins: a resume refused
			// by its checks ("nothing to run") said 'repaired: ... did not
			// close the run cleanly' of a run.lock it put back as found.
			r.uncleanLock = unclean
		} else {
			r.repairs = append(r.repairs, unclean)
		}
	}
	fail := func(err error) (*Run, error) {
		r.closeLogs()
		// No session was recorded: what a killed writer left in
		// run.lock is left for the next open and the listing to say.
		lock.keepPrevious = true
		lock.Unlock()
		return nil, fmt.Errorf("open run %s: %w", dir, err)
	}
	r.restoreReplacedCheckpoints() // before load: the resume's checks list the checkpoints
	maxSeg, err := r.load(true)    // before the folders are made again: a lost traces/ is said
	if err != nil {
		return fail(err)
	}
	r.seg = maxSeg + 1
	if opts.DeferOpen {
		// The logs are not opened, their torn last lines cut, the
		// unfinished checkpoint folders removed nor the folders made,
		// until Begin: a resume refused by its checks leaves the run as
		// it was, a lost metrics.jsonl or traces/ still lost (and said)
		// for the next open. (Only a replaced checkpoint whose
		// replacement never finished is put back at any open: the checks
		// read it.)
		r.addRepairs()
		r.unopened.Store(true)
		r.startWriter()
		return r, nil
	}
	if err := r.openFiles(); err != nil {
		return fail(err)
	}
	r.startWriter()
	return r.begin()
}

// openFiles removes unfinished checkpoint folders and opens the run's logs
// for writing (a partial last line is cut off, and said), then says the
// repairs made. A metrics.jsonl or traces/ that is missing is not made
// again here: a session that only reviews the run writes neither, and
// their loss stays said (Steps, load); the first metric record or trace
// written makes them (openMetrics, switchTraceLog).
func (r *Run) openFiles() error {
	if r.uncleanLock != "" { // this session's lock record replaces the killed writer's
		r.repairs = append(r.repairs, r.uncleanLock)
		r.uncleanLock = ""
	}
	r.removeUnfinishedCheckpoints()
	r.removeProgress() // a writer's that did not close
	if err := r.cutTornLogs(); err != nil {
		return err
	}
	if err := r.openLogs(false); err != nil {
		return err
	}
	for _, l := range []*Log{r.metrics, r.events, r.reviews} {
		if l != nil && l.Dropped() > 0 {
			r.repairs = append(r.repairs, fmt.Sprintf("%s:%d: removed a %d-byte partial last line", l.Path(), l.Records()+1, l.Dropped()))
		}
	}
	r.addRepairs()
	return nil
}

// addRepairs says the repairs made since it last did in the store's
// issues.
func (r *Run) addRepairs() {
	for _, rep := range r.repairs[r.repairsSaid:] {
		r.store.addIssue(Issue{File: r.dir, Msg: "repaired: " + rep, Kind: IssueRepaired})
	}
	r.repairsSaid = len(r.repairs)
}

// Begin starts the session of a run opened with Options.DeferOpen, once it
// is sure to go on: it makes the folders, opens the logs (cutting torn last
// lines) and writes the open event, returning once that is on disk (a
// listing reads who holds the run from it). The first write of any kind
// calls it. A failed Begin closes the run. It does nothing for a run whose
// session has begun.
func (r *Run) Begin() error {
	r.beginMu.Lock()
	if !r.unopened.Load() {
		r.beginMu.Unlock()
		return nil
	}
	if r.closed.Load() {
		r.beginMu.Unlock()
		return fmt.Errorf("open run %s: %w", r.dir, os.ErrClosed)
	}
	err := r.openFiles()
	if err == nil {
		// Queued before unopened is cleared: an Emit on another goroutine
		// waits here rather than queue its event ahead of the open.
		r.enqueueOpen()
		r.unopened.Store(false)
		err = r.openOnDisk()
	}
	r.beginMu.Unlock() // Close waits on it: a Begin under way ends first
	if err != nil {
		err = fmt.Errorf("open run %s: %w", r.dir, err)
		r.Close()
		return err
	}
	return nil
}

// begin writes the open event of a run not deferred.
func (r *Run) begin() (*Run, error) {
	r.enqueueOpen()
	if err := r.openOnDisk(); err != nil {
		r.Close()
		return nil, fmt.Errorf("open run %s: %w", r.dir, err)
	}
	return r, nil
}

// openOnDisk waits until the open event just queued is written and
// fsynced, then clears the intent from run.lock (LockInfo.Checking): a
// reader of a run this session holds sees one or the other (both, in
// between) at every moment. Cleared first, a reader saw neither until the
// writer got to the event, and read the previous session's events as the
// holder's (a killed trainer's: "training it", to be stopped with kill
// and this process's pid). A session killed at any point leaves its lock
// free, its run.lock's intent unread, and its events as written, the open
// event or not: either way the next reader says it did not close the
// run. The caller closes the run on an error.
func (r *Run) openOnDisk() error {
	if err := r.Flush(); err != nil {
		return err
	}
	return r.lock.checked()
}

func (r *Run) enqueueOpen() {
	if r.closeCut != nil { // before the open: the cut session closed first
		e := *r.closeCut
		e.Time, r.closeCut = time.Now().UTC(), nil
		r.enqueueEvent(e)
	}
	r.enqueueEvent(EventRecord{Time: time.Now().UTC(), Kind: KindOpen, PID: os.Getpid(), Intent: r.opts.Intent})
	r.recordLostEvents()
	r.recordLostTraces()
}

// OpenReadOnly opens a run folder for viewing without taking its lock, so
// it works on a run another process is writing: everything on disk is
// loaded before it returns, and the files are then followed (new records
// reach the Store within PollInterval). Broken records are skipped and
// reported in Store.Issues with their file and line. Emit, Review and
// SaveCheckpoint are refused or ignored. Close stops the following.
func OpenReadOnly(dir string) (*Run, error) { return OpenReadOnlyWith(dir, Options{}) }

// OpenReadOnlyWith is OpenReadOnly with options.
func OpenReadOnlyWith(dir string, opts Options) (*Run, error) {
	cfgPath := filepath.Join(dir, ConfigFile)
	data, err := os.ReadFile(cfgPath)
	lost := errors.Is(err, fs.ErrNotExist) && HasRecords(dir)
	if err != nil && !lost {
		return nil, noConfig(dir, err)
	}
	r := newRun(dir, opts)
	r.readOnly, r.config, r.configLost = true, data, lost
	if lost { // its records are still worth reading: reviews to export, curves to report
		r.store.addIssue(Issue{File: cfgPath, Msg: "missing: the run's settings (models, reward coefficients) are unknown; its records are read, and resuming it needs the file again (" + PrintConfigOfEither() + ")"})
	}
	r.followers = map[string]*followed{}
	if _, err := r.load(false); err != nil {
		return nil, fmt.Errorf("open run %s: %w", dir, err)
	}
	if !opts.MetricsOnly {
		r.pollProgress(time.Now()) // where its writer is, from the start
	}
	if !opts.MetricsOnly { // its trace files are followed: reviews read from now on settle at a sweep
		r.gateReviews = true
		r.settledReviews.Store(int64(r.store.reviewCount()))
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.followDone = cancel, make(chan struct{})
	go r.followLoop(ctx)
	return r, nil
}

// openLogs opens the run's logs for writing; metrics.jsonl only where it
// is there or the run is being created (creating), else with the first
// metric record (openMetrics).
func (r *Run) openLogs(creating bool) error {
	var err error
	open := func(name string, sync int) *Log {
		if err != nil {
			return nil
		}
		var l *Log
		l, err = r.openLog(name, sync)
		return l
	}
	if creating || exists(filepath.Join(r.dir, MetricsFile)) {
		r.metrics = open(MetricsFile, -1)
	}
	r.events = open(EventsFile, -1)
	r.reviews = open(ReviewsFile, 1) // a human's verdict is fsynced at once
	return err
}

// openLog opens the run's log name for appending, fsynced every sync
// records (LogOptions.SyncEvery).
func (r *Run) openLog(name string, sync int) (*Log, error) {
	l, err := OpenLogWith(filepath.Join(r.dir, name), LogOptions{SyncEvery: sync})
	if err == nil && r.opts.wrapFile != nil {
		l.f = r.opts.wrapFile(l.f)
	}
	return l, err
}

// openMetrics opens metrics.jsonl for the first metric record of a
// session that opened the run without one (it was lost): the records it
// writes start it again.
func (r *Run) openMetrics() error {
	l, err := r.openLog(MetricsFile, -1)
	if err != nil {
		return err
	}
	r.metrics = l
	return nil
}

func (r *Run) closeLogs() error {
	var errs []error
	for _, l := range append([]*Log{r.metrics, r.events, r.reviews, r.traceLog, r.rescoreLog}, r.retired...) {
		if l != nil {
			errs = append(errs, l.Close())
		}
	}
	return errors.Join(errs...)
}

// ---- loading -----------------------------------------------------------

// followed is a file being followed by a read-only run.
type followed struct {
	f    *Follower
	line int // lines delivered so far (the last line number)
	kind byte
	// partial is the line reported as an unterminated last line when the
	// run was opened (0: none): a writer may still be writing it, and the
	// issue is withdrawn once the line arrives whole.
	partial int
}

// traceFiles lists traces/NNNNNN.jsonl sorted by step.
func traceFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(dir, TracesDir))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if st, serr := os.Stat(filepath.Join(dir, TracesDir)); serr == nil && !st.IsDir() {
			return nil, fmt.Errorf("%s is a file, not the folder of the run's trace files (%s/NNNNNN.jsonl): move it aside, or put the folder back from a copy of the run", filepath.Join(dir, TracesDir), TracesDir)
		}
		return nil, err
	}
	type sf struct {
		step int
		name string
	}
	var files []sf
	for _, e := range entries {
		if step, ok := traceFileStep(e.Name()); ok && !e.IsDir() {
			files = append(files, sf{step, e.Name()})
		}
	}
	slices.SortFunc(files, func(a, b sf) int { return a.step - b.step })
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = filepath.Join(dir, TracesDir, f.name)
	}
	return out, nil
}

func traceFileStep(name string) (int, bool) {
	base, ok := strings.CutSuffix(name, ".jsonl")
	if !ok || base == "" {
		return 0, false
	}
	for _, c := range base {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(base)
	return n, err == nil
}

func traceFileName(dir string, step int) string {
	return filepath.Join(dir, TracesDir, fmt.Sprintf("%06d.jsonl", step))
}

// load reads every file into the store. With repair, partial last lines of
// trace files are truncated away (the logs are repaired when opened). It
// returns the highest segment seen, of an event, a metric record or a
// trace: a session that writes records under a segment an earlier one
// wrote would leave them mixed with those (Resume supersedes by segment)
// and its trace IDs taken.
func (r *Run) load(repair bool) (maxSeg int, err error) {
	// stepped: the events say a step was done (a checkpoint, a phase of
	// step 1 or later), so the run has metrics and traces to lose.
	stepped, metricsGone := false, false
	var eventsPartial int64 // the bytes of events.jsonl's partial last line
	lastTraceFile := ""     // the trace file of the highest step: the one a writer wrote last
	// Options.LoadProgress: the trace lines read, the trace files' bytes
	// before the one being read, and all of theirs.
	tracesRead, traceBase, traceSize := 0, int64(0), int64(0)
	read := func(path string, kind byte) error {
		st, err := readLogAt(path, func(lineNo int, off int64, raw []byte) error {
			r.ingest(kind, path, lineNo, off, raw)
			if kind == 't' && r.opts.LoadProgress != nil {
				tracesRead++
				done := traceBase + off + int64(len(raw)) + 1
				traceSize = max(traceSize, done)
				r.opts.LoadProgress(tracesRead, done, traceSize)
			}
			if kind == 'e' {
				var e struct {
					Seg  int    `json:"seg"`
					Kind string `json:"kind"`
					Step int    `json:"step"`
				}
				if json.Unmarshal(raw, &e) == nil {
					maxSeg = max(maxSeg, e.Seg)
					stepped = stepped || e.Kind == KindCheckpoint || e.Kind == KindPhase && e.Step >= 1
				}
			}
			return nil
		})
		if errors.Is(err, fs.ErrNotExist) {
			st, err = ReadStats{}, nil
			metricsGone = metricsGone || kind == 'm'
			if kind == 'e' {
				r.eventsLost = logMissing
			}
		} else if err == nil && kind == 'e' && st.Lines == 0 {
			r.eventsLost = logEmpty
		}
		if err != nil {
			return err
		}
		if kind == 'e' {
			eventsPartial = st.PartialBytes
		}
		partial := 0
		if st.PartialBytes > 0 {
			line := st.Lines + st.Blank + 1
			if kind == 't' {
				r.tornTraces = append(r.tornTraces, TornTrace{File: path, Line: line, Bytes: st.PartialBytes, Cut: repair, last: path == lastTraceFile,
					id: partialTraceID(path, st.Offset)})
			}
			if repair {
				if kind == 't' || kind == 'x' { // the other logs are repaired by OpenLog
					torn := tornLog{path: path, line: line, bytes: st.PartialBytes}
					if r.opts.DeferOpen { // cut at Begin (openFiles)
						r.tornLogs = append(r.tornLogs, torn)
					} else if err := r.cut(torn); err != nil {
						return err
					}
				}
			} else {
				r.store.addIssue(partialLineIssue(path, line, st.PartialBytes))
				partial = line
			}
		}
		if r.followers != nil {
			r.followers[path] = &followed{f: followAfter(path, st), line: st.Lines + st.Blank, kind: kind, partial: partial}
		}
		return nil
	}
	// Events first: they say which records later resumes superseded.
	if err := read(filepath.Join(r.dir, EventsFile), 'e'); err != nil {
		return 0, err
	}
	if err := read(filepath.Join(r.dir, MetricsFile), 'm'); err != nil {
		return 0, err
	}
	r.takeLostResumes()
	// A run that did steps lost what a file or folder held, not nothing:
	// said, so that it does not just look empty. metrics.jsonl's loss
	// (missing, fewer steps than the checkpoints prove done, or a hole
	// below its last step) and events.jsonl's are said by the rule that
	// counts the steps (Steps), in the listing's words; the checkpoint
	// folders past those the events record (all of them, without the
	// events) say what their lost checkpoint events did.
	r.metricsLost = metricsGone
	r.ckFolders = checkpointFolders(r.dir)
	c := r.Steps()
	r.eventsCut = c.eventsLoss == logCut
	r.closeCutSession(eventsPartial, repair, r.eventsCut)
	if c.Lost != "" {
		r.store.addIssue(Issue{File: c.LostFile, Msg: c.Lost, Kind: IssueLost})
	}
	if c.EventsLost != "" {
		r.store.addIssue(Issue{File: filepath.Join(r.dir, EventsFile), Msg: c.EventsLost, Kind: IssueLost})
	}
	if c.Checkpoints != "" {
		r.store.addIssue(Issue{File: filepath.Join(r.dir, CheckpointsDir), Msg: c.Checkpoints, Kind: IssueLost})
	}
	if r.readOnly && r.opts.MetricsOnly {
		return maxSeg, nil
	}
	_, err = os.Stat(filepath.Join(r.dir, TracesDir))
	r.tracesFolderLost = errors.Is(err, fs.ErrNotExist)
	files, err := traceFiles(r.dir)
	if err != nil {
		return 0, err
	}
	r.sayLostTraces(files, stepped, c.checkpoint)
	if len(files) > 0 {
		lastTraceFile = files[len(files)-1]
	}
	// reviews.jsonl and rescores.jsonl before the trace files: a review
	// or a rescore is written after the trace it labels or scores, so
	// every trace one read here names is in the files read next. Read
	// after them, a trace written between the two reads (a live run's)
	// was missing beside its review: said as a reviewed trace not read
	// until the first poll, and where it was the trace file's partial
	// last line, as a trace lost, not the line its writer was writing
	// (TornTraces); a rescore was held of a trace not held.
	if err := read(filepath.Join(r.dir, ReviewsFile), 'r'); err != nil {
		return 0, err
	}
	if err := read(filepath.Join(r.dir, RescoresFile), 'x'); err != nil {
		return 0, err
	}
	sizes := make([]int64, len(files))
	if r.opts.LoadProgress != nil {
		for i, path := range files {
			if fi, err := os.Stat(path); err == nil {
				sizes[i] = fi.Size()
				traceSize += fi.Size()
			}
		}
	}
	for i, path := range files {
		if err := read(path, 't'); err != nil {
			return 0, err
		}
		traceBase += sizes[i]
	}
	r.at(loadTracesRead)
	return max(maxSeg, r.recordSeg), nil
}

// sayLostTraces says in the problems view what the run's trace files
// lost (the trace files listed: files), and notes it for a session that
// writes the run to record (recordLostTraces): traces/ missing where the
// events record a step done (stepped), or the files of steps the
// checkpoints prove done (steps up to checkpoint) missing
// (lostTraceSteps), and the steps lost events say a session found lost
// before, less those whose files are there now (re-done by a resume).
// An import's trainer wrote traces of the steps it chose: only its
// folder's loss is said.
func (r *Run) sayLostTraces(files []string, stepped bool, checkpoint int) {
	r.readPlan()
	r.evMu.Lock()
	imported, recorded, dropped := r.imported || r.ev.imported, r.ev.tracesLostBefore, r.ev.dropped
	r.evMu.Unlock()
	standing, _ := r.store.metricSteps()
	var said string
	r.lostTraces, said = tracesLoss{have: traceFileSteps(files), standing: standing, checkpoint: checkpoint, folderLost: r.tracesFolderLost,
		stepped: stepped, imported: imported, recorded: recorded, dropped: dropped}.said()
	if said != "" {
		r.store.addIssue(Issue{File: filepath.Join(r.dir, TracesDir), Msg: said, Kind: IssueLost})
	}
}

// takeLostResumes notes the resume points events.jsonl lost, read from
// the metric records read (resumePoints.lostResumes), and leaves out the
// records they supersede, as a resume event read would have: the curves
// drew a step re-done by a resume twice, once of each session. Said in
// the problems view. Traces, read after, are left out by the points as
// they are read.
func (r *Run) takeLostResumes() {
	r.readPlan()
	r.evMu.Lock()
	imported, worked := r.ev.imported, r.ev.workedSegs
	r.evMu.Unlock()
	if imported || r.imported {
		return
	}
	r.resMu.Lock()
	_, lost := r.resumes.lostResumes(r.metricSegs, worked)
	r.resMu.Unlock()
	for _, l := range lost {
		r.noteResume(l.seg, l.step)
		r.store.supersede(l.seg, l.step)
	}
	if said := lostResumesSaid(lost); said != "" {
		r.store.addIssue(Issue{File: filepath.Join(r.dir, EventsFile), Msg: said, Kind: IssueLost})
	}
}

// TornTrace is a trace file that ended in a partial line when the run was
// read: the trace that line began is not one the run holds (TracesSince
// never returns it), whole or in part. Line is its line number and Bytes
// its length; Cut says the open removed it (a writable open repairs the
// logs), else it is still in the file. Killed says the line is the last a
// writer wrote as it was killed, or one a live process is writing: it is
// in the trace file of the highest step of a run whose last training
// session is gone without closing it (StateGone's interrupted) or that a
// live process trains, and the trace it began (its "id", where the line
// holds it) has no review: a trace reviewed was read whole, so its line
// is not one a writer was writing. Else the run had written that trace
// whole, and the file was cut since: a trace of the run is lost.
type TornTrace struct {
	File   string
	Line   int
	Bytes  int64
	Cut    bool
	Killed bool
	last   bool
	id     string // the trace's ID the partial line begins with, "" where it holds none whole
}

// String names the partial line, as rlt score --run and rlt export say
// it: "the 20-byte partial last line of FILE:4", with " (removed as the
// run was opened to write)" where the open removed it.
func (t TornTrace) String() string {
	s := fmt.Sprintf("the %d-byte partial last line of %s:%d", t.Bytes, t.File, t.Line)
	if t.Cut {
		s += " (removed as the run was opened to write)"
	}
	return s
}

// TornTraces are the trace files that ended in a partial line when the run
// was read, in step order (TornTrace): scoring or exporting the run says
// whether a trace was lost or only the one its killed writer was writing.
func (r *Run) TornTraces() []TornTrace {
	r.tornMu.Lock()
	out := append([]TornTrace(nil), r.tornTraces...)
	r.tornMu.Unlock()
	if len(out) == 0 {
		return nil
	}
	state, interrupted, _ := r.StateGone()
	live := state == StateRunning || state == StatePaused || state == StateResuming
	for i := range out {
		out[i].Killed = out[i].last && (interrupted || live) && !r.reviewedNotHeld(out[i].id)
	}
	return out
}

// reviewedNotHeld reports whether the trace id, one the run does not hold,
// has a review (a label other than none): it was read whole once.
func (r *Run) reviewedNotHeld(id string) bool {
	if id == "" {
		return false
	}
	s := r.store
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, held := s.byID[id]; held {
		return false
	}
	return s.labelLocked(id).Label != LabelNone
}

// partialTraceID is the ID a trace file's partial last line (from off)
// begins with, as the trace writer writes it first ({"id":"3-0-1",...}),
// or "" where the line does not hold it whole (cut within it) or the file
// cannot be read.
func partialTraceID(path string, off int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	buf := make([]byte, 256)
	n, _ := f.ReadAt(buf, off)
	rest, ok := bytes.CutPrefix(bytes.TrimLeft(buf[:n], " \t\r\n"), []byte(`{"id":"`))
	if !ok {
		return ""
	}
	id, _, whole := bytes.Cut(rest, []byte(`"`))
	if !whole {
		return ""
	}
	if _, ok := parseTraceID(string(id)); !ok {
		return ""
	}
	return string(id)
}

// tornLog is a run file that ends in a partial line: where, and how long.
type tornLog struct {
	path  string
	line  int
	bytes int64
}

// cut removes a torn log's partial last line, and says so.
func (r *Run) cut(t tornLog) error {
	l, err := OpenLog(t.path)
	if err != nil {
		return err
	}
	l.Close()
	r.repairs = append(r.repairs, fmt.Sprintf("%s:%d: removed a %d-byte partial last line", t.path, t.line, t.bytes))
	return nil
}

// cutTornLogs cuts the partial last lines a deferred open left.
func (r *Run) cutTornLogs() error {
	for _, t := range r.tornLogs {
		if err := r.cut(t); err != nil {
			return err
		}
	}
	r.tornLogs = nil
	return nil
}

// superseded reports whether a record of segment seg at step was re-done
// by a later segment that resumed from an earlier step.
func (r *Run) superseded(seg, step int) bool {
	r.resMu.Lock()
	defer r.resMu.Unlock()
	return r.resumes.superseded(seg, step)
}

func (r *Run) noteResume(seg, step int) {
	r.resMu.Lock()
	r.resumes.note(seg, step)
	r.resMu.Unlock()
}

// ingest decodes one line of a run file into the store; a broken line is
// skipped and reported with its file and line. off is where the line starts
// in the file.
func (r *Run) ingest(kind byte, path string, lineNo int, off int64, raw []byte) {
	broken := func(err error) {
		switch kind {
		case 't':
			r.store.mu.Lock()
			r.store.brokenTraces++
			r.store.mu.Unlock()
		case 'm':
			r.store.mu.Lock()
			r.store.brokenMetrics++
			r.store.mu.Unlock()
		}
		r.store.addIssue(Issue{File: path, Line: lineNo, Msg: "skipped broken record: " + jsonerr.Say(err), Kind: IssueBroken})
	}
	switch kind {
	case 'e':
		var e EventRecord
		if err := json.Unmarshal(raw, &e); err != nil {
			broken(err)
			return
		}
		if e.Kind == "" {
			broken(errors.New(`missing "kind"`))
			return
		}
		if e.Kind == KindResume {
			r.noteResume(e.Seg, e.Step)
			if r.readOnly {
				r.store.supersede(e.Seg, e.Step)
			}
		}
		r.foldEvent(e)
		r.store.addEvent(e)
	case 'm':
		m, err := decodeMetric(raw, r.lastNames)
		if err != nil {
			broken(err)
			return
		}
		r.lastNames = m.Names
		r.noteRecorded(m.Seg)
		r.recordSeg = max(r.recordSeg, m.Seg)
		if r.metricSegs == nil {
			r.metricSegs = map[int]*stepRanges{}
		}
		if r.metricSegs[m.Seg] == nil {
			r.metricSegs[m.Seg] = &stepRanges{}
		}
		r.metricSegs[m.Seg].add(m.Step)
		if !r.superseded(m.Seg, m.Step) {
			r.store.addMetric(m)
		}
	case 't':
		t, dropped, err := decodeTraceSalvaging(raw, keepListing)
		if err != nil {
			broken(err)
			return
		}
		r.recordSeg = max(r.recordSeg, t.Seg)
		if r.superseded(t.Seg, t.Step) {
			return
		}
		t.File, t.Line = path, lineNo
		for _, d := range dropped {
			r.store.addIssue(Issue{File: path, Line: lineNo, Trace: t.ID, Msg: fmt.Sprintf("trace %s: array %s: dropped, the rest of the trace kept", t.ID, d)})
		}
		if !r.store.addTrace(t, lineAt{path, lineNo, off, len(raw)}) && !r.readOnly {
			r.store.addIssue(Issue{File: path, Line: lineNo, Msg: fmt.Sprintf("duplicate trace id %q: later record skipped", t.ID)})
		}
	case 'r':
		var rv ReviewRecord
		if err := json.Unmarshal(raw, &rv); err != nil {
			broken(err)
			return
		}
		switch rv.Label {
		case LabelAccept, LabelReject, LabelFlag, LabelUndo:
		default:
			broken(fmt.Errorf("unknown label %q", rv.Label))
			return
		}
		if rv.Trace == "" {
			broken(errors.New(`missing "trace"`))
			return
		}
		r.store.addReview(rv)
	case 'x':
		rs, err := decodeRescore(raw)
		if err != nil {
			broken(err)
			return
		}
		r.store.addRescore(rs, lineAt{path, lineNo, off, len(raw)})
	}
}

// ---- following (read-only) -------------------------------------------------

func (r *Run) followLoop(ctx context.Context) {
	defer close(r.followDone)
	t := time.NewTicker(r.opts.PollInterval)
	defer t.Stop()
	for {
		r.pollOnce()
		select {
		case <-ctx.Done():
			for _, fl := range r.followers {
				fl.f.Close()
			}
			return
		case <-t.C:
		}
	}
}

// pollOnce reads what is new in every followed file, events first, and
// the events once more after the metrics: a writer that appends a step's
// events before its metrics (a followed trainer's plan and done phase)
// is then never seen with the step and without its events.
func (r *Run) pollOnce() {
	r.at(pollStart)
	fixed := []struct {
		name string
		kind byte
	}{{EventsFile, 'e'}, {MetricsFile, 'm'}, {EventsFile, 'e'}}
	for _, fx := range fixed {
		r.pollFile(filepath.Join(r.dir, fx.name), fx.kind)
	}
	if r.opts.MetricsOnly { // a compared run's curves: where its step is is not shown
		return
	}
	r.pollProgress(time.Now())
	sweep := r.polls%traceSweepEvery == 0
	r.polls++
	files := r.traceList
	// Between sweeps only the newest file of the last poll and those after
	// it are polled (new steps sort last; files are named by step).
	from := max(len(files)-1, 0)
	if sweep || len(files) == 0 {
		var err error
		files, err = traceFiles(r.dir)
		if err != nil {
			r.store.addIssue(Issue{File: filepath.Join(r.dir, TracesDir), Msg: err.Error()})
		}
	} else if newest, ok := traceFileStep(filepath.Base(files[len(files)-1])); ok {
		// The next steps' files, looked for by name: listing a folder of
		// 20,000 files at each new step cost more than the step's traces.
		for k := 1; k <= traceProbeAhead; k++ {
			if p := traceFileName(r.dir, newest+k); fileExists(p) {
				files = append(files, p)
			}
		}
	}
	r.traceList = files
	if sweep {
		from = 0
	}
	from = min(from, max(len(files)-1, 0))
	reviewsBefore := r.store.reviewCount() // settled once this sweep has read every trace file
	for i := from; i < len(files); i++ {
		p, last := files[i], i == len(files)-1
		if fl := r.followers[p]; fl != nil && fl.f.parked && !last && !sweep {
			continue
		}
		r.tracePolls++
		r.pollFile(p, 't')
		if !last {
			// A past step's file: only a resume redoing its step appends
			// to it again, which park notices by its size and time.
			r.followers[p].f.park()
		}
	}
	r.at(pollTracesRead)
	if sweep && r.settledReviews.Load() < int64(reviewsBefore) {
		r.settledReviews.Store(int64(reviewsBefore))
		r.store.signal() // LostReviews may say more
	}
	r.pollFile(filepath.Join(r.dir, ReviewsFile), 'r')
	r.pollFile(filepath.Join(r.dir, RescoresFile), 'x')
	r.tornSinceOpened()
}

// partialLineIssue is the problem of a file read read-only that ends in a
// partial line, at line, of n bytes.
func partialLineIssue(path string, line int, n int64) Issue {
	return Issue{File: path, Line: line, Msg: fmt.Sprintf("unterminated last line (%d bytes): being written, or left by a crash", n), Kind: IssuePartialLine}
}

// tornSinceOpened says the partial line a followed run's newest trace file
// ends in once its writer is gone (killed: not running, paused or
// resuming), as the open says one it finds (TornTraces, Killed; the
// problem list's unterminated last line): the open alone found them, so a
// writer killed mid-line while the run was followed left a line no screen
// said, nor the workbench's export (TestFollowedWriterKilledMidLine). A
// line already said (found at the open) is not said again; one a resume
// then ends is withdrawn as that one is (pollFile).
func (r *Run) tornSinceOpened() {
	files := r.traceList
	if len(files) == 0 {
		return
	}
	path := files[len(files)-1]
	fl := r.followers[path]
	if fl == nil || fl.partial > 0 || len(fl.f.pending) == 0 {
		return // no partial line, or one said
	}
	if state, _, _ := r.StateGone(); state == StateRunning || state == StatePaused || state == StateResuming {
		return // its writer is writing it
	}
	line, n := fl.line+fl.f.blanks+1, int64(len(fl.f.pending))
	r.tornMu.Lock()
	r.tornTraces = append(r.tornTraces, TornTrace{File: path, Line: line, Bytes: n, last: true, id: partialTraceID(path, fl.f.offset)})
	r.tornMu.Unlock()
	r.store.addIssue(partialLineIssue(path, line, n))
	fl.partial = line
}

func (r *Run) pollFile(path string, kind byte) {
	fl := r.followers[path]
	if fl == nil {
		fl = &followed{f: NewFollower(path, 0), kind: kind}
		r.followers[path] = fl
	}
	for {
		lines, err := fl.f.Poll()
		for _, n := range fl.f.Notices() {
			switch n.Kind {
			case NoticeTruncated, NoticeReplaced, NoticeVanished:
				// Read anew from the start. A partial line said (partial)
				// stays said until the file read anew holds it whole, or
				// holds no line there (withdrawPartial): a resume's open
				// cuts a torn line, which shrinks the file.
				fl.line = 0
				switch kind {
				case 'r':
					r.store.resetReviews()
					r.settledReviews.Store(0)
				case 'x':
					r.store.resetRescores()
				}
				r.store.addIssue(Issue{File: path, Msg: n.Msg})
			}
		}
		pos := fl.f.Positions()
		last := fl.line // the number of the last line this poll read
		for _, p := range pos {
			last += 1 + p.Blanks
		}
		if fl.partial > 0 && last >= fl.partial {
			// It was being written, not left by a crash: withdraw the issue
			// before the line is read (which reports it anew if it is broken).
			r.withdrawPartial(fl, path, kind)
		}
		for i, l := range lines {
			fl.line += 1 + pos[i].Blanks // blank lines are lines of the file too
			r.ingest(kind, path, fl.line, pos[i].Offset, l)
		}
		if err != nil {
			r.store.addIssue(Issue{File: path, Msg: err.Error()})
			return
		}
		if !fl.f.more {
			if fl.partial > 0 && (len(fl.f.pending) == 0 || fl.line+fl.f.blanks+1 != fl.partial) {
				// Read to its end, the file no longer ends in a partial
				// line there: the line said is gone (a resume's open cut
				// it, shrinking the file).
				r.withdrawPartial(fl, path, kind)
			}
			return
		}
	}
}

// withdrawPartial unsays the partial last line said of the followed file
// path (fl.partial): the problem list's unterminated last line and, of a
// trace file, the torn trace (TornTraces). The line was ended, its record
// now read, or is no longer in the file.
func (r *Run) withdrawPartial(fl *followed, path string, kind byte) {
	r.store.dropIssue(path, fl.partial)
	if kind == 't' {
		r.tornMu.Lock()
		r.tornTraces = slices.DeleteFunc(r.tornTraces, func(tt TornTrace) bool { return tt.File == path && tt.Line == fl.partial })
		r.tornMu.Unlock()
	}
	fl.partial = 0
}

// ---- writing -----------------------------------------------------------

func (r *Run) startWriter() {
	r.wake = make(chan struct{}, 1)
	r.flushReq = make(chan chan error)
	r.stop = make(chan struct{})
	r.done = make(chan struct{})
	writers.add(r)
	go r.writeLoop()
}

// enqueue queues it for the writer; after the close (sealed) it is
// dropped: the session has ended on disk.
func (r *Run) enqueue(it item) {
	r.qmu.Lock()
	if r.sealed {
		r.qmu.Unlock()
		return
	}
	r.queue = append(r.queue, it)
	if it.t != nil {
		r.pendingTraces++
	}
	r.qmu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *Run) enqueueEvent(e EventRecord) {
	r.qmu.Lock()
	sealed := r.sealed
	r.qmu.Unlock()
	if sealed { // after the close: neither in the files nor in what State reads
		return
	}
	e.Seg = r.seg
	r.foldEvent(e)
	r.store.addEvent(e)
	r.enqueue(item{e: &e})
}

// Progress is the latest event.Progress the engine writing the run
// emitted (ok false when none, or not yet): this process's, or for a run
// followed read-only, the one its writer last put in ProgressFile (at most
// ProgressEvery old, read within PollInterval), while that writer holds
// the run. It reads memory only.
func (r *Run) Progress() (p event.Progress, ok bool) {
	r.progMu.Lock()
	defer r.progMu.Unlock()
	return r.prog, r.hasProg
}

// Emit implements event.Sink. It records the event in the Store at once
// and queues it for the background writer; it never waits on the disk,
// but for the first record of a deferred open, which begins the session
// (Begin: its open event is on disk before it returns).
// Traces beyond MaxPendingTraces waiting for the disk are dropped and
// counted; every other event is kept. A read-only or closed run refuses
// every event: the first refusal is reported in Store.Issues (Emit cannot
// return an error).
func (r *Run) Emit(ev event.Event) {
	if p, ok := ev.(event.Progress); ok {
		r.progMu.Lock()
		r.prog, r.hasProg = p, true
		r.progSeq++
		r.progMu.Unlock()
		return
	}
	if r.readOnly || r.closed.Load() {
		if !r.refusedEmit.Swap(true) {
			why := "open read-only"
			if !r.readOnly {
				why = "closed"
			}
			r.store.addIssue(Issue{File: r.dir, Msg: fmt.Sprintf("engine event %T refused: the run is %s; nothing the engine emits is recorded", ev, why), Kind: IssueEventRefused})
		}
		return
	}
	if r.unopened.Load() { // a deferred open's first record begins the session
		if err := r.Begin(); err != nil {
			r.store.addIssue(Issue{File: r.dir, Msg: fmt.Sprintf("engine event %T refused: %v; nothing the engine emits is recorded", ev, err), Kind: IssueEventRefused})
			return
		}
	}
	r.emitMu.Lock()
	defer r.emitMu.Unlock()
	switch e := ev.(type) {
	case event.Metrics:
		m := &MetricRecord{Seg: r.seg, Step: e.Step, Time: e.Time.UTC()}
		m.Names = sortedKeys(e.Values, r.lastNames)
		r.lastNames = m.Names
		m.Values = make([]float64, len(m.Names))
		for i, n := range m.Names {
			m.Values[i] = e.Values[n]
		}
		r.store.addMetric(*m)
		r.noteRecorded(m.Seg)
		r.lastMetric.Store(int64(e.Step) + 1)
		r.enqueue(item{m: m})
	case event.Trace:
		r.qmu.Lock()
		full := r.pendingTraces >= r.opts.MaxPendingTraces
		if full {
			r.dropped++
			r.droppedTotal++
		}
		r.qmu.Unlock()
		if full {
			return
		}
		t := traceRecord(e, r.seg)
		base := t.ID
		for k := 2; r.store.hasTrace(t.ID); k++ {
			t.ID = base + "." + strconv.Itoa(k)
		}
		r.store.addTrace(t, lineAt{})
		r.enqueue(item{t: t})
	case event.Phase:
		r.enqueueEvent(EventRecord{Time: e.Time.UTC(), Kind: KindPhase, Step: e.Step, Name: e.Name, Extra: e.Extra})
	case event.Device:
		r.enqueueEvent(EventRecord{Time: e.Time.UTC(), Kind: KindDevice, Step: e.Step, Device: e.DeviceChoice})
	case event.Checkpoint:
		dir := e.Dir
		if rel, err := filepath.Rel(r.dir, e.Dir); err == nil && !strings.HasPrefix(rel, "..") {
			dir = rel
		}
		r.enqueueEvent(EventRecord{Time: e.Time.UTC(), Kind: KindCheckpoint, Step: e.Step, Dir: dir})
	case event.Error:
		msg := "<nil>"
		if e.Err != nil {
			msg = e.Err.Error()
		}
		sev := e.Severity
		if sev == "" {
			sev = event.SeverityError // written out, so a message's wording never grades it
		}
		r.enqueueEvent(EventRecord{Time: e.Time.UTC(), Kind: KindError, Step: e.Step, Error: msg, Fatal: e.Fatal, Severity: sev, Fault: event.FaultOf(e.Err)})
	}
}

// traceRecord converts an engine trace to a record; the score's slices are
// shared (the engine does not modify a Scored it has emitted).
func traceRecord(e event.Trace, seg int) *TraceRecord {
	t := &TraceRecord{ID: traceID(e.Step, e.Group, e.Sample, seg), Seg: seg, Step: e.Step, Group: e.Group, Sample: e.Sample,
		Time: e.Time.UTC(), Question: e.Question, Solution: e.Solution, Completion: e.Completion,
		Explanation: record.Extract(e.Completion).Body, Reconstruction: e.Reconstruction, Advantage: e.Advantage}
	if e.Score != nil {
		t.HasScore, t.Scored = true, *e.Score
	}
	return t
}

func (r *Run) writeLoop() {
	defer close(r.done)
	interval := r.opts.SyncInterval
	tickEvery := interval
	if tickEvery <= 0 || tickEvery > time.Second {
		tickEvery = time.Second
	}
	tick := time.NewTicker(tickEvery)
	defer tick.Stop()
	lastSync := time.Now()
	for {
		var reply chan error
		stopping := false
		select {
		case <-r.wake:
		case <-tick.C:
		case reply = <-r.flushReq:
		case <-r.stop:
			stopping = true
		}
		urgent, err := r.drain()
		if !r.unopened.Load() {
			if stopping {
				r.removeProgress()
			} else {
				r.writeProgress(time.Now())
			}
		}
		if len(r.dirty) > 0 && (reply != nil || stopping || urgent || interval < 0 || time.Since(lastSync) >= interval) {
			if serr := r.syncDirty(); err == nil {
				err = serr
			}
			lastSync = time.Now()
		}
		if reply != nil {
			reply <- err
		}
		if stopping {
			return
		}
	}
}

// maxBatchBytes bounds one write of the background writer.
const maxBatchBytes = 1 << 20

// drain writes everything queued, consecutive records of one file with one
// write. On a write error the records of that file from the one that failed
// on stay queued (in order) for the next attempt, and the error is returned;
// the other files' records are still written, so an error or close event is
// not held back behind a batch of traces that does not fit.
func (r *Run) drain() (urgent bool, err error) {
	r.qmu.Lock()
	batch := r.queue
	r.queue = nil
	if !r.sealed { // a close seals them in before it (seal)
		batch = r.appendDroppedLocked(batch)
	}
	r.qmu.Unlock()
	buf := r.buf[:0]
	var cur *Log
	curKind := -1
	start, traces := 0, 0 // first item of the pending group; its traces
	var (
		held     []item  // records of a file whose write failed, for the next attempt
		failed   [3]bool // by itemKind: that file's write failed in this drain
		firstErr error
	)
	flush := func(next int) error {
		if cur == nil || next == start {
			return nil
		}
		line, off := cur.Records()+1, cur.Size()
		if err := cur.appendLines(buf, next-start); err != nil {
			return err
		}
		if traces > 0 {
			// On disk now: the store reads their arrays back from there.
			rest := buf
			for j := start; j < next; j++ {
				n := bytes.IndexByte(rest, '\n')
				if t := batch[j].t; t != nil {
					r.store.written(t, lineAt{cur.Path(), line, off, n})
				}
				rest = rest[n+1:]
				line, off = line+1, off+int64(n+1)
			}
		}
		r.markDirty(cur)
		r.written.Add(int64(next - start))
		if traces > 0 {
			r.qmu.Lock()
			r.pendingTraces -= traces
			r.qmu.Unlock()
		}
		buf, start, traces = buf[:0], next, 0
		return nil
	}
	// fail marks the file of kind failed for the rest of this drain.
	fail := func(kind int, err error) {
		failed[kind] = true
		if firstErr == nil {
			firstErr = err
		}
	}
	// flushOrHold writes the pending group; when its file fails, the group
	// and every later record of that file are held for the next attempt.
	flushOrHold := func(next int) {
		if err := flush(next); err != nil {
			held = append(held, batch[start:next]...)
			fail(curKind, err)
			buf, start, traces = buf[:0], next, 0
		}
	}
	for i, it := range batch {
		kind := it.kind()
		// A metric record of a session that opened the run without
		// metrics.jsonl (lost) makes it again.
		if !failed[kind] && it.m != nil && r.metrics == nil {
			if err := r.openMetrics(); err != nil {
				fail(kind, err)
			}
		}
		// A trace of another step goes to its own file, opened here.
		if !failed[kind] && it.t != nil && (r.traceLog == nil || r.traceStep != it.t.Step) {
			flushOrHold(i)
			if !failed[kind] {
				if err := r.switchTraceLog(it.t.Step); err != nil {
					fail(kind, err)
				}
			}
		}
		if failed[kind] { // held, after the pending group of another file is written
			flushOrHold(i)
			held = append(held, it)
			start = i + 1
			continue
		}
		var l *Log
		switch {
		case it.m != nil:
			l = r.metrics
		case it.t != nil:
			l = r.traceLog
		case it.e != nil:
			l = r.events
			switch it.e.Kind {
			case KindError, KindCheckpoint, KindClose, KindResume:
				urgent = true
			}
		}
		if l != cur || len(buf) > maxBatchBytes {
			flushOrHold(i)
			cur, curKind = l, kind
		}
		switch {
		case it.m != nil:
			buf = appendMetric(buf, it.m)
		case it.t != nil:
			buf = appendTrace(buf, it.t)
			traces++
		case it.e != nil:
			line, err := marshalLine(it.e)
			if err != nil { // cannot happen: every field marshals
				line = []byte(`{"kind":"error","error":"unencodable event"}`)
			}
			buf = append(buf, line...)
		}
		buf = append(buf, '\n')
	}
	flushOrHold(len(batch))
	if cap(buf) <= 4*maxBatchBytes {
		r.buf = buf
	}
	r.qmu.Lock()
	if firstErr == nil {
		failed, most := r.writeFailed, r.writeFailedMost
		r.writeErr, r.writeFailed, r.writeFailedMost = nil, nil, 0
		r.qmu.Unlock()
		if failed != nil {
			// The records that waited are in their files now: the issue
			// says so, no longer that they wait (it read "23 records
			// waiting, retrying every second" after room was freed and
			// they were written, an error counted in the header still).
			r.store.replaceIssue(IssueWriteFailed, Issue{File: r.dir, Kind: IssueWriteRecovered,
				Msg: fmt.Sprintf("write failed (%v), then written at %s once a retry succeeded: the %s that waited in memory are in the run folder, nothing lost",
					failed, time.Now().Format("15:04:05"), countOf(most, "record"))})
		}
		return urgent, nil
	}
	r.queue = append(held, r.queue...)
	first := r.writeErr == nil
	r.writeErr = firstErr
	if first {
		r.writeFailed = firstErr
	}
	r.writeFailedMost = max(r.writeFailedMost, len(held))
	r.qmu.Unlock()
	if first {
		r.store.addIssue(Issue{File: r.dir, Msg: fmt.Sprintf("write failed (%d records waiting, retrying every second): %v", len(held), firstErr), Kind: IssueWriteFailed})
	}
	return urgent, firstErr
}

// kind is the file an item goes to: 0 metrics, 1 traces, 2 events.
func (it item) kind() int {
	switch {
	case it.m != nil:
		return 0
	case it.t != nil:
		return 1
	}
	return 2
}

func (r *Run) markDirty(l *Log) {
	if !slices.Contains(r.dirty, l) {
		r.dirty = append(r.dirty, l)
	}
}

func (r *Run) syncDirty() error {
	var errs []error
	for _, l := range r.dirty {
		errs = append(errs, l.Sync())
	}
	r.dirty = r.dirty[:0]
	if r.tracesDirDirty {
		if err := durable.SyncDir(filepath.Join(r.dir, TracesDir)); err != nil {
			errs = append(errs, fmt.Errorf("sync %s: %w", filepath.Join(r.dir, TracesDir), err))
		}
		r.tracesDirDirty = false
	}
	for _, l := range r.retired {
		errs = append(errs, l.Close())
	}
	r.retired = r.retired[:0]
	return errors.Join(errs...)
}

// switchTraceLog opens the trace file of step. The previous one stays open
// until the next fsync of dirty files, so changing files costs no fsync.
func (r *Run) switchTraceLog(step int) error {
	if r.traceLog != nil {
		if slices.Contains(r.dirty, r.traceLog) {
			r.retired = append(r.retired, r.traceLog)
		} else if err := r.traceLog.Close(); err != nil {
			r.traceLog = nil
			return err
		}
		r.traceLog = nil
	}
	path := traceFileName(r.dir, step)
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		// traces/ too, where the run lost it (openFiles leaves it lost
		// for a session that writes no trace).
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		// Create it here so that its directory entry is fsynced with the
		// next batch rather than at once (OpenLog would sync the folder).
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
		if err != nil {
			return err
		}
		f.Close()
		r.tracesDirDirty = true
	}
	l, err := OpenLogWith(path, LogOptions{SyncEvery: -1})
	if err != nil {
		return err
	}
	if r.opts.wrapFile != nil {
		l.f = r.opts.wrapFile(l.f)
	}
	r.traceLog, r.traceStep = l, step
	return nil
}

// Flush waits until every record emitted so far is written and fsynced. It
// returns the last write error if some records could not be written.
func (r *Run) Flush() error {
	if r.readOnly {
		return nil
	}
	if r.closed.Load() {
		return fmt.Errorf("flush %s: %w", r.dir, os.ErrClosed)
	}
	reply := make(chan error, 1)
	select {
	case r.flushReq <- reply:
		return <-reply
	case <-r.done:
		return fmt.Errorf("flush %s: writer stopped", r.dir)
	}
}

// Resume records that this session continues the run after step (the step
// of the checkpoint it restored): metrics and traces of earlier sessions
// beyond step are superseded—dropped from the Store now and on every later
// load—and the steps are written again by this session. Call it before
// emitting and before handing the Store to a view.
func (r *Run) Resume(step int) error {
	if r.readOnly {
		return fmt.Errorf("resume %s: run is open read-only", r.dir)
	}
	if err := r.Begin(); err != nil { // the open event first, as Open writes it
		return err
	}
	r.noteResume(r.seg, step)
	r.resumedAt.Store(int64(step) + 1)
	r.trains.Store(true)
	m, t := r.store.supersede(r.seg, step)
	r.enqueueEvent(EventRecord{Time: time.Now().UTC(), Kind: KindResume, Step: step, Count: m + t})
	return r.Flush()
}

// Close writes what is pending, fsyncs, closes the files and releases the
// lock (for a read-only run: stops following). A run whose writes kept
// failing reports how many records were lost.
func (r *Run) Close() error { return r.close(nil) }

// close is Close; unmake, where given, runs once the files are closed and
// before the lock is released (Unmake).
func (r *Run) close(unmake func()) error {
	if r.closed.Swap(true) {
		return nil
	}
	defer r.end()
	if r.readOnly {
		r.cancel()
		<-r.followDone
		return nil
	}
	r.beginMu.Lock() // wait for a Begin in progress (an Emit's, a review's)
	r.beginMu.Unlock()
	r.emitMu.Lock() // wait for an Emit in progress
	r.emitMu.Unlock()
	if !r.unopened.Load() { // a deferred open never begun closes as it was never opened
		r.seal(&EventRecord{Time: time.Now().UTC(), Kind: KindClose})
	} else {
		r.seal(nil)
		r.lock.keepPrevious = true // and leaves run.lock as it found it
	}
	close(r.stop)
	<-r.done
	var errs []error
	r.qmu.Lock()
	if n := len(r.queue); n > 0 {
		errs = append(errs, fmt.Errorf("close run %s: %d records could not be written: %w", r.dir, n, r.writeErr))
	}
	r.qmu.Unlock()
	if err := r.closeLogs(); err != nil {
		errs = append(errs, err)
	}
	if unmake != nil {
		unmake()
	}
	if err := r.lock.Unlock(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// seal queues the session's close event (nil: none, a deferred open
// never begun), after the count of traces dropped since the last
// "dropped" event, and refuses every record after it (enqueue).
func (r *Run) seal(closing *EventRecord) {
	if closing != nil {
		closing.Seg = r.seg
		r.foldEvent(*closing)
		r.store.addEvent(*closing)
	}
	r.qmu.Lock()
	r.queue = r.appendDroppedLocked(r.queue)
	if closing != nil {
		r.queue = append(r.queue, item{e: closing})
	}
	r.sealed = true
	r.qmu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// appendDroppedLocked appends to q the "dropped" event of the traces
// dropped since the last one, if any (drain, seal). Called under qmu.
func (r *Run) appendDroppedLocked(q []item) []item {
	if r.dropped == 0 {
		return q
	}
	e := EventRecord{Seg: r.seg, Time: time.Now().UTC(), Kind: KindDropped, Count: r.dropped}
	r.dropped = 0
	r.store.addEvent(e)
	return append(q, item{e: &e})
}

// end marks the session ended (Close, Leave).
func (r *Run) end() {
	writers.remove(r)
	close(r.ended)
}

// Leave ends this session of the run at once, for a process that leaves
// without waiting for its engine (the commands' second stop signal, after
// the first asked the engine to stop after its step): unlike Close it
// does not wait for the engine, whose step in progress, or checkpoint
// being written, is lost. A session that trains the run (it created or
// resumed it, or opened it to resume it and is loading its engine)
// records a close named CloseLeft that says so (cause: "on a second stop
// signal"), the step it left and the newest checkpoint it continues from,
// which the listing notes: the run is stopped, not "gone without stopping
// it"; any other session (a review, a re-score) records a plain close.
// run.lock is released once that close is written and fsynced. Nothing is
// written after it: Emit is refused, a checkpoint being written is never
// renamed into place (its temporary folder is left as a kill leaves it,
// and the next open removes it), and rotation stops. It waits at most
// within (a writer stuck on a full or hung disk, an engine's checkpoint
// stuck in its rename): past it, or where the close could not be written,
// it returns an error, the run left as a killed writer's (run.lock not
// released), which the next open tidies. A session closing already
// (Close) is waited for as long.
func (r *Run) Leave(cause string, within time.Duration) error {
	if r.readOnly {
		return r.Close()
	}
	timeout := time.NewTimer(within)
	defer timeout.Stop()
	if r.closed.Swap(true) {
		select {
		case <-r.ended:
			return nil
		case <-timeout.C:
			return fmt.Errorf("leave run %s: its close did not end within %v: it reads as a killed writer's until its next open tidies it", r.dir, within)
		}
	}
	left := make(chan error, 1)
	go func() { left <- r.leave(cause) }()
	select {
	case err := <-left:
		return err
	case <-timeout.C:
		return fmt.Errorf("leave run %s: its close was not written within %v (a full or hung disk?): it reads as a killed writer's until its next open tidies it", r.dir, within)
	}
}

// leave is Leave's work, r.closed set.
func (r *Run) leave(cause string) error {
	defer r.end()
	var note string  // the close's note, where it is named CloseLeft
	r.beginMu.Lock() // a Begin under way ends first, as Close waits for it
	r.beginMu.Unlock()
	// A checkpoint coming into place ends first; none comes after.
	r.pubMu.Lock()
	defer r.pubMu.Unlock()
	r.emitMu.Lock() // an Emit under way ends first
	r.emitMu.Unlock()
	if r.unopened.Load() { // never begun: left as it was found, as Close leaves it
		r.seal(nil)
		r.lock.keepPrevious = true
	} else {
		e := EventRecord{Time: time.Now().UTC(), Kind: KindClose}
		// A session opened to resume the run whose engine still loads
		// (before Resume) says it too: the process says the close's
		// note under the folder and the listing notes it, as of a
		// session that trains. Its plain close said nothing on leaving,
		// and the listing went on noting the session before it.
		if r.trains.Load() || r.opts.Intent == IntentResume {
			e.Name = CloseLeft
			var ckStep int
			e.Step, e.Dir, e.Words, ckStep = r.leftAt(cause)
			e.Extra = e.Words + "; it has no checkpoint to continue from"
			if e.Dir != "" {
				e.Extra = e.Words + continuesFrom(ckStep)
			}
		}
		r.seal(&e)
		note = e.Extra
	}
	reply := make(chan error, 1)
	var err error
	select {
	case r.flushReq <- reply:
		err = <-reply
	case <-r.done:
	}
	close(r.stop)
	<-r.done
	r.qmu.Lock()
	if n := len(r.queue); n > 0 && err == nil {
		err = r.writeErr
	}
	r.qmu.Unlock()
	if err != nil {
		return fmt.Errorf("leave run %s: its close could not be written (%w): it reads as a killed writer's until its next open tidies it", r.dir, err)
	}
	if note != "" {
		// Said as the listing says it (leftView, of the close just
		// written): where the leave came after the checkpoint of the
		// last planned step, before the engine's "done", the run is
		// finished, and the close's note that it continues from that
		// checkpoint was said on leaving while rlt sessions listed it
		// finished.
		r.evMu.Lock()
		if listed, _ := leftView(&r.ev, r.planCheckpointed); listed != "" {
			note = listed
		}
		r.evMu.Unlock()
		r.leftNote.Store(&note)
	}
	if err := errors.Join(r.closeLogs(), r.lock.Unlock()); err != nil {
		return fmt.Errorf("leave run %s: %w, but it was not released after it (%w)", r.dir, errClosedOnDisk, err)
	}
	return nil
}

// errClosedOnDisk: a leave whose close is written and fsynced, its note
// said (LeftNote), failed after it, releasing run.lock or closing the
// logs: what the close says of the run holds (LeaveAll).
var errClosedOnDisk = errors.New("its close is on disk")

// LeftNote is the note the listing gives of the close named CloseLeft
// that Leave wrote for this session (where it left the run, what is
// lost, the checkpoint it continues from; or, left after the checkpoint
// of its last planned step, that it is finished: leftView), "" where
// Leave wrote none (a session that does not train the run, a close not
// written). What a process says on leaving is these words, not a guess
// of its own.
func (r *Run) LeftNote() string {
	if p := r.leftNote.Load(); p != nil {
		return *p
	}
	return ""
}

// leftAt says where a session that trains the run leaves it (Leave): the
// step it leaves (a checkpoint being written, the step in progress, the
// last step done, or the step a resume continued after), the newest
// usable checkpoint on disk, relative to the run ("": none), and its step,
// and the listing's words before the clause of that checkpoint (Leave
// ends the close's note with it: continuesFrom). Called under pubMu: no
// checkpoint comes into place meanwhile.
func (r *Run) leftAt(cause string) (step int, ckDir, words string, ckStep int) {
	done := int(r.lastMetric.Load()) - 1 // -1: none this session
	r.progMu.Lock()
	prog, hasProg := r.prog, r.hasProg
	r.progMu.Unlock()
	switch saving := int(r.saving.Load()) - 1; {
	case saving >= 0:
		step, words = saving, fmt.Sprintf("left at once %s while the checkpoint of step %d was written, which is lost", cause, saving)
	case hasProg && prog.Step >= 0 && prog.Step > done:
		step, words = prog.Step, fmt.Sprintf("left at once %s during step %d, which is lost", cause, prog.Step)
	case done >= 0:
		step, words = done, fmt.Sprintf("left at once %s after step %d", cause, done)
	case r.resumedAt.Load() > 0:
		// A resume that made no step yet: the run is where its checkpoint
		// left it (steps of earlier sessions), not before its first step.
		step = int(r.resumedAt.Load()) - 1
		words = fmt.Sprintf("left at once %s after step %d, where it resumed, before a new step", cause, step)
	case !r.trains.Load():
		// Opened to resume, its engine loading: nothing is recorded
		// before Resume, so the run is as the session before left it,
		// at the checkpoint the resume was to continue from.
		if ck, ok := newestUsable(r.dir); ok {
			step = ck.Step
		}
		words = fmt.Sprintf("left at once %s while its resume loaded, before a new step: the run is as it was", cause)
	default:
		words = fmt.Sprintf("left at once %s before its first step", cause)
	}
	// Checked by its manifest and headers, not its checksums: a leave is
	// quick.
	if ck, ok := newestUsable(r.dir); ok {
		return step, filepath.Join(CheckpointsDir, checkpointName(ck.Step)), words, ck.Step
	}
	return step, "", words, -1
}

// continuesFrom ends a leave's note (Leave) with the checkpoint a resume
// continues from. leftView puts finishedAt's words in its place on a run
// finished since before the leave: after the close's Words, or, of a close
// written before that field, at the note's end where it ends so.
func continuesFrom(step int) string {
	return fmt.Sprintf("; it continues from its checkpoint of step %d", step)
}

// finishedAt ends the note of a finished run's session left at once
// before a step of its own (a resume with --steps left as its engine
// loaded, before the new plan is recorded), its checkpoint of step that
// of its last planned step: it continues only with more steps asked for.
func finishedAt(step int) string {
	return fmt.Sprintf("; it is finished (its checkpoint of step %d is of its last planned step): to go on from it, resume it with %s", step, MoreSteps(step+1))
}

// writers are the runs this process holds open for writing (startWriter
// until Close or Leave): what LeaveAll leaves.
var writers = openRuns{runs: map[*Run]bool{}}

type openRuns struct {
	mu   sync.Mutex
	runs map[*Run]bool
}

func (o *openRuns) add(r *Run) {
	o.mu.Lock()
	o.runs[r] = true
	o.mu.Unlock()
}

func (o *openRuns) remove(r *Run) {
	o.mu.Lock()
	delete(o.runs, r)
	o.mu.Unlock()
}

// Left is a run folder LeaveAll left with a close named CloseLeft, and
// that close's note (Run.LeftNote).
type Left struct {
	Dir, Note string
}

// LeaveAll is Leave, with cause and within, of every run this process
// holds open for writing, all at once: what a process leaving at once on
// a second stop signal records of the runs it trains (the workbench, rlt
// open, rlt run --headless), whichever of its parts opened them. It
// returns the runs whose close named CloseLeft is on disk, by folder, with
// its note, what the process says of each on leaving, and the errors of
// the others joined, each naming its run; a run whose close is on disk
// but whose run.lock could not be released after it is among both, its
// note said and the failure named.
func LeaveAll(cause string, within time.Duration) ([]Left, error) {
	writers.mu.Lock()
	runs := make([]*Run, 0, len(writers.runs))
	for r := range writers.runs {
		runs = append(runs, r)
	}
	writers.mu.Unlock()
	return leaveAll(runs, cause, within)
}

// leaveAll is LeaveAll of runs.
func leaveAll(runs []*Run, cause string, within time.Duration) ([]Left, error) {
	errs := make([]error, len(runs))
	var wg sync.WaitGroup
	for i, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = r.Leave(cause, within)
		}()
	}
	wg.Wait()
	var left []Left
	for i, r := range runs {
		if note := r.LeftNote(); note != "" && (errs[i] == nil || errors.Is(errs[i], errClosedOnDisk)) {
			left = append(left, Left{Dir: r.dir, Note: note})
		}
	}
	slices.SortFunc(left, func(a, b Left) int { return strings.Compare(a.Dir, b.Dir) })
	return left, errors.Join(errs...)
}

// heldFor is err, LockRun's for the run folder dir, with what the process
// holding the lock does with the run where its events say (training it,
// reviewing it in a workbench …), and what to do: a run is written by one
// process at a time. A training is stopped sooner as Holder.StopAdvice
// says, and a workbench that trained the run keeps it open until it
// quits. err names the holder's pid and host already.
func heldFor(dir string, err error) error {
	var le *LockedError
	if !errors.As(err, &le) {
		return err
	}
	h := new(runCache).summarise(dir).Holder
	if !h.Held() {
		return err
	}
	what := "wait until it ends, or stop it"
	switch h.Doing {
	case HolderReviewing:
		what = "quit that workbench (q), or open another run in it, then try again"
	case HolderOpen:
		what = "quit that workbench (q), then try again"
	case HolderRescoring:
		what = "wait until it ends, or " + h.StopAdvice() + "; then try again"
	case HolderTraining, HolderPaused, HolderResuming:
		then := "try again"
		switch h.Process {
		case ProcessWorkbench:
			then = "quit that workbench (q) and try again"
		case "":
			then = "quit the workbench that trained it (q), if one did, and try again"
		}
		what = "wait until it ends, or " + h.StopAdvice() + "; then " + then
	}
	return fmt.Errorf("%w: %s; a run is written by one process at a time: %s", err, h.what(), what)
}

// ExistingRun says what the run in dir is, for a caller that must not
// replace it ("a run", "a run, imported from SRC"), and what can be done
// with it instead: one of ours is resumed; an imported one has no training
// to resume, so it is opened and re-scored.
func ExistingRun(dir string) (what, use string) {
	if src, imported := ImportedFrom(dir); imported {
		return "a run, imported from " + src.Source, fmt.Sprintf("review it with %[1]s open %[2]s and re-score it with %[1]s score --run %[2]s", Program(), ShellQuote(dir))
	}
	return "a run", "continue it with " + Program() + " run --resume " + ShellQuote(dir)
}
