package sessions

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
	"github.com/rlt-workbench/rlt/sessions/sessionstest"
)

func childLockHolder(dir string) error {
	l, err := LockRun(dir)
	if err != nil {
		return err
	}
	fmt.Println("locked", os.Getpid())
	var b [1]byte
	os.Stdin.Read(b[:]) // hold until the parent closes stdin or kills us
	return l.Unlock()
}

func TestLockRunTwoProcesses(t *testing.T) {
	dir := t.TempDir()
	c := startChild(t, "lock-holder", dir)
	pid, _ := strconv.Atoi(strings.Fields(c.expect(t, "locked"))[1])

	_, err := LockRun(dir)
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) {
		t.Fatalf("second writer: %v", err)
	}
	if le.Holder.PID != pid || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", pid)) {
		t.Fatalf("error %q does not name holder pid %d", err, pid)
	}

	// SIGKILL: the kernel drops the flock; the stale file is taken over.
	c.cmd.Process.Signal(syscall.SIGKILL)
	c.cmd.Wait()
	l, err := LockRun(dir)
	if err != nil {
		t.Fatalf("take over stale lock: %v", err)
	}
	if l.Previous == nil || l.Previous.PID != pid {
		t.Errorf("Previous = %+v, want pid %d", l.Previous, pid)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}

	// A clean unlock leaves no Previous for the next owner.
	c2 := startChild(t, "lock-holder", dir)
	c2.expect(t, "locked")
	c2.stdin.Close()
	if err := c2.cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	l, err = LockRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	if l.Previous != nil {
		t.Errorf("Previous after clean unlock: %+v", l.Previous)
	}
}

func TestLockRunSameProcessTwice(t *testing.T) {
	// flock is per open file description, so a second LockRun in the same
	// process also conflicts: one writer per run folder, full stop.
	dir := t.TempDir()
	l, err := LockRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	if _, err := LockRun(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock in one process: %v", err)
	}
}

// TestLockedSaysWhatTheHolderDoes: a run held by a workbench reviewing it
// refuses a second writer (rlt score --write) with what the holder does and
// what to do, not only its pid, which it says once.
func TestLockedSaysWhatTheHolderDoes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r, err := Create(dir, map[string]int{"steps": 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	review, err := OpenWith(dir, nil, Options{Intent: IntentReview})
	if err != nil {
		t.Fatal(err)
	}
	defer review.Close()
	_, err = OpenWith(dir, nil, Options{Intent: IntentRescore})
	// The lock's refusal names the pid (and host); what follows, once.
	pid := fmt.Sprintf("pid %d", os.Getpid())
	want := "): reviewing it; a run is written by one process at a time: quit that workbench (q), or open another run in it, then try again"
	if !errors.Is(err, ErrLocked) || !strings.HasSuffix(err.Error(), want) || strings.Count(err.Error(), pid) != 1 {
		t.Errorf("a second writer: %v; want ErrLocked, %q once and the end %q", err, pid, want)
	}
}

// TestLockedNamesOnlyAnotherHost: a lock's refusal names the holder's host
// only where it is another host than this one (a run folder on a shared
// filesystem, whose pid says nothing here), in the words the Runs screen
// names it with (Holder.String): "pid N on host H". It said "pid N on
// HOST" of a holder on this very host too.
func TestLockedNamesOnlyAnotherHost(t *testing.T) {
	here, err := os.Hostname()
	if err != nil || here == "" || strings.EqualFold(here, "gpu-node-7") {
		t.Skipf("this host's name (%q, %v) cannot tell another host's", here, err)
	}
	pid := strconv.Itoa(os.Getpid())
	for _, c := range []struct {
		name   string
		holder func(*LockInfo) // nil: run.lock as this process wrote it
		want   string          // after "run folder is locked by "
	}{
		{"this host", nil, "pid " + pid + " (started "},
		{"this host, named in another case", func(info *LockInfo) { info.Host = strings.ToUpper(here) }, "pid " + pid + " (started "},
		{"run.lock names no host", func(info *LockInfo) { info.Host = "" }, "pid " + pid + " (started "},
		{"another host", onHost("gpu-node-7", "linux"), "pid " + pid + " on host gpu-node-7 (started "},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			l, err := LockRun(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Unlock()
			if c.holder != nil {
				rewriteLock(t, dir, c.holder)
			}
			_, err = LockRun(dir)
			if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "run folder is locked by "+c.want) {
				t.Errorf("a second lock: %v; want ErrLocked saying %q", err, "run folder is locked by "+c.want)
			}
		})
	}
}

