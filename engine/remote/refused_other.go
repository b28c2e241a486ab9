//go:build !windows

package remote

import (
	"errors"
	"syscall"
)

// connectionRefused: the server's host answered that nothing listens on
// the port.
func connectionRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }
