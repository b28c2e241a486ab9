package durable

import (
	"os"
	"testing"
)

// TestProcessAlive: this process runs; a pid no process has does not, nor
// one of 0 or below, which names no single process (kill(2) reads 0 as
// this process's group and -1 as every process it may signal: both
// answered alive).
func TestProcessAlive(t *testing.T) {
	for _, c := range []struct {
		name string
		pid  int
		want bool
	}{
		{"this process", os.Getpid(), true},
		// Linux's pids stay below 1<<22 (PID_MAX_LIMIT), and 4194301 was
		// one of them where pid_max is that high (systemd sets it so);
		// Windows' are multiples of 4.
		{"above any pid_max", 1<<22 + 1, false},
		{"0", 0, false},
		{"-1", -1, false},
	} {
		if got := ProcessAlive(c.pid); got != c.want {
			t.Errorf("%s: ProcessAlive(%d) %v, want %v", c.name, c.pid, got, c.want)
		}
	}
}
