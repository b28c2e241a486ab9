package sessions

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/rlt-workbench/rlt/engine/size"
)

// withFree makes freeSpace say free (ok: known) for the rest of the test,
// and records the paths it was asked about.
func withFree(t *testing.T, free int64, ok bool) *[]string {
	t.Helper()
	asked := &[]string{}
	was := freeSpace
	freeSpace = func(path string) (int64, bool) {
		*asked = append(*asked, path)
		return free, ok
	}
	t.Cleanup(func() { freeSpace = was })
	return asked
}

// The systems rlt is built for say how much room a folder's disk has free.
func TestDiskFreeOfARealDisk(t *testing.T) {
	switch runtime.GOOS {
	case "linux", "darwin", "freebsd", "windows":
	default:
		t.Skipf("%s: the room free is not known (room_other.go)", runtime.GOOS)
	}
	free, ok := diskFree(t.TempDir())
	if !ok || free <= 0 {
		t.Errorf("diskFree of a temporary folder: %d, %v; want the room its disk has free", free, ok)
	}
	if _, ok := diskFree(filepath.Join(t.TempDir(), "missing")); ok {
		t.Error("diskFree of a missing folder says a size")
	}
}

// A new run is refused when its disk has less room free than the
// checkpoints rotation keeps, the best beside them and the one being
// written; not when it has room, nor when what is free is not known.
func TestCheckRoomForNew(t *testing.T) {
	const mib = 1 << 20
	parent := t.TempDir()
	runs := filepath.Join(parent, "runs") // not made yet: the disk of the folder above is asked
	for _, c := range []struct {
		name  string
		need  int64
		opts  Options
		free  int64
		known bool
		want  string // "": not refused
	}{
		{"room", mib, Options{}, 5 * mib, true, ""},
		{"full", mib, Options{}, 5*mib - 1, true, "not enough room for a new run in " + runs + ": the disk holding it has 5.0 MiB free, and a checkpoint of this run needs about 1.0 MiB, the run about 5.0 MiB with rotation keeping 3 and the best, plus the one being written; free at least 1 B there, or give --runs a folder on a disk with room (no run folder was created)"},
		{"nearly empty", 13 * mib, Options{}, 640 << 10, true, "the disk holding it has 640.0 KiB free, and a checkpoint of this run needs about 13.0 MiB, the run about 65.0 MiB with rotation keeping 3 and the best, plus the one being written; free at least 64.4 MiB there"},
		{"no best kept", mib, Options{KeepLast: 1, NoKeepBest: true}, 2 * mib, true, ""},
		{"no best kept, full", mib, Options{KeepLast: 1, NoKeepBest: true}, 2*mib - 1, true, "the run about 2.0 MiB with rotation keeping 1 plus the one being written"},
		{"free not known", mib, Options{}, 0, false, ""},
		{"size not known", 0, Options{}, 0, true, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			asked := withFree(t, c.free, c.known)
			err := CheckRoomForNew(runs, c.need, c.opts)
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var nr *NoRoomError
			if !errors.As(err, &nr) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%v\nwant a NoRoomError saying %q", err, c.want)
			}
			if len(*asked) != 1 || (*asked)[0] != parent {
				t.Errorf("asked the room free of %q, want %q (the folder runs will be made in)", *asked, parent)
			}
		})
	}
}

// A resume needs room for the checkpoints rotation keeps that the run does
// not have yet, the one being written, and a step's traces: its newest
// checkpoint says how large one is.
func TestCheckRoomToResume(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := mustCreate(t, dir, Options{})
	var need int64
	for step := range 2 {
		ck, err := r.SaveCheckpoint(step, saveFake(step), CheckpointState{MeanReward: reward(float64(step))})
		if err != nil {
			t.Fatal(err)
		}
		need = 0
		for _, n := range ck.State.Files {
			need += n
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	traces := make([]byte, 1000)
	if err := os.WriteFile(traceFileName(dir, 1), traces, 0o644); err != nil {
		t.Fatal(err)
	}
	// 3 newest and the best, 2 there: 2 more and the one being written.
	more := 3*need + int64(len(traces))
	for _, c := range []struct {
		name  string
		dir   string
		free  int64
		known bool
		want  string // "": not refused
	}{
		{"room", dir, more, true, ""},
		{"full", dir, more - 1, true, "not enough room to resume " + dir + ": the disk holding it has " + size.Bytes(more-1) + " free, and a checkpoint needs about " + size.Bytes(need) + ", the run about " + size.Bytes(more) + " more with rotation keeping 3 and the best, plus the one being written (2 of them are there already), and a step's traces; free at least 1 B there and resume it (the run is unchanged)"},
		{"free not known", dir, 0, false, ""},
		{"no checkpoint: the resume says so", t.TempDir(), 0, true, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			withFree(t, c.free, c.known)
			err := CheckRoomToResume(c.dir, Options{})
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var nr *NoRoomError
			if !errors.As(err, &nr) || err.Error() != c.want {
				t.Fatalf("%v\nwant a NoRoomError saying %q", err, c.want)
			}
		})
	}
}

// A run holding as many checkpoints as rotation keeps needs room for the
// one being written alone.
func TestNoRoomErrorMore(t *testing.T) {
	for _, c := range []struct {
		e    NoRoomError
		want int64
	}{
		{NoRoomError{Need: 10, KeepLast: 3, KeepBest: true}, 50},
		{NoRoomError{Need: 10, KeepLast: 3}, 40},
		{NoRoomError{Need: 10, KeepLast: 3, KeepBest: true, Held: 2}, 30},
		{NoRoomError{Need: 10, KeepLast: 3, KeepBest: true, Held: 4}, 10},
		{NoRoomError{Need: 10, KeepLast: 3, KeepBest: true, Held: 9}, 10},
		{NoRoomError{Need: 10, KeepLast: 1, Held: 1, Records: 3}, 13},
	} {
		if got := c.e.More(); got != c.want {
			t.Errorf("%+v: More %d, want %d", c.e, got, c.want)
		}
	}
}
