package sessions

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// StepNumbering is how a run's metric records number its steps, which
// decides how many steps the run has done. The workbench's own runs name
// a step by its 0-based index (the name traces, checkpoints and progress
// lines use too), so a run whose last record is of step 5 has done 6. The
// trainers Import reads log a step's metrics under the number of
// optimizer steps done once it ends: the official RLT trainer and TRL
// (the Hugging Face Trainer's state.global_step), verl (global_steps,
// which starts at 1) and NeMo-RL (its metrics at step + 1, and
// train_data_step{step + 1}.jsonl since October 2025). An imported run
// keeps the trainer's numbers, so that its charts match the trainer's own
// dashboards; only the count differs.
type StepNumbering int

const (
	// StepsFromZero: the workbench's own runs; step N is the (N+1)th.
	StepsFromZero StepNumbering = iota
	// StepsFromOne: runs imported from another trainer; step N is the Nth.
	StepsFromOne
)

// StepsDone is how many steps a run numbered so has completed when the
// highest step its metric records name is lastStep (-1: none). The highest,
// not the last record's: a step's values can come after a later step's (an
// evaluation logged late, a trainer's records read out of order, a value a
// followed trainer's folder adds to a step already shown), and the step in
// progress is past all of them. Records a resume superseded do not count
// (resumePoints): the resumed session re-does those steps. Numbered from
// one, a record of step 0 (verl's and NeMo-RL's validation before the
// first step) follows no step done.
func (n StepNumbering) StepsDone(lastStep int) int {
	if n == StepsFromOne {
		return max(lastStep, 0)
	}
	return max(lastStep+1, 0)
}

// ImportNumbering is how a run imported from format (ImportOfficial,
// ImportTRL, ImportVerl, ImportNemoRL or ImportTraces) numbers its steps:
// a trainer's numbers are kept (see StepNumbering). A traces file has no
// metrics; its traces are put at step 0, our first step's name.
func ImportNumbering(format string) StepNumbering {
	switch format {
	case ImportOfficial, ImportTRL, ImportVerl, ImportNemoRL:
		return StepsFromOne
	}
	return StepsFromZero
}

// configPlan is how the run whose config.toml holds data numbers its
// steps and how many it planned (0: open-ended or not stated): an
// import's, what its trainer's files stated (ImportSource.PlannedSteps);
// one of ours, its top-level steps (runconfig.Config.Steps; 0 runs until
// stopped) as config.toml records them, which a later rlt run --resume
// --steps N rewrites (Run.RecordSteps). A config.toml that does not
// decode states no plan.
func configPlan(dir string, data []byte) (StepNumbering, int) {
	if src, ok := importSource(filepath.Join(dir, ConfigFile), data); ok {
		return ImportNumbering(src.Format), src.PlannedSteps
	}
	var c struct {
		Steps int `toml:"steps"`
	}
	if err := decodeLoose(data, &c); err != nil {
		return StepsFromZero, 0
	}
	return StepsFromZero, max(c.Steps, 0)
}

// decodeLoose decodes TOML data into v, ignoring keys v lacks: for the
// one or two keys a listing needs (DecodeStrict checks a whole file).
func decodeLoose(data []byte, v any) (err error) {
	defer func() {
		// The parser is third-party; a user's file must never crash us.
		if r := recover(); r != nil {
			err = fmt.Errorf("toml: panic: %v", r)
		}
	}()
	return toml.Unmarshal(data, v)
}

// StepNumbering is how the run's metric records number its steps, from
// config.toml: the count of steps done the workbench shows is
// r.StepNumbering().StepsDone(last step recorded).
func (r *Run) StepNumbering() StepNumbering {
	r.readPlan()
	return r.numbering
}

// readPlan reads, once, how the run numbers its steps, whether it is an
// import and what the import wrote, from config.toml.
func (r *Run) readPlan() {
	r.numberingOnce.Do(func() {
		r.numbering, _ = configPlan(r.dir, r.config)
		var src ImportSource
		src, r.imported = importSource(filepath.Join(r.dir, ConfigFile), r.config)
		r.importWrote = importedMetrics{records: src.Metrics, source: src.Source}
	})
}

// Steps is how many steps the run has done (countSteps, the rule by
// which the Runs screen, rlt sessions and rlt run --resume count them),
// from the records this Run has read and written: its metric records that
// stand, its checkpoint events no resume superseded, and its checkpoint
// folders past those its events record (as load found them, or as
// LatestCheckpoint did). The workbench's header shows it.
func (r *Run) Steps() StepCount {
	r.evMu.Lock()
	ev := &r.ev
	e := stepsEvidence{dir: r.dir, lastCheckpoint: ev.lastCheckpoint(), recordedCheckpoint: ev.recordedCheckpoint(),
		stepped: ev.stepped, imported: ev.imported, lostBefore: ev.lostBefore}
	r.evMu.Unlock()
	e.diskCheckpoint, e.unusable = provenByFolders(r.ckFolders, e.accounted(), r.checkpointUsable)
	e.diskCheckpoint = max(int(r.ckFound.Load())-1, e.diskCheckpoint)
	e.metricSteps, e.brokenMetrics = r.store.metricSteps()
	r.readPlan()
	e.numbering, e.imported, e.wrote = r.numbering, e.imported || r.imported, r.importWrote
	e.metricsMissing = r.metricsLost && len(e.metricSteps) == 0
	e.events = r.eventsLost
	if e.lostBefore.how != "" {
		// This session wrote the file anew, its lost event first: it
		// is no longer missing.
		e.events = logKept
	}
	return countSteps(e)
}

