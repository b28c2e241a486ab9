package sessions

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// maxLostTraceEvents bounds the lost events (KindLost, File TracesDir) a
// session writes of trace files it found lost, one a range of steps: files
// deleted one by one leave a range each, and past this many the rest
// are not recorded (the first ones say the loss, with what to do).
const maxLostTraceEvents = 100

// lostTraceSteps are the steps of a run of ours whose trace files are
// lost: each step a checkpoint proves done (up to step checkpoint, from
// the run's first: our runs do their steps in order, and a checkpoint of
// step N is saved only once every record of step N is on disk, its
// traces among them: SaveCheckpoint) of which traces/ holds no file
// (have). The first step is the lowest of the metric records that stand
// (standing) and the trace files, 0 where there is neither: the metric
// records may be lost with the traces, and a folder written otherwise
// may start past 0. Steps past the checkpoint may lack their files where
// a kill stopped the writer between a step's metrics and its traces; an
// import's trainer wrote traces of the steps it chose.
func lostTraceSteps(have, standing stepRanges, checkpoint int) stepRanges {
	first := -1
	for _, r := range []stepRanges{have, standing} {
		if len(r) > 0 && (first < 0 || r[0][0] < first) {
			first = r[0][0]
		}
	}
	var lost stepRanges
	for step := max(first, 0); step <= checkpoint; step++ {
		if !have.contains(step) {
			lost.add(step)
		}
	}
	return lost
}

// contains reports whether step is in the set.
func (r stepRanges) contains(step int) bool {
	h, ok := r.highestUpTo(step)
	return ok && h == step
}

// without is the set less the steps of other.
func (r stepRanges) without(other stepRanges) stepRanges {
	var out stepRanges
	for _, rg := range r {
		for step := rg[0]; step <= rg[1]; step++ {
			if !other.contains(step) {
				out.add(step)
			}
		}
	}
	return out
}

// union is the set with the steps of other.
func (r stepRanges) union(other stepRanges) stepRanges {
	out := append(stepRanges(nil), r...)
	for _, rg := range other {
		for step := rg[0]; step <= rg[1]; step++ {
			out.add(step)
		}
	}
	return out
}

// traceFileSteps is the set of the steps of the trace files listed
// (traceFiles' paths, or names).
func traceFileSteps(files []string) stepRanges {
	var have stepRanges
	for _, f := range files {
		if step, ok := traceFileStep(filepath.Base(f)); ok {
			have.add(step)
		}
	}
	return have
}

// tracesLostSaid says which steps' trace files a run lost (lost: those
// found lost now, and those a session recorded as lost once, recorded
// part of them), and what to do; dropped: the events record traces the
// writer dropped, which leave a step without its file too; "" for none.
func tracesLostSaid(lost, recorded stepRanges, dropped bool) string {
	if len(lost) == 0 {
		return ""
	}
	found := ""
	if len(recorded) > 0 {
		found = "; a later session found them lost and went on writing the run"
	}
	maybe := ""
	if dropped {
		maybe = " (some may be steps whose traces the writer dropped, said apart)"
	}
	return fmt.Sprintf("has no trace file of %s%s, though a checkpoint of the run proves them done, which is saved only once their traces are written%s: "+
		"what the teacher wrote at those steps, and its scores, are lost; put those files back from a copy of the run folder if there "+
		"is one (those files only, not the whole folder: it may hold later steps' files now)", lost, maybe, found)
}

// recordLostTraces records in events.jsonl, with the session's open
// event, the trace files the run was found to have lost when it was
// loaded (the folder missing, or files of steps its checkpoints prove
// done: Run.lostTraces) that no lost event records yet: a session that
// writes the run makes traces/ again with its first trace, and the steps
// it does not re-do would read as having had no trace, not as lost. One
// lost event a range of steps (Step its last, Count its steps; Name
// "missing" where the folder was, "files missing" else), at most
// maxLostTraceEvents.
func (r *Run) recordLostTraces() {
	r.evMu.Lock()
	recorded := r.ev.tracesLostBefore
	r.evMu.Unlock()
	name := "files missing"
	if r.tracesFolderLost {
		name = "missing"
	}
	for i, rg := range r.lostTraces.without(recorded) {
		if i == maxLostTraceEvents {
			break
		}
		r.enqueueEvent(EventRecord{Time: time.Now().UTC(), Kind: KindLost, Name: name, Step: rg[1], Count: rg[1] - rg[0] + 1,
			File: TracesDir, Extra: tracesLostSaid(stepRanges{rg}, nil, false)})
	}
}