// TestRunLockRewriteIsWholeToReaders: a reader of run.lock (a listing, a
// refused opener) finds the holder's record whole at every moment while
// the holder rewrites it (its intent cleared once its open event is on
// disk, its record put back as a deferred open leaves it): the new one or
// the old, never an empty file or a part. run.lock was truncated and then
// written, and a reader in between read no holder; a holder killed there
// left run.lock empty, which reads as a run closed cleanly.
func TestRunLockRewriteIsWholeToReaders(t *testing.T) {
	dir := t.TempDir()
	l, err := lockRun(dir, IntentResume, ProcessHeadless)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	stop := make(chan struct{})
	read := make(chan string)
	go func() {
		defer close(read)
		for n := 0; ; n++ {
			select {
			case <-stop:
				read <- fmt.Sprintf("%d reads", n)
				return
			default:
			}
			data, err := os.ReadFile(filepath.Join(dir, LockFileName))
			var info LockInfo
			if err == nil {
				err = json.Unmarshal(data, &info)
			}
			if err != nil || info.PID != os.Getpid() {
				read <- fmt.Sprintf("read %d: run.lock %q: %v", n, data, err)
				<-stop
				return
			}
		}
	}()
	var bad string
	start := time.Now()
	for i := 0; i < 2000 && bad == "" && time.Since(start) < 2*time.Second; i++ {
		l.info.Checking = []string{IntentResume, ""}[i%2]
		if err := l.write(); err != nil {
			t.Fatal(err)
		}
		select {
		case bad = <-read:
		default:
		}
	}
	close(stop)
	if bad == "" {
		bad = <-read
		t.Log(bad)
	} else {
		t.Error(bad)
	}
}

