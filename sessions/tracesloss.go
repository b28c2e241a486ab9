package sessions

import (
	"fmt"
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

// tracesLostNote is what the listing notes of the trace files of the run
// folder dir that a session recorded lost (lost events of TracesDir), less
// the steps whose files are there now (a resume re-did them): traces/
// is read only where such an event was. "" for none.
func (f *eventsFold) tracesLostNote(dir string) string {
	if len(f.tracesLostBefore) == 0 {
		return ""
	}
	entries, _ := os.ReadDir(filepath.Join(dir, TracesDir))
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	lost := f.tracesLostBefore.without(traceFileSteps(names))
	if said := tracesLostSaid(lost, lost, f.dropped); said != "" {
		return TracesDir + "/: " + said
	}
	return ""
}
