//go:build darwin || freebsd

package sessions

import "syscall"

// statfsBlock is the size of the blocks statfs counts on macOS and
// FreeBSD: f_bsize (their f_iosize is the transfer size).
func statfsBlock(st *syscall.Statfs_t) int64 { return int64(st.Bsize) }