// TestRunLockHeldAcrossRewrites: run.lock rewritten whole (a new file
// renamed over it) keeps the lock its holder took: the new file is locked
// before it takes the name, and the one it replaced stays locked until the
// holder unlocks, so an opener that had opened it just before is refused
// too. Once unlocked, the lock is free and run.lock empty.
func TestRunLockHeldAcrossRewrites(t *testing.T) {
	dir := t.TempDir()
	l, err := lockRun(dir, IntentReview, "")
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.Open(filepath.Join(dir, LockFileName)) // opened before the rewrite
	if err != nil {
		t.Fatal(err)
	}
	defer before.Close()
	if err := l.checked(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		try  func() error // nil: refused as held
	}{
		{"LockRun", func() error {
			if l2, err := LockRun(dir); err == nil {
				l2.Unlock()
				return errors.New("took the lock")
			} else if !errors.Is(err, ErrLocked) {
				return err
			}
			return nil
		}},
		{"a probe", func() error {
			if held, info, err := probeLock(dir); !held || info.PID != os.Getpid() || info.Checking != "" || err != nil {
				return fmt.Errorf("probe: held %v, %+v (%v)", held, info, err)
			}
			return nil
		}},
		{"a handle opened before the rewrite", func() error {
			if err := tryLockFile(before, true); !errors.Is(err, errLockHeld) {
				return fmt.Errorf("lock: %v", err)
			}
			return nil
		}},
	} {
		if err := c.try(); err != nil {
			t.Errorf("%s, while the lock is held: %v", c.name, err)
		}
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	l2, err := LockRun(dir)
	if err != nil {
		t.Fatalf("after Unlock: %v", err)
	}
	defer l2.Unlock()
	if l2.Previous != nil {
		t.Errorf("after a clean Unlock, Previous = %+v", l2.Previous)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the folder holds %v, want run.lock alone", entries)
	}
}

// TestFailedOpenLeavesTheLockAsItWas: an open that fails as it loads the
// run (its metrics.jsonl unreadable), deferred or not, leaves run.lock
// as it found it: what a killed writer left there is still said by the
// next open and the listing, as the events still name that writer. An
// open not deferred emptied it, as a clean close does.
func TestFailedOpenLeavesTheLockAsItWas(t *testing.T) {
	for _, c := range []struct {
		name string
		opts Options
	}{
		{"a review (not deferred)", Options{Intent: IntentReview}},
		{"rlt score --write (not deferred)", Options{Intent: IntentRescore}},
		{"an open with no intent", Options{}},
		{"a resume (deferred)", Options{Intent: IntentResume, DeferOpen: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			runs := t.TempDir()
			dir := filepath.Join(runs, "run")
			w := mustCreate(t, dir, Options{})
			emitSteps(w, 0, 2, 1, 1)
			killWriter(t, w, deadPID)
			lockPath := filepath.Join(dir, LockFileName)
			left, err := os.ReadFile(lockPath)
			if err != nil {
				t.Fatal(err)
			}
			metrics := filepath.Join(dir, MetricsFile)
			kept, err := os.ReadFile(metrics)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(metrics); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(metrics, 0o755); err != nil { // read fails
				t.Fatal(err)
			}
			if r, err := OpenWith(dir, nil, c.opts); err == nil {
				r.Close()
				t.Fatal("the open did not fail")
			}
			if got, _ := os.ReadFile(lockPath); string(got) != string(left) {
				t.Errorf("run.lock after the failed open: %q, want it as it was: %q", got, left)
			}
			os.Remove(metrics)
			if err := os.WriteFile(metrics, kept, 0o644); err != nil {
				t.Fatal(err)
			}
			runs2, err := List(runs)
			if err != nil || len(runs2) != 1 {
				t.Fatalf("List: %v, %v", runs2, err)
			}
			if want := fmt.Sprintf("pid %d", deadPID); !strings.Contains(runs2[0].Note, want) {
				t.Errorf("listing notes %q, want the killed writer (%s)", runs2[0].Note, want)
			}
			r, err := OpenWith(dir, nil, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if !slices.ContainsFunc(r.Repairs(), func(s string) bool {
				return strings.Contains(s, fmt.Sprintf("the previous writer (pid %d", deadPID))
			}) {
				t.Errorf("the next open's repairs %q do not say the killed writer did not close the run", r.Repairs())
			}
		})
	}
}

// TestLockNotProbedIsNotKnown: a run.lock whose probe cannot tell whether
// it is held (here it cannot be opened: a link to itself; on a filesystem
// without locks, or NFS whose lock manager is not reached, the flock
// fails so) is not read as free: the listing and the open run say that
// whether a process holds it is not known, and why, and do not say that
// the process that trained it is gone, nor the run interrupted. It read
// as not held: "the process that trained it (pid N) is gone without
// stopping it", and r offered to resume a run that may be training. Of a
// resume gone while it loaded, a review since (its process gone, proven
// by the review's open), the note still says it: it was left out with
// the notes of how an earlier session ended. A run whose training session
// its events leave open is listed unknown (TestUnprobedLockReadsUnknown),
// one that a review opened after it by its training state, and neither is
// resumed: the resume's lock fails as the probe did (a LockUnknownError,
// by which rlt open opens it read-only), the run left as it was.
func TestLockNotProbedIsNotKnown(t *testing.T) {
	for _, c := range []struct {
		name        string
		leave       func(t *testing.T, dir string) // the run at dir as the probe finds it
		state       RunState
		interrupted bool
		gone        string // what the note says of a gone process ("": none)
	}{
		{"its trainer's session left open", func(t *testing.T, dir string) {
			r := mustCreate(t, dir, Options{})
			emitSteps(r, 0, 2, 1, 1)
			killWriter(t, r, deadPID) // its session left open, as a live writer's is
		}, StateUnknown, false, ""},
		{"a resume gone while loading, a review since", func(t *testing.T, dir string) {
			writeClosed(t, dir, "stopped")
			killWriter(t, openToResume(t, dir), deadPID)
			if err := mustOpen(t, dir).Close(); err != nil {
				t.Fatal(err)
			}
		}, StateStopped, true, fmt.Sprintf("the process that set out to resume it (pid %d) is gone while loading its engine", deadPID)},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "run")
			c.leave(t, dir)
			lock := sessionstest.LockLinkedToItself(t, dir)
			held, _, err := probeLock(dir)
			if held || err == nil {
				t.Fatalf("probe: held %v, %v; want not known, with why", held, err)
			}
			unknown := "whether a process holds it now is not known: " + err.Error()
			saysGone := func(note string) bool {
				if c.gone == "" {
					return !strings.Contains(note, "gone")
				}
				return strings.Contains(note, c.gone)
			}
			list, lerr := List(root)
			if lerr != nil || len(list) != 1 || list[0].State != c.state || list[0].Holder.Held() || !strings.Contains(list[0].Note, unknown) || !saysGone(list[0].Note) {
				t.Errorf("listed %+v, %v; want %s, no holder, its note saying %q and gone %q", list, lerr, c.state, unknown, c.gone)
			}
			ro, oerr := OpenReadOnly(dir)
			if oerr != nil {
				t.Fatal(oerr)
			}
			defer ro.Close()
			if st, note, interrupted := ro.State(); st != c.state || interrupted != c.interrupted || !strings.Contains(note, unknown) || !saysGone(note) {
				t.Errorf("open read-only: %s (%q), interrupted %v; want %s, interrupted %v, its note saying %q and gone %q", st, note, interrupted, c.state, c.interrupted, unknown, c.gone)
			}
			if st, interrupted, gone := ro.StateGone(); st != c.state || interrupted != c.interrupted || (gone != "") != c.interrupted {
				t.Errorf("StateGone: %s, interrupted %v, %q; want %s, interrupted %v", st, interrupted, gone, c.state, c.interrupted)
			}
			// Not resumed as if free: the resume's lock fails as the
			// probe did, and writes nothing.
			events, err := os.ReadFile(filepath.Join(dir, EventsFile))
			if err != nil {
				t.Fatal(err)
			}
			res, err := OpenWith(dir, nil, Options{Intent: IntentResume})
			if err == nil {
				res.Close()
				t.Errorf("resumed a run whose lock could not be probed")
			} else if lu := (*LockUnknownError)(nil); !errors.As(err, &lu) || lu.Path != lock || lu.Op != "open" {
				// What rlt open reads it by, to open it read-only.
				t.Errorf("the resume's refusal %q is no LockUnknownError of %s", err, lock)
			}
			if after, err := os.ReadFile(filepath.Join(dir, EventsFile)); err != nil || string(after) != string(events) {
				t.Errorf("the refused resume changed events.jsonl (%v):\n%s\nwas\n%s", err, after, events)
			}
		})
	}
}

