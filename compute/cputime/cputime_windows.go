//go:build windows

package cputime

import (
	"time"

	"golang.org/x/sys/windows"
)

// Process is the user and system time the process has used; 0 when the
// system does not say.
func Process() time.Duration {
	var creation, exit, kernel, user windows.Filetime
	if windows.GetProcessTimes(windows.CurrentProcess(), &creation, &exit, &kernel, &user) != nil {
		return 0
	}
	ticks := func(t windows.Filetime) int64 { return int64(t.HighDateTime)<<32 | int64(t.LowDateTime) } // 100 ns each
	return time.Duration(100 * (ticks(kernel) + ticks(user)))
}
