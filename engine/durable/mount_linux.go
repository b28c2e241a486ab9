package durable

import "golang.org/x/sys/unix"

// mountRoot asks statx whether path, through a link, is a mount's root
// (Linux 5.8 and later say so; known is false before, and the device
// numbers decide).
func mountRoot(path string) (root, known bool) {
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, path, unix.AT_NO_AUTOMOUNT, unix.STATX_TYPE, &stx); err != nil {
		return false, false
	}
	if stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT == 0 {
		return false, false
	}
	return stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0, true
}
