//go:build unix && !linux

package durable

// mountRoot: no statx here; the device numbers decide (mountPoint).
func mountRoot(path string) (root, known bool) { return false, false }
