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
func TestBuildsForOtherSystems(t *testing.T) {
	for _, goos := range []string{"windows", "darwin"} {
		if goos == runtime.GOOS {
			continue
		}
		t.Run(goos, func(t *testing.T) {
			cmd := exec.Command("go", "vet", "./...")
			cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=amd64", "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("GOOS=%s go vet ./...: %v\n%s", goos, err, out)
			}
		})
	}
}
