//go:build unix

package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/rlt-workbench/rlt/engine/hf"
)

// The load gate holds a model's load under way, before its first tensor,
// until a test has done what it does there (a stop signal, its context
// ended): the model folder's config.json is a FIFO, which serveLoadGate
// serves, and model.LoadAs reads it before it reads any weight. So the
// test knows the load is under way, its reader waiting on the FIFO, and
// the load cannot end before the test lets it go on: a test that watched
// the load through /proc, a signal sent once some megabytes were read,
// raced it. The weights file cannot be the gate: hf.Open takes its size
// from a stat and reads it at offsets (pread), which a FIFO has neither.

// gatedModel copies the model folder src into dir/gated, its config.json
// a FIFO, the file's bytes in dir/gated.config.json for serveLoadGate.
func gatedModel(t *testing.T, dir, src string) string {
	t.Helper()
	model := filepath.Join(dir, "gated")
	if err := os.Mkdir(model, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		to := filepath.Join(model, e.Name())
		if e.Name() == hf.ConfigFile {
			to = model + "." + hf.ConfigFile
			if err := syscall.Mkfifo(filepath.Join(model, e.Name()), 0o644); err != nil {
				t.Skipf("the load's gate is a FIFO: %v", err)
			}
		}
		if err := os.WriteFile(to, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return model
}

// serveLoadGate serves the config.json of model (gatedModel's) to each
// reader of this process, from a goroutine that lives as long as the
// process: the first time the reader is model.LoadAs (loadWaits), onLoad
// runs first, the load waiting for the bytes meanwhile. Linux: a reader's
// close is seen in /proc/self/fd.
func serveLoadGate(model string, onLoad func()) error {
	config, err := os.ReadFile(model + "." + hf.ConfigFile)
	if err != nil {
		return err
	}
	// As /proc/self/fd names it: the temporary folder's path may hold a
	// link.
	fifo, err := filepath.EvalSymlinks(filepath.Join(model, hf.ConfigFile))
	if err != nil {
		return err
	}
	// The reader is this process: its descriptor is there beside the
	// writer's, then neither is.
	readers := fifoReaders{
		opened: func() bool { return descriptors(fifo) >= 2 },
		closed: func() bool { return descriptors(fifo) == 0 },
	}
	go func() {
		fired := false
		err := serveFIFO(fifo, config, readers, func() bool {
			if !fired && loadWaits() {
				fired = true
				onLoad()
			}
			return true
		})
		fmt.Fprintf(os.Stderr, "load gate: %v\n", err)
		os.Exit(3)
	}()
	return nil
}

// fifoReaders tells serveFIFO where the reader of its FIFO is: opened once
// the reader's descriptor is seen open, closed once it is seen closed.
type fifoReaders struct {
	opened, closed func() bool
}

// serveFIFO gives data to each reader of fifo, one after another, until
// an open of it fails (its error) or before, called once a reader has it
// open and before its bytes are written, says to stop (false: the reader
// is given nothing, the FIFO closed once before has returned; nil).
// Linux: a reader's descriptor is seen in /proc.
func serveFIFO(fifo string, data []byte, readers fifoReaders, before func() bool) error {
	for {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0) // once a reader opens it
		if err != nil {
			return err
		}
		// The reader's open returns as this one does, or just after: its
		// descriptor is waited for, so that its close, after the end of
		// the bytes, is not missed.
		for !readers.opened() {
			time.Sleep(time.Millisecond)
		}
		if !before() {
			w.Close()
			return nil
		}
		w.Write(data)
		w.Close()
		// The reader reads to the end, then closes the FIFO: until it
		// has, the next open would find it, not the next reader, and
		// give it the bytes again.
		for !readers.closed() {
			time.Sleep(time.Millisecond)
		}
	}
}

// descriptors counts this process's open descriptors of path (Linux).
func descriptors(path string) int {
	fds, _ := os.ReadDir("/proc/self/fd")
	n := 0
	for _, fd := range fds {
		if target, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && target == path {
			n++
		}
	}
	return n
}

// loadWaits reports whether a goroutine reads a model's config.json for
// model.LoadAs: the model's load under way, no tensor read yet.
func loadWaits() bool {
	for _, g := range bytes.Split(goroutineStacks(), []byte("\n\n")) {
		if bytes.Contains(g, []byte("/engine/hf.LoadConfig(")) && bytes.Contains(g, []byte("/engine/model.LoadAs(")) {
			return true
		}
	}
	return false
}

// loadGateEnv names the gated model folder (gatedModel's) to
// TestHelperGatedLoad. Only this test binary reads it.
const loadGateEnv = "RLT_TEST_LOAD_GATE"

// TestHelperGatedLoad is rlt, its arguments after --, run as its own
// process by TestWorkbenchStoppedBySignalWhileTheModelsLoad, with the
// model folder loadGateEnv names gated: as the folder's load begins,
// before its first tensor, the process sends itself SIGTERM and waits for
// the signal to have ended every untilStop context (untilStopEnded), rlt
// run's load context among them, then lets the load go on. A problem of
// the gate itself is said on stderr, exit 3. Run by go test, with no
// folder named, it skips: it is no test of its own.
func TestHelperGatedLoad(t *testing.T) {
	model := os.Getenv(loadGateEnv)
	if model == "" {
		t.Skip("rlt for TestWorkbenchStoppedBySignalWhileTheModelsLoad, which runs it")
	}
	fail := func(err error) {
		fmt.Fprintf(os.Stderr, "load gate: %v\n", err)
		os.Exit(3)
	}
	err := serveLoadGate(model, func() {
		if untilStopWatchers() == 0 {
			fail(errors.New("the models load with no untilStop waiting for the stop signal: nothing for it to end"))
		}
		if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
			fail(err)
		}
		if err := untilStopEnded(); err != nil {
			fail(err)
		}
	})
	if err != nil {
		fail(err)
	}
	tightenGC()
	os.Exit(run(flag.Args(), os.Stdin, os.Stdout, os.Stderr))
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