// tracesLoss is what a run's files say of its trace files, as the open
// run (Run.sayLostTraces) and the listing (runCache.tracesNotes) take it.
type tracesLoss struct {
	have, standing stepRanges // the steps of the trace files, and of the metric records that stand
	checkpoint     int        // the highest checkpoint that proves its steps done (-1: none)
	// folderLost: traces/ is missing; stepped: the events record a step
	// done; imported: an import, whose trainer chose its steps.
	folderLost, stepped, imported bool
	recorded                      stepRanges // the steps lost events say a session found lost
	dropped                       bool       // the writer dropped traces (a dropped event)
}

// said is the steps whose trace files are lost (lostTraceSteps; none of an
// import), to be recorded by a session that writes the run, and what is
// said of it, with the steps lost events recorded less those whose files
// are there now (re-done by a resume): traces/ missing where the events
// record a step done, or the files of steps the checkpoints prove done
// missing. "" for nothing lost.
func (t tracesLoss) said() (lost stepRanges, said string) {
	if !t.imported {
		lost = lostTraceSteps(t.have, t.standing, t.checkpoint)
	}
	recorded := t.recorded.without(t.have)
	if t.folderLost && (t.stepped || len(lost) > 0 || len(recorded) > 0) {
		steps := ""
		if all := lost.union(recorded); len(all) > 0 {
			steps = " (those of " + all.String() + " at least)"
		}
		proof := "the run's events record steps"
		if !t.stepped {
			proof = "the run's checkpoints prove steps done"
		}
		return lost, "missing, though " + proof + ": its traces (what the teacher wrote, and its scores) are lost" + steps +
			"; put the folder back from a copy of the run folder if there is one"
	}
	return lost, tracesLostSaid(lost.union(recorded), recorded, t.dropped)
}

// maxDamagedTraceFiles bounds the trace files a listing names as cut or
// unreadable; the rest are counted.
const maxDamagedTraceFiles = 3

// tracesState is what a Lister last read of a run's traces/: the folder's
// identity then (a file added, removed or renamed changes it), the steps
// of its trace files, and what it said of the damaged ones (cut within
// their last line, unreadable); checked: the files' ends were read (not
// while a live writer held the run, whose last line may be in flight),
// and files is each file's size and time then, by step (a file cut or
// written in place changes them, not the folder's). next is where the
// next relist goes on comparing them (changedInPlace).
type tracesState struct {
	valid, checked, folderLost bool
	id                         fileID
	have                       stepRanges
	damaged                    []string
	files                      []traceFileID
	next                       int
}

// traceFileID is a trace file's name, size and modification time as
// readTraces found them.
type traceFileID struct {
	name  string
	size  int64
	mtime time.Time
}

// traceFilesStatted bounds the trace files of one run whose size and time
// a relist compares (changedInPlace): the newest, where a copy cut short
// or a disk that lost the end of what was written last cuts one, and the
// others in turn, so that a run of thousands of steps costs a relist a
// few stats, not one a step.
const traceFilesStatted = 8

// changedInPlace reports whether a trace file of folder changed in size or
// time since readTraces read it, of the newest and the next
// traceFilesStatted-1 others in turn: a file cut in place (truncate, a
// copy over it) leaves the folder as it was. A run of up to
// traceFilesStatted files has each compared at every relist; one of n
// more, the newest at every relist and each other within
// ceil((n-1)/(traceFilesStatted-1)) relists.
func (s *tracesState) changedInPlace(folder string) bool {
	n := len(s.files)
	changed := func(i int) bool {
		f := s.files[i]
		fi, err := os.Stat(filepath.Join(folder, f.name))
		return err != nil || fi.Size() != f.size || !fi.ModTime().Equal(f.mtime)
	}
	if n == 0 || changed(n-1) {
		return n > 0
	}
	for range min(traceFilesStatted-1, n-1) {
		s.next %= n - 1
		i := s.next
		s.next++
		if changed(i) {
			return true
		}
	}
	return false
}

