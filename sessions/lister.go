package sessions

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rlt-workbench/rlt/engine/configkey"
	"github.com/rlt-workbench/rlt/engine/durable"
	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/engine/runconfig"
)

// Lister lists runs as List does, again and again, for a screen that keeps
// its list current: it keeps each run's summary and how far it has read each
// log, so a relist reads only the records appended since (metrics.jsonl and
// events.jsonl only grow while a run is written), re-reads config.toml only
// when it changed, and probes each run's lock every time. What it returns is
// what a fresh List would. The zero Lister is ready to use; it is safe for
// concurrent use (two listings take turns).
type Lister struct {
	mu    sync.Mutex
	roots map[string]map[string]*runCache // root (folderKey) → folder name → what was read of it
	// trainers are the trainers' folders read (TrainerSteps), by path
	// (folderKey).
	trainers map[string]trainerState
}

// folderKey is the name a Lister keeps what it read of the folder path
// under: absolute and clean, so that one folder named two ways (runs and
// /home/me/runs, the runs folder and the folder holding a run followed
// in it) is read once and kept once.
func folderKey(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs // Abs cleans it
	}
	return filepath.Clean(path)
}

// folderKeys are the folderKeys of paths.
func folderKeys(paths []string) []string {
	keys := make([]string, len(paths))
	for i, p := range paths {
		keys[i] = folderKey(p)
	}
	return keys
}

// trainerState is what a Lister read of a trainer's folder, and the
// signature of the files it read (trainerSignature).
type trainerState struct {
	format, signature string
	steps             TrainerSteps
}

// TrainerSteps reads what the run folder dir of a trainer (format:
// ImportTRL, ImportVerl or ImportNemoRL, as DetectFormat says) records of
// its steps: its metrics only, as an import of it counts them. It reads
// them again only once a file of theirs changed in size or time
// (trainerSignature): a folder followed live is read as the trainer
// writes, not at every relist.
func (l *Lister) TrainerSteps(dir, format string) TrainerSteps {
	sig := trainerSignature(dir, format)
	key := folderKey(dir)
	l.mu.Lock()
	old, ok := l.trainers[key]
	l.mu.Unlock()
	if ok && old.format == format && old.signature == sig {
		return old.steps
	}
	// Read without the lock: a slow folder does not hold up listings.
	ts := readTrainerSteps(dir, format)
	l.mu.Lock()
	if l.trainers == nil {
		l.trainers = map[string]trainerState{}
	}
	l.trainers[key] = trainerState{format: format, signature: sig, steps: ts}
	l.mu.Unlock()
	return ts
}

// ForgetTrainersExcept drops what the Lister read of trainers' folders
// (TrainerSteps) other than dirs, each named any way that names its
// folder: a relist names the folders it follows, and one no longer
// followed, or deleted, is not kept for the life of the screen.
func (l *Lister) ForgetTrainersExcept(dirs []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	keepOnly(l.trainers, folderKeys(dirs))
}

// ForgetRootsExcept drops what the Lister read of the run folders under
// roots (List) other than roots, each named any way that names its
// folder: a relist names the roots it listed (the runs folder, each
// followed folder of runs, the folder holding each followed run folder),
// and one no longer followed, or deleted (the Runs screen lists it
// missing, not read), is not kept for the life of the screen, nor answers
// for it when it is followed again.
func (l *Lister) ForgetRootsExcept(roots []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	keepOnly(l.roots, folderKeys(roots))
}

// keepOnly deletes the entries of m not named in names.
func keepOnly[V any](m map[string]V, names []string) {
	keep := make(map[string]bool, len(names))
	for _, n := range names {
		keep[n] = true
	}
	maps.DeleteFunc(m, func(name string, _ V) bool { return !keep[name] })
}

// Summarize summarises the one run folder dir as a List of the folder
// holding it would, reading only dir and keeping what it read under that
// folder (a List of it reads no log again): a run followed or opened from
// a folder of hundreds of runs is read alone at each relist. Its Dir is
// dir as given. A folder that List would not list is an error.
func (l *Lister) Summarize(dir string) (RunSummary, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := folderKey(dir)
	root, name := filepath.Dir(key), filepath.Base(key)
	// The errors do not name dir: the caller's words do ("follow DIR: …").
	st, err := os.Stat(dir)
	switch {
	case err != nil:
		return RunSummary{}, err
	case !st.IsDir():
		return RunSummary{}, errors.New("a file, not a run folder")
	case durable.IsStaging(name):
		return RunSummary{}, errors.New("an import being made, or one stopped midway, not a run folder")
	case !exists(filepath.Join(dir, ConfigFile)) && !exists(filepath.Join(dir, MetricsFile)):
		return RunSummary{}, fmt.Errorf("not a run folder (no %s or %s)", ConfigFile, MetricsFile)
	}
	if l.roots == nil {
		l.roots = map[string]map[string]*runCache{}
	}
	runs := l.roots[root]
	if runs == nil {
		runs = map[string]*runCache{}
		l.roots[root] = runs
	}
	c := runs[name]
	if c == nil {
		c = &runCache{}
		runs[name] = c
	}
	s := c.summarise(dir)
	s.Name = name // the folder's, as List names it: not "." for dir "."
	return s, nil
}

