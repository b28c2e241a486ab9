package sessions

import (
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// folderTree is what a Lister read of the folders of a run folder, to sum
// the run's size (RunSummary.Size) exactly as FolderSize does without
// reading every folder again on each listing.
//
// What it keeps is each folder's entries: its regular files and its
// folders. A folder gains, loses or renames an entry only by a change that
// stamps it (dirStamp: its change time, which also moves on a chmod that
// makes it unreadable to FolderSize's walk), so a folder whose stamp and
// identity are those it had when read has the same entries. The files'
// sizes are not kept: a file grows in place without stamping its folder (a
// log appended, a checkpoint's file rewritten), so each file is stat'ed on
// every listing, as FolderSize does, but for those the caller stat'ed just
// before (the logs the Lister reads, config.toml). What is saved is each
// folder's open, read and close; on Linux only, where the change time is
// at hand (dirStamp), and elsewhere every folder is read again.
//
// A folder changed within racyWindow of being read is read again on the
// next listing: timestamps come from a clock that ticks coarsely (a few
// milliseconds; a second or two on some filesystems), so an entry added
// just after the read, in the same tick, would leave the stamp as it was
// (git's index has the same "racily clean" entries).
type folderTree struct {
	info  fs.FileInfo // the folder when its entries were read (identity: os.SameFile)
	stamp dirStamp
	// kept: the entries may stand for the folder while its stamp does
	// (false: they were read with an error, or within racyWindow of a
	// change, and are read again).
	kept  bool
	files []string               // names of its regular files
	dirs  map[string]*folderTree // its folders (nil: not read yet)
}

// stampOf is a folder's stamp as the system gives it; tests coarsen it to
// a filesystem's whole seconds.
var stampOf = osStamp

// racyWindow is how long after a folder's last change a read of it may
// have missed a change that left its stamp as it was: the coarse clock's
// tick plus the filesystem's timestamp granularity (2 s on FAT), with room.
var racyWindow = 3 * time.Second

// size is the size of the regular files under dir, as FolderSize(dir),
// and what was read of its folders for the next call (old: the last
// call's; nil: none). known gives the size of a regular file directly in
// dir that the caller stat'ed just before (ok false: not known); reads
// counts the folders read.
func (old *folderTree) size(dir string, known func(name string) (int64, bool), reads *int) (int64, *folderTree) {
	return old.sizeAt(dir, known, time.Now(), reads)
}

func (old *folderTree) sizeAt(dir string, known func(string) (int64, bool), now time.Time, reads *int) (int64, *folderTree) {
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() {
		// FolderSize of a file is its size, of nothing 0 (the walk's
		// first Lstat); a folder replaced by a file keeps no tree.
		if err == nil && fi.Mode().IsRegular() {
			return fi.Size(), nil
		}
		return 0, nil
	}
	stamp, stamped := stampOf(fi)
	t := old
	if t == nil || !t.kept || !stamped || t.stamp != stamp || !os.SameFile(t.info, fi) {
		t = &folderTree{info: fi, stamp: stamp}
		entries, rerr := os.ReadDir(dir) // with an error, the entries read before it: the walk's too
		*reads++
		t.kept = rerr == nil && stamped && stamp.before(now.Add(-racyWindow))
		for _, e := range entries {
			switch {
			case e.Type().IsRegular():
				t.files = append(t.files, e.Name())
			case e.IsDir():
				if t.dirs == nil {
					t.dirs = map[string]*folderTree{}
				}
				var sub *folderTree
				if old != nil {
					sub = old.dirs[e.Name()] // what was read below it still counts if its stamp holds
				}
				t.dirs[e.Name()] = sub
			}
		}
	}
	var n int64
	for _, name := range t.files {
		if known != nil {
			if sz, ok := known(name); ok {
				n += sz
				continue
			}
		}
		if fi, err := os.Lstat(filepath.Join(dir, name)); err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
	}
	for name, sub := range t.dirs {
		sz, next := sub.sizeAt(filepath.Join(dir, name), nil, now, reads)
		n += sz
		t.dirs[name] = next
	}
	return n, t
}
