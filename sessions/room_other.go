//go:build !linux && !darwin && !freebsd && !windows

package sessions

// diskFree does not know the room free on systems other than Linux,
// macOS, FreeBSD and Windows: their statfs structures differ again
// (OpenBSD's f_bavail, NetBSD's statvfs), and no binary is built for
// them. A run there is not refused before it starts; a full disk is said
// at its first checkpoint (DiskFullError).
func diskFree(string) (int64, bool) { return 0, false }
