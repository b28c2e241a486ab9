package sessions

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
)

// ProgressFile holds where the engine writing a run is within its step (a
// ProgressRecord), replaced at most once per ProgressEvery while it runs
// and removed when its session closes. It is what a run followed from
// another process shows of a long step ("step 3: sampling 34/96 tokens"),
// and its modification time keeps a run whose step takes longer than
// QuietAfter (a big model's sampling on a CPU) from reading quiet: a
// writer hung or stopped by a signal replaces it no more.
const ProgressFile = "progress.json"

// ProgressEvery is the least time between two writes of ProgressFile.
const ProgressEvery = 5 * time.Second

// ProgressRecord is ProgressFile's content: an event.Progress, with the
// session that wrote it (its segment, and its pid, which a follower
// compares with the lock's holder: a record a killed writer left is not
// the next writer's).
type ProgressRecord struct {
	Seg     int       `json:"seg"`
	PID     int       `json:"pid"`
	Time    time.Time `json:"time"`
	Started time.Time `json:"started"`
	Step    int       `json:"step"`
	Phase   string    `json:"phase"`
	Done    int       `json:"done"`
	Total   int       `json:"total"`
	Unit    string    `json:"unit"`
}

func progressRecord(seg int, p event.Progress) ProgressRecord {
	return ProgressRecord{Seg: seg, PID: os.Getpid(), Time: p.Time.UTC(), Started: p.Started.UTC(),
		Step: p.Step, Phase: p.Phase, Done: p.Done, Total: p.Total, Unit: p.Unit}
}

// Progress is the record as the engine emitted it.
func (p ProgressRecord) Progress() event.Progress {
	return event.Progress{Time: p.Time, Started: p.Started, Step: p.Step, Phase: p.Phase, Done: p.Done, Total: p.Total, Unit: p.Unit}
}

// writeProgress replaces ProgressFile with the latest progress when it
// is newer than the one written and ProgressEvery has passed since (the
// background writer calls it). It is not synced: a crash loses at most a
// record that said where a step was, and a torn one is not read.
func (r *Run) writeProgress(now time.Time) {
	r.progMu.Lock()
	p, seq := r.prog, r.progSeq
	r.progMu.Unlock()
	if seq == r.progWritten || now.Sub(r.progWrittenAt) < r.opts.progressEvery {
		return
	}
	r.progWritten, r.progWrittenAt = seq, now
	data, err := json.Marshal(progressRecord(r.seg, p))
	if err != nil {
		return
	}
	path := filepath.Join(r.dir, ProgressFile)
	tmp := path + ".tmp"
	if os.WriteFile(tmp, append(data, '\n'), 0o644) != nil || os.Rename(tmp, path) != nil {
		os.Remove(tmp) // a full disk: the step's own records say more
	}
}

// removeProgress removes ProgressFile (a session that closes, or one that
// begins after a writer that did not).
func (r *Run) removeProgress() {
	for _, name := range []string{ProgressFile, ProgressFile + ".tmp"} {
		if err := os.Remove(filepath.Join(r.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			r.store.addIssue(Issue{File: filepath.Join(r.dir, name), Msg: "could not be removed: " + err.Error()})
		}
	}
}

// pollProgress keeps a followed run's progress (Progress) as its writer
// last wrote it (heldProgress), read by the follow loop: ProgressFile again
// when it changed, the lock probed at most once per second while there is
// one (a writer that is gone), so that Progress, which a viewer asks every
// frame, reads memory alone, and a run nobody writes costs a stat.
func (r *Run) pollProgress(now time.Time) {
	fi, err := os.Stat(filepath.Join(r.dir, ProgressFile))
	if err != nil { // none: no writer within a step
		r.progSeen, r.progSize = time.Time{}, 0
		r.progMu.Lock()
		r.prog, r.hasProg = event.Progress{}, false
		r.progMu.Unlock()
		return
	}
	changed := !fi.ModTime().Equal(r.progSeen) || fi.Size() != r.progSize
	if !changed && now.Sub(r.progProbed) < time.Second {
		return
	}
	r.progSeen, r.progSize, r.progProbed = fi.ModTime(), fi.Size(), now
	held, holder, _ := probeLock(r.dir) // not known to be held: no progress said
	p, ok := heldProgress(r.dir, held, holder)
	r.progMu.Lock()
	r.prog, r.hasProg = p, ok
	r.progMu.Unlock()
}

// heldProgress is the run in dir's ProgressFile while the process that
// wrote it holds the run (held, holder: the lock's probe): a record left
// by a writer that is gone says nothing of the run now.
func heldProgress(dir string, held bool, holder LockInfo) (event.Progress, bool) {
	if !held {
		return event.Progress{}, false
	}
	data, err := os.ReadFile(filepath.Join(dir, ProgressFile))
	if err != nil {
		return event.Progress{}, false
	}
	var rec ProgressRecord
	if json.Unmarshal(data, &rec) != nil || rec.PID != holder.PID {
		return event.Progress{}, false
	}
	return rec.Progress(), true
}
