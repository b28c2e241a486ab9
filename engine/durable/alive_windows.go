//go:build windows

package durable

import "os"

// ProcessAlive reports whether a process with this pid exists on this
// machine: Windows' FindProcess opens it, and fails when there is none. A
// pid of 0 or below names no process of a writer: false.
func ProcessAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	p.Release()
	return true
}