// List summarises every run folder directly under root, as List(root),
// their Dirs joined to root as given. What it read is kept under the
// folder, however it is named (folderKey): a root listed as runs and as
// /home/me/runs is one root, read once. Runs gone since the last listing
// of root are forgotten.
func (l *Lister) List(root string) ([]RunSummary, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := folderKey(root)
	entries, err := os.ReadDir(root)
	if err != nil {
		delete(l.roots, key)
		return nil, fmt.Errorf("list runs: %w", err)
	}
	old := l.roots[key]
	runs := make(map[string]*runCache, len(entries))
	var out []RunSummary
	for _, e := range entries {
		if !e.IsDir() || durable.IsStaging(e.Name()) { // an import being made, or one killed midway
			continue
		}
		dir := filepath.Join(root, e.Name())
		// config.toml is stat'ed once, to tell a run folder and for
		// summariseStat: a relist's stats are most of its cost.
		cfgPath := filepath.Join(dir, ConfigFile)
		cfgInfo, cfgErr := os.Stat(cfgPath)
		if cfgErr != nil && !exists(cfgPath) && !exists(filepath.Join(dir, MetricsFile)) {
			continue
		}
		c := old[e.Name()]
		if c == nil {
			c = &runCache{}
		}
		runs[e.Name()] = c
		out = append(out, c.summariseStat(dir, cfgPath, cfgInfo, cfgErr))
	}
	if l.roots == nil {
		l.roots = map[string]map[string]*runCache{}
	}
	l.roots[key] = runs
	slices.SortStableFunc(out, func(a, b RunSummary) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// steps counts the steps done of the run folder dir as summarise has
// read it (mErr and evErr: how reading its metrics.jsonl and events.jsonl
// failed; its config.toml as c.cfg holds it; resumes: its resume points,
// those its events lost too), by the rule the header and
// a resume count them (countSteps): its metric records that stand and
// their holes (none looked for in an import, whose trainer's logging they
// keep: its records are counted against those its import wrote), its
// checkpoint events no resume superseded, and its checkpoint folders past
// those the events record (checkpointsOnDisk: a stat, and a ReadDir only
// once the folder changed).
func (c *runCache) steps(dir string, numbering StepNumbering, imported bool, mErr, evErr error, resumes resumePoints) StepCount {
	ev := &c.events
	e := stepsEvidence{dir: dir, numbering: numbering, metricSteps: standingSteps(c.metrics.steps, resumes), brokenMetrics: c.metrics.broken,
		lastCheckpoint: ev.lastCheckpoint(), recordedCheckpoint: ev.recordedCheckpoint(),
		metricsMissing: errors.Is(mErr, fs.ErrNotExist), stepped: ev.stepped, imported: imported || ev.imported, lostBefore: ev.lostBefore}
	e.diskCheckpoint, e.unusable = provenByFolders(c.checkpointsOnDisk(dir), e.accounted(), func(step int) error { return c.checkpointUsable(dir, step) })
	if imported {
		e.wrote = c.cfg.wrote
	}
	switch {
	case errors.Is(evErr, fs.ErrNotExist):
		e.events = logMissing
	case evErr == nil && ev.lines == 0:
		e.events = logEmpty
	}
	return countSteps(e)
}

// checkpointsState is the checkpoint folders of a run (checkpointFolders)
// as a Lister last read them, and the identity of the checkpoints folder
// then: a save renames its folder into place, and rotation removes one,
// each changing the folder's modification time. usable is what
// checkpointUsable said of the folders asked about (usableChecks).
type checkpointsState struct {
	valid  bool
	id     fileID
	steps  []int
	usable usableChecks
}

// usableChecks is what checkpointUsable said of checkpoint folders, by
// step, each with the folder's identity then (a file deleted from it or
// put in it changes it) and those of the files the check statted (a file
// cut or rewritten in place, inside the folder or in one below it,
// changes neither folder): the one cache of the check, a Lister's
// (runCache) and an open run's (Run.checkpointUsable).
type usableChecks map[int]checkedFolder

type checkedFolder struct {
	id    fileID
	files []checkedFile
	err   error
}

type checkedFile struct {
	path string
	id   fileID
}

// unchanged reports whether the folder and the files the check statted
// are as they were: a stat of each, a few files a checkpoint.
func (f checkedFolder) unchanged(id fileID) bool {
	if !f.id.unchanged(id) {
		return false
	}
	for _, c := range f.files {
		fi, err := os.Stat(c.path)
		if err != nil || !c.id.unchanged(idOf(fi)) {
			return false
		}
	}
	return true
}

// check is checkpointUsable(dir, step), checked again only once the
// folder or a file the check statted changed (checkedFolder's unchanged:
// their sizes and times, from the stats the check makes anyway); again
// says it was checked anew. A folder that cannot be stat'ed is checked
// every time (errFolderGone where it is not there), and nothing kept.
func (u *usableChecks) check(dir string, step int) (again bool, err error) {
	fi, err := os.Stat(checkpointFolderOf(dir, step))
	if err != nil {
		delete(*u, step)
		return true, checkpointUsable(dir, step, nil)
	}
	id := idOf(fi)
	if was, ok := (*u)[step]; ok && was.unchanged(id) {
		return false, was.err
	}
	checked := checkedFolder{id: id}
	checked.err = checkpointUsable(dir, step, func(path string, fi fs.FileInfo) {
		checked.files = append(checked.files, checkedFile{path, idOf(fi)})
	})
	if *u == nil {
		*u = usableChecks{}
	}
	(*u)[step] = checked
	return true, checked.err
}

// checkpointsOnDisk is checkpointFolders(dir), read again only once the
// checkpoints folder changed: every listing stats it, since the events
// that record the checkpoints may have lost the records of some
// (countSteps), and a relist of runs whose checkpoints did not change
// reads no folder.
func (c *runCache) checkpointsOnDisk(dir string) []int {
	fi, err := os.Stat(filepath.Join(dir, CheckpointsDir))
	if err != nil || !fi.IsDir() {
		c.checkpoints = checkpointsState{}
		return nil
	}
	id := idOf(fi)
	if c.checkpoints.valid && c.checkpoints.id.unchanged(id) {
		return c.checkpoints.steps
	}
	// The identity is taken before the read: a folder renamed in during
	// it changes it, and the next listing reads again.
	c.checkpoints = checkpointsState{valid: true, id: id, steps: checkpointFolders(dir)}
	return c.checkpoints.steps
}

// checkpointUsable is checkpointUsable(dir, step), checked again only
// once the folder or a file the check statted changed (usableChecks):
// only folders past the checkpoints the events record are asked about,
// where events.jsonl lost records, so a relist stats a few files of one
// folder or two, and none of a run whose events are whole. A folder
// checked anew (a file of it changed, or it is new) is walked again for
// the run's size: folderSize's key does not name it.
func (c *runCache) checkpointUsable(dir string, step int) error {
	again, err := c.checkpoints.usable.check(dir, step)
	if again {
		c.size = sizeState{}
	}
	return err
}

// hasUsableCheckpoint is HasCheckpoint(dir) of what c has read: its
// newest usable checkpoint folder, each asked as checkpointUsable asks
// (a folder unchanged since it was checked is not read again).
func (c *runCache) hasUsableCheckpoint(dir string) bool {
	steps := c.checkpointsOnDisk(dir)
	for i := len(steps) - 1; i >= 0; i-- {
		if c.checkpointUsable(dir, steps[i]) == nil {
			return true
		}
	}
	return false
}

// runCache is what a Lister has read of one run folder.
type runCache struct {
	metricsLog, eventsLog logState
	metrics               metricsFold
	events                eventsFold
	cfg                   configState
	size                  sizeState
	checkpoints           checkpointsState
	traces                tracesState
}

// sizeState is a run folder's size as walked while no process held its
// lock, and the identities of the folder and its top-level files then.
type sizeState struct {
	valid bool
	key   sizeKey
	bytes int64
}

// sizeKey is what changes, cheaply seen, when a run folder no process
// writes changes: every session that writes a run takes its lock and
// appends to events.jsonl (open or create, then close), the logs only
// grow, and a file added to or removed from the folder moves its mtime.
// A file missing (a log, config.toml) is keyed as missing (a zero
// fileID): a session that writes the run creates events.jsonl, and
// config.toml put back is a file added, each moving the folder's mtime
// and the key's file both. A log that is there but cannot be read (no
// permission, a folder in its place) is keyed by its identity as a stat
// found it (logState.sizeID): the walk reads no file, only their sizes,
// so whether it can be read changes no size, and whatever writes to it
// moves its size or time.
type sizeKey struct {
	dir, config, events, metrics fileID
}

func (a sizeKey) same(b sizeKey) bool {
	return a.dir.unchanged(b.dir) && a.config.unchangedOrMissing(b.config) && a.events.unchangedOrMissing(b.events) && a.metrics.unchangedOrMissing(b.metrics)
}

// folderSize is the size of the run folder dir (FolderSize). A folder that
// no process holds (held false: no live writer; finished, stopped or
// killed) is walked once and its size kept until its sizeKey changes,
// since the walk stats every file (a trace file per step: ~20 ms a relist
// at 5,000 steps). One that a process holds is walked every time: its
// writer adds to files the key does not name (traces, checkpoints). A run
// that lost a log (events.jsonl or metrics.jsonl missing) is keyed with
// it missing, and walked once, as a run whose events lost records is
// listed at every relist: it was walked every time, its checkpoints and
// traces with it (10 opens a relist, not 3). So is one missing
// config.toml, and one with a log that cannot be read, keyed by that
// log's stat (sizeKey): both were walked at every relist. Only a log
// whose read failed with no identity taken (its stat failed too) is
// walked every time. cfgInfo is config.toml as the caller stat'ed it
// (nil: none); the logs must have been read (their identities are those
// their reads took).
func (c *runCache) folderSize(dir string, held bool, cfgInfo fs.FileInfo) int64 {
	dirInfo, err := os.Stat(dir)
	events, eventsKeyed := c.eventsLog.sizeID()
	metrics, metricsKeyed := c.metricsLog.sizeID()
	if held || err != nil || !eventsKeyed || !metricsKeyed {
		c.size = sizeState{}
		return FolderSize(dir)
	}
	key := sizeKey{dir: idOf(dirInfo), events: events, metrics: metrics}
	if cfgInfo != nil {
		key.config = idOf(cfgInfo)
	}
	if c.size.valid && c.size.key.same(key) {
		return c.size.bytes
	}
	// The key is taken before the walk: whatever changes during it moves
	// the key, and the next listing walks again.
	c.size = sizeState{valid: true, key: key, bytes: FolderSize(dir)}
	return c.size.bytes
}

// metricsFold is what List takes from metrics.jsonl, folded record by
// record so that appended records continue it.
type metricsFold struct {
	// steps are the records' steps by segment, from which the highest
	// that no resume superseded is the run's last step (highestStanding:
	// a resume read later can supersede steps folded before it).
	steps map[int]*stepRanges
	// rewards are the records' rewards by segment, of which the best that
	// no resume superseded is the run's best reward (bestStanding), for
	// the same reason.
	rewards map[int]*stepRewards
	broken  int
}

func (m *metricsFold) add(raw []byte) {
	// The lines our runs write are scanned for the three fields a listing
	// needs: a listing of 40 runs of 5,000 steps decoded 200,000 lines
	// with encoding/json, every value of every record, most of the 1.6 s
	// it took (BenchmarkList/fresh). Other lines take the general path
	// below, which reads what the scan refuses.
	if seg, step, reward, has, ok := scanMetricReward(raw); ok {
		m.note(seg, step, reward, has)
		return
	}
	var r struct {
		Seg    int  `json:"seg"`
		Step   *int `json:"step"`
		Values struct {
			Reward *jfloat `json:"reward"`
		} `json:"values"`
	}
	if json.Unmarshal(raw, &r) != nil || r.Step == nil {
		m.broken++
		return
	}
	var reward float64
	if r.Values.Reward != nil {
		reward = float64(*r.Values.Reward)
	}
	m.note(r.Seg, *r.Step, reward, r.Values.Reward != nil)
}

// note folds one record: its segment and step, and its reward when it has
// one (hasReward; a NaN reward counts as none).
func (m *metricsFold) note(segment, step int, reward float64, hasReward bool) {
	if m.steps == nil {
		m.steps = map[int]*stepRanges{}
	}
	seg := m.steps[segment]
	if seg == nil {
		seg = &stepRanges{}
		m.steps[segment] = seg
	}
	seg.add(step)
	if hasReward && !math.IsNaN(reward) {
		if m.rewards == nil {
			m.rewards = map[int]*stepRewards{}
		}
		rw := m.rewards[segment]
		if rw == nil {
			rw = &stepRewards{}
			m.rewards[segment] = rw
		}
		rw.add(step, reward)
	}
}

// eventsFold is what List takes from events.jsonl, and what an open Run
// takes from the events it reads and writes to say its state (Run.StateGone).
type eventsFold struct {
	created   bool // a create event was read: createdAt is the run's creation
	createdAt time.Time
	lastPhase string // since the last resume
	fatal     string // since the last resume
	// fatalFault is what failed, of fatal (EventRecord.Fault).
	fatalFault event.Fault
	// trains: the last session that opened the run trains it (it created
	// or resumed it); one that only opened it (a review, a re-score, the
	// time an engine takes to load before it resumes) holds run.lock with
	// no engine, so a held lock alone does not say the run is running.
	trains bool
	// open: the last session that opened the run (create, open) has not
	// closed it (no close event since); sess is that session (its pid 0
	// where its event predates EventRecord.PID).
	open bool
	sess session
	// resuming: the last session opened the run to resume its training
	// (its open event's IntentResume) and has not written its resume
	// event yet: its engine is loading. It trains the run from its
	// resume event on; until then a held lock says the run is resuming.
	resuming bool
	// intent is what the last session opened the run for (its open
	// event's Intent): a live process holding run.lock with no engine
	// reviews the run, or writes re-scores into it (Holder).
	intent string
	// unclean: an earlier session that trained the run (it created or
	// resumed it, or opened it to resume) never closed it, for a later one
	// opened it before any close: it was killed or crashed. A review
	// opening and closing the run since leaves this as it was; only a
	// later training session's start clears it. gone is that session.
	unclean bool
	gone    session
	device  event.DeviceChoice
	resumes resumePoints // nil: none read
	broken  int
	// checkpoints are the steps of the checkpoint events by segment, of
	// which the highest no resume superseded proves the steps up to it
	// done (lastCheckpoint, countSteps), whatever metrics.jsonl says.
	checkpoints map[int]*stepRanges
	// stepped: an event records a step done (a checkpoint, a phase of
	// step 1 or later).
	stepped bool
	// imported: an import event says the run is Import's copy of a
	// trainer's records (so too its config.toml, which may be lost).
	imported bool
	// lostBefore is what the latest lost event says: a session found
	// events.jsonl lost and wrote it anew (its how "": none).
	lostBefore lostRecord
	// tracesLostBefore are the steps whose trace files lost events say a
	// session found lost (Run.recordLostTraces); dropped: a dropped event
	// says the writer dropped traces, which leaves steps without files too.
	tracesLostBefore stepRanges
	dropped          bool
	// cutAfterClose is what the latest close a later session recorded
	// for the session before it says (a close event of events.jsonl,
	// named LostPartialLine or LostAtLineEnd; or a lost event named
	// LostPartialLine, as sessions wrote it first): it found that
	// session's close lost from events.jsonl ("": none).
	cutAfterClose string
	// left is what the close of the last session that trained the run,
	// or set out to (a resume left as its engine loaded), says where that
	// session left it at once (a close named CloseLeft: a second stop
	// signal, the step in progress lost), which the listing notes until a
	// later session trains the run ("": none).
	left string
	// leftCk is the step of the checkpoint that close says the run
	// continues from (-1: none), and leftWords its words before that
	// (EventRecord.Words; "": not recorded).
	leftCk    int
	leftWords string
	// workedSegs are the segments whose work the events record (worked),
	// lastWorked the last noted, plus one (0: none): a segment whose
	// records re-do an earlier one's steps, of which they record none, is
	// one whose resume event they lost (resumePoints.lostResumes).
	workedSegs map[int]bool
	lastWorked int
	// lines is how many lines were folded (add), broken ones too: none
	// in a run whose other files prove steps done, events.jsonl was
	// emptied (runCache.steps).
	lines int
	// savedAtClose: a checkpoint was recorded after the engine of the
	// last training session ended ("stopped", "done" or a fatal error,
	// since the last resume): its close's final checkpoint
	// (runner.Handle.Close), which saves what the engine's own save at
	// its end could not (run.Engine's checkpointAtEnd: a save that
	// failed, tried again once the disk had room). runState asks whether
	// it is of the last planned step (closeSavedPlan).
	savedAtClose bool
}

// lastCheckpoint is the highest step of the checkpoint events no resume
// superseded, -1 when there is none.
func (f *eventsFold) lastCheckpoint() int {
	return highestStanding(f.checkpoints, f.resumes)
}

// recordedCheckpoint is the highest step of a checkpoint the events
// record, of a checkpoint event or a resume's, superseded or not: a
// checkpoint folder past it lost its event (countSteps). -1: none.
func (f *eventsFold) recordedCheckpoint() int {
	last := -1
	for _, r := range f.checkpoints {
		last = max(last, r.last())
	}
	for _, step := range f.resumes {
		last = max(last, step)
	}
	return last
}

// session is what the events say of one session that opened the run: as
// much as a note on it needs once it is gone without closing the run
// (goneNote).
type session struct {
	pid int // its process (0: unknown)
	seg int // its segment: the records it wrote carry it
	// created: it created the run; else it opened it (to resume it, where
	// the fold keeps it).
	created bool
	// started: its engine had started: a resume event (written once the
	// engine has loaded and restored the checkpoint), a device event (the
	// engine's first) or a phase. A session that never started its
	// engine was loading it (the models, the device).
	started bool
}

// uncleanExit reports whether the last session that trained the run (or
// opened it to resume) ended without closing it (killed, crashed: its
// events have no close), and that session; resuming: it had opened the
// run to resume it and died before its resume event, while its engine
// loaded. held: a live process holds run.lock now, so a training session
// still open is alive, not gone.
func (f *eventsFold) uncleanExit(held bool) (s session, unclean, resuming bool) {
	if f.open && (f.trains || f.resuming) {
		s, unclean = f.sess, !held
	} else {
		s, unclean = f.gone, f.unclean
	}
	return s, unclean, unclean && !s.created && !s.started
}

// closeLost takes the last session that opened the run as closed: its
// close event was lost (cutAfterClose).
func (f *eventsFold) closeLost() {
	f.open, f.resuming, f.intent = false, false, ""
}

func (f *eventsFold) add(raw []byte) {
	f.lines++
	// A phase event a step (two a step for most runs) is nearly all of
	// events.jsonl, and of a phase the fold needs only its name: read it
	// without encoding/json (a third of BenchmarkList/fresh), the others,
	// and a phase written otherwise, in full.
	if seg, name, step, ok := scanPhaseName(raw); ok {
		f.lastPhase = name
		f.sess.started = true
		f.stepped = f.stepped || step >= 1
		f.worked(seg)
		return
	}
	var e EventRecord
	if json.Unmarshal(raw, &e) != nil {
		f.broken++
		return
	}
	f.fold(e)
}

// worked notes that the events record a segment's work: its engine's
// (a resume, the device, a phase, a checkpoint, an error), more than its
// session's opening. Phases come a step each, in runs of one segment.
func (f *eventsFold) worked(seg int) {
	if f.lastWorked == seg+1 {
		return
	}
	if f.workedSegs == nil {
		f.workedSegs = map[int]bool{}
	}
	f.workedSegs[seg], f.lastWorked = true, seg+1
}

// fold takes one event record into f.
func (f *eventsFold) fold(e EventRecord) {
	switch e.Kind {
	case KindResume, KindDevice, KindPhase, KindCheckpoint, KindError:
		f.worked(e.Seg)
	}
	switch e.Kind {
	case KindCreate:
		f.created, f.createdAt = true, e.Time
		f.trains, f.resuming, f.intent = true, false, ""
		f.open, f.sess = true, session{pid: e.PID, seg: e.Seg, created: true}
		f.unclean, f.gone, f.left, f.savedAtClose = false, session{}, "", false
	case KindOpen:
		if f.open && (f.trains || f.resuming) {
			// The session that trained the run, or set out to, never
			// closed it.
			f.unclean, f.gone = true, f.sess
		}
		// It trains the run only from its resume event on: until then
		// its engine loads, and it may yet be refused (no checkpoint, a
		// configuration that cannot run) and close, the run as it was.
		f.trains, f.resuming, f.intent = false, e.Intent == IntentResume, e.Intent
		f.open, f.sess = true, session{pid: e.PID, seg: e.Seg}
	case KindResume:
		// A session that continues the training starts a new state; one
		// that only reviews or re-scores (Open without Resume) does not.
		f.lastPhase, f.fatal, f.fatalFault, f.savedAtClose = "", "", "", false
		f.trains, f.resuming = true, false
		f.sess.started = true // its engine loaded and restored the checkpoint
		// It is now the last session that trained the run: whether that
		// one ended cleanly is what its own close (or none) says.
		f.unclean, f.gone, f.left = false, session{}, ""
		if f.resumes == nil {
			f.resumes = resumePoints{}
		}
		f.resumes.note(e.Seg, e.Step)
	case KindClose:
		resuming := f.resuming
		f.open, f.resuming, f.intent = false, false, ""
		if e.File == EventsFile && e.Name != "" {
			// A later session recorded the close of the session before
			// it, lost from the file (LostPartialLine, LostAtLineEnd).
			f.cutAfterClose = e.Extra
		} else if e.Name == CloseLeft && e.File == "" && (f.trains || resuming) {
			// Of a session that trains the run, or set out to: a resume
			// left as its engine loaded is the last word on the run.
			f.left, f.leftCk, f.leftWords = e.Extra, -1, e.Words
			if step, ok := checkpointStep(filepath.Base(e.Dir)); e.Dir != "" && ok {
				f.leftCk = step
			}
		}
	case KindDevice:
		f.device = e.Device
		f.sess.started = true
	case KindPhase:
		f.lastPhase = e.Name
		f.sess.started = true
		f.stepped = f.stepped || e.Step >= 1
	case KindCheckpoint:
		if f.checkpoints == nil {
			f.checkpoints = map[int]*stepRanges{}
		}
		r := f.checkpoints[e.Seg]
		if r == nil {
			r = &stepRanges{}
			f.checkpoints[e.Seg] = r
		}
		r.add(e.Step)
		f.stepped = true
		f.savedAtClose = f.savedAtClose || engineEnded(f.lastPhase, f.fatal)
	case KindImport:
		f.imported = true
	case KindLost:
		switch {
		case e.File == EventsFile && e.Name == LostPartialLine:
			// A lost close as sessions from 5c6690a on recorded it,
			// before they recorded a close event.
			f.closeLost()
			f.cutAfterClose = e.Extra
		case e.File == EventsFile:
			f.lostBefore = lostRecord{how: e.Name, step: e.Step}
		case e.File == TracesDir:
			for step := e.Step - max(e.Count, 1) + 1; step <= e.Step; step++ {
				f.tracesLostBefore.add(step)
			}
		}
	case KindDropped:
		f.dropped = true
	case KindError:
		if e.Fatal {
			f.fatal, f.fatalFault = e.Error, e.Fault
		}
	}
}

// scanPhaseName reads the segment, name and step of a phase event written
// as json.Marshal writes an EventRecord with only seg, time, kind, step
// and name set; ok is false for any other line (other kinds, a phase with
// detail or an escaped character, the legacy "device" phase that
// UnmarshalJSON reads as a device event), which the caller decodes in
// full.
func scanPhaseName(raw []byte) (seg int, name string, step int, ok bool) {
	s := lineScan{p: bytes.TrimSpace(raw)}
	if s.lit(`{"seg":`) {
		if seg, ok = s.integer(); !ok || !s.lit(`,"time":"`) {
			return 0, "", 0, false
		}
	} else if !s.lit(`{"time":"`) {
		return 0, "", 0, false
	}
	if _, ok := s.rest(); !ok || !s.lit(`,"kind":"phase","step":`) {
		return 0, "", 0, false
	}
	step, ok = s.integer()
	if !ok || !s.lit(`,"name":"`) {
		return 0, "", 0, false
	}
	n, ok := s.rest()
	if !ok || !s.lit("}") || !s.done() || string(n) == legacyDevicePhase {
		return 0, "", 0, false
	}
	return seg, string(n), step, true
}

// fileID tells whether a file may have changed since it was read: the same
// file (os.SameFile: device and inode where the system has them), size and
// modification time.
type fileID struct {
	info  fs.FileInfo // nil: not stat'ed
	size  int64
	mtime time.Time
}

func idOf(fi fs.FileInfo) fileID { return fileID{info: fi, size: fi.Size(), mtime: fi.ModTime()} }

// sameFile reports whether a and b name one file, whatever its contents.
func (a fileID) sameFile(b fileID) bool {
	return a.info != nil && b.info != nil && os.SameFile(a.info, b.info)
}

// unchanged reports whether a and b are one file of one size and time.
func (a fileID) unchanged(b fileID) bool {
	return a.sameFile(b) && a.size == b.size && a.mtime.Equal(b.mtime)
}

// unchangedOrMissing is unchanged, or both zero: a file missing then and
// now (sizeKey's logs).
func (a fileID) unchangedOrMissing(b fileID) bool {
	if a.info == nil || b.info == nil {
		return a.info == nil && b.info == nil
	}
	return a.unchanged(b)
}

// tailLen is how many bytes before the read offset a logState keeps to
// notice a log rewritten in place to a larger size.
const tailLen = 64

// logState is how far a Lister has read one append-only log.
type logState struct {
	valid   bool   // the fields below describe the file named by id
	id      fileID // the file as it was when the last read began
	offset  int64  // just after the last complete line read: a partial line after it is read again once complete
	tail    []byte // the bytes just before offset
	partial int64  // ReadStats.PartialBytes of the last read
	// missing: the last read found no file at the path (fs.ErrNotExist),
	// and valid is false.
	missing bool
	// failed is the identity of the file the last read failed on, other
	// than missing (no permission, a folder in its place), as a stat
	// found it (zero where that failed too), and valid is false: what
	// keys the run's size (sizeID), read again at every listing.
	failed fileID
}

// sizeID is the log's identity for a sizeKey as the last read found it:
// the file read, zero where it was missing, the one whose read failed;
// ok false where the read failed with no identity taken.
func (ls *logState) sizeID() (id fileID, ok bool) {
	switch {
	case ls.valid:
		return ls.id, true
	case ls.missing:
		return fileID{}, true
	}
	return ls.failed, ls.failed.info != nil
}

// read hands fn the complete, non-empty lines of the log at path that it has
// not handed over before, and returns what ReadLog of the whole file would:
// its PartialBytes and its error. A log that only grew is read from the
// last complete line read; one that shrank, was replaced (another inode),
// was rewritten (its mtime went back, or the bytes before the offset
// differ) or vanished is read whole again after reset, which clears what
// fn folded.
func (ls *logState) read(path string, reset func(), fn func(raw []byte)) (ReadStats, error) {
	f, err := os.Open(path)
	if err != nil {
		*ls = logState{missing: errors.Is(err, fs.ErrNotExist)}
		if !ls.missing {
			// A stat needs no read permission: the identity keys the
			// run's size (sizeID) as a file read does.
			if fi, serr := os.Stat(path); serr == nil {
				ls.failed = idOf(fi)
			}
		}
		reset()
		return ReadStats{}, fmt.Errorf("read log: %w", err)
	}
	defer f.Close()
	// The identity is taken before reading: a line appended during the read
	// changes the size, so the next read looks again.
	fi, err := f.Stat()
	var id fileID
	if err == nil {
		id = idOf(fi)
	}
	switch {
	case err != nil:
		ls.valid = false
	case ls.valid && id.unchanged(ls.id):
		return ReadStats{PartialBytes: ls.partial, Offset: ls.offset}, nil
	case ls.valid && id.sameFile(ls.id) && id.size > ls.id.size &&
		!id.mtime.Before(ls.id.mtime) && ls.tailMatches(f):
		// Grown: continue after the last complete line.
	default:
		ls.valid = false
	}
	if !ls.valid {
		*ls = logState{}
		reset()
	}
	from := ls.offset
	st, rerr := readLinesFrom(path, f, from, fn)
	if rerr != nil && from > 0 {
		// Say the error as a whole read would (its line number counts from
		// the start).
		reset()
		from = 0
		st, rerr = readLinesFrom(path, f, 0, fn)
	}
	if rerr != nil || err != nil {
		*ls = logState{}
		if rerr != nil && err == nil {
			ls.failed = id // a folder in its place: open and stat work, the read fails
		}
		return st, rerr
	}
	ls.valid, ls.id, ls.partial = true, id, st.PartialBytes
	if st.Offset > 0 {
		ls.offset = from + st.Offset
		ls.tail = make([]byte, min(ls.offset, tailLen))
		if _, terr := f.ReadAt(ls.tail, ls.offset-int64(len(ls.tail))); terr != nil {
			ls.valid = false // cut short meanwhile: read it whole next time
		}
	}
	st.Offset = ls.offset
	return st, nil
}

// tailMatches reports whether the bytes before the offset are those read
// there last time.
func (ls *logState) tailMatches(f *os.File) bool {
	if len(ls.tail) == 0 {
		return ls.offset == 0
	}
	buf := make([]byte, len(ls.tail))
	if _, err := f.ReadAt(buf, ls.offset-int64(len(buf))); err != nil {
		return false
	}
	return bytes.Equal(buf, ls.tail)
}

// readLinesFrom is ReadLog from byte from of the open file f.
func readLinesFrom(path string, f *os.File, from int64, fn func(raw []byte)) (ReadStats, error) {
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return ReadStats{}, fmt.Errorf("read %s: %w", path, err)
	}
	return readLines(path, f, func(_ int, raw []byte) error {
		fn(raw)
		return nil
	})
}

// configState is what a Lister read of config.toml.
type configState struct {
	valid     bool
	id        fileID
	readErr   error
	syntaxErr error
	numbering StepNumbering
	planned   int
	imported  string          // the format of an imported run (ImportSource.Format), else ""
	wrote     importedMetrics // what an imported run's import wrote
	settings  Settings        // ParseSettings of it: a listing's λ (RunSummary.Settings)
}

// config returns what config.toml says, read again only if its identity
// (stat'ed just before by the caller) changed since it was last read.
func (c *runCache) config(dir, path string, fi fs.FileInfo) configState {
	id := idOf(fi)
	if c.cfg.valid && c.cfg.id.unchanged(id) {
		return c.cfg
	}
	c.cfg = configState{id: id}
	data, err := os.ReadFile(path)
	if err != nil {
		// Not kept: a file that could not be read is tried again.
		c.cfg.readErr = err
		return c.cfg
	}
	c.cfg.valid = true
	if err := configSyntax(path, data); err != nil {
		c.cfg.syntaxErr = err
	} else if err := configTypes(path, data); err != nil {
		c.cfg.syntaxErr = err
	} else {
		c.cfg.numbering, c.cfg.planned = configPlan(dir, data)
		c.cfg.settings = ParseSettings(data)
		if src, ok := importSource(path, data); ok {
			c.cfg.imported = src.Format
			c.cfg.wrote = importedMetrics{records: src.Metrics, source: src.Source}
		}
	}
	return c.cfg
}

// configTypes reports every value of config.toml that its key's type
// cannot hold (steps = "ten", an integer out of range), whichever key it
// is, which listings and viewers would otherwise take as unset, or the
// engine refuse on resuming, without a word: DecodeStrict's problems of
// those kinds, each at its line, as a syntax error is said (configSyntax).
// Unknown keys are not the listing's concern (another version's, an
// import's); values in range are the engine's to check.
func configTypes(path string, data []byte) error {
	return mistypedError(mistypedValues(path, data))
}

// mistypedError is configTypes' refusal of mistyped (nil for none): the
// first at its line, the lines of the rest.
func mistypedError(mistyped []*ConfigError) error {
	if len(mistyped) == 0 {
		return nil
	}
	more := ""
	if n := len(mistyped) - 1; n > 0 {
		lines := make([]string, n)
		for i, ce := range mistyped[1:] {
			lines[i] = strconv.Itoa(ce.Line)
		}
		more = fmt.Sprintf("; %d more on line %s", n, lines[0])
		if n > 1 {
			more = fmt.Sprintf("; %d more on lines %s", n, strings.Join(lines, ", "))
		}
	}
	return fmt.Errorf("%w%s; the run's settings cannot be read until it is fixed", mistyped[0], more)
}

// mistypedValues are configTypes' problems, one per value, in the file's
// line order.
func mistypedValues(path string, data []byte) []*ConfigError {
	// The engine's own type, runconfig.Config, which links no model,
	// method or runner (so sessions may: layering_test.go), and an
	// import's keys beside it.
	var v struct {
		runconfig.Config
		ImportConfig
	}
	// Decoded into the defaults, not a zero struct: a mistyped key's
	// example is its value here (typeExample), and from zeros every key
	// fell back to its type's generic one, which can be a value the key
	// refuses ('samples = 1.5' said "such as samples = 1", and a group
	// needs 2; reward.format_penalty "such as format_penalty = 0.5", a
	// positive penalty that is refused), where the launcher's own check
	// said the key's default.
	v.Config = RecordedConfig()
	v.Config.GRPO = runconfig.DefaultGRPO()
	v.Config.EvalEvery, v.Config.EvalQuestions = runconfig.DefaultEvalEvery, runconfig.DefaultEvalQuestions
	var mistyped []*ConfigError
	for _, e := range configkey.Problems(DecodeStrict(path, data, &v)) {
		if ce, ok := e.(*ConfigError); ok && ce.kind == mistypedValue {
			mistyped = append(mistyped, ce)
		}
	}
	if ce := unknownImportFormat(path, data); ce != nil {
		mistyped = append(mistyped, ce)
		slices.SortStableFunc(mistyped, func(a, b *ConfigError) int { return cmp.Compare(a.Line, b.Line) })
	}
	return mistyped
}

// FolderSize is the size of the regular files under dir: a run folder's
// size as listings show it (RunSummary.Size), also of folders that are not
// run folders (a trainer's, followed).
func FolderSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
