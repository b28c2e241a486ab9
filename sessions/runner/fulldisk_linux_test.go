package runner

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rlt-workbench/rlt/sessions"
	"github.com/rlt-workbench/rlt/sessions/roomtest"
)

// TestReviewNoteSaysWhyReadOnly: a run that cannot be written opens to be
// reviewed read-only, and the note says why and what to do by the cause:
// on a full disk (a run closed cleanly, its run.lock emptied with no block
// to write into) that the disk is full, to free room and open it again, as
// the lock's refusal says; in a read-only folder to copy it where it can be
// written. The note said the read-only folder's words of both: copying a
// run off a full disk frees nothing, and needs room elsewhere the note did
// not say. It says read-only once: the full disk's said to open the run
// read-only meanwhile (rlt open shows it …), which the note is read in.
// It needs small and read-only disks: tmpfs mounts, as root (Linux: this
// file's name).
func TestReviewNoteSaysWhyReadOnly(t *testing.T) {
	l := NewLauncher(context.Background(), t.TempDir(), "")
	for _, c := range []struct {
		name       string
		unwritable func(t testing.TB, disk string)
		want, not  string
	}{
		{"full disk", roomtest.Fill, "read-only: reviews and exports cannot be saved in it: the disk holding %s is full (0 B free): free some room there and open the run again to review or resume it", "copy it where you can write"},
		{"read-only folder", remountReadOnly, "read-only: " + sessions.ErrUnwritable.Error() + "; reviews and exports cannot be saved in it (copy it where you can write)", "disk"},
	} {
		t.Run(c.name, func(t *testing.T) {
			disk := roomtest.SmallDisk(t, "size=512k")
			dir := filepath.Join(disk, "run")
			if _, err := sessions.Import(dir, "../testdata/official/run"); err != nil {
				t.Fatal(err)
			}
			// Closed cleanly: run.lock there and empty.
			r, err := sessions.Open(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			c.unwritable(t, disk)
			s, err := l.OpenForReview(dir)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			defer s.Close()
			want := c.want
			if strings.Contains(want, "%s") {
				want = strings.Replace(want, "%s", dir, 1)
			}
			notes := strings.Join(s.Notes, "\n")
			if !s.IsReadOnly() || !strings.Contains(notes, want) || strings.Contains(notes, c.not) {
				t.Errorf("read-only %v, notes:\n%s\nwant %q, not %q", s.IsReadOnly(), notes, want, c.not)
			}
			// Said once: the full disk's refusal also said to open it
			// read-only meanwhile (rlt open), which it is.
			if n := strings.Count(notes, "read-only"); n != 1 {
				t.Errorf("notes say read-only %d times:\n%s", n, notes)
			}
		})
	}
}

// remountReadOnly makes the tmpfs disk read-only, as a read-only mount of
// runs is.
func remountReadOnly(t testing.TB, disk string) {
	if err := syscall.Mount("", disk, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Fatalf("remount %s read-only: %v", disk, err)
	}
}
