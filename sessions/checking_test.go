package sessions

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRunLockSaysTheIntentUntilTheOpenEventIsOnDisk: an open with an
// intent names it in run.lock (LockInfo.Checking) from the moment it takes
// the lock until its open event is written and fsynced, and clears it only
// then, so that a listing or a refused open never reads the holder by the
// previous session's events alone. rlt score --write (an open not
// deferred) loads the run, seconds on a big one, with none: after a
// killed training the run was listed "running, training it" and a second
// opener told to stop it with kill and rlt score's own pid. Begin cleared
// it before its open event was on disk, leaving such a window too.
func TestRunLockSaysTheIntentUntilTheOpenEventIsOnDisk(t *testing.T) {
	for _, c := range []struct {
		name      string
		intent    string
		deferOpen bool
		doing     string // what the listing says the holder does meanwhile
	}{
		{"rlt score --write", IntentRescore, false, HolderRescoring},
		{"a review not deferred", IntentReview, false, HolderReviewing},
		{"a resume not deferred", IntentResume, false, HolderResuming},
		{"a deferred review's Begin", IntentReview, true, HolderReviewing},
		{"a deferred resume's Begin", IntentResume, true, HolderResuming},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			w := mustCreate(t, dir, Options{})
			emitSteps(w, 0, 2, 1, 1)
			killWriter(t, w, deadPID) // the previous session: a training killed
			watch := &openWatch{t: t, dir: dir, intent: c.intent, doing: c.doing}
			// Synced only when asked (Flush): no sync of the interval's
			// makes the open event durable early.
			r, err := OpenWith(dir, nil, Options{Intent: c.intent, DeferOpen: c.deferOpen,
				SyncInterval: time.Hour, wrapFile: watch.wrap})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if c.deferOpen {
				if err := r.Begin(); err != nil {
					t.Fatal(err)
				}
			}
			watch.mu.Lock()
			checks, durable := watch.checks, watch.durable
			watch.mu.Unlock()
			if checks == 0 || !durable {
				t.Fatalf("%d checks, open event fsynced %v: the open was not watched", checks, durable)
			}
			if info := readRunLock(t, dir); info.Checking != "" || info.PID != os.Getpid() {
				t.Errorf("run.lock says %+v once the open event is on disk, want this pid and no intent", info)
			}
			runs, err := List(filepath.Dir(dir))
			if err != nil || len(runs) != 1 || runs[0].Holder.Doing != c.doing {
				t.Errorf("once open, listed %+v (%v), want held %q", runs, err, c.doing)
			}
		})
	}
}

// openWatch checks, at every write and fsync of events.jsonl until the
// open event is fsynced, and as each log is opened (the run loaded), that
// run.lock names the open's intent and what a listing and a refused open
// say of the holder.
type openWatch struct {
	t      *testing.T
	dir    string
	intent string
	doing  string

	mu      sync.Mutex
	written bool // the open event was written
	durable bool // and fsynced since
	checks  int
}

func (w *openWatch) wrap(f logFile) logFile {
	w.check("a log opened for writing")
	if osf, ok := f.(*os.File); ok && filepath.Base(osf.Name()) == EventsFile {
		return &watchedEvents{logFile: f, w: w}
	}
	return f
}

// check is called on the run's own goroutines: it says what is wrong with
// Errorf.
func (w *openWatch) check(when string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.durable {
		return
	}
	w.checks++
	if info := readRunLock(w.t, w.dir); info.Checking != w.intent {
		w.t.Errorf("%s (open event written %v, not fsynced): run.lock says %+v, want checking %q", when, w.written, info, w.intent)
	}
	runs, err := List(filepath.Dir(w.dir))
	if err != nil || len(runs) != 1 {
		w.t.Errorf("%s: %d runs listed, %v", when, len(runs), err)
		return
	}
	if got := runs[0]; got.Holder.Doing != w.doing || got.Holder.PID != os.Getpid() {
		w.t.Errorf("%s: listed %s (%s), held by %+v; want held by this process, %q", when, got.State, got.Note, got.Holder, w.doing)
	}
	_, err = OpenWith(w.dir, nil, Options{Intent: IntentReview})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "): "+w.doing+";") {
		w.t.Errorf("%s: a second opener is told %v; want it %q", when, err, w.doing)
	}
}

// watchedEvents is events.jsonl, watched: each write and fsync is
// checked before it is done, until the open event is fsynced.
type watchedEvents struct {
	logFile
	w *openWatch
}

func (e *watchedEvents) WriteAt(p []byte, off int64) (int, error) {
	e.w.check("a write of events.jsonl")
	n, err := e.logFile.WriteAt(p, off)
	if err == nil && strings.Contains(string(p), `"kind":"open"`) {
		e.w.mu.Lock()
		e.w.written = true
		e.w.mu.Unlock()
	}
	return n, err
}

func (e *watchedEvents) Sync() error {
	e.w.check("an fsync of events.jsonl")
	err := e.logFile.Sync()
	e.w.mu.Lock()
	e.w.durable = e.w.durable || (err == nil && e.w.written)
	e.w.mu.Unlock()
	return err
}

// readRunLock is what run.lock in dir says now.
func readRunLock(t *testing.T, dir string) LockInfo {
	data, err := os.ReadFile(filepath.Join(dir, LockFileName))
	var info LockInfo
	if err == nil && len(strings.TrimSpace(string(data))) > 0 {
		err = json.Unmarshal(data, &info)
	}
	if err != nil {
		t.Errorf("%s: %q: %v", LockFileName, data, err)
	}
	return info
}
