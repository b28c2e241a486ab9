package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestIsTerminalIsNoDevNull: what is no terminal is said to be none, /dev/null
// above all (a character device, which the old check took for a terminal and
// so drew the workbench into nothing). A real terminal is covered by
// TestProgressOnATerminal, which runs the binary under script(1).
func TestIsTerminalIsNoDevNull(t *testing.T) {
	devNull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	file, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	pipeR, pipeW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pipeR.Close()
	defer pipeW.Close()
	for _, c := range []struct {
		name   string
		stream any
	}{
		{"/dev/null", devNull},
		{"a file", file},
		{"a pipe's reader", pipeR},
		{"a pipe's writer", pipeW},
		{"a buffer", &bytes.Buffer{}},
		{"nil", nil},
	} {
		if isTerminal(c.stream) {
			t.Errorf("%s taken for a terminal", c.name)
		}
	}
}