// TestUnprobedLockReadsUnknown: where the probe cannot tell whether
// run.lock is held (ENOLCK, forced here as on a filesystem without locks;
// and run.lock a link to itself, which List probes), a run whose events
// leave its training session open, or whose run.lock says a resume checks
// it, would be running, paused or resuming were that process to hold the
// lock, and stopped (or its training state) were it gone: the listing
// and the open run read it unknown, their note saying both and why the
// probe could not tell, the workbench's header likewise. A run closed
// cleanly, failed, or whose run.lock says a review checks it (which
// proves its trainer gone) reads by its training state, whoever holds it.
// Such a run was listed stopped, the STATE column saying as known what
// the note said was not.
func TestUnprobedLockReadsUnknown(t *testing.T) {
	killedIn := func(phase string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			r := mustCreate(t, dir, Options{})
			emitSteps(r, 0, 2, 1, 1)
			if phase != "" {
				r.Emit(event.Phase{Time: time.Now(), Name: phase, Step: 1})
			}
			killWriter(t, r, deadPID) // its session left open, as a live writer's is
		}
	}
	for _, c := range []struct {
		name     string
		leave    func(t *testing.T, dir string) // the run at dir as the probe finds it
		checking string                         // the intent run.lock then names as checking ("": left as it is)
		state    RunState
		both     string // what the note says it is held and not ("": nothing)
	}{
		{"its training session left open", killedIn(""), "", StateUnknown, "running if a process holds it, stopped if none does"},
		{"its training session left open, paused", killedIn("paused"), "", StateUnknown, "paused if a process holds it, stopped if none does"},
		{"its resume left open loading, finished before", func(t *testing.T, dir string) {
			writeClosed(t, dir, "done")
			killWriter(t, openToResume(t, dir), deadPID)
		}, "", StateUnknown, "resuming if a process holds it, stopped if none does"},
		{"run.lock says a resume checks it, finished before", func(t *testing.T, dir string) {
			writeClosed(t, dir, "done")
		}, IntentResume, StateUnknown, "resuming if a process holds it, finished if none does"},
		{"run.lock says a review checks it, its trainer killed", killedIn(""), IntentReview, StateStopped, ""},
		{"finished, closed", func(t *testing.T, dir string) { writeClosed(t, dir, "done") }, "", StateFinished, ""},
		{"stopped, closed", func(t *testing.T, dir string) { writeClosed(t, dir, "stopped") }, "", StateStopped, ""},
		{"failed, its session left open", func(t *testing.T, dir string) {
			r := mustCreate(t, dir, Options{})
			emitSteps(r, 0, 2, 1, 1)
			r.Emit(event.Error{Time: time.Now(), Step: 1, Err: errors.New("boom"), Fatal: true})
			killWriter(t, r, deadPID)
		}, "", StateFailed, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "run")
			c.leave(t, dir)
			lock := filepath.Join(dir, LockFileName)
			if c.checking != "" {
				data, err := json.Marshal(LockInfo{PID: os.Getpid(), Started: time.Now().UTC(), Checking: c.checking})
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(lock, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			held, holder, err := probeLock(dir)
			if held || err != nil {
				t.Fatalf("probe: held %v, %v", held, err)
			}
			says := func(how string, st RunState, note string, probeErr error) {
				t.Helper()
				unknown := "whether a process holds it now is not known: " + probeErr.Error()
				if st != c.state || !strings.Contains(note, unknown) || c.both != "" && !strings.Contains(note, unknown+"; "+c.both) ||
					c.both == "" && strings.Contains(note, "if a process holds it") {
					t.Errorf("%s: %s (%q); want %s, its note saying %q, then %q", how, st, note, c.state, unknown, c.both)
				}
			}
			ro, err := OpenReadOnly(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer ro.Close()
			enolck := fmt.Errorf("probe %s: %w", lock, syscall.ENOLCK)
			v := ro.stateOf(false, holder, enolck)
			says("open read-only, ENOLCK", v.state, strings.Join(v.notes, "; "), enolck)
			if st, _, _ := ro.stateGone(false, holder, enolck); st != c.state {
				t.Errorf("StateGone, ENOLCK: %s, want %s", st, c.state)
			}
			if v.by.Held() {
				t.Errorf("open read-only, ENOLCK: held by %s; want no holder said", v.by)
			}
			if c.checking != "" {
				return // run.lock a link to itself names no intent
			}
			sessionstest.LockLinkedToItself(t, dir)
			_, _, linkErr := probeLock(dir)
			if linkErr == nil {
				t.Fatal("probe of run.lock linked to itself: no error")
			}
			list, err := List(root)
			if err != nil || len(list) != 1 {
				t.Fatalf("List: %+v, %v", list, err)
			}
			says("listed, run.lock a link to itself", list[0].State, list[0].Note, linkErr)
			st, note, _ := ro.State()
			says("open read-only, run.lock a link to itself", st, note, linkErr)
		})
	}
}