// recordLostEvents records in events.jsonl, as the session's first
// records go into it, that the session found it lost (Steps' EventsLost:
// missing, emptied, or short of the run's checkpoint folders) and with
// it the steps the run had done then: what the session writes is not the
// run's whole history, and later opens go on saying so rather than read
// the file as whole. Called with the open event.
func (r *Run) recordLostEvents() {
	c := r.Steps()
	if c.EventsLost == "" || c.eventsLoss == logKept {
		return
	}
	r.enqueueEvent(EventRecord{Time: time.Now().UTC(), Kind: KindLost, Name: c.eventsLoss.lostName(), Step: c.LastStep,
		File: EventsFile, Extra: c.EventsLost})
}

// StepsDone is how many steps the listed run has done (0 when no record
// proves one; LastStep is then -1).
func (s RunSummary) StepsDone() int { return s.Numbering.StepsDone(s.LastStep) }

// StepsLabel says how many steps a run has done against the steps planned
// (0: open-ended or not known), as the workbench's header and Runs screen
// and rlt import show it: "3/10", or "3" without a plan. A run past its
// plan reads "12 (10 planned)", not "12/10", which would read as a count
// gone wrong: it happens where the plan on record is older than the run
// (one of ours resumed with --steps N before rlt recorded N in its
// config.toml; a trainer whose files raise their max_steps after its
// steps).
func StepsLabel(done, planned int) string {
	switch {
	case planned <= 0:
		return fmt.Sprint(done)
	case done > planned:
		return fmt.Sprintf("%d (%d planned)", done, planned)
	}
	return fmt.Sprintf("%d/%d", done, planned)
}

// StepsCell is the STEPS cell of a run's line in a listing (rlt sessions,
// the workbench's Runs screen), its count as StepsLabel says it: a run
// that plans its steps and has done none yet reads "0/200", as the header
// of the workbench training it says "step 0/200"; "—" only where there is
// neither a step done nor a plan to count against (lastStep -1: no record
// of a step, as in RunSummary.LastStep).
func StepsCell(n StepNumbering, lastStep, planned int) string {
	if lastStep < 0 && planned <= 0 {
		return "—"
	}
	return StepsLabel(n.StepsDone(lastStep), planned)
}

// resumePoints are the steps a run was resumed after, by the segment (the
// session) that resumed it: a record of an earlier segment past such a step
// is superseded, since the resumed session re-does that step. Where one
// segment's events name several, the lowest counts. Run loads by it and
// the Lister counts by it, so both leave out the same records.
type resumePoints map[int]int

// note records that segment seg resumed the run after step.
func (p resumePoints) note(seg, step int) {
	if old, ok := p[seg]; !ok || step < old {
		p[seg] = step
	}
}

// superseded reports whether a record of segment seg at step was re-done
// by a later segment that resumed from an earlier step.
func (p resumePoints) superseded(seg, step int) bool {
	for s, kept := range p {
		if s > seg && step > kept {
			return true
		}
	}
	return false
}

// lostResume is a resume point that events.jsonl lost, read from the
// metric records: segment seg resumed the run after step, and the
// records of earlier segments past it that stood were those of steps.
type lostResume struct {
	seg, step int
	steps     stepRanges
}

// lostResumes are the resume points of a run of ours (not an import)
// that events.jsonl lost (missing, emptied, cut short or written anew:
// a resume event is flushed before the session's first record, Resume),
// read from its metric records (steps, by segment): a segment past the
// first whose work the events record none of (worked: no resume, phase,
// checkpoint, device or error of it; a segment that opened the run and
// recorded steps without resuming it keeps its records beside the
// earlier ones), and whose first step an earlier segment's records that
// stand reach, re-did those steps, so it resumed after the step before
// its first, and p with the points found is the run's resume points. The rule is a segment's, not a record's:
// metrics.jsonl is append-only and a resume appends what it re-does, so
// the later segment's records of a step are the ones that stand, all of
// them (a step's held-out evaluation is a record of its own, with its own
// keys, which a rule of the last record of each step would have taken
// for the step's only one), and an earlier segment's records past the
// point are left out as the lost event would have left them (a resume
// abandons the steps it does not reach again, too). An import's records
// are the trainer's and keep its steps: none is read so. p is returned
// as it is where nothing is found; nil lost.
func (p resumePoints) lostResumes(steps map[int]*stepRanges, worked map[int]bool) (resumePoints, []lostResume) {
	var lost []lostResume
	for seg, r := range steps {
		if _, ok := p[seg]; ok || worked[seg] || seg == 0 || len(*r) == 0 {
			continue
		}
		point := (*r)[0][0] - 1
		var redone stepRanges
		for earlier, er := range steps {
			if earlier >= seg {
				continue
			}
			limit := p.standingUpTo(earlier)
			for _, rg := range *er {
				if rg[1] <= point || rg[0] > limit {
					continue
				}
				for step := max(rg[0], point+1); step <= min(rg[1], limit); step++ {
					redone.add(step)
				}
			}
		}
		if len(redone) > 0 {
			lost = append(lost, lostResume{seg: seg, step: point, steps: redone})
		}
	}
	if len(lost) == 0 {
		return p, nil
	}
	slices.SortFunc(lost, func(a, b lostResume) int { return a.seg - b.seg })
	all := maps.Clone(p)
	if all == nil {
		all = resumePoints{}
	}
	for _, l := range lost {
		all.note(l.seg, l.step)
	}
	return all, lost
}

