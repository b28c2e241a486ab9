// Package roomtest gives tests a small disk of their own, on which the
// room checks and full-disk messages of sessions (room.go) and of the
// commands that write outputs are exercised for real, without filling the
// machine's disk.
package roomtest

import "testing"

// SmallDisk mounts a tmpfs with the mount options opts ("size=64k",
// "size=8m,nr_inodes=4") on a new folder for the rest of the test and
// returns the folder. It skips the test where it cannot: not Linux, not
// root, or a mount the system refuses.
func SmallDisk(t testing.TB, opts string) string {
	t.Helper()
	return smallDisk(t, opts)
}
