//go:build unix

package sessions

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestLockRemovesOldTemporaryNames: the temporary names of run.lock of
// builds between 05d096f and da7a631 (".run.lock.new-" and random
// digits) name no process, so nothing removed one that a killed open
// left. A lock taken removes those no live process uses: a second name of
// run.lock's file (killed after its link), a file whose lock is granted
// (killed before it). It leaves one a live process holds locked (an old
// build making run.lock), a folder of that name, and all of them where it
// does not take the lock (a listing; a lock held by another). Before,
// every one stayed.
func TestLockRemovesOldTemporaryNames(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "run")
	writeClosed(t, dir, "stopped")
	lock := filepath.Join(dir, LockFileName)
	// A killed holder's record: what the next lock says it found.
	if err := os.WriteFile(lock, []byte(`{"pid":999999,"started":"2026-01-02T03:04:05Z"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	name := func(s string) string { return filepath.Join(dir, oldLockTempPrefix+s) }
	if err := os.Link(lock, name("111")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name("222"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name("333"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	live, err := os.OpenFile(name("333"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if err := tryLockFile(live, true); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(name("444"), 0o755); err != nil {
		t.Fatal(err)
	}
	left := func() []string {
		t.Helper()
		var names []string
		for _, s := range []string{"111", "222", "333", "444"} {
			if _, err := os.Lstat(name(s)); err == nil {
				names = append(names, s)
			}
		}
		return names
	}
	all := []string{"111", "222", "333", "444"}
	if _, err := List(root); err != nil {
		t.Fatal(err)
	}
	if got := left(); !slices.Equal(got, all) {
		t.Errorf("after a listing: %v left; want all of %v (it takes no lock)", got, all)
	}
	l, err := LockRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if l.Previous == nil || l.Previous.PID != 999999 {
		t.Errorf("the lock found %+v; want the killed holder's record", l.Previous)
	}
	if got, want := left(), []string{"333", "444"}; !slices.Equal(got, want) {
		t.Errorf("after the lock: %v left; want %v (a live process's, a folder)", got, want)
	}
	// Held here: another lock is refused and removes nothing.
	if err := os.WriteFile(name("555"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if l2, err := LockRun(dir); !errors.Is(err, ErrLocked) {
		if err == nil {
			l2.Unlock()
		}
		t.Fatalf("second lock: %v; want it refused as held", err)
	}
	if _, err := os.Lstat(name("555")); err != nil {
		t.Errorf("a lock refused removed %s: %v", name("555"), err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	// Its maker gone (its lock dropped), the next lock removes it.
	unlockFile(live)
	l, err = LockRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	if got, want := left(), []string{"444"}; !slices.Equal(got, want) {
		t.Errorf("after the maker is gone: %v left; want %v", got, want)
	}
	if _, err := os.Lstat(name("555")); err == nil {
		t.Errorf("%s left after a lock taken", name("555"))
	}
}
