package ui

import (
	"io"
	"os"

	"github.com/mattn/go-isatty"
)

func stdout() io.Writer { return os.Stdout }

// isTerminal reports whether w is a terminal (nil: the process's stdout).
func isTerminal(w io.Writer) bool {
	if w == nil {
		w = os.Stdout
	}
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}
