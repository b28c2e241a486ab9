//go:build windows

package remote

import (
	"errors"

	"golang.org/x/sys/windows"
)

// connectionRefused: the server's host answered that nothing listens on
// the port (Winsock's own error number; syscall.ECONNREFUSED is not it).
func connectionRefused(err error) bool { return errors.Is(err, windows.WSAECONNREFUSED) }
