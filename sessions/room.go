package sessions

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/rlt-workbench/rlt/engine/size"
)

// freeSpace is the room free to this process on the filesystem holding
// path, an existing file or folder; ok is false where the system does not
// say (diskFree of this system's file). Tests replace it: a disk of any
// size, without filling one.
var freeSpace = diskFree

// NoRoomError is a run refused before it starts because the disk it
// writes to has less room free than its checkpoints take: found at its
// first checkpoint instead, a whole step would be spent and the run fail
// (DiskFullError). It says how much is free, what a checkpoint and the
// run need, and how much to free.
type NoRoomError struct {
	// Dir is the folder a new run is made in (its runs folder), or the
	// run folder to resume (Resume).
	Dir    string
	Resume bool
	Free   int64 // free on the disk holding Dir
	Need   int64 // the room one checkpoint takes
	// Held is how many checkpoints the run to resume has on the disk
	// already: they take no more room, up to what rotation keeps.
	Held     int
	KeepLast int
	KeepBest bool
	// Records is the room the records written before the first
	// checkpoint take (RecordSteps times the newest step's traces of a run
	// to resume; 0: not known).
	Records     int64
	RecordSteps int
	// Writes is how many checkpoints the run writes at most, its planned
	// steps done (CheckpointsWritten; 0: no end planned): fewer than
	// rotation keeps take only their own room.
	Writes int
}

// CheckpointsWritten is how many checkpoints a run writes running steps
// done to planned-1 (0-based), with a checkpoint after each step s with
// (s+1)%every == 0 (every 0: none) and the final one after the last step
// when that is not one of them: 0 when planned is 0 (no end planned) and
// checkpoints come every so many steps.
func CheckpointsWritten(done, planned, every int) int {
	switch {
	case planned > 0 && planned <= done:
		return 0
	case every <= 0: // the final one alone, planned or not
		return 1
	case planned <= 0:
		return 0
	}
	n := planned/every - done/every
	if planned%every != 0 {
		n++
	}
	return n
}

// held is how many checkpoints take room at once: those rotation keeps
// and the one being written, or the fewer the run writes.
func (e *NoRoomError) held() int {
	held := checkpointsHeld(e.KeepLast, e.KeepBest)
	if e.Writes > 0 {
		held = min(held, e.Held+e.Writes)
	}
	return held
}

// rotation says what held counts.
func (e *NoRoomError) rotation() string {
	if e.held() < checkpointsHeld(e.KeepLast, e.KeepBest) {
		if e.Writes == 1 {
			return "the one checkpoint it writes"
		}
		return fmt.Sprintf("the %d checkpoints it writes", e.Writes)
	}
	return rotationWords(e.KeepLast, e.KeepBest)
}

// More is the room the run needs free: the checkpoints rotation keeps (or
// the fewer it writes) that the run does not have yet and the one being
// written, which takes room however many it has, and the records written
// before its first checkpoint.
func (e *NoRoomError) More() int64 {
	held := e.held()
	more := held - min(e.Held, held-1)
	return e.Need*int64(more) + e.Records
}

func (e *NoRoomError) Error() string {
	records := ""
	switch {
	case e.Records > 0 && e.RecordSteps > 1:
		records = fmt.Sprintf(", and %d steps' traces", e.RecordSteps)
	case e.Records > 0:
		records = ", and a step's traces"
	}
	if e.Resume {
		there := ""
		switch n := min(e.Held, e.held()-1); {
		case e.held() < checkpointsHeld(e.KeepLast, e.KeepBest): // its writes counted, not rotation's
		case n == 1:
			there = " (one of them is there already)"
		case n > 1:
			there = fmt.Sprintf(" (%d of them are there already)", n)
		}
		return fmt.Sprintf("not enough room to resume %s: the disk holding it has %s free, and a checkpoint needs about %s, the run about %s more with %s%s%s; free at least %s there and resume it (the run is unchanged)",
			e.Dir, size.Bytes(e.Free), size.Bytes(e.Need), size.Bytes(e.More()), e.rotation(), there, records, size.Bytes(e.More()-e.Free))
	}
	return fmt.Sprintf("not enough room for a new run in %s: the disk holding it has %s free, and a checkpoint of this run needs about %s, the run about %s with %s%s; free at least %s there, or keep runs on a disk with room: --runs DIR, which the workbench takes when it starts (no run folder was created)",
		e.Dir, size.Bytes(e.Free), size.Bytes(e.Need), size.Bytes(e.More()), e.rotation(), records, size.Bytes(e.More()-e.Free))
}