// TestGoneOfALockNotProbed: of a run whose trainer was killed, a review
// since, and whose run.lock names a live process, the open run's
// StateGone says the gone trainer's words, stopped and interrupted, where
// the probe could not tell whether run.lock is held (a filesystem without
// locks: ENOLCK, which a test cannot make) as where the lock is held:
// run.lock may then name a live holder, not one left behind by a killed
// process. StateGone read it as left behind, saying that the process
// run.lock names runs on this host, where the listing's note said the
// trainer gone.
func TestGoneOfALockNotProbed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := mustCreate(t, dir, Options{})
	emitSteps(r, 0, 2, 1, 1)
	killWriter(t, r, deadPID)
	review := mustOpen(t, dir)
	killWriter(t, review, os.Getpid()) // run.lock names a live process
	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	holder := LockInfo{PID: os.Getpid()} // as killWriter wrote run.lock
	trainerGone := "the process that trained it is gone without stopping it"
	for _, c := range []struct {
		name     string
		held     bool
		probeErr error
	}{
		{"held", true, nil},
		{"not known", false, fmt.Errorf("probe %s: %w", filepath.Join(dir, LockFileName), syscall.ENOLCK)},
	} {
		st, interrupted, gone := ro.stateGone(c.held, holder, c.probeErr)
		if gone != trainerGone || st != StateStopped || !interrupted {
			t.Errorf("%s: StateGone %s, interrupted %v, %q; want stopped, interrupted, %q", c.name, st, interrupted, gone, trainerGone)
		}
	}
}

