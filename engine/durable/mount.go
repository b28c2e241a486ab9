package durable

// IsMountPoint reports whether path is a folder that a filesystem is
// mounted on. A folder is put in place by renaming a staged one onto it
// (CommitDir), which the system refuses for a mount point (EBUSY), so a
// command asked to write its folder there is told before its work, not
// by a failed rename after it. A link is followed: a folder is written
// through a link to a folder (CommitDir), onto the folder it points to.
// A file is never a mount point here.
// Where the system cannot tell (no device numbers: Windows), the error is
// errors.ErrUnsupported.
func IsMountPoint(path string) (bool, error) { return mountPoint(path) }
