package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/durable"
)

// The tests that run rlt as its own process (signals, a closed pipe,
// kills, a terminal) share one binary, built once per test process: each
// built its own, a link of the whole program apiece.
var rltBuild struct {
	once     sync.Once
	dir, bin string
	err      error
}

// rltBinPrefix names the shared binary's folder in the temporary folder,
// followed by the pid of the test process that made it and a random part.
const rltBinPrefix = "rlt-test-bin-"

// TestMain removes the shared binary once the tests are done, failed ones
// included. A process that does not get there (a test's panic, -timeout's,
// a kill) leaves its folder, which the next run removes (removeStaleBins),
// and its tmux sockets, which the next run removes too
// (removeStaleTmuxSockets); the hard links in the tests' t.TempDir
// folders, left as well, are no one's to remove.
func TestMain(m *testing.M) {
	removeStaleBins(os.TempDir(), time.Hour)
	removeStaleTmuxSockets(tmuxSocketDir())
	code := m.Run()
	if rltBuild.dir != "" {
		os.RemoveAll(rltBuild.dir)
	}
	os.Exit(code)
}

// removeStaleBins removes the shared binary folders in tmp whose test
// process is gone and that are older than age. The age keeps off the
// folder of a live run that this one cannot see (another pid namespace
// sharing tmp), which a whole run of the package does not outlast; a pid
// reused by another process keeps its folder until a later run. A folder
// named before the pid was in it (its random part read as one) goes too.
func removeStaleBins(tmp string, age time.Duration) {
	entries, _ := os.ReadDir(tmp)
	for _, e := range entries {
		rest, ours := strings.CutPrefix(e.Name(), rltBinPrefix)
		pid, _, _ := strings.Cut(rest, "-")
		n, err := strconv.Atoi(pid)
		if !ours || err != nil || !e.IsDir() || durable.ProcessAlive(n) {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > age {
			os.RemoveAll(filepath.Join(tmp, e.Name()))
		}
	}
}

// buildRLT puts the rlt binary of this package, built on the first call,
// at dir/rlt and returns its path: a hard link (a copy across file
// systems), so that each test's binary has its own path, by which a test
// tells its processes from other tests' (tmuxHarness.running reads
// /proc/PID/exe).
func buildRLT(t *testing.T, dir string) string {
	t.Helper()
	rltBuild.once.Do(func() {
		d, err := os.MkdirTemp("", rltBinPrefix+strconv.Itoa(os.Getpid())+"-")
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

// copyExecutable copies src to dst, new, holding syscall.ForkLock for
// reading while dst is open for writing: a process forked then (by any
// goroutine: another test's, a command's) would hold that descriptor
// until its exec, and running dst meanwhile fails with ETXTBSY ("text
// file busy"). Writing under another name and renaming would not do: the
// busy file is the same inode under either name.
func copyExecutable(src, dst string) error {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
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

// testBinary puts this test binary at dir/rlt.test, a hard link (a copy
// across file systems) as buildRLT puts rlt, and returns its path: a
// test's processes of it are told from this one by /proc/PID/exe.
func testBinary(t *testing.T, dir string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "rlt.test")
	if err := os.Link(self, bin); err != nil {
		if err := copyExecutable(self, bin); err != nil {
			t.Fatalf("putting the test binary in %s: %v", dir, err)
		}
	}
	return bin
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