// CheckRoomForNew refuses a new run to be made in the folder runs (made
// if missing) with the options opts when the disk holding runs has less
// room free than its checkpoints take, each about need bytes
// (TrainerCheckpointSize): the newest opts.KeepLast, the best beside them
// unless opts.NoKeepBest, and the one being written, or the fewer it
// writes (writes: CheckpointsWritten of its plan). A run is not refused
// where the room free or a checkpoint's size is not known.
func CheckRoomForNew(runs string, need int64, writes int, opts Options) error {
	opts = opts.withDefaults()
	e := &NoRoomError{Dir: runs, Need: need, KeepLast: opts.KeepLast, KeepBest: !opts.NoKeepBest, Writes: writes}
	return e.check()
}

// CheckRoomToResume refuses a resume of the run folder dir with the
// options opts when the disk holding it has less room free than the
// checkpoints rotation keeps and the one being written take, beyond the
// checkpoints it has (or the fewer it writes: writes, CheckpointsWritten
// of the steps left), and the traces of the steps before its first
// checkpoint (steps, StepsBeforeCheckpoint; at least one): its newest
// checkpoint says how large one is, its newest trace file what a step
// writes. A folder with no usable checkpoint is not refused here: the
// resume says it has nothing to continue from. It reads state.json of each
// checkpoint (as Checkpoints does), no weights.
func CheckRoomToResume(dir string, writes, steps int, opts Options) error {
	opts = opts.withDefaults()
	cks, err := Checkpoints(dir)
	if err != nil {
		return nil // the resume's opening says what is wrong with the folder
	}
	e := &NoRoomError{Dir: dir, Resume: true, KeepLast: opts.KeepLast, KeepBest: !opts.NoKeepBest, Writes: writes}
	for _, c := range cks {
		if c.Err != nil { // left as it is by rotation: its room is taken already
			continue
		}
		e.Held++
		var sum int64
		for _, n := range c.State.Files {
			sum += n
		}
		e.Need = sum // the newest's, as a full disk's message says it
	}
	if e.Held == 0 {
		return nil
	}
	if files, err := traceFiles(dir); err == nil && len(files) > 0 {
		if fi, err := os.Stat(files[len(files)-1]); err == nil {
			e.RecordSteps = max(steps, 1)
			e.Records = fi.Size() * int64(e.RecordSteps)
		}
	}
	return e.check()
}

// RoomToResume is CheckRoomToResume of the run folder dir as its
// config.toml plans it (steps, checkpoint_every) from its newest usable
// checkpoint, for a caller that has not opened the run: the workbench,
// before it stops the run training there to resume this one. What cannot
// be read refuses nothing (the resume itself says what is wrong).
func RoomToResume(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		return nil
	}
	var plan struct {
		Steps int  `toml:"steps"`
		Every *int `toml:"checkpoint_every"`
	}
	if decodeLoose(data, &plan) != nil {
		return nil
	}
	cks, err := Checkpoints(dir)
	if err != nil {
		return nil
	}
	done := -1
	for _, c := range cks {
		if c.Err == nil {
			done = c.Step + 1
		}
	}
	if done >= 0 && plan.Steps > 0 && plan.Steps <= done {
		return nil // nothing to run: the resume says so
	}
	writes, steps := 0, 1 // rotation's count, one step: not known
	if done >= 0 && plan.Every != nil {
		writes = CheckpointsWritten(done, plan.Steps, *plan.Every)
		steps = StepsBeforeCheckpoint(done, plan.Steps, *plan.Every)
	}
	return CheckRoomToResume(dir, writes, steps, Options{})
}

// StepsBeforeCheckpoint is how many steps a run resumed after done steps
// runs before its first checkpoint (CheckpointsWritten's: after each step s
// with (s+1)%every == 0, and the final one): their traces are written
// before a checkpoint can be. With no end planned and no checkpoint every
// so many steps, 1 (not known).
func StepsBeforeCheckpoint(done, planned, every int) int {
	left := planned - done
	switch {
	case every > 0 && planned > 0:
		return max(min(every-done%every, left), 1)
	case every > 0:
		return every - done%every
	case planned > 0:
		return max(left, 1)
	}
	return 1
}

// check is e, its Free filled in, when the room free is less than the run
// needs; nil when there is room, or when what is free or what a checkpoint
// takes is not known.
func (e *NoRoomError) check() error {
	if e.Need <= 0 {
		return nil
	}
	free, ok := freeSpace(existingDir(e.Dir))
	if !ok || free >= e.More() {
		return nil
	}
	e.Free = free
	return e
}

