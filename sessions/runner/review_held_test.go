package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/sessions/sessionstest"
)

// TestOpenForReviewSaysWhereToReview: a run another process holds opens
// read-only, and its note says where it can be reviewed by what that
// process does with it: in the workbench that reviews it; not in rlt
// score --write, which has no review; in the workbench that trains it, or
// here once a headless rlt run, which has none, has finished, as run.lock
// says (sessions.Options.Process); a run.lock written before it said
// leaves it open, as the note did. It said "review it there" of every
// holder, a headless run's and rlt score's too, then could not tell a
// workbench's training from a headless one's, and told the user to kill a
// pid on this host that a process on another (a run folder on a shared
// filesystem) has: run.lock names its host and its system, and the note
// says it, and how to stop it there. The holder's pid and host are said
// once, by the lock's refusal that the note starts with, as a refused open
// says them; the note said them twice, in two wordings.
func TestOpenForReviewSaysWhereToReview(t *testing.T) {
	l := NewLauncher(context.Background(), t.TempDir(), "")
	pid := strconv.Itoa(os.Getpid())
	for _, c := range []struct {
		name string
		hold func(t *testing.T, dir string) *sessions.Run
		want string
	}{
		{"training in a workbench", trainedBy(sessions.ProcessWorkbench),
			"training in a workbench: review it there, or here once it has closed the run (enter on it in the Runs screen)"},
		{"training headless", trainedBy(sessions.ProcessHeadless),
			"training headless: review it here once it has finished (enter on it in the Runs screen); stop it sooner with kill " + pid + ", which stops it after the step in progress"},
		{"another host, named by the lock's refusal", onHost("gpu-node-7", "linux", trainedBy(sessions.ProcessHeadless)),
			sessions.LockFileName + ": run folder is locked by pid " + pid + " on host gpu-node-7 (started "},
		{"training headless on another Linux host", onHost("gpu-node-7", "linux", trainedBy(sessions.ProcessHeadless)),
			"training headless: review it here once it has finished (enter on it in the Runs screen); " +
				"stop it sooner on host gpu-node-7 with kill " + pid + " there, which stops it after the step in progress as Ctrl-C in its terminal does"},
		{"training headless on another Windows host", onHost("gpu-node-7", "windows", trainedBy(sessions.ProcessHeadless)),
			"training headless: review it here once it has finished (enter on it in the Runs screen); " +
				"stop it sooner on host gpu-node-7 with Ctrl-C in its console window there, which stops it after the step in progress " +
				"(taskkill /PID " + pid + " cannot stop it, and taskkill /F ends it mid-step, as a crash would)"},
		{"training in a workbench on another host", onHost("gpu-node-7", "linux", trainedBy(sessions.ProcessWorkbench)),
			"training in a workbench: review it there, or here once it has closed the run"},
		{"training, run.lock of before", trainedBy(""), "review it in the workbench that trains it, if one does (a headless rlt run has none), or here once it has closed the run"},
		{"reviewing", heldFor(sessions.IntentReview), "review it in that workbench, or here once it has closed the run"},
		{"re-scoring", heldFor(sessions.IntentRescore), "rlt score --write holds it while it writes re-scores: review it here once it has closed the run"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			holder := c.hold(t, dir)
			defer holder.Close()
			s, err := l.OpenForReview(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			notes := strings.Join(s.Notes, "; ")
			if !s.IsReadOnly() || !strings.Contains(notes, c.want) || strings.Contains(notes, "review it there, or once that process has closed it") {
				t.Errorf("read-only %v, notes %q; want %q", s.IsReadOnly(), notes, c.want)
			}
			if n := strings.Count(notes, "pid "+pid); n != 1 {
				t.Errorf("notes %q name pid %s %d times, want once", notes, pid, n)
			}
		})
	}
}

// trainedBy creates a run in dir as a session that trains it in process
// does (runner.Create; "": a run.lock that does not say).
func trainedBy(process string) func(t *testing.T, dir string) *sessions.Run {
	return func(t *testing.T, dir string) *sessions.Run {
		r, err := sessions.CreateWith(dir, struct {
			Task string `toml:"task"`
		}{"addition"}, sessions.Options{Process: process})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
}

// onHost is hold, its run.lock then naming host as the holder's, and goos
// as its system, as a process on another host writes it into a run folder
// on a shared filesystem: the lock itself stays this process's.
func onHost(host, goos string, hold func(t *testing.T, dir string) *sessions.Run) func(t *testing.T, dir string) *sessions.Run {
	return func(t *testing.T, dir string) *sessions.Run {
		r := hold(t, dir)
		path := filepath.Join(dir, sessions.LockFileName)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var info sessions.LockInfo
		if err := json.Unmarshal(data, &info); err != nil {
			t.Fatalf("%s: %q: %v", path, data, err)
		}
		info.Host, info.OS = host, goos
		if data, err = json.Marshal(info); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return r
	}
}

// heldFor imports the official fixture into dir and opens it for intent,
// as rlt open (IntentReview) or rlt score --write (IntentRescore) does.
func heldFor(intent string) func(t *testing.T, dir string) *sessions.Run {
	return func(t *testing.T, dir string) *sessions.Run {
		if _, err := sessions.Import(dir, "../testdata/official/run"); err != nil {
			t.Fatal(err)
		}
		r, err := sessions.OpenWith(dir, nil, sessions.Options{Intent: intent})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
}

// TestOpenForReviewReadsARunWhoseLockCannotBeTaken: a run whose run.lock
// can be neither locked nor found held (here a link to itself; a
// filesystem without locks, ENOLCK; NFS whose lock manager is not
// reached), its training session left open by its events, so that it is
// listed unknown, opens read-only, as one another process holds, its note
// saying why and that reviews are not saved in it; the folder is left as
// it was. rlt open, and enter on its row in the Runs screen, failed with
// the lock's error: a run that could not be written could not be read.
func TestOpenForReviewReadsARunWhoseLockCannotBeTaken(t *testing.T) {
	l := NewLauncher(context.Background(), t.TempDir(), "")
	dir := filepath.Join(t.TempDir(), "run")
	r := trainedBy(sessions.ProcessWorkbench)(t, dir)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	// Its close taken back, as a process killed (or still training)
	// leaves it: its session open.
	sessionstest.TakeBackClose(t, dir)
	lock := sessionstest.LockLinkedToItself(t, dir)
	before := folderState(t, dir)
	s, err := l.OpenForReview(dir)
	if err != nil {
		t.Fatalf("open for review: %v", err)
	}
	notes := strings.Join(s.Notes, "; ")
	const why = "cannot be opened (too many levels of symbolic links): whether another process holds the run is not known"
	if !s.IsReadOnly() || !strings.Contains(notes, "read-only: "+lock+" ") || !strings.Contains(notes, why) ||
		!strings.Contains(notes, "reviews and exports cannot be saved in it") {
		t.Errorf("read-only %v, notes %q; want read-only, noting %q", s.IsReadOnly(), notes, why)
	}
	if st, _, _ := s.Run.StateGone(); st != sessions.StateUnknown {
		t.Errorf("state %s, want %s", st, sessions.StateUnknown)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if after := folderState(t, dir); after != before {
		t.Errorf("the folder changed:\n%s\nwas\n%s", after, before)
	}
}

// folderState lists what is in dir, each file's name, size, time and
// mode: a write to any of them changes it.
func folderState(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %d %s %s\n", p, info.Size(), info.ModTime().Format(time.RFC3339Nano), info.Mode())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
