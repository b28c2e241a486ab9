//go:build windows

package durable

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// Rename moves from to to, replacing to. Windows refuses to replace a file
// that another process has open without FILE_SHARE_DELETE (a reader's
// os.ReadFile of config.toml, a virus scanner); such holds are brief, so
// the rename is retried for up to two seconds before its error is returned.
func Rename(from, to string) error {
	deadline := time.Now().Add(2 * time.Second)
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		err := os.Rename(from, to)
		if err == nil || time.Now().After(deadline) ||
			!(errors.Is(err, windows.ERROR_ACCESS_DENIED) || errors.Is(err, windows.ERROR_SHARING_VIOLATION)) {
			return err
		}
		time.Sleep(wait)
	}
}

// OpenForSync opens a file to flush and read back: FlushFileBuffers needs
// a handle open for writing.
func OpenForSync(path string) (*os.File, error) { return os.OpenFile(path, os.O_RDWR, 0) }
