package ui

import (
	"io"
	"os"
	"sync"
)

// terminalInput is the workbench's input when it is a terminal: the file
// itself to Bubble Tea (which puts it in raw mode and reads it), with gone
// closed once a read of it ends.
//
// In raw mode a terminal read ends only when the terminal is gone: its
// window closed, the tmux server killed, the ssh connection dropped. The
// kernel hangs the terminal up and reads return end of file, which Bubble
// Tea takes as the input's end and carries on without it. The commands
// stop on the SIGHUP that comes with a hang-up (Options.Stop), but a
// process that gets none (not in the terminal's session: setsid, a shell
// that does not pass it on) went on training unseen, for ever, with no
// key able to reach it: the workbench quits on gone as on Stop.
type terminalInput struct {
	*os.File
	once sync.Once
	gone chan struct{}
}

// watchTerminal returns the input to give Bubble Tea for in (nil: the
// process's stdin) and a channel that closes when the terminal is gone;
// for an input that is not a terminal, in itself and nil (a pipe's end is
// not a hang-up).
func watchTerminal(in io.Reader) (io.Reader, <-chan struct{}) {
	f, ok := in.(*os.File)
	if in == nil {
		f, ok = os.Stdin, true
	}
	if !ok || !isTerminal(f) {
		return in, nil
	}
	t := &terminalInput{File: f, gone: make(chan struct{})}
	return t, t.gone
}

// Read reads the terminal; a read that returns nothing and an error (end of
// file on a hung-up terminal, EIO) closes gone.
func (t *terminalInput) Read(p []byte) (int, error) {
	n, err := t.File.Read(p)
	if n == 0 && err != nil {
		t.once.Do(func() { close(t.gone) })
	}
	return n, err
}
