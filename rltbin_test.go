package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// The tests that run rlt as its own process (signals, a closed pipe,
// kills, a terminal) share one binary, built once per test process: each
// built its own, a link of the whole program apiece.
var rltBuild struct {
	once     sync.Once
	dir, bin string
	err      error
}

// TestMain removes the shared binary once the tests are done.
func TestMain(m *testing.M) {
	code := m.Run()
	if rltBuild.dir != "" {
		os.RemoveAll(rltBuild.dir)
	}
	os.Exit(code)
}

// buildRLT puts the rlt binary of this package, built on the first call,
// at dir/rlt and returns its path: a hard link (a copy across file
// systems), so that each test's binary has its own path, by which a test
// tells its processes from other tests' (tmuxHarness.running reads
// /proc/PID/exe).
func buildRLT(t *testing.T, dir string) string {
	t.Helper()
	rltBuild.once.Do(func() {
		d, err := os.MkdirTemp("", "rlt-test-bin-")
		if err != nil {
			rltBuild.err = err
			return
		}
		rltBuild.dir = d
		bin := filepath.Join(d, "rlt")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			rltBuild.err = fmt.Errorf("%v\n%s", err, out)
			return
		}
		rltBuild.bin = bin
	})
	if rltBuild.err != nil {
		t.Fatalf("build: %v", rltBuild.err)
	}
	bin := filepath.Join(dir, "rlt")
	if err := os.Link(rltBuild.bin, bin); err != nil {
		if err := copyExecutable(rltBuild.bin, bin); err != nil {
			t.Fatalf("putting the rlt binary in %s: %v", dir, err)
		}
	}
	return bin
}

func copyExecutable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// binaryRun is the set-up of a test that runs the rlt binary on a small
// run as its own process: a temporary folder holding the binary
// (buildRLT) and a configuration file, and the process's environment,
// its model cache in that folder (the embedded models unpacked anew, as
// on a first run).
type binaryRun struct {
	dir, bin, config string
	env              []string
}

// newBinaryRun sets up a binaryRun whose configuration file says config.
func newBinaryRun(t *testing.T, config string) binaryRun {
	t.Helper()
	dir := t.TempDir()
	r := binaryRun{dir: dir, bin: buildRLT(t, dir), config: filepath.Join(dir, "small.toml"),
		env: append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))}
	if err := os.WriteFile(r.config, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return r
}