// TestUnprobedLockOpenedSinceReadsAsProbed: where the probe cannot tell
// whether run.lock is held (ENOLCK, forced) and run.lock says a review
// checks the run (its open event not on disk yet), that review took the
// lock after every session the events name: a trainer, or a resume, that
// they leave open is gone, and the run reads as where run.lock is found
// held by that review, and as where it is found free: stopped and
// interrupted, saying what the gone session had done. It read by the
// events alone, as if that session might live: stopped, not interrupted,
// of a killed trainer; finished, of a resume gone while loading a
// finished run.
func TestUnprobedLockOpenedSinceReadsAsProbed(t *testing.T) {
	for _, c := range []struct {
		name  string
		leave func(t *testing.T, dir string)
	}{
		{"its trainer killed", func(t *testing.T, dir string) {
			r := mustCreate(t, dir, Options{})
			emitSteps(r, 0, 2, 1, 1)
			killWriter(t, r, deadPID)
		}},
		{"its resume gone while loading, finished before", func(t *testing.T, dir string) {
			writeClosed(t, dir, "done")
			killWriter(t, openToResume(t, dir), deadPID)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			c.leave(t, dir)
			lock := filepath.Join(dir, LockFileName)
			data, err := json.Marshal(LockInfo{PID: otherDeadPID, Started: time.Now().UTC(), Checking: IntentReview})
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(lock, data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, holder, err := probeLock(dir)
			if err != nil {
				t.Fatal(err)
			}
			ro, err := OpenReadOnly(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer ro.Close()
			enolck := fmt.Errorf("probe %s: %w", lock, syscall.ENOLCK)
			for _, p := range []struct {
				how      string
				held     bool
				probeErr error
			}{{"held by the review", true, nil}, {"not probed", false, enolck}} {
				st, interrupted, gone := ro.stateGone(p.held, holder, p.probeErr)
				if st != StateStopped || !interrupted || gone == "" {
					t.Errorf("%s: %s, interrupted %v, %q; want stopped, interrupted, what the gone session did", p.how, st, interrupted, gone)
				}
			}
		})
	}
}

// noLocks has lockRun and probeLock find a filesystem that does not lock
// files (ENOLCK), which no test can mount, until the function it returns
// is called, or the test ends.
func noLocks(t *testing.T) (locksAgain func()) {
	again := func() { lockFile = tryLockFile }
	t.Cleanup(again)
	lockFile = func(*os.File, bool) error { return syscall.ENOLCK }
	return again
}

// TestLockNotTakenLeavesTheRunAsFound: an open to review a run (as rlt
// open's, which then opens it read-only) whose run.lock can be neither
// locked (a filesystem without locks: ENOLCK, Op "lock") nor opened (a
// link to itself, Op "open") is refused with a LockUnknownError saying
// which, and leaves run.lock as it found it: missing, emptied by a clean
// close, naming a killed writer, a link. Once the run can be locked (it
// was copied to a local disk, as the refusal says to), it is listed as it
// was before. A missing run.lock was made, empty, and left so by the
// refused open: the run's last session, killed, then read as one that
// had closed it, events.jsonl as cut after its close.
func TestLockNotTakenLeavesTheRunAsFound(t *testing.T) {
	killed := func(t *testing.T, dir string) { // its trainer killed
		r := mustCreate(t, dir, Options{})
		emitSteps(r, 0, 2, 1, 1)
		killWriter(t, r, deadPID)
	}
	for _, c := range []struct {
		name  string
		leave func(t *testing.T, dir string) // the run at dir as the open finds it
		op    string                         // what fails: "lock" (ENOLCK), or "open"
	}{
		{"run.lock missing, no locks", func(t *testing.T, dir string) {
			killed(t, dir)
			if err := os.Remove(filepath.Join(dir, LockFileName)); err != nil {
				t.Fatal(err)
			}
		}, "lock"},
		{"run.lock emptied by a clean close, no locks", func(t *testing.T, dir string) { writeClosed(t, dir, "stopped") }, "lock"},
		{"run.lock naming a killed writer, no locks", killed, "lock"},
		{"run.lock a link to itself", func(t *testing.T, dir string) {
			killed(t, dir)
			sessionstest.LockLinkedToItself(t, dir)
		}, "open"},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "run")
			c.leave(t, dir)
			lock := filepath.Join(dir, LockFileName)
			found := func() string { // run.lock as it is
				t.Helper()
				if target, err := os.Readlink(lock); err == nil {
					return "a link to " + target
				}
				data, err := os.ReadFile(lock)
				if errors.Is(err, fs.ErrNotExist) {
					return "missing"
				}
				if err != nil {
					t.Fatal(err)
				}
				return fmt.Sprintf("%q", data)
			}
			listed := func() string {
				t.Helper()
				list, err := List(root)
				if err != nil || len(list) != 1 {
					t.Fatalf("List: %+v, %v", list, err)
				}
				return fmt.Sprintf("%s (%s)", list[0].State, list[0].Note)
			}
			lockWas, listedWas := found(), listed()
			events, err := os.ReadFile(filepath.Join(dir, EventsFile))
			if err != nil {
				t.Fatal(err)
			}

			locksAgain := func() {}
			if c.op == "lock" {
				locksAgain = noLocks(t)
			}
			r, err := OpenWith(dir, nil, Options{Intent: IntentReview, DeferOpen: true})
			locksAgain()
			if err == nil {
				r.Close()
				t.Fatal("opened to review a run whose lock could not be taken")
			}
			lu := (*LockUnknownError)(nil)
			if !errors.As(err, &lu) || lu.Path != lock || lu.Op != c.op {
				t.Fatalf("refused with %v; want a LockUnknownError of %s, Op %q", err, lock, c.op)
			}
			if c.op == "lock" {
				why := lock + " cannot be locked (" + syscall.ENOLCK.Error() + "): whether another process holds the run is not known"
				if !errors.Is(err, syscall.ENOLCK) || lu.Why() != why || !strings.HasPrefix(lu.Fix(), "the filesystem does not lock files there") ||
					!strings.Contains(err.Error(), "rlt open shows it read-only") {
					t.Errorf("refused with %v\nwhy %q, fix %q; want ENOLCK, why %q, the fix for a filesystem without locks", err, lu.Why(), lu.Fix(), why)
				}
			}

			if now := found(); now != lockWas {
				t.Errorf("run.lock %s after the refused open, was %s", now, lockWas)
			}
			if after, err := os.ReadFile(filepath.Join(dir, EventsFile)); err != nil || string(after) != string(events) {
				t.Errorf("the refused open changed events.jsonl (%v):\n%s\nwas\n%s", err, after, events)
			}
			if now := listed(); now != listedWas {
				t.Errorf("listed %s after the refused open, was %s", now, listedWas)
			}
		})
	}
}