// tracesNotes is what the listing notes of the run folder dir's trace
// files (tracesLoss, with the facts the caller read: loss; its have and
// folderLost are read here): those lost, and each file that ends in a
// partial line or cannot be read (a folder, a link to nothing, no
// permission), which the open run says too, by their names. held: a live
// process writes the run, so a partial last line may be one it writes,
// and the files' ends are not judged. traces/ is read again once it
// changed, or once a file of it did in size or time (changedInPlace: a
// few stats a relist, a file cut in place leaving the folder as it was);
// the folder's size is walked again with it (folderSize's key does not
// name the trace files).
func (c *runCache) tracesNotes(dir string, loss tracesLoss, held bool) []string {
	folder := filepath.Join(dir, TracesDir)
	fi, err := os.Stat(folder)
	switch {
	case err != nil || !fi.IsDir():
		c.traces = tracesState{valid: true, checked: true, folderLost: errors.Is(err, fs.ErrNotExist)}
	case !c.traces.valid || !c.traces.id.unchanged(idOf(fi)) || !held && !c.traces.checked:
		c.traces = readTraces(folder, idOf(fi), !held)
	case !held && c.traces.changedInPlace(folder):
		c.traces, c.size = readTraces(folder, idOf(fi), true), sizeState{}
	}
	loss.have, loss.folderLost = c.traces.have, c.traces.folderLost
	var notes []string
	if _, said := loss.said(); said != "" {
		notes = append(notes, TracesDir+"/: "+said)
	}
	if !held {
		notes = append(notes, c.traces.damaged...)
	}
	return notes
}

// readTraces reads the trace files of folder (whose identity is id), and
// with checkEnds, whether each ends in a whole line (one byte read).
func readTraces(folder string, id fileID, checkEnds bool) tracesState {
	s := tracesState{valid: true, checked: checkEnds, id: id}
	entries, _ := os.ReadDir(folder)
	damaged := 0
	say := func(name, what string) {
		damaged++
		if damaged <= maxDamagedTraceFiles {
			s.damaged = append(s.damaged, TracesDir+"/"+name+": "+what)
		}
	}
	for _, e := range entries {
		step, ok := traceFileStep(e.Name())
		if !ok {
			continue
		}
		if e.IsDir() {
			// Not read as one (traceFiles): its step's file is lost.
			say(e.Name(), "cannot be read (a folder, not a file of traces)")
			continue
		}
		s.have.add(step)
		if checkEnds {
			what, fi := traceFileEnd(filepath.Join(folder, e.Name()))
			if what != "" {
				say(e.Name(), what)
			}
			if fi != nil {
				s.files = append(s.files, traceFileID{name: e.Name(), size: fi.Size(), mtime: fi.ModTime()})
			}
		}
	}
	if more := damaged - maxDamagedTraceFiles; more > 0 {
		s.damaged = append(s.damaged, fmt.Sprintf("and %s more cut or unreadable", countOf(more, "trace file")))
	}
	return s
}

// traceFileEnd says what is wrong with the end of the trace file at path:
// it cannot be read, or ends in a partial line (its last trace cut
// short, which the open run leaves out, and a session that writes the
// run removes); "" when it ends in a whole line or is empty. fi is the
// file as it was read (nil: it could not be stat'ed).
func traceFileEnd(path string) (what string, fi fs.FileInfo) {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("cannot be read (%v): its traces are not shown; put it back from a copy of the run folder if there is one", err), nil
	}
	defer f.Close()
	fi, err = f.Stat()
	if err != nil {
		fi = nil
	} else if !fi.Mode().IsRegular() {
		err = fmt.Errorf("not a regular file")
	}
	var last [1]byte
	if err == nil && fi.Size() > 0 {
		_, err = f.ReadAt(last[:], fi.Size()-1)
	}
	switch {
	case err != nil:
		return fmt.Sprintf("cannot be read (%v): its traces are not shown; put it back from a copy of the run folder if there is one", err), fi
	case fi.Size() > 0 && last[0] != '\n':
		return "ends in a partial line: its last trace was cut short, and is lost; put the file back from a copy of the run folder if there is one", fi
	}
	return "", fi
}
