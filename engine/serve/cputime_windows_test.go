//go:build windows

package serve

import (
	"time"

	"golang.org/x/sys/windows"
)

// processCPU is the user and system time the process has used (as
// compute's tests read it): the benchmarks' cpu-ms/op.
func processCPU() time.Duration {
	var creation, exit, kernel, user windows.Filetime
	if windows.GetProcessTimes(windows.CurrentProcess(), &creation, &exit, &kernel, &user) != nil {
		return 0
	}
	ticks := func(t windows.Filetime) int64 { return int64(t.HighDateTime)<<32 | int64(t.LowDateTime) } // 100 ns each
	return time.Duration(100 * (ticks(kernel) + ticks(user)))
}
