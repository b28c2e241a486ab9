package sessions

import "syscall"

// statfsBlock is the size of the blocks Linux's statfs counts: the
// fragment size where the filesystem gives one (NFS, Lustre: f_bsize is
// then its preferred transfer size, up to megabytes), as statvfs(3) and
// df read it.
func statfsBlock(st *syscall.Statfs_t) int64 {
	if st.Frsize > 0 {
		return int64(st.Frsize)
	}
	return int64(st.Bsize)
}
