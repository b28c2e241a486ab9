package sessions

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/event"
)

// TestListSaysTheRunOpenHere: the listing's note on a run held by the
// very process that lists it (the workbench that has the run open) says
// so in words, "open here, training it", where it named that process by
// its own pid as if another held it; any other process (rlt sessions,
// another workbench) still reads the holder's pid. The Holder is the same
// either way (Holder.String names the pid: it is what a refusal says).
func TestListSaysTheRunOpenHere(t *testing.T) {
	self := os.Getpid()
	root := t.TempDir()

	// Trained here.
	r := mustCreate(t, filepath.Join(root, "here"), Options{})
	defer r.Close()
	emitSteps(r, 0, 1, 1, 1)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	// Trained by another process, a step every minute.
	c := startChild(t, "run-writer", fmt.Sprintf("%s|%d|%s", filepath.Join(root, "there"), 2, time.Minute))
	c.expect(t, "created")
	c.expect(t, "step 0")
	held, info, err := probeLock(filepath.Join(root, "there"))
	if !held || info.PID == 0 || info.PID == self || err != nil {
		t.Fatalf("the child's run: held %v by %+v (%v)", held, info, err)
	}

	list, err := List(root)
	if err != nil || len(list) != 2 {
		t.Fatalf("List: %+v, %v", list, err)
	}
	for _, s := range list {
		want, holder := "open here, training it", self
		if s.Name == "there" {
			want, holder = fmt.Sprintf("pid %d", info.PID), info.PID
		}
		if s.State != StateRunning || s.Note != want || s.Holder.PID != holder || !strings.HasPrefix(s.Holder.String(), fmt.Sprintf("pid %d, ", holder)) {
			t.Errorf("%s: listed %s, %q, held by %q; want running, %q, held by pid %d", s.Name, s.State, s.Note, s.Holder, want, holder)
		}
	}
	if st, note, _ := r.State(); st != StateRunning || note != "open here, training it" {
		t.Errorf("its own Run: %s, %q; want running, %q", st, note, "open here, training it")
	}

	// Its engine ended, kept open to review here: in words too.
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	rv := mustOpen(t, filepath.Join(root, "here"))
	defer rv.Close()
	if err := rv.Flush(); err != nil {
		t.Fatal(err)
	}
	list, err = List(root)
	if err != nil || len(list) != 2 {
		t.Fatalf("List: %+v, %v", list, err)
	}
	if want := "open here, no engine running"; list[0].Name != "here" || list[0].Note != want {
		t.Errorf("%s: listed %q, want %q", list[0].Name, list[0].Note, want)
	}
}

// TestGoneSaysOnlyWhatTheFolderProves: a run whose last training session
// never closed it and whose lock no process holds reads stopped and
// interrupted, and its note (the listing's, a read-only open's State, and
// the header's StateGone) says that process "is gone" only where the folder
// proves it: run.lock names a process of this host that does not run.
// Where run.lock names another host (a folder copied from there, or on a
// disk shared with it, whose lock may not be seen here), or a process
// with that pid runs on this host (a copy of a live run folder: its
// run.lock is copied, not its lock), it says the process holds no lock on
// this folder and why it may live on. It said "is gone" of all of them.
func TestGoneSaysOnlyWhatTheFolderProves(t *testing.T) {
	const noLock = "the process that trained it (pid %d) holds no lock on this folder and did not stop its training (%s)"
	const otherHost = "run.lock names host gpu-node-7, whose processes cannot be seen from here: this folder may be a copy, or its lock not seen here"
	const runsHere = "a process with its pid runs on this host: this folder may be a copy of a run it holds"
	for _, c := range []struct {
		name string
		// folder leaves a run folder under root as the case has it, and
		// returns it and the pid its note names.
		folder func(t *testing.T, root string) (dir string, pid int)
		note   func(pid int) string
		gone   string // Run.StateGone's words
	}{
		{"killed on this host", func(t *testing.T, root string) (string, int) {
			r := mustCreate(t, filepath.Join(root, "run"), Options{})
			emitSteps(r, 0, 2, 1, 1)
			killWriter(t, r, deadPID)
			return r.Dir(), deadPID
		}, func(pid int) string {
			return fmt.Sprintf("the process that trained it (pid %d) is gone without stopping it", pid)
		}, "the process that trained it is gone without stopping it"},
		{"run.lock names another host", func(t *testing.T, root string) (string, int) {
			r := mustCreate(t, filepath.Join(root, "run"), Options{})
			emitSteps(r, 0, 2, 1, 1)
			killWriter(t, r, deadPID)
			leftOnHost(t, r.Dir(), deadPID, "gpu-node-7")
			return r.Dir(), deadPID
		}, func(pid int) string { return fmt.Sprintf(noLock, pid, otherHost) }, "the process that trained it holds no lock on this folder and did not stop its training (" + otherHost + ")"},
		{"a copy of a folder a live process trains", func(t *testing.T, root string) (string, int) {
			live := filepath.Join(t.TempDir(), "live")
			c := startChild(t, "run-writer", fmt.Sprintf("%s|%d|%s", live, 2, time.Minute))
			c.expect(t, "created")
			c.expect(t, "step 0")
			dir := filepath.Join(root, "copy")
			copyDir(t, live, dir)
			return dir, c.cmd.Process.Pid
		}, func(pid int) string { return fmt.Sprintf(noLock, pid, runsHere) }, "the process that trained it holds no lock on this folder and did not stop its training (" + runsHere + ")"},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			dir, pid := c.folder(t, root)
			want := c.note(pid)
			list, err := List(root)
			if err != nil || len(list) != 1 {
				t.Fatalf("List: %+v, %v", list, err)
			}
			if list[0].State != StateStopped || list[0].Note != want {
				t.Errorf("listed %s (%q), want stopped (%q)", list[0].State, list[0].Note, want)
			}
			ro, err := OpenReadOnly(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer ro.Close()
			if st, note, interrupted := ro.State(); st != StateStopped || note != want || !interrupted {
				t.Errorf("open read-only: %s (%q), interrupted %v; want stopped (%q), interrupted", st, note, interrupted, want)
			}
			if st, interrupted, g := ro.StateGone(); st != StateStopped || !interrupted || g != c.gone {
				t.Errorf("StateGone: %s, interrupted %v, %q; want stopped, interrupted, %q", st, interrupted, g, c.gone)
			}
		})
	}
}