// existingDir is path or the nearest folder above it that exists: a new
// run's runs folder is made when the run is, on the disk of the folder
// that holds it.
func existingDir(path string) string {
	p := filepath.Clean(path)
	for {
		if _, err := os.Stat(p); err == nil {
			return p
		}
		up := filepath.Dir(p)
		if up == p {
			return p
		}
		p = up
	}
}

// FullDiskError is what a command writes beside the runs (a report, an
// export, a model folder) not fitting the disk that holds it: refused
// before it is written, where the room free is known to be less than it
// needs (Check), or found by its write ("no space left on device": IfFull).
// A run's checkpoints say theirs with the run's rotation (NoRoomError,
// DiskFullError); this is the same wording for one thing written once. It
// says where, the room needed (where known) and free, what the failed work
// left, and what to do: free room there and run the command again, or
// write on another disk. The failed write itself (a temporary file's
// name) is in its chain, not its words.
type FullDiskError struct {
	What string // what is written: "report.html", "the export", "the student"
	Dir  string // the folder it goes in, as the user named it
	// Need is about the room it takes (0: not known).
	Need int64
	// Free is the room free on the disk holding Dir when it was refused
	// or its write failed (FreeKnown false: the system does not say).
	Free      int64
	FreeKnown bool
	// Flag is the flag that says where it goes ("--out") and Names what
	// that flag's value is ("folder", "file"): the way to another disk
	// ("": none, the place is the run's).
	Flag, Names string
	// Again is what to do once there is room ("": run the command again).
	Again string
	// Meanwhile is what can be done until there is room, said after Again
	// in parentheses ("": nothing): where the refusal is read by what
	// already does it (the workbench showing the run read-only), it goes.
	Meanwhile string
	// Left says what is kept of the work that failed ("": nothing was
	// written).
	Left string
	Err  error // the write that failed (nil: refused before writing)
}

// Check is e, its Free filled in, when the disk holding e.Dir (or the
// nearest folder above it that exists: one made for the write) has less
// room free than e.Need; nil when there is room or either is not known.
func (e FullDiskError) Check() error {
	if e.Need <= 0 {
		return nil
	}
	free, ok := freeSpace(existingDir(e.Dir))
	if !ok || free >= e.Need {
		return nil
	}
	e.Free, e.FreeKnown = free, true
	return &e
}

// IfFull is err said as e when it is a full disk's (ENOSPC), with the room
// free now (the failed write's temporary file removed), else err as it
// is.
func (e FullDiskError) IfFull(err error) error {
	if !errors.Is(err, syscall.ENOSPC) {
		return err
	}
	e.Err = err
	e.Free, e.FreeKnown = freeSpace(existingDir(e.Dir))
	return &e
}

func (e *FullDiskError) Error() string {
	again := "run the command again"
	if e.Again != "" {
		again = e.Again
	}
	if e.Meanwhile != "" {
		again += " (" + e.Meanwhile + ")"
	}
	elsewhere := ""
	if e.Flag != "" {
		elsewhere = fmt.Sprintf(", or give %s a %s on a disk with room", e.Flag, e.Names)
	}
	left := " (nothing was written)"
	if e.Left != "" {
		left = "; " + e.Left
	}
	free := ""
	if e.FreeKnown {
		free = size.Bytes(e.Free) + " free"
	}
	switch {
	case e.Need > 0 && e.FreeKnown && e.Free < e.Need:
		return fmt.Sprintf("not enough room for %s in %s: the disk holding it has %s, and %s needs about %s; free at least %s there and %s%s%s",
			e.What, e.Dir, free, e.What, size.Bytes(e.Need), size.Bytes(e.Need-e.Free), again, elsewhere, left)
	case e.Need > 0 && e.FreeKnown: // the write found less than the disk says (its blocks, its files)
		return fmt.Sprintf("the disk holding %s is full: %s needs about %s, and the write found no room left although the disk says %s (it may have no file left to make: df -i); free more room there and %s%s%s",
			e.Dir, e.What, size.Bytes(e.Need), free, again, elsewhere, left)
	case e.Need > 0:
		return fmt.Sprintf("the disk holding %s is full: %s needs about %s; free that much there and %s%s%s",
			e.Dir, e.What, size.Bytes(e.Need), again, elsewhere, left)
	case e.FreeKnown:
		return fmt.Sprintf("the disk holding %s is full (%s): free some room there and %s%s%s", e.Dir, free, again, elsewhere, left)
	}
	return fmt.Sprintf("the disk holding %s is full: free some room there and %s%s%s", e.Dir, again, elsewhere, left)
}

func (e *FullDiskError) Unwrap() error { return e.Err }
