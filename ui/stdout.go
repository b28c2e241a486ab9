package ui

import (
	"io"
	"os"

	"github.com/rlt-workbench/rlt/ui/style"
)

func stdout() io.Writer { return os.Stdout }

// isTerminal reports whether w is a terminal (nil: the process's stdout).
func isTerminal(w io.Writer) bool {
	if w == nil {
		w = os.Stdout
	}
	return style.IsTerminal(w)
}
