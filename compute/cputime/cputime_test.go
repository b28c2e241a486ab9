package cputime

import "testing"

// TestProcessCounts: the time read is the CPU used so far, and it grows
// while the process computes, so a benchmark's CPU figure is not 0.
func TestProcessCounts(t *testing.T) {
	start := Process()
	if start <= 0 {
		t.Fatalf("Process() = %v in a running test; want the CPU time used so far (> 0)", start)
	}
	x := uint64(1)
	for range 1 << 14 { // at most about 1e9 steps: seconds of CPU
		if Process() != start {
			return
		}
		for range 1 << 16 {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	t.Errorf("Process() stayed %v over about 1e9 steps of computing (x %d)", start, x)
}
