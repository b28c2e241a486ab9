package sessions

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rlt-workbench/rlt/sessions/roomtest"
)

// TestWorkbenchExportOnAFullDisk: the workbench's export (e) of a run on a
// full disk says the disk is full and to export again once there is room,
// keeping an earlier export as it was; it said the write of its temporary
// file. It needs a small disk: a tmpfs, mounted where the test runs as
// root (Linux: this file's name); the wording is tested on every system in
// room_test.go.
func TestWorkbenchExportOnAFullDisk(t *testing.T) {
	disk := roomtest.SmallDisk(t, "size=256k")
	dir := filepath.Join(disk, "run")
	cfg := testCfg()
	r, err := Create(dir, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	emitSteps(r, 0, 1, 1, 2)
	r.Close()
	w, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Review("0-0-0", LabelAccept, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ExportAccepted(); err != nil {
		t.Fatal(err)
	}
	earlier, _ := os.ReadFile(filepath.Join(dir, ExportFile))
	if err := w.Review("0-0-1", LabelAccept, ""); err != nil {
		t.Fatal(err)
	}
	roomtest.Fill(t, disk)
	_, err = w.ExportAccepted()
	want := "the disk holding " + dir + " is full (0 B free): free some room there and export again; the earlier " + ExportFile + " is kept as it was"
	if err == nil || err.Error() != want || !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("%v\nwant %s", err, want)
	}
	if now, _ := os.ReadFile(filepath.Join(dir, ExportFile)); string(now) != string(earlier) || strings.Count(string(now), "\n") != 1 {
		t.Errorf("%s now holds %q, want the earlier export %q", ExportFile, now, earlier)
	}
}

// TestRunOpensOnAFullDisk: a run whose writer was killed, on a disk with
// no room left, opens to be reviewed, its run.lock (holding the killed
// writer's record) rewritten in place where no new file can be made to
// replace it whole (replaceLock), and closes as it found it. (A run.lock
// emptied by a clean close has no block to write into: such a run opens
// only to be read there, TestClosedRunOnAFullDisk.)
func TestRunOpensOnAFullDisk(t *testing.T) {
	disk := roomtest.SmallDisk(t, "size=256k")
	dir := filepath.Join(disk, "run")
	cfg := testCfg()
	r, err := Create(dir, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	emitSteps(r, 0, 1, 1, 1)
	killWriter(t, r, deadPID)
	lockPath := filepath.Join(dir, LockFileName)
	left, err := os.ReadFile(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	roomtest.Fill(t, disk)
	if err := os.WriteFile(filepath.Join(disk, "probe"), []byte("x"), 0o644); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("the disk is not full: a new file's write says %v", err)
	}
	w, err := OpenWith(dir, nil, Options{Intent: IntentReview, DeferOpen: true})
	if err != nil {
		t.Fatalf("open on a full disk: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(lockPath); err != nil || string(data) != string(left) {
		t.Errorf("run.lock after a review closed before it began: %q, %v; want it as it was: %q", data, err, left)
	}
}

// TestClosedRunOnAFullDisk: a run closed cleanly (run.lock emptied), on a
// disk with no block free, opens to be read as ever (OpenReadOnly, the
// listing: nothing is written to read it), and an open to write it
// (review, resume) is refused as the disk's being full, with what to do,
// and as ErrUnwritable, which the workbench opens read-only; run.lock is
// left empty, as the clean close left it. The open said only "write
// owner: no space left on device", and the workbench could not open the
// run at all.
func TestClosedRunOnAFullDisk(t *testing.T) {
	disk := roomtest.SmallDisk(t, "size=256k")
	dir := filepath.Join(disk, "run")
	cfg := testCfg()
	r, err := Create(dir, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	emitSteps(r, 0, 1, 1, 1)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	lockPath := filepath.Join(dir, LockFileName)
	roomtest.Fill(t, disk)
	if err := os.WriteFile(filepath.Join(disk, "probe"), []byte("x"), 0o644); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("the disk is not full: a new file's write says %v", err)
	}
	for _, intent := range []string{IntentReview, IntentResume} {
		w, err := OpenWith(dir, nil, Options{Intent: intent, DeferOpen: true})
		if err == nil {
			w.Close()
			t.Fatalf("%s: opened on a full disk", intent)
		}
		want := "the disk holding " + dir + " is full (0 B free): free some room there and open the run again to review or resume it " +
			"(rlt open shows it read-only meanwhile: reading it writes nothing); the run is as it was"
		if !strings.Contains(err.Error(), want) || !errors.Is(err, ErrUnwritable) || !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("%s: %v\nwant it to say %q, as ErrUnwritable", intent, err, want)
		}
	}
	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatalf("read-only: %v", err)
	}
	if _, note, interrupted := ro.State(); interrupted {
		t.Errorf("read-only: interrupted (%s)", note)
	}
	ro.Close()
	if l, err := List(disk); err != nil || len(l) != 1 || strings.Contains(l[0].Note, "is gone") {
		t.Errorf("List: %+v, %v", l, err)
	}
	if data, err := os.ReadFile(lockPath); err != nil || len(data) != 0 {
		t.Errorf("run.lock after the refused opens: %q, %v; want it empty, as the clean close left it", data, err)
	}
}

// TestStartOnAFullDisk: a new run's start on a disk with no room for
// run.lock's record says that the disk is full, to free room and start
// the run again or give --runs a folder on a disk with room, and that no
// run was made; the folder it made is removed. It said an open's words:
// "open the run again to review or resume it (rlt open shows it read-only
// meanwhile …); the run is as it was", of a run that is not there.
func TestStartOnAFullDisk(t *testing.T) {
	disk := roomtest.SmallDisk(t, "size=256k")
	roomtest.Fill(t, disk)
	dir := filepath.Join(disk, "run")
	r, err := Create(dir, testCfg())
	if err == nil {
		r.Close()
		t.Fatal("started a run on a full disk")
	}
	want := "the disk holding " + dir + " is full (0 B free): free some room there and start the run again, or give --runs a folder on a disk with room; no run was made"
	if !strings.Contains(err.Error(), want) || !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("%v\nwant it to say %q", err, want)
	}
	for _, not := range []string{"open the run again", "rlt open", "the run is as it was"} {
		if strings.Contains(err.Error(), not) {
			t.Errorf("%v\nsays %q of a run not made", err, not)
		}
	}
	if _, err := os.Lstat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the folder the start made is left: %v", err)
	}
}
