//go:build !windows

package durable

import (
	"errors"
	"syscall"
)

// ProcessAlive reports whether a process with this pid exists on this
// machine (one of another user's included: EPERM). A pid of 0 or below
// names no single process (kill(2) reads it as a process group): false.
// A process that has exited and waits to be reaped by its parent (a
// zombie, which kill(2) still finds) runs nothing and holds no lock:
// false where the system says so (exited).
func ProcessAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return (err == nil || errors.Is(err, syscall.EPERM)) && !exited(pid)
}
