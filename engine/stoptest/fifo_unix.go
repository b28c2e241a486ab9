//go:build unix

package stoptest

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// ConfigFile is a model folder's configuration (hf.ConfigFile, named here
// as this package imports none of the module's): the first file of the
// folder a model's load reads, and every check that sizes the model
// (a memory estimate, a checkpoint's size) reads it too.
const ConfigFile = "config.json"

// The gate holds a reader of a model's config.json where a test chooses,
// until the test has done what it does there (a stop signal, a context
// ended): the model folder's config.json is a FIFO (GatedModel), which
// ServeFIFO serves, and the test looks at who reads it (the reader's stack,
// its process) before it gives the bytes. So the test knows where the work
// is, its reader waiting on the FIFO, and the work cannot go on before the
// test lets it: a test that watched the load through /proc, a signal sent
// once some megabytes were read, raced it. The weights file cannot be the
// gate: hf.Open takes its size from a stat and reads it at offsets
// (pread), which a FIFO has neither.

// GatedModel copies the model folder src into dir/gated, its config.json
// a FIFO, the file's bytes in dir/gated.config.json for ServeFIFO. It
// skips the test where no FIFO can be made.
func GatedModel(t testing.TB, dir, src string) string {
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
		if e.Name() == ConfigFile {
			to = model + "." + ConfigFile
			if err := syscall.Mkfifo(filepath.Join(model, e.Name()), 0o644); err != nil {
				t.Skipf("the gate is a FIFO: %v", err)
			}
		}
		if err := os.WriteFile(to, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return model
}

// FIFOReaders tells ServeFIFO where the reader of its FIFO is: Opened once
// the reader's descriptor is seen open, Closed once it is seen closed.
type FIFOReaders struct {
	Opened, Closed func() bool
}

// ReadersHere is the FIFOReaders of fifo read by this process (Linux: its
// descriptors in /proc/self/fd): the reader's is there beside the
// writer's, then neither is. fifo is the path /proc names, its links
// resolved (filepath.EvalSymlinks).
func ReadersHere(fifo string) FIFOReaders {
	return FIFOReaders{
		Opened: func() bool { return descriptors(fifo) >= 2 },
		Closed: func() bool { return descriptors(fifo) == 0 },
	}
}

// ServeFIFO gives data to each reader of fifo, one after another, until
// an open of it fails (its error) or before, called once a reader has it
// open and before its bytes are written, says to stop (false: the reader
// is given nothing, the FIFO closed once before has returned; nil).
// Linux: a reader's descriptor is seen in /proc.
func ServeFIFO(fifo string, data []byte, readers FIFOReaders, before func() bool) error {
	for {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0) // once a reader opens it
		if err != nil {
			return err
		}
		// The reader's open returns as this one does, or just after: its
		// descriptor is waited for, so that its close, after the end of
		// the bytes, is not missed.
		for !readers.Opened() {
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
		for !readers.Closed() {
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