// lostResumesSaid says what the resume points lost mean for the records
// (lostResumes): "" where none was.
func lostResumesSaid(lost []lostResume) string {
	if len(lost) == 0 {
		return ""
	}
	var segs []string
	var steps stepRanges
	for _, l := range lost {
		segs = append(segs, strconv.Itoa(l.seg))
		for _, rg := range l.steps {
			for step := rg[0]; step <= rg[1]; step++ {
				steps.add(step)
			}
		}
	}
	sessions := "the resume event of the session whose records carry \"seg\": " + segs[0] + ", which said after which step it"
	if len(segs) > 1 {
		sessions = "the resume events of the sessions whose records carry \"seg\": " + strings.Join(segs[:len(segs)-1], ", ") + " and " +
			segs[len(segs)-1] + ", which said after which step each"
	}
	return fmt.Sprintf("lost %s resumed the run, and so whose records of a step stand: the resume points were taken "+
		"from the records instead (a resume re-does the steps after its checkpoint and appends their records), so for %s, which an "+
		"earlier session recorded too, the later session's records (metrics and traces) are taken and the earlier one's left out, "+
		"one point a step on the curves; put the file back from a copy of the run folder if there is one", sessions, steps)
}

// stepRanges is a set of steps as ascending, disjoint, non-adjacent
// ranges [first, last]: a segment's steps, which its session does in
// order, are one range however many there are.
type stepRanges [][2]int

// add puts step into the set.
func (r *stepRanges) add(step int) {
	rs := *r
	if n := len(rs); n > 0 && step >= rs[n-1][0] { // in order: the usual case
		switch {
		case step <= rs[n-1][1]:
		case step == rs[n-1][1]+1:
			rs[n-1][1] = step
		default:
			*r = append(rs, [2]int{step, step})
		}
		return
	}
	// The first range that ends at step-1 or later.
	i := sort.Search(len(rs), func(i int) bool { return rs[i][1] >= step-1 })
	switch {
	case i == len(rs):
		*r = append(rs, [2]int{step, step})
	case rs[i][0] <= step && step <= rs[i][1]:
	case step == rs[i][1]+1:
		rs[i][1] = step
		if i+1 < len(rs) && rs[i+1][0] == step+1 {
			rs[i][1] = rs[i+1][1]
			*r = slices.Delete(rs, i+1, i+2)
		}
	case step == rs[i][0]-1: // rs[i-1] ends before step-1: no merge
		rs[i][0] = step
	default:
		*r = slices.Insert(rs, i, [2]int{step, step})
	}
}

// highestUpTo is the highest step of the set not past limit.
func (r stepRanges) highestUpTo(limit int) (int, bool) {
	j := sort.Search(len(r), func(i int) bool { return r[i][0] > limit }) - 1
	if j < 0 {
		return 0, false
	}
	return min(r[j][1], limit), true
}

// standingUpTo is the highest step of segment seg whose records stand:
// a later segment that resumed from an earlier step re-did every step of
// seg past it (resumePoints.superseded, by segment rather than record).
func (p resumePoints) standingUpTo(seg int) int {
	limit := math.MaxInt
	for s, kept := range p {
		if s > seg {
			limit = min(limit, kept)
		}
	}
	return limit
}

// highestStanding is the highest step of the records (their steps by
// segment) that no resume superseded, -1 when there is none.
func highestStanding(steps map[int]*stepRanges, resumes resumePoints) int {
	best := -1
	for seg, r := range steps {
		if h, ok := r.highestUpTo(resumes.standingUpTo(seg)); ok {
			best = max(best, h)
		}
	}
	return best
}

// stepRewards are one segment's rewards, the best of each step, by
// ascending step: what a resume read later cuts at a step (bestUpTo). A
// session's steps come in order, so adding one is an append.
type stepRewards struct {
	steps []int
	best  []float64 // best[i]: the best reward recorded for steps[i]
}

// add records a reward v of step (not NaN).
func (r *stepRewards) add(step int, v float64) {
	i, found := slices.BinarySearch(r.steps, step)
	switch {
	case found:
		r.best[i] = max(r.best[i], v)
	default:
		r.steps = slices.Insert(r.steps, i, step)
		r.best = slices.Insert(r.best, i, v)
	}
}

// bestUpTo is the best reward of the steps not past limit (false: none).
func (r *stepRewards) bestUpTo(limit int) (float64, bool) {
	best, found := 0.0, false
	for i, step := range r.steps {
		if step > limit {
			break
		}
		if !found || r.best[i] > best {
			best, found = r.best[i], true
		}
	}
	return best, found
}

// bestStanding is the best reward of the records (their rewards by
// segment) that no resume superseded, NaN when there is none: the records
// highestStanding counts, so a listing's best reward and its steps done
// are of the same records, those the open run keeps.
func bestStanding(rewards map[int]*stepRewards, resumes resumePoints) float64 {
	best := math.NaN()
	for seg, r := range rewards {
		if v, ok := r.bestUpTo(resumes.standingUpTo(seg)); ok && !(v <= best) {
			best = v
		}
	}
	return best
}