// TestMadeLockLeavesAnotherOpenersLock: a run.lock that another opener
// opens, or makes, while this open makes its own (acted out at this
// open's lock: the lockFile seam) stays the other's. Where this open's
// lock is refused (a filesystem that does not lock files here, while the
// other's is granted: NFS whose lock manager answers one and not the
// other), its run.lock was removed after the other had opened and locked
// it (unmake's gap): the other's lock was then on a file named run.lock
// no more, and a third opener could lock one of its own. run.lock is now
// made locked under a temporary name and linked into place (makeLocked),
// so none of this open's is ever removed. Where the other makes run.lock
// first, the link finds it, and the other's lock is found held. Either
// way the temporary name is gone.
func TestMadeLockLeavesAnotherOpenersLock(t *testing.T) {
	for _, c := range []struct {
		name string
		ours error // this open's lock, after the other opener's: nil for the real one
		want func(t *testing.T, err error, path string)
	}{
		{"this open's lock refused", syscall.ENOLCK, func(t *testing.T, err error, path string) {
			if lu := (*LockUnknownError)(nil); !errors.As(err, &lu) || lu.Op != "lock" || !errors.Is(err, syscall.ENOLCK) || lu.Path != path {
				t.Errorf("refused with %v; want a LockUnknownError of %s, Op lock, ENOLCK", err, path)
			}
		}},
		{"the other's lock held", nil, func(t *testing.T, err error, path string) {
			if le := (*LockedError)(nil); !errors.As(err, &le) || le.Holder.PID != deadPID {
				t.Errorf("refused with %v; want a LockedError naming the other opener (pid %d)", err, deadPID)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, LockFileName)
			var other *os.File
			t.Cleanup(func() {
				lockFile = tryLockFile
				if other != nil {
					other.Close()
				}
			})
			lockFile = func(f *os.File, exclusive bool) error {
				if other != nil {
					return tryLockFile(f, exclusive)
				}
				// The other opener: run.lock opened, or made where
				// missing (openLock's last way), locked, its record in.
				var err error
				if other, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := tryLockFile(other, true); err != nil {
					t.Fatalf("the other opener's lock: %v", err)
				}
				if _, err := fmt.Fprintf(other, `{"pid":%d}`+"\n", deadPID); err != nil {
					t.Fatal(err)
				}
				if c.ours != nil {
					return c.ours
				}
				return tryLockFile(f, exclusive)
			}
			l, err := LockRun(dir)
			if err == nil {
				l.Unlock()
				t.Fatal("locked a run.lock another opener holds")
			}
			c.want(t, err, path)
			if !named(other, path) {
				t.Errorf("the other opener's run.lock is no longer named %s", path)
			}
			if entries, err := os.ReadDir(dir); err != nil || len(entries) != 1 {
				t.Errorf("the folder holds %v (%v), want only %s", entries, err, LockFileName)
			}
		})
	}
}

