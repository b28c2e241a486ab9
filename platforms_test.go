package main

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
)

// TestBuildsForOtherSystems type-checks every package, tests included, for
// Windows and macOS (go vet with GOOS set): the run folder's locks, fsyncs
// and followed logs, and the benchmarks' CPU clocks, have a file per
// system, and a change that builds only here would leave those users
// without a binary. Running there is checked by hand (under Wine: see
// docs/reliability.md); this keeps the build from breaking between times.
// So for Linux on 386 (an int of 32 bits, as on arm: math.MaxInt64 as an
// int, or a test's 3000000000, did not build there) and on arm64.
func TestBuildsForOtherSystems(t *testing.T) {
	for _, sys := range []struct{ goos, goarch string }{
		{"windows", "amd64"}, {"darwin", "amd64"}, {"linux", "386"}, {"linux", "arm64"},
	} {
		if sys.goos == runtime.GOOS && sys.goarch == runtime.GOARCH {
			continue
		}
		t.Run(sys.goos+"/"+sys.goarch, func(t *testing.T) {
			cmd := exec.Command("go", "vet", "./...")
			cmd.Env = append(os.Environ(), "GOOS="+sys.goos, "GOARCH="+sys.goarch, "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("GOOS=%s GOARCH=%s go vet ./...: %v\n%s", sys.goos, sys.goarch, err, out)
			}
		})
	}
}