// standingSteps is the set of the steps of the records (their steps by
// segment) that stand: each segment's up to where a later resume took
// over (resumePoints.standingUpTo), as highestStanding counts them. A
// lone segment that no resume cut is returned as it is, not copied: the
// caller only reads it.
func standingSteps(steps map[int]*stepRanges, resumes resumePoints) stepRanges {
	var all stepRanges
	for seg, r := range steps {
		limit := resumes.standingUpTo(seg)
		if len(steps) == 1 && (len(*r) == 0 || (*r)[len(*r)-1][1] <= limit) {
			return *r
		}
		for _, rg := range *r {
			if rg[0] > limit {
				break
			}
			all = append(all, [2]int{rg[0], min(rg[1], limit)})
		}
	}
	slices.SortFunc(all, func(a, b [2]int) int { return a[0] - b[0] })
	merged := all[:0]
	for _, rg := range all {
		if n := len(merged); n > 0 && rg[0] <= merged[n-1][1]+1 {
			merged[n-1][1] = max(merged[n-1][1], rg[1])
			continue
		}
		merged = append(merged, rg)
	}
	return merged
}

// last is the highest step of the set (-1: none).
func (r stepRanges) last() int {
	if len(r) == 0 {
		return -1
	}
	return r[len(r)-1][1]
}

// holes are the steps from first to the set's highest that it lacks (nil:
// none).
func (r stepRanges) holes(first int) stepRanges {
	var out stepRanges
	next := first // the lowest step not yet seen
	for _, rg := range r {
		if rg[0] > next {
			out = append(out, [2]int{next, rg[0] - 1})
		}
		next = max(next, rg[1]+1)
	}
	return out
}

// count is how many steps the set holds.
func (r stepRanges) count() int {
	n := 0
	for _, rg := range r {
		n += rg[1] - rg[0] + 1
	}
	return n
}

