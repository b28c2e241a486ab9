//go:build unix

package durable

import (
	"os"
	"syscall"
)

// mountPoint: where the kernel says whether the folder is a mount's root
// (mountRoot: Linux's statx, which sees a bind mount of a folder of the
// same filesystem too), that; elsewhere its device numbers (byDevice).
func mountPoint(path string) (bool, error) {
	fi, err := os.Stat(path) // through a link, as CommitDir renames
	if err != nil || !fi.IsDir() {
		return false, err
	}
	if root, known := mountRoot(path); known {
		return root, nil
	}
	return byDevice(path, fi)
}

// byDevice says whether the folder path (fi, its Stat) is on another
// device than its parent, or is its own parent (the root). A bind mount
// of a folder of the parent's own filesystem shares its device: not seen.
func byDevice(path string, fi os.FileInfo) (bool, error) {
	// path/.. unclean: the kernel's parent, past any link on the way,
	// where filepath.Dir would be the parent as spelled.
	up, err := os.Stat(path + string(os.PathSeparator) + "..")
	if err != nil {
		return false, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	ust, uok := up.Sys().(*syscall.Stat_t)
	if !ok || !uok {
		return false, nil
	}
	return st.Dev != ust.Dev || st.Ino == ust.Ino, nil
}
