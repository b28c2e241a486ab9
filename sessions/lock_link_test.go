package sessions

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestLockRefusesASymbolicLink: a run.lock that is a symbolic link, to a
// file or to nowhere, is refused as one that cannot be opened (a
// LockUnknownError, Op "open"), saying it is a link, where it leads and
// to remove it; the link and where it leads are left as they were. A
// link that led nowhere was followed and its target made, and the
// record written next replaced the link by a plain file (replaceLock's
// rename), leaving the target behind, empty; one that led to a file was
// replaced so too.
func TestLockRefusesASymbolicLink(t *testing.T) {
	for _, c := range []struct {
		name    string
		target  func(dir, elsewhere string) string // where the link leads
		holds   []byte                             // what the target holds; nil: there is none
		inDir   []string                           // the run folder's names after the lock
		outside []string                           // elsewhere's names after the lock
	}{
		{"to nowhere in the run folder", func(dir, _ string) string { return "gone.lock" }, nil, []string{LockFileName}, nil},
		{"to nowhere elsewhere", func(_, elsewhere string) string { return filepath.Join(elsewhere, "gone.lock") }, nil, []string{LockFileName}, nil},
		{"to a file elsewhere", func(_, elsewhere string) string { return filepath.Join(elsewhere, "other.lock") },
			[]byte(`{"pid":4194305,"started":"2026-01-02T03:04:05Z"}` + "\n"), []string{LockFileName}, []string{"other.lock"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, elsewhere := t.TempDir(), t.TempDir()
			target := c.target(dir, elsewhere)
			if c.holds != nil {
				if err := os.WriteFile(target, c.holds, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(dir, LockFileName)
			if err := os.Symlink(target, path); err != nil {
				t.Skipf("no symbolic link here: %v", err)
			}
			l, err := LockRun(dir)
			if err == nil {
				l.Unlock()
				t.Fatal("locked a run.lock that is a symbolic link")
			}
			var lu *LockUnknownError
			var link *lockLinkError
			if !errors.As(err, &lu) || lu.Op != "open" || !errors.As(err, &link) || link.Target != target {
				t.Errorf("refused with %v; want a LockUnknownError, Op open, of a link to %s", err, target)
			}
			for _, w := range []string{path + " cannot be opened (it is a symbolic link to " + target, "remove the link (rm " + ShellQuote(path) + ")"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("it says %q; want %q in it", err, w)
				}
			}
			if now, err := os.Readlink(path); err != nil || now != target {
				t.Errorf("run.lock after the refusal: a link to %q (%v); want the link to %s left", now, err, target)
			}
			if now := folderNames(t, dir); !slices.Equal(now, c.inDir) {
				t.Errorf("the run folder holds %q, want %q", now, c.inDir)
			}
			if now := folderNames(t, elsewhere); !slices.Equal(now, c.outside) {
				t.Errorf("where the link leads holds %q, want %q", now, c.outside)
			}
			if c.holds != nil {
				if now, err := os.ReadFile(target); err != nil || !bytes.Equal(now, c.holds) {
					t.Errorf("the link's target holds %q (%v), want %q as it was", now, err, c.holds)
				}
			}
		})
	}
}
