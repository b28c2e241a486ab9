//go:build unix

package sessions

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// tryLockFile takes an flock(2) on f without waiting: exclusive for a
// run's writer, shared for a probe (which conflicts only with the
// writer's). errLockHeld when another open file holds a conflicting one.
func tryLockFile(f *os.File, exclusive bool) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	err := flockRetry(f, how|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return fmt.Errorf("%w: %w", errLockHeld, err)
	}
	return err
}

// unlockFile releases the lock tryLockFile took.
func unlockFile(f *os.File) error { return flockRetry(f, syscall.LOCK_UN) }

func flockRetry(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}
