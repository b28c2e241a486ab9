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

	"github.com/rlt-workbench/rlt/engine/hf"
	"github.com/rlt-workbench/rlt/engine/stoptest"
)

// The load gate holds a model's load under way, before its first tensor,
// until a test has done what it does there (a stop signal, its context
// ended): the model folder's config.json is a FIFO (stoptest.GatedModel),
// which serveLoadGate serves (stoptest.ServeFIFO), and model.LoadAs reads
// it before it reads any weight.

// serveLoadGate serves the config.json of model (stoptest.GatedModel's) to each
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
	go func() {
		fired := false
		err := stoptest.ServeFIFO(fifo, config, stoptest.ReadersHere(fifo), func() bool { // the reader is this process
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

// loadGateEnv names the gated model folder (stoptest.GatedModel's) to
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