// String says the set's steps compactly, ranges as first-last: "step 4",
// "steps 0-2", "steps 3, 5-9 and 12"; past the first few ranges, how many
// steps more ("no step": none).
func (r stepRanges) String() string {
	const shown = 4
	var parts []string
	for i, rg := range r {
		if i == shown {
			parts = append(parts, countOf(stepRanges(r[i:]).count(), "more step"))
			break
		}
		if rg[0] == rg[1] {
			parts = append(parts, strconv.Itoa(rg[0]))
		} else {
			parts = append(parts, strconv.Itoa(rg[0])+"-"+strconv.Itoa(rg[1]))
		}
	}
	switch {
	case len(r) == 0:
		return "no step"
	case len(r) == 1 && r[0][0] == r[0][1]:
		return "step " + parts[0]
	}
	if len(parts) == 1 {
		return "steps " + parts[0]
	}
	return "steps " + strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// checkpointFolders are the steps of the run folder dir's checkpoint
// folders (checkpointFolderList: checkpoints/step-NNNNNN, or one moved
// aside to be replaced that the next open puts back), ascending: what proves the steps
// done where events.jsonl, which records the checkpoints, lost their
// records (provenByFolders). One ReadDir (a Lister does it again only
// once the folder changed: runCache.checkpointsOnDisk).
func checkpointFolders(dir string) []int {
	folders, _ := checkpointFolderList(dir)
	var steps []int
	for _, f := range folders {
		steps = append(steps, f.step)
	}
	return steps
}

// unusableCheckpoint is a checkpoint folder past every checkpoint the
// events account for that cannot be resumed from, and why.
type unusableCheckpoint struct {
	step int
	err  error
}

// errFolderGone: a checkpoint folder listed before is gone since
// (rotation removed it): it proves nothing, and is not said.
var errFolderGone = errors.New("checkpoint folder gone")

// provenByFolders is the highest checkpoint folder (steps, ascending) that
// proves its step done where it is past every checkpoint the events
// account for (accounted: their records of it are lost): one that can be
// resumed from (usable nil), and the folders past it that cannot, newest
// first, which prove nothing. A folder is renamed into place only once
// its save is complete, but a folder copied by hand (a copy cut short)
// or damaged since has the name too: the step counted done must be one a
// resume continues from, as LatestCheckpoint takes it (of which usable,
// checkpointUsable, checks the manifest, not the content's checksums). A
// folder the events account for is theirs to count, and returned
// unchecked. -1: none.
func provenByFolders(steps []int, accounted int, usable func(step int) error) (int, []unusableCheckpoint) {
	var bad []unusableCheckpoint
	for i := len(steps) - 1; i >= 0; i-- {
		step := steps[i]
		if step <= accounted {
			return step, bad
		}
		switch err := usable(step); {
		case err == nil:
			return step, bad
		case !errors.Is(err, errFolderGone):
			bad = append(bad, unusableCheckpoint{step, err})
		}
	}
	return -1, bad
}

// checkpointUsable says why the checkpoint folder of step in the run
// folder dir cannot be resumed from, by its manifest (verifyCheckpointOf:
// state.json of that step, every file there with its size, the weights'
// headers readable), nil if it can; errFolderGone if it is not there.
// seen (where set) is told of each file the check stats (verifyCheckpoint).
func checkpointUsable(dir string, step int, seen func(path string, fi fs.FileInfo)) error {
	ck := checkpointFolderOf(dir, step)
	if _, err := os.Stat(ck); errors.Is(err, fs.ErrNotExist) {
		return errFolderGone
	}
	_, err := verifyCheckpointOf(ck, step, seen)
	return err
}

// checkpointUsable is checkpointUsable of this run's folder, checked
// again once the folder or a file the check statted changed
// (usableChecks, as a Lister's relist): a run kept open in the workbench
// says a checkpoint cut in place since, or put back whole.
func (r *Run) checkpointUsable(step int) error {
	r.ckUsableMu.Lock()
	defer r.ckUsableMu.Unlock()
	_, err := r.ckUsable.check(r.dir, step)
	return err
}

// unusableSaid says the checkpoint folders past the events that cannot
// be resumed from (provenByFolders), and what to do; "" for none.
func unusableSaid(bad []unusableCheckpoint) string {
	var said []string
	for _, b := range bad {
		said = append(said, fmt.Sprintf("%s/%s: cannot be resumed from (%v), so it proves no step done (events.jsonl lost its record): "+
			"a resume passes over it to an earlier checkpoint; put it back from a copy of the run folder if there is one, or delete it",
			CheckpointsDir, checkpointName(b.step), b.err))
	}
	return strings.Join(said, "; ")
}

// StepCount is how many steps a run has done, by the one rule (countSteps)
// by which the workbench's header (Run.Steps), its Runs screen and rlt
// sessions (RunSummary.LastStep) and rlt run --resume's refusal
// (NothingToRunError.Done) count them. A step is done when a record
// proves it: a metric record of it that stands, or a checkpoint of it or
// of a later step (a checkpoint of step N is saved only once the records
// of step N are on disk, so metric records that fall short of it were
// lost, not never written; and a step is begun only once the one before
// it has recorded its metrics, so a step lacking them below one that has
// them lost them too). A checkpoint is one that events.jsonl records and
// no resume superseded, or a checkpoint folder past every checkpoint it
// records, whose event it lost (missing, emptied or cut short). Where
// metrics.jsonl is missing, falls short of the checkpoints or has a hole
// (an import's: holds fewer steps than its import wrote), or events.jsonl
// lost records, the count is the highest proof's and Lost and EventsLost
// say what was lost and what to do: a file is not made again in silence,
// nor its loss read as a run that did nothing or forgotten once a
// session records later steps.
type StepCount struct {
	// HasStep: a record proves a step done (as the run numbers them, a
	// run imported from a trainer that counts from one may have done none
	// yet at its step 0's evaluation: Done is then 0).
	HasStep bool
	// LastStep is the highest step done, as the run's records number it
	// (-1: none).
	LastStep int
	// Done is how many steps that is (StepNumbering.StepsDone).
	Done int
	// Lost is what is wrong with metrics.jsonl, said of the file (its
	// path is LostFile): missing, holding fewer steps than the run's
	// checkpoints prove done, lacking the records of steps below others
	// it has (its holes, named), or of an import, holding fewer steps
	// than the import wrote, with what to do; "" when nothing is lost.
	Lost     string
	LostFile string
	// EventsLost is what is wrong with events.jsonl (EventsFile in the
	// run's folder), in a run whose other records prove steps done:
	// missing or empty, short of the run's checkpoint folders (cut), or
	// written anew by a later session that found it so (a lost event),
	// with what to do; "" when it is not lost.
	EventsLost string
	// Checkpoints says the checkpoint folders past every checkpoint the
	// events record that cannot be resumed from, and so prove no step
	// (provenByFolders), each by its path in the run folder
	// ("checkpoints/step-000004: cannot be resumed from (…) …"); "" for
	// none.
	Checkpoints string
	// eventsLoss is how events.jsonl is lost now (logKept where it was
	// only once, and a lost event says so): what a session that writes
	// it anew records (Run.recordLostEvents).
	eventsLoss logLoss
	// checkpoint is the highest checkpoint that proves its steps done
	// (one no resume superseded, or a folder whose event was lost; -1:
	// none): every record of its steps was on disk before it was saved,
	// their trace files too (lostTraceSteps).
	checkpoint int
}

// Problem is Lost and EventsLost, each said of its file by its name, and
// Checkpoints ("" when nothing is lost): the listing's note on the run.
func (c StepCount) Problem() string {
	var said []string
	if c.Lost != "" {
		said = append(said, MetricsFile+": "+c.Lost)
	}
	if c.EventsLost != "" {
		said = append(said, EventsFile+": "+c.EventsLost)
	}
	if c.Checkpoints != "" {
		said = append(said, c.Checkpoints)
	}
	return strings.Join(said, "; ")
}

// logLoss is how a log the run always has was lost.
type logLoss uint8

const (
	logKept    logLoss = iota
	logMissing         // the file is not there
	logEmpty           // the file holds no record
	logCut             // the file lacks the records of checkpoints on disk: cut short
)

// lostName is how a lost event (KindLost) names the loss.
func (l logLoss) lostName() string {
	switch l {
	case logMissing:
		return "missing"
	case logEmpty:
		return "empty"
	case logCut:
		return "cut short"
	}
	return ""
}

// lostRecord is what the latest lost event (KindLost) of events.jsonl
// says: a session found the file lost (how: its Name, "" where no
// session did) when the run's records proved the steps up to step done,
// and wrote it anew.
type lostRecord struct {
	how  string
	step int
}

// importedMetrics is what an import's config.toml says of the metric
// records it wrote (ImportSource.Metrics, one a step) and where from
// (ImportSource.Source): zero for a run of ours, or an import whose
// config.toml is lost.
type importedMetrics struct {
	records int
	source  string
}

// stepsEvidence is what a run's files say of its steps, as countSteps
// takes it.
type stepsEvidence struct {
	dir       string
	numbering StepNumbering
	// metricSteps are the steps of the metric records that stand
	// (standingSteps).
	metricSteps stepRanges
	// brokenMetrics is how many lines of metrics.jsonl are broken, each
	// said as such (IssueBroken): holes no larger are presumed to be
	// theirs, and not said again as steps without a record.
	brokenMetrics int
	// lastCheckpoint is the highest step of the checkpoint events no
	// resume superseded (-1: none); recordedCheckpoint the highest the
	// events record at all, superseded ones, and the checkpoints resume
	// events continue from, too (-1: none).
	lastCheckpoint, recordedCheckpoint int
	// diskCheckpoint is the highest checkpoint folder on disk
	// (checkpointOnDisk, or one LatestCheckpoint found; -1: none). One
	// past every checkpoint the events record, and past the steps a lost
	// event noted, is one whose event events.jsonl lost: it proves its
	// step done. One the events record is theirs to count, superseded or
	// not (a resume from an earlier checkpoint, the newest unusable,
	// leaves the newest behind). A folder past them that cannot be
	// resumed from proves nothing (provenByFolders): unusable are those
	// passed over, newest first.
	diskCheckpoint int
	unusable       []unusableCheckpoint
	// metricsMissing: there is no metrics.jsonl; stepped: the run's events
	// record a step done (a checkpoint, a phase of step 1 or later), so a
	// missing metrics.jsonl lost something.
	metricsMissing, stepped bool
	// imported: the run is Import's copy of a trainer's records (its
	// config.toml or its import events say so), which keep the trainer's
	// numbers and its logging: they may start past its first step (a
	// trainer resumed, verl's from 1) and skip the steps it did not log
	// (TRL's logging_steps), and no checkpoint or later session of ours
	// in the folder says which steps it did. Its holes are the trainer's,
	// not losses, and none is looked for; what its config.toml says the
	// import wrote (wrote) is what it must hold.
	imported bool
	wrote    importedMetrics
	// events is how events.jsonl was lost, if it is missing or empty
	// (logCut is countSteps' to find); lostBefore what a lost event in it
	// says of an earlier loss.
	events     logLoss
	lostBefore lostRecord
}

// accounted is the highest step the events account for: of a checkpoint
// event or a resume's checkpoint, or the steps a lost event noted done. A
// checkpoint folder past it lost its event.
func (e stepsEvidence) accounted() int {
	if e.lostBefore.how != "" {
		return max(e.recordedCheckpoint, e.lostBefore.step)
	}
	return e.recordedCheckpoint
}

// countSteps is the count of steps done that the evidence e proves
// (StepCount), and what is lost of metrics.jsonl and events.jsonl.
func countSteps(e stepsEvidence) StepCount {
	lastMetric := e.metricSteps.last()
	// A checkpoint folder that the events do not account for lost its
	// event with them: it proves its step as the event did.
	accounted := e.accounted()
	ck := e.lastCheckpoint
	if e.diskCheckpoint > accounted {
		ck = max(ck, e.diskCheckpoint)
	}
	events := e.events
	if events == logKept && e.diskCheckpoint > accounted && e.diskCheckpoint > lastMetric {
		// events.jsonl is there but lacks the records of a checkpoint
		// beyond the metric records (a writer killed as it saved a
		// checkpoint may leave its event unwritten, but not beyond the
		// records, which are on disk first): it was cut short.
		events = logCut
	}
	c := StepCount{LastStep: max(lastMetric, ck, -1), eventsLoss: events, checkpoint: ck, Checkpoints: unusableSaid(e.unusable)}
	c.HasStep = c.LastStep >= 0
	c.Done = e.numbering.StepsDone(c.LastStep)
	putBack := "put the file back from a copy of the run folder if there is one; without it the run still resumes from its latest checkpoint (" + Program() + " run --resume) and records the steps it runs from there"
	byCheckpoint := func() string {
		return fmt.Sprintf("the run has done %s (its checkpoint of step %d says so)", countOf(c.Done, "step"), ck)
	}
	// Our runs number their steps from 0 and record each step's metrics
	// before the next begins: the records that stand run from 0 to the
	// last without a hole, however the sessions that wrote them resumed
	// (a resume's records of the steps it re-did replace those it
	// superseded, standingSteps). An import keeps its trainer's.
	var holes stepRanges
	if !e.imported {
		holes = e.metricSteps.holes(0)
		if holes.count() <= e.brokenMetrics {
			holes = nil // the broken lines, said already
		}
	}
	switch {
	case e.imported:
		c.Lost = e.importLoss()
	case e.metricsMissing && ck >= 0:
		c.Lost = "missing, though " + byCheckpoint() + ": their metrics (the curves) are lost; " + putBack
	case e.metricsMissing && e.stepped:
		c.Lost = "missing, though the run's events record steps: its metrics (the curves) are lost; " + putBack
	case e.metricsMissing:
	case ck > lastMetric && lastMetric < 0:
		c.Lost = "holds no step, though " + byCheckpoint() + ": their metrics (the curves) are lost; " + putBack
	case len(holes) > 0:
		// Lines of steps below the last are gone (a resume of a run that
		// had lost the file records from its checkpoint on): the later
		// records prove them done, and putting the whole file back would
		// lose those.
		proof := fmt.Sprintf("its records of step %d say so", lastMetric)
		if ck > lastMetric {
			proof = fmt.Sprintf("its checkpoint of step %d says so", ck)
			holes = append(holes, [2]int{lastMetric + 1, ck})
		}
		c.Lost = fmt.Sprintf("has no record of %s%s, though the run has done %s (%s): their metrics (those points of the curves) are lost; "+
			"put their lines back from a copy of the run folder if there is one (not the whole file: it holds the later steps' records now); "+
			"without it the curves go on without them",
			holes, mayBeBroken(e.brokenMetrics), countOf(c.Done, "step"), proof)
	case ck > lastMetric:
		c.Lost = fmt.Sprintf("records steps up to %d, though %s: the records of the steps after %d are lost; %s",
			lastMetric, byCheckpoint(), lastMetric, putBack)
	}
	if c.Lost != "" {
		c.LostFile = filepath.Join(e.dir, MetricsFile)
	}
	switch {
	case events == logMissing && c.HasStep, events == logEmpty && c.HasStep:
		how := "missing"
		if events == logEmpty {
			how = "holds no record"
		}
		proof, counted := byCheckpoint(), ", and its steps are counted from its checkpoint folders"
		if ck < lastMetric {
			proof = fmt.Sprintf("the run has done %s (its records of step %d say so)", countOf(c.Done, "step"), lastMetric)
			counted = ""
		}
		c.EventsLost = how + ", though " + proof + ": its history (its sessions, phases, checkpoints and errors) is lost" + counted +
			"; put the file back from a copy of the run folder if there is one"
	case events == logCut:
		recorded := "no checkpoint"
		if accounted >= 0 {
			recorded = fmt.Sprintf("no checkpoint past step %d", accounted)
		}
		c.EventsLost = "records " + recorded + ", though " + byCheckpoint() + ": the file was cut short, and the run's history since " +
			"(its sessions, phases, checkpoints and errors) is lost, its steps counted from its checkpoint folders; " +
			"put the file back from a copy of the run folder if there is one"
	case e.lostBefore.how != "":
		// A session found the file lost and wrote it anew: what it holds
		// starts there.
		how := e.lostBefore.how
		if how == logEmpty.lostName() {
			how = "holding no record"
		}
		c.EventsLost = fmt.Sprintf("lost the records of the run's first %s: a later session found the file %s and wrote it anew, "+
			"so the run's history up to then (its sessions, phases, checkpoints and errors) is lost; put those lines back from a copy "+
			"of the run folder if there is one (not the whole file: it holds the later sessions' records now)",
			countOf(e.numbering.StepsDone(e.lostBefore.step), "step"), how)
	}
	return c
}

// mayBeBroken says that some of the records said lost may be the file's
// broken lines (broken of them), which are said apart; "" for none.
func mayBeBroken(broken int) string {
	switch {
	case broken == 1:
		return " (one of them may be its broken line, said apart)"
	case broken > 1:
		return fmt.Sprintf(" (%d of them may be its broken lines, said apart)", broken)
	}
	return ""
}

// importLoss is what an imported run's metrics.jsonl lost ("": nothing
// known): the file missing where the import wrote records or its events
// record steps, or holding fewer steps than the import wrote (one record
// a step, ImportSource.Metrics), whichever those were: a trainer logs
// the steps it chooses (TRL's logging_steps), so no hole says which.
// Such a run is not resumed: what gets its records back is the trainer's
// folder, imported again, or a copy.
func (e stepsEvidence) importLoss() string {
	again := "import the trainer's folder again if it is still there (" + Program() + " import " + ShellQuote(e.wrote.source) +
		" makes a new run folder of it), or put the file back from a copy of the run folder"
	if e.wrote.source == "" {
		again = "import the trainer's folder again if it is still there (" + Program() + " import DIR makes a new run folder of it), or put the file back from a copy of the run folder"
	}
	wrote := countOf(e.wrote.records, "metric record") + ", one a step (its " + ConfigFile + " says so)"
	held := e.metricSteps.count()
	switch {
	case e.metricsMissing && e.wrote.records > 0:
		return "missing, though the import wrote " + wrote + ": the trainer's metrics (the curves) are lost; " + again
	case e.metricsMissing && e.stepped:
		return "missing, though the run's events record steps: the trainer's metrics (the curves) are lost; " + again
	case e.metricsMissing, e.wrote.records-held <= e.brokenMetrics:
		return ""
	case held == 0:
		return "holds no step, though the import wrote " + wrote + ": the trainer's metrics (the curves) are lost; " + again
	}
	return fmt.Sprintf("holds the records of %s, though the import wrote %s: the records of %s%s (those points of the curves) are lost; %s",
		countOf(held, "step"), wrote, countOf(e.wrote.records-held, "step"), mayBeBroken(e.brokenMetrics), again)
}

// The Names of the close event (KindClose, File events.jsonl) a session
// writes for the run's last session before its own open event, where it
// found that session's close lost (cutAfterClose): LostPartialLine where
// events.jsonl ended in a partial line (Count its bytes), which the
// session removes; LostAtLineEnd where it ended in a whole line with no
// close after it. It is a close, not a lost event, so that every reader
// takes the session as closed: versions before 5c6690a read a lost event
// of events.jsonl as the file found lost and written anew ("lost the
// records of the run's first 0 steps"), and the session it left open as
// killed. Sessions from 5c6690a to this one wrote a lost event named
// LostPartialLine instead, which eventsFold still reads.
const (
	LostPartialLine = "partial line"
	LostAtLineEnd   = "line end"
)

// cutAfterClose reports whether events.jsonl lost the close of the
// run's last session, rather than that session being interrupted: the
// session its events leave open (open; training: it trains the run or
// set out to) is no longer held (held), and run.lock is there (lockFound)
// and names no process (lockPID 0). A session empties run.lock only in
// its Close, after its close event was written and fsynced; a writer
// killed (or a machine that lost power) leaves its record there (written
// whole and fsynced: RunLock.write). What was lost is that session's
// close and any records after it, not the session itself. partial is the
// bytes of the file's partial last line: where it ends in a whole line
// (0), only a session that would otherwise read as interrupted is asked
// about (a review's lost close changes nothing that is said).
//
// What cannot be known: how many records were lost after the last whole
// line (a partial line shows the file was cut, not how much of it);
// whether the file was cut since or the session's last records were never
// written (a Close whose writes failed, on a full disk, still empties
// run.lock, and says so to its caller); whether run.lock was emptied by
// a clean close at all, rather than by hand, or by an rlt before eae1bcc,
// which emptied the file before writing each record, so that a holder
// killed in between left it empty. A run.lock that is missing (a copy
// that left it out, one deleted) proves nothing: the session reads as
// interrupted. Neither a final checkpoint nor a done phase proves a
// close: a writer is killed after either as easily.
func cutAfterClose(partial int64, open, training, held, lockFound bool, lockPID int) bool {
	return open && (partial > 0 || training) && !held && lockFound && lockPID == 0
}

// cutAfterCloseSaid says what a cut events.jsonl lost (cutAfterClose):
// its partial line's bytes (0: it ends in a whole line), and the process
// of the session it closed (pid; 0: not named); recorded: a later session
// found it so, removed the partial line and recorded the close.
func cutAfterCloseSaid(partial int64, pid int, recorded bool) string {
	who := "the run's last session"
	if pid != 0 {
		who += fmt.Sprintf(" (pid %d)", pid)
	}
	if partial == 0 {
		if recorded {
			return fmt.Sprintf("lost its last records (the close of %s at least; the file ended in a whole line): run.lock said that "+
				"session had closed the run (it is emptied only as a session closes, after its close is written), so the file was cut "+
				"at a line's end since, or those records could not be written (a full disk), and how many were lost cannot be known; "+
				"the session was not interrupted; a later session recorded its close and went on writing the run; put those lines "+
				"back from a copy of the run folder if there is one (not the whole file: it holds the later sessions' records now)", who)
		}
		return fmt.Sprintf("lost its last records (the close of %s at least; the file ends in a whole line): run.lock says that "+
			"session closed the run (it is emptied only as a session closes, after its close is written), so the file was cut at a "+
			"line's end since, or those records could not be written (a full disk), and how many were lost cannot be known; the "+
			"session was not interrupted; put the file back from a copy of the run folder if there is one", who)
	}
	if recorded {
		return fmt.Sprintf("lost its last records (a partial line of %d bytes was left of them): the file was cut short after %s "+
			"had closed the run, as run.lock said (it is emptied only once the close is on disk), so that session's close and any "+
			"records after it are lost, the session not interrupted; a later session removed the partial line and went on writing "+
			"the run; put those lines back from a copy of the run folder if there is one (not the whole file: it holds the later "+
			"sessions' records now)", partial, who)
	}
	return fmt.Sprintf("lost its last records (a partial line of %d bytes is left of them): the file was cut short after %s "+
		"had closed the run, as run.lock says (it is emptied only once the close is on disk), so that session's close and any "+
		"records after it are lost, the session not interrupted; put the file back from a copy of the run folder if there is one", partial, who)
}

// closeCutSession takes the last session that opened the run as closed
// where run.lock says it closed the run though events.jsonl has no close
// of it (cutAfterClose: partial, the bytes of the file's partial last
// line; for a run opened to write, run.lock as its lock found it;
// read-only, as it is now), says so in the problems view, and has a
// session that writes the run (writing) record that session's close
// (closeCut) as it removes the partial line. Where the file was found cut
// short of the checkpoint folders (cutShort: logCut), that loss is said
// instead, as a loss of the run's history since, and the close recorded
// says nothing more. Called by load once the events are read.
func (r *Run) closeCutSession(partial int64, writing, cutShort bool) {
	r.evMu.Lock()
	recorded := r.ev.cutAfterClose
	open, training, pid := r.ev.open, r.ev.trains || r.ev.resuming, r.ev.sess.pid
	r.evMu.Unlock()
	if recorded != "" { // a session found it so before
		r.store.addIssue(Issue{File: filepath.Join(r.dir, EventsFile), Msg: recorded, Kind: IssueLost})
	}
	if !open || partial == 0 && !training {
		return // cutAfterClose's answer, without a look at run.lock
	}
	var held, found bool
	var lockPID int
	if r.lock != nil {
		found = r.lock.found
		if p := r.lock.Previous; p != nil {
			lockPID = p.PID
		}
	} else {
		var info LockInfo
		var probeErr error
		held, info, probeErr = probeLock(r.dir)
		held = held || probeErr != nil // not known to be free: no close said lost
		found, lockPID = exists(filepath.Join(r.dir, LockFileName)), info.PID
	}
	if !cutAfterClose(partial, open, training, held, found, lockPID) {
		return
	}
	r.evMu.Lock()
	r.ev.closeLost()
	r.evMu.Unlock()
	said := ""
	if !cutShort {
		said = cutAfterCloseSaid(partial, pid, true)
		r.store.addIssue(Issue{File: filepath.Join(r.dir, EventsFile), Msg: cutAfterCloseSaid(partial, pid, false), Kind: IssueLost})
	}
	if writing {
		name := LostPartialLine
		if partial == 0 {
			name = LostAtLineEnd
		}
		r.closeCut = &EventRecord{Kind: KindClose, File: EventsFile, Name: name, Count: int(partial), Extra: said}
	}
}
