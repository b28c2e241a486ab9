//go:build windows

package sessions

import (
	"errors"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/windows"
)

// openShared opens path for reading so that other processes may still
// rename over it or remove it, as on Unix: a followed log is held open
// between polls while its trainer replaces it (os.Open leaves out
// FILE_SHARE_DELETE, which would make the trainer's rename fail).
func openShared(path string) (*os.File, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		if errors.Is(err, windows.ERROR_FILE_NOT_FOUND) || errors.Is(err, windows.ERROR_PATH_NOT_FOUND) {
			err = syscall.ENOENT // so that errors.Is(err, fs.ErrNotExist) holds
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}

// rename moves from to to, replacing to. Windows refuses to replace a file
// that another process has open without FILE_SHARE_DELETE (a reader's
// os.ReadFile of config.toml, a virus scanner); such holds are brief, so
// the rename is retried for up to two seconds before its error is returned.
func rename(from, to string) error {
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

// openForSync opens a file to flush and read back: FlushFileBuffers needs
// a handle open for writing.
func openForSync(path string) (*os.File, error) { return os.OpenFile(path, os.O_RDWR, 0) }
