//go:build windows

package sessions

import "golang.org/x/sys/windows"

// diskFree asks GetDiskFreeSpaceExW for the room free to this process's
// user (its quota, where one is set) on the volume holding path.
func diskFree(path string) (int64, bool) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return 0, false
	}
	var avail, total, free uint64
	if err := windows.GetDiskFreeSpaceEx(p, &avail, &total, &free); err != nil {
		return 0, false
	}
	if avail > 1<<62 { // no disk is so large: not a number to compare with
		return 0, false
	}
	return int64(avail), true
}
