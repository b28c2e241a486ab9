//go:build !linux

package roomtest

import "testing"

func smallDisk(t testing.TB, opts string) string {
	t.Skipf("a small disk (a tmpfs, %s) is mounted on Linux only", opts)
	return ""
}