// TestStartWhereRunLockCannotBeOpened: a new run's start in a folder whose
// run.lock cannot be opened (a folder of that name, a link to itself, a
// file this user cannot write), or made (its folder not writable), is refused with the file's path and the
// system's error, and says what to do: see what it is, remove it (or let
// this user write it), or start the run in another folder (--runs DIR);
// not to open or copy a run, as there is none. The folder is left as it
// was found. The refusal said only "see what run.lock is … the lock is
// taken on a file of that name", and of a file this user cannot write
// that the run "cannot be resumed or written to; rlt open … shows it
// read-only". A folder is said as what it is, not opened (openFound),
// as the listing says it; its open said "is a directory".
func TestStartWhereRunLockCannotBeOpened(t *testing.T) {
	for _, c := range []struct {
		name string
		make func(t *testing.T, lock string)
		says []string // what the refusal says, after the path
	}{
		{"a folder", func(t *testing.T, lock string) {
			if err := os.Mkdir(lock, 0o755); err != nil {
				t.Fatal(err)
			}
		}, []string{" cannot be read (it is a folder, not a file): a run is not started without its lock", "so none was made",
			"see what it is (ls -l ", "remove it, or start the run in another folder (--runs DIR)"}},
		{"a link to itself", func(t *testing.T, lock string) {
			if err := os.WriteFile(lock, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			sessionstest.LockLinkedToItself(t, filepath.Dir(lock))
		}, []string{" cannot be opened (" + syscall.ELOOP.Error() + "): a run is not started without its lock",
			"see what it is (ls -l ", "remove it, or start the run in another folder (--runs DIR)"}},
		{"a link that leads nowhere", func(t *testing.T, lock string) {
			if err := os.Symlink("gone.lock", lock); err != nil {
				t.Skipf("no symbolic link here: %v", err)
			}
		}, []string{" cannot be opened (it is a symbolic link to gone.lock, and a run's lock is a plain file", "so none was made",
			"remove the link (rm ", "), or start the run in another folder (--runs DIR)"}},
		{"not writable by this user", func(t *testing.T, lock string) {
			if os.Geteuid() == 0 {
				t.Skip("root writes any file")
			}
			if err := os.WriteFile(lock, nil, 0o444); err != nil {
				t.Fatal(err)
			}
		}, []string{" cannot be opened for writing (" + syscall.EACCES.Error() + "): a run is not started without its lock", "so none was made",
			"see whose it is (ls -l ", "let this user write it, or remove it, or start the run in another folder (--runs DIR)"}},
		{"missing, its folder not writable by this user", func(t *testing.T, lock string) {
			if os.Geteuid() == 0 {
				t.Skip("root writes any folder")
			}
			dir := filepath.Dir(lock)
			if err := os.Chmod(dir, 0o555); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(dir, 0o755) })
		}, []string{" cannot be made (" + syscall.EACCES.Error() + "): ", " cannot be written here, and a run is not started without its lock",
			"start the run in a folder you can write (--runs DIR)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			lock := filepath.Join(dir, LockFileName)
			c.make(t, lock)
			was := folderAsIs(t, dir)
			r, err := Create(dir, testCfg())
			if err == nil {
				r.Close()
				t.Fatal("started a run whose run.lock cannot be opened")
			}
			msg := err.Error()
			for _, want := range c.says {
				if !strings.Contains(msg, lock+c.says[0]) || !strings.Contains(msg, want) {
					t.Errorf("refused with\n%s\nwant it to say %q after %s", msg, want, lock)
				}
			}
			if strings.Contains(msg, "rlt open") || strings.Contains(msg, "copy") || strings.Contains(msg, "resume") {
				t.Errorf("refused with\n%s\nwhich speaks of a run to open, copy or resume: none was made", msg)
			}
			if now := folderAsIs(t, dir); now != was {
				t.Errorf("the folder holds after the refused start:\n%s\nwant it as it was:\n%s", now, was)
			}
		})
	}
}

// TestKilledLockMakerLeavesNothing: a process killed while it makes
// run.lock (at its lock, before the file it made has the name) leaves a
// temporary file at most, which the next process to make or rewrite
// run.lock in that folder removes, as it removes the temporary files of a
// record's rewrite (replaceLock) left by a killed holder. makeLocked's
// ".run.lock.new-*" was removed by nothing: each killed start or open left
// one in the run folder for good.
func TestKilledLockMakerLeavesNothing(t *testing.T) {
	for _, c := range []struct {
		name  string
		found bool // run.lock is there when the next process locks the run (it rewrites it); else it makes it
	}{
		{"run.lock made by the next", false},
		{"run.lock there, rewritten by the next", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childModeEnv+"=killed-making-lock", childArgEnv+"="+dir)
			out, err := cmd.CombinedOutput() // waited for: a child not reaped would read as alive
			if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.Exited() {
				t.Fatalf("the child was not killed making run.lock: %v\n%s", err, out)
			}
			left := folderNames(t, dir)
			if runtime.GOOS != "windows" && len(left) == 0 {
				t.Fatal("the killed child left nothing: the test acts out no leftover")
			}
			if c.found {
				if err := os.WriteFile(filepath.Join(dir, LockFileName), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			l, err := LockRun(dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := l.Unlock(); err != nil {
				t.Fatal(err)
			}
			if now := folderNames(t, dir); !slices.Equal(now, []string{LockFileName}) {
				t.Errorf("the folder holds %q after a lock and unlock (the killed child left %q), want only %s", now, left, LockFileName)
			}
		})
	}
}

// childKilledMakingLock is a process killed as it makes run.lock in dir:
// at its lock (the lockFile seam), once the file it makes is there.
func childKilledMakingLock(dir string) error {
	lockFile = func(*os.File, bool) error {
		p, err := os.FindProcess(os.Getpid())
		if err == nil {
			err = p.Kill()
		}
		if err != nil {
			return err
		}
		time.Sleep(time.Minute) // the kill is on its way
		return errors.New("not killed")
	}
	l, err := LockRun(dir)
	if err == nil {
		l.Unlock()
	}
	return fmt.Errorf("not killed as it made run.lock: %v", err)
}

// folderNames is what the folder dir holds, by name, sorted.
func folderNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}