// TestLockLeftSaysOnlyWhatTheFolderProves: run.lock left naming a process
// other than the trainer the events name (a review killed since, the
// folder's last holder) says its "unclean exit" only where the folder
// proves it gone; of one on another host, that it does not hold this
// folder and why it may live on, and then the trainer, which held the
// folder before it, is not said gone either: the folder may be a copy.
func TestLockLeftSaysOnlyWhatTheFolderProves(t *testing.T) {
	const elsewhere = "run.lock names host gpu-node-7, whose processes cannot be seen from here: this folder may be a copy, or its lock not seen here"
	trained := fmt.Sprintf("the process that trained it (pid %d) is gone without stopping it", deadPID)
	for _, c := range []struct {
		name, host, ended string
		want              string
	}{
		{"this host", "", "", trained + fmt.Sprintf("; unclean exit of pid %d", otherDeadPID)},
		{"another host", "gpu-node-7", "", fmt.Sprintf("the process that trained it (pid %d) holds no lock on this folder and did not stop its training (%s); run.lock names pid %d, which does not hold it", deadPID, elsewhere, otherDeadPID)},
		{"another host, its training finished", "gpu-node-7", "done", fmt.Sprintf("the process that trained it (pid %d) did not close it after its training finished (it was killed since, or this folder was copied while the run was open); run.lock names pid %d, which does not hold it (%s)", deadPID, otherDeadPID, elsewhere)},
	} {
		root := t.TempDir()
		r := mustCreate(t, filepath.Join(root, "run"), Options{})
		emitSteps(r, 0, 2, 1, 1)
		if c.ended != "" {
			r.Emit(event.Phase{Time: time.Now(), Name: c.ended, Step: 1})
		}
		killWriter(t, r, deadPID)
		leftOnHost(t, r.Dir(), otherDeadPID, c.host)
		list, err := List(root)
		if err != nil || len(list) != 1 {
			t.Fatalf("List: %+v, %v", list, err)
		}
		if list[0].Note != c.want {
			t.Errorf("%s: listed %q\nwant %q", c.name, list[0].Note, c.want)
		}
	}
}

// leftOnHost rewrites the run.lock in dir as left by process pid of host ("":
// run.lock names none, as before it named hosts), no process holding it.
func leftOnHost(t *testing.T, dir string, pid int, host string) {
	t.Helper()
	lock := fmt.Sprintf(`{"pid":%d,"host":%q,"started":"2026-01-02T03:04:05Z"}`+"\n", pid, host)
	if host == "" {
		lock = fmt.Sprintf(`{"pid":%d,"started":"2026-01-02T03:04:05Z"}`+"\n", pid)
	}
	if err := os.WriteFile(filepath.Join(dir, LockFileName), []byte(lock), 0o644); err != nil {
		t.Fatal(err)
	}
}
