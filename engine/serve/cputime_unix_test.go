//go:build unix

package serve

import (
	"syscall"
	"time"
)

// processCPU is the user and system time the process has used (as
// compute's tests read it): the benchmarks' cpu-ms/op.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
