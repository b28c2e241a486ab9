//go:build linux || darwin || freebsd

package sessions

import (
	"math"
	"syscall"
)

// diskFree asks statfs(2) for the room free on the filesystem holding
// path: the blocks free to a user without privileges (Bavail, not Bfree,
// which counts the blocks reserved for root: a run writes as its user)
// times the size of the blocks they count (statfsBlock). The fields'
// types differ by system (Linux:
// uint64 blocks of int64 bytes, int32 on 32-bit; macOS: uint64 of uint32;
// FreeBSD: int64, negative once the reserve is in use, of uint64), so
// both are converted to int64 here.
//
// A filesystem that counts no blocks (proc, sysfs: it holds no files'
// data) or is mounted read-only (a squashfs image, a full disk remounted
// ro) says 0 free, which is no room to free: not known, so that the
// write says what stops it ("read-only file system", "no such file or
// directory") where "not enough room … free at least 3 KiB there" sent
// the user to free room no freeing could make. ST_RDONLY (Linux's
// f_flags) and MNT_RDONLY (macOS's and FreeBSD's f_flags) are both 1.
func diskFree(path string) (int64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, false
	}
	if st.Blocks == 0 || st.Flags&1 != 0 {
		return 0, false
	}
	avail, bsize := int64(st.Bavail), statfsBlock(&st)
	switch {
	case bsize <= 0:
		return 0, false
	case avail <= 0:
		return 0, true
	case avail > math.MaxInt64/bsize:
		return math.MaxInt64, true
	}
	return avail * bsize, true
}
