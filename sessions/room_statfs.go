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
func diskFree(path string) (int64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
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
