//go:build unix

package sessions

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestRunLockKeptAsFound: run.lock keeps its mode, and its owner and
// group where the process may give them (root here), through the
// rewrites of a session (its record written, its checks' intent cleared,
// emptied by its close), and an open that leaves it as found (a resume
// closed before it began) puts back what it held whole. The rewrites made
// it 0644 and this user's, so that a group sharing the run folder could
// open the run no more; and what it held past its first 4096 bytes was
// lost, the file put back cut.
func TestRunLockKeptAsFound(t *testing.T) {
	const mode = 0o664 // a folder a group shares
	for _, c := range []struct {
		name  string
		begin bool // the session begins, and closes cleanly; else it is closed before it began
		tail  int  // bytes past the killed writer's record
	}{
		{"a resume closed before it began, a short run.lock", false, 0},
		{"a resume closed before it began, run.lock past 4096 bytes", false, 5000},
		{"a session that began and closed", true, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			w := mustCreate(t, dir, Options{})
			emitSteps(w, 0, 2, 1, 1)
			killWriter(t, w, deadPID)
			lock := filepath.Join(dir, LockFileName)
			was := fmt.Sprintf(`{"pid":%d,"started":"2026-01-02T03:04:05Z"}`+"\n%s", deadPID, strings.Repeat("x", c.tail))
			if err := os.WriteFile(lock, []byte(was), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(lock, mode); err != nil {
				t.Fatal(err)
			}
			uid, gid := os.Getuid(), os.Getgid()
			if uid == 0 { // another user's and group's, as root may give it
				uid, gid = 4321, 4321
				if err := os.Chown(lock, uid, gid); err != nil {
					t.Fatal(err)
				}
			}
			kept := func(when string) {
				t.Helper()
				fi, err := os.Stat(lock)
				if err != nil {
					t.Fatal(err)
				}
				st := fi.Sys().(*syscall.Stat_t)
				if fi.Mode().Perm() != mode || int(st.Uid) != uid || int(st.Gid) != gid {
					t.Errorf("run.lock %s: mode %v, owner %d:%d; want it as found, %v, %d:%d", when, fi.Mode().Perm(), st.Uid, st.Gid, fs.FileMode(mode), uid, gid)
				}
			}
			r, err := OpenWith(dir, nil, Options{Intent: IntentResume, DeferOpen: true})
			if err != nil {
				t.Fatal(err)
			}
			kept("while the run is open")
			if c.begin {
				if err := r.Begin(); err != nil {
					t.Fatal(err)
				}
				kept("once its open event is on disk")
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			kept("after the close")
			got, err := os.ReadFile(lock)
			if err != nil {
				t.Fatal(err)
			}
			want := was
			if c.begin {
				want = "" // a clean close
			}
			if string(got) != want {
				t.Errorf("run.lock after the close holds %d bytes (%.60q…), want %d (%.60q…)", len(got), got, len(want), want)
			}
		})
	}
}
