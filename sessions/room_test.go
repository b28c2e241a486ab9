package sessions

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
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
// refusedFor checks err against want: nil where want is "", else a
// NoRoomError saying want. It reports whether the check was a refusal.
func refusedFor(t *testing.T, err error, want string) bool {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		return false
	}
	var nr *NoRoomError
	if !errors.As(err, &nr) || !strings.Contains(err.Error(), want) {
		t.Fatalf("%v\nwant a NoRoomError saying %q", err, want)
	}
	return true
}

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
	if runtime.GOOS == "linux" { // proc counts no blocks: its 0 free is no room to free
		if free, ok := diskFree("/proc"); ok {
			t.Errorf("diskFree of /proc: %d, %v; want not known", free, ok)
		}
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
		name   string
		need   int64
		writes int // 0: no end planned
		opts   Options
		free   int64
		known  bool
		want   string // "": not refused
	}{
		{"room", mib, 0, Options{}, 5 * mib, true, ""},
		{"a run of one checkpoint", mib, 1, Options{}, mib, true, ""},
		{"a run of one checkpoint, full", mib, 1, Options{}, mib - 1, true, "the run about 1.0 MiB with the one checkpoint it writes; free at least 1 B there"},
		{"a run of two checkpoints, full", mib, 2, Options{}, 2*mib - 1, true, "the run about 2.0 MiB with the 2 checkpoints it writes"},
		{"more checkpoints than rotation keeps", mib, 40, Options{}, 5*mib - 1, true, "the run about 5.0 MiB with rotation keeping 3 and the best"},
		{"full", mib, 0, Options{}, 5*mib - 1, true, "not enough room for a new run in " + runs + ": the disk holding it has 5.0 MiB free, and a checkpoint of this run needs about 1.0 MiB, the run about 5.0 MiB with rotation keeping 3 and the best, plus the one being written; free at least 1 B there, or keep runs on a disk with room: --runs DIR, which the workbench takes when it starts (no run folder was created)"},
		{"nearly empty", 13 * mib, 0, Options{}, 640 << 10, true, "the disk holding it has 640.0 KiB free, and a checkpoint of this run needs about 13.0 MiB, the run about 65.0 MiB with rotation keeping 3 and the best, plus the one being written; free at least 64.4 MiB there"},
		{"no best kept", mib, 0, Options{KeepLast: 1, NoKeepBest: true}, 2 * mib, true, ""},
		{"no best kept, full", mib, 0, Options{KeepLast: 1, NoKeepBest: true}, 2*mib - 1, true, "the run about 2.0 MiB with rotation keeping 1 plus the one being written"},
		{"free not known", mib, 0, Options{}, 0, false, ""},
		{"size not known", 0, 0, Options{}, 0, true, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			asked := withFree(t, c.free, c.known)
			if !refusedFor(t, CheckRoomForNew(runs, c.need, c.writes, c.opts), c.want) {
				return
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
		name   string
		dir    string
		writes int // 0: no end planned
		steps  int // before the first checkpoint
		free   int64
		known  bool
		want   string // "": not refused
	}{
		{"room", dir, 0, 1, more, true, ""},
		// One step left: its checkpoint beside the two there, and a step's traces.
		{"one checkpoint left to write", dir, 1, 1, need + int64(len(traces)), true, ""},
		// Four steps' traces before its first checkpoint (checkpoint_every 4).
		{"four steps' traces first", dir, 1, 4, need + 4*int64(len(traces)) - 1, true, "the run about " + size.Bytes(need+4*int64(len(traces))) + " more with the one checkpoint it writes, and 4 steps' traces; free at least 1 B there"},
		{"one checkpoint left to write, full", dir, 1, 1, need + int64(len(traces)) - 1, true, "not enough room to resume " + dir + ": the disk holding it has " + size.Bytes(need+int64(len(traces))-1) + " free, and a checkpoint needs about " + size.Bytes(need) + ", the run about " + size.Bytes(need+int64(len(traces))) + " more with the one checkpoint it writes, and a step's traces; free at least 1 B there and resume it (the run is unchanged)"},
		{"full", dir, 0, 1, more - 1, true, "not enough room to resume " + dir + ": the disk holding it has " + size.Bytes(more-1) + " free, and a checkpoint needs about " + size.Bytes(need) + ", the run about " + size.Bytes(more) + " more with rotation keeping 3 and the best, plus the one being written (2 of them are there already), and a step's traces; free at least 1 B there and resume it (the run is unchanged)"},
		{"free not known", dir, 0, 1, 0, false, ""},
		{"no checkpoint: the resume says so", t.TempDir(), 0, 1, 0, true, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			withFree(t, c.free, c.known)
			refusedFor(t, CheckRoomToResume(c.dir, c.writes, c.steps, Options{}), c.want)
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

// CheckpointsWritten counts the checkpoints of steps done..planned-1: those
// after each step s with (s+1)%every == 0, and the final one unless it is
// one of them.
func TestCheckpointsWritten(t *testing.T) {
	for _, c := range []struct{ done, planned, every, want int }{
		{0, 0, 1, 0},     // no end planned
		{4, 0, 0, 1},     // no end planned, the final one alone
		{3, 3, 1, 0},     // nothing left
		{0, 1, 1, 1},     // step 0
		{0, 20, 1, 20},   // every step
		{0, 20, 0, 1},    // the final one only
		{0, 3, 2, 2},     // after step 1, and the final after step 2
		{0, 4, 2, 2},     // after steps 1 and 3 (the final)
		{2, 4, 3, 2},     // after step 2, and the final after step 3
		{1, 3, 3, 1},     // after step 2, the final one
		{5, 105, 10, 11}, // after steps 9, 19, …, 99, and the final after step 104
	} {
		if got := CheckpointsWritten(c.done, c.planned, c.every); got != c.want {
			t.Errorf("CheckpointsWritten(%d, %d, %d) = %d, want %d", c.done, c.planned, c.every, got, c.want)
		}
	}
}

// RoomToResume reads the plan from config.toml and the steps done from the
// newest checkpoint: a run with two steps left asks room for their two
// checkpoints; one with nothing left, or with no checkpoint, or no plan
// file, is left to the resume to say.
func TestRoomToResume(t *testing.T) {
	const planned = 3
	dir := filepath.Join(t.TempDir(), "run")
	r, err := CreateWith(dir, &struct {
		Steps int `toml:"steps"`
		Every int `toml:"checkpoint_every"`
	}{planned, 1}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ck, err := r.SaveCheckpoint(0, saveFake(0), CheckpointState{MeanReward: reward(0)})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	var need int64
	for _, n := range ck.State.Files {
		need += n
	}
	withFree(t, 2*need-1, true)
	err = RoomToResume(dir)
	if nr := (*NoRoomError)(nil); !errors.As(err, &nr) || nr.Writes != planned-1 || !strings.Contains(err.Error(), "with the 2 checkpoints it writes") {
		t.Errorf("two steps left, room for one checkpoint: %v; want a NoRoomError for the 2 it writes", err)
	}
	withFree(t, 2*need, true)
	if err := RoomToResume(dir); err != nil {
		t.Errorf("two steps left, room for two checkpoints: %v", err)
	}
	withFree(t, 0, true)
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte("steps = 1\ncheckpoint_every = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := RoomToResume(dir); err != nil {
		t.Errorf("nothing left to run: %v; want it left to the resume", err)
	}
	for _, other := range []string{t.TempDir(), filepath.Join(t.TempDir(), "missing")} {
		if err := RoomToResume(other); err != nil {
			t.Errorf("RoomToResume(%s) = %v; want nothing refused", other, err)
		}
	}
}

// StepsBeforeCheckpoint: the steps a resumed run writes traces for before
// its first checkpoint.
func TestStepsBeforeCheckpoint(t *testing.T) {
	for _, c := range []struct{ done, planned, every, want int }{
		{1, 10, 1, 1},
		{1, 10, 4, 3},  // steps 1, 2, 3: checkpoint after step 3
		{4, 10, 4, 4},  // steps 4–7
		{8, 10, 4, 2},  // steps 8, 9: the final one
		{3, 0, 5, 2},   // no end planned
		{3, 10, 0, 7},  // the final one alone
		{3, 0, 0, 1},   // neither: not known
		{10, 10, 3, 1}, // nothing left: the resume says so
	} {
		if got := StepsBeforeCheckpoint(c.done, c.planned, c.every); got != c.want {
			t.Errorf("StepsBeforeCheckpoint(%d, %d, %d) = %d, want %d", c.done, c.planned, c.every, got, c.want)
		}
	}
}

// TestFullDiskSaysWhereAndWhatToDo: a command's output that does not fit
// its disk is said in one wording, refused before writing (Check) or found
// by the write (IfFull): the folder, the room needed and free, what to free,
// the flag to another disk, and what was left; the failed write (a
// temporary file's name) stays in the chain, out of the words.
func TestFullDiskSaysWhereAndWhatToDo(t *testing.T) {
	full := &os.PathError{Op: "write", Path: "/d/out/.report.html.tmp-1-2", Err: syscall.ENOSPC}
	report := FullDiskError{What: "report.html", Dir: "/d/out", Need: 50 << 10, Flag: "--out", Names: "folder"}
	kept := report
	kept.Left = "/d/out/rows.jsonl keeps the rows"
	unknown := report
	unknown.Need = 0
	for _, tc := range []struct {
		name   string
		free   int64
		known  bool
		err    func() error
		want   string // "": no error
		ofDisk bool   // the error is a full disk's, ENOSPC in its chain
	}{
		{"check: no room", 10 << 10, true, report.Check,
			"not enough room for report.html in /d/out: the disk holding it has 10.0 KiB free, and report.html needs about 50.0 KiB; free at least 40.0 KiB there and run the command again, or give --out a folder on a disk with room (nothing was written)", false},
		{"check: room", 50 << 10, true, report.Check, "", false},
		{"check: free not known", 0, false, report.Check, "", false},
		{"check: size not known", 0, true, unknown.Check, "", false},
		{"write: no room", 0, true, func() error { return report.IfFull(full) },
			"not enough room for report.html in /d/out: the disk holding it has 0 B free, and report.html needs about 50.0 KiB; free at least 50.0 KiB there and run the command again, or give --out a folder on a disk with room (nothing was written)", true},
		{"write: less than the disk says", 1 << 20, true, func() error { return report.IfFull(full) },
			"the disk holding /d/out is full: report.html needs about 50.0 KiB, and the write found no room left although the disk says 1.0 MiB free (it may have no file left to make: df -i); free more room there and run the command again, or give --out a folder on a disk with room (nothing was written)", true},
		{"write: free not known", 0, false, func() error { return report.IfFull(full) },
			"the disk holding /d/out is full: report.html needs about 50.0 KiB; free that much there and run the command again, or give --out a folder on a disk with room (nothing was written)", true},
		{"write: size not known", 0, true, func() error { return unknown.IfFull(full) },
			"the disk holding /d/out is full (0 B free): free some room there and run the command again, or give --out a folder on a disk with room (nothing was written)", true},
		{"write: something kept", 0, true, func() error { return kept.IfFull(full) },
			"…; free at least 50.0 KiB there and run the command again, or give --out a folder on a disk with room; /d/out/rows.jsonl keeps the rows", true},
		{"write: another failure", 0, true, func() error { return report.IfFull(os.ErrPermission) }, os.ErrPermission.Error(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			withFree(t, tc.free, tc.known)
			err := tc.err()
			switch {
			case tc.want == "":
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			case err == nil:
				t.Fatalf("no error; want %q", tc.want)
			}
			got := err.Error()
			if rest, ok := strings.CutPrefix(tc.want, "…"); ok && !strings.HasSuffix(got, rest) || !ok && got != tc.want {
				t.Errorf("%s\nwant %s", got, tc.want)
			}
			if strings.Contains(got, ".tmp-") {
				t.Errorf("%s: names the temporary file", got)
			}
			if errors.Is(err, syscall.ENOSPC) != tc.ofDisk {
				t.Errorf("errors.Is(err, ENOSPC) = %v, want %v", !tc.ofDisk, tc.ofDisk)
			}
		})
	}
}
